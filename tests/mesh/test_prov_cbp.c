/*
 * Certificate-based provisioning in the session (mesh/prov.c): the record
 * phase between a provisioner and a device in memory, with a verifier that
 * checks the chain octets it is handed and answers with a key.  The real
 * X.509 verification is tested in tests/crypto/test_cert.c and end to end
 * in test_prov_cert.c.
 */
#include "mesh/buf.h"
#include "tests/mesh/prov_fixture.h"

static uint8_t cert[300];
static uint8_t inter[100];
static const uint8_t uri[] = "https://example.com/cbp";
static struct prov_record dev_recs[3];

/* What the verifier saw and says. */
static struct {
	int calls;
	size_t n;
	uint16_t ids[PROV_REC_MAX];
	bool chain_ok;
	uint8_t key[64]; /* returned on accept */
	int ret;
	const char *reason;
} ver;

static int fake_verify(void *ctx, const struct prov_record *recs, size_t n, uint8_t pub_key[64],
		       char *reason, size_t reason_len)
{
	(void)ctx;
	ver.calls++;
	ver.n = n;
	ver.chain_ok = true;
	for (size_t i = 0; i < n; i++) {
		const struct prov_record *want = NULL;

		ver.ids[i] = recs[i].id;
		for (size_t j = 0; j < 3; j++) {
			if (dev_recs[j].id == recs[i].id) {
				want = &dev_recs[j];
			}
		}
		ver.chain_ok &= want && want->len == recs[i].len &&
				memcmp(want->data, recs[i].data, want->len) == 0;
	}
	if (ver.ret) {
		snprintf(reason, reason_len, "%s", ver.reason);
		return ver.ret;
	}
	memcpy(pub_key, ver.key, 64);
	return 0;
}

static struct prov_ops cbp_ops;

static void setup(void)
{
	for (size_t i = 0; i < sizeof(cert); i++) {
		cert[i] = (uint8_t)(i * 7 + 1);
	}
	memset(inter, 0x5a, sizeof(inter));
	dev_recs[0] = (struct prov_record){PROV_REC_ID_DEV_CERT, cert, sizeof(cert)};
	dev_recs[1] = (struct prov_record){PROV_REC_ID_INTERMEDIATE, inter, sizeof(inter)};
	dev_recs[2] = (struct prov_record){PROV_REC_ID_URI, uri, sizeof(uri) - 1};
	memset(&ver, 0, sizeof(ver));
	cbp_ops = base_ops;
	cbp_ops.verify_records = fake_verify;
}

TestSuite(prov_cbp, .init = setup);

/* A provisioner with `policy` and a device with records and a fixed key pair. */
static void cbp_cfgs(struct prov_cfg *pc, struct prov_cfg *dc, uint8_t policy, size_t n_recs)
{
	static const uint8_t dev_priv[32] = {0x52, 0x9a, 0xa0, 0x67, 0x0d, 0x72, 0xcd, 0x64,
					     0x97, 0x50, 0x2e, 0xd4, 0x73, 0x50, 0x2b, 0x03,
					     0x7e, 0x88, 0x03, 0xb5, 0xc6, 0x08, 0x29, 0xa5,
					     0xa3, 0xca, 0xa2, 0x19, 0x50, 0x55, 0x30, 0xba};

	prov_cfg_default(pc);
	pc->cert_policy = policy;
	dev_cfg_default(dc, PROV_ALGS_CMAC | PROV_ALGS_HMAC);
	dc->has_priv_key = true;
	memcpy(dc->priv_key, dev_priv, 32);
	dc->caps.pub_key_type = PROV_PUB_KEY_TYPE_OOB;
	dc->records = dev_recs;
	dc->n_records = n_recs;
	cr_assert_eq(mesh_crypto_p256_pub_from_priv(dev_priv, ver.key), 0);
}

static int count_type(struct side *sd, uint8_t type)
{
	int n = 0;

	for (int i = 0; i < sd->ntx; i++) {
		n += sd->tx[i][0] == type;
	}
	return n;
}

