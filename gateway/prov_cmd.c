/*
 * The REST commands of provisioning (prov.h): POST/GET /provisioning, one
 * session, its Output OOB value, its cancel, and POST /nodes/{a}/refresh.
 * A session is a target of a "provision" or "refresh" job; this file makes
 * the jobs and shows their targets as sessions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/nodes.h"
#include "gateway/prov_int.h"
#include "gateway/util.h"
#include "mesh/crypto.h"

#define PROV_REQ_MAX 32 /* devices per POST /provisioning */
#define PROV_LIST_MAX 64

static const char *const proc_names[] = {"device_key", "address", "composition"};

/* A new target from one entry of POST /provisioning; err names the field at fault. */
static int target_from_json(struct gw_prov *P, json_t *d, const char *alg,
			    struct store_job_target_new *t, uint8_t *oob, json_t **params,
			    char *err, size_t cap)
{
	json_t *auth = json_object_get(d, "auth"), *server = json_object_get(d, "server");
	const char *name = json_string_value(json_object_get(d, "name"));
	const char *hex = json_string_value(json_object_get(auth, "static_oob"));
	struct prov_cfg cfg = {0};
	size_t l = hex ? strlen(hex) / 2 : 0;
	uint8_t method;
	int r;

	if (gw_unhex(json_string_value(json_object_get(d, "uuid")), t->uuid, 16)) {
		snprintf(err, cap, "uuid: expected 32 hex digits");
		return -EINVAL;
	}
	t->has_uuid = true;
	t->name = name ? name : "";
	if (hex && ((l != 16 && l != 32) || gw_unhex(hex, oob, l))) {
		snprintf(err, cap, "auth.static_oob: expected 32 or 64 hex digits");
		return -EINVAL;
	}
	r = prov_auth_cfg(&P->core->conf, auth, alg, oob, hex ? l : 0, &cfg, err, cap);
	method = cfg.auth_method;
	mesh_crypto_wipe(&cfg, sizeof(cfg));
	if (r) {
		return r;
	}
	if (method == PROV_AUTH_STATIC) {
		t->auth = oob;
		t->auth_len = l;
	}
	/* Stored without the static OOB value: that one is sealed apart. */
	*params = json_pack("{s:{s:s}}", "auth", "method",
			    json_string_value(json_object_get(auth, "method"))
				? json_string_value(json_object_get(auth, "method"))
				: "none");
	for (size_t i = 0; i < 3; i++) {
		static const char *const kept[] = {"action", "size", "certificate"};
		json_t *v = json_object_get(auth, kept[i]);

		if (v) {
			json_object_set(json_object_get(*params, "auth"), kept[i], v);
		}
	}
	/* A public key is no secret: it stays with the target for every attempt. */
	if (json_object_get(auth, "public_key")) {
		json_object_set(json_object_get(*params, "auth"), "public_key",
				json_object_get(auth, "public_key"));
	}
	if (json_is_integer(server)) {
		json_object_set(*params, "server", server);
	} else {
		/* The path planned now (each attempt chooses again from what was heard). */
		uint16_t via = gw_scan_best_via(P->scan, t->uuid);

		if (via) {
			json_object_set_new(*params, "via", json_integer(via));
		}
	}
	return 0;
}

/* A uuid that an unfinished provisioning job still works on. */
static bool same_uuid(const struct store_job_target *t, void *arg)
{
	return t->has_uuid && !memcmp(t->uuid, arg, 16);
}

static json_t *session_of(struct gw_prov *P, uint64_t job, uint32_t idx, const char *kind)
{
	struct store_job_target t;
	struct gw_job_run *run = gw_jobs_run(P->jobs, job, idx);
	json_t *o;

	if (store_job_target_get(P->core->st, job, idx, &t)) {
		return NULL;
	}
	o = prov_session_json(&t, kind, run ? run->priv : NULL);
	free(t.params);
	free(t.result);
	return o;
}

