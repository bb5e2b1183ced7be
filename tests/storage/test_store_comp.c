#include <errno.h>

#include "tests/storage/fixture.h"
#include "tests/util/tv.h"

static struct fx f;
static const uint8_t key[16] = {0x63, 0x96, 0x47, 0x71};

static void setup(void)
{
	fx_init(&f);
	cr_assert_eq(store_appkey_add(f.s, 0, 0, key), 0);
	cr_assert_eq(store_appkey_add(f.s, 1, 0, key), 0);
	cr_assert_eq(fx_node(f.s, 0x0100, 1, 1), 0);
}

static void teardown(void)
{
	fx_fini(&f);
}

TestSuite(store_comp, .init = setup, .fini = teardown);

/*
 * The models of the §8.10.1 sample page, read from the vector's decoded
 * form (not from our parser).  Returns the count.
 */
static size_t sample_models(struct store_model *m, size_t cap)
{
	json_t *v = tv_get("composition_data[id=comp_page0_8_10_1]");
	json_t *el = json_object_get(json_object_get(v, "decoded"), "Element0");
	json_t *x;
	size_t i, n = 0;

	cr_assert_not_null(el);
	json_array_foreach(json_object_get(el, "SIG_models"), i, x)
	{
		cr_assert_lt(n, cap);
		m[n++] =
		    (struct store_model){0, false, (uint32_t)strtoul(json_string_value(x), 0, 16)};
	}
	json_array_foreach(json_object_get(el, "Vendor_models"), i, x)
	{
		cr_assert_lt(n, cap);
		m[n++] = (struct store_model){
		    0, true, (uint32_t)(tv_hexnum(x, "CID", 0) << 16 | tv_hexnum(x, "MID", 0))};
	}
	return n;
}

