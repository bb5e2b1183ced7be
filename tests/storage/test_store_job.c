#include <errno.h>
#include <fcntl.h>

#include "storage/store_job.h"
#include "tests/storage/fixture.h"

static struct fx f;

static void teardown(void)
{
	fx_fini(&f);
}

/* 16- and 32-octet static OOB values and a DevKey, all different. */
static const uint8_t oob16[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const uint8_t oob32[32] = {0x90, 0x6d, 0x4a, 0x9e, 0x2f, 0x9c, 0x40, 0x51, 0xe7, 0x0c, 0xa0,
				  0x31, 0xc4, 0x28, 0x1f, 0x7b, 0x2a, 0x11, 0xd6, 0x55, 0x3f, 0x94,
				  0x08, 0xb3, 0x6e, 0xc1, 0x7d, 0x02, 0x5b, 0xe8, 0x44, 0xa9};
static const uint8_t devkey[16] = {0x0d, 0x1e, 0x2f, 0x30, 0x41, 0x52, 0x63, 0x74,
				   0x85, 0x96, 0xa7, 0xb8, 0xc9, 0xda, 0xeb, 0xfc};

/* One integer from SQL run on the database through a second connection. */
static long long sql_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	long long v;

	cr_assert_eq(sqlite3_open(f.db, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK, "%s", sql);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW, "%s", sql);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

/* Audit entries with verb what. */
static size_t audits(const char *what)
{
	struct store_audit *log;
	size_t n, k = 0;

	cr_assert_eq(store_audit_list(f.s, 0, 0, &log, &n), 0);
	for (size_t i = 0; i < n; i++) {
		k += strcmp(log[i].what, what) == 0;
	}
	free(log);
	return k;
}

/* A provisioning job of three devices: 16-octet OOB, none, 32-octet OOB. */
static uint64_t job3(void)
{
	struct store_job_target_new t[3] = {
	    {.has_uuid = true, .name = "dev-a", .auth = oob16, .auth_len = 16},
	    {.node = 0x0042, .params = "{\"retries\":2}"},
	    {.has_uuid = true, .name = "dev-c", .auth = oob32, .auth_len = 32},
	};
	uint64_t id = 0;

	fx_seed(t[0].uuid, 1, 0x33);
	fx_seed(t[2].uuid, 3, 0x33);
	cr_assert_eq(store_job_create(f.s, "provision", "{\"net_idx\":0}", "alice", t, 3, &id), 0);
	cr_assert_neq(id, 0);
	return id;
}

static void target_get(uint64_t id, uint32_t idx, struct store_job_target *t)
{
	cr_assert_eq(store_job_target_get(f.s, id, idx, t), 0);
}

static void free_target(struct store_job_target *t)
{
	free(t->params);
	free(t->result);
}

static void set_state(uint64_t id, uint32_t idx, enum store_tgt_state st)
{
	struct store_job_target t;

	target_get(id, idx, &t);
	t.state = st;
	cr_assert_eq(store_job_target_update(f.s, &t), 0);
	free_target(&t);
}

Test(store_job, create_get_list_count, .fini = teardown)
{
	struct store_job_target_new t = {.name = "x"};
	struct store_job_filter flt = {0};
	struct store_job j, *list;
	uint64_t a, b, c;
	size_t n;

	fx_init(&f);
	store_set_actor(f.s, "token:bob(operator)");
	a = job3();
	f.now += 10;
	cr_assert_eq(store_job_create(f.s, "refresh", NULL, NULL, &t, 1, &b), 0);
	f.now += 10;
	cr_assert_eq(store_job_create(f.s, "provision", "{}", "carol", &t, 1, &c), 0);
	cr_assert(a < b && b < c);

	cr_assert_eq(store_job_get(f.s, a, &j), 0);
	cr_assert_eq(j.id, a);
	cr_assert_str_eq(j.kind, "provision");
	cr_assert_eq(j.state, STORE_JOB_RUNNING);
	cr_assert_str_eq(j.params, "{\"net_idx\":0}");
	cr_assert_str_eq(j.created_by, "alice");
	cr_assert_str_eq(j.error, "");
	cr_assert_eq(j.created_ms, 1700000000000ull);
	cr_assert_eq(j.updated_ms, 1700000000000ull);
	cr_assert_eq(j.finished_ms, 0);
	store_job_clear(&j);
	cr_assert_null(j.params);

	/* Defaults: params "{}", created_by the actor. */
	cr_assert_eq(store_job_get(f.s, b, &j), 0);
	cr_assert_str_eq(j.params, "{}");
	cr_assert_str_eq(j.created_by, "token:bob(operator)");
	cr_assert_eq(j.created_ms, 1700000000010ull);
	store_job_clear(&j);
	cr_assert_eq(store_job_get(f.s, c + 1, &j), -ENOENT);

	/* Newest first. */
	cr_assert_eq(store_job_list(f.s, NULL, &list, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(list[0].id, c);
	cr_assert_eq(list[1].id, b);
	cr_assert_eq(list[2].id, a);
	cr_assert_str_eq(list[1].kind, "refresh");
	cr_assert_str_eq(list[2].params, "{\"net_idx\":0}");
	store_jobs_free(list, n);

	flt.kind = "provision";
	cr_assert_eq(store_job_list(f.s, &flt, &list, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(list[0].id, c);
	cr_assert_eq(list[1].id, a);
	store_jobs_free(list, n);
	cr_assert_eq(store_job_count(f.s, &flt, &n), 0);
	cr_assert_eq(n, 2);

	flt.limit = 1;
	flt.offset = 1;
	cr_assert_eq(store_job_list(f.s, &flt, &list, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(list[0].id, a);
	store_jobs_free(list, n);
	/* limit/offset do not change the count. */
	cr_assert_eq(store_job_count(f.s, &flt, &n), 0);
	cr_assert_eq(n, 2);

	/* Offset alone, without a limit. */
	flt = (struct store_job_filter){.offset = 2};
	cr_assert_eq(store_job_list(f.s, &flt, &list, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(list[0].id, a);
	store_jobs_free(list, n);

	/* unfinished_only drops a cancelled job. */
	cr_assert_eq(store_job_state_set(f.s, b, STORE_JOB_CANCELLED, NULL), 0);
	flt = (struct store_job_filter){.unfinished_only = true};
	cr_assert_eq(store_job_list(f.s, &flt, &list, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(list[0].id, c);
	cr_assert_eq(list[1].id, a);
	store_jobs_free(list, n);
	cr_assert_eq(store_job_count(f.s, &flt, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(store_job_count(f.s, NULL, &n), 0);
	cr_assert_eq(n, 3);
	flt.kind = "refresh";
	cr_assert_eq(store_job_count(f.s, &flt, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_job_list(f.s, &flt, &list, &n), 0);
	cr_assert_eq(n, 0);
	store_jobs_free(list, n);

	cr_assert_eq(audits("job.create"), 3);
}

Test(store_job, targets_read_back, .fini = teardown)
{
	struct store_job_target *t, one;
	uint8_t uuid[16];
	uint64_t id;
	size_t n;

	fx_init(&f);
	id = job3();
	cr_assert_eq(store_job_targets(f.s, id, &t, &n), 0);
	cr_assert_eq(n, 3);
	for (uint32_t i = 0; i < 3; i++) {
		cr_assert_eq(t[i].job, id);
		cr_assert_eq(t[i].idx, i);
		cr_assert_eq(t[i].state, STORE_TGT_PENDING);
		cr_assert_eq(t[i].step, 0);
		cr_assert_eq(t[i].attempts, 0);
		cr_assert_eq(t[i].next_ms, 0);
		cr_assert_eq(t[i].addr, 0);
		cr_assert_eq(t[i].elements, 0);
		cr_assert_eq(t[i].via, 0);
		cr_assert_null(t[i].result);
		cr_assert_str_eq(t[i].error, "");
		cr_assert_eq(t[i].created_ms, 1700000000000ull);
		cr_assert_eq(t[i].updated_ms, 1700000000000ull);
	}
	cr_assert(t[0].has_uuid);
	fx_seed(uuid, 1, 0x33);
	cr_assert_arr_eq(t[0].uuid, uuid, 16);
	cr_assert_eq(t[0].node, 0);
	cr_assert_str_eq(t[0].name, "dev-a");
	cr_assert_str_eq(t[0].params, "{}");
	cr_assert_not(t[1].has_uuid);
	cr_assert_eq(t[1].node, 0x0042);
	cr_assert_str_eq(t[1].name, "");
	cr_assert_str_eq(t[1].params, "{\"retries\":2}");
	fx_seed(uuid, 3, 0x33);
	cr_assert_arr_eq(t[2].uuid, uuid, 16);
	cr_assert_str_eq(t[2].name, "dev-c");
	store_job_targets_free(t, n);

	target_get(id, 2, &one);
	cr_assert_eq(one.idx, 2);
	cr_assert_str_eq(one.name, "dev-c");
	free_target(&one);
	cr_assert_eq(store_job_target_get(f.s, id, 3, &one), -ENOENT);
	cr_assert_eq(store_job_target_get(f.s, id + 1, 0, &one), -ENOENT);
	cr_assert_eq(store_job_targets(f.s, id + 1, &t, &n), -ENOENT);
}

Test(store_job, target_update_fields, .fini = teardown)
{
	struct store_job_target t;
	uint64_t id;

	fx_init(&f);
	id = job3();
	f.now += 500;
	target_get(id, 1, &t);
	t.state = STORE_TGT_ACTIVE;
	t.step = -3;
	t.attempts = 4000000000u;
	t.next_ms = 1700000009999ull;
	t.addr = 0x0123;
	t.elements = 255;
	t.via = 0x0042;
	t.result = "{\"phase\":\"invite\"}";
	snprintf(t.error, sizeof(t.error), "link closed (timeout)");
	cr_assert_eq(store_job_target_update(f.s, &t), 0);
	t.result = NULL;
	free_target(&t);

	target_get(id, 1, &t);
	cr_assert_eq(t.state, STORE_TGT_ACTIVE);
	cr_assert_eq(t.step, -3);
	cr_assert_eq(t.attempts, 4000000000u);
	cr_assert_eq(t.next_ms, 1700000009999ull);
	cr_assert_eq(t.addr, 0x0123);
	cr_assert_eq(t.elements, 255);
	cr_assert_eq(t.via, 0x0042);
	cr_assert_str_eq(t.result, "{\"phase\":\"invite\"}");
	cr_assert_str_eq(t.error, "link closed (timeout)");
	cr_assert_eq(t.created_ms, 1700000000000ull);
	cr_assert_eq(t.updated_ms, 1700000000500ull);
	/* Identity and creation fields do not change. */
	cr_assert_eq(t.node, 0x0042);
	cr_assert_str_eq(t.params, "{\"retries\":2}");

	/* result NULL keeps the stored one; the error is always written. */
	free(t.result);
	t.result = NULL;
	t.error[0] = '\0';
	t.step = 7;
	cr_assert_eq(store_job_target_update(f.s, &t), 0);
	free_target(&t);
	target_get(id, 1, &t);
	cr_assert_eq(t.step, 7);
	cr_assert_str_eq(t.result, "{\"phase\":\"invite\"}");
	cr_assert_str_eq(t.error, "");

	/* Any JSON value is a result; "" clears it. */
	free(t.result);
	t.result = "42";
	cr_assert_eq(store_job_target_update(f.s, &t), 0);
	t.result = NULL;
	free_target(&t);
	target_get(id, 1, &t);
	cr_assert_str_eq(t.result, "42");
	free(t.result);
	t.result = "";
	cr_assert_eq(store_job_target_update(f.s, &t), 0);
	t.result = NULL;
	free_target(&t);
	target_get(id, 1, &t);
	cr_assert_null(t.result);

	/* Rejected: not JSON, an unknown state, an unterminated error, an unknown target. */
	t.result = "{\"a\":";
	cr_assert_eq(store_job_target_update(f.s, &t), -EINVAL);
	t.result = NULL;
	t.state = (enum store_tgt_state)STORE_TGT_STATES;
	cr_assert_eq(store_job_target_update(f.s, &t), -EINVAL);
	t.state = STORE_TGT_ACTIVE;
	memset(t.error, 'e', sizeof(t.error));
	cr_assert_eq(store_job_target_update(f.s, &t), -EINVAL);
	t.error[0] = '\0';
	t.idx = 3;
	cr_assert_eq(store_job_target_update(f.s, &t), -ENOENT);
	free_target(&t);
	cr_assert_eq(store_job_target_update(f.s, NULL), -EINVAL);

	/* Progress is not audited. */
	cr_assert_eq(audits("job.create"), 1);
	cr_assert_eq(sql_int("SELECT count(*) FROM audit WHERE what LIKE 'job.%'"), 1);
}

Test(store_job, counts, .fini = teardown)
{
	size_t c[STORE_TGT_STATES] = {0};
	uint64_t id;

	fx_init(&f);
	id = job3();
	cr_assert_eq(store_job_counts(f.s, id, c), 0);
	cr_assert_eq(c[STORE_TGT_PENDING], 3);
	cr_assert_eq(c[STORE_TGT_ACTIVE] + c[STORE_TGT_DONE] + c[STORE_TGT_FAILED] +
			 c[STORE_TGT_CANCELLED],
		     0);
	set_state(id, 0, STORE_TGT_ACTIVE);
	set_state(id, 1, STORE_TGT_FAILED);
	cr_assert_eq(store_job_counts(f.s, id, c), 0);
	cr_assert_eq(c[STORE_TGT_PENDING], 1);
	cr_assert_eq(c[STORE_TGT_ACTIVE], 1);
	cr_assert_eq(c[STORE_TGT_DONE], 0);
	cr_assert_eq(c[STORE_TGT_FAILED], 1);
	cr_assert_eq(c[STORE_TGT_CANCELLED], 0);
	cr_assert_eq(store_job_counts(f.s, id + 1, c), -ENOENT);
	/* Untouched on failure. */
	cr_assert_eq(c[STORE_TGT_PENDING], 1);
}

Test(store_job, secrets_round_trip_and_wipe, .fini = teardown)
{
	uint8_t out[STORE_JOB_SECRET_MAX], short_key[8] = {1};
	size_t len = 0;
	uint64_t id;

	fx_init(&f);
	id = job3();
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_AUTH, out, &len), 0);
	cr_assert_eq(len, 16);
	cr_assert_arr_eq(out, oob16, 16);
	cr_assert_eq(store_job_secret_get(f.s, id, 2, STORE_JOB_SLOT_AUTH, out, &len), 0);
	cr_assert_eq(len, 32);
	cr_assert_arr_eq(out, oob32, 32);
	/* Target 1 was created without one. */
	len = 99;
	cr_assert_eq(store_job_secret_get(f.s, id, 1, STORE_JOB_SLOT_AUTH, out, &len), -ENOENT);
	cr_assert_eq(len, 99);
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_KEY, out, &len), -ENOENT);

	/* The DevKey slot, then a replacement of the OOB value by a longer one. */
	cr_assert_eq(store_job_secret_set(f.s, id, 0, STORE_JOB_SLOT_KEY, devkey, 16), 0);
	cr_assert_eq(store_job_secret_set(f.s, id, 0, STORE_JOB_SLOT_AUTH, oob32, 32), 0);
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_KEY, out, &len), 0);
	cr_assert_eq(len, 16);
	cr_assert_arr_eq(out, devkey, 16);
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_AUTH, out, &len), 0);
	cr_assert_eq(len, 32);
	cr_assert_arr_eq(out, oob32, 32);

	/* Lengths per slot; unknown slot and target. */
	cr_assert_eq(store_job_secret_set(f.s, id, 1, STORE_JOB_SLOT_KEY, oob32, 32), -EINVAL);
	cr_assert_eq(store_job_secret_set(f.s, id, 1, STORE_JOB_SLOT_AUTH, short_key, 8), -EINVAL);
	cr_assert_eq(store_job_secret_set(f.s, id, 1, STORE_JOB_SLOT_AUTH, NULL, 16), -EINVAL);
	cr_assert_eq(store_job_secret_set(f.s, id, 1, (enum store_job_slot)2, devkey, 16), -EINVAL);
	cr_assert_eq(store_job_secret_get(f.s, id, 1, (enum store_job_slot)2, out, &len), -EINVAL);
	cr_assert_eq(store_job_secret_set(f.s, id, 3, STORE_JOB_SLOT_KEY, devkey, 16), -ENOENT);
	cr_assert_eq(store_job_secret_set(f.s, id + 1, 0, STORE_JOB_SLOT_KEY, devkey, 16), -ENOENT);

	/* At rest only sealed: no plaintext in any blob. */
	cr_assert_eq(sql_int("SELECT count(*) FROM job_secrets"), 3);
	cr_assert_eq(sql_int("SELECT count(*) FROM job_secrets WHERE instr(sealed,"
			     " X'00112233445566778899aabbccddeeff') OR instr(sealed,"
			     " X'906d4a9e2f9c4051e70ca031c4281f7b') OR instr(sealed2,"
			     " X'2a11d6553f9408b36ec17d025be844a9') OR instr(sealed,"
			     " X'0d1e2f30415263748596a7b8c9daebfc')"),
		     0);

	/* Wipe one slot; the other stays; wiping an empty slot is fine. */
	cr_assert_eq(store_job_secret_wipe(f.s, id, 0, STORE_JOB_SLOT_AUTH), 0);
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_AUTH, out, &len), -ENOENT);
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_KEY, out, &len), 0);
	cr_assert_eq(store_job_secret_wipe(f.s, id, 0, STORE_JOB_SLOT_AUTH), 0);
	cr_assert_eq(store_job_secret_wipe(f.s, id, 0, (enum store_job_slot)5), -EINVAL);
	cr_assert_eq(sql_int("SELECT count(*) FROM job_secrets"), 2);
}

/* Each copy is undone before the next, so every -EACCES has one cause. */
static void expect_eacces(uint64_t id, uint32_t idx, enum store_job_slot slot, const char *tamper,
			  const char *undo)
{
	uint8_t out[STORE_JOB_SECRET_MAX];
	size_t len = 0;

	fx_sql(&f, tamper);
	cr_assert_eq(store_job_secret_get(f.s, id, idx, slot, out, &len), -EACCES, "%s", tamper);
	cr_assert_eq(len, 0);
	fx_sql(&f, undo);
}

Test(store_job, sealed_blob_bound_to_row, .fini = teardown)
{
	uint8_t out[STORE_JOB_SECRET_MAX];
	struct store_job_target_new t = {.auth = oob16, .auth_len = 16};
	uint64_t id, other;
	size_t len;

	fx_init(&f);
	id = job3();
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &t, 1, &other), 0);
	cr_assert_eq(store_job_secret_set(f.s, id, 1, STORE_JOB_SLOT_KEY, devkey, 16), 0);
	fx_sql(&f, "CREATE TABLE saved AS SELECT * FROM job_secrets");

	/* Target 0's OOB blob in target 1's AUTH slot (same job, same length). */
	expect_eacces(id, 1, STORE_JOB_SLOT_AUTH,
		      "INSERT INTO job_secrets SELECT job, 1, slot, len, sealed, sealed2"
		      " FROM saved WHERE job = 1 AND idx = 0 AND slot = 0",
		      "DELETE FROM job_secrets WHERE idx = 1 AND slot = 0");
	/* Target 1's DevKey blob in its AUTH slot (same row, other slot). */
	expect_eacces(id, 1, STORE_JOB_SLOT_AUTH,
		      "INSERT INTO job_secrets SELECT job, idx, 0, len, sealed, sealed2"
		      " FROM saved WHERE job = 1 AND idx = 1 AND slot = 1",
		      "DELETE FROM job_secrets WHERE idx = 1 AND slot = 0");
	/* Job 1 target 0's blob over the other job's target 0 (other job). */
	cr_assert_eq(store_job_secret_get(f.s, other, 0, STORE_JOB_SLOT_AUTH, out, &len), 0);
	expect_eacces(other, 0, STORE_JOB_SLOT_AUTH,
		      "UPDATE job_secrets SET sealed = (SELECT sealed FROM saved WHERE job = 1"
		      " AND idx = 0 AND slot = 0) WHERE job = 2",
		      "UPDATE job_secrets SET sealed = (SELECT sealed FROM saved WHERE job = 2)"
		      " WHERE job = 2");
	/* The halves of the 32-octet value swapped. */
	expect_eacces(id, 2, STORE_JOB_SLOT_AUTH,
		      "UPDATE job_secrets SET sealed = sealed2, sealed2 = sealed WHERE idx = 2",
		      "UPDATE job_secrets SET sealed = sealed2, sealed2 = sealed WHERE idx = 2");
	/* The 32-octet value cut to its first half. */
	expect_eacces(id, 2, STORE_JOB_SLOT_AUTH,
		      "UPDATE job_secrets SET len = 16, sealed2 = NULL WHERE idx = 2",
		      "UPDATE job_secrets SET len = 32, sealed2 = (SELECT sealed2 FROM saved"
		      " WHERE idx = 2) WHERE idx = 2");

	/* Every undo restored a working row. */
	cr_assert_eq(store_job_secret_get(f.s, id, 2, STORE_JOB_SLOT_AUTH, out, &len), 0);
	cr_assert_arr_eq(out, oob32, 32);
	cr_assert_eq(store_job_secret_get(f.s, other, 0, STORE_JOB_SLOT_AUTH, out, &len), 0);
	cr_assert_arr_eq(out, oob16, 16);

	/* A second store with another master key cannot open the blobs either. */
	fx_close(&f);
	fx_sql(&f, "DELETE FROM netkeys");
	cr_assert_eq(remove(f.key), 0);
	{
		int fd = open(f.key, O_WRONLY | O_CREAT | O_EXCL, 0600);
		uint8_t k[32];

		memset(k, 0x5c, sizeof(k));
		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, k, sizeof(k)), (ssize_t)sizeof(k));
		close(fd);
	}
	fx_open(&f);
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_AUTH, out, &len), -EACCES);
}

