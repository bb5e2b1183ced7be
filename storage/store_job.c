/*
 * Persistent jobs (store_job.h): tables jobs, job_targets and job_secrets
 * (schema 4).
 *
 * Secrets are sealed like every other key (store_master.c), in 16-octet
 * units: a 32-octet static OOB value is two blobs.  The additional data of
 * each blob names job, target, slot, half and total length
 * ("job:7:12:auth:1/32"), so a blob copied to another target, slot or half,
 * or a 32-octet value cut down to its first half, fails with -EACCES.
 *
 * A secret lives only while its target may still need it: a target that
 * reaches DONE, FAILED or CANCELLED, and every target of a job that ends,
 * loses its slots in the same transaction as the state change.  (SQLite
 * may keep a deleted blob in a free page until the page is reused; it is
 * still sealed there, as safe as every live key without the master key.)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sec.h"
#include "storage/store_int.h"
#include "storage/store_job.h"

#define HALF STORE_KEY_LEN /* octets sealed per blob */

#define JOB_COLS "id, kind, state, params, created_by, error, created_ms, updated_ms, finished_ms"
#define TGT_COLS                                                                                   \
	"job, idx, uuid, node, name, state, step, attempts, next_ms, addr, elements, via, params," \
	" result, error, created_ms, updated_ms"

static bool job_finished(int st)
{
	return st == STORE_JOB_DONE || st == STORE_JOB_CANCELLED;
}

static bool tgt_finished(int st)
{
	return st == STORE_TGT_DONE || st == STORE_TGT_FAILED || st == STORE_TGT_CANCELLED;
}

/* A NUL-terminated text of at most cap - 1 octets (fits a record's buffer). */
static bool fits(const char *p, size_t cap)
{
	return strnlen(p, cap) < cap;
}

static bool secret_len_ok(enum store_job_slot slot, size_t len)
{
	switch (slot) {
	case STORE_JOB_SLOT_AUTH:
		/* Static OOB AuthValue: 16 octets, or 32 for the HMAC algorithm (§5.4.2.4). */
		return len == 16 || len == 32;
	case STORE_JOB_SLOT_KEY:
		return len == STORE_KEY_LEN;
	}
	return false;
}

static bool slot_ok(enum store_job_slot slot)
{
	return slot == STORE_JOB_SLOT_AUTH || slot == STORE_JOB_SLOT_KEY;
}

struct aad {
	char s[64];
};

static struct aad secret_aad(uint64_t id, uint32_t idx, enum store_job_slot slot, unsigned half,
			     size_t len)
{
	struct aad a;

	snprintf(a.s, sizeof(a.s), "job:%" PRIu64 ":%" PRIu32 ":%s:%u/%zu", id, idx,
		 slot == STORE_JOB_SLOT_AUTH ? "auth" : "key", half, len);
	return a;
}

/* Seal p into slot (len checked by the caller), replacing what was there. */
static int secret_put(struct store *s, uint64_t id, uint32_t idx, enum store_job_slot slot,
		      const uint8_t *p, size_t len)
{
	uint8_t blob[STORE_JOB_SECRET_MAX / HALF][STORE_SEALED_LEN];
	sqlite3_stmt *st;
	int rc = 0;

	for (unsigned h = 0; rc == 0 && h < len / HALF; h++) {
		rc = store_seal(s, secret_aad(id, idx, slot, h, len).s, p + h * HALF, blob[h]);
	}
	if (rc) {
		return rc;
	}
	st = store_q(s, "INSERT OR REPLACE INTO job_secrets (job, idx, slot, len, sealed, sealed2)"
			" VALUES (?, ?, ?, ?, ?, ?)");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		sqlite3_bind_int64(st, 2, idx);
		sqlite3_bind_int(st, 3, slot);
		sqlite3_bind_int(st, 4, (int)len);
		store_bind_blob(st, 5, blob[0], STORE_SEALED_LEN);
		if (len > HALF) {
			store_bind_blob(st, 6, blob[1], STORE_SEALED_LEN);
		}
	}
	return store_run(s, st);
}

/* Delete the secrets of one target (idx) or, with all set, of every target of job id. */
static int secrets_drop(struct store *s, uint64_t id, uint32_t idx, bool all)
{
	sqlite3_stmt *st;

	st = store_q(s, "DELETE FROM job_secrets WHERE job = ? AND (? OR idx = ?)");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		sqlite3_bind_int(st, 2, all);
		sqlite3_bind_int64(st, 3, idx);
	}
	return store_run(s, st);
}

