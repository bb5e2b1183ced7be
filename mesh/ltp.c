#include "mesh/ltp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/buf.h"
#include "mesh/rpl.h"

#define NEVER UINT64_MAX
#define SEQ_ZERO_MASK 0x1fff
/* A segment's SEQ may exceed SeqAuth by at most this (§3.5.3.1: SeqZero is 13 bits). */
#define SEQ_AUTH_SPAN 8191

/* ---- Codec ---------------------------------------------------------- */

static size_t seg_size(bool ctl)
{
	return ctl ? MESH_LTP_SEG_CTL : MESH_LTP_SEG_ACCESS;
}

/* Length rules of §3.5.2 shared by decode and encode. */
static bool pdu_valid(const struct mesh_ltp_pdu *p)
{
	if (p->opcode > 0x7f || p->aid > 0x3f || p->seq_zero > SEQ_ZERO_MASK || p->seg_o > 31 ||
	    p->seg_n > 31) {
		return false;
	}
	if (p->ctl && (p->akf || p->aid || p->szmic)) {
		return false;
	}
	if (!p->ctl && p->opcode) {
		return false;
	}
	if (!p->seg) {
		if (p->szmic || p->seq_zero || p->seg_o || p->seg_n) {
			return false;
		}
		if (p->ctl) {
			return p->opcode == MESH_LTP_OP_ACK ? p->len == MESH_LTP_ACK_LEN
							    : p->len <= MESH_LTP_UNSEG_CTL_MAX;
		}
		return p->len >= MESH_LTP_UNSEG_ACCESS_MIN && p->len <= MESH_LTP_UNSEG_ACCESS_MAX;
	}
	/* A Segment Acknowledgment is never segmented (§3.5.2.3.1). */
	if (p->ctl && p->opcode == MESH_LTP_OP_ACK) {
		return false;
	}
	if (p->seg_o > p->seg_n || p->len == 0 || p->len > seg_size(p->ctl)) {
		return false;
	}
	/* Every segment but the last is full (§3.5.2.2, §3.5.2.4). */
	return p->seg_o == p->seg_n || p->len == seg_size(p->ctl);
}

int mesh_ltp_pdu_decode(bool ctl, const uint8_t *pdu, size_t len, struct mesh_ltp_pdu *out)
{
	struct mesh_ltp_pdu p = {.ctl = ctl};
	struct mesh_rbuf b;
	uint8_t h;

	if (!pdu || !out) {
		return -EINVAL;
	}
	mesh_rbuf_init(&b, pdu, len);
	h = mesh_rbuf_u8(&b);
	p.seg = h & 0x80;
	if (ctl) {
		p.opcode = h & 0x7f;
	} else {
		p.akf = h & 0x40;
		p.aid = h & 0x3f;
	}
	if (p.seg) {
		uint32_t f = mesh_rbuf_be24(&b);

		/* For control the top bit is RFU and ignored. */
		p.szmic = !ctl && (f & 0x800000);
		p.seq_zero = (f >> 10) & SEQ_ZERO_MASK;
		p.seg_o = (f >> 5) & 0x1f;
		p.seg_n = f & 0x1f;
	}
	if (!mesh_rbuf_ok(&b)) {
		return -EBADMSG;
	}
	p.len = b.len;
	p.payload = b.len ? b.p : NULL;
	if (!pdu_valid(&p)) {
		return -EBADMSG;
	}
	*out = p;
	return 0;
}

int mesh_ltp_pdu_encode(const struct mesh_ltp_pdu *p, uint8_t *out, size_t cap, size_t *out_len)
{
	struct mesh_wbuf w;
	uint8_t h;

	if (!p || !out || !out_len || (p->len && !p->payload) || !pdu_valid(p)) {
		return -EINVAL;
	}
	mesh_wbuf_init(&w, out, cap);
	h = p->ctl ? p->opcode : (uint8_t)((p->akf ? 0x40 : 0) | p->aid);
	mesh_wbuf_u8(&w, (uint8_t)(h | (p->seg ? 0x80 : 0)));
	if (p->seg) {
		mesh_wbuf_be24(&w, (p->szmic ? 0x800000u : 0) | ((uint32_t)p->seq_zero << 10) |
				       ((uint32_t)p->seg_o << 5) | p->seg_n);
	}
	mesh_wbuf_mem(&w, p->payload, p->len);
	if (w.err) {
		return -ENOSPC;
	}
	*out_len = w.len;
	return 0;
}

