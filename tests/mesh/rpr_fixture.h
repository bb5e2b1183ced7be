/*
 * A small world for the Remote Provisioning tests on the in-memory air:
 *
 *   P   the provisioner node (0x0001): Config Client, RPR Client, PB-Remote
 *   S[] provisioned nodes running Config Server and RPR Server (relays)
 *   D[] unprovisioned devices (PB-ADV device via mesh/prov_adv.h) sending
 *       Unprovisioned Device beacons; once provisioned they become nodes
 *       with a Config Server, built from the provisioning result
 *
 * Who hears whom is set per test with minair_link().  The air carries no
 * RSSI, so a receiving server gets one derived from the sender's id
 * (fx_rssi()), which the tests check in Scan Reports.
 */
#ifndef TESTS_MESH_RPR_FIXTURE_H
#define TESTS_MESH_RPR_FIXTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/cfg_cli.h"
#include "mesh/cfg_srv.h"
#include "mesh/comp.h"
#include "mesh/crypto.h"
#include "mesh/pb_remote.h"
#include "mesh/prov_adv.h"
#include "mesh/rpr_cli.h"
#include "mesh/rpr_srv.h"
#include "mesh/unprov_beacon.h"
#include "tests/util/minair.h"
#include "tests/util/tv.h"

#ifndef FX_SRV /* a test may want more servers */
#define FX_SRV 3
#endif
#define FX_DEV 3
#define FX_BEACON_MS 500

struct fx_srv {
	struct mesh_node *node;
	struct cfg_srv *cfg;
	struct rpr_srv *rpr;
	int id;
	uint16_t addr;
	uint8_t dev_key[16];
	/* NPPI owner callbacks seen */
	int applied;
	uint8_t applied_proc;
	uint16_t applied_primary;
	bool refuse_cr;
	struct mesh_acc_model *extra; /* the model a Composition Refresh adds */
};

struct fx_dev {
	struct prov_adv *pa;
	struct mesh_node *node; /* after provisioning */
	struct cfg_srv *cfg;
	int id;
	uint8_t uuid[16];
	uint16_t oob;
	bool has_uri;
	uint8_t uri[4];
	uint64_t next_beacon;
	int done, failed;
	struct prov_result res;
};

struct fx_scan {
	int n;
	uint16_t src[8];
	struct rpr_scan_report r[8];
	int n_ext;
	uint16_t ext_src;
	struct rpr_ext_scan_report ext;
	uint8_t ext_adv[400];
	int n_link;
	struct rpr_link_status link;
};

struct fx_prov {
	struct mesh_node *node;
	struct cfg_cli *cfg;
	struct rpr_cli *rpr;
	struct pb_remote *pbr;
	int id;
	int done, failed;
	uint32_t last_h;
	int err;
	uint8_t prov_err, link_status;
	struct prov_result res;
	/*
	 * data_ready: calls, what it saw, its answer.  When `watch` is set,
	 * that server's last OutboundPDUNumber and whether its node held a
	 * DevKey candidate are noted at the call: how far the peer had got.
	 */
	int ready, ready_ret;
	uint32_t ready_h;
	uint8_t ready_key[16];
	uint16_t ready_unicast;
	uint8_t ready_elements;
	struct fx_srv *watch;
	uint8_t ready_out_count;
	bool ready_had_candidate;
	int ready_devs_done; /* devices provisioned before the call */
};

static struct minair fx_air;
static struct fx_prov fx_p;
static struct fx_srv fx_s[FX_SRV];
static struct fx_dev fx_d[FX_DEV];
static struct fx_scan fx_scan;
static int fx_n_srv, fx_n_dev;
static uint64_t fx_rng_state;

static const uint8_t fx_net_key[16] = {0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18,
				       0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6};

static inline int8_t fx_rssi(int from)
{
	return (int8_t)(-40 - 3 * from);
}

static inline struct mesh_rng fx_rng(void)
{
	struct mesh_rng r = {tv_rng, &fx_rng_state};

	return r;
}

/* --- Nodes ------------------------------------------------------------------------ */

/* Segments each node originated (mesh_node_ops.traced), by minair id. */
static unsigned fx_segs[64];
/* When not -1: the minair id whose Segment Acknowledgments are lost. */
static int fx_acks_lost_from = -1;
/* When not -1: the minair id whose next fx_unseg_lost unsegmented access PDUs are lost. */
static int fx_unseg_lost_from = -1;
static unsigned fx_unseg_lost;
static uint64_t fx_unseg_lost_at; /* when the last of those was dropped */
static bool fx_drop_next;

