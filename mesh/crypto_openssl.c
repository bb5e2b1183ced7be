/*
 * mesh/crypto.h on OpenSSL 3: the only file in mesh/ that includes OpenSSL.
 * The primitives that are not mesh-specific (GCM, SHA-256, the CSPRNG,
 * wiping, constant-time comparison) forward to crypto/sec.h, the leaf that
 * storage/ uses as well.  Symmetric primitives go through EVP (EVP_CIPHER, EVP_MAC,
 * EVP_MD); P-256 key generation and ECDH through EVP_PKEY.  The public-key
 * check and the public key of a given private key use the (not deprecated)
 * EC_GROUP/EC_POINT arithmetic, because EVP offers neither.
 *
 * The only state kept between calls is the two AES ciphers, fetched once
 * (pthread_once) and never changed, so every function is safe to call from
 * any thread.  Every network PDU costs an AES-ECB (privacy) and an AES-CCM
 * (encryption): looked up by name at each call, as EVP_aes_128_ccm() does
 * under OpenSSL 3 (provider lock, name comparisons), the lookups took a
 * fifth of meshsim's time with a thousand devices on the air.
 */
#include "mesh/crypto.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pthread.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "crypto/sec.h"
#include "mesh/buf.h"

static const uint8_t zero16[16];

static pthread_once_t ciphers_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes_ecb_fetched, *aes_ccm_fetched; /* never freed: held to exit */

static void ciphers_fetch(void)
{
	aes_ecb_fetched = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	aes_ccm_fetched = EVP_CIPHER_fetch(NULL, "AES-128-CCM", NULL);
}

/* The fetched ciphers; if a fetch failed, the implicit fetch of the legacy getters. */
static const EVP_CIPHER *aes_ecb(void)
{
	(void)pthread_once(&ciphers_once, ciphers_fetch);
	return aes_ecb_fetched ? aes_ecb_fetched : EVP_aes_128_ecb();
}

static const EVP_CIPHER *aes_ccm(void)
{
	(void)pthread_once(&ciphers_once, ciphers_fetch);
	return aes_ccm_fetched ? aes_ccm_fetched : EVP_aes_128_ccm();
}

