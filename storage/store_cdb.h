/*
 * The inventory as a Mesh Configuration Database (Mesh CDB 1.0.1): the
 * records a CDB document is made of, the export's read of the whole
 * inventory into them, and the transactional import.
 *
 * The records are plain C (no JSON): gateway/cdb.c turns them into the
 * document and back.  A document is owned by its caller and released with
 * store_cdb_free(), which wipes the keys it holds.
 *
 * Errors as in store.h; the import adds a sentence in its err buffer that
 * names the member of the document it is about ("/nodes/2: ...").
 */
#ifndef STORAGE_STORE_CDB_H
#define STORAGE_STORE_CDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define STORE_CDB_RANGES_MAX 16 /* ranges of one kind per provisioner */

struct store_cdb_range {
	uint16_t lo, hi; /* inclusive */
};

struct store_cdb_prov {
	uint8_t uuid[STORE_UUID_LEN];
	char name[STORE_NAME_MAX];
	uint16_t addr; /* its own primary address when known, else 0 */
	struct store_cdb_range uni[STORE_CDB_RANGES_MAX];
	struct store_cdb_range grp[STORE_CDB_RANGES_MAX];
	struct store_cdb_range scene[STORE_CDB_RANGES_MAX];
	size_t n_uni, n_grp, n_scene;
};

struct store_cdb_netkey {
	uint16_t idx;
	char name[STORE_NAME_MAX];
	uint8_t key[STORE_KEY_LEN];
	bool has_old;
	uint8_t old_key[STORE_KEY_LEN];
	uint8_t phase; /* 0, 1, 2 */
	bool min_secure;
	uint64_t ts_ms; /* export: last change */
};

struct store_cdb_appkey {
	uint16_t idx;
	uint16_t net_idx;
	char name[STORE_NAME_MAX];
	uint8_t key[STORE_KEY_LEN];
	bool has_old;
	uint8_t old_key[STORE_KEY_LEN];
};

struct store_cdb_model {
	bool vendor;
	uint32_t id; /* as struct store_model */
	uint16_t *bind;
	size_t n_bind;
	uint16_t *sub; /* group or unicast addresses */
	size_t n_sub;
	bool has_pub;
	struct store_pub pub;
};

struct store_cdb_element {
	uint8_t idx;
	uint16_t loc;
	char name[STORE_NAME_MAX]; /* empty: none */
	struct store_cdb_model *models;
	size_t n_models;
};

enum store_cdb_feat {
	STORE_CDB_FEAT_RELAY,
	STORE_CDB_FEAT_PROXY,
	STORE_CDB_FEAT_FRIEND,
	STORE_CDB_FEAT_LPN,
	STORE_CDB_FEAT_COUNT
};

struct store_cdb_node {
	uint8_t uuid[STORE_UUID_LEN];
	uint16_t unicast;
	bool has_devkey; /* false in a partial export */
	uint8_t devkey[STORE_KEY_LEN];
	char name[STORE_NAME_MAX];
	bool secure;
	bool config_complete;
	bool excluded;
	bool has_comp; /* cid, pid, vid, crpl known */
	uint16_t cid, pid, vid, crpl;
	int8_t feat[STORE_CDB_FEAT_COUNT]; /* 0 off, 1 on, 2 unsupported, -1 unknown */
	int8_t beacon;                     /* -1 unknown */
	int16_t default_ttl;               /* -1 unknown */
	int8_t net_tx_count;               /* transmissions 1..8, -1 unknown */
	uint16_t net_tx_interval;          /* ms */
	int8_t relay_count;                /* -1 unknown */
	uint16_t relay_interval;
	bool has_hb_pub;
	uint16_t hb_pub_dst;
	uint32_t hb_pub_period; /* seconds */
	uint8_t hb_pub_ttl;
	uint16_t hb_pub_idx;
	uint16_t hb_pub_features; /* bit 0 relay, 1 proxy, 2 friend, 3 low power */
	bool has_hb_sub;
	uint16_t hb_sub_src, hb_sub_dst;
	uint16_t *netkeys;
	size_t n_netkeys;
	uint16_t *appkeys;
	size_t n_appkeys;
	struct store_cdb_element *el;
	size_t n_el;
};

struct store_cdb_group {
	char name[STORE_NAME_MAX];
	uint16_t addr; /* the virtual address when has_label */
	bool has_label;
	uint8_t label[16];
	uint16_t parent; /* 0 = none */
	bool parent_has_label;
	uint8_t parent_label[16];
};

struct store_cdb_scene {
	char name[STORE_NAME_MAX];
	uint16_t number;
	uint16_t *addrs;
	size_t n_addrs;
};

/* One excluded address (networkExclusions lists them per IV Index). */
struct store_cdb_excl {
	uint32_t iv_index;
	uint16_t addr;
};

