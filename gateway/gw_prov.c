/*
 * Scanning for unprovisioned devices, provisioning sessions over PB-ADV
 * (many at once, queued beyond max_sessions), and the automatic
 * configuration that follows a successful provisioning: Composition Data
 * pages 0 and 128 read and stored, the default AppKey added, and every model
 * that uses AppKeys bound to it (bind_profile = all).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_int.h"
#include "gateway/log.h"
#include "mesh/comp.h"
#include "mesh/crypto.h"
#include "mesh/unprov_beacon.h"

static const char *const state_names[] = {
    [SESS_QUEUED] = "queued",
    [SESS_LINKING] = "linking",
    [SESS_PROVISIONING] = "provisioning",
    [SESS_WAITING_OOB] = "waiting_oob",
    [SESS_CONFIGURING] = "configuring",
    [SESS_DONE] = "done",
    [SESS_FAILED] = "failed",
    [SESS_CANCELLED] = "cancelled",
};

static const char *const method_names[] = {"none", "static", "output", "input"};
static const char *const proc_names[] = {"device_key", "address", "composition"};

/* UUIDs reported during the current scan (an event only for the first sighting). */
static bool seen_before(struct gw *gw, const uint8_t uuid[16]);

/* --- Sessions ---------------------------------------------------------------- */

static json_t *sess_json(const struct gw_sess *s)
{
	char uuid[33];
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "id", s->id, "uuid",
		      gw_hex(s->uuid, 16, uuid), "name", s->name, "state", state_names[s->state],
		      "address",
		      s->addr && s->state >= SESS_CONFIGURING ? json_integer(s->addr) : json_null(),
		      "auth_method", method_names[s->auth_method & 3], "input_oob_value",
		      s->input_value[0] ? json_string(s->input_value) : json_null(), "error",
		      s->error[0] ? json_string(s->error) : json_null(), "created_at",
		      gw_time_json(s->created), "updated_at", gw_time_json(s->updated));
	json_object_set_new(o, "via", s->via ? json_integer(s->via) : json_null());
	json_object_set_new(o, "procedure",
			    s->procedure >= 0 ? json_string(proc_names[s->procedure % 3])
					      : json_null());
	return o;
}

static void sess_update(struct gw *gw, struct gw_sess *s, enum sess_state st)
{
	s->state = st;
	s->updated = gw_wall_ms();
	gw_publish(gw, "provisioning.updated", sess_json(s));
}

static struct gw_sess *sess_by_link(struct gw *gw, uint32_t link, bool remote)
{
	size_t i;

	for (i = 0; i < GW_SESS_MAX; i++) {
		struct gw_sess *s = &gw->sess[i];

		if (s->used && s->link == link && s->remote == remote &&
		    (s->state == SESS_LINKING || s->state == SESS_PROVISIONING ||
		     s->state == SESS_WAITING_OOB)) {
			return s;
		}
	}
	return NULL;
}

static struct gw_sess *sess_by_id(struct gw *gw, const char *id)
{
	size_t i;

	for (i = 0; id && i < GW_SESS_MAX; i++) {
		if (gw->sess[i].used && strcmp(gw->sess[i].id, id) == 0) {
			return &gw->sess[i];
		}
	}
	return NULL;
}

static unsigned sess_active(const struct gw *gw)
{
	unsigned i, n = 0;

	for (i = 0; i < GW_SESS_MAX; i++) {
		const struct gw_sess *s = &gw->sess[i];

		n += s->used && s->state >= SESS_LINKING && s->state <= SESS_CONFIGURING;
	}
	return n;
}

/* A slot for a new session: a free one, else the oldest finished one. */
static struct gw_sess *sess_alloc(struct gw *gw)
{
	struct gw_sess *old = NULL;
	size_t i;

	for (i = 0; i < GW_SESS_MAX; i++) {
		struct gw_sess *s = &gw->sess[i];

		if (!s->used) {
			return s;
		}
		if (s->state >= SESS_DONE && (!old || s->updated < old->updated)) {
			old = s;
		}
	}
	return old;
}

static void sess_finish(struct gw *gw, struct gw_sess *s, enum sess_state st, const char *error)
{
	char result[64];

	if (error) {
		snprintf(s->error, sizeof(s->error), "%s", error);
	}
	mesh_crypto_wipe(&s->cfg, sizeof(s->cfg));
	s->input_value[0] = '\0';
	snprintf(result, sizeof(result), "{\"address\": %u}", s->addr);
	(void)store_op_finish(gw->st, s->op_id,
			      st == SESS_DONE        ? STORE_OP_SUCCEEDED
			      : st == SESS_CANCELLED ? STORE_OP_CANCELLED
						     : STORE_OP_FAILED,
			      st == SESS_DONE ? result : NULL, error);
	sess_update(gw, s, st);
}

static void start_queued(struct gw *gw);

/* A session ended before the node was stored: give the address back. */
static void sess_abort(struct gw *gw, struct gw_sess *s, enum sess_state st, const char *error)
{
	/* A reserved address (new devices, Address Refresh) goes back; a node's own stays. */
	if (s->addr && s->addr != s->old_addr) {
		(void)store_addr_release(gw->st, s->addr);
		s->addr = 0;
	}
	sess_finish(gw, s, st, error);
	start_queued(gw);
}

/* " (bearer hci:0 down-reopening: controller gone: end of file)" while the bearer is not ready. */
static void bearer_note(struct gw *gw, char *out, size_t cap)
{
	struct gw_bearer_state st;

	out[0] = '\0';
	if (gw_bearer_ready(gw->bearer)) {
		return;
	}
	gw_bearer_state(gw->bearer, &st);
	snprintf(out, cap, " (bearer %.40s %s%s%.80s)", st.name, gw_bearer_status_name(st.status),
		 st.reason[0] ? ": " : "", st.reason);
}

