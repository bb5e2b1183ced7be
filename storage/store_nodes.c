/*
 * Nodes: identity, DevKeys (sealed, store_master.c), configuration state,
 * node NetKey/AppKey lists, removal and Node Address Refresh, and the
 * paged node list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sec.h"
#include "storage/store_int.h"

#define NODE_COLS                                                                                  \
	"uuid, unicast, elements, features, cid, pid, vid, crpl, name, cfg_state, excluded,"       \
	" cand_key IS NOT NULL, created_ms, updated_ms, devkey_fp"

static const char *const state_names[STORE_CFG_STATE_COUNT] = {
    [STORE_CFG_PROVISIONED] = "provisioned",
    [STORE_CFG_CONFIGURING] = "configuring",
    [STORE_CFG_CONFIGURED] = "configured",
    [STORE_CFG_FAILED] = "failed",
};

const char *store_cfg_state_name(enum store_cfg_state st)
{
	return (unsigned)st < STORE_CFG_STATE_COUNT ? state_names[st] : NULL;
}

int store_cfg_state_parse(const char *name, enum store_cfg_state *out)
{
	for (unsigned i = 0; name && i < STORE_CFG_STATE_COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum store_cfg_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Additional data of a node's DevKey blobs: bound to the UUID, which never changes. */
static void devkey_aad(char out[64], const uint8_t uuid[STORE_UUID_LEN], bool cand)
{
	int n = snprintf(out, 64, "devkey%s:", cand ? "-cand" : "");

	for (int i = 0; i < STORE_UUID_LEN; i++) {
		n += snprintf(out + n, (size_t)(64 - n), "%02x", uuid[i]);
	}
}

/*
 * Seals a node's DevKey for its "devkey:" row and, when a fingerprint
 * function is set, writes the key's fingerprint into fp (else "").
 */
static int devkey_seal(struct store *s, const uint8_t uuid[STORE_UUID_LEN],
		       const uint8_t key[STORE_KEY_LEN], uint8_t blob[STORE_SEALED_LEN],
		       char fp[STORE_KEYPRINT_LEN + 1])
{
	char aad[64];

	fp[0] = '\0';
	if (s->keyprint) {
		s->keyprint(key, fp);
		fp[STORE_KEYPRINT_LEN] = '\0';
	}
	devkey_aad(aad, uuid, false);
	return store_seal(s, aad, key, blob);
}

