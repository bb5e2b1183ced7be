/*
 * Mesh CDB import side (cdb.h): the shape check of nodes, their elements,
 * models, publications, features and heartbeat settings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cdb.h"
#include "gateway/cdb_int.h"

/* --- Nodes ------------------------------------------------------------------ */

/* {count, interval} with count lo..hi and interval a multiple of step up to max. */
static int parse_xmit(struct cx *c, const json_t *obj, const char *key, long long cnt_lo,
		      long long cnt_hi, long long step, long long max, bool *present,
		      long long *count, long long *interval)
{
	json_t *v = cdb_member(c, obj, key, false);
	size_t o;
	int r;

	*present = v != NULL;
	if (!v) {
		return 0;
	}
	o = cdb_push(c, key);
	r = cdb_need_object(c, v);
	if (!r) {
		r = cdb_get_int(c, v, "count", true, NULL, cnt_lo, cnt_hi, count);
	}
	if (!r) {
		r = cdb_get_int(c, v, "interval", true, NULL, step, max, interval);
	}
	if (!r && *interval % step) {
		r = cdb_fail_at(c, "interval", "must be a multiple of %lld ms", step);
	}
	cdb_pop(c, o);
	return r;
}

static int parse_period(struct cx *c, const json_t *pub, uint8_t *raw)
{
	static const long long res_ms[4] = {100, 1000, 10000, 600000};
	json_t *v = cdb_member(c, pub, "period", true);
	long long steps = 0, res = 0;
	size_t o;
	int r = 0;

	if (!v) {
		return -EINVAL;
	}
	o = cdb_push(c, "period");
	if (json_is_integer(v)) {
		/* Older files give the period in milliseconds. */
		long long ms = json_integer_value(v);

		r = -EINVAL;
		for (int k = 0; k < 4 && ms >= 0; k++) {
			if (ms % res_ms[k] == 0 && ms / res_ms[k] <= 63) {
				*raw = (uint8_t)(ms / res_ms[k] | k << 6);
				r = 0;
				break;
			}
		}
		if (r) {
			r = cdb_fail(
			    c, "must be a period of 0..63 steps of 100 ms, 1 s, 10 s or 10 min");
		}
	} else {
		r = cdb_need_object(c, v);
		if (!r) {
			r = cdb_get_int(c, v, "numberOfSteps", true, NULL, 0, 63, &steps);
		}
		if (!r) {
			r = cdb_get_int(c, v, "resolution", true, NULL, 100, 600000, &res);
		}
		if (!r) {
			int k = 0;

			while (k < 4 && res_ms[k] != res) {
				k++;
			}
			if (k == 4) {
				r = cdb_fail_at(c, "resolution",
						"must be 100, 1000, 10000 or 600000");
			} else {
				*raw = (uint8_t)(steps | k << 6);
			}
		}
	}
	cdb_pop(c, o);
	return r;
}

static int parse_pub(struct cx *c, const json_t *v, struct store_pub *p)
{
	long long x = 0, cnt = 0, itv = 0;
	bool present = false;
	json_t *a;
	size_t o = cdb_push(c, "publish");
	int r = cdb_need_object(c, v);

	if (!r) {
		a = cdb_member(c, v, "address", true);
		r = a ? 0 : -EINVAL;
		if (a) {
			size_t o2 = cdb_push(c, "address");

			r = cdb_addr_or_label(c, a, &p->addr, &p->has_label, p->label);
			cdb_pop(c, o2);
		}
	}
	if (!r) {
		r = cdb_get_int(c, v, "index", true, NULL, 0, 4095, &x);
		p->app_idx = (uint16_t)x;
	}
	if (!r) {
		r = cdb_get_int(c, v, "ttl", true, NULL, 0, 255, &x);
		if (!r && x > 127 && x != 255) {
			r = cdb_fail_at(c, "ttl", "must be 0..127 or 255");
		}
		p->ttl = (uint8_t)x;
	}
	if (!r) {
		r = parse_period(c, v, &p->period);
	}
	if (!r) {
		r = cdb_get_int(c, v, "credentials", true, NULL, 0, 1, &x);
		p->cred = x != 0;
	}
	if (!r) {
		r = parse_xmit(c, v, "retransmit", 0, 7, 50, 1600, &present, &cnt, &itv);
		if (!r && !present) {
			r = cdb_fail(c, "retransmit: required member missing");
		}
		if (!r) {
			p->retransmit = (uint8_t)(cnt | (itv / 50 - 1) << 3);
		}
	}
	cdb_pop(c, o);
	return r;
}

