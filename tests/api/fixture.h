/*
 * Shared fixture for the API tests: a real struct api on an ephemeral loopback
 * port, a fake token table behind api_auth_ops, and a fake loop thread that
 * drains the command queue, records every command it receives and answers
 * with canned results per command type.
 */
#ifndef TESTS_API_FIXTURE_H
#define TESTS_API_FIXTURE_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "api/api.h"
#include "gateway/cmdq.h"
#include "gateway/gw_cmd.h"
#include "tests/util/http_client.h"

#define FX_MAX_CMDS 64
#define FX_TIMEOUT 10000 /* ms: only reached when something is broken */
#define FX_CMD_AUTH 999  /* the fake loop's token check (meshgw's is internal) */

#define TOK_VIEWER "Authorization: Bearer viewer-token-1\r\n"
#define TOK_OPERATOR "Authorization: Bearer operator-token-2\r\n"
#define TOK_ADMIN "Authorization: Bearer admin-token-3\r\n"
#define JSON_CT "Content-Type: application/json\r\n"

struct fx {
	struct gw_cmdq *q;
	struct api *api;
	pthread_t thread;
	int stop_fd;
	pthread_mutex_t mtx;
	int ncmds;
	int types[FX_MAX_CMDS];
	char *args[FX_MAX_CMDS]; /* compact JSON of each command's args */
	char who[FX_MAX_CMDS][64];
	int hang_type;  /* commands of this type are never answered */
	bool hang_auth; /* token checks are never answered */
	struct gw_cmd *hung[FX_MAX_CMDS];
	int nhung;
	int fail_type, fail_errno; /* answer this type with an error */
};

static struct fx fx;

static int fx_verify(void *ctx, const char *token, char *name, size_t cap, enum api_role *role)
{
	static const struct {
		const char *token, *name;
		enum api_role role;
	} tokens[] = {
	    {"viewer-token-1", "alice", API_ROLE_VIEWER},
	    {"operator-token-2", "bob", API_ROLE_OPERATOR},
	    {"admin-token-3", "carol", API_ROLE_ADMIN},
	};

	(void)ctx;
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		if (strcmp(tokens[i].token, token) == 0) {
			snprintf(name, cap, "%s", tokens[i].name);
			*role = tokens[i].role;
			return 0;
		}
	}
	return -EACCES;
}

/* As meshgw does it: the token check is a command for the (fake) loop. */
static struct gw_cmd *fx_verify_cmd(void *ctx, const char *token)
{
	(void)ctx;
	return gw_cmd_new(FX_CMD_AUTH, json_pack("{s:s}", "token", token), "auth");
}

static int fx_verify_done(void *ctx, const struct gw_cmd *c, char *name, size_t cap,
			  enum api_role *role)
{
	(void)ctx;
	if (c->status) {
		return c->status;
	}
	snprintf(name, cap, "%s", json_string_value(json_object_get(c->result, "name")));
	*role = (enum api_role)json_integer_value(json_object_get(c->result, "role"));
	return 0;
}

static const struct api_auth_ops fx_auth = {NULL, fx_verify, fx_verify_cmd, fx_verify_done};
/* The blocking verify() alone (an embedder without verify_cmd). */
static const struct api_auth_ops fx_auth_sync = {NULL, fx_verify, NULL, NULL};

/* The loop's side of fx_verify_cmd(); not recorded among the commands. */
static void fx_handle_auth(struct gw_cmd *cmd)
{
	char name[64];
	enum api_role role;
	int r = fx_verify(NULL, json_string_value(json_object_get(cmd->args, "token")), name,
			  sizeof(name), &role);

	gw_cmd_complete(fx.q, cmd, r,
			r ? NULL : json_pack("{s:s, s:i}", "name", name, "role", role), NULL);
}

static json_t *fx_canned(int type, json_t *args)
{
	switch (type) {
	case GW_CMD_HEALTH:
		return json_pack("{s:s, s:s, s:i}", "status", "ok", "version", "0.1.0", "uptime_s",
				 5);
	case GW_CMD_SCAN_START:
		return json_pack("{s:s, s:s, s:s, s:O, s:i}", "id", "scan-1", "state", "running",
				 "started_at", "2026-01-01T00:00:00Z", "duration_s",
				 json_object_get(args, "duration_s"), "_http_status", 202);
	case GW_CMD_NODE_GET:
		return json_pack("{s:O, s:s}", "address", json_object_get(args, "address"), "name",
				 "lamp");
	default:
		return json_pack("{s:i}", "echo_type", type);
	}
}

