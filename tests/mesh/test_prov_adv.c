/*
 * mesh/prov_adv.c: whole provisioning sessions over PB-ADV between a
 * provisioner and simulated devices on the in-memory air, for every
 * authentication method and both algorithms, with and without loss,
 * reordering and duplication.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mesh/prov_adv.h"
#include "tests/util/minair.h"
#include "tests/util/tv.h"

#define DEVS 4

struct end {
	struct prov_adv *pa;
	int id;
	int done, failed, err;
	uint8_t prov_err;
	char reason[PROV_REC_REASON_MAX]; /* prov_adv_fail_reason() inside failed() */
	struct prov_result res;
	/* OOB plumbing */
	char shown[16];
	bool asked;
	uint32_t asked_h;
	bool device;
	/* What went on the air: Data PDU transaction starts, Link Close (fail). */
	int data_starts, closes_fail;
	/* data_ready: calls, what it saw, Data starts sent before it, its answer. */
	int ready, ready_ret, data_starts_at_ready;
	uint32_t ready_h;
	uint8_t ready_key[16];
	uint16_t ready_unicast;
	uint8_t ready_elements;
};

static struct minair air;
static struct end prov, dev[DEVS];
static uint64_t rng_p = 11, rng_d = 12;
static const uint8_t uuid_base[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

static struct end *peer_for_value(struct end *e);

/*
 * PB-ADV payload (§5.2.1): Link ID (4), Transaction Number, then the Generic
 * Provisioning PDU whose first octet's low two bits are the GPCF.  A
 * Transaction Start (GPCF 0) carries the Provisioning PDU type at offset 9;
 * Link Close is bearer control (GPCF 3) opcode 2, its reason at offset 6.
 */
static void e_adv(void *ctx, const uint8_t *data, size_t len)
{
	struct end *e = ctx;

	if (len >= 10 && (data[5] & 0x03) == 0 && data[9] == PROV_DATA) {
		e->data_starts++;
	}
	if (len == 7 && data[5] == (0x02 << 2 | 0x03) && data[6] == PB_ADV_CLOSE_FAIL) {
		e->closes_fail++;
	}
	minair_send(&air, e->id, 0x29, data, len);
}

/* A value shown by one side is "typed" into the other once it asks for it. */
static void try_type(struct end *asker, struct end *shower)
{
	if (asker->asked && shower->shown[0]) {
		asker->asked = false;
		cr_assert_eq(prov_adv_input_oob(asker->pa, asker->asked_h, shower->shown, air.now),
			     0);
	}
}

static void e_output(void *ctx, uint32_t h, uint8_t action, const char *value)
{
	struct end *e = ctx;

	(void)h;
	(void)action;
	cr_assert_lt(strlen(value), sizeof(e->shown));
	strcpy(e->shown, value);
	try_type(peer_for_value(e), e);
}

static void e_input(void *ctx, uint32_t h, uint8_t action, uint8_t size)
{
	struct end *e = ctx;

	(void)action;
	(void)size;
	e->asked = true;
	e->asked_h = h;
	try_type(e, peer_for_value(e));
}

static int e_data_ready(void *ctx, uint32_t h, const struct prov_data *data,
			const uint8_t dev_key[16], uint8_t elements)
{
	struct end *e = ctx;

	e->ready++;
	e->ready_h = h;
	e->data_starts_at_ready = e->data_starts;
	memcpy(e->ready_key, dev_key, 16);
	e->ready_unicast = data->unicast;
	e->ready_elements = elements;
	return e->ready_ret;
}

static void e_done(void *ctx, uint32_t h, const struct prov_result *res)
{
	struct end *e = ctx;

	(void)h;
	e->done++;
	e->res = *res;
}

static void e_failed(void *ctx, uint32_t h, int err, uint8_t prov_err)
{
	struct end *e = ctx;

	(void)h;
	e->failed++;
	e->err = err;
	e->prov_err = prov_err;
	snprintf(e->reason, sizeof(e->reason), "%s", prov_adv_fail_reason(e->pa));
}

static struct end *peer_for_value(struct end *e)
{
	/* Test runs have one device at a time when OOB values are involved. */
	return e->device ? &prov : &dev[0];
}

static void p_rx(void *o, uint8_t t, const uint8_t *d, size_t len, uint64_t now)
{
	if (t == 0x29) {
		(void)prov_adv_rx(((struct end *)o)->pa, d, len, now);
	}
}

static uint64_t p_deadline(void *o)
{
	return prov_adv_next_deadline(((struct end *)o)->pa);
}

static void p_tick(void *o, uint64_t now)
{
	prov_adv_tick(((struct end *)o)->pa, now);
}

static const struct prov_adv_ops e_ops = {
    .adv_send = e_adv,
    .output_oob = e_output,
    .input_oob_request = e_input,
    .data_ready = e_data_ready,
    .done = e_done,
    .failed = e_failed,
};

static void add_end(struct end *e, const struct pb_adv_cfg *pc, const struct prov_cfg *dc,
		    uint64_t *rng)
{
	struct prov_adv_ops ops = e_ops;
	struct mesh_rng r = {tv_rng, rng};
	struct minair_part part = {e, p_rx, p_deadline, p_tick};

	ops.ctx = e;
	e->pa = prov_adv_new(pc, dc, &ops, &r);
	cr_assert_not_null(e->pa);
	e->id = minair_add(&air, &part);
}

static void uuid_of(int i, uint8_t uuid[16])
{
	memcpy(uuid, uuid_base, 16);
	uuid[15] = (uint8_t)i;
}

/* A device offering exactly one method (and one action) and one algorithm. */
static void make_device(int i, uint16_t algs, uint8_t method, uint8_t action, uint8_t size,
			const uint8_t *static_oob, uint8_t static_len)
{
	uint8_t uuid[16];
	struct pb_adv_cfg pc = {0};
	struct prov_cfg dc = {0};

	uuid_of(i, uuid);
	pc.uuid = uuid;
	dc.role = PROV_ROLE_DEVICE;
	dc.caps.elements = 2;
	dc.caps.algorithms = algs;
	if (method == PROV_AUTH_STATIC) {
		dc.caps.oob_type = PROV_OOB_TYPE_STATIC;
		memcpy(dc.static_oob, static_oob, static_len);
		dc.static_oob_len = static_len;
	} else if (method == PROV_AUTH_OUTPUT) {
		dc.caps.output_size = size;
		dc.caps.output_actions = (uint16_t)(1u << action);
	} else if (method == PROV_AUTH_INPUT) {
		dc.caps.input_size = size;
		dc.caps.input_actions = (uint16_t)(1u << action);
	}
	memset(&dev[i], 0, sizeof(dev[i]));
	dev[i].device = true;
	add_end(&dev[i], &pc, &dc, &rng_d);
}

static void make_prov(void)
{
	struct pb_adv_cfg pc = {0};

	memset(&prov, 0, sizeof(prov));
	add_end(&prov, &pc, NULL, &rng_p);
}

static struct prov_cfg prov_cfg(uint8_t method, uint8_t action, uint8_t size,
				const uint8_t *static_oob, uint8_t static_len, uint16_t unicast)
{
	struct prov_cfg c = {0};

	c.role = PROV_ROLE_PROVISIONER;
	c.auth_method = method;
	c.auth_action = action;
	c.auth_size = size;
	if (static_len) {
		memcpy(c.static_oob, static_oob, static_len);
		c.static_oob_len = static_len;
	}
	memset(c.data.net_key, 0x5a, 16);
	c.data.net_idx = 0x0123;
	c.data.iv_index = 0x01020304;
	c.data.unicast = unicast;
	return c;
}

static void setup(void)
{
	minair_init(&air, 1000, 99);
	make_prov();
}

static void teardown(void)
{
	int i;

	prov_adv_free(prov.pa);
	for (i = 0; i < DEVS; i++) {
		prov_adv_free(dev[i].pa);
		dev[i].pa = NULL;
	}
}

static const uint8_t oob32[32] = {0x90, 0x6d, 0x4a, 0x3b, 0x28, 0x15, 0x06, 0xf7, 0xe6, 0xd5, 0xc4,
				  0xb3, 0xa2, 0x91, 0x80, 0x7f, 0x6e, 0x5d, 0x4c, 0x3b, 0x2a, 0x19,
				  0x08, 0xf7, 0xe6, 0xd5, 0xc4, 0xb3, 0xa2, 0x91, 0x80, 0x11};

struct method {
	const char *name;
	uint8_t method, action, size, static_len;
};

static const struct method methods[] = {
    {"no-oob", PROV_AUTH_NO_OOB, 0, 0, 0},
    {"static-16", PROV_AUTH_STATIC, 0, 0, 16},
    {"static-32", PROV_AUTH_STATIC, 0, 0, 32},
    {"output-blink", PROV_AUTH_OUTPUT, PROV_OUT_BLINK, 1, 0},
    {"output-beep", PROV_AUTH_OUTPUT, PROV_OUT_BEEP, 2, 0},
    {"output-vibrate", PROV_AUTH_OUTPUT, PROV_OUT_VIBRATE, 1, 0},
    {"output-numeric", PROV_AUTH_OUTPUT, PROV_OUT_NUMERIC, 6, 0},
    {"output-alpha", PROV_AUTH_OUTPUT, PROV_OUT_ALPHA, 8, 0},
    {"input-push", PROV_AUTH_INPUT, PROV_IN_PUSH, 1, 0},
    {"input-twist", PROV_AUTH_INPUT, PROV_IN_TWIST, 2, 0},
    {"input-numeric", PROV_AUTH_INPUT, PROV_IN_NUMERIC, 4, 0},
    {"input-alpha", PROV_AUTH_INPUT, PROV_IN_ALPHA, 6, 0},
};

static void run_one(const struct method *m, uint16_t alg, unsigned loss)
{
	uint8_t uuid[16];
	struct prov_cfg c;
	uint32_t h;

	teardown();
	minair_init(&air, 1000, 1234 + loss + alg + m->method * 16 + m->action);
	make_prov();
	air.loss_pct = loss;
	air.dup_pct = loss ? 10 : 0;
	air.reorder = loss ? 3 : 0;
	make_device(0, alg, m->method, m->action, m->size, oob32, m->static_len);
	c = prov_cfg(m->method, m->action, m->size, oob32, m->static_len, 0x0100);
	uuid_of(0, uuid);
	cr_assert_eq(prov_adv_provision(prov.pa, uuid, &c, air.now, &h), 0);
	minair_run_until(&air, &prov.done, 1, air.now + 300000);
	cr_assert_eq(prov.failed, 0, "%s alg %u loss %u: provisioner failed %d/%u", m->name, alg,
		     loss, prov.err, prov.prov_err);
	cr_assert_eq(prov.done, 1, "%s alg %u loss %u: not done", m->name, alg, loss);
	/* Let the device see the Link Close. */
	minair_run(&air, air.now + 5000);
	cr_assert_eq(dev[0].done, 1, "%s alg %u loss %u: device not done", m->name, alg, loss);
	cr_assert_arr_eq(prov.res.dev_key, dev[0].res.dev_key, 16, "%s: DevKeys differ", m->name);
	/* Field by field: struct padding is not part of the Provisioning Data. */
	cr_assert_arr_eq(prov.res.data.net_key, dev[0].res.data.net_key, 16);
	cr_assert_eq(prov.res.data.net_idx, dev[0].res.data.net_idx);
	cr_assert_eq(prov.res.data.flags, dev[0].res.data.flags);
	cr_assert_eq(prov.res.data.iv_index, dev[0].res.data.iv_index);
	cr_assert_eq(prov.res.data.unicast, dev[0].res.data.unicast);
	cr_assert_arr_eq(dev[0].res.data.net_key, c.data.net_key, 16);
	cr_assert_eq(dev[0].res.data.unicast, 0x0100);
	cr_assert_eq(dev[0].res.data.iv_index, 0x01020304);
	cr_assert_eq(prov.res.elements, 2);
	cr_assert_eq(prov.res.start.alg, alg == PROV_ALGS_HMAC ? PROV_ALG_HMAC : PROV_ALG_CMAC);
	cr_assert_eq(prov.res.start.auth_method, m->method);
	cr_assert_eq(prov_adv_active(prov.pa), 0);
	/* The write-ahead point ran once, before any Data PDU, with what the device got. */
	cr_assert_eq(prov.ready, 1, "%s alg %u loss %u: data_ready ran %d times", m->name, alg,
		     loss, prov.ready);
	cr_assert_eq(prov.ready_h, h);
	cr_assert_eq(prov.data_starts_at_ready, 0);
	cr_assert_gt(prov.data_starts, 0);
	cr_assert_arr_eq(prov.ready_key, dev[0].res.dev_key, 16);
	cr_assert_eq(prov.ready_unicast, dev[0].res.data.unicast);
	cr_assert_eq(prov.ready_elements, prov.res.elements);
	cr_assert_eq(dev[0].ready, 0, "the device role has no write-ahead point");
}

/* Every authentication method and action, with each algorithm, over a loss-free air. */
Test(prov_adv, every_method_both_algorithms_no_loss, .init = setup, .fini = teardown,
     .timeout = 600)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		run_one(&methods[i], PROV_ALGS_CMAC, 0);
		run_one(&methods[i], PROV_ALGS_HMAC, 0);
	}
}

