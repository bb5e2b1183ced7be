/*
 * Command dispatch on the loop thread (contract: gw_cmd.h), and the
 * commands about the network itself: network info, keys, operations,
 * tokens, health and the token check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include "gateway/gw_int.h"
#include "gateway/manifest_svc.h"
#include "gateway/trust.h"
#include "gateway/util.h"
#include "gateway/log.h"
#include "mesh/crypto.h"

static void cmd_network(struct gw *gw, struct gw_cmd *c)
{
	struct store_network net;
	struct store_netkey *nk = NULL;
	struct store_appkey *ak = NULL;
	struct store_node_filter f = {0};
	size_t n_nk = 0, n_ak = 0, nodes = 0, i;
	json_t *jn, *ja;
	char uuid[33];
	uint32_t iv;
	bool upd;
	int r;

	r = store_net_get(gw->core.st, &net);
	if (!r) {
		r = store_netkey_list(gw->core.st, &nk, &n_nk);
	}
	if (!r) {
		r = store_appkey_list(gw->core.st, &ak, &n_ak);
	}
	if (!r) {
		r = store_node_count(gw->core.st, &f, &nodes);
	}
	if (r) {
		store_netkeys_free(nk, n_nk);
		gw_cmd_complete(gw->core.q, c, r, NULL, store_strerror(r));
		return;
	}
	jn = json_array();
	for (i = 0; i < n_nk; i++) {
		json_array_append_new(
		    jn, json_pack("{s:i, s:i}", "index", nk[i].idx, "phase", nk[i].phase));
	}
	ja = json_array();
	for (i = 0; i < n_ak; i++) {
		json_array_append_new(
		    ja, json_pack("{s:i, s:i}", "index", ak[i].idx, "net_index", ak[i].net_idx));
	}
	store_netkeys_free(nk, n_nk);
	store_appkeys_free(ak, n_ak);
	mesh_net_iv_get(mesh_node_net(gw->core.node), &iv, &upd);
	gw_cmd_complete(gw->core.q, c, 0,
			json_pack("{s:s, s:I, s:b, s:i, s:{s:i, s:i}, s:{s:i, s:i}, s:o, s:o, s:I, "
				  "s:o}",
				  "mesh_uuid", gw_hex(net.uuid, 16, uuid), "iv_index",
				  (json_int_t)iv, "iv_update", upd, "address", net.unicast,
				  "unicast_range", "low", net.uni_low, "high", net.uni_high,
				  "group_range", "low", net.grp_low, "high", net.grp_high,
				  "net_keys", jn, "app_keys", ja, "nodes", (json_int_t)nodes,
				  "bearer_state", gw_bearer_state_json(gw->core.bearer)),
			NULL);
}

static bool export_allowed(struct gw_cmd *c)
{
	/* api/ already required the admin role for export=true. */
	return json_is_true(json_object_get(c->args, "export"));
}

static void cmd_netkeys(struct gw *gw, struct gw_cmd *c)
{
	struct store_netkey *nk = NULL;
	size_t n = 0, i;
	json_t *items = json_array();
	bool ex = export_allowed(c);
	char hex[33];
	int r = store_netkey_list(gw->core.st, &nk, &n);

	for (i = 0; !r && i < n; i++) {
		json_t *o = json_pack("{s:i, s:i}", "index", nk[i].idx, "phase", nk[i].phase);

		if (ex) {
			json_object_set_new(o, "key", json_string(gw_hex(nk[i].key, 16, hex)));
		}
		json_array_append_new(items, o);
	}
	mesh_crypto_wipe(hex, sizeof(hex));
	store_netkeys_free(nk, n);
	if (ex && !r) {
		log_info("NetKeys exported by %s", c->who);
	}
	gw_cmd_complete(gw->core.q, c, r, r ? NULL : json_pack("{s:o}", "items", items),
			r ? store_strerror(r) : NULL);
	if (r) {
		json_decref(items);
	}
}

