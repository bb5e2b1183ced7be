/*
 * Remote Provisioning message codec (Mesh Protocol v1.1 §4.3.4).
 *
 * Built like mesh/cfg_msg.c: per family a *_get that reads through a
 * bounded cursor, a *_put that writes, and a *_check shared by both
 * directions, so whatever encodes also decodes and a decoded message
 * re-encodes to the same octets.  Optional fields are recognised by the
 * exact lengths the message allows, never by guessing.
 */
#include "mesh/rpr_msg.h"

#include <errno.h>
#include <string.h>

#include "mesh/buf.h"

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

enum rpr_family rpr_msg_family(uint32_t op)
{
	switch (op) {
	case RPR_OP_SCAN_CAPS_GET:
	case RPR_OP_SCAN_GET:
	case RPR_OP_SCAN_STOP:
	case RPR_OP_LINK_GET:
		return RPR_FAM_EMPTY;
	case RPR_OP_SCAN_CAPS_STATUS:
		return RPR_FAM_SCAN_CAPS;
	case RPR_OP_SCAN_START:
		return RPR_FAM_SCAN_START;
	case RPR_OP_SCAN_STATUS:
		return RPR_FAM_SCAN_STATUS;
	case RPR_OP_SCAN_REPORT:
		return RPR_FAM_SCAN_REPORT;
	case RPR_OP_EXT_SCAN_START:
		return RPR_FAM_EXT_SCAN_START;
	case RPR_OP_EXT_SCAN_REPORT:
		return RPR_FAM_EXT_SCAN_REPORT;
	case RPR_OP_LINK_OPEN:
		return RPR_FAM_LINK_OPEN;
	case RPR_OP_LINK_CLOSE:
		return RPR_FAM_LINK_CLOSE;
	case RPR_OP_LINK_STATUS:
	case RPR_OP_LINK_REPORT:
		return RPR_FAM_LINK_STATUS;
	case RPR_OP_PDU_SEND:
	case RPR_OP_PDU_OUTBOUND_REPORT:
	case RPR_OP_PDU_REPORT:
		return RPR_FAM_PDU;
	default:
		return RPR_FAM_NONE;
	}
}

static void reject(struct mesh_rbuf *r)
{
	r->err = true;
}

static bool status_ok(uint8_t status)
{
	return status <= RPR_STATUS_MAX;
}

/* --- Scan Capabilities Status --- */

static void scan_caps_get(struct mesh_rbuf *r, struct rpr_scan_caps *m)
{
	uint8_t active;

	m->max_items = mesh_rbuf_u8(r);
	active = mesh_rbuf_u8(r);
	/* ActiveScan is a boolean octet; 0x02-0xff prohibited. */
	if (active > 1) {
		reject(r);
	}
	m->active = active == 1;
}

static void scan_caps_put(const struct rpr_scan_caps *m, struct mesh_wbuf *w)
{
	mesh_wbuf_u8(w, m->max_items);
	mesh_wbuf_u8(w, m->active ? 1 : 0);
}

/* --- Scan Start: 2 octets, or 18 with the single-device UUID --- */

static void scan_start_get(struct mesh_rbuf *r, struct rpr_scan_start *m)
{
	m->limit = mesh_rbuf_u8(r);
	m->timeout = mesh_rbuf_u8(r);
	m->has_uuid = r->len != 0;
	memset(m->uuid, 0, sizeof(m->uuid));
	if (m->has_uuid) {
		mesh_rbuf_copy(r, m->uuid, sizeof(m->uuid));
	}
}

static void scan_start_put(const struct rpr_scan_start *m, struct mesh_wbuf *w)
{
	mesh_wbuf_u8(w, m->limit);
	mesh_wbuf_u8(w, m->timeout);
	if (m->has_uuid) {
		mesh_wbuf_mem(w, m->uuid, sizeof(m->uuid));
	}
}

/* --- Scan Status --- */

static void scan_status_get(struct mesh_rbuf *r, struct rpr_scan_status *m)
{
	m->status = mesh_rbuf_u8(r);
	m->state = mesh_rbuf_u8(r);
	m->limit = mesh_rbuf_u8(r);
	m->timeout = mesh_rbuf_u8(r);
}

