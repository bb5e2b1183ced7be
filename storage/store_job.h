/*
 * Persistent jobs: a named procedure (kind) over a set of targets (devices
 * or nodes), with each target's step, state, attempts, next attempt time and
 * last error.  The gateway's job engine (gateway/jobs.h) is the only user.
 *
 * Write-ahead contract: the engine commits a target's new step (and the
 * secret it will need to recover, sealed) BEFORE it performs the action the
 * step stands for; after a crash it resumes every unfinished job from the
 * committed steps.  Group a step change with other verbs (an address
 * reservation, a candidate DevKey) inside store_begin()/store_commit().
 *
 * Parameters and results are JSON texts that never hold secrets; per-target
 * secrets (a static OOB value, a DevKey not yet in the node table) are
 * sealed under the master key like every other key (store.h).
 *
 * A secret is kept only while its target may still need it: a target
 * moved to DONE, FAILED or CANCELLED, and every target of a job that ends,
 * loses its secrets in the same transaction.
 *
 * Errors as in store.h.  Strings in records are owned by the record: free
 * them with store_job_clear() / store_job_targets_free().
 */
#ifndef STORAGE_STORE_JOB_H
#define STORAGE_STORE_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define STORE_JOB_KIND_MAX 32   /* including the NUL */
#define STORE_JOB_ERROR_MAX 256 /* including the NUL */
#define STORE_JOB_SECRET_MAX 32 /* octets per secret slot */

enum store_job_state {
	STORE_JOB_RUNNING = 0,   /* targets are being worked on (or wait for their turn) */
	STORE_JOB_PAUSED = 1,    /* no new attempt starts; active ones finish */
	STORE_JOB_DONE = 2,      /* every target finished (some may have failed) */
	STORE_JOB_CANCELLED = 3, /* cancelled: unfinished targets were cancelled */
};

enum store_tgt_state {
	STORE_TGT_PENDING = 0,   /* waits for a slot (and for next_ms) */
	STORE_TGT_ACTIVE = 1,    /* an attempt is under way (its step says how far) */
	STORE_TGT_DONE = 2,      /* succeeded */
	STORE_TGT_FAILED = 3,    /* gave up (attempt limit, or a permanent error) */
	STORE_TGT_CANCELLED = 4, /* the job was cancelled before this target finished */
};
#define STORE_TGT_STATES 5

/* Secret slots of a target. */
enum store_job_slot {
	STORE_JOB_SLOT_AUTH = 0, /* static OOB value (16 or 32 octets) */
	STORE_JOB_SLOT_KEY = 1,  /* DevKey computed by a provisioning not yet confirmed (16) */
};

struct store_job {
	uint64_t id;
	char kind[STORE_JOB_KIND_MAX]; /* "provision", "refresh", "remove", ... */
	enum store_job_state state;
	char *params; /* JSON text (object), never NULL in a record read back; owned */
	char created_by[STORE_NAME_MAX];
	char error[STORE_JOB_ERROR_MAX]; /* why it was cancelled/ended, empty when none */
	uint64_t created_ms, updated_ms;
	uint64_t finished_ms; /* 0 while RUNNING/PAUSED */
};

struct store_job_target {
	uint64_t job;
	uint32_t idx; /* 0..n-1 in the order given at creation */
	bool has_uuid;
	uint8_t uuid[STORE_UUID_LEN]; /* the device (provisioning) or the node's UUID */
	uint16_t node;                /* the node's primary address at creation, 0 = none */
	char name[STORE_NAME_MAX];
	enum store_tgt_state state;
	int32_t step;      /* kind-specific progress, committed before its action */
	uint32_t attempts; /* attempts started so far */
	uint64_t next_ms;  /* earliest start of the next attempt (wall clock), 0 = now */
	uint16_t addr;     /* address reserved/assigned by the procedure, 0 = none */
	uint8_t elements;  /* element count learned by the procedure, 0 = unknown */
	uint16_t via;      /* Remote Provisioning Server in use, 0 = the gateway itself */
	char *params;      /* JSON text (object) of this target, never NULL when read; owned */
	char *result;      /* JSON text or NULL; owned */
	char error[STORE_JOB_ERROR_MAX];
	uint64_t created_ms, updated_ms;
};

/* A target to create; strings and secret borrowed. */
struct store_job_target_new {
	bool has_uuid;
	uint8_t uuid[STORE_UUID_LEN];
	uint16_t node;
	const char *name;    /* NULL = "" */
	const char *params;  /* JSON object text, NULL = "{}" */
	const uint8_t *auth; /* sealed into STORE_JOB_SLOT_AUTH when auth_len > 0 */
	size_t auth_len;     /* 0, 16 or 32 */
};

