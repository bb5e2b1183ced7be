/*
 * A virtual LE controller for meshsim's HCI port (sim/PORTS.md, "HCI port").
 *
 * The core is pure: H4 bytes from the host go in through sim_hci_input(),
 * H4 bytes for the host come out through a callback, the radio is a
 * participant on a struct sim_air, and time is simulation microseconds
 * passed in by the caller (sim_hci_next_deadline() / sim_hci_tick(), like
 * the simulated devices).  No I/O, no clock, no globals: tests drive it in
 * virtual time.
 *
 * It behaves as strictly as the Core specification Vol 4 Part E asks of a
 * controller: exact parameter lengths, range checks, Command Disallowed in
 * the states the specification names, the event masks, one command credit
 * (Num_HCI_Command_Packets = 1), and, in the extended profile, the rule
 * that a host uses either the legacy or the extended advertising/scanning
 * commands until the next Reset.
 */
#ifndef SIM_HCI_CTRL_H
#define SIM_HCI_CTRL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/air.h"
#include "sim/hci_defs.h"

struct sim_hci_ctrl;

#define SIM_HCI_LATENCY_MAX_MS 1000

struct sim_hci_cfg {
	const char *name; /* participant name on the air, e.g. "hci:/tmp/hci0" (copied) */
	struct sim_pos pos;
	enum sim_hci_profile profile;
	unsigned adv_sets;   /* extended profile: 1..SIM_HCI_ADV_SETS_MAX */
	unsigned latency_ms; /* command to its Command Complete, 0..SIM_HCI_LATENCY_MAX_MS */
};

/*
 * A new controller in its power-on (reset) state, joined to air as a
 * participant.  seed makes its BD_ADDR and LE Rand reproducible.  NULL on
 * a bad configuration or no memory.  air must outlive it.
 */
struct sim_hci_ctrl *sim_hci_new(struct sim_air *air, const struct sim_hci_cfg *cfg, uint64_t seed,
				 sim_hci_out_fn out, void *ctx);
/* Leaves the air and frees the controller. */
void sim_hci_free(struct sim_hci_ctrl *c);

/* Bytes written by the host, received at now_us. */
void sim_hci_input(struct sim_hci_ctrl *c, const uint8_t *buf, size_t len, uint64_t now_us);

/* Earliest time the controller wants sim_hci_tick(); UINT64_MAX for never. */
uint64_t sim_hci_next_deadline(const struct sim_hci_ctrl *c);
void sim_hci_tick(struct sim_hci_ctrl *c, uint64_t now_us);

/* --- Fault injection (the "hci N ..." control commands) ---------------- */

/* hung: swallow input, send nothing, stop advertising and scan deliveries. */
void sim_hci_set_hung(struct sim_hci_ctrl *c, bool hung);
/*
 * powered = false: the dongle is unplugged (nothing in, nothing out, radio
 * silent).  powered = true: freshly powered, in the reset state.
 */
void sim_hci_set_powered(struct sim_hci_ctrl *c, bool powered, uint64_t now_us);
/* Sends a Hardware Error event; until the next Reset only Reset is accepted. */
void sim_hci_hw_error(struct sim_hci_ctrl *c, uint8_t code, uint64_t now_us);
/* Writes a burst of n bytes that are not a valid H4 packet. */
void sim_hci_garbage(struct sim_hci_ctrl *c, size_t n);

/* Counters and state as JSON (a new reference; NULL on no memory). */
json_t *sim_hci_status_json(const struct sim_hci_ctrl *c);
/* Air participant id. */
uint32_t sim_hci_pid(const struct sim_hci_ctrl *c);

/* Counters tests read directly (struct sim_hci_counters: sim/hci_defs.h). */
void sim_hci_counters(const struct sim_hci_ctrl *c, struct sim_hci_counters *out);

#endif /* SIM_HCI_CTRL_H */
