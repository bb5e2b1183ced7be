/*
 * The export's read of the inventory into a Mesh CDB document
 * (store_cdb.h): one read transaction, so the document is a consistent
 * snapshot.
 */
#include "storage/store_cdb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_int.h"

/* --- Export -------------------------------------------------------------- */

static void col_name(sqlite3_stmt *st, int col, char *out)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		out[0] = '\0';
	} else {
		store_col_text(st, col, out, STORE_NAME_MAX);
	}
}

static void copy_key(uint8_t key[STORE_KEY_LEN], bool *has_old, uint8_t old_key[STORE_KEY_LEN],
		     const uint8_t *src, bool src_has_old, const uint8_t *src_old)
{
	memcpy(key, src, STORE_KEY_LEN);
	*has_old = src_has_old;
	memcpy(old_key, src_old, STORE_KEY_LEN);
}

/* The key's name (and minSecurity when min_secure is not NULL) from its row; 0 without one. */
static int key_names(struct store *s, const char *sql, uint16_t idx, char *name, bool *min_secure)
{
	sqlite3_stmt *st = store_q(s, sql);
	int rc;

	if (st) {
		sqlite3_bind_int(st, 1, idx);
	}
	rc = store_row(s, st);
	if (rc == 1) {
		col_name(st, 0, name);
		if (min_secure) {
			*min_secure = sqlite3_column_int(st, 1) != 0;
		}
		sqlite3_reset(st);
		rc = 0;
	}
	return rc;
}

static int read_keys(struct store *s, struct store_cdb *d, bool with_keys)
{
	struct store_netkey *nk = NULL;
	struct store_appkey *ak = NULL;
	size_t n_nk = 0, n_ak = 0, i;
	int rc;

	rc = store_netkey_list(s, &nk, &n_nk);
	if (!rc) {
		rc = store_appkey_list(s, &ak, &n_ak);
	}
	if (!rc && n_nk) {
		d->netkeys = calloc(n_nk, sizeof(*d->netkeys));
		rc = d->netkeys ? 0 : -ENOMEM;
	}
	if (!rc && n_ak) {
		d->appkeys = calloc(n_ak, sizeof(*d->appkeys));
		rc = d->appkeys ? 0 : -ENOMEM;
	}
	for (i = 0; !rc && i < n_nk; i++) {
		struct store_cdb_netkey *k = &d->netkeys[i];

		k->idx = nk[i].idx;
		k->phase = (uint8_t)nk[i].phase;
		k->ts_ms = nk[i].updated_ms;
		if (with_keys) {
			copy_key(k->key, &k->has_old, k->old_key, nk[i].key, nk[i].has_old,
				 nk[i].old_key);
		}
		rc = key_names(s, "SELECT name, min_secure FROM netkeys WHERE idx = ?", k->idx,
			       k->name, &k->min_secure);
		d->n_netkeys++;
	}
	for (i = 0; !rc && i < n_ak; i++) {
		struct store_cdb_appkey *k = &d->appkeys[i];

		k->idx = ak[i].idx;
		k->net_idx = ak[i].net_idx;
		if (with_keys) {
			copy_key(k->key, &k->has_old, k->old_key, ak[i].key, ak[i].has_old,
				 ak[i].old_key);
		}
		rc = key_names(s, "SELECT name FROM appkeys WHERE idx = ?", k->idx, k->name, NULL);
		d->n_appkeys++;
	}
	store_netkeys_free(nk, n_nk);
	store_appkeys_free(ak, n_ak);
	return rc;
}

