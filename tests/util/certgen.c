#include "tests/util/certgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static void need(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "certgen: %s failed\n", what);
		abort();
	}
}

EVP_PKEY *cg_key(const char *curve)
{
	EVP_PKEY *k = EVP_EC_gen(curve);

	need(k != NULL, "EVP_EC_gen");
	return k;
}

void cg_priv32(EVP_PKEY *key, uint8_t out[32])
{
	BIGNUM *d = NULL;

	need(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d), "private key");
	need(BN_bn2binpad(d, out, 32) == 32, "BN_bn2binpad");
	BN_clear_free(d);
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	need(e != NULL, "extension");
	need(X509_add_ext(x, e, -1), "X509_add_ext");
	X509_EXTENSION_free(e);
}

void cg_make(struct cg_cert *c, EVP_PKEY *key, const char *cn, const struct cg_cert *issuer,
	     bool ca, time_t not_before, time_t not_after)
{
	static long serial = 1;
	X509_NAME *name;
	unsigned char *p;
	int len;

	memset(c, 0, sizeof(*c));
	c->key = key;
	c->x = X509_new();
	need(c->x != NULL, "X509_new");
	need(X509_set_version(c->x, 2), "version");
	need(ASN1_INTEGER_set(X509_get_serialNumber(c->x), serial++), "serial");
	need(X509_time_adj_ex(X509_getm_notBefore(c->x), 0, 0, &not_before) != NULL, "notBefore");
	need(X509_time_adj_ex(X509_getm_notAfter(c->x), 0, 0, &not_after) != NULL, "notAfter");
	need(X509_set_pubkey(c->x, key), "pubkey");
	name = X509_get_subject_name(c->x);
	need(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"meshgw test", -1, -1, 0),
	     "O");
	need(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
					0),
	     "CN");
	need(X509_set_issuer_name(c->x, issuer ? X509_get_subject_name(issuer->x) : name),
	     "issuer");
	add_ext(c->x, issuer ? issuer->x : c->x, NID_basic_constraints,
		ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(c->x, issuer ? issuer->x : c->x, NID_key_usage,
		ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyAgreement");
	need(X509_sign(c->x, issuer ? issuer->key : key, EVP_sha256()) > 0, "X509_sign");
	len = i2d_X509(c->x, NULL);
	need(len > 0 && len <= CG_DER_MAX, "DER size");
	p = c->der;
	need(i2d_X509(c->x, &p) == len, "i2d_X509");
	c->der_len = (size_t)len;
}

void cg_free(struct cg_cert *c)
{
	X509_free(c->x);
	EVP_PKEY_free(c->key);
	memset(c, 0, sizeof(*c));
}

void cg_write_pem(const struct cg_cert *c, const char *path, bool append)
{
	FILE *f = fopen(path, append ? "a" : "w");

	need(f != NULL, "fopen");
	need(PEM_write_X509(f, c->x), "PEM_write_X509");
	need(fclose(f) == 0, "fclose");
}
