/*
 * Configuration model message codec (Mesh Protocol v1.1 §4.3.2;
 * ../shared/mesh-reference/formats.md §6).
 *
 * Pure and stateless: every function turns a plain value struct into the
 * message PARAMETERS (the access layer prepends the opcode, mesh/access.h)
 * or back.  Parameters are little-endian (§4.3.1).
 *
 * The API is organised by families of same-shaped messages.  Each family
 * has a struct and a pair of functions taking the opcode, because messages
 * of one shape differ in which fields are present and which values are
 * allowed (a Relay Set may not carry "not supported", a Relay Status may):
 *
 *   int cfg_msg_F_encode(uint32_t op, const struct cfg_F *m,
 *                        uint8_t *out, size_t cap, size_t *len);
 *   int cfg_msg_F_decode(uint32_t op, const uint8_t *params, size_t len,
 *                        struct cfg_F *out);
 *
 * encode: 0 and *len set; -EINVAL when op is not of the family or a field
 * holds a value the decoder would reject (so whatever encodes also
 * decodes); -ENOSPC when cap is too small.
 * decode: 0; -EINVAL when op is not of the family; -EBADMSG for a wrong
 * length, a prohibited value or non-zero RFU bits.  *out is written only on
 * success.
 *
 * What a decoder rejects: values the specification marks Prohibited or RFU
 * in the field definitions (key index bits 12-15, Default TTL 0x01 and
 * 0x80-0xff, Relay/GATT Proxy/Friend/Node Identity "not supported" in a
 * Set, Key Refresh transitions other than 2 and 3, status codes past
 * 0x11, non-unicast element addresses, and so on; see the comments in
 * cfg_msg.c).  What it accepts: values a Config Server must answer with a
 * status code rather than drop (a subscription address that is not a
 * group address → Invalid Address; a Heartbeat Publication CountLog of
 * 0x12 → Cannot Set), so the server can still answer.
 *
 * Pointers inside decoded structs (Composition Data) point into `params`:
 * borrowed, valid as long as the caller's parameter buffer is.
 */
