/*
 * The low-level SQLite helpers every store_*.c file shares: the statement
 * cache, stepping and error mapping, transactions, the audit writer, column
 * readers and row collection.  Calls nothing else of storage, so every
 * other store_*.c file (store_db.c, which opens the inventory, included)
 * sits above it.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/sec.h"
#include "storage/store_int.h"

static uint64_t realtime_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t store_now(struct store *s)
{
	return s->now_ms(s->now_ctx);
}

void store_set_clock(struct store *s, uint64_t (*now_ms)(void *ctx), void *ctx)
{
	s->now_ms = now_ms ? now_ms : realtime_ms;
	s->now_ctx = now_ms ? ctx : NULL;
}

void store_set_actor(struct store *s, const char *who)
{
	snprintf(s->actor, sizeof(s->actor), "%s", who ? who : "system");
}

const char *store_errmsg(const struct store *s)
{
	return s->errmsg;
}

int store_sqlcode(int ext)
{
	/* A damaged file is not a passing I/O error: the caller says to restore a backup. */
	if ((ext & 0xff) == SQLITE_CORRUPT || (ext & 0xff) == SQLITE_NOTADB) {
		return -EUCLEAN;
	}
	switch (ext) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return -EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return -ENOENT;
	default:
		return -EIO;
	}
}

int store_sqlerr(struct store *s)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
	return store_sqlcode(sqlite3_extended_errcode(s->db));
}

int store_sql_check(sqlite3 *db, bool full, char *why, size_t why_cap)
{
	const char *pragma = full ? "integrity_check" : "quick_check";
	char sql[32];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "PRAGMA %s(1)", pragma);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(why, why_cap, "%s", sqlite3_errmsg(db));
		return store_sqlcode(sqlite3_extended_errcode(db));
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(st, 0);

		rc = 0;
		if (!res || strcmp(res, "ok") != 0) {
			snprintf(why, why_cap, "%s: %.200s", pragma, res ? res : "no result");
			rc = -EUCLEAN;
		}
	} else {
		snprintf(why, why_cap, "%s", sqlite3_errmsg(db));
		rc = store_sqlcode(sqlite3_extended_errcode(db));
	}
	sqlite3_finalize(st);
	return rc;
}

/* Fibonacci hashing of the literal's address. */
static size_t slot_of(const char *sql)
{
	return (size_t)(((uint64_t)(uintptr_t)sql * 0x9e3779b97f4a7c15ull) >> 56) %
	       STORE_STMT_SLOTS;
}

sqlite3_stmt *store_q(struct store *s, const char *sql)
{
	size_t i = slot_of(sql);

	for (size_t n = 0; n < STORE_STMT_SLOTS; n++, i = (i + 1) % STORE_STMT_SLOTS) {
		struct store_stmt_slot *slot = &s->stmts[i];

		if (slot->sql == sql) {
			sqlite3_reset(slot->st);
			sqlite3_clear_bindings(slot->st);
			return slot->st;
		}
		if (!slot->sql) {
			if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->st,
					       NULL) != SQLITE_OK) {
				store_sqlerr(s);
				slot->st = NULL;
				return NULL;
			}
			slot->sql = sql;
			return slot->st;
		}
	}
	snprintf(s->errmsg, sizeof(s->errmsg), "statement cache full");
	return NULL;
}

