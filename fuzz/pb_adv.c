/*
 * libFuzzer target: a provisioner-side and a device-side struct pb_adv over
 * a fuzzer-controlled air, with a fake clock.
 *
 * The input is a list of operations, each one octet (taken modulo 8) with
 * its arguments:
 *   0 len bytes  inject an AD payload into the device   (len modulo 32)
 *   1 len bytes  inject an AD payload into the provisioner
 *   2            deliver the oldest frame on the air to the other side
 *   3            lose the oldest frame on the air
 *   4 n          advance the clock by n * 100 ms and tick both
 *   5 n          provisioner sends a Provisioning PDU of n octets (modulo 136)
 *   6 n          device sends one
 *   7 n          provisioner opens a link (n even) or closes its link with reason n / 2 % 4
 * The provisioner draws the §8.7 Link ID 23af5850 first, so the sample
 * payloads (fuzz/corpus/pb_adv) reach real link state.  Invariants checked:
 * frame and PDU sizes, and that a tick leaves no deadline in the past.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/pb_adv.h"

#define AIR_MAX 64

struct frame {
	int to; /* 0 device, 1 provisioner */
	uint8_t len;
	uint8_t data[MESH_ADV_DATA_MAX];
};

struct side {
	struct world *w;
	int idx;
	uint32_t link;
	bool have_link;
};

struct world {
	struct frame air[AIR_MAX];
	unsigned head, n;
	struct side side[2];
	uint32_t next_id;
};

static void air_send(void *ctx, const uint8_t *data, size_t len)
{
	struct side *s = ctx;
	struct world *w = s->w;
	struct frame *f;

	if (len < 6 || len > MESH_ADV_DATA_MAX) {
		abort();
	}
	if (w->n == AIR_MAX) {
		w->head = (w->head + 1) % AIR_MAX;
		w->n--;
	}
	f = &w->air[(w->head + w->n++) % AIR_MAX];
	f->to = !s->idx;
	f->len = (uint8_t)len;
	memcpy(f->data, data, len);
}

static void opened(void *ctx, uint32_t link)
{
	struct side *s = ctx;

	s->link = link;
	s->have_link = true;
}

static void closed(void *ctx, uint32_t link, int reason)
{
	struct side *s = ctx;

	(void)reason;
	if (s->have_link && s->link == link) {
		s->have_link = false;
	}
}

static void pdu_rx(void *ctx, uint32_t link, const uint8_t *pdu, size_t len)
{
	(void)ctx;
	(void)link;
	if (len == 0 || len > PB_ADV_PDU_MAX || !pdu) {
		abort();
	}
}

static void tx_done(void *ctx, uint32_t link)
{
	(void)ctx;
	(void)link;
}

static int link_ids(void *ctx, uint8_t *buf, size_t len)
{
	struct world *w = ctx;

	for (size_t i = 0; i < len; i++) {
		buf[i] = (uint8_t)(w->next_id >> (8 * (3 - i % 4)));
	}
	w->next_id += 0x01010101u;
	return 0;
}

static const struct pb_adv_ops ops = {
    .adv_send = air_send,
    .link_opened = opened,
    .link_closed = closed,
    .pdu_rx = pdu_rx,
    .tx_done = tx_done,
};

static const uint8_t uuid[16] = {0x70, 0xcf, 0x7c, 0x97, 0x32, 0xa3, 0x45, 0xb6,
				 0x91, 0x49, 0x48, 0x10, 0xd2, 0xe9, 0xcb, 0xf4};

static void tick(struct pb_adv *pb, uint64_t now)
{
	if (pb_adv_next_deadline(pb) <= now) {
		pb_adv_tick(pb, now);
		if (pb_adv_next_deadline(pb) <= now) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;
	struct pb_adv_cfg dcfg = {.uuid = uuid}, pcfg = {.max_links = 4};
	struct pb_adv *pb[2];
	uint8_t pdu[PB_ADV_PDU_MAX + 8];
	uint64_t now = 0;
	size_t pos = 0;

	memset(&w, 0, sizeof(w));
	w.next_id = 0x23af5850;
	pcfg.rng.fn = link_ids;
	pcfg.rng.ctx = &w;
	for (int i = 0; i < 2; i++) {
		w.side[i].w = &w;
		w.side[i].idx = i;
	}
	pb[0] = pb_adv_new(&dcfg, &ops, &w.side[0]);
	pb[1] = pb_adv_new(&pcfg, &ops, &w.side[1]);
	if (!pb[0] || !pb[1]) {
		abort();
	}
	while (pos < size) {
		uint8_t op = data[pos++] % 8;
		uint8_t arg = pos < size ? data[pos] : 0;
		struct frame f;
		size_t len;

		switch (op) {
		case 0:
		case 1:
			pos++;
			len = arg % 32;
			if (len > size - pos) {
				len = size - pos;
			}
			(void)pb_adv_rx(pb[op], data + pos, len, now);
			pos += len;
			break;
		case 2:
		case 3:
			if (w.n == 0) {
				break;
			}
			f = w.air[w.head];
			w.head = (w.head + 1) % AIR_MAX;
			w.n--;
			if (op == 2) {
				(void)pb_adv_rx(pb[f.to], f.data, f.len, now);
			}
			break;
		case 4:
			pos++;
			now += (uint64_t)arg * 100;
			tick(pb[0], now);
			tick(pb[1], now);
			break;
		case 5:
		case 6:
			pos++;
			for (size_t i = 0; i < sizeof(pdu); i++) {
				pdu[i] = (uint8_t)(i * 13 + arg);
			}
			if (w.side[op == 5].have_link) {
				(void)pb_adv_send(pb[op == 5], w.side[op == 5].link, pdu, arg % 136,
						  now);
			}
			break;
		case 7:
			pos++;
			if (arg % 2 == 0) {
				uint32_t id;

				if (pb_adv_open(pb[1], uuid, now, &id) == 0) {
					w.side[1].link = id;
					w.side[1].have_link = false;
				}
			} else {
				(void)pb_adv_close(pb[1], w.side[1].link, (uint8_t)(arg / 2 % 4),
						   now);
				w.side[1].have_link = false;
			}
			break;
		default:
			break;
		}
	}
	pb_adv_free(pb[0]);
	pb_adv_free(pb[1]);
	return 0;
}
