/*
 * The Mesh Configuration Database hand-over service: GET and POST
 * /api/v1/cdb (gw_cmd.h).  An import waits until no job attempt is under
 * way, and teaches the running stack what it changed.
 */
#ifndef GW_CDB_SVC_H
#define GW_CDB_SVC_H

#include "gateway/cmdq.h"
#include "gateway/core.h"
#include "gateway/jobs.h"

void gw_cdb_cmd_export(struct gw_core *core, struct gw_cmd *c);
void gw_cdb_cmd_import(struct gw_core *core, struct gw_jobs *jobs, struct gw_cmd *c);

#endif
