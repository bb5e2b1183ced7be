/*
 * The simulated advertising air (see air.h for the model).
 *
 * Pending work lives in one binary min-heap of events ordered by time, with
 * an insertion sequence number as the tie-break so that events due at the
 * same instant run in the order they were scheduled (libuv's timer heap
 * does the same).  A TX event is one advertising event of a send request;
 * when it runs it accounts the airtime, picks the receivers, and either
 * delivers at once (latency 0) or schedules RX events.  The payload is
 * shared by all events of a request through a reference count.
 */
#include "sim/air.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pkt {
	unsigned refs;
	uint32_t from;
	uint8_t ad_type;
	uint8_t len;
	uint8_t data[SIM_AIR_DATA_MAX];
	unsigned left;        /* transmissions still to go after the current one */
	uint64_t interval_us; /* advInterval */
};

enum ev_kind {
	EV_TX,
	EV_RX,
};

struct ev {
	uint64_t t;
	uint64_t seq;
	struct pkt *pkt;
	uint32_t to; /* EV_RX */
	int8_t rssi; /* EV_RX */
	uint8_t kind;
};

/* A receiver in range of a participant, as the propagation model places it. */
struct nb {
	uint32_t to;
	double dbm;
	double keep_edge; /* 1 - the edge loss at that distance */
};

struct part {
	struct sim_pos pos;
	sim_air_rx_fn rx;
	void *ctx;
	bool active;
	char name[SIM_AIR_NAME_MAX + 1];
	struct sim_air_counters c;
	uint64_t last_first_tx; /* time of the latest first transmission it queued */
	struct nb *nb;          /* receivers in range, by participant id; see nb_of() */
	uint32_t n_nb;
	uint64_t nb_gen; /* the layout generation nb was built for (0: never) */
};

struct sim_air {
	struct sim_air_params p;
	uint64_t rng[4]; /* xoshiro256** state */
	struct part *parts;
	uint32_t n_parts;
	uint32_t cap_parts;
	struct ev *heap;
	size_t n_ev;
	size_t cap_ev;
	uint64_t seq;
	struct sim_air_totals tot;
	uint64_t gen; /* bumped by every change of the layout (add, move, remove) */
};

/* --- PRNG: splitmix64 seeds xoshiro256** (Blackman & Vigna) ------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in [0,1). */
static double rng_unit(uint64_t s[4])
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [0, n] inclusive. */
static uint64_t rng_upto(uint64_t s[4], uint64_t n)
{
	return rng_next(s) % (n + 1);
}

/* --- Parameters --------------------------------------------------------- */

void sim_air_params_default(struct sim_air_params *p)
{
	p->range_m = 30.0;
	p->loss = 0.0;
	p->edge_loss = 0.1;
	p->duplication = 0.0;
	p->latency_us = 0;
	p->floor_height_m = 3.0;
	p->floor_loss_db = 12.0;
	p->path_loss_exp = 2.5;
	p->rssi_1m_dbm = -40.0;
}

static bool prob_ok(double v)
{
	return v >= 0.0 && v <= 1.0; /* false for NaN as well */
}

int sim_air_params_check(const struct sim_air_params *p)
{
	if (!p || !(p->range_m > 0.0 && p->range_m <= 100000.0) || !prob_ok(p->loss) ||
	    !prob_ok(p->edge_loss) || !prob_ok(p->duplication) || p->latency_us > 10000000 ||
	    !(p->floor_height_m > 0.0 && p->floor_height_m <= 1000.0) ||
	    !(p->floor_loss_db >= 0.0 && p->floor_loss_db <= 200.0) ||
	    !(p->path_loss_exp > 0.0 && p->path_loss_exp <= 10.0) ||
	    !(p->rssi_1m_dbm >= -127.0 && p->rssi_1m_dbm <= 20.0)) {
		return -EINVAL;
	}
	return 0;
}

struct sim_air *sim_air_new(uint64_t seed, const struct sim_air_params *p)
{
	struct sim_air *air;
	uint64_t s = seed;

	if (sim_air_params_check(p) < 0) {
		return NULL;
	}
	air = calloc(1, sizeof(*air));
	if (!air) {
		return NULL;
	}
	air->p = *p;
	air->gen = 1;
	for (int i = 0; i < 4; i++) {
		air->rng[i] = splitmix64(&s);
	}
	return air;
}

