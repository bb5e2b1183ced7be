/*
 * Proxy PDU segmentation and reassembly for PB-GATT (Mesh Protocol v1.1
 * §5.2.2, §6.3.1).  See pb_gatt.h.
 */
#include "mesh/pb_gatt.h"

#include <errno.h>
#include <string.h>

/*
 * An ATT value written without response or notified carries ATT_MTU - 3
 * octets (opcode and handle take 3), and the Proxy PDU header one of those.
 */
#define ATT_HDR 3

int pb_gatt_tx_init(struct pb_gatt_tx *tx, uint8_t type, const uint8_t *msg, size_t len,
		    uint16_t att_mtu)
{
	if (!tx || !msg || len == 0 || len > PB_GATT_MSG_MAX || type > 0x3f ||
	    att_mtu < PB_GATT_ATT_MTU_MIN || att_mtu > PB_GATT_ATT_MTU_MAX) {
		return -EINVAL;
	}
	tx->msg = msg;
	tx->len = len;
	tx->off = 0;
	tx->seg_max = (size_t)att_mtu - ATT_HDR - 1;
	tx->type = type;
	tx->started = false;
	return 0;
}

int pb_gatt_tx_next(struct pb_gatt_tx *tx, uint8_t *out, size_t cap)
{
	size_t left, n;
	uint8_t sar;

	if (!tx || !out) {
		return -EINVAL;
	}
	left = tx->len - tx->off;
	if (left == 0) {
		return 0;
	}
	n = left < tx->seg_max ? left : tx->seg_max;
	if (cap < n + 1) {
		return -ENOSPC;
	}
	if (!tx->started) {
		sar = n == left ? PB_GATT_SAR_COMPLETE : PB_GATT_SAR_FIRST;
	} else {
		sar = n == left ? PB_GATT_SAR_LAST : PB_GATT_SAR_CONT;
	}
	out[0] = (uint8_t)(sar << 6 | tx->type);
	memcpy(out + 1, tx->msg + tx->off, n);
	tx->off += n;
	tx->started = true;
	return (int)(n + 1);
}

void pb_gatt_rx_init(struct pb_gatt_rx *rx)
{
	if (rx) {
		memset(rx, 0, sizeof(*rx));
	}
}

int pb_gatt_rx_feed(struct pb_gatt_rx *rx, const uint8_t *pdu, size_t len, uint64_t now_ms,
		    uint8_t *type, const uint8_t **msg, size_t *msg_len)
{
	uint8_t sar, t;
	size_t n;

	if (!rx || (!pdu && len) || !type || !msg || !msg_len) {
		return -EINVAL;
	}
	/* A segment without data carries nothing; no conforming peer sends one. */
	if (len < 2) {
		return -EBADMSG;
	}
	sar = pdu[0] >> 6;
	t = pdu[0] & 0x3f;
	n = len - 1;

	/* §6.3.1: the SAR field must follow First, Continuation..., Last. */
	switch (sar) {
	case PB_GATT_SAR_COMPLETE:
	case PB_GATT_SAR_FIRST:
		if (rx->busy || n > PB_GATT_MSG_MAX) {
			return -EBADMSG;
		}
		break;
	case PB_GATT_SAR_CONT:
	case PB_GATT_SAR_LAST:
		if (!rx->busy || t != rx->type || n > PB_GATT_MSG_MAX - rx->len) {
			return -EBADMSG;
		}
		break;
	default:
		return -EBADMSG;
	}
	if (sar == PB_GATT_SAR_COMPLETE || sar == PB_GATT_SAR_FIRST) {
		rx->len = 0;
		rx->type = t;
	}
	memcpy(rx->buf + rx->len, pdu + 1, n);
	rx->len += n;
	if (sar == PB_GATT_SAR_FIRST || sar == PB_GATT_SAR_CONT) {
		/* The SAR timer runs from the latest segment, as Zephyr's proxy does. */
		rx->busy = true;
		rx->deadline = now_ms + PB_GATT_SAR_TIMEOUT_MS;
		return 0;
	}
	rx->busy = false;
	*type = rx->type;
	*msg = rx->buf;
	*msg_len = rx->len;
	return 1;
}

uint64_t pb_gatt_rx_next_deadline(const struct pb_gatt_rx *rx)
{
	return rx && rx->busy ? rx->deadline : UINT64_MAX;
}

int pb_gatt_rx_tick(struct pb_gatt_rx *rx, uint64_t now_ms)
{
	if (!rx || !rx->busy || now_ms < rx->deadline) {
		return 0;
	}
	rx->busy = false;
	rx->len = 0;
	return -ETIMEDOUT;
}
