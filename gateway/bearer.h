/*
 * Advertising bearers of the gateway: where mesh PDUs meet the world.  One
 * interface (after BlueZ's mesh-io), several backends, each a struct
 * gw_bearer with a const table of operations (gateway/bearer_int.h):
 *   - sim: the simulated air of meshsim (a Unix datagram socket speaking
 *     sim/PORTS.md's native framing);
 *   - hci: a Bluetooth controller through the kernel's HCI user channel
 *     (hci:N) or a UART speaking H4 (uart:PATH), driven by gateway/hci.h.
 * A bearer registers its fds with the loop and hands every received mesh AD
 * structure to ops->rx.
 */
#ifndef GW_BEARER_H
#define GW_BEARER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/loop.h"

struct gw_bearer;

struct gw_bearer_ops {
	void *ctx;
	/* One received AD structure; data borrowed for the call. */
	void (*rx)(void *ctx, uint8_t ad_type, const uint8_t *data, size_t len, int8_t rssi);
};

enum gw_bearer_status {
	GW_BEARER_STARTING,
	GW_BEARER_READY,
	GW_BEARER_DOWN, /* lost, re-opening */
	GW_BEARER_FAILED,
};

/* A snapshot of a bearer's state, for /healthz, the network resource and error messages. */
struct gw_bearer_state {
	const char *kind; /* "sim", "hci" or "uart" (static string) */
	char name[64];    /* "sim:/tmp/meshsim.sock", "hci:0", "uart:/dev/ttyACM0" */
	enum gw_bearer_status status;
	char reason[256];    /* a sentence; "" when ready */
	bool has_controller; /* ctrl below is meaningful (an HCI bearer that was ready once) */
	struct {
		uint8_t hci_version;
		uint16_t hci_revision;
		uint16_t manufacturer;
		char manufacturer_name[64];
		bool extended; /* extended advertising, else legacy */
		uint8_t adv_sets;
	} ctrl;
};

/* "starting", "ready", "down-reopening", "failed". */
const char *gw_bearer_status_name(enum gw_bearer_status s);

/*
 * The simulated air: bind own_path (a stale socket file is replaced), then
 * attach to meshsim's native port at sim_path at position pos (metres),
 * retrying every second until meshsim answers.  Returns a new bearer (free
 * with gw_bearer_free()) or NULL with a negative errno in *err.
 */
struct gw_bearer *gw_bearer_sim_new(struct gw_loop *loop, const char *sim_path,
				    const char *own_path, const double pos[3],
				    const struct gw_bearer_ops *ops, int *err);

/* Where an HCI bearer finds its controller. */
struct gw_bearer_hci_conf {
	bool uart;        /* false: the HCI user channel of hci<dev> */
	int dev;          /* hciN */
	const char *path; /* UART device or pty (borrowed for the call) */
	uint32_t baud;
	bool rtscts;
	/* Tests: opens the transport instead (returns an fd, or -errno and a sentence). */
	int (*open)(void *ctx, char *why, size_t why_cap);
	void *open_ctx;
	uint32_t cmd_timeout_ms; /* 0: the driver's default (2 s) */
};

/*
 * A controller: opening starts on the next loop iteration and the bearer
 * reports its progress through gw_bearer_state(); it never gives up (see
 * gateway/hci.h).  Returns a new bearer (free with gw_bearer_free()) or NULL
 * with a negative errno in *err.
 */
struct gw_bearer *gw_bearer_hci_new(struct gw_loop *loop, const struct gw_bearer_hci_conf *conf,
				    const struct gw_bearer_ops *ops, int *err);

/*
 * Transmit count times, interval_ms apart (data is copied).  -ENOTCONN (sim
 * not attached) or -ENETDOWN (controller not ready) while the bearer is not
 * ready; -ENOBUFS when its queue is full.
 */
int gw_bearer_send(struct gw_bearer *b, uint8_t ad_type, const uint8_t *data, size_t len,
		   uint8_t count, uint16_t interval_ms);
/* True once the bearer can transmit. */
int gw_bearer_ready(const struct gw_bearer *b);
/* Fills *out. */
void gw_bearer_state(const struct gw_bearer *b, struct gw_bearer_state *out);
/* Detach, close, free.  Accepts NULL. */
void gw_bearer_free(struct gw_bearer *b);

#endif
