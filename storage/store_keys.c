/*
 * NetKeys and AppKeys, sealed at rest (store_master.c).  The additional
 * data of each blob names table, index and role ("netkey:3",
 * "netkey-old:3", "appkey:1"), so blobs cannot be swapped between rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/sec.h"
#include "storage/store_int.h"

#define KEY_IDX_MAX 0x0fff /* 12-bit key indexes (§4.3.1.1) */

struct aad {
	char s[32];
};

static struct aad aad_of(const char *kind, bool old, uint16_t idx)
{
	struct aad a;

	snprintf(a.s, sizeof(a.s), "%s%s:%u", kind, old ? "-old" : "", idx);
	return a;
}

/* Bind a sealed key for row (kind, idx) to parameter col; out keeps the blob alive. */
static int bind_sealed(struct store *s, sqlite3_stmt *st, int col, const char *kind, bool old,
		       uint16_t idx, const uint8_t key[STORE_KEY_LEN],
		       uint8_t out[STORE_SEALED_LEN])
{
	int rc = store_seal(s, aad_of(kind, old, idx).s, key, out);

	if (rc == 0) {
		store_bind_blob(st, col, out, STORE_SEALED_LEN);
	}
	return rc;
}

int store_netkey_add(struct store *s, uint16_t idx, const uint8_t key[STORE_KEY_LEN])
{
	uint8_t blob[STORE_SEALED_LEN];
	uint64_t now = store_now(s);
	sqlite3_stmt *st;
	int rc;

	if (idx > KEY_IDX_MAX || !key) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "INSERT INTO netkeys (idx, key, phase, created_ms, updated_ms)"
			" VALUES (?, ?, 0, ?, ?)");
	rc = st ? bind_sealed(s, st, 2, "netkey", false, idx, key, blob) : -EIO;
	if (rc == 0) {
		sqlite3_bind_int(st, 1, idx);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "netkey.add", "netkey %u", idx);
	}
	return store_txn_end(s, rc);
}

static int read_netkey(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_netkey *k = item;
	int rc;

	k->idx = (uint16_t)sqlite3_column_int(st, 0);
	k->phase = (enum store_kr_phase)sqlite3_column_int(st, 3);
	k->created_ms = (uint64_t)sqlite3_column_int64(st, 4);
	k->updated_ms = (uint64_t)sqlite3_column_int64(st, 5);
	rc = store_unseal_col(s, st, 1, aad_of("netkey", false, k->idx).s, k->key);
	k->has_old = sqlite3_column_type(st, 2) != SQLITE_NULL;
	if (rc == 0 && k->has_old) {
		rc = store_unseal_col(s, st, 2, aad_of("netkey", true, k->idx).s, k->old_key);
	}
	return rc;
}

int store_netkey_get(struct store *s, uint16_t idx, struct store_netkey *out)
{
	struct store_netkey k = {0};
	sqlite3_stmt *st;
	int rc;

	st = store_q(s, "SELECT idx, key, old_key, phase, created_ms, updated_ms FROM netkeys"
			" WHERE idx = ?");
	if (st) {
		sqlite3_bind_int(st, 1, idx);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	rc = read_netkey(s, st, &k);
	sqlite3_reset(st);
	if (rc == 0) {
		*out = k;
	}
	sec_wipe(&k, sizeof(k));
	return rc;
}

int store_netkey_list(struct store *s, struct store_netkey **out, size_t *n)
{
	sqlite3_stmt *st = store_q(s, "SELECT idx, key, old_key, phase, created_ms, updated_ms"
				      " FROM netkeys ORDER BY idx");

	return store_collect(s, st, sizeof(**out), read_netkey, (void **)out, n);
}

void store_netkeys_free(struct store_netkey *keys, size_t n)
{
	if (keys) {
		sec_wipe(keys, n * sizeof(*keys));
	}
	free(keys);
}

int store_netkey_update(struct store *s, uint16_t idx, const uint8_t key[STORE_KEY_LEN])
{
	struct store_netkey cur;
	uint8_t blob_new[STORE_SEALED_LEN], blob_old[STORE_SEALED_LEN];
	sqlite3_stmt *st;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_netkey_get(s, idx, &cur);
	if (rc == 0 && (cur.has_old || cur.phase != STORE_KR_NORMAL)) {
		rc = -EBUSY;
	}
	st = rc ? NULL
		: store_q(s, "UPDATE netkeys SET key = ?, old_key = ?, phase = 1, updated_ms = ?"
			     " WHERE idx = ?");
	if (rc == 0 && !st) {
		rc = -EIO;
	}
	if (rc == 0) {
		rc = bind_sealed(s, st, 1, "netkey", false, idx, key, blob_new);
	}
	if (rc == 0) {
		rc = bind_sealed(s, st, 2, "netkey", true, idx, cur.key, blob_old);
	}
	if (rc == 0) {
		sqlite3_bind_int64(st, 3, (sqlite3_int64)store_now(s));
		sqlite3_bind_int(st, 4, idx);
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "netkey.update", "netkey %u", idx);
	}
	sec_wipe(&cur, sizeof(cur));
	return store_txn_end(s, rc);
}

