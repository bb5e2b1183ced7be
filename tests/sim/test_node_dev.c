/*
 * sim/node_dev.c: meshsim's simulated devices driven over the simulated air
 * by a test-side gateway built from mesh/ (PB-ADV provisioner, Config
 * Client, Generic OnOff client), in virtual time.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mesh/cfg_cli.h"
#include "mesh/client.h"
#include "mesh/comp.h"
#include "mesh/onoff_msg.h"
#include "mesh/prov_adv.h"
#include "mesh/unprov_beacon.h"
#include "sim/loop.h"
#include "sim/node_dev.h"
#include "tests/util/tv.h"

#define MAXDEV 16

static const struct sim_device_ops *const kinds[] = {&sim_node_kind};

static struct {
	struct sim_scenario *scn;
	struct sim_world *w;
	uint32_t pid;
	uint64_t now_us;
	uint64_t rng;
	struct prov_adv *pa;
	struct mesh_node *node;
	struct cfg_cli *cfg;
	struct mesh_cli *onoff;
	/* device keys by primary address */
	uint16_t addr[MAXDEV];
	struct mesh_utp_key devkey[MAXDEV];
	int n_keys;
	/* results */
	int prov_done, prov_failed, prov_err;
	struct prov_result res;
	char shown[32]; /* what the last device displayed */
	char typed[32]; /* what the provisioner displayed for Input OOB */
	uint32_t wait_h;
	bool wait_output;
	int beacons_seen;
	uint8_t beacon_uuid[16];
} G;

