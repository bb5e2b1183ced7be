/*
 * libFuzzer target: Proxy PDU reassembly (PB-GATT framing) with a fake
 * clock, and a round trip of every reassembled message.
 *
 * Input: one octet choosing the ATT_MTU of the round trip (23 + octet), then
 * Proxy PDUs each preceded by a length octet (modulo 32; 0 means "advance the
 * clock by 10 s and tick").  Every complete message is segmented again and
 * fed to a second reassembler, which must give back the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/pb_gatt.h"

static void round_trip(uint8_t type, const uint8_t *msg, size_t len, uint16_t mtu)
{
	struct pb_gatt_tx tx;
	struct pb_gatt_rx rx;
	uint8_t seg[PB_GATT_ATT_MTU_MAX], t2 = 0xff;
	const uint8_t *m2 = NULL;
	size_t l2 = 0;
	int n, rc = 0;

	if (pb_gatt_tx_init(&tx, type, msg, len, mtu) != 0) {
		abort();
	}
	pb_gatt_rx_init(&rx);
	while ((n = pb_gatt_tx_next(&tx, seg, sizeof(seg))) > 0) {
		if ((size_t)n > (size_t)mtu - 3 || rc == 1) {
			abort();
		}
		rc = pb_gatt_rx_feed(&rx, seg, (size_t)n, 0, &t2, &m2, &l2);
		if (rc < 0) {
			abort();
		}
	}
	if (n < 0 || rc != 1 || t2 != type || l2 != len || memcmp(m2, msg, len) != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_gatt_rx rx;
	uint64_t now = 0;
	uint16_t mtu;
	size_t pos = 1;

	if (size < 1) {
		return 0;
	}
	mtu = (uint16_t)(PB_GATT_ATT_MTU_MIN + data[0]);
	pb_gatt_rx_init(&rx);
	while (pos < size) {
		size_t len = data[pos++] % 32;
		const uint8_t *msg;
		uint8_t type;
		size_t mlen;
		int rc;

		if (len == 0) {
			now += 10000;
			(void)pb_gatt_rx_tick(&rx, now);
			continue;
		}
		if (len > size - pos) {
			len = size - pos;
		}
		rc = pb_gatt_rx_feed(&rx, data + pos, len, now, &type, &msg, &mlen);
		pos += len;
		if (rc == 1) {
			if (mlen == 0 || mlen > PB_GATT_MSG_MAX) {
				abort();
			}
			round_trip(type, msg, mlen, mtu);
		}
	}
	return 0;
}
