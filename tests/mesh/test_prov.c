#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/crypto.h"
#include "mesh/prov.h"
#include "mesh/prov_crypto.h"
#include "tests/util/tv.h"

/*
 * Provisioner and device sessions driven back to back in memory: a test
 * transport queues every PDU a session sends and hands it to the other
 * session later (never from inside ops.send), optionally through a tamper
 * hook that plays the attacker.
 */

#define MAXQ 64
#define MAXTX 16
#define P 0 /* provisioner side */
#define D 1 /* device side */

struct script {
	uint8_t buf[256];
	size_t len;
	size_t pos;
	uint64_t seed;
};

struct pair;

struct side {
	struct pair *pair;
	int idx;
	struct prov_sess *s;
	struct script rng;
	int done;
	int failed;
	int err;
	uint8_t code;
	struct prov_result res;
	char shown[PROV_OOB_SIZE_MAX + 1];
	bool has_shown;
	uint8_t shown_action;
	bool requested;
	uint8_t req_action;
	uint8_t req_size;
	uint8_t tx[MAXTX][PROV_PDU_MAX];
	size_t tx_len[MAXTX];
	int ntx;
	/* ops.data_ready: what it saw, when (PDUs sent before it), what it returns. */
	int ready;
	int ready_ntx;
	struct prov_data ready_data;
	uint8_t ready_key[16];
	uint8_t ready_elements;
	int ready_ret;
};

struct msg {
	int to;
	uint8_t pdu[PROV_PDU_MAX];
	size_t len;
};

struct pair {
	struct side side[2];
	struct msg q[MAXQ];
	int qh;
	int qt;
	uint64_t now;
	int rx_ret[2]; /* what prov_rx returned last, per side */
	/* Attacker: may rewrite a PDU in flight; return false to drop it. */
	bool (*tamper)(struct pair *pr, int to, uint8_t *pdu, size_t *len);
	const char *wrong_input; /* typed instead of the shown value, once */
};

static int script_rng(void *ctx, uint8_t *buf, size_t len)
{
	struct script *sc = ctx;

	if (sc->pos + len <= sc->len) {
		memcpy(buf, sc->buf + sc->pos, len);
		sc->pos += len;
		return 0;
	}
	return tv_rng(&sc->seed, buf, len);
}

static void script_add(struct script *sc, const uint8_t *p, size_t n)
{
	cr_assert(sc->len + n <= sizeof(sc->buf));
	memcpy(sc->buf + sc->len, p, n);
	sc->len += n;
}

static int t_send(void *ctx, const uint8_t *pdu, size_t len)
{
	struct side *sd = ctx;
	struct pair *pr = sd->pair;
	struct msg *m;

	cr_assert(len <= PROV_PDU_MAX);
	if (sd->ntx < MAXTX) {
		memcpy(sd->tx[sd->ntx], pdu, len);
		sd->tx_len[sd->ntx++] = len;
	}
	cr_assert(pr->qt - pr->qh < MAXQ);
	m = &pr->q[pr->qt++ % MAXQ];
	m->to = 1 - sd->idx;
	memcpy(m->pdu, pdu, len);
	m->len = len;
	return 0;
}

static void t_output(void *ctx, uint8_t action, const char *value)
{
	struct side *sd = ctx;

	cr_assert(strlen(value) <= PROV_OOB_SIZE_MAX);
	strcpy(sd->shown, value);
	sd->has_shown = true;
	sd->shown_action = action;
}

static void t_request(void *ctx, uint8_t action, uint8_t size)
{
	struct side *sd = ctx;

	sd->requested = true;
	sd->req_action = action;
	sd->req_size = size;
}

static void t_done(void *ctx, const struct prov_result *res)
{
	struct side *sd = ctx;

	sd->done++;
	sd->res = *res;
}

static void t_failed(void *ctx, int err, uint8_t code)
{
	struct side *sd = ctx;

	sd->failed++;
	sd->err = err;
	sd->code = code;
}

static int t_data_ready(void *ctx, const struct prov_data *data, const uint8_t dev_key[16],
			uint8_t elements)
{
	struct side *sd = ctx;

	sd->ready++;
	sd->ready_ntx = sd->ntx;
	sd->ready_data = *data;
	memcpy(sd->ready_key, dev_key, 16);
	sd->ready_elements = elements;
	return sd->ready_ret;
}