/* --- Creating and reading jobs ------------------------------------------ */

static int target_new_check(const struct store_job_target_new *t)
{
	if (t->name && !fits(t->name, STORE_NAME_MAX)) {
		return -EINVAL;
	}
	if (t->params && !store_json_ok(t->params, true)) {
		return -EINVAL;
	}
	if (t->auth_len && (!t->auth || !secret_len_ok(STORE_JOB_SLOT_AUTH, t->auth_len))) {
		return -EINVAL;
	}
	return 0;
}

static int target_insert(struct store *s, uint64_t id, uint32_t idx,
			 const struct store_job_target_new *t, uint64_t now)
{
	sqlite3_stmt *st;
	int rc;

	st = store_q(s, "INSERT INTO job_targets (job, idx, uuid, node, name, state, step,"
			" attempts, next_ms, addr, elements, via, params, created_ms, updated_ms)"
			" VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 0, ?, ?, ?)");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		sqlite3_bind_int64(st, 2, idx);
		if (t->has_uuid) {
			store_bind_blob(st, 3, t->uuid, STORE_UUID_LEN);
		}
		sqlite3_bind_int(st, 4, t->node);
		sqlite3_bind_text(st, 5, t->name ? t->name : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, t->params ? t->params : "{}", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)now);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
	}
	rc = store_run(s, st);
	if (rc == 0 && t->auth_len) {
		rc = secret_put(s, id, idx, STORE_JOB_SLOT_AUTH, t->auth, t->auth_len);
	}
	return rc;
}

int store_job_create(struct store *s, const char *kind, const char *params, const char *created_by,
		     const struct store_job_target_new *t, size_t n, uint64_t *id)
{
	uint64_t now = store_now(s);
	sqlite3_stmt *st;
	int64_t row = 0;
	int rc;

	if (!kind || !*kind || !fits(kind, STORE_JOB_KIND_MAX) ||
	    (params && !store_json_ok(params, true)) ||
	    (created_by && !fits(created_by, STORE_NAME_MAX)) || !t || n == 0 || n > UINT32_MAX ||
	    !id) {
		return -EINVAL;
	}
	/* Every target is checked before anything is written. */
	for (size_t i = 0; i < n; i++) {
		if (target_new_check(&t[i])) {
			return -EINVAL;
		}
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "INSERT INTO jobs (kind, state, params, created_by, created_ms, updated_ms)"
			" VALUES (?, 0, ?, ?, ?, ?)");
	if (st) {
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, params ? params : "{}", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, created_by ? created_by : s->actor, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
	}
	rc = store_run(s, st);
	if (rc == 0) {
		row = sqlite3_last_insert_rowid(s->db);
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = target_insert(s, (uint64_t)row, (uint32_t)i, &t[i], now);
	}
	if (rc == 0) {
		rc = store_audit(s, "job.create", "job %lld %s, %zu targets", (long long)row, kind,
				 n);
	}
	rc = store_txn_end(s, rc);
	if (rc == 0) {
		*id = (uint64_t)row;
	}
	return rc;
}

/* A TEXT column as a new string; NULL becomes dflt (or stays NULL when dflt is NULL). */
static int col_strdup(sqlite3_stmt *st, int col, const char *dflt, char **out)
{
	const unsigned char *p = sqlite3_column_text(st, col);

	*out = NULL;
	if (!p && !dflt) {
		return 0;
	}
	*out = strdup(p ? (const char *)p : dflt);
	return *out ? 0 : -ENOMEM;
}

/* The one row of st read into item; -ENOENT without one; on failure item is cleared. */
static int read_one(struct store *s, sqlite3_stmt *st,
		    int (*read)(struct store *s, sqlite3_stmt *st, void *item),
		    void (*clear)(void *item), void *item)
{
	int rc = store_row(s, st);

	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	rc = read(s, st, item);
	sqlite3_reset(st);
	if (rc) {
		clear(item);
	}
	return rc;
}

