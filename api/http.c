#include "api/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/prom.h"
#include "gateway/cmdq.h"

/*
 * The HTTP side: libmicrohttpd daemon, request lifecycle, authentication,
 * validation and the wait on the command queue (see api/api.h for the
 * threading model).
 *
 * A request is checked in this order, and the first failure answers it:
 * static page or API; for the API, bearer token (401), route (404/405), path
 * parameters (400), role (403), body size (413, also before the body is read when
 * Content-Length says so), media type (415), JSON syntax (400), query and
 * body schema (400), export permission (403).  Only then is a command built,
 * so nothing reaches the core from a refused request.
 */

/* hdrs: NULL, or name/value pairs ending with a NULL name. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *body,
				 const char *ctype, const char *const *hdrs)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	struct MHD_Response *r;
	enum MHD_Result ret;

	json_decref(body);
	if (!text) {
		return MHD_NO;
	}
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	for (; hdrs && hdrs[0]; hdrs += 2) {
		MHD_add_response_header(r, hdrs[0], hdrs[1]);
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * res {_http_text, _http_content_type, _http_filename?}: the text with that
 * type, as an attachment when a file name is given (RFC 6266).
 */
static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, json_t *res)
{
	const char *text = json_string_value(json_object_get(res, "_http_text"));
	const char *ctype = json_string_value(json_object_get(res, "_http_content_type"));
	const char *file = json_string_value(json_object_get(res, "_http_filename"));
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	char disp[128];
	enum MHD_Result ret;

	if (!r) {
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				ctype ? ctype : "text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (file &&
	    snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", file) < (int)sizeof(disp)) {
		MHD_add_response_header(r, "Content-Disposition", disp);
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result problem_h(struct req *rq, struct MHD_Connection *c, unsigned status,
				 const char *detail, const char *hname, const char *hvalue)
{
	const char *hdrs[] = {hname, hvalue, NULL};

	rq->answered = true;
	return send_json(c, status, api_problem_new(status, detail), "application/problem+json",
			 hdrs);
}

/*
 * 503 from a cap: the client is told when to come back (RFC 9110 §10.2.3),
 * and the connection is closed after the answer so that a client over the
 * connection cap gives its socket back.
 */
__attribute__((format(printf, 5, 6))) static enum MHD_Result busy(struct req *rq,
								  struct MHD_Connection *c,
								  unsigned retry_s, bool close_conn,
								  const char *fmt, ...)
{
	char detail[320], retry[16];
	const char *hdrs[] = {MHD_HTTP_HEADER_RETRY_AFTER, retry, MHD_HTTP_HEADER_CONNECTION,
			      "close", NULL};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(retry, sizeof(retry), "%u", retry_s);
	if (!close_conn) {
		hdrs[2] = NULL;
	}
	rq->answered = true;
	return send_json(c, 503, api_problem_new(503, detail), "application/problem+json", hdrs);
}

__attribute__((format(printf, 4, 5))) static enum MHD_Result
problem(struct req *rq, struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char detail[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return problem_h(rq, c, status, detail, NULL, NULL);
}

/* Collects query parameters as strings, refusing repeats ("?limit=1&limit=2"). */
struct query_ctx {
	json_t *obj;
	char err[200];
};

static enum MHD_Result query_it(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	struct query_ctx *qc = cls;
	json_t *v;

	(void)kind;
	if (json_object_get(qc->obj, key)) {
		snprintf(qc->err, sizeof(qc->err), "query.%.64s: given more than once", key);
		return MHD_NO;
	}
	v = json_string(value ? value : "");
	if (!v) {
		snprintf(qc->err, sizeof(qc->err), "query.%.64s: not valid UTF-8", key);
		return MHD_NO;
	}
	json_object_set_new(qc->obj, key, v);
	return MHD_YES;
}

/* Builds the query object typed per the route's schema; 0 or -EINVAL with err. */
static int parse_query(struct MHD_Connection *c, const struct api_route *rt, json_t *args,
		       char *err, size_t cap)
{
	struct query_ctx qc = {.obj = json_object()};
	const struct vs_field *f;
	const char *key;
	json_t *raw, *typed = json_object();
	int r = -EINVAL;

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_it, &qc);
	if (qc.err[0]) {
		snprintf(err, cap, "%s", qc.err);
		goto out;
	}
	json_object_foreach(qc.obj, key, raw)
	{
		char name[100];
		json_t *v;

		snprintf(name, sizeof(name), "query.%.64s", key);
		for (f = rt->query ? rt->query->fields : NULL; f && f->name; f++) {
			if (strcmp(f->name, key) == 0) {
				break;
			}
		}
		if (!f || !f->name) {
			snprintf(err, cap, "%s: unknown query parameter", name);
			goto out;
		}
		v = vs_from_text(f->schema, json_string_value(raw), name, err, cap);
		if (!v) {
			goto out;
		}
		json_object_set_new(typed, key, v);
	}
	if (rt->query && vs_check(rt->query, typed, "query", err, cap)) {
		goto out;
	}
	json_object_update(args, typed);
	r = 0;
out:
	json_decref(qc.obj);
	json_decref(typed);
	return r;
}

/* Whether the Content-Type is JSON (parameters such as charset are allowed). */
static bool is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	return ct && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static long long now_us(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

static long long now_ms(void)
{
	return now_us() / 1000;
}

/* Resumes rq's connection if this caller is the one that ends its suspension. */
void api_http_wake(struct req *rq)
{
	int expect = WAKE_SUSPENDED;

	if (atomic_compare_exchange_strong(&rq->wake, &expect, WAKE_RUNNING)) {
		MHD_resume_connection(rq->conn);
	}
}

/* gw_cmd_on_done() callback, on the loop thread: the request's answer is ready. */
static void cmd_done(void *arg)
{
	api_http_wake(arg);
}

/*
 * Suspends the connection until the command completes, the deadline passes
 * or the API stops.  The wake state is published after the suspension and
 * every reason is checked again after that, so a wake-up that came first is
 * not lost.
 */
static void park(struct api *api, struct MHD_Connection *c, struct req *rq)
{
	MHD_suspend_connection(c);
	atomic_store(&rq->wake, WAKE_SUSPENDED);
	if (atomic_load(&api->stopping) || gw_cmd_wait(api->q, rq->cmd, 0) == 0 ||
	    now_ms() >= rq->deadline) {
		api_http_wake(rq);
	}
}

/* Takes rq off the pending list and the command off the loop's callbacks. */
static void unpend(struct api *api, struct req *rq)
{
	pthread_mutex_lock(&api->mtx);
	if (rq->prev) {
		rq->prev->next = rq->next;
	} else {
		api->pending = rq->next;
	}
	if (rq->next) {
		rq->next->prev = rq->prev;
	}
	rq->prev = rq->next = NULL;
	pthread_mutex_unlock(&api->mtx);
	atomic_fetch_sub(&api->npending, 1);
	gw_cmd_unwatch(api->q, rq->cmd);
	gw_cmd_put(rq->cmd);
	rq->cmd = NULL;
}

/*
 * Queues cmd (built by the caller, which passes its two references) and
 * suspends the connection: no thread waits for the loop.  The access handler
 * is called again on resume (wait_resumed()).  Over max_pending the command
 * is dropped and the request answered 503.
 */
static enum MHD_Result submit(struct api *api, struct MHD_Connection *c, struct req *rq,
			      struct gw_cmd *cmd)
{
	unsigned pending = atomic_fetch_add(&api->npending, 1);

	if (!cmd) {
		atomic_fetch_sub(&api->npending, 1);
		return problem(rq, c, 503, "out of memory");
	}
	if (pending >= api->max_pending) {
		atomic_fetch_sub(&api->npending, 1);
		gw_cmd_put(cmd);
		gw_cmd_put(cmd);
		return busy(rq, c, RETRY_BUSY_S, false,
			    "%u requests are already waiting for the gateway (max_pending %u)",
			    pending, api->max_pending);
	}
	rq->cmd = cmd;
	rq->conn = c;
	rq->deadline = now_ms() + api->timeout_ms;
	gw_cmd_on_done(cmd, cmd_done, rq);
	pthread_mutex_lock(&api->mtx);
	rq->next = api->pending;
	if (rq->next) {
		rq->next->prev = rq;
	}
	api->pending = rq;
	pthread_mutex_unlock(&api->mtx);
	/* Suspended before the push: the completion may come at once. */
	park(api, c, rq);
	gw_cmdq_push(api->q, cmd);
	return MHD_YES;
}

static enum MHD_Result answer(struct req *rq, struct MHD_Connection *c, int err, json_t *res,
			      const char *detail);

/*
 * A read the gateway answers on this thread (api_set_reads()): true with
 * *ret when it did, false when it declined and the request is to be queued.
 */
static bool serve_here(struct api *api, struct MHD_Connection *c, struct req *rq,
		       const json_t *args, enum MHD_Result *ret)
{
	char detail[256] = "";
	json_t *res = NULL;
	int r;

	if (!api->reads.serve) {
		return false;
	}
	r = api->reads.serve(api->reads.ctx, rq->route->cmd, args, &res, detail, sizeof(detail));
	if (r == -ENOSYS) {
		return false;
	}
	*ret = answer(rq, c, r, r ? NULL : res, detail);
	return true;
}

/* Runs the validated request: read here, or through the core (answer_command() answers it). */
static enum MHD_Result run_command(struct api *api, struct MHD_Connection *c, struct req *rq,
				   json_t *args)
{
	enum MHD_Result ret;

	if (serve_here(api, c, rq, args, &ret)) {
		json_decref(args);
		return ret;
	}
	return submit(api, c, rq, gw_cmd_new(rq->route->cmd, args, rq->who[0] ? rq->who : NULL));
}

/*
 * The access handler again, after a resume: true when rq->cmd is completed;
 * otherwise the request is answered (503 stopping, 504 past its deadline) or
 * parked again, and *ret is what the handler returns.
 */
static bool wait_resumed(struct api *api, struct MHD_Connection *c, struct req *rq,
			 enum MHD_Result *ret)
{
	if (gw_cmd_wait(api->q, rq->cmd, 0) == 0) {
		return true;
	}
	if (atomic_load(&api->stopping)) {
		unpend(api, rq);
		*ret = problem(rq, c, 503, "the gateway is shutting down");
	} else if (now_ms() >= rq->deadline) {
		unpend(api, rq);
		*ret =
		    problem(rq, c, 504, "the gateway did not answer within %d ms", api->timeout_ms);
	} else {
		park(api, c, rq);
		*ret = MHD_YES;
	}
	return false;
}

/*
 * A command's answer, from the queue or from a read served on this thread:
 * err 0 and res (stolen; NULL is {}) with the route's status, or a problem.
 */
static enum MHD_Result answer(struct req *rq, struct MHD_Connection *c, int err, json_t *res,
			      const char *detail)
{
	unsigned status = rq->route->status;
	enum MHD_Result ret;
	json_t *hs;

	if (err != 0) {
		json_t *errors = json_object_get(res, "errors");

		rq->answered = true;
		if (json_is_array(errors)) {
			/* A list of problems (a manifest's rows) goes out as a member of the
			 * problem. */
			json_t *p = api_problem_new(api_problem_status(err), detail);

			json_object_set(p, "errors", errors);
			json_decref(res);
			return send_json(c,
					 (unsigned)json_integer_value(json_object_get(p, "status")),
					 p, "application/problem+json", NULL);
		}
		json_decref(res);
		ret = problem(rq, c, api_problem_status(err), "%s",
			      detail && detail[0] ? detail : strerror(-err));
		return ret;
	}
	res = res ? res : json_object();
	if (json_is_string(json_object_get(res, "_http_text"))) {
		/* A file to download (a report as CSV): the text as it is, not JSON. */
		ret = send_text(c, status, res);
		json_decref(res);
		rq->answered = true;
		return ret;
	}
	hs = json_is_object(res) ? json_object_get(res, "_http_status") : NULL;
	if (hs) {
		if (json_is_integer(hs) && json_integer_value(hs) >= 200 &&
		    json_integer_value(hs) <= 299) {
			status = (unsigned)json_integer_value(hs);
		}
		/* The result may be shared with the core's records: change a copy. */
		json_t *copy = json_copy(res);

		json_decref(res);
		res = copy;
		json_object_del(res, "_http_status");
	}
	rq->answered = true;
	return send_json(c, status, res, "application/json", NULL);
}

/* The command is completed: its answer. */
static enum MHD_Result answer_command(struct api *api, struct MHD_Connection *c, struct req *rq)
{
	struct gw_cmd *cmd = rq->cmd;
	int err = cmd->status;
	json_t *res = cmd->result ? json_incref(cmd->result) : NULL;
	char detail[sizeof(cmd->detail)];

	memcpy(detail, cmd->detail, sizeof(detail));
	unpend(api, rq);
	return answer(rq, c, err, res, detail);
}

/* Caller holds api->mtx. */
static void watch_unlink(struct api *api, struct conn_watch *w)
{
	if (!w->listed) {
		return;
	}
	if (w->prev) {
		w->prev->next = w->next;
	} else {
		api->watch_head = w->next;
	}
	if (w->next) {
		w->next->prev = w->prev;
	} else {
		api->watch_tail = w->prev;
	}
	w->prev = w->next = NULL;
	w->listed = false;
}

/* Caller holds api->mtx.  Appends: the list stays ordered by since. */
static void watch_link(struct api *api, struct conn_watch *w)
{
	watch_unlink(api, w);
	w->since = now_ms();
	w->prev = api->watch_tail;
	if (api->watch_tail) {
		api->watch_tail->next = w;
	} else {
		api->watch_head = w;
	}
	api->watch_tail = w;
	w->listed = true;
}

/* Starts (a request's headers are next) or ends (they are in) c's header deadline. */
static void watch_headers(struct api *api, struct MHD_Connection *c, bool on)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_watch *w = ci ? ci->socket_context : NULL;

	if (!w) {
		return;
	}
	pthread_mutex_lock(&api->mtx);
	if (on) {
		watch_link(api, w);
	} else {
		watch_unlink(api, w);
	}
	pthread_mutex_unlock(&api->mtx);
}

/*
 * A body member named like a path parameter (the subscription "address" of
 * POST /api/v1/nodes/{address}/config) is kept under "_body" before the path
 * parameter replaces it, so the core can still read it (gw_cmd.h).
 */
static void keep_shadowed(json_t *args, json_t *params)
{
	json_t *shadow = NULL, *v;
	const char *key;

	json_object_foreach(params, key, v)
	{
		json_t *mine = json_object_get(args, key);

		(void)v;
		if (mine) {
			if (!shadow) {
				shadow = json_object();
			}
			json_object_set(shadow, key, mine);
		}
	}
	if (shadow) {
		json_object_set_new(args, "_body", shadow);
	}
}

/* A document route: the body is one JSON object handed to the core as "document". */
static enum MHD_Result finish_document(struct api *api, struct MHD_Connection *c, struct req *rq)
{
	char err[320];
	json_t *doc, *args;
	json_error_t jerr;

	if (!rq->len) {
		return problem(rq, c, 400, "the request body must be the document (a JSON object)");
	}
	if (!is_json_type(
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		return problem(rq, c, 415, "the request body must be application/json");
	}
	doc = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		return problem(rq, c, 400, "malformed JSON at line %d column %d: %s", jerr.line,
			       jerr.column, jerr.text);
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		return problem(rq, c, 400, "/: the document must be a JSON object");
	}
	args = json_object();
	if (parse_query(c, rq->route, args, err, sizeof(err))) {
		json_decref(args);
		json_decref(doc);
		return problem(rq, c, 400, "%s", err);
	}
	json_object_set_new(args, "document", doc);
	json_object_update(args, rq->params);
	return run_command(api, c, rq, args);
}

/* A manifest route: the body goes to the core as it came, with its format. */
static enum MHD_Result finish_manifest(struct api *api, struct MHD_Connection *c, struct req *rq)
{
	const char *ct =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("text/csv");
	bool csv = ct && strncasecmp(ct, "text/csv", n) == 0 &&
		   (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
	json_t *args;

	if (!csv && !is_json_type(ct)) {
		return problem(rq, c, 415, "the manifest must be text/csv or application/json");
	}
	if (!rq->len) {
		return problem(rq, c, 400, "the request body must be the manifest");
	}
	/* Not checked as UTF-8 here: the parser names the row of any bad octet. */
	args = json_pack("{s:o, s:s}", "body", json_stringn_nocheck(rq->body, rq->len), "format",
			 csv ? "csv" : "json");
	if (!args) {
		return problem(rq, c, 503, "out of memory");
	}
	json_object_update(args, rq->params);
	return run_command(api, c, rq, args);
}

/* The last call of the access handler: the whole body is in rq->body. */
static enum MHD_Result finish(struct api *api, struct MHD_Connection *c, struct req *rq)
{
	const struct api_route *rt = rq->route;
	char err[320];
	json_t *body = NULL, *args;
	json_error_t jerr;

	if (rt->flags & API_ROUTE_DOCUMENT) {
		return finish_document(api, c, rq);
	}
	if (rt->flags & API_ROUTE_MANIFEST) {
		return finish_manifest(api, c, rq);
	}
	if (rq->len && !rt->body) {
		return problem(rq, c, 400, "this endpoint takes no request body");
	}
	if (rq->len) {
		if (!is_json_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							      MHD_HTTP_HEADER_CONTENT_TYPE))) {
			return problem(rq, c, 415, "the request body must be application/json");
		}
		body = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &jerr);
		if (!body) {
			return problem(rq, c, 400, "malformed JSON at line %d column %d: %s",
				       jerr.line, jerr.column, jerr.text);
		}
	} else if (rt->body) {
		body = json_object(); /* an empty body is an empty object: all defaults */
	}
	if (body && vs_check(rt->body, body, "", err, sizeof(err))) {
		json_decref(body);
		return problem(rq, c, 400, "%s", err);
	}
	args = body ? body : json_object();
	if (parse_query(c, rt, args, err, sizeof(err))) {
		json_decref(args);
		return problem(rq, c, 400, "%s", err);
	}
	if ((rt->flags & API_ROUTE_EXPORT_ADMIN) && json_is_true(json_object_get(args, "export")) &&
	    rq->role < API_ROLE_ADMIN) {
		json_decref(args);
		return problem(rq, c, 403, "exporting key material needs the admin role");
	}
	if ((rt->flags & API_ROUTE_PARTIAL_VIEWER) &&
	    !json_is_true(json_object_get(args, "partial")) && rq->role < API_ROLE_ADMIN) {
		json_decref(args);
		return problem(rq, c, 403,
			       "the full export holds every key and needs the admin role; "
			       "?partial=true gives it without keys");
	}
	keep_shadowed(args, rq->params);
	/* Path parameters last: they win over any same-named member. */
	json_object_update(args, rq->params);
	return run_command(api, c, rq, args);
}

