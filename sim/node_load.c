/*
 * Restoring the stored state of the node kind (node_dev_int.h; written by
 * node_save.c).  The state is imported data: every member is checked for
 * type and range, unknown members are refused, and the node is rebuilt
 * apart from the device so that a refusal leaves the device as it was.
 * fuzz/sim_node_state.c feeds this file.
 */
#include "sim/node_dev_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where loading is, and where a refusal is explained. */
struct ld {
	char *err;      /* SIM_NODE_ERR_MAX octets */
	const char *at; /* the object being read, for messages ("models[2].subs[0]") */
};

static int bad(struct ld *l, const char *where, const char *why)
{
	snprintf(l->err, SIM_NODE_ERR_MAX, "%.63s: %.46s", where, why);
	return -EINVAL;
}

/* A member of the object being read is wrong. */
static int bad_member(struct ld *l, const char *key, const char *why)
{
	char w[64];

	snprintf(w, sizeof(w), "%.31s%s%.31s", l->at ? l->at : "", l->at ? "." : "", key);
	return bad(l, w, why);
}

/*
 * Enter the pos-th element of array `name` inside the current object (buf
 * holds the name); returns the previous position for at_leave().
 */
static const char *at_enter(struct ld *l, char *buf, size_t cap, const char *name, size_t pos)
{
	const char *prev = l->at;

	snprintf(buf, cap, "%.40s%s%.20s[%zu]", prev ? prev : "", prev ? "." : "", name, pos);
	l->at = buf;
	return prev;
}

/* Refuses a non-object, or members of it other than those listed (NULL-terminated). */
static int only(struct ld *l, json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o)) {
		return bad(l, l->at ? l->at : "state", "not an object");
	}
	json_object_foreach(o, k, v)
	{
		size_t i;

		for (i = 0; keys[i] && strcmp(keys[i], k); i++) {
		}
		if (!keys[i]) {
			return bad_member(l, k, "unknown member");
		}
	}
	return 0;
}

static int get_int(struct ld *l, json_t *o, const char *key, json_int_t min, json_int_t max,
		   json_int_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v)) {
		return bad_member(l, key, v ? "not an integer" : "missing");
	}
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		return bad_member(l, key, "out of range");
	}
	*out = json_integer_value(v);
	return 0;
}

static int get_bool(struct ld *l, json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v)) {
		return bad_member(l, key, v ? "not a boolean" : "missing");
	}
	*out = json_is_true(v);
	return 0;
}

/* Hex of 1..cap octets (exactly cap when exact). */
static int get_hex(struct ld *l, json_t *o, const char *key, uint8_t *out, size_t cap, bool exact,
		   size_t *len)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0, i;

	if (!s) {
		return bad_member(l, key, v ? "not a string" : "missing");
	}
	if (n == 0 || n % 2 || n / 2 > cap || (exact && n / 2 != cap)) {
		return bad_member(l, key, "wrong length of hex");
	}
	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F'))) {
			return bad_member(l, key, "not hex");
		}
	}
	for (i = 0; i < n / 2; i++) {
		unsigned x;

		(void)sscanf(s + 2 * i, "%2x", &x);
		out[i] = (uint8_t)x;
	}
	if (len) {
		*len = n / 2;
	}
	return 0;
}

static int get_key(struct ld *l, json_t *o, const char *key, uint8_t out[16])
{
	return get_hex(l, o, key, out, 16, true, NULL);
}

/* A refusal from mesh/ for a value that passed the checks above. */
static int refused(struct ld *l, const char *key, int r)
{
	return r == -ENOMEM ? r : bad_member(l, key, r == -ENOSPC ? "too many" : "refused");
}

static const char *const netkey_members[] = {"index", "phase", "key", "new_key", NULL};