static const struct prov_ops base_ops = {
    .send = t_send,
    .output_oob = t_output,
    .input_oob_request = t_request,
    .done = t_done,
    .failed = t_failed,
};

static const uint8_t test_net_key[16] = {0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18,
					 0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6};

static void prov_cfg_default(struct prov_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->role = PROV_ROLE_PROVISIONER;
	c->auth_method = PROV_AUTH_AUTO;
	c->attention = 5;
	memcpy(c->data.net_key, test_net_key, 16);
	c->data.net_idx = 0x0123;
	c->data.flags = 0x02;
	c->data.iv_index = 0x12345678;
	c->data.unicast = 0x0100;
}

static void dev_cfg_default(struct prov_cfg *c, uint16_t algs)
{
	memset(c, 0, sizeof(*c));
	c->role = PROV_ROLE_DEVICE;
	c->caps.elements = 2;
	c->caps.algorithms = algs;
}

/* Both sessions with the given ops (ctx is set per side). */
static void pair_init_ops(struct pair *pr, const struct prov_cfg *pc, const struct prov_cfg *dc,
			  uint64_t seed, const struct prov_ops *base)
{
	const struct prov_cfg *cfg[2] = {pc, dc};

	memset(pr, 0, sizeof(*pr));
	for (int i = 0; i < 2; i++) {
		struct side *sd = &pr->side[i];
		struct prov_ops ops = *base;
		struct mesh_rng rng = {.fn = script_rng, .ctx = &sd->rng};

		sd->pair = pr;
		sd->idx = i;
		sd->rng.seed = seed * 2 + (uint64_t)i + 1;
		memset(&sd->res, 0xee, sizeof(sd->res));
		ops.ctx = sd;
		cr_assert_eq(prov_new(cfg[i], &ops, &rng, &sd->s), 0, "prov_new side %d", i);
	}
	pr->now = 1000;
}

static void pair_init(struct pair *pr, const struct prov_cfg *pc, const struct prov_cfg *dc,
		      uint64_t seed)
{
	pair_init_ops(pr, pc, dc, seed, &base_ops);
}

static void pair_free(struct pair *pr)
{
	prov_free(pr->side[P].s);
	prov_free(pr->side[D].s);
}

/* Deliver one queued PDU; false when the queue is empty. */
static bool deliver_one(struct pair *pr)
{
	struct msg m;

	if (pr->qh == pr->qt) {
		return false;
	}
	m = pr->q[pr->qh++ % MAXQ];
	if (pr->tamper && !pr->tamper(pr, m.to, m.pdu, &m.len)) {
		return true;
	}
	pr->now += 10;
	pr->rx_ret[m.to] = prov_rx(pr->side[m.to].s, m.pdu, m.len, pr->now);
	return true;
}

/* The user reads the value one side shows and types it on the other. */
static bool answer_input(struct pair *pr)
{
	for (int i = 0; i < 2; i++) {
		struct side *asker = &pr->side[i];
		struct side *shower = &pr->side[1 - i];

		if (asker->requested && shower->has_shown) {
			const char *v = pr->wrong_input ? pr->wrong_input : shower->shown;

			asker->requested = false;
			pr->wrong_input = NULL;
			cr_assert_eq(prov_input_oob(asker->s, v), 0);
			return true;
		}
	}
	return false;
}

static void pump(struct pair *pr)
{
	while (deliver_one(pr) || answer_input(pr)) {
	}
}

static void pair_run(struct pair *pr)
{
	cr_assert_eq(prov_start(pr->side[D].s, pr->now), 0);
	cr_assert_eq(prov_start(pr->side[P].s, pr->now), 0);
	pump(pr);
}

