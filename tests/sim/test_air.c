/*
 * The simulated air (sim/air.c) in virtual time: reach by distance and
 * floors, RSSI, advertising timing, loss and duplication statistics,
 * airtime accounting, removal, and argument checks.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "sim/air.h"

#define RX_MAX 4096

struct rec {
	size_t n;
	uint64_t t[RX_MAX];
	int8_t rssi[RX_MAX];
	uint8_t type[RX_MAX];
	uint8_t data[RX_MAX][SIM_AIR_DATA_MAX];
	size_t len[RX_MAX];
};

static void rec_rx(void *ctx, const struct sim_air_rx *rx)
{
	struct rec *r = ctx;

	if (r->n < RX_MAX) {
		r->t[r->n] = rx->time_us;
		r->rssi[r->n] = rx->rssi;
		r->type[r->n] = rx->ad_type;
		r->len[r->n] = rx->len;
		memcpy(r->data[r->n], rx->data, rx->len);
	}
	r->n++;
}

/* Defaults with every random loss switched off, so reach is deterministic. */
static struct sim_air_params lossless(void)
{
	struct sim_air_params p;

	sim_air_params_default(&p);
	p.edge_loss = 0.0;
	return p;
}

/* Steps the virtual clock from deadline to deadline until the air is idle. */
static uint64_t drain(struct sim_air *air)
{
	uint64_t t = 0, dl;

	while ((dl = sim_air_next_deadline(air)) != UINT64_MAX) {
		cr_assert_geq(dl, t, "time never runs backwards");
		t = dl;
		sim_air_tick(air, t);
	}
	return t;
}

static uint32_t add(struct sim_air *air, double x, double y, double z, struct rec *r)
{
	struct sim_pos p = {x, y, z};
	uint32_t pid;

	cr_assert_eq(sim_air_add(air, &p, "p", r ? rec_rx : NULL, r, &pid), 0);
	return pid;
}

static const uint8_t pdu[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99};

/* Same floor: 29 m is inside the default 30 m range, 31 m is not, and the sender hears nothing. */
Test(air, reach_by_distance)
{
	struct sim_air_params p = lossless();
	struct sim_air *air = sim_air_new(1, &p);
	struct rec *near = calloc(1, sizeof(*near)), *far = calloc(1, sizeof(*far)),
		   *self = calloc(1, sizeof(*self));
	uint32_t tx = add(air, 0, 0, 1, self);

	add(air, 29, 0, 1, near);
	add(air, 0, 31, 1, far);
	cr_assert_eq(sim_air_send(air, tx, 0x2a, pdu, sizeof(pdu), 1, 0, 0), 0);
	drain(air);
	cr_assert_eq(near->n, 1);
	cr_assert_eq(far->n, 0);
	cr_assert_eq(self->n, 0);
	cr_assert_eq(near->type[0], 0x2a);
	cr_assert_eq(near->len[0], sizeof(pdu));
	cr_assert_arr_eq(near->data[0], pdu, sizeof(pdu));
	sim_air_free(air);
	free(near);
	free(far);
	free(self);
}

/*
 * Floors: 12 dB per floor with exponent 2.5 divides the range by
 * 10^(12/25) = 3.02, to 9.9 m.  One floor up, 5 m away horizontally
 * (5.8 m in 3-D) is heard; 15 m away is not, though it is on the same floor.
 */
Test(air, floor_attenuation_shrinks_range)
{
	struct sim_air_params p = lossless();
	struct sim_air *air = sim_air_new(1, &p);
	struct rec *up5 = calloc(1, sizeof(*up5)), *up15 = calloc(1, sizeof(*up15)),
		   *same15 = calloc(1, sizeof(*same15)), *two5 = calloc(1, sizeof(*two5));
	uint32_t tx = add(air, 0, 0, 1, NULL);

	add(air, 5, 0, 4, up5);     /* floor 1 */
	add(air, 15, 0, 4, up15);   /* floor 1 */
	add(air, 0, 15, 1, same15); /* floor 0 */
	add(air, 0, 5, 7, two5);    /* floor 2: range 30 / 10^(24/25) = 3.3 m */
	cr_assert_eq(sim_air_send(air, tx, 0x2b, pdu, 5, 1, 0, 0), 0);
	drain(air);
	cr_assert_eq(up5->n, 1);
	cr_assert_eq(up15->n, 0);
	cr_assert_eq(same15->n, 1);
	cr_assert_eq(two5->n, 0);
	sim_air_free(air);
	free(up5);
	free(up15);
	free(same15);
	free(two5);
}

