/*
 * Node commands (nodes.h): the inventory view of nodes and their
 * composition, Config Client operations on a node (each waits for the
 * node's status and records what changed), removal as a job (Node Reset,
 * then exclusion), and Generic OnOff.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/keyref.h"
#include "gateway/log.h"
#include "gateway/nodes.h"
#include "gateway/trust.h"
#include "gateway/util.h"
#include "mesh/comp.h"
#include "mesh/crypto.h"
#include "mesh/onoff_msg.h"
#include "storage/store_cdb.h"
#include "storage/store_zone.h"

struct gw_nodes {
	struct gw_core *core;
	struct gw_jobs *jobs;
	struct gw_job_kind k_remove;
	struct gw_kr *kr; /* Key Refresh after removals (gw_nodes_set_kr), NULL: none */
	uint32_t serial;  /* of removal attempts, to tell a stale answer from the current */
	uint8_t onoff_tid;
};

int gw_nodes_store_comp(struct gw_core *core, uint16_t addr, uint8_t page, const uint8_t *data,
			size_t len)
{
	struct mesh_comp *c;
	struct store_element el[MESH_COMP_ELEM_MAX];
	struct store_model *models;
	size_t e, k, nm = 0;
	int r;

	r = store_comp_page_put(core->st, addr, page, data, len);
	if (r || page != 0) {
		return r;
	}
	c = calloc(1, sizeof(*c));
	models = calloc(MESH_COMP_SIG_MAX + MESH_COMP_VND_MAX, sizeof(*models));
	if (!c || !models) {
		free(c);
		free(models);
		return -ENOMEM;
	}
	r = mesh_comp_parse(data, len, c);
	for (e = 0; !r && e < c->n_elems; e++) {
		const struct mesh_comp_elem *ce = &c->elems[e];

		el[e].idx = (uint8_t)e;
		el[e].loc = ce->loc;
		for (k = 0; k < ce->num_s; k++) {
			models[nm].elem_idx = (uint8_t)e;
			models[nm].vendor = false;
			models[nm++].id = c->sig[ce->sig_off + k];
		}
		for (k = 0; k < ce->num_v; k++) {
			models[nm].elem_idx = (uint8_t)e;
			models[nm].vendor = true;
			models[nm++].id = (uint32_t)c->vnd[ce->vnd_off + k].cid << 16 |
					  c->vnd[ce->vnd_off + k].id;
		}
	}
	if (!r) {
		r = store_comp_set(core->st, addr, el, c->n_elems, models, nm);
	}
	if (!r) {
		r = store_node_info_set(core->st, addr, c->cid, c->pid, c->vid, c->crpl,
					c->features);
	}
	free(c);
	free(models);
	return r;
}

static bool addr_arg(struct gw_nodes *gw, struct gw_cmd *c, struct store_node *n)
{
	json_int_t a = json_integer_value(json_object_get(c->args, "address"));
	int r = (a > 0 && a < 0x8000) ? store_node_get(gw->core->st, (uint16_t)a, n) : -ENOENT;

	if (r) {
		gw_cmd_complete(gw->core->q, c, r == -ENOENT ? -ENOENT : r, NULL,
				r == -ENOENT ? "no node with this address" : store_strerror(r));
		return false;
	}
	return true;
}

/* A failed answer: *err and detail set, NULL returned. */
static json_t *fail(int r, const char *why, int *err, char *detail, size_t cap)
{
	*err = r;
	snprintf(detail, cap, "%s", why);
	return NULL;
}

/* A page of nodes as read from the store, before it is shown. */
struct page {
	struct store_node *nodes;        /* n of them; store_nodes_free() */
	struct store_zone_place *places; /* np of them, by node address; free() */
	size_t n, total, np;
	json_int_t limit, offset;
};

/* The zone of the page's node i, or NULL; *k walks places along the page (by address). */
static const struct store_zone_place *page_place(const struct page *p, size_t i, size_t *k)
{
	while (*k < p->np && p->places[*k].node < p->nodes[i].unicast) {
		(*k)++;
	}
	/* Places are of active nodes: an excluded one at the same address is in no zone. */
	return *k < p->np && p->places[*k].node == p->nodes[i].unicast && !p->nodes[i].excluded
		   ? &p->places[*k]
		   : NULL;
}

static void page_free(struct page *p)
{
	store_nodes_free(p->nodes);
	free(p->places);
	p->nodes = NULL;
	p->places = NULL;
}

/* Reads the page args asks for: 0, or a negative errno with *err and detail set. */
static int page_read(struct store *st, const json_t *args, struct page *p, int *err, char *detail,
		     size_t cap)
{
	struct store_node_filter f = {0};
	json_t *v;
	int r;

	*p = (struct page){.limit = 50};
	if ((v = json_object_get(args, "limit"))) {
		p->limit = json_integer_value(v);
	}
	if ((v = json_object_get(args, "offset"))) {
		p->offset = json_integer_value(v);
	}
	if ((v = json_object_get(args, "after"))) {
		f.after = (uint16_t)json_integer_value(v);
	}
	if ((v = json_object_get(args, "excluded"))) {
		f.excluded = json_is_true(v) ? 1 : 0;
	}
	f.name_sub = json_string_value(json_object_get(args, "name"));
	if ((v = json_object_get(args, "state"))) {
		enum store_cfg_state cs;

		if (store_cfg_state_parse(json_string_value(v), &cs)) {
			fail(-EINVAL, "state: unknown state", err, detail, cap);
			return -EINVAL;
		}
		f.state_mask = 1u << cs;
	}
	f.offset = (size_t)p->offset;
	f.limit = (size_t)p->limit;
	/* The page and its total from one snapshot. */
	r = store_read_begin(st);
	if (!r) {
		r = store_node_list(st, &f, &p->nodes, &p->n);
	}
	if (!r) {
		r = store_node_count(st, &f, &p->total);
	}
	/* The page is by address: the zones of its address range, in one query. */
	if (!r && p->n) {
		r = store_zone_places(st, p->nodes[0].unicast, p->nodes[p->n - 1].unicast,
				      &p->places, &p->np);
	}
	store_read_end(st);
	if (r) {
		page_free(p);
		fail(r, store_strerror(r), err, detail, cap);
	}
	return r;
}

/* A full page may have a next one: its cursor is the last address here. */
static bool page_has_next(const struct page *p)
{
	return p->n && (json_int_t)p->n == p->limit;
}

json_t *gw_nodes_page_json(struct store *st, const json_t *args, int *err, char *detail, size_t cap)
{
	struct page p;
	json_t *items, *next;
	size_t i, k = 0;

	if (page_read(st, args, &p, err, detail, cap)) {
		return NULL;
	}
	items = json_array();
	for (i = 0; i < p.n; i++) {
		json_t *o = gw_node_json(&p.nodes[i]);

		json_object_set_new(o, "zone", gw_zone_place_json(page_place(&p, i, &k)));
		json_array_append_new(items, o);
	}
	next = page_has_next(&p) ? json_integer(p.nodes[p.n - 1].unicast) : json_null();
	page_free(&p);
	return json_pack("{s:o, s:I, s:I, s:I, s:o}", "items", items, "total", (json_int_t)p.total,
			 "limit", p.limit, "offset", p.offset, "next_after", next);
}

