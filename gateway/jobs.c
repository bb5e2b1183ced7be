/*
 * The job engine (jobs.h): persistent jobs mirrored in memory while they
 * are unfinished, a fair scheduler over them, attempts, retries, pause,
 * resume, cancel and resumption after a restart.
 *
 * Memory mirrors storage: every change of a target is written to the
 * store first (store_job_target_update), then to the mirror, then
 * published.  Finished jobs leave memory; the API reads them from the store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/jobs.h"
#include "gateway/jobs_int.h"
#include "gateway/log.h"
#include "gateway/util.h"

#define JOBS_RETRY_CAP_MS 300000 /* the longest delay between two attempts */
#define JOBS_NOBUFS_MS 250       /* a full radio queue is tried again this soon */
#define JOBS_BEARER_POLL_MS 200  /* how often a bearer that is not ready is looked at */

static void schedule(struct gw_jobs *J);
static void job_check_end(struct gw_jobs *J, struct job_mem *j);
static bool has_active(const struct job_mem *j);
static bool has_recoverable(const struct job_mem *j);

/* --- Memory ------------------------------------------------------------------------------ */

static void job_mem_free(struct job_mem *j)
{
	size_t i;

	if (!j) {
		return;
	}
	for (i = 0; j->tparams && i < j->n; i++) {
		json_decref(j->tparams[i]);
	}
	free(j->tparams);
	store_job_targets_free(j->t, j->n);
	free(j->run);
	free(j->recover);
	free(j->busy_pass);
	free(j->order);
	free(j->keys);
	json_decref(j->params);
	free(j);
}

const struct gw_job_kind *jobs_kind_by_name(const struct gw_jobs *J, const char *name)
{
	size_t i;

	for (i = 0; i < J->n_kinds; i++) {
		if (!strcmp(J->kinds[i]->name, name)) {
			return J->kinds[i];
		}
	}
	return NULL;
}

struct job_mem *jobs_find(const struct gw_jobs *J, uint64_t id)
{
	struct job_mem *j;

	for (j = J->list; j && j->id != id; j = j->next) {
	}
	return j;
}

/* Read job id and its targets from the store into memory (appended to the rotation). */
static int job_load(struct gw_jobs *J, const struct store_job *sj)
{
	struct job_mem *j = calloc(1, sizeof(*j)), **tail;
	size_t i;
	int r;

	if (!j) {
		return -ENOMEM;
	}
	j->id = sj->id;
	j->state = sj->state;
	j->kind = jobs_kind_by_name(J, sj->kind);
	j->cancelling = sj->state == STORE_JOB_PAUSED && !strcmp(sj->error, JOBS_CANCEL_MARK);
	j->params = json_loads(sj->params ? sj->params : "{}", 0, NULL);
	r = store_job_targets(J->core->st, sj->id, &j->t, &j->n);
	if (!r && (!j->kind || !j->params)) {
		r = -EINVAL;
	}
	if (!r) {
		j->tparams = calloc(j->n ? j->n : 1, sizeof(*j->tparams));
		j->run = calloc(j->n ? j->n : 1, sizeof(*j->run));
		j->recover = calloc(j->n ? j->n : 1, sizeof(*j->recover));
		j->busy_pass = calloc(j->n ? j->n : 1, sizeof(*j->busy_pass));
		j->order = calloc(j->n ? j->n : 1, sizeof(*j->order));
		j->keys = calloc(j->n ? j->n : 1, sizeof(*j->keys));
		r = j->tparams && j->run && j->recover && j->busy_pass && j->order && j->keys
			? 0
			: -ENOMEM;
	}
	for (i = 0; !r && i < j->n; i++) {
		j->tparams[i] = json_loads(j->t[i].params ? j->t[i].params : "{}", 0, NULL);
		if (!j->tparams[i]) {
			j->tparams[i] = json_object();
		}
		j->recover[i] = j->t[i].state == STORE_TGT_ACTIVE;
	}
	if (r) {
		job_mem_free(j);
		return r;
	}
	for (tail = &J->list; *tail; tail = &(*tail)->next) {
	}
	*tail = j;
	return 0;
}

static void job_unlink(struct gw_jobs *J, struct job_mem *j)
{
	struct job_mem **p;

	for (p = &J->list; *p; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			j->next = NULL;
			return;
		}
	}
}

/* Move j to the end of the rotation: it was just served. */
static void job_rotate(struct gw_jobs *J, struct job_mem *j)
{
	struct job_mem **tail;

	job_unlink(J, j);
	for (tail = &J->list; *tail; tail = &(*tail)->next) {
	}
	*tail = j;
}

static void publish_job(struct gw_jobs *J, uint64_t id)
{
	struct store_job sj;
	size_t c[STORE_TGT_STATES], total = 0, i;

	if (store_job_get(J->core->st, id, &sj) != 0) {
		return;
	}
	if (store_job_counts(J->core->st, id, c) == 0) {
		for (i = 0; i < STORE_TGT_STATES; i++) {
			total += c[i];
		}
		gw_core_publish(J->core, "job.updated", jobs_job_json(&sj, c, total));
	}
	store_job_clear(&sj);
}