static void pkt_unref(struct pkt *k)
{
	if (k && --k->refs == 0) {
		free(k);
	}
}

void sim_air_free(struct sim_air *air)
{
	if (!air) {
		return;
	}
	for (size_t i = 0; i < air->n_ev; i++) {
		pkt_unref(air->heap[i].pkt);
	}
	free(air->heap);
	for (uint32_t i = 0; i < air->n_parts; i++) {
		free(air->parts[i].nb);
	}
	free(air->parts);
	free(air);
}

const struct sim_air_params *sim_air_params(const struct sim_air *air)
{
	return &air->p;
}

int sim_air_set_loss(struct sim_air *air, double loss)
{
	if (!prob_ok(loss)) {
		return -EINVAL;
	}
	air->p.loss = loss;
	return 0;
}

/* --- Participants ------------------------------------------------------- */

static struct part *part_get(const struct sim_air *air, uint32_t pid)
{
	if (pid >= air->n_parts || !air->parts[pid].active) {
		return NULL;
	}
	return &air->parts[pid];
}

static bool pos_ok(const struct sim_pos *pos)
{
	return pos && isfinite(pos->x) && isfinite(pos->y) && isfinite(pos->z);
}

int sim_air_add(struct sim_air *air, const struct sim_pos *pos, const char *name, sim_air_rx_fn rx,
		void *ctx, uint32_t *pid)
{
	struct part *pt;

	if (!pos_ok(pos) || !pid) {
		return -EINVAL;
	}
	if (air->n_parts >= INT32_MAX) {
		return -ENOSPC;
	}
	if (air->n_parts == air->cap_parts) {
		uint32_t cap = air->cap_parts ? air->cap_parts * 2 : 16;
		struct part *np = realloc(air->parts, (size_t)cap * sizeof(*np));

		if (!np) {
			return -ENOMEM;
		}
		air->parts = np;
		air->cap_parts = cap;
	}
	pt = &air->parts[air->n_parts];
	memset(pt, 0, sizeof(*pt));
	pt->pos = *pos;
	pt->rx = rx;
	pt->ctx = ctx;
	pt->active = true;
	if (name) {
		strncpy(pt->name, name, SIM_AIR_NAME_MAX);
	}
	*pid = air->n_parts++;
	air->gen++;
	return 0;
}

int sim_air_move(struct sim_air *air, uint32_t pid, const struct sim_pos *pos)
{
	struct part *pt = part_get(air, pid);

	if (!pt) {
		return -ENOENT;
	}
	if (!pos_ok(pos)) {
		return -EINVAL;
	}
	pt->pos = *pos;
	air->gen++;
	return 0;
}

int sim_air_remove(struct sim_air *air, uint32_t pid)
{
	struct part *pt = part_get(air, pid);

	if (!pt) {
		return -ENOENT;
	}
	/* Pending events are dropped lazily: they check `active` when they run. */
	pt->active = false;
	pt->rx = NULL;
	pt->ctx = NULL;
	air->gen++;
	return 0;
}

int sim_air_position(const struct sim_air *air, uint32_t pid, struct sim_pos *pos)
{
	const struct part *pt = part_get(air, pid);

	if (!pt) {
		return -ENOENT;
	}
	*pos = pt->pos;
	return 0;
}

const char *sim_air_name(const struct sim_air *air, uint32_t pid)
{
	return pid < air->n_parts ? air->parts[pid].name : NULL;
}

uint32_t sim_air_count(const struct sim_air *air)
{
	return air->n_parts;
}

/* --- Propagation -------------------------------------------------------- */

static long floor_of(const struct sim_air_params *p, double z)
{
	/* The epsilon keeps z = 3.0 with 3 m floors on floor 1 despite rounding. */
	return (long)floor(z / p->floor_height_m + 1e-9);
}

/*
 * Received strength in dBm (unrounded) between two positions: log-distance
 * path loss, PL(d) = PL(1 m) + 10 n log10(d), plus floor_loss_db for every
 * floor between them.  Distances under 10 cm are clamped so that co-located
 * participants get a finite value.
 */
static double rx_dbm(const struct sim_air_params *p, const struct sim_pos *a,
		     const struct sim_pos *b)
{
	double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
	double d = sqrt(dx * dx + dy * dy + dz * dz);
	long floors = labs(floor_of(p, a->z) - floor_of(p, b->z));

	if (d < 0.1) {
		d = 0.1;
	}
	return p->rssi_1m_dbm - 10.0 * p->path_loss_exp * log10(d) -
	       (double)floors * p->floor_loss_db;
}

