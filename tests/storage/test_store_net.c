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

TestSuite(store_net, .init = setup, .fini = teardown);

/* The network row reads back as created, and a second create is -EEXIST. */
Test(store_net, create_get)
{
	struct store_network n, again = {.unicast = 1,
					 .elements = 1,
					 .uni_low = 1,
					 .uni_high = 2,
					 .grp_low = 0xc000,
					 .grp_high = 0xc000};

	cr_assert_eq(store_net_get(f.s, &n), 0);
	cr_assert_eq(n.uuid[0], 0x70);
	cr_assert_eq(n.uuid[15], 0xf4);
	cr_assert_eq(n.unicast, 1);
	cr_assert_eq(n.uni_high, 0x7fff);
	cr_assert_eq(n.grp_low, 0xc000);
	cr_assert_eq(n.seq_limit, 0);
	cr_assert_eq(n.created_ms, f.now);
	cr_assert_eq(store_net_create(f.s, &again), -EEXIST);
}

/* Ranges outside the unicast/group spaces, or not containing the provisioner, are -EINVAL. */
Test(store_net, bad_ranges)
{
	cr_assert_eq(store_net_ranges_set(f.s, 0, 10, 0xc000, 0xc010), -EINVAL);
	cr_assert_eq(store_net_ranges_set(f.s, 1, 0x8000, 0xc000, 0xc010), -EINVAL);
	cr_assert_eq(store_net_ranges_set(f.s, 1, 10, 0xbfff, 0xc010), -EINVAL);
	cr_assert_eq(store_net_ranges_set(f.s, 1, 10, 0xc000, 0xff00), -EINVAL);
	cr_assert_eq(store_net_ranges_set(f.s, 2, 10, 0xc000, 0xc010), -EINVAL);
	cr_assert_eq(store_net_ranges_set(f.s, 1, 10, 0xc000, 0xc010), 0);
}

/* Without a network row the verbs that need it say -ENOENT. */
Test(store_net, no_network)
{
	struct store_network n;
	struct fx g;
	uint32_t lim;

	fx_init_bare(&g);
	cr_assert_eq(store_net_get(g.s, &n), -ENOENT);
	cr_assert_eq(store_net_iv_set(g.s, 1, false, false), -ENOENT);
	cr_assert_eq(store_seq_reserve(g.s, 0, 100, &lim), -ENOENT);
	fx_fini(&g);
}

/* Leaving IV Update resets the persisted sequence limit together with the IV Index. */
Test(store_net, iv_set_with_seq_reset)
{
	struct store_network n;
	uint32_t lim;

	cr_assert_eq(store_seq_reserve(f.s, 5000, 1000, &lim), 0);
	cr_assert_eq(store_net_iv_set(f.s, 1, true, false), 0);
	cr_assert_eq(store_net_get(f.s, &n), 0);
	cr_assert_eq(n.iv_index, 1);
	cr_assert(n.iv_update);
	cr_assert_eq(n.seq_limit, 6000);
	cr_assert_eq(store_net_iv_set(f.s, 1, false, true), 0);
	cr_assert_eq(store_net_get(f.s, &n), 0);
	cr_assert_not(n.iv_update);
	cr_assert_eq(n.seq_limit, 0);
}

/* The limit is max(current, stored) + block, never moves back, and stops at 2^24. */
Test(store_net, seq_reserve_rules)
{
	uint32_t lim = 0;

	cr_assert_eq(store_seq_reserve(f.s, 0, 1000, &lim), 0);
	cr_assert_eq(lim, 1000);
	cr_assert_eq(store_seq_reserve(f.s, 990, 1000, &lim), 0);
	cr_assert_eq(lim, 2000, "from the stored limit, not from current");
	cr_assert_eq(store_seq_reserve(f.s, 5000, 1000, &lim), 0);
	cr_assert_eq(lim, 6000, "from current when it is ahead");
	cr_assert_eq(store_seq_reserve(f.s, 0xfffff0, 1000, &lim), 0);
	cr_assert_eq(lim, 0x1000000);
	lim = 7;
	cr_assert_eq(store_seq_reserve(f.s, 0x1000000, 1000, &lim), -ERANGE);
	cr_assert_eq(store_seq_reserve(f.s, 1, 0, &lim), -EINVAL);
	cr_assert_eq(lim, 7, "untouched on failure");
}

/*
 * A process that reserves a block and dies without closing the store
 * leaves the limit persisted: the restart begins past every number the
 * dead process could have used.
 */
static int reserve_twice(struct store *s)
{
	uint32_t lim;

	return store_seq_reserve(s, 0, 4096, &lim) || lim != 4096 ||
	       store_seq_reserve(s, 4000, 4096, &lim) || lim != 8192;
}

Test(store_net, seq_reserve_survives_crash)
{
	struct store_network n;

	fx_crashed_child(&f, reserve_twice);
	fx_open(&f);
	cr_assert_eq(store_net_get(f.s, &n), 0);
	cr_assert_eq(n.seq_limit, 8192);
}
