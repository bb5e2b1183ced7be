/*
 * Provisioning sessions, the main flows: the spec's sample runs (section
 * 8.7), every authentication method under both algorithms, OOB public keys
 * and OOB value encoding (section 5.4.2.4), and the attacks on either side
 * by a malicious peer.  Policy, capability, address assignment, data_ready,
 * configuration validation, timeout and interleaving are in
 * test_prov_policy.c; the shared fixture is in prov_fixture.h.
 */
#include "tests/mesh/prov_fixture.h"

/* --- The spec's sample runs ---------------------------------------------- */

static void assert_pdu(struct side *sd, int n, uint8_t type, json_t *j, const char *key)
{
	uint8_t want[PROV_PDU_MAX];
	int len = tv_bytes(j, key, want + 1, sizeof(want) - 1);

	cr_assert_gt(len, 0, "vector %s", key);
	want[0] = type;
	cr_assert(n < sd->ntx);
	cr_assert_eq(sd->tx_len[n], (size_t)len + 1, "PDU %d length", n);
	cr_assert(memcmp(sd->tx[n], want, (size_t)len + 1) == 0, "PDU %d (%s): got %s", n, key,
		  tv_tohex(sd->tx[n], sd->tx_len[n]));
}

static void check_sample(const char *name)
{
	struct sample_run sr;
	struct side *p, *d;
	uint8_t want[34], dk[16];

	sample_setup(&sr, name);
	pair_run(&sr.pr);
	p = &sr.pr.side[P];
	d = &sr.pr.side[D];
	assert_success(&sr.pr, &sr.pc, name[0] == 'h' ? PROV_ALG_HMAC : PROV_ALG_CMAC);

	/* Provisioner: Invite, Start, Public Key, Confirmation, Random, Data. */
	cr_assert_eq(p->ntx, 6);
	assert_pdu(p, 0, PROV_INVITE, sr.j, "InvitePDUValue");
	assert_pdu(p, 1, PROV_START, sr.j, "StartPDUValue");
	assert_pdu(p, 2, PROV_PUB_KEY, sr.j, "ProvisionerPublicKey_XY");
	assert_pdu(p, 3, PROV_CONFIRMATION, sr.j, "ConfirmationProvisioner");
	assert_pdu(p, 4, PROV_RANDOM, sr.j, "RandomProvisioner");
	cr_assert_eq(tv_bytes(sr.j, "ProvisioningDataPDU", want, sizeof(want)), 34);
	cr_assert_eq(p->tx_len[5], 34);
	cr_assert(memcmp(p->tx[5], want, 34) == 0, "Data PDU: got %s", tv_tohex(p->tx[5], 34));

	/* Device: Capabilities, Public Key, Confirmation, Random, Complete. */
	cr_assert_eq(d->ntx, 5);
	assert_pdu(d, 0, PROV_CAPABILITIES, sr.j, "CapabilitiesPDUValue");
	assert_pdu(d, 1, PROV_PUB_KEY, sr.j, "DevicePublicKey_XY");
	assert_pdu(d, 2, PROV_CONFIRMATION, sr.j, "ConfirmationDevice");
	assert_pdu(d, 3, PROV_RANDOM, sr.j, "RandomDevice");
	cr_assert_eq(d->tx_len[4], 1);
	cr_assert_eq(d->tx[4][0], PROV_COMPLETE);

	cr_assert_eq(tv_bytes(sr.j, "DeviceKey", dk, 16), 16);
	cr_assert(memcmp(p->res.dev_key, dk, 16) == 0, "DevKey %s", tv_tohex(p->res.dev_key, 16));
	pair_free(&sr.pr);
}

/* §8.7: the CMAC sample run reproduces every PDU of the spec, and the DevKey. */
Test(prov, s8_7_cmac_sample_run)
{
	check_sample("cmac_sample");
}

/* The HMAC sample run (static 32-octet AuthValue) reproduces every PDU and the DevKey. */
Test(prov, hmac_sample_run)
{
	check_sample("hmac_sample");
}

