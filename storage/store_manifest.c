/*
 * Commissioning manifests (store_manifest.h): tables manifests and
 * manifest_rows (schema 5).
 */
#include "storage/store_manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sec.h"
#include "storage/store_int.h"

#define UNIT STORE_KEY_LEN /* octets sealed per unit */
#define MAX_UNITS (STORE_MANIFEST_SECRET_MAX / UNIT)

struct aad {
	char s[64];
};

static struct aad unit_aad(uint64_t id, uint32_t idx, unsigned unit, size_t len)
{
	struct aad a;

	snprintf(a.s, sizeof(a.s), "manifest:%" PRIu64 ":%" PRIu32 ":%u/%zu", id, idx, unit, len);
	return a;
}

static bool secret_len_ok(size_t len)
{
	return len == 0 || len == 16 || len == 32 || len == 64;
}

static int row_insert(struct store *s, uint64_t id, uint32_t idx,
		      const struct store_manifest_row *r)
{
	uint8_t sealed[MAX_UNITS * STORE_SEALED_LEN];
	sqlite3_stmt *st;
	int rc = 0;

	for (unsigned u = 0; rc == 0 && u < r->secret_len / UNIT; u++) {
		rc = store_seal(s, unit_aad(id, idx, u, r->secret_len).s, r->secret + u * UNIT,
				sealed + u * STORE_SEALED_LEN);
	}
	if (rc) {
		return rc;
	}
	st = store_q(s, "INSERT INTO manifest_rows (manifest, idx, uuid, data, secret_len, sealed)"
			" VALUES (?, ?, ?, ?, ?, ?)");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		sqlite3_bind_int64(st, 2, idx);
		store_bind_blob(st, 3, r->uuid, sizeof(r->uuid));
		sqlite3_bind_text(st, 4, r->data, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, (int)r->secret_len);
		if (r->secret_len) {
			store_bind_blob(st, 6, sealed, r->secret_len / UNIT * STORE_SEALED_LEN);
		}
	}
	return store_run(s, st);
}