static void assert_success(struct pair *pr, const struct prov_cfg *pc, uint8_t alg)
{
	struct side *p = &pr->side[P], *d = &pr->side[D];

	cr_assert_eq(p->failed, 0, "provisioner failed: err %d code 0x%02x", p->err, p->code);
	cr_assert_eq(d->failed, 0, "device failed: err %d code 0x%02x", d->err, d->code);
	cr_assert_eq(p->done, 1);
	cr_assert_eq(d->done, 1);
	cr_assert(memcmp(p->res.dev_key, d->res.dev_key, 16) == 0, "DevKeys differ");
	for (int i = 0; i < 2; i++) {
		const struct prov_result *r = &pr->side[i].res;

		cr_assert(memcmp(r->data.net_key, pc->data.net_key, 16) == 0);
		cr_assert_eq(r->data.net_idx, pc->data.net_idx);
		cr_assert_eq(r->data.flags, pc->data.flags);
		cr_assert_eq(r->data.iv_index, pc->data.iv_index);
		cr_assert_eq(r->data.unicast, pc->data.unicast);
		cr_assert_eq(r->start.alg, alg);
		cr_assert_eq(prov_phase(pr->side[i].s), PROV_PHASE_DONE);
		cr_assert_eq(prov_next_deadline(pr->side[i].s), UINT64_MAX);
	}
	cr_assert_eq(p->res.elements, d->res.elements);
	cr_assert(memcmp(&p->res.caps, &d->res.caps, sizeof(p->res.caps)) == 0);
}

/* The session failed with err/code, and no key left it. */
static void assert_failed(struct side *sd, int err, uint8_t code)
{
	struct prov_result untouched;

	memset(&untouched, 0xee, sizeof(untouched));
	cr_assert_eq(sd->failed, 1, "side %d: failed %d times", sd->idx, sd->failed);
	cr_assert_eq(sd->err, err, "side %d: err %d, want %d", sd->idx, sd->err, err);
	cr_assert_eq(sd->code, code, "side %d: code 0x%02x, want 0x%02x", sd->idx, sd->code, code);
	cr_assert_eq(sd->done, 0);
	cr_assert(memcmp(&sd->res, &untouched, sizeof(untouched)) == 0, "result written");
	cr_assert_eq(prov_phase(sd->s), PROV_PHASE_FAILED);
}

/* The last PDU a side sent. */
static const uint8_t *last_tx(struct side *sd, size_t *len)
{
	cr_assert(sd->ntx > 0);
	*len = sd->tx_len[sd->ntx - 1];
	return sd->tx[sd->ntx - 1];
}

static void assert_sent_failed(struct side *sd, uint8_t code)
{
	size_t len;
	const uint8_t *pdu = last_tx(sd, &len);

	cr_assert_eq(len, 2);
	cr_assert_eq(pdu[0], PROV_FAILED);
	cr_assert_eq(pdu[1], code);
}

/* --- The spec's sample runs ---------------------------------------------- */

struct sample_run {
	json_t *j;
	struct prov_cfg pc;
	struct prov_cfg dc;
	struct pair pr;
};

static void sample_setup(struct sample_run *sr, const char *name)
{
	char path[64];
	uint8_t caps[11], start[5], v[32];
	int alen;

	snprintf(path, sizeof(path), "provisioning.%s", name);
	sr->j = tv_get(path);
	cr_assert_not_null(sr->j);
	cr_assert_eq(tv_bytes(sr->j, "CapabilitiesPDUValue", caps, 11), 11);
	cr_assert_eq(tv_bytes(sr->j, "StartPDUValue", start, 5), 5);

	prov_cfg_default(&sr->pc);
	sr->pc.attention = 0;
	sr->pc.has_priv_key = true;
	cr_assert_eq(tv_bytes(sr->j, "ProvisionerPrivateKey", sr->pc.priv_key, 32), 32);
	cr_assert_eq(tv_bytes(json_object_get(sr->j, "ProvisioningData_fields"), "NetKey",
			      sr->pc.data.net_key, 16),
		     16);
	sr->pc.data.net_idx = 0x0567;
	sr->pc.data.flags = 0x00;
	sr->pc.data.iv_index = 0x01020304;
	sr->pc.data.unicast = 0x0b0c;

	memset(&sr->dc, 0, sizeof(sr->dc));
	sr->dc.role = PROV_ROLE_DEVICE;
	sr->dc.has_priv_key = true;
	cr_assert_eq(tv_bytes(sr->j, "DevicePrivateKey", sr->dc.priv_key, 32), 32);
	sr->dc.caps.elements = caps[0];
	sr->dc.caps.algorithms = (uint16_t)(caps[1] << 8 | caps[2]);
	sr->dc.caps.pub_key_type = caps[3];
	sr->dc.caps.oob_type = caps[4];
	if (start[2] == PROV_AUTH_STATIC) {
		alen = tv_bytes(sr->j, "AuthValue", v, 32);
		cr_assert_eq(alen, 32);
		memcpy(sr->pc.static_oob, v, 32);
		memcpy(sr->dc.static_oob, v, 32);
		sr->pc.static_oob_len = sr->dc.static_oob_len = 32;
	}
	pair_init(&sr->pr, &sr->pc, &sr->dc, 1);
	alen = tv_bytes(sr->j, "RandomProvisioner", v, 32);
	script_add(&sr->pr.side[P].rng, v, (size_t)alen);
	alen = tv_bytes(sr->j, "RandomDevice", v, 32);
	script_add(&sr->pr.side[D].rng, v, (size_t)alen);
}

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