int mesh_ltp_ack_decode(const uint8_t *params, size_t len, struct mesh_ltp_ack *out)
{
	struct mesh_rbuf b;
	uint16_t f;
	uint32_t block;

	if (!params || !out) {
		return -EINVAL;
	}
	mesh_rbuf_init(&b, params, len);
	f = mesh_rbuf_be16(&b);
	block = mesh_rbuf_be32(&b);
	if (!mesh_rbuf_done(&b)) {
		return -EBADMSG;
	}
	out->obo = f & 0x8000;
	out->seq_zero = (f >> 2) & SEQ_ZERO_MASK;
	out->block_ack = block;
	return 0;
}

int mesh_ltp_ack_encode(const struct mesh_ltp_ack *ack, uint8_t out[MESH_LTP_ACK_LEN])
{
	if (!ack || !out || ack->seq_zero > SEQ_ZERO_MASK) {
		return -EINVAL;
	}
	mesh_put_be16(out, (uint16_t)((ack->obo ? 0x8000 : 0) | (ack->seq_zero << 2)));
	mesh_put_be32(out + 2, ack->block_ack);
	return 0;
}

/* ---- State ---------------------------------------------------------- */

enum rx_state {
	RX_FREE,
	RX_ACTIVE, /* collecting segments */
	RX_DONE,   /* delivered; kept to re-acknowledge late segments */
};

/* One reassembly, one per source element (§3.5.3.4). */
struct rx_slot {
	enum rx_state state;
	uint16_t src;
	uint16_t dst;
	uint16_t net_idx;
	uint64_t seq_auth; /* IV Index << 24 | SEQ of segment 0 */
	uint64_t pdu_max;  /* the same for the newest Network PDU taken, for the RPL */
	uint8_t ttl;       /* of the first segment seen: TTL 0 is answered with TTL 0 */
	bool ctl;
	uint8_t opcode;
	bool akf;
	uint8_t aid;
	bool szmic;
	uint8_t seg_n;
	uint32_t mask; /* segments received */
	size_t last_len;
	uint64_t ack_at;     /* acknowledgment timer, NEVER when stopped */
	uint64_t discard_at; /* incomplete timer, or end of the DONE record */
	uint8_t acks_left;   /* DONE: acknowledgment retransmissions still due */
	uint64_t touched;    /* for evicting the oldest DONE record */
	uint8_t buf[MESH_LTP_ACCESS_MAX];
};

/* One segmented send (§3.5.3.3). */
struct tx_slot {
	bool used;
	uint32_t handle;
	uint16_t src;
	uint16_t dst;
	uint16_t net_idx;
	uint8_t ttl;
	bool ctl;
	uint8_t opcode;
	bool akf;
	uint8_t aid;
	bool szmic;
	uint32_t seq_auth; /* 24-bit SEQ of segment 0 */
	bool seq_auth_used;
	uint8_t seg_n;
	uint32_t acked;
	bool in_pass;     /* sending a round of segments */
	uint8_t next_seg; /* next segment of the pass to consider */
	uint64_t next_at; /* in a pass: when the next segment goes */
	uint64_t retrans_at;
	uint8_t retrans_left;
	uint8_t noprog_left;
	size_t len;
	uint8_t data[MESH_LTP_ACCESS_MAX];
};

struct mesh_ltp {
	struct mesh_ltp_config cfg;
	struct mesh_ltp_ops ops;
	struct mesh_rpl *rpl; /* borrowed */
	uint32_t next_handle;
	uint64_t touch_clock;
	struct tx_slot *tx;
	struct rx_slot *rx;
};

void mesh_ltp_config_default(struct mesh_ltp_config *cfg)
{
	if (!cfg) {
		return;
	}
	*cfg = (struct mesh_ltp_config){
	    .seg_interval_ms = 60,
	    .uni_retrans = 2,
	    .uni_retrans_noprog = 2,
	    .uni_retrans_ms = 200,
	    .uni_retrans_inc_ms = 50,
	    .mc_retrans = 2,
	    .mc_retrans_ms = 225,
	    .seg_threshold = 3,
	    .ack_delay_inc = 1,
	    .rx_seg_interval_ms = 60,
	    .ack_retrans = 0,
	    .discard_ms = 10000,
	    .default_ttl = 5,
	    .tx_slots = 4,
	    .rx_slots = 8,
	};
}

struct mesh_ltp *mesh_ltp_new(const struct mesh_ltp_config *cfg, const struct mesh_ltp_ops *ops,
			      struct mesh_rpl *rpl)
{
	struct mesh_ltp *ltp;

