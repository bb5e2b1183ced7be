#include "api/api_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/prom.h"
#include "gateway/log.h"

/*
 * HTTP request figures for GET /metrics: counts by route template and status
 * code, and a latency histogram per route.  Every counter is an atomic that
 * the worker threads bump when a request completes, so recording costs a few
 * relaxed additions and no lock, and a scrape reads them without stopping
 * anyone.  The label sets are bounded: the route table's templates (never a
 * raw path) plus "web" and "none", and the status codes the API answers with
 * (any other code counts under "other").
 */

/* Upper bounds of the latency buckets, seconds: 0.5 ms to 30 s. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
				0.25,   0.5,   1,      2.5,   5,    10,    30};
#define NB (sizeof(bounds) / sizeof(bounds[0]))

static const unsigned codes[] = {200, 201, 202, 204, 206, 304, 400, 401, 403,
				 404, 405, 408, 409, 410, 412, 413, 415, 416,
				 422, 429, 431, 500, 501, 502, 503, 504, 507};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

struct slot {
	_Atomic uint64_t req[NCODES + 1]; /* the last one: "other" */
	_Atomic uint64_t hist[NB + 1];    /* per bucket, the last one above every bound */
	_Atomic uint64_t sum_us;
};

struct api_metrics {
	const struct api_route *routes;
	size_t nroutes;
	struct slot *slots; /* nroutes, then API_METRICS_WEB, then API_METRICS_NONE */
};

struct api_metrics *api_metrics_new(void)
{
	struct api_metrics *m = calloc(1, sizeof(*m));

	if (!m) {
		return NULL;
	}
	m->routes = api_routes(&m->nroutes);
	m->slots = calloc(m->nroutes + 2, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	for (size_t i = 0; i < m->nroutes + 2; i++) {
		struct slot *s = &m->slots[i];

		for (size_t k = 0; k <= NCODES; k++) {
			atomic_init(&s->req[k], 0);
		}
		for (size_t k = 0; k <= NB; k++) {
			atomic_init(&s->hist[k], 0);
		}
		atomic_init(&s->sum_us, 0);
	}
	return m;
}

void api_metrics_free(struct api_metrics *m)
{
	if (m) {
		free(m->slots);
		free(m);
	}
}

size_t api_metrics_slot(const struct api_metrics *m, const struct api_route *rt, bool web)
{
	if (rt && rt >= m->routes && rt < m->routes + m->nroutes) {
		return (size_t)(rt - m->routes);
	}
	return m->nroutes + (web ? API_METRICS_WEB : API_METRICS_NONE);
}

const char *api_metrics_route_name(const struct api_metrics *m, size_t slot)
{
	if (slot < m->nroutes) {
		return m->routes[slot].path;
	}
	return slot - m->nroutes == API_METRICS_WEB ? "web" : "none";
}

void api_metrics_observe(struct api_metrics *m, size_t slot, unsigned status, uint64_t us,
			 bool timed)
{
	struct slot *s;
	size_t k, b;

	if (!m || slot >= m->nroutes + 2) {
		return;
	}
	s = &m->slots[slot];
	for (k = 0; k < NCODES && codes[k] != status; k++) {
	}
	atomic_fetch_add_explicit(&s->req[k], 1, memory_order_relaxed);
	if (!timed) {
		return;
	}
	for (b = 0; b < NB && (double)us > bounds[b] * 1e6; b++) {
	}
	atomic_fetch_add_explicit(&s->hist[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_us, us, memory_order_relaxed);
}

void api_metrics_render(const struct api_metrics *m, struct prom *p)
{
	const size_t n = m->nroutes + 2;
	char code[8];
	size_t i, k;

	prom_family(p, "meshgw_http_requests_total", "counter",
		    "HTTP requests answered, by route template, method and status code");
	for (i = 0; i < n; i++) {
		const char *method = i < m->nroutes ? m->routes[i].method : "*";

		for (k = 0; k <= NCODES; k++) {
			uint64_t v =
			    atomic_load_explicit(&m->slots[i].req[k], memory_order_relaxed);
			const char *labels[] = {
			    "route", api_metrics_route_name(m, i), "method", method, "code", code,
			    NULL};

			if (!v) {
				continue;
			}
			if (k < NCODES) {
				snprintf(code, sizeof(code), "%u", codes[k]);
			} else {
				snprintf(code, sizeof(code), "other");
			}
			prom_u64(p, "meshgw_http_requests_total", labels, v);
		}
	}
	prom_family(p, "meshgw_http_request_duration_seconds", "histogram",
		    "Time from a request's headers to its completed response, by route "
		    "template and method (event streams are counted, not timed)");
	for (i = 0; i < n; i++) {
		uint64_t counts[NB + 1], total = 0;
		const char *labels[] = {"route", api_metrics_route_name(m, i), "method",
					i < m->nroutes ? m->routes[i].method : "*", NULL};

		for (k = 0; k <= NB; k++) {
			counts[k] =
			    atomic_load_explicit(&m->slots[i].hist[k], memory_order_relaxed);
			total += counts[k];
		}
		if (!total) {
			continue;
		}
		prom_histogram(
		    p, "meshgw_http_request_duration_seconds", labels, bounds, NB, counts,
		    (double)atomic_load_explicit(&m->slots[i].sum_us, memory_order_relaxed) / 1e6);
	}
}

char *api_metrics_page(const struct api_metrics *m, unsigned connections, unsigned streams,
		       const struct api_metrics_ops *ops, size_t *len)
{
	const char *build[] = {"version", MESHGW_VERSION, "libmicrohttpd", MHD_get_version(), NULL};
	struct prom p;

	prom_init(&p);
	api_metrics_render(m, &p);
	prom_family(&p, "meshgw_http_connections", "gauge",
		    "TCP connections open to the API (and metrics) listeners");
	prom_u64(&p, "meshgw_http_connections", NULL, connections);
	prom_family(&p, "meshgw_event_stream_clients", "gauge",
		    "Event streams (GET /api/v1/events) connected");
	prom_u64(&p, "meshgw_event_stream_clients", NULL, streams);
	prom_family(&p, "meshgw_build_info", "gauge", "Always 1; the labels name the build");
	prom_u64(&p, "meshgw_build_info", build, 1);
	if (ops && ops->collect) {
		ops->collect(ops->ctx, &p);
	}
	return prom_take(&p, len);
}

void api_metrics_done(struct api_metrics *m, struct MHD_Connection *c, size_t slot,
		      const char *method, unsigned status, uint64_t us, bool timed)
{
	const union MHD_ConnectionInfo *ci;
	char addr[INET6_ADDRSTRLEN] = "?";

	if (status) {
		api_metrics_observe(m, slot, status, us, timed);
	}
	if (log_verbosity() < 1) {
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, addr,
			  sizeof(addr));
	} else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr,
			  addr, sizeof(addr));
	}
	if (status) {
		log_info("http %s %s %u %llu.%03llu ms %s", method, api_metrics_route_name(m, slot),
			 status, (unsigned long long)(us / 1000), (unsigned long long)(us % 1000),
			 addr);
	} else {
		log_info("http %s %s closed before an answer after %llu ms %s", method,
			 api_metrics_route_name(m, slot), (unsigned long long)(us / 1000), addr);
	}
}
