/*
 * The commission job (commission.h): its kind over the provisioning
 * service's procedure, the scanning coordinator, and the report.
 */
#include "gateway/commission.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/comm_relay.h"
#include "gateway/comm_report.h"
#include "gateway/log.h"
#include "gateway/util.h"
#include "mesh/crypto.h"
#include "mesh/mesh.h"
#include "mesh/node.h"
#include "storage/store_manifest.h"

/*
 * Committed after the configuration: the node's Relay state is being set
 * (Config Relay Set may have gone out), then the zone is being applied.
 */
#define COMM_STEP_RELAY (GW_PROV_STEP_CONFIGURED + 1)
#define COMM_STEP_ZONE (GW_PROV_STEP_CONFIGURED + 2)
/*
 * Relay Retransmit of the relays the job keeps (§4.2.20): one transmission
 * (Count 0; the interval then does not matter).  Every relay repeats every
 * message that reaches it, so a second transmission doubles the air time
 * of the whole backbone for every message; a message lost on a hop is
 * sent again by the Configuration Client after GW_CFG_RETRY_MS instead.
 * On office.json (14-16 relays, paths of up to 7 hops, 5 % loss at the
 * edge of range): 903-958 network packets per device against 1,490-1,551
 * with two transmissions, all 60 devices done at their first attempt
 * either way, in 95-105 s of virtual time against 62-83 s (the repeats of
 * lost requests).  Redundancy in the plan instead (two relays per node,
 * COMM_RELAY_REDUNDANCY) cost more relays than it saved repeats: 1,048.
 */
#define COMM_RELAY_XMIT ((1u << 3) | 0u)

#define COMM_HEAR_TIMEOUT_S 120 /* default: a device not heard by then is reported */
#define COMM_TICK_MS 8000       /* remote scans renewed, deadlines looked at */
#define COMM_SCAN_S 12          /* each Scan Start: outlasts a tick, so scans overlap */
#define COMM_RESCAN_TICKS 8 /* servers scan again after this many ticks without news (a minute) */
#define COMM_PATHS_MAX 16
#define COMM_SERVERS_MAX 256
#define NEVER_HEARD "never heard"

/* A set of addresses (a few dozen: linear search is enough). */
struct addr_list {
	uint16_t *a;
	size_t n, cap;
};

/* What is known of one device heard during a commission (cache of the scan results). */
struct seen {
	struct gw_comm_sighting s;
	uint64_t first_ms;
	uint32_t next; /* the same device's next sighting (index), SEEN_NONE: the last */
};

#define SEEN_NONE UINT32_MAX

struct gw_comm {
	struct gw_core *core;
	struct gw_jobs *jobs;
	struct gw_scan *scan;
	struct gw_prov *prov;
	struct gw_zones *zones;
	struct gw_job_kind kind;
	bool active;       /* a commission job has unfinished targets: scanning is held */
	uint64_t tick;     /* the coordinator's timer */
	uint64_t kick;     /* a deferred gw_jobs_kick() after a new sighting */
	struct seen *seen; /* (uuid, via) sightings, one entry each */
	size_t n_seen, cap_seen;
	/*
	 * Each device's first sighting (index + 1, 0: empty slot), open
	 * addressing by UUID: a building's thousand devices, each heard by a
	 * few servers, are looked up at every scheduling pass (ranks, paths).
	 */
	uint32_t *heads;
	size_t n_heads, cap_heads;          /* devices, slots (a power of two) */
	uint16_t servers[COMM_SERVERS_MAX]; /* servers asked to scan */
	uint8_t srv_ring[COMM_SERVERS_MAX]; /* their rings (gw_comm_ring) */
	size_t n_servers;
	unsigned ticks; /* since activated */
	unsigned quiet; /* ticks since a device was last heard on a new path */
	/*
	 * Relay states this process knows: nodes that said they relay (the
	 * plan keeps them), and nodes a Relay Set on is in flight to.
	 */
	struct addr_list relays_on, relays_asked;
};

/* A zone step's answer names the attempt it belongs to. */
struct comm_ticket {
	struct gw_comm *C;
	uint64_t job;
	uint32_t idx;
	uint32_t serial;
};

/* --- Paths (pure) ----------------------------------------------------------------------- */

size_t gw_comm_paths(const struct gw_comm_sighting *s, size_t n, const uint8_t uuid[16],
		     uint32_t attempt, uint16_t *out, size_t max)
{
	struct gw_comm_sighting best[COMM_PATHS_MAX];
	uint16_t ordered[COMM_PATHS_MAX];
	size_t k = 0, i, j, shift;
	bool local = false;

	for (i = 0; i < n; i++) {
		if (memcmp(s[i].uuid, uuid, 16) != 0) {
			continue;
		}
		if (s[i].via == 0) {
			local = true;
			continue;
		}
		for (j = 0; j < k && best[j].via != s[i].via; j++) {
		}
		if (j < k) {
			best[j].rssi = s[i].rssi > best[j].rssi ? s[i].rssi : best[j].rssi;
		} else if (k < COMM_PATHS_MAX) {
			best[k++] = s[i];
		}
	}
	/* Insertion sort: strongest first, then the lower address (a stable order). */
	for (i = 1; i < k; i++) {
		struct gw_comm_sighting x = best[i];

		for (j = i; j > 0 && (best[j - 1].rssi < x.rssi ||
				      (best[j - 1].rssi == x.rssi && best[j - 1].via > x.via));
		     j--) {
			best[j] = best[j - 1];
		}
		best[j] = x;
	}
	/* The gateway's own link first: no relay hop, no server link taken. */
	n = 0;
	if (local) {
		ordered[n++] = 0;
	}
	for (i = 0; i < k && n < COMM_PATHS_MAX; i++) {
		ordered[n++] = best[i].via;
	}
	shift = n && attempt > 1 ? (attempt - 1) % n : 0;
	for (i = 0; i < n && i < max; i++) {
		out[i] = ordered[(i + shift) % n];
	}
	return i;
}

unsigned gw_comm_ring(const struct gw_comm_sighting *s, size_t n, const uint16_t *srv,
		      const uint8_t *srv_ring, size_t n_srv)
{
	unsigned ring = GW_COMM_RING_FAR;

	for (size_t i = 0; i < n && ring > 1; i++) {
		if (s[i].via == 0) {
			ring = 1;
		}
		for (size_t j = 0; j < n_srv && s[i].via; j++) {
			if (srv[j] == s[i].via && srv_ring[j] + 1u < ring) {
				ring = srv_ring[j] + 1u;
			}
		}
	}
	return ring;
}