static void scan_status_put(const struct rpr_scan_status *m, struct mesh_wbuf *w)
{
	mesh_wbuf_u8(w, m->status);
	mesh_wbuf_u8(w, m->state);
	mesh_wbuf_u8(w, m->limit);
	mesh_wbuf_u8(w, m->timeout);
}

/* --- Scan Report: 19 octets, or 23 with the URI Hash --- */

static void scan_report_get(struct mesh_rbuf *r, struct rpr_scan_report *m)
{
	m->rssi = (int8_t)mesh_rbuf_u8(r);
	mesh_rbuf_copy(r, m->uuid, sizeof(m->uuid));
	m->oob = mesh_rbuf_le16(r);
	m->has_uri_hash = r->len != 0;
	memset(m->uri_hash, 0, sizeof(m->uri_hash));
	if (m->has_uri_hash) {
		mesh_rbuf_copy(r, m->uri_hash, sizeof(m->uri_hash));
	}
}

static void scan_report_put(const struct rpr_scan_report *m, struct mesh_wbuf *w)
{
	mesh_wbuf_u8(w, (uint8_t)m->rssi);
	mesh_wbuf_mem(w, m->uuid, sizeof(m->uuid));
	mesh_wbuf_le16(w, m->oob);
	if (m->has_uri_hash) {
		mesh_wbuf_mem(w, m->uri_hash, sizeof(m->uri_hash));
	}
}

/* --- Extended Scan Start --- */

static void ext_scan_start_get(struct mesh_rbuf *r, struct rpr_ext_scan_start *m)
{
	m->n_ad_types = mesh_rbuf_u8(r);
	memset(m->ad_types, 0, sizeof(m->ad_types));
	memset(m->uuid, 0, sizeof(m->uuid));
	m->timeout = 0;
	if (m->n_ad_types == 0 || m->n_ad_types > RPR_AD_TYPES_MAX) {
		reject(r);
		return;
	}
	mesh_rbuf_copy(r, m->ad_types, m->n_ad_types);
	/* UUID and Timeout come together or not at all. */
	m->has_uuid = r->len != 0;
	if (m->has_uuid) {
		mesh_rbuf_copy(r, m->uuid, sizeof(m->uuid));
		m->timeout = mesh_rbuf_u8(r);
	}
}

static void ext_scan_start_put(const struct rpr_ext_scan_start *m, struct mesh_wbuf *w)
{
	mesh_wbuf_u8(w, m->n_ad_types);
	mesh_wbuf_mem(w, m->ad_types, m->n_ad_types);
	if (m->has_uuid) {
		mesh_wbuf_mem(w, m->uuid, sizeof(m->uuid));
		mesh_wbuf_u8(w, m->timeout);
	}
}

static bool ext_scan_start_check(const struct rpr_ext_scan_start *m)
{
	size_t i, j;

	if (m->n_ad_types == 0 || m->n_ad_types > RPR_AD_TYPES_MAX) {
		return false;
	}
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
	return !m->has_uuid || (m->timeout >= 1 && m->timeout <= RPR_EXT_SCAN_TIMEOUT_MAX);
}

/* --- Extended Scan Report: 17 octets, 19 with OOB, more with AD structures --- */

static void ext_scan_report_get(struct mesh_rbuf *r, struct rpr_ext_scan_report *m)
{
	m->status = mesh_rbuf_u8(r);
	mesh_rbuf_copy(r, m->uuid, sizeof(m->uuid));
	m->has_oob = r->len != 0;
	m->oob = m->has_oob ? mesh_rbuf_le16(r) : 0;
	m->adv_len = r->len;
	m->adv = m->adv_len ? mesh_rbuf_pull(r, m->adv_len) : NULL;
}

static void ext_scan_report_put(const struct rpr_ext_scan_report *m, struct mesh_wbuf *w)
{
	mesh_wbuf_u8(w, m->status);
	mesh_wbuf_mem(w, m->uuid, sizeof(m->uuid));
	if (m->has_oob) {
		mesh_wbuf_le16(w, m->oob);
		mesh_wbuf_mem(w, m->adv, m->adv_len);
	}
}

/*
 * AD structures as in an advertisement (Core Supplement Part A §1.3):
 * Length ‖ AD Type ‖ Data, where Length counts the type and data.  Length 0
 * (padding) carries no AD Type and has no place in a report; a Length
 * running past the end means a truncated structure.
 */