char *gw_nodes_page_text(struct store *st, const json_t *args, size_t *len, int *err, char *detail,
			 size_t cap)
{
	struct gw_jw w = {0};
	struct page p;
	char *text;
	size_t i, k = 0;

	if (page_read(st, args, &p, err, detail, cap)) {
		return NULL;
	}
	/* The keys in gw_nodes_page_json()'s order. */
	gw_jw_lit(&w, "{\"items\":[");
	for (i = 0; i < p.n; i++) {
		if (i) {
			gw_jw_raw(&w, ",", 1);
		}
		gw_node_print_open(&w, &p.nodes[i]);
		gw_jw_lit(&w, ",\"zone\":");
		gw_zone_place_print(&w, page_place(&p, i, &k));
		gw_jw_lit(&w, "}");
	}
	gw_jw_lit(&w, "],\"total\":");
	gw_jw_int(&w, (long long)p.total);
	gw_jw_lit(&w, ",\"limit\":");
	gw_jw_int(&w, p.limit);
	gw_jw_lit(&w, ",\"offset\":");
	gw_jw_int(&w, p.offset);
	gw_jw_lit(&w, ",\"next_after\":");
	if (page_has_next(&p)) {
		gw_jw_int(&w, p.nodes[p.n - 1].unicast);
	} else {
		gw_jw_lit(&w, "null");
	}
	gw_jw_lit(&w, "}");
	page_free(&p);
	text = gw_jw_take(&w, len);
	if (!text) {
		fail(-ENOMEM, "out of memory", err, detail, cap);
	}
	return text;
}

/* Completes c with what a JSON builder made (o) or its error. */
static void complete_built(struct gw_nodes *gw, struct gw_cmd *c, json_t *o, int err,
			   const char *detail)
{
	gw_cmd_complete(gw->core->q, c, o ? 0 : err, o, o ? NULL : detail);
}

void gw_nodes_cmd_list(struct gw_nodes *gw, struct gw_cmd *c)
{
	char detail[128];
	int err = 0;
	json_t *o = gw_nodes_page_json(gw->core->st, c->args, &err, detail, sizeof(detail));

	complete_built(gw, c, o, err, detail);
}

/* A JSON array of 16-bit values (key indexes, addresses). */
static json_t *u16_array(const uint16_t *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_array_append_new(a, json_integer(v[i]));
	}
	return a;
}

static json_t *model_json(bool vendor, uint32_t id)
{
	if (!vendor) {
		return json_integer(id);
	}
	return json_pack("{s:i, s:i}", "company", id >> 16, "id", id & 0xffff);
}

/* The subscriptions of every model of node n, from st. */
static json_t *subs_json(struct store *st, const struct store_node *n)
{
	struct store_model *models = NULL;
	size_t cnt = 0, i;
	json_t *arr = json_array();

	if (store_comp_models(st, n->unicast, &models, &cnt) == 0) {
		for (i = 0; i < cnt; i++) {
			uint16_t ea = (uint16_t)(n->unicast + models[i].elem_idx);
			uint16_t *subs = NULL;
			size_t ns = 0, k;

			if (store_sub_list(st, ea, models[i].vendor, models[i].id, &subs, &ns)) {
				continue;
			}
			for (k = 0; k < ns; k++) {
				json_array_append_new(
				    arr,
				    json_pack("{s:i, s:o, s:i}", "element", models[i].elem_idx,
					      "model", model_json(models[i].vendor, models[i].id),
					      "address", subs[k]));
			}
			free(subs);
		}
	}
	free(models);
	return arr;
}

/* The node's details after gw_node_json(): keys, pages, bindings, subscriptions. */
static json_t *node_detail(struct store *st, const struct store_node *n)
{
	json_t *o = gw_node_json(n), *arr;
	uint16_t *idx = NULL;
	uint8_t *pages = NULL;
	struct store_binding *b = NULL;
	size_t cnt = 0, i;

	json_object_set_new(o, "certificate", gw_node_cert_json(st, n->unicast));
	json_object_set_new(o, "zone", gw_node_zone_json(st, n->unicast));
	/*
	 * A fingerprint (s1 of the key, 4 octets) tells keys apart; the key never
	 * leaves.  Recorded with the key (store_set_keyprint()), not unsealed here.
	 * An excluded node's key is no longer in use and is not shown.
	 */
	if (n->devkey_fp[0] && !n->excluded) {
		json_object_set_new(o, "devkey_fingerprint", json_string(n->devkey_fp));
	}
	(void)store_node_netkey_list(st, n->unicast, &idx, &cnt);
	json_object_set_new(o, "net_keys", u16_array(idx, idx ? cnt : 0));
	free(idx);
	idx = NULL;
	cnt = 0;
	(void)store_node_appkey_list(st, n->unicast, &idx, &cnt);
	json_object_set_new(o, "app_keys", u16_array(idx, idx ? cnt : 0));
	free(idx);
	arr = json_array();
	if (store_comp_page_list(st, n->unicast, &pages, &cnt) == 0) {
		for (i = 0; i < cnt; i++) {
			json_array_append_new(arr, json_integer(pages[i]));
		}
	}
	free(pages);
	json_object_set_new(o, "pages", arr);
	arr = json_array();
	if (store_node_bindings(st, n->unicast, &b, &cnt) == 0) {
		for (i = 0; i < cnt; i++) {
			json_array_append_new(arr, json_pack("{s:i, s:o, s:i}", "element",
							     b[i].elem_addr - n->unicast, "model",
							     model_json(b[i].vendor, b[i].id),
							     "app_index", b[i].app_idx));
		}
	}
	free(b);
	json_object_set_new(o, "bindings", arr);
	json_object_set_new(o, "subscriptions", subs_json(st, n));
	return o;
}

json_t *gw_nodes_node_json(struct store *st, const json_t *args, int *err, char *detail, size_t cap)
{
	json_int_t a = json_integer_value(json_object_get(args, "address"));
	struct store_node n;
	json_t *o;
	int r;

	/* One snapshot: a writer committing between the queries cannot mix two states. */
	r = store_read_begin(st);
	if (r) {
		return fail(r, store_strerror(r), err, detail, cap);
	}
	r = (a > 0 && a < 0x8000) ? store_node_get(st, (uint16_t)a, &n) : -ENOENT;
	o = r ? NULL : node_detail(st, &n);
	store_read_end(st);
	if (r) {
		return fail(r, r == -ENOENT ? "no node with this address" : store_strerror(r), err,
			    detail, cap);
	}
	return o;
}