static enum MHD_Result open_events(struct api *api, struct MHD_Connection *c, struct req *rq)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	unsigned long long last = 0;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *end = NULL;
	int err;

	if (h && h[0] >= '0' && h[0] <= '9') {
		errno = 0;
		last = strtoull(h, &end, 10);
		if (errno || *end) {
			h = NULL;
		}
	} else {
		h = NULL;
	}
	r = api_sse_response(api->sse, c, rq->who, h != NULL, last, &err);
	if (err == -EUSERS) {
		return busy(rq, c, RETRY_STREAMS_S, true,
			    "the gateway serves at most %u event streams at once (max_streams)",
			    api->max_streams);
	}
	if (err == -EDQUOT) {
		return busy(rq, c, RETRY_STREAMS_S, true,
			    "at most %u event streams per token (max_streams_per_token); "
			    "%.64s has that many open",
			    api->max_streams_per_token, rq->who);
	}
	if (!r) {
		return problem(rq, c, 503, "out of memory");
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	rq->answered = true;
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * GET /metrics, rendered on this worker from atomics and the event hub's
 * count: a scrape never waits for the event loop.
 */
static enum MHD_Result send_metrics(struct api *api, struct MHD_Connection *c, struct req *rq)
{
	size_t len;
	char *text = api_metrics_page(api->metrics, atomic_load(&api->nconn),
				      api_sse_clients(api->sse), &api->mops, &len);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!text) {
		return problem(rq, c, 503, "out of memory");
	}
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	rq->answered = true;
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * The body is still arriving io_timeout_s after the headers: 408, and the
 * connection closes (a client trickling a body would otherwise hold it for as
 * long as each byte comes within the idle timeout).  Checked as body data
 * arrives; a body that stops altogether is cut by the idle timeout.
 *
 * libmicrohttpd (0.9.75) refuses a response queued while a body is being
 * received, so the answer is written to the socket here, followed by our FIN,
 * and the handler then fails the request, which closes the connection.  Over
 * TLS the socket carries records, not text: the connection is only cut.
 */
static enum MHD_Result body_too_slow(struct req *rq, struct MHD_Connection *c,
				     const struct api *api)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	char detail[128], head[256];
	json_t *p;
	char *body;

	rq->answered = true;
	rq->raw_status = 408;
	if (!ci || api->cert_pem) {
		return MHD_NO;
	}
	snprintf(detail, sizeof(detail),
		 "the request body took longer than %u s in all (http_io_timeout_s)",
		 api->io_timeout_s);
	p = api_problem_new(408, detail);
	body = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (body) {
		int n = snprintf(head, sizeof(head),
				 "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
				 "Content-Type: application/problem+json\r\n"
				 "Cache-Control: no-store\r\nContent-Length: %zu\r\n\r\n",
				 strlen(body));

		/*
		 * Short, and nothing else is queued on the socket (a kept-alive
		 * connection's previous response went out before this request was
		 * read): the send buffer takes it whole.
		 */
		(void)send(ci->connect_fd, head, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)send(ci->connect_fd, body, strlen(body), MSG_NOSIGNAL | MSG_DONTWAIT);
		free(body);
	}
	shutdown(ci->connect_fd, SHUT_WR);
	return MHD_NO;
}

