/*
 * Schema steps.  Never edit a released step: add a new one at the end.
 *
 * Conventions: times are milliseconds since the Unix epoch; addresses and
 * key indexes are integers; sealed keys are BLOBs of IV || ciphertext || tag
 * (store_master.c); a node's rows refer to it by its row id, so a Node
 * Address Refresh only touches the node and its element rows.
 */
#include "storage/store_schema.h"

static const char v1[] =
    "CREATE TABLE network ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " uuid BLOB NOT NULL CHECK (length(uuid) = 16),"
    " iv_index INTEGER NOT NULL,"
    " iv_update INTEGER NOT NULL,"
    " unicast INTEGER NOT NULL,"
    " elements INTEGER NOT NULL,"
    " uni_low INTEGER NOT NULL, uni_high INTEGER NOT NULL,"
    " grp_low INTEGER NOT NULL, grp_high INTEGER NOT NULL,"
    " seq_limit INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"

    "CREATE TABLE netkeys ("
    " idx INTEGER PRIMARY KEY,"
    " key BLOB NOT NULL, old_key BLOB,"
    " phase INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"

    "CREATE TABLE appkeys ("
    " idx INTEGER PRIMARY KEY,"
    " net_idx INTEGER NOT NULL REFERENCES netkeys(idx),"
    " key BLOB NOT NULL, old_key BLOB,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE INDEX appkeys_net ON appkeys(net_idx);"

    /* Removed nodes stay as excluded rows, so UUID and address are unique only among active ones.
     */
    "CREATE TABLE nodes ("
    " id INTEGER PRIMARY KEY,"
    " uuid BLOB NOT NULL CHECK (length(uuid) = 16),"
    " unicast INTEGER NOT NULL,"
    " elements INTEGER NOT NULL CHECK (elements BETWEEN 1 AND 255),"
    " dev_key BLOB NOT NULL,"
    " features INTEGER NOT NULL DEFAULT 0,"
    " cid INTEGER NOT NULL DEFAULT 0, pid INTEGER NOT NULL DEFAULT 0,"
    " vid INTEGER NOT NULL DEFAULT 0, crpl INTEGER NOT NULL DEFAULT 0,"
    " name TEXT NOT NULL DEFAULT '',"
    " cfg_state INTEGER NOT NULL DEFAULT 0,"
    " excluded INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX nodes_active_uuid ON nodes(uuid) WHERE excluded = 0;"
    "CREATE UNIQUE INDEX nodes_active_unicast ON nodes(unicast) WHERE excluded = 0;"
    "CREATE INDEX nodes_order ON nodes(unicast, id);"

    "CREATE TABLE node_netkeys ("
    " node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,"
    " net_idx INTEGER NOT NULL REFERENCES netkeys(idx),"
    " PRIMARY KEY (node_id, net_idx)) WITHOUT ROWID;"
    "CREATE INDEX node_netkeys_idx ON node_netkeys(net_idx);"
    "CREATE TABLE node_appkeys ("
    " node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,"
    " app_idx INTEGER NOT NULL REFERENCES appkeys(idx) ON DELETE CASCADE,"
    " PRIMARY KEY (node_id, app_idx)) WITHOUT ROWID;"
    "CREATE INDEX node_appkeys_idx ON node_appkeys(app_idx);"

    "CREATE TABLE comp_pages ("
    " node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,"
    " page INTEGER NOT NULL,"
    " data BLOB NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY (node_id, page)) WITHOUT ROWID;"

    "CREATE TABLE elements ("
    " id INTEGER PRIMARY KEY,"
    " node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " addr INTEGER NOT NULL UNIQUE,"
    " loc INTEGER NOT NULL,"
    " UNIQUE (node_id, idx));"
    "CREATE TABLE models ("
    " id INTEGER PRIMARY KEY,"
    " element_id INTEGER NOT NULL REFERENCES elements(id) ON DELETE CASCADE,"
    " vendor INTEGER NOT NULL,"
    " model_id INTEGER NOT NULL,"
    " UNIQUE (element_id, vendor, model_id));"
    "CREATE TABLE bindings ("
    " model INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
    " app_idx INTEGER NOT NULL REFERENCES appkeys(idx) ON DELETE CASCADE,"
    " PRIMARY KEY (model, app_idx)) WITHOUT ROWID;"
    "CREATE INDEX bindings_app ON bindings(app_idx);"
    "CREATE TABLE publications ("
    " model INTEGER PRIMARY KEY REFERENCES models(id) ON DELETE CASCADE,"
    " addr INTEGER NOT NULL, label BLOB, app_idx INTEGER NOT NULL,"
    " cred INTEGER NOT NULL, ttl INTEGER NOT NULL,"
    " period INTEGER NOT NULL, retransmit INTEGER NOT NULL);"
    "CREATE TABLE subscriptions ("
    " model INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
    " addr INTEGER NOT NULL,"
    " PRIMARY KEY (model, addr)) WITHOUT ROWID;"

    "CREATE TABLE addr_exclusions ("
    " id INTEGER PRIMARY KEY,"
    " addr INTEGER NOT NULL, count INTEGER NOT NULL,"
    " iv_index INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE addr_reservations ("
    " addr INTEGER PRIMARY KEY, count INTEGER NOT NULL, created_ms INTEGER NOT NULL);"

    "CREATE TABLE scan_results ("
    " uuid BLOB NOT NULL, via INTEGER NOT NULL,"
    " oob INTEGER NOT NULL, uri_hash BLOB, rssi INTEGER NOT NULL,"
    " first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,"
    " PRIMARY KEY (uuid, via)) WITHOUT ROWID;"

    "CREATE TABLE operations ("
    " id INTEGER PRIMARY KEY,"
    " type TEXT NOT NULL, state INTEGER NOT NULL, progress INTEGER NOT NULL,"
    " result TEXT, error TEXT,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"

    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY,"
    " at_ms INTEGER NOT NULL, who TEXT NOT NULL, what TEXT NOT NULL, target TEXT NOT NULL);";

