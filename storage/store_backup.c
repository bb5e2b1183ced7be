/*
 * Backup and restore of the inventory (`meshgw backup FILE`, `meshgw restore FILE`).
 *
 * Both copy with SQLite's online backup API rather than the file: the live
 * database is in WAL mode, so its committed state is the main file plus the
 * -wal, and only SQLite knows which frames of the -wal count.  A backup is
 * read from a read-only connection in one read transaction, which a WAL
 * writer never blocks nor disturbs: the daemon keeps running and the copy is
 * the inventory as of one commit.  The copy holds sealed keys and token
 * hashes, so every file made here is 0600 (mkstemp), and a file only takes
 * its final name by rename(2) once complete and checked.
 *
 * Sits above store_db.c: a restore opens the copy with store_open_ex() to
 * migrate it and check the master key before it replaces anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage/store_int.h"

/* How long the backup's reader waits for a checkpoint or recovery of the daemon's -wal. */
#define BACKUP_BUSY_MS 5000

/* Record SQLite's message on db after what, and map its last error. */
static int sql_fail(sqlite3 *db, const char *what, char *why, size_t cap)
{
	snprintf(why, cap, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
	return db ? store_sqlcode(sqlite3_extended_errcode(db)) : -ENOMEM;
}

static int sys_fail(const char *what, char *why, size_t cap)
{
	int e = errno;

	snprintf(why, cap, "%.200s: %s", what, strerror(e));
	return -e;
}

static int open_ro(const char *path, sqlite3 **db, char *why, size_t cap)
{
	struct stat sb;

	if (stat(path, &sb) < 0) {
		return sys_fail(path, why, cap);
	}
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		return sql_fail(*db, path, why, cap);
	}
	sqlite3_extended_result_codes(*db, 1);
	sqlite3_busy_timeout(*db, BACKUP_BUSY_MS);
	return 0;
}

/*
 * Copy src's main database into a new file made 0600 from the template tmp (its XXXXXX
 * replaced), in rollback-journal mode so that the copy is one file without a -wal, checked with
 * integrity_check.  On failure the file is removed.
 */
static int copy_to_new(sqlite3 *src, char *tmp, char *why, size_t cap)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int fd, rc, sr;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		return sys_fail(tmp, why, cap);
	}
	close(fd);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		rc = sql_fail(dst, tmp, why, cap);
		goto out;
	}
	sqlite3_extended_result_codes(dst, 1);
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		rc = sql_fail(dst, "backup", why, cap);
		goto out;
	}
	/* All pages in one step: one read transaction on src, hence one consistent snapshot. */
	sr = sqlite3_backup_step(b, -1);
	(void)sqlite3_backup_finish(b); /* its code repeats sr's, which is examined below */
	if (sr != SQLITE_DONE) {
		snprintf(why, cap, "backup: %s", sqlite3_errstr(sr));
		rc = store_sqlcode(sr);
		goto out;
	}
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sql_fail(dst, "journal mode of the copy", why, cap);
		goto out;
	}
	rc = store_sql_check(dst, true, why, cap);
out:
	sqlite3_close(dst);
	if (rc) {
		(void)unlink(tmp);
	}
	return rc;
}

/* fsync the directory holding path, so that a rename into it survives a power cut. */
static int sync_dir(const char *path, char *why, size_t cap)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
	} else {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		rc = sys_fail(dir, why, cap);
	}
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

static bool tmp_name(char *out, size_t cap, const char *path, const char *what)
{
	return (size_t)snprintf(out, cap, "%s.%s-XXXXXX", path, what) < cap;
}

/*
 * True when dest names the database or one of its -wal and -shm files: the rename that puts the
 * copy in place would replace a live file under the daemon.
 */
