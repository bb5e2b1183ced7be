#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/rpr_msg.h"
#include "tests/util/tv.h"

#define BUF_MAX 512
/* An arbitrary Device UUID for layout tests. */
#define UUID_HEX "00112233445566778899aabbccddeeff"

static size_t hex(const char *h, uint8_t *out)
{
	int n = tv_hex(h, out, BUF_MAX);

	cr_assert_geq(n, 0, "bad hex in test: %s", h);
	return (size_t)n;
}

static void uuid(uint8_t out[16])
{
	cr_assert_eq(tv_hex(UUID_HEX, out, 16), 16);
}

/* m encodes to exactly `want`, which decodes under m->op and re-encodes to itself. */
static struct rpr_msg roundtrip(const struct rpr_msg *m, const char *want_hex)
{
	uint8_t want[BUF_MAX], got[BUF_MAX];
	size_t want_len = hex(want_hex, want), len = 0;
	struct rpr_msg d;

	cr_assert_eq(rpr_msg_encode(m, got, sizeof(got), &len), 0, "encode op %04x", m->op);
	cr_assert_eq(len, want_len, "op %04x: %s", m->op, tv_tohex(got, len));
	cr_assert_arr_eq(got, want, len, "op %04x: %s", m->op, tv_tohex(got, len));
	cr_assert_eq(rpr_msg_decode(m->op, want, want_len, &d), 0, "decode op %04x", m->op);
	cr_assert_eq(d.op, m->op);
	cr_assert_eq(rpr_msg_encode(&d, got, sizeof(got), &len), 0);
	cr_assert_eq(len, want_len);
	cr_assert_arr_eq(got, want, len, "op %04x re-encode: %s", m->op, tv_tohex(got, len));
	/* Borrowed pointers in d point into `want`, which dies here: callers check scalars only. */
	return d;
}

/* Decoding `bad` under op fails with -EBADMSG and leaves the canary-filled output as it was. */
static void malformed(uint32_t op, const char *bad_hex)
{
	uint8_t bad[BUF_MAX];
	size_t n = hex(bad_hex, bad);
	struct rpr_msg out, canary;

	memset(&out, 0xa5, sizeof(out));
	memcpy(&canary, &out, sizeof(out));
	cr_assert_eq(rpr_msg_decode(op, bad, n, &out), -EBADMSG, "op %04x accepted %s", op,
		     bad_hex);
	cr_assert_arr_eq(&out, &canary, sizeof(out), "op %04x wrote its output on failure", op);
}

/* Scan Capabilities Get/Scan Get/Scan Stop/Link Get have no parameters. */
Test(rpr_msg, empty_messages)
{
	static const uint32_t ops[] = {RPR_OP_SCAN_CAPS_GET, RPR_OP_SCAN_GET, RPR_OP_SCAN_STOP,
				       RPR_OP_LINK_GET};
	size_t i;

	for (i = 0; i < 4; i++) {
		roundtrip(&(struct rpr_msg){.op = ops[i]}, "");
		malformed(ops[i], "00");
	}
}

/* Scan Capabilities Status: MaxScannedItems (≥ 4) ‖ ActiveScan (0/1). */
Test(rpr_msg, scan_caps)
{
	struct rpr_msg d =
	    roundtrip(&(struct rpr_msg){.op = RPR_OP_SCAN_CAPS_STATUS,
					.scan_caps = {.max_items = 5, .active = true}},
		      "0501");

	cr_assert_eq(d.scan_caps.max_items, 5);
	cr_assert(d.scan_caps.active);
	malformed(RPR_OP_SCAN_CAPS_STATUS, "0301");
	malformed(RPR_OP_SCAN_CAPS_STATUS, "0502");
	malformed(RPR_OP_SCAN_CAPS_STATUS, "05");
	malformed(RPR_OP_SCAN_CAPS_STATUS, "050100");
}

/* Scan Start: ScannedItemsLimit ‖ Timeout, plus a UUID for a single-device scan; Timeout 0 is
 * prohibited. */