/* --- Every authentication method x both algorithms ------------------------ */

struct method {
	uint8_t method;
	uint8_t action;
	uint8_t size;
	uint8_t static_len;
};

static const struct method methods[] = {
    {PROV_AUTH_NO_OOB, 0, 0, 0},
    {PROV_AUTH_STATIC, 0, 0, 16},
    {PROV_AUTH_STATIC, 0, 0, 32},
    {PROV_AUTH_OUTPUT, PROV_OUT_BLINK, 1, 0},
    {PROV_AUTH_OUTPUT, PROV_OUT_BEEP, 2, 0},
    {PROV_AUTH_OUTPUT, PROV_OUT_VIBRATE, 3, 0},
    {PROV_AUTH_OUTPUT, PROV_OUT_NUMERIC, 8, 0},
    {PROV_AUTH_OUTPUT, PROV_OUT_ALPHA, 8, 0},
    {PROV_AUTH_OUTPUT, PROV_OUT_NUMERIC, 1, 0},
    {PROV_AUTH_INPUT, PROV_IN_PUSH, 1, 0},
    {PROV_AUTH_INPUT, PROV_IN_TWIST, 2, 0},
    {PROV_AUTH_INPUT, PROV_IN_NUMERIC, 6, 0},
    {PROV_AUTH_INPUT, PROV_IN_ALPHA, 4, 0},
};

static void method_cfgs(const struct method *m, uint16_t algs, struct prov_cfg *pc,
			struct prov_cfg *dc)
{
	static const uint8_t sval[32] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
					 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
					 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};

	prov_cfg_default(pc);
	dev_cfg_default(dc, algs);
	dc->caps.output_size = 8;
	dc->caps.output_actions = 0x1f;
	dc->caps.input_size = 8;
	dc->caps.input_actions = 0x0f;
	if (m->static_len) {
		dc->caps.oob_type = PROV_OOB_TYPE_STATIC;
		memcpy(pc->static_oob, sval, m->static_len);
		memcpy(dc->static_oob, sval, m->static_len);
		pc->static_oob_len = dc->static_oob_len = m->static_len;
	}
	pc->auth_method = m->method;
	pc->auth_action = m->action;
	pc->auth_size = m->size;
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

/*
 * A device session with the sample keys and RandomDevice, driven by hand
 * with the sample's provisioner PDUs; `upto` says how far to go.
 */
struct manual {
	struct sample_run sr;
	struct side *d;
	uint8_t pdu[PROV_PDU_MAX];
	size_t len;
};

static void manual_pdu(struct manual *m, uint8_t type, const char *key)
{
	int n = tv_bytes(m->sr.j, key, m->pdu + 1, sizeof(m->pdu) - 1);

	cr_assert_gt(n, 0);
	m->pdu[0] = type;
	m->len = (size_t)n + 1;
}

static int manual_rx(struct manual *m)
{
	m->sr.pr.now += 10;
	return prov_rx(m->d->s, m->pdu, m->len, m->sr.pr.now);
}

static void manual_setup(struct manual *m, const char *name, int upto)
{
	static const struct {
		uint8_t type;
		const char *key;
	} steps[] = {
	    {PROV_INVITE, "InvitePDUValue"},
	    {PROV_START, "StartPDUValue"},
	    {PROV_PUB_KEY, "ProvisionerPublicKey_XY"},
	    {PROV_CONFIRMATION, "ConfirmationProvisioner"},
	    {PROV_RANDOM, "RandomProvisioner"},
	};

	sample_setup(&m->sr, name);
	m->d = &m->sr.pr.side[D];
	cr_assert_eq(prov_start(m->d->s, m->sr.pr.now), 0);
	for (int i = 0; i < upto; i++) {
		manual_pdu(m, steps[i].type, steps[i].key);
		cr_assert_eq(manual_rx(m), 0, "step %d", i);
	}
}

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

