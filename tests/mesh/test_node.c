/*
 * mesh/node.c: whole nodes exchanging real Network PDUs over an in-memory
 * air with a topology, driven by a fake clock.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/beacon.h"
#include "mesh/node.h"
#include "tests/util/tv.h"

#define NODES 4
#define QUEUE 4096

struct pkt {
	int from;
	uint8_t type;
	uint8_t len;
	uint8_t data[31];
};

struct world {
	struct mesh_node *node[NODES];
	int id[NODES];
	bool hears[NODES][NODES];
	struct pkt q[QUEUE];
	size_t qh, qt;
	uint64_t now;
	uint64_t rng;
	/* Device keys the "provisioner" (node 0) knows, by primary address. */
	struct mesh_utp_key devkey[NODES];
	uint16_t devaddr[NODES];
	/* What models saw. */
	int got_get, got_status, got_dev, got_big;
	uint8_t status_val;
	uint8_t big[380];
	size_t big_len;
	unsigned changed;
	uint32_t sent_status;
	int sent_count;
	/* Vendor messages in order of arrival: receiving node and first octet. */
	int seen_node[64];
	uint8_t seen_tag[64];
	int n_seen;
	/* traced(): node, kind and opcode of each report, in order. */
	int tr_node[256];
	unsigned tr_kind[256];
	uint32_t tr_op[256];
	int n_tr;
	/* make_node(): mesh_node_config_sessions() when not 0, pending_max when not 0. */
	unsigned sessions;
	uint16_t pending_max;
};

static struct world W;

static int adv_send(void *ctx, uint8_t type, const uint8_t *data, size_t len, uint8_t count,
		    uint16_t interval)
{
	int from = *(int *)ctx;
	struct pkt *p;

	(void)count;
	(void)interval;
	cr_assert_leq(len, 29);
	cr_assert_lt(W.qt - W.qh, QUEUE, "air queue overflow");
	p = &W.q[W.qt++ % QUEUE];
	p->from = from;
	p->type = type;
	p->len = (uint8_t)len;
	memcpy(p->data, data, len);
	return 0;
}

static size_t dev_keys(void *ctx, uint16_t addr, const struct mesh_utp_key **out, size_t max)
{
	int i;

	(void)ctx;
	for (i = 0; i < NODES; i++) {
		if (W.devaddr[i] && W.devaddr[i] == addr && max) {
			out[0] = &W.devkey[i];
			return 1;
		}
	}
	return 0;
}

static void changed(void *ctx, unsigned what)
{
	(void)ctx;
	W.changed |= what;
}

static void sent(void *ctx, uint32_t handle, int status)
{
	(void)ctx;
	(void)handle;
	W.sent_status = (uint32_t)status;
	W.sent_count++;
}

static void traced(void *ctx, unsigned kind, uint16_t src, uint16_t dst, uint32_t opcode)
{
	(void)src;
	(void)dst;
	if (W.n_tr < 256) {
		W.tr_node[W.n_tr] = *(int *)ctx;
		W.tr_kind[W.n_tr] = kind;
		W.tr_op[W.n_tr++] = opcode;
	}
}

/* How many reports of this kind (and opcode, unless 0) node i gave. */
static int n_traced(int i, unsigned kind, uint32_t op)
{
	int k, n = 0;

	for (k = 0; k < W.n_tr; k++) {
		n += W.tr_node[k] == i && W.tr_kind[k] == kind && (!op || W.tr_op[k] == op);
	}
	return n;
}

/* Deliver everything queued, then advance the clock to the next deadline; until quiet. */
static void pump(uint64_t until)
{
	while (W.now <= until) {
		if (W.qh != W.qt) {
			struct pkt p = W.q[W.qh++ % QUEUE];
			int i;

			for (i = 0; i < NODES; i++) {
				if (W.node[i] && i != p.from && W.hears[p.from][i]) {
					(void)mesh_node_rx_adv(W.node[i], p.type, p.data, p.len,
							       W.now);
				}
			}
			continue;
		}
		uint64_t d = UINT64_MAX;
		int i;

		for (i = 0; i < NODES; i++) {
			if (W.node[i]) {
				uint64_t t = mesh_node_next_deadline(W.node[i]);

				d = t < d ? t : d;
			}
		}
		if (d == UINT64_MAX || d > until) {
			W.now = until + 1;
			break;
		}
		W.now = d > W.now ? d : W.now;
		for (i = 0; i < NODES; i++) {
			if (W.node[i]) {
				mesh_node_tick(W.node[i], W.now);
			}
		}
	}
}

static int h_get(struct mesh_acc_model *m, const struct mesh_acc_msg *msg, void *user)
{
	uint8_t st = 1;

	(void)m;
	W.got_get++;
	return mesh_node_reply(user, msg, mesh_acc_model_elem(m), 0x8204, &st, 1, W.now);
}

