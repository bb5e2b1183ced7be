#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/unprov_beacon.h"
#include "tests/util/tv.h"

/* §8.4.1: the beacon without URI Hash encodes and decodes to the sample octets. */
Test(unprov_beacon, s8_4_1_encode_decode)
{
	json_t *t = tv_get("beacons[id=unprov_beacon_8_4_1]");
	uint8_t want[32], out[32], oob[2];
	struct unprov_beacon b = {0}, d;
	int n = tv_bytes(t, "Beacon", want, sizeof(want));
	size_t len = 0;

	cr_assert_eq(n, UNPROV_BEACON_LEN);
	cr_assert_eq(tv_bytes(t, "DeviceUUID", b.uuid, 16), 16);
	cr_assert_eq(tv_bytes(t, "OOBInformation", oob, 2), 2);
	b.oob_info = (uint16_t)(oob[0] << 8 | oob[1]);
	cr_assert_eq(b.oob_info, UNPROV_OOB_STRING | UNPROV_OOB_ON_PAPER | UNPROV_OOB_ON_DEVICE);
	cr_assert_eq(unprov_beacon_encode(&b, out, sizeof(out), &len), 0);
	cr_assert_eq(len, (size_t)n);
	cr_assert_arr_eq(out, want, len);

	cr_assert_eq(unprov_beacon_decode(want, (size_t)n, &d), 0);
	cr_assert_arr_eq(d.uuid, b.uuid, 16);
	cr_assert_eq(d.oob_info, b.oob_info);
	cr_assert_not(d.has_uri_hash);
}

/* §8.4.2: the URI Hash is s1(URI data)[0..3]; the beacon with it encodes and decodes. */
Test(unprov_beacon, s8_4_2_uri_hash)
{
	json_t *t = tv_get("beacons[id=unprov_beacon_uri_8_4_2]");
	uint8_t uri[64], want[32], out[32], oob[2], hash[4];
	struct unprov_beacon b = {0}, d;
	int ul = tv_bytes(t, "URI_data", uri, sizeof(uri));
	int n = tv_bytes(t, "Beacon", want, sizeof(want));
	size_t len = 0;

	cr_assert_gt(ul, 0);
	cr_assert_eq(n, UNPROV_BEACON_URI_LEN);
	cr_assert_eq(unprov_beacon_uri_hash(uri, (size_t)ul, hash), 0);
	cr_assert_eq(tv_bytes(t, "URI_hash_in_beacon", out, 4), 4);
	cr_assert_arr_eq(hash, out, 4);

	cr_assert_eq(tv_bytes(t, "DeviceUUID", b.uuid, 16), 16);
	cr_assert_eq(tv_bytes(t, "OOBInformation", oob, 2), 2);
	b.oob_info = (uint16_t)(oob[0] << 8 | oob[1]);
	cr_assert_eq(b.oob_info, UNPROV_OOB_NUMBER | UNPROV_OOB_IN_MANUAL);
	b.has_uri_hash = true;
	memcpy(b.uri_hash, hash, 4);
	cr_assert_eq(unprov_beacon_encode(&b, out, sizeof(out), &len), 0);
	cr_assert_eq(len, (size_t)n);
	cr_assert_arr_eq(out, want, len);

	cr_assert_eq(unprov_beacon_decode(want, (size_t)n, &d), 0);
	cr_assert(d.has_uri_hash);
	cr_assert_arr_eq(d.uri_hash, hash, 4);
	cr_assert_eq(d.oob_info, b.oob_info);
	cr_assert_arr_eq(d.uuid, b.uuid, 16);
}

/* Lengths other than 19 and 23 and Beacon Types other than 0x00 are rejected; *b is untouched. */
Test(unprov_beacon, malformed_rejected)
{
	static const size_t bad_len[] = {0, 1, 18, 20, 21, 22, 24, 29};
	uint8_t in[32];
	struct unprov_beacon d, keep;
	int n = tv_bytes(tv_get("beacons[id=unprov_beacon_uri_8_4_2]"), "Beacon", in, sizeof(in));

	cr_assert_eq(n, UNPROV_BEACON_URI_LEN);
	memset(&d, 0xa5, sizeof(d));
	keep = d;
	for (size_t i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
		cr_assert_eq(unprov_beacon_decode(in, bad_len[i], &d), -EBADMSG, "length %zu",
			     bad_len[i]);
	}
	in[0] = 0x01; /* a Secure Network beacon type */
	cr_assert_eq(unprov_beacon_decode(in, UNPROV_BEACON_URI_LEN, &d), -EBADMSG);
	cr_assert_eq(unprov_beacon_decode(in, UNPROV_BEACON_LEN, &d), -EBADMSG);
	in[0] = 0x02;
	cr_assert_eq(unprov_beacon_decode(in, UNPROV_BEACON_LEN, &d), -EBADMSG);
	cr_assert_arr_eq(&d, &keep, sizeof(d));
}

/* Encoding into a buffer that is one octet short fails with -ENOSPC. */
Test(unprov_beacon, encode_no_space)
{
	struct unprov_beacon b = {.has_uri_hash = true};
	uint8_t out[32];
	size_t len = 7;

	cr_assert_eq(unprov_beacon_encode(&b, out, UNPROV_BEACON_URI_LEN - 1, &len), -ENOSPC);
	cr_assert_eq(len, 7);
	b.has_uri_hash = false;
	cr_assert_eq(unprov_beacon_encode(&b, out, UNPROV_BEACON_LEN - 1, &len), -ENOSPC);
	cr_assert_eq(unprov_beacon_encode(&b, out, UNPROV_BEACON_LEN, &len), 0);
	cr_assert_eq(len, UNPROV_BEACON_LEN);
}