/* Log-distance RSSI: -40 dBm at 1 m, -65 dBm at 10 m (n = 2.5), 12 dB less per floor. */
Test(air, rssi_log_distance)
{
	struct sim_air_params p = lossless();
	struct sim_air *air = sim_air_new(1, &p);
	struct rec *r1 = calloc(1, sizeof(*r1)), *r10 = calloc(1, sizeof(*r10));
	uint32_t tx = add(air, 0, 0, 0.5, NULL), up;
	int8_t rssi;
	bool in;

	add(air, 1, 0, 0.5, r1);
	add(air, 0, 10, 0.5, r10);
	up = add(air, 0, 0, 3.5, NULL); /* 3 m above, one floor up: -40 - 11.9 - 12 */
	cr_assert_eq(sim_air_send(air, tx, 0x2a, pdu, 3, 1, 0, 0), 0);
	drain(air);
	cr_assert_eq(r1->rssi[0], -40);
	cr_assert_eq(r10->rssi[0], -65);
	cr_assert_eq(sim_air_link(air, tx, up, &rssi, &in), 0);
	cr_assert_eq(rssi, -64);
	cr_assert(in);
	cr_assert_eq(sim_air_link(air, tx, 999, &rssi, &in), -ENOENT);
	sim_air_free(air);
	free(r1);
	free(r10);
}

/*
 * Core Vol 6 Part B §4.4.2.2.1: each advertising event is advInterval plus
 * advDelay (0-10 ms) after the previous one.  5 transmissions 100 ms apart
 * with 2 ms latency: first reception in [now+2 ms, now+12 ms], gaps in
 * [100 ms, 110 ms], on the virtual clock.
 */
Test(air, timing_count_interval_adv_delay)
{
	struct sim_air_params p = lossless();
	struct rec *r = calloc(1, sizeof(*r));
	struct sim_air *air;
	uint32_t tx;
	const uint64_t now = 5000000;
	bool gaps_differ = false;

	p.latency_us = 2000;
	air = sim_air_new(7, &p);
	tx = add(air, 0, 0, 1, NULL);
	add(air, 3, 0, 1, r);
	for (int k = 0; k < 20; k++) {
		size_t first = r->n;

		cr_assert_eq(sim_air_send(air, tx, 0x2a, pdu, 4, 5, 100, now + k * 1000000ULL), 0);
		cr_assert_eq(sim_air_next_deadline(air) >= now + k * 1000000ULL, true);
		/* Nothing arrives before the first event, and ticking early delivers nothing. */
		sim_air_tick(air, now + k * 1000000ULL + 1999);
		cr_assert_eq(r->n, first);
		while (sim_air_next_deadline(air) != UINT64_MAX) {
			sim_air_tick(air, sim_air_next_deadline(air));
		}
		cr_assert_eq(r->n, first + 5);
		cr_assert_geq(r->t[first], now + k * 1000000ULL + 2000);
		cr_assert_leq(r->t[first], now + k * 1000000ULL + 12000);
		for (size_t i = first + 1; i < first + 5; i++) {
			uint64_t gap = r->t[i] - r->t[i - 1];

			cr_assert_geq(gap, 100000);
			cr_assert_leq(gap, 110000);
			gaps_differ |= gap != r->t[first + 1] - r->t[first];
		}
	}
	cr_assert(gaps_differ, "advDelay is random, not constant");
	sim_air_free(air);
	free(r);
}

/*
 * A participant is one radio: requests queued at the same instant reach the
 * receiver in the order they were queued (advDelay spaces them, never swaps
 * them), while another participant's packets still interleave freely.
 */
