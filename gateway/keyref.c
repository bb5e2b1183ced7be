/*
 * Key Refresh of a subnet as a job (keyref.h, Mesh Profile §3.11.4).
 *
 * Write-ahead order: the new keys are sealed in the inventory (NetKey in
 * phase 1, each AppKey bound to it with its old key kept) before the
 * gateway's own node or any other node receives them, and each target
 * commits its step before the message it stands for goes out.  Every
 * message is one a node accepts again unchanged (NetKey Update with the
 * same key in phase 1, AppKey Update in phase 1, Key Refresh Phase Set 2 in
 * phase 2 and 3 in phase 0 all answer Success), so a step resumed after a
 * restart is simply sent again.
 *
 * Phases 2 and 3 belong to the subnet, not to one node: the target that
 * completes phase 1 last, with every other target done, commits the phase
 * with the inventory's phase in one transaction, moves the gateway's own
 * node, then sends Key Refresh Phase Set to each node in turn.  A node that
 * does not confirm a phase is listed in the result but does not stop the
 * refresh: the gateway's Secure Network Beacons carry the Key Refresh flag
 * on the new key, which moves every node that hears them (§3.10.4).
 *
 * A node that does not answer in phase 1 is tried again with a growing
 * delay for as long as the job runs: the operator waits for it, or
 * finishes without it (POST /jobs/{id}/finish-without): it is then
 * excluded and removed from the inventory, and phase 2 goes on without
 * it.  A node removed while the refresh runs is skipped the same way.  A node that refuses an
 * update (an error status) fails its target and stops the refresh before phase 2 unless it is left
 * out too: the NetKey stays in phase 1 and a new POST distributes the same new keys.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/keyref.h"
#include "gateway/log.h"
#include "gateway/util.h"
#include "mesh/cfg_msg.h"
#include "mesh/crypto.h"
#include "mesh/net.h"

/*
 * Steps of a target: NETKEY, then APP + i for the i-th AppKey of the node
 * (in the job's order), then, for the target that drives the subnet's
 * later phases, PHASE2 and PHASE3.
 */
enum {
	KR_STEP_NONE = 0,
	KR_STEP_NETKEY = 1,
	KR_STEP_APP = 2,
	KR_STEP_PHASE2 = 1000,
	KR_STEP_PHASE3 = 1001,
};

#define KR_APPS_MAX 64

struct gw_kr {
	struct gw_core *core;
	struct gw_jobs *jobs;
	struct gw_job_kind kind;
	uint32_t serial; /* of requests, to tell a stale answer from the current */
};

/* An attempt's state (run->priv). */
struct kr_run {
	uint32_t serial;
	uint16_t net;
	uint16_t apps[KR_APPS_MAX]; /* the node's AppKeys of this refresh */
	size_t n_apps;
	uint16_t *nodes; /* phases 2 and 3: every target's node */
	size_t n_nodes, pos;
	json_t *unconfirmed; /* phases 2 and 3: nodes that did not confirm */
	json_t *left_out;    /* phases 2 and 3: nodes the operator finished without */
};

/* The answer to one request names the attempt and request it belongs to. */
struct kr_ticket {
	struct gw_kr *kr;
	uint64_t job;
	uint32_t idx;
	uint32_t serial;
};

static void run_free(struct gw_job_run *run)
{
	struct kr_run *p = run->priv;

	if (p) {
		free(p->nodes);
		json_decref(p->unconfirmed);
		json_decref(p->left_out);
		free(p);
		run->priv = NULL;
	}
}

static int send_next(struct gw_kr *kr, struct gw_job_run *run);

static void end(struct gw_job_run *run, enum gw_job_outcome o, const char *error,
		const char *result)
{
	run_free(run);
	gw_jobs_end(run, o, error, result);
}

