/*
 * PB-ADV bearer and Generic Provisioning layer (Mesh Protocol v1.1 §5.2.1,
 * §5.3).  See pb_adv.h for the behaviour; formats.md §1 for the layouts.
 */
#include "mesh/pb_adv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/buf.h"

/* Generic Provisioning Control Format, the low 2 bits of the first octet (§5.3.1). */
#define GPCF_START 0x0
#define GPCF_ACK 0x1
#define GPCF_CONT 0x2
#define GPCF_CTL 0x3

/* Provisioning Bearer Control opcodes (§5.3.1.4). */
#define CTL_LINK_OPEN 0x00
#define CTL_LINK_ACK 0x01
#define CTL_LINK_CLOSE 0x02

#define HDR_LEN 5         /* Link ID (4) || Transaction Number (1) */
#define START_DATA_MAX 20 /* Transaction Start carries 20 octets at most (§5.3.1.1) */
#define CONT_DATA_MAX 23  /* a Continuation 23 (§5.3.1.3) */
/* SegN of a PDU of `total` octets: segment i >= 1 starts at 20 + 23 (i - 1). */
#define SEGN_OF(total)                                                                             \
	((total) <= START_DATA_MAX                                                                 \
	     ? 0u                                                                                  \
	     : (unsigned)(((total)-START_DATA_MAX + CONT_DATA_MAX - 1) / CONT_DATA_MAX))
#define SEG_MAX (SEGN_OF(PB_ADV_PDU_MAX) + 1)

/* Provisioner transactions use 0x00-0x7F, device transactions 0x80-0xFF (§5.3.1). */
#define TN_DEVICE 0x80

/*
 * A peer retransmits all segments of a transaction in one burst; one
 * Transaction Ack per burst is enough, so duplicates of a completed
 * transaction are re-acknowledged at most once in this interval.
 */
#define REACK_HOLDOFF_MS 100

#define DEF_MAX_LINKS 32
#define DEF_OPEN_MS 1000
#define DEF_OPEN_MAX_MS 4000
#define DEF_RETX_INITIAL_MS 1500
#define DEF_RETX_MIN_MS 300
#define DEF_RETX_MAX_MS 4000
#define DEF_CLOSE_MS 200

/*
 * Each advertisement leaves after a random advDelay of up to 10 ms (Core
 * Vol 6 Part B §4.4.2.2.1), so two PDUs sent within 10 ms of each other may
 * reach the peer in either order.  A Link Open overtaken by the first
 * transaction is harmful: bluetooth-meshd restarts its link state on every
 * Link Open and cancels the reply it has queued, and the session stalls
 * until its 30 s timeout.  So the first transaction of a link leaves no
 * sooner than this after the last Link Open.
 */
#define OPEN_GUARD_MS 20

enum link_state {
	LINK_FREE,
	LINK_OPENING, /* provisioner: Link Open sent, waiting for Link ACK */
	LINK_OPEN,
	LINK_CLOSING, /* Link Close repeats still to send; ignores input */
};

struct link {
	uint32_t id;
	enum link_state state;
	bool provisioner; /* our role on this link */
	uint8_t uuid[PB_ADV_UUID_LEN];

	/* Link Open repeats (OPENING) and Link Close repeats (CLOSING). */
	uint64_t ctl_next;
	uint32_t ctl_interval;
	uint64_t open_deadline; /* provisioner: link establishment; device: idle timeout */
	uint64_t open_sent;     /* provisioner: when the last Link Open was sent */
	bool open_repeated;     /* provisioner: Link Open sent more than once (Karn) */
	uint8_t close_reason;
	uint8_t close_left;

	/* Outgoing transaction. */
	bool tx_busy;
	bool tx_retried; /* retransmitted at least once: no RTT sample (Karn) */
	uint8_t tx_tn;   /* number of the current (or last) transaction */
	uint8_t tx_next_tn;
	size_t tx_len;
	uint64_t tx_first; /* first sent; the transaction timer runs from here */
	uint64_t tx_next;  /* next retransmission */
	uint32_t tx_rto;   /* current, backed-off retransmission timeout */
	uint8_t tx_pdu[PB_ADV_PDU_MAX];
	/* PDUs waiting behind the current transaction, oldest first. */
	unsigned txq_n;
	size_t txq_len[PB_ADV_TXQ_MAX];
	uint8_t txq[PB_ADV_TXQ_MAX][PB_ADV_PDU_MAX];

