/*
 * Mesh CDB export side (cdb.h): records to the JSON document.
 *
 * Formats as the public tools write them: addresses, company/product
 * identifiers and model identifiers as upper-case hex strings of 4 digits
 * (vendor models 8: company first), keys as 32 hex digits, UUIDs with
 * dashes.  Members whose value the inventory does not know are left out
 * where the profile allows it; the required ones take a neutral value:
 *   - names of keys and elements the gateway created: "NetKey N"/"AppKey N";
 *   - "security": "secure" when the node was provisioned with OOB
 *     authentication, as recorded at provisioning (store_cdb.h); nodes
 *     provisioned before meshgw recorded it say "insecure", the value that
 *     promises less;
 *   - node key lists "updated": false (no Key Refresh in progress);
 *   - element "location" 0x0000 ("unknown" in the GATT Namespace) when the
 *     composition has not been read.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/cdb.h"

static json_t *hexs(const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789ABCDEF";
	char buf[2 * 16 + 1];

	for (size_t i = 0; i < n && i < 16; i++) {
		buf[2 * i] = d[p[i] >> 4];
		buf[2 * i + 1] = d[p[i] & 15];
	}
	buf[2 * (n < 16 ? n : 16)] = '\0';
	return json_string(buf);
}

static json_t *hex4(uint16_t v)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%04X", v);
	return json_string(buf);
}

static json_t *uuid_json(const uint8_t u[16])
{
	char buf[40];

	snprintf(buf, sizeof(buf),
		 "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
	return json_string(buf);
}

static json_t *time_json(uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[40];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *addr_json(uint16_t addr, bool has_label, const uint8_t label[16])
{
	return has_label ? hexs(label, 16) : hex4(addr);
}

static void set(json_t *o, const char *k, json_t *v)
{
	json_object_set_new(o, k, v);
}

/* A key's "name" ("NetKey N" when it has none) and "index" ... */
static json_t *key_head(const char *kind, const char *name, uint16_t idx)
{
	json_t *o = json_object();
	char dflt[32];

	snprintf(dflt, sizeof(dflt), "%s %u", kind, idx);
	set(o, "name", json_string(name[0] ? name : dflt));
	set(o, "index", json_integer(idx));
	return o;
}

/* ... and its "key" and "oldKey", left out of a partial export. */
static void key_material(json_t *o, bool partial, const uint8_t key[16], bool has_old,
			 const uint8_t old_key[16])
{
	if (!partial) {
		set(o, "key", hexs(key, 16));
		if (has_old) {
			set(o, "oldKey", hexs(old_key, 16));
		}
	}
}