/* Body bytes the request's route accepts. */
static size_t body_limit(const struct api *api, const struct req *rq)
{
	if (rq->route && (rq->route->flags & (API_ROUTE_DOCUMENT | API_ROUTE_MANIFEST))) {
		return API_DOC_BODY_LIMIT;
	}
	return api->body_limit;
}

/* Over the limit: 413 Content Too Large, naming the limit. */
static enum MHD_Result too_large(struct req *rq, struct MHD_Connection *c, const struct api *api)
{
	return problem(rq, c, 413, "the request body is over the limit of %zu bytes",
		       body_limit(api, rq));
}

/* The first call of the access handler: headers only. */
/* 401 for api_auth_check()'s -ENOENT (no usable credential) or -EACCES. */
static enum MHD_Result refuse_auth(struct req *rq, struct MHD_Connection *c, int r)
{
	if (r == -ENOENT) {
		return problem_h(rq, c, 401, "a bearer token is required",
				 MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"meshgw\"");
	}
	return problem_h(rq, c, 401, "the bearer token is not valid",
			 MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			 "Bearer realm=\"meshgw\", error=\"invalid_token\"");
}

/* The token check as a command: the request is suspended until the loop answers. */
static enum MHD_Result start_auth(struct api *api, struct MHD_Connection *c, struct req *rq)
{
	char token[API_TOKEN_MAX + 1];
	struct gw_cmd *cmd;
	int r = api_auth_token(
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION), token,
	    sizeof(token));

	if (r) {
		return refuse_auth(rq, c, r);
	}
	cmd = api->auth.verify_cmd(api->auth.ctx, token);
	/* The token is a secret: do not leave it on this thread's stack. */
	explicit_bzero(token, sizeof(token));
	rq->authing = true;
	return submit(api, c, rq, cmd);
}

