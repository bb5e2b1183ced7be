/*
 * meshgw inventory: the gateway's persistent state in one SQLite database.
 *
 * Layout (../shared/style.md §2.2, §2.5): an opaque `struct store` with one
 * verb per field, in the manner of BlueZ mesh-config.  Records are plain
 * structs owned by this module; nothing from mesh/ appears here except
 * fixed-size byte arrays (UUIDs, keys).
 *
 * Threading: a `struct store` is NOT thread-safe.  The gateway's event-loop
 * thread is the only user of the store opened with store_open(); reads may
 * also go through read-only handles (store_open_ro()), one per thread, which
 * WAL lets run beside the loop's writes.  The REST API never calls store_*
 * directly.
 *
 * Errors: 0 on success or a negative errno code:
 *   -EINVAL  bad argument            -ENOENT  no such record
 *   -EEXIST  duplicate (UUID, address, index, name)
 *   -EIO     SQLite failure; store_errmsg() has SQLite's message
 *   -EACCES  a sealed key did not authenticate (wrong master key, or a
 *            blob copied from another row)
 *   -ENOSPC  no free address range
 * Out-parameters are written only on success.  A failing verb changes
 * nothing: every verb runs in its own transaction (a savepoint when the
 * caller has opened one with store_begin()).
 *
 * Keys at rest: every key is sealed with AES-256-GCM under a 32-octet master
 * key kept in a separate file; the database alone reveals no key.  Keys
 * returned by store_* are plaintext in caller buffers; the caller wipes them
 * with sec_wipe() (crypto/sec.h); the *_free functions of key records wipe
 * too.
 *
 * Audit: every verb that changes configuration writes an audit entry in the
 * same transaction, naming the actor set with store_set_actor().  Pure
 * observations are not audited: scan sightings, sequence number
 * reservations and operation progress.
 *
 * Storage does not log.
 */
#ifndef STORAGE_STORE_H
#define STORAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_UUID_LEN 16
#define STORE_KEY_LEN 16
#define STORE_MASTER_KEY_LEN 32
#define STORE_TOKEN_HASH_LEN 32
#define STORE_NAME_MAX 64 /* including the NUL */
#define STORE_COMP_PAGE_MAX 384

/* --- Opening ------------------------------------------------------------ */

/*
 * Open (or create) the database at db_path and the master key at
 * master_key_path.  A missing key file is created with mode 0600 from the
 * CSPRNG, unless the database already holds sealed keys (then -ENOKEY: a
 * fresh key could never open them).  The schema is created or migrated to
 * the current version.  Returns a new store; close with store_close().  On
 * failure returns NULL and sets *err (if err is not NULL); see
 * store_strerror() for a sentence describing each open-time code:
 *   -EPERM     key file readable by group/others, or not owned by us
 *   -EBADF     key file is not a regular file, or has the wrong size
 *   -ENOKEY    key file missing but the database holds sealed keys
 *   -EKEYREJECTED  the key does not unseal the database's keys (another installation's key)
 *   -EPROTO    database written by a newer meshgw (schema version too high)
 *   -EUCLEAN   the database is corrupt (integrity check failed, or not a database)
 *   -EBUSY     a store_restore() is replacing the database
 *   -EIO       SQLite error (locked, migration failed)
 *   other      errno of open(2)/read(2) on the key file
 */
struct store *store_open(const char *db_path, const char *master_key_path, int *err);

/*
 * Integrity at open.  store_open() runs PRAGMA quick_check (every page and
 * record well formed; O(N)); integrity_full asks for PRAGMA integrity_check,
 * which also compares every index with its table (slower on a large
 * inventory).  A database that fails either, or that SQLite finds corrupt or
 * not a database while opening, is refused with -EUCLEAN.
 *
 * While a store is open it holds a shared flock(2) on the database file, so
 * that store_restore() can tell that a daemon (or a `token create`) has it
 * open; store_open() fails with -EBUSY while a restore holds it exclusively.
 */
struct store_open_opts {
	bool integrity_full;
	char *why; /* if not NULL, receives SQLite's or the check's first message on failure */
	size_t why_cap;
};

/* store_open() with options; opts NULL means the defaults (quick_check). */
struct store *store_open_ex(const char *db_path, const char *master_key_path,
			    const struct store_open_opts *opts, int *err);