static int parse_sub(struct cx *c, const json_t *v, size_t i, void *arg)
{
	struct store_cdb_model *m = arg;
	bool has_label = false;
	uint8_t label[16];
	int r = cdb_addr_or_label(c, v, &m->sub[i], &has_label, label);

	if (!r && has_label) {
		r = cdb_fail(c, "virtual label subscriptions are not supported by meshgw's "
				"inventory");
	}
	if (!r && m->sub[i] == 0) {
		r = cdb_fail(c, "the unassigned address is not a subscription");
	}
	return r;
}

static int parse_model(struct cx *c, const json_t *v, struct store_cdb_model *m)
{
	static const struct cdb_walk subs = {"subscribe", true, CDB_MAX_LIST, sizeof(uint16_t),
					     false};
	json_t *id = cdb_member(c, v, "modelId", true), *x;
	uint8_t b[4];
	size_t o;
	int r;

	if (!id) {
		return -EINVAL;
	}
	o = cdb_push(c, "modelId");
	if (json_is_string(id) && cdb_unhex(json_string_value(id), json_string_length(id), b, 2)) {
		m->id = (uint32_t)(b[0] << 8 | b[1]);
	} else if (json_is_string(id) &&
		   cdb_unhex(json_string_value(id), json_string_length(id), b, 4)) {
		/* Company identifier first, then the model's 16 bits. */
		m->vendor = true;
		m->id = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	} else {
		r = cdb_fail(c, "must be 4 hex digits (SIG) or 8 (company, model)");
		cdb_pop(c, o);
		return r;
	}
	cdb_pop(c, o);
	r = cdb_index_list(c, v, "bind", false, &m->bind, &m->n_bind);
	if (!r) {
		r = cdb_each(c, v, &subs, (void **)&m->sub, &m->n_sub, parse_sub, m);
	}
	if (!r && (x = json_object_get(v, "publish"))) {
		m->has_pub = true;
		r = parse_pub(c, x, &m->pub);
	}
	return r;
}

static int parse_model_item(struct cx *c, const json_t *v, size_t i, void *arg)
{
	struct store_cdb_element *e = arg;
	int r = cdb_need_object(c, v);

	return r ? r : parse_model(c, v, &e->models[i]);
}

static int parse_element(struct cx *c, const json_t *v, size_t i, void *arg)
{
	static const struct cdb_walk models = {"models", true, CDB_MAX_MODELS,
					       sizeof(struct store_cdb_model), false};
	struct store_cdb_node *n = arg;
	struct store_cdb_element *e = &n->el[i];
	long long x = 0;
	int r = cdb_need_object(c, v);

	if (!r) {
		r = cdb_get_name(c, v, "name", false, e->name);
	}
	if (!r) {
		r = cdb_get_int(c, v, "index", true, NULL, 0, 254, &x);
		e->idx = (uint8_t)x;
	}
	if (!r) {
		r = cdb_get_hex4(c, v, "location", true, NULL, &e->loc);
	}
	if (!r) {
		r = cdb_each(c, v, &models, (void **)&e->models, &e->n_models, parse_model_item, e);
	}
	return r;
}