/* Binds a fingerprint, NULL when none was computed. */
static void bind_fp(sqlite3_stmt *st, int col, const char *fp)
{
	if (fp[0]) {
		sqlite3_bind_text(st, col, fp, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(st, col);
	}
}

int store_node_id(struct store *s, uint16_t addr, int64_t *id)
{
	sqlite3_stmt *st = store_q(s, "SELECT id FROM nodes WHERE unicast = ? AND excluded = 0");
	int rc;

	if (st) {
		sqlite3_bind_int(st, 1, addr);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

/* Range [lo, hi] against one query returning (start, count) rows that overlap it. */
static int overlaps(struct store *s, const char *sql, uint16_t lo, uint16_t hi)
{
	sqlite3_stmt *st = store_q(s, sql);
	int rc;

	if (st) {
		sqlite3_bind_int(st, 1, lo);
		sqlite3_bind_int(st, 2, hi);
	}
	rc = store_row(s, st);
	if (rc == 1) {
		sqlite3_reset(st);
		return -EEXIST;
	}
	return rc;
}

int store_range_check(struct store *s, uint16_t addr, uint8_t count)
{
	uint32_t hi = (uint32_t)addr + count - 1u;
	int rc;

	if (count == 0 || addr == 0 || hi > 0x7fff) {
		return -EINVAL;
	}
	/*
	 * Active nodes never overlap, so only the last node starting at or
	 * below hi can reach into the range.
	 */
	rc = overlaps(s,
		      "SELECT 1 FROM (SELECT id, unicast, elements FROM nodes"
		      " WHERE excluded = 0 AND unicast <= ?2 ORDER BY unicast DESC LIMIT 1)"
		      " WHERE unicast + elements - 1 >= ?1",
		      addr, (uint16_t)hi);
	if (rc == 0) {
		rc = overlaps(s,
			      "SELECT 1 FROM network WHERE unicast <= ?2"
			      " AND unicast + elements - 1 >= ?1",
			      addr, (uint16_t)hi);
	}
	if (rc == 0) {
		rc = overlaps(s,
			      "SELECT 1 FROM addr_exclusions WHERE addr <= ?2"
			      " AND addr + count - 1 >= ?1",
			      addr, (uint16_t)hi);
	}
	/* A reservation starting exactly at addr is the caller's own (consumed later). */
	if (rc == 0) {
		rc = overlaps(s,
			      "SELECT 1 FROM addr_reservations WHERE addr <= ?2"
			      " AND addr + count - 1 >= ?1 AND addr != ?1",
			      addr, (uint16_t)hi);
	}
	return rc;
}

static bool name_ok(const char *name)
{
	return memchr(name, '\0', STORE_NAME_MAX) != NULL;
}

int store_node_add(struct store *s, const struct store_node *node,
		   const uint8_t dev_key[STORE_KEY_LEN], uint16_t net_idx)
{
	uint8_t blob[STORE_SEALED_LEN];
	char fp[STORE_KEYPRINT_LEN + 1];
	uint64_t now = store_now(s);
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	if (!node || !dev_key || node->elements == 0 || !name_ok(node->name) ||
	    !store_cfg_state_name(node->cfg_state)) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_range_check(s, node->unicast, node->elements);
	if (rc == 0) {
		rc = store_reservation_consume(s, node->unicast);
	}
	if (rc == 0) {
		rc = devkey_seal(s, node->uuid, dev_key, blob, fp);
	}
	if (rc == 0) {
		st = store_q(s, "INSERT INTO nodes (uuid, unicast, elements, dev_key, name,"
				" cfg_state, created_ms, updated_ms, devkey_fp)"
				" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
		if (st) {
			store_bind_blob(st, 1, node->uuid, STORE_UUID_LEN);
			sqlite3_bind_int(st, 2, node->unicast);
			sqlite3_bind_int(st, 3, node->elements);
			store_bind_blob(st, 4, blob, sizeof(blob));
			sqlite3_bind_text(st, 5, node->name, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 6, node->cfg_state);
			sqlite3_bind_int64(st, 7, (sqlite3_int64)now);
			sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
			bind_fp(st, 9, fp);
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		id = sqlite3_last_insert_rowid(s->db);
		st = store_q(s, "INSERT INTO node_netkeys (node_id, net_idx) VALUES (?, ?)");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int(st, 2, net_idx);
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "node.add", "node 0x%04x", node->unicast);
	}
	return store_txn_end(s, rc);
}

static int read_node(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_node *n = item;

	(void)s;
	*n = (struct store_node){0};
	store_col_blob(st, 0, n->uuid, sizeof(n->uuid));
	n->unicast = (uint16_t)sqlite3_column_int(st, 1);
	n->elements = (uint8_t)sqlite3_column_int(st, 2);
	n->features = (uint16_t)sqlite3_column_int(st, 3);
	n->cid = (uint16_t)sqlite3_column_int(st, 4);
	n->pid = (uint16_t)sqlite3_column_int(st, 5);
	n->vid = (uint16_t)sqlite3_column_int(st, 6);
	n->crpl = (uint16_t)sqlite3_column_int(st, 7);
	store_col_text(st, 8, n->name, sizeof(n->name));
	n->cfg_state = (enum store_cfg_state)sqlite3_column_int(st, 9);
	n->excluded = sqlite3_column_int(st, 10) != 0;
	n->has_cand_key = sqlite3_column_int(st, 11) != 0;
	n->created_ms = (uint64_t)sqlite3_column_int64(st, 12);
	n->updated_ms = (uint64_t)sqlite3_column_int64(st, 13);
	store_col_text(st, 14, n->devkey_fp, sizeof(n->devkey_fp));
	return 0;
}

static int get_one(struct store *s, sqlite3_stmt *st, struct store_node *out)
{
	int rc = store_row(s, st);

	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	read_node(s, st, out);
	sqlite3_reset(st);
	return 0;
}

int store_node_get(struct store *s, uint16_t addr, struct store_node *out)
{
	sqlite3_stmt *st = store_q(s, "SELECT " NODE_COLS " FROM nodes WHERE unicast = ?"
				      " ORDER BY excluded, id DESC LIMIT 1");

	if (st) {
		sqlite3_bind_int(st, 1, addr);
	}
	return get_one(s, st, out);
}

int store_node_get_by_uuid(struct store *s, const uint8_t uuid[STORE_UUID_LEN],
			   struct store_node *out)
{
	sqlite3_stmt *st =
	    store_q(s, "SELECT " NODE_COLS " FROM nodes WHERE uuid = ? AND excluded = 0");

	if (st) {
		store_bind_blob(st, 1, uuid, STORE_UUID_LEN);
	}
	return get_one(s, st, out);
}

int store_node_lookup(struct store *s, uint16_t addr, uint16_t *primary)
{
	sqlite3_stmt *st = store_q(s, "SELECT unicast, elements FROM nodes WHERE excluded = 0"
				      " AND unicast <= ? ORDER BY unicast DESC LIMIT 1");
	int rc;

	if (st) {
		sqlite3_bind_int(st, 1, addr);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	if (sqlite3_column_int(st, 0) + sqlite3_column_int(st, 1) - 1 < addr) {
		rc = -ENOENT;
	} else {
		*primary = (uint16_t)sqlite3_column_int(st, 0);
		rc = 0;
	}
	sqlite3_reset(st);
	return rc;
}

/*
 * Run an UPDATE of one active node; the caller bound its own parameters,
 * this binds ?10 = now and ?11 = addr, then audits.
 */
static int node_update(struct store *s, sqlite3_stmt *st, uint16_t addr, const char *what)
{
	int rc;

	if (!st) {
		return store_txn_end(s, -EIO);
	}
	sqlite3_bind_int64(st, 10, (sqlite3_int64)store_now(s));
	sqlite3_bind_int(st, 11, addr);
	rc = store_run(s, st);
	if (rc == 0 && sqlite3_changes(s->db) == 0) {
		rc = -ENOENT;
	}
	if (rc == 0) {
		rc = store_audit(s, what, "node 0x%04x", addr);
	}
	return store_txn_end(s, rc);
}

int store_node_name_set(struct store *s, uint16_t addr, const char *name)
{
	sqlite3_stmt *st;
	int rc;

	if (!name || strlen(name) >= STORE_NAME_MAX) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "UPDATE nodes SET name = ?1, updated_ms = ?10"
			" WHERE unicast = ?11 AND excluded = 0");
	if (st) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	}
	return node_update(s, st, addr, "node.name");
}

int store_node_cfg_state_set(struct store *s, uint16_t addr, enum store_cfg_state state)
{
	sqlite3_stmt *st;
	int rc;

	if (!store_cfg_state_name(state)) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "UPDATE nodes SET cfg_state = ?1, updated_ms = ?10"
			" WHERE unicast = ?11 AND excluded = 0");
	if (st) {
		sqlite3_bind_int(st, 1, state);
	}
	return node_update(s, st, addr, "node.cfg_state");
}

int store_node_info_set(struct store *s, uint16_t addr, uint16_t cid, uint16_t pid, uint16_t vid,
			uint16_t crpl, uint16_t features)
{
	sqlite3_stmt *st;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "UPDATE nodes SET cid = ?1, pid = ?2, vid = ?3, crpl = ?4, features = ?5,"
			" updated_ms = ?10 WHERE unicast = ?11 AND excluded = 0");
	if (st) {
		sqlite3_bind_int(st, 1, cid);
		sqlite3_bind_int(st, 2, pid);
		sqlite3_bind_int(st, 3, vid);
		sqlite3_bind_int(st, 4, crpl);
		sqlite3_bind_int(st, 5, features);
	}
	return node_update(s, st, addr, "node.info");
}

static int devkey_read(struct store *s, uint16_t addr, bool cand, uint8_t key[STORE_KEY_LEN])
{
	sqlite3_stmt *st = store_q(s, "SELECT uuid, dev_key, cand_key FROM nodes"
				      " WHERE unicast = ? AND excluded = 0");
	uint8_t uuid[STORE_UUID_LEN];
	char aad[64];
	int rc;

	if (st) {
		sqlite3_bind_int(st, 1, addr);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	if (!store_col_blob(st, 0, uuid, sizeof(uuid))) {
		rc = -EIO;
	} else if (cand && sqlite3_column_type(st, 2) == SQLITE_NULL) {
		rc = -ENOENT;
	} else {
		devkey_aad(aad, uuid, cand);
		rc = store_unseal_col(s, st, cand ? 2 : 1, aad, key);
	}
	sqlite3_reset(st);
	return rc;
}

int store_node_devkey_get(struct store *s, uint16_t addr, uint8_t key[STORE_KEY_LEN])
{
	return devkey_read(s, addr, false, key);
}

int store_node_devkey_cand_get(struct store *s, uint16_t addr, uint8_t key[STORE_KEY_LEN])
{
	return devkey_read(s, addr, true, key);
}

int store_node_devkey_cand_set(struct store *s, uint16_t addr, const uint8_t key[STORE_KEY_LEN])
{
	struct store_node n;
	uint8_t blob[STORE_SEALED_LEN];
	char aad[64];
	sqlite3_stmt *st;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_node_get(s, addr, &n);
	if (rc == 0 && n.excluded) {
		rc = -ENOENT;
	}
	if (rc == 0) {
		devkey_aad(aad, n.uuid, true);
		rc = store_seal(s, aad, key, blob);
	}
	if (rc) {
		return store_txn_end(s, rc);
	}
	st = store_q(s, "UPDATE nodes SET cand_key = ?1, updated_ms = ?10"
			" WHERE unicast = ?11 AND excluded = 0");
	if (st) {
		store_bind_blob(st, 1, blob, sizeof(blob));
	}
	return node_update(s, st, addr, "node.devkey_candidate");
}

int store_node_devkey_commit(struct store *s, uint16_t addr)
{
	struct store_node n;
	uint8_t key[STORE_KEY_LEN], blob[STORE_SEALED_LEN];
	char fp[STORE_KEYPRINT_LEN + 1];
	sqlite3_stmt *st;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	/* Re-seal: the candidate's blob is bound to "devkey-cand:", not "devkey:". */
	rc = store_node_devkey_cand_get(s, addr, key);
	if (rc == 0) {
		rc = store_node_get(s, addr, &n);
	}
	if (rc == 0) {
		rc = devkey_seal(s, n.uuid, key, blob, fp);
	}
	sec_wipe(key, sizeof(key));
	if (rc) {
		return store_txn_end(s, rc);
	}
	st = store_q(s, "UPDATE nodes SET dev_key = ?1, cand_key = NULL, devkey_fp = ?2,"
			" updated_ms = ?10 WHERE unicast = ?11 AND excluded = 0");
	if (st) {
		store_bind_blob(st, 1, blob, sizeof(blob));
		bind_fp(st, 2, fp);
	}
	return node_update(s, st, addr, "node.devkey_commit");
}

int store_node_devkey_cand_clear(struct store *s, uint16_t addr)
{
	int rc = store_txn_begin(s);

	if (rc) {
		return rc;
	}
	return node_update(s,
			   store_q(s, "UPDATE nodes SET cand_key = NULL, updated_ms = ?10"
				      " WHERE unicast = ?11 AND excluded = 0"),
			   addr, "node.devkey_candidate_clear");
}

/* Unicast and element count of the active node at addr. */
static int node_range(struct store *s, uint16_t addr, int64_t *id, uint8_t *elements)
{
	sqlite3_stmt *st = store_q(s, "SELECT id, elements FROM nodes"
				      " WHERE unicast = ? AND excluded = 0");
	int rc;

	if (st) {
		sqlite3_bind_int(st, 1, addr);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	*id = sqlite3_column_int64(st, 0);
	*elements = (uint8_t)sqlite3_column_int(st, 1);
	sqlite3_reset(st);
	return 0;
}

static int run_id(struct store *s, const char *sql, int64_t id)
{
	sqlite3_stmt *st = store_q(s, sql);

	if (st) {
		sqlite3_bind_int64(st, 1, id);
	}
	return store_run(s, st);
}

int store_node_remove(struct store *s, uint16_t addr)
{
	uint8_t elements = 0;
	int64_t id = 0;
	sqlite3_stmt *st;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = node_range(s, addr, &id, &elements);
	if (rc == 0) {
		st = store_q(s, "UPDATE nodes SET excluded = 1, updated_ms = ? WHERE id = ?");
		if (st) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)store_now(s));
			sqlite3_bind_int64(st, 2, id);
		}
		rc = store_run(s, st);
	}
	/* The reset node keeps nothing: its models, bindings and keys go (cascades). */
	if (rc == 0) {
		rc = run_id(s, "DELETE FROM elements WHERE node_id = ?", id);
	}
	if (rc == 0) {
		rc = run_id(s, "DELETE FROM node_netkeys WHERE node_id = ?", id);
	}
	if (rc == 0) {
		rc = run_id(s, "DELETE FROM node_appkeys WHERE node_id = ?", id);
	}
	if (rc == 0) {
		rc = run_id(s, "DELETE FROM node_certs WHERE node_id = ?", id);
	}
	if (rc == 0) {
		rc = store_exclude_range(s, addr, elements);
	}
	if (rc == 0) {
		rc = store_audit(s, "node.remove", "node 0x%04x", addr);
	}
	return store_txn_end(s, rc);
}

