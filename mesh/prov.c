#include "mesh/prov.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/buf.h"
#include "mesh/crypto.h"
#include "mesh/prov_crypto.h"

/* `expect` while the session waits for local input: every PDU is unexpected. */
#define EXPECT_NOTHING 0xff

/* What an Output/Input OOB action exchanges (§5.4.2.4). */
enum oob_kind {
	OOB_COUNT,   /* blink, beep, vibrate, push, twist: a count 1 .. 10^size - 1 */
	OOB_NUMERIC, /* a number 0 .. 10^size - 1 */
	OOB_ALPHA,   /* size characters from 0-9, A-Z */
};

struct prov_sess {
	struct prov_cfg cfg;
	struct prov_ops ops;
	struct mesh_rng rng;
	enum prov_phase phase;
	uint8_t expect; /* enum prov_pdu_type or EXPECT_NOTHING */
	bool await_input;
	uint64_t deadline;

	/* The previous PDU received, to ignore a bearer's repeat of it. */
	uint8_t last[PROV_REC_PDU_MAX];
	size_t last_len;

	/* ConfirmationInputs pieces, as they were on the air (§5.4.2.5). */
	uint8_t invite[PROV_PARAMS_INVITE];
	uint8_t caps_raw[PROV_PARAMS_CAPS];
	uint8_t start_raw[PROV_PARAMS_START];
	struct prov_caps caps; /* the device's */
	struct prov_start start;
	size_t vlen; /* Confirmation/Random/AuthValue length: 16 or 32 */

	uint8_t priv[MESH_P256_PRIV_LEN];
	uint8_t pub[MESH_P256_PUB_LEN];
	uint8_t peer_pub[MESH_P256_PUB_LEN];
	uint8_t secret[MESH_P256_SECRET_LEN];
	uint8_t auth[PROV_VALUE_MAX];
	uint8_t conf_salt[PROV_VALUE_MAX];
	uint8_t conf_key[PROV_VALUE_MAX];
	uint8_t rand_own[PROV_VALUE_MAX];
	uint8_t conf_own[PROV_VALUE_MAX];
	uint8_t conf_peer[PROV_VALUE_MAX];
	uint8_t session_key[16];
	uint8_t nonce[PROV_SESSION_NONCE_LEN];
	uint8_t dev_key[16];
	struct prov_data data;

	/* Provisioner's record phase: what to read, in order, and what was read. */
	uint16_t rec_ids[PROV_REC_MAX];
	struct prov_rec_asm rec[PROV_REC_MAX];
	size_t n_rec;
	size_t cur_rec;
	bool cert_ok; /* cfg.dev_pub_key holds the verified certificate's key */
	char reason[PROV_REC_REASON_MAX];
};

typedef int (*handler_fn)(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params);

static void records_free(struct prov_sess *s)
{
	for (size_t i = 0; i < PROV_REC_MAX; i++) {
		prov_rec_asm_free(&s->rec[i]);
	}
	s->n_rec = 0;
	s->cur_rec = 0;
}

static void wipe_secrets(struct prov_sess *s)
{
	mesh_crypto_wipe(s->cfg.priv_key, sizeof(s->cfg.priv_key));
	mesh_crypto_wipe(s->cfg.static_oob, sizeof(s->cfg.static_oob));
	mesh_crypto_wipe(s->cfg.data.net_key, sizeof(s->cfg.data.net_key));
	mesh_crypto_wipe(s->priv, sizeof(s->priv));
	mesh_crypto_wipe(s->secret, sizeof(s->secret));
	mesh_crypto_wipe(s->auth, sizeof(s->auth));
	mesh_crypto_wipe(s->conf_salt, sizeof(s->conf_salt));
	mesh_crypto_wipe(s->conf_key, sizeof(s->conf_key));
	mesh_crypto_wipe(s->rand_own, sizeof(s->rand_own));
	mesh_crypto_wipe(s->conf_own, sizeof(s->conf_own));
	mesh_crypto_wipe(s->conf_peer, sizeof(s->conf_peer));
	mesh_crypto_wipe(s->session_key, sizeof(s->session_key));
	mesh_crypto_wipe(s->nonce, sizeof(s->nonce));
	mesh_crypto_wipe(s->dev_key, sizeof(s->dev_key));
	mesh_crypto_wipe(&s->data, sizeof(s->data));
	mesh_crypto_wipe(s->last, sizeof(s->last));
	records_free(s);
}

static bool is_device(const struct prov_sess *s)
{
	return s->cfg.role == PROV_ROLE_DEVICE;
}

static int send_pdu(struct prov_sess *s, const struct prov_pdu *p)
{
	uint8_t buf[PROV_REC_PDU_MAX];
	size_t len;
	int err;

	err = prov_pdu_build(p, buf, sizeof(buf), &len);
	if (!err) {
		err = s->ops.send(s->ops.ctx, buf, len);
	}
	mesh_crypto_wipe(buf, sizeof(buf));
	return err < 0 ? err : 0;
}

/*
 * End the session with an error.  Only the device sends Provisioning Failed
 * (§5.4.4); the provisioner just reports and lets its bearer close the link.
 * `tell_peer` is false when the peer already knows (it sent Failed) or no
 * code applies.
 */
static int fail(struct prov_sess *s, int err, uint8_t code, bool tell_peer)
{
	struct prov_pdu p;

	if (s->phase != PROV_PHASE_ACTIVE) {
		return err;
	}
	s->phase = PROV_PHASE_FAILED;
	s->expect = EXPECT_NOTHING;
	s->await_input = false;
	wipe_secrets(s);
	if (tell_peer && is_device(s) && code != PROV_ERR_NONE) {
		memset(&p, 0, sizeof(p));
		p.type = PROV_FAILED;
		p.u.err = code;
		(void)send_pdu(s, &p);
	}
	if (s->ops.failed) {
		s->ops.failed(s->ops.ctx, err, code);
	}
	return err;
}