static int sess_start(struct gw *gw, struct gw_sess *s)
{
	struct mesh_net *net = mesh_node_net(gw->node);
	struct store_netkey nk;
	uint64_t now = gw_loop_now(gw->loop);
	uint32_t iv;
	bool upd;
	int r;

	r = store_netkey_get(gw->st, gw->primary_net, &nk);
	if (r) {
		return r;
	}
	mesh_net_iv_get(net, &iv, &upd);
	memcpy(s->cfg.data.net_key, nk.key, 16);
	mesh_crypto_wipe(&nk, sizeof(nk));
	s->cfg.data.net_idx = gw->primary_net;
	s->cfg.data.iv_index = iv;
	s->cfg.data.flags = upd ? 0x02 : 0x00;
	s->cfg.data.unicast = s->old_addr; /* refreshes keep it; others choose in assign_addr */
	if (s->remote) {
		struct pb_remote_target t = {.net_idx = gw->primary_net, .server = s->via};

		r = s->procedure >= 0
			? pb_remote_refresh(gw->pbr, &t, (uint8_t)s->procedure, &s->cfg, now,
					    &s->link)
			: pb_remote_provision(gw->pbr, &t, s->uuid, 0, &s->cfg, now, &s->link);
	} else {
		r = prov_adv_provision(gw->pa, s->uuid, &s->cfg, now, &s->link);
	}
	if (r) {
		return r;
	}
	(void)store_op_progress(gw->st, s->op_id, STORE_OP_RUNNING, 5);
	sess_update(gw, s, SESS_LINKING);
	return 0;
}

/* How soon a session the radio had no room for is tried again. */
#define START_RETRY_MS 250

static void start_retry(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct gw *gw = ctx;

	(void)loop;
	(void)id;
	gw->start_retry = 0;
	start_queued(gw);
}

static void start_queued(struct gw *gw)
{
	size_t i;

	for (i = 0; i < GW_SESS_MAX && !gw->stopping; i++) {
		struct gw_sess *s = &gw->sess[i];
		int r;

		if (!s->used || s->state != SESS_QUEUED) {
			continue;
		}
		if (sess_active(gw) >= gw->conf.max_sessions) {
			break;
		}
		r = sess_start(gw, s);
		if (r == -EBUSY && s->remote) {
			continue; /* its server has a link open: it waits for that one */
		}
		if (r == -ENOBUFS) {
			/*
			 * The radio's queue is full (a legacy controller carries one PDU at a
			 * time): the session stays queued and is tried again shortly, nothing
			 * was sent or reserved for it.
			 */
			log_debug("session %s: the radio's queue is full, retried in %d ms", s->id,
				  START_RETRY_MS);
			if (!gw->start_retry) {
				gw->start_retry = gw_loop_timer_at(
				    gw->loop, gw_loop_now(gw->loop) + START_RETRY_MS, start_retry,
				    gw);
			}
			break;
		}
		if (r) {
			char msg[160], note[128];

			bearer_note(gw, note, sizeof(note));
			snprintf(msg, sizeof(msg), "cannot start: %s%s", strerror(-r), note);
			sess_abort(gw, s, SESS_FAILED, msg);
		}
	}
	gw_rearm(gw);
}

/* --- Automatic configuration ---------------------------------------------- */

enum cfg_step {
	STEP_COMP0,
	STEP_COMP128,
	STEP_APPKEY,
	STEP_BIND,
	STEP_DONE,
};

static void cfg_next(struct gw *gw, struct gw_sess *s);
static void cfg_collect_models(struct gw *gw, struct gw_sess *s);

static void cfg_fail(struct gw *gw, struct gw_sess *s, const char *what, int err, uint8_t status)
{
	char msg[160];

	if (err) {
		snprintf(msg, sizeof(msg), "configuration (%s): %s", what, strerror(-err));
	} else {
		snprintf(msg, sizeof(msg), "configuration (%s): status %s", what,
			 cfg_status_str(status));
	}
	(void)store_node_cfg_state_set(gw->st, s->addr, STORE_CFG_FAILED);
	log_warnx("node 0x%04x: %s", s->addr, msg);
	sess_finish(gw, s, SESS_FAILED, msg);
	start_queued(gw);
}

/* Does a node's page 0, as just read, differ from the stored copy (or is there none)? */
static bool comp0_changed(struct gw *gw, uint16_t addr, const struct cfg_comp *page)
{
	uint8_t *old = malloc(MESH_COMP_DATA_MAX);
	size_t len = 0;
	bool changed = true;

	if (old && store_comp_page_get(gw->st, addr, 0, old, MESH_COMP_DATA_MAX, &len) == 0) {
		changed = len != page->data_len || (len && memcmp(old, page->data, len) != 0);
	}
	free(old);
	return changed;
}

static void on_cfg_answer(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct gw_sess *s = ctx;
	struct gw *gw = s->gw;
	bool changed;

	(void)src;
	if (!s->used || s->state != SESS_CONFIGURING) {
		return; /* cancelled meanwhile */
	}
	switch (s->cfg_step) {
	case STEP_COMP0:
		if (err) {
			cfg_fail(gw, s, "composition page 0", err, 0);
			return;
		}
		changed = s->procedure >= 0 && comp0_changed(gw, s->addr, &rsp->comp);
		if (rsp->comp.page != 0 ||
		    gw_store_comp(gw, s->addr, 0, rsp->comp.data, rsp->comp.data_len)) {
			cfg_fail(gw, s, "composition page 0", -EBADMSG, 0);
			return;
		}
		cfg_collect_models(gw, s);
		if (s->procedure >= 0) {
			/* The node answered under its new DevKey: the old one is revoked now. */
			(void)store_node_devkey_commit(gw->st, s->addr);
			mesh_crypto_wipe(s->new_devkey, sizeof(s->new_devkey));
			/*
			 * A new composition (Composition Refresh, or an Address
			 * Refresh that brought one) has models without their
			 * configuration: configure them as after provisioning.
			 */
			if (s->procedure != RPR_NPPI_COMPOSITION_REFRESH && !changed) {
				s->cfg_step = STEP_DONE;
				cfg_next(gw, s);
				return;
			}
		}
		break;
	case STEP_COMP128:
		/* A node without page 128 answers with page 0 (§4.4.1.2.1): nothing to keep. */
		if (!err && rsp->comp.page == 128) {
			(void)store_comp_page_put(gw->st, s->addr, 128, rsp->comp.data,
						  rsp->comp.data_len);
		}
		break;
	case STEP_APPKEY:
		if (err || rsp->appkey.status != CFG_STATUS_SUCCESS) {
			cfg_fail(gw, s, "AppKey Add", err, err ? 0 : rsp->appkey.status);
			return;
		}
		(void)store_node_appkey_add(gw->st, s->addr, 0);
		break;
	case STEP_BIND: {
		size_t k = s->cfg_next_model - 1;
		uint16_t ea = (uint16_t)(s->addr + s->cfg_model_elem[k]);

		if (err || rsp->model_app.status != CFG_STATUS_SUCCESS) {
			cfg_fail(gw, s, "Model App Bind", err, err ? 0 : rsp->model_app.status);
			return;
		}
		(void)store_model_bind(gw->st, ea, s->cfg_model_vendor[k], s->cfg_model_id[k], 0);
		if (s->cfg_next_model < s->cfg_n_models) {
			s->cfg_step = STEP_BIND - 1; /* bind the next model */
		}
		break;
	}
	default:
		return;
	}
	s->cfg_step++;
	cfg_next(gw, s);
}

