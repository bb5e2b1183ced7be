/*
 * Configuration Server (§4.4.1).  One handler decodes every Config opcode
 * with cfg_msg_decode() (which validates lengths and prohibited values);
 * malformed requests are dropped without an answer, as §4.4.1 expects of
 * messages that do not parse.  Requests that parse but cannot be honoured
 * get the status code that §4.3.5 assigns.
 */
#include "mesh/cfg_srv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/cfg_msg.h"
#include "mesh/comp.h"
#include "mesh/crypto.h"

struct cfg_srv {
	struct mesh_node *node;
	struct mesh_acc_model *mdl; /* the Config Server model, on the primary element */
	struct cfg_srv_config cfg;
	struct cfg_srv_ops ops;
	uint8_t page128[MESH_COMP_DATA_MAX];
	size_t page128_len;
	bool has_page128;
	struct cfg_srv_hb hb;
};

static int reply(struct cfg_srv *s, const struct mesh_acc_msg *req, const struct cfg_msg *m)
{
	uint8_t buf[MESH_ACC_PAYLOAD_MAX];
	size_t len;
	int r;

	r = cfg_msg_encode(m, buf, sizeof(buf), &len);
	if (r) {
		return r;
	}
	r = mesh_node_reply(s->node, req, 0, m->op, buf, len, mesh_node_now(s->node));
	mesh_crypto_wipe(buf, sizeof(buf));
	return r;
}

static void changed(struct cfg_srv *s)
{
	if (s->ops.changed) {
		s->ops.changed(s->ops.ctx);
	}
}

int cfg_srv_page0(const struct cfg_srv *s, uint8_t *out, size_t cap, size_t *len)
{
	struct mesh_comp *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		return -ENOMEM;
	}
	r = mesh_acc_comp(mesh_node_acc(s->node), c);
	if (!r) {
		c->cid = s->cfg.cid;
		c->pid = s->cfg.pid;
		c->vid = s->cfg.vid;
		c->crpl = s->cfg.crpl;
		c->features = s->cfg.features;
		r = mesh_comp_build(c, out, cap, len);
	}
	free(c);
	return r;
}

static int on_comp_get(struct cfg_srv *s, const struct mesh_acc_msg *req, uint8_t page)
{
	uint8_t data[MESH_COMP_DATA_MAX];
	struct cfg_msg m = {.op = CFG_OP_COMP_STATUS};
	size_t len = 0;
	int r;

	/*
	 * A page the node does not have is answered with the largest page it
	 * has below the one asked for (§4.4.1.2.1): 128 when present, else 0.
	 */
	if (page >= 128 && s->has_page128) {
		m.comp.page = 128;
		memcpy(data, s->page128, s->page128_len);
		len = s->page128_len;
	} else {
		m.comp.page = 0;
		r = cfg_srv_page0(s, data, sizeof(data), &len);
		if (r) {
			return r;
		}
	}
	m.comp.data = data;
	m.comp.data_len = len;
	return reply(s, req, &m);
}

static bool feature(const struct cfg_srv *s, uint16_t bit)
{
	return (s->cfg.features & bit) != 0;
}

static uint8_t relay_state(const struct cfg_srv *s)
{
	if (!feature(s, MESH_FEAT_RELAY)) {
		return CFG_STATE_NOT_SUPPORTED;
	}
	return mesh_node_config(s->node)->relay ? CFG_STATE_ENABLED : CFG_STATE_DISABLED;
}

static int on_relay(struct cfg_srv *s, const struct mesh_acc_msg *req, const struct cfg_msg *in)
{
	struct cfg_msg m = {.op = CFG_OP_RELAY_STATUS};

	if (in->op == CFG_OP_RELAY_SET && feature(s, MESH_FEAT_RELAY)) {
		mesh_node_relay_set(s->node, in->relay.relay == CFG_STATE_ENABLED,
				    in->relay.retransmit);
		changed(s);
	}
	m.relay.relay = relay_state(s);
	m.relay.retransmit = mesh_node_config(s->node)->relay_xmit;
	return reply(s, req, &m);
}

