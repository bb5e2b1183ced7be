/*
 * Change of ownership as a job (owner.h).
 *
 * A target never holds an attempt open: each start() either creates the
 * job that does its part, or finds that job and, while it runs, answers
 * -EBUSY (the engine asks again at its next scheduling pass, which the end
 * of any attempt brings, those of the job waited for included), or reports
 * its end.  Write-ahead: step OWN_STEP_CREATE is committed before the job
 * is created; after a restart a target at that step first looks for a job
 * created by its name, so a job is never created twice for one target.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/owner.h"
#include "gateway/scan.h"
#include "gateway/util.h"
#include "mesh/crypto.h"

enum {
	OWN_STEP_NONE = 0,
	OWN_STEP_CREATE = 1, /* the part's job is about to be created */
	OWN_STEP_WAIT = 2,   /* it was created: wait for its end */
};

static const char not_in_place[] =
    "no Remote Provisioning Server: its DevKey cannot be rotated in place "
    "(provision the device again to change it)";

struct gw_own {
	struct gw_core *core;
	struct gw_jobs *jobs;
	struct gw_kr *kr;
	struct gw_prov *prov;
	struct gw_job_kind kind;
};

/* Is target part the device keys (else a NetKey's Key Refresh)? */
static bool devkey_part(const json_t *params)
{
	const char *part = json_string_value(json_object_get(params, "part"));

	return part && !strcmp(part, "device_key");
}

static void who_of(uint64_t job, char *who, size_t cap)
{
	snprintf(who, cap, "ownership job %llu", (unsigned long long)job);
}

/* A NetKey target of the same job that has not finished: the device keys wait for it. */
static bool subnet_unfinished(const struct store_job_target *t, void *arg)
{
	json_t *p;
	bool subnet;

	if (t->job != *(const uint64_t *)arg) {
		return false;
	}
	p = json_loads(t->params ? t->params : "{}", 0, NULL);
	subnet = !devkey_part(p);
	json_decref(p);
	return subnet;
}

/* The job this target created (newest first), into *out.  -ENOENT: none. */
static int find_child(struct gw_own *o, struct gw_job_run *run, struct store_job *out)
{
	struct store_job_filter f = {.kind = devkey_part(run->params) ? "refresh" : "key_refresh"};
	json_int_t net = json_integer_value(json_object_get(run->params, "net_index"));
	struct store_job *list = NULL;
	char who[STORE_NAME_MAX];
	size_t n = 0, i;
	int r = store_job_list(o->core->st, &f, &list, &n);

	who_of(run->t.job, who, sizeof(who));
	for (i = 0; !r && i < n; i++) {
		json_t *p = json_loads(list[i].params, 0, NULL);
		bool mine = !strcmp(list[i].created_by, who) &&
			    (devkey_part(run->params) ||
			     json_integer_value(json_object_get(p, "net_index")) == net);

		json_decref(p);
		if (mine) {
			r = store_job_get(o->core->st, list[i].id, out);
			store_jobs_free(list, n);
			return r;
		}
	}
	store_jobs_free(list, n);
	return r ? r : -ENOENT;
}

/* The nodes of the job's device_key list still active: new array (caller frees), *n. */
static uint16_t *devkey_nodes(struct gw_own *o, const json_t *job_params, size_t *n)
{
	const json_t *list = json_object_get(job_params, "device_key");
	uint16_t *out = calloc(json_array_size(list) + 1, sizeof(*out));
	struct store_node rec;
	size_t i;
	json_t *v;

	*n = 0;
	json_array_foreach(list, i, v)
	{
		uint16_t a = (uint16_t)json_integer_value(v);

		if (out && store_node_get(o->core->st, a, &rec) == 0 && !rec.excluded) {
			out[(*n)++] = a;
		}
	}
	return out;
}

/* Create the part's job.  0 with *job (0: nothing to do, *note says why); else as the kinds'. */
static int create_child(struct gw_own *o, struct gw_job_run *run, uint64_t *job, const char **note)
{
	char who[STORE_NAME_MAX];
	uint16_t *nodes;
	size_t n;
	int r;

	who_of(run->t.job, who, sizeof(who));
	*job = 0;
	*note = NULL;
	if (!devkey_part(run->params)) {
		uint16_t net =
		    (uint16_t)json_integer_value(json_object_get(run->params, "net_index"));

		r = gw_kr_start(o->kr, net, who, job, note);
		if (r == -ENOENT) {
			return 0; /* no node holds the NetKey any more: *note says so */
		}
		return r;
	}
	nodes = devkey_nodes(o, run->job_params, &n);
	if (!nodes) {
		return -ENOMEM;
	}
	r = n ? gw_prov_refresh_create(o->prov, nodes, n, GW_PROV_NPPI_DEVICE_KEY, who, 0, job,
				       note)
	      : 0;
	if (!n) {
		*note = "none of the nodes is left in the inventory";
	}
	free(nodes);
	return r;
}