static void run_matrix(uint16_t algs, uint8_t alg)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		const struct method *m = &methods[i];
		struct prov_cfg pc, dc;
		struct pair pr;

		method_cfgs(m, algs, &pc, &dc);
		pair_init(&pr, &pc, &dc, 100 + i);
		pair_run(&pr);
		assert_success(&pr, &pc, alg);
		cr_assert_eq(pr.side[P].res.start.auth_method, m->method);
		cr_assert_eq(pr.side[D].res.start.auth_action, m->action);
		if (m->method == PROV_AUTH_OUTPUT) {
			cr_assert(pr.side[D].has_shown && !pr.side[P].has_shown);
			cr_assert_eq(pr.side[D].shown_action, m->action);
			cr_assert_eq(pr.side[P].req_action, m->action);
			cr_assert_eq(pr.side[P].req_size, m->size);
		} else if (m->method == PROV_AUTH_INPUT) {
			cr_assert(pr.side[P].has_shown && !pr.side[D].has_shown);
			cr_assert_eq(pr.side[D].req_action, m->action);
			cr_assert_eq(pr.side[D].req_size, m->size);
		}
		if (m->method == PROV_AUTH_OUTPUT || m->method == PROV_AUTH_INPUT) {
			const char *v = pr.side[m->method == PROV_AUTH_OUTPUT ? D : P].shown;

			cr_assert(strlen(v) >= 1 && strlen(v) <= m->size, "shown value '%s'", v);
		}
		pair_free(&pr);
	}
}

/* Every method and action with BTM_ECDH_P256_CMAC_AES128_AES_CCM: equal keys and data. */
Test(prov, every_method_cmac)
{
	run_matrix(PROV_ALGS_CMAC, PROV_ALG_CMAC);
}

/* Every method and action with BTM_ECDH_P256_HMAC_SHA256_AES_CCM: equal keys and data. */
Test(prov, every_method_hmac)
{
	run_matrix(PROV_ALGS_CMAC | PROV_ALGS_HMAC, PROV_ALG_HMAC);
}

/* A device that offers only HMAC is provisioned with HMAC (no CMAC fallback needed). */
Test(prov, hmac_only_device)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	prov_cfg_default(&pc);
	dev_cfg_default(&dc, PROV_ALGS_HMAC);
	pair_init(&pr, &pc, &dc, 7);
	pair_run(&pr);
	assert_success(&pr, &pc, PROV_ALG_HMAC);
	pair_free(&pr);
}

/* Auto mode prefers Static OOB, then Output OOB (alphanumeric first), over No OOB. */
Test(prov, auto_method_choice)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	method_cfgs(&methods[2], PROV_ALGS_CMAC | PROV_ALGS_HMAC, &pc, &dc);
	pc.auth_method = PROV_AUTH_AUTO;
	pair_init(&pr, &pc, &dc, 8);
	pair_run(&pr);
	assert_success(&pr, &pc, PROV_ALG_HMAC);
	cr_assert_eq(pr.side[P].res.start.auth_method, PROV_AUTH_STATIC);
	pair_free(&pr);

	method_cfgs(&methods[0], PROV_ALGS_CMAC, &pc, &dc);
	pc.auth_method = PROV_AUTH_AUTO;
	pair_init(&pr, &pc, &dc, 9);
	pair_run(&pr);
	assert_success(&pr, &pc, PROV_ALG_CMAC);
	cr_assert_eq(pr.side[P].res.start.auth_method, PROV_AUTH_OUTPUT);
	cr_assert_eq(pr.side[P].res.start.auth_action, PROV_OUT_ALPHA);
	cr_assert_eq(pr.side[P].res.start.auth_size, 8);
	pair_free(&pr);
}

/* OOB public key: the device does not send its key; the provisioner uses the one it was given. */
Test(prov, oob_public_key)
{
	struct prov_cfg pc, dc;
	struct pair pr;
	uint8_t dev_pub[64];

	prov_cfg_default(&pc);
	dev_cfg_default(&dc, PROV_ALGS_CMAC | PROV_ALGS_HMAC);
	dc.caps.pub_key_type = PROV_PUB_KEY_TYPE_OOB;
	dc.has_priv_key = true;
	memset(dc.priv_key, 0x42, 32);
	cr_assert_eq(mesh_crypto_p256_pub_from_priv(dc.priv_key, dev_pub), 0);
	pc.has_dev_pub_key = true;
	memcpy(pc.dev_pub_key, dev_pub, 64);
	pair_init(&pr, &pc, &dc, 10);
	pair_run(&pr);
	assert_success(&pr, &pc, PROV_ALG_HMAC);
	cr_assert_eq(pr.side[P].res.start.pub_key, PROV_START_PUB_KEY_OOB);
	for (int i = 0; i < pr.side[D].ntx; i++) {
		cr_assert_neq(pr.side[D].tx[i][0], PROV_PUB_KEY, "device sent its public key");
	}
	pair_free(&pr);
}

