#include "mesh/onoff_srv.h"

#include <errno.h>
#include <stdlib.h>

#include "mesh/onoff_msg.h"

#define TID_WINDOW_MS 6000 /* §3.3.1.2.2: a transaction lasts at most 6 s */

struct onoff_srv {
	struct mesh_node *node;
	struct mesh_acc_model *mdl;
	uint8_t elem;
	bool on;
	void (*changed)(void *ctx, uint8_t elem, bool on);
	void *ctx;
	/* Last transaction, to drop its repetitions. */
	uint16_t last_src, last_dst;
	uint8_t last_tid;
	uint64_t last_time;
	bool has_last;
};

static int status_params(const struct onoff_srv *s, uint8_t *out, size_t *len)
{
	struct onoff_status st = {.present = s->on ? 1 : 0};

	return onoff_msg_status_encode(&st, out, 4, len);
}

static int on_get(struct mesh_acc_model *mdl, const struct mesh_acc_msg *msg, void *user)
{
	struct onoff_srv *s = user;
	uint8_t p[4];
	size_t len;
	int r;

	(void)mdl;
	r = status_params(s, p, &len);
	return r ? r
		 : mesh_node_reply(s->node, msg, s->elem, ONOFF_OP_STATUS, p, len,
				   mesh_node_now(s->node));
}

static int on_set(struct mesh_acc_model *mdl, const struct mesh_acc_msg *msg, void *user)
{
	struct onoff_srv *s = user;
	struct onoff_set set;
	uint64_t now = mesh_node_now(s->node);
	bool repeat;
	uint8_t p[4];
	size_t len;
	int r;

	r = onoff_msg_set_decode(msg->params, msg->len, &set);
	if (r) {
		return r;
	}
	repeat = s->has_last && s->last_src == msg->src && s->last_dst == msg->dst &&
		 s->last_tid == set.tid && now - s->last_time < TID_WINDOW_MS;
	s->has_last = true;
	s->last_src = msg->src;
	s->last_dst = msg->dst;
	s->last_tid = set.tid;
	s->last_time = now;
	if (!repeat && s->on != (set.onoff == 1)) {
		s->on = set.onoff == 1;
		if (s->changed) {
			s->changed(s->ctx, s->elem, s->on);
		}
		/* A state change is published when publication is configured (§3.7.6.1). */
		if (status_params(s, p, &len) == 0) {
			(void)mesh_node_publish(s->node, mdl, ONOFF_OP_STATUS, p, len, now);
		}
	}
	if (msg->opcode == ONOFF_OP_SET_UNACK) {
		return 0;
	}
	r = status_params(s, p, &len);
	return r ? r : mesh_node_reply(s->node, msg, s->elem, ONOFF_OP_STATUS, p, len, now);
}

static const struct mesh_acc_op ops[] = {
    {ONOFF_OP_GET, 0, 0, on_get},
    {ONOFF_OP_SET, 2, 4, on_set},
    {ONOFF_OP_SET_UNACK, 2, 4, on_set},
};

struct onoff_srv *onoff_srv_new(struct mesh_node *node, uint8_t elem,
				void (*changed)(void *ctx, uint8_t elem, bool on), void *ctx)
{
	struct onoff_srv *s = calloc(1, sizeof(*s));
	struct mesh_model_id id = {.vendor = false, .id = 0x1000};

	if (!s) {
		return NULL;
	}
	s->node = node;
	s->elem = elem;
	s->changed = changed;
	s->ctx = ctx;
	if (mesh_acc_model_add(mesh_node_acc(node), elem, id, 0, ops, sizeof(ops) / sizeof(ops[0]),
			       s, &s->mdl)) {
		free(s);
		return NULL;
	}
	return s;
}

void onoff_srv_free(struct onoff_srv *s)
{
	if (s) {
		(void)mesh_acc_model_del(mesh_node_acc(s->node), s->mdl);
	}
	free(s);
}

bool onoff_srv_get(const struct onoff_srv *s)
{
	return s->on;
}

void onoff_srv_set(struct onoff_srv *s, bool on)
{
	s->on = on;
}

struct mesh_acc_model *onoff_srv_model(struct onoff_srv *s)
{
	return s->mdl;
}
