/*
 * Provisioning and node refresh as job kinds (prov.h): one attempt is a
 * link (PB-ADV, or PB-Remote through a server), the write-ahead commits
 * around Provisioning Data, the probes that settle what a device did when
 * an attempt was interrupted, and the REST commands of sessions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/nodes.h"
#include "gateway/prov_int.h"
#include "gateway/trust.h"
#include "gateway/util.h"
#include "mesh/crypto.h"
#include "storage/store_cdb.h"

static const char *const proc_names[] = {"device_key", "address", "composition"};

static void probe_start(struct prov_run *pr);

/* --- Finding attempts ---------------------------------------------------------------- */

struct link_q {
	uint32_t h;
	bool remote;
};

static bool by_link(struct gw_job_run *run, void *arg)
{
	const struct prov_run *pr = run->priv;
	const struct link_q *q = arg;

	return pr && pr->linked && pr->link == q->h && pr->remote == q->remote;
}

static struct prov_run *find_link(struct gw_prov *P, uint32_t h, bool remote)
{
	struct link_q q = {h, remote};
	struct gw_job_run *run = gw_jobs_find(P->jobs, &P->k_prov, by_link, &q);

	if (!run) {
		run = gw_jobs_find(P->jobs, &P->k_refresh, by_link, &q);
	}
	if (!run && P->user.kind) {
		run = gw_jobs_find(P->jobs, P->user.kind, by_link, &q);
	}
	return run ? run->priv : NULL;
}

static bool count_local(struct gw_job_run *run, void *arg)
{
	const struct prov_run *pr = run->priv;

	*(unsigned *)arg += pr && pr->linked && !pr->remote;
	return false;
}

/* The device keys of attempts being confirmed at addr (core's dev_keys hook). */
struct key_q {
	uint16_t addr;
	uint8_t (*keys)[16];
	size_t max, n;
};

static bool key_at(struct gw_job_run *run, void *arg)
{
	const struct prov_run *pr = run->priv;
	struct key_q *q = arg;

	if (pr && pr->has_key && q->addr >= pr->key_addr &&
	    q->addr < pr->key_addr + (pr->key_elements ? pr->key_elements : 1)) {
		memcpy(q->keys[q->n++], pr->key, 16);
	}
	return q->n >= q->max;
}

static size_t pending_keys(void *ctx, uint16_t addr, uint8_t (*keys)[16], size_t max)
{
	struct gw_prov *P = ctx;
	struct key_q q = {addr, keys, max, 0};

	if (max && !gw_jobs_find(P->jobs, &P->k_prov, key_at, &q) &&
	    !gw_jobs_find(P->jobs, &P->k_refresh, key_at, &q) && P->user.kind) {
		(void)gw_jobs_find(P->jobs, P->user.kind, key_at, &q);
	}
	return q.n;
}

/* --- Attempts -------------------------------------------------------------------------- */

static struct prov_run *run_new(struct gw_prov *P, struct gw_job_run *run, int procedure)
{
	struct prov_run *pr = calloc(1, sizeof(*pr));

	if (pr) {
		pr->P = P;
		pr->run = run;
		pr->serial = ++P->serial;
		pr->procedure = procedure;
	}
	return pr;
}

static void run_free(struct prov_run *pr)
{
	pr->run->priv = NULL;
	mesh_crypto_wipe(pr, sizeof(*pr));
	free(pr);
}

/* Commit run->t with other verbs already done in the open transaction: all or nothing. */
static int commit_with(struct prov_run *pr, int r)
{
	struct store *st = pr->P->core->st;

	if (!r) {
		r = gw_jobs_commit(pr->run);
	}
	if (r) {
		(void)store_rollback(st);
		return r;
	}
	return store_commit(st);
}

/* Give a reserved range that never reached a device back; the target starts over. */
static int unreserve(struct prov_run *pr)
{
	struct gw_job_run *run = pr->run;
	struct store *st = pr->P->core->st;
	int r = store_begin(st);

	if (r) {
		return r;
	}
	if (run->t.addr && run->t.addr != run->t.node) {
		r = store_addr_release(st, run->t.addr);
		r = r == -ENOENT ? 0 : r;
	}
	run->t.addr = pr->procedure >= 0 ? run->t.node : 0;
	run->t.step = 0;
	return commit_with(pr, r);
}

/* Open the link of a fresh attempt.  -EBUSY when the path is taken. */
static int link_start(struct prov_run *pr)
{
	struct gw_prov *P = pr->P;
	struct gw_core *core = P->core;
	struct gw_job_run *run = pr->run;
	struct mesh_net *net = mesh_node_net(core->node);
	struct store_netkey nk;
	uint64_t now = gw_core_now(core);
	uint32_t iv;
	unsigned local = 0;
	bool upd;
	int r;

	if (!pr->remote) {
		(void)gw_jobs_find(P->jobs, &P->k_prov, count_local, &local);
		if (P->user.kind) {
			(void)gw_jobs_find(P->jobs, P->user.kind, count_local, &local);
		}
		if (local >= core->conf.max_local_links) {
			return -EBUSY;
		}
	}
	r = store_netkey_get(core->st, core->primary_net, &nk);
	if (r) {
		return r;
	}
	if (nk.phase != STORE_KR_NORMAL) {
		/*
		 * A Key Refresh of the network is under way: a device given the
		 * new key now would not hear the nodes still on the old one.  The
		 * target waits until the refresh has ended (its end reschedules).
		 */
		mesh_crypto_wipe(&nk, sizeof(nk));
		return -EBUSY;
	}
	mesh_net_iv_get(net, &iv, &upd);
	memcpy(pr->cfg.data.net_key, nk.key, 16);
	mesh_crypto_wipe(&nk, sizeof(nk));
	pr->cfg.data.net_idx = core->primary_net;
	pr->cfg.data.iv_index = iv;
	pr->cfg.data.flags = upd ? 0x02 : 0x00;
	/* Refreshes keep the address (Address Refresh chooses in assign); devices get one there. */
	pr->cfg.data.unicast = pr->procedure >= 0 ? run->t.node : 0;
	if (pr->procedure >= 0) {
		struct pb_remote_target t = {.net_idx = core->primary_net, .server = run->t.node};

		r = pb_remote_refresh(core->pbr, &t, (uint8_t)pr->procedure, &pr->cfg, now,
				      &pr->link);
	} else if (pr->remote) {
		struct pb_remote_target t = {.net_idx = core->primary_net, .server = run->t.via};

		r = pb_remote_provision(core->pbr, &t, run->t.uuid,
					(uint8_t)core->conf.link_open_timeout_s, &pr->cfg, now,
					&pr->link);
	} else {
		r = prov_adv_provision(core->pa, run->t.uuid, &pr->cfg, now, &pr->link);
	}
	if (r == -ENOSPC) {
		/*
		 * No session slot, or the node's send queue is full (the Link
		 * Open is segmented): both drain as other sessions go on, so
		 * the engine tries again shortly without counting an attempt.
		 */
		return -ENOBUFS;
	}
	if (r) {
		return r;
	}
	pr->linked = true;
	run->t.error[0] = '\0';
	prov_session_update(pr, PH_LINKING);
	gw_core_rearm(core);
	return 0;
}

