/*
 * The job engine: every long procedure over many devices or nodes runs as
 * a persistent job (storage/store_job.h) of some kind, one target at a
 * time per target, many targets at once.
 *
 * The engine owns scheduling and persistence: which target starts next (a
 * fair round robin over running jobs, at most max_sessions targets active
 * at once, plus those that gave their slot back with gw_jobs_release(), up
 * to GW_JOBS_RUNNING_FACTOR x max_sessions in all), attempts and their limit, retries with a
 * doubling delay, pause, resume, cancel, events ("job.updated" for a job, "job.target" for each
 * change of a target), and resumption after a restart: on start every
 * unfinished job continues, and a target that was active when the gateway
 * stopped (or was killed) is handed back to its kind with run->recovering
 * set and the step it last committed.
 *
 * A kind (provisioning, node refresh, removal, ...) owns the procedure: it
 * starts an attempt, commits each step BEFORE the action that depends on it
 * (gw_jobs_commit(), inside store_begin()/store_commit() when other verbs
 * belong to the same step), and ends the attempt with gw_jobs_end().  The
 * engine calls kinds only through struct gw_job_kind.
 */
#ifndef GW_JOBS_H
#define GW_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gateway/cmdq.h"
#include "gateway/core.h"
#include "storage/store_job.h"

struct gw_jobs;
struct gw_job_kind;

/*
 * A target with an attempt under way.  The engine allocates it when the
 * attempt starts and frees it in gw_jobs_end(); the kind borrows it until
 * then and keeps its own state in priv.
 */
struct gw_job_run {
	struct gw_jobs *jobs;
	const struct gw_job_kind *kind;
	struct store_job_target t; /* the target as committed; the kind edits, then commits */
	json_t *params;            /* the target's parameters (object), borrowed */
	json_t *job_params;        /* the job's parameters (object), borrowed */
	bool recovering;           /* resumes t.step, committed before a restart */
	bool cancelled;            /* the job was cancelled while this attempt ran */
	bool released;             /* gave its max_sessions slot back (gw_jobs_release) */
	void *priv;                /* the kind's */
};

struct gw_job_kind {
	const char *name; /* "provision", "refresh", "remove" */
	void *ctx;
	/*
	 * Start an attempt at run->t.step (0: from the beginning; with
	 * run->recovering, the step committed before a restart).  0: under
	 * way, the kind ends it later with gw_jobs_end() (it may also have
	 * ended it already); -EBUSY: a resource the target needs is taken
	 * (the target waits, no attempt is counted); -ENOBUFS: the radio is
	 * full, the engine tries again shortly; another negative errno: the
	 * attempt failed at once (error in run->t.error, else strerror).
	 */
	int (*start)(void *ctx, struct gw_job_run *run);
	/*
	 * Stop an attempt: the job was cancelled (stopping false: the kind
	 * gives back what the attempt held and ends it with gw_jobs_end(); an
	 * attempt past its point of no return may run on and end normally),
	 * or the gateway stops (stopping true: close links, end nothing: the
	 * committed step is resumed at the next start).
	 */
	void (*stop)(void *ctx, struct gw_job_run *run, bool stopping);
	/* Optional: fields of a target for the API beside the common ones (run may be NULL). */
	void (*target_json)(void *ctx, const struct store_job_target *t,
			    const struct gw_job_run *run, json_t *o);
	/*
	 * Optional: the operator finishes the job without some targets
	 * (gw_jobs_cmd_finish_without).  The engine has marked them left out
	 * (FAILED, step GW_JOB_STEP_LEFT_OUT) inside an open store transaction;
	 * t (n targets, as they will be committed) shows them so.  The kind
	 * records what leaving them out means in the same transaction, and may
	 * name one finished target to reopen at *step to carry the job to its
	 * end (*reopen = its index; left UINT32_MAX: none).  A negative errno
	 * rolls everything back (why, if set, says it to the caller).
	 */
	int (*finish_without)(void *ctx, uint64_t job, const struct store_job_target *t, size_t n,
			      uint32_t *reopen, int32_t *step, char *why, size_t why_len);
	/*
	 * Optional: job was cancelled (the intent is committed): cancel the
	 * jobs it started elsewhere (gw_jobs_cancel).  Called again after a
	 * restart for a job still cancelling, so it must be idempotent.
	 */
	void (*cancelled)(void *ctx, uint64_t job);
	/*
	 * A RETRY outcome is tried again (with the doubling delay) however many
	 * attempts it took: the job attempt limit does not apply.  For kinds
	 * whose targets cannot be given up alone (a subnet's Key Refresh): the
	 * operator waits, or decides (finish_without, cancel).
	 */
	bool retry_always;
	/*
	 * Optional: the order in which the targets that may start are tried,
	 * lower first (equal: the job's order); NULL: the job's order.  Asked
	 * once per target and scheduling pass, so it must be cheap.  For a
	 * commission job: the nearest ring first, so that the servers that
	 * carry the reach outward are nodes before the devices behind them.
	 */
	unsigned (*rank)(void *ctx, const struct store_job_target *t);
};

/* The step of a target left out by finish_without (FAILED; never resumed). */
#define GW_JOB_STEP_LEFT_OUT (-1)

/* How an attempt ended. */
enum gw_job_outcome {
	GW_JOB_OK,    /* the target is done */
	GW_JOB_RETRY, /* try again after a delay, unless the attempts are used up */
	GW_JOB_FAIL,  /* give up on this target */
	/*
	 * The target waits for a resource at its committed step: pending, the
	 * attempt not counted; started again at the next scheduling pass, where
	 * start() may answer -EBUSY until the resource is free.
	 */
	GW_JOB_WAIT,
};

