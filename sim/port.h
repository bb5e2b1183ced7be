/*
 * Codecs for the datagrams meshsim's ports exchange with outside programs.
 * sim/PORTS.md is the normative description of both framings; keep it in
 * sync with this file.
 *
 * Native framing (meshgw's simulated bearer, any other client): every
 * datagram is [version 0x01][kind][fields], multi-octet fields little-endian,
 * lengths exact (a datagram with trailing octets is malformed).
 *
 * BlueZ framing (`bluetooth-meshd --io unit:`, ../shared/peers/bluez.md):
 * the daemon sends [AD type][AD data] (at most 30 octets, no length octet) or,
 * in reply to a one-octet 0x00 query, [0x00][D-Bus unique name][NUL]; meshsim
 * sends it [nonzero marker][AD type][AD data].
 *
 * The decoders read through struct mesh_rbuf and write *out only on
 * success; they return 0, or -EBADMSG for anything malformed.  Encoders
 * return -EINVAL for an invalid message and -ENOSPC when cap is too small.
 * No function keeps a pointer to its arguments.
 */
#ifndef SIM_PORT_H
#define SIM_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_PORT_VERSION 0x01
#define SIM_PORT_DATA_MAX 29  /* AD data octets */
#define SIM_PORT_NAME_MAX 32  /* HELLO name octets */
#define SIM_PORT_COUNT_MAX 64 /* ADV_TX transmit count */
#define SIM_PORT_INTERVAL_MAX 10000
#define SIM_PORT_MSG_MAX 48 /* largest native datagram (HELLO with a 32-octet name: 47) */

enum sim_port_kind {
	SIM_PORT_HELLO = 0x01,   /* client -> sim: attach at a position with a name */
	SIM_PORT_WELCOME = 0x02, /* sim -> client: attached; participant id */
	SIM_PORT_ADV_TX = 0x03,  /* client -> sim: transmit an AD structure */
	SIM_PORT_ADV_RX = 0x04,  /* sim -> client: an AD structure was received */
	SIM_PORT_DETACH = 0x05,  /* client -> sim: leave the air */
	SIM_PORT_MOVE = 0x06,    /* client -> sim: new position */
	SIM_PORT_ERROR = 0x07,   /* sim -> client: a request was refused */
};

/* One native message; which fields are meaningful depends on kind. */
struct sim_port_msg {
	enum sim_port_kind kind;
	int32_t x_mm, y_mm, z_mm;         /* HELLO, MOVE: position in millimetres */
	char name[SIM_PORT_NAME_MAX + 1]; /* HELLO: 1..32 printable ASCII, NUL-terminated */
	uint32_t pid;                     /* WELCOME */
	uint8_t ad_type;                  /* ADV_TX, ADV_RX: nonzero */
	uint8_t count;                    /* ADV_TX: 1..SIM_PORT_COUNT_MAX transmissions */
	uint16_t interval_ms;             /* ADV_TX: 0..SIM_PORT_INTERVAL_MAX */
	int8_t rssi;                      /* ADV_RX */
	uint64_t time_us;                 /* ADV_RX: simulation clock at reception */
	uint8_t data[SIM_PORT_DATA_MAX];  /* ADV_TX, ADV_RX */
	uint8_t len;                      /* ADV_TX, ADV_RX: 0..SIM_PORT_DATA_MAX */
	uint8_t err;                      /* ERROR: positive errno value */
	uint8_t err_kind;                 /* ERROR: kind of the refused request */
};

int sim_port_decode(const uint8_t *buf, size_t len, struct sim_port_msg *out);
/* Writes the datagram for m into buf; *out_len is its length. */
int sim_port_encode(const struct sim_port_msg *m, uint8_t *buf, size_t cap, size_t *out_len);

/* --- BlueZ unit framing ------------------------------------------------- */

#define SIM_PORT_BLUEZ_TX_MAX 30 /* [AD type][AD data] from the daemon */
#define SIM_PORT_BLUEZ_NAME_MAX 255
#define SIM_PORT_BLUEZ_RX_MARK 0x01 /* the nonzero first octet meshsim sends */

struct sim_port_bluez_msg {
	bool is_name; /* a reply to the name query */
	uint8_t ad_type;
	uint8_t data[SIM_PORT_DATA_MAX];
	uint8_t len;
	char name[SIM_PORT_BLUEZ_NAME_MAX + 1]; /* is_name: printable ASCII */
};

/* A datagram from the daemon. */
int sim_port_bluez_decode(const uint8_t *buf, size_t len, struct sim_port_bluez_msg *out);
/* The datagram meshsim sends the daemon for one received AD structure. */
int sim_port_bluez_encode_rx(uint8_t ad_type, const uint8_t *data, size_t len, uint8_t *buf,
			     size_t cap, size_t *out_len);
/* The one-octet name query. */
int sim_port_bluez_encode_query(uint8_t *buf, size_t cap, size_t *out_len);

#endif /* SIM_PORT_H */