/* A provisioner's record phase failed (never on the air): keep the reason for prov_reason(). */
static int fail_reason(struct prov_sess *s, int err, const char *why)
{
	if (s->phase == PROV_PHASE_ACTIVE) {
		snprintf(s->reason, sizeof(s->reason), "%s", why);
	}
	return fail(s, err, PROV_ERR_NONE, false);
}

/* A local step (crypto, rng, send) failed: no protocol code describes it. */
static int fail_local(struct prov_sess *s, int err)
{
	return fail(s, err, is_device(s) ? PROV_ERR_UNEXPECTED_ERROR : PROV_ERR_NONE, true);
}

/* --- AuthValue (§5.4.2.4) ------------------------------------------------ */

static enum oob_kind oob_kind(const struct prov_start *st)
{
	if (st->auth_method == PROV_AUTH_OUTPUT) {
		if (st->auth_action == PROV_OUT_NUMERIC) {
			return OOB_NUMERIC;
		}
		return st->auth_action == PROV_OUT_ALPHA ? OOB_ALPHA : OOB_COUNT;
	}
	if (st->auth_action == PROV_IN_NUMERIC) {
		return OOB_NUMERIC;
	}
	return st->auth_action == PROV_IN_ALPHA ? OOB_ALPHA : OOB_COUNT;
}

static uint32_t pow10u(uint8_t n)
{
	uint32_t v = 1;

	while (n--) {
		v *= 10;
	}
	return v;
}

/* Uniform in [0, n) by rejection sampling, so no value is favoured. */
static int rand_below(struct prov_sess *s, uint32_t n, uint32_t *out)
{
	uint64_t limit = ((uint64_t)1 << 32) / n * n;
	uint8_t b[4];
	int tries;

	for (tries = 0; tries < 64; tries++) {
		uint32_t x;
		int err = mesh_rng_fill(&s->rng, b, sizeof(b));

		if (err) {
			return err;
		}
		x = mesh_get_be32(b);
		if (x < limit) {
			*out = x % n;
			return 0;
		}
	}
	return -EIO;
}

/* A number in the AuthValue: big-endian in the last octets, zeros before. */
static void auth_set_number(struct prov_sess *s, uint32_t v)
{
	memset(s->auth, 0, sizeof(s->auth));
	mesh_put_be32(s->auth + s->vlen - 4, v);
}

/* A string in the AuthValue: ASCII from the first octet, zero padded. */
static void auth_set_string(struct prov_sess *s, const char *str, size_t n)
{
	memset(s->auth, 0, sizeof(s->auth));
	memcpy(s->auth, str, n);
}

static void auth_set_static(struct prov_sess *s)
{
	size_t n = s->cfg.static_oob_len < s->vlen ? s->cfg.static_oob_len : s->vlen;

	memset(s->auth, 0, sizeof(s->auth));
	memcpy(s->auth, s->cfg.static_oob, n);
}

/* v < 10^8, so at most 8 digits and the NUL fit. */
static void format_decimal(uint32_t v, char str[PROV_OOB_SIZE_MAX + 1])
{
	char tmp[PROV_OOB_SIZE_MAX];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(tmp));
	for (size_t i = 0; i < n; i++) {
		str[i] = tmp[n - 1 - i];
	}
	str[n] = '\0';
}

/* Draw the value one side shows and set the AuthValue; str gets it printed. */
static int auth_generate(struct prov_sess *s, char str[PROV_OOB_SIZE_MAX + 1])
{
	static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	uint8_t size = s->start.auth_size;
	uint32_t v;
	int err;

	switch (oob_kind(&s->start)) {
	case OOB_ALPHA:
		for (uint8_t i = 0; i < size; i++) {
			uint32_t c;

			err = rand_below(s, 36, &c);
			if (err) {
				return err;
			}
			str[i] = alphabet[c];
		}
		str[size] = '\0';
		auth_set_string(s, str, size);
		return 0;
	case OOB_COUNT:
		err = rand_below(s, pow10u(size) - 1, &v);
		v += 1;
		break;
	case OOB_NUMERIC:
	default:
		err = rand_below(s, pow10u(size), &v);
		break;
	}
	if (err) {
		return err;
	}
	format_decimal(v, str);
	auth_set_number(s, v);
	return 0;
}

/* Parse what a user entered; the AuthValue is set only when it is valid. */
static int auth_from_input(struct prov_sess *s, const char *value)
{
	char buf[PROV_OOB_SIZE_MAX + 1];
	size_t n = strnlen(value, PROV_OOB_SIZE_MAX + 1);
	enum oob_kind kind = oob_kind(&s->start);
	uint32_t v = 0;
	int err = 0;

	if (n == 0 || n > s->start.auth_size) {
		return -EINVAL;
	}
	for (size_t i = 0; i < n && !err; i++) {
		char c = value[i];

		if (kind == OOB_ALPHA && c >= 'a' && c <= 'z') {
			c = (char)(c - 'a' + 'A');
		}
		if (!(c >= '0' && c <= '9') && !(kind == OOB_ALPHA && c >= 'A' && c <= 'Z')) {
			err = -EINVAL;
		}
		buf[i] = c;
		v = v * 10 + (uint32_t)(c - '0');
	}
	if (!err && kind == OOB_COUNT && v == 0) {
		err = -EINVAL; /* counts start at 1 (§5.4.2.4) */
	}
	if (!err && kind == OOB_ALPHA) {
		auth_set_string(s, buf, n);
	} else if (!err) {
		auth_set_number(s, v);
	}
	mesh_crypto_wipe(buf, sizeof(buf));
	mesh_crypto_wipe(&v, sizeof(v));
	return err;
}

