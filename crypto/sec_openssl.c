/*
 * crypto/sec.h on OpenSSL 3, through EVP only.  Nothing is cached between
 * calls (each call fetches its cipher or digest), so there are no globals.
 */
#include "crypto/sec.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

int sec_gcm256_seal(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		    const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
	EVP_CIPHER_CTX *ctx;
	uint8_t dummy;
	int n, ok;

	if (len > INT32_MAX || aad_len > INT32_MAX) {
		return -EINVAL;
	}
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx) {
		return -ENOMEM;
	}
	ok = EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key, iv, NULL);
	if (ok && aad && aad_len) {
		ok = EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len);
	}
	if (ok && len) {
		ok = EVP_EncryptUpdate(ctx, out, &n, in, (int)len);
	}
	/* GCM is a stream mode: Final writes nothing, but wants a valid pointer. */
	ok = ok && EVP_EncryptFinal_ex(ctx, len ? out + len : &dummy, &n) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SEC_GCM_TAG_LEN, tag);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int sec_gcm256_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		    const uint8_t *in, size_t len, uint8_t *out, const uint8_t tag[16])
{
	EVP_CIPHER_CTX *ctx;
	uint8_t t[SEC_GCM_TAG_LEN], dummy;
	int n, ok, r = -EIO;

	if (len > INT32_MAX || aad_len > INT32_MAX) {
		return -EINVAL;
	}
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx) {
		return -ENOMEM;
	}
	/* EVP_CTRL_AEAD_SET_TAG takes a non-const pointer; hand it a copy. */
	memcpy(t, tag, sizeof(t));
	ok = EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key, iv, NULL);
	if (ok && aad && aad_len) {
		ok = EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len);
	}
	if (ok && len) {
		ok = EVP_DecryptUpdate(ctx, out, &n, in, (int)len);
	}
	if (ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, sizeof(t), t)) {
		r = EVP_DecryptFinal_ex(ctx, len ? out + len : &dummy, &n) > 0 ? 0 : -EACCES;
	}
	if (r && len) {
		/* Update already wrote unauthenticated plaintext. */
		sec_wipe(out, len);
	}
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int sec_sha256(const uint8_t *msg, size_t len, uint8_t out[32])
{
	unsigned int outl = 0;
	uint8_t dummy = 0;

	if (!EVP_Digest(len ? msg : &dummy, len, out, &outl, EVP_sha256(), NULL) ||
	    outl != SEC_SHA256_LEN) {
		return -EIO;
	}
	return 0;
}

int sec_random(uint8_t *buf, size_t len)
{
	if (len > INT32_MAX) {
		return -EINVAL;
	}
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

void sec_wipe(void *p, size_t len)
{
	if (p && len) {
		OPENSSL_cleanse(p, len);
	}
}

bool sec_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
