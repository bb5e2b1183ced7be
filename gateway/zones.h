/*
 * Zones: a zone's switches switch its lights.  Every zone has a group
 * address (storage/store_zone.h allocates it from the configuration's
 * group_range).  Putting a node into a zone configures it through the
 * Config Client (Mesh Protocol §4.4.1.2):
 *
 *   - each element with a Generic OnOff Server (0x1000) subscribes to the
 *     zone's group (Config Model Subscription Add), and unsubscribes from
 *     the group of the zone it leaves (Subscription Delete); a server bound
 *     to no AppKey is bound to AppKey 0 first (Model App Bind);
 *   - each element with a Generic OnOff Client (0x1001) publishes to the
 *     group (Config Model Publication Set: the AppKey the model is bound to,
 *     AppKey 0 bound first when it is bound to none, Default TTL, no period,
 *     no retransmissions); leaving every zone clears the publication.
 *
 * The membership is written ahead (store_zone_move_begin) before the first
 * message goes, so a move that a timeout or a restart interrupted is seen
 * as pending and the next gw_zones_apply() for the node finishes it; each
 * confirmed step is recorded in the inventory like any Config status.
 *
 * A service around the core (core.h): it borrows the core, keeps the
 * inventory with gw_nodes_record() (nodes.h) and is called by the REST
 * commands below and by jobs.
 * Everything runs on the event-loop thread.
 */
#ifndef GW_ZONES_H
#define GW_ZONES_H

#include <stdint.h>

#include "gateway/cmdq.h"
#include "gateway/core.h"

struct gw_zones;

/* New service over core (borrowed); NULL when out of memory.  Free before the core. */
struct gw_zones *gw_zones_new(struct gw_core *core);
void gw_zones_free(struct gw_zones *z);

/*
 * The zone named name, created (with a new group address) when there is
 * none; its id in *id.  0, -EINVAL (empty or too long a name), -ENOSPC
 * (group_range exhausted) or a storage error.
 */
int gw_zones_ensure(struct gw_zones *z, const char *name, uint64_t *id);

/*
 * Puts node (primary address) into zone (0: into none) as described above.
 * done(arg, err, why) is called exactly once, never before this returns:
 * err 0 when the node confirmed every step; else a negative errno and a
 * sentence naming the node (why is borrowed for the call): -ETIMEDOUT (the
 * node did not answer), -EPROTO (it refused a step: the status is named),
 * -ESTALE (another move of the node began meanwhile), -ECANCELED (the
 * daemon stops).  Returns 0 when started, else -ENOENT (no such node or
 * zone, or no composition known for the node), -EBUSY (a move of this node
 * is under way), -ENOMEM or a storage error, and done is not called.
 */
int gw_zones_apply(struct gw_zones *z, uint16_t node, uint64_t zone,
		   void (*done)(void *arg, int err, const char *why), void *arg);

/*
 * gw_zones_apply(), and when the move is refused with -EXDEV (a light and a switch of the
 * zone would not share an AppKey that the moving node holds: see zones.c) a sentence naming
 * the key and the node in why (cap octets).
 */
int gw_zones_apply_why(struct gw_zones *z, uint16_t node, uint64_t zone,
		       void (*done)(void *arg, int err, const char *why), void *arg, char *why,
		       size_t cap);

/*
 * Finishes the moves the inventory says are pending (a move a restart or a timeout cut short):
 * each one's plan is sent again without a caller.  Called once the stack runs, and again by
 * a timer whenever a move (any, resumed or not) ends because its node did not answer: 30 s,
 * doubling to 10 min, back to 30 s once a resumed move succeeds or none is pending.  A caller
 * asking for the same move meanwhile (gw_zones_apply()) takes it over.
 */
void gw_zones_resume(struct gw_zones *z);

/* REST commands (gw_cmd.h). */
void gw_zones_cmd_list(struct gw_zones *z, struct gw_cmd *c);
void gw_zones_cmd_create(struct gw_zones *z, struct gw_cmd *c);
void gw_zones_cmd_get(struct gw_zones *z, struct gw_cmd *c);
void gw_zones_cmd_patch(struct gw_zones *z, struct gw_cmd *c);
void gw_zones_cmd_delete(struct gw_zones *z, struct gw_cmd *c);
void gw_zones_cmd_move(struct gw_zones *z, struct gw_cmd *c);

#endif /* GW_ZONES_H */
