/*
 * Internal interfaces between the files of api/: the route table, problem
 * responses, authentication, static files and the event hub.  Not for use
 * outside api/ except by its tests and fuzz target.
 */
#ifndef API_API_INT_H
#define API_API_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "api/validate.h"

/* Route command values beyond enum gw_cmd_type: handled inside api/. */
#define API_CMD_EVENTS 1000
#define API_CMD_METRICS 1001

/* The route needs the admin role when its query has export=true. */
#define API_ROUTE_EXPORT_ADMIN 0x1u
/* The route needs the admin role unless its query has partial=true. */
#define API_ROUTE_PARTIAL_VIEWER 0x2u
/*
 * The body is a whole document passed to the core as args "document" (a JSON
 * object, not checked against a schema here), up to API_DOC_BODY_LIMIT bytes
 * (413 beyond).
 */
#define API_ROUTE_DOCUMENT 0x4u
#define API_DOC_BODY_LIMIT (4u * 1024u * 1024u)
/*
 * The body is a commissioning manifest, text/csv or application/json, handed
 * to the core untouched as args "body" (any octets) and "format" ("csv" or
 * "json"), up to API_DOC_BODY_LIMIT bytes; gateway/manifest.h checks it.
 */
#define API_ROUTE_MANIFEST 0x8u

struct api_route {
	const char *method;
	const char *path; /* template: "/api/v1/nodes/{address}/composition/{page}" */
	enum api_role role;
	int cmd;                /* enum gw_cmd_type, or API_CMD_EVENTS */
	const struct vs *body;  /* VS_OBJECT/VS_TAGGED; NULL: no body accepted (unless
				 * API_ROUTE_DOCUMENT) */
	const struct vs *query; /* VS_OBJECT of query parameters; NULL: none */
	unsigned status;        /* default success status */
	unsigned flags;
};

/* The route table (static storage); *n receives its length. */
const struct api_route *api_routes(size_t *n);

enum api_match {
	API_MATCH_OK,
	API_MATCH_NO_PATH,   /* 404 */
	API_MATCH_NO_METHOD, /* 405; allow lists the methods */
	API_MATCH_BAD_PARAM, /* 400; err names the parameter */
};

/*
 * Finds the route for method and path.  On API_MATCH_OK, *route is set and the
 * path parameters are added to params (address/page as integers, ids as
 * strings).  allow (for 405) and err (for 400) are always NUL-terminated.
 */
enum api_match api_route_match(const char *method, const char *path, const struct api_route **route,
			       json_t *params, char *allow, size_t allow_cap, char *err,
			       size_t err_cap);

/* Problems (api/problem.c). */

/* HTTP status for a negative errno from the core; 500 for codes not in the table. */
unsigned api_problem_status(int err);
/* Whether the errno name ("ENOENT") has its own row in the table; its status in *status. */
bool api_problem_known(const char *errno_name, unsigned *status);
/* Returns a new problem object {type, title, status, detail}; detail may be NULL. */
json_t *api_problem_new(unsigned status, const char *detail);
/* The problem type URI for a status (static storage). */
const char *api_problem_type(unsigned status);

/* Authentication (api/auth.c). */

/*
 * Parses an Authorization header and verifies the bearer token.  Returns 0
 * with name and role set; -ENOENT when the header is missing or is not a
 * well-formed bearer credential; -EACCES when the token is refused.
 */
int api_auth_check(const struct api_auth_ops *ops, const char *header, char *name, size_t name_cap,
		   enum api_role *role);
/* Longest token accepted; the gateway's tokens are far shorter (hex of 32 octets). */
#define API_TOKEN_MAX 256

/*
 * The two halves of api_auth_check(), for a verification that is queued
 * rather than called: api_auth_token() copies the bearer token out of an
 * Authorization header into token (cap bytes; wipe it after use) or returns
 * -ENOENT; api_auth_accept() turns a verifier's answer (rc, who, r) into
 * api_auth_check()'s result.
 */
int api_auth_token(const char *header, char *token, size_t cap);
int api_auth_accept(int rc, char *who, size_t who_cap, enum api_role r, char *name, size_t name_cap,
		    enum api_role *role);
/* "viewer", "operator", "admin" or "none" (static storage). */
const char *api_role_name(enum api_role role);

/* Static files (api/static.c). */

/*
 * Queues a response for a GET/HEAD of url below root (a canonical directory
 * path).  Paths that leave root, hidden files and non-regular files get 404.
 */
