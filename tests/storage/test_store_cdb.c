/*
 * store_cdb: the export's read of the inventory and the transactional
 * import (take-over, merge, dry run, refusals that leave everything as it
 * was, and the gateway's own range chosen around other provisioners).
 */
#include <errno.h>

#include "storage/store_cdb.h"
#include "tests/storage/fixture.h"

static struct fx a, b;

static void teardown(void)
{
	fx_fini(&a);
	if (b.s) {
		fx_fini(&b);
	}
}

/* A network on a: two nodes with composition, a binding, a subscription, a publication,
 * an AppKey, and a removed node (an exclusion). */
static void populate(struct store *s)
{
	static const uint8_t appkey[16] = {0x63, 0x96, 0x47, 0x71, 0x73, 0x4f, 0xbd, 0x76,
					   0xe3, 0xb4, 0x05, 0x19, 0xd1, 0xd9, 0x4a, 0x48};
	struct store_element el[2] = {{0, 0x0100}, {1, 0x0101}};
	struct store_model md[3] = {{0, false, 0x0000}, {0, false, 0x1000}, {1, false, 0x1000}};
	struct store_pub pub = {
	    .addr = 0xc002, .app_idx = 0, .ttl = 5, .period = 0x41, .retransmit = 0x11};

	cr_assert_eq(store_appkey_add(s, 0, 0, appkey), 0);
	cr_assert_eq(fx_node(s, 0x0002, 2, 7), 0);
	cr_assert_eq(fx_node(s, 0x0004, 1, 8), 0);
	cr_assert_eq(fx_node(s, 0x0005, 1, 9), 0);
	cr_assert_eq(store_node_remove(s, 0x0005), 0);
	cr_assert_eq(store_node_info_set(s, 0x0002, 0x05f1, 0x10, 1, 64, 0x1), 0);
	cr_assert_eq(store_comp_page_put(s, 0x0002, 0, (const uint8_t *)"\x00", 1), 0);
	cr_assert_eq(store_comp_set(s, 0x0002, el, 2, md, 3), 0);
	cr_assert_eq(store_node_appkey_add(s, 0x0002, 0), 0);
	cr_assert_eq(store_model_bind(s, 0x0003, false, 0x1000, 0), 0);
	cr_assert_eq(store_sub_add(s, 0x0002, false, 0x1000, 0xc001), 0);
	cr_assert_eq(store_pub_set(s, 0x0002, false, 0x1000, &pub), 0);
	cr_assert_eq(store_node_cfg_state_set(s, 0x0002, STORE_CFG_CONFIGURED), 0);
}

/* Gateway a, populated, read with its keys. */
static struct store_cdb *read_a(void)
{
	struct store_cdb *d = NULL;

	fx_init(&a);
	populate(a.s);
	cr_assert_eq(store_cdb_read(a.s, true, &d), 0);
	return d;
}

/* A second gateway, fresh: its own network (another meshUUID). */
static void fresh_b(void)
{
	fx_init(&b);
	fx_sql(&b, "UPDATE network SET uuid = x'0102030405060708090a0b0c0d0e0f10'");
}

static size_t count_nodes(struct store *s, int excluded)
{
	struct store_node_filter f = {.excluded = excluded};
	size_t n = 0;

	cr_assert_eq(store_node_count(s, &f, &n), 0);
	return n;
}