/* Finalise statements, close SQLite (which checkpoints the WAL), wipe the master key.  NULL ok. */
void store_close(struct store *s);

/*
 * A read-only handle on the database at db_path, which another store (the
 * loop's, store_open()) has created and migrated: SQLite opened with
 * SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, with its own cache of prepared
 * statements.  For one thread at a time (one per HTTP worker): in WAL mode
 * its reads see the last committed state and neither wait for the writer nor
 * hold it up.  The handle has no master key, so verbs that unseal a key fail
 * with -EACCES and verbs that write fail with -EIO ("attempt to write a
 * readonly database"); everything that only reads plain columns works.
 * Close with store_close().  NULL with *err on failure (-EPROTO for a schema
 * this build does not know, -ENOENT for a missing file).
 */
struct store *store_open_ro(const char *db_path, int *err);

/*
 * A consistent snapshot over several reads (one read transaction): between
 * store_read_begin() and store_read_end() every read sees the same committed
 * state even while another connection writes.  Inside an open transaction
 * (store_begin()) both do nothing: that transaction is the snapshot.
 */
int store_read_begin(struct store *s);
void store_read_end(struct store *s);

/* Length of a key fingerprint in hex digits (store_node.devkey_fp). */
#define STORE_KEYPRINT_LEN 8
/*
 * How a DevKey's fingerprint is computed (the gateway passes
 * mesh_crypto_key_fingerprint(), which storage cannot call itself: storage
 * does not depend on mesh/).  From this call on, every DevKey stored or
 * committed through s gets its fingerprint in the node row, and the rows
 * that have none yet (added without a fingerprint function, or by an older
 * version) are filled now.  Returns the number of rows filled or -errno.
 */
typedef void (*store_keyprint_fn)(const uint8_t key[STORE_KEY_LEN],
				  char out[STORE_KEYPRINT_LEN + 1]);
int store_set_keyprint(struct store *s, store_keyprint_fn fn);

/* A static sentence for an error code returned by store_open() or a verb. */
const char *store_strerror(int err);

/* SQLite's message for the last -EIO; borrowed, valid until the next call on s. */
const char *store_errmsg(const struct store *s);

/* Schema version of this build (PRAGMA user_version after store_open()). */
int store_schema_version(void);

/*
 * Clock for created/updated times and audit entries, in milliseconds since
 * the Unix epoch.  Default: CLOCK_REALTIME.  Tests inject a fake clock.
 */
void store_set_clock(struct store *s, uint64_t (*now_ms)(void *ctx), void *ctx);

/*
 * Who the following changes are made for, recorded in the audit log: e.g.
 * "token:alice(operator)".  NULL means "system".  The string is copied
 * (truncated to STORE_NAME_MAX - 1 octets).
 */
void store_set_actor(struct store *s, const char *who);

/*
 * Group several verbs into one transaction.  Nesting is allowed (inner
 * levels are savepoints).  store_commit()/store_rollback() return -EINVAL
 * without an open transaction.  A verb that fails inside a transaction
 * rolls back only its own changes; the caller decides about the rest.
 */
int store_begin(struct store *s);
int store_commit(struct store *s);
int store_rollback(struct store *s);

/* --- Network ----------------------------------------------------------- */

struct store_network {
	uint8_t uuid[STORE_UUID_LEN]; /* mesh UUID (Mesh CDB "meshUUID") */
	uint32_t iv_index;
	bool iv_update;   /* IV Update in Progress (§3.10.5) */
	uint16_t unicast; /* the provisioner's own primary element address */
	uint8_t elements; /* the provisioner's element count (>= 1) */
	uint16_t uni_low; /* allocated unicast range, inclusive */
	uint16_t uni_high;
	uint16_t grp_low; /* allocated group range, inclusive */
	uint16_t grp_high;
	uint32_t seq_limit;  /* persisted sequence number limit (read only) */
	uint64_t created_ms; /* read only */
	uint64_t updated_ms; /* read only */
};

/*
 * Create the network row on first start.  -EEXIST when there is one,
 * -EINVAL when the ranges are not unicast/group addresses or the own
 * address is outside the unicast range.
 */