/* The Start the provisioner sent. */
static const uint8_t *sent_start(struct side *sd)
{
	for (int i = 0; i < sd->ntx; i++) {
		if (sd->tx[i][0] == PROV_START) {
			return sd->tx[i] + 1;
		}
	}
	cr_assert_fail("no Start sent");
	return NULL;
}

/* Run to the provisioner's refusal with err and reason; the caller frees pr. */
static void run_refused(struct pair *pr, const struct prov_cfg *pc, const struct prov_cfg *dc,
			uint64_t seed,
			bool (*tamper)(struct pair *pr, int to, uint8_t *pdu, size_t *len), int err,
			const char *reason)
{
	pair_init_ops(pr, pc, dc, seed, &cbp_ops);
	pr->tamper = tamper;
	pair_run(pr);
	assert_failed(&pr->side[P], err, PROV_ERR_NONE);
	cr_assert_str_eq(prov_reason(pr->side[P].s), reason);
}

/* Run until the device fails with dev_err/code and the provisioner hears of it. */
static void run_device_fails(const struct prov_cfg *pc, const struct prov_cfg *dc, uint64_t seed,
			     int dev_err, uint8_t code)
{
	struct pair pr;

	pair_init_ops(&pr, pc, dc, seed, &cbp_ops);
	pair_run(&pr);
	assert_failed(&pr.side[D], dev_err, code);
	assert_failed(&pr.side[P], -ECONNABORTED, code);
	pair_free(&pr);
}

Test(prov_cbp, require_reads_chain_and_uses_certificate_key)
{
	struct prov_cfg pc, dc;
	struct pair pr;
	struct side *p = &pr.side[P];

	cbp_cfgs(&pc, &dc, PROV_CERT_REQUIRE, 3);
	pair_init_ops(&pr, &pc, &dc, 1, &cbp_ops);
	pair_run(&pr);
	assert_success(&pr, &pc, PROV_ALG_HMAC);
	cr_assert(p->res.cert_verified);
	cr_assert(!pr.side[D].res.cert_verified);
	/* Records Get first, then 300 + 100 + 23 octets in 57-octet fragments. */
	cr_assert_eq(p->tx[0][0], PROV_RECORDS_GET);
	cr_assert_eq(p->tx_len[0], 1);
	cr_assert_eq(count_type(p, PROV_RECORD_REQUEST), 6 + 2 + 1);
	cr_assert_eq(p->tx[1][0], PROV_RECORD_REQUEST);
	cr_assert_str_eq(tv_tohex(p->tx[1], p->tx_len[1]), "0a000100000039");
	cr_assert_eq(ver.calls, 1);
	cr_assert(ver.chain_ok, "the verifier got other octets than the device holds");
	cr_assert_eq(ver.n, 3);
	cr_assert_eq(ver.ids[0], 0x0001);
	cr_assert_eq(ver.ids[1], 0x0002);
	cr_assert_eq(ver.ids[2], 0x0000);
	/* Start: Public Key = OOB; the device never sent its key in the clear. */
	cr_assert_eq(sent_start(p)[1], PROV_START_PUB_KEY_OOB);
	cr_assert_eq(count_type(&pr.side[D], PROV_PUB_KEY), 0);
	cr_assert_str_eq(prov_reason(p->s), "");
	pair_free(&pr);
}

Test(prov_cbp, pb_adv_fragment_size)
{
	struct prov_cfg pc, dc;
	struct pair pr;
	struct side *d = &pr.side[D];

	cbp_cfgs(&pc, &dc, PROV_CERT_REQUIRE, 3);
	pc.rec_frag_max = PROV_REC_FRAG_ADV;
	pair_init_ops(&pr, &pc, &dc, 2, &cbp_ops);
	pair_run(&pr);
	assert_success(&pr, &pc, PROV_ALG_HMAC);
	/* 300 = 120 + 120 + 60, then 100 and 23 in one each. */
	cr_assert_eq(count_type(&pr.side[P], PROV_RECORD_REQUEST), 5);
	cr_assert_eq(d->tx[1][0], PROV_RECORD_RESPONSE);
	cr_assert_eq(d->tx_len[1], PROV_REC_PDU_MAX);
	pair_free(&pr);
}

