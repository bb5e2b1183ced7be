/*
 * Remote Provisioning Client (§4.4.6) on mesh/client.h, in the manner of
 * mesh/cfg_cli.c: requests are encoded with rpr_msg_encode(), statuses and
 * reports decoded with rpr_msg_decode(); a report that does not decode is
 * dropped.
 */
#include "mesh/rpr_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/client.h"
#include "mesh/crypto.h"

struct rpr_cli {
	struct mesh_node *node;
	struct mesh_cli *cli;
	struct rpr_cli_ops ops;
	struct rpr_cli_link_handler link;
	bool has_link;
};

/* Request opcode -> status opcode (§4.3.4). */
static const uint32_t answer[][2] = {
    {RPR_OP_SCAN_CAPS_GET, RPR_OP_SCAN_CAPS_STATUS}, {RPR_OP_SCAN_GET, RPR_OP_SCAN_STATUS},
    {RPR_OP_SCAN_START, RPR_OP_SCAN_STATUS},         {RPR_OP_SCAN_STOP, RPR_OP_SCAN_STATUS},
    {RPR_OP_EXT_SCAN_START, RPR_OP_EXT_SCAN_REPORT}, {RPR_OP_LINK_GET, RPR_OP_LINK_STATUS},
    {RPR_OP_LINK_OPEN, RPR_OP_LINK_STATUS},          {RPR_OP_LINK_CLOSE, RPR_OP_LINK_STATUS},
};

/* Every opcode a server sends to a client. */
static const uint32_t status_ops[] = {
    RPR_OP_SCAN_CAPS_STATUS, RPR_OP_SCAN_STATUS, RPR_OP_SCAN_REPORT, RPR_OP_EXT_SCAN_REPORT,
    RPR_OP_LINK_STATUS,      RPR_OP_LINK_REPORT, RPR_OP_PDU_REPORT,  RPR_OP_PDU_OUTBOUND_REPORT,
};

uint32_t rpr_cli_status_op(uint32_t req_op)
{
	size_t i;

	for (i = 0; i < sizeof(answer) / sizeof(answer[0]); i++) {
		if (answer[i][0] == req_op) {
			return answer[i][1];
		}
	}
	return 0;
}

static void on_unsolicited(void *ctx, const struct mesh_acc_msg *msg)
{
	struct rpr_cli *c = ctx;
	struct rpr_msg m;

	if (rpr_msg_decode(msg->opcode, msg->params, msg->len, &m)) {
		return;
	}
	if (c->has_link &&
	    (m.op == RPR_OP_LINK_STATUS || m.op == RPR_OP_LINK_REPORT ||
	     m.op == RPR_OP_PDU_REPORT || m.op == RPR_OP_PDU_OUTBOUND_REPORT) &&
	    c->link.rx(c->link.ctx, msg->src, &m)) {
		return;
	}
	switch (m.op) {
	case RPR_OP_SCAN_REPORT:
		if (c->ops.scan_report) {
			c->ops.scan_report(c->ops.ctx, msg->src, &m.scan_report);
		}
		break;
	case RPR_OP_EXT_SCAN_REPORT:
		if (c->ops.ext_scan_report) {
			c->ops.ext_scan_report(c->ops.ctx, msg->src, &m.ext_scan_report);
		}
		break;
	case RPR_OP_LINK_REPORT:
		if (c->ops.link_report) {
			c->ops.link_report(c->ops.ctx, msg->src, &m.link_status);
		}
		break;
	case RPR_OP_PDU_OUTBOUND_REPORT:
		if (c->ops.outbound_report) {
			c->ops.outbound_report(c->ops.ctx, msg->src, m.pdu.num);
		}
		break;
	case RPR_OP_PDU_REPORT:
		if (c->ops.pdu_report) {
			c->ops.pdu_report(c->ops.ctx, msg->src, &m.pdu);
		}
		break;
	default:
		/* A status nobody waits for (a late answer to a timed-out request). */
		break;
	}
}

struct rpr_cli *rpr_cli_new(struct mesh_node *node, const struct rpr_cli_ops *ops)
{
	struct rpr_cli *c = calloc(1, sizeof(*c));
	struct mesh_model_id id = {.vendor = false, .id = 0x0005};

	if (!c) {
		return NULL;
	}
	c->node = node;
	if (ops) {
		c->ops = *ops;
	}
	c->cli = mesh_cli_new(node, 0, id, true, status_ops,
			      sizeof(status_ops) / sizeof(status_ops[0]), on_unsolicited, c);
	if (!c->cli) {
		free(c);
		return NULL;
	}
	return c;
}

