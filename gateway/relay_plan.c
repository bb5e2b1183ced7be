/*
 * Relay planning (see relay_plan.h).  Vertex 0 is the gateway, vertex i+1
 * the input node i; links become a compressed adjacency (CSR) of the edges
 * at or above the threshold.
 */
#include "gateway/relay_plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct edge {
	uint32_t a, b; /* vertices, a < b after normalising */
	int8_t rssi;
};

struct graph {
	size_t nv;
	size_t *first; /* nv + 1 offsets into adj */
	uint32_t *adj;
	int8_t *rssi;
};

struct addr_ix {
	uint16_t addr;
	uint32_t v;
};

static int cmp_addr(const void *x, const void *y)
{
	const struct addr_ix *a = x, *b = y;

	return (int)a->addr - (int)b->addr;
}

static int cmp_edge(const void *x, const void *y)
{
	const struct edge *a = x, *b = y;

	if (a->a != b->a) {
		return a->a < b->a ? -1 : 1;
	}
	if (a->b != b->b) {
		return a->b < b->b ? -1 : 1;
	}
	return 0;
}

void gw_relay_plan_cfg_default(struct gw_relay_plan_cfg *cfg)
{
	cfg->min_rssi = -85;
	cfg->max_hops = 10;
	cfg->redundancy = 2;
	cfg->keep = NULL;
}

void gw_relay_plan_free(struct gw_relay_plan *p)
{
	free(p->relay);
	free(p->hops);
	free(p->heard);
	memset(p, 0, sizeof(*p));
}

static void graph_free(struct graph *g)
{
	free(g->first);
	free(g->adj);
	free(g->rssi);
}

/* Vertex of an address: 0 for the gateway, i+1 for node i, UINT32_MAX when unknown. */
static uint32_t vertex(const struct addr_ix *ix, size_t n, uint16_t addr)
{
	struct addr_ix key = {.addr = addr};
	const struct addr_ix *hit;

	if (addr == GW_RELAY_PLAN_GATEWAY) {
		return 0;
	}
	hit = bsearch(&key, ix, n, sizeof(*ix), cmp_addr);
	return hit ? hit->v : UINT32_MAX;
}

/*
 * Merge the receptions into undirected edges (the weakest reception of a
 * pair stands for the link) and keep those at or above min_rssi.
 */
static int build_graph(const struct addr_ix *ix, size_t n, const struct gw_relay_link *links,
		       size_t n_links, int8_t min_rssi, struct graph *g)
{
	struct edge *e = n_links ? malloc(n_links * sizeof(*e)) : NULL;
	size_t ne = 0, i, k, *fill = NULL;

	g->nv = n + 1;
	g->first = calloc(g->nv + 1, sizeof(*g->first));
	if ((n_links && !e) || !g->first) {
		free(e);
		return -ENOMEM;
	}
	for (i = 0; i < n_links; i++) {
		uint32_t a = vertex(ix, n, links[i].from), b = vertex(ix, n, links[i].to);

		if (a == UINT32_MAX || b == UINT32_MAX || a == b) {
			continue;
		}
		e[ne].a = a < b ? a : b;
		e[ne].b = a < b ? b : a;
		e[ne].rssi = links[i].rssi;
		ne++;
	}
	if (ne) {
		qsort(e, ne, sizeof(*e), cmp_edge);
	}
	/* Collapse duplicates to their weakest reception, then drop weak links. */
	for (i = 0, k = 0; i < ne; i++) {
		if (k && e[k - 1].a == e[i].a && e[k - 1].b == e[i].b) {
			if (e[i].rssi < e[k - 1].rssi) {
				e[k - 1].rssi = e[i].rssi;
			}
			continue;
		}
		e[k++] = e[i];
	}
	for (i = 0, ne = 0; i < k; i++) {
		if (e[i].rssi >= min_rssi) {
			e[ne++] = e[i];
		}
	}
	for (i = 0; i < ne; i++) {
		g->first[e[i].a + 1]++;
		g->first[e[i].b + 1]++;
	}
	for (i = 0; i < g->nv; i++) {
		g->first[i + 1] += g->first[i];
	}
	g->adj = malloc((2 * ne + 1) * sizeof(*g->adj));
	g->rssi = malloc(2 * ne + 1);
	fill = malloc(g->nv * sizeof(*fill));
	if (!g->adj || !g->rssi || !fill) {
		free(e);
		free(fill);
		return -ENOMEM;
	}
	memcpy(fill, g->first, g->nv * sizeof(*fill));
	for (i = 0; i < ne; i++) {
		g->adj[fill[e[i].a]] = e[i].b;
		g->rssi[fill[e[i].a]++] = e[i].rssi;
		g->adj[fill[e[i].b]] = e[i].a;
		g->rssi[fill[e[i].b]++] = e[i].rssi;
	}
	free(fill);
	free(e);
	return 0;
}