/* The read holds what was stored, keys only when asked for. */
Test(store_cdb, read, .fini = teardown)
{
	struct store_cdb *d = NULL, *p = NULL;
	uint8_t dk[16];

	d = read_a();
	cr_assert_eq(d->n_netkeys, 1);
	cr_assert_eq(d->n_appkeys, 1);
	cr_assert_eq(d->n_provs, 1);
	cr_assert_eq(d->provs[0].uni[0].lo, 0x0001);
	cr_assert_eq(d->provs[0].uni[0].hi, 0x7fff);
	cr_assert_eq(d->provs[0].addr, 0x0001);
	cr_assert_eq(d->n_nodes, 2, "active nodes only");
	cr_assert_eq(d->nodes[0].unicast, 0x0002);
	cr_assert(d->nodes[0].has_devkey);
	fx_seed(dk, 7, 0x5a);
	cr_assert_arr_eq(d->nodes[0].devkey, dk, 16);
	cr_assert(d->nodes[0].config_complete);
	cr_assert(d->nodes[0].has_comp);
	cr_assert_eq(d->nodes[0].cid, 0x05f1);
	/* Page 0 says relay only: the other features are known to be unsupported. */
	cr_assert_eq(d->nodes[0].feat[STORE_CDB_FEAT_RELAY], -1);
	cr_assert_eq(d->nodes[0].feat[STORE_CDB_FEAT_PROXY], 2);
	cr_assert_eq(d->nodes[0].n_el, 2);
	cr_assert_eq(d->nodes[0].el[1].loc, 0x0101);
	cr_assert_eq(d->nodes[0].el[0].n_models, 2);
	cr_assert_eq(d->nodes[0].el[0].models[1].id, 0x1000);
	cr_assert_eq(d->nodes[0].el[0].models[1].n_sub, 1);
	cr_assert_eq(d->nodes[0].el[0].models[1].sub[0], 0xc001);
	cr_assert(d->nodes[0].el[0].models[1].has_pub);
	cr_assert_eq(d->nodes[0].el[0].models[1].pub.period, 0x41);
	cr_assert_eq(d->nodes[0].el[1].models[0].n_bind, 1);
	/* The node without composition: its element count, location unknown, nothing known. */
	cr_assert_eq(d->nodes[1].n_el, 1);
	cr_assert_not(d->nodes[1].has_comp);
	cr_assert_eq(d->nodes[1].feat[STORE_CDB_FEAT_PROXY], -1);
	cr_assert_eq(d->n_excl, 1);
	cr_assert_eq(d->excl[0].addr, 0x0005);
	store_cdb_free(d);

	/* States learnt from Config Server answers and provisioning appear once known. */
	{
		struct store_cdb_node hb = {.has_hb_pub = true,
					    .hb_pub_dst = 0xc003,
					    .hb_pub_period = 16,
					    .hb_pub_ttl = 7,
					    .hb_pub_features = 1};

		cr_assert_eq(store_cdb_node_state_set(a.s, 0x0002, STORE_CDB_SECURE, 1), 0);
		cr_assert_eq(store_cdb_node_state_set(a.s, 0x0002, STORE_CDB_DEFAULT_TTL, 9), 0);
		/* 3 transmissions every 30 ms: count 2, steps 2. */
		cr_assert_eq(store_cdb_node_state_set(a.s, 0x0002, STORE_CDB_NET_TX, 2 | 2 << 3),
			     0);
		cr_assert_eq(
		    store_cdb_node_state_set(a.s, 0x0002, STORE_CDB_RELAY, 1 | (1 | 1 << 3) << 8),
		    0);
		cr_assert_eq(store_cdb_node_hb_set(a.s, 0x0002, true, &hb), 0);
		cr_assert_eq(store_cdb_node_state_set(a.s, 0x0099, STORE_CDB_BEACON, 1), -ENOENT);
	}
	cr_assert_eq(store_cdb_read(a.s, true, &d), 0);
	cr_assert(d->nodes[0].secure);
	cr_assert_not(d->nodes[1].secure);
	cr_assert_eq(d->nodes[0].default_ttl, 9);
	cr_assert_eq(d->nodes[1].default_ttl, -1, "not known");
	cr_assert_eq(d->nodes[0].net_tx_count, 3);
	cr_assert_eq(d->nodes[0].net_tx_interval, 30);
	cr_assert_eq(d->nodes[0].feat[STORE_CDB_FEAT_RELAY], 1);
	cr_assert_eq(d->nodes[0].relay_count, 2);
	cr_assert_eq(d->nodes[0].relay_interval, 20);
	cr_assert(d->nodes[0].has_hb_pub);
	cr_assert_eq(d->nodes[0].hb_pub_dst, 0xc003);
	cr_assert_eq(d->nodes[0].hb_pub_period, 16);
	cr_assert_not(d->nodes[0].has_hb_sub);
	cr_assert_eq(store_cdb_read(a.s, false, &p), 0);
	cr_assert(p->partial);
	cr_assert_not(p->nodes[0].has_devkey);
	for (int i = 0; i < 16; i++) {
		cr_assert_eq(p->netkeys[0].key[i], 0, "no key material in a partial read");
	}
	store_cdb_free(d);
	store_cdb_free(p);
}

