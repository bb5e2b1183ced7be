/*
 * Mesh security toolbox (Mesh Protocol v1.1 §3.9, §5.4.2): AES primitives,
 * the s1/k1..k5/s2 functions, nonces, network header obfuscation, P-256.
 *
 * crypto_openssl.c is the only file in mesh/ that includes OpenSSL; it uses
 * the EVP interfaces only.  What is not mesh-specific (GCM, SHA-256, the
 * CSPRNG, wiping, constant-time comparison) is implemented once in the leaf
 * crypto/sec.h and forwarded from here.  Functions return 0 on success or a
 * negative errno code (-EINVAL bad argument, -EACCES authentication/MIC
 * failure, -EIO library failure).  On failure no output buffer is guaranteed to be
 * written.  Intermediate key material is wiped before return.
 *
 * Fixed sizes are written in the prototypes, as BlueZ mesh/crypto.h does.
 * All byte strings are in on-air (big-endian) order.
 */
#ifndef MESH_CRYPTO_H
#define MESH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MESH_KEY_LEN 16
#define MESH_NONCE_LEN 13
#define MESH_P256_PUB_LEN 64 /* X || Y, no 0x04 prefix (as on the air) */
#define MESH_P256_PRIV_LEN 32
#define MESH_P256_SECRET_LEN 32

/* --- AES primitives ----------------------------------------------------- */

/* out = AES-128-ECB(key, in), one block. */
int mesh_crypto_aes_ecb(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);

/* mac = AES-CMAC(key, msg). msg may be NULL when len is 0. */
int mesh_crypto_aes_cmac(const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t mac[16]);

/* Scatter variant: mac = AES-CMAC(key, part[0] || part[1] || ...). */
int mesh_crypto_aes_cmac_v(const uint8_t key[16], const uint8_t *const parts[], const size_t lens[],
			   size_t n, uint8_t mac[16]);

/*
 * AES-CCM with a 13-octet nonce and a mic_len of 4 or 8 (and 16 for
 * completeness).  Encrypt writes len octets of ciphertext to `out` and the
 * MIC to `mic`.  Decrypt checks `mic` and returns -EACCES when it does not
 * match; then `out` is wiped.  `out` may equal `in`.  aad may be NULL.
 */
int mesh_crypto_ccm_encrypt(const uint8_t key[16], const uint8_t nonce[13], const uint8_t *in,
			    size_t len, const uint8_t *aad, size_t aad_len, uint8_t *out,
			    uint8_t *mic, size_t mic_len);
int mesh_crypto_ccm_decrypt(const uint8_t key[16], const uint8_t nonce[13], const uint8_t *in,
			    size_t len, const uint8_t *aad, size_t aad_len, uint8_t *out,
			    const uint8_t *mic, size_t mic_len);

/* out = HMAC-SHA256(key, msg). */
int mesh_crypto_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t len,
			    uint8_t out[32]);

/* --- Mesh security functions (§3.9.2) ----------------------------------- */

/* s1(M) = AES-CMAC(ZERO, M). */
int mesh_crypto_s1(const uint8_t *m, size_t len, uint8_t out[16]);
/* s1 of a NUL-terminated ASCII string, e.g. "smk2". */
int mesh_crypto_s1_str(const char *s, uint8_t out[16]);
/* s2(M) = HMAC-SHA256(ZERO32, M) (Mesh 1.1). */
int mesh_crypto_s2(const uint8_t *m, size_t len, uint8_t out[32]);
/* k1(N, SALT, P) = AES-CMAC(AES-CMAC(SALT, N), P). */
int mesh_crypto_k1(const uint8_t *n, size_t n_len, const uint8_t salt[16], const uint8_t *p,
		   size_t p_len, uint8_t out[16]);
/*
 * k2(N, P): NID (7 bits), EncryptionKey, PrivacyKey.  P is 0x00 for managed
 * flooding, 0x01||... for friendship, 0x02 for directed forwarding.
 */
int mesh_crypto_k2(const uint8_t n[16], const uint8_t *p, size_t p_len, uint8_t *nid,
		   uint8_t enc_key[16], uint8_t priv_key[16]);
/* k3(N): 64-bit Network ID. */
int mesh_crypto_k3(const uint8_t n[16], uint8_t out[8]);
/* k4(N): 6-bit AID. */
int mesh_crypto_k4(const uint8_t n[16], uint8_t *aid);
/* k5(N, SALT, P) = HMAC-SHA256(HMAC-SHA256(SALT, N), P) (Mesh 1.1). */
int mesh_crypto_k5(const uint8_t *n, size_t n_len, const uint8_t salt[32], const uint8_t *p,
		   size_t p_len, uint8_t out[32]);