static int on_state(struct cfg_srv *s, const struct mesh_acc_msg *req, const struct cfg_msg *in)
{
	const struct mesh_node_config *nc = mesh_node_config(s->node);
	struct cfg_msg m = {0};

	switch (in->op) {
	case CFG_OP_BEACON_SET:
		mesh_node_beacon_set(s->node, in->state.val == CFG_STATE_ENABLED);
		changed(s);
		/* FALLTHROUGH */
	case CFG_OP_BEACON_GET:
		m.op = CFG_OP_BEACON_STATUS;
		m.state.val = nc->beacon ? CFG_STATE_ENABLED : CFG_STATE_DISABLED;
		break;
	case CFG_OP_DEFAULT_TTL_SET:
		if (mesh_node_default_ttl_set(s->node, in->state.val) == 0) {
			changed(s);
		}
		/* FALLTHROUGH */
	case CFG_OP_DEFAULT_TTL_GET:
		m.op = CFG_OP_DEFAULT_TTL_STATUS;
		m.state.val = nc->default_ttl;
		break;
	case CFG_OP_GATT_PROXY_GET:
	case CFG_OP_GATT_PROXY_SET:
		/* No GATT bearer on simulated devices: the feature is not supported. */
		m.op = CFG_OP_GATT_PROXY_STATUS;
		m.state.val = CFG_STATE_NOT_SUPPORTED;
		break;
	case CFG_OP_FRIEND_GET:
	case CFG_OP_FRIEND_SET:
		m.op = CFG_OP_FRIEND_STATUS;
		m.state.val = CFG_STATE_NOT_SUPPORTED;
		break;
	case CFG_OP_NET_TRANSMIT_SET:
		mesh_node_net_xmit_set(s->node, in->state.val);
		changed(s);
		/* FALLTHROUGH */
	case CFG_OP_NET_TRANSMIT_GET:
		m.op = CFG_OP_NET_TRANSMIT_STATUS;
		m.state.val = nc->net_xmit;
		break;
	default:
		return -ENOENT;
	}
	return reply(s, req, &m);
}

static int on_netkey(struct cfg_srv *s, const struct mesh_acc_msg *req, const struct cfg_msg *in)
{
	struct mesh_net *net = mesh_node_net(s->node);
	struct cfg_msg m = {.op = CFG_OP_NETKEY_STATUS};
	int r;

	m.net_idx.net_idx =
	    in->op == CFG_OP_NETKEY_DELETE ? in->net_idx.net_idx : in->netkey.net_idx;
	switch (in->op) {
	case CFG_OP_NETKEY_ADD:
		r = mesh_node_netkey_add(s->node, in->netkey.net_idx, in->netkey.key);
		m.net_idx.status = r == 0         ? CFG_STATUS_SUCCESS
				   : r == -EEXIST ? CFG_STATUS_KEY_INDEX_ALREADY_STORED
				   : r == -ENOSPC ? CFG_STATUS_INSUFFICIENT_RESOURCES
						  : CFG_STATUS_UNSPECIFIED;
		break;
	case CFG_OP_NETKEY_UPDATE:
		r = mesh_node_netkey_update(s->node, in->netkey.net_idx, in->netkey.key);
		m.net_idx.status = r == 0         ? CFG_STATUS_SUCCESS
				   : r == -ENOENT ? CFG_STATUS_INVALID_NETKEY
				   : r == -EBUSY  ? CFG_STATUS_CANNOT_UPDATE
						  : CFG_STATUS_UNSPECIFIED;
		break;
	case CFG_OP_NETKEY_DELETE:
		/* The key that secured this very request cannot go (§4.4.1.2.8). */
		if (in->net_idx.net_idx == req->net_idx || mesh_net_subnet_count(net) <= 1) {
			r = mesh_net_subnet_kr_phase(net, in->net_idx.net_idx) < 0 ? 0 : -EBUSY;
			m.net_idx.status = r ? CFG_STATUS_CANNOT_REMOVE : CFG_STATUS_SUCCESS;
		} else {
			r = mesh_node_netkey_del(s->node, in->net_idx.net_idx);
			/* Deleting an absent key succeeds. */
			m.net_idx.status =
			    (r == 0 || r == -ENOENT) ? CFG_STATUS_SUCCESS : CFG_STATUS_UNSPECIFIED;
		}
		break;
	default:
		return -ENOENT;
	}
	if (m.net_idx.status == CFG_STATUS_SUCCESS) {
		changed(s);
	}
	return reply(s, req, &m);
}

static int on_netkey_get(struct cfg_srv *s, const struct mesh_acc_msg *req)
{
	struct mesh_net *net = mesh_node_net(s->node);
	struct cfg_msg *m = calloc(1, sizeof(*m));
	size_t i, n = mesh_net_subnet_count(net);
	int r;

	if (!m) {
		return -ENOMEM;
	}
	m->op = CFG_OP_NETKEY_LIST;
	for (i = 0; i < n && m->idx_list.n < CFG_LIST_MAX; i++) {
		if (mesh_net_subnet_at(net, i, &m->idx_list.idx[m->idx_list.n]) == 0) {
			m->idx_list.n++;
		}
	}
	r = reply(s, req, m);
	free(m);
	return r;
}