int store_net_create(struct store *s, const struct store_network *net);
/* Fill *out; -ENOENT before store_net_create(). */
int store_net_get(struct store *s, struct store_network *out);
/*
 * Persist a new IV Index and IV Update flag.  When seq_reset is true the
 * persisted sequence number limit is set to 0 in the same transaction: a
 * node resets its sequence number when it leaves IV Update in Progress
 * (§3.10.5), and persisting both at once means a crash can never leave the
 * old IV Index with a reset limit.
 */
int store_net_iv_set(struct store *s, uint32_t iv_index, bool iv_update, bool seq_reset);
/* Change the allocated ranges; -EINVAL as for store_net_create(). */
int store_net_ranges_set(struct store *s, uint16_t uni_low, uint16_t uni_high, uint16_t grp_low,
			 uint16_t grp_high);

/*
 * Sequence numbers are persisted in reserved blocks (§3.8.3: a sequence
 * number must never be reused with the same IV Index).  The stored value is
 * a limit: every number below it may have been used.  The daemon:
 *   1. at start, reads the limit (store_net_get) and uses it as its first
 *      sequence number, then calls store_seq_reserve(s, limit, BLOCK, &lim);
 *   2. sends with seq < lim; when seq comes within a margin of lim it calls
 *      store_seq_reserve(s, seq, BLOCK, &lim) before continuing;
 *   3. after a crash, restarts at the persisted limit: numbers between the
 *      last used one and the limit are skipped, never reused.
 * The new limit is max(current, stored limit) + block, capped at 2^24;
 * -ERANGE when current is already at 2^24 (an IV Update is needed), -EINVAL
 * when block is 0.  Not audited.
 */
int store_seq_reserve(struct store *s, uint32_t current, uint32_t block, uint32_t *limit);

/* --- NetKeys and AppKeys ------------------------------------------------ */

/* Key Refresh phase of a NetKey (§3.11). */
enum store_kr_phase {
	STORE_KR_NORMAL = 0,
	STORE_KR_PHASE1 = 1, /* new key distributed */
	STORE_KR_PHASE2 = 2, /* transmitting with the new key */
};

struct store_netkey {
	uint16_t idx;
	uint8_t key[STORE_KEY_LEN]; /* plaintext: wipe after use */
	bool has_old;
	uint8_t old_key[STORE_KEY_LEN]; /* valid when has_old (phases 1 and 2) */
	enum store_kr_phase phase;
	uint64_t created_ms;
	uint64_t updated_ms;
};

struct store_appkey {
	uint16_t idx;
	uint16_t net_idx; /* bound NetKey */
	uint8_t key[STORE_KEY_LEN];
	bool has_old;
	uint8_t old_key[STORE_KEY_LEN];
	uint64_t created_ms;
	uint64_t updated_ms;
};

/* Add NetKey idx (0..0xfff); -EEXIST if present. */
int store_netkey_add(struct store *s, uint16_t idx, const uint8_t key[STORE_KEY_LEN]);
/* Fill *out (keys unsealed); -ENOENT, -EACCES. */
int store_netkey_get(struct store *s, uint16_t idx, struct store_netkey *out);
/*
 * Start a Key Refresh: the current key becomes the old key, `key` the new
 * one, phase 1.  -EBUSY when a refresh is already running.
 */
int store_netkey_update(struct store *s, uint16_t idx, const uint8_t key[STORE_KEY_LEN]);
/*
 * Set the phase.  Only forward steps are allowed (1 -> 2 -> NORMAL, or
 * 1 -> NORMAL); entering NORMAL drops the old NetKey and the old keys of
 * every AppKey bound to it (the end of Key Refresh phase 3, §3.11).  -EINVAL for a
 * backward step.
 */
int store_netkey_phase_set(struct store *s, uint16_t idx, enum store_kr_phase phase);
/* Delete; -EBUSY while AppKeys are bound to it or nodes list it. */
int store_netkey_delete(struct store *s, uint16_t idx);
/* All NetKeys by index.  Returns a new array; free with store_netkeys_free() (wipes). */
int store_netkey_list(struct store *s, struct store_netkey **out, size_t *n);
void store_netkeys_free(struct store_netkey *keys, size_t n);

