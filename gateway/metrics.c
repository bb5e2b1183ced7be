/*
 * GET /metrics' gateway families (metrics.h): the loop's snapshot of the
 * services and the counters of stats.h, rendered for any thread.
 */
#include "gateway/metrics.h"

#include <string.h>

#include "api/prom.h"
#include "gateway/gw_int.h"

static const char *const ad_names[GW_STATS_AD_N] = {
    [GW_STATS_AD_MESSAGE] = "mesh_message",
    [GW_STATS_AD_BEACON] = "mesh_beacon",
    [GW_STATS_AD_PB_ADV] = "pb_adv",
    [GW_STATS_AD_OTHER] = "other",
};

/* Loop thread: computes the gauges aside, then publishes them in one short critical section. */
static void refresh(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct gw *gw = ctx;
	struct gw_stats *s = &gw->core.stats;
	struct gw_stats_snap n = {.valid = true};
	struct gw_bearer_state bs;

	(void)id;
	gw_bearer_state(gw->core.bearer, &bs);
	n.bearer = (int)bs.status;
	if (store_node_count(gw->core.st, NULL, &n.nodes)) {
		n.nodes = s->snap.nodes; /* keep the last figure through a busy database */
	}
	gw_prov_count_states(gw->prov, n.sessions);
	n.n_kinds = gw_jobs_count(gw->jobs, n.kind, n.jobs, GW_STATS_KINDS);
	pthread_mutex_lock(&s->mtx);
	s->snap = n;
	pthread_mutex_unlock(&s->mtx);
	s->timer = gw_loop_timer_at(loop, gw_loop_now(loop) + GW_STATS_REFRESH_MS, refresh, gw);
}

void gw_metrics_start(struct gw *gw)
{
	refresh(gw->core.loop, 0, gw);
}

void gw_metrics_stop(struct gw *gw)
{
	if (gw->core.stats.timer) {
		(void)gw_loop_timer_cancel(gw->core.loop, gw->core.stats.timer);
		gw->core.stats.timer = 0;
	}
}

static void packets(struct prom *out, const char *name, const char *help,
		    _Atomic uint64_t *const dir)
{
	prom_family(out, name, "counter", help);
	for (size_t i = 0; i < GW_STATS_AD_N; i++) {
		const char *l[] = {"ad_type", ad_names[i], NULL};

		prom_u64(out, name, l, atomic_load_explicit(&dir[i], memory_order_relaxed));
	}
}

static void ended(struct prom *out, const char *name, const char *help,
		  const struct gw_stats_snap *n, _Atomic uint64_t (*table)[GW_STATS_ENDS],
		  bool failed)
{
	static const char *const states[GW_STATS_ENDS] = {
	    [GW_STATS_END_DONE] = "done",
	    [GW_STATS_END_FAILED] = "failed",
	    [GW_STATS_END_CANCELLED] = "cancelled",
	};

	prom_family(out, name, "counter", help);
	for (size_t k = 0; k < n->n_kinds; k++) {
		for (size_t e = 0; e < GW_STATS_ENDS; e++) {
			const char *l[] = {"kind", n->kind[k], "state", states[e], NULL};

			if (e == GW_STATS_END_FAILED && !failed) {
				continue;
			}
			prom_u64(out, name, l,
				 atomic_load_explicit(&table[k][e], memory_order_relaxed));
		}
	}
}

void gw_metrics_collect(void *ctx, struct prom *out)
{
	static const enum gw_bearer_status states[] = {GW_BEARER_STARTING, GW_BEARER_READY,
						       GW_BEARER_DOWN, GW_BEARER_FAILED};
	struct gw *gw = ctx;
	struct gw_stats *s = &gw->core.stats;
	struct gw_stats_snap n;
	size_t i;

	pthread_mutex_lock(&s->mtx);
	n = s->snap;
	pthread_mutex_unlock(&s->mtx);

	packets(out, "meshgw_bearer_packets_sent_total",
		"AD structures handed to the bearer, by AD type", s->tx);
	packets(out, "meshgw_bearer_packets_received_total",
		"AD structures received from the bearer, by AD type", s->rx);
	if (!n.valid) {
		return;
	}
	prom_family(out, "meshgw_bearer_state", "gauge",
		    "1 for the bearer's current state, 0 for the others");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		const char *l[] = {"state", gw_bearer_status_name(states[i]), NULL};

		prom_u64(out, "meshgw_bearer_state", l, n.bearer == (int)states[i]);
	}
	prom_family(out, "meshgw_provisioning_sessions", "gauge",
		    "Provisioning and refresh sessions of unfinished jobs, by state");
	for (i = 0; i < GW_STATS_SESSION_STATES; i++) {
		const char *l[] = {"state", gw_prov_state_name((unsigned)i), NULL};

		prom_u64(out, "meshgw_provisioning_sessions", l, n.sessions[i]);
	}
	prom_family(out, "meshgw_jobs", "gauge", "Unfinished jobs, by kind and state");
	for (i = 0; i < n.n_kinds; i++) {
		const char *run[] = {"kind", n.kind[i], "state", "running", NULL};
		const char *paused[] = {"kind", n.kind[i], "state", "paused", NULL};

		prom_u64(out, "meshgw_jobs", run, n.jobs[i][0]);
		prom_u64(out, "meshgw_jobs", paused, n.jobs[i][1]);
	}
	ended(out, "meshgw_jobs_ended_total", "Jobs finished since start, by kind and state", &n,
	      s->jobs_ended, false);
	ended(out, "meshgw_job_targets_ended_total",
	      "Job targets (a device to provision, a node to refresh or remove...) finished by an "
	      "attempt since start, by kind and state (targets cancelled before any attempt are "
	      "not counted)",
	      &n, s->targets_ended, true);
	prom_family(out, "meshgw_nodes", "gauge", "Nodes in the inventory");
	prom_u64(out, "meshgw_nodes", NULL, n.nodes);
}