void gw_nodes_cmd_get(struct gw_nodes *gw, struct gw_cmd *c)
{
	char detail[128];
	int err = 0;
	json_t *o = gw_nodes_node_json(gw->core->st, c->args, &err, detail, sizeof(detail));

	complete_built(gw, c, o, err, detail);
}

void gw_nodes_cmd_patch(struct gw_nodes *gw, struct gw_cmd *c)
{
	struct store_node n;
	const char *name = json_string_value(json_object_get(c->args, "name"));
	int r;

	if (!addr_arg(gw, c, &n)) {
		return;
	}
	r = store_node_name_set(gw->core->st, n.unicast, name ? name : "");
	if (!r) {
		r = store_node_get(gw->core->st, n.unicast, &n);
	}
	if (r) {
		gw_cmd_complete(gw->core->q, c, r, NULL, store_strerror(r));
		return;
	}
	gw_core_publish(gw->core, "node.updated", gw_node_json(&n));
	gw_cmd_complete(gw->core->q, c, 0, gw_node_json(&n), NULL);
}

void gw_nodes_cmd_comp(struct gw_nodes *gw, struct gw_cmd *c)
{
	struct store_node n;
	json_int_t page = json_integer_value(json_object_get(c->args, "page"));
	uint8_t data[STORE_COMP_PAGE_MAX];
	struct mesh_comp *comp;
	size_t len, e, k;
	json_t *els;
	char hex[2 * STORE_COMP_PAGE_MAX + 1];
	int r;

	if (!addr_arg(gw, c, &n)) {
		return;
	}
	r = (page >= 0 && page <= 255) ? store_comp_page_get(gw->core->st, n.unicast, (uint8_t)page,
							     data, sizeof(data), &len)
				       : -ENOENT;
	if (r) {
		gw_cmd_complete(gw->core->q, c, -ENOENT, NULL,
				"this page was not read from the node");
		return;
	}
	comp = calloc(1, sizeof(*comp));
	if (!comp || mesh_comp_parse(data, len, comp)) {
		/* Pages other than 0/128 have other layouts: the raw bytes only. */
		free(comp);
		gw_cmd_complete(
		    gw->core->q, c, 0,
		    json_pack("{s:I, s:s}", "page", page, "raw", gw_hex(data, len, hex)), NULL);
		return;
	}
	els = json_array();
	for (e = 0; e < comp->n_elems; e++) {
		const struct mesh_comp_elem *ce = &comp->elems[e];
		json_t *ms = json_array();

		for (k = 0; k < ce->num_s; k++) {
			json_array_append_new(ms, json_pack("{s:i, s:b, s:n}", "id",
							    comp->sig[ce->sig_off + k], "vendor", 0,
							    "company"));
		}
		for (k = 0; k < ce->num_v; k++) {
			json_array_append_new(
			    ms, json_pack("{s:i, s:b, s:i}", "id", comp->vnd[ce->vnd_off + k].id,
					  "vendor", 1, "company", comp->vnd[ce->vnd_off + k].cid));
		}
		json_array_append_new(els, json_pack("{s:i, s:i, s:o}", "index", (int)e, "location",
						     ce->loc, "models", ms));
	}
	gw_cmd_complete(gw->core->q, c, 0,
			json_pack("{s:I, s:s, s:i, s:i, s:i, s:i, s:i, s:o}", "page", page, "raw",
				  gw_hex(data, len, hex), "cid", comp->cid, "pid", comp->pid, "vid",
				  comp->vid, "crpl", comp->crpl, "features", comp->features,
				  "elements", els),
			NULL);
	free(comp);
}

/* --- Config operations ---------------------------------------------------------- */

struct cfg_job {
	struct gw_nodes *gw;
	struct gw_cmd *cmd;
	uint16_t node; /* primary address */
	char op[32];
	struct cfg_msg req;
};

static int model_arg(json_t *m, struct cfg_model_id *out)
{
	if (json_is_integer(m)) {
		json_int_t v = json_integer_value(m);

		if (v < 0 || v > 0xffff) {
			return -EINVAL;
		}
		out->vendor = false;
		out->id = (uint16_t)v;
		return 0;
	}
	if (json_is_object(m)) {
		json_int_t cid = json_integer_value(json_object_get(m, "company"));
		json_int_t id = json_integer_value(json_object_get(m, "id"));

		if (cid < 0 || cid > 0xffff || id < 0 || id > 0xffff) {
			return -EINVAL;
		}
		out->vendor = true;
		out->cid = (uint16_t)cid;
		out->id = (uint16_t)id;
		return 0;
	}
	return -EINVAL;
}

static uint32_t model_u32(const struct cfg_model_id *m)
{
	return m->vendor ? (uint32_t)m->cid << 16 | m->id : m->id;
}