static int on_appkey(struct cfg_srv *s, const struct mesh_acc_msg *req, const struct cfg_msg *in)
{
	struct mesh_net *net = mesh_node_net(s->node);
	struct cfg_msg m = {.op = CFG_OP_APPKEY_STATUS};
	uint16_t ni = in->appkey.net_idx, ai = in->appkey.app_idx;
	int r, bound;

	m.appkey.net_idx = ni;
	m.appkey.app_idx = ai;
	if (mesh_net_subnet_kr_phase(net, ni) < 0) {
		m.appkey.status = CFG_STATUS_INVALID_NETKEY;
		return reply(s, req, &m);
	}
	bound = mesh_node_appkey_net(s->node, ai);
	switch (in->op) {
	case CFG_OP_APPKEY_ADD:
		r = mesh_node_appkey_add(s->node, ni, ai, in->appkey.key);
		m.appkey.status = r == 0         ? CFG_STATUS_SUCCESS
				  : r == -ENOSPC ? CFG_STATUS_INSUFFICIENT_RESOURCES
				  : r == -EEXIST ? (bound >= 0 && bound != ni
							? CFG_STATUS_INVALID_NETKEY
							: CFG_STATUS_KEY_INDEX_ALREADY_STORED)
						 : CFG_STATUS_UNSPECIFIED;
		break;
	case CFG_OP_APPKEY_UPDATE:
		r = mesh_node_appkey_update(s->node, ni, ai, in->appkey.key);
		m.appkey.status = r == 0         ? CFG_STATUS_SUCCESS
				  : r == -ENOENT ? CFG_STATUS_INVALID_APPKEY
				  : r == -EEXIST ? CFG_STATUS_INVALID_BINDING
				  : r == -EBUSY  ? CFG_STATUS_CANNOT_UPDATE
						 : CFG_STATUS_UNSPECIFIED;
		break;
	case CFG_OP_APPKEY_DELETE:
		r = mesh_node_appkey_del(s->node, ni, ai);
		m.appkey.status = (r == 0 || r == -ENOENT) ? CFG_STATUS_SUCCESS
				  : r == -EEXIST           ? CFG_STATUS_INVALID_BINDING
							   : CFG_STATUS_UNSPECIFIED;
		break;
	default:
		return -ENOENT;
	}
	if (m.appkey.status == CFG_STATUS_SUCCESS) {
		changed(s);
	}
	return reply(s, req, &m);
}

static int on_appkey_get(struct cfg_srv *s, const struct mesh_acc_msg *req, uint16_t net_idx)
{
	struct cfg_msg *m = calloc(1, sizeof(*m));
	size_t n;
	int r;

	if (!m) {
		return -ENOMEM;
	}
	m->op = CFG_OP_APPKEY_LIST;
	m->idx_list.net_idx = net_idx;
	if (mesh_net_subnet_kr_phase(mesh_node_net(s->node), net_idx) < 0) {
		m->idx_list.status = CFG_STATUS_INVALID_NETKEY;
	} else {
		n = mesh_node_appkeys(s->node, net_idx, m->idx_list.idx, CFG_LIST_MAX);
		m->idx_list.n = n > CFG_LIST_MAX ? CFG_LIST_MAX : n;
	}
	r = reply(s, req, m);
	free(m);
	return r;
}

static struct mesh_model_id model_id(const struct cfg_model_id *id)
{
	struct mesh_model_id r = {.vendor = id->vendor, .cid = id->cid, .id = id->id};

	return r;
}

/* The model addressed by a Config message, or NULL with *status set. */
static struct mesh_acc_model *find_model(struct cfg_srv *s, uint16_t elem_addr,
					 const struct cfg_model_id *id, uint8_t *status)
{
	struct mesh_acc *acc = mesh_node_acc(s->node);
	uint16_t primary = mesh_node_primary(s->node);
	struct mesh_acc_model *mdl;

	if (elem_addr < primary || elem_addr >= primary + mesh_acc_elem_count(acc)) {
		*status = CFG_STATUS_INVALID_ADDRESS;
		return NULL;
	}
	mdl = mesh_acc_model_find_addr(acc, elem_addr, model_id(id));
	*status = mdl ? CFG_STATUS_SUCCESS : CFG_STATUS_INVALID_MODEL;
	return mdl;
}

static bool dev_key_model(const struct mesh_acc_model *mdl)
{
	struct mesh_model_id id = mesh_acc_model_id(mdl);

	/* Foundation models secured with the device key (§4.4: 0x0000-0x0005 and RPR). */
	return !id.vendor && id.id <= 0x0005;
}

