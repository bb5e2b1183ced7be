/*
 * Configuration model message codec (Mesh Protocol v1.1 §4.3.2).
 *
 * Every family has three static functions: *_get reads the fields from a
 * bounded cursor (a length error sets the cursor's sticky error, so one
 * check at the end covers every read), *_put writes them, and *_check says
 * whether a struct holds only values that may go on the air.  Decoding is
 * get + "all bytes consumed" + check; encoding is check + put.  Because both
 * directions share the same check, whatever encodes also decodes, and a
 * decoded message re-encodes to the same octets (the fuzz target asserts
 * this).  That is also why RFU bits are rejected rather than ignored: a
 * struct has no room to carry them back out.
 */
#include "mesh/cfg_msg.h"

#include <errno.h>
#include <string.h>

#include "mesh/access.h"
#include "mesh/buf.h"
#include "mesh/crypto.h"
#include "mesh/mesh.h"

/* PollTimeout (24 bits, 100 ms units): 0x000001-0x000009 and past 0x34bbff are prohibited (§4.3.2).
 */
#define LPN_POLL_TIMEOUT_MIN 0x00000a
#define LPN_POLL_TIMEOUT_MAX 0x34bbff
/* Heartbeat log fields (§4.2): 0x00-0x11, and 0xff for "indefinitely". */
#define HB_LOG_MAX 0x11
#define HB_COUNT_LOG_INFINITE 0xff

static const char *const status_names[] = {
    [CFG_STATUS_SUCCESS] = "Success",
    [CFG_STATUS_INVALID_ADDRESS] = "Invalid Address",
    [CFG_STATUS_INVALID_MODEL] = "Invalid Model",
    [CFG_STATUS_INVALID_APPKEY] = "Invalid AppKey Index",
    [CFG_STATUS_INVALID_NETKEY] = "Invalid NetKey Index",
    [CFG_STATUS_INSUFFICIENT_RESOURCES] = "Insufficient Resources",
    [CFG_STATUS_KEY_INDEX_ALREADY_STORED] = "Key Index Already Stored",
    [CFG_STATUS_INVALID_PUBLISH_PARAMS] = "Invalid Publish Parameters",
    [CFG_STATUS_NOT_A_SUBSCRIBE_MODEL] = "Not a Subscribe Model",
    [CFG_STATUS_STORAGE_FAILURE] = "Storage Failure",
    [CFG_STATUS_FEATURE_NOT_SUPPORTED] = "Feature Not Supported",
    [CFG_STATUS_CANNOT_UPDATE] = "Cannot Update",
    [CFG_STATUS_CANNOT_REMOVE] = "Cannot Remove",
    [CFG_STATUS_CANNOT_BIND] = "Cannot Bind",
    [CFG_STATUS_TEMPORARILY_UNABLE] = "Temporarily Unable to Change State",
    [CFG_STATUS_CANNOT_SET] = "Cannot Set",
    [CFG_STATUS_UNSPECIFIED] = "Unspecified Error",
    [CFG_STATUS_INVALID_BINDING] = "Invalid Binding",
};

_Static_assert(sizeof(status_names) / sizeof(status_names[0]) == CFG_STATUS_MAX + 1,
	       "every status code needs a name");

const char *cfg_status_str(uint8_t status)
{
	return status <= CFG_STATUS_MAX ? status_names[status] : "RFU";
}

void cfg_idx_pack(uint16_t idx1, uint16_t idx2, uint8_t out[3])
{
	out[0] = (uint8_t)idx1;
	out[1] = (uint8_t)(((idx1 >> 8) & 0x0f) | ((idx2 & 0x0f) << 4));
	out[2] = (uint8_t)(idx2 >> 4);
}

void cfg_idx_unpack(const uint8_t in[3], uint16_t *idx1, uint16_t *idx2)
{
	*idx1 = (uint16_t)(in[0] | ((in[1] & 0x0f) << 8));
	*idx2 = (uint16_t)((in[1] >> 4) | (in[2] << 4));
}