/* Build the Config message of the current step; keys come from the inventory. */
static int build(struct gw_kr *kr, struct gw_job_run *run, struct cfg_msg *m, uint16_t *dst)
{
	struct kr_run *p = run->priv;
	int32_t step = run->t.step;
	int r = 0;

	*dst = run->t.node;
	if (step == KR_STEP_NETKEY) {
		struct store_netkey k;

		r = store_netkey_get(kr->core->st, p->net, &k);
		if (!r && !k.has_old) {
			r = -EINVAL; /* the refresh was finished meanwhile: not in phase 1 */
		}
		if (!r) {
			m->op = CFG_OP_NETKEY_UPDATE;
			m->netkey.net_idx = p->net;
			memcpy(m->netkey.key, k.key, 16);
		}
		mesh_crypto_wipe(&k, sizeof(k));
	} else if (step >= KR_STEP_APP && step < KR_STEP_PHASE2) {
		struct store_appkey k;
		uint16_t app = p->apps[step - KR_STEP_APP];

		r = store_appkey_get(kr->core->st, app, &k);
		if (!r && !k.has_old) {
			r = -EINVAL;
		}
		if (!r) {
			m->op = CFG_OP_APPKEY_UPDATE;
			m->appkey.net_idx = p->net;
			m->appkey.app_idx = app;
			memcpy(m->appkey.key, k.key, 16);
		}
		mesh_crypto_wipe(&k, sizeof(k));
	} else {
		m->op = CFG_OP_KRP_SET;
		m->net_idx.net_idx = p->net;
		m->net_idx.state =
		    step == KR_STEP_PHASE2 ? CFG_KR_TRANSITION_2 : CFG_KR_TRANSITION_3;
		*dst = p->nodes[p->pos];
	}
	return r;
}

static void on_answer(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp);

static int send_next(struct gw_kr *kr, struct gw_job_run *run)
{
	struct kr_run *p = run->priv;
	struct kr_ticket *tk = calloc(1, sizeof(*tk));
	struct cfg_msg m = {0};
	uint16_t dst = 0;
	int r;

	if (!tk) {
		return -ENOMEM;
	}
	p->serial = ++kr->serial;
	*tk = (struct kr_ticket){kr, run->t.job, run->t.idx, p->serial};
	r = build(kr, run, &m, &dst);
	if (!r) {
		r = cfg_cli_request(kr->core->cfg, p->net, dst, NULL, &m, GW_CFG_TIMEOUT_MS,
				    GW_CFG_RETRY_MS, on_answer, tk, gw_core_now(kr->core));
	}
	mesh_crypto_wipe(&m, sizeof(m));
	if (r) {
		free(tk);
		return r;
	}
	gw_core_rearm(kr->core);
	return 0;
}

/* Commit step (write-ahead), then send its message. */
static int step_to(struct gw_kr *kr, struct gw_job_run *run, int32_t step, const char *crash)
{
	int r;

	run->t.step = step;
	r = gw_jobs_commit(run);
	if (r) {
		return r;
	}
	gw_crash_point(crash);
	return send_next(kr, run);
}

/* Has the node left the inventory (removed, or left out of this refresh) since the job began? */
static bool node_gone(struct gw_kr *kr, uint16_t addr)
{
	struct store_node n;
	int r = store_node_get(kr->core->st, addr, &n);

	return r == -ENOENT || (!r && n.excluded);
}

/* Every target's node, for the rounds of phases 2 and 3, but those left out or removed. */
static int load_nodes(struct gw_kr *kr, struct gw_job_run *run)
{
	struct kr_run *p = run->priv;
	struct store_job_target *t = NULL;
	size_t n = 0, i;
	int r = store_job_targets(kr->core->st, run->t.job, &t, &n);

	free(p->nodes);
	p->nodes = r ? NULL : calloc(n ? n : 1, sizeof(*p->nodes));
	p->n_nodes = 0;
	p->pos = 0;
	if (!r && !p->nodes) {
		r = -ENOMEM;
	}
	json_decref(p->left_out);
	p->left_out = json_array();
	for (i = 0; !r && i < n; i++) {
		if (t[i].step == GW_JOB_STEP_LEFT_OUT || node_gone(kr, t[i].node)) {
			/* Excluded: the rounds skip it; the result names it. */
			json_array_append_new(p->left_out, json_integer(t[i].node));
			continue;
		}
		p->nodes[p->n_nodes++] = t[i].node;
	}
	store_job_targets_free(t, n);
	return r;
}