Test(store_job, cancel_moves_unfinished_targets_and_wipes, .fini = teardown)
{
	struct store_job_target_new tn[4] = {{.auth = oob16, .auth_len = 16},
					     {.auth = oob32, .auth_len = 32},
					     {.auth = oob16, .auth_len = 16},
					     {.auth = oob16, .auth_len = 16}};
	uint8_t out[STORE_JOB_SECRET_MAX];
	struct store_job_target *t, one;
	size_t c[STORE_TGT_STATES], n, len;
	struct store_job j;
	uint64_t id;

	fx_init(&f);
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, tn, 4, &id), 0);
	set_state(id, 0, STORE_TGT_DONE);
	set_state(id, 1, STORE_TGT_FAILED);
	set_state(id, 2, STORE_TGT_ACTIVE);
	cr_assert_eq(store_job_secret_set(f.s, id, 2, STORE_JOB_SLOT_KEY, devkey, 16), 0);
	/* A target that finished lost its secrets already. */
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_AUTH, out, &len), -ENOENT);
	cr_assert_eq(store_job_secret_get(f.s, id, 1, STORE_JOB_SLOT_AUTH, out, &len), -ENOENT);
	cr_assert_eq(sql_int("SELECT count(*) FROM job_secrets"), 3);

	f.now += 1000;
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_CANCELLED, "cancelled by operator"), 0);
	cr_assert_eq(store_job_get(f.s, id, &j), 0);
	cr_assert_eq(j.state, STORE_JOB_CANCELLED);
	cr_assert_str_eq(j.error, "cancelled by operator");
	cr_assert_eq(j.finished_ms, 1700000001000ull);
	cr_assert_eq(j.updated_ms, 1700000001000ull);
	store_job_clear(&j);

	cr_assert_eq(store_job_targets(f.s, id, &t, &n), 0);
	cr_assert_eq(n, 4);
	cr_assert_eq(t[0].state, STORE_TGT_DONE);
	cr_assert_eq(t[1].state, STORE_TGT_FAILED);
	cr_assert_eq(t[2].state, STORE_TGT_CANCELLED);
	cr_assert_eq(t[3].state, STORE_TGT_CANCELLED);
	cr_assert_eq(t[3].updated_ms, 1700000001000ull);
	store_job_targets_free(t, n);
	cr_assert_eq(store_job_counts(f.s, id, c), 0);
	cr_assert_eq(c[STORE_TGT_CANCELLED], 2);

	/* No secret survives a cancel, neither OOB nor DevKey. */
	cr_assert_eq(sql_int("SELECT count(*) FROM job_secrets"), 0);
	cr_assert_eq(store_job_secret_get(f.s, id, 2, STORE_JOB_SLOT_KEY, out, &len), -ENOENT);
	cr_assert_eq(store_job_secret_get(f.s, id, 3, STORE_JOB_SLOT_AUTH, out, &len), -ENOENT);
	cr_assert_eq(audits("job.cancel"), 1);

	/* The job has ended: no state change, no new secret, no waiting target. */
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_RUNNING, NULL), -EALREADY);
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_CANCELLED, NULL), -EALREADY);
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_DONE, NULL), -EALREADY);
	cr_assert_eq(store_job_secret_set(f.s, id, 3, STORE_JOB_SLOT_AUTH, oob16, 16), -EALREADY);
	target_get(id, 3, &one);
	one.state = STORE_TGT_PENDING;
	cr_assert_eq(store_job_target_update(f.s, &one), -EALREADY);
	/* A late result of an attempt that was under way is still recorded. */
	one.state = STORE_TGT_DONE;
	free(one.result);
	one.result = "{\"addr\":5}";
	cr_assert_eq(store_job_target_update(f.s, &one), 0);
	one.result = NULL;
	free_target(&one);
	target_get(id, 3, &one);
	cr_assert_eq(one.state, STORE_TGT_DONE);
	cr_assert_str_eq(one.result, "{\"addr\":5}");
	free_target(&one);
	cr_assert_eq(audits("job.cancel"), 1);
}