static void publish_target(struct gw_jobs *J, const struct store_job_target *t)
{
	gw_core_publish(J->core, "job.target", gw_jobs_target_json(J, t));
}

/* --- Engine ------------------------------------------------------------------------------ */

struct gw_jobs *gw_jobs_new(struct gw_core *core)
{
	struct gw_jobs *J = calloc(1, sizeof(*J));

	if (J) {
		J->core = core;
	}
	return J;
}

int gw_jobs_register(struct gw_jobs *J, const struct gw_job_kind *kind)
{
	if (!kind || !kind->name || !kind->start || !kind->stop || J->n_kinds >= JOBS_KINDS_MAX ||
	    jobs_kind_by_name(J, kind->name)) {
		return -EINVAL;
	}
	J->kinds[J->n_kinds++] = kind;
	return 0;
}

/*
 * The restart may have come between a cancel's intent and the cancel of
 * the jobs it started: a cancelling job's kind cancels them again.  By id,
 * since a hook may end (and free) other jobs of the list.
 */
static void resume_cancel_hooks(struct gw_jobs *J)
{
	struct job_mem *jm;
	uint64_t *ids;
	size_t n = 0, i;

	for (jm = J->list; jm; jm = jm->next) {
		n += jm->cancelling && jm->kind->cancelled;
	}
	ids = n ? calloc(n, sizeof(*ids)) : NULL;
	if (!ids) {
		return;
	}
	n = 0;
	for (jm = J->list; jm; jm = jm->next) {
		if (jm->cancelling && jm->kind->cancelled) {
			ids[n++] = jm->id;
		}
	}
	for (i = 0; i < n; i++) {
		jm = jobs_find(J, ids[i]);
		if (jm) {
			jm->kind->cancelled(jm->kind->ctx, jm->id);
		}
	}
	free(ids);
}

int gw_jobs_resume(struct gw_jobs *J)
{
	struct store_job_filter f = {.unfinished_only = true};
	struct store_job *list = NULL;
	struct job_mem *jm, *next;
	size_t n = 0, i, k, recovering = 0;
	int r;

	r = store_job_list(J->core->st, &f, &list, &n);
	if (r) {
		log_warnx("jobs: cannot read unfinished jobs: %s", store_strerror(r));
		return r;
	}
	/* Oldest first, so that the rotation serves them in the order they came. */
	for (i = n; i-- > 0;) {
		r = job_load(J, &list[i]);
		if (r) {
			log_warnx("job %llu (%s) cannot be resumed: %s",
				  (unsigned long long)list[i].id, list[i].kind,
				  r == -EINVAL ? "unknown kind or bad parameters" : strerror(-r));
			(void)store_job_state_set(J->core->st, list[i].id, STORE_JOB_CANCELLED,
						  "cannot be resumed by this version of meshgw");
			continue;
		}
		{
			struct job_mem *j = jobs_find(J, list[i].id);

			for (k = 0; k < j->n; k++) {
				recovering += j->recover[k];
			}
		}
	}
	if (n) {
		log_info("jobs: %zu unfinished job(s) resumed, %zu target(s) to recover", n,
			 recovering);
	}
	store_jobs_free(list, n);
	/*
	 * A job whose end was not recorded before the restart ends now: one
	 * whose targets all finished is DONE; a cancelling one resumes only
	 * the attempts past step 0 (eligible()), and with none of those it
	 * has nothing left to finish: it is CANCELLED.  Else it would wait
	 * for ever.
	 */
	resume_cancel_hooks(J);
	for (jm = J->list; jm; jm = next) {
		next = jm->next;
		if (!jm->cancelling || !has_recoverable(jm)) {
			job_check_end(J, jm);
		}
	}
	J->resumed = true;
	schedule(J);
	return 0;
}

static bool job_settled(const struct job_mem *j)
{
	size_t i;

	for (i = 0; i < j->n; i++) {
		if (j->t[i].state == STORE_TGT_PENDING || j->t[i].state == STORE_TGT_ACTIVE) {
			return false;
		}
	}
	return true;
}

/* An attempt runs, or a step committed before a restart waits to be finished. */
static bool has_active(const struct job_mem *j)
{
	size_t i;

	for (i = 0; i < j->n; i++) {
		if (j->run[i] ||
		    (j->recover[i] && j->t[i].step > 0 && j->t[i].state == STORE_TGT_ACTIVE)) {
			return true;
		}
	}
	return false;
}

/* Has j an attempt under way, or one past step 0 to recover after a restart? */
static bool has_recoverable(const struct job_mem *j)
{
	size_t i;

	for (i = 0; i < j->n; i++) {
		if (j->run[i] || (j->recover[i] && j->t[i].step > 0)) {
			return true;
		}
	}
	return false;
}

/* The kind's position among the registered ones, for /metrics. */
static size_t kind_index(const struct gw_jobs *J, const struct gw_job_kind *kind)
{
	size_t k;

	for (k = 0; k < J->n_kinds && J->kinds[k] != kind; k++) {
	}
	return k;
}

