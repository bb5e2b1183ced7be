/*
 * Provisioning sessions, the rules around the main flows: a peer's
 * Provisioning Failed and repeated PDUs, provisioner policy and device
 * capability refusals, unicast address assignment, the data_ready hook
 * (section 5.4.2.5), configuration validation, the protocol timeout
 * (section 5.4.4) and many sessions interleaved.  The main flows are in
 * test_prov.c; the shared fixture is in prov_fixture.h.
 */
#include "tests/mesh/prov_fixture.h"

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

/* A policy forbidding HMAC ("algorithm": "cmac") uses CMAC although the device offers both. */
Test(prov, policy_no_hmac_uses_cmac)
{
	struct prov_cfg pc, dc;
	struct pair pr;

	prov_cfg_default(&pc);
	pc.policy = PROV_POLICY_NO_HMAC;
	dev_cfg_default(&dc, PROV_ALGS_CMAC | PROV_ALGS_HMAC);
	pair_init(&pr, &pc, &dc, 32);
	pair_run(&pr);
	assert_success(&pr, &pc, PROV_ALG_CMAC);
	pair_free(&pr);
}

/* A policy forbidding HMAC refuses an HMAC-only device before Start (-ENOTSUP). */
Test(prov, policy_no_hmac_refuses_hmac_only)
{
	struct prov_cfg pc, dc;

	prov_cfg_default(&pc);
	pc.policy = PROV_POLICY_NO_HMAC;
	dev_cfg_default(&dc, PROV_ALGS_HMAC);
	run_refused(&pc, &dc, -ENOTSUP, PROV_ERR_NONE);
}

/*
 * A provisioner given an OOB public key refuses a device that does not offer
 * one, rather than run the in-band exchange without the key (-ENOTSUP).
 */
Test(prov, oob_key_not_offered)
{
	struct prov_cfg pc, dc;
	uint8_t priv[32];

	prov_cfg_default(&pc);
	memset(priv, 0x42, sizeof(priv));
	cr_assert_eq(mesh_crypto_p256_pub_from_priv(priv, pc.dev_pub_key), 0);
	pc.has_dev_pub_key = true;
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