static enum MHD_Result route(struct api *api, struct MHD_Connection *c, struct req *rq,
			     const char *url, const char *method);

/* The token check completed (the access handler after the resume). */
static enum MHD_Result auth_resumed(struct api *api, struct MHD_Connection *c, struct req *rq,
				    const char *url, const char *method)
{
	char who[64] = "";
	enum api_role role = API_ROLE_NONE;
	int r = api->auth.verify_done(api->auth.ctx, rq->cmd, who, sizeof(who), &role);

	unpend(api, rq);
	rq->authing = false;
	r = api_auth_accept(r, who, sizeof(who), role, rq->who, sizeof(rq->who), &rq->role);
	if (r) {
		return refuse_auth(rq, c, r);
	}
	return route(api, c, rq, url, method);
}

/* Connections open from c's client address, c included (0 when not counted). */
static unsigned peer_connections(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	const struct conn_watch *w = ci ? ci->socket_context : NULL;

	return w ? api_peer_count(w->peer) : 0;
}

static bool on_metrics_listener(const struct api *api, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);

	return ci && ci->daemon == api->md;
}

static enum MHD_Result start(struct api *api, struct MHD_Connection *c, struct req *rq,
			     const char *url, const char *method)
{
	unsigned open = atomic_load(&api->nconn);
	int r;

	/*
	 * Past seven eighths of the connection cap, requests are answered 503 and
	 * their connections closed: the last eighth is headroom so that overload
	 * gets an answer instead of the reset libmicrohttpd gives at the cap.
	 */
	if (open > api->max_conn - api->max_conn / 8) {
		return busy(rq, c, RETRY_BUSY_S, true,
			    "%u connections are open, near the cap of %u (max_connections)", open,
			    api->max_conn);
	}
	if (peer_connections(c) > api->max_per_ip) {
		return busy(rq, c, RETRY_BUSY_S, true,
			    "%u connections are open from this client address (max_per_ip %u)",
			    peer_connections(c), api->max_per_ip);
	}
	if (api->md && on_metrics_listener(api, c) && strcmp(url, "/metrics") != 0) {
		return problem(rq, c, 404, "this listener serves /metrics only");
	}
	if (strcmp(url, "/healthz") != 0 && strcmp(url, "/metrics") != 0 &&
	    strncmp(url, "/api/", 5) != 0) {
		rq->web = true;
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
			return problem_h(rq, c, 405, "the web page is read-only", "Allow",
					 "GET, HEAD");
		}
		rq->answered = true;
		return api_static_serve(c, api->web_root, url);
	}
	if (strcmp(url, "/healthz") != 0) {
		if (api->auth.verify_cmd && api->auth.verify_done) {
			return start_auth(api, c, rq);
		}
		r = api_auth_check(
		    &api->auth,
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
		    rq->who, sizeof(rq->who), &rq->role);
		if (r) {
			return refuse_auth(rq, c, r);
		}
	}
	return route(api, c, rq, url, method);
}

