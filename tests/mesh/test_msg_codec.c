#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/msg_codec.h"
#include "tests/util/tv.h"

/*
 * The generic walk on a small made-up table, for the rules the Config and
 * Remote Provisioning tables lean on; their own suites check every opcode.
 */

struct t_one {
	uint8_t ttl;
	uint16_t addr;
	bool has_more;
	uint8_t more[2];
	bool wide;
	uint8_t last;
};

struct t_two {
	uint8_t n;
	uint8_t arr[3];
	uint16_t idx;
	bool cred;
	size_t n_items;
	uint16_t items[3];
};

enum {
	FAM_ONE = 1,
	FAM_TWO
};

#define OP_ONE 0x8001
#define OP_TWO 0x8002
#define OP_IDX 0x8003
#define OP_BAD_ROW 0x8004

/* TTL 0x02-0x7f or 0x00; a unicast address; 2 optional octets; then, if exactly 1 octet is left,
 * a flag and that octet. */
static const struct msgc_field one[] = {
    {MSGC_U8(struct t_one, ttl), MSGC_IN(0x02, 0x7f), MSGC_OR(0x00)},
    {MSGC_LE16(struct t_one, addr), MSGC_UNICAST},
    {MSGC_BYTES(struct t_one, more), MSGC_OPT_LEFT(struct t_one, has_more, 2)},
    {MSGC_U8(struct t_one, last), MSGC_OPT_LEFT(struct t_one, wide, 1)},
};
/* A counted array of 1-3 octets, an AppKeyIndex ‖ CredentialFlag, a list of at most 3 items. */
static const struct msgc_field two[] = {
    {MSGC_COUNTED(struct t_two, arr, n), MSGC_IN(1, 3)},
    {MSGC_IDX_FLAG(struct t_two, idx, cred)},
    {MSGC_LIST16(struct t_two, items, n_items)},
};
static const struct msgc_field idx[] = {{MSGC_IDX_LIST(struct t_two, items, n_items)}};

static const struct msgc_row rows[] = {
    MSGC_ROW(OP_ONE, FAM_ONE, 3, 6, one),
    MSGC_ROW(OP_TWO, FAM_TWO, 4, MSGC_LEN_ANY, two),
    MSGC_ROW(OP_IDX, FAM_TWO, 0, MSGC_LEN_ANY, idx),
    /* Disagrees with its layout (one is at least 3 octets): nothing it encodes may go out. */
    MSGC_ROW(OP_BAD_ROW, FAM_ONE, 0, 2, one),
};

static const struct msgc_table table = {rows, sizeof(rows) / sizeof(rows[0]), 0};

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
	int n = tv_hex(h, out, cap);

	cr_assert_geq(n, 0, "bad hex in test: %s", h);
	return (size_t)n;
}

static int dec(uint32_t op, const char *h, void *out, size_t size)
{
	uint8_t in[64];

	return msgc_decode(&table, op, MSGC_FAM_ANY, in, hex(h, in, sizeof(in)), out, size);
}

/* Decodes under op, re-encodes to the same octets. */
static void same(uint32_t op, const char *h, void *out, size_t size)
{
	uint8_t in[64], got[64];
	size_t n = hex(h, in, sizeof(in)), len = 0;

	cr_assert_eq(msgc_decode(&table, op, MSGC_FAM_ANY, in, n, out, size), 0, "%s", h);
	cr_assert_eq(msgc_encode(&table, op, MSGC_FAM_ANY, out, got, sizeof(got), &len), 0, "%s",
		     h);
	cr_assert_eq(len, n, "%s", h);
	cr_assert_arr_eq(got, in, n, "%s", h);
}

/* Encoding m under op refuses it as a value the decoder would reject. */
static void refused(uint32_t op, const void *m)
{
	uint8_t out[64];
	size_t len = 99;

	cr_assert_eq(msgc_encode(&table, op, MSGC_FAM_ANY, m, out, sizeof(out), &len), -EINVAL);
	cr_assert_eq(len, 99);
}

/* Bounds with an extra allowed value, and an address class. */
Test(msg_codec, bounds_also_and_address_class)
{
	struct t_one m;

	same(OP_ONE, "00 0100", &m, sizeof(m));
	same(OP_ONE, "7f ff7f", &m, sizeof(m));
	cr_assert_eq(m.ttl, 0x7f);
	cr_assert_eq(m.addr, 0x7fff);
	cr_assert_eq(dec(OP_ONE, "01 0100", &m, sizeof(m)), -EBADMSG);
	cr_assert_eq(dec(OP_ONE, "80 0100", &m, sizeof(m)), -EBADMSG);
	cr_assert_eq(dec(OP_ONE, "02 0080", &m, sizeof(m)), -EBADMSG, "group address");
	cr_assert_eq(dec(OP_ONE, "02 0000", &m, sizeof(m)), -EBADMSG, "unassigned address");
}

