#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/relay_plan.h"
#include "sim/air.h"
#include "sim/scenario.h"

#define GW GW_RELAY_PLAN_GATEWAY

static struct gw_relay_plan_cfg cfg(int8_t min_rssi, uint8_t max_hops, uint8_t redundancy)
{
	struct gw_relay_plan_cfg c = {
	    .min_rssi = min_rssi, .max_hops = max_hops, .redundancy = redundancy};

	return c;
}

static void plan(const struct gw_relay_node *nodes, size_t n, const struct gw_relay_link *links,
		 size_t nl, struct gw_relay_plan_cfg c, struct gw_relay_plan *p)
{
	cr_assert_eq(gw_relay_plan_compute(nodes, n, links, nl, &c, p), 0);
	cr_assert_eq(p->n, n);
}

Test(relay_plan, defaults)
{
	struct gw_relay_plan_cfg c;

	gw_relay_plan_cfg_default(&c);
	cr_assert_eq(c.min_rssi, -85);
	cr_assert_eq(c.max_hops, 10);
	cr_assert_eq(c.redundancy, 2);
	cr_assert_null(c.keep);
}

/* gw - 1 - 2 - 3: the two inner nodes relay, the leaf does not. */
Test(relay_plan, chain)
{
	const struct gw_relay_node n[] = {{1, true}, {2, true}, {3, true}};
	const struct gw_relay_link l[] = {{GW, 1, -50}, {1, 2, -50}, {3, 2, -50}};
	struct gw_relay_plan p;

	plan(n, 3, l, 3, cfg(-80, 10, 2), &p);
	cr_assert(p.relay[0] && p.relay[1] && !p.relay[2]);
	cr_assert_eq(p.n_relays, 2);
	cr_assert_eq(p.hops[0], 1);
	cr_assert_eq(p.hops[1], 2);
	cr_assert_eq(p.hops[2], 3);
	cr_assert_eq(p.heard[2], 1); /* redundancy 2 asked, one neighbour possible */
	cr_assert_eq(p.n_unreached, 0);
	gw_relay_plan_free(&p);
	cr_assert_null(p.relay);
}

/* Everything in the gateway's range: nobody relays. */
Test(relay_plan, all_in_range)
{
	const struct gw_relay_node n[] = {{5, true}, {6, true}, {7, true}};
	const struct gw_relay_link l[] = {{GW, 5, -40}, {6, GW, -41}, {GW, 7, -42}, {5, 6, -40}};
	struct gw_relay_plan p;

	plan(n, 3, l, 4, cfg(-80, 10, 2), &p);
	cr_assert_eq(p.n_relays, 0);
	cr_assert(p.hops[0] == 1 && p.hops[1] == 1 && p.hops[2] == 1);
	cr_assert(p.heard[0] == 1 && p.heard[1] == 1 && p.heard[2] == 1);
	gw_relay_plan_free(&p);
}

/*
 * Ring 1: 1, 2, 3; ring 2: 10 and 11, each heard by all three.  Redundancy 2
 * takes two of the three (the strongest links: 2 and 3), redundancy 1 one.
 */
Test(relay_plan, redundancy_and_strength)
{
	const struct gw_relay_node n[] = {{1, true}, {2, true}, {3, true}, {10, true}, {11, true}};
	const struct gw_relay_link l[] = {
	    {GW, 1, -50}, {GW, 2, -50}, {GW, 3, -50}, {1, 10, -70}, {1, 11, -70},
	    {2, 10, -60}, {2, 11, -60}, {3, 10, -55}, {3, 11, -55},
	};
	struct gw_relay_plan p;

	plan(n, 5, l, 9, cfg(-80, 10, 2), &p);
	cr_assert_eq(p.n_relays, 2);
	cr_assert(!p.relay[0] && p.relay[1] && p.relay[2]);
	cr_assert(p.heard[3] == 2 && p.heard[4] == 2);
	cr_assert(p.hops[3] == 2 && p.hops[4] == 2);
	gw_relay_plan_free(&p);

	plan(n, 5, l, 9, cfg(-80, 10, 1), &p);
	cr_assert_eq(p.n_relays, 1);
	cr_assert(p.relay[2]);
	cr_assert(p.heard[3] == 1 && p.heard[4] == 1);
	gw_relay_plan_free(&p);
}

/*
 * The same rings with node 1 relaying already (cfg.keep): it covers 10 and
 * 11 first, so the greedy takes nobody else at redundancy 1; at redundancy
 * 2 it is one of the two.  A kept node nobody needs stays in the set, and a
 * kept node without the Relay feature is not kept.
 */
