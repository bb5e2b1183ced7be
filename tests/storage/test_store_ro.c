/*
 * Read-only handles (store_open_ro()), DevKey fingerprints kept in the node
 * rows (store_set_keyprint()) and store_node_count()'s cached answer: what
 * the HTTP threads rely on to read the inventory beside the loop's writer.
 */
#include <errno.h>
#include <stdio.h>

#include "fixture.h"

static struct fx f;

static void teardown(void)
{
	fx_fini(&f);
}

/* A stand-in fingerprint: the key's first four octets in hex (the real one is s1). */
static void first4(const uint8_t key[16], char out[9])
{
	snprintf(out, 9, "%02x%02x%02x%02x", key[0], key[1], key[2], key[3]);
}

static struct store *ro_open(void)
{
	int err = 0;
	struct store *ro = store_open_ro(f.db, &err);

	cr_assert_not_null(ro, "store_open_ro: %d %s", err, store_strerror(err));
	return ro;
}

/* The reader sees what the writer committed, before and after it opened. */
Test(store_ro, reads_committed_state_of_the_writer, .fini = teardown)
{
	struct store *ro;
	struct store_node n;

	fx_init(&f);
	cr_assert_eq(fx_node(f.s, 0x0010, 2, 1), 0);
	ro = ro_open();
	cr_assert_eq(store_node_get(ro, 0x0010, &n), 0);
	cr_assert_str_eq(n.name, "node-00001");
	cr_assert_eq(store_node_get(ro, 0x0020, &n), -ENOENT);
	cr_assert_eq(fx_node(f.s, 0x0020, 1, 2), 0);
	cr_assert_eq(store_node_get(ro, 0x0020, &n), 0);
	cr_assert_eq(n.elements, 1);
	store_close(ro);
}

/* No master key and no write: unsealing and writing fail, nothing changes. */
Test(store_ro, cannot_unseal_or_write, .fini = teardown)
{
	struct store *ro;
	struct store_node n;
	uint8_t dk[16];

	fx_init(&f);
	cr_assert_eq(fx_node(f.s, 0x0010, 2, 1), 0);
	ro = ro_open();
	cr_assert_eq(store_node_devkey_get(ro, 0x0010, dk), -EACCES);
	cr_assert_lt(store_node_name_set(ro, 0x0010, "renamed"), 0);
	cr_assert_eq(store_node_get(f.s, 0x0010, &n), 0);
	cr_assert_str_eq(n.name, "node-00001");
	store_close(ro);
}