/* A Key Refresh job has ended: its NetKey back in phase 0 with the driver's report. */
static void report_subnet(struct gw_own *o, struct gw_job_run *run, const struct store_job *child,
			  const struct store_job_target *t, size_t n)
{
	uint16_t net = (uint16_t)json_integer_value(json_object_get(run->params, "net_index"));
	json_t *drv = NULL, *res;
	struct store_netkey k;
	char why[STORE_JOB_ERROR_MAX], *text;
	int phase = -1;
	size_t i;

	for (i = 0; i < n && !drv; i++) {
		json_t *x = t[i].result ? json_loads(t[i].result, 0, NULL) : NULL;

		if (json_integer_value(json_object_get(x, "phase")) == 0 &&
		    json_object_get(x, "unconfirmed")) {
			drv = x;
		} else {
			json_decref(x);
		}
	}
	if (store_netkey_get(o->core->st, net, &k) == 0) {
		phase = (int)k.phase;
	}
	mesh_crypto_wipe(&k, sizeof(k));
	if (child->state != STORE_JOB_DONE || !drv || phase != STORE_KR_NORMAL) {
		json_decref(drv);
		snprintf(why, sizeof(why), "Key Refresh job %llu %s with NetKey %u in phase %d",
			 (unsigned long long)child->id,
			 child->state == STORE_JOB_CANCELLED ? "was cancelled" : "ended", net,
			 phase);
		gw_jobs_end(run, GW_JOB_FAIL, why, NULL);
		return;
	}
	res = json_pack("{s:i, s:I, s:O, s:O}", "net_index", net, "job", (json_int_t)child->id,
			"left_out", json_object_get(drv, "left_out"), "unconfirmed",
			json_object_get(drv, "unconfirmed"));
	json_decref(drv);
	text = res ? json_dumps(res, JSON_COMPACT) : NULL;
	json_decref(res);
	gw_jobs_end(run, GW_JOB_OK, NULL, text);
	free(text);
}

/* The Device Key Refresh job has ended: which nodes have a new DevKey, which do not. */
static void report_devkeys(struct gw_job_run *run, const struct store_job *child,
			   const struct store_job_target *t, size_t n)
{
	json_t *rotated = json_array(), *res;
	char why[STORE_JOB_ERROR_MAX] = "", *text;
	size_t i, k = 0, failed = 0;

	for (i = 0; i < n; i++) {
		if (t[i].state == STORE_TGT_DONE) {
			json_array_append_new(rotated, json_integer(t[i].node));
			continue;
		}
		failed++;
		if (k < sizeof(why)) {
			k += (size_t)snprintf(why + k, sizeof(why) - k, "%s0x%04x (%.60s)",
					      k ? ", " : "", t[i].node, t[i].error);
		}
	}
	if (failed) {
		char msg[STORE_JOB_ERROR_MAX];

		snprintf(msg, sizeof(msg), "DevKey not rotated on %zu node(s) (job %llu): %.180s",
			 failed, (unsigned long long)child->id, why);
		json_decref(rotated);
		gw_jobs_end(run, GW_JOB_FAIL, msg, NULL);
		return;
	}
	res = json_pack("{s:I, s:o, s:O}", "job", (json_int_t)child->id, "rotated", rotated,
			"not_rotated", json_object_get(run->job_params, "not_rotated"));
	text = res ? json_dumps(res, JSON_COMPACT) : NULL;
	json_decref(res);
	gw_jobs_end(run, GW_JOB_OK, NULL, text);
	free(text);
}

/* Nothing to do for this part: done at once, saying why. */
static void end_empty(struct gw_job_run *run, const char *note)
{
	json_t *res =
	    devkey_part(run->params)
		? json_pack("{s:n, s:[], s:O, s:s}", "job", "rotated", "not_rotated",
			    json_object_get(run->job_params, "not_rotated"), "note", note)
		: json_pack("{s:O, s:n, s:s}", "net_index",
			    json_object_get(run->params, "net_index"), "job", "note", note);
	char *text = res ? json_dumps(res, JSON_COMPACT) : NULL;

	json_decref(res);
	gw_jobs_end(run, GW_JOB_OK, NULL, text);
	free(text);
}

