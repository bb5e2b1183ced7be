/*
 * gateway/relay_apply.c on the in-memory air of tests/mesh/rpr_fixture.h:
 * the provisioner P applies a relay plan to provisioned nodes (Config
 * Servers, all relaying at first) with Config Relay Set; the nodes' Relay
 * states and P's TTL per node are checked afterwards.
 *
 *   P - s0 - s1 - s2      s0 also hears s3: rings s0 1, s1 and s3 2, s2 3
 *         \- s3
 */
#define FX_SRV 4

#include "gateway/relay_apply.h"
#include "tests/mesh/rpr_fixture.h"

struct seen {
	int nodes, done;
	uint16_t order[8];
	bool relay[8];
	int err[8];
	size_t ok, failed;
};

static struct seen S;

static void on_node(void *ctx, uint16_t addr, bool relay, int err)
{
	(void)ctx;
	cr_assert_lt(S.nodes, 8);
	S.order[S.nodes] = addr;
	S.relay[S.nodes] = relay;
	S.err[S.nodes++] = err;
}

static void on_done(void *ctx, size_t ok, size_t failed)
{
	(void)ctx;
	S.done++;
	S.ok = ok;
	S.failed = failed;
}

static const struct gw_relay_apply_ops ops = {.node = on_node, .done = on_done};
static const uint16_t addrs[4] = {0x0100, 0x0110, 0x0120, 0x0130};
static const uint8_t elements[4] = {1, 1, 2, 1};

static void setup(void)
{
	int i, j;

	memset(&S, 0, sizeof(S));
	fx_init(33);
	for (i = 0; i < 4; i++) {
		fx_add_srv(addrs[i], NULL, 0);
	}
	/* Only the chain's links. */
	for (i = 0; i < 4; i++) {
		minair_link(&fx_air, fx_p.id, fx_s[i].id, i == 0);
		for (j = i + 1; j < 4; j++) {
			minair_link(&fx_air, fx_s[i].id, fx_s[j].id,
				    (i == 0 && j == 1) || (i == 1 && j == 2) || (i == 0 && j == 3));
		}
	}
}

static void teardown(void)
{
	fx_fini();
}

static void make_plan(struct gw_relay_plan *p)
{
	const struct gw_relay_node n[4] = {
	    {0x0100, true}, {0x0110, true}, {0x0120, true}, {0x0130, true}};
	const struct gw_relay_link l[] = {{GW_RELAY_PLAN_GATEWAY, 0x0100, -50},
					  {0x0100, 0x0110, -50},
					  {0x0110, 0x0120, -50},
					  {0x0100, 0x0130, -50}};
	struct gw_relay_plan_cfg c;

	gw_relay_plan_cfg_default(&c);
	cr_assert_eq(gw_relay_plan_compute(n, 4, l, 4, &c, p), 0);
	cr_assert(p->relay[0] && p->relay[1] && !p->relay[2] && !p->relay[3]);
}

static struct gw_relay_apply *start(const struct gw_relay_plan *p,
				    const struct gw_relay_apply_cfg *cfg)
{
	struct gw_relay_apply *a = NULL;

	cr_assert_eq(
	    gw_relay_apply_start(fx_p.cfg, fx_p.node, p, addrs, NULL, cfg, &ops, fx_air.now, &a),
	    0);
	cr_assert_not_null(a);
	return a;
}