void rpr_cli_free(struct rpr_cli *c)
{
	if (!c) {
		return;
	}
	mesh_cli_free(c->cli);
	free(c);
}

void rpr_cli_link_handler_set(struct rpr_cli *c, const struct rpr_cli_link_handler *h)
{
	c->has_link = h && h->rx;
	if (c->has_link) {
		c->link = *h;
	} else {
		memset(&c->link, 0, sizeof(c->link));
	}
}

struct req {
	rpr_cli_cb cb;
	void *ctx;
};

static void on_answer(void *ctx, int err, const struct mesh_acc_msg *rsp)
{
	struct req q = *(struct req *)ctx;
	struct rpr_msg m;
	int r = err;

	free(ctx);
	if (!err) {
		r = rpr_msg_decode(rsp->opcode, rsp->params, rsp->len, &m);
	}
	q.cb(q.ctx, r, rsp ? rsp->src : 0, r ? NULL : &m);
}

static int build(const struct rpr_msg *m, uint16_t net_idx, uint16_t dst, const uint8_t *dev_key,
		 uint8_t *params, size_t cap, struct mesh_node_msg *out)
{
	size_t len;
	int r = rpr_msg_encode(m, params, cap, &len);

	if (r) {
		return r == -ENOENT ? -EINVAL : r;
	}
	memset(out, 0, sizeof(*out));
	out->net_idx = net_idx;
	out->app_idx = MESH_APP_IDX_DEV;
	out->dev_key = dev_key;
	out->dst = dst;
	out->ttl = MESH_TTL_DEFAULT;
	out->opcode = m->op;
	out->params = params;
	out->len = len;
	return 0;
}

int rpr_cli_request(struct rpr_cli *c, uint16_t net_idx, uint16_t dst, const uint8_t *dev_key,
		    const struct rpr_msg *req, uint32_t timeout_ms, uint32_t retry_ms,
		    rpr_cli_cb cb, void *ctx, uint64_t now_ms)
{
	uint8_t params[MESH_ACC_PAYLOAD_MAX];
	uint32_t expect = rpr_cli_status_op(req->op);
	struct mesh_node_msg m;
	struct req *q;
	int r;

	if (!expect || !cb || !mesh_addr_is_unicast(dst)) {
		return -EINVAL;
	}
	r = build(req, net_idx, dst, dev_key, params, sizeof(params), &m);
	if (r) {
		return r;
	}
	q = malloc(sizeof(*q));
	if (!q) {
		return -ENOMEM;
	}
	q->cb = cb;
	q->ctx = ctx;
	r = mesh_cli_request(c->cli, &m, expect, timeout_ms, retry_ms, on_answer, q, now_ms);
	if (r) {
		free(q);
	}
	return r;
}

int rpr_cli_send(struct rpr_cli *c, uint16_t net_idx, uint16_t dst, const uint8_t *dev_key,
		 const struct rpr_msg *msg, uint64_t now_ms, uint32_t *handle)
{
	uint8_t params[MESH_ACC_PAYLOAD_MAX];
	struct mesh_node_msg m;
	int r;

	if (!mesh_addr_is_unicast(dst)) {
		return -EINVAL;
	}
	r = build(msg, net_idx, dst, dev_key, params, sizeof(params), &m);
	if (!r) {
		r = mesh_node_send(c->node, &m, now_ms, handle);
	}
	/* PDU Send carries provisioning secrets (Provisioning Data is encrypted, but still). */
	mesh_crypto_wipe(params, sizeof(params));
	return r;
}

void rpr_cli_answered(struct rpr_cli *c, uint32_t handle, uint64_t now_ms)
{
	if (handle) {
		(void)mesh_node_send_answered(c->node, handle, now_ms);
	}
}

size_t rpr_cli_cancel(struct rpr_cli *c, uint16_t dst)
{
	return mesh_cli_cancel(c->cli, dst);
}

uint64_t rpr_cli_next_deadline(const struct rpr_cli *c)
{
	return mesh_cli_next_deadline(c->cli);
}

void rpr_cli_tick(struct rpr_cli *c, uint64_t now_ms)
{
	mesh_cli_tick(c->cli, now_ms);
}

struct mesh_node *rpr_cli_node(struct rpr_cli *c)
{
	return c->node;
}
