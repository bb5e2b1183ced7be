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

TestSuite(store_scan, .init = setup, .fini = teardown);

/* A second sighting updates RSSI and last_ms but keeps first_ms; URI hash is optional. */
Test(store_scan, put_updates_sighting)
{
	struct store_scan r = {.uuid = {0x70, 0xcf}, .oob = 0x4020, .rssi = -60, .last_ms = 1000};
	struct store_scan *list;
	size_t n;

	cr_assert_eq(store_scan_put(f.s, &r), 0);
	r.rssi = -42;
	r.last_ms = 2500;
	r.has_uri_hash = true;
	memcpy(r.uri_hash, "\xd9\x7f\x8a\x23", 4);
	cr_assert_eq(store_scan_put(f.s, &r), 0);
	cr_assert_eq(store_scan_list(f.s, 0, &list, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(list[0].first_ms, 1000);
	cr_assert_eq(list[0].last_ms, 2500);
	cr_assert_eq(list[0].rssi, -42);
	cr_assert_eq(list[0].oob, 0x4020);
	cr_assert(list[0].has_uri_hash);
	cr_assert_arr_eq(list[0].uri_hash, "\xd9\x7f\x8a\x23", 4);
	cr_assert_eq(list[0].via, 0);
	free(list);
	cr_assert_eq(store_scan_put(f.s, NULL), -EINVAL);
}

/* The same device seen by a remote server is a separate row; lists are newest first. */
Test(store_scan, via_and_since)
{
	struct store_scan a = {.uuid = {1}, .rssi = -70, .last_ms = 100};
	struct store_scan b = {.uuid = {1}, .rssi = -30, .last_ms = 300, .via = 0x0042};
	struct store_scan c = {.uuid = {2}, .rssi = -50, .last_ms = 200};
	struct store_scan *list;
	size_t n;

	cr_assert_eq(store_scan_put(f.s, &a), 0);
	cr_assert_eq(store_scan_put(f.s, &b), 0);
	cr_assert_eq(store_scan_put(f.s, &c), 0);
	cr_assert_eq(store_scan_list(f.s, 150, &list, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(list[0].via, 0x0042);
	cr_assert_eq(list[1].uuid[0], 2);
	free(list);
	cr_assert_eq(store_scan_clear(f.s), 0);
	cr_assert_eq(store_scan_list(f.s, 0, &list, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(list);
}
