#include <errno.h>

#include "storage/store_job.h"
#include "storage/store_schema.h"
#include "tests/storage/fixture.h"

static struct fx f;

static void teardown(void)
{
	fx_fini(&f);
}

static int user_version(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int v;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

/* A new database is created at the newest schema version, one step per migration. */
Test(store_schema, fresh_database_is_current, .fini = teardown)
{
	fx_init_bare(&f);
	cr_assert_eq((size_t)store_schema_version(), store_migrations_count);
	cr_assert_geq(store_migrations_count, 2);
	cr_assert_eq(user_version(f.db), store_schema_version());
}

/*
 * A version-1 database with a node in it (made by taking the additions of
 * versions 2 to 9 away again) is migrated on open, and the node survives.
 */
Test(store_schema, migrates_version_1, .fini = teardown)
{
	struct store_node n;
	struct store_audit *log;
	uint8_t hash[32] = {1}, dk[16], want[16];
	size_t n_log;
	int runs[9] = {0};

	fx_init(&f);
	cr_assert_eq(fx_node(f.s, 0x0010, 3, 77), 0);
	fx_close(&f);
	fx_sql(&f,
	       "DROP TABLE zone_members; DROP TABLE zones;"
	       " DROP TABLE node_certs; DROP TABLE manifest_rows; DROP TABLE manifests;"
	       " DROP TABLE job_secrets; DROP TABLE job_targets; DROP TABLE jobs;"
	       " DROP TABLE node_cdb; DROP TABLE cdb_ranges; DROP TABLE cdb_provisioners;"
	       " DROP TABLE cdb_groups; DROP TABLE cdb_scenes; DROP TRIGGER network_prov_uuid;"
	       " ALTER TABLE network DROP COLUMN name; ALTER TABLE network DROP COLUMN prov_uuid;"
	       " ALTER TABLE netkeys DROP COLUMN name; ALTER TABLE netkeys DROP COLUMN min_secure;"
	       " ALTER TABLE appkeys DROP COLUMN name; ALTER TABLE elements DROP COLUMN name;"
	       " DROP TABLE tokens; ALTER TABLE nodes DROP COLUMN cand_key;"
	       " ALTER TABLE nodes DROP COLUMN devkey_fp; DROP INDEX nodes_lookup;"
	       " PRAGMA user_version = 1");
	cr_assert_eq(user_version(f.db), 1);
	fx_open(&f);
	cr_assert_eq(user_version(f.db), store_schema_version());

	/* The old rows are intact and the column and table of version 2 work. */
	cr_assert_eq(store_node_get(f.s, 0x0010, &n), 0);
	cr_assert_eq(n.elements, 3);
	cr_assert_not(n.has_cand_key);
	cr_assert_eq(store_node_devkey_get(f.s, 0x0010, dk), 0);
	fx_seed(want, 77, 0x5a);
	cr_assert_arr_eq(dk, want, 16);
	cr_assert_eq(store_node_devkey_cand_set(f.s, 0x0010, want), 0);
	cr_assert_eq(store_token_add(f.s, "t", STORE_ROLE_ADMIN, hash), 0);

	cr_assert_eq(store_audit_list(f.s, 0, 0, &log, &n_log), 0);
	/* Step 1 ran once (at creation), steps 2 to 9 twice (creation, then this migration). */
	for (size_t i = 0; i < n_log; i++) {
		if (strcmp(log[i].what, "schema.migrate") == 0) {
			size_t v = (size_t)(log[i].target[8] - '1');

			cr_assert_lt(v, 9, "%s", log[i].target);
			runs[v]++;
		}
	}
	free(log);
	cr_assert_eq(runs[0], 1);
	cr_assert_eq(runs[1], 2);
	cr_assert_eq(runs[2], 2);
	cr_assert_eq(runs[3], 2);
	cr_assert_eq(runs[4], 2);
	cr_assert_eq(runs[5], 2);
	cr_assert_eq(runs[6], 2);
	cr_assert_eq(runs[7], 2);
	cr_assert_eq(runs[8], 2);
}

/*
 * A version-3 database (before persistent jobs) gains the job tables on
 * open, and they work: a job with a sealed secret is created and read back.
 */
Test(store_schema, migrates_version_3_to_jobs, .fini = teardown)
{
	struct store_job_target_new t = {.name = "dev"};
	static const uint8_t oob[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
					0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00};
	uint8_t got[32];
	struct store_job j;
	uint64_t id;
	size_t len;

	fx_init(&f);
	fx_close(&f);
	/* The later steps' tables go too: a version 3 database has none of them. */
	fx_sql(&f, "DROP TABLE zone_members; DROP TABLE zones; DROP TABLE node_certs;"
		   " DROP TABLE job_secrets; DROP TABLE job_targets; DROP TABLE jobs;"
		   " DROP TABLE manifest_rows; DROP TABLE manifests;"
		   " ALTER TABLE nodes DROP COLUMN devkey_fp; DROP INDEX nodes_lookup;"
		   " PRAGMA user_version = 3");
	cr_assert_eq(user_version(f.db), 3);
	fx_open(&f);
	cr_assert_eq(user_version(f.db), (int)store_migrations_count);
	t.auth = oob;
	t.auth_len = sizeof(oob);
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &t, 1, &id), 0);
	cr_assert_eq(store_job_get(f.s, id, &j), 0);
	cr_assert_str_eq(j.kind, "provision");
	store_job_clear(&j);
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_AUTH, got, &len), 0);
	cr_assert_eq(len, 16);
	cr_assert_arr_eq(got, oob, 16);
}

/* A migration step that fails leaves the database at its old version. */
Test(store_schema, failed_step_keeps_version, .fini = teardown)
{
	int err = 0;

	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/meshgw-store-XXXXXX");
	cr_assert_not_null(mkdtemp(f.dir));
	snprintf(f.db, sizeof(f.db), "%s/old.db", f.dir);
	snprintf(f.key, sizeof(f.key), "%s/master.key", f.dir);
	fx_sql(&f, store_migrations[0].sql);
	/* Step 2 creates table tokens: make that collide. */
	fx_sql(&f, "PRAGMA user_version = 1; CREATE TABLE tokens (x)");
	cr_assert_null(store_open(f.db, f.key, &err));
	cr_assert_eq(err, -EIO);
	cr_assert_eq(user_version(f.db), 1);
	fx_sql(&f, "DROP TABLE tokens");
	fx_open(&f);
	cr_assert_eq(user_version(f.db), store_schema_version());
}
