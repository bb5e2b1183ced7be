/*
 * The inventory as a Mesh Configuration Database (store_cdb.h): the
 * export's read and the import's transactional apply.  The apply is built
 * from the ordinary verbs (store_node_add, store_comp_set, ...) inside one
 * transaction, so every rule they enforce (address overlap, exclusions,
 * key references) holds for imported data too, and one failure anywhere
 * rolls the whole document back.
 */
#include "storage/store_cdb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_int.h"

#define UNI_MIN 0x0001u
#define UNI_MAX 0x7fffu
#define GRP_MIN 0xc000u
#define GRP_MAX 0xfeffu

static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n--) {
		*v++ = 0;
	}
}

void store_cdb_node_unknown(struct store_cdb_node *n)
{
	for (int f = 0; f < STORE_CDB_FEAT_COUNT; f++) {
		n->feat[f] = -1;
	}
	n->beacon = -1;
	n->default_ttl = -1;
	n->net_tx_count = -1;
	n->relay_count = -1;
}

void store_cdb_free(struct store_cdb *doc)
{
	if (!doc) {
		return;
	}
	for (size_t i = 0; i < doc->n_nodes; i++) {
		struct store_cdb_node *n = &doc->nodes[i];

		for (size_t e = 0; e < n->n_el; e++) {
			for (size_t m = 0; m < n->el[e].n_models; m++) {
				free(n->el[e].models[m].bind);
				free(n->el[e].models[m].sub);
			}
			free(n->el[e].models);
		}
		free(n->el);
		free(n->netkeys);
		free(n->appkeys);
	}
	for (size_t i = 0; i < doc->n_scenes; i++) {
		free(doc->scenes[i].addrs);
	}
	if (doc->netkeys) {
		wipe(doc->netkeys, doc->n_netkeys * sizeof(*doc->netkeys));
	}
	if (doc->appkeys) {
		wipe(doc->appkeys, doc->n_appkeys * sizeof(*doc->appkeys));
	}
	if (doc->nodes) {
		wipe(doc->nodes, doc->n_nodes * sizeof(*doc->nodes));
	}
	free(doc->netkeys);
	free(doc->appkeys);
	free(doc->provs);
	free(doc->nodes);
	free(doc->groups);
	free(doc->scenes);
	free(doc->excl);
	free(doc);
}

static int bind_opt(sqlite3_stmt *st, int col, bool known, int v)
{
	return known ? sqlite3_bind_int(st, col, v) : sqlite3_bind_null(st, col);
}

static int node_cdb_row(struct store *s, uint16_t addr, int64_t *id)
{
	sqlite3_stmt *st;
	int rc = store_node_id(s, addr, id);

	if (rc) {
		return rc;
	}
	st = store_q(s, "INSERT OR IGNORE INTO node_cdb (node_id) VALUES (?)");
	if (st) {
		sqlite3_bind_int64(st, 1, *id);
	}
	return store_run(s, st);
}

int store_cdb_node_state_set(struct store *s, uint16_t addr, enum store_cdb_state what, uint32_t v)
{
	/* Counts are transmissions (1..8) and intervals milliseconds, as the profile writes them.
	 */
	static const char *const sql[] = {
	    [STORE_CDB_SECURE] = "UPDATE node_cdb SET secure = ?2 WHERE node_id = ?1",
	    [STORE_CDB_DEFAULT_TTL] = "UPDATE node_cdb SET default_ttl = ?2 WHERE node_id = ?1",
	    [STORE_CDB_BEACON] = "UPDATE node_cdb SET beacon = ?2 WHERE node_id = ?1",
	    [STORE_CDB_NET_TX] = "UPDATE node_cdb SET net_tx_count = (?2 & 7) + 1,"
				 " net_tx_interval = ((?2 >> 3) + 1) * 10 WHERE node_id = ?1",
	    [STORE_CDB_RELAY] =
		"UPDATE node_cdb SET feat_relay = ?2 & 255,"
		" relay_count = CASE WHEN ?2 & 255 = 2 THEN NULL ELSE (?2 >> 8 & 7) + 1 END,"
		" relay_interval = CASE WHEN ?2 & 255 = 2 THEN NULL"
		" ELSE ((?2 >> 11) + 1) * 10 END WHERE node_id = ?1",
	    [STORE_CDB_PROXY] = "UPDATE node_cdb SET feat_proxy = ?2 WHERE node_id = ?1",
	    [STORE_CDB_FRIEND] = "UPDATE node_cdb SET feat_friend = ?2 WHERE node_id = ?1",
	};
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	if ((unsigned)what >= sizeof(sql) / sizeof(sql[0])) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = node_cdb_row(s, addr, &id);
	if (!rc) {
		st = store_q(s, sql[what]);
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int64(st, 2, v);
		}
		rc = store_run(s, st);
	}
	return store_txn_end(s, rc);
}