static bool ad_framing_ok(const uint8_t *p, size_t len)
{
	while (len) {
		size_t n = p[0];

		if (n == 0 || n > len - 1) {
			return false;
		}
		p += n + 1;
		len -= n + 1;
	}
	return true;
}

static bool ext_scan_report_check(const struct rpr_ext_scan_report *m)
{
	if (!status_ok(m->status)) {
		return false;
	}
	if (!m->has_oob) {
		/* AD structures can only follow the OOB Information. */
		return m->adv_len == 0;
	}
	return m->adv_len == 0 || (m->adv && ad_framing_ok(m->adv, m->adv_len));
}

/* --- Link Open: 1 octet (NPPI), 16 (UUID) or 17 (UUID, timeout) --- */

static void link_open_get(struct mesh_rbuf *r, struct rpr_link_open *m)
{
	memset(m->uuid, 0, sizeof(m->uuid));
	m->nppi = r->len == 1;
	m->procedure = 0;
	m->has_timeout = false;
	m->timeout = 0;
	if (m->nppi) {
		m->procedure = mesh_rbuf_u8(r);
		return;
	}
	mesh_rbuf_copy(r, m->uuid, sizeof(m->uuid));
	if (r->len == 1) {
		m->has_timeout = true;
		m->timeout = mesh_rbuf_u8(r);
	}
}

static void link_open_put(const struct rpr_link_open *m, struct mesh_wbuf *w)
{
	if (m->nppi) {
		mesh_wbuf_u8(w, m->procedure);
		return;
	}
	mesh_wbuf_mem(w, m->uuid, sizeof(m->uuid));
	if (m->has_timeout) {
		mesh_wbuf_u8(w, m->timeout);
	}
}

static bool link_open_check(const struct rpr_link_open *m)
{
	if (m->nppi) {
		/* NPPI procedures 0x03-0xff are RFU. */
		return m->procedure <= RPR_NPPI_COMPOSITION_REFRESH;
	}
	/* LinkOpenTimeout 0 and 0x3d-0xff are prohibited. */
	return !m->has_timeout || (m->timeout >= 1 && m->timeout <= RPR_LINK_OPEN_TIMEOUT_MAX);
}

/* --- Link Status / Link Report --- */

static void link_status_get(uint32_t op, struct mesh_rbuf *r, struct rpr_link_status *m)
{
	m->status = mesh_rbuf_u8(r);
	m->state = mesh_rbuf_u8(r);
	m->has_reason = op == RPR_OP_LINK_REPORT && r->len != 0;
	m->reason = m->has_reason ? mesh_rbuf_u8(r) : 0;
}

static void link_status_put(uint32_t op, const struct rpr_link_status *m, struct mesh_wbuf *w)
{
	mesh_wbuf_u8(w, m->status);
	mesh_wbuf_u8(w, m->state);
	if (op == RPR_OP_LINK_REPORT && m->has_reason) {
		mesh_wbuf_u8(w, m->reason);
	}
}

static bool link_status_check(uint32_t op, const struct rpr_link_status *m)
{
	if (!status_ok(m->status) || m->state > RPR_LINK_CLOSING) {
		return false;
	}
	if (op != RPR_OP_LINK_REPORT) {
		return !m->has_reason;
	}
	/* The reason is a PB-ADV Link Close reason: 0x03-0xff are RFU. */
	return !m->has_reason || m->reason <= RPR_REASON_FAIL;
}

/* --- PDU Send / PDU Report / PDU Outbound Report --- */

static void pdu_get(uint32_t op, struct mesh_rbuf *r, struct rpr_pdu *m)
{
	m->num = mesh_rbuf_u8(r);
	m->pdu = NULL;
	m->pdu_len = 0;
	if (op != RPR_OP_PDU_OUTBOUND_REPORT) {
		m->pdu_len = r->len;
		m->pdu = mesh_rbuf_pull(r, r->len);
	}
}

static void pdu_put(uint32_t op, const struct rpr_pdu *m, struct mesh_wbuf *w)
{
	mesh_wbuf_u8(w, m->num);
	if (op != RPR_OP_PDU_OUTBOUND_REPORT) {
		mesh_wbuf_mem(w, m->pdu, m->pdu_len);
	}
}

