/*
 * Relay planning: which nodes of a mesh should have the Relay feature on
 * (Mesh Protocol v1.1 §3.4.6.3, Config Relay Set §4.3.2.13) so that every
 * node is reached from the gateway, and no more.  Every relay repeats every
 * network PDU it hears (with TTL >= 2) once, so the air time of a message
 * grows with the number of relays in range of it; a building where every
 * node relays pays that for each message to every node.
 *
 * A pure module: no I/O, no clock, no globals.  The input is the radio
 * picture a scan gives (which node heard which, at what RSSI; the gateway is
 * node GW_RELAY_PLAN_GATEWAY), the output the relay set and, per node, the
 * hop count the plan reaches it in (the TTL a message to it needs).
 *
 * The plan keeps shortest paths: a node d hops from the gateway over links
 * at or above the RSSI threshold is reached in exactly d hops through
 * relays, so TTL d suffices and no route gets longer than the flood that
 * every-node-relays gave.  It is built ring by ring: ring k+1 must hear at
 * least `redundancy` relays of ring k (or all the ring-k neighbours it has,
 * when fewer), and the relays of ring k are chosen greedily (the candidate
 * that fills the most missing coverage first; ties: the strongest links,
 * then the lowest address, so the plan is deterministic).  Ring k itself is
 * covered by ring k-1 by construction, so every relay is reachable.  This
 * is the layered greedy connected-dominating-set construction; it is not
 * minimal in general (that problem is NP-hard) but within a log factor of
 * it, and a last pass drops any relay the plan does not need.
 */
#ifndef GW_RELAY_PLAN_H
#define GW_RELAY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The gateway in links (0x0000 is the unassigned address, never a node's). */
#define GW_RELAY_PLAN_GATEWAY 0x0000u
#define GW_RELAY_PLAN_UNREACHED 0xffu
#define GW_RELAY_PLAN_NODES_MAX 32767u /* unicast addresses */

struct gw_relay_node {
	uint16_t addr;  /* primary unicast address */
	bool can_relay; /* the Relay feature is supported (Composition Data page 0) */
};

/*
 * One reception: `to` heard `from` at rssi dBm.  Radio links are taken as
 * symmetric (advertising bearers on one channel set, similar transmit
 * powers): a link's strength is the weakest reception reported over it,
 * either way, and it is relied on when that is at or above the threshold.
 */
struct gw_relay_link {
	uint16_t from, to;
	int8_t rssi;
};

struct gw_relay_plan_cfg {
	int8_t min_rssi;    /* links weaker than this are not relied on (margin over sensitivity) */
	uint8_t max_hops;   /* nodes farther than this are reported, not planned for (1..127) */
	uint8_t redundancy; /* relays each node should hear, when it has that many (>= 1) */
	/*
	 * NULL, or one entry per input node: the node relays already and
	 * stays a relay (a plan made again with more links known builds on
	 * the relays configured before instead of moving them).  A kept node
	 * that can relay is in the result's relay set whether needed or not,
	 * and counts first towards the coverage of the ring after its own.
	 */
	const bool *keep;
};

/* Result; every array has the n entries of the input nodes, in their order. */
struct gw_relay_plan {
	size_t n;
	bool *relay;     /* node i relays */
	uint8_t *hops;   /* hops from the gateway; GW_RELAY_PLAN_UNREACHED when not reached */
	uint8_t *heard;  /* relays (the gateway counted) node i hears on the ring before it */
	size_t n_relays; /* count of true in relay */
	size_t n_unreached;
};

/* Defaults: min_rssi -85 dBm, max_hops 10, redundancy 2, nothing kept. */
void gw_relay_plan_cfg_default(struct gw_relay_plan_cfg *cfg);

/*
 * Plan relays for the n nodes (distinct addresses, none 0x0000) given the
 * links (receptions naming nodes that are not in `nodes` are ignored).
 * Fills *out (arrays allocated here; release with gw_relay_plan_free()).
 * Returns 0, -EINVAL (bad cfg, duplicate or zero address, n too large), or
 * -ENOMEM.
 */
int gw_relay_plan_compute(const struct gw_relay_node *nodes, size_t n,
			  const struct gw_relay_link *links, size_t n_links,
			  const struct gw_relay_plan_cfg *cfg, struct gw_relay_plan *out);

/* Frees the arrays and zeroes *p.  Accepts a zeroed plan. */
void gw_relay_plan_free(struct gw_relay_plan *p);

#endif /* GW_RELAY_PLAN_H */