int mesh_crypto_aes_ecb(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	if (!ctx) {
		return -ENOMEM;
	}
	ok = EVP_EncryptInit_ex2(ctx, aes_ecb(), key, NULL, NULL) &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) && EVP_EncryptUpdate(ctx, out, &n, in, 16) &&
	     n == 16;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int mesh_crypto_aes_cmac_v(const uint8_t key[16], const uint8_t *const parts[], const size_t lens[],
			   size_t n, uint8_t mac[16])
{
	OSSL_PARAM params[2];
	EVP_MAC *m;
	EVP_MAC_CTX *ctx = NULL;
	size_t i, outl = 0;
	int ok = 0;

	m = EVP_MAC_fetch(NULL, "CMAC", NULL);
	if (!m) {
		return -EIO;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", 0);
	params[1] = OSSL_PARAM_construct_end();
	ctx = EVP_MAC_CTX_new(m);
	if (!ctx || !EVP_MAC_init(ctx, key, 16, params)) {
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (lens[i] && !EVP_MAC_update(ctx, parts[i], lens[i])) {
			goto out;
		}
	}
	ok = EVP_MAC_final(ctx, mac, &outl, 16) && outl == 16;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return ok ? 0 : -EIO;
}

int mesh_crypto_aes_cmac(const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t mac[16])
{
	const uint8_t *parts[1] = {msg};
	size_t lens[1] = {len};

	return mesh_crypto_aes_cmac_v(key, parts, lens, 1, mac);
}

static bool mic_len_ok(size_t mic_len)
{
	return mic_len == 4 || mic_len == 8 || mic_len == 16;
}

int mesh_crypto_ccm_encrypt(const uint8_t key[16], const uint8_t nonce[13], const uint8_t *in,
			    size_t len, const uint8_t *aad, size_t aad_len, uint8_t *out,
			    uint8_t *mic, size_t mic_len)
{
	EVP_CIPHER_CTX *ctx;
	int n, ok;

	if (!mic_len_ok(mic_len) || len > INT32_MAX || aad_len > INT32_MAX) {
		return -EINVAL;
	}
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx) {
		return -ENOMEM;
	}
	ok = EVP_EncryptInit_ex2(ctx, aes_ccm(), NULL, NULL, NULL) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 13, NULL) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, (int)mic_len, NULL) &&
	     EVP_EncryptInit_ex2(ctx, NULL, key, nonce, NULL) &&
	     /* CCM needs the total length before any data (RFC 3610 B0 block). */
	     EVP_EncryptUpdate(ctx, NULL, &n, NULL, (int)len);
	if (ok && aad && aad_len) {
		ok = EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len);
	}
	if (ok) {
		/* A zero-length update with a NULL buffer is refused; use a dummy. */
		uint8_t dummy;

		ok = EVP_EncryptUpdate(ctx, len ? out : &dummy, &n, len ? in : &dummy, (int)len) &&
		     EVP_EncryptFinal_ex(ctx, out + len, &n) &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, (int)mic_len, mic);
	}
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int mesh_crypto_ccm_decrypt(const uint8_t key[16], const uint8_t nonce[13], const uint8_t *in,
			    size_t len, const uint8_t *aad, size_t aad_len, uint8_t *out,
			    const uint8_t *mic, size_t mic_len)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t tag[16];
	int n, ok, ret = -EIO;

	if (!mic_len_ok(mic_len) || len > INT32_MAX || aad_len > INT32_MAX) {
		return -EINVAL;
	}
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx) {
		return -ENOMEM;
	}
	memcpy(tag, mic, mic_len);
	ok = EVP_DecryptInit_ex2(ctx, aes_ccm(), NULL, NULL, NULL) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 13, NULL) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, (int)mic_len, tag) &&
	     EVP_DecryptInit_ex2(ctx, NULL, key, nonce, NULL) &&
	     EVP_DecryptUpdate(ctx, NULL, &n, NULL, (int)len);
	if (ok && aad && aad_len) {
		ok = EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len);
	}
	if (ok) {
		uint8_t dummy;

		/* In CCM mode the tag is checked by this single update call. */
		if (EVP_DecryptUpdate(ctx, len ? out : &dummy, &n, len ? in : &dummy, (int)len) >
		    0) {
			ret = 0;
		} else {
			ret = -EACCES;
		}
	}
	if (ret != 0 && len) {
		mesh_crypto_wipe(out, len);
	}
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

int mesh_crypto_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len,
			    uint8_t out[32])
{
	size_t outl = 0;
	uint8_t dummy = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key_len ? key : &dummy, key_len,
		       len ? msg : &dummy, len, out, 32, &outl) ||
	    outl != 32) {
		return -EIO;
	}
	return 0;
}

int mesh_crypto_s1(const uint8_t *m, size_t len, uint8_t out[16])
{
	return mesh_crypto_aes_cmac(zero16, m, len, out);
}

int mesh_crypto_s1_str(const char *s, uint8_t out[16])
{
	return mesh_crypto_s1((const uint8_t *)s, strlen(s), out);
}

int mesh_crypto_s2(const uint8_t *m, size_t len, uint8_t out[32])
{
	static const uint8_t zero32[32];

	return mesh_crypto_hmac_sha256(zero32, sizeof(zero32), m, len, out);
}

int mesh_crypto_k1(const uint8_t *n, size_t n_len, const uint8_t salt[16], const uint8_t *p,
		   size_t p_len, uint8_t out[16])
{
	uint8_t t[16];
	int r;

	r = mesh_crypto_aes_cmac(salt, n, n_len, t);
	if (!r) {
		r = mesh_crypto_aes_cmac(t, p, p_len, out);
	}
	mesh_crypto_wipe(t, sizeof(t));
	return r;
}

