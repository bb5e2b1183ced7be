/*
 * crypto/cert.c: device certificate chains made for each test with the
 * OpenSSL API (tests/util/certgen.h; no key is committed), judged at a
 * fixed clock.  Each refusal is checked for its errno and for the words a
 * technician reads.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "crypto/cert.h"
#include "crypto/sec.h"
#include "tests/util/certgen.h"

#define T_2026_03_01 1772323200 /* 2026-03-01T00:00:00Z */
#define NOW 1780272000          /* 2026-06-01T00:00:00Z */
#define YEAR (365 * 86400L)

static const uint8_t uuid[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
				 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
#define UUID_PLAIN "0123456789abcdeffedcba9876543210"
#define UUID_DASHED "01234567-89AB-CDEF-FEDC-BA9876543210"

static struct cg_cert root, inter, dev;
static struct cert_trust *trust;
static struct cert_check chk;
static struct cert_info info;
static char reason[CERT_REASON_MAX];

static void setup(void)
{
	cg_make(&root, cg_key("P-256"), "Test Manufacturer Root", NULL, true, NOW - YEAR,
		NOW + 10 * YEAR);
	cg_make(&inter, cg_key("P-256"), "Test Manufacturer Devices", &root, true, NOW - YEAR,
		NOW + 5 * YEAR);
	cg_make(&dev, cg_key("P-256"), UUID_DASHED, &inter, false, NOW - 86400, NOW + YEAR);
	cr_assert_eq(cert_trust_new(&trust), 0);
	cr_assert_eq(cert_trust_add_der(trust, root.der, root.der_len), 0);
	memset(&chk, 0, sizeof(chk));
	memcpy(chk.uuid, uuid, 16);
	chk.now = NOW;
	memset(reason, 0, sizeof(reason));
}

static void teardown(void)
{
	cert_trust_free(trust);
	cg_free(&dev);
	cg_free(&inter);
	cg_free(&root);
}

TestSuite(cert, .init = setup, .fini = teardown);

static int verify2(const struct cg_cert *leaf, const struct cg_cert *mid)
{
	struct cert_der chain[2] = {{leaf->der, leaf->der_len}, {mid->der, mid->der_len}};

	return cert_verify(trust, chain, 2, &chk, &info, reason, sizeof(reason));
}

static void assert_refused(int got, int err, const char *why)
{
	static const uint8_t zero[64];

	cr_assert_eq(got, err, "got %d (%s), want %d", got, reason, err);
	cr_assert_str_eq(reason, why);
	cr_assert(memcmp(info.pub_key, zero, 64) == 0, "a key left a refused chain");
}

/* The leaf's X || Y straight from OpenSSL, to compare with what cert_verify returns. */
static void leaf_xy(EVP_PKEY *k, uint8_t out[64])
{
	BIGNUM *x = NULL, *y = NULL;

	cr_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x));
	cr_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y));
	cr_assert_eq(BN_bn2binpad(x, out, 32), 32);
	cr_assert_eq(BN_bn2binpad(y, out + 32, 32), 32);
	BN_free(x);
	BN_free(y);
}

Test(cert, valid_chain_gives_key_and_details)
{
	uint8_t want[64], fp[32];

	cr_assert_eq(verify2(&dev, &inter), 0, "%s", reason);
	leaf_xy(dev.key, want);
	cr_assert(memcmp(info.pub_key, want, 64) == 0);
	cr_assert_eq(sec_sha256(dev.der, dev.der_len, fp), 0);
	cr_assert(memcmp(info.sha256, fp, 32) == 0);
	cr_assert_str_eq(info.subject, "CN=" UUID_DASHED ",O=meshgw test");
	cr_assert_str_eq(info.issuer, "CN=Test Manufacturer Devices,O=meshgw test");
	cr_assert_eq(info.not_before, NOW - 86400);
	cr_assert_eq(info.not_after, NOW + YEAR);
}