static bool pdu_check(uint32_t op, const struct rpr_pdu *m)
{
	/* A Provisioning PDU has at least its type octet. */
	return op == RPR_OP_PDU_OUTBOUND_REPORT || (m->pdu && m->pdu_len >= 1);
}

/* --- Dispatch --- */

static void fields_get(enum rpr_family fam, struct mesh_rbuf *r, struct rpr_msg *m)
{
	switch (fam) {
	case RPR_FAM_NONE:
	case RPR_FAM_EMPTY:
		break;
	case RPR_FAM_SCAN_CAPS:
		scan_caps_get(r, &m->scan_caps);
		break;
	case RPR_FAM_SCAN_START:
		scan_start_get(r, &m->scan_start);
		break;
	case RPR_FAM_SCAN_STATUS:
		scan_status_get(r, &m->scan_status);
		break;
	case RPR_FAM_SCAN_REPORT:
		scan_report_get(r, &m->scan_report);
		break;
	case RPR_FAM_EXT_SCAN_START:
		ext_scan_start_get(r, &m->ext_scan_start);
		break;
	case RPR_FAM_EXT_SCAN_REPORT:
		ext_scan_report_get(r, &m->ext_scan_report);
		break;
	case RPR_FAM_LINK_OPEN:
		link_open_get(r, &m->link_open);
		break;
	case RPR_FAM_LINK_CLOSE:
		m->link_close.reason = mesh_rbuf_u8(r);
		break;
	case RPR_FAM_LINK_STATUS:
		link_status_get(m->op, r, &m->link_status);
		break;
	case RPR_FAM_PDU:
		pdu_get(m->op, r, &m->pdu);
		break;
	}
}

static void fields_put(enum rpr_family fam, const struct rpr_msg *m, struct mesh_wbuf *w)
{
	switch (fam) {
	case RPR_FAM_NONE:
	case RPR_FAM_EMPTY:
		break;
	case RPR_FAM_SCAN_CAPS:
		scan_caps_put(&m->scan_caps, w);
		break;
	case RPR_FAM_SCAN_START:
		scan_start_put(&m->scan_start, w);
		break;
	case RPR_FAM_SCAN_STATUS:
		scan_status_put(&m->scan_status, w);
		break;
	case RPR_FAM_SCAN_REPORT:
		scan_report_put(&m->scan_report, w);
		break;
	case RPR_FAM_EXT_SCAN_START:
		ext_scan_start_put(&m->ext_scan_start, w);
		break;
	case RPR_FAM_EXT_SCAN_REPORT:
		ext_scan_report_put(&m->ext_scan_report, w);
		break;
	case RPR_FAM_LINK_OPEN:
		link_open_put(&m->link_open, w);
		break;
	case RPR_FAM_LINK_CLOSE:
		mesh_wbuf_u8(w, m->link_close.reason);
		break;
	case RPR_FAM_LINK_STATUS:
		link_status_put(m->op, &m->link_status, w);
		break;
	case RPR_FAM_PDU:
		pdu_put(m->op, &m->pdu, w);
		break;
	}
}

static bool fields_check(enum rpr_family fam, const struct rpr_msg *m)
{
	switch (fam) {
	case RPR_FAM_NONE:
		return false;
	case RPR_FAM_EMPTY:
		return true;
	case RPR_FAM_SCAN_CAPS:
		return m->scan_caps.max_items >= RPR_SCAN_ITEMS_MIN;
	case RPR_FAM_SCAN_START:
		/* Scan Start Timeout 0 is prohibited. */
		return m->scan_start.timeout != 0;
	case RPR_FAM_SCAN_STATUS:
		return status_ok(m->scan_status.status) && m->scan_status.state <= RPR_SCAN_SINGLE;
	case RPR_FAM_SCAN_REPORT:
		return true;
	case RPR_FAM_EXT_SCAN_START:
		return ext_scan_start_check(&m->ext_scan_start);
	case RPR_FAM_EXT_SCAN_REPORT:
		return ext_scan_report_check(&m->ext_scan_report);
	case RPR_FAM_LINK_OPEN:
		return link_open_check(&m->link_open);
	case RPR_FAM_LINK_CLOSE:
		/* Reason 0x01 is prohibited here (a client does not time out a link), 0x03+ RFU. */
		return m->link_close.reason == RPR_REASON_SUCCESS ||
		       m->link_close.reason == RPR_REASON_FAIL;
	case RPR_FAM_LINK_STATUS:
		return link_status_check(m->op, &m->link_status);
	case RPR_FAM_PDU:
		return pdu_check(m->op, &m->pdu);
	}
	return false;
}