/* §8.10.1 page 0 is stored as raw bytes and read back identically; pages are listed. */
Test(store_comp, s8_10_1_raw_page_round_trip)
{
	json_t *v = tv_get("composition_data[id=comp_page0_8_10_1]");
	uint8_t data[64], buf[64], *pages;
	size_t len, n;
	int dlen = tv_bytes(v, "data", data, sizeof(data));

	cr_assert_gt(dlen, 0);
	cr_assert_eq(store_comp_page_put(f.s, 0x0100, 0, data, (size_t)dlen), 0);
	cr_assert_eq(store_comp_page_put(f.s, 0x0100, 128, data, 4), 0);
	cr_assert_eq(store_comp_page_get(f.s, 0x0100, 0, buf, sizeof(buf), &len), 0);
	cr_assert_eq(len, (size_t)dlen);
	cr_assert_arr_eq(buf, data, len);
	cr_assert_eq(store_comp_page_get(f.s, 0x0100, 0, buf, 10, &len), -EMSGSIZE);
	cr_assert_eq(store_comp_page_get(f.s, 0x0100, 1, buf, sizeof(buf), &len), -ENOENT);
	cr_assert_eq(store_comp_page_list(f.s, 0x0100, &pages, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(pages[0], 0);
	cr_assert_eq(pages[1], 128);
	free(pages);
	/* A page read again replaces the stored copy. */
	cr_assert_eq(store_comp_page_put(f.s, 0x0100, 0, data, 3), 0);
	cr_assert_eq(store_comp_page_get(f.s, 0x0100, 0, buf, sizeof(buf), &len), 0);
	cr_assert_eq(len, 3);
	cr_assert_eq(store_comp_page_put(f.s, 0x0100, 0, data, 0), -EINVAL);
	cr_assert_eq(store_comp_page_put(f.s, 0x0200, 0, data, 3), -ENOENT);
}

/* The parsed elements and models of §8.10.1 are stored and listed in order. */
Test(store_comp, s8_10_1_elements_and_models)
{
	struct store_model m[16], *got;
	struct store_element el = {0, 0x0100}, *els;
	size_t n = sample_models(m, 16), cnt;

	cr_assert_eq(n, 6);
	cr_assert_eq(store_comp_set(f.s, 0x0100, &el, 1, m, n), 0);
	cr_assert_eq(store_comp_elements(f.s, 0x0100, &els, &cnt), 0);
	cr_assert_eq(cnt, 1);
	cr_assert_eq(els[0].loc, 0x0100);
	free(els);
	cr_assert_eq(store_comp_models(f.s, 0x0100, &got, &cnt), 0);
	cr_assert_eq(cnt, 6);
	/* SIG models by id, then the vendor model. */
	cr_assert_eq(got[0].id, 0x0000);
	cr_assert_eq(got[1].id, 0x0001);
	cr_assert_eq(got[2].id, 0x1000);
	cr_assert_eq(got[3].id, 0x1003);
	cr_assert_eq(got[4].id, 0x8000);
	cr_assert(got[5].vendor);
	cr_assert_eq(got[5].id, 0x003f002a);
	free(got);
}

/* Element counts and model ids are checked against the node. */
Test(store_comp, comp_set_rejects_inconsistent)
{
	struct store_element el[2] = {{0, 1}, {1, 2}};
	struct store_model bad_elem = {1, false, 0x1000}, bad_sig = {0, false, 0x10000};
	struct store_model twice[2] = {{0, false, 0x1000}, {0, false, 0x1000}};
	struct store_model *got;
	size_t cnt;

	cr_assert_eq(store_comp_set(f.s, 0x0100, el, 2, NULL, 0), -EINVAL);
	cr_assert_eq(store_comp_set(f.s, 0x0100, el, 1, &bad_elem, 1), -EINVAL);
	cr_assert_eq(store_comp_set(f.s, 0x0100, el, 1, &bad_sig, 1), -EINVAL);
	/* An element cannot hold two instances of one model. */
	cr_assert_eq(store_comp_set(f.s, 0x0100, el, 1, twice, 2), -EINVAL);
	cr_assert_eq(store_comp_models(f.s, 0x0100, &got, &cnt), 0);
	cr_assert_eq(cnt, 0, "nothing stored by a failed call");
	free(got);
	cr_assert_eq(store_comp_set(f.s, 0x0200, el, 1, NULL, 0), -ENOENT);
}

/* Re-reading composition keeps bindings of models that stay and drops those that vanish. */
Test(store_comp, bindings_survive_recomposition)
{
	struct store_element el = {0, 0};
	struct store_model m[2] = {{0, false, 0x1000}, {0, false, 0x1001}};
	struct store_binding *b;
	size_t n;

	cr_assert_eq(store_comp_set(f.s, 0x0100, &el, 1, m, 2), 0);
	cr_assert_eq(store_model_bind(f.s, 0x0100, false, 0x1000, 0), 0);
	cr_assert_eq(store_model_bind(f.s, 0x0100, false, 0x1000, 0), 0, "idempotent");
	cr_assert_eq(store_model_bind(f.s, 0x0100, false, 0x1001, 1), 0);
	cr_assert_eq(store_model_bind(f.s, 0x0100, false, 0x1002, 1), -ENOENT);
	cr_assert_eq(store_model_bind(f.s, 0x0100, false, 0x1000, 9), -ENOENT, "no AppKey 9");
	cr_assert_eq(store_comp_set(f.s, 0x0100, &el, 1, m, 1), 0);
	cr_assert_eq(store_node_bindings(f.s, 0x0100, &b, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(b[0].id, 0x1000);
	cr_assert_eq(b[0].app_idx, 0);
	free(b);
	cr_assert_eq(store_model_unbind(f.s, 0x0100, false, 0x1000, 0), 0);
	cr_assert_eq(store_model_unbind(f.s, 0x0100, false, 0x1000, 0), -ENOENT);
}

/* Deleting an AppKey, from the network or from the node, removes its bindings. */
Test(store_comp, appkey_delete_unbinds)
{
	struct store_element el = {0, 0};
	struct store_model m = {0, false, 0x1000};
	struct store_binding *b;
	size_t n;

	cr_assert_eq(store_comp_set(f.s, 0x0100, &el, 1, &m, 1), 0);
	cr_assert_eq(store_node_appkey_add(f.s, 0x0100, 0), 0);
	cr_assert_eq(store_node_appkey_add(f.s, 0x0100, 1), 0);
	cr_assert_eq(store_model_bind(f.s, 0x0100, false, 0x1000, 0), 0);
	cr_assert_eq(store_model_bind(f.s, 0x0100, false, 0x1000, 1), 0);
	cr_assert_eq(store_node_appkey_del(f.s, 0x0100, 1), 0);
	cr_assert_eq(store_node_bindings(f.s, 0x0100, &b, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(b[0].app_idx, 0);
	free(b);
	cr_assert_eq(store_appkey_delete(f.s, 0), 0);
	cr_assert_eq(store_node_bindings(f.s, 0x0100, &b, &n), 0);
	cr_assert_eq(n, 0);
	free(b);
}

/* Publication set/get/clear with every field, and TTL checked. */
Test(store_comp, publication)
{
	struct store_element el = {0, 0};
	struct store_model m = {0, true, 0x003f002a};
	struct store_pub p = {.addr = 0xc001,
			      .app_idx = 1,
			      .cred = true,
			      .ttl = 5,
			      .period = 0x41,
			      .retransmit = 0x2a},
			 got,
			 virt = {
			     .addr = 0x9234, .has_label = true, .label = {0xf4, 0xa0}, .ttl = 0xff};

	cr_assert_eq(store_comp_set(f.s, 0x0100, &el, 1, &m, 1), 0);
	cr_assert_eq(store_pub_get(f.s, 0x0100, true, 0x003f002a, &got), -ENOENT);
	cr_assert_eq(store_pub_set(f.s, 0x0100, true, 0x003f002a, &p), 0);
	cr_assert_eq(store_pub_get(f.s, 0x0100, true, 0x003f002a, &got), 0);
	cr_assert_eq(got.addr, 0xc001);
	cr_assert_eq(got.app_idx, 1);
	cr_assert(got.cred);
	cr_assert_eq(got.ttl, 5);
	cr_assert_eq(got.period, 0x41);
	cr_assert_eq(got.retransmit, 0x2a);
	cr_assert_not(got.has_label);
	cr_assert_eq(store_pub_set(f.s, 0x0100, true, 0x003f002a, &virt), 0);
	cr_assert_eq(store_pub_get(f.s, 0x0100, true, 0x003f002a, &got), 0);
	cr_assert(got.has_label);
	cr_assert_eq(got.label[0], 0xf4);
	cr_assert_eq(got.ttl, 0xff);
	p.ttl = 0x80;
	cr_assert_eq(store_pub_set(f.s, 0x0100, true, 0x003f002a, &p), -EINVAL);
	p = (struct store_pub){0};
	cr_assert_eq(store_pub_set(f.s, 0x0100, true, 0x003f002a, &p), 0);
	cr_assert_eq(store_pub_get(f.s, 0x0100, true, 0x003f002a, &got), -ENOENT);
	cr_assert_eq(store_pub_get(f.s, 0x0100, false, 0x002a, &got), -ENOENT, "SIG != vendor");
}

/* Subscription add/delete/list/clear; unicast addresses are not subscriptions. */
Test(store_comp, subscriptions)
{
	struct store_element el = {0, 0};
	struct store_model m = {0, false, 0x1000};
	uint16_t *subs;
	size_t n;

	cr_assert_eq(store_comp_set(f.s, 0x0100, &el, 1, &m, 1), 0);
	cr_assert_eq(store_sub_add(f.s, 0x0100, false, 0x1000, 0xc002), 0);
	cr_assert_eq(store_sub_add(f.s, 0x0100, false, 0x1000, 0xc001), 0);
	cr_assert_eq(store_sub_add(f.s, 0x0100, false, 0x1000, 0xc001), 0);
	cr_assert_eq(store_sub_add(f.s, 0x0100, false, 0x1000, 0x0005), -EINVAL);
	cr_assert_eq(store_sub_list(f.s, 0x0100, false, 0x1000, &subs, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(subs[0], 0xc001);
	cr_assert_eq(subs[1], 0xc002);
	free(subs);
	cr_assert_eq(store_sub_del(f.s, 0x0100, false, 0x1000, 0xc001), 0);
	cr_assert_eq(store_sub_del(f.s, 0x0100, false, 0x1000, 0xc001), -ENOENT);
	cr_assert_eq(store_sub_clear(f.s, 0x0100, false, 0x1000), 0);
	cr_assert_eq(store_sub_list(f.s, 0x0100, false, 0x1000, &subs, &n), 0);
	cr_assert_eq(n, 0);
	free(subs);
}
