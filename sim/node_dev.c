#include "sim/node_dev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/cfg_srv.h"
#include "mesh/comp.h"
#include "mesh/crypto.h"
#include "mesh/node.h"
#include "mesh/onoff_srv.h"
#include "mesh/prov_adv.h"
#include "mesh/rpr_msg.h"
#include "mesh/rpr_srv.h"
#include "mesh/unprov_beacon.h"

#define UBEACON_INTERVAL_MS 3000 /* Unprovisioned Device beacon period */
#define PA_LINGER_MS 10000       /* keep PB-ADV after success, for the Link Close */
#define ONOFF_MAX SIM_SCN_ELEMENTS_MAX
#define RPR_MODEL 0x0004 /* Remote Provisioning Server (§4.4.5) */
#define AD_NAME 0x09     /* Complete Local Name (Core Supplement Part A §1.2) */
#define AD_URI 0x24      /* URI (Core Supplement Part A §1.18) */
/*
 * Other AD structures of an unprovisioned device go out right after its
 * beacon (as its scan response would); a server attributes them to the
 * beacon heard last from the same signal strength within this window.
 */
#define AD_ATTRIB_MS 50

struct ndev {
	struct sim_world *w;
	unsigned dev;
	const struct sim_scn_device *cfg;
	uint64_t seed;
	struct mesh_rng rng;
	uint64_t now; /* ms */
	/* Unprovisioned */
	struct prov_adv *pa;
	uint64_t next_ubeacon;
	uint64_t pa_retire; /* free pa at this time (after success), UINT64_MAX: keep */
	uint8_t ubeacon[UNPROV_BEACON_URI_LEN];
	size_t ubeacon_len;
	uint32_t input_h;
	bool input_wait;
	/* Provisioned */
	struct mesh_node *node;
	struct cfg_srv *srv;
	struct onoff_srv *onoff[ONOFF_MAX];
	struct rpr_srv *rpr; /* when the scenario says rpr_server */
	bool reset_pending;
	bool refresh_pending; /* a Composition Refresh to carry out at the next tick */
	bool off;             /* "power off": deaf, mute, frozen */
	/* The last Unprovisioned Device beacon heard (Extended Scan attribution). */
	uint8_t ub_uuid[16];
	int8_t ub_rssi;
	uint64_t ub_ms;
	bool ub_heard;
	/*
	 * The composition the device has now: the scenario's, or (page0_len
	 * not 0) the page 128 a Composition Refresh made page 0, kept as bytes
	 * in page0 for the stored state.
	 */
	struct mesh_comp *comp;
	uint8_t page0[MESH_COMP_DATA_MAX];
	size_t page0_len;
	uint32_t seq_reserved; /* last sequence number reservation (see node_seq_reserve) */
	uint8_t page128[MESH_COMP_DATA_MAX];
	size_t page128_len;
	char state_err[SIM_NODE_ERR_MAX]; /* why the last load was refused */
};

static int dev_rng(void *ctx, uint8_t *buf, size_t len)
{
	uint64_t *st = ctx;
	size_t i;

	/* xorshift64*: reproducible per device from the world's seed. */
	for (i = 0; i < len; i++) {
		uint64_t x = *st;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		*st = x;
		buf[i] = (uint8_t)((x * 0x2545f4914f6cdd1dull) >> 56);
	}
	return 0;
}

static void display(struct ndev *d, const char *what, const char *v)
{
	char text[SIM_WORLD_TEXT_MAX + 1];

	snprintf(text, sizeof(text), "%s %s", what, v);
	sim_world_display(d->w, d->dev, text, d->now * 1000);
}

/* --- Provisioned node ------------------------------------------------------ */

static int node_adv(void *ctx, uint8_t ad_type, const uint8_t *data, size_t len, uint8_t count,
		    uint16_t interval)
{
	struct ndev *d = ctx;

	return sim_world_send(d->w, d->dev, ad_type, data, len, count, interval, d->now * 1000);
}

static void on_reset(void *ctx)
{
	struct ndev *d = ctx;

	/* The node is still inside its own call chain: drop it on the next tick. */
	d->reset_pending = true;
}

static int build_comp(const struct sim_scn_comp *c, uint8_t *out, size_t cap, size_t *len)
{
	struct mesh_comp *m = calloc(1, sizeof(*m));
	size_t e, i;
	int r = 0;

	if (!m) {
		return -ENOMEM;
	}
	m->cid = c->cid;
	m->pid = c->pid;
	m->vid = c->vid;
	m->crpl = c->crpl;
	m->features = c->features;
	for (e = 0; e < c->n_elements && !r; e++) {
		r = mesh_comp_add_elem(m, c->elements[e].loc);
		for (i = 0; i < c->elements[e].n_sig && !r; i++) {
			r = mesh_comp_add_sig(m, c->elements[e].sig[i]);
		}
		for (i = 0; i < c->elements[e].n_vnd && !r; i++) {
			r = mesh_comp_add_vnd(m, c->elements[e].vnd[i].cid,
					      c->elements[e].vnd[i].id);
		}
	}
	if (!r) {
		r = mesh_comp_build(m, out, cap, len);
	}
	free(m);
	return r;
}

/*
 * The objects of a provisioned node.  Built apart from the device (and only
 * then installed) so that restoring a stored state can be abandoned half way
 * without touching the running device.
 */
struct nparts {
	struct mesh_node *node;
	struct cfg_srv *srv;
	struct onoff_srv *onoff[ONOFF_MAX];
	struct rpr_srv *rpr;
};

static void parts_free(struct nparts *p)
{
	size_t i;

	rpr_srv_free(p->rpr);
	p->rpr = NULL;
	for (i = 0; i < ONOFF_MAX; i++) {
		onoff_srv_free(p->onoff[i]);
		p->onoff[i] = NULL;
	}
	cfg_srv_free(p->srv);
	p->srv = NULL;
	mesh_node_free(p->node);
	p->node = NULL;
}

static void node_free(struct ndev *d)
{
	struct nparts p = {.node = d->node, .srv = d->srv, .rpr = d->rpr};

	memcpy(p.onoff, d->onoff, sizeof(p.onoff));
	parts_free(&p);
	d->node = NULL;
	d->srv = NULL;
	d->rpr = NULL;
	d->refresh_pending = false;
	memset(d->onoff, 0, sizeof(d->onoff));
}

/* Replace the device's node (if any) by p; p is emptied. */
static void parts_install(struct ndev *d, struct nparts *p)
{
	node_free(d);
	d->node = p->node;
	d->srv = p->srv;
	d->rpr = p->rpr;
	memcpy(d->onoff, p->onoff, sizeof(d->onoff));
	memset(p, 0, sizeof(*p));
}

static int node_seq_reserve(void *ctx, uint32_t up_to)
{
	struct ndev *d = ctx;

	/*
	 * The simulated flash: numbers below up_to may be in use from now on,
	 * so a saved state starts the next run at or above it.
	 */
	d->seq_reserved = up_to;
	return 0;
}

/* --- Remote Provisioning Server ----------------------------------------------- */

static void rpr_adv(void *ctx, const uint8_t *data, size_t len)
{
	struct ndev *d = ctx;

	/* As for the device side: PB-ADV retransmits by itself, one transmission each. */
	(void)sim_world_send(d->w, d->dev, MESH_AD_PB_ADV, data, len, 1, 0, d->now * 1000);
}

