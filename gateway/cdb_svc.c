/*
 * GET and POST /api/v1/cdb: the network as a Mesh Configuration Database
 * document for hand-over (gw_cmd.h), and its import.  The codec is
 * gateway/cdb.c, the inventory side storage/store_cdb.c; this file runs
 * them on the loop thread and teaches the running stack what an import
 * changed (keys, IV Index, the gateway's own address), so imported nodes
 * can be controlled at once.  DevKeys need nothing: the stack asks the
 * inventory for them per message (core.c node_dev_keys).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cdb.h"
#include "gateway/cdb_svc.h"
#include "gateway/util.h"
#include "gateway/log.h"
#include "mesh/crypto.h"

void gw_cdb_cmd_export(struct gw_core *gw, struct gw_cmd *c)
{
	bool partial = json_is_true(json_object_get(c->args, "partial"));
	struct store_cdb *doc = NULL;
	json_t *out;
	bool upd;
	int r;

	r = store_cdb_read(gw->st, !partial, &doc);
	if (r) {
		gw_cmd_complete(gw->q, c, r, NULL, store_strerror(r));
		return;
	}
	/* The running stack's IV Index is the current one (beacons may have moved it). */
	mesh_net_iv_get(mesh_node_net(gw->node), &doc->iv_index, &upd);
	out = cdb_encode(doc, gw_wall_ms());
	store_cdb_free(doc);
	if (!out) {
		gw_cmd_complete(gw->q, c, -ENOMEM, NULL, "out of memory");
		return;
	}
	if (!partial) {
		/* The hand-over package holds every key: audited, and logged without them. */
		r = store_cdb_audit_export(gw->st);
		if (r) {
			json_decref(out);
			gw_cmd_complete(gw->q, c, r, NULL, store_strerror(r));
			return;
		}
		log_info("network exported with keys (Mesh CDB) by %s", c->who);
	}
	gw_cmd_complete(gw->q, c, 0, out, NULL);
}

/* "provisioner": a UUID, 32 hex digits with or without the 8-4-4-4-12 dashes. */
static int uuid_arg(const char *s, uint8_t out[16])
{
	char hex[33];
	size_t k = 0;

	for (; s && *s && k < 33; s++) {
		if (*s != '-') {
			hex[k++] = *s;
		}
	}
	if (k != 32) {
		return -EINVAL;
	}
	hex[32] = '\0';
	return gw_unhex(hex, out, 16);
}

static bool stack_has_netkey(struct gw_core *gw, uint16_t idx)
{
	size_t n = mesh_node_netkey_count(gw->node);

	for (size_t i = 0; i < n; i++) {
		struct mesh_node_netkey k;
		bool hit = mesh_node_netkey_at(gw->node, i, &k) == 0 && k.net_idx == idx;

		mesh_crypto_wipe(&k, sizeof(k));
		if (hit) {
			return true;
		}
	}
	return false;
}

/*
 * After a committed import: the running stack takes the document's keys
 * (replacing the fresh network's on a take-over), its IV Index and the
 * gateway's new address.  Returns 0, or the first failure (then a restart
 * rebuilds the stack from the inventory).
 */
static int stack_update(struct gw_core *gw, const struct store_cdb *doc,
			const struct store_cdb_result *res)
{
	struct mesh_acc_model *cli = mesh_cli_model(gw->onoff);
	uint64_t now = gw_loop_now(gw->loop);
	int r = 0;

	if (res->mode == STORE_CDB_TAKEOVER) {
		uint16_t old[64];
		size_t n = 0;

		while (n < 64 && mesh_node_netkey_count(gw->node) > n) {
			struct mesh_node_netkey k;

			if (mesh_node_netkey_at(gw->node, n, &k) == 0) {
				old[n] = k.net_idx;
			}
			mesh_crypto_wipe(&k, sizeof(k));
			n++;
		}
		/* Deleting a NetKey deletes its AppKeys and their bindings (§4.2.4). */
		for (size_t i = 0; i < n; i++) {
			(void)mesh_node_netkey_del(gw->node, old[i]);
		}
	}
	for (size_t i = 0; !r && i < doc->n_netkeys; i++) {
		const struct store_cdb_netkey *k = &doc->netkeys[i];

		if (!stack_has_netkey(gw, k->idx)) {
			/* As at start-up (gw.c): a refresh in progress runs on the old key. */
			r = mesh_node_netkey_add(gw->node, k->idx,
						 k->has_old ? k->old_key : k->key);
		}
		if (!r && res->mode == STORE_CDB_TAKEOVER && (i == 0 || k->idx < gw->primary_net)) {
			gw->primary_net = k->idx;
		}
	}
	for (size_t i = 0; !r && i < doc->n_appkeys; i++) {
		const struct store_cdb_appkey *k = &doc->appkeys[i];

		if (mesh_node_appkey_net(gw->node, k->idx) >= 0) {
			continue;
		}
		r = mesh_node_appkey_add(gw->node, k->net_idx, k->idx, k->key);
		if (!r) {
			r = mesh_acc_model_bind(cli, k->idx);
		}
	}
	if (!r && res->iv_changed) {
		r = mesh_net_iv_set(mesh_node_net(gw->node), res->iv_index, false, now);
	}
	if (!r && res->address_changed) {
		uint8_t devkey[16];

		/* The gateway's own DevKey secures nothing it uses (gw.c): a fresh one. */
		r = mesh_crypto_random(devkey, sizeof(devkey));
		if (!r) {
			r = mesh_node_readdress(gw->node, res->address, devkey);
		}
		mesh_crypto_wipe(devkey, sizeof(devkey));
	}
	return r;
}

