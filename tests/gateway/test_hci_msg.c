/*
 * gateway/hci_msg: every command encoder against the byte layouts of Core
 * v5.4 Vol 4 Part E §7, every event decoder against hand-written events,
 * malformed events refused, AD walking and the H4 stream reader.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "gateway/hci_msg.h"
#include "tests/util/tv.h"

static void expect(const struct hci_msg_cmd *c, const char *hex)
{
	uint8_t want[HCI_MSG_CMD_MAX];
	int n = tv_hex(hex, want, sizeof(want));

	cr_assert_geq(n, 0);
	cr_assert_eq(c->len, (size_t)n, "length %zu, want %d (%s)", c->len, n,
		     tv_tohex(c->buf, c->len));
	cr_assert_eq(memcmp(c->buf, want, (size_t)n), 0, "got %s want %s", tv_tohex(c->buf, c->len),
		     hex);
	cr_assert_eq(c->opcode, (uint16_t)(want[1] | want[2] << 8));
}

/* §7.3.2, §7.4.1, §7.4.2, §7.3.1, §7.8.1, §7.8.3, §7.8.23: fixed and zero-length commands. */
Test(hci_msg, controller_commands)
{
	struct hci_msg_cmd c;

	hci_msg_reset(&c);
	expect(&c, "01 03 0c 00");
	hci_msg_read_local_version(&c);
	expect(&c, "01 01 10 00");
	hci_msg_read_local_commands(&c);
	expect(&c, "01 02 10 00");
	hci_msg_set_event_mask(&c, 0x20001fffffffffffULL);
	expect(&c, "01 01 0c 08 ff ff ff ff ff 1f 00 20");
	hci_msg_le_set_event_mask(&c, 0x21002);
	expect(&c, "01 01 20 08 02 10 02 00 00 00 00 00");
	hci_msg_le_read_local_features(&c);
	expect(&c, "01 03 20 00");
	hci_msg_le_rand(&c);
	expect(&c, "01 18 20 00");
}