static int rpr_nppi_check(void *ctx, uint8_t procedure, uint8_t *elements)
{
	struct ndev *d = ctx;
	struct mesh_comp *c;
	int r = 0;

	if (procedure == RPR_NPPI_DEVKEY_REFRESH) {
		return 0;
	}
	/*
	 * Composition Refresh needs a new composition to move to.  Address
	 * Refresh moves to page 128 too when one is pending (the node comes
	 * back at its new address with the new composition and element
	 * count, as after a firmware update); without one it keeps its own.
	 */
	if (!d->page128_len) {
		return procedure == RPR_NPPI_COMPOSITION_REFRESH ? -ENOENT : 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	r = mesh_comp_parse(d->page128, d->page128_len, c);
	if (!r && c->n_elems > 255) {
		r = -ERANGE;
	}
	if (!r) {
		*elements = (uint8_t)c->n_elems;
	}
	free(c);
	return r;
}

static void rpr_nppi_applied(void *ctx, uint8_t procedure, uint16_t primary)
{
	struct ndev *d = ctx;

	(void)primary;
	/*
	 * Device Key Refresh: the node holds the candidate and promotes it
	 * itself.  Address Refresh: mesh_node_readdress() already moved the
	 * node; status, saved state and sim_node_addr() all read the address
	 * from the node.  Composition Refresh, and Address Refresh with a page
	 * 128 pending: the node must be rebuilt with page 128's elements and
	 * models, which cannot happen inside this call into it: the next tick
	 * does it (comp_refresh()), at the node's current address.
	 */
	if (procedure == RPR_NPPI_COMPOSITION_REFRESH ||
	    (procedure == RPR_NPPI_ADDRESS_REFRESH && d->page128_len)) {
		d->refresh_pending = true;
	}
}

/* The AD structures a server reports on an Extended Scan of itself: name, URI. */
static size_t self_adv(const struct ndev *d, uint8_t *out, size_t cap)
{
	size_t n = strlen(d->cfg->name), k = 0;

	if (n > cap / 2 - 2) {
		n = cap / 2 - 2;
	}
	out[k++] = (uint8_t)(n + 1);
	out[k++] = AD_NAME;
	memcpy(out + k, d->cfg->name, n);
	k += n;
	if (d->cfg->uri && strlen(d->cfg->uri) + 2 <= cap - k) {
		n = strlen(d->cfg->uri);
		out[k++] = (uint8_t)(n + 1);
		out[k++] = AD_URI;
		memcpy(out + k, d->cfg->uri, n);
		k += n;
	}
	return k;
}

static int rpr_make(struct ndev *d, struct nparts *p)
{
	uint8_t adv[RPR_SRV_SELF_ADV_MAX];
	struct rpr_srv_config rc = {.max_items = RPR_SRV_ITEMS_MAX, .active_scan = true};
	struct rpr_srv_ops ro = {.ctx = d,
				 .adv_send = rpr_adv,
				 .nppi_check = rpr_nppi_check,
				 .nppi_applied = rpr_nppi_applied};

	memcpy(rc.uuid, d->cfg->uuid, 16);
	rc.self_adv = adv;
	rc.self_adv_len = self_adv(d, adv, sizeof(adv));
	/* A node refresh offers No OOB with the device's algorithms (nobody is at the node). */
	rc.nppi.caps.algorithms = d->cfg->algorithms;
	p->rpr = rpr_srv_new(p->node, &rc, &ro, &d->rng);
	return p->rpr ? 0 : -ENOMEM;
}

/*
 * Does the device run a Remote Provisioning Server?  The scenario's
 * composition always gets one when rpr_server is set (the model is added
 * when the scenario does not list it); a composition that came from page
 * 128 is taken as it is, since page 0 must describe the node exactly.
 */
static bool rpr_wanted(const struct ndev *d)
{
	const struct mesh_comp *c = d->comp;
	size_t i;

	if (!d->cfg->rpr_server) {
		return false;
	}
	if (!d->page0_len) {
		return true;
	}
	for (i = 0; i < c->elems[0].num_s; i++) {
		if (c->sig[c->elems[0].sig_off + i] == RPR_MODEL) {
			return true;
		}
	}
	return false;
}

/* An unprovisioned node with the current composition's elements and models in p. */
static int parts_build(struct ndev *d, struct nparts *p)
{
	const struct mesh_comp *c = d->comp;
	struct mesh_node_config nc;
	struct mesh_node_ops ops = {
	    .ctx = d, .adv_send = node_adv, .seq_reserve = node_seq_reserve};
	struct cfg_srv_config sc = {0};
	struct cfg_srv_ops so = {.ctx = d, .reset = on_reset};
	struct mesh_acc *acc;
	bool rpr = rpr_wanted(d);
	size_t e, i;

	memset(p, 0, sizeof(*p));
	mesh_node_config_default(&nc);
	nc.crpl = c->crpl ? c->crpl : 32;
	nc.relay = d->cfg->relay && (c->features & MESH_FEAT_RELAY);
	nc.beacon = d->cfg->beacon;
	p->node = mesh_node_new(&nc, &ops, &d->rng, d->now);
	if (!p->node) {
		return -ENOMEM;
	}
	acc = mesh_node_acc(p->node);
	for (e = 0; e < c->n_elems; e++) {
		if (mesh_acc_elem_add(acc, c->elems[e].loc) < 0) {
			goto fail;
		}
	}
	sc.cid = c->cid;
	sc.pid = c->pid;
	sc.vid = c->vid;
	sc.crpl = nc.crpl;
	sc.features = c->features;
	if (d->page128_len) {
		sc.page128 = d->page128;
		sc.page128_len = d->page128_len;
	}
	p->srv = cfg_srv_new(p->node, &sc, &so);
	if (!p->srv) {
		goto fail;
	}
	for (e = 0; e < c->n_elems; e++) {
		const struct mesh_comp_elem *el = &c->elems[e];

		for (i = 0; i < el->num_s; i++) {
			uint16_t sig = c->sig[el->sig_off + i];
			struct mesh_model_id id = {.vendor = false, .id = sig};

			if (sig == 0x0000) {
				continue; /* the Config Server, registered above */
			}
			if (sig == 0x1000 && e < ONOFF_MAX) {
				p->onoff[e] = onoff_srv_new(p->node, (uint8_t)e, NULL, NULL);
				if (!p->onoff[e]) {
					goto fail;
				}
				continue;
			}
			/* In its place in the list, so that page 0 keeps the scenario's order. */
			if (sig == RPR_MODEL && e == 0 && rpr) {
				if (rpr_make(d, p)) {
					goto fail;
				}
				continue;
			}
			/*
			 * Models this simulation does not act on are present in the
			 * composition (bindable, subscribable) but handle no opcode.
			 */
			if (mesh_acc_model_add(acc, (uint8_t)e, id, 0, NULL, 0, NULL, NULL)) {
				goto fail;
			}
		}
		/* rpr_server without model 0x0004 listed: the server brings its model. */
		if (e == 0 && rpr && !p->rpr && rpr_make(d, p)) {
			goto fail;
		}
		for (i = 0; i < el->num_v; i++) {
			const struct mesh_comp_vnd *v = &c->vnd[el->vnd_off + i];
			struct mesh_model_id id = {.vendor = true, .cid = v->cid, .id = v->id};

			if (mesh_acc_model_add(acc, (uint8_t)e, id, 0, NULL, 0, NULL, NULL)) {
				goto fail;
			}
		}
	}
	return 0;
fail:
	parts_free(p);
	return -ENOMEM;
}

static int node_make(struct ndev *d, const struct prov_result *res)
{
	struct nparts p;
	int r = parts_build(d, &p);

	if (r) {
		return r;
	}
	r = mesh_node_provision(p.node, res->data.unicast, res->dev_key, res->data.net_idx,
				res->data.net_key, res->data.iv_index, res->data.flags, d->now);
	if (r) {
		parts_free(&p);
		return r;
	}
	parts_install(d, &p);
	d->seq_reserved = 0;
	return 0;
}

/* --- Unprovisioned device -------------------------------------------------- */

static void pa_adv(void *ctx, const uint8_t *data, size_t len)
{
	struct ndev *d = ctx;

	/* PB-ADV PDUs go out once; PB-ADV itself retransmits what is not acknowledged. */
	(void)sim_world_send(d->w, d->dev, MESH_AD_PB_ADV, data, len, 1, 0, d->now * 1000);
}

static void pa_output(void *ctx, uint32_t h, uint8_t action, const char *value)
{
	/* As a person reads it off the device: "blinks 3", "shows 0427". */
	static const char *const what[] = {"blinks", "beeps", "vibrates", "shows", "shows"};
	struct ndev *d = ctx;

	(void)h;
	display(d, action < 5 ? what[action] : "shows", value);
}

static void pa_input(void *ctx, uint32_t h, uint8_t action, uint8_t size)
{
	static const char *const what[] = {"push", "twist", "number", "text"};
	struct ndev *d = ctx;

	(void)size;
	d->input_h = h;
	d->input_wait = true;
	display(d, "waits for input:", what[action & 3]);
}

static void pa_done(void *ctx, uint32_t h, const struct prov_result *res)
{
	struct ndev *d = ctx;

	(void)h;
	d->input_wait = false;
	if (node_make(d, res) == 0) {
		/* Keep PB-ADV a little longer so the provisioner's Link Close is seen. */
		d->pa_retire = d->now + PA_LINGER_MS;
		d->next_ubeacon = UINT64_MAX;
	}
}

static void pa_failed(void *ctx, uint32_t h, int err, uint8_t prov_err)
{
	struct ndev *d = ctx;
	char v[32];

	(void)h;
	d->input_wait = false;
	snprintf(v, sizeof(v), "(%d/0x%02x)", err, prov_err);
	display(d, "provisioning failed", v);
}

static int uri_data(const char *uri, uint8_t *out, size_t cap, size_t *len)
{
	/* URI scheme names become one code octet (Bluetooth Assigned Numbers). */
	static const struct {
		const char *scheme;
		uint8_t code;
	} schemes[] = {{"https:", 0x17}, {"http:", 0x16}};
	size_t i, n = strlen(uri);

	for (i = 0; i < 2; i++) {
		size_t sl = strlen(schemes[i].scheme);

		if (strncmp(uri, schemes[i].scheme, sl) == 0) {
			if (n - sl + 1 > cap) {
				return -EINVAL;
			}
			out[0] = schemes[i].code;
			memcpy(out + 1, uri + sl, n - sl);
			*len = n - sl + 1;
			return 0;
		}
	}
	if (n > cap) {
		return -EINVAL;
	}
	memcpy(out, uri, n);
	*len = n;
	return 0;
}

static int unprov_start(struct ndev *d)
{
	const struct sim_scn_device *c = d->cfg;
	struct pb_adv_cfg pc = {0};
	struct prov_cfg dc = {0};
	struct prov_adv_ops ops = {
	    .ctx = d,
	    .adv_send = pa_adv,
	    .output_oob = pa_output,
	    .input_oob_request = pa_input,
	    .done = pa_done,
	    .failed = pa_failed,
	};
	struct unprov_beacon b = {0};
	int r;

	pc.uuid = c->uuid;
	pc.rng = d->rng;
	dc.role = PROV_ROLE_DEVICE;
	dc.caps.elements = (uint8_t)d->comp->n_elems;
	dc.caps.algorithms = c->algorithms;
	dc.caps.pub_key_type = 0;
	if (c->static_oob_len) {
		dc.caps.oob_type = PROV_OOB_TYPE_STATIC;
		memcpy(dc.static_oob, c->static_oob, c->static_oob_len);
		dc.static_oob_len = (uint8_t)c->static_oob_len;
	}
	dc.caps.output_size = c->output_size;
	dc.caps.output_actions = c->output_actions;
	dc.caps.input_size = c->input_size;
	dc.caps.input_actions = c->input_actions;
	d->pa = prov_adv_new(&pc, &dc, &ops, &d->rng);
	mesh_crypto_wipe(&dc, sizeof(dc));
	if (!d->pa) {
		return -ENOMEM;
	}
	d->pa_retire = UINT64_MAX;
	memcpy(b.uuid, c->uuid, 16);
	b.oob_info = c->oob_info;
	if (c->uri) {
		uint8_t ud[256];
		size_t ul;

		r = uri_data(c->uri, ud, sizeof(ud), &ul);
		if (!r) {
			r = unprov_beacon_uri_hash(ud, ul, b.uri_hash);
		}
		if (r) {
			return r;
		}
		b.has_uri_hash = true;
	}
	r = unprov_beacon_encode(&b, d->ubeacon, sizeof(d->ubeacon), &d->ubeacon_len);
	if (r) {
		return r;
	}
	/* Spread the first beacons of a building over the period. */
	d->next_ubeacon = d->now + (d->seed % UBEACON_INTERVAL_MS);
	return 0;
}

/* --- Device kind ------------------------------------------------------------ */

static void ndev_free(void *p)
{
	struct ndev *d = p;

	if (!d) {
		return;
	}
	node_free(d);
	prov_adv_free(d->pa);
	free(d->comp);
	mesh_crypto_wipe(d, sizeof(*d));
	free(d);
}

/* The scenario's composition, parsed (the form every other composition has). */
static int scenario_comp(const struct sim_scn_device *cfg, struct mesh_comp *out)
{
	uint8_t page[MESH_COMP_DATA_MAX];
	size_t len;
	int r = build_comp(&cfg->comp, page, sizeof(page), &len);

	return r ? r : mesh_comp_parse(page, len, out);
}

static int ndev_create(struct sim_world *w, unsigned dev, const struct sim_scn_device *cfg,
		       uint64_t seed, uint64_t now_us, void **out)
{
	struct ndev *d = calloc(1, sizeof(*d));
	int r;

	if (!d) {
		return -ENOMEM;
	}
	d->w = w;
	d->dev = dev;
	d->cfg = cfg;
	d->seed = seed ? seed : 0x9e3779b97f4a7c15ull;
	d->rng.fn = dev_rng;
	d->rng.ctx = &d->seed;
	d->now = now_us / 1000;
	d->comp = calloc(1, sizeof(*d->comp));
	if (!d->comp || scenario_comp(cfg, d->comp) ||
	    (cfg->has_comp128 &&
	     build_comp(&cfg->comp128, d->page128, sizeof(d->page128), &d->page128_len))) {
		r = d->comp ? -EINVAL : -ENOMEM;
		free(d->comp);
		free(d);
		return r;
	}
	r = unprov_start(d);
	if (r) {
		ndev_free(d);
		return r;
	}
	*out = d;
	return 0;
}

static void comp_refresh(struct ndev *d);
static int power_on(struct ndev *d);

/* The device's other AD structures, sent with each beacon as a scan response would be. */
static void unprov_ads(struct ndev *d)
{
	uint8_t ud[256];
	size_t n = strlen(d->cfg->name), ul;

	if (n) {
		(void)sim_world_send(d->w, d->dev, AD_NAME, (const uint8_t *)d->cfg->name,
				     n < SIM_AIR_DATA_MAX ? n : SIM_AIR_DATA_MAX, 1, 0,
				     d->now * 1000);
	}
	if (d->cfg->uri && uri_data(d->cfg->uri, ud, sizeof(ud), &ul) == 0 &&
	    ul <= SIM_AIR_DATA_MAX) {
		(void)sim_world_send(d->w, d->dev, AD_URI, ud, ul, 1, 0, d->now * 1000);
	}
}

/* What a Remote Provisioning Server hears: scanning input and its PB-ADV links. */
static void rpr_rx(struct ndev *d, const struct sim_air_rx *rx)
{
	struct unprov_beacon b;

	if (rx->ad_type == MESH_AD_PB_ADV) {
		(void)rpr_srv_pb_adv_rx(d->rpr, rx->data, rx->len, d->now);
	} else if (rx->ad_type == MESH_AD_BEACON) {
		if (rx->len && rx->data[0] == UNPROV_BEACON_TYPE &&
		    unprov_beacon_decode(rx->data, rx->len, &b) == 0) {
			memcpy(d->ub_uuid, b.uuid, 16);
			d->ub_rssi = rx->rssi;
			d->ub_ms = d->now;
			d->ub_heard = true;
		}
		(void)rpr_srv_beacon_rx(d->rpr, rx->data, rx->len, rx->rssi, d->now);
	} else if (rx->ad_type != MESH_AD_MESSAGE && d->ub_heard && rx->rssi == d->ub_rssi &&
		   d->now - d->ub_ms <= AD_ATTRIB_MS) {
		/*
		 * The air does not say who sent an AD structure; the beacon just
		 * heard from the same strength is, in a simulation where every
		 * advertiser has its own distance, the same device.
		 */
		(void)rpr_srv_ad_rx(d->rpr, d->ub_uuid, rx->ad_type, rx->data, rx->len, d->now);
	}
}

static void ndev_rx(void *p, const struct sim_air_rx *rx)
{
	struct ndev *d = p;

	if (d->off) {
		return;
	}
	d->now = rx->time_us / 1000;
	if (rx->ad_type == MESH_AD_PB_ADV && d->pa) {
		(void)prov_adv_rx(d->pa, rx->data, rx->len, d->now);
	}
	if (d->rpr) {
		rpr_rx(d, rx);
	}
	if (d->node && (rx->ad_type == MESH_AD_MESSAGE || rx->ad_type == MESH_AD_BEACON)) {
		(void)mesh_node_rx_adv(d->node, rx->ad_type, rx->data, rx->len, d->now);
	}
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t ndev_deadline(void *p)
{
	struct ndev *d = p;
	uint64_t t = d->next_ubeacon;

	if (d->off) {
		return UINT64_MAX; /* a switched-off device has no running timers */
	}
	if (d->reset_pending || d->refresh_pending) {
		return d->now * 1000;
	}
	if (d->pa) {
		t = min64(t, min64(prov_adv_next_deadline(d->pa), d->pa_retire));
	}
	if (d->node) {
		t = min64(t, mesh_node_next_deadline(d->node));
	}
	if (d->rpr) {
		t = min64(t, rpr_srv_next_deadline(d->rpr));
	}
	return t == UINT64_MAX ? UINT64_MAX : t * 1000;
}

static void ndev_tick(void *p, uint64_t now_us)
{
	struct ndev *d = p;

	if (d->off) {
		return;
	}
	d->now = now_us / 1000;
	if (d->reset_pending) {
		/* Node Reset: forget everything and be a new unprovisioned device (§4.4.1.2.x). */
		d->reset_pending = false;
		node_free(d);
		prov_adv_free(d->pa);
		d->pa = NULL;
		if (unprov_start(d) == 0) {
			d->next_ubeacon = d->now;
		}
	}
	if (d->refresh_pending) {
		comp_refresh(d);
	}
	if (d->pa) {
		prov_adv_tick(d->pa, d->now);
		if (d->pa_retire <= d->now) {
			prov_adv_free(d->pa);
			d->pa = NULL;
		}
	}
	if (d->node) {
		mesh_node_tick(d->node, d->now);
	}
	if (d->rpr) {
		rpr_srv_tick(d->rpr, d->now);
	}
	if (!d->node && d->next_ubeacon <= d->now) {
		(void)sim_world_send(d->w, d->dev, MESH_AD_BEACON, d->ubeacon, d->ubeacon_len, 1, 0,
				     d->now * 1000);
		unprov_ads(d);
		d->next_ubeacon = d->now + UBEACON_INTERVAL_MS;
	}
}

static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 0;

	while (*s == ' ') {
		s++;
	}
	for (; s[0] && s[1] && s[0] != ' '; s += 2) {
		unsigned v;

		if (n == cap || sscanf(s, "%2x", &v) != 1) {
			return -EINVAL;
		}
		out[n++] = (uint8_t)v;
	}
	if (*s && *s != ' ') {
		return -EINVAL;
	}
	*len = n;
	return 0;
}

static int ndev_ctl(void *p, const char *args, uint64_t now_us, char *out, size_t cap)
{
	struct ndev *d = p;

	d->now = now_us / 1000;
	if (strncmp(args, "input ", 6) == 0) {
		int r;

		if (!d->pa || !d->input_wait) {
			snprintf(out, cap, "error: not waiting for input");
			return -EALREADY;
		}
		r = prov_adv_input_oob(d->pa, d->input_h, args + 6, d->now);
		d->input_wait = r != 0;
		snprintf(out, cap, r ? "error: %s" : "ok", strerror(-r));
		return r;
	}
	if (strcmp(args, "status") == 0) {
		uint8_t key[16];
		char fp[9], cand[9] = "";
		size_t k;

		k = (size_t)snprintf(out, cap, "%s addr 0x%04x",
				     d->node ? "provisioned" : "unprovisioned",
				     d->node ? mesh_node_primary(d->node) : 0);
		/* Fingerprints only: the keys themselves never leave the device. */
		if (d->node && k < cap && mesh_node_devkey_get(d->node, key) == 0) {
			mesh_crypto_key_fingerprint(key, fp);
			if (mesh_node_devkey_candidate_get(d->node, key) == 0) {
				mesh_crypto_key_fingerprint(key, cand);
			}
			k += (size_t)snprintf(out + k, cap - k, " devkey %s%s%s", fp,
					      cand[0] ? " candidate " : "", cand);
		}
		mesh_crypto_wipe(key, sizeof(key));
		if (d->off && k < cap) {
			snprintf(out + k, cap - k, " power off");
		}
		return 0;
	}
	if (strcmp(args, "power off") == 0) {
		d->off = true;
		snprintf(out, cap, "ok");
		return 0;
	}
	if (strcmp(args, "power on") == 0) {
		int r = d->off ? power_on(d) : 0;

		snprintf(out, cap, r ? "error: %s" : "ok", strerror(-r));
		return r;
	}
	if (strcmp(args, "onoff") == 0) {
		size_t i, k = 0;

		out[0] = '\0';
		for (i = 0; i < ONOFF_MAX && k + 8 < cap; i++) {
			if (d->onoff[i]) {
				k += (size_t)snprintf(out + k, cap - k, "%s%zu:%s", k ? " " : "", i,
						      onoff_srv_get(d->onoff[i]) ? "on" : "off");
			}
		}
		return 0;
	}
	if (strncmp(args, "comp128 ", 8) == 0) {
		uint8_t page[MESH_COMP_DATA_MAX];
		size_t len;
		int r = parse_hex(args + 8, page, sizeof(page), &len);

		if (!r && d->srv) {
			r = cfg_srv_page128_set(d->srv, page, len);
		}
		if (!r) {
			memcpy(d->page128, page, len);
			d->page128_len = len;
		}
		snprintf(out, cap, r ? "error: bad page" : "ok");
		return r;
	}
	if (strcmp(args, "reset") == 0) {
		d->reset_pending = true;
		snprintf(out, cap, "ok");
		return 0;
	}
	snprintf(out, cap,
		 "error: commands: status, input VALUE, onoff, comp128 HEX, reset, "
		 "power off, power on");
	return -EINVAL;
}

/* --- Stored state ------------------------------------------------------------ */

/*
 * The device's flash, as JSON (the layout is documented in sim/PORTS.md,
 * "State of the node kind").  It holds the node's keys in clear hex: state
 * files are secrets, written 0600 by sim_loop_save().
 */

static json_t *hex_json(const uint8_t *b, size_t len)
{
	char s[2 * MESH_COMP_DATA_MAX + 1];
	json_t *j;
	size_t i;

	if (2 * len >= sizeof(s)) {
		return NULL;
	}
	for (i = 0; i < len; i++) {
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	}
	s[2 * len] = '\0';
	j = json_string(s);
	mesh_crypto_wipe(s, sizeof(s));
	return j;
}

/* Adds key: value to o, taking value (NULL counts as no memory). */
static int put(json_t *o, const char *key, json_t *v)
{
	return v && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

static int put_int(json_t *o, const char *key, json_int_t v)
{
	return put(o, key, json_integer(v));
}

static int put_key(json_t *o, const char *key, const uint8_t k[16])
{
	return put(o, key, hex_json(k, 16));
}

/* j when r is 0; else drops j and returns NULL (the saving helpers' common ending). */
static json_t *built(json_t *j, int r)
{
	if (r) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *save_keys(const struct mesh_node *n, bool app)
{
	json_t *a = json_array();
	size_t i, cnt = app ? mesh_node_appkey_count(n) : mesh_node_netkey_count(n);
	int r = a ? 0 : -ENOMEM;

	for (i = 0; i < cnt && !r; i++) {
		json_t *o = json_object();
		struct mesh_node_netkey nk;
		struct mesh_node_appkey ak;

		r = o ? 0 : -ENOMEM;
		if (!r && (app ? mesh_node_appkey_at(n, i, &ak) : mesh_node_netkey_at(n, i, &nk))) {
			r = -EIO; /* the node's own lists disagree: never seen */
		}
		if (!r && app) {
			r = put_int(o, "index", ak.app_idx);
			r = r ? r : put_int(o, "net_index", ak.net_idx);
			r = r ? r : put_key(o, "key", ak.key);
			r = r || !ak.has_new ? r : put_key(o, "new_key", ak.new_key);
		} else if (!r) {
			r = put_int(o, "index", nk.net_idx);
			r = r ? r : put_int(o, "phase", nk.phase);
			r = r ? r : put_key(o, "key", nk.key);
			r = r || !nk.phase ? r : put_key(o, "new_key", nk.new_key);
		}
		mesh_crypto_wipe(&nk, sizeof(nk));
		mesh_crypto_wipe(&ak, sizeof(ak));
		if (!r && json_array_append_new(a, o)) {
			r = -ENOMEM;
		} else if (r) {
			json_decref(o);
		}
	}
	return built(a, r);
}

static json_t *save_pub(const struct mesh_acc_pub *pub)
{
	json_t *o = json_object();
	int r = o ? 0 : -ENOMEM;

	r = r ? r : put_int(o, "addr", pub->addr);
	if (!r && mesh_addr_is_virtual(pub->addr)) {
		r = put(o, "label", hex_json(pub->label, 16));
	}
	r = r ? r : put_int(o, "app_index", pub->app_idx);
	r = r ? r : put(o, "cred", json_boolean(pub->cred));
	r = r ? r : put_int(o, "ttl", pub->ttl);
	r = r ? r : put_int(o, "period", pub->period);
	r = r ? r : put_int(o, "retransmit", pub->retransmit);
	return built(o, r);
}

/* One model's bindings, subscriptions, publication and OnOff state; NULL and *err when none. */
static json_t *save_model(const struct ndev *d, struct mesh_acc_model *mdl, int *err)
{
	static const struct mesh_acc_pub none;
	struct mesh_model_id id = mesh_acc_model_id(mdl);
	uint8_t e = mesh_acc_model_elem(mdl);
	uint16_t bind[MESH_ACC_BIND_MAX];
	size_t nb = mesh_acc_model_bindings(mdl, bind, MESH_ACC_BIND_MAX), i;
	struct mesh_acc_pub pub;
	uint16_t addr;
	uint8_t label[16];
	bool onoff = !id.vendor && id.id == 0x1000 && e < ONOFF_MAX && d->onoff[e];
	json_t *o, *binds, *subs;
	int r;

	mesh_acc_model_pub_get(mdl, &pub);
	*err = 0;
	if (!nb && mesh_acc_model_sub_at(mdl, 0, &addr, NULL) && !onoff &&
	    !memcmp(&pub, &none, sizeof(pub))) {
		return NULL; /* nothing to remember */
	}
	o = json_object();
	binds = json_array();
	subs = json_array();
	r = o && binds && subs ? 0 : -ENOMEM;
	for (i = 0; i < nb && i < MESH_ACC_BIND_MAX && !r; i++) {
		r = json_array_append_new(binds, json_integer(bind[i])) ? -ENOMEM : 0;
	}
	for (i = 0; !r && mesh_acc_model_sub_at(mdl, i, &addr, label) == 0; i++) {
		json_t *sub = json_object();

		r = sub ? 0 : -ENOMEM;
		r = r                            ? r
		    : mesh_addr_is_virtual(addr) ? put(sub, "label", hex_json(label, 16))
						 : put_int(sub, "addr", addr);
		r = r ? r : (json_array_append(subs, sub) ? -ENOMEM : 0);
		json_decref(sub);
	}
	r = r ? r : put_int(o, "element", e);
	r = r ? r : put_int(o, "id", id.id);
	r = r || !id.vendor ? r : put_int(o, "cid", id.cid);
	r = r ? r : put(o, "bind", json_incref(binds));
	r = r ? r : put(o, "subs", json_incref(subs));
	r = r || !memcmp(&pub, &none, sizeof(pub)) ? r : put(o, "pub", save_pub(&pub));
	r = r || !onoff ? r : put(o, "onoff", json_boolean(onoff_srv_get(d->onoff[e])));
	json_decref(binds);
	json_decref(subs);
	*err = r;
	return built(o, r);
}

static json_t *save_models(const struct ndev *d)
{
	const struct mesh_comp *c = d->comp;
	struct mesh_acc *acc = mesh_node_acc(d->node);
	json_t *a = json_array();
	size_t e, i;
	int r = a ? 0 : -ENOMEM;

	/*
	 * The registry holds the current composition's models (parts_build());
	 * an added Remote Provisioning Server keeps no per-model state.
	 */
	for (e = 0; e < c->n_elems && !r; e++) {
		const struct mesh_comp_elem *el = &c->elems[e];

		for (i = 0; i < (size_t)el->num_s + el->num_v && !r; i++) {
			struct mesh_model_id id = {.vendor = i >= el->num_s};
			struct mesh_acc_model *mdl;
			json_t *m;

			if (id.vendor) {
				id.cid = c->vnd[el->vnd_off + i - el->num_s].cid;
				id.id = c->vnd[el->vnd_off + i - el->num_s].id;
			} else {
				id.id = c->sig[el->sig_off + i];
			}
			mdl = mesh_acc_model_find(acc, (uint8_t)e, id);
			m = mdl ? save_model(d, mdl, &r) : NULL;
			if (m && json_array_append_new(a, m)) {
				r = -ENOMEM;
			}
		}
	}
	return built(a, r);
}

static json_t *save_hb(const struct cfg_srv *srv)
{
	struct cfg_srv_hb hb;

	cfg_srv_hb_get(srv, &hb);
	return json_pack("{s{sisisisisisi}s{sisisi}}", "pub", "dst", hb.pub_dst, "count_log",
			 hb.pub_count_log, "period_log", hb.pub_period_log, "ttl", hb.pub_ttl,
			 "features", hb.pub_features, "net_index", hb.pub_net_idx, "sub", "src",
			 hb.sub_src, "dst", hb.sub_dst, "period_log", hb.sub_period_log);
}

static int save_node(const struct ndev *d, json_t *o)
{
	struct mesh_node *n = d->node;
	const struct mesh_node_config *nc = mesh_node_config(n);
	struct mesh_net *net = mesh_node_net(n);
	uint8_t key[16];
	uint32_t iv, seq = mesh_net_seq_get(net);
	bool ivu;
	int r;

	mesh_net_iv_get(net, &iv, &ivu);
	/*
	 * A restarted node must never send a sequence number it may have used
	 * (§3.4.4.6, the replay protection of every peer): store the end of
	 * the reserved block, which is at or past every number handed out.
	 */
	if (d->seq_reserved > seq) {
		seq = d->seq_reserved;
	}
	r = put_int(o, "addr", mesh_node_primary(n));
	r = r ? r : put_int(o, "elements", (json_int_t)mesh_acc_elem_count(mesh_node_acc(n)));
	if (!r && mesh_node_devkey_get(n, key) == 0) {
		r = put_key(o, "dev_key", key);
	}
	if (!r && mesh_node_devkey_candidate_get(n, key) == 0) {
		r = put_key(o, "dev_key_candidate", key);
	}
	mesh_crypto_wipe(key, sizeof(key));
	r = r ? r : put_int(o, "iv_index", iv);
	r = r ? r : put(o, "iv_update", json_boolean(ivu));
	r = r ? r : put_int(o, "seq", seq);
	r = r ? r : put(o, "net_keys", save_keys(n, false));
	r = r ? r : put(o, "app_keys", save_keys(n, true));
	r = r ? r : put_int(o, "default_ttl", nc->default_ttl);
	r = r ? r : put(o, "relay", json_boolean(nc->relay));
	r = r ? r : put_int(o, "relay_retransmit", nc->relay_xmit);
	r = r ? r : put(o, "beacon", json_boolean(nc->beacon));
	r = r ? r : put_int(o, "net_transmit", nc->net_xmit);
	r = r ? r : put(o, "heartbeat", save_hb(d->srv));
	r = r ? r : put(o, "models", save_models(d));
	return r;
}

static json_t *ndev_save(void *p)
{
	struct ndev *d = p;
	/* A Node Reset being carried out has already erased the flash. */
	bool prov = d->node && !d->reset_pending;
	json_t *o = json_object();
	int r = o ? 0 : -ENOMEM;

	r = r ? r : put(o, "provisioned", json_boolean(prov));
	r = r || !prov ? r : save_node(d, o);
	r = r || !d->page128_len ? r : put(o, "page128", hex_json(d->page128, d->page128_len));
	r = r || !d->page0_len ? r : put(o, "page0", hex_json(d->page0, d->page0_len));
	return built(o, r);
}

/*
 * Loading.  The state is imported data: every member is checked for type
 * and range, unknown members are refused, and the node is rebuilt apart
 * from the device so that a refusal leaves the device as it was.
 */
struct ld {
	char *err;      /* SIM_NODE_ERR_MAX octets */
	const char *at; /* the object being read, for messages ("models[2].subs[0]") */
};

static int bad(struct ld *l, const char *where, const char *why)
{
	snprintf(l->err, SIM_NODE_ERR_MAX, "%.63s: %.46s", where, why);
	return -EINVAL;
}

/* A member of the object being read is wrong. */
static int bad_member(struct ld *l, const char *key, const char *why)
{
	char w[64];

	snprintf(w, sizeof(w), "%.31s%s%.31s", l->at ? l->at : "", l->at ? "." : "", key);
	return bad(l, w, why);
}

/*
 * Enter the pos-th element of array `name` inside the current object (buf
 * holds the name); returns the previous position for at_leave().
 */
static const char *at_enter(struct ld *l, char *buf, size_t cap, const char *name, size_t pos)
{
	const char *prev = l->at;

	snprintf(buf, cap, "%.40s%s%.20s[%zu]", prev ? prev : "", prev ? "." : "", name, pos);
	l->at = buf;
	return prev;
}

/* Refuses a non-object, or members of it other than those listed (NULL-terminated). */
static int only(struct ld *l, json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o)) {
		return bad(l, l->at ? l->at : "state", "not an object");
	}
	json_object_foreach(o, k, v)
	{
		size_t i;

		for (i = 0; keys[i] && strcmp(keys[i], k); i++) {
		}
		if (!keys[i]) {
			return bad_member(l, k, "unknown member");
		}
	}
	return 0;
}

static int get_int(struct ld *l, json_t *o, const char *key, json_int_t min, json_int_t max,
		   json_int_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v)) {
		return bad_member(l, key, v ? "not an integer" : "missing");
	}
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		return bad_member(l, key, "out of range");
	}
	*out = json_integer_value(v);
	return 0;
}

