/*
 * Configuration model message codec (Mesh Protocol v1.1 §4.3.2), as tables
 * for mesh/msg_codec.h: one layout per message shape, one row per opcode.
 * The layouts carry the value rules the cfg_msg.h header lists; each cites
 * where the specification marks a value Prohibited or RFU.  Values a Config
 * Server must answer with a status code rather than drop (a subscription
 * address that is not a group address, a Heartbeat Publication CountLog of
 * 0x12) are left to the server.
 */
#include "mesh/cfg_msg.h"

#include <stddef.h>

#include "mesh/mesh.h"
#include "mesh/msg_codec.h"

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
	msgc_idx_pack(idx1, idx2, out);
}

void cfg_idx_unpack(const uint8_t in[3], uint16_t *idx1, uint16_t *idx2)
{
	msgc_idx_unpack(in, idx1, idx2);
}

/* --- Fields every family uses --- */

#define F MSGC_FIELD
#define STATUS(T) F(MSGC_U8(T, status), MSGC_IN(0, CFG_STATUS_MAX))
/*
 * The ElementAddress of every Config message is "the unicast address of
 * the element"; other values are prohibited (§4.3.2 and following), and
 * servers drop such messages rather than answer.
 */
#define ELEM(T) F(MSGC_LE16(T, elem_addr), MSGC_UNICAST)
/*
 * A Model Identifier at the end of a message: its length (2 or 4 octets)
 * is what tells a SIG model from a vendor model (§4.3.1), so exactly 4
 * octets left mean Company ID ‖ Model ID.
 */
#define MODEL(T)                                                                                   \
	F(MSGC_LE16(T, model.cid), MSGC_OPT_LEFT(T, model.vendor, 4)), F(MSGC_LE16(T, model.id))
/* A Model Identifier whose width the opcode fixes (SIG/Vendor Get and List messages). */
#define MODEL_SIG(T) F(MSGC_IS(T, model.vendor, false)), F(MSGC_LE16(T, model.id))
#define MODEL_VND(T)                                                                               \
	F(MSGC_IS(T, model.vendor, true)), F(MSGC_LE16(T, model.cid)), F(MSGC_LE16(T, model.id))
/* TTL fields: 0x80-0xff prohibited (§4.2). */
#define TTL_IN MSGC_IN(0, MESH_TTL_MAX)

/* --- Composition Data Get (page), Status (page ‖ page contents, parsed by mesh/comp.h) --- */

static const struct msgc_field comp_get[] = {{MSGC_U8(struct cfg_comp, page)}};
static const struct msgc_field comp_status[] = {
    {MSGC_U8(struct cfg_comp, page)},
    {MSGC_REST(struct cfg_comp, data, data_len)},
};

/* --- One-octet states (§4.2) --- */

/*
 * Secure Network Beacon: 0x02-0xff prohibited; GATT Proxy, Friend Set: a
 * Set may only enable or disable, "not supported" is a Status value.
 */
static const struct msgc_field state_01[] = {{MSGC_U8(struct cfg_state, val), MSGC_IN(0, 1)}};
static const struct msgc_field state_012[] = {
    {MSGC_U8(struct cfg_state, val), MSGC_IN(0, CFG_STATE_NOT_SUPPORTED)},
};
/* Default TTL: 0x01 and 0x80-0xff prohibited. */
static const struct msgc_field state_ttl[] = {
    {MSGC_U8(struct cfg_state, val), MSGC_IN(0x02, MESH_TTL_MAX), MSGC_OR(0x00)},
};
/* Network Transmit: every 3-bit count and 5-bit interval is valid. */
static const struct msgc_field state_any[] = {{MSGC_U8(struct cfg_state, val)}};

/* --- Relay Set / Status: Relay (Set 0/1, Status 0/1/2) ‖ Relay Retransmit --- */