void gw_prov_cmd_start(struct gw_prov *P, struct gw_cmd *c)
{
	json_t *devs = json_object_get(c->args, "devices"), *d, *params[PROV_REQ_MAX] = {0};
	const char *alg = json_string_value(json_object_get(c->args, "algorithm"));
	struct store_job_target_new t[PROV_REQ_MAX];
	uint8_t oob[PROV_REQ_MAX][32];
	char err[256] = "", texts[PROV_REQ_MAX][256];
	json_t *out, *jp;
	uint64_t job = 0;
	size_t i, k, n = json_array_size(devs);
	int r = 0;

	if (!json_is_array(devs) || n == 0 || n > PROV_REQ_MAX) {
		gw_cmd_complete(P->core->q, c, -EINVAL, NULL, "devices: 1 to 32 entries");
		return;
	}
	if (!gw_bearer_ready(P->core->bearer)) {
		char note[240];

		/* Refused at once: a job would only wait for the radio, and the caller may not. */
		gw_core_bearer_note(P->core, note, sizeof(note));
		snprintf(err, sizeof(err), "the radio is not ready%.200s; try again later", note);
		gw_cmd_complete(P->core->q, c, -ENETDOWN, NULL, err);
		return;
	}
	memset(t, 0, sizeof(t));
	/* All or nothing: every entry is checked before the job exists. */
	json_array_foreach(devs, i, d)
	{
		char field[160] = "";
		struct store_node existing;

		r = target_from_json(P, d, alg, &t[i], oob[i], &params[i], field, sizeof(field));
		if (!r && store_node_get_by_uuid(P->core->st, t[i].uuid, &existing) == 0) {
			r = -EEXIST;
			snprintf(err, sizeof(err),
				 "devices[%zu]: already provisioned as node 0x%04x", i,
				 existing.unicast);
		} else if (!r && gw_jobs_any_target(P->jobs, &P->k_prov, same_uuid, t[i].uuid)) {
			r = -EBUSY;
			snprintf(err, sizeof(err),
				 "devices[%zu]: a session for this device is running", i);
		} else if (r) {
			snprintf(err, sizeof(err), "devices[%zu].%s", i, field);
		}
		for (k = 0; !r && k < i; k++) {
			if (!memcmp(t[k].uuid, t[i].uuid, 16)) {
				r = -EINVAL;
				snprintf(err, sizeof(err),
					 "devices[%zu]: the same uuid as devices[%zu]", i, k);
			}
		}
		if (r) {
			n = i + 1;
			break;
		}
		char *s = json_dumps(params[i], JSON_COMPACT);

		snprintf(texts[i], sizeof(texts[i]), "%s", s ? s : "{}");
		free(s);
		t[i].params = texts[i];
	}
	if (!r) {
		jp = alg ? json_pack("{s:s}", "algorithm", alg) : json_object();
		if (json_is_integer(json_object_get(c->args, "attention_s"))) {
			json_object_set(jp, "attention_s", json_object_get(c->args, "attention_s"));
		}
		r = gw_jobs_create(P->jobs, "provision", jp, c->who, t, n, &job);
		json_decref(jp);
		if (r) {
			snprintf(err, sizeof(err), "cannot create the job: %s", store_strerror(r));
		}
	}
	for (i = 0; i < n; i++) {
		json_decref(params[i]);
	}
	mesh_crypto_wipe(oob, sizeof(oob));
	if (r) {
		gw_cmd_complete(P->core->q, c, r, NULL, err);
		return;
	}
	/* The sessions as they are after the first ones started. */
	out = json_array();
	for (i = 0; i < n; i++) {
		json_t *s = session_of(P, job, (uint32_t)i, "provision");

		if (s) {
			json_array_append_new(out, s);
		}
	}
	gw_cmd_complete(P->core->q, c, 0,
			json_pack("{s:i, s:I, s:o}", "_http_status", 202, "job", (json_int_t)job,
				  "sessions", out),
			NULL);
}

void gw_prov_cmd_list(struct gw_prov *P, struct gw_cmd *c)
{
	struct store_job_filter f = {.limit = 50};
	struct store_job *jobs = NULL;
	json_t *items = json_array();
	size_t n = 0, i;

	/* Recent and active sessions: the targets of the newest provisioning and refresh jobs. */
	if (store_job_list(P->core->st, &f, &jobs, &n) == 0) {
		for (i = 0; i < n && json_array_size(items) < PROV_LIST_MAX; i++) {
			struct store_job_target *t = NULL;
			size_t nt = 0, k;

			if ((strcmp(jobs[i].kind, "provision") &&
			     strcmp(jobs[i].kind, "refresh")) ||
			    store_job_targets(P->core->st, jobs[i].id, &t, &nt)) {
				continue;
			}
			for (k = 0; k < nt && json_array_size(items) < PROV_LIST_MAX; k++) {
				struct gw_job_run *run = gw_jobs_run(P->jobs, t[k].job, t[k].idx);

				json_array_append_new(
				    items,
				    prov_session_json(&t[k], jobs[i].kind, run ? run->priv : NULL));
			}
			store_job_targets_free(t, nt);
		}
		store_jobs_free(jobs, n);
	}
	gw_cmd_complete(P->core->q, c, 0, json_pack("{s:o}", "items", items), NULL);
}