/* Breadth-first hop counts from the gateway; UNREACHED beyond max_hops. */
static int bfs(const struct graph *g, uint8_t max_hops, uint8_t *dist)
{
	uint32_t *q = malloc(g->nv * sizeof(*q));
	size_t head = 0, tail = 0, i;

	if (!q) {
		return -ENOMEM;
	}
	memset(dist, GW_RELAY_PLAN_UNREACHED, g->nv);
	dist[0] = 0;
	q[tail++] = 0;
	while (head < tail) {
		uint32_t v = q[head++];

		if (dist[v] == max_hops) {
			continue;
		}
		for (i = g->first[v]; i < g->first[v + 1]; i++) {
			uint32_t w = g->adj[i];

			if (dist[w] == GW_RELAY_PLAN_UNREACHED) {
				dist[w] = (uint8_t)(dist[v] + 1);
				q[tail++] = w;
			}
		}
	}
	free(q);
	return 0;
}

struct work {
	const struct graph *g;
	const struct addr_ix *by_vertex; /* addresses by vertex (index v - 1) */
	const uint8_t *dist;
	uint8_t *need;
	uint16_t *got;              /* relays heard on the ring before (the gateway counted) */
	bool *cand, *chosen, *keep; /* keep: chosen before the greedy, never pruned */
	uint8_t redundancy;
	uint32_t *order; /* relays in the order they were chosen */
	size_t n_order;
};

/* Missing coverage candidate c would fill on ring d + 1, and the strength of those links. */
static size_t gain(const struct work *w, uint32_t c, long *strength)
{
	size_t i, n = 0;

	*strength = 0;
	for (i = w->g->first[c]; i < w->g->first[c + 1]; i++) {
		uint32_t t = w->g->adj[i];

		if (w->dist[t] == w->dist[c] + 1 && w->got[t] < w->need[t]) {
			n++;
			*strength += w->g->rssi[i];
		}
	}
	return n;
}

static uint16_t vaddr(const struct work *w, uint32_t v)
{
	return v ? w->by_vertex[v - 1].addr : GW_RELAY_PLAN_GATEWAY;
}

/* A relay candidate: can relay and is itself reached (ring d is final when ring d+1 is planned). */
static bool usable(const struct work *w, uint32_t v)
{
	return w->cand[v] && w->got[v] > 0;
}

/*
 * A node on ring d+1 needs `redundancy` relays among its usable neighbours
 * on ring d; when it has none it is not reached in d+1 hops (the plan does
 * not lengthen routes) and is reported unreached.
 */
static void set_need(struct work *w, uint8_t d)
{
	uint32_t v;
	size_t j;

	for (v = 1; v < w->g->nv; v++) {
		size_t avail = 0;

		if (w->dist[v] != d + 1) {
			continue;
		}
		for (j = w->g->first[v]; j < w->g->first[v + 1]; j++) {
			uint32_t u = w->g->adj[j];

			avail += w->dist[u] == d && usable(w, u);
		}
		w->need[v] = (uint8_t)(avail < w->redundancy ? avail : w->redundancy);
	}
}

static void choose_relay(struct work *w, uint32_t v)
{
	w->chosen[v] = true;
	w->order[w->n_order++] = v;
	for (size_t i = w->g->first[v]; i < w->g->first[v + 1]; i++) {
		uint32_t t = w->g->adj[i];

		if (w->dist[t] == w->dist[v] + 1) {
			w->got[t]++;
		}
	}
}

/* Greedy multicover of ring d + 1 by the usable nodes of ring d, the kept ones first. */
static void cover_ring(struct work *w, uint8_t d)
{
	uint32_t v;

	set_need(w, d);
	for (v = 1; v < w->g->nv; v++) {
		if (w->dist[v] == d && w->keep[v] && usable(w, v)) {
			choose_relay(w, v);
		}
	}
	for (;;) {
		uint32_t best = UINT32_MAX;
		size_t best_gain = 0;
		long best_str = 0;

		for (v = 1; v < w->g->nv; v++) {
			long str;
			size_t gn;

			if (w->dist[v] != d || !usable(w, v) || w->chosen[v]) {
				continue;
			}
			gn = gain(w, v, &str);
			if (gn > best_gain ||
			    (gn && gn == best_gain &&
			     (str > best_str ||
			      (str == best_str && vaddr(w, v) < vaddr(w, best))))) {
				best = v;
				best_gain = gn;
				best_str = str;
			}
		}
		if (best == UINT32_MAX) {
			return;
		}
		choose_relay(w, best);
	}
}

