/*
 * mesh/prov_rec.c: Record Response fragments a device builds, and the
 * provisioner's reassembly of fragments taken from real PDU octets, well
 * formed and malformed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/prov_rec.h"
#include "tests/util/tv.h"

static uint8_t cert[150];
static uint8_t inter[40];

static struct prov_record recs[2];

static void setup(void)
{
	for (size_t i = 0; i < sizeof(cert); i++) {
		cert[i] = (uint8_t)(0x30 + i);
	}
	memset(inter, 0xa5, sizeof(inter));
	recs[0] = (struct prov_record){PROV_REC_ID_DEV_CERT, cert, sizeof(cert)};
	recs[1] = (struct prov_record){PROV_REC_ID_INTERMEDIATE, inter, sizeof(inter)};
}

TestSuite(prov_rec, .init = setup);

/* Parse the hex of one PDU; the codec is the first line of defence. */
static void parse_hex(const char *hex, uint8_t *buf, size_t cap, struct prov_pdu *p)
{
	int n = tv_hex(hex, buf, cap);

	cr_assert_gt(n, 0);
	cr_assert_eq(prov_pdu_parse(buf, (size_t)n, 0, p, NULL), 0, "rejected %s", hex);
}

static size_t build(const struct prov_pdu *p, uint8_t *buf, size_t cap)
{
	size_t len;

	cr_assert_eq(prov_pdu_build(p, buf, cap, &len), 0);
	return len;
}

static void serve_hex(const char *req_hex, uint8_t *out, size_t *len)
{
	uint8_t rb[16];
	struct prov_pdu req, rsp;

	parse_hex(req_hex, rb, sizeof(rb), &req);
	prov_rec_serve(recs, 2, &req, &rsp);
	*len = build(&rsp, out, PROV_REC_PDU_MAX);
}

Test(prov_rec, serve_first_fragment)
{
	uint8_t out[PROV_REC_PDU_MAX];
	size_t len;

	/* Record 0x0001 from offset 0, at most 4 octets. */
	serve_hex("0a 0001 0000 0004", out, &len);
	cr_assert_eq(len, 12);
	cr_assert_str_eq(tv_tohex(out, len), "0b0000010000009630313233");
}

Test(prov_rec, serve_last_fragment_is_short)
{
	uint8_t out[PROV_REC_PDU_MAX];
	size_t len;

	/* 150 octets, offset 0x90 = 144: six remain although 57 are allowed. */
	serve_hex("0a 0001 0090 0039", out, &len);
	cr_assert_eq(len, PROV_REC_HDR_LEN + 6);
	cr_assert_eq(out[0], PROV_RECORD_RESPONSE);
	cr_assert_eq(out[1], PROV_RECORD_SUCCESS);
	cr_assert(memcmp(out + 8, cert + 144, 6) == 0);
}

Test(prov_rec, serve_caps_fragment_at_pb_adv_size)
{
	uint8_t out[PROV_REC_PDU_MAX];
	size_t len;

	/* A peer may ask for 0xffff; the answer still fits one PB-ADV PDU. */
	serve_hex("0a 0001 0000 ffff", out, &len);
	cr_assert_eq(len, PROV_REC_PDU_MAX);
	cr_assert(memcmp(out + 8, cert, PROV_REC_FRAG_ADV) == 0);
}

Test(prov_rec, serve_unknown_record)
{
	uint8_t out[PROV_REC_PDU_MAX];
	size_t len;

	/* Not Present, the ID and offset echoed, Total Length 0, no data. */
	serve_hex("0a 0007 0010 0010", out, &len);
	cr_assert_str_eq(tv_tohex(out, len), "0b01000700100000");
}

Test(prov_rec, serve_offset_out_of_bounds)
{
	uint8_t out[PROV_REC_PDU_MAX];
	size_t len;

	/* Offset 40 of a 40-octet record: Out Of Bounds with the real length. */
	serve_hex("0a 0002 0028 0010", out, &len);
	cr_assert_str_eq(tv_tohex(out, len), "0b02000200280028");
}