enum cfg_family cfg_msg_family(uint32_t op)
{
	switch (op) {
	case CFG_OP_BEACON_GET:
	case CFG_OP_DEFAULT_TTL_GET:
	case CFG_OP_FRIEND_GET:
	case CFG_OP_GATT_PROXY_GET:
	case CFG_OP_NET_TRANSMIT_GET:
	case CFG_OP_RELAY_GET:
	case CFG_OP_NETKEY_GET:
	case CFG_OP_HB_PUB_GET:
	case CFG_OP_HB_SUB_GET:
	case CFG_OP_NODE_RESET:
	case CFG_OP_NODE_RESET_STATUS:
		return CFG_FAM_EMPTY;
	case CFG_OP_COMP_GET:
	case CFG_OP_COMP_STATUS:
		return CFG_FAM_COMP;
	case CFG_OP_BEACON_SET:
	case CFG_OP_BEACON_STATUS:
	case CFG_OP_DEFAULT_TTL_SET:
	case CFG_OP_DEFAULT_TTL_STATUS:
	case CFG_OP_FRIEND_SET:
	case CFG_OP_FRIEND_STATUS:
	case CFG_OP_GATT_PROXY_SET:
	case CFG_OP_GATT_PROXY_STATUS:
	case CFG_OP_NET_TRANSMIT_SET:
	case CFG_OP_NET_TRANSMIT_STATUS:
		return CFG_FAM_STATE;
	case CFG_OP_RELAY_SET:
	case CFG_OP_RELAY_STATUS:
		return CFG_FAM_RELAY;
	case CFG_OP_MODEL_PUB_GET:
	case CFG_OP_MODEL_SUB_DELETE_ALL:
	case CFG_OP_SIG_MODEL_SUB_GET:
	case CFG_OP_VND_MODEL_SUB_GET:
	case CFG_OP_SIG_MODEL_APP_GET:
	case CFG_OP_VND_MODEL_APP_GET:
		return CFG_FAM_MODEL_REF;
	case CFG_OP_MODEL_PUB_SET:
	case CFG_OP_MODEL_PUB_VA_SET:
	case CFG_OP_MODEL_PUB_STATUS:
		return CFG_FAM_MODEL_PUB;
	case CFG_OP_MODEL_SUB_ADD:
	case CFG_OP_MODEL_SUB_DELETE:
	case CFG_OP_MODEL_SUB_OVERWRITE:
	case CFG_OP_MODEL_SUB_VA_ADD:
	case CFG_OP_MODEL_SUB_VA_DELETE:
	case CFG_OP_MODEL_SUB_VA_OVERWRITE:
	case CFG_OP_MODEL_SUB_STATUS:
		return CFG_FAM_MODEL_SUB;
	case CFG_OP_SIG_MODEL_SUB_LIST:
	case CFG_OP_VND_MODEL_SUB_LIST:
	case CFG_OP_SIG_MODEL_APP_LIST:
	case CFG_OP_VND_MODEL_APP_LIST:
		return CFG_FAM_MODEL_LIST;
	case CFG_OP_MODEL_APP_BIND:
	case CFG_OP_MODEL_APP_UNBIND:
	case CFG_OP_MODEL_APP_STATUS:
		return CFG_FAM_MODEL_APP;
	case CFG_OP_NETKEY_ADD:
	case CFG_OP_NETKEY_UPDATE:
		return CFG_FAM_NETKEY;
	case CFG_OP_NETKEY_DELETE:
	case CFG_OP_NETKEY_STATUS:
	case CFG_OP_APPKEY_GET:
	case CFG_OP_KRP_GET:
	case CFG_OP_KRP_SET:
	case CFG_OP_KRP_STATUS:
	case CFG_OP_NODE_IDENTITY_GET:
	case CFG_OP_NODE_IDENTITY_SET:
	case CFG_OP_NODE_IDENTITY_STATUS:
		return CFG_FAM_NET_IDX;
	case CFG_OP_APPKEY_ADD:
	case CFG_OP_APPKEY_UPDATE:
	case CFG_OP_APPKEY_DELETE:
	case CFG_OP_APPKEY_STATUS:
		return CFG_FAM_APPKEY;
	case CFG_OP_NETKEY_LIST:
	case CFG_OP_APPKEY_LIST:
		return CFG_FAM_IDX_LIST;
	case CFG_OP_HB_PUB_SET:
	case CFG_OP_HB_PUB_STATUS:
		return CFG_FAM_HB_PUB;
	case CFG_OP_HB_SUB_SET:
	case CFG_OP_HB_SUB_STATUS:
		return CFG_FAM_HB_SUB;
	case CFG_OP_LPN_TIMEOUT_GET:
	case CFG_OP_LPN_TIMEOUT_STATUS:
		return CFG_FAM_LPN_TIMEOUT;
	default:
		return CFG_FAM_NONE;
	}
}

/* --- Shared field helpers --- */

/* A field that parsed but holds an RFU pattern makes the whole message malformed. */
static void reject(struct mesh_rbuf *r)
{
	r->err = true;
}

static bool idx_ok(uint16_t idx)
{
	return idx <= MESH_KEY_IDX_MAX;
}

static bool status_ok(uint8_t status)
{
	return status <= CFG_STATUS_MAX;
}

/* A single key index is 2 octets with the upper 4 bits RFU (§4.3.1). */
static uint16_t key_idx_get(struct mesh_rbuf *r)
{
	uint16_t idx = mesh_rbuf_le16(r);

	if (!idx_ok(idx)) {
		reject(r);
	}
	return idx;
}

/*
 * A Model Identifier at the end of a message: its length (2 or 4 octets)
 * is what tells a SIG model from a vendor model (§4.3.1), so it must be
 * exactly what is left.
 */
static void model_get_tail(struct mesh_rbuf *r, struct cfg_model_id *m)
{
	if (r->len == 4) {
		m->vendor = true;
		m->cid = mesh_rbuf_le16(r);
		m->id = mesh_rbuf_le16(r);
	} else if (r->len == 2) {
		m->vendor = false;
		m->cid = 0;
		m->id = mesh_rbuf_le16(r);
	} else {
		reject(r);
	}
}

/* A Model Identifier whose width the opcode fixes (SIG/Vendor Get and List messages). */
static void model_get(struct mesh_rbuf *r, bool vendor, struct cfg_model_id *m)
{
	m->vendor = vendor;
	m->cid = vendor ? mesh_rbuf_le16(r) : 0;
	m->id = mesh_rbuf_le16(r);
}

static void model_put(struct mesh_wbuf *w, const struct cfg_model_id *m)
{
	if (m->vendor) {
		mesh_wbuf_le16(w, m->cid);
	}
	mesh_wbuf_le16(w, m->id);
}

/*
 * A list of packed key indexes fills the rest of the message: pairs in 3
 * octets, an odd last index in 2 octets whose upper 4 bits are RFU.  A
 * single octet left over cannot be either.
 */
static void idx_list_get(struct mesh_rbuf *r, uint16_t *idx, size_t *n)
{
	size_t k = 0;

	/* An earlier field may have failed; a failed cursor consumes nothing, so stop. */
	while (mesh_rbuf_ok(r) && r->len >= 3) {
		const uint8_t *p = mesh_rbuf_pull(r, 3);

		if (!p || k + 2 > CFG_LIST_MAX) {
			reject(r);
			return;
		}
		cfg_idx_unpack(p, &idx[k], &idx[k + 1]);
		k += 2;
	}
	if (r->len == 2) {
		if (k + 1 > CFG_LIST_MAX) {
			reject(r);
			return;
		}
		idx[k++] = key_idx_get(r);
	} else if (r->len == 1) {
		reject(r);
	}
	*n = k;
}