	if (!cfg || !ops || !rpl || !ops->net_send || !ops->seq_alloc || !ops->recv ||
	    !cfg->tx_slots || !cfg->rx_slots || cfg->default_ttl > MESH_TTL_MAX ||
	    cfg->default_ttl == 1) {
		return NULL;
	}
	ltp = calloc(1, sizeof(*ltp));
	if (!ltp) {
		return NULL;
	}
	ltp->tx = calloc(cfg->tx_slots, sizeof(*ltp->tx));
	ltp->rx = calloc(cfg->rx_slots, sizeof(*ltp->rx));
	if (!ltp->tx || !ltp->rx) {
		mesh_ltp_free(ltp);
		return NULL;
	}
	ltp->cfg = *cfg;
	ltp->ops = *ops;
	ltp->rpl = rpl;
	ltp->next_handle = 1;
	return ltp;
}

void mesh_ltp_free(struct mesh_ltp *ltp)
{
	if (!ltp) {
		return;
	}
	free(ltp->tx);
	free(ltp->rx);
	free(ltp);
}

static uint8_t resolve_ttl(const struct mesh_ltp *ltp, uint8_t ttl)
{
	return ttl == MESH_TTL_DEFAULT ? ltp->cfg.default_ttl : ttl;
}

/* ---- SAR transmitter (§3.5.3.3) -------------------------------------- */

static uint32_t all_segs(uint8_t seg_n)
{
	return seg_n == 31 ? UINT32_MAX : (1u << (seg_n + 1)) - 1;
}

static bool tx_unicast(const struct tx_slot *t)
{
	return mesh_addr_is_unicast(t->dst);
}

static uint32_t tx_retrans_ms(const struct mesh_ltp *ltp, const struct tx_slot *t)
{
	if (!tx_unicast(t)) {
		return ltp->cfg.mc_retrans_ms;
	}
	/* The unicast interval grows with the hops the acknowledgment must cross. */
	return ltp->cfg.uni_retrans_ms +
	       (t->ttl > 0 ? ltp->cfg.uni_retrans_inc_ms * (t->ttl - 1u) : 0);
}

/*
 * Send segment i.  The first transmission of segment 0 carries SeqAuth
 * itself; everything else gets a fresh SEQ (§3.5.3.3), which must stay within
 * 8191 of SeqAuth or the receiver could not recover SeqAuth from SeqZero.
 * Returns -ETIMEDOUT when that span is exhausted.
 */
static int tx_send_seg(struct mesh_ltp *ltp, struct tx_slot *t, uint8_t i)
{
	size_t sz = seg_size(t->ctl), off = (size_t)i * sz;
	struct mesh_ltp_pdu p = {
	    .ctl = t->ctl,
	    .seg = true,
	    .opcode = t->opcode,
	    .akf = t->akf,
	    .aid = t->aid,
	    .szmic = t->szmic,
	    .seq_zero = t->seq_auth & SEQ_ZERO_MASK,
	    .seg_o = i,
	    .seg_n = t->seg_n,
	    .payload = t->data + off,
	    .len = t->len - off < sz ? t->len - off : sz,
	};
	uint8_t pdu[4 + MESH_LTP_SEG_ACCESS];
	struct mesh_net_tx tx = {.net_idx = t->net_idx,
				 .ctl = t->ctl,
				 .ttl = t->ttl,
				 .src = t->src,
				 .dst = t->dst,
				 .tpdu = pdu};
	uint32_t seq;
	int err;

	if (i == 0 && !t->seq_auth_used) {
		seq = t->seq_auth;
		t->seq_auth_used = true;
	} else {
		err = ltp->ops.seq_alloc(ltp->ops.ctx, t->src, &seq);
		if (err) {
			return err;
		}
		if (seq < t->seq_auth || seq - t->seq_auth > SEQ_AUTH_SPAN) {
			return -ETIMEDOUT;
		}
	}
	err = mesh_ltp_pdu_encode(&p, pdu, sizeof(pdu), &tx.tpdu_len);
	if (err) {
		return err;
	}
	tx.seq = seq;
	/* A lost PDU is what retransmission is for; a net_send error is not fatal. */
	(void)ltp->ops.net_send(ltp->ops.ctx, &tx);
	return 0;
}

/* Next segment at or after i still to be sent in this pass, or -1. */
static int tx_next_pending(const struct tx_slot *t, unsigned i)
{
	for (; i <= t->seg_n; i++) {
		if (!(t->acked & (1u << i))) {
			return (int)i;
		}
	}
	return -1;
}

static void tx_start_pass(struct tx_slot *t, uint64_t now)
{
	t->in_pass = true;
	t->next_seg = 0;
	t->next_at = now;
	t->retrans_at = NEVER;
}

/* Free the slot first so tx_done may start a new send to the same address. */
static void tx_finish(struct mesh_ltp *ltp, struct tx_slot *t, int status)
{
	uint32_t handle = t->handle;

	memset(t, 0, sizeof(*t));
	if (ltp->ops.tx_done) {
		ltp->ops.tx_done(ltp->ops.ctx, handle, status);
	}
}

