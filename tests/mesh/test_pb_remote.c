/*
 * mesh/pb_remote.c end to end on the in-memory air: a provisioner reaches
 * unprovisioned devices only through Remote Provisioning Servers (it cannot
 * hear them), provisions them, configures them through the relaying server,
 * and refreshes servers' device keys, addresses and composition (NPPI).
 * Every outcome is checked on both ends: the provisioner's result against
 * the device's, and the node's behaviour afterwards.
 */
#include "tests/mesh/rpr_fixture.h"

static void setup(void)
{
	fx_init(21);
}

static void teardown(void)
{
	fx_fini();
}

/* Device d hears only server s; P hears only the servers. */
static void topology(void)
{
	int i, j;

	for (i = 0; i < fx_n_dev; i++) {
		minair_link(&fx_air, fx_p.id, fx_d[i].id, false);
		for (j = 0; j < fx_n_srv; j++) {
			minair_link(&fx_air, fx_s[j].id, fx_d[i].id, i == j);
		}
		for (j = 0; j < fx_n_dev; j++) {
			if (i != j) {
				minair_link(&fx_air, fx_d[i].id, fx_d[j].id, false);
			}
		}
	}
}

static void assert_same_result(const struct prov_result *a, const struct prov_result *b)
{
	cr_assert_arr_eq(a->dev_key, b->dev_key, 16);
	cr_assert_arr_eq(a->data.net_key, b->data.net_key, 16);
	cr_assert_eq(a->data.unicast, b->data.unicast);
	cr_assert_eq(a->data.iv_index, b->data.iv_index);
}

/* §4.4.5 + §5.2.3: remote scan finds a device only the server hears, PB-Remote provisions it,
 * and the new node answers Config requests relayed by the server. */
Test(pb_remote, scan_provision_configure_one_hop, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct fx_dev *d = fx_add_dev(0x11);
	struct rpr_msg req = {.op = RPR_OP_SCAN_START};
	struct pb_remote_target t;
	struct prov_cfg pc = fx_prov_cfg(0x0200);
	struct fx_answer a;
	struct mesh_comp comp;
	uint32_t h;

	topology();
	req.scan_start.limit = 0;
	req.scan_start.timeout = 5;
	a = fx_rpr_ask(s, &req);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.m.scan_status.status, RPR_STATUS_SUCCESS);
	cr_assert_eq(a.m.scan_status.state, RPR_SCAN_MULTIPLE);
	cr_assert(minair_run_until(&fx_air, &fx_scan.n, 1, fx_air.now + 5000));
	cr_assert_eq(fx_scan.src[0], 0x0100);
	cr_assert_arr_eq(fx_scan.r[0].uuid, d->uuid, 16);
	cr_assert_eq(fx_scan.r[0].rssi, fx_rssi(d->id));
	cr_assert_eq(fx_scan.r[0].oob, d->oob);
	cr_assert_not(fx_scan.r[0].has_uri_hash);

	t = fx_target(s);
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, d->uuid, 10, &pc, fx_air.now, &h), 0);
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, d->uuid, 10, &pc, fx_air.now, &h), -EBUSY,
		     "one link per server");
	cr_assert(minair_run_until(&fx_air, &fx_p.done, 1, fx_air.now + 120000), "not provisioned");
	cr_assert_eq(fx_p.failed, 0);
	cr_assert_eq(d->done, 1);
	cr_assert_eq(fx_p.last_h, h);
	assert_same_result(&fx_p.res, &d->res);
	cr_assert_eq(pb_remote_active(fx_p.pbr), 0);
	minair_run(&fx_air, fx_air.now + 3000);
	{
		struct rpr_srv_state st;

		rpr_srv_state(s->rpr, &st);
		cr_assert_eq(st.link, RPR_LINK_IDLE);
	}

	/* Config through the relaying server, under the key both ends computed. */
	a = fx_comp_get(0x0200, fx_p.res.dev_key, 0);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.src, 0x0200);
	cr_assert_eq(mesh_comp_parse(a.comp, a.c.comp.data_len, &comp), 0);
	cr_assert_eq(comp.cid, 0x05f1);
	cr_assert_eq(comp.pid, 0x0042);
}

/*
 * Number of Provisioning PDUs the provisioner sends before Data with No OOB
 * and the device's public key in band: Invite, Start, Public Key,
 * Confirmation, Random.
 */
#define PDUS_BEFORE_DATA 5

/*
 * The write-ahead point over PB-Remote: data_ready runs once, when the
 * server has taken our Random but not yet a Data PDU and the device is not
 * yet a node, with the handle, DevKey, address and element count done()
 * reports and the device ends up with.
 */