static int parse_elements(struct cx *c, const json_t *node, struct store_cdb_node *n)
{
	static const struct cdb_walk w = {"elements", true, CDB_MAX_ELEMENTS,
					  sizeof(struct store_cdb_element), false};

	return cdb_each(c, node, &w, (void **)&n->el, &n->n_el, parse_element, n);
}

static int parse_features(struct cx *c, const json_t *node, struct store_cdb_node *n)
{
	static const char *const names[STORE_CDB_FEAT_COUNT] = {"relay", "proxy", "friend",
								"lowPower"};
	json_t *v = cdb_member(c, node, "features", false);
	size_t o;
	int r = 0;

	if (!v) {
		return 0;
	}
	o = cdb_push(c, "features");
	r = cdb_need_object(c, v);
	for (int f = 0; !r && f < STORE_CDB_FEAT_COUNT; f++) {
		bool present = false;
		long long x = -1;

		r = cdb_get_int(c, v, names[f], false, &present, 0, 2, &x);
		if (present) {
			n->feat[f] = (int8_t)x;
		}
	}
	cdb_pop(c, o);
	return r;
}

static int parse_hb_feature(struct cx *c, const json_t *f, size_t i, void *arg)
{
	static const char *const names[4] = {"relay", "proxy", "friend", "lowPower"};
	struct store_cdb_node *n = arg;
	int k = 0;

	(void)i;
	while (k < 4 && !(json_is_string(f) && !strcmp(json_string_value(f), names[k]))) {
		k++;
	}
	if (k == 4) {
		return cdb_fail(c, "must be \"relay\", \"proxy\", \"friend\" or \"lowPower\"");
	}
	n->hb_pub_features |= (uint16_t)(1u << k);
	return 0;
}

static int parse_heartbeat(struct cx *c, const json_t *node, struct store_cdb_node *n)
{
	static const struct cdb_walk feats = {"features", true, 4, 0, false};
	json_t *v = cdb_member(c, node, "heartbeatPub", false);
	long long x = 0;
	size_t o;
	int r = 0;

	if (v) {
		o = cdb_push(c, "heartbeatPub");
		n->has_hb_pub = true;
		r = cdb_need_object(c, v);
		if (!r) {
			r = cdb_get_hex4(c, v, "address", true, NULL, &n->hb_pub_dst);
		}
		if (!r) {
			r = cdb_get_int(c, v, "period", true, NULL, 0, 65536, &x);
			n->hb_pub_period = (uint32_t)x;
		}
		if (!r) {
			r = cdb_get_int(c, v, "ttl", true, NULL, 0, 127, &x);
			n->hb_pub_ttl = (uint8_t)x;
		}
		if (!r) {
			r = cdb_get_int(c, v, "index", true, NULL, 0, 4095, &x);
			n->hb_pub_idx = (uint16_t)x;
		}
		if (!r) {
			r = cdb_each(c, v, &feats, NULL, NULL, parse_hb_feature, n);
		}
		cdb_pop(c, o);
	}
	v = r ? NULL : cdb_member(c, node, "heartbeatSub", false);
	if (v) {
		o = cdb_push(c, "heartbeatSub");
		n->has_hb_sub = true;
		r = cdb_need_object(c, v);
		if (!r) {
			r = cdb_get_hex4(c, v, "source", true, NULL, &n->hb_sub_src);
		}
		if (!r) {
			r = cdb_get_hex4(c, v, "destination", true, NULL, &n->hb_sub_dst);
		}
		cdb_pop(c, o);
	}
	return r;
}