/* After authentication: route, parameters, role, announced body size. */
static enum MHD_Result route(struct api *api, struct MHD_Connection *c, struct req *rq,
			     const char *url, const char *method)
{
	char allow[64], err[200];
	const char *cl;

	switch (api_route_match(method, url, &rq->route, rq->params, allow, sizeof(allow), err,
				sizeof(err))) {
	case API_MATCH_OK:
		break;
	case API_MATCH_NO_PATH:
		return problem(rq, c, 404, "no such resource: %.200s", url);
	case API_MATCH_NO_METHOD:
		return problem_h(rq, c, 405, "method not allowed here", "Allow", allow);
	case API_MATCH_BAD_PARAM:
		return problem(rq, c, 400, "%s", err);
	}
	if (rq->role < rq->route->role) {
		return problem(rq, c, 403, "this needs the %s role; the token has %s",
			       api_role_name(rq->route->role), api_role_name(rq->role));
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > body_limit(api, rq)) {
		if (rq->route->flags & (API_ROUTE_DOCUMENT | API_ROUTE_MANIFEST)) {
			/*
			 * A document is large: a client still sending megabytes would see the
			 * connection reset rather than an early answer, so the body is read and
			 * discarded (within the bound of api_http_on_request) and 413 comes at the
			 * end.
			 */
			rq->too_large = true;
			return MHD_YES;
		}
		return too_large(rq, c, api);
	}
	if (rq->route->cmd == API_CMD_EVENTS) {
		return open_events(api, c, rq);
	}
	if (rq->route->cmd == API_CMD_METRICS) {
		return send_metrics(api, c, rq);
	}
	return MHD_YES;
}

