#include <criterion/criterion.h>

#include "mesh/buf.h"

/* Reads return big- and little-endian fields in order and consume exactly the input. */
Test(buf, reads_fields_in_order)
{
	const uint8_t in[] = {0x01, 0x12, 0x34, 0x78, 0x56, 0xaa, 0xbb, 0xcc};
	struct mesh_rbuf b;

	mesh_rbuf_init(&b, in, sizeof(in));
	cr_assert_eq(mesh_rbuf_u8(&b), 0x01);
	cr_assert_eq(mesh_rbuf_be16(&b), 0x1234);
	cr_assert_eq(mesh_rbuf_le16(&b), 0x5678);
	cr_assert_eq(mesh_rbuf_be24(&b), 0xaabbcc);
	cr_assert(mesh_rbuf_done(&b));
}

/* A read past the end fails, returns zero, and the error is sticky. */
Test(buf, overrun_is_sticky)
{
	const uint8_t in[] = {0x01, 0x02, 0x03};
	struct mesh_rbuf b;

	mesh_rbuf_init(&b, in, sizeof(in));
	cr_assert_eq(mesh_rbuf_be32(&b), 0);
	cr_assert_not(mesh_rbuf_ok(&b));
	cr_assert_eq(mesh_rbuf_u8(&b), 0, "no read succeeds after an overrun");
	cr_assert_null(mesh_rbuf_pull(&b, 0));
}

/* A write that does not fit fails without writing past the capacity. */
Test(buf, write_overflow)
{
	uint8_t out[4] = {0};
	struct mesh_wbuf w;

	mesh_wbuf_init(&w, out, 3);
	mesh_wbuf_be16(&w, 0xa1b2);
	mesh_wbuf_be16(&w, 0xc3d4);
	cr_assert(w.err);
	cr_assert_eq(w.len, 2);
	cr_assert_eq(out[2], 0);
	cr_assert_eq(out[0], 0xa1);
}

/* 24-bit little-endian fields (the LPN PollTimeout): 0x34bbff travels as ff bb 34 and reads back.
 */
Test(buf, le24_both_ways)
{
	uint8_t out[3];
	struct mesh_wbuf w;
	struct mesh_rbuf r;

	mesh_wbuf_init(&w, out, sizeof(out));
	mesh_wbuf_le24(&w, 0x34bbff);
	cr_assert_not(w.err);
	cr_assert_eq(out[0], 0xff);
	cr_assert_eq(out[1], 0xbb);
	cr_assert_eq(out[2], 0x34);
	mesh_rbuf_init(&r, out, sizeof(out));
	cr_assert_eq(mesh_rbuf_le24(&r), 0x34bbff);
	cr_assert(mesh_rbuf_done(&r));
	mesh_rbuf_init(&r, out, 2);
	cr_assert_eq(mesh_rbuf_le24(&r), 0);
	cr_assert_not(mesh_rbuf_ok(&r));
}
