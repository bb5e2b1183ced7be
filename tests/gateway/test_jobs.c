/*
 * The job engine (gateway/jobs.h) over a real store in a temporary state
 * directory and a real event loop, with a fake kind that records every
 * start() and stop() and lets the test end attempts.  Retries are driven
 * through the loop's timer (job_retry_s = 1, the smallest the
 * configuration takes), never by sleeping.  A fake loop clock cannot stand
 * in: next_ms is wall-clock time (it survives a restart), so the retry
 * tests take about 3 s of real time.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/gw_cmd.h"
#include "gateway/jobs.h"
#include "gateway/util.h"

#define NT 16    /* targets per job at most in these tests */
#define NREC 128 /* start() calls recorded */

struct start_rec {
	uint64_t job;
	uint32_t idx;
	int32_t step;
	uint32_t attempts;
	bool recovering;
};

/* The fake kind's behaviour (set by the test) and what it saw. */
static struct fake {
	int ret[NT];        /* start() result for target idx of any job */
	int32_t commit[NT]; /* a step start() commits for target idx, 0: none */
	bool stop_ends;     /* stop(stopping = false) ends the attempt (RETRY "stopped") */
	bool end_in_start;  /* start() ends the attempt itself (OK) and returns 0 */
	struct start_rec start[NREC];
	unsigned n_start;
	unsigned n_stop, n_stopping;
	int fin_ret;         /* finish_without() result */
	unsigned n_fin;      /* finish_without() calls */
	size_t fin_left;     /* targets it saw left out */
	uint32_t fin_reopen; /* the target it reopens (UINT32_MAX: none) */
	unsigned rank[NT];   /* the kind "ranked": rank() of target idx */
	unsigned n_rank;     /* rank() calls */
} fk;

static int fake_start(void *ctx, struct gw_job_run *run)
{
	struct fake *f = ctx;
	uint32_t idx = run->t.idx;

	cr_assert_lt(f->n_start, NREC);
	cr_assert_lt(idx, NT);
	f->start[f->n_start++] = (struct start_rec){.job = run->t.job,
						    .idx = idx,
						    .step = run->t.step,
						    .attempts = run->t.attempts,
						    .recovering = run->recovering};
	cr_assert_not_null(run->params);
	cr_assert_eq(json_integer_value(json_object_get(run->job_params, "p")), 7);
	if (f->ret[idx] == -EEXIST) {
		snprintf(run->t.error, sizeof(run->t.error), "already in the inventory");
	}
	if (f->ret[idx]) {
		return f->ret[idx];
	}
	if (f->commit[idx]) {
		run->t.step = f->commit[idx];
		cr_assert_eq(gw_jobs_commit(run), 0);
	}
	if (f->end_in_start) {
		gw_jobs_end(run, GW_JOB_OK, NULL, "{\"at\":\"start\"}");
	}
	return 0;
}

static void fake_stop(void *ctx, struct gw_job_run *run, bool stopping)
{
	struct fake *f = ctx;

	if (stopping) {
		f->n_stopping++;
		return;
	}
	f->n_stop++;
	cr_assert(run->cancelled);
	if (f->stop_ends) {
		gw_jobs_end(run, GW_JOB_RETRY, "stopped", NULL);
	}
}

static const struct gw_job_kind fake_kind = {
    .name = "fake",
    .ctx = &fk,
    .start = fake_start,
    .stop = fake_stop,
};

static const struct gw_job_kind other_kind = {
    .name = "other",
    .ctx = &fk,
    .start = fake_start,
    .stop = fake_stop,
};

/* finish_without of the kind "fin": counts the targets left out, reopens fk.fin_reopen at 50. */
static int fake_finish(void *ctx, uint64_t job, const struct store_job_target *t, size_t n,
		       uint32_t *reopen, int32_t *step, char *why, size_t why_len)
{
	struct fake *f = ctx;
	size_t i;

	(void)job;
	f->n_fin++;
	f->fin_left = 0;
	for (i = 0; i < n; i++) {
		f->fin_left += t[i].state == STORE_TGT_FAILED && t[i].step == GW_JOB_STEP_LEFT_OUT;
	}
	if (f->fin_ret) {
		snprintf(why, why_len, "refused by the kind");
		return f->fin_ret;
	}
	*reopen = f->fin_reopen;
	*step = 50;
	return 0;
}

static unsigned fake_rank(void *ctx, const struct store_job_target *t)
{
	struct fake *f = ctx;

	cr_assert_lt(t->idx, NT);
	cr_assert_eq(t->state, STORE_TGT_PENDING, "rank() asked of a target that is not pending");
	f->n_rank++;
	return f->rank[t->idx];
}

static const struct gw_job_kind ranked_kind = {
    .name = "ranked",
    .ctx = &fk,
    .start = fake_start,
    .stop = fake_stop,
    .rank = fake_rank,
};

static const struct gw_job_kind fin_kind = {
    .name = "fin",
    .ctx = &fk,
    .start = fake_start,
    .stop = fake_stop,
    .finish_without = fake_finish,
    .retry_always = true,
};

/* --- Fixture: a core with a store, a loop and a command queue, no stack. --------------- */

static struct {
	char dir[64];
	struct gw_loop *loop;
	struct gw_cmdq *q;
	struct gw_core core;
	struct gw_jobs *jobs;
	json_t *ev; /* every published event: [{type, data}] */
} F;

static void on_publish(void *ctx, const char *type, json_t *data)
{
	(void)ctx;
	cr_assert_not_null(data, "%s published without data", type);
	json_array_append_new(F.ev, json_pack("{s:s, s:o}", "type", type, "data", data));
}

static void engine_new(void)
{
	F.jobs = gw_jobs_new(&F.core);
	cr_assert_not_null(F.jobs);
	cr_assert_eq(gw_jobs_register(F.jobs, &fake_kind), 0);
	cr_assert_eq(gw_jobs_register(F.jobs, &fake_kind), -EINVAL);
	cr_assert_eq(gw_jobs_register(F.jobs, &other_kind), 0);
	cr_assert_eq(gw_jobs_register(F.jobs, &fin_kind), 0);
	cr_assert_eq(gw_jobs_register(F.jobs, &ranked_kind), 0);
	cr_assert_eq(gw_jobs_resume(F.jobs), 0);
}

/* A restart: the engine stops every attempt (stop(stopping = true)), a new one resumes. */
static void restart(void)
{
	gw_jobs_free(F.jobs);
	fk.n_start = 0;
	engine_new();
}