Test(relay_plan, kept_relays_first)
{
	const struct gw_relay_node n[] = {{1, true}, {2, true}, {3, true}, {10, true}, {11, true}};
	const struct gw_relay_link l[] = {
	    {GW, 1, -50}, {GW, 2, -50}, {GW, 3, -50}, {1, 10, -70}, {1, 11, -70},
	    {2, 10, -60}, {2, 11, -60}, {3, 10, -55}, {3, 11, -55},
	};
	const bool keep[] = {true, false, false, false, false};
	const bool keep_leaf[] = {false, false, false, true, false};
	struct gw_relay_node no_relay[5];
	struct gw_relay_plan_cfg c = cfg(-80, 10, 1);
	struct gw_relay_plan p;

	c.keep = keep;
	plan(n, 5, l, 9, c, &p);
	cr_assert_eq(p.n_relays, 1);
	cr_assert(p.relay[0] && !p.relay[1] && !p.relay[2]);
	cr_assert(p.heard[3] == 1 && p.heard[4] == 1);
	gw_relay_plan_free(&p);

	c.redundancy = 2;
	plan(n, 5, l, 9, c, &p);
	cr_assert_eq(p.n_relays, 2);
	cr_assert(p.relay[0] && !p.relay[1] && p.relay[2]);
	gw_relay_plan_free(&p);

	c.keep = keep_leaf;
	c.redundancy = 1;
	plan(n, 5, l, 9, c, &p);
	cr_assert_eq(p.n_relays, 2);
	cr_assert(p.relay[2] && p.relay[3] && !p.relay[4]);
	gw_relay_plan_free(&p);

	memcpy(no_relay, n, sizeof(n));
	no_relay[0].can_relay = false;
	c.keep = keep;
	plan(no_relay, 5, l, 9, c, &p);
	cr_assert(!p.relay[0] && p.relay[2]);
	gw_relay_plan_free(&p);
}

/*
 * The greedy first takes 1 (it alone covers three nodes), then 2 and 3 for
 * the second relay of 20 and 21; then 1 is covering nothing that lacks it
 * (22 has 1 and 4)... prune must keep exactly what the rings need.
 */
Test(relay_plan, prune_keeps_only_needed)
{
	const struct gw_relay_node n[] = {{1, true}, {2, true}, {3, true}, {20, true}, {21, true}};
	const struct gw_relay_link l[] = {
	    {GW, 1, -50}, {GW, 2, -50}, {GW, 3, -50}, {1, 20, -60},
	    {1, 21, -60}, {2, 20, -60}, {3, 21, -60},
	};
	struct gw_relay_plan p;

	/* Redundancy 1: relay 1 alone covers both. */
	plan(n, 5, l, 7, cfg(-80, 10, 1), &p);
	cr_assert_eq(p.n_relays, 1);
	cr_assert(p.relay[0]);
	gw_relay_plan_free(&p);
	/* Redundancy 2: 20 needs 1 and 2, 21 needs 1 and 3. */
	plan(n, 5, l, 7, cfg(-80, 10, 2), &p);
	cr_assert_eq(p.n_relays, 3);
	gw_relay_plan_free(&p);
}

/* A link is as strong as its weakest reception: -60 one way, -90 the other, is not used. */
Test(relay_plan, weakest_reception_and_threshold)
{
	const struct gw_relay_node n[] = {{1, true}, {2, true}, {3, true}};
	const struct gw_relay_link l[] = {
	    {GW, 1, -50}, {1, 2, -60}, {2, 1, -90}, {GW, 3, -50}, {3, 2, -70},
	};
	struct gw_relay_plan p;

	plan(n, 3, l, 5, cfg(-80, 10, 2), &p);
	cr_assert_eq(p.hops[1], 2);
	cr_assert(!p.relay[0] && p.relay[2]);
	gw_relay_plan_free(&p);

	/* Above the threshold of -65 only the gateway's links remain. */
	plan(n, 3, l, 5, cfg(-65, 10, 2), &p);
	cr_assert_eq(p.hops[1], GW_RELAY_PLAN_UNREACHED);
	cr_assert_eq(p.heard[1], 0);
	cr_assert_eq(p.n_unreached, 1);
	cr_assert_eq(p.n_relays, 0);
	gw_relay_plan_free(&p);
}