#ifndef MESH_CFG_MSG_H
#define MESH_CFG_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opcodes (§4.3.4, Foundation model opcodes; BlueZ cfgmod.h). */
#define CFG_OP_APPKEY_ADD 0x00
#define CFG_OP_APPKEY_UPDATE 0x01
#define CFG_OP_COMP_STATUS 0x02
#define CFG_OP_MODEL_PUB_SET 0x03
#define CFG_OP_HB_PUB_STATUS 0x06
#define CFG_OP_APPKEY_DELETE 0x8000
#define CFG_OP_APPKEY_GET 0x8001
#define CFG_OP_APPKEY_LIST 0x8002
#define CFG_OP_APPKEY_STATUS 0x8003
#define CFG_OP_COMP_GET 0x8008
#define CFG_OP_BEACON_GET 0x8009
#define CFG_OP_BEACON_SET 0x800a
#define CFG_OP_BEACON_STATUS 0x800b
#define CFG_OP_DEFAULT_TTL_GET 0x800c
#define CFG_OP_DEFAULT_TTL_SET 0x800d
#define CFG_OP_DEFAULT_TTL_STATUS 0x800e
#define CFG_OP_FRIEND_GET 0x800f
#define CFG_OP_FRIEND_SET 0x8010
#define CFG_OP_FRIEND_STATUS 0x8011
#define CFG_OP_GATT_PROXY_GET 0x8012
#define CFG_OP_GATT_PROXY_SET 0x8013
#define CFG_OP_GATT_PROXY_STATUS 0x8014
#define CFG_OP_KRP_GET 0x8015
#define CFG_OP_KRP_SET 0x8016
#define CFG_OP_KRP_STATUS 0x8017
#define CFG_OP_MODEL_PUB_GET 0x8018
#define CFG_OP_MODEL_PUB_STATUS 0x8019
#define CFG_OP_MODEL_PUB_VA_SET 0x801a
#define CFG_OP_MODEL_SUB_ADD 0x801b
#define CFG_OP_MODEL_SUB_DELETE 0x801c
#define CFG_OP_MODEL_SUB_DELETE_ALL 0x801d
#define CFG_OP_MODEL_SUB_OVERWRITE 0x801e
#define CFG_OP_MODEL_SUB_STATUS 0x801f
#define CFG_OP_MODEL_SUB_VA_ADD 0x8020
#define CFG_OP_MODEL_SUB_VA_DELETE 0x8021
#define CFG_OP_MODEL_SUB_VA_OVERWRITE 0x8022
#define CFG_OP_NET_TRANSMIT_GET 0x8023
#define CFG_OP_NET_TRANSMIT_SET 0x8024
#define CFG_OP_NET_TRANSMIT_STATUS 0x8025
#define CFG_OP_RELAY_GET 0x8026
#define CFG_OP_RELAY_SET 0x8027
#define CFG_OP_RELAY_STATUS 0x8028
#define CFG_OP_SIG_MODEL_SUB_GET 0x8029
#define CFG_OP_SIG_MODEL_SUB_LIST 0x802a
#define CFG_OP_VND_MODEL_SUB_GET 0x802b
#define CFG_OP_VND_MODEL_SUB_LIST 0x802c
#define CFG_OP_LPN_TIMEOUT_GET 0x802d
#define CFG_OP_LPN_TIMEOUT_STATUS 0x802e
#define CFG_OP_HB_PUB_GET 0x8038
#define CFG_OP_HB_PUB_SET 0x8039
#define CFG_OP_HB_SUB_GET 0x803a
#define CFG_OP_HB_SUB_SET 0x803b
#define CFG_OP_HB_SUB_STATUS 0x803c
#define CFG_OP_MODEL_APP_BIND 0x803d
#define CFG_OP_MODEL_APP_STATUS 0x803e
#define CFG_OP_MODEL_APP_UNBIND 0x803f
#define CFG_OP_NETKEY_ADD 0x8040
#define CFG_OP_NETKEY_DELETE 0x8041
#define CFG_OP_NETKEY_GET 0x8042
#define CFG_OP_NETKEY_LIST 0x8043
#define CFG_OP_NETKEY_STATUS 0x8044
#define CFG_OP_NETKEY_UPDATE 0x8045
#define CFG_OP_NODE_IDENTITY_GET 0x8046
#define CFG_OP_NODE_IDENTITY_SET 0x8047
#define CFG_OP_NODE_IDENTITY_STATUS 0x8048
#define CFG_OP_NODE_RESET 0x8049
#define CFG_OP_NODE_RESET_STATUS 0x804a
#define CFG_OP_SIG_MODEL_APP_GET 0x804b
#define CFG_OP_SIG_MODEL_APP_LIST 0x804c
#define CFG_OP_VND_MODEL_APP_GET 0x804d
#define CFG_OP_VND_MODEL_APP_LIST 0x804e

/* Status codes carried by Config Status messages (formats.md §6). */
enum cfg_status {
	CFG_STATUS_SUCCESS = 0x00,
	CFG_STATUS_INVALID_ADDRESS = 0x01,
	CFG_STATUS_INVALID_MODEL = 0x02,
	CFG_STATUS_INVALID_APPKEY = 0x03,
	CFG_STATUS_INVALID_NETKEY = 0x04,
	CFG_STATUS_INSUFFICIENT_RESOURCES = 0x05,
	CFG_STATUS_KEY_INDEX_ALREADY_STORED = 0x06,
	CFG_STATUS_INVALID_PUBLISH_PARAMS = 0x07,
	CFG_STATUS_NOT_A_SUBSCRIBE_MODEL = 0x08,
	CFG_STATUS_STORAGE_FAILURE = 0x09,
	CFG_STATUS_FEATURE_NOT_SUPPORTED = 0x0a,
	CFG_STATUS_CANNOT_UPDATE = 0x0b,
	CFG_STATUS_CANNOT_REMOVE = 0x0c,
	CFG_STATUS_CANNOT_BIND = 0x0d,
	CFG_STATUS_TEMPORARILY_UNABLE = 0x0e,
	CFG_STATUS_CANNOT_SET = 0x0f,
	CFG_STATUS_UNSPECIFIED = 0x10,
	CFG_STATUS_INVALID_BINDING = 0x11,
};
#define CFG_STATUS_MAX CFG_STATUS_INVALID_BINDING

