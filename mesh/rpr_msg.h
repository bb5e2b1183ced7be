/*
 * Remote Provisioning message codec (Mesh Protocol v1.1 §4.3.4 Remote
 * Provisioning messages; ../shared/mesh-reference/formats.md §7).
 *
 * Same conventions as mesh/cfg_msg.h: functions produce and read the
 * message PARAMETERS (the access layer adds the opcode), per family of
 * same-shaped messages, with the opcode as first argument:
 *
 *   int rpr_msg_F_encode(uint32_t op, const struct rpr_F *m,
 *                        uint8_t *out, size_t cap, size_t *len);
 *   int rpr_msg_F_decode(uint32_t op, const uint8_t *params, size_t len,
 *                        struct rpr_F *out);
 *
 * encode: 0 and *len set; -EINVAL when op is not of the family or a field
 * holds a value the decoder would reject; -ENOSPC when cap is too small.
 * decode: 0; -EINVAL when op is not of the family; -EBADMSG for a wrong
 * length or a prohibited/RFU value.  *out is written only on success.
 *
 * Pointers in decoded structs (the Provisioning PDU of PDU Send/Report, the
 * AD structures of Extended Scan Report) point into `params`: borrowed,
 * valid as long as the caller's parameter buffer is.
 *
 * OOB Information octet order: Scan Report and Extended Scan Report carry
 * the 16-bit OOB Information little-endian, like every access parameter
 * (§4.3.1) and like Zephyr's server (rpr_srv.c).  BlueZ's server
 * (remprv-server.c) copies the two octets straight out of the
 * Unprovisioned Device beacon, where they are big-endian (formats.md §3), so a
 * BlueZ server's reports read byte-swapped through this codec.  A client
 * that must work with BlueZ servers has to swap `oob` itself; the codec
 * does what the specification says.
 */
#ifndef MESH_RPR_MSG_H
#define MESH_RPR_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opcodes (BlueZ remprv.h and Zephyr rpr.h agree). */
#define RPR_OP_SCAN_CAPS_GET 0x804f
#define RPR_OP_SCAN_CAPS_STATUS 0x8050
#define RPR_OP_SCAN_GET 0x8051
#define RPR_OP_SCAN_START 0x8052
#define RPR_OP_SCAN_STOP 0x8053
#define RPR_OP_SCAN_STATUS 0x8054
#define RPR_OP_SCAN_REPORT 0x8055
#define RPR_OP_EXT_SCAN_START 0x8056
#define RPR_OP_EXT_SCAN_REPORT 0x8057
#define RPR_OP_LINK_GET 0x8058
#define RPR_OP_LINK_OPEN 0x8059
#define RPR_OP_LINK_CLOSE 0x805a
#define RPR_OP_LINK_STATUS 0x805b
#define RPR_OP_LINK_REPORT 0x805c
#define RPR_OP_PDU_SEND 0x805d
#define RPR_OP_PDU_OUTBOUND_REPORT 0x805e
#define RPR_OP_PDU_REPORT 0x805f

/* Status codes of Scan/Link Status and Reports; 0x0c-0xff are RFU. */
enum rpr_status {
	RPR_STATUS_SUCCESS = 0x00,
	RPR_STATUS_SCANNING_CANNOT_START = 0x01,
	RPR_STATUS_INVALID_STATE = 0x02,
	RPR_STATUS_LIMITED_RESOURCES = 0x03,
	RPR_STATUS_LINK_CANNOT_OPEN = 0x04,
	RPR_STATUS_LINK_OPEN_FAILED = 0x05,
	RPR_STATUS_LINK_CLOSED_BY_DEVICE = 0x06,
	RPR_STATUS_LINK_CLOSED_BY_SERVER = 0x07,
	RPR_STATUS_LINK_CLOSED_BY_CLIENT = 0x08,
	RPR_STATUS_LINK_CLOSED_CANNOT_RECEIVE = 0x09,
	RPR_STATUS_LINK_CLOSED_CANNOT_SEND = 0x0a,
	RPR_STATUS_LINK_CLOSED_CANNOT_DELIVER = 0x0b, /* Cannot Deliver PDU Report */
};
#define RPR_STATUS_MAX RPR_STATUS_LINK_CLOSED_CANNOT_DELIVER

/* A short English name for a status code; "RFU" past RPR_STATUS_MAX.  Static string. */
const char *rpr_status_str(uint8_t status);

/* Remote Provisioning Scan state (RPScanningState); 0x03-0xff prohibited. */
enum rpr_scan_state {
	RPR_SCAN_IDLE = 0x00,
	RPR_SCAN_MULTIPLE = 0x01,
	RPR_SCAN_SINGLE = 0x02,
};