/* The sensitivity: what a same-floor receiver sees at exactly range_m. */
static double sensitivity_dbm(const struct sim_air_params *p)
{
	return p->rssi_1m_dbm - 10.0 * p->path_loss_exp * log10(p->range_m);
}

/*
 * The same-floor distance that would give `dbm`: floors and distance are
 * folded into one "effective distance" that drives the edge loss.
 */
static double eff_dist(const struct sim_air_params *p, double dbm)
{
	return pow(10.0, (p->rssi_1m_dbm - dbm) / (10.0 * p->path_loss_exp));
}

static int8_t to_rssi(double dbm)
{
	double r = nearbyint(dbm);

	if (r < -127.0) {
		return -127;
	}
	if (r > 20.0) {
		return 20;
	}
	return (int8_t)r;
}

int sim_air_link(const struct sim_air *air, uint32_t from, uint32_t to, int8_t *rssi,
		 bool *in_range)
{
	const struct part *a = part_get(air, from), *b = part_get(air, to);
	double dbm;

	if (!a || !b) {
		return -ENOENT;
	}
	dbm = rx_dbm(&air->p, &a->pos, &b->pos);
	*rssi = to_rssi(dbm);
	*in_range = from != to && dbm >= sensitivity_dbm(&air->p);
	return 0;
}

/* --- Event heap --------------------------------------------------------- */

static bool ev_before(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int heap_push(struct sim_air *air, struct ev *e)
{
	size_t i;

	if (air->n_ev >= SIM_AIR_QUEUE_MAX) {
		return -ENOSPC;
	}
	if (air->n_ev == air->cap_ev) {
		size_t cap = air->cap_ev ? air->cap_ev * 2 : 64;
		struct ev *nh = realloc(air->heap, cap * sizeof(*nh));

		if (!nh) {
			return -ENOMEM;
		}
		air->heap = nh;
		air->cap_ev = cap;
	}
	e->seq = air->seq++;
	i = air->n_ev++;
	while (i > 0) {
		size_t up = (i - 1) / 2;

		if (!ev_before(e, &air->heap[up])) {
			break;
		}
		air->heap[i] = air->heap[up];
		i = up;
	}
	air->heap[i] = *e;
	return 0;
}

static struct ev heap_pop(struct sim_air *air)
{
	struct ev top = air->heap[0];
	struct ev last = air->heap[--air->n_ev];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l >= air->n_ev) {
			break;
		}
		m = l;
		if (l + 1 < air->n_ev && ev_before(&air->heap[l + 1], &air->heap[l])) {
			m = l + 1;
		}
		if (!ev_before(&air->heap[m], &last)) {
			break;
		}
		air->heap[i] = air->heap[m];
		i = m;
	}
	if (air->n_ev) {
		air->heap[i] = last;
	}
	return top;
}

uint64_t sim_air_next_deadline(const struct sim_air *air)
{
	return air->n_ev ? air->heap[0].t : UINT64_MAX;
}

/* --- Sending and delivery ----------------------------------------------- */

enum sim_air_class sim_air_class_of(uint8_t ad_type)
{
	switch (ad_type) {
	case 0x29:
		return SIM_AIR_PB_ADV;
	case 0x2a:
		return SIM_AIR_NETWORK;
	case 0x2b:
		return SIM_AIR_BEACON;
	default:
		return SIM_AIR_OTHER;
	}
}

int sim_air_send(struct sim_air *air, uint32_t pid, uint8_t ad_type, const uint8_t *data,
		 size_t len, unsigned count, unsigned interval_ms, uint64_t now_us)
{
	struct pkt *k;
	struct part *pt;
	struct ev e = {0};
	int err;

	if (len > SIM_AIR_DATA_MAX || (len && !data) || count < 1 || count > SIM_AIR_COUNT_MAX ||
	    interval_ms > SIM_AIR_INTERVAL_MAX || now_us > UINT64_MAX / 2) {
		return -EINVAL;
	}
	pt = part_get(air, pid);
	if (!pt) {
		return -ENOENT;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		return -ENOMEM;
	}
	k->refs = 1;
	k->from = pid;
	k->ad_type = ad_type;
	k->len = (uint8_t)len;
	if (len) {
		memcpy(k->data, data, len);
	}
	k->left = count - 1;
	k->interval_us = (uint64_t)interval_ms * 1000;
	e.kind = EV_TX;
	e.pkt = k;
	e.t = now_us + rng_upto(air->rng, SIM_AIR_ADV_DELAY_US);
	/*
	 * One radio: the first transmissions of a participant's requests leave
	 * in the order they were queued, however close together (advDelay
	 * spaces them, it does not swap them).  Repeats may interleave.
	 */
	if (pt->last_first_tx && e.t <= pt->last_first_tx) {
		e.t = pt->last_first_tx + 1;
	}
	err = heap_push(air, &e);
	if (err < 0) {
		free(k);
		return err;
	}
	pt->last_first_tx = e.t;
	air->tot.sends++;
	return 0;
}

