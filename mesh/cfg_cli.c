#include "mesh/cfg_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/client.h"
#include "mesh/crypto.h"

struct cfg_cli {
	struct mesh_cli *cli;
};

/* Request opcode -> status opcode (§4.3.2). */
static const uint32_t answer[][2] = {
    {CFG_OP_APPKEY_ADD, CFG_OP_APPKEY_STATUS},
    {CFG_OP_APPKEY_UPDATE, CFG_OP_APPKEY_STATUS},
    {CFG_OP_APPKEY_DELETE, CFG_OP_APPKEY_STATUS},
    {CFG_OP_APPKEY_GET, CFG_OP_APPKEY_LIST},
    {CFG_OP_COMP_GET, CFG_OP_COMP_STATUS},
    {CFG_OP_BEACON_GET, CFG_OP_BEACON_STATUS},
    {CFG_OP_BEACON_SET, CFG_OP_BEACON_STATUS},
    {CFG_OP_DEFAULT_TTL_GET, CFG_OP_DEFAULT_TTL_STATUS},
    {CFG_OP_DEFAULT_TTL_SET, CFG_OP_DEFAULT_TTL_STATUS},
    {CFG_OP_FRIEND_GET, CFG_OP_FRIEND_STATUS},
    {CFG_OP_FRIEND_SET, CFG_OP_FRIEND_STATUS},
    {CFG_OP_GATT_PROXY_GET, CFG_OP_GATT_PROXY_STATUS},
    {CFG_OP_GATT_PROXY_SET, CFG_OP_GATT_PROXY_STATUS},
    {CFG_OP_KRP_GET, CFG_OP_KRP_STATUS},
    {CFG_OP_KRP_SET, CFG_OP_KRP_STATUS},
    {CFG_OP_MODEL_PUB_GET, CFG_OP_MODEL_PUB_STATUS},
    {CFG_OP_MODEL_PUB_SET, CFG_OP_MODEL_PUB_STATUS},
    {CFG_OP_MODEL_PUB_VA_SET, CFG_OP_MODEL_PUB_STATUS},
    {CFG_OP_MODEL_SUB_ADD, CFG_OP_MODEL_SUB_STATUS},
    {CFG_OP_MODEL_SUB_DELETE, CFG_OP_MODEL_SUB_STATUS},
    {CFG_OP_MODEL_SUB_DELETE_ALL, CFG_OP_MODEL_SUB_STATUS},
    {CFG_OP_MODEL_SUB_OVERWRITE, CFG_OP_MODEL_SUB_STATUS},
    {CFG_OP_MODEL_SUB_VA_ADD, CFG_OP_MODEL_SUB_STATUS},
    {CFG_OP_MODEL_SUB_VA_DELETE, CFG_OP_MODEL_SUB_STATUS},
    {CFG_OP_MODEL_SUB_VA_OVERWRITE, CFG_OP_MODEL_SUB_STATUS},
    {CFG_OP_NET_TRANSMIT_GET, CFG_OP_NET_TRANSMIT_STATUS},
    {CFG_OP_NET_TRANSMIT_SET, CFG_OP_NET_TRANSMIT_STATUS},
    {CFG_OP_RELAY_GET, CFG_OP_RELAY_STATUS},
    {CFG_OP_RELAY_SET, CFG_OP_RELAY_STATUS},
    {CFG_OP_SIG_MODEL_SUB_GET, CFG_OP_SIG_MODEL_SUB_LIST},
    {CFG_OP_VND_MODEL_SUB_GET, CFG_OP_VND_MODEL_SUB_LIST},
    {CFG_OP_LPN_TIMEOUT_GET, CFG_OP_LPN_TIMEOUT_STATUS},
    {CFG_OP_HB_PUB_GET, CFG_OP_HB_PUB_STATUS},
    {CFG_OP_HB_PUB_SET, CFG_OP_HB_PUB_STATUS},
    {CFG_OP_HB_SUB_GET, CFG_OP_HB_SUB_STATUS},
    {CFG_OP_HB_SUB_SET, CFG_OP_HB_SUB_STATUS},
    {CFG_OP_MODEL_APP_BIND, CFG_OP_MODEL_APP_STATUS},
    {CFG_OP_MODEL_APP_UNBIND, CFG_OP_MODEL_APP_STATUS},
    {CFG_OP_NETKEY_ADD, CFG_OP_NETKEY_STATUS},
    {CFG_OP_NETKEY_DELETE, CFG_OP_NETKEY_STATUS},
    {CFG_OP_NETKEY_GET, CFG_OP_NETKEY_LIST},
    {CFG_OP_NETKEY_UPDATE, CFG_OP_NETKEY_STATUS},
    {CFG_OP_NODE_IDENTITY_GET, CFG_OP_NODE_IDENTITY_STATUS},
    {CFG_OP_NODE_IDENTITY_SET, CFG_OP_NODE_IDENTITY_STATUS},
    {CFG_OP_NODE_RESET, CFG_OP_NODE_RESET_STATUS},
    {CFG_OP_SIG_MODEL_APP_GET, CFG_OP_SIG_MODEL_APP_LIST},
    {CFG_OP_VND_MODEL_APP_GET, CFG_OP_VND_MODEL_APP_LIST},
};