Test(prov_cbp, wrong_certificate_key_fails_confirmation)
{
	struct prov_cfg pc, dc;

	cbp_cfgs(&pc, &dc, PROV_CERT_REQUIRE, 3);
	/* The certificate names another key (the provisioner sample key's). */
	{
		static const uint8_t other[32] = {0x06, 0xa5, 0x16, 0x69, 0x3c, 0x9a, 0xa3, 0x1a,
						  0x60, 0x84, 0x54, 0x5d, 0x0c, 0x5d, 0xb6, 0x41,
						  0xb4, 0x85, 0x72, 0xb9, 0x72, 0x03, 0xdd, 0xff,
						  0xb7, 0xac, 0x73, 0xf7, 0xd0, 0x45, 0x76, 0x63};

		cr_assert_eq(mesh_crypto_p256_pub_from_priv(other, ver.key), 0);
	}
	/* The device cannot prove the certificate's key: its check fails. */
	run_device_fails(&pc, &dc, 3, -EACCES, PROV_ERR_CONFIRMATION_FAILED);
}

Test(prov_cbp, require_without_certificate_fails)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	cbp_cfgs(&pc, &dc, PROV_CERT_REQUIRE, 3);
	dc.records = &dev_recs[1]; /* intermediate and URI only */
	dc.n_records = 2;
	run_refused(&pr, &pc, &dc, 4, NULL, -ENOENT, "device has no certificate");
	cr_assert_eq(ver.calls, 0);
	cr_assert_eq(count_type(&pr.side[P], PROV_RECORD_REQUEST), 0);
	pair_free(&pr);
}

Test(prov_cbp, prefer_without_certificate_goes_on)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	cbp_cfgs(&pc, &dc, PROV_CERT_PREFER, 3);
	dc.records = &dev_recs[2]; /* the URI only */
	dc.n_records = 1;
	pair_init_ops(&pr, &pc, &dc, 5, &cbp_ops);
	pair_run(&pr);
	assert_success(&pr, &pc, PROV_ALG_HMAC);
	cr_assert(!pr.side[P].res.cert_verified);
	cr_assert_eq(pr.side[P].tx[1][0], PROV_INVITE);
	cr_assert_eq(sent_start(&pr.side[P])[1], PROV_START_PUB_KEY_NO_OOB);
	pair_free(&pr);
}

Test(prov_cbp, verifier_refusal_reported)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	cbp_cfgs(&pc, &dc, PROV_CERT_PREFER, 3);
	ver.ret = -EKEYEXPIRED;
	ver.reason = "certificate expired 2026-03-01";
	pair_init_ops(&pr, &pc, &dc, 6, &cbp_ops);
	pair_run(&pr);
	/* A certificate that fails is never silently dropped, even under PREFER. */
	assert_failed(&pr.side[P], -EKEYEXPIRED, PROV_ERR_NONE);
	cr_assert_str_eq(prov_reason(pr.side[P].s), "certificate expired 2026-03-01");
	cr_assert_eq(count_type(&pr.side[P], PROV_INVITE), 0);
	pair_free(&pr);
}

Test(prov_cbp, require_needs_oob_public_key)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	cbp_cfgs(&pc, &dc, PROV_CERT_REQUIRE, 3);
	dc.caps.pub_key_type = 0;
	run_refused(&pr, &pc, &dc, 7, NULL, -ENOTSUP,
		    "device does not use the key of its certificate");
	pair_free(&pr);
}

/* Attacker: the second Record Response claims a longer record. */
static bool grow_second_response(struct pair *pr, int to, uint8_t *pdu, size_t *len)
{
	static int seen;

	(void)pr;
	(void)len;
	if (to == P && pdu[0] == PROV_RECORD_RESPONSE && ++seen == 2) {
		mesh_put_be16(pdu + 6, (uint16_t)(mesh_get_be16(pdu + 6) + 1));
	}
	return true;
}