static int get_bool(struct ld *l, json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v)) {
		return bad_member(l, key, v ? "not a boolean" : "missing");
	}
	*out = json_is_true(v);
	return 0;
}

/* Hex of 1..cap octets (exactly cap when exact). */
static int get_hex(struct ld *l, json_t *o, const char *key, uint8_t *out, size_t cap, bool exact,
		   size_t *len)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0, i;

	if (!s) {
		return bad_member(l, key, v ? "not a string" : "missing");
	}
	if (n == 0 || n % 2 || n / 2 > cap || (exact && n / 2 != cap)) {
		return bad_member(l, key, "wrong length of hex");
	}
	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F'))) {
			return bad_member(l, key, "not hex");
		}
	}
	for (i = 0; i < n / 2; i++) {
		unsigned x;

		(void)sscanf(s + 2 * i, "%2x", &x);
		out[i] = (uint8_t)x;
	}
	if (len) {
		*len = n / 2;
	}
	return 0;
}

static int get_key(struct ld *l, json_t *o, const char *key, uint8_t out[16])
{
	return get_hex(l, o, key, out, 16, true, NULL);
}

/* A refusal from mesh/ for a value that passed the checks above. */
static int refused(struct ld *l, const char *key, int r)
{
	return r == -ENOMEM ? r : bad_member(l, key, r == -ENOSPC ? "too many" : "refused");
}