Test(store_job, pause_resume_done, .fini = teardown)
{
	uint8_t out[STORE_JOB_SECRET_MAX];
	char long_error[STORE_JOB_ERROR_MAX + 1];
	struct store_job j;
	size_t len;
	uint64_t id;

	fx_init(&f);
	id = job3();
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_PAUSED, NULL), 0);
	cr_assert_eq(store_job_get(f.s, id, &j), 0);
	cr_assert_eq(j.state, STORE_JOB_PAUSED);
	cr_assert_eq(j.finished_ms, 0);
	store_job_clear(&j);
	/* Pausing again changes nothing and writes no audit entry. */
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_PAUSED, NULL), 0);
	cr_assert_eq(audits("job.pause"), 1);
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_RUNNING, NULL), 0);
	cr_assert_eq(audits("job.resume"), 1);
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_PAUSED, NULL), 0);
	cr_assert_eq(audits("job.pause"), 2);

	/* DONE while targets wait would strand them. */
	set_state(id, 0, STORE_TGT_DONE);
	set_state(id, 1, STORE_TGT_FAILED);
	set_state(id, 2, STORE_TGT_ACTIVE);
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_DONE, NULL), -EBUSY);
	cr_assert_eq(store_job_secret_get(f.s, id, 2, STORE_JOB_SLOT_AUTH, out, &len), 0);

	/* Argument checks. */
	memset(long_error, 'x', sizeof(long_error) - 1);
	long_error[sizeof(long_error) - 1] = '\0';
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_CANCELLED, long_error), -EINVAL);
	cr_assert_eq(store_job_state_set(f.s, id, (enum store_job_state)4, NULL), -EINVAL);
	cr_assert_eq(store_job_state_set(f.s, id + 1, STORE_JOB_PAUSED, NULL), -ENOENT);

	/* The remaining target's secret is still there when the job ends; DONE wipes it. */
	f.now += 42;
	fx_sql(&f, "UPDATE job_targets SET state = 2 WHERE idx = 2");
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_DONE, "2 of 3 succeeded"), 0);
	cr_assert_eq(store_job_get(f.s, id, &j), 0);
	cr_assert_eq(j.state, STORE_JOB_DONE);
	cr_assert_eq(j.finished_ms, 1700000000042ull);
	cr_assert_str_eq(j.error, "2 of 3 succeeded");
	store_job_clear(&j);
	cr_assert_eq(store_job_secret_get(f.s, id, 2, STORE_JOB_SLOT_AUTH, out, &len), -ENOENT);
	cr_assert_eq(sql_int("SELECT count(*) FROM job_secrets"), 0);
	cr_assert_eq(audits("job.done"), 1);
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_PAUSED, NULL), -EALREADY);
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_CANCELLED, NULL), -EALREADY);
}

