/*
 * The counters of /metrics (stats.h).  What reads them and the services
 * lives in gateway/metrics.c, so that the core and the job engine, which
 * count, depend on nothing above them.
 */
#include "gateway/stats.h"

#include <string.h>

void gw_stats_init(struct gw_stats *s)
{
	for (int i = 0; i < GW_STATS_AD_N; i++) {
		atomic_init(&s->tx[i], 0);
		atomic_init(&s->rx[i], 0);
	}
	for (int k = 0; k < GW_STATS_KINDS; k++) {
		for (int e = 0; e < GW_STATS_ENDS; e++) {
			atomic_init(&s->jobs_ended[k][e], 0);
			atomic_init(&s->targets_ended[k][e], 0);
		}
	}
	pthread_mutex_init(&s->mtx, NULL);
	memset(&s->snap, 0, sizeof(s->snap));
	s->timer = 0;
}

void gw_stats_destroy(struct gw_stats *s)
{
	pthread_mutex_destroy(&s->mtx);
}