static void fx_open(unsigned max_sessions, unsigned attempts)
{
	struct gw_hooks hooks = {.publish = on_publish};
	struct gw_conf conf;

	memset(&fk, 0, sizeof(fk));
	snprintf(F.dir, sizeof(F.dir), "/tmp/test_jobs.XXXXXX");
	cr_assert_not_null(mkdtemp(F.dir));
	gw_conf_default(&conf);
	snprintf(conf.state_dir, sizeof(conf.state_dir), "%s", F.dir);
	snprintf(conf.database, sizeof(conf.database), "%s/meshgw.db", F.dir);
	snprintf(conf.master_key, sizeof(conf.master_key), "%s/master.key", F.dir);
	conf.max_sessions = max_sessions;
	conf.job_attempts = attempts;
	conf.job_retry_s = 1;
	F.loop = gw_loop_new();
	F.q = gw_cmdq_new();
	F.ev = json_array();
	cr_assert(F.loop && F.q && F.ev);
	cr_assert_eq(gw_core_open(&F.core, &conf, F.loop, F.q, &hooks), 0);
	engine_new();
}

static void fx_close(void)
{
	DIR *d;
	struct dirent *e;
	char path[GW_PATH_MAX + 64];

	gw_jobs_free(F.jobs);
	gw_core_close(&F.core);
	gw_cmdq_free(F.q);
	gw_loop_free(F.loop);
	json_decref(F.ev);
	d = opendir(F.dir);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", F.dir, e->d_name);
			(void)unlink(path);
		}
	}
	if (d) {
		closedir(d);
	}
	(void)rmdir(F.dir);
}

/* --- Helpers ------------------------------------------------------------------------- */

/* A job of n targets named <prefix><i>, node 0x100 + i. */
static uint64_t mk_job(const char *kind, size_t n, const char *prefix)
{
	struct store_job_target_new t[NT];
	char names[NT][48]; /* a prefix and up to 20 digits: room for any size_t */
	json_t *params = json_pack("{s:i}", "p", 7);
	uint64_t id = 0;
	size_t i;

	cr_assert_leq(n, NT);
	memset(t, 0, sizeof(t));
	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "%s%zu", prefix, i);
		t[i].name = names[i];
		t[i].node = (uint16_t)(0x100 + i);
		t[i].params = "{\"slot\":1}";
	}
	cr_assert_eq(gw_jobs_create(F.jobs, kind, params, "tester", t, n, &id), 0);
	json_decref(params);
	cr_assert_gt(id, 0);
	return id;
}

/* Target (id, idx) as stored (strings freed; result copied into res when given). */
static struct store_job_target tgt(uint64_t id, uint32_t idx, char *res, size_t cap)
{
	struct store_job_target t;

	cr_assert_eq(store_job_target_get(F.core.st, id, idx, &t), 0);
	if (res) {
		snprintf(res, cap, "%s", t.result ? t.result : "");
	}
	free(t.params);
	free(t.result);
	t.params = NULL;
	t.result = NULL;
	return t;
}

static enum store_job_state job_state(uint64_t id, char *err, size_t cap)
{
	struct store_job sj;
	enum store_job_state s;

	cr_assert_eq(store_job_get(F.core.st, id, &sj), 0);
	s = sj.state;
	if (err) {
		snprintf(err, cap, "%s", sj.error);
	}
	store_job_clear(&sj);
	return s;
}

static void end(uint64_t id, uint32_t idx, enum gw_job_outcome o, const char *err,
		const char *result)
{
	struct gw_job_run *run = gw_jobs_run(F.jobs, id, idx);

	cr_assert_not_null(run, "job %llu target %u has no attempt", (unsigned long long)id, idx);
	gw_jobs_end(run, o, err, result);
}

static void assert_tgt(uint64_t id, uint32_t idx, enum store_tgt_state st, uint32_t attempts)
{
	struct store_job_target t = tgt(id, idx, NULL, 0);

	cr_assert_eq(t.state, st, "job %llu target %u: state %s, want %s", (unsigned long long)id,
		     idx, store_tgt_state_name(t.state), store_tgt_state_name(st));
	cr_assert_eq(t.attempts, attempts, "target %u: %u attempts, want %u", idx, t.attempts,
		     attempts);
}

/* Run the loop until fk.n_start reaches n (a bound of 10 s fails the test). */
static void drive_starts(unsigned n)
{
	uint64_t limit = gw_clock_ms() + 10000;

	while (fk.n_start < n) {
		cr_assert_lt(gw_clock_ms(), limit, "no start() after 10 s (%u of %u)", fk.n_start,
			     n);
		cr_assert_eq(gw_loop_run_once(F.loop, 100), 0);
	}
}

/* The last event of type (and, for job.target, of target idx >= 0); borrowed. */
static json_t *last_event(const char *type, int idx)
{
	size_t i = json_array_size(F.ev);

	while (i-- > 0) {
		json_t *e = json_array_get(F.ev, i);
		json_t *d = json_object_get(e, "data");

		if (strcmp(json_string_value(json_object_get(e, "type")), type) != 0) {
			continue;
		}
		if (idx >= 0 && json_integer_value(json_object_get(d, "index")) != idx) {
			continue;
		}
		return d;
	}
	cr_assert_fail("no %s event", type);
	return NULL;
}

static const char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	cr_assert_not_null(s, "no string %s", key);
	return s;
}

static json_int_t int_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	cr_assert(json_is_integer(v), "no integer %s", key);
	return json_integer_value(v);
}

/* Run a REST command handler on a fresh command; the caller reads it and gw_cmd_put()s it. */
static struct gw_cmd *cmd(int type, json_t *args)
{
	struct gw_cmd *c = gw_cmd_new(type, args, "tester");

	cr_assert_not_null(c);
	switch (type) {
	case GW_CMD_JOB_LIST:
		gw_jobs_cmd_list(F.jobs, c);
		break;
	case GW_CMD_JOB_GET:
		gw_jobs_cmd_get(F.jobs, c);
		break;
	case GW_CMD_JOB_PAUSE:
		gw_jobs_cmd_pause(F.jobs, c);
		break;
	case GW_CMD_JOB_RESUME:
		gw_jobs_cmd_resume(F.jobs, c);
		break;
	case GW_CMD_JOB_CANCEL:
		gw_jobs_cmd_cancel(F.jobs, c);
		break;
	case GW_CMD_JOB_FINISH_WITHOUT:
		gw_jobs_cmd_finish_without(F.jobs, c);
		break;
	default:
		cr_assert_fail("command %d", type);
	}
	cr_assert(c->done, "command %d not completed", type);
	return c;
}

