/*
 * Internals shared by api/http.c (requests: lifecycle, authentication,
 * validation, the wait on the command queue) and api/http_daemon.c (the
 * daemon's set-up and teardown).  Not a public header.
 */
#ifndef API_HTTP_INT_H
#define API_HTTP_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "api/api_int.h"

#define DEFAULT_BODY_LIMIT (64u * 1024u)
#define DEFAULT_TIMEOUT_MS 20000
#define DEFAULT_MAX_CONN 4096u
#define DEFAULT_MAX_PER_IP 256u
#define MAX_AUTO_THREADS 16u /* threads = 0: one per online CPU, at most this */
#define DEFAULT_IO_TIMEOUT_S 10u
#define DEFAULT_MAX_STREAMS 1024u
#define DEFAULT_MAX_STREAMS_PER_TOKEN 64u
#define DEFAULT_MAX_PENDING 1024u
/*
 * libmicrohttpd's memory pool per connection: request line, headers and the
 * response headers live in it (a header block beyond about half of it is
 * answered 431).  Bodies are copied out to struct req as they arrive.
 */
#define CONN_MEMORY_LIMIT (32u * 1024u)
/* File descriptors kept for the rest of the process (database, bearer, logs). */
#define FD_RESERVE 128u
/* How often the reaper looks at deadlines and keep-alives. */
#define TICK_MS 100
/* Every this many ticks, parked event streams are checked for a closed peer. */
#define PROBE_TICKS 10
/* Seconds a client is asked to wait (Retry-After) when a cap answers 503. */
#define RETRY_BUSY_S 1
#define RETRY_STREAMS_S 10
/* Connections the metrics listener takes at once (a few scrapers). */
#define METRICS_MAX_CONN 64u

/* struct req.wake: whether the request's connection is suspended. */
enum {
	WAKE_RUNNING = 0,
	WAKE_SUSPENDED = 1
};

struct api {
	struct gw_cmdq *q;
	struct api_auth_ops auth;
	struct api_read_ops reads; /* serve == NULL: every request is queued */
	char *bind_addr;
	uint16_t port;
	char *tls_cert_path, *tls_key_path;
	char *cert_pem, *key_pem;
	size_t key_len;
	size_t body_limit;
	int timeout_ms;
	char *web_root; /* canonical (realpath) or NULL */
	unsigned max_conn, max_per_ip, threads, io_timeout_s, max_streams, max_streams_per_token;
	unsigned max_pending;
	struct api_sse *sse;
	struct MHD_Daemon *d;
	/* GET /metrics: request figures, the gateway's, and the optional second listener. */
	struct api_metrics *metrics;
	struct api_metrics_ops mops;
	char *metrics_addr; /* NULL: /metrics on the API listener only */
	uint16_t metrics_port;
	struct MHD_Daemon *md;
	uint16_t bound_port;
	atomic_bool stopping;
	atomic_uint nconn;       /* TCP connections open (NOTIFY_CONNECTION) */
	atomic_uint npending;    /* requests whose command is with the loop */
	struct api_peers *peers; /* connections per client address (max_per_ip) */
	/* Requests suspended on a command, for the reaper and api_stop(). */
	pthread_mutex_t mtx;
	struct req *pending;
	/* Connections reading a request's headers, oldest first. */
	struct conn_watch *watch_head, *watch_tail;
	/* The reaper: deadlines of suspended requests and stream keep-alives. */
	pthread_t reaper;
	pthread_cond_t reaper_cond; /* CLOCK_MONOTONIC; signalled by api_stop() */
	bool reaper_on, reaper_quit;
};

/*
 * Per-connection state (libmicrohttpd's socket context): while a request's
 * headers are being read the connection is on api->watch, and the reaper
 * shuts it down io_timeout_s after the headers began, however slowly they
 * trickle in (libmicrohttpd's own timeout only measures idle time, which one
 * header line every few seconds resets forever).
 */
struct conn_watch {
	int fd;
	long long since; /* CLOCK_MONOTONIC ms */
	bool listed;
	struct conn_watch *prev, *next;
	struct api_peer *peer; /* the client address's count */
};

/* Per-request state, from the first call of the access handler to completion. */
struct req {
	const struct api_route *route;
	json_t *params;
	char who[64];
	enum api_role role;
	char *body;
	size_t len, cap;
	bool answered;  /* a response is queued; the rest of the body is discarded */
	bool too_large; /* the body grew over the limit; answered 413 at its end */
	size_t discarded;
	/*
	 * While the command is with the loop the connection is suspended, not a
	 * thread: whoever moves wake from SUSPENDED to RUNNING (the completion,
	 * the reaper at the deadline, api_stop()) resumes it, exactly once, and
	 * libmicrohttpd then calls the access handler again.
	 */
	struct api *api;
	struct MHD_Connection *conn;
	struct gw_cmd *cmd;
	bool authing;       /* cmd is the token check (api_auth_ops.verify_cmd) */
	long long deadline; /* CLOCK_MONOTONIC ms */
	atomic_int wake;
	struct req *prev, *next; /* in api->pending while cmd is set */
	/* For the metrics and the request log. */
	long long t0_us;     /* CLOCK_MONOTONIC microseconds when the headers were in */
	bool web;            /* a static file of the web page */
	char method[12];     /* sanitised: letters only */
	unsigned raw_status; /* an answer written around libmicrohttpd (body_too_slow()) */
};

/* libmicrohttpd's callbacks (cls: the struct api). */
enum MHD_Result api_http_on_request(void *cls, struct MHD_Connection *c, const char *url,
				    const char *method, const char *version, const char *upload,
				    size_t *upload_len, void **con_cls);
void api_http_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			   enum MHD_RequestTerminationCode toe);
void api_http_on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			    enum MHD_ConnectionNotificationCode code);
/* The reaper thread (arg: the struct api): deadlines and stream keep-alives. */
void *api_http_reaper(void *arg);
/* Resume a suspended request, once (from any thread). */
void api_http_wake(struct req *rq);

#endif
