/*
 * The counters and the snapshot behind GET /metrics, kept by the event loop
 * and read by HTTP worker threads without waiting for it (gateway/metrics.h
 * fills the snapshot and renders them).
 *
 *   - Packets through the bearer, by AD type: relaxed atomic counters bumped
 *     where the core hands an AD structure to the bearer or gets one from it.
 *   - Gauges the loop alone can compute (bearer state, provisioning sessions
 *     by state, unfinished jobs by kind and state, inventory size): a
 *     snapshot the loop refreshes every GW_STATS_REFRESH_MS and copies in
 *     under a mutex held for that copy only, so a scrape may be that much
 *     behind but never queues behind a busy loop.
 */
#ifndef GW_STATS_H
#define GW_STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define GW_STATS_REFRESH_MS 1000
#define GW_STATS_KINDS 16 /* job kinds shown (the engine registers fewer) */
#define GW_STATS_SESSION_STATES 6

/* AD types counted apart (Mesh Profile §3.3.1, Assigned Numbers); the rest is "other". */
enum gw_stats_ad {
	GW_STATS_AD_MESSAGE, /* 0x2a Mesh Message */
	GW_STATS_AD_BEACON,  /* 0x2b Mesh Beacon */
	GW_STATS_AD_PB_ADV,  /* 0x29 PB-ADV */
	GW_STATS_AD_OTHER,
	GW_STATS_AD_N
};

/* How a job or a target ended (a job is never "failed": its targets are). */
enum gw_stats_end {
	GW_STATS_END_DONE,
	GW_STATS_END_FAILED,
	GW_STATS_END_CANCELLED,
	GW_STATS_ENDS
};

struct gw_stats_snap {
	bool valid; /* refreshed at least once */
	int bearer; /* enum gw_bearer_status */
	size_t nodes;
	unsigned sessions[GW_STATS_SESSION_STATES]; /* gw_prov_count_states()' order */
	size_t n_kinds;
	const char *kind[GW_STATS_KINDS]; /* the registered kinds' names (static storage) */
	unsigned jobs[GW_STATS_KINDS][2]; /* unfinished: running, paused */
};

struct gw_stats {
	_Atomic uint64_t tx[GW_STATS_AD_N], rx[GW_STATS_AD_N];
	/* Since start, by job kind (the engine's registration order): jobs and targets ended. */
	_Atomic uint64_t jobs_ended[GW_STATS_KINDS][GW_STATS_ENDS];
	_Atomic uint64_t targets_ended[GW_STATS_KINDS][GW_STATS_ENDS];
	pthread_mutex_t mtx; /* guards snap */
	struct gw_stats_snap snap;
	uint64_t timer; /* the loop's refresh timer */
};

/* Zeroes the counters; the snapshot is invalid until gw_metrics_start() (metrics.h). */
void gw_stats_init(struct gw_stats *s);
void gw_stats_destroy(struct gw_stats *s);

/* Loop thread: one AD structure of ad_type sent (tx) or received (rx). */
static inline void gw_stats_ad(_Atomic uint64_t *dir, uint8_t ad_type)
{
	enum gw_stats_ad k = ad_type == 0x2a   ? GW_STATS_AD_MESSAGE
			     : ad_type == 0x2b ? GW_STATS_AD_BEACON
			     : ad_type == 0x29 ? GW_STATS_AD_PB_ADV
					       : GW_STATS_AD_OTHER;

	atomic_fetch_add_explicit(&dir[k], 1, memory_order_relaxed);
}

/* Loop thread: one more in table[kind][end] (kind beyond GW_STATS_KINDS is not counted). */
static inline void gw_stats_end(_Atomic uint64_t (*table)[GW_STATS_ENDS], size_t kind,
				enum gw_stats_end end)
{
	if (kind < GW_STATS_KINDS) {
		atomic_fetch_add_explicit(&table[kind][end], 1, memory_order_relaxed);
	}
}

#endif