static uint64_t tx_deadline(const struct tx_slot *t)
{
	if (!t->used) {
		return NEVER;
	}
	return t->in_pass ? t->next_at : t->retrans_at;
}

/* One step of a send whose deadline has come. */
static void tx_step(struct mesh_ltp *ltp, struct tx_slot *t, uint64_t now)
{
	int i, err;

	if (t->in_pass) {
		i = tx_next_pending(t, t->next_seg);
		if (i >= 0) {
			err = tx_send_seg(ltp, t, (uint8_t)i);
			if (err) {
				tx_finish(ltp, t, -ETIMEDOUT);
				return;
			}
			t->next_seg = (uint8_t)(i + 1);
			i = tx_next_pending(t, t->next_seg);
		}
		if (i >= 0) {
			t->next_at = now + ltp->cfg.seg_interval_ms;
			return;
		}
		/* End of a pass: wait for acknowledgments or the next pass. */
		t->in_pass = false;
		t->retrans_at = now + tx_retrans_ms(ltp, t);
		return;
	}
	if (!tx_unicast(t)) {
		/* Nobody acknowledges a multicast: it is done after its last pass. */
		if (t->retrans_left == 0) {
			tx_finish(ltp, t, 0);
			return;
		}
		t->retrans_left--;
		tx_start_pass(t, now);
		return;
	}
	if (t->retrans_left == 0 || t->noprog_left == 0) {
		tx_finish(ltp, t, -ETIMEDOUT);
		return;
	}
	t->retrans_left--;
	t->noprog_left--;
	tx_start_pass(t, now);
}

static bool send_args_valid(const struct mesh_utp_msg *m)
{
	size_t mic = m->szmic ? 8 : 4;

	if (!mesh_addr_is_unicast(m->src) || m->dst == MESH_ADDR_UNASSIGNED ||
	    m->seq > MESH_SEQ_MAX || (m->ttl > MESH_TTL_MAX && m->ttl != MESH_TTL_DEFAULT) ||
	    m->ttl == 1 || (m->len && !m->data)) {
		return false;
	}
	if (m->ctl) {
		return m->opcode != MESH_LTP_OP_ACK && m->opcode <= 0x7f && !m->szmic && !m->akf &&
		       !m->aid && m->len <= MESH_LTP_CTL_MAX && (m->len > 0 || !m->segmented);
	}
	return m->aid <= 0x3f && (m->akf || !m->aid) && !m->opcode && m->len > mic &&
	       m->len <= MESH_LTP_ACCESS_MAX;
}

static int send_unsegmented(struct mesh_ltp *ltp, const struct mesh_utp_msg *m)
{
	struct mesh_ltp_pdu p = {
	    .ctl = m->ctl,
	    .opcode = m->opcode,
	    .akf = m->akf,
	    .aid = m->aid,
	    .payload = m->data,
	    .len = m->len,
	};
	uint8_t pdu[1 + MESH_LTP_UNSEG_ACCESS_MAX];
	struct mesh_net_tx tx = {.net_idx = m->net_idx,
				 .ctl = m->ctl,
				 .ttl = resolve_ttl(ltp, m->ttl),
				 .seq = m->seq,
				 .src = m->src,
				 .dst = m->dst,
				 .tpdu = pdu};
	int err = mesh_ltp_pdu_encode(&p, pdu, sizeof(pdu), &tx.tpdu_len);

	if (err) {
		return err;
	}
	return ltp->ops.net_send(ltp->ops.ctx, &tx);
}