/* Presence by the exact number of octets left, recorded in the struct and followed on encode. */
Test(msg_codec, optional_fields_by_length)
{
	struct t_one m;

	same(OP_ONE, "02 0100", &m, sizeof(m));
	cr_assert_not(m.has_more);
	cr_assert_not(m.wide);
	same(OP_ONE, "02 0100 aabb", &m, sizeof(m));
	cr_assert(m.has_more);
	cr_assert_eq(m.more[1], 0xbb);
	cr_assert_not(m.wide);
	same(OP_ONE, "02 0100 cc", &m, sizeof(m));
	cr_assert_not(m.has_more);
	cr_assert(m.wide);
	cr_assert_eq(m.last, 0xcc);
	/* 3 left: neither rule matches, the octets stay unread. */
	cr_assert_eq(dec(OP_ONE, "02 0100 aabbcc", &m, sizeof(m)), -EBADMSG);
}

/* A count past the array's capacity is refused before anything is copied, and on encode. */
Test(msg_codec, counted_array_capacity)
{
	struct t_two m;

	same(OP_TWO, "03 a1a2a3 2301", &m, sizeof(m));
	cr_assert_eq(m.n, 3);
	cr_assert_eq(m.arr[2], 0xa3);
	cr_assert_eq(m.idx, 0x123);
	cr_assert_not(m.cred);
	cr_assert_eq(dec(OP_TWO, "04 a1a2a3a4 2301", &m, sizeof(m)), -EBADMSG);
	cr_assert_eq(dec(OP_TWO, "00 2301 0000", &m, sizeof(m)), -EBADMSG, "count below bounds");
	m.n = 4;
	refused(OP_TWO, &m);
}

/* Key index ‖ flag (bit 12): RFU bits 13-15 make the message malformed. */
Test(msg_codec, idx_flag_rfu_bits)
{
	struct t_two m;

	same(OP_TWO, "01 a1 2311", &m, sizeof(m));
	cr_assert(m.cred);
	cr_assert_eq(m.idx, 0x123);
	cr_assert_eq(dec(OP_TWO, "01 a1 2331", &m, sizeof(m)), -EBADMSG);
	cr_assert_eq(dec(OP_TWO, "01 a1 2381", &m, sizeof(m)), -EBADMSG);
}

/* Lists fill the rest: no more items than the capacity, no lone octet at the end. */
Test(msg_codec, lists_to_the_end)
{
	struct t_two m;

	same(OP_TWO, "01 a1 0000 0100 0200 0300", &m, sizeof(m));
	cr_assert_eq(m.n_items, 3);
	cr_assert_eq(m.items[2], 3);
	cr_assert_eq(dec(OP_TWO, "01 a1 0000 0100 0200 0300 0400", &m, sizeof(m)), -EBADMSG);
	cr_assert_eq(dec(OP_TWO, "01 a1 0000 0100 02", &m, sizeof(m)), -EBADMSG);
	/* Packed indexes: a pair in 3 octets, an odd last one in 2 with its RFU bits clear. */
	same(OP_IDX, "563412 0100", &m, sizeof(m));
	cr_assert_eq(m.n_items, 3);
	cr_assert_eq(m.items[0], 0x456);
	cr_assert_eq(m.items[1], 0x123);
	cr_assert_eq(m.items[2], 0x001);
	cr_assert_eq(dec(OP_IDX, "563412 0110", &m, sizeof(m)), -EBADMSG);
	cr_assert_eq(dec(OP_IDX, "563412 563412", &m, sizeof(m)), -EBADMSG,
		     "4 indexes, room for 3");
	m.n_items = 4;
	refused(OP_IDX, &m);
}

/* Opcode and family errors; output untouched on every failure; the row's lengths gate both ways. */
Test(msg_codec, errors_and_untouched_output)
{
	struct t_one m, canary;
	uint8_t in[8] = {0x02, 0x01, 0x00}, out[8];
	size_t len = 99;

	memset(&m, 0xa5, sizeof(m));
	memcpy(&canary, &m, sizeof(m));
	cr_assert_eq(msgc_decode(&table, 0x8099, MSGC_FAM_ANY, in, 3, &m, sizeof(m)), -ENOENT);
	cr_assert_eq(msgc_decode(&table, 0x8099, FAM_ONE, in, 3, &m, sizeof(m)), -EINVAL);
	cr_assert_eq(msgc_decode(&table, OP_ONE, FAM_TWO, in, 3, &m, sizeof(m)), -EINVAL);
	cr_assert_eq(msgc_decode(&table, OP_ONE, FAM_ONE, in, 2, &m, sizeof(m)), -EBADMSG);
	cr_assert_eq(msgc_decode(&table, OP_ONE, FAM_ONE, NULL, 3, &m, sizeof(m)), -EINVAL);
	cr_assert_eq(msgc_decode(&table, OP_ONE, FAM_ONE, in, 3, &m, MSGC_BODY_MAX + 1), -EINVAL);
	cr_assert_eq(msgc_decode(&table, OP_ONE, FAM_ONE, in, 379, &m, sizeof(m)), -EMSGSIZE);
	cr_assert_arr_eq(&m, &canary, sizeof(m));
	cr_assert_eq(msgc_family(&table, OP_IDX), FAM_TWO);
	cr_assert_eq(msgc_family(&table, 0x8099), 0);

	cr_assert_eq(msgc_decode(&table, OP_ONE, FAM_ONE, in, 3, &m, sizeof(m)), 0);
	cr_assert_eq(msgc_encode(&table, OP_ONE, FAM_ONE, &m, out, 2, &len), -ENOSPC);
	cr_assert_eq(len, 99);
	refused(OP_BAD_ROW, &m);
	m.ttl = 0x01;
	refused(OP_ONE, &m);
}
