#include <errno.h>

#include "tests/storage/fixture.h"

static struct fx f;

static void setup(void)
{
	fx_init(&f);
}

static void teardown(void)
{
	fx_fini(&f);
}

TestSuite(store_nodes, .init = setup, .fini = teardown);

/* A node reads back by address, by UUID and by any of its element addresses. */
Test(store_nodes, add_get_lookup)
{
	struct store_node n, by_uuid;
	uint8_t dk[16], want[16];
	uint16_t primary = 0;
	uint16_t *idx;
	size_t cnt;

	cr_assert_eq(fx_node(f.s, 0x0100, 3, 7), 0);
	cr_assert_eq(store_node_get(f.s, 0x0100, &n), 0);
	cr_assert_eq(n.unicast, 0x0100);
	cr_assert_eq(n.elements, 3);
	cr_assert_str_eq(n.name, "node-00007");
	cr_assert_eq(n.cfg_state, STORE_CFG_PROVISIONED);
	cr_assert_not(n.excluded);
	cr_assert_eq(n.created_ms, f.now);
	cr_assert_eq(store_node_get_by_uuid(f.s, n.uuid, &by_uuid), 0);
	cr_assert_eq(by_uuid.unicast, 0x0100);
	cr_assert_eq(store_node_lookup(f.s, 0x0102, &primary), 0);
	cr_assert_eq(primary, 0x0100);
	cr_assert_eq(store_node_lookup(f.s, 0x0103, &primary), -ENOENT);
	cr_assert_eq(store_node_lookup(f.s, 0x00ff, &primary), -ENOENT);
	cr_assert_eq(store_node_get(f.s, 0x0101, &n), -ENOENT);
	cr_assert_eq(store_node_devkey_get(f.s, 0x0100, dk), 0);
	fx_seed(want, 7, 0x5a);
	cr_assert_arr_eq(dk, want, 16);
	cr_assert_eq(store_node_netkey_list(f.s, 0x0100, &idx, &cnt), 0);
	cr_assert_eq(cnt, 1);
	cr_assert_eq(idx[0], 0);
	free(idx);
}

/* Duplicate UUIDs, overlapping ranges, the provisioner's address and bad fields are refused. */
Test(store_nodes, add_conflicts)
{
	struct store_node n = {.unicast = 0x0200, .elements = 1};
	uint8_t dk[16] = {0};

	cr_assert_eq(fx_node(f.s, 0x0100, 4, 1), 0);
	cr_assert_eq(fx_node(f.s, 0x0200, 1, 1), -EEXIST, "same UUID");
	cr_assert_eq(fx_node(f.s, 0x0103, 1, 2), -EEXIST, "inside another node");
	cr_assert_eq(fx_node(f.s, 0x00ff, 2, 3), -EEXIST, "overlaps its start");
	cr_assert_eq(fx_node(f.s, 0x00fe, 3, 3), -EEXIST, "ends on its start");
	cr_assert_eq(fx_node(f.s, 0x0001, 1, 4), -EEXIST, "the provisioner");
	cr_assert_eq(fx_node(f.s, 0x7fff, 2, 5), -EINVAL, "past the unicast space");
	cr_assert_eq(fx_node(f.s, 0x0000, 1, 6), -EINVAL);
	cr_assert_eq(fx_node(f.s, 0x0104, 1, 7), 0, "right after is free");
	memset(n.name, 'x', sizeof(n.name));
	cr_assert_eq(store_node_add(f.s, &n, dk, 0), -EINVAL, "unterminated name");
	n.name[0] = 0;
	n.cfg_state = (enum store_cfg_state)9;
	cr_assert_eq(store_node_add(f.s, &n, dk, 0), -EINVAL);
	n.cfg_state = STORE_CFG_PROVISIONED;
	cr_assert_eq(store_node_add(f.s, &n, dk, 5), -ENOENT, "unknown NetKey");
	cr_assert_eq(store_node_get(f.s, 0x0200, &n), -ENOENT, "nothing left behind");
}