int mesh_ltp_send(struct mesh_ltp *ltp, const struct mesh_utp_msg *msg, uint64_t now_ms,
		  uint32_t *handle)
{
	struct tx_slot *t = NULL;
	bool fits;
	size_t i;
	int err;

	if (!ltp || !msg || !handle || !send_args_valid(msg)) {
		return -EINVAL;
	}
	fits = msg->ctl ? msg->len <= MESH_LTP_UNSEG_CTL_MAX
			: (msg->len <= MESH_LTP_UNSEG_ACCESS_MAX && !msg->szmic);
	if (fits && !msg->segmented) {
		err = send_unsegmented(ltp, msg);
		if (!err) {
			*handle = 0;
		}
		return err;
	}
	for (i = 0; i < ltp->cfg.tx_slots; i++) {
		if (ltp->tx[i].used && ltp->tx[i].dst == msg->dst) {
			return -EBUSY;
		}
		if (!ltp->tx[i].used && !t) {
			t = &ltp->tx[i];
		}
	}
	if (!t) {
		return -ENOSPC;
	}
	*t = (struct tx_slot){
	    .used = true,
	    .handle = ltp->next_handle,
	    .src = msg->src,
	    .dst = msg->dst,
	    .net_idx = msg->net_idx,
	    .ttl = resolve_ttl(ltp, msg->ttl),
	    .ctl = msg->ctl,
	    .opcode = msg->opcode,
	    .akf = msg->akf,
	    .aid = msg->aid,
	    .szmic = msg->szmic,
	    .seq_auth = msg->seq,
	    .seg_n = (uint8_t)((msg->len - 1) / seg_size(msg->ctl)),
	    .retrans_left =
		mesh_addr_is_unicast(msg->dst) ? ltp->cfg.uni_retrans : ltp->cfg.mc_retrans,
	    .noprog_left = ltp->cfg.uni_retrans_noprog,
	    .len = msg->len,
	};
	memcpy(t->data, msg->data, msg->len);
	/*
	 * Segment 0 goes now, so SeqAuth is on the air before any newer SEQ.
	 * It uses SeqAuth itself, so no SEQ allocation can fail here.
	 */
	tx_start_pass(t, now_ms);
	tx_step(ltp, t, now_ms);
	*handle = t->handle;
	if (++ltp->next_handle == 0) {
		ltp->next_handle = 1;
	}
	return 0;
}

int mesh_ltp_tx_check(const struct mesh_ltp *ltp, uint16_t dst)
{
	bool free_slot = false;
	size_t i;

	for (i = 0; i < ltp->cfg.tx_slots; i++) {
		if (ltp->tx[i].used && ltp->tx[i].dst == dst) {
			return -EBUSY;
		}
		free_slot |= !ltp->tx[i].used;
	}
	return free_slot ? 0 : -ENOSPC;
}

int mesh_ltp_cancel(struct mesh_ltp *ltp, uint32_t handle)
{
	size_t i;

	if (!ltp || handle == 0) {
		return -EINVAL;
	}
	for (i = 0; i < ltp->cfg.tx_slots; i++) {
		if (ltp->tx[i].used && ltp->tx[i].handle == handle) {
			memset(&ltp->tx[i], 0, sizeof(ltp->tx[i]));
			return 0;
		}
	}
	return -ENOENT;
}

/* A Segment Acknowledgment addressed to one of our sends (§3.5.3.3). */
static int rx_ack(struct mesh_ltp *ltp, const struct mesh_net_rx *rx, const struct mesh_ltp_pdu *p,
		  uint64_t now)
{
	struct mesh_ltp_ack ack;
	struct tx_slot *t = NULL;
	uint32_t fresh;
	size_t i;
	int err = mesh_ltp_ack_decode(p->payload, p->len, &ack);

	if (err) {
		return err;
	}
	/*
	 * Acknowledgments are checked against the RPL but never recorded in
	 * it: they are idempotent, and recording their SEQ could make a
	 * segmented message the peer started earlier look like a replay.
	 */
	err = mesh_rpl_check(ltp->rpl, rx->src, rx->iv_index, rx->seq);
	if (err) {
		return err == -EINVAL ? -EBADMSG : err;
	}
	for (i = 0; i < ltp->cfg.tx_slots; i++) {
		struct tx_slot *c = &ltp->tx[i];

		if (c->used && tx_unicast(c) && c->dst == rx->src && c->src == rx->dst &&
		    (c->seq_auth & SEQ_ZERO_MASK) == ack.seq_zero) {
			t = c;
			break;
		}
	}
	if (!t) {
		return -EALREADY; /* an old SeqZero, or a send already finished */
	}
	if (ack.block_ack & ~all_segs(t->seg_n)) {
		return -EBADMSG;
	}
	if (ack.block_ack == 0) {
		/* BlockAck 0: the receiver cannot take the message (§3.5.3.4). */
		tx_finish(ltp, t, -ECANCELED);
		return 0;
	}
	fresh = ack.block_ack & ~t->acked;
	if (!fresh) {
		return 0;
	}
	t->acked |= fresh;
	t->noprog_left = ltp->cfg.uni_retrans_noprog;
	if (t->acked == all_segs(t->seg_n)) {
		tx_finish(ltp, t, 0);
		return 0;
	}
	/* Progress while waiting: resend what is missing now, not a retransmission. */
	if (!t->in_pass) {
		tx_start_pass(t, now);
	}
	return 0;
}

/* ---- SAR receiver (§3.5.3.4) ----------------------------------------- */