/* --- Derived keys (§3.9.6) ---------------------------------------------- */

/* IdentityKey = k1(NetKey, s1("nkik"), "id128" || 0x01). */
int mesh_crypto_identity_key(const uint8_t net_key[16], uint8_t out[16]);
/* BeaconKey = k1(NetKey, s1("nkbk"), "id128" || 0x01). */
int mesh_crypto_beacon_key(const uint8_t net_key[16], uint8_t out[16]);
/* PrivateBeaconKey = k1(NetKey, s1("nkpk"), "id128" || 0x01). */
int mesh_crypto_private_beacon_key(const uint8_t net_key[16], uint8_t out[16]);

/* Virtual address of a Label UUID: 0x8000 | (s1("vtad") CMAC of label)[14..15] & 0x3fff. */
int mesh_crypto_virtual_addr(const uint8_t label[16], uint16_t *addr);

/* --- Nonces (§3.9.5) ---------------------------------------------------- */

void mesh_crypto_net_nonce(uint8_t ctl_ttl, uint32_t seq, uint16_t src, uint32_t iv_index,
			   uint8_t nonce[13]);
void mesh_crypto_app_nonce(bool aszmic, uint32_t seq, uint16_t src, uint16_t dst, uint32_t iv_index,
			   uint8_t nonce[13]);
void mesh_crypto_dev_nonce(bool aszmic, uint32_t seq, uint16_t src, uint16_t dst, uint32_t iv_index,
			   uint8_t nonce[13]);
void mesh_crypto_proxy_nonce(uint32_t seq, uint16_t src, uint32_t iv_index, uint8_t nonce[13]);

/*
 * Network header (de)obfuscation (§3.8.7.3): XOR the 6 octets at pdu[1..6]
 * (CTL|TTL, SEQ, SRC) with PECB = e(PrivacyKey, 0^5 || IVIndex || pdu[7..13]).
 * The PDU must be at least 14 octets long.  Obfuscation is its own inverse.
 */
int mesh_crypto_net_obfuscate(const uint8_t priv_key[16], uint32_t iv_index, uint8_t *pdu,
			      size_t len);

/* --- P-256 (§5.4.2.3 provisioning) ------------------------------------- */

/* Fresh key pair from the CSPRNG. */
int mesh_crypto_p256_keygen(uint8_t priv[32], uint8_t pub[64]);
/* Public key of a given private key (tests, OOB public keys). */
int mesh_crypto_p256_pub_from_priv(const uint8_t priv[32], uint8_t pub[64]);
/* True when pub is a point on P-256 (and so not the point at infinity). */
bool mesh_crypto_p256_valid(const uint8_t pub[64]);
/* secret = X coordinate of priv * peer_pub; -EINVAL when peer_pub is invalid. */
int mesh_crypto_p256_ecdh(const uint8_t priv[32], const uint8_t peer_pub[64], uint8_t secret[32]);

/* --- Beyond mesh: sealing secrets at rest, hashing tokens -------------- */

#define MESH_GCM_IV_LEN 12
#define MESH_GCM_TAG_LEN 16

/*
 * AES-256-GCM with a 12-octet IV and a 16-octet tag: sec_gcm256_seal/open
 * of crypto/sec.h (storage/ calls those directly to seal keys at rest).
 * Open returns -EACCES when the tag does not verify; then `out` is wiped.
 * `out` may equal `in`.  aad may be NULL.
 */
int mesh_crypto_gcm256_seal(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
			    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
			    uint8_t tag[16]);
int mesh_crypto_gcm256_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
			    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
			    const uint8_t tag[16]);

/* out = SHA-256(msg) (sec_sha256()). */
int mesh_crypto_sha256(const uint8_t *msg, size_t len, uint8_t out[32]);

/* --- Misc --------------------------------------------------------------- */

/* Fill buf from the CSPRNG. */
int mesh_crypto_random(uint8_t *buf, size_t len);
/* Wipe secrets; never optimised away. */
void mesh_crypto_wipe(void *p, size_t len);
/* Constant-time comparison; true when equal. */
bool mesh_crypto_equal(const void *a, const void *b, size_t len);
/*
 * Non-secret fingerprint of a key for logs: the first 4 octets of
 * s1(key) printed as 8 hex digits + NUL.  Keys themselves are never logged.
 */
void mesh_crypto_key_fingerprint(const uint8_t key[16], char out[9]);

#endif /* MESH_CRYPTO_H */
