/*
 * sim/node_rpr.c: the node kind as a Remote Provisioning Server (Mesh Protocol v1.1
 * §4.4.5): meshsim devices with "rpr_server" driven over the simulated air
 * by a test-side gateway built from mesh/ (PB-ADV provisioner, Config
 * Client, Remote Provisioning Client with the PB-Remote bearer), in virtual
 * time.  Scenario tests/sim/rpr_chain.json: servers s1, s2, s3 in a line
 * from the gateway's port, each the only one to hear its device d1, d2, d3.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mesh/cfg_cli.h"
#include "mesh/comp.h"
#include "mesh/crypto.h"
#include "mesh/pb_remote.h"
#include "mesh/prov_adv.h"
#include "mesh/rpr_cli.h"
#include "sim/loop.h"
#include "sim/node_dev.h"
#include "tests/util/tv.h"

#define MAXKEYS 16

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
	struct rpr_cli *rpr;
	struct pb_remote *pbr;
	/* device keys by primary address (the inventory) */
	uint16_t addr[MAXKEYS];
	uint8_t key[MAXKEYS][16];
	struct mesh_utp_key ukey[MAXKEYS];
	int n_keys;
	/* PB-ADV results */
	int adv_done;
	struct prov_result adv_res;
	/* PB-Remote results */
	int rem_done, rem_failed, rem_err;
	struct prov_result rem_res;
	/* Scan Reports */
	int n_reports;
	uint16_t report_src[16];
	struct rpr_scan_report report[16];
} G;

static const uint8_t net_key[16] = {0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
				    0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x30};
static const uint8_t app_key[16] = {0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
				    0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf};

static uint64_t now_ms(void)
{
	return G.now_us / 1000;
}

/* --- the inventory of device keys ---------------------------------------- */

static void key_set(uint16_t addr, const uint8_t key[16])
{
	int i;

	for (i = 0; i < G.n_keys && G.addr[i] != addr; i++) {
	}
	cr_assert_lt(i, MAXKEYS);
	G.n_keys = i == G.n_keys ? i + 1 : G.n_keys;
	G.addr[i] = addr;
	memcpy(G.key[i], key, 16);
	cr_assert_eq(mesh_utp_key_init(&G.ukey[i], MESH_APP_IDX_DEV, key, false), 0);
}

static const uint8_t *key_of(uint16_t addr)
{
	int i;

	for (i = 0; i < G.n_keys; i++) {
		if (G.addr[i] == addr) {
			return G.key[i];
		}
	}
	cr_assert_fail("no key for 0x%04x", addr);
	return NULL;
}

static size_t gw_dev_keys(void *ctx, uint16_t addr, const struct mesh_utp_key **out, size_t max)
{
	int i;

	(void)ctx;
	for (i = 0; i < G.n_keys; i++) {
		/* Every server and device of the scenario has at most 2 elements. */
		if (addr >= G.addr[i] && addr < G.addr[i] + 2 && max) {
			out[0] = &G.ukey[i];
			return 1;
		}
	}
	return 0;
}

/* --- the test gateway on the air ----------------------------------------- */

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

static void pa_done(void *ctx, uint32_t h, const struct prov_result *res)
{
	(void)ctx;
	(void)h;
	G.adv_done++;
	G.adv_res = *res;
	key_set(res->data.unicast, res->dev_key);
}

static void pa_failed(void *ctx, uint32_t h, int err, uint8_t prov_err)
{
	(void)ctx;
	(void)h;
	(void)prov_err;
	cr_assert_fail("PB-ADV provisioning failed: %d", err);
}

static void rem_done(void *ctx, uint32_t h, const struct prov_result *res)
{
	(void)ctx;
	(void)h;
	G.rem_done++;
	G.rem_res = *res;
}

static void rem_failed(void *ctx, uint32_t h, int err, uint8_t prov_err, uint8_t link_status)
{
	(void)ctx;
	(void)h;
	(void)prov_err;
	(void)link_status;
	G.rem_failed++;
	G.rem_err = err;
}