Test(store_job, finished_target_loses_secrets, .fini = teardown)
{
	uint8_t out[STORE_JOB_SECRET_MAX];
	size_t len;
	uint64_t id;

	fx_init(&f);
	id = job3();
	cr_assert_eq(store_job_secret_set(f.s, id, 2, STORE_JOB_SLOT_KEY, devkey, 16), 0);
	set_state(id, 0, STORE_TGT_ACTIVE);
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_AUTH, out, &len), 0);
	set_state(id, 2, STORE_TGT_FAILED);
	cr_assert_eq(store_job_secret_get(f.s, id, 2, STORE_JOB_SLOT_AUTH, out, &len), -ENOENT);
	cr_assert_eq(store_job_secret_get(f.s, id, 2, STORE_JOB_SLOT_KEY, out, &len), -ENOENT);
	cr_assert_eq(store_job_secret_set(f.s, id, 2, STORE_JOB_SLOT_KEY, devkey, 16), -EALREADY);
	/* Target 0 kept its own. */
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_AUTH, out, &len), 0);
	cr_assert_arr_eq(out, oob16, 16);
}

Test(store_job, purge, .fini = teardown)
{
	struct store_job_target_new t = {.auth = oob16, .auth_len = 16};
	struct store_job j;
	uint64_t old, newer, running, next;
	size_t n = 99;

	fx_init(&f);
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &t, 1, &running), 0);
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &t, 1, &old), 0);
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &t, 1, &newer), 0);
	cr_assert_eq(old, 2);
	cr_assert_eq(store_job_state_set(f.s, old, STORE_JOB_CANCELLED, NULL), 0);
	f.now += 1000;
	cr_assert_eq(store_job_state_set(f.s, newer, STORE_JOB_CANCELLED, NULL), 0);
	/* A finished job's secret that should not be there goes with it too. */
	fx_sql(&f, "INSERT INTO job_secrets SELECT 2, idx, 1, len, sealed, sealed2 FROM job_secrets"
		   " WHERE job = 1");
	cr_assert_eq(sql_int("SELECT count(*) FROM job_secrets WHERE job = 2"), 1);

	cr_assert_eq(store_job_purge(f.s, 1700000000000ull, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(audits("job.purge"), 0);
	cr_assert_eq(store_job_purge(f.s, 1700000000001ull, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_job_get(f.s, old, &j), -ENOENT);
	cr_assert_eq(sql_int("SELECT count(*) FROM job_targets WHERE job = 2"), 0);
	cr_assert_eq(sql_int("SELECT count(*) FROM job_secrets WHERE job = 2"), 0);
	cr_assert_eq(audits("job.purge"), 1);

	/* Unfinished jobs stay whatever their age. */
	cr_assert_eq(store_job_purge(f.s, UINT64_MAX >> 1, NULL), 0);
	cr_assert_eq(store_job_get(f.s, newer, &j), -ENOENT);
	cr_assert_eq(store_job_get(f.s, running, &j), 0);
	store_job_clear(&j);
	cr_assert_eq(sql_int("SELECT count(*) FROM job_secrets"), 1);

	/* A purged id (the highest so far) is never given again. */
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &t, 1, &next), 0);
	cr_assert_eq(next, newer + 1);
}

