/*
 * Provisioning: new devices over PB-ADV or through a Remote Provisioning
 * Server (job kind "provision"), and the three NPPI node refreshes (job
 * kind "refresh"), each followed by the automatic configuration (pages 0
 * and 128 read and stored, AppKey 0 added, every AppKey model bound).
 *
 * Write-ahead: an address is reserved and committed with the target's step
 * when the device's Capabilities arrive; the DevKey (a new node's, or a
 * refreshed node's candidate) is sealed in the inventory before
 * Provisioning Data goes out.  After a restart a target whose Provisioning
 * Data may have gone out is probed with the keys it may use, and the one
 * the device answers to is committed.
 *
 * The REST API's provisioning sessions are the targets of these jobs:
 * session id "J-I" is target I of job J.
 */
#ifndef GW_PROV_H
#define GW_PROV_H

#include "gateway/cmdq.h"
#include "gateway/core.h"
#include "gateway/jobs.h"
#include "gateway/scan.h"

struct gw_prov;

/* New service (core, jobs, scan borrowed); registers the kinds "provision" and "refresh". */
struct gw_prov *gw_prov_new(struct gw_core *core, struct gw_jobs *jobs, struct gw_scan *scan);
void gw_prov_free(struct gw_prov *prov);
/* Its callbacks for the stack (PB-ADV and PB-Remote sessions, pending device keys) into ops. */
void gw_prov_stack_ops(struct gw_prov *prov, struct gw_core_stack_ops *ops);

/*
 * For /metrics: the sessions (provisioning and refresh targets) of unfinished
 * jobs by state: counts[0] queued, then one per phase of an active attempt
 * (gw_prov_state_name() names each, as the API's session "state" does).
 */
#define GW_PROV_STATES 6
void gw_prov_count_states(struct gw_prov *prov, unsigned counts[GW_PROV_STATES]);
const char *gw_prov_state_name(unsigned i);

/* NPPI procedures of a node refresh (Mesh Profile §3.11.8, Table 3.65). */
enum gw_prov_nppi {
	GW_PROV_NPPI_DEVICE_KEY = 0,
	GW_PROV_NPPI_ADDRESS = 1,
	GW_PROV_NPPI_COMPOSITION = 2,
};

/*
 * Create one job of kind "refresh" with a target per node of nodes (n
 * addresses, each active with a Remote Provisioning Server: -ENOENT /
 * -ENOTSUP otherwise, *why naming it; -EBUSY while one of them is being
 * refreshed), created by who; op: its operation record, 0 for none.
 */
int gw_prov_refresh_create(struct gw_prov *prov, const uint16_t *nodes, size_t n,
			   enum gw_prov_nppi procedure, const char *who, uint64_t op, uint64_t *job,
			   const char **why);

/* REST commands (gw_cmd.h). */
void gw_prov_cmd_start(struct gw_prov *prov, struct gw_cmd *c);
void gw_prov_cmd_list(struct gw_prov *prov, struct gw_cmd *c);
void gw_prov_cmd_get(struct gw_prov *prov, struct gw_cmd *c);
void gw_prov_cmd_oob(struct gw_prov *prov, struct gw_cmd *c);
void gw_prov_cmd_cancel(struct gw_prov *prov, struct gw_cmd *c);
void gw_prov_cmd_refresh(struct gw_prov *prov, struct gw_cmd *c);

#endif
