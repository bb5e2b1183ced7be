/*
 * The job engine's views (jobs.h, jobs_int.h): a job and a target as the
 * API and the event stream show them, and the commands that only read jobs
 * (list, get).  Jobs are read from the store; a target's active attempt, if
 * any, from the engine's memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/jobs.h"
#include "gateway/jobs_int.h"
#include "gateway/util.h"

static void counts_of(const struct store_job_target *t, size_t n, size_t c[STORE_TGT_STATES])
{
	size_t i;

	memset(c, 0, sizeof(size_t) * STORE_TGT_STATES);
	for (i = 0; i < n; i++) {
		c[t[i].state % STORE_TGT_STATES]++;
	}
}

static json_t *counts_json(const size_t c[STORE_TGT_STATES])
{
	json_t *o = json_object();
	int s;

	for (s = 0; s < STORE_TGT_STATES; s++) {
		json_object_set_new(o, store_tgt_state_name((enum store_tgt_state)s),
				    json_integer((json_int_t)c[s]));
	}
	return o;
}

static json_t *opt_time(uint64_t ms)
{
	return ms ? gw_time_json(ms) : json_null();
}

json_t *jobs_job_json(const struct store_job *sj, const size_t c[STORE_TGT_STATES], size_t total)
{
	json_t *params = json_loads(sj->params ? sj->params : "{}", 0, NULL);
	bool cancelling = sj->state == STORE_JOB_PAUSED && !strcmp(sj->error, JOBS_CANCEL_MARK);

	return json_pack(
	    "{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "id", (json_int_t)sj->id,
	    "kind", sj->kind, "state", cancelling ? "cancelling" : store_job_state_name(sj->state),
	    "created_by", sj->created_by, "created_at", gw_time_json(sj->created_ms), "updated_at",
	    gw_time_json(sj->updated_ms), "finished_at", opt_time(sj->finished_ms), "error",
	    sj->error[0] && !cancelling ? json_string(sj->error) : json_null(), "params",
	    params ? params : json_object(), "counts", counts_json(c), "total", (json_int_t)total);
}

json_t *gw_jobs_target_json(struct gw_jobs *J, const struct store_job_target *t)
{
	char uuid[33];
	struct job_mem *j = jobs_find(J, t->job);
	const struct gw_job_run *run = j && t->idx < j->n ? j->run[t->idx] : NULL;
	const struct gw_job_kind *k = j ? j->kind : NULL;
	json_t *res = t->result ? json_loads(t->result, 0, NULL) : NULL;
	json_t *o;

	o = json_pack("{s:I, s:i, s:s, s:i, s:i, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		      "job", (json_int_t)t->job, "index", (int)t->idx, "state",
		      store_tgt_state_name(t->state), "step", t->step, "attempts", (int)t->attempts,
		      "uuid", t->has_uuid ? json_string(gw_hex(t->uuid, 16, uuid)) : json_null(),
		      "node", t->node ? json_integer(t->node) : json_null(), "name", t->name,
		      "address", t->addr ? json_integer(t->addr) : json_null(), "via",
		      t->via ? json_integer(t->via) : json_null(), "next_attempt_at",
		      t->state == STORE_TGT_PENDING && t->next_ms > gw_wall_ms()
			  ? gw_time_json(t->next_ms)
			  : json_null(),
		      "error", t->error[0] ? json_string(t->error) : json_null(), "result",
		      res ? res : json_null(), "created_at", gw_time_json(t->created_ms),
		      "updated_at", gw_time_json(t->updated_ms));
	if (!k) {
		struct store_job sj;

		if (store_job_get(J->core->st, t->job, &sj) == 0) {
			k = jobs_kind_by_name(J, sj.kind);
			store_job_clear(&sj);
		}
	}
	if (o && k && k->target_json) {
		k->target_json(k->ctx, t, run, o);
	}
	return o;
}

int jobs_id_arg(struct gw_jobs *J, struct gw_cmd *c, struct store_job *sj)
{
	json_t *v = json_object_get(c->args, "id");
	json_int_t id = json_is_integer(v) ? json_integer_value(v) : 0;
	const char *s = json_string_value(v);
	int r;

	if (s) {
		char *end = NULL;

		id = (json_int_t)strtoll(s, &end, 10);
		if (!end || *end) {
			id = 0;
		}
	}
	r = id > 0 ? store_job_get(J->core->st, (uint64_t)id, sj) : -ENOENT;
	if (r) {
		gw_cmd_complete(J->core->q, c, -ENOENT, NULL, "no such job");
	}
	return r;
}

json_t *jobs_job_view(struct gw_jobs *J, const struct store_job *sj, bool with_targets)
{
	struct store_job_target *t = NULL;
	size_t n = 0, i, c[STORE_TGT_STATES];
	json_t *o, *arr;

	if (store_job_targets(J->core->st, sj->id, &t, &n)) {
		return NULL;
	}
	counts_of(t, n, c);
	o = jobs_job_json(sj, c, n);
	if (with_targets) {
		arr = json_array();
		for (i = 0; i < n; i++) {
			json_array_append_new(arr, gw_jobs_target_json(J, &t[i]));
		}
		json_object_set_new(o, "targets", arr);
	}
	store_job_targets_free(t, n);
	return o;
}

void gw_jobs_cmd_list(struct gw_jobs *J, struct gw_cmd *c)
{
	json_int_t limit = json_integer_value(json_object_get(c->args, "limit"));
	json_int_t offset = json_integer_value(json_object_get(c->args, "offset"));
	const char *kind = json_string_value(json_object_get(c->args, "kind"));
	json_t *unf = json_object_get(c->args, "unfinished");
	struct store_job_filter f = {0};
	struct store_job *list = NULL;
	size_t n = 0, total = 0, i;
	json_t *items;
	int r;

	f.kind = kind;
	f.unfinished_only = json_is_true(unf);
	f.limit = limit > 0 && limit <= JOBS_LIST_MAX ? (size_t)limit : 50;
	f.offset = offset > 0 ? (size_t)offset : 0;
	r = store_job_list(J->core->st, &f, &list, &n);
	if (!r) {
		r = store_job_count(J->core->st, &f, &total);
	}
	if (r) {
		store_jobs_free(list, n);
		gw_cmd_complete(J->core->q, c, r, NULL, store_strerror(r));
		return;
	}
	items = json_array();
	for (i = 0; i < n; i++) {
		json_t *o = jobs_job_view(J, &list[i], false);

		if (o) {
			json_array_append_new(items, o);
		}
	}
	store_jobs_free(list, n);
	gw_cmd_complete(J->core->q, c, 0,
			json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total",
				  (json_int_t)total, "limit", (json_int_t)f.limit, "offset",
				  (json_int_t)f.offset),
			NULL);
}

void gw_jobs_cmd_get(struct gw_jobs *J, struct gw_cmd *c)
{
	struct store_job sj;
	json_t *o;

	if (jobs_id_arg(J, c, &sj)) {
		return;
	}
	o = jobs_job_view(J, &sj, true);
	store_job_clear(&sj);
	gw_cmd_complete(J->core->q, c, o ? 0 : -EIO, o, o ? NULL : "cannot read the job's targets");
}
