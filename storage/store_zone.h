/*
 * Zones (schema 7): named sets of nodes that share one group address.  The
 * lights of a zone (Generic OnOff Servers) subscribe to the group and its
 * switches (Generic OnOff Clients) publish to it; gateway/zones.h sends the
 * Config messages, this module keeps what they are meant to achieve.
 *
 * A zone's group address is allocated once, from the range the caller
 * gives (the configuration's group_range), and never shared: no two zones,
 * and no group of an imported Mesh CDB (cdb_groups), have the same one.
 *
 * Membership is written ahead of the Config messages that carry it out: a
 * node's row names the zone it is in or being moved to (zone 0: leaving its
 * zone) and whether that move is still pending, plus the group the node was
 * last confirmed in, so that an interrupted move is finished by the next
 * attempt, which then knows which subscription to delete.  Rows follow the
 * node's row id (a Node Address Refresh keeps them); those of removed nodes
 * are not listed.
 *
 * Errors as in store.h; in addition -ENOSPC when the range has no free
 * group address and -EBUSY when a zone to delete still has nodes.
 */
#ifndef STORAGE_STORE_ZONE_H
#define STORAGE_STORE_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

struct store_zone {
	uint64_t id;
	char name[STORE_NAME_MAX];
	uint16_t group;
	uint64_t created_ms, updated_ms;
};

/*
 * A new zone named name (1..STORE_NAME_MAX - 1 octets, unique: -EEXIST) with
 * the lowest free group address in [grp_low, grp_high] (group addresses
 * 0xc000..0xfeff, else -EINVAL; -ENOSPC when all are taken).  *out is the
 * stored zone.  Audited.
 */
int store_zone_create(struct store *s, const char *name, uint16_t grp_low, uint16_t grp_high,
		      struct store_zone *out);
int store_zone_get(struct store *s, uint64_t id, struct store_zone *out);
/* By name (exact, case-sensitive); -ENOENT. */
int store_zone_find(struct store *s, const char *name, struct store_zone *out);
/* Every zone by id; *out is a new array (free()), NULL when none. */
int store_zone_list(struct store *s, struct store_zone **out, size_t *n);
/* -ENOENT, -EEXIST (another zone has the name), -EINVAL.  Audited. */
int store_zone_rename(struct store *s, uint64_t id, const char *name);
/* -ENOENT, -EBUSY while a node is in it or being moved into it.  Audited. */
int store_zone_delete(struct store *s, uint64_t id);

/* A node's membership. */
struct store_zone_member {
	uint16_t node;       /* primary address */
	uint64_t zone;       /* the zone it is in or being moved to; 0: none */
	bool pending;        /* the move to zone is not confirmed by the node yet */
	uint16_t prev_group; /* group of the zone it was last confirmed in; 0: none */
};

/* -ENOENT when the node is in no zone and no move is pending. */
int store_zone_member_get(struct store *s, uint16_t node, struct store_zone_member *out);
/*
 * Write-ahead: the active node at address node is being moved to zone
 * (0: out of its zone).  The row says pending until store_zone_move_done().
 * prev_group keeps the group of the last confirmed zone across moves that
 * did not finish.  -ENOENT (no such node or zone).  Audited.
 */
int store_zone_move_begin(struct store *s, uint16_t node, uint64_t zone);
/*
 * The node confirmed the move to zone: no longer pending, and prev_group
 * becomes zone's group (zone 0: the row goes).  -ESTALE when the row names
 * another zone by now (a later move began; nothing changes), -ENOENT.
 */
int store_zone_move_done(struct store *s, uint16_t node, uint64_t zone);
/*
 * Primary addresses of the active nodes in zone or being moved to it,
 * ascending; *out is a new array (free()), NULL when none.
 */
int store_zone_nodes(struct store *s, uint64_t zone, uint16_t **out, size_t *n);
/* Every membership row of active nodes, by address; *out new (free()). */
int store_zone_members(struct store *s, struct store_zone_member **out, size_t *n);

/* Where an active node is: the zone it is in or being moved to. */
struct store_zone_place {
	uint16_t node; /* primary address */
	bool pending;
	struct store_zone zone;
};
/*
 * The places of the active nodes whose primary address is in [lo, hi] and that are in a zone
 * (or being moved into one), by address, in one query: a page of nodes gets its zones without
 * a query per node.  *out is a new array (free()), NULL when none.
 */
int store_zone_places(struct store *s, uint16_t lo, uint16_t hi, struct store_zone_place **out,
		      size_t *n);

#endif /* STORAGE_STORE_ZONE_H */