Test(air, one_radio_keeps_its_order)
{
	struct sim_air_params p = lossless();
	struct rec *r = calloc(1, sizeof(*r));
	struct sim_air *air;
	uint32_t a, b;
	bool b_between = false;

	air = sim_air_new(11, &p);
	a = add(air, 0, 0, 1, NULL);
	b = add(air, 1, 0, 1, NULL);
	add(air, 3, 0, 1, r);
	for (int k = 0; k < 200; k++) {
		uint64_t now = 1000000ULL * (uint64_t)(k + 1);
		uint8_t d[2] = {0, (uint8_t)k};
		size_t first = r->n, ia = 0;

		for (uint8_t i = 0; i < 4; i++) {
			d[0] = i;
			cr_assert_eq(sim_air_send(air, a, 0x29, d, 2, 1, 0, now), 0);
		}
		d[0] = 0xbb;
		cr_assert_eq(sim_air_send(air, b, 0x29, d, 2, 1, 0, now), 0);
		drain(air);
		cr_assert_eq(r->n, first + 5);
		for (size_t i = first; i < first + 5; i++) {
			cr_assert_eq(r->data[i][1], (uint8_t)k);
			if (r->data[i][0] == 0xbb) {
				b_between |= ia > 0 && ia < 4;
				continue;
			}
			cr_assert_eq(r->data[i][0], ia,
				     "round %d: A's packet %u arrived as number %zu", k,
				     r->data[i][0], ia);
			ia++;
		}
		cr_assert_leq(r->t[first + 4], now + SIM_AIR_ADV_DELAY_US + 4);
	}
	cr_assert(b_between, "another radio's packet never fell between A's");
	sim_air_free(air);
	free(r);
}

static size_t run_loss(uint64_t seed, double loss, double edge, double dist)
{
	struct sim_air_params p = lossless();
	struct rec *r = calloc(1, sizeof(*r));
	struct sim_air *air;
	struct sim_air_totals tot;
	uint32_t tx;
	size_t n;

	p.loss = loss;
	p.edge_loss = edge;
	air = sim_air_new(seed, &p);
	tx = add(air, 0, 0, 1, NULL);
	add(air, dist, 0, 1, r);
	for (int i = 0; i < 10000; i++) {
		cr_assert_eq(sim_air_send(air, tx, 0x2a, pdu, 4, 1, 0, (uint64_t)i * 20000), 0);
		sim_air_tick(air, (uint64_t)i * 20000 + 10000);
	}
	sim_air_totals(air, &tot);
	n = r->n;
	cr_assert_eq(tot.lost + n, 10000, "every reception is either delivered or lost");
	sim_air_free(air);
	free(r);
	return n;
}

/*
 * Global loss 0.3 over 10,000 packets delivers about 7,000 (3 sigma is
 * 137); the same seed gives exactly the same count, another seed another.
 */
Test(air, global_loss_statistics_deterministic)
{
	size_t a = run_loss(42, 0.3, 0.0, 5), b = run_loss(42, 0.3, 0.0, 5);
	size_t c = run_loss(43, 0.3, 0.0, 5);

	cr_assert_geq(a, 6600);
	cr_assert_leq(a, 7400);
	cr_assert_eq(a, b, "same seed, same run");
	cr_assert_neq(a, c, "another seed draws differently");
	cr_assert_eq(run_loss(1, 0.0, 0.0, 5), 10000);
	cr_assert_eq(run_loss(1, 1.0, 0.0, 5), 0);
}

/* Edge loss grows with distance: 0.5 at the edge gives about 0.5 * (27/30)^2 = 0.41 loss at 27 m.
 */
Test(air, edge_loss_depends_on_distance)
{
	size_t near = run_loss(9, 0.0, 0.5, 3), far = run_loss(9, 0.0, 0.5, 27);

	cr_assert_geq(near, 9900); /* 0.5 * 0.01 = 0.5 % loss */
	cr_assert_geq(far, 5500);
	cr_assert_leq(far, 6300);
}

/* Duplication 1.0 delivers every reception twice, 0.25 about a quarter extra. */
Test(air, duplication)
{
	struct sim_air_params p = lossless();
	struct rec *r = calloc(1, sizeof(*r));
	struct sim_air *air;
	struct sim_air_totals tot;
	uint32_t tx;

	p.duplication = 1.0;
	air = sim_air_new(3, &p);
	tx = add(air, 0, 0, 1, NULL);
	add(air, 1, 0, 1, r);
	cr_assert_eq(sim_air_send(air, tx, 0x29, pdu, 6, 3, 20, 0), 0);
	drain(air);
	cr_assert_eq(r->n, 6);
	cr_assert_eq(r->t[0], r->t[1]);
	sim_air_free(air);

	r->n = 0;
	p.duplication = 0.25;
	air = sim_air_new(3, &p);
	tx = add(air, 0, 0, 1, NULL);
	add(air, 1, 0, 1, r);
	for (int i = 0; i < 2000; i++) {
		cr_assert_eq(sim_air_send(air, tx, 0x29, pdu, 6, 1, 0, (uint64_t)i * 20000), 0);
		sim_air_tick(air, (uint64_t)i * 20000 + 10000);
	}
	sim_air_totals(air, &tot);
	cr_assert_eq(r->n, 2000 + tot.duplicates);
	cr_assert_geq(tot.duplicates, 400);
	cr_assert_leq(tot.duplicates, 600);
	sim_air_free(air);
	free(r);
}

