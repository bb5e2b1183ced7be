/*
 * mesh/rpr_srv.c: the Remote Provisioning Server's scanning, extended
 * scanning and link states as a Remote Provisioning Client sees them over
 * the in-memory air, and its refusal of malformed requests (no answer, no
 * state change).
 */
#include "tests/mesh/rpr_fixture.h"

static struct fx_srv *srv;

static void setup(void)
{
	fx_init(33);
	srv = fx_add_srv(0x0100, NULL, 0);
}

static void teardown(void)
{
	fx_fini();
}

static struct rpr_msg scan_start(uint8_t limit, uint8_t timeout, const uint8_t *uuid)
{
	struct rpr_msg m = {.op = RPR_OP_SCAN_START};

	m.scan_start.limit = limit;
	m.scan_start.timeout = timeout;
	if (uuid) {
		m.scan_start.has_uuid = true;
		memcpy(m.scan_start.uuid, uuid, 16);
	}
	return m;
}

/* Scan Capabilities Status carries the configured MaxScannedItems and ActiveScan (§4.3.4.2). */
Test(rpr_srv, scan_caps, .init = setup, .fini = teardown)
{
	struct rpr_msg req = {.op = RPR_OP_SCAN_CAPS_GET};
	struct fx_answer a = fx_rpr_ask(srv, &req);

	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.src, 0x0100);
	cr_assert_eq(a.m.op, RPR_OP_SCAN_CAPS_STATUS);
	cr_assert_eq(a.m.scan_caps.max_items, 4);
	cr_assert(a.m.scan_caps.active);
}

/* Multiple-device scan: each device reported once with RSSI, OOB and URI hash; then it times out.
 */
Test(rpr_srv, multiple_device_scan, .init = setup, .fini = teardown)
{
	struct fx_dev *d1 = fx_add_dev(1), *d2 = fx_add_dev(2);
	struct rpr_msg req = scan_start(0, 3, NULL), get = {.op = RPR_OP_SCAN_GET};
	struct rpr_srv_state st;
	struct fx_answer a;
	int i;

	d2->has_uri = true;
	memcpy(d2->uri, "\xd9\x7b\x8e\x14", 4);
	a = fx_rpr_ask(srv, &req);
	cr_assert_eq(a.m.scan_status.status, RPR_STATUS_SUCCESS);
	cr_assert_eq(a.m.scan_status.state, RPR_SCAN_MULTIPLE);
	cr_assert_eq(a.m.scan_status.limit, 4, "0 means the server's maximum");
	cr_assert_eq(a.m.scan_status.timeout, 3);
	minair_run(&fx_air, fx_air.now + 2000);
	cr_assert_eq(fx_scan.n, 2, "each device once, despite repeated beacons");
	for (i = 0; i < 2; i++) {
		const struct fx_dev *d = fx_scan.r[i].uuid[1] == 1 ? d1 : d2;

		cr_assert_arr_eq(fx_scan.r[i].uuid, d->uuid, 16);
		cr_assert_eq(fx_scan.r[i].rssi, fx_rssi(d->id));
		cr_assert_eq(fx_scan.r[i].oob, d->oob);
		cr_assert_eq(fx_scan.r[i].has_uri_hash, d->has_uri);
		if (d->has_uri) {
			cr_assert_arr_eq(fx_scan.r[i].uri_hash, d->uri, 4);
		}
	}
	a = fx_rpr_ask(srv, &get);
	cr_assert_eq(a.m.scan_status.state, RPR_SCAN_MULTIPLE);
	cr_assert_geq(a.m.scan_status.timeout, 1);
	minair_run(&fx_air, fx_air.now + 3000);
	rpr_srv_state(srv->rpr, &st);
	cr_assert_eq(st.scan, RPR_SCAN_IDLE);
	a = fx_rpr_ask(srv, &get);
	cr_assert_eq(a.m.scan_status.state, RPR_SCAN_IDLE);
	cr_assert_eq(a.m.scan_status.timeout, 0);
}