static void on_scan_report(void *ctx, uint16_t src, const struct rpr_scan_report *r)
{
	(void)ctx;
	if (G.n_reports < 16) {
		G.report_src[G.n_reports] = src;
		G.report[G.n_reports++] = *r;
	}
}

static void gw_make(void)
{
	struct sim_pos pos = G.scn->native_pos;
	struct pb_adv_cfg pc = {0};
	struct prov_adv_ops po = {.adv_send = pa_adv, .done = pa_done, .failed = pa_failed};
	struct rpr_cli_ops ro = {.scan_report = on_scan_report};
	struct pb_remote_ops bo = {.done = rem_done, .failed = rem_failed};
	struct mesh_rng rng = {tv_rng, &G.rng};
	struct mesh_node_config nc;
	struct mesh_node_ops no = {.adv_send = node_adv, .dev_keys = gw_dev_keys};

	cr_assert_eq(sim_air_add(sim_world_air(G.w), &pos, "gateway", gw_rx, NULL, &G.pid), 0);
	G.pa = prov_adv_new(&pc, NULL, &po, &rng);
	cr_assert_not_null(G.pa);
	mesh_node_config_default(&nc);
	nc.beacon_interval_ms = 0;
	G.node = mesh_node_new(&nc, &no, &rng, now_ms());
	cr_assert_not_null(G.node);
	cr_assert_geq(mesh_acc_elem_add(mesh_node_acc(G.node), 0), 0);
	G.cfg = cfg_cli_new(G.node);
	G.rpr = rpr_cli_new(G.node, &ro);
	cr_assert_not_null(G.cfg);
	cr_assert_not_null(G.rpr);
	G.pbr = pb_remote_new(G.rpr, NULL, &bo, &rng);
	cr_assert_not_null(G.pbr);
	cr_assert_eq(mesh_node_provision(G.node, 0x0001, app_key, 0, net_key, 0, 0, now_ms()), 0);
}

static void setup(void)
{
	char err[256];
	size_t i;

	memset(&G, 0, sizeof(G));
	G.rng = 91;
	G.now_us = 1000000;
	cr_assert_eq(sim_scenario_load(MESHGW_SOURCE_DIR "/tests/sim/rpr_chain.json", &G.scn, err,
				       sizeof(err)),
		     0, "%s", err);
	G.w = sim_world_new(G.scn->seed, &G.scn->air, kinds, 1);
	cr_assert_not_null(G.w);
	for (i = 0; i < G.scn->n_devices; i++) {
		unsigned dev;

		cr_assert_eq(sim_world_add_device(G.w, &G.scn->devices[i], G.now_us, &dev), 0);
	}
	gw_make();
}

static void teardown(void)
{
	pb_remote_free(G.pbr);
	rpr_cli_free(G.rpr);
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
		g = min64(g, min64(cfg_cli_next_deadline(G.cfg), rpr_cli_next_deadline(G.rpr)));
		g = min64(g, pb_remote_next_deadline(G.pbr));
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
		rpr_cli_tick(G.rpr, now_ms());
		pb_remote_tick(G.pbr, now_ms());
	}
	return !flag || *flag >= want;
}