/* --- Sightings --------------------------------------------------------------------------- */

/* FNV-1a over the UUID: the slot to start probing at. */
static size_t uuid_slot(const struct gw_comm *C, const uint8_t uuid[16])
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < 16; i++) {
		h = (h ^ uuid[i]) * 16777619u;
	}
	return h & (C->cap_heads - 1);
}

/* The slot of uuid's first sighting, or the empty slot where it would go. */
static uint32_t *head_slot(const struct gw_comm *C, const uint8_t uuid[16])
{
	size_t k = uuid_slot(C, uuid);

	while (C->heads[k] && memcmp(C->seen[C->heads[k] - 1].s.uuid, uuid, 16)) {
		k = (k + 1) & (C->cap_heads - 1);
	}
	return &C->heads[k];
}

/* uuid's first sighting (index), SEEN_NONE when nobody heard it. */
static uint32_t seen_head(const struct gw_comm *C, const uint8_t uuid[16])
{
	uint32_t h = C->cap_heads ? *head_slot(C, uuid) : 0;

	return h ? h - 1 : SEEN_NONE;
}

/* Room for one more device in the index (kept at most half full). */
static int heads_reserve(struct gw_comm *C)
{
	size_t cap = C->cap_heads ? C->cap_heads * 2 : 256, k;
	uint32_t *old = C->heads;
	size_t old_cap = C->cap_heads;

	if ((C->n_heads + 1) * 2 <= C->cap_heads) {
		return 0;
	}
	C->heads = calloc(cap, sizeof(*C->heads));
	if (!C->heads) {
		C->heads = old;
		return -ENOMEM;
	}
	C->cap_heads = cap;
	for (k = 0; k < old_cap; k++) {
		if (old[k]) {
			*head_slot(C, C->seen[old[k] - 1].s.uuid) = old[k];
		}
	}
	free(old);
	return 0;
}

static struct seen *seen_find(struct gw_comm *C, const uint8_t uuid[16], uint16_t via)
{
	for (uint32_t i = seen_head(C, uuid); i != SEEN_NONE; i = C->seen[i].next) {
		if (C->seen[i].s.via == via) {
			return &C->seen[i];
		}
	}
	return NULL;
}

/* Add or refresh a sighting; true when (uuid, via) is new. */
static bool seen_put(struct gw_comm *C, const uint8_t uuid[16], uint16_t via, int8_t rssi,
		     uint64_t first_ms)
{
	struct seen *e = seen_find(C, uuid, via);
	uint32_t *head;

	if (e) {
		e->s.rssi = rssi;
		return false;
	}
	if (C->n_seen == C->cap_seen) {
		size_t cap = C->cap_seen ? C->cap_seen * 2 : 128;
		struct seen *p = realloc(C->seen, cap * sizeof(*p));

		if (!p) {
			return false;
		}
		C->seen = p;
		C->cap_seen = cap;
	}
	if (C->n_seen >= SEEN_NONE - 1 || heads_reserve(C)) {
		return false;
	}
	head = head_slot(C, uuid);
	e = &C->seen[C->n_seen];
	memcpy(e->s.uuid, uuid, 16);
	e->s.via = via;
	e->s.rssi = rssi;
	e->first_ms = first_ms;
	e->next = *head ? *head - 1 : SEEN_NONE;
	C->n_heads += !*head;
	*head = (uint32_t)++C->n_seen;
	return true;
}

/* Forget every sighting (the next job starts from the stored scan results). */
static void seen_clear(struct gw_comm *C)
{
	C->n_seen = 0;
	C->n_heads = 0;
	if (C->heads) {
		memset(C->heads, 0, C->cap_heads * sizeof(*C->heads));
	}
}

/* When the device was first heard (by anyone), 0 if never. */
static uint64_t first_heard(const struct gw_comm *C, const uint8_t uuid[16])
{
	uint64_t first = 0;

	for (uint32_t i = seen_head(C, uuid); i != SEEN_NONE; i = C->seen[i].next) {
		if (!first || C->seen[i].first_ms < first) {
			first = C->seen[i].first_ms;
		}
	}
	return first;
}

/* uuid's sightings into a new array (free()), *n of them; NULL when none (or no memory). */
static struct gw_comm_sighting *sightings_of(const struct gw_comm *C, const uint8_t uuid[16],
					     size_t *n)
{
	struct gw_comm_sighting *s;
	size_t k = 0;
	uint32_t i;

	for (i = seen_head(C, uuid); i != SEEN_NONE; i = C->seen[i].next) {
		k++;
	}
	*n = 0;
	s = k ? malloc(k * sizeof(*s)) : NULL;
	for (i = seen_head(C, uuid); s && i != SEEN_NONE; i = C->seen[i].next) {
		s[(*n)++] = C->seen[i].s;
	}
	return s;
}

static size_t paths_of(struct gw_comm *C, const uint8_t uuid[16], uint32_t attempt, uint16_t *out)
{
	size_t k, n;
	struct gw_comm_sighting *s = sightings_of(C, uuid, &k);

	n = s ? gw_comm_paths(s, k, uuid, attempt, out, COMM_PATHS_MAX) : 0;
	free(s);
	return n;
}

/* The device's ring (gw_comm_ring) by the servers known now. */
static unsigned ring_of(const struct gw_comm *C, const uint8_t uuid[16])
{
	unsigned ring = GW_COMM_RING_FAR, r;

	for (uint32_t i = seen_head(C, uuid); i != SEEN_NONE; i = C->seen[i].next) {
		r = gw_comm_ring(&C->seen[i].s, 1, C->servers, C->srv_ring, C->n_servers);
		ring = r < ring ? r : ring;
	}
	return ring;
}

/*
 * A server starts scanning: remembered with its ring, from its own
 * sightings, else its hop count (a node of the inventory the job has not
 * heard as a device: a restart), else far.
 */
static void server_add(struct gw_comm *C, uint16_t addr, const uint8_t uuid[16], uint8_t hops)
{
	unsigned ring = ring_of(C, uuid);

	if (ring == GW_COMM_RING_FAR && hops != GW_RELAY_PLAN_UNREACHED) {
		ring = hops ? hops : 1;
	}
	C->servers[C->n_servers] = addr;
	C->srv_ring[C->n_servers++] = (uint8_t)(ring < GW_COMM_RING_FAR ? ring : GW_COMM_RING_FAR);
	log_debug("commission: server 0x%04x scans, ring %u", addr, ring);
}