int store_node_address_change(struct store *s, uint16_t old_addr, uint16_t new_addr,
			      uint8_t elements)
{
	uint8_t old_elements = 0;
	int64_t id = 0;
	sqlite3_stmt *st;
	int rc;

	if (elements == 0) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = node_range(s, old_addr, &id, &old_elements);
	if (rc == 0 && (uint32_t)new_addr + elements > old_addr &&
	    (uint32_t)old_addr + old_elements > new_addr) {
		rc = -EINVAL; /* overlapping ranges */
	}
	if (rc == 0) {
		rc = store_range_check(s, new_addr, elements);
	}
	if (rc == 0) {
		rc = store_reservation_consume(s, new_addr);
	}
	if (rc == 0) {
		st = store_q(s, "UPDATE nodes SET unicast = ?, elements = ?, updated_ms = ?"
				" WHERE id = ?");
		if (st) {
			sqlite3_bind_int(st, 1, new_addr);
			sqlite3_bind_int(st, 2, elements);
			sqlite3_bind_int64(st, 3, (sqlite3_int64)store_now(s));
			sqlite3_bind_int64(st, 4, id);
		}
		rc = store_run(s, st);
	}
	/* Elements the node no longer has go with their models (cascade). */
	if (rc == 0 && elements < old_elements) {
		st = store_q(s, "DELETE FROM elements WHERE node_id = ? AND idx >= ?");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int(st, 2, elements);
		}
		rc = store_run(s, st);
	}
	/* Models, bindings, publications and subscriptions hang off the element rows. */
	if (rc == 0) {
		st = store_q(s, "UPDATE elements SET addr = ? + idx WHERE node_id = ?");
		if (st) {
			sqlite3_bind_int(st, 1, new_addr);
			sqlite3_bind_int64(st, 2, id);
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_exclude_range(s, old_addr, old_elements);
	}
	if (rc == 0) {
		rc = store_audit(s, "node.address_change", "node 0x%04x -> 0x%04x (%u elements)",
				 old_addr, new_addr, elements);
	}
	return store_txn_end(s, rc);
}

