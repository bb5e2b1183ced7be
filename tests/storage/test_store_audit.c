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

TestSuite(store_audit, .init = setup, .fini = teardown);

/* Find the newest entry with this verb; false when none. */
static bool last_entry(const char *what, struct store_audit *out)
{
	struct store_audit *log;
	size_t n;
	bool found = false;

	cr_assert_eq(store_audit_list(f.s, 0, 0, &log, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(log[i].what, what) == 0) {
			*out = log[i];
			found = true;
		}
	}
	free(log);
	return found;
}

/* Each change is logged with the actor, the verb, the object and the time. */
Test(store_audit, change_logged_with_actor)
{
	struct store_audit a;

	cr_assert(last_entry("network.create", &a));
	cr_assert_str_eq(a.who, "system");
	f.now += 5;
	store_set_actor(f.s, "token:alice(operator)");
	cr_assert_eq(fx_node(f.s, 0x0005, 1, 1), 0);
	cr_assert(last_entry("node.add", &a));
	cr_assert_str_eq(a.who, "token:alice(operator)");
	cr_assert_str_eq(a.target, "node 0x0005");
	cr_assert_eq(a.at_ms, f.now);
	store_set_actor(f.s, NULL);
	cr_assert_eq(store_node_remove(f.s, 0x0005), 0);
	cr_assert(last_entry("node.remove", &a));
	cr_assert_str_eq(a.who, "system");
}

/* A change that is rolled back leaves no audit entry; a committed one keeps it. */
Test(store_audit, same_transaction_as_change)
{
	struct store_audit a;

	cr_assert_eq(store_begin(f.s), 0);
	cr_assert_eq(fx_node(f.s, 0x0005, 1, 1), 0);
	cr_assert(last_entry("node.add", &a));
	cr_assert_eq(store_rollback(f.s), 0);
	cr_assert_not(last_entry("node.add", &a));
	cr_assert_eq(fx_node(f.s, 0x0005, 1, 1), -0);
	cr_assert(last_entry("node.add", &a));
}

/* Listing pages with after_id and limit, oldest first. */
Test(store_audit, paging)
{
	struct store_audit *all, *page;
	size_t n_all, n;

	for (uint16_t i = 0; i < 5; i++) {
		cr_assert_eq(fx_node(f.s, (uint16_t)(0x10 + i), 1, i), 0);
	}
	cr_assert_eq(store_audit_list(f.s, 0, 0, &all, &n_all), 0);
	cr_assert_geq(n_all, 7);
	cr_assert_eq(store_audit_list(f.s, all[1].id, 3, &page, &n), 0);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(page[i].id, all[2 + i].id);
		cr_assert_lt(all[i].id, all[i + 1].id);
	}
	free(page);
	free(all);
}