static int read_job(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_job *j = item;

	(void)s;
	j->id = (uint64_t)sqlite3_column_int64(st, 0);
	store_col_text(st, 1, j->kind, sizeof(j->kind));
	j->state = (enum store_job_state)sqlite3_column_int(st, 2);
	store_col_text(st, 4, j->created_by, sizeof(j->created_by));
	store_col_text(st, 5, j->error, sizeof(j->error));
	j->created_ms = (uint64_t)sqlite3_column_int64(st, 6);
	j->updated_ms = (uint64_t)sqlite3_column_int64(st, 7);
	j->finished_ms = (uint64_t)sqlite3_column_int64(st, 8);
	return col_strdup(st, 3, "{}", &j->params);
}

void store_job_clear(struct store_job *j)
{
	if (j) {
		free(j->params);
		j->params = NULL;
	}
}

static void job_clear(void *item)
{
	store_job_clear(item);
}

int store_job_get(struct store *s, uint64_t id, struct store_job *out)
{
	struct store_job j = {0};
	sqlite3_stmt *st;
	int rc;

	st = store_q(s, "SELECT " JOB_COLS " FROM jobs WHERE id = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	}
	rc = read_one(s, st, read_job, job_clear, &j);
	if (rc == 0) {
		*out = j;
	}
	return rc;
}

/*
 * The statement for a filter.  The unfinished variant names the partial
 * index's condition literally so that SQLite can use jobs_unfinished.
 */
static sqlite3_stmt *filter_q(struct store *s, const struct store_job_filter *f, bool count)
{
	static const struct store_job_filter any = {0};
	sqlite3_stmt *st;

	if (!f) {
		f = &any;
	}
	if (count) {
		st = f->unfinished_only
			 ? store_q(s, "SELECT count(*) FROM jobs WHERE state IN (0, 1)"
				      " AND (?1 IS NULL OR kind = ?1)")
			 : store_q(s, "SELECT count(*) FROM jobs WHERE ?1 IS NULL OR kind = ?1");
	} else {
		st = f->unfinished_only
			 ? store_q(s, "SELECT " JOB_COLS " FROM jobs WHERE state IN (0, 1)"
				      " AND (?1 IS NULL OR kind = ?1) ORDER BY id DESC"
				      " LIMIT ?2 OFFSET ?3")
			 : store_q(s, "SELECT " JOB_COLS " FROM jobs WHERE ?1 IS NULL OR kind = ?1"
				      " ORDER BY id DESC LIMIT ?2 OFFSET ?3");
	}
	if (!st) {
		return NULL;
	}
	if (f->kind) {
		sqlite3_bind_text(st, 1, f->kind, -1, SQLITE_STATIC);
	}
	if (!count) {
		/* LIMIT -1: no limit. */
		sqlite3_bind_int64(
		    st, 2, f->limit && f->limit <= INT64_MAX ? (sqlite3_int64)f->limit : -1);
		sqlite3_bind_int64(st, 3,
				   f->offset <= INT64_MAX ? (sqlite3_int64)f->offset : INT64_MAX);
	}
	return st;
}

int store_job_list(struct store *s, const struct store_job_filter *f, struct store_job **out,
		   size_t *n)
{
	return store_collect_owned(s, filter_q(s, f, false), sizeof(**out), read_job, job_clear,
				   (void **)out, n);
}

void store_jobs_free(struct store_job *j, size_t n)
{
	for (size_t i = 0; j && i < n; i++) {
		store_job_clear(&j[i]);
	}
	free(j);
}

int store_job_count(struct store *s, const struct store_job_filter *f, size_t *n)
{
	sqlite3_stmt *st = filter_q(s, f, true);
	int rc;

	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -EIO;
	}
	*n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

/* --- Job state ----------------------------------------------------------- */

static int job_state(struct store *s, uint64_t id, int *state)
{
	sqlite3_stmt *st = store_q(s, "SELECT state FROM jobs WHERE id = ?");
	int rc;

	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	*state = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return 0;
}

/* -EBUSY while a target of job id is PENDING or ACTIVE: DONE would strand it. */
static int none_unfinished(struct store *s, uint64_t id)
{
	sqlite3_stmt *st;
	int rc;

	st = store_q(s, "SELECT EXISTS (SELECT 1 FROM job_targets WHERE job = ?"
			" AND state IN (0, 1))");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -EIO;
	}
	rc = sqlite3_column_int(st, 0) ? -EBUSY : 0;
	sqlite3_reset(st);
	return rc;
}