/* Add AppKey idx bound to NetKey net_idx; -ENOENT without that NetKey, -EEXIST. */
int store_appkey_add(struct store *s, uint16_t idx, uint16_t net_idx,
		     const uint8_t key[STORE_KEY_LEN]);
int store_appkey_get(struct store *s, uint16_t idx, struct store_appkey *out);
/* Key Refresh of an AppKey: current key becomes old; -EBUSY if it has one. */
int store_appkey_update(struct store *s, uint16_t idx, const uint8_t key[STORE_KEY_LEN]);
/* Delete; also removes it from node AppKey lists and model bindings. */
int store_appkey_delete(struct store *s, uint16_t idx);
int store_appkey_list(struct store *s, struct store_appkey **out, size_t *n);
void store_appkeys_free(struct store_appkey *keys, size_t n);

/* --- Nodes -------------------------------------------------------------- */

enum store_cfg_state {
	STORE_CFG_PROVISIONED = 0, /* provisioned, not yet configured */
	STORE_CFG_CONFIGURING = 1,
	STORE_CFG_CONFIGURED = 2,
	STORE_CFG_FAILED = 3,
};
#define STORE_CFG_STATE_COUNT 4

/* "provisioned", "configuring", ...; NULL for an unknown value. */
const char *store_cfg_state_name(enum store_cfg_state st);
/* Inverse of store_cfg_state_name(); -EINVAL for an unknown name. */
int store_cfg_state_parse(const char *name, enum store_cfg_state *out);

/*
 * A node.  Keys are not part of the record: see store_node_devkey_get().
 * Nodes are addressed by the primary unicast address of an active (not
 * excluded) node.  Removed nodes stay as excluded records for history.
 */
struct store_node {
	uint8_t uuid[STORE_UUID_LEN];
	uint16_t unicast;  /* primary element address */
	uint8_t elements;  /* element count (1..255) */
	uint16_t features; /* Composition Data page 0 Features (§4.2.2.1) */
	uint16_t cid;
	uint16_t pid;
	uint16_t vid;
	uint16_t crpl;
	char name[STORE_NAME_MAX];
	enum store_cfg_state cfg_state;
	bool excluded;
	bool has_cand_key; /* a candidate DevKey is pending (Device Key Refresh) */
	uint64_t created_ms;
	uint64_t updated_ms;
	/* Fingerprint of the DevKey (store_set_keyprint()); "" when not recorded. */
	char devkey_fp[STORE_KEYPRINT_LEN + 1];
};

/*
 * Add a freshly provisioned node.  Fields used: uuid, unicast, elements,
 * name, cfg_state (features/cid/... are set later with store_node_info_set).
 * The address range must lie in the unicast space and not overlap an
 * active node or an excluded range; a reservation covering it (from
 * store_addr_reserve) is consumed.  The node's NetKey list starts with
 * net_idx.  -EEXIST for a UUID or address in use, -ENOENT for a missing
 * NetKey, -EINVAL for bad fields.
 */
int store_node_add(struct store *s, const struct store_node *node,
		   const uint8_t dev_key[STORE_KEY_LEN], uint16_t net_idx);
/* Active node with primary address addr, else the most recent excluded one. */
int store_node_get(struct store *s, uint16_t addr, struct store_node *out);
/* Active node with this UUID; -ENOENT. */
int store_node_get_by_uuid(struct store *s, const uint8_t uuid[STORE_UUID_LEN],
			   struct store_node *out);
/* Primary address of the active node owning element address addr; -ENOENT. */
int store_node_lookup(struct store *s, uint16_t addr, uint16_t *primary);
/* Name (copied, at most STORE_NAME_MAX - 1 octets else -EINVAL). */
int store_node_name_set(struct store *s, uint16_t addr, const char *name);
int store_node_cfg_state_set(struct store *s, uint16_t addr, enum store_cfg_state st);
/* Composition Data page 0 header fields (§4.2.2.1). */
int store_node_info_set(struct store *s, uint16_t addr, uint16_t cid, uint16_t pid, uint16_t vid,
			uint16_t crpl, uint16_t features);