/* INSERT or DELETE of (node, index) in a node key list; audits as what. */
static int key_list_op(struct store *s, uint16_t addr, const char *sql, uint16_t idx,
		       const char *what)
{
	int64_t id;
	sqlite3_stmt *st;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_node_id(s, addr, &id);
	if (rc == 0) {
		st = store_q(s, sql);
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int(st, 2, idx);
		}
		rc = store_run(s, st);
	}
	if (rc == 0 && sqlite3_changes(s->db) == 0) {
		rc = -ENOENT;
	}
	if (rc == 0) {
		rc = store_audit(s, what, "node 0x%04x key %u", addr, idx);
	}
	return store_txn_end(s, rc);
}

int store_node_netkey_add(struct store *s, uint16_t addr, uint16_t net_idx)
{
	return key_list_op(s, addr, "INSERT INTO node_netkeys (node_id, net_idx) VALUES (?, ?)",
			   net_idx, "node.netkey_add");
}

int store_node_netkey_del(struct store *s, uint16_t addr, uint16_t net_idx)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc = store_txn_begin(s);

	if (rc) {
		return rc;
	}
	rc = store_node_id(s, addr, &id);
	/*
	 * A node deleting a NetKey also deletes the AppKeys bound to it
	 * (§4.2.5), and with them their model bindings.
	 */
	if (rc == 0) {
		st = store_q(s, "DELETE FROM bindings WHERE app_idx IN (SELECT idx FROM appkeys"
				" WHERE net_idx = ?2) AND model IN (SELECT m.id FROM models m"
				" JOIN elements e ON m.element_id = e.id WHERE e.node_id = ?1)");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int(st, 2, net_idx);
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		st = store_q(s, "DELETE FROM node_appkeys WHERE node_id = ?1 AND app_idx IN"
				" (SELECT idx FROM appkeys WHERE net_idx = ?2)");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int(st, 2, net_idx);
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = key_list_op(s, addr,
				 "DELETE FROM node_netkeys WHERE node_id = ? AND net_idx = ?",
				 net_idx, "node.netkey_del");
	}
	return store_txn_end(s, rc);
}