Test(pb_remote, data_ready_before_data_pdu, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct fx_dev *d = fx_add_dev(0x41);
	struct pb_remote_target t = fx_target(s);
	struct prov_cfg pc = fx_prov_cfg(0x0200);
	uint32_t h;

	topology();
	fx_p.watch = s;
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, d->uuid, 0, &pc, fx_air.now, &h), 0);
	cr_assert(minair_run_until(&fx_air, &fx_p.done, 1, fx_air.now + 120000), "not provisioned");
	cr_assert_eq(fx_p.ready, 1);
	cr_assert_eq(fx_p.ready_h, h);
	cr_assert_eq(fx_p.ready_out_count, PDUS_BEFORE_DATA, "server had taken PDU %u",
		     fx_p.ready_out_count);
	cr_assert_eq(fx_p.ready_devs_done, 0);
	cr_assert_eq(d->done, 1);
	cr_assert_arr_eq(fx_p.ready_key, fx_p.res.dev_key, 16);
	cr_assert_arr_eq(fx_p.ready_key, d->res.dev_key, 16);
	cr_assert_eq(fx_p.ready_unicast, 0x0200);
	cr_assert_eq(fx_p.ready_unicast, d->res.data.unicast);
	cr_assert_eq(fx_p.ready_elements, fx_p.res.elements);
}

/*
 * data_ready refusing: failed() reports its value with no Provisioning
 * Failed code and no link status, the server's link is closed, and the
 * device never becomes a node.
 */
Test(pb_remote, data_ready_refusal, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct fx_dev *d = fx_add_dev(0x42);
	struct pb_remote_target t = fx_target(s);
	struct prov_cfg pc = fx_prov_cfg(0x0200);
	struct rpr_srv_state st;
	uint32_t h;

	topology();
	fx_p.ready_ret = -EIO;
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, d->uuid, 0, &pc, fx_air.now, &h), 0);
	cr_assert(minair_run_until(&fx_air, &fx_p.failed, 1, fx_air.now + 120000));
	minair_run(&fx_air, fx_air.now + 5000);
	cr_assert_eq(fx_p.ready, 1);
	cr_assert_eq(fx_p.last_h, h);
	cr_assert_eq(fx_p.err, -EIO);
	cr_assert_eq(fx_p.prov_err, PROV_ERR_NONE);
	cr_assert_eq(fx_p.link_status, PB_REMOTE_NO_STATUS);
	cr_assert_eq(fx_p.done, 0);
	cr_assert_eq(d->done, 0, "the device received Provisioning Data");
	cr_assert_eq(pb_remote_active(fx_p.pbr), 0);
	rpr_srv_state(s->rpr, &st);
	cr_assert_eq(st.link, RPR_LINK_IDLE);
}

/* Two servers, two devices, two PB-Remote sessions at once: both complete with matching keys. */
Test(pb_remote, two_servers_two_devices_at_once, .init = setup, .fini = teardown)
{
	struct fx_srv *s1 = fx_add_srv(0x0100, NULL, 0), *s2 = fx_add_srv(0x0110, NULL, 0);
	struct fx_dev *d1 = fx_add_dev(0x21), *d2 = fx_add_dev(0x22);
	struct pb_remote_target t1 = fx_target(s1), t2 = fx_target(s2);
	struct prov_cfg c1 = fx_prov_cfg(0x0300), c2 = fx_prov_cfg(0x0310);
	uint32_t h1, h2;

	topology();
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t1, d1->uuid, 0, &c1, fx_air.now, &h1), 0);
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t2, d2->uuid, 0, &c2, fx_air.now, &h2), 0);
	cr_assert_neq(h1, h2);
	cr_assert_eq(pb_remote_active(fx_p.pbr), 2);
	cr_assert(minair_run_until(&fx_air, &fx_p.done, 2, fx_air.now + 180000), "not both done");
	cr_assert_eq(fx_p.failed, 0);
	cr_assert_eq(d1->done, 1);
	cr_assert_eq(d2->done, 1);
	cr_assert_eq(d1->res.data.unicast, 0x0300);
	cr_assert_eq(d2->res.data.unicast, 0x0310);
	cr_assert(memcmp(d1->res.dev_key, d2->res.dev_key, 16) != 0);
	cr_assert_eq(fx_comp_get(0x0300, d1->res.dev_key, 0).err, 0);
	cr_assert_eq(fx_comp_get(0x0310, d2->res.dev_key, 0).err, 0);
}

/*
 * A neighbour server reached with TTL 0 (mesh_node_dst_ttl_set): the whole
 * session, PDU Sends and Link Open/Close from P, reports, answers and
 * segment acknowledgments from the server, goes unrelayed, so the second
 * server, a relay that hears both, repeats nothing; with the Default TTL it
 * repeats every one of them.
 */