static void link_cancel(struct prov_run *pr)
{
	struct gw_core *core = pr->P->core;

	if (!pr->linked) {
		return;
	}
	pr->linked = false;
	if (pr->remote) {
		(void)pb_remote_cancel(core->pbr, pr->link, gw_core_now(core));
	} else {
		(void)prov_adv_cancel(core->pa, pr->link, gw_core_now(core));
	}
	gw_core_rearm(core);
}

/*
 * Go on from the step an interrupted attempt committed: configuring from
 * cfg_step on, asking the device (it may have taken its keys) from the Data
 * step, giving a reservation that reached no device back.  1 when the
 * attempt goes on from there, 0 to start afresh, or an error (pr freed).
 */
static int resume(struct prov_run *pr, int cfg_step)
{
	int step = pr->run->t.step, r;

	if (step >= cfg_step) {
		prov_cfg_begin(pr, false);
		return 1;
	}
	if (step >= PSTEP_DATA) {
		probe_start(pr);
		return 1;
	}
	if (step == PSTEP_RESERVED) {
		r = unreserve(pr);
		if (r) {
			run_free(pr);
			return r;
		}
	}
	return 0;
}

static void on_stale_closed(void *ctx, int err, uint16_t src, const struct rpr_msg *rsp)
{
	struct prov_run *pr = prov_ticket_run(ctx);
	char msg[96];
	int r;

	(void)err;
	(void)src;
	(void)rsp;
	if (!pr) {
		return;
	}
	free(ctx);
	r = link_start(pr);
	if (r) {
		snprintf(msg, sizeof(msg), "cannot open a link: %s",
			 r == -EBUSY ? "the path is busy" : strerror(-r));
		prov_end(pr, GW_JOB_RETRY, msg, NULL);
	}
}

/*
 * Open the attempt's link.  An attempt that a restart interrupted may have
 * left its link open in the Remote Provisioning Server; a new Link Open with
 * the same parameters would be taken for that link (§4.4.5.3) and the new
 * session would talk to a stale one.  So the server is first told to close
 * it (whatever it answers, the link is opened after).
 */
static int link_open(struct prov_run *pr, uint16_t server)
{
	struct gw_core *core = pr->P->core;
	struct rpr_msg m = {.op = RPR_OP_LINK_CLOSE};
	struct prov_ticket *tk;
	int r;

	if (!pr->run->recovering || !server) {
		return link_start(pr);
	}
	m.link_close.reason = RPR_REASON_FAIL;
	tk = prov_ticket(pr);
	r = tk ? rpr_cli_request(core->rpr, core->primary_net, server, NULL, &m, GW_CFG_TIMEOUT_MS,
				 GW_CFG_RETRY_MS, on_stale_closed, tk, gw_core_now(core))
	       : -ENOMEM;
	if (r) {
		free(tk);
		return r;
	}
	prov_session_update(pr, PH_LINKING);
	gw_core_rearm(core);
	return 0;
}

bool prov_owns(const struct gw_prov *P, const struct gw_job_run *run)
{
	return run->kind == &P->k_prov || run->kind == &P->k_refresh ||
	       (P->user.kind && run->kind == P->user.kind);
}

/* A provisioning attempt through via (0: PB-ADV), or the resumption of its committed step. */
static int attempt_start(struct gw_prov *P, struct gw_job_run *run, uint16_t via)
{
	struct gw_core *core = P->core;
	struct prov_run *pr = run_new(P, run, -1);
	uint8_t oob[STORE_JOB_SECRET_MAX];
	size_t oob_len = 0;
	struct store_node existing;
	int r;

	if (!pr) {
		return -ENOMEM;
	}
	run->priv = pr;
	if (run->t.step >= PSTEP_CONFIGURED && run->kind == P->user.kind) {
		/* Configured before a restart: the user's own steps go on. */
		prov_session_update(pr, PH_ZONE);
		P->user.configured(P->user.ctx, run);
		return 0;
	}
	r = store_job_secret_get(core->st, run->t.job, run->t.idx, STORE_JOB_SLOT_AUTH, oob,
				 &oob_len);
	r = prov_auth_cfg(&core->conf, json_object_get(run->params, "auth"),
			  json_string_value(json_object_get(run->job_params, "algorithm")), oob,
			  r ? 0 : oob_len, &pr->cfg, run->t.error, sizeof(run->t.error));
	mesh_crypto_wipe(oob, sizeof(oob));
	if (r) {
		run_free(pr);
		return r;
	}
	/* The request's Attention Duration (0..255 s, checked by the API); 0 when not given. */
	pr->cfg.attention =
	    (uint8_t)json_integer_value(json_object_get(run->job_params, "attention_s"));
	pr->auth_method = pr->cfg.auth_method;
	if (pr->cfg.cert_policy == PROV_CERT_PREFER &&
	    (!core->trust ||
	     !(gw_scan_oob_info(P->scan, run->t.uuid) & (GW_OOB_INFO_CBP | GW_OOB_INFO_RECORDS)))) {
		/*
		 * Records Get is new in Mesh 1.1: a 1.0 device fails the link on it.  Ask
		 * only a device whose beacon says it has records, and only when there is
		 * a trust store to judge them by.
		 */
		pr->cfg.cert_policy = PROV_CERT_NEVER;
	}
	pr->cfg.rec_limit = sizeof(pr->cert_der);
	r = resume(pr, PSTEP_NODE);
	if (r) {
		return r < 0 ? r : 0;
	}
	if (store_node_get_by_uuid(core->st, run->t.uuid, &existing) == 0) {
		snprintf(run->t.error, sizeof(run->t.error), "already provisioned as node 0x%04x",
			 existing.unicast);
		run_free(pr);
		return -EEXIST;
	}
	run->t.via = via;
	pr->remote = run->t.via != 0;
	/* Record fragments as large as the bearer carries in one PDU (PB-ADV: 120 octets). */
	pr->cfg.rec_frag_max = pr->remote ? PROV_REC_FRAG_REMOTE : PROV_REC_FRAG_ADV;
	r = link_open(pr, run->t.via);
	if (r) {
		run_free(pr);
		return r;
	}
	log_debug("job %llu target %u: attempt %u, link through 0x%04x",
		  (unsigned long long)run->t.job, run->t.idx, run->t.attempts, run->t.via);
	return 0;
}

