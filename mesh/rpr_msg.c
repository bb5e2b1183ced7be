/*
 * Remote Provisioning message codec (Mesh Protocol v1.1 §4.3.4), as tables
 * for mesh/msg_codec.h, like mesh/cfg_msg.c.  Optional fields are
 * recognised by the exact lengths the message allows, never by guessing.
 */
#include "mesh/rpr_msg.h"

#include <stddef.h>

#include "mesh/access.h"
#include "mesh/msg_codec.h"

/* AD types the Extended Scan Start filter may not name (§4.3.4, Extended Scan Start). */
#define AD_UUID16_SOME 0x02
#define AD_UUID32_SOME 0x04
#define AD_UUID128_SOME 0x06
#define AD_NAME_SHORTENED 0x08

static const char *const status_names[] = {
    [RPR_STATUS_SUCCESS] = "Success",
    [RPR_STATUS_SCANNING_CANNOT_START] = "Scanning Cannot Start",
    [RPR_STATUS_INVALID_STATE] = "Invalid State",
    [RPR_STATUS_LIMITED_RESOURCES] = "Limited Resources",
    [RPR_STATUS_LINK_CANNOT_OPEN] = "Link Cannot Open",
    [RPR_STATUS_LINK_OPEN_FAILED] = "Link Open Failed",
    [RPR_STATUS_LINK_CLOSED_BY_DEVICE] = "Link Closed By Device",
    [RPR_STATUS_LINK_CLOSED_BY_SERVER] = "Link Closed By Server",
    [RPR_STATUS_LINK_CLOSED_BY_CLIENT] = "Link Closed By Client",
    [RPR_STATUS_LINK_CLOSED_CANNOT_RECEIVE] = "Link Closed As Cannot Receive PDU",
    [RPR_STATUS_LINK_CLOSED_CANNOT_SEND] = "Link Closed As Cannot Send PDU",
    [RPR_STATUS_LINK_CLOSED_CANNOT_DELIVER] = "Link Closed As Cannot Deliver PDU Report",
};

_Static_assert(sizeof(status_names) / sizeof(status_names[0]) == RPR_STATUS_MAX + 1,
	       "every status code needs a name");

const char *rpr_status_str(uint8_t status)
{
	return status <= RPR_STATUS_MAX ? status_names[status] : "RFU";
}

#define F MSGC_FIELD
#define STATUS(T) F(MSGC_U8(T, status), MSGC_IN(0, RPR_STATUS_MAX))

/* --- Scan Capabilities Status: MaxScannedItems (0x00-0x03 prohibited) ‖ ActiveScan (boolean) ---
 */

static const struct msgc_field scan_caps[] = {
    {MSGC_U8(struct rpr_scan_caps, max_items), MSGC_AT_LEAST(RPR_SCAN_ITEMS_MIN)},
    {MSGC_BOOL8(struct rpr_scan_caps, active)},
};

/* --- Scan Start: limit ‖ timeout (0 prohibited), and 16 more octets with the UUID --- */

static const struct msgc_field scan_start[] = {
    {MSGC_U8(struct rpr_scan_start, limit)},
    {MSGC_U8(struct rpr_scan_start, timeout), MSGC_AT_LEAST(1)},
    {MSGC_BYTES(struct rpr_scan_start, uuid), MSGC_OPT(struct rpr_scan_start, has_uuid)},
};

/* --- Scan Status --- */

static const struct msgc_field scan_status[] = {
    STATUS(struct rpr_scan_status),
    {MSGC_U8(struct rpr_scan_status, state), MSGC_IN(RPR_SCAN_IDLE, RPR_SCAN_SINGLE)},
    {MSGC_U8(struct rpr_scan_status, limit)},
    {MSGC_U8(struct rpr_scan_status, timeout)},
};

/* --- Scan Report: 19 octets, or 23 with the URI Hash --- */

static const struct msgc_field scan_report[] = {
    {MSGC_U8(struct rpr_scan_report, rssi)},
    {MSGC_BYTES(struct rpr_scan_report, uuid)},
    {MSGC_LE16(struct rpr_scan_report, oob)},
    {MSGC_BYTES(struct rpr_scan_report, uri_hash), MSGC_OPT(struct rpr_scan_report, has_uri_hash)},
};

/* --- Extended Scan Start: count ‖ AD types ‖ [UUID ‖ Timeout (1-5 s)]; the two come together ---
 */