static int h_status(struct mesh_acc_model *m, const struct mesh_acc_msg *msg, void *user)
{
	(void)m;
	(void)user;
	W.got_status++;
	W.status_val = msg->params[0];
	return 0;
}

static int h_dev(struct mesh_acc_model *m, const struct mesh_acc_msg *msg, void *user)
{
	(void)m;
	(void)user;
	(void)msg;
	W.got_dev++;
	return mesh_node_reply(user, msg, 0, 0x02, (const uint8_t *)"\x00\x11", 2, W.now);
}

static int h_big(struct mesh_acc_model *m, const struct mesh_acc_msg *msg, void *user)
{
	(void)m;
	(void)user;
	W.got_big++;
	memcpy(W.big, msg->params, msg->len);
	W.big_len = msg->len;
	if (msg->len && W.n_seen < 64) {
		int i;

		for (i = 0; i < NODES && W.node[i] != user; i++) {
		}
		W.seen_node[W.n_seen] = i;
		W.seen_tag[W.n_seen++] = msg->params[0];
	}
	return 0;
}

static const struct mesh_acc_op srv_ops[] = {{0x8201, 0, 0, h_get}};
static const struct mesh_acc_op cli_ops[] = {{0x8204, 1, 3, h_status}};
static const struct mesh_acc_op cfgcli_ops[] = {{0x02, 1, -1, h_status}};
static const struct mesh_acc_op cfg_ops[] = {{0x8008, 1, 1, h_dev}};
static const struct mesh_acc_op vnd_ops[] = {{MESH_ACC_OP_VND(0x01, 0x05f1), 0, 379, h_big}};

static const uint8_t net_key[16] = {0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18,
				    0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6};
static const uint8_t app_key[16] = {0x63, 0x96, 0x47, 0x71, 0x73, 0x4f, 0xbd, 0x76,
				    0xe3, 0xb4, 0x05, 0x19, 0xd1, 0xd9, 0x4a, 0x48};

/* Node i at address addr with 2 elements, a server, a client, a config-like and a vendor model. */
static void make_node(int i, uint16_t addr, bool relay)
{
	struct mesh_node_config cfg;
	struct mesh_node_ops ops = {0};
	struct mesh_rng rng = {tv_rng, &W.rng};
	struct mesh_acc *acc;
	struct mesh_acc_model *srv, *cli, *vnd;
	uint8_t dk[16];

	mesh_node_config_default(&cfg);
	cfg.relay = relay;
	cfg.beacon_interval_ms = 0;
	if (W.sessions) {
		mesh_node_config_sessions(&cfg, W.sessions);
	}
	if (W.pending_max) {
		cfg.pending_max = W.pending_max;
	}
	W.id[i] = i;
	ops.ctx = &W.id[i];
	ops.adv_send = adv_send;
	ops.dev_keys = dev_keys;
	ops.changed = changed;
	ops.sent = sent;
	ops.traced = traced;
	W.node[i] = mesh_node_new(&cfg, &ops, &rng, W.now);
	cr_assert_not_null(W.node[i]);
	acc = mesh_node_acc(W.node[i]);
	cr_assert_eq(mesh_acc_elem_add(acc, 0x0100), 0);
	cr_assert_eq(mesh_acc_elem_add(acc, 0x0101), 1);
	cr_assert_eq(mesh_acc_model_add(acc, 0, (struct mesh_model_id){false, 0, 0x0000},
					MESH_ACC_MODEL_DEV_KEY, cfg_ops, 1, W.node[i], NULL),
		     0);
	cr_assert_eq(mesh_acc_model_add(acc, 0, (struct mesh_model_id){false, 0, 0x0001},
					MESH_ACC_MODEL_DEV_KEY, cfgcli_ops, 1, W.node[i], NULL),
		     0);
	cr_assert_eq(mesh_acc_model_add(acc, 1, (struct mesh_model_id){false, 0, 0x1000}, 0,
					srv_ops, 1, W.node[i], &srv),
		     0);
	cr_assert_eq(mesh_acc_model_add(acc, 0, (struct mesh_model_id){false, 0, 0x1001}, 0,
					cli_ops, 1, W.node[i], &cli),
		     0);
	cr_assert_eq(mesh_acc_model_add(acc, 0, (struct mesh_model_id){true, 0x05f1, 0x0001}, 0,
					vnd_ops, 1, W.node[i], &vnd),
		     0);
	memset(dk, 0x10 + i, sizeof(dk));
	cr_assert_eq(mesh_node_provision(W.node[i], addr, dk, 0, net_key, 0x12345678, 0, W.now), 0);
	cr_assert_eq(mesh_utp_key_init(&W.devkey[i], MESH_APP_IDX_DEV, dk, false), 0);
	W.devaddr[i] = addr;
	cr_assert_eq(mesh_node_appkey_add(W.node[i], 0, 0x123, app_key), 0);
	cr_assert_eq(mesh_acc_model_bind(srv, 0x123), 0);
	cr_assert_eq(mesh_acc_model_bind(cli, 0x123), 0);
	cr_assert_eq(mesh_acc_model_bind(vnd, 0x123), 0);
}

