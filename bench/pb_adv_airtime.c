/*
 * Airtime of a full No-OOB CMAC provisioning session (mesh/prov.*) over the
 * PB-ADV bearer (mesh/pb_adv.*): a provisioner and a device wired through an
 * in-memory air with a fake clock.  Prints how many PB-ADV PDUs (AD
 * structures of type 0x29) and octets each side put on the air, and the
 * simulated session time, loss-free and at 30 % loss (each copy lost,
 * duplicated (10 %) and delayed 2-60 ms independently, so frames reorder).
 *
 * The floor for a loss-free session is 32 PDUs: 16 segments, 11 Transaction
 * Acks, Link Open, Link ACK and Link Close x3.  Figures only, no assertions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/pb_adv.h"
#include "mesh/prov.h"
#include "tests/util/tv.h"

#define AIR_Q 1024

struct frame {
	uint64_t at;
	int to;
	uint8_t len;
	uint8_t data[MESH_ADV_DATA_MAX];
};

struct side;

struct air {
	struct frame q[AIR_Q];
	unsigned nq;
	uint64_t now, rng;
	unsigned loss_pct, dup_pct;
	struct side *side[2];
};

struct side {
	struct air *air;
	int idx; /* 0 provisioner, 1 device */
	struct pb_adv *pb;
	struct prov_sess *sess;
	struct prov_cfg cfg;
	uint64_t rng_state;
	uint32_t link;
	bool ended, ok;
	uint64_t end_ms;
	unsigned pdus, octets;
};

static unsigned rnd(struct air *a, unsigned mod)
{
	uint8_t b[4];

	tv_rng(&a->rng, b, sizeof(b));
	return ((unsigned)b[0] << 24 | (unsigned)b[1] << 16 | (unsigned)b[2] << 8 | b[3]) % mod;
}

static void adv_send(void *ctx, const uint8_t *data, size_t len)
{
	struct side *s = ctx;
	struct air *a = s->air;
	unsigned copies;

	s->pdus++;
	s->octets += (unsigned)len;
	if (rnd(a, 100) < a->loss_pct) {
		return;
	}
	copies = rnd(a, 100) < a->dup_pct ? 2 : 1;
	while (copies-- && a->nq < AIR_Q) {
		struct frame *f = &a->q[a->nq++];

		f->at = a->now + 2 + rnd(a, 59);
		f->to = !s->idx;
		f->len = (uint8_t)len;
		memcpy(f->data, data, len);
	}
}

static int prov_send(void *ctx, const uint8_t *pdu, size_t len)
{
	struct side *s = ctx;

	return pb_adv_send(s->pb, s->link, pdu, len, s->air->now);
}

static void prov_done(void *ctx, const struct prov_result *res)
{
	struct side *s = ctx;

	(void)res;
	s->ok = true;
	s->ended = true;
	s->end_ms = s->air->now;
	/* The provisioner ends the link once it has the Complete (§5.4.1.10). */
	if (s->idx == 0) {
		(void)pb_adv_close(s->pb, s->link, PB_ADV_CLOSE_SUCCESS, s->air->now);
	}
}

static void prov_failed(void *ctx, int err, uint8_t prov_err)
{
	struct side *s = ctx;

	fprintf(stderr, "side %d: provisioning failed: %d (0x%02x)\n", s->idx, err, prov_err);
	s->ended = true;
	s->end_ms = s->air->now;
	if (s->idx == 0) {
		(void)pb_adv_close(s->pb, s->link, PB_ADV_CLOSE_FAIL, s->air->now);
	}
}

static void start_session(struct side *s)
{
	struct prov_ops ops = {
	    .ctx = s,
	    .send = prov_send,
	    .done = prov_done,
	    .failed = prov_failed,
	};
	struct mesh_rng rng = {.fn = tv_rng, .ctx = &s->rng_state};

	if (prov_new(&s->cfg, &ops, &rng, &s->sess) != 0 || prov_start(s->sess, s->air->now) != 0) {
		fprintf(stderr, "side %d: cannot start the session\n", s->idx);
		exit(1);
	}
}

static void link_opened(void *ctx, uint32_t link)
{
	struct side *s = ctx;

	s->link = link;
	start_session(s);
}

static void link_closed(void *ctx, uint32_t link, int reason)
{
	struct side *s = ctx;

	(void)link;
	if (!s->ended) {
		s->ended = true;
		s->end_ms = s->air->now;
		fprintf(stderr, "side %d: link closed (%d) before the session ended\n", s->idx,
			reason);
	}
}

static void pdu_rx(void *ctx, uint32_t link, const uint8_t *pdu, size_t len)
{
	struct side *s = ctx;

	(void)link;
	if (s->sess) {
		(void)prov_rx(s->sess, pdu, len, s->air->now);
	}
}

static void tx_done(void *ctx, uint32_t link)
{
	(void)ctx;
	(void)link;
}

