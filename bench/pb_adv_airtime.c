/*
 * Airtime of a full No-OOB CMAC provisioning session (mesh/prov.* sessions
 * bound to the PB-ADV bearer mesh/pb_adv.* by mesh/prov_adv.*, as the gateway
 * and the simulated devices use them): a provisioner and a device wired
 * through the in-memory air of tests/util/minair with a fake clock.  Prints
 * how many PB-ADV PDUs (AD structures of type 0x29) and octets both sides put
 * on the air, and when the provisioner was done, loss-free and at 10 % and
 * 30 % loss (per receiver, with 10 % duplication and reordering).  The air
 * has no latency, so done_ms is the time spent waiting for retransmissions.
 *
 * The floor for a loss-free session is 32 PDUs: 16 segments, 11 Transaction
 * Acks, Link Open, Link ACK and Link Close x3.  Figures only, no assertions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/pb_adv.h"
#include "mesh/prov_adv.h"
#include "tests/util/minair.h"
#include "tests/util/tv.h"

struct side {
	struct minair *air;
	int idx; /* 0 provisioner, 1 device; also the minair participant id */
	struct prov_adv *pa;
	bool ended, ok;
	uint64_t end_ms;
	unsigned pdus, octets;
};

static void adv_send(void *ctx, const uint8_t *data, size_t len)
{
	struct side *s = ctx;

	s->pdus++;
	s->octets += (unsigned)len;
	minair_send(s->air, s->idx, MESH_AD_PB_ADV, data, len);
}

static void air_rx(void *obj, uint8_t ad_type, const uint8_t *data, size_t len, uint64_t now)
{
	struct side *s = obj;

	if (ad_type == MESH_AD_PB_ADV) {
		(void)prov_adv_rx(s->pa, data, len, now);
	}
}

static uint64_t air_deadline(void *obj)
{
	struct side *s = obj;

	return prov_adv_next_deadline(s->pa);
}

static void air_tick(void *obj, uint64_t now)
{
	struct side *s = obj;

	prov_adv_tick(s->pa, now);
}

static void done(void *ctx, uint32_t h, const struct prov_result *res)
{
	struct side *s = ctx;

	(void)h;
	(void)res;
	s->ok = true;
	s->ended = true;
	s->end_ms = s->air->now;
}

static void failed(void *ctx, uint32_t h, int err, uint8_t prov_err)
{
	struct side *s = ctx;

	(void)h;
	fprintf(stderr, "side %d: provisioning failed: %d (0x%02x)\n", s->idx, err, prov_err);
	s->ended = true;
	s->end_ms = s->air->now;
}

static void run(unsigned loss_pct, uint64_t seed, struct side s[2])
{
	static struct minair a;
	static const uint8_t uuid[16] = {0x70, 0xcf, 0x7c, 0x97, 0x32, 0xa3, 0x45, 0xb6,
					 0x91, 0x49, 0x48, 0x10, 0xd2, 0xe9, 0xcb, 0xf4};
	struct pb_adv_cfg pcfg = {0}, dcfg = {.uuid = uuid};
	struct prov_cfg pc = {0}, dc = {0};
	uint64_t rng_state[2] = {seed * 2 + 1, seed * 2 + 2};
	struct mesh_rng rng[2] = {{tv_rng, &rng_state[0]}, {tv_rng, &rng_state[1]}};
	uint32_t h;

	memset(s, 0, 2 * sizeof(*s));
	minair_init(&a, 0, seed);
	a.loss_pct = loss_pct;
	a.dup_pct = loss_pct ? 10 : 0;
	a.reorder = loss_pct ? 3 : 0;
	pcfg.rng = rng[0];
	pc.role = PROV_ROLE_PROVISIONER;
	pc.auth_method = PROV_AUTH_NO_OOB;
	memset(pc.data.net_key, 0x5a, 16);
	pc.data.iv_index = 0x01020304;
	pc.data.unicast = 0x0b0c;
	dc.role = PROV_ROLE_DEVICE;
	dc.caps.elements = 1;
	dc.caps.algorithms = PROV_ALGS_CMAC;
	for (int i = 0; i < 2; i++) {
		struct prov_adv_ops ops = {
		    .ctx = &s[i],
		    .adv_send = adv_send,
		    .done = done,
		    .failed = failed,
		};

		struct minair_part part = {&s[i], air_rx, air_deadline, air_tick};

		s[i].air = &a;
		s[i].pa = prov_adv_new(i ? &dcfg : &pcfg, i ? &dc : NULL, &ops, &rng[i]);
		s[i].idx = minair_add(&a, &part);
		if (!s[i].pa || s[i].idx != i) {
			fprintf(stderr, "setup failed\n");
			exit(1);
		}
	}
	if (prov_adv_provision(s[0].pa, uuid, &pc, 0, &h) != 0) {
		fprintf(stderr, "cannot start provisioning\n");
		exit(1);
	}
	minair_run(&a, 600000);
	for (int i = 0; i < 2; i++) {
		prov_adv_free(s[i].pa);
		s[i].pa = NULL;
	}
}

int main(void)
{
	static const unsigned losses[] = {0, 10, 30};
	struct side s[2];

	printf("PB-ADV airtime of a No-OOB CMAC provisioning session (floor 32 PDUs)\n");
	printf("%6s %5s %5s %5s %6s %7s %8s\n", "loss%", "seed", "prov", "dev", "PDUs", "octets",
	       "done_ms");
	for (size_t i = 0; i < sizeof(losses) / sizeof(losses[0]); i++) {
		unsigned runs = losses[i] ? 20 : 1, sum = 0, ok = 0;

		for (unsigned seed = 1; seed <= runs; seed++) {
			run(losses[i], seed, s);
			sum += s[0].pdus + s[1].pdus;
			ok += s[0].ok && s[1].ok;
			if (seed <= 5) {
				printf("%6u %5u %5s %5s %6u %7u %8" PRIu64 "\n", losses[i], seed,
				       s[0].ok ? "ok" : "FAIL", s[1].ok ? "ok" : "FAIL",
				       s[0].pdus + s[1].pdus, s[0].octets + s[1].octets,
				       s[0].end_ms);
			}
		}
		printf("%6u  mean over %u runs: %.1f PDUs, %u/%u sessions complete\n", losses[i],
		       runs, (double)sum / runs, ok, runs);
	}
	return 0;
}