#define N_ANSWER (sizeof(answer) / sizeof(answer[0]))

uint32_t cfg_cli_status_op(uint32_t req_op)
{
	size_t i;

	for (i = 0; i < N_ANSWER; i++) {
		if (answer[i][0] == req_op) {
			return answer[i][1];
		}
	}
	return 0;
}

struct cfg_cli *cfg_cli_new(struct mesh_node *node)
{
	struct cfg_cli *c = calloc(1, sizeof(*c));
	uint32_t ops[N_ANSWER];
	size_t i, j, n = 0;
	struct mesh_model_id id = {.vendor = false, .id = 0x0001};

	if (!c) {
		return NULL;
	}
	/* Every distinct status opcode once. */
	for (i = 0; i < N_ANSWER; i++) {
		for (j = 0; j < n && ops[j] != answer[i][1]; j++) {
		}
		if (j == n) {
			ops[n++] = answer[i][1];
		}
	}
	c->cli = mesh_cli_new(node, 0, id, true, ops, n, NULL, NULL);
	if (!c->cli) {
		free(c);
		return NULL;
	}
	return c;
}

void cfg_cli_free(struct cfg_cli *c)
{
	if (!c) {
		return;
	}
	mesh_cli_free(c->cli);
	free(c);
}

struct req {
	cfg_cli_cb cb;
	void *ctx;
};

static void on_answer(void *ctx, int err, const struct mesh_acc_msg *rsp)
{
	struct req *q = ctx;
	struct cfg_msg *m = NULL;
	int r = err;

	if (!err) {
		m = calloc(1, sizeof(*m));
		r = m ? cfg_msg_decode(rsp->opcode, rsp->params, rsp->len, m) : -ENOMEM;
	}
	q->cb(q->ctx, r, rsp ? rsp->src : 0, r ? NULL : m);
	if (m) {
		mesh_crypto_wipe(m, sizeof(*m));
		free(m);
	}
	free(q);
}

int cfg_cli_request(struct cfg_cli *c, uint16_t net_idx, uint16_t dst, const uint8_t *dev_key,
		    const struct cfg_msg *req, uint32_t timeout_ms, uint32_t retry_ms,
		    cfg_cli_cb cb, void *ctx, uint64_t now_ms)
{
	uint8_t params[MESH_ACC_PAYLOAD_MAX];
	struct mesh_node_msg m = {0};
	uint32_t expect = cfg_cli_status_op(req->op);
	struct req *q;
	size_t len;
	int r;

	if (!expect || !cb) {
		return -EINVAL;
	}
	r = cfg_msg_encode(req, params, sizeof(params), &len);
	if (r) {
		return r == -ENOENT ? -EINVAL : r;
	}
	q = malloc(sizeof(*q));
	if (!q) {
		return -ENOMEM;
	}
	q->cb = cb;
	q->ctx = ctx;
	m.net_idx = net_idx;
	m.app_idx = MESH_APP_IDX_DEV;
	m.dev_key = dev_key;
	m.dst = dst;
	m.ttl = MESH_TTL_DEFAULT;
	m.opcode = req->op;
	m.params = params;
	m.len = len;
	r = mesh_cli_request(c->cli, &m, expect, timeout_ms, retry_ms, on_answer, q, now_ms);
	mesh_crypto_wipe(params, sizeof(params));
	if (r) {
		free(q);
	}
	return r;
}

size_t cfg_cli_cancel(struct cfg_cli *c, uint16_t dst)
{
	return mesh_cli_cancel(c->cli, dst);
}

size_t cfg_cli_cancel_all(struct cfg_cli *c)
{
	return mesh_cli_cancel_all(c->cli);
}

uint64_t cfg_cli_next_deadline(const struct cfg_cli *c)
{
	return mesh_cli_next_deadline(c->cli);
}

void cfg_cli_tick(struct cfg_cli *c, uint64_t now_ms)
{
	mesh_cli_tick(c->cli, now_ms);
}