static int parse_node(struct cx *c, const json_t *v, bool partial, struct store_cdb_node *n)
{
	long long x = 0, cnt = 0, itv = 0;
	bool present = false;
	json_t *sec;
	int r = cdb_need_object(c, v);

	store_cdb_node_unknown(n);
	if (!r) {
		r = cdb_get_uuid(c, v, "UUID", n->uuid);
	}
	if (!r) {
		r = cdb_get_name(c, v, "name", false, n->name);
	}
	if (!r) {
		r = cdb_get_hex4(c, v, "unicastAddress", true, NULL, &n->unicast);
		if (!r && (n->unicast == 0 || n->unicast > 0x7fff)) {
			r = cdb_fail_at(c, "unicastAddress",
					"must be a unicast address 0001..7fff");
		}
	}
	if (!r) {
		r = cdb_get_key(c, v, "deviceKey", !partial, &n->has_devkey, n->devkey);
	}
	if (!r && (sec = cdb_member(c, v, "security", true)) != NULL) {
		const char *s = json_string_value(sec);

		if (!s || (strcmp(s, "secure") && strcmp(s, "insecure"))) {
			r = cdb_fail_at(c, "security", "must be \"secure\" or \"insecure\"");
		} else {
			n->secure = !strcmp(s, "secure");
		}
	} else if (!r) {
		r = -EINVAL;
	}
	if (!r) {
		r = cdb_index_list(c, v, "netKeys", true, &n->netkeys, &n->n_netkeys);
		if (!r && !n->n_netkeys) {
			r = cdb_fail_at(c, "netKeys", "a node holds at least one NetKey");
		}
	}
	if (!r) {
		r = cdb_index_list(c, v, "appKeys", true, &n->appkeys, &n->n_appkeys);
	}
	if (!r) {
		r = cdb_get_bool(c, v, "configComplete", true, NULL, &n->config_complete);
	}
	if (!r) {
		r = cdb_get_bool(c, v, "excluded", true, NULL, &n->excluded);
	}
	if (!r) {
		bool p[4] = {false};

		r = cdb_get_hex4(c, v, "cid", false, &p[0], &n->cid);
		if (!r) {
			r = cdb_get_hex4(c, v, "pid", false, &p[1], &n->pid);
		}
		if (!r) {
			r = cdb_get_hex4(c, v, "vid", false, &p[2], &n->vid);
		}
		if (!r) {
			r = cdb_get_hex4(c, v, "crpl", false, &p[3], &n->crpl);
		}
		n->has_comp = p[0] && p[1] && p[2] && p[3];
	}
	if (!r) {
		r = parse_features(c, v, n);
	}
	if (!r) {
		bool b = false;

		r = cdb_get_bool(c, v, "secureNetworkBeacon", false, &present, &b);
		n->beacon = present ? (int8_t)b : -1;
	}
	if (!r) {
		r = cdb_get_int(c, v, "defaultTTL", false, &present, 0, 127, &x);
		if (!r && present && x == 1) {
			r = cdb_fail_at(c, "defaultTTL", "must be 0 or 2..127 (1 is prohibited)");
		}
		n->default_ttl = present ? (int16_t)x : -1;
	}
	if (!r) {
		r = parse_xmit(c, v, "networkTransmit", 1, 8, 10, 320, &present, &cnt, &itv);
		if (present) {
			n->net_tx_count = (int8_t)cnt;
			n->net_tx_interval = (uint16_t)itv;
		}
	}
	if (!r) {
		r = parse_xmit(c, v, "relayRetransmit", 1, 8, 10, 320, &present, &cnt, &itv);
		if (present) {
			n->relay_count = (int8_t)cnt;
			n->relay_interval = (uint16_t)itv;
		}
	}
	if (!r) {
		r = parse_elements(c, v, n);
	}
	if (!r) {
		r = parse_heartbeat(c, v, n);
	}
	return r;
}

static int parse_node_item(struct cx *c, const json_t *v, size_t i, void *arg)
{
	struct store_cdb *d = arg;

	return parse_node(c, v, d->partial, &d->nodes[i]);
}

int cdb_parse_nodes(struct cx *c, const json_t *root, struct store_cdb *d)
{
	static const struct cdb_walk w = {"nodes", true, CDB_MAX_NODES,
					  sizeof(struct store_cdb_node), true};

	return cdb_each(c, root, &w, (void **)&d->nodes, &d->n_nodes, parse_node_item, d);
}