/* A wrong OOB public key given to the provisioner ends in Confirmation Failed on both sides. */
Test(prov, oob_public_key_wrong)
{
	struct prov_cfg pc, dc;
	struct pair pr;
	uint8_t other[32];

	prov_cfg_default(&pc);
	dev_cfg_default(&dc, PROV_ALGS_CMAC);
	dc.caps.pub_key_type = PROV_PUB_KEY_TYPE_OOB;
	dc.has_priv_key = true;
	memset(dc.priv_key, 0x42, 32);
	memset(other, 0x43, 32);
	cr_assert_eq(mesh_crypto_p256_pub_from_priv(other, pc.dev_pub_key), 0);
	pc.has_dev_pub_key = true;
	pair_init(&pr, &pc, &dc, 11);
	pair_run(&pr);
	assert_failed(&pr.side[D], -EACCES, PROV_ERR_CONFIRMATION_FAILED);
	assert_failed(&pr.side[P], -ECONNABORTED, PROV_ERR_CONFIRMATION_FAILED);
	pair_free(&pr);
}

/* --- Authentication failures -------------------------------------------- */

/* A wrong static OOB value: Confirmation Failed (0x04) on both sides, for both algorithms. */
Test(prov, wrong_static_oob)
{
	for (int a = 0; a < 2; a++) {
		struct prov_cfg pc, dc;
		struct pair pr;

		method_cfgs(&methods[1], a ? PROV_ALGS_HMAC : PROV_ALGS_CMAC, &pc, &dc);
		dc.static_oob[3] ^= 0x01;
		pair_init(&pr, &pc, &dc, 12);
		pair_run(&pr);
		assert_failed(&pr.side[D], -EACCES, PROV_ERR_CONFIRMATION_FAILED);
		assert_sent_failed(&pr.side[D], PROV_ERR_CONFIRMATION_FAILED);
		assert_failed(&pr.side[P], -ECONNABORTED, PROV_ERR_CONFIRMATION_FAILED);
		cr_assert_eq(pr.side[P].ntx, 5, "provisioner stops at its Random: no Data");
		pair_free(&pr);
	}
}

/* A mistyped Output OOB value fails the run on both sides with Confirmation Failed. */
Test(prov, wrong_output_oob_value)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	method_cfgs(&methods[6], PROV_ALGS_CMAC | PROV_ALGS_HMAC, &pc, &dc);
	pair_init(&pr, &pc, &dc, 13);
	cr_assert_eq(prov_start(pr.side[D].s, pr.now), 0);
	cr_assert_eq(prov_start(pr.side[P].s, pr.now), 0);
	while (deliver_one(&pr)) {
	}
	cr_assert(pr.side[P].requested && pr.side[D].has_shown);
	pr.wrong_input = strcmp(pr.side[D].shown, "12345678") ? "12345678" : "87654321";
	pump(&pr);
	assert_failed(&pr.side[D], -EACCES, PROV_ERR_CONFIRMATION_FAILED);
	assert_failed(&pr.side[P], -ECONNABORTED, PROV_ERR_CONFIRMATION_FAILED);
	pair_free(&pr);
}

/* A malformed typed value is refused with -EINVAL and the session keeps waiting. */
Test(prov, input_oob_value_validation)
{
	struct prov_cfg pc, dc;
	struct pair pr;
	struct side *d;

	method_cfgs(&methods[12], PROV_ALGS_CMAC, &pc, &dc); /* Input alphanumeric, 4 */
	pair_init(&pr, &pc, &dc, 14);
	d = &pr.side[D];
	cr_assert_eq(prov_input_oob(d->s, "AB"), -EALREADY, "not awaited yet");
	cr_assert_eq(prov_start(d->s, pr.now), 0);
	cr_assert_eq(prov_start(pr.side[P].s, pr.now), 0);
	while (deliver_one(&pr)) {
	}
	cr_assert(d->requested);
	cr_assert_eq(prov_input_oob(d->s, ""), -EINVAL);
	cr_assert_eq(prov_input_oob(d->s, "ABCDE"), -EINVAL, "longer than the size");
	cr_assert_eq(prov_input_oob(d->s, "AB-1"), -EINVAL);
	cr_assert_eq(prov_phase(d->s), PROV_PHASE_ACTIVE);
	d->requested = false;
	/* Lower case is accepted and means the same characters. */
	for (char *c = pr.side[P].shown; *c; c++) {
		if (*c >= 'A' && *c <= 'Z') {
			*c = (char)(*c - 'A' + 'a');
		}
	}
	cr_assert_eq(prov_input_oob(d->s, pr.side[P].shown), 0);
	cr_assert_eq(prov_input_oob(d->s, pr.side[P].shown), -EALREADY);
	pump(&pr);
	assert_success(&pr, &pc, PROV_ALG_CMAC);
	pair_free(&pr);
}

