/*
 * The numbers and types that the virtual LE controller's interface
 * (sim/hci_ctrl.h) and its internals (sim/hci_int.h) share.  Kept apart
 * from hci_ctrl.h so that the command half (hci_cmd.c) depends only on
 * these, not on the input/radio half that calls it.
 */
#ifndef SIM_HCI_DEFS_H
#define SIM_HCI_DEFS_H

#include <stddef.h>
#include <stdint.h>

#define SIM_HCI_ADV_SETS_MAX 16

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

/* Bytes for the host (whole H4 packets); buf is borrowed for the call. */
typedef void (*sim_hci_out_fn)(void *ctx, const uint8_t *buf, size_t len);

/* Counters tests read directly (sim_hci_counters()). */
struct sim_hci_counters {
	uint64_t commands, events, flow_violations, command_errors, malformed;
	uint64_t reports_sent, reports_suppressed, reports_dropped, tx_packets;
	uint64_t swallowed; /* bytes dropped while hung or resynchronising */
};

#endif /* SIM_HCI_DEFS_H */