/*
 * Airtime by AD type: each transmission counts one packet and an AD
 * structure of length + type + data octets, for the sender and in total.
 */
Test(air, airtime_accounting_by_ad_type)
{
	struct sim_air_params p = lossless();
	struct sim_air *air = sim_air_new(1, &p);
	struct rec *r = calloc(1, sizeof(*r)), *ra = calloc(1, sizeof(*ra));
	struct sim_air_counters c;
	struct sim_air_totals tot;
	uint32_t a = add(air, 0, 0, 1, ra), b = add(air, 2, 0, 1, r);
	json_t *j;

	cr_assert_eq(sim_air_send(air, a, 0x29, pdu, 10, 3, 20, 0), 0); /* PB-ADV */
	cr_assert_eq(sim_air_send(air, a, 0x2a, pdu, 8, 2, 20, 0), 0);  /* Network */
	cr_assert_eq(sim_air_send(air, b, 0x2b, pdu, 9, 1, 0, 0), 0);   /* beacon, from b */
	cr_assert_eq(sim_air_send(air, a, 0x01, pdu, 1, 1, 0, 0), 0);   /* other */
	drain(air);
	cr_assert_eq(sim_air_counters(air, a, &c), 0);
	cr_assert_eq(c.packets[SIM_AIR_PB_ADV], 3);
	cr_assert_eq(c.bytes[SIM_AIR_PB_ADV], 3 * 12);
	cr_assert_eq(c.packets[SIM_AIR_NETWORK], 2);
	cr_assert_eq(c.bytes[SIM_AIR_NETWORK], 2 * 10);
	cr_assert_eq(c.packets[SIM_AIR_BEACON], 0);
	cr_assert_eq(c.packets[SIM_AIR_OTHER], 1);
	cr_assert_eq(c.bytes[SIM_AIR_OTHER], 3);
	cr_assert_eq(c.rx_packets, 1); /* b's beacon */
	cr_assert_eq(sim_air_counters(air, b, &c), 0);
	cr_assert_eq(c.packets[SIM_AIR_BEACON], 1);
	cr_assert_eq(c.bytes[SIM_AIR_BEACON], 11);
	cr_assert_eq(c.rx_packets, 6);
	cr_assert_eq(r->n, 6);
	sim_air_totals(air, &tot);
	cr_assert_eq(tot.sends, 4);
	cr_assert_eq(tot.c.packets[SIM_AIR_PB_ADV], 3);
	cr_assert_eq(tot.c.packets[SIM_AIR_BEACON], 1);
	cr_assert_eq(tot.c.rx_packets, 7);
	cr_assert_eq(sim_air_counters(air, 77, &c), -ENOENT);

	j = sim_air_stats_json(air, 123);
	cr_assert_not_null(j);
	cr_assert_eq(json_integer_value(json_object_get(j, "time_us")), 123);
	cr_assert_eq(json_integer_value(json_object_get(
			 json_object_get(json_object_get(j, "total"), "pb_adv"), "packets")),
		     3);
	cr_assert_eq(json_integer_value(json_object_get(
			 json_object_get(json_object_get(j, "total"), "all"), "bytes")),
		     36 + 20 + 11 + 3);
	cr_assert_eq(json_array_size(json_object_get(j, "participants")), 2);
	cr_assert_eq(json_integer_value(json_object_get(
			 json_object_get(
			     json_object_get(json_array_get(json_object_get(j, "participants"), 1),
					     "airtime"),
			     "beacon"),
			 "packets")),
		     1);
	json_decref(j);
	sim_air_free(air);
	free(r);
	free(ra);
}

