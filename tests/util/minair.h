/*
 * A minimal in-memory advertising air for tests of whole nodes: packets
 * from a participant reach the participants that hear it (a topology
 * matrix), in order, with optional seeded loss; time is a fake clock that
 * jumps to the next deadline any participant or extra ticker asks for.
 * Nothing sleeps.
 */
#ifndef TESTS_UTIL_MINAIR_H
#define TESTS_UTIL_MINAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MINAIR_MAX 16

struct minair_part {
	void *obj;
	/* Deliver one AD structure. */
	void (*rx)(void *obj, uint8_t ad_type, const uint8_t *data, size_t len, uint64_t now);
	uint64_t (*deadline)(void *obj);
	void (*tick)(void *obj, uint64_t now);
};

struct minair {
	struct minair_part part[MINAIR_MAX];
	int n;
	bool hears[MINAIR_MAX][MINAIR_MAX];
	uint64_t now;
	unsigned loss_pct; /* dropped per receiver */
	unsigned dup_pct;  /* a packet is put on the air twice */
	unsigned reorder;  /* deliver any of the first `reorder` queued packets (0/1: FIFO) */
	uint64_t rng;
	size_t sent, delivered;
};

void minair_init(struct minair *a, uint64_t now, uint64_t seed);
/* Add a participant; returns its id.  All existing participants hear it and vice versa. */
int minair_add(struct minair *a, const struct minair_part *p);
void minair_link(struct minair *a, int x, int y, bool on);
/* Queue a packet from participant `from` (call it from the participant's send hook). */
void minair_send(struct minair *a, int from, uint8_t ad_type, const uint8_t *data, size_t len);
/* Deliver and tick until nothing is left before `until` (fake time); returns the final now. */
uint64_t minair_run(struct minair *a, uint64_t until);
/* Run until *flag becomes true or `until`; returns whether it did. */
bool minair_run_until(struct minair *a, const volatile int *flag, int want, uint64_t until);

#endif
