/*
 * Scanning for unprovisioned devices: the gateway's own Unprovisioned
 * Device beacons and Remote Provisioning Scan Reports through the
 * network's Remote Provisioning Servers, kept in the inventory's scan
 * results (store_scan_*), with "scan.result" events.
 */
#ifndef GW_SCAN_H
#define GW_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/cmdq.h"
#include "gateway/core.h"

struct gw_scan;

/* New scanner over core (borrowed).  Free with gw_scan_free(). */
struct gw_scan *gw_scan_new(struct gw_core *core);
void gw_scan_free(struct gw_scan *scan);
/* Its callbacks for the stack (beacon, rpr scan reports) into ops. */
void gw_scan_stack_ops(struct gw_scan *scan, struct gw_core_stack_ops *ops);
/* Stop scanning (the gateway stops). */
void gw_scan_stop(struct gw_scan *scan);

/* Where to provision a device from: 0 if the gateway heard it, else the server that heard it best.
 */
uint16_t gw_scan_best_via(struct gw_scan *scan, const uint8_t uuid[16]);
/*
 * OOB Information bits 7 and 8 (Mesh Protocol v1.1 §3.9.2, Table 3.54): the
 * device supports certificate-based provisioning / has provisioning records.
 */
#define GW_OOB_INFO_CBP 0x0080u
#define GW_OOB_INFO_RECORDS 0x0100u
/* The OOB Information bits of every beacon heard from uuid (gateway or servers), ORed; 0 if none.
 */
uint16_t gw_scan_oob_info(struct gw_scan *scan, const uint8_t uuid[16]);
/* Does node addr have a Remote Provisioning Server on its primary element? */
bool gw_scan_is_rpr_server(struct gw_core *core, uint16_t addr);

/*
 * Scanning held on for a job (gateway/commission.h): while held, the
 * gateway's own beacons and every server's Scan Reports are kept whatever
 * POST/DELETE /scans do; released, only a scan started there keeps them.
 */
void gw_scan_hold(struct gw_scan *scan, bool on);
/*
 * Scan Start to one Remote Provisioning Server (multiple devices, as many as
 * it holds) for timeout_s (1..255): a server reports each device once per
 * scan, so a new Scan Start reports the devices that came since.  0, or the
 * request's error (the answer is only logged).
 */
int gw_scan_remote_start(struct gw_scan *scan, uint16_t server, uint8_t timeout_s);
/* Nodes of the inventory with a Remote Provisioning Server: at most max into out. */
size_t gw_scan_rpr_servers(struct gw_scan *scan, uint16_t *out, size_t max);
/* Called after each sighting is stored (via 0: the gateway's own); one observer. */
typedef void (*gw_scan_observer)(void *ctx, const uint8_t uuid[16], uint16_t via, int8_t rssi);
void gw_scan_observe(struct gw_scan *scan, gw_scan_observer fn, void *ctx);

/* REST commands (gw_cmd.h): POST /scans, DELETE /scans/current, GET /scans/results. */
void gw_scan_cmd_start(struct gw_scan *scan, struct gw_cmd *c);
void gw_scan_cmd_stop(struct gw_scan *scan, struct gw_cmd *c);
void gw_scan_cmd_results(struct gw_scan *scan, struct gw_cmd *c);

#endif