static void setup(void)
{
	memset(&W, 0, sizeof(W));
	W.rng = 42;
	W.now = 1000;
}

static void teardown(void)
{
	int i;

	for (i = 0; i < NODES; i++) {
		mesh_node_free(W.node[i]);
	}
}

static void connect(int a, int b)
{
	W.hears[a][b] = W.hears[b][a] = true;
}

static void send_app(int from, uint16_t dst, uint32_t op, const uint8_t *p, size_t len)
{
	struct mesh_node_msg m = {.net_idx = 0,
				  .app_idx = 0x123,
				  .dst = dst,
				  .ttl = MESH_TTL_DEFAULT,
				  .opcode = op,
				  .params = p,
				  .len = len};

	cr_assert_eq(mesh_node_send(W.node[from], &m, W.now, NULL), 0);
}

/* An AppKey request reaches the server model on element 1 and its reply reaches the client. */
Test(node, app_request_and_reply, .init = setup, .fini = teardown)
{
	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false);
	connect(0, 1);
	send_app(0, 0x0101, 0x8201, NULL, 0);
	pump(W.now + 5000);
	cr_assert_eq(W.got_get, 1);
	cr_assert_eq(W.got_status, 1);
	cr_assert_eq(W.status_val, 1);
}

/*
 * The traffic report: an unsegmented request and its reply are one
 * unsegmented PDU each and one access message sent and received each; a
 * 20-octet message goes as 2 segments (12 octets each, §3.5.2.3) answered
 * by one Segment Acknowledgment, both sides seeing the opcode.
 */
Test(node, traced_counts_pdus_and_messages, .init = setup, .fini = teardown)
{
	uint8_t mid[17] = {0};

	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false);
	connect(0, 1);
	send_app(0, 0x0101, 0x8201, NULL, 0);
	pump(W.now + 5000);
	cr_assert_eq(n_traced(0, MESH_NODE_TRACE_UNSEG, 0), 1);
	cr_assert_eq(n_traced(0, MESH_NODE_TRACE_ACC_TX, 0x8201), 1);
	cr_assert_eq(n_traced(1, MESH_NODE_TRACE_ACC_RX, 0x8201), 1);
	cr_assert_eq(n_traced(1, MESH_NODE_TRACE_UNSEG, 0), 1);
	cr_assert_eq(n_traced(1, MESH_NODE_TRACE_ACC_TX, 0x8204), 1);
	cr_assert_eq(n_traced(0, MESH_NODE_TRACE_ACC_RX, 0x8204), 1);
	W.n_tr = 0;
	send_app(0, 0x0100, MESH_ACC_OP_VND(0x01, 0x05f1), mid, sizeof(mid));
	pump(W.now + 5000);
	cr_assert_eq(W.got_big, 1);
	cr_assert_eq(n_traced(0, MESH_NODE_TRACE_SEG, 0), 2);
	cr_assert_eq(n_traced(0, MESH_NODE_TRACE_ACK, 0), 0);
	cr_assert_eq(n_traced(1, MESH_NODE_TRACE_ACK, 0), 1);
	cr_assert_eq(n_traced(1, MESH_NODE_TRACE_SEG, 0), 0);
	cr_assert_eq(n_traced(1, MESH_NODE_TRACE_ACC_RX, MESH_ACC_OP_VND(0x01, 0x05f1)), 1);
}

/*
 * A segmented send whose destination is known to have it (it answered):
 * mesh_node_send_answered() completes it as delivered and no segment goes
 * again.  The same send left alone, its acknowledgment never heard, is
 * sent in 1 + uni_retrans passes.
 */
Test(node, answered_send_stops_retransmissions, .init = setup, .fini = teardown)
{
	uint8_t mid[17] = {0};
	struct mesh_node_msg m = {.app_idx = 0x123,
				  .dst = 0x0100,
				  .ttl = MESH_TTL_DEFAULT,
				  .opcode = MESH_ACC_OP_VND(0x01, 0x05f1),
				  .params = mid,
				  .len = sizeof(mid)};
	uint32_t h = 0;

	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false); /* not connected: no acknowledgment comes back */
	cr_assert_eq(mesh_node_send(W.node[0], &m, W.now, &h), 0);
	cr_assert_neq(h, 0);
	cr_assert_eq(n_traced(0, MESH_NODE_TRACE_SEG, 0), 1, "the first segment goes at once");
	cr_assert_eq(mesh_node_send_answered(W.node[0], h, W.now), 0);
	cr_assert_eq(W.sent_count, 1);
	cr_assert_eq(W.sent_status, 0);
	pump(W.now + 10000);
	cr_assert_eq(n_traced(0, MESH_NODE_TRACE_SEG, 0), 1, "nothing after the answer");
	cr_assert_eq(mesh_node_send_answered(W.node[0], h, W.now), -ENOENT);
	cr_assert_eq(mesh_node_send_answered(W.node[0], 0, W.now), -EINVAL);

	/* Unanswered: 2 segments in each of 3 passes, then it times out. */
	W.n_tr = 0;
	cr_assert_eq(mesh_node_send(W.node[0], &m, W.now, &h), 0);
	pump(W.now + 10000);
	cr_assert_eq(n_traced(0, MESH_NODE_TRACE_SEG, 0), 6);
	cr_assert_eq(W.sent_count, 2);
	cr_assert_eq(W.sent_status, (uint32_t)-ETIMEDOUT);
}