/*
 * Enter phase 2 or 3 for the subnet: the inventory and this target's step
 * in one transaction, then the gateway's own node, then the round of Key
 * Refresh Phase Set.  Each part is skipped when it is there already (a
 * resumed step).
 */
static int enter_phase(struct gw_kr *kr, struct gw_job_run *run, int phase)
{
	struct kr_run *p = run->priv;
	struct mesh_net *net = mesh_node_net(kr->core->node);
	struct store_netkey k;
	int r, cur;

	r = store_begin(kr->core->st);
	if (r) {
		return r;
	}
	r = store_netkey_get(kr->core->st, p->net, &k);
	cur = r ? -1 : (int)k.phase;
	mesh_crypto_wipe(&k, sizeof(k));
	if (!r && phase == 2 && cur == STORE_KR_PHASE1) {
		r = store_netkey_phase_set(kr->core->st, p->net, STORE_KR_PHASE2);
	} else if (!r && phase == 3 && cur != STORE_KR_NORMAL) {
		/* Drops and wipes the old NetKey and the old AppKeys bound to it. */
		r = store_netkey_phase_set(kr->core->st, p->net, STORE_KR_NORMAL);
	}
	if (!r) {
		run->t.step = phase == 2 ? KR_STEP_PHASE2 : KR_STEP_PHASE3;
		r = gw_jobs_commit(run);
	}
	if (r) {
		(void)store_rollback(kr->core->st);
		return r;
	}
	r = store_commit(kr->core->st);
	if (r) {
		return r;
	}
	gw_crash_point(phase == 2 ? "keyref.phase2" : "keyref.phase3");
	cur = mesh_net_subnet_kr_phase(net, p->net);
	if ((phase == 2 && cur == 1) || (phase == 3 && cur > 0)) {
		r = mesh_node_kr_transition(kr->core->node, p->net, (uint8_t)phase);
		if (r) {
			log_warn("Key Refresh of NetKey %u: own node phase %d: %s", p->net, phase,
				 strerror(-r));
		}
	}
	/* Beacons with the new key (and, in phase 2, the Key Refresh flag) carry the phase. */
	mesh_node_beacon_now(kr->core->node, gw_core_now(kr->core));
	log_info("Key Refresh of NetKey %u: phase %d", p->net, phase);
	gw_core_publish(kr->core, "key_refresh.phase",
			json_pack("{s:I, s:i, s:i}", "job", (json_int_t)run->t.job, "net_index",
				  p->net, "phase", phase == 3 ? 0 : phase));
	r = load_nodes(kr, run);
	if (!r) {
		json_decref(p->unconfirmed);
		p->unconfirmed = json_array();
		r = p->n_nodes ? send_next(kr, run) : -ENOENT;
	}
	return r;
}

/* Is every target but idx done, or left out by the operator?  Then phase 2 may begin. */
static bool others_done(const struct store_job_target *t, size_t n, uint32_t idx)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i].idx != idx && t[i].state != STORE_TGT_DONE &&
		    !(t[i].state == STORE_TGT_FAILED && t[i].step == GW_JOB_STEP_LEFT_OUT)) {
			return false;
		}
	}
	return true;
}

/* This target finished phase 1: end it, or drive the subnet when every other target is done. */
static void phase1_done(struct gw_kr *kr, struct gw_job_run *run)
{
	struct store_job_target *t = NULL;
	size_t n = 0;
	char result[64];
	int r = store_job_targets(kr->core->st, run->t.job, &t, &n);
	bool last = !r && others_done(t, n, run->t.idx);

	store_job_targets_free(t, n);
	snprintf(result, sizeof(result), "{\"address\": %u, \"phase\": 1}", run->t.node);
	if (!last) {
		end(run, GW_JOB_OK, NULL, result);
		return;
	}
	r = enter_phase(kr, run, 2);
	if (r) {
		end(run, GW_JOB_RETRY, store_strerror(r), NULL);
	}
}