/* A Provisioning Failed from the peer ends the device session without an answer. */
Test(prov, device_receives_failed)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 2);
	m.pdu[0] = PROV_FAILED;
	m.pdu[1] = PROV_ERR_UNEXPECTED_ERROR;
	m.len = 2;
	m.d->ntx = 0;
	cr_assert_eq(manual_rx(&m), -ECONNABORTED);
	assert_failed(m.d, -ECONNABORTED, PROV_ERR_UNEXPECTED_ERROR);
	cr_assert_eq(m.d->ntx, 0);
	pair_free(&m.sr.pr);
}

/* A repeat of the previous PDU (a bearer duplicate) is ignored, and the run completes. */
Test(prov, repeat_is_ignored)
{
	struct manual m;

	manual_setup(&m, "cmac_sample", 4);
	m.d->ntx = 0;
	cr_assert_eq(manual_rx(&m), 0, "repeated Confirmation");
	cr_assert_eq(m.d->ntx, 0, "nothing sent for a repeat");
	manual_pdu(&m, PROV_RANDOM, "RandomProvisioner");
	cr_assert_eq(manual_rx(&m), 0, "err %d code %d", m.d->err, m.d->code);
	cr_assert_eq(manual_rx(&m), 0, "repeated Random");
	cr_assert_eq(m.d->ntx, 1);
	cr_assert_eq(tv_bytes(m.sr.j, "ProvisioningDataPDU", m.pdu, sizeof(m.pdu)), 34);
	m.len = 34;
	cr_assert_eq(manual_rx(&m), 0, "err %d code %d", m.d->err, m.d->code);
	cr_assert_eq(m.d->done, 1);
	cr_assert_eq(manual_rx(&m), -EALREADY, "the result is handed out once");
	cr_assert_eq(m.d->done, 1);
	pair_free(&m.sr.pr);
}

/* --- Policy and addresses ------------------------------------------------ */

static void run_refused(struct prov_cfg *pc, struct prov_cfg *dc, int err, uint8_t code)
{
	struct pair pr;

	pair_init(&pr, pc, dc, 30);
	pair_run(&pr);
	assert_failed(&pr.side[P], err, code);
	cr_assert_eq(pr.side[P].ntx, 1, "only Invite was sent: no Start");
	cr_assert_eq(pr.side[D].done, 0);
	pair_free(&pr);
}

/* A policy forbidding CMAC refuses a CMAC-only device before Start (-ENOTSUP). */
Test(prov, policy_no_cmac)
{
	struct prov_cfg pc, dc;

	prov_cfg_default(&pc);
	pc.policy = PROV_POLICY_NO_CMAC;
	dev_cfg_default(&dc, PROV_ALGS_CMAC);
	run_refused(&pc, &dc, -ENOTSUP, PROV_ERR_NONE);
}

/* A policy forbidding No OOB refuses a device that offers no OOB method (-ENOTSUP). */
Test(prov, policy_no_no_oob)
{
	struct prov_cfg pc, dc;

	prov_cfg_default(&pc);
	pc.policy = PROV_POLICY_NO_NO_OOB;
	dev_cfg_default(&dc, PROV_ALGS_CMAC | PROV_ALGS_HMAC);
	run_refused(&pc, &dc, -ENOTSUP, PROV_ERR_NONE);
}

/* An explicit method the device did not offer is refused before Start. */
Test(prov, explicit_method_not_offered)
{
	struct prov_cfg pc, dc;

	prov_cfg_default(&pc);
	pc.auth_method = PROV_AUTH_OUTPUT;
	pc.auth_action = PROV_OUT_NUMERIC;
	pc.auth_size = 4;
	dev_cfg_default(&dc, PROV_ALGS_CMAC);
	run_refused(&pc, &dc, -ENOTSUP, PROV_ERR_NONE);
}