/* Attacker: the first Record Response loses its last data octet. */
static bool truncate_first_response(struct pair *pr, int to, uint8_t *pdu, size_t *len)
{
	static int seen;

	(void)pr;
	if (to == P && pdu[0] == PROV_RECORD_RESPONSE && ++seen == 1) {
		*len -= 1;
	}
	return true;
}

Test(prov_cbp, short_fragment_resumes_at_its_end)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	cbp_cfgs(&pc, &dc, PROV_CERT_REQUIRE, 3);
	pair_init_ops(&pr, &pc, &dc, 9, &cbp_ops);
	pr.tamper = truncate_first_response;
	pair_run(&pr);
	/*
	 * 56 octets arrive where 57 were asked: the provisioner asks for
	 * offset 56 next, and the honest device answers it; the record
	 * reassembles fine because every octet is still asked for in order.
	 * What must not happen is a short record: the chain is whole.
	 */
	assert_success(&pr, &pc, PROV_ALG_HMAC);
	cr_assert(ver.chain_ok);
	pair_free(&pr);
}

Test(prov_cbp, large_record_refused)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	cbp_cfgs(&pc, &dc, PROV_CERT_REQUIRE, 3);
	pc.rec_limit = 299;
	run_refused(&pr, &pc, &dc, 10, NULL, -EMSGSIZE, "certificate larger than the record limit");
	cr_assert_eq(count_type(&pr.side[P], PROV_RECORD_REQUEST), 1);
	pair_free(&pr);
}

/* --- The device by hand ----------------------------------------------------- */

static void dev_rx_hex(struct pair *pr, const char *hex)
{
	uint8_t pdu[PROV_REC_PDU_MAX];
	int n = tv_hex(hex, pdu, sizeof(pdu));

	cr_assert_gt(n, 0);
	pr->now += 10;
	pr->rx_ret[D] = prov_rx(pr->side[D].s, pdu, (size_t)n, pr->now);
}

Test(prov_cbp, device_serves_and_reports_errors)
{
	struct prov_cfg pc, dc;
	struct pair pr;
	struct side *d = &pr.side[D];
	size_t len;
	const uint8_t *out;

	cbp_cfgs(&pc, &dc, PROV_CERT_REQUIRE, 3);
	pair_init_ops(&pr, &pc, &dc, 11, &cbp_ops);
	cr_assert_eq(prov_start(d->s, pr.now), 0);

	dev_rx_hex(&pr, "0c");
	out = last_tx(d, &len);
	cr_assert_str_eq(tv_tohex(out, len), "0d0000000100020000");

	dev_rx_hex(&pr, "0a 0009 0000 0010");
	out = last_tx(d, &len);
	cr_assert_str_eq(tv_tohex(out, len), "0b01000900000000");

	dev_rx_hex(&pr, "0a 0002 0064 0010"); /* offset 100 of 100 */
	out = last_tx(d, &len);
	cr_assert_str_eq(tv_tohex(out, len), "0b02000200640064");

	dev_rx_hex(&pr, "0a 0000 0014 0010"); /* the URI's last 3 octets */
	out = last_tx(d, &len);
	cr_assert_str_eq(tv_tohex(out, len), "0b00000000140017636270");
	cr_assert_eq(d->failed, 0);

	/* Still waiting for Invite: it answers with Capabilities. */
	dev_rx_hex(&pr, "00 05");
	out = last_tx(d, &len);
	cr_assert_eq(out[0], PROV_CAPABILITIES);
	/* After Invite the records are out of order. */
	dev_rx_hex(&pr, "0a 0001 0000 0010");
	cr_assert_eq(pr.rx_ret[D], -EPROTO);
	assert_failed(d, -EPROTO, PROV_ERR_UNEXPECTED_PDU);
	assert_sent_failed(d, PROV_ERR_UNEXPECTED_PDU);
	pair_free(&pr);
}

Test(prov_cbp, device_refuses_zero_fragment_size)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	cbp_cfgs(&pc, &dc, PROV_CERT_REQUIRE, 3);
	pair_init_ops(&pr, &pc, &dc, 12, &cbp_ops);
	cr_assert_eq(prov_start(pr.side[D].s, pr.now), 0);
	dev_rx_hex(&pr, "0a 0001 0000 0000");
	assert_failed(&pr.side[D], -EBADMSG, PROV_ERR_INVALID_FORMAT);
	assert_sent_failed(&pr.side[D], PROV_ERR_INVALID_FORMAT);
	pair_free(&pr);
}