Test(rpr_msg, scan_start)
{
	struct rpr_msg m = {.op = RPR_OP_SCAN_START,
			    .scan_start = {.limit = 5, .timeout = 10, .has_uuid = true}};
	struct rpr_msg d;

	roundtrip(&(struct rpr_msg){.op = RPR_OP_SCAN_START, .scan_start = {.timeout = 0x0a}},
		  "000a");
	uuid(m.scan_start.uuid);
	d = roundtrip(&m, "050a" UUID_HEX);
	cr_assert(d.scan_start.has_uuid);
	cr_assert_arr_eq(d.scan_start.uuid, m.scan_start.uuid, 16);
	malformed(RPR_OP_SCAN_START, "0000");
	malformed(RPR_OP_SCAN_START, "00");
	malformed(RPR_OP_SCAN_START, "000a00");
	malformed(RPR_OP_SCAN_START, "000a00112233445566778899aabbccddee");
	malformed(RPR_OP_SCAN_START, "000a" UUID_HEX "00");
}

/* Scan Status: Status ‖ RPScanningState ‖ ScannedItemsLimit ‖ Timeout. */
Test(rpr_msg, scan_status)
{
	struct rpr_msg d = roundtrip(
	    &(struct rpr_msg){
		.op = RPR_OP_SCAN_STATUS,
		.scan_status = {.state = RPR_SCAN_MULTIPLE, .limit = 5, .timeout = 9}},
	    "00010509");

	cr_assert_eq(d.scan_status.state, RPR_SCAN_MULTIPLE);
	malformed(RPR_OP_SCAN_STATUS, "00030509");
	malformed(RPR_OP_SCAN_STATUS, "0c000509");
	malformed(RPR_OP_SCAN_STATUS, "000005");
}

/* Scan Report: RSSI (signed) ‖ UUID ‖ OOB Information little-endian ‖ optional URI Hash. */
Test(rpr_msg, scan_report)
{
	struct rpr_msg m = {.op = RPR_OP_SCAN_REPORT, .scan_report = {.rssi = -60, .oob = 0x4020}};
	struct rpr_msg d;

	uuid(m.scan_report.uuid);
	d = roundtrip(&m, "c4" UUID_HEX "2040");
	cr_assert_eq(d.scan_report.rssi, -60);
	cr_assert_eq(d.scan_report.oob, 0x4020, "OOB is little-endian (Zephyr, spec)");
	cr_assert_not(d.scan_report.has_uri_hash);
	m.scan_report.has_uri_hash = true;
	memcpy(m.scan_report.uri_hash, "\xde\xad\xbe\xef", 4);
	d = roundtrip(&m, "c4" UUID_HEX "2040 deadbeef");
	cr_assert(d.scan_report.has_uri_hash);
	cr_assert_arr_eq(d.scan_report.uri_hash, "\xde\xad\xbe\xef", 4);
	malformed(RPR_OP_SCAN_REPORT, "c4" UUID_HEX "20");
	malformed(RPR_OP_SCAN_REPORT, "c4" UUID_HEX "2040 de");
	malformed(RPR_OP_SCAN_REPORT, "c4" UUID_HEX "2040 deadbe");
	malformed(RPR_OP_SCAN_REPORT, "c4" UUID_HEX "2040 deadbeef00");
}

/* Extended Scan Start: ADTypeFilterCount ‖ ADTypeFilter, plus UUID ‖ Timeout (1-5 s) for another
 * device. */
Test(rpr_msg, ext_scan_start)
{
	struct rpr_msg m = {.op = RPR_OP_EXT_SCAN_START,
			    .ext_scan_start = {.n_ad_types = 2, .ad_types = {0x09, 0x24}}};
	struct rpr_msg d;

	d = roundtrip(&m, "02 0924");
	cr_assert_eq(d.ext_scan_start.n_ad_types, 2);
	cr_assert_eq(d.ext_scan_start.ad_types[1], 0x24);
	cr_assert_not(d.ext_scan_start.has_uuid);
	m.ext_scan_start.has_uuid = true;
	m.ext_scan_start.timeout = 5;
	uuid(m.ext_scan_start.uuid);
	d = roundtrip(&m, "02 0924" UUID_HEX "05");
	cr_assert_eq(d.ext_scan_start.timeout, 5);
}

/* Extended Scan Start: count 0 or 17, a short filter, banned or repeated AD types, Timeout 0 or 6,
 * UUID without Timeout. */