static void idx_list_put(struct mesh_wbuf *w, const uint16_t *idx, size_t n)
{
	size_t k;

	for (k = 0; k + 1 < n; k += 2) {
		uint8_t *p = mesh_wbuf_push(w, 3);

		if (p) {
			cfg_idx_pack(idx[k], idx[k + 1], p);
		}
	}
	if (k < n) {
		mesh_wbuf_le16(w, idx[k]);
	}
}

static bool idx_list_ok(const uint16_t *idx, size_t n)
{
	size_t k;

	if (n > CFG_LIST_MAX) {
		return false;
	}
	for (k = 0; k < n; k++) {
		if (!idx_ok(idx[k])) {
			return false;
		}
	}
	return true;
}

/* --- Composition Data (§4.3.2) --- */

static void comp_get(uint32_t op, struct mesh_rbuf *r, struct cfg_comp *m)
{
	m->page = mesh_rbuf_u8(r);
	m->data = NULL;
	m->data_len = 0;
	if (op == CFG_OP_COMP_STATUS) {
		/* The page contents are framed here and parsed by mesh/comp.h. */
		m->data_len = r->len;
		m->data = mesh_rbuf_pull(r, r->len);
	}
}

static void comp_put(uint32_t op, const struct cfg_comp *m, struct mesh_wbuf *w)
{
	mesh_wbuf_u8(w, m->page);
	if (op == CFG_OP_COMP_STATUS) {
		mesh_wbuf_mem(w, m->data, m->data_len);
	}
}

static bool comp_check(uint32_t op, const struct cfg_comp *m)
{
	return op != CFG_OP_COMP_STATUS || m->data || m->data_len == 0;
}

/* --- One-octet states (§4.3.2) --- */

static void state_get(struct mesh_rbuf *r, struct cfg_state *m)
{
	m->val = mesh_rbuf_u8(r);
}

static void state_put(const struct cfg_state *m, struct mesh_wbuf *w)
{
	mesh_wbuf_u8(w, m->val);
}

static bool state_check(uint32_t op, const struct cfg_state *m)
{
	switch (op) {
	case CFG_OP_BEACON_SET:
	case CFG_OP_BEACON_STATUS:
		/* Secure Network Beacon state: 0x02-0xff prohibited (§4.2). */
		return m->val <= CFG_STATE_ENABLED;
	case CFG_OP_DEFAULT_TTL_SET:
	case CFG_OP_DEFAULT_TTL_STATUS:
		/* Default TTL: 0x01 and 0x80-0xff prohibited (§4.2). */
		return m->val != 0x01 && m->val <= MESH_TTL_MAX;
	case CFG_OP_GATT_PROXY_SET:
	case CFG_OP_FRIEND_SET:
		/* A Set may only enable or disable; "not supported" is a Status value. */
		return m->val <= CFG_STATE_ENABLED;
	case CFG_OP_GATT_PROXY_STATUS:
	case CFG_OP_FRIEND_STATUS:
		return m->val <= CFG_STATE_NOT_SUPPORTED;
	default:
		/* Network Transmit: every 3-bit count and 5-bit interval is valid. */
		return true;
	}
}

/* --- Relay (§4.3.2) --- */

static void relay_get(struct mesh_rbuf *r, struct cfg_relay *m)
{
	m->relay = mesh_rbuf_u8(r);
	m->retransmit = mesh_rbuf_u8(r);
}

static void relay_put(const struct cfg_relay *m, struct mesh_wbuf *w)
{
	mesh_wbuf_u8(w, m->relay);
	mesh_wbuf_u8(w, m->retransmit);
}

static bool relay_check(uint32_t op, const struct cfg_relay *m)
{
	return m->relay <= (op == CFG_OP_RELAY_SET ? CFG_STATE_ENABLED : CFG_STATE_NOT_SUPPORTED);
}

/* --- Element + model (Publication Get, Sub Delete All, SIG/Vendor Gets) --- */

static bool model_ref_vendor(uint32_t op)
{
	return op == CFG_OP_VND_MODEL_SUB_GET || op == CFG_OP_VND_MODEL_APP_GET;
}

static bool model_ref_fixed(uint32_t op)
{
	return op == CFG_OP_SIG_MODEL_SUB_GET || op == CFG_OP_SIG_MODEL_APP_GET ||
	       model_ref_vendor(op);
}

static void model_ref_get(uint32_t op, struct mesh_rbuf *r, struct cfg_model_ref *m)
{
	m->elem_addr = mesh_rbuf_le16(r);
	if (model_ref_fixed(op)) {
		model_get(r, model_ref_vendor(op), &m->model);
	} else {
		model_get_tail(r, &m->model);
	}
}

static void model_ref_put(const struct cfg_model_ref *m, struct mesh_wbuf *w)
{
	mesh_wbuf_le16(w, m->elem_addr);
	model_put(w, &m->model);
}

/*
 * The ElementAddress of every Config message is "the unicast address of
 * the element"; other values are prohibited (§4.3.2 and following), and
 * servers drop such messages rather than answer.
 */
static bool model_ref_check(uint32_t op, const struct cfg_model_ref *m)
{
	if (!mesh_addr_is_unicast(m->elem_addr)) {
		return false;
	}
	return !model_ref_fixed(op) || m->model.vendor == model_ref_vendor(op);
}

/* --- Model Publication (§4.3.2) --- */

/* AppKeyIndex (12 bits) ‖ CredentialFlag (1 bit) ‖ RFU (3 bits), one LE octet pair. */
#define PUB_CRED_BIT 0x1000
#define PUB_RFU_MASK 0xe000