Test(pb_remote, neighbour_session_with_ttl0_is_not_relayed, .init = setup, .fini = teardown)
{
	struct fx_srv *s1 = fx_add_srv(0x0100, NULL, 0), *s2 = fx_add_srv(0x0110, NULL, 0);
	struct fx_dev *d1 = fx_add_dev(0x31), *d2 = fx_add_dev(0x32);
	struct pb_remote_target t = fx_target(s1);
	struct prov_cfg c1 = fx_prov_cfg(0x0300), c2 = fx_prov_cfg(0x0310);
	struct mesh_node_stats a, b;
	uint32_t h;

	topology();
	minair_link(&fx_air, s2->id, d2->id, false);
	minair_link(&fx_air, s1->id, d2->id, true); /* s1 hears both devices */
	cr_assert_eq(mesh_node_dst_ttl_set(fx_p.node, s1->addr, 1, 0), 0);
	mesh_node_stats(s2->node, &a);
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, d1->uuid, 0, &c1, fx_air.now, &h), 0);
	cr_assert(minair_run_until(&fx_air, &fx_p.done, 1, fx_air.now + 120000), "not provisioned");
	cr_assert_eq(fx_p.failed, 0);
	cr_assert_eq(d1->done, 1);
	assert_same_result(&fx_p.res, &d1->res);
	mesh_node_stats(s2->node, &b);
	cr_assert_gt(b.net_rx, a.net_rx, "s2 heard the session");
	cr_assert_eq(b.net_relayed, a.net_relayed, "and relayed none of it");

	/* The same through the Default TTL: s2 relays. */
	minair_run(&fx_air, fx_air.now + 3000);
	cr_assert_eq(mesh_node_dst_ttl_set(fx_p.node, s1->addr, 1, MESH_TTL_DEFAULT), 0);
	mesh_node_stats(s2->node, &a);
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, d2->uuid, 0, &c2, fx_air.now, &h), 0);
	cr_assert(minair_run_until(&fx_air, &fx_p.done, 2, fx_air.now + 120000), "not provisioned");
	cr_assert_eq(d2->done, 1);
	mesh_node_stats(s2->node, &b);
	cr_assert_gt(b.net_relayed, a.net_relayed + 20, "%u relayed",
		     (unsigned)(b.net_relayed - a.net_relayed));
}

/* Run an NPPI procedure on server s with cfg; returns after done or failed. */
static void refresh(struct fx_srv *s, uint8_t proc, const struct prov_cfg *cfg)
{
	struct pb_remote_target t = fx_target(s);
	int before = fx_p.done + fx_p.failed;
	volatile int ended;
	uint32_t h;

	cr_assert_eq(pb_remote_refresh(fx_p.pbr, &t, proc, cfg, fx_air.now, &h), 0);
	do {
		minair_run(&fx_air, fx_air.now + 500);
		ended = fx_p.done + fx_p.failed - before;
	} while (!ended && fx_air.now < 200000);
	cr_assert_eq(ended, 1);
	cr_assert_eq(fx_p.last_h, h);
	if (fx_p.done > 0 && fx_p.done + fx_p.failed - before == 1 && fx_p.last_h == h) {
		/* The inventory learns the node's new key (and address) as the gateway would. */
		fx_key_add(fx_p.res.data.unicast, fx_p.res.dev_key);
	}
}

/* NPPI Device Key Refresh: the node answers under the new key, then no longer under the old. */
Test(pb_remote, nppi_devkey_refresh, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct prov_cfg pc = fx_prov_cfg(0x0100);
	uint8_t old[16], cur[16];
	struct fx_answer a;

	memcpy(old, s->dev_key, 16);
	fx_p.watch = s;
	refresh(s, RPR_NPPI_DEVKEY_REFRESH, &pc);
	cr_assert_eq(fx_p.done, 1, "failed: %d", fx_p.err);
	cr_assert(memcmp(fx_p.res.dev_key, old, 16) != 0);
	/* The new key was offered for commit before the node had it as candidate. */
	cr_assert_eq(fx_p.ready, 1);
	cr_assert_eq(fx_p.ready_out_count, PDUS_BEFORE_DATA);
	cr_assert_not(fx_p.ready_had_candidate);
	cr_assert_arr_eq(fx_p.ready_key, fx_p.res.dev_key, 16);
	cr_assert_eq(fx_p.ready_unicast, 0x0100);
	cr_assert_eq(s->applied_proc, RPR_NPPI_DEVKEY_REFRESH);
	/* The node holds the new key as candidate until a message under it arrives. */
	cr_assert_eq(mesh_node_devkey_candidate_get(s->node, cur), 0);
	cr_assert_arr_eq(cur, fx_p.res.dev_key, 16);

	a = fx_comp_get(0x0100, fx_p.res.dev_key, 0);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(mesh_node_devkey_get(s->node, cur), 0);
	cr_assert_arr_eq(cur, fx_p.res.dev_key, 16);
	cr_assert_eq(mesh_node_devkey_candidate_get(s->node, cur), -ENOENT);

	a = fx_comp_get(0x0100, old, 0);
	cr_assert_eq(a.err, -ETIMEDOUT, "the revoked key still works");
}