/* A count (push) of zero is not a value the other side can have shown. */
Test(prov, input_count_zero_refused)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	method_cfgs(&methods[9], PROV_ALGS_CMAC, &pc, &dc); /* Input push, 1 digit */
	pair_init(&pr, &pc, &dc, 15);
	cr_assert_eq(prov_start(pr.side[D].s, pr.now), 0);
	cr_assert_eq(prov_start(pr.side[P].s, pr.now), 0);
	while (deliver_one(&pr)) {
	}
	cr_assert(pr.side[D].requested);
	cr_assert_eq(prov_input_oob(pr.side[D].s, "0"), -EINVAL);
	cr_assert_eq(prov_input_oob(pr.side[D].s, "10"), -EINVAL);
	pump(&pr);
	assert_success(&pr, &pc, PROV_ALG_CMAC);
	pair_free(&pr);
}

/* --- Random values and AuthValue encoding (§5.4.2.4) ---------------------- */

/*
 * Run a CMAC or HMAC sample-key session with Output OOB, feeding the device
 * the given rng octets first; returns the value the device showed and checks
 * the provisioner's Confirmation against one computed from `auth`.
 */
static void check_oob_encoding(const char *name, uint8_t action, uint8_t size, const uint8_t *feed,
			       size_t feed_len, const char *want_shown, const uint8_t *auth)
{
	struct sample_run sr;
	uint8_t inputs[PROV_CONF_INPUTS_LEN], salt[32], key[32], conf[32], secret[32];
	uint8_t rand_prov[32], invite[1] = {0}, caps[11], start[5], ppub[64], dpub[64];
	size_t vlen;
	struct side *p;

	sample_setup(&sr, name);
	pair_free(&sr.pr);
	sr.dc.caps.output_size = 8;
	sr.dc.caps.output_actions = 0x1f;
	sr.pc.auth_method = PROV_AUTH_OUTPUT;
	sr.pc.auth_action = action;
	sr.pc.auth_size = size;
	sr.pc.static_oob_len = sr.dc.static_oob_len = 0;
	sr.dc.caps.oob_type = 0;
	pair_init(&sr.pr, &sr.pc, &sr.dc, 2);
	vlen = (size_t)tv_bytes(sr.j, "RandomProvisioner", rand_prov, 32);
	script_add(&sr.pr.side[P].rng, rand_prov, vlen);
	script_add(&sr.pr.side[D].rng, feed, feed_len);
	pair_run(&sr.pr);
	p = &sr.pr.side[P];
	assert_success(&sr.pr, &sr.pc, vlen == 32 ? PROV_ALG_HMAC : PROV_ALG_CMAC);
	cr_assert_str_eq(sr.pr.side[D].shown, want_shown);

	/* Recompute the provisioner's Confirmation from the expected AuthValue. */
	memcpy(caps, sr.pr.side[D].tx[0] + 1, 11);
	memcpy(start, p->tx[1] + 1, 5);
	cr_assert_eq(start[2], PROV_AUTH_OUTPUT);
	cr_assert_eq(tv_bytes(sr.j, "ProvisionerPublicKey_XY", ppub, 64), 64);
	cr_assert_eq(tv_bytes(sr.j, "DevicePublicKey_XY", dpub, 64), 64);
	cr_assert_eq(tv_bytes(sr.j, "ECDHSecret", secret, 32), 32);
	prov_crypto_conf_inputs(invite, caps, start, ppub, dpub, inputs);
	cr_assert_eq(prov_crypto_conf_salt(start[0], inputs, salt), 0);
	cr_assert_eq(prov_crypto_conf_key(start[0], secret, salt, auth, key), 0);
	cr_assert_eq(prov_crypto_confirmation(start[0], key, rand_prov, auth, conf), 0);
	cr_assert_eq(p->tx[3][0], PROV_CONFIRMATION);
	cr_assert(memcmp(p->tx[3] + 1, conf, vlen) == 0,
		  "Confirmation does not use that AuthValue");
	pair_free(&sr.pr);
}