static void on_kick(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct gw_comm *C = ctx;

	(void)loop;
	(void)id;
	C->kick = 0;
	gw_jobs_kick(C->jobs);
}

/* The scanner's observer: a device heard on a new path may let a waiting target start. */
static void on_sighting(void *ctx, const uint8_t uuid[16], uint16_t via, int8_t rssi)
{
	struct gw_comm *C = ctx;

	if (!C->active || !seen_put(C, uuid, via, rssi, gw_wall_ms())) {
		return;
	}
	C->quiet = 0;
	if (C->kick) {
		return;
	}
	/* Not from inside the stack's receive path: on the loop's next turn. */
	C->kick = gw_loop_timer_at(C->core->loop, gw_core_now(C->core), on_kick, C);
}

/* --- The scanning coordinator -------------------------------------------------------------- */

static void tick_arm(struct gw_comm *C);

static uint8_t ttl_set(struct gw_comm *C, const uint8_t uuid[16], uint16_t addr, uint8_t elements);

static bool in_list(const uint16_t *a, size_t n, uint16_t v)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] == v) {
			return true;
		}
	}
	return false;
}

static bool server_known(const struct gw_comm *C, uint16_t a)
{
	return in_list(C->servers, C->n_servers, a);
}

/* A server asked to scan (the caller sends Scan Start). */
/*
 * Scan Start to every configured server of the inventory that has not
 * scanned yet (remembered), and with `again` to the others too.
 */
static void scan_servers(struct gw_comm *C, bool again)
{
	uint16_t *srv = malloc(COMM_SERVERS_MAX * sizeof(*srv));
	size_t n = srv ? gw_scan_rpr_servers(C->scan, srv, COMM_SERVERS_MAX) : 0;

	for (size_t i = 0; i < n; i++) {
		struct store_node node;

		/* A node still being configured may not relay or scan yet: its turn comes. */
		if (store_node_get(C->core->st, srv[i], &node) ||
		    node.cfg_state != STORE_CFG_CONFIGURED) {
			continue;
		}
		if (server_known(C, srv[i])) {
			if (!again) {
				continue;
			}
		} else if (C->n_servers < COMM_SERVERS_MAX) {
			/* TTLs are not persisted: after a restart, the paths through it. */
			server_add(C, srv[i], node.uuid,
				   ttl_set(C, node.uuid, node.unicast, node.elements));
		}
		(void)gw_scan_remote_start(C->scan, srv[i], COMM_SCAN_S);
	}
	free(srv);
	gw_core_rearm(C->core);
}

static void activate(struct gw_comm *C)
{
	struct store_scan *recs = NULL;
	size_t n = 0;

	if (C->active) {
		return;
	}
	C->active = true;
	/* What was heard before (a restart keeps the scan results). */
	if (store_scan_list(C->core->st, 0, &recs, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			(void)seen_put(C, recs[i].uuid, recs[i].via, recs[i].rssi,
				       recs[i].first_ms);
		}
		free(recs);
	}
	gw_scan_hold(C->scan, true);
	log_info("commission: scanning locally and through every Remote Provisioning Server");
	C->ticks = 0;
	C->quiet = 0;
	scan_servers(C, true);
	tick_arm(C);
}

static void deactivate(struct gw_comm *C)
{
	C->active = false;
	C->n_servers = 0;
	seen_clear(C);
	gw_scan_hold(C->scan, false);
	log_info("commission: no job left; scanning released");
}

static bool unheard(const struct store_job_target *t, void *arg)
{
	return first_heard(arg, t->uuid) == 0;
}

static void on_tick(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct gw_comm *C = ctx;

	(void)loop;
	(void)id;
	C->tick = 0;
	if (!gw_jobs_any_target(C->jobs, &C->kind, NULL, NULL)) {
		deactivate(C);
		return;
	}
	/*
	 * Scan reports are network PDUs that every relay repeats, one per
	 * device a server hears, each scan.  A server scans as soon as its
	 * page 0 is read (comm_composed; here if that was missed), which is
	 * what grows the reach ring by ring; one scan of COMM_SCAN_S hears
	 * every device in range that beacons (unprovisioned beacons come every
	 * few seconds).  All servers scan again only while a target has not
	 * been heard by anyone (a device powered on late), and only after a
	 * minute in which no device was heard on a new path: while the reach
	 * grows, the far rings' devices are heard by the new servers, and a
	 * rescan by every server would only flood the building with reports
	 * of what is known (at 1,000 devices and 130 servers, once a minute,
	 * most of the network PDUs on the air).
	 */
	C->ticks++;
	if (++C->quiet >= COMM_RESCAN_TICKS && gw_jobs_any_target(C->jobs, &C->kind, unheard, C)) {
		C->quiet = 0;
		scan_servers(C, true);
	} else {
		scan_servers(C, false);
	}
	tick_arm(C);
	/* Targets waiting to be heard see their deadline. */
	gw_jobs_kick(C->jobs);
}

static void tick_arm(struct gw_comm *C)
{
	if (!C->tick) {
		C->tick = gw_loop_timer_at(C->core->loop, gw_core_now(C->core) + COMM_TICK_MS,
					   on_tick, C);
	}
}

/* --- Relays and TTLs (comm_relay.h) ---------------------------------------------------- */

static bool list_has(const struct addr_list *l, uint16_t addr)
{
	return in_list(l->a, l->n, addr);
}

/* -ENOMEM when it cannot grow. */
static int list_add(struct addr_list *l, uint16_t addr)
{
	if (list_has(l, addr)) {
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		uint16_t *p = realloc(l->a, cap * sizeof(*p));

		if (!p) {
			return -ENOMEM;
		}
		l->a = p;
		l->cap = cap;
	}
	l->a[l->n++] = addr;
	return 0;
}

static void list_del(struct addr_list *l, uint16_t addr)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->a[i] == addr) {
			l->a[i] = l->a[--l->n];
			return;
		}
	}
}

/*
 * The node's Relay Status: on is kept by every later plan; off (a retried
 * relay step that the plan now sets off, a node that refused) is forgotten,
 * so that no hop count runs through it.  A remembered relay lost to memory
 * only makes later TTLs longer than needed.
 */
static void relay_note(struct gw_comm *C, uint16_t addr, bool on)
{
	if (on) {
		(void)list_add(&C->relays_on, addr);
	} else {
		list_del(&C->relays_on, addr);
	}
}

static int cmp_node_uuid(const void *a, const void *b)
{
	return memcmp(((const struct store_node *)a)->uuid, ((const struct store_node *)b)->uuid,
		      16);
}