static const struct msgc_field relay_set[] = {
    {MSGC_U8(struct cfg_relay, relay), MSGC_IN(0, 1)},
    {MSGC_U8(struct cfg_relay, retransmit)},
};
static const struct msgc_field relay_status[] = {
    {MSGC_U8(struct cfg_relay, relay), MSGC_IN(0, CFG_STATE_NOT_SUPPORTED)},
    {MSGC_U8(struct cfg_relay, retransmit)},
};

/* --- Element + model: Publication Get, Sub Delete All, SIG/Vendor Sub and App Gets --- */

static const struct msgc_field model_ref[] = {
    ELEM(struct cfg_model_ref),
    MODEL(struct cfg_model_ref),
};
static const struct msgc_field model_ref_sig[] = {
    ELEM(struct cfg_model_ref),
    MODEL_SIG(struct cfg_model_ref),
};
static const struct msgc_field model_ref_vnd[] = {
    ELEM(struct cfg_model_ref),
    MODEL_VND(struct cfg_model_ref),
};

/* --- Model Publication (§4.3.2) --- */

/*
 * After the publish address: AppKeyIndex ‖ CredentialFlag ‖ RFU (2
 * octets), Publish TTL (0x80-0xfe prohibited, 0xff = use Default TTL,
 * §4.2), Period, Retransmit, Model Identifier.
 */
#define PUB_PARAMS(T)                                                                              \
	F(MSGC_IDX_FLAG(T, app_idx, cred)),                                                        \
	    F(MSGC_U8(T, ttl), TTL_IN, MSGC_OR(CFG_PUB_TTL_DEFAULT)), F(MSGC_U8(T, period)),       \
	    F(MSGC_U8(T, retransmit)), MODEL(T)

static const struct msgc_field pub_set[] = {
    ELEM(struct cfg_model_pub),
    {MSGC_LE16(struct cfg_model_pub, pub_addr)},
    PUB_PARAMS(struct cfg_model_pub),
};
static const struct msgc_field pub_va_set[] = {
    ELEM(struct cfg_model_pub),
    {MSGC_BYTES(struct cfg_model_pub, label)},
    PUB_PARAMS(struct cfg_model_pub),
};
static const struct msgc_field pub_status[] = {
    STATUS(struct cfg_model_pub),
    ELEM(struct cfg_model_pub),
    {MSGC_LE16(struct cfg_model_pub, pub_addr)},
    PUB_PARAMS(struct cfg_model_pub),
};

/* --- Model Subscription (§4.3.2); whether addr is a group address is the server's check --- */

static const struct msgc_field sub[] = {
    ELEM(struct cfg_model_sub),
    {MSGC_LE16(struct cfg_model_sub, addr)},
    MODEL(struct cfg_model_sub),
};
static const struct msgc_field sub_va[] = {
    ELEM(struct cfg_model_sub),
    {MSGC_BYTES(struct cfg_model_sub, label)},
    MODEL(struct cfg_model_sub),
};
static const struct msgc_field sub_status[] = {
    STATUS(struct cfg_model_sub),
    ELEM(struct cfg_model_sub),
    {MSGC_LE16(struct cfg_model_sub, addr)},
    MODEL(struct cfg_model_sub),
};

/* --- SIG/Vendor Model Subscription List (addresses), Model App List (packed indexes) --- */

#define LIST_HEAD(T) STATUS(T), ELEM(T)
static const struct msgc_field sub_list_sig[] = {
    LIST_HEAD(struct cfg_model_list),
    MODEL_SIG(struct cfg_model_list),
    {MSGC_LIST16(struct cfg_model_list, items, n)},
};
static const struct msgc_field sub_list_vnd[] = {
    LIST_HEAD(struct cfg_model_list),
    MODEL_VND(struct cfg_model_list),
    {MSGC_LIST16(struct cfg_model_list, items, n)},
};
static const struct msgc_field app_list_sig[] = {
    LIST_HEAD(struct cfg_model_list),
    MODEL_SIG(struct cfg_model_list),
    {MSGC_IDX_LIST(struct cfg_model_list, items, n)},
};
static const struct msgc_field app_list_vnd[] = {
    LIST_HEAD(struct cfg_model_list),
    MODEL_VND(struct cfg_model_list),
    {MSGC_IDX_LIST(struct cfg_model_list, items, n)},
};