Test(prov_cbp, device_without_records_refuses_records_get)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	cbp_cfgs(&pc, &dc, PROV_CERT_REQUIRE, 0);
	run_device_fails(&pc, &dc, 13, -EPROTO, PROV_ERR_UNEXPECTED_PDU);
	/* The provisioner says why in words: the device is a 1.0 one. */
	pair_init_ops(&pr, &pc, &dc, 13, &cbp_ops);
	pair_run(&pr);
	cr_assert_str_eq(prov_reason(pr.side[P].s),
			 "device does not support certificate-based provisioning");
	pair_free(&pr);
}

Test(prov_cbp, config_checks)
{
	struct prov_cfg pc, dc;
	struct prov_sess *s = NULL;
	struct prov_record dup[2] = {{1, cert, 10}, {1, inter, 10}};

	cbp_cfgs(&pc, &dc, PROV_CERT_REQUIRE, 3);
	cr_assert_eq(prov_new(&pc, &base_ops, NULL, &s), -EINVAL, "no verifier");
	pc.rec_frag_max = PROV_REC_FRAG_ADV + 1;
	cr_assert_eq(prov_new(&pc, &cbp_ops, NULL, &s), -EINVAL);
	pc.rec_frag_max = 0;
	pc.cert_policy = 3;
	cr_assert_eq(prov_new(&pc, &cbp_ops, NULL, &s), -EINVAL);
	dc.records = dup;
	dc.n_records = 2;
	cr_assert_eq(prov_new(&dc, &cbp_ops, NULL, &s), -EINVAL, "duplicate IDs");
	dup[1].id = 2;
	dup[1].len = 0;
	cr_assert_eq(prov_new(&dc, &cbp_ops, NULL, &s), -EINVAL, "empty record");
	dup[1].len = 10;
	cr_assert_eq(prov_new(&dc, &cbp_ops, NULL, &s), 0);
	prov_free(s);
}

/* Attacker: the first Record Response says the listed record is not there. */
static bool deny_record(struct pair *pr, int to, uint8_t *pdu, size_t *len)
{
	(void)pr;
	if (to == P && pdu[0] == PROV_RECORD_RESPONSE) {
		pdu[1] = PROV_RECORD_NOT_PRESENT;
		mesh_put_be16(pdu + 6, 0);
		*len = PROV_REC_HDR_LEN;
	}
	return true;
}

/* Attacker: the Records List names nine records. */
static bool long_list(struct pair *pr, int to, uint8_t *pdu, size_t *len)
{
	(void)pr;
	if (to == P && pdu[0] == PROV_RECORDS_LIST) {
		*len = 3;
		for (uint16_t id = 1; id <= PROV_REC_MAX + 1; id++) {
			mesh_put_be16(pdu + *len, id);
			*len += 2;
		}
	}
	return true;
}

/* A device tampered with in flight: refused before the verifier runs, even under PREFER. */
Test(prov_cbp, tampered_record_phase_refused)
{
	static const struct {
		bool (*tamper)(struct pair *pr, int to, uint8_t *pdu, size_t *len);
		uint8_t policy;
		int err;
		const char *reason;
	} cases[] = {
	    {grow_second_response, PROV_CERT_REQUIRE, -EBADMSG,
	     "record changed size between fragments"},
	    {deny_record, PROV_CERT_PREFER, -ENOENT, "device listed a record it does not have"},
	    {long_list, PROV_CERT_REQUIRE, -E2BIG,
	     "device lists more records than this provisioner reads"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prov_cfg pc, dc;
		struct pair pr;

		cbp_cfgs(&pc, &dc, cases[i].policy, 3);
		run_refused(&pr, &pc, &dc, 20 + i, cases[i].tamper, cases[i].err, cases[i].reason);
		cr_assert_eq(ver.calls, 0);
		pair_free(&pr);
	}
}