static void model_pub_get(uint32_t op, struct mesh_rbuf *r, struct cfg_model_pub *m)
{
	uint16_t v;

	memset(m->label, 0, sizeof(m->label));
	m->status = op == CFG_OP_MODEL_PUB_STATUS ? mesh_rbuf_u8(r) : 0;
	m->elem_addr = mesh_rbuf_le16(r);
	if (op == CFG_OP_MODEL_PUB_VA_SET) {
		m->pub_addr = 0;
		mesh_rbuf_copy(r, m->label, sizeof(m->label));
	} else {
		m->pub_addr = mesh_rbuf_le16(r);
	}
	v = mesh_rbuf_le16(r);
	if (v & PUB_RFU_MASK) {
		reject(r);
	}
	m->app_idx = v & MESH_KEY_IDX_MAX;
	m->cred = (v & PUB_CRED_BIT) != 0;
	m->ttl = mesh_rbuf_u8(r);
	m->period = mesh_rbuf_u8(r);
	m->retransmit = mesh_rbuf_u8(r);
	model_get_tail(r, &m->model);
}

static void model_pub_put(uint32_t op, const struct cfg_model_pub *m, struct mesh_wbuf *w)
{
	if (op == CFG_OP_MODEL_PUB_STATUS) {
		mesh_wbuf_u8(w, m->status);
	}
	mesh_wbuf_le16(w, m->elem_addr);
	if (op == CFG_OP_MODEL_PUB_VA_SET) {
		mesh_wbuf_mem(w, m->label, sizeof(m->label));
	} else {
		mesh_wbuf_le16(w, m->pub_addr);
	}
	mesh_wbuf_le16(w, (uint16_t)(m->app_idx | (m->cred ? PUB_CRED_BIT : 0)));
	mesh_wbuf_u8(w, m->ttl);
	mesh_wbuf_u8(w, m->period);
	mesh_wbuf_u8(w, m->retransmit);
	model_put(w, &m->model);
}

static bool model_pub_check(uint32_t op, const struct cfg_model_pub *m)
{
	/* Publish TTL: 0x80-0xfe prohibited, 0xff = use Default TTL (§4.2). */
	if (m->ttl > MESH_TTL_MAX && m->ttl != CFG_PUB_TTL_DEFAULT) {
		return false;
	}
	if (op == CFG_OP_MODEL_PUB_STATUS && !status_ok(m->status)) {
		return false;
	}
	return mesh_addr_is_unicast(m->elem_addr) && idx_ok(m->app_idx);
}

/* --- Model Subscription (§4.3.2) --- */

static bool model_sub_virtual(uint32_t op)
{
	return op == CFG_OP_MODEL_SUB_VA_ADD || op == CFG_OP_MODEL_SUB_VA_DELETE ||
	       op == CFG_OP_MODEL_SUB_VA_OVERWRITE;
}

static void model_sub_get(uint32_t op, struct mesh_rbuf *r, struct cfg_model_sub *m)
{
	memset(m->label, 0, sizeof(m->label));
	m->status = op == CFG_OP_MODEL_SUB_STATUS ? mesh_rbuf_u8(r) : 0;
	m->elem_addr = mesh_rbuf_le16(r);
	if (model_sub_virtual(op)) {
		m->addr = 0;
		mesh_rbuf_copy(r, m->label, sizeof(m->label));
	} else {
		m->addr = mesh_rbuf_le16(r);
	}
	model_get_tail(r, &m->model);
}

static void model_sub_put(uint32_t op, const struct cfg_model_sub *m, struct mesh_wbuf *w)
{
	if (op == CFG_OP_MODEL_SUB_STATUS) {
		mesh_wbuf_u8(w, m->status);
	}
	mesh_wbuf_le16(w, m->elem_addr);
	if (model_sub_virtual(op)) {
		mesh_wbuf_mem(w, m->label, sizeof(m->label));
	} else {
		mesh_wbuf_le16(w, m->addr);
	}
	model_put(w, &m->model);
}

static bool model_sub_check(uint32_t op, const struct cfg_model_sub *m)
{
	if (op == CFG_OP_MODEL_SUB_STATUS && !status_ok(m->status)) {
		return false;
	}
	return mesh_addr_is_unicast(m->elem_addr);
}

/* --- SIG/Vendor Model Subscription List, Model App List (§4.3.2) --- */

static bool model_list_vendor(uint32_t op)
{
	return op == CFG_OP_VND_MODEL_SUB_LIST || op == CFG_OP_VND_MODEL_APP_LIST;
}

static bool model_list_apps(uint32_t op)
{
	return op == CFG_OP_SIG_MODEL_APP_LIST || op == CFG_OP_VND_MODEL_APP_LIST;
}

static void model_list_get(uint32_t op, struct mesh_rbuf *r, struct cfg_model_list *m)
{
	m->status = mesh_rbuf_u8(r);
	m->elem_addr = mesh_rbuf_le16(r);
	model_get(r, model_list_vendor(op), &m->model);
	if (model_list_apps(op)) {
		idx_list_get(r, m->items, &m->n);
		return;
	}
	/* Subscription addresses, 2 octets each, fill the rest. */
	if (!mesh_rbuf_ok(r) || r->len % 2 || r->len / 2 > CFG_LIST_MAX) {
		reject(r);
		return;
	}
	for (m->n = 0; r->len; m->n++) {
		m->items[m->n] = mesh_rbuf_le16(r);
	}
}

static void model_list_put(uint32_t op, const struct cfg_model_list *m, struct mesh_wbuf *w)
{
	size_t k;

	mesh_wbuf_u8(w, m->status);
	mesh_wbuf_le16(w, m->elem_addr);
	model_put(w, &m->model);
	if (model_list_apps(op)) {
		idx_list_put(w, m->items, m->n);
		return;
	}
	for (k = 0; k < m->n; k++) {
		mesh_wbuf_le16(w, m->items[k]);
	}
}