static void cmd_appkeys(struct gw *gw, struct gw_cmd *c)
{
	struct store_appkey *ak = NULL;
	size_t n = 0, i;
	json_t *items = json_array();
	bool ex = export_allowed(c);
	char hex[33];
	int r = store_appkey_list(gw->core.st, &ak, &n);

	for (i = 0; !r && i < n; i++) {
		json_t *o = json_pack("{s:i, s:i}", "index", ak[i].idx, "net_index", ak[i].net_idx);

		if (ex) {
			json_object_set_new(o, "key", json_string(gw_hex(ak[i].key, 16, hex)));
		}
		json_array_append_new(items, o);
	}
	mesh_crypto_wipe(hex, sizeof(hex));
	store_appkeys_free(ak, n);
	if (ex && !r) {
		log_info("AppKeys exported by %s", c->who);
	}
	gw_cmd_complete(gw->core.q, c, r, r ? NULL : json_pack("{s:o}", "items", items),
			r ? store_strerror(r) : NULL);
	if (r) {
		json_decref(items);
	}
}

/* The lowest free key index, or the one asked for. */
static int pick_index(json_t *want, const uint16_t *used, size_t n, uint16_t *idx)
{
	size_t i;
	uint16_t k;

	if (want) {
		json_int_t v = json_integer_value(want);

		if (v < 0 || v > 0xfff) {
			return -EINVAL;
		}
		for (i = 0; i < n; i++) {
			if (used[i] == v) {
				return -EEXIST;
			}
		}
		*idx = (uint16_t)v;
		return 0;
	}
	for (k = 0; k <= 0xfff; k++) {
		for (i = 0; i < n && used[i] != k; i++) {
		}
		if (i == n) {
			*idx = k;
			return 0;
		}
	}
	return -ENOSPC;
}

/* The most AppKeys the gateway holds: each is in its node's table and bound to its OnOff Client. */
#define GW_APPKEYS_MAX                                                                             \
	(MESH_ACC_BIND_MAX < MESH_NODE_APPKEYS_MAX ? MESH_ACC_BIND_MAX : MESH_NODE_APPKEYS_MAX)

static void cmd_key_create(struct gw *gw, struct gw_cmd *c, bool app)
{
	uint16_t used[4096], idx = 0;
	size_t n = 0, i;
	uint8_t key[16];
	json_int_t net = json_integer_value(json_object_get(c->args, "net_index"));
	int r;

	if (app) {
		struct store_appkey *ak = NULL;

		r = store_appkey_list(gw->core.st, &ak, &n);
		for (i = 0; !r && i < n; i++) {
			used[i] = ak[i].idx;
		}
		store_appkeys_free(ak, n);
	} else {
		struct store_netkey *nk = NULL;

		r = store_netkey_list(gw->core.st, &nk, &n);
		for (i = 0; !r && i < n; i++) {
			used[i] = nk[i].idx;
		}
		store_netkeys_free(nk, n);
	}
	if (!r) {
		r = pick_index(json_object_get(c->args, "index"), used, n, &idx);
	}
	if (!r && app && n >= GW_APPKEYS_MAX) {
		/*
		 * Checked before anything is stored: the gateway's node holds every AppKey and
		 * binds each to its OnOff Client, so the smaller of the two tables is the limit.
		 */
		char why[120];

		snprintf(why, sizeof(why),
			 "the AppKey table is full (%d AppKeys, the gateway's limit); "
			 "bind an existing AppKey instead",
			 GW_APPKEYS_MAX);
		gw_cmd_complete(gw->core.q, c, -ENOSPC, NULL, why);
		return;
	}
	if (!r) {
		r = mesh_crypto_random(key, sizeof(key));
	}
	if (!r && app) {
		r = store_appkey_add(gw->core.st, idx, (uint16_t)net, key);
		if (!r) {
			r = mesh_node_appkey_add(gw->core.node, (uint16_t)net, idx, key);
		}
		if (!r) {
			r = mesh_acc_model_bind(mesh_cli_model(gw->core.onoff), idx);
		}
	} else if (!r) {
		r = store_netkey_add(gw->core.st, idx, key);
		if (!r) {
			r = mesh_node_netkey_add(gw->core.node, idx, key);
		}
	}
	mesh_crypto_wipe(key, sizeof(key));
	if (r) {
		gw_cmd_complete(gw->core.q, c, r, NULL,
				r == -EEXIST   ? "index: a key with this index exists"
				: r == -ENOENT ? "net_index: no such NetKey"
					       : strerror(-r));
		return;
	}
	log_info("%s %u created by %s", app ? "AppKey" : "NetKey", idx, c->who);
	gw_cmd_complete(
	    gw->core.q, c, 0,
	    app ? json_pack("{s:i, s:i, s:I}", "_http_status", 201, "index", idx, "net_index", net)
		: json_pack("{s:i, s:i, s:i}", "_http_status", 201, "index", idx, "phase", 0),
	    NULL);
}