/* The same at 30 % loss per receiver, with duplication and reordering. */
Test(prov_adv, every_method_both_algorithms_30pct_loss, .init = setup, .fini = teardown,
     .timeout = 600)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		run_one(&methods[i], PROV_ALGS_CMAC, 30);
		run_one(&methods[i], PROV_ALGS_HMAC, 30);
	}
}

/* With both algorithms offered the provisioner picks HMAC-SHA256. */
Test(prov_adv, strongest_algorithm_chosen, .init = setup, .fini = teardown)
{
	uint8_t uuid[16];
	struct prov_cfg c = prov_cfg(PROV_AUTH_NO_OOB, 0, 0, NULL, 0, 0x0200);
	uint32_t h;

	make_device(0, PROV_ALGS_CMAC | PROV_ALGS_HMAC, PROV_AUTH_NO_OOB, 0, 0, NULL, 0);
	uuid_of(0, uuid);
	cr_assert_eq(prov_adv_provision(prov.pa, uuid, &c, air.now, &h), 0);
	minair_run_until(&air, &prov.done, 1, air.now + 60000);
	cr_assert_eq(prov.done, 1);
	cr_assert_eq(prov.res.start.alg, PROV_ALG_HMAC);
}

/* A wrong static OOB value ends in Confirmation Failed on both sides and no key. */
Test(prov_adv, wrong_static_oob, .init = setup, .fini = teardown)
{
	uint8_t uuid[16], wrong[16];
	struct prov_cfg c;
	uint32_t h;

	memcpy(wrong, oob32, 16);
	wrong[3] ^= 0x40;
	make_device(0, PROV_ALGS_CMAC, PROV_AUTH_STATIC, 0, 0, oob32, 16);
	c = prov_cfg(PROV_AUTH_STATIC, 0, 0, wrong, 16, 0x0100);
	uuid_of(0, uuid);
	cr_assert_eq(prov_adv_provision(prov.pa, uuid, &c, air.now, &h), 0);
	minair_run_until(&air, &prov.failed, 1, air.now + 120000);
	minair_run(&air, air.now + 5000);
	cr_assert_eq(prov.done, 0);
	cr_assert_eq(dev[0].done, 0);
	cr_assert_eq(prov.failed, 1);
	cr_assert_eq(dev[0].failed, 1);
	cr_assert_eq(prov.prov_err, PROV_ERR_CONFIRMATION_FAILED);
	cr_assert_eq(dev[0].prov_err, PROV_ERR_CONFIRMATION_FAILED);
	cr_assert_eq(prov_adv_active(prov.pa), 0);
}

