#include <errno.h>
#include <sys/stat.h>

#include "tests/storage/fixture.h"

static struct fx f;

static void setup(void)
{
	fx_init(&f);
}

static void teardown(void)
{
	fx_fini(&f);
}

TestSuite(store_db, .init = setup, .fini = teardown);

static const uint8_t key1[16] = {0x63, 0x96, 0x47, 0x71, 0x73, 0x4f, 0xbd, 0x76,
				 0xe3, 0xb4, 0x05, 0x19, 0xd1, 0xd9, 0x4a, 0x48};

/* A second connection sees the database in WAL mode with a -wal file beside it. */
Test(store_db, wal_mode_on)
{
	char wal[160];
	struct stat st;
	sqlite3 *db;
	sqlite3_stmt *q;

	cr_assert_eq(sqlite3_open(f.db, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(db);
	snprintf(wal, sizeof(wal), "%s-wal", f.db);
	cr_assert_eq(stat(wal, &st), 0);
}

/* Foreign keys are enforced: an AppKey cannot be bound to a NetKey that does not exist. */
Test(store_db, foreign_keys_on)
{
	cr_assert_eq(store_appkey_add(f.s, 1, 7, key1), -ENOENT);
	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), 0);
}

/* Closing and reopening keeps the network, keys, nodes and the audit log. */
Test(store_db, reopen_keeps_everything)
{
	struct store_network net;
	struct store_appkey ak;
	struct store_node n;
	struct store_audit *log;
	size_t n_log;

	cr_assert_eq(store_appkey_add(f.s, 3, 0, key1), 0);
	cr_assert_eq(fx_node(f.s, 0x0100, 2, 42), 0);
	cr_assert_eq(store_net_iv_set(f.s, 5, true, false), 0);
	fx_close(&f);
	fx_open(&f);
	cr_assert_eq(store_net_get(f.s, &net), 0);
	cr_assert_eq(net.iv_index, 5);
	cr_assert(net.iv_update);
	cr_assert_eq(store_appkey_get(f.s, 3, &ak), 0);
	cr_assert_arr_eq(ak.key, key1, 16);
	cr_assert_eq(store_node_get(f.s, 0x0100, &n), 0);
	cr_assert_eq(n.elements, 2);
	cr_assert_str_eq(n.name, "node-00042");
	cr_assert_eq(store_audit_list(f.s, 0, 0, &log, &n_log), 0);
	cr_assert_geq(n_log, 5);
	free(log);
}

/* A database whose user_version is above this build's schema is refused with -EPROTO. */
Test(store_db, newer_schema_refused)
{
	char sql[64];
	int err = 0;

	fx_close(&f);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_version() + 1);
	fx_sql(&f, sql);
	cr_assert_null(store_open(f.db, f.key, &err));
	cr_assert_eq(err, -EPROTO);
	cr_assert_not_null(strstr(store_strerror(err), "newer"));
	/* Reopen a valid one so teardown has something to close. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_version());
	fx_sql(&f, sql);
	fx_open(&f);
}

/* A file that is not an SQLite database is refused as corrupt (-EUCLEAN): restore a backup. */
Test(store_db, not_a_database)
{
	char path[160];
	FILE *fp;
	int err = 0;

	snprintf(path, sizeof(path), "%s/junk.db", f.dir);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("this is not an SQLite database, not at all, no, not even a little bit.....", fp);
	fclose(fp);
	cr_assert_null(store_open(path, f.key, &err));
	cr_assert_eq(err, -EUCLEAN);
}

/* store_begin/rollback undoes every verb in between; commit keeps them. */
Test(store_db, begin_rollback_commit)
{
	struct store_appkey ak;

	cr_assert_eq(store_begin(f.s), 0);
	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), 0);
	cr_assert_eq(store_rollback(f.s), 0);
	cr_assert_eq(store_appkey_get(f.s, 1, &ak), -ENOENT);

	cr_assert_eq(store_begin(f.s), 0);
	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), 0);
	cr_assert_eq(store_commit(f.s), 0);
	cr_assert_eq(store_appkey_get(f.s, 1, &ak), 0);

	cr_assert_eq(store_commit(f.s), -EINVAL);
	cr_assert_eq(store_rollback(f.s), -EINVAL);
}

/* A nested level rolls back alone; a verb failing inside a transaction undoes only itself. */
Test(store_db, nested_and_failing_verbs)
{
	struct store_appkey ak;

	cr_assert_eq(store_begin(f.s), 0);
	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), 0);
	cr_assert_eq(store_begin(f.s), 0);
	cr_assert_eq(store_appkey_add(f.s, 2, 0, key1), 0);
	cr_assert_eq(store_rollback(f.s), 0);
	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), -EEXIST);
	cr_assert_eq(store_appkey_add(f.s, 4, 0, key1), 0);
	cr_assert_eq(store_commit(f.s), 0);
	cr_assert_eq(store_appkey_get(f.s, 1, &ak), 0);
	cr_assert_eq(store_appkey_get(f.s, 2, &ak), -ENOENT);
	cr_assert_eq(store_appkey_get(f.s, 4, &ak), 0);
}

/* An SQLite failure surfaces as -EIO with SQLite's message in store_errmsg(). */
Test(store_db, sqlite_error_message)
{
	fx_sql(&f, "CREATE TRIGGER boom BEFORE INSERT ON appkeys"
		   " BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
	cr_assert_eq(store_appkey_add(f.s, 1, 0, key1), -EIO);
	cr_assert_not_null(strstr(store_errmsg(f.s), "injected failure"));
}

/* store_strerror() has a distinct sentence for each open-time error. */
Test(store_db, strerror_sentences)
{
	const int codes[] = {-EPERM, -EBADF, -ENOKEY, -EPROTO, -EIO, -EACCES, -EUCLEAN, -EBUSY};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		for (size_t j = i + 1; j < sizeof(codes) / sizeof(codes[0]); j++) {
			cr_assert_str_neq(store_strerror(codes[i]), store_strerror(codes[j]));
		}
	}
}
