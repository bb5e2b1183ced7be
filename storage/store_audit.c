/*
 * Reading the audit log.  Entries are written by store_audit() (store_sql.c)
 * inside the transaction of the change they describe, so a rolled-back
 * change leaves no entry and a committed one always has one.
 */
#include "storage/store_int.h"

static int read_audit(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_audit *a = item;

	(void)s;
	a->id = (uint64_t)sqlite3_column_int64(st, 0);
	a->at_ms = (uint64_t)sqlite3_column_int64(st, 1);
	store_col_text(st, 2, a->who, sizeof(a->who));
	store_col_text(st, 3, a->what, sizeof(a->what));
	store_col_text(st, 4, a->target, sizeof(a->target));
	return 0;
}

int store_audit_list(struct store *s, uint64_t after_id, size_t limit, struct store_audit **out,
		     size_t *n)
{
	sqlite3_stmt *st;

	st = store_q(s, "SELECT id, at_ms, who, what, target FROM audit WHERE id > ?"
			" ORDER BY id LIMIT ?");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)after_id);
		sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
	}
	return store_collect(s, st, sizeof(**out), read_audit, (void **)out, n);
}