Test(prov_rec, records_list_bytes)
{
	uint8_t ids[2 * PROV_REC_MAX], out[32];
	struct prov_pdu list;
	size_t len;

	cr_assert_eq(prov_rec_list(recs, 2, ids, sizeof(ids), &list), 0);
	len = build(&list, out, sizeof(out));
	cr_assert_str_eq(tv_tohex(out, len), "0d000000010002");
	cr_assert_eq(prov_rec_list(recs, 2, ids, 3, &list), -ENOSPC);
}

/* --- Reassembly ----------------------------------------------------------- */

/* Feed one Record Response given as hex; returns what prov_rec_asm_feed said. */
static int feed_hex(struct prov_rec_asm *a, const char *hex, const char **why)
{
	uint8_t buf[PROV_REC_PDU_MAX];
	struct prov_pdu p;

	parse_hex(hex, buf, sizeof(buf), &p);
	return prov_rec_asm_feed(a, &p, why);
}

/* Serve a whole record through the device code and reassemble it. */
Test(prov_rec, round_trip_in_fragments)
{
	struct prov_rec_asm a;
	struct prov_pdu req, rsp;
	int ret = 0, rounds = 0;

	cr_assert_eq(prov_rec_asm_init(&a, PROV_REC_ID_DEV_CERT, PROV_REC_FRAG_REMOTE, 1000), 0);
	while (ret == 0) {
		prov_rec_asm_request(&a, &req);
		cr_assert_eq(req.u.record_req.offset, a.have);
		cr_assert_eq(req.u.record_req.max_size, 57);
		prov_rec_serve(recs, 2, &req, &rsp);
		ret = prov_rec_asm_feed(&a, &rsp, NULL);
		rounds++;
	}
	cr_assert_eq(ret, 1);
	cr_assert_eq(rounds, 3); /* 57 + 57 + 36 */
	cr_assert_eq(a.total, sizeof(cert));
	cr_assert(memcmp(a.buf, cert, sizeof(cert)) == 0);
	prov_rec_asm_free(&a);
	cr_assert_null(a.buf);
}

struct bad_case {
	const char *second; /* the response to the second request (offset 4) */
	int err;
	const char *why;
};

/* The first fragment (4 of 10 octets) is good; the second one is not. */
static void second_fragment_refused(const struct bad_case *c)
{
	struct prov_rec_asm a;
	const char *why = NULL;

	cr_assert_eq(prov_rec_asm_init(&a, PROV_REC_ID_DEV_CERT, 4, 100), 0);
	cr_assert_eq(feed_hex(&a, "0b00 0001 0000 000a 01020304", &why), 0);
	cr_assert_eq(feed_hex(&a, c->second, &why), c->err, "%s", c->second);
	cr_assert_str_eq(why, c->why);
	prov_rec_asm_free(&a);
}