struct remover {
	struct sim_air *air;
	uint32_t victim;
	size_t n;
};

static void remove_on_rx(void *ctx, const struct sim_air_rx *rx)
{
	struct remover *m = ctx;

	(void)rx;
	m->n++;
	sim_air_remove(m->air, m->victim);
}

/*
 * A participant removed mid-flight sends no more, and one removed from
 * another participant's callback receives nothing more.
 */
Test(air, remove_drops_pending_events)
{
	struct sim_air_params p = lossless();
	struct sim_air *air = sim_air_new(1, &p);
	struct rec *r = calloc(1, sizeof(*r));
	struct remover m = {.air = air};
	uint32_t tx = add(air, 0, 0, 1, NULL), rm;
	struct sim_pos pos = {1, 0, 1};

	cr_assert_eq(sim_air_add(air, &pos, "remover", remove_on_rx, &m, &rm), 0);
	m.victim = add(air, 2, 0, 1, r);
	cr_assert_eq(sim_air_send(air, tx, 0x2a, pdu, 4, 4, 50, 0), 0);
	drain(air);
	cr_assert_eq(m.n, 4);
	cr_assert_leq(r->n, 1, "at most the first event reached the victim before removal");
	cr_assert_eq(sim_air_send(air, m.victim, 0x2a, pdu, 4, 1, 0, 0), -ENOENT);
	cr_assert_eq(sim_air_move(air, m.victim, &pos), -ENOENT);

	m.n = 0;
	cr_assert_eq(sim_air_send(air, tx, 0x2a, pdu, 4, 4, 50, 1000000), 0);
	sim_air_tick(air, 1000000 + 10000); /* the first event at most */
	cr_assert_eq(sim_air_remove(air, tx), 0);
	drain(air);
	cr_assert_leq(m.n, 1);
	sim_air_free(air);
	free(r);
}

/* Moving a participant changes who hears it. */
Test(air, move_changes_reach)
{
	struct sim_air_params p = lossless();
	struct sim_air *air = sim_air_new(1, &p);
	struct rec *r = calloc(1, sizeof(*r));
	uint32_t tx = add(air, 0, 0, 1, NULL);
	struct sim_pos far = {100, 0, 1}, got;

	add(air, 5, 0, 1, r);
	cr_assert_eq(sim_air_move(air, tx, &far), 0);
	cr_assert_eq(sim_air_position(air, tx, &got), 0);
	cr_assert_float_eq(got.x, 100.0, 1e-9);
	cr_assert_eq(sim_air_send(air, tx, 0x2a, pdu, 4, 1, 0, 0), 0);
	drain(air);
	cr_assert_eq(r->n, 0);
	sim_air_free(air);
	free(r);
}

/*
 * The receivers in range are remembered between transmissions: a move, a
 * new participant and a removal after a transmission must each change who
 * hears the next one.
 */
Test(air, reach_follows_layout_changes_between_sends)
{
	struct sim_air_params p = lossless();
	struct sim_air *air = sim_air_new(1, &p);
	struct rec *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint32_t tx = add(air, 0, 0, 1, NULL), ra = add(air, 5, 0, 1, a), rb;
	struct sim_pos far = {100, 0, 1}, home = {0, 0, 1}, away = {0, 200, 1};
	uint64_t t = 0;

	/* Each step: one transmission, then how many each receiver got so far. */
#define STEP(na, nb)                                                                               \
	do {                                                                                       \
		cr_assert_eq(sim_air_send(air, tx, 0x2a, pdu, 4, 1, 0, t), 0);                     \
		t = drain(air) + 1;                                                                \
		cr_assert_eq(a->n, (na));                                                          \
		cr_assert_eq(b->n, (nb));                                                          \
	} while (0)

	STEP(1, 0);
	cr_assert_eq(sim_air_move(air, tx, &far), 0); /* out of everyone's range */
	STEP(1, 0);
	cr_assert_eq(sim_air_move(air, tx, &home), 0);
	rb = add(air, 0, 5, 1, b); /* joins after the sender's list was built */
	STEP(2, 1);
	cr_assert_eq(sim_air_remove(air, ra), 0);
	STEP(2, 2);
	cr_assert_eq(sim_air_move(air, rb, &away), 0); /* the receiver moves, not the sender */
	STEP(2, 2);
#undef STEP
	sim_air_free(air);
	free(a);
	free(b);
}