static const struct msgc_field ext_scan_start[] = {
    {MSGC_COUNTED(struct rpr_ext_scan_start, ad_types, n_ad_types), MSGC_IN(1, RPR_AD_TYPES_MAX)},
    {MSGC_BYTES(struct rpr_ext_scan_start, uuid), MSGC_OPT(struct rpr_ext_scan_start, has_uuid)},
    {MSGC_U8(struct rpr_ext_scan_start, timeout), MSGC_IN(1, RPR_EXT_SCAN_TIMEOUT_MAX),
     MSGC_IF(struct rpr_ext_scan_start, has_uuid)},
};

/* The filter may not name an incomplete form, nor a type twice (§4.3.4, Extended Scan Start). */
static bool ext_scan_start_ok(const void *p)
{
	const struct rpr_ext_scan_start *m = p;
	size_t i, j;

	for (i = 0; i < m->n_ad_types; i++) {
		uint8_t t = m->ad_types[i];

		if (t == AD_UUID16_SOME || t == AD_UUID32_SOME || t == AD_UUID128_SOME ||
		    t == AD_NAME_SHORTENED) {
			return false;
		}
		for (j = 0; j < i; j++) {
			if (m->ad_types[j] == t) {
				return false;
			}
		}
	}
	return true;
}

/* --- Extended Scan Report: 17 octets, 19 with OOB, more with AD structures --- */

static const struct msgc_field ext_scan_report[] = {
    STATUS(struct rpr_ext_scan_report),
    {MSGC_BYTES(struct rpr_ext_scan_report, uuid)},
    {MSGC_LE16(struct rpr_ext_scan_report, oob), MSGC_OPT(struct rpr_ext_scan_report, has_oob)},
    {MSGC_REST(struct rpr_ext_scan_report, adv, adv_len),
     MSGC_IF(struct rpr_ext_scan_report, has_oob)},
};

/*
 * AD structures as in an advertisement (Core Supplement Part A §1.3):
 * Length ‖ AD Type ‖ Data, where Length counts the type and data.  Length 0
 * (padding) carries no AD Type and has no place in a report; a Length
 * running past the end means a truncated structure.  They can only follow
 * the OOB Information.
 */
static bool ext_scan_report_ok(const void *p)
{
	const struct rpr_ext_scan_report *m = p;
	const uint8_t *ad = m->adv;
	size_t len = m->adv_len;

	if (!m->has_oob) {
		return len == 0;
	}
	while (len) {
		size_t n = ad[0];

		if (n == 0 || n > len - 1) {
			return false;
		}
		ad += n + 1;
		len -= n + 1;
	}
	return true;
}

/* --- Link Open: 1 octet (NPPI procedure), 16 (UUID) or 17 (UUID ‖ LinkOpenTimeout) --- */

static const struct msgc_field link_open[] = {
    /* NPPI procedures 0x03-0xff are RFU. */
    {MSGC_U8(struct rpr_link_open, procedure), MSGC_IN(0, RPR_NPPI_COMPOSITION_REFRESH),
     MSGC_OPT_LEFT(struct rpr_link_open, nppi, 1)},
    {MSGC_BYTES(struct rpr_link_open, uuid), MSGC_UNLESS(struct rpr_link_open, nppi)},
    /* LinkOpenTimeout 0 and 0x3d-0xff are prohibited. */
    {MSGC_U8(struct rpr_link_open, timeout), MSGC_IN(1, RPR_LINK_OPEN_TIMEOUT_MAX),
     MSGC_OPT_LEFT(struct rpr_link_open, has_timeout, 1)},
};

/* A timeout belongs to a UUID link: with a procedure it would make 2 octets, neither form. */
static bool link_open_ok(const void *p)
{
	const struct rpr_link_open *m = p;

	return !m->nppi || !m->has_timeout;
}

/* --- Link Close: Reason 0x01 is prohibited here (a client does not time out a link), 0x03+ RFU ---
 */

static const struct msgc_field link_close[] = {
    {MSGC_U8(struct rpr_link_close, reason), MSGC_IN(RPR_REASON_FAIL, RPR_REASON_FAIL),
     MSGC_OR(RPR_REASON_SUCCESS)},
};

/* --- Link Status (status ‖ state), Link Report (the same ‖ optional reason) --- */

#define LINK_STATE(T) STATUS(T), F(MSGC_U8(T, state), MSGC_IN(RPR_LINK_IDLE, RPR_LINK_CLOSING))
static const struct msgc_field link_status[] = {
    LINK_STATE(struct rpr_link_status),
    {MSGC_IS(struct rpr_link_status, has_reason, false)},
};
/* The reason is a PB-ADV Link Close reason: 0x03-0xff are RFU. */
static const struct msgc_field link_report[] = {
    LINK_STATE(struct rpr_link_status),
    {MSGC_U8(struct rpr_link_status, reason), MSGC_IN(0, RPR_REASON_FAIL),
     MSGC_OPT_LEFT(struct rpr_link_status, has_reason, 1)},
};

