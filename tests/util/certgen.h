/*
 * Test certificates made at run time with the OpenSSL API, so no private key
 * is ever committed: a manufacturer root, intermediates and device
 * certificates for certificate-based provisioning tests (crypto/cert.h,
 * mesh/prov_rec.h).  Every function aborts the test process on an OpenSSL
 * failure (these are fixtures, not code under test).
 */
#ifndef TESTS_UTIL_CERTGEN_H
#define TESTS_UTIL_CERTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CG_DER_MAX 2048

/* A fresh EC key on `curve` ("P-256", "P-384"); owned by the caller (EVP_PKEY_free). */
EVP_PKEY *cg_key(const char *curve);

/* The 32-octet private scalar of a P-256 key (for a mesh device's prov_cfg.priv_key). */
void cg_priv32(EVP_PKEY *key, uint8_t out[32]);

struct cg_cert {
	EVP_PKEY *key; /* owned */
	X509 *x;       /* owned */
	uint8_t der[CG_DER_MAX];
	size_t der_len;
};

/*
 * A certificate for `key` (taken over) with subject CN=`cn`, valid from
 * not_before to not_after, signed by `issuer` (NULL: self-signed).  `ca`
 * adds basicConstraints CA:TRUE and keyCertSign.
 */
void cg_make(struct cg_cert *c, EVP_PKEY *key, const char *cn, const struct cg_cert *issuer,
	     bool ca, time_t not_before, time_t not_after);

void cg_free(struct cg_cert *c);

/* Write the certificate as PEM to path (appending when `append`). */
void cg_write_pem(const struct cg_cert *c, const char *path, bool append);

#endif /* TESTS_UTIL_CERTGEN_H */