/* The DevKey, unsealed into key; -EACCES when it does not authenticate. */
int store_node_devkey_get(struct store *s, uint16_t addr, uint8_t key[STORE_KEY_LEN]);
/* Candidate DevKey of a Device Key Refresh (NPPI procedure 0x00); -ENOENT if none. */
int store_node_devkey_cand_get(struct store *s, uint16_t addr, uint8_t key[STORE_KEY_LEN]);
int store_node_devkey_cand_set(struct store *s, uint16_t addr, const uint8_t key[STORE_KEY_LEN]);
/* Candidate becomes the DevKey; -ENOENT without a candidate. */
int store_node_devkey_commit(struct store *s, uint16_t addr);
/* Forget the candidate (the node kept its DevKey); not an error without one. */
int store_node_devkey_cand_clear(struct store *s, uint16_t addr);

/*
 * The device certificate a node was provisioned with (certificate-based
 * provisioning): the DER as received and what it says, for the operator.
 */
#define STORE_CERT_DER_MAX 4096
#define STORE_CERT_NAME_MAX 256
struct store_node_cert {
	char subject[STORE_CERT_NAME_MAX]; /* RFC 2253 */
	char issuer[STORE_CERT_NAME_MAX];
	int64_t not_before, not_after; /* seconds since the epoch */
	uint8_t sha256[32];
	uint8_t der[STORE_CERT_DER_MAX];
	size_t der_len; /* 1 .. STORE_CERT_DER_MAX */
};
/* Keep (replace) the certificate of the active node at addr.  -ENOENT, -EINVAL. */
int store_node_cert_set(struct store *s, uint16_t addr, const struct store_node_cert *c);
/* The certificate of the active node at addr; -ENOENT when it has none. */
int store_node_cert_get(struct store *s, uint16_t addr, struct store_node_cert *c);

/*
 * Node removal (after Config Node Reset): mark excluded, drop its elements,
 * models and key lists, and put its address range on the exclusion list at
 * the current IV Index, in one transaction.  Raw composition pages stay.
 */
int store_node_remove(struct store *s, uint16_t addr);

/*
 * Node Address Refresh: move an active node from old_addr to new_addr with
 * `elements` elements (1..255; a refresh may change the count) in one
 * transaction: the node row, its element addresses (models, bindings,
 * publications and subscriptions follow the elements; element rows past the
 * new count go with their models), the whole old range onto the exclusion
 * list, and a reservation of the new range consumed.  The new range obeys
 * the rules of store_node_add(); it may not overlap the old one.  Returns 0,
 * -ENOENT, -EINVAL (overlap, count 0, past 0x7fff), -EEXIST, or a store error.
 */
int store_node_address_change(struct store *s, uint16_t old_addr, uint16_t new_addr,
			      uint8_t elements);

/* Node NetKey/AppKey lists (what the node holds, §4.2.4/§4.2.5). */
int store_node_netkey_add(struct store *s, uint16_t addr, uint16_t net_idx);
int store_node_netkey_del(struct store *s, uint16_t addr, uint16_t net_idx);
/* Returns a new array of indexes; free with free(). */
int store_node_netkey_list(struct store *s, uint16_t addr, uint16_t **idx, size_t *n);
int store_node_appkey_add(struct store *s, uint16_t addr, uint16_t app_idx);
/* Also unbinds app_idx from the node's models: deleting an AppKey drops its bindings (§4.2.6). */
int store_node_appkey_del(struct store *s, uint16_t addr, uint16_t app_idx);
int store_node_appkey_list(struct store *s, uint16_t addr, uint16_t **idx, size_t *n);

/* Filter for store_node_list(); zero-initialise, then set what matters. */
struct store_node_filter {
	int excluded;         /* 0 active only (default), 1 excluded only, 2 both */
	const char *name_sub; /* substring of the name (case-sensitive), NULL = any */
	unsigned state_mask;  /* bits (1u << enum store_cfg_state); 0 = any */
	uint16_t addr_lo;     /* primary address range, inclusive; 0/0 = any */
	uint16_t addr_hi;
	uint16_t after; /* cursor: only nodes with unicast > after (0 = from the start) */
	size_t offset;  /* skipped after filtering */
	size_t limit;   /* 0 = no limit */
};

/*
 * Nodes matching f in ascending unicast order (ties, which only excluded
 * records can have, by creation).  Returns a new array; free with
 * store_nodes_free().  *n may be 0 (then *out is NULL).
 */