/* The one-field verbs change their field and the update time. */
Test(store_nodes, field_verbs)
{
	struct store_node n;
	enum store_cfg_state st;
	char long_name[STORE_NAME_MAX + 1];

	cr_assert_eq(fx_node(f.s, 0x0100, 1, 1), 0);
	f.now += 1000;
	cr_assert_eq(store_node_name_set(f.s, 0x0100, "Kitchen light"), 0);
	cr_assert_eq(store_node_cfg_state_set(f.s, 0x0100, STORE_CFG_CONFIGURED), 0);
	cr_assert_eq(store_node_info_set(f.s, 0x0100, 0x000c, 0x001a, 0x0001, 0x0008, 0x0003), 0);
	cr_assert_eq(store_node_get(f.s, 0x0100, &n), 0);
	cr_assert_str_eq(n.name, "Kitchen light");
	cr_assert_eq(n.cfg_state, STORE_CFG_CONFIGURED);
	cr_assert_eq(n.cid, 0x000c);
	cr_assert_eq(n.pid, 0x001a);
	cr_assert_eq(n.vid, 0x0001);
	cr_assert_eq(n.crpl, 0x0008);
	cr_assert_eq(n.features, 0x0003);
	cr_assert_eq(n.updated_ms, n.created_ms + 1000);
	memset(long_name, 'a', STORE_NAME_MAX);
	long_name[STORE_NAME_MAX] = 0;
	cr_assert_eq(store_node_name_set(f.s, 0x0100, long_name), -EINVAL);
	cr_assert_eq(store_node_name_set(f.s, 0x0500, "x"), -ENOENT);
	cr_assert_eq(store_node_cfg_state_set(f.s, 0x0100, (enum store_cfg_state)4), -EINVAL);
	cr_assert_str_eq(store_cfg_state_name(STORE_CFG_FAILED), "failed");
	cr_assert_eq(store_cfg_state_parse("configuring", &st), 0);
	cr_assert_eq(st, STORE_CFG_CONFIGURING);
	cr_assert_eq(store_cfg_state_parse("bogus", &st), -EINVAL);
}

/* Device Key Refresh: a candidate is kept apart until committed. */
Test(store_nodes, devkey_candidate)
{
	const uint8_t cand[16] = {0x9d, 0x6d, 0xd0, 0xe9, 0x6e, 0xb2, 0x5d, 0xc1,
				  0x9a, 0x40, 0xed, 0x99, 0x14, 0xf8, 0xf0, 0x3f};
	uint8_t k[16], old[16];
	struct store_node n;

	cr_assert_eq(fx_node(f.s, 0x0100, 1, 1), 0);
	cr_assert_eq(store_node_devkey_get(f.s, 0x0100, old), 0);
	cr_assert_eq(store_node_devkey_cand_get(f.s, 0x0100, k), -ENOENT);
	cr_assert_eq(store_node_devkey_commit(f.s, 0x0100), -ENOENT);
	cr_assert_eq(store_node_devkey_cand_set(f.s, 0x0100, cand), 0);
	cr_assert_eq(store_node_get(f.s, 0x0100, &n), 0);
	cr_assert(n.has_cand_key);
	cr_assert_eq(store_node_devkey_cand_get(f.s, 0x0100, k), 0);
	cr_assert_arr_eq(k, cand, 16);
	cr_assert_eq(store_node_devkey_get(f.s, 0x0100, k), 0);
	cr_assert_arr_eq(k, old, 16);
	cr_assert_eq(store_node_devkey_commit(f.s, 0x0100), 0);
	cr_assert_eq(store_node_devkey_get(f.s, 0x0100, k), 0);
	cr_assert_arr_eq(k, cand, 16);
	cr_assert_eq(store_node_devkey_cand_get(f.s, 0x0100, k), -ENOENT);
}