int store_cdb_node_hb_set(struct store *s, uint16_t addr, bool pub, const struct store_cdb_node *n)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	if (!n) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = node_cdb_row(s, addr, &id);
	if (!rc && pub) {
		st = store_q(
		    s, "UPDATE node_cdb SET hb_pub_dst = ?2, hb_pub_period = ?3, hb_pub_ttl = ?4,"
		       " hb_pub_idx = ?5, hb_pub_features = ?6 WHERE node_id = ?1");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			bind_opt(st, 2, n->has_hb_pub, n->hb_pub_dst);
			bind_opt(st, 3, n->has_hb_pub, (int)n->hb_pub_period);
			bind_opt(st, 4, n->has_hb_pub, n->hb_pub_ttl);
			bind_opt(st, 5, n->has_hb_pub, n->hb_pub_idx);
			bind_opt(st, 6, n->has_hb_pub, n->hb_pub_features);
		}
		rc = store_run(s, st);
	} else if (!rc) {
		st = store_q(
		    s, "UPDATE node_cdb SET hb_sub_src = ?2, hb_sub_dst = ?3 WHERE node_id = ?1");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			bind_opt(st, 2, n->has_hb_sub, n->hb_sub_src);
			bind_opt(st, 3, n->has_hb_sub, n->hb_sub_dst);
		}
		rc = store_run(s, st);
	}
	return store_txn_end(s, rc);
}

int store_cdb_audit_export(struct store *s)
{
	int rc = store_txn_begin(s);

	if (rc) {
		return rc;
	}
	return store_txn_end(s, store_audit(s, "cdb.export", "network with keys"));
}

/* --- Import: the gateway's ranges ------------------------------------------ */

struct occ {
	struct store_cdb_range *r;
	size_t n, cap;
};

static int occ_add(struct occ *o, uint32_t lo, uint32_t hi)
{
	if (hi < lo) {
		return 0;
	}
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		struct store_cdb_range *r = realloc(o->r, cap * sizeof(*r));

		if (!r) {
			return -ENOMEM;
		}
		o->r = r;
		o->cap = cap;
	}
	o->r[o->n++] =
	    (struct store_cdb_range){(uint16_t)lo, (uint16_t)(hi > 0xffff ? 0xffff : hi)};
	return 0;
}

static bool occ_hits(const struct occ *o, uint32_t lo, uint32_t hi)
{
	for (size_t i = 0; i < o->n; i++) {
		if (o->r[i].lo <= hi && o->r[i].hi >= lo) {
			return true;
		}
	}
	return false;
}

