/*
 * Certificate-based provisioning end to end in memory: a device holding a
 * real X.509 chain (made per test with the OpenSSL API, tests/util/certgen.h)
 * and the private key of its certificate, a provisioner that reads the
 * records and verifies them with crypto/cert.h against a trusted root, then
 * provisions with the certificate's key as the OOB public key.  The
 * negative cases check the reason the provisioner reports.
 */
#include "crypto/cert.h"
#include "tests/mesh/prov_fixture.h"
#include "tests/util/certgen.h"

#define NOW 1780272000 /* 2026-06-01T00:00:00Z */
#define YEAR (365 * 86400L)
#define UUID_CN "01234567-89ab-cdef-fedc-ba9876543210"

static const uint8_t uuid[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
				 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};

static struct cg_cert root, inter;
static struct cert_trust *trust;

/* The provisioner's glue: records in, crypto/cert.h verdict out. */
struct verifier {
	struct cert_check chk;
	struct cert_info info;
	int calls;
};

static struct verifier vf;

static int cert_glue(void *ctx, const struct prov_record *recs, size_t n, uint8_t pub_key[64],
		     char *reason, size_t reason_len)
{
	struct cert_der chain[PROV_REC_MAX];
	size_t m = 0;
	int err;

	(void)ctx;
	vf.calls++;
	/* The URI (0x0000) is not part of the chain. */
	for (size_t i = 0; i < n; i++) {
		if (recs[i].id != PROV_REC_ID_URI) {
			chain[m++] = (struct cert_der){recs[i].data, recs[i].len};
		}
	}
	err = cert_verify(trust, chain, m, &vf.chk, &vf.info, reason, reason_len);
	if (!err) {
		memcpy(pub_key, vf.info.pub_key, 64);
	}
	return err;
}

static void setup(void)
{
	cg_make(&root, cg_key("P-256"), "Test Manufacturer Root", NULL, true, NOW - YEAR,
		NOW + 10 * YEAR);
	cg_make(&inter, cg_key("P-256"), "Test Manufacturer Devices", &root, true, NOW - YEAR,
		NOW + 5 * YEAR);
	cr_assert_eq(cert_trust_new(&trust), 0);
	cr_assert_eq(cert_trust_add_der(trust, root.der, root.der_len), 0);
	memset(&vf, 0, sizeof(vf));
	memcpy(vf.chk.uuid, uuid, 16);
	vf.chk.now = NOW;
}

static void teardown(void)
{
	cert_trust_free(trust);
	cg_free(&inter);
	cg_free(&root);
}

TestSuite(prov_cert, .init = setup, .fini = teardown);

/* A device case: its certificate, the records it serves, its key. */
struct dev_case {
	struct cg_cert cert;
	struct prov_record recs[PROV_REC_MAX];
	size_t n;
	struct prov_cfg pc, dc;
	struct pair pr;
};

/* A device certificate for `cn` on `curve` signed by `issuer`, served with `issuer`. */
static void dev_case_init(struct dev_case *c, const char *curve, const char *cn,
			  const struct cg_cert *issuer, time_t not_after)
{
	memset(c, 0, sizeof(*c));
	cg_make(&c->cert, cg_key(curve), cn, issuer, false, NOW - 86400, not_after);
	c->recs[0] = (struct prov_record){PROV_REC_ID_DEV_CERT, c->cert.der, c->cert.der_len};
	c->recs[1] = (struct prov_record){PROV_REC_ID_INTERMEDIATE, issuer->der, issuer->der_len};
	c->n = 2;
	prov_cfg_default(&c->pc);
	c->pc.cert_policy = PROV_CERT_REQUIRE;
	c->pc.rec_frag_max = PROV_REC_FRAG_ADV;
	dev_cfg_default(&c->dc, PROV_ALGS_CMAC | PROV_ALGS_HMAC);
	c->dc.caps.pub_key_type = PROV_PUB_KEY_TYPE_OOB;
	c->dc.has_priv_key = true;
	if (strcmp(curve, "P-256") == 0) {
		cg_priv32(c->cert.key, c->dc.priv_key);
	} else {
		/* A P-384 certificate: the mesh key is unrelated; it never gets that far. */
		memset(c->dc.priv_key, 0x11, 32);
	}
}

static void dev_case_run(struct dev_case *c)
{
	struct prov_ops ops = base_ops;

	ops.verify_records = cert_glue;
	c->dc.records = c->recs;
	c->dc.n_records = c->n;
	pair_init_ops(&c->pr, &c->pc, &c->dc, 1, &ops);
	pair_run(&c->pr);
}

