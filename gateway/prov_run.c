/*
 * One provisioning attempt as the rest of the service sees it: the tickets
 * that let late answers find (or miss) their attempt, the API's session
 * view of a target, and the end of an attempt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/nodes.h"
#include "gateway/prov_int.h"
#include "gateway/trust.h"
#include "gateway/util.h"
#include "mesh/crypto.h"

static const char *const phase_names[] = {
    [PH_LINKING] = "linking", [PH_PROVISIONING] = "provisioning", [PH_WAITING_OOB] = "waiting_oob",
    [PH_PROBING] = "probing", [PH_CONFIGURING] = "configuring",   [PH_ZONE] = "zone",
};

/* gw_prov_count_states(): "queued", then the phases of an active attempt. */
static const char *const state_names[] = {
    "queued", "linking", "provisioning", "waiting_oob", "probing", "configuring",
};
_Static_assert(sizeof(state_names) / sizeof(state_names[0]) == GW_PROV_STATES,
	       "one name per counted state");

const char *gw_prov_state_name(unsigned i)
{
	return i < GW_PROV_STATES ? state_names[i] : "?";
}

static void count_state(void *arg, const struct store_job_target *t, const struct gw_job_run *run)
{
	unsigned *counts = arg;
	const struct prov_run *pr = run ? run->priv : NULL;

	if (t->state == STORE_TGT_PENDING) {
		counts[0]++;
	} else if (t->state == STORE_TGT_ACTIVE) {
		counts[1 + (pr ? (unsigned)pr->phase : (unsigned)PH_LINKING)]++;
	}
}

void gw_prov_count_states(struct gw_prov *P, unsigned counts[GW_PROV_STATES])
{
	memset(counts, 0, GW_PROV_STATES * sizeof(counts[0]));
	gw_jobs_visit(P->jobs, &P->k_prov, count_state, counts);
	gw_jobs_visit(P->jobs, &P->k_refresh, count_state, counts);
}

struct prov_ticket *prov_ticket(struct prov_run *pr)
{
	struct prov_ticket *tk = malloc(sizeof(*tk));

	if (tk) {
		*tk = (struct prov_ticket){pr->P, pr->run->t.job, pr->run->t.idx, pr->serial};
	}
	return tk;
}

struct prov_run *prov_ticket_run(struct prov_ticket *tk)
{
	struct gw_job_run *run = gw_jobs_run(tk->P->jobs, tk->job, tk->idx);
	struct prov_run *pr = run ? run->priv : NULL;

	if (!pr || pr->serial != tk->serial) {
		free(tk);
		return NULL;
	}
	return pr;
}

/* Bits of mask named by names[bit] (n names), as a JSON array. */
static json_t *bit_names(unsigned mask, const char *const *names, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		if (mask & (1u << i)) {
			json_array_append_new(a, json_string(names[i]));
		}
	}
	return a;
}

/* The Provisioning Capabilities PDU's fields as the API shows them (§5.4.1.2). */
static json_t *caps_json(const struct prov_caps *c)
{
	static const char *const algs[] = {"cmac", "hmac"};
	static const char *const outs[] = {"blink", "beep", "vibrate", "numeric", "alphanumeric"};
	static const char *const ins[] = {"push", "twist", "numeric", "alphanumeric"};

	return json_pack("{s:i, s:o, s:b, s:b, s:b, s:o, s:o}", "elements", c->elements,
			 "algorithms", bit_names(c->algorithms, algs, 2), "public_key_oob",
			 (c->pub_key_type & PROV_PUB_KEY_TYPE_OOB) != 0, "static_oob",
			 (c->oob_type & PROV_OOB_TYPE_STATIC) != 0, "only_oob",
			 (c->oob_type & PROV_OOB_TYPE_ONLY_OOB) != 0, "output",
			 c->output_size ? json_pack("{s:i, s:o}", "size", c->output_size, "actions",
						    bit_names(c->output_actions, outs, 5))
					: json_null(),
			 "input",
			 c->input_size ? json_pack("{s:i, s:o}", "size", c->input_size, "actions",
						   bit_names(c->input_actions, ins, 4))
				       : json_null());
}

/*
 * The device certificate of a session: the one verified by the running
 * attempt, else the one its result kept when it ended; JSON null when none.
 */
static json_t *session_cert(const struct store_job_target *t, const struct prov_run *pr)
{
	json_t *res, *c;

	if (pr && pr->has_cert) {
		return gw_cert_json(pr->cert.subject, pr->cert.issuer, pr->cert.not_before,
				    pr->cert.not_after, pr->cert.sha256);
	}
	res = t->result ? json_loads(t->result, 0, NULL) : NULL;
	c = json_object_get(res, "certificate");
	c = json_is_object(c) ? json_incref(c) : json_null();
	json_decref(res);
	return c;
}