static const char *const netkey_members[] = {"index", "phase", "key", "new_key", NULL};

static int load_netkeys(struct ld *l, struct mesh_node *n, json_t *a)
{
	size_t i;
	json_t *o;
	int r = 0;

	/* The first NetKey came with provisioning; the others as NetKey Add. */
	json_array_foreach(a, i, o)
	{
		json_int_t idx = 0, ph = 0;
		uint8_t k[16], nk[16];
		char at[64];

		l->at = NULL;
		(void)at_enter(l, at, sizeof(at), "net_keys", i);
		r = only(l, o, netkey_members);
		r = r ? r : get_int(l, o, "index", 0, MESH_KEY_IDX_MAX, &idx);
		r = r ? r : get_int(l, o, "phase", 0, 2, &ph);
		r = r ? r : get_key(l, o, "key", k);
		if (!r && ph) {
			r = get_key(l, o, "new_key", nk);
		} else if (!r && json_object_get(o, "new_key")) {
			r = bad_member(l, "new_key", "only in phases 1 and 2");
		}
		if (!r && i > 0 && mesh_net_subnet_kr_phase(mesh_node_net(n), (uint16_t)idx) >= 0) {
			r = bad_member(l, "index", "duplicate");
		}
		if (!r && i > 0) {
			int e = mesh_node_netkey_add(n, (uint16_t)idx, k);

			r = e ? refused(l, "key", e) : 0;
		}
		/* Phase 1 now; phase 2 after the AppKeys' updates (load_keys_phase2()). */
		if (!r && ph) {
			int e = mesh_node_netkey_update(n, (uint16_t)idx, nk);

			r = e ? refused(l, "new_key", e) : 0;
		}
		mesh_crypto_wipe(k, sizeof(k));
		mesh_crypto_wipe(nk, sizeof(nk));
		if (r) {
			return r;
		}
	}
	l->at = NULL;
	return 0;
}