/* Remote Provisioning Link state (RPState); 0x05-0xff prohibited. */
enum rpr_link_state {
	RPR_LINK_IDLE = 0x00,
	RPR_LINK_OPENING = 0x01,
	RPR_LINK_ACTIVE = 0x02,
	RPR_LINK_OUTBOUND = 0x03, /* Outbound Packet Transfer */
	RPR_LINK_CLOSING = 0x04,
};

/* Node Provisioning Protocol Interface procedures carried by Link Open. */
enum rpr_nppi {
	RPR_NPPI_DEVKEY_REFRESH = 0x00,
	RPR_NPPI_ADDRESS_REFRESH = 0x01,
	RPR_NPPI_COMPOSITION_REFRESH = 0x02,
};

/* Link Close Reason, and the Reason of a Link Report (PB-ADV Link Close codes). */
#define RPR_REASON_SUCCESS 0x00
#define RPR_REASON_TIMEOUT 0x01 /* Link Report only: prohibited in Link Close */
#define RPR_REASON_FAIL 0x02

/* Limits of the fields below. */
#define RPR_SCAN_ITEMS_MIN 4           /* MaxScannedItems 0x00-0x03 prohibited */
#define RPR_AD_TYPES_MAX 16            /* ADTypeFilterCount 0x01-0x10 */
#define RPR_EXT_SCAN_TIMEOUT_MAX 5     /* Extended Scan Start Timeout 1-5 s */
#define RPR_LINK_OPEN_TIMEOUT_MAX 0x3c /* LinkOpenTimeout 1-60 s */
/*
 * Every Remote Provisioning opcode is two octets, so the parameters of a
 * message that fits one access payload (MESH_ACC_PAYLOAD_MAX, 380 octets)
 * are at most 378 octets.  Longer input is refused on decode and on encode.
 */
#define RPR_MSG_PARAMS_MAX 378

/* Scan Capabilities Status. */
struct rpr_scan_caps {
	uint8_t max_items; /* ≥ RPR_SCAN_ITEMS_MIN */
	bool active;       /* active scanning supported */
};

/* Scan Start: items limit (0 = server's maximum), timeout (s, ≠ 0), optional single-device UUID. */
struct rpr_scan_start {
	uint8_t limit;
	uint8_t timeout;
	bool has_uuid;
	uint8_t uuid[16];
};

/* Scan Status. */
struct rpr_scan_status {
	uint8_t status;
	uint8_t state; /* enum rpr_scan_state */
	uint8_t limit;
	uint8_t timeout; /* seconds left */
};

/* Scan Report: RSSI ‖ Device UUID ‖ OOB Information (LE; see above) ‖ optional URI Hash. */
struct rpr_scan_report {
	int8_t rssi;
	uint8_t uuid[16];
	uint16_t oob;
	bool has_uri_hash;
	uint8_t uri_hash[4]; /* as carried in the beacon */
};

/*
 * Extended Scan Start: ADTypeFilterCount ‖ ADTypeFilter ‖ [UUID ‖ Timeout].
 * Without a UUID the server reports on itself.  The filter may not repeat a
 * type nor hold the Shortened Local Name (0x08) or an incomplete UUID list
 * (0x02, 0x04, 0x06): the server asks for their complete forms instead.
 */
struct rpr_ext_scan_start {
	uint8_t n_ad_types; /* 1..RPR_AD_TYPES_MAX */
	uint8_t ad_types[RPR_AD_TYPES_MAX];
	bool has_uuid;
	uint8_t uuid[16];
	uint8_t timeout; /* with uuid: 1..RPR_EXT_SCAN_TIMEOUT_MAX */
};

/*
 * Extended Scan Report: Status ‖ UUID ‖ [OOB Information ‖ [AD structures]].
 * `adv` is a sequence of AD structures (Length ‖ Type ‖ Data, Length ≥ 1);
 * it can only be present after the OOB Information.
 */
struct rpr_ext_scan_report {
	uint8_t status;
	uint8_t uuid[16];
	bool has_oob;
	uint16_t oob;
	const uint8_t *adv; /* borrowed */
	size_t adv_len;
};

/*
 * Link Open: either UUID ‖ optional LinkOpenTimeout (PB-ADV link to an
 * unprovisioned device) or one NPPI procedure octet (node refresh).
 */