	/* Adaptive retransmission timeout, in ms (Jacobson). */
	bool rtt_valid;
	uint32_t srtt;
	uint32_t rttvar;
	uint32_t rto;

	/* Incoming transaction: rx_tn is the number the next new one must carry. */
	uint8_t rx_tn;
	bool rx_done_valid; /* rx_done_tn names a delivered transaction */
	uint8_t rx_done_tn;
	uint64_t rx_ack_at; /* when it was last acknowledged */
	bool rx_have_start;
	uint16_t rx_total;
	uint8_t rx_fcs;
	uint8_t rx_mask; /* segments received, bit i = segment i */
	uint8_t rx_seg_len[SEG_MAX];
	uint8_t rx_buf[PB_ADV_PDU_MAX];
};

struct pb_adv {
	struct pb_adv_ops ops;
	void *ctx;
	bool has_uuid;
	uint8_t uuid[PB_ADV_UUID_LEN];
	struct mesh_rng rng;
	uint32_t open_interval_ms;
	uint32_t open_interval_max_ms;
	uint32_t retx_initial_ms;
	uint32_t retx_min_ms;
	uint32_t retx_max_ms;
	uint32_t close_interval_ms;
	uint32_t open_timeout_ms;
	unsigned nlinks;
	struct link links[];
};

uint8_t pb_adv_fcs(const uint8_t *pdu, size_t len)
{
	/*
	 * 3GPP TS 27.010 §5.2.1.6: CRC-8 with x^8+x^2+x+1 processed LSB first
	 * (reflected constant 0xE0), initial value 0xFF, result 0xFF - crc.
	 */
	uint8_t crc = 0xff;

	for (size_t i = 0; i < len; i++) {
		crc ^= pdu[i];
		for (int b = 0; b < 8; b++) {
			crc = (crc & 1) ? (uint8_t)((crc >> 1) ^ 0xe0) : (uint8_t)(crc >> 1);
		}
	}
	return (uint8_t)(0xff - crc);
}

static uint32_t dflt(uint32_t v, uint32_t d)
{
	return v ? v : d;
}

struct pb_adv *pb_adv_new(const struct pb_adv_cfg *cfg, const struct pb_adv_ops *ops, void *ctx)
{
	struct pb_adv *pb;
	unsigned n;

	if (!cfg || !ops || !ops->adv_send) {
		return NULL;
	}
	n = cfg->max_links ? cfg->max_links : DEF_MAX_LINKS;
	if (n > 4096) {
		return NULL;
	}
	pb = calloc(1, sizeof(*pb) + n * sizeof(pb->links[0]));
	if (!pb) {
		return NULL;
	}
	pb->ops = *ops;
	pb->ctx = ctx;
	if (cfg->uuid) {
		pb->has_uuid = true;
		memcpy(pb->uuid, cfg->uuid, PB_ADV_UUID_LEN);
	}
	pb->rng = cfg->rng;
	pb->open_interval_ms = dflt(cfg->open_interval_ms, DEF_OPEN_MS);
	pb->open_interval_max_ms = dflt(cfg->open_interval_max_ms, DEF_OPEN_MAX_MS);
	pb->retx_min_ms = dflt(cfg->retx_min_ms, DEF_RETX_MIN_MS);
	pb->retx_max_ms = dflt(cfg->retx_max_ms, DEF_RETX_MAX_MS);
	pb->retx_initial_ms = dflt(cfg->retx_initial_ms, DEF_RETX_INITIAL_MS);
	pb->close_interval_ms = dflt(cfg->close_interval_ms, DEF_CLOSE_MS);
	pb->open_timeout_ms = dflt(cfg->open_timeout_ms, PB_ADV_LINK_TIMEOUT_MS);
	if (pb->retx_min_ms > pb->retx_max_ms) {
		pb->retx_min_ms = pb->retx_max_ms;
	}
	if (pb->retx_initial_ms < pb->retx_min_ms) {
		pb->retx_initial_ms = pb->retx_min_ms;
	}
	if (pb->retx_initial_ms > pb->retx_max_ms) {
		pb->retx_initial_ms = pb->retx_max_ms;
	}
	pb->nlinks = n;
	return pb;
}

