/*
 * The inventory's integrity check at open, and store_backup()/store_restore():
 * damaged files are refused with -EUCLEAN, a backup taken beside an open store
 * holds its committed state in one 0600 file, and a restore refuses an open
 * database, a damaged or foreign backup, and keeps what it replaces.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "tests/storage/fixture.h"

static struct fx f;
static char bak[sizeof(f.db)];

static const uint8_t key1[16] = {0x63, 0x96, 0x47, 0x71, 0x73, 0x4f, 0xbd, 0x76,
				 0xe3, 0xb4, 0x05, 0x19, 0xd1, 0xd9, 0x4a, 0x48};
static const uint8_t key2[16] = {0x0e, 0x2c, 0x55, 0x3a, 0x91, 0x6d, 0x02, 0xb8,
				 0x47, 0xf3, 0x1a, 0xc9, 0x80, 0x64, 0x3e, 0xd5};

static void setup(void)
{
	fx_init(&f);
	snprintf(bak, sizeof(bak), "%s/backup.db", f.dir);
}

static void teardown(void)
{
	fx_fini(&f);
}

TestSuite(store_integrity, .init = setup, .fini = teardown);
TestSuite(store_backup, .init = setup, .fini = teardown);

/* One integer from a query on the database file path (a connection of its own). */
static int sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v;

	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/*
 * Overwrite the first octet of the root page of table with 0x07, a value that is no b-tree
 * page type (SQLite file format, "B-tree Pages": 2, 5, 10 or 13): what a torn write or a bad
 * sector leaves.  The database must be closed (no -wal).
 */
static void damage_table(const char *path, const char *table)
{
	char sql[128];
	int page, psize, fd;
	const uint8_t bad = 0x07;

	snprintf(sql, sizeof(sql), "SELECT rootpage FROM sqlite_schema WHERE name = '%s'", table);
	page = sql_int(path, sql);
	psize = sql_int(path, "PRAGMA page_size");
	cr_assert_gt(page, 1);
	fd = open(path, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, &bad, 1, (off_t)(page - 1) * psize), 1);
	close(fd);
}

static size_t appkeys(struct store *s)
{
	struct store_appkey *ak = NULL;
	size_t n = 0;

	cr_assert_eq(store_appkey_list(s, &ak, &n), 0);
	store_appkeys_free(ak, n);
	return n;
}

static mode_t mode_of(const char *path)
{
	struct stat sb;

	cr_assert_eq(stat(path, &sb), 0, "%s", path);
	return sb.st_mode & 07777;
}

/* Files of the test directory whose name contains part (temporary copies left behind). */
static int files_named(const char *part)
{
	DIR *d = opendir(f.dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		n += strstr(e->d_name, part) != NULL;
	}
	closedir(d);
	return n;
}

/* A damaged table page: quick_check at open refuses the file with -EUCLEAN and says what. */
Test(store_integrity, damaged_page_refused)
{
	char why[256];
	struct store_open_opts o = {.why = why, .why_cap = sizeof(why)};
	int err = 0;

	cr_assert_eq(fx_node(f.s, 0x0100, 1, 1), 0);
	fx_close(&f);
	damage_table(f.db, "nodes");
	cr_assert_null(store_open_ex(f.db, f.key, &o, &err));
	cr_assert_eq(err, -EUCLEAN, "%d %s", err, why);
	cr_assert_neq(why[0], '\0');
	cr_assert_not_null(strstr(store_strerror(err), "corrupt"));
	/* The plain store_open() checks as well. */
	cr_assert_null(store_open(f.db, f.key, &err));
	cr_assert_eq(err, -EUCLEAN);
	/* Teardown closes nothing: f.s is NULL. */
}

/*
 * An index that no longer matches its table (the index's definition rewritten under it):
 * quick_check does not compare indexes, so the default open succeeds; integrity_full refuses.
 */
Test(store_integrity, full_check_compares_indexes)
{
	char why[256];
	struct store_open_opts full = {.integrity_full = true, .why = why, .why_cap = sizeof(why)};
	int err = 0;

	fx_close(&f);
	fx_sql(&f,
	       "CREATE TABLE t (a INTEGER, b INTEGER); CREATE INDEX t_a ON t (a);"
	       "INSERT INTO t VALUES (1, 20), (2, 10);"
	       "PRAGMA writable_schema = ON;"
	       "UPDATE sqlite_schema SET sql = 'CREATE INDEX t_a ON t (b)' WHERE name = 't_a';");
	fx_open(&f);
	fx_close(&f);
	cr_assert_null(store_open_ex(f.db, f.key, &full, &err));
	cr_assert_eq(err, -EUCLEAN, "%d %s", err, why);
	cr_assert_not_null(strstr(why, "integrity_check: "), "%s", why);
	cr_assert_not_null(strstr(why, "t_a"), "%s", why);
}

