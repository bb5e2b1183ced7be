/*
 * mesh/cfg_srv.c driven by mesh/cfg_cli.c across two nodes on the in-memory
 * air: every answer is a real status message decoded from the air.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/cfg_cli.h"
#include "mesh/cfg_srv.h"
#include "mesh/comp.h"
#include "tests/util/minair.h"
#include "tests/util/tv.h"

struct dev {
	struct mesh_node *node;
	struct cfg_srv *srv;
	struct cfg_cli *cli;
	int id;
};

static struct minair air;
static struct dev prov, dev;
static uint64_t rng_state = 7;
static int resets;
static struct mesh_utp_key dev_devkey;

static const uint8_t net_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t dk[16] = {0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
			       0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf};

/* The provisioner node's send queue (cfg.pending_max) in make(). */
static uint16_t prov_pending_max = MESH_NODE_PENDING_DEFAULT;

/* Sends the gateway's bearer refuses with -ENOBUFS (its queue is full), then accepts. */
static int refuse_sends;

static int adv_send(void *ctx, uint8_t t, const uint8_t *d, size_t len, uint8_t c, uint16_t iv)
{
	(void)c;
	(void)iv;
	if (ctx == &prov && refuse_sends > 0) {
		refuse_sends--;
		return -ENOBUFS;
	}
	minair_send(&air, ((struct dev *)ctx)->id, t, d, len);
	return 0;
}

static size_t dev_keys(void *ctx, uint16_t addr, const struct mesh_utp_key **out, size_t max)
{
	(void)ctx;
	if (addr >= 0x0100 && addr < 0x0103 && max) {
		out[0] = &dev_devkey;
		return 1;
	}
	return 0;
}

static void p_rx(void *o, uint8_t t, const uint8_t *d, size_t len, uint64_t now)
{
	(void)mesh_node_rx_adv(((struct dev *)o)->node, t, d, len, now);
}

static uint64_t p_deadline(void *o)
{
	struct dev *x = o;
	uint64_t a = mesh_node_next_deadline(x->node);
	uint64_t b = x->cli ? cfg_cli_next_deadline(x->cli) : UINT64_MAX;

	return a < b ? a : b;
}

static void p_tick(void *o, uint64_t now)
{
	struct dev *x = o;

	mesh_node_tick(x->node, now);
	if (x->cli) {
		cfg_cli_tick(x->cli, now);
	}
}

static void on_reset(void *ctx)
{
	(void)ctx;
	resets++;
}

static int h_noop(struct mesh_acc_model *m, const struct mesh_acc_msg *msg, void *user)
{
	(void)m;
	(void)msg;
	(void)user;
	return 0;
}

static const struct mesh_acc_op onoff_ops[] = {{0x8201, 0, 0, h_noop}};

static void make(struct dev *x, uint16_t addr, bool server)
{
	struct mesh_node_config cfg;
	struct mesh_node_ops ops = {.ctx = x, .adv_send = adv_send, .dev_keys = dev_keys};
	struct mesh_rng rng = {tv_rng, &rng_state};
	struct minair_part p = {x, p_rx, p_deadline, p_tick};
	struct mesh_acc *acc;
	uint8_t own[16];

	mesh_node_config_default(&cfg);
	cfg.beacon_interval_ms = 0;
	if (x == &prov) {
		cfg.pending_max = prov_pending_max;
	}
	x->node = mesh_node_new(&cfg, &ops, &rng, air.now);
	acc = mesh_node_acc(x->node);
	mesh_acc_elem_add(acc, 0x0100);
	if (server) {
		struct cfg_srv_config sc = {.cid = 0x05f1,
					    .pid = 0x0001,
					    .vid = 0x0002,
					    .crpl = 32,
					    .features = MESH_FEAT_RELAY};
		struct cfg_srv_ops so = {.reset = on_reset};

		mesh_acc_elem_add(acc, 0x0101);
		x->srv = cfg_srv_new(x->node, &sc, &so);
		cr_assert_not_null(x->srv);
		cr_assert_eq(mesh_acc_model_add(acc, 1, (struct mesh_model_id){false, 0, 0x1000}, 0,
						onoff_ops, 1, NULL, NULL),
			     0);
		memcpy(own, dk, 16);
	} else {
		x->cli = cfg_cli_new(x->node);
		cr_assert_not_null(x->cli);
		memset(own, 0xee, 16);
	}
	cr_assert_eq(mesh_node_provision(x->node, addr, own, 0, net_key, 0, 0, air.now), 0);
	x->id = minair_add(&air, &p);
}