void pb_adv_free(struct pb_adv *pb)
{
	free(pb);
}

/* A link that is not free, including one still sending its Link Close repeats. */
static struct link *find_any(struct pb_adv *pb, uint32_t id)
{
	for (unsigned i = 0; i < pb->nlinks; i++) {
		if (pb->links[i].state != LINK_FREE && pb->links[i].id == id) {
			return &pb->links[i];
		}
	}
	return NULL;
}

/* A link that takes input and commands: opening or open. */
static struct link *find_live(struct pb_adv *pb, uint32_t id)
{
	struct link *l = find_any(pb, id);

	return (l && l->state != LINK_CLOSING) ? l : NULL;
}

static struct link *alloc_link(struct pb_adv *pb, uint32_t id, bool provisioner)
{
	for (unsigned i = 0; i < pb->nlinks; i++) {
		struct link *l = &pb->links[i];

		if (l->state == LINK_FREE) {
			memset(l, 0, sizeof(*l));
			l->id = id;
			l->provisioner = provisioner;
			l->tx_next_tn = provisioner ? 0x00 : TN_DEVICE;
			l->rx_tn = provisioner ? TN_DEVICE : 0x00;
			l->rto = pb->retx_initial_ms;
			return l;
		}
	}
	return NULL;
}

static void send_ctl(struct pb_adv *pb, uint32_t id, uint8_t opcode, const uint8_t *param,
		     size_t len)
{
	uint8_t out[MESH_ADV_DATA_MAX];
	struct mesh_wbuf w;

	/* Bearer control messages carry Transaction Number 0 (§8.7.1, §8.7.2, §8.7.14). */
	mesh_wbuf_init(&w, out, sizeof(out));
	mesh_wbuf_be32(&w, id);
	mesh_wbuf_u8(&w, 0x00);
	mesh_wbuf_u8(&w, (uint8_t)(opcode << 2 | GPCF_CTL));
	mesh_wbuf_mem(&w, param, len);
	pb->ops.adv_send(pb->ctx, out, w.len);
}

static void send_open(struct pb_adv *pb, const struct link *l)
{
	send_ctl(pb, l->id, CTL_LINK_OPEN, l->uuid, PB_ADV_UUID_LEN);
}

static void send_close(struct pb_adv *pb, const struct link *l)
{
	send_ctl(pb, l->id, CTL_LINK_CLOSE, &l->close_reason, 1);
}

static void send_ack(struct pb_adv *pb, struct link *l, uint8_t tn, uint64_t now_ms)
{
	uint8_t out[HDR_LEN + 1];

	mesh_put_be32(out, l->id);
	out[4] = tn;
	out[5] = GPCF_ACK;
	l->rx_ack_at = now_ms;
	pb->ops.adv_send(pb->ctx, out, sizeof(out));
}

static size_t seg_len(size_t total, unsigned i)
{
	size_t off;

	if (i == 0) {
		return total < START_DATA_MAX ? total : START_DATA_MAX;
	}
	off = START_DATA_MAX + (size_t)CONT_DATA_MAX * (i - 1);
	return total - off < CONT_DATA_MAX ? total - off : CONT_DATA_MAX;
}

static size_t seg_off(unsigned i)
{
	return i == 0 ? 0 : START_DATA_MAX + (size_t)CONT_DATA_MAX * (i - 1);
}

/* Send every segment of the current transaction (first time or retransmission). */
static void send_segments(struct pb_adv *pb, const struct link *l)
{
	unsigned segn = SEGN_OF(l->tx_len);
	uint8_t out[MESH_ADV_DATA_MAX];

	for (unsigned i = 0; i <= segn; i++) {
		struct mesh_wbuf w;

		mesh_wbuf_init(&w, out, sizeof(out));
		mesh_wbuf_be32(&w, l->id);
		mesh_wbuf_u8(&w, l->tx_tn);
		if (i == 0) {
			mesh_wbuf_u8(&w, (uint8_t)(segn << 2 | GPCF_START));
			mesh_wbuf_be16(&w, (uint16_t)l->tx_len);
			mesh_wbuf_u8(&w, pb_adv_fcs(l->tx_pdu, l->tx_len));
		} else {
			mesh_wbuf_u8(&w, (uint8_t)(i << 2 | GPCF_CONT));
		}
		mesh_wbuf_mem(&w, l->tx_pdu + seg_off(i), seg_len(l->tx_len, i));
		pb->ops.adv_send(pb->ctx, out, w.len);
	}
}

