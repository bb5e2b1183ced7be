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

/* REST commands (gw_cmd.h): POST /scans, DELETE /scans/current, GET /scans/results. */
void gw_scan_cmd_start(struct gw_scan *scan, struct gw_cmd *c);
void gw_scan_cmd_stop(struct gw_scan *scan, struct gw_cmd *c);
void gw_scan_cmd_results(struct gw_scan *scan, struct gw_cmd *c);

#endif