static void round_answer(struct gw_kr *kr, struct gw_job_run *run, int err,
			 const struct cfg_msg *rsp)
{
	struct kr_run *p = run->priv;
	int want = run->t.step == KR_STEP_PHASE2 ? CFG_KR_PHASE_2 : CFG_KR_PHASE_NORMAL;
	uint16_t node = p->nodes[p->pos];
	char *text;
	int r;

	if (err || rsp->op != CFG_OP_KRP_STATUS || rsp->net_idx.status != CFG_STATUS_SUCCESS ||
	    rsp->net_idx.state != want) {
		log_warn("Key Refresh of NetKey %u: node 0x%04x did not confirm phase %d", p->net,
			 node, want);
		json_array_append_new(p->unconfirmed, json_integer(node));
	}
	gw_core_publish(kr->core, "key_refresh.node",
			json_pack("{s:I, s:i, s:i, s:i, s:b}", "job", (json_int_t)run->t.job,
				  "net_index", p->net, "address", node, "phase", want, "confirmed",
				  !err && rsp->net_idx.state == want));
	if (++p->pos < p->n_nodes) {
		r = send_next(kr, run);
	} else if (run->t.step == KR_STEP_PHASE2) {
		r = enter_phase(kr, run, 3);
	} else {
		json_t *o = json_pack("{s:i, s:i, s:O, s:O}", "address", run->t.node, "phase", 0,
				      "unconfirmed", p->unconfirmed, "left_out", p->left_out);

		text = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		end(run, GW_JOB_OK, NULL, text);
		free(text);
		return;
	}
	if (r) {
		end(run, GW_JOB_RETRY, store_strerror(r), NULL);
	}
}

static void on_answer(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct kr_ticket *tk = ctx;
	struct gw_kr *kr = tk->kr;
	struct gw_job_run *run = gw_jobs_run(kr->jobs, tk->job, tk->idx);
	struct kr_run *p = run ? run->priv : NULL;
	char why[96];
	int status, r;

	(void)src;
	if (!p || p->serial != tk->serial) {
		free(tk);
		return; /* an attempt that was stopped */
	}
	free(tk);
	if (run->t.step >= KR_STEP_PHASE2) {
		round_answer(kr, run, err, rsp);
		return;
	}
	if (err) {
		snprintf(why, sizeof(why), "%s: no answer",
			 run->t.step == KR_STEP_NETKEY ? "NetKey Update" : "AppKey Update");
		end(run, GW_JOB_RETRY, why, NULL);
		return;
	}
	status = rsp->op == CFG_OP_NETKEY_STATUS   ? rsp->net_idx.status
		 : rsp->op == CFG_OP_APPKEY_STATUS ? rsp->appkey.status
						   : -1;
	if (status != CFG_STATUS_SUCCESS) {
		snprintf(why, sizeof(why), "%s: status 0x%02x",
			 run->t.step == KR_STEP_NETKEY ? "NetKey Update" : "AppKey Update",
			 (unsigned)status & 0xff);
		end(run, GW_JOB_FAIL, why, NULL);
		return;
	}
	if ((size_t)(run->t.step - KR_STEP_NETKEY) < p->n_apps) {
		r = step_to(kr, run, run->t.step + 1, "keyref.appkey");
		if (r) {
			end(run, r == -EINVAL ? GW_JOB_FAIL : GW_JOB_RETRY,
			    r == -EINVAL ? "the keys are no longer in Key Refresh phase 1"
					 : store_strerror(r),
			    NULL);
		}
		return;
	}
	phase1_done(kr, run);
}