/* Build the request for a "config" operation; -EINVAL with a message. */
static int build_req(struct gw_nodes *gw, const struct store_node *n, json_t *a, struct cfg_msg *m,
		     char *err, size_t cap)
{
	const char *op = json_string_value(json_object_get(a, "op"));
	json_int_t el = json_integer_value(json_object_get(a, "element"));
	uint16_t ea = (uint16_t)(n->unicast + el);
	struct cfg_model_id mid = {0};
	bool need_model = false;

	if (!op) {
		snprintf(err, cap, "op: required");
		return -EINVAL;
	}
	if (json_object_get(a, "model")) {
		need_model = true;
		if (model_arg(json_object_get(a, "model"), &mid)) {
			snprintf(err, cap, "model: a SIG model ID or {company, id}");
			return -EINVAL;
		}
	}
	if (el < 0 || el >= n->elements) {
		snprintf(err, cap, "element: the node has %u elements", n->elements);
		return -EINVAL;
	}
	(void)need_model;
#define I(k) json_integer_value(json_object_get(a, k))
/* The body's own "address", which the path's node address displaced (gw_cmd.h). */
#define BODY_ADDR() json_integer_value(json_object_get(json_object_get(a, "_body"), "address"))
#define B(k) json_is_true(json_object_get(a, k))
	if (!strcmp(op, "composition_get")) {
		m->op = CFG_OP_COMP_GET;
		m->comp.page = (uint8_t)I("page");
	} else if (!strcmp(op, "appkey_add") || !strcmp(op, "appkey_delete")) {
		struct store_appkey ak;

		if (store_appkey_get(gw->core->st, (uint16_t)I("app_index"), &ak)) {
			snprintf(err, cap, "app_index: no such AppKey");
			return -ENOENT;
		}
		m->op = !strcmp(op, "appkey_add") ? CFG_OP_APPKEY_ADD : CFG_OP_APPKEY_DELETE;
		m->appkey.net_idx = ak.net_idx;
		m->appkey.app_idx = ak.idx;
		memcpy(m->appkey.key, ak.key, 16);
		mesh_crypto_wipe(&ak, sizeof(ak));
	} else if (!strcmp(op, "appkey_list")) {
		m->op = CFG_OP_APPKEY_GET;
		m->net_idx.net_idx = (uint16_t)I("net_index");
	} else if (!strcmp(op, "bind") || !strcmp(op, "unbind")) {
		m->op = !strcmp(op, "bind") ? CFG_OP_MODEL_APP_BIND : CFG_OP_MODEL_APP_UNBIND;
		m->model_app.elem_addr = ea;
		m->model_app.app_idx = (uint16_t)I("app_index");
		m->model_app.model = mid;
	} else if (!strcmp(op, "publication_get")) {
		m->op = CFG_OP_MODEL_PUB_GET;
		m->model_ref.elem_addr = ea;
		m->model_ref.model = mid;
	} else if (!strcmp(op, "publication_set")) {
		m->op = CFG_OP_MODEL_PUB_SET;
		m->model_pub.elem_addr = ea;
		m->model_pub.pub_addr = (uint16_t)BODY_ADDR();
		m->model_pub.app_idx = (uint16_t)I("app_index");
		m->model_pub.ttl =
		    json_object_get(a, "ttl") ? (uint8_t)I("ttl") : CFG_PUB_TTL_DEFAULT;
		m->model_pub.period = (uint8_t)I("period");
		/* {count 0..7, interval_ms 50..1600}: count | (interval / 50 - 1) << 3 (§4.2.3). */
		if (json_is_object(json_object_get(a, "retransmit"))) {
			json_t *rt = json_object_get(a, "retransmit");
			json_int_t cnt = json_integer_value(json_object_get(rt, "count"));
			json_int_t ms = json_integer_value(json_object_get(rt, "interval_ms"));

			m->model_pub.retransmit = (uint8_t)(cnt | ((ms / 50 - 1) & 31) << 3);
		}
		m->model_pub.model = mid;
	} else if (!strcmp(op, "subscription_add") || !strcmp(op, "subscription_delete")) {
		m->op = !strcmp(op, "subscription_add") ? CFG_OP_MODEL_SUB_ADD
							: CFG_OP_MODEL_SUB_DELETE;
		m->model_sub.elem_addr = ea;
		m->model_sub.addr = (uint16_t)BODY_ADDR();
		m->model_sub.model = mid;
	} else if (!strcmp(op, "subscription_list")) {
		m->op = mid.vendor ? CFG_OP_VND_MODEL_SUB_GET : CFG_OP_SIG_MODEL_SUB_GET;
		m->model_ref.elem_addr = ea;
		m->model_ref.model = mid;
	} else if (!strcmp(op, "default_ttl_get")) {
		m->op = CFG_OP_DEFAULT_TTL_GET;
	} else if (!strcmp(op, "default_ttl_set")) {
		m->op = CFG_OP_DEFAULT_TTL_SET;
		m->state.val = (uint8_t)I("ttl");
	} else if (!strcmp(op, "relay_get")) {
		m->op = CFG_OP_RELAY_GET;
	} else if (!strcmp(op, "relay_set")) {
		m->op = CFG_OP_RELAY_SET;
		m->relay.relay = B("enabled") ? 1 : 0;
		m->relay.retransmit = (uint8_t)I("retransmit");
	} else if (!strcmp(op, "beacon_get")) {
		m->op = CFG_OP_BEACON_GET;
	} else if (!strcmp(op, "beacon_set")) {
		m->op = CFG_OP_BEACON_SET;
		m->state.val = B("enabled") ? 1 : 0;
	} else if (!strcmp(op, "net_transmit_get")) {
		m->op = CFG_OP_NET_TRANSMIT_GET;
	} else if (!strcmp(op, "net_transmit_set")) {
		json_int_t cnt = I("count"), iv = I("interval_ms");

		if (cnt < 1 || cnt > 8 || iv < 10 || iv > 320 || iv % 10) {
			snprintf(err, cap, "count 1..8 and interval_ms 10..320 in steps of 10");
			return -EINVAL;
		}
		m->op = CFG_OP_NET_TRANSMIT_SET;
		m->state.val = (uint8_t)((cnt - 1) | ((iv / 10 - 1) << 3));
	} else if (!strcmp(op, "heartbeat_pub_get")) {
		m->op = CFG_OP_HB_PUB_GET;
	} else if (!strcmp(op, "heartbeat_pub_set")) {
		m->op = CFG_OP_HB_PUB_SET;
		m->hb_pub.dst = (uint16_t)I("destination");
		m->hb_pub.count_log = (uint8_t)I("count_log");
		m->hb_pub.period_log = (uint8_t)I("period_log");
		m->hb_pub.ttl = (uint8_t)I("ttl");
		m->hb_pub.features = (uint16_t)I("features");
		m->hb_pub.net_idx = (uint16_t)I("net_index");
	} else if (!strcmp(op, "heartbeat_sub_get")) {
		m->op = CFG_OP_HB_SUB_GET;
	} else if (!strcmp(op, "heartbeat_sub_set")) {
		m->op = CFG_OP_HB_SUB_SET;
		m->hb_sub.src = (uint16_t)I("source");
		m->hb_sub.dst = (uint16_t)I("destination");
		m->hb_sub.period_log = (uint8_t)I("period_log");
	} else if (!strcmp(op, "node_reset")) {
		m->op = CFG_OP_NODE_RESET;
	} else {
		snprintf(err, cap, "op: unknown operation '%.40s'", op);
		return -EINVAL;
	}
#undef I
#undef BODY_ADDR
#undef B
	return 0;
}

/* Heartbeat states as the Mesh CDB export writes them (store_cdb.h). */
static void record_hb(struct gw_core *core, uint16_t node, const struct cfg_msg *rsp)
{
	struct store_cdb_node n = {0};

	if (rsp->op == CFG_OP_HB_PUB_STATUS) {
		const struct cfg_hb_pub *p = &rsp->hb_pub;

		/* The period in seconds: 2^(log - 1), 0 for log 0 (§4.2.17.4). */
		n.has_hb_pub = p->dst != 0;
		n.hb_pub_dst = p->dst;
		n.hb_pub_period = p->period_log ? 1u << (p->period_log - 1) : 0;
		n.hb_pub_ttl = p->ttl;
		n.hb_pub_idx = p->net_idx;
		n.hb_pub_features = p->features & 0xf;
		(void)store_cdb_node_hb_set(core->st, node, true, &n);
	} else {
		n.has_hb_sub = rsp->hb_sub.src != 0 && rsp->hb_sub.dst != 0;
		n.hb_sub_src = rsp->hb_sub.src;
		n.hb_sub_dst = rsp->hb_sub.dst;
		(void)store_cdb_node_hb_set(core->st, node, false, &n);
	}
}