Test(cert, uuid_spellings)
{
	static const char *const ok[] = {UUID_PLAIN, "0123456789ABCDEFFEDCBA9876543210",
					 "01234567-89ab-cdef-fedc-ba9876543210"};
	static const char *const other[] = {
	    "0123456789abcdeffedcba9876543211",     /* another device */
	    "0123456789abcdeffedcba987654321",      /* one digit short */
	    "012345678-9ab-cdef-fedc-ba9876543210", /* dash misplaced */
	    "urn:uuid:01234567-89ab-cdef-fedc-ba9876543210", "0123456789abcdeffedcba987654321g"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct cg_cert d;

		cg_make(&d, cg_key("P-256"), ok[i], &inter, false, NOW - 1, NOW + 1);
		cr_assert_eq(verify2(&d, &inter), 0, "%s: %s", ok[i], reason);
		cg_free(&d);
	}
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		struct cg_cert d;

		cg_make(&d, cg_key("P-256"), other[i], &inter, false, NOW - 1, NOW + 1);
		assert_refused(verify2(&d, &inter), -EACCES, "certificate is for another device");
		cg_free(&d);
	}
}

Test(cert, expired)
{
	struct cg_cert d;

	cg_make(&d, cg_key("P-256"), UUID_PLAIN, &inter, false, NOW - YEAR, T_2026_03_01);
	assert_refused(verify2(&d, &inter), -EKEYEXPIRED, "certificate expired 2026-03-01");
	/* The same certificate on a clock before that day is fine. */
	chk.now = T_2026_03_01 - 86400;
	cr_assert_eq(verify2(&d, &inter), 0, "%s", reason);
	cg_free(&d);
}

Test(cert, not_yet_valid)
{
	struct cg_cert d;

	cg_make(&d, cg_key("P-256"), UUID_PLAIN, &inter, false, NOW + 86400, NOW + YEAR);
	assert_refused(verify2(&d, &inter), -EKEYEXPIRED,
		       "certificate not valid before 2026-06-02");
	cg_free(&d);
}

Test(cert, unknown_root)
{
	struct cg_cert other_root, other_inter, d;

	cg_make(&other_root, cg_key("P-256"), "Someone Else", NULL, true, NOW - YEAR, NOW + YEAR);
	cg_make(&other_inter, cg_key("P-256"), "Someone Else Devices", &other_root, true,
		NOW - YEAR, NOW + YEAR);
	cg_make(&d, cg_key("P-256"), UUID_PLAIN, &other_inter, false, NOW - 1, NOW + 1);
	assert_refused(verify2(&d, &other_inter), -EKEYREJECTED,
		       "not signed by a trusted manufacturer");
	cg_free(&d);
	cg_free(&other_inter);
	cg_free(&other_root);
}

Test(cert, missing_intermediate)
{
	struct cert_der chain[1] = {{dev.der, dev.der_len}};

	assert_refused(cert_verify(trust, chain, 1, &chk, &info, reason, sizeof(reason)),
		       -EKEYREJECTED, "not signed by a trusted manufacturer");
}

Test(cert, corrupt_signature)
{
	/* The signature is the DER's tail: flip one of its bits. */
	dev.der[dev.der_len - 5] ^= 0x01;
	assert_refused(verify2(&dev, &inter), -EKEYREJECTED,
		       "not signed by a trusted manufacturer");
}

Test(cert, truncated_or_padded_der)
{
	struct cert_der chain[2] = {{dev.der, dev.der_len - 1}, {inter.der, inter.der_len}};

	assert_refused(cert_verify(trust, chain, 2, &chk, &info, reason, sizeof(reason)), -EBADMSG,
		       "certificate is damaged");
	dev.der[dev.der_len] = 0x00;
	chain[0].len = dev.der_len + 1;
	assert_refused(cert_verify(trust, chain, 2, &chk, &info, reason, sizeof(reason)), -EBADMSG,
		       "certificate is damaged");
	chain[0].len = dev.der_len;
	chain[1].len = 10;
	assert_refused(cert_verify(trust, chain, 2, &chk, &info, reason, sizeof(reason)), -EBADMSG,
		       "certificate is damaged");
}