static inline int fx_node_adv(void *ctx, uint8_t t, const uint8_t *d, size_t len, uint8_t c,
			      uint16_t iv)
{
	(void)c;
	(void)iv;
	if (fx_drop_next) {
		fx_drop_next = false;
		return 0;
	}
	minair_send(&fx_air, *(int *)ctx, t, d, len);
	return 0;
}

/* The provisioner's inventory of device keys: every key known for an address is a candidate. */
#define FX_KEYS 16
static struct {
	uint16_t addr;
	struct mesh_utp_key key;
} fx_keys[FX_KEYS];
static int fx_n_keys;

static inline void fx_key_add(uint16_t addr, const uint8_t key[16])
{
	cr_assert_lt(fx_n_keys, FX_KEYS);
	fx_keys[fx_n_keys].addr = addr;
	cr_assert_eq(mesh_utp_key_init(&fx_keys[fx_n_keys++].key, MESH_APP_IDX_DEV, key, false), 0);
}

static inline size_t fx_dev_keys(void *ctx, uint16_t addr, const struct mesh_utp_key **out,
				 size_t max)
{
	size_t k = 0;
	int i;

	(void)ctx;
	for (i = fx_n_keys - 1; i >= 0 && k < max; i--) {
		if (fx_keys[i].addr == addr) {
			out[k++] = &fx_keys[i].key;
		}
	}
	return k;
}

static inline void fx_traced(void *ctx, unsigned kind, uint16_t src, uint16_t dst, uint32_t op)
{
	int id = *(int *)ctx;

	(void)src;
	(void)dst;
	(void)op;
	if (kind == MESH_NODE_TRACE_SEG && id >= 0 && id < 64) {
		fx_segs[id]++;
	}
	/* Reported just before the PDU goes to the air: fx_node_adv() drops it. */
	fx_drop_next = kind == MESH_NODE_TRACE_ACK && id == fx_acks_lost_from;
	if (kind == MESH_NODE_TRACE_UNSEG && id == fx_unseg_lost_from && fx_unseg_lost) {
		fx_unseg_lost--;
		fx_unseg_lost_at = fx_air.now;
		fx_drop_next = true;
	}
}

static inline struct mesh_node *fx_node(int *id_slot, bool relay)
{
	struct mesh_node_config cfg;
	struct mesh_node_ops ops = {.ctx = id_slot, .adv_send = fx_node_adv, .traced = fx_traced};
	struct mesh_rng rng = fx_rng();
	struct mesh_node *n;

	mesh_node_config_default(&cfg);
	cfg.beacon_interval_ms = 0;
	cfg.relay = relay;
	n = mesh_node_new(&cfg, &ops, &rng, fx_air.now);
	cr_assert_not_null(n);
	cr_assert_geq(mesh_acc_elem_add(mesh_node_acc(n), 0x0100), 0);
	return n;
}

static const struct cfg_srv_config fx_cfg_srv = {
    .cid = 0x05f1, .pid = 0x0042, .vid = 0x0007, .crpl = 64, .features = MESH_FEAT_RELAY};

/* --- Servers ------------------------------------------------------------------------ */

static inline void fx_srv_pb_adv(void *ctx, const uint8_t *d, size_t len)
{
	minair_send(&fx_air, ((struct fx_srv *)ctx)->id, MESH_AD_PB_ADV, d, len);
}

static inline int fx_nppi_check(void *ctx, uint8_t proc, uint8_t *elements)
{
	struct fx_srv *s = ctx;

	(void)elements;
	return proc == RPR_NPPI_COMPOSITION_REFRESH && s->refuse_cr ? -ENOENT : 0;
}

static const struct mesh_acc_op fx_onoff_ops[1];

static inline void fx_nppi_applied(void *ctx, uint8_t proc, uint16_t primary)
{
	struct fx_srv *s = ctx;

	s->applied++;
	s->applied_proc = proc;
	s->applied_primary = primary;
	if (proc == RPR_NPPI_COMPOSITION_REFRESH) {
		/* What meshsim does: the model of page 128 arrives, page 128 becomes page 0. */
		cr_assert_eq(mesh_acc_model_add(mesh_node_acc(s->node), 0,
						(struct mesh_model_id){false, 0, 0x1000}, 0,
						fx_onoff_ops, 1, NULL, &s->extra),
			     0);
		cr_assert_eq(cfg_srv_page128_set(s->cfg, NULL, 0), 0);
	}
}