Test(prov_rec, malformed_fragments_refused)
{
	static const struct bad_case cases[] = {
	    /* Total Length 10 became 12: another version of the record. */
	    {"0b00 0001 0004 000c 05060708", -EBADMSG, "record changed size between fragments"},
	    /* An answer for another record. */
	    {"0b00 0002 0004 000a 05060708", -EBADMSG,
	     "record response does not answer the request"},
	    /* A gap: offset 6 where 4 was asked. */
	    {"0b00 0001 0006 000a 0708", -EBADMSG, "record response does not answer the request"},
	    /* An overlap: offset 0 again. */
	    {"0b00 0001 0000 000a 01020304", -EBADMSG,
	     "record response does not answer the request"},
	    /* Five octets where at most four were asked for. */
	    {"0b00 0001 0004 000a 0506070809", -EBADMSG, "record fragment has the wrong size"},
	    /* No data before the end: no progress. */
	    {"0b00 0001 0004 000a", -EBADMSG, "record fragment has the wrong size"},
	    /* Status codes other than Success. */
	    {"0b01 0001 0004 0000", -ENOENT, "device listed a record it does not have"},
	    {"0b02 0001 0004 000a", -ERANGE, "device refused the record offset"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		second_fragment_refused(&cases[i]);
	}
}

Test(prov_rec, data_past_total_length_refused)
{
	struct prov_rec_asm a;
	const char *why = NULL;

	/* Total Length 6, fragments of 4: the second may carry only 2. */
	cr_assert_eq(prov_rec_asm_init(&a, PROV_REC_ID_DEV_CERT, 4, 100), 0);
	cr_assert_eq(feed_hex(&a, "0b00 0001 0000 0006 01020304", &why), 0);
	cr_assert_eq(feed_hex(&a, "0b00 0001 0004 0006 050607", &why), -EBADMSG);
	cr_assert_str_eq(why, "record fragment has the wrong size");
	prov_rec_asm_free(&a);
}

Test(prov_rec, first_fragment_checks)
{
	struct prov_rec_asm a;
	const char *why = NULL;

	cr_assert_eq(prov_rec_asm_init(&a, PROV_REC_ID_DEV_CERT, 57, 100), 0);
	cr_assert_eq(feed_hex(&a, "0b00 0001 0000 0065 01", &why), -EMSGSIZE);
	cr_assert_str_eq(why, "certificate larger than the record limit");
	cr_assert_null(a.buf, "nothing allocated for a refused size");
	prov_rec_asm_free(&a);

	cr_assert_eq(prov_rec_asm_init(&a, PROV_REC_ID_DEV_CERT, 57, 100), 0);
	cr_assert_eq(feed_hex(&a, "0b00 0001 0000 0000", &why), -EBADMSG);
	cr_assert_str_eq(why, "device sent an empty record");
	prov_rec_asm_free(&a);

	/* Exactly at the limit is fine. */
	cr_assert_eq(prov_rec_asm_init(&a, PROV_REC_ID_DEV_CERT, 57, 2), 0);
	cr_assert_eq(feed_hex(&a, "0b00 0001 0000 0002 abcd", &why), 1);
	cr_assert_eq(a.buf[0], 0xab);
	cr_assert_eq(a.buf[1], 0xcd);
	prov_rec_asm_free(&a);
}

Test(prov_rec, init_bounds)
{
	struct prov_rec_asm a;

	cr_assert_eq(prov_rec_asm_init(&a, 1, 0, 100), -EINVAL);
	cr_assert_eq(prov_rec_asm_init(&a, 1, PROV_REC_FRAG_ADV + 1, 100), -EINVAL);
	cr_assert_eq(prov_rec_asm_init(&a, 1, 57, 0), -EINVAL);
	cr_assert_eq(prov_rec_asm_init(&a, 1, 57, 0x10000), -EINVAL);
	cr_assert_eq(prov_rec_asm_init(&a, 1, PROV_REC_FRAG_ADV, 0xffff), 0);
}

/* --- Which records a provisioner reads ------------------------------------ */

static int select_hex(const char *hex, uint16_t *out, size_t cap, bool *has_cert)
{
	uint8_t buf[64];
	struct prov_pdu p;

	parse_hex(hex, buf, sizeof(buf), &p);
	return prov_rec_select(&p, out, cap, has_cert);
}

Test(prov_rec, select_order)
{
	uint16_t ids[PROV_REC_MAX];
	bool has_cert;

	/* Listed as URI, 0x0003, 0x0001, 0x0002, 0x0003 again. */
	cr_assert_eq(select_hex("0d 0000 0000 0003 0001 0002 0003", ids, PROV_REC_MAX, &has_cert),
		     4);
	cr_assert(has_cert);
	cr_assert_eq(ids[0], 0x0001);
	cr_assert_eq(ids[1], 0x0002);
	cr_assert_eq(ids[2], 0x0003);
	cr_assert_eq(ids[3], 0x0000);
}

Test(prov_rec, select_without_certificate)
{
	uint16_t ids[PROV_REC_MAX];
	bool has_cert = true;

	cr_assert_eq(select_hex("0d 0000 0000 0002", ids, PROV_REC_MAX, &has_cert), 0);
	cr_assert(!has_cert);
	cr_assert_eq(select_hex("0d 0000", ids, PROV_REC_MAX, &has_cert), 0);
	cr_assert(!has_cert);
}

Test(prov_rec, select_too_many)
{
	uint16_t ids[3];
	bool has_cert;

	cr_assert_eq(select_hex("0d 0000 0001 0002 0003", ids, 3, &has_cert), 3);
	cr_assert_eq(select_hex("0d 0000 0001 0002 0003 0004", ids, 3, &has_cert), -E2BIG);
	cr_assert_eq(select_hex("0d 0000 0001 0002 0003 0000", ids, 3, &has_cert), -E2BIG);
}