static int cmp_range(const void *a, const void *b)
{
	const struct store_cdb_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* The largest interval of [lo, hi] that no occupied interval touches; -ENOSPC if none. */
static int occ_gap(struct occ *o, uint32_t lo, uint32_t hi, struct store_cdb_range *out)
{
	uint32_t cand = lo, best_lo = 0, best_len = 0;

	if (o->n) {
		qsort(o->r, o->n, sizeof(*o->r), cmp_range);
	}
	for (size_t i = 0; i <= o->n; i++) {
		uint32_t next = i < o->n ? o->r[i].lo : hi + 1;

		if (i < o->n && (o->r[i].hi < lo || o->r[i].lo > hi)) {
			continue;
		}
		if (next > cand && next - cand > best_len) {
			best_lo = cand;
			best_len = next - cand;
		}
		if (i < o->n && (uint32_t)o->r[i].hi + 1 > cand) {
			cand = (uint32_t)o->r[i].hi + 1;
		}
	}
	if (!best_len) {
		return -ENOSPC;
	}
	out->lo = (uint16_t)best_lo;
	out->hi = (uint16_t)(best_lo + best_len - 1);
	return 0;
}

static void say(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!err || !cap) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

static size_t node_elements(const struct store_cdb_node *n)
{
	return n->n_el ? n->n_el : 1;
}

/*
 * The gateway's unicast and group ranges and own address after the import.
 * Other provisioners' ranges (the document's and those stored before) are
 * never overlapped; the own address avoids every node and exclusion.
 */
static int choose_ranges(struct store *s, const struct store_cdb *doc,
			 const struct store_network *net, const uint8_t *self_uuid,
			 const struct store_cdb_prov *adopt, struct store_cdb_result *res,
			 char *err, size_t cap)
{
	struct occ prov_u = {0}, prov_g = {0}, used = {0};
	struct store_cdb_range uni = {net->uni_low, net->uni_high};
	struct store_cdb_range grp = {net->grp_low, net->grp_high};
	sqlite3_stmt *st;
	uint32_t a;
	int rc = 0;

	for (size_t i = 0; !rc && i < doc->n_provs; i++) {
		const struct store_cdb_prov *p = &doc->provs[i];

		if (p == adopt || !memcmp(p->uuid, self_uuid, STORE_UUID_LEN)) {
			continue;
		}
		for (size_t k = 0; !rc && k < p->n_uni; k++) {
			rc = occ_add(&prov_u, p->uni[k].lo, p->uni[k].hi);
		}
		for (size_t k = 0; !rc && k < p->n_grp; k++) {
			rc = occ_add(&prov_g, p->grp[k].lo, p->grp[k].hi);
		}
	}
	st = rc ? NULL
		: store_q(s, "SELECT r.kind, r.lo, r.hi FROM cdb_ranges r JOIN cdb_provisioners p"
			     " ON p.id = r.prov_id WHERE p.uuid != ?1");
	if (st) {
		store_bind_blob(st, 1, adopt ? adopt->uuid : self_uuid, STORE_UUID_LEN);
		while ((rc = store_row(s, st)) == 1) {
			int kind = sqlite3_column_int(st, 0);

			if (kind <= 1) {
				rc = occ_add(kind ? &prov_g : &prov_u,
					     (uint32_t)sqlite3_column_int(st, 1),
					     (uint32_t)sqlite3_column_int(st, 2));
				if (rc) {
					sqlite3_reset(st);
					break;
				}
			}
		}
	}
	/*
	 * Addresses taken by nodes and exclusions, the document's and the inventory's, and
	 * by the other provisioners themselves (also the one adopted: its address carries
	 * its sequence numbers, which a successor starting from zero must not repeat).
	 */
	for (size_t i = 0; !rc && i < doc->n_provs; i++) {
		if (doc->provs[i].addr && memcmp(doc->provs[i].uuid, self_uuid, STORE_UUID_LEN)) {
			rc = occ_add(&used, doc->provs[i].addr, doc->provs[i].addr);
		}
	}
	for (size_t i = 0; !rc && i < doc->n_nodes; i++) {
		rc = occ_add(&used, doc->nodes[i].unicast,
			     doc->nodes[i].unicast + node_elements(&doc->nodes[i]) - 1);
	}
	for (size_t i = 0; !rc && i < doc->n_excl; i++) {
		rc = occ_add(&used, doc->excl[i].addr, doc->excl[i].addr);
	}
	st = rc ? NULL
		: store_q(s, "SELECT unicast, unicast + elements - 1 FROM nodes WHERE excluded = 0"
			     " UNION ALL SELECT addr, addr + count - 1 FROM addr_exclusions"
			     " UNION ALL SELECT addr, addr FROM cdb_provisioners WHERE addr > 0");
	while (st && (rc = store_row(s, st)) == 1) {
		rc = occ_add(&used, (uint32_t)sqlite3_column_int(st, 0),
			     (uint32_t)sqlite3_column_int(st, 1));
		if (rc) {
			sqlite3_reset(st);
			break;
		}
	}
	if (rc) {
		goto out;
	}
	if (adopt) {
		uni = adopt->n_uni ? adopt->uni[0] : uni;
		grp = adopt->n_grp ? adopt->grp[0] : grp;
		res->adopted = true;
	}
	if (occ_hits(&prov_u, uni.lo, uni.hi)) {
		/* Not the whole gap of "used": nodes inside our range are skipped by the allocator.
		 */
		struct occ both = {0};

		for (size_t i = 0; !rc && i < prov_u.n; i++) {
			rc = occ_add(&both, prov_u.r[i].lo, prov_u.r[i].hi);
		}
		if (!rc) {
			rc = occ_gap(&both, UNI_MIN, UNI_MAX, &uni);
		}
		free(both.r);
		if (rc == -ENOSPC) {
			say(err, cap,
			    "no free unicast range for the gateway: the document's provisioners "
			    "allocate every address (import with ?provisioner=UUID to continue as "
			    "one of them)");
		}
		if (rc) {
			goto out;
		}
	}
	if (occ_hits(&prov_g, grp.lo, grp.hi)) {
		rc = occ_gap(&prov_g, GRP_MIN, GRP_MAX, &grp);
		if (rc) {
			say(err, cap, "no free group range for the gateway");
			goto out;
		}
	}
	/* Own address: kept when free and inside the range, else the lowest free one. */
	a = net->unicast;
	if (a < uni.lo || a + net->elements - 1u > uni.hi ||
	    occ_hits(&used, a, a + net->elements - 1u)) {
		for (a = uni.lo; a + net->elements - 1u <= uni.hi; a++) {
			if (!occ_hits(&used, a, a + net->elements - 1u)) {
				break;
			}
		}
		if (a + net->elements - 1u > uni.hi) {
			say(err, cap, "no free address for the gateway in 0x%04x-0x%04x", uni.lo,
			    uni.hi);
			rc = -ENOSPC;
			goto out;
		}
	}
	res->uni = uni;
	res->grp = grp;
	res->address = (uint16_t)a;
	res->address_changed = a != net->unicast;
out:
	free(prov_u.r);
	free(prov_g.r);
	free(used.r);
	return rc;
}

/* --- Import: apply ------------------------------------------------------------ */

static int net_row_set(struct store *s, const struct store_cdb *doc,
		       const struct store_cdb_result *res, bool takeover,
		       const struct store_cdb_prov *adopt)
{
	sqlite3_stmt *st;
	int rc;

	st =
	    store_q(s, "UPDATE network SET unicast = ?1, uni_low = ?2, uni_high = ?3, grp_low = ?4,"
		       " grp_high = ?5, updated_ms = ?6 WHERE id = 1");
	if (st) {
		sqlite3_bind_int(st, 1, res->address);
		sqlite3_bind_int(st, 2, res->uni.lo);
		sqlite3_bind_int(st, 3, res->uni.hi);
		sqlite3_bind_int(st, 4, res->grp.lo);
		sqlite3_bind_int(st, 5, res->grp.hi);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)store_now(s));
	}
	rc = store_run(s, st);
	if (!rc && adopt) {
		st = store_q(s, "UPDATE network SET prov_uuid = ? WHERE id = 1");
		if (st) {
			store_bind_blob(st, 1, adopt->uuid, STORE_UUID_LEN);
		}
		rc = store_run(s, st);
	}
	if (!rc && takeover) {
		st = store_q(s, "UPDATE network SET uuid = ?1, name = ?2 WHERE id = 1");
		if (st) {
			store_bind_blob(st, 1, doc->mesh_uuid, STORE_UUID_LEN);
			sqlite3_bind_text(st, 2, doc->mesh_name[0] ? doc->mesh_name : "meshgw", -1,
					  SQLITE_STATIC);
		}
		rc = store_run(s, st);
		if (!rc && res->iv_changed) {
			rc = store_net_iv_set(s, res->iv_index, false, false);
		}
	}
	return rc;
}

