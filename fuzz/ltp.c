/*
 * Stateful fuzz target for the lower transport (mesh/ltp.c) and the replay
 * protection list behind it.  The input is a sequence of records, each one
 * Network PDU as the network layer would hand it up:
 *
 *   flags(1) dt(1) src(2, BE) dst(2, BE) seq(3, BE) len(1) tpdu(len)
 *
 *   flags bit 0: CTL; bit 1: TTL 0; bit 2: the upper transport rejects the
 *   next delivery; bits 3-4: IV Index offset (0..3 above a base).
 *   dt: the fake clock advances dt * 20 ms before the record, so the
 *   acknowledgment, retransmission and discard timers all fire.
 *
 * Two segmented sends are in flight from the start (to 0x0003, the source
 * of the spec's Message #6, and to a group) so that Segment Acknowledgments
 * in the input meet a real transmitter.  Oracles: every PDU the layer sends
 * must decode, every delivery must be within the size limits, and an
 * accepted delivery must be recorded in the RPL.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/buf.h"
#include "mesh/ltp.h"
#include "mesh/rpl.h"

#define IV_BASE 0x12345677u

struct fuzz_ctx {
	uint32_t seq;
	int recv_ret;
	struct mesh_rpl *rpl;
};

static int f_net_send(void *ctx, const struct mesh_net_tx *tx)
{
	struct mesh_ltp_pdu p;

	(void)ctx;
	if (mesh_ltp_pdu_decode(tx->ctl, tx->tpdu, tx->tpdu_len, &p) != 0) {
		abort(); /* the layer produced a PDU it would itself reject */
	}
	return 0;
}

static int f_seq_alloc(void *ctx, uint16_t src, uint32_t *seq)
{
	struct fuzz_ctx *f = ctx;

	(void)src;
	*seq = f->seq++ & MESH_SEQ_MAX;
	return 0;
}

static int f_recv(void *ctx, const struct mesh_utp_msg *msg)
{
	struct fuzz_ctx *f = ctx;
	volatile uint8_t sink = 0;
	size_t i;

	if (msg->len > MESH_LTP_ACCESS_MAX || (msg->len && !msg->data)) {
		abort();
	}
	if (!msg->ctl && msg->len <= (msg->szmic ? 8u : 4u)) {
		abort(); /* an access PDU must hold a payload octet and its TransMIC */
	}
	for (i = 0; i < msg->len; i++) {
		sink ^= msg->data[i]; /* let ASan check every delivered octet */
	}
	(void)sink;
	return f->recv_ret;
}

static bool f_is_local(void *ctx, uint16_t addr)
{
	(void)ctx;
	return addr != 0x7fff;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t payload[40] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	struct fuzz_ctx f = {.seq = 0x3129ab};
	struct mesh_ltp_ops ops = {.ctx = &f,
				   .net_send = f_net_send,
				   .seq_alloc = f_seq_alloc,
				   .recv = f_recv,
				   .is_local = f_is_local};
	struct mesh_utp_msg m = {
	    .src = 0x1201, .dst = 0x0003, .ttl = 4, .data = payload, .len = sizeof(payload)};
	struct mesh_ltp_config cfg;
	struct mesh_rbuf b;
	struct mesh_ltp *ltp;
	uint64_t now = 0;
	uint32_t h;
	int i;

	mesh_ltp_config_default(&cfg);
	cfg.rx_slots = 3; /* small, so eviction and busy paths are reachable */
	f.rpl = mesh_rpl_new(4);
	ltp = f.rpl ? mesh_ltp_new(&cfg, &ops, f.rpl) : NULL;
	if (!ltp) {
		mesh_rpl_free(f.rpl);
		return 0;
	}
	m.seq = f.seq++;
	(void)mesh_ltp_send(ltp, &m, now, &h);
	m.dst = 0xc000;
	m.seq = f.seq++;
	(void)mesh_ltp_send(ltp, &m, now, &h);

	mesh_rbuf_init(&b, data, size);
	while (b.len > 0) {
		uint8_t flags = mesh_rbuf_u8(&b);
		uint8_t dt = mesh_rbuf_u8(&b);
		struct mesh_net_rx rx = {
		    .ctl = flags & 1,
		    .ttl = (flags & 2) ? 0 : 5,
		    .iv_index = IV_BASE + ((flags >> 3) & 3),
		};
		uint8_t len;
		int err;

		rx.src = mesh_rbuf_be16(&b);
		rx.dst = mesh_rbuf_be16(&b);
		rx.seq = mesh_rbuf_be24(&b);
		len = mesh_rbuf_u8(&b) & 0x1f;
		rx.tpdu = mesh_rbuf_pull(&b, len);
		rx.tpdu_len = len;
		if (!mesh_rbuf_ok(&b)) {
			break;
		}
		if (!rx.tpdu) {
			rx.tpdu = payload; /* a zero-length PDU still needs a pointer */
		}
		now += (uint64_t)dt * 20;
		mesh_ltp_tick(ltp, now);
		f.recv_ret = (flags & 4) ? -EACCES : 0;
		err = mesh_ltp_rx(ltp, &rx, now);
		if (err == 0 && !rx.ctl && (rx.tpdu[0] & 0x80) == 0 &&
		    mesh_rpl_check(f.rpl, rx.src, rx.iv_index, rx.seq) != -EALREADY) {
			abort(); /* an accepted unsegmented access PDU was not recorded */
		}
	}
	/* Let every timer run out: the layer must go quiet by itself. */
	for (i = 0; i < 1000 && mesh_ltp_next_deadline(ltp) != UINT64_MAX; i++) {
		uint64_t d = mesh_ltp_next_deadline(ltp);

		now = d > now ? d : now;
		mesh_ltp_tick(ltp, now);
	}
	if (mesh_ltp_next_deadline(ltp) != UINT64_MAX) {
		abort();
	}
	mesh_ltp_free(ltp);
	mesh_rpl_free(f.rpl);
	return 0;
}