/* A node that cannot relay is no path, and a hop limit cuts the chain. */
Test(relay_plan, no_relay_feature_and_hop_limit)
{
	const struct gw_relay_node n[] = {{1, false}, {2, true}, {3, true}};
	const struct gw_relay_link l[] = {{GW, 1, -50}, {1, 2, -50}, {2, 3, -50}};
	struct gw_relay_node n2[3];
	struct gw_relay_plan p;

	plan(n, 3, l, 3, cfg(-80, 10, 2), &p);
	cr_assert_eq(p.hops[0], 1);
	cr_assert_eq(p.hops[1], GW_RELAY_PLAN_UNREACHED);
	cr_assert_eq(p.hops[2], GW_RELAY_PLAN_UNREACHED);
	cr_assert_eq(p.n_unreached, 2);
	cr_assert_eq(p.n_relays, 0);
	gw_relay_plan_free(&p);

	memcpy(n2, n, sizeof(n2));
	n2[0].can_relay = true;
	plan(n2, 3, l, 3, cfg(-80, 2, 2), &p);
	cr_assert_eq(p.hops[1], 2);
	cr_assert_eq(p.hops[2], GW_RELAY_PLAN_UNREACHED);
	cr_assert(p.relay[0] && !p.relay[1]);
	gw_relay_plan_free(&p);
}

/* Receptions naming unknown nodes, or a node hearing itself, are ignored. */
Test(relay_plan, unknown_nodes_ignored)
{
	const struct gw_relay_node n[] = {{1, true}};
	const struct gw_relay_link l[] = {{GW, 9, -40}, {9, 1, -40}, {1, 1, -40}};
	struct gw_relay_plan p;

	plan(n, 1, l, 3, cfg(-80, 10, 2), &p);
	cr_assert_eq(p.hops[0], GW_RELAY_PLAN_UNREACHED);
	cr_assert_eq(p.n_unreached, 1);
	gw_relay_plan_free(&p);

	plan(NULL, 0, NULL, 0, cfg(-80, 10, 2), &p);
	cr_assert_eq(p.n_relays, 0);
	gw_relay_plan_free(&p);
}

Test(relay_plan, invalid)
{
	const struct gw_relay_node dup[] = {{1, true}, {1, true}};
	const struct gw_relay_node zero[] = {{0, true}};
	struct gw_relay_plan_cfg c = cfg(-80, 10, 2);
	struct gw_relay_plan p;

	cr_assert_eq(gw_relay_plan_compute(dup, 2, NULL, 0, &c, &p), -EINVAL);
	cr_assert_eq(gw_relay_plan_compute(zero, 1, NULL, 0, &c, &p), -EINVAL);
	c = cfg(-80, 0, 2);
	cr_assert_eq(gw_relay_plan_compute(dup, 1, NULL, 0, &c, &p), -EINVAL);
	c = cfg(-80, 128, 2);
	cr_assert_eq(gw_relay_plan_compute(dup, 1, NULL, 0, &c, &p), -EINVAL);
	c = cfg(-80, 10, 0);
	cr_assert_eq(gw_relay_plan_compute(dup, 1, NULL, 0, &c, &p), -EINVAL);
	cr_assert_eq(gw_relay_plan_compute(dup, 1, NULL, 0, NULL, &p), -EINVAL);
}

/* --- Real geometry ---------------------------------------------------------------- */

/*
 * The links meshsim's propagation model gives between every pair of a
 * scenario's devices and its native port (the gateway), as a scan would
 * report them; node i has address i + 1.
 */
struct geo {
	struct sim_scenario *scn;
	struct gw_relay_node *nodes;
	struct gw_relay_link *links;
	size_t n, nl;
	double sens; /* dBm at range_m on the same floor */
};

static void geo_load(const char *name, struct geo *g)
{
	char path[512], err[256];
	struct sim_air *air;
	uint32_t *pid;
	size_t i, j;

	snprintf(path, sizeof(path), "%s/sim/scenarios/%s", MESHGW_SOURCE_DIR, name);
	cr_assert_eq(sim_scenario_load(path, &g->scn, err, sizeof(err)), 0, "%s", err);
	g->n = g->scn->n_devices;
	air = sim_air_new(1, &g->scn->air);
	cr_assert_not_null(air);
	pid = calloc(g->n + 1, sizeof(*pid));
	g->nodes = calloc(g->n, sizeof(*g->nodes));
	g->links = calloc((g->n + 1) * (g->n + 1), sizeof(*g->links));
	cr_assert(pid && g->nodes && g->links);
	cr_assert_eq(sim_air_add(air, &g->scn->native_pos, "gw", NULL, NULL, &pid[0]), 0);
	for (i = 0; i < g->n; i++) {
		cr_assert_eq(sim_air_add(air, &g->scn->devices[i].pos, g->scn->devices[i].name,
					 NULL, NULL, &pid[i + 1]),
			     0);
		g->nodes[i].addr = (uint16_t)(i + 1);
		/* Composition Data page 0 Features bit 0: Relay (§4.2.2.1). */
		g->nodes[i].can_relay = g->scn->devices[i].comp.features & 1;
	}
	for (i = 0; i <= g->n; i++) {
		for (j = 0; j <= g->n; j++) {
			int8_t rssi;
			bool in;

			if (i != j && !sim_air_link(air, pid[i], pid[j], &rssi, &in) && in) {
				g->links[g->nl++] = (struct gw_relay_link){
				    (uint16_t)i, (uint16_t)j, rssi}; /* vertex 0 = gateway */
			}
		}
	}
	g->sens =
	    g->scn->air.rssi_1m_dbm - 10.0 * g->scn->air.path_loss_exp * log10(g->scn->air.range_m);
	sim_air_free(air);
	free(pid);
}