static void deliver(struct sim_air *air, uint32_t to, const struct pkt *k, int8_t rssi, uint64_t t)
{
	struct part *pt = part_get(air, to);
	struct sim_air_rx rx;

	if (!pt || !pt->rx) {
		return;
	}
	pt->c.rx_packets++;
	air->tot.c.rx_packets++;
	rx.to = to;
	rx.from = k->from;
	rx.ad_type = k->ad_type;
	rx.data = k->data;
	rx.len = k->len;
	rx.rssi = rssi;
	rx.time_us = t;
	/* pt may move if the callback adds participants: do not touch it afterwards. */
	pt->rx(pt->ctx, &rx);
}

/* Schedules or performs one reception (and its duplicate, if drawn). */
static void receive(struct sim_air *air, uint32_t to, struct pkt *k, int8_t rssi, uint64_t t)
{
	int copies = 1 + (rng_unit(air->rng) < air->p.duplication);

	if (copies > 1) {
		air->tot.duplicates++;
	}
	for (int i = 0; i < copies; i++) {
		if (air->p.latency_us == 0) {
			deliver(air, to, k, rssi, t);
			continue;
		}
		struct ev e = {
		    .t = t + air->p.latency_us, .kind = EV_RX, .pkt = k, .to = to, .rssi = rssi};
		k->refs++;
		if (heap_push(air, &e) < 0) {
			k->refs--; /* queue full: the reception is lost */
		}
	}
}

/*
 * The receivers in range of participant pid (the active ones other than
 * itself, by increasing id), built on first use after a change of the
 * layout.  A transmission used to place every participant anew: with every
 * node relaying, a flooded network PDU costs one transmission per node, so
 * a building of N devices paid N^2 propagation computations per PDU; the
 * list makes it the number of neighbours.  Receivers are visited, and the
 * PRNG drawn, in the same order as a full walk would: runs stay identical.
 * NULL with *n = 0 when the list cannot be allocated (nobody hears it).
 */
static const struct nb *nb_of(struct sim_air *air, uint32_t pid, uint32_t *n)
{
	struct part *src = &air->parts[pid];
	double sens = sensitivity_dbm(&air->p);
	struct nb *list;
	uint32_t k = 0;

	if (src->nb_gen == air->gen) {
		*n = src->n_nb;
		return src->nb;
	}
	list = realloc(src->nb, (size_t)(air->n_parts ? air->n_parts : 1) * sizeof(*list));
	if (!list) {
		*n = 0;
		return NULL;
	}
	for (uint32_t to = 0; to < air->n_parts; to++) {
		double dbm, d;

		if (to == pid || !air->parts[to].active) {
			continue;
		}
		dbm = rx_dbm(&air->p, &src->pos, &air->parts[to].pos);
		if (dbm < sens) {
			continue;
		}
		/*
		 * The edge loss grows with the square of the effective distance,
		 * reaching edge_loss at the edge of range.
		 */
		d = eff_dist(&air->p, dbm) / air->p.range_m;
		list[k++] =
		    (struct nb){.to = to, .dbm = dbm, .keep_edge = 1.0 - air->p.edge_loss * d * d};
	}
	src->nb = list;
	src->n_nb = k;
	src->nb_gen = air->gen;
	*n = k;
	return list;
}