static inline int fx_h_noop(struct mesh_acc_model *m, const struct mesh_acc_msg *msg, void *u)
{
	(void)m;
	(void)msg;
	(void)u;
	return 0;
}

static const struct mesh_acc_op fx_onoff_ops[1] = {{0x8201, 0, 0, fx_h_noop}};

static inline void fx_srv_rx(void *o, uint8_t t, const uint8_t *d, size_t len, uint64_t now)
{
	struct fx_srv *s = o;
	int from = -1;

	if (t == MESH_AD_PB_ADV) {
		(void)rpr_srv_pb_adv_rx(s->rpr, d, len, now);
	} else if (t == MESH_AD_BEACON && len && d[0] == UNPROV_BEACON_TYPE) {
		struct unprov_beacon b;
		int k;

		/* The fixture knows which device sends which UUID: that gives the RSSI. */
		if (unprov_beacon_decode(d, len, &b) == 0) {
			for (k = 0; k < fx_n_dev; k++) {
				if (memcmp(fx_d[k].uuid, b.uuid, 16) == 0) {
					from = fx_d[k].id;
				}
			}
		}
		(void)rpr_srv_beacon_rx(s->rpr, d, len, fx_rssi(from < 0 ? 0 : from), now);
	} else {
		(void)mesh_node_rx_adv(s->node, t, d, len, now);
	}
}

static inline uint64_t fx_srv_deadline(void *o)
{
	struct fx_srv *s = o;
	uint64_t a = mesh_node_next_deadline(s->node), b = rpr_srv_next_deadline(s->rpr);

	return a < b ? a : b;
}

static inline void fx_srv_tick(void *o, uint64_t now)
{
	struct fx_srv *s = o;

	mesh_node_tick(s->node, now);
	rpr_srv_tick(s->rpr, now);
}

static inline struct fx_srv *fx_add_srv(uint16_t addr, const uint8_t *page128, size_t p128_len)
{
	struct fx_srv *s = &fx_s[fx_n_srv++];
	struct cfg_srv_config cc = fx_cfg_srv;
	static const uint8_t self_adv[] = {6, 0x09, 'r', 'p', 'r', '-', 's', 3, 0x19, 0x40, 0x05};
	struct rpr_srv_config rc = {.max_items = 4, .active_scan = true};
	struct rpr_srv_ops ro = {.adv_send = fx_srv_pb_adv,
				 .nppi_check = fx_nppi_check,
				 .nppi_applied = fx_nppi_applied};
	struct minair_part part = {s, fx_srv_rx, fx_srv_deadline, fx_srv_tick};
	struct mesh_rng rng = fx_rng();

	memset(s, 0, sizeof(*s));
	s->addr = addr;
	memset(s->dev_key, 0xa0 + fx_n_srv, 16);
	s->node = fx_node(&s->id, true);
	cc.page128 = page128;
	cc.page128_len = p128_len;
	s->cfg = cfg_srv_new(s->node, &cc, NULL);
	cr_assert_not_null(s->cfg);
	memset(rc.uuid, 0x50 + fx_n_srv, 16);
	rc.self_adv = self_adv;
	rc.self_adv_len = sizeof(self_adv);
	ro.ctx = s;
	s->rpr = rpr_srv_new(s->node, &rc, &ro, &rng);
	cr_assert_not_null(s->rpr);
	cr_assert_eq(
	    mesh_node_provision(s->node, addr, s->dev_key, 0, fx_net_key, 0, 0, fx_air.now), 0);
	s->id = minair_add(&fx_air, &part);
	fx_key_add(addr, s->dev_key);
	return s;
}

/* --- Devices ---------------------------------------------------------------------------- */

static inline void fx_dev_pb_adv(void *ctx, const uint8_t *d, size_t len)
{
	minair_send(&fx_air, ((struct fx_dev *)ctx)->id, MESH_AD_PB_ADV, d, len);
}

static inline void fx_dev_done(void *ctx, uint32_t h, const struct prov_result *res)
{
	struct fx_dev *d = ctx;

	(void)h;
	d->done++;
	d->res = *res;
	/* The device becomes a node with what it was given (as meshsim's devices do). */
	d->node = fx_node(&d->id, false);
	d->cfg = cfg_srv_new(d->node, &fx_cfg_srv, NULL);
	cr_assert_not_null(d->cfg);
	fx_key_add(res->data.unicast, res->dev_key);
	cr_assert_eq(mesh_node_provision(d->node, res->data.unicast, res->dev_key,
					 res->data.net_idx, res->data.net_key, res->data.iv_index,
					 res->data.flags, fx_air.now),
		     0);
}

