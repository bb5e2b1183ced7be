/*
 * libFuzzer target for meshsim's virtual LE controller (sim/hci_ctrl.c):
 * arbitrary host bytes on the H4 line, in chunks, with virtual time running
 * between them and another radio transmitting, so commands, advertising,
 * scanning, the truncation timeout and resynchronisation all run.
 *
 * Input: a sequence of [control octet][chunk]; the control octet's low 5
 * bits + 1 is the chunk length, its high 3 bits x 25 ms is the time run
 * after the chunk.  Checked: the controller's output is always a sequence of
 * whole H4 event packets (indicator 0x04, exact parameter length), and
 * every Command Complete or Command Status gives exactly one credit.
 * Seeds in fuzz/corpus/sim_hci_ctrl/: a legacy and an extended host
 * bring-up with advertising and scanning, and malformed input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/air.h"
#include "sim/hci_ctrl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every callback delivers whole packets: check each one. */
static void out_cb(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx;
	if (len < 3 || buf[0] != 0x04 || (size_t)buf[2] + 3 != len) {
		abort();
	}
	if ((buf[1] == 0x0e && (buf[2] < 4 || buf[3] != 1)) ||
	    (buf[1] == 0x0f && (buf[2] != 4 || buf[4] != 1))) {
		abort();
	}
}

static void run(struct sim_air *air, struct sim_hci_ctrl *c, uint64_t *now, uint64_t until)
{
	for (int guard = 0; guard < 10000; guard++) {
		uint64_t a = sim_air_next_deadline(air), b = sim_hci_next_deadline(c);
		uint64_t dl = a < b ? a : b;

		if (dl > until) {
			break;
		}
		*now = dl > *now ? dl : *now;
		sim_air_tick(air, *now);
		sim_hci_tick(c, *now);
	}
	*now = until;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_air_params p;
	struct sim_air *air;
	struct sim_hci_ctrl *c;
	struct sim_hci_cfg cfg = {.name = "hci:fuzz", .pos = {0, 0, 1}, .latency_ms = 1};
	struct sim_pos pp = {2, 0, 1};
	uint32_t peer;
	uint64_t now = 0;
	size_t i = 0;

	if (size < 1) {
		return 0;
	}
	/* The first octet chooses the profile and the number of sets. */
	cfg.profile = data[0] & 1 ? SIM_HCI_EXTENDED : SIM_HCI_LEGACY;
	cfg.adv_sets = 1 + (data[0] >> 1) % SIM_HCI_ADV_SETS_MAX;
	sim_air_params_default(&p);
	air = sim_air_new(1, &p);
	if (!air) {
		return 0;
	}
	c = sim_hci_new(air, &cfg, 1, out_cb, NULL);
	if (!c || sim_air_add(air, &pp, "peer", NULL, NULL, &peer) < 0) {
		abort();
	}
	i = 1;
	while (i < size) {
		uint8_t ctl = data[i++];
		size_t k = (size_t)(ctl & 0x1f) + 1;
		static const uint8_t beacon[] = {0x01, 0x02, 0x03};

		if (k > size - i) {
			k = size - i;
		}
		sim_hci_input(c, data + i, k, now);
		i += k;
		(void)sim_air_send(air, peer, 0x2b, beacon, sizeof(beacon), 1, 0, now);
		run(air, c, &now, now + (uint64_t)(ctl >> 5) * 25000u);
	}
	run(air, c, &now, now + 2000000u);
	sim_hci_free(c);
	sim_air_free(air);
	return 0;
}