/* Relays on nearest first, then the others off farthest first; states and TTLs follow the plan. */
Test(relay_apply, plan_applied_in_order, .init = setup, .fini = teardown)
{
	struct gw_relay_apply_cfg cfg;
	struct gw_relay_apply *a = NULL;
	struct gw_relay_plan p;
	int i;

	make_plan(&p);
	gw_relay_apply_cfg_default(&cfg);
	cfg.window = 1; /* one at a time: the order is the work list's */
	cfg.set_ttl = true;
	cfg.relay_xmit = 0x00; /* a single transmission per relayed PDU */
	cr_assert_eq(gw_relay_apply_start(fx_p.cfg, fx_p.node, &p, addrs, elements, &cfg, &ops,
					  fx_air.now, &a),
		     0);
	/* The TTLs are set at once, before any answer: they carry the requests. */
	cr_assert_eq(mesh_node_dst_ttl(fx_p.node, 0x0100), 0, "ring 1: TTL 0");
	cr_assert_eq(mesh_node_dst_ttl(fx_p.node, 0x0110), 2);
	cr_assert_eq(mesh_node_dst_ttl(fx_p.node, 0x0120), 3);
	cr_assert_eq(mesh_node_dst_ttl(fx_p.node, 0x0121), 3, "its second element");
	cr_assert_eq(mesh_node_dst_ttl(fx_p.node, 0x0130), 2);
	cr_assert(minair_run_until(&fx_air, &S.done, 1, fx_air.now + 60000), "not done");
	cr_assert_eq(S.ok, 4);
	cr_assert_eq(S.failed, 0);
	cr_assert_eq(S.nodes, 4);
	cr_assert_eq(S.order[0], 0x0100);
	cr_assert_eq(S.order[1], 0x0110);
	cr_assert_eq(S.order[2], 0x0120, "farthest switch-off first");
	cr_assert_eq(S.order[3], 0x0130);
	for (i = 0; i < 4; i++) {
		const struct mesh_node_config *nc = mesh_node_config(fx_s[i].node);

		cr_assert_eq(S.err[i], 0);
		cr_assert_eq(nc->relay, p.relay[i], "node %d", i);
		if (p.relay[i]) {
			cr_assert_eq(nc->relay_xmit, 0x00);
		}
	}
	/* The network still works through the planned relays: s2 answers over s0 and s1. */
	cr_assert_eq(fx_comp_get(0x0120, fx_s[2].dev_key, 0).err, 0);
	gw_relay_apply_free(a);
	gw_relay_plan_free(&p);
}

/* A node that never answers is reported with its error; the others are applied; done once. */
Test(relay_apply, silent_node_reported, .init = setup, .fini = teardown)
{
	struct gw_relay_apply_cfg cfg;
	struct gw_relay_apply *a = NULL;
	struct gw_relay_plan p;
	int i;

	make_plan(&p);
	fx_isolate(fx_s[3].id);
	gw_relay_apply_cfg_default(&cfg);
	cfg.timeout_ms = 3000;
	a = start(&p, &cfg);
	cr_assert_eq(mesh_node_dst_ttl(fx_p.node, 0x0120), 7, "no TTL without set_ttl");
	cr_assert(minair_run_until(&fx_air, &S.done, 1, fx_air.now + 60000), "not done");
	minair_run(&fx_air, fx_air.now + 10000);
	cr_assert_eq(S.done, 1);
	cr_assert_eq(S.ok, 3);
	cr_assert_eq(S.failed, 1);
	for (i = 0; i < S.nodes; i++) {
		cr_assert_eq(S.err[i], S.order[i] == 0x0130 ? -ETIMEDOUT : 0, "0x%04x", S.order[i]);
	}
	cr_assert(mesh_node_config(fx_s[3].node)->relay, "untouched");
	cr_assert_not(mesh_node_config(fx_s[2].node)->relay);
	gw_relay_apply_free(a);
	gw_relay_plan_free(&p);
}

/* Abandoned while requests are in flight: no callback afterwards. */
Test(relay_apply, abandoned, .init = setup, .fini = teardown)
{
	struct gw_relay_apply_cfg cfg;
	struct gw_relay_apply *a = NULL;
	struct gw_relay_plan p;

	make_plan(&p);
	gw_relay_apply_cfg_default(&cfg);
	a = start(&p, &cfg);
	gw_relay_apply_free(a);
	minair_run(&fx_air, fx_air.now + 30000);
	cr_assert_eq(S.nodes, 0);
	cr_assert_eq(S.done, 0);
	gw_relay_plan_free(&p);
}

/* Nothing to do: done from the call itself; bad arguments. */
Test(relay_apply, empty_and_invalid, .init = setup, .fini = teardown)
{
	struct gw_relay_apply_cfg cfg;
	struct gw_relay_apply *a = NULL;
	struct gw_relay_plan p = {0};
	struct gw_relay_apply_ops no_done = {.node = on_node};

	gw_relay_apply_cfg_default(&cfg);
	cr_assert_eq(
	    gw_relay_apply_start(fx_p.cfg, fx_p.node, &p, NULL, NULL, &cfg, &ops, fx_air.now, &a),
	    0);
	cr_assert_eq(S.done, 1);
	cr_assert_eq(S.ok + S.failed, 0);
	gw_relay_apply_free(a);
	cr_assert_eq(gw_relay_apply_start(fx_p.cfg, fx_p.node, &p, NULL, NULL, &cfg, &no_done,
					  fx_air.now, &a),
		     -EINVAL);
	cfg.window = 0;
	cr_assert_eq(
	    gw_relay_apply_start(fx_p.cfg, fx_p.node, &p, NULL, NULL, &cfg, &ops, fx_air.now, &a),
	    -EINVAL);
}
