/*
 * Composition Data (§4.2.2): the raw pages as read, the parsed elements and
 * models, and per model its AppKey bindings (§4.2.7), publication (§4.2.3)
 * and subscription list (§4.2.4).
 */
#include <errno.h>
#include <string.h>

#include "storage/store_int.h"

int store_comp_page_put(struct store *s, uint16_t addr, uint8_t page, const uint8_t *data,
			size_t len)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	if (!data || len == 0 || len > STORE_COMP_PAGE_MAX) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_node_id(s, addr, &id);
	if (rc == 0) {
		st =
		    store_q(s, "INSERT OR REPLACE INTO comp_pages (node_id, page, data, updated_ms)"
			       " VALUES (?, ?, ?, ?)");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int(st, 2, page);
			store_bind_blob(st, 3, data, len);
			sqlite3_bind_int64(st, 4, (sqlite3_int64)store_now(s));
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "comp.page_put", "node 0x%04x page %u", addr, page);
	}
	return store_txn_end(s, rc);
}

/* Pages of removed nodes stay readable: they are looked up like store_node_get(). */
int store_comp_page_get(struct store *s, uint16_t addr, uint8_t page, uint8_t *buf, size_t cap,
			size_t *len)
{
	sqlite3_stmt *st;
	size_t n;
	int rc;

	st = store_q(s, "SELECT data FROM comp_pages WHERE page = ?2 AND node_id = (SELECT id"
			" FROM nodes WHERE unicast = ?1 ORDER BY excluded, id DESC LIMIT 1)");
	if (st) {
		sqlite3_bind_int(st, 1, addr);
		sqlite3_bind_int(st, 2, page);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	n = (size_t)sqlite3_column_bytes(st, 0);
	if (n > cap) {
		rc = -EMSGSIZE;
	} else {
		memcpy(buf, sqlite3_column_blob(st, 0), n);
		*len = n;
		rc = 0;
	}
	sqlite3_reset(st);
	return rc;
}

static int read_u8(struct store *s, sqlite3_stmt *st, void *item)
{
	(void)s;
	*(uint8_t *)item = (uint8_t)sqlite3_column_int(st, 0);
	return 0;
}

int store_comp_page_list(struct store *s, uint16_t addr, uint8_t **pages, size_t *n)
{
	sqlite3_stmt *st;

	st = store_q(s, "SELECT page FROM comp_pages WHERE node_id = (SELECT id FROM nodes"
			" WHERE unicast = ? ORDER BY excluded, id DESC LIMIT 1) ORDER BY page");
	if (st) {
		sqlite3_bind_int(st, 1, addr);
	}
	return store_collect(s, st, sizeof(**pages), read_u8, (void **)pages, n);
}

/* Insert a model unless present; existing rows keep their bindings. */
static int put_model(struct store *s, int64_t node, const struct store_model *m)
{
	sqlite3_stmt *st =
	    store_q(s, "INSERT OR IGNORE INTO models (element_id, vendor, model_id)"
		       " SELECT id, ?, ? FROM elements WHERE node_id = ? AND idx = ?");

	if (st) {
		sqlite3_bind_int(st, 1, m->vendor);
		sqlite3_bind_int64(st, 2, m->id);
		sqlite3_bind_int64(st, 3, node);
		sqlite3_bind_int(st, 4, m->elem_idx);
	}
	return store_run(s, st);
}

/* Mark models to keep (keep = 1) after resetting all of the node's marks. */
static int mark_model(struct store *s, int64_t node, const struct store_model *m)
{
	sqlite3_stmt *st = store_q(s, "INSERT INTO temp.keep_models (id) SELECT m.id FROM models m"
				      " JOIN elements e ON m.element_id = e.id WHERE e.node_id = ?"
				      " AND e.idx = ? AND m.vendor = ? AND m.model_id = ?");

	if (st) {
		sqlite3_bind_int64(st, 1, node);
		sqlite3_bind_int(st, 2, m->elem_idx);
		sqlite3_bind_int(st, 3, m->vendor);
		sqlite3_bind_int64(st, 4, m->id);
	}
	return store_run(s, st);
}

int store_comp_set(struct store *s, uint16_t addr, const struct store_element *el, size_t n_el,
		   const struct store_model *models, size_t n_models)
{
	struct store_node node;
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	if ((n_el && !el) || (n_models && !models)) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_node_get(s, addr, &node);
	if (rc == 0 && node.excluded) {
		rc = -ENOENT;
	}
	if (rc == 0 && n_el != node.elements) {
		rc = -EINVAL;
	}
	for (size_t i = 0; rc == 0 && i < n_el; i++) {
		if (el[i].idx >= node.elements) {
			rc = -EINVAL;
		}
	}
	for (size_t i = 0; rc == 0 && i < n_models; i++) {
		if (models[i].elem_idx >= node.elements ||
		    (!models[i].vendor && models[i].id > 0xffff)) {
			rc = -EINVAL;
		}
	}
	if (rc == 0) {
		rc = store_node_id(s, addr, &id);
	}
	for (size_t i = 0; rc == 0 && i < n_el; i++) {
		st = store_q(s, "INSERT INTO elements (node_id, idx, addr, loc) VALUES (?1, ?2,"
				" ?3 + ?2, ?4) ON CONFLICT (node_id, idx) DO UPDATE SET loc = ?4");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int(st, 2, el[i].idx);
			sqlite3_bind_int(st, 3, addr);
			sqlite3_bind_int(st, 4, el[i].loc);
		}
		rc = store_run(s, st);
	}
	/* Models that vanished from the page go, with their bindings; the rest stay. */
	if (rc == 0) {
		rc = store_run(s, store_q(s, "DELETE FROM temp.keep_models"));
	}
	for (size_t i = 0; rc == 0 && i < n_models; i++) {
		rc = put_model(s, id, &models[i]);
		if (rc == 0) {
			rc = mark_model(s, id, &models[i]);
		}
		if (rc == -EEXIST) {
			rc = -EINVAL; /* the same model twice in one element */
		}
	}
	if (rc == 0) {
		st = store_q(s,
			     "DELETE FROM models WHERE element_id IN (SELECT id FROM elements"
			     " WHERE node_id = ?) AND id NOT IN (SELECT id FROM temp.keep_models)");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "comp.set", "node 0x%04x", addr);
	}
	return store_txn_end(s, rc);
}

