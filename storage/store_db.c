/*
 * Opening and closing the inventory, the statement cache, transactions,
 * the audit writer and the small helpers the other store_*.c files share.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/sec.h"
#include "storage/store_int.h"
#include "storage/store_schema.h"

/*
 * How long a statement waits for a lock held by another connection (an
 * operator running sqlite3 on the file, a backup) before failing with -EIO.
 */
#define BUSY_TIMEOUT_MS 5000

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

int store_schema_version(void)
{
	return (int)store_migrations_count;
}

const char *store_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -EPERM:
		return "master key file is accessible to group or others, or not owned by this "
		       "user";
	case -EBADF:
		return "master key file is not a regular file of exactly 32 octets";
	case -ENOKEY:
		return "master key file is missing but the database holds sealed keys";
	case -EKEYREJECTED:
		return "master key does not open the inventory: wrong master key for this database";
	case -EPROTO:
		return "database was written by a newer meshgw (schema version too high)";
	case -EIO:
		return "SQLite error";
	case -EACCES:
		return "a sealed key did not authenticate (wrong master key or tampered row)";
	case -ENOENT:
		return "no such record";
	case -EEXIST:
		return "record already exists";
	case -ENOSPC:
		return "no free address range";
	case -EINVAL:
		return "invalid argument";
	case -EBUSY:
		return "record is in use";
	case -EALREADY:
		return "already done";
	default:
		return "unexpected error";
	}
}

int store_sqlerr(struct store *s)
{
	int ext = sqlite3_extended_errcode(s->db);

	snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
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

	snprintf(out, cap, "%s", t ? (const char *)t : "");
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

static int pragma_int(struct store *s, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		return store_sqlerr(s);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = 0;
	} else {
		rc = store_sqlerr(s);
	}
	sqlite3_finalize(st);
	return rc;
}

static int set_wal(struct store *s)
{
	sqlite3_stmt *st;
	int rc = -EIO;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK) {
		return store_sqlerr(s);
	}
	if (sqlite3_step(st) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0) {
		rc = 0;
	} else {
		snprintf(s->errmsg, sizeof(s->errmsg), "cannot switch to WAL mode");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Apply the missing schema steps, one transaction each. */
static int migrate(struct store *s)
{
	int version, rc;

	rc = pragma_int(s, "PRAGMA user_version", &version);
	if (rc) {
		return rc;
	}
	if (version < 0 || (size_t)version > store_migrations_count) {
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "database schema version %d is newer than this build's %zu", version,
			 store_migrations_count);
		return -EPROTO;
	}
	for (size_t v = (size_t)version; v < store_migrations_count; v++) {
		char pragma[48];

		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu", v + 1);
		rc = store_exec(s, "BEGIN IMMEDIATE");
		if (rc) {
			return rc;
		}
		rc = store_exec(s, store_migrations[v].sql);
		if (rc == 0) {
			rc = store_exec(s, pragma);
		}
		if (rc == 0) {
			rc = store_audit(s, "schema.migrate", "version %zu", v + 1);
		}
		if (rc == 0) {
			rc = store_exec(s, "COMMIT");
		}
		if (rc) {
			char msg[sizeof(s->errmsg)];

			memcpy(msg, s->errmsg, sizeof(msg));
			(void)store_exec(s, "ROLLBACK");
			memcpy(s->errmsg, msg, sizeof(msg));
			return rc;
		}
	}
	return 0;
}

/* True when the database already holds a sealed key of any kind. */
static int has_sealed_keys(struct store *s, bool *out)
{
	int n = 0, rc;

	rc = pragma_int(s,
			"SELECT (SELECT count(*) FROM netkeys) + (SELECT count(*) FROM appkeys)"
			" + (SELECT count(*) FROM nodes) + (SELECT count(*) FROM job_secrets)",
			&n);
	if (rc == 0) {
		*out = n > 0;
	}
	return rc;
}

/*
 * The database holds sealed keys and tokens' hashes: owner-only, 0600, whatever the umask.
 * The file is created here (or an older, wider one tightened) before SQLite opens it; SQLite
 * gives the -wal and -shm files it creates the database file's mode, and any left over from an
 * unclean stop are tightened too.  No umask is changed, so other threads are not affected.
 */