static int kr_start(void *ctx, struct gw_job_run *run)
{
	struct gw_kr *kr = ctx;
	struct kr_run *p = calloc(1, sizeof(*p));
	json_t *apps = json_object_get(run->job_params, "app_indexes"), *v;
	uint16_t *mine = NULL;
	size_t n_mine = 0, i, j;
	int r;

	if (!p) {
		return -ENOMEM;
	}
	p->net = (uint16_t)json_integer_value(json_object_get(run->job_params, "net_index"));
	run->priv = p;
	if (run->t.step < KR_STEP_PHASE2 && node_gone(kr, run->t.node)) {
		/*
		 * Removed while the refresh ran (a removal's Node Reset): it gets
		 * no new key, and its phase 1 is over; it may still be the one to
		 * drive the subnet on.
		 */
		log_info("Key Refresh of NetKey %u: node 0x%04x was removed, skipped", p->net,
			 run->t.node);
		phase1_done(kr, run);
		return 0;
	}
	/*
	 * The node's AppKeys of this refresh, in the job's order (phase 1
	 * only: the node of a target that drives phases 2 and 3 may have been
	 * removed since, and the rounds need none).
	 */
	r = run->t.step >= KR_STEP_PHASE2
		? 0
		: store_node_appkey_list(kr->core->st, run->t.node, &mine, &n_mine);
	json_array_foreach(apps, i, v)
	{
		for (j = 0; !r && j < n_mine; j++) {
			if (mine[j] == json_integer_value(v) && p->n_apps < KR_APPS_MAX) {
				p->apps[p->n_apps++] = mine[j];
			}
		}
	}
	free(mine);
	if (r) {
		run_free(run);
		return r;
	}
	if (run->t.step >= KR_STEP_PHASE2) {
		r = enter_phase(kr, run, run->t.step == KR_STEP_PHASE2 ? 2 : 3);
	} else {
		/* Phase 1 starts over: every message of it is accepted again. */
		r = step_to(kr, run, KR_STEP_NETKEY, "keyref.netkey");
	}
	if (r == -EINVAL && run->t.step < KR_STEP_PHASE2) {
		snprintf(run->t.error, sizeof(run->t.error),
			 "NetKey %u is no longer in Key Refresh phase 1", p->net);
	}
	if (r) {
		run_free(run);
	}
	return r;
}

static void kr_stop(void *ctx, struct gw_job_run *run, bool stopping)
{
	(void)ctx;
	if (stopping) {
		run_free(run);
		return;
	}
	/*
	 * Cancelled: phase 1 of this node stops here (the keys it has are kept
	 * and the NetKey stays in phase 1); the subnet's phases 2 and 3 are
	 * past the point of no return and run on.
	 */
	if (run->t.step < KR_STEP_PHASE2) {
		end(run, GW_JOB_FAIL, "cancelled", NULL);
	}
}

static int parse_index(json_t *v, uint16_t *out)
{
	const char *s = json_string_value(v);
	char *e = NULL;
	unsigned long n = s ? strtoul(s, &e, 10) : 0;

	if (!s || !*s || *e || n > 0xfff) {
		return -EINVAL;
	}
	*out = (uint16_t)n;
	return 0;
}

/* Targets: every active node holding NetKey net.  *t and *n owned by the caller (free *t). */
static int targets_of(struct gw_kr *kr, uint16_t net, struct store_node **nodes,
		      struct store_job_target_new **t, size_t *n)
{
	struct store_node_filter f = {0};
	size_t n_nodes = 0, i, j;
	int r = store_node_list(kr->core->st, &f, nodes, &n_nodes);