/* Node NetKey and AppKey lists; deleting a NetKey drops the node's AppKeys bound to it. */
Test(store_nodes, key_lists)
{
	const uint8_t key[16] = {1, 2, 3};
	uint16_t *idx;
	size_t n;

	cr_assert_eq(store_netkey_add(f.s, 1, key), 0);
	cr_assert_eq(store_appkey_add(f.s, 0, 0, key), 0);
	cr_assert_eq(store_appkey_add(f.s, 1, 1, key), 0);
	cr_assert_eq(fx_node(f.s, 0x0100, 1, 1), 0);
	cr_assert_eq(store_node_netkey_add(f.s, 0x0100, 1), 0);
	cr_assert_eq(store_node_netkey_add(f.s, 0x0100, 1), -EEXIST);
	cr_assert_eq(store_node_netkey_add(f.s, 0x0100, 7), -ENOENT);
	cr_assert_eq(store_node_appkey_add(f.s, 0x0100, 1), 0);
	cr_assert_eq(store_node_appkey_add(f.s, 0x0100, 0), 0);
	cr_assert_eq(store_node_appkey_list(f.s, 0x0100, &idx, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(idx[0], 0);
	cr_assert_eq(idx[1], 1);
	free(idx);
	cr_assert_eq(store_node_netkey_del(f.s, 0x0100, 1), 0);
	cr_assert_eq(store_node_netkey_del(f.s, 0x0100, 1), -ENOENT);
	cr_assert_eq(store_node_appkey_list(f.s, 0x0100, &idx, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(idx[0], 0);
	free(idx);
	cr_assert_eq(store_node_appkey_del(f.s, 0x0100, 0), 0);
	cr_assert_eq(store_node_appkey_del(f.s, 0x0100, 0), -ENOENT);
	cr_assert_eq(store_node_netkey_list(f.s, 0x0200, &idx, &n), -ENOENT);
}

/* True when [addr, addr+count) is on the exclusion list at iv. */
static bool excluded(uint16_t addr, uint8_t count, uint32_t iv)
{
	struct store_addr_exclusion *e;
	size_t n;
	bool found = false;

	cr_assert_eq(store_addr_exclusions(f.s, &e, &n), 0);
	for (size_t i = 0; i < n; i++) {
		found |= e[i].addr == addr && e[i].count == count && e[i].iv_index == iv;
	}
	free(e);
	return found;
}

/* Removal marks the node excluded, drops its configuration, and excludes its addresses. */
Test(store_nodes, remove)
{
	struct store_node n;
	struct store_model m = {0, false, 0x1000};
	struct store_element el[2] = {{0, 0x0100}, {1, 0x0101}};
	uint8_t page[] = {0x0c, 0x00};
	uint8_t buf[8];
	size_t len;

	cr_assert_eq(store_net_iv_set(f.s, 3, false, false), 0);
	cr_assert_eq(fx_node(f.s, 0x0100, 2, 1), 0);
	cr_assert_eq(store_comp_page_put(f.s, 0x0100, 0, page, sizeof(page)), 0);
	cr_assert_eq(store_comp_set(f.s, 0x0100, el, 2, &m, 1), 0);
	cr_assert_eq(store_node_remove(f.s, 0x0100), 0);
	cr_assert_eq(store_node_remove(f.s, 0x0100), -ENOENT);
	cr_assert_eq(store_node_get(f.s, 0x0100, &n), 0, "kept for history");
	cr_assert(n.excluded);
	cr_assert(excluded(0x0100, 2, 3));
	cr_assert_eq(store_comp_page_get(f.s, 0x0100, 0, buf, sizeof(buf), &len), 0);
	cr_assert_eq(len, sizeof(page));
	cr_assert_eq(store_sub_add(f.s, 0x0100, false, 0x1000, 0xc000), -ENOENT);
	cr_assert_eq(store_node_name_set(f.s, 0x0100, "x"), -ENOENT);
	/* The same device may be provisioned again, at another address. */
	cr_assert_eq(fx_node(f.s, 0x0100, 1, 1), -EEXIST, "address excluded");
	cr_assert_eq(fx_node(f.s, 0x0200, 1, 1), 0);
}

/* Node Address Refresh moves the node and its elements and excludes the old range. */
Test(store_nodes, address_change)
{
	struct store_element el[2] = {{0, 0x0100}, {1, 0x0101}};
	struct store_model m[2] = {{0, false, 0x1000}, {1, true, 0x003f002a}};
	const uint8_t key[16] = {9};
	struct store_binding *b;
	struct store_node n;
	uint16_t *subs;
	uint16_t primary;
	size_t cnt;

	cr_assert_eq(store_appkey_add(f.s, 0, 0, key), 0);
	cr_assert_eq(fx_node(f.s, 0x0100, 2, 1), 0);
	cr_assert_eq(fx_node(f.s, 0x0300, 1, 2), 0);
	cr_assert_eq(store_comp_set(f.s, 0x0100, el, 2, m, 2), 0);
	cr_assert_eq(store_model_bind(f.s, 0x0101, true, 0x003f002a, 0), 0);
	cr_assert_eq(store_sub_add(f.s, 0x0100, false, 0x1000, 0xc001), 0);

	cr_assert_eq(store_node_address_change(f.s, 0x0100, 0x0101, 2), -EINVAL, "overlap");
	cr_assert_eq(store_node_address_change(f.s, 0x0100, 0x02ff, 2), -EEXIST);
	cr_assert_eq(store_node_address_change(f.s, 0x0500, 0x0600, 2), -ENOENT);
	cr_assert_eq(store_node_address_change(f.s, 0x0100, 0x0200, 2), 0);

	cr_assert_eq(store_node_get(f.s, 0x0200, &n), 0);
	cr_assert_eq(n.elements, 2);
	cr_assert_eq(store_node_lookup(f.s, 0x0201, &primary), 0);
	cr_assert_eq(primary, 0x0200);
	cr_assert_eq(store_node_lookup(f.s, 0x0101, &primary), -ENOENT);
	cr_assert_eq(store_node_bindings(f.s, 0x0200, &b, &cnt), 0);
	cr_assert_eq(cnt, 1);
	cr_assert_eq(b[0].elem_addr, 0x0201);
	free(b);
	cr_assert_eq(store_sub_list(f.s, 0x0200, false, 0x1000, &subs, &cnt), 0);
	cr_assert_eq(cnt, 1);
	cr_assert_eq(subs[0], 0xc001);
	free(subs);
	cr_assert(excluded(0x0100, 2, 0));
}

/* An Address Refresh may change the element count: growing claims the new range whole (a
 * neighbour in the way refuses it); shrinking drops the elements past the new count with their
 * models and bindings; every old range, at its old size, goes on the exclusion list. */
Test(store_nodes, address_change_element_count)
{
	struct store_element el[2] = {{0, 0x0100}, {1, 0x0101}};
	struct store_model m[2] = {{0, false, 0x1000}, {1, false, 0x1000}};
	const uint8_t key[16] = {9};
	struct store_element *els;
	struct store_model *models;
	struct store_binding *b;
	struct store_node n;
	uint16_t primary;
	size_t cnt;

	cr_assert_eq(store_appkey_add(f.s, 0, 0, key), 0);
	cr_assert_eq(fx_node(f.s, 0x0100, 2, 1), 0);
	cr_assert_eq(fx_node(f.s, 0x0403, 1, 2), 0);
	cr_assert_eq(store_comp_set(f.s, 0x0100, el, 2, m, 2), 0);
	cr_assert_eq(store_model_bind(f.s, 0x0100, false, 0x1000, 0), 0);
	cr_assert_eq(store_model_bind(f.s, 0x0101, false, 0x1000, 0), 0);

	cr_assert_eq(store_node_address_change(f.s, 0x0100, 0x0400, 0), -EINVAL, "no elements");
	cr_assert_eq(store_node_address_change(f.s, 0x0100, 0x0400, 4), -EEXIST, "0x0403 taken");
	cr_assert_eq(store_node_address_change(f.s, 0x0100, 0x00fe, 3), -EINVAL, "overlaps old");
	cr_assert_eq(store_node_address_change(f.s, 0x0100, 0x0400, 3), 0);
	cr_assert_eq(store_node_get(f.s, 0x0400, &n), 0);
	cr_assert_eq(n.elements, 3);
	cr_assert_eq(store_node_lookup(f.s, 0x0402, &primary), 0);
	cr_assert_eq(primary, 0x0400);
	cr_assert(excluded(0x0100, 2, 0));
	/* Stored elements stay until the new page 0 is stored: a 3-element one now fits. */
	cr_assert_eq(store_comp_elements(f.s, 0x0400, &els, &cnt), 0);
	cr_assert_eq(cnt, 2);
	free(els);
	cr_assert_eq(store_comp_set(f.s, 0x0400, el, 2, m, 2), -EINVAL, "count must match");

	cr_assert_eq(store_node_address_change(f.s, 0x0400, 0x0500, 1), 0);
	cr_assert_eq(store_node_get(f.s, 0x0500, &n), 0);
	cr_assert_eq(n.elements, 1);
	cr_assert_eq(store_node_lookup(f.s, 0x0501, &primary), -ENOENT);
	cr_assert_eq(store_comp_elements(f.s, 0x0500, &els, &cnt), 0);
	cr_assert_eq(cnt, 1);
	cr_assert_eq(els[0].idx, 0);
	free(els);
	cr_assert_eq(store_comp_models(f.s, 0x0500, &models, &cnt), 0);
	cr_assert_eq(cnt, 1);
	free(models);
	cr_assert_eq(store_node_bindings(f.s, 0x0500, &b, &cnt), 0);
	cr_assert_eq(cnt, 1);
	cr_assert_eq(b[0].elem_addr, 0x0500);
	free(b);
	cr_assert(excluded(0x0400, 3, 0));
}

/* A failure half-way through an address change (injected) rolls everything back. */
Test(store_nodes, address_change_rolls_back)
{
	struct store_element el[2] = {{0, 0x0100}, {1, 0x0101}};
	struct store_model m = {1, false, 0x1000};
	struct store_audit *log;
	struct store_node n;
	struct store_binding *b;
	const uint8_t key[16] = {9};
	uint16_t primary;
	size_t cnt, before;

	cr_assert_eq(store_appkey_add(f.s, 0, 0, key), 0);
	cr_assert_eq(fx_node(f.s, 0x0100, 2, 1), 0);
	cr_assert_eq(store_comp_set(f.s, 0x0100, el, 2, &m, 1), 0);
	cr_assert_eq(store_model_bind(f.s, 0x0101, false, 0x1000, 0), 0);
	cr_assert_eq(store_audit_list(f.s, 0, 0, &log, &before), 0);
	free(log);
	/* The last step (the exclusion list) fails, after the node and elements moved. */
	fx_sql(&f, "CREATE TRIGGER boom BEFORE INSERT ON addr_exclusions"
		   " BEGIN SELECT RAISE(ABORT, 'injected'); END");
	cr_assert_eq(store_node_address_change(f.s, 0x0100, 0x0200, 2), -EIO);
	cr_assert_not_null(strstr(store_errmsg(f.s), "injected"));

	cr_assert_eq(store_node_get(f.s, 0x0100, &n), 0);
	cr_assert_not(n.excluded);
	cr_assert_eq(store_node_get(f.s, 0x0200, &n), -ENOENT);
	cr_assert_eq(store_node_lookup(f.s, 0x0101, &primary), 0);
	cr_assert_eq(store_node_bindings(f.s, 0x0100, &b, &cnt), 0);
	cr_assert_eq(cnt, 1);
	cr_assert_eq(b[0].elem_addr, 0x0101);
	free(b);
	cr_assert_eq(store_audit_list(f.s, 0, 0, &log, &cnt), 0);
	free(log);
	cr_assert_eq(cnt, before, "no audit entry for the failed change");

	/* Inside a caller's transaction only the failed verb is undone. */
	cr_assert_eq(store_begin(f.s), 0);
	cr_assert_eq(store_node_name_set(f.s, 0x0100, "kept"), 0);
	cr_assert_eq(store_node_address_change(f.s, 0x0100, 0x0200, 2), -EIO);
	cr_assert_eq(store_commit(f.s), 0);
	cr_assert_eq(store_node_get(f.s, 0x0100, &n), 0);
	cr_assert_str_eq(n.name, "kept");
}

#define BIG 10000

/* The test's own model of which nodes a filter selects. */
struct big_node {
	uint16_t addr;
	unsigned state;
	bool excluded;
	char name[16];
};
static struct big_node model[BIG];

static bool matches(const struct big_node *b, const struct store_node_filter *flt)
{
	if (flt->excluded != 2 && b->excluded != (flt->excluded == 1)) {
		return false;
	}
	if (flt->name_sub && !strstr(b->name, flt->name_sub)) {
		return false;
	}
	if (flt->state_mask && !(flt->state_mask & (1u << b->state))) {
		return false;
	}
	if ((flt->addr_lo || flt->addr_hi) && (b->addr < flt->addr_lo || b->addr > flt->addr_hi)) {
		return false;
	}
	return true;
}

/* Page through store_node_list() with a cursor and check it against the model. */
static void check_filter(struct store_node_filter flt, size_t page)
{
	size_t want = 0, got = 0, count, n;
	size_t next = 0;
	struct store_node *nodes;

	for (size_t i = 0; i < BIG; i++) {
		want += matches(&model[i], &flt);
	}
	cr_assert_eq(store_node_count(f.s, &flt, &count), 0);
	cr_assert_eq(count, want);
	flt.limit = page;
	flt.after = 0;
	do {
		cr_assert_eq(store_node_list(f.s, &flt, &nodes, &n), 0);
		cr_assert_leq(n, page);
		for (size_t i = 0; i < n; i++) {
			while (next < BIG && !matches(&model[next], &flt)) {
				next++;
			}
			cr_assert_lt(next, BIG);
			cr_assert_eq(nodes[i].unicast, model[next].addr, "ordered by unicast");
			cr_assert_str_eq(nodes[i].name, model[next].name);
			next++;
			got++;
		}
		if (n) {
			flt.after = nodes[n - 1].unicast;
		}
		store_nodes_free(nodes);
	} while (n == page);
	cr_assert_eq(got, want);
}

/*
 * 10,000 nodes (every 7th removed, four configuration states): each filter,
 * paged with a cursor, returns exactly the nodes the test's model selects,
 * in unicast order; offset paging agrees with cursor paging.
 */
Test(store_nodes, list_10000_nodes, .timeout = 600)
{
	struct store_node_filter flt = {0};
	struct store_node *a, *b;
	size_t na, nb;

	cr_assert_eq(store_begin(f.s), 0);
	for (uint32_t i = 0; i < BIG; i++) {
		struct big_node *m = &model[i];

		m->addr = (uint16_t)(0x0002 + i * 3);
		m->state = i % 4;
		snprintf(m->name, sizeof(m->name), "node-%05u", (unsigned)i);
		cr_assert_eq(fx_node(f.s, m->addr, 2, i), 0);
		if (m->state) {
			cr_assert_eq(
			    store_node_cfg_state_set(f.s, m->addr, (enum store_cfg_state)m->state),
			    0);
		}
		if (i % 7 == 0) {
			cr_assert_eq(store_node_remove(f.s, m->addr), 0);
			m->excluded = true;
		}
	}
	cr_assert_eq(store_commit(f.s), 0);

	check_filter(flt, 100);
	flt.excluded = 1;
	check_filter(flt, 250);
	flt.excluded = 2;
	check_filter(flt, 1000);
	flt = (struct store_node_filter){.name_sub = "-012"};
	check_filter(flt, 7);
	flt = (struct store_node_filter){.state_mask =
					     1u << STORE_CFG_CONFIGURED | 1u << STORE_CFG_FAILED};
	check_filter(flt, 500);
	flt = (struct store_node_filter){.addr_lo = 0x1000, .addr_hi = 0x2000, .excluded = 2};
	check_filter(flt, 64);
	flt = (struct store_node_filter){.addr_lo = 0x1000,
					 .addr_hi = 0x1fff,
					 .name_sub = "9",
					 .state_mask = 1u << STORE_CFG_PROVISIONED};
	check_filter(flt, 3);

	/* Offset paging: page 3 of 50 equals the cursor after page 2. */
	flt = (struct store_node_filter){.limit = 50, .offset = 100};
	cr_assert_eq(store_node_list(f.s, &flt, &a, &na), 0);
	flt = (struct store_node_filter){.limit = 100};
	cr_assert_eq(store_node_list(f.s, &flt, &b, &nb), 0);
	flt = (struct store_node_filter){.limit = 50, .after = b[99].unicast};
	store_nodes_free(b);
	cr_assert_eq(store_node_list(f.s, &flt, &b, &nb), 0);
	cr_assert_eq(na, 50);
	cr_assert_eq(nb, 50);
	for (size_t i = 0; i < 50; i++) {
		cr_assert_eq(a[i].unicast, b[i].unicast);
	}
	store_nodes_free(a);
	store_nodes_free(b);
	/*
	 * Any depth, any filter: the page at an offset is that slice of the whole
	 * list (offsets are turned into cursors from the kept selection).
	 */
	const struct store_node_filter deep[] = {
	    {.excluded = 0}, {.excluded = 1}, {.excluded = 2}, {.name_sub = "-01"}};
	for (size_t k = 0; k < sizeof(deep) / sizeof(deep[0]); k++) {
		cr_assert_eq(store_node_list(f.s, &deep[k], &a, &na), 0);
		const size_t offs[] = {1, 2, na / 2, na - 1, na, na + 3};

		for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
			flt = deep[k];
			flt.limit = 5;
			flt.offset = offs[o];
			cr_assert_eq(store_node_list(f.s, &flt, &b, &nb), 0);
			cr_assert_eq(nb,
				     offs[o] >= na      ? 0
				     : na - offs[o] < 5 ? na - offs[o]
							: 5,
				     "filter %zu offset %zu", k, offs[o]);
			for (size_t i = 0; i < nb; i++) {
				cr_assert_eq(b[i].unicast, a[offs[o] + i].unicast);
				cr_assert_eq(b[i].excluded, a[offs[o] + i].excluded);
			}
			store_nodes_free(b);
		}
		store_nodes_free(a);
	}
	/* A cursor below an address range starts at the range; one past its end finds nothing. */
	flt = (struct store_node_filter){.addr_lo = 0x1000, .addr_hi = 0x2000, .limit = 1};
	cr_assert_eq(store_node_list(f.s, &flt, &a, &na), 0);
	flt.after = 0x0100;
	cr_assert_eq(store_node_list(f.s, &flt, &b, &nb), 0);
	cr_assert_eq(na, 1);
	cr_assert_eq(nb, 1);
	cr_assert_eq(a[0].unicast, b[0].unicast);
	cr_assert_geq(b[0].unicast, 0x1000);
	store_nodes_free(a);
	store_nodes_free(b);
	flt.after = 0x2000;
	cr_assert_eq(store_node_list(f.s, &flt, &b, &nb), 0);
	cr_assert_eq(nb, 0);
	store_nodes_free(b);
	flt = (struct store_node_filter){.excluded = 3};
	cr_assert_eq(store_node_list(f.s, &flt, &a, &na), -EINVAL);
}

/*
 * A node's device certificate (schema 5): kept with the node, read back
 * byte for byte, replaced, refused for a node that is not there or an empty
 * DER, and gone when the node is removed.
 */
Test(store_nodes, cert_kept_with_the_node)
{
	static struct store_node_cert c, got;

	cr_assert_eq(fx_node(f.s, 0x0200, 1, 9), 0);
	cr_assert_eq(store_node_cert_get(f.s, 0x0200, &got), -ENOENT);
	snprintf(c.subject, sizeof(c.subject), "CN=00112233445566778899aabbccddeeff");
	snprintf(c.issuer, sizeof(c.issuer), "CN=Maker Root");
	c.not_before = 1700000000;
	c.not_after = 2000000000;
	memset(c.sha256, 0xab, sizeof(c.sha256));
	for (size_t i = 0; i < 700; i++) {
		c.der[i] = (uint8_t)(i * 7);
	}
	c.der_len = 700;
	cr_assert_eq(store_node_cert_set(f.s, 0x0201, &c), -ENOENT);
	cr_assert_eq(store_node_cert_set(f.s, 0x0200, &c), 0);
	cr_assert_eq(store_node_cert_get(f.s, 0x0200, &got), 0);
	cr_assert_str_eq(got.subject, c.subject);
	cr_assert_str_eq(got.issuer, c.issuer);
	cr_assert_eq(got.not_before, 1700000000);
	cr_assert_eq(got.not_after, 2000000000);
	cr_assert_arr_eq(got.sha256, c.sha256, 32);
	cr_assert_eq(got.der_len, 700);
	cr_assert_arr_eq(got.der, c.der, 700);

	c.der_len = 3;
	c.der[0] = 0x30;
	cr_assert_eq(store_node_cert_set(f.s, 0x0200, &c), 0);
	cr_assert_eq(store_node_cert_get(f.s, 0x0200, &got), 0);
	cr_assert_eq(got.der_len, 3);
	c.der_len = 0;
	cr_assert_eq(store_node_cert_set(f.s, 0x0200, &c), -EINVAL);

	cr_assert_eq(store_node_remove(f.s, 0x0200), 0);
	cr_assert_eq(store_node_cert_get(f.s, 0x0200, &got), -ENOENT);
}

/*
 * A node's lookup by address (store_node_get(): its newest row, the active one first) is
 * answered from the nodes_lookup index in that order: SQLite's plan has no temporary B-tree
 * sort, which every GET of a node used to pay.
 */
Test(store_nodes, lookup_by_address_needs_no_sort)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	bool sorts = false, indexed = false;

	cr_assert_eq(fx_node(f.s, 0x0010, 1, 1), 0);
	cr_assert_eq(sqlite3_open(f.db, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db,
					"EXPLAIN QUERY PLAN SELECT id FROM nodes WHERE unicast = 16"
					" ORDER BY excluded, id DESC LIMIT 1",
					-1, &q, NULL),
		     SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(q, 3);

		sorts |= strstr(d, "TEMP B-TREE") != NULL;
		indexed |= strstr(d, "nodes_lookup") != NULL;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	cr_assert(indexed);
	cr_assert_not(sorts);
}
