/*
 * certgen: one test certificate and its fresh key, for the integration tests
 * of certificate-based provisioning (tests/integration/cbp.test.mjs).  Keys
 * are made at test time in the test's own directory; none is committed.
 *
 *   certgen CERT.pem KEY.pem CN [--ca] [--issuer ICERT.pem IKEY.pem]
 *           [--from SECONDS] [--to SECONDS] [--curve P-256|P-384]
 *
 * --from/--to are the validity relative to now (default -3600 and +10 years);
 * a negative --to makes an expired certificate.  Without --issuer the
 * certificate is self-signed (a root).  Exit 0, or 2 with a usage message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "tests/util/certgen.h"

static int usage(void)
{
	fprintf(stderr, "usage: certgen CERT.pem KEY.pem CN [--ca] [--issuer ICERT.pem IKEY.pem]"
			" [--from SECONDS] [--to SECONDS] [--curve P-256|P-384]\n");
	return 2;
}

/* The issuer's certificate and key from PEM files; false when either does not load. */
static bool load_issuer(struct cg_cert *c, const char *cert, const char *key)
{
	FILE *f = fopen(cert, "r");

	memset(c, 0, sizeof(*c));
	if (f) {
		c->x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	f = fopen(key, "r");
	if (f) {
		c->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	return c->x && c->key;
}

int main(int argc, char **argv)
{
	struct cg_cert c, issuer;
	bool ca = false, has_issuer = false;
	long from = -3600, to = 10L * 365 * 86400;
	const char *curve = "P-256";
	time_t now = time(NULL);
	FILE *f;
	int i;

	if (argc < 4) {
		return usage();
	}
	for (i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--ca")) {
			ca = true;
		} else if (!strcmp(argv[i], "--issuer") && i + 2 < argc) {
			if (!load_issuer(&issuer, argv[i + 1], argv[i + 2])) {
				fprintf(stderr, "certgen: cannot load the issuer\n");
				return 1;
			}
			has_issuer = true;
			i += 2;
		} else if (!strcmp(argv[i], "--from") && i + 1 < argc) {
			from = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--to") && i + 1 < argc) {
			to = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--curve") && i + 1 < argc) {
			curve = argv[++i];
		} else {
			return usage();
		}
	}
	cg_make(&c, cg_key(curve), argv[3], has_issuer ? &issuer : NULL, ca, now + from, now + to);
	cg_write_pem(&c, argv[1], false);
	f = fopen(argv[2], "w");
	if (!f || PEM_write_PrivateKey(f, c.key, NULL, NULL, 0, NULL, NULL) != 1) {
		fprintf(stderr, "certgen: cannot write %s\n", argv[2]);
		return 1;
	}
	fclose(f);
	cg_free(&c);
	if (has_issuer) {
		cg_free(&issuer);
	}
	return 0;
}
