/*
 * Commissioning a manifest (issue 12, "the bulk job"): one persistent job
 * of kind "commission" with a target per manifest row, and the scanning
 * that feeds it.
 *
 * A target is provisioned and configured by the provisioning service's own
 * procedure (prov.h, gw_prov_user): link, provisioning with the row's
 * authentication, probing after a restart, configuration by the row's
 * profile; then the row's zone is applied.  What this service adds:
 *
 *   - Waiting to be heard: a target whose device has not been heard waits
 *     (start() answers -EBUSY, no attempt counted) until a sighting kicks
 *     the engine, or fails "never heard" once hear_timeout_s have passed
 *     since the job was made; it never holds the job's end.
 *   - The path: the gateway itself when it heard the device, else the
 *     server that heard it best; a new attempt after a failed one starts
 *     one further down that list, and a busy path (the server's one link,
 *     or the gateway's max_local_links) gives way to the next one that
 *     hears the device instead of waiting.
 *   - Scanning while a commission job has unfinished targets: the
 *     gateway's own scan is held on, and every node with a Remote
 *     Provisioning Server is asked to scan, a node that becomes a server
 *     as soon as it is configured: the reach grows ring by ring while the
 *     earlier rings are still being configured.  Servers scan again about
 *     once a minute, and only while a target has not been heard (each
 *     report is a network PDU every relay repeats).
 *   - Relays and TTLs (comm_relay.h): before a node is configured the
 *     gateway's TTL to it becomes its hop count + 1; after, step
 *     COMM_STEP_RELAY (committed first) sets its Relay state: on for
 *     servers and the relays the plan picks, off for the others.
 *   - The zone (gateway/zones.h): the row's zone is made when it does not
 *     exist yet and the node is put into it (a light subscribes to its
 *     group, a switch publishes to it), step COMM_STEP_ZONE committed first
 *     so that a restart finishes the move.
 *   - The report: per device uuid, name, zone, address, path, attempts,
 *     time, result, error, and the devices heard but not in the manifest
 *     (never touched), as JSON or CSV (RFC 4180).
 *
 * Committed steps of a target (store_job_target.step): those of a
 * "provision" target (prov.h) up to GW_PROV_STEP_CONFIGURED, then
 * COMM_STEP_RELAY, COMM_STEP_ZONE.
 */
#ifndef GW_COMMISSION_H
#define GW_COMMISSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/cmdq.h"
#include "gateway/core.h"
#include "gateway/jobs.h"
#include "gateway/prov.h"
#include "gateway/scan.h"
#include "gateway/zones.h"

struct gw_comm;

/*
 * New service (core, jobs, scan, prov, zones borrowed): registers the kind
 * "commission" and becomes prov's user.  Free with gw_comm_free().
 */
struct gw_comm *gw_comm_new(struct gw_core *core, struct gw_jobs *jobs, struct gw_scan *scan,
			    struct gw_prov *prov, struct gw_zones *zones);
/* Stop its timers (the gateway stops).  NULL ok. */
void gw_comm_stop(struct gw_comm *comm);
void gw_comm_free(struct gw_comm *comm);

/* One sighting of a device: by the gateway (via 0) or by a server. */
struct gw_comm_sighting {
	uint8_t uuid[16];
	uint16_t via;
	int8_t rssi;
};

/*
 * The paths to try for uuid, best first, rotated by attempt (1: from the
 * best; 2: from the second, ...): the gateway when it heard the device,
 * then the servers that heard it, strongest first (ties: lower address).
 * At most max into out; returns how many (0: nobody heard it).
 */
size_t gw_comm_paths(const struct gw_comm_sighting *s, size_t n, const uint8_t uuid[16],
		     uint32_t attempt, uint16_t *out, size_t max);

/* The ring of a device nobody heard, or heard only by servers of unknown ring. */
#define GW_COMM_RING_FAR 0xffu

/*
 * The ring of a device from its n sightings s (all of the one device): 1
 * when the gateway hears it, else one more than the nearest ring of the
 * servers that hear it (srv[i] is in ring srv_ring[i], n_srv of them);
 * GW_COMM_RING_FAR when none of these.  A commission job starts the
 * nearest ring first, so that the servers that carry the reach outward
 * become nodes before the devices only they hear.
 */
unsigned gw_comm_ring(const struct gw_comm_sighting *s, size_t n, const uint16_t *srv,
		      const uint8_t *srv_ring, size_t n_srv);

/* REST commands (gw_cmd.h): POST /manifests/{id}/commission, GET /jobs/{id}/report. */
void gw_comm_cmd_start(struct gw_comm *comm, struct gw_cmd *c);
void gw_comm_cmd_report(struct gw_comm *comm, struct gw_cmd *c);

#endif
