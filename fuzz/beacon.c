/*
 * libFuzzer target: Secure Network and Mesh Private beacons, through the
 * stateless openers and through mesh_net_beacon_rx() on a node that knows
 * the spec NetKey (subnet 0) and the f7a2 key in Key Refresh towards the
 * 3bbb key (subnet 1).
 *
 * Input: one octet giving the hours between beacons, then beacons each
 * preceded by a length octet (modulo 32).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "mesh/beacon.h"
#include "mesh/net.h"
#include "tests/util/tv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mesh_net *net;
	const struct mesh_net_keys *keys;
	struct mesh_beacon_info info;
	struct mesh_beacon_rx rx;
	uint8_t k[16];
	uint64_t now = 0, step;
	size_t pos = 1;

	if (size < 1) {
		return 0;
	}
	step = (uint64_t)data[0] * 3600 * 1000;
	net = mesh_net_new(0);
	if (!net) {
		abort();
	}
	tv_hex("7dd7364cd842ad18c17c2b820c84c3d6", k, sizeof(k));
	mesh_net_subnet_add(net, 0, k);
	tv_hex("f7a2a44f8e8a8029064f173ddc1e2b00", k, sizeof(k));
	mesh_net_subnet_add(net, 1, k);
	tv_hex("3bbb6f1fbd53e157417f308ce7aec58f", k, sizeof(k));
	mesh_net_subnet_update(net, 1, k);
	mesh_net_iv_set(net, 0x12345678, false, 0);

	while (pos < size) {
		size_t len = data[pos++] % 32;
		uint32_t iv_before, iv_after;
		int r;

		if (len > size - pos) {
			len = size - pos;
		}
		keys = mesh_net_subnet_keys(net, 0, false);
		if (mesh_beacon_secure_open(keys->beacon_key, keys->net_id, data + pos, len,
					    &info) == 0 &&
		    len != MESH_BEACON_SECURE_LEN) {
			abort();
		}
		if (mesh_beacon_private_open(keys->private_beacon_key, data + pos, len, &info) ==
			0 &&
		    len != MESH_BEACON_PRIVATE_LEN) {
			abort();
		}
		now += step;
		mesh_net_iv_get(net, &iv_before, NULL);
		r = mesh_net_beacon_rx(net, data + pos, len, now, &rx);
		mesh_net_iv_get(net, &iv_after, NULL);
		/* The IV Index never goes back and never jumps more than 42. */
		if (iv_after < iv_before || iv_after - iv_before > MESH_NET_IV_RECOVERY_MAX ||
		    (r < 0 && iv_after != iv_before)) {
			abort();
		}
		pos += len;
	}
	mesh_net_free(net);
	return 0;
}
