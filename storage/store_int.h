/*
 * Internals shared by the storage/store_*.c files; not for other modules.
 *
 * Calls run one way: store_sql.c (the SQLite helpers) is below everything;
 * store_master.c and the record files (store_keys.c, store_nodes.c, ...)
 * use it; store_db.c, which opens the inventory and checks the master key
 * against the sealed keys, sits on top.
 */
#ifndef STORAGE_STORE_INT_H
#define STORAGE_STORE_INT_H

#include <sqlite3.h>
#include <stdarg.h>

#include "crypto/sec.h"
#include "storage/store.h"

/* Prepared statements are cached by the address of their SQL literal. */
#define STORE_STMT_SLOTS 256

/* One sealed key: IV || ciphertext || tag. */
#define STORE_SEALED_LEN (SEC_GCM_IV_LEN + STORE_KEY_LEN + SEC_GCM_TAG_LEN)

struct store_stmt_slot {
	const char *sql;
	sqlite3_stmt *st;
};

struct store {
	sqlite3 *db;
	int lock_fd; /* the database file, flock(LOCK_SH) while open; -1 for :memory: */
	uint8_t master[STORE_MASTER_KEY_LEN];
	struct store_stmt_slot stmts[STORE_STMT_SLOTS];
	int depth; /* transaction nesting: 0 none, 1 BEGIN, >1 savepoints */
	char actor[STORE_NAME_MAX];
	char errmsg[256];
	uint64_t (*now_ms)(void *ctx);
	void *now_ctx;
	store_keyprint_fn keyprint; /* store_set_keyprint(), NULL: none recorded */
	bool reading;               /* store_read_begin() opened a read transaction */
	/*
	 * The last node filter's selection, valid while the version is the same:
	 * its count (store_node_count()) and its addresses in list order, which
	 * turn an offset into a cursor (store_node_list()).
	 */
	struct {
		bool valid;
		int64_t data_version, changes;
		int excluded;
		unsigned state_mask;
		uint16_t addr_lo, addr_hi;
		bool any_name;
		char name[STORE_NAME_MAX];
		size_t n;
		uint16_t *addrs; /* n of them, ascending; NULL when not kept */
		bool unique;     /* no address twice: a position is a cursor */
	} count;
};

/* --- store_sql.c: calls nothing else of storage -------------------------- */

/*
 * The cached statement for sql (a string literal: cached by address), reset
 * and with bindings cleared; NULL on a prepare error (message saved).
 */
sqlite3_stmt *store_q(struct store *s, const char *sql);
/* Save SQLite's message and map the result code of the last call to -errno. */
int store_sqlerr(struct store *s);
/* Map an extended SQLite result code to -errno (-EUCLEAN for a damaged file). */
int store_sqlcode(int ext);
/*
 * PRAGMA quick_check (every page and record well formed) or, when full, integrity_check (and
 * every index matches its table) on db: 0 for "ok", else -EUCLEAN with the first problem in
 * why, or the mapped SQLite error with its message.
 */
int store_sql_check(sqlite3 *db, bool full, char *why, size_t why_cap);
/* Step a statement expected to finish (INSERT/UPDATE/DELETE); resets it. */
int store_run(struct store *s, sqlite3_stmt *st);
/*
 * Step a query expected to give at most one row: 1 when a row is ready
 * (the caller reads it, then calls sqlite3_reset), 0 when none (already
 * reset), or -errno.
 */
int store_row(struct store *s, sqlite3_stmt *st);
/*
 * The committed state's version as this connection sees it: PRAGMA
 * data_version (changes when another connection commits) combined with the
 * connection's own changes.  Equal versions mean equal contents.
 */
int store_version(struct store *s, int64_t *data_version, int64_t *changes);
/* Run a statement-less SQL text once (DDL, PRAGMA); -EIO with message. */
int store_exec(struct store *s, const char *sql);

