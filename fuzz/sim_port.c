/*
 * libFuzzer target for the datagrams meshsim's ports receive from outside
 * (sim/port.c): the native framing and the BlueZ unit framing.  The first
 * input octet selects the framing; a successful decode must re-encode to
 * the same bytes (native) or to a consistent datagram (BlueZ).  Seeds in
 * fuzz/corpus/sim_port/ include the §8.3.6 message #6 Network PDU in an ADV_TX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/port.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_port_msg m;
	struct sim_port_bluez_msg b;
	uint8_t out[SIM_PORT_MSG_MAX];
	size_t n;

	if (size < 1) {
		return 0;
	}
	if (data[0] & 1) {
		if (sim_port_decode(data + 1, size - 1, &m) == 0) {
			/* The framing is canonical: what decodes re-encodes identically. */
			if (sim_port_encode(&m, out, sizeof(out), &n) != 0 || n != size - 1 ||
			    memcmp(out, data + 1, n) != 0) {
				abort();
			}
		}
	} else if (sim_port_bluez_decode(data + 1, size - 1, &b) == 0) {
		if (b.is_name) {
			if (strlen(b.name) + 2 != size - 1) {
				abort();
			}
		} else if (sim_port_bluez_encode_rx(b.ad_type, b.data, b.len, out, sizeof(out),
						    &n) != 0 ||
			   n != size || memcmp(out + 1, data + 1, size - 1) != 0) {
			abort();
		}
	}
	return 0;
}