static inline void fx_dev_failed(void *ctx, uint32_t h, int err, uint8_t prov_err)
{
	(void)h;
	(void)err;
	(void)prov_err;
	((struct fx_dev *)ctx)->failed++;
}

static inline void fx_dev_rx(void *o, uint8_t t, const uint8_t *d, size_t len, uint64_t now)
{
	struct fx_dev *x = o;

	if (t == MESH_AD_PB_ADV) {
		(void)prov_adv_rx(x->pa, d, len, now);
	} else if (x->node) {
		(void)mesh_node_rx_adv(x->node, t, d, len, now);
	}
}

static inline uint64_t fx_dev_deadline(void *o)
{
	struct fx_dev *x = o;
	uint64_t a = prov_adv_next_deadline(x->pa);
	uint64_t b = x->node ? mesh_node_next_deadline(x->node) : x->next_beacon;

	return a < b ? a : b;
}

static inline void fx_dev_tick(void *o, uint64_t now)
{
	struct fx_dev *x = o;

	prov_adv_tick(x->pa, now);
	if (x->node) {
		mesh_node_tick(x->node, now);
	} else if (x->next_beacon <= now) {
		struct unprov_beacon b = {0};
		uint8_t buf[UNPROV_BEACON_URI_LEN];
		size_t len;

		memcpy(b.uuid, x->uuid, 16);
		b.oob_info = x->oob;
		b.has_uri_hash = x->has_uri;
		memcpy(b.uri_hash, x->uri, 4);
		cr_assert_eq(unprov_beacon_encode(&b, buf, sizeof(buf), &len), 0);
		minair_send(&fx_air, x->id, MESH_AD_BEACON, buf, len);
		x->next_beacon = now + FX_BEACON_MS;
	}
}

static inline struct fx_dev *fx_add_dev(uint8_t tag)
{
	struct fx_dev *d = &fx_d[fx_n_dev++];
	struct pb_adv_cfg pc = {0};
	struct prov_cfg dc = {0};
	struct prov_adv_ops ops = {
	    .adv_send = fx_dev_pb_adv, .done = fx_dev_done, .failed = fx_dev_failed};
	struct minair_part part = {d, fx_dev_rx, fx_dev_deadline, fx_dev_tick};
	struct mesh_rng rng = fx_rng();

	memset(d, 0, sizeof(*d));
	memset(d->uuid, tag, 16);
	d->uuid[0] = 0xdd;
	d->oob = UNPROV_OOB_NUMBER | UNPROV_OOB_ON_BOX;
	pc.uuid = d->uuid;
	dc.role = PROV_ROLE_DEVICE;
	dc.caps.elements = 1;
	dc.caps.algorithms = PROV_ALGS_CMAC | PROV_ALGS_HMAC;
	ops.ctx = d;
	d->pa = prov_adv_new(&pc, &dc, &ops, &rng);
	cr_assert_not_null(d->pa);
	d->next_beacon = fx_air.now + 100;
	d->id = minair_add(&fx_air, &part);
	return d;
}

/* --- Provisioner ------------------------------------------------------------------------------ */

static inline void fx_scan_report(void *ctx, uint16_t src, const struct rpr_scan_report *r)
{
	(void)ctx;
	if (fx_scan.n < 8) {
		fx_scan.src[fx_scan.n] = src;
		fx_scan.r[fx_scan.n++] = *r;
	}
}

static inline void fx_ext_report(void *ctx, uint16_t src, const struct rpr_ext_scan_report *r)
{
	(void)ctx;
	fx_scan.n_ext++;
	fx_scan.ext_src = src;
	fx_scan.ext = *r;
	cr_assert_leq(r->adv_len, sizeof(fx_scan.ext_adv));
	if (r->adv_len) {
		memcpy(fx_scan.ext_adv, r->adv, r->adv_len);
	}
	fx_scan.ext.adv = fx_scan.ext_adv;
}

static inline void fx_link_report(void *ctx, uint16_t src, const struct rpr_link_status *r)
{
	(void)ctx;
	(void)src;
	fx_scan.n_link++;
	fx_scan.link = *r;
}

static inline void fx_p_done(void *ctx, uint32_t h, const struct prov_result *res)
{
	(void)ctx;
	fx_p.done++;
	fx_p.last_h = h;
	fx_p.res = *res;
}

