/*
 * Lower transport SAR figures: for 380-octet access messages between two
 * in-memory nodes over a link that loses a given share of PDUs, print how
 * often the spec-default SAR settings deliver, how many PDUs go on the air,
 * the simulated time until the sender hears the outcome, and the CPU cost
 * of the state machines per message.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/ltp.h"
#include "mesh/rpl.h"
#include "tests/util/tv.h"

#define MSGS 500
#define AIR_MAX 1024
#define FLIGHT_MS 5 /* constant air delay: PDUs stay in order */

struct air_pdu {
	uint64_t at;
	int to;
	struct mesh_net_rx rx;
	uint8_t b[32];
};

struct bench {
	uint64_t rng;
	unsigned loss;
	uint64_t now;
	struct air_pdu air[AIR_MAX];
	size_t head, tail; /* FIFO: constant delay keeps it sorted */
	struct mesh_ltp *ltp[2];
	struct mesh_rpl *rpl[2];
	uint32_t seq[2];
	unsigned on_air, delivered, done, ok;
};

struct side {
	struct bench *b;
	int idx;
};

static int b_net_send(void *ctx, const struct mesh_net_tx *tx)
{
	struct side *s = ctx;
	struct bench *b = s->b;
	uint8_t r;
	struct air_pdu *p;

	b->on_air++;
	tv_rng(&b->rng, &r, 1);
	if ((unsigned)r * 100 / 256 < b->loss || b->tail - b->head == AIR_MAX) {
		return 0;
	}
	p = &b->air[b->tail++ % AIR_MAX];
	p->at = b->now + FLIGHT_MS;
	p->to = !s->idx;
	memcpy(p->b, tx->tpdu, tx->tpdu_len);
	p->rx = (struct mesh_net_rx){.iv_index = 1,
				     .ctl = tx->ctl,
				     .ttl = tx->ttl,
				     .seq = tx->seq,
				     .src = tx->src,
				     .dst = tx->dst,
				     .tpdu = p->b,
				     .tpdu_len = tx->tpdu_len};
	return 0;
}

static int b_seq_alloc(void *ctx, uint16_t src, uint32_t *seq)
{
	struct side *s = ctx;

	(void)src;
	*seq = s->b->seq[s->idx]++;
	return 0;
}

static int b_recv(void *ctx, const struct mesh_utp_msg *msg)
{
	struct side *s = ctx;

	(void)msg;
	s->b->delivered++;
	return 0;
}

static void b_tx_done(void *ctx, uint32_t handle, int status)
{
	struct side *s = ctx;

	(void)handle;
	s->b->done++;
	s->b->ok += status == 0;
}

static uint64_t next_at(const struct bench *b)
{
	uint64_t t = mesh_ltp_next_deadline(b->ltp[0]), u = mesh_ltp_next_deadline(b->ltp[1]);

	t = u < t ? u : t;
	if (b->head != b->tail && b->air[b->head % AIR_MAX].at < t) {
		t = b->air[b->head % AIR_MAX].at;
	}
	return t;
}

/* Advance the clock to the next event and handle it; false when nothing is left. */
static bool step(struct bench *b)
{
	uint64_t t = next_at(b);

	if (t == UINT64_MAX) {
		return false;
	}
	b->now = t > b->now ? t : b->now;
	while (b->head != b->tail && b->air[b->head % AIR_MAX].at <= b->now) {
		struct air_pdu p = b->air[b->head++ % AIR_MAX];

		p.rx.tpdu = p.b;
		(void)mesh_ltp_rx(b->ltp[p.to], &p.rx, b->now);
	}
	mesh_ltp_tick(b->ltp[0], b->now);
	mesh_ltp_tick(b->ltp[1], b->now);
	return true;
}

static void run(unsigned loss)
{
	static struct bench b;
	struct side sides[2] = {{&b, 0}, {&b, 1}};
	struct mesh_ltp_config cfg;
	uint8_t data[384];
	uint64_t sim_ms = 0;
	struct timespec t0, t1;
	double cpu_us;
	unsigned i;
	int k;

	memset(&b, 0, sizeof(b));
	b.rng = 12345 + loss;
	b.loss = loss;
	b.seq[1] = 1u << 20;
	mesh_ltp_config_default(&cfg);
	cfg.discard_ms = 3000; /* settle quickly once the sender is done */
	for (k = 0; k < 2; k++) {
		struct mesh_ltp_ops ops = {.ctx = &sides[k],
					   .net_send = b_net_send,
					   .seq_alloc = b_seq_alloc,
					   .recv = b_recv,
					   .tx_done = b_tx_done};

		b.rpl[k] = mesh_rpl_new(8);
		b.ltp[k] = mesh_ltp_new(&cfg, &ops, b.rpl[k]);
		if (!b.ltp[k]) {
			fprintf(stderr, "mesh_ltp_new failed\n");
			exit(1);
		}
	}
	tv_rng(&b.rng, data, sizeof(data));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < MSGS; i++) {
		struct mesh_utp_msg m = {.src = 0x0001,
					 .dst = 0x0002,
					 .seq = b.seq[0]++,
					 .ttl = 5,
					 .akf = true,
					 .aid = 1,
					 .data = data,
					 .len = 384};
		uint64_t start = b.now;
		unsigned done = b.done;
		uint32_t h;

		if (mesh_ltp_send(b.ltp[0], &m, b.now, &h) != 0) {
			fprintf(stderr, "send failed\n");
			exit(1);
		}
		/* Time to the sender's verdict, not to the receiver's cleanup. */
		while (b.done == done && step(&b)) {
		}
		sim_ms += b.now - start;
		while (step(&b)) {
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cpu_us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 /
		 MSGS;
	printf("loss %2u%%  delivered %5.1f%%  acked %5.1f%%  PDUs/msg %6.1f  "
	       "sim ms to verdict %7.1f  CPU us/msg %6.1f\n",
	       loss, 100.0 * b.delivered / MSGS, 100.0 * b.ok / MSGS, (double)b.on_air / MSGS,
	       (double)sim_ms / MSGS, cpu_us);
	for (k = 0; k < 2; k++) {
		mesh_ltp_free(b.ltp[k]);
		mesh_rpl_free(b.rpl[k]);
	}
}

int main(void)
{
	static const unsigned losses[] = {0, 5, 10, 20, 30, 50};
	size_t i;

	printf("ltp SAR: %d messages of 384 octets (32 segments), spec-default SAR settings\n",
	       MSGS);
	for (i = 0; i < sizeof(losses) / sizeof(losses[0]); i++) {
		run(losses[i]);
	}
	return 0;
}
