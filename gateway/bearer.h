/*
 * Advertising bearers of the gateway: where mesh PDUs meet the world.  Two
 * implementations behind one interface: the simulated air of meshsim (a
 * Unix datagram socket speaking sim/PORTS.md's native framing) now, the
 * HCI bearer (libbluetooth) later.  A bearer registers its fd with the
 * loop and hands every received AD structure to ops->rx.
 */
#ifndef GW_BEARER_H
#define GW_BEARER_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/loop.h"

struct gw_bearer;

struct gw_bearer_ops {
	void *ctx;
	/* One received AD structure; data borrowed for the call. */
	void (*rx)(void *ctx, uint8_t ad_type, const uint8_t *data, size_t len, int8_t rssi);
};

/*
 * The simulated air: bind own_path (a stale socket file is replaced), then
 * attach to meshsim's native port at sim_path at position pos (metres),
 * retrying every second until meshsim answers.  Returns a new bearer (free
 * with gw_bearer_free()) or NULL with a negative errno in *err.
 */
struct gw_bearer *gw_bearer_sim_new(struct gw_loop *loop, const char *sim_path,
				    const char *own_path, const double pos[3],
				    const struct gw_bearer_ops *ops, int *err);

/* Transmit count times, interval_ms apart.  -ENOTCONN while not attached. */
int gw_bearer_send(struct gw_bearer *b, uint8_t ad_type, const uint8_t *data, size_t len,
		   uint8_t count, uint16_t interval_ms);
/* True once the bearer is attached (meshsim answered). */
int gw_bearer_ready(const struct gw_bearer *b);
/* Detach, close, unlink own socket.  Accepts NULL. */
void gw_bearer_free(struct gw_bearer *b);

#endif