struct store_cdb {
	int version; /* 100 (1.0.0) or 101 (1.0.1) */
	uint8_t mesh_uuid[STORE_UUID_LEN];
	char mesh_name[STORE_NAME_MAX];
	bool partial;
	bool has_iv; /* import: an IV Index given (BlueZ's "ivIndex"); export: always */
	uint32_t iv_index;
	struct store_cdb_netkey *netkeys;
	size_t n_netkeys;
	struct store_cdb_appkey *appkeys;
	size_t n_appkeys;
	struct store_cdb_prov *provs; /* export: the gateway first */
	size_t n_provs;
	struct store_cdb_node *nodes;
	size_t n_nodes;
	struct store_cdb_group *groups;
	size_t n_groups;
	struct store_cdb_scene *scenes;
	size_t n_scenes;
	struct store_cdb_excl *excl; /* by IV Index, then address */
	size_t n_excl;
};

/* Release everything inside doc and doc itself (keys wiped).  NULL ok. */
void store_cdb_free(struct store_cdb *doc);
/* Mark the node's optional states (features, beacon, TTL, retransmissions) unknown (-1). */
void store_cdb_node_unknown(struct store_cdb_node *n);

/*
 * Export: the whole inventory (active nodes; removed ones appear as
 * exclusions).  with_keys false leaves every key out (a partial export).
 * Returns a new document in *out.
 */
int store_cdb_read(struct store *s, bool with_keys, struct store_cdb **out);

/*
 * What the gateway learns about a node outside its composition, kept for the
 * export (a CDB member is written only when its value is known).  These are
 * observations (a Config Server's status, how the node was provisioned), not
 * configuration changes: not audited.  -ENOENT for no active node at addr.
 */
enum store_cdb_state {
	STORE_CDB_SECURE,      /* v: 1 provisioned with OOB authentication, 0 without */
	STORE_CDB_DEFAULT_TTL, /* v: 0, 2..127 */
	STORE_CDB_BEACON,      /* v: Secure Network Beacon state 0/1 */
	STORE_CDB_NET_TX,      /* v: the Network Transmit octet (count | steps << 3) */
	STORE_CDB_RELAY,       /* v: Relay state 0/1/2 | Relay Retransmit octet << 8 */
	STORE_CDB_PROXY,       /* v: GATT Proxy state 0/1/2 */
	STORE_CDB_FRIEND,      /* v: Friend state 0/1/2 */
};
int store_cdb_node_state_set(struct store *s, uint16_t addr, enum store_cdb_state what, uint32_t v);
/*
 * Heartbeat Publication (pub true) or Subscription from n's hb fields
 * (has_hb_pub/has_hb_sub false clears it).
 */
int store_cdb_node_hb_set(struct store *s, uint16_t addr, bool pub, const struct store_cdb_node *n);

/* Audit a full export (the hand-over package holds every key). */
int store_cdb_audit_export(struct store *s);

enum store_cdb_mode {
	STORE_CDB_TAKEOVER = 0, /* the document's network replaced the fresh one */
	STORE_CDB_MERGE = 1,    /* same meshUUID: the document's nodes were added */
};

struct store_cdb_result {
	enum store_cdb_mode mode;
	size_t nodes_added, nodes_unchanged, nodes_excluded;
	size_t netkeys_added, appkeys_added;
	size_t provisioners_added, groups_added, scenes_added, exclusions_added;
	uint16_t address; /* the gateway's own address afterwards */
	bool address_changed;
	struct store_cdb_range uni, grp; /* the gateway's ranges afterwards */
	uint32_t iv_index;
	bool iv_changed;
	bool adopted; /* the gateway continues as the provisioner named by adopt */
};

/*
 * Import doc (already checked by the codec for shape and internal
 * consistency) in one transaction:
 *   - take-over when the inventory holds no node at all (active or
 *     removed) and its meshUUID differs: the network row, keys and ranges
 *     become the document's;
 *   - merge when the meshUUID is the inventory's: keys present in both
 *     must be equal, new keys and nodes are added, nodes already present
 *     (same UUID, address and DevKey) are left alone.
 * The gateway keeps (or moves to) a unicast range and address that overlap
 * no other provisioner's range, no node and no excluded address.
 * adopt (NULL = none) names a provisioner of the document by UUID whose
 * identity and first unicast and group ranges the gateway takes over
 * (continuing as that provisioner, e.g. a meshgw being replaced); otherwise
 * the document's provisioners are kept as other provisioners and the
 * gateway's range avoids all of theirs.
 * dry_run rolls everything back and still fills *res.
 * Returns 0; -EEXIST (conflict with the inventory, err says which), -EBUSY
 * (provisioning sessions hold address reservations), -EINVAL (a document
 * without keys, or adopt names no provisioner of it), -ENOSPC (no free range left for the gateway),
 * or a store error.
 */
int store_cdb_apply(struct store *s, const struct store_cdb *doc, const uint8_t *adopt,
		    bool dry_run, struct store_cdb_result *res, char *err, size_t err_cap);

#endif /* STORAGE_STORE_CDB_H */
