/*
 * The commission job's relay and TTL choices for one node as it joins
 * (issue 12: "plan relays so that only as many nodes relay as coverage
 * needs ... configured with the job").  A pure module: no I/O, no clock.
 *
 * The radio picture is what a commission has: the sightings of its scan,
 * "via heard device d at rssi" where via is the gateway (0) or a Remote
 * Provisioning Server's primary address.  Device-to-device links other
 * than those are not measured by anyone (a node that is not a server
 * reports nothing it hears), so the servers' own scan reports stand in for
 * them: a server heard a device, links are taken as symmetric (as in
 * relay_plan.h), so the device hears the server too.
 *
 * Relay: on for the nodes the relay plan (relay_plan.h, over every device
 * heard so far, one relay per node: COMM_RELAY_REDUNDANCY in comm_relay.c)
 * picks, a small connected backbone that keeps every node at its shortest
 * hop count; off for the others, Remote Provisioning Servers included: a
 * server must be reachable (the gateway talks to it), not relay, unless
 * others' paths cross it.  The plan is made again as the picture grows
 * (each server's scan adds the devices behind it), and it builds on the
 * nodes that relay already (`relays`, kept: relay_plan.h cfg.keep), so the
 * relay set only grows; a node set off earlier that a later plan needs is
 * in the plan's set (`want`) and is to be switched on again by the caller.
 *
 * Hops: the shortest path from the gateway over links at or above the
 * plan's RSSI threshold whose intermediate nodes are known to relay now
 * (`relays`), so that a message sent with that TTL (plus the margin of
 * gw_comm_ttl_of()) has a path.
 */
#ifndef GW_COMM_RELAY_H
#define GW_COMM_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/relay_plan.h"

struct gw_comm_dev {
	uint16_t addr;  /* primary address once provisioned, else 0 */
	bool relays;    /* relays now: the job set it on and the node said so (kept on) */
	bool can_relay; /* the Relay feature (page 0 Features; true while unknown) */
};

struct gw_comm_heard {
	uint32_t dev; /* index into the devices */
	uint16_t via; /* 0: the gateway, else a server's primary address */
	int8_t rssi;
};

/*
 * For device x of the n devs, given the sightings: *relay (the Relay state
 * to configure) and *hops (GW_RELAY_PLAN_UNREACHED when no path through
 * relaying nodes is known); want (NULL, or n entries) receives the plan's
 * whole relay set, x included.  Sightings through a via that is no
 * device's address are ignored.  Returns 0, -EINVAL (x out of range, a
 * relay plan input error), -ENOMEM.
 */
int gw_comm_relay_choose(const struct gw_comm_dev *devs, size_t n, const struct gw_comm_heard *h,
			 size_t n_heard, size_t x, bool *relay, uint8_t *hops, bool *want);

/*
 * The TTL for messages from the gateway to a node hops away (Mesh Protocol
 * §3.4.5.2): 0 for a neighbour (no relay repeats it, and the node answers
 * with TTL 0, §3.7.4.4), else hops + 1, the margin the node's own Default
 * TTL has (gw_comm_default_ttl_of()).  hops alone would reach the node
 * only along a shortest path: a relay of the last ring that first hears a
 * copy with TTL 1 by a longer path caches it and drops the shorter path's
 * copy that follows, and one lost packet on the one shortest path does the
 * same (meshsim traces of office.json: 8-12 % of the gateway's PDUs to
 * nodes 5-7 hops away were lost that way).  GW_RELAY_PLAN_UNREACHED, 0 and
 * hops above 126 give 0xff: keep the Default TTL.
 */
uint8_t gw_comm_ttl_of(uint8_t hops);

/*
 * The Default TTL (§4.2.7) for a node hops away from the gateway: what its
 * own messages to the gateway need (its configuration replies, a server's
 * PB-Remote reports), plus a margin of one hop.  A message sent with TTL t
 * crosses t - 1 relays and reaches a node t hops away, so hops would do;
 * the margin lets a reply take a detour of one more relay when a link of
 * the shortest path drops a packet (links are the scan's sightings,
 * assumed symmetric, at the edge of range for some).  The value stays
 * enough as the job goes on: the hops are counted over nodes that relay
 * for good (nodes the job set on, which the plan keeps and the job never
 * sets off), and that set only grows, so the path only gets shorter.  hops 0,
 * GW_RELAY_PLAN_UNREACHED and hops above 126 give 0xff: the node keeps the Default TTL it has.
 */
uint8_t gw_comm_default_ttl_of(uint8_t hops);

#endif