/*
 * Numeric output: 0xffffffff is rejected (it lies in the biased tail above
 * the largest multiple of 10), the next draw 7 gives "7", and the AuthValue
 * is the number big-endian in its last octets.
 */
Test(prov, s5_4_2_4_numeric_rejection_and_encoding)
{
	static const uint8_t feed[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x07};
	uint8_t auth[32] = {0};

	auth[15] = 7;
	check_oob_encoding("cmac_sample", PROV_OUT_NUMERIC, 1, feed, sizeof(feed), "7", auth);
	memset(auth, 0, sizeof(auth));
	auth[31] = 7;
	check_oob_encoding("hmac_sample", PROV_OUT_NUMERIC, 1, feed, sizeof(feed), "7", auth);
}

/* Counting actions start at 1: a draw of 0 shows one blink; 8 digits encode big-endian. */
Test(prov, s5_4_2_4_count_range_and_encoding)
{
	static const uint8_t zero[] = {0x00, 0x00, 0x00, 0x00};
	static const uint8_t big[] = {0x05, 0xf5, 0xe0, 0xfe}; /* 99999998 */
	uint8_t auth[32] = {0};

	auth[15] = 1;
	check_oob_encoding("cmac_sample", PROV_OUT_BLINK, 1, zero, sizeof(zero), "1", auth);
	/* 99999998 % (10^8 - 1) + 1 = 99999999 = 0x05f5e0ff */
	memset(auth, 0, sizeof(auth));
	auth[12] = 0x05;
	auth[13] = 0xf5;
	auth[14] = 0xe0;
	auth[15] = 0xff;
	check_oob_encoding("cmac_sample", PROV_OUT_BEEP, 8, big, sizeof(big), "99999999", auth);
}

/* Alphanumeric: draws map into 0-9A-Z without bias; the AuthValue is ASCII, zero padded. */
Test(prov, s5_4_2_4_alphanumeric_encoding)
{
	/* 0xfffffffd is above 36 * floor(2^32 / 36) and is drawn again. */
	static const uint8_t feed[] = {0xff, 0xff, 0xff, 0xfd, 0x00, 0x00, 0x00, 0x23,
				       0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00};
	uint8_t auth[32] = {'Z', 'A', '0'};

	check_oob_encoding("hmac_sample", PROV_OUT_ALPHA, 3, feed, sizeof(feed), "ZA0", auth);
}

/*
 * A 16-octet static OOB value with the HMAC algorithm is zero-padded at the
 * end to the 32-octet AuthValue.
 */
Test(prov, s5_4_2_4_static16_padded_for_hmac)
{
	struct sample_run sr;
	uint8_t auth[32], inputs[PROV_CONF_INPUTS_LEN], salt[32], key[32], conf[32];
	uint8_t secret[32], rand_prov[32], ppub[64], dpub[64], invite[1] = {0};
	struct side *p;

	sample_setup(&sr, "hmac_sample");
	pair_free(&sr.pr);
	sr.pc.static_oob_len = sr.dc.static_oob_len = 16;
	pair_init(&sr.pr, &sr.pc, &sr.dc, 3);
	cr_assert_eq(tv_bytes(sr.j, "RandomProvisioner", rand_prov, 32), 32);
	script_add(&sr.pr.side[P].rng, rand_prov, 32);
	pair_run(&sr.pr);
	assert_success(&sr.pr, &sr.pc, PROV_ALG_HMAC);
	p = &sr.pr.side[P];

	memset(auth, 0, sizeof(auth));
	memcpy(auth, sr.pc.static_oob, 16);
	cr_assert_eq(tv_bytes(sr.j, "ProvisionerPublicKey_XY", ppub, 64), 64);
	cr_assert_eq(tv_bytes(sr.j, "DevicePublicKey_XY", dpub, 64), 64);
	cr_assert_eq(tv_bytes(sr.j, "ECDHSecret", secret, 32), 32);
	prov_crypto_conf_inputs(invite, sr.pr.side[D].tx[0] + 1, p->tx[1] + 1, ppub, dpub, inputs);
	cr_assert_eq(prov_crypto_conf_salt(PROV_ALG_HMAC, inputs, salt), 0);
	cr_assert_eq(prov_crypto_conf_key(PROV_ALG_HMAC, secret, salt, auth, key), 0);
	cr_assert_eq(prov_crypto_confirmation(PROV_ALG_HMAC, key, rand_prov, auth, conf), 0);
	cr_assert(memcmp(p->tx[3] + 1, conf, 32) == 0);
	pair_free(&sr.pr);
}