/* --- Model App Bind / Unbind / Status --- */

static const struct msgc_field model_app[] = {
    ELEM(struct cfg_model_app),
    {MSGC_KEY_IDX(struct cfg_model_app, app_idx)},
    MODEL(struct cfg_model_app),
};
static const struct msgc_field model_app_status[] = {
    STATUS(struct cfg_model_app),
    ELEM(struct cfg_model_app),
    {MSGC_KEY_IDX(struct cfg_model_app, app_idx)},
    MODEL(struct cfg_model_app),
};

/* --- NetKey Add / Update: NetKeyIndex ‖ NetKey --- */

static const struct msgc_field netkey[] = {
    {MSGC_KEY_IDX(struct cfg_netkey, net_idx)},
    {MSGC_BYTES(struct cfg_netkey, key)},
};

/* --- One NetKey Index: NetKey Delete/Status, AppKey Get, Key Refresh Phase, Node Identity --- */

static const struct msgc_field net_idx[] = {{MSGC_KEY_IDX(struct cfg_net_idx, net_idx)}};
static const struct msgc_field net_idx_status[] = {
    STATUS(struct cfg_net_idx),
    {MSGC_KEY_IDX(struct cfg_net_idx, net_idx)},
};
/* Key Refresh Phase Set Transition: only 0x02 and 0x03 are defined, the rest prohibited (§4.3.2).
 */
static const struct msgc_field krp_set[] = {
    {MSGC_KEY_IDX(struct cfg_net_idx, net_idx)},
    {MSGC_U8(struct cfg_net_idx, state), MSGC_IN(CFG_KR_TRANSITION_2, CFG_KR_TRANSITION_3)},
};
/* Key Refresh Phase state 0x03-0xff prohibited (§4.2). */
static const struct msgc_field krp_status[] = {
    STATUS(struct cfg_net_idx),
    {MSGC_KEY_IDX(struct cfg_net_idx, net_idx)},
    {MSGC_U8(struct cfg_net_idx, state), MSGC_IN(CFG_KR_PHASE_NORMAL, CFG_KR_PHASE_2)},
};
/* Node Identity: only running/stopped may be set; "not supported" is a Status value (§4.2). */
static const struct msgc_field node_id_set[] = {
    {MSGC_KEY_IDX(struct cfg_net_idx, net_idx)},
    {MSGC_U8(struct cfg_net_idx, state), MSGC_IN(0, CFG_STATE_ENABLED)},
};
static const struct msgc_field node_id_status[] = {
    STATUS(struct cfg_net_idx),
    {MSGC_KEY_IDX(struct cfg_net_idx, net_idx)},
    {MSGC_U8(struct cfg_net_idx, state), MSGC_IN(0, CFG_STATE_NOT_SUPPORTED)},
};

/* --- AppKey Add / Update (indexes ‖ key), Delete (indexes), Status (status ‖ indexes) --- */

static const struct msgc_field appkey[] = {
    {MSGC_IDX_PAIR(struct cfg_appkey, net_idx, app_idx)},
    {MSGC_BYTES(struct cfg_appkey, key)},
};
static const struct msgc_field appkey_idx[] = {
    {MSGC_IDX_PAIR(struct cfg_appkey, net_idx, app_idx)}};
static const struct msgc_field appkey_status[] = {
    STATUS(struct cfg_appkey),
    {MSGC_IDX_PAIR(struct cfg_appkey, net_idx, app_idx)},
};

/* --- NetKey List, AppKey List (status ‖ NetKeyIndex ‖ AppKey indexes) --- */