static inline int fx_p_data_ready(void *ctx, uint32_t h, const struct prov_data *data,
				  const uint8_t dev_key[16], uint8_t elements)
{
	int i;

	(void)ctx;
	fx_p.ready++;
	fx_p.ready_h = h;
	memcpy(fx_p.ready_key, dev_key, 16);
	fx_p.ready_unicast = data->unicast;
	fx_p.ready_elements = elements;
	if (fx_p.watch) {
		struct rpr_srv_state st;
		uint8_t cand[16];

		rpr_srv_state(fx_p.watch->rpr, &st);
		fx_p.ready_out_count = st.out_count;
		fx_p.ready_had_candidate =
		    mesh_node_devkey_candidate_get(fx_p.watch->node, cand) == 0;
	}
	fx_p.ready_devs_done = 0;
	for (i = 0; i < fx_n_dev; i++) {
		fx_p.ready_devs_done += fx_d[i].done;
	}
	return fx_p.ready_ret;
}

static inline void fx_p_failed(void *ctx, uint32_t h, int err, uint8_t prov_err, uint8_t ls)
{
	(void)ctx;
	fx_p.failed++;
	fx_p.last_h = h;
	fx_p.err = err;
	fx_p.prov_err = prov_err;
	fx_p.link_status = ls;
}

static inline void fx_p_rx(void *o, uint8_t t, const uint8_t *d, size_t len, uint64_t now)
{
	(void)o;
	(void)mesh_node_rx_adv(fx_p.node, t, d, len, now);
}

static inline uint64_t fx_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t fx_p_deadline(void *o)
{
	(void)o;
	if (!fx_p.rpr) {
		return fx_min(mesh_node_next_deadline(fx_p.node), cfg_cli_next_deadline(fx_p.cfg));
	}
	return fx_min(fx_min(mesh_node_next_deadline(fx_p.node), cfg_cli_next_deadline(fx_p.cfg)),
		      fx_min(rpr_cli_next_deadline(fx_p.rpr), pb_remote_next_deadline(fx_p.pbr)));
}

static inline void fx_p_tick(void *o, uint64_t now)
{
	(void)o;
	mesh_node_tick(fx_p.node, now);
	cfg_cli_tick(fx_p.cfg, now);
	if (fx_p.rpr) {
		rpr_cli_tick(fx_p.rpr, now);
		pb_remote_tick(fx_p.pbr, now);
	}
}

static inline void fx_add_prov(void)
{
	struct rpr_cli_ops ro = {.scan_report = fx_scan_report,
				 .ext_scan_report = fx_ext_report,
				 .link_report = fx_link_report};
	struct pb_remote_ops po = {
	    .data_ready = fx_p_data_ready, .done = fx_p_done, .failed = fx_p_failed};
	struct minair_part part = {&fx_p, fx_p_rx, fx_p_deadline, fx_p_tick};
	struct mesh_rng rng = fx_rng();
	uint8_t own[16];

	memset(&fx_p, 0, sizeof(fx_p));
	memset(own, 0xee, 16);
	fx_p.node = fx_node(&fx_p.id, false);
	{
		/* Only the provisioner knows other nodes' device keys. */
		struct mesh_node_config cfg;
		struct mesh_node_ops ops = {.ctx = &fx_p.id,
					    .adv_send = fx_node_adv,
					    .dev_keys = fx_dev_keys,
					    .traced = fx_traced};
		struct mesh_rng r = fx_rng();

		mesh_node_free(fx_p.node);
		mesh_node_config_default(&cfg);
		cfg.beacon_interval_ms = 0;
		fx_p.node = mesh_node_new(&cfg, &ops, &r, fx_air.now);
		cr_assert_not_null(fx_p.node);
		cr_assert_geq(mesh_acc_elem_add(mesh_node_acc(fx_p.node), 0x0100), 0);
	}
	fx_p.cfg = cfg_cli_new(fx_p.node);
	fx_p.rpr = rpr_cli_new(fx_p.node, &ro);
	cr_assert_not_null(fx_p.cfg);
	cr_assert_not_null(fx_p.rpr);
	fx_p.pbr = pb_remote_new(fx_p.rpr, NULL, &po, &rng);
	cr_assert_not_null(fx_p.pbr);
	cr_assert_eq(mesh_node_provision(fx_p.node, 0x0001, own, 0, fx_net_key, 0, 0, fx_air.now),
		     0);
	fx_p.id = minair_add(&fx_air, &part);
}

