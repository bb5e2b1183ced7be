/*
 * The gateway's families for GET /metrics (api/api.h, struct
 * api_metrics_ops): the loop refreshes a snapshot of the services (bearer,
 * provisioning sessions, jobs, inventory size) into core->stats
 * (gateway/stats.h) every GW_STATS_REFRESH_MS, and any thread renders it
 * with the counters.  Above the services: nothing below includes it.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

struct gw;
struct prom;

/* Loop thread: refresh the snapshot now and every GW_STATS_REFRESH_MS; stop cancels. */
void gw_metrics_start(struct gw *gw);
void gw_metrics_stop(struct gw *gw);

/*
 * Any thread: the gateway's metric families (an api_metrics_ops.collect).
 * ctx is the struct gw; it must outlive the API.
 */
void gw_metrics_collect(void *ctx, struct prom *out);

#endif