/*
 * Create a RUNNING job with n targets (PENDING, step 0) in one transaction,
 * audited as "job.create".  params: JSON object text (NULL = "{}"),
 * -EINVAL if not a JSON object; created_by: the token name (NULL = actor).
 * -EINVAL also for n == 0, a kind empty or too long, a created_by or target
 * name too long, a target's params not a JSON object, or an auth_len other
 * than 0, 16 and 32; nothing is written then.
 */
int store_job_create(struct store *s, const char *kind, const char *params, const char *created_by,
		     const struct store_job_target_new *t, size_t n, uint64_t *id);

/* Fill *out (strings owned: store_job_clear()).  -ENOENT. */
int store_job_get(struct store *s, uint64_t id, struct store_job *out);
void store_job_clear(struct store_job *j);

struct store_job_filter {
	bool unfinished_only; /* RUNNING and PAUSED only */
	const char *kind;     /* NULL = any */
	size_t limit;         /* 0 = no limit */
	size_t offset;
};
/* Jobs matching f (NULL = all), newest first; free with store_jobs_free(). */
int store_job_list(struct store *s, const struct store_job_filter *f, struct store_job **out,
		   size_t *n);
void store_jobs_free(struct store_job *j, size_t n);
/* Number of jobs matching f (limit/offset ignored). */
int store_job_count(struct store *s, const struct store_job_filter *f, size_t *n);

/*
 * Change the job's state (error: NULL = none, else at most
 * STORE_JOB_ERROR_MAX - 1 octets; DONE/CANCELLED set finished_ms and wipe
 * every secret of the job).  CANCELLED also moves every PENDING/ACTIVE
 * target to CANCELLED in the same transaction.  Audited ("job.pause",
 * "job.resume", "job.cancel", "job.done").  Setting the current state
 * changes nothing.  -EALREADY when the job is DONE or CANCELLED, -EBUSY for
 * DONE while a target is PENDING or ACTIVE (it would never run), -ENOENT.
 */
int store_job_state_set(struct store *s, uint64_t id, enum store_job_state st, const char *error);

/* Every target of job id by idx; free with store_job_targets_free().  -ENOENT. */
int store_job_targets(struct store *s, uint64_t id, struct store_job_target **out, size_t *n);
void store_job_targets_free(struct store_job_target *t, size_t n);
/* One target.  -ENOENT. */
int store_job_target_get(struct store *s, uint64_t id, uint32_t idx, struct store_job_target *out);
/*
 * Write a target's mutable fields: state, step, attempts, next_ms, addr,
 * elements, via, result, error; updated_ms = now.  result: NULL leaves the
 * stored one unchanged, "" clears it, else JSON text (-EINVAL if not JSON).
 * Identified by t->job and t->idx; t->params cannot change.  A finished
 * state (DONE, FAILED, CANCELLED) wipes the target's secrets.  Not audited
 * (progress).  -ENOENT; -EALREADY for PENDING or ACTIVE when the job has
 * ended (an ended job is never resumed; a late result may still be stored).
 */
int store_job_target_update(struct store *s, const struct store_job_target *t);

/* Targets of job id by state: counts[STORE_TGT_STATES].  -ENOENT. */
int store_job_counts(struct store *s, uint64_t id, size_t counts[STORE_TGT_STATES]);

/*
 * A target's secret in slot, sealed.  set: len 16 or 32 for
 * STORE_JOB_SLOT_AUTH, 16 for STORE_JOB_SLOT_KEY (else -EINVAL); replaces
 * the slot's value; -ENOENT, -EALREADY when the target or its job has
 * finished.  get: -ENOENT when the slot is empty, else *len set to its
 * length; -EACCES for a blob that does not authenticate.  wipe: deletes the
 * slot (not an error when empty).  Not audited.
 */
int store_job_secret_set(struct store *s, uint64_t id, uint32_t idx, enum store_job_slot slot,
			 const uint8_t *p, size_t len);
int store_job_secret_get(struct store *s, uint64_t id, uint32_t idx, enum store_job_slot slot,
			 uint8_t out[STORE_JOB_SECRET_MAX], size_t *len);
int store_job_secret_wipe(struct store *s, uint64_t id, uint32_t idx, enum store_job_slot slot);

/*
 * Delete finished jobs (with their targets and secrets) finished before
 * before_ms; *n (may be NULL) = jobs deleted.  Audited ("job.purge") when
 * any went.
 */
int store_job_purge(struct store *s, uint64_t before_ms, size_t *n);

/*
 * Names for the API: "running", "paused", "done", "cancelled"; "pending",
 * "active", "done", "failed", "cancelled".  NULL for an unknown value.
 */
const char *store_job_state_name(enum store_job_state st);
const char *store_tgt_state_name(enum store_tgt_state st);

#endif /* STORAGE_STORE_JOB_H */
