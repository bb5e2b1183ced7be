#include "tests/util/minair.h"

#include <stdlib.h>
#include <string.h>

#include "tests/util/tv.h"

#define QLEN 8192

struct qpkt {
	int from;
	uint8_t type;
	uint8_t len;
	uint8_t data[31];
};

/* One queue per test process is enough: tests drive one air at a time. */
static struct qpkt queue[QLEN];
static size_t qh, qt;

static bool chance(struct minair *a, unsigned pct);

void minair_init(struct minair *a, uint64_t now, uint64_t seed)
{
	memset(a, 0, sizeof(*a));
	a->now = now;
	a->rng = seed ? seed : 1;
	qh = qt = 0;
}

int minair_add(struct minair *a, const struct minair_part *p)
{
	int id = a->n++, i;

	if (id >= MINAIR_MAX) {
		abort();
	}
	a->part[id] = *p;
	for (i = 0; i < id; i++) {
		a->hears[i][id] = a->hears[id][i] = true;
	}
	return id;
}

void minair_link(struct minair *a, int x, int y, bool on)
{
	a->hears[x][y] = a->hears[y][x] = on;
}

void minair_send(struct minair *a, int from, uint8_t ad_type, const uint8_t *data, size_t len)
{
	struct qpkt *p;

	if (qt - qh >= QLEN || len > sizeof(p->data)) {
		abort();
	}
	p = &queue[qt++ % QLEN];
	p->from = from;
	p->type = ad_type;
	p->len = (uint8_t)len;
	memcpy(p->data, data, len);
	a->sent++;
	if (chance(a, a->dup_pct) && qt - qh < QLEN) {
		queue[qt % QLEN] = *p;
		qt++;
	}
}

static bool chance(struct minair *a, unsigned pct)
{
	uint8_t r;

	if (!pct) {
		return false;
	}
	tv_rng(&a->rng, &r, 1);
	return (unsigned)r * 100 / 256 < pct;
}

/* Take one packet off the queue: the head, or with reordering any of the first few. */
static struct qpkt take(struct minair *a)
{
	size_t n = qt - qh, k = 0;
	struct qpkt p;

	if (a->reorder > 1 && n > 1) {
		uint8_t r;

		tv_rng(&a->rng, &r, 1);
		k = r % (n < a->reorder ? n : a->reorder);
	}
	p = queue[(qh + k) % QLEN];
	/* Close the gap: shift the packets before it up by one. */
	for (; k > 0; k--) {
		queue[(qh + k) % QLEN] = queue[(qh + k - 1) % QLEN];
	}
	qh++;
	return p;
}

static bool step(struct minair *a, uint64_t until)
{
	uint64_t d = UINT64_MAX;
	int i;

	if (qh != qt) {
		struct qpkt p = take(a);

		for (i = 0; i < a->n; i++) {
			if (i != p.from && a->hears[p.from][i] && !chance(a, a->loss_pct)) {
				a->delivered++;
				a->part[i].rx(a->part[i].obj, p.type, p.data, p.len, a->now);
			}
		}
		return true;
	}
	for (i = 0; i < a->n; i++) {
		uint64_t t = a->part[i].deadline(a->part[i].obj);

		d = t < d ? t : d;
	}
	if (d == UINT64_MAX || d > until) {
		a->now = until;
		return false;
	}
	if (d > a->now) {
		a->now = d;
	}
	for (i = 0; i < a->n; i++) {
		a->part[i].tick(a->part[i].obj, a->now);
	}
	return true;
}

uint64_t minair_run(struct minair *a, uint64_t until)
{
	while (step(a, until)) {
	}
	return a->now;
}

bool minair_run_until(struct minair *a, const volatile int *flag, int want, uint64_t until)
{
	while (*flag < want && step(a, until)) {
	}
	return *flag >= want;
}