static int own_start(void *ctx, struct gw_job_run *run)
{
	struct gw_own *o = ctx;
	struct store_job child;
	struct store_job_target *t = NULL;
	const char *note = NULL;
	uint64_t id = 0;
	size_t n = 0;
	int r;

	if (run->cancelled) {
		/* A cancelled job's part stops here; own_cancelled() cancelled its job. */
		gw_jobs_end(run, GW_JOB_FAIL, "cancelled", NULL);
		return 0;
	}
	if (devkey_part(run->params) &&
	    gw_jobs_any_target(o->jobs, &o->kind, subnet_unfinished, &run->t.job)) {
		return -EBUSY; /* NPPI waits for the subnets' new keys anyway (prov.c) */
	}
	r = find_child(o, run, &child);
	if (r == -ENOENT) {
		run->t.step = OWN_STEP_CREATE;
		r = gw_jobs_commit(run);
		if (r) {
			return r;
		}
		gw_crash_point("ownership.child");
		r = create_child(o, run, &id, &note);
		if (r == -EBUSY) {
			return r; /* another Key Refresh, or a refresh of a node, runs: wait */
		}
		if (r) {
			snprintf(run->t.error, sizeof(run->t.error), "%s",
				 note ? note : store_strerror(r));
			return r;
		}
		if (!id) {
			end_empty(run, note);
			return 0;
		}
		run->t.step = OWN_STEP_WAIT;
		(void)gw_jobs_commit(run);
		log_info("ownership job %llu: %s job %llu started", (unsigned long long)run->t.job,
			 run->t.name, (unsigned long long)id);
		return -EBUSY; /* it runs: its end brings this target back */
	}
	if (r) {
		return r;
	}
	if (child.state == STORE_JOB_RUNNING || child.state == STORE_JOB_PAUSED) {
		store_job_clear(&child);
		return -EBUSY;
	}
	r = store_job_targets(o->core->st, child.id, &t, &n);
	if (!r && devkey_part(run->params)) {
		report_devkeys(run, &child, t, n);
	} else if (!r) {
		report_subnet(o, run, &child, t, n);
	}
	store_job_targets_free(t, n);
	store_job_clear(&child);
	return r;
}

/*
 * The ownership job was cancelled: so is every job its parts started and
 * that still runs (the Key Refreshes, the Device Key Refresh), so that the
 * operator's cancel stops the whole change and not only its parent.
 */
static void own_cancelled(void *ctx, uint64_t job)
{
	static const char *const kinds[] = {"key_refresh", "refresh"};
	struct gw_own *o = ctx;
	char who[STORE_NAME_MAX];
	size_t k, i, n;

	who_of(job, who, sizeof(who));
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct store_job_filter f = {.unfinished_only = true, .kind = kinds[k]};
		struct store_job *list = NULL;
		int r = store_job_list(o->core->st, &f, &list, &n);

		for (i = 0; !r && i < n; i++) {
			if (!strcmp(list[i].created_by, who)) {
				int c = gw_jobs_cancel(o->jobs, list[i].id);

				log_info("ownership job %llu cancelled: %s job %llu %s",
					 (unsigned long long)job, kinds[k],
					 (unsigned long long)list[i].id,
					 c ? store_strerror(c) : "cancelled");
			}
		}
		if (r) {
			log_warnx("ownership job %llu cancelled: cannot list its %s jobs: %s",
				  (unsigned long long)job, kinds[k], store_strerror(r));
		} else {
			store_jobs_free(list, n);
		}
	}
}

static void own_stop(void *ctx, struct gw_job_run *run, bool stopping)
{
	(void)ctx;
	/* start() never leaves an attempt open; a cancelled one ends when it comes back. */
	if (!stopping) {
		gw_jobs_end(run, GW_JOB_FAIL, "cancelled", NULL);
	}
}