Test(rpr_msg, ext_scan_start_malformed)
{
	malformed(RPR_OP_EXT_SCAN_START, "00");
	malformed(RPR_OP_EXT_SCAN_START, "");
	malformed(RPR_OP_EXT_SCAN_START, "11 0102030405060708090a0b0c0d0e0f1011");
	malformed(RPR_OP_EXT_SCAN_START, "02 09");
	malformed(RPR_OP_EXT_SCAN_START, "01 08");
	malformed(RPR_OP_EXT_SCAN_START, "01 02");
	malformed(RPR_OP_EXT_SCAN_START, "01 04");
	malformed(RPR_OP_EXT_SCAN_START, "01 06");
	malformed(RPR_OP_EXT_SCAN_START, "02 0909");
	malformed(RPR_OP_EXT_SCAN_START, "01 09" UUID_HEX "00");
	malformed(RPR_OP_EXT_SCAN_START, "01 09" UUID_HEX "06");
	malformed(RPR_OP_EXT_SCAN_START, "01 09" UUID_HEX);
	malformed(RPR_OP_EXT_SCAN_START, "01 09" UUID_HEX "0500");
}

/* Extended Scan Report: Status ‖ UUID, then optionally OOB, then optionally well-framed AD
 * structures. */
Test(rpr_msg, ext_scan_report)
{
	const uint8_t ad[] = {0x05, 0x09, 'A', 'B', 'C', 'D', 0x02, 0x24, 0x17};
	struct rpr_msg m = {.op = RPR_OP_EXT_SCAN_REPORT, .ext_scan_report = {.status = 0}};
	uint8_t params[64];
	struct rpr_ext_scan_report r;
	size_t n;

	uuid(m.ext_scan_report.uuid);
	roundtrip(&m, "00" UUID_HEX);
	m.ext_scan_report.has_oob = true;
	m.ext_scan_report.oob = 0x4020;
	roundtrip(&m, "00" UUID_HEX "2040");
	m.ext_scan_report.adv = ad;
	m.ext_scan_report.adv_len = sizeof(ad);
	roundtrip(&m, "00" UUID_HEX "2040 050941424344 022417");
	n = hex("00" UUID_HEX "2040 050941424344 022417", params);
	cr_assert_eq(rpr_msg_ext_scan_report_decode(RPR_OP_EXT_SCAN_REPORT, params, n, &r), 0);
	cr_assert_eq(r.adv, params + 19, "AD structures are borrowed from the input");
	cr_assert_eq(r.adv_len, sizeof(ad));
	cr_assert_eq(r.oob, 0x4020);
	roundtrip(&(struct rpr_msg){.op = RPR_OP_EXT_SCAN_REPORT,
				    .ext_scan_report = {.status = RPR_STATUS_LIMITED_RESOURCES}},
		  "03 00000000000000000000000000000000");
}

/* Extended Scan Report: zero-length or overrunning AD structure, half an OOB field, RFU status,
 * short UUID. */
Test(rpr_msg, ext_scan_report_malformed)
{
	malformed(RPR_OP_EXT_SCAN_REPORT, "00" UUID_HEX "2040 0009");
	malformed(RPR_OP_EXT_SCAN_REPORT, "00" UUID_HEX "2040 00");
	malformed(RPR_OP_EXT_SCAN_REPORT, "00" UUID_HEX "2040 0609414243");
	malformed(RPR_OP_EXT_SCAN_REPORT, "00" UUID_HEX "2040 050941424344 03");
	malformed(RPR_OP_EXT_SCAN_REPORT, "00" UUID_HEX "20");
	malformed(RPR_OP_EXT_SCAN_REPORT, "0c" UUID_HEX);
	malformed(RPR_OP_EXT_SCAN_REPORT, "00 00112233445566778899aabbccddee");
}

/* A message longer than one access payload allows (378 parameter octets after the 2-octet
 * opcode) is refused whole on decode and on encode, even when every AD structure in it is
 * well framed (fuzz finding: such a report used to decode and then failed to re-encode). */
