/*
 * REST API v1 (openapi.yaml) over libmicrohttpd (../shared/style.md §2.2, §2.7).
 *
 * The API runs in libmicrohttpd's thread-per-connection mode: every request is
 * validated in its connection thread, turned into a struct gw_cmd and pushed
 * to the gateway's command queue, and the thread then blocks on the command
 * with a deadline.  Blocking in the access handler is allowed only in that
 * mode (libmicrohttpd manual, "Flow control"), and it keeps the request path
 * a straight line: no suspend/resume state machine and no callback from the
 * loop thread into HTTP code.  The cost is one thread per open connection,
 * bounded by api_conf.max_connections.  Server-Sent Events use the same
 * property: the content reader of an event stream waits on a condition
 * variable for the next event.
 *
 * Nothing in api/ calls store_* or mesh_*: it builds commands only.
 */
#ifndef API_API_H
#define API_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct api;
struct gw_cmdq;

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
};

struct api_conf {
	const char *bind_addr;    /* IPv4 or IPv6 literal; NULL = "127.0.0.1" */
	uint16_t port;            /* 0 = ephemeral (see api_port()) */
	const char *tls_cert;     /* PEM file path; TLS when both are set */
	const char *tls_key;      /* PEM file path */
	size_t body_limit;        /* request body bytes; 0 = 64 KiB */
	int cmd_timeout_ms;       /* wait for the core; 0 = 20000 */
	const char *web_root;     /* directory served at "/"; NULL = none */
	unsigned max_connections; /* 0 = 64 */
	int sse_keepalive_ms;     /* comment line on idle event streams; 0 = 15000 */
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
 * Reads the TLS files (if any), binds and starts serving.  Returns 0, -EALREADY
 * when started, -EIO when a TLS file cannot be read, -ENOTSUP when TLS is
 * asked for and libmicrohttpd lacks it, or -EADDRINUSE/-EINVAL when the
 * daemon cannot start.
 */
int api_start(struct api *api);

/* The bound TCP port once started (the real one when conf->port was 0), else 0. */
uint16_t api_port(const struct api *api);

/*
 * Stops accepting, ends every event stream and waits for the connection
 * threads.  A request still waiting for the core is answered 503 within about
 * 200 ms, so this returns promptly even while the loop thread is the caller
 * and cannot answer.  Idempotent.
 */
void api_stop(struct api *api);

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