int store_node_list(struct store *s, const struct store_node_filter *f, struct store_node **out,
		    size_t *n);
/*
 * Number of nodes matching f, ignoring after/offset/limit.  The last answer
 * is kept with its filter and the database's version (PRAGMA data_version and
 * this connection's own changes): asking again with the same filter while
 * nothing was committed costs no count, so a client paging through the
 * inventory is not charged a full count per page.
 */
int store_node_count(struct store *s, const struct store_node_filter *f, size_t *n);
void store_nodes_free(struct store_node *nodes);

/* --- Composition, models, bindings, publications, subscriptions -------- */

/* Raw Composition Data page (§4.2.2) as read from the node; replaces any earlier copy. */
int store_comp_page_put(struct store *s, uint16_t addr, uint8_t page, const uint8_t *data,
			size_t len);
/* Copy a page into buf (cap octets); -EMSGSIZE when it does not fit. */
int store_comp_page_get(struct store *s, uint16_t addr, uint8_t page, uint8_t *buf, size_t cap,
			size_t *len);
/* Page numbers stored for the node, ascending; returns a new array, free with free(). */
int store_comp_page_list(struct store *s, uint16_t addr, uint8_t **pages, size_t *n);

struct store_element {
	uint8_t idx;  /* element index; address = node unicast + idx */
	uint16_t loc; /* GATT Namespace Descriptor location */
};

struct store_model {
	uint8_t elem_idx;
	bool vendor;
	uint32_t id; /* SIG: 16-bit model ID; vendor: CID << 16 | model ID */
};

/*
 * Replace the parsed elements and models (from page 0).  n_el must equal
 * the node's element count, and no model may appear twice in one element
 * (-EINVAL otherwise).  Models present before and
 * after keep their bindings, publications and subscriptions.
 */
int store_comp_set(struct store *s, uint16_t addr, const struct store_element *el, size_t n_el,
		   const struct store_model *models, size_t n_models);
/* Returns new arrays (free with free()), elements by index, models by element then id. */
int store_comp_elements(struct store *s, uint16_t addr, struct store_element **el, size_t *n);
int store_comp_models(struct store *s, uint16_t addr, struct store_model **models, size_t *n);

/* A model instance is named by its element address plus (vendor, id). */
int store_model_bind(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id,
		     uint16_t app_idx);
int store_model_unbind(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id,
		       uint16_t app_idx);

struct store_binding {
	uint16_t elem_addr;
	bool vendor;
	uint32_t id;
	uint16_t app_idx;
};
/* Every binding of a node's models; returns a new array, free with free(). */
int store_node_bindings(struct store *s, uint16_t addr, struct store_binding **out, size_t *n);

/* Model Publication state (§4.2.3). */
struct store_pub {
	uint16_t addr; /* publish address; 0 = publication disabled */
	bool has_label;
	uint8_t label[16]; /* Label UUID when addr is virtual */
	uint16_t app_idx;
	bool cred; /* Friendship credentials flag */
	uint8_t ttl;
	uint8_t period;     /* raw Publish Period octet: steps | resolution << 6 */
	uint8_t retransmit; /* raw: count | interval steps << 3 */
};

/* Set (or with pub->addr == 0, clear) a model's publication. */
int store_pub_set(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id,
		  const struct store_pub *pub);
/* -ENOENT when the model has no publication. */
int store_pub_get(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id,
		  struct store_pub *out);

int store_sub_add(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id, uint16_t group);
int store_sub_del(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id, uint16_t group);
int store_sub_clear(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id);
/* Ascending; returns a new array, free with free(). */
int store_sub_list(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id, uint16_t **out,
		   size_t *n);

/* --- Address allocation ------------------------------------------------- */

/*
 * The lowest free range of count consecutive unicast addresses inside the
 * provisioner's unicast range, skipping the provisioner's own elements,
 * active nodes, excluded ranges and reservations.  A query only: nothing is
 * reserved.  -ENOSPC when no range is free, -EINVAL for count 0.
 */
int store_addr_alloc(struct store *s, uint8_t count, uint16_t *addr);
/*
 * Allocate as above and reserve the range for a provisioning session.
 * store_node_add() at that address consumes the reservation; on failure the
 * gateway calls store_addr_release().  Reservations survive a restart.
 */
