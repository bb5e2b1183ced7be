/*
 * Zones (store_zone.h): tables zones and zone_members (schema 7).
 */
#include "storage/store_zone.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_int.h"

/* Group addresses a zone may have: 0xff00..0xffff are the fixed groups (§3.4.2.4). */
#define GROUP_FIRST 0xc000
#define GROUP_LAST 0xfeff

static bool name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n > 0 && n < STORE_NAME_MAX;
}

/* The lowest address of [lo, hi] that no zone and no imported CDB group uses. */
static int group_alloc(struct store *s, uint16_t lo, uint16_t hi, uint16_t *out)
{
	sqlite3_stmt *st =
	    store_q(s, "SELECT grp FROM zones WHERE grp BETWEEN ?1 AND ?2"
		       " UNION SELECT addr FROM cdb_groups WHERE addr BETWEEN ?1 AND ?2"
		       " ORDER BY 1");
	uint16_t *used = NULL;
	uint32_t next = lo;
	size_t n = 0;
	int rc;

	if (st) {
		sqlite3_bind_int(st, 1, lo);
		sqlite3_bind_int(st, 2, hi);
	}
	rc = store_collect(s, st, sizeof(*used), store_read_u16, (void **)&used, &n);
	if (rc) {
		return rc;
	}
	/* Ascending and distinct: the first gap is the answer. */
	for (size_t i = 0; i < n && used[i] == next; i++) {
		next++;
	}
	free(used);
	if (next > hi) {
		return -ENOSPC;
	}
	*out = (uint16_t)next;
	return 0;
}

static int read_zone(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_zone *z = item;

	(void)s;
	memset(z, 0, sizeof(*z));
	z->id = (uint64_t)sqlite3_column_int64(st, 0);
	store_col_text(st, 1, z->name, sizeof(z->name));
	z->group = (uint16_t)sqlite3_column_int(st, 2);
	z->created_ms = (uint64_t)sqlite3_column_int64(st, 3);
	z->updated_ms = (uint64_t)sqlite3_column_int64(st, 4);
	return 0;
}

#define ZONE_COLS "SELECT id, name, grp, created_ms, updated_ms FROM zones"

static int zone_one(struct store *s, sqlite3_stmt *st, struct store_zone *out)
{
	int rc = store_row(s, st);

	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	read_zone(s, st, out);
	sqlite3_reset(st);
	return 0;
}

int store_zone_get(struct store *s, uint64_t id, struct store_zone *out)
{
	sqlite3_stmt *st = store_q(s, ZONE_COLS " WHERE id = ?");

	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	}
	return zone_one(s, st, out);
}

int store_zone_find(struct store *s, const char *name, struct store_zone *out)
{
	sqlite3_stmt *st;

	if (!name_ok(name)) {
		return -EINVAL;
	}
	st = store_q(s, ZONE_COLS " WHERE name = ?");
	if (st) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	}
	return zone_one(s, st, out);
}

int store_zone_list(struct store *s, struct store_zone **out, size_t *n)
{
	sqlite3_stmt *st = store_q(s, ZONE_COLS " ORDER BY id");

	return store_collect(s, st, sizeof(**out), read_zone, (void **)out, n);
}

/* -EEXIST when another zone than id (0: any) has the name. */
static int name_free(struct store *s, const char *name, uint64_t id)
{
	struct store_zone z;
	int rc = store_zone_find(s, name, &z);

	if (rc == -ENOENT) {
		return 0;
	}
	return rc ? rc : z.id == id ? 0 : -EEXIST;
}

int store_zone_create(struct store *s, const char *name, uint16_t grp_low, uint16_t grp_high,
		      struct store_zone *out)
{
	uint64_t now = store_now(s), id = 0;
	uint16_t grp = 0;
	sqlite3_stmt *st;
	int rc;