static const struct msgc_field netkey_list[] = {{MSGC_IDX_LIST(struct cfg_idx_list, idx, n)}};
static const struct msgc_field appkey_list[] = {
    STATUS(struct cfg_idx_list),
    {MSGC_KEY_IDX(struct cfg_idx_list, net_idx)},
    {MSGC_IDX_LIST(struct cfg_idx_list, idx, n)},
};

/*
 * --- Heartbeat Publication Set / Status ---
 * TTL 0x80-0xff is prohibited (§4.2).  A virtual Destination and
 * out-of-range CountLog/PeriodLog are answered with a status (Invalid
 * Address, Cannot Set) that echoes the request, so both the Set and that
 * Status may carry them.
 */
#define HB_PUB(T)                                                                                  \
	F(MSGC_LE16(T, dst)), F(MSGC_U8(T, count_log)), F(MSGC_U8(T, period_log)),                 \
	    F(MSGC_U8(T, ttl), TTL_IN), F(MSGC_LE16(T, features)), F(MSGC_KEY_IDX(T, net_idx))
static const struct msgc_field hb_pub_set[] = {HB_PUB(struct cfg_hb_pub)};
static const struct msgc_field hb_pub_status[] = {
    STATUS(struct cfg_hb_pub),
    HB_PUB(struct cfg_hb_pub),
};

/*
 * --- Heartbeat Subscription Set / Status ---
 * Source: unassigned or unicast; Destination: anything but a virtual
 * address; PeriodLog 0x12-0xff prohibited (§4.2).  In a Status, CountLog
 * is 0x00-0x11 or 0xff and the hop counts 0x00-0x7f.
 */
#define HB_SUB(T)                                                                                  \
	F(MSGC_LE16(T, src), MSGC_UNICAST, MSGC_OR(MESH_ADDR_UNASSIGNED)),                         \
	    F(MSGC_LE16(T, dst), MSGC_NOT_VIRTUAL),                                                \
	    F(MSGC_U8(T, period_log), MSGC_IN(0, HB_LOG_MAX))
static const struct msgc_field hb_sub_set[] = {HB_SUB(struct cfg_hb_sub)};
static const struct msgc_field hb_sub_status[] = {
    STATUS(struct cfg_hb_sub),
    HB_SUB(struct cfg_hb_sub),
    {MSGC_U8(struct cfg_hb_sub, count_log), MSGC_IN(0, HB_LOG_MAX), MSGC_OR(HB_COUNT_LOG_INFINITE)},
    {MSGC_U8(struct cfg_hb_sub, min_hops), TTL_IN},
    {MSGC_U8(struct cfg_hb_sub, max_hops), TTL_IN},
};

/* --- LPN PollTimeout Get (LPN address) / Status (address ‖ 24-bit PollTimeout) --- */

static const struct msgc_field lpn_get[] = {
    {MSGC_LE16(struct cfg_lpn_timeout, lpn_addr), MSGC_UNICAST},
};
static const struct msgc_field lpn_status[] = {
    {MSGC_LE16(struct cfg_lpn_timeout, lpn_addr), MSGC_UNICAST},
    {MSGC_LE24(struct cfg_lpn_timeout, poll_timeout),
     MSGC_IN(LPN_POLL_TIMEOUT_MIN, LPN_POLL_TIMEOUT_MAX), MSGC_OR(0)},
};

/* --- One row per opcode: family, parameter length (min, max) and layout --- */

#define ROW(op, fam, min, max, layout) MSGC_ROW(CFG_OP_##op, CFG_FAM_##fam, min, max, layout)
#define EMPTY(op) MSGC_ROW_EMPTY(CFG_OP_##op, CFG_FAM_EMPTY)
#define ANY MSGC_LEN_ANY

