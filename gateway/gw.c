/*
 * The gateway assembled (gw.h): the core (core.h) and its services, the
 * job engine (jobs.h), scanning (scan.h), provisioning (prov.h), node
 * configuration (nodes.h), Key Refresh (keyref.h), change of ownership (owner.h), the CDB
 * hand-over (cdb_svc.h), commissioning a manifest (commission.h), and the
 * command queue's reader (gw_cmd.c).  Start-up order: inventory, services,
 * stack, unfinished jobs, commands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_int.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/trust.h"
#include "mesh/crypto.h"

struct gw *gw_new(const struct gw_conf *conf, struct gw_loop *loop, struct gw_cmdq *q,
		  const struct gw_hooks *hooks, int *err)
{
	struct gw *gw = calloc(1, sizeof(*gw));
	struct gw_core_stack_ops ops = {0};
	size_t n = 0;
	int r;

	if (!gw) {
		*err = -ENOMEM;
		return NULL;
	}
	gw_stats_init(&gw->core.stats);
	r = gw_core_open(&gw->core, conf, loop, q, hooks);
	if (r) {
		goto fail;
	}
	gw->reads = gw_reads_new(conf->database, gw->core.st, conf->http_read_direct, &r);
	if (!gw->reads) {
		goto fail;
	}
	gw->jobs = gw_jobs_new(&gw->core);
	gw->scan = gw->jobs ? gw_scan_new(&gw->core) : NULL;
	gw->nodes = gw->scan ? gw_nodes_new(&gw->core, gw->jobs) : NULL;
	gw->prov = gw->nodes ? gw_prov_new(&gw->core, gw->jobs, gw->scan) : NULL;
	gw->kr = gw->prov ? gw_kr_new(&gw->core, gw->jobs) : NULL;
	gw->own = gw->kr ? gw_own_new(&gw->core, gw->jobs, gw->kr, gw->prov) : NULL;
	gw->zones = gw->own ? gw_zones_new(&gw->core) : NULL;
	gw->comm =
	    gw->zones ? gw_comm_new(&gw->core, gw->jobs, gw->scan, gw->prov, gw->zones) : NULL;
	if (gw->kr) {
		gw_nodes_set_kr(gw->nodes, gw->kr);
	}
	if (!gw->comm) {
		r = -ENOMEM;
		goto fail;
	}
	/*
	 * Reservations that no unfinished job holds were left by a procedure
	 * that cannot resume: they may have reached a device, so they are
	 * excluded.  Operations are finished by the jobs that carry them; others
	 * that were running cannot resume.
	 */
	(void)store_addr_reservations_recover(gw->core.st, &n);
	if (n) {
		log_info("%zu address reservation(s) of interrupted procedures excluded", n);
	}
	(void)store_op_abandon_unfinished(gw->core.st, &n);
	gw_scan_stack_ops(gw->scan, &ops);
	gw_prov_stack_ops(gw->prov, &ops);
	r = gw_core_start(&gw->core, &ops);
	if (r) {
		goto fail;
	}
	r = gw_jobs_resume(gw->jobs);
	if (r) {
		goto fail;
	}
	/* After the jobs: a commission job's own zone step takes over a move it started. */
	gw_zones_resume(gw->zones);
	r = gw_cmd_attach(gw);
	if (r) {
		goto fail;
	}
	gw_core_rearm(&gw->core);
	gw_metrics_start(gw);
	return gw;
fail:
	*err = r ? r : -EIO;
	gw_free(gw);
	return NULL;
}

struct gw_reads *gw_reads_of(struct gw *gw)
{
	return gw->reads;
}

void gw_shutdown(struct gw *gw)
{
	gw->core.stopping = true;
	/* Links get their Link Close; the jobs resume at the next start from their steps. */
	gw_jobs_shutdown(gw->jobs);
	gw_comm_stop(gw->comm);
	gw_scan_stop(gw->scan);
	/* Requests waiting for a node's answer end now, so their HTTP threads return. */
	(void)cfg_cli_cancel_all(gw->core.cfg);
	(void)mesh_cli_cancel_all(gw->core.onoff);
	gw_core_rearm(&gw->core);
}

bool gw_stopping_done(const struct gw *gw)
{
	return prov_adv_next_deadline(gw->core.pa) == UINT64_MAX &&
	       pb_remote_active(gw->core.pbr) == 0;
}

void gw_free(struct gw *gw)
{
	if (!gw) {
		return;
	}
	if (gw->core.q && gw->core.loop) {
		gw_cmd_detach(gw);
	}
	gw_metrics_stop(gw);
	/* Attempts stop first, so the answers the stack cancels below find none. */
	gw_jobs_shutdown(gw->jobs);
	gw_comm_stop(gw->comm);
	if (gw->scan) {
		gw_scan_stop(gw->scan);
	}
	gw_stats_destroy(&gw->core.stats);
	gw_core_close(&gw->core);
	gw_jobs_free(gw->jobs);
	gw_comm_free(gw->comm);
	gw_zones_free(gw->zones);
	gw_own_free(gw->own);
	gw_kr_free(gw->kr);
	gw_prov_free(gw->prov);
	gw_nodes_free(gw->nodes);
	gw_scan_free(gw->scan);
	gw_reads_free(gw->reads);
	free(gw);
}

void gw_reconfigure(struct gw *gw, const struct gw_conf *conf)
{
	/* Policy and limits apply to new attempts; paths and the bearer need a restart. */
	gw->core.conf.refuse_cmac = conf->refuse_cmac;
	gw->core.conf.allow_no_oob = conf->allow_no_oob;
	gw->core.conf.bind_all = conf->bind_all;
	gw->core.conf.max_sessions = conf->max_sessions;
	gw->core.conf.max_local_links = conf->max_local_links;
	gw->core.conf.job_attempts = conf->job_attempts;
	gw->core.conf.job_retry_s = conf->job_retry_s;
	gw->core.conf.remove_kr = conf->remove_kr;
	gw->core.conf.cbp_max_depth = conf->cbp_max_depth;
	gw->core.conf.cbp_policy = conf->cbp_policy;
	/* Profiles apply to configurations that start from now on. */
	memcpy(gw->core.conf.profiles, conf->profiles, sizeof(conf->profiles));
	gw->core.conf.n_profiles = conf->n_profiles;
	{
		char why[GW_PATH_MAX + 64];

		/* A store that fails to load keeps the running one (trust.h). */
		if (gw_trust_reload(&gw->core, conf->cbp_trust, why, sizeof(why))) {
			log_warnx("%s; keeping the running trust store", why);
		} else {
			snprintf(gw->core.conf.cbp_trust, sizeof(gw->core.conf.cbp_trust), "%s",
				 conf->cbp_trust);
		}
	}
	gw_jobs_kick(gw->jobs);
}