Test(cert, chain_too_deep)
{
	struct cg_cert i2, i3, d;
	struct cert_der chain[4];

	cg_make(&i2, cg_key("P-256"), "Sub CA 2", &inter, true, NOW - YEAR, NOW + YEAR);
	cg_make(&i3, cg_key("P-256"), "Sub CA 3", &i2, true, NOW - YEAR, NOW + YEAR);
	cg_make(&d, cg_key("P-256"), UUID_PLAIN, &i3, false, NOW - 1, NOW + 1);
	chain[0] = (struct cert_der){d.der, d.der_len};
	chain[1] = (struct cert_der){i3.der, i3.der_len};
	chain[2] = (struct cert_der){i2.der, i2.der_len};
	chain[3] = (struct cert_der){inter.der, inter.der_len};
	cr_assert_eq(cert_verify(trust, chain, 4, &chk, &info, reason, sizeof(reason)), 0, "%s",
		     reason);
	chk.max_chain = 3;
	assert_refused(cert_verify(trust, chain, 4, &chk, &info, reason, sizeof(reason)), -E2BIG,
		       "chain longer than 3");
	/* Three sent, the fourth found in the store: OpenSSL's depth check. */
	cr_assert_eq(cert_trust_add_der(trust, inter.der, inter.der_len), 0);
	assert_refused(cert_verify(trust, chain, 3, &chk, &info, reason, sizeof(reason)), -E2BIG,
		       "chain longer than 3");
	cg_free(&d);
	cg_free(&i3);
	cg_free(&i2);
}

Test(cert, key_not_p256)
{
	struct cg_cert d;

	cg_make(&d, cg_key("P-384"), UUID_PLAIN, &inter, false, NOW - 1, NOW + 1);
	assert_refused(verify2(&d, &inter), -ENOTSUP, "key is not P-256");
	cg_free(&d);
}

Test(cert, too_large)
{
	chk.max_len = dev.der_len - 1;
	assert_refused(verify2(&dev, &inter), -EMSGSIZE,
		       "certificate larger than the record limit");
	chk.max_len = dev.der_len > inter.der_len ? dev.der_len : inter.der_len;
	cr_assert_eq(verify2(&dev, &inter), 0, "%s", reason);
}

Test(cert, no_certificate)
{
	assert_refused(cert_verify(trust, NULL, 0, &chk, &info, reason, sizeof(reason)), -ENOENT,
		       "device has no certificate");
}

/* --- Trust anchors from files -------------------------------------------- */

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/meshgw-cert-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(const char *const *names, size_t n)
{
	char path[128];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

Test(cert, trust_from_pem_bundle_and_directory)
{
	static const char *const names[] = {"bundle.pem", "notes.txt", "garbage.crt"};
	struct cert_trust *t;
	struct cert_der chain[2] = {{dev.der, dev.der_len}, {inter.der, inter.der_len}};
	char path[128];
	FILE *f;

	make_dir();
	snprintf(path, sizeof(path), "%s/bundle.pem", dir);
	cg_write_pem(&inter, path, false); /* another CA first, then the root */
	cg_write_pem(&root, path, true);
	snprintf(path, sizeof(path), "%s/garbage.crt", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("not a certificate\n", f);
	fclose(f);

	/* The bundle file. */
	cr_assert_eq(cert_trust_new(&t), 0);
	snprintf(path, sizeof(path), "%s/bundle.pem", dir);
	cr_assert_eq(cert_trust_load(t, path), 0);
	cr_assert_eq(cert_verify(t, chain, 2, &chk, &info, reason, sizeof(reason)), 0, "%s",
		     reason);
	cert_trust_free(t);

	/* The directory: garbage.crt holds nothing, bundle.pem the root. */
	cr_assert_eq(cert_trust_new(&t), 0);
	cr_assert_eq(cert_trust_load(t, dir), 0);
	cr_assert_eq(cert_verify(t, chain, 2, &chk, &info, reason, sizeof(reason)), 0, "%s",
		     reason);
	snprintf(path, sizeof(path), "%s/garbage.crt", dir);
	cr_assert_eq(cert_trust_load(t, path), -ENOENT);
	cr_assert_eq(cert_trust_load(t, "/nonexistent/meshgw-trust.pem"), -ENOENT);
	cert_trust_free(t);

	/* An empty store trusts nobody. */
	cr_assert_eq(cert_trust_new(&t), 0);
	assert_refused(cert_verify(t, chain, 2, &chk, &info, reason, sizeof(reason)), -EKEYREJECTED,
		       "not signed by a trusted manufacturer");
	cert_trust_free(t);
	remove_dir(names, sizeof(names) / sizeof(names[0]));
}
