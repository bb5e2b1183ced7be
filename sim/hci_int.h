/*
 * Internals shared by the virtual LE controller's files.  Calls run one way:
 * hci_ctrl.c (input, radio, time, faults) -> hci_cmd.c (the HCI commands)
 * -> hci_base.c (random source, events, reset state).  Not for other users:
 * the interface is sim/hci_ctrl.h.
 */
#ifndef SIM_HCI_INT_H
#define SIM_HCI_INT_H

#include <bluetooth/bluetooth.h>
#include <bluetooth/hci.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/hci_defs.h"

struct sim_air;

#define OP(ogf, ocf) cmd_opcode_pack(ogf, ocf)
#define OP_LE(ocf) OP(OGF_LE_CTL, ocf)

#define CMD_QUEUE_MAX 8        /* commands the host may have outstanding before we drop */
#define IN_MAX (4 + 255)       /* the longest H4 command packet */
#define IN_TIMEOUT_US 1000000u /* a partial packet older than this is truncated */
#define ACL_MTU 27             /* LE Read Buffer Size: LE ACL data packet length */
#define ACL_PKTS 3             /* LE Read Buffer Size: total number of packets */
#define EXT_DATA_MAX 251       /* LE Read Maximum Advertising Data Length */
#define LEGACY_DATA_MAX 31     /* legacy advertising PDU payload */
#define DUP_MAX 1024           /* duplicate filter entries */
#define OPCODES_MAX 64         /* distinct opcodes counted for "status" */
#define ADV_HANDLE_MAX 0xEF    /* Advertising_Handle range */
#define SLOT_US 625            /* interval unit, 0.625 ms */
#define MANUFACTURER 0x05F1    /* Linux Foundation */

/* Event mask bits (Core Vol 4 Part E §7.3.1, §7.8.1). */
#define EVM_HW_ERROR (1ull << 15)
#define EVM_LE_META (1ull << 61)
#define EVM_DEFAULT 0x00001FFFFFFFFFFFull
#define LEM_ADV_REPORT (1ull << 1)
#define LEM_EXT_ADV_REPORT (1ull << 12)
#define LEM_SCAN_TIMEOUT (1ull << 16)
#define LEM_ADV_SET_TERMINATED (1ull << 17)
#define LEM_DEFAULT 0x1Full

/* Advertising_Event_Properties bits (§7.8.53). */
#define PROP_CONN 0x0001
#define PROP_SCAN 0x0002
#define PROP_DIRECTED 0x0004
#define PROP_HDC 0x0008
#define PROP_LEGACY 0x0010
#define PROP_ANON 0x0020
#define PROP_TX_POWER 0x0040

enum mode {
	MODE_NONE,
	MODE_LEGACY,
	MODE_EXT,
};

enum cls {
	CLS_ANY,    /* not part of the legacy/extended rule */
	CLS_LEGACY, /* legacy advertising/scanning command */
	CLS_EXT,    /* extended advertising/scanning command (extended profile only) */
};

struct pending {
	uint16_t op;
	uint8_t len;
	uint8_t p[255];
	uint64_t due;
};

struct adv_set {
	bool used, enabled;
	uint8_t handle;
	uint16_t props;
	uint32_t int_min, int_max; /* 0.625 ms units */
	uint8_t own_addr_type;
	bool has_addr;
	uint8_t addr[6]; /* the set's random address (extended) */
	uint8_t data[EXT_DATA_MAX];
	size_t data_len;
	bool frag_open;
	uint64_t next_us, end_us;
	uint8_t max_events;
	unsigned events;
};

struct dup {
	uint32_t from;
	uint8_t len;
	uint8_t data[LEGACY_DATA_MAX];
};

struct opcount {
	uint16_t op;
	uint64_t n;
};

struct sim_hci_ctrl {
	struct sim_air *air;
	uint32_t pid;
	enum sim_hci_profile profile;
	unsigned n_sets;
	uint64_t latency_us;
	sim_hci_out_fn out;
	void *ctx;
	uint64_t rng;
	uint8_t bdaddr[6];
	bool powered, hung, hw_error;

	/* host input */
	uint8_t in[IN_MAX];
	size_t in_len;
	uint64_t in_since;
	bool resync;

	/* commands waiting for their answer */
	struct pending q[CMD_QUEUE_MAX];
	size_t q_head, q_n;
	uint64_t last_due;

	/* host-visible state, cleared by Reset */
	uint64_t evmask, le_evmask;
	enum mode mode;
	bool has_random;
	uint8_t random_addr[6];
	struct adv_set leg; /* legacy advertising (handle unused) */
	uint8_t leg_type;
	uint8_t scan_rsp[LEGACY_DATA_MAX];
	size_t scan_rsp_len;
	struct adv_set sets[SIM_HCI_ADV_SETS_MAX];
	bool scanning, scan_ext;
	uint8_t scan_type, scan_own, scan_filter, filter_dup;
	uint32_t scan_interval, scan_window; /* 0.625 ms units */
	uint64_t scan_start, scan_end;
	struct dup *dups;
	size_t n_dups;

	struct sim_hci_counters n;
	uint64_t reports_masked, commands_dropped;
	struct opcount ops[OPCODES_MAX];
};

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline uint32_t get_le24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* hci_base.c */
uint64_t sim_hci_rnd(struct sim_hci_ctrl *c);
/* Bytes for the host as they are (counted when an event), unless unplugged or hung. */
void sim_hci_emit(struct sim_hci_ctrl *c, const uint8_t *buf, size_t len);
/* An event with parameters p (n <= 255), unless unplugged or hung. */
void sim_hci_event(struct sim_hci_ctrl *c, uint8_t code, const uint8_t *p, size_t n);
/* An LE Meta event, if both event masks let it through; false when masked. */
bool sim_hci_le_event(struct sim_hci_ctrl *c, uint8_t sub, const uint8_t *p, size_t n);
/* The state after Reset (and at power-on). */
void sim_hci_state_reset(struct sim_hci_ctrl *c);

/* hci_cmd.c: executes a command whose answer is due, and answers it. */
void sim_hci_run_command(struct sim_hci_ctrl *c, const struct pending *pc, uint64_t now);

#endif /* SIM_HCI_INT_H */
