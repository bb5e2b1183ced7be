/*
 * Key Refresh of a subnet (Mesh Profile §3.11.4) as the job kind
 * "key_refresh": a new NetKey and new AppKeys for every AppKey bound to it
 * are generated and sealed in the inventory before any node receives them;
 * each target (a node holding the NetKey) gets NetKey Update and AppKey
 * Update for each of its AppKeys of that subnet (phase 1); when every
 * target is done, the target that finished last drives phase 2 and phase 3
 * for the whole subnet: the gateway's own node first, then Config Key
 * Refresh Phase Set to every node.
 */
#ifndef GW_KEYREF_H
#define GW_KEYREF_H

#include "gateway/cmdq.h"
#include "gateway/core.h"
#include "gateway/jobs.h"

struct gw_kr;

/* New service over core and jobs (borrowed); registers the kind "key_refresh".  NULL: -ENOMEM. */
struct gw_kr *gw_kr_new(struct gw_core *core, struct gw_jobs *jobs);
void gw_kr_free(struct gw_kr *kr);

/*
 * Start a Key Refresh of NetKey net as a job created by who: 0 with *job;
 * -ENOENT (no such NetKey, or no node holds it), -EBUSY (a Key Refresh
 * runs), ... with *why naming the refusal (else NULL).
 */
int gw_kr_start(struct gw_kr *kr, uint16_t net, const char *who, uint64_t *job, const char **why);

/*
 * A Key Refresh of NetKey net that began at or after since_ms (wall clock),
 * started now by who when there is none: 0 with *job (0 when no node holds
 * the NetKey any more: nothing to refresh); -EBUSY while another Key
 * Refresh runs (ask again when it has ended); else the error of starting.
 * For removals: the refresh that locks the removed node out.
 */
int gw_kr_cover(struct gw_kr *kr, uint16_t net, uint64_t since_ms, const char *who, uint64_t *job);

/* POST /api/v1/keys/net/{index}/refresh -> 202 {job, net_index, phase, app_indexes} */
void gw_kr_cmd_start(struct gw_kr *kr, struct gw_cmd *c);

#endif
