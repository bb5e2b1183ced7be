/*
 * Reading the audit log.  Entries are written by store_audit() (store_db.c)
 * inside the transaction of the change they describe, so a rolled-back
 * change leaves no entry and a committed one always has one.
 */
#include <errno.h>
#include <stdlib.h>

#include "storage/store_int.h"

int store_audit_list(struct store *s, uint64_t after_id, size_t limit, struct store_audit **out,
		     size_t *n)
{
	struct store_audit *arr = NULL, *p;
	size_t cap = 0, len = 0;
	sqlite3_stmt *st;
	int rc;

	st = store_q(s, "SELECT id, at_ms, who, what, target FROM audit WHERE id > ?"
			" ORDER BY id LIMIT ?");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)after_id);
		sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
	}
	while ((rc = store_row(s, st)) == 1) {
		struct store_audit *a;

		if (len == cap) {
			p = store_grow(arr, &cap, sizeof(*arr));
			if (!p) {
				sqlite3_reset(st);
				rc = -ENOMEM;
				break;
			}
			arr = p;
		}
		a = &arr[len++];
		a->id = (uint64_t)sqlite3_column_int64(st, 0);
		a->at_ms = (uint64_t)sqlite3_column_int64(st, 1);
		store_col_text(st, 2, a->who, sizeof(a->who));
		store_col_text(st, 3, a->what, sizeof(a->what));
		store_col_text(st, 4, a->target, sizeof(a->target));
	}
	if (rc < 0) {
		free(arr);
		return rc;
	}
	*out = arr;
	*n = len;
	return 0;
}