static int provision_start_kind(void *ctx, struct gw_job_run *run)
{
	struct gw_prov *P = ctx;
	json_t *server = json_object_get(run->params, "server");

	/* Each attempt takes the best path known now (a scan may have found a better one). */
	return attempt_start(P, run,
			     json_is_integer(server) ? (uint16_t)json_integer_value(server)
						     : gw_scan_best_via(P->scan, run->t.uuid));
}

static int refresh_start(void *ctx, struct gw_job_run *run)
{
	struct gw_prov *P = ctx;
	struct gw_core *core = P->core;
	int proc = (int)json_integer_value(json_object_get(run->params, "procedure"));
	struct prov_run *pr = run_new(P, run, proc % 3);
	struct store_node n;
	int r;

	if (!pr) {
		return -ENOMEM;
	}
	pr->cfg.role = PROV_ROLE_PROVISIONER;
	/* A node refresh offers No OOB: the node is already authenticated by its DevKey. */
	pr->cfg.auth_method = PROV_AUTH_NO_OOB;
	pr->cfg.policy = core->conf.refuse_cmac ? PROV_POLICY_NO_CMAC : 0;
	pr->auth_method = PROV_AUTH_NO_OOB;
	pr->remote = true;
	run->t.via = run->t.node; /* the node's own Remote Provisioning Server */
	run->priv = pr;
	r = resume(pr, RSTEP_CONFIRMED);
	if (r) {
		return r < 0 ? r : 0;
	}
	if (store_node_get(core->st, run->t.node, &n) || n.excluded) {
		snprintf(run->t.error, sizeof(run->t.error), "node 0x%04x is not in the inventory",
			 run->t.node);
		run_free(pr);
		return -ENOENT;
	}
	run->t.addr = run->t.node;
	run->t.elements = n.elements;
	r = link_open(pr, run->t.node);
	if (r) {
		run_free(pr);
	}
	return r;
}

static void prov_stop(void *ctx, struct gw_job_run *run, bool stopping)
{
	struct gw_prov *P = ctx;
	struct prov_run *pr = run->priv;
	int past = run->kind == &P->k_refresh ? RSTEP_DATA : PSTEP_DATA;

	if (!pr) {
		return;
	}
	if (stopping) {
		/* The committed step is resumed at the next start. */
		link_cancel(pr);
		run_free(pr);
		return;
	}
	if (run->t.step >= past) {
		return; /* the device has acted (or may have): the attempt runs to its end */
	}
	link_cancel(pr);
	(void)unreserve(pr);
	prov_end(pr, GW_JOB_FAIL, "cancelled", NULL);
}

/* --- Probes: which key does the device answer to? ------------------------------------------- */

static void probe_send(struct prov_run *pr, uint16_t addr, const uint8_t *key);

/* The node answered under the candidate: it becomes the DevKey (one transaction). */
static int refresh_confirm(struct prov_run *pr)
{
	struct gw_job_run *run = pr->run;
	struct store *st = pr->P->core->st;
	int r = store_begin(st);

	if (r) {
		return r;
	}
	if (run->t.addr != run->t.node && run->t.step < RSTEP_SWITCHED) {
		r = store_node_address_change(st, run->t.node, run->t.addr, pr->key_elements);
	}
	if (!r) {
		r = store_node_devkey_commit(st, run->t.addr);
	}
	run->t.step = RSTEP_CONFIRMED;
	r = commit_with(pr, r);
	if (!r) {
		gw_crash_point("refresh.confirmed");
	}
	return r;
}

/* The device answered under the new node's key: it is a node; add it (one transaction). */
static int node_commit(struct prov_run *pr)
{
	struct gw_job_run *run = pr->run;
	struct gw_core *core = pr->P->core;
	struct store_node n = {0};
	int r = store_begin(core->st);

	if (r) {
		return r;
	}
	memcpy(n.uuid, run->t.uuid, 16);
	n.unicast = run->t.addr;
	n.elements = pr->key_elements;
	snprintf(n.name, sizeof(n.name), "%s", run->t.name);
	n.cfg_state = STORE_CFG_CONFIGURING;
	r = store_node_add(core->st, &n, pr->key, core->primary_net);
	if (!r) {
		/* For the Mesh CDB "security": provisioned with OOB authentication or without. */
		r = store_cdb_node_state_set(core->st, n.unicast, STORE_CDB_SECURE,
					     pr->auth_method != PROV_AUTH_NO_OOB || pr->has_cert);
	}
	if (!r && pr->has_cert && pr->cert_der_len) {
		r = gw_node_cert_store(core->st, n.unicast, &pr->cert, pr->cert_der,
				       pr->cert_der_len);
	}
	if (!r) {
		r = store_job_secret_wipe(core->st, run->t.job, run->t.idx, STORE_JOB_SLOT_KEY);
	}
	run->t.elements = pr->key_elements;
	run->t.step = PSTEP_NODE;
	r = commit_with(pr, r);
	if (!r) {
		pr->has_key = false;
		mesh_crypto_wipe(pr->key, sizeof(pr->key));
		gw_crash_point("prov.node");
	}
	return r;
}

