/*
 * Change of ownership as one job of kind "ownership": a Key Refresh of
 * every subnet (keyref.h), then a Device Key Refresh (NPPI procedure 0x00,
 * prov.h) of every node that has a Remote Provisioning Server, so that no
 * key the previous owner knew still works.  A node without a server cannot
 * have its DevKey rotated in place (it would need to be provisioned again):
 * the job lists it.
 *
 * The job does not repeat those procedures: each of its targets (one per
 * NetKey, and one for the device keys) creates a job of the existing kind,
 * created by "ownership job N", and waits for its end; per-node progress
 * is those jobs' events.  A target commits its step before it creates its
 * job and, after a restart, finds the job it created by that name.
 */
#ifndef GW_OWNER_H
#define GW_OWNER_H

#include "gateway/cmdq.h"
#include "gateway/core.h"
#include "gateway/jobs.h"
#include "gateway/keyref.h"
#include "gateway/prov.h"

struct gw_own;

/* New service over core, jobs, kr and prov (borrowed); registers "ownership".  NULL: -ENOMEM. */
struct gw_own *gw_own_new(struct gw_core *core, struct gw_jobs *jobs, struct gw_kr *kr,
			  struct gw_prov *prov);
void gw_own_free(struct gw_own *own);

/*
 * POST /api/v1/network/ownership-change -> 202 {job, net_indexes,
 * device_key, not_rotated: [{address, reason}], targets}; 409 while a Key
 * Refresh or another change of ownership runs.
 */
void gw_own_cmd_start(struct gw_own *own, struct gw_cmd *c);

#endif