static void fx_handle(struct gw_cmd *cmd, void *ctx)
{
	struct fx *f = ctx;

	if (cmd->type == FX_CMD_AUTH) {
		pthread_mutex_lock(&f->mtx);
		if (f->hang_auth && f->nhung < FX_MAX_CMDS) {
			f->hung[f->nhung++] = cmd;
			pthread_mutex_unlock(&f->mtx);
			return;
		}
		pthread_mutex_unlock(&f->mtx);
		fx_handle_auth(cmd);
		return;
	}
	pthread_mutex_lock(&f->mtx);
	if (f->ncmds < FX_MAX_CMDS) {
		f->types[f->ncmds] = cmd->type;
		f->args[f->ncmds] = cmd->args ? json_dumps(cmd->args, JSON_COMPACT | JSON_SORT_KEYS)
					      : strdup("null");
		snprintf(f->who[f->ncmds], sizeof(f->who[0]), "%s", cmd->who);
		f->ncmds++;
	}
	if (cmd->type == f->hang_type && f->nhung < FX_MAX_CMDS) {
		f->hung[f->nhung++] = cmd;
		pthread_mutex_unlock(&f->mtx);
		return;
	}
	pthread_mutex_unlock(&f->mtx);
	if (cmd->type == f->fail_type) {
		gw_cmd_complete(f->q, cmd, f->fail_errno, NULL, "canned failure");
		return;
	}
	gw_cmd_complete(f->q, cmd, 0, fx_canned(cmd->type, cmd->args), NULL);
}

static void *fx_loop(void *arg)
{
	struct fx *f = arg;
	struct pollfd p[2] = {{.fd = gw_cmdq_fd(f->q), .events = POLLIN},
			      {.fd = f->stop_fd, .events = POLLIN}};

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			break;
		}
		if (p[1].revents) {
			break;
		}
		if (p[0].revents) {
			gw_cmdq_drain(f->q, fx_handle, f);
		}
	}
	return NULL;
}

/* Reads served on the worker threads (api_set_reads()), for the next fx_start*(); NULL: none. */
static const struct api_read_ops *fx_read_ops;

/* Starts the API with conf (port filled in), auth and the fake loop. */
static void fx_start_auth(struct api_conf *conf, const struct api_auth_ops *auth)
{
	memset(&fx, 0, sizeof(fx));
	pthread_mutex_init(&fx.mtx, NULL);
	fx.hang_type = -1;
	fx.fail_type = -1;
	fx.q = gw_cmdq_new();
	cr_assert_not_null(fx.q);
	fx.stop_fd = eventfd(0, EFD_CLOEXEC);
	conf->bind_addr = "127.0.0.1";
	conf->port = 0;
	fx.api = api_new(conf, fx.q, auth);
	cr_assert_not_null(fx.api);
	api_set_reads(fx.api, fx_read_ops);
	cr_assert_eq(api_start(fx.api), 0);
	cr_assert_neq(api_port(fx.api), 0);
	cr_assert_eq(pthread_create(&fx.thread, NULL, fx_loop, &fx), 0);
}

/* Starts the API with conf and the queued token check (as meshgw runs it). */
static void fx_start(struct api_conf *conf)
{
	fx_start_auth(conf, &fx_auth);
}

__attribute__((unused)) static void fx_setup(void)
{
	struct api_conf conf = {0};

	fx_start(&conf);
}

static void fx_teardown(void)
{
	uint64_t one = 1;

	api_free(fx.api);
	(void)!write(fx.stop_fd, &one, sizeof(one));
	pthread_join(fx.thread, NULL);
	for (int i = 0; i < fx.nhung; i++) {
		gw_cmd_complete(fx.q, fx.hung[i], -ECANCELED, NULL, NULL);
	}
	for (int i = 0; i < fx.ncmds; i++) {
		free(fx.args[i]);
	}
	gw_cmdq_free(fx.q);
	close(fx.stop_fd);
	pthread_mutex_destroy(&fx.mtx);
}

__attribute__((unused)) static int fx_ncmds(void)
{
	int n;

	pthread_mutex_lock(&fx.mtx);
	n = fx.ncmds;
	pthread_mutex_unlock(&fx.mtx);
	return n;
}

/* One request; asserts that a response arrived. */
__attribute__((unused)) static struct http_resp fx_req(const char *method, const char *path,
						       const char *headers, const char *body)
{
	struct http_resp r;

	cr_assert_eq(http_request(api_port(fx.api), method, path, headers, body,
				  body ? strlen(body) : 0, &r, FX_TIMEOUT),
		     0, "no response to %s %s", method, path);
	return r;
}

/* Asserts a problem+json response with the status and a detail containing needle. */
__attribute__((unused)) static void fx_assert_problem(struct http_resp *r, int status,
						      const char *needle)
{
	char *ct = http_header(r, "Content-Type");
	json_t *j = http_json(r);

	cr_assert_eq(r->status, status, "status %d, body %s", r->status, r->body);
	cr_assert_str_eq(ct, "application/problem+json");
	cr_assert_not_null(j, "body not JSON: %s", r->body);
	cr_assert_eq(json_integer_value(json_object_get(j, "status")), status);
	cr_assert_not_null(json_string_value(json_object_get(j, "type")));
	cr_assert_not_null(json_string_value(json_object_get(j, "title")));
	if (needle) {
		cr_assert_not_null(strstr(json_string_value(json_object_get(j, "detail")), needle),
				   "detail '%s' lacks '%s'",
				   json_string_value(json_object_get(j, "detail")), needle);
	}
	json_decref(j);
	free(ct);
}

#endif