int store_node_appkey_add(struct store *s, uint16_t addr, uint16_t app_idx)
{
	return key_list_op(s, addr, "INSERT INTO node_appkeys (node_id, app_idx) VALUES (?, ?)",
			   app_idx, "node.appkey_add");
}

int store_node_appkey_del(struct store *s, uint16_t addr, uint16_t app_idx)
{
	int64_t id;
	int rc = store_txn_begin(s);

	if (rc) {
		return rc;
	}
	rc = key_list_op(s, addr, "DELETE FROM node_appkeys WHERE node_id = ? AND app_idx = ?",
			 app_idx, "node.appkey_del");
	if (rc == 0) {
		rc = store_node_id(s, addr, &id);
	}
	if (rc == 0) {
		sqlite3_stmt *st =
		    store_q(s, "DELETE FROM bindings WHERE app_idx = ?2 AND model IN (SELECT m.id"
			       " FROM models m JOIN elements e ON m.element_id = e.id"
			       " WHERE e.node_id = ?1)");

		if (st) {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int(st, 2, app_idx);
		}
		rc = store_run(s, st);
	}
	return store_txn_end(s, rc);
}

static int key_list(struct store *s, uint16_t addr, const char *sql, uint16_t **idx, size_t *n)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	rc = store_node_id(s, addr, &id);
	if (rc) {
		return rc;
	}
	st = store_q(s, sql);
	if (st) {
		sqlite3_bind_int64(st, 1, id);
	}
	return store_collect(s, st, sizeof(**idx), store_read_u16, (void **)idx, n);
}