/*
 * An attempt that ends with Provisioning Data possibly on the device: retried
 * while attempts remain.  After the last one the device may still be a node
 * that is out of reach: it goes into the inventory (not configured) with the
 * key it may use, so no device holds keys the inventory does not, and its
 * addresses are never handed out again; removing it excludes them.
 */
static void data_retry(struct prov_run *pr, const char *msg)
{
	struct gw_job_run *run = pr->run;
	struct gw_core *core = pr->P->core;
	uint8_t key[STORE_JOB_SECRET_MAX];
	size_t len = 0;
	char why[STORE_JOB_ERROR_MAX];

	if (pr->procedure >= 0 || run->t.step != PSTEP_DATA ||
	    run->t.attempts < core->conf.job_attempts ||
	    store_job_secret_get(core->st, run->t.job, run->t.idx, STORE_JOB_SLOT_KEY, key, &len) ||
	    len != 16) {
		prov_end(pr, GW_JOB_RETRY, msg, NULL);
		return;
	}
	memcpy(pr->key, key, 16);
	mesh_crypto_wipe(key, sizeof(key));
	pr->key_elements = run->t.elements ? run->t.elements : 1;
	if (node_commit(pr) == 0) {
		(void)store_node_cfg_state_set(core->st, run->t.addr, STORE_CFG_FAILED);
		snprintf(why, sizeof(why),
			 "%.120s; the device may hold its keys: kept as node 0x%04x (not "
			 "configured), remove it if it is gone",
			 msg, run->t.addr);
		log_warnx("job %llu target %u: %s", (unsigned long long)run->t.job, run->t.idx,
			  why);
		prov_end(pr, GW_JOB_FAIL, why, NULL);
		return;
	}
	prov_end(pr, GW_JOB_RETRY, msg, NULL);
}

/* Does page 0 as just read differ from the stored copy (or is there none)? */
static bool comp0_changed(struct gw_core *core, uint16_t addr, const struct cfg_comp *page)
{
	uint8_t *old = malloc(MESH_COMP_DATA_MAX);
	size_t len = 0;
	bool changed = true;

	if (old && store_comp_page_get(core->st, addr, 0, old, MESH_COMP_DATA_MAX, &len) == 0) {
		changed = len != page->data_len || (len && memcmp(old, page->data, len) != 0);
	}
	free(old);
	return changed;
}

static void probe_answer(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct prov_run *pr = prov_ticket_run(ctx);
	struct gw_job_run *run;
	struct gw_core *core;
	char msg[160];
	bool changed;
	int r;

	(void)src;
	if (!pr) {
		return;
	}
	free(ctx);
	run = pr->run;
	core = pr->P->core;
	if (!err && rsp->comp.page != 0) {
		err = -EBADMSG;
	}
	if (pr->procedure < 0) {
		if (err) {
			/*
			 * No answer under the key: the device did not take the data (it
			 * is unprovisioned, and a link shows it) or it is out of reach
			 * (then the link fails too and the next attempt asks again).  The
			 * reservation stays until the device proves it is unprovisioned.
			 */
			struct store_node other;

			pr->has_key = false;
			pr->probed = true;
			log_info("job %llu target %u: no answer at 0x%04x under the new key; "
				 "provisioning again",
				 (unsigned long long)run->t.job, run->t.idx, run->t.addr);
			r = store_node_get_by_uuid(core->st, run->t.uuid, &other) == 0 ? -EEXIST
										       : 0;
			if (!r) {
				run->t.via = gw_scan_best_via(pr->P->scan, run->t.uuid);
				pr->remote = run->t.via != 0;
				r = link_start(pr);
			}
			if (r) {
				snprintf(msg, sizeof(msg),
					 "no answer from the device at 0x%04x after Provisioning "
					 "Data, and no link: %s",
					 run->t.addr, r == -EBUSY ? "no free link" : strerror(-r));
				data_retry(pr, msg);
			}
			return;
		}
		r = node_commit(pr);
		if (!r) {
			r = prov_cfg_page0(pr, rsp->comp.data, rsp->comp.data_len);
		}
		if (r) {
			snprintf(msg, sizeof(msg),
				 "the device answered, but the inventory refused "
				 "the node: %s",
				 store_strerror(r));
			prov_end(pr, GW_JOB_RETRY, msg, NULL);
			return;
		}
		log_info("node 0x%04x confirmed under its new DevKey", run->t.addr);
		prov_cfg_begin(pr, true);
		return;
	}
	/* A refresh: first the candidate at the new address, then the old key at the old one. */
	if (!pr->probe_old && !err) {
		changed = comp0_changed(core, run->t.addr, &rsp->comp);
		r = refresh_confirm(pr);
		if (!r) {
			r = prov_cfg_page0(pr, rsp->comp.data, rsp->comp.data_len);
		}
		if (r) {
			snprintf(msg, sizeof(msg), "refreshed, but the inventory refused it: %s",
				 store_strerror(r));
			prov_end(pr, GW_JOB_RETRY, msg, NULL);
			return;
		}
		pr->has_key = false;
		log_info("node 0x%04x: %s refresh done%s", run->t.node, proc_names[pr->procedure],
			 run->t.addr != run->t.node ? ", new address" : "");
		/* A new composition has models without their configuration. */
		if (pr->procedure == RPR_NPPI_COMPOSITION_REFRESH || changed) {
			prov_cfg_begin(pr, true);
		} else {
			char result[48];

			snprintf(result, sizeof(result), "{\"address\": %u}", run->t.addr);
			prov_end(pr, GW_JOB_OK, NULL, result);
		}
		return;
	}
	if (!pr->probe_old && run->t.step < RSTEP_SWITCHED) {
		uint8_t old[16];

		/* Not under the candidate: still under the old key?  (Complete never came.) */
		pr->probe_old = true;
		pr->has_key = false;
		if (store_node_devkey_get(core->st, run->t.node, old) == 0) {
			probe_send(pr, run->t.node, old);
			mesh_crypto_wipe(old, sizeof(old));
			return;
		}
	}
	if (pr->probe_old && !err) {
		/* The node kept its DevKey: the refresh did not happen; start it again. */
		(void)store_node_devkey_cand_clear(core->st, run->t.node);
		r = unreserve(pr);
		pr->probe_old = false;
		if (!r) {
			r = link_start(pr);
		}
		if (r) {
			prov_end(pr, GW_JOB_RETRY,
				 "the refresh did not take; cannot start it again", NULL);
		}
		return;
	}
	/* Neither key answered: both stay in the inventory, and the next attempt asks again. */
	snprintf(msg, sizeof(msg),
		 "node 0x%04x does not answer (it holds its old DevKey or the new one: both "
		 "are kept)",
		 run->t.addr);
	prov_end(pr, GW_JOB_RETRY, msg, NULL);
}