/* A job whose targets all finished is DONE; a cancelling one is CANCELLED once idle. */
static void job_check_end(struct gw_jobs *J, struct job_mem *j)
{
	int r = 0;

	if (j->finishing) {
		return;
	}
	if (j->cancelling && !has_active(j)) {
		r = store_job_state_set(J->core->st, j->id, STORE_JOB_CANCELLED, "cancelled");
	} else if (!j->cancelling && job_settled(j)) {
		r = store_job_state_set(J->core->st, j->id, STORE_JOB_DONE, NULL);
	} else {
		return;
	}
	if (r && r != -EALREADY) {
		log_warnx("job %llu: cannot record its end: %s", (unsigned long long)j->id,
			  store_strerror(r));
		return;
	}
	gw_stats_end(J->core->stats.jobs_ended, kind_index(J, j->kind),
		     j->cancelling ? GW_STATS_END_CANCELLED : GW_STATS_END_DONE);
	publish_job(J, j->id);
	job_unlink(J, j);
	job_mem_free(j);
}

/* Write t to the store, then to the mirror (params/result stay the mirror's). */
static int target_write(struct gw_jobs *J, struct job_mem *j, const struct store_job_target *t)
{
	struct store_job_target *m = &j->t[t->idx];
	char *params = m->params, *result = m->result;
	int r = store_job_target_update(J->core->st, t);

	if (r) {
		return r;
	}
	if (t->result) {
		free(result);
		result = t->result[0] ? strdup(t->result) : NULL;
	}
	*m = *t;
	m->params = params;
	m->result = result;
	m->updated_ms = gw_wall_ms();
	return 0;
}

int gw_jobs_commit(struct gw_job_run *run)
{
	struct gw_jobs *J = run->jobs;
	struct job_mem *j = jobs_find(J, run->t.job);
	int r;

	if (!j) {
		return -ENOENT;
	}
	r = target_write(J, j, &run->t);
	if (r) {
		log_warnx("job %llu target %u: cannot commit step %d: %s",
			  (unsigned long long)run->t.job, run->t.idx, run->t.step,
			  store_strerror(r));
		return r;
	}
	publish_target(J, &j->t[run->t.idx]);
	return 0;
}

void gw_jobs_progress(struct gw_job_run *run)
{
	struct job_mem *j = jobs_find(run->jobs, run->t.job);

	if (j) {
		publish_target(run->jobs, &j->t[run->t.idx]);
	}
}

static uint64_t backoff_ms(const struct gw_jobs *J, uint32_t attempts)
{
	uint64_t d = (uint64_t)J->core->conf.job_retry_s * 1000;

	while (attempts-- > 1 && d < JOBS_RETRY_CAP_MS) {
		d *= 2;
	}
	return d < JOBS_RETRY_CAP_MS ? d : JOBS_RETRY_CAP_MS;
}

void gw_jobs_end(struct gw_job_run *run, enum gw_job_outcome o, const char *error,
		 const char *result)
{
	struct gw_jobs *J = run->jobs;
	struct job_mem *j = jobs_find(J, run->t.job);
	struct store_job_target t = run->t;
	char msg[STORE_JOB_ERROR_MAX];
	int r;

	snprintf(msg, sizeof(msg), "%s", error ? error : t.error);
	t.params = NULL;
	t.result = (char *)(o == GW_JOB_OK && result ? result : NULL);
	switch (o) {
	case GW_JOB_OK:
		t.state = STORE_TGT_DONE;
		msg[0] = '\0';
		break;
	case GW_JOB_RETRY:
		if ((t.attempts < J->core->conf.job_attempts || run->kind->retry_always) &&
		    !run->cancelled) {
			t.state = STORE_TGT_PENDING;
			t.next_ms = gw_wall_ms() + backoff_ms(J, t.attempts);
			break;
		}
		if (!run->cancelled) {
			char why[STORE_JOB_ERROR_MAX];

			snprintf(why, sizeof(why), "gave up after %u attempts: %.200s", t.attempts,
				 msg);
			memcpy(msg, why, sizeof(msg));
		}
		t.state = STORE_TGT_FAILED;
		break;
	case GW_JOB_FAIL:
		t.state = STORE_TGT_FAILED;
		break;
	case GW_JOB_WAIT:
		t.state = STORE_TGT_PENDING;
		t.next_ms = 0;
		t.attempts -= t.attempts > 0;
		break;
	}
	if (run->cancelled && o != GW_JOB_OK) {
		t.state = STORE_TGT_CANCELLED;
	}
	snprintf(t.error, sizeof(t.error), "%s", msg);
	if (t.state != STORE_TGT_PENDING) {
		gw_stats_end(J->core->stats.targets_ended, kind_index(J, run->kind),
			     t.state == STORE_TGT_DONE     ? GW_STATS_END_DONE
			     : t.state == STORE_TGT_FAILED ? GW_STATS_END_FAILED
							   : GW_STATS_END_CANCELLED);
		/* A finished target keeps no authentication value at rest. */
		(void)store_job_secret_wipe(J->core->st, t.job, t.idx, STORE_JOB_SLOT_AUTH);
	}
	if (j) {
		r = target_write(J, j, &t);
		if (r) {
			log_warnx("job %llu target %u: cannot record the end of an attempt: %s",
				  (unsigned long long)t.job, t.idx, store_strerror(r));
		}
		j->run[t.idx] = NULL;
		j->recover[t.idx] = false;
		publish_target(J, &j->t[t.idx]);
	}
	J->active -= !run->released;
	J->running--;
	free(run);
	if (j) {
		uint64_t id = j->id;

		job_check_end(J, j);
		schedule(J);
		/* Counts as they are once the freed slot was given to the next target. */
		if (jobs_find(J, id)) {
			publish_job(J, id);
		}
		return;
	}
	schedule(J);
}

