#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/pb_gatt.h"
#include "tests/util/tv.h"

static json_t *sample(void)
{
	json_t *t = tv_get("proxy_and_service_data[id=pb_gatt_sar_8_8]");

	cr_assert_not_null(t);
	return t;
}

/* The 65-octet Public Key PDU of §8.7.6, which §8.8 segments. */
static size_t public_key(uint8_t *out, size_t cap)
{
	int n = tv_bytes(tv_get("pb_adv.transactions[step=Provisioning Public Key (provisioner)]"),
			 "ProvisioningPDU", out, cap);

	cr_assert_eq(n, 65);
	return (size_t)n;
}

/* §8.8: the Public Key for ATT_MTU 23 segments into exactly the sample's four ATT values. */
Test(pb_gatt, s8_8_segment_public_key)
{
	json_t *vals = json_object_get(sample(), "att_values"), *v;
	uint8_t pk[PB_GATT_MSG_MAX], out[64], want[64];
	struct pb_gatt_tx tx;
	size_t n = public_key(pk, sizeof(pk)), i;

	cr_assert_eq(pb_gatt_tx_init(&tx, PB_GATT_TYPE_PROV, pk, n, 23), 0);
	json_array_foreach(vals, i, v)
	{
		int w = tv_hex(json_string_value(v), want, sizeof(want));
		int got = pb_gatt_tx_next(&tx, out, sizeof(out));

		cr_assert_eq(got, w, "segment %zu", i);
		cr_assert_arr_eq(out, want, (size_t)w, "segment %zu: %s", i,
				 tv_tohex(out, (size_t)got));
	}
	cr_assert_eq(pb_gatt_tx_next(&tx, out, sizeof(out)), 0, "nothing after the Last segment");
}

/* §8.8: the four ATT values reassemble into the Public Key PDU, type 0x03. */
Test(pb_gatt, s8_8_reassemble_public_key)
{
	json_t *vals = json_object_get(sample(), "att_values"), *v;
	uint8_t pk[PB_GATT_MSG_MAX], seg[64], type = 0xff;
	const uint8_t *msg = NULL;
	size_t n = public_key(pk, sizeof(pk)), mlen = 0, i;
	struct pb_gatt_rx rx;

	pb_gatt_rx_init(&rx);
	json_array_foreach(vals, i, v)
	{
		int w = tv_hex(json_string_value(v), seg, sizeof(seg));
		int rc = pb_gatt_rx_feed(&rx, seg, (size_t)w, 1000 + i, &type, &msg, &mlen);

		cr_assert_eq(rc, i + 1 == json_array_size(vals) ? 1 : 0, "segment %zu", i);
		if (rc == 0) {
			cr_assert_eq(pb_gatt_rx_next_deadline(&rx),
				     1000 + i + PB_GATT_SAR_TIMEOUT_MS);
		}
	}
	cr_assert_eq(type, PB_GATT_TYPE_PROV);
	cr_assert_eq(mlen, n);
	cr_assert_arr_eq(msg, pk, n);
	cr_assert_eq(pb_gatt_rx_next_deadline(&rx), UINT64_MAX);
}

/* §6.3.1: a message that fits one ATT value goes as SAR Complete; a larger MTU needs fewer
 * segments. */
Test(pb_gatt, s6_3_1_complete_and_large_mtu)
{
	uint8_t pk[PB_GATT_MSG_MAX], out[600], type;
	const uint8_t invite[] = {0x00, 0x05};
	const uint8_t *msg;
	size_t n = public_key(pk, sizeof(pk)), mlen;
	struct pb_gatt_tx tx;
	struct pb_gatt_rx rx;

	cr_assert_eq(pb_gatt_tx_init(&tx, PB_GATT_TYPE_PROV, invite, 2, 23), 0);
	cr_assert_eq(pb_gatt_tx_next(&tx, out, sizeof(out)), 3);
	cr_assert_eq(out[0], 0x03);
	cr_assert_eq(pb_gatt_tx_next(&tx, out, sizeof(out)), 0);

	/* ATT_MTU 69 leaves 65 data octets: the Public Key fits one PDU. */
	cr_assert_eq(pb_gatt_tx_init(&tx, PB_GATT_TYPE_PROV, pk, n, 69), 0);
	cr_assert_eq(pb_gatt_tx_next(&tx, out, sizeof(out)), 66);
	cr_assert_eq(out[0], 0x03);
	pb_gatt_rx_init(&rx);
	cr_assert_eq(pb_gatt_rx_feed(&rx, out, 66, 0, &type, &msg, &mlen), 1);
	cr_assert_eq(mlen, n);
	cr_assert_arr_eq(msg, pk, n);

	/* ATT_MTU 68: 64 + 1 octets, First then Last. */
	cr_assert_eq(pb_gatt_tx_init(&tx, PB_GATT_TYPE_PROV, pk, n, 68), 0);
	cr_assert_eq(pb_gatt_tx_next(&tx, out, sizeof(out)), 65);
	cr_assert_eq(out[0], 0x43);
	cr_assert_eq(pb_gatt_tx_next(&tx, out, 1), -ENOSPC, "buffer too small, nothing consumed");
	cr_assert_eq(pb_gatt_tx_next(&tx, out, sizeof(out)), 2);
	cr_assert_eq(out[0], 0xc3);
	cr_assert_eq(out[1], pk[64]);
}