/* --- Confirmation and session keys (§5.4.2.5, §5.4.2.6) ----------------- */

/* Our Random and Confirmation, after the AuthValue is known. */
static int make_confirmation(struct prov_sess *s)
{
	uint8_t inputs[PROV_CONF_INPUTS_LEN];
	const uint8_t *prov_pub = is_device(s) ? s->peer_pub : s->pub;
	const uint8_t *dev_pub = is_device(s) ? s->pub : s->peer_pub;
	int err;

	prov_crypto_conf_inputs(s->invite, s->caps_raw, s->start_raw, prov_pub, dev_pub, inputs);
	err = prov_crypto_conf_salt(s->start.alg, inputs, s->conf_salt);
	if (!err) {
		err = prov_crypto_conf_key(s->start.alg, s->secret, s->conf_salt, s->auth,
					   s->conf_key);
	}
	if (!err) {
		err = mesh_rng_fill(&s->rng, s->rand_own, s->vlen);
	}
	if (!err) {
		err = prov_crypto_confirmation(s->start.alg, s->conf_key, s->rand_own, s->auth,
					       s->conf_own);
	}
	return err;
}

static int send_value(struct prov_sess *s, enum prov_pdu_type type, const uint8_t *v)
{
	struct prov_pdu p;

	memset(&p, 0, sizeof(p));
	p.type = type;
	p.u.value.len = s->vlen;
	memcpy(p.u.value.v, v, s->vlen);
	return send_pdu(s, &p);
}

/* Check the peer's Random against its Confirmation, then derive the session keys. */
static int check_random(struct prov_sess *s, const uint8_t *peer_rand)
{
	uint8_t expected[PROV_VALUE_MAX];
	uint8_t salt[16];
	const uint8_t *rand_prov = is_device(s) ? peer_rand : s->rand_own;
	const uint8_t *rand_dev = is_device(s) ? s->rand_own : peer_rand;
	int err;

	/* A reflected Random would let a peer pass without knowing AuthValue. */
	if (mesh_crypto_equal(peer_rand, s->rand_own, s->vlen)) {
		return fail(s, -EINVAL, PROV_ERR_CONFIRMATION_FAILED, true);
	}
	err = prov_crypto_confirmation(s->start.alg, s->conf_key, peer_rand, s->auth, expected);
	if (err) {
		return fail_local(s, err);
	}
	if (!mesh_crypto_equal(expected, s->conf_peer, s->vlen)) {
		mesh_crypto_wipe(expected, sizeof(expected));
		return fail(s, -EACCES, PROV_ERR_CONFIRMATION_FAILED, true);
	}
	mesh_crypto_wipe(expected, sizeof(expected));
	err = prov_crypto_prov_salt(s->start.alg, s->conf_salt, rand_prov, rand_dev, salt);
	if (!err) {
		err = prov_crypto_session_key(s->secret, salt, s->session_key);
	}
	if (!err) {
		err = prov_crypto_session_nonce(s->secret, salt, s->nonce);
	}
	if (!err) {
		err = prov_crypto_device_key(s->secret, salt, s->dev_key);
	}
	mesh_crypto_wipe(salt, sizeof(salt));
	return err ? fail_local(s, err) : 0;
}

/* Peer public key: on the curve and not a reflection of ours (§5.4.2.3). */
static int take_peer_key(struct prov_sess *s, const uint8_t key[64])
{
	if (!mesh_crypto_p256_valid(key) || mesh_crypto_equal(key, s->pub, MESH_P256_PUB_LEN)) {
		return fail(s, -EINVAL, PROV_ERR_UNEXPECTED_ERROR, true);
	}
	memcpy(s->peer_pub, key, MESH_P256_PUB_LEN);
	if (mesh_crypto_p256_ecdh(s->priv, s->peer_pub, s->secret)) {
		return fail(s, -EINVAL, PROV_ERR_UNEXPECTED_ERROR, true);
	}
	return 0;
}

static void finish(struct prov_sess *s)
{
	struct prov_result res;

	memset(&res, 0, sizeof(res));
	memcpy(res.dev_key, s->dev_key, sizeof(res.dev_key));
	res.data = s->data;
	res.caps = is_device(s) ? s->cfg.caps : s->caps;
	res.elements = res.caps.elements;
	res.start = s->start;
	res.cert_verified = !is_device(s) && s->cert_ok;
	s->phase = PROV_PHASE_DONE;
	s->expect = EXPECT_NOTHING;
	wipe_secrets(s);
	if (s->ops.done) {
		s->ops.done(s->ops.ctx, &res);
	}
	mesh_crypto_wipe(&res, sizeof(res));
}

/* --- Provisioner --------------------------------------------------------- */

static const uint8_t out_prefs[] = {PROV_OUT_ALPHA, PROV_OUT_NUMERIC, PROV_OUT_BLINK, PROV_OUT_BEEP,
				    PROV_OUT_VIBRATE};
static const uint8_t in_prefs[] = {PROV_IN_ALPHA, PROV_IN_NUMERIC, PROV_IN_PUSH, PROV_IN_TWIST};

/* The first preferred action the device offers; false when none. */
static bool pick_action(uint16_t offered, const uint8_t *prefs, size_t n, uint8_t *action)
{
	for (size_t i = 0; i < n; i++) {
		if (offered & (1u << prefs[i])) {
			*action = prefs[i];
			return true;
		}
	}
	return false;
}

/* Counting actions use one digit: nobody counts to 10^8 blinks. */
static uint8_t pick_size(struct prov_start *st, uint8_t max)
{
	return oob_kind(st) == OOB_COUNT ? 1 : max;
}

