/*
 * PB-ADV provisioning bearer (Mesh Protocol v1.1 §5.2.1) with Generic
 * Provisioning (§5.3): link establishment, segmentation and reassembly of
 * Provisioning PDUs, transaction acknowledgment, retransmission and timeouts.
 *
 * One struct pb_adv holds many links at once, keyed by their 32-bit Link ID,
 * so a gateway can provision many devices in parallel.  A link has a role:
 *
 *   provisioner: opened by pb_adv_open(); any number at once (up to
 *                cfg.max_links); transaction numbers 0x00-0x7F.
 *   device:      created when a Link Open for the Device UUID in cfg.uuid is
 *                received; one at a time; transaction numbers 0x80-0xFF;
 *                closed with reason Timeout after 60 s without input.
 *
 * The bearer moves opaque, complete Provisioning PDUs: pb_adv_send() takes
 * one, the pdu_rx callback hands one up after reassembly and FCS check.  It
 * does not look inside them.
 *
 * Airtime.  A loss-free session costs exactly one AD per segment, one
 * Transaction Ack per transaction, Link Open, Link ACK and Link Close x3:
 *   - a transaction is retransmitted only when neither its Transaction Ack nor
 *     the peer's next transaction arrived within the retransmission timeout.
 *     Provisioning is strictly request/response (§5.4.1), so the peer's next
 *     transaction proves it received ours (implicit acknowledgment);
 *   - the retransmission timeout adapts to the measured ack delay of each link
 *     (Jacobson/Karn), starting at cfg.retx_initial_ms (a provisioner's
 *     link: from the Link ACK of a Link Open sent once, the first sample) and
 *     doubling on every retransmission up to cfg.retx_max_ms, until the 30 s
 *     transaction timeout;
 *   - Link Open is repeated with exponential backoff (1 s, 2 s, 4 s, 4 s, ...
 *     by default) because some devices (BlueZ bluetooth-meshd) re-queue their
 *     Link ACK on every Link Open they hear, so frequent repeats starve it;
 *   - the first transaction of a provisioner link leaves at least 20 ms after
 *     the last Link Open (two advDelay bounds), so the two cannot swap places
 *     on the air: bluetooth-meshd restarts its link on a late Link Open and
 *     drops the reply it had queued, which stalls the session.
 *
 * Bounds.  Provisioning PDUs of up to PB_ADV_PDU_MAX octets are sent and
 * reassembled.  That covers every PDU of §5.4.1 including the HMAC variants;
 * a Record Response (0x0B, 8 octets of header) fits when the provisioner asks
 * for fragments of at most PB_ADV_PDU_MAX - 8 octets.
 *
 * Callbacks run from inside pb_adv_open(), pb_adv_send(), pb_adv_close(),
 * pb_adv_rx() and pb_adv_tick().  They may call pb_adv_open(), pb_adv_send()
 * and pb_adv_close(), but not pb_adv_rx(), pb_adv_tick() or pb_adv_free().
 */
#ifndef MESH_PB_ADV_H
#define MESH_PB_ADV_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/mesh.h"

#define PB_ADV_PDU_MAX 128 /* largest Provisioning PDU, octets (see above) */
#define PB_ADV_UUID_LEN 16
#define PB_ADV_TXQ_MAX 2 /* PDUs queued per link behind the one in flight */

/* Link Close reasons on the air (§5.3.1.4.3). */
#define PB_ADV_CLOSE_SUCCESS 0x00
#define PB_ADV_CLOSE_TIMEOUT 0x01
#define PB_ADV_CLOSE_FAIL 0x02

#define PB_ADV_LINK_TIMEOUT_MS 60000  /* link establishment, §5.3.2 */
#define PB_ADV_TRANS_TIMEOUT_MS 30000 /* transaction, §5.3.3 */
#define PB_ADV_CLOSE_REPEAT 3         /* Link Close is sent at least 3 times, §5.3.1.4.3 */

struct pb_adv;

struct pb_adv_ops {
	/*
	 * Put one PB-ADV AD payload on the air (AD type 0x29; data is Link ID ||
	 * Transaction Number || Generic Provisioning PDU, at most 29 octets).
	 * data is borrowed for the duration of the call.
	 */
	void (*adv_send)(void *ctx, const uint8_t *data, size_t len);
	/* A provisioner link got its Link ACK, or a device link was opened. */
	void (*link_opened)(void *ctx, uint32_t link_id);
	/*
	 * The link ended and its ID is no longer valid.  reason >= 0 is the
	 * reason of a Link Close received from the peer (PB_ADV_CLOSE_*);
	 * -ETIMEDOUT means the link establishment, a transaction or a device
	 * link's idle timer timed out (a Link Close with reason Timeout is
	 * then sent).  Not called for
	 * links closed locally with pb_adv_close().
	 */
	void (*link_closed)(void *ctx, uint32_t link_id, int reason);
	/* One complete, FCS-checked Provisioning PDU; borrowed for the call. */
	void (*pdu_rx)(void *ctx, uint32_t link_id, const uint8_t *pdu, size_t len);
	/*
	 * The oldest unacknowledged PDU given to pb_adv_send() was acknowledged, by a
	 * Transaction Ack or implicitly by the peer's next transaction (then
	 * tx_done comes just before that transaction's pdu_rx).
	 */
	void (*tx_done)(void *ctx, uint32_t link_id);
};