/* §7.8.4-§7.8.11: legacy advertising and scanning. */
Test(hci_msg, legacy_adv_and_scan)
{
	static const uint8_t addr[6] = {0x11, 0x22, 0x33, 0x44, 0x55, 0xc6};
	static const uint8_t ad[] = {0x03, 0x2a, 0xaa, 0xbb};
	struct hci_msg_cmd c;

	hci_msg_le_set_random_addr(&c, addr);
	expect(&c, "01 05 20 06 11 22 33 44 55 c6");
	cr_assert_eq(hci_msg_le_set_adv_params(&c, 0x00a0), 0);
	expect(&c, "01 06 20 0f a0 00 a0 00 03 01 00 00 00 00 00 00 00 07 00");
	cr_assert_eq(hci_msg_le_set_adv_params(&c, 0x001f), -EINVAL);
	cr_assert_eq(hci_msg_le_set_adv_params(&c, 0x4001), -EINVAL);
	/* Always 32 parameter octets: the length, then the data padded with zeros. */
	cr_assert_eq(hci_msg_le_set_adv_data(&c, ad, sizeof(ad)), 0);
	expect(&c,
	       "01 08 20 20 04 03 2a aa bb"
	       "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
	cr_assert_eq(hci_msg_le_set_adv_data(&c, NULL, 0), 0);
	cr_assert_eq(c.len, 4u + 32u);
	{
		uint8_t big[32] = {0};

		cr_assert_eq(hci_msg_le_set_adv_data(&c, big, 32), -EINVAL);
	}
	hci_msg_le_set_adv_enable(&c, true);
	expect(&c, "01 0a 20 01 01");
	hci_msg_le_set_adv_enable(&c, false);
	expect(&c, "01 0a 20 01 00");
	hci_msg_le_set_scan_params(&c, 0x0030, 0x0030);
	expect(&c, "01 0b 20 07 00 30 00 30 00 00 00");
	hci_msg_le_set_scan_enable(&c, true, false);
	expect(&c, "01 0c 20 02 01 00");
}

/* §7.8.52-§7.8.65: extended advertising and scanning. */
Test(hci_msg, extended_adv_and_scan)
{
	static const uint8_t addr[6] = {0x01, 0x02, 0x03, 0x04, 0x05, 0xc0};
	static const uint8_t ad[] = {0x02, 0x2b, 0x01};
	struct hci_msg_ext_adv_params p = {
	    .handle = 2, .props = 0x0010, .interval = 0x000020, .own_addr_type = 1, .sid = 2};
	struct hci_msg_ext_adv_set sets[2] = {{.handle = 0, .duration = 0, .max_events = 3},
					      {.handle = 1, .duration = 0x0102, .max_events = 1}};
	struct hci_msg_cmd c;

	hci_msg_le_set_adv_set_random_addr(&c, 3, addr);
	expect(&c, "01 35 20 07 03 01 02 03 04 05 c0");
	cr_assert_eq(hci_msg_le_set_ext_adv_params(&c, &p), 0);
	expect(&c, "01 36 20 19 02 10 00 20 00 00 20 00 00 07 01 00 00 00 00 00 00 00 00 7f 01 00 "
		   "01 02 00");
	p.interval = 0x1f;
	cr_assert_eq(hci_msg_le_set_ext_adv_params(&c, &p), -EINVAL);
	p.interval = 0xa0;
	p.sid = 16;
	cr_assert_eq(hci_msg_le_set_ext_adv_params(&c, &p), -EINVAL);
	cr_assert_eq(hci_msg_le_set_ext_adv_data(&c, 1, ad, sizeof(ad)), 0);
	expect(&c, "01 37 20 07 01 03 01 03 02 2b 01");
	cr_assert_eq(hci_msg_le_set_ext_adv_enable(&c, true, sets, 2), 0);
	expect(&c, "01 39 20 0a 01 02 00 00 00 03 01 02 01 01");
	cr_assert_eq(hci_msg_le_set_ext_adv_enable(&c, false, NULL, 0), 0);
	expect(&c, "01 39 20 02 00 00");
	cr_assert_eq(hci_msg_le_set_ext_adv_enable(&c, true, NULL, 0), -EINVAL);
	hci_msg_le_read_num_adv_sets(&c);
	expect(&c, "01 3b 20 00");
	hci_msg_le_clear_adv_sets(&c);
	expect(&c, "01 3d 20 00");
	hci_msg_le_set_ext_scan_params(&c, 0x0030, 0x0030);
	expect(&c, "01 41 20 08 00 00 01 00 30 00 30 00");
	hci_msg_le_set_ext_scan_enable(&c, true, false);
	expect(&c, "01 42 20 06 01 00 00 00 00 00");
}

static int decode_hex(const char *hex, uint8_t *buf, size_t cap, struct hci_msg_evt *e)
{
	int n = tv_hex(hex, buf, cap);

	cr_assert_geq(n, 0);
	return hci_msg_evt_decode(buf, (size_t)n, e);
}

/* §7.7.14, §7.7.15, §7.7.16: Command Complete (with per-opcode return length), Status, HW error. */
Test(hci_msg, command_events)
{
	uint8_t b[300];
	struct hci_msg_evt e;
	struct hci_msg_local_version v;
	uint8_t n;

	cr_assert_eq(decode_hex("04 0e 04 01 03 0c 00", b, sizeof(b), &e), 0);
	cr_assert_eq(e.kind, HCI_MSG_CMD_COMPLETE);
	cr_assert_eq(e.u.cc.ncmd, 1);
	cr_assert_eq(e.u.cc.opcode, 0x0c03);
	cr_assert_eq(e.u.cc.status, 0);
	/* Read Local Version: 4.2, revision 0x0123, LMP 8, Nordic (0x0059), subversion 0x4567. */
	cr_assert_eq(decode_hex("04 0e 0c 01 01 10 00 08 23 01 08 59 00 67 45", b, sizeof(b), &e),
		     0);
	cr_assert_eq(hci_msg_rp_local_version(&e, &v), 0);
	cr_assert_eq(v.hci_version, 8);
	cr_assert_eq(v.hci_revision, 0x0123);
	cr_assert_eq(v.manufacturer, 0x0059);
	cr_assert_eq(v.lmp_subversion, 0x4567);
	/* Success but a return parameter short: refused by the table. */
	cr_assert_eq(decode_hex("04 0e 0b 01 01 10 00 08 23 01 08 59 00 67", b, sizeof(b), &e),
		     -EBADMSG);
	/* Failure may carry only the status. */
	cr_assert_eq(decode_hex("04 0e 04 01 01 10 0c", b, sizeof(b), &e), 0);
	cr_assert_eq(e.u.cc.status, 0x0c);
	cr_assert_eq(hci_msg_rp_local_version(&e, &v), -EBADMSG);
	cr_assert_eq(decode_hex("04 0e 05 01 3b 20 00 04", b, sizeof(b), &e), 0);
	cr_assert_eq(hci_msg_rp_num_adv_sets(&e, &n), 0);
	cr_assert_eq(n, 4);
	/* Opcode 0 (no command): credits only. */
	cr_assert_eq(decode_hex("04 0e 03 05 00 00", b, sizeof(b), &e), 0);
	cr_assert_eq(e.u.cc.ncmd, 5);
	cr_assert_eq(decode_hex("04 0f 04 0c 01 0a 20", b, sizeof(b), &e), 0);
	cr_assert_eq(e.kind, HCI_MSG_CMD_STATUS);
	cr_assert_eq(e.u.cs.status, 0x0c);
	cr_assert_eq(e.u.cs.opcode, 0x200a);
	cr_assert_eq(decode_hex("04 10 01 2a", b, sizeof(b), &e), 0);
	cr_assert_eq(e.kind, HCI_MSG_HW_ERROR);
	cr_assert_eq(e.u.hw_code, 0x2a);
}

/* Decodes hex that must be an advertising report event in the given format with n
 * reports. */
static void decode_reports(const char *hex, uint8_t *b, size_t cap, struct hci_msg_evt *e,
			   bool extended, size_t n)
{
	cr_assert_eq(decode_hex(hex, b, cap, e), 0);
	cr_assert_eq(e->kind, HCI_MSG_LE_ADV_REPORT);
	cr_assert_eq(e->u.adv.extended, extended);
	cr_assert_eq(e->u.adv.n, n);
}

/* One decoded report's type (legacy) or properties (extended), data length and RSSI. */
static void expect_report(const struct hci_msg_report *r, uint16_t type, uint8_t data_len,
			  int8_t rssi)
{
	cr_assert_eq(r->event_type, type);
	cr_assert_eq(r->data_len, data_len);
	cr_assert_eq(r->rssi, rssi);
}

/* §7.7.65.2: a legacy report event with two reports, each with its data and RSSI. */
Test(hci_msg, legacy_reports)
{
	uint8_t b[300];
	struct hci_msg_evt e;

	decode_reports("04 3e 1c 02 02"
		       " 03 01 11 22 33 44 55 66 04 03 2b 00 01 c4"
		       " 03 00 aa bb cc dd ee ff 02 01 06 b0",
		       b, sizeof(b), &e, false, 2);
	expect_report(&e.u.adv.r[0], 3, 4, -60);
	cr_assert_eq(e.u.adv.r[0].addr[5], 0x66);
	cr_assert_eq(e.u.adv.r[0].data[1], 0x2b);
	expect_report(&e.u.adv.r[1], 3, 2, -80);
	cr_assert_eq(e.u.adv.r[1].addr[0], 0xaa);
	cr_assert_eq(e.u.adv.r[1].data[1], 0x06);
}

/* §7.7.65.13 and §7.7.65.18: extended report and Advertising Set Terminated. */
Test(hci_msg, extended_report_and_terminated)
{
	uint8_t b[300];
	struct hci_msg_evt e;

	decode_reports("04 3e 1d 0d 01"
		       " 10 00 01 11 22 33 44 55 c6 01 00 ff 7f c8 00 00 00 00 00 00 00 00"
		       " 00 03 03 29 aa",
		       b, sizeof(b), &e, true, 1);
	expect_report(&e.u.adv.r[0], 0x0010, 3, -56);
	cr_assert_eq(e.u.adv.r[0].addr[5], 0xc6);
	cr_assert_eq(e.u.adv.r[0].data[1], 0x29);
	cr_assert_eq(decode_hex("04 3e 06 12 00 02 ff ff 05", b, sizeof(b), &e), 0);
	cr_assert_eq(e.kind, HCI_MSG_LE_ADV_SET_TERMINATED);
	cr_assert_eq(e.u.term.handle, 2);
	cr_assert_eq(e.u.term.completed, 5);
	/* Another LE subevent is well-formed and of no interest. */
	cr_assert_eq(decode_hex("04 3e 02 14 00", b, sizeof(b), &e), 0);
	cr_assert_eq(e.kind, HCI_MSG_OTHER);
}

/* Truncations, lying counts and lengths: every one refused, none read past the end. */
Test(hci_msg, malformed_events)
{
	static const char *const bad[] = {
	    "",
	    "04",
	    "04 0e",
	    "02 0e 00",          /* not an event */
	    "04 0e 04 01 03 0c", /* header says 4, 3 follow */
	    "04 0e 02 01 03",    /* Command Complete too short for its opcode */
	    "04 0e 03 01 03 0c", /* Reset complete without a status */
	    "04 0f 03 00 01 03", /* Command Status short */
	    "04 10 00",          /* Hardware Error without a code */
	    "04 3e 00",          /* LE Meta without a subevent */
	    "04 3e 01 02",       /* report without a count */
	    "04 3e 02 02 00",    /* zero reports */
	    "04 3e 0c 02 02 03 01 11 22 33 44 55 66 00 c4",    /* claims 2 reports, has 1 */
	    "04 3e 0c 02 01 03 01 11 22 33 44 55 66 05 c4",    /* data length past the end */
	    "04 3e 0d 02 01 03 01 11 22 33 44 55 66 00 c4 99", /* trailing octet */
	    "04 3e 0b 02 01 03 01 11 22 33 44 55 66 00",       /* RSSI missing */
	    "04 3e 1a 0d 01 10 00 01 11 22 33 44 55 c6 01 00 ff 7f c8 00 00 00 00 00 00 00 00 00 "
	    "05",
	    "04 3e 05 12 00 02 ff ff", /* Set Terminated short */
	};
	uint8_t b[300];
	struct hci_msg_evt e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(decode_hex(bad[i], b, sizeof(b), &e), -EBADMSG, "accepted #%zu: %s", i,
			     bad[i]);
	}
	/* A count of reports larger than 255 octets could hold. */
	memset(b, 0, sizeof(b));
	b[0] = 0x04;
	b[1] = 0x3e;
	b[2] = 0xff;
	b[3] = 0x02;
	b[4] = 0xff;
	cr_assert_eq(hci_msg_evt_decode(b, 3 + 0xff, &e), -EBADMSG);
}