int rpr_msg_decode(uint32_t op, const uint8_t *params, size_t len, struct rpr_msg *out)
{
	enum rpr_family fam = rpr_msg_family(op);
	struct mesh_rbuf r;
	struct rpr_msg m;

	if (fam == RPR_FAM_NONE) {
		return -ENOENT;
	}
	if (!out || (!params && len)) {
		return -EINVAL;
	}
	if (len > RPR_MSG_PARAMS_MAX) {
		return -EMSGSIZE;
	}
	memset(&m, 0, sizeof(m));
	m.op = op;
	mesh_rbuf_init(&r, params, len);
	fields_get(fam, &r, &m);
	if (!mesh_rbuf_done(&r) || !fields_check(fam, &m)) {
		return -EBADMSG;
	}
	*out = m;
	return 0;
}

int rpr_msg_encode(const struct rpr_msg *m, uint8_t *out, size_t cap, size_t *len)
{
	enum rpr_family fam;
	struct mesh_wbuf w;

	if (!m || !len || (!out && cap)) {
		return -EINVAL;
	}
	fam = rpr_msg_family(m->op);
	if (fam == RPR_FAM_NONE) {
		return -ENOENT;
	}
	if (!fields_check(fam, m)) {
		return -EINVAL;
	}
	mesh_wbuf_init(&w, out, cap < RPR_MSG_PARAMS_MAX ? cap : RPR_MSG_PARAMS_MAX);
	fields_put(fam, m, &w);
	if (w.err) {
		return cap < RPR_MSG_PARAMS_MAX ? -ENOSPC : -EINVAL;
	}
	*len = w.len;
	return 0;
}

/* Per-family wrappers: check the opcode's family, then go through the tagged message. */
#define RPR_MSG_FAMILY_DEF(name, fam)                                                              \
	int rpr_msg_##name##_encode(uint32_t op, const struct rpr_##name *m, uint8_t *out,         \
				    size_t cap, size_t *len)                                       \
	{                                                                                          \
		struct rpr_msg msg;                                                                \
                                                                                                   \
		if (!m || rpr_msg_family(op) != (fam)) {                                           \
			return -EINVAL;                                                            \
		}                                                                                  \
		msg.op = op;                                                                       \
		msg.name = *m;                                                                     \
		return rpr_msg_encode(&msg, out, cap, len);                                        \
	}                                                                                          \
                                                                                                   \
	int rpr_msg_##name##_decode(uint32_t op, const uint8_t *params, size_t len,                \
				    struct rpr_##name *out)                                        \
	{                                                                                          \
		struct rpr_msg msg;                                                                \
		int err;                                                                           \
                                                                                                   \
		if (!out || rpr_msg_family(op) != (fam)) {                                         \
			return -EINVAL;                                                            \
		}                                                                                  \
		err = rpr_msg_decode(op, params, len, &msg);                                       \
		if (!err) {                                                                        \
			*out = msg.name;                                                           \
		}                                                                                  \
		return err;                                                                        \
	}

RPR_MSG_FAMILY_DEF(scan_caps, RPR_FAM_SCAN_CAPS)
RPR_MSG_FAMILY_DEF(scan_start, RPR_FAM_SCAN_START)
RPR_MSG_FAMILY_DEF(scan_status, RPR_FAM_SCAN_STATUS)
RPR_MSG_FAMILY_DEF(scan_report, RPR_FAM_SCAN_REPORT)
RPR_MSG_FAMILY_DEF(ext_scan_start, RPR_FAM_EXT_SCAN_START)
RPR_MSG_FAMILY_DEF(ext_scan_report, RPR_FAM_EXT_SCAN_REPORT)
RPR_MSG_FAMILY_DEF(link_open, RPR_FAM_LINK_OPEN)
RPR_MSG_FAMILY_DEF(link_close, RPR_FAM_LINK_CLOSE)
RPR_MSG_FAMILY_DEF(link_status, RPR_FAM_LINK_STATUS)
RPR_MSG_FAMILY_DEF(pdu, RPR_FAM_PDU)