/* Take-over: the fresh network's keys and leftovers go. */
static int clear_fresh(struct store *s)
{
	static const char *const sql[] = {
	    "DELETE FROM appkeys",    "DELETE FROM netkeys",    "DELETE FROM cdb_provisioners",
	    "DELETE FROM cdb_groups", "DELETE FROM cdb_scenes", "DELETE FROM addr_exclusions",
	};
	int rc = 0;

	for (size_t i = 0; !rc && i < sizeof(sql) / sizeof(sql[0]); i++) {
		rc = store_run(s, store_q(s, sql[i]));
	}
	return rc;
}

static int netkey_names(struct store *s, uint16_t idx, const char *name, int min_sec)
{
	sqlite3_stmt *st =
	    store_q(s, "UPDATE netkeys SET name = ?2, min_secure = ?3 WHERE idx = ?1");

	if (st) {
		sqlite3_bind_int(st, 1, idx);
		if (name[0]) {
			sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		}
		sqlite3_bind_int(st, 3, min_sec);
	}
	return store_run(s, st);
}

/*
 * After the get of key idx (its result rc, cur what it read): 1 when the
 * inventory holds the same key (same), 0 when it holds none, -EEXIST (err
 * says so) when it holds another, else rc.  Wipes cur.
 */
static int known_key(int rc, bool same, void *cur, size_t size, const char *list, const char *kind,
		     size_t i, uint16_t idx, char *err, size_t cap)
{
	if (rc == -ENOENT) {
		return 0;
	}
	if (rc) {
		return rc;
	}
	wipe(cur, size);
	if (!same) {
		say(err, cap, "/%s/%zu: %s %u differs from the inventory's", list, i, kind, idx);
		return -EEXIST;
	}
	return 1;
}

static int apply_keys(struct store *s, const struct store_cdb *doc, struct store_cdb_result *res,
		      char *err, size_t cap)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < doc->n_netkeys; i++) {
		const struct store_cdb_netkey *k = &doc->netkeys[i];
		struct store_netkey cur;

		rc = store_netkey_get(s, k->idx, &cur);
		rc = known_key(rc,
			       rc == 0 && !memcmp(cur.key, k->key, STORE_KEY_LEN) &&
				   cur.has_old == k->has_old &&
				   (!k->has_old || !memcmp(cur.old_key, k->old_key, STORE_KEY_LEN)),
			       &cur, sizeof(cur), "netKeys", "NetKey", i, k->idx, err, cap);
		if (rc < 0) {
			return rc;
		}
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (k->has_old) {
			rc = store_netkey_add(s, k->idx, k->old_key);
			if (!rc) {
				rc = store_netkey_update(s, k->idx, k->key);
			}
			if (!rc && k->phase == 2) {
				rc = store_netkey_phase_set(s, k->idx, STORE_KR_PHASE2);
			}
		} else {
			rc = store_netkey_add(s, k->idx, k->key);
		}
		if (!rc) {
			rc = netkey_names(s, k->idx, k->name, k->min_secure);
		}
		res->netkeys_added++;
	}
	for (size_t i = 0; !rc && i < doc->n_appkeys; i++) {
		const struct store_cdb_appkey *k = &doc->appkeys[i];
		struct store_appkey cur;

		rc = store_appkey_get(s, k->idx, &cur);
		rc = known_key(rc,
			       rc == 0 && !memcmp(cur.key, k->key, STORE_KEY_LEN) &&
				   cur.net_idx == k->net_idx && cur.has_old == k->has_old,
			       &cur, sizeof(cur), "appKeys", "AppKey", i, k->idx, err, cap);
		if (rc < 0) {
			return rc;
		}
		if (rc == 1) {
			rc = 0;
			continue;
		}
		rc = store_appkey_add(s, k->idx, k->net_idx, k->has_old ? k->old_key : k->key);
		if (!rc && k->has_old) {
			rc = store_appkey_update(s, k->idx, k->key);
		}
		if (!rc && k->name[0]) {
			sqlite3_stmt *st = store_q(s, "UPDATE appkeys SET name = ? WHERE idx = ?");

			if (st) {
				sqlite3_bind_text(st, 1, k->name, -1, SQLITE_STATIC);
				sqlite3_bind_int(st, 2, k->idx);
			}
			rc = store_run(s, st);
		}
		res->appkeys_added++;
	}
	return rc;
}