/* A device that only accepts OOB authentication is not offered No OOB. */
Test(prov, device_requires_oob)
{
	struct prov_cfg pc, dc;

	prov_cfg_default(&pc);
	dev_cfg_default(&dc, PROV_ALGS_CMAC);
	dc.caps.oob_type = PROV_OOB_TYPE_ONLY_OOB;
	run_refused(&pc, &dc, -ENOTSUP, PROV_ERR_NONE);
}

static int assign_full(void *ctx, const struct prov_caps *caps, uint16_t *unicast)
{
	(void)ctx;
	(void)caps;
	(void)unicast;
	return -ENOSPC;
}

/* The address callback's -ENOSPC ends the run with Cannot Assign Addresses (0x08). */
Test(prov, cannot_assign_addresses_callback)
{
	struct prov_cfg pc, dc;
	struct pair pr;
	struct prov_ops ops = base_ops;

	prov_cfg_default(&pc);
	dev_cfg_default(&dc, PROV_ALGS_CMAC);
	pair_init(&pr, &pc, &dc, 31);
	prov_free(pr.side[P].s);
	ops.ctx = &pr.side[P];
	ops.assign_addr = assign_full;
	cr_assert_eq(prov_new(&pc, &ops, NULL, &pr.side[P].s), 0);
	pair_run(&pr);
	assert_failed(&pr.side[P], -ENOSPC, PROV_ERR_CANNOT_ASSIGN_ADDR);
	cr_assert_eq(pr.side[P].ntx, 1);
	pair_free(&pr);
}

static int assign_0x200(void *ctx, const struct prov_caps *caps, uint16_t *unicast)
{
	(void)ctx;
	cr_assert_eq(caps->elements, 2);
	*unicast = 0x0200;
	return 0;
}

/* The address callback chooses the unicast address the device receives. */
Test(prov, assign_address_callback)
{
	struct prov_cfg pc, dc;
	struct pair pr;
	struct prov_ops ops = base_ops;

	prov_cfg_default(&pc);
	dev_cfg_default(&dc, PROV_ALGS_HMAC);
	pair_init(&pr, &pc, &dc, 32);
	prov_free(pr.side[P].s);
	ops.ctx = &pr.side[P];
	ops.assign_addr = assign_0x200;
	cr_assert_eq(prov_new(&pc, &ops, NULL, &pr.side[P].s), 0);
	pair_run(&pr);
	cr_assert_eq(pr.side[P].done, 1);
	cr_assert_eq(pr.side[D].done, 1);
	cr_assert_eq(pr.side[D].res.data.unicast, 0x0200);
	cr_assert(memcmp(pr.side[P].res.dev_key, pr.side[D].res.dev_key, 16) == 0);
	pair_free(&pr);
}

/* --- The write-ahead point: ops.data_ready -------------------------------- */

/* Both sides get data_ready; the address comes from assign_0x200. */
static void data_ready_pair(struct pair *pr, struct prov_cfg *pc, int ret)
{
	struct prov_cfg dc;
	struct prov_ops ops = base_ops;

	prov_cfg_default(pc);
	dev_cfg_default(&dc, PROV_ALGS_CMAC);
	ops.assign_addr = assign_0x200;
	ops.data_ready = t_data_ready;
	pair_init_ops(pr, pc, &dc, 33, &ops);
	pr->side[P].ready_ret = ret;
	pair_run(pr);
}

static bool sent_type(const struct side *sd, uint8_t type)
{
	for (int i = 0; i < sd->ntx; i++) {
		if (sd->tx[i][0] == type) {
			return true;
		}
	}
	return false;
}

/*
 * §5.4.2.5: data_ready runs once, between the device's Random and the Data
 * PDU (the PDU just before it was our Random, the next one handed to send
 * is Data), with the address, NetKey and DevKey that done() reports and the
 * device ends up with.  The device role never calls it.
 */