static void start_closing(struct pb_adv *pb, struct link *l, uint8_t reason, uint64_t now_ms)
{
	l->state = LINK_CLOSING;
	l->tx_busy = false;
	l->txq_n = 0;
	l->close_reason = reason;
	l->close_left = PB_ADV_CLOSE_REPEAT - 1;
	l->ctl_next = now_ms + pb->close_interval_ms;
	send_close(pb, l);
}

/* Time out a link: tell the peer, then the user; the ID is gone for the user. */
static void timeout_link(struct pb_adv *pb, struct link *l, uint64_t now_ms)
{
	uint32_t id = l->id;

	start_closing(pb, l, PB_ADV_CLOSE_TIMEOUT, now_ms);
	if (pb->ops.link_closed) {
		pb->ops.link_closed(pb->ctx, id, -ETIMEDOUT);
	}
}

/* Drop a link the peer closed; its ID may be reused at once. */
static void drop_link(struct pb_adv *pb, struct link *l, int reason)
{
	uint32_t id = l->id;

	memset(l, 0, sizeof(*l));
	if (pb->ops.link_closed) {
		pb->ops.link_closed(pb->ctx, id, reason);
	}
}

static void rtt_sample(struct pb_adv *pb, struct link *l, uint64_t sample64)
{
	uint32_t sample = sample64 > pb->retx_max_ms ? pb->retx_max_ms : (uint32_t)sample64;
	uint32_t rto;

	/* RFC 6298 §2 with alpha 1/8, beta 1/4, K 4. */
	if (!l->rtt_valid) {
		l->srtt = sample;
		l->rttvar = sample / 2;
		l->rtt_valid = true;
	} else {
		uint32_t err = l->srtt > sample ? l->srtt - sample : sample - l->srtt;

		l->rttvar = (3 * l->rttvar + err) / 4;
		l->srtt = (7 * l->srtt + sample) / 8;
	}
	rto = l->srtt + 4 * l->rttvar;
	if (rto < pb->retx_min_ms) {
		rto = pb->retx_min_ms;
	}
	if (rto > pb->retx_max_ms) {
		rto = pb->retx_max_ms;
	}
	l->rto = rto;
}

/* Make pdu the current transaction and send it. */
static void tx_begin(struct pb_adv *pb, struct link *l, const uint8_t *pdu, size_t len,
		     uint64_t now_ms)
{
	memcpy(l->tx_pdu, pdu, len);
	l->tx_len = len;
	l->tx_tn = l->tx_next_tn;
	/* 0x00-0x7F wraps to 0x00, 0x80-0xFF wraps to 0x80 (§5.3.1). */
	l->tx_next_tn = (uint8_t)((l->tx_tn & TN_DEVICE) | ((l->tx_tn + 1) & 0x7f));
	l->tx_busy = true;
	l->tx_retried = false;
	l->tx_first = now_ms;
	l->tx_rto = l->rto;
	l->tx_next = now_ms + l->tx_rto;
	send_segments(pb, l);
}

/* No transaction starts before this (the Link Open guard of a provisioner link). */
static uint64_t tx_hold(const struct link *l)
{
	return l->provisioner ? l->open_sent + OPEN_GUARD_MS : 0;
}

/* Start the oldest queued PDU, if the link is free to send one. */
static void txq_start(struct pb_adv *pb, struct link *l, uint64_t now_ms)
{
	if (l->tx_busy || !l->txq_n || now_ms < tx_hold(l)) {
		return;
	}
	tx_begin(pb, l, l->txq[0], l->txq_len[0], now_ms);
	l->txq_n--;
	memmove(l->txq[0], l->txq[1], l->txq_n * sizeof(l->txq[0]));
	memmove(l->txq_len, l->txq_len + 1, l->txq_n * sizeof(l->txq_len[0]));
}

