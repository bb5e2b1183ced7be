/*
 * mesh/rpr_cli.c: request/status matching, time-outs, cancellation,
 * unsolicited reports and the link handler's first pick, against a real
 * Remote Provisioning Server on the in-memory air (and, for malformed
 * statuses, messages handed straight to the client's model).
 */
#include "tests/mesh/rpr_fixture.h"

static struct fx_srv *srv;

static void setup(void)
{
	fx_init(44);
	srv = fx_add_srv(0x0100, NULL, 0);
}

static void teardown(void)
{
	fx_fini();
}

/* Each request opcode maps to the status that answers it (§4.3.4); reports have none. */
Test(rpr_cli, status_ops)
{
	cr_assert_eq(rpr_cli_status_op(RPR_OP_SCAN_CAPS_GET), RPR_OP_SCAN_CAPS_STATUS);
	cr_assert_eq(rpr_cli_status_op(RPR_OP_SCAN_GET), RPR_OP_SCAN_STATUS);
	cr_assert_eq(rpr_cli_status_op(RPR_OP_SCAN_START), RPR_OP_SCAN_STATUS);
	cr_assert_eq(rpr_cli_status_op(RPR_OP_SCAN_STOP), RPR_OP_SCAN_STATUS);
	cr_assert_eq(rpr_cli_status_op(RPR_OP_EXT_SCAN_START), RPR_OP_EXT_SCAN_REPORT);
	cr_assert_eq(rpr_cli_status_op(RPR_OP_LINK_GET), RPR_OP_LINK_STATUS);
	cr_assert_eq(rpr_cli_status_op(RPR_OP_LINK_OPEN), RPR_OP_LINK_STATUS);
	cr_assert_eq(rpr_cli_status_op(RPR_OP_LINK_CLOSE), RPR_OP_LINK_STATUS);
	cr_assert_eq(rpr_cli_status_op(RPR_OP_PDU_SEND), 0);
	cr_assert_eq(rpr_cli_status_op(RPR_OP_LINK_REPORT), 0);
}

/* Requests without a status, to non-unicast servers or with invalid fields are refused unsent. */
Test(rpr_cli, bad_requests, .init = setup, .fini = teardown)
{
	struct rpr_msg pdu = {.op = RPR_OP_PDU_SEND}, get = {.op = RPR_OP_LINK_GET};
	struct rpr_msg scan = {.op = RPR_OP_SCAN_START};
	struct fx_answer a = {0};
	size_t sent = fx_air.sent;

	pdu.pdu.num = 1;
	pdu.pdu.pdu = (const uint8_t *)"\x00\x05";
	pdu.pdu.pdu_len = 2;
	cr_assert_eq(rpr_cli_request(fx_p.rpr, 0, 0x0100, NULL, &pdu, 1000, 0, fx_rpr_answer, &a,
				     fx_air.now),
		     -EINVAL);
	cr_assert_eq(rpr_cli_request(fx_p.rpr, 0, 0xc001, NULL, &get, 1000, 0, fx_rpr_answer, &a,
				     fx_air.now),
		     -EINVAL);
	scan.scan_start.timeout = 0; /* prohibited */
	cr_assert_eq(rpr_cli_request(fx_p.rpr, 0, 0x0100, NULL, &scan, 1000, 0, fx_rpr_answer, &a,
				     fx_air.now),
		     -EINVAL);
	cr_assert_eq(rpr_cli_send(fx_p.rpr, 0, 0xffff, NULL, &get, fx_air.now, NULL), -EINVAL);
	cr_assert_eq(fx_air.sent, sent);
	cr_assert_eq(a.done, 0);
}

/* The device key comes from the node's inventory when none is given. */
Test(rpr_cli, inventory_key, .init = setup, .fini = teardown)
{
	struct rpr_msg get = {.op = RPR_OP_LINK_GET};
	struct fx_answer a = {0};

	cr_assert_eq(rpr_cli_request(fx_p.rpr, 0, 0x0100, NULL, &get, 5000, 1000, fx_rpr_answer, &a,
				     fx_air.now),
		     0);
	cr_assert(minair_run_until(&fx_air, &a.done, 1, fx_air.now + 10000));
	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.src, 0x0100);
	cr_assert_eq(a.m.op, RPR_OP_LINK_STATUS);
}

/* A server that cannot be reached: -ETIMEDOUT after the request's time-out, once. */
Test(rpr_cli, timeout, .init = setup, .fini = teardown)
{
	struct rpr_msg get = {.op = RPR_OP_SCAN_GET};
	struct fx_answer a = {0};
	uint64_t t0 = fx_air.now;

	fx_isolate(srv->id);
	cr_assert_eq(rpr_cli_request(fx_p.rpr, 0, 0x0100, srv->dev_key, &get, 4000, 1000,
				     fx_rpr_answer, &a, fx_air.now),
		     0);
	minair_run(&fx_air, fx_air.now + 10000);
	cr_assert_eq(a.done, 1);
	cr_assert_eq(a.err, -ETIMEDOUT);
	cr_assert_eq(a.src, 0);
	cr_assert_geq(fx_air.now, t0 + 4000);
	cr_assert_eq(rpr_cli_next_deadline(fx_p.rpr), UINT64_MAX);
}

