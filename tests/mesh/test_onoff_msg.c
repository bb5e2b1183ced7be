#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/onoff_msg.h"

/* Generic OnOff Set without transition: OnOff ‖ TID, two octets, and back. */
Test(onoff_msg, set_short)
{
	const uint8_t want[] = {0x01, 0x2a};
	struct onoff_set m = {.onoff = 1, .tid = 0x2a}, d;
	uint8_t out[8];
	size_t len;

	cr_assert_eq(onoff_msg_set_encode(&m, out, sizeof(out), &len), 0);
	cr_assert_eq(len, 2);
	cr_assert_arr_eq(out, want, 2);
	cr_assert_eq(onoff_msg_set_decode(want, 2, &d), 0);
	cr_assert_eq(d.onoff, 1);
	cr_assert_eq(d.tid, 0x2a);
	cr_assert_not(d.has_transition);
}

/* Set with Transition Time (5 steps of 1 s = 0x45) and Delay (20 × 5 ms = 0x14). */
Test(onoff_msg, set_with_transition)
{
	const uint8_t want[] = {0x00, 0x07, 0x45, 0x14};
	struct onoff_set m = {.tid = 7, .has_transition = true, .transition = 0x45, .delay = 0x14};
	struct onoff_set d;
	uint8_t out[8];
	size_t len;

	cr_assert_eq(onoff_msg_set_encode(&m, out, sizeof(out), &len), 0);
	cr_assert_eq(len, 4);
	cr_assert_arr_eq(out, want, 4);
	cr_assert_eq(onoff_msg_set_decode(want, 4, &d), 0);
	cr_assert(d.has_transition);
	cr_assert_eq(d.transition, 0x45);
	cr_assert_eq(d.delay, 0x14);
	cr_assert_eq(onoff_tt_ms(d.transition), 5000);
}

/* Status: Present alone (1 octet), or Present ‖ Target ‖ Remaining Time, where 0x3f steps
 * ("unknown") is allowed. */
Test(onoff_msg, status)
{
	const uint8_t shortp[] = {0x01};
	const uint8_t longp[] = {0x00, 0x01, 0x3f};
	struct onoff_status m = {.present = 0, .has_target = true, .target = 1, .remaining = 0x3f};
	struct onoff_status d;
	uint8_t out[8];
	size_t len;

	cr_assert_eq(onoff_msg_status_encode(&m, out, sizeof(out), &len), 0);
	cr_assert_eq(len, 3);
	cr_assert_arr_eq(out, longp, 3);
	cr_assert_eq(onoff_msg_status_decode(longp, 3, &d), 0);
	cr_assert(d.has_target);
	cr_assert_eq(d.target, 1);
	cr_assert_eq(onoff_tt_ms(d.remaining), ONOFF_TT_UNKNOWN_MS);
	cr_assert_eq(onoff_msg_status_decode(shortp, 1, &d), 0);
	cr_assert_eq(d.present, 1);
	cr_assert_not(d.has_target);
	m = (struct onoff_status){.present = 1};
	cr_assert_eq(onoff_msg_status_encode(&m, out, sizeof(out), &len), 0);
	cr_assert_eq(len, 1);
	cr_assert_eq(out[0], 0x01);
}

/* Transition Time resolutions: 100 ms, 1 s, 10 s, 10 min per step. */
Test(onoff_msg, transition_time_units)
{
	cr_assert_eq(onoff_tt_ms(0x00), 0);
	cr_assert_eq(onoff_tt_ms(0x0a), 1000);
	cr_assert_eq(onoff_tt_ms(0x41), 1000);
	cr_assert_eq(onoff_tt_ms(0x82), 20000);
	cr_assert_eq(onoff_tt_ms(0xc3), 1800000);
	cr_assert_eq(onoff_tt_ms(0xff), ONOFF_TT_UNKNOWN_MS);
}

/* Malformed Sets: OnOff 2, unknown transition steps, 1/3/5 octets; the output keeps its canary. */
Test(onoff_msg, set_malformed)
{
	static const struct {
		uint8_t p[5];
		size_t len;
	} bad[] = {
	    {{0x02, 0x00}, 2},
	    {{0xff, 0x00}, 2},
	    {{0x01, 0x00, 0x3f, 0x00}, 4},
	    {{0x01, 0x00, 0xff, 0x00}, 4},
	    {{0x01}, 1},
	    {{0x01, 0x00, 0x01}, 3},
	    {{0x01, 0x00, 0x01, 0x00, 0x00}, 5},
	    {{0}, 0},
	};
	struct onoff_set out, canary;
	size_t i;

	memset(&out, 0xa5, sizeof(out));
	memcpy(&canary, &out, sizeof(out));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(onoff_msg_set_decode(bad[i].p, bad[i].len, &out), -EBADMSG, "case %zu",
			     i);
		cr_assert_arr_eq(&out, &canary, sizeof(out));
	}
}

/* Malformed Status: Present or Target above 1, 0/2/4 octets; the output keeps its canary. */
Test(onoff_msg, status_malformed)
{
	static const struct {
		uint8_t p[4];
		size_t len;
	} bad[] = {
	    {{0x02}, 1},       {{0x00, 0x02, 0x00}, 3},       {{0}, 0},
	    {{0x00, 0x01}, 2}, {{0x00, 0x01, 0x00, 0x00}, 4},
	};
	struct onoff_status out, canary;
	size_t i;

	memset(&out, 0xa5, sizeof(out));
	memcpy(&canary, &out, sizeof(out));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(onoff_msg_status_decode(bad[i].p, bad[i].len, &out), -EBADMSG,
			     "case %zu", i);
		cr_assert_arr_eq(&out, &canary, sizeof(out));
	}
}

/* Encoding refuses prohibited values and a too-small buffer. */
Test(onoff_msg, encode_errors)
{
	struct onoff_set s = {.onoff = 2};
	struct onoff_status st = {.present = 1, .has_target = true, .target = 3};
	uint8_t out[4];
	size_t len = 77;

	cr_assert_eq(onoff_msg_set_encode(&s, out, sizeof(out), &len), -EINVAL);
	s = (struct onoff_set){.onoff = 1, .has_transition = true, .transition = 0x7f};
	cr_assert_eq(onoff_msg_set_encode(&s, out, sizeof(out), &len), -EINVAL);
	cr_assert_eq(onoff_msg_status_encode(&st, out, sizeof(out), &len), -EINVAL);
	s.transition = 0x01;
	cr_assert_eq(onoff_msg_set_encode(&s, out, 3, &len), -ENOSPC);
	cr_assert_eq(len, 77);
}