/* A refused write-ahead during Device Key Refresh: the node keeps its old key, nothing pending. */
Test(pb_remote, nppi_devkey_refresh_data_ready_refusal, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct prov_cfg pc = fx_prov_cfg(0x0100);
	uint8_t cur[16];

	fx_p.ready_ret = -ENOSPC;
	refresh(s, RPR_NPPI_DEVKEY_REFRESH, &pc);
	cr_assert_eq(fx_p.ready, 1);
	cr_assert_eq(fx_p.failed, 1);
	cr_assert_eq(fx_p.err, -ENOSPC);
	cr_assert_eq(fx_p.prov_err, PROV_ERR_NONE);
	cr_assert_eq(fx_p.done, 0);
	minair_run(&fx_air, fx_air.now + 3000);
	cr_assert_eq(s->applied, 0);
	cr_assert_eq(mesh_node_devkey_candidate_get(s->node, cur), -ENOENT);
	cr_assert_eq(mesh_node_devkey_get(s->node, cur), 0);
	cr_assert_arr_eq(cur, s->dev_key, 16);
	cr_assert_eq(fx_comp_get(0x0100, s->dev_key, 0).err, 0);
}

/* NPPI Node Address Refresh: the node answers at the new address under the new key, not the old. */
Test(pb_remote, nppi_address_refresh, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct prov_cfg pc = fx_prov_cfg(0x0400);
	uint8_t old[16];
	struct fx_answer a;

	memcpy(old, s->dev_key, 16);
	refresh(s, RPR_NPPI_ADDRESS_REFRESH, &pc);
	cr_assert_eq(fx_p.done, 1, "failed: %d", fx_p.err);
	cr_assert_eq(fx_p.res.data.unicast, 0x0400);
	cr_assert_eq(s->applied, 1);
	cr_assert_eq(s->applied_proc, RPR_NPPI_ADDRESS_REFRESH);
	cr_assert_eq(s->applied_primary, 0x0400);
	cr_assert_eq(mesh_node_primary(s->node), 0x0400);

	a = fx_comp_get(0x0400, fx_p.res.dev_key, 0);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.src, 0x0400);
	a = fx_comp_get(0x0100, old, 0);
	cr_assert_eq(a.err, -ETIMEDOUT);
	a = fx_comp_get(0x0100, fx_p.res.dev_key, 0);
	cr_assert_eq(a.err, -ETIMEDOUT);
}

/* NPPI Node Composition Refresh: afterwards page 0 is what page 128 was, under a new key. */
Test(pb_remote, nppi_composition_refresh, .init = setup, .fini = teardown)
{
	uint8_t page128[MESH_COMP_DATA_MAX];
	size_t p128_len;
	struct fx_srv *s;
	struct prov_cfg pc = fx_prov_cfg(0x0100);
	struct fx_answer a;

	/* Page 128 = the server's page 0 plus one model: build it from a twin node that has it. */
	{
		struct fx_srv *twin = fx_add_srv(0x0700, NULL, 0);

		cr_assert_eq(mesh_acc_model_add(mesh_node_acc(twin->node), 0,
						(struct mesh_model_id){false, 0, 0x1000}, 0,
						fx_onoff_ops, 1, NULL, NULL),
			     0);
		cr_assert_eq(cfg_srv_page0(twin->cfg, page128, sizeof(page128), &p128_len), 0);
		fx_isolate(twin->id);
	}
	s = fx_add_srv(0x0100, page128, p128_len);
	a = fx_comp_get(0x0100, s->dev_key, 0);
	cr_assert_eq(a.err, 0);
	cr_assert(a.c.comp.data_len != p128_len || memcmp(a.comp, page128, p128_len) != 0);

	refresh(s, RPR_NPPI_COMPOSITION_REFRESH, &pc);
	cr_assert_eq(fx_p.done, 1, "failed: %d", fx_p.err);
	cr_assert_eq(s->applied_proc, RPR_NPPI_COMPOSITION_REFRESH);
	cr_assert_eq(mesh_node_primary(s->node), 0x0100);

	a = fx_comp_get(0x0100, fx_p.res.dev_key, 0);
	cr_assert_eq(a.err, 0);
	cr_assert_eq(a.c.comp.page, 0);
	cr_assert_eq(a.c.comp.data_len, p128_len);
	cr_assert_arr_eq(a.comp, page128, p128_len);
}

/* A node without a pending composition refuses Composition Refresh: Link Cannot Open. */
Test(pb_remote, nppi_composition_refresh_refused, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct prov_cfg pc = fx_prov_cfg(0x0100);

	s->refuse_cr = true;
	refresh(s, RPR_NPPI_COMPOSITION_REFRESH, &pc);
	cr_assert_eq(fx_p.failed, 1);
	cr_assert_eq(fx_p.err, -ECONNREFUSED);
	cr_assert_eq(fx_p.link_status, RPR_STATUS_LINK_CANNOT_OPEN);
	cr_assert_eq(s->applied, 0);
}