/* Run a job command on id; assert its status and, when 0, the job's state name. */
static void job_cmd(int type, uint64_t id, int status, const char *state)
{
	struct gw_cmd *c = cmd(type, json_pack("{s:I}", "id", (json_int_t)id));

	cr_assert_eq(c->status, status, "command %d: status %d (%s), want %d", type, c->status,
		     c->detail, status);
	if (!status) {
		cr_assert_str_eq(str_of(c->result, "state"), state);
		cr_assert_eq(int_of(c->result, "id"), (json_int_t)id);
	}
	gw_cmd_put(c);
}

/* --- Scheduling ---------------------------------------------------------------------- */

/*
 * Creation stores every target and starts at most max_sessions; each ended
 * attempt hands its slot to the next pending target; OK keeps the result,
 * FAIL ends the target after one attempt; the job is DONE when all ended.
 */
Test(jobs, slots_results_and_done)
{
	char res[128];
	struct store_job_target t;
	json_t *e;
	uint64_t id;

	fx_open(2, 4);
	id = mk_job("fake", 5, "t");
	cr_assert_eq(fk.n_start, 2);
	cr_assert_eq(fk.start[0].idx, 0);
	cr_assert_eq(fk.start[1].idx, 1);
	cr_assert_eq(fk.start[0].attempts, 1);
	cr_assert_not(fk.start[0].recovering);
	cr_assert_eq(gw_jobs_active(F.jobs, NULL), 2);
	cr_assert_eq(gw_jobs_active(F.jobs, &other_kind), 0);
	assert_tgt(id, 0, STORE_TGT_ACTIVE, 1);
	assert_tgt(id, 1, STORE_TGT_ACTIVE, 1);
	assert_tgt(id, 4, STORE_TGT_PENDING, 0);
	t = tgt(id, 4, NULL, 0);
	cr_assert_str_eq(t.name, "t4");
	cr_assert_eq(t.node, 0x104);
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_RUNNING);

	end(id, 0, GW_JOB_OK, NULL, "{\"address\":5}");
	cr_assert_eq(fk.n_start, 3);
	cr_assert_eq(fk.start[2].idx, 2);
	cr_assert_eq(gw_jobs_active(F.jobs, &fake_kind), 2);
	t = tgt(id, 0, res, sizeof(res));
	cr_assert_eq(t.state, STORE_TGT_DONE);
	cr_assert_str_eq(res, "{\"address\":5}");
	cr_assert_str_empty(t.error);
	e = last_event("job.target", 0);
	cr_assert_str_eq(str_of(e, "state"), "done");
	cr_assert_eq(int_of(json_object_get(e, "result"), "address"), 5);
	cr_assert_eq(int_of(e, "node"), 0x100);

	end(id, 1, GW_JOB_FAIL, "broken", NULL);
	cr_assert_eq(fk.n_start, 4);
	t = tgt(id, 1, NULL, 0);
	cr_assert_eq(t.state, STORE_TGT_FAILED);
	cr_assert_eq(t.attempts, 1);
	cr_assert_str_eq(t.error, "broken");
	/* job.updated tells the end of the attempt with the freed slot given to the next target. */
	e = last_event("job.updated", -1);
	cr_assert_str_eq(str_of(e, "state"), "running");
	cr_assert_eq(int_of(json_object_get(e, "counts"), "done"), 1);
	cr_assert_eq(int_of(json_object_get(e, "counts"), "failed"), 1);
	cr_assert_eq(int_of(json_object_get(e, "counts"), "active"), 2);
	cr_assert_eq(int_of(json_object_get(e, "counts"), "pending"), 1);
	cr_assert_str_eq(str_of(last_event("job.target", 3), "state"), "active");
	cr_assert_eq(int_of(e, "total"), 5);

	end(id, 2, GW_JOB_OK, NULL, NULL);
	end(id, 3, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_RUNNING);
	end(id, 4, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.n_start, 5);
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_DONE);
	cr_assert_null(gw_jobs_run(F.jobs, id, 4));
	cr_assert_eq(gw_jobs_active(F.jobs, NULL), 0);
	e = last_event("job.updated", -1);
	cr_assert_str_eq(str_of(e, "state"), "done");
	cr_assert_eq(int_of(json_object_get(e, "counts"), "done"), 4);
	cr_assert(json_is_string(json_object_get(e, "finished_at")));
	fx_close();
}

/*
 * An attempt that gives its slot back (gw_jobs_release) lets the next
 * target start, from the loop, not inside the call; it still counts
 * towards the limit in all, GW_JOBS_RUNNING_FACTOR x max_sessions (6 here),
 * and its end does not free a slot a second time.
 */
Test(jobs, released_slot_goes_to_the_next_target, .timeout = 30)
{
	uint64_t id;

	fx_open(2, 4);
	id = mk_job("fake", 9, "r");
	cr_assert_eq(fk.n_start, 2);
	gw_jobs_release(gw_jobs_run(F.jobs, id, 0));
	gw_jobs_release(gw_jobs_run(F.jobs, id, 0)); /* idempotent */
	cr_assert_eq(fk.n_start, 2, "started inside the release");
	drive_starts(3);
	cr_assert_eq(fk.start[2].idx, 2);
	gw_jobs_release(gw_jobs_run(F.jobs, id, 1));
	gw_jobs_release(gw_jobs_run(F.jobs, id, 2));
	drive_starts(5);
	gw_jobs_release(gw_jobs_run(F.jobs, id, 3));
	drive_starts(6);
	/* 0-3 released, 4 and 5 hold the two slots: 6 under way, the limit in all. */
	gw_jobs_release(gw_jobs_run(F.jobs, id, 4));
	for (int k = 0; k < 10; k++) {
		cr_assert_eq(gw_loop_run_once(F.loop, 10), 0);
	}
	cr_assert_eq(fk.n_start, 6, "more than 3 x max_sessions under way");
	cr_assert_eq(gw_jobs_active(F.jobs, NULL), 6);
	assert_tgt(id, 6, STORE_TGT_PENDING, 0);
	/* A released attempt that ends makes room in all: 6 starts (5 and 6 hold the slots). */
	end(id, 0, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.n_start, 7);
	assert_tgt(id, 6, STORE_TGT_ACTIVE, 1);
	/* Another released one that ends frees no slot a second time: 7 waits. */
	end(id, 1, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.n_start, 7);
	assert_tgt(id, 7, STORE_TGT_PENDING, 0);
	/* An unreleased one that ends does. */
	end(id, 5, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.n_start, 8);
	assert_tgt(id, 7, STORE_TGT_ACTIVE, 1);
	fx_close();
}