json_t *prov_session_json(const struct store_job_target *t, const char *kind,
			  const struct prov_run *pr)
{
	static const char *const methods[] = {"none", "static", "output", "input"};
	static const char *const procs[] = {"device_key", "address", "composition"};
	const char *proc = NULL, *method = "none", *state;
	bool refresh = !strcmp(kind, "refresh");
	char id[48], uuid[33];
	json_t *params = json_loads(t->params ? t->params : "{}", 0, NULL), *o;
	json_int_t pn, via;
	int shown;

	/* Before an attempt chose its path: the one the request named or the one planned. */
	via = t->via ? t->via
	      : json_integer_value(json_object_get(params, "server"))
		  ? json_integer_value(json_object_get(params, "server"))
		  : json_integer_value(json_object_get(params, "via"));
	if (refresh) {
		pn = json_integer_value(json_object_get(params, "procedure"));
		proc = procs[pn % 3];
	} else {
		const char *m =
		    json_string_value(json_object_get(json_object_get(params, "auth"), "method"));

		method = m ? m : "none";
	}
	/* The session's own method once it runs; an OOB public key and a certificate are named as
	 * asked. */
	if (pr && strcmp(method, "oob_public_key") != 0 && strcmp(method, "certificate") != 0) {
		method = methods[pr->auth_method & 3];
	}
	switch (t->state) {
	case STORE_TGT_PENDING:
		state = "queued";
		break;
	case STORE_TGT_ACTIVE:
		state = pr ? phase_names[pr->phase] : "linking";
		break;
	case STORE_TGT_DONE:
	case STORE_TGT_FAILED:
	case STORE_TGT_CANCELLED:
	default:
		state = store_tgt_state_name(t->state);
		break;
	}
	/* The address is the node's once it is one (before, it is only reserved). */
	shown = t->state == STORE_TGT_DONE ||
		(refresh ? t->step >= RSTEP_SWITCHED : t->step >= PSTEP_NODE);
	snprintf(id, sizeof(id), "%llu-%u", (unsigned long long)t->job, t->idx);
	o = json_pack("{s:s, s:I, s:i, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:i, s:o, s:o}",
		      "id", id, "job", (json_int_t)t->job, "index", (int)t->idx, "uuid",
		      t->has_uuid ? gw_hex(t->uuid, 16, uuid) : "", "name", t->name, "state", state,
		      "address", shown && t->addr ? json_integer(t->addr) : json_null(),
		      "auth_method", method, "input_oob_value",
		      pr && pr->input_value[0] ? json_string(pr->input_value) : json_null(), "via",
		      via ? json_integer(via) : json_null(), "procedure",
		      proc ? json_string(proc) : json_null(), "error",
		      t->error[0] ? json_string(t->error) : json_null(), "attempts",
		      (int)t->attempts, "created_at", gw_time_json(t->created_ms), "updated_at",
		      gw_time_json(t->updated_ms ? t->updated_ms : t->created_ms));
	/* Capabilities: known while the attempt that received them runs (not kept in the
	 * inventory). */
	if (o) {
		json_object_set_new(o, "capabilities",
				    pr && pr->has_caps ? caps_json(&pr->caps) : json_null());
		json_object_set_new(o, "certificate", session_cert(t, pr));
	}
	json_decref(params);
	return o;
}

void prov_session_update(struct prov_run *pr, enum sess_phase ph)
{
	static const uint8_t progress[] = {
	    [PH_LINKING] = 5,  [PH_PROVISIONING] = 20, [PH_WAITING_OOB] = 20,
	    [PH_PROBING] = 40, [PH_CONFIGURING] = 60,  [PH_ZONE] = 90,
	};
	struct gw_job_run *run = pr->run;
	uint64_t op = (uint64_t)json_integer_value(json_object_get(run->job_params, "op"));

	if (op) {
		(void)store_op_progress(pr->P->core->st, op, STORE_OP_RUNNING, progress[ph]);
	}
	pr->phase = ph;
	run->t.updated_ms = gw_wall_ms();
	gw_core_publish(pr->P->core, "provisioning.updated",
			prov_session_json(&run->t, run->kind->name, pr));
	gw_jobs_progress(run);
}

void prov_end(struct prov_run *pr, enum gw_job_outcome o, const char *error, const char *result)
{
	struct gw_job_run *run = pr->run;
	struct gw_core *core = pr->P->core;
	struct store_job_target t;
	const char *kind = run->kind->name;
	uint64_t op = (uint64_t)json_integer_value(json_object_get(run->job_params, "op"));
	json_t *s;

	run->priv = NULL;
	mesh_crypto_wipe(pr, sizeof(*pr));
	free(pr);
	t = run->t;
	gw_jobs_end(run, o, error, result);
	/* The session as it ended (re-read: the engine decided pending/failed/done). */
	if (store_job_target_get(core->st, t.job, t.idx, &t) == 0) {
		s = prov_session_json(&t, kind, NULL);
		/* A refresh is also an operation (POST /nodes/{address}/refresh answers one). */
		if (op && t.state >= STORE_TGT_DONE) {
			gw_nodes_op_finish(core, op,
					   t.state == STORE_TGT_DONE        ? STORE_OP_SUCCEEDED
					   : t.state == STORE_TGT_CANCELLED ? STORE_OP_CANCELLED
									    : STORE_OP_FAILED,
					   t.state == STORE_TGT_DONE ? t.result : NULL,
					   t.error[0] ? t.error : NULL);
		}
		free(t.params);
		free(t.result);
		gw_core_publish(core, "provisioning.updated", s);
	}
}

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