/* Device Key Refresh needs a second DevKey per node; the REST API needs tokens. */
static const char v2[] = "ALTER TABLE nodes ADD COLUMN cand_key BLOB;"
			 "CREATE TABLE tokens ("
			 " id INTEGER PRIMARY KEY,"
			 " name TEXT NOT NULL UNIQUE,"
			 " role INTEGER NOT NULL,"
			 " hash BLOB NOT NULL UNIQUE,"
			 " created_ms INTEGER NOT NULL,"
			 " revoked_ms INTEGER);";

/*
 * Mesh Configuration Database (CDB) hand-over: what a CDB document holds
 * that the inventory had no place for, so that an imported network exports
 * again without losing it.  The gateway's own provisioner UUID is made once
 * per network row (a trigger, since ALTER TABLE cannot add a random default).
 */
static const char v3[] =
    "ALTER TABLE network ADD COLUMN name TEXT NOT NULL DEFAULT 'meshgw';"
    "ALTER TABLE network ADD COLUMN prov_uuid BLOB;"
    "UPDATE network SET prov_uuid = randomblob(16);"
    "CREATE TRIGGER network_prov_uuid AFTER INSERT ON network WHEN NEW.prov_uuid IS NULL"
    " BEGIN UPDATE network SET prov_uuid = randomblob(16) WHERE id = NEW.id; END;"
    "ALTER TABLE netkeys ADD COLUMN name TEXT;"
    "ALTER TABLE netkeys ADD COLUMN min_secure INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE appkeys ADD COLUMN name TEXT;"
    "ALTER TABLE elements ADD COLUMN name TEXT;"
    /* Per-node states the gateway does not read itself; NULL = unknown. */
    "CREATE TABLE node_cdb ("
    " node_id INTEGER PRIMARY KEY REFERENCES nodes(id) ON DELETE CASCADE,"
    " secure INTEGER NOT NULL DEFAULT 0, comp_known INTEGER NOT NULL DEFAULT 0,"
    " feat_relay INTEGER, feat_proxy INTEGER, feat_friend INTEGER, feat_lpn INTEGER,"
    " beacon INTEGER, default_ttl INTEGER,"
    " net_tx_count INTEGER, net_tx_interval INTEGER,"
    " relay_count INTEGER, relay_interval INTEGER,"
    " hb_pub_dst INTEGER, hb_pub_period INTEGER, hb_pub_ttl INTEGER, hb_pub_idx INTEGER,"
    " hb_pub_features INTEGER, hb_sub_src INTEGER, hb_sub_dst INTEGER);"
    /* Other provisioners of the network and their allocated ranges (kind 0 unicast,
     * 1 group, 2 scene). */
    "CREATE TABLE cdb_provisioners ("
    " id INTEGER PRIMARY KEY, uuid BLOB NOT NULL UNIQUE, name TEXT NOT NULL,"
    " addr INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE cdb_ranges ("
    " prov_id INTEGER NOT NULL REFERENCES cdb_provisioners(id) ON DELETE CASCADE,"
    " kind INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL);"
    "CREATE TABLE cdb_groups ("
    " id INTEGER PRIMARY KEY, addr INTEGER NOT NULL, label BLOB, name TEXT NOT NULL,"
    " parent INTEGER NOT NULL, parent_label BLOB);"
    "CREATE TABLE cdb_scenes ("
    " number INTEGER PRIMARY KEY, name TEXT NOT NULL, addrs BLOB NOT NULL);";

