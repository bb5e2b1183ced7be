/*
 * Shared set-up for the storage tests: a fresh directory under /tmp (made
 * with mkdtemp, removed afterwards), a store opened on it with a fake
 * clock, and a network row.  Header-only: tests/storage/ has no library.
 */
#ifndef TESTS_STORAGE_FIXTURE_H
#define TESTS_STORAGE_FIXTURE_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/store.h"

struct fx {
	char dir[64];
	char db[128];
	char key[128];
	struct store *s;
	uint64_t now;
};

static inline uint64_t fx_clock(void *ctx)
{
	return *(const uint64_t *)ctx;
}

static inline struct store *fx_open(struct fx *f)
{
	int err = 0;

	f->s = store_open(f->db, f->key, &err);
	cr_assert_not_null(f->s, "store_open: %d %s", err, store_strerror(err));
	store_set_clock(f->s, fx_clock, &f->now);
	return f->s;
}

static inline void fx_close(struct fx *f)
{
	store_close(f->s);
	f->s = NULL;
}

/* Open a store with no network row. */
static inline void fx_init_bare(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/meshgw-store-XXXXXX");
	cr_assert_not_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/inventory.db", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/master.key", f->dir);
	f->now = 1700000000000ull;
	fx_open(f);
}

/* The provisioner at 0x0001 (1 element), unicast 0x0001-0x7fff, groups 0xc000-0xc0ff. */
static inline void fx_init(struct fx *f)
{
	struct store_network net = {
	    .uuid = {0x70, 0xcf, 0x7c, 0x97, 0x32, 0xa3, 0x45, 0xb6, 0x91, 0x49, 0x48, 0x10, 0xd2,
		     0xe9, 0xcb, 0xf4},
	    .unicast = 0x0001,
	    .elements = 1,
	    .uni_low = 0x0001,
	    .uni_high = 0x7fff,
	    .grp_low = 0xc000,
	    .grp_high = 0xc0ff,
	};
	static const uint8_t netkey[16] = {0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18,
					   0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6};

	fx_init_bare(f);
	cr_assert_eq(store_net_create(f->s, &net), 0);
	cr_assert_eq(store_netkey_add(f->s, 0, netkey), 0);
}

static inline int fx_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void fx_fini(struct fx *f)
{
	fx_close(f);
	nftw(f->dir, fx_rm, 8, FTW_DEPTH | FTW_PHYS);
}

/* A DevKey and UUID derived from a seed, so every node differs. */
static inline void fx_seed(uint8_t out[16], uint32_t seed, uint8_t tag)
{
	for (int i = 0; i < 16; i++) {
		out[i] = (uint8_t)(tag ^ (seed >> ((i % 4) * 8)) ^ (i * 29));
	}
}

/* Add a node at addr with count elements on NetKey 0; returns store_node_add()'s result. */
static inline int fx_node(struct store *s, uint16_t addr, uint8_t count, uint32_t seed)
{
	struct store_node n = {.unicast = addr, .elements = count};
	uint8_t dk[16];

	fx_seed(n.uuid, seed, 0xa5);
	fx_seed(dk, seed, 0x5a);
	snprintf(n.name, sizeof(n.name), "node-%05u", (unsigned)seed);
	return store_node_add(s, &n, dk, 0);
}

/*
 * Close f's store, then run body on a store of the same files in a child process that exits
 * without store_close(): a crash (no WAL checkpoint).  Asserts that body returned 0.
 */
static inline void fx_crashed_child(struct fx *f, int (*body)(struct store *s))
{
	pid_t pid;
	int status;

	fx_close(f);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int err;
		struct store *s = store_open(f->db, f->key, &err);

		_exit(!s || body(s) ? 1 : 0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's work failed");
}

/* Run SQL on the database through a second connection (tests only). */
static inline void fx_sql(const struct fx *f, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	cr_assert_eq(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql,
		     msg ? msg : "");
	sqlite3_close(db);
}

#endif /* TESTS_STORAGE_FIXTURE_H */