/* A reader does not guess at a schema: a missing file or another version is refused. */
Test(store_ro, refuses_missing_file_and_other_schema, .fini = teardown)
{
	char path[160];
	sqlite3 *db;
	int err = 0;

	fx_init(&f);
	snprintf(path, sizeof(path), "%s/absent.db", f.dir);
	cr_assert_null(store_open_ro(path, &err));
	cr_assert_eq(err, -ENOENT);
	cr_assert_eq(sqlite3_open(f.db, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	err = 0;
	cr_assert_null(store_open_ro(f.db, &err));
	cr_assert_eq(err, -EPROTO);
}

/* Rows without a fingerprint are filled once a function is set; new keys get theirs. */
Test(store_ro, keyprint_fills_old_rows_and_follows_new_keys, .fini = teardown)
{
	static const uint8_t cand[16] = {0xde, 0xad, 0xbe, 0xef, 5,  6,  7,  8,
					 9,    10,   11,   12,   13, 14, 15, 16};
	struct store *ro;
	struct store_node n;
	uint8_t dk[16];
	char want[9];

	fx_init(&f);
	cr_assert_eq(fx_node(f.s, 0x0010, 2, 1), 0);
	cr_assert_eq(fx_node(f.s, 0x0020, 2, 2), 0);
	cr_assert_eq(store_node_get(f.s, 0x0010, &n), 0);
	cr_assert_str_eq(n.devkey_fp, "");
	cr_assert_eq(store_set_keyprint(f.s, first4), 2);
	/* Once filled, nothing is left to fill. */
	cr_assert_eq(store_set_keyprint(f.s, first4), 0);

	ro = ro_open();
	fx_seed(dk, 1, 0x5a);
	first4(dk, want);
	cr_assert_eq(store_node_get(ro, 0x0010, &n), 0);
	cr_assert_str_eq(n.devkey_fp, want);
	cr_assert_eq(fx_node(f.s, 0x0030, 1, 3), 0);
	fx_seed(dk, 3, 0x5a);
	first4(dk, want);
	cr_assert_eq(store_node_get(ro, 0x0030, &n), 0);
	cr_assert_str_eq(n.devkey_fp, want);
	/* A Device Key Refresh: the candidate's fingerprint once it is committed. */
	cr_assert_eq(store_node_devkey_cand_set(f.s, 0x0020, cand), 0);
	cr_assert_eq(store_node_devkey_commit(f.s, 0x0020), 0);
	cr_assert_eq(store_node_get(ro, 0x0020, &n), 0);
	cr_assert_str_eq(n.devkey_fp, "deadbeef");
	store_close(ro);
}

/* The kept count follows commits of another connection and the handle's own writes. */
Test(store_ro, count_follows_every_commit, .fini = teardown)
{
	struct store_node_filter all = {0}, named = {.name_sub = "node-0000"};
	struct store *ro;
	size_t n = 0;

	fx_init(&f);
	cr_assert_eq(fx_node(f.s, 0x0010, 1, 1), 0);
	ro = ro_open();
	cr_assert_eq(store_node_count(ro, &all, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_node_count(ro, &all, &n), 0);
	cr_assert_eq(n, 1);
	/* The writer's commit is seen by the reader's next count. */
	cr_assert_eq(fx_node(f.s, 0x0020, 1, 2), 0);
	cr_assert_eq(store_node_count(ro, &all, &n), 0);
	cr_assert_eq(n, 2);
	/* Another filter is counted, not answered from the kept one. */
	cr_assert_eq(fx_node(f.s, 0x0030, 1, 30), 0);
	cr_assert_eq(store_node_count(ro, &named, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(store_node_count(ro, &all, &n), 0);
	cr_assert_eq(n, 3);
	/* The writer's own count follows its own writes. */
	cr_assert_eq(store_node_count(f.s, &all, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(store_node_remove(f.s, 0x0030), 0);
	cr_assert_eq(store_node_count(f.s, &all, &n), 0);
	cr_assert_eq(n, 2);
	store_close(ro);
}

/* A read snapshot holds while the writer commits; the next one sees the commit. */
Test(store_ro, read_snapshot_is_stable, .fini = teardown)
{
	struct store *ro;
	struct store_node n;

	fx_init(&f);
	cr_assert_eq(fx_node(f.s, 0x0010, 1, 1), 0);
	ro = ro_open();
	cr_assert_eq(store_read_begin(ro), 0);
	cr_assert_eq(store_node_get(ro, 0x0010, &n), 0);
	cr_assert_eq(store_node_name_set(f.s, 0x0010, "renamed"), 0);
	cr_assert_eq(store_node_get(ro, 0x0010, &n), 0);
	cr_assert_str_eq(n.name, "node-00001");
	store_read_end(ro);
	cr_assert_eq(store_node_get(ro, 0x0010, &n), 0);
	cr_assert_str_eq(n.name, "renamed");
	store_close(ro);
	/* Inside the writer's own transaction, the transaction is the snapshot. */
	cr_assert_eq(store_begin(f.s), 0);
	cr_assert_eq(store_read_begin(f.s), 0);
	cr_assert_eq(store_node_name_set(f.s, 0x0010, "again"), 0);
	store_read_end(f.s);
	cr_assert_eq(store_commit(f.s), 0);
	cr_assert_eq(store_node_get(f.s, 0x0010, &n), 0);
	cr_assert_str_eq(n.name, "again");
}