/* Provisioning Data a refresh must refuse (formats.md §7): Failed (Invalid Data), nothing applied.
 */
Test(pb_remote, nppi_invalid_data, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct prov_cfg bad_iv = fx_prov_cfg(0x0100), bad_key = fx_prov_cfg(0x0100);
	struct prov_cfg moved = fx_prov_cfg(0x0105), overlap = fx_prov_cfg(0x0100);
	const struct {
		uint8_t proc;
		const struct prov_cfg *cfg;
	} cases[] = {
	    {RPR_NPPI_DEVKEY_REFRESH, &bad_iv},
	    {RPR_NPPI_DEVKEY_REFRESH, &bad_key},
	    {RPR_NPPI_DEVKEY_REFRESH, &moved},
	    {RPR_NPPI_ADDRESS_REFRESH, &overlap},
	};
	uint8_t cur[16];
	size_t i;

	bad_iv.data.iv_index = 1;
	bad_key.data.net_key[0] ^= 1;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rpr_srv_state st;

		refresh(s, cases[i].proc, cases[i].cfg);
		cr_assert_eq(fx_p.failed, (int)i + 1, "case %zu", i);
		cr_assert_eq(fx_p.err, -ECONNABORTED, "case %zu", i);
		cr_assert_eq(fx_p.prov_err, PROV_ERR_INVALID_DATA, "case %zu", i);
		minair_run(&fx_air, fx_air.now + 3000);
		rpr_srv_state(s->rpr, &st);
		cr_assert_eq(st.link, RPR_LINK_IDLE, "case %zu", i);
	}
	cr_assert_eq(fx_p.done, 0);
	cr_assert_eq(s->applied, 0);
	cr_assert_eq(mesh_node_primary(s->node), 0x0100);
	cr_assert_eq(mesh_node_devkey_candidate_get(s->node, cur), -ENOENT);
	cr_assert_eq(mesh_node_devkey_get(s->node, cur), 0);
	cr_assert_arr_eq(cur, s->dev_key, 16);
	cr_assert_eq(fx_comp_get(0x0100, s->dev_key, 0).err, 0);
}

/*
 * Provision d through s (to 0x0200) and run the air in `step` ms steps until
 * the server has taken `out` PDU Sends and sent `in` PDU Reports; returns
 * the session's handle.
 */
static uint32_t start_until(struct fx_srv *s, struct fx_dev *d, uint8_t out, uint8_t in,
			    uint64_t step)
{
	struct pb_remote_target t = fx_target(s);
	struct prov_cfg pc = fx_prov_cfg(0x0200);
	struct rpr_srv_state st;
	uint32_t h;

	topology();
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, d->uuid, 0, &pc, fx_air.now, &h), 0);
	do {
		minair_run(&fx_air, fx_air.now + step);
		rpr_srv_state(s->rpr, &st);
	} while ((st.out_count < out || st.in_count < in) && fx_air.now < 60000);
	cr_assert_geq(st.out_count, out, "never got going");
	cr_assert_geq(st.in_count, in, "no PDU Report");
	return h;
}

/* The session ends in success, with what the device holds. */
static void assert_provisioned(const struct fx_dev *d)
{
	cr_assert(minair_run_until(&fx_air, &fx_p.done, 1, fx_air.now + 120000),
		  "not provisioned (failed %d, err %d)", fx_p.failed, fx_p.err);
	cr_assert_eq(fx_p.failed, 0);
	cr_assert_eq(d->done, 1);
	assert_same_result(&fx_p.res, &d->res);
}

/* The server vanishes mid-way: the session fails with -ETIMEDOUT and leaves nothing behind. */
Test(pb_remote, server_lost_mid_way, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct fx_dev *d = fx_add_dev(0x31);
	uint32_t h = start_until(s, d, 3, 0, 50);

	fx_isolate(s->id);
	cr_assert(minair_run_until(&fx_air, &fx_p.failed, 1, fx_air.now + 200000));
	cr_assert_eq(fx_p.done, 0);
	cr_assert_eq(fx_p.err, -ETIMEDOUT);
	cr_assert_eq(fx_p.last_h, h);
	cr_assert_eq(pb_remote_active(fx_p.pbr), 0);
	cr_assert_eq(pb_remote_next_deadline(fx_p.pbr), UINT64_MAX);
	cr_assert_eq(d->done, 0);
}

/*
 * Everything between P and the server is lost from the moment the device's
 * Capabilities are reported until the server's lower transport has given up
 * on the PDU Report: nothing in the protocol asks for it again.  P repeats
 * its PDU Send; the server, which has the device's answer to it, repeats the
 * report with its Outbound Report, and the session completes.  (Before, P
 * got the Outbound Report only and waited for Capabilities until the
 * provisioning time-out.)
 */
