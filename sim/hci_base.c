/*
 * The bottom of the virtual LE controller (hci_int.h): its random source,
 * the way out to the host (events and raw bytes), and the reset state.
 * Both hci_ctrl.c (input, radio, time, faults) and hci_cmd.c (the
 * commands) use these; this file calls neither.
 */
#include <string.h>

#include "sim/hci_int.h"

uint64_t sim_hci_rnd(struct sim_hci_ctrl *c)
{
	uint64_t z = (c->rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void sim_hci_emit(struct sim_hci_ctrl *c, const uint8_t *buf, size_t len)
{
	if (!c->powered || c->hung) {
		return;
	}
	if (buf[0] == HCI_EVENT_PKT) {
		c->n.events++;
	}
	c->out(c->ctx, buf, len);
}

/* An event with parameters p (n <= 255). */
void sim_hci_event(struct sim_hci_ctrl *c, uint8_t code, const uint8_t *p, size_t n)
{
	uint8_t buf[3 + 255];

	buf[0] = HCI_EVENT_PKT;
	buf[1] = code;
	buf[2] = (uint8_t)n;
	memcpy(buf + 3, p, n);
	sim_hci_emit(c, buf, 3 + n);
}

/* An LE Meta event, if both masks let it through; false when masked. */
bool sim_hci_le_event(struct sim_hci_ctrl *c, uint8_t sub, const uint8_t *p, size_t n)
{
	uint8_t buf[255];

	if (!(c->evmask & EVM_LE_META) || !(c->le_evmask & (1ull << (sub - 1)))) {
		return false;
	}
	buf[0] = sub;
	if (n) {
		memcpy(buf + 1, p, n);
	}
	sim_hci_event(c, EVT_LE_META_EVENT, buf, n + 1);
	return true;
}

/* --- state --------------------------------------------------------------- */

void sim_hci_state_reset(struct sim_hci_ctrl *c)
{
	c->evmask = EVM_DEFAULT;
	c->le_evmask = LEM_DEFAULT;
	c->mode = MODE_NONE;
	c->has_random = false;
	memset(c->random_addr, 0, sizeof(c->random_addr));
	memset(&c->leg, 0, sizeof(c->leg));
	c->leg.used = true;
	c->leg.int_min = c->leg.int_max = 0x0800; /* 1.28 s, the specification's default */
	c->leg_type = 0x00;
	c->leg.props = PROP_LEGACY | PROP_CONN | PROP_SCAN;
	c->scan_rsp_len = 0;
	memset(c->sets, 0, sizeof(c->sets));
	c->scanning = c->scan_ext = false;
	c->scan_type = 0;
	c->scan_own = c->scan_filter = c->filter_dup = 0;
	c->scan_interval = c->scan_window = 0x0010;
	c->n_dups = 0;
	c->hw_error = false;
}