static bool model_list_check(uint32_t op, const struct cfg_model_list *m)
{
	if (!status_ok(m->status) || !mesh_addr_is_unicast(m->elem_addr) ||
	    m->model.vendor != model_list_vendor(op) || m->n > CFG_LIST_MAX) {
		return false;
	}
	return !model_list_apps(op) || idx_list_ok(m->items, m->n);
}

/* --- Model App Bind / Unbind / Status (§4.3.2) --- */

static void model_app_get(uint32_t op, struct mesh_rbuf *r, struct cfg_model_app *m)
{
	m->status = op == CFG_OP_MODEL_APP_STATUS ? mesh_rbuf_u8(r) : 0;
	m->elem_addr = mesh_rbuf_le16(r);
	m->app_idx = key_idx_get(r);
	model_get_tail(r, &m->model);
}

static void model_app_put(uint32_t op, const struct cfg_model_app *m, struct mesh_wbuf *w)
{
	if (op == CFG_OP_MODEL_APP_STATUS) {
		mesh_wbuf_u8(w, m->status);
	}
	mesh_wbuf_le16(w, m->elem_addr);
	mesh_wbuf_le16(w, m->app_idx);
	model_put(w, &m->model);
}

static bool model_app_check(uint32_t op, const struct cfg_model_app *m)
{
	if (op == CFG_OP_MODEL_APP_STATUS && !status_ok(m->status)) {
		return false;
	}
	return mesh_addr_is_unicast(m->elem_addr) && idx_ok(m->app_idx);
}

/* --- NetKey Add / Update (§4.3.2) --- */

static void netkey_get(struct mesh_rbuf *r, struct cfg_netkey *m)
{
	m->net_idx = key_idx_get(r);
	mesh_rbuf_copy(r, m->key, sizeof(m->key));
}

static void netkey_put(const struct cfg_netkey *m, struct mesh_wbuf *w)
{
	mesh_wbuf_le16(w, m->net_idx);
	mesh_wbuf_mem(w, m->key, sizeof(m->key));
}

/* --- One NetKey Index (NetKey Delete/Status, AppKey Get, KRP, Node Identity) --- */

static bool net_idx_has_status(uint32_t op)
{
	return op == CFG_OP_NETKEY_STATUS || op == CFG_OP_KRP_STATUS ||
	       op == CFG_OP_NODE_IDENTITY_STATUS;
}

static bool net_idx_has_state(uint32_t op)
{
	return op == CFG_OP_KRP_SET || op == CFG_OP_KRP_STATUS || op == CFG_OP_NODE_IDENTITY_SET ||
	       op == CFG_OP_NODE_IDENTITY_STATUS;
}

static void net_idx_get(uint32_t op, struct mesh_rbuf *r, struct cfg_net_idx *m)
{
	m->status = net_idx_has_status(op) ? mesh_rbuf_u8(r) : 0;
	m->net_idx = key_idx_get(r);
	m->state = net_idx_has_state(op) ? mesh_rbuf_u8(r) : 0;
}

static void net_idx_put(uint32_t op, const struct cfg_net_idx *m, struct mesh_wbuf *w)
{
	if (net_idx_has_status(op)) {
		mesh_wbuf_u8(w, m->status);
	}
	mesh_wbuf_le16(w, m->net_idx);
	if (net_idx_has_state(op)) {
		mesh_wbuf_u8(w, m->state);
	}
}

static bool net_idx_check(uint32_t op, const struct cfg_net_idx *m)
{
	if (!idx_ok(m->net_idx) || !status_ok(m->status)) {
		return false;
	}
	switch (op) {
	case CFG_OP_KRP_SET:
		/* Transition: only 0x02 and 0x03 are defined, the rest prohibited (§4.3.2). */
		return m->state == CFG_KR_TRANSITION_2 || m->state == CFG_KR_TRANSITION_3;
	case CFG_OP_KRP_STATUS:
		/* Key Refresh Phase state 0x03-0xff prohibited (§4.2). */
		return m->state <= CFG_KR_PHASE_2;
	case CFG_OP_NODE_IDENTITY_SET:
		/* Only running/stopped may be set; "not supported" is a Status value (§4.2). */
		return m->state <= CFG_STATE_ENABLED;
	case CFG_OP_NODE_IDENTITY_STATUS:
		return m->state <= CFG_STATE_NOT_SUPPORTED;
	default:
		return true;
	}
}

/* --- AppKey Add / Update / Delete / Status (§4.3.2) --- */

static bool appkey_has_key(uint32_t op)
{
	return op == CFG_OP_APPKEY_ADD || op == CFG_OP_APPKEY_UPDATE;
}

static void appkey_get(uint32_t op, struct mesh_rbuf *r, struct cfg_appkey *m)
{
	const uint8_t *p;

	m->status = op == CFG_OP_APPKEY_STATUS ? mesh_rbuf_u8(r) : 0;
	p = mesh_rbuf_pull(r, 3);
	m->net_idx = 0;
	m->app_idx = 0;
	if (p) {
		cfg_idx_unpack(p, &m->net_idx, &m->app_idx);
	}
	if (appkey_has_key(op)) {
		mesh_rbuf_copy(r, m->key, sizeof(m->key));
	} else {
		memset(m->key, 0, sizeof(m->key));
	}
}

static void appkey_put(uint32_t op, const struct cfg_appkey *m, struct mesh_wbuf *w)
{
	uint8_t *p;

	if (op == CFG_OP_APPKEY_STATUS) {
		mesh_wbuf_u8(w, m->status);
	}
	p = mesh_wbuf_push(w, 3);
	if (p) {
		cfg_idx_pack(m->net_idx, m->app_idx, p);
	}
	if (appkey_has_key(op)) {
		mesh_wbuf_mem(w, m->key, sizeof(m->key));
	}
}