static void cmd_op_get(struct gw *gw, struct gw_cmd *c)
{
	const char *id = json_string_value(json_object_get(c->args, "id"));
	struct store_op op;
	char *end = NULL;
	unsigned long long v = id ? strtoull(id, &end, 10) : 0;
	int r = (id && end && !*end) ? store_op_get(gw->core.st, v, &op) : -ENOENT;

	if (r) {
		gw_cmd_complete(gw->core.q, c, -ENOENT, NULL, "no such operation");
		return;
	}
	gw_cmd_complete(gw->core.q, c, 0, gw_op_json(&op, -1), NULL);
	store_op_clear(&op);
}

static void cmd_op_list(struct gw *gw, struct gw_cmd *c)
{
	json_int_t limit = json_integer_value(json_object_get(c->args, "limit"));
	json_t *items = json_array();
	struct store_op op;
	uint64_t id;

	if (limit <= 0) {
		limit = 50;
	}
	/* Operations have increasing ids: walk down from the newest. */
	for (id = 1; store_op_get(gw->core.st, id, &op) == 0; id++) {
		store_op_clear(&op);
	}
	while (--id >= 1 && (json_int_t)json_array_size(items) < limit) {
		if (store_op_get(gw->core.st, id, &op) == 0) {
			json_array_append_new(items, gw_op_json(&op, -1));
			store_op_clear(&op);
		}
	}
	gw_cmd_complete(gw->core.q, c, 0, json_pack("{s:o}", "items", items), NULL);
}

static const char *const role_names[] = {"viewer", "operator", "admin"};

static void cmd_tokens(struct gw *gw, struct gw_cmd *c)
{
	struct store_token *t = NULL;
	size_t n = 0, i;
	json_t *items = json_array();
	int r = store_token_list(gw->core.st, &t, &n);

	for (i = 0; !r && i < n; i++) {
		json_array_append_new(items, json_pack("{s:s, s:s, s:o, s:b}", "name", t[i].name,
						       "role", role_names[t[i].role % 3],
						       "created_at", gw_time_json(t[i].created_ms),
						       "revoked", t[i].revoked));
	}
	free(t);
	gw_cmd_complete(gw->core.q, c, r, r ? NULL : json_pack("{s:o}", "items", items),
			r ? store_strerror(r) : NULL);
	if (r) {
		json_decref(items);
	}
}

static int role_parse(const char *s)
{
	int i;

	for (i = 0; s && i < 3; i++) {
		if (!strcmp(s, role_names[i])) {
			return i;
		}
	}
	return -1;
}

/* A new random token: "mgw_" and 43 characters of base64url (256 bits). */
static int token_make(char *out, size_t cap)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t raw[32];
	size_t i;
	int r;

	if (cap < 4 + 43 + 1) {
		return -ENOSPC;
	}
	r = mesh_crypto_random(raw, sizeof(raw));
	if (r) {
		return r;
	}
	memcpy(out, "mgw_", 4);
	for (i = 0; i < 43; i++) {
		/* 6 bits at a time from the 256 random bits. */
		size_t bit = i * 6, byte = bit / 8, sh = bit % 8;
		unsigned v = (unsigned)raw[byte] << 8 | (byte + 1 < 32 ? raw[byte + 1] : 0);

		out[4 + i] = b64[(v >> (10 - sh)) & 63];
	}
	out[47] = '\0';
	mesh_crypto_wipe(raw, sizeof(raw));
	return 0;
}

/* Makes and stores a new token; its digest (as stored) in hash. */
static int token_add(struct store *st, const char *name, int role, char *token, size_t cap,
		     uint8_t hash[STORE_TOKEN_HASH_LEN])
{
	int r = token_make(token, cap);

	if (!r) {
		r = store_token_hash(token, hash);
	}
	if (!r) {
		r = store_token_add(st, name, (enum store_role)role, hash);
	}
	return r;
}