static unsigned dev_index(const char *name)
{
	size_t i;

	for (i = 0; i < G.scn->n_devices; i++) {
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

/* A control command to a device; returns its reply. */
static const char *ctl(const char *name, const char *args)
{
	static char out[256];

	cr_assert_eq(sim_world_device_ctl(G.w, dev_index(name), args, G.now_us, out, sizeof(out)),
		     0, "dev %s %s: %s", name, args, out);
	return out;
}

/* The "devkey XXXXXXXX" fingerprint of a device's status reply. */
static void status_fp(const char *name, char fp[9])
{
	const char *s = strstr(ctl(name, "status"), "devkey ");

	cr_assert_not_null(s, "no devkey in the status");
	memcpy(fp, s + 7, 8);
	fp[8] = '\0';
}

/* Provision a server over PB-ADV next to the gateway, then put it back where it was. */
static void provision_local(const char *name, uint16_t unicast)
{
	unsigned i = dev_index(name);
	uint32_t pid = sim_world_device_pid(G.w, i), h;
	struct sim_pos home, here = {1.0, 0, 1};
	struct prov_cfg c = {0};
	int before = G.adv_done;

	cr_assert_eq(sim_air_position(sim_world_air(G.w), pid, &home), 0);
	cr_assert_eq(sim_air_move(sim_world_air(G.w), pid, &here), 0);
	c.role = PROV_ROLE_PROVISIONER;
	c.auth_method = PROV_AUTH_NO_OOB;
	memcpy(c.data.net_key, net_key, 16);
	c.data.unicast = unicast;
	cr_assert_eq(prov_adv_provision(G.pa, G.scn->devices[i].uuid, &c, now_ms(), &h), 0);
	cr_assert(run(&G.adv_done, before + 1, 120000), "%s not provisioned", name);
	run(NULL, 0, 2000);
	cr_assert_eq(sim_air_move(sim_world_air(G.w), pid, &home), 0);
	cr_assert(sim_node_provisioned(dev(name)));
}

struct answer {
	int done, err;
	uint16_t src;
	struct cfg_msg m;
	struct rpr_msg r;
	uint8_t data[400];
	size_t len;
};

static void on_cfg(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct answer *a = ctx;

	a->done++;
	a->err = err;
	a->src = src;
	if (rsp) {
		a->m = *rsp;
		if (rsp->op == CFG_OP_COMP_STATUS) {
			memcpy(a->data, rsp->comp.data, rsp->comp.data_len);
			a->len = rsp->comp.data_len;
		}
	}
}

/* A Config request to dst under key (NULL: the inventory's); err 0 or -ETIMEDOUT. */
static struct answer cfg_key(uint16_t dst, const uint8_t *key, const struct cfg_msg *req)
{
	struct answer a = {0};

	cr_assert_eq(cfg_cli_request(G.cfg, 0, dst, key, req, 10000, 2000, on_cfg, &a, now_ms()),
		     0);
	cr_assert(run(&a.done, 1, 30000));
	return a;
}

static struct answer cfg(uint16_t dst, const struct cfg_msg *req)
{
	struct answer a = cfg_key(dst, NULL, req);

	cr_assert_eq(a.err, 0, "config request 0x%x to 0x%04x: %d", (unsigned)req->op, dst, a.err);
	return a;
}

static struct answer comp_get(uint16_t dst, const uint8_t *key, uint8_t page)
{
	struct cfg_msg req = {.op = CFG_OP_COMP_GET};

	req.comp.page = page;
	return cfg_key(dst, key, &req);
}

static void on_rpr(void *ctx, int err, uint16_t src, const struct rpr_msg *rsp)
{
	struct answer *a = ctx;

	a->done++;
	a->err = err;
	a->src = src;
	if (rsp) {
		a->r = *rsp;
		if (rsp->op == RPR_OP_EXT_SCAN_REPORT && rsp->ext_scan_report.adv_len) {
			memcpy(a->data, rsp->ext_scan_report.adv, rsp->ext_scan_report.adv_len);
			a->len = rsp->ext_scan_report.adv_len;
		}
	}
}

/*
 * A Remote Provisioning request; an Extended Scan Start is not repeated
 * (a repeat while the server collects would be refused as a second scan).
 */
static struct answer rpr(uint16_t dst, const struct rpr_msg *req)
{
	struct answer a = {0};
	uint32_t retry = req->op == RPR_OP_EXT_SCAN_START ? 0 : 2000;

	cr_assert_eq(rpr_cli_request(G.rpr, 0, dst, NULL, req, 10000, retry, on_rpr, &a, now_ms()),
		     0);
	cr_assert(run(&a.done, 1, 30000));
	cr_assert_eq(a.err, 0, "RPR request 0x%x to 0x%04x: %d", (unsigned)req->op, dst, a.err);
	return a;
}

static struct prov_cfg prov_cfg(uint16_t unicast)
{
	struct prov_cfg c = {0};

	c.role = PROV_ROLE_PROVISIONER;
	c.auth_method = PROV_AUTH_AUTO;
	memcpy(c.data.net_key, net_key, 16);
	c.data.unicast = unicast;
	return c;
}

/* Start provisioning a device through the server at `server` with PB-Remote. */
static int remote_provision(uint16_t server, const char *name, uint16_t unicast)
{
	struct pb_remote_target t = {.net_idx = 0, .server = server, .dev_key = NULL};
	struct prov_cfg c = prov_cfg(unicast);
	uint32_t h;

	return pb_remote_provision(G.pbr, &t, G.scn->devices[dev_index(name)].uuid, 10, &c,
				   now_ms(), &h);
}

/* Run until a PB-Remote session (provisioning or refresh) ends; 0 on success, else its error. */
static int remote_wait(void)
{
	int ends = G.rem_done + G.rem_failed, done = G.rem_done;
	uint64_t end = G.now_us + 180000000ull;

	while (G.rem_done + G.rem_failed == ends && G.now_us < end) {
		run(NULL, 0, 100);
	}
	cr_assert_neq(G.rem_done + G.rem_failed, ends, "the session never ended");
	return G.rem_done > done ? 0 : G.rem_err;
}

static int refresh(uint16_t server, uint8_t procedure, uint16_t unicast)
{
	struct pb_remote_target t = {.net_idx = 0, .server = server, .dev_key = key_of(server)};
	struct prov_cfg c = prov_cfg(unicast);
	uint32_t h;
	int r;

	cr_assert_eq(pb_remote_refresh(G.pbr, &t, procedure, &c, now_ms(), &h), 0);
	r = remote_wait();
	if (!r) {
		key_set(unicast, G.rem_res.dev_key);
	}
	return r;
}

static bool in_range(const char *a, const char *b)
{
	uint32_t pa = strcmp(a, "gateway") ? sim_world_device_pid(G.w, dev_index(a)) : G.pid;
	bool in = true;
	int8_t rssi;

	cr_assert_eq(sim_air_link(sim_world_air(G.w), pa, sim_world_device_pid(G.w, dev_index(b)),
				  &rssi, &in),
		     0);
	return in;
}

/* Provision s1, s2, s3 over PB-ADV (each moved next to the gateway), at 0x0010/20/30. */
static void servers(int n)
{
	static const char *const names[] = {"s1", "s2", "s3"};
	int k;

	for (k = 0; k < n; k++) {
		provision_local(names[k], (uint16_t)(0x0010 * (k + 1)));
	}
}

/*
 * Remote scan through the server three relays away finds the device only it
 * hears; PB-Remote provisions it through that server; it is then configured
 * through the relays (page 0, AppKey Add, Model App Bind).
 */
Test(sim_node_rpr, s4_4_5_scan_provision_configure_three_hops, .init = setup, .fini = teardown)
{
	struct rpr_msg req = {.op = RPR_OP_SCAN_START};
	const uint8_t *d3 = G.scn->devices[dev_index("d3")].uuid;
	struct answer a;
	struct cfg_msg c;
	struct mesh_comp comp;
	bool found = false;
	int i;

	servers(3);
	cr_assert_not(in_range("gateway", "d3"));
	cr_assert_not(in_range("s2", "d3"));
	cr_assert_not(in_range("gateway", "s2"));

	/* Page 0 of a server lists 0x0004 exactly once, on element 0. */
	a = comp_get(0x0030, NULL, 0);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(mesh_comp_parse(a.data, a.len, &comp), 0);
	{
		int n = 0;

		for (i = 0; i < (int)comp.n_sig; i++) {
			n += comp.sig[i] == 0x0004;
		}
		cr_assert_eq(n, 1);
		cr_assert_eq(comp.n_elems, 1);
	}

	req.scan_start.limit = 4;
	req.scan_start.timeout = 5;
	a = rpr(0x0030, &req);
	cr_assert_eq(a.r.scan_status.status, RPR_STATUS_SUCCESS);
	cr_assert_eq(a.r.scan_status.state, RPR_SCAN_MULTIPLE);
	run(NULL, 0, 6000);
	for (i = 0; i < G.n_reports; i++) {
		if (memcmp(G.report[i].uuid, d3, 16) == 0) {
			cr_assert_eq(G.report_src[i], 0x0030, "only s3 hears d3");
			cr_assert_lt(G.report[i].rssi, 0);
			cr_assert(G.report[i].has_uri_hash, "d3 has a URI");
			found = true;
		}
	}
	cr_assert(found, "d3 in a Scan Report");

	/* Extended scan of d3: its name and URI, as it advertises them after its beacon. */
	memset(&req, 0, sizeof(req));
	req.op = RPR_OP_EXT_SCAN_START;
	req.ext_scan_start.n_ad_types = 1;
	req.ext_scan_start.ad_types[0] = 0x09;
	req.ext_scan_start.has_uuid = true;
	memcpy(req.ext_scan_start.uuid, d3, 16);
	req.ext_scan_start.timeout = 5;
	a = rpr(0x0030, &req);
	cr_assert_eq(a.r.ext_scan_report.status, RPR_STATUS_SUCCESS);
	cr_assert_eq(a.len, 4);
	cr_assert_eq(memcmp(a.data,
			    "\x03\x09"
			    "d3",
			    4),
		     0);

	cr_assert_eq(remote_provision(0x0030, "d3", 0x0100), 0);
	cr_assert_eq(remote_wait(), 0, "remote provisioning failed");
	key_set(0x0100, G.rem_res.dev_key);
	run(NULL, 0, 2000);
	cr_assert(sim_node_provisioned(dev("d3")));
	cr_assert_eq(sim_node_addr(dev("d3")), 0x0100);

	a = comp_get(0x0100, NULL, 0);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(mesh_comp_parse(a.data, a.len, &comp), 0);
	cr_assert_eq(comp.pid, 0x0020);
	memset(&c, 0, sizeof(c));
	c.op = CFG_OP_APPKEY_ADD;
	memcpy(c.appkey.key, app_key, 16);
	cr_assert_eq(cfg(0x0100, &c).m.appkey.status, CFG_STATUS_SUCCESS);
	memset(&c, 0, sizeof(c));
	c.op = CFG_OP_MODEL_APP_BIND;
	c.model_app.elem_addr = 0x0100;
	c.model_app.model.id = 0x1000;
	cr_assert_eq(cfg(0x0100, &c).m.model_app.status, CFG_STATUS_SUCCESS);
}

/* Device Key Refresh: the node answers under its new key, its status fingerprint changes. */
Test(sim_node_rpr, s3_11_8_devkey_refresh, .init = setup, .fini = teardown)
{
	uint8_t old[16];
	char before[9], after[9], want[9];

	servers(1);
	memcpy(old, key_of(0x0010), 16);
	status_fp("s1", before);
	mesh_crypto_key_fingerprint(old, want);
	cr_assert_str_eq(before, want);

	cr_assert_eq(refresh(0x0010, RPR_NPPI_DEVKEY_REFRESH, 0x0010), 0);
	cr_assert_not_null(strstr(ctl("s1", "status"), " candidate "), "%s", ctl("s1", "status"));
	cr_assert_neq(memcmp(key_of(0x0010), old, 16), 0);

	/* The first message under the candidate promotes it... */
	cr_assert_eq(comp_get(0x0010, NULL, 0).err, 0);
	status_fp("s1", after);
	mesh_crypto_key_fingerprint(key_of(0x0010), want);
	cr_assert_str_eq(after, want);
	cr_assert_str_neq(after, before);
	cr_assert_null(strstr(ctl("s1", "status"), "candidate"));
	/* ...after which the old key is refused. */
	cr_assert_eq(comp_get(0x0010, old, 0).err, -ETIMEDOUT);
}

/* Address Refresh: the node answers at its new address only; status and saved state follow. */
Test(sim_node_rpr, s3_11_8_address_refresh, .init = setup, .fini = teardown)
{
	json_t *st;
	char uuid[33];
	int i;

	servers(1);
	cr_assert_eq(refresh(0x0010, RPR_NPPI_ADDRESS_REFRESH, 0x0050), 0);
	run(NULL, 0, 1000);
	cr_assert_eq(strncmp(ctl("s1", "status"), "provisioned addr 0x0050 devkey ", 31), 0, "%s",
		     ctl("s1", "status"));
	cr_assert_eq(sim_node_addr(dev("s1")), 0x0050);
	cr_assert_eq(comp_get(0x0050, NULL, 0).err, 0);
	cr_assert_eq(comp_get(0x0010, key_of(0x0050), 0).err, -ETIMEDOUT);

	st = sim_world_save_json(G.w);
	cr_assert_not_null(st);
	for (i = 0; i < 16; i++) {
		snprintf(uuid + 2 * i, 3, "%02x", G.scn->devices[dev_index("s1")].uuid[i]);
	}
	cr_assert_eq(json_integer_value(json_object_get(
			 json_object_get(json_object_get(st, "devices"), uuid), "addr")),
		     0x0050);
	json_decref(st);
}

/* Composition Refresh: page 0 becomes the former page 128, models rebuilt, keys kept. */
Test(sim_node_rpr, s3_11_8_composition_refresh, .init = setup, .fini = teardown)
{
	uint8_t p128[400];
	size_t p128_len;
	struct answer a;
	struct cfg_msg c;
	struct mesh_comp comp;
	json_t *st;

	servers(2);
	a = comp_get(0x0020, NULL, 128);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.m.comp.page, 128);
	memcpy(p128, a.data, a.len);
	p128_len = a.len;
	a = comp_get(0x0020, NULL, 0);
	cr_assert(a.len != p128_len || memcmp(a.data, p128, p128_len) != 0);

	memset(&c, 0, sizeof(c));
	c.op = CFG_OP_APPKEY_ADD;
	memcpy(c.appkey.key, app_key, 16);
	cr_assert_eq(cfg(0x0020, &c).m.appkey.status, CFG_STATUS_SUCCESS);
	memset(&c, 0, sizeof(c));
	c.op = CFG_OP_MODEL_APP_BIND;
	c.model_app.elem_addr = 0x0020;
	c.model_app.model.id = 0x1000;
	cr_assert_eq(cfg(0x0020, &c).m.model_app.status, CFG_STATUS_SUCCESS);

	cr_assert_eq(refresh(0x0020, RPR_NPPI_COMPOSITION_REFRESH, 0x0020), 0);
	run(NULL, 0, 1000);

	a = comp_get(0x0020, NULL, 0);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.len, p128_len);
	cr_assert_eq(memcmp(a.data, p128, p128_len), 0, "page 0 is the former page 128");
	/* Page 128 is gone: asking for it answers page 0. */
	a = comp_get(0x0020, NULL, 128);
	cr_assert_eq(a.m.comp.page, 0);
	cr_assert_eq(mesh_comp_parse(a.data, a.len, &comp), 0);
	cr_assert_eq(comp.n_elems, 2);

	/* The bindings went with the old models; the AppKey stayed, so the new model binds. */
	memset(&c, 0, sizeof(c));
	c.op = CFG_OP_SIG_MODEL_APP_GET;
	c.model_ref.elem_addr = 0x0020;
	c.model_ref.model.id = 0x1000;
	a = cfg(0x0020, &c);
	cr_assert_eq(a.m.model_list.status, CFG_STATUS_SUCCESS);
	cr_assert_eq(a.m.model_list.n, 0);
	memset(&c, 0, sizeof(c));
	c.op = CFG_OP_MODEL_APP_BIND;
	c.model_app.elem_addr = 0x0021;
	c.model_app.model.id = 0x1000;
	cr_assert_eq(cfg(0x0020, &c).m.model_app.status, CFG_STATUS_SUCCESS);

	/* The stored state carries the new page 0 and no page 128. */
	st = sim_world_save_json(G.w);
	cr_assert_not_null(st);
	{
		json_t *s2 = NULL, *v;
		const char *k;

		json_object_foreach(json_object_get(st, "devices"), k, v)
		{
			if (json_integer_value(json_object_get(v, "addr")) == 0x0020) {
				s2 = v;
			}
		}
		cr_assert_not_null(s2);
		cr_assert_null(json_object_get(s2, "page128"));
		cr_assert_not_null(json_object_get(s2, "page0"));
		cr_assert_eq(json_integer_value(json_object_get(s2, "elements")), 2);
	}
	json_decref(st);
}