/*
 * The Relay state and hop count for the device uuid, from every device
 * heard so far (the sightings) and the inventory; with `wake`, the
 * configured nodes other than it that the plan needs relaying and that are
 * not known to (*wake: allocated here, the caller frees it).  -errno on
 * failure.
 */
static int relay_choose(struct gw_comm *C, const uint8_t uuid[16], bool *relay, uint8_t *hops,
			struct addr_list *wake)
{
	struct store_node_filter f = {0};
	struct store_node *nodes = NULL, key, *nd;
	size_t n_nodes = 0, n_dev = 0, x = SIZE_MAX, i, j;
	struct gw_comm_dev *devs = calloc(C->n_seen + 1, sizeof(*devs));
	bool *want = calloc(C->n_seen + 1, sizeof(*want)), *woken = calloc(C->n_seen + 1, 1);
	struct gw_comm_heard *heard = malloc((C->n_seen + 1) * sizeof(*heard));
	uint8_t(*uuids)[16] = malloc((C->n_seen + 1) * 16);
	int r = -ENOMEM;

	if (!devs || !want || !woken || !heard || !uuids ||
	    store_node_list(C->core->st, &f, &nodes, &n_nodes)) {
		goto out;
	}
	if (n_nodes) {
		qsort(nodes, n_nodes, sizeof(*nodes), cmp_node_uuid);
	}
	/* Devices: each UUID heard once, and the one asked about even if nobody heard it. */
	for (i = 0; i <= C->n_seen; i++) {
		const uint8_t *u = i < C->n_seen ? C->seen[i].s.uuid : uuid;

		for (j = 0; j < n_dev && memcmp(uuids[j], u, 16); j++) {
		}
		if (j == n_dev) {
			memcpy(uuids[n_dev], u, 16);
			memcpy(key.uuid, u, 16);
			nd = n_nodes ? bsearch(&key, nodes, n_nodes, sizeof(*nodes), cmp_node_uuid)
				     : NULL;
			devs[n_dev].can_relay = true;
			if (nd) {
				bool configured = nd->cfg_state == STORE_CFG_CONFIGURED;

				devs[n_dev].addr = nd->unicast;
				devs[n_dev].relays = list_has(&C->relays_on, nd->unicast);
				/* Page 0's Features once read (before, the node may relay). */
				devs[n_dev].can_relay = !configured || (nd->features & 1);
				woken[n_dev] = configured;
			}
			n_dev++;
		}
		if (!memcmp(u, uuid, 16)) {
			x = j;
		}
		if (i < C->n_seen) {
			heard[i] = (struct gw_comm_heard){
			    .dev = (uint32_t)j, .via = C->seen[i].s.via, .rssi = C->seen[i].s.rssi};
		}
	}
	r = gw_comm_relay_choose(devs, n_dev, heard, C->n_seen, x, relay, hops, want);
	for (i = 0; !r && wake && i < n_dev; i++) {
		/*
		 * Configured: its relay step may have set it off, in this job, an
		 * earlier one, or before a restart (what was sent is not kept).
		 */
		if (i != x && want[i] && woken[i] && !devs[i].relays &&
		    !list_has(&C->relays_asked, devs[i].addr)) {
			r = list_add(wake, devs[i].addr);
		}
	}
out:
	free(devs);
	free(want);
	free(woken);
	free(heard);
	free(uuids);
	store_nodes_free(nodes);
	return r;
}

/* The gateway sends to the node at addr with the TTL its hop count needs (comm_relay.h). */
static void ttl_apply(struct gw_comm *C, uint16_t addr, uint8_t elements, uint8_t hops)
{
	uint8_t ttl = gw_comm_ttl_of(hops);

	(void)mesh_node_dst_ttl_set(C->core->node, addr, elements ? elements : 1,
				    ttl == 0xff ? MESH_TTL_DEFAULT : ttl);
	log_debug("commission: node 0x%04x is %u hops away: TTL %u", addr, hops, ttl);
}

struct wake_ticket {
	struct gw_comm *C;
	uint16_t addr;
};

static void wake_answer(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct wake_ticket *tk = ctx;

	(void)src;
	list_del(&tk->C->relays_asked, tk->addr);
	if (!err) {
		relay_note(tk->C, tk->addr, rsp->relay.relay == 1);
	} /* else a later plan asks again */
	free(tk);
}

static int relay_send(struct gw_comm *C, uint16_t addr, bool on, cfg_cli_cb cb, void *tk)
{
	struct cfg_msg m = {.op = CFG_OP_RELAY_SET};

	m.relay.relay = on ? 1 : 0;
	m.relay.retransmit = COMM_RELAY_XMIT;
	return cfg_cli_request(C->core->cfg, C->core->primary_net, addr, NULL, &m,
			       GW_CFG_TIMEOUT_MS, GW_CFG_RETRY_MS, cb, tk, gw_core_now(C->core));
}

/*
 * Relay on for configured nodes the plan needs now that are not known to
 * relay: set off by their relay step when a server behind them had not
 * scanned yet (office.json: most servers, a moment after their own step),
 * or by a job or a process before this one (not remembered).  No step is
 * committed for these: relay on strands no node, and a restart that loses
 * the answer only forgets that the node relays (the next plan asks again:
 * Relay Set is idempotent).  Only a Relay Set off can cut a path, and that
 * one goes in the node's own committed relay step.
 */
static void relay_wake(struct gw_comm *C, const struct addr_list *wake)
{
	for (size_t i = 0; i < wake->n; i++) {
		struct wake_ticket *tk = malloc(sizeof(*tk));

		if (!tk || list_add(&C->relays_asked, wake->a[i])) {
			free(tk);
			return;
		}
		*tk = (struct wake_ticket){C, wake->a[i]};
		if (relay_send(C, wake->a[i], true, wake_answer, tk)) {
			list_del(&C->relays_asked, wake->a[i]);
			free(tk);
			continue;
		}
		log_debug("commission: node 0x%04x relay on again: the plan needs it", wake->a[i]);
	}
	if (wake->n) {
		gw_core_rearm(C->core);
	}
}

/*
 * The plan for the device: the gateway's TTL to it, the nodes it needs
 * relaying switched on.  Returns the node's hop count
 * (GW_RELAY_PLAN_UNREACHED when not known).
 */
static uint8_t ttl_set(struct gw_comm *C, const uint8_t uuid[16], uint16_t addr, uint8_t elements)
{
	struct addr_list wake = {0};
	bool relay;
	uint8_t hops = GW_RELAY_PLAN_UNREACHED;

	if (!relay_choose(C, uuid, &relay, &hops, &wake)) {
		ttl_apply(C, addr, elements, hops);
		relay_wake(C, &wake);
	}
	/* else the Default TTL stays: longer than needed, never too short */
	free(wake.a);
	return hops;
}

