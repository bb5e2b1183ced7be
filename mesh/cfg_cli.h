/*
 * Configuration Client model (§4.4.2) on a provisioner's node: sends a
 * Config request (struct cfg_msg from mesh/cfg_msg.h) with the target node's
 * device key and reports the decoded status.  Built on mesh/client.h.
 */
#ifndef MESH_CFG_CLI_H
#define MESH_CFG_CLI_H

#include <stdint.h>

#include "mesh/cfg_msg.h"
#include "mesh/node.h"

struct cfg_cli;

/*
 * Result of a request: err 0 with the decoded status (borrowed for the
 * call; rsp->op is the status opcode), or err -ETIMEDOUT, -ECANCELED,
 * -EBADMSG (a status that did not decode), with rsp NULL.
 */
typedef void (*cfg_cli_cb)(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp);

/* Register on element 0 of node.  NULL on failure.  Free before the node. */
struct cfg_cli *cfg_cli_new(struct mesh_node *node);
void cfg_cli_free(struct cfg_cli *cli);

/* The status opcode that answers a request opcode, or 0 (e.g. unknown). */
uint32_t cfg_cli_status_op(uint32_t req_op);

/*
 * Send req to dst on subnet net_idx, secured with dst's device key (the
 * node's ops->dev_keys, or dev_key when not NULL), and call cb once with
 * the status.  timeout_ms: give up; the request is repeated every
 * retry_ms.  Returns 0, -EINVAL (unknown opcode, bad fields) or a send error.
 */
int cfg_cli_request(struct cfg_cli *cli, uint16_t net_idx, uint16_t dst, const uint8_t *dev_key,
		    const struct cfg_msg *req, uint32_t timeout_ms, uint32_t retry_ms,
		    cfg_cli_cb cb, void *ctx, uint64_t now_ms);

size_t cfg_cli_cancel(struct cfg_cli *cli, uint16_t dst);
size_t cfg_cli_cancel_all(struct cfg_cli *cli);
uint64_t cfg_cli_next_deadline(const struct cfg_cli *cli);
void cfg_cli_tick(struct cfg_cli *cli, uint64_t now_ms);

#endif /* MESH_CFG_CLI_H */
