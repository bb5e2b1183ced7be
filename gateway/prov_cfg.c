/*
 * The automatic configuration after a provisioning (or a refresh that
 * brought a new composition): the node's Default TTL if the job's user
 * asks for one, Composition Data pages 128 and 0 read and
 * stored (page 128 asked first: a node without it answers with page 0,
 * which then costs no second Get), then the target's profile (conf.h profile.NAME, named by the
 * target's params "profile"; without one, bind_profile): its AppKeys added
 * and its models bound to each of them.  Each step is safe to repeat, so an attempt that a
 * restart or a lost answer interrupted starts again from page 0.
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

enum cfg_step {
	STEP_TTL,
	STEP_COMP128, /* page 128 asked; the answer may be page 0 */
	STEP_COMP0,   /* page 0 asked, after a page 128 (or another page) came */
	STEP_APPKEY,
	STEP_BIND,
	STEP_DONE,
};

static void cfg_next(struct prov_run *pr);

static void cfg_fail(struct prov_run *pr, const char *what, int err, uint8_t status)
{
	uint16_t addr = pr->run->t.addr;
	char msg[160];

	if (err) {
		snprintf(msg, sizeof(msg), "configuration (%s): %s", what, strerror(-err));
	} else {
		snprintf(msg, sizeof(msg), "configuration (%s): status %s", what,
			 cfg_status_str(status));
	}
	(void)store_node_cfg_state_set(pr->P->core->st, addr, STORE_CFG_FAILED);
	log_warnx("node 0x%04x: %s", addr, msg);
	/* The node is in the inventory: the next attempt configures it again. */
	prov_end(pr, GW_JOB_RETRY, msg, NULL);
}

/* The target's profile: the one its params name, else bind_profile's. */
static int cfg_profile(struct prov_run *pr)
{
	const struct gw_conf *conf = &pr->P->core->conf;
	const char *name = json_string_value(json_object_get(pr->run->params, "profile"));
	const struct gw_profile *p = gw_conf_profile(conf, name             ? name
							   : conf->bind_all ? "all"
									    : "none");

	if (!p) {
		/* Removed from the configuration since the job was made (SIGHUP). */
		return -ENOENT;
	}
	pr->profile = *p;
	return 0;
}

/* Models of the profile that take AppKeys: never the device-key foundation models. */
static void collect_models(struct prov_run *pr)
{
	struct store_model *models = NULL;
	size_t n = 0, i;

	pr->cfg_n_models = pr->cfg_next_model = 0;
	if (cfg_profile(pr) || store_comp_models(pr->P->core->st, pr->run->t.addr, &models, &n)) {
		return;
	}
	for (i = 0; i < n && pr->cfg_n_models < PROV_MODELS_MAX; i++) {
		/* SIG IDs below 0x1000 are foundation models, secured with the device key. */
		if ((!models[i].vendor && models[i].id < 0x1000) ||
		    !gw_profile_has_model(&pr->profile, models[i].vendor, models[i].id)) {
			continue;
		}
		pr->cfg_model_elem[pr->cfg_n_models] = models[i].elem_idx;
		pr->cfg_model_vendor[pr->cfg_n_models] = models[i].vendor;
		pr->cfg_model_id[pr->cfg_n_models] = models[i].id;
		pr->cfg_n_models++;
	}
	free(models);
}

int prov_cfg_page0(struct prov_run *pr, const uint8_t *data, size_t len)
{
	int r = gw_nodes_store_comp(pr->P->core, pr->run->t.addr, 0, data, len);

	if (!r) {
		collect_models(pr);
	}
	return r;
}