static json_t *range_json(const struct store_cdb_range *r)
{
	return json_pack("{s:i, s:i}", "low", r->lo, "high", r->hi);
}

void gw_cdb_cmd_import(struct gw_core *gw, struct gw_jobs *jobs, struct gw_cmd *c)
{
	json_t *docj = json_object_get(c->args, "document");
	const char *prov = json_string_value(json_object_get(c->args, "provisioner"));
	bool dry = json_is_true(json_object_get(c->args, "dry_run"));
	struct store_cdb *doc = NULL;
	struct store_cdb_result res;
	uint8_t adopt[16];
	char err[320];
	bool restart = false;
	int r;

	if (prov && uuid_arg(prov, adopt)) {
		gw_cmd_complete(gw->q, c, -EINVAL, NULL,
				"provisioner: expected a UUID (32 hex digits, dashes allowed)");
		return;
	}
	r = cdb_parse(docj, &doc, err, sizeof(err));
	if (!r) {
		r = cdb_check(doc, err, sizeof(err));
	}
	if (!r && gw_jobs_active(jobs, NULL) > 0) {
		r = -EBUSY;
		snprintf(err, sizeof(err),
			 "provisioning sessions are running; import when they "
			 "have finished");
	}
	if (!r) {
		r = store_cdb_apply(gw->st, doc, prov ? adopt : NULL, dry, &res, err, sizeof(err));
	}
	if (r) {
		store_cdb_free(doc);
		gw_cmd_complete(gw->q, c, r, NULL, err[0] ? err : strerror(-r));
		return;
	}
	if (!dry) {
		int s = stack_update(gw, doc, &res);

		if (s) {
			log_warnx("import: the running stack could not take the new network (%s); "
				  "restart meshgw",
				  strerror(-s));
			restart = true;
		}
		log_info("Mesh CDB imported by %s (%s): %zu node(s), %zu NetKey(s), %zu AppKey(s)",
			 c->who, res.mode == STORE_CDB_TAKEOVER ? "take-over" : "merge",
			 res.nodes_added, res.netkeys_added, res.appkeys_added);
	}
	store_cdb_free(doc);
	gw_cmd_complete(
	    gw->q, c, 0,
	    json_pack("{s:b, s:s, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:b, s:o, "
		      "s:o, s:I, s:b, s:b}",
		      "dry_run", dry, "mode",
		      res.mode == STORE_CDB_TAKEOVER ? "take-over" : "merge", "nodes", "added",
		      (json_int_t)res.nodes_added, "unchanged", (json_int_t)res.nodes_unchanged,
		      "excluded", (json_int_t)res.nodes_excluded, "net_keys_added",
		      (json_int_t)res.netkeys_added, "app_keys_added",
		      (json_int_t)res.appkeys_added, "provisioners_added",
		      (json_int_t)res.provisioners_added, "groups_added",
		      (json_int_t)res.groups_added, "scenes_added", (json_int_t)res.scenes_added,
		      "exclusions_added", (json_int_t)res.exclusions_added, "address", res.address,
		      "address_changed", res.address_changed, "unicast_range", range_json(&res.uni),
		      "group_range", range_json(&res.grp), "iv_index", (json_int_t)res.iv_index,
		      "adopted", res.adopted, "restart_required", restart),
	    NULL);
}