int store_run(struct store *s, sqlite3_stmt *st)
{
	int rc;

	if (!st) {
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* Statements with RETURNING are read by the caller; here rows are ignored. */
	}
	if (rc != SQLITE_DONE) {
		rc = store_sqlerr(s);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return 0;
}

int store_row(struct store *s, sqlite3_stmt *st)
{
	int rc;

	if (!st) {
		return -EIO;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		return 1;
	}
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	rc = store_sqlerr(s);
	sqlite3_reset(st);
	return rc;
}

int store_exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

int store_version(struct store *s, int64_t *data_version, int64_t *changes)
{
	sqlite3_stmt *st = store_q(s, "PRAGMA data_version");
	int rc = store_row(s, st);

	if (rc <= 0) {
		return rc ? rc : -EIO;
	}
	*data_version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	*changes = sqlite3_total_changes64(s->db);
	return 0;
}

int store_txn_begin(struct store *s)
{
	int rc;

	/*
	 * BEGIN IMMEDIATE takes the write lock at once, so a verb never fails
	 * half-way with SQLITE_BUSY when it upgrades a read to a write.
	 */
	rc = store_run(s, store_q(s, s->depth ? "SAVEPOINT sp" : "BEGIN IMMEDIATE"));
	if (rc == 0) {
		s->depth++;
	}
	return rc;
}

int store_txn_end(struct store *s, int rc)
{
	int err;

	if (s->depth == 0) {
		return rc ? rc : -EINVAL;
	}
	s->depth--;
	if (rc == 0) {
		err = store_run(s, store_q(s, s->depth ? "RELEASE sp" : "COMMIT"));
		if (err == 0) {
			return 0;
		}
		rc = err;
	}
	/* SQLite may already have rolled back on its own (e.g. SQLITE_FULL). */
	if (sqlite3_get_autocommit(s->db)) {
		s->depth = 0;
		return rc;
	}
	if (s->depth) {
		(void)store_run(s, store_q(s, "ROLLBACK TO sp"));
		(void)store_run(s, store_q(s, "RELEASE sp"));
	} else {
		(void)store_run(s, store_q(s, "ROLLBACK"));
	}
	return rc;
}

int store_begin(struct store *s)
{
	return store_txn_begin(s);
}

int store_commit(struct store *s)
{
	if (s->depth == 0) {
		return -EINVAL;
	}
	return store_txn_end(s, 0);
}

int store_rollback(struct store *s)
{
	if (s->depth == 0) {
		return -EINVAL;
	}
	(void)store_txn_end(s, -ECANCELED);
	return 0;
}

int store_audit(struct store *s, const char *what, const char *fmt, ...)
{
	char target[STORE_NAME_MAX];
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(target, sizeof(target), fmt, ap);
	va_end(ap);
	st = store_q(s, "INSERT INTO audit (at_ms, who, what, target) VALUES (?, ?, ?, ?)");
	if (!st) {
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)store_now(s));
	sqlite3_bind_text(st, 2, s->actor, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, what, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, target, -1, SQLITE_TRANSIENT);
	return store_run(s, st);
}

void store_col_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	/* After sqlite3_column_text(): the length of the text form (sqlite3.h). */
	size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (cap == 0) {
		return;
	}
	/* Truncated as snprintf() would; memcpy because this runs for every row of a page. */
	if (n >= cap) {
		n = cap - 1;
	}
	memcpy(out, t ? (const char *)t : "", n);
	out[n] = '\0';
}

bool store_col_blob(sqlite3_stmt *st, int col, void *out, size_t len)
{
	const void *p = sqlite3_column_blob(st, col);

	if (!p || (size_t)sqlite3_column_bytes(st, col) != len) {
		return false;
	}
	memcpy(out, p, len);
	return true;
}

int store_bind_blob(sqlite3_stmt *st, int col, const void *p, size_t len)
{
	return sqlite3_bind_blob(st, col, p, (int)len, SQLITE_STATIC);
}

int store_collect(struct store *s, sqlite3_stmt *st, size_t elem,
		  int (*read)(struct store *s, sqlite3_stmt *st, void *item), void **out, size_t *n)
{
	return store_collect_owned(s, st, elem, read, NULL, out, n);
}

int store_collect_owned(struct store *s, sqlite3_stmt *st, size_t elem,
			int (*read)(struct store *s, sqlite3_stmt *st, void *item),
			void (*clear)(void *item), void **out, size_t *n)
{
	unsigned char *arr = NULL, *p;
	size_t cap = 0, len = 0;
	int rc;

	while ((rc = store_row(s, st)) == 1) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16;

			p = realloc(arr, ncap * elem);
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			arr = p;
			cap = ncap;
		}
		memset(arr + len * elem, 0, elem);
		rc = read(s, st, arr + len * elem);
		len++;
		if (rc) {
			break;
		}
	}
	if (rc < 0) {
		sqlite3_reset(st);
		for (size_t i = 0; clear && i < len; i++) {
			clear(arr + i * elem);
		}
		/* Rows may hold unsealed keys. */
		if (arr) {
			sec_wipe(arr, cap * elem);
		}
		free(arr);
		return rc;
	}
	*out = arr;
	*n = len;
	return 0;
}

bool store_json_ok(const char *text, bool object)
{
	/* Parameters are read back as objects: a repeated key would be ambiguous. */
	json_t *j = json_loads(text, JSON_DECODE_ANY | (object ? JSON_REJECT_DUPLICATES : 0), NULL);
	bool ok = j && (!object || json_is_object(j));

	json_decref(j);
	return ok;
}

int store_read_u16(struct store *s, sqlite3_stmt *st, void *item)
{
	(void)s;
	*(uint16_t *)item = (uint16_t)sqlite3_column_int(st, 0);
	return 0;
}