/* The record phase's reason reaches the owner inside failed(), and only there. */
static int refuse_records(void *ctx, uint32_t h, const struct prov_record *recs, size_t n,
			  uint8_t pub_key[64], char *reason, size_t reason_len)
{
	(void)ctx;
	(void)h;
	(void)recs;
	(void)n;
	(void)pub_key;
	snprintf(reason, reason_len, "not signed by a trusted manufacturer");
	return -EKEYREJECTED;
}

Test(prov_adv, record_phase_reason_reaches_the_owner, .init = setup, .fini = teardown)
{
	static const uint8_t cert[3] = {0x30, 0x01, 0x00};
	static const struct prov_record recs[1] = {{PROV_REC_ID_DEV_CERT, cert, sizeof(cert)}};
	struct pb_adv_cfg pc = {0};
	struct prov_adv_ops ops = e_ops;
	struct prov_cfg dc = {0}, c;
	uint8_t uuid[16];
	uint32_t h;

	/* A device without records (a 1.0 device) under REQUIRE. */
	make_device(0, PROV_ALGS_CMAC, PROV_AUTH_NO_OOB, 0, 0, NULL, 0);
	prov_adv_free(prov.pa);
	ops.ctx = &prov;
	ops.verify_records = refuse_records;
	prov.pa = prov_adv_new(&pc, NULL, &ops, &(struct mesh_rng){tv_rng, &rng_p});
	cr_assert_not_null(prov.pa);
	c = prov_cfg(PROV_AUTH_NO_OOB, 0, 0, NULL, 0, 0x0100);
	c.cert_policy = PROV_CERT_REQUIRE;
	uuid_of(0, uuid);
	cr_assert_eq(prov_adv_provision(prov.pa, uuid, &c, air.now, &h), 0);
	minair_run_until(&air, &prov.failed, 1, air.now + 120000);
	cr_assert_eq(prov.err, -ECONNABORTED);
	cr_assert_eq(prov.prov_err, PROV_ERR_UNEXPECTED_PDU);
	cr_assert_str_eq(prov.reason, "device does not support certificate-based provisioning");
	cr_assert_str_eq(prov_adv_fail_reason(prov.pa), "", "only inside failed()");

	/* A device with a certificate record: the owner's verifier refuses it, in its words. */
	uuid_of(1, uuid);
	pc.uuid = uuid;
	dc.role = PROV_ROLE_DEVICE;
	dc.caps.elements = 1;
	dc.caps.algorithms = PROV_ALGS_CMAC;
	dc.records = recs;
	dc.n_records = 1;
	memset(&dev[1], 0, sizeof(dev[1]));
	dev[1].device = true;
	add_end(&dev[1], &pc, &dc, &rng_d);
	cr_assert_eq(prov_adv_provision(prov.pa, uuid, &c, air.now, &h), 0);
	minair_run_until(&air, &prov.failed, 2, air.now + 120000);
	cr_assert_eq(prov.err, -EKEYREJECTED);
	cr_assert_str_eq(prov.reason, "not signed by a trusted manufacturer");
	cr_assert_eq(prov.done, 0);
}

