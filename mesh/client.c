#include "mesh/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/crypto.h"

struct pending {
	bool used;
	uint64_t seq; /* order of issue: the oldest match wins */
	struct mesh_node_msg msg;
	uint8_t params[MESH_ACC_PAYLOAD_MAX];
	uint8_t label[16];
	uint8_t dev_key[16];
	uint32_t expect;
	uint64_t deadline; /* give up */
	uint64_t resend;   /* next retransmission */
	uint32_t retry_ms;
	uint32_t handle; /* of the last send when segmented, else 0 */
	mesh_cli_cb cb;
	void *ctx;
};

struct mesh_cli {
	struct mesh_node *node;
	struct mesh_acc_model *mdl;
	struct mesh_acc_op ops[MESH_CLI_OPS_MAX];
	size_t n_ops;
	void (*unsolicited)(void *ctx, const struct mesh_acc_msg *msg);
	void *ctx;
	struct pending p[MESH_CLI_PENDING_MAX];
	uint64_t next_seq;
};

static void finish(struct pending *p, int err, const struct mesh_acc_msg *rsp)
{
	mesh_cli_cb cb = p->cb;
	void *ctx = p->ctx;

	/* Clear first: the callback may issue a new request into this slot. */
	mesh_crypto_wipe(p, sizeof(*p));
	if (cb) {
		cb(ctx, err, rsp);
	}
}

static int on_status(struct mesh_acc_model *mdl, const struct mesh_acc_msg *msg, void *user)
{
	struct mesh_cli *c = user;
	struct pending *best = NULL;
	size_t i;

	(void)mdl;
	for (i = 0; i < MESH_CLI_PENDING_MAX; i++) {
		struct pending *p = &c->p[i];

		/*
		 * A status answers a request to the same node; a request to a
		 * group or virtual address takes the first answer from anyone.
		 */
		if (p->used && p->expect == msg->opcode &&
		    (p->msg.dst == msg->src || !mesh_addr_is_unicast(p->msg.dst)) &&
		    (!best || p->seq < best->seq)) {
			best = p;
		}
	}
	if (best) {
		/*
		 * The answer shows the request arrived whole: no segment of it
		 * needs to go again (a request to a group may still be missing
		 * at other members, so only for unicast).
		 */
		if (best->handle && mesh_addr_is_unicast(best->msg.dst)) {
			(void)mesh_node_send_answered(c->node, best->handle,
						      mesh_node_now(c->node));
		}
		finish(best, 0, msg);
	} else if (c->unsolicited) {
		c->unsolicited(c->ctx, msg);
	}
	return 0;
}

struct mesh_cli *mesh_cli_new(struct mesh_node *node, uint8_t elem, struct mesh_model_id id,
			      bool dev_key, const uint32_t *status_ops, size_t n_ops,
			      void (*unsolicited)(void *ctx, const struct mesh_acc_msg *msg),
			      void *ctx)
{
	struct mesh_cli *c;
	size_t i;

	if (n_ops > MESH_CLI_OPS_MAX) {
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		return NULL;
	}
	c->node = node;
	c->unsolicited = unsolicited;
	c->ctx = ctx;
	for (i = 0; i < n_ops; i++) {
		c->ops[i].opcode = status_ops[i];
		c->ops[i].min_len = 0;
		c->ops[i].max_len = -1;
		c->ops[i].handler = on_status;
	}
	c->n_ops = n_ops;
	if (mesh_acc_model_add(mesh_node_acc(node), elem, id, dev_key ? MESH_ACC_MODEL_DEV_KEY : 0,
			       c->ops, n_ops, c, &c->mdl)) {
		free(c);
		return NULL;
	}
	return c;
}

void mesh_cli_free(struct mesh_cli *c)
{
	if (!c) {
		return;
	}
	(void)mesh_cli_cancel_all(c);
	(void)mesh_acc_model_del(mesh_node_acc(c->node), c->mdl);
	free(c);
}

struct mesh_acc_model *mesh_cli_model(struct mesh_cli *c)
{
	return c->mdl;
}

