/*
 * sim/node_save.c, node_load.c: devices provisioned and configured over the
 * simulated air by a test-side gateway (mesh/ provisioner, Config Client,
 * Generic OnOff client) keep their state across a meshsim restart (world
 * freed, a new world built from the same scenario, state loaded), and refuse
 * malformed state without changing.  Virtual time throughout.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/cfg_cli.h"
#include "mesh/client.h"
#include "mesh/crypto.h"
#include "mesh/onoff_msg.h"
#include "mesh/prov_adv.h"
#include "sim/loop.h"
#include "sim/node_dev.h"
#include "tests/util/tv.h"

#define MAXDEV 8

static const struct sim_device_ops *const kinds[] = {&sim_node_kind};

static struct {
	struct sim_scenario *scn;
	struct sim_world *w;
	uint32_t pid; /* the gateway on the current world's air */
	uint64_t now_us;
	uint64_t rng;
	struct prov_adv *pa;
	struct mesh_node *node;
	struct cfg_cli *cfg;
	struct mesh_cli *onoff;
	uint16_t addr[MAXDEV];
	struct mesh_utp_key devkey[MAXDEV];
	int n_keys, prov_done, prov_failed;
} G;

static const uint8_t net_key[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				    0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00};
static const uint8_t app_key[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
				    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
/* Label UUID of a virtual address (any 16 octets are one, §3.4.2.3). */
static const uint8_t label[16] = {0xf4, 0xa0, 0x02, 0xc7, 0xfb, 0x1e, 0x4c, 0xa0,
				  0xa4, 0x69, 0xa0, 0x21, 0xde, 0x0d, 0xb8, 0x75};

static uint64_t now_ms(void)
{
	return G.now_us / 1000;
}

/* --- the test gateway --------------------------------------------------- */

static void gw_rx(void *ctx, const struct sim_air_rx *rx)
{
	(void)ctx;
	if (rx->ad_type == MESH_AD_PB_ADV) {
		(void)prov_adv_rx(G.pa, rx->data, rx->len, rx->time_us / 1000);
	} else {
		(void)mesh_node_rx_adv(G.node, rx->ad_type, rx->data, rx->len, rx->time_us / 1000);
	}
}

static void pa_adv(void *ctx, const uint8_t *d, size_t len)
{
	(void)ctx;
	(void)sim_air_send(sim_world_air(G.w), G.pid, MESH_AD_PB_ADV, d, len, 1, 0, G.now_us);
}

static int node_adv(void *ctx, uint8_t t, const uint8_t *d, size_t len, uint8_t count,
		    uint16_t interval)
{
	(void)ctx;
	return sim_air_send(sim_world_air(G.w), G.pid, t, d, len, count, interval, G.now_us);
}

static size_t gw_dev_keys(void *ctx, uint16_t addr, const struct mesh_utp_key **out, size_t max)
{
	int i;

	(void)ctx;
	for (i = 0; i < G.n_keys && max; i++) {
		if (addr >= G.addr[i] && addr < G.addr[i] + 4) {
			out[0] = &G.devkey[i];
			return 1;
		}
	}
	return 0;
}

static void pa_done(void *ctx, uint32_t h, const struct prov_result *res)
{
	(void)ctx;
	(void)h;
	G.prov_done++;
	G.addr[G.n_keys] = res->data.unicast;
	mesh_utp_key_init(&G.devkey[G.n_keys], MESH_APP_IDX_DEV, res->dev_key, false);
	G.n_keys++;
}

static void pa_failed(void *ctx, uint32_t h, int err, uint8_t prov_err)
{
	(void)ctx;
	(void)h;
	(void)err;
	(void)prov_err;
	G.prov_failed++;
}

/* A world with every scenario device, and the gateway placed on its air. */
static struct sim_world *world_new(void)
{
	struct sim_world *w = sim_world_new(G.scn->seed, &G.scn->air, kinds, 1);
	struct sim_pos pos = G.scn->native_pos;

	cr_assert_not_null(w);
	for (size_t i = 0; i < G.scn->n_devices; i++) {
		unsigned dev;

		cr_assert_eq(sim_world_add_device(w, &G.scn->devices[i], G.now_us, &dev), 0);
	}
	cr_assert_eq(sim_air_add(sim_world_air(w), &pos, "gateway", gw_rx, NULL, &G.pid), 0);
	return w;
}

static void setup(void)
{
	struct prov_adv_ops po = {.adv_send = pa_adv, .done = pa_done, .failed = pa_failed};
	struct pb_adv_cfg pc = {0};
	struct mesh_rng rng = {tv_rng, &G.rng};
	struct mesh_node_config nc;
	struct mesh_node_ops no = {.adv_send = node_adv, .dev_keys = gw_dev_keys};
	static const uint32_t onoff_st[] = {ONOFF_OP_STATUS};
	struct mesh_model_id cli = {.vendor = false, .id = 0x1001};
	char err[256];

	memset(&G, 0, sizeof(G));
	G.rng = 77;
	G.now_us = 1000000;
	cr_assert_eq(sim_scenario_load(MESHGW_SOURCE_DIR "/sim/scenarios/small.json", &G.scn, err,
				       sizeof(err)),
		     0, "%s", err);
	G.w = world_new();
	G.pa = prov_adv_new(&pc, NULL, &po, &rng);
	cr_assert_not_null(G.pa);
	mesh_node_config_default(&nc);
	nc.beacon_interval_ms = 0;
	G.node = mesh_node_new(&nc, &no, &rng, now_ms());
	mesh_acc_elem_add(mesh_node_acc(G.node), 0);
	G.cfg = cfg_cli_new(G.node);
	G.onoff = mesh_cli_new(G.node, 0, cli, false, onoff_st, 1, NULL, NULL);
	cr_assert_not_null(G.onoff);
	cr_assert_eq(mesh_node_provision(G.node, 0x0001, net_key, 0, net_key, 0, 0, now_ms()), 0);
	cr_assert_eq(mesh_node_appkey_add(G.node, 0, 0, app_key), 0);
	cr_assert_eq(mesh_acc_model_bind(mesh_cli_model(G.onoff), 0), 0);
}

static void teardown(void)
{
	mesh_cli_free(G.onoff);
	cfg_cli_free(G.cfg);
	mesh_node_free(G.node);
	prov_adv_free(G.pa);
	sim_world_free(G.w);
	sim_scenario_free(G.scn);
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Advance virtual time until *flag >= want (or limit_ms of simulated time). */
static bool run(const int *flag, int want, uint64_t limit_ms)
{
	uint64_t end = G.now_us + limit_ms * 1000;

	while (!flag || *flag < want) {
		uint64_t t = sim_world_next_deadline(G.w), g;

		g = min64(prov_adv_next_deadline(G.pa), mesh_node_next_deadline(G.node));
		g = min64(g, min64(cfg_cli_next_deadline(G.cfg), mesh_cli_next_deadline(G.onoff)));
		if (g != UINT64_MAX && g * 1000 < t) {
			t = g * 1000;
		}
		if (t == UINT64_MAX || t > end) {
			G.now_us = end;
			break;
		}
		G.now_us = t > G.now_us ? t : G.now_us;
		sim_world_tick(G.w, G.now_us);
		prov_adv_tick(G.pa, now_ms());
		mesh_node_tick(G.node, now_ms());
		cfg_cli_tick(G.cfg, now_ms());
		mesh_cli_tick(G.onoff, now_ms());
	}
	return !flag || *flag >= want;
}

static unsigned dev_index(const char *name)
{
	for (size_t i = 0; i < G.scn->n_devices; i++) {
		if (strcmp(G.scn->devices[i].name, name) == 0) {
			return (unsigned)i;
		}
	}
	cr_assert_fail("no device %s", name);
	return 0;
}

static void *dev(const char *name)
{
	return sim_world_device(G.w, dev_index(name));
}

/* Provision a device over PB-ADV (No OOB, or its static OOB when it has one). */
static void provision(const char *name, uint16_t unicast)
{
	const struct sim_scn_device *d = &G.scn->devices[dev_index(name)];
	struct prov_cfg c = {0};
	uint32_t h;
	int before = G.prov_done;

	c.role = PROV_ROLE_PROVISIONER;
	c.auth_method = d->static_oob_len ? PROV_AUTH_STATIC : PROV_AUTH_NO_OOB;
	memcpy(c.static_oob, d->static_oob, d->static_oob_len);
	c.static_oob_len = (uint8_t)d->static_oob_len;
	memcpy(c.data.net_key, net_key, 16);
	c.data.unicast = unicast;
	cr_assert_eq(prov_adv_provision(G.pa, d->uuid, &c, now_ms(), &h), 0);
	cr_assert(run(&G.prov_done, before + 1, 120000), "%s: not provisioned", name);
	run(NULL, 0, 2000);
	cr_assert_eq(sim_node_addr(dev(name)), unicast);
}

struct answer {
	int done, err;
	struct cfg_msg m;
};

static void on_cfg(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct answer *a = ctx;

	(void)src;
	a->done++;
	a->err = err;
	if (rsp) {
		a->m = *rsp;
	}
}

/* A Config request under the device key the gateway got at provisioning; err is its outcome. */
static struct answer cfg_try(uint16_t dst, const struct cfg_msg *req)
{
	struct answer a = {0};

	cr_assert_eq(cfg_cli_request(G.cfg, 0, dst, NULL, req, 10000, 2000, on_cfg, &a, now_ms()),
		     0);
	cr_assert(run(&a.done, 1, 30000));
	return a;
}

static struct answer cfg(uint16_t dst, const struct cfg_msg *req)
{
	struct answer a = cfg_try(dst, req);

	cr_assert_eq(a.err, 0, "config request 0x%x: %d", (unsigned)req->op, a.err);
	return a;
}

struct onoff_answer {
	int done, err;
	uint8_t present;
};

static void on_onoff(void *ctx, int err, const struct mesh_acc_msg *rsp)
{
	struct onoff_answer *a = ctx;
	struct onoff_status st;

	a->done++;
	a->err = err;
	if (rsp && onoff_msg_status_decode(rsp->params, rsp->len, &st) == 0) {
		a->present = st.present;
	}
}

/* Generic OnOff Set (set 0/1) or Get (set < 0) under AppKey 0; returns Present OnOff. */
static uint8_t onoff(uint16_t dst, int set, uint8_t tid)
{
	struct onoff_answer a = {0};
	struct mesh_node_msg m = {.app_idx = 0, .dst = dst, .ttl = MESH_TTL_DEFAULT};
	uint8_t p[4];
	size_t len = 0;

	if (set >= 0) {
		struct onoff_set s = {.onoff = (uint8_t)set, .tid = tid};

		cr_assert_eq(onoff_msg_set_encode(&s, p, sizeof(p), &len), 0);
		m.opcode = ONOFF_OP_SET;
	} else {
		m.opcode = ONOFF_OP_GET;
	}
	m.params = p;
	m.len = len;
	cr_assert_eq(
	    mesh_cli_request(G.onoff, &m, ONOFF_OP_STATUS, 10000, 2000, on_onoff, &a, now_ms()), 0);
	cr_assert(run(&a.done, 1, 30000));
	cr_assert_eq(a.err, 0);
	return a.present;
}

/*
 * AppKey 0, OnOff server of element 0 bound and subscribed to a group and a
 * virtual address and publishing, OnOff of element 1 on, Default TTL 9,
 * heartbeat publication set, light switched on.
 */
static void configure(uint16_t a)
{
	struct cfg_msg q = {.op = CFG_OP_APPKEY_ADD};
	struct cfg_model_id id = {.id = 0x1000};

	memcpy(q.appkey.key, app_key, 16);
	cr_assert_eq(cfg(a, &q).m.appkey.status, CFG_STATUS_SUCCESS);
	for (uint16_t e = 0; e < 2; e++) {
		memset(&q, 0, sizeof(q));
		q.op = CFG_OP_MODEL_APP_BIND;
		q.model_app.elem_addr = (uint16_t)(a + e);
		q.model_app.model = id;
		cr_assert_eq(cfg(a, &q).m.model_app.status, CFG_STATUS_SUCCESS);
	}
	memset(&q, 0, sizeof(q));
	q.op = CFG_OP_MODEL_SUB_ADD;
	q.model_sub.elem_addr = a;
	q.model_sub.addr = 0xc005;
	q.model_sub.model = id;
	cr_assert_eq(cfg(a, &q).m.model_sub.status, CFG_STATUS_SUCCESS);
	q.op = CFG_OP_MODEL_SUB_VA_ADD;
	memcpy(q.model_sub.label, label, 16);
	cr_assert_eq(cfg(a, &q).m.model_sub.status, CFG_STATUS_SUCCESS);
	memset(&q, 0, sizeof(q));
	q.op = CFG_OP_MODEL_PUB_SET;
	q.model_pub.elem_addr = a;
	q.model_pub.pub_addr = 0xc007;
	q.model_pub.ttl = 6;
	q.model_pub.period = 0x41;
	q.model_pub.retransmit = 0x11;
	q.model_pub.model = id;
	cr_assert_eq(cfg(a, &q).m.model_pub.status, CFG_STATUS_SUCCESS);
	memset(&q, 0, sizeof(q));
	q.op = CFG_OP_DEFAULT_TTL_SET;
	q.state.val = 9;
	cr_assert_eq(cfg(a, &q).m.state.val, 9);
	memset(&q, 0, sizeof(q));
	q.op = CFG_OP_HB_PUB_SET;
	q.hb_pub.dst = 0x0001;
	q.hb_pub.count_log = 0x03;
	q.hb_pub.period_log = 0x04;
	q.hb_pub.ttl = 5;
	q.hb_pub.features = 0x0001;
	cr_assert_eq(cfg(a, &q).m.hb_pub.status, CFG_STATUS_SUCCESS);
	cr_assert_eq(onoff(a, 1, 1), 1);
	cr_assert_eq(onoff((uint16_t)(a + 1), 1, 2), 1);
	cr_assert_eq(onoff((uint16_t)(a + 1), 0, 3), 0);
}

/* The configuration above, read back over the air. */
static void check_configured(uint16_t a)
{
	struct cfg_msg q = {.op = CFG_OP_SIG_MODEL_APP_GET};
	struct answer r;

	q.model_ref.elem_addr = a;
	q.model_ref.model.id = 0x1000;
	r = cfg(a, &q);
	cr_assert_eq(r.m.model_list.status, CFG_STATUS_SUCCESS);
	cr_assert_eq(r.m.model_list.n, 1);
	cr_assert_eq(r.m.model_list.items[0], 0);
	q.op = CFG_OP_SIG_MODEL_SUB_GET;
	r = cfg(a, &q);
	cr_assert_eq(r.m.model_list.n, 2);
	cr_assert_eq(r.m.model_list.items[0], 0xc005);
	cr_assert(mesh_addr_is_virtual(r.m.model_list.items[1]));
	q.op = CFG_OP_MODEL_PUB_GET;
	r = cfg(a, &q);
	cr_assert_eq(r.m.model_pub.pub_addr, 0xc007);
	cr_assert_eq(r.m.model_pub.ttl, 6);
	cr_assert_eq(r.m.model_pub.period, 0x41);
	cr_assert_eq(r.m.model_pub.retransmit, 0x11);
	memset(&q, 0, sizeof(q));
	q.op = CFG_OP_DEFAULT_TTL_GET;
	cr_assert_eq(cfg(a, &q).m.state.val, 9);
	q.op = CFG_OP_HB_PUB_GET;
	r = cfg(a, &q);
	cr_assert_eq(r.m.hb_pub.dst, 0x0001);
	cr_assert_eq(r.m.hb_pub.count_log, 0x03);
	cr_assert_eq(r.m.hb_pub.period_log, 0x04);
	cr_assert_eq(r.m.hb_pub.features, 0x0001);
	cr_assert_eq(onoff(a, -1, 0), 1, "element 0 stays on");
	cr_assert_eq(onoff((uint16_t)(a + 1), -1, 0), 0, "element 1 stays off");
}

/* Free the world ("meshsim stops") and build the same scenario again, state loaded. */
static int restart(json_t *state)
{
	int r;

	sim_world_free(G.w);
	G.w = world_new();
	r = sim_world_load_json(G.w, state, G.now_us);
	run(NULL, 0, 1000);
	return r;
}

static uint32_t dev_seq(const char *name)
{
	return mesh_net_seq_get(mesh_node_net(sim_node_mesh(dev(name))));
}

static void hex16(const uint8_t b[16], char hex[33])
{
	for (int i = 0; i < 16; i++) {
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	}
}

/* The state of one device in a world's state; borrowed. */
static json_t *dev_state(json_t *all, const char *name)
{
	char hex[33];

	hex16(G.scn->devices[dev_index(name)].uuid, hex);
	return json_object_get(json_object_get(all, "devices"), hex);
}

/* A world state {"devices": {uuid: st}} holding only device `name`; st is borrowed. */
static json_t *world_state(const char *name, json_t *st)
{
	json_t *all = json_pack("{s{}}", "devices");
	char hex[33];

	hex16(G.scn->devices[dev_index(name)].uuid, hex);
	cr_assert_eq(json_object_set(json_object_get(all, "devices"), hex, st), 0);
	return all;
}

/*
 * The restart test: after save, world freed and reloaded, the devices are
 * provisioned at the same addresses, answer Config requests under the same
 * device keys (the gateway's), keep bindings, subscriptions, publication,
 * heartbeat, Default TTL and OnOff states, and their new messages pass the
 * gateway's replay protection (their sequence numbers moved on).
 */
Test(node_state, restart_keeps_provisioned_devices, .init = setup, .fini = teardown)
{
	json_t *saved, *again;
	uint32_t seq_before;

	provision("light-noob", 0x0100);
	provision("light-static16", 0x0110);
	configure(0x0100);
	seq_before = dev_seq("light-noob");
	cr_assert_gt(seq_before, 10, "the device has sent answers");
	saved = sim_world_save_json(G.w);
	cr_assert_not_null(saved);
	/* The saved device key is the one the provisioner derived (§5.4.2.5). */
	{
		json_t *st = dev_state(saved, "light-noob");
		char hex[33];

		hex16(G.devkey[0].key, hex);
		cr_assert_str_eq(json_string_value(json_object_get(st, "dev_key")), hex);
		cr_assert(json_is_true(json_object_get(st, "provisioned")));
		cr_assert_geq(json_integer_value(json_object_get(st, "seq")), seq_before);
	}

	cr_assert_eq(restart(saved), 0);
	cr_assert(sim_node_provisioned(dev("light-noob")));
	cr_assert(sim_node_provisioned(dev("light-static16")));
	cr_assert_not(sim_node_provisioned(dev("sensor-static32")));
	cr_assert_eq(sim_node_addr(dev("light-noob")), 0x0100);
	cr_assert_eq(sim_node_addr(dev("light-static16")), 0x0110);
	cr_assert(sim_node_onoff(dev("light-noob"), 0));
	cr_assert_gt(dev_seq("light-noob"), seq_before, "no sequence number is used twice");
	check_configured(0x0100);
	/* The second device has its own device key and no AppKey yet. */
	{
		struct cfg_msg q = {.op = CFG_OP_APPKEY_GET};
		struct answer r = cfg(0x0110, &q);

		cr_assert_eq(r.m.idx_list.status, CFG_STATUS_SUCCESS);
		cr_assert_eq(r.m.idx_list.n, 0);
	}
	/* Save after load, load again: the same state (nothing lost or invented). */
	again = sim_world_save_json(G.w);
	cr_assert_eq(restart(again), 0);
	check_configured(0x0100);
	json_decref(again);
	json_decref(saved);
}

/*
 * The replay protection check above can fail: a state whose sequence number
 * went back makes the device's answers replays, which the gateway drops.
 */
Test(node_state, rewound_sequence_number_is_rejected_by_the_gateway, .init = setup,
     .fini = teardown)
{
	struct cfg_msg q = {.op = CFG_OP_DEFAULT_TTL_GET};
	json_t *saved;

	provision("light-noob", 0x0100);
	configure(0x0100);
	saved = sim_world_save_json(G.w);
	json_object_set_new(dev_state(saved, "light-noob"), "seq", json_integer(0));
	cr_assert_eq(restart(saved), 0);
	cr_assert_eq(cfg_try(0x0100, &q).err, -ETIMEDOUT);
	json_decref(saved);
}

/*
 * Key Refresh phase 2 with an updated AppKey, a device key candidate, an IV
 * Update in progress and relay off survive save and load unchanged: the
 * second save equals the first, and the node reports the same states.
 */
Test(node_state, key_refresh_and_iv_update_round_trip, .init = setup, .fini = teardown)
{
	static const uint8_t nk2[16] = {0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
					0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x20};
	static const uint8_t ak2[16] = {0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
					0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf};
	static const uint8_t cand[16] = {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
					 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf};
	struct mesh_node *n;
	struct mesh_node_netkey k;
	struct mesh_node_appkey a;
	uint8_t got[16];
	uint32_t iv;
	bool ivu;
	json_t *s1, *s2;

	provision("light-noob", 0x0100);
	configure(0x0100);
	n = sim_node_mesh(dev("light-noob"));
	cr_assert_eq(mesh_node_netkey_add(n, 5, net_key), 0);
	cr_assert_eq(mesh_node_netkey_update(n, 0, nk2), 0);
	cr_assert_eq(mesh_node_appkey_update(n, 0, 0, ak2), 0);
	cr_assert_eq(mesh_node_kr_transition(n, 0, 2), 0);
	mesh_node_devkey_candidate(n, cand);
	cr_assert_eq(mesh_net_iv_set(mesh_node_net(n), 7, true, now_ms()), 0);
	mesh_node_relay_set(n, false, 0x22);
	s1 = sim_world_save_json(G.w);

	cr_assert_eq(restart(s1), 0);
	n = sim_node_mesh(dev("light-noob"));
	cr_assert_eq(mesh_node_netkey_count(n), 2);
	cr_assert_eq(mesh_node_netkey_at(n, 0, &k), 0);
	cr_assert_eq(k.net_idx, 0);
	cr_assert_eq(k.phase, 2);
	cr_assert_arr_eq(k.key, net_key, 16);
	cr_assert_arr_eq(k.new_key, nk2, 16);
	cr_assert_eq(mesh_node_appkey_at(n, 0, &a), 0);
	cr_assert(a.has_new);
	cr_assert_arr_eq(a.key, app_key, 16);
	cr_assert_arr_eq(a.new_key, ak2, 16);
	cr_assert_eq(mesh_node_devkey_candidate_get(n, got), 0);
	cr_assert_arr_eq(got, cand, 16);
	mesh_net_iv_get(mesh_node_net(n), &iv, &ivu);
	cr_assert_eq(iv, 7);
	cr_assert(ivu);
	cr_assert_not(mesh_node_config(n)->relay);
	cr_assert_eq(mesh_node_config(n)->relay_xmit, 0x22);
	s2 = sim_world_save_json(G.w);
	cr_assert(json_equal(s1, s2), "save(load(save)) == save");
	json_decref(s1);
	json_decref(s2);
}

/* --- malformed state ------------------------------------------------------- */

/* A copy of the saved state of light-noob with member `key` replaced (NULL: removed). */
static json_t *mutate(json_t *st, const char *key, json_t *v)
{
	json_t *c = json_deep_copy(st);

	if (v) {
		json_object_set_new(c, key, v);
	} else {
		json_object_del(c, key);
	}
	return c;
}

/* Same, for a member of the first element of array member `arr`. */
static json_t *mutate_item(json_t *st, const char *arr, const char *key, json_t *v)
{
	json_t *c = json_deep_copy(st), *o = json_array_get(json_object_get(c, arr), 0);

	if (v) {
		json_object_set_new(o, key, v);
	} else {
		json_object_del(o, key);
	}
	return c;
}

/*
 * Every malformed state is refused with a message naming the field: an
 * unprovisioned device stays unprovisioned, a provisioned one keeps exactly
 * its state (its next save is unchanged) and still answers the gateway.
 */
Test(node_state, malformed_state_refused_and_device_unchanged, .init = setup, .fini = teardown)
{
	json_t *saved, *st, *ref, *bad[40];
	const char *what[40];
	size_t n = 0, i;
	uint8_t lab[16];

	provision("light-noob", 0x0100);
	configure(0x0100);
	saved = sim_world_save_json(G.w);
	st = dev_state(saved, "light-noob");
	cr_assert_not_null(st);
	memcpy(lab, label, 16);
	lab[0] ^= 1;

#define BAD(why, j)                                                                                \
	do {                                                                                       \
		what[n] = why;                                                                     \
		bad[n++] = (j);                                                                    \
	} while (0)
	BAD("not an object", json_string("x"));
	BAD("unknown member", mutate(st, "flash", json_true()));
	BAD("provisioned not boolean", mutate(st, "provisioned", json_integer(1)));
	BAD("provisioned missing", mutate(st, "provisioned", NULL));
	BAD("unprovisioned with keys", mutate(st, "provisioned", json_false()));
	BAD("addr 0", mutate(st, "addr", json_integer(0)));
	BAD("addr group", mutate(st, "addr", json_integer(0xc000)));
	BAD("addr as string", mutate(st, "addr", json_string("0x0100")));
	BAD("elements past 0x7fff", mutate(st, "addr", json_integer(0x7fff)));
	BAD("elements differ from the scenario", mutate(st, "elements", json_integer(3)));
	BAD("dev_key short", mutate(st, "dev_key", json_string("00112233")));
	BAD("dev_key not hex",
	    mutate(st, "dev_key", json_string("zz112233445566778899aabbccddeeff")));
	BAD("dev_key missing", mutate(st, "dev_key", NULL));
	BAD("candidate odd length", mutate(st, "dev_key_candidate", json_string("001")));
	BAD("iv_index negative", mutate(st, "iv_index", json_integer(-1)));
	BAD("iv_index too big", mutate(st, "iv_index", json_integer(0x100000000ll)));
	BAD("IV Update at index 0", mutate(st, "iv_update", json_true()));
	BAD("seq past 24 bits", mutate(st, "seq", json_integer(0x1000001)));
	BAD("no NetKey", mutate(st, "net_keys", json_array()));
	BAD("net_keys not array", mutate(st, "net_keys", json_object()));
	BAD("phase 3", mutate_item(st, "net_keys", "phase", json_integer(3)));
	BAD("phase 1 without new key", mutate_item(st, "net_keys", "phase", json_integer(1)));
	BAD("new key in phase 0", mutate_item(st, "net_keys", "new_key",
					      json_string("00112233445566778899aabbccddeeff")));
	BAD("NetKey index 0x1000", mutate_item(st, "net_keys", "index", json_integer(0x1000)));
	BAD("AppKey on unknown NetKey", mutate_item(st, "app_keys", "net_index", json_integer(9)));
	BAD("AppKey new key outside Key Refresh",
	    mutate_item(st, "app_keys", "new_key",
			json_string("00112233445566778899aabbccddeeff")));
	BAD("bind to unknown AppKey", mutate_item(st, "models", "bind", json_pack("[i]", 7)));
	BAD("subscription to a unicast address",
	    mutate_item(st, "models", "subs", json_pack("[{si}]", "addr", 0x0005)));
	BAD("subscription label short",
	    mutate_item(st, "models", "subs", json_pack("[{ss}]", "label", "00")));
	BAD("model not on the element", mutate_item(st, "models", "id", json_integer(0x1307)));
	BAD("element out of range", mutate_item(st, "models", "element", json_integer(2)));
	BAD("publication to a virtual address without its label",
	    mutate_item(st, "models", "pub",
			json_pack("{sisisbsisisi}", "addr", 0x8123, "app_index", 0, "cred", 0,
				  "ttl", 5, "period", 0, "retransmit", 0)));
	BAD("publication TTL 0x80",
	    mutate_item(st, "models", "pub",
			json_pack("{sisisbsisisi}", "addr", 0xc007, "app_index", 0, "cred", 0,
				  "ttl", 0x80, "period", 0, "retransmit", 0)));
	BAD("onoff as number", mutate_item(st, "models", "onoff", json_integer(1)));
	BAD("default TTL 1", mutate(st, "default_ttl", json_integer(1)));
	BAD("heartbeat count without destination",
	    mutate(st, "heartbeat",
		   json_pack("{s{sisisisisisi}s{sisisi}}", "pub", "dst", 0, "count_log", 2,
			     "period_log", 0, "ttl", 0, "features", 0, "net_index", 0, "sub", "src",
			     0, "dst", 0, "period_log", 0)));
	BAD("page128 not composition data", mutate(st, "page128", json_string("0001")));
	{
		/* A virtual publication whose label does not hash to its address. */
		uint16_t va;
		char hex[33];

		cr_assert_eq(mesh_crypto_virtual_addr(label, &va), 0);
		hex16(lab, hex);
		BAD("virtual publication label mismatch",
		    mutate_item(st, "models", "pub",
				json_pack("{sisssisbsisisi}", "addr", va, "label", hex, "app_index",
					  0, "cred", 0, "ttl", 5, "period", 0, "retransmit", 0)));
	}
	{
		/* The same NetKey Index twice. */
		json_t *c = json_deep_copy(st), *a = json_object_get(c, "net_keys");

		json_array_append_new(a, json_deep_copy(json_array_get(a, 0)));
		BAD("duplicate NetKey", c);
	}
#undef BAD
	cr_assert_lt(n, sizeof(bad) / sizeof(bad[0]));

	/* 1. Into a fresh world: the device stays unprovisioned. */
	sim_world_free(G.w);
	G.w = world_new();
	for (i = 0; i < n; i++) {
		json_t *all = world_state("light-noob", bad[i]);
		void *d = dev("light-noob");

		cr_assert_eq(sim_world_load_json(G.w, all, G.now_us), -EINVAL, "%s: accepted",
			     what[i]);
		cr_assert_not(sim_node_provisioned(d), "%s", what[i]);
		cr_assert_neq(sim_node_state_error(d)[0], '\0', "%s: no message", what[i]);
		json_decref(all);
	}

	/* 2. Into a provisioned device: nothing changes. */
	cr_assert_eq(sim_world_load_json(G.w, saved, G.now_us), 0);
	cr_assert_str_eq(sim_node_state_error(dev("light-noob")), "");
	ref = sim_world_save_json(G.w);
	for (i = 0; i < n; i++) {
		json_t *all = world_state("light-noob", bad[i]), *now;

		cr_assert_eq(sim_world_load_json(G.w, all, G.now_us), -EINVAL, "%s: accepted",
			     what[i]);
		now = sim_world_save_json(G.w);
		cr_assert(json_equal(now, ref), "%s: the device changed", what[i]);
		json_decref(now);
		json_decref(all);
	}
	check_configured(0x0100);

	for (i = 0; i < n; i++) {
		json_decref(bad[i]);
	}
	json_decref(ref);
	json_decref(saved);
}

/* The message names the offending field, e.g. "net_keys[0].phase: out of range". */
Test(node_state, error_names_the_field, .init = setup, .fini = teardown)
{
	json_t *saved, *c;

	provision("light-noob", 0x0100);
	saved = sim_world_save_json(G.w);
	c = mutate_item(dev_state(saved, "light-noob"), "net_keys", "phase", json_integer(3));
	cr_assert_eq(sim_node_kind.load(dev("light-noob"), c, G.now_us), -EINVAL);
	cr_assert_str_eq(sim_node_state_error(dev("light-noob")),
			 "net_keys[0].phase: out of range");
	json_decref(c);
	json_decref(saved);
}

/* An unprovisioned device saves {"provisioned": false}; loading it resets a provisioned one. */
Test(node_state, unprovisioned_state, .init = setup, .fini = teardown)
{
	json_t *saved, *st, *want = json_pack("{sb}", "provisioned", 0);

	saved = sim_world_save_json(G.w);
	st = json_incref(dev_state(saved, "light-noob"));
	cr_assert(json_equal(st, want));
	json_decref(want);
	provision("light-noob", 0x0100);
	cr_assert_eq(sim_node_kind.load(dev("light-noob"), st, G.now_us), 0);
	cr_assert_not(sim_node_provisioned(dev("light-noob")));
	/* ...and it is a fresh unprovisioned device again: it can be provisioned anew. */
	provision("light-noob", 0x0200);
	json_decref(st);
	json_decref(saved);
}

/* --- the meshsim process ----------------------------------------------------- */

/*
 * The loop writes the state file 0600 on "save" and on SIGTERM when it has
 * a state path, and what it wrote restores the devices.
 */
Test(node_state, loop_saves_0600_and_at_sigterm, .init = setup, .fini = teardown, .timeout = 30)
{
	char dir[] = "/tmp/simstate-XXXXXX", path[64], msg[128];
	struct sim_loop_opts o = {.time_scale = 1.0, .signals = true};
	struct sim_loop *l;
	struct stat sb;
	json_error_t je;
	json_t *saved, *file;
	int err, i;

	provision("light-noob", 0x0100);
	saved = sim_world_save_json(G.w);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	o.state_path = path;
	umask(022);
	/* A new meshsim process: a fresh world, state loaded at time 0, then the loop. */
	sim_world_free(G.w);
	G.w = world_new();
	cr_assert_eq(sim_world_load_json(G.w, saved, 0), 0);
	l = sim_loop_new(G.w, &o, &err);
	cr_assert_not_null(l, "%d", err);

	cr_assert_eq(sim_loop_save(l, NULL, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600, "mode %o", sb.st_mode & 0777);
	cr_assert_eq(unlink(path), 0);

	cr_assert_eq(raise(SIGTERM), 0);
	for (i = 0; i < 100 && !sim_loop_stopped(l); i++) {
		cr_assert_geq(sim_loop_run_once(l, 100), 0);
	}
	cr_assert(sim_loop_stopped(l));
	cr_assert_eq(stat(path, &sb), 0, "SIGTERM saved the state");
	cr_assert_eq(sb.st_mode & 0777, 0600);
	sim_loop_free(l);

	file = json_load_file(path, 0, &je);
	cr_assert_not_null(file, "%s", je.text);
	cr_assert(json_equal(dev_state(file, "light-noob"), dev_state(saved, "light-noob")));
	sim_world_free(G.w);
	G.w = world_new();
	cr_assert_eq(sim_world_load_json(G.w, file, G.now_us), 0);
	cr_assert_eq(sim_node_addr(dev("light-noob")), 0x0100);
	json_decref(file);
	json_decref(saved);
	unlink(path);
	rmdir(dir);
}