/* A short English name for a status code; "RFU" past CFG_STATUS_MAX.  Static string. */
const char *cfg_status_str(uint8_t status);

/* Values of the one-octet states (§4.2). */
#define CFG_STATE_DISABLED 0x00
#define CFG_STATE_ENABLED 0x01
#define CFG_STATE_NOT_SUPPORTED 0x02 /* Relay, GATT Proxy, Friend, Node Identity */

/* Key Refresh Phase state and Set transitions (§4.2). */
#define CFG_KR_PHASE_NORMAL 0x00
#define CFG_KR_PHASE_1 0x01
#define CFG_KR_PHASE_2 0x02
#define CFG_KR_TRANSITION_2 0x02 /* Set: go to phase 2 (use the new keys) */
#define CFG_KR_TRANSITION_3 0x03 /* Set: revoke the old keys, back to normal */

/* Model Publication: Publish TTL 0xff means "use the Default TTL" (§4.2). */
#define CFG_PUB_TTL_DEFAULT 0xff

/*
 * Capacity of the list structs.  The longest list that fits the 380-octet
 * access payload (§3.7.3) behind a 2-octet opcode is a NetKey List: 378
 * octets pack 252 indexes.  Every other list (addresses, or indexes after
 * a header) is shorter, so input with more items cannot come off the air
 * and is rejected as malformed.
 */
#define CFG_LIST_MAX 252

/* Model Identifier: 2 octets for a SIG model, 4 (Company ID, Model ID) for a vendor model. */
struct cfg_model_id {
	bool vendor;
	uint16_t cid; /* Company ID; vendor models only, else 0 */
	uint16_t id;
};

/* Composition Data Get (page) / Status (page ‖ raw page bytes; parse with mesh/comp.h). */
struct cfg_comp {
	uint8_t page;
	const uint8_t *data; /* Status only; borrowed */
	size_t data_len;
};

/*
 * One-octet states, Set and Status: Beacon (0/1), Default TTL (0x00 or
 * 0x02-0x7f), GATT Proxy and Friend (Set 0/1, Status 0/1/2), Network
 * Transmit (count bits 2-0, interval steps bits 7-3, any value).
 */
struct cfg_state {
	uint8_t val;
};

/* Relay Set / Status: Relay (Set 0/1, Status 0/1/2) ‖ Relay Retransmit octet. */
struct cfg_relay {
	uint8_t relay;
	uint8_t retransmit;
};

/*
 * Messages that name one model of one element and nothing else: Model
 * Publication Get, Model Subscription Delete All, SIG/Vendor Model
 * Subscription Get, SIG/Vendor Model App Get.  For the "SIG" and "Vendor"
 * Get opcodes model.vendor must match the opcode.
 */
struct cfg_model_ref {
	uint16_t elem_addr; /* unicast */
	struct cfg_model_id model;
};

/*
 * Model Publication Set / Virtual Address Set / Status.
 * Set: elem_addr ‖ pub_addr ‖ app_idx+cred ‖ ttl ‖ period ‖ retransmit ‖ model.
 * Virtual Address Set carries `label` instead of pub_addr; Status carries
 * `status` first and the 16-bit (possibly virtual) address.
 */
struct cfg_model_pub {
	uint8_t status;     /* Status only */
	uint16_t elem_addr; /* unicast */
	uint16_t pub_addr;  /* Set, Status */
	uint8_t label[16];  /* Virtual Address Set only */
	uint16_t app_idx;   /* 12 bits */
	bool cred;          /* CredentialFlag: friendship credentials */
	uint8_t ttl;        /* 0x00-0x7f, or CFG_PUB_TTL_DEFAULT */
	uint8_t period;     /* steps (bits 5-0) ‖ resolution (bits 7-6) */
	uint8_t retransmit; /* count (bits 2-0) ‖ interval steps (bits 7-3) */
	struct cfg_model_id model;
};

/*
 * Model Subscription Add / Delete / Overwrite (addr), Virtual Address Add /
 * Delete / Overwrite (label) and Status (status, addr).  Whether addr is a
 * group address is the server's check (it answers Invalid Address).
 */
struct cfg_model_sub {
	uint8_t status;     /* Status only */
	uint16_t elem_addr; /* unicast */
	uint16_t addr;      /* non-virtual opcodes and Status */
	uint8_t label[16];  /* Virtual Address opcodes */
	struct cfg_model_id model;
};