struct echo {
	struct sim_air *air;
	uint32_t me;
	size_t n;
};

static void echo_rx(void *ctx, const struct sim_air_rx *rx)
{
	struct echo *e = ctx;

	e->n++;
	if (rx->ad_type == 0x01) {
		cr_assert_eq(
		    sim_air_send(e->air, e->me, 0x02, rx->data, rx->len, 1, 0, rx->time_us), 0);
	}
}

/* A callback may transmit: the reply goes on the air after the request. */
Test(air, send_from_callback)
{
	struct sim_air_params p = lossless();
	struct sim_air *air = sim_air_new(1, &p);
	struct rec *r = calloc(1, sizeof(*r));
	struct echo e = {.air = air};
	struct sim_pos pos = {1, 1, 1};

	cr_assert_eq(sim_air_add(air, &pos, "echo", echo_rx, &e, &e.me), 0);
	uint32_t tx = add(air, 0, 0, 1, r);

	cr_assert_eq(sim_air_send(air, tx, 0x01, pdu, 7, 1, 0, 0), 0);
	drain(air);
	cr_assert_eq(e.n, 1);
	cr_assert_eq(r->n, 1);
	cr_assert_eq(r->type[0], 0x02);
	cr_assert_arr_eq(r->data[0], pdu, 7);
	sim_air_free(air);
	free(r);
}

/* Bad arguments are refused and leave the air unchanged. */
Test(air, invalid_arguments)
{
	struct sim_air_params p = lossless();
	struct sim_air *air = sim_air_new(1, &p);
	uint8_t big[SIM_AIR_DATA_MAX + 1] = {0};
	uint32_t tx = add(air, 0, 0, 1, NULL), pid;
	struct sim_pos nan_pos = {NAN, 0, 0};
	struct sim_air_totals tot;

	cr_assert_eq(sim_air_send(air, tx, 0x2a, big, sizeof(big), 1, 0, 0), -EINVAL);
	cr_assert_eq(sim_air_send(air, tx, 0x2a, big, 4, 0, 0, 0), -EINVAL);
	cr_assert_eq(sim_air_send(air, tx, 0x2a, big, 4, SIM_AIR_COUNT_MAX + 1, 0, 0), -EINVAL);
	cr_assert_eq(sim_air_send(air, tx, 0x2a, big, 4, 1, SIM_AIR_INTERVAL_MAX + 1, 0), -EINVAL);
	cr_assert_eq(sim_air_send(air, tx, 0x2a, NULL, 4, 1, 0, 0), -EINVAL);
	cr_assert_eq(sim_air_send(air, 5, 0x2a, big, 4, 1, 0, 0), -ENOENT);
	cr_assert_eq(sim_air_add(air, &nan_pos, "x", NULL, NULL, &pid), -EINVAL);
	cr_assert_eq(sim_air_set_loss(air, 1.5), -EINVAL);
	cr_assert_eq(sim_air_set_loss(air, NAN), -EINVAL);
	cr_assert_float_eq(sim_air_params(air)->loss, 0.0, 1e-12);
	cr_assert_eq(sim_air_next_deadline(air), UINT64_MAX);
	sim_air_totals(air, &tot);
	cr_assert_eq(tot.sends, 0);
	cr_assert_eq(sim_air_count(air), 1);
	sim_air_free(air);

	p.range_m = 0;
	cr_assert_null(sim_air_new(1, &p));
	p = lossless();
	p.duplication = -0.1;
	cr_assert_null(sim_air_new(1, &p));
	sim_air_free(NULL);
}

/* The queue is bounded: a flooding sender gets -ENOSPC, not unbounded memory. */
Test(air, queue_bound)
{
	struct sim_air_params p = lossless();
	struct sim_air *air = sim_air_new(1, &p);
	uint32_t tx = add(air, 0, 0, 1, NULL);
	int err = 0;
	size_t i;

	for (i = 0; i <= SIM_AIR_QUEUE_MAX && err == 0; i++) {
		err = sim_air_send(air, tx, 0x2a, pdu, 4, 1, 0, 0);
	}
	cr_assert_eq(err, -ENOSPC);
	cr_assert_eq(i, SIM_AIR_QUEUE_MAX + 1);
	sim_air_free(air);
}