static void setup(void)
{
	minair_init(&air, 1000, 3);
	memset(&prov, 0, sizeof(prov));
	memset(&dev, 0, sizeof(dev));
	resets = 0;
	mesh_utp_key_init(&dev_devkey, MESH_APP_IDX_DEV, dk, false);
	make(&prov, 0x0001, false);
	make(&dev, 0x0100, true);
}

/* setup() with a provisioner node that queues nothing. */
static void setup_no_queue(void)
{
	prov_pending_max = 0;
	setup();
	prov_pending_max = MESH_NODE_PENDING_DEFAULT;
}

static void teardown(void)
{
	cfg_cli_free(prov.cli);
	cfg_srv_free(dev.srv);
	mesh_node_free(prov.node);
	mesh_node_free(dev.node);
}

struct answer {
	int done;
	int err;
	uint16_t src;
	struct cfg_msg m;
	uint8_t comp[400];
};

static void on_answer(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct answer *a = ctx;

	a->done++;
	a->err = err;
	a->src = src;
	if (rsp) {
		a->m = *rsp;
		if (rsp->op == CFG_OP_COMP_STATUS) {
			memcpy(a->comp, rsp->comp.data, rsp->comp.data_len);
			a->m.comp.data = a->comp;
		}
	}
}

/* Send req and run the air until its answer (or time-out) arrives. */
static struct answer ask(const struct cfg_msg *req)
{
	struct answer a = {0};
	int r = cfg_cli_request(prov.cli, 0, 0x0100, NULL, req, 5000, 1000, on_answer, &a, air.now);

	cr_assert_eq(r, 0, "request 0x%x: %d", (unsigned)req->op, r);
	cr_assert(minair_run_until(&air, &a.done, 1, air.now + 20000), "no answer");
	return a;
}

/* Composition Data page 0 describes the node's registry; page 128 absent answers page 0. */
Test(cfg_srv, comp_data_page0, .init = setup, .fini = teardown)
{
	struct cfg_msg req = {.op = CFG_OP_COMP_GET, .comp.page = 0};
	struct answer a = ask(&req);
	struct mesh_comp c;

	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.src, 0x0100);
	cr_assert_eq(a.m.op, CFG_OP_COMP_STATUS);
	cr_assert_eq(a.m.comp.page, 0);
	cr_assert_eq(mesh_comp_parse(a.comp, a.m.comp.data_len, &c), 0);
	cr_assert_eq(c.cid, 0x05f1);
	cr_assert_eq(c.crpl, 32);
	cr_assert_eq(c.n_elems, 2);
	cr_assert_eq(c.elems[0].num_s, 1);
	cr_assert_eq(c.sig[c.elems[0].sig_off], 0x0000);
	cr_assert_eq(c.sig[c.elems[1].sig_off], 0x1000);
	req.comp.page = 128;
	a = ask(&req);
	cr_assert_eq(a.m.comp.page, 0, "no page 128: the largest page below it");
}

/* With a page 128 set, Composition Data Get 128 returns exactly its bytes. */
Test(cfg_srv, comp_data_page128, .init = setup, .fini = teardown)
{
	uint8_t p128[64];
	size_t len;
	struct cfg_msg req = {.op = CFG_OP_COMP_GET, .comp.page = 128};
	struct answer a;

	cr_assert_eq(cfg_srv_page0(dev.srv, p128, sizeof(p128), &len), 0);
	p128[4] = 0x03; /* a new VID: the firmware after the update */
	cr_assert_eq(cfg_srv_page128_set(dev.srv, p128, len), 0);
	a = ask(&req);
	cr_assert_eq(a.m.comp.page, 128);
	cr_assert_eq(a.m.comp.data_len, len);
	cr_assert_arr_eq(a.comp, p128, len);
	cr_assert_eq(cfg_srv_page128_set(dev.srv, p128, 5), -EBADMSG, "garbage page refused");
}