static int read_element(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_element *e = item;

	(void)s;
	e->idx = (uint8_t)sqlite3_column_int(st, 0);
	e->loc = (uint16_t)sqlite3_column_int(st, 1);
	return 0;
}

/* A statement bound to the row id of the active node at addr (?1). */
static int node_query(struct store *s, uint16_t addr, const char *sql, sqlite3_stmt **out)
{
	int64_t id;
	int rc = store_node_id(s, addr, &id);

	if (rc) {
		return rc;
	}
	*out = store_q(s, sql);
	if (*out) {
		sqlite3_bind_int64(*out, 1, id);
	}
	return 0;
}

int store_comp_elements(struct store *s, uint16_t addr, struct store_element **out, size_t *n)
{
	sqlite3_stmt *st;
	int rc = node_query(s, addr, "SELECT idx, loc FROM elements WHERE node_id = ? ORDER BY idx",
			    &st);

	return rc ? rc : store_collect(s, st, sizeof(**out), read_element, (void **)out, n);
}

static int read_model(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_model *m = item;

	(void)s;
	m->elem_idx = (uint8_t)sqlite3_column_int(st, 0);
	m->vendor = sqlite3_column_int(st, 1) != 0;
	m->id = (uint32_t)sqlite3_column_int64(st, 2);
	return 0;
}