void gw_nodes_record(struct gw_core *core, uint16_t node, const struct cfg_msg *req,
		     const struct cfg_msg *rsp)
{
	switch (rsp->op) {
	/* States the node reports: kept for the Mesh CDB export. */
	case CFG_OP_DEFAULT_TTL_STATUS:
		(void)store_cdb_node_state_set(core->st, node, STORE_CDB_DEFAULT_TTL,
					       rsp->state.val);
		break;
	case CFG_OP_BEACON_STATUS:
		(void)store_cdb_node_state_set(core->st, node, STORE_CDB_BEACON, rsp->state.val);
		break;
	case CFG_OP_NET_TRANSMIT_STATUS:
		(void)store_cdb_node_state_set(core->st, node, STORE_CDB_NET_TX, rsp->state.val);
		break;
	case CFG_OP_GATT_PROXY_STATUS:
		(void)store_cdb_node_state_set(core->st, node, STORE_CDB_PROXY, rsp->state.val);
		break;
	case CFG_OP_FRIEND_STATUS:
		(void)store_cdb_node_state_set(core->st, node, STORE_CDB_FRIEND, rsp->state.val);
		break;
	case CFG_OP_RELAY_STATUS:
		(void)store_cdb_node_state_set(core->st, node, STORE_CDB_RELAY,
					       rsp->relay.relay | (uint32_t)rsp->relay.retransmit
								      << 8);
		break;
	case CFG_OP_HB_PUB_STATUS:
		if (rsp->hb_pub.status == CFG_STATUS_SUCCESS) {
			record_hb(core, node, rsp);
		}
		break;
	case CFG_OP_HB_SUB_STATUS:
		if (rsp->hb_sub.status == CFG_STATUS_SUCCESS) {
			record_hb(core, node, rsp);
		}
		break;
	case CFG_OP_COMP_STATUS:
		(void)gw_nodes_store_comp(core, node, rsp->comp.page, rsp->comp.data,
					  rsp->comp.data_len);
		break;
	case CFG_OP_APPKEY_STATUS:
		if (rsp->appkey.status == CFG_STATUS_SUCCESS) {
			if (req->op == CFG_OP_APPKEY_ADD) {
				(void)store_node_appkey_add(core->st, node, rsp->appkey.app_idx);
			} else if (req->op == CFG_OP_APPKEY_DELETE) {
				(void)store_node_appkey_del(core->st, node, rsp->appkey.app_idx);
			}
		}
		break;
	case CFG_OP_MODEL_APP_STATUS:
		if (rsp->model_app.status == CFG_STATUS_SUCCESS) {
			const struct cfg_model_app *m = &rsp->model_app;

			if (req->op == CFG_OP_MODEL_APP_BIND) {
				(void)store_model_bind(core->st, m->elem_addr, m->model.vendor,
						       model_u32(&m->model), m->app_idx);
			} else {
				(void)store_model_unbind(core->st, m->elem_addr, m->model.vendor,
							 model_u32(&m->model), m->app_idx);
			}
		}
		break;
	case CFG_OP_MODEL_SUB_STATUS:
		if (rsp->model_sub.status == CFG_STATUS_SUCCESS) {
			const struct cfg_model_sub *m = &rsp->model_sub;

			if (req->op == CFG_OP_MODEL_SUB_ADD) {
				(void)store_sub_add(core->st, m->elem_addr, m->model.vendor,
						    model_u32(&m->model), m->addr);
			} else if (req->op == CFG_OP_MODEL_SUB_DELETE) {
				(void)store_sub_del(core->st, m->elem_addr, m->model.vendor,
						    model_u32(&m->model), m->addr);
			}
		}
		break;
	case CFG_OP_MODEL_PUB_STATUS:
		if (rsp->model_pub.status == CFG_STATUS_SUCCESS &&
		    req->op == CFG_OP_MODEL_PUB_SET) {
			const struct cfg_model_pub *m = &rsp->model_pub;
			struct store_pub p = {.addr = m->pub_addr,
					      .app_idx = m->app_idx,
					      .cred = m->cred,
					      .ttl = m->ttl,
					      .period = m->period,
					      .retransmit = m->retransmit};

			(void)store_pub_set(core->st, m->elem_addr, m->model.vendor,
					    model_u32(&m->model), &p);
		}
		break;
	default:
		break;
	}
}

/* The status as JSON: op, status code and name, and the fields that matter. */
static json_t *rsp_json(const char *op, const struct cfg_msg *r)
{
	json_t *o = json_pack("{s:s}", "op", op);
	uint8_t st = CFG_STATUS_SUCCESS;
	char hex[2 * 384 + 1];

	switch (cfg_msg_family(r->op)) {
	case CFG_FAM_COMP:
		json_object_set_new(o, "page", json_integer(r->comp.page));
		json_object_set_new(o, "data",
				    json_string(gw_hex(r->comp.data, r->comp.data_len, hex)));
		break;
	case CFG_FAM_STATE:
		json_object_set_new(o, "value", json_integer(r->state.val));
		break;
	case CFG_FAM_RELAY:
		json_object_set_new(o, "relay", json_integer(r->relay.relay));
		json_object_set_new(o, "retransmit", json_integer(r->relay.retransmit));
		break;
	case CFG_FAM_APPKEY:
		st = r->appkey.status;
		json_object_set_new(o, "app_index", json_integer(r->appkey.app_idx));
		break;
	case CFG_FAM_MODEL_APP:
		st = r->model_app.status;
		break;
	case CFG_FAM_MODEL_SUB:
		st = r->model_sub.status;
		json_object_set_new(o, "address", json_integer(r->model_sub.addr));
		break;
	case CFG_FAM_MODEL_PUB:
		st = r->model_pub.status;
		json_object_set_new(o, "address", json_integer(r->model_pub.pub_addr));
		json_object_set_new(o, "app_index", json_integer(r->model_pub.app_idx));
		json_object_set_new(o, "ttl", json_integer(r->model_pub.ttl));
		json_object_set_new(o, "period", json_integer(r->model_pub.period));
		json_object_set_new(o, "retransmit", json_integer(r->model_pub.retransmit));
		break;
	case CFG_FAM_MODEL_LIST:
		st = r->model_list.status;
		json_object_set_new(o, "items", u16_array(r->model_list.items, r->model_list.n));
		break;
	case CFG_FAM_IDX_LIST:
		st = r->idx_list.status;
		json_object_set_new(o, "items", u16_array(r->idx_list.idx, r->idx_list.n));
		break;
	case CFG_FAM_HB_PUB:
		st = r->hb_pub.status;
		json_object_set_new(o, "destination", json_integer(r->hb_pub.dst));
		json_object_set_new(o, "count_log", json_integer(r->hb_pub.count_log));
		json_object_set_new(o, "period_log", json_integer(r->hb_pub.period_log));
		json_object_set_new(o, "ttl", json_integer(r->hb_pub.ttl));
		json_object_set_new(o, "features", json_integer(r->hb_pub.features));
		json_object_set_new(o, "net_index", json_integer(r->hb_pub.net_idx));
		break;
	case CFG_FAM_HB_SUB:
		st = r->hb_sub.status;
		json_object_set_new(o, "source", json_integer(r->hb_sub.src));
		json_object_set_new(o, "destination", json_integer(r->hb_sub.dst));
		json_object_set_new(o, "period_log", json_integer(r->hb_sub.period_log));
		break;
	case CFG_FAM_NET_IDX:
		st = r->net_idx.status;
		json_object_set_new(o, "net_index", json_integer(r->net_idx.net_idx));
		json_object_set_new(o, "value", json_integer(r->net_idx.state));
		break;
	case CFG_FAM_NONE:
	case CFG_FAM_EMPTY:
	case CFG_FAM_MODEL_REF:
	case CFG_FAM_NETKEY:
	case CFG_FAM_LPN_TIMEOUT:
		break;
	}
	json_object_set_new(o, "status", json_integer(st));
	json_object_set_new(o, "status_name", json_string(cfg_status_str(st)));
	return o;
}