/* A store cannot open while a restore holds the database file's lock exclusively. */
Test(store_integrity, open_refused_during_restore)
{
	int fd, err = 0;

	fx_close(&f);
	fd = open(f.db, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	cr_assert_null(store_open(f.db, f.key, &err));
	cr_assert_eq(err, -EBUSY);
	close(fd);
	fx_open(&f);
}

/*
 * A backup beside an open store (whose last commits are still in its -wal) holds them, in one
 * file (rollback journal, no -wal) made 0600 whatever the umask, that passes integrity_check.
 */
Test(store_backup, consistent_copy_0600)
{
	char why[256], side[200];
	mode_t old = umask(022);
	struct stat sb;

	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), 0);
	cr_assert_eq(store_backup(f.db, bak, why, sizeof(why)), 0, "%s", why);
	umask(old);
	cr_assert_eq(mode_of(bak), 0600);
	cr_assert_eq(sql_int(bak, "SELECT count(*) FROM appkeys WHERE idx = 1"), 1);
	cr_assert_eq(sql_int(bak, "SELECT count(*) FROM netkeys"), 1);
	cr_assert_eq(sql_int(bak, "PRAGMA user_version"), store_schema_version());
	snprintf(side, sizeof(side), "%s-wal", bak);
	cr_assert_neq(stat(side, &sb), 0, "the backup is one file");
	cr_assert_eq(files_named(".tmp-"), 0);
	/* The writer goes on after the backup. */
	cr_assert_eq(store_appkey_add(f.s, 2, 0, key2), 0);
	cr_assert_eq(sql_int(bak, "SELECT count(*) FROM appkeys"), 1);
}

/* A backup onto the inventory itself (or its -wal) is refused: it would replace a live file. */
Test(store_backup, refuses_the_inventory_itself)
{
	char why[256], wal[sizeof(f.db) + 8];

	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), 0);
	cr_assert_eq(store_backup(f.db, f.db, why, sizeof(why)), -EINVAL);
	cr_assert_not_null(strstr(why, "the inventory itself"), "%s", why);
	snprintf(wal, sizeof(wal), "%s-wal", f.db);
	cr_assert_eq(store_backup(f.db, wal, why, sizeof(why)), -EINVAL);
	cr_assert_eq(appkeys(f.s), 1);
	cr_assert_eq(files_named(".tmp-"), 0);
}

Test(store_backup, missing_database)
{
	char why[256], path[160];

	snprintf(path, sizeof(path), "%s/none.db", f.dir);
	cr_assert_eq(store_backup(path, bak, why, sizeof(why)), -ENOENT);
	cr_assert_not_null(strstr(why, "none.db"));
	cr_assert_eq(files_named("backup.db"), 0);
}

/* A restore refuses a database a store has open (a running daemon) and changes nothing. */
Test(store_backup, restore_refused_while_open)
{
	char why[256], aside[256];

	cr_assert_eq(store_backup(f.db, bak, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), 0);
	cr_assert_eq(store_restore(f.db, f.key, bak, aside, sizeof(aside), why, sizeof(why)),
		     -EBUSY);
	cr_assert_not_null(strstr(why, "stop it first"), "%s", why);
	cr_assert_str_eq(aside, "");
	cr_assert_eq(appkeys(f.s), 1);
	cr_assert_eq(files_named(".replaced-") + files_named(".restore-"), 0);
}

/*
 * The backup's state comes back; the replaced database (with a change made after the backup)
 * is kept aside, whole, and the restored file is 0600.
 */
