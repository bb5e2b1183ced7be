/*
 * The stored state of the node kind (node_dev_int.h): the device's flash,
 * as JSON (the layout is documented in sim/PORTS.md, "State of the node
 * kind"), and the part of it that a Composition Refresh carries over.  It
 * holds the node's keys in clear hex: state files are secrets, written
 * 0600 by sim_loop_save(), and documents dropped here are wiped first.
 * Reading it back is node_load.c.
 */
#include "sim/node_dev_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static json_t *hex_json(const uint8_t *b, size_t len)
{
	char s[2 * MESH_COMP_DATA_MAX + 1];
	json_t *j;
	size_t i;

	if (2 * len >= sizeof(s)) {
		return NULL;
	}
	for (i = 0; i < len; i++) {
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	}
	s[2 * len] = '\0';
	j = json_string(s);
	mesh_crypto_wipe(s, sizeof(s));
	return j;
}

/* Adds key: value to o, taking value (NULL counts as no memory). */
static int put(json_t *o, const char *key, json_t *v)
{
	return v && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

static int put_int(json_t *o, const char *key, json_int_t v)
{
	return put(o, key, json_integer(v));
}

static int put_key(json_t *o, const char *key, const uint8_t k[16])
{
	return put(o, key, hex_json(k, 16));
}

/* j when r is 0; else drops j and returns NULL (the saving helpers' common ending). */
static json_t *built(json_t *j, int r)
{
	if (r) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *save_keys(const struct mesh_node *n, bool app)
{
	json_t *a = json_array();
	size_t i, cnt = app ? mesh_node_appkey_count(n) : mesh_node_netkey_count(n);
	int r = a ? 0 : -ENOMEM;

	for (i = 0; i < cnt && !r; i++) {
		json_t *o = json_object();
		struct mesh_node_netkey nk;
		struct mesh_node_appkey ak;

		r = o ? 0 : -ENOMEM;
		if (!r && (app ? mesh_node_appkey_at(n, i, &ak) : mesh_node_netkey_at(n, i, &nk))) {
			r = -EIO; /* the node's own lists disagree: never seen */
		}
		if (!r && app) {
			r = put_int(o, "index", ak.app_idx);
			r = r ? r : put_int(o, "net_index", ak.net_idx);
			r = r ? r : put_key(o, "key", ak.key);
			r = r || !ak.has_new ? r : put_key(o, "new_key", ak.new_key);
		} else if (!r) {
			r = put_int(o, "index", nk.net_idx);
			r = r ? r : put_int(o, "phase", nk.phase);
			r = r ? r : put_key(o, "key", nk.key);
			r = r || !nk.phase ? r : put_key(o, "new_key", nk.new_key);
		}
		mesh_crypto_wipe(&nk, sizeof(nk));
		mesh_crypto_wipe(&ak, sizeof(ak));
		if (!r && json_array_append_new(a, o)) {
			r = -ENOMEM;
		} else if (r) {
			json_decref(o);
		}
	}
	return built(a, r);
}

static json_t *save_pub(const struct mesh_acc_pub *pub)
{
	json_t *o = json_object();
	int r = o ? 0 : -ENOMEM;

	r = r ? r : put_int(o, "addr", pub->addr);
	if (!r && mesh_addr_is_virtual(pub->addr)) {
		r = put(o, "label", hex_json(pub->label, 16));
	}
	r = r ? r : put_int(o, "app_index", pub->app_idx);
	r = r ? r : put(o, "cred", json_boolean(pub->cred));
	r = r ? r : put_int(o, "ttl", pub->ttl);
	r = r ? r : put_int(o, "period", pub->period);
	r = r ? r : put_int(o, "retransmit", pub->retransmit);
	return built(o, r);
}

/* One model's bindings, subscriptions, publication and OnOff state; NULL and *err when none. */
static json_t *save_model(const struct ndev *d, struct mesh_acc_model *mdl, int *err)
{
	static const struct mesh_acc_pub none;
	struct mesh_model_id id = mesh_acc_model_id(mdl);
	uint8_t e = mesh_acc_model_elem(mdl);
	uint16_t bind[MESH_ACC_BIND_MAX];
	size_t nb = mesh_acc_model_bindings(mdl, bind, MESH_ACC_BIND_MAX), i;
	struct mesh_acc_pub pub;
	uint16_t addr;
	uint8_t label[16];
	bool onoff = !id.vendor && id.id == 0x1000 && e < ONOFF_MAX && d->onoff[e];
	json_t *o, *binds, *subs;
	int r;

	mesh_acc_model_pub_get(mdl, &pub);
	*err = 0;
	if (!nb && mesh_acc_model_sub_at(mdl, 0, &addr, NULL) && !onoff &&
	    !memcmp(&pub, &none, sizeof(pub))) {
		return NULL; /* nothing to remember */
	}
	o = json_object();
	binds = json_array();
	subs = json_array();
	r = o && binds && subs ? 0 : -ENOMEM;
	for (i = 0; i < nb && i < MESH_ACC_BIND_MAX && !r; i++) {
		r = json_array_append_new(binds, json_integer(bind[i])) ? -ENOMEM : 0;
	}
	for (i = 0; !r && mesh_acc_model_sub_at(mdl, i, &addr, label) == 0; i++) {
		json_t *sub = json_object();

		r = sub ? 0 : -ENOMEM;
		r = r                            ? r
		    : mesh_addr_is_virtual(addr) ? put(sub, "label", hex_json(label, 16))
						 : put_int(sub, "addr", addr);
		r = r ? r : (json_array_append(subs, sub) ? -ENOMEM : 0);
		json_decref(sub);
	}
	r = r ? r : put_int(o, "element", e);
	r = r ? r : put_int(o, "id", id.id);
	r = r || !id.vendor ? r : put_int(o, "cid", id.cid);
	r = r ? r : put(o, "bind", json_incref(binds));
	r = r ? r : put(o, "subs", json_incref(subs));
	r = r || !memcmp(&pub, &none, sizeof(pub)) ? r : put(o, "pub", save_pub(&pub));
	r = r || !onoff ? r : put(o, "onoff", json_boolean(onoff_srv_get(d->onoff[e])));
	json_decref(binds);
	json_decref(subs);
	*err = r;
	return built(o, r);
}

static json_t *save_models(const struct ndev *d)
{
	const struct mesh_comp *c = d->comp;
	struct mesh_acc *acc = mesh_node_acc(d->node);
	json_t *a = json_array();
	size_t e, i;
	int r = a ? 0 : -ENOMEM;

	/*
	 * The registry holds the current composition's models (ndev_parts_build());
	 * an added Remote Provisioning Server keeps no per-model state.
	 */
	for (e = 0; e < c->n_elems && !r; e++) {
		const struct mesh_comp_elem *el = &c->elems[e];

		for (i = 0; i < (size_t)el->num_s + el->num_v && !r; i++) {
			struct mesh_model_id id = {.vendor = i >= el->num_s};
			struct mesh_acc_model *mdl;
			json_t *m;

			if (id.vendor) {
				id.cid = c->vnd[el->vnd_off + i - el->num_s].cid;
				id.id = c->vnd[el->vnd_off + i - el->num_s].id;
			} else {
				id.id = c->sig[el->sig_off + i];
			}
			mdl = mesh_acc_model_find(acc, (uint8_t)e, id);
			m = mdl ? save_model(d, mdl, &r) : NULL;
			if (m && json_array_append_new(a, m)) {
				r = -ENOMEM;
			}
		}
	}
	return built(a, r);
}

static json_t *save_hb(const struct cfg_srv *srv)
{
	struct cfg_srv_hb hb;

	cfg_srv_hb_get(srv, &hb);
	return json_pack("{s{sisisisisisi}s{sisisi}}", "pub", "dst", hb.pub_dst, "count_log",
			 hb.pub_count_log, "period_log", hb.pub_period_log, "ttl", hb.pub_ttl,
			 "features", hb.pub_features, "net_index", hb.pub_net_idx, "sub", "src",
			 hb.sub_src, "dst", hb.sub_dst, "period_log", hb.sub_period_log);
}

static int save_node(const struct ndev *d, json_t *o)
{
	struct mesh_node *n = d->node;
	const struct mesh_node_config *nc = mesh_node_config(n);
	struct mesh_net *net = mesh_node_net(n);
	uint8_t key[16];
	uint32_t iv, seq = mesh_net_seq_get(net);
	bool ivu;
	int r;

	mesh_net_iv_get(net, &iv, &ivu);
	/*
	 * A restarted node must never send a sequence number it may have used
	 * (§3.4.4.6, the replay protection of every peer): store the end of
	 * the reserved block, which is at or past every number handed out.
	 */
	if (d->seq_reserved > seq) {
		seq = d->seq_reserved;
	}
	r = put_int(o, "addr", mesh_node_primary(n));
	r = r ? r : put_int(o, "elements", (json_int_t)mesh_acc_elem_count(mesh_node_acc(n)));
	if (!r && mesh_node_devkey_get(n, key) == 0) {
		r = put_key(o, "dev_key", key);
	}
	if (!r && mesh_node_devkey_candidate_get(n, key) == 0) {
		r = put_key(o, "dev_key_candidate", key);
	}
	mesh_crypto_wipe(key, sizeof(key));
	r = r ? r : put_int(o, "iv_index", iv);
	r = r ? r : put(o, "iv_update", json_boolean(ivu));
	r = r ? r : put_int(o, "seq", seq);
	r = r ? r : put(o, "net_keys", save_keys(n, false));
	r = r ? r : put(o, "app_keys", save_keys(n, true));
	r = r ? r : put_int(o, "default_ttl", nc->default_ttl);
	r = r ? r : put(o, "relay", json_boolean(nc->relay));
	r = r ? r : put_int(o, "relay_retransmit", nc->relay_xmit);
	r = r ? r : put(o, "beacon", json_boolean(nc->beacon));
	r = r ? r : put_int(o, "net_transmit", nc->net_xmit);
	r = r ? r : put(o, "heartbeat", save_hb(d->srv));
	r = r ? r : put(o, "models", save_models(d));
	return r;
}

json_t *ndev_save(void *p)
{
	struct ndev *d = p;
	/* A Node Reset being carried out has already erased the flash. */
	bool prov = d->node && !d->reset_pending;
	json_t *o = json_object();
	int r = o ? 0 : -ENOMEM;

	r = r ? r : put(o, "provisioned", json_boolean(prov));
	r = r || !prov ? r : save_node(d, o);
	r = r || !d->page128_len ? r : put(o, "page128", hex_json(d->page128, d->page128_len));
	r = r || !d->page0_len ? r : put(o, "page0", hex_json(d->page0, d->page0_len));
	return built(o, r);
}

/* Wipe the strings of a state document (keys in hex) before dropping it. */
static void json_wipe(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		mesh_crypto_wipe((char *)json_string_value(j), json_string_length(j));
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
		{
			json_wipe(v);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			json_wipe(v);
		}
	}
}

void ndev_json_wipe_decref(json_t *j)
{
	json_wipe(j);
	json_decref(j);
}

int ndev_save_refresh(const struct ndev *d, const struct mesh_comp *nc, json_t **out)
{
	json_t *st = json_object();
	int r = st ? 0 : -ENOMEM;

	/*
	 * Node-wide states stay; the models are those of the new composition,
	 * configured afresh; a relay the new composition lacks is off.
	 */
	r = r || !d->node ? r : save_node(d, st);
	r = r ? r : put(st, "models", json_array());
	r = r ? r : put_int(st, "elements", (json_int_t)nc->n_elems);
	if (!r && !(nc->features & MESH_FEAT_RELAY)) {
		r = put(st, "relay", json_false());
	}
	if (r) {
		ndev_json_wipe_decref(st);
		return r;
	}
	*out = st;
	return 0;
}