static bool appkey_check(const struct cfg_appkey *m)
{
	return status_ok(m->status) && idx_ok(m->net_idx) && idx_ok(m->app_idx);
}

/* --- NetKey List, AppKey List (§4.3.2) --- */

static void idx_list_msg_get(uint32_t op, struct mesh_rbuf *r, struct cfg_idx_list *m)
{
	m->status = 0;
	m->net_idx = 0;
	if (op == CFG_OP_APPKEY_LIST) {
		m->status = mesh_rbuf_u8(r);
		m->net_idx = key_idx_get(r);
	}
	idx_list_get(r, m->idx, &m->n);
}

static void idx_list_msg_put(uint32_t op, const struct cfg_idx_list *m, struct mesh_wbuf *w)
{
	if (op == CFG_OP_APPKEY_LIST) {
		mesh_wbuf_u8(w, m->status);
		mesh_wbuf_le16(w, m->net_idx);
	}
	idx_list_put(w, m->idx, m->n);
}

static bool idx_list_msg_check(const struct cfg_idx_list *m)
{
	return status_ok(m->status) && idx_ok(m->net_idx) && idx_list_ok(m->idx, m->n);
}

/* --- Heartbeat Publication (§4.3.2) --- */

static void hb_pub_get(uint32_t op, struct mesh_rbuf *r, struct cfg_hb_pub *m)
{
	m->status = op == CFG_OP_HB_PUB_STATUS ? mesh_rbuf_u8(r) : 0;
	m->dst = mesh_rbuf_le16(r);
	m->count_log = mesh_rbuf_u8(r);
	m->period_log = mesh_rbuf_u8(r);
	m->ttl = mesh_rbuf_u8(r);
	m->features = mesh_rbuf_le16(r);
	m->net_idx = key_idx_get(r);
}

static void hb_pub_put(uint32_t op, const struct cfg_hb_pub *m, struct mesh_wbuf *w)
{
	if (op == CFG_OP_HB_PUB_STATUS) {
		mesh_wbuf_u8(w, m->status);
	}
	mesh_wbuf_le16(w, m->dst);
	mesh_wbuf_u8(w, m->count_log);
	mesh_wbuf_u8(w, m->period_log);
	mesh_wbuf_u8(w, m->ttl);
	mesh_wbuf_le16(w, m->features);
	mesh_wbuf_le16(w, m->net_idx);
}

/*
 * Heartbeat Publication TTL 0x80-0xff is prohibited (§4.2).  A virtual
 * Destination and out-of-range CountLog/PeriodLog are answered with a
 * status (Invalid Address, Cannot Set) that echoes the request, so both the
 * Set and that Status may carry them.
 */
static bool hb_pub_check(const struct cfg_hb_pub *m)
{
	return status_ok(m->status) && m->ttl <= MESH_TTL_MAX && idx_ok(m->net_idx);
}

/* --- Heartbeat Subscription (§4.3.2) --- */

static void hb_sub_get(uint32_t op, struct mesh_rbuf *r, struct cfg_hb_sub *m)
{
	bool status = op == CFG_OP_HB_SUB_STATUS;

	m->status = status ? mesh_rbuf_u8(r) : 0;
	m->src = mesh_rbuf_le16(r);
	m->dst = mesh_rbuf_le16(r);
	m->period_log = mesh_rbuf_u8(r);
	m->count_log = status ? mesh_rbuf_u8(r) : 0;
	m->min_hops = status ? mesh_rbuf_u8(r) : 0;
	m->max_hops = status ? mesh_rbuf_u8(r) : 0;
}

static void hb_sub_put(uint32_t op, const struct cfg_hb_sub *m, struct mesh_wbuf *w)
{
	bool status = op == CFG_OP_HB_SUB_STATUS;

	if (status) {
		mesh_wbuf_u8(w, m->status);
	}
	mesh_wbuf_le16(w, m->src);
	mesh_wbuf_le16(w, m->dst);
	mesh_wbuf_u8(w, m->period_log);
	if (status) {
		mesh_wbuf_u8(w, m->count_log);
		mesh_wbuf_u8(w, m->min_hops);
		mesh_wbuf_u8(w, m->max_hops);
	}
}

/*
 * Source: unassigned or unicast; Destination: anything but a virtual
 * address; PeriodLog 0x12-0xff prohibited (§4.2).  In a Status,
 * CountLog is 0x00-0x11 or 0xff and the hop counts 0x00-0x7f.
 */
static bool hb_sub_check(uint32_t op, const struct cfg_hb_sub *m)
{
	if (m->src != MESH_ADDR_UNASSIGNED && !mesh_addr_is_unicast(m->src)) {
		return false;
	}
	if (mesh_addr_is_virtual(m->dst) || m->period_log > HB_LOG_MAX) {
		return false;
	}
	if (op != CFG_OP_HB_SUB_STATUS) {
		return true;
	}
	return status_ok(m->status) &&
	       (m->count_log <= HB_LOG_MAX || m->count_log == HB_COUNT_LOG_INFINITE) &&
	       m->min_hops <= MESH_TTL_MAX && m->max_hops <= MESH_TTL_MAX;
}

/* --- LPN PollTimeout (§4.3.2) --- */

