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

struct sim_hci_ctrl;

#define SIM_HCI_ADV_SETS_MAX 16
#define SIM_HCI_LATENCY_MAX_MS 1000

/* LE commands libbluetooth's hci.h lacks (Core Vol 4 Part E §7.8). */
#define SIM_HCI_OCF_LE_SET_ADV_SET_RANDOM_ADDR 0x0035
#define SIM_HCI_OCF_LE_SET_EXT_ADV_PARAMS 0x0036
#define SIM_HCI_OCF_LE_SET_EXT_ADV_DATA 0x0037
#define SIM_HCI_OCF_LE_SET_EXT_SCAN_RSP_DATA 0x0038
#define SIM_HCI_OCF_LE_SET_EXT_ADV_ENABLE 0x0039
#define SIM_HCI_OCF_LE_READ_MAX_ADV_DATA_LEN 0x003A
#define SIM_HCI_OCF_LE_READ_NUM_ADV_SETS 0x003B
#define SIM_HCI_OCF_LE_REMOVE_ADV_SET 0x003C
#define SIM_HCI_OCF_LE_CLEAR_ADV_SETS 0x003D
#define SIM_HCI_OCF_LE_SET_EXT_SCAN_PARAMS 0x0041
#define SIM_HCI_OCF_LE_SET_EXT_SCAN_ENABLE 0x0042

/* LE Meta subevents hci.h lacks. */
#define SIM_HCI_EVT_LE_EXT_ADV_REPORT 0x0D
#define SIM_HCI_EVT_LE_SCAN_TIMEOUT 0x11
#define SIM_HCI_EVT_LE_ADV_SET_TERMINATED 0x12

/* Error codes hci.h lacks (Core Vol 1 Part F); the others are its HCI_* names. */
#define SIM_HCI_ERR_ADV_TIMEOUT 0x3C
#define SIM_HCI_ERR_UNKNOWN_ADV_ID 0x42

/* Hardware Error codes meshsim sends (vendor-defined in the specification). */
#define SIM_HCI_HWERR_FRAMING 0x01

enum sim_hci_profile {
	SIM_HCI_LEGACY,   /* Bluetooth 4.2 (HCI version 8): legacy advertising and scanning */
	SIM_HCI_EXTENDED, /* Bluetooth 5.2 (HCI version 0x0B): extended advertising sets too */
};

struct sim_hci_cfg {
	const char *name; /* participant name on the air, e.g. "hci:/tmp/hci0" (copied) */
	struct sim_pos pos;
	enum sim_hci_profile profile;
	unsigned adv_sets;   /* extended profile: 1..SIM_HCI_ADV_SETS_MAX */
	unsigned latency_ms; /* command to its Command Complete, 0..SIM_HCI_LATENCY_MAX_MS */
};

/* Bytes for the host (whole H4 packets); buf is borrowed for the call. */
typedef void (*sim_hci_out_fn)(void *ctx, const uint8_t *buf, size_t len);

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

/* Counters tests read directly. */
struct sim_hci_counters {
	uint64_t commands, events, flow_violations, command_errors, malformed;
	uint64_t reports_sent, reports_suppressed, reports_dropped, tx_packets;
	uint64_t swallowed; /* bytes dropped while hung or resynchronising */
};
void sim_hci_counters(const struct sim_hci_ctrl *c, struct sim_hci_counters *out);

#endif /* SIM_HCI_CTRL_H */