int store_comp_models(struct store *s, uint16_t addr, struct store_model **out, size_t *n)
{
	sqlite3_stmt *st;
	int rc = node_query(s, addr,
			    "SELECT e.idx, m.vendor, m.model_id FROM models m JOIN elements e"
			    " ON m.element_id = e.id WHERE e.node_id = ?"
			    " ORDER BY e.idx, m.vendor, m.model_id",
			    &st);

	return rc ? rc : store_collect(s, st, sizeof(**out), read_model, (void **)out, n);
}

int store_model_row(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id, int64_t *row)
{
	sqlite3_stmt *st = store_q(s, "SELECT m.id FROM models m JOIN elements e"
				      " ON m.element_id = e.id WHERE e.addr = ? AND m.vendor = ?"
				      " AND m.model_id = ?");
	int rc;

	if (st) {
		sqlite3_bind_int(st, 1, elem_addr);
		sqlite3_bind_int(st, 2, vendor);
		sqlite3_bind_int64(st, 3, id);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	*row = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

/*
 * One change to one model: resolve the model, run sql with ?1 = model row
 * and ?2 = v, require a changed row (else -ENOENT, or -EEXIST for an
 * INSERT OR IGNORE that found the row), audit.
 */
static int model_op(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id, const char *sql,
		    int v, int nochange, const char *what)
{
	sqlite3_stmt *st;
	int64_t row;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_model_row(s, elem_addr, vendor, id, &row);
	if (rc == 0) {
		st = store_q(s, sql);
		if (st) {
			sqlite3_bind_int64(st, 1, row);
			sqlite3_bind_int(st, 2, v);
		}
		rc = store_run(s, st);
	}
	if (rc == 0 && nochange && sqlite3_changes(s->db) == 0) {
		rc = nochange;
	}
	if (rc == 0) {
		rc = store_audit(s, what, "0x%04x %s%04x %u", elem_addr, vendor ? "v" : "",
				 (unsigned)id, (unsigned)v);
	}
	return store_txn_end(s, rc);
}

int store_model_bind(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id,
		     uint16_t app_idx)
{
	/* Binding twice is not an error (Config Model App Bind is idempotent, §4.4.1.2). */
	return model_op(s, elem_addr, vendor, id,
			"INSERT OR IGNORE INTO bindings (model, app_idx) VALUES (?, ?)", app_idx, 0,
			"model.bind");
}

int store_model_unbind(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id,
		       uint16_t app_idx)
{
	return model_op(s, elem_addr, vendor, id,
			"DELETE FROM bindings WHERE model = ? AND app_idx = ?", app_idx, -ENOENT,
			"model.unbind");
}

static int read_binding(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_binding *b = item;

	(void)s;
	b->elem_addr = (uint16_t)sqlite3_column_int(st, 0);
	b->vendor = sqlite3_column_int(st, 1) != 0;
	b->id = (uint32_t)sqlite3_column_int64(st, 2);
	b->app_idx = (uint16_t)sqlite3_column_int(st, 3);
	return 0;
}

int store_node_bindings(struct store *s, uint16_t addr, struct store_binding **out, size_t *n)
{
	sqlite3_stmt *st;
	int rc =
	    node_query(s, addr,
		       "SELECT e.addr, m.vendor, m.model_id, b.app_idx FROM bindings b"
		       " JOIN models m ON b.model = m.id JOIN elements e ON m.element_id = e.id"
		       " WHERE e.node_id = ? ORDER BY e.addr, m.vendor, m.model_id, b.app_idx",
		       &st);

	return rc ? rc : store_collect(s, st, sizeof(**out), read_binding, (void **)out, n);
}

int store_pub_set(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id,
		  const struct store_pub *pub)
{
	sqlite3_stmt *st;
	int64_t row;
	int rc;

	/* TTL is 0x00..0x7f or 0xff "use Default TTL" (§4.2.3.5). */
	if (!pub || (pub->ttl > 0x7f && pub->ttl != 0xff) || pub->app_idx > 0x0fff) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_model_row(s, elem_addr, vendor, id, &row);
	if (rc == 0 && pub->addr == 0) {
		st = store_q(s, "DELETE FROM publications WHERE model = ?");
		if (st) {
			sqlite3_bind_int64(st, 1, row);
		}
		rc = store_run(s, st);
	} else if (rc == 0) {
		st = store_q(s, "INSERT OR REPLACE INTO publications (model, addr, label, app_idx,"
				" cred, ttl, period, retransmit) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
		if (st) {
			sqlite3_bind_int64(st, 1, row);
			sqlite3_bind_int(st, 2, pub->addr);
			if (pub->has_label) {
				store_bind_blob(st, 3, pub->label, sizeof(pub->label));
			}
			sqlite3_bind_int(st, 4, pub->app_idx);
			sqlite3_bind_int(st, 5, pub->cred);
			sqlite3_bind_int(st, 6, pub->ttl);
			sqlite3_bind_int(st, 7, pub->period);
			sqlite3_bind_int(st, 8, pub->retransmit);
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "model.pub_set", "0x%04x %s%04x -> 0x%04x", elem_addr,
				 vendor ? "v" : "", (unsigned)id, pub->addr);
	}
	return store_txn_end(s, rc);
}

int store_pub_get(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id,
		  struct store_pub *out)
{
	struct store_pub p = {0};
	sqlite3_stmt *st;
	int64_t row;
	int rc;

	rc = store_model_row(s, elem_addr, vendor, id, &row);
	if (rc) {
		return rc;
	}
	st = store_q(s, "SELECT addr, label, app_idx, cred, ttl, period, retransmit"
			" FROM publications WHERE model = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, row);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	p.addr = (uint16_t)sqlite3_column_int(st, 0);
	p.has_label = store_col_blob(st, 1, p.label, sizeof(p.label));
	p.app_idx = (uint16_t)sqlite3_column_int(st, 2);
	p.cred = sqlite3_column_int(st, 3) != 0;
	p.ttl = (uint8_t)sqlite3_column_int(st, 4);
	p.period = (uint8_t)sqlite3_column_int(st, 5);
	p.retransmit = (uint8_t)sqlite3_column_int(st, 6);
	sqlite3_reset(st);
	*out = p;
	return 0;
}

/* Subscriptions hold group and virtual addresses only (§4.2.4). */
static bool sub_addr_ok(uint16_t a)
{
	return a >= 0x8000 && a != 0xffff;
}

int store_sub_add(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id, uint16_t group)
{
	if (!sub_addr_ok(group)) {
		return -EINVAL;
	}
	return model_op(s, elem_addr, vendor, id,
			"INSERT OR IGNORE INTO subscriptions (model, addr) VALUES (?, ?)", group, 0,
			"model.sub_add");
}

int store_sub_del(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id, uint16_t group)
{
	return model_op(s, elem_addr, vendor, id,
			"DELETE FROM subscriptions WHERE model = ? AND addr = ?", group, -ENOENT,
			"model.sub_del");
}

int store_sub_clear(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id)
{
	return model_op(s, elem_addr, vendor, id, "DELETE FROM subscriptions WHERE model = ?1", 0,
			0, "model.sub_clear");
}

int store_sub_list(struct store *s, uint16_t elem_addr, bool vendor, uint32_t id, uint16_t **out,
		   size_t *n)
{
	sqlite3_stmt *st;
	int64_t row;
	int rc;

	rc = store_model_row(s, elem_addr, vendor, id, &row);
	if (rc) {
		return rc;
	}
	st = store_q(s, "SELECT addr FROM subscriptions WHERE model = ? ORDER BY addr");
	if (st) {
		sqlite3_bind_int64(st, 1, row);
	}
	return store_collect(s, st, sizeof(**out), store_read_u16, (void **)out, n);
}