static int on_model_app(struct cfg_srv *s, const struct mesh_acc_msg *req, const struct cfg_msg *in)
{
	struct cfg_msg m = {.op = CFG_OP_MODEL_APP_STATUS};
	struct mesh_acc_model *mdl;
	uint8_t st;
	int r;

	m.model_app = in->model_app;
	mdl = find_model(s, in->model_app.elem_addr, &in->model_app.model, &st);
	if (mdl && mesh_node_appkey_net(s->node, in->model_app.app_idx) < 0) {
		st = CFG_STATUS_INVALID_APPKEY;
	} else if (mdl && dev_key_model(mdl)) {
		st = CFG_STATUS_CANNOT_BIND;
	} else if (mdl && in->op == CFG_OP_MODEL_APP_BIND) {
		r = mesh_acc_model_bind(mdl, in->model_app.app_idx);
		st = r == 0         ? CFG_STATUS_SUCCESS
		     : r == -ENOSPC ? CFG_STATUS_INSUFFICIENT_RESOURCES
				    : CFG_STATUS_UNSPECIFIED;
	} else if (mdl) {
		r = mesh_acc_model_unbind(mdl, in->model_app.app_idx);
		/* Unbinding an unbound key is a success (§4.4.1.2.x Model App Unbind). */
		st = (r == 0 || r == -ENOENT) ? CFG_STATUS_SUCCESS : CFG_STATUS_UNSPECIFIED;
	}
	m.model_app.status = st;
	if (st == CFG_STATUS_SUCCESS) {
		changed(s);
	}
	return reply(s, req, &m);
}

/*
 * SIG/Vendor Model App Get and Model Subscription Get share one shape: a
 * list of the model's bindings or subscriptions (§4.3.2).  Device-key models
 * have neither: Invalid Model for bindings, Not A Subscribe Model for
 * subscriptions.
 */
static int on_model_list(struct cfg_srv *s, const struct mesh_acc_msg *req,
			 const struct cfg_msg *in, bool subs)
{
	struct cfg_msg *m = calloc(1, sizeof(*m));
	struct mesh_acc_model *mdl;
	bool sig = in->op == CFG_OP_SIG_MODEL_APP_GET || in->op == CFG_OP_SIG_MODEL_SUB_GET;
	uint8_t st;
	int r;

	if (!m) {
		return -ENOMEM;
	}
	if (subs) {
		m->op = sig ? CFG_OP_SIG_MODEL_SUB_LIST : CFG_OP_VND_MODEL_SUB_LIST;
	} else {
		m->op = sig ? CFG_OP_SIG_MODEL_APP_LIST : CFG_OP_VND_MODEL_APP_LIST;
	}
	m->model_list.elem_addr = in->model_ref.elem_addr;
	m->model_list.model = in->model_ref.model;
	mdl = find_model(s, in->model_ref.elem_addr, &in->model_ref.model, &st);
	if (mdl && dev_key_model(mdl)) {
		st = subs ? CFG_STATUS_NOT_A_SUBSCRIBE_MODEL : CFG_STATUS_INVALID_MODEL;
	} else if (mdl) {
		size_t n = subs ? mesh_acc_model_subs(mdl, m->model_list.items, CFG_LIST_MAX)
				: mesh_acc_model_bindings(mdl, m->model_list.items, CFG_LIST_MAX);

		m->model_list.n = n > CFG_LIST_MAX ? CFG_LIST_MAX : n;
	}
	m->model_list.status = st;
	r = reply(s, req, m);
	free(m);
	return r;
}

static int on_model_pub(struct cfg_srv *s, const struct mesh_acc_msg *req, const struct cfg_msg *in)
{
	struct cfg_msg m = {.op = CFG_OP_MODEL_PUB_STATUS};
	struct mesh_acc_model *mdl;
	struct mesh_acc_pub pub;
	uint8_t st;

	if (in->op == CFG_OP_MODEL_PUB_GET) {
		m.model_pub.elem_addr = in->model_ref.elem_addr;
		m.model_pub.model = in->model_ref.model;
		mdl = find_model(s, in->model_ref.elem_addr, &in->model_ref.model, &st);
	} else {
		m.model_pub = in->model_pub;
		mdl = find_model(s, in->model_pub.elem_addr, &in->model_pub.model, &st);
	}
	if (mdl && in->op != CFG_OP_MODEL_PUB_GET) {
		memset(&pub, 0, sizeof(pub));
		pub.addr = in->model_pub.pub_addr;
		if (in->op == CFG_OP_MODEL_PUB_VA_SET) {
			memcpy(pub.label, in->model_pub.label, 16);
			if (mesh_crypto_virtual_addr(pub.label, &pub.addr) ||
			    mesh_node_label_add(s->node, pub.label)) {
				st = CFG_STATUS_INSUFFICIENT_RESOURCES;
			}
		}
		pub.app_idx = in->model_pub.app_idx;
		pub.cred = in->model_pub.cred;
		pub.ttl = in->model_pub.ttl;
		pub.period = in->model_pub.period;
		pub.retransmit = in->model_pub.retransmit;
		if (st == CFG_STATUS_SUCCESS && pub.addr != MESH_ADDR_UNASSIGNED &&
		    mesh_node_appkey_net(s->node, pub.app_idx) < 0) {
			st = CFG_STATUS_INVALID_APPKEY;
		}
		if (st == CFG_STATUS_SUCCESS && mesh_acc_model_pub_set(mdl, &pub) != 0) {
			st = CFG_STATUS_INVALID_PUBLISH_PARAMS;
		}
		if (st == CFG_STATUS_SUCCESS) {
			changed(s);
		}
	}
	if (mdl && st == CFG_STATUS_SUCCESS) {
		mesh_acc_model_pub_get(mdl, &pub);
		m.model_pub.pub_addr = pub.addr;
		m.model_pub.app_idx = pub.app_idx;
		m.model_pub.cred = pub.cred;
		m.model_pub.ttl = pub.ttl;
		m.model_pub.period = pub.period;
		m.model_pub.retransmit = pub.retransmit;
	}
	m.model_pub.status = st;
	return reply(s, req, &m);
}