static void send_ack(struct mesh_ltp *ltp, const struct rx_slot *s, uint32_t block)
{
	struct mesh_ltp_ack ack = {.seq_zero = (uint16_t)(s->seq_auth & SEQ_ZERO_MASK),
				   .block_ack = block};
	uint8_t pdu[1 + MESH_LTP_ACK_LEN] = {MESH_LTP_OP_ACK};
	/* Segments that arrived with TTL 0 came from a neighbour: answer with TTL 0. */
	struct mesh_net_tx tx = {.net_idx = s->net_idx,
				 .ctl = true,
				 .ttl = s->ttl == 0        ? 0
					: ltp->ops.ack_ttl ? ltp->ops.ack_ttl(ltp->ops.ctx, s->src)
							   : ltp->cfg.default_ttl,
				 .src = s->dst,
				 .dst = s->src,
				 .tpdu = pdu,
				 .tpdu_len = sizeof(pdu)};

	if (!mesh_addr_is_unicast(s->dst) || mesh_ltp_ack_encode(&ack, pdu + 1) ||
	    ltp->ops.seq_alloc(ltp->ops.ctx, s->dst, &tx.seq)) {
		return;
	}
	(void)ltp->ops.net_send(ltp->ops.ctx, &tx);
}

static struct rx_slot *rx_find(struct mesh_ltp *ltp, uint16_t src)
{
	size_t i;

	for (i = 0; i < ltp->cfg.rx_slots; i++) {
		if (ltp->rx[i].state != RX_FREE && ltp->rx[i].src == src) {
			return &ltp->rx[i];
		}
	}
	return NULL;
}

/* A free slot, else the least recently used completed one, else NULL. */
static struct rx_slot *rx_alloc(struct mesh_ltp *ltp)
{
	struct rx_slot *best = NULL;
	size_t i;

	for (i = 0; i < ltp->cfg.rx_slots; i++) {
		struct rx_slot *s = &ltp->rx[i];

		if (s->state == RX_FREE) {
			return s;
		}
		if (s->state == RX_DONE && (!best || s->touched < best->touched)) {
			best = s;
		}
	}
	return best;
}

static uint64_t ack_delay(const struct mesh_ltp *ltp, uint8_t seg_n)
{
	/* min(SegN + 0.5, AckDelayIncrement + 1.5) segment reception intervals, in halves. */
	uint64_t halves = 2u * seg_n + 1, cap = 2u * ltp->cfg.ack_delay_inc + 3;

	return (halves < cap ? halves : cap) * ltp->cfg.rx_seg_interval_ms / 2;
}

static void rx_deliver(struct mesh_ltp *ltp, struct rx_slot *s)
{
	struct mesh_utp_msg m = {
	    .net_idx = s->net_idx,
	    .iv_index = (uint32_t)(s->seq_auth >> 24),
	    .src = s->src,
	    .dst = s->dst,
	    .seq = (uint32_t)(s->seq_auth & MESH_SEQ_MAX),
	    .ttl = s->ttl,
	    .ctl = s->ctl,
	    .opcode = s->opcode,
	    .akf = s->akf,
	    .aid = s->aid,
	    .szmic = s->szmic,
	    .segmented = true,
	    .data = s->buf,
	    .len = (size_t)s->seg_n * seg_size(s->ctl) + s->last_len,
	};

	if (ltp->ops.recv(ltp->ops.ctx, &m) == 0) {
		/* Room was checked just before delivery, so this cannot fail. */
		(void)mesh_rpl_update_seg(ltp->rpl, m.src, (uint32_t)(s->pdu_max >> 24),
					  (uint32_t)(s->pdu_max & MESH_SEQ_MAX), s->seq_auth);
	}
}

/* Does segment p belong to the message held in s?  (§3.5.3.4 consistency) */
static bool rx_consistent(const struct rx_slot *s, const struct mesh_net_rx *rx,
			  const struct mesh_ltp_pdu *p)
{
	return s->dst == rx->dst && s->net_idx == rx->net_idx && s->ctl == p->ctl &&
	       s->seg_n == p->seg_n && s->szmic == p->szmic && s->opcode == p->opcode &&
	       s->akf == p->akf && s->aid == p->aid &&
	       (p->seg_o != p->seg_n || !(s->mask & (1u << p->seg_n)) || s->last_len == p->len);
}