int mesh_crypto_k2(const uint8_t n[16], const uint8_t *p, size_t p_len, uint8_t *nid,
		   uint8_t enc_key[16], uint8_t priv_key[16])
{
	uint8_t salt[16], t[16], t1[16], t2[16], t3[16];
	const uint8_t *parts[3];
	size_t lens[3];
	uint8_t one = 1, two = 2, three = 3;
	int r;

	if (!p || p_len == 0 || p_len > 16) {
		return -EINVAL;
	}
	r = mesh_crypto_s1_str("smk2", salt);
	if (!r) {
		r = mesh_crypto_aes_cmac(salt, n, 16, t);
	}
	/* T1 = CMAC_T(P || 0x01); Tk = CMAC_T(Tk-1 || P || k) (§3.9.2.6). */
	parts[0] = p;
	lens[0] = p_len;
	parts[1] = &one;
	lens[1] = 1;
	if (!r) {
		r = mesh_crypto_aes_cmac_v(t, parts, lens, 2, t1);
	}
	parts[0] = t1;
	lens[0] = 16;
	parts[1] = p;
	lens[1] = p_len;
	parts[2] = &two;
	lens[2] = 1;
	if (!r) {
		r = mesh_crypto_aes_cmac_v(t, parts, lens, 3, t2);
	}
	parts[0] = t2;
	parts[2] = &three;
	if (!r) {
		r = mesh_crypto_aes_cmac_v(t, parts, lens, 3, t3);
	}
	if (!r) {
		*nid = t1[15] & 0x7f;
		memcpy(enc_key, t2, 16);
		memcpy(priv_key, t3, 16);
	}
	mesh_crypto_wipe(t, sizeof(t));
	mesh_crypto_wipe(t1, sizeof(t1));
	mesh_crypto_wipe(t2, sizeof(t2));
	mesh_crypto_wipe(t3, sizeof(t3));
	return r;
}

int mesh_crypto_k3(const uint8_t n[16], uint8_t out[8])
{
	static const uint8_t id64[] = {'i', 'd', '6', '4', 0x01};
	uint8_t salt[16], full[16];
	int r;

	r = mesh_crypto_s1_str("smk3", salt);
	if (!r) {
		r = mesh_crypto_k1(n, 16, salt, id64, sizeof(id64), full);
	}
	if (!r) {
		memcpy(out, full + 8, 8);
	}
	return r;
}

int mesh_crypto_k4(const uint8_t n[16], uint8_t *aid)
{
	static const uint8_t id6[] = {'i', 'd', '6', 0x01};
	uint8_t salt[16], full[16];
	int r;

	r = mesh_crypto_s1_str("smk4", salt);
	if (!r) {
		r = mesh_crypto_k1(n, 16, salt, id6, sizeof(id6), full);
	}
	if (!r) {
		*aid = full[15] & 0x3f;
	}
	return r;
}

int mesh_crypto_k5(const uint8_t *n, size_t n_len, const uint8_t salt[32], const uint8_t *p,
		   size_t p_len, uint8_t out[32])
{
	uint8_t t[32];
	int r;

	r = mesh_crypto_hmac_sha256(salt, 32, n, n_len, t);
	if (!r) {
		r = mesh_crypto_hmac_sha256(t, 32, p, p_len, out);
	}
	mesh_crypto_wipe(t, sizeof(t));
	return r;
}

/* k1(NetKey, s1(label), "id128" || 0x01): the §3.9.6.3 derived-key form. */
static int id128_key(const uint8_t net_key[16], const char *label, uint8_t out[16])
{
	static const uint8_t id128[] = {'i', 'd', '1', '2', '8', 0x01};
	uint8_t salt[16];
	int r;

	r = mesh_crypto_s1_str(label, salt);
	if (!r) {
		r = mesh_crypto_k1(net_key, 16, salt, id128, sizeof(id128), out);
	}
	return r;
}

int mesh_crypto_identity_key(const uint8_t net_key[16], uint8_t out[16])
{
	return id128_key(net_key, "nkik", out);
}

int mesh_crypto_beacon_key(const uint8_t net_key[16], uint8_t out[16])
{
	return id128_key(net_key, "nkbk", out);
}

int mesh_crypto_private_beacon_key(const uint8_t net_key[16], uint8_t out[16])
{
	return id128_key(net_key, "nkpk", out);
}