enum MHD_Result api_http_on_request(void *cls, struct MHD_Connection *c, const char *url,
				    const char *method, const char *version,
				    const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct api *api = cls;
	struct req *rq = *con_cls;

	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq) {
			return MHD_NO;
		}
		rq->params = json_object();
		rq->api = api;
		rq->t0_us = now_us();
		for (size_t i = 0; method[i] && i + 1 < sizeof(rq->method); i++) {
			rq->method[i] = method[i] >= 'A' && method[i] <= 'Z' ? method[i] : '?';
		}
		atomic_init(&rq->wake, WAKE_RUNNING);
		*con_cls = rq;
		watch_headers(api, c, false);
		return start(api, c, rq, url, method);
	}
	if (rq->cmd) {
		enum MHD_Result ret;

		if (!wait_resumed(api, c, rq, &ret)) {
			return ret;
		}
		return rq->authing ? auth_resumed(api, c, rq, url, method)
				   : answer_command(api, c, rq);
	}
	if (rq->answered) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (now_us() - rq->t0_us > (long long)api->io_timeout_s * 1000000) {
			return body_too_slow(rq, c, api);
		}
		if (rq->too_large || rq->len + n > body_limit(api, rq)) {
			/*
			 * A chunked body gives no Content-Length.  Answering in the middle of
			 * the upload would make the kernel reset the connection (unread data)
			 * and the client might never see the 413, so read on and discard, but
			 * only up to a bound: past it the peer is hostile and is cut off.
			 */
			rq->too_large = true;
			rq->discarded += n;
			return rq->discarded > 16 * body_limit(api, rq) ? MHD_NO : MHD_YES;
		}
		if (rq->len + n > rq->cap) {
			size_t cap = rq->cap ? rq->cap * 2 : 1024;
			char *p;

			while (cap < rq->len + n) {
				cap *= 2;
			}
			p = realloc(rq->body, cap);
			if (!p) {
				return problem(rq, c, 503, "out of memory");
			}
			rq->body = p;
			rq->cap = cap;
		}
		memcpy(rq->body + rq->len, upload_data, n);
		rq->len += n;
		return MHD_YES;
	}
	if (rq->too_large) {
		return too_large(rq, c, api);
	}
	return finish(api, c, rq);
}