static const struct pb_adv_ops ops = {
    .adv_send = adv_send,
    .link_opened = link_opened,
    .link_closed = link_closed,
    .pdu_rx = pdu_rx,
    .tx_done = tx_done,
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void run(unsigned loss_pct, uint64_t seed, struct side out[2])
{
	static struct air a;
	static const uint8_t uuid[16] = {0x70, 0xcf, 0x7c, 0x97, 0x32, 0xa3, 0x45, 0xb6,
					 0x91, 0x49, 0x48, 0x10, 0xd2, 0xe9, 0xcb, 0xf4};
	struct pb_adv_cfg pcfg = {0}, dcfg = {.uuid = uuid};
	uint64_t link_seed = seed + 100;
	struct side *s = out;

	memset(&a, 0, sizeof(a));
	memset(s, 0, 2 * sizeof(*s));
	a.rng = seed;
	a.loss_pct = loss_pct;
	a.dup_pct = loss_pct ? 10 : 0;
	pcfg.rng.fn = tv_rng;
	pcfg.rng.ctx = &link_seed;
	for (int i = 0; i < 2; i++) {
		s[i].air = &a;
		s[i].idx = i;
		s[i].rng_state = seed * 2 + (uint64_t)i + 1;
		a.side[i] = &s[i];
	}
	s[0].cfg.role = PROV_ROLE_PROVISIONER;
	s[0].cfg.auth_method = PROV_AUTH_NO_OOB;
	memset(s[0].cfg.data.net_key, 0x5a, 16);
	s[0].cfg.data.iv_index = 0x01020304;
	s[0].cfg.data.unicast = 0x0b0c;
	s[1].cfg.role = PROV_ROLE_DEVICE;
	s[1].cfg.caps.elements = 1;
	s[1].cfg.caps.algorithms = PROV_ALGS_CMAC;
	s[0].pb = pb_adv_new(&pcfg, &ops, &s[0]);
	s[1].pb = pb_adv_new(&dcfg, &ops, &s[1]);
	if (!s[0].pb || !s[1].pb || pb_adv_open(s[0].pb, uuid, 0, &s[0].link) != 0) {
		fprintf(stderr, "setup failed\n");
		exit(1);
	}
	for (;;) {
		uint64_t t = UINT64_MAX;
		unsigned k = AIR_Q;

		for (unsigned i = 0; i < a.nq; i++) {
			if (a.q[i].at < t) {
				t = a.q[i].at;
				k = i;
			}
		}
		for (int i = 0; i < 2; i++) {
			uint64_t d =
			    min_u64(pb_adv_next_deadline(s[i].pb),
				    s[i].sess ? prov_next_deadline(s[i].sess) : UINT64_MAX);

			if (d < t) {
				t = d;
				k = AIR_Q;
			}
		}
		if (t == UINT64_MAX || t > 600000) {
			break;
		}
		a.now = t;
		if (k < AIR_Q) {
			struct frame f = a.q[k];

			a.q[k] = a.q[--a.nq];
			(void)pb_adv_rx(s[f.to].pb, f.data, f.len, a.now);
			continue;
		}
		for (int i = 0; i < 2; i++) {
			pb_adv_tick(s[i].pb, a.now);
			if (s[i].sess) {
				prov_tick(s[i].sess, a.now);
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		prov_free(s[i].sess);
		pb_adv_free(s[i].pb);
		s[i].sess = NULL;
		s[i].pb = NULL;
	}
}

int main(void)
{
	static const unsigned losses[] = {0, 10, 30};
	struct side s[2];

	printf("PB-ADV airtime of a No-OOB CMAC provisioning session (floor 32 PDUs)\n");
	printf("%6s %5s %4s %4s %9s %9s %9s %11s\n", "loss%", "seed", "prov", "dev", "PDUs",
	       "octets", "done_ms", "dev_ok");
	for (size_t i = 0; i < sizeof(losses) / sizeof(losses[0]); i++) {
		unsigned runs = losses[i] ? 20 : 1, sum = 0, ok = 0;

		for (unsigned seed = 1; seed <= runs; seed++) {
			run(losses[i], seed, s);
			sum += s[0].pdus + s[1].pdus;
			ok += s[0].ok && s[1].ok;
			if (seed <= 5) {
				printf("%6u %5u %4s %4s %9u %9u %9" PRIu64 " %11s\n", losses[i],
				       seed, s[0].ok ? "ok" : "FAIL", s[1].ok ? "ok" : "FAIL",
				       s[0].pdus + s[1].pdus, s[0].octets + s[1].octets,
				       s[0].end_ms, s[1].ok ? "yes" : "no");
			}
		}
		printf("%6u  mean over %u runs: %.1f PDUs, %u/%u sessions complete\n", losses[i],
		       runs, (double)sum / runs, ok, runs);
	}
	return 0;
}