static const struct msgc_row cfg_rows[] = {
    EMPTY(BEACON_GET),
    EMPTY(DEFAULT_TTL_GET),
    EMPTY(FRIEND_GET),
    EMPTY(GATT_PROXY_GET),
    EMPTY(NET_TRANSMIT_GET),
    EMPTY(RELAY_GET),
    EMPTY(NETKEY_GET),
    EMPTY(HB_PUB_GET),
    EMPTY(HB_SUB_GET),
    EMPTY(NODE_RESET),
    EMPTY(NODE_RESET_STATUS),
    ROW(COMP_GET, COMP, 1, 1, comp_get),
    ROW(COMP_STATUS, COMP, 1, ANY, comp_status),
    ROW(BEACON_SET, STATE, 1, 1, state_01),
    ROW(BEACON_STATUS, STATE, 1, 1, state_01),
    ROW(DEFAULT_TTL_SET, STATE, 1, 1, state_ttl),
    ROW(DEFAULT_TTL_STATUS, STATE, 1, 1, state_ttl),
    ROW(FRIEND_SET, STATE, 1, 1, state_01),
    ROW(FRIEND_STATUS, STATE, 1, 1, state_012),
    ROW(GATT_PROXY_SET, STATE, 1, 1, state_01),
    ROW(GATT_PROXY_STATUS, STATE, 1, 1, state_012),
    ROW(NET_TRANSMIT_SET, STATE, 1, 1, state_any),
    ROW(NET_TRANSMIT_STATUS, STATE, 1, 1, state_any),
    ROW(RELAY_SET, RELAY, 2, 2, relay_set),
    ROW(RELAY_STATUS, RELAY, 2, 2, relay_status),
    ROW(MODEL_PUB_GET, MODEL_REF, 4, 6, model_ref),
    ROW(MODEL_SUB_DELETE_ALL, MODEL_REF, 4, 6, model_ref),
    ROW(SIG_MODEL_SUB_GET, MODEL_REF, 4, 4, model_ref_sig),
    ROW(VND_MODEL_SUB_GET, MODEL_REF, 6, 6, model_ref_vnd),
    ROW(SIG_MODEL_APP_GET, MODEL_REF, 4, 4, model_ref_sig),
    ROW(VND_MODEL_APP_GET, MODEL_REF, 6, 6, model_ref_vnd),
    ROW(MODEL_PUB_SET, MODEL_PUB, 11, 13, pub_set),
    ROW(MODEL_PUB_VA_SET, MODEL_PUB, 25, 27, pub_va_set),
    ROW(MODEL_PUB_STATUS, MODEL_PUB, 12, 14, pub_status),
    ROW(MODEL_SUB_ADD, MODEL_SUB, 6, 8, sub),
    ROW(MODEL_SUB_DELETE, MODEL_SUB, 6, 8, sub),
    ROW(MODEL_SUB_OVERWRITE, MODEL_SUB, 6, 8, sub),
    ROW(MODEL_SUB_VA_ADD, MODEL_SUB, 20, 22, sub_va),
    ROW(MODEL_SUB_VA_DELETE, MODEL_SUB, 20, 22, sub_va),
    ROW(MODEL_SUB_VA_OVERWRITE, MODEL_SUB, 20, 22, sub_va),
    ROW(MODEL_SUB_STATUS, MODEL_SUB, 7, 9, sub_status),
    ROW(SIG_MODEL_SUB_LIST, MODEL_LIST, 5, ANY, sub_list_sig),
    ROW(VND_MODEL_SUB_LIST, MODEL_LIST, 7, ANY, sub_list_vnd),
    ROW(SIG_MODEL_APP_LIST, MODEL_LIST, 5, ANY, app_list_sig),
    ROW(VND_MODEL_APP_LIST, MODEL_LIST, 7, ANY, app_list_vnd),
    ROW(MODEL_APP_BIND, MODEL_APP, 6, 8, model_app),
    ROW(MODEL_APP_UNBIND, MODEL_APP, 6, 8, model_app),
    ROW(MODEL_APP_STATUS, MODEL_APP, 7, 9, model_app_status),
    ROW(NETKEY_ADD, NETKEY, 18, 18, netkey),
    ROW(NETKEY_UPDATE, NETKEY, 18, 18, netkey),
    ROW(NETKEY_DELETE, NET_IDX, 2, 2, net_idx),
    ROW(NETKEY_STATUS, NET_IDX, 3, 3, net_idx_status),
    ROW(APPKEY_GET, NET_IDX, 2, 2, net_idx),
    ROW(KRP_GET, NET_IDX, 2, 2, net_idx),
    ROW(KRP_SET, NET_IDX, 3, 3, krp_set),
    ROW(KRP_STATUS, NET_IDX, 4, 4, krp_status),
    ROW(NODE_IDENTITY_GET, NET_IDX, 2, 2, net_idx),
    ROW(NODE_IDENTITY_SET, NET_IDX, 3, 3, node_id_set),
    ROW(NODE_IDENTITY_STATUS, NET_IDX, 4, 4, node_id_status),
    ROW(APPKEY_ADD, APPKEY, 19, 19, appkey),
    ROW(APPKEY_UPDATE, APPKEY, 19, 19, appkey),
    ROW(APPKEY_DELETE, APPKEY, 3, 3, appkey_idx),
    ROW(APPKEY_STATUS, APPKEY, 4, 4, appkey_status),
    ROW(NETKEY_LIST, IDX_LIST, 0, ANY, netkey_list),
    ROW(APPKEY_LIST, IDX_LIST, 3, ANY, appkey_list),
    ROW(HB_PUB_SET, HB_PUB, 9, 9, hb_pub_set),
    ROW(HB_PUB_STATUS, HB_PUB, 10, 10, hb_pub_status),
    ROW(HB_SUB_SET, HB_SUB, 5, 5, hb_sub_set),
    ROW(HB_SUB_STATUS, HB_SUB, 9, 9, hb_sub_status),
    ROW(LPN_TIMEOUT_GET, LPN_TIMEOUT, 2, 2, lpn_get),
    ROW(LPN_TIMEOUT_STATUS, LPN_TIMEOUT, 5, 5, lpn_status),
};