Test(prov, s5_4_2_5_data_ready_before_data_pdu)
{
	struct prov_cfg pc;
	struct pair pr;
	struct side *p = &pr.side[P], *d = &pr.side[D];

	data_ready_pair(&pr, &pc, 0);
	pc.data.unicast = 0x0200;
	assert_success(&pr, &pc, PROV_ALG_CMAC);
	cr_assert_eq(p->ready, 1);
	cr_assert_eq(d->ready, 0, "the device role has no write-ahead point");
	cr_assert_gt(p->ready_ntx, 0);
	cr_assert_eq(p->tx[p->ready_ntx - 1][0], PROV_RANDOM);
	cr_assert_gt(p->ntx, p->ready_ntx, "nothing sent after data_ready");
	cr_assert_eq(p->tx[p->ready_ntx][0], PROV_DATA);
	cr_assert_arr_eq(p->ready_key, p->res.dev_key, 16);
	cr_assert_arr_eq(p->ready_key, d->res.dev_key, 16);
	cr_assert_eq(p->ready_data.unicast, 0x0200);
	cr_assert_eq(p->ready_data.unicast, p->res.data.unicast);
	cr_assert_eq(p->ready_data.unicast, d->res.data.unicast);
	cr_assert_arr_eq(p->ready_data.net_key, d->res.data.net_key, 16);
	cr_assert_eq(p->ready_data.net_idx, d->res.data.net_idx);
	cr_assert_eq(p->ready_data.flags, d->res.data.flags);
	cr_assert_eq(p->ready_data.iv_index, d->res.data.iv_index);
	cr_assert_eq(p->ready_elements, 2);
	cr_assert_eq(p->ready_elements, p->res.elements);
	pair_free(&pr);
}

/*
 * A refusal (the inventory could not commit) is a local failure: no Data
 * PDU leaves, failed() and prov_rx report the callback's own value, and the
 * device never becomes a node.
 */
Test(prov, data_ready_refusal_sends_no_data)
{
	struct prov_cfg pc;
	struct pair pr;
	struct side *p = &pr.side[P], *d = &pr.side[D];

	data_ready_pair(&pr, &pc, -EIO);
	cr_assert_eq(p->ready, 1);
	assert_failed(p, -EIO, PROV_ERR_NONE);
	cr_assert_eq(pr.rx_ret[P], -EIO);
	cr_assert_not(sent_type(p, PROV_DATA), "Data PDU sent after a refusal");
	cr_assert_eq(p->tx[p->ntx - 1][0], PROV_RANDOM, "the last PDU was our Random");
	cr_assert_eq(d->done, 0);
	cr_assert_eq(d->failed, 0, "the device just waits (and times out)");
	cr_assert_eq(prov_phase(d->s), PROV_PHASE_ACTIVE);
	pair_free(&pr);
}

/* Elements that would run past 0x7fff cannot be addressed (0x08). */
Test(prov, cannot_assign_addresses_range)
{
	struct prov_cfg pc, dc;

	prov_cfg_default(&pc);
	pc.data.unicast = 0x7fff;
	dev_cfg_default(&dc, PROV_ALGS_CMAC); /* 2 elements */
	run_refused(&pc, &dc, -ENOSPC, PROV_ERR_CANNOT_ASSIGN_ADDR);
}

/* Inconsistent configs are refused by prov_new with -EINVAL. */
Test(prov, config_validation)
{
	struct prov_cfg c;
	struct prov_ops ops = base_ops;
	struct prov_sess *s = NULL;

	dev_cfg_default(&c, PROV_ALGS_CMAC);
	c.caps.oob_type = PROV_OOB_TYPE_STATIC; /* advertised without a value */
	cr_assert_eq(prov_new(&c, &ops, NULL, &s), -EINVAL);
	dev_cfg_default(&c, PROV_ALGS_CMAC);
	c.caps.pub_key_type = PROV_PUB_KEY_TYPE_OOB; /* no fixed key pair */
	cr_assert_eq(prov_new(&c, &ops, NULL, &s), -EINVAL);
	dev_cfg_default(&c, 0);
	cr_assert_eq(prov_new(&c, &ops, NULL, &s), -EINVAL);
	dev_cfg_default(&c, PROV_ALGS_CMAC);
	ops.send = NULL;
	cr_assert_eq(prov_new(&c, &ops, NULL, &s), -EINVAL);
	ops = base_ops;
	prov_cfg_default(&c);
	c.has_dev_pub_key = true; /* all zero: not a point */
	cr_assert_eq(prov_new(&c, &ops, NULL, &s), -EINVAL);
	prov_cfg_default(&c);
	c.static_oob_len = 20;
	cr_assert_eq(prov_new(&c, &ops, NULL, &s), -EINVAL);
	cr_assert_null(s);
	prov_free(NULL);
}