static int load_appkeys(struct ld *l, struct mesh_node *n, json_t *a)
{
	static const char *const keys[] = {"index", "net_index", "key", "new_key", NULL};
	size_t i;
	json_t *o;

	if (!json_is_array(a) || json_array_size(a) > MESH_NODE_APPKEYS_MAX) {
		return bad(l, "app_keys", "not an array of at most 32");
	}
	json_array_foreach(a, i, o)
	{
		json_int_t idx = 0, net = 0;
		uint8_t k[16], nk[16];
		bool upd = json_object_get(o, "new_key") != NULL;
		char at[64];
		int r, e = 0;

		l->at = NULL;
		(void)at_enter(l, at, sizeof(at), "app_keys", i);
		r = only(l, o, keys);
		r = r ? r : get_int(l, o, "index", 0, MESH_KEY_IDX_MAX, &idx);
		r = r ? r : get_int(l, o, "net_index", 0, MESH_KEY_IDX_MAX, &net);
		r = r ? r : get_key(l, o, "key", k);
		r = r || !upd ? r : get_key(l, o, "new_key", nk);
		if (!r && mesh_node_appkey_net(n, (uint16_t)idx) >= 0) {
			r = bad_member(l, "index", "duplicate");
		}
		if (!r && mesh_net_subnet_kr_phase(mesh_node_net(n), (uint16_t)net) < 0) {
			r = bad_member(l, "net_index", "no such NetKey");
		}
		/* An updated AppKey exists only while its NetKey is being refreshed (§4.2.5). */
		if (!r && upd && mesh_net_subnet_kr_phase(mesh_node_net(n), (uint16_t)net) == 0) {
			r = bad_member(l, "new_key", "its NetKey is not in a Key Refresh");
		}
		e = r ? 0 : mesh_node_appkey_add(n, (uint16_t)net, (uint16_t)idx, k);
		if (!r && !e && upd) {
			e = mesh_node_appkey_update(n, (uint16_t)net, (uint16_t)idx, nk);
		}
		r = r ? r : e ? refused(l, "key", e) : 0;
		mesh_crypto_wipe(k, sizeof(k));
		mesh_crypto_wipe(nk, sizeof(nk));
		if (r) {
			return r;
		}
	}
	l->at = NULL;
	return 0;
}