/* A 300-octet vendor message is segmented, acknowledged and arrives intact once. */
Test(node, segmented_vendor_message, .init = setup, .fini = teardown)
{
	uint8_t big[300];
	size_t i;

	for (i = 0; i < sizeof(big); i++) {
		big[i] = (uint8_t)(i * 7);
	}
	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false);
	connect(0, 1);
	send_app(0, 0x0100, MESH_ACC_OP_VND(0x01, 0x05f1), big, sizeof(big));
	pump(W.now + 20000);
	cr_assert_eq(W.got_big, 1);
	cr_assert_eq(W.big_len, sizeof(big));
	cr_assert_arr_eq(W.big, big, sizeof(big));
	cr_assert_eq(W.sent_count, 1);
	cr_assert_eq(W.sent_status, 0);
}

/*
 * A short message sent `segmented` goes as one acknowledged segment with a
 * 32-bit TransMIC: the sender gets a handle and its completion, the
 * receiver sends one Segment Acknowledgment.  The same message unsegmented
 * gets neither.
 */
Test(node, short_message_forced_segmented, .init = setup, .fini = teardown)
{
	static const uint8_t small[3] = {0xa1, 0xb2, 0xc3};
	struct mesh_node_msg m = {.app_idx = 0x123,
				  .dst = 0x0100,
				  .ttl = MESH_TTL_DEFAULT,
				  .opcode = MESH_ACC_OP_VND(0x01, 0x05f1),
				  .params = small,
				  .len = sizeof(small),
				  .segmented = true};
	struct mesh_node_stats a0, a1, b0, b1;
	uint32_t h = 0;

	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false);
	connect(0, 1);
	mesh_node_stats(W.node[0], &a0);
	mesh_node_stats(W.node[1], &b0);
	cr_assert_eq(mesh_node_send(W.node[0], &m, W.now, &h), 0);
	cr_assert_neq(h, 0, "a segmented send has a handle");
	pump(W.now + 5000);
	mesh_node_stats(W.node[0], &a1);
	mesh_node_stats(W.node[1], &b1);
	cr_assert_eq(W.got_big, 1);
	cr_assert_eq(W.big_len, sizeof(small));
	cr_assert_arr_eq(W.big, small, sizeof(small));
	cr_assert_eq(W.sent_count, 1);
	cr_assert_eq(W.sent_status, 0, "acknowledged");
	cr_assert_eq(a1.net_tx - a0.net_tx, 1, "one segment");
	cr_assert_eq(b1.net_tx - b0.net_tx, 1, "one Segment Acknowledgment");

	m.segmented = false;
	cr_assert_eq(mesh_node_send(W.node[0], &m, W.now, &h), 0);
	cr_assert_eq(h, 0);
	pump(W.now + 5000);
	mesh_node_stats(W.node[1], &b0);
	cr_assert_eq(W.got_big, 2);
	cr_assert_eq(W.sent_count, 1, "no completion for an unsegmented send");
	cr_assert_eq(b0.net_tx, b1.net_tx, "nothing to acknowledge");
}

/* 0 - 1 - 2 - 3: nodes 1 and 2 relay, 3 is three hops from 0. */
static void chain4(void)
{
	make_node(0, 0x0001, false);
	make_node(1, 0x0100, true);
	make_node(2, 0x0200, true);
	make_node(3, 0x0300, false);
	connect(0, 1);
	connect(1, 2);
	connect(2, 3);
}

/* A message crosses two relays to a node out of the sender's range; without relays it does not. */
Test(node, relayed_over_two_hops, .init = setup, .fini = teardown)
{
	chain4();
	send_app(0, 0x0301, 0x8201, NULL, 0);
	pump(W.now + 5000);
	cr_assert_eq(W.got_get, 1, "request relayed to node 3");
	cr_assert_eq(W.got_status, 1, "reply relayed back");
	mesh_node_relay_set(W.node[1], false, 0x09);
	send_app(0, 0x0301, 0x8201, NULL, 0);
	pump(W.now + 5000);
	cr_assert_eq(W.got_get, 1, "no relay, no delivery");
}

/*
 * Per-destination TTL: node 3 is three hops away (0 - 1 - 2 - 3, 1 and 2
 * relay).  With TTL 2 the request dies at relay 2; with 3 it arrives; a
 * TTL 0 request to the neighbour is not relayed, and neither is its answer.
 */