	if (!name_ok(name) || !out || grp_low < GROUP_FIRST || grp_high > GROUP_LAST ||
	    grp_low > grp_high) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = name_free(s, name, 0);
	rc = rc ? rc : group_alloc(s, grp_low, grp_high, &grp);
	if (rc == 0) {
		st = store_q(s, "INSERT INTO zones (name, grp, created_ms, updated_ms)"
				" VALUES (?, ?, ?, ?)");
		if (st) {
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 2, grp);
			sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
			sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
		}
		rc = store_run(s, st);
		id = rc ? 0 : (uint64_t)sqlite3_last_insert_rowid(s->db);
	}
	if (rc == 0) {
		rc = store_audit(s, "zone.create", "zone %" PRIu64 " '%s' group 0x%04x", id, name,
				 grp);
	}
	rc = store_txn_end(s, rc);
	return rc ? rc : store_zone_get(s, id, out);
}

int store_zone_rename(struct store *s, uint64_t id, const char *name)
{
	sqlite3_stmt *st;
	int rc;

	if (!name_ok(name)) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = name_free(s, name, id);
	if (rc == 0) {
		st = store_q(s, "UPDATE zones SET name = ?, updated_ms = ? WHERE id = ?");
		if (st) {
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)store_now(s));
			sqlite3_bind_int64(st, 3, (sqlite3_int64)id);
		}
		rc = store_run(s, st);
		if (rc == 0 && sqlite3_changes(s->db) == 0) {
			rc = -ENOENT;
		}
	}
	if (rc == 0) {
		rc = store_audit(s, "zone.rename", "zone %" PRIu64 " '%s'", id, name);
	}
	return store_txn_end(s, rc);
}

static int delete_where(struct store *s, sqlite3_stmt *st, uint64_t id)
{
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	}
	return store_run(s, st);
}

int store_zone_delete(struct store *s, uint64_t id)
{
	uint16_t *nodes = NULL;
	size_t n = 0;
	int rc = store_txn_begin(s);

	if (rc) {
		return rc;
	}
	rc = store_zone_nodes(s, id, &nodes, &n);
	free(nodes);
	if (rc == 0 && n) {
		rc = -EBUSY;
	}
	/* Rows of removed nodes may still name it; they go with it. */
	rc = rc ? rc : delete_where(s, store_q(s, "DELETE FROM zone_members WHERE zone = ?"), id);
	rc = rc ? rc : delete_where(s, store_q(s, "DELETE FROM zones WHERE id = ?"), id);
	if (rc == 0 && sqlite3_changes(s->db) == 0) {
		rc = -ENOENT;
	}
	if (rc == 0) {
		rc = store_audit(s, "zone.delete", "zone %" PRIu64, id);
	}
	return store_txn_end(s, rc);
}

static int read_member(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_zone_member *m = item;

	(void)s;
	memset(m, 0, sizeof(*m));
	m->node = (uint16_t)sqlite3_column_int(st, 0);
	m->zone = (uint64_t)sqlite3_column_int64(st, 1);
	m->pending = sqlite3_column_int(st, 2) != 0;
	m->prev_group = (uint16_t)sqlite3_column_int(st, 3);
	return 0;
}

#define MEMBER_COLS                                                                                \
	"SELECT n.unicast, ifnull(m.zone, 0), m.pending, m.prev_grp"                               \
	" FROM zone_members m JOIN nodes n ON n.id = m.node_id WHERE n.excluded = 0"

