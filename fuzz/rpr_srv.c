/*
 * libFuzzer target for the Remote Provisioning Server model on a
 * provisioned node.
 *
 * Input: a sequence of records, each 1 octet of kind, 1 octet of length,
 * then that many octets:
 *   kind & 3 == 0  an RPR message to the server: 2 octets of opcode
 *                  (big-endian, 0x8000 | low bits mapped onto 0x804f..0x805f),
 *                  then its parameters, from the client 0x0001 under the
 *                  device key (the access layer's length rows, the decoder
 *                  and every state machine behind them see it);
 *   kind & 3 == 1  a Mesh Beacon AD payload fed with rpr_srv_beacon_rx();
 *   kind & 3 == 2  a PB-ADV AD payload fed with rpr_srv_pb_adv_rx();
 *   kind & 3 == 3  time passes (length octet * 100 ms) and the server ticks.
 * The server must never crash, its states must stay in range, and its
 * next deadline must never lie in the past after a tick.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/access.h"
#include "mesh/node.h"
#include "mesh/rpr_msg.h"
#include "mesh/rpr_srv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_adv(void *ctx, uint8_t t, const uint8_t *d, size_t len, uint8_t c, uint16_t iv)
{
	(void)ctx;
	(void)t;
	(void)d;
	(void)len;
	(void)c;
	(void)iv;
	return 0;
}

static void no_pb_adv(void *ctx, const uint8_t *d, size_t len)
{
	(void)ctx;
	(void)d;
	(void)len;
}

static int fixed_rng(void *ctx, uint8_t *buf, size_t len)
{
	uint64_t *s = ctx;
	size_t i;

	for (i = 0; i < len; i++) {
		*s = *s * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (uint8_t)(*s >> 56);
	}
	return 0;
}

static void check(const struct rpr_srv *srv)
{
	struct rpr_srv_state st;

	rpr_srv_state(srv, &st);
	if (st.scan > RPR_SCAN_SINGLE || st.link > RPR_LINK_CLOSING ||
	    st.items > RPR_SRV_ITEMS_MAX) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct mesh_node_config cfg;
	struct mesh_node_ops ops = {.adv_send = no_adv};
	uint64_t seed = 1;
	struct mesh_rng rng = {fixed_rng, &seed};
	struct rpr_srv_config rc = {.max_items = 4, .active_scan = true};
	struct rpr_srv_ops ro = {.adv_send = no_pb_adv};
	struct mesh_node *node;
	struct rpr_srv *srv;
	uint64_t now = 1000;
	size_t pos = 0;

	mesh_node_config_default(&cfg);
	cfg.beacon_interval_ms = 0;
	node = mesh_node_new(&cfg, &ops, &rng, now);
	if (!node || mesh_acc_elem_add(mesh_node_acc(node), 0) < 0) {
		abort();
	}
	srv = rpr_srv_new(node, &rc, &ro, &rng);
	if (!srv || mesh_node_provision(node, 0x0100, key, 0, key, 0, 0, now)) {
		abort();
	}
	while (pos + 2 <= size) {
		uint8_t kind = data[pos] & 3, len = data[pos + 1];
		const uint8_t *p = data + pos + 2;

		if (pos + 2 + len > size) {
			len = (uint8_t)(size - pos - 2);
		}
		pos += 2 + (size_t)len;
		if (kind == 0 && len >= 2) {
			struct mesh_acc_msg m = {0};

			m.app_idx = MESH_APP_IDX_DEV;
			m.src = 0x0001;
			m.dst = 0x0100;
			m.ttl = 5;
			m.opcode = 0x804f + (((uint32_t)p[0] << 8 | p[1]) % 17);
			m.params = p + 2;
			m.len = (size_t)len - 2;
			(void)mesh_acc_dispatch(mesh_node_acc(node), &m, NULL);
		} else if (kind == 1) {
			(void)rpr_srv_beacon_rx(srv, p, len, (int8_t)-60, now);
		} else if (kind == 2) {
			(void)rpr_srv_pb_adv_rx(srv, p, len, now);
		} else if (kind == 3) {
			now += (uint64_t)len * 100;
			rpr_srv_tick(srv, now);
			mesh_node_tick(node, now);
			if (rpr_srv_next_deadline(srv) < now) {
				abort();
			}
		}
		check(srv);
	}
	rpr_srv_free(srv);
	mesh_node_free(node);
	return 0;
}