struct ad_rec {
	int n;
	uint8_t type[8];
	size_t len[8];
};

static void rec_ad(void *ctx, uint8_t type, const uint8_t *data, size_t len)
{
	struct ad_rec *r = ctx;

	(void)data;
	r->type[r->n] = type;
	r->len[r->n++] = len;
}

/* Core Supplement Part A §1: AD structures, zero-length terminator, overrun refused. */
Test(hci_msg, ad_walk)
{
	static const uint8_t ok[] = {0x02, 0x01, 0x06, 0x03, 0x2a, 0xaa, 0xbb, 0x00, 0x55};
	static const uint8_t over[] = {0x02, 0x01, 0x06, 0x05, 0x2a, 0xaa};
	struct ad_rec r = {0};

	cr_assert_eq(hci_msg_ad_walk(ok, sizeof(ok), rec_ad, &r), 0);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.type[1], 0x2a);
	cr_assert_eq(r.len[1], 2);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hci_msg_ad_walk(over, sizeof(over), rec_ad, &r), -EBADMSG);
	cr_assert_eq(r.n, 1);
}

struct pkts {
	int n;
	uint8_t last[300];
	size_t last_len;
};

static void on_pkt(void *ctx, const uint8_t *p, size_t len)
{
	struct pkts *k = ctx;

	k->n++;
	memcpy(k->last, p, len);
	k->last_len = len;
}