/* Single-device scan reports only the UUID asked for. */
Test(rpr_srv, single_device_scan, .init = setup, .fini = teardown)
{
	struct fx_dev *d2;
	struct rpr_msg req;
	struct fx_answer a;

	(void)fx_add_dev(1);
	d2 = fx_add_dev(2);
	req = scan_start(1, 5, d2->uuid);
	a = fx_rpr_ask(srv, &req);
	cr_assert_eq(a.m.scan_status.state, RPR_SCAN_SINGLE);
	minair_run(&fx_air, fx_air.now + 2000);
	cr_assert_eq(fx_scan.n, 1);
	cr_assert_arr_eq(fx_scan.r[0].uuid, d2->uuid, 16);
}

/* ScannedItemsLimit: the scan ends when the list is full; above the maximum: Limited Resources. */
Test(rpr_srv, items_limit, .init = setup, .fini = teardown)
{
	struct rpr_msg req = scan_start(1, 10, NULL), big = scan_start(5, 10, NULL);
	struct rpr_srv_state st;
	struct fx_answer a;

	(void)fx_add_dev(1);
	(void)fx_add_dev(2);
	a = fx_rpr_ask(srv, &big);
	cr_assert_eq(a.m.scan_status.status, RPR_STATUS_LIMITED_RESOURCES);
	cr_assert_eq(a.m.scan_status.state, RPR_SCAN_IDLE);
	a = fx_rpr_ask(srv, &req);
	cr_assert_eq(a.m.scan_status.status, RPR_STATUS_SUCCESS);
	minair_run(&fx_air, fx_air.now + 3000);
	cr_assert_eq(fx_scan.n, 1);
	rpr_srv_state(srv->rpr, &st);
	cr_assert_eq(st.scan, RPR_SCAN_IDLE);
}

/* Scan Stop ends scanning at once; no report follows. */
Test(rpr_srv, scan_stop, .init = setup, .fini = teardown)
{
	struct rpr_msg req = scan_start(0, 20, NULL), stop = {.op = RPR_OP_SCAN_STOP};
	struct fx_answer a;

	a = fx_rpr_ask(srv, &req);
	cr_assert_eq(a.m.scan_status.state, RPR_SCAN_MULTIPLE);
	a = fx_rpr_ask(srv, &stop);
	cr_assert_eq(a.m.scan_status.status, RPR_STATUS_SUCCESS);
	cr_assert_eq(a.m.scan_status.state, RPR_SCAN_IDLE);
	(void)fx_add_dev(1);
	minair_run(&fx_air, fx_air.now + 3000);
	cr_assert_eq(fx_scan.n, 0);
}

/* Extended Scan of a device: the requested AD types the owner fed in, plus its OOB Information. */
Test(rpr_srv, extended_scan_device, .init = setup, .fini = teardown)
{
	struct fx_dev *d = fx_add_dev(7);
	struct rpr_msg req = {.op = RPR_OP_EXT_SCAN_START};
	static const uint8_t name[] = {'l', 'a', 'm', 'p'};
	static const uint8_t uri[] = {0x17, '/', '/', 'x'};
	static const uint8_t want[] = {5, 0x09, 'l', 'a', 'm', 'p', 5, 0x24, 0x17, '/', '/', 'x'};
	uint8_t other[16];

	memset(other, 0x66, 16);

	req.ext_scan_start.n_ad_types = 2;
	req.ext_scan_start.ad_types[0] = 0x09;
	req.ext_scan_start.ad_types[1] = 0x24;
	req.ext_scan_start.has_uuid = true;
	memcpy(req.ext_scan_start.uuid, d->uuid, 16);
	req.ext_scan_start.timeout = 5;
	cr_assert_eq(rpr_cli_send(fx_p.rpr, 0, 0x0100, srv->dev_key, &req, fx_air.now, NULL), 0);
	minair_run(&fx_air, fx_air.now + 1000);
	/* A type not asked for and another device's name are not collected. */
	cr_assert_eq(rpr_srv_ad_rx(srv->rpr, d->uuid, 0x01, (const uint8_t *)"\x06", 1, fx_air.now),
		     0);
	cr_assert_eq(rpr_srv_ad_rx(srv->rpr, other, 0x09, name, 4, fx_air.now), 0);
	cr_assert_eq(rpr_srv_ad_rx(srv->rpr, d->uuid, 0x09, name, sizeof(name), fx_air.now), 0);
	cr_assert_eq(fx_scan.n_ext, 0);
	cr_assert_eq(rpr_srv_ad_rx(srv->rpr, d->uuid, 0x24, uri, sizeof(uri), fx_air.now), 0);
	minair_run(&fx_air, fx_air.now + 1000);
	cr_assert_eq(fx_scan.n_ext, 1, "all types collected: reported before the timeout");
	cr_assert_eq(fx_scan.ext_src, 0x0100);
	cr_assert_eq(fx_scan.ext.status, RPR_STATUS_SUCCESS);
	cr_assert_arr_eq(fx_scan.ext.uuid, d->uuid, 16);
	cr_assert(fx_scan.ext.has_oob);
	cr_assert_eq(fx_scan.ext.oob, d->oob);
	cr_assert_eq(fx_scan.ext.adv_len, sizeof(want));
	cr_assert_arr_eq(fx_scan.ext.adv, want, sizeof(want));
}