/* Drop relays (last chosen first) whose every next-ring neighbour has coverage to spare. */
static void prune(struct work *w)
{
	size_t k = w->n_order;

	while (k--) {
		uint32_t c = w->order[k];
		size_t i;
		bool spare = true;

		for (i = w->g->first[c]; i < w->g->first[c + 1] && spare; i++) {
			uint32_t t = w->g->adj[i];

			spare = w->dist[t] != w->dist[c] + 1 || w->got[t] > w->need[t];
		}
		if (!spare || w->keep[c]) {
			continue;
		}
		w->chosen[c] = false;
		for (i = w->g->first[c]; i < w->g->first[c + 1]; i++) {
			uint32_t t = w->g->adj[i];

			if (w->dist[t] == w->dist[c] + 1) {
				w->got[t]--;
			}
		}
	}
}

static int plan(const struct graph *g, const struct gw_relay_node *nodes, size_t n,
		const struct addr_ix *by_vertex, const struct gw_relay_plan_cfg *cfg,
		struct gw_relay_plan *out)
{
	struct work w = {.g = g, .by_vertex = by_vertex, .redundancy = cfg->redundancy};
	uint8_t *dist = malloc(g->nv), maxd = 0;
	size_t i;
	int r = -ENOMEM;

	w.need = calloc(g->nv, 1);
	w.got = calloc(g->nv, sizeof(*w.got));
	w.cand = calloc(g->nv, sizeof(bool));
	w.chosen = calloc(g->nv, sizeof(bool));
	w.keep = calloc(g->nv, sizeof(bool));
	w.order = malloc(g->nv * sizeof(*w.order));
	if (!dist || !w.need || !w.got || !w.cand || !w.chosen || !w.keep || !w.order ||
	    (r = bfs(g, cfg->max_hops, dist))) {
		goto out;
	}
	w.dist = dist;
	for (i = 0; i < n; i++) {
		w.cand[i + 1] = nodes[i].can_relay;
		w.keep[i + 1] = cfg->keep && cfg->keep[i] && nodes[i].can_relay;
	}
	for (i = 1; i < g->nv; i++) {
		if (dist[i] != GW_RELAY_PLAN_UNREACHED && dist[i] > maxd) {
			maxd = dist[i];
		}
	}
	/* The gateway covers ring 1 by itself. */
	for (i = g->first[0]; i < g->first[1]; i++) {
		w.got[g->adj[i]] = 1;
	}
	for (i = 1; i < maxd; i++) {
		cover_ring(&w, (uint8_t)i);
	}
	prune(&w);
	for (i = 0; i < n; i++) {
		uint32_t v = (uint32_t)i + 1;
		bool reached = dist[v] != GW_RELAY_PLAN_UNREACHED && w.got[v] > 0;

		out->relay[i] = w.chosen[v] || w.keep[v];
		out->hops[i] = reached ? dist[v] : GW_RELAY_PLAN_UNREACHED;
		out->heard[i] = (uint8_t)(!reached ? 0 : w.got[v] > 255 ? 255 : w.got[v]);
		out->n_relays += out->relay[i];
		out->n_unreached += !reached;
	}
	r = 0;
out:
	free(dist);
	free(w.need);
	free(w.got);
	free(w.cand);
	free(w.chosen);
	free(w.keep);
	free(w.order);
	return r;
}

int gw_relay_plan_compute(const struct gw_relay_node *nodes, size_t n,
			  const struct gw_relay_link *links, size_t n_links,
			  const struct gw_relay_plan_cfg *cfg, struct gw_relay_plan *out)
{
	struct addr_ix *ix = NULL, *by_vertex = NULL;
	struct graph g = {0};
	size_t i;
	int r = -ENOMEM;

	if (!cfg || !out || (n && !nodes) || (n_links && !links) || n > GW_RELAY_PLAN_NODES_MAX ||
	    cfg->max_hops < 1 || cfg->max_hops > 127 || cfg->redundancy < 1) {
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	ix = malloc((n + 1) * sizeof(*ix));
	by_vertex = malloc((n + 1) * sizeof(*by_vertex));
	if (!ix || !by_vertex) {
		goto out;
	}
	for (i = 0; i < n; i++) {
		ix[i].addr = nodes[i].addr;
		ix[i].v = (uint32_t)i + 1;
		by_vertex[i] = ix[i];
	}
	if (n) {
		qsort(ix, n, sizeof(*ix), cmp_addr);
	}
	for (i = 0; i < n; i++) {
		if (ix[i].addr == GW_RELAY_PLAN_GATEWAY || (i && ix[i].addr == ix[i - 1].addr)) {
			r = -EINVAL;
			goto out;
		}
	}
	out->n = n;
	out->relay = calloc(n + 1, sizeof(bool));
	out->hops = calloc(n + 1, 1);
	out->heard = calloc(n + 1, 1);
	if (!out->relay || !out->hops || !out->heard) {
		goto out;
	}
	r = build_graph(ix, n, links, n_links, cfg->min_rssi, &g);
	if (!r) {
		r = plan(&g, nodes, n, by_vertex, cfg, out);
	}
out:
	graph_free(&g);
	free(ix);
	free(by_vertex);
	if (r) {
		gw_relay_plan_free(out);
	}
	return r;
}