static void probe_send(struct prov_run *pr, uint16_t addr, const uint8_t *key)
{
	struct gw_core *core = pr->P->core;
	struct cfg_msg m = {.op = CFG_OP_COMP_GET};
	struct prov_ticket *tk = prov_ticket(pr);
	int r;

	m.comp.page = 0;
	r = tk ? cfg_cli_request(core->cfg, core->primary_net, addr, key, &m, GW_CFG_TIMEOUT_MS,
				 GW_CFG_RETRY_MS, probe_answer, tk, gw_core_now(core))
	       : -ENOMEM;
	if (r) {
		char msg[96];

		free(tk);
		snprintf(msg, sizeof(msg), "cannot ask node 0x%04x: %s", addr, strerror(-r));
		prov_end(pr, GW_JOB_RETRY, msg, NULL);
		return;
	}
	gw_core_rearm(core);
}

/* Ask the device under the key it may have taken (the target's step says which). */
static void probe_start(struct prov_run *pr)
{
	struct gw_job_run *run = pr->run;
	struct gw_core *core = pr->P->core;
	size_t len = 0;
	int r;

	pr->probe_old = false;
	if (pr->procedure >= 0) {
		r = store_node_devkey_cand_get(core->st, run->t.node, pr->key);
		len = 16;
		if (!r && run->t.addr != run->t.node && run->t.step < RSTEP_SWITCHED) {
			struct store_node n;

			/* The new address is not the node's yet: its key comes from here. */
			r = store_node_get(core->st, run->t.node, &n);
			pr->key_elements = r ? 0 : n.elements;
		}
	} else {
		uint8_t key[STORE_JOB_SECRET_MAX];

		r = store_job_secret_get(core->st, run->t.job, run->t.idx, STORE_JOB_SLOT_KEY, key,
					 &len);
		memcpy(pr->key, key, sizeof(pr->key));
		mesh_crypto_wipe(key, sizeof(key));
		pr->key_elements = run->t.elements;
	}
	if (r || len != 16) {
		/* Nothing to ask with: for a refresh that means the node kept its key. */
		prov_end(pr, GW_JOB_RETRY,
			 pr->procedure >= 0 ? "no candidate DevKey to confirm"
					    : "no DevKey to confirm",
			 NULL);
		return;
	}
	if (!pr->key_elements) {
		pr->key_elements = run->t.elements ? run->t.elements : 1;
	}
	pr->has_key = true;
	pr->key_addr = run->t.addr;
	prov_session_update(pr, PH_PROBING);
	probe_send(pr, run->t.addr, pr->key);
}

/* --- Link callbacks -------------------------------------------------------------------- */

static void on_output(struct prov_run *pr, const char *value)
{
	/* Input OOB: the user must enter this value on the device. */
	snprintf(pr->input_value, sizeof(pr->input_value), "%s", value);
	prov_session_update(pr, PH_WAITING_OOB);
}

/* Capabilities came: the device is unprovisioned.  Reserve (or reuse) its range. */
static int on_assign(struct prov_run *pr, const struct prov_caps *caps, uint16_t *unicast)
{
	struct gw_job_run *run = pr->run;
	struct store *st = pr->P->core->st;
	int r;

	if (caps->elements == 0) {
		return -EINVAL;
	}
	pr->caps = *caps;
	pr->has_caps = true;
	if (pr->procedure >= 0 && pr->procedure != RPR_NPPI_ADDRESS_REFRESH) {
		/*
		 * Device Key and Composition Refresh keep the node's address, so
		 * they cannot change its element count: the range after it may
		 * belong to another node.  That takes an Address Refresh.
		 */
		if (caps->elements != run->t.elements) {
			snprintf(run->t.error, sizeof(run->t.error),
				 "the node would have %u elements instead of %u: a change of"
				 " element count needs procedure \"address\"",
				 caps->elements, run->t.elements);
			return -ERANGE;
		}
		*unicast = run->t.node;
		prov_session_update(pr, PH_PROVISIONING);
		return 0;
	}
	r = store_begin(st);
	if (r) {
		return r;
	}
	if (run->t.step == PSTEP_DATA && pr->procedure < 0 && run->t.addr) {
		/* An earlier Provisioning Data did not take: its key is void, its range free. */
		r = store_job_secret_wipe(st, run->t.job, run->t.idx, STORE_JOB_SLOT_KEY);
		if (!r && caps->elements > run->t.elements) {
			r = store_addr_release(st, run->t.addr);
			run->t.addr = 0;
		}
	}
	if (!r && (!run->t.addr || run->t.addr == run->t.node)) {
		r = store_addr_reserve(st, caps->elements, unicast);
		run->t.addr = *unicast;
	}
	*unicast = run->t.addr;
	run->t.elements = caps->elements;
	run->t.step = PSTEP_RESERVED; /* == RSTEP_RESERVED */
	r = commit_with(pr, r);
	if (r) {
		return r;
	}
	gw_crash_point(pr->procedure >= 0 ? "refresh.reserved" : "prov.reserved");
	prov_session_update(pr, PH_PROVISIONING);
	return 0;
}