static json_t *netkeys_json(const struct store_cdb *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n_netkeys; i++) {
		const struct store_cdb_netkey *k = &d->netkeys[i];
		json_t *o = key_head("NetKey", k->name, k->idx);

		key_material(o, d->partial, k->key, k->has_old, k->old_key);
		set(o, "phase", json_integer(k->phase));
		set(o, "minSecurity", json_string(k->min_secure ? "secure" : "insecure"));
		set(o, "timestamp", time_json(k->ts_ms));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *appkeys_json(const struct store_cdb *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n_appkeys; i++) {
		const struct store_cdb_appkey *k = &d->appkeys[i];
		json_t *o = key_head("AppKey", k->name, k->idx);

		set(o, "boundNetKey", json_integer(k->net_idx));
		key_material(o, d->partial, k->key, k->has_old, k->old_key);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *ranges_json(const struct store_cdb_range *r, size_t n, const char *lo,
			   const char *hi)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();

		set(o, lo, hex4(r[i].lo));
		set(o, hi, hex4(r[i].hi));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *provs_json(const struct store_cdb *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n_provs; i++) {
		const struct store_cdb_prov *p = &d->provs[i];
		json_t *o = json_object();

		set(o, "provisionerName", json_string(p->name));
		set(o, "UUID", uuid_json(p->uuid));
		if (p->addr) {
			/*
			 * Not a profile member: the provisioner's own address, which no
			 * successor may take (its sequence numbers are in the nodes' replay
			 * protection lists).  nRF Mesh lists its provisioner as a node instead.
			 */
			set(o, "unicastAddress", hex4(p->addr));
		}
		set(o, "allocatedUnicastRange",
		    ranges_json(p->uni, p->n_uni, "lowAddress", "highAddress"));
		set(o, "allocatedGroupRange",
		    ranges_json(p->grp, p->n_grp, "lowAddress", "highAddress"));
		set(o, "allocatedSceneRange",
		    ranges_json(p->scene, p->n_scene, "firstScene", "lastScene"));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *key_refs(const uint16_t *idx, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_array_append_new(a, json_pack("{s:i, s:b}", "index", idx[i], "updated", 0));
	}
	return a;
}

static json_t *pub_json(const struct store_pub *p)
{
	static const int res_ms[4] = {100, 1000, 10000, 600000};

	return json_pack("{s:o, s:i, s:i, s:{s:i, s:i}, s:i, s:{s:i, s:i}}", "address",
			 addr_json(p->addr, p->has_label, p->label), "index", p->app_idx, "ttl",
			 p->ttl, "period", "numberOfSteps", p->period & 63, "resolution",
			 res_ms[p->period >> 6], "credentials", p->cred ? 1 : 0, "retransmit",
			 "count", p->retransmit & 7, "interval", ((p->retransmit >> 3) + 1) * 50);
}

static json_t *model_json(const struct store_cdb_model *m)
{
	json_t *o = json_object(), *sub = json_array(), *bind = json_array();
	char id[12];

	if (m->vendor) {
		snprintf(id, sizeof(id), "%08X", (unsigned)m->id);
	} else {
		snprintf(id, sizeof(id), "%04X", (unsigned)(m->id & 0xffff));
	}
	set(o, "modelId", json_string(id));
	for (size_t i = 0; i < m->n_sub; i++) {
		json_array_append_new(sub, hex4(m->sub[i]));
	}
	set(o, "subscribe", sub);
	if (m->has_pub) {
		set(o, "publish", pub_json(&m->pub));
	}
	for (size_t i = 0; i < m->n_bind; i++) {
		json_array_append_new(bind, json_integer(m->bind[i]));
	}
	set(o, "bind", bind);
	return o;
}

static json_t *elements_json(const struct store_cdb_node *n)
{
	json_t *a = json_array();

	for (size_t e = 0; e < n->n_el; e++) {
		const struct store_cdb_element *el = &n->el[e];
		json_t *o = json_object(), *models = json_array();

		if (el->name[0]) {
			set(o, "name", json_string(el->name));
		}
		set(o, "index", json_integer(el->idx));
		set(o, "location", hex4(el->loc));
		for (size_t m = 0; m < el->n_models; m++) {
			json_array_append_new(models, model_json(&el->models[m]));
		}
		set(o, "models", models);
		json_array_append_new(a, o);
	}
	return a;
}

static void node_optional(json_t *o, const struct store_cdb_node *n)
{
	static const char *const feat[STORE_CDB_FEAT_COUNT] = {"relay", "proxy", "friend",
							       "lowPower"};
	json_t *f = json_object();

	if (n->has_comp) {
		set(o, "cid", hex4(n->cid));
		set(o, "pid", hex4(n->pid));
		set(o, "vid", hex4(n->vid));
		set(o, "crpl", hex4(n->crpl));
	}
	for (int i = 0; i < STORE_CDB_FEAT_COUNT; i++) {
		if (n->feat[i] >= 0) {
			set(f, feat[i], json_integer(n->feat[i]));
		}
	}
	if (json_object_size(f)) {
		set(o, "features", f);
	} else {
		json_decref(f);
	}
	if (n->beacon >= 0) {
		set(o, "secureNetworkBeacon", json_boolean(n->beacon));
	}
	if (n->default_ttl >= 0) {
		set(o, "defaultTTL", json_integer(n->default_ttl));
	}
	if (n->net_tx_count >= 0) {
		set(o, "networkTransmit",
		    json_pack("{s:i, s:i}", "count", n->net_tx_count, "interval",
			      n->net_tx_interval));
	}
	if (n->relay_count >= 0) {
		set(o, "relayRetransmit",
		    json_pack("{s:i, s:i}", "count", n->relay_count, "interval",
			      n->relay_interval));
	}
}

static json_t *heartbeat_pub(const struct store_cdb_node *n)
{
	static const char *const feat[4] = {"relay", "proxy", "friend", "lowPower"};
	json_t *f = json_array();

	for (int i = 0; i < 4; i++) {
		if (n->hb_pub_features & (1u << i)) {
			json_array_append_new(f, json_string(feat[i]));
		}
	}
	return json_pack("{s:o, s:I, s:i, s:i, s:o}", "address", hex4(n->hb_pub_dst), "period",
			 (json_int_t)n->hb_pub_period, "ttl", n->hb_pub_ttl, "index", n->hb_pub_idx,
			 "features", f);
}

static json_t *node_json(const struct store_cdb *d, const struct store_cdb_node *n)
{
	json_t *o = json_object();

	set(o, "UUID", uuid_json(n->uuid));
	if (n->name[0]) {
		set(o, "name", json_string(n->name));
	}
	set(o, "unicastAddress", hex4(n->unicast));
	if (!d->partial && n->has_devkey) {
		set(o, "deviceKey", hexs(n->devkey, 16));
	}
	set(o, "security", json_string(n->secure ? "secure" : "insecure"));
	set(o, "netKeys", key_refs(n->netkeys, n->n_netkeys));
	set(o, "configComplete", json_boolean(n->config_complete));
	node_optional(o, n);
	set(o, "appKeys", key_refs(n->appkeys, n->n_appkeys));
	set(o, "elements", elements_json(n));
	set(o, "excluded", json_boolean(n->excluded));
	if (n->has_hb_pub) {
		set(o, "heartbeatPub", heartbeat_pub(n));
	}
	if (n->has_hb_sub) {
		set(o, "heartbeatSub",
		    json_pack("{s:o, s:o}", "source", hex4(n->hb_sub_src), "destination",
			      hex4(n->hb_sub_dst)));
	}
	return o;
}

static json_t *groups_json(const struct store_cdb *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n_groups; i++) {
		const struct store_cdb_group *g = &d->groups[i];

		json_array_append_new(
		    a, json_pack("{s:s, s:o, s:o}", "name", g->name, "address",
				 addr_json(g->addr, g->has_label, g->label), "parentAddress",
				 addr_json(g->parent, g->parent_has_label, g->parent_label)));
	}
	return a;
}

static json_t *scenes_json(const struct store_cdb *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n_scenes; i++) {
		const struct store_cdb_scene *c = &d->scenes[i];
		json_t *addrs = json_array();

		for (size_t k = 0; k < c->n_addrs; k++) {
			json_array_append_new(addrs, hex4(c->addrs[k]));
		}
		json_array_append_new(a, json_pack("{s:s, s:o, s:o}", "name", c->name, "addresses",
						   addrs, "number", hex4(c->number)));
	}
	return a;
}

