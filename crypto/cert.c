#include "crypto/cert.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

struct cert_trust {
	X509_STORE *store;
	int count; /* anchors added */
};

int cert_trust_new(struct cert_trust **out)
{
	struct cert_trust *t;

	if (!out) {
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		return -ENOMEM;
	}
	t->store = X509_STORE_new();
	if (!t->store) {
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void cert_trust_free(struct cert_trust *t)
{
	if (!t) {
		return;
	}
	X509_STORE_free(t->store);
	free(t);
}

/* Every certificate of one PEM file; how many were added, or -errno. */
static int load_pem_file(struct cert_trust *t, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;
	int n = 0;

	if (!bio) {
		return -ENOENT;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(t->store, x) == 1) {
			n++;
		}
		X509_free(x);
	}
	BIO_free(bio);
	/* The loop ends with "no start line"; anything else was a broken block. */
	ERR_clear_error();
	t->count += n;
	return n;
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);

	return n > m && strcmp(name + n - m, suffix) == 0;
}

static int load_dir(struct cert_trust *t, const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char full[4096];
	int total = 0;

	if (!d) {
		return -errno;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int n;

		if (!has_suffix(e->d_name, ".pem") && !has_suffix(e->d_name, ".crt")) {
			continue;
		}
		if (snprintf(full, sizeof(full), "%s/%s", path, e->d_name) >= (int)sizeof(full) ||
		    stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
			continue;
		}
		n = load_pem_file(t, full);
		if (n > 0) {
			total += n;
		}
	}
	closedir(d);
	return total;
}

int cert_trust_load(struct cert_trust *t, const char *path)
{
	struct stat st;
	int n;

	if (!t || !path) {
		return -EINVAL;
	}
	if (stat(path, &st) != 0) {
		return -errno;
	}
	n = S_ISDIR(st.st_mode) ? load_dir(t, path) : load_pem_file(t, path);
	if (n < 0) {
		return n;
	}
	return n ? 0 : -ENOENT;
}

/* One whole DER certificate, nothing after it. */
static X509 *parse_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;

	if (!der || len == 0 || len > LONG_MAX) {
		return NULL;
	}
	x = d2i_X509(NULL, &p, (long)len);
	if (x && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

int cert_trust_add_der(struct cert_trust *t, const uint8_t *der, size_t len)
{
	X509 *x;
	int ok;

	if (!t) {
		return -EINVAL;
	}
	x = parse_der(der, len);
	if (!x) {
		ERR_clear_error();
		return -EBADMSG;
	}
	ok = X509_STORE_add_cert(t->store, x);
	X509_free(x);
	if (ok != 1) {
		ERR_clear_error();
		return -EIO;
	}
	t->count++;
	return 0;
}

static int refuse(char *reason, size_t len, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(char *reason, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	if (reason && len) {
		va_start(ap, fmt);
		vsnprintf(reason, len, fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return err;
}

static int asn1_to_time(const ASN1_TIME *a, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!a || ASN1_TIME_to_tm(a, &tm) != 1) {
		return -EBADMSG;
	}
	*out = timegm(&tm);
	return 0;
}

static void format_day(const ASN1_TIME *a, char out[16])
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!a || ASN1_TIME_to_tm(a, &tm) != 1 || !strftime(out, 16, "%Y-%m-%d", &tm)) {
		snprintf(out, 16, "(unknown)");
	}
}

/* Why X509_verify_cert refused, in the words of cert.h. */
static int verify_error(X509_STORE_CTX *ctx, unsigned max_chain, char *reason, size_t len)
{
	X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
	char day[16];

	switch (X509_STORE_CTX_get_error(ctx)) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		format_day(bad ? X509_get0_notAfter(bad) : NULL, day);
		return refuse(reason, len, -EKEYEXPIRED, "certificate expired %s", day);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		format_day(bad ? X509_get0_notBefore(bad) : NULL, day);
		return refuse(reason, len, -EKEYEXPIRED, "certificate not valid before %s", day);
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
		return refuse(reason, len, -E2BIG, "chain longer than %u", max_chain);
	default:
		return refuse(reason, len, -EKEYREJECTED, "not signed by a trusted manufacturer");
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 32 hex digits, or 8-4-4-4-12 with dashes; any case.  See cert.h. */
static bool uuid_matches(const unsigned char *s, size_t len, const uint8_t uuid[16])
{
	bool dashed = len == 36;
	size_t i = 0, n = 0;

	if (len != 32 && len != 36) {
		return false;
	}
	while (i < len) {
		int hi, lo;

		if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i++] != '-') {
				return false;
			}
			continue;
		}
		if (i + 1 >= len) {
			return false;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0 || n >= 16 || (uint8_t)(hi << 4 | lo) != uuid[n]) {
			return false;
		}
		i += 2;
		n++;
	}
	return n == 16;
}

/* Any commonName of the subject names the device. */
static bool names_device(X509 *x, const uint8_t uuid[16])
{
	const X509_NAME *name = X509_get_subject_name(x);
	int i = -1;

	while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0) {
		const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));

		if (cn &&
		    uuid_matches(ASN1_STRING_get0_data(cn), (size_t)ASN1_STRING_length(cn), uuid)) {
			return true;
		}
	}
	return false;
}