/* Two jobs created one after the other share the slots in turn. */
Test(jobs, round_robin_between_jobs)
{
	uint64_t a, b;
	unsigned i, first, na = 0, nb = 0;

	fx_open(2, 4);
	a = mk_job("fake", 4, "a");
	b = mk_job("fake", 4, "b");
	cr_assert_eq(fk.n_start, 2);
	first = fk.n_start;
	/* End the oldest attempt each time until every target has started. */
	for (i = 0; fk.n_start < 8; i++) {
		end(fk.start[i].job, fk.start[i].idx, GW_JOB_OK, NULL, NULL);
	}
	/* While both jobs have pending targets, the slots alternate between them. */
	for (i = first; i < first + 4; i++) {
		na += fk.start[i].job == a;
		nb += fk.start[i].job == b;
		if (i > first) {
			cr_assert_neq(fk.start[i].job, fk.start[i - 1].job,
				      "start %u went to the same job again", i);
		}
	}
	cr_assert_eq(na, 2);
	cr_assert_eq(nb, 2);
	fx_close();
}

/*
 * A kind with rank(): the pending targets start lowest rank first, equal
 * ranks in the job's order, ranks asked again at each pass (a rank that
 * changes between passes reorders what is left); a busy target gives way
 * to the next by rank.
 */
Test(jobs, rank_orders_starts)
{
	static const unsigned rank[6] = {3, 1, 2, 1, 0, 3};
	uint64_t id;

	fx_open(2, 4);
	memcpy(fk.rank, rank, sizeof(rank));
	fk.ret[4] = -EBUSY; /* rank 0, but its resource is taken */
	id = mk_job("ranked", 6, "r");
	cr_assert_gt(fk.n_rank, 0);
	cr_assert_eq(fk.n_start, 3);
	cr_assert_eq(fk.start[0].idx, 4); /* tried first, busy */
	cr_assert_eq(fk.start[1].idx, 1); /* rank 1, before 3 (same rank, later in the job) */
	cr_assert_eq(fk.start[2].idx, 3);
	assert_tgt(id, 4, STORE_TGT_PENDING, 0);
	/* The far one (5) now ranks before 2 and 0; 4 is still busy. */
	fk.rank[5] = 1;
	end(id, 1, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.start[fk.n_start - 1].idx, 5);
	fk.ret[4] = 0;
	end(id, 3, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.start[fk.n_start - 1].idx, 4);
	end(id, 5, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.start[fk.n_start - 1].idx, 2);
	end(id, 4, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.start[fk.n_start - 1].idx, 0);
	fx_close();
}

/* --- Attempts ------------------------------------------------------------------------ */

/* RETRY waits job_retry_s * 2^(attempts-1) (the loop's timer restarts it), then gives up. */
Test(jobs, retry_backoff_then_give_up, .timeout = 30)
{
	struct store_job_target t;
	uint64_t id, before, after;
	char err[STORE_JOB_ERROR_MAX];
	json_t *e;
	unsigned k;

	fx_open(1, 3);
	id = mk_job("fake", 1, "r");
	cr_assert_eq(fk.n_start, 1);
	for (k = 1; k <= 2; k++) {
		uint64_t delay = 1000ull << (k - 1);

		before = gw_wall_ms();
		end(id, 0, GW_JOB_RETRY, "no answer", NULL);
		after = gw_wall_ms();
		t = tgt(id, 0, NULL, 0);
		cr_assert_eq(t.state, STORE_TGT_PENDING);
		cr_assert_eq(t.attempts, k);
		cr_assert_str_eq(t.error, "no answer");
		cr_assert_geq(t.next_ms, before + delay);
		cr_assert_leq(t.next_ms, after + delay);
		e = last_event("job.target", 0);
		cr_assert_str_eq(str_of(e, "state"), "pending");
		cr_assert(json_is_string(json_object_get(e, "next_attempt_at")));
		cr_assert_eq(fk.n_start, k, "restarted before its delay");
		drive_starts(k + 1);
		cr_assert_geq(gw_wall_ms(), t.next_ms, "restarted %llu ms early",
			      (unsigned long long)(t.next_ms - gw_wall_ms()));
		cr_assert_eq(fk.start[k].attempts, k + 1);
		cr_assert_not(fk.start[k].recovering);
		assert_tgt(id, 0, STORE_TGT_ACTIVE, k + 1);
		cr_assert_str_empty(tgt(id, 0, NULL, 0).error);
	}
	end(id, 0, GW_JOB_RETRY, "no answer", NULL);
	t = tgt(id, 0, NULL, 0);
	cr_assert_eq(t.state, STORE_TGT_FAILED);
	cr_assert_eq(t.attempts, 3);
	cr_assert_str_eq(t.error, "gave up after 3 attempts: no answer");
	cr_assert_eq(job_state(id, err, sizeof(err)), STORE_JOB_DONE);
	cr_assert_eq(gw_loop_run_once(F.loop, 0), 0);
	cr_assert_eq(fk.n_start, 3);
	fx_close();
}

/* -EBUSY counts no attempt; the target is tried again on gw_jobs_kick() or when an attempt ends. */
Test(jobs, busy_waits_without_attempt)
{
	uint64_t a, b;

	fx_open(2, 4);
	fk.ret[0] = -EBUSY;
	a = mk_job("fake", 2, "a");
	cr_assert_eq(fk.n_start, 2); /* 0 said busy, 1 started */
	cr_assert_eq(fk.start[1].idx, 1);
	cr_assert_eq(gw_jobs_active(F.jobs, NULL), 1);
	assert_tgt(a, 0, STORE_TGT_PENDING, 0);
	cr_assert_null(gw_jobs_run(F.jobs, a, 0));
	gw_jobs_kick(F.jobs);
	cr_assert_eq(fk.n_start, 3);
	assert_tgt(a, 0, STORE_TGT_PENDING, 0);
	fk.ret[0] = 0;
	gw_jobs_kick(F.jobs);
	cr_assert_eq(fk.n_start, 4);
	cr_assert_eq(fk.start[3].attempts, 1);
	assert_tgt(a, 0, STORE_TGT_ACTIVE, 1);

	/* No slot for b; when one frees b's target is busy; when the next frees it starts. */
	fk.ret[0] = -EBUSY;
	b = mk_job("fake", 1, "b");
	cr_assert_eq(fk.n_start, 4);
	end(a, 1, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.n_start, 5);
	cr_assert_eq(fk.start[4].job, b);
	assert_tgt(b, 0, STORE_TGT_PENDING, 0);
	fk.ret[0] = 0;
	end(a, 0, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.n_start, 6);
	cr_assert_eq(fk.start[5].job, b);
	assert_tgt(b, 0, STORE_TGT_ACTIVE, 1);
	fx_close();
}

