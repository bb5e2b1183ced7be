/*
 * Applying a relay plan (see relay_apply.h).  The work list is built once:
 * relays by ascending ring, then the others by descending ring; `next`
 * walks it and at most cfg.window requests are in flight.  Each request
 * carries a small context that points back here; gw_relay_apply_free()
 * with requests in flight detaches them (ctx->a = NULL), so their late
 * answers free only themselves.
 */
#include "gateway/relay_apply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct item {
	uint16_t addr;
	bool relay;
	uint8_t hops;
};

struct req {
	struct gw_relay_apply *a;
	size_t idx;
};

struct gw_relay_apply {
	struct cfg_cli *cli;
	struct mesh_node *node;
	struct gw_relay_apply_cfg cfg;
	struct gw_relay_apply_ops ops;
	struct item *items;
	size_t n, next, ok, failed;
	struct req **inflight; /* cfg.window slots, NULL when free */
	unsigned n_inflight;
	bool done;
	uint64_t now;
};

void gw_relay_apply_cfg_default(struct gw_relay_apply_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->relay_xmit = (1 << 3) | 1;
	cfg->timeout_ms = 10000;
	cfg->retry_ms = 2000;
	cfg->window = 4;
}

static int cmp_item(const void *x, const void *y)
{
	const struct item *a = x, *b = y;

	if (a->relay != b->relay) {
		return a->relay ? -1 : 1; /* relays first */
	}
	if (a->hops != b->hops) {
		/* Relays nearest first; the others farthest first. */
		return (a->hops < b->hops) == a->relay ? -1 : 1;
	}
	return (int)a->addr - (int)b->addr;
}

static void pump(struct gw_relay_apply *a);

static void on_status(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct req *q = ctx;
	struct gw_relay_apply *a = q->a;
	const struct item *it;
	unsigned i;

	(void)src;
	if (!a) {
		free(q); /* abandoned */
		return;
	}
	a->now = mesh_node_now(a->node);
	it = &a->items[q->idx];
	for (i = 0; i < a->cfg.window; i++) {
		if (a->inflight[i] == q) {
			a->inflight[i] = NULL;
		}
	}
	a->n_inflight--;
	free(q);
	/* The status tells the state the node now has: it must be the one asked for. */
	if (!err && (rsp->op != CFG_OP_RELAY_STATUS || (rsp->relay.relay == 1) != it->relay)) {
		err = -EPROTO;
	}
	if (err) {
		a->failed++;
	} else {
		a->ok++;
	}
	if (a->ops.node) {
		a->ops.node(a->ops.ctx, it->addr, it->relay, err);
	}
	pump(a);
}

static int send_one(struct gw_relay_apply *a, size_t idx)
{
	struct cfg_msg m = {.op = CFG_OP_RELAY_SET};
	struct req *q = malloc(sizeof(*q));
	unsigned i;
	int r;

	if (!q) {
		return -ENOMEM;
	}
	q->a = a;
	q->idx = idx;
	m.relay.relay = a->items[idx].relay ? 1 : 0;
	m.relay.retransmit = a->cfg.relay_xmit;
	for (i = 0; i < a->cfg.window && a->inflight[i]; i++) {
	}
	a->inflight[i] = q;
	a->n_inflight++;
	r = cfg_cli_request(a->cli, a->cfg.net_idx, a->items[idx].addr, NULL, &m, a->cfg.timeout_ms,
			    a->cfg.retry_ms, on_status, q, a->now);
	if (r) {
		a->inflight[i] = NULL;
		a->n_inflight--;
		free(q);
	}
	return r;
}

/* Fill the window; report done once nothing is left. */
static void pump(struct gw_relay_apply *a)
{
	/*
	 * Switch-offs wait until every switch-on has ended, so no node loses
	 * its path before the relays that replace it are on.
	 */
	while (a->next < a->n && a->n_inflight < a->cfg.window) {
		const struct item *it = &a->items[a->next];
		int r;

		if (!it->relay && a->next > 0 && a->items[a->next - 1].relay && a->n_inflight) {
			break;
		}
		r = send_one(a, a->next++);
		if (r) {
			a->failed++;
			if (a->ops.node) {
				a->ops.node(a->ops.ctx, it->addr, it->relay, r);
			}
		}
	}
	if (a->next == a->n && a->n_inflight == 0 && !a->done) {
		a->done = true;
		a->ops.done(a->ops.ctx, a->ok, a->failed);
	}
}

int gw_relay_apply_start(struct cfg_cli *cli, struct mesh_node *node,
			 const struct gw_relay_plan *plan, const uint16_t *addrs,
			 const uint8_t *elements, const struct gw_relay_apply_cfg *cfg,
			 const struct gw_relay_apply_ops *ops, uint64_t now_ms,
			 struct gw_relay_apply **out)
{
	struct gw_relay_apply *a;
	size_t i;

	if (!cli || !node || !plan || (plan->n && !addrs) || !cfg || cfg->window < 1 || !ops ||
	    !ops->done || !out || cfg->ttl_margin > 126) {
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		return -ENOMEM;
	}
	a->items = calloc(plan->n + 1, sizeof(*a->items));
	a->inflight = calloc(cfg->window, sizeof(*a->inflight));
	if (!a->items || !a->inflight) {
		gw_relay_apply_free(a);
		return -ENOMEM;
	}
	a->cli = cli;
	a->node = node;
	a->cfg = *cfg;
	a->ops = *ops;
	a->now = now_ms;
	for (i = 0; i < plan->n; i++) {
		uint8_t h = plan->hops[i];

		if (h == GW_RELAY_PLAN_UNREACHED) {
			continue;
		}
		a->items[a->n++] = (struct item){addrs[i], plan->relay[i], h};
		if (cfg->set_ttl) {
			/* Ring 1 with no margin: TTL 0, heard directly and repeated by nobody. */
			unsigned ttl = h + cfg->ttl_margin;
			int r = mesh_node_dst_ttl_set(node, addrs[i], elements ? elements[i] : 1,
						      (uint8_t)(ttl == 1    ? 0
								: ttl > 127 ? 127
									    : ttl));

			if (r) {
				gw_relay_apply_free(a);
				return r;
			}
		}
	}
	if (a->n) {
		qsort(a->items, a->n, sizeof(*a->items), cmp_item);
	}
	*out = a;
	pump(a);
	return 0;
}

void gw_relay_apply_free(struct gw_relay_apply *a)
{
	unsigned i;

	if (!a) {
		return;
	}
	for (i = 0; a->inflight && i < a->cfg.window; i++) {
		if (a->inflight[i]) {
			a->inflight[i]->a = NULL;
		}
	}
	free(a->inflight);
	free(a->items);
	free(a);
}