/* Four devices provisioned at once by one provisioner, each with its own address. */
Test(prov_adv, four_at_once, .init = setup, .fini = teardown)
{
	uint32_t h[DEVS];
	int i;

	air.loss_pct = 10;
	air.reorder = 2;
	for (i = 0; i < DEVS; i++) {
		uint8_t uuid[16];
		struct prov_cfg c =
		    prov_cfg(PROV_AUTH_NO_OOB, 0, 0, NULL, 0, (uint16_t)(0x0100 + 0x10 * i));

		make_device(i, PROV_ALGS_HMAC, PROV_AUTH_NO_OOB, 0, 0, NULL, 0);
		uuid_of(i, uuid);
		cr_assert_eq(prov_adv_provision(prov.pa, uuid, &c, air.now, &h[i]), 0);
	}
	minair_run_until(&air, &prov.done, DEVS, air.now + 300000);
	minair_run(&air, air.now + 5000);
	cr_assert_eq(prov.done, DEVS);
	for (i = 0; i < DEVS; i++) {
		cr_assert_eq(dev[i].done, 1);
		cr_assert_eq(dev[i].res.data.unicast, 0x0100 + 0x10 * i);
	}
}

/*
 * data_ready refusing (the inventory could not commit): no Data PDU goes on
 * the air, the link is closed with reason Fail, failed() reports the
 * callback's value with no Provisioning Failed code, and the device is no
 * node.
 */
