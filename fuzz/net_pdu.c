/*
 * libFuzzer target: Network PDUs into a node with several subnets (the
 * spec NetKey, and the f7a2 key in Key Refresh towards the 3bbb key).
 *
 * Input: one flags octet (bit 0 relay on, bit 1 Key Refresh phase 2,
 * bit 2 IV Update in progress), then PDUs each preceded by a length octet
 * (taken modulo 32 so that over-long PDUs occur).  The node lives for one
 * input, so cache effects between its PDUs are exercised and every run is
 * reproducible.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "mesh/net.h"
#include "tests/util/tv.h"

static const char spec_key[] = "7dd7364cd842ad18c17c2b820c84c3d6";
static const char f7a2_key[] = "f7a2a44f8e8a8029064f173ddc1e2b00";
static const char bbb_key[] = "3bbb6f1fbd53e157417f308ce7aec58f";

static struct mesh_net *make_node(uint8_t flags)
{
	struct mesh_net *net = mesh_net_new(0);
	uint8_t k[16];

	if (!net) {
		abort();
	}
	tv_hex(spec_key, k, sizeof(k));
	mesh_net_subnet_add(net, 0, k);
	tv_hex(f7a2_key, k, sizeof(k));
	mesh_net_subnet_add(net, 1, k);
	tv_hex(bbb_key, k, sizeof(k));
	mesh_net_subnet_update(net, 1, k);
	if (flags & 0x02) {
		mesh_net_subnet_kr_set(net, 1, 2);
	}
	mesh_net_iv_set(net, 0x12345678, (flags & 0x04) != 0, 0);
	mesh_net_addr_set(net, 0x0003, 2);
	mesh_net_relay_set(net, (flags & 0x01) != 0);
	return net;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mesh_net *net;
	struct mesh_net_cred cred;
	struct mesh_net_rx rx;
	uint8_t tpdu[MESH_NET_TPDU_MAX], relay[MESH_NET_PDU_MAX], k[16];
	size_t pos = 1, relay_len;

	if (size < 1) {
		return 0;
	}
	net = make_node(data[0]);
	tv_hex(spec_key, k, sizeof(k));
	mesh_net_cred_flooding(k, &cred);
	while (pos < size) {
		size_t len = data[pos++] % 32;
		int r;

		if (len > size - pos) {
			len = size - pos;
		}
		/* The stateless codec must agree with its own limits. */
		if (mesh_net_decode(&cred, 0x12345678, data + pos, len, &rx, tpdu) == 0) {
			if (rx.tpdu_len < 1 || rx.tpdu_len > MESH_NET_TPDU_MAX ||
			    (rx.ctl && rx.tpdu_len > MESH_NET_TPDU_CTL_MAX) ||
			    len > MESH_NET_PDU_MAX) {
				abort();
			}
		}
		r = mesh_net_recv(net, data + pos, len, &rx, tpdu, relay, &relay_len);
		if (r >= 0 && (r & MESH_NET_RECV_RELAY) &&
		    (relay_len != len || rx.ttl < 2 || mesh_net_is_local(net, rx.dst))) {
			abort();
		}
		/* A second copy is always a duplicate once the first was accepted. */
		if (r >= 0 &&
		    mesh_net_recv(net, data + pos, len, &rx, tpdu, NULL, NULL) != -EALREADY) {
			abort();
		}
		pos += len;
	}
	mesh_net_free(net);
	return 0;
}