static const uint8_t net_key[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				    0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00};
static const uint8_t app_key[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
				    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

static uint64_t now_ms(void)
{
	return G.now_us / 1000;
}

/* --- the test gateway on the air ---------------------------------------- */

static void gw_rx(void *ctx, const struct sim_air_rx *rx)
{
	struct unprov_beacon b;

	(void)ctx;
	if (rx->ad_type == MESH_AD_PB_ADV) {
		(void)prov_adv_rx(G.pa, rx->data, rx->len, rx->time_us / 1000);
	} else if (rx->ad_type == MESH_AD_BEACON &&
		   unprov_beacon_decode(rx->data, rx->len, &b) == 0) {
		G.beacons_seen++;
		memcpy(G.beacon_uuid, b.uuid, 16);
	} else {
		(void)mesh_node_rx_adv(G.node, rx->ad_type, rx->data, rx->len, rx->time_us / 1000);
	}
}

static void pa_adv(void *ctx, const uint8_t *d, size_t len)
{
	(void)ctx;
	cr_assert_eq(
	    sim_air_send(sim_world_air(G.w), G.pid, MESH_AD_PB_ADV, d, len, 1, 0, G.now_us), 0);
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
	for (i = 0; i < G.n_keys; i++) {
		if (addr >= G.addr[i] && addr < G.addr[i] + 4 && max) {
			out[0] = &G.devkey[i];
			return 1;
		}
	}
	return 0;
}

static void pa_output(void *ctx, uint32_t h, uint8_t action, const char *value)
{
	(void)ctx;
	(void)h;
	(void)action;
	snprintf(G.typed, sizeof(G.typed), "%s", value);
}

static void pa_input(void *ctx, uint32_t h, uint8_t action, uint8_t size)
{
	(void)ctx;
	(void)action;
	(void)size;
	G.wait_h = h;
	G.wait_output = true;
}

static void pa_done(void *ctx, uint32_t h, const struct prov_result *res)
{
	(void)ctx;
	(void)h;
	G.prov_done++;
	G.res = *res;
	G.addr[G.n_keys] = res->data.unicast;
	mesh_utp_key_init(&G.devkey[G.n_keys], MESH_APP_IDX_DEV, res->dev_key, false);
	G.n_keys++;
}

static void pa_failed(void *ctx, uint32_t h, int err, uint8_t prov_err)
{
	(void)ctx;
	(void)h;
	G.prov_failed++;
	G.prov_err = err;
	(void)prov_err;
}

static void on_display(void *ctx, unsigned dev, const char *name, const char *text)
{
	const char *sp = strrchr(text, ' ');

	(void)ctx;
	(void)dev;
	(void)name;
	/* "blinks 3", "shows 0427": a person reads the last word off the device. */
	if (sp && strncmp(text, "waits", 5) != 0 && strncmp(text, "provisioning", 12) != 0) {
		snprintf(G.shown, sizeof(G.shown), "%s", sp + 1);
	}
}

static void gw_make(void)
{
	struct sim_pos pos = G.scn->native_pos;
	struct pb_adv_cfg pc = {0};
	struct prov_adv_ops po = {.adv_send = pa_adv,
				  .output_oob = pa_output,
				  .input_oob_request = pa_input,
				  .done = pa_done,
				  .failed = pa_failed};
	struct mesh_rng rng = {tv_rng, &G.rng};
	struct mesh_node_config nc;
	struct mesh_node_ops no = {.adv_send = node_adv, .dev_keys = gw_dev_keys};
	static const uint32_t onoff_st[] = {ONOFF_OP_STATUS};
	struct mesh_model_id cli = {.vendor = false, .id = 0x1001};

	cr_assert_eq(sim_air_add(sim_world_air(G.w), &pos, "gateway", gw_rx, NULL, &G.pid), 0);
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

static void setup_with(const char *path)
{
	char err[256];

	memset(&G, 0, sizeof(G));
	G.rng = 77;
	G.now_us = 1000000;
	cr_assert_eq(sim_scenario_load(path, &G.scn, err, sizeof(err)), 0, "%s", err);
	G.w = sim_world_new(G.scn->seed, &G.scn->air, kinds, 1);
	cr_assert_not_null(G.w);
	sim_world_set_display_hook(G.w, on_display, NULL);
	for (size_t i = 0; i < G.scn->n_devices; i++) {
		unsigned dev;

		cr_assert_eq(sim_world_add_device(G.w, &G.scn->devices[i], G.now_us, &dev), 0);
	}
	gw_make();
}

static void setup_small(void)
{
	setup_with(MESHGW_SOURCE_DIR "/sim/scenarios/small.json");
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

/* Advance virtual time until *flag >= want (or limit_ms of simulated time). */
static bool run(const int *flag, int want, uint64_t limit_ms)
{
	uint64_t end = G.now_us + limit_ms * 1000;

	while (!flag || *flag < want) {
		uint64_t t = sim_world_next_deadline(G.w), g;

		g = prov_adv_next_deadline(G.pa);
		g = mesh_node_next_deadline(G.node) < g ? mesh_node_next_deadline(G.node) : g;
		g = cfg_cli_next_deadline(G.cfg) < g ? cfg_cli_next_deadline(G.cfg) : g;
		g = mesh_cli_next_deadline(G.onoff) < g ? mesh_cli_next_deadline(G.onoff) : g;
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
		/* A person types what the device shows, once the provisioner asks. */
		if (G.wait_output && G.shown[0]) {
			G.wait_output = false;
			cr_assert_eq(prov_adv_input_oob(G.pa, G.wait_h, G.shown, now_ms()), 0);
		}
	}
	return !flag || *flag >= want;
}

static int dev_index(const char *name)
{
	size_t i;

	for (i = 0; i < G.scn->n_devices; i++) {
		if (strcmp(G.scn->devices[i].name, name) == 0) {
			return (int)i;
		}
	}
	cr_assert_fail("no device %s", name);
	return -1;
}

/* Provision a scenario device by name with the given method; returns its address. */
static uint16_t provision(const char *name, uint8_t method, uint8_t action, uint8_t size,
			  uint16_t unicast)
{
	int i = dev_index(name);
	const struct sim_scn_device *d = &G.scn->devices[i];
	struct prov_cfg c = {0};
	uint32_t h;
	int before = G.prov_done;

	c.role = PROV_ROLE_PROVISIONER;
	c.auth_method = method;
	c.auth_action = action;
	c.auth_size = size;
	memcpy(c.static_oob, d->static_oob, d->static_oob_len);
	c.static_oob_len = (uint8_t)d->static_oob_len;
	memcpy(c.data.net_key, net_key, 16);
	c.data.unicast = unicast;
	G.shown[0] = G.typed[0] = '\0';
	cr_assert_eq(prov_adv_provision(G.pa, d->uuid, &c, now_ms(), &h), 0);
	if (method == PROV_AUTH_INPUT) {
		char out[64];

		/* The provisioner shows a value; the person types it on the device. */
		int shown = 0;

		while (!G.typed[0] && run(&shown, 1, 100)) {
		}
		run(NULL, 0, 2000);
		cr_assert(G.typed[0], "provisioner showed nothing");
		snprintf(out, sizeof(out), "input %s", G.typed);
		cr_assert_eq(
		    sim_world_device_ctl(G.w, (unsigned)i, out, G.now_us, out, sizeof(out)), 0,
		    "%s", out);
	}
	cr_assert(run(&G.prov_done, before + 1, 120000), "%s: not provisioned (failed %d, err %d)",
		  name, G.prov_failed, G.prov_err);
	run(NULL, 0, 2000);
	cr_assert(sim_node_provisioned(sim_world_device(G.w, (unsigned)i)));
	cr_assert_eq(sim_node_addr(sim_world_device(G.w, (unsigned)i)), unicast);
	return unicast;
}

struct answer {
	int done, err;
	struct cfg_msg m;
	uint8_t data[400];
	size_t len;
};

static void on_cfg(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct answer *a = ctx;

	(void)src;
	a->done++;
	a->err = err;
	if (rsp) {
		a->m = *rsp;
		if (rsp->op == CFG_OP_COMP_STATUS) {
			memcpy(a->data, rsp->comp.data, rsp->comp.data_len);
			a->len = rsp->comp.data_len;
		}
	}
}

static struct answer cfg(uint16_t dst, const struct cfg_msg *req)
{
	struct answer a = {0};

	cr_assert_eq(cfg_cli_request(G.cfg, 0, dst, NULL, req, 10000, 2000, on_cfg, &a, now_ms()),
		     0);
	cr_assert(run(&a.done, 1, 30000));
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

static struct onoff_answer onoff(uint16_t dst, int set, uint8_t tid)
{
	struct onoff_answer a = {0};
	uint8_t p[4];
	size_t len = 0;
	struct mesh_node_msg m = {.app_idx = 0, .dst = dst, .ttl = MESH_TTL_DEFAULT};

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
	return a;
}

/* Read page 0, add the AppKey, bind the OnOff server, switch the light and read it back. */
static void configure_and_toggle(const char *name, uint16_t addr)
{
	int i = dev_index(name);
	struct cfg_msg req = {.op = CFG_OP_COMP_GET};
	struct answer a = cfg(addr, &req);
	struct mesh_comp comp;

	cr_assert_eq(a.m.comp.page, 0);
	cr_assert_eq(mesh_comp_parse(a.data, a.len, &comp), 0);
	cr_assert_eq(comp.cid, G.scn->devices[i].comp.cid);
	cr_assert_eq(comp.pid, G.scn->devices[i].comp.pid);
	cr_assert_eq(comp.n_elems, G.scn->devices[i].comp.n_elements);

	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_APPKEY_ADD;
	memcpy(req.appkey.key, app_key, 16);
	a = cfg(addr, &req);
	cr_assert_eq(a.m.appkey.status, CFG_STATUS_SUCCESS);

	if (comp.n_sig < 3 || comp.sig[2] != 0x1000) {
		return; /* not a light: nothing to switch */
	}
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_MODEL_APP_BIND;
	req.model_app.elem_addr = addr;
	req.model_app.model.id = 0x1000;
	a = cfg(addr, &req);
	cr_assert_eq(a.m.model_app.status, CFG_STATUS_SUCCESS);

	cr_assert_not(sim_node_onoff(sim_world_device(G.w, (unsigned)i), 0));
	cr_assert_eq(onoff(addr, 1, 1).present, 1);
	cr_assert(sim_node_onoff(sim_world_device(G.w, (unsigned)i), 0), "the light is on");
	cr_assert_eq(onoff(addr, -1, 0).present, 1, "Get reads it back");
	cr_assert_eq(onoff(addr, 0, 2).present, 0);
	cr_assert_not(sim_node_onoff(sim_world_device(G.w, (unsigned)i), 0));
}

/* No OOB: provision, read page 0, add AppKey, bind, toggle the light and read it. */
Test(sim_node, no_oob_provision_configure_toggle, .init = setup_small, .fini = teardown)
{
	uint16_t a = provision("light-noob", PROV_AUTH_NO_OOB, 0, 0, 0x0100);

	configure_and_toggle("light-noob", a);
}

/* Static OOB with 16 octets (HMAC offered) and 32 octets. */
Test(sim_node, static_oob_16_and_32, .init = setup_small, .fini = teardown)
{
	uint16_t a = provision("light-static16", PROV_AUTH_STATIC, 0, 0, 0x0110);
	uint16_t b = provision("sensor-static32", PROV_AUTH_STATIC, 0, 0, 0x0120);

	cr_assert_eq(G.res.start.alg, PROV_ALG_HMAC);
	configure_and_toggle("light-static16", a);
	(void)b;
}

/* Output OOB: the device shows a number, the person types it into the provisioner. */
Test(sim_node, output_oob_numeric, .init = setup_small, .fini = teardown)
{
	uint16_t a = provision("switch-output", PROV_AUTH_OUTPUT, PROV_OUT_NUMERIC, 4, 0x0130);

	cr_assert(G.shown[0], "the device displayed a value");
	configure_and_toggle("switch-output", a);
}

/* Input OOB: the provisioner shows a number, the person types it on the device. */
Test(sim_node, input_oob_numeric, .init = setup_small, .fini = teardown)
{
	provision("panel-input", PROV_AUTH_INPUT, PROV_IN_NUMERIC, 4, 0x0140);
}

/* The wrong static OOB value fails and leaves the device unprovisioned. */
Test(sim_node, wrong_static_oob_fails, .init = setup_small, .fini = teardown)
{
	int i = dev_index("light-static16");
	struct prov_cfg c = {0};
	uint32_t h;

	c.role = PROV_ROLE_PROVISIONER;
	c.auth_method = PROV_AUTH_STATIC;
	c.static_oob_len = 16;
	c.data.unicast = 0x0200;
	cr_assert_eq(prov_adv_provision(G.pa, G.scn->devices[i].uuid, &c, now_ms(), &h), 0);
	cr_assert(run(&G.prov_failed, 1, 120000));
	cr_assert_eq(G.prov_err, -ECONNABORTED);
	cr_assert_not(sim_node_provisioned(sim_world_device(G.w, (unsigned)i)));
}

/* Node Reset: the node acknowledges, forgets its keys and beacons as unprovisioned again. */
Test(sim_node, node_reset_beacons_again, .init = setup_small, .fini = teardown)
{
	int i = dev_index("light-noob");
	uint16_t a = provision("light-noob", PROV_AUTH_NO_OOB, 0, 0, 0x0100);
	struct cfg_msg req = {.op = CFG_OP_NODE_RESET};
	int seen;

	cfg(a, &req);
	run(NULL, 0, 1000);
	cr_assert_not(sim_node_provisioned(sim_world_device(G.w, (unsigned)i)));
	seen = G.beacons_seen;
	memset(G.beacon_uuid, 0, 16);
	while (memcmp(G.beacon_uuid, G.scn->devices[i].uuid, 16) != 0) {
		int want = G.beacons_seen + 1;

		cr_assert(run(&G.beacons_seen, want, 10000), "no beacon");
	}
	cr_assert_gt(G.beacons_seen, seen);
	/* And it can be provisioned again, with new keys. */
	provision("light-noob", PROV_AUTH_NO_OOB, 0, 0, 0x0300);
}

/* A message crosses three relays to a device out of the gateway's range. */
Test(sim_node, three_relay_hops)
{
	setup_with(MESHGW_SOURCE_DIR "/tests/sim/chain.json");
	{
		static const char *names[] = {"r1", "r2", "r3", "far"};
		uint16_t addrs[4];
		struct sim_pos far;
		int k, i;

		/* Provision each while it is next to the gateway (PB-ADV is not relayed)... */
		for (k = 0; k < 4; k++) {
			struct sim_pos here = {1.0 + k * 0.5, 0, 1};

			i = dev_index(names[k]);
			cr_assert_eq(sim_air_position(sim_world_air(G.w),
						      sim_world_device_pid(G.w, (unsigned)i), &far),
				     0);
			sim_air_move(sim_world_air(G.w), sim_world_device_pid(G.w, (unsigned)i),
				     &here);
			addrs[k] = provision(names[k], PROV_AUTH_NO_OOB, 0, 0,
					     (uint16_t)(0x0400 + 0x10 * k));
			/* ...then put it back where the scenario placed it. */
			sim_air_move(sim_world_air(G.w), sim_world_device_pid(G.w, (unsigned)i),
				     &far);
		}
		/* The far device cannot hear the gateway directly, nor the first two relays. */
		{
			bool in_range = true;
			int8_t rssi;

			cr_assert_eq(
			    sim_air_link(sim_world_air(G.w), G.pid,
					 sim_world_device_pid(G.w, (unsigned)dev_index("far")),
					 &rssi, &in_range),
			    0);
			cr_assert_not(in_range);
			cr_assert_eq(
			    sim_air_link(sim_world_air(G.w),
					 sim_world_device_pid(G.w, (unsigned)dev_index("r2")),
					 sim_world_device_pid(G.w, (unsigned)dev_index("far")),
					 &rssi, &in_range),
			    0);
			cr_assert_not(in_range);
		}
		configure_and_toggle("far", addrs[3]);
	}
	teardown();
}

/* A Config request that must answer Success; the status octet of whichever family answered. */
static void cfg_ok(uint16_t dst, const struct cfg_msg *req)
{
	struct answer a = cfg(dst, req);
	uint8_t st = a.m.op == CFG_OP_MODEL_SUB_STATUS   ? a.m.model_sub.status
		     : a.m.op == CFG_OP_MODEL_PUB_STATUS ? a.m.model_pub.status
		     : a.m.op == CFG_OP_MODEL_APP_STATUS ? a.m.model_app.status
							 : a.m.appkey.status;

	cr_assert_eq(st, CFG_STATUS_SUCCESS, "request 0x%x: status 0x%02x", (unsigned)req->op, st);
}

static void appkey_bind(uint16_t node, uint16_t elem_addr, uint16_t model)
{
	struct cfg_msg req = {.op = CFG_OP_APPKEY_ADD};

	if (node == elem_addr) {
		memcpy(req.appkey.key, app_key, 16);
		cfg_ok(node, &req);
	}
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_MODEL_APP_BIND;
	req.model_app.elem_addr = elem_addr;
	req.model_app.model.id = model;
	cfg_ok(node, &req);
}

static void subscribe(uint16_t node, uint16_t elem_addr, uint16_t group)
{
	struct cfg_msg req = {.op = CFG_OP_MODEL_SUB_ADD};

	req.model_sub.elem_addr = elem_addr;
	req.model_sub.addr = group;
	req.model_sub.model.id = 0x1000;
	cfg_ok(node, &req);
}

static char *press(const char *name, const char *how, int want)
{
	static char out[256];
	char cmd[32];
	int r;

	snprintf(cmd, sizeof(cmd), "press%s%s", how[0] ? " " : "", how);
	r = sim_world_device_ctl(G.w, (unsigned)dev_index(name), cmd, G.now_us, out, sizeof(out));
	cr_assert_eq(r, want, "%s: %d (%s)", cmd, r, out);
	run(NULL, 0, 2000);
	return out;
}

static bool light(const char *name, uint8_t elem)
{
	return sim_node_onoff(sim_world_device(G.w, (unsigned)dev_index(name)), elem);
}

/*
 * "press": the switch publishes Set Unacknowledged to its group, and exactly the OnOff
 * Servers subscribed to that group follow, element by element; it refuses while it has no
 * publication, and a device without an OnOff Client refuses.
 */
Test(sim_node, press_switches_the_subscribed_lights, .init = setup_small, .fini = teardown)
{
	uint16_t l1 = provision("light-noob", PROV_AUTH_NO_OOB, 0, 0, 0x0100);
	uint16_t l2 = provision("light-static16", PROV_AUTH_STATIC, 0, 0, 0x0110);
	uint16_t sw = provision("switch-output", PROV_AUTH_OUTPUT, PROV_OUT_NUMERIC, 4, 0x0130);
	struct cfg_msg req = {.op = CFG_OP_MODEL_PUB_SET};

	appkey_bind(l1, l1, 0x1000);
	appkey_bind(l1, l1 + 1, 0x1000);
	appkey_bind(l2, l2, 0x1000);
	appkey_bind(sw, sw, 0x1001);
	subscribe(l1, l1 + 1, 0xc000); /* only the second element of light-noob */
	subscribe(l2, l2, 0xc000);
	subscribe(l1, l1, 0xc001); /* another zone */

	cr_assert(strstr(press("light-noob", "", -ENODEV), "no Generic OnOff Client"));
	cr_assert(strstr(press("switch-output", "on", -EDESTADDRREQ), "no publication"));
	cr_assert(strstr(press("switch-output", "sideways", -EINVAL), "usage"));

	req.model_pub.elem_addr = sw;
	req.model_pub.pub_addr = 0xc000;
	req.model_pub.app_idx = 0;
	req.model_pub.ttl = CFG_PUB_TTL_DEFAULT;
	req.model_pub.model.id = 0x1001;
	cfg_ok(sw, &req);

	cr_assert_str_eq(press("switch-output", "on", 0), "ok on to 0xc000 tid 0");
	cr_assert(light("light-noob", 1));
	cr_assert(light("light-static16", 0));
	cr_assert_not(light("light-noob", 0), "subscribed to 0xc001 only");
	cr_assert_not(light("light-static16", 1), "not subscribed");

	/* Toggle: off, with a new TID (the same TID within 6 s would be a repetition). */
	cr_assert_str_eq(press("switch-output", "", 0), "ok off to 0xc000 tid 1");
	cr_assert_not(light("light-noob", 1));
	cr_assert_not(light("light-static16", 0));
	cr_assert_str_eq(press("switch-output", "", 0), "ok on to 0xc000 tid 2");
	cr_assert(light("light-noob", 1));

	/* Publication moved to the other group: the first group's lights stay as they are. */
	req.model_pub.pub_addr = 0xc001;
	cfg_ok(sw, &req);
	cr_assert_str_eq(press("switch-output", "on", 0), "ok on to 0xc001 tid 3");
	cr_assert(light("light-noob", 0));
	cr_assert_str_eq(press("switch-output", "off", 0), "ok off to 0xc001 tid 4");
	cr_assert_not(light("light-noob", 0));
	cr_assert(light("light-noob", 1));
	cr_assert(light("light-static16", 0));
}