Test(rpr_msg, ext_scan_report_oversize)
{
	uint8_t params[RPR_MSG_PARAMS_MAX + 2], out[1024];
	struct rpr_msg m, d;
	size_t n, len, i;

	n = hex("00" UUID_HEX "2040", params);
	for (i = n; i + 1 < sizeof(params); i += 2) {
		params[i] = 0x01;     /* Length 1: an AD Type and no data */
		params[i + 1] = 0x01; /* Flags */
	}
	/* 19 + 2k octets: the longest even fill that fits is 377 octets, one more pair is 379. */
	len = n + 2 * ((RPR_MSG_PARAMS_MAX - n) / 2);
	cr_assert_eq(rpr_msg_decode(RPR_OP_EXT_SCAN_REPORT, params, len, &d), 0);
	cr_assert_eq(rpr_msg_encode(&d, out, sizeof(out), &n), 0);
	cr_assert_eq(n, len);
	cr_assert_eq(rpr_msg_decode(RPR_OP_EXT_SCAN_REPORT, params, len + 2, &d), -EMSGSIZE);
	memset(&m, 0, sizeof(m));
	m.op = RPR_OP_EXT_SCAN_REPORT;
	uuid(m.ext_scan_report.uuid);
	m.ext_scan_report.has_oob = true;
	m.ext_scan_report.adv = params + 19;
	m.ext_scan_report.adv_len = len + 2 - 19;
	cr_assert_eq(rpr_msg_encode(&m, out, sizeof(out), &n), -EINVAL);
	/* PDU Report: the same bound. */
	memset(params, 0, sizeof(params));
	cr_assert_eq(rpr_msg_decode(RPR_OP_PDU_REPORT, params, RPR_MSG_PARAMS_MAX + 1, &d),
		     -EMSGSIZE);
}

/* Link Open: UUID, UUID ‖ LinkOpenTimeout (1-0x3c), or a single NPPI procedure octet. */
Test(rpr_msg, link_open)
{
	struct rpr_msg m = {.op = RPR_OP_LINK_OPEN};
	struct rpr_msg d;

	uuid(m.link_open.uuid);
	d = roundtrip(&m, UUID_HEX);
	cr_assert_not(d.link_open.nppi);
	cr_assert_not(d.link_open.has_timeout);
	m.link_open.has_timeout = true;
	m.link_open.timeout = 0x3c;
	d = roundtrip(&m, UUID_HEX "3c");
	cr_assert_eq(d.link_open.timeout, 0x3c);
	d = roundtrip(&(struct rpr_msg){.op = RPR_OP_LINK_OPEN,
					.link_open = {.nppi = true,
						      .procedure = RPR_NPPI_COMPOSITION_REFRESH}},
		      "02");
	cr_assert(d.link_open.nppi);
	cr_assert_eq(d.link_open.procedure, RPR_NPPI_COMPOSITION_REFRESH);
	roundtrip(&(struct rpr_msg){.op = RPR_OP_LINK_OPEN, .link_open = {.nppi = true}}, "00");
	malformed(RPR_OP_LINK_OPEN, "03");
	malformed(RPR_OP_LINK_OPEN, UUID_HEX "00");
	malformed(RPR_OP_LINK_OPEN, UUID_HEX "3d");
	malformed(RPR_OP_LINK_OPEN, "00112233445566778899aabbccddee");
	malformed(RPR_OP_LINK_OPEN, UUID_HEX "0a00");
	malformed(RPR_OP_LINK_OPEN, "");
	malformed(RPR_OP_LINK_OPEN, "0000");
}

/* Link Close: Reason 0x00 or 0x02; 0x01 is prohibited in a client's close, 0x03+ RFU. */
Test(rpr_msg, link_close)
{
	roundtrip(&(struct rpr_msg){.op = RPR_OP_LINK_CLOSE, .link_close = {RPR_REASON_SUCCESS}},
		  "00");
	roundtrip(&(struct rpr_msg){.op = RPR_OP_LINK_CLOSE, .link_close = {RPR_REASON_FAIL}},
		  "02");
	malformed(RPR_OP_LINK_CLOSE, "01");
	malformed(RPR_OP_LINK_CLOSE, "03");
	malformed(RPR_OP_LINK_CLOSE, "");
	malformed(RPR_OP_LINK_CLOSE, "0000");
}

/* Link Status (Status ‖ RPState) and Link Report (Status ‖ RPState ‖ optional Reason). */
Test(rpr_msg, link_status_report)
{
	struct rpr_msg d;

	roundtrip(
	    &(struct rpr_msg){.op = RPR_OP_LINK_STATUS, .link_status = {.state = RPR_LINK_ACTIVE}},
	    "0002");
	d = roundtrip(&(struct rpr_msg){.op = RPR_OP_LINK_REPORT,
					.link_status = {.status = RPR_STATUS_LINK_CLOSED_BY_DEVICE,
							.state = RPR_LINK_IDLE,
							.has_reason = true,
							.reason = RPR_REASON_FAIL}},
		      "060002");
	cr_assert(d.link_status.has_reason);
	cr_assert_eq(d.link_status.reason, RPR_REASON_FAIL);
	d = roundtrip(
	    &(struct rpr_msg){.op = RPR_OP_LINK_REPORT, .link_status = {.state = RPR_LINK_ACTIVE}},
	    "0002");
	cr_assert_not(d.link_status.has_reason);
	malformed(RPR_OP_LINK_STATUS, "0005");
	malformed(RPR_OP_LINK_STATUS, "0c00");
	malformed(RPR_OP_LINK_STATUS, "000000");
	malformed(RPR_OP_LINK_STATUS, "00");
	malformed(RPR_OP_LINK_REPORT, "060003");
	malformed(RPR_OP_LINK_REPORT, "06000200");
}