/* Our transaction was acknowledged, explicitly or by the peer's reply. */
static void tx_complete(struct pb_adv *pb, struct link *l, uint64_t now_ms)
{
	/*
	 * Karn: an ack of a retransmitted transaction gives no sample, and the
	 * backoff is not carried over either: on a lossy air the retransmission
	 * was for a loss, and a longer timeout would only slow every later
	 * transaction down and leave fewer attempts within the 30 s timeout.
	 * Only clean samples move the timeout (up for a slow peer).  The
	 * peer's reply counts as a sample too: it over-estimates the ack delay
	 * by the peer's processing time, which errs on the side of fewer
	 * spurious retransmissions.
	 */
	if (!l->tx_retried) {
		rtt_sample(pb, l, now_ms - l->tx_first);
	}
	l->tx_busy = false;
	/* Start the next queued PDU before telling the user, so order is kept. */
	txq_start(pb, l, now_ms);
	if (pb->ops.tx_done) {
		pb->ops.tx_done(pb->ctx, l->id);
	}
}

int pb_adv_open(struct pb_adv *pb, const uint8_t uuid[16], uint64_t now_ms, uint32_t *link_id)
{
	struct link *l;
	uint8_t idb[4];
	uint32_t id = 0;
	int err;
	int tries;

	if (!pb || !uuid || !link_id) {
		return -EINVAL;
	}
	/* Link IDs must be unique among our links; retry a few draws on a clash. */
	for (tries = 0; tries < 16; tries++) {
		err = mesh_rng_fill(&pb->rng, idb, sizeof(idb));
		if (err) {
			return err;
		}
		id = mesh_get_be32(idb);
		if (!find_any(pb, id)) {
			break;
		}
	}
	if (tries == 16) {
		return -EEXIST;
	}
	l = alloc_link(pb, id, true);
	if (!l) {
		return -ENOSPC;
	}
	memcpy(l->uuid, uuid, PB_ADV_UUID_LEN);
	l->state = LINK_OPENING;
	l->ctl_interval = pb->open_interval_ms;
	l->ctl_next = now_ms + l->ctl_interval;
	l->open_deadline = now_ms + pb->open_timeout_ms;
	l->open_sent = now_ms;
	*link_id = id;
	send_open(pb, l);
	return 0;
}

int pb_adv_send(struct pb_adv *pb, uint32_t link_id, const uint8_t *pdu, size_t len,
		uint64_t now_ms)
{
	struct link *l;

	if (!pb || !pdu || len == 0 || len > PB_ADV_PDU_MAX) {
		return -EINVAL;
	}
	l = find_live(pb, link_id);
	if (!l) {
		return -ENOENT;
	}
	if (l->state != LINK_OPEN) {
		return -ENOTCONN;
	}
	/*
	 * One transaction at a time (§5.3.3); later ones wait their turn in
	 * the queue, and the first one waits out the Link Open guard.  The
	 * queue is full only while one is in flight or held.
	 */
	if (l->txq_n == PB_ADV_TXQ_MAX) {
		return -EBUSY;
	}
	memcpy(l->txq[l->txq_n], pdu, len);
	l->txq_len[l->txq_n++] = len;
	txq_start(pb, l, now_ms);
	return 0;
}

int pb_adv_close(struct pb_adv *pb, uint32_t link_id, uint8_t reason, uint64_t now_ms)
{
	struct link *l;

	if (!pb || reason > PB_ADV_CLOSE_FAIL) {
		return -EINVAL;
	}
	l = find_live(pb, link_id);
	if (!l) {
		return -ENOENT;
	}
	start_closing(pb, l, reason, now_ms);
	return 0;
}