/* AppKey Add, repeated Add, conflicting Add, bind, and the AppKey List. */
Test(cfg_srv, appkey_and_bind, .init = setup, .fini = teardown)
{
	struct cfg_msg req = {.op = CFG_OP_APPKEY_ADD};
	struct answer a;

	req.appkey.net_idx = 0;
	req.appkey.app_idx = 0x123;
	memset(req.appkey.key, 0x63, 16);
	a = ask(&req);
	cr_assert_eq(a.m.op, CFG_OP_APPKEY_STATUS);
	cr_assert_eq(a.m.appkey.status, CFG_STATUS_SUCCESS);
	cr_assert_eq(a.m.appkey.app_idx, 0x123);
	a = ask(&req);
	cr_assert_eq(a.m.appkey.status, CFG_STATUS_SUCCESS, "same key again is idempotent");
	req.appkey.key[0] ^= 1;
	a = ask(&req);
	cr_assert_eq(a.m.appkey.status, CFG_STATUS_KEY_INDEX_ALREADY_STORED);
	req.appkey.net_idx = 7;
	a = ask(&req);
	cr_assert_eq(a.m.appkey.status, CFG_STATUS_INVALID_NETKEY);

	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_MODEL_APP_BIND;
	req.model_app.elem_addr = 0x0101;
	req.model_app.app_idx = 0x123;
	req.model_app.model.id = 0x1000;
	a = ask(&req);
	cr_assert_eq(a.m.op, CFG_OP_MODEL_APP_STATUS);
	cr_assert_eq(a.m.model_app.status, CFG_STATUS_SUCCESS);
	req.model_app.elem_addr = 0x0100;
	req.model_app.model.id = 0x0000;
	a = ask(&req);
	cr_assert_eq(a.m.model_app.status, CFG_STATUS_CANNOT_BIND, "Config Server takes no AppKey");
	req.model_app.elem_addr = 0x0105;
	a = ask(&req);
	cr_assert_eq(a.m.model_app.status, CFG_STATUS_INVALID_ADDRESS);
	req.model_app.elem_addr = 0x0101;
	req.model_app.model.id = 0x1000;
	req.model_app.app_idx = 0x456;
	a = ask(&req);
	cr_assert_eq(a.m.model_app.status, CFG_STATUS_INVALID_APPKEY);

	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_SIG_MODEL_APP_GET;
	req.model_ref.elem_addr = 0x0101;
	req.model_ref.model.id = 0x1000;
	a = ask(&req);
	cr_assert_eq(a.m.op, CFG_OP_SIG_MODEL_APP_LIST);
	cr_assert_eq(a.m.model_list.n, 1);
	cr_assert_eq(a.m.model_list.items[0], 0x123);

	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_APPKEY_GET;
	req.net_idx.net_idx = 0;
	a = ask(&req);
	cr_assert_eq(a.m.op, CFG_OP_APPKEY_LIST);
	cr_assert_eq(a.m.idx_list.n, 1);
	cr_assert_eq(a.m.idx_list.idx[0], 0x123);
}

