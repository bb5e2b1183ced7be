/*
 * The gateway as assembled by gw.c: the core and its services.  Shared by
 * gw.c (which builds it) and gw_cmd.c (which dispatches commands to the
 * services).  Not a public header.
 */
#ifndef GW_GW_INT_H
#define GW_GW_INT_H

#include "gateway/cdb_svc.h"
#include "gateway/commission.h"
#include "gateway/core.h"
#include "gateway/gw.h"
#include "gateway/gw_cmd.h"
#include "gateway/jobs.h"
#include "gateway/keyref.h"
#include "gateway/nodes.h"
#include "gateway/owner.h"
#include "gateway/prov.h"
#include "gateway/reads.h"
#include "gateway/scan.h"
#include "gateway/zones.h"

/* Internal command: token check for the REST layer (args {token}). */
#define GW_CMD_AUTH (GW_CMD_MAX + 1)

struct gw {
	struct gw_core core;
	struct gw_jobs *jobs;
	struct gw_scan *scan;
	struct gw_nodes *nodes;
	struct gw_prov *prov;
	struct gw_kr *kr;
	struct gw_own *own;
	struct gw_zones *zones;
	struct gw_reads *reads; /* reads on the HTTP threads, token table (reads.h) */
	struct gw_comm *comm;
};

/* gw_cmd.c: the command queue's reader on the loop. */
int gw_cmd_attach(struct gw *gw);
void gw_cmd_detach(struct gw *gw);

#endif