/*
 * prov's hook: configuration is about to begin.  The node's Default TTL
 * becomes what its replies need to reach the gateway (comm_relay.h), set
 * by prov as the configuration's first message, so that the replies of
 * the configuration, of the relay and zone steps, and a server's PB-Remote
 * reports stop spreading across the building with the node's factory
 * Default TTL.  Zone publications do not use it (zones.c sets their TTL).
 * Not lowered again at the relay step, when the path may have got shorter:
 * a message more for a hop or two less on replies that are mostly done.
 */
static uint8_t comm_configuring(void *ctx, struct gw_job_run *run)
{
	struct gw_comm *C = ctx;
	uint8_t hops, ttl;

	activate(C);
	/*
	 * The link is closed: configuration is messages over the network,
	 * which max_sessions does not bound, so the slot goes to the next
	 * device's link (the pipeline: at building scale configuration of far
	 * nodes took 10 s at the median, longer than their link).
	 */
	gw_jobs_release(run);
	hops = ttl_set(C, run->t.uuid, run->t.addr, run->t.elements);
	ttl = gw_comm_default_ttl_of(hops);
	log_debug("commission: node 0x%04x Default TTL %u", run->t.addr, ttl);
	return ttl;
}

/* --- The kind ------------------------------------------------------------------------------ */

static bool params_str(json_t *o, const char *k, const char **out)
{
	*out = json_string_value(json_object_get(o, k));
	return *out && **out;
}