static void cfg_next(struct gw *gw, struct gw_sess *s)
{
	struct cfg_msg m = {0};
	int r;

	if (s->cfg_step == STEP_APPKEY) {
		struct store_appkey ak;

		if (store_appkey_get(gw->st, 0, &ak) != 0) {
			cfg_fail(gw, s, "AppKey Add", -ENOENT, 0);
			return;
		}
		m.op = CFG_OP_APPKEY_ADD;
		m.appkey.net_idx = ak.net_idx;
		m.appkey.app_idx = 0;
		memcpy(m.appkey.key, ak.key, 16);
		mesh_crypto_wipe(&ak, sizeof(ak));
	} else if (s->cfg_step == STEP_BIND && gw->conf.bind_all &&
		   s->cfg_next_model < s->cfg_n_models) {
		size_t k = s->cfg_next_model++;

		m.op = CFG_OP_MODEL_APP_BIND;
		m.model_app.elem_addr = (uint16_t)(s->addr + s->cfg_model_elem[k]);
		m.model_app.app_idx = 0;
		m.model_app.model.vendor = s->cfg_model_vendor[k];
		m.model_app.model.cid = (uint16_t)(s->cfg_model_id[k] >> 16);
		m.model_app.model.id = (uint16_t)s->cfg_model_id[k];
	} else if (s->cfg_step <= STEP_COMP128) {
		m.op = CFG_OP_COMP_GET;
		m.comp.page = s->cfg_step == STEP_COMP0 ? 0 : 128;
	} else {
		(void)store_node_cfg_state_set(gw->st, s->addr, STORE_CFG_CONFIGURED);
		log_info("node 0x%04x configured", s->addr);
		sess_finish(gw, s, SESS_DONE, NULL);
		{
			struct store_node n;

			if (store_node_get(gw->st, s->addr, &n) == 0) {
				gw_publish(gw, s->procedure >= 0 ? "node.updated" : "node.added",
					   gw_node_json(&n));
			}
		}
		start_queued(gw);
		return;
	}
	(void)store_op_progress(gw->st, s->op_id, STORE_OP_RUNNING,
				(uint8_t)(60 + 10 * (s->cfg_step > 3 ? 3 : s->cfg_step)));
	r = cfg_cli_request(gw->cfg, gw->primary_net, s->addr,
			    s->procedure >= 0 && s->cfg_step == STEP_COMP0 ? s->new_devkey : NULL,
			    &m, GW_CFG_TIMEOUT_MS, GW_CFG_RETRY_MS, on_cfg_answer, s,
			    gw_loop_now(gw->loop));
	mesh_crypto_wipe(&m, sizeof(m));
	if (r) {
		cfg_fail(gw, s, "send", r, 0);
	}
	gw_rearm(gw);
}

/* Models that take AppKeys: everything but the device-key foundation models. */
static void cfg_collect_models(struct gw *gw, struct gw_sess *s)
{
	struct store_model *models = NULL;
	size_t n = 0, i;

	s->cfg_n_models = s->cfg_next_model = 0;
	if (store_comp_models(gw->st, s->addr, &models, &n)) {
		return;
	}
	for (i = 0; i < n && s->cfg_n_models < 64; i++) {
		/* SIG IDs below 0x1000 are foundation models, secured with the device key. */
		if (!models[i].vendor && models[i].id < 0x1000) {
			continue;
		}
		s->cfg_model_elem[s->cfg_n_models] = models[i].elem_idx;
		s->cfg_model_vendor[s->cfg_n_models] = models[i].vendor;
		s->cfg_model_id[s->cfg_n_models] = models[i].id;
		s->cfg_n_models++;
	}
	free(models);
}

/* --- Provisioning callbacks ---------------------------------------------------- */

/*
 * Session events, shared by PB-ADV (prov_adv) and PB-Remote (pb_remote)
 * sessions; the wrappers below find the session by its handle.
 */
static void on_output(struct gw *gw, struct gw_sess *s, const char *value)
{
	/* Input OOB: the user must enter this value on the device. */
	snprintf(s->input_value, sizeof(s->input_value), "%s", value);
	sess_update(gw, s, SESS_WAITING_OOB);
}

static int on_assign(struct gw *gw, struct gw_sess *s, const struct prov_caps *caps,
		     uint16_t *unicast)
{
	int r;

	if (caps->elements == 0) {
		return -EINVAL;
	}
	if (s->procedure >= 0 && s->procedure != RPR_NPPI_ADDRESS_REFRESH) {
		/*
		 * Device Key and Composition Refresh keep the node's address,
		 * so they cannot change its element count: the range after it
		 * may belong to another node.  That takes an Address Refresh.
		 */
		if (caps->elements != s->old_elements) {
			snprintf(s->error, sizeof(s->error),
				 "the node would have %u elements instead of %u: a change of"
				 " element count needs procedure \"address\"",
				 caps->elements, s->old_elements);
			return -ERANGE;
		}
		*unicast = s->old_addr;
		s->addr = s->old_addr;
	} else {
		r = store_addr_reserve(gw->st, caps->elements, unicast);
		if (r) {
			return r;
		}
		s->addr = *unicast;
	}
	s->elements = caps->elements;
	sess_update(gw, s, SESS_PROVISIONING);
	return 0;
}