static void cmd_token_create(struct gw *gw, struct gw_cmd *c)
{
	const char *name = json_string_value(json_object_get(c->args, "name"));
	int role = role_parse(json_string_value(json_object_get(c->args, "role")));
	uint8_t hash[STORE_TOKEN_HASH_LEN];
	char token[64];
	int r;

	if (!name || role < 0) {
		gw_cmd_complete(gw->core.q, c, -EINVAL, NULL, "name and role are required");
		return;
	}
	r = token_add(gw->core.st, name, role, token, sizeof(token), hash);
	if (r) {
		gw_cmd_complete(gw->core.q, c, r, NULL,
				r == -EEXIST ? "a token with this name exists" : store_strerror(r));
		return;
	}
	/* Before the answer: the token works from the moment its creator sees it. */
	gw_reads_token_added(gw->reads, name, role, hash);
	gw_cmd_complete(gw->core.q, c, 0,
			json_pack("{s:i, s:s, s:s, s:s}", "_http_status", 201, "name", name, "role",
				  role_names[role], "token", token),
			NULL);
	mesh_crypto_wipe(token, sizeof(token));
}

static void cmd_token_revoke(struct gw *gw, struct gw_cmd *c)
{
	const char *name = json_string_value(json_object_get(c->args, "name"));
	int r = name ? store_token_revoke(gw->core.st, name) : -ENOENT;

	if (r == 0) {
		/* Before the answer: once revoked is said, no request gets through with it. */
		gw_reads_token_revoked(gw->reads, name);
	}

	gw_cmd_complete(gw->core.q, c, r,
			r ? NULL : json_pack("{s:s, s:b}", "name", name, "revoked", 1),
			r == -ENOENT ? "no such token"
			: r          ? store_strerror(r)
				     : NULL);
}

static void cmd_auth(struct gw *gw, struct gw_cmd *c)
{
	const char *tok = json_string_value(json_object_get(c->args, "token"));
	uint8_t hash[STORE_TOKEN_HASH_LEN];
	struct store_token t;
	int r = tok ? store_token_hash(tok, hash) : -EACCES;

	if (!r) {
		r = store_token_find(gw->core.st, hash, &t);
	}
	if (r || t.revoked) {
		gw_cmd_complete(gw->core.q, c, -EACCES, NULL, NULL);
		return;
	}
	gw_cmd_complete(gw->core.q, c, 0, json_pack("{s:s, s:i}", "name", t.name, "role", t.role),
			NULL);
}