static int load_netkeys(struct ld *l, struct mesh_node *n, json_t *a)
{
	size_t i;
	json_t *o;
	int r = 0;

	/* The first NetKey came with provisioning; the others as NetKey Add. */
	json_array_foreach(a, i, o)
	{
		json_int_t idx = 0, ph = 0;
		uint8_t k[16], nk[16];
		char at[64];

		l->at = NULL;
		(void)at_enter(l, at, sizeof(at), "net_keys", i);
		r = only(l, o, netkey_members);
		r = r ? r : get_int(l, o, "index", 0, MESH_KEY_IDX_MAX, &idx);
		r = r ? r : get_int(l, o, "phase", 0, 2, &ph);
		r = r ? r : get_key(l, o, "key", k);
		if (!r && ph) {
			r = get_key(l, o, "new_key", nk);
		} else if (!r && json_object_get(o, "new_key")) {
			r = bad_member(l, "new_key", "only in phases 1 and 2");
		}
		if (!r && i > 0 && mesh_net_subnet_kr_phase(mesh_node_net(n), (uint16_t)idx) >= 0) {
			r = bad_member(l, "index", "duplicate");
		}
		if (!r && i > 0) {
			int e = mesh_node_netkey_add(n, (uint16_t)idx, k);

			r = e ? refused(l, "key", e) : 0;
		}
		/* Phase 1 now; phase 2 after the AppKeys' updates (load_keys_phase2()). */
		if (!r && ph) {
			int e = mesh_node_netkey_update(n, (uint16_t)idx, nk);

			r = e ? refused(l, "new_key", e) : 0;
		}
		mesh_crypto_wipe(k, sizeof(k));
		mesh_crypto_wipe(nk, sizeof(nk));
		if (r) {
			return r;
		}
	}
	l->at = NULL;
	return 0;
}

static int load_appkeys(struct ld *l, struct mesh_node *n, json_t *a)
{
	static const char *const keys[] = {"index", "net_index", "key", "new_key", NULL};
	size_t i;
	json_t *o;

	if (!json_is_array(a) || json_array_size(a) > MESH_NODE_APPKEYS_MAX) {
		return bad(l, "app_keys", "not an array of at most 32");
	}
	json_array_foreach(a, i, o)
	{
		json_int_t idx = 0, net = 0;
		uint8_t k[16], nk[16];
		bool upd = json_object_get(o, "new_key") != NULL;
		char at[64];
		int r, e = 0;

		l->at = NULL;
		(void)at_enter(l, at, sizeof(at), "app_keys", i);
		r = only(l, o, keys);
		r = r ? r : get_int(l, o, "index", 0, MESH_KEY_IDX_MAX, &idx);
		r = r ? r : get_int(l, o, "net_index", 0, MESH_KEY_IDX_MAX, &net);
		r = r ? r : get_key(l, o, "key", k);
		r = r || !upd ? r : get_key(l, o, "new_key", nk);
		if (!r && mesh_node_appkey_net(n, (uint16_t)idx) >= 0) {
			r = bad_member(l, "index", "duplicate");
		}
		if (!r && mesh_net_subnet_kr_phase(mesh_node_net(n), (uint16_t)net) < 0) {
			r = bad_member(l, "net_index", "no such NetKey");
		}
		/* An updated AppKey exists only while its NetKey is being refreshed (§4.2.5). */
		if (!r && upd && mesh_net_subnet_kr_phase(mesh_node_net(n), (uint16_t)net) == 0) {
			r = bad_member(l, "new_key", "its NetKey is not in a Key Refresh");
		}
		e = r ? 0 : mesh_node_appkey_add(n, (uint16_t)net, (uint16_t)idx, k);
		if (!r && !e && upd) {
			e = mesh_node_appkey_update(n, (uint16_t)net, (uint16_t)idx, nk);
		}
		r = r ? r : e ? refused(l, "key", e) : 0;
		mesh_crypto_wipe(k, sizeof(k));
		mesh_crypto_wipe(nk, sizeof(nk));
		if (r) {
			return r;
		}
	}
	l->at = NULL;
	return 0;
}