static void on_refreshed(struct gw *gw, struct gw_sess *s, const struct prov_result *res)
{
	int r = 0;

	if (s->procedure == RPR_NPPI_ADDRESS_REFRESH) {
		/* One transaction: node, elements, models move; the old range is excluded. */
		r = store_node_address_change(gw->st, s->old_addr, res->data.unicast, s->elements);
	}
	if (!r) {
		r = store_node_devkey_cand_set(gw->st, res->data.unicast, res->dev_key);
	}
	if (r) {
		char msg[128];

		snprintf(msg, sizeof(msg), "refreshed, but the inventory refused it: %s",
			 store_strerror(r));
		sess_abort(gw, s, SESS_FAILED, msg);
		return;
	}
	s->addr = res->data.unicast;
	memcpy(s->new_devkey, res->dev_key, 16);
	log_info("node 0x%04x: %s refresh done%s", s->old_addr, proc_names[s->procedure % 3],
		 s->addr != s->old_addr ? ", new address" : "");
	(void)store_op_progress(gw->st, s->op_id, STORE_OP_RUNNING, 50);
	sess_update(gw, s, SESS_CONFIGURING);
	/* Composition Data Get under the new DevKey confirms it before it replaces the old one. */
	s->cfg_step = STEP_COMP0;
	cfg_next(gw, s);
}

static void on_done(struct gw *gw, struct gw_sess *s, const struct prov_result *res)
{
	struct store_node n = {0};
	int r;

	if (s->procedure >= 0) {
		on_refreshed(gw, s, res);
		return;
	}
	memcpy(n.uuid, s->uuid, 16);
	n.unicast = res->data.unicast;
	n.elements = res->elements;
	snprintf(n.name, sizeof(n.name), "%s", s->name);
	n.cfg_state = STORE_CFG_CONFIGURING;
	r = store_node_add(gw->st, &n, res->dev_key, res->data.net_idx);
	if (r) {
		char msg[96];

		/* The device holds keys we could not record: it must be reset by hand. */
		snprintf(msg, sizeof(msg), "provisioned, but the inventory refused the node: %s",
			 store_strerror(r));
		sess_abort(gw, s, SESS_FAILED, msg);
		return;
	}
	/* For the Mesh CDB "security": provisioned with OOB authentication or without. */
	(void)store_cdb_node_state_set(gw->st, n.unicast, STORE_CDB_SECURE,
				       s->auth_method != PROV_AUTH_NO_OOB);
	s->addr = res->data.unicast;
	s->input_value[0] = '\0';
	log_info("provisioned node 0x%04x (%u elements)%s", s->addr, res->elements,
		 s->via ? " through a Remote Provisioning Server" : "");
	(void)store_op_progress(gw->st, s->op_id, STORE_OP_RUNNING, 50);
	sess_update(gw, s, SESS_CONFIGURING);
	s->cfg_step = STEP_COMP0;
	cfg_next(gw, s);
}

static void on_failed(struct gw *gw, struct gw_sess *s, int err, uint8_t prov_err,
		      uint8_t link_status)
{
	char msg[160], note[160];
	size_t n;

	if (s->error[0]) {
		/* Refused by the gateway itself (on_assign), with the reason. */
		snprintf(msg, sizeof(msg), "provisioning failed: %.130s", s->error);
	} else if (prov_err) {
		snprintf(msg, sizeof(msg), "provisioning failed: %s (%s)", strerror(-err),
			 prov_err_str(prov_err));
	} else if (link_status != PB_REMOTE_NO_STATUS) {
		snprintf(msg, sizeof(msg), "provisioning failed: %s (server 0x%04x: %s)",
			 strerror(-err), s->via, rpr_status_str(link_status));
	} else if (s->remote) {
		/* Nothing from the server: it, or the way to it, is what went silent. */
		snprintf(msg, sizeof(msg),
			 "provisioning failed: %s (no answer through Remote Provisioning Server"
			 " 0x%04x)",
			 strerror(-err), s->via);
	} else {
		snprintf(msg, sizeof(msg), "provisioning failed: %s", strerror(-err));
	}
	/* A session that failed while the radio was away says so: the cause is not the node. */
	bearer_note(gw, note, sizeof(note));
	n = strlen(msg);
	if (note[0] && n < sizeof(msg) - 1) {
		snprintf(msg + n, sizeof(msg) - n, "%s", note);
	}
	log_info("%s: %s", s->id, msg);
	sess_abort(gw, s, SESS_FAILED, msg);
}

static void p_adv(void *ctx, const uint8_t *data, size_t len)
{
	struct gw *gw = ctx;

	/* PB-ADV retransmits by itself; each PDU goes on the air once. */
	(void)gw_bearer_send(gw->bearer, MESH_AD_PB_ADV, data, len, 1, 0);
}

#define SESSION_WRAPPERS(pfx, remote)                                                              \
	static void pfx##_output(void *ctx, uint32_t h, uint8_t action, const char *value)         \
	{                                                                                          \
		struct gw_sess *s = sess_by_link(ctx, h, remote);                                  \
		(void)action;                                                                      \
		if (s) {                                                                           \
			on_output(ctx, s, value);                                                  \
		}                                                                                  \
	}                                                                                          \
	static void pfx##_input(void *ctx, uint32_t h, uint8_t action, uint8_t size)               \
	{                                                                                          \
		struct gw_sess *s = sess_by_link(ctx, h, remote);                                  \
		(void)action;                                                                      \
		(void)size;                                                                        \
		/* Output OOB: waiting for the value the device shows (POST .../oob). */           \
		if (s) {                                                                           \
			sess_update(ctx, s, SESS_WAITING_OOB);                                     \
		}                                                                                  \
	}                                                                                          \
	static int pfx##_assign(void *ctx, uint32_t h, const struct prov_caps *caps,               \
				uint16_t *unicast)                                                 \
	{                                                                                          \
		struct gw_sess *s = sess_by_link(ctx, h, remote);                                  \
		return s ? on_assign(ctx, s, caps, unicast) : -EINVAL;                             \
	}                                                                                          \
	static void pfx##_done(void *ctx, uint32_t h, const struct prov_result *res)               \
	{                                                                                          \
		struct gw_sess *s = sess_by_link(ctx, h, remote);                                  \
		if (s) {                                                                           \
			on_done(ctx, s, res);                                                      \
		}                                                                                  \
	}

SESSION_WRAPPERS(p, false)
SESSION_WRAPPERS(r, true)