Test(prov_adv, data_ready_refusal_closes_link, .init = setup, .fini = teardown)
{
	uint8_t uuid[16];
	struct prov_cfg c = prov_cfg(PROV_AUTH_NO_OOB, 0, 0, NULL, 0, 0x0100);
	uint32_t h;

	prov.ready_ret = -EIO;
	make_device(0, PROV_ALGS_HMAC, PROV_AUTH_NO_OOB, 0, 0, NULL, 0);
	uuid_of(0, uuid);
	cr_assert_eq(prov_adv_provision(prov.pa, uuid, &c, air.now, &h), 0);
	minair_run_until(&air, &prov.failed, 1, air.now + 120000);
	minair_run(&air, air.now + 5000);
	cr_assert_eq(prov.ready, 1);
	cr_assert_eq(prov.ready_h, h);
	cr_assert_eq(prov.failed, 1);
	cr_assert_eq(prov.err, -EIO);
	cr_assert_eq(prov.prov_err, PROV_ERR_NONE);
	cr_assert_eq(prov.done, 0);
	cr_assert_eq(prov.data_starts, 0, "a Data PDU went out after the refusal");
	cr_assert_gt(prov.closes_fail, 0, "no Link Close (Fail)");
	cr_assert_eq(dev[0].done, 0);
	cr_assert_eq(prov_adv_active(prov.pa), 0);
}

/* A device that never answers fails the session with a link timeout, nothing left behind. */
Test(prov_adv, absent_device_times_out, .init = setup, .fini = teardown)
{
	uint8_t uuid[16];
	struct prov_cfg c = prov_cfg(PROV_AUTH_NO_OOB, 0, 0, NULL, 0, 0x0100);
	uint32_t h;

	uuid_of(7, uuid);
	cr_assert_eq(prov_adv_provision(prov.pa, uuid, &c, air.now, &h), 0);
	minair_run_until(&air, &prov.failed, 1, air.now + 120000);
	cr_assert_eq(prov.failed, 1);
	cr_assert_eq(prov.err, -ETIMEDOUT);
	cr_assert_eq(prov_adv_active(prov.pa), 0);
}