/*
 * SIG/Vendor Model Subscription List (status, element, model, n
 * addresses) and SIG/Vendor Model App List (status, element, model, n
 * AppKey indexes, packed on the air).
 */
struct cfg_model_list {
	uint8_t status;
	uint16_t elem_addr;
	struct cfg_model_id model; /* vendor must match the opcode */
	size_t n;
	uint16_t items[CFG_LIST_MAX];
};

/* Model App Bind / Unbind / Status. */
struct cfg_model_app {
	uint8_t status; /* Status only */
	uint16_t elem_addr;
	uint16_t app_idx;
	struct cfg_model_id model;
};

/* NetKey Add / Update: NetKeyIndex ‖ NetKey.  The key is a secret: wipe the struct after use. */
struct cfg_netkey {
	uint16_t net_idx;
	uint8_t key[16];
};

/*
 * Messages built around one NetKey Index: NetKey Delete (idx), NetKey
 * Status (status, idx), AppKey Get (idx), Key Refresh Phase Get (idx) /
 * Set (idx, state = transition 2 or 3) / Status (status, idx, state =
 * phase 0-2), Node Identity Get (idx) / Set (idx, state 0/1) / Status
 * (status, idx, state 0-2).
 */
struct cfg_net_idx {
	uint8_t status;
	uint16_t net_idx;
	uint8_t state;
};

/*
 * AppKey Add / Update (indexes, key), Delete (indexes), Status (status,
 * indexes).  The two indexes travel packed in 3 octets.  The key is a
 * secret: wipe the struct after use.
 */
struct cfg_appkey {
	uint8_t status; /* Status only */
	uint16_t net_idx;
	uint16_t app_idx;
	uint8_t key[16]; /* Add, Update */
};

/*
 * NetKey List (n indexes) and AppKey List (status, net_idx, n indexes).
 * On the air the list is packed two indexes per 3 octets, an odd last one
 * in 2 octets (§4.3.1).
 */
struct cfg_idx_list {
	uint8_t status;   /* AppKey List only */
	uint16_t net_idx; /* AppKey List only */
	size_t n;
	uint16_t idx[CFG_LIST_MAX];
};

/*
 * Heartbeat Publication Set / Status (§4.3.2).  The server answers
 * Cannot Set for a CountLog or PeriodLog out of range, so those are passed
 * through by the decoder; TTL must be 0x00-0x7f and net_idx 12 bits.
 */
struct cfg_hb_pub {
	uint8_t status; /* Status only */
	uint16_t dst;   /* not a virtual address */
	uint8_t count_log;
	uint8_t period_log;
	uint8_t ttl;
	uint16_t features; /* bit 0 Relay, 1 Proxy, 2 Friend, 3 Low Power */
	uint16_t net_idx;
};

/*
 * Heartbeat Subscription Set (src, dst, period_log) / Status (all fields).
 * src is unassigned or unicast, dst not virtual, period_log ≤ 0x11.
 */
struct cfg_hb_sub {
	uint8_t status;
	uint16_t src;
	uint16_t dst;
	uint8_t period_log;
	uint8_t count_log; /* Status: 0x00-0x11 or 0xff */
	uint8_t min_hops;  /* Status: 0x00-0x7f */
	uint8_t max_hops;  /* Status: 0x00-0x7f */
};

/* LPN PollTimeout Get (lpn_addr) / Status (lpn_addr, 24-bit PollTimeout in 100 ms units). */
struct cfg_lpn_timeout {
	uint16_t lpn_addr;     /* unicast */
	uint32_t poll_timeout; /* 0, or 0x00000a-0x34bbff */
};

/* Any Config message, tagged by opcode; the member used follows from op (see cfg_msg_family()). */
struct cfg_msg {
	uint32_t op;
	union {
		struct cfg_comp comp;
		struct cfg_state state;
		struct cfg_relay relay;
		struct cfg_model_ref model_ref;
		struct cfg_model_pub model_pub;
		struct cfg_model_sub model_sub;
		struct cfg_model_list model_list;
		struct cfg_model_app model_app;
		struct cfg_netkey netkey;
		struct cfg_net_idx net_idx;
		struct cfg_appkey appkey;
		struct cfg_idx_list idx_list;
		struct cfg_hb_pub hb_pub;
		struct cfg_hb_sub hb_sub;
		struct cfg_lpn_timeout lpn_timeout;
	};
};