static void p_failed(void *ctx, uint32_t h, int err, uint8_t prov_err)
{
	struct gw_sess *s = sess_by_link(ctx, h, false);

	if (s) {
		on_failed(ctx, s, err, prov_err, PB_REMOTE_NO_STATUS);
	}
}

static void r_failed(void *ctx, uint32_t h, int err, uint8_t prov_err, uint8_t link_status)
{
	struct gw_sess *s = sess_by_link(ctx, h, true);

	if (s) {
		on_failed(ctx, s, err, prov_err, link_status);
	}
}

const struct prov_adv_ops gw_prov_ops = {
    .adv_send = p_adv,
    .output_oob = p_output,
    .input_oob_request = p_input,
    .assign_addr = p_assign,
    .done = p_done,
    .failed = p_failed,
};

const struct pb_remote_ops gw_pbr_ops = {
    .output_oob = r_output,
    .input_oob_request = r_input,
    .assign_addr = r_assign,
    .done = r_done,
    .failed = r_failed,
};

void gw_prov_shutdown(struct gw *gw)
{
	size_t i;

	for (i = 0; i < GW_SESS_MAX; i++) {
		struct gw_sess *s = &gw->sess[i];

		if (s->used && s->state >= SESS_LINKING && s->state <= SESS_WAITING_OOB) {
			if (s->remote) {
				(void)pb_remote_cancel(gw->pbr, s->link, gw_loop_now(gw->loop));
			} else {
				(void)prov_adv_cancel(gw->pa, s->link, gw_loop_now(gw->loop));
			}
			sess_abort(gw, s, SESS_CANCELLED, "gateway stopping");
		} else if (s->used && s->state == SESS_QUEUED) {
			sess_finish(gw, s, SESS_CANCELLED, "gateway stopping");
		}
	}
	gw->scanning = false;
}

/* --- Scanning ------------------------------------------------------------------ */

static bool seen_before(struct gw *gw, const uint8_t uuid[16])
{
	size_t i;

	for (i = 0; i < gw->n_scan_seen; i++) {
		if (!memcmp(gw->scan_seen[i], uuid, 16)) {
			return true;
		}
	}
	if (gw->n_scan_seen < GW_SCAN_SEEN_MAX) {
		memcpy(gw->scan_seen[gw->n_scan_seen++], uuid, 16);
	}
	return false;
}

/*
 * Store one sighting.  A failed write (disk full, database locked) would
 * make the device silently missing from the results: say so, once per scan.
 */
static void scan_store(struct gw *gw, const struct store_scan *rec)
{
	int r = store_scan_put(gw->st, rec);

	if (r && !gw->scan_store_warned) {
		gw->scan_store_warned = true;
		log_warnx("scan: a sighting could not be stored: %s%s%s", store_strerror(r),
			  r == -EIO ? ": " : "", r == -EIO ? store_errmsg(gw->st) : "");
	}
}

void gw_prov_beacon(struct gw *gw, const uint8_t *data, size_t len, int8_t rssi)
{
	struct unprov_beacon b;
	struct store_scan rec = {0};
	char uuid[33];

	if (!gw->scanning || unprov_beacon_decode(data, len, &b) != 0) {
		return;
	}
	memcpy(rec.uuid, b.uuid, 16);
	rec.oob = b.oob_info;
	rec.has_uri_hash = b.has_uri_hash;
	memcpy(rec.uri_hash, b.uri_hash, 4);
	rec.rssi = rssi;
	rec.last_ms = gw_wall_ms();
	scan_store(gw, &rec);
	if (!seen_before(gw, b.uuid)) {
		gw_publish(gw, "scan.result",
			   json_pack("{s:s, s:i, s:i}", "uuid", gw_hex(b.uuid, 16, uuid),
				     "oob_info", b.oob_info, "rssi", rssi));
	}
}

static void scan_end(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct gw *gw = ctx;

	(void)loop;
	(void)id;
	gw->scan_timer = 0;
	gw->scanning = false;
	gw_publish(gw, "scan.stopped", json_pack("{s:s}", "state", "stopped"));
}

/* Nodes whose page 0 lists the Remote Provisioning Server model (0x0004). */
static size_t rpr_servers(struct gw *gw, uint16_t *out, size_t max)
{
	struct store_node_filter f = {0};
	struct store_node *nodes = NULL;
	size_t n = 0, i, k = 0;

	if (store_node_list(gw->st, &f, &nodes, &n)) {
		return 0;
	}
	for (i = 0; i < n && k < max; i++) {
		struct store_model *models = NULL;
		size_t nm = 0, j;

		if (store_comp_models(gw->st, nodes[i].unicast, &models, &nm)) {
			continue;
		}
		for (j = 0; j < nm; j++) {
			if (!models[j].vendor && models[j].id == 0x0004 &&
			    models[j].elem_idx == 0) {
				out[k++] = nodes[i].unicast;
				break;
			}
		}
		free(models);
	}
	store_nodes_free(nodes);
	return k;
}

static void on_rscan_status(void *ctx, int err, uint16_t src, const struct rpr_msg *rsp)
{
	struct gw *gw = ctx;

	if (err) {
		log_info("remote scan through 0x%04x: %s", src, strerror(-err));
	} else if (rsp->scan_status.status != 0) {
		log_info("remote scan through 0x%04x refused: %s", src,
			 rpr_status_str(rsp->scan_status.status));
	}
	(void)gw;
}