/* Start target idx of j; the start() result (0 started, -EBUSY, -ENOBUFS, other failed). */
static int start_target(struct gw_jobs *J, struct job_mem *j, size_t idx)
{
	struct gw_job_run *run = calloc(1, sizeof(*run));
	uint64_t jid = j->id;
	int r;

	if (!run) {
		return -ENOMEM;
	}
	run->jobs = J;
	run->kind = j->kind;
	run->t = j->t[idx];
	run->t.params = NULL;
	run->t.result = NULL;
	run->params = j->tparams[idx];
	run->job_params = j->params;
	run->recovering = j->recover[idx];
	/* A cancelling job resumes only attempts past their point of no return: still cancelled. */
	run->cancelled = j->cancelling;
	if (!run->recovering) {
		run->t.attempts++;
		run->t.error[0] = '\0';
	}
	run->t.state = STORE_TGT_ACTIVE;
	j->run[idx] = run;
	J->active++;
	J->running++;
	r = j->kind->start(j->kind->ctx, run);
	if (r == -EBUSY || r == -ENOBUFS) {
		j->run[idx] = NULL;
		J->active -= !run->released;
		J->running--;
		free(run);
		/* A step the kind committed on the way stays: resume from it next time. */
		j->recover[idx] = j->t[idx].state == STORE_TGT_ACTIVE;
		return r;
	}
	if (r) {
		if (!run->t.error[0]) {
			snprintf(run->t.error, sizeof(run->t.error), "%s", strerror(-r));
		}
		/* A request that cannot be carried out as it is fails; anything else is retried. */
		gw_jobs_end(run,
			    r == -EEXIST || r == -EINVAL || r == -ENOTSUP || r == -EACCES ||
				    r == -ENOENT
				? GW_JOB_FAIL
				: GW_JOB_RETRY,
			    NULL, NULL);
		return 0;
	}
	/* start() may have ended the attempt already: run (and j, if that ended the job) is freed.
	 */
	if (jobs_find(J, jid) != j || j->run[idx] != run) {
		return 0;
	}
	/* The attempt counts from now: a crash from here on resumes it (recover). */
	j->recover[idx] = true;
	(void)gw_jobs_commit(run);
	return 0;
}

static void on_timer(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct gw_jobs *J = ctx;

	(void)loop;
	(void)id;
	J->timer = 0;
	schedule(J);
}