/* Which member of struct cfg_msg an opcode uses. */
enum cfg_family {
	CFG_FAM_NONE = 0, /* not a Config opcode */
	CFG_FAM_EMPTY,    /* no parameters: the Gets without fields, Node Reset (Status) */
	CFG_FAM_COMP,
	CFG_FAM_STATE,
	CFG_FAM_RELAY,
	CFG_FAM_MODEL_REF,
	CFG_FAM_MODEL_PUB,
	CFG_FAM_MODEL_SUB,
	CFG_FAM_MODEL_LIST,
	CFG_FAM_MODEL_APP,
	CFG_FAM_NETKEY,
	CFG_FAM_NET_IDX,
	CFG_FAM_APPKEY,
	CFG_FAM_IDX_LIST,
	CFG_FAM_HB_PUB,
	CFG_FAM_HB_SUB,
	CFG_FAM_LPN_TIMEOUT,
};

enum cfg_family cfg_msg_family(uint32_t op);

/*
 * Decode any Config message.  Returns 0, -ENOENT when op is not a Config
 * opcode, -EMSGSIZE when the parameters are longer than one access payload
 * leaves after the opcode (380 octets in all), -EBADMSG when they are
 * malformed.  *out (op and the family's member) is written only on success.
 */
int cfg_msg_decode(uint32_t op, const uint8_t *params, size_t len, struct cfg_msg *out);

/*
 * Encode any Config message's parameters.  Returns 0, -ENOENT, -EINVAL (a
 * bad field, or opcode and parameters over 380 octets), -ENOSPC.
 */
int cfg_msg_encode(const struct cfg_msg *m, uint8_t *out, size_t cap, size_t *len);

/*
 * Per-family entry points (contract at the top of this file):
 * cfg_msg_comp_encode/_decode, cfg_msg_state_*, cfg_msg_relay_*,
 * cfg_msg_model_ref_*, cfg_msg_model_pub_*, cfg_msg_model_sub_*,
 * cfg_msg_model_list_*, cfg_msg_model_app_*, cfg_msg_netkey_*,
 * cfg_msg_net_idx_*, cfg_msg_appkey_*, cfg_msg_idx_list_*,
 * cfg_msg_hb_pub_*, cfg_msg_hb_sub_*, cfg_msg_lpn_timeout_*.
 */
#define CFG_MSG_FAMILY_DECL(name)                                                                  \
	int cfg_msg_##name##_encode(uint32_t op, const struct cfg_##name *m, uint8_t *out,         \
				    size_t cap, size_t *len);                                      \
	int cfg_msg_##name##_decode(uint32_t op, const uint8_t *params, size_t len,                \
				    struct cfg_##name *out)

CFG_MSG_FAMILY_DECL(comp);
CFG_MSG_FAMILY_DECL(state);
CFG_MSG_FAMILY_DECL(relay);
CFG_MSG_FAMILY_DECL(model_ref);
CFG_MSG_FAMILY_DECL(model_pub);
CFG_MSG_FAMILY_DECL(model_sub);
CFG_MSG_FAMILY_DECL(model_list);
CFG_MSG_FAMILY_DECL(model_app);
CFG_MSG_FAMILY_DECL(netkey);
CFG_MSG_FAMILY_DECL(net_idx);
CFG_MSG_FAMILY_DECL(appkey);
CFG_MSG_FAMILY_DECL(idx_list);
CFG_MSG_FAMILY_DECL(hb_pub);
CFG_MSG_FAMILY_DECL(hb_sub);
CFG_MSG_FAMILY_DECL(lpn_timeout);

/* The packed pair of 12-bit key indexes (§4.3.1): 0x456, 0x123 → 56 34 12. */
void cfg_idx_pack(uint16_t idx1, uint16_t idx2, uint8_t out[3]);
void cfg_idx_unpack(const uint8_t in[3], uint16_t *idx1, uint16_t *idx2);

#endif /* MESH_CFG_MSG_H */