static int load_keys_phase2(struct ld *l, struct mesh_node *n, json_t *a)
{
	size_t i;
	json_t *o;

	json_array_foreach(a, i, o)
	{
		json_int_t idx = json_integer_value(json_object_get(o, "index"));

		if (json_integer_value(json_object_get(o, "phase")) == 2 &&
		    mesh_node_kr_transition(n, (uint16_t)idx, 2)) {
			return bad(l, "net_keys[].phase", "refused");
		}
	}
	return 0;
}

static int load_hb(struct ld *l, struct cfg_srv *srv, json_t *o)
{
	static const char *const top[] = {"pub", "sub", NULL};
	static const char *const pk[] = {"dst",      "count_log", "period_log", "ttl",
					 "features", "net_index", NULL};
	static const char *const sk[] = {"src", "dst", "period_log", NULL};
	json_t *p = json_object_get(o, "pub"), *s = json_object_get(o, "sub");
	json_int_t v[9] = {0};
	struct cfg_srv_hb hb;
	int r;

	l->at = "heartbeat";
	r = only(l, o, top);
	l->at = "heartbeat.pub";
	r = r ? r : only(l, p, pk);
	r = r ? r : get_int(l, p, "dst", 0, 0xffff, &v[0]);
	r = r ? r : get_int(l, p, "count_log", 0, 0xff, &v[1]);
	r = r ? r : get_int(l, p, "period_log", 0, 0xff, &v[2]);
	r = r ? r : get_int(l, p, "ttl", 0, 0xff, &v[3]);
	r = r ? r : get_int(l, p, "features", 0, 0xffff, &v[4]);
	r = r ? r : get_int(l, p, "net_index", 0, 0xffff, &v[5]);
	l->at = r ? l->at : "heartbeat.sub";
	r = r ? r : only(l, s, sk);
	r = r ? r : get_int(l, s, "src", 0, 0xffff, &v[6]);
	r = r ? r : get_int(l, s, "dst", 0, 0xffff, &v[7]);
	r = r ? r : get_int(l, s, "period_log", 0, 0xff, &v[8]);
	if (r) {
		return r;
	}
	l->at = NULL;
	hb.pub_dst = (uint16_t)v[0];
	hb.pub_count_log = (uint8_t)v[1];
	hb.pub_period_log = (uint8_t)v[2];
	hb.pub_ttl = (uint8_t)v[3];
	hb.pub_features = (uint16_t)v[4];
	hb.pub_net_idx = (uint16_t)v[5];
	hb.sub_src = (uint16_t)v[6];
	hb.sub_dst = (uint16_t)v[7];
	hb.sub_period_log = (uint8_t)v[8];
	return cfg_srv_hb_set(srv, &hb) ? bad(l, "heartbeat", "inconsistent states") : 0;
}

static int load_pub(struct ld *l, struct mesh_node *n, struct mesh_acc_model *mdl, json_t *o)
{
	static const char *const keys[] = {"addr", "label",  "app_index",  "cred",
					   "ttl",  "period", "retransmit", NULL};
	struct mesh_acc_pub pub = {0};
	json_int_t v[5] = {0};
	const char *prev = l->at;
	char at[64];
	uint16_t va;
	int r;

	snprintf(at, sizeof(at), "%.50s.pub", prev ? prev : "");
	l->at = at;
	r = only(l, o, keys);
	r = r ? r : get_int(l, o, "addr", 0, 0xffff, &v[0]);
	r = r ? r : get_int(l, o, "app_index", 0, MESH_KEY_IDX_MAX, &v[1]);
	r = r ? r : get_bool(l, o, "cred", &pub.cred);
	r = r ? r : get_int(l, o, "ttl", 0, 0xff, &v[2]);
	r = r ? r : get_int(l, o, "period", 0, 0xff, &v[3]);
	r = r ? r : get_int(l, o, "retransmit", 0, 0xff, &v[4]);
	pub.addr = (uint16_t)v[0];
	pub.app_idx = (uint16_t)v[1];
	pub.ttl = (uint8_t)v[2];
	pub.period = (uint8_t)v[3];
	pub.retransmit = (uint8_t)v[4];
	if (!r && mesh_addr_is_virtual(pub.addr)) {
		/* The virtual address must be the hash of its Label UUID (§3.4.2.3). */
		r = get_key(l, o, "label", pub.label);
		if (!r && (mesh_crypto_virtual_addr(pub.label, &va) || va != pub.addr)) {
			r = bad_member(l, "label", "does not match addr");
		}
		if (!r && mesh_node_label_add(n, pub.label)) {
			r = bad_member(l, "label", "too many labels");
		}
	} else if (!r && json_object_get(o, "label")) {
		r = bad_member(l, "label", "only with a virtual addr");
	}
	if (!r && mesh_acc_model_pub_set(mdl, &pub)) {
		r = bad(l, at, "refused");
	}
	l->at = prev;
	return r;
}

/* One subscription: {"addr": group} or {"label": Label UUID} (a virtual address). */
static int load_sub(struct ld *l, struct mesh_node *n, struct mesh_acc_model *mdl, json_t *o)
{
	static const char *const keys[] = {"addr", "label", NULL};
	uint8_t label[16];
	json_int_t addr = 0;
	uint16_t va;
	int r = only(l, o, keys);

	if (!r && json_object_get(o, "label")) {
		r = json_object_get(o, "addr") ? bad_member(l, "addr", "not with a label")
					       : get_key(l, o, "label", label);
		if (!r && mesh_crypto_virtual_addr(label, &va)) {
			r = -ENOMEM;
		}
		if (!r && mesh_node_label_add(n, label)) {
			r = bad_member(l, "label", "too many labels");
		}
		if (!r && mesh_acc_model_sub_add(mdl, va, label)) {
			r = bad_member(l, "label", "refused");
		}
	} else if (!r) {
		r = get_int(l, o, "addr", 0, 0xffff, &addr);
		/* mesh_acc refuses what is not a group address (§4.2.4). */
		if (!r && (mesh_addr_is_virtual((uint16_t)addr) ||
			   mesh_acc_model_sub_add(mdl, (uint16_t)addr, NULL))) {
			r = bad_member(l, "addr", "not a group address");
		}
	}
	return r;
}