/* Bad arguments to the segmenter are refused. */
Test(pb_gatt, tx_bad_arguments)
{
	uint8_t m[PB_GATT_MSG_MAX + 1] = {0};
	struct pb_gatt_tx tx;

	cr_assert_eq(pb_gatt_tx_init(&tx, PB_GATT_TYPE_PROV, m, 0, 23), -EINVAL);
	cr_assert_eq(pb_gatt_tx_init(&tx, PB_GATT_TYPE_PROV, m, sizeof(m), 23), -EINVAL);
	cr_assert_eq(pb_gatt_tx_init(&tx, PB_GATT_TYPE_PROV, m, 1, 22), -EINVAL);
	cr_assert_eq(pb_gatt_tx_init(&tx, 0x40, m, 1, 23), -EINVAL);
	cr_assert_eq(pb_gatt_tx_init(&tx, PB_GATT_TYPE_PROV, NULL, 1, 23), -EINVAL);
}

/*
 * §6.3.1: SAR sequence violations, empty PDUs and over-long messages are
 * rejected and leave the reassembler as it was: the sample still completes.
 */
Test(pb_gatt, s6_3_1_malformed_rejected_state_unchanged)
{
	json_t *vals = json_object_get(sample(), "att_values");
	uint8_t s[4][32], big[PB_GATT_MSG_MAX + 2], pk[PB_GATT_MSG_MAX], type;
	const uint8_t *msg;
	size_t sl[4], mlen, n = public_key(pk, sizeof(pk));
	struct pb_gatt_rx rx, before;

	for (unsigned i = 0; i < 4; i++) {
		sl[i] = (size_t)tv_hex(json_string_value(json_array_get(vals, i)), s[i], 32);
	}
	pb_gatt_rx_init(&rx);
	cr_assert_eq(pb_gatt_rx_feed(&rx, s[1], sl[1], 0, &type, &msg, &mlen), -EBADMSG,
		     "Continuation without First");
	cr_assert_eq(pb_gatt_rx_feed(&rx, s[3], sl[3], 0, &type, &msg, &mlen), -EBADMSG,
		     "Last without First");
	cr_assert_eq(pb_gatt_rx_feed(&rx, s[0], 0, 0, &type, &msg, &mlen), -EBADMSG, "empty");
	cr_assert_eq(pb_gatt_rx_feed(&rx, s[0], 1, 0, &type, &msg, &mlen), -EBADMSG, "no data");
	memset(big, 0, sizeof(big));
	big[0] = 0x03;
	cr_assert_eq(pb_gatt_rx_feed(&rx, big, sizeof(big), 0, &type, &msg, &mlen), -EBADMSG,
		     "Complete over the bound");

	cr_assert_eq(pb_gatt_rx_feed(&rx, s[0], sl[0], 0, &type, &msg, &mlen), 0);
	before = rx;
	cr_assert_eq(pb_gatt_rx_feed(&rx, s[0], sl[0], 0, &type, &msg, &mlen), -EBADMSG,
		     "First while reassembling");
	big[0] = 0x03;
	cr_assert_eq(pb_gatt_rx_feed(&rx, big, 3, 0, &type, &msg, &mlen), -EBADMSG,
		     "Complete while reassembling");
	s[1][0] = 0x80; /* Continuation of a Network PDU in the middle of a Provisioning PDU */
	cr_assert_eq(pb_gatt_rx_feed(&rx, s[1], sl[1], 0, &type, &msg, &mlen), -EBADMSG,
		     "type change");
	s[1][0] = 0x83;
	big[0] = 0x83;
	cr_assert_eq(pb_gatt_rx_feed(&rx, big, PB_GATT_MSG_MAX - 19 + 2, 0, &type, &msg, &mlen),
		     -EBADMSG, "Continuation past the bound");
	cr_assert_arr_eq(&rx, &before, sizeof(rx), "unchanged");
	for (unsigned i = 1; i < 3; i++) {
		cr_assert_eq(pb_gatt_rx_feed(&rx, s[i], sl[i], 0, &type, &msg, &mlen), 0);
	}
	cr_assert_eq(pb_gatt_rx_feed(&rx, s[3], sl[3], 0, &type, &msg, &mlen), 1);
	cr_assert_eq(mlen, n);
	cr_assert_arr_eq(msg, pk, n);
}

/* §6.3.1: 20 s without a segment drop the partial message; a new one then starts cleanly. */
Test(pb_gatt, s6_3_1_sar_timeout)
{
	json_t *vals = json_object_get(sample(), "att_values");
	uint8_t s0[32], s1[32], type;
	const uint8_t *msg;
	size_t l0 = (size_t)tv_hex(json_string_value(json_array_get(vals, 0)), s0, 32);
	size_t l1 = (size_t)tv_hex(json_string_value(json_array_get(vals, 1)), s1, 32);
	size_t mlen;
	struct pb_gatt_rx rx;

	pb_gatt_rx_init(&rx);
	cr_assert_eq(pb_gatt_rx_feed(&rx, s0, l0, 5000, &type, &msg, &mlen), 0);
	cr_assert_eq(pb_gatt_rx_feed(&rx, s1, l1, 6000, &type, &msg, &mlen), 0);
	cr_assert_eq(pb_gatt_rx_next_deadline(&rx), 6000 + PB_GATT_SAR_TIMEOUT_MS);
	cr_assert_eq(pb_gatt_rx_tick(&rx, 6000 + PB_GATT_SAR_TIMEOUT_MS - 1), 0);
	cr_assert_eq(pb_gatt_rx_tick(&rx, 6000 + PB_GATT_SAR_TIMEOUT_MS), -ETIMEDOUT);
	cr_assert_eq(pb_gatt_rx_next_deadline(&rx), UINT64_MAX);
	cr_assert_eq(pb_gatt_rx_feed(&rx, s1, l1, 30000, &type, &msg, &mlen), -EBADMSG,
		     "the old message is gone");
	cr_assert_eq(pb_gatt_rx_feed(&rx, s0, l0, 30000, &type, &msg, &mlen), 0);
}