static int read_provs(struct store *s, struct store_cdb *d, const struct store_network *net)
{
	sqlite3_stmt *st;
	size_t n = 0, cap = 4;
	int rc;

	d->provs = calloc(cap, sizeof(*d->provs));
	if (!d->provs) {
		return -ENOMEM;
	}
	/* The gateway itself first. */
	st = store_q(s, "SELECT prov_uuid FROM network WHERE id = 1");
	rc = store_row(s, st);
	if (rc == 1) {
		if (!store_col_blob(st, 0, d->provs[0].uuid, STORE_UUID_LEN)) {
			rc = -EIO;
		}
		sqlite3_reset(st);
	}
	if (rc < 0) {
		return rc;
	}
	snprintf(d->provs[0].name, STORE_NAME_MAX, "meshgw");
	d->provs[0].addr = net->unicast;
	d->provs[0].uni[0] = (struct store_cdb_range){net->uni_low, net->uni_high};
	d->provs[0].n_uni = 1;
	d->provs[0].grp[0] = (struct store_cdb_range){net->grp_low, net->grp_high};
	d->provs[0].n_grp = 1;
	n = 1;
	st = store_q(
	    s, "SELECT p.id, p.uuid, p.name, r.kind, r.lo, r.hi, p.addr FROM cdb_provisioners p"
	       " LEFT JOIN cdb_ranges r ON r.prov_id = p.id ORDER BY p.id, r.kind, r.lo");
	{
		int64_t last = -1;

		while ((rc = store_row(s, st)) == 1) {
			int64_t id = sqlite3_column_int64(st, 0);
			struct store_cdb_prov *p;

			if (id != last) {
				if (n == cap) {
					struct store_cdb_prov *q =
					    realloc(d->provs, 2 * cap * sizeof(*q));

					if (!q) {
						sqlite3_reset(st);
						return -ENOMEM;
					}
					memset(q + cap, 0, cap * sizeof(*q));
					d->provs = q;
					cap *= 2;
				}
				p = &d->provs[n++];
				(void)store_col_blob(st, 1, p->uuid, STORE_UUID_LEN);
				col_name(st, 2, p->name);
				p->addr = (uint16_t)sqlite3_column_int(st, 6);
				last = id;
			}
			p = &d->provs[n - 1];
			if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
				int kind = sqlite3_column_int(st, 3);
				struct store_cdb_range r = {(uint16_t)sqlite3_column_int(st, 4),
							    (uint16_t)sqlite3_column_int(st, 5)};

				if (kind == 0 && p->n_uni < STORE_CDB_RANGES_MAX) {
					p->uni[p->n_uni++] = r;
				} else if (kind == 1 && p->n_grp < STORE_CDB_RANGES_MAX) {
					p->grp[p->n_grp++] = r;
				} else if (kind == 2 && p->n_scene < STORE_CDB_RANGES_MAX) {
					p->scene[p->n_scene++] = r;
				}
			}
		}
	}
	d->n_provs = n;
	return rc;
}

static int read_extras(struct store *s, int64_t id, struct store_cdb_node *n)
{
	sqlite3_stmt *st = store_q(
	    s, "SELECT secure, comp_known, feat_relay, feat_proxy, feat_friend, feat_lpn, beacon,"
	       " default_ttl, net_tx_count, net_tx_interval, relay_count, relay_interval,"
	       " hb_pub_dst, hb_pub_period, hb_pub_ttl, hb_pub_idx, hb_pub_features, hb_sub_src,"
	       " hb_sub_dst FROM node_cdb WHERE node_id = ?");
	int rc;

	if (st) {
		sqlite3_bind_int64(st, 1, id);
	}
	rc = store_row(s, st);
	if (rc != 1) {
		return rc;
	}
#define NUL(c) (sqlite3_column_type(st, c) == SQLITE_NULL)
#define I(c) sqlite3_column_int(st, c)
	n->secure = I(0) != 0;
	n->has_comp = n->has_comp || I(1) != 0;
	for (int f = 0; f < STORE_CDB_FEAT_COUNT; f++) {
		if (!NUL(2 + f)) {
			n->feat[f] = (int8_t)I(2 + f);
		}
	}
	n->beacon = NUL(6) ? -1 : (int8_t)I(6);
	n->default_ttl = NUL(7) ? -1 : (int16_t)I(7);
	if (!NUL(8)) {
		n->net_tx_count = (int8_t)I(8);
		n->net_tx_interval = (uint16_t)I(9);
	}
	if (!NUL(10)) {
		n->relay_count = (int8_t)I(10);
		n->relay_interval = (uint16_t)I(11);
	}
	if (!NUL(12)) {
		n->has_hb_pub = true;
		n->hb_pub_dst = (uint16_t)I(12);
		n->hb_pub_period = (uint32_t)sqlite3_column_int64(st, 13);
		n->hb_pub_ttl = (uint8_t)I(14);
		n->hb_pub_idx = (uint16_t)I(15);
		n->hb_pub_features = (uint16_t)I(16);
	}
	if (!NUL(17)) {
		n->has_hb_sub = true;
		n->hb_sub_src = (uint16_t)I(17);
		n->hb_sub_dst = (uint16_t)I(18);
	}
#undef NUL
#undef I
	sqlite3_reset(st);
	return 0;
}