static void geo_free(struct geo *g)
{
	sim_scenario_free(g->scn);
	free(g->nodes);
	free(g->links);
}

/*
 * Check a plan against the links independently: every reached node on ring
 * h > 1 hears a relay on ring h - 1 over a link at or above min_rssi, and
 * `redundancy` of them when it has that many relay-capable neighbours there.
 */
static void check_plan(const struct geo *g, const struct gw_relay_plan *p, int8_t min_rssi,
		       uint8_t redundancy)
{
	size_t i, k;

	for (i = 0; i < g->n; i++) {
		size_t relays = 0, capable = 0;

		if (p->hops[i] == GW_RELAY_PLAN_UNREACHED || p->hops[i] == 1) {
			continue;
		}
		for (k = 0; k < g->nl; k++) {
			const struct gw_relay_link *l = &g->links[k];
			size_t u;

			if (l->to != i + 1 || l->from == GW || l->rssi < min_rssi) {
				continue;
			}
			u = l->from - 1u;
			if (p->hops[u] == p->hops[i] - 1 && g->nodes[u].can_relay) {
				capable++;
				relays += p->relay[u];
			}
		}
		cr_assert_geq(relays, 1, "%s on ring %u hears no relay", g->scn->devices[i].name,
			      p->hops[i]);
		cr_assert_geq(relays, capable < redundancy ? capable : redundancy, "%s",
			      g->scn->devices[i].name);
	}
}

static size_t relays_in_scenario(const struct geo *g)
{
	size_t i, n = 0;

	for (i = 0; i < g->n; i++) {
		n += g->scn->devices[i].relay;
	}
	return n;
}

Test(relay_plan, office_geometry)
{
	struct gw_relay_plan_cfg c = cfg(-80, 10, 2);
	struct gw_relay_plan p;
	struct geo g = {0};
	uint8_t maxh = 0;
	size_t i;

	geo_load("office.json", &g);
	/*
	 * Every link in range: the scenario is laid out at the edge of range (a
	 * 3 dB margin makes the farthest ring 11 hops instead of 7, and the plan
	 * 45 relays instead of 28).
	 */
	c.min_rssi = (int8_t)floor(g.sens);
	plan(g.nodes, g.n, g.links, g.nl, c, &p);
	check_plan(&g, &p, c.min_rssi, 2);
	for (i = 0; i < g.n; i++) {
		maxh = p.hops[i] != GW_RELAY_PLAN_UNREACHED && p.hops[i] > maxh ? p.hops[i] : maxh;
	}
	cr_log_info("office.json: %zu devices, %zu relays planned (scenario: %zu), %zu unreached, "
		    "min_rssi %d, farthest ring %u",
		    g.n, p.n_relays, relays_in_scenario(&g), p.n_unreached, c.min_rssi, maxh);
	cr_assert_eq(p.n_unreached, 0);
	cr_assert_eq(maxh, 7); /* shortest paths kept: the scenario's 7 hops */
	cr_assert_lt(p.n_relays, 30);
	gw_relay_plan_free(&p);
	geo_free(&g);
}

Test(relay_plan, building_geometry)
{
	struct gw_relay_plan_cfg c = cfg(-80, 30, 2);
	struct gw_relay_plan p;
	struct geo g = {0};

	geo_load("building.json", &g);
	c.min_rssi = (int8_t)floor(g.sens);
	plan(g.nodes, g.n, g.links, g.nl, c, &p);
	check_plan(&g, &p, c.min_rssi, 2);
	cr_assert_eq(p.n_unreached, 0);
	cr_log_info("building.json: %zu devices, %zu relays planned (scenario: %zu), %zu "
		    "unreached, min_rssi %d",
		    g.n, p.n_relays, relays_in_scenario(&g), p.n_unreached, c.min_rssi);
	cr_assert_lt(p.n_relays, g.n / 3);
	gw_relay_plan_free(&p);
	geo_free(&g);
}