/* Export from a, import into a fresh b (take-over), export b: the same network. */
Test(store_cdb, takeover_round_trip, .fini = teardown)
{
	struct store_cdb *d = NULL, *e = NULL;
	struct store_cdb_result res;
	struct store_network nb;
	char err[256];

	d = read_a();
	fresh_b();
	/* b continues as a's provisioner: same ranges, but never a's own address. */
	cr_assert_eq(store_cdb_apply(b.s, d, d->provs[0].uuid, false, &res, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(res.mode, STORE_CDB_TAKEOVER);
	cr_assert_eq(res.nodes_added, 2);
	cr_assert(res.adopted);
	cr_assert_neq(res.address, 0x0001, "a's own address is not reused");
	cr_assert_neq(res.address, 0x0002);
	cr_assert_eq(res.address, 0x0004 + 1 + 1, "after the nodes and the exclusion");
	cr_assert_eq(store_net_get(b.s, &nb), 0);
	cr_assert_arr_eq(nb.uuid, d->mesh_uuid, 16);
	cr_assert_eq(nb.unicast, res.address);
	cr_assert_eq(store_cdb_read(b.s, true, &e), 0);
	cr_assert_eq(e->n_nodes, 2);
	cr_assert_arr_eq(e->netkeys[0].key, d->netkeys[0].key, 16);
	cr_assert_arr_eq(e->appkeys[0].key, d->appkeys[0].key, 16);
	cr_assert_arr_eq(e->nodes[0].devkey, d->nodes[0].devkey, 16);
	cr_assert_arr_eq(e->nodes[1].uuid, d->nodes[1].uuid, 16);
	cr_assert_eq(e->nodes[0].el[0].models[1].pub.retransmit, 0x11);
	cr_assert_eq(e->nodes[0].el[0].models[1].sub[0], 0xc001);
	cr_assert_eq(e->nodes[0].el[1].models[0].bind[0], 0);
	cr_assert_eq(e->nodes[0].feat[STORE_CDB_FEAT_PROXY], 2);
	/* a's own address joined the exclusion list: a successor never hands it out. */
	cr_assert_eq(e->n_excl, 2);
	cr_assert_eq(e->excl[0].addr, 0x0001);
	cr_assert_eq(e->excl[1].addr, 0x0005);
	/* The allocator skips the imported nodes and the exclusion. */
	{
		uint16_t next;

		cr_assert_eq(store_addr_alloc(b.s, 1, &next), 0);
		cr_assert_eq(next, res.address + 1);
	}
	store_cdb_free(d);
	store_cdb_free(e);
}

/* Another provisioner owns 0x0001-0x199a: the gateway moves out of its way. */
Test(store_cdb, range_avoids_other_provisioner, .fini = teardown)
{
	struct store_cdb *d = NULL;
	struct store_cdb_result res;
	char err[256];

	d = read_a();
	d->mesh_uuid[0] ^= 1; /* another network */
	d->provs[0].uuid[0] ^= 1;
	d->provs[0].uni[0] = (struct store_cdb_range){0x0001, 0x199a};
	d->provs[0].grp[0] = (struct store_cdb_range){0xc000, 0xcc9a};
	fresh_b();
	cr_assert_eq(store_cdb_apply(b.s, d, NULL, false, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res.uni.lo, 0x199b);
	cr_assert_eq(res.uni.hi, 0x7fff);
	cr_assert_eq(res.grp.lo, 0xcc9b);
	cr_assert_eq(res.address, 0x199b);
	cr_assert(res.address_changed);
	cr_assert_eq(res.provisioners_added, 1);
	store_cdb_free(d);
}

/* A dry run reports and changes nothing; a conflict refuses the whole document. */
Test(store_cdb, dry_run_and_refusals_change_nothing, .fini = teardown)
{
	struct store_cdb *d = NULL;
	struct store_cdb_result res;
	struct store_network before, after;
	struct store_netkey nk;
	char err[256];

	d = read_a();
	fresh_b();
	cr_assert_eq(store_net_get(b.s, &before), 0);
	cr_assert_eq(store_cdb_apply(b.s, d, NULL, true, &res, err, sizeof(err)), -ENOSPC,
		     "a's range covers everything: %s", err);
	cr_assert(strstr(err, "no free unicast range"), "%s", err);
	cr_assert_eq(store_cdb_apply(b.s, d, d->provs[0].uuid, true, &res, err, sizeof(err)), 0);
	cr_assert_eq(res.nodes_added, 2);
	cr_assert_eq(count_nodes(b.s, 2), 0, "dry run");
	cr_assert_eq(store_net_get(b.s, &after), 0);
	cr_assert_arr_eq(after.uuid, before.uuid, 16);
	/* Merge into a itself: the nodes are there already. */
	cr_assert_eq(store_cdb_apply(a.s, d, NULL, false, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res.mode, STORE_CDB_MERGE);
	cr_assert_eq(res.nodes_unchanged, 2);
	cr_assert_eq(res.nodes_added, 0);
	/* A different DevKey for a known UUID: 409, and nothing changed. */
	d->nodes[1].devkey[0] ^= 1;
	cr_assert_eq(store_cdb_apply(a.s, d, NULL, false, &res, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "/nodes/1"), "%s", err);
	d->nodes[1].devkey[0] ^= 1;
	/* A NetKey that differs from the inventory's. */
	d->netkeys[0].key[3] ^= 1;
	cr_assert_eq(store_cdb_apply(a.s, d, NULL, false, &res, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "/netKeys/0"), "%s", err);
	cr_assert_eq(store_netkey_get(a.s, 0, &nk), 0);
	cr_assert_neq(nk.key[3], d->netkeys[0].key[3]);
	d->netkeys[0].key[3] ^= 1;
	/* A new node colliding with an existing one, after other nodes were added: all undone. */
	{
		struct store_cdb_node *grown = realloc(d->nodes, 3 * sizeof(*grown));

		cr_assert_not_null(grown);
		d->nodes = grown;
		memset(&d->nodes[2], 0, sizeof(d->nodes[2]));
		d->nodes[2] = d->nodes[1];
		d->nodes[2].netkeys = NULL;
		d->nodes[2].appkeys = NULL;
		d->nodes[2].el = NULL;
		d->nodes[2].n_el = 0;
		d->nodes[2].n_appkeys = 0;
		d->nodes[2].uuid[0] ^= 0x55;
		d->nodes[2].unicast = 0x0003; /* inside node 0x0002's elements */
		d->nodes[2].netkeys = calloc(1, sizeof(uint16_t));
		d->nodes[2].n_netkeys = 1;
		d->n_nodes = 3;
	}
	cr_assert_eq(store_cdb_apply(a.s, d, NULL, false, &res, err, sizeof(err)), -EEXIST);
	cr_assert(strstr(err, "/nodes/2/unicastAddress"), "%s", err);
	cr_assert_eq(count_nodes(a.s, 0), 2);
	/* A partial document cannot be imported. */
	d->partial = true;
	cr_assert_eq(store_cdb_apply(a.s, d, NULL, false, &res, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "/partial"), "%s", err);
	store_cdb_free(d);
}

/* A gateway with nodes of another network is not taken over. */
Test(store_cdb, takeover_needs_an_empty_inventory, .fini = teardown)
{
	struct store_cdb *d = NULL;
	struct store_cdb_result res;
	char err[256];

	d = read_a();
	fresh_b();
	cr_assert_eq(fx_node(b.s, 0x0100, 1, 99), 0);
	cr_assert_eq(store_cdb_apply(b.s, d, d->provs[0].uuid, false, &res, err, sizeof(err)),
		     -EEXIST);
	cr_assert(strstr(err, "/meshUUID"), "%s", err);
	cr_assert_eq(count_nodes(b.s, 0), 1);
	store_cdb_free(d);
}
