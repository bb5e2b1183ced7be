/*
 * Request/response tracking for client models (Config Client, Generic
 * OnOff Client, Remote Provisioning Client): a request goes out, the client
 * waits for a given status opcode from the destination, retransmits the
 * request while none came (acknowledged messages may be lost, §3.7.3.4), and
 * reports the status or -ETIMEDOUT through a callback.  Many requests may be
 * pending at once; a status is matched to the oldest pending request to the
 * same node that expects that opcode.  Messages with a client opcode that
 * match no request go to an "unsolicited" callback (Scan Reports, PDU
 * Reports, publications).
 */
#ifndef MESH_CLIENT_H
#define MESH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/access.h"
#include "mesh/node.h"

/*
 * Requests waiting for their answer, per client.  A gateway's commission
 * job configures up to 3 x max_sessions (96) nodes at once, each with a
 * request or a few (relay wakes, zone moves) outstanding.
 */
#define MESH_CLI_PENDING_MAX 256
#define MESH_CLI_OPS_MAX 24

/*
 * Outcome of a request: err 0 and rsp the matched status (borrowed for the
 * call), or err -ETIMEDOUT / -ECANCELED and rsp NULL.  Called once.
 */
typedef void (*mesh_cli_cb)(void *ctx, int err, const struct mesh_acc_msg *rsp);

struct mesh_cli;

/*
 * Register a client model on element elem of node, receiving the given
 * status opcodes (copied).  dev_key: the model is secured with device keys
 * (Config Client, RPR Client).  unsolicited (may be NULL) gets messages that
 * match no pending request.  Returns a new client, freed with
 * mesh_cli_free() before the node; NULL on failure.
 */
struct mesh_cli *mesh_cli_new(struct mesh_node *node, uint8_t elem, struct mesh_model_id id,
			      bool dev_key, const uint32_t *status_ops, size_t n_ops,
			      void (*unsolicited)(void *ctx, const struct mesh_acc_msg *msg),
			      void *ctx);
/* Pending requests end with -ECANCELED callbacks first.  Accepts NULL. */
void mesh_cli_free(struct mesh_cli *cli);

/* The registered model (to bind AppKeys to it).  Borrowed. */
struct mesh_acc_model *mesh_cli_model(struct mesh_cli *cli);

/*
 * Send req (its params are copied) and wait for expect_op from req->dst.
 * expect_op 0 means "no answer expected": the callback is not called.
 * The request is resent every retry_ms until timeout_ms has passed.
 * A request the node cannot take now (its bearer or its send queue is full,
 * mesh_node_send()'s -ENOBUFS / -ENOSPC) stays pending, and its first retry
 * sends it, when retry_ms is not 0.  Returns 0 or mesh_node_send()'s error
 * (then cb is not called), -ENOSPC when MESH_CLI_PENDING_MAX requests are
 * pending.
 */
int mesh_cli_request(struct mesh_cli *cli, const struct mesh_node_msg *req, uint32_t expect_op,
		     uint32_t timeout_ms, uint32_t retry_ms, mesh_cli_cb cb, void *ctx,
		     uint64_t now_ms);

/* Cancel every pending request to dst with -ECANCELED; returns how many. */
size_t mesh_cli_cancel(struct mesh_cli *cli, uint16_t dst);
/* Cancel every pending request with -ECANCELED (shutdown); returns how many. */
size_t mesh_cli_cancel_all(struct mesh_cli *cli);
size_t mesh_cli_pending(const struct mesh_cli *cli);

uint64_t mesh_cli_next_deadline(const struct mesh_cli *cli);
void mesh_cli_tick(struct mesh_cli *cli, uint64_t now_ms);

#endif /* MESH_CLIENT_H */