/* Write-ahead: the DevKey is in the inventory before Provisioning Data leaves. */
static int on_data(struct prov_run *pr, const struct prov_data *data, const uint8_t dev_key[16],
		   uint8_t elements)
{
	struct gw_job_run *run = pr->run;
	struct store *st = pr->P->core->st;
	int r = store_begin(st);

	if (r) {
		return r;
	}
	if (pr->procedure >= 0) {
		r = store_node_devkey_cand_set(st, run->t.node, dev_key);
	} else {
		r = store_job_secret_set(st, run->t.job, run->t.idx, STORE_JOB_SLOT_KEY, dev_key,
					 16);
	}
	run->t.addr = data->unicast;
	run->t.elements = elements;
	run->t.step = PSTEP_DATA; /* == RSTEP_DATA */
	r = commit_with(pr, r);
	if (r) {
		log_warnx(
		    "job %llu target %u: cannot record the DevKey, Provisioning Data not sent:"
		    " %s",
		    (unsigned long long)run->t.job, run->t.idx, store_strerror(r));
		return r;
	}
	memcpy(pr->key, dev_key, 16);
	pr->key_addr = data->unicast;
	pr->key_elements = elements;
	gw_crash_point(pr->procedure >= 0 ? "refresh.data" : "prov.data");
	return 0;
}

/* The device's records (certificate-based provisioning): judged against the trust store. */
static int on_verify(struct prov_run *pr, const struct prov_record *recs, size_t n,
		     uint8_t pub_key[64], char *reason, size_t reason_len)
{
	struct gw_job_run *run = pr->run;
	int r = gw_trust_verify(pr->P->core, run->t.uuid, recs, n, &pr->cert, reason, reason_len);

	if (r) {
		log_info("job %llu target %u: device certificate refused: %s",
			 (unsigned long long)run->t.job, run->t.idx, reason);
		return r;
	}
	memcpy(pub_key, pr->cert.pub_key, 64);
	/* recs[0] is the device certificate (struct prov_ops verify_records). */
	pr->cert_der_len = recs[0].len <= sizeof(pr->cert_der) ? recs[0].len : 0;
	memcpy(pr->cert_der, recs[0].data, pr->cert_der_len);
	pr->has_cert = true;
	log_info("job %llu target %u: device certificate verified: %s (issuer %s)",
		 (unsigned long long)run->t.job, run->t.idx, pr->cert.subject, pr->cert.issuer);
	prov_session_update(pr, PH_PROVISIONING);
	return 0;
}

static void on_done(struct prov_run *pr, const struct prov_result *res)
{
	struct gw_job_run *run = pr->run;
	struct gw_core *core = pr->P->core;
	int r;

	/* The device has acted on Provisioning Data; the gateway has not committed it yet. */
	gw_crash_point(pr->procedure >= 0 ? "refresh.complete" : "prov.complete");
	pr->linked = false;
	pr->key_elements = res->elements;
	memcpy(pr->key, res->dev_key, 16);
	pr->input_value[0] = '\0';
	if (pr->procedure >= 0) {
		/* Complete: the node uses the new address and key now; confirm, then commit. */
		r = store_begin(core->st);
		if (!r && run->t.addr != run->t.node) {
			r = store_node_address_change(core->st, run->t.node, run->t.addr,
						      res->elements);
		}
		if (!r) {
			run->t.step = RSTEP_SWITCHED;
			r = commit_with(pr, r);
		}
		if (r) {
			prov_end(pr, GW_JOB_RETRY,
				 "refreshed, but the inventory refused the change", NULL);
			return;
		}
		gw_crash_point("refresh.switched");
		pr->has_key = true;
		pr->key_addr = run->t.addr;
		prov_session_update(pr, PH_CONFIGURING);
		/* Composition Data Get under the new DevKey confirms it before it replaces the old.
		 */
		probe_send(pr, run->t.addr, pr->key);
		return;
	}
	run->t.addr = res->data.unicast;
	r = node_commit(pr);
	if (r) {
		char msg[128];

		/* The key stays sealed with the target: the next attempt asks the device. */
		snprintf(msg, sizeof(msg), "provisioned, but the inventory refused the node: %s",
			 store_strerror(r));
		prov_end(pr, GW_JOB_RETRY, msg, NULL);
		return;
	}
	log_info("provisioned node 0x%04x (%u elements)%s", run->t.addr, res->elements,
		 pr->remote ? " through a Remote Provisioning Server" : "");
	prov_cfg_begin(pr, false);
}

/* Failures that another attempt cannot mend: the device or the request must change. */
static bool permanent(int err, uint8_t prov_err)
{
	return err == -ENOTSUP || err == -ERANGE || prov_err == PROV_ERR_CONFIRMATION_FAILED ||
	       prov_err == PROV_ERR_INVALID_FORMAT || prov_err == PROV_ERR_CANNOT_ASSIGN_ADDR;
}

/*
 * What the session asked of the device's Capabilities (§5.4.1.2), for a
 * refusal before Start (-ENOTSUP): the algorithm and the authentication.
 */