int store_addr_reserve(struct store *s, uint8_t count, uint16_t *addr);
/* Release a reservation; -ENOENT if there is none at addr. */
int store_addr_release(struct store *s, uint16_t addr);
/*
 * At start-up: reservations that no unfinished job target holds
 * (store_job.h: a pending or active target's addr) were left by an
 * interrupted procedure that may have reached a device in Provisioning
 * Data, so they move to the exclusion list instead of being freed.  Those
 * a target holds stay: the job resolves them.  *n (may be NULL) = ranges
 * moved.
 */
int store_addr_reservations_recover(struct store *s, size_t *n);

/* Put count addresses starting at addr on the exclusion list at the current IV Index. */
int store_addr_exclude(struct store *s, uint16_t addr, uint8_t count);

struct store_addr_exclusion {
	uint16_t addr;
	uint8_t count;
	uint32_t iv_index; /* network IV Index when excluded */
};
/* Returns a new array by address; free with free(). */
int store_addr_exclusions(struct store *s, struct store_addr_exclusion **out, size_t *n);
/*
 * Drop exclusions that may be reused at IV Index iv_index.  Rule: an entry
 * recorded at IV Index E is dropped when iv_index >= E + 2.  One change is
 * not enough: during IV Update in Progress at E + 1 nodes still transmit
 * with E (§3.10.5), and a new node starting at sequence 0 under E would be
 * rejected by (or be replayable against) replay protection lists that still
 * remember the old owner's sequence numbers (§3.8.8).  *n (may be NULL) =
 * entries dropped.
 */
int store_addr_exclusions_purge(struct store *s, uint32_t iv_index, size_t *n);

/* --- Scan results -------------------------------------------------------- */

struct store_scan {
	uint8_t uuid[STORE_UUID_LEN];
	uint16_t oob; /* OOB Information (§3.9.2 Unprovisioned Device beacon) */
	bool has_uri_hash;
	uint8_t uri_hash[4];
	int8_t rssi;
	uint64_t first_ms; /* read only: kept from the first sighting */
	uint64_t last_ms;  /* time of this sighting */
	uint16_t via;      /* 0 = local scan, else the Remote Provisioning Server's address */
};

/* Record a sighting (keyed by uuid + via): first_ms kept, the rest updated.  Not audited. */
int store_scan_put(struct store *s, const struct store_scan *rec);
/* Sightings with last_ms >= since_ms, most recent first; free with free(). */
int store_scan_list(struct store *s, uint64_t since_ms, struct store_scan **out, size_t *n);
/* Forget every sighting (a new scan starts). */
int store_scan_clear(struct store *s);

/* --- Long-running operations ------------------------------------------- */

enum store_op_state {
	STORE_OP_PENDING = 0,
	STORE_OP_RUNNING = 1,
	STORE_OP_SUCCEEDED = 2,
	STORE_OP_FAILED = 3,
	STORE_OP_CANCELLED = 4,
};

struct store_op {
	uint64_t id;
	char type[STORE_NAME_MAX]; /* e.g. "provision", "configure" */
	enum store_op_state state;
	uint8_t progress; /* percent */
	char *result;     /* JSON text or NULL; owned, see store_op_clear() */
	char error[256];  /* empty when none */
	uint64_t created_ms;
	uint64_t updated_ms;
};

/* Create a PENDING operation; *id is its new id. */
int store_op_create(struct store *s, const char *type, uint64_t *id);
/* Progress of a PENDING/RUNNING operation (not audited); -EALREADY when finished. */
int store_op_progress(struct store *s, uint64_t id, enum store_op_state st, uint8_t progress);
/*
 * Finish: state SUCCEEDED, FAILED or CANCELLED; result_json (may be NULL)
 * must be valid JSON (-EINVAL), error may be NULL.  -EALREADY when finished.
 */
int store_op_finish(struct store *s, uint64_t id, enum store_op_state st, const char *result_json,
		    const char *error);