static int apply_provs(struct store *s, const struct store_cdb *doc, const uint8_t *self_uuid,
		       const struct store_cdb_prov *adopt, struct store_cdb_result *res)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < doc->n_provs; i++) {
		const struct store_cdb_prov *p = &doc->provs[i];
		const struct store_cdb_range *rs[3] = {p->uni, p->grp, p->scene};
		size_t ns[3] = {p->n_uni, p->n_grp, p->n_scene};
		sqlite3_stmt *st;
		int64_t id;

		if (p == adopt || !memcmp(p->uuid, self_uuid, STORE_UUID_LEN)) {
			continue;
		}
		st = store_q(s, "DELETE FROM cdb_provisioners WHERE uuid = ?");
		if (st) {
			store_bind_blob(st, 1, p->uuid, STORE_UUID_LEN);
		}
		rc = store_run(s, st);
		if (!rc && sqlite3_changes(s->db) == 0) {
			res->provisioners_added++;
		}
		st = rc ? NULL
			: store_q(s, "INSERT INTO cdb_provisioners (uuid, name, addr)"
				     " VALUES (?, ?, ?)");
		if (st) {
			store_bind_blob(st, 1, p->uuid, STORE_UUID_LEN);
			sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 3, p->addr);
			rc = store_run(s, st);
		}
		id = sqlite3_last_insert_rowid(s->db);
		for (int kind = 0; !rc && kind < 3; kind++) {
			for (size_t k = 0; !rc && k < ns[kind]; k++) {
				st = store_q(s, "INSERT INTO cdb_ranges (prov_id, kind, lo, hi)"
						" VALUES (?, ?, ?, ?)");
				if (st) {
					sqlite3_bind_int64(st, 1, id);
					sqlite3_bind_int(st, 2, kind);
					sqlite3_bind_int(st, 3, rs[kind][k].lo);
					sqlite3_bind_int(st, 4, rs[kind][k].hi);
				}
				rc = store_run(s, st);
			}
		}
	}
	return rc;
}

static int node_extras(struct store *s, const struct store_cdb_node *n)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc = store_node_id(s, n->unicast, &id);

	if (rc) {
		return rc;
	}
	st =
	    store_q(s, "INSERT INTO node_cdb (node_id, secure, comp_known, feat_relay, feat_proxy,"
		       " feat_friend, feat_lpn, beacon, default_ttl, net_tx_count, net_tx_interval,"
		       " relay_count, relay_interval, hb_pub_dst, hb_pub_period, hb_pub_ttl,"
		       " hb_pub_idx, hb_pub_features, hb_sub_src, hb_sub_dst) VALUES (?, ?, ?, ?,"
		       " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, n->secure);
		sqlite3_bind_int(st, 3, n->has_comp);
		for (int f = 0; f < STORE_CDB_FEAT_COUNT; f++) {
			bind_opt(st, 4 + f, n->feat[f] >= 0, n->feat[f]);
		}
		bind_opt(st, 8, n->beacon >= 0, n->beacon);
		bind_opt(st, 9, n->default_ttl >= 0, n->default_ttl);
		bind_opt(st, 10, n->net_tx_count >= 0, n->net_tx_count);
		bind_opt(st, 11, n->net_tx_count >= 0, n->net_tx_interval);
		bind_opt(st, 12, n->relay_count >= 0, n->relay_count);
		bind_opt(st, 13, n->relay_count >= 0, n->relay_interval);
		bind_opt(st, 14, n->has_hb_pub, n->hb_pub_dst);
		if (n->has_hb_pub) {
			sqlite3_bind_int64(st, 15, n->hb_pub_period);
		}
		bind_opt(st, 16, n->has_hb_pub, n->hb_pub_ttl);
		bind_opt(st, 17, n->has_hb_pub, n->hb_pub_idx);
		bind_opt(st, 18, n->has_hb_pub, n->hb_pub_features);
		bind_opt(st, 19, n->has_hb_sub, n->hb_sub_src);
		bind_opt(st, 20, n->has_hb_sub, n->hb_sub_dst);
	}
	return store_run(s, st);
}