/* The job's parameters and targets from the inventory.  *t: names in names (caller frees both). */
static int plan(struct gw_own *o, json_t *params, struct store_job_target_new **t, size_t *n,
		char (**names)[24], char (**tparams)[48])
{
	struct store_netkey *nk = NULL;
	struct store_node *nodes = NULL;
	struct store_node_filter f = {0};
	size_t n_nk = 0, n_nodes = 0, i;
	json_t *nets = json_array(), *dk = json_array(), *nr = json_array();
	int r = store_netkey_list(o->core->st, &nk, &n_nk);

	if (!r) {
		r = store_node_list(o->core->st, &f, &nodes, &n_nodes);
	}
	*n = 0;
	*t = r ? NULL : calloc(n_nk + 1, sizeof(**t));
	*names = r ? NULL : calloc(n_nk + 1, sizeof(**names));
	*tparams = r ? NULL : calloc(n_nk + 1, sizeof(**tparams));
	if (!r && (!*t || !*names || !*tparams)) {
		r = -ENOMEM;
	}
	for (i = 0; !r && i < n_nk; i++) {
		snprintf((*names)[*n], sizeof((*names)[*n]), "NetKey %u", nk[i].idx);
		snprintf((*tparams)[*n], sizeof((*tparams)[*n]),
			 "{\"part\": \"key_refresh\", \"net_index\": %u}", nk[i].idx);
		(*t)[*n].name = (*names)[*n];
		(*t)[*n].params = (*tparams)[*n];
		(*n)++;
		json_array_append_new(nets, json_integer(nk[i].idx));
	}
	for (i = 0; !r && i < n_nodes; i++) {
		if (gw_scan_is_rpr_server(o->core, nodes[i].unicast)) {
			json_array_append_new(dk, json_integer(nodes[i].unicast));
		} else {
			json_array_append_new(nr,
					      json_pack("{s:i, s:s}", "address", nodes[i].unicast,
							"reason", not_in_place));
		}
	}
	if (!r && json_array_size(dk)) {
		snprintf((*names)[*n], sizeof((*names)[*n]), "device keys");
		snprintf((*tparams)[*n], sizeof((*tparams)[*n]), "{\"part\": \"device_key\"}");
		(*t)[*n].name = (*names)[*n];
		(*t)[*n].params = (*tparams)[*n];
		(*n)++;
	}
	store_netkeys_free(nk, n_nk);
	store_nodes_free(nodes);
	json_object_set_new(params, "net_indexes", nets);
	json_object_set_new(params, "device_key", dk);
	json_object_set_new(params, "not_rotated", nr);
	return r;
}

void gw_own_cmd_start(struct gw_own *o, struct gw_cmd *c)
{
	struct store_job_target_new *t = NULL;
	char(*names)[24] = NULL, (*tparams)[48] = NULL;
	json_t *params = json_object();
	const char *why = NULL;
	uint64_t job = 0;
	size_t n = 0;
	int r = params ? 0 : -ENOMEM;

	if (!r && gw_jobs_any_target(o->jobs, &o->kind, NULL, NULL)) {
		r = -EBUSY;
		why = "a change of ownership is running";
	}
	if (!r) {
		r = plan(o, params, &t, &n, &names, &tparams);
	}
	if (!r && n == 0) {
		r = -ENOENT;
		why = "the network has no NetKey";
	}
	if (!r) {
		r = gw_jobs_create(o->jobs, "ownership", params, c->who, t, n, &job);
	}
	free(t);
	free(names);
	free(tparams);
	if (r) {
		json_decref(params);
		gw_cmd_complete(o->core->q, c, r, NULL, why ? why : store_strerror(r));
		return;
	}
	log_info("change of ownership started by %s (job %llu: %zu NetKey(s), %zu DevKey(s), %zu "
		 "node(s) whose DevKey cannot be rotated)",
		 c->who, (unsigned long long)job,
		 json_array_size(json_object_get(params, "net_indexes")),
		 json_array_size(json_object_get(params, "device_key")),
		 json_array_size(json_object_get(params, "not_rotated")));
	json_object_set_new(params, "_http_status", json_integer(202));
	json_object_set_new(params, "job", json_integer((json_int_t)job));
	json_object_set_new(params, "targets", json_integer((json_int_t)n));
	gw_cmd_complete(o->core->q, c, 0, params, NULL);
	gw_core_rearm(o->core);
}

struct gw_own *gw_own_new(struct gw_core *core, struct gw_jobs *jobs, struct gw_kr *kr,
			  struct gw_prov *prov)
{
	struct gw_own *o = calloc(1, sizeof(*o));

	if (!o) {
		return NULL;
	}
	*o = (struct gw_own){.core = core, .jobs = jobs, .kr = kr, .prov = prov};
	o->kind = (struct gw_job_kind){.name = "ownership",
				       .ctx = o,
				       .start = own_start,
				       .stop = own_stop,
				       .cancelled = own_cancelled};
	if (gw_jobs_register(jobs, &o->kind)) {
		free(o);
		return NULL;
	}
	return o;
}

void gw_own_free(struct gw_own *o)
{
	free(o);
}