int store_node_netkey_list(struct store *s, uint16_t addr, uint16_t **idx, size_t *n)
{
	return key_list(s, addr, "SELECT net_idx FROM node_netkeys WHERE node_id = ? ORDER BY 1",
			idx, n);
}

int store_node_appkey_list(struct store *s, uint16_t addr, uint16_t **idx, size_t *n)
{
	return key_list(s, addr, "SELECT app_idx FROM node_appkeys WHERE node_id = ? ORDER BY 1",
			idx, n);
}

/* Bind the filter to ?1..?5 of the list and count statements. */
static void bind_filter(sqlite3_stmt *st, const struct store_node_filter *f)
{
	bool any_addr = f->addr_lo == 0 && f->addr_hi == 0;

	sqlite3_bind_int(st, 1, f->excluded);
	if (f->name_sub) {
		sqlite3_bind_text(st, 2, f->name_sub, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 3, f->state_mask);
	sqlite3_bind_int(st, 4, any_addr ? 0 : f->addr_lo);
	sqlite3_bind_int(st, 5, any_addr ? 0xffff : f->addr_hi);
}

#define FILTER_WHERE                                                                               \
	" WHERE (?1 = 2 OR excluded = ?1) AND (?2 IS NULL OR instr(name, ?2) > 0)"                 \
	" AND (?3 = 0 OR ((1 << cfg_state) & ?3) != 0) AND unicast BETWEEN ?4 AND ?5"

/* Whether s->count holds the selection of f at the database's current version. */
static bool count_cached(struct store *s, const struct store_node_filter *f)
{
	int64_t dv, ch;

	return s->count.valid && store_version(s, &dv, &ch) == 0 && dv == s->count.data_version &&
	       ch == s->count.changes && f->excluded == s->count.excluded &&
	       f->state_mask == s->count.state_mask && f->addr_lo == s->count.addr_lo &&
	       f->addr_hi == s->count.addr_hi && !f->name_sub == s->count.any_name &&
	       (!f->name_sub || strcmp(f->name_sub, s->count.name) == 0);
}

/*
 * Reads f's selection into s->count: its addresses in list order (an
 * index walk, the cost of a count(*)) and their number.  A name too long to
 * keep is not cached.
 */
static int count_load(struct store *s, const struct store_node_filter *f)
{
	sqlite3_stmt *st;
	uint16_t *addrs = NULL;
	size_t n = 0, i;
	int64_t dv = 0, ch = 0;
	bool versioned;
	int rc;

	/*
	 * The version before the rows: a commit between the two leaves the
	 * selection labelled older than it is, so it is read again next time,
	 * never kept past a change it does not hold.
	 */
	versioned = store_version(s, &dv, &ch) == 0;
	st = store_q(s, "SELECT unicast FROM nodes" FILTER_WHERE " ORDER BY unicast, id");
	if (st) {
		bind_filter(st, f);
	}
	rc = store_collect(s, st, sizeof(*addrs), store_read_u16, (void **)&addrs, &n);
	if (rc) {
		return rc;
	}
	free(s->count.addrs);
	s->count.addrs = addrs;
	s->count.n = n;
	s->count.unique = true;
	for (i = 1; i < n; i++) {
		s->count.unique = s->count.unique && addrs[i] > addrs[i - 1];
	}
	s->count.valid = versioned && (!f->name_sub || strlen(f->name_sub) < sizeof(s->count.name));
	s->count.data_version = dv;
	s->count.changes = ch;
	s->count.excluded = f->excluded;
	s->count.state_mask = f->state_mask;
	s->count.addr_lo = f->addr_lo;
	s->count.addr_hi = f->addr_hi;
	s->count.any_name = !f->name_sub;
	snprintf(s->count.name, sizeof(s->count.name), "%s", f->name_sub ? f->name_sub : "");
	return 0;
}

/* f's selection in s->count, read unless it is there already. */
static int count_get(struct store *s, const struct store_node_filter *f)
{
	return count_cached(s, f) ? 0 : count_load(s, f);
}

int store_node_list(struct store *s, const struct store_node_filter *f, struct store_node **out,
		    size_t *n)
{
	static const struct store_node_filter none = {0};
	uint16_t lo, after;
	size_t offset;
	sqlite3_stmt *st;

	f = f ? f : &none;
	if (f->excluded < 0 || f->excluded > 2) {
		return -EINVAL;
	}
	lo = f->addr_lo == 0 && f->addr_hi == 0 ? 0 : f->addr_lo;
	after = f->after;
	offset = f->offset;
	/*
	 * SQLite's OFFSET steps over every row before the page, so a page deep in
	 * the list cost as much as its depth.  With the selection's addresses at
	 * hand (count_get(), one walk per version of the database, which the
	 * page's total needs anyway) the row before the page is known and the
	 * offset becomes a cursor.  Only when addresses are unique in the
	 * selection (two rows of one address happen with excluded = 2): a cursor
	 * is an address.
	 */
	if (offset && !after && count_get(s, f) == 0 && s->count.valid && s->count.unique &&
	    offset <= s->count.n) {
		after = s->count.addrs[offset - 1];
		offset = 0;
	}
	/*
	 * Index nodes_order serves both the unicast range and the order.  The
	 * cursor is folded into the range's lower bound (?4) rather than given
	 * as a second one, so that the index search starts at the cursor: with
	 * two lower bounds SQLite may seek to the first and scan up to the
	 * other, which makes every page cost as much as its depth.
	 */
	st = store_q(s, "SELECT " NODE_COLS " FROM nodes" FILTER_WHERE
			" ORDER BY unicast, id LIMIT ?6 OFFSET ?7");
	if (st) {
		bind_filter(st, f);
		if (after) {
			sqlite3_bind_int(st, 4, after >= lo ? after + 1 : lo);
		}
		sqlite3_bind_int64(st, 6, f->limit ? (sqlite3_int64)f->limit : -1);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)offset);
	}
	return store_collect(s, st, sizeof(**out), read_node, (void **)out, n);
}