static const struct msgc_table cfg_table = MSGC_TABLE(cfg_rows, struct cfg_msg, comp);

MSGC_MSG_DEF(cfg, &cfg_table)
MSGC_FAMILY_DEF(cfg, comp, CFG_FAM_COMP, &cfg_table)
MSGC_FAMILY_DEF(cfg, state, CFG_FAM_STATE, &cfg_table)
MSGC_FAMILY_DEF(cfg, relay, CFG_FAM_RELAY, &cfg_table)
MSGC_FAMILY_DEF(cfg, model_ref, CFG_FAM_MODEL_REF, &cfg_table)
MSGC_FAMILY_DEF(cfg, model_pub, CFG_FAM_MODEL_PUB, &cfg_table)
MSGC_FAMILY_DEF(cfg, model_sub, CFG_FAM_MODEL_SUB, &cfg_table)
MSGC_FAMILY_DEF(cfg, model_list, CFG_FAM_MODEL_LIST, &cfg_table)
MSGC_FAMILY_DEF(cfg, model_app, CFG_FAM_MODEL_APP, &cfg_table)
MSGC_FAMILY_DEF(cfg, netkey, CFG_FAM_NETKEY, &cfg_table)
MSGC_FAMILY_DEF(cfg, net_idx, CFG_FAM_NET_IDX, &cfg_table)
MSGC_FAMILY_DEF(cfg, appkey, CFG_FAM_APPKEY, &cfg_table)
MSGC_FAMILY_DEF(cfg, idx_list, CFG_FAM_IDX_LIST, &cfg_table)
MSGC_FAMILY_DEF(cfg, hb_pub, CFG_FAM_HB_PUB, &cfg_table)
MSGC_FAMILY_DEF(cfg, hb_sub, CFG_FAM_HB_SUB, &cfg_table)
MSGC_FAMILY_DEF(cfg, lpn_timeout, CFG_FAM_LPN_TIMEOUT, &cfg_table)