void gw_cmd_scan_start(struct gw *gw, struct gw_cmd *c)
{
	json_int_t dur = json_integer_value(json_object_get(c->args, "duration_s"));
	json_t *list = json_object_get(c->args, "servers"), *v, *srv = json_array();
	uint16_t servers[32];
	size_t n = 0, i;
	int r;

	if (dur <= 0) {
		dur = 30;
	}
	/* A new scan starts from an empty list; if that fails, nothing changes. */
	r = store_scan_clear(gw->st);
	if (r) {
		json_decref(srv);
		gw_cmd_complete(gw->q, c, r, NULL, store_strerror(r));
		return;
	}
	if (json_is_array(list)) {
		json_array_foreach(list, i, v)
		{
			if (n < 32) {
				servers[n++] = (uint16_t)json_integer_value(v);
			}
		}
	} else if (json_is_true(json_object_get(c->args, "remote"))) {
		n = rpr_servers(gw, servers, 32);
	}
	if (gw->scan_timer) {
		(void)gw_loop_timer_cancel(gw->loop, gw->scan_timer);
	}
	gw->n_scan_seen = 0;
	gw->scan_store_warned = false;
	gw->scanning = true;
	gw->scan_started = gw_wall_ms();
	gw->scan_timer =
	    gw_loop_timer_at(gw->loop, gw_loop_now(gw->loop) + (uint64_t)dur * 1000, scan_end, gw);
	for (i = 0; i < n; i++) {
		struct rpr_msg m = {.op = RPR_OP_SCAN_START};

		/* Limit 0: as many devices as the server can hold (§4.3.4.x Scan Start). */
		m.scan_start.limit = 0;
		m.scan_start.timeout = (uint8_t)(dur > 255 ? 255 : dur);
		if (rpr_cli_request(gw->rpr, gw->primary_net, servers[i], NULL, &m,
				    GW_CFG_TIMEOUT_MS, GW_CFG_RETRY_MS, on_rscan_status, gw,
				    gw_loop_now(gw->loop)) == 0) {
			json_array_append_new(srv, json_integer(servers[i]));
		}
	}
	gw_cmd_complete(gw->q, c, 0,
			json_pack("{s:i, s:s, s:s, s:o, s:I, s:o}", "_http_status", 202, "id",
				  "current", "state", "running", "started_at",
				  gw_time_json(gw->scan_started), "duration_s", dur, "servers",
				  srv),
			NULL);
	gw_rearm(gw);
}

static void rscan_report(void *ctx, uint16_t src, const struct rpr_scan_report *r)
{
	struct gw *gw = ctx;
	struct store_scan rec = {0};
	char uuid[33];

	if (!gw->scanning) {
		return;
	}
	memcpy(rec.uuid, r->uuid, 16);
	rec.oob = r->oob;
	rec.has_uri_hash = r->has_uri_hash;
	memcpy(rec.uri_hash, r->uri_hash, 4);
	rec.rssi = r->rssi;
	rec.last_ms = gw_wall_ms();
	rec.via = src;
	scan_store(gw, &rec);
	if (!seen_before(gw, r->uuid)) {
		gw_publish(gw, "scan.result",
			   json_pack("{s:s, s:i, s:i, s:i}", "uuid", gw_hex(r->uuid, 16, uuid),
				     "oob_info", r->oob, "rssi", r->rssi, "via", src));
	}
}

const struct rpr_cli_ops gw_rpr_ops = {
    .scan_report = rscan_report,
};

void gw_cmd_scan_stop(struct gw *gw, struct gw_cmd *c)
{
	if (gw->scan_timer) {
		(void)gw_loop_timer_cancel(gw->loop, gw->scan_timer);
		gw->scan_timer = 0;
	}
	gw->scanning = false;
	gw_cmd_complete(gw->q, c, 0, json_pack("{s:s}", "state", "stopped"), NULL);
}

void gw_cmd_scan_results(struct gw *gw, struct gw_cmd *c)
{
	struct store_scan *recs = NULL;
	size_t n = 0, i;
	json_t *items = json_array(), *by_uuid = json_object();
	int r = store_scan_list(gw->st, 0, &recs, &n);

	if (r) {
		json_decref(items);
		json_decref(by_uuid);
		gw_cmd_complete(gw->q, c, r, NULL, store_strerror(r));
		return;
	}
	/* One item per device: every sighting (the gateway's own, each server's) merged. */
	for (i = 0; i < n; i++) {
		char uuid[33], hash[9];
		json_t *it = json_object_get(by_uuid, gw_hex(recs[i].uuid, 16, uuid));
		json_t *seen = json_pack("{s:i, s:i, s:o}", "via", recs[i].via, "rssi",
					 recs[i].rssi, "last_seen", gw_time_json(recs[i].last_ms));

		if (!it) {
			it = json_pack(
			    "{s:s, s:i, s:o, s:i, s:o, s:o, s:[]}", "uuid", uuid, "oob_info",
			    recs[i].oob, "uri_hash",
			    recs[i].has_uri_hash ? json_string(gw_hex(recs[i].uri_hash, 4, hash))
						 : json_null(),
			    "rssi", recs[i].rssi, "first_seen", gw_time_json(recs[i].first_ms),
			    "last_seen", gw_time_json(recs[i].last_ms), "seen_by");
			json_object_set_new(by_uuid, uuid, it);
			json_array_append(items, it);
		} else if (recs[i].rssi > json_integer_value(json_object_get(it, "rssi"))) {
			json_object_set_new(it, "rssi", json_integer(recs[i].rssi));
		}
		json_array_append_new(json_object_get(it, "seen_by"), seen);
	}
	free(recs);
	json_decref(by_uuid);
	gw_cmd_complete(gw->q, c, 0,
			json_pack("{s:b, s:o}", "scanning", gw->scanning, "items", items), NULL);
}

/* Where to provision a device from: the gateway if it heard it, else the best server. */
static uint16_t best_via(struct gw *gw, const uint8_t uuid[16])
{
	struct store_scan *recs = NULL;
	size_t n = 0, i;
	uint16_t via = 0;
	int best = -129;

	if (store_scan_list(gw->st, 0, &recs, &n)) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (memcmp(recs[i].uuid, uuid, 16) != 0) {
			continue;
		}
		if (recs[i].via == 0) {
			via = 0;
			break;
		}
		if (recs[i].rssi > best) {
			best = recs[i].rssi;
			via = recs[i].via;
		}
	}
	free(recs);
	return via;
}

/* --- Provisioning commands ----------------------------------------------------- */