static int load_keys_phase2(struct ld *l, struct mesh_node *n, json_t *a)
{
	size_t i;
	json_t *o;

	json_array_foreach(a, i, o)
	{
		json_int_t idx = json_integer_value(json_object_get(o, "index"));

		if (json_integer_value(json_object_get(o, "phase")) == 2 &&
		    mesh_node_kr_transition(n, (uint16_t)idx, 2)) {
			return bad(l, "net_keys[].phase", "refused");
		}
	}
	return 0;
}

static int load_hb(struct ld *l, struct cfg_srv *srv, json_t *o)
{
	static const char *const top[] = {"pub", "sub", NULL};
	static const char *const pk[] = {"dst",      "count_log", "period_log", "ttl",
					 "features", "net_index", NULL};
	static const char *const sk[] = {"src", "dst", "period_log", NULL};
	json_t *p = json_object_get(o, "pub"), *s = json_object_get(o, "sub");
	json_int_t v[9] = {0};
	struct cfg_srv_hb hb;
	int r;

	l->at = "heartbeat";
	r = only(l, o, top);
	l->at = "heartbeat.pub";
	r = r ? r : only(l, p, pk);
	r = r ? r : get_int(l, p, "dst", 0, 0xffff, &v[0]);
	r = r ? r : get_int(l, p, "count_log", 0, 0xff, &v[1]);
	r = r ? r : get_int(l, p, "period_log", 0, 0xff, &v[2]);
	r = r ? r : get_int(l, p, "ttl", 0, 0xff, &v[3]);
	r = r ? r : get_int(l, p, "features", 0, 0xffff, &v[4]);
	r = r ? r : get_int(l, p, "net_index", 0, 0xffff, &v[5]);
	l->at = r ? l->at : "heartbeat.sub";
	r = r ? r : only(l, s, sk);
	r = r ? r : get_int(l, s, "src", 0, 0xffff, &v[6]);
	r = r ? r : get_int(l, s, "dst", 0, 0xffff, &v[7]);
	r = r ? r : get_int(l, s, "period_log", 0, 0xff, &v[8]);
	if (r) {
		return r;
	}
	l->at = NULL;
	hb.pub_dst = (uint16_t)v[0];
	hb.pub_count_log = (uint8_t)v[1];
	hb.pub_period_log = (uint8_t)v[2];
	hb.pub_ttl = (uint8_t)v[3];
	hb.pub_features = (uint16_t)v[4];
	hb.pub_net_idx = (uint16_t)v[5];
	hb.sub_src = (uint16_t)v[6];
	hb.sub_dst = (uint16_t)v[7];
	hb.sub_period_log = (uint8_t)v[8];
	return cfg_srv_hb_set(srv, &hb) ? bad(l, "heartbeat", "inconsistent states") : 0;
}

static int load_pub(struct ld *l, struct mesh_node *n, struct mesh_acc_model *mdl, json_t *o)
{
	static const char *const keys[] = {"addr", "label",  "app_index",  "cred",
					   "ttl",  "period", "retransmit", NULL};
	struct mesh_acc_pub pub = {0};
	json_int_t v[5] = {0};
	const char *prev = l->at;
	char at[64];
	uint16_t va;
	int r;

	snprintf(at, sizeof(at), "%.50s.pub", prev ? prev : "");
	l->at = at;
	r = only(l, o, keys);
	r = r ? r : get_int(l, o, "addr", 0, 0xffff, &v[0]);
	r = r ? r : get_int(l, o, "app_index", 0, MESH_KEY_IDX_MAX, &v[1]);
	r = r ? r : get_bool(l, o, "cred", &pub.cred);
	r = r ? r : get_int(l, o, "ttl", 0, 0xff, &v[2]);
	r = r ? r : get_int(l, o, "period", 0, 0xff, &v[3]);
	r = r ? r : get_int(l, o, "retransmit", 0, 0xff, &v[4]);
	pub.addr = (uint16_t)v[0];
	pub.app_idx = (uint16_t)v[1];
	pub.ttl = (uint8_t)v[2];
	pub.period = (uint8_t)v[3];
	pub.retransmit = (uint8_t)v[4];
	if (!r && mesh_addr_is_virtual(pub.addr)) {
		/* The virtual address must be the hash of its Label UUID (§3.4.2.3). */
		r = get_key(l, o, "label", pub.label);
		if (!r && (mesh_crypto_virtual_addr(pub.label, &va) || va != pub.addr)) {
			r = bad_member(l, "label", "does not match addr");
		}
		if (!r && mesh_node_label_add(n, pub.label)) {
			r = bad_member(l, "label", "too many labels");
		}
	} else if (!r && json_object_get(o, "label")) {
		r = bad_member(l, "label", "only with a virtual addr");
	}
	if (!r && mesh_acc_model_pub_set(mdl, &pub)) {
		r = bad(l, at, "refused");
	}
	l->at = prev;
	return r;
}