static void on_cfg_done(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct cfg_job *j = ctx;
	struct gw_nodes *gw = j->gw;

	(void)src;
	if (err) {
		char why[200];

		gw_cmd_complete(gw->core->q, j->cmd, err, NULL,
				gw_core_send_error(gw->core, err, why, sizeof(why)));
	} else {
		gw_nodes_record(gw->core, j->node, &j->req, rsp);
		gw_cmd_complete(gw->core->q, j->cmd, 0, rsp_json(j->op, rsp), NULL);
	}
	mesh_crypto_wipe(j, sizeof(*j));
	free(j);
	gw_core_rearm(gw->core);
}

void gw_nodes_cmd_config(struct gw_nodes *gw, struct gw_cmd *c)
{
	struct store_node n;
	struct cfg_job *j;
	char err[200];
	int r;

	if (!addr_arg(gw, c, &n)) {
		return;
	}
	if (n.excluded) {
		gw_cmd_complete(gw->core->q, c, -ENOENT, NULL, "the node was removed");
		return;
	}
	if (!gw_core_radio_gate(gw->core, c)) {
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		gw_cmd_complete(gw->core->q, c, -ENOMEM, NULL, NULL);
		return;
	}
	j->gw = gw;
	j->cmd = c;
	j->node = n.unicast;
	snprintf(j->op, sizeof(j->op), "%s", json_string_value(json_object_get(c->args, "op")));
	r = build_req(gw, &n, c->args, &j->req, err, sizeof(err));
	if (!r) {
		r = cfg_cli_request(gw->core->cfg, gw->core->primary_net, n.unicast, NULL, &j->req,
				    GW_CFG_TIMEOUT_MS, GW_CFG_RETRY_MS, on_cfg_done, j,
				    gw_loop_now(gw->core->loop));
		if (r) {
			gw_core_send_error(gw->core, r, err, sizeof(err));
		}
	}
	if (r) {
		mesh_crypto_wipe(j, sizeof(*j));
		free(j);
		gw_cmd_complete(gw->core->q, c, r, NULL, err);
	}
	gw_core_rearm(gw->core);
}

/* --- Generic OnOff --------------------------------------------------------------- */

struct onoff_job {
	struct gw_nodes *gw;
	struct gw_cmd *cmd;
	uint16_t addr;
};

static void on_onoff(void *ctx, int err, const struct mesh_acc_msg *rsp)
{
	struct onoff_job *j = ctx;
	struct onoff_status st;

	if (err) {
		char why[200];

		gw_cmd_complete(j->gw->core->q, j->cmd, err, NULL,
				gw_core_send_error(j->gw->core, err, why, sizeof(why)));
	} else if (onoff_msg_status_decode(rsp->params, rsp->len, &st)) {
		gw_cmd_complete(j->gw->core->q, j->cmd, -EBADMSG, NULL,
				"malformed Generic OnOff Status");
	} else {
		gw_cmd_complete(j->gw->core->q, j->cmd, 0,
				json_pack("{s:i, s:b}", "address", j->addr, "present", st.present),
				NULL);
	}
	free(j);
}

/*
 * A unicast target must be an element of a node in the inventory (-ENOENT), and when the node's
 * composition is known that element must have a Generic OnOff Server (-ENOMSG): both are
 * answered at once instead of waiting for a node that cannot answer.
 */
static int onoff_target_check(struct gw_nodes *gw, uint16_t addr, char *why, size_t cap)
{
	struct store_model *models = NULL;
	size_t n = 0, i;
	uint16_t primary;
	int r;

	r = store_node_lookup(gw->core->st, addr, &primary);
	if (r == -ENOENT) {
		snprintf(why, cap, "no node has address 0x%04x", addr);
		return r;
	}
	if (r) {
		snprintf(why, cap, "inventory: %s", store_strerror(r));
		return r;
	}
	r = store_comp_models(gw->core->st, primary, &models, &n);
	if (r) {
		snprintf(why, cap, "inventory: %s", store_strerror(r));
		return r;
	}
	for (i = 0; i < n; i++) {
		if (models[i].elem_idx == addr - primary && !models[i].vendor &&
		    models[i].id == 0x1000 /* Generic OnOff Server */) {
			break;
		}
	}
	free(models);
	if (n && i == n) {
		snprintf(why, cap, "node 0x%04x element %u has no Generic OnOff Server", primary,
			 (unsigned)(addr - primary));
		return -ENOMSG;
	}
	return 0; /* the server is there, or the composition is not known yet: ask */
}