/* Fill *out; out->result is a new string: release with store_op_clear(). */
int store_op_get(struct store *s, uint64_t id, struct store_op *out);
/* Free the strings inside *op (not op itself).  NULL ok. */
void store_op_clear(struct store_op *op);
/*
 * At start-up: PENDING/RUNNING operations become FAILED ("interrupted by
 * restart"), except those an unfinished job carries (store_job.h: the
 * job's params hold {"op": id}); that job finishes them.
 */
int store_op_abandon_unfinished(struct store *s, size_t *n);
/* Delete finished operations last updated before before_ms. */
int store_op_purge(struct store *s, uint64_t before_ms, size_t *n);

/* --- Audit log ----------------------------------------------------------- */

struct store_audit {
	uint64_t id;
	uint64_t at_ms;
	char who[STORE_NAME_MAX];
	char what[STORE_NAME_MAX];   /* verb, e.g. "node.remove" */
	char target[STORE_NAME_MAX]; /* object, e.g. "node 0x0005" */
};

/* Entries with id > after_id, oldest first, at most limit (0 = all); free with free(). */
int store_audit_list(struct store *s, uint64_t after_id, size_t limit, struct store_audit **out,
		     size_t *n);

/* --- API tokens ---------------------------------------------------------- */

enum store_role {
	STORE_ROLE_VIEWER = 0,
	STORE_ROLE_OPERATOR = 1,
	STORE_ROLE_ADMIN = 2,
};

struct store_token {
	uint64_t id;
	char name[STORE_NAME_MAX];
	enum store_role role;
	uint8_t hash[STORE_TOKEN_HASH_LEN]; /* SHA-256 of the token text */
	uint64_t created_ms;
	bool revoked;
	uint64_t revoked_ms;
};

/* SHA-256 of a token's text, as stored (the token itself is never stored). */
int store_token_hash(const char *token, uint8_t hash[STORE_TOKEN_HASH_LEN]);
/* Add a token by name (unique, -EEXIST) and hash (unique, -EEXIST). */
int store_token_add(struct store *s, const char *name, enum store_role role,
		    const uint8_t hash[STORE_TOKEN_HASH_LEN]);
/* Find a token by hash, revoked or not (the caller checks out->revoked); -ENOENT. */
int store_token_find(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN],
		     struct store_token *out);
/* Revoke by name; -ENOENT, -EALREADY. */
int store_token_revoke(struct store *s, const char *name);
/* All tokens by id; returns a new array, free with free(). */
int store_token_list(struct store *s, struct store_token **out, size_t *n);

/* --- Backup and restore (store_backup.c) ------------------------------------ */

/*
 * Copy the database at db_path to dest with SQLite's online backup API, from a
 * read-only connection beside a running daemon (WAL: the writer goes on; the
 * copy is one read transaction, so it is a consistent snapshot).  The copy is
 * written to a temporary file 0600 beside dest (it holds sealed keys and token
 * hashes), switched to rollback-journal mode so that it is one self-contained
 * file, checked with PRAGMA integrity_check, synced, then renamed over dest.
 * On failure nothing is left at dest, and why (if not NULL) says what failed.
 *   -ENOENT  no database at db_path     -EUCLEAN  the copy fails its check
 *   -EIO     SQLite error               other     errno of the file operations
 */
int store_backup(const char *db_path, const char *dest, char *why, size_t why_cap);

/*
 * Replace the database at db_path by the backup src, refusing when:
 *   -EBUSY         a store is open on db_path (a running daemon): stop it first
 *   -EUCLEAN       src fails PRAGMA integrity_check
 *   -EINVAL        src is not a meshgw inventory (no schema version, no network)
 *   -EPROTO        src was written by a newer meshgw
 *   -ENOKEY / -EKEYREJECTED  master_key_path cannot open src's sealed keys
 * src is copied (backup API) to a temporary file 0600 beside db_path and opened
 * there with store_open() (schema migrated, master key checked) before anything
 * is replaced.  The replaced database, if there was one, is renamed to
 * aside = "<db_path>.replaced-<UTC time>" (its -wal too, which may hold
 * committed transactions of an unclean stop); aside is "" when there was none.
 * The new file takes db_path's name by rename(2): never a half-written file.
 */
int store_restore(const char *db_path, const char *master_key_path, const char *src, char *aside,
		  size_t aside_cap, char *why, size_t why_cap);

#endif /* STORAGE_STORE_H */