enum MHD_Result api_static_serve(struct MHD_Connection *c, const char *root, const char *url);
/* The Content-Type for a file name (static storage). */
const char *api_static_type(const char *name);

/* Server-Sent Events (api/sse.c). */

struct api_sse;

/*
 * Returns a new hub; free with api_sse_free() after every stream has ended.
 * max_total and max_per_token cap the streams open at once (0 = no cap).
 */
struct api_sse *api_sse_new(int keepalive_ms, unsigned max_total, unsigned max_per_token);
void api_sse_free(struct api_sse *hub);
/* Thread-safe; steals data. */
void api_sse_publish(struct api_sse *hub, const char *type, json_t *data);
/*
 * Returns a new streaming response for conn registered with the hub under
 * the principal who (replaying events after last_id when has_last), or NULL
 * with *err = -EUSERS (max_total streams are open), -EDQUOT (who has
 * max_per_token) or -ENOMEM.  The daemon must allow suspend/resume: the
 * stream parks conn while it has nothing to send.
 */
struct MHD_Response *api_sse_response(struct api_sse *hub, struct MHD_Connection *conn,
				      const char *who, bool has_last, uint64_t last_id, int *err);
/*
 * Periodically (a fraction of the keep-alive interval): wakes the parked
 * streams whose keep-alive comment is due and, with probe, ends those whose
 * client has closed its socket (so they give their slot back in about one
 * probe interval rather than one keep-alive).
 */
void api_sse_tick(struct api_sse *hub, bool probe);
/*
 * stopping = true ends every stream now (parked ones are resumed to end) and
 * makes new ones end at once (call it before MHD_stop_daemon); false allows
 * streams again (api_start()).
 */
void api_sse_shutdown(struct api_sse *hub, bool stopping);
/* Event streams open now (thread-safe). */
unsigned api_sse_clients(struct api_sse *hub);

/* Connections per client address (api/peers.c); thread-safe. */

struct api_peers;
struct api_peer;
struct sockaddr;

/* Returns a new empty table; free with api_peers_free() once no connection is open. */
struct api_peers *api_peers_new(void);
void api_peers_free(struct api_peers *p);
/*
 * A connection from sa opened: its address's entry with the count raised,
 * or NULL (not IPv4/IPv6, or out of memory: then it is not counted).  The
 * entry stays valid until the matching api_peers_put().
 */
struct api_peer *api_peers_add(struct api_peers *p, const struct sockaddr *sa);
/* That connection closed (NULL accepted): the count drops, the entry goes at zero. */
void api_peers_put(struct api_peers *p, struct api_peer *e);
/* Connections open from e's address now (0 for NULL). */
unsigned api_peer_count(const struct api_peer *e);

/* HTTP request metrics (api/metrics.c): atomics, safe from every worker thread. */

struct api_metrics;
struct prom;

/* Slots after the route table's: the static web page, and requests answered before routing. */
#define API_METRICS_WEB 0
#define API_METRICS_NONE 1

/* Returns new zeroed figures for the route table; free with api_metrics_free(). */
struct api_metrics *api_metrics_new(void);
void api_metrics_free(struct api_metrics *m);
/* The slot of a request: its route, else the web page (web) or "none". */
size_t api_metrics_slot(const struct api_metrics *m, const struct api_route *rt, bool web);
/* The route label of a slot: a template ("/api/v1/nodes/{address}"), "web" or "none". */
const char *api_metrics_route_name(const struct api_metrics *m, size_t slot);
/*
 * Counts a completed request of slot answered with status; with timed, its
 * duration us (microseconds) goes into the latency histogram too.
 */
void api_metrics_observe(struct api_metrics *m, size_t slot, unsigned status, uint64_t us,
			 bool timed);
/* Writes the request counters and latency histograms. */
void api_metrics_render(const struct api_metrics *m, struct prom *p);
/*
 * The whole /metrics page: m's families, the connection and event-stream
 * gauges, build information, then ops->collect's.  Returns a new string
 * (free()) with its length in *len, or NULL when out of memory.
 */
char *api_metrics_page(const struct api_metrics *m, unsigned connections, unsigned streams,
		       const struct api_metrics_ops *ops, size_t *len);
/*
 * A request ended: counted (api_metrics_observe()) and, at verbosity 1, one
 * log line with its method, route label, status, duration and client
 * address: never its path, query or headers, which may carry secrets.
 * status 0 (no response was queued: the client went away) is logged only.
 */
void api_metrics_done(struct api_metrics *m, struct MHD_Connection *c, size_t slot,
		      const char *method, unsigned status, uint64_t us, bool timed);

#endif
