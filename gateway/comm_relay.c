/*
 * The commission job's relay and TTL choices (comm_relay.h).  Vertex 0 is
 * the gateway, vertex i+1 device i, as in relay_plan.c; the plan is given
 * the same numbering as addresses (i+1), so the devices that have no
 * address yet take part too.
 */
#include "gateway/comm_relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Relays each node should hear.  One: the plan's backbone is the smallest
 * it builds, and every relay more repeats every message that reaches it.
 * A message lost on the one path is sent again by the Configuration
 * Client (GW_CFG_RETRY_MS).  Measured on office.json with one
 * transmission per relay (COMM_RELAY_XMIT in commission.c): 903 network
 * packets per device with one, 1,048 with two (19 relays against 14).
 */
#define COMM_RELAY_REDUNDANCY 1

struct arc {
	uint32_t from, to;
};

static int cmp_arc(const void *x, const void *y)
{
	const struct arc *a = x, *b = y;

	return a->from != b->from ? (a->from < b->from ? -1 : 1)
	       : a->to != b->to   ? (a->to < b->to ? -1 : 1)
				  : 0;
}

static int cmp_from(const void *x, const void *y)
{
	const struct arc *a = x, *b = y;

	return a->from != b->from ? (a->from < b->from ? -1 : 1) : 0;
}

/* Vertex of a via: 0 for the gateway, i+1 for the device at that address, 0xffffffff if none. */
static uint32_t via_vertex(const struct arc *by_addr, size_t n, uint16_t via)
{
	struct arc key = {.from = via}, *hit;

	if (!via) {
		return 0;
	}
	hit = bsearch(&key, by_addr, n, sizeof(*by_addr), cmp_from);
	return hit ? hit->to : UINT32_MAX;
}

/* Breadth-first from the gateway, passing only through relaying devices. */
static uint8_t bfs_hops(const struct gw_comm_dev *devs, size_t n, const struct arc *arcs,
			size_t n_arcs, size_t x)
{
	size_t *first = calloc(n + 2, sizeof(*first));
	uint32_t *queue = malloc((n + 1) * sizeof(*queue));
	uint8_t *dist = malloc(n + 1), hops = GW_RELAY_PLAN_UNREACHED;
	size_t head = 0, tail = 0, i;

	if (!first || !queue || !dist) {
		goto out;
	}
	for (i = 0; i < n_arcs; i++) {
		first[arcs[i].from + 1]++;
	}
	for (i = 0; i <= n; i++) {
		first[i + 1] += first[i];
	}
	memset(dist, GW_RELAY_PLAN_UNREACHED, n + 1);
	dist[0] = 0;
	queue[tail++] = 0;
	while (head < tail) {
		uint32_t u = queue[head++];

		if (u != 0 && !devs[u - 1].relays) {
			continue; /* reached, but repeats nothing */
		}
		for (i = first[u]; i < first[u + 1]; i++) {
			uint32_t v = arcs[i].to;

			if (dist[v] == GW_RELAY_PLAN_UNREACHED &&
			    dist[u] + 1u < GW_RELAY_PLAN_UNREACHED) {
				dist[v] = (uint8_t)(dist[u] + 1);
				queue[tail++] = v;
			}
		}
	}
	hops = dist[x + 1];
out:
	free(first);
	free(queue);
	free(dist);
	return hops;
}

int gw_comm_relay_choose(const struct gw_comm_dev *devs, size_t n, const struct gw_comm_heard *h,
			 size_t n_heard, size_t x, bool *relay, uint8_t *hops, bool *want)
{
	struct gw_relay_plan_cfg cfg;
	struct gw_relay_plan plan = {0};
	struct gw_relay_node *nodes = NULL;
	struct gw_relay_link *links = NULL;
	struct arc *arcs = NULL, *by_addr = NULL; /* by_addr: (address, vertex) */
	bool *keep = NULL;
	size_t n_links = 0, n_arcs = 0, n_addr = 0, i;
	int r = -ENOMEM;

	if (x >= n || n > GW_RELAY_PLAN_NODES_MAX) {
		return -EINVAL;
	}
	gw_relay_plan_cfg_default(&cfg);
	cfg.redundancy = COMM_RELAY_REDUNDANCY;
	/*
	 * Every node the job reaches is planned for, however deep: a node
	 * left out of the plan gets no relay towards it, and the servers
	 * before it, set off at their own relay step, are never switched back
	 * on (building.json is 14 hops deep; the default of 10 cut its far
	 * ends off).  126: the deepest whose Default TTL (hops + 1) fits.
	 */
	cfg.max_hops = 126;
	nodes = malloc(n * sizeof(*nodes));
	keep = malloc(n * sizeof(*keep));
	cfg.keep = keep;
	links = malloc((n_heard ? n_heard : 1) * sizeof(*links));
	arcs = malloc((n_heard ? 2 * n_heard : 1) * sizeof(*arcs));
	by_addr = malloc(n * sizeof(*by_addr));
	if (!nodes || !keep || !links || !arcs || !by_addr) {
		goto out;
	}
	for (i = 0; i < n; i++) {
		nodes[i].addr = (uint16_t)(i + 1);
		nodes[i].can_relay = devs[i].can_relay;
		keep[i] = devs[i].relays;
		if (devs[i].addr) {
			by_addr[n_addr++] = (struct arc){devs[i].addr, (uint32_t)(i + 1)};
		}
	}
	qsort(by_addr, n_addr, sizeof(*by_addr), cmp_from);
	for (i = 0; i < n_heard; i++) {
		uint32_t v = via_vertex(by_addr, n_addr, h[i].via);

		if (v == UINT32_MAX || h[i].dev >= n || v == h[i].dev + 1) {
			continue;
		}
		links[n_links++] = (struct gw_relay_link){
		    .from = (uint16_t)v, .to = (uint16_t)(h[i].dev + 1), .rssi = h[i].rssi};
		if (h[i].rssi >= cfg.min_rssi) {
			arcs[n_arcs++] = (struct arc){v, h[i].dev + 1};
			arcs[n_arcs++] = (struct arc){h[i].dev + 1, v};
		}
	}
	r = gw_relay_plan_compute(nodes, n, links, n_links, &cfg, &plan);
	if (r) {
		goto out;
	}
	if (n_arcs) {
		qsort(arcs, n_arcs, sizeof(*arcs), cmp_arc);
	}
	*relay = plan.relay[x];
	if (want) {
		memcpy(want, plan.relay, n * sizeof(*want));
	}
	*hops = bfs_hops(devs, n, arcs, n_arcs, x);
	gw_relay_plan_free(&plan);
out:
	free(nodes);
	free(keep);
	free(links);
	free(arcs);
	free(by_addr);
	return r;
}

uint8_t gw_comm_ttl_of(uint8_t hops)
{
	if (hops == 0 || hops >= 0x7f) {
		return 0xff;
	}
	return hops == 1 ? 0 : (uint8_t)(hops + 1);
}

uint8_t gw_comm_default_ttl_of(uint8_t hops)
{
	return hops == 0 || hops >= 0x7f ? 0xff : (uint8_t)(hops + 1);
}