/*
 * Persistent jobs (store_job.h).  Job ids are AUTOINCREMENT so that a purged
 * job's id is never handed out again: clients keep ids from the REST API,
 * and a sealed secret names its job id.  A 32-octet secret is two sealed
 * 16-octet halves (sealed2 holds the second).  The partial indexes are what
 * the engine asks at start-up (unfinished jobs) and on every scheduling pass
 * (targets of a job by state), and what purge scans.
 */
static const char v4[] =
    "CREATE TABLE jobs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL, state INTEGER NOT NULL, params TEXT NOT NULL,"
    " created_by TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " finished_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX jobs_unfinished ON jobs(id) WHERE state IN (0, 1);"
    "CREATE INDEX jobs_finished ON jobs(finished_ms) WHERE state IN (2, 3);"
    "CREATE TABLE job_targets ("
    " job INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " uuid BLOB CHECK (uuid IS NULL OR length(uuid) = 16),"
    " node INTEGER NOT NULL, name TEXT NOT NULL,"
    " state INTEGER NOT NULL, step INTEGER NOT NULL, attempts INTEGER NOT NULL,"
    " next_ms INTEGER NOT NULL, addr INTEGER NOT NULL, elements INTEGER NOT NULL,"
    " via INTEGER NOT NULL, params TEXT NOT NULL, result TEXT,"
    " error TEXT NOT NULL DEFAULT '',"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY (job, idx)) WITHOUT ROWID;"
    "CREATE INDEX job_targets_state ON job_targets(job, state);"
    "CREATE TABLE job_secrets ("
    " job INTEGER NOT NULL, idx INTEGER NOT NULL, slot INTEGER NOT NULL,"
    " len INTEGER NOT NULL CHECK (len IN (16, 32)),"
    " sealed BLOB NOT NULL, sealed2 BLOB,"
    " PRIMARY KEY (job, idx, slot),"
    " FOREIGN KEY (job, idx) REFERENCES job_targets(job, idx) ON DELETE CASCADE)"
    " WITHOUT ROWID;";

/*
 * Commissioning manifests (store_manifest.h).  A row's fields are a JSON text
 * without secrets; its one secret (static OOB value or OOB public key) is
 * sealed in 16-octet units laid end to end in `sealed`.
 */