static int cancel_targets(struct store *s, uint64_t id)
{
	sqlite3_stmt *st;

	st = store_q(s, "UPDATE job_targets SET state = 4, updated_ms = ? WHERE job = ?"
			" AND state IN (0, 1)");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)store_now(s));
		sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
	}
	return store_run(s, st);
}

static const char *state_verb(enum store_job_state st)
{
	switch (st) {
	case STORE_JOB_RUNNING:
		return "job.resume";
	case STORE_JOB_PAUSED:
		return "job.pause";
	case STORE_JOB_DONE:
		return "job.done";
	case STORE_JOB_CANCELLED:
		return "job.cancel";
	}
	return "job.state";
}

int store_job_state_set(struct store *s, uint64_t id, enum store_job_state st, const char *error)
{
	uint64_t now = store_now(s);
	sqlite3_stmt *q;
	int cur, rc;

	if (!store_job_state_name(st) || (error && !fits(error, STORE_JOB_ERROR_MAX))) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = job_state(s, id, &cur);
	if (rc == 0 && job_finished(cur)) {
		rc = -EALREADY;
	}
	if (rc == 0 && cur == (int)st) {
		/* Pausing a paused job changes nothing and is not worth an audit entry. */
		return store_txn_end(s, 0);
	}
	if (rc == 0 && st == STORE_JOB_DONE) {
		rc = none_unfinished(s, id);
	}
	if (rc == 0 && st == STORE_JOB_CANCELLED) {
		rc = cancel_targets(s, id);
	}
	/* No target of an ended job will run again: none needs a secret. */
	if (rc == 0 && job_finished(st)) {
		rc = secrets_drop(s, id, 0, true);
	}
	if (rc == 0) {
		q = store_q(s, "UPDATE jobs SET state = ?, error = ?, updated_ms = ?,"
			       " finished_ms = ? WHERE id = ?");
		if (q) {
			sqlite3_bind_int(q, 1, st);
			sqlite3_bind_text(q, 2, error ? error : "", -1, SQLITE_STATIC);
			sqlite3_bind_int64(q, 3, (sqlite3_int64)now);
			sqlite3_bind_int64(q, 4, job_finished(st) ? (sqlite3_int64)now : 0);
			sqlite3_bind_int64(q, 5, (sqlite3_int64)id);
		}
		rc = store_run(s, q);
	}
	if (rc == 0) {
		rc = store_audit(s, state_verb(st), "job %" PRIu64, id);
	}
	return store_txn_end(s, rc);
}

/* --- Targets ------------------------------------------------------------- */

static int read_target(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_job_target *t = item;
	int rc;

	(void)s;
	t->job = (uint64_t)sqlite3_column_int64(st, 0);
	t->idx = (uint32_t)sqlite3_column_int64(st, 1);
	t->has_uuid = store_col_blob(st, 2, t->uuid, STORE_UUID_LEN);
	t->node = (uint16_t)sqlite3_column_int(st, 3);
	store_col_text(st, 4, t->name, sizeof(t->name));
	t->state = (enum store_tgt_state)sqlite3_column_int(st, 5);
	t->step = sqlite3_column_int(st, 6);
	t->attempts = (uint32_t)sqlite3_column_int64(st, 7);
	t->next_ms = (uint64_t)sqlite3_column_int64(st, 8);
	t->addr = (uint16_t)sqlite3_column_int(st, 9);
	t->elements = (uint8_t)sqlite3_column_int(st, 10);
	t->via = (uint16_t)sqlite3_column_int(st, 11);
	store_col_text(st, 14, t->error, sizeof(t->error));
	t->created_ms = (uint64_t)sqlite3_column_int64(st, 15);
	t->updated_ms = (uint64_t)sqlite3_column_int64(st, 16);
	rc = col_strdup(st, 12, "{}", &t->params);
	if (rc == 0) {
		rc = col_strdup(st, 13, NULL, &t->result);
	}
	return rc;
}

static void target_clear(void *item)
{
	struct store_job_target *t = item;

	free(t->params);
	free(t->result);
	t->params = NULL;
	t->result = NULL;
}