/* Subscriptions accept group addresses only and are listed back. */
Test(cfg_srv, subscriptions, .init = setup, .fini = teardown)
{
	struct cfg_msg req = {.op = CFG_OP_MODEL_SUB_ADD};
	struct answer a;

	req.model_sub.elem_addr = 0x0101;
	req.model_sub.model.id = 0x1000;
	req.model_sub.addr = 0xc001;
	a = ask(&req);
	cr_assert_eq(a.m.model_sub.status, CFG_STATUS_SUCCESS);
	req.model_sub.addr = 0x0005;
	a = ask(&req);
	cr_assert_eq(a.m.model_sub.status, CFG_STATUS_INVALID_ADDRESS);
	req.model_sub.addr = 0xc002;
	a = ask(&req);
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_SIG_MODEL_SUB_GET;
	req.model_ref.elem_addr = 0x0101;
	req.model_ref.model.id = 0x1000;
	a = ask(&req);
	cr_assert_eq(a.m.model_list.n, 2);
	cr_assert_eq(a.m.model_list.items[0], 0xc001);
	cr_assert_eq(a.m.model_list.items[1], 0xc002);
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_MODEL_SUB_DELETE_ALL;
	req.model_ref.elem_addr = 0x0101;
	req.model_ref.model.id = 0x1000;
	a = ask(&req);
	cr_assert_eq(a.m.model_sub.status, CFG_STATUS_SUCCESS);
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_SIG_MODEL_SUB_GET;
	req.model_ref.elem_addr = 0x0101;
	req.model_ref.model.id = 0x1000;
	a = ask(&req);
	cr_assert_eq(a.m.model_list.n, 0, "Delete All emptied the list");
}

/* Publication Set needs a known AppKey; Publication Get reports what was set. */
Test(cfg_srv, publication, .init = setup, .fini = teardown)
{
	struct cfg_msg req = {.op = CFG_OP_MODEL_PUB_SET};
	struct answer a;

	req.model_pub.elem_addr = 0x0101;
	req.model_pub.model.id = 0x1000;
	req.model_pub.pub_addr = 0xc010;
	req.model_pub.app_idx = 0x001;
	req.model_pub.ttl = 5;
	a = ask(&req);
	cr_assert_eq(a.m.model_pub.status, CFG_STATUS_INVALID_APPKEY);
	cr_assert_eq(mesh_node_appkey_add(dev.node, 0, 0x001, net_key), 0);
	a = ask(&req);
	cr_assert_eq(a.m.model_pub.status, CFG_STATUS_SUCCESS);
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_MODEL_PUB_GET;
	req.model_ref.elem_addr = 0x0101;
	req.model_ref.model.id = 0x1000;
	a = ask(&req);
	cr_assert_eq(a.m.model_pub.pub_addr, 0xc010);
	cr_assert_eq(a.m.model_pub.ttl, 5);
}

/* Default TTL, beacon, relay (supported), GATT Proxy (not supported), network transmit. */
Test(cfg_srv, one_octet_states, .init = setup, .fini = teardown)
{
	struct cfg_msg req = {.op = CFG_OP_DEFAULT_TTL_SET, .state.val = 9};
	struct answer a = ask(&req);

	cr_assert_eq(a.m.op, CFG_OP_DEFAULT_TTL_STATUS);
	cr_assert_eq(a.m.state.val, 9);
	cr_assert_eq(mesh_node_config(dev.node)->default_ttl, 9);
	req.op = CFG_OP_BEACON_SET;
	req.state.val = 0;
	a = ask(&req);
	cr_assert_eq(a.m.state.val, 0);
	cr_assert_not(mesh_node_config(dev.node)->beacon);
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_RELAY_SET;
	req.relay.relay = 1;
	req.relay.retransmit = 0x12;
	a = ask(&req);
	cr_assert_eq(a.m.relay.relay, 1);
	cr_assert_eq(a.m.relay.retransmit, 0x12);
	req.op = CFG_OP_GATT_PROXY_GET;
	a = ask(&req);
	cr_assert_eq(a.m.state.val, CFG_STATE_NOT_SUPPORTED);
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_NET_TRANSMIT_SET;
	req.state.val = 0x2a;
	a = ask(&req);
	cr_assert_eq(a.m.state.val, 0x2a);
}

