/*
 * PB-GATT framing (Mesh Protocol v1.1 §5.2.2): Proxy PDUs (§6.3.1) with
 * segmentation and reassembly, so a GATT bearer only moves attribute values.
 *
 * A Proxy PDU is one octet SAR (bits 7-6) || Message Type (bits 5-0),
 * followed by data.  A message that does not fit one ATT value
 * (ATT_MTU - 3 octets) is sent as First, Continuation..., Last segments.
 * The reassembler accepts one message at a time, checks the SAR sequence
 * and the size bound, and times out when 20 s pass without a segment
 * (§6.3.1; the timer restarts with every segment).  It reports any
 * message type (Network PDU, Mesh Beacon, Proxy Configuration, Provisioning
 * PDU); a provisioning bearer keeps PB_GATT_TYPE_PROV only.
 *
 * Both sides are plain value structs owned by the caller; nothing allocates.
 */
#ifndef MESH_PB_GATT_H
#define MESH_PB_GATT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SAR field values (§6.3.1). */
#define PB_GATT_SAR_COMPLETE 0x0
#define PB_GATT_SAR_FIRST 0x1
#define PB_GATT_SAR_CONT 0x2
#define PB_GATT_SAR_LAST 0x3

/* Message types (§6.3.1); 0x04-0x3F are RFU. */
#define PB_GATT_TYPE_NET 0x00
#define PB_GATT_TYPE_BEACON 0x01
#define PB_GATT_TYPE_PROXY_CFG 0x02
#define PB_GATT_TYPE_PROV 0x03

#define PB_GATT_MSG_MAX 128          /* largest reassembled message, octets */
#define PB_GATT_SAR_TIMEOUT_MS 20000 /* proxy SAR timeout, §6.3.1 */
#define PB_GATT_ATT_MTU_MIN 23       /* smallest ATT_MTU of the Core spec */
#define PB_GATT_ATT_MTU_MAX 517

/* Segmenter over one message. */
struct pb_gatt_tx {
	const uint8_t *msg; /* borrowed; must stay valid until done */
	size_t len;
	size_t off;
	size_t seg_max; /* data octets per Proxy PDU: ATT_MTU - 3 - 1 */
	uint8_t type;
	bool started;
};

/*
 * Start segmenting msg (len 1..PB_GATT_MSG_MAX octets, borrowed) of the given
 * message type for an ATT_MTU of att_mtu (PB_GATT_ATT_MTU_MIN..MAX).
 * -EINVAL on a bad argument (tx is then untouched).
 */
int pb_gatt_tx_init(struct pb_gatt_tx *tx, uint8_t type, const uint8_t *msg, size_t len,
		    uint16_t att_mtu);

/*
 * Write the next Proxy PDU into out (cap octets; att_mtu - 3 always
 * suffices).  Returns its length, 0 when the message is all sent, or
 * -ENOSPC when out is too small (nothing consumed).
 */
int pb_gatt_tx_next(struct pb_gatt_tx *tx, uint8_t *out, size_t cap);

/* Reassembler of received Proxy PDUs. */
struct pb_gatt_rx {
	bool busy;    /* between First and Last */
	uint8_t type; /* of the message being reassembled or last delivered */
	size_t len;   /* octets held */
	uint64_t deadline;
	uint8_t buf[PB_GATT_MSG_MAX];
};

void pb_gatt_rx_init(struct pb_gatt_rx *rx);

/*
 * Feed one Proxy PDU (one ATT value).  Returns 1 when a message is complete:
 * *type, *msg and *len are then set, *msg borrowed from rx until the next
 * call.  Returns 0 when more segments are needed, -EBADMSG for a PDU without data,
 * a SAR sequence violation (Continuation or Last without First, First or
 * Complete while reassembling, a type change mid-message) or a message over
 * PB_GATT_MSG_MAX.  On error rx is unchanged; §6.3.1 then wants the bearer
 * disconnected (and pb_gatt_rx_init() before reuse).
 */
int pb_gatt_rx_feed(struct pb_gatt_rx *rx, const uint8_t *pdu, size_t len, uint64_t now_ms,
		    uint8_t *type, const uint8_t **msg, size_t *msg_len);

/* When the SAR timer of a message in progress expires, or UINT64_MAX. */
uint64_t pb_gatt_rx_next_deadline(const struct pb_gatt_rx *rx);

/*
 * Returns -ETIMEDOUT (and drops the partial message) when the 20 s SAR
 * timer expired by now_ms, else 0.  The bearer then disconnects (§6.3.1).
 */
int pb_gatt_rx_tick(struct pb_gatt_rx *rx, uint64_t now_ms);

#endif /* MESH_PB_GATT_H */