	*n = 0;
	*t = r ? NULL : calloc(n_nodes ? n_nodes : 1, sizeof(**t));
	if (!r && !*t) {
		r = -ENOMEM;
	}
	for (i = 0; !r && i < n_nodes; i++) {
		uint16_t *nk = NULL;
		size_t n_nk = 0;

		r = store_node_netkey_list(kr->core->st, (*nodes)[i].unicast, &nk, &n_nk);
		for (j = 0; !r && j < n_nk; j++) {
			if (nk[j] == net) {
				struct store_job_target_new *x = &(*t)[(*n)++];

				x->node = (*nodes)[i].unicast;
				x->has_uuid = true;
				memcpy(x->uuid, (*nodes)[i].uuid, 16);
				x->name = (*nodes)[i].name;
				break;
			}
		}
		free(nk);
	}
	return r;
}

/*
 * Phase 1 for the inventory and the gateway's own node: new keys sealed
 * first (write-ahead), then the stack receives with old and new keys.  A
 * NetKey already in phase 1 (an earlier refresh that stopped) keeps its new
 * keys: they may have reached nodes.
 */
static int begin_refresh(struct gw_kr *kr, uint16_t net, json_t *apps, int phase)
{
	struct store_netkey k;
	struct store_appkey a;
	uint8_t key[16];
	size_t i;
	json_t *v;
	int r = 0;

	if (phase == STORE_KR_NORMAL) {
		r = store_begin(kr->core->st);
		if (!r) {
			r = mesh_crypto_random(key, sizeof(key));
		}
		if (!r) {
			r = store_netkey_update(kr->core->st, net, key);
		}
		json_array_foreach(apps, i, v)
		{
			if (!r) {
				r = mesh_crypto_random(key, sizeof(key));
			}
			if (!r) {
				r = store_appkey_update(kr->core->st,
							(uint16_t)json_integer_value(v), key);
			}
		}
		mesh_crypto_wipe(key, sizeof(key));
		r = r ? (store_rollback(kr->core->st), r) : store_commit(kr->core->st);
	}
	if (r) {
		return r;
	}
	gw_crash_point("keyref.sealed");
	r = store_netkey_get(kr->core->st, net, &k);
	if (!r && mesh_net_subnet_kr_phase(mesh_node_net(kr->core->node), net) == 0) {
		r = mesh_node_netkey_update(kr->core->node, net, k.key);
	}
	mesh_crypto_wipe(&k, sizeof(k));
	json_array_foreach(apps, i, v)
	{
		if (!r) {
			r = store_appkey_get(kr->core->st, (uint16_t)json_integer_value(v), &a);
		}
		if (!r) {
			r = mesh_node_appkey_update(kr->core->node, net, a.idx, a.key);
		}
		mesh_crypto_wipe(&a, sizeof(a));
	}
	return r;
}

/*
 * Start a Key Refresh of NetKey net for who: *job, the number of targets in
 * *n and the AppKey indexes in apps (appended).  *why: a message for the
 * caller when it is refused, else NULL.
 */
static int kr_begin(struct gw_kr *kr, uint16_t net, const char *who, json_t *apps, uint64_t *job,
		    size_t *n, const char **why)
{
	struct store_netkey k;
	struct store_appkey *ak = NULL;
	struct store_node *nodes = NULL;
	struct store_job_target_new *t = NULL;
	size_t n_ak = 0, i;
	json_t *params = NULL;
	int r, phase;

	*why = NULL;
	*n = 0;
	r = store_netkey_get(kr->core->st, net, &k);
	phase = (int)k.phase;
	mesh_crypto_wipe(&k, sizeof(k));
	if (r) {
		*why = r == -ENOENT ? "no NetKey with this index" : NULL;
		return r;
	}
	if (gw_jobs_any_target(kr->jobs, &kr->kind, NULL, NULL)) {
		*why = "a Key Refresh is running";
		return -EBUSY;
	}
	if (phase == STORE_KR_PHASE2) {
		*why = "this NetKey is in Key Refresh phase 2 without a running job";
		return -EBUSY;
	}
	r = store_appkey_list(kr->core->st, &ak, &n_ak);
	for (i = 0; !r && i < n_ak; i++) {
		if (ak[i].net_idx == net) {
			json_array_append_new(apps, json_integer(ak[i].idx));
		}
	}
	store_appkeys_free(ak, n_ak);
	if (!r && json_array_size(apps) > KR_APPS_MAX) {
		r = -ENOSPC;
		*why = "too many AppKeys bound to this NetKey";
	}
	if (!r) {
		r = targets_of(kr, net, &nodes, &t, n);
	}
	if (!r && *n == 0) {
		r = -ENOENT;
		*why = "no node holds this NetKey";
	}
	if (!r) {
		r = begin_refresh(kr, net, apps, phase);
	}
	if (!r) {
		params = json_pack("{s:i, s:O}", "net_index", net, "app_indexes", apps);
		r = params ? gw_jobs_create(kr->jobs, "key_refresh", params, who, t, *n, job)
			   : -ENOMEM;
	}
	free(t);
	store_nodes_free(nodes);
	json_decref(params);
	if (!r) {
		log_info("Key Refresh of NetKey %u started by %s (job %llu, %zu nodes)", net, who,
			 (unsigned long long)*job, *n);
		gw_core_rearm(kr->core);
	}
	return r;
}