/*
 * Authentication method: the configured one, or the strongest the device
 * offers that this side can carry out: Static OOB, Output OOB (we need a
 * way to ask the user), Input OOB (we need a way to show the value), then
 * No OOB unless the policy or the device forbids it.
 */
static int choose_auth(struct prov_sess *s, struct prov_start *st)
{
	const struct prov_caps *c = &s->caps;
	uint8_t action;

	if (s->cfg.auth_method != PROV_AUTH_AUTO) {
		st->auth_method = s->cfg.auth_method;
		st->auth_action = s->cfg.auth_action;
		st->auth_size = s->cfg.auth_size;
	} else if ((c->oob_type & PROV_OOB_TYPE_STATIC) && s->cfg.static_oob_len) {
		st->auth_method = PROV_AUTH_STATIC;
	} else if (c->output_size && s->ops.input_oob_request &&
		   pick_action(c->output_actions, out_prefs, sizeof(out_prefs), &action)) {
		st->auth_method = PROV_AUTH_OUTPUT;
		st->auth_action = action;
		st->auth_size = pick_size(st, c->output_size);
	} else if (c->input_size && s->ops.output_oob &&
		   pick_action(c->input_actions, in_prefs, sizeof(in_prefs), &action)) {
		st->auth_method = PROV_AUTH_INPUT;
		st->auth_action = action;
		st->auth_size = pick_size(st, c->input_size);
	} else {
		st->auth_method = PROV_AUTH_NO_OOB;
	}
	if (prov_start_check(st, c)) {
		return -ENOTSUP;
	}
	switch (st->auth_method) {
	case PROV_AUTH_NO_OOB:
		return (s->cfg.policy & PROV_POLICY_NO_NO_OOB) ? -ENOTSUP : 0;
	case PROV_AUTH_STATIC:
		return s->cfg.static_oob_len ? 0 : -ENOTSUP;
	case PROV_AUTH_OUTPUT:
		return s->ops.input_oob_request ? 0 : -ENOTSUP;
	case PROV_AUTH_INPUT:
	default:
		return s->ops.output_oob ? 0 : -ENOTSUP;
	}
}

static int assign_address(struct prov_sess *s)
{
	uint16_t addr = s->cfg.data.unicast;

	if (s->ops.assign_addr && s->ops.assign_addr(s->ops.ctx, &s->caps, &addr)) {
		return -ENOSPC;
	}
	if (!mesh_addr_is_unicast(addr) || (uint32_t)addr + s->caps.elements - 1 > 0x7fff) {
		return -ENOSPC;
	}
	s->data = s->cfg.data;
	s->data.unicast = addr;
	return 0;
}

static int prov_send_confirmation(struct prov_sess *s)
{
	int err = make_confirmation(s);

	if (err) {
		return fail_local(s, err);
	}
	s->expect = PROV_CONFIRMATION;
	err = send_value(s, PROV_CONFIRMATION, s->conf_own);
	return err ? fail_local(s, err) : 0;
}

/* After ECDH: authenticate by the chosen method (§5.4.2.4). */
static int prov_authenticate(struct prov_sess *s)
{
	char str[PROV_OOB_SIZE_MAX + 1];
	int err;

	switch (s->start.auth_method) {
	case PROV_AUTH_OUTPUT:
		s->expect = EXPECT_NOTHING;
		s->await_input = true;
		s->ops.input_oob_request(s->ops.ctx, s->start.auth_action, s->start.auth_size);
		return 0;
	case PROV_AUTH_INPUT:
		err = auth_generate(s, str);
		if (err) {
			return fail_local(s, err);
		}
		s->expect = PROV_INPUT_COMPLETE;
		s->ops.output_oob(s->ops.ctx, s->start.auth_action, str);
		mesh_crypto_wipe(str, sizeof(str));
		return 0;
	case PROV_AUTH_STATIC:
		auth_set_static(s);
		return prov_send_confirmation(s);
	case PROV_AUTH_NO_OOB:
	default:
		memset(s->auth, 0, sizeof(s->auth));
		return prov_send_confirmation(s);
	}
}

static int p_caps(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	struct prov_pdu out;
	struct prov_start *st = &out.u.start;
	bool oob_key;
	int err;

	s->caps = p->u.caps;
	memcpy(s->caps_raw, params, PROV_PARAMS_CAPS);
	memset(&out, 0, sizeof(out));
	out.type = PROV_START;
	/* The strongest algorithm offered that the policy allows (§5.4.1.2). */
	if ((s->caps.algorithms & PROV_ALGS_HMAC) && !(s->cfg.policy & PROV_POLICY_NO_HMAC)) {
		st->alg = PROV_ALG_HMAC;
	} else if ((s->caps.algorithms & PROV_ALGS_CMAC) &&
		   !(s->cfg.policy & PROV_POLICY_NO_CMAC)) {
		st->alg = PROV_ALG_CMAC;
	} else {
		return fail(s, -ENOTSUP, PROV_ERR_NONE, false);
	}
	if (s->cert_ok && !(s->caps.pub_key_type & PROV_PUB_KEY_TYPE_OOB)) {
		/* The certificate vouches for a key the device then does not use. */
		if (s->cfg.cert_policy == PROV_CERT_REQUIRE) {
			return fail_reason(s, -ENOTSUP,
					   "device does not use the key of its certificate");
		}
		s->cert_ok = false;
		s->cfg.has_dev_pub_key = false;
	}
	if (s->cfg.has_dev_pub_key && !(s->caps.pub_key_type & PROV_PUB_KEY_TYPE_OOB)) {
		/* The in-band key instead would leave a No OOB session unauthenticated. */
		return fail(s, -ENOTSUP, PROV_ERR_NONE, false);
	}
	oob_key = s->cfg.has_dev_pub_key;
	st->pub_key = oob_key ? PROV_START_PUB_KEY_OOB : PROV_START_PUB_KEY_NO_OOB;
	if (choose_auth(s, st)) {
		return fail(s, -ENOTSUP, PROV_ERR_NONE, false);
	}
	if (assign_address(s)) {
		return fail(s, -ENOSPC, PROV_ERR_CANNOT_ASSIGN_ADDR, false);
	}
	s->start = *st;
	s->vlen = prov_alg_value_len(st->alg);
	s->start_raw[0] = st->alg;
	s->start_raw[1] = st->pub_key;
	s->start_raw[2] = st->auth_method;
	s->start_raw[3] = st->auth_action;
	s->start_raw[4] = st->auth_size;
	s->expect = oob_key ? EXPECT_NOTHING : PROV_PUB_KEY;
	err = send_pdu(s, &out);
	if (!err) {
		out.type = PROV_PUB_KEY;
		memcpy(out.u.pub_key, s->pub, sizeof(s->pub));
		err = send_pdu(s, &out);
	}
	if (err) {
		return fail_local(s, err);
	}
	if (!oob_key) {
		return 0;
	}
	err = take_peer_key(s, s->cfg.dev_pub_key);
	return err ? err : prov_authenticate(s);
}