/* --- Attacks: the provisioner side under a malicious device ------------- */

/* Off-curve point: (1, 1) does not satisfy y^2 = x^3 - 3x + b. */
static bool tamper_dev_pub_invalid(struct pair *pr, int to, uint8_t *pdu, size_t *len)
{
	(void)pr;
	if (to == P && pdu[0] == PROV_PUB_KEY && *len == 65) {
		memset(pdu + 1, 0, 64);
		pdu[32] = 1;
		pdu[64] = 1;
	}
	return true;
}

static bool tamper_dev_pub_reflect(struct pair *pr, int to, uint8_t *pdu, size_t *len)
{
	if (to == P && pdu[0] == PROV_PUB_KEY && *len == 65) {
		memcpy(pdu + 1, pr->side[P].tx[2] + 1, 64); /* the provisioner's own key */
	}
	return true;
}

static bool tamper_dev_conf_reflect(struct pair *pr, int to, uint8_t *pdu, size_t *len)
{
	if (to == P && pdu[0] == PROV_CONFIRMATION) {
		memcpy(pdu, pr->side[P].tx[3], *len);
	}
	return true;
}

static bool tamper_dev_rand_reflect(struct pair *pr, int to, uint8_t *pdu, size_t *len)
{
	if (to == P && pdu[0] == PROV_RANDOM) {
		memcpy(pdu, pr->side[P].tx[4], *len);
	}
	return true;
}

static bool tamper_dev_conf_long(struct pair *pr, int to, uint8_t *pdu, size_t *len)
{
	(void)pr;
	if (to == P && pdu[0] == PROV_CONFIRMATION) {
		pdu[(*len)++] = 0x00;
	}
	return true;
}

static bool tamper_dev_sends_complete_early(struct pair *pr, int to, uint8_t *pdu, size_t *len)
{
	(void)pr;
	if (to == P && pdu[0] == PROV_CONFIRMATION) {
		pdu[0] = PROV_COMPLETE;
		*len = 1;
	}
	return true;
}

static bool tamper_caps_zero_elements(struct pair *pr, int to, uint8_t *pdu, size_t *len)
{
	(void)pr;
	(void)len;
	if (to == P && pdu[0] == PROV_CAPABILITIES) {
		pdu[1] = 0;
	}
	return true;
}

struct attack {
	bool (*tamper)(struct pair *, int, uint8_t *, size_t *);
	int err;
	uint8_t code;
};

static void run_attack_on_provisioner(const struct attack *a, uint16_t algs)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	prov_cfg_default(&pc);
	dev_cfg_default(&dc, algs);
	pair_init(&pr, &pc, &dc, 20);
	pr.tamper = a->tamper;
	pair_run(&pr);
	assert_failed(&pr.side[P], a->err, a->code);
	cr_assert_eq(pr.side[D].done, 0);
	for (int i = 0; i < pr.side[P].ntx; i++) {
		cr_assert_neq(pr.side[P].tx[i][0], PROV_DATA, "Data left the provisioner");
		cr_assert_neq(pr.side[P].tx[i][0], PROV_FAILED, "a provisioner never sends Failed");
	}
	pair_free(&pr);
}

/* A device public key that is not on P-256 is refused before any ECDH (§5.4.2.3). */
Test(prov, attack_provisioner_invalid_pub_key)
{
	static const struct attack a = {tamper_dev_pub_invalid, -EINVAL, PROV_ERR_UNEXPECTED_ERROR};

	run_attack_on_provisioner(&a, PROV_ALGS_CMAC);
	run_attack_on_provisioner(&a, PROV_ALGS_HMAC);
}

/* A device "public key" equal to the provisioner's own is a reflection and is refused. */
Test(prov, attack_provisioner_reflected_pub_key)
{
	static const struct attack a = {tamper_dev_pub_reflect, -EINVAL, PROV_ERR_UNEXPECTED_ERROR};

	run_attack_on_provisioner(&a, PROV_ALGS_CMAC);
}

/* The provisioner's own Confirmation echoed back is refused (CVE-2020-26560). */
Test(prov, attack_provisioner_reflected_confirmation)
{
	static const struct attack a = {tamper_dev_conf_reflect, -EINVAL,
					PROV_ERR_CONFIRMATION_FAILED};

	run_attack_on_provisioner(&a, PROV_ALGS_CMAC);
	run_attack_on_provisioner(&a, PROV_ALGS_HMAC);
}

