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

/* REST commands (gw_cmd.h). */
void gw_prov_cmd_start(struct gw_prov *prov, struct gw_cmd *c);
void gw_prov_cmd_list(struct gw_prov *prov, struct gw_cmd *c);
void gw_prov_cmd_get(struct gw_prov *prov, struct gw_cmd *c);
void gw_prov_cmd_oob(struct gw_prov *prov, struct gw_cmd *c);
void gw_prov_cmd_cancel(struct gw_prov *prov, struct gw_cmd *c);
void gw_prov_cmd_refresh(struct gw_prov *prov, struct gw_cmd *c);

#endif
