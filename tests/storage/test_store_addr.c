#include <errno.h>

#include "storage/store_job.h"
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

TestSuite(store_addr, .init = setup, .fini = teardown);

/* Allocation returns the lowest gap that fits, skipping the provisioner and nodes. */
Test(store_addr, lowest_free_range)
{
	uint16_t a = 0;

	cr_assert_eq(store_addr_alloc(f.s, 1, &a), 0);
	cr_assert_eq(a, 0x0002, "0x0001 is the provisioner");
	cr_assert_eq(fx_node(f.s, 0x0002, 2, 1), 0);
	cr_assert_eq(fx_node(f.s, 0x0006, 1, 2), 0);
	cr_assert_eq(store_addr_alloc(f.s, 2, &a), 0);
	cr_assert_eq(a, 0x0004);
	cr_assert_eq(store_addr_alloc(f.s, 3, &a), 0);
	cr_assert_eq(a, 0x0007, "the gap at 0x0004 holds only 2");
	cr_assert_eq(store_addr_alloc(f.s, 0, &a), -EINVAL);
}

/* -ENOSPC when the provisioner's range has no gap large enough. */
Test(store_addr, range_exhausted)
{
	uint16_t a = 0x1234;

	cr_assert_eq(store_net_ranges_set(f.s, 0x0001, 0x0008, 0xc000, 0xc0ff), 0);
	cr_assert_eq(fx_node(f.s, 0x0002, 4, 1), 0);
	cr_assert_eq(store_addr_alloc(f.s, 3, &a), 0);
	cr_assert_eq(a, 0x0006);
	cr_assert_eq(store_addr_alloc(f.s, 4, &a), -ENOSPC);
	cr_assert_eq(a, 0x0006, "untouched on failure");
	cr_assert_eq(fx_node(f.s, 0x0006, 3, 2), 0);
	cr_assert_eq(store_addr_alloc(f.s, 1, &a), -ENOSPC);
}

/* Reservations are skipped by allocation, consumed by node_add, and can be released. */
Test(store_addr, reserve_consume_release)
{
	uint16_t a = 0, b = 0, c = 0;

	cr_assert_eq(store_addr_reserve(f.s, 2, &a), 0);
	cr_assert_eq(a, 0x0002);
	cr_assert_eq(store_addr_reserve(f.s, 1, &b), 0);
	cr_assert_eq(b, 0x0004);
	cr_assert_eq(fx_node(f.s, 0x0003, 1, 1), -EEXIST, "inside someone's reservation");
	cr_assert_eq(fx_node(f.s, a, 2, 1), 0, "the session's own reservation");
	cr_assert_eq(store_addr_release(f.s, a), -ENOENT, "consumed");
	cr_assert_eq(store_addr_release(f.s, b), 0, "provisioning failed");
	cr_assert_eq(store_addr_alloc(f.s, 1, &c), 0);
	cr_assert_eq(c, 0x0004);
}

/* After a crash, left-over reservations go to the exclusion list, not back to the pool. */
Test(store_addr, reservations_recover)
{
	struct store_addr_exclusion *e;
	uint16_t a = 0;
	size_t n = 9;

	cr_assert_eq(store_net_iv_set(f.s, 4, false, false), 0);
	cr_assert_eq(store_addr_reserve(f.s, 3, &a), 0);
	fx_close(&f);
	fx_open(&f);
	cr_assert_eq(store_addr_reservations_recover(f.s, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_addr_exclusions(f.s, &e, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(e[0].addr, a);
	cr_assert_eq(e[0].count, 3);
	cr_assert_eq(e[0].iv_index, 4);
	free(e);
	cr_assert_eq(store_addr_alloc(f.s, 1, &a), 0);
	cr_assert_eq(a, 0x0005);
	cr_assert_eq(store_addr_reservations_recover(f.s, &n), 0);
	cr_assert_eq(n, 0);
}

/*
 * A reservation that an unfinished job target holds (its addr) survives the
 * restart: the job resumes and resolves it.  Held by a finished target, it
 * is excluded like any left-over.
 */
Test(store_addr, reservations_recover_spares_those_of_unfinished_jobs)
{
	struct store_job_target_new tn = {.has_uuid = true, .name = "d"};
	struct store_job_target t;
	uint16_t held = 0, loose = 0;
	uint64_t job;
	size_t n = 9;

	cr_assert_eq(store_job_create(f.s, "provision", NULL, "it", &tn, 1, &job), 0);
	cr_assert_eq(store_addr_reserve(f.s, 2, &held), 0);
	cr_assert_eq(store_addr_reserve(f.s, 1, &loose), 0);
	cr_assert_eq(store_job_target_get(f.s, job, 0, &t), 0);
	free(t.params);
	free(t.result);
	t.params = t.result = NULL;
	t.state = STORE_TGT_ACTIVE;
	t.addr = held;
	t.step = 1;
	cr_assert_eq(store_job_target_update(f.s, &t), 0);
	fx_close(&f);
	fx_open(&f);
	cr_assert_eq(store_addr_reservations_recover(f.s, &n), 0);
	cr_assert_eq(n, 1, "only the reservation no target holds is excluded");
	cr_assert_eq(store_addr_release(f.s, loose), -ENOENT);
	t.state = STORE_TGT_FAILED;
	cr_assert_eq(store_job_target_update(f.s, &t), 0);
	cr_assert_eq(store_addr_reservations_recover(f.s, &n), 0);
	cr_assert_eq(n, 1, "a finished target holds nothing");
	cr_assert_eq(store_addr_release(f.s, held), -ENOENT);
}

/*
 * A removed node's addresses are not handed out again at the same IV Index
 * nor after one change; from two changes on they are free again.
 */
Test(store_addr, exclusion_purge_rule)
{
	uint16_t a = 0;
	size_t n = 9;

	cr_assert_eq(store_net_iv_set(f.s, 10, false, false), 0);
	cr_assert_eq(fx_node(f.s, 0x0002, 2, 1), 0);
	cr_assert_eq(store_node_remove(f.s, 0x0002), 0);
	cr_assert_eq(store_addr_alloc(f.s, 1, &a), 0);
	cr_assert_eq(a, 0x0004);
	cr_assert_eq(store_addr_exclusions_purge(f.s, 10, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_addr_exclusions_purge(f.s, 11, &n), 0);
	cr_assert_eq(n, 0, "one IV Index change is not enough");
	cr_assert_eq(store_addr_alloc(f.s, 1, &a), 0);
	cr_assert_eq(a, 0x0004);
	cr_assert_eq(store_addr_exclusions_purge(f.s, 12, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_addr_alloc(f.s, 1, &a), 0);
	cr_assert_eq(a, 0x0002);
}

/* Manual exclusions are range-checked and recorded at the current IV Index. */
Test(store_addr, exclude_manual)
{
	struct store_addr_exclusion *e;
	uint16_t a;
	size_t n;

	cr_assert_eq(store_addr_exclude(f.s, 0x0002, 0), -EINVAL);
	cr_assert_eq(store_addr_exclude(f.s, 0x7fff, 2), -EINVAL);
	cr_assert_eq(store_addr_exclude(f.s, 0x0002, 5), 0);
	cr_assert_eq(store_addr_alloc(f.s, 1, &a), 0);
	cr_assert_eq(a, 0x0007);
	cr_assert_eq(store_addr_exclusions(f.s, &e, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(e[0].iv_index, 0);
	free(e);
}