/* Extended Scan of a device nobody hears: a report with the UUID only, at the timeout. */
Test(rpr_srv, extended_scan_timeout, .init = setup, .fini = teardown)
{
	struct rpr_msg req = {.op = RPR_OP_EXT_SCAN_START};
	struct fx_answer a;

	req.ext_scan_start.n_ad_types = 1;
	req.ext_scan_start.ad_types[0] = 0x09;
	req.ext_scan_start.has_uuid = true;
	memset(req.ext_scan_start.uuid, 0x77, 16);
	req.ext_scan_start.timeout = 2;
	cr_assert_eq(rpr_cli_send(fx_p.rpr, 0, 0x0100, srv->dev_key, &req, fx_air.now, NULL), 0);
	minair_run(&fx_air, fx_air.now + 500);
	/* A second one while the first runs: Limited Resources, answered at once. */
	req.ext_scan_start.uuid[0] = 0x78;
	a = fx_rpr_ask(srv, &req);
	cr_assert_eq(a.m.ext_scan_report.status, RPR_STATUS_LIMITED_RESOURCES);
	cr_assert_eq(a.m.ext_scan_report.uuid[0], 0x78);
	cr_assert_eq(fx_scan.n_ext, 0);
	minair_run(&fx_air, fx_air.now + 3000);
	cr_assert_eq(fx_scan.n_ext, 1);
	cr_assert_eq(fx_scan.ext.uuid[0], 0x77);
	cr_assert_not(fx_scan.ext.has_oob);
	cr_assert_eq(fx_scan.ext.adv_len, 0);
}

/* Extended Scan without UUID: the server's own AD structures of the requested types. */
Test(rpr_srv, extended_scan_self, .init = setup, .fini = teardown)
{
	struct rpr_msg req = {.op = RPR_OP_EXT_SCAN_START};
	static const uint8_t name[] = {6, 0x09, 'r', 'p', 'r', '-', 's'};
	struct fx_answer a;
	uint8_t uuid[16];

	req.ext_scan_start.n_ad_types = 1;
	req.ext_scan_start.ad_types[0] = 0x09;
	a = fx_rpr_ask(srv, &req);
	cr_assert_eq(a.err, 0);
	memset(uuid, 0x51, 16);
	cr_assert_arr_eq(a.m.ext_scan_report.uuid, uuid, 16);
	cr_assert(a.m.ext_scan_report.has_oob);
	cr_assert_eq(a.m.ext_scan_report.adv_len, sizeof(name),
		     "only the name, not the appearance");
	cr_assert_arr_eq(a.adv, name, sizeof(name));
}

/* Link Get on an idle server; Link Close on an idle link succeeds (a repeated close is answered).
 */
Test(rpr_srv, link_idle, .init = setup, .fini = teardown)
{
	struct rpr_msg get = {.op = RPR_OP_LINK_GET}, close = {.op = RPR_OP_LINK_CLOSE};
	struct fx_answer a;

	a = fx_rpr_ask(srv, &get);
	cr_assert_eq(a.m.op, RPR_OP_LINK_STATUS);
	cr_assert_eq(a.m.link_status.status, RPR_STATUS_SUCCESS);
	cr_assert_eq(a.m.link_status.state, RPR_LINK_IDLE);
	a = fx_rpr_ask(srv, &close);
	cr_assert_eq(a.m.link_status.status, RPR_STATUS_SUCCESS);
	cr_assert_eq(a.m.link_status.state, RPR_LINK_IDLE);
}