int store_job_targets(struct store *s, uint64_t id, struct store_job_target **out, size_t *n)
{
	struct store_job_target *arr = NULL;
	sqlite3_stmt *st;
	size_t len = 0;
	int rc;

	st = store_q(s, "SELECT " TGT_COLS " FROM job_targets WHERE job = ? ORDER BY idx");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	}
	rc = store_collect_owned(s, st, sizeof(*arr), read_target, target_clear, (void **)&arr,
				 &len);
	if (rc) {
		return rc;
	}
	/* Every job has at least one target: none means no such job. */
	if (len == 0) {
		return -ENOENT;
	}
	*out = arr;
	*n = len;
	return 0;
}

void store_job_targets_free(struct store_job_target *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		target_clear(&t[i]);
	}
	free(t);
}

int store_job_target_get(struct store *s, uint64_t id, uint32_t idx, struct store_job_target *out)
{
	struct store_job_target t = {0};
	sqlite3_stmt *st;
	int rc;

	st = store_q(s, "SELECT " TGT_COLS " FROM job_targets WHERE job = ? AND idx = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		sqlite3_bind_int64(st, 2, idx);
	}
	rc = read_one(s, st, read_target, target_clear, &t);
	if (rc == 0) {
		*out = t;
	}
	return rc;
}

/* States of target (id, idx) and of its job; -ENOENT. */
static int target_states(struct store *s, uint64_t id, uint32_t idx, int *tgt, int *job)
{
	sqlite3_stmt *st;
	int rc;

	st = store_q(s, "SELECT t.state, j.state FROM job_targets t JOIN jobs j ON j.id = t.job"
			" WHERE t.job = ? AND t.idx = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		sqlite3_bind_int64(st, 2, idx);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	*tgt = sqlite3_column_int(st, 0);
	*job = sqlite3_column_int(st, 1);
	sqlite3_reset(st);
	return 0;
}

int store_job_target_update(struct store *s, const struct store_job_target *t)
{
	sqlite3_stmt *st;
	int cur, job, rc;

	if (!t || !store_tgt_state_name(t->state) || !fits(t->error, sizeof(t->error)) ||
	    (t->result && *t->result && !store_json_ok(t->result, false))) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = target_states(s, t->job, t->idx, &cur, &job);
	/* An ended job is never resumed: a target of it that waits would wait forever. */
	if (rc == 0 && job_finished(job) && !tgt_finished(t->state)) {
		rc = -EALREADY;
	}
	if (rc == 0) {
		st = store_q(s, "UPDATE job_targets SET state = ?1, step = ?2, attempts = ?3,"
				" next_ms = ?4, addr = ?5, elements = ?6, via = ?7,"
				" result = CASE WHEN ?8 IS NULL THEN result WHEN ?8 = '' THEN NULL"
				" ELSE ?8 END, error = ?9, updated_ms = ?10"
				" WHERE job = ?11 AND idx = ?12");
		if (st) {
			sqlite3_bind_int(st, 1, t->state);
			sqlite3_bind_int(st, 2, t->step);
			sqlite3_bind_int64(st, 3, t->attempts);
			sqlite3_bind_int64(st, 4, (sqlite3_int64)t->next_ms);
			sqlite3_bind_int(st, 5, t->addr);
			sqlite3_bind_int(st, 6, t->elements);
			sqlite3_bind_int(st, 7, t->via);
			if (t->result) {
				sqlite3_bind_text(st, 8, t->result, -1, SQLITE_STATIC);
			}
			sqlite3_bind_text(st, 9, t->error, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 10, (sqlite3_int64)store_now(s));
			sqlite3_bind_int64(st, 11, (sqlite3_int64)t->job);
			sqlite3_bind_int64(st, 12, t->idx);
		}
		rc = store_run(s, st);
	}
	if (rc == 0 && tgt_finished(t->state)) {
		rc = secrets_drop(s, t->job, t->idx, false);
	}
	return store_txn_end(s, rc);
}

int store_job_counts(struct store *s, uint64_t id, size_t counts[STORE_TGT_STATES])
{
	size_t c[STORE_TGT_STATES] = {0}, total = 0;
	sqlite3_stmt *st;
	int rc;

	st = store_q(s, "SELECT state, count(*) FROM job_targets WHERE job = ? GROUP BY state");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	}
	while ((rc = store_row(s, st)) == 1) {
		int k = sqlite3_column_int(st, 0);
		size_t v = (size_t)sqlite3_column_int64(st, 1);

		if (k >= 0 && k < STORE_TGT_STATES) {
			c[k] = v;
		}
		total += v;
	}
	if (rc < 0) {
		return rc;
	}
	if (total == 0) {
		return -ENOENT;
	}
	memcpy(counts, c, sizeof(c));
	return 0;
}