static int on_model_sub(struct cfg_srv *s, const struct mesh_acc_msg *req, const struct cfg_msg *in)
{
	struct cfg_msg m = {.op = CFG_OP_MODEL_SUB_STATUS};
	struct cfg_model_sub all = {0};
	const struct cfg_model_sub *q = &in->model_sub;
	struct mesh_acc_model *mdl;
	bool va = in->op == CFG_OP_MODEL_SUB_VA_ADD || in->op == CFG_OP_MODEL_SUB_VA_DELETE ||
		  in->op == CFG_OP_MODEL_SUB_VA_OVERWRITE;
	uint16_t addr = q->addr;
	const uint8_t *label = NULL;
	uint8_t st;
	int r = 0;

	if (in->op == CFG_OP_MODEL_SUB_DELETE_ALL) {
		/* Delete All carries only the element and model (the model_ref family). */
		all.elem_addr = in->model_ref.elem_addr;
		all.model = in->model_ref.model;
		q = &all;
	}
	m.model_sub.elem_addr = q->elem_addr;
	m.model_sub.model = q->model;
	mdl = find_model(s, q->elem_addr, &q->model, &st);
	if (mdl && dev_key_model(mdl)) {
		st = CFG_STATUS_NOT_A_SUBSCRIBE_MODEL;
	}
	if (va) {
		label = q->label;
		if (mesh_crypto_virtual_addr(label, &addr)) {
			st = CFG_STATUS_UNSPECIFIED;
		}
	} else if (in->op != CFG_OP_MODEL_SUB_DELETE_ALL &&
		   (!mesh_addr_is_group(addr) || addr == MESH_ADDR_ALL_NODES)) {
		/* Only group addresses (not all-nodes) may be subscribed (§4.2.4). */
		if (st == CFG_STATUS_SUCCESS) {
			st = CFG_STATUS_INVALID_ADDRESS;
		}
	}
	if (st == CFG_STATUS_SUCCESS) {
		switch (in->op) {
		case CFG_OP_MODEL_SUB_OVERWRITE:
		case CFG_OP_MODEL_SUB_VA_OVERWRITE:
			mesh_acc_model_sub_clear(mdl);
			/* FALLTHROUGH */
		case CFG_OP_MODEL_SUB_ADD:
		case CFG_OP_MODEL_SUB_VA_ADD:
			if (label) {
				r = mesh_node_label_add(s->node, label);
			}
			if (!r) {
				r = mesh_acc_model_sub_add(mdl, addr, label);
			}
			break;
		case CFG_OP_MODEL_SUB_DELETE:
		case CFG_OP_MODEL_SUB_VA_DELETE:
			r = mesh_acc_model_sub_del(mdl, addr, label);
			r = r == -ENOENT ? 0 : r;
			break;
		case CFG_OP_MODEL_SUB_DELETE_ALL:
			mesh_acc_model_sub_clear(mdl);
			addr = MESH_ADDR_UNASSIGNED;
			break;
		default:
			return -ENOENT;
		}
		st = r == 0         ? CFG_STATUS_SUCCESS
		     : r == -ENOSPC ? CFG_STATUS_INSUFFICIENT_RESOURCES
				    : CFG_STATUS_UNSPECIFIED;
	}
	m.model_sub.addr = in->op == CFG_OP_MODEL_SUB_DELETE_ALL ? MESH_ADDR_UNASSIGNED : addr;
	m.model_sub.status = st;
	if (st == CFG_STATUS_SUCCESS) {
		changed(s);
	}
	return reply(s, req, &m);
}

static int on_krp(struct cfg_srv *s, const struct mesh_acc_msg *req, const struct cfg_msg *in)
{
	struct cfg_msg m = {.op = CFG_OP_KRP_STATUS};
	int phase, r;

	m.net_idx.net_idx = in->net_idx.net_idx;
	phase = mesh_net_subnet_kr_phase(mesh_node_net(s->node), in->net_idx.net_idx);
	if (phase < 0) {
		m.net_idx.status = CFG_STATUS_INVALID_NETKEY;
	} else if (in->op == CFG_OP_KRP_SET) {
		r = mesh_node_kr_transition(s->node, in->net_idx.net_idx, in->net_idx.state);
		m.net_idx.status = r == 0 ? CFG_STATUS_SUCCESS : CFG_STATUS_CANNOT_SET;
		if (r == 0) {
			changed(s);
		}
	}
	phase = mesh_net_subnet_kr_phase(mesh_node_net(s->node), in->net_idx.net_idx);
	m.net_idx.state = phase < 0 ? 0 : (uint8_t)phase;
	return reply(s, req, &m);
}