static int read_elements(struct store *s, int64_t id, struct store_cdb_node *n, uint8_t elements)
{
	struct store_element *el = NULL;
	struct store_model *md = NULL;
	struct store_binding *b = NULL;
	size_t n_el = 0, n_md = 0, n_b = 0, i;
	sqlite3_stmt *st;
	int rc;

	rc = store_comp_elements(s, n->unicast, &el, &n_el);
	if (!rc) {
		rc = store_comp_models(s, n->unicast, &md, &n_md);
	}
	if (!rc) {
		rc = store_node_bindings(s, n->unicast, &b, &n_b);
	}
	/* Without composition the element count is still known; location 0 is "unknown". */
	n->n_el = n_el ? n_el : elements;
	n->el = rc ? NULL : calloc(n->n_el, sizeof(*n->el));
	if (!rc && !n->el) {
		rc = -ENOMEM;
	}
	for (i = 0; !rc && i < n->n_el; i++) {
		n->el[i].idx = (uint8_t)i;
		if (i < n_el) {
			n->el[i].idx = el[i].idx;
			n->el[i].loc = el[i].loc;
		}
	}
	st = rc ? NULL : store_q(s, "SELECT idx, name FROM elements WHERE node_id = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		while ((rc = store_row(s, st)) == 1) {
			unsigned idx = (unsigned)sqlite3_column_int(st, 0);

			if (idx < n->n_el) {
				col_name(st, 1, n->el[idx].name);
			}
		}
	}
	for (i = 0; !rc && i < n_md; i++) {
		struct store_cdb_element *e =
		    md[i].elem_idx < n->n_el ? &n->el[md[i].elem_idx] : NULL;
		struct store_cdb_model *m, *grown;
		uint16_t addr = (uint16_t)(n->unicast + md[i].elem_idx);

		if (!e) {
			continue;
		}
		grown = realloc(e->models, (e->n_models + 1) * sizeof(*grown));
		if (!grown) {
			rc = -ENOMEM;
			break;
		}
		e->models = grown;
		m = &e->models[e->n_models++];
		memset(m, 0, sizeof(*m));
		m->vendor = md[i].vendor;
		m->id = md[i].id;
		for (size_t k = 0; k < n_b; k++) {
			if (b[k].elem_addr == addr && b[k].vendor == m->vendor &&
			    b[k].id == m->id) {
				uint16_t *nb = realloc(m->bind, (m->n_bind + 1) * sizeof(*nb));

				if (!nb) {
					rc = -ENOMEM;
					break;
				}
				m->bind = nb;
				m->bind[m->n_bind++] = b[k].app_idx;
			}
		}
		if (!rc) {
			rc = store_sub_list(s, addr, m->vendor, m->id, &m->sub, &m->n_sub);
		}
		if (!rc) {
			rc = store_pub_get(s, addr, m->vendor, m->id, &m->pub);
			m->has_pub = rc == 0 && m->pub.addr != 0;
			rc = rc == -ENOENT ? 0 : rc;
		}
	}
	free(el);
	free(md);
	free(b);
	return rc;
}

static int read_node(struct store *s, const struct store_node *sn, bool with_keys,
		     struct store_cdb_node *n)
{
	uint8_t *pages = NULL;
	size_t n_pages = 0;
	int64_t id = 0;
	int rc;

	memcpy(n->uuid, sn->uuid, STORE_UUID_LEN);
	n->unicast = sn->unicast;
	snprintf(n->name, sizeof(n->name), "%s", sn->name);
	n->config_complete = sn->cfg_state == STORE_CFG_CONFIGURED;
	n->cid = sn->cid;
	n->pid = sn->pid;
	n->vid = sn->vid;
	n->crpl = sn->crpl;
	store_cdb_node_unknown(n);
	rc = store_node_id(s, sn->unicast, &id);
	if (!rc && with_keys) {
		rc = store_node_devkey_get(s, sn->unicast, n->devkey);
		n->has_devkey = rc == 0;
	}
	if (!rc) {
		rc = store_comp_page_list(s, sn->unicast, &pages, &n_pages);
	}
	if (!rc) {
		/* Page 0 read from the node: its header and which features exist are known. */
		if (n_pages && pages[0] == 0) {
			n->has_comp = true;
			for (int f = 0; f < STORE_CDB_FEAT_COUNT; f++) {
				if (!(sn->features & (1u << f))) {
					n->feat[f] = 2;
				}
			}
		}
		free(pages);
		rc = read_extras(s, id, n);
	}
	if (!rc) {
		rc = store_node_netkey_list(s, sn->unicast, &n->netkeys, &n->n_netkeys);
	}
	if (!rc) {
		rc = store_node_appkey_list(s, sn->unicast, &n->appkeys, &n->n_appkeys);
	}
	if (!rc) {
		rc = read_elements(s, id, n, sn->elements);
	}
	return rc;
}

static int read_nodes(struct store *s, struct store_cdb *d, bool with_keys)
{
	struct store_node_filter f = {0};
	struct store_node *nodes = NULL;
	size_t n = 0;
	int rc = store_node_list(s, &f, &nodes, &n);

	if (!rc && n) {
		d->nodes = calloc(n, sizeof(*d->nodes));
		rc = d->nodes ? 0 : -ENOMEM;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		d->n_nodes++;
		rc = read_node(s, &nodes[i], with_keys, &d->nodes[i]);
	}
	store_nodes_free(nodes);
	return rc;
}