Test(node, dst_ttl, .init = setup, .fini = teardown)
{
	struct mesh_node_stats r1a, r1b, r2a, r2b, r3a, r3b;

	chain4();
	cr_assert_eq(mesh_node_dst_ttl(W.node[0], 0x0301), 7, "the Default TTL without an entry");
	cr_assert_eq(mesh_node_dst_ttl_set(W.node[0], 0x0300, 2, 2), 0);
	cr_assert_eq(mesh_node_dst_ttl(W.node[0], 0x0300), 2);
	cr_assert_eq(mesh_node_dst_ttl(W.node[0], 0x0301), 2, "secondary element");
	cr_assert_eq(mesh_node_dst_ttl(W.node[0], 0x0302), 7, "past the node's elements");
	send_app(0, 0x0301, 0x8201, NULL, 0);
	pump(W.now + 5000);
	cr_assert_eq(W.got_get, 0, "TTL 2 does not cross three hops");

	cr_assert_eq(mesh_node_dst_ttl_set(W.node[0], 0x0300, 2, 3), 0);
	send_app(0, 0x0301, 0x8201, NULL, 0);
	pump(W.now + 5000);
	cr_assert_eq(W.got_get, 1, "TTL 3 does");
	cr_assert_eq(W.got_status, 1);

	cr_assert_eq(mesh_node_dst_ttl_set(W.node[0], 0x0100, 2, 0), 0);
	mesh_node_stats(W.node[1], &r1a);
	mesh_node_stats(W.node[2], &r2a);
	mesh_node_stats(W.node[3], &r3a);
	send_app(0, 0x0101, 0x8201, NULL, 0);
	pump(W.now + 5000);
	mesh_node_stats(W.node[1], &r1b);
	mesh_node_stats(W.node[2], &r2b);
	mesh_node_stats(W.node[3], &r3b);
	cr_assert_eq(W.got_get, 2);
	cr_assert_eq(W.got_status, 2, "the TTL 0 answer reaches the neighbour");
	cr_assert_eq(r1b.net_relayed, r1a.net_relayed, "the request is not relayed");
	cr_assert_eq(r2b.net_relayed, r2a.net_relayed, "nor the answer node 2 overhears");
	cr_assert_eq(r3b.net_rx, r3a.net_rx, "nothing reaches node 3");

	/* Removing an entry; invalid ones. */
	cr_assert_eq(mesh_node_dst_ttl_set(W.node[0], 0x0300, 2, MESH_TTL_DEFAULT), 0);
	cr_assert_eq(mesh_node_dst_ttl(W.node[0], 0x0300), 7);
	cr_assert_eq(mesh_node_dst_ttl(W.node[0], 0x0100), 0);
	cr_assert_eq(mesh_node_dst_ttl_set(W.node[0], 0x0300, 1, 1), -EINVAL);
	cr_assert_eq(mesh_node_dst_ttl_set(W.node[0], 0x0300, 1, 0x80), -EINVAL);
	cr_assert_eq(mesh_node_dst_ttl_set(W.node[0], 0xc000, 1, 3), -EINVAL);
	cr_assert_eq(mesh_node_dst_ttl_set(W.node[0], 0x7fff, 2, 3), -EINVAL);
	cr_assert_eq(mesh_node_dst_ttl_set(W.node[0], 0x0300, 0, 3), -EINVAL);
}

/* Device-key requests are answered under the device key; the provisioner decrypts with it. */
Test(node, device_key_exchange, .init = setup, .fini = teardown)
{
	struct mesh_node_msg m = {.app_idx = MESH_APP_IDX_DEV,
				  .dst = 0x0100,
				  .ttl = MESH_TTL_DEFAULT,
				  .opcode = 0x8008,
				  .params = (const uint8_t *)"\x00",
				  .len = 1};

	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false);
	connect(0, 1);
	cr_assert_eq(mesh_node_send(W.node[0], &m, W.now, NULL), 0);
	pump(W.now + 5000);
	cr_assert_eq(W.got_dev, 1);
	cr_assert_eq(W.got_status, 1, "Composition-like reply under the device key");
	cr_assert_eq(W.status_val, 0x00);
}