int store_zone_member_get(struct store *s, uint16_t node, struct store_zone_member *out)
{
	sqlite3_stmt *st = store_q(s, MEMBER_COLS " AND n.unicast = ?");
	int rc;

	if (st) {
		sqlite3_bind_int(st, 1, node);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	read_member(s, st, out);
	sqlite3_reset(st);
	return 0;
}

int store_zone_members(struct store *s, struct store_zone_member **out, size_t *n)
{
	sqlite3_stmt *st = store_q(s, MEMBER_COLS " ORDER BY n.unicast");

	return store_collect(s, st, sizeof(**out), read_member, (void **)out, n);
}

static int read_place(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_zone_place *p = item;

	read_zone(s, st, &p->zone);
	p->node = (uint16_t)sqlite3_column_int(st, 5);
	p->pending = sqlite3_column_int(st, 6) != 0;
	return 0;
}

int store_zone_places(struct store *s, uint16_t lo, uint16_t hi, struct store_zone_place **out,
		      size_t *n)
{
	/* The zone's columns first, in ZONE_COLS' order, so read_zone() reads them. */
	sqlite3_stmt *st = store_q(
	    s, "SELECT z.id, z.name, z.grp, z.created_ms, z.updated_ms, n.unicast, m.pending"
	       " FROM zone_members m JOIN nodes n ON n.id = m.node_id JOIN zones z ON z.id = m.zone"
	       " WHERE n.excluded = 0 AND n.unicast BETWEEN ?1 AND ?2 ORDER BY n.unicast");

	if (st) {
		sqlite3_bind_int(st, 1, lo);
		sqlite3_bind_int(st, 2, hi);
	}
	return store_collect(s, st, sizeof(**out), read_place, (void **)out, n);
}

int store_zone_nodes(struct store *s, uint64_t zone, uint16_t **out, size_t *n)
{
	sqlite3_stmt *st = store_q(s, "SELECT n.unicast FROM zone_members m JOIN nodes n"
				      " ON n.id = m.node_id WHERE n.excluded = 0 AND m.zone = ?"
				      " ORDER BY n.unicast");

	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)zone);
	}
	return store_collect(s, st, sizeof(**out), store_read_u16, (void **)out, n);
}

/*
 * Opens the transaction of a move to zone and looks up the node's row id and the zone (left
 * zeroed for zone 0); on error the transaction is already closed.
 */
static int move_open(struct store *s, uint16_t node, uint64_t zone, int64_t *nid,
		     struct store_zone *z)
{
	int rc = store_txn_begin(s);

	if (rc) {
		return rc;
	}
	memset(z, 0, sizeof(*z));
	rc = store_node_id(s, node, nid);
	if (rc == 0 && zone) {
		rc = store_zone_get(s, zone, z);
	}
	return rc ? store_txn_end(s, rc) : 0;
}

int store_zone_move_begin(struct store *s, uint16_t node, uint64_t zone)
{
	struct store_zone z;
	int64_t nid;
	sqlite3_stmt *st;
	int rc = move_open(s, node, zone, &nid, &z);

	if (rc) {
		return rc;
	}
	/*
	 * prev_grp is the last confirmed zone's group: a move that began from a
	 * pending one keeps it (the node may still hold it).
	 */
	st = store_q(s, "INSERT INTO zone_members (node_id, zone, pending, prev_grp,"
			" updated_ms) VALUES (?1, ?2, 1, 0, ?3)"
			" ON CONFLICT (node_id) DO UPDATE SET zone = ?2, pending = 1,"
			" updated_ms = ?3");
	if (st) {
		sqlite3_bind_int64(st, 1, nid);
		if (zone) {
			sqlite3_bind_int64(st, 2, (sqlite3_int64)zone);
		}
		sqlite3_bind_int64(st, 3, (sqlite3_int64)store_now(s));
	}
	rc = store_run(s, st);
	if (rc == 0) {
		rc = store_audit(s, "zone.move", "node 0x%04x to zone %" PRIu64, node, zone);
	}
	return store_txn_end(s, rc);
}

int store_zone_move_done(struct store *s, uint16_t node, uint64_t zone)
{
	struct store_zone_member m;
	struct store_zone z;
	int64_t nid;
	sqlite3_stmt *st;
	int rc = move_open(s, node, zone, &nid, &z);

	if (rc) {
		return rc;
	}
	rc = store_zone_member_get(s, node, &m);
	if (rc == 0 && m.zone != zone) {
		rc = -ESTALE;
	}
	if (rc == 0) {
		st = zone ? store_q(s, "UPDATE zone_members SET pending = 0, prev_grp = ?2,"
				       " updated_ms = ?3 WHERE node_id = ?1")
			  : store_q(s, "DELETE FROM zone_members WHERE node_id = ?1");
		if (st) {
			sqlite3_bind_int64(st, 1, nid);
			if (zone) {
				sqlite3_bind_int(st, 2, z.group);
				sqlite3_bind_int64(st, 3, (sqlite3_int64)store_now(s));
			}
		}
		rc = store_run(s, st);
	}
	return store_txn_end(s, rc);
}
