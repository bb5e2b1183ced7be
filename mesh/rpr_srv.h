/*
 * Remote Provisioning Server model (Mesh Protocol v1.1 §4.4.5; formats.md
 * §7), model ID 0x0004, secured with the device key, on element 0 of a
 * struct mesh_node.  It does three things for a Remote Provisioning Client:
 *
 *   scanning     Scan Start/Stop/Get (multiple-device, or single-device with
 *                a UUID filter) and Extended Scan Start: the owner feeds the
 *                server every Unprovisioned Device beacon it hears, with its
 *                RSSI (rpr_srv_beacon_rx), and the other AD structures of
 *                devices (rpr_srv_ad_rx); the server sends Scan Reports and
 *                Extended Scan Reports to the client.
 *   PB-ADV link  Link Open (UUID) makes the server open a PB-ADV link to the
 *                device through its own provisioner-role struct pb_adv, whose
 *                AD payloads go out through ops.adv_send and come back in
 *                through rpr_srv_pb_adv_rx.  PDU Send is forwarded as one
 *                transaction, PDU Outbound Report follows its acknowledgment;
 *                the device's PDUs go to the client in PDU Reports.  A
 *                repeated PDU Send gets the Outbound Report again, and the
 *                last PDU Report too when the device has answered that PDU
 *                (a report whose segmented send failed is not lost for good).
 *   NPPI         Link Open (procedure) on the server's own node: a device-role
 *                provisioning session (mesh/prov.h) runs locally, fed by PDU
 *                Send, answering through PDU Report; on success the node
 *                refreshes its device key, address or composition (§3.11.8).
 *
 * Everything the server sends to the client goes under the server's device
 * key to the address that started the scan or opened the link.  Unsolicited
 * reports that carry Provisioning PDUs (PDU Report, Link Report) are sent
 * with a 64-bit TransMIC so that they travel segmented and acknowledged by
 * lower transport: a lost one would stall provisioning, and no status
 * answers them.
 *
 * NPPI checks (formats.md §7 notes): the Provisioning Data must carry the
 * node's current IV Index and a NetKey the node has under that index; Device
 * Key Refresh and Composition Refresh keep the primary address; Address
 * Refresh moves to a range that does not overlap the old one.  Otherwise the
 * node answers Provisioning Failed (Invalid Data) instead of Complete.  The
 * result is applied:
 *   Device Key Refresh: at Complete the new key becomes the node's candidate
 *     (mesh_node_devkey_candidate); the node promotes it when a message
 *     secured with it arrives, after which the old key is refused.
 *   Address Refresh and Composition Refresh: when the link closes (Link Close
 *     from the client, or 60 s without one); the new DevKey replaces the old
 *     at once, then ops.nppi_applied tells the owner (new address; for
 *     Composition Refresh the owner makes page 128 the new page 0).
 *
 * The server answers requests that do not decode with nothing and changes
 * nothing (§4.4.5).  Callbacks run inside the calls that feed the server;
 * they must not free it.
 */
#ifndef MESH_RPR_SRV_H
#define MESH_RPR_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/node.h"
#include "mesh/pb_adv.h"
#include "mesh/prov.h"

#define RPR_SRV_ITEMS_MAX 16         /* scanned-items capacity a server can be given */
#define RPR_SRV_SELF_ADV_MAX 64      /* octets of own AD structures (Extended Scan of itself) */
#define RPR_SRV_LINK_OPEN_DEFAULT 10 /* s, LinkOpenTimeout when the client gives none */
#define RPR_SRV_LINK_IDLE_MS 60000u  /* a link without client traffic for this long closes */

struct rpr_srv_config {
	uint8_t max_items; /* MaxScannedItems, 4..RPR_SRV_ITEMS_MAX [5] */
	bool active_scan;  /* Scan Capabilities ActiveScan */
	uint8_t uuid[16];  /* the server's own Device UUID (Extended Scan of itself) */
	/* Own AD structures (Length ‖ Type ‖ Data ...), copied; what an Extended Scan
	 * without UUID reports from (e.g. the Complete Local Name, the URI). */
	const uint8_t *self_adv;
	size_t self_adv_len;
	/*
	 * Device-role session template for NPPI (caps, static OOB); role and
	 * caps.elements are filled in by the server.  All zero: No OOB, both
	 * algorithms.  Output/Input OOB are not offered by a node refresh.
	 */
	struct prov_cfg nppi;
	/* PB-ADV bearer parameters (uuid ignored: the server is never the device). */
	struct pb_adv_cfg pb;
};