static const char v5[] = "CREATE TABLE manifests ("
			 " id INTEGER PRIMARY KEY AUTOINCREMENT,"
			 " format TEXT NOT NULL, rows INTEGER NOT NULL,"
			 " created_by TEXT NOT NULL,"
			 " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
			 "CREATE TABLE manifest_rows ("
			 " manifest INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,"
			 " idx INTEGER NOT NULL,"
			 " uuid BLOB NOT NULL CHECK (length(uuid) = 16),"
			 " data TEXT NOT NULL,"
			 " secret_len INTEGER NOT NULL CHECK (secret_len IN (0, 16, 32, 64)),"
			 " sealed BLOB,"
			 " PRIMARY KEY (manifest, idx)) WITHOUT ROWID;"
			 "CREATE UNIQUE INDEX manifest_rows_uuid ON manifest_rows(manifest, uuid);";

/*
 * Step 6: the device certificate a node was provisioned with (certificate-
 * based provisioning, Mesh Protocol v1.1 §5.4.2.1): the DER as the device
 * sent it, and what it says for the operator (subject and issuer in RFC 2253
 * text, validity in seconds since the epoch, SHA-256 fingerprint).  It goes
 * with the node row; removing a node deletes it with the node's other keys.
 */
static const char v6[] = "CREATE TABLE node_certs ("
			 " node_id INTEGER PRIMARY KEY REFERENCES nodes(id) ON DELETE CASCADE,"
			 " der BLOB NOT NULL CHECK (length(der) BETWEEN 1 AND 65535),"
			 " subject TEXT NOT NULL, issuer TEXT NOT NULL,"
			 " not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,"
			 " sha256 BLOB NOT NULL CHECK (length(sha256) = 32));";

/*
 * Step 7: zones (store_zone.h).  A zone's group address is unique; a node
 * has at most one membership row, naming the zone it is in or being moved
 * to (NULL: leaving its zone), whether that move is still pending, and the
 * group it was last confirmed in (the subscription a retry deletes).
 */
static const char v7[] = "CREATE TABLE zones ("
			 " id INTEGER PRIMARY KEY AUTOINCREMENT,"
			 " name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),"
			 " grp INTEGER NOT NULL UNIQUE CHECK (grp BETWEEN 49152 AND 65279),"
			 " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
			 "CREATE TABLE zone_members ("
			 " node_id INTEGER PRIMARY KEY REFERENCES nodes(id) ON DELETE CASCADE,"
			 " zone INTEGER REFERENCES zones(id),"
			 " pending INTEGER NOT NULL,"
			 " prev_grp INTEGER NOT NULL DEFAULT 0,"
			 " updated_ms INTEGER NOT NULL);"
			 "CREATE INDEX zone_members_zone ON zone_members(zone);";

/*
 * Step 8: the fingerprint of a node's DevKey (s1 of the key, first 4 octets
 * as hex; mesh_crypto_key_fingerprint()), kept beside the sealed key so that
 * showing a node needs no unsealing.  NULL until filled: the gateway fills
 * the rows of older versions when it opens the store (store_set_keyprint()).
 */
static const char v8[] = "ALTER TABLE nodes ADD COLUMN devkey_fp TEXT"
			 " CHECK (devkey_fp IS NULL OR length(devkey_fp) = 8);";

/*
 * Step 9: a node is looked up by address as the newest row, the active one first
 * (store_node_get(), the composition reads: ORDER BY excluded, id DESC LIMIT 1).  With only
 * nodes_order (unicast, id) SQLite sorted the address's rows in a temporary B-tree for every
 * GET of a node (about a sixth of its instructions under callgrind); this index hands them
 * over in that order.
 */
static const char v9[] = "CREATE INDEX nodes_lookup ON nodes(unicast, excluded, id DESC);";

const struct store_migration store_migrations[] = {
    {"schema 1: network, keys, nodes, composition, addresses, scans, operations, audit", v1},
    {"schema 2: candidate DevKey, API tokens", v2},
    {"schema 3: Mesh Configuration Database hand-over", v3},
    {"schema 4: persistent jobs", v4},
    {"schema 5: commissioning manifests", v5},
    {"schema 6: device certificates of nodes", v6},
    {"schema 7: zones", v7},
    {"schema 8: DevKey fingerprints of nodes", v8},
    {"schema 9: index for a node's lookup by address", v9},
};
const size_t store_migrations_count = sizeof(store_migrations) / sizeof(store_migrations[0]);