/* The target's result: what the report shows of a device provisioned. */
static char *result_text(struct gw_comm *C, const struct gw_job_run *run)
{
	uint64_t now = gw_wall_ms();
	uint64_t start =
	    (uint64_t)json_integer_value(json_object_get(run->job_params, "started_ms"));
	uint64_t heard = first_heard(C, run->t.uuid);
	json_t *o;
	char *s;

	/* A device's time runs from when the job could first act on it. */
	if (heard > start) {
		start = heard;
	}
	o = json_pack("{s:i, s:o, s:f}", "address", run->t.addr, "path",
		      run->t.via ? json_integer(run->t.via) : json_string("local"), "time_s",
		      start && now > start ? (double)(now - start) / 1000.0 : 0.0);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static void finish(struct gw_comm *C, struct gw_job_run *run)
{
	char *res = result_text(C, run);

	log_info("commission: %s (node 0x%04x) done", run->t.name, run->t.addr);
	gw_prov_attempt_end(run, GW_JOB_OK, NULL, res);
	free(res);
}

static void zone_done(void *arg, int err, const char *why)
{
	struct comm_ticket *tk = arg;
	struct gw_job_run *run = gw_jobs_run(tk->C->jobs, tk->job, tk->idx);
	char msg[STORE_JOB_ERROR_MAX];

	if (!run || gw_prov_attempt_serial(run) != tk->serial) {
		free(
		    tk); /* the attempt was stopped (the gateway stops): resumed at the zone step */
		return;
	}
	if (!err) {
		finish(tk->C, run);
	} else {
		/* The node is provisioned and configured: only the move is tried again. */
		snprintf(msg, sizeof(msg), "zone: %.200s", why ? why : strerror(-err));
		gw_prov_attempt_end(run, err == -EPROTO ? GW_JOB_FAIL : GW_JOB_RETRY, msg, NULL);
	}
	free(tk);
}

/* Put the node into its zone (made if new); the attempt ends in zone_done(). */
static void zone_apply(struct gw_comm *C, struct gw_job_run *run, const char *zone)
{
	struct comm_ticket *tk = malloc(sizeof(*tk));
	char msg[STORE_JOB_ERROR_MAX], why[160] = "";
	uint64_t id = 0;
	int r = tk ? gw_zones_ensure(C->zones, zone, &id) : -ENOMEM;

	if (!r) {
		*tk = (struct comm_ticket){C, run->t.job, run->t.idx, gw_prov_attempt_serial(run)};
		r = gw_zones_apply_why(C->zones, run->t.addr, id, zone_done, tk, why, sizeof(why));
	}
	if (r) {
		free(tk);
		/* -EXDEV: the zone's lights and switches share no AppKey this node holds (why). */
		snprintf(msg, sizeof(msg), "zone %.64s: %s", zone,
			 r == -EBUSY    ? "a move of the node is under way"
			 : r == -ENOSPC ? "no group address left in group_range"
			 : why[0]       ? why
					: strerror(-r));
		gw_prov_attempt_end(
		    run, r == -EBUSY || r == -ENOMEM || r == -EIO ? GW_JOB_RETRY : GW_JOB_FAIL, msg,
		    NULL);
	}
}

/* The row's zone, else the end of the attempt. */
static void zone_step(struct gw_comm *C, struct gw_job_run *run)
{
	const char *zone;

	if (!params_str(run->params, "zone", &zone)) {
		finish(C, run);
		return;
	}
	if (run->t.step < COMM_STEP_ZONE) {
		run->t.step = COMM_STEP_ZONE;
		if (gw_jobs_commit(run)) {
			gw_prov_attempt_end(run, GW_JOB_RETRY, "cannot commit the zone step", NULL);
			return;
		}
	}
	zone_apply(C, run, zone);
}

static void relay_answer(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct comm_ticket *tk = ctx;
	struct gw_job_run *run = gw_jobs_run(tk->C->jobs, tk->job, tk->idx);
	char msg[STORE_JOB_ERROR_MAX];

	(void)src;
	if (!run || gw_prov_attempt_serial(run) != tk->serial) {
		free(tk); /* the attempt was stopped: resumed at the relay step */
		return;
	}
	if (err) {
		snprintf(msg, sizeof(msg), "configuration (Relay Set): %s", strerror(-err));
		gw_prov_attempt_end(run, GW_JOB_RETRY, msg, NULL);
	} else {
		relay_note(tk->C, run->t.addr, rsp->relay.relay == 1);
		zone_step(tk->C, run);
	}
	free(tk);
}

/*
 * The node's Relay state by the plan (comm_relay.h), write-ahead: the step
 * is committed before Config Relay Set (§4.3.2.13) goes, so a restart sends
 * it again (it is idempotent).  A node without the Relay feature is left
 * alone (it would only answer Not Supported).
 */
static void relay_step(struct gw_comm *C, struct gw_job_run *run)
{
	struct comm_ticket *tk;
	struct store_node n;
	struct addr_list wake = {0};
	bool relay = true;
	uint8_t hops;
	int r;

	if (store_node_get(C->core->st, run->t.addr, &n) || !(n.features & 1)) {
		zone_step(C, run);
		return;
	}
	r = relay_choose(C, run->t.uuid, &relay, &hops, &wake);
	if (r) {
		free(wake.a);
		gw_prov_attempt_end(run, GW_JOB_RETRY, "relay plan: out of memory", NULL);
		return;
	}
	ttl_apply(C, run->t.addr, run->t.elements, hops); /* more is known than at the start */
	/* The relays the plan needs besides this node first: set off, it may rely on them. */
	relay_wake(C, &wake);
	free(wake.a);
	if (run->t.step < COMM_STEP_RELAY) {
		run->t.step = COMM_STEP_RELAY;
		if (gw_jobs_commit(run)) {
			gw_prov_attempt_end(run, GW_JOB_RETRY, "cannot commit the relay step",
					    NULL);
			return;
		}
	}
	tk = malloc(sizeof(*tk));
	if (tk) {
		*tk = (struct comm_ticket){C, run->t.job, run->t.idx, gw_prov_attempt_serial(run)};
	}
	r = tk ? relay_send(C, run->t.addr, relay, relay_answer, tk) : -ENOMEM;
	if (r) {
		free(tk);
		gw_prov_attempt_end(run, GW_JOB_RETRY, "configuration (Relay Set): cannot send",
				    NULL);
		return;
	}
	log_debug("commission: node 0x%04x relay %s (%u hops)", run->t.addr, relay ? "on" : "off",
		  hops);
	gw_core_rearm(C->core);
}

/*
 * Page 0 read (prov's hook): a new server starts scanning at once, while its
 * configuration goes on.  Nothing before provisioning says that a device is
 * a server (the unprovisioned beacon's OOB Information has no such bit, and
 * a manifest written from the boxes' labels would not know either); its
 * composition is the first place a real network states it, so the reach
 * grows from there rather than after the AppKeys, bindings and zone.
 */
static void comm_composed(void *ctx, struct gw_job_run *run)
{
	struct gw_comm *C = ctx;

	if (C->active && gw_scan_is_rpr_server(C->core, run->t.addr) &&
	    !server_known(C, run->t.addr) && C->n_servers < COMM_SERVERS_MAX) {
		server_add(C, run->t.addr, run->t.uuid, GW_RELAY_PLAN_UNREACHED);
		(void)gw_scan_remote_start(C->scan, run->t.addr, COMM_SCAN_S);
		gw_core_rearm(C->core);
	}
}

/*
 * The node is configured (or a restart resumes a configured target): a new
 * server starts scanning if it has not yet, then the node's Relay state,
 * then the row's zone.
 */
static void comm_configured(void *ctx, struct gw_job_run *run)
{
	struct gw_comm *C = ctx;

	gw_jobs_release(run); /* a restart resumes here without a link */
	comm_composed(C, run);
	if (run->t.step < COMM_STEP_ZONE) {
		relay_step(C, run);
	} else {
		zone_step(C, run);
	}
}

static json_int_t hear_timeout_s(const struct gw_job_run *run)
{
	json_int_t to = json_integer_value(json_object_get(run->job_params, "hear_timeout_s"));

	return to > 0 ? to : COMM_HEAR_TIMEOUT_S;
}

/* Has the time to hear the device passed (counted from the job's start, across restarts)? */
static bool hear_time_over(const struct gw_job_run *run)
{
	uint64_t started =
	    (uint64_t)json_integer_value(json_object_get(run->job_params, "started_ms"));

	return gw_wall_ms() >= started + (uint64_t)hear_timeout_s(run) * 1000;
}

static int comm_start(void *ctx, struct gw_job_run *run)
{
	struct gw_comm *C = ctx;
	uint16_t paths[COMM_PATHS_MAX];
	size_t n, i;
	int r = -EBUSY;

	activate(C);
	if (run->t.step >= GW_PROV_STEP_DATA) {
		/* Probing or configuring first: the path matters only if a link follows. */
		n = paths_of(C, run->t.uuid, run->t.attempts, paths);
		return gw_prov_attempt_start(C->prov, run, n ? paths[0] : run->t.via);
	}
	n = paths_of(C, run->t.uuid, run->t.attempts, paths);
	if (!n) {
		if (!hear_time_over(run)) {
			return -EBUSY; /* waits for a sighting (on_sighting kicks) */
		}
		snprintf(run->t.error, sizeof(run->t.error), NEVER_HEARD " within %lld s",
			 (long long)hear_timeout_s(run));
		run->t.attempts = 0;
		gw_jobs_end(run, GW_JOB_FAIL, NULL, NULL);
		return 0;
	}
	if (run->recovering && run->t.via) {
		/*
		 * The interrupted attempt's server may still hold its link: that
		 * server first, so that the stale link is closed before a new one
		 * (prov.c link_open()) instead of timing out in the device.
		 */
		for (i = 1; i < n && paths[i] != run->t.via; i++) {
		}
		if (i < n) {
			paths[i] = paths[0];
			paths[0] = run->t.via;
		}
	}
	/* A busy path gives way to the next one that hears the device. */
	for (i = 0; i < n && r == -EBUSY; i++) {
		r = gw_prov_attempt_start(C->prov, run, paths[i]);
	}
	return r;
}

/*
 * The kind's rank (jobs.h): the device's ring, so that when more devices
 * are heard than sessions are free, the nearest start first (heard by the
 * gateway, then through the servers nearest it): the servers among them
 * grow the reach for the next ring while the job goes on, instead of the
 * far rings' devices taking the sessions in the manifest's order through
 * long relay chains.  Unheard devices last (they wait for a sighting).
 */
static unsigned comm_rank(void *ctx, const struct store_job_target *t)
{
	struct gw_comm *C = ctx;

	/* Past provisioning (a restart's recovery): first, it holds a node half-configured. */
	return t->step >= GW_PROV_STEP_DATA ? 0 : ring_of(C, t->uuid);
}

static void comm_stop(void *ctx, struct gw_job_run *run, bool stopping)
{
	struct gw_comm *C = ctx;

	gw_prov_attempt_stop(C->prov, run, stopping);
}

static void comm_target_json(void *ctx, const struct store_job_target *t,
			     const struct gw_job_run *run, json_t *o)
{
	struct gw_comm *C = ctx;
	json_t *p = json_loads(t->params ? t->params : "{}", 0, NULL);
	const char *zone = json_string_value(json_object_get(p, "zone"));
	const char *profile = json_string_value(json_object_get(p, "profile"));

	gw_prov_attempt_json(C->prov, t, run, o);
	json_object_set_new(o, "zone", zone ? json_string(zone) : json_null());
	json_object_set_new(o, "profile", profile ? json_string(profile) : json_null());
	/* No attempt yet (or never heard): no path. */
	json_object_set_new(o, "path",
			    !t->attempts ? json_null()
			    : t->via     ? json_integer(t->via)
					 : json_string("local"));
	json_decref(p);
}

struct gw_comm *gw_comm_new(struct gw_core *core, struct gw_jobs *jobs, struct gw_scan *scan,
			    struct gw_prov *prov, struct gw_zones *zones)
{
	struct gw_comm *C = calloc(1, sizeof(*C));
	struct gw_prov_user u;

	if (!C) {
		return NULL;
	}
	C->core = core;
	C->jobs = jobs;
	C->scan = scan;
	C->prov = prov;
	C->zones = zones;
	C->kind = (struct gw_job_kind){.name = "commission",
				       .ctx = C,
				       .start = comm_start,
				       .stop = comm_stop,
				       .target_json = comm_target_json,
				       .rank = comm_rank};
	u = (struct gw_prov_user){.kind = &C->kind,
				  .ctx = C,
				  .configured = comm_configured,
				  .configuring = comm_configuring,
				  .composed = comm_composed};
	if (gw_jobs_register(jobs, &C->kind) || gw_prov_attach(prov, &u)) {
		free(C);
		return NULL;
	}
	gw_scan_observe(scan, on_sighting, C);
	return C;
}

void gw_comm_stop(struct gw_comm *C)
{
	if (!C) {
		return;
	}
	if (C->tick) {
		(void)gw_loop_timer_cancel(C->core->loop, C->tick);
		C->tick = 0;
	}
	if (C->kick) {
		(void)gw_loop_timer_cancel(C->core->loop, C->kick);
		C->kick = 0;
	}
}

void gw_comm_free(struct gw_comm *C)
{
	if (C) {
		free(C->seen);
		free(C->heads);
		free(C->relays_on.a);
		free(C->relays_asked.a);
		free(C);
	}
}

/* --- POST /manifests/{id}/commission ------------------------------------------------------ */

struct build {
	struct gw_comm *C;
	struct store_job_target_new *t;
	char **texts;
	uint8_t (*auth)[32];
	size_t n, cap;
	char err[160];
};

/* A manifest row as a target: its fields as params, a static OOB value sealed apart. */
static int add_target(void *ctx, uint32_t idx, const uint8_t uuid[16], const char *data,
		      const uint8_t *secret, size_t len)
{
	struct build *b = ctx;
	json_t *row = json_loads(data, 0, NULL), *auth = json_object_get(row, "auth"), *p;
	const char *method = json_string_value(json_object_get(auth, "method"));
	struct store_job_target_new *t;
	char hex[2 * STORE_MANIFEST_SECRET_MAX + 1];
	int r = 0;

	if (!json_is_object(auth) || !method || b->n >= b->cap) {
		json_decref(row);
		snprintf(b->err, sizeof(b->err), "row %u of the manifest is unreadable", idx + 1);
		return -EIO;
	}
	t = &b->t[b->n];
	t->has_uuid = true;
	memcpy(t->uuid, uuid, 16);
	p = json_pack("{s:O}", "auth", auth);
	if (len && !strcmp(method, "static") && len <= 32) {
		memcpy(b->auth[b->n], secret, len);
		t->auth = b->auth[b->n];
		t->auth_len = len;
	} else if (len) {
		/* An OOB public key is no secret: it stays with the target, as provisioning keeps
		 * it. */
		json_object_set_new(json_object_get(p, "auth"), "public_key",
				    json_string(gw_hex(secret, len, hex)));
	}
	for (size_t k = 0; k < 2; k++) {
		static const char *const kept[] = {"zone", "profile"};
		const char *v = json_string_value(json_object_get(row, kept[k]));

		if (v && *v) {
			json_object_set_new(p, kept[k], json_string(v));
		}
	}
	b->texts[b->n] = json_dumps(p, JSON_COMPACT);
	t->params = b->texts[b->n];
	t->name = strdup(json_string_value(json_object_get(row, "name"))
			     ? json_string_value(json_object_get(row, "name"))
			     : "");
	if (!t->params || !t->name) {
		r = -ENOMEM;
	}
	b->n++;
	json_decref(p);
	json_decref(row);
	return r;
}

/* A device that an unfinished provisioning or commission target works on. */
static bool same_uuid(const struct store_job_target *t, void *arg)
{
	return t->has_uuid && !memcmp(t->uuid, arg, 16);
}

void gw_comm_cmd_start(struct gw_comm *C, struct gw_cmd *c)
{
	uint64_t id = gw_cmd_id_arg(c);
	struct store_manifest m;
	struct build b = {.C = C};
	json_t *jp;
	uint64_t job = 0;
	int r;

	if (!id || store_manifest_get(C->core->st, id, &m)) {
		gw_cmd_complete(C->core->q, c, -ENOENT, NULL, "no such manifest");
		return;
	}
	if (!gw_bearer_ready(C->core->bearer)) {
		gw_cmd_complete(C->core->q, c, -ENETDOWN, NULL,
				"the radio is not ready; try again later");
		return;
	}
	b.cap = m.rows;
	b.t = calloc(b.cap ? b.cap : 1, sizeof(*b.t));
	b.texts = calloc(b.cap ? b.cap : 1, sizeof(*b.texts));
	b.auth = calloc(b.cap ? b.cap : 1, sizeof(*b.auth));
	r = b.t && b.texts && b.auth ? 0 : -ENOMEM;
	if (!r) {
		r = store_manifest_rows(C->core->st, id, true, add_target, &b);
	}
	for (size_t i = 0; !r && i < b.n; i++) {
		if (gw_jobs_any_target(C->jobs, NULL, same_uuid, b.t[i].uuid)) {
			char u[33];

			r = -EBUSY;
			snprintf(b.err, sizeof(b.err), "row %zu: a job is already working on %s",
				 i + 1, gw_hex(b.t[i].uuid, 16, u));
		}
	}
	if (!r && b.n == 0) {
		r = -EINVAL;
		snprintf(b.err, sizeof(b.err), "the manifest has no rows");
	}
	if (!r) {
		jp = json_pack("{s:I, s:I, s:I}", "manifest", (json_int_t)id, "started_ms",
			       (json_int_t)gw_wall_ms(), "hear_timeout_s",
			       json_integer_value(json_object_get(c->args, "hear_timeout_s")) > 0
				   ? json_integer_value(json_object_get(c->args, "hear_timeout_s"))
				   : COMM_HEAR_TIMEOUT_S);
		if (json_is_integer(json_object_get(c->args, "attention_s"))) {
			json_object_set(jp, "attention_s", json_object_get(c->args, "attention_s"));
		}
		if (json_is_string(json_object_get(c->args, "algorithm"))) {
			json_object_set(jp, "algorithm", json_object_get(c->args, "algorithm"));
		}
		r = jp ? gw_jobs_create(C->jobs, "commission", jp, c->who, b.t, b.n, &job)
		       : -ENOMEM;
		json_decref(jp);
		if (r) {
			snprintf(b.err, sizeof(b.err), "cannot create the job: %s",
				 store_strerror(r));
		}
	}
	for (size_t i = 0; i < b.n; i++) {
		free(b.texts[i]);
		free((char *)b.t[i].name);
	}
	if (b.auth) {
		mesh_crypto_wipe(b.auth, b.cap * sizeof(*b.auth));
	}
	free(b.auth);
	free(b.texts);
	free(b.t);
	if (r) {
		gw_cmd_complete(C->core->q, c, r, NULL, b.err[0] ? b.err : NULL);
		return;
	}
	log_info("commission: job %llu over manifest %llu, %zu devices", (unsigned long long)job,
		 (unsigned long long)id, b.n);
	activate(C);
	gw_cmd_complete(C->core->q, c, 0,
			json_pack("{s:i, s:I, s:I}", "_http_status", 202, "job", (json_int_t)job,
				  "targets", (json_int_t)b.n),
			NULL);
}

/* --- GET /jobs/{id}/report ------------------------------------------------------------------- */

static const char *result_name(const struct store_job_target *t)
{
	switch (t->state) {
	case STORE_TGT_DONE:
		return "provisioned";
	case STORE_TGT_CANCELLED:
		return "cancelled";
	case STORE_TGT_FAILED:
		return !strncmp(t->error, NEVER_HEARD, strlen(NEVER_HEARD)) ? "never_heard"
									    : "failed";
	case STORE_TGT_PENDING:
	case STORE_TGT_ACTIVE:
	default:
		return "pending";
	}
}

static json_t *report_item(const struct store_job_target *t)
{
	json_t *p = json_loads(t->params ? t->params : "{}", 0, NULL);
	json_t *res = t->result ? json_loads(t->result, 0, NULL) : NULL;
	const char *zone = json_string_value(json_object_get(p, "zone"));
	json_t *path = json_object_get(res, "path"), *o;
	char uuid[33];

	if (!path) {
		/* Not provisioned: the path of its last attempt, if it had one. */
		path = t->attempts ? (t->via ? json_integer(t->via) : json_string("local"))
				   : json_null();
	} else {
		json_incref(path);
	}
	o = json_pack(
	    "{s:s, s:s, s:o, s:o, s:o, s:i, s:o, s:s, s:o}", "uuid", gw_hex(t->uuid, 16, uuid),
	    "name", t->name, "zone", zone ? json_string(zone) : json_null(), "address",
	    t->state == STORE_TGT_DONE && t->addr ? json_integer(t->addr) : json_null(), "path",
	    path, "attempts", (int)t->attempts, "time_s",
	    json_is_number(json_object_get(res, "time_s"))
		? json_real(json_number_value(json_object_get(res, "time_s")))
		: json_null(),
	    "result", result_name(t), "error",
	    t->state != STORE_TGT_DONE && t->error[0] ? json_string(t->error) : json_null());
	json_decref(p);
	json_decref(res);
	return o;
}

/* Devices heard while the job ran that no target names: listed, never touched. */
static json_t *unlisted(struct gw_comm *C, const struct store_job *j,
			const struct store_job_target *t, size_t n)
{
	struct store_scan *recs = NULL;
	size_t nr = 0, i, k;
	json_t *out = json_array(), *seen = json_object();

	if (store_scan_list(C->core->st, j->created_ms, &recs, &nr) == 0) {
		for (i = 0; i < nr; i++) {
			char uuid[33];

			if (j->finished_ms && recs[i].first_ms > j->finished_ms) {
				continue;
			}
			for (k = 0; k < n && memcmp(t[k].uuid, recs[i].uuid, 16); k++) {
			}
			gw_hex(recs[i].uuid, 16, uuid);
			if (k == n && !json_object_get(seen, uuid)) {
				json_object_set_new(seen, uuid, json_true());
				json_array_append_new(out, json_string(uuid));
			}
		}
		free(recs);
	}
	json_decref(seen);
	return out;
}

void gw_comm_cmd_report(struct gw_comm *C, struct gw_cmd *c)
{
	const char *format = json_string_value(json_object_get(c->args, "format"));
	uint64_t id = gw_cmd_id_arg(c);
	struct store_job_target *t = NULL;
	struct store_job j;
	json_t *items, *o;
	size_t n = 0;
	char *csv, name[64];

	if (!id || store_job_get(C->core->st, id, &j)) {
		gw_cmd_complete(C->core->q, c, -ENOENT, NULL, "no such job");
		return;
	}
	if (strcmp(j.kind, "commission") != 0) {
		store_job_clear(&j);
		gw_cmd_complete(C->core->q, c, -ENOENT, NULL, "not a commission job");
		return;
	}
	if (store_job_targets(C->core->st, id, &t, &n)) {
		store_job_clear(&j);
		gw_cmd_complete(C->core->q, c, -EIO, NULL, "cannot read the job's targets");
		return;
	}
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(items, report_item(&t[i]));
	}
	o = json_pack("{s:I, s:s, s:o, s:o}", "job", (json_int_t)id, "state",
		      store_job_state_name(j.state), "items", items, "unlisted",
		      unlisted(C, &j, t, n));
	store_job_targets_free(t, n);
	store_job_clear(&j);
	if (format && !strcmp(format, "csv")) {
		csv = o ? gw_comm_report_csv(o) : NULL;
		json_decref(o);
		o = NULL;
		snprintf(name, sizeof(name), "commission-%llu.csv", (unsigned long long)id);
		if (csv) {
			o = json_pack("{s:s, s:s, s:s}", "_http_text", csv, "_http_content_type",
				      "text/csv; charset=utf-8", "_http_filename", name);
			free(csv);
		}
	}
	gw_cmd_complete(C->core->q, c, o ? 0 : -ENOMEM, o, NULL);
}