/* Link Open while a link opens: same UUID from the same client succeeds, another is Invalid State.
 */
Test(rpr_srv, link_open_busy, .init = setup, .fini = teardown)
{
	struct rpr_msg open = {.op = RPR_OP_LINK_OPEN}, get = {.op = RPR_OP_LINK_GET};
	struct fx_answer a;

	memset(open.link_open.uuid, 0x44, 16);
	a = fx_rpr_ask(srv, &open);
	cr_assert_eq(a.m.link_status.status, RPR_STATUS_SUCCESS);
	cr_assert_eq(a.m.link_status.state, RPR_LINK_OPENING);
	a = fx_rpr_ask(srv, &open);
	cr_assert_eq(a.m.link_status.status, RPR_STATUS_SUCCESS);
	open.link_open.uuid[0] = 0x45;
	a = fx_rpr_ask(srv, &open);
	cr_assert_eq(a.m.link_status.status, RPR_STATUS_INVALID_STATE);
	cr_assert_eq(a.m.link_status.state, RPR_LINK_OPENING);
	open.link_open.nppi = true;
	open.link_open.procedure = RPR_NPPI_DEVKEY_REFRESH;
	a = fx_rpr_ask(srv, &open);
	cr_assert_eq(a.m.link_status.status, RPR_STATUS_INVALID_STATE);
	/* Nobody answers: after the default LinkOpenTimeout, Link Open Failed and idle again. */
	minair_run(&fx_air, fx_air.now + (RPR_SRV_LINK_OPEN_DEFAULT + 1) * 1000);
	cr_assert_eq(fx_scan.n_link, 1);
	cr_assert_eq(fx_scan.link.status, RPR_STATUS_LINK_OPEN_FAILED);
	cr_assert_eq(fx_scan.link.state, RPR_LINK_IDLE);
	cr_assert(fx_scan.link.has_reason);
	cr_assert_eq(fx_scan.link.reason, RPR_REASON_TIMEOUT);
	a = fx_rpr_ask(srv, &get);
	cr_assert_eq(a.m.link_status.state, RPR_LINK_IDLE);
}

/* Deliver one access message straight to the server's model, as if it came from P. */
static int deliver(uint32_t op, const uint8_t *params, size_t len)
{
	struct mesh_acc_msg m = {0};

	m.app_idx = MESH_APP_IDX_DEV;
	m.src = 0x0001;
	m.dst = 0x0100;
	m.ttl = 5;
	m.opcode = op;
	m.params = params;
	m.len = len;
	return mesh_acc_dispatch(mesh_node_acc(srv->node), &m, NULL);
}