static int owner_only(struct store *s, const char *db_path)
{
	static const char *const side[] = {"-wal", "-shm"};
	char p[4096];
	size_t i;
	int fd;

	if (!db_path[0] || strcmp(db_path, ":memory:") == 0 || strncmp(db_path, "file:", 5) == 0) {
		return 0;
	}
	fd = open(db_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fchmod(fd, 0600) < 0) {
		int e = errno;

		if (fd >= 0) {
			close(fd);
		}
		snprintf(s->errmsg, sizeof(s->errmsg), "%.180s: %.60s", db_path, strerror(e));
		return -e;
	}
	close(fd);
	for (i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		if ((size_t)snprintf(p, sizeof(p), "%s%s", db_path, side[i]) < sizeof(p) &&
		    chmod(p, 0600) < 0 && errno != ENOENT) {
			int e = errno;

			snprintf(s->errmsg, sizeof(s->errmsg), "%.180s: %.60s", p, strerror(e));
			return -e;
		}
	}
	return 0;
}

static int open_db(struct store *s, const char *db_path)
{
	int rc;

	rc = owner_only(s, db_path);
	if (rc) {
		return rc;
	}
	if (sqlite3_open_v2(db_path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		return s->db ? store_sqlerr(s) : -ENOMEM;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	rc = set_wal(s);
	/*
	 * synchronous=FULL: a committed sequence number reservation must
	 * survive a power cut, not only a process crash, or a restart could
	 * reuse sequence numbers.
	 */
	if (rc == 0) {
		rc = store_exec(s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL");
	}
	if (rc == 0) {
		rc = migrate(s);
	}
	/* Scratch table of store_comp_set(), private to this connection. */
	if (rc == 0) {
		rc = store_exec(s, "CREATE TEMP TABLE keep_models (id INTEGER PRIMARY KEY)");
	}
	return rc;
}

/*
 * The master key opens the sealed keys: one NetKey (or AppKey) is unsealed, so that a master key
 * file of another installation is refused at start with -EKEYREJECTED instead of failing later.
 */
static int master_opens(struct store *s)
{
	struct store_netkey *nk = NULL;
	struct store_appkey *ak = NULL;
	size_t n = 0;
	int rc;

	rc = store_netkey_list(s, &nk, &n);
	store_netkeys_free(nk, n);
	if (rc == 0 && n == 0) {
		rc = store_appkey_list(s, &ak, &n);
		store_appkeys_free(ak, n);
	}
	return rc == -EACCES ? -EKEYREJECTED : rc;
}

struct store *store_open(const char *db_path, const char *master_key_path, int *err)
{
	struct store *s;
	bool sealed = false;
	int rc;

	if (!db_path || !master_key_path) {
		rc = -EINVAL;
		goto out_err;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = -ENOMEM;
		goto out_err;
	}
	store_set_actor(s, NULL);
	store_set_clock(s, NULL, NULL);
	rc = open_db(s, db_path);
	if (rc) {
		goto out_close;
	}
	/* Only a database without sealed keys may get a brand new master key. */
	rc = has_sealed_keys(s, &sealed);
	if (rc) {
		goto out_close;
	}
	rc = store_master_load(master_key_path, !sealed, s->master, NULL);
	if (rc == -ENOENT && sealed) {
		rc = -ENOKEY;
	}
	if (rc == 0 && sealed) {
		rc = master_opens(s);
	}
	if (rc) {
		goto out_close;
	}
	return s;

out_close:
	store_close(s);
out_err:
	if (err) {
		*err = rc;
	}
	return NULL;
}

void store_close(struct store *s)
{
	if (!s) {
		return;
	}
	if (s->depth && s->db && !sqlite3_get_autocommit(s->db)) {
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	for (size_t i = 0; i < STORE_STMT_SLOTS; i++) {
		sqlite3_finalize(s->stmts[i].st);
	}
	sqlite3_close_v2(s->db);
	sec_wipe(s->master, sizeof(s->master));
	free(s);
}
