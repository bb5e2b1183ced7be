/*
 * Applying a relay plan (gateway/relay_plan.h) to the network: Config Relay
 * Set (§4.3.2.13) to every planned node, on for the relays, off for the
 * others, asynchronously through the Configuration Client like any other
 * Config request of the gateway; optionally the provisioner's TTL for each
 * node (mesh_node_dst_ttl_set()) becomes the hop count the plan reaches it
 * in.
 *
 * Order, so that no node is cut off while the plan is applied: the relays
 * are switched on first, nearest ring first; only then are the others
 * switched off, farthest ring first.  A few requests are in flight at once
 * (cfg.window).  Nodes the plan does not reach are left alone.  A failed
 * request (no Config Relay Status in time) is reported per node and does not
 * stop the rest; a failed switch-on still lets the switch-offs go, since
 * the plan has redundancy where the graph allows and the caller sees which
 * node failed.
 */
#ifndef GW_RELAY_APPLY_H
#define GW_RELAY_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/relay_plan.h"
#include "mesh/cfg_cli.h"
#include "mesh/node.h"

struct gw_relay_apply_cfg {
	uint16_t net_idx;
	uint8_t relay_xmit;  /* Relay Retransmit state for the relays (§4.2.20 packing) */
	uint32_t timeout_ms; /* per request */
	uint32_t retry_ms;   /* repeat a request meanwhile */
	unsigned window;     /* requests in flight at once, >= 1 */
	bool set_ttl;        /* also set the provisioner's TTL per node from the plan */
	uint8_t
	    ttl_margin; /* hops added to that TTL (0: exactly the hop count; TTL 0 for ring 1) */
};

struct gw_relay_apply_ops {
	void *ctx;
	/* One node finished: err 0 (its Relay Status says `relay`), or a cfg_cli error. May be
	 * NULL. */
	void (*node)(void *ctx, uint16_t addr, bool relay, int err);
	/* Every request finished: how many succeeded and failed.  Called once. */
	void (*done)(void *ctx, size_t ok, size_t failed);
};

struct gw_relay_apply;

/* Defaults: net 0, relay_xmit 0x09 (2 transmissions, 20 ms), 10 s, retry 2 s, window 4, no TTL. */
void gw_relay_apply_cfg_default(struct gw_relay_apply_cfg *cfg);

/*
 * Start applying plan to the nodes whose primary addresses are addrs[i] and
 * element counts elements[i] (the plan's order; elements may be NULL: 1
 * each; only used with set_ttl).  cli and node (node: the provisioner's,
 * the one cli is on) must outlive the object.  plan, addrs and elements are
 * copied.  Callbacks run from inside the calls into cli's node (its rx and
 * tick), or from this call when nothing is to be sent (done then runs
 * before the function returns).  *out: free with gw_relay_apply_free()
 * (after done, or to abandon: requests in flight are then ignored when they
 * end).  Returns 0, -EINVAL, -ENOMEM.
 */
int gw_relay_apply_start(struct cfg_cli *cli, struct mesh_node *node,
			 const struct gw_relay_plan *plan, const uint16_t *addrs,
			 const uint8_t *elements, const struct gw_relay_apply_cfg *cfg,
			 const struct gw_relay_apply_ops *ops, uint64_t now_ms,
			 struct gw_relay_apply **out);

/* Frees a (finished or abandoned) application.  Accepts NULL.  Not from its callbacks. */
void gw_relay_apply_free(struct gw_relay_apply *a);

#endif /* GW_RELAY_APPLY_H */