static int node_comp(struct store *s, const struct store_cdb_node *n)
{
	struct store_element *el = calloc(n->n_el, sizeof(*el));
	struct store_model *md;
	size_t n_md = 0, k = 0;
	int rc = 0;

	for (size_t e = 0; e < n->n_el; e++) {
		n_md += n->el[e].n_models;
	}
	md = calloc(n_md ? n_md : 1, sizeof(*md));
	if (!el || !md) {
		free(el);
		free(md);
		return -ENOMEM;
	}
	for (size_t e = 0; e < n->n_el; e++) {
		el[e].idx = n->el[e].idx;
		el[e].loc = n->el[e].loc;
		for (size_t m = 0; m < n->el[e].n_models; m++) {
			md[k].elem_idx = n->el[e].idx;
			md[k].vendor = n->el[e].models[m].vendor;
			md[k].id = n->el[e].models[m].id;
			k++;
		}
	}
	rc = store_comp_set(s, n->unicast, el, n->n_el, md, n_md);
	free(el);
	free(md);
	for (size_t e = 0; !rc && e < n->n_el; e++) {
		const struct store_cdb_element *ce = &n->el[e];
		uint16_t addr = (uint16_t)(n->unicast + ce->idx);
		sqlite3_stmt *st;

		if (ce->name[0]) {
			st = store_q(s, "UPDATE elements SET name = ? WHERE addr = ?");
			if (st) {
				sqlite3_bind_text(st, 1, ce->name, -1, SQLITE_STATIC);
				sqlite3_bind_int(st, 2, addr);
			}
			rc = store_run(s, st);
		}
		for (size_t m = 0; !rc && m < ce->n_models; m++) {
			const struct store_cdb_model *cm = &ce->models[m];

			for (size_t b = 0; !rc && b < cm->n_bind; b++) {
				rc = store_model_bind(s, addr, cm->vendor, cm->id, cm->bind[b]);
			}
			for (size_t b = 0; !rc && b < cm->n_sub; b++) {
				rc = store_sub_add(s, addr, cm->vendor, cm->id, cm->sub[b]);
			}
			if (!rc && cm->has_pub) {
				rc = store_pub_set(s, addr, cm->vendor, cm->id, &cm->pub);
			}
		}
	}
	return rc;
}

static int add_node(struct store *s, const struct store_cdb_node *n)
{
	struct store_node sn = {0};
	int rc;

	memcpy(sn.uuid, n->uuid, STORE_UUID_LEN);
	sn.unicast = n->unicast;
	sn.elements = (uint8_t)node_elements(n);
	snprintf(sn.name, sizeof(sn.name), "%s", n->name);
	sn.cfg_state = n->config_complete ? STORE_CFG_CONFIGURED : STORE_CFG_PROVISIONED;
	rc = store_node_add(s, &sn, n->devkey, n->netkeys[0]);
	for (size_t i = 1; !rc && i < n->n_netkeys; i++) {
		rc = store_node_netkey_add(s, n->unicast, n->netkeys[i]);
	}
	for (size_t i = 0; !rc && i < n->n_appkeys; i++) {
		rc = store_node_appkey_add(s, n->unicast, n->appkeys[i]);
	}
	if (!rc && n->has_comp) {
		uint16_t feat = 0;

		/*
		 * With the composition known, a feature not marked unsupported (2) is
		 * supported: BlueZ writes only the 2s, as the export does for a state it
		 * has not read.
		 */
		for (int f = 0; f < STORE_CDB_FEAT_COUNT; f++) {
			if (n->feat[f] != 2) {
				feat |= (uint16_t)(1u << f);
			}
		}
		rc = store_node_info_set(s, n->unicast, n->cid, n->pid, n->vid, n->crpl, feat);
	}
	if (!rc && n->n_el) {
		rc = node_comp(s, n);
	}
	if (!rc) {
		rc = node_extras(s, n);
	}
	return rc;
}