/* Device Key Refresh: a message under the candidate promotes it; the old key then fails. */
Test(node, device_key_candidate_promotion, .init = setup, .fini = teardown)
{
	uint8_t cand[16];
	struct mesh_node_msg m = {.app_idx = MESH_APP_IDX_DEV,
				  .dst = 0x0100,
				  .ttl = MESH_TTL_DEFAULT,
				  .opcode = 0x8008,
				  .params = (const uint8_t *)"\x00",
				  .len = 1};

	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false);
	connect(0, 1);
	memset(cand, 0xc5, sizeof(cand));
	mesh_node_devkey_candidate(W.node[1], cand);
	/* The provisioner switches to the candidate for its requests and replies. */
	cr_assert_eq(mesh_utp_key_init(&W.devkey[1], MESH_APP_IDX_DEV, cand, false), 0);
	m.dev_key = cand;
	cr_assert_eq(mesh_node_send(W.node[0], &m, W.now, NULL), 0);
	pump(W.now + 5000);
	cr_assert_eq(W.got_dev, 1);
	cr_assert_eq(W.got_status, 1, "reply under the new key");
	cr_assert(W.changed & MESH_NODE_CHANGED_DEVKEY);
	memset(cand, 0x11, sizeof(cand)); /* the old device key of node 1 */
	m.dev_key = cand;
	cr_assert_eq(mesh_node_send(W.node[0], &m, W.now, NULL), 0);
	pump(W.now + 5000);
	cr_assert_eq(W.got_dev, 1, "the old device key is revoked");
}

/* A replayed Network PDU is not delivered twice, even after the cache would have forgotten it. */
Test(node, replay_dropped, .init = setup, .fini = teardown)
{
	struct pkt saved;
	size_t i;

	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false);
	connect(0, 1);
	send_app(0, 0x0101, 0x8201, NULL, 0);
	saved = W.q[W.qh % QUEUE];
	pump(W.now + 5000);
	cr_assert_eq(W.got_get, 1);
	/* Flood the message cache with other traffic, then replay the first PDU. */
	for (i = 0; i < 200; i++) {
		send_app(0, 0x0101, 0x8201, NULL, 0);
		pump(W.now + 100);
	}
	cr_assert_eq(W.got_get, 201);
	cr_assert_eq(mesh_node_rx_adv(W.node[1], saved.type, saved.data, saved.len, W.now), 0);
	pump(W.now + 5000);
	cr_assert_eq(W.got_get, 201, "the replay was dropped by the replay protection list");
}

/* Malformed and foreign advertising data is refused and changes nothing. */
Test(node, malformed_adv_refused, .init = setup, .fini = teardown)
{
	struct mesh_node_stats st;
	uint8_t junk[29];

	make_node(0, 0x0001, false);
	memset(junk, 0x5a, sizeof(junk));
	cr_assert_lt(mesh_node_rx_adv(W.node[0], MESH_AD_MESSAGE, junk, 5, W.now), 0);
	cr_assert_lt(mesh_node_rx_adv(W.node[0], MESH_AD_MESSAGE, junk, 29, W.now), 0);
	cr_assert_eq(mesh_node_rx_adv(W.node[0], 0x29, junk, 10, W.now), -ENOTSUP);
	junk[0] = MESH_BEACON_SECURE;
	cr_assert_lt(mesh_node_rx_adv(W.node[0], MESH_AD_BEACON, junk, 22, W.now), 0);
	mesh_node_stats(W.node[0], &st);
	cr_assert_eq(st.net_rx, 0);
	cr_assert_eq(st.acc_rx, 0);
	cr_assert_eq(st.beacons_rx, 0);
}

/* Secure Network Beacons carry an IV Update to a node that follows it. */
Test(node, beacon_carries_iv_update, .init = setup, .fini = teardown)
{
	uint32_t iv;
	bool upd;

	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false);
	connect(0, 1);
	mesh_net_iv_test_mode(mesh_node_net(W.node[0]), true);
	mesh_net_iv_test_mode(mesh_node_net(W.node[1]), true);
	cr_assert_eq(mesh_net_iv_update_start(mesh_node_net(W.node[0]), W.now), 0);
	mesh_node_beacon_now(W.node[0], W.now);
	pump(W.now + 100);
	mesh_net_iv_get(mesh_node_net(W.node[1]), &iv, &upd);
	cr_assert_eq(iv, 0x12345679);
	cr_assert(upd);
	cr_assert(W.changed & MESH_NODE_CHANGED_IV);
	/* Traffic still flows during the update. */
	send_app(0, 0x0101, 0x8201, NULL, 0);
	pump(W.now + 5000);
	cr_assert_eq(W.got_status, 1);
}

/*
 * A node whose Private Beacon state is on and Beacon state off (Mesh 1.1
 * §3.10.4) announces Key Refresh phase 2 in a Mesh Private beacon only; a
 * peer in phase 1 follows it to phase 2, then to Normal operation when the
 * flag clears (§3.10.4.1, Table 3.52).
 */