/* One subscription: {"addr": group} or {"label": Label UUID} (a virtual address). */
static int load_sub(struct ld *l, struct mesh_node *n, struct mesh_acc_model *mdl, json_t *o)
{
	static const char *const keys[] = {"addr", "label", NULL};
	uint8_t label[16];
	json_int_t addr = 0;
	uint16_t va;
	int r = only(l, o, keys);

	if (!r && json_object_get(o, "label")) {
		r = json_object_get(o, "addr") ? bad_member(l, "addr", "not with a label")
					       : get_key(l, o, "label", label);
		if (!r && mesh_crypto_virtual_addr(label, &va)) {
			r = -ENOMEM;
		}
		if (!r && mesh_node_label_add(n, label)) {
			r = bad_member(l, "label", "too many labels");
		}
		if (!r && mesh_acc_model_sub_add(mdl, va, label)) {
			r = bad_member(l, "label", "refused");
		}
	} else if (!r) {
		r = get_int(l, o, "addr", 0, 0xffff, &addr);
		/* mesh_acc refuses what is not a group address (§4.2.4). */
		if (!r && (mesh_addr_is_virtual((uint16_t)addr) ||
			   mesh_acc_model_sub_add(mdl, (uint16_t)addr, NULL))) {
			r = bad_member(l, "addr", "not a group address");
		}
	}
	return r;
}

static int load_bind(struct ld *l, struct mesh_node *n, struct mesh_acc_model *mdl, json_t *a)
{
	size_t i;
	json_t *b;

	if (!json_is_array(a) || json_array_size(a) > MESH_ACC_BIND_MAX) {
		return bad_member(l, "bind", "not an array of at most 16");
	}
	json_array_foreach(a, i, b)
	{
		json_int_t idx = json_integer_value(b);

		/* Only existing AppKeys can be bound (§4.2.7); deleting one unbinds it. */
		if (!json_is_integer(b) || idx < 0 || idx > MESH_KEY_IDX_MAX ||
		    mesh_node_appkey_net(n, (uint16_t)idx) < 0 ||
		    mesh_acc_model_bind(mdl, (uint16_t)idx)) {
			return bad_member(l, "bind", "not the index of an AppKey");
		}
	}
	return 0;
}

/* The model an entry names: {"element", "id"[, "cid" for a vendor model]}. */
static int load_model_id(struct ld *l, struct nparts *p, json_t *o, struct mesh_acc_model **out,
			 uint8_t *elem)
{
	static const char *const keys[] = {"element", "id",  "cid",   "bind",
					   "subs",    "pub", "onoff", NULL};
	struct mesh_acc *acc = mesh_node_acc(p->node);
	struct mesh_model_id id = {0};
	json_int_t e = 0, v = 0, c = 0;
	int r;

	r = only(l, o, keys);
	r = r ? r : get_int(l, o, "element", 0, (json_int_t)mesh_acc_elem_count(acc) - 1, &e);
	r = r ? r : get_int(l, o, "id", 0, 0xffff, &v);
	if (!r && json_object_get(o, "cid")) {
		r = get_int(l, o, "cid", 0, 0xffff, &c);
		id.vendor = true;
	}
	if (r) {
		return r;
	}
	id.id = (uint16_t)v;
	id.cid = (uint16_t)c;
	*out = mesh_acc_model_find(acc, (uint8_t)e, id);
	/* The Config Server keeps no per-model state (it cannot be bound or subscribed). */
	if (!*out || (!id.vendor && id.id == 0x0000)) {
		return bad_member(l, "id", "no such model on the element");
	}
	*elem = (uint8_t)e;
	return 0;
}