/* The session named by args.id ("J-I"): its job, index and kind; answers c if none. */
static bool session_arg(struct gw_prov *P, struct gw_cmd *c, uint64_t *job, uint32_t *idx,
			char *kind, size_t cap)
{
	const char *id = json_string_value(json_object_get(c->args, "id"));
	unsigned long long j = 0;
	unsigned i = 0;
	char tail;
	struct store_job sj;

	if (!id || sscanf(id, "%llu-%u%c", &j, &i, &tail) != 2 ||
	    store_job_get(P->core->st, j, &sj) != 0) {
		gw_cmd_complete(P->core->q, c, -ENOENT, NULL, "no such provisioning session");
		return false;
	}
	snprintf(kind, cap, "%s", sj.kind);
	store_job_clear(&sj);
	*job = j;
	*idx = i;
	/* A commission target is a session too: its Output OOB value comes here. */
	if (strcmp(kind, "provision") && strcmp(kind, "refresh") &&
	    (!P->user.kind || strcmp(kind, P->user.kind->name))) {
		gw_cmd_complete(P->core->q, c, -ENOENT, NULL, "no such provisioning session");
		return false;
	}
	return true;
}

void gw_prov_cmd_get(struct gw_prov *P, struct gw_cmd *c)
{
	uint64_t job;
	uint32_t idx;
	char kind[STORE_JOB_KIND_MAX];
	json_t *s;

	if (!session_arg(P, c, &job, &idx, kind, sizeof(kind))) {
		return;
	}
	s = session_of(P, job, idx, kind);
	gw_cmd_complete(P->core->q, c, s ? 0 : -ENOENT, s,
			s ? NULL : "no such provisioning session");
}

void gw_prov_cmd_oob(struct gw_prov *P, struct gw_cmd *c)
{
	const char *v = json_string_value(json_object_get(c->args, "value"));
	struct gw_core *core = P->core;
	struct gw_job_run *run;
	struct prov_run *pr;
	char kind[STORE_JOB_KIND_MAX];
	uint64_t job;
	uint32_t idx;
	int r;

	if (!session_arg(P, c, &job, &idx, kind, sizeof(kind))) {
		return;
	}
	run = gw_jobs_run(P->jobs, job, idx);
	pr = run ? run->priv : NULL;
	if (!pr || pr->phase != PH_WAITING_OOB || pr->auth_method != PROV_AUTH_OUTPUT) {
		gw_cmd_complete(core->q, c, -EBUSY, NULL,
				"the session is not waiting for an Output OOB value");
		return;
	}
	r = pr->remote ? pb_remote_input_oob(core->pbr, pr->link, v ? v : "", gw_core_now(core))
		       : prov_adv_input_oob(core->pa, pr->link, v ? v : "", gw_core_now(core));
	if (r) {
		gw_cmd_complete(core->q, c, -EINVAL, NULL,
				"value: not a valid value for this action and size");
		return;
	}
	prov_session_update(pr, PH_PROVISIONING);
	gw_core_rearm(core);
	gw_cmd_complete(core->q, c, 0, session_of(P, job, idx, kind), NULL);
}

void gw_prov_cmd_cancel(struct gw_prov *P, struct gw_cmd *c)
{
	char kind[STORE_JOB_KIND_MAX];
	uint64_t job;
	uint32_t idx;
	int r;

	if (!session_arg(P, c, &job, &idx, kind, sizeof(kind))) {
		return;
	}
	r = gw_jobs_cancel_target(P->jobs, job, idx);
	if (r == -EINPROGRESS) {
		gw_cmd_complete(
		    P->core->q, c, -EBUSY, NULL,
		    "the device has received its keys already; remove the node instead");
		return;
	}
	if (r == -EALREADY) {
		gw_cmd_complete(P->core->q, c, -EBUSY, NULL, "the session has ended already");
		return;
	}
	gw_cmd_complete(P->core->q, c, r, r ? NULL : session_of(P, job, idx, kind),
			r ? store_strerror(r) : NULL);
}