Test(store_job, invalid_arguments_write_nothing, .fini = teardown)
{
	struct store_job_target_new ok = {0}, bad;
	char kind[STORE_JOB_KIND_MAX + 1], name[STORE_NAME_MAX + 1];
	uint64_t id = 77;
	size_t n;

	fx_init(&f);
	/* STORE_JOB_KIND_MAX and STORE_NAME_MAX octets: one too many with the NUL. */
	memset(kind, 'k', STORE_JOB_KIND_MAX);
	kind[STORE_JOB_KIND_MAX] = '\0';
	memset(name, 'n', STORE_NAME_MAX);
	name[STORE_NAME_MAX] = '\0';

	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &ok, 0, &id), -EINVAL);
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, NULL, 1, &id), -EINVAL);
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &ok, 1, NULL), -EINVAL);
	cr_assert_eq(store_job_create(f.s, NULL, NULL, NULL, &ok, 1, &id), -EINVAL);
	cr_assert_eq(store_job_create(f.s, "", NULL, NULL, &ok, 1, &id), -EINVAL);
	cr_assert_eq(store_job_create(f.s, kind, NULL, NULL, &ok, 1, &id), -EINVAL);
	cr_assert_eq(store_job_create(f.s, "provision", "[]", NULL, &ok, 1, &id), -EINVAL);
	cr_assert_eq(store_job_create(f.s, "provision", "nope", NULL, &ok, 1, &id), -EINVAL);
	cr_assert_eq(store_job_create(f.s, "provision", "{\"a\":1,\"a\":2}", NULL, &ok, 1, &id),
		     -EINVAL);
	cr_assert_eq(store_job_create(f.s, "provision", NULL, name, &ok, 1, &id), -EINVAL);
	bad = (struct store_job_target_new){.name = name};
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &bad, 1, &id), -EINVAL);
	bad = (struct store_job_target_new){.params = "1"};
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &bad, 1, &id), -EINVAL);
	bad = (struct store_job_target_new){.auth = oob32, .auth_len = 8};
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &bad, 1, &id), -EINVAL);
	bad.auth_len = 24;
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &bad, 1, &id), -EINVAL);
	bad.auth_len = 33;
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &bad, 1, &id), -EINVAL);
	bad = (struct store_job_target_new){.auth = NULL, .auth_len = 16};
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &bad, 1, &id), -EINVAL);
	/* One bad target among good ones. */
	{
		struct store_job_target_new three[3] = {ok, ok, {.params = "{"}};

		cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, three, 3, &id),
			     -EINVAL);
	}
	cr_assert_eq(id, 77);
	cr_assert_eq(store_job_count(f.s, NULL, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(sql_int("SELECT count(*) FROM job_targets"), 0);
	cr_assert_eq(audits("job.create"), 0);

	/* The longest kind that fits works. */
	kind[STORE_JOB_KIND_MAX - 1] = '\0';
	cr_assert_eq(store_job_create(f.s, kind, NULL, NULL, &ok, 1, &id), 0);
}

Test(store_job, reopen_keeps_everything, .fini = teardown)
{
	struct store_job_target *t;
	uint8_t out[STORE_JOB_SECRET_MAX];
	struct store_job_target u;
	struct store_job j;
	size_t n, len;
	uint64_t id;

	fx_init(&f);
	id = job3();
	target_get(id, 2, &u);
	u.state = STORE_TGT_ACTIVE;
	u.step = 5;
	u.attempts = 2;
	u.addr = 0x0100;
	u.elements = 3;
	u.via = 0x0042;
	u.next_ms = 1700000005000ull;
	free(u.result);
	u.result = "{\"k\":[1,2]}";
	cr_assert_eq(store_job_target_update(f.s, &u), 0);
	u.result = NULL;
	free_target(&u);
	cr_assert_eq(store_job_secret_set(f.s, id, 2, STORE_JOB_SLOT_KEY, devkey, 16), 0);
	cr_assert_eq(store_job_state_set(f.s, id, STORE_JOB_PAUSED, "maintenance"), 0);

	fx_close(&f);
	fx_open(&f);

	cr_assert_eq(store_job_get(f.s, id, &j), 0);
	cr_assert_eq(j.state, STORE_JOB_PAUSED);
	cr_assert_str_eq(j.kind, "provision");
	cr_assert_str_eq(j.params, "{\"net_idx\":0}");
	cr_assert_str_eq(j.created_by, "alice");
	cr_assert_str_eq(j.error, "maintenance");
	store_job_clear(&j);
	cr_assert_eq(store_job_targets(f.s, id, &t, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(t[2].state, STORE_TGT_ACTIVE);
	cr_assert_eq(t[2].step, 5);
	cr_assert_eq(t[2].attempts, 2);
	cr_assert_eq(t[2].addr, 0x0100);
	cr_assert_eq(t[2].elements, 3);
	cr_assert_eq(t[2].via, 0x0042);
	cr_assert_eq(t[2].next_ms, 1700000005000ull);
	cr_assert_str_eq(t[2].result, "{\"k\":[1,2]}");
	cr_assert_str_eq(t[2].name, "dev-c");
	cr_assert_str_eq(t[1].params, "{\"retries\":2}");
	store_job_targets_free(t, n);
	cr_assert_eq(store_job_secret_get(f.s, id, 2, STORE_JOB_SLOT_AUTH, out, &len), 0);
	cr_assert_eq(len, 32);
	cr_assert_arr_eq(out, oob32, 32);
	cr_assert_eq(store_job_secret_get(f.s, id, 2, STORE_JOB_SLOT_KEY, out, &len), 0);
	cr_assert_arr_eq(out, devkey, 16);
	cr_assert_eq(store_job_secret_get(f.s, id, 0, STORE_JOB_SLOT_AUTH, out, &len), 0);
	cr_assert_arr_eq(out, oob16, 16);
}

/* Job secrets alone count as sealed keys: a lost master key is not silently replaced. */
Test(store_job, secrets_need_the_master_key, .fini = teardown)
{
	struct store_job_target_new t = {.auth = oob16, .auth_len = 16};
	uint64_t id;
	int err = 0;

	fx_init_bare(&f);
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, &t, 1, &id), 0);
	fx_close(&f);
	cr_assert_eq(remove(f.key), 0);
	cr_assert_null(store_open(f.db, f.key, &err));
	cr_assert_eq(err, -ENOKEY);
}

/* A failing verb inside the caller's transaction undoes only itself. */
Test(store_job, nested_in_caller_transaction, .fini = teardown)
{
	struct store_job_target_new t = {0};
	uint64_t a, b;
	size_t n;

	fx_init(&f);
	cr_assert_eq(store_begin(f.s), 0);
	cr_assert_eq(store_job_create(f.s, "remove", NULL, NULL, &t, 1, &a), 0);
	cr_assert_eq(store_job_state_set(f.s, a + 1, STORE_JOB_PAUSED, NULL), -ENOENT);
	cr_assert_eq(store_job_create(f.s, "remove", NULL, NULL, &t, 1, &b), 0);
	cr_assert_eq(store_commit(f.s), 0);
	cr_assert_eq(store_job_count(f.s, NULL, &n), 0);
	cr_assert_eq(n, 2);

	cr_assert_eq(store_begin(f.s), 0);
	cr_assert_eq(store_job_state_set(f.s, a, STORE_JOB_CANCELLED, NULL), 0);
	cr_assert_eq(store_rollback(f.s), 0);
	cr_assert_eq(store_job_state_set(f.s, a, STORE_JOB_CANCELLED, NULL), 0);
}

/* 2,000 targets with 32-octet secrets in one transaction: all or nothing. */
Test(store_job, large_create, .fini = teardown)
{
	enum {
		N = 2000
	};
	struct store_job_target_new *t = calloc(N, sizeof(*t));
	uint8_t(*oob)[32] = calloc(N, 32);
	uint8_t out[STORE_JOB_SECRET_MAX];
	struct store_job_target *got;
	size_t c[STORE_TGT_STATES], n, len;
	uint64_t id;

	cr_assert_not_null(t);
	cr_assert_not_null(oob);
	fx_init(&f);
	for (uint32_t i = 0; i < N; i++) {
		fx_seed(oob[i], i, 0x01);
		fx_seed(oob[i] + 16, i, 0x02);
		t[i].has_uuid = true;
		fx_seed(t[i].uuid, i, 0x77);
		t[i].auth = oob[i];
		t[i].auth_len = 32;
	}
	/* A target row that cannot be written (trigger) rolls the whole job back. */
	fx_sql(&f, "CREATE TRIGGER no_last BEFORE INSERT ON job_targets WHEN NEW.idx = 1999"
		   " BEGIN SELECT RAISE(ABORT, 'refused'); END");
	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, t, N, &id), -EIO);
	cr_assert_eq(store_job_count(f.s, NULL, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(sql_int("SELECT count(*) FROM job_targets"), 0);
	cr_assert_eq(sql_int("SELECT count(*) FROM job_secrets"), 0);
	fx_sql(&f, "DROP TRIGGER no_last");

	cr_assert_eq(store_job_create(f.s, "provision", NULL, NULL, t, N, &id), 0);
	cr_assert_eq(store_job_counts(f.s, id, c), 0);
	cr_assert_eq(c[STORE_TGT_PENDING], N);
	cr_assert_eq(store_job_targets(f.s, id, &got, &n), 0);
	cr_assert_eq(n, N);
	for (uint32_t i = 0; i < N; i++) {
		cr_assert_eq(got[i].idx, i);
		cr_assert_arr_eq(got[i].uuid, t[i].uuid, 16);
	}
	store_job_targets_free(got, n);
	cr_assert_eq(store_job_secret_get(f.s, id, N - 1, STORE_JOB_SLOT_AUTH, out, &len), 0);
	cr_assert_arr_eq(out, oob[N - 1], 32);
	cr_assert_eq(store_job_secret_get(f.s, id, 1000, STORE_JOB_SLOT_AUTH, out, &len), 0);
	cr_assert_arr_eq(out, oob[1000], 32);
	cr_assert_eq(audits("job.create"), 1);
	free(oob);
	free(t);
}

Test(store_job, state_names)
{
	cr_assert_str_eq(store_job_state_name(STORE_JOB_RUNNING), "running");
	cr_assert_str_eq(store_job_state_name(STORE_JOB_PAUSED), "paused");
	cr_assert_str_eq(store_job_state_name(STORE_JOB_DONE), "done");
	cr_assert_str_eq(store_job_state_name(STORE_JOB_CANCELLED), "cancelled");
	cr_assert_null(store_job_state_name((enum store_job_state)4));
	cr_assert_str_eq(store_tgt_state_name(STORE_TGT_PENDING), "pending");
	cr_assert_str_eq(store_tgt_state_name(STORE_TGT_ACTIVE), "active");
	cr_assert_str_eq(store_tgt_state_name(STORE_TGT_DONE), "done");
	cr_assert_str_eq(store_tgt_state_name(STORE_TGT_FAILED), "failed");
	cr_assert_str_eq(store_tgt_state_name(STORE_TGT_CANCELLED), "cancelled");
	cr_assert_null(store_tgt_state_name((enum store_tgt_state)STORE_TGT_STATES));
}