/* --- PDU Send, PDU Report (number ‖ Provisioning PDU, at least its type octet); Outbound Report
 * --- */

static const struct msgc_field pdu[] = {
    {MSGC_U8(struct rpr_pdu, num)},
    {MSGC_REST(struct rpr_pdu, pdu, pdu_len), MSGC_AT_LEAST(1)},
};
static const struct msgc_field pdu_outbound[] = {{MSGC_U8(struct rpr_pdu, num)}};

/* --- One row per opcode: family, parameter length (min, max) and layout --- */

#define ROW(op, fam, min, max, layout) MSGC_ROW(RPR_OP_##op, RPR_FAM_##fam, min, max, layout)
#define ROW_CHECK(op, fam, min, max, layout, check)                                                \
	MSGC_ROW_CHECK(RPR_OP_##op, RPR_FAM_##fam, min, max, layout, check)
#define EMPTY(op) MSGC_ROW_EMPTY(RPR_OP_##op, RPR_FAM_EMPTY)

static const struct msgc_row rpr_rows[] = {
    EMPTY(SCAN_CAPS_GET),
    EMPTY(SCAN_GET),
    EMPTY(SCAN_STOP),
    EMPTY(LINK_GET),
    ROW(SCAN_CAPS_STATUS, SCAN_CAPS, 2, 2, scan_caps),
    ROW(SCAN_START, SCAN_START, 2, 18, scan_start),
    ROW(SCAN_STATUS, SCAN_STATUS, 4, 4, scan_status),
    ROW(SCAN_REPORT, SCAN_REPORT, 19, 23, scan_report),
    ROW_CHECK(EXT_SCAN_START, EXT_SCAN_START, 2, 34, ext_scan_start, ext_scan_start_ok),
    ROW_CHECK(EXT_SCAN_REPORT, EXT_SCAN_REPORT, 17, MSGC_LEN_ANY, ext_scan_report,
	      ext_scan_report_ok),
    ROW_CHECK(LINK_OPEN, LINK_OPEN, 1, 17, link_open, link_open_ok),
    ROW(LINK_CLOSE, LINK_CLOSE, 1, 1, link_close),
    ROW(LINK_STATUS, LINK_STATUS, 2, 2, link_status),
    ROW(LINK_REPORT, LINK_STATUS, 2, 3, link_report),
    ROW(PDU_SEND, PDU, 2, MSGC_LEN_ANY, pdu),
    ROW(PDU_REPORT, PDU, 2, MSGC_LEN_ANY, pdu),
    ROW(PDU_OUTBOUND_REPORT, PDU, 1, 1, pdu_outbound),
};

_Static_assert(RPR_MSG_PARAMS_MAX == MESH_ACC_PAYLOAD_MAX - 2,
	       "every Remote Provisioning opcode is two octets");

static const struct msgc_table rpr_table = MSGC_TABLE(rpr_rows, struct rpr_msg, scan_caps);

MSGC_MSG_DEF(rpr, &rpr_table)
MSGC_FAMILY_DEF(rpr, scan_caps, RPR_FAM_SCAN_CAPS, &rpr_table)
MSGC_FAMILY_DEF(rpr, scan_start, RPR_FAM_SCAN_START, &rpr_table)
MSGC_FAMILY_DEF(rpr, scan_status, RPR_FAM_SCAN_STATUS, &rpr_table)
MSGC_FAMILY_DEF(rpr, scan_report, RPR_FAM_SCAN_REPORT, &rpr_table)
MSGC_FAMILY_DEF(rpr, ext_scan_start, RPR_FAM_EXT_SCAN_START, &rpr_table)
MSGC_FAMILY_DEF(rpr, ext_scan_report, RPR_FAM_EXT_SCAN_REPORT, &rpr_table)
MSGC_FAMILY_DEF(rpr, link_open, RPR_FAM_LINK_OPEN, &rpr_table)
MSGC_FAMILY_DEF(rpr, link_close, RPR_FAM_LINK_CLOSE, &rpr_table)
MSGC_FAMILY_DEF(rpr, link_status, RPR_FAM_LINK_STATUS, &rpr_table)
MSGC_FAMILY_DEF(rpr, pdu, RPR_FAM_PDU, &rpr_table)