/* NetKey Add/Get, Key Refresh Phase Get, and deleting the only NetKey is refused. */
Test(cfg_srv, netkeys_and_key_refresh, .init = setup, .fini = teardown)
{
	struct cfg_msg req = {.op = CFG_OP_NETKEY_ADD};
	struct answer a;

	req.netkey.net_idx = 1;
	memset(req.netkey.key, 0x42, 16);
	a = ask(&req);
	cr_assert_eq(a.m.net_idx.status, CFG_STATUS_SUCCESS);
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_NETKEY_GET;
	a = ask(&req);
	cr_assert_eq(a.m.idx_list.n, 2);
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_NETKEY_DELETE;
	req.net_idx.net_idx = 0;
	a = ask(&req);
	cr_assert_eq(a.m.net_idx.status, CFG_STATUS_CANNOT_REMOVE, "the key of this very request");
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_NETKEY_UPDATE;
	req.netkey.net_idx = 0;
	memset(req.netkey.key, 0x77, 16);
	a = ask(&req);
	cr_assert_eq(a.m.net_idx.status, CFG_STATUS_SUCCESS);
	memset(&req, 0, sizeof(req));
	req.op = CFG_OP_KRP_GET;
	a = ask(&req);
	cr_assert_eq(a.m.op, CFG_OP_KRP_STATUS);
	cr_assert_eq(a.m.net_idx.state, 1, "NetKey Update enters phase 1");
}

/* Heartbeat publication is stored and reported; an unknown NetKey is refused. */
Test(cfg_srv, heartbeat_states, .init = setup, .fini = teardown)
{
	struct cfg_msg req = {.op = CFG_OP_HB_PUB_SET};
	struct cfg_srv_hb hb;
	struct answer a;

	req.hb_pub.dst = 0x0001;
	req.hb_pub.count_log = 2;
	req.hb_pub.period_log = 3;
	req.hb_pub.ttl = 7;
	req.hb_pub.net_idx = 0;
	a = ask(&req);
	cr_assert_eq(a.m.hb_pub.status, CFG_STATUS_SUCCESS);
	cfg_srv_hb_get(dev.srv, &hb);
	cr_assert_eq(hb.pub_dst, 0x0001);
	cr_assert_eq(hb.pub_period_log, 3);
	req.hb_pub.net_idx = 9;
	a = ask(&req);
	cr_assert_eq(a.m.hb_pub.status, CFG_STATUS_INVALID_NETKEY);
}

/* Node Reset is acknowledged, then the owner is told to reset the device. */
Test(cfg_srv, node_reset, .init = setup, .fini = teardown)
{
	struct cfg_msg req = {.op = CFG_OP_NODE_RESET};
	struct answer a = ask(&req);

	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.m.op, CFG_OP_NODE_RESET_STATUS);
	cr_assert_eq(resets, 1);
}

/* A malformed request (Default TTL 1 is prohibited) is not answered and changes nothing. */
Test(cfg_srv, malformed_request_ignored, .init = setup, .fini = teardown)
{
	struct mesh_node_msg m = {.app_idx = MESH_APP_IDX_DEV,
				  .dst = 0x0100,
				  .ttl = MESH_TTL_DEFAULT,
				  .opcode = CFG_OP_DEFAULT_TTL_SET,
				  .params = (const uint8_t *)"\x01",
				  .len = 1};
	struct mesh_node_stats st;

	cr_assert_eq(mesh_node_send(prov.node, &m, air.now, NULL), 0);
	minair_run(&air, air.now + 5000);
	cr_assert_eq(mesh_node_config(dev.node)->default_ttl, 7, "unchanged default");
	mesh_node_stats(dev.node, &st);
	cr_assert_eq(st.acc_rx, 1, "it arrived");
	cr_assert_eq(st.acc_tx, 0, "and was not answered");
}

/* A request to a node that never answers times out after its retransmissions. */
Test(cfg_srv, client_times_out, .init = setup, .fini = teardown)
{
	struct cfg_msg req = {.op = CFG_OP_BEACON_GET};
	struct answer a = {0};
	size_t before;

	minair_link(&air, prov.id, dev.id, false);
	before = air.sent;
	cr_assert_eq(
	    cfg_cli_request(prov.cli, 0, 0x0100, NULL, &req, 5000, 1000, on_answer, &a, air.now),
	    0);
	cr_assert(minair_run_until(&air, &a.done, 1, air.now + 20000));
	cr_assert_eq(a.err, -ETIMEDOUT);
	cr_assert_geq(air.sent - before, 5, "sent once and retried every second");
}