static void on_answer(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct prov_run *pr = prov_ticket_run(ctx);
	struct store *st;
	uint16_t addr;

	(void)src;
	if (!pr) {
		return; /* the attempt was stopped */
	}
	free(ctx);
	st = pr->P->core->st;
	addr = pr->run->t.addr;
	switch (pr->cfg_step) {
	case STEP_TTL:
		if (err) {
			cfg_fail(pr, "Default TTL Set", err, 0);
			return;
		}
		if (rsp->state.val != pr->cfg_default_ttl) {
			/* Only more packets on air than needed: not worth failing the device. */
			log_warnx("node 0x%04x: Default TTL is %u, not %u", addr, rsp->state.val,
				  pr->cfg_default_ttl);
		}
		pr->cfg_step = STEP_COMP128;
		cfg_next(pr);
		return;
	case STEP_COMP128:
		/*
		 * A node without page 128 answers with the highest page it has
		 * below it (§4.4.1.2.1): page 0 is then the answer the next step
		 * would ask for.  Once page 0 is known, a failed page 128 costs
		 * nothing (it was optional); before, page 0 is still to be read.
		 */
		if (!err && rsp->comp.page == 128) {
			(void)store_comp_page_put(st, addr, 128, rsp->comp.data,
						  rsp->comp.data_len);
		}
		if (pr->cfg_page0_read) {
			pr->cfg_step = STEP_APPKEY;
			cfg_next(pr);
			return;
		}
		if (err || rsp->comp.page != 0) {
			break; /* page 0 asked next */
		}
		/* The answer is page 0. */
		/* FALLTHROUGH */
	case STEP_COMP0:
		if (err) {
			cfg_fail(pr, "composition page 0", err, 0);
			return;
		}
		if (rsp->comp.page != 0 || prov_cfg_page0(pr, rsp->comp.data, rsp->comp.data_len)) {
			cfg_fail(pr, "composition page 0", -EBADMSG, 0);
			return;
		}
		if (pr->P->user.composed && pr->run->kind == pr->P->user.kind) {
			pr->P->user.composed(pr->P->user.ctx, pr->run);
		}
		pr->cfg_step = STEP_APPKEY;
		cfg_next(pr);
		return;
	case STEP_APPKEY:
		/* An AppKey the node has already (an attempt repeated) is Success too (§4.4.1.2.4).
		 */
		if (err || rsp->appkey.status != CFG_STATUS_SUCCESS) {
			cfg_fail(pr, "AppKey Add", err, err ? 0 : rsp->appkey.status);
			return;
		}
		(void)store_node_appkey_add(st, addr, pr->profile.appkeys[pr->cfg_next_key++]);
		gw_crash_point("prov.configuring");
		if (pr->cfg_next_key < pr->profile.n_appkeys) {
			cfg_next(pr); /* the profile's next AppKey */
			return;
		}
		break;
	case STEP_BIND: {
		/* Pair p = model p / keys, AppKey p % keys: each model to every AppKey. */
		size_t p = pr->cfg_next_model - 1, nk = pr->profile.n_appkeys;
		size_t k = p / nk;
		uint16_t ea = (uint16_t)(addr + pr->cfg_model_elem[k]);

		if (err || rsp->model_app.status != CFG_STATUS_SUCCESS) {
			cfg_fail(pr, "Model App Bind", err, err ? 0 : rsp->model_app.status);
			return;
		}
		(void)store_model_bind(st, ea, pr->cfg_model_vendor[k], pr->cfg_model_id[k],
				       pr->profile.appkeys[p % nk]);
		if (pr->cfg_next_model < pr->cfg_n_models * nk) {
			pr->cfg_step = STEP_BIND - 1; /* the next pair */
		}
		break;
	}
	default:
		return;
	}
	pr->cfg_step++;
	cfg_next(pr);
}

static void cfg_done(struct prov_run *pr)
{
	struct gw_core *core = pr->P->core;
	uint16_t addr = pr->run->t.addr;
	bool refresh = pr->procedure >= 0;
	struct store_node n;
	json_t *res;
	char *result;

	(void)store_node_cfg_state_set(core->st, addr, STORE_CFG_CONFIGURED);
	log_info("node 0x%04x configured", addr);
	if (store_node_get(core->st, addr, &n) == 0) {
		gw_core_publish(core, refresh ? "node.updated" : "node.added", gw_node_json(&n));
	}
	if (pr->P->user.kind && pr->run->kind == pr->P->user.kind) {
		/* Write-ahead: configured, so a restart goes on with the user's steps. */
		pr->run->t.step = PSTEP_CONFIGURED;
		if (gw_jobs_commit(pr->run)) {
			prov_end(pr, GW_JOB_RETRY,
				 "configured, but the step could not be committed", NULL);
			return;
		}
		prov_session_update(pr, PH_ZONE);
		pr->P->user.configured(pr->P->user.ctx, pr->run);
		return;
	}
	/* The session keeps showing the device certificate after it ended. */
	res = json_pack("{s:i, s:o}", "address", addr, "certificate",
			gw_node_cert_json(core->st, addr));
	result = res ? json_dumps(res, JSON_COMPACT) : NULL;
	json_decref(res);
	prov_end(pr, GW_JOB_OK, NULL, result);
	free(result);
}