void gw_kr_cmd_start(struct gw_kr *kr, struct gw_cmd *c)
{
	json_t *apps = json_array();
	const char *why = "index: expected a NetKey index 0..4095";
	uint64_t job = 0;
	uint16_t net = 0;
	size_t n = 0;
	int r;

	r = parse_index(json_object_get(c->args, "index"), &net);
	if (!r) {
		r = kr_begin(kr, net, c->who, apps, &job, &n, &why);
	}
	if (r) {
		json_decref(apps);
		gw_cmd_complete(kr->core->q, c, r, NULL, why ? why : store_strerror(r));
		return;
	}
	gw_cmd_complete(kr->core->q, c, 0,
			json_pack("{s:i, s:I, s:i, s:i, s:o, s:I}", "_http_status", 202, "job",
				  (json_int_t)job, "net_index", net, "phase", 1, "app_indexes",
				  apps, "targets", (json_int_t)n),
			NULL);
}

/* Has a Key Refresh of net begun at or after since_ms (and not been cancelled)? */
static int covered(struct gw_kr *kr, uint16_t net, uint64_t since_ms, uint64_t *job)
{
	struct store_job_filter f = {.kind = "key_refresh"};
	struct store_job *list = NULL;
	size_t n = 0, i;
	int r = store_job_list(kr->core->st, &f, &list, &n);

	/* Newest first: the first one older than since_ms ends the search. */
	for (i = 0; !r && i < n && list[i].created_ms >= since_ms; i++) {
		json_t *p = json_loads(list[i].params, 0, NULL);
		bool same = json_integer_value(json_object_get(p, "net_index")) == net;

		json_decref(p);
		if (same && list[i].state != STORE_JOB_CANCELLED) {
			*job = list[i].id;
			break;
		}
	}
	store_jobs_free(list, n);
	return r;
}

int gw_kr_start(struct gw_kr *kr, uint16_t net, const char *who, uint64_t *job, const char **why)
{
	json_t *apps = json_array();
	size_t n;
	int r = apps ? kr_begin(kr, net, who, apps, job, &n, why) : -ENOMEM;

	json_decref(apps);
	return r;
}

int gw_kr_cover(struct gw_kr *kr, uint16_t net, uint64_t since_ms, const char *who, uint64_t *job)
{
	const char *why;
	int r;

	*job = 0;
	r = covered(kr, net, since_ms, job);
	if (r || *job) {
		return r;
	}
	r = gw_kr_start(kr, net, who, job, &why);
	if (r == -ENOENT && why) {
		/* No node holds the NetKey any more (or it was deleted): nothing to lock out. */
		log_info("NetKey %u: no Key Refresh needed (%s)", net, why);
		*job = 0;
		return 0;
	}
	return r;
}