static void onoff_send(struct gw_nodes *gw, struct gw_cmd *c, bool set)
{
	json_int_t a = json_integer_value(json_object_get(c->args, "address"));
	bool ack = !json_is_false(json_object_get(c->args, "ack"));
	struct mesh_node_msg m = {
	    .net_idx = gw->core->primary_net, .app_idx = 0, .ttl = MESH_TTL_DEFAULT};
	struct onoff_job *j;
	uint8_t p[4];
	size_t len = 0;
	int r;

	if (a <= 0 || a > 0xffff || mesh_addr_is_virtual((uint16_t)a)) {
		gw_cmd_complete(gw->core->q, c, -EINVAL, NULL,
				"address: a unicast or group address");
		return;
	}
	m.dst = (uint16_t)a;
	if (mesh_addr_is_unicast(m.dst)) {
		char why[96];

		r = onoff_target_check(gw, m.dst, why, sizeof(why));
		if (r) {
			gw_cmd_complete(gw->core->q, c, r, NULL, why);
			return;
		}
	}
	if (!gw_core_radio_gate(gw->core, c)) {
		return;
	}
	if (set) {
		struct onoff_set s = {.onoff = json_is_true(json_object_get(c->args, "on")) ? 1 : 0,
				      .tid = ++gw->onoff_tid};

		(void)onoff_msg_set_encode(&s, p, sizeof(p), &len);
		m.opcode = ack ? ONOFF_OP_SET : ONOFF_OP_SET_UNACK;
	} else {
		m.opcode = ONOFF_OP_GET;
	}
	m.params = p;
	m.len = len;
	if (!mesh_addr_is_unicast(m.dst) || (set && !ack)) {
		/* A group answers with many statuses, or none: fire and report. */
		r = mesh_node_send(gw->core->node, &m, gw_loop_now(gw->core->loop), NULL);
		char why[200];

		gw_cmd_complete(gw->core->q, c, r,
				r ? NULL : json_pack("{s:I, s:n}", "address", a, "present"),
				r ? gw_core_send_error(gw->core, r, why, sizeof(why)) : NULL);
		gw_core_rearm(gw->core);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		gw_cmd_complete(gw->core->q, c, -ENOMEM, NULL, NULL);
		return;
	}
	j->gw = gw;
	j->cmd = c;
	j->addr = m.dst;
	r = mesh_cli_request(gw->core->onoff, &m, ONOFF_OP_STATUS, GW_CFG_TIMEOUT_MS,
			     GW_CFG_RETRY_MS, on_onoff, j, gw_loop_now(gw->core->loop));
	if (r) {
		char why[200];

		free(j);
		gw_cmd_complete(gw->core->q, c, r, NULL,
				gw_core_send_error(gw->core, r, why, sizeof(why)));
	}
	gw_core_rearm(gw->core);
}

void gw_nodes_cmd_onoff_set(struct gw_nodes *gw, struct gw_cmd *c)
{
	onoff_send(gw, c, true);
}

void gw_nodes_cmd_onoff_get(struct gw_nodes *gw, struct gw_cmd *c)
{
	onoff_send(gw, c, false);
}

/* --- Removal, a job of kind "remove" ------------------------------------------ */

/*
 * Steps of a removal target: 0 nothing sent; 1 Node Reset about to be sent
 * (committed first: after a restart it is sent again, and a node that
 * reset already does not answer, which ends the same way); 2 the node is
 * removed and its subnets' Key Refresh is to start (remove_key_refresh):
 * the target waits until one has begun for each NetKey the node held.
 *
 * A Node Reset alone does not lock a device out: one that ignores it, or
 * is off the air while it is sent, keeps every key it had.  Only new keys
 * for its subnets do (Mesh Profile §3.11.4, "to remove a node").
 */
enum {
	RM_STEP_NONE,
	RM_STEP_RESET,
	RM_STEP_KEYS,
};

/* The answer to one Node Reset names the attempt it belongs to. */
struct rm_ticket {
	struct gw_nodes *nodes;
	uint64_t job;
	uint32_t idx;
	uint32_t serial;
};

void gw_nodes_op_finish(struct gw_core *core, uint64_t op_id, int st, const char *result,
			const char *error)
{
	static const char *const names[] = {"pending", "running", "done", "failed", "cancelled"};

	if (!op_id) {
		return;
	}
	(void)store_op_finish(core->st, op_id, (enum store_op_state)st, result, error);
	gw_core_publish(core, "operation.updated",
			json_pack("{s:I, s:s}", "id", (json_int_t)op_id, "state", names[st % 5]));
}

static uint64_t op_of(const struct gw_job_run *run)
{
	return (uint64_t)json_integer_value(json_object_get(run->job_params, "op"));
}

static void rm_answer(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct rm_ticket *tk = ctx;
	struct gw_nodes *gw = tk->nodes;
	struct gw_job_run *run = gw_jobs_run(gw->jobs, tk->job, tk->idx);
	uint16_t addr;
	char result[80];
	int r;

	(void)src;
	(void)rsp;
	if (!run || !run->priv || *(uint32_t *)run->priv != tk->serial) {
		free(tk);
		return; /* an attempt that was stopped */
	}
	free(tk);
	free(run->priv);
	run->priv = NULL;
	addr = run->t.node;
	gw_crash_point("remove.answer");
	/*
	 * The node is removed whether or not its Node Reset Status came back:
	 * a node that reset and lost the status, or one that is gone, must not
	 * keep its addresses (they go on the exclusion list).
	 */
	r = store_node_remove(gw->core->st, addr);
	if (r == -ENOENT) {
		struct store_node n;

		/* Removed before a restart interrupted the end of the job. */
		r = store_node_get(gw->core->st, addr, &n) == 0 && n.excluded ? 0 : r;
	}
	snprintf(result, sizeof(result), "{\"address\": %u, \"reset_acknowledged\": %s}", addr,
		 err ? "false" : "true");
	if (r) {
		gw_nodes_op_finish(gw->core, op_of(run), STORE_OP_FAILED, NULL, store_strerror(r));
		gw_jobs_end(run, GW_JOB_FAIL, store_strerror(r), NULL);
		return;
	}
	log_info("node 0x%04x removed%s", addr,
		 err ? " (no Node Reset Status: the node may be gone already)" : "");
	gw_core_publish(gw->core, "node.removed", json_pack("{s:i}", "address", addr));
	gw_nodes_op_finish(gw->core, op_of(run), STORE_OP_SUCCEEDED, result, NULL);
	if (!json_array_size(json_object_get(run->job_params, "net_indexes")) || !gw->kr) {
		gw_jobs_end(run, GW_JOB_OK, NULL, result);
		return;
	}
	/* Committed before any refresh starts: a restart goes on with the refresh, not a reset. */
	run->t.step = RM_STEP_KEYS;
	r = gw_jobs_commit(run);
	gw_crash_point("remove.keys");
	gw_jobs_end(run, r ? GW_JOB_RETRY : GW_JOB_WAIT, r ? store_strerror(r) : NULL, NULL);
}

/* Is t a removal that has not removed its node yet (other than the one in arg)? */
static bool removing(const struct store_job_target *t, void *arg)
{
	const struct store_job_target *me = arg;

	return t->step < RM_STEP_KEYS && (t->job != me->job || t->idx != me->idx);
}

/*
 * Step RM_STEP_KEYS: a Key Refresh of each NetKey the node held that began
 * after its removal, started here when there is none.  -EBUSY (the target
 * waits) while another Key Refresh runs, and in "collect" mode while other
 * removals are still under way, so that they share one refresh.
 */