static int load_model(struct ld *l, struct nparts *p, json_t *o)
{
	struct mesh_acc_model *mdl = NULL;
	struct mesh_model_id id;
	json_t *subs = json_object_get(o, "subs"), *x;
	const char *prev = l->at;
	uint8_t e = 0;
	size_t i;
	int r;

	r = load_model_id(l, p, o, &mdl, &e);
	r = r ? r : load_bind(l, p->node, mdl, json_object_get(o, "bind"));
	if (!r && (!json_is_array(subs) || json_array_size(subs) > MESH_ACC_SUB_MAX)) {
		r = bad_member(l, "subs", "not an array of at most 16");
	}
	json_array_foreach(subs, i, x)
	{
		char at[64];

		if (r) {
			break;
		}
		(void)at_enter(l, at, sizeof(at), "subs", i);
		r = load_sub(l, p->node, mdl, x);
		l->at = prev;
	}
	x = json_object_get(o, "pub");
	r = r || !x ? r : load_pub(l, p->node, mdl, x);
	if (!r && json_object_get(o, "onoff")) {
		bool on = false;

		id = mesh_acc_model_id(mdl);
		r = get_bool(l, o, "onoff", &on);
		if (!r && (id.vendor || id.id != 0x1000 || e >= ONOFF_MAX || !p->onoff[e])) {
			r = bad_member(l, "onoff", "not a Generic OnOff Server");
		}
		if (!r) {
			onoff_srv_set(p->onoff[e], on);
		}
	}
	return r;
}

static int load_config(struct ld *l, struct ndev *d, struct mesh_node *n, json_t *st)
{
	json_int_t ttl = 0, rx = 0, nx = 0;
	bool relay = false, beacon = false;
	int r;

	r = get_int(l, st, "default_ttl", 0, MESH_TTL_MAX, &ttl);
	r = r ? r : get_bool(l, st, "relay", &relay);
	r = r ? r : get_int(l, st, "relay_retransmit", 0, 0xff, &rx);
	r = r ? r : get_bool(l, st, "beacon", &beacon);
	r = r ? r : get_int(l, st, "net_transmit", 0, 0xff, &nx);
	if (!r && mesh_node_default_ttl_set(n, (uint8_t)ttl)) {
		r = bad(l, "default_ttl", "1 is prohibited");
	}
	/* The Config Server never turns on a relay the device does not have (§4.2.8). */
	if (!r && relay && !(d->comp->features & MESH_FEAT_RELAY)) {
		r = bad(l, "relay", "the device has no Relay feature");
	}
	if (!r) {
		mesh_node_relay_set(n, relay, (uint8_t)rx);
		mesh_node_beacon_set(n, beacon);
		mesh_node_net_xmit_set(n, (uint8_t)nx);
	}
	return r;
}