static int rx_segment(struct mesh_ltp *ltp, const struct mesh_net_rx *rx,
		      const struct mesh_ltp_pdu *p, uint64_t now)
{
	uint64_t cur = ((uint64_t)rx->iv_index << 24) | rx->seq;
	uint64_t delta = (rx->seq - p->seq_zero) & SEQ_ZERO_MASK;
	uint64_t seq_auth;
	struct rx_slot *s;
	bool unicast = mesh_addr_is_unicast(rx->dst);
	size_t sz = seg_size(p->ctl);
	int err;

	if (cur < delta) {
		return -EBADMSG; /* SeqAuth would precede IV Index 0 */
	}
	/* SeqAuth: the newest (IV, SEQ) at or before this one whose low bits are SeqZero. */
	seq_auth = cur - delta;
	s = rx_find(ltp, rx->src);
	if (s && seq_auth < s->seq_auth) {
		return -EALREADY; /* obsolete: a newer message from src is under way */
	}
	if (s && seq_auth == s->seq_auth) {
		if (!rx_consistent(s, rx, p)) {
			return -EBADMSG;
		}
		if (s->state == RX_DONE) {
			/* A late segment: the sender missed our acknowledgment. */
			s->touched = ++ltp->touch_clock;
			if (unicast) {
				send_ack(ltp, s, s->mask);
			}
			return -EALREADY;
		}
		if (s->mask & (1u << p->seg_o)) {
			return -EALREADY;
		}
	} else {
		struct rx_slot *n;

		/* A message of one segment must still hold a TransMIC and a byte. */
		if (!p->ctl && p->seg_n == 0 && p->len <= (p->szmic ? 8u : 4u)) {
			return -EBADMSG;
		}
		/*
		 * Checked with this PDU's own SEQ, not only SeqAuth: the sender
		 * may have sent unsegmented messages, newer than SeqAuth, since
		 * this message's first transmission (mesh/rpl.h).
		 */
		err = mesh_rpl_check_seg(ltp->rpl, rx->src, rx->iv_index, rx->seq, seq_auth);
		n = s ? s : rx_alloc(ltp);
		if (err || !n) {
			if (err == -EINVAL) {
				return -EBADMSG;
			}
			if (err != -EALREADY && unicast) {
				/* Out of resources: BlockAck 0 tells the sender to stop. */
				struct rx_slot busy = {.src = rx->src,
						       .dst = rx->dst,
						       .net_idx = rx->net_idx,
						       .ttl = rx->ttl,
						       .seq_auth = seq_auth};

				send_ack(ltp, &busy, 0);
			}
			return err ? err : -ENOSPC;
		}
		/* A newer SeqAuth replaces whatever src had under way (§3.5.3.4). */
		*n = (struct rx_slot){
		    .state = RX_ACTIVE,
		    .src = rx->src,
		    .dst = rx->dst,
		    .net_idx = rx->net_idx,
		    .seq_auth = seq_auth,
		    .ttl = rx->ttl,
		    .ctl = p->ctl,
		    .opcode = p->opcode,
		    .akf = p->akf,
		    .aid = p->aid,
		    .szmic = p->szmic,
		    .seg_n = p->seg_n,
		    .ack_at = NEVER,
		};
		s = n;
	}
	memcpy(s->buf + (size_t)p->seg_o * sz, p->payload, p->len);
	s->mask |= 1u << p->seg_o;
	if (cur > s->pdu_max) {
		s->pdu_max = cur;
	}
	if (p->seg_o == p->seg_n) {
		s->last_len = p->len;
	}
	s->touched = ++ltp->touch_clock;
	s->discard_at = now + ltp->cfg.discard_ms;
	if (s->mask != all_segs(s->seg_n)) {
		/*
		 * The acknowledgment delay runs from the reception of each new
		 * segment (Mesh Protocol 1.1 §3.5.3.4 and the definition of the
		 * SAR Acknowledgment Delay Increment state), so it restarts
		 * here, not only at the first one: a sender pacing segments one
		 * segment interval apart is never acknowledged half-way, and
		 * the one acknowledgment goes out when the last segment
		 * completes the message.  A gap longer than the delay (a lost
		 * segment) still gets a partial acknowledgment before the
		 * sender's retransmission timer (200 + 50 * (TTL - 1) ms)
		 * expires.  Duplicates returned above: they do not push it.
		 */
		if (unicast) {
			s->ack_at = now + ack_delay(ltp, s->seg_n);
		}
		return 0;
	}
	/* Complete: acknowledge at once, then deliver exactly once. */
	s->state = RX_DONE;
	s->ack_at = NEVER;
	s->acks_left = 0;
	if (unicast) {
		send_ack(ltp, s, s->mask);
		if (s->seg_n >= ltp->cfg.seg_threshold && ltp->cfg.ack_retrans) {
			s->acks_left = ltp->cfg.ack_retrans;
			s->ack_at = now + ltp->cfg.rx_seg_interval_ms;
		}
	}
	err = mesh_rpl_check_seg(ltp->rpl, s->src, (uint32_t)(s->pdu_max >> 24),
				 (uint32_t)(s->pdu_max & MESH_SEQ_MAX), s->seq_auth);
	if (err == -ENOSPC) {
		/* The RPL filled up meanwhile: delivering unrecorded would allow a replay. */
		memset(s, 0, sizeof(*s));
		return err;
	}
	rx_deliver(ltp, s);
	return 0;
}