/* Cancel and free end pending requests with -ECANCELED. */
Test(rpr_cli, cancel_and_free, .init = setup, .fini = teardown)
{
	struct rpr_msg get = {.op = RPR_OP_LINK_GET};
	struct fx_answer a = {0}, b = {0};

	cr_assert_eq(rpr_cli_request(fx_p.rpr, 0, 0x0100, NULL, &get, 4000, 1000, fx_rpr_answer, &a,
				     fx_air.now),
		     0);
	cr_assert_eq(rpr_cli_cancel(fx_p.rpr, 0x0100), 1);
	cr_assert_eq(a.done, 1);
	cr_assert_eq(a.err, -ECANCELED);
	cr_assert_eq(rpr_cli_request(fx_p.rpr, 0, 0x0100, NULL, &get, 4000, 1000, fx_rpr_answer, &b,
				     fx_air.now),
		     0);
	pb_remote_free(fx_p.pbr);
	fx_p.pbr = NULL;
	rpr_cli_free(fx_p.rpr);
	fx_p.rpr = NULL;
	cr_assert_eq(b.done, 1);
	cr_assert_eq(b.err, -ECANCELED);
	/* The registry keeps the model (models are never removed): nothing may reach it now. */
	fx_isolate(fx_p.id);
	minair_run(&fx_air, fx_air.now + 5000);
}

/* A Link Report nobody's session claims reaches the ops callback (the link handler passes). */
Test(rpr_cli, link_report_unclaimed, .init = setup, .fini = teardown)
{
	struct rpr_msg open = {.op = RPR_OP_LINK_OPEN};
	struct fx_answer a;

	memset(open.link_open.uuid, 0x42, 16);
	open.link_open.has_timeout = true;
	open.link_open.timeout = 1;
	a = fx_rpr_ask(srv, &open);
	cr_assert_eq(a.m.link_status.status, RPR_STATUS_SUCCESS);
	minair_run(&fx_air, fx_air.now + 3000);
	cr_assert_eq(fx_scan.n_link, 1);
	cr_assert_eq(fx_scan.link.status, RPR_STATUS_LINK_OPEN_FAILED);
}

static int claimed;

static bool claim_all(void *ctx, uint16_t src, const struct rpr_msg *m)
{
	(void)ctx;
	cr_assert_eq(src, 0x0100);
	cr_assert_eq(m->op, RPR_OP_LINK_REPORT);
	claimed++;
	return true;
}

/* A link handler that claims a report keeps it from the ops callback. */
Test(rpr_cli, link_handler_claims, .init = setup, .fini = teardown)
{
	struct rpr_cli_link_handler h = {.rx = claim_all};
	struct rpr_msg open = {.op = RPR_OP_LINK_OPEN};

	claimed = 0;
	rpr_cli_link_handler_set(fx_p.rpr, &h);
	memset(open.link_open.uuid, 0x42, 16);
	open.link_open.has_timeout = true;
	open.link_open.timeout = 1;
	(void)fx_rpr_ask(srv, &open);
	minair_run(&fx_air, fx_air.now + 3000);
	cr_assert_eq(claimed, 1);
	cr_assert_eq(fx_scan.n_link, 0);
	rpr_cli_link_handler_set(fx_p.rpr, NULL);
}

/* A status that does not decode ends the request with -EBADMSG; a bad report is dropped. */
Test(rpr_cli, malformed_status, .init = setup, .fini = teardown)
{
	struct rpr_msg get = {.op = RPR_OP_LINK_GET};
	struct fx_answer a = {0};
	struct mesh_acc_msg m = {.app_idx = MESH_APP_IDX_DEV, .src = 0x0100, .dst = 0x0001};
	static const uint8_t short_status[1] = {0};
	static const uint8_t bad_report[2] = {0x00, 0x09}; /* RPState 9 is prohibited */

	fx_isolate(srv->id);
	cr_assert_eq(rpr_cli_request(fx_p.rpr, 0, 0x0100, srv->dev_key, &get, 4000, 1000,
				     fx_rpr_answer, &a, fx_air.now),
		     0);
	m.opcode = RPR_OP_LINK_REPORT;
	m.params = bad_report;
	m.len = sizeof(bad_report);
	cr_assert_eq(mesh_acc_dispatch(mesh_node_acc(fx_p.node), &m, NULL), 0);
	cr_assert_eq(fx_scan.n_link, 0);
	m.opcode = RPR_OP_LINK_STATUS;
	m.params = short_status;
	m.len = sizeof(short_status);
	cr_assert_eq(mesh_acc_dispatch(mesh_node_acc(fx_p.node), &m, NULL), 0);
	cr_assert_eq(a.done, 1);
	cr_assert_eq(a.err, -EBADMSG);
}
