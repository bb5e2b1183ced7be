/*
 * The HCI driver: one controller behind one transport (gateway/hci_io.h).
 * It owns the transport, a command queue with Num_HCI_Command_Packets flow
 * control and a deadline per command, the start-up sequence, and the
 * controller's state machine:
 *
 *   starting --init done--> ready --fault--> down (reopening) --init done--> ready
 *       \--open refused for good (no AF_BLUETOOTH, no permission)--> failed
 *
 * A fault is the controller gone (EOF, EIO, ENODEV, hangup), a framing
 * error, a command that got no answer within the deadline, or a command of
 * the start-up sequence refused.  An idle controller is probed (Read Local
 * Version Information after 5 s without a command) so a hang is noticed.  The driver then drops its
 * queue, closes the transport, and re-opens it with a backoff (0.5 s doubling to 10 s); "failed"
 * keeps retrying at the longest backoff, so a controller plugged in later is found.  A Hardware
 * Error event resets and re-initialises the controller without closing the transport.
 *
 * Start-up (Core v5.4 Vol 4 Part E §7): Reset; Read Local Version
 * Information; Read Local Supported Commands; LE Read Local Supported
 * Features; Set Event Mask (LE Meta enabled); LE Set Event Mask; LE Rand
 * (or getrandom) for a random static address; then either LE Read Number
 * of Supported Advertising Sets (extended advertising: feature bit 12 and
 * the commands present) or LE Set Random Address (legacy).  The two
 * families are never mixed afterwards; hci_info() says which one.
 *
 * Prefix hci_.  Loop thread only.
 */
#ifndef GW_HCI_H
#define GW_HCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/hci_io.h"
#include "gateway/hci_msg.h"
#include "gateway/loop.h"

struct hci;

enum hci_state {
	HCI_STARTING, /* opening and initialising for the first time */
	HCI_READY,
	HCI_DOWN,   /* lost; re-opening with backoff */
	HCI_FAILED, /* cannot be opened as configured; still retried, slowly */
};

/* What start-up learnt about the controller.  Valid while ready. */
struct hci_info {
	uint8_t hci_version; /* Core spec version code: 0x08 = 4.2, 0x09 = 5.0, ... */
	uint16_t hci_revision;
	uint8_t lmp_version;
	uint16_t manufacturer; /* company identifier */
	uint8_t commands[64];
	uint8_t features[8];
	bool extended;    /* extended advertising commands in use */
	uint8_t num_sets; /* advertising sets: 1 when legacy */
	uint8_t addr[6];  /* random static address, little-endian as on the wire */
};

struct hci_conf {
	const char *name; /* "hci0" or the UART path, for messages */
	enum hci_io_kind kind;
	/* Opens the transport: returns a new fd, or a negative errno and a sentence in why. */
	int (*open)(void *ctx, char *why, size_t why_cap);
	void *open_ctx;
	uint32_t cmd_timeout_ms; /* 0: 2000 */
	uint32_t backoff_min_ms; /* 0: 500 */
	uint32_t backoff_max_ms; /* 0: 10000 */
};

struct hci_cbs {
	void *ctx;
	/* State changed; reason is a sentence (borrowed for the call).  May queue commands. */
	void (*state)(void *ctx, enum hci_state st, const char *reason);
	/* An LE Meta event (advertising reports, set terminated) while ready. */
	void (*event)(void *ctx, const struct hci_msg_evt *e);
};

/*
 * Completion of a queued command: e is its Command Complete or Command
 * Status.  Not called when the driver drops its queue on a fault (the
 * state callback says so first).
 */
typedef void (*hci_done_cb)(void *ctx, const struct hci_msg_evt *e);

/*
 * Returns a new driver that starts opening the transport on the next loop
 * iteration; free with hci_free().  conf is copied (name is borrowed and
 * must outlive the driver).  NULL with -ENOMEM in *err.
 */
struct hci *hci_new(struct gw_loop *loop, const struct hci_conf *conf, const struct hci_cbs *cbs,
		    int *err);
/*
 * Queues a command (copied); cb (may be NULL) runs on its completion.
 * Returns 0, -ENETDOWN unless ready (or initialising, for the driver
 * itself), -ENOBUFS when the queue is full.
 */
int hci_cmd(struct hci *h, const struct hci_msg_cmd *c, hci_done_cb cb, void *ctx);
/* Declares a fault found above the driver (a refused command the bearer cannot live with). */
void hci_fault(struct hci *h, const char *why);
enum hci_state hci_get_state(const struct hci *h);
/* The sentence explaining the current state ("" when ready). */
const char *hci_reason(const struct hci *h);
/* Borrowed; contents meaningful once ready was reached. */
const struct hci_info *hci_info(const struct hci *h);
/* "starting", "ready", "down-reopening", "failed". */
const char *hci_state_name(enum hci_state st);
/* Manufacturer name for a company identifier (libbluetooth's table). */
const char *hci_manufacturer_name(uint16_t company);
/* Stops, drops the queue, closes the transport.  Accepts NULL.  Not from a callback. */
void hci_free(struct hci *h);

#endif