/* start() failing with -EEXIST fails the target at once; another error is retried. */
Test(jobs, start_error_eexist_fails_other_retries)
{
	struct store_job_target t;
	uint64_t id;

	fx_open(2, 4);
	fk.ret[0] = -EEXIST;
	fk.ret[1] = -EIO;
	id = mk_job("fake", 2, "e");
	t = tgt(id, 0, NULL, 0);
	cr_assert_eq(t.state, STORE_TGT_FAILED);
	cr_assert_eq(t.attempts, 1);
	cr_assert_str_eq(t.error, "already in the inventory");
	t = tgt(id, 1, NULL, 0);
	cr_assert_eq(t.state, STORE_TGT_PENDING);
	cr_assert_eq(t.attempts, 1);
	cr_assert_str_eq(t.error, strerror(EIO));
	cr_assert_gt(t.next_ms, gw_wall_ms());
	cr_assert_eq(gw_jobs_active(F.jobs, NULL), 0);
	cr_assert_eq(fk.n_start, 2);
	fx_close();
}

/* A kind may end the attempt inside start() and still return 0 (jobs.h). */
Test(jobs, attempt_ended_inside_start)
{
	char res[64];
	uint64_t id;

	fx_open(2, 4);
	fk.end_in_start = true;
	id = mk_job("fake", 3, "z");
	cr_assert_eq(fk.n_start, 3);
	cr_assert_eq(gw_jobs_active(F.jobs, NULL), 0);
	cr_assert_eq(tgt(id, 2, res, sizeof(res)).state, STORE_TGT_DONE);
	cr_assert_str_eq(res, "{\"at\":\"start\"}");
	assert_tgt(id, 0, STORE_TGT_DONE, 1);
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_DONE);
	fx_close();
}

/* -ENOBUFS (radio full) counts no attempt; the loop's timer tries again shortly. */
Test(jobs, nobufs_tried_again_by_timer, .timeout = 30)
{
	uint64_t id;

	fx_open(2, 4);
	fk.ret[0] = -ENOBUFS;
	id = mk_job("fake", 2, "b");
	cr_assert_eq(fk.n_start, 1, "a full radio stops the pass");
	assert_tgt(id, 0, STORE_TGT_PENDING, 0);
	fk.ret[0] = 0;
	drive_starts(3);
	assert_tgt(id, 0, STORE_TGT_ACTIVE, 1);
	assert_tgt(id, 1, STORE_TGT_ACTIVE, 1);
	fx_close();
}

/* --- Pause, resume, cancel ---------------------------------------------------------- */

Test(jobs, pause_then_resume)
{
	uint64_t id;

	fx_open(2, 4);
	id = mk_job("fake", 4, "p");
	job_cmd(GW_CMD_JOB_PAUSE, id, 0, "paused");
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_PAUSED);
	cr_assert_str_eq(str_of(last_event("job.updated", -1), "state"), "paused");
	/* The active ones run on; no new one starts. */
	end(id, 0, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.n_start, 2);
	gw_jobs_kick(F.jobs);
	cr_assert_eq(fk.n_start, 2);
	job_cmd(GW_CMD_JOB_PAUSE, id, 0, "paused");
	job_cmd(GW_CMD_JOB_RESUME, id, 0, "running");
	cr_assert_eq(fk.n_start, 3);
	cr_assert_eq(fk.start[2].idx, 2);
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_RUNNING);
	fx_close();
}

/* Cancel: pending targets at once, the active one through stop(), which ends it. */
Test(jobs, cancel_stop_ends_attempt)
{
	struct store_job_target t;
	char err[STORE_JOB_ERROR_MAX];
	uint64_t id;

	fx_open(1, 4);
	fk.stop_ends = true;
	id = mk_job("fake", 3, "c");
	job_cmd(GW_CMD_JOB_CANCEL, id, 0, "cancelled");
	cr_assert_eq(fk.n_stop, 1);
	cr_assert_eq(fk.n_start, 1);
	cr_assert_eq(job_state(id, err, sizeof(err)), STORE_JOB_CANCELLED);
	cr_assert_str_eq(err, "cancelled");
	t = tgt(id, 0, NULL, 0);
	cr_assert_eq(t.state, STORE_TGT_CANCELLED);
	cr_assert_str_eq(t.error, "stopped");
	assert_tgt(id, 1, STORE_TGT_CANCELLED, 0);
	assert_tgt(id, 2, STORE_TGT_CANCELLED, 0);
	cr_assert_eq(gw_jobs_active(F.jobs, NULL), 0);
	cr_assert_str_eq(str_of(last_event("job.updated", -1), "state"), "cancelled");
	cr_assert_str_eq(str_of(last_event("job.target", 2), "state"), "cancelled");
	job_cmd(GW_CMD_JOB_CANCEL, id, -EALREADY, NULL);
	job_cmd(GW_CMD_JOB_RESUME, id, -EALREADY, NULL);
	fx_close();
}

/* An attempt past its point of no return runs on: the job is "cancelling" until it ends. */
Test(jobs, cancel_waits_for_attempt_past_no_return)
{
	char err[STORE_JOB_ERROR_MAX];
	uint64_t id;

	fx_open(1, 4);
	fk.commit[0] = 2;
	id = mk_job("fake", 3, "c");
	job_cmd(GW_CMD_JOB_CANCEL, id, 0, "cancelling");
	cr_assert_eq(fk.n_stop, 1);
	cr_assert_eq(job_state(id, err, sizeof(err)), STORE_JOB_PAUSED);
	cr_assert_str_eq(err, "cancel requested");
	assert_tgt(id, 0, STORE_TGT_ACTIVE, 1);
	assert_tgt(id, 1, STORE_TGT_CANCELLED, 0);
	assert_tgt(id, 2, STORE_TGT_CANCELLED, 0);
	cr_assert(gw_jobs_run(F.jobs, id, 0)->cancelled);
	cr_assert_str_eq(str_of(last_event("job.updated", -1), "state"), "cancelling");
	cr_assert(json_is_null(json_object_get(last_event("job.updated", -1), "error")));
	/* Neither pause nor resume applies while cancelling; a second cancel is harmless. */
	job_cmd(GW_CMD_JOB_RESUME, id, -EALREADY, NULL);
	job_cmd(GW_CMD_JOB_CANCEL, id, 0, "cancelling");
	cr_assert_eq(fk.n_stop, 1);

	end(id, 0, GW_JOB_OK, NULL, "{}");
	assert_tgt(id, 0, STORE_TGT_DONE, 1);
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_CANCELLED);
	cr_assert_eq(fk.n_start, 1);
	cr_assert_str_eq(str_of(last_event("job.updated", -1), "state"), "cancelled");
	fx_close();
}