/*
 * The provisioner's configuration from a request entry (auth object) and
 * the static OOB value (oob, oob_len); err names the field at fault.
 */
int prov_auth_cfg(const struct gw_conf *conf, json_t *auth, const char *alg, const uint8_t *oob,
		  size_t oob_len, struct prov_cfg *cfg, char *err, size_t cap)
{
	static const char *const cert_names[] = {"never", "prefer", "require"};
	const char *method = json_string_value(json_object_get(auth, "method"));
	const char *cert = json_string_value(json_object_get(auth, "certificate"));
	json_int_t size = json_integer_value(json_object_get(auth, "size"));

	cfg->role = PROV_ROLE_PROVISIONER;
	cfg->policy =
	    (conf->refuse_cmac || (alg && !strcmp(alg, "hmac"))) ? PROV_POLICY_NO_CMAC : 0;
	if (alg && !strcmp(alg, "cmac")) {
		/* Asked for by name: CMAC only, never silently upgraded to HMAC. */
		if (conf->refuse_cmac) {
			snprintf(
			    err, cap,
			    "algorithm: cmac is refused by this gateway's policy (refuse_cmac)");
			return -EACCES;
		}
		cfg->policy |= PROV_POLICY_NO_HMAC;
	}
	if (!conf->allow_no_oob) {
		cfg->policy |= PROV_POLICY_NO_NO_OOB;
	}
	cfg->cert_policy = conf->cbp_policy;
	for (uint8_t i = 0; cert && i < 3; i++) {
		if (!strcmp(cert, cert_names[i])) {
			cfg->cert_policy = i;
		}
	}
	if (method && !strcmp(method, "certificate")) {
		/*
		 * The device's public key comes from a verified certificate (§5.4.2.1):
		 * only the holder of its private key completes the Confirmation, so that
		 * key authenticates the device and no OOB value is needed on top.
		 */
		cfg->cert_policy = PROV_CERT_REQUIRE;
		cfg->policy &= ~PROV_POLICY_NO_NO_OOB;
		cfg->auth_method = PROV_AUTH_NO_OOB;
		return 0;
	}
	if (!method || !strcmp(method, "none")) {
		if (!conf->allow_no_oob) {
			snprintf(err, cap,
				 "auth.method: No OOB is refused by this gateway's policy");
			return -EACCES;
		}
		cfg->auth_method = PROV_AUTH_NO_OOB;
	} else if (!strcmp(method, "static")) {
		if (oob_len != 16 && oob_len != 32) {
			snprintf(err, cap, "auth.static_oob: expected 32 or 64 hex digits");
			return -EINVAL;
		}
		memcpy(cfg->static_oob, oob, oob_len);
		cfg->static_oob_len = (uint8_t)oob_len;
		cfg->auth_method = PROV_AUTH_STATIC;
	} else if (!strcmp(method, "output") || !strcmp(method, "input")) {
		cfg->auth_method = !strcmp(method, "output") ? PROV_AUTH_OUTPUT : PROV_AUTH_INPUT;
		if (parse_action(json_string_value(json_object_get(auth, "action")),
				 cfg->auth_method, &cfg->auth_action)) {
			snprintf(err, cap, "auth.action: not an action of %s OOB", method);
			return -EINVAL;
		}
		cfg->auth_size = (uint8_t)(size >= 1 && size <= 8 ? size : 4);
	} else if (!strcmp(method, "oob_public_key")) {
		/*
		 * The key replaces the Public Key exchange (§5.4.2.3).  The session then
		 * uses No OOB authentication: the ECDH secret is already bound to the
		 * device whose key was read out of band, so the gateway's No OOB policy
		 * does not apply (the stack refuses a device that does not offer an OOB
		 * public key instead of falling back to the in-band exchange).
		 */
		if (gw_unhex(json_string_value(json_object_get(auth, "public_key")),
			     cfg->dev_pub_key, sizeof(cfg->dev_pub_key)) ||
		    !mesh_crypto_p256_valid(cfg->dev_pub_key)) {
			snprintf(err, cap,
				 "auth.public_key: not a P-256 public key (128 hex digits)");
			return -EINVAL;
		}
		cfg->has_dev_pub_key = true;
		cfg->auth_method = PROV_AUTH_NO_OOB;
		cfg->policy &= ~PROV_POLICY_NO_NO_OOB;
	} else {
		snprintf(err, cap,
			 "auth.method: expected none, static, output, input, oob_public_key or "
			 "certificate");
		return -EINVAL;
	}
	return 0;
}
