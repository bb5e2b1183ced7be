/*
 * mesh/heartbeat.c: the Heartbeat control message parameters (§3.6.5.10)
 * and the Count/Period Log conversions (§4.2.17, §4.2.18).  The spec has no
 * heartbeat sample, so the octets come from the layout in §3.6.5.10.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/comp.h"
#include "mesh/heartbeat.h"

/* InitTTL 5 with Relay+Friend is 05 0005 (Features big-endian, like every transport header). */
Test(heartbeat, s3_6_5_10_encode)
{
	struct mesh_hb hb = {.init_ttl = 0x05, .features = MESH_FEAT_RELAY | MESH_FEAT_FRIEND};
	uint8_t out[MESH_HB_LEN];

	cr_assert_eq(mesh_hb_encode(&hb, out), 0);
	cr_assert_arr_eq(out, ((uint8_t[]){0x05, 0x00, 0x05}), 3);
	hb.init_ttl = 0x7f;
	hb.features = 0x8001;
	cr_assert_eq(mesh_hb_encode(&hb, out), 0);
	cr_assert_arr_eq(out, ((uint8_t[]){0x7f, 0x80, 0x01}), 3);
	hb.init_ttl = 0x80;
	cr_assert_eq(mesh_hb_encode(&hb, out), -EINVAL);
	cr_assert_arr_eq(out, ((uint8_t[]){0x7f, 0x80, 0x01}), 3, "unchanged on failure");
}

/* Decoding ignores the RFU bit and reads Features big-endian. */
Test(heartbeat, s3_6_5_10_decode)
{
	struct mesh_hb hb;

	cr_assert_eq(mesh_hb_decode((const uint8_t[]){0x85, 0x00, 0x0f}, 3, &hb), 0);
	cr_assert_eq(hb.init_ttl, 0x05);
	cr_assert_eq(hb.features, 0x000f);
}

/* Parameters of any length but 3 are -EBADMSG and leave the output alone. */
Test(heartbeat, s3_6_5_10_malformed)
{
	static const uint8_t p[] = {0x05, 0x00, 0x01, 0x00};
	struct mesh_hb hb = {.init_ttl = 0x11, .features = 0x2222};

	cr_assert_eq(mesh_hb_decode(p, 0, &hb), -EBADMSG);
	cr_assert_eq(mesh_hb_decode(p, 2, &hb), -EBADMSG);
	cr_assert_eq(mesh_hb_decode(p, 4, &hb), -EBADMSG);
	cr_assert_eq(hb.init_ttl, 0x11);
	cr_assert_eq(hb.features, 0x2222);
}

/* Hops = InitTTL - RxTTL + 1; a TTL that grew is malformed. */
Test(heartbeat, s3_6_7_hops)
{
	uint8_t h = 0;

	cr_assert_eq(mesh_hb_hops(5, 5, &h), 0);
	cr_assert_eq(h, 1, "heard directly");
	cr_assert_eq(mesh_hb_hops(0x7f, 0, &h), 0);
	cr_assert_eq(h, 0x80);
	cr_assert_eq(mesh_hb_hops(3, 4, &h), -EBADMSG);
	cr_assert_eq(h, 0x80);
}

/* Count Log: 0 → 0, n → 2^(n-1), 0x11 → 0xfffe, 0xff → indefinitely, others refused. */
Test(heartbeat, s4_2_17_count_log)
{
	uint16_t c = 0x1234;

	cr_assert_eq(mesh_hb_count_from_log(0x00, &c), 0);
	cr_assert_eq(c, 0);
	cr_assert_eq(mesh_hb_count_from_log(0x01, &c), 0);
	cr_assert_eq(c, 1);
	cr_assert_eq(mesh_hb_count_from_log(0x05, &c), 0);
	cr_assert_eq(c, 16);
	cr_assert_eq(mesh_hb_count_from_log(0x10, &c), 0);
	cr_assert_eq(c, 0x8000);
	cr_assert_eq(mesh_hb_count_from_log(0x11, &c), 0);
	cr_assert_eq(c, 0xfffe);
	cr_assert_eq(mesh_hb_count_from_log(0xff, &c), 0);
	cr_assert_eq(c, 0xffff);
	cr_assert_eq(mesh_hb_count_from_log(0x12, &c), -EINVAL);
	cr_assert_eq(mesh_hb_count_from_log(0xfe, &c), -EINVAL);
	cr_assert_eq(c, 0xffff);
}

/* Count → Count Log: the n with 2^(n-1) <= count < 2^n; 0xffff is 0xff. */
Test(heartbeat, s4_2_18_count_to_log)
{
	cr_assert_eq(mesh_hb_count_log(0), 0x00);
	cr_assert_eq(mesh_hb_count_log(1), 0x01);
	cr_assert_eq(mesh_hb_count_log(2), 0x02);
	cr_assert_eq(mesh_hb_count_log(3), 0x02);
	cr_assert_eq(mesh_hb_count_log(4), 0x03);
	cr_assert_eq(mesh_hb_count_log(0x8000), 0x10);
	cr_assert_eq(mesh_hb_count_log(0xfffe), 0x10);
	cr_assert_eq(mesh_hb_count_log(0xffff), 0xff);
}

/* Period Log: n → 2^(n-1) seconds up to 0x11; seconds → log, capped at 0x11. */
Test(heartbeat, s4_2_17_period_log)
{
	uint32_t s = 7;

	cr_assert_eq(mesh_hb_period_from_log(0x00, &s), 0);
	cr_assert_eq(s, 0);
	cr_assert_eq(mesh_hb_period_from_log(0x04, &s), 0);
	cr_assert_eq(s, 8);
	cr_assert_eq(mesh_hb_period_from_log(0x11, &s), 0);
	cr_assert_eq(s, 65536);
	cr_assert_eq(mesh_hb_period_from_log(0x12, &s), -EINVAL);
	cr_assert_eq(mesh_hb_period_from_log(0xff, &s), -EINVAL);
	cr_assert_eq(s, 65536);
	cr_assert_eq(mesh_hb_period_log(0), 0x00);
	cr_assert_eq(mesh_hb_period_log(8), 0x04);
	cr_assert_eq(mesh_hb_period_log(9), 0x04);
	cr_assert_eq(mesh_hb_period_log(65536), 0x11);
	cr_assert_eq(mesh_hb_period_log(1000000), 0x11);
}