/* A server switched off mid-provisioning: the session fails cleanly; after power on it works. */
Test(sim_node_rpr, s4_4_5_server_lost_mid_provisioning, .init = setup, .fini = teardown)
{
	struct pb_remote_target t = {.net_idx = 0, .server = 0x0010, .dev_key = NULL};
	struct prov_cfg c = prov_cfg(0x0200);
	uint32_t h;
	int err;

	servers(1);
	cr_assert_eq(pb_remote_provision(G.pbr, &t, G.scn->devices[dev_index("d1")].uuid, 10, &c,
					 now_ms(), &h),
		     0);
	run(NULL, 0, 1500);
	cr_assert_eq(pb_remote_active(G.pbr), 1);
	cr_assert_str_eq(ctl("s1", "power off"), "ok");
	cr_assert_not_null(strstr(ctl("s1", "status"), "power off"));
	err = remote_wait();
	cr_assert(err == -ETIMEDOUT || err == -ECONNRESET, "err %d", err);
	cr_assert_eq(pb_remote_active(G.pbr), 0);
	cr_assert_not(sim_node_provisioned(dev("d1")));

	/* Powered on, the server starts again from its flash and provisions d1. */
	cr_assert_str_eq(ctl("s1", "power on"), "ok");
	run(NULL, 0, 2000);
	cr_assert_eq(comp_get(0x0010, NULL, 0).err, 0);
	cr_assert_eq(remote_provision(0x0010, "d1", 0x0200), 0);
	cr_assert_eq(remote_wait(), 0);
	run(NULL, 0, 2000);
	cr_assert_eq(sim_node_addr(dev("d1")), 0x0200);
}