static int p_pub_key(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	int err = take_peer_key(s, p->u.pub_key);

	(void)params;
	return err ? err : prov_authenticate(s);
}

static int p_input_complete(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	(void)p;
	(void)params;
	return prov_send_confirmation(s);
}

static int p_confirmation(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	int err;

	(void)params;
	/* A reflected Confirmation (CVE-2020-26560) is refused outright. */
	if (mesh_crypto_equal(p->u.value.v, s->conf_own, s->vlen)) {
		return fail(s, -EINVAL, PROV_ERR_CONFIRMATION_FAILED, true);
	}
	memcpy(s->conf_peer, p->u.value.v, s->vlen);
	s->expect = PROV_RANDOM;
	err = send_value(s, PROV_RANDOM, s->rand_own);
	return err ? fail_local(s, err) : 0;
}

static int p_random(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	uint8_t plain[PROV_DATA_LEN];
	struct prov_pdu out;
	int err;

	(void)params;
	err = check_random(s, p->u.value.v);
	if (err) {
		return err;
	}
	/*
	 * The device becomes a node as soon as it decrypts the Data PDU
	 * (§5.4.2.5); this is the provisioner's last chance to make the address
	 * and DevKey durable so that a crash cannot lose a node that exists.
	 */
	if (s->ops.data_ready) {
		err = s->ops.data_ready(s->ops.ctx, &s->data, s->dev_key, s->caps.elements);
		if (err) {
			return fail_local(s, err);
		}
	}
	memset(&out, 0, sizeof(out));
	out.type = PROV_DATA;
	prov_data_encode(&s->data, plain);
	err = prov_crypto_data_encrypt(s->session_key, s->nonce, plain, out.u.data.enc,
				       out.u.data.mic);
	mesh_crypto_wipe(plain, sizeof(plain));
	if (err) {
		return fail_local(s, err);
	}
	s->expect = PROV_COMPLETE;
	err = send_pdu(s, &out);
	mesh_crypto_wipe(&out, sizeof(out));
	return err ? fail_local(s, err) : 0;
}

static int p_complete(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	(void)p;
	(void)params;
	finish(s);
	return 0;
}

static int send_invite(struct prov_sess *s)
{
	struct prov_pdu p;
	int err;

	s->invite[0] = s->cfg.attention;
	memset(&p, 0, sizeof(p));
	p.type = PROV_INVITE;
	p.u.attention = s->cfg.attention;
	s->expect = PROV_CAPABILITIES;
	err = send_pdu(s, &p);
	return err ? fail_local(s, err) : 0;
}

static int request_record(struct prov_sess *s)
{
	struct prov_pdu p;
	int err;

	prov_rec_asm_request(&s->rec[s->cur_rec], &p);
	s->expect = PROV_RECORD_RESPONSE;
	err = send_pdu(s, &p);
	return err ? fail_local(s, err) : 0;
}

static int p_records_list(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	uint16_t frag = s->cfg.rec_frag_max ? s->cfg.rec_frag_max : PROV_REC_FRAG_REMOTE;
	size_t limit = s->cfg.rec_limit ? s->cfg.rec_limit : PROV_REC_LIMIT_DEFAULT;
	bool has_cert;
	int n;

	(void)params;
	n = prov_rec_select(p, s->rec_ids, PROV_REC_MAX, &has_cert);
	if (n == -E2BIG) {
		return fail_reason(s, -E2BIG,
				   "device lists more records than this provisioner reads");
	}
	if (!has_cert) {
		if (s->cfg.cert_policy == PROV_CERT_REQUIRE) {
			return fail_reason(s, -ENOENT, "device has no certificate");
		}
		return send_invite(s);
	}
	/* Cannot fail: cfg_ok() bounded frag, and rec_limit is 16-bit. */
	for (int i = 0; i < n; i++) {
		(void)prov_rec_asm_init(&s->rec[i], s->rec_ids[i], frag, limit);
	}
	s->n_rec = (size_t)n;
	s->cur_rec = 0;
	return request_record(s);
}