/* The H4 reader: ACL, SCO and ISO skipped by their headers, events delivered whole at any split. */
Test(hci_msg, h4_stream_every_split)
{
	uint8_t s[64];
	int n = tv_hex("02 01 20 03 00 aa bb cc" /* ACL, 3 octets */
		       "04 0e 04 01 03 0c 00"    /* Reset complete */
		       "03 01 00 02 dd ee"       /* SCO, 2 octets */
		       "05 01 00 01 40 ff"       /* ISO, length 1 (flags in the top bits) */
		       "04 10 01 07",            /* Hardware Error */
		       s, sizeof(s));
	size_t cut;

	cr_assert_gt(n, 0);
	for (cut = 0; cut <= (size_t)n; cut++) {
		struct hci_h4_rx rx;
		struct pkts k = {0};

		hci_h4_init(&rx);
		cr_assert_eq(hci_h4_feed(&rx, s, cut, on_pkt, &k), 0);
		cr_assert_eq(hci_h4_feed(&rx, s + cut, (size_t)n - cut, on_pkt, &k), 0);
		cr_assert_eq(k.n, 2, "cut %zu", cut);
		cr_assert_eq(k.last_len, 4);
		cr_assert_eq(k.last[3], 0x07);
		cr_assert(hci_h4_idle(&rx));
	}
}

/* An unknown indicator is a framing error. */
Test(hci_msg, h4_unknown_indicator)
{
	static const uint8_t s[] = {0x04, 0x10, 0x01, 0x00, 0x07, 0x00};
	struct hci_h4_rx rx;
	struct pkts k = {0};

	hci_h4_init(&rx);
	cr_assert_eq(hci_h4_feed(&rx, s, sizeof(s), on_pkt, &k), -EBADMSG);
	cr_assert_eq(k.n, 1);
}

/* The opcode table knows every command the driver sends. */
Test(hci_msg, opcode_table)
{
	cr_assert_eq(hci_msg_return_len(0x0c03), 1);
	cr_assert_eq(hci_msg_return_len(0x1002), 65);
	cr_assert_eq(hci_msg_return_len(0x2036), 2);
	cr_assert_eq(hci_msg_return_len(0x1234), -1);
	cr_assert_str_eq(hci_msg_opcode_name(0x2008), "LE Set Advertising Data");
}