static void asked_of_caps(const struct prov_cfg *cfg, char *out, size_t cap)
{
	static const char *const outs[] = {"blink", "beep", "vibrate", "numeric", "alphanumeric"};
	static const char *const ins[] = {"push", "twist", "numeric", "alphanumeric"};
	const char *alg = (cfg->policy & PROV_POLICY_NO_HMAC)   ? "algorithm CMAC (asked for)"
			  : (cfg->policy & PROV_POLICY_NO_CMAC) ? "algorithm HMAC-SHA256"
								: "algorithm CMAC or HMAC-SHA256";
	uint8_t a = cfg->auth_action;
	char both[64];

	if (cfg->has_dev_pub_key) {
		snprintf(both, sizeof(both), "%s, an OOB public key", alg);
		alg = both;
	}

	switch (cfg->auth_method) {
	case PROV_AUTH_NO_OOB:
		snprintf(out, cap, "%s, No OOB authentication", alg);
		break;
	case PROV_AUTH_STATIC:
		snprintf(out, cap, "%s, Static OOB", alg);
		break;
	case PROV_AUTH_OUTPUT:
		snprintf(out, cap, "%s, Output OOB action %s of size %u", alg,
			 a < 5 ? outs[a] : "?", cfg->auth_size);
		break;
	case PROV_AUTH_INPUT:
		snprintf(out, cap, "%s, Input OOB action %s of size %u", alg, a < 4 ? ins[a] : "?",
			 cfg->auth_size);
		break;
	default:
		snprintf(out, cap, "%s, an authentication method%s", alg,
			 (cfg->policy & PROV_POLICY_NO_NO_OOB) ? " other than No OOB (policy)"
							       : "");
		break;
	}
}

static void on_failed(struct prov_run *pr, int err, uint8_t prov_err, uint8_t link_status)
{
	struct gw_job_run *run = pr->run;
	struct gw_core *core = pr->P->core;
	const char *why =
	    pr->remote ? pb_remote_fail_reason(core->pbr) : prov_adv_fail_reason(core->pa);
	bool cert_refused = why[0] != '\0';
	char msg[200], note[160];
	size_t n;

	pr->linked = false;
	if (cert_refused) {
		/* The record phase or the certificate check, in a technician's words. */
		snprintf(msg, sizeof(msg), "provisioning failed: %.150s", why);
	} else if (run->t.error[0]) {
		/* Refused by the gateway itself (on_assign), with the reason. */
		snprintf(msg, sizeof(msg), "provisioning failed: %.150s", run->t.error);
	} else if (prov_err) {
		snprintf(msg, sizeof(msg), "provisioning failed: %s (%s)", strerror(-err),
			 prov_err_str(prov_err));
	} else if (link_status != PB_REMOTE_NO_STATUS) {
		snprintf(msg, sizeof(msg), "provisioning failed: %s (server 0x%04x: %s)",
			 strerror(-err), run->t.via, rpr_status_str(link_status));
	} else if (pr->remote) {
		/* Nothing from the server: it, or the way to it, is what went silent. */
		snprintf(msg, sizeof(msg),
			 "provisioning failed: %s (no answer through Remote Provisioning Server"
			 " 0x%04x)",
			 strerror(-err), run->t.via);
	} else if (err == -ENOTSUP) {
		/* Refused before Start: name what was asked, the device's Capabilities lack it. */
		asked_of_caps(&pr->cfg, note, sizeof(note));
		snprintf(msg, sizeof(msg),
			 "provisioning failed: the device's Capabilities do not offer %.130s",
			 note);
	} else if (err == -ETIMEDOUT && run->t.step == 0) {
		snprintf(msg, sizeof(msg), "the device did not answer the link (%u s)",
			 pr->P->core->conf.link_open_timeout_s);
	} else {
		snprintf(msg, sizeof(msg), "provisioning failed: %s", strerror(-err));
	}
	/* A session that failed while the radio was away says so: the cause is not the node. */
	gw_core_bearer_note(pr->P->core, note, sizeof(note));
	n = strlen(msg);
	if (note[0] && n < sizeof(msg) - 1) {
		snprintf(msg + n, sizeof(msg) - n, "%s", note);
	}
	log_info("job %llu target %u: %s", (unsigned long long)run->t.job, run->t.idx, msg);
	if (run->t.step == PSTEP_DATA && !pr->probed) {
		/* Provisioning Data went out: did the device take it?  Ask before anything else. */
		snprintf(run->t.error, sizeof(run->t.error), "%s", msg);
		probe_start(pr);
		return;
	}
	if (run->t.step == PSTEP_RESERVED) {
		(void)unreserve(pr);
	}
	run->t.error[0] = '\0';
	if (run->t.step == PSTEP_DATA) {
		/* Asked already: the key and range stay; the next attempt asks again. */
		data_retry(pr, msg);
		return;
	}
	/*
	 * A certificate refused stays refused until the device or the trust store changes.
	 * A user's kind (the commission job) tries a failed confirmation again through its
	 * next path: seen once in 60 devices over a chained PB-Remote path with the right
	 * value, so the path can be at fault too; a wrong value still fails after the
	 * attempts (job_attempts) are used up.
	 */
	if (prov_err == PROV_ERR_CONFIRMATION_FAILED && run->kind == pr->P->user.kind) {
		prov_end(pr, GW_JOB_RETRY, msg, NULL);
		return;
	}
	prov_end(pr, cert_refused || permanent(err, prov_err) ? GW_JOB_FAIL : GW_JOB_RETRY, msg,
		 NULL);
}

