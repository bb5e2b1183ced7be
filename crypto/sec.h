/*
 * Leaf crypto for the modules that are not the mesh stack: wiping secrets,
 * the CSPRNG, constant-time comparison, AES-256-GCM and SHA-256.
 *
 * Layering (../shared/style.md §2.2): storage/ seals keys at rest and hashes
 * API tokens with these, and must not reach into mesh/ to do it; mesh/'s
 * own crypto.h forwards its matching functions here, so each primitive has
 * one implementation.  This module depends on libc and OpenSSL 3 only, keeps
 * no state and is safe to call from any thread.
 *
 * Functions return 0 on success or a negative errno code (-EINVAL bad
 * argument, -EACCES authentication failure, -ENOMEM, -EIO library failure).
 * On failure no output buffer is guaranteed to be written.
 */
#ifndef CRYPTO_SEC_H
#define CRYPTO_SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEC_GCM_KEY_LEN 32
#define SEC_GCM_IV_LEN 12
#define SEC_GCM_TAG_LEN 16
#define SEC_SHA256_LEN 32

/*
 * AES-256-GCM (NIST SP 800-38D) with a 12-octet IV and a full 16-octet tag.
 * The caller never reuses an IV under one key.  Open returns -EACCES when
 * the tag does not verify; then the len octets of `out` are wiped, so a
 * forged ciphertext never yields plaintext.  `out` may equal `in`; aad and
 * in may be NULL when their length is 0.  Lengths above INT32_MAX: -EINVAL.
 */
int sec_gcm256_seal(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		    const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16]);
int sec_gcm256_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		    const uint8_t *in, size_t len, uint8_t *out, const uint8_t tag[16]);

/* out = SHA-256(msg) (FIPS 180-4).  msg may be NULL when len is 0. */
int sec_sha256(const uint8_t *msg, size_t len, uint8_t out[32]);

/* Fill buf with len octets from OpenSSL's CSPRNG; -EIO when it is not seeded. */
int sec_random(uint8_t *buf, size_t len);

/* Overwrite len octets at p with zeros in a way the compiler cannot elide.  NULL ok. */
void sec_wipe(void *p, size_t len);

/* True when the len octets at a and b are equal; the time taken depends on len only. */
bool sec_equal(const void *a, const void *b, size_t len);

#endif /* CRYPTO_SEC_H */