static bool is_inventory(const char *db_path, const char *dest)
{
	static const char *const side[] = {"", "-wal", "-shm"};
	struct stat d, f;
	char p[4200];

	if (stat(dest, &d) < 0) {
		return false;
	}
	for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", db_path, side[i]);
		if (stat(p, &f) == 0 && f.st_dev == d.st_dev && f.st_ino == d.st_ino) {
			return true;
		}
	}
	return false;
}

int store_backup(const char *db_path, const char *dest, char *why, size_t why_cap)
{
	char tmp[4096], scratch[256];
	sqlite3 *src = NULL;
	int rc;

	if (!why) {
		why = scratch;
		why_cap = sizeof(scratch);
	}
	why[0] = '\0';
	if (!db_path || !dest || !tmp_name(tmp, sizeof(tmp), dest, "tmp")) {
		snprintf(why, why_cap, "invalid path");
		return -EINVAL;
	}
	if (is_inventory(db_path, dest)) {
		snprintf(why, why_cap, "%.200s is the inventory itself: give another file", dest);
		return -EINVAL;
	}
	rc = open_ro(db_path, &src, why, why_cap);
	if (rc == 0) {
		rc = copy_to_new(src, tmp, why, why_cap);
	}
	sqlite3_close(src);
	if (rc) {
		return rc;
	}
	if (rename(tmp, dest) < 0) {
		rc = sys_fail(dest, why, why_cap);
		(void)unlink(tmp);
		return rc;
	}
	return sync_dir(dest, why, why_cap);
}

/* The backup is a meshgw inventory this build can migrate: 1 <= user_version <= ours. */
static int check_schema(sqlite3 *db, const char *src, char *why, size_t cap)
{
	sqlite3_stmt *st;
	int version = -1, has_net = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT (SELECT user_version FROM pragma_user_version),"
			       " (SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
			       "name = 'network')",
			       -1, &st, NULL) != SQLITE_OK) {
		return sql_fail(db, src, why, cap);
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		version = sqlite3_column_int(st, 0);
		has_net = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (version < 1 || !has_net) {
		snprintf(why, cap, "%.200s is not a meshgw inventory (schema version %d%s)", src,
			 version, has_net ? "" : ", no network table");
		return -EINVAL;
	}
	if (version > store_schema_version()) {
		snprintf(
		    why, cap,
		    "%.200s was written by a newer meshgw (schema version %d, this build's %d)",
		    src, version, store_schema_version());
		return -EPROTO;
	}
	return 0;
}

/* The copy opens as this daemon would open it: migrated, master key checked.  Leaves no -wal. */
static int open_as_daemon(const char *tmp, const char *master_key_path, char *why, size_t cap)
{
	struct store_open_opts o = {.integrity_full = false, .why = why, .why_cap = cap};
	struct stat sb;
	char wal[4200];
	struct store *s;
	int rc;

	s = store_open_ex(tmp, master_key_path, &o, &rc);
	if (!s) {
		if (rc == -EKEYREJECTED || rc == -ENOKEY) {
			snprintf(
			    why, cap,
			    "%s (%.200s): the backup's keys are sealed under the master key of "
			    "the installation it was made on; put that key file there first",
			    store_strerror(rc), master_key_path);
		} else if (!why[0]) {
			snprintf(why, cap, "%s", store_strerror(rc));
		}
		return rc;
	}
	store_close(s);
	/* The last close checkpoints and deletes the -wal; one left would hold part of the copy. */
	snprintf(wal, sizeof(wal), "%s-wal", tmp);
	if (stat(wal, &sb) == 0) {
		snprintf(why, cap, "%.200s was not checkpointed", wal);
		return -EIO;
	}
	return 0;
}

/*
 * Keep the database at db_path (and its -wal) under aside, a new name: link(2), so that db_path
 * itself stays in place until the rename that replaces it.  The -shm is only an index of the
 * -wal and is dropped; neither may stay beside the new file, or SQLite would replay the old
 * -wal into it.
 */