/* The spec sample provisioning run (vectors cmac_sample): its PDUs through PDU Send and PDU Report;
 * PDU Outbound Report is the number alone. */
Test(rpr_msg, pdu_send_report)
{
	json_t *s = tv_get("provisioning.cmac_sample");
	uint8_t invite[2], caps[12], params[16];
	struct rpr_pdu p;
	int n;

	cr_assert_not_null(s);
	/* A Provisioning PDU is its Type octet (Invite 0x00, Capabilities 0x01) then the PDU value.
	 */
	invite[0] = 0x00;
	cr_assert_eq(tv_bytes(s, "InvitePDUValue", invite + 1, 1), 1);
	caps[0] = 0x01;
	n = tv_bytes(s, "CapabilitiesPDUValue", caps + 1, sizeof(caps) - 1);
	cr_assert_eq(n, 11);
	roundtrip(&(struct rpr_msg){.op = RPR_OP_PDU_SEND,
				    .pdu = {.num = 1, .pdu = invite, .pdu_len = 2}},
		  "01 0000");
	roundtrip(&(struct rpr_msg){.op = RPR_OP_PDU_REPORT,
				    .pdu = {.num = 1, .pdu = caps, .pdu_len = 12}},
		  "01 01 0100010000000000000000");
	params[0] = 0x07;
	memcpy(params + 1, caps, 12);
	cr_assert_eq(rpr_msg_pdu_decode(RPR_OP_PDU_REPORT, params, 13, &p), 0);
	cr_assert_eq(p.num, 7);
	cr_assert_eq(p.pdu, params + 1, "the PDU is borrowed from the input");
	cr_assert_eq(p.pdu_len, 12);
	roundtrip(&(struct rpr_msg){.op = RPR_OP_PDU_OUTBOUND_REPORT, .pdu = {.num = 0xff}}, "ff");
	malformed(RPR_OP_PDU_SEND, "01");
	malformed(RPR_OP_PDU_SEND, "");
	malformed(RPR_OP_PDU_REPORT, "01");
	malformed(RPR_OP_PDU_OUTBOUND_REPORT, "");
	malformed(RPR_OP_PDU_OUTBOUND_REPORT, "0100");
}

/* Encoding refuses prohibited values, a too-small buffer and an opcode of another family; decoding
 * refuses non-RPR opcodes. */
Test(rpr_msg, errors)
{
	struct rpr_link_open lo = {.has_timeout = true, .timeout = 0};
	struct rpr_scan_start ss = {.limit = 1, .timeout = 1};
	struct rpr_msg out, canary;
	uint8_t buf[32];
	size_t len = 55;

	cr_assert_eq(rpr_msg_link_open_encode(RPR_OP_LINK_OPEN, &lo, buf, sizeof(buf), &len),
		     -EINVAL);
	cr_assert_eq(rpr_msg_scan_start_encode(RPR_OP_SCAN_START, &ss, buf, 1, &len), -ENOSPC);
	cr_assert_eq(len, 55);
	cr_assert_eq(rpr_msg_scan_start_encode(RPR_OP_SCAN_STATUS, &ss, buf, sizeof(buf), &len),
		     -EINVAL);
	memset(&out, 0x5a, sizeof(out));
	memcpy(&canary, &out, sizeof(out));
	cr_assert_eq(rpr_msg_decode(0x8003, buf, 4, &out), -ENOENT);
	cr_assert_arr_eq(&out, &canary, sizeof(out));
	cr_assert_str_eq(rpr_status_str(RPR_STATUS_LINK_CLOSED_CANNOT_DELIVER),
			 "Link Closed As Cannot Deliver PDU Report");
	cr_assert_str_eq(rpr_status_str(0x0c), "RFU");
}