static void lpn_timeout_get(uint32_t op, struct mesh_rbuf *r, struct cfg_lpn_timeout *m)
{
	const uint8_t *p;

	m->lpn_addr = mesh_rbuf_le16(r);
	m->poll_timeout = 0;
	if (op == CFG_OP_LPN_TIMEOUT_STATUS) {
		p = mesh_rbuf_pull(r, 3);
		if (p) {
			m->poll_timeout =
			    (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
		}
	}
}

static void lpn_timeout_put(uint32_t op, const struct cfg_lpn_timeout *m, struct mesh_wbuf *w)
{
	mesh_wbuf_le16(w, m->lpn_addr);
	if (op == CFG_OP_LPN_TIMEOUT_STATUS) {
		mesh_wbuf_u8(w, (uint8_t)m->poll_timeout);
		mesh_wbuf_u8(w, (uint8_t)(m->poll_timeout >> 8));
		mesh_wbuf_u8(w, (uint8_t)(m->poll_timeout >> 16));
	}
}

static bool lpn_timeout_check(uint32_t op, const struct cfg_lpn_timeout *m)
{
	if (!mesh_addr_is_unicast(m->lpn_addr)) {
		return false;
	}
	return op != CFG_OP_LPN_TIMEOUT_STATUS || m->poll_timeout == 0 ||
	       (m->poll_timeout >= LPN_POLL_TIMEOUT_MIN && m->poll_timeout <= LPN_POLL_TIMEOUT_MAX);
}

/* --- Dispatch --- */

static void fields_get(enum cfg_family fam, struct mesh_rbuf *r, struct cfg_msg *m)
{
	uint32_t op = m->op;

	switch (fam) {
	case CFG_FAM_NONE:
	case CFG_FAM_EMPTY:
		break;
	case CFG_FAM_COMP:
		comp_get(op, r, &m->comp);
		break;
	case CFG_FAM_STATE:
		state_get(r, &m->state);
		break;
	case CFG_FAM_RELAY:
		relay_get(r, &m->relay);
		break;
	case CFG_FAM_MODEL_REF:
		model_ref_get(op, r, &m->model_ref);
		break;
	case CFG_FAM_MODEL_PUB:
		model_pub_get(op, r, &m->model_pub);
		break;
	case CFG_FAM_MODEL_SUB:
		model_sub_get(op, r, &m->model_sub);
		break;
	case CFG_FAM_MODEL_LIST:
		model_list_get(op, r, &m->model_list);
		break;
	case CFG_FAM_MODEL_APP:
		model_app_get(op, r, &m->model_app);
		break;
	case CFG_FAM_NETKEY:
		netkey_get(r, &m->netkey);
		break;
	case CFG_FAM_NET_IDX:
		net_idx_get(op, r, &m->net_idx);
		break;
	case CFG_FAM_APPKEY:
		appkey_get(op, r, &m->appkey);
		break;
	case CFG_FAM_IDX_LIST:
		idx_list_msg_get(op, r, &m->idx_list);
		break;
	case CFG_FAM_HB_PUB:
		hb_pub_get(op, r, &m->hb_pub);
		break;
	case CFG_FAM_HB_SUB:
		hb_sub_get(op, r, &m->hb_sub);
		break;
	case CFG_FAM_LPN_TIMEOUT:
		lpn_timeout_get(op, r, &m->lpn_timeout);
		break;
	}
}

static void fields_put(enum cfg_family fam, const struct cfg_msg *m, struct mesh_wbuf *w)
{
	uint32_t op = m->op;

	switch (fam) {
	case CFG_FAM_NONE:
	case CFG_FAM_EMPTY:
		break;
	case CFG_FAM_COMP:
		comp_put(op, &m->comp, w);
		break;
	case CFG_FAM_STATE:
		state_put(&m->state, w);
		break;
	case CFG_FAM_RELAY:
		relay_put(&m->relay, w);
		break;
	case CFG_FAM_MODEL_REF:
		model_ref_put(&m->model_ref, w);
		break;
	case CFG_FAM_MODEL_PUB:
		model_pub_put(op, &m->model_pub, w);
		break;
	case CFG_FAM_MODEL_SUB:
		model_sub_put(op, &m->model_sub, w);
		break;
	case CFG_FAM_MODEL_LIST:
		model_list_put(op, &m->model_list, w);
		break;
	case CFG_FAM_MODEL_APP:
		model_app_put(op, &m->model_app, w);
		break;
	case CFG_FAM_NETKEY:
		netkey_put(&m->netkey, w);
		break;
	case CFG_FAM_NET_IDX:
		net_idx_put(op, &m->net_idx, w);
		break;
	case CFG_FAM_APPKEY:
		appkey_put(op, &m->appkey, w);
		break;
	case CFG_FAM_IDX_LIST:
		idx_list_msg_put(op, &m->idx_list, w);
		break;
	case CFG_FAM_HB_PUB:
		hb_pub_put(op, &m->hb_pub, w);
		break;
	case CFG_FAM_HB_SUB:
		hb_sub_put(op, &m->hb_sub, w);
		break;
	case CFG_FAM_LPN_TIMEOUT:
		lpn_timeout_put(op, &m->lpn_timeout, w);
		break;
	}
}

static bool fields_check(enum cfg_family fam, const struct cfg_msg *m)
{
	uint32_t op = m->op;

	switch (fam) {
	case CFG_FAM_NONE:
		return false;
	case CFG_FAM_EMPTY:
		return true;
	case CFG_FAM_COMP:
		return comp_check(op, &m->comp);
	case CFG_FAM_STATE:
		return state_check(op, &m->state);
	case CFG_FAM_RELAY:
		return relay_check(op, &m->relay);
	case CFG_FAM_MODEL_REF:
		return model_ref_check(op, &m->model_ref);
	case CFG_FAM_MODEL_PUB:
		return model_pub_check(op, &m->model_pub);
	case CFG_FAM_MODEL_SUB:
		return model_sub_check(op, &m->model_sub);
	case CFG_FAM_MODEL_LIST:
		return model_list_check(op, &m->model_list);
	case CFG_FAM_MODEL_APP:
		return model_app_check(op, &m->model_app);
	case CFG_FAM_NETKEY:
		return idx_ok(m->netkey.net_idx);
	case CFG_FAM_NET_IDX:
		return net_idx_check(op, &m->net_idx);
	case CFG_FAM_APPKEY:
		return appkey_check(&m->appkey);
	case CFG_FAM_IDX_LIST:
		return idx_list_msg_check(&m->idx_list);
	case CFG_FAM_HB_PUB:
		return hb_pub_check(&m->hb_pub);
	case CFG_FAM_HB_SUB:
		return hb_sub_check(op, &m->hb_sub);
	case CFG_FAM_LPN_TIMEOUT:
		return lpn_timeout_check(op, &m->lpn_timeout);
	}
	return false;
}

/* NetKey and AppKey messages carry key material; temporaries holding it are wiped. */
static void wipe_secrets(enum cfg_family fam, struct cfg_msg *m)
{
	if (fam == CFG_FAM_NETKEY || fam == CFG_FAM_APPKEY) {
		mesh_crypto_wipe(m, sizeof(*m));
	}
}

/* Parameters that fit one access payload after the opcode. */
static size_t cfg_params_max(uint32_t op)
{
	return MESH_ACC_PAYLOAD_MAX - mesh_acc_op_len(op);
}

int cfg_msg_decode(uint32_t op, const uint8_t *params, size_t len, struct cfg_msg *out)
{
	enum cfg_family fam = cfg_msg_family(op);
	struct mesh_rbuf r;
	struct cfg_msg m;
	int err = 0;

	if (fam == CFG_FAM_NONE) {
		return -ENOENT;
	}
	if (!out || (!params && len)) {
		return -EINVAL;
	}
	if (len > cfg_params_max(op)) {
		return -EMSGSIZE;
	}
	memset(&m, 0, sizeof(m));
	m.op = op;
	mesh_rbuf_init(&r, params, len);
	fields_get(fam, &r, &m);
	if (!mesh_rbuf_done(&r) || !fields_check(fam, &m)) {
		err = -EBADMSG;
	} else {
		*out = m;
	}
	wipe_secrets(fam, &m);
	return err;
}

int cfg_msg_encode(const struct cfg_msg *m, uint8_t *out, size_t cap, size_t *len)
{
	enum cfg_family fam;
	struct mesh_wbuf w;
	size_t max;

	if (!m || !len || (!out && cap)) {
		return -EINVAL;
	}
	fam = cfg_msg_family(m->op);
	if (fam == CFG_FAM_NONE) {
		return -ENOENT;
	}
	if (!fields_check(fam, m)) {
		return -EINVAL;
	}
	max = cfg_params_max(m->op);
	mesh_wbuf_init(&w, out, cap < max ? cap : max);
	fields_put(fam, m, &w);
	if (w.err) {
		return cap < max ? -ENOSPC : -EINVAL;
	}
	*len = w.len;
	return 0;
}

/*
 * The per-family functions wrap the generic pair: they check that op
 * belongs to the family and move the struct in or out of a tagged message.
 */
#define CFG_MSG_FAMILY_DEF(name, fam)                                                              \
	int cfg_msg_##name##_encode(uint32_t op, const struct cfg_##name *m, uint8_t *out,         \
				    size_t cap, size_t *len)                                       \
	{                                                                                          \
		struct cfg_msg msg;                                                                \
		int err;                                                                           \
                                                                                                   \
		if (!m || cfg_msg_family(op) != (fam)) {                                           \
			return -EINVAL;                                                            \
		}                                                                                  \
		msg.op = op;                                                                       \
		msg.name = *m;                                                                     \
		err = cfg_msg_encode(&msg, out, cap, len);                                         \
		wipe_secrets(fam, &msg);                                                           \
		return err;                                                                        \
	}                                                                                          \
                                                                                                   \
	int cfg_msg_##name##_decode(uint32_t op, const uint8_t *params, size_t len,                \
				    struct cfg_##name *out)                                        \
	{                                                                                          \
		struct cfg_msg msg;                                                                \
		int err;                                                                           \
                                                                                                   \
		if (!out || cfg_msg_family(op) != (fam)) {                                         \
			return -EINVAL;                                                            \
		}                                                                                  \
		err = cfg_msg_decode(op, params, len, &msg);                                       \
		if (!err) {                                                                        \
			*out = msg.name;                                                           \
			wipe_secrets(fam, &msg);                                                   \
		}                                                                                  \
		return err;                                                                        \
	}