/* Open a transaction level; pair with store_txn_end(s, rc), which commits when rc == 0. */
int store_txn_begin(struct store *s);
int store_txn_end(struct store *s, int rc);

uint64_t store_now(struct store *s);
/* Audit entry for the current actor, written in the caller's transaction. */
int store_audit(struct store *s, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copy a TEXT column into a fixed buffer (always NUL-terminated). */
void store_col_text(sqlite3_stmt *st, int col, char *out, size_t cap);
/* Copy a BLOB column of exactly len octets; false if NULL or another size. */
bool store_col_blob(sqlite3_stmt *st, int col, void *out, size_t len);
/* Bind a fixed-size blob (SQLITE_STATIC: the caller keeps it alive until reset). */
int store_bind_blob(sqlite3_stmt *st, int col, const void *p, size_t len);
/*
 * Step st to the end, reading each row with read() into a new array of
 * elements of size elem.  On success *out (NULL when empty) and *n are set;
 * on failure the partial array is wiped and freed, and st is reset.
 */
int store_collect(struct store *s, sqlite3_stmt *st, size_t elem,
		  int (*read)(struct store *s, sqlite3_stmt *st, void *item), void **out,
		  size_t *n);
/*
 * store_collect() for records that own memory: on failure clear() is called
 * on every element read so far (including the one whose read() failed)
 * before the array is wiped and freed.
 */
int store_collect_owned(struct store *s, sqlite3_stmt *st, size_t elem,
			int (*read)(struct store *s, sqlite3_stmt *st, void *item),
			void (*clear)(void *item), void **out, size_t *n);

/* True when text is JSON (any value), or with object set a JSON object without repeated keys. */
bool store_json_ok(const char *text, bool object);

/* Row reader for store_collect(): column 0 as a uint16_t. */
int store_read_u16(struct store *s, sqlite3_stmt *st, void *item);

/* --- store_master.c ----------------------------------------------------- */

/*
 * Read the master key file, or create it (O_CREAT|O_EXCL, 0600, CSPRNG) when
 * create is true and it does not exist.  *created (may be NULL) tells which.
 */
int store_master_load(const char *path, bool create, uint8_t key[STORE_MASTER_KEY_LEN],
		      bool *created);
/* Seal a 16-octet key under the master key with aad naming its row. */
int store_seal(const struct store *s, const char *aad, const uint8_t key[STORE_KEY_LEN],
	       uint8_t out[STORE_SEALED_LEN]);
/* Unseal; -EACCES when the tag fails (wrong master key or wrong row). */
int store_unseal(const struct store *s, const char *aad, const uint8_t in[STORE_SEALED_LEN],
		 uint8_t key[STORE_KEY_LEN]);
/* Unseal a BLOB column into key; -EIO for a blob of the wrong size. */
int store_unseal_col(struct store *s, sqlite3_stmt *st, int col, const char *aad,
		     uint8_t key[STORE_KEY_LEN]);

/* --- store_nodes.c ------------------------------------------------------- */

/* Row id of the active node at primary address addr; -ENOENT. */
int store_node_id(struct store *s, uint16_t addr, int64_t *id);
/*
 * -EINVAL unless [addr, addr+count) is unicast; -EEXIST when it overlaps an
 * active node, the provisioner, an exclusion or another reservation.
 */
int store_range_check(struct store *s, uint16_t addr, uint8_t count);

/* --- store_comp.c -------------------------------------------------------- */

/* Row id of model (vendor, id) on the active element elem_addr; -ENOENT. */
int store_model_row(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id, int64_t *row);

/* --- store_addr.c -------------------------------------------------------- */

/* Put [addr, addr+count) on the exclusion list at the network's IV Index. */
int store_exclude_range(struct store *s, uint16_t addr, uint8_t count);
/* Drop a reservation exactly at addr if there is one (not an error if absent). */
int store_reservation_consume(struct store *s, uint16_t addr);

#endif /* STORAGE_STORE_INT_H */