/* The bearer has no room for the request (-ENOBUFS, a legacy controller's full queue):
 * the request is accepted, stays pending and its first retry gets the answer. */
Test(cfg_srv, request_sent_by_retry_when_bearer_full, .init = setup, .fini = teardown)
{
	struct cfg_msg req = {.op = CFG_OP_BEACON_GET};
	struct answer a = {0};
	size_t before = air.sent;
	uint64_t t0 = air.now;

	refuse_sends = 1;
	cr_assert_eq(
	    cfg_cli_request(prov.cli, 0, 0x0100, NULL, &req, 5000, 1000, on_answer, &a, air.now),
	    0);
	cr_assert_eq(refuse_sends, 0, "the first send was tried and refused");
	cr_assert_eq(air.sent, before, "nothing went on the air");
	cr_assert(minair_run_until(&air, &a.done, 1, air.now + 20000));
	cr_assert_eq(a.err, 0, "answered: %d", a.err);
	cr_assert_eq(a.m.op, CFG_OP_BEACON_STATUS);
	cr_assert_geq(air.now - t0, 1000, "sent by the retry, one second later");
}

/*
 * The node's send queue is full (-ENOSPC: here it holds nothing, and the
 * first AppKey Add, segmented, is in flight to the same node): the second
 * request is accepted all the same, stays pending and its retry sends it
 * once the first was delivered; both are answered.
 */
Test(cfg_srv, request_sent_by_retry_when_send_queue_full, .init = setup_no_queue, .fini = teardown)
{
	struct cfg_msg req = {.op = CFG_OP_APPKEY_ADD};
	struct answer a = {0}, b = {0};

	req.appkey.net_idx = 0;
	req.appkey.app_idx = 1;
	memset(req.appkey.key, 0x5a, 16);
	cr_assert_eq(
	    cfg_cli_request(prov.cli, 0, 0x0100, NULL, &req, 10000, 1000, on_answer, &a, air.now),
	    0);
	req.appkey.app_idx = 2;
	cr_assert_eq(
	    cfg_cli_request(prov.cli, 0, 0x0100, NULL, &req, 10000, 1000, on_answer, &b, air.now),
	    0, "-ENOSPC from the node is not the caller's failure");
	cr_assert(minair_run_until(&air, &b.done, 1, air.now + 20000));
	cr_assert_eq(a.done, 1);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.m.appkey.app_idx, 1);
	cr_assert_eq(b.err, 0, "answered: %d", b.err);
	cr_assert_eq(b.m.op, CFG_OP_APPKEY_STATUS);
	cr_assert_eq(b.m.appkey.app_idx, 2);
	cr_assert_eq(b.m.appkey.status, CFG_STATUS_SUCCESS);
}

/* Freeing a client or a server before its node unregisters its model: the node keeps
 * working without it, and nothing of the freed object is reachable through the node. */
Test(cfg_srv, free_unregisters_the_model, .init = setup, .fini = teardown)
{
	struct mesh_acc *pa = mesh_node_acc(prov.node), *da = mesh_node_acc(dev.node);
	const struct mesh_model_id cfg_cli_id = {false, 0, 0x0001}, cfg_srv_id = {false, 0, 0x0000};

	cr_assert_not_null(mesh_acc_model_find(pa, 0, cfg_cli_id));
	cr_assert_not_null(mesh_acc_model_find(da, 0, cfg_srv_id));
	cfg_cli_free(prov.cli);
	prov.cli = NULL;
	cfg_srv_free(dev.srv);
	dev.srv = NULL;
	cr_assert_null(mesh_acc_model_find(pa, 0, cfg_cli_id));
	cr_assert_null(mesh_acc_model_find(da, 0, cfg_srv_id));
	cr_assert_not_null(mesh_acc_model_find(da, 1, (struct mesh_model_id){false, 0, 0x1000}),
			   "the other models stay");
	/* A new client on the same node registers again. */
	prov.cli = cfg_cli_new(prov.node);
	cr_assert_not_null(prov.cli);
	cr_assert_not_null(mesh_acc_model_find(pa, 0, cfg_cli_id));
}