Test(store_backup, restore_replaces_and_keeps_aside)
{
	char why[256], aside[256];

	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), 0);
	cr_assert_eq(store_backup(f.db, bak, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(store_appkey_add(f.s, 2, 0, key2), 0);
	fx_close(&f);
	cr_assert_eq(store_restore(f.db, f.key, bak, aside, sizeof(aside), why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_not_null(strstr(aside, "/inventory.db.replaced-"), "%s", aside);
	cr_assert_eq(sql_int(aside, "SELECT count(*) FROM appkeys"), 2);
	cr_assert_eq(mode_of(f.db), 0600);
	cr_assert_eq(files_named(".restore-"), 0);
	fx_open(&f);
	cr_assert_eq(appkeys(f.s), 1);
}

/*
 * After an unclean stop the replaced database's committed state is partly in its -wal: the -wal
 * goes aside with it (the set-aside file holds the last commit), and none is left beside the
 * restored file, where SQLite would replay it into the backup.
 */
static int add_key2(struct store *s)
{
	return store_appkey_add(s, 2, 0, key2);
}

Test(store_backup, restore_after_crash_keeps_the_wal_aside)
{
	char why[256], aside[256], wal[sizeof(f.db) + 8], awal[sizeof(aside) + 8];
	struct stat sb;

	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), 0);
	cr_assert_eq(store_backup(f.db, bak, why, sizeof(why)), 0, "%s", why);
	fx_crashed_child(&f, add_key2);
	snprintf(wal, sizeof(wal), "%s-wal", f.db);
	cr_assert_eq(stat(wal, &sb), 0);
	cr_assert_gt(sb.st_size, 0);
	cr_assert_eq(store_restore(f.db, f.key, bak, aside, sizeof(aside), why, sizeof(why)), 0,
		     "%s", why);
	snprintf(awal, sizeof(awal), "%s-wal", aside);
	cr_assert_eq(stat(awal, &sb), 0, "the -wal is kept with the replaced file");
	cr_assert_neq(stat(wal, &sb), 0, "no -wal beside the restored file");
	cr_assert_eq(sql_int(aside, "SELECT count(*) FROM appkeys"), 2);
	fx_open(&f);
	cr_assert_eq(appkeys(f.s), 1);
}

/* A backup with a damaged page is refused before anything is replaced. */
Test(store_backup, restore_refuses_damaged_backup)
{
	char why[256], aside[256];
	struct store_node n;

	cr_assert_eq(fx_node(f.s, 0x0100, 1, 1), 0);
	cr_assert_eq(store_backup(f.db, bak, why, sizeof(why)), 0, "%s", why);
	damage_table(bak, "nodes");
	fx_close(&f);
	cr_assert_eq(store_restore(f.db, f.key, bak, aside, sizeof(aside), why, sizeof(why)),
		     -EUCLEAN);
	cr_assert_not_null(strstr(why, "fails its integrity check"), "%s", why);
	cr_assert_eq(files_named(".replaced-") + files_named(".restore-"), 0);
	fx_open(&f);
	cr_assert_eq(store_node_get(f.s, 0x0100, &n), 0);
}

/* A backup of a newer schema, and a file that is no inventory, are refused. */
Test(store_backup, restore_refuses_foreign_schema)
{
	char why[256], aside[256], sql[64], other[sizeof(f.db)];

	cr_assert_eq(store_backup(f.db, bak, why, sizeof(why)), 0, "%s", why);
	fx_close(&f);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_version() + 1);
	{
		struct fx b = f;

		snprintf(b.db, sizeof(b.db), "%s", bak);
		fx_sql(&b, sql);
		snprintf(other, sizeof(other), "%s/other.db", f.dir);
		snprintf(b.db, sizeof(b.db), "%s", other);
		fx_sql(&b, "CREATE TABLE t (a); PRAGMA user_version = 1");
	}
	cr_assert_eq(store_restore(f.db, f.key, bak, aside, sizeof(aside), why, sizeof(why)),
		     -EPROTO);
	cr_assert_not_null(strstr(why, "newer meshgw"), "%s", why);
	cr_assert_eq(store_restore(f.db, f.key, other, aside, sizeof(aside), why, sizeof(why)),
		     -EINVAL);
	cr_assert_not_null(strstr(why, "not a meshgw inventory"), "%s", why);
	cr_assert_eq(files_named(".replaced-") + files_named(".restore-"), 0);
	fx_open(&f);
}

/* A backup whose keys another master key sealed is refused, naming the key file to put back. */
Test(store_backup, restore_refuses_other_master_key)
{
	char why[256], aside[256], key[160];
	uint8_t raw[32];
	FILE *fp;

	cr_assert_eq(store_backup(f.db, bak, why, sizeof(why)), 0, "%s", why);
	fx_close(&f);
	snprintf(key, sizeof(key), "%s/other.key", f.dir);
	memset(raw, 0x5c, sizeof(raw));
	fp = fopen(key, "w");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(raw, 1, sizeof(raw), fp), sizeof(raw));
	fclose(fp);
	cr_assert_eq(chmod(key, 0600), 0);
	cr_assert_eq(store_restore(f.db, key, bak, aside, sizeof(aside), why, sizeof(why)),
		     -EKEYREJECTED);
	cr_assert_not_null(strstr(why, "other.key"), "%s", why);
	cr_assert_not_null(strstr(why, "put that key file there first"), "%s", why);
	cr_assert_eq(files_named(".replaced-") + files_named(".restore-"), 0);
	fx_open(&f);
}

/* Onto a state directory without a database (a new machine): no file is set aside. */
Test(store_backup, restore_onto_empty_directory)
{
	char why[256], aside[256], db[160];
	struct stat sb;

	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), 0);
	cr_assert_eq(store_backup(f.db, bak, why, sizeof(why)), 0, "%s", why);
	snprintf(db, sizeof(db), "%s/new.db", f.dir);
	cr_assert_eq(store_restore(db, f.key, bak, aside, sizeof(aside), why, sizeof(why)), 0, "%s",
		     why);
	cr_assert_str_eq(aside, "");
	cr_assert_eq(stat(db, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM appkeys"), 1);
}