static int apply_nodes(struct store *s, const struct store_cdb *doc, struct store_cdb_result *res,
		       char *err, size_t cap)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < doc->n_nodes; i++) {
		const struct store_cdb_node *n = &doc->nodes[i];
		struct store_node cur;

		if (n->excluded) {
			/* A removed node: its addresses must not be handed out again. */
			sqlite3_stmt *st =
			    store_q(s, "SELECT 1 FROM addr_exclusions WHERE addr <= ?1"
				       " AND addr + count > ?1");

			if (st) {
				sqlite3_bind_int(st, 1, n->unicast);
			}
			rc = store_row(s, st);
			if (rc == 1) {
				sqlite3_reset(st);
				rc = 0;
			} else if (rc == 0) {
				rc = store_addr_exclude(s, n->unicast, (uint8_t)node_elements(n));
				res->nodes_excluded++;
			}
			continue;
		}
		rc = store_node_get_by_uuid(s, n->uuid, &cur);
		if (rc == 0) {
			uint8_t dk[STORE_KEY_LEN];
			bool same = cur.unicast == n->unicast &&
				    store_node_devkey_get(s, cur.unicast, dk) == 0 &&
				    !memcmp(dk, n->devkey, STORE_KEY_LEN);

			wipe(dk, sizeof(dk));
			if (!same) {
				say(err, cap,
				    "/nodes/%zu: this UUID is node 0x%04x in the inventory, with "
				    "another "
				    "address or DevKey",
				    i, cur.unicast);
				return -EEXIST;
			}
			res->nodes_unchanged++;
			continue;
		}
		if (rc != -ENOENT) {
			return rc;
		}
		rc = add_node(s, n);
		if (rc == -EEXIST) {
			say(err, cap,
			    "/nodes/%zu/unicastAddress: 0x%04x-0x%04x overlaps a node, an excluded "
			    "address or the gateway in the inventory",
			    i, n->unicast, (unsigned)(n->unicast + node_elements(n) - 1));
		} else if (rc) {
			say(err, cap, "/nodes/%zu: %s", i, store_strerror(rc));
		}
		res->nodes_added++;
	}
	return rc;
}

static int apply_rest(struct store *s, const struct store_cdb *doc, struct store_cdb_result *res)
{
	sqlite3_stmt *st;
	int rc = 0;

	for (size_t i = 0; !rc && i < doc->n_excl; i++) {
		st = store_q(
		    s, "SELECT 1 FROM addr_exclusions WHERE addr <= ?1 AND addr + count > ?1");
		if (st) {
			sqlite3_bind_int(st, 1, doc->excl[i].addr);
		}
		rc = store_row(s, st);
		if (rc == 1) {
			sqlite3_reset(st);
			rc = 0;
			continue;
		}
		st = rc ? NULL
			: store_q(s, "INSERT INTO addr_exclusions (addr, count, iv_index,"
				     " created_ms) VALUES (?, 1, ?, ?)");
		if (st) {
			sqlite3_bind_int(st, 1, doc->excl[i].addr);
			sqlite3_bind_int64(st, 2, doc->excl[i].iv_index);
			sqlite3_bind_int64(st, 3, (sqlite3_int64)store_now(s));
			rc = store_run(s, st);
			res->exclusions_added++;
		}
	}
	for (size_t i = 0; !rc && i < doc->n_groups; i++) {
		const struct store_cdb_group *g = &doc->groups[i];

		st = store_q(s, "DELETE FROM cdb_groups WHERE addr = ?1 AND"
				" coalesce(label, x'') = coalesce(?2, x'')");
		if (st) {
			sqlite3_bind_int(st, 1, g->addr);
			if (g->has_label) {
				store_bind_blob(st, 2, g->label, 16);
			}
		}
		rc = store_run(s, st);
		if (!rc && sqlite3_changes(s->db) == 0) {
			res->groups_added++;
		}
		st = rc ? NULL
			: store_q(s, "INSERT INTO cdb_groups (addr, label, name, parent,"
				     " parent_label) VALUES (?, ?, ?, ?, ?)");
		if (st) {
			sqlite3_bind_int(st, 1, g->addr);
			if (g->has_label) {
				store_bind_blob(st, 2, g->label, 16);
			}
			sqlite3_bind_text(st, 3, g->name, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 4, g->parent);
			if (g->parent_has_label) {
				store_bind_blob(st, 5, g->parent_label, 16);
			}
			rc = store_run(s, st);
		}
	}
	for (size_t i = 0; !rc && i < doc->n_scenes; i++) {
		const struct store_cdb_scene *c = &doc->scenes[i];
		uint8_t *blob = malloc(c->n_addrs * 2 + 1);

		if (!blob) {
			return -ENOMEM;
		}
		for (size_t k = 0; k < c->n_addrs; k++) {
			blob[2 * k] = (uint8_t)c->addrs[k];
			blob[2 * k + 1] = (uint8_t)(c->addrs[k] >> 8);
		}
		st = store_q(s, "INSERT INTO cdb_scenes (number, name, addrs) VALUES (?1, ?2, ?3)"
				" ON CONFLICT (number) DO UPDATE SET name = ?2, addrs = ?3");
		if (st) {
			sqlite3_bind_int(st, 1, c->number);
			sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
			sqlite3_bind_blob(st, 3, blob, (int)(c->n_addrs * 2), SQLITE_STATIC);
		}
		rc = store_run(s, st);
		free(blob);
		res->scenes_added++;
	}
	return rc;
}

