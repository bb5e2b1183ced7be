/*
 * Internals of the job engine shared by its two files: jobs.c (the engine:
 * memory, scheduling, attempts, commands that change jobs) and jobs_view.c
 * (the JSON views of jobs and targets, and the commands that read them).
 * Nothing outside those two files includes this.
 */
#ifndef GW_JOBS_INT_H
#define GW_JOBS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gateway/jobs.h"

#define JOBS_KINDS_MAX 8
#define JOBS_LIST_MAX 1000

/* "cancel requested" in a PAUSED job's error: finish the active attempts, then cancel. */
#define JOBS_CANCEL_MARK "cancel requested"

struct job_mem {
	uint64_t id;
	const struct gw_job_kind *kind;
	enum store_job_state state;
	bool cancelling;
	bool finishing; /* finish-without is marking targets: the job may not end meanwhile */
	json_t *params;
	struct store_job_target *t; /* the targets as committed */
	size_t n;
	json_t **tparams;        /* parsed t[i].params */
	struct gw_job_run **run; /* the active attempt of each target, or NULL */
	bool *recover;           /* active when the gateway stopped: resume its step */
	unsigned *busy_pass;     /* the scheduling pass in which start() said -EBUSY */
	uint32_t *order;         /* with kind->rank: the targets by rank, this pass's */
	uint64_t *keys;          /* sort keys of this pass: rank << 32 | index */
	unsigned order_pass;     /* the pass order was sorted in (0: never) */
	struct job_mem *next;
};

struct gw_jobs {
	struct gw_core *core;
	const struct gw_job_kind *kinds[JOBS_KINDS_MAX];
	size_t n_kinds;
	struct job_mem *list; /* unfinished jobs, in round-robin order */
	unsigned active;      /* attempts holding a max_sessions slot */
	unsigned running;     /* attempts under way, released ones included */
	unsigned pass;
	uint64_t timer, timer_when;
	bool resumed, stopping, scheduling, again;
};

/* The registered kind of that name, or NULL. */
const struct gw_job_kind *jobs_kind_by_name(const struct gw_jobs *J, const char *name);
/* The unfinished job id in memory, or NULL. */
struct job_mem *jobs_find(const struct gw_jobs *J, uint64_t id);

/* jobs_view.c */
/* A job as the API shows it, with its counts by target state and its total (new reference). */
json_t *jobs_job_json(const struct store_job *sj, const size_t c[STORE_TGT_STATES], size_t total);
/* The job c->args names ("id") into *sj; 0, or c is completed with 404 and -ENOENT returned. */
int jobs_id_arg(struct gw_jobs *J, struct gw_cmd *c, struct store_job *sj);
/* The job's view read from the store (with its targets when asked), or NULL. */
json_t *jobs_job_view(struct gw_jobs *J, const struct store_job *sj, bool with_targets);

#endif /* GW_JOBS_INT_H */