/*
 * A kind that retries for ever keeps a target that does not answer pending
 * past the attempt limit; finish-without leaves the chosen targets out
 * (an active one stopped first), lets the kind record it in the same
 * transaction and starts the target it reopened; a kind that refuses
 * rolls the whole decision back; kinds without the hook answer -ENOTSUP.
 */
Test(jobs, finish_without_leaves_targets_out)
{
	struct store_job_target t;
	struct gw_cmd *c;
	uint64_t id, other;

	fx_open(2, 1);
	fk.stop_ends = true;
	fk.fin_reopen = 0;
	id = mk_job("fin", 3, "f");
	end(id, 0, GW_JOB_OK, NULL, "{}");
	end(id, 1, GW_JOB_RETRY, "no answer", NULL);
	t = tgt(id, 1, NULL, 0);
	cr_assert_eq(t.state, STORE_TGT_PENDING, "no give-up after job_attempts");
	cr_assert_str_eq(t.error, "no answer");
	assert_tgt(id, 2, STORE_TGT_ACTIVE, 1);

	/* Addresses that name no unfinished target; a kind without the hook. */
	c = cmd(GW_CMD_JOB_FINISH_WITHOUT,
		json_pack("{s:I, s:[i]}", "id", (json_int_t)id, "addresses", 0x100));
	cr_assert_eq(c->status, -EALREADY);
	gw_cmd_put(c);
	other = mk_job("fake", 1, "o");
	job_cmd(GW_CMD_JOB_FINISH_WITHOUT, other, -ENOTSUP, NULL);

	/* The kind refuses: the decision is rolled back whole. */
	fk.fin_ret = -EBUSY;
	c = cmd(GW_CMD_JOB_FINISH_WITHOUT,
		json_pack("{s:I, s:[i]}", "id", (json_int_t)id, "addresses", 0x101));
	cr_assert_eq(c->status, -EBUSY);
	cr_assert_str_eq(c->detail, "refused by the kind");
	gw_cmd_put(c);
	cr_assert_eq(fk.fin_left, 1);
	t = tgt(id, 1, NULL, 0);
	cr_assert_eq(t.state, STORE_TGT_PENDING);
	cr_assert_eq(t.step, 0);

	/* Every target not done: 1 (waiting) and 2 (active, stopped first). */
	fk.fin_ret = 0;
	job_cmd(GW_CMD_JOB_FINISH_WITHOUT, id, 0, "running");
	cr_assert_eq(fk.n_fin, 2);
	cr_assert_eq(fk.fin_left, 2);
	cr_assert_eq(fk.n_stop, 1);
	t = tgt(id, 1, NULL, 0);
	cr_assert_eq(t.state, STORE_TGT_FAILED);
	cr_assert_eq(t.step, GW_JOB_STEP_LEFT_OUT);
	cr_assert_str_eq(t.error, "left out by tester: no answer");
	t = tgt(id, 2, NULL, 0);
	cr_assert_eq(t.state, STORE_TGT_FAILED);
	cr_assert_str_eq(t.error, "left out by tester: stopped");
	cr_assert_eq(json_integer_value(json_object_get(last_event("job.target", 2), "step")),
		     GW_JOB_STEP_LEFT_OUT);
	/* The reopened target started again at the kind's step; its end ends the job. */
	assert_tgt(id, 0, STORE_TGT_ACTIVE, 2);
	cr_assert_eq(fk.start[fk.n_start - 1].idx, 0);
	cr_assert_eq(fk.start[fk.n_start - 1].step, 50);
	end(id, 0, GW_JOB_OK, NULL, "{}");
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_DONE);
	job_cmd(GW_CMD_JOB_FINISH_WITHOUT, id, -EALREADY, NULL);
	fx_close();
}

/*
 * GW_JOB_WAIT: the target is pending again at its step, the attempt not
 * counted, and starts again at the next scheduling pass without a delay.
 */
Test(jobs, wait_outcome_counts_no_attempt)
{
	struct store_job_target t;
	uint64_t id;

	fx_open(1, 1);
	fk.commit[0] = 5;
	id = mk_job("fake", 1, "w");
	cr_assert_eq(fk.n_start, 1);
	end(id, 0, GW_JOB_WAIT, NULL, NULL);
	/* Started again at once (the pass gw_jobs_end runs), at the committed step. */
	cr_assert_eq(fk.n_start, 2);
	cr_assert_eq(fk.start[1].step, 5);
	cr_assert_eq(fk.start[1].attempts, 1, "a wait is not an attempt");
	end(id, 0, GW_JOB_WAIT, NULL, NULL);
	t = tgt(id, 0, NULL, 0);
	cr_assert_eq(t.attempts, 1);
	cr_assert_eq(t.state, STORE_TGT_ACTIVE);
	end(id, 0, GW_JOB_OK, NULL, "{}");
	assert_tgt(id, 0, STORE_TGT_DONE, 1);
	fx_close();
}

/* --- Restart ------------------------------------------------------------------------- */

/* Active targets resume at their committed step with recovering set; finished ones never run. */
Test(jobs, restart_recovers_active_targets)
{
	uint64_t id;

	fx_open(2, 4);
	fk.commit[0] = 3;
	id = mk_job("fake", 4, "s");
	end(id, 1, GW_JOB_OK, NULL, NULL); /* 2 starts */
	cr_assert_eq(fk.n_start, 3);
	assert_tgt(id, 0, STORE_TGT_ACTIVE, 1);
	cr_assert_eq(tgt(id, 0, NULL, 0).step, 3);
	restart();
	cr_assert_eq(fk.n_stopping, 2);
	cr_assert_eq(fk.n_stop, 0);
	cr_assert_eq(fk.n_start, 2);
	cr_assert_eq(fk.start[0].idx, 0);
	cr_assert(fk.start[0].recovering);
	cr_assert_eq(fk.start[0].step, 3);
	cr_assert_eq(fk.start[0].attempts, 1);
	cr_assert_eq(fk.start[1].idx, 2);
	cr_assert(fk.start[1].recovering);
	cr_assert_eq(fk.start[1].step, 0);
	cr_assert_eq(fk.start[1].attempts, 1);
	assert_tgt(id, 0, STORE_TGT_ACTIVE, 1);

	end(id, 0, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.n_start, 3);
	cr_assert_eq(fk.start[2].idx, 3);
	cr_assert_not(fk.start[2].recovering);
	cr_assert_eq(fk.start[2].attempts, 1);
	end(id, 2, GW_JOB_OK, NULL, NULL);
	end(id, 3, GW_JOB_OK, NULL, NULL);
	cr_assert_eq(fk.n_start, 3); /* target 1 (done before the restart) never again */
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_DONE);
	fx_close();
}

