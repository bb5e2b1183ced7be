#include <errno.h>

#include <stdio.h>

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

TestSuite(store_ops, .init = setup, .fini = teardown);

/* An operation goes PENDING -> RUNNING with progress -> SUCCEEDED with a JSON result. */
Test(store_ops, lifecycle)
{
	struct store_op op;
	uint64_t id = 0;

	cr_assert_eq(store_op_create(f.s, "provision", &id), 0);
	cr_assert_gt(id, 0);
	cr_assert_eq(store_op_get(f.s, id, &op), 0);
	cr_assert_str_eq(op.type, "provision");
	cr_assert_eq(op.state, STORE_OP_PENDING);
	cr_assert_null(op.result);
	f.now += 10;
	cr_assert_eq(store_op_progress(f.s, id, STORE_OP_RUNNING, 40), 0);
	cr_assert_eq(store_op_get(f.s, id, &op), 0);
	cr_assert_eq(op.progress, 40);
	cr_assert_eq(op.updated_ms, op.created_ms + 10);
	cr_assert_eq(store_op_progress(f.s, id, STORE_OP_RUNNING, 101), -EINVAL);
	cr_assert_eq(store_op_finish(f.s, id, STORE_OP_SUCCEEDED, "{\"unicast\": 5}", NULL), 0);
	cr_assert_eq(store_op_get(f.s, id, &op), 0);
	cr_assert_eq(op.state, STORE_OP_SUCCEEDED);
	cr_assert_eq(op.progress, 100);
	cr_assert_str_eq(op.result, "{\"unicast\": 5}");
	cr_assert_str_eq(op.error, "");
	store_op_clear(&op);
	cr_assert_null(op.result);
	store_op_clear(NULL);
	cr_assert_eq(store_op_finish(f.s, id, STORE_OP_FAILED, NULL, "x"), -EALREADY);
	cr_assert_eq(store_op_progress(f.s, id, STORE_OP_RUNNING, 1), -EALREADY);
	cr_assert_eq(store_op_get(f.s, id + 1, &op), -ENOENT);
}

/* Invalid JSON results, unfinished end states and empty types are refused. */
Test(store_ops, bad_arguments)
{
	uint64_t id;

	cr_assert_eq(store_op_create(f.s, "", &id), -EINVAL);
	cr_assert_eq(store_op_create(f.s, "configure", &id), 0);
	cr_assert_eq(store_op_finish(f.s, id, STORE_OP_SUCCEEDED, "{not json", NULL), -EINVAL);
	cr_assert_eq(store_op_finish(f.s, id, STORE_OP_RUNNING, NULL, NULL), -EINVAL);
	cr_assert_eq(store_op_progress(f.s, id, STORE_OP_FAILED, 1), -EINVAL);
	cr_assert_eq(store_op_finish(f.s, 999, STORE_OP_FAILED, NULL, NULL), -ENOENT);
}

/* On restart unfinished operations fail with a reason; purge drops old finished ones. */
Test(store_ops, abandon_and_purge)
{
	struct store_op op;
	uint64_t a, b, c;
	size_t n = 0;

	cr_assert_eq(store_op_create(f.s, "provision", &a), 0);
	cr_assert_eq(store_op_create(f.s, "provision", &b), 0);
	cr_assert_eq(store_op_progress(f.s, b, STORE_OP_RUNNING, 5), 0);
	cr_assert_eq(store_op_create(f.s, "provision", &c), 0);
	cr_assert_eq(store_op_finish(f.s, c, STORE_OP_CANCELLED, NULL, "user"), 0);
	fx_close(&f);
	fx_open(&f);
	f.now += 1000;
	cr_assert_eq(store_op_abandon_unfinished(f.s, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(store_op_get(f.s, b, &op), 0);
	cr_assert_eq(op.state, STORE_OP_FAILED);
	cr_assert_str_eq(op.error, "interrupted by restart");
	cr_assert_eq(store_op_purge(f.s, f.now, &n), 0);
	cr_assert_eq(n, 1, "only c finished before now");
	cr_assert_eq(store_op_get(f.s, c, &op), -ENOENT);
	cr_assert_eq(store_op_get(f.s, a, &op), 0);
}

/*
 * An operation that an unfinished job carries ({"op": id} in the job's
 * parameters) survives the restart: the job resumes and finishes it.  Once
 * the job ended, a still unfinished operation is abandoned like any other.
 */
Test(store_ops, abandon_spares_the_operations_of_unfinished_jobs)
{
	struct store_job_target_new t = {.node = 5, .name = "n5"};
	struct store_op op;
	uint64_t carried, loose, job;
	char params[48];
	size_t n = 0;

	cr_assert_eq(store_op_create(f.s, "refresh", &carried), 0);
	cr_assert_eq(store_op_create(f.s, "remove", &loose), 0);
	snprintf(params, sizeof(params), "{\"op\": %llu}", (unsigned long long)carried);
	cr_assert_eq(store_job_create(f.s, "refresh", params, "it", &t, 1, &job), 0);
	cr_assert_eq(store_op_abandon_unfinished(f.s, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_op_get(f.s, carried, &op), 0);
	cr_assert_eq(op.state, STORE_OP_PENDING);
	store_op_clear(&op);
	cr_assert_eq(store_op_get(f.s, loose, &op), 0);
	cr_assert_eq(op.state, STORE_OP_FAILED);
	store_op_clear(&op);
	cr_assert_eq(store_job_state_set(f.s, job, STORE_JOB_CANCELLED, "cancelled"), 0);
	cr_assert_eq(store_op_abandon_unfinished(f.s, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_op_get(f.s, carried, &op), 0);
	cr_assert_eq(op.state, STORE_OP_FAILED);
	store_op_clear(&op);
}