int store_netkey_phase_set(struct store *s, uint16_t idx, enum store_kr_phase phase)
{
	sqlite3_stmt *st;
	int rc, cur;

	switch (phase) {
	case STORE_KR_NORMAL:
	case STORE_KR_PHASE1:
	case STORE_KR_PHASE2:
		break;
	default:
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "SELECT phase FROM netkeys WHERE idx = ?");
	if (st) {
		sqlite3_bind_int(st, 1, idx);
	}
	rc = store_row(s, st);
	if (rc == 0) {
		rc = -ENOENT;
	} else if (rc == 1) {
		cur = sqlite3_column_int(st, 0);
		sqlite3_reset(st);
		/* Phases only move forward (§3.11): 1 -> 2 -> normal, or 1 -> normal. */
		rc = 0;
		if (phase == STORE_KR_PHASE1 || (int)phase == cur ||
		    (phase == STORE_KR_PHASE2 && cur != STORE_KR_PHASE1)) {
			rc = -EINVAL;
		}
	}
	if (rc == 0) {
		st = store_q(
		    s, "UPDATE netkeys SET phase = ?1, updated_ms = ?2,"
		       " old_key = CASE WHEN ?1 = 0 THEN NULL ELSE old_key END WHERE idx = ?3");
		if (st) {
			sqlite3_bind_int(st, 1, phase);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)store_now(s));
			sqlite3_bind_int(st, 3, idx);
		}
		rc = store_run(s, st);
	}
	/* The AppKeys bound to this NetKey finish their refresh with it. */
	if (rc == 0 && phase == STORE_KR_NORMAL) {
		st = store_q(s, "UPDATE appkeys SET old_key = NULL, updated_ms = ?"
				" WHERE net_idx = ? AND old_key IS NOT NULL");
		if (st) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)store_now(s));
			sqlite3_bind_int(st, 2, idx);
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "netkey.phase", "netkey %u phase %d", idx, (int)phase);
	}
	return store_txn_end(s, rc);
}

/* True when a row exists for the single-parameter query sql bound to v. */
static int exists(struct store *s, const char *sql, int v)
{
	sqlite3_stmt *st = store_q(s, sql);
	int rc;

	if (st) {
		sqlite3_bind_int(st, 1, v);
	}
	rc = store_row(s, st);
	if (rc == 1) {
		sqlite3_reset(st);
	}
	return rc;
}

int store_netkey_delete(struct store *s, uint16_t idx)
{
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = exists(s, "SELECT 1 FROM appkeys WHERE net_idx = ?", idx);
	if (rc == 0) {
		rc = exists(s, "SELECT 1 FROM node_netkeys WHERE net_idx = ?", idx);
	}
	if (rc == 1) {
		rc = -EBUSY;
	}
	if (rc == 0) {
		sqlite3_stmt *st = store_q(s, "DELETE FROM netkeys WHERE idx = ?");

		if (st) {
			sqlite3_bind_int(st, 1, idx);
		}
		rc = store_run(s, st);
		if (rc == 0 && sqlite3_changes(s->db) == 0) {
			rc = -ENOENT;
		}
	}
	if (rc == 0) {
		rc = store_audit(s, "netkey.delete", "netkey %u", idx);
	}
	return store_txn_end(s, rc);
}