void api_http_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct api *api = cls;
	struct req *rq = *con_cls;

	(void)toe;
	/* A kept-alive connection's next request has the same deadline for its headers. */
	watch_headers(api, c, true);
	if (rq) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
		long long us = now_us() - rq->t0_us;

		/* An event stream's duration is its lifetime, not a latency: counted only. */
		api_metrics_done(api->metrics, c,
				 api_metrics_slot(api->metrics, rq->route, rq->web), rq->method,
				 ci ? ci->http_status : rq->raw_status, us > 0 ? (uint64_t)us : 0,
				 !rq->route || rq->route->cmd != API_CMD_EVENTS);
		if (rq->cmd) {
			unpend(rq->api, rq);
		}
		json_decref(rq->params);
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/*
 * Counts open TCP connections for the overload answer in start(), and keeps
 * the header deadline of each.  libmicrohttpd reports CLOSED before it closes
 * the socket, so the reaper never shuts down a reused descriptor.
 */
void api_http_on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			    enum MHD_ConnectionNotificationCode code)
{
	struct api *api = cls;
	struct conn_watch *w = *socket_ctx;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		atomic_fetch_add(&api->nconn, 1);
		w = calloc(1, sizeof(*w));
		if (w) {
			const union MHD_ConnectionInfo *ca =
			    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

			w->peer = api_peers_add(api->peers, ca ? ca->client_addr : NULL);
		}
		if (w && ci) {
			w->fd = ci->connect_fd;
			pthread_mutex_lock(&api->mtx);
			watch_link(api, w);
			pthread_mutex_unlock(&api->mtx);
		}
		*socket_ctx = w;
		return;
	}
	atomic_fetch_sub(&api->nconn, 1);
	if (w) {
		api_peers_put(api->peers, w->peer);
		pthread_mutex_lock(&api->mtx);
		watch_unlink(api, w);
		pthread_mutex_unlock(&api->mtx);
		free(w);
		*socket_ctx = NULL;
	}
}