struct rpr_srv_ops {
	void *ctx;
	/* Put one PB-ADV AD payload (AD type 0x29) on the air. Required. */
	void (*adv_send)(void *ctx, const uint8_t *data, size_t len);
	/*
	 * May the node run NPPI `procedure` now?  Return 0 and set *elements to
	 * the element count the node will have afterwards (prefilled with the
	 * current count), or a negative errno to refuse (Link Status: Link
	 * Cannot Open), e.g. Composition Refresh without a page 128.  NULL:
	 * every procedure is allowed, element count unchanged.
	 */
	int (*nppi_check)(void *ctx, uint8_t procedure, uint8_t *elements);
	/*
	 * A procedure took effect; primary is the node's (possibly new) primary
	 * address.  Composition Refresh: the owner makes page 128 the node's page
	 * 0 now.  Runs inside a call into the node: defer freeing or rebuilding
	 * the node until that call returns.  May be NULL.
	 */
	void (*nppi_applied)(void *ctx, uint8_t procedure, uint16_t primary);
};

struct rpr_srv;

/*
 * Register the model on element 0 of node (provisioned or not; it must be
 * provisioned for anything to reach it) and return a new server; free with
 * rpr_srv_free() before the node.  cfg and ops are copied; rng (NULL: the
 * CSPRNG) is copied and used for Link IDs and NPPI key pairs.  NULL on bad
 * arguments or out of memory.
 */
struct rpr_srv *rpr_srv_new(struct mesh_node *node, const struct rpr_srv_config *cfg,
			    const struct rpr_srv_ops *ops, const struct mesh_rng *rng);
/* Wipe and free; no message is sent.  Accepts NULL. */
void rpr_srv_free(struct rpr_srv *srv);

/*
 * One Mesh Beacon AD payload heard (after the AD type), with its RSSI.
 * Unprovisioned Device beacons feed scanning; -ENOTSUP for other beacon
 * types, -EBADMSG for a malformed one.  0 when used or not wanted.
 */
int rpr_srv_beacon_rx(struct rpr_srv *srv, const uint8_t *data, size_t len, int8_t rssi,
		      uint64_t now_ms);

/*
 * One other AD structure (type and data) advertised by the device with this
 * UUID (the owner knows which advertiser it came from): input of an
 * Extended Scan for that device.  0 when collected or not wanted.
 */
int rpr_srv_ad_rx(struct rpr_srv *srv, const uint8_t uuid[16], uint8_t ad_type, const uint8_t *data,
		  size_t len, uint64_t now_ms);

/* One PB-ADV AD payload (AD type 0x29) heard; pb_adv_rx()'s return codes. */
int rpr_srv_pb_adv_rx(struct rpr_srv *srv, const uint8_t *data, size_t len, uint64_t now_ms);

uint64_t rpr_srv_next_deadline(const struct rpr_srv *srv);
void rpr_srv_tick(struct rpr_srv *srv, uint64_t now_ms);

/* State, for tests and status pages. */
struct rpr_srv_state {
	uint8_t scan;      /* enum rpr_scan_state */
	uint8_t link;      /* enum rpr_link_state */
	bool nppi;         /* the link is a node refresh */
	uint8_t procedure; /* when nppi */
	uint16_t client;   /* client of the link, or MESH_ADDR_UNASSIGNED */
	uint8_t out_count; /* last OutboundPDUNumber taken */
	uint8_t in_count;  /* last InboundPDUNumber sent */
	size_t items;      /* devices in the scanned-items list */
	bool ext_scan;     /* an Extended Scan is running */
};
void rpr_srv_state(const struct rpr_srv *srv, struct rpr_srv_state *out);

#endif /* MESH_RPR_SRV_H */