int store_manifest_put(struct store *s, uint64_t *id, const char *format,
		       const struct store_manifest_row *rows, size_t n)
{
	uint64_t now = store_now(s);
	sqlite3_stmt *st;
	int rc;

	if (!id || !format || strlen(format) >= STORE_MANIFEST_FORMAT_MAX || (n && !rows)) {
		return -EINVAL;
	}
	/* Every row is checked before anything is written. */
	for (size_t i = 0; i < n; i++) {
		if (!rows[i].data || !store_json_ok(rows[i].data, true) ||
		    !secret_len_ok(rows[i].secret_len) || (rows[i].secret_len && !rows[i].secret)) {
			return -EINVAL;
		}
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	if (*id == 0) {
		st = store_q(s, "INSERT INTO manifests (format, rows, created_by, created_ms,"
				" updated_ms) VALUES (?, ?, ?, ?, ?)");
		if (st) {
			sqlite3_bind_text(st, 1, format, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
			sqlite3_bind_text(st, 3, s->actor, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
			sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
		}
		rc = store_run(s, st);
		if (rc == 0) {
			*id = (uint64_t)sqlite3_last_insert_rowid(s->db);
		}
	} else {
		st = store_q(s, "UPDATE manifests SET format = ?, rows = ?, updated_ms = ?"
				" WHERE id = ?");
		if (st) {
			sqlite3_bind_text(st, 1, format, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
			sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
			sqlite3_bind_int64(st, 4, (sqlite3_int64)*id);
		}
		rc = store_run(s, st);
		if (rc == 0 && sqlite3_changes(s->db) == 0) {
			rc = -ENOENT;
		}
		if (rc == 0) {
			st = store_q(s, "DELETE FROM manifest_rows WHERE manifest = ?");
			if (st) {
				sqlite3_bind_int64(st, 1, (sqlite3_int64)*id);
			}
			rc = store_run(s, st);
		}
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = row_insert(s, *id, (uint32_t)i, &rows[i]);
	}
	if (rc == 0) {
		rc = store_audit(s, "manifest.put", "manifest %" PRIu64 ", %zu rows (%s)", *id, n,
				 format);
	}
	return store_txn_end(s, rc);
}

static int read_manifest(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_manifest *m = item;

	(void)s;
	memset(m, 0, sizeof(*m));
	m->id = (uint64_t)sqlite3_column_int64(st, 0);
	store_col_text(st, 1, m->format, sizeof(m->format));
	m->rows = (size_t)sqlite3_column_int64(st, 2);
	store_col_text(st, 3, m->created_by, sizeof(m->created_by));
	m->created_ms = (uint64_t)sqlite3_column_int64(st, 4);
	m->updated_ms = (uint64_t)sqlite3_column_int64(st, 5);
	return 0;
}

int store_manifest_get(struct store *s, uint64_t id, struct store_manifest *out)
{
	sqlite3_stmt *st = store_q(s, "SELECT id, format, rows, created_by, created_ms, updated_ms"
				      " FROM manifests WHERE id = ?");
	int rc;

	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	read_manifest(s, st, out);
	sqlite3_reset(st);
	return 0;
}

int store_manifest_list(struct store *s, struct store_manifest **out, size_t *n)
{
	sqlite3_stmt *st = store_q(s, "SELECT id, format, rows, created_by, created_ms, updated_ms"
				      " FROM manifests ORDER BY id");

	return store_collect(s, st, sizeof(**out), read_manifest, (void **)out, n);
}

/* The secret of the current row of st (columns 2 and 3) into out. */
static int row_secret(struct store *s, sqlite3_stmt *st, uint64_t id, uint32_t idx,
		      uint8_t out[STORE_MANIFEST_SECRET_MAX], size_t *len)
{
	size_t n = (size_t)sqlite3_column_int(st, 2);
	const uint8_t *blob = sqlite3_column_blob(st, 3);
	int rc = 0;

	*len = 0;
	if (!secret_len_ok(n) ||
	    (size_t)sqlite3_column_bytes(st, 3) != n / UNIT * STORE_SEALED_LEN) {
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "manifest %" PRIu64 " row %" PRIu32 ": sealed secret of a bad length", id,
			 idx);
		return -EIO;
	}
	for (unsigned u = 0; rc == 0 && u < n / UNIT; u++) {
		rc = store_unseal(s, unit_aad(id, idx, u, n).s, blob + u * STORE_SEALED_LEN,
				  out + u * UNIT);
	}
	if (rc == 0) {
		*len = n;
	}
	return rc;
}

int store_manifest_rows(struct store *s, uint64_t id, bool secrets, store_manifest_row_fn fn,
			void *ctx)
{
	uint8_t secret[STORE_MANIFEST_SECRET_MAX], uuid[16];
	sqlite3_stmt *st;
	int rc;

	if (!fn) {
		return -EINVAL;
	}
	st = store_q(s, "SELECT idx, uuid, secret_len, sealed, data FROM manifest_rows"
			" WHERE manifest = ? ORDER BY idx");
	if (!st) {
		return store_sqlerr(s);
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t idx = (uint32_t)sqlite3_column_int64(st, 0);
		size_t len = 0;

		if (!store_col_blob(st, 1, uuid, sizeof(uuid))) {
			rc = -EIO;
			break;
		}
		rc = secrets ? row_secret(s, st, id, idx, secret, &len) : 0;
		if (rc == 0) {
			rc = fn(ctx, idx, uuid, (const char *)sqlite3_column_text(st, 4),
				len ? secret : NULL, len);
		}
		sec_wipe(secret, sizeof(secret));
		if (rc) {
			break;
		}
	}
	if (rc == SQLITE_DONE) {
		rc = 0;
	} else if (rc > 0) {
		rc = store_sqlerr(s);
	}
	sqlite3_reset(st);
	return rc;
}

int store_manifest_delete(struct store *s, uint64_t id)
{
	sqlite3_stmt *st;
	int rc = store_txn_begin(s);

	if (rc) {
		return rc;
	}
	/* Its rows and their sealed secrets go with it (ON DELETE CASCADE, foreign_keys on). */
	st = store_q(s, "DELETE FROM manifests WHERE id = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	}
	rc = store_run(s, st);
	if (rc == 0 && sqlite3_changes(s->db) == 0) {
		rc = -ENOENT;
	}
	if (rc == 0) {
		rc = store_audit(s, "manifest.delete", "manifest %" PRIu64, id);
	}
	return store_txn_end(s, rc);
}