static inline void fx_init(uint64_t seed)
{
	minair_init(&fx_air, 1000, seed);
	fx_rng_state = seed;
	fx_n_srv = fx_n_dev = fx_n_keys = 0;
	memset(&fx_scan, 0, sizeof(fx_scan));
	fx_add_prov();
}

static inline void fx_fini(void)
{
	int i;

	pb_remote_free(fx_p.pbr);
	rpr_cli_free(fx_p.rpr);
	cfg_cli_free(fx_p.cfg);
	mesh_node_free(fx_p.node);
	for (i = 0; i < fx_n_srv; i++) {
		rpr_srv_free(fx_s[i].rpr);
		cfg_srv_free(fx_s[i].cfg);
		mesh_node_free(fx_s[i].node);
	}
	for (i = 0; i < fx_n_dev; i++) {
		prov_adv_free(fx_d[i].pa);
		cfg_srv_free(fx_d[i].cfg);
		mesh_node_free(fx_d[i].node);
	}
}

/* Cut participant x off the air entirely. */
static inline void fx_isolate(int x)
{
	int i;

	for (i = 0; i < fx_air.n; i++) {
		if (i != x) {
			minair_link(&fx_air, x, i, false);
		}
	}
}

/* --- Requests from P
 * ------------------------------------------------------------------------------- */

struct fx_answer {
	int done;
	int err;
	uint16_t src;
	struct rpr_msg m;
	struct cfg_msg c;
	uint8_t comp[MESH_COMP_DATA_MAX];
	uint8_t adv[MESH_ACC_PAYLOAD_MAX];
};

static inline void fx_rpr_answer(void *ctx, int err, uint16_t src, const struct rpr_msg *rsp)
{
	struct fx_answer *a = ctx;

	a->done++;
	a->err = err;
	a->src = src;
	if (rsp) {
		a->m = *rsp;
		if (rsp->op == RPR_OP_EXT_SCAN_REPORT && rsp->ext_scan_report.adv_len) {
			memcpy(a->adv, rsp->ext_scan_report.adv, rsp->ext_scan_report.adv_len);
			a->m.ext_scan_report.adv = a->adv;
		}
	}
}

static inline struct fx_answer fx_rpr_ask(const struct fx_srv *s, const struct rpr_msg *req)
{
	struct fx_answer a = {0};

	cr_assert_eq(rpr_cli_request(fx_p.rpr, 0, s->addr, s->dev_key, req, 5000, 1000,
				     fx_rpr_answer, &a, fx_air.now),
		     0);
	cr_assert(minair_run_until(&fx_air, &a.done, 1, fx_air.now + 20000), "no answer");
	return a;
}

static inline void fx_cfg_answer(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct fx_answer *a = ctx;

	a->done++;
	a->err = err;
	a->src = src;
	if (rsp) {
		a->c = *rsp;
		if (rsp->op == CFG_OP_COMP_STATUS) {
			memcpy(a->comp, rsp->comp.data, rsp->comp.data_len);
			a->c.comp.data = a->comp;
		}
	}
}

/* Config Composition Data Get (page) to dst under dev_key; runs until answered or timed out. */
static inline struct fx_answer fx_comp_get(uint16_t dst, const uint8_t *dev_key, uint8_t page)
{
	struct fx_answer a = {0};
	struct cfg_msg req = {.op = CFG_OP_COMP_GET};

	req.comp.page = page;
	cr_assert_eq(cfg_cli_request(fx_p.cfg, 0, dst, dev_key, &req, 6000, 2000, fx_cfg_answer, &a,
				     fx_air.now),
		     0);
	cr_assert(minair_run_until(&fx_air, &a.done, 1, fx_air.now + 30000), "no outcome");
	return a;
}

/* Provisioner-role configuration for PB-Remote: No OOB, the network's key, IV Index 0. */
static inline struct prov_cfg fx_prov_cfg(uint16_t unicast)
{
	struct prov_cfg c = {0};

	c.role = PROV_ROLE_PROVISIONER;
	c.auth_method = PROV_AUTH_AUTO;
	memcpy(c.data.net_key, fx_net_key, 16);
	c.data.net_idx = 0;
	c.data.iv_index = 0;
	c.data.unicast = unicast;
	return c;
}

static inline struct pb_remote_target fx_target(const struct fx_srv *s)
{
	struct pb_remote_target t = {.net_idx = 0, .server = s->addr, .dev_key = s->dev_key};

	return t;
}

#endif /* TESTS_MESH_RPR_FIXTURE_H */