/* Link Open (§5.3.1.4.1): only a device with that UUID answers it. */
static int rx_link_open(struct pb_adv *pb, uint32_t id, struct mesh_rbuf *r, uint64_t now_ms)
{
	const uint8_t *uuid = mesh_rbuf_pull(r, PB_ADV_UUID_LEN);
	struct link *l;

	if (!uuid || !mesh_rbuf_done(r)) {
		return -EBADMSG;
	}
	if (!pb->has_uuid || memcmp(uuid, pb->uuid, PB_ADV_UUID_LEN) != 0) {
		return -ENOENT;
	}
	for (unsigned i = 0; i < pb->nlinks; i++) {
		l = &pb->links[i];
		if (l->state == LINK_OPEN && !l->provisioner) {
			if (l->id != id) {
				return -EBUSY;
			}
			/* Our Link ACK was lost: the provisioner repeats its Link Open. */
			l->open_deadline = now_ms + PB_ADV_LINK_TIMEOUT_MS;
			send_ctl(pb, id, CTL_LINK_ACK, NULL, 0);
			return 0;
		}
	}
	if (find_any(pb, id)) {
		return -EEXIST;
	}
	l = alloc_link(pb, id, false);
	if (!l) {
		return -ENOSPC;
	}
	memcpy(l->uuid, uuid, PB_ADV_UUID_LEN);
	l->state = LINK_OPEN;
	l->open_deadline = now_ms + PB_ADV_LINK_TIMEOUT_MS;
	send_ctl(pb, id, CTL_LINK_ACK, NULL, 0);
	if (pb->ops.link_opened) {
		pb->ops.link_opened(pb->ctx, id);
	}
	return 0;
}

static int rx_ctl(struct pb_adv *pb, uint32_t id, uint8_t opcode, struct mesh_rbuf *r,
		  uint64_t now_ms)
{
	struct link *l;
	uint8_t reason;

	switch (opcode) {
	case CTL_LINK_OPEN:
		return rx_link_open(pb, id, r, now_ms);
	case CTL_LINK_ACK:
		if (!mesh_rbuf_done(r)) {
			return -EBADMSG;
		}
		l = find_live(pb, id);
		if (!l || !l->provisioner) {
			return -ENOENT;
		}
		if (l->state == LINK_OPENING) {
			/*
			 * The Link ACK of a Link Open sent once is the link's
			 * first round-trip sample, so that the first transaction
			 * (Invite) is not retransmitted only after the initial
			 * timeout when it or its ack is lost.
			 */
			if (!l->open_repeated) {
				rtt_sample(pb, l, now_ms - l->open_sent);
			}
			l->state = LINK_OPEN;
			if (pb->ops.link_opened) {
				pb->ops.link_opened(pb->ctx, id);
			}
		}
		return 0;
	case CTL_LINK_CLOSE:
		reason = mesh_rbuf_u8(r);
		if (!mesh_rbuf_done(r) || reason > PB_ADV_CLOSE_FAIL) {
			return -EBADMSG; /* reasons 0x03-0xFF are RFU */
		}
		l = find_live(pb, id);
		if (!l) {
			return -ENOENT;
		}
		drop_link(pb, l, reason);
		return 0;
	default:
		return -EBADMSG;
	}
}

static void rx_reset(struct link *l)
{
	l->rx_have_start = false;
	l->rx_mask = 0;
	memset(l->rx_seg_len, 0, sizeof(l->rx_seg_len));
}

/*
 * Check one segment of transaction l->rx_tn against what is known of the
 * transaction so far, without changing anything.  Returns 1 for a segment
 * already held (duplicate), 0 for a new one, -EBADMSG when inconsistent.
 */
static int seg_check(const struct link *l, bool start, unsigned idx, uint16_t total, uint8_t fcs,
		     size_t dlen)
{
	if (start) {
		if (l->rx_have_start) {
			return (total == l->rx_total && fcs == l->rx_fcs) ? 1 : -EBADMSG;
		}
		return 0;
	}
	if (l->rx_have_start && (idx > SEGN_OF(l->rx_total) || dlen != seg_len(l->rx_total, idx))) {
		return -EBADMSG;
	}
	if (l->rx_mask & (1u << idx)) {
		return dlen == l->rx_seg_len[idx] ? 1 : -EBADMSG;
	}
	return 0;
}

static bool rx_complete(const struct link *l)
{
	return l->rx_have_start && l->rx_mask == (uint8_t)((2u << SEGN_OF(l->rx_total)) - 1);
}

/* Transaction Start / Continuation (§5.3.1.1, §5.3.1.3) of the peer. */
static int rx_segment(struct pb_adv *pb, struct link *l, uint8_t tn, uint8_t ctl,
		      struct mesh_rbuf *r, uint64_t now_ms)
{
	bool start = (ctl & 3) == GPCF_START;
	unsigned idx = start ? 0 : ctl >> 2;
	uint16_t total = 0;
	uint8_t fcs = 0;
	const uint8_t *data;
	size_t dlen;
	bool first;
	int dup;