/* A job "cancelling" at the restart recovers its active target, then is CANCELLED. */
Test(jobs, restart_while_cancelling)
{
	char err[STORE_JOB_ERROR_MAX];
	uint64_t id;

	fx_open(1, 4);
	fk.commit[0] = 2;
	id = mk_job("fake", 2, "k");
	job_cmd(GW_CMD_JOB_CANCEL, id, 0, "cancelling");
	restart();
	cr_assert_eq(fk.n_stopping, 1);
	cr_assert_eq(fk.n_start, 1);
	cr_assert(fk.start[0].recovering);
	cr_assert_eq(fk.start[0].step, 2);
	cr_assert_eq(job_state(id, err, sizeof(err)), STORE_JOB_PAUSED);
	cr_assert_str_eq(err, "cancel requested");
	job_cmd(GW_CMD_JOB_GET, id, 0, "cancelling");
	/* The recovered attempt is still a cancelled one: a failure ends it CANCELLED, as
	 * without the restart (cancel_waits_for_attempt_past_no_return). */
	cr_assert(gw_jobs_run(F.jobs, id, 0)->cancelled, "the kind is not told of the cancel");
	end(id, 0, GW_JOB_FAIL, "lost", NULL);
	assert_tgt(id, 0, STORE_TGT_CANCELLED, 1);
	assert_tgt(id, 1, STORE_TGT_CANCELLED, 0);
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_CANCELLED);
	cr_assert_eq(fk.n_start, 1);
	fx_close();
}

/*
 * A job "cancelling" at the restart whose active target had committed no
 * step yet (step 0: the kind ended nothing in stop(false)) must still end
 * CANCELLED: nothing is left to finish.
 */
Test(jobs, restart_while_cancelling_at_step_0)
{
	uint64_t id;

	fx_open(1, 4);
	id = mk_job("fake", 2, "k");
	job_cmd(GW_CMD_JOB_CANCEL, id, 0, "cancelling");
	assert_tgt(id, 0, STORE_TGT_ACTIVE, 1);
	restart();
	if (fk.n_start == 1) {
		cr_assert(fk.start[0].recovering);
		end(id, 0, GW_JOB_RETRY, "lost", NULL);
	}
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_CANCELLED,
		     "the job stays cancelling forever (%u starts after the restart)", fk.n_start);
	assert_tgt(id, 0, STORE_TGT_CANCELLED, 1);
	assert_tgt(id, 1, STORE_TGT_CANCELLED, 0);
	cr_assert_null(gw_jobs_run(F.jobs, id, 0));
	fx_close();
}

/*
 * A restart between the cancel's write-ahead mark and the cancellation of
 * the pending targets: the restarted engine finishes the cancel (the
 * pending target is cancelled, never started).
 */
Test(jobs, restart_after_cancel_mark_only)
{
	uint64_t id;

	fx_open(1, 4);
	fk.commit[0] = 2;
	id = mk_job("fake", 2, "k");
	cr_assert_eq(store_job_state_set(F.core.st, id, STORE_JOB_PAUSED, "cancel requested"), 0);
	restart();
	cr_assert_eq(fk.n_start, 1);
	cr_assert_eq(fk.start[0].idx, 0);
	end(id, 0, GW_JOB_OK, NULL, NULL);
	assert_tgt(id, 1, STORE_TGT_CANCELLED, 0);
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_CANCELLED);
	fx_close();
}

/*
 * A restart between the last target's end and the job's DONE (all targets
 * finished in the store, the job still RUNNING): the job ends DONE.
 */
Test(jobs, restart_after_last_target_ended)
{
	struct store_job_target t;
	uint64_t id;

	fx_open(1, 4);
	id = mk_job("fake", 1, "d");
	gw_jobs_free(F.jobs);
	F.jobs = NULL;
	t = tgt(id, 0, NULL, 0);
	t.state = STORE_TGT_DONE;
	cr_assert_eq(store_job_target_update(F.core.st, &t), 0);
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_RUNNING);
	fk.n_start = 0;
	engine_new();
	cr_assert_eq(fk.n_start, 0);
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_DONE, "the job stays running for ever");
	fx_close();
}

/* --- Single targets ---------------------------------------------------------------- */

static bool name_is(const struct store_job_target *t, void *arg)
{
	return !strcmp(t->name, arg);
}

static bool run_name_is(struct gw_job_run *run, void *arg)
{
	return name_is(&run->t, arg);
}