static int set_aside(const char *db_path, char *aside, size_t aside_cap, char *why, size_t cap)
{
	char stamp[32], from[4200], to[4200];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (n = 0;; n++) {
		if (n == 0) {
			snprintf(aside, aside_cap, "%s.replaced-%s", db_path, stamp);
		} else {
			snprintf(aside, aside_cap, "%s.replaced-%s.%d", db_path, stamp, n);
		}
		if (link(db_path, aside) == 0) {
			break;
		}
		if (errno != EEXIST || n == 99) {
			return sys_fail(aside, why, cap);
		}
	}
	snprintf(from, sizeof(from), "%s-wal", db_path);
	snprintf(to, sizeof(to), "%s-wal", aside);
	if (link(from, to) < 0 && errno != ENOENT) {
		return sys_fail(to, why, cap);
	}
	if (unlink(from) < 0 && errno != ENOENT) {
		return sys_fail(from, why, cap);
	}
	snprintf(from, sizeof(from), "%s-shm", db_path);
	if (unlink(from) < 0 && errno != ENOENT) {
		return sys_fail(from, why, cap);
	}
	return 0;
}

static int restore_locked(const char *db_path, const char *master_key_path, const char *src,
			  bool had_db, char *aside, size_t aside_cap, char *why, size_t cap)
{
	char tmp[4096];
	sqlite3 *in = NULL;
	int rc;

	if (!tmp_name(tmp, sizeof(tmp), db_path, "restore")) {
		snprintf(why, cap, "path too long");
		return -ENAMETOOLONG;
	}
	rc = open_ro(src, &in, why, cap);
	if (rc == 0) {
		rc = store_sql_check(in, true, why, cap);
		if (rc == -EUCLEAN) {
			char first[200];

			snprintf(first, sizeof(first), "%s", why);
			snprintf(why, cap, "%.200s fails its integrity check (%s)", src, first);
		}
	}
	if (rc == 0) {
		rc = check_schema(in, src, why, cap);
	}
	if (rc == 0) {
		rc = copy_to_new(in, tmp, why, cap);
	}
	sqlite3_close(in);
	if (rc) {
		return rc;
	}
	rc = open_as_daemon(tmp, master_key_path, why, cap);
	if (rc == 0 && had_db) {
		rc = set_aside(db_path, aside, aside_cap, why, cap);
	}
	if (rc == 0 && rename(tmp, db_path) < 0) {
		rc = sys_fail(db_path, why, cap);
	}
	if (rc) {
		(void)unlink(tmp);
		return rc;
	}
	return sync_dir(db_path, why, cap);
}

int store_restore(const char *db_path, const char *master_key_path, const char *src, char *aside,
		  size_t aside_cap, char *why, size_t why_cap)
{
	char scratch[256];
	struct stat sb;
	bool existed, had_db;
	int fd, rc;

	if (!why) {
		why = scratch;
		why_cap = sizeof(scratch);
	}
	why[0] = '\0';
	if (!db_path || !master_key_path || !src || !aside || !aside_cap) {
		snprintf(why, why_cap, "invalid argument");
		return -EINVAL;
	}
	aside[0] = '\0';
	existed = stat(db_path, &sb) == 0;
	had_db = existed && sb.st_size > 0;
	/* The lock every open store holds shared (store_db.c owner_only()): taken exclusively. */
	fd = open(db_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		return sys_fail(db_path, why, why_cap);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(
		    why, why_cap,
		    "%.200s is open in a running meshgw (the daemon, or a token command): stop "
		    "it first",
		    db_path);
		close(fd);
		return rc;
	}
	rc = restore_locked(db_path, master_key_path, src, had_db, aside, aside_cap, why, why_cap);
	if (rc) {
		aside[0] = '\0';
		/* Only the lock made the (still empty) file: nothing was there before. */
		if (!existed && stat(db_path, &sb) == 0 && sb.st_size == 0) {
			(void)unlink(db_path);
		}
	}
	close(fd);
	return rc;
}