/* Status shows each NetKey as index:phase:fingerprint of the key the node transmits with. */
Test(sim_node_rpr, status_netkey_phase, .init = setup, .fini = teardown)
{
	static const uint8_t new_key[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
					    0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
	struct mesh_node *n;
	char fp_old[9], fp_new[9], want[40];

	servers(1);
	n = sim_node_mesh(dev("s1"));
	cr_assert_not_null(n);
	mesh_crypto_key_fingerprint(net_key, fp_old);
	mesh_crypto_key_fingerprint(new_key, fp_new);
	snprintf(want, sizeof(want), " netkey 0:0:%s", fp_old);
	cr_assert_not_null(strstr(ctl("s1", "status"), want), "%s", ctl("s1", "status"));
	/* Phase 1 still transmits with the old key; phase 2 with the new one; phase 3 ends at 0. */
	cr_assert_eq(mesh_node_netkey_update(n, 0, new_key), 0);
	snprintf(want, sizeof(want), " netkey 0:1:%s", fp_old);
	cr_assert_not_null(strstr(ctl("s1", "status"), want), "%s", ctl("s1", "status"));
	cr_assert_eq(mesh_node_kr_transition(n, 0, 2), 0);
	snprintf(want, sizeof(want), " netkey 0:2:%s", fp_new);
	cr_assert_not_null(strstr(ctl("s1", "status"), want), "%s", ctl("s1", "status"));
	cr_assert_eq(mesh_node_kr_transition(n, 0, 3), 0);
	snprintf(want, sizeof(want), " netkey 0:0:%s", fp_new);
	cr_assert_not_null(strstr(ctl("s1", "status"), want), "%s", ctl("s1", "status"));
}