static void cfg_next(struct prov_run *pr)
{
	struct gw_core *core = pr->P->core;
	uint16_t addr = pr->run->t.addr;
	struct prov_ticket *tk;
	struct cfg_msg m = {0};
	int r;

	if (pr->cfg_step == STEP_APPKEY && pr->cfg_next_key < pr->profile.n_appkeys) {
		struct store_appkey ak;
		uint16_t idx = pr->profile.appkeys[pr->cfg_next_key];

		if (store_appkey_get(core->st, idx, &ak) != 0) {
			char what[40];

			snprintf(what, sizeof(what), "AppKey Add, index %u", idx);
			cfg_fail(pr, what, -ENOENT, 0);
			return;
		}
		m.op = CFG_OP_APPKEY_ADD;
		m.appkey.net_idx = ak.net_idx;
		m.appkey.app_idx = idx;
		memcpy(m.appkey.key, ak.key, 16);
		mesh_crypto_wipe(&ak, sizeof(ak));
	} else if (pr->cfg_step == STEP_APPKEY) {
		pr->cfg_step = STEP_BIND; /* a profile without AppKeys binds nothing */
		cfg_done(pr);
		return;
	} else if (pr->cfg_step == STEP_BIND &&
		   pr->cfg_next_model < pr->cfg_n_models * pr->profile.n_appkeys) {
		size_t p = pr->cfg_next_model++, nk = pr->profile.n_appkeys;
		size_t k = p / nk;

		m.op = CFG_OP_MODEL_APP_BIND;
		m.model_app.elem_addr = (uint16_t)(addr + pr->cfg_model_elem[k]);
		m.model_app.app_idx = pr->profile.appkeys[p % nk];
		m.model_app.model.vendor = pr->cfg_model_vendor[k];
		m.model_app.model.cid = (uint16_t)(pr->cfg_model_id[k] >> 16);
		m.model_app.model.id = (uint16_t)pr->cfg_model_id[k];
	} else if (pr->cfg_step == STEP_TTL) {
		m.op = CFG_OP_DEFAULT_TTL_SET;
		m.state.val = pr->cfg_default_ttl;
	} else if (pr->cfg_step == STEP_COMP128 || pr->cfg_step == STEP_COMP0) {
		m.op = CFG_OP_COMP_GET;
		m.comp.page = pr->cfg_step == STEP_COMP0 ? 0 : 128;
	} else {
		cfg_done(pr);
		return;
	}
	tk = prov_ticket(pr);
	r = tk ? cfg_cli_request(core->cfg, core->primary_net, addr, NULL, &m, GW_CFG_TIMEOUT_MS,
				 GW_CFG_RETRY_MS, on_answer, tk, gw_core_now(core))
	       : -ENOMEM;
	mesh_crypto_wipe(&m, sizeof(m));
	if (r) {
		free(tk);
		cfg_fail(pr, "send", r, 0);
		return;
	}
	gw_core_rearm(core);
}

void prov_cfg_begin(struct prov_run *pr, bool page0_read)
{
	if (cfg_profile(pr)) {
		char msg[96];

		snprintf(msg, sizeof(msg),
			 "configuration: profile %.40s is not in the configuration",
			 json_string_value(json_object_get(pr->run->params, "profile")));
		(void)store_node_cfg_state_set(pr->P->core->st, pr->run->t.addr, STORE_CFG_FAILED);
		prov_end(pr, GW_JOB_FAIL, msg, NULL);
		return;
	}
	pr->cfg_default_ttl = 0xff;
	if (pr->P->user.configuring && pr->run->kind == pr->P->user.kind) {
		pr->cfg_default_ttl = pr->P->user.configuring(pr->P->user.ctx, pr->run);
	}
	pr->cfg_next_key = 0;
	pr->cfg_page0_read = page0_read;
	/*
	 * The Default TTL first, so that every reply of the configuration
	 * already carries it.  Like every step here it is sent again when the
	 * configuration is: the step committed before it (PSTEP_NODE, or a
	 * later one) makes a restart configure the node again, so the message
	 * is written ahead like the rest; Default TTL Set is idempotent.
	 */
	pr->cfg_step = pr->cfg_default_ttl != 0xff ? STEP_TTL : STEP_COMP128;
	(void)store_node_cfg_state_set(pr->P->core->st, pr->run->t.addr, STORE_CFG_CONFIGURING);
	prov_session_update(pr, PH_CONFIGURING);
	cfg_next(pr);
}