static bool same_node(const struct store_job_target *t, void *arg)
{
	return t->node == *(const uint16_t *)arg;
}

/* Can node a be refreshed now?  *n: its record; *why names a refusal. */
static int refreshable(struct gw_prov *P, uint16_t a, struct store_node *n, const char **why)
{
	if (a == 0 || a >= 0x8000 || store_node_get(P->core->st, a, n) || n->excluded) {
		*why = "no node with this address";
		return -ENOENT;
	}
	if (!gw_scan_is_rpr_server(P->core, a)) {
		*why = "the node has no Remote Provisioning Server (model 0x0004)";
		return -ENOTSUP;
	}
	if (gw_jobs_any_target(P->jobs, &P->k_refresh, same_node, &a)) {
		*why = "a refresh of this node is running";
		return -EBUSY;
	}
	return 0;
}

int gw_prov_refresh_create(struct gw_prov *P, const uint16_t *nodes, size_t n,
			   enum gw_prov_nppi procedure, const char *who, uint64_t op, uint64_t *job,
			   const char **why)
{
	struct store_job_target_new *t = calloc(n ? n : 1, sizeof(*t));
	struct store_node *rec = calloc(n ? n : 1, sizeof(*rec));
	json_t *params = json_pack("{s:I}", "op", (json_int_t)op);
	char tp[48];
	size_t i;
	int r = t && rec && params ? 0 : -ENOMEM;

	*why = NULL;
	snprintf(tp, sizeof(tp), "{\"procedure\": %d}", (int)procedure);
	for (i = 0; !r && i < n; i++) {
		r = refreshable(P, nodes[i], &rec[i], why);
		if (!r) {
			t[i].has_uuid = true;
			memcpy(t[i].uuid, rec[i].uuid, 16);
			t[i].node = rec[i].unicast;
			t[i].name = rec[i].name;
			t[i].params = tp;
		}
	}
	if (!r) {
		r = gw_jobs_create(P->jobs, "refresh", params, who, t, n, job);
	}
	json_decref(params);
	free(rec);
	free(t);
	return r;
}

void gw_prov_cmd_refresh(struct gw_prov *P, struct gw_cmd *c)
{
	json_int_t a = json_integer_value(json_object_get(c->args, "address"));
	const char *proc = json_string_value(json_object_get(c->args, "procedure"));
	struct gw_core *core = P->core;
	struct store_op rec;
	struct store_node n;
	uint64_t op = 0, job = 0;
	uint16_t addr = a > 0 && a < 0x8000 ? (uint16_t)a : 0;
	const char *why = NULL;
	char sid[48];
	json_t *o = NULL;
	int p = -1, r;
	size_t i;

	for (i = 0; proc && i < 3; i++) {
		if (!strcmp(proc, proc_names[i])) {
			p = (int)i;
		}
	}
	if (p < 0) {
		gw_cmd_complete(core->q, c, -EINVAL, NULL,
				"procedure: device_key, address or composition");
		return;
	}
	/* Refused before an operation record exists. */
	r = refreshable(P, addr, &n, &why);
	if (r) {
		gw_cmd_complete(core->q, c, r, NULL, why);
		return;
	}
	r = store_op_create(core->st, "refresh", &op);
	if (!r) {
		r = gw_prov_refresh_create(P, &addr, 1, (enum gw_prov_nppi)p, c->who, op, &job,
					   &why);
	}
	if (r) {
		gw_nodes_op_finish(core, op, STORE_OP_FAILED, NULL, why ? why : store_strerror(r));
		gw_cmd_complete(core->q, c, r, NULL, why ? why : store_strerror(r));
		return;
	}
	if (store_op_get(core->st, op, &rec) == 0) {
		o = gw_op_json(&rec, addr);
		store_op_clear(&rec);
	}
	if (!o) {
		o = json_object();
	}
	snprintf(sid, sizeof(sid), "%llu-0", (unsigned long long)job);
	json_object_set_new(o, "session", json_string(sid));
	json_object_set_new(o, "job", json_integer((json_int_t)job));
	json_object_set_new(o, "_http_status", json_integer(202));
	gw_cmd_complete(core->q, c, 0, o, NULL);
}