/* networkExclusions: one entry per IV Index, in the order first met. */
static json_t *exclusions_json(const struct store_cdb *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n_excl; i++) {
		json_t *addrs = NULL;
		size_t k;

		for (k = 0; k < i && d->excl[k].iv_index != d->excl[i].iv_index; k++) {
		}
		if (k < i) {
			continue; /* this IV Index has its entry already */
		}
		addrs = json_array();
		for (k = i; k < d->n_excl; k++) {
			if (d->excl[k].iv_index == d->excl[i].iv_index) {
				json_array_append_new(addrs, hex4(d->excl[k].addr));
			}
		}
		json_array_append_new(a, json_pack("{s:I, s:o}", "ivIndex",
						   (json_int_t)d->excl[i].iv_index, "addresses",
						   addrs));
	}
	return a;
}

json_t *cdb_encode(const struct store_cdb *d, uint64_t now_ms)
{
	json_t *o, *nodes;

	if (!d) {
		return NULL;
	}
	o = json_object();
	nodes = json_array();
	if (!o || !nodes) {
		json_decref(o);
		json_decref(nodes);
		return NULL;
	}
	set(o, "$schema", json_string(CDB_SCHEMA));
	set(o, "id", json_string(CDB_ID_101));
	set(o, "version", json_string("1.0.1"));
	set(o, "meshUUID", uuid_json(d->mesh_uuid));
	set(o, "meshName", json_string(d->mesh_name[0] ? d->mesh_name : "meshgw"));
	set(o, "timestamp", time_json(now_ms));
	set(o, "partial", json_boolean(d->partial));
	if (d->has_iv) {
		/* Not a profile member (the profile has no IV Index): BlueZ's name for it. */
		set(o, "ivIndex", json_integer(d->iv_index));
	}
	set(o, "netKeys", netkeys_json(d));
	set(o, "appKeys", appkeys_json(d));
	set(o, "provisioners", provs_json(d));
	for (size_t i = 0; i < d->n_nodes; i++) {
		json_array_append_new(nodes, node_json(d, &d->nodes[i]));
	}
	set(o, "nodes", nodes);
	set(o, "groups", groups_json(d));
	set(o, "scenes", scenes_json(d));
	set(o, "networkExclusions", exclusions_json(d));
	return o;
}