/* Build the stored node in p (p is freed by the caller on error). */
static int load_node(struct ld *l, struct ndev *d, json_t *st, struct nparts *p)
{
	json_t *nks = json_object_get(st, "net_keys"), *a, *m;
	json_int_t addr = 0, elems = 0, iv = 0, seq = 0, idx0 = 0;
	uint8_t dk[16], nk0[16], cand[16];
	bool ivu = false, has_cand = json_object_get(st, "dev_key_candidate") != NULL;
	size_t i;
	int r, e;

	r = get_int(l, st, "addr", 1, 0x7fff, &addr);
	r = r ? r : get_int(l, st, "elements", 1, 255, &elems);
	if (!r && (size_t)elems != d->comp->n_elems) {
		r = bad(l, "elements", "not the composition's element count");
	}
	if (!r && addr + elems - 1 > 0x7fff) {
		r = bad(l, "addr", "elements run past 0x7fff");
	}
	r = r ? r : get_key(l, st, "dev_key", dk);
	r = r || !has_cand ? r : get_key(l, st, "dev_key_candidate", cand);
	r = r ? r : get_int(l, st, "iv_index", 0, 0xffffffff, &iv);
	r = r ? r : get_bool(l, st, "iv_update", &ivu);
	r = r ? r : get_int(l, st, "seq", 0, 0x1000000, &seq);
	if (!r && (!json_is_array(nks) || json_array_size(nks) < 1 ||
		   json_array_size(nks) > MESH_NET_SUBNETS_MAX)) {
		r = bad(l, "net_keys", "not an array of 1 to 64");
	}
	if (!r) {
		/* The first NetKey is the one provisioning gave (checked fully later). */
		l->at = "net_keys[0]";
		r = only(l, json_array_get(nks, 0), netkey_members);
		r = r ? r : get_int(l, json_array_get(nks, 0), "index", 0, MESH_KEY_IDX_MAX, &idx0);
		r = r ? r : get_key(l, json_array_get(nks, 0), "key", nk0);
		l->at = NULL;
	}
	r = r ? r : ndev_parts_build(d, p);
	if (!r) {
		e = mesh_node_provision(p->node, (uint16_t)addr, dk, (uint16_t)idx0, nk0,
					(uint32_t)iv, ivu ? 0x02 : 0x00, d->now);
		r = e ? refused(l, "iv_index", e) : 0;
	}
	mesh_crypto_wipe(dk, sizeof(dk));
	mesh_crypto_wipe(nk0, sizeof(nk0));
	r = r ? r : load_netkeys(l, p->node, nks);
	r = r ? r : load_appkeys(l, p->node, json_object_get(st, "app_keys"));
	r = r ? r : load_keys_phase2(l, p->node, nks);
	if (!r && has_cand) {
		mesh_node_devkey_candidate(p->node, cand);
	}
	mesh_crypto_wipe(cand, sizeof(cand));
	if (!r && mesh_net_seq_set(mesh_node_net(p->node), (uint32_t)seq)) {
		r = bad(l, "seq", "refused");
	}
	r = r ? r : load_config(l, d, p->node, st);
	r = r ? r : load_hb(l, p->srv, json_object_get(st, "heartbeat"));
	a = json_object_get(st, "models");
	if (!r && !json_is_array(a)) {
		r = bad(l, "models", "not an array");
	}
	json_array_foreach(a, i, m)
	{
		char at[64];

		if (r) {
			break;
		}
		l->at = NULL;
		(void)at_enter(l, at, sizeof(at), "models", i);
		r = load_model(l, p, m);
		l->at = NULL;
	}
	if (!r) {
		d->seq_reserved = (uint32_t)seq;
	}
	return r;
}