/* Malformed requests (wrong lengths, prohibited values) get no answer and change nothing. */
Test(rpr_srv, malformed_requests, .init = setup, .fini = teardown)
{
	static const uint8_t uuid15[15] = {0};
	static const uint8_t zeros[20] = {0};
	static const uint8_t nppi3[1] = {3};
	static const uint8_t close_timeout[1] = {RPR_REASON_TIMEOUT};
	static const uint8_t ext_none[1] = {0};
	static const uint8_t ext_dup[3] = {2, 0x09, 0x09};
	static const uint8_t open_t0[17] = {[16] = 0};
	static const uint8_t open_t61[17] = {[16] = 0x3d};
	static const uint8_t scan_t0[2] = {4, 0};
	const struct {
		uint32_t op;
		const uint8_t *p;
		size_t len;
	} bad[] = {
	    {RPR_OP_SCAN_CAPS_GET, zeros, 1},      {RPR_OP_SCAN_GET, zeros, 1},
	    {RPR_OP_SCAN_START, zeros, 1},         {RPR_OP_SCAN_START, scan_t0, 2},
	    {RPR_OP_SCAN_START, zeros, 17},        {RPR_OP_SCAN_STOP, zeros, 2},
	    {RPR_OP_EXT_SCAN_START, ext_none, 1},  {RPR_OP_EXT_SCAN_START, ext_dup, 3},
	    {RPR_OP_LINK_GET, zeros, 1},           {RPR_OP_LINK_OPEN, uuid15, 15},
	    {RPR_OP_LINK_OPEN, nppi3, 1},          {RPR_OP_LINK_OPEN, open_t0, 17},
	    {RPR_OP_LINK_OPEN, open_t61, 17},      {RPR_OP_LINK_OPEN, zeros, 18},
	    {RPR_OP_LINK_CLOSE, close_timeout, 1}, {RPR_OP_LINK_CLOSE, zeros, 0},
	    {RPR_OP_PDU_SEND, zeros, 0},           {RPR_OP_PDU_SEND, zeros, 1},
	};
	struct rpr_srv_state before, after;
	size_t i, sent;

	rpr_srv_state(srv->rpr, &before);
	minair_run(&fx_air, fx_air.now + 1000);
	sent = fx_air.sent;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_lt(deliver(bad[i].op, bad[i].p, bad[i].len), 0, "case %zu", i);
		rpr_srv_state(srv->rpr, &after);
		cr_assert_eq(memcmp(&before, &after, sizeof(before)), 0, "case %zu", i);
	}
	cr_assert_eq(fx_air.sent, sent, "something was answered");
	cr_assert_eq(rpr_srv_next_deadline(srv->rpr), UINT64_MAX);
}

/* PDU Send from anyone but the link's client, or with the wrong number, is ignored. */
Test(rpr_srv, pdu_send_from_stranger, .init = setup, .fini = teardown)
{
	struct rpr_msg open = {.op = RPR_OP_LINK_OPEN};
	static const uint8_t invite[3] = {1, PROV_INVITE, 0};
	static const uint8_t invite_n5[3] = {5, PROV_INVITE, 0};
	struct rpr_srv_state before, after;
	struct fx_answer a;

	open.link_open.nppi = true;
	open.link_open.procedure = RPR_NPPI_DEVKEY_REFRESH;
	a = fx_rpr_ask(srv, &open);
	cr_assert_eq(a.m.link_status.status, RPR_STATUS_SUCCESS);
	cr_assert_eq(a.m.link_status.state, RPR_LINK_ACTIVE);
	rpr_srv_state(srv->rpr, &before);
	cr_assert(before.nppi);
	cr_assert_eq(before.client, 0x0001);
	{
		struct mesh_acc_msg m = {.app_idx = MESH_APP_IDX_DEV, .src = 0x0002, .dst = 0x0100};

		m.opcode = RPR_OP_PDU_SEND;
		m.params = invite;
		m.len = sizeof(invite);
		cr_assert_eq(mesh_acc_dispatch(mesh_node_acc(srv->node), &m, NULL), 0);
	}
	cr_assert_eq(deliver(RPR_OP_PDU_SEND, invite_n5, sizeof(invite_n5)), 0);
	rpr_srv_state(srv->rpr, &after);
	cr_assert_eq(after.out_count, 0);
	cr_assert_eq(after.in_count, 0);
	cr_assert_eq(deliver(RPR_OP_PDU_SEND, invite, sizeof(invite)), 0);
	rpr_srv_state(srv->rpr, &after);
	cr_assert_eq(after.out_count, 1);
	cr_assert_eq(after.in_count, 1, "Capabilities went out in a PDU Report");
}

/* Beacons of other types and malformed ones are refused by the feed. */
Test(rpr_srv, beacon_feed_errors, .init = setup, .fini = teardown)
{
	static const uint8_t snb[22] = {0x01};
	static const uint8_t short_unprov[18] = {0x00};

	cr_assert_eq(rpr_srv_beacon_rx(srv->rpr, snb, sizeof(snb), -50, fx_air.now), -ENOTSUP);
	cr_assert_eq(
	    rpr_srv_beacon_rx(srv->rpr, short_unprov, sizeof(short_unprov), -50, fx_air.now),
	    -EBADMSG);
	cr_assert_eq(rpr_srv_beacon_rx(srv->rpr, snb, 0, -50, fx_air.now), -EBADMSG);
}
