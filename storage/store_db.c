/*
 * Opening and closing the inventory: file permissions, WAL and the schema
 * migrations, then the master key checked against the sealed keys
 * (store_keys.c, store_master.c).  The SQLite helpers are in store_sql.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/sec.h"
#include "storage/store_int.h"
#include "storage/store_schema.h"

/*
 * How long a statement waits for a lock held by another connection (an
 * operator running sqlite3 on the file, a backup) before failing with -EIO.
 */
#define BUSY_TIMEOUT_MS 5000

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
	case -EUCLEAN:
		return "database is corrupt (failed its integrity check, or not a database)";
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
		return "record or database is in use";
	case -EALREADY:
		return "already done";
	default:
		return "unexpected error";
	}
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
 *
 * The descriptor stays open with a shared flock(2) until store_close(): store_restore() takes
 * it exclusively, so it refuses while a store is open and a store cannot open during a
 * restore.  flock locks are apart from the POSIX locks SQLite takes, and this descriptor is
 * closed only after SQLite's own (closing any descriptor of a file drops the process's POSIX
 * locks on it).
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
	s->lock_fd = fd;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		int e = errno;

		snprintf(s->errmsg, sizeof(s->errmsg), "%.180s: %.60s", db_path,
			 e == EWOULDBLOCK ? "a restore is replacing it" : strerror(e));
		return e == EWOULDBLOCK ? -EBUSY : -e;
	}
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

/*
 * Once per process, before SQLite's first use: no memory statistics.  With
 * them every SQLite allocation takes one process-wide mutex, which the HTTP
 * threads' read-only handles would all contend for.  (Does nothing if the
 * process used SQLite before.)
 */
static void sqlite_setup(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static int open_db(struct store *s, const char *db_path, bool full_check)
{
	int rc;

	pthread_once(&sqlite_once, sqlite_setup);
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
	/* Before the migrations, which would otherwise build on a damaged file. */
	rc = store_sql_check(s->db, full_check, s->errmsg, sizeof(s->errmsg));
	if (rc == 0) {
		rc = set_wal(s);
	}
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

/* A new handle with no database yet: no lock file, no actor, the real clock. */
static struct store *store_alloc(void)
{
	struct store *s = calloc(1, sizeof(*s));

	if (s) {
		s->lock_fd = -1;
		store_set_actor(s, NULL);
		store_set_clock(s, NULL, NULL);
	}
	return s;
}

struct store *store_open(const char *db_path, const char *master_key_path, int *err)
{
	return store_open_ex(db_path, master_key_path, NULL, err);
}

struct store *store_open_ex(const char *db_path, const char *master_key_path,
			    const struct store_open_opts *opts, int *err)
{
	struct store *s = NULL;
	bool sealed = false;
	int rc;

	if (opts && opts->why && opts->why_cap) {
		opts->why[0] = '\0';
	}
	if (!db_path || !master_key_path) {
		rc = -EINVAL;
		goto out_err;
	}
	s = store_alloc();
	if (!s) {
		rc = -ENOMEM;
		goto out_err;
	}
	rc = open_db(s, db_path, opts && opts->integrity_full);
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
	if (opts && opts->why && opts->why_cap) {
		snprintf(opts->why, opts->why_cap, "%s", s->errmsg);
	}
	store_close(s);
out_err:
	if (err) {
		*err = rc;
	}
	return NULL;
}

struct store *store_open_ro(const char *db_path, int *err)
{
	struct store *s;
	int version = 0, rc;

	s = db_path ? store_alloc() : NULL;
	if (!s) {
		rc = db_path ? -ENOMEM : -EINVAL;
		goto out_err;
	}
	/*
	 * No owner_only(): the writer's store_open() made and guards the files,
	 * and its shared flock already tells a restore that the file is in use.
	 */
	pthread_once(&sqlite_once, sqlite_setup);
	if (sqlite3_open_v2(db_path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		rc = s->db ? store_sqlerr(s) : -ENOMEM;
		if (rc == -EIO && sqlite3_errcode(s->db) == SQLITE_CANTOPEN) {
			rc = -ENOENT;
		}
		goto out_close;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* A reader must not guess at a schema the writer has not migrated (yet). */
	rc = pragma_int(s, "PRAGMA user_version", &version);
	if (rc == 0 && (size_t)version != store_migrations_count) {
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "database schema version %d, this build's %zu", version,
			 store_migrations_count);
		rc = -EPROTO;
	}
	if (rc == 0) {
		return s;
	}
out_close:
	store_close(s);
out_err:
	if (err) {
		*err = rc;
	}
	return NULL;
}

int store_read_begin(struct store *s)
{
	int rc;

	/* Inside a transaction already (a caller's store_begin()): that one is the snapshot. */
	if (s->reading || !sqlite3_get_autocommit(s->db)) {
		return 0;
	}
	/* Deferred: the snapshot is taken by the first read and never asks for the write lock. */
	rc = store_run(s, store_q(s, "BEGIN DEFERRED"));
	s->reading = rc == 0;
	return rc;
}

void store_read_end(struct store *s)
{
	if (s->reading) {
		s->reading = false;
		(void)store_run(s, store_q(s, "COMMIT"));
	}
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
	if (s->lock_fd >= 0) {
		close(s->lock_fd);
	}
	sec_wipe(s->master, sizeof(s->master));
	free(s->count.addrs);
	free(s);
}