/* Every record is in: let the owner judge the chain, then go on with Invite. */
static int verify_records(struct prov_sess *s)
{
	struct prov_record recs[PROV_REC_MAX];
	char why[PROV_REC_REASON_MAX] = "";
	uint8_t key[MESH_P256_PUB_LEN];
	int err;

	for (size_t i = 0; i < s->n_rec; i++) {
		recs[i].id = s->rec[i].id;
		recs[i].data = s->rec[i].buf;
		recs[i].len = s->rec[i].total;
	}
	err = s->ops.verify_records(s->ops.ctx, recs, s->n_rec, key, why, sizeof(why));
	records_free(s);
	if (err || !mesh_crypto_p256_valid(key)) {
		why[sizeof(why) - 1] = '\0';
		return fail_reason(s, err < 0 ? err : -EKEYREJECTED,
				   why[0] ? why : "certificate refused");
	}
	memcpy(s->cfg.dev_pub_key, key, sizeof(key));
	s->cfg.has_dev_pub_key = true;
	s->cert_ok = true;
	return send_invite(s);
}

static int p_record_rsp(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	const char *why = "";
	int ret;

	(void)params;
	ret = prov_rec_asm_feed(&s->rec[s->cur_rec], p, &why);
	if (ret < 0) {
		return fail_reason(s, ret, why);
	}
	if (ret == 0) {
		return request_record(s);
	}
	if (++s->cur_rec < s->n_rec) {
		return request_record(s);
	}
	return verify_records(s);
}

static const handler_fn prov_handlers[PROV_PDU_TYPES] = {
    [PROV_RECORDS_LIST] = p_records_list,
    [PROV_RECORD_RESPONSE] = p_record_rsp,
    [PROV_CAPABILITIES] = p_caps,
    [PROV_PUB_KEY] = p_pub_key,
    [PROV_INPUT_COMPLETE] = p_input_complete,
    [PROV_CONFIRMATION] = p_confirmation,
    [PROV_RANDOM] = p_random,
    [PROV_COMPLETE] = p_complete,
};

/* --- Device -------------------------------------------------------------- */

static void caps_encode(const struct prov_caps *c, uint8_t out[PROV_PARAMS_CAPS])
{
	struct prov_pdu p;
	uint8_t buf[1 + PROV_PARAMS_CAPS];
	size_t len;

	memset(&p, 0, sizeof(p));
	p.type = PROV_CAPABILITIES;
	p.u.caps = *c;
	(void)prov_pdu_build(&p, buf, sizeof(buf), &len);
	memcpy(out, buf + 1, PROV_PARAMS_CAPS);
}

static int d_invite(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	struct prov_pdu out;
	int err;

	(void)params;
	s->invite[0] = p->u.attention;
	s->caps = s->cfg.caps;
	caps_encode(&s->caps, s->caps_raw);
	memset(&out, 0, sizeof(out));
	out.type = PROV_CAPABILITIES;
	out.u.caps = s->caps;
	s->expect = PROV_START;
	err = send_pdu(s, &out);
	return err ? fail_local(s, err) : 0;
}

static int d_start(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	const struct prov_start *st = &p->u.start;

	/* §5.4.1.3: anything the Capabilities did not offer is Invalid Format. */
	if (prov_start_check(st, &s->caps) ||
	    (st->alg == PROV_ALG_CMAC && (s->cfg.policy & PROV_POLICY_NO_CMAC)) ||
	    (st->alg == PROV_ALG_HMAC && (s->cfg.policy & PROV_POLICY_NO_HMAC)) ||
	    (st->auth_method == PROV_AUTH_NO_OOB && (s->cfg.policy & PROV_POLICY_NO_NO_OOB))) {
		return fail(s, -EBADMSG, PROV_ERR_INVALID_FORMAT, true);
	}
	s->start = *st;
	memcpy(s->start_raw, params, PROV_PARAMS_START);
	s->vlen = prov_alg_value_len(st->alg);
	s->expect = PROV_PUB_KEY;
	return 0;
}

static int d_pub_key(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	char str[PROV_OOB_SIZE_MAX + 1];
	struct prov_pdu out;
	int err;

	(void)params;
	err = take_peer_key(s, p->u.pub_key);
	if (err) {
		return err;
	}
	switch (s->start.auth_method) {
	case PROV_AUTH_OUTPUT:
		err = auth_generate(s, str);
		if (err) {
			return fail_local(s, err);
		}
		s->expect = PROV_CONFIRMATION;
		break;
	case PROV_AUTH_INPUT:
		s->expect = EXPECT_NOTHING;
		s->await_input = true;
		break;
	case PROV_AUTH_STATIC:
		auth_set_static(s);
		s->expect = PROV_CONFIRMATION;
		break;
	case PROV_AUTH_NO_OOB:
	default:
		memset(s->auth, 0, sizeof(s->auth));
		s->expect = PROV_CONFIRMATION;
		break;
	}
	/* With an OOB public key the provisioner already has ours (§5.4.2.3). */
	if (s->start.pub_key == PROV_START_PUB_KEY_NO_OOB) {
		memset(&out, 0, sizeof(out));
		out.type = PROV_PUB_KEY;
		memcpy(out.u.pub_key, s->pub, sizeof(s->pub));
		err = send_pdu(s, &out);
		if (err) {
			return fail_local(s, err);
		}
	}
	if (s->start.auth_method == PROV_AUTH_OUTPUT) {
		s->ops.output_oob(s->ops.ctx, s->start.auth_action, str);
		mesh_crypto_wipe(str, sizeof(str));
	} else if (s->start.auth_method == PROV_AUTH_INPUT) {
		s->ops.input_oob_request(s->ops.ctx, s->start.auth_action, s->start.auth_size);
	}
	return 0;
}

static int d_confirmation(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	int err;

	(void)params;
	err = make_confirmation(s);
	if (err) {
		return fail_local(s, err);
	}
	if (mesh_crypto_equal(p->u.value.v, s->conf_own, s->vlen)) {
		return fail(s, -EINVAL, PROV_ERR_CONFIRMATION_FAILED, true);
	}
	memcpy(s->conf_peer, p->u.value.v, s->vlen);
	s->expect = PROV_RANDOM;
	err = send_value(s, PROV_CONFIRMATION, s->conf_own);
	return err ? fail_local(s, err) : 0;
}