static int on_node_identity(struct cfg_srv *s, const struct mesh_acc_msg *req,
			    const struct cfg_msg *in)
{
	struct cfg_msg m = {.op = CFG_OP_NODE_IDENTITY_STATUS};

	m.net_idx.net_idx = in->net_idx.net_idx;
	if (mesh_net_subnet_kr_phase(mesh_node_net(s->node), in->net_idx.net_idx) < 0) {
		m.net_idx.status = CFG_STATUS_INVALID_NETKEY;
	}
	/* Node Identity advertising needs the GATT Proxy feature, which we lack. */
	m.net_idx.state = CFG_STATE_NOT_SUPPORTED;
	return reply(s, req, &m);
}

static int on_hb_pub(struct cfg_srv *s, const struct mesh_acc_msg *req, const struct cfg_msg *in)
{
	struct cfg_msg m = {.op = CFG_OP_HB_PUB_STATUS};
	const struct cfg_hb_pub *q = &in->hb_pub;

	if (in->op == CFG_OP_HB_PUB_SET) {
		m.hb_pub = *q;
		if (mesh_net_subnet_kr_phase(mesh_node_net(s->node), q->net_idx) < 0) {
			m.hb_pub.status = CFG_STATUS_INVALID_NETKEY;
			return reply(s, req, &m);
		}
		if (q->count_log > 0x11 && q->count_log != 0xff) {
			m.hb_pub.status = CFG_STATUS_CANNOT_SET;
			return reply(s, req, &m);
		}
		s->hb.pub_dst = q->dst;
		s->hb.pub_count_log = q->dst ? q->count_log : 0;
		s->hb.pub_period_log = q->dst ? q->period_log : 0;
		s->hb.pub_ttl = q->ttl;
		s->hb.pub_features = q->features;
		s->hb.pub_net_idx = q->net_idx;
		changed(s);
	}
	m.hb_pub.status = CFG_STATUS_SUCCESS;
	m.hb_pub.dst = s->hb.pub_dst;
	m.hb_pub.count_log = s->hb.pub_count_log;
	m.hb_pub.period_log = s->hb.pub_period_log;
	m.hb_pub.ttl = s->hb.pub_ttl;
	m.hb_pub.features = s->hb.pub_features;
	m.hb_pub.net_idx = s->hb.pub_net_idx;
	return reply(s, req, &m);
}

static int on_hb_sub(struct cfg_srv *s, const struct mesh_acc_msg *req, const struct cfg_msg *in)
{
	struct cfg_msg m = {.op = CFG_OP_HB_SUB_STATUS};

	if (in->op == CFG_OP_HB_SUB_SET) {
		bool off = in->hb_sub.src == 0 || in->hb_sub.dst == 0;

		s->hb.sub_src = off ? 0 : in->hb_sub.src;
		s->hb.sub_dst = off ? 0 : in->hb_sub.dst;
		s->hb.sub_period_log = off ? 0 : in->hb_sub.period_log;
		changed(s);
	}
	m.hb_sub.status = CFG_STATUS_SUCCESS;
	m.hb_sub.src = s->hb.sub_src;
	m.hb_sub.dst = s->hb.sub_dst;
	m.hb_sub.period_log = s->hb.sub_period_log;
	/* No heartbeats are counted on simulated devices: CountLog 0, hops 0. */
	return reply(s, req, &m);
}