int store_appkey_add(struct store *s, uint16_t idx, uint16_t net_idx,
		     const uint8_t key[STORE_KEY_LEN])
{
	uint8_t blob[STORE_SEALED_LEN];
	uint64_t now = store_now(s);
	sqlite3_stmt *st;
	int rc;

	if (idx > KEY_IDX_MAX || net_idx > KEY_IDX_MAX || !key) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "INSERT INTO appkeys (idx, net_idx, key, created_ms, updated_ms)"
			" VALUES (?, ?, ?, ?, ?)");
	rc = st ? bind_sealed(s, st, 3, "appkey", false, idx, key, blob) : -EIO;
	if (rc == 0) {
		sqlite3_bind_int(st, 1, idx);
		sqlite3_bind_int(st, 2, net_idx);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "appkey.add", "appkey %u net %u", idx, net_idx);
	}
	return store_txn_end(s, rc);
}

static int read_appkey(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_appkey *k = item;
	int rc;

	k->idx = (uint16_t)sqlite3_column_int(st, 0);
	k->net_idx = (uint16_t)sqlite3_column_int(st, 1);
	k->created_ms = (uint64_t)sqlite3_column_int64(st, 4);
	k->updated_ms = (uint64_t)sqlite3_column_int64(st, 5);
	rc = store_unseal_col(s, st, 2, aad_of("appkey", false, k->idx).s, k->key);
	k->has_old = sqlite3_column_type(st, 3) != SQLITE_NULL;
	if (rc == 0 && k->has_old) {
		rc = store_unseal_col(s, st, 3, aad_of("appkey", true, k->idx).s, k->old_key);
	}
	return rc;
}

int store_appkey_get(struct store *s, uint16_t idx, struct store_appkey *out)
{
	struct store_appkey k = {0};
	sqlite3_stmt *st;
	int rc;

	st = store_q(s, "SELECT idx, net_idx, key, old_key, created_ms, updated_ms FROM appkeys"
			" WHERE idx = ?");
	if (st) {
		sqlite3_bind_int(st, 1, idx);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	rc = read_appkey(s, st, &k);
	sqlite3_reset(st);
	if (rc == 0) {
		*out = k;
	}
	sec_wipe(&k, sizeof(k));
	return rc;
}

int store_appkey_list(struct store *s, struct store_appkey **out, size_t *n)
{
	sqlite3_stmt *st = store_q(s, "SELECT idx, net_idx, key, old_key, created_ms, updated_ms"
				      " FROM appkeys ORDER BY idx");

	return store_collect(s, st, sizeof(**out), read_appkey, (void **)out, n);
}

void store_appkeys_free(struct store_appkey *keys, size_t n)
{
	if (keys) {
		sec_wipe(keys, n * sizeof(*keys));
	}
	free(keys);
}

int store_appkey_update(struct store *s, uint16_t idx, const uint8_t key[STORE_KEY_LEN])
{
	struct store_appkey cur;
	uint8_t blob_new[STORE_SEALED_LEN], blob_old[STORE_SEALED_LEN];
	sqlite3_stmt *st = NULL;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_appkey_get(s, idx, &cur);
	if (rc == 0 && cur.has_old) {
		rc = -EBUSY;
	}
	if (rc == 0) {
		st = store_q(s, "UPDATE appkeys SET key = ?, old_key = ?, updated_ms = ?"
				" WHERE idx = ?");
		rc = st ? bind_sealed(s, st, 1, "appkey", false, idx, key, blob_new) : -EIO;
	}
	if (rc == 0) {
		rc = bind_sealed(s, st, 2, "appkey", true, idx, cur.key, blob_old);
	}
	if (rc == 0) {
		sqlite3_bind_int64(st, 3, (sqlite3_int64)store_now(s));
		sqlite3_bind_int(st, 4, idx);
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "appkey.update", "appkey %u", idx);
	}
	sec_wipe(&cur, sizeof(cur));
	return store_txn_end(s, rc);
}

int store_appkey_delete(struct store *s, uint16_t idx)
{
	sqlite3_stmt *st;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	/* Node AppKey lists and bindings go with it (ON DELETE CASCADE). */
	st = store_q(s, "DELETE FROM appkeys WHERE idx = ?");
	if (st) {
		sqlite3_bind_int(st, 1, idx);
	}
	rc = store_run(s, st);
	if (rc == 0 && sqlite3_changes(s->db) == 0) {
		rc = -ENOENT;
	}
	if (rc == 0) {
		rc = store_audit(s, "appkey.delete", "appkey %u", idx);
	}
	return store_txn_end(s, rc);
}