/* --- Secrets ------------------------------------------------------------- */

int store_job_secret_set(struct store *s, uint64_t id, uint32_t idx, enum store_job_slot slot,
			 const uint8_t *p, size_t len)
{
	int cur, job, rc;

	if (!p || !secret_len_ok(slot, len)) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = target_states(s, id, idx, &cur, &job);
	if (rc == 0 && (tgt_finished(cur) || job_finished(job))) {
		rc = -EALREADY;
	}
	if (rc == 0) {
		rc = secret_put(s, id, idx, slot, p, len);
	}
	return store_txn_end(s, rc);
}

int store_job_secret_get(struct store *s, uint64_t id, uint32_t idx, enum store_job_slot slot,
			 uint8_t out[STORE_JOB_SECRET_MAX], size_t *len)
{
	uint8_t plain[STORE_JOB_SECRET_MAX];
	sqlite3_stmt *st;
	size_t n;
	int rc;

	if (!slot_ok(slot) || !out || !len) {
		return -EINVAL;
	}
	st = store_q(s, "SELECT len, sealed, sealed2 FROM job_secrets"
			" WHERE job = ? AND idx = ? AND slot = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		sqlite3_bind_int64(st, 2, idx);
		sqlite3_bind_int(st, 3, slot);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	rc = 0;
	n = (size_t)sqlite3_column_int(st, 0);
	if (n != HALF && n != 2 * HALF) {
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "job %" PRIu64 " target %" PRIu32 ": secret of a bad length", id, idx);
		rc = -EIO;
	}
	/* The slot is named in the additional data: a blob from the other slot does not open. */
	for (unsigned h = 0; rc == 0 && h < n / HALF; h++) {
		rc = store_unseal_col(s, st, 1 + (int)h, secret_aad(id, idx, slot, h, n).s,
				      plain + h * HALF);
	}
	sqlite3_reset(st);
	if (rc == 0) {
		memcpy(out, plain, n);
		*len = n;
	}
	sec_wipe(plain, sizeof(plain));
	return rc;
}

int store_job_secret_wipe(struct store *s, uint64_t id, uint32_t idx, enum store_job_slot slot)
{
	sqlite3_stmt *st;
	int rc;

	if (!slot_ok(slot)) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "DELETE FROM job_secrets WHERE job = ? AND idx = ? AND slot = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		sqlite3_bind_int64(st, 2, idx);
		sqlite3_bind_int(st, 3, slot);
	}
	rc = store_run(s, st);
	return store_txn_end(s, rc);
}

/* --- Housekeeping -------------------------------------------------------- */

int store_job_purge(struct store *s, uint64_t before_ms, size_t *n)
{
	sqlite3_stmt *st;
	size_t gone = 0;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	/* Targets and their secrets go with the job (ON DELETE CASCADE). */
	st = store_q(s, "DELETE FROM jobs WHERE state IN (2, 3) AND finished_ms < ?");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)before_ms);
	}
	rc = store_run(s, st);
	if (rc == 0) {
		gone = (size_t)sqlite3_changes(s->db);
	}
	if (rc == 0 && gone) {
		rc = store_audit(s, "job.purge", "%zu jobs", gone);
	}
	rc = store_txn_end(s, rc);
	if (rc == 0 && n) {
		*n = gone;
	}
	return rc;
}

const char *store_job_state_name(enum store_job_state st)
{
	switch (st) {
	case STORE_JOB_RUNNING:
		return "running";
	case STORE_JOB_PAUSED:
		return "paused";
	case STORE_JOB_DONE:
		return "done";
	case STORE_JOB_CANCELLED:
		return "cancelled";
	}
	return NULL;
}

const char *store_tgt_state_name(enum store_tgt_state st)
{
	switch (st) {
	case STORE_TGT_PENDING:
		return "pending";
	case STORE_TGT_ACTIVE:
		return "active";
	case STORE_TGT_DONE:
		return "done";
	case STORE_TGT_FAILED:
		return "failed";
	case STORE_TGT_CANCELLED:
		return "cancelled";
	}
	return NULL;
}