/* X || Y of an EC P-256 key; -ENOTSUP for any other key. */
static int p256_key(X509 *x, uint8_t out[64])
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	BIGNUM *bx = NULL, *by = NULL;
	char group[32];
	int err = -ENOTSUP;

	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) ||
	    strcmp(group, "prime256v1") != 0) {
		return -ENOTSUP;
	}
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &bx) &&
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &by) &&
	    BN_bn2binpad(bx, out, 32) == 32 && BN_bn2binpad(by, out + 32, 32) == 32) {
		err = 0;
	}
	BN_free(bx);
	BN_free(by);
	return err;
}

static void name_text(const X509_NAME *name, char out[CERT_NAME_MAX])
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	out[0] = '\0';
	if (!b) {
		return;
	}
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(b, out, CERT_NAME_MAX - 1);
	}
	out[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

static int describe(X509 *x, struct cert_info *info)
{
	unsigned int md_len = 0;

	name_text(X509_get_subject_name(x), info->subject);
	name_text(X509_get_issuer_name(x), info->issuer);
	if (asn1_to_time(X509_get0_notBefore(x), &info->not_before) ||
	    asn1_to_time(X509_get0_notAfter(x), &info->not_after) ||
	    X509_digest(x, EVP_sha256(), info->sha256, &md_len) != 1 || md_len != 32) {
		return -EIO;
	}
	return 0;
}

/* Build and verify the path from chain[0] to an anchor of t. */
static int verify_path(const struct cert_trust *t, X509 *leaf, STACK_OF(X509) * untrusted,
		       const struct cert_check *chk, unsigned max_chain, char *reason, size_t len)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	int err = 0;

	if (!ctx || X509_STORE_CTX_init(ctx, t->store, leaf, untrusted) != 1) {
		X509_STORE_CTX_free(ctx);
		return refuse(reason, len, -ENOMEM, "out of memory");
	}
	param = X509_STORE_CTX_get0_param(ctx);
	/* Validity is judged by the caller's clock, not the host's (no I/O below mesh/). */
	X509_VERIFY_PARAM_set_time(param, chk->now);
	/* OpenSSL's depth counts the CA certificates between leaf and anchor. */
	X509_VERIFY_PARAM_set_depth(param, (int)max_chain - 1);
	if (X509_verify_cert(ctx) != 1) {
		err = verify_error(ctx, max_chain, reason, len);
	}
	X509_STORE_CTX_free(ctx);
	return err;
}

int cert_verify(const struct cert_trust *t, const struct cert_der *chain, size_t n,
		const struct cert_check *chk, struct cert_info *info, char *reason,
		size_t reason_len)
{
	unsigned max_chain;
	size_t max_len;
	STACK_OF(X509) *untrusted = NULL;
	X509 *leaf = NULL;
	int err = 0;

	if (!t || (!chain && n) || !chk || !info) {
		return -EINVAL;
	}
	memset(info, 0, sizeof(*info));
	max_chain = chk->max_chain ? chk->max_chain : CERT_CHAIN_DEFAULT;
	max_len = chk->max_len ? chk->max_len : CERT_LEN_DEFAULT;
	if (n == 0) {
		return refuse(reason, reason_len, -ENOENT, "device has no certificate");
	}
	if (n > max_chain) {
		return refuse(reason, reason_len, -E2BIG, "chain longer than %u", max_chain);
	}
	for (size_t i = 0; i < n; i++) {
		if (chain[i].len > max_len) {
			return refuse(reason, reason_len, -EMSGSIZE,
				      "certificate larger than the record limit");
		}
	}
	untrusted = sk_X509_new_null();
	if (!untrusted) {
		return refuse(reason, reason_len, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n && !err; i++) {
		X509 *x = parse_der(chain[i].data, chain[i].len);

		if (!x) {
			err = refuse(reason, reason_len, -EBADMSG, "certificate is damaged");
		} else if (i == 0) {
			leaf = x;
		} else if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			err = refuse(reason, reason_len, -ENOMEM, "out of memory");
		}
	}
	if (!err) {
		err = verify_path(t, leaf, untrusted, chk, max_chain, reason, reason_len);
	}
	if (!err && !names_device(leaf, chk->uuid)) {
		err = refuse(reason, reason_len, -EACCES, "certificate is for another device");
	}
	if (!err && p256_key(leaf, info->pub_key)) {
		err = refuse(reason, reason_len, -ENOTSUP, "key is not P-256");
	}
	if (!err && describe(leaf, info)) {
		err = refuse(reason, reason_len, -EIO, "certificate cannot be described");
	}
	if (err) {
		memset(info, 0, sizeof(*info));
	}
	X509_free(leaf);
	sk_X509_pop_free(untrusted, X509_free);
	return err;
}

int cert_trust_list(const struct cert_trust *t, struct cert_info **out, size_t *n)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(t->store);
	int total = objs ? sk_X509_OBJECT_num(objs) : 0;
	struct cert_info *v = NULL;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (total > 0 && !(v = calloc((size_t)total, sizeof(*v)))) {
		return -ENOMEM;
	}
	for (int i = 0; i < total; i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));

		/* The store also holds CRLs; only certificates are anchors. */
		if (x && describe(x, &v[k]) == 0) {
			k++;
		}
	}
	if (k == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = k;
	return 0;
}