/* New engine (nothing runs until gw_jobs_resume()).  Free with gw_jobs_free(). */
struct gw_jobs *gw_jobs_new(struct gw_core *core);
/* Stop every attempt for a restart (kinds' stop(stopping = true)) and free.  NULL ok. */
void gw_jobs_free(struct gw_jobs *jobs);
/* Stop every attempt for a restart, keeping the engine (gw_jobs_idle() then tells). */
void gw_jobs_shutdown(struct gw_jobs *jobs);

/* Register a kind (borrowed: static storage). */
int gw_jobs_register(struct gw_jobs *jobs, const struct gw_job_kind *kind);
/* Load the unfinished jobs and start scheduling (once, after the stack is up). */
int gw_jobs_resume(struct gw_jobs *jobs);

/*
 * Create and schedule a job of a registered kind: params (object,
 * borrowed) and the targets as storage takes them; created_by names the
 * caller.  *id set.  Targets start at once if slots are free.
 */
int gw_jobs_create(struct gw_jobs *jobs, const char *kind, json_t *params, const char *created_by,
		   const struct store_job_target_new *t, size_t n, uint64_t *id);

/* Commit run->t (write-ahead): 0, or the store's error (the kind must not act then). */
int gw_jobs_commit(struct gw_job_run *run);
/* Publish the target's progress ("job.target") without a commit (transient phases). */
void gw_jobs_progress(struct gw_job_run *run);
/*
 * End the attempt: DONE with result (JSON text or NULL), or RETRY/FAIL
 * with error (NULL: run->t.error).  run is freed; the next targets start.
 */
void gw_jobs_end(struct gw_job_run *run, enum gw_job_outcome o, const char *error,
		 const char *result);

/*
 * The attempt no longer holds what max_sessions bounds (a commission
 * target's provisioning link is closed; its configuration goes on over the
 * network): it stops counting towards max_sessions, so that another target
 * can start its link meanwhile.  It still counts towards the limit of
 * attempts under way in all, GW_JOBS_RUNNING_FACTOR x max_sessions.
 * Idempotent.
 */
#define GW_JOBS_RUNNING_FACTOR 3
void gw_jobs_release(struct gw_job_run *run);

/* The active attempt of (job, idx), or NULL. */
struct gw_job_run *gw_jobs_run(struct gw_jobs *jobs, uint64_t job, uint32_t idx);
/* Call fn for every active attempt of kind (NULL: all); stops when fn returns true. */
struct gw_job_run *gw_jobs_find(struct gw_jobs *jobs, const struct gw_job_kind *kind,
				bool (*fn)(struct gw_job_run *run, void *arg), void *arg);
/*
 * Is fn true for an unfinished (pending or active) target of kind?  fn gets
 * the committed target; fn NULL: is there any.
 */
bool gw_jobs_any_target(struct gw_jobs *jobs, const struct gw_job_kind *kind,
			bool (*fn)(const struct store_job_target *t, void *arg), void *arg);
/*
 * Cancel one target: a pending one at once, an active one through its
 * kind's stop().  -ENOENT unknown, -EALREADY finished, -EINPROGRESS when
 * the attempt is past its point of no return (it runs to its end).
 */
int gw_jobs_cancel_target(struct gw_jobs *jobs, uint64_t job, uint32_t idx);
/*
 * Cancel an unfinished job as POST /jobs/{id}/cancel does: 0,
 * -ENOENT (not an unfinished job), or the store's error.
 */
int gw_jobs_cancel(struct gw_jobs *jobs, uint64_t id);
/* Active attempts of kind (NULL: all). */
unsigned gw_jobs_active(const struct gw_jobs *jobs, const struct gw_job_kind *kind);
/*
 * For /metrics: the registered kinds' names (at most max, in registration
 * order) into kinds and their unfinished jobs by state (by_state[k][0]
 * running, [1] paused); returns how many kinds were written.
 */
size_t gw_jobs_count(const struct gw_jobs *jobs, const char **kinds, unsigned (*by_state)[2],
		     size_t max);
/* Calls fn for every target of the unfinished jobs of kind, with its active attempt or NULL. */
void gw_jobs_visit(struct gw_jobs *jobs, const struct gw_job_kind *kind,
		   void (*fn)(void *arg, const struct store_job_target *t,
			      const struct gw_job_run *run),
		   void *arg);
/* Try to start waiting targets now (a resource was freed). */
void gw_jobs_kick(struct gw_jobs *jobs);

/* A target for the API: common fields and the kind's (new reference). */
json_t *gw_jobs_target_json(struct gw_jobs *jobs, const struct store_job_target *t);

/* REST commands (gw_cmd.h): GET /jobs, GET /jobs/{id}, pause, resume, cancel, finish-without. */
void gw_jobs_cmd_list(struct gw_jobs *jobs, struct gw_cmd *c);
void gw_jobs_cmd_get(struct gw_jobs *jobs, struct gw_cmd *c);
void gw_jobs_cmd_pause(struct gw_jobs *jobs, struct gw_cmd *c);
void gw_jobs_cmd_resume(struct gw_jobs *jobs, struct gw_cmd *c);
void gw_jobs_cmd_cancel(struct gw_jobs *jobs, struct gw_cmd *c);
/*
 * POST /jobs/{id}/finish-without {addresses?}: the targets of those nodes
 * (default: every target not done) are left out and the job goes on to its
 * end without them (its kind's finish_without; -ENOTSUP for a kind without).
 */
void gw_jobs_cmd_finish_without(struct gw_jobs *jobs, struct gw_cmd *c);

#endif