static int load_bind(struct ld *l, struct mesh_node *n, struct mesh_acc_model *mdl, json_t *a)
{
	size_t i;
	json_t *b;

	if (!json_is_array(a) || json_array_size(a) > MESH_ACC_BIND_MAX) {
		return bad_member(l, "bind", "not an array of at most 16");
	}
	json_array_foreach(a, i, b)
	{
		json_int_t idx = json_integer_value(b);

		/* Only existing AppKeys can be bound (§4.2.7); deleting one unbinds it. */
		if (!json_is_integer(b) || idx < 0 || idx > MESH_KEY_IDX_MAX ||
		    mesh_node_appkey_net(n, (uint16_t)idx) < 0 ||
		    mesh_acc_model_bind(mdl, (uint16_t)idx)) {
			return bad_member(l, "bind", "not the index of an AppKey");
		}
	}
	return 0;
}

/* The model an entry names: {"element", "id"[, "cid" for a vendor model]}. */
static int load_model_id(struct ld *l, struct nparts *p, json_t *o, struct mesh_acc_model **out,
			 uint8_t *elem)
{
	static const char *const keys[] = {"element", "id",  "cid",   "bind",
					   "subs",    "pub", "onoff", NULL};
	struct mesh_acc *acc = mesh_node_acc(p->node);
	struct mesh_model_id id = {0};
	json_int_t e = 0, v = 0, c = 0;
	int r;

	r = only(l, o, keys);
	r = r ? r : get_int(l, o, "element", 0, (json_int_t)mesh_acc_elem_count(acc) - 1, &e);
	r = r ? r : get_int(l, o, "id", 0, 0xffff, &v);
	if (!r && json_object_get(o, "cid")) {
		r = get_int(l, o, "cid", 0, 0xffff, &c);
		id.vendor = true;
	}
	if (r) {
		return r;
	}
	id.id = (uint16_t)v;
	id.cid = (uint16_t)c;
	*out = mesh_acc_model_find(acc, (uint8_t)e, id);
	/* The Config Server keeps no per-model state (it cannot be bound or subscribed). */
	if (!*out || (!id.vendor && id.id == 0x0000)) {
		return bad_member(l, "id", "no such model on the element");
	}
	*elem = (uint8_t)e;
	return 0;
}

static int load_model(struct ld *l, struct nparts *p, json_t *o)
{
	struct mesh_acc_model *mdl = NULL;
	struct mesh_model_id id;
	json_t *subs = json_object_get(o, "subs"), *x;
	const char *prev = l->at;
	uint8_t e = 0;
	size_t i;
	int r;

	r = load_model_id(l, p, o, &mdl, &e);
	r = r ? r : load_bind(l, p->node, mdl, json_object_get(o, "bind"));
	if (!r && (!json_is_array(subs) || json_array_size(subs) > MESH_ACC_SUB_MAX)) {
		r = bad_member(l, "subs", "not an array of at most 16");
	}
	json_array_foreach(subs, i, x)
	{
		char at[64];

		if (r) {
			break;
		}
		(void)at_enter(l, at, sizeof(at), "subs", i);
		r = load_sub(l, p->node, mdl, x);
		l->at = prev;
	}
	x = json_object_get(o, "pub");
	r = r || !x ? r : load_pub(l, p->node, mdl, x);
	if (!r && json_object_get(o, "onoff")) {
		bool on = false;

		id = mesh_acc_model_id(mdl);
		r = get_bool(l, o, "onoff", &on);
		if (!r && (id.vendor || id.id != 0x1000 || e >= ONOFF_MAX || !p->onoff[e])) {
			r = bad_member(l, "onoff", "not a Generic OnOff Server");
		}
		if (!r) {
			onoff_srv_set(p->onoff[e], on);
		}
	}
	return r;
}

static int load_config(struct ld *l, struct ndev *d, struct mesh_node *n, json_t *st)
{
	json_int_t ttl = 0, rx = 0, nx = 0;
	bool relay = false, beacon = false;
	int r;

	r = get_int(l, st, "default_ttl", 0, MESH_TTL_MAX, &ttl);
	r = r ? r : get_bool(l, st, "relay", &relay);
	r = r ? r : get_int(l, st, "relay_retransmit", 0, 0xff, &rx);
	r = r ? r : get_bool(l, st, "beacon", &beacon);
	r = r ? r : get_int(l, st, "net_transmit", 0, 0xff, &nx);
	if (!r && mesh_node_default_ttl_set(n, (uint8_t)ttl)) {
		r = bad(l, "default_ttl", "1 is prohibited");
	}
	/* The Config Server never turns on a relay the device does not have (§4.2.8). */
	if (!r && relay && !(d->comp->features & MESH_FEAT_RELAY)) {
		r = bad(l, "relay", "the device has no Relay feature");
	}
	if (!r) {
		mesh_node_relay_set(n, relay, (uint8_t)rx);
		mesh_node_beacon_set(n, beacon);
		mesh_node_net_xmit_set(n, (uint8_t)nx);
	}
	return r;
}

/* Build the stored node in p (p is freed by the caller on error). */
static int load_node(struct ld *l, struct ndev *d, json_t *st, struct nparts *p)
{
	json_t *nks = json_object_get(st, "net_keys"), *a, *m;
	json_int_t addr = 0, elems = 0, iv = 0, seq = 0, idx0 = 0;
	uint8_t dk[16], nk0[16], cand[16];
	bool ivu = false, has_cand = json_object_get(st, "dev_key_candidate") != NULL;
	size_t i;
	int r, e;

	r = get_int(l, st, "addr", 1, 0x7fff, &addr);
	r = r ? r : get_int(l, st, "elements", 1, 255, &elems);
	if (!r && (size_t)elems != d->comp->n_elems) {
		r = bad(l, "elements", "not the composition's element count");
	}
	if (!r && addr + elems - 1 > 0x7fff) {
		r = bad(l, "addr", "elements run past 0x7fff");
	}
	r = r ? r : get_key(l, st, "dev_key", dk);
	r = r || !has_cand ? r : get_key(l, st, "dev_key_candidate", cand);
	r = r ? r : get_int(l, st, "iv_index", 0, 0xffffffff, &iv);
	r = r ? r : get_bool(l, st, "iv_update", &ivu);
	r = r ? r : get_int(l, st, "seq", 0, 0x1000000, &seq);
	if (!r && (!json_is_array(nks) || json_array_size(nks) < 1 ||
		   json_array_size(nks) > MESH_NET_SUBNETS_MAX)) {
		r = bad(l, "net_keys", "not an array of 1 to 64");
	}
	if (!r) {
		/* The first NetKey is the one provisioning gave (checked fully later). */
		l->at = "net_keys[0]";
		r = only(l, json_array_get(nks, 0), netkey_members);
		r = r ? r : get_int(l, json_array_get(nks, 0), "index", 0, MESH_KEY_IDX_MAX, &idx0);
		r = r ? r : get_key(l, json_array_get(nks, 0), "key", nk0);
		l->at = NULL;
	}
	r = r ? r : parts_build(d, p);
	if (!r) {
		e = mesh_node_provision(p->node, (uint16_t)addr, dk, (uint16_t)idx0, nk0,
					(uint32_t)iv, ivu ? 0x02 : 0x00, d->now);
		r = e ? refused(l, "iv_index", e) : 0;
	}
	mesh_crypto_wipe(dk, sizeof(dk));
	mesh_crypto_wipe(nk0, sizeof(nk0));
	r = r ? r : load_netkeys(l, p->node, nks);
	r = r ? r : load_appkeys(l, p->node, json_object_get(st, "app_keys"));
	r = r ? r : load_keys_phase2(l, p->node, nks);
	if (!r && has_cand) {
		mesh_node_devkey_candidate(p->node, cand);
	}
	mesh_crypto_wipe(cand, sizeof(cand));
	if (!r && mesh_net_seq_set(mesh_node_net(p->node), (uint32_t)seq)) {
		r = bad(l, "seq", "refused");
	}
	r = r ? r : load_config(l, d, p->node, st);
	r = r ? r : load_hb(l, p->srv, json_object_get(st, "heartbeat"));
	a = json_object_get(st, "models");
	if (!r && !json_is_array(a)) {
		r = bad(l, "models", "not an array");
	}
	json_array_foreach(a, i, m)
	{
		char at[64];

		if (r) {
			break;
		}
		l->at = NULL;
		(void)at_enter(l, at, sizeof(at), "models", i);
		r = load_model(l, p, m);
		l->at = NULL;
	}
	if (!r) {
		d->seq_reserved = (uint32_t)seq;
	}
	return r;
}