int store_node_count(struct store *s, const struct store_node_filter *f, size_t *n)
{
	static const struct store_node_filter none = {0};
	int rc;

	f = f ? f : &none;
	if (f->excluded < 0 || f->excluded > 2) {
		return -EINVAL;
	}
	rc = count_get(s, f);
	if (rc == 0) {
		*n = s->count.n;
	}
	return rc;
}

/*
 * Writes the fingerprint of row id's DevKey.  A key that does not unseal is
 * left without one (the node is shown without a fingerprint, as before);
 * not audited: a derived value, not a change of configuration.
 */
static int fill_fp(struct store *s, int64_t id)
{
	sqlite3_stmt *st = store_q(s, "SELECT uuid, dev_key FROM nodes WHERE id = ?");
	uint8_t uuid[STORE_UUID_LEN], key[STORE_KEY_LEN];
	char aad[64], fp[STORE_KEYPRINT_LEN + 1] = "";
	int rc;

	if (st) {
		sqlite3_bind_int64(st, 1, id);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc;
	}
	if (store_col_blob(st, 0, uuid, sizeof(uuid))) {
		devkey_aad(aad, uuid, false);
		if (store_unseal_col(s, st, 1, aad, key) == 0) {
			s->keyprint(key, fp);
			fp[STORE_KEYPRINT_LEN] = '\0';
		}
		sec_wipe(key, sizeof(key));
	}
	sqlite3_reset(st);
	if (!fp[0]) {
		return 0;
	}
	st = store_q(s, "UPDATE nodes SET devkey_fp = ? WHERE id = ?");
	if (st) {
		sqlite3_bind_text(st, 1, fp, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, id);
	}
	return store_run(s, st);
}

int store_set_keyprint(struct store *s, store_keyprint_fn fn)
{
	struct fill {
		int64_t id;
		uint16_t unicast;
	} *rows = NULL;
	sqlite3_stmt *st;
	size_t n = 0, cap = 0, i;
	int rc;

	s->keyprint = fn;
	if (!fn) {
		return 0;
	}
	/* Every node row, excluded ones too: their keys are shown with them. */
	st = store_q(s, "SELECT id, unicast FROM nodes WHERE devkey_fp IS NULL");
	if (!st) {
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct fill *p = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof(*rows));

			if (!p) {
				sqlite3_reset(st);
				free(rows);
				return -ENOMEM;
			}
			rows = p;
		}
		rows[n].id = sqlite3_column_int64(st, 0);
		rows[n++].unicast = (uint16_t)sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(rows);
		return store_sqlerr(s);
	}
	rc = n ? store_txn_begin(s) : 0;
	for (i = 0; rc == 0 && i < n; i++) {
		rc = fill_fp(s, rows[i].id);
	}
	if (n) {
		rc = store_txn_end(s, rc);
	}
	free(rows);
	return rc ? rc : (int)n;
}

void store_nodes_free(struct store_node *nodes)
{
	free(nodes);
}