static int rm_keys(struct gw_nodes *gw, struct gw_job_run *run)
{
	json_t *nets = json_object_get(run->job_params, "net_indexes"), *v, *done;
	const char *mode = json_string_value(json_object_get(run->job_params, "key_refresh"));
	struct store_node n;
	struct store_op rec;
	char who[STORE_NAME_MAX];
	json_t *res;
	char *text;
	size_t i;
	int r;

	snprintf(who, sizeof(who), "removal job %llu", (unsigned long long)run->t.job);
	if (mode && !strcmp(mode, "collect") &&
	    gw_jobs_any_target(gw->jobs, &gw->k_remove, removing, &run->t)) {
		return -EBUSY;
	}
	r = store_node_get(gw->core->st, run->t.node, &n);
	if (!r && !n.excluded) {
		r = -EINVAL; /* the node is back: nothing of this removal applies */
	}
	done = json_array();
	json_array_foreach(nets, i, v)
	{
		uint64_t job = 0;

		if (!r) {
			r = gw_kr_cover(gw->kr, (uint16_t)json_integer_value(v), n.updated_ms, who,
					&job);
		}
		if (!r) {
			json_array_append_new(
			    done, json_pack("{s:O, s:I}", "net_index", v, "job", (json_int_t)job));
		}
	}
	if (r) {
		json_decref(done);
		return r;
	}
	/* The result of the removal itself (the operation's), and the refreshes. */
	res = NULL;
	if (store_op_get(gw->core->st, op_of(run), &rec) == 0) {
		res = rec.result ? json_loads(rec.result, 0, NULL) : NULL;
		store_op_clear(&rec);
	}
	if (!res) {
		res = json_pack("{s:i}", "address", run->t.node);
	}
	json_object_set_new(res, "key_refresh", done);
	text = json_dumps(res, JSON_COMPACT);
	json_decref(res);
	gw_jobs_end(run, GW_JOB_OK, NULL, text);
	free(text);
	return 0;
}

static int rm_start(void *ctx, struct gw_job_run *run)
{
	struct gw_nodes *gw = ctx;
	struct cfg_msg m = {.op = CFG_OP_NODE_RESET};
	struct rm_ticket *tk = calloc(1, sizeof(*tk));
	uint32_t *serial = calloc(1, sizeof(*serial));
	int r;

	if (run->t.step == RM_STEP_KEYS) {
		free(tk);
		free(serial);
		return rm_keys(gw, run);
	}
	if (!tk || !serial) {
		free(tk);
		free(serial);
		return -ENOMEM;
	}
	*serial = ++gw->serial;
	*tk = (struct rm_ticket){gw, run->t.job, run->t.idx, *serial};
	/* Write-ahead: the reset is recorded before it goes out. */
	run->t.step = RM_STEP_RESET;
	r = gw_jobs_commit(run);
	if (!r) {
		gw_crash_point("remove.reset");
		(void)store_op_progress(gw->core->st, op_of(run), STORE_OP_RUNNING, 10);
		r = cfg_cli_request(gw->core->cfg, gw->core->primary_net, run->t.node, NULL, &m,
				    GW_CFG_TIMEOUT_MS, GW_CFG_RETRY_MS, rm_answer, tk,
				    gw_core_now(gw->core));
	}
	if (r) {
		free(tk);
		free(serial);
		return r;
	}
	run->priv = serial;
	gw_core_rearm(gw->core);
	return 0;
}

static void rm_stop(void *ctx, struct gw_job_run *run, bool stopping)
{
	(void)ctx;
	(void)stopping;
	/* A Node Reset cannot be taken back: a cancelled removal still ends as the node answers. */
	if (stopping) {
		free(run->priv);
		run->priv = NULL;
	}
}

static bool same_node(struct gw_job_run *run, void *arg)
{
	return run->t.node == *(const uint16_t *)arg;
}

/* Parameters of a removal's Key Refresh: the mode and the NetKeys the node holds. */
static int key_refresh_params(struct gw_nodes *gw, uint16_t addr, json_t *params)
{
	uint16_t *nk = NULL;
	size_t n = 0, i;
	json_t *nets = json_array();
	int r = store_node_netkey_list(gw->core->st, addr, &nk, &n);

	for (i = 0; !r && i < n; i++) {
		json_array_append_new(nets, json_integer(nk[i]));
	}
	free(nk);
	json_object_set_new(params, "key_refresh",
			    json_string(gw_conf_remove_kr_name(gw->core->conf.remove_kr)));
	json_object_set_new(params, "net_indexes", nets);
	return r;
}

void gw_nodes_cmd_remove(struct gw_nodes *gw, struct gw_cmd *c)
{
	struct store_job_target_new t = {0};
	struct store_node n;
	uint64_t op = 0, job = 0;
	json_t *params, *o;
	int r;

	if (!addr_arg(gw, c, &n)) {
		return;
	}
	if (n.excluded) {
		gw_cmd_complete(gw->core->q, c, -ENOENT, NULL, "the node was removed already");
		return;
	}
	if (gw_jobs_find(gw->jobs, &gw->k_remove, same_node, &n.unicast)) {
		gw_cmd_complete(gw->core->q, c, -EBUSY, NULL, "a removal of this node is running");
		return;
	}
	r = store_op_create(gw->core->st, "remove", &op);
	t.node = n.unicast;
	t.has_uuid = true;
	memcpy(t.uuid, n.uuid, 16);
	t.name = n.name;
	params = json_pack("{s:I}", "op", (json_int_t)op);
	if (!r && gw->core->conf.remove_kr != GW_REMOVE_KR_OFF) {
		/* The subnets to refresh are the node's now: its key lists go with it. */
		r = key_refresh_params(gw, n.unicast, params);
	}
	if (!r) {
		r = gw_jobs_create(gw->jobs, "remove", params, c->who, &t, 1, &job);
	}
	json_decref(params);
	if (r) {
		gw_nodes_op_finish(gw->core, op, STORE_OP_FAILED, NULL, store_strerror(r));
		gw_cmd_complete(gw->core->q, c, r, NULL, store_strerror(r));
		return;
	}
	o = NULL;
	{
		struct store_op rec;

		if (store_op_get(gw->core->st, op, &rec) == 0) {
			o = gw_op_json(&rec, n.unicast);
			store_op_clear(&rec);
		}
	}
	if (!o) {
		o = json_object();
	}
	json_object_set_new(o, "job", json_integer((json_int_t)job));
	json_object_set_new(o, "_http_status", json_integer(202));
	gw_cmd_complete(gw->core->q, c, 0, o, NULL);
	gw_core_rearm(gw->core);
}

struct gw_nodes *gw_nodes_new(struct gw_core *core, struct gw_jobs *jobs)
{
	struct gw_nodes *gw = calloc(1, sizeof(*gw));

	if (!gw) {
		return NULL;
	}
	gw->core = core;
	gw->jobs = jobs;
	gw->k_remove =
	    (struct gw_job_kind){.name = "remove", .ctx = gw, .start = rm_start, .stop = rm_stop};
	if (gw_jobs_register(jobs, &gw->k_remove)) {
		free(gw);
		return NULL;
	}
	return gw;
}

void gw_nodes_set_kr(struct gw_nodes *gw, struct gw_kr *kr)
{
	gw->kr = kr;
}

void gw_nodes_free(struct gw_nodes *gw)
{
	free(gw);
}
