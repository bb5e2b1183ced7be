/*
 * REST API v1 (openapi.yaml) over libmicrohttpd (../shared/style.md §2.2, §2.7).
 *
 * The API runs libmicrohttpd event-driven: a small fixed pool of epoll
 * threads (api_conf.threads) serves every connection.  A request is
 * validated on its worker thread, turned into a struct gw_cmd and pushed to
 * the gateway's command queue; its connection is then suspended, not a
 * thread, and the command's completion resumes exactly that connection
 * (libmicrohttpd manual, "Suspending connections"), which is answered on
 * the next pass of its worker.  Server-Sent Events work the same way: an
 * idle stream is a suspended connection that a publish resumes.  So slow or
 * idle clients cost memory (bounded per connection), not threads, and the
 * API keeps answering while thousands of them are connected.
 *
 * Caps, each answered 503 with Retry-After (problem+json naming the cap):
 * connections (past 7/8 of max_connections; libmicrohttpd itself refuses
 * beyond it), requests waiting for the core (max_pending), event streams in
 * total and per token, connections from one client address (max_per_ip;
 * libmicrohttpd itself closes connections an eighth beyond it, at least 8).
 * A request body still arriving io_timeout_s after its headers is answered 408
 * and its connection closed.
 *
 * Token verification is a command too when the gateway supplies
 * api_auth_ops.verify_cmd (meshgw does): the request is suspended meanwhile.
 * A plain verify() is called on the worker thread and blocks it.
 *
 * Reads that need neither the stack nor a write may be answered on the
 * worker thread itself (api_set_reads()): the gateway serves them from a
 * read-only database handle of the thread, so they never queue behind the
 * radio.  Whatever it declines goes to the queue as before.
 *
 * Nothing in api/ calls store_* or mesh_*: it builds commands only.
 */
#ifndef API_API_H
#define API_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct api;
struct gw_cmd;
struct gw_cmdq;
struct prom;

/* Ordered: a role may do everything the roles below it may do. */
enum api_role {
	API_ROLE_NONE = 0, /* unauthenticated: /healthz and the static page only */
	API_ROLE_VIEWER,   /* reads (GET) */
	API_ROLE_OPERATOR, /* scans, provisioning, node configuration, OnOff */
	API_ROLE_ADMIN,    /* keys (create, export) and tokens */
};

/*
 * Token verification, supplied by the gateway (which stores SHA-256 hashes and
 * compares in constant time).  verify() is called from HTTP threads, so it
 * must be thread-safe.  It returns 0 and writes the principal's name
 * (NUL-terminated, at most name_cap bytes) and role, or -EACCES for an
 * unknown or revoked token.  The token is borrowed for the call only.
 */
struct api_auth_ops {
	void *ctx;
	int (*verify)(void *ctx, const char *token, char *name, size_t name_cap,
		      enum api_role *role);
	/*
	 * Optional, and then used instead of verify(): the same check as a
	 * command for the queue, so that no worker thread waits for it.
	 * verify_cmd() returns a new command (gw_cmd_new()'s two references) or
	 * NULL; the API queues it, suspends the request and, once it completed,
	 * calls verify_done() (any thread), which answers as verify() would.
	 */
	struct gw_cmd *(*verify_cmd)(void *ctx, const char *token);
	int (*verify_done)(void *ctx, const struct gw_cmd *cmd, char *name, size_t name_cap,
			   enum api_role *role);
};

/*
 * GET /metrics (Prometheus text format 0.0.4, viewer role): the API writes its
 * own families (requests by route and status, latency, connections, event
 * streams, build information), then collect() appends the gateway's.
 * collect() runs on an HTTP worker thread at every scrape and must neither
 * block on the event loop nor take its locks: it reads figures the loop keeps
 * in atomics.  Optional (NULL: the API's families only).
 */
struct api_metrics_ops {
	void *ctx;
	void (*collect)(void *ctx, struct prom *out);
};