static int load_page128(struct ld *l, struct ndev *d, json_t *st, uint8_t *page, size_t *len)
{
	struct mesh_comp *c;
	int r;

	if (!json_object_get(st, "page128")) {
		/* None stored: the device has what its scenario gives it. */
		*len = 0;
		return d->cfg->has_comp128
			   ? build_comp(&d->cfg->comp128, page, MESH_COMP_DATA_MAX, len)
			   : 0;
	}
	r = get_hex(l, st, "page128", page, MESH_COMP_DATA_MAX, false, len);
	if (r) {
		return r;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	/* Page 128 has the layout of page 0 (§4.2.2.x). */
	r = mesh_comp_parse(page, *len, c);
	free(c);
	return r ? bad(l, "page128", "not Composition Data") : 0;
}

/*
 * The composition a Composition Refresh gave the device ("page0"), or the
 * scenario's when there is none; parsed into *comp.
 */
static int load_page0(struct ld *l, struct ndev *d, json_t *st, uint8_t *page, size_t *len,
		      struct mesh_comp *comp)
{
	int r;

	if (!json_object_get(st, "page0")) {
		*len = 0;
		return scenario_comp(d->cfg, comp);
	}
	r = get_hex(l, st, "page0", page, MESH_COMP_DATA_MAX, false, len);
	if (!r && (mesh_comp_parse(page, *len, comp) || comp->n_elems > SIM_SCN_ELEMENTS_MAX)) {
		r = bad(l, "page0", "not Composition Data");
	}
	return r;
}

static int ndev_load(void *p, json_t *st, uint64_t now_us)
{
	static const char *const keys[] = {"provisioned",
					   "addr",
					   "elements",
					   "dev_key",
					   "dev_key_candidate",
					   "iv_index",
					   "iv_update",
					   "seq",
					   "net_keys",
					   "app_keys",
					   "default_ttl",
					   "relay",
					   "relay_retransmit",
					   "beacon",
					   "net_transmit",
					   "heartbeat",
					   "models",
					   "page128",
					   "page0",
					   NULL};
	struct ndev *d = p;
	struct ld l = {.err = d->state_err};
	struct nparts parts = {0};
	uint8_t page[MESH_COMP_DATA_MAX], old[MESH_COMP_DATA_MAX];
	uint8_t p0[MESH_COMP_DATA_MAX], old0[MESH_COMP_DATA_MAX];
	size_t page_len = 0, old_len = d->page128_len, p0_len = 0, old0_len = d->page0_len;
	struct mesh_comp *comp = calloc(1, sizeof(*comp)), *old_comp = d->comp;
	bool prov = false, changed;
	int r = comp ? 0 : -ENOMEM;

	memcpy(old, d->page128, old_len);
	memcpy(old0, d->page0, old0_len);
	d->now = now_us / 1000;
	d->state_err[0] = '\0';
	r = r ? r : only(&l, st, keys);
	r = r ? r : get_bool(&l, st, "provisioned", &prov);
	r = r ? r : load_page128(&l, d, st, page, &page_len);
	r = r ? r : load_page0(&l, d, st, p0, &p0_len, comp);
	if (!r && !prov &&
	    json_object_size(st) > 1u + (json_object_get(st, "page128") != NULL) +
				       (json_object_get(st, "page0") != NULL)) {
		r = bad(&l, "state", "an unprovisioned device stores nothing else");
	}
	changed = !r && (p0_len != old0_len || memcmp(p0, old0, p0_len) != 0);
	if (!r) {
		/* parts_build() gives cfg_srv the page that is being loaded, and its composition.
		 */
		memcpy(d->page128, page, page_len);
		d->page128_len = page_len;
		memcpy(d->page0, p0, p0_len);
		d->page0_len = p0_len;
		d->comp = comp;
	}
	r = r || !prov ? r : load_node(&l, d, st, &parts);
	if (r) {
		char text[SIM_WORLD_TEXT_MAX + 1];

		parts_free(&parts);
		memcpy(d->page128, old, old_len);
		d->page128_len = old_len;
		memcpy(d->page0, old0, old0_len);
		d->page0_len = old0_len;
		d->comp = old_comp;
		free(comp);
		if (!d->state_err[0]) {
			snprintf(d->state_err, sizeof(d->state_err), "%s", strerror(-r));
		}
		snprintf(text, sizeof(text), "state refused: %.47s", d->state_err);
		sim_world_display(d->w, d->dev, text, now_us);
		return r;
	}
	free(old_comp);
	if (prov) {
		parts_install(d, &parts);
		prov_adv_free(d->pa);
		d->pa = NULL;
		d->pa_retire = UINT64_MAX;
		d->next_ubeacon = UINT64_MAX;
	} else if (d->node || changed) {
		/* The flash says unprovisioned: what a Node Reset leaves (see ndev_tick()). */
		node_free(d);
		prov_adv_free(d->pa);
		d->pa = NULL;
		r = unprov_start(d);
	}
	d->reset_pending = false;
	d->input_wait = d->input_wait && d->pa;
	return r;
}

/* --- Composition Refresh and power cycles ------------------------------------ */

/* Wipe the strings of a state document (keys in hex) before dropping it. */
static void json_wipe(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		mesh_crypto_wipe((char *)json_string_value(j), json_string_length(j));
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
		{
			json_wipe(v);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			json_wipe(v);
		}
	}
}

static void json_wipe_decref(json_t *j)
{
	json_wipe(j);
	json_decref(j);
}

/*
 * Node Composition Refresh took effect (§3.11.8.4): page 128 becomes page
 * 0 and the node is rebuilt with its elements and models.  What carries
 * over is what the refresh does not touch: the primary address, the new
 * DevKey, NetKeys (with Key Refresh phases), AppKeys, IV Index, SEQ (from
 * the reserved block: a number is never sent twice), Default TTL, Relay,
 * Secure Network Beacon, Network Transmit and heartbeat states.  Model
 * states (AppKey bindings, subscriptions, publications, OnOff) are not
 * kept: the models are those of a new composition, and the Configuration
 * Client re-configures them per the node's profile after the refresh, as
 * it does after provisioning.  Page 128 is gone afterwards (Composition
 * Data Get 128 answers page 0).  Runs from a tick, never inside the
 * server's callback: the old node is freed here.
 */
static void comp_refresh(struct ndev *d)
{
	struct ld l = {.err = d->state_err};
	struct nparts parts = {0};
	struct mesh_comp *nc = calloc(1, sizeof(*nc)), *oc = d->comp;
	uint8_t o128[MESH_COMP_DATA_MAX], o0[MESH_COMP_DATA_MAX];
	size_t o128_len = d->page128_len, o0_len = d->page0_len;
	json_t *st = json_object();
	int r = nc && st ? 0 : -ENOMEM;

	d->refresh_pending = false;
	memcpy(o128, d->page128, o128_len);
	memcpy(o0, d->page0, o0_len);
	r = r ? r : mesh_comp_parse(d->page128, d->page128_len, nc);
	if (!r && nc->n_elems > SIM_SCN_ELEMENTS_MAX) {
		r = -ERANGE;
	}
	r = r || !d->node ? r : save_node(d, st);
	r = r ? r : put(st, "models", json_array());
	r = r ? r : put_int(st, "elements", (json_int_t)nc->n_elems);
	if (!r && !(nc->features & MESH_FEAT_RELAY)) {
		r = put(st, "relay", json_false());
	}
	if (!r) {
		memcpy(d->page0, o128, o128_len);
		d->page0_len = o128_len;
		d->page128_len = 0;
		d->comp = nc;
		r = load_node(&l, d, st, &parts);
	}
	if (r) {
		char text[SIM_WORLD_TEXT_MAX + 1];

		/* The node stays as it was (with its new DevKey), page 128 still pending. */
		parts_free(&parts);
		memcpy(d->page128, o128, o128_len);
		d->page128_len = o128_len;
		memcpy(d->page0, o0, o0_len);
		d->page0_len = o0_len;
		d->comp = oc;
		free(nc);
		snprintf(text, sizeof(text), "composition refresh failed: %.30s",
			 d->state_err[0] ? d->state_err : strerror(-r));
		sim_world_display(d->w, d->dev, text, d->now * 1000);
	} else {
		parts_install(d, &parts);
		free(oc);
	}
	json_wipe_decref(st);
}

/*
 * "power on" after "power off": a power cycle.  What was in RAM is lost (a
 * provisioning session, a Remote Provisioning link, segmented messages in
 * flight); the device starts again from its flash, i.e. its saved state.
 */
static int power_on(struct ndev *d)
{
	json_t *st;
	int r;

	d->off = false;
	if (d->refresh_pending) {
		comp_refresh(d);
	}
	if (!d->node || d->reset_pending) {
		d->reset_pending = false;
		node_free(d);
		prov_adv_free(d->pa);
		d->pa = NULL;
		d->input_wait = false;
		r = unprov_start(d);
		if (!r) {
			d->next_ubeacon = d->now;
		}
		return r;
	}
	st = ndev_save(d);
	if (!st) {
		return -ENOMEM;
	}
	r = ndev_load(d, st, d->now * 1000);
	json_wipe_decref(st);
	return r;
}

const struct sim_device_ops sim_node_kind = {
    .kind = "node",
    .create = ndev_create,
    .free = ndev_free,
    .rx = ndev_rx,
    .next_deadline = ndev_deadline,
    .tick = ndev_tick,
    .ctl = ndev_ctl,
    .save = ndev_save,
    .load = ndev_load,
};

bool sim_node_provisioned(const void *p)
{
	return ((const struct ndev *)p)->node != NULL;
}

uint16_t sim_node_addr(const void *p)
{
	const struct ndev *d = p;

	return d->node ? mesh_node_primary(d->node) : 0;
}

bool sim_node_onoff(const void *p, uint8_t elem)
{
	const struct ndev *d = p;

	return elem < ONOFF_MAX && d->onoff[elem] && onoff_srv_get(d->onoff[elem]);
}

struct mesh_node *sim_node_mesh(void *p)
{
	return ((struct ndev *)p)->node;
}

const char *sim_node_state_error(const void *p)
{
	return ((const struct ndev *)p)->state_err;
}