static void dispatch(struct gw_cmd *c, void *ctx)
{
	struct gw *gw = ctx;
	char actor[96];

	/* Every change a command makes is audited under its principal. */
	snprintf(actor, sizeof(actor), "%s", c->who);
	store_set_actor(gw->core.st, actor);
	switch (c->type) {
	case GW_CMD_NETWORK_GET:
		cmd_network(gw, c);
		break;
	case GW_CMD_SCAN_START:
		gw_scan_cmd_start(gw->scan, c);
		break;
	case GW_CMD_SCAN_STOP:
		gw_scan_cmd_stop(gw->scan, c);
		break;
	case GW_CMD_SCAN_RESULTS:
		gw_scan_cmd_results(gw->scan, c);
		break;
	case GW_CMD_PROV_START:
		gw_prov_cmd_start(gw->prov, c);
		break;
	case GW_CMD_PROV_LIST:
		gw_prov_cmd_list(gw->prov, c);
		break;
	case GW_CMD_PROV_GET:
		gw_prov_cmd_get(gw->prov, c);
		break;
	case GW_CMD_PROV_OOB:
		gw_prov_cmd_oob(gw->prov, c);
		break;
	case GW_CMD_PROV_CANCEL:
		gw_prov_cmd_cancel(gw->prov, c);
		break;
	case GW_CMD_NODE_LIST:
		gw_nodes_cmd_list(gw->nodes, c);
		break;
	case GW_CMD_NODE_GET:
		gw_nodes_cmd_get(gw->nodes, c);
		break;
	case GW_CMD_NODE_PATCH:
		gw_nodes_cmd_patch(gw->nodes, c);
		break;
	case GW_CMD_NODE_REMOVE:
		gw_nodes_cmd_remove(gw->nodes, c);
		break;
	case GW_CMD_NODE_COMP:
		gw_nodes_cmd_comp(gw->nodes, c);
		break;
	case GW_CMD_NODE_CONFIG:
		gw_nodes_cmd_config(gw->nodes, c);
		break;
	case GW_CMD_ONOFF_SET:
		gw_nodes_cmd_onoff_set(gw->nodes, c);
		break;
	case GW_CMD_ONOFF_GET:
		gw_nodes_cmd_onoff_get(gw->nodes, c);
		break;
	case GW_CMD_NETKEY_LIST:
		cmd_netkeys(gw, c);
		break;
	case GW_CMD_NETKEY_CREATE:
		cmd_key_create(gw, c, false);
		break;
	case GW_CMD_NETKEY_REFRESH:
		gw_kr_cmd_start(gw->kr, c);
		break;
	case GW_CMD_OWNERSHIP_CHANGE:
		gw_own_cmd_start(gw->own, c);
		break;
	case GW_CMD_APPKEY_LIST:
		cmd_appkeys(gw, c);
		break;
	case GW_CMD_APPKEY_CREATE:
		cmd_key_create(gw, c, true);
		break;
	case GW_CMD_OP_LIST:
		cmd_op_list(gw, c);
		break;
	case GW_CMD_OP_GET:
		cmd_op_get(gw, c);
		break;
	case GW_CMD_TOKEN_LIST:
		cmd_tokens(gw, c);
		break;
	case GW_CMD_TOKEN_CREATE:
		cmd_token_create(gw, c);
		break;
	case GW_CMD_TOKEN_REVOKE:
		cmd_token_revoke(gw, c);
		break;
	case GW_CMD_HEALTH:
		gw_cmd_complete(
		    gw->core.q, c, 0,
		    json_pack(
			"{s:s, s:s, s:I, s:b, s:o}", "status", "ok", "version", "0.1.0", "uptime_s",
			(json_int_t)((gw_loop_now(gw->core.loop) - gw->core.started_ms) / 1000),
			"bearer", gw_bearer_ready(gw->core.bearer), "bearer_state",
			gw_bearer_state_json(gw->core.bearer)),
		    NULL);
		break;
	case GW_CMD_NODE_REFRESH:
		gw_prov_cmd_refresh(gw->prov, c);
		break;
	case GW_CMD_CDB_EXPORT:
		gw_cdb_cmd_export(&gw->core, c);
		break;
	case GW_CMD_CDB_IMPORT:
		gw_cdb_cmd_import(&gw->core, gw->jobs, c);
		break;
	case GW_CMD_TRUST_LIST:
		gw_trust_cmd_list(&gw->core, c);
		break;
	case GW_CMD_JOB_LIST:
		gw_jobs_cmd_list(gw->jobs, c);
		break;
	case GW_CMD_JOB_GET:
		gw_jobs_cmd_get(gw->jobs, c);
		break;
	case GW_CMD_JOB_PAUSE:
		gw_jobs_cmd_pause(gw->jobs, c);
		break;
	case GW_CMD_JOB_RESUME:
		gw_jobs_cmd_resume(gw->jobs, c);
		break;
	case GW_CMD_JOB_CANCEL:
		gw_jobs_cmd_cancel(gw->jobs, c);
		break;
	case GW_CMD_MANIFEST_PUT:
		gw_manifest_cmd_put(&gw->core, c);
		break;
	case GW_CMD_MANIFEST_LIST:
		gw_manifest_cmd_list(&gw->core, c);
		break;
	case GW_CMD_MANIFEST_GET:
		gw_manifest_cmd_get(&gw->core, c);
		break;
	case GW_CMD_MANIFEST_DELETE:
		gw_manifest_cmd_delete(&gw->core, c);
		break;
	case GW_CMD_COMMISSION_START:
		gw_comm_cmd_start(gw->comm, c);
		break;
	case GW_CMD_JOB_REPORT:
		gw_comm_cmd_report(gw->comm, c);
		break;
	case GW_CMD_JOB_FINISH_WITHOUT:
		gw_jobs_cmd_finish_without(gw->jobs, c);
		break;
	case GW_CMD_ZONE_LIST:
		gw_zones_cmd_list(gw->zones, c);
		break;
	case GW_CMD_ZONE_CREATE:
		gw_zones_cmd_create(gw->zones, c);
		break;
	case GW_CMD_ZONE_GET:
		gw_zones_cmd_get(gw->zones, c);
		break;
	case GW_CMD_ZONE_PATCH:
		gw_zones_cmd_patch(gw->zones, c);
		break;
	case GW_CMD_ZONE_DELETE:
		gw_zones_cmd_delete(gw->zones, c);
		break;
	case GW_CMD_NODE_ZONE:
		gw_zones_cmd_move(gw->zones, c);
		break;
	case GW_CMD_AUTH:
		cmd_auth(gw, c);
		break;
	default:
		gw_cmd_complete(gw->core.q, c, -ENOSYS, NULL, "unknown command");
		break;
	}
	store_set_actor(gw->core.st, NULL);
}