static uint32_t doc_iv(const struct store_cdb *doc)
{
	uint32_t iv = 0;

	if (doc->has_iv) {
		return doc->iv_index;
	}
	/* No IV Index in the document: the newest one it mentions is a lower bound. */
	for (size_t i = 0; i < doc->n_excl; i++) {
		iv = doc->excl[i].iv_index > iv ? doc->excl[i].iv_index : iv;
	}
	return iv;
}

int store_cdb_apply(struct store *s, const struct store_cdb *doc, const uint8_t *adopt_uuid,
		    bool dry_run, struct store_cdb_result *res, char *err, size_t err_cap)
{
	const struct store_cdb_prov *adopt = NULL;
	struct store_node_filter all = {.excluded = 2};
	struct store_network net;
	uint8_t self_uuid[STORE_UUID_LEN];
	sqlite3_stmt *st;
	size_t nodes = 0;
	bool takeover;
	int rc;

	if (!s || !doc || !res) {
		return -EINVAL;
	}
	memset(res, 0, sizeof(*res));
	if (err && err_cap) {
		err[0] = '\0';
	}
	if (doc->partial) {
		say(err, err_cap,
		    "/partial: a partial document carries no keys; import needs the "
		    "full export");
		return -EINVAL;
	}
	for (size_t i = 0; adopt_uuid && i < doc->n_provs; i++) {
		if (!memcmp(doc->provs[i].uuid, adopt_uuid, STORE_UUID_LEN)) {
			adopt = &doc->provs[i];
		}
	}
	if (adopt_uuid && !adopt) {
		say(err, err_cap, "provisioner: the document has no provisioner with this UUID");
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_net_get(s, &net);
	if (!rc) {
		st = store_q(s, "SELECT prov_uuid FROM network WHERE id = 1");
		rc = store_row(s, st);
		if (rc == 1) {
			rc = store_col_blob(st, 0, self_uuid, STORE_UUID_LEN) ? 0 : -EIO;
			sqlite3_reset(st);
		}
	}
	if (!rc) {
		rc = store_node_count(s, &all, &nodes);
	}
	if (!rc) {
		st = store_q(s, "SELECT count(*) FROM addr_reservations");
		rc = store_row(s, st);
		if (rc == 1) {
			rc = sqlite3_column_int(st, 0) ? -EBUSY : 0;
			sqlite3_reset(st);
			if (rc) {
				say(err, err_cap,
				    "provisioning sessions hold address reservations; "
				    "import when they have finished");
			}
		}
	}
	if (rc) {
		goto out;
	}
	takeover = memcmp(net.uuid, doc->mesh_uuid, STORE_UUID_LEN) != 0;
	if (takeover && nodes) {
		say(err, err_cap,
		    "/meshUUID: the inventory holds %zu node(s) of another network; a network is "
		    "taken over only by a gateway without nodes, and merged only when the "
		    "meshUUID is the same",
		    nodes);
		rc = -EEXIST;
		goto out;
	}
	res->mode = takeover ? STORE_CDB_TAKEOVER : STORE_CDB_MERGE;
	res->iv_index = net.iv_index;
	if (takeover) {
		res->iv_index = doc_iv(doc);
		res->iv_changed = res->iv_index != net.iv_index;
		rc = clear_fresh(s);
	}
	if (!rc) {
		rc = choose_ranges(s, doc, &net, self_uuid, adopt, res, err, err_cap);
	}
	if (!rc) {
		rc = net_row_set(s, doc, res, takeover, adopt);
	}
	if (!rc) {
		rc = apply_keys(s, doc, res, err, err_cap);
	}
	if (!rc) {
		rc = apply_provs(s, doc, self_uuid, adopt, res);
	}
	if (!rc) {
		rc = apply_rest(s, doc, res);
	}
	if (!rc && adopt && adopt->addr && adopt->addr != res->address) {
		/* The provisioner replaced: its address is not handed out (store_addr_exclude). */
		rc = store_addr_exclude(s, adopt->addr, 1);
		res->exclusions_added += rc == 0;
	}
	if (!rc) {
		rc = apply_nodes(s, doc, res, err, err_cap);
	}
	if (!rc) {
		rc = store_audit(s, "cdb.import", "%s: %zu node(s), %zu NetKey(s), %zu AppKey(s)",
				 takeover ? "take-over" : "merge", res->nodes_added,
				 res->netkeys_added, res->appkeys_added);
	}
	if (rc && err && err_cap && !err[0]) {
		say(err, err_cap, "%s", store_strerror(rc));
	}
out:
	if (!rc && dry_run) {
		(void)store_txn_end(s, -1);
		return 0;
	}
	return store_txn_end(s, rc);
}
