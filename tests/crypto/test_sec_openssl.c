/*
 * crypto/sec_openssl.c against published answers: AES-256-GCM test cases 13,
 * 14 and 16 of McGrew & Viega, "The Galois/Counter Mode of Operation"
 * (the vectors NIST's GCM validation reuses), and the SHA-256 examples of
 * FIPS 180-2 appendix B (the empty string as well).  Then the properties the
 * callers rely on: a failed open leaves no plaintext, wipe zeroes, equal
 * compares every octet, the CSPRNG fills its buffer.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "crypto/sec.h"
#include "tests/util/tv.h"

static size_t hex(const char *s, uint8_t *out, size_t cap)
{
	int n = tv_hex(s, out, cap);

	cr_assert_geq(n, 0, "bad hex in test vector");
	return (size_t)n;
}

/* GCM test case 16: 256-bit key, 60-octet plaintext (not a block multiple), 20 octets of AAD. */
#define TC16_KEY "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define TC16_IV "cafebabefacedbaddecaf888"
#define TC16_AAD "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define TC16_PT                                                                                    \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"                         \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define TC16_CT                                                                                    \
	"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"                         \
	"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
#define TC16_TAG "76fc6ece0f4e1768cddf8853bb2d551b"

struct tc16 {
	uint8_t key[32], iv[12], aad[20], pt[60], ct[60], tag[16];
};

static void tc16_load(struct tc16 *v)
{
	cr_assert_eq(hex(TC16_KEY, v->key, sizeof(v->key)), sizeof(v->key));
	cr_assert_eq(hex(TC16_IV, v->iv, sizeof(v->iv)), sizeof(v->iv));
	cr_assert_eq(hex(TC16_AAD, v->aad, sizeof(v->aad)), sizeof(v->aad));
	cr_assert_eq(hex(TC16_PT, v->pt, sizeof(v->pt)), sizeof(v->pt));
	cr_assert_eq(hex(TC16_CT, v->ct, sizeof(v->ct)), sizeof(v->ct));
	cr_assert_eq(hex(TC16_TAG, v->tag, sizeof(v->tag)), sizeof(v->tag));
}

Test(sec, gcm256_seal_test_case_16)
{
	struct tc16 v;
	uint8_t ct[60], tag[16];

	tc16_load(&v);
	cr_assert_eq(
	    sec_gcm256_seal(v.key, v.iv, v.aad, sizeof(v.aad), v.pt, sizeof(v.pt), ct, tag), 0);
	cr_assert_arr_eq(ct, v.ct, sizeof(ct), "ct %s", tv_tohex(ct, sizeof(ct)));
	cr_assert_arr_eq(tag, v.tag, sizeof(tag), "tag %s", tv_tohex(tag, sizeof(tag)));
}

Test(sec, gcm256_open_test_case_16_in_place)
{
	struct tc16 v;
	uint8_t buf[60];

	tc16_load(&v);
	memcpy(buf, v.ct, sizeof(buf));
	cr_assert_eq(
	    sec_gcm256_open(v.key, v.iv, v.aad, sizeof(v.aad), buf, sizeof(buf), buf, v.tag), 0);
	cr_assert_arr_eq(buf, v.pt, sizeof(buf));
}

/* Test cases 13 and 14: zero key and IV; no AAD (NULL), empty and one-block plaintexts. */
Test(sec, gcm256_test_cases_13_14)
{
	uint8_t key[32] = {0}, iv[12] = {0}, pt[16] = {0}, ct[16], tag[16], want[16], out[16];

	cr_assert_eq(sec_gcm256_seal(key, iv, NULL, 0, NULL, 0, NULL, tag), 0);
	hex("530f8afbc74536b9a963b4f1c4cb738b", want, sizeof(want));
	cr_assert_arr_eq(tag, want, sizeof(tag));
	cr_assert_eq(sec_gcm256_open(key, iv, NULL, 0, NULL, 0, NULL, want), 0);

	cr_assert_eq(sec_gcm256_seal(key, iv, NULL, 0, pt, sizeof(pt), ct, tag), 0);
	hex("cea7403d4d606b6e074ec5d3baf39d18", want, sizeof(want));
	cr_assert_arr_eq(ct, want, sizeof(ct));
	hex("d0d1c8a799996bf0265b98b5d48ab919", want, sizeof(want));
	cr_assert_arr_eq(tag, want, sizeof(tag));
	cr_assert_eq(sec_gcm256_open(key, iv, NULL, 0, ct, sizeof(ct), out, tag), 0);
	cr_assert_arr_eq(out, pt, sizeof(out));
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i]) {
			return false;
		}
	}
	return true;
}