/* Configuration; zero fields take the defaults in brackets. */
struct pb_adv_cfg {
	/* Own Device UUID (16 octets) to answer Link Open for; NULL: never a device. */
	const uint8_t *uuid;
	/* Link IDs of provisioner links are drawn from here (NULL fn: CSPRNG). */
	struct mesh_rng rng;
	unsigned max_links;            /* links held at once [32] */
	uint32_t open_interval_ms;     /* first Link Open repeat [1000] */
	uint32_t open_interval_max_ms; /* Link Open backoff cap [4000] */
	uint32_t retx_initial_ms;      /* retransmission timeout before any ack was timed [1500] */
	uint32_t retx_min_ms;          /* lower bound of the adaptive timeout [300] */
	uint32_t retx_max_ms;          /* upper bound, also of the backoff [4000] */
	uint32_t close_interval_ms;    /* spacing of the Link Close repeats [200] */
	/*
	 * A provisioner's Link Open unanswered this long fails the link
	 * [PB_ADV_LINK_TIMEOUT_MS].  A gateway with many devices to reach
	 * takes less, so an absent device gives its slot back soon.
	 */
	uint32_t open_timeout_ms;
};

/*
 * Returns a new bearer, or NULL on bad arguments or out of memory.  cfg and
 * ops are copied (cfg->uuid too); ctx is passed to every callback.  Free
 * with pb_adv_free().
 */
struct pb_adv *pb_adv_new(const struct pb_adv_cfg *cfg, const struct pb_adv_ops *ops, void *ctx);

/* Frees the bearer and every link without sending anything.  Accepts NULL. */
void pb_adv_free(struct pb_adv *pb);

/*
 * Provisioner: open a link to the device with this UUID under a fresh random
 * Link ID, unique among this object's links; sends the first Link Open.
 * link_opened follows when the Link ACK arrives, or link_closed(-ETIMEDOUT)
 * after 60 s.  -ENOSPC: all max_links slots in use; rng errors pass through.
 */
int pb_adv_open(struct pb_adv *pb, const uint8_t uuid[16], uint64_t now_ms, uint32_t *link_id);

/*
 * Send one Provisioning PDU (1..PB_ADV_PDU_MAX octets, copied) as the next
 * transaction of an open link.  Only one transaction is in flight at a time
 * (§5.3.3); while one is (or while the first waits out the Link Open guard
 * above), up to PB_ADV_TXQ_MAX PDUs wait in order (the provisioner sends
 * Start and Public Key back to back), and each gets its own tx_done.
 * -ENOENT: no such link; -ENOTCONN: not yet acknowledged; -EBUSY: the
 * queue is full.
 */
int pb_adv_send(struct pb_adv *pb, uint32_t link_id, const uint8_t *pdu, size_t len,
		uint64_t now_ms);

/*
 * Close a link with reason PB_ADV_CLOSE_*: Link Close is sent now and
 * repeated PB_ADV_CLOSE_REPEAT times in all; the ID stays reserved until the
 * last one is sent.  No callback follows.  -ENOENT: no such link.
 */
int pb_adv_close(struct pb_adv *pb, uint32_t link_id, uint8_t reason, uint64_t now_ms);

/*
 * One received PB-ADV AD payload (after the AD length and type octets).
 * Returns 0 when it was used (also for a harmless duplicate), -ENOENT when it
 * is for no link of ours (or a Link Open for another UUID), -EBADMSG when it
 * is malformed or inconsistent with the link (bad FCS, SegN not matching
 * Total Length, unexpected transaction number, RFU fields...), -EBUSY for a
 * Link Open while the device link is taken, -ENOSPC when no slot is free.
 * On any error nothing is sent and no state changes, with one exception the
 * spec demands (§5.3.3): a transaction that completes with a bad FCS is
 * discarded whole (-EBADMSG, not acknowledged) and awaits retransmission.
 */
int pb_adv_rx(struct pb_adv *pb, const uint8_t *data, size_t len, uint64_t now_ms);

/* Earliest time pb_adv_tick() must run, or UINT64_MAX when nothing is pending. */
uint64_t pb_adv_next_deadline(const struct pb_adv *pb);

/* Run retransmissions and timeouts that are due at now_ms. */
void pb_adv_tick(struct pb_adv *pb, uint64_t now_ms);

/* FCS of a Provisioning PDU: CRC-8 of 3GPP TS 27.010 §5.2.1.6 (formats.md §1.4). */
uint8_t pb_adv_fcs(const uint8_t *pdu, size_t len);

#endif /* MESH_PB_ADV_H */