struct rpr_link_open {
	bool nppi;
	uint8_t procedure; /* nppi: enum rpr_nppi */
	uint8_t uuid[16];  /* !nppi */
	bool has_timeout;  /* !nppi */
	uint8_t timeout;   /* 1..RPR_LINK_OPEN_TIMEOUT_MAX seconds */
};

/* Link Close. */
struct rpr_link_close {
	uint8_t reason; /* RPR_REASON_SUCCESS or RPR_REASON_FAIL */
};

/* Link Status (status, state) and Link Report (status, state, optional reason). */
struct rpr_link_status {
	uint8_t status;
	uint8_t state;   /* enum rpr_link_state */
	bool has_reason; /* Link Report only */
	uint8_t reason;  /* RPR_REASON_* */
};

/*
 * PDU Send (OutboundPDUNumber ‖ Provisioning PDU), PDU Report
 * (InboundPDUNumber ‖ Provisioning PDU) and PDU Outbound Report
 * (OutboundPDUNumber only).  The Provisioning PDU is at least its type
 * octet; its contents are mesh/prov_pdu.h's business.
 */
struct rpr_pdu {
	uint8_t num;
	const uint8_t *pdu; /* borrowed; NULL for PDU Outbound Report */
	size_t pdu_len;
};

/* Which member of struct rpr_msg an opcode uses. */
enum rpr_family {
	RPR_FAM_NONE = 0, /* not a Remote Provisioning opcode */
	RPR_FAM_EMPTY,    /* Scan Capabilities Get, Scan Get, Scan Stop, Link Get */
	RPR_FAM_SCAN_CAPS,
	RPR_FAM_SCAN_START,
	RPR_FAM_SCAN_STATUS,
	RPR_FAM_SCAN_REPORT,
	RPR_FAM_EXT_SCAN_START,
	RPR_FAM_EXT_SCAN_REPORT,
	RPR_FAM_LINK_OPEN,
	RPR_FAM_LINK_CLOSE,
	RPR_FAM_LINK_STATUS,
	RPR_FAM_PDU,
};

enum rpr_family rpr_msg_family(uint32_t op);

/* Any Remote Provisioning message, tagged by opcode. */
struct rpr_msg {
	uint32_t op;
	union {
		struct rpr_scan_caps scan_caps;
		struct rpr_scan_start scan_start;
		struct rpr_scan_status scan_status;
		struct rpr_scan_report scan_report;
		struct rpr_ext_scan_start ext_scan_start;
		struct rpr_ext_scan_report ext_scan_report;
		struct rpr_link_open link_open;
		struct rpr_link_close link_close;
		struct rpr_link_status link_status;
		struct rpr_pdu pdu;
	};
};

/*
 * Returns 0, -ENOENT (not an RPR opcode), -EMSGSIZE (more than
 * RPR_MSG_PARAMS_MAX octets), -EBADMSG.  *out written only on success.
 */
int rpr_msg_decode(uint32_t op, const uint8_t *params, size_t len, struct rpr_msg *out);
/* Returns 0, -ENOENT, -EINVAL (bad field, or over RPR_MSG_PARAMS_MAX), -ENOSPC. */
int rpr_msg_encode(const struct rpr_msg *m, uint8_t *out, size_t cap, size_t *len);

/*
 * Per-family entry points: rpr_msg_scan_caps_encode/_decode,
 * rpr_msg_scan_start_*, rpr_msg_scan_status_*, rpr_msg_scan_report_*,
 * rpr_msg_ext_scan_start_*, rpr_msg_ext_scan_report_*, rpr_msg_link_open_*,
 * rpr_msg_link_close_*, rpr_msg_link_status_*, rpr_msg_pdu_*.
 */
#define RPR_MSG_FAMILY_DECL(name)                                                                  \
	int rpr_msg_##name##_encode(uint32_t op, const struct rpr_##name *m, uint8_t *out,         \
				    size_t cap, size_t *len);                                      \
	int rpr_msg_##name##_decode(uint32_t op, const uint8_t *params, size_t len,                \
				    struct rpr_##name *out)

RPR_MSG_FAMILY_DECL(scan_caps);
RPR_MSG_FAMILY_DECL(scan_start);
RPR_MSG_FAMILY_DECL(scan_status);
RPR_MSG_FAMILY_DECL(scan_report);
RPR_MSG_FAMILY_DECL(ext_scan_start);
RPR_MSG_FAMILY_DECL(ext_scan_report);
RPR_MSG_FAMILY_DECL(link_open);
RPR_MSG_FAMILY_DECL(link_close);
RPR_MSG_FAMILY_DECL(link_status);
RPR_MSG_FAMILY_DECL(pdu);

#endif /* MESH_RPR_MSG_H */