static int rx_unsegmented(struct mesh_ltp *ltp, const struct mesh_net_rx *rx,
			  const struct mesh_ltp_pdu *p)
{
	struct mesh_utp_msg m = {
	    .net_idx = rx->net_idx,
	    .iv_index = rx->iv_index,
	    .src = rx->src,
	    .dst = rx->dst,
	    .seq = rx->seq,
	    .ttl = rx->ttl,
	    .ctl = p->ctl,
	    .opcode = p->opcode,
	    .akf = p->akf,
	    .aid = p->aid,
	    .data = p->payload,
	    .len = p->len,
	};
	int err = mesh_rpl_check(ltp->rpl, rx->src, rx->iv_index, rx->seq);

	if (err) {
		return err == -EINVAL ? -EBADMSG : err;
	}
	err = ltp->ops.recv(ltp->ops.ctx, &m);
	if (err) {
		return err;
	}
	return mesh_rpl_update(ltp->rpl, rx->src, rx->iv_index, rx->seq);
}

int mesh_ltp_rx(struct mesh_ltp *ltp, const struct mesh_net_rx *rx, uint64_t now_ms)
{
	struct mesh_ltp_pdu p;
	int err;

	if (!ltp || !rx) {
		return -EINVAL;
	}
	if (!rx->tpdu || !mesh_addr_is_unicast(rx->src) || rx->dst == MESH_ADDR_UNASSIGNED ||
	    rx->seq > MESH_SEQ_MAX) {
		return -EBADMSG;
	}
	err = mesh_ltp_pdu_decode(rx->ctl, rx->tpdu, rx->tpdu_len, &p);
	if (err) {
		return err;
	}
	if (ltp->ops.is_local && !ltp->ops.is_local(ltp->ops.ctx, rx->dst)) {
		return -ENOENT;
	}
	if (p.seg) {
		/* Segments to a group or virtual address are never acknowledged. */
		return rx_segment(ltp, rx, &p, now_ms);
	}
	if (p.ctl && p.opcode == MESH_LTP_OP_ACK) {
		return rx_ack(ltp, rx, &p, now_ms);
	}
	return rx_unsegmented(ltp, rx, &p);
}

/* ---- Timers ---------------------------------------------------------- */

static uint64_t rx_deadline(const struct rx_slot *s)
{
	if (s->state == RX_FREE) {
		return NEVER;
	}
	return s->ack_at < s->discard_at ? s->ack_at : s->discard_at;
}

uint64_t mesh_ltp_next_deadline(const struct mesh_ltp *ltp)
{
	uint64_t d = NEVER, x;
	size_t i;

	if (!ltp) {
		return NEVER;
	}
	for (i = 0; i < ltp->cfg.tx_slots; i++) {
		x = tx_deadline(&ltp->tx[i]);
		d = x < d ? x : d;
	}
	for (i = 0; i < ltp->cfg.rx_slots; i++) {
		x = rx_deadline(&ltp->rx[i]);
		d = x < d ? x : d;
	}
	return d;
}

static void rx_tick(struct mesh_ltp *ltp, struct rx_slot *s, uint64_t now)
{
	if (s->state == RX_FREE) {
		return;
	}
	if (now >= s->discard_at) {
		/* Incomplete timer: give up on the message; or forget a done one. */
		memset(s, 0, sizeof(*s));
		return;
	}
	if (now < s->ack_at) {
		return;
	}
	send_ack(ltp, s, s->mask);
	s->ack_at = NEVER;
	if (s->state == RX_DONE && s->acks_left && --s->acks_left) {
		s->ack_at = now + ltp->cfg.rx_seg_interval_ms;
	}
}

void mesh_ltp_tick(struct mesh_ltp *ltp, uint64_t now_ms)
{
	size_t i;

	if (!ltp) {
		return;
	}
	for (i = 0; i < ltp->cfg.rx_slots; i++) {
		rx_tick(ltp, &ltp->rx[i], now_ms);
	}
	for (i = 0; i < ltp->cfg.tx_slots; i++) {
		/*
		 * Each step either moves a deadline past now or uses up a
		 * bounded counter, so this loop ends even with zero intervals.
		 */
		while (tx_deadline(&ltp->tx[i]) <= now_ms) {
			tx_step(ltp, &ltp->tx[i], now_ms);
		}
	}
}