static int d_random(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	int err;

	(void)params;
	err = check_random(s, p->u.value.v);
	if (err) {
		return err;
	}
	s->expect = PROV_DATA;
	err = send_value(s, PROV_RANDOM, s->rand_own);
	return err ? fail_local(s, err) : 0;
}

/* Provisioning Data contents a device can use (§5.4.2.5, §3.4.2.2). */
static bool data_ok(const struct prov_data *d, uint8_t elements)
{
	return d->net_idx <= MESH_KEY_IDX_MAX && !(d->flags & ~0x03u) &&
	       mesh_addr_is_unicast(d->unicast) && (uint32_t)d->unicast + elements - 1 <= 0x7fff;
}

static int d_data(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	uint8_t plain[PROV_DATA_LEN];
	struct prov_data d;
	struct prov_pdu out;
	int err;

	(void)params;
	if (prov_crypto_data_decrypt(s->session_key, s->nonce, p->u.data.enc, p->u.data.mic,
				     plain)) {
		return fail(s, -EACCES, PROV_ERR_DECRYPTION_FAILED, true);
	}
	prov_data_decode(plain, &d);
	mesh_crypto_wipe(plain, sizeof(plain));
	if (!data_ok(&d, s->cfg.caps.elements)) {
		mesh_crypto_wipe(&d, sizeof(d));
		return fail(s, -EBADMSG, PROV_ERR_INVALID_DATA, true);
	}
	s->data = d;
	mesh_crypto_wipe(&d, sizeof(d));
	memset(&out, 0, sizeof(out));
	out.type = PROV_COMPLETE;
	s->expect = EXPECT_NOTHING;
	err = send_pdu(s, &out);
	if (err) {
		return fail_local(s, err);
	}
	finish(s);
	return 0;
}

/* Records are served while the device waits for Invite; `expect` stays there. */
static int d_records_get(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	uint8_t ids[2 * PROV_REC_MAX];
	struct prov_pdu out;
	int err;

	(void)p;
	(void)params;
	err = prov_rec_list(s->cfg.records, s->cfg.n_records, ids, sizeof(ids), &out);
	if (!err) {
		err = send_pdu(s, &out);
	}
	return err ? fail_local(s, err) : 0;
}

static int d_record_req(struct prov_sess *s, const struct prov_pdu *p, const uint8_t *params)
{
	struct prov_pdu out;
	int err;

	(void)params;
	prov_rec_serve(s->cfg.records, s->cfg.n_records, p, &out);
	err = send_pdu(s, &out);
	return err ? fail_local(s, err) : 0;
}

static const handler_fn dev_handlers[PROV_PDU_TYPES] = {
    [PROV_RECORDS_GET] = d_records_get, [PROV_RECORD_REQUEST] = d_record_req,
    [PROV_INVITE] = d_invite,           [PROV_START] = d_start,
    [PROV_PUB_KEY] = d_pub_key,         [PROV_CONFIRMATION] = d_confirmation,
    [PROV_RANDOM] = d_random,           [PROV_DATA] = d_data,
};

/* --- Public API ---------------------------------------------------------- */

/* Records a device can serve: distinct IDs, lengths a Total Length can carry. */
static bool records_ok(const struct prov_cfg *c)
{
	if (c->n_records > PROV_REC_MAX || (c->n_records && !c->records)) {
		return false;
	}
	for (size_t i = 0; i < c->n_records; i++) {
		const struct prov_record *r = &c->records[i];

		if (!r->data || r->len == 0 || r->len > 0xffff) {
			return false;
		}
		for (size_t j = 0; j < i; j++) {
			if (c->records[j].id == r->id) {
				return false;
			}
		}
	}
	return true;
}

static bool cfg_ok(const struct prov_cfg *c, const struct prov_ops *o)
{
	if (!o->send ||
	    (c->static_oob_len != 0 && c->static_oob_len != 16 && c->static_oob_len != 32)) {
		return false;
	}
	if (c->role == PROV_ROLE_PROVISIONER) {
		if (c->has_dev_pub_key && !mesh_crypto_p256_valid(c->dev_pub_key)) {
			return false;
		}
		if (c->cert_policy > PROV_CERT_REQUIRE ||
		    (c->cert_policy != PROV_CERT_NEVER && !o->verify_records) ||
		    c->rec_frag_max > PROV_REC_FRAG_ADV) {
			return false;
		}
		return c->auth_method == PROV_AUTH_AUTO || c->auth_method <= PROV_AUTH_INPUT;
	}
	if (c->role != PROV_ROLE_DEVICE || !records_ok(c)) {
		return false;
	}
	/* A device must be able to do everything it advertises. */
	return c->caps.elements != 0 && (c->caps.algorithms & (PROV_ALGS_CMAC | PROV_ALGS_HMAC)) &&
	       c->caps.output_size <= PROV_OOB_SIZE_MAX &&
	       c->caps.input_size <= PROV_OOB_SIZE_MAX &&
	       (!(c->caps.oob_type & PROV_OOB_TYPE_STATIC) || c->static_oob_len) &&
	       (!(c->caps.pub_key_type & PROV_PUB_KEY_TYPE_OOB) || c->has_priv_key) &&
	       (!c->caps.output_size || !c->caps.output_actions || o->output_oob) &&
	       (!c->caps.input_size || !c->caps.input_actions || o->input_oob_request);
}

int prov_new(const struct prov_cfg *cfg, const struct prov_ops *ops, const struct mesh_rng *rng,
	     struct prov_sess **out)
{
	struct prov_sess *s;
	int err;

