/*
 * HCI transports: bytes to and from a controller, as whole H4 packets
 * (indicator first).  Two kinds:
 *   - the kernel's HCI user channel (one packet per read/write, already H4
 *     framed), or anything behaving like it (a SOCK_SEQPACKET socketpair in
 *     the tests);
 *   - a UART (or a pty standing in for one): a byte stream cut into packets
 *     by the H4 reader of hci_msg.h.
 * The transport is nonblocking, registers its fd with the loop, and reports
 * end of file, EIO, ENODEV, hangup or a framing error once through
 * cbs->gone; after that it delivers nothing and the owner frees it.
 *
 * Prefix hci_io_.  Not thread-safe: loop thread only.
 */
#ifndef GW_HCI_IO_H
#define GW_HCI_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/loop.h"

struct hci_io;

enum hci_io_kind {
	HCI_IO_PACKET, /* one H4 packet per datagram: the user channel */
	HCI_IO_STREAM, /* H4 over a byte stream: a UART */
};

struct hci_io_cbs {
	void *ctx;
	/* One whole H4 event packet; borrowed for the call. */
	void (*packet)(void *ctx, const uint8_t *pkt, size_t len);
	/* The controller is gone (err: negative errno, -EBADMSG for framing); why is a sentence. */
	void (*gone)(void *ctx, int err, const char *why);
};

/*
 * Opens the HCI user channel of controller hci<dev>: returns a nonblocking,
 * close-on-exec fd, or a negative errno with a sentence in why saying what
 * to do (EBUSY: power the controller off or stop bluetoothd; EPERM: needs
 * CAP_NET_ADMIN; ...).
 */
int hci_io_open_user(int dev, char *why, size_t why_cap);

/*
 * Opens a serial port (or a pty) for H4: raw 8N1, CLOCAL|CREAD, baud one of
 * the termios rates, RTS/CTS if rtscts (a pty that refuses CRTSCTS is used
 * without it, logged at debug).  Returns an fd or a negative errno with why.
 */
int hci_io_open_uart(const char *path, uint32_t baud, bool rtscts, char *why, size_t why_cap);
/* True if baud is a rate hci_io_open_uart() accepts. */
bool hci_io_baud_valid(uint32_t baud);

/*
 * Returns a new transport over fd, which it owns from now on (closed by
 * hci_io_free(), and on failure).  Free with hci_io_free().  NULL with a
 * negative errno in *err on failure.
 */
struct hci_io *hci_io_new(struct gw_loop *loop, int fd, enum hci_io_kind kind,
			  const struct hci_io_cbs *cbs, int *err);
/*
 * Queues one whole H4 packet for writing.  Returns 0, -ENOBUFS when the
 * output buffer is full, -ENOTCONN after the controller went away.
 */
int hci_io_send(struct hci_io *io, const uint8_t *pkt, size_t len);
/*
 * Unregisters and closes.  Accepts NULL.  Not from inside one of this io's
 * callbacks: the owner defers it (a loop timer), as the driver does.
 */
void hci_io_free(struct hci_io *io);

#endif
