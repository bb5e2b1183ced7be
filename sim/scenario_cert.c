/*
 * A scenario device's certificate chain and key (certificate-based
 * provisioning, Mesh Protocol v1.1 §5.4.2.1): PEM files read once at
 * scenario load, so a wrong path or a key that is not the certificate's is
 * reported with the scenario path, not at the first provisioning attempt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mesh/crypto.h"
#include "sim/scenario_int.h"

#define CERT_DER_MAX 0xffff /* a provisioning record's largest size */

void scn_cert_clear(struct sim_scn_device *d)
{
	for (size_t i = 0; i < d->n_cert; i++) {
		free(d->cert_der[i]);
		d->cert_der[i] = NULL;
	}
	d->n_cert = 0;
	mesh_crypto_wipe(d->cert_priv, sizeof(d->cert_priv));
}

/* The chain file's certificates, in file order, as DER. */
static int read_chain(struct scn_walk *w, const char *path, struct sim_scn_device *d, X509 **leaf)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	int err = 0;

	if (!f) {
		return scn_fail(w, "cannot open %s: %s", path, strerror(errno));
	}
	while (!err && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		unsigned char *der = NULL;
		int len = i2d_X509(x, &der);

		if (d->n_cert == SIM_SCN_CERT_MAX) {
			err = scn_fail(w, "%s: more than %d certificates", path, SIM_SCN_CERT_MAX);
		} else if (len <= 0 || len > CERT_DER_MAX) {
			err = scn_fail(w, "%s: a certificate does not fit a record", path);
		} else {
			d->cert_der[d->n_cert] = malloc((size_t)len);
			if (!d->cert_der[d->n_cert]) {
				err = -ENOMEM;
			} else {
				memcpy(d->cert_der[d->n_cert], der, (size_t)len);
				d->cert_len[d->n_cert++] = (size_t)len;
			}
		}
		OPENSSL_free(der);
		if (!err && d->n_cert == 1) {
			*leaf = x;
		} else {
			X509_free(x);
		}
	}
	fclose(f);
	if (!err && d->n_cert == 0) {
		err = scn_fail(w, "%s: no PEM certificate", path);
	}
	return err;
}

/* The private scalar of a P-256 key that is the certificate's. */
static int read_key(struct scn_walk *w, const char *path, X509 *leaf, uint8_t out[32])
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *pk;
	BIGNUM *bn = NULL;
	char group[32];
	int err = 0;

	if (!f) {
		return scn_fail(w, "cannot open %s: %s", path, strerror(errno));
	}
	pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) ||
	    strcmp(group, "prime256v1") != 0) {
		err = scn_fail(w, "%s: not a P-256 private key", path);
	} else if (X509_check_private_key(leaf, pk) != 1) {
		err = scn_fail(w, "%s: not the key of the chain's first certificate", path);
	} else if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &bn) ||
		   BN_bn2binpad(bn, out, 32) != 32) {
		err = scn_fail(w, "%s: cannot read the private key", path);
	}
	BN_clear_free(bn);
	EVP_PKEY_free(pk);
	return err;
}

int scn_get_cert(struct scn_walk *w, json_t *dev, struct sim_scn_device *d)
{
	static const char *const members[] = {"chain", "key", NULL};
	json_t *o = json_object_get(dev, "certificate");
	char *chain = NULL, *key = NULL;
	X509 *leaf = NULL;
	size_t old;
	int err;

	if (!o) {
		return 0;
	}
	old = scn_push_key(w, "certificate");
	if (!(err = scn_check_members(w, o, members)) &&
	    !(err = scn_get_str(w, o, "chain", true, 4095, &chain)) &&
	    !(err = scn_get_str(w, o, "key", true, 4095, &key)) &&
	    !(err = read_chain(w, chain, d, &leaf))) {
		err = read_key(w, key, leaf, d->cert_priv);
	}
	X509_free(leaf);
	free(chain);
	free(key);
	if (err) {
		scn_cert_clear(d);
	}
	scn_pop(w, old);
	return err;
}