static void on_cmdq(struct gw_loop *loop, int fd, uint32_t events, void *ctx)
{
	struct gw *gw = ctx;

	(void)loop;
	(void)fd;
	(void)events;
	gw_cmdq_drain(gw->core.q, dispatch, gw);
	gw_core_rearm(&gw->core);
}

int gw_cmd_attach(struct gw *gw)
{
	return gw_loop_fd_add(gw->core.loop, gw_cmdq_fd(gw->core.q), EPOLLIN, on_cmdq, gw);
}

void gw_cmd_detach(struct gw *gw)
{
	(void)gw_loop_fd_del(gw->core.loop, gw_cmdq_fd(gw->core.q));
}

struct gw_cmd *gw_token_verify_cmd(const char *token)
{
	/* The loop owns the inventory: the check is a command like any other. */
	return gw_cmd_new(GW_CMD_AUTH, json_pack("{s:s}", "token", token), "auth");
}

int gw_token_verify_done(const struct gw_cmd *c, char *name, size_t cap, int *role)
{
	if (c->status) {
		return -EACCES;
	}
	snprintf(name, cap, "%s", json_string_value(json_object_get(c->result, "name")));
	*role = (int)json_integer_value(json_object_get(c->result, "role"));
	return 0;
}

int gw_token_verify(struct gw *gw, const char *token, char *name, size_t cap, int *role)
{
	struct gw_cmd *c = gw_token_verify_cmd(token);
	int r;

	if (!c) {
		return -ENOMEM;
	}
	gw_cmdq_push(gw->core.q, c);
	r = gw_cmd_wait(gw->core.q, c, 5000);
	if (!r) {
		r = gw_token_verify_done(c, name, cap, role);
	}
	gw_cmd_put(c);
	return r ? -EACCES : 0;
}

/* The CLI may run before the daemon's first start: make the state directory. */
static int state_dir(const struct gw_conf *conf)
{
	return mkdir(conf->state_dir, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

int gw_token_create_offline(const struct gw_conf *conf, const char *name, int role, char *token,
			    size_t cap)
{
	uint8_t hash[STORE_TOKEN_HASH_LEN];
	struct store *st;
	int r;

	r = state_dir(conf);
	if (r) {
		return r;
	}
	st = store_open(conf->database, conf->master_key, &r);
	if (!st) {
		return r;
	}
	store_set_actor(st, "cli");
	r = token_add(st, name, role, token, cap, hash);
	store_close(st);
	return r;
}

int gw_backup_offline(const struct gw_conf *conf, const char *file, char *why, size_t why_cap)
{
	return store_backup(conf->database, file, why, why_cap);
}

int gw_restore_offline(const struct gw_conf *conf, const char *file, char *aside, size_t aside_cap,
		       char *why, size_t why_cap)
{
	int r = state_dir(conf);

	if (r) {
		snprintf(why, why_cap, "%s: %s", conf->state_dir, strerror(-r));
		return r;
	}
	return store_restore(conf->database, conf->master_key, file, aside, aside_cap, why,
			     why_cap);
}