static int on_config(struct mesh_acc_model *mdl, const struct mesh_acc_msg *msg, void *user)
{
	struct cfg_srv *s = user;
	struct cfg_msg *in;
	int r;

	(void)mdl;
	in = calloc(1, sizeof(*in));
	if (!in) {
		return -ENOMEM;
	}
	r = cfg_msg_decode(msg->opcode, msg->params, msg->len, in);
	if (r) {
		free(in);
		return r;
	}
	switch (in->op) {
	case CFG_OP_COMP_GET:
		r = on_comp_get(s, msg, in->comp.page);
		break;
	case CFG_OP_RELAY_GET:
	case CFG_OP_RELAY_SET:
		r = on_relay(s, msg, in);
		break;
	case CFG_OP_NETKEY_ADD:
	case CFG_OP_NETKEY_UPDATE:
	case CFG_OP_NETKEY_DELETE:
		r = on_netkey(s, msg, in);
		break;
	case CFG_OP_NETKEY_GET:
		r = on_netkey_get(s, msg);
		break;
	case CFG_OP_APPKEY_ADD:
	case CFG_OP_APPKEY_UPDATE:
	case CFG_OP_APPKEY_DELETE:
		r = on_appkey(s, msg, in);
		break;
	case CFG_OP_APPKEY_GET:
		r = on_appkey_get(s, msg, in->net_idx.net_idx);
		break;
	case CFG_OP_MODEL_APP_BIND:
	case CFG_OP_MODEL_APP_UNBIND:
		r = on_model_app(s, msg, in);
		break;
	case CFG_OP_SIG_MODEL_APP_GET:
	case CFG_OP_VND_MODEL_APP_GET:
		r = on_model_list(s, msg, in, false);
		break;
	case CFG_OP_MODEL_PUB_GET:
	case CFG_OP_MODEL_PUB_SET:
	case CFG_OP_MODEL_PUB_VA_SET:
		r = on_model_pub(s, msg, in);
		break;
	case CFG_OP_MODEL_SUB_ADD:
	case CFG_OP_MODEL_SUB_DELETE:
	case CFG_OP_MODEL_SUB_OVERWRITE:
	case CFG_OP_MODEL_SUB_DELETE_ALL:
	case CFG_OP_MODEL_SUB_VA_ADD:
	case CFG_OP_MODEL_SUB_VA_DELETE:
	case CFG_OP_MODEL_SUB_VA_OVERWRITE:
		r = on_model_sub(s, msg, in);
		break;
	case CFG_OP_SIG_MODEL_SUB_GET:
	case CFG_OP_VND_MODEL_SUB_GET:
		r = on_model_list(s, msg, in, true);
		break;
	case CFG_OP_KRP_GET:
	case CFG_OP_KRP_SET:
		r = on_krp(s, msg, in);
		break;
	case CFG_OP_NODE_IDENTITY_GET:
	case CFG_OP_NODE_IDENTITY_SET:
		r = on_node_identity(s, msg, in);
		break;
	case CFG_OP_HB_PUB_GET:
	case CFG_OP_HB_PUB_SET:
		r = on_hb_pub(s, msg, in);
		break;
	case CFG_OP_HB_SUB_GET:
	case CFG_OP_HB_SUB_SET:
		r = on_hb_sub(s, msg, in);
		break;
	case CFG_OP_NODE_RESET: {
		struct cfg_msg m = {.op = CFG_OP_NODE_RESET_STATUS};

		r = reply(s, msg, &m);
		if (s->ops.reset) {
			s->ops.reset(s->ops.ctx);
		}
		break;
	}
	default:
		r = on_state(s, msg, in);
		break;
	}
	mesh_crypto_wipe(in, sizeof(*in));
	free(in);
	return r;
}

/* Every request opcode the server answers; lengths are checked by cfg_msg_decode(). */
static const struct mesh_acc_op srv_ops[] = {
    {CFG_OP_APPKEY_ADD, 0, -1, on_config},
    {CFG_OP_APPKEY_UPDATE, 0, -1, on_config},
    {CFG_OP_MODEL_PUB_SET, 0, -1, on_config},
    {CFG_OP_APPKEY_DELETE, 0, -1, on_config},
    {CFG_OP_APPKEY_GET, 0, -1, on_config},
    {CFG_OP_COMP_GET, 0, -1, on_config},
    {CFG_OP_BEACON_GET, 0, -1, on_config},
    {CFG_OP_BEACON_SET, 0, -1, on_config},
    {CFG_OP_DEFAULT_TTL_GET, 0, -1, on_config},
    {CFG_OP_DEFAULT_TTL_SET, 0, -1, on_config},
    {CFG_OP_FRIEND_GET, 0, -1, on_config},
    {CFG_OP_FRIEND_SET, 0, -1, on_config},
    {CFG_OP_GATT_PROXY_GET, 0, -1, on_config},
    {CFG_OP_GATT_PROXY_SET, 0, -1, on_config},
    {CFG_OP_KRP_GET, 0, -1, on_config},
    {CFG_OP_KRP_SET, 0, -1, on_config},
    {CFG_OP_MODEL_PUB_GET, 0, -1, on_config},
    {CFG_OP_MODEL_PUB_VA_SET, 0, -1, on_config},
    {CFG_OP_MODEL_SUB_ADD, 0, -1, on_config},
    {CFG_OP_MODEL_SUB_DELETE, 0, -1, on_config},
    {CFG_OP_MODEL_SUB_DELETE_ALL, 0, -1, on_config},
    {CFG_OP_MODEL_SUB_OVERWRITE, 0, -1, on_config},
    {CFG_OP_MODEL_SUB_VA_ADD, 0, -1, on_config},
    {CFG_OP_MODEL_SUB_VA_DELETE, 0, -1, on_config},
    {CFG_OP_MODEL_SUB_VA_OVERWRITE, 0, -1, on_config},
    {CFG_OP_NET_TRANSMIT_GET, 0, -1, on_config},
    {CFG_OP_NET_TRANSMIT_SET, 0, -1, on_config},
    {CFG_OP_RELAY_GET, 0, -1, on_config},
    {CFG_OP_RELAY_SET, 0, -1, on_config},
    {CFG_OP_SIG_MODEL_SUB_GET, 0, -1, on_config},
    {CFG_OP_VND_MODEL_SUB_GET, 0, -1, on_config},
    {CFG_OP_HB_PUB_GET, 0, -1, on_config},
    {CFG_OP_HB_PUB_SET, 0, -1, on_config},
    {CFG_OP_HB_SUB_GET, 0, -1, on_config},
    {CFG_OP_HB_SUB_SET, 0, -1, on_config},
    {CFG_OP_MODEL_APP_BIND, 0, -1, on_config},
    {CFG_OP_MODEL_APP_UNBIND, 0, -1, on_config},
    {CFG_OP_NETKEY_ADD, 0, -1, on_config},
    {CFG_OP_NETKEY_DELETE, 0, -1, on_config},
    {CFG_OP_NETKEY_GET, 0, -1, on_config},
    {CFG_OP_NETKEY_UPDATE, 0, -1, on_config},
    {CFG_OP_NODE_IDENTITY_GET, 0, -1, on_config},
    {CFG_OP_NODE_IDENTITY_SET, 0, -1, on_config},
    {CFG_OP_NODE_RESET, 0, -1, on_config},
    {CFG_OP_SIG_MODEL_APP_GET, 0, -1, on_config},
    {CFG_OP_VND_MODEL_APP_GET, 0, -1, on_config},
};