Test(jobs, any_target_and_cancel_target)
{
	uint64_t id;

	fx_open(1, 4);
	fk.commit[0] = 1;
	id = mk_job("fake", 3, "n");
	cr_assert(gw_jobs_any_target(F.jobs, &fake_kind, name_is, "n2"));
	cr_assert(gw_jobs_any_target(F.jobs, NULL, name_is, "n0"));
	cr_assert_not(gw_jobs_any_target(F.jobs, &other_kind, name_is, "n2"));
	cr_assert_not(gw_jobs_any_target(F.jobs, NULL, name_is, "zz"));
	cr_assert_eq(gw_jobs_find(F.jobs, &fake_kind, run_name_is, "n0"),
		     gw_jobs_run(F.jobs, id, 0));
	cr_assert_null(gw_jobs_find(F.jobs, NULL, run_name_is, "n1"), "n1 has no attempt");
	cr_assert_null(gw_jobs_find(F.jobs, &other_kind, run_name_is, "n0"));
	/* progress: a job.target event of the committed target, without a commit */
	json_array_clear(F.ev);
	gw_jobs_progress(gw_jobs_run(F.jobs, id, 0));
	cr_assert_eq(json_array_size(F.ev), 1);
	cr_assert_eq(int_of(last_event("job.target", 0), "step"), 1);
	cr_assert_str_eq(str_of(last_event("job.target", 0), "state"), "active");

	cr_assert_eq(gw_jobs_cancel_target(F.jobs, id, 2), 0);
	assert_tgt(id, 2, STORE_TGT_CANCELLED, 0);
	cr_assert_str_eq(str_of(last_event("job.target", 2), "state"), "cancelled");
	cr_assert_not(gw_jobs_any_target(F.jobs, NULL, name_is, "n2"));
	cr_assert_eq(gw_jobs_cancel_target(F.jobs, id, 2), -EALREADY);
	cr_assert_eq(gw_jobs_cancel_target(F.jobs, id, 9), -ENOENT);

	/* Active, and stop() does not end it: it runs to its end (and its result stands). */
	cr_assert_eq(gw_jobs_cancel_target(F.jobs, id, 0), -EINPROGRESS);
	cr_assert_eq(fk.n_stop, 1);
	assert_tgt(id, 0, STORE_TGT_ACTIVE, 1);
	end(id, 0, GW_JOB_OK, NULL, NULL);
	assert_tgt(id, 0, STORE_TGT_DONE, 1);
	cr_assert_eq(fk.n_start, 2);

	/* Active, and stop() ends it: CANCELLED; the job, all settled, is DONE. */
	fk.stop_ends = true;
	cr_assert_eq(gw_jobs_cancel_target(F.jobs, id, 1), 0);
	assert_tgt(id, 1, STORE_TGT_CANCELLED, 1);
	cr_assert_eq(job_state(id, NULL, 0), STORE_JOB_DONE);
	cr_assert_eq(gw_jobs_cancel_target(F.jobs, id, 1), -EALREADY);
	cr_assert_eq(gw_jobs_cancel_target(F.jobs, id + 100, 0), -ENOENT, "no such job");
	cr_assert_not(gw_jobs_any_target(F.jobs, NULL, name_is, "n1"));
	fx_close();
}

/* --- REST commands ------------------------------------------------------------------- */

Test(jobs, rest_commands)
{
	struct gw_cmd *c;
	json_t *o, *tg, *counts;
	char ids[24];
	uint64_t a, b;

	fx_open(1, 4);
	a = mk_job("fake", 2, "x");
	b = mk_job("other", 1, "y");
	end(a, 0, GW_JOB_OK, NULL, "{\"address\":9}");

	snprintf(ids, sizeof(ids), "%llu", (unsigned long long)a);
	c = cmd(GW_CMD_JOB_GET, json_pack("{s:s}", "id", ids));
	cr_assert_eq(c->status, 0, "%s", c->detail);
	o = c->result;
	cr_assert_eq(int_of(o, "id"), (json_int_t)a);
	cr_assert_str_eq(str_of(o, "kind"), "fake");
	cr_assert_str_eq(str_of(o, "state"), "running");
	cr_assert_str_eq(str_of(o, "created_by"), "tester");
	cr_assert(json_is_string(json_object_get(o, "created_at")));
	cr_assert(json_is_null(json_object_get(o, "finished_at")));
	cr_assert(json_is_null(json_object_get(o, "error")));
	cr_assert_eq(int_of(json_object_get(o, "params"), "p"), 7);
	cr_assert_eq(int_of(o, "total"), 2);
	counts = json_object_get(o, "counts");
	cr_assert_eq(int_of(counts, "done"), 1);
	cr_assert_eq(int_of(counts, "pending") + int_of(counts, "active"), 1);
	cr_assert_eq(int_of(counts, "failed"), 0);
	cr_assert_eq(int_of(counts, "cancelled"), 0);
	cr_assert_eq(json_array_size(json_object_get(o, "targets")), 2);
	tg = json_array_get(json_object_get(o, "targets"), 0);
	cr_assert_eq(int_of(tg, "job"), (json_int_t)a);
	cr_assert_eq(int_of(tg, "index"), 0);
	cr_assert_str_eq(str_of(tg, "state"), "done");
	cr_assert_str_eq(str_of(tg, "name"), "x0");
	cr_assert_eq(int_of(tg, "node"), 0x100);
	cr_assert_eq(int_of(tg, "attempts"), 1);
	cr_assert_eq(int_of(json_object_get(tg, "result"), "address"), 9);
	cr_assert(json_is_null(json_object_get(tg, "uuid")));
	cr_assert(json_is_null(json_object_get(tg, "next_attempt_at")));
	cr_assert(json_is_null(json_object_get(tg, "error")));
	gw_cmd_put(c);

	c = cmd(GW_CMD_JOB_LIST, json_pack("{s:i}", "limit", 1));
	cr_assert_eq(c->status, 0, "%s", c->detail);
	cr_assert_eq(int_of(c->result, "total"), 2);
	cr_assert_eq(int_of(c->result, "limit"), 1);
	cr_assert_eq(int_of(c->result, "offset"), 0);
	o = json_object_get(c->result, "items");
	cr_assert_eq(json_array_size(o), 1);
	cr_assert_eq(int_of(json_array_get(o, 0), "id"), (json_int_t)b, "newest first");
	cr_assert_null(json_object_get(json_array_get(o, 0), "targets"));
	gw_cmd_put(c);

	c = cmd(GW_CMD_JOB_LIST, json_pack("{s:s}", "kind", "fake"));
	cr_assert_eq(c->status, 0);
	cr_assert_eq(int_of(c->result, "total"), 1);
	cr_assert_eq(int_of(json_array_get(json_object_get(c->result, "items"), 0), "id"),
		     (json_int_t)a);
	cr_assert_eq(int_of(c->result, "limit"), 50);
	gw_cmd_put(c);

	job_cmd(GW_CMD_JOB_PAUSE, b, 0, "paused");
	job_cmd(GW_CMD_JOB_RESUME, b, 0, "running");
	job_cmd(GW_CMD_JOB_GET, 99, -ENOENT, NULL);
	job_cmd(GW_CMD_JOB_PAUSE, 99, -ENOENT, NULL);
	c = cmd(GW_CMD_JOB_GET, json_pack("{s:s}", "id", "1x"));
	cr_assert_eq(c->status, -ENOENT);
	gw_cmd_put(c);

	end(a, 1, GW_JOB_OK, NULL, NULL);
	job_cmd(GW_CMD_JOB_GET, a, 0, "done");
	job_cmd(GW_CMD_JOB_PAUSE, a, -EALREADY, NULL);
	c = cmd(GW_CMD_JOB_LIST, json_pack("{s:b}", "unfinished", 1));
	cr_assert_eq(c->status, 0);
	cr_assert_eq(int_of(c->result, "total"), 1);
	cr_assert_eq(int_of(json_array_get(json_object_get(c->result, "items"), 0), "id"),
		     (json_int_t)b);
	gw_cmd_put(c);
	fx_close();
}