static int parse_action(const char *a, uint8_t method, uint8_t *out)
{
	static const char *const outs[] = {"blink", "beep", "vibrate", "numeric", "alphanumeric"};
	static const char *const ins[] = {"push", "twist", "numeric", "alphanumeric"};
	const char *const *t = method == PROV_AUTH_OUTPUT ? outs : ins;
	size_t n = method == PROV_AUTH_OUTPUT ? 5 : 4, i;

	for (i = 0; a && i < n; i++) {
		if (!strcmp(a, t[i])) {
			*out = (uint8_t)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Fill s from one entry of the request; a message in err on failure. */
static int sess_from_json(struct gw *gw, struct gw_sess *s, json_t *d, const char *alg, char *err,
			  size_t cap)
{
	json_t *auth = json_object_get(d, "auth");
	const char *method = json_string_value(json_object_get(auth, "method"));
	const char *name = json_string_value(json_object_get(d, "name"));
	const char *oob = json_string_value(json_object_get(auth, "static_oob"));
	json_int_t size = json_integer_value(json_object_get(auth, "size"));

	if (gw_unhex(json_string_value(json_object_get(d, "uuid")), s->uuid, 16)) {
		snprintf(err, cap, "uuid: expected 32 hex digits");
		return -EINVAL;
	}
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "");
	s->procedure = -1;
	s->via = json_object_get(d, "server")
		     ? (uint16_t)json_integer_value(json_object_get(d, "server"))
		     : best_via(gw, s->uuid);
	s->remote = s->via != 0;
	s->cfg.role = PROV_ROLE_PROVISIONER;
	s->cfg.policy =
	    (gw->conf.refuse_cmac || (alg && !strcmp(alg, "hmac"))) ? PROV_POLICY_NO_CMAC : 0;
	if (!gw->conf.allow_no_oob) {
		s->cfg.policy |= PROV_POLICY_NO_NO_OOB;
	}
	if (!method || !strcmp(method, "none")) {
		if (!gw->conf.allow_no_oob) {
			snprintf(err, cap,
				 "auth.method: No OOB is refused by this gateway's policy");
			return -EACCES;
		}
		s->cfg.auth_method = PROV_AUTH_NO_OOB;
	} else if (!strcmp(method, "static")) {
		size_t l = oob ? strlen(oob) / 2 : 0;

		if ((l != 16 && l != 32) || gw_unhex(oob, s->cfg.static_oob, l)) {
			snprintf(err, cap, "auth.static_oob: expected 32 or 64 hex digits");
			return -EINVAL;
		}
		s->cfg.static_oob_len = (uint8_t)l;
		s->cfg.auth_method = PROV_AUTH_STATIC;
	} else if (!strcmp(method, "output") || !strcmp(method, "input")) {
		s->cfg.auth_method = !strcmp(method, "output") ? PROV_AUTH_OUTPUT : PROV_AUTH_INPUT;
		if (parse_action(json_string_value(json_object_get(auth, "action")),
				 s->cfg.auth_method, &s->cfg.auth_action)) {
			snprintf(err, cap, "auth.action: not an action of %s OOB", method);
			return -EINVAL;
		}
		s->cfg.auth_size = (uint8_t)(size >= 1 && size <= 8 ? size : 4);
	} else {
		snprintf(err, cap, "auth.method: expected none, static, output or input");
		return -EINVAL;
	}
	return 0;
}

void gw_cmd_prov_start(struct gw *gw, struct gw_cmd *c)
{
	json_t *devs = json_object_get(c->args, "devices");
	const char *alg = json_string_value(json_object_get(c->args, "algorithm"));
	json_t *out = json_array(), *d;
	struct gw_sess *made[32];
	size_t i, n = 0;
	char err[160] = "";
	int r = 0;

	if (!json_is_array(devs) || json_array_size(devs) == 0 || json_array_size(devs) > 32) {
		json_decref(out);
		gw_cmd_complete(gw->q, c, -EINVAL, NULL, "devices: 1 to 32 entries");
		return;
	}
	/* All or nothing: every entry is checked before any session starts. */
	json_array_foreach(devs, i, d)
	{
		struct gw_sess *s = sess_alloc(gw);
		struct store_node existing;

		if (!s || (s->used && s->state < SESS_DONE)) {
			r = -EBUSY;
			snprintf(err, sizeof(err), "too many provisioning sessions");
			break;
		}
		memset(s, 0, sizeof(*s));
		s->gw = gw;
		r = sess_from_json(gw, s, d, alg, err, sizeof(err));
		s->auth_method = s->cfg.auth_method;
		if (!r && store_node_get_by_uuid(gw->st, s->uuid, &existing) == 0) {
			r = -EEXIST;
			snprintf(err, sizeof(err),
				 "devices[%zu]: already provisioned as node 0x%04x", i,
				 existing.unicast);
		}
		if (!r) {
			size_t k;

			for (k = 0; k < GW_SESS_MAX; k++) {
				struct gw_sess *o = &gw->sess[k];

				if (o != s && o->used && o->state < SESS_DONE &&
				    !memcmp(o->uuid, s->uuid, 16)) {
					r = -EBUSY;
					snprintf(
					    err, sizeof(err),
					    "devices[%zu]: a session for this device is running",
					    i);
				}
			}
		}
		if (r) {
			char field[sizeof(err)];

			if (strncmp(err, "devices[", 8) != 0) {
				snprintf(field, sizeof(field), "devices[%zu].%.120s", i, err);
				memcpy(err, field, sizeof(err));
			}
			mesh_crypto_wipe(s, sizeof(*s));
			break;
		}
		s->used = true; /* reserve the slot while the others are checked */
		s->state = SESS_QUEUED;
		made[n++] = s;
	}
	if (r) {
		for (i = 0; i < n; i++) {
			mesh_crypto_wipe(made[i], sizeof(*made[i]));
		}
		json_decref(out);
		gw_cmd_complete(gw->q, c, r, NULL, err);
		return;
	}
	for (i = 0; i < n; i++) {
		struct gw_sess *s = made[i];

		snprintf(s->id, sizeof(s->id), "p%u", ++gw->sess_seq);
		s->created = s->updated = gw_wall_ms();
		(void)store_op_create(gw->st, "provision", &s->op_id);
		json_array_append_new(out, sess_json(s));
	}
	start_queued(gw);
	/* Report the state after the first sessions started. */
	json_array_clear(out);
	for (i = 0; i < n; i++) {
		json_array_append_new(out, sess_json(made[i]));
	}
	gw_cmd_complete(gw->q, c, 0, json_pack("{s:i, s:o}", "_http_status", 202, "sessions", out),
			NULL);
}

void gw_cmd_prov_list(struct gw *gw, struct gw_cmd *c)
{
	json_t *items = json_array();
	size_t i;

	for (i = 0; i < GW_SESS_MAX; i++) {
		if (gw->sess[i].used && gw->sess[i].id[0]) {
			json_array_append_new(items, sess_json(&gw->sess[i]));
		}
	}
	gw_cmd_complete(gw->q, c, 0, json_pack("{s:o}", "items", items), NULL);
}

static struct gw_sess *sess_arg(struct gw *gw, struct gw_cmd *c)
{
	struct gw_sess *s = sess_by_id(gw, json_string_value(json_object_get(c->args, "id")));

	if (!s) {
		gw_cmd_complete(gw->q, c, -ENOENT, NULL, "no such provisioning session");
	}
	return s;
}

void gw_cmd_prov_get(struct gw *gw, struct gw_cmd *c)
{
	struct gw_sess *s = sess_arg(gw, c);

	if (s) {
		gw_cmd_complete(gw->q, c, 0, sess_json(s), NULL);
	}
}

void gw_cmd_prov_oob(struct gw *gw, struct gw_cmd *c)
{
	struct gw_sess *s = sess_arg(gw, c);
	const char *v = json_string_value(json_object_get(c->args, "value"));
	int r;

	if (!s) {
		return;
	}
	if (s->state != SESS_WAITING_OOB || s->auth_method != PROV_AUTH_OUTPUT) {
		gw_cmd_complete(gw->q, c, -EBUSY, NULL,
				"the session is not waiting for an Output OOB value");
		return;
	}
	r = s->remote ? pb_remote_input_oob(gw->pbr, s->link, v ? v : "", gw_loop_now(gw->loop))
		      : prov_adv_input_oob(gw->pa, s->link, v ? v : "", gw_loop_now(gw->loop));
	if (r) {
		gw_cmd_complete(gw->q, c, -EINVAL, NULL,
				"value: not a valid value for this action and size");
		return;
	}
	sess_update(gw, s, SESS_PROVISIONING);
	gw_rearm(gw);
	gw_cmd_complete(gw->q, c, 0, sess_json(s), NULL);
}

void gw_cmd_prov_cancel(struct gw *gw, struct gw_cmd *c)
{
	struct gw_sess *s = sess_arg(gw, c);

	if (!s) {
		return;
	}
	if (s->state >= SESS_CONFIGURING) {
		gw_cmd_complete(gw->q, c, -EBUSY, NULL,
				"the device is already provisioned; remove the node instead");
		return;
	}
	if (s->state != SESS_QUEUED && s->remote) {
		(void)pb_remote_cancel(gw->pbr, s->link, gw_loop_now(gw->loop));
	} else if (s->state != SESS_QUEUED) {
		(void)prov_adv_cancel(gw->pa, s->link, gw_loop_now(gw->loop));
	}
	sess_abort(gw, s, SESS_CANCELLED, "cancelled");
	gw_cmd_complete(gw->q, c, 0, sess_json(s), NULL);
}

void gw_cmd_node_refresh(struct gw *gw, struct gw_cmd *c)
{
	static const char *const names[] = {"device_key", "address", "composition"};
	json_int_t a = json_integer_value(json_object_get(c->args, "address"));
	const char *proc = json_string_value(json_object_get(c->args, "procedure"));
	struct store_model *models = NULL;
	struct store_node n;
	struct gw_sess *s;
	size_t nm = 0, i;
	bool has_rpr = false;
	int p = -1, r;
	json_t *o;

	for (i = 0; proc && i < 3; i++) {
		if (!strcmp(proc, names[i])) {
			p = (int)i;
		}
	}
	if (p < 0) {
		gw_cmd_complete(gw->q, c, -EINVAL, NULL,
				"procedure: device_key, address or composition");
		return;
	}
	if (a <= 0 || a >= 0x8000 || store_node_get(gw->st, (uint16_t)a, &n) || n.excluded) {
		gw_cmd_complete(gw->q, c, -ENOENT, NULL, "no node with this address");
		return;
	}
	if (store_comp_models(gw->st, n.unicast, &models, &nm) == 0) {
		for (i = 0; i < nm; i++) {
			has_rpr |= !models[i].vendor && models[i].id == 0x0004;
		}
		free(models);
	}
	if (!has_rpr) {
		gw_cmd_complete(gw->q, c, -ENOTSUP, NULL,
				"the node has no Remote Provisioning Server (model 0x0004)");
		return;
	}
	for (i = 0; i < GW_SESS_MAX; i++) {
		struct gw_sess *o2 = &gw->sess[i];

		if (o2->used && o2->state < SESS_DONE && o2->old_addr == n.unicast &&
		    o2->procedure >= 0) {
			gw_cmd_complete(gw->q, c, -EBUSY, NULL,
					"a refresh of this node is running");
			return;
		}
	}
	s = sess_alloc(gw);
	if (!s || (s->used && s->state < SESS_DONE)) {
		gw_cmd_complete(gw->q, c, -EBUSY, NULL, "too many provisioning sessions");
		return;
	}
	memset(s, 0, sizeof(*s));
	s->gw = gw;
	s->used = true;
	s->state = SESS_QUEUED;
	memcpy(s->uuid, n.uuid, 16);
	snprintf(s->name, sizeof(s->name), "%s", n.name);
	s->procedure = p;
	s->old_addr = n.unicast;
	s->old_elements = n.elements;
	s->via = n.unicast; /* the node's own Remote Provisioning Server */
	s->remote = true;
	s->cfg.role = PROV_ROLE_PROVISIONER;
	/* A node refresh offers No OOB: the node is already authenticated by its DevKey. */
	s->cfg.auth_method = PROV_AUTH_NO_OOB;
	s->cfg.policy = gw->conf.refuse_cmac ? PROV_POLICY_NO_CMAC : 0;
	s->auth_method = PROV_AUTH_NO_OOB;
	snprintf(s->id, sizeof(s->id), "p%u", ++gw->sess_seq);
	s->created = s->updated = gw_wall_ms();
	r = store_op_create(gw->st, "refresh", &s->op_id);
	if (r) {
		mesh_crypto_wipe(s, sizeof(*s));
		gw_cmd_complete(gw->q, c, r, NULL, store_strerror(r));
		return;
	}
	start_queued(gw);
	o = gw_op_json(gw, s->op_id, n.unicast);
	json_object_set_new(o, "session", json_string(s->id));
	json_object_set_new(o, "_http_status", json_integer(202));
	gw_cmd_complete(gw->q, c, 0, o, NULL);
}