struct cfg_srv *cfg_srv_new(struct mesh_node *node, const struct cfg_srv_config *cfg,
			    const struct cfg_srv_ops *ops)
{
	struct cfg_srv *s = calloc(1, sizeof(*s));
	struct mesh_model_id id = {.vendor = false, .id = 0x0000};

	if (!s) {
		return NULL;
	}
	s->node = node;
	s->cfg = *cfg;
	s->cfg.page128 = NULL;
	if (ops) {
		s->ops = *ops;
	}
	if (cfg->page128 && cfg_srv_page128_set(s, cfg->page128, cfg->page128_len)) {
		free(s);
		return NULL;
	}
	if (mesh_acc_model_add(mesh_node_acc(node), 0, id, MESH_ACC_MODEL_DEV_KEY, srv_ops,
			       sizeof(srv_ops) / sizeof(srv_ops[0]), s, &s->mdl)) {
		free(s);
		return NULL;
	}
	return s;
}

void cfg_srv_free(struct cfg_srv *s)
{
	if (s) {
		(void)mesh_acc_model_del(mesh_node_acc(s->node), s->mdl);
	}
	free(s);
}

int cfg_srv_page128_set(struct cfg_srv *s, const uint8_t *page, size_t len)
{
	struct mesh_comp *c;
	int r;

	if (!page) {
		s->has_page128 = false;
		s->page128_len = 0;
		return 0;
	}
	if (len > sizeof(s->page128)) {
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	/* Page 128 has the format of page 0 (§4.2.2.x): refuse garbage. */
	r = mesh_comp_parse(page, len, c);
	free(c);
	if (r) {
		return r;
	}
	memcpy(s->page128, page, len);
	s->page128_len = len;
	s->has_page128 = true;
	return 0;
}

void cfg_srv_hb_get(const struct cfg_srv *s, struct cfg_srv_hb *out)
{
	*out = s->hb;
}

int cfg_srv_hb_set(struct cfg_srv *s, const struct cfg_srv_hb *hb)
{
	bool sub_off = hb->sub_src == MESH_ADDR_UNASSIGNED || hb->sub_dst == MESH_ADDR_UNASSIGNED;

	/*
	 * Accept exactly what the Set handlers above can leave behind, so that
	 * any state this server reached can be stored and restored: TTL and
	 * NetKey Index in range, CountLog 0x00-0x11 or 0xff (§4.2.17.2), no
	 * count or period without a destination; a subscription source that is
	 * unicast, a destination that is not virtual, PeriodLog up to 0x11
	 * (§4.2.18), and all zero when either address is unassigned.
	 */
	if (hb->pub_ttl > MESH_TTL_MAX || hb->pub_net_idx > MESH_KEY_IDX_MAX ||
	    (hb->pub_count_log > 0x11 && hb->pub_count_log != 0xff) ||
	    (hb->pub_dst == MESH_ADDR_UNASSIGNED && (hb->pub_count_log || hb->pub_period_log))) {
		return -EINVAL;
	}
	if (sub_off && (hb->sub_src || hb->sub_dst || hb->sub_period_log)) {
		return -EINVAL;
	}
	if (!sub_off && (!mesh_addr_is_unicast(hb->sub_src) || mesh_addr_is_virtual(hb->sub_dst) ||
			 hb->sub_period_log > 0x11)) {
		return -EINVAL;
	}
	s->hb = *hb;
	return 0;
}