Test(node, private_beacon_drives_key_refresh, .init = setup, .fini = teardown)
{
	static const uint8_t new_key[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
					    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
	struct mesh_net *peer;
	int i;

	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false);
	connect(0, 1);
	mesh_node_beacon_set(W.node[0], false);
	mesh_node_private_beacon_set(W.node[0], true);
	peer = mesh_node_net(W.node[1]);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(mesh_node_netkey_update(W.node[i], 0, new_key), 0);
	}
	cr_assert_eq(mesh_node_kr_transition(W.node[0], 0, 2), 0);
	mesh_node_beacon_now(W.node[0], W.now);
	cr_assert_eq(W.qt - W.qh, 1, "one beacon");
	cr_assert_eq(W.q[W.qh % QUEUE].type, MESH_AD_BEACON);
	cr_assert_eq(W.q[W.qh % QUEUE].data[0], MESH_BEACON_PRIVATE);
	cr_assert_eq(W.q[W.qh % QUEUE].len, MESH_BEACON_PRIVATE_LEN);
	pump(W.now + 100);
	cr_assert_eq(mesh_net_subnet_kr_phase(peer, 0), 2);
	cr_assert(W.changed & MESH_NODE_CHANGED_KR);

	cr_assert_eq(mesh_node_kr_transition(W.node[0], 0, 3), 0);
	mesh_node_beacon_now(W.node[0], W.now);
	pump(W.now + 100);
	cr_assert_eq(mesh_net_subnet_kr_phase(peer, 0), 0);
	/* Both are on the new key alone: traffic between them still flows. */
	send_app(0, 0x0101, 0x8201, NULL, 0);
	pump(W.now + 5000);
	cr_assert_eq(W.got_get, 1);
	cr_assert_eq(W.got_status, 1);
}

/* With both states off the node sends no beacon, even when asked to beacon now. */
Test(node, no_beacon_when_both_states_off, .init = setup, .fini = teardown)
{
	make_node(0, 0x0001, false);
	mesh_node_beacon_set(W.node[0], false);
	mesh_node_beacon_now(W.node[0], W.now);
	cr_assert_eq(W.qt, W.qh);
	mesh_node_private_beacon_set(W.node[0], true);
	mesh_node_beacon_now(W.node[0], W.now);
	cr_assert_eq(W.qt - W.qh, 1);
}

/* --- The send queue ------------------------------------------------------------------------- */

/*
 * A vendor message from node 0 whose first octet is tag: len 20 is
 * segmented (3 + 20 octets and a TransMIC), len 1 fits one PDU.  Returns
 * mesh_node_send()'s result; *h its handle (0 when queued or unsegmented).
 */
static int send_tagged(uint16_t dst, uint8_t tag, size_t len, uint32_t *h)
{
	uint8_t p[20];
	struct mesh_node_msg m = {.app_idx = 0x123,
				  .dst = dst,
				  .ttl = MESH_TTL_DEFAULT,
				  .opcode = MESH_ACC_OP_VND(0x01, 0x05f1),
				  .params = p,
				  .len = len};

	memset(p, tag, sizeof(p));
	*h = 0xffffffff;
	return mesh_node_send(W.node[0], &m, W.now, h);
}

/*
 * Messages queued to one destination arrive in the order they were sent,
 * including a short one that could have gone at once (it waits behind the
 * queued segmented one); a destination with a message in flight and more
 * queued does not hold up another destination's message.
 */
Test(node, queue_fifo_per_destination, .init = setup, .fini = teardown)
{
	struct mesh_node_stats s0, s1;
	uint32_t h;
	int k, a = 0, b = 0;

	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false);
	make_node(2, 0x0200, false);
	connect(0, 1);
	connect(0, 2);
	cr_assert_eq(send_tagged(0x0100, 0xa1, 20, &h), 0);
	cr_assert_neq(h, 0, "A1 in flight");
	cr_assert_eq(send_tagged(0x0100, 0xa2, 20, &h), 0);
	cr_assert_eq(h, 0, "A2 waits for A1 (one segmented message per destination)");
	cr_assert_eq(send_tagged(0x0200, 0xb1, 20, &h), 0);
	cr_assert_neq(h, 0, "B1 goes past A's queue");
	mesh_node_stats(W.node[0], &s0);
	cr_assert_eq(send_tagged(0x0100, 0xa3, 1, &h), 0);
	mesh_node_stats(W.node[0], &s1);
	cr_assert_eq(h, 0);
	cr_assert_eq(s1.net_tx, s0.net_tx, "A3 (unsegmented) queued behind A2, not sent");
	cr_assert_eq(send_tagged(0x0200, 0xb2, 20, &h), 0);
	cr_assert_eq(h, 0, "B2 waits for B1");
	cr_assert_eq(send_tagged(0x0100, 0xa4, 20, &h), 0);
	cr_assert_eq(h, 0);
	pump(W.now + 60000);
	cr_assert_eq(W.n_seen, 6);
	for (k = 0; k < W.n_seen; k++) {
		if (W.seen_node[k] == 1) {
			cr_assert_eq(W.seen_tag[k], 0xa1 + a, "node 1 message %d: %02x", a,
				     W.seen_tag[k]);
			a++;
		} else {
			cr_assert_eq(W.seen_node[k], 2);
			cr_assert_eq(W.seen_tag[k], 0xb1 + b);
			b++;
		}
	}
	cr_assert_eq(a, 4);
	cr_assert_eq(b, 2);
}

/* cfg.pending_max messages wait; one more is refused with -ENOSPC, and taken once the queue drains.
 */
