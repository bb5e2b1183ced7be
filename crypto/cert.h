/*
 * Device certificates for certificate-based provisioning (Mesh Protocol
 * v1.1 §5.4.2.1): is this chain from a manufacturer we trust, for this
 * device, valid now, and which P-256 key does it vouch for?
 *
 * Layering: crypto/ is the leaf (../shared/style.md §2.2), so this module
 * knows nothing of mesh/: the caller turns the provisioning records
 * (mesh/prov_rec.h: 0x0001 device certificate, 0x0002.. intermediates) into
 * a list of DER blobs, device certificate first.  Trust anchors come from a
 * PEM bundle or a directory of PEM files (gateway conf key `cbp_trust`).
 *
 * The device binding: the subject's commonName must name the device UUID.
 * Accepted spellings, any case: 32 hex digits ("0123456789abcdef0123456789
 * abcdef"), or the RFC 9562 form 8-4-4-4-12 with dashes.  Other attributes
 * (serialNumber, subjectAltName) and "urn:uuid:" prefixes are not read.
 *
 * Functions return 0 or a negative errno, as below, with a reason for a
 * technician written into `reason` (NUL-terminated, truncated to its size):
 *   -ENOENT       no device certificate             "device has no certificate"
 *   -E2BIG        too many certificates             "chain longer than N"
 *   -EMSGSIZE     a certificate over max_len        "certificate larger than the record limit"
 *   -EBADMSG      not one whole DER certificate     "certificate is damaged"
 *   -EKEYEXPIRED  outside its validity at `now`     "certificate expired 2026-03-01",
 *                                                   "certificate not valid before 2026-03-01"
 *   -EKEYREJECTED no path to a trust anchor, or a bad signature
 *                                                   "not signed by a trusted manufacturer"
 *   -EACCES       commonName is another UUID        "certificate is for another device"
 *   -ENOTSUP      the device key is not EC P-256    "key is not P-256"
 *   -ENOMEM, -EIO, -EINVAL
 * The checks run in that order, so an expired certificate from an unknown
 * manufacturer reports the manufacturer only if OpenSSL meets that first.
 *
 * Thread safety: a loaded cert_trust may be shared by concurrent
 * cert_verify() calls; loading is not concurrent with anything.
 */
#ifndef CRYPTO_CERT_H
#define CRYPTO_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CERT_CHAIN_DEFAULT 4   /* certificates a device may send, its own included */
#define CERT_LEN_DEFAULT 2048u /* octets per certificate */
#define CERT_NAME_MAX 256      /* subject / issuer text, NUL included */
#define CERT_REASON_MAX 128

struct cert_trust;

/* An empty trust store.  Free with cert_trust_free().  -ENOMEM. */
int cert_trust_new(struct cert_trust **out);

/* Accepts NULL. */
void cert_trust_free(struct cert_trust *t);

/*
 * Add the trust anchors in `path`: a PEM file (a bundle of any number of
 * certificates) or a directory whose regular files ending in .pem or .crt
 * are such bundles.  -ENOENT when no certificate was found (a file that is
 * not PEM holds none), -errno of stat/opendir.
 */
int cert_trust_load(struct cert_trust *t, const char *path);

/* Add one DER trust anchor.  -EBADMSG when it does not parse. */
int cert_trust_add_der(struct cert_trust *t, const uint8_t *der, size_t len);

struct cert_info;

/*
 * The anchors of t, described (subject, issuer, validity, fingerprint; the
 * key is left zero: an anchor need not be P-256).  *out is a new array of
 * *n entries (free() it; NULL when empty).  -ENOMEM, -EIO.
 */
int cert_trust_list(const struct cert_trust *t, struct cert_info **out, size_t *n);

struct cert_der {
	const uint8_t *data; /* borrowed */
	size_t len;
};

struct cert_check {
	uint8_t uuid[16];   /* the device being provisioned */
	time_t now;         /* the clock validity is judged by */
	unsigned max_chain; /* 0 = CERT_CHAIN_DEFAULT */
	size_t max_len;     /* 0 = CERT_LEN_DEFAULT */
};

/* What a verified device certificate says, for the operator. */
struct cert_info {
	char subject[CERT_NAME_MAX]; /* RFC 2253 */
	char issuer[CERT_NAME_MAX];
	time_t not_before;
	time_t not_after;
	uint8_t sha256[32];  /* fingerprint of the DER */
	uint8_t pub_key[64]; /* X || Y, the device's OOB public key */
};

/*
 * Verify chain[0] (device certificate) with chain[1..n-1] as untrusted
 * intermediates against `t`.  On success fills *info (required: it carries
 * the key).  On failure *info is zeroed.  See the errno table.
 */
int cert_verify(const struct cert_trust *t, const struct cert_der *chain, size_t n,
		const struct cert_check *chk, struct cert_info *info, char *reason,
		size_t reason_len);

#endif /* CRYPTO_CERT_H */
