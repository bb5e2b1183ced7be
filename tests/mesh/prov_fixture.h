/*
 * Provisioner and device sessions driven back to back in memory, shared by
 * test_prov.c and test_prov_policy.c: a test transport queues every PDU a
 * session sends and hands it to the other session later (never from inside
 * ops.send), optionally through a tamper hook that plays the attacker.  Also
 * the spec sample-run setup (section 8.7), the table of authentication
 * methods, and the by-hand device driver both files use.
 *
 * Every function is static inline and every table is marked unused, so a
 * file that uses only part of this compiles cleanly under -Werror.
 */
#ifndef TESTS_MESH_PROV_FIXTURE_H
#define TESTS_MESH_PROV_FIXTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/crypto.h"
#include "mesh/prov.h"
#include "mesh/prov_crypto.h"
#include "tests/util/tv.h"

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
	uint8_t tx[MAXTX][PROV_REC_PDU_MAX];
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
	uint8_t pdu[PROV_REC_PDU_MAX];
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

static inline int script_rng(void *ctx, uint8_t *buf, size_t len)
{
	struct script *sc = ctx;

	if (sc->pos + len <= sc->len) {
		memcpy(buf, sc->buf + sc->pos, len);
		sc->pos += len;
		return 0;
	}
	return tv_rng(&sc->seed, buf, len);
}

static inline void script_add(struct script *sc, const uint8_t *p, size_t n)
{
	cr_assert(sc->len + n <= sizeof(sc->buf));
	memcpy(sc->buf + sc->len, p, n);
	sc->len += n;
}

static inline int t_send(void *ctx, const uint8_t *pdu, size_t len)
{
	struct side *sd = ctx;
	struct pair *pr = sd->pair;
	struct msg *m;

	cr_assert(len <= PROV_REC_PDU_MAX);
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

static inline void t_output(void *ctx, uint8_t action, const char *value)
{
	struct side *sd = ctx;

	cr_assert(strlen(value) <= PROV_OOB_SIZE_MAX);
	strcpy(sd->shown, value);
	sd->has_shown = true;
	sd->shown_action = action;
}

static inline void t_request(void *ctx, uint8_t action, uint8_t size)
{
	struct side *sd = ctx;

	sd->requested = true;
	sd->req_action = action;
	sd->req_size = size;
}

static inline void t_done(void *ctx, const struct prov_result *res)
{
	struct side *sd = ctx;

	sd->done++;
	sd->res = *res;
}

static inline void t_failed(void *ctx, int err, uint8_t code)
{
	struct side *sd = ctx;

	sd->failed++;
	sd->err = err;
	sd->code = code;
}

static inline int t_data_ready(void *ctx, const struct prov_data *data, const uint8_t dev_key[16],
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

__attribute__((unused)) static const struct prov_ops base_ops = {
    .send = t_send,
    .output_oob = t_output,
    .input_oob_request = t_request,
    .done = t_done,
    .failed = t_failed,
};

__attribute__((unused)) static const uint8_t test_net_key[16] = {
    0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18, 0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6};

static inline void prov_cfg_default(struct prov_cfg *c)
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

static inline void dev_cfg_default(struct prov_cfg *c, uint16_t algs)
{
	memset(c, 0, sizeof(*c));
	c->role = PROV_ROLE_DEVICE;
	c->caps.elements = 2;
	c->caps.algorithms = algs;
}

/* Both sessions with the given ops (ctx is set per side). */
static inline void pair_init_ops(struct pair *pr, const struct prov_cfg *pc,
				 const struct prov_cfg *dc, uint64_t seed,
				 const struct prov_ops *base)
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

static inline void pair_init(struct pair *pr, const struct prov_cfg *pc, const struct prov_cfg *dc,
			     uint64_t seed)
{
	pair_init_ops(pr, pc, dc, seed, &base_ops);
}

static inline void pair_free(struct pair *pr)
{
	prov_free(pr->side[P].s);
	prov_free(pr->side[D].s);
}

/* Deliver one queued PDU; false when the queue is empty. */
static inline bool deliver_one(struct pair *pr)
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
static inline bool answer_input(struct pair *pr)
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

static inline void pump(struct pair *pr)
{
	while (deliver_one(pr) || answer_input(pr)) {
	}
}

static inline void pair_run(struct pair *pr)
{
	cr_assert_eq(prov_start(pr->side[D].s, pr->now), 0);
	cr_assert_eq(prov_start(pr->side[P].s, pr->now), 0);
	pump(pr);
}

static inline void assert_success(struct pair *pr, const struct prov_cfg *pc, uint8_t alg)
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
static inline void assert_failed(struct side *sd, int err, uint8_t code)
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
static inline const uint8_t *last_tx(struct side *sd, size_t *len)
{
	cr_assert(sd->ntx > 0);
	*len = sd->tx_len[sd->ntx - 1];
	return sd->tx[sd->ntx - 1];
}

static inline void assert_sent_failed(struct side *sd, uint8_t code)
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

static inline void sample_setup(struct sample_run *sr, const char *name)
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

/* --- Every authentication method x both algorithms ------------------------ */

struct method {
	uint8_t method;
	uint8_t action;
	uint8_t size;
	uint8_t static_len;
};

__attribute__((unused)) static const struct method methods[] = {
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

static inline void method_cfgs(const struct method *m, uint16_t algs, struct prov_cfg *pc,
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
/* --- A device session driven by hand with the sample's PDUs ------------ */

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

static inline void manual_pdu(struct manual *m, uint8_t type, const char *key)
{
	int n = tv_bytes(m->sr.j, key, m->pdu + 1, sizeof(m->pdu) - 1);

	cr_assert_gt(n, 0);
	m->pdu[0] = type;
	m->len = (size_t)n + 1;
}

static inline int manual_rx(struct manual *m)
{
	m->sr.pr.now += 10;
	return prov_rx(m->d->s, m->pdu, m->len, m->sr.pr.now);
}

static inline void manual_setup(struct manual *m, const char *name, int upto)
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
#endif /* TESTS_MESH_PROV_FIXTURE_H */