/* The provisioner's own Random echoed back is refused before any key is derived. */
Test(prov, attack_provisioner_reflected_random)
{
	static const struct attack a = {tamper_dev_rand_reflect, -EINVAL,
					PROV_ERR_CONFIRMATION_FAILED};

	run_attack_on_provisioner(&a, PROV_ALGS_CMAC);
	run_attack_on_provisioner(&a, PROV_ALGS_HMAC);
}

/* A Confirmation one octet too long is Invalid Format. */
Test(prov, attack_provisioner_wrong_length)
{
	static const struct attack a = {tamper_dev_conf_long, -EBADMSG, PROV_ERR_INVALID_FORMAT};

	run_attack_on_provisioner(&a, PROV_ALGS_CMAC);
	run_attack_on_provisioner(&a, PROV_ALGS_HMAC);
}

/* A Complete before any Data is an Unexpected PDU; no key is handed out. */
Test(prov, attack_provisioner_unexpected_order)
{
	static const struct attack a = {tamper_dev_sends_complete_early, -EPROTO,
					PROV_ERR_UNEXPECTED_PDU};

	run_attack_on_provisioner(&a, PROV_ALGS_CMAC);
}

/* Capabilities with zero elements is Invalid Format and no Start is sent. */
Test(prov, attack_provisioner_bad_capabilities)
{
	static const struct attack a = {tamper_caps_zero_elements, -EBADMSG,
					PROV_ERR_INVALID_FORMAT};

	run_attack_on_provisioner(&a, PROV_ALGS_CMAC);
}

/* --- Attacks: the device side under a malicious provisioner ------------- */

static void manual_expect_fail(struct manual *m, int err, uint8_t code)
{
	cr_assert_eq(manual_rx(m), err);
	assert_failed(m->d, err, code);
	assert_sent_failed(m->d, code);
	/* Finished: further input is refused and nothing more is sent. */
	m->d->ntx = 0;
	cr_assert_eq(manual_rx(m), -EALREADY);
	cr_assert_eq(m->d->ntx, 0);
	cr_assert_eq(m->d->failed, 1);
	pair_free(&m->sr.pr);
}

/* The sample provisioner PDUs, fed by hand, take the device to Complete with the sample DevKey. */
Test(prov, s8_7_device_driven_by_hand)
{
	struct manual m;
	uint8_t dk[16];

	manual_setup(&m, "cmac_sample", 5);
	manual_pdu(&m, PROV_DATA, "EncProvisioningData");
	cr_assert_eq(tv_bytes(m.sr.j, "ProvisioningDataPDU", m.pdu, sizeof(m.pdu)), 34);
	m.len = 34;
	cr_assert_eq(manual_rx(&m), 0);
	cr_assert_eq(m.d->done, 1);
	cr_assert_eq(tv_bytes(m.sr.j, "DeviceKey", dk, 16), 16);
	cr_assert(memcmp(m.d->res.dev_key, dk, 16) == 0);
	cr_assert_eq(m.d->res.data.unicast, 0x0b0c);
	pair_free(&m.sr.pr);
}

/* An off-curve provisioner public key: the device sends Unexpected Error (0x07). */
Test(prov, attack_device_invalid_pub_key)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 2);
	memset(m.pdu, 0, sizeof(m.pdu));
	m.pdu[0] = PROV_PUB_KEY;
	m.pdu[32] = 1;
	m.pdu[64] = 1;
	m.len = 65;
	manual_expect_fail(&m, -EINVAL, PROV_ERR_UNEXPECTED_ERROR);
}

/* The device's own public key sent back to it is refused (0x07). */
Test(prov, attack_device_reflected_pub_key)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 2);
	manual_pdu(&m, PROV_PUB_KEY, "DevicePublicKey_XY");
	manual_expect_fail(&m, -EINVAL, PROV_ERR_UNEXPECTED_ERROR);
}

/* The device's own Confirmation sent back to it is refused (0x04). */
Test(prov, attack_device_reflected_confirmation)
{
	struct manual m;

	manual_setup(&m, "hmac_sample", 3);
	manual_pdu(&m, PROV_CONFIRMATION, "ConfirmationDevice");
	manual_expect_fail(&m, -EINVAL, PROV_ERR_CONFIRMATION_FAILED);
}

/* The device's own Random sent back to it is refused (0x04) before any key is derived. */
Test(prov, attack_device_reflected_random)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 4);
	manual_pdu(&m, PROV_RANDOM, "RandomDevice");
	manual_expect_fail(&m, -EINVAL, PROV_ERR_CONFIRMATION_FAILED);
}