Test(node, queue_capacity, .init = setup, .fini = teardown)
{
	uint32_t h;
	int k;

	W.pending_max = 3;
	make_node(0, 0x0001, false);
	W.pending_max = 0;
	make_node(1, 0x0100, false);
	connect(0, 1);
	cr_assert_eq(send_tagged(0x0100, 0x10, 20, &h), 0);
	cr_assert_neq(h, 0);
	for (k = 1; k <= 3; k++) {
		cr_assert_eq(send_tagged(0x0100, (uint8_t)(0x10 + k), 20, &h), 0);
		cr_assert_eq(h, 0);
	}
	cr_assert_eq(send_tagged(0x0100, 0x14, 20, &h), -ENOSPC);
	cr_assert_eq(send_tagged(0x0100, 0x14, 1, &h), -ENOSPC,
		     "an unsegmented one behind them too: it may not overtake");
	pump(W.now + 60000);
	cr_assert_eq(W.n_seen, 4);
	for (k = 0; k < 4; k++) {
		cr_assert_eq(W.seen_tag[k], 0x10 + k);
	}
	cr_assert_eq(send_tagged(0x0100, 0x14, 20, &h), 0);
	cr_assert_neq(h, 0, "drained: sent at once");
}

/*
 * The device key of a queued message is copied: the caller's buffer may
 * change (and be wiped) once mesh_node_send() returned, and the message
 * still goes under the key it was sent with.
 */
Test(node, queued_dev_key_is_copied, .init = setup, .fini = teardown)
{
	uint8_t p[20], dk[16];
	struct mesh_node_msg m = {.app_idx = MESH_APP_IDX_DEV,
				  .dev_key = dk,
				  .dst = 0x0100,
				  .ttl = MESH_TTL_DEFAULT,
				  .opcode = 0x8008,
				  .params = p,
				  .len = 1};
	uint32_t h;

	make_node(0, 0x0001, false);
	make_node(1, 0x0100, false);
	connect(0, 1);
	cr_assert_eq(send_tagged(0x0100, 0x01, 20, &h), 0);
	cr_assert_neq(h, 0);
	cr_assert_eq(send_tagged(0x0100, 0x02, 20, &h), 0);
	cr_assert_eq(h, 0);
	memset(dk, 0x11, sizeof(dk)); /* node 1's device key (make_node: 0x10 + i) */
	p[0] = 0x01;
	cr_assert_eq(mesh_node_send(W.node[0], &m, W.now, &h), 0);
	cr_assert_eq(h, 0, "queued behind the second segmented message");
	memset(dk, 0, sizeof(dk));
	memset(p, 0, sizeof(p));
	cr_assert_eq(W.got_dev, 0);
	pump(W.now + 60000);
	cr_assert_eq(W.got_big, 2);
	cr_assert_eq(W.got_dev, 1, "decrypted under the key given at the send");
}

/*
 * 16 segmented messages to 16 destinations: a node sized for 16 sessions
 * (as the gateway sizes its own from max_sessions) has them all in flight
 * at once, each with its first segment on the air; the stack's defaults
 * have 4 in flight and queue the rest.
 */
static int in_flight_of_16(unsigned sessions)
{
	struct mesh_node_stats s0, s1;
	uint32_t h;
	int k, n = 0;

	W.sessions = sessions;
	make_node(0, 0x0001, false);
	mesh_node_stats(W.node[0], &s0);
	for (k = 0; k < 16; k++) {
		cr_assert_eq(send_tagged((uint16_t)(0x0400 + 2 * k), (uint8_t)k, 20, &h), 0);
		n += h != 0;
	}
	mesh_node_stats(W.node[0], &s1);
	cr_assert_eq(s1.net_tx - s0.net_tx, (uint32_t)n, "a first segment per message in flight");
	mesh_node_free(W.node[0]);
	W.node[0] = NULL;
	return n;
}

Test(node, sessions_sized_capacity, .init = setup, .fini = teardown)
{
	struct mesh_node_config c;

	cr_assert_eq(in_flight_of_16(0), 4);
	cr_assert_eq(in_flight_of_16(16), 16);
	mesh_node_config_default(&c);
	mesh_node_config_sessions(&c, 16);
	cr_assert_eq(c.ltp.tx_slots, 32);
	cr_assert_eq(c.ltp.rx_slots, 32);
	cr_assert_eq(c.pending_max, 512);
	mesh_node_config_default(&c);
	mesh_node_config_sessions(&c, 1);
	cr_assert_eq(c.ltp.tx_slots, 4, "never below the defaults");
	cr_assert_eq(c.ltp.rx_slots, 8);
	cr_assert_eq(c.pending_max, MESH_NODE_PENDING_DEFAULT);
	mesh_node_config_sessions(&c, 1000);
	cr_assert_eq(c.ltp.tx_slots, 255);
	cr_assert_eq(c.pending_max, 8160);
}