Test(pb_remote, lost_pdu_report_is_sent_again, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct fx_dev *d = fx_add_dev(0x33);

	start_until(s, d, 1, 1, 1);
	minair_link(&fx_air, fx_p.id, s->id, false);
	minair_run(&fx_air, fx_air.now + 8000);
	minair_link(&fx_air, fx_p.id, s->id, true);
	assert_provisioned(d);
}

/*
 * The Start's PDU Send (unsegmented) is lost.  P has timed the round trip to
 * the server (Link Open to Link Status, the Invite to its Outbound Report:
 * a few tens of ms here), so it repeats the PDU Send after the adaptive
 * timeout's floor (500 ms), not after 2.5 s as before, and the session
 * completes.
 */
Test(pb_remote, lost_pdu_send_repeated_after_round_trip, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct fx_dev *d = fx_add_dev(0x36);
	struct rpr_srv_state st;
	uint64_t t0;

	start_until(s, d, 1, 1, 1);
	fx_unseg_lost_from = fx_p.id;
	fx_unseg_lost = 1;
	t0 = fx_air.now;
	do {
		minair_run(&fx_air, fx_air.now + 1);
		rpr_srv_state(s->rpr, &st);
	} while (st.out_count < 2 && fx_air.now < t0 + 10000);
	cr_assert_eq(fx_unseg_lost, 0, "no unsegmented PDU Send was dropped");
	cr_assert_eq(st.out_count, 2);
	cr_assert_geq(fx_air.now - fx_unseg_lost_at, 500, "repeated after %llu ms",
		      (unsigned long long)(fx_air.now - fx_unseg_lost_at));
	cr_assert_lt(fx_air.now - fx_unseg_lost_at, 700, "repeated after %llu ms",
		     (unsigned long long)(fx_air.now - fx_unseg_lost_at));
	assert_provisioned(d);
}

/*
 * The server's Outbound Report for the Invite reaches P, the Capabilities
 * report after it does not (the server's air to P is cut until its lower
 * transport has given up).  P has nothing outstanding; it repeats its last
 * PDU Send while the device's answer is missing, and that gets the report
 * sent again.  (Before, P waited until the provisioning time-out.)
 */
Test(pb_remote, answer_lost_after_outbound_report, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct fx_dev *d = fx_add_dev(0x34);
	struct mesh_node_stats ps;
	uint32_t rx0;

	start_until(s, d, 1, 0, 1);
	mesh_node_stats(fx_p.node, &ps);
	rx0 = ps.acc_rx;
	while (ps.acc_rx == rx0 && fx_air.now < 60000) {
		minair_run(&fx_air, fx_air.now + 1);
		mesh_node_stats(fx_p.node, &ps);
	}
	cr_assert_eq(ps.acc_rx, rx0 + 1, "the Outbound Report alone");
	fx_air.hears[s->id][fx_p.id] = false;
	minair_run(&fx_air, fx_air.now + 8000);
	fx_air.hears[s->id][fx_p.id] = true;
	assert_provisioned(d);
}

/*
 * From the Capabilities on, every Segment Acknowledgment of the server is
 * lost; its Outbound Report for each PDU Send is not.  That report shows
 * the server has the whole PDU Send, so P stops sending its segments: the
 * Public Key's 6, Confirmation's 2, Random's 2 and Data's 4 (14) go once,
 * a few twice when the report comes after a retransmission interval (18
 * in this world).  Before, P's lower transport went on with its passes (3
 * in all) until it gave up (46 segments), each next PDU Send waiting behind.
 */
Test(pb_remote, outbound_report_stops_segment_retransmissions, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct fx_dev *d = fx_add_dev(0x35);

	(void)start_until(s, d, 1, 1, 1);
	fx_acks_lost_from = s->id;
	memset(fx_segs, 0, sizeof(fx_segs));
	assert_provisioned(d);
	fx_acks_lost_from = -1;
	cr_assert_geq(fx_segs[fx_p.id], 6 + 2 + 2 + 4);
	cr_assert_lt(fx_segs[fx_p.id], 2 * (6 + 2 + 2 + 4), "P's segments: %u", fx_segs[fx_p.id]);
}

/*
 * A Config request that needs segments (AppKey Add: 20 octets, 2
 * segments) to a server whose Segment Acknowledgments are all lost: its
 * AppKey Status shows it has the request, so the client stops the
 * segments there (2 sent); before, the lower transport went on with its
 * passes (6).
 */