/* --- Timer ---------------------------------------------------------------- */

/* No PDU for 60 s: -ETIMEDOUT; each received PDU restarts the 60 s. */
Test(prov, s5_4_4_timeout)
{
	struct prov_cfg pc, dc;
	struct pair pr;
	struct side *p;

	prov_cfg_default(&pc);
	dev_cfg_default(&dc, PROV_ALGS_CMAC);
	pair_init(&pr, &pc, &dc, 40);
	p = &pr.side[P];
	cr_assert_eq(prov_next_deadline(p->s), UINT64_MAX, "idle: no timer");
	cr_assert_eq(prov_start(pr.side[D].s, 1000), 0);
	cr_assert_eq(prov_start(p->s, 1000), 0);
	cr_assert_eq(prov_start(p->s, 1000), -EALREADY);
	cr_assert_eq(prov_next_deadline(p->s), 1000 + PROV_TIMEOUT_MS);
	pr.now = 30000;
	cr_assert(deliver_one(&pr)); /* Invite reaches the device at 30010 */
	cr_assert_eq(prov_next_deadline(pr.side[D].s), 30010 + PROV_TIMEOUT_MS);
	cr_assert(deliver_one(&pr)); /* Capabilities reach the provisioner at 30020 */
	cr_assert_eq(prov_next_deadline(p->s), 30020 + PROV_TIMEOUT_MS);
	prov_tick(p->s, 30020 + PROV_TIMEOUT_MS - 1);
	cr_assert_eq(p->failed, 0);
	prov_tick(p->s, 30020 + PROV_TIMEOUT_MS);
	assert_failed(p, -ETIMEDOUT, PROV_ERR_NONE);
	cr_assert_eq(prov_next_deadline(p->s), UINT64_MAX);
	prov_tick(p->s, UINT64_MAX - 1);
	cr_assert_eq(p->failed, 1, "failure reported once");
	pair_free(&pr);
}

/* --- Many sessions at once ------------------------------------------------ */

#define NPAIRS 16

/* 16 provisioner/device pairs with PDUs interleaved at random all complete correctly. */
Test(prov, sixteen_sessions_interleaved)
{
	static struct pair prs[NPAIRS];
	struct prov_cfg pc[NPAIRS], dc[NPAIRS];
	uint64_t pick = 0x9e3779b97f4a7c15ull;
	int remaining;

	for (int i = 0; i < NPAIRS; i++) {
		const struct method *m =
		    &methods[(size_t)i % (sizeof(methods) / sizeof(methods[0]))];

		method_cfgs(m, (i & 1) ? PROV_ALGS_CMAC : PROV_ALGS_CMAC | PROV_ALGS_HMAC, &pc[i],
			    &dc[i]);
		pc[i].data.unicast = (uint16_t)(0x0100 + 2 * i);
		pc[i].data.net_key[0] = (uint8_t)i;
		pair_init(&prs[i], &pc[i], &dc[i], 500 + (uint64_t)i);
		cr_assert_eq(prov_start(prs[i].side[D].s, 0), 0);
		cr_assert_eq(prov_start(prs[i].side[P].s, 0), 0);
	}
	do {
		uint8_t r;

		remaining = 0;
		for (int i = 0; i < NPAIRS; i++) {
			remaining += prs[i].qt - prs[i].qh;
			if (prs[i].qh == prs[i].qt) {
				remaining += answer_input(&prs[i]);
			}
		}
		if (!remaining) {
			break;
		}
		/* Deliver from a random pair that has something queued. */
		do {
			tv_rng(&pick, &r, 1);
		} while (prs[r % NPAIRS].qh == prs[r % NPAIRS].qt);
		deliver_one(&prs[r % NPAIRS]);
	} while (remaining);
	for (int i = 0; i < NPAIRS; i++) {
		assert_success(&prs[i], &pc[i], (i & 1) ? PROV_ALG_CMAC : PROV_ALG_HMAC);
		for (int j = 0; j < i; j++) {
			cr_assert(
			    memcmp(prs[i].side[D].res.dev_key, prs[j].side[D].res.dev_key, 16) != 0,
			    "pairs %d and %d share a DevKey", i, j);
		}
	}
	for (int i = 0; i < NPAIRS; i++) {
		pair_free(&prs[i]);
	}
}