static int read_groups_scenes(struct store *s, struct store_cdb *d)
{
	sqlite3_stmt *st;
	int rc;

	st = store_q(s,
		     "SELECT addr, label, name, parent, parent_label FROM cdb_groups ORDER BY id");
	while ((rc = store_row(s, st)) == 1) {
		struct store_cdb_group *g = realloc(d->groups, (d->n_groups + 1) * sizeof(*g));

		if (!g) {
			sqlite3_reset(st);
			return -ENOMEM;
		}
		d->groups = g;
		g = &d->groups[d->n_groups++];
		memset(g, 0, sizeof(*g));
		g->addr = (uint16_t)sqlite3_column_int(st, 0);
		g->has_label = store_col_blob(st, 1, g->label, 16);
		col_name(st, 2, g->name);
		g->parent = (uint16_t)sqlite3_column_int(st, 3);
		g->parent_has_label = store_col_blob(st, 4, g->parent_label, 16);
	}
	if (rc < 0) {
		return rc;
	}
	st = store_q(s, "SELECT number, name, addrs FROM cdb_scenes ORDER BY number");
	while ((rc = store_row(s, st)) == 1) {
		struct store_cdb_scene *c = realloc(d->scenes, (d->n_scenes + 1) * sizeof(*c));
		const uint8_t *blob;
		size_t len;

		if (!c) {
			sqlite3_reset(st);
			return -ENOMEM;
		}
		d->scenes = c;
		c = &d->scenes[d->n_scenes++];
		memset(c, 0, sizeof(*c));
		c->number = (uint16_t)sqlite3_column_int(st, 0);
		col_name(st, 1, c->name);
		blob = sqlite3_column_blob(st, 2);
		len = (size_t)sqlite3_column_bytes(st, 2) / 2;
		if (len) {
			c->addrs = calloc(len, sizeof(uint16_t));
			if (!c->addrs) {
				sqlite3_reset(st);
				return -ENOMEM;
			}
			for (size_t i = 0; i < len; i++) {
				c->addrs[i] = (uint16_t)(blob[2 * i] | blob[2 * i + 1] << 8);
			}
			c->n_addrs = len;
		}
	}
	return rc;
}

static int read_exclusions(struct store *s, struct store_cdb *d)
{
	struct store_addr_exclusion *ex = NULL;
	size_t n = 0, total = 0, i, k = 0;
	int rc = store_addr_exclusions(s, &ex, &n);

	for (i = 0; !rc && i < n; i++) {
		total += ex[i].count;
	}
	if (!rc && total) {
		d->excl = calloc(total, sizeof(*d->excl));
		rc = d->excl ? 0 : -ENOMEM;
	}
	for (i = 0; !rc && i < n; i++) {
		for (unsigned c = 0; c < ex[i].count; c++) {
			d->excl[k].iv_index = ex[i].iv_index;
			d->excl[k].addr = (uint16_t)(ex[i].addr + c);
			k++;
		}
	}
	d->n_excl = k;
	free(ex);
	return rc;
}

int store_cdb_read(struct store *s, bool with_keys, struct store_cdb **out)
{
	struct store_network net;
	struct store_cdb *d;
	sqlite3_stmt *st;
	int rc;

	if (!s || !out) {
		return -EINVAL;
	}
	rc = store_net_get(s, &net);
	if (rc) {
		return rc;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		return -ENOMEM;
	}
	d->version = 101;
	d->partial = !with_keys;
	memcpy(d->mesh_uuid, net.uuid, STORE_UUID_LEN);
	d->has_iv = true;
	d->iv_index = net.iv_index;
	st = store_q(s, "SELECT name FROM network WHERE id = 1");
	rc = store_row(s, st);
	if (rc == 1) {
		col_name(st, 0, d->mesh_name);
		sqlite3_reset(st);
		rc = 0;
	}
	/* One read transaction: the document is a consistent snapshot. */
	if (!rc) {
		rc = store_txn_begin(s);
	}
	if (!rc) {
		rc = read_keys(s, d, with_keys);
		if (!rc) {
			rc = read_provs(s, d, &net);
		}
		if (!rc) {
			rc = read_nodes(s, d, with_keys);
		}
		if (!rc) {
			rc = read_groups_scenes(s, d);
		}
		if (!rc) {
			rc = read_exclusions(s, d);
		}
		(void)store_txn_end(s, -1); /* nothing to keep */
	}
	if (rc) {
		store_cdb_free(d);
		return rc;
	}
	*out = d;
	return 0;
}