	if (start) {
		unsigned segn = ctl >> 2;

		total = mesh_rbuf_be16(r);
		fcs = mesh_rbuf_u8(r);
		if (!mesh_rbuf_ok(r) || total == 0 || total > PB_ADV_PDU_MAX ||
		    segn != SEGN_OF(total) || r->len != seg_len(total, 0)) {
			return -EBADMSG;
		}
	} else if (idx == 0 || idx >= SEG_MAX || r->len == 0 || r->len > CONT_DATA_MAX ||
		   seg_off(idx) + r->len > PB_ADV_PDU_MAX) {
		return -EBADMSG;
	}
	dlen = r->len;
	data = r->p;

	/* The peer did not get our ack of its last transaction: ack it again. */
	if (l->rx_done_valid && tn == l->rx_done_tn) {
		if (now_ms >= l->rx_ack_at + REACK_HOLDOFF_MS) {
			send_ack(pb, l, tn, now_ms);
		}
		return 0;
	}
	if (tn != l->rx_tn) {
		return -EBADMSG;
	}
	dup = seg_check(l, start, idx, total, fcs, dlen);
	if (dup < 0) {
		return dup;
	}
	first = !l->rx_have_start && l->rx_mask == 0;
	if (dup == 0) {
		if (start) {
			l->rx_have_start = true;
			l->rx_total = total;
			l->rx_fcs = fcs;
			/*
			 * Continuations that came before the Start and do not fit
			 * the length it announces cannot be part of it: forget them.
			 */
			for (unsigned i = 1; i < SEG_MAX; i++) {
				if (i > SEGN_OF(total) || l->rx_seg_len[i] != seg_len(total, i)) {
					l->rx_mask &= (uint8_t) ~(1u << i);
					l->rx_seg_len[i] = 0;
				}
			}
		}
		l->rx_mask |= (uint8_t)(1u << idx);
		l->rx_seg_len[idx] = (uint8_t)dlen;
		memcpy(l->rx_buf + seg_off(idx), data, dlen);
	}

	/*
	 * The peer's next transaction acknowledges ours (pb_adv.h), but only a
	 * transaction already in flight when its first segment arrived: one
	 * started since (from the queue) was not yet seen by the peer.
	 */
	if (first && l->tx_busy) {
		tx_complete(pb, l, now_ms);
		if (l->state != LINK_OPEN) {
			return 0;
		}
	}
	if (!rx_complete(l)) {
		return 0;
	}
	if (pb_adv_fcs(l->rx_buf, l->rx_total) != l->rx_fcs) {
		/* §5.3.3: a bad FCS discards the transaction, unacknowledged. */
		rx_reset(l);
		return -EBADMSG;
	}
	l->rx_done_valid = true;
	l->rx_done_tn = tn;
	l->rx_tn = (uint8_t)((tn & TN_DEVICE) | ((tn + 1) & 0x7f));
	rx_reset(l);
	send_ack(pb, l, tn, now_ms);
	if (pb->ops.pdu_rx) {
		pb->ops.pdu_rx(pb->ctx, l->id, l->rx_buf, l->rx_total);
	}
	return 0;
}

/*
 * A device link that hears nothing from its provisioner for 60 s (for
 * instance because every copy of the final Link Close was lost) is closed,
 * so the device can accept the next Link Open.  Only the device side keeps
 * this timer: a provisioner's sessions have their own protocol timeout.
 */
static void touch(struct link *l, uint64_t now_ms)
{
	if (!l->provisioner && l->state == LINK_OPEN) {
		l->open_deadline = now_ms + PB_ADV_LINK_TIMEOUT_MS;
	}
}