/*
 * Every authenticated input matters: one flipped bit in the tag, the
 * ciphertext, the AAD or the IV fails with -EACCES, and the output that
 * decryption had already written is wiped.
 */
Test(sec, gcm256_open_rejects_any_change)
{
	struct tc16 v;
	uint8_t out[60];
	uint8_t *field[] = {v.tag, v.ct + 59, v.aad + 19, v.iv + 11};

	for (size_t i = 0; i < sizeof(field) / sizeof(field[0]); i++) {
		tc16_load(&v);
		*field[i] ^= 0x01;
		memset(out, 0xa5, sizeof(out));
		cr_assert_eq(sec_gcm256_open(v.key, v.iv, v.aad, sizeof(v.aad), v.ct, sizeof(v.ct),
					     out, v.tag),
			     -EACCES, "change %zu", i);
		cr_assert(all_zero(out, sizeof(out)), "change %zu left %s", i,
			  tv_tohex(out, sizeof(out)));
	}
}

/* Lengths OpenSSL's int interface cannot take are refused before any buffer is read. */
Test(sec, gcm256_too_long)
{
	uint8_t key[32] = {0}, iv[12] = {0}, b[1] = {0}, tag[16] = {0};
	size_t huge = (size_t)INT32_MAX + 1;

	cr_assert_eq(sec_gcm256_seal(key, iv, NULL, 0, b, huge, b, tag), -EINVAL);
	cr_assert_eq(sec_gcm256_seal(key, iv, b, huge, b, 1, b, tag), -EINVAL);
	cr_assert_eq(sec_gcm256_open(key, iv, NULL, 0, b, huge, b, tag), -EINVAL);
	cr_assert_eq(sec_random(b, huge), -EINVAL);
}

/* FIPS 180-2 B.1 ("abc"), B.2 (two blocks) and the empty message (NULL, 0). */
Test(sec, sha256_fips_180_2)
{
	static const struct {
		const char *msg, *digest;
	} kat[] = {
	    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	    {NULL, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	};
	uint8_t out[SEC_SHA256_LEN], want[SEC_SHA256_LEN];

	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		const char *m = kat[i].msg;

		hex(kat[i].digest, want, sizeof(want));
		cr_assert_eq(sec_sha256((const uint8_t *)m, m ? strlen(m) : 0, out), 0);
		cr_assert_arr_eq(out, want, sizeof(out), "%zu: %s", i, tv_tohex(out, sizeof(out)));
	}
}

/* Wipe zeroes exactly the range it is given; NULL and 0 are no-ops. */
Test(sec, wipe)
{
	uint8_t buf[32];

	memset(buf, 0xff, sizeof(buf));
	sec_wipe(buf + 1, 30);
	cr_assert_eq(buf[0], 0xff);
	cr_assert(all_zero(buf + 1, 30));
	cr_assert_eq(buf[31], 0xff);
	sec_wipe(buf, 0);
	cr_assert_eq(buf[0], 0xff);
	sec_wipe(NULL, 16);
}

/* Equal looks at every octet, the first and the last included; zero octets are equal. */
Test(sec, equal)
{
	uint8_t a[16], b[16];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	cr_assert(sec_equal(a, b, sizeof(a)));
	b[0] ^= 0x80;
	cr_assert_not(sec_equal(a, b, sizeof(a)));
	b[0] = a[0];
	b[15] ^= 0x01;
	cr_assert_not(sec_equal(a, b, sizeof(a)));
	cr_assert(sec_equal(a, b, 15));
	cr_assert(sec_equal(a, b, 0));
}

/* The CSPRNG fills the whole buffer: two 32-octet draws differ and neither is all zero. */
Test(sec, random_fills)
{
	uint8_t a[32] = {0}, b[32] = {0};

	cr_assert_eq(sec_random(a, sizeof(a)), 0);
	cr_assert_eq(sec_random(b, sizeof(b)), 0);
	cr_assert_not(all_zero(a, sizeof(a)));
	cr_assert(memcmp(a, b, sizeof(a)) != 0);
	cr_assert_eq(sec_random(a, 0), 0);
}