	if (!cfg || !ops || !out || !cfg_ok(cfg, ops)) {
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		return -ENOMEM;
	}
	s->cfg = *cfg;
	s->ops = *ops;
	if (rng) {
		s->rng = *rng;
	}
	s->phase = PROV_PHASE_IDLE;
	s->expect = EXPECT_NOTHING;
	s->deadline = UINT64_MAX;
	if (cfg->has_priv_key) {
		memcpy(s->priv, cfg->priv_key, sizeof(s->priv));
		err = mesh_crypto_p256_pub_from_priv(s->priv, s->pub);
		if (err) {
			err = -EINVAL;
		}
	} else {
		err = mesh_crypto_p256_keygen(s->priv, s->pub);
	}
	if (err) {
		prov_free(s);
		return err;
	}
	*out = s;
	return 0;
}

void prov_free(struct prov_sess *s)
{
	if (!s) {
		return;
	}
	records_free(s);
	mesh_crypto_wipe(s, sizeof(*s));
	free(s);
}

int prov_start(struct prov_sess *s, uint64_t now_ms)
{
	struct prov_pdu p;
	int err;

	if (!s) {
		return -EINVAL;
	}
	if (s->phase != PROV_PHASE_IDLE) {
		return -EALREADY;
	}
	s->phase = PROV_PHASE_ACTIVE;
	s->deadline = now_ms + PROV_TIMEOUT_MS;
	if (is_device(s)) {
		s->expect = PROV_INVITE;
		return 0;
	}
	if (s->cfg.cert_policy == PROV_CERT_NEVER) {
		return send_invite(s);
	}
	memset(&p, 0, sizeof(p));
	p.type = PROV_RECORDS_GET;
	s->expect = PROV_RECORDS_LIST;
	err = send_pdu(s, &p);
	return err ? fail_local(s, err) : 0;
}

/* A device with records answers the record PDUs while it waits for Invite. */
static bool record_pdu_allowed(const struct prov_sess *s, uint8_t type)
{
	return is_device(s) && s->cfg.n_records && s->expect == PROV_INVITE &&
	       (type == PROV_RECORDS_GET || type == PROV_RECORD_REQUEST);
}

int prov_rx(struct prov_sess *s, const uint8_t *pdu, size_t len, uint64_t now_ms)
{
	const handler_fn *handlers;
	enum prov_err code = PROV_ERR_INVALID_PDU;
	struct prov_pdu p;
	uint8_t type;

	if (!s || (!pdu && len)) {
		return -EINVAL;
	}
	if (s->phase == PROV_PHASE_IDLE) {
		return -EBUSY;
	}
	if (s->phase != PROV_PHASE_ACTIVE) {
		return -EALREADY;
	}
	/* A bearer may hand over the same PDU twice; a repeat is not an error. */
	if (len && len == s->last_len && memcmp(pdu, s->last, len) == 0) {
		return 0;
	}
	/* Order of checks (§5.4.4): type, then order, then length and fields. */
	if (!len || (pdu[0] & 0xc0) || pdu[0] >= PROV_PDU_TYPES) {
		return fail(s, -EBADMSG, PROV_ERR_INVALID_PDU, true);
	}
	type = pdu[0];
	handlers = is_device(s) ? dev_handlers : prov_handlers;
	if (type != PROV_FAILED && !record_pdu_allowed(s, type) &&
	    (type != s->expect || !handlers[type])) {
		return fail(s, -EPROTO, PROV_ERR_UNEXPECTED_PDU, true);
	}
	if (prov_pdu_parse(pdu, len, s->vlen, &p, &code)) {
		return fail(s, -EBADMSG, code, true);
	}
	if (type == PROV_FAILED) {
		if (!is_device(s) && s->expect == PROV_RECORDS_LIST) {
			/* Records Get is new in 1.1: a 1.0 device answers it with Unexpected PDU.
			 */
			snprintf(s->reason, sizeof(s->reason),
				 "device does not support certificate-based provisioning");
		}
		return fail(s, -ECONNABORTED, p.u.err, false);
	}
	s->deadline = now_ms + PROV_TIMEOUT_MS;
	if (len <= sizeof(s->last)) {
		memcpy(s->last, pdu, len);
		s->last_len = len;
	}
	return handlers[type](s, &p, pdu + 1);
}

int prov_input_oob(struct prov_sess *s, const char *value)
{
	struct prov_pdu p;
	int err;

	if (!s || !value) {
		return -EINVAL;
	}
	if (s->phase != PROV_PHASE_ACTIVE || !s->await_input) {
		return -EALREADY;
	}
	err = auth_from_input(s, value);
	if (err) {
		return err;
	}
	s->await_input = false;
	if (!is_device(s)) {
		return prov_send_confirmation(s);
	}
	memset(&p, 0, sizeof(p));
	p.type = PROV_INPUT_COMPLETE;
	s->expect = PROV_CONFIRMATION;
	err = send_pdu(s, &p);
	return err ? fail_local(s, err) : 0;
}

uint64_t prov_next_deadline(const struct prov_sess *s)
{
	if (!s || s->phase != PROV_PHASE_ACTIVE) {
		return UINT64_MAX;
	}
	return s->deadline;
}

void prov_tick(struct prov_sess *s, uint64_t now_ms)
{
	if (s && s->phase == PROV_PHASE_ACTIVE && now_ms >= s->deadline) {
		(void)fail(s, -ETIMEDOUT, PROV_ERR_NONE, false);
	}
}

enum prov_phase prov_phase(const struct prov_sess *s)
{
	return s ? s->phase : PROV_PHASE_IDLE;
}

const char *prov_reason(const struct prov_sess *s)
{
	return s ? s->reason : "";
}