int pb_adv_rx(struct pb_adv *pb, const uint8_t *data, size_t len, uint64_t now_ms)
{
	struct mesh_rbuf r;
	struct link *l;
	uint32_t id;
	uint8_t tn, ctl;
	bool peer_tn;
	int err;

	if (!pb || (!data && len)) {
		return -EINVAL;
	}
	if (len > MESH_ADV_DATA_MAX) {
		return -EBADMSG;
	}
	mesh_rbuf_init(&r, data, len);
	id = mesh_rbuf_be32(&r);
	tn = mesh_rbuf_u8(&r);
	ctl = mesh_rbuf_u8(&r);
	if (!mesh_rbuf_ok(&r)) {
		return -EBADMSG;
	}
	if ((ctl & 3) == GPCF_CTL) {
		return rx_ctl(pb, id, ctl >> 2, &r, now_ms);
	}
	l = find_live(pb, id);
	if (!l) {
		return -ENOENT;
	}
	if (l->state != LINK_OPEN) {
		return -EBADMSG;
	}
	/* Transactions of the peer carry its range of numbers; acks carry ours. */
	peer_tn = ((tn & TN_DEVICE) != 0) == l->provisioner;
	if ((ctl & 3) == GPCF_ACK) {
		if (ctl != GPCF_ACK || !mesh_rbuf_done(&r) || peer_tn) {
			return -EBADMSG;
		}
		touch(l, now_ms);
		if (l->tx_busy && tn == l->tx_tn) {
			tx_complete(pb, l, now_ms);
		}
		return 0;
	}
	if (!peer_tn) {
		return -EBADMSG;
	}
	err = rx_segment(pb, l, tn, ctl, &r, now_ms);
	if (err == 0) {
		touch(l, now_ms);
	}
	return err;
}

uint64_t pb_adv_next_deadline(const struct pb_adv *pb)
{
	uint64_t t = UINT64_MAX;

	if (!pb) {
		return t;
	}
	for (unsigned i = 0; i < pb->nlinks; i++) {
		const struct link *l = &pb->links[i];
		uint64_t d = UINT64_MAX;

		switch (l->state) {
		case LINK_FREE:
			break;
		case LINK_OPENING:
			d = l->ctl_next < l->open_deadline ? l->ctl_next : l->open_deadline;
			break;
		case LINK_OPEN:
			if (l->tx_busy) {
				uint64_t to = l->tx_first + PB_ADV_TRANS_TIMEOUT_MS;

				d = l->tx_next < to ? l->tx_next : to;
			} else if (l->txq_n) {
				d = tx_hold(l); /* a held first transaction */
			}
			if (!l->provisioner && l->open_deadline < d) {
				d = l->open_deadline;
			}
			break;
		case LINK_CLOSING:
			d = l->ctl_next;
			break;
		}
		if (d < t) {
			t = d;
		}
	}
	return t;
}

static void tick_link(struct pb_adv *pb, struct link *l, uint64_t now_ms)
{
	switch (l->state) {
	case LINK_FREE:
		break;
	case LINK_OPENING:
		if (now_ms >= l->open_deadline) {
			timeout_link(pb, l, now_ms);
		} else if (now_ms >= l->ctl_next) {
			l->open_sent = now_ms;
			l->open_repeated = true;
			send_open(pb, l);
			l->ctl_interval = l->ctl_interval * 2 > pb->open_interval_max_ms
					      ? pb->open_interval_max_ms
					      : l->ctl_interval * 2;
			l->ctl_next = now_ms + l->ctl_interval;
		}
		break;
	case LINK_OPEN:
		if (!l->provisioner && now_ms >= l->open_deadline) {
			timeout_link(pb, l, now_ms);
			break;
		}
		if (!l->tx_busy) {
			txq_start(pb, l, now_ms);
			break;
		}
		if (now_ms >= l->tx_first + PB_ADV_TRANS_TIMEOUT_MS) {
			timeout_link(pb, l, now_ms);
		} else if (now_ms >= l->tx_next) {
			send_segments(pb, l);
			l->tx_retried = true;
			l->tx_rto =
			    l->tx_rto * 2 > pb->retx_max_ms ? pb->retx_max_ms : l->tx_rto * 2;
			l->tx_next = now_ms + l->tx_rto;
		}
		break;
	case LINK_CLOSING:
		if (now_ms >= l->ctl_next) {
			send_close(pb, l);
			if (--l->close_left == 0) {
				memset(l, 0, sizeof(*l));
			} else {
				l->ctl_next = now_ms + pb->close_interval_ms;
			}
		}
		break;
	}
}

void pb_adv_tick(struct pb_adv *pb, uint64_t now_ms)
{
	if (!pb) {
		return;
	}
	for (unsigned i = 0; i < pb->nlinks; i++) {
		tick_link(pb, &pb->links[i], now_ms);
	}
}
