/*
 * Remote Provisioning Client model (Mesh Protocol v1.1 §4.4.6; formats.md
 * §7), model ID 0x0005, secured with device keys, on a provisioner's node.
 * Built on mesh/client.h: a request (struct rpr_msg from mesh/rpr_msg.h)
 * goes to a Remote Provisioning Server under that server's device key and
 * its decoded status comes back through a callback; the unsolicited
 * messages of a server (Scan Report, Extended Scan Report, Link Report, PDU
 * Outbound Report, PDU Report) go to the callbacks in struct rpr_cli_ops.
 *
 * A link user (mesh/pb_remote.h) can install a handler that sees Link
 * Status messages nobody waits for, Link Reports and the two PDU reports
 * first; what it does not claim goes on to the ops callbacks.
 */
#ifndef MESH_RPR_CLI_H
#define MESH_RPR_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/node.h"
#include "mesh/rpr_msg.h"

/* Unsolicited messages, decoded; every pointer is borrowed for the call.  Any may be NULL. */
struct rpr_cli_ops {
	void *ctx;
	void (*scan_report)(void *ctx, uint16_t src, const struct rpr_scan_report *r);
	void (*ext_scan_report)(void *ctx, uint16_t src, const struct rpr_ext_scan_report *r);
	void (*link_report)(void *ctx, uint16_t src, const struct rpr_link_status *r);
	void (*outbound_report)(void *ctx, uint16_t src, uint8_t num);
	void (*pdu_report)(void *ctx, uint16_t src, const struct rpr_pdu *p);
};

/*
 * The link user's hooks: each returns true when it took the message.  m is
 * the decoded message (op one of Link Status, Link Report, PDU Outbound
 * Report, PDU Report), borrowed for the call.
 */
struct rpr_cli_link_handler {
	void *ctx;
	bool (*rx)(void *ctx, uint16_t src, const struct rpr_msg *m);
};

/*
 * Result of a request: err 0 with the decoded status (borrowed for the call),
 * or -ETIMEDOUT, -ECANCELED, -EBADMSG (the answer did not decode) with rsp
 * NULL.  src is the server that answered (0 without an answer).
 */
typedef void (*rpr_cli_cb)(void *ctx, int err, uint16_t src, const struct rpr_msg *rsp);

struct rpr_cli;

/* Register on element 0 of node (ops copied, may be NULL).  NULL on failure.  Free before the node.
 */
struct rpr_cli *rpr_cli_new(struct mesh_node *node, const struct rpr_cli_ops *ops);
/* Pending requests end with -ECANCELED first.  Accepts NULL. */
void rpr_cli_free(struct rpr_cli *cli);

/* Install (h copied) or remove (NULL) the link user's handler. */
void rpr_cli_link_handler_set(struct rpr_cli *cli, const struct rpr_cli_link_handler *h);

/*
 * The status opcode that answers a request: Scan Capabilities Get -> Scan
 * Capabilities Status; Scan Get/Start/Stop -> Scan Status; Extended Scan
 * Start -> Extended Scan Report; Link Get/Open/Close -> Link Status.  0 for
 * anything else (PDU Send has no status: its Outbound Report is a report).
 */
uint32_t rpr_cli_status_op(uint32_t req_op);

/*
 * Send req to the server dst on subnet net_idx, under dst's device key (the
 * node's ops->dev_keys, or dev_key when not NULL), and call cb once with its
 * status.  The request is repeated every retry_ms (0: never) until
 * timeout_ms.  Returns 0, -EINVAL (no status for this opcode, bad fields),
 * or a send error (then cb is not called).
 */
int rpr_cli_request(struct rpr_cli *cli, uint16_t net_idx, uint16_t dst, const uint8_t *dev_key,
		    const struct rpr_msg *req, uint32_t timeout_ms, uint32_t retry_ms,
		    rpr_cli_cb cb, void *ctx, uint64_t now_ms);

/*
 * Send m once without waiting for anything (PDU Send, or a request whose
 * answer the caller matches itself).  *handle (may be NULL) identifies a
 * segmented send for rpr_cli_answered(), else 0.  Returns 0, -EINVAL, or a
 * send error.
 */
int rpr_cli_send(struct rpr_cli *cli, uint16_t net_idx, uint16_t dst, const uint8_t *dev_key,
		 const struct rpr_msg *m, uint64_t now_ms, uint32_t *handle);

/* The server answered the send `handle` (an Outbound Report): see mesh_node_send_answered(). */
void rpr_cli_answered(struct rpr_cli *cli, uint32_t handle, uint64_t now_ms);

size_t rpr_cli_cancel(struct rpr_cli *cli, uint16_t dst);
uint64_t rpr_cli_next_deadline(const struct rpr_cli *cli);
void rpr_cli_tick(struct rpr_cli *cli, uint64_t now_ms);

/* The node the client is on (borrowed). */
struct mesh_node *rpr_cli_node(struct rpr_cli *cli);

#endif /* MESH_RPR_CLI_H */