struct api_conf {
	const char *bind_addr;    /* IPv4 or IPv6 literal; NULL = "127.0.0.1" */
	uint16_t port;            /* 0 = ephemeral (see api_port()) */
	const char *tls_cert;     /* PEM file path; TLS when both are set */
	const char *tls_key;      /* PEM file path */
	size_t body_limit;        /* request body bytes; 0 = 64 KiB */
	int cmd_timeout_ms;       /* wait for the core; 0 = 20000 */
	const char *web_root;     /* directory served at "/"; NULL = none */
	unsigned max_connections; /* 0 = 4096; lowered to what RLIMIT_NOFILE allows */
	unsigned max_per_ip;      /* connections from one client address; 0 = 256 */
	unsigned threads;         /* worker threads; 0 = one per online CPU (at most 16) */
	/*
	 * Seconds a connection may stay idle while a request is read or between
	 * requests, and the most a request's headers, then its body, may take in
	 * all; 0 = 10.
	 */
	unsigned io_timeout_s;
	unsigned max_streams;           /* event streams at once; 0 = 1024 */
	unsigned max_streams_per_token; /* event streams of one principal; 0 = 64 */
	unsigned max_pending;           /* requests waiting for the core; 0 = 1024 */
	int sse_keepalive_ms;           /* comment line on idle event streams; 0 = 15000 */
	/*
	 * A second listener that serves GET /metrics only (same token check), so
	 * that the scrape can be reached on another address than the API; NULL =
	 * none (/metrics is on the API listener either way).  Plain HTTP.
	 */
	const char *metrics_addr;
	uint16_t metrics_port;
	struct api_metrics_ops metrics; /* copied */
};

/*
 * Returns a new API bound to nothing yet; free with api_free().  conf's strings
 * are copied; q and auth are borrowed and must outlive the API.  NULL when
 * conf is invalid (bad bind address, only one of tls_cert/tls_key) or on
 * allocation failure.
 */
struct api *api_new(const struct api_conf *conf, struct gw_cmdq *q,
		    const struct api_auth_ops *auth);

/*
 * Reads the TLS files (if any), raises the soft RLIMIT_NOFILE if
 * max_connections needs it, binds and starts serving.  Returns 0, -EALREADY
 * when started, -EIO when a TLS file cannot be read, -ENOTSUP when TLS is
 * asked for and libmicrohttpd lacks it, or -EADDRINUSE/-EINVAL when the
 * daemon cannot start.
 */
int api_start(struct api *api);

/* The bound TCP port once started (the real one when conf->port was 0), else 0. */
uint16_t api_port(const struct api *api);
/* The same for the metrics listener (0 when there is none). */
uint16_t api_metrics_port(const struct api *api);

/*
 * Stops accepting, ends every event stream and stops the worker threads.  A
 * request still waiting for the core is resumed and dropped at once, so this
 * returns promptly even while the loop thread is the caller and cannot
 * answer.  Idempotent.
 */
void api_stop(struct api *api);

/*
 * Reads answered on the worker thread, supplied by the gateway.  serve() is
 * called concurrently from every worker thread with a validated request's
 * command type and arguments (as the command would carry them, borrowed):
 * it returns 0 with *result (a new reference: the response body, as the
 * command's result would be), a negative errno with a sentence in detail
 * (answered as the command's failure would be), or -ENOSYS to decline (the
 * request then goes through the queue).
 */
struct api_read_ops {
	void *ctx;
	int (*serve)(void *ctx, int cmd, const json_t *args, json_t **result, char *detail,
		     size_t detail_cap);
};

/* Before api_start(): use ops (copied; ctx borrowed) for reads.  NULL: every request is queued. */
void api_set_reads(struct api *api, const struct api_read_ops *ops);

/* Stops (if needed) and frees; wipes the TLS key.  Accepts NULL. */
void api_free(struct api *api);

/*
 * Any thread (normally the loop): send an event to every connected event
 * stream (GET /api/v1/events) as "event: <type>" with data, the JSON
 * compactly encoded.  Steals the reference to data (NULL is sent as {}).
 * type is copied; it must be a short token without newlines (else dropped).
 */
void api_event_publish(struct api *api, const char *type, json_t *data);

#endif