static void arm(struct gw_jobs *J, uint64_t wall_when)
{
	uint64_t now = gw_wall_ms();
	uint64_t at = gw_core_now(J->core) + (wall_when > now ? wall_when - now : 0);

	if (J->timer && J->timer_when <= at) {
		return;
	}
	if (J->timer) {
		(void)gw_loop_timer_cancel(J->core->loop, J->timer);
	}
	J->timer = gw_loop_timer_at(J->core->loop, at, on_timer, J);
	J->timer_when = at;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The order j's targets are tried in this pass: the job's, or by the kind's
 * rank, sorted once per pass (a target's rank changes with what is heard,
 * which happens between passes).
 */
static const uint32_t *order_of(const struct gw_jobs *J, struct job_mem *j)
{
	size_t i;

	if (!j->kind->rank || j->order_pass == J->pass) {
		return j->order_pass ? j->order : NULL;
	}
	/* By rank, the job's order among equals: the index breaks ties in the key. */
	for (i = 0; i < j->n; i++) {
		uint64_t rank =
		    j->t[i].state == STORE_TGT_PENDING ? j->kind->rank(j->kind->ctx, &j->t[i]) : 0;

		j->keys[i] = rank << 32 | i;
	}
	qsort(j->keys, j->n, sizeof(*j->keys), cmp_u64);
	for (i = 0; i < j->n; i++) {
		j->order[i] = (uint32_t)j->keys[i];
	}
	j->order_pass = J->pass;
	return j->order;
}

/* The first target of j that may start now; *wake = the earliest later start. */
static long eligible(const struct gw_jobs *J, struct job_mem *j, uint64_t now, uint64_t *wake)
{
	const uint32_t *order;
	size_t k, i;

	if (j->finishing) {
		return -1; /* its targets are being left out: none starts meanwhile */
	}
	order = order_of(J, j);
	for (k = 0; k < j->n; k++) {
		const struct store_job_target *t;

		i = order ? order[k] : k;
		t = &j->t[i];

		if (j->run[i] || j->busy_pass[i] == J->pass) {
			continue;
		}
		/* A paused or cancelling job still finishes the steps it had begun. */
		if (j->state != STORE_JOB_RUNNING && !(j->recover[i] && t->step > 0)) {
			continue;
		}
		if (t->state == STORE_TGT_ACTIVE && j->recover[i]) {
			return (long)i;
		}
		if (t->state != STORE_TGT_PENDING) {
			continue;
		}
		if (t->next_ms > now) {
			*wake = t->next_ms < *wake ? t->next_ms : *wake;
			continue;
		}
		return (long)i;
	}
	return -1;
}

static void schedule(struct gw_jobs *J)
{
	uint64_t now = gw_wall_ms(), wake = UINT64_MAX;
	unsigned cap = J->core->conf.max_sessions;
	unsigned all = GW_JOBS_RUNNING_FACTOR * cap;
	bool progress = true;

	if (!J->resumed || J->stopping) {
		return;
	}
	/*
	 * Without a radio every attempt would fail at its first PDU and use up
	 * an attempt for nothing (a restart before the bearer attached, an HCI
	 * controller re-opening): wait for it.
	 */
	if (J->core->bearer && !gw_bearer_ready(J->core->bearer)) {
		arm(J, now + JOBS_BEARER_POLL_MS);
		return;
	}
	if (J->scheduling) {
		J->again = true; /* an attempt ended inside a start(): look once more */
		return;
	}
	J->scheduling = true;
	J->pass++;
	do {
		J->again = false;
		progress = true;
		while (progress && J->active < cap && J->running < all) {
			struct job_mem *j;

			progress = false;
			for (j = J->list; j; j = j->next) {
				long i = eligible(J, j, now, &wake);
				uint64_t jid = j->id;
				struct job_mem *still;
				int r;

				if (i < 0) {
					continue;
				}
				r = start_target(J, j, (size_t)i);
				progress = true;
				if (r == -EBUSY) {
					j->busy_pass[i] = J->pass;
					continue;
				}
				if (r == -ENOBUFS) {
					wake = now + JOBS_NOBUFS_MS;
					progress = false;
					break;
				}
				/* Served: the next slot goes to the next job (fair rotation). */
				still = jobs_find(J, jid);
				if (still) {
					job_rotate(J, still);
				}
				break;
			}
		}
	} while (J->again && J->active < cap && J->running < all);
	J->scheduling = false;
	if (wake != UINT64_MAX) {
		arm(J, wake);
	}
}

void gw_jobs_kick(struct gw_jobs *J)
{
	schedule(J);
}

int gw_jobs_create(struct gw_jobs *J, const char *kind, json_t *params, const char *created_by,
		   const struct store_job_target_new *t, size_t n, uint64_t *id)
{
	char *text = json_dumps(params ? params : json_object(), JSON_COMPACT);
	struct store_job sj;
	int r;

	if (!jobs_kind_by_name(J, kind)) {
		free(text);
		return -EINVAL;
	}
	r = text ? store_job_create(J->core->st, kind, text, created_by, t, n, id) : -ENOMEM;
	free(text);
	if (r) {
		return r;
	}
	r = store_job_get(J->core->st, *id, &sj);
	if (!r) {
		r = job_load(J, &sj);
		store_job_clear(&sj);
	}
	if (r) {
		return r;
	}
	schedule(J);
	/* Counts as they are once the first targets started. */
	publish_job(J, *id);
	return 0;
}

struct gw_job_run *gw_jobs_run(struct gw_jobs *J, uint64_t job, uint32_t idx)
{
	struct job_mem *j = jobs_find(J, job);

	return j && idx < j->n ? j->run[idx] : NULL;
}

struct gw_job_run *gw_jobs_find(struct gw_jobs *J, const struct gw_job_kind *kind,
				bool (*fn)(struct gw_job_run *run, void *arg), void *arg)
{
	struct job_mem *j;
	size_t i;

	for (j = J->list; j; j = j->next) {
		if (kind && j->kind != kind) {
			continue;
		}
		for (i = 0; i < j->n; i++) {
			if (j->run[i] && fn(j->run[i], arg)) {
				return j->run[i];
			}
		}
	}
	return NULL;
}

bool gw_jobs_any_target(struct gw_jobs *J, const struct gw_job_kind *kind,
			bool (*fn)(const struct store_job_target *t, void *arg), void *arg)
{
	struct job_mem *j;
	size_t i;

	for (j = J->list; j; j = j->next) {
		for (i = 0; (!kind || j->kind == kind) && i < j->n; i++) {
			if ((j->t[i].state == STORE_TGT_PENDING ||
			     j->t[i].state == STORE_TGT_ACTIVE) &&
			    (!fn || fn(&j->t[i], arg))) {
				return true;
			}
		}
	}
	return false;
}

int gw_jobs_cancel_target(struct gw_jobs *J, uint64_t job, uint32_t idx)
{
	struct job_mem *j = jobs_find(J, job);
	struct store_job_target t;
	int r;

	if (!j) {
		struct store_job sj;

		/* Not in memory: finished, or no such job. */
		if (store_job_get(J->core->st, job, &sj) != 0) {
			return -ENOENT;
		}
		store_job_clear(&sj);
		return -EALREADY;
	}
	if (idx >= j->n) {
		return -ENOENT;
	}
	if (j->run[idx]) {
		struct gw_job_run *run = j->run[idx];

		run->cancelled = true;
		j->kind->stop(j->kind->ctx, run, false);
		/* Still there: the attempt is past its point of no return. */
		if (jobs_find(J, job) == j && j->run[idx] == run) {
			return -EINPROGRESS;
		}
		return 0;
	}
	if (j->t[idx].state != STORE_TGT_PENDING && j->t[idx].state != STORE_TGT_ACTIVE) {
		return -EALREADY;
	}
	t = j->t[idx];
	t.params = NULL;
	t.result = NULL;
	t.state = STORE_TGT_CANCELLED;
	snprintf(t.error, sizeof(t.error), "cancelled");
	(void)store_job_secret_wipe(J->core->st, job, idx, STORE_JOB_SLOT_AUTH);
	r = target_write(J, j, &t);
	if (r) {
		return r;
	}
	publish_target(J, &j->t[idx]);
	publish_job(J, job);
	job_check_end(J, j);
	return 0;
}

void gw_jobs_release(struct gw_job_run *run)
{
	struct gw_jobs *J = run->jobs;

	if (run->released) {
		return;
	}
	run->released = true;
	J->active--;
	/* From the loop: the kind that calls this is in the middle of its own step. */
	arm(J, gw_wall_ms());
}

unsigned gw_jobs_active(const struct gw_jobs *J, const struct gw_job_kind *kind)
{
	const struct job_mem *j;
	unsigned n = 0;
	size_t i;

	for (j = J->list; j; j = j->next) {
		for (i = 0; (!kind || j->kind == kind) && i < j->n; i++) {
			n += j->run[i] != NULL;
		}
	}
	return n;
}

size_t gw_jobs_count(const struct gw_jobs *J, const char **kinds, unsigned (*by_state)[2],
		     size_t max)
{
	const struct job_mem *j;
	size_t n = J->n_kinds < max ? J->n_kinds : max, k;

	for (k = 0; k < n; k++) {
		kinds[k] = J->kinds[k]->name;
		by_state[k][0] = by_state[k][1] = 0;
	}
	for (j = J->list; j; j = j->next) {
		for (k = 0; k < n && J->kinds[k] != j->kind; k++) {
		}
		if (k < n && (j->state == STORE_JOB_RUNNING || j->state == STORE_JOB_PAUSED)) {
			by_state[k][j->state == STORE_JOB_PAUSED]++;
		}
	}
	return n;
}

void gw_jobs_visit(struct gw_jobs *J, const struct gw_job_kind *kind,
		   void (*fn)(void *arg, const struct store_job_target *t,
			      const struct gw_job_run *run),
		   void *arg)
{
	const struct job_mem *j;
	size_t i;

	for (j = J->list; j; j = j->next) {
		for (i = 0; j->kind == kind && i < j->n; i++) {
			fn(arg, &j->t[i], j->run[i]);
		}
	}
}

void gw_jobs_shutdown(struct gw_jobs *J)
{
	struct job_mem *j;
	size_t i;

	if (!J || J->stopping) {
		return; /* once: each attempt gets one stop(stopping = true) */
	}
	J->stopping = true;
	if (J->timer && J->core->loop) {
		(void)gw_loop_timer_cancel(J->core->loop, J->timer);
		J->timer = 0;
	}
	for (j = J->list; j; j = j->next) {
		for (i = 0; i < j->n; i++) {
			if (j->run[i]) {
				j->kind->stop(j->kind->ctx, j->run[i], true);
			}
		}
	}
}

void gw_jobs_free(struct gw_jobs *J)
{
	struct job_mem *j;
	size_t i;

	if (!J) {
		return;
	}
	gw_jobs_shutdown(J);
	while ((j = J->list)) {
		J->list = j->next;
		for (i = 0; i < j->n; i++) {
			free(j->run[i]); /* the kinds freed their state in stop() */
		}
		job_mem_free(j);
	}
	free(J);
}

/* --- Commands ------------------------------------------------------------------------------ */

/* Answer c with the job's current view. */
static void reply_job(struct gw_jobs *J, struct gw_cmd *c, uint64_t id)
{
	struct store_job sj;
	json_t *o = NULL;

	if (store_job_get(J->core->st, id, &sj) == 0) {
		o = jobs_job_view(J, &sj, false);
		store_job_clear(&sj);
	}
	gw_cmd_complete(J->core->q, c, o ? 0 : -EIO, o, o ? NULL : "cannot read the job");
}

static bool finished_job(struct gw_jobs *J, struct gw_cmd *c, const struct store_job *sj)
{
	if (sj->state == STORE_JOB_DONE || sj->state == STORE_JOB_CANCELLED) {
		gw_cmd_complete(J->core->q, c, -EALREADY, NULL,
				sj->state == STORE_JOB_DONE ? "the job has finished"
							    : "the job was cancelled");
		return true;
	}
	return false;
}

static void set_state(struct gw_jobs *J, struct gw_cmd *c, enum store_job_state want)
{
	struct store_job sj;
	struct job_mem *j;
	int r;

	if (jobs_id_arg(J, c, &sj)) {
		return;
	}
	j = jobs_find(J, sj.id);
	if (finished_job(J, c, &sj) || !j) {
		if (!j && !finished_job(J, c, &sj)) {
			gw_cmd_complete(J->core->q, c, -EIO, NULL, "the job is not loaded");
		}
		store_job_clear(&sj);
		return;
	}
	store_job_clear(&sj);
	if (j->cancelling) {
		gw_cmd_complete(J->core->q, c, -EALREADY, NULL, "the job is being cancelled");
		return;
	}
	r = j->state == want ? 0 : store_job_state_set(J->core->st, j->id, want, NULL);
	if (r) {
		gw_cmd_complete(J->core->q, c, r, NULL, store_strerror(r));
		return;
	}
	j->state = want;
	log_info("job %llu %s", (unsigned long long)j->id,
		 want == STORE_JOB_PAUSED ? "paused" : "resumed");
	publish_job(J, j->id);
	schedule(J);
	reply_job(J, c, j->id);
}

void gw_jobs_cmd_pause(struct gw_jobs *J, struct gw_cmd *c)
{
	set_state(J, c, STORE_JOB_PAUSED);
}

void gw_jobs_cmd_resume(struct gw_jobs *J, struct gw_cmd *c)
{
	set_state(J, c, STORE_JOB_RUNNING);
}

/* The unfinished job the command names, or NULL (c is answered then). */
static struct job_mem *unfinished_job(struct gw_jobs *J, struct gw_cmd *c)
{
	struct store_job sj;
	struct job_mem *j;

	if (jobs_id_arg(J, c, &sj)) {
		return NULL;
	}
	j = jobs_find(J, sj.id);
	if (finished_job(J, c, &sj)) {
		store_job_clear(&sj);
		return NULL;
	}
	store_job_clear(&sj);
	if (!j) {
		gw_cmd_complete(J->core->q, c, -EIO, NULL, "the job is not loaded");
	}
	return j;
}

/*
 * Cancel j: write-ahead the intent first (a restart finishes what was
 * begun and then cancels), then the jobs it started elsewhere (the kind's
 * cancelled hook), then the waiting targets, then the attempts.  j may be
 * freed on return.  0, or the store's error (nothing changed).
 */
static int job_cancel(struct gw_jobs *J, struct job_mem *j)
{
	uint64_t id = j->id;
	size_t i;
	int r = j->cancelling
		    ? 0
		    : store_job_state_set(J->core->st, id, STORE_JOB_PAUSED, JOBS_CANCEL_MARK);

	if (r) {
		return r;
	}
	gw_crash_point("jobs.cancel");
	j->cancelling = true;
	j->state = STORE_JOB_PAUSED;
	if (j->kind->cancelled) {
		j->kind->cancelled(j->kind->ctx, id);
	}
	for (i = 0; i < j->n; i++) {
		struct store_job_target t = j->t[i];

		if (t.state == STORE_TGT_PENDING && !j->run[i]) {
			t.params = NULL;
			t.result = NULL;
			t.state = STORE_TGT_CANCELLED;
			snprintf(t.error, sizeof(t.error), "cancelled");
			(void)store_job_secret_wipe(J->core->st, id, (uint32_t)i,
						    STORE_JOB_SLOT_AUTH);
			if (target_write(J, j, &t) == 0) {
				publish_target(J, &j->t[i]);
			}
		}
	}
	for (i = 0; i < j->n; i++) {
		if (j->run[i] && !j->run[i]->cancelled) {
			j->run[i]->cancelled = true;
			j->kind->stop(j->kind->ctx, j->run[i], false);
			/* stop() may have ended the last attempt, and with it the job */
			if (jobs_find(J, id) != j) {
				break;
			}
		}
	}
	log_info("job %llu cancelled", (unsigned long long)id);
	if (jobs_find(J, id) == j) {
		publish_job(J, id);
		job_check_end(J, j);
	}
	return 0;
}

int gw_jobs_cancel(struct gw_jobs *J, uint64_t id)
{
	struct job_mem *j = jobs_find(J, id);

	return j ? job_cancel(J, j) : -ENOENT;
}

void gw_jobs_cmd_cancel(struct gw_jobs *J, struct gw_cmd *c)
{
	struct job_mem *j = unfinished_job(J, c);
	uint64_t id;
	int r;

	if (!j) {
		return;
	}
	id = j->id;
	r = job_cancel(J, j);
	if (r) {
		gw_cmd_complete(J->core->q, c, r, NULL, store_strerror(r));
		return;
	}
	reply_job(J, c, id);
}

/* Is target i of j chosen by the request's addresses (NULL: every target not done)? */
static bool chosen(const struct job_mem *j, size_t i, const json_t *addresses)
{
	const struct store_job_target *t = &j->t[i];
	size_t k;
	json_t *v;

	if (t->state == STORE_TGT_DONE ||
	    (t->state == STORE_TGT_FAILED && t->step == GW_JOB_STEP_LEFT_OUT)) {
		return false;
	}
	if (!addresses) {
		return true;
	}
	json_array_foreach(addresses, k, v)
	{
		if (t->node && json_integer_value(v) == t->node) {
			return true;
		}
	}
	return false;
}

/*
 * Mark the chosen targets left out and let the kind record it, in one
 * transaction: a restart sees either the job as it was or the decision
 * whole (with the target the kind reopened to carry the job on).
 */
static int leave_out(struct gw_jobs *J, struct job_mem *j, const json_t *addresses, const char *who,
		     char *why, size_t why_len)
{
	struct store_job_target *t = calloc(j->n ? j->n : 1, sizeof(*t));
	uint32_t reopen = UINT32_MAX;
	int32_t step = 0;
	size_t i;
	int r;

	if (!t) {
		return -ENOMEM;
	}
	r = store_begin(J->core->st);
	for (i = 0; i < j->n; i++) {
		t[i] = j->t[i];
		t[i].params = NULL;
		t[i].result = NULL;
		if (r || !chosen(j, i, addresses)) {
			continue;
		}
		t[i].state = STORE_TGT_FAILED;
		t[i].step = GW_JOB_STEP_LEFT_OUT;
		t[i].next_ms = 0;
		snprintf(t[i].error, sizeof(t[i].error), "left out by %.64s: %.160s", who,
			 j->t[i].error[0] ? j->t[i].error : "not finished");
		r = store_job_target_update(J->core->st, &t[i]);
	}
	if (!r) {
		r = j->kind->finish_without(j->kind->ctx, j->id, t, j->n, &reopen, &step, why,
					    why_len);
	}
	if (!r && reopen < j->n) {
		t[reopen].state = STORE_TGT_PENDING;
		t[reopen].step = step;
		t[reopen].next_ms = 0;
		t[reopen].error[0] = '\0';
		r = store_job_target_update(J->core->st, &t[reopen]);
	}
	free(t);
	if (r) {
		(void)store_rollback(J->core->st);
		return r;
	}
	return store_commit(J->core->st);
}

/* Replace j's mirror of its targets with the store's. */
static int job_reread(struct gw_jobs *J, struct job_mem *j)
{
	struct store_job_target *t = NULL;
	size_t n = 0, i;
	int r = store_job_targets(J->core->st, j->id, &t, &n);

	if (!r && n != j->n) {
		r = -EIO;
	}
	if (r) {
		store_job_targets_free(t, n);
		return r;
	}
	for (i = 0; i < n; i++) {
		if (!j->run[i] && t[i].state != STORE_TGT_ACTIVE) {
			j->recover[i] = false;
		}
	}
	store_job_targets_free(j->t, j->n);
	j->t = t;
	return 0;
}

void gw_jobs_cmd_finish_without(struct gw_jobs *J, struct gw_cmd *c)
{
	const json_t *addresses = json_object_get(c->args, "addresses");
	struct job_mem *j = unfinished_job(J, c);
	char why[STORE_JOB_ERROR_MAX] = "";
	size_t i, n = 0;
	uint64_t id;
	int r = 0;

	if (!j) {
		return;
	}
	id = j->id;
	if (!j->kind->finish_without) {
		gw_cmd_complete(J->core->q, c, -ENOTSUP, NULL,
				"jobs of this kind cannot finish without some of their targets");
		return;
	}
	if (j->cancelling) {
		gw_cmd_complete(J->core->q, c, -EALREADY, NULL, "the job is being cancelled");
		return;
	}
	if (!json_is_array(addresses)) {
		addresses = NULL;
	}
	for (i = 0; i < j->n; i++) {
		n += chosen(j, i, addresses);
	}
	if (!n) {
		gw_cmd_complete(J->core->q, c, -EALREADY, NULL,
				addresses ? "no unfinished target of the job has these addresses"
					  : "every target of the job is done or left out already");
		return;
	}
	/*
	 * Attempts under way of the chosen targets stop first; one past its
	 * point of no return refuses the whole request.  The job may not end
	 * while they do (the last target's end would end it).
	 */
	j->finishing = true;
	for (i = 0; !r && i < j->n; i++) {
		struct gw_job_run *run = j->run[i];

		if (run && chosen(j, i, addresses)) {
			run->cancelled = true;
			j->kind->stop(j->kind->ctx, run, false);
			if (j->run[i] == run) {
				run->cancelled = false;
				r = -EINPROGRESS;
				snprintf(why, sizeof(why),
					 "the attempt of target %zu is past its point of no return",
					 i);
			}
		}
	}
	if (!r) {
		r = leave_out(J, j, addresses, c->who, why, sizeof(why));
	}
	/* Memory follows the store, whatever was committed. */
	if (job_reread(J, j)) {
		log_warnx("job %llu: cannot re-read its targets", (unsigned long long)id);
	}
	j->finishing = false;
	for (i = 0; i < j->n; i++) {
		publish_target(J, &j->t[i]);
	}
	if (r) {
		job_check_end(J, j);
		gw_cmd_complete(J->core->q, c, r, NULL, why[0] ? why : store_strerror(r));
		return;
	}
	log_info("job %llu goes on without %zu target(s) (%s)", (unsigned long long)id, n, c->who);
	publish_job(J, id);
	job_check_end(J, j);
	schedule(J);
	reply_job(J, c, id);
}