Test(pb_remote, config_answer_stops_segment_retransmissions, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct cfg_msg req = {.op = CFG_OP_APPKEY_ADD};
	struct fx_answer a = {0};

	req.appkey.net_idx = 0;
	req.appkey.app_idx = 0x456;
	memset(req.appkey.key, 0x5a, 16);
	fx_acks_lost_from = s->id;
	memset(fx_segs, 0, sizeof(fx_segs));
	cr_assert_eq(cfg_cli_request(fx_p.cfg, 0, s->addr, s->dev_key, &req, 6000, 2000,
				     fx_cfg_answer, &a, fx_air.now),
		     0);
	cr_assert(minair_run_until(&fx_air, &a.done, 1, fx_air.now + 30000), "no outcome");
	cr_assert_eq(a.err, 0);
	minair_run(&fx_air, fx_air.now + 5000);
	fx_acks_lost_from = -1;
	cr_assert_eq(fx_segs[fx_p.id], 2, "P's segments: %u", fx_segs[fx_p.id]);
}

/*
 * From the server's Public Key report on, every Segment Acknowledgment of
 * P is lost.  The reports still arrive, and P's next PDU Send shows the
 * server that P has the last one (§5.4.1: the provisioner sends its next
 * PDU only after the device's answer), so the server stops sending its
 * segments: Public Key 6, Confirmation 2 and Random 2 go about once; only
 * Complete (answered by no PDU Send) and the closing Link Report make their
 * 3 passes.  Before, every report made its 3 passes, the next waiting behind.
 */
Test(pb_remote, next_pdu_send_stops_report_retransmissions, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct fx_dev *d = fx_add_dev(0x36);

	(void)start_until(s, d, 1, 2, 1);
	fx_acks_lost_from = fx_p.id;
	memset(fx_segs, 0, sizeof(fx_segs));
	assert_provisioned(d);
	minair_run(&fx_air, fx_air.now + 5000);
	fx_acks_lost_from = -1;
	cr_assert_lt(fx_segs[s->id], 2 * (6 + 2 + 2) + 3 + 3, "server's segments: %u",
		     fx_segs[s->id]);
}

/*
 * P -> S1 -> S2 -> device, 30 % of packets lost per receiver, some
 * duplicated and reordered: over 20 seeded worlds every device is provisioned
 * within four attempts (the gateway's retries), the last with the keys the
 * device holds.  Before PDU Reports were repeated on request, half of the
 * worlds failed all four (the device's answer lost with its report).
 */
Test(pb_remote, lossy_two_hop_chain)
{
	uint64_t seed;

	for (seed = 1; seed <= 20; seed++) {
		struct fx_srv *s2;
		struct fx_dev *d;
		struct pb_remote_target t;
		struct prov_cfg pc;
		uint32_t h;
		int k;

		fx_init(seed);
		(void)fx_add_srv(0x0100, NULL, 0);
		s2 = fx_add_srv(0x0110, NULL, 0);
		d = fx_add_dev(0x41);
		minair_link(&fx_air, fx_p.id, d->id, false);
		minair_link(&fx_air, fx_p.id, s2->id, false);
		minair_link(&fx_air, fx_s[0].id, d->id, false);
		fx_air.loss_pct = 30;
		fx_air.dup_pct = 5;
		fx_air.reorder = 3;
		t = fx_target(s2);
		for (k = 0; k < 4 && !fx_p.done; k++) {
			int failed = fx_p.failed;

			pc = fx_prov_cfg(0x0200);
			cr_assert_eq(
			    pb_remote_provision(fx_p.pbr, &t, d->uuid, 0, &pc, fx_air.now, &h), 0);
			while (!fx_p.done && fx_p.failed == failed && fx_air.now < 3600000) {
				minair_run(&fx_air, fx_air.now + 100);
			}
		}
		cr_assert_eq(fx_p.done, 1, "seed %llu: %d attempts failed",
			     (unsigned long long)seed, fx_p.failed);
		cr_assert_geq(d->done, 1);
		assert_same_result(&fx_p.res, &d->res);
		fx_fini();
	}
}

/* The device vanishes mid-way: the server reports the closed link and the session fails. */
Test(pb_remote, device_lost_mid_way, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct fx_dev *d = fx_add_dev(0x32);
	struct rpr_srv_state st;

	start_until(s, d, 2, 0, 50);
	fx_isolate(d->id);
	cr_assert(minair_run_until(&fx_air, &fx_p.failed, 1, fx_air.now + 200000));
	cr_assert_eq(fx_p.done, 0);
	cr_assert(fx_p.link_status == RPR_STATUS_LINK_CLOSED_CANNOT_SEND ||
		      fx_p.link_status == RPR_STATUS_LINK_CLOSED_CANNOT_RECEIVE,
		  "status 0x%02x", fx_p.link_status);
	cr_assert_eq(fx_p.err, -ETIMEDOUT);
	cr_assert_eq(pb_remote_active(fx_p.pbr), 0);
	rpr_srv_state(s->rpr, &st);
	cr_assert_eq(st.link, RPR_LINK_IDLE);
}