#define LINK_CALLBACKS(pfx, remote)                                                                \
	static void pfx##_output(void *ctx, uint32_t h, uint8_t action, const char *value)         \
	{                                                                                          \
		struct prov_run *pr = find_link(ctx, h, remote);                                   \
		(void)action;                                                                      \
		if (pr) {                                                                          \
			on_output(pr, value);                                                      \
		}                                                                                  \
	}                                                                                          \
	static void pfx##_input(void *ctx, uint32_t h, uint8_t action, uint8_t size)               \
	{                                                                                          \
		struct prov_run *pr = find_link(ctx, h, remote);                                   \
		(void)action;                                                                      \
		(void)size;                                                                        \
		/* Output OOB: waiting for the value the device shows (POST .../oob). */           \
		if (pr) {                                                                          \
			prov_session_update(pr, PH_WAITING_OOB);                                   \
		}                                                                                  \
	}                                                                                          \
	static int pfx##_assign(void *ctx, uint32_t h, const struct prov_caps *caps,               \
				uint16_t *unicast)                                                 \
	{                                                                                          \
		struct prov_run *pr = find_link(ctx, h, remote);                                   \
		return pr ? on_assign(pr, caps, unicast) : -EINVAL;                                \
	}                                                                                          \
	static int pfx##_data(void *ctx, uint32_t h, const struct prov_data *data,                 \
			      const uint8_t dev_key[16], uint8_t elements)                         \
	{                                                                                          \
		struct prov_run *pr = find_link(ctx, h, remote);                                   \
		return pr ? on_data(pr, data, dev_key, elements) : -EINVAL;                        \
	}                                                                                          \
	static int pfx##_verify(void *ctx, uint32_t h, const struct prov_record *recs, size_t n,   \
				uint8_t pub_key[64], char *reason, size_t reason_len)              \
	{                                                                                          \
		struct prov_run *pr = find_link(ctx, h, remote);                                   \
		if (!pr) {                                                                         \
			snprintf(reason, reason_len, "session gone");                              \
			return -ECANCELED;                                                         \
		}                                                                                  \
		return on_verify(pr, recs, n, pub_key, reason, reason_len);                        \
	}                                                                                          \
	static void pfx##_done(void *ctx, uint32_t h, const struct prov_result *res)               \
	{                                                                                          \
		struct prov_run *pr = find_link(ctx, h, remote);                                   \
		if (pr) {                                                                          \
			on_done(pr, res);                                                          \
		}                                                                                  \
	}

LINK_CALLBACKS(p, false)
LINK_CALLBACKS(r, true)

static void p_adv(void *ctx, const uint8_t *data, size_t len)
{
	struct gw_prov *P = ctx;

	/* PB-ADV retransmits by itself; each PDU goes on the air once. */
	if (gw_bearer_send(P->core->bearer, MESH_AD_PB_ADV, data, len, 1, 0) == 0) {
		gw_stats_ad(P->core->stats.tx, MESH_AD_PB_ADV);
	}
}

static void p_failed(void *ctx, uint32_t h, int err, uint8_t prov_err)
{
	struct prov_run *pr = find_link(ctx, h, false);

	if (pr) {
		on_failed(pr, err, prov_err, PB_REMOTE_NO_STATUS);
	}
}

static void r_failed(void *ctx, uint32_t h, int err, uint8_t prov_err, uint8_t link_status)
{
	struct prov_run *pr = find_link(ctx, h, true);

	if (pr) {
		on_failed(pr, err, prov_err, link_status);
	}
}

void gw_prov_stack_ops(struct gw_prov *P, struct gw_core_stack_ops *ops)
{
	ops->prov_adv = (struct prov_adv_ops){
	    .ctx = P,
	    .adv_send = p_adv,
	    .output_oob = p_output,
	    .input_oob_request = p_input,
	    .assign_addr = p_assign,
	    .data_ready = p_data,
	    .verify_records = p_verify,
	    .done = p_done,
	    .failed = p_failed,
	};
	ops->pb_remote = (struct pb_remote_ops){
	    .ctx = P,
	    .output_oob = r_output,
	    .input_oob_request = r_input,
	    .assign_addr = r_assign,
	    .data_ready = r_data,
	    .verify_records = r_verify,
	    .done = r_done,
	    .failed = r_failed,
	};
	ops->dev_keys = pending_keys;
	ops->dev_keys_ctx = P;
}

static void session_extra(void *ctx, const struct store_job_target *t, const struct gw_job_run *run,
			  json_t *o)
{
	struct gw_prov *P = ctx;
	const struct prov_run *pr = run ? run->priv : NULL;
	bool refresh = run ? run->kind == &P->k_refresh : false;
	json_t *s = prov_session_json(t, refresh ? "refresh" : "provision", pr);

	/* The session's own words for where the target is (linking, waiting_oob, ...). */
	json_object_set(o, "session", json_object_get(s, "id"));
	json_object_set(o, "phase", json_object_get(s, "state"));
	json_decref(s);
}

struct gw_prov *gw_prov_new(struct gw_core *core, struct gw_jobs *jobs, struct gw_scan *scan)
{
	struct gw_prov *P = calloc(1, sizeof(*P));

	if (!P) {
		return NULL;
	}
	P->core = core;
	P->jobs = jobs;
	P->scan = scan;
	P->k_prov = (struct gw_job_kind){.name = "provision",
					 .ctx = P,
					 .start = provision_start_kind,
					 .stop = prov_stop,
					 .target_json = session_extra};
	P->k_refresh = (struct gw_job_kind){.name = "refresh",
					    .ctx = P,
					    .start = refresh_start,
					    .stop = prov_stop,
					    .target_json = session_extra};
	if (gw_jobs_register(jobs, &P->k_prov) || gw_jobs_register(jobs, &P->k_refresh)) {
		free(P);
		return NULL;
	}
	return P;
}

int gw_prov_attach(struct gw_prov *P, const struct gw_prov_user *u)
{
	if (P->user.kind) {
		return -EEXIST;
	}
	P->user = *u;
	return 0;
}

int gw_prov_attempt_start(struct gw_prov *P, struct gw_job_run *run, uint16_t via)
{
	return attempt_start(P, run, via);
}

void gw_prov_attempt_stop(struct gw_prov *P, struct gw_job_run *run, bool stopping)
{
	prov_stop(P, run, stopping);
}

void gw_prov_attempt_end(struct gw_job_run *run, enum gw_job_outcome o, const char *error,
			 const char *result)
{
	if (run->priv) {
		prov_end(run->priv, o, error, result);
	} else {
		gw_jobs_end(run, o, error, result);
	}
}

uint32_t gw_prov_attempt_serial(const struct gw_job_run *run)
{
	const struct prov_run *pr = run ? run->priv : NULL;

	return pr ? pr->serial : 0;
}

void gw_prov_attempt_json(struct gw_prov *P, const struct store_job_target *t,
			  const struct gw_job_run *run, json_t *o)
{
	session_extra(P, t, run, o);
}

void gw_prov_free(struct gw_prov *P)
{
	free(P);
}