static void transmit(struct sim_air *air, struct pkt *k, uint64_t t)
{
	const struct part *src = part_get(air, k->from);
	enum sim_air_class cls = sim_air_class_of(k->ad_type);
	const struct nb *nb;
	uint32_t n;

	if (!src) {
		return; /* the sender left the air */
	}
	air->parts[k->from].c.packets[cls]++;
	air->parts[k->from].c.bytes[cls] += 2u + k->len;
	air->tot.c.packets[cls]++;
	air->tot.c.bytes[cls] += 2u + k->len;

	/*
	 * The list as it is now: participants added by callbacks during this
	 * loop did not exist at t (a rebuild would replace the list, so it is
	 * not rebuilt until the next transmission).
	 */
	nb = nb_of(air, k->from, &n);
	for (uint32_t i = 0; i < n; i++) {
		/* Two independent loss sources: the global setting and the edge loss. */
		double p_keep = (1.0 - air->p.loss) * nb[i].keep_edge;

		if (!air->parts[nb[i].to].active) {
			continue; /* left during this loop */
		}
		if (rng_unit(air->rng) >= p_keep) {
			air->tot.lost++;
			continue;
		}
		receive(air, nb[i].to, k, to_rssi(nb[i].dbm), t);
	}
}

size_t sim_air_tick(struct sim_air *air, uint64_t now_us)
{
	size_t ran = 0;

	while (air->n_ev && air->heap[0].t <= now_us) {
		struct ev e = heap_pop(air);

		ran++;
		if (e.kind == EV_RX) {
			deliver(air, e.to, e.pkt, e.rssi, e.t);
			pkt_unref(e.pkt);
			continue;
		}
		transmit(air, e.pkt, e.t);
		if (e.pkt->left && part_get(air, e.pkt->from)) {
			struct ev nx = {.kind = EV_TX, .pkt = e.pkt};

			e.pkt->left--;
			nx.t = e.t + e.pkt->interval_us + rng_upto(air->rng, SIM_AIR_ADV_DELAY_US);
			if (heap_push(air, &nx) == 0) {
				continue; /* the reference moves to the next event */
			}
		}
		pkt_unref(e.pkt);
	}
	return ran;
}

/* --- Accounting --------------------------------------------------------- */

void sim_air_totals(const struct sim_air *air, struct sim_air_totals *t)
{
	*t = air->tot;
}

int sim_air_counters(const struct sim_air *air, uint32_t pid, struct sim_air_counters *c)
{
	if (pid >= air->n_parts) {
		return -ENOENT;
	}
	*c = air->parts[pid].c;
	return 0;
}

static const char *const class_names[SIM_AIR_CLASSES] = {"pb_adv", "network", "beacon", "other"};

static json_t *counters_json(const struct sim_air_counters *c)
{
	json_t *o = json_object();
	uint64_t pk = 0, by = 0;

	if (!o) {
		return NULL;
	}
	for (int i = 0; i < SIM_AIR_CLASSES; i++) {
		json_object_set_new(o, class_names[i],
				    json_pack("{sIsI}", "packets", (json_int_t)c->packets[i],
					      "bytes", (json_int_t)c->bytes[i]));
		pk += c->packets[i];
		by += c->bytes[i];
	}
	json_object_set_new(
	    o, "all", json_pack("{sIsI}", "packets", (json_int_t)pk, "bytes", (json_int_t)by));
	json_object_set_new(o, "rx_packets", json_integer((json_int_t)c->rx_packets));
	return o;
}

json_t *sim_air_stats_json(const struct sim_air *air, uint64_t now_us)
{
	json_t *root = NULL, *tot, *parts;

	tot = counters_json(&air->tot.c);
	parts = json_array();
	if (!tot || !parts) {
		goto out_free;
	}
	json_object_set_new(tot, "sends", json_integer((json_int_t)air->tot.sends));
	json_object_set_new(tot, "lost", json_integer((json_int_t)air->tot.lost));
	json_object_set_new(tot, "duplicates", json_integer((json_int_t)air->tot.duplicates));
	for (uint32_t i = 0; i < air->n_parts; i++) {
		const struct part *pt = &air->parts[i];
		json_t *c = counters_json(&pt->c);
		json_t *o = json_pack("{sIsssbs{sfsfsf}so?}", "id", (json_int_t)i, "name", pt->name,
				      "active", pt->active, "position", "x", pt->pos.x, "y",
				      pt->pos.y, "z", pt->pos.z, "airtime", c);

		if (!o || json_array_append_new(parts, o) < 0) {
			goto out_free;
		}
	}
	root = json_pack("{sIsoso}", "time_us", (json_int_t)now_us, "total", tot, "participants",
			 parts);
	return root;

out_free:
	json_decref(tot);
	json_decref(parts);
	return NULL;
}