CFG_MSG_FAMILY_DEF(comp, CFG_FAM_COMP)
CFG_MSG_FAMILY_DEF(state, CFG_FAM_STATE)
CFG_MSG_FAMILY_DEF(relay, CFG_FAM_RELAY)
CFG_MSG_FAMILY_DEF(model_ref, CFG_FAM_MODEL_REF)
CFG_MSG_FAMILY_DEF(model_pub, CFG_FAM_MODEL_PUB)
CFG_MSG_FAMILY_DEF(model_sub, CFG_FAM_MODEL_SUB)
CFG_MSG_FAMILY_DEF(model_list, CFG_FAM_MODEL_LIST)
CFG_MSG_FAMILY_DEF(model_app, CFG_FAM_MODEL_APP)
CFG_MSG_FAMILY_DEF(netkey, CFG_FAM_NETKEY)
CFG_MSG_FAMILY_DEF(net_idx, CFG_FAM_NET_IDX)
CFG_MSG_FAMILY_DEF(appkey, CFG_FAM_APPKEY)
CFG_MSG_FAMILY_DEF(idx_list, CFG_FAM_IDX_LIST)
CFG_MSG_FAMILY_DEF(hb_pub, CFG_FAM_HB_PUB)
CFG_MSG_FAMILY_DEF(hb_sub, CFG_FAM_HB_SUB)
CFG_MSG_FAMILY_DEF(lpn_timeout, CFG_FAM_LPN_TIMEOUT)