int mesh_crypto_virtual_addr(const uint8_t label[16], uint16_t *addr)
{
	uint8_t salt[16], hash[16];
	int r;

	r = mesh_crypto_s1_str("vtad", salt);
	if (!r) {
		r = mesh_crypto_aes_cmac(salt, label, 16, hash);
	}
	if (!r) {
		*addr = (uint16_t)(0x8000 | (mesh_get_be16(hash + 14) & 0x3fff));
	}
	return r;
}

static void put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

void mesh_crypto_net_nonce(uint8_t ctl_ttl, uint32_t seq, uint16_t src, uint32_t iv_index,
			   uint8_t nonce[13])
{
	nonce[0] = 0x00;
	nonce[1] = ctl_ttl;
	put_be24(nonce + 2, seq);
	mesh_put_be16(nonce + 5, src);
	nonce[7] = 0;
	nonce[8] = 0;
	mesh_put_be32(nonce + 9, iv_index);
}

static void access_nonce(uint8_t type, bool aszmic, uint32_t seq, uint16_t src, uint16_t dst,
			 uint32_t iv_index, uint8_t nonce[13])
{
	nonce[0] = type;
	nonce[1] = aszmic ? 0x80 : 0x00;
	put_be24(nonce + 2, seq);
	mesh_put_be16(nonce + 5, src);
	mesh_put_be16(nonce + 7, dst);
	mesh_put_be32(nonce + 9, iv_index);
}

void mesh_crypto_app_nonce(bool aszmic, uint32_t seq, uint16_t src, uint16_t dst, uint32_t iv_index,
			   uint8_t nonce[13])
{
	access_nonce(0x01, aszmic, seq, src, dst, iv_index, nonce);
}

void mesh_crypto_dev_nonce(bool aszmic, uint32_t seq, uint16_t src, uint16_t dst, uint32_t iv_index,
			   uint8_t nonce[13])
{
	access_nonce(0x02, aszmic, seq, src, dst, iv_index, nonce);
}

void mesh_crypto_proxy_nonce(uint32_t seq, uint16_t src, uint32_t iv_index, uint8_t nonce[13])
{
	access_nonce(0x03, false, seq, src, 0x0000, iv_index, nonce);
}

int mesh_crypto_net_obfuscate(const uint8_t priv_key[16], uint32_t iv_index, uint8_t *pdu,
			      size_t len)
{
	uint8_t plain[16] = {0}, pecb[16];
	int i, r;

	if (!pdu || len < 14) {
		return -EINVAL;
	}
	mesh_put_be32(plain + 5, iv_index);
	memcpy(plain + 9, pdu + 7, 7);
	r = mesh_crypto_aes_ecb(priv_key, plain, pecb);
	if (r) {
		return r;
	}
	for (i = 0; i < 6; i++) {
		pdu[1 + i] ^= pecb[i];
	}
	return 0;
}

/* --- P-256 -------------------------------------------------------------- */

/* The point pub (X || Y) on P-256, or NULL when it is not on the curve. */
static EC_POINT *point_from_pub(const EC_GROUP *grp, const uint8_t pub[64])
{
	uint8_t oct[65];
	EC_POINT *pt = EC_POINT_new(grp);

	if (!pt) {
		return NULL;
	}
	oct[0] = 0x04;
	memcpy(oct + 1, pub, 64);
	/* oct2point refuses points that are not on the curve. */
	if (!EC_POINT_oct2point(grp, pt, oct, sizeof(oct), NULL) ||
	    EC_POINT_is_at_infinity(grp, pt) || EC_POINT_is_on_curve(grp, pt, NULL) != 1) {
		EC_POINT_free(pt);
		return NULL;
	}
	return pt;
}

bool mesh_crypto_p256_valid(const uint8_t pub[64])
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *pt;
	bool ok;

	if (!grp) {
		return false;
	}
	pt = point_from_pub(grp, pub);
	ok = pt != NULL;
	EC_POINT_free(pt);
	EC_GROUP_free(grp);
	return ok;
}