/* Link Open to a UUID nobody answers: Link Report Link Open Failed after LinkOpenTimeout. */
Test(pb_remote, link_open_failed, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct pb_remote_target t = fx_target(s);
	struct prov_cfg pc = fx_prov_cfg(0x0200);
	uint8_t nobody[16];
	uint32_t h;

	memset(nobody, 0x99, 16);
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, nobody, 3, &pc, fx_air.now, &h), 0);
	cr_assert(minair_run_until(&fx_air, &fx_p.failed, 1, fx_air.now + 60000));
	cr_assert_eq(fx_p.err, -ETIMEDOUT);
	cr_assert_eq(fx_p.link_status, RPR_STATUS_LINK_OPEN_FAILED);
	cr_assert_eq(pb_remote_active(fx_p.pbr), 0);
}

/* A server nobody can reach: Link Open goes unanswered and the session times out. */
Test(pb_remote, server_unreachable, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct pb_remote_target t = fx_target(s);
	struct prov_cfg pc = fx_prov_cfg(0x0200);
	uint8_t uuid[16] = {0};
	uint32_t h;

	fx_isolate(s->id);
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, uuid, 0, &pc, fx_air.now, &h), 0);
	cr_assert(minair_run_until(&fx_air, &fx_p.failed, 1, fx_air.now + 60000));
	cr_assert_eq(fx_p.err, -ETIMEDOUT);
	cr_assert_eq(fx_p.link_status, PB_REMOTE_NO_STATUS);
	cr_assert_eq(pb_remote_active(fx_p.pbr), 0);
}

/* Cancelling a session closes the server's link and reports nothing. */
Test(pb_remote, cancel, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct fx_dev *d = fx_add_dev(0x33);
	struct pb_remote_target t = fx_target(s);
	struct prov_cfg pc = fx_prov_cfg(0x0200);
	struct rpr_srv_state st;
	uint32_t h;

	topology();
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, d->uuid, 0, &pc, fx_air.now, &h), 0);
	do {
		minair_run(&fx_air, fx_air.now + 50);
		rpr_srv_state(s->rpr, &st);
	} while (st.out_count < 2 && fx_air.now < 60000);
	cr_assert_eq(pb_remote_cancel(fx_p.pbr, h, fx_air.now), 0);
	cr_assert_eq(pb_remote_cancel(fx_p.pbr, h, fx_air.now), -ENOENT);
	minair_run(&fx_air, fx_air.now + 5000);
	rpr_srv_state(s->rpr, &st);
	cr_assert_eq(st.link, RPR_LINK_IDLE);
	cr_assert_eq(fx_p.done + fx_p.failed, 0);
	cr_assert_eq(pb_remote_active(fx_p.pbr), 0);
}

/*
 * As many sessions at once as the gateway's max_sessions allows (up to 32),
 * each through its own server: a building job with max_sessions 32 had its
 * remote attempts past the 16th fail with "No space left on device".
 */
Test(pb_remote, thirty_two_sessions_at_once, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct pb_remote_target t = fx_target(s);
	struct prov_cfg pc = fx_prov_cfg(0x0400);
	uint8_t uuid[16] = {0};
	uint32_t h;
	int i;

	for (i = 0; i < 32; i++) {
		t.server = (uint16_t)(0x0100 + i);
		uuid[0] = (uint8_t)i;
		cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, uuid, 0, &pc, fx_air.now, &h), 0,
			     "session %d refused", i + 1);
	}
	cr_assert_eq(pb_remote_active(fx_p.pbr), 32);
	t.server = 0x0200;
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, uuid, 0, &pc, fx_air.now, &h), -ENOSPC);
}

/* Bad arguments are refused without sending anything. */
Test(pb_remote, bad_arguments, .init = setup, .fini = teardown)
{
	struct fx_srv *s = fx_add_srv(0x0100, NULL, 0);
	struct pb_remote_target t = fx_target(s), grp = t;
	struct prov_cfg pc = fx_prov_cfg(0x0200), dev = pc;
	uint8_t uuid[16] = {0};
	size_t sent = fx_air.sent;
	uint32_t h;

	grp.server = 0xc000;
	dev.role = PROV_ROLE_DEVICE;
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &grp, uuid, 0, &pc, fx_air.now, &h), -EINVAL);
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, uuid, 0, &dev, fx_air.now, &h), -EINVAL);
	cr_assert_eq(pb_remote_provision(fx_p.pbr, &t, uuid, 0x3d, &pc, fx_air.now, &h), -EINVAL);
	cr_assert_eq(pb_remote_refresh(fx_p.pbr, &t, 3, &pc, fx_air.now, &h), -EINVAL);
	cr_assert_eq(pb_remote_input_oob(fx_p.pbr, 77, "1", fx_air.now), -ENOENT);
	cr_assert_eq(fx_air.sent, sent);
	cr_assert_eq(pb_remote_active(fx_p.pbr), 0);
}