static void dev_case_refused(struct dev_case *c, int err, const char *reason)
{
	dev_case_run(c);
	assert_failed(&c->pr.side[P], err, PROV_ERR_NONE);
	cr_assert_str_eq(prov_reason(c->pr.side[P].s), reason);
	/* The device heard nothing after the records: Invite never went out. */
	cr_assert_eq(c->pr.side[D].done, 0);
	cr_assert_eq(prov_phase(c->pr.side[D].s), PROV_PHASE_ACTIVE);
	pair_free(&c->pr);
	cg_free(&c->cert);
}

Test(prov_cert, provisioning_with_verified_chain)
{
	struct dev_case c;
	struct side *p;

	dev_case_init(&c, "P-256", UUID_CN, &inter, NOW + YEAR);
	dev_case_run(&c);
	p = &c.pr.side[P];
	assert_success(&c.pr, &c.pc, PROV_ALG_HMAC);
	cr_assert(p->res.cert_verified);
	cr_assert_eq(p->res.start.pub_key, PROV_START_PUB_KEY_OOB);
	cr_assert_eq(vf.calls, 1);
	cr_assert_str_eq(vf.info.subject, "CN=" UUID_CN ",O=meshgw test");
	pair_free(&c.pr);
	cg_free(&c.cert);
}

Test(prov_cert, provisioning_over_pb_remote_fragments)
{
	struct dev_case c;

	dev_case_init(&c, "P-256", UUID_CN, &inter, NOW + YEAR);
	c.pc.rec_frag_max = 0; /* PROV_REC_FRAG_REMOTE */
	dev_case_run(&c);
	assert_success(&c.pr, &c.pc, PROV_ALG_HMAC);
	for (int i = 0; i < c.pr.side[D].ntx; i++) {
		cr_assert_leq(c.pr.side[D].tx_len[i], PROV_PDU_MAX, "PDU %d too big for PB-Remote",
			      i);
	}
	pair_free(&c.pr);
	cg_free(&c.cert);
}

Test(prov_cert, expired)
{
	struct dev_case c;

	dev_case_init(&c, "P-256", UUID_CN, &inter, 1772323200 /* 2026-03-01 */);
	dev_case_refused(&c, -EKEYEXPIRED, "certificate expired 2026-03-01");
}

Test(prov_cert, other_device)
{
	struct dev_case c;

	dev_case_init(&c, "P-256", "01234567-89ab-cdef-fedc-ba9876543211", &inter, NOW + YEAR);
	dev_case_refused(&c, -EACCES, "certificate is for another device");
}

Test(prov_cert, unknown_root)
{
	struct cg_cert other;
	struct dev_case c;

	cg_make(&other, cg_key("P-256"), "Self-made CA", NULL, true, NOW - YEAR, NOW + YEAR);
	dev_case_init(&c, "P-256", UUID_CN, &other, NOW + YEAR);
	dev_case_refused(&c, -EKEYREJECTED, "not signed by a trusted manufacturer");
	cg_free(&other);
}

Test(prov_cert, truncated_record)
{
	struct dev_case c;

	dev_case_init(&c, "P-256", UUID_CN, &inter, NOW + YEAR);
	c.recs[0].len -= 10;
	dev_case_refused(&c, -EBADMSG, "certificate is damaged");
}

Test(prov_cert, corrupt_record)
{
	struct dev_case c;

	dev_case_init(&c, "P-256", UUID_CN, &inter, NOW + YEAR);
	c.cert.der[c.cert.der_len - 3] ^= 0x80; /* inside the signature */
	dev_case_refused(&c, -EKEYREJECTED, "not signed by a trusted manufacturer");
}

Test(prov_cert, chain_too_deep)
{
	struct cg_cert sub;
	struct dev_case c;

	cg_make(&sub, cg_key("P-256"), "Sub CA", &inter, true, NOW - YEAR, NOW + YEAR);
	dev_case_init(&c, "P-256", UUID_CN, &sub, NOW + YEAR);
	c.recs[2] = (struct prov_record){0x0003, inter.der, inter.der_len};
	c.n = 3;
	vf.chk.max_chain = 2;
	dev_case_refused(&c, -E2BIG, "chain longer than 2");
	cg_free(&sub);
}

Test(prov_cert, key_not_p256)
{
	struct dev_case c;

	dev_case_init(&c, "P-384", UUID_CN, &inter, NOW + YEAR);
	dev_case_refused(&c, -ENOTSUP, "key is not P-256");
}

Test(prov_cert, too_large)
{
	struct dev_case c;

	dev_case_init(&c, "P-256", UUID_CN, &inter, NOW + YEAR);
	c.pc.rec_limit = (uint16_t)(c.cert.der_len - 1);
	dev_case_refused(&c, -EMSGSIZE, "certificate larger than the record limit");
	cr_assert_eq(vf.calls, 0, "refused before the whole record was read");
}