int mesh_crypto_p256_pub_from_priv(const uint8_t priv[32], uint8_t pub[64])
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *pt = NULL;
	BIGNUM *d = NULL;
	uint8_t oct[65];
	int r = -EIO;

	if (!grp) {
		return -EIO;
	}
	d = BN_bin2bn(priv, 32, NULL);
	pt = EC_POINT_new(grp);
	if (!d || !pt) {
		goto out;
	}
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0) {
		r = -EINVAL;
		goto out;
	}
	if (EC_POINT_mul(grp, pt, d, NULL, NULL, NULL) &&
	    EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED, oct, sizeof(oct), NULL) ==
		sizeof(oct)) {
		memcpy(pub, oct + 1, 64);
		r = 0;
	}
out:
	BN_clear_free(d);
	EC_POINT_free(pt);
	EC_GROUP_free(grp);
	return r;
}

/* An EVP_PKEY for P-256 from a public key and, optionally, a private key. */
static EVP_PKEY *pkey_from(const uint8_t *priv, const uint8_t pub[64])
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;
	uint8_t oct[65];

	if (!bld) {
		return NULL;
	}
	oct[0] = 0x04;
	memcpy(oct + 1, pub, 64);
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, oct, sizeof(oct))) {
		goto out;
	}
	if (priv) {
		d = BN_secure_new();
		if (!d || !BN_bin2bn(priv, 32, d) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)) {
			goto out;
		}
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <=
		0) {
		pkey = NULL;
	}
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_clear_free(d);
	return pkey;
}

int mesh_crypto_p256_keygen(uint8_t priv[32], uint8_t pub[64])
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIGNUM *d = NULL;
	uint8_t oct[65];
	size_t len = 0;
	int r = -EIO;

	if (!pkey) {
		return -EIO;
	}
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) &&
	    BN_bn2binpad(d, priv, 32) == 32 &&
	    EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, oct,
					    sizeof(oct), &len) &&
	    len == sizeof(oct) && oct[0] == 0x04) {
		memcpy(pub, oct + 1, 64);
		r = 0;
	}
	BN_clear_free(d);
	EVP_PKEY_free(pkey);
	return r;
}

int mesh_crypto_p256_ecdh(const uint8_t priv[32], const uint8_t peer_pub[64], uint8_t secret[32])
{
	uint8_t own_pub[64];
	EVP_PKEY *own = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = 32;
	int r;

	if (!mesh_crypto_p256_valid(peer_pub)) {
		return -EINVAL;
	}
	r = mesh_crypto_p256_pub_from_priv(priv, own_pub);
	if (r) {
		return r;
	}
	r = -EIO;
	own = pkey_from(priv, own_pub);
	peer = pkey_from(NULL, peer_pub);
	if (!own || !peer) {
		goto out;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL);
	if (ctx && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer(ctx, peer) > 0 &&
	    EVP_PKEY_derive(ctx, secret, &len) > 0 && len == 32) {
		r = 0;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(own);
	EVP_PKEY_free(peer);
	return r;
}

/* --- Beyond mesh, and the misc helpers: one implementation, in crypto/ -- */

static_assert(MESH_GCM_IV_LEN == SEC_GCM_IV_LEN && MESH_GCM_TAG_LEN == SEC_GCM_TAG_LEN,
	      "mesh/crypto.h and crypto/sec.h disagree on the GCM layout");

int mesh_crypto_gcm256_seal(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
			    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
			    uint8_t tag[16])
{
	return sec_gcm256_seal(key, iv, aad, aad_len, in, len, out, tag);
}

int mesh_crypto_gcm256_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
			    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
			    const uint8_t tag[16])
{
	return sec_gcm256_open(key, iv, aad, aad_len, in, len, out, tag);
}

int mesh_crypto_sha256(const uint8_t *msg, size_t len, uint8_t out[32])
{
	return sec_sha256(msg, len, out);
}

int mesh_crypto_random(uint8_t *buf, size_t len)
{
	return sec_random(buf, len);
}

void mesh_crypto_wipe(void *p, size_t len)
{
	sec_wipe(p, len);
}

bool mesh_crypto_equal(const void *a, const void *b, size_t len)
{
	return sec_equal(a, b, len);
}

void mesh_crypto_key_fingerprint(const uint8_t key[16], char out[9])
{
	uint8_t h[16];

	if (mesh_crypto_s1(key, 16, h)) {
		memcpy(out, "????????", 9);
		return;
	}
	snprintf(out, 9, "%02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
}