/* A Random that does not match the provisioner's Confirmation: Confirmation Failed. */
Test(prov, attack_device_wrong_random)
{
	struct manual m;

	manual_setup(&m, "hmac_sample", 4);
	manual_pdu(&m, PROV_RANDOM, "RandomProvisioner");
	m.pdu[5] ^= 0x10;
	manual_expect_fail(&m, -EACCES, PROV_ERR_CONFIRMATION_FAILED);
}

/* A 16-octet Confirmation after Start chose HMAC (32 octets) is Invalid Format. */
Test(prov, attack_device_confirmation_wrong_length)
{
	struct manual m;

	manual_setup(&m, "hmac_sample", 3);
	manual_pdu(&m, PROV_CONFIRMATION, "ConfirmationProvisioner");
	m.len = 17;
	manual_expect_fail(&m, -EBADMSG, PROV_ERR_INVALID_FORMAT);
}

/* A truncated Public Key is Invalid Format. */
Test(prov, attack_device_pub_key_truncated)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 2);
	manual_pdu(&m, PROV_PUB_KEY, "ProvisionerPublicKey_XY");
	m.len = 64;
	manual_expect_fail(&m, -EBADMSG, PROV_ERR_INVALID_FORMAT);
}

/* A Random where a Confirmation is due is an Unexpected PDU (0x03). */
Test(prov, attack_device_unexpected_order)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 3);
	manual_pdu(&m, PROV_RANDOM, "RandomProvisioner");
	manual_expect_fail(&m, -EPROTO, PROV_ERR_UNEXPECTED_PDU);
}

/* Padding bits set in the type octet make an Invalid PDU (0x01). */
Test(prov, attack_device_padding_bits)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 0);
	manual_pdu(&m, PROV_INVITE, "InvitePDUValue");
	m.pdu[0] |= 0x80;
	manual_expect_fail(&m, -EBADMSG, PROV_ERR_INVALID_PDU);
}

/* An RFU PDU type is an Invalid PDU (0x01). */
Test(prov, attack_device_rfu_type)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 1);
	m.pdu[0] = 0x0e;
	m.len = 1;
	manual_expect_fail(&m, -EBADMSG, PROV_ERR_INVALID_PDU);
}

/* A Start with an algorithm the device did not offer is Invalid Format (0x02). */
Test(prov, attack_device_start_algorithm_not_offered)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 1);
	manual_pdu(&m, PROV_START, "StartPDUValue");
	m.pdu[1] = PROV_ALG_HMAC;
	manual_expect_fail(&m, -EBADMSG, PROV_ERR_INVALID_FORMAT);
}

/* A Start asking for static OOB the device did not offer is Invalid Format (0x02). */
Test(prov, attack_device_start_method_not_offered)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 1);
	manual_pdu(&m, PROV_START, "StartPDUValue");
	m.pdu[3] = PROV_AUTH_STATIC;
	manual_expect_fail(&m, -EBADMSG, PROV_ERR_INVALID_FORMAT);
}

/* Tampered Provisioning Data: Decryption Failed (0x06) and no result. */
Test(prov, attack_device_data_tampered)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 5);
	cr_assert_eq(tv_bytes(m.sr.j, "ProvisioningDataPDU", m.pdu, sizeof(m.pdu)), 34);
	m.len = 34;
	m.pdu[10] ^= 0x01;
	manual_expect_fail(&m, -EACCES, PROV_ERR_DECRYPTION_FAILED);
}

/* Provisioning Data with an unusable address (0x0000) is Invalid Data (0x09). */
Test(prov, attack_device_data_invalid_address)
{
	struct manual m;
	uint8_t plain[25], sk[16], nonce[13];

	manual_setup(&m, "cmac_sample", 5);
	cr_assert_eq(tv_bytes(m.sr.j, "ProvisioningData_plaintext", plain, 25), 25);
	cr_assert_eq(tv_bytes(m.sr.j, "SessionKey", sk, 16), 16);
	cr_assert_eq(tv_bytes(m.sr.j, "SessionNonce", nonce, 13), 13);
	plain[23] = 0;
	plain[24] = 0;
	m.pdu[0] = PROV_DATA;
	cr_assert_eq(prov_crypto_data_encrypt(sk, nonce, plain, m.pdu + 1, m.pdu + 26), 0);
	m.len = 34;
	manual_expect_fail(&m, -EBADMSG, PROV_ERR_INVALID_DATA);
}
