/*
 * Long-running operations behind the REST API's 202 responses: created
 * PENDING, moved through RUNNING with progress, finished once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_int.h"

static bool finished(enum store_op_state st)
{
	return st == STORE_OP_SUCCEEDED || st == STORE_OP_FAILED || st == STORE_OP_CANCELLED;
}

int store_op_create(struct store *s, const char *type, uint64_t *id)
{
	uint64_t now = store_now(s);
	sqlite3_stmt *st;
	int64_t row = 0;
	int rc;

	if (!type || !*type || strlen(type) >= STORE_NAME_MAX) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "INSERT INTO operations (type, state, progress, created_ms, updated_ms)"
			" VALUES (?, 0, 0, ?, ?)");
	if (st) {
		sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	}
	rc = store_run(s, st);
	if (rc == 0) {
		row = sqlite3_last_insert_rowid(s->db);
		rc = store_audit(s, "op.create", "op %lld %s", (long long)row, type);
	}
	rc = store_txn_end(s, rc);
	if (rc == 0) {
		*id = (uint64_t)row;
	}
	return rc;
}

/* State of operation id, for the checks before an update. */
static int op_state(struct store *s, uint64_t id, enum store_op_state *state)
{
	sqlite3_stmt *st = store_q(s, "SELECT state FROM operations WHERE id = ?");
	int rc;

	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	*state = (enum store_op_state)sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return 0;
}

int store_op_progress(struct store *s, uint64_t id, enum store_op_state state, uint8_t progress)
{
	enum store_op_state cur;
	sqlite3_stmt *st;
	int rc;

	if ((state != STORE_OP_PENDING && state != STORE_OP_RUNNING) || progress > 100) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = op_state(s, id, &cur);
	if (rc == 0 && finished(cur)) {
		rc = -EALREADY;
	}
	if (rc == 0) {
		st = store_q(s, "UPDATE operations SET state = ?, progress = ?, updated_ms = ?"
				" WHERE id = ?");
		if (st) {
			sqlite3_bind_int(st, 1, state);
			sqlite3_bind_int(st, 2, progress);
			sqlite3_bind_int64(st, 3, (sqlite3_int64)store_now(s));
			sqlite3_bind_int64(st, 4, (sqlite3_int64)id);
		}
		rc = store_run(s, st);
	}
	return store_txn_end(s, rc);
}

int store_op_finish(struct store *s, uint64_t id, enum store_op_state state,
		    const char *result_json, const char *error)
{
	enum store_op_state cur;
	sqlite3_stmt *st;
	int rc;

	if (!finished(state) || (result_json && !store_json_ok(result_json, false))) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = op_state(s, id, &cur);
	if (rc == 0 && finished(cur)) {
		rc = -EALREADY;
	}
	if (rc == 0) {
		st = store_q(s, "UPDATE operations SET state = ?, progress = CASE WHEN ? = 2"
				" THEN 100 ELSE progress END, result = ?, error = ?, updated_ms = ?"
				" WHERE id = ?");
		if (st) {
			sqlite3_bind_int(st, 1, state);
			sqlite3_bind_int(st, 2, state);
			if (result_json) {
				sqlite3_bind_text(st, 3, result_json, -1, SQLITE_STATIC);
			}
			if (error) {
				sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
			}
			sqlite3_bind_int64(st, 5, (sqlite3_int64)store_now(s));
			sqlite3_bind_int64(st, 6, (sqlite3_int64)id);
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "op.finish", "op %llu state %d", (unsigned long long)id,
				 (int)state);
	}
	return store_txn_end(s, rc);
}

int store_op_get(struct store *s, uint64_t id, struct store_op *out)
{
	struct store_op op = {0};
	const unsigned char *res;
	sqlite3_stmt *st;
	int rc;

	st = store_q(s, "SELECT id, type, state, progress, result, error, created_ms, updated_ms"
			" FROM operations WHERE id = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	op.id = (uint64_t)sqlite3_column_int64(st, 0);
	store_col_text(st, 1, op.type, sizeof(op.type));
	op.state = (enum store_op_state)sqlite3_column_int(st, 2);
	op.progress = (uint8_t)sqlite3_column_int(st, 3);
	res = sqlite3_column_text(st, 4);
	store_col_text(st, 5, op.error, sizeof(op.error));
	op.created_ms = (uint64_t)sqlite3_column_int64(st, 6);
	op.updated_ms = (uint64_t)sqlite3_column_int64(st, 7);
	if (res) {
		op.result = strdup((const char *)res);
		if (!op.result) {
			rc = -ENOMEM;
		}
	}
	sqlite3_reset(st);
	if (rc < 0) {
		return rc;
	}
	*out = op;
	return 0;
}

void store_op_clear(struct store_op *op)
{
	if (op) {
		free(op->result);
		op->result = NULL;
	}
}

int store_op_abandon_unfinished(struct store *s, size_t *n)
{
	sqlite3_stmt *st;
	size_t changed = 0;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "UPDATE operations SET state = 3, error = 'interrupted by restart',"
			" updated_ms = ? WHERE state IN (0, 1)");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)store_now(s));
	}
	rc = store_run(s, st);
	if (rc == 0) {
		changed = (size_t)sqlite3_changes(s->db);
	}
	if (rc == 0 && changed) {
		rc = store_audit(s, "op.abandon", "%zu operations", changed);
	}
	rc = store_txn_end(s, rc);
	if (rc == 0 && n) {
		*n = changed;
	}
	return rc;
}

int store_op_purge(struct store *s, uint64_t before_ms, size_t *n)
{
	sqlite3_stmt *st;
	size_t gone = 0;
	int rc;

	st = store_q(s, "DELETE FROM operations WHERE state >= 2 AND updated_ms < ?");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)before_ms);
	}
	rc = store_run(s, st);
	if (rc == 0) {
		gone = (size_t)sqlite3_changes(s->db);
		if (n) {
			*n = gone;
		}
	}
	return rc;
}
