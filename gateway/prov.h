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

/*
 * Another job kind that runs this service's per-device procedure (link,
 * provisioning, probing after a restart, configuration by the target's
 * profile) and then goes on with steps of its own: the commission job
 * (gateway/commission.h).  Its targets are shaped as "provision" targets
 * (params auth and profile, the static OOB value sealed in slot AUTH); its
 * own steps are numbered from GW_PROV_STEP_CONFIGURED on.
 */
#define GW_PROV_STEP_DATA 2 /* from here on the device may hold its keys: probed first */
#define GW_PROV_STEP_CONFIGURED 4
struct gw_prov_user {
	const struct gw_job_kind *kind; /* registered by the user */
	void *ctx;
	/*
	 * The node at run->t.addr is configured and run->t.step is at least
	 * GW_PROV_STEP_CONFIGURED, committed (also when a restart resumes such a
	 * target): the user goes on and ends the attempt with gw_prov_attempt_end().
	 */
	void (*configured)(void *ctx, struct gw_job_run *run);
	/*
	 * Optional: the node at run->t.addr is in the inventory and its
	 * configuration is about to start (also when a restart resumes it):
	 * the user may set up how the gateway reaches it (its TTL).  Returns
	 * the Default TTL the node is to use (Config Default TTL Set, the
	 * configuration's first message), or 0xff to leave it as it is.
	 */
	uint8_t (*configuring)(void *ctx, struct gw_job_run *run);
	/*
	 * Optional: the node's Composition Data page 0 has just been read and
	 * stored, and its configuration goes on (AppKeys, bindings).
	 */
	void (*composed)(void *ctx, struct gw_job_run *run);
};
/* One user (u copied); -EEXIST when there is one already. */
int gw_prov_attach(struct gw_prov *prov, const struct gw_prov_user *u);
/*
 * A user's start(): an attempt through via (0: PB-ADV from the gateway, else
 * that Remote Provisioning Server), or the resumption of the committed step.
 * Returns as a kind's start() does (-EBUSY: that path is busy).
 */
int gw_prov_attempt_start(struct gw_prov *prov, struct gw_job_run *run, uint16_t via);
/* A user's stop(): as the provision kind's. */
void gw_prov_attempt_stop(struct gw_prov *prov, struct gw_job_run *run, bool stopping);
/* End an attempt begun by gw_prov_attempt_start() (gw_jobs_end() with its state freed). */
void gw_prov_attempt_end(struct gw_job_run *run, enum gw_job_outcome o, const char *error,
			 const char *result);
/* The attempt of run, told apart from a later one of the same target (0: none). */
uint32_t gw_prov_attempt_serial(const struct gw_job_run *run);
/* A user's target_json(): the session's fields (session, phase). */
void gw_prov_attempt_json(struct gw_prov *prov, const struct store_job_target *t,
			  const struct gw_job_run *run, json_t *o);

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