/*
 * The reaper thread: a suspended connection has no timeout of its own
 * (libmicrohttpd stops its clock), so requests past their deadline are
 * resumed here to be answered 504, and parked event streams whose keep-alive
 * is due are resumed to write it.
 */
void *api_http_reaper(void *arg)
{
	struct api *api = arg;
	struct timespec ts;
	struct req *rq;
	unsigned tick = 0;

	pthread_mutex_lock(&api->mtx);
	while (!api->reaper_quit) {
		long long now = now_ms();

		for (rq = api->pending; rq; rq = rq->next) {
			if (now >= rq->deadline) {
				api_http_wake(rq);
			}
		}
		/*
		 * Headers past their deadline: shutting the socket down makes the
		 * worker see the end of the stream and close the connection.
		 */
		while (api->watch_head &&
		       now - api->watch_head->since >= (long long)api->io_timeout_s * 1000) {
			struct conn_watch *w = api->watch_head;

			shutdown(w->fd, SHUT_RDWR);
			watch_unlink(api, w);
		}
		pthread_mutex_unlock(&api->mtx);
		api_sse_tick(api->sse, ++tick % PROBE_TICKS == 0);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&api->mtx);
		if (!api->reaper_quit) {
			pthread_cond_timedwait(&api->reaper_cond, &api->mtx, &ts);
		}
	}
	pthread_mutex_unlock(&api->mtx);
	return NULL;
}

void api_event_publish(struct api *api, const char *type, json_t *data)
{
	if (!api) {
		json_decref(data);
		return;
	}
	api_sse_publish(api->sse, type, data);
}