int mesh_cli_request(struct mesh_cli *c, const struct mesh_node_msg *req, uint32_t expect_op,
		     uint32_t timeout_ms, uint32_t retry_ms, mesh_cli_cb cb, void *ctx,
		     uint64_t now_ms)
{
	struct pending *p = NULL;
	uint32_t h = 0;
	size_t i;
	int r;

	if (req->len > MESH_ACC_PAYLOAD_MAX) {
		return -EINVAL;
	}
	if (expect_op) {
		for (i = 0; i < MESH_CLI_PENDING_MAX && !p; i++) {
			if (!c->p[i].used) {
				p = &c->p[i];
			}
		}
		if (!p) {
			return -ENOSPC;
		}
	}
	r = mesh_node_send(c->node, req, now_ms, &h);
	if ((r == -ENOBUFS || r == -ENOSPC) && p && retry_ms) {
		/*
		 * The bearer's queue is full (a legacy controller carries one PDU at a time), or
		 * the node's send queue is (segmented sends to many nodes at once): the request
		 * stays pending and its first retry sends it, as for a lost request, within its
		 * timeout.
		 */
		r = 0;
	}
	if (r || !p) {
		return r;
	}
	p->used = true;
	p->seq = c->next_seq++;
	p->msg = *req;
	memcpy(p->params, req->params, req->len);
	p->msg.params = p->params;
	if (req->label) {
		memcpy(p->label, req->label, 16);
		p->msg.label = p->label;
	}
	if (req->dev_key) {
		memcpy(p->dev_key, req->dev_key, 16);
		p->msg.dev_key = p->dev_key;
	}
	p->expect = expect_op;
	p->deadline = now_ms + timeout_ms;
	p->retry_ms = retry_ms;
	p->handle = h;
	p->resend = retry_ms ? now_ms + retry_ms : UINT64_MAX;
	p->cb = cb;
	p->ctx = ctx;
	return 0;
}

size_t mesh_cli_cancel(struct mesh_cli *c, uint16_t dst)
{
	size_t i, n = 0;

	for (i = 0; i < MESH_CLI_PENDING_MAX; i++) {
		if (c->p[i].used && c->p[i].msg.dst == dst) {
			finish(&c->p[i], -ECANCELED, NULL);
			n++;
		}
	}
	return n;
}

size_t mesh_cli_cancel_all(struct mesh_cli *c)
{
	size_t i, n = 0;

	for (i = 0; i < MESH_CLI_PENDING_MAX; i++) {
		if (c->p[i].used) {
			finish(&c->p[i], -ECANCELED, NULL);
			n++;
		}
	}
	return n;
}

size_t mesh_cli_pending(const struct mesh_cli *c)
{
	size_t i, n = 0;

	for (i = 0; i < MESH_CLI_PENDING_MAX; i++) {
		n += c->p[i].used;
	}
	return n;
}

uint64_t mesh_cli_next_deadline(const struct mesh_cli *c)
{
	uint64_t d = UINT64_MAX;
	size_t i;

	for (i = 0; i < MESH_CLI_PENDING_MAX; i++) {
		const struct pending *p = &c->p[i];

		if (p->used) {
			d = p->deadline < d ? p->deadline : d;
			d = p->resend < d ? p->resend : d;
		}
	}
	return d;
}

void mesh_cli_tick(struct mesh_cli *c, uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < MESH_CLI_PENDING_MAX; i++) {
		struct pending *p = &c->p[i];

		if (!p->used) {
			continue;
		}
		if (p->deadline <= now_ms) {
			finish(p, -ETIMEDOUT, NULL);
		} else if (p->resend <= now_ms) {
			/* A lost request or a lost status: ask again (same parameters). */
			uint32_t h = 0;

			/*
			 * A repeat while the previous one is still in flight waits
			 * behind it (handle 0): the answer then stops the one in flight.
			 */
			if (mesh_node_send(c->node, &p->msg, now_ms, &h) == 0 && h) {
				p->handle = h;
			}
			p->resend = now_ms + p->retry_ms;
		}
	}
}