static int load_page128(struct ld *l, struct ndev *d, json_t *st, uint8_t *page, size_t *len)
{
	struct mesh_comp *c;
	int r;

	if (!json_object_get(st, "page128")) {
		/* None stored: the device has what its scenario gives it. */
		*len = 0;
		return d->cfg->has_comp128
			   ? ndev_build_comp(&d->cfg->comp128, page, MESH_COMP_DATA_MAX, len)
			   : 0;
	}
	r = get_hex(l, st, "page128", page, MESH_COMP_DATA_MAX, false, len);
	if (r) {
		return r;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	/* Page 128 has the layout of page 0 (§4.2.2.x). */
	r = mesh_comp_parse(page, *len, c);
	free(c);
	return r ? bad(l, "page128", "not Composition Data") : 0;
}

/*
 * The composition a Composition Refresh gave the device ("page0"), or the
 * scenario's when there is none; parsed into *comp.
 */
static int load_page0(struct ld *l, struct ndev *d, json_t *st, uint8_t *page, size_t *len,
		      struct mesh_comp *comp)
{
	int r;

	if (!json_object_get(st, "page0")) {
		*len = 0;
		return ndev_scenario_comp(d->cfg, comp);
	}
	r = get_hex(l, st, "page0", page, MESH_COMP_DATA_MAX, false, len);
	if (!r && (mesh_comp_parse(page, *len, comp) || comp->n_elems > SIM_SCN_ELEMENTS_MAX)) {
		r = bad(l, "page0", "not Composition Data");
	}
	return r;
}

int ndev_load(void *p, json_t *st, uint64_t now_us)
{
	static const char *const keys[] = {"provisioned",
					   "addr",
					   "elements",
					   "dev_key",
					   "dev_key_candidate",
					   "iv_index",
					   "iv_update",
					   "seq",
					   "net_keys",
					   "app_keys",
					   "default_ttl",
					   "relay",
					   "relay_retransmit",
					   "beacon",
					   "net_transmit",
					   "heartbeat",
					   "models",
					   "page128",
					   "page0",
					   NULL};
	struct ndev *d = p;
	struct ld l = {.err = d->state_err};
	struct nparts parts = {0};
	uint8_t page[MESH_COMP_DATA_MAX], old[MESH_COMP_DATA_MAX];
	uint8_t p0[MESH_COMP_DATA_MAX], old0[MESH_COMP_DATA_MAX];
	size_t page_len = 0, old_len = d->page128_len, p0_len = 0, old0_len = d->page0_len;
	struct mesh_comp *comp = calloc(1, sizeof(*comp)), *old_comp = d->comp;
	bool prov = false, changed;
	int r = comp ? 0 : -ENOMEM;

	memcpy(old, d->page128, old_len);
	memcpy(old0, d->page0, old0_len);
	d->now = now_us / 1000;
	d->state_err[0] = '\0';
	r = r ? r : only(&l, st, keys);
	r = r ? r : get_bool(&l, st, "provisioned", &prov);
	r = r ? r : load_page128(&l, d, st, page, &page_len);
	r = r ? r : load_page0(&l, d, st, p0, &p0_len, comp);
	if (!r && !prov &&
	    json_object_size(st) > 1u + (json_object_get(st, "page128") != NULL) +
				       (json_object_get(st, "page0") != NULL)) {
		r = bad(&l, "state", "an unprovisioned device stores nothing else");
	}
	changed = !r && (p0_len != old0_len || memcmp(p0, old0, p0_len) != 0);
	if (!r) {
		/* ndev_parts_build() gives cfg_srv the page that is being loaded, and its
		 * composition.
		 */
		memcpy(d->page128, page, page_len);
		d->page128_len = page_len;
		memcpy(d->page0, p0, p0_len);
		d->page0_len = p0_len;
		d->comp = comp;
	}
	r = r || !prov ? r : load_node(&l, d, st, &parts);
	if (r) {
		char text[SIM_WORLD_TEXT_MAX + 1];

		ndev_parts_free(&parts);
		memcpy(d->page128, old, old_len);
		d->page128_len = old_len;
		memcpy(d->page0, old0, old0_len);
		d->page0_len = old0_len;
		d->comp = old_comp;
		free(comp);
		if (!d->state_err[0]) {
			snprintf(d->state_err, sizeof(d->state_err), "%s", strerror(-r));
		}
		snprintf(text, sizeof(text), "state refused: %.47s", d->state_err);
		sim_world_display(d->w, d->dev, text, now_us);
		return r;
	}
	free(old_comp);
	if (prov) {
		ndev_parts_install(d, &parts);
		prov_adv_free(d->pa);
		d->pa = NULL;
		d->pa_retire = UINT64_MAX;
		d->next_ubeacon = UINT64_MAX;
	} else if (d->node || changed) {
		/* The flash says unprovisioned: what a Node Reset leaves (see ndev_tick()). */
		ndev_node_free(d);
		prov_adv_free(d->pa);
		d->pa = NULL;
		r = ndev_unprov_start(d);
	}
	d->reset_pending = false;
	d->input_wait = d->input_wait && d->pa;
	return r;
}

int ndev_load_node(struct ndev *d, json_t *st, struct nparts *p)
{
	struct ld l = {.err = d->state_err};

	return load_node(&l, d, st, p);
}