/*
 * The operator finishes the refresh without the targets left out: their
 * nodes are excluded and leave the inventory (they keep the keys they have,
 * which after phase 3 no longer work on this subnet), and when no other
 * target is left to finish phase 1, a done one is reopened at phase 2 to
 * drive the subnet on.
 */
static int kr_finish_without(void *ctx, uint64_t job, const struct store_job_target *t, size_t n,
			     uint32_t *reopen, int32_t *step, char *why, size_t why_len)
{
	struct gw_kr *kr = ctx;
	size_t i, done = 0;
	bool carried = false;
	int r = 0;

	(void)job;
	for (i = 0; !r && i < n; i++) {
		if (t[i].state == STORE_TGT_FAILED && t[i].step == GW_JOB_STEP_LEFT_OUT) {
			r = store_node_remove(kr->core->st, t[i].node);
			r = r == -ENOENT ? 0 : r; /* left out, or removed, before */
			continue;
		}
		done += t[i].state == STORE_TGT_DONE;
		/* An unfinished target drives phase 2 itself once its phase 1 is done. */
		carried |= t[i].state == STORE_TGT_PENDING || t[i].state == STORE_TGT_ACTIVE;
	}
	if (r) {
		return r;
	}
	if (!done && !carried) {
		snprintf(why, why_len,
			 "no node would be left on the new keys: cancel the job instead");
		return -EBUSY;
	}
	/* A target that failed on its own and is kept: the NetKey stays in phase 1. */
	carried |= !others_done(t, n, UINT32_MAX);
	for (i = 0; !carried && i < n; i++) {
		if (t[i].state == STORE_TGT_DONE) {
			*reopen = t[i].idx;
			*step = KR_STEP_PHASE2;
			break;
		}
	}
	for (i = 0; i < n; i++) {
		if (t[i].state == STORE_TGT_FAILED && t[i].step == GW_JOB_STEP_LEFT_OUT) {
			log_info("Key Refresh job %llu: node 0x%04x left out and removed",
				 (unsigned long long)job, t[i].node);
		}
	}
	return 0;
}

/* The step a target is at, in the procedure's words (the API's "phase" of a target). */
static void kr_target_json(void *ctx, const struct store_job_target *t,
			   const struct gw_job_run *run, json_t *o)
{
	char what[40];

	(void)ctx;
	(void)run;
	if (t->step == GW_JOB_STEP_LEFT_OUT) {
		snprintf(what, sizeof(what), "left out");
	} else if (t->step == KR_STEP_NONE) {
		snprintf(what, sizeof(what), "%s",
			 t->state == STORE_TGT_DONE ? "done" : "not begun");
	} else if (t->step == KR_STEP_NETKEY) {
		snprintf(what, sizeof(what), "NetKey Update");
	} else if (t->step >= KR_STEP_APP && t->step < KR_STEP_PHASE2) {
		snprintf(what, sizeof(what), "AppKey Update %d", (int)(t->step - KR_STEP_APP + 1));
	} else if (t->step == KR_STEP_PHASE2) {
		snprintf(what, sizeof(what), "phase 2 (new keys in use)");
	} else {
		snprintf(what, sizeof(what), "phase 3 (old keys revoked)");
	}
	json_object_set_new(o, "phase", json_string(what));
}

struct gw_kr *gw_kr_new(struct gw_core *core, struct gw_jobs *jobs)
{
	struct gw_kr *kr = calloc(1, sizeof(*kr));

	if (!kr) {
		return NULL;
	}
	kr->core = core;
	kr->jobs = jobs;
	kr->kind = (struct gw_job_kind){.name = "key_refresh",
					.target_json = kr_target_json,
					.ctx = kr,
					.start = kr_start,
					.stop = kr_stop,
					.finish_without = kr_finish_without,
					.retry_always = true};
	if (gw_jobs_register(jobs, &kr->kind)) {
		free(kr);
		return NULL;
	}
	return kr;
}

void gw_kr_free(struct gw_kr *kr)
{
	free(kr);
}
