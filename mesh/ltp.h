/*
 * Lower transport layer (Mesh Protocol 1.1 §3.5): the PDU codec, and the SAR
 * transmitter and receiver (§3.5.3) that segment an Upper Transport PDU into
 * Network PDUs and reassemble it again, with Segment Acknowledgments.
 *
 * Layering (mesh/mesh.h): the network layer hands up struct mesh_net_rx
 * through mesh_ltp_rx(); complete Upper Transport PDUs go up as struct
 * mesh_utp_msg through ops->recv; the upper transport sends one through
 * mesh_ltp_send(), and every lower transport PDU goes down as struct
 * mesh_net_tx through ops->net_send.  This header depends on nothing but
 * mesh/mesh.h and libc so either neighbour can be tested alone.
 *
 * Replay protection (§3.9.8) is applied here, where SeqAuth is known, using
 * a struct mesh_rpl (mesh/rpl.h) that the caller owns: a message is checked
 * when its first PDU arrives and recorded only after ops->recv returned 0
 * (the upper transport authenticated it).
 *
 * No I/O, no clock, no sleeping: time comes in as now_ms, and the object
 * says when it next needs mesh_ltp_tick() through mesh_ltp_next_deadline().
 */
#ifndef MESH_LTP_H
#define MESH_LTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/mesh.h"

struct mesh_rpl; /* mesh/rpl.h */

/* Sizes from §3.5.2 (formats.md §5). */
#define MESH_LTP_UNSEG_ACCESS_MAX 15 /* Upper Transport Access PDU, MIC included */
#define MESH_LTP_UNSEG_ACCESS_MIN 5  /* one octet of payload plus a 32-bit TransMIC */
#define MESH_LTP_UNSEG_CTL_MAX 11    /* control parameters */
#define MESH_LTP_SEG_ACCESS 12       /* octets per segment of an access message */
#define MESH_LTP_SEG_CTL 8           /* octets per segment of a control message */
#define MESH_LTP_SEG_MAX 32          /* SegN is 5 bits */
#define MESH_LTP_ACCESS_MAX (MESH_LTP_SEG_MAX * MESH_LTP_SEG_ACCESS) /* 384 */
#define MESH_LTP_CTL_MAX (MESH_LTP_SEG_MAX * MESH_LTP_SEG_CTL)       /* 256 */
#define MESH_LTP_OP_ACK 0x00 /* Segment Acknowledgment, §3.5.2.3.1 */
#define MESH_LTP_ACK_LEN 6   /* its parameters */

/* ---- Codec ---------------------------------------------------------- */

/*
 * One lower transport PDU, decoded.  `ctl` comes from the Network PDU's CTL
 * bit, not from the lower transport octets.  Fields that do not apply to the
 * PDU's kind are zero: opcode only for control, akf/aid for access, szmic for
 * segmented access, seq_zero/seg_o/seg_n for segmented.
 */
struct mesh_ltp_pdu {
	bool ctl;
	bool seg;
	uint8_t opcode; /* 7 bits */
	bool akf;
	uint8_t aid; /* 6 bits */
	bool szmic;
	uint16_t seq_zero;      /* 13 bits */
	uint8_t seg_o;          /* 5 bits */
	uint8_t seg_n;          /* 5 bits */
	const uint8_t *payload; /* borrowed from the decoded input, or the encode input */
	size_t len;
};

/*
 * Decode a lower transport PDU.  Checks every length rule of §3.5.2:
 * unsegmented access 5..15 octets, segmented access 1..12 per segment,
 * unsegmented control 0..11 (exactly 6 for a Segment Acknowledgment),
 * segmented control 1..8, SegO <= SegN, and no segmented Segment
 * Acknowledgment.  RFU bits are ignored.  Returns 0 or -EBADMSG (-EINVAL for
 * NULL arguments); *out is written only on success and its payload points
 * into pdu.
 */
int mesh_ltp_pdu_decode(bool ctl, const uint8_t *pdu, size_t len, struct mesh_ltp_pdu *out);

/*
 * Encode p into out (capacity cap), the inverse of mesh_ltp_pdu_decode();
 * p must satisfy the same rules.  Returns 0 and the octet count in *out_len,
 * -EINVAL for an invalid field or length, -ENOSPC when cap is too small.
 */
int mesh_ltp_pdu_encode(const struct mesh_ltp_pdu *p, uint8_t *out, size_t cap, size_t *out_len);

/* Segment Acknowledgment parameters (§3.5.2.3.1). */
struct mesh_ltp_ack {
	bool obo;           /* sent by a Friend on behalf of a Low Power node */
	uint16_t seq_zero;  /* 13 bits */
	uint32_t block_ack; /* bit n: segment n received; 0 = receiver busy/cancel */
};

/* Decode the 6 parameter octets of a Segment Acknowledgment; 0 or -EBADMSG. */
int mesh_ltp_ack_decode(const uint8_t *params, size_t len, struct mesh_ltp_ack *out);

/* Encode a Segment Acknowledgment's parameters into out[6]; 0 or -EINVAL. */
int mesh_ltp_ack_encode(const struct mesh_ltp_ack *ack, uint8_t out[MESH_LTP_ACK_LEN]);

/* ---- SAR state machines --------------------------------------------- */

/*
 * SAR timing and counts in plain units (the SAR Transmitter and SAR Receiver
 * states of Mesh Protocol 1.1 store them as steps; convert before filling
 * this).  mesh_ltp_config_default() gives the spec's default state values.
 */
struct mesh_ltp_config {
	/* SAR Transmitter */
	uint32_t seg_interval_ms;    /* between two segment transmissions (60) */
	uint8_t uni_retrans;         /* unicast retransmission passes (2) */
	uint8_t uni_retrans_noprog;  /* of which in a row without progress (2) */
	uint32_t uni_retrans_ms;     /* unicast retransmission interval (200) */
	uint32_t uni_retrans_inc_ms; /* added per hop: TTL-1 times, TTL > 0 (50) */
	uint8_t mc_retrans;          /* extra passes to a group/virtual address (2) */
	uint32_t mc_retrans_ms;      /* between multicast passes (225) */
	/* SAR Receiver */
	uint8_t seg_threshold;       /* SegN at or above which acks are repeated (3) */
	uint8_t ack_delay_inc;       /* ack min(SegN+.5, inc+1.5) intervals after new seg (1) */
	uint32_t rx_seg_interval_ms; /* segment reception interval (60) */
	uint8_t ack_retrans;         /* extra acks once complete, SegN >= threshold (0) */
	uint32_t discard_ms;         /* incomplete message dropped after silence (10000) */
	/* Capacity and defaults */
	uint8_t default_ttl; /* used where a send says MESH_TTL_DEFAULT (5) */
	uint8_t tx_slots;    /* segmented messages in flight (4) */
	uint8_t rx_slots;    /* sources reassembled at once (8) */
};

/* Fill cfg with the default values shown in parentheses above. */
void mesh_ltp_config_default(struct mesh_ltp_config *cfg);

/*
 * What the lower transport needs from its neighbours.  All callbacks run
 * synchronously inside mesh_ltp_send(), mesh_ltp_rx(), mesh_ltp_tick() or
 * mesh_ltp_cancel().  recv and tx_done may call mesh_ltp_send() and
 * mesh_ltp_cancel(); net_send must not call back into mesh_ltp_rx()
 * (queue the PDU instead), and no callback may call mesh_ltp_free().
 */
struct mesh_ltp_ops {
	void *ctx;
	/* Hand one lower transport PDU to the network layer; tx->tpdu borrowed. */
	int (*net_send)(void *ctx, const struct mesh_net_tx *tx);
	/* Allocate the node's next SEQ (shared with every other sender of src). */
	int (*seq_alloc)(void *ctx, uint16_t src, uint32_t *seq);
	/*
	 * A complete Upper Transport PDU (msg->data borrowed for the call).
	 * Return 0 only when it authenticated (decrypted, or for control a
	 * valid message): only then is the replay protection list updated.
	 */
	int (*recv)(void *ctx, const struct mesh_utp_msg *msg);
	/*
	 * A segmented send finished: 0 delivered (all segments acknowledged,
	 * or every multicast pass sent), -ETIMEDOUT retransmissions exhausted
	 * or SeqAuth too old for a further segment, -ECANCELED the receiver
	 * answered with BlockAck 0 (busy).  May be NULL.
	 */
	void (*tx_done)(void *ctx, uint32_t handle, int status);
	/*
	 * Is addr an element of this node, or a group/virtual address it
	 * subscribes to?  PDUs to other addresses are ignored.  NULL means
	 * "everything is local" (the network layer already filtered).
	 */
	bool (*is_local)(void *ctx, uint16_t addr);
	/*
	 * The TTL for a Segment Acknowledgment to dst when the segments did not
	 * come with TTL 0 (then it is 0): the owner's TTL for that node, so an
	 * acknowledgment travels no farther than the messages to it.  NULL: the
	 * Default TTL (cfg.default_ttl).
	 */
	uint8_t (*ack_ttl)(void *ctx, uint16_t dst);
};

struct mesh_ltp;

/*
 * Returns a new lower transport, or NULL (bad config or out of memory);
 * free with mesh_ltp_free().  cfg and ops are copied; rpl is borrowed and
 * must outlive the ltp (the node owns and persists it).  All memory is
 * allocated here; nothing is allocated per PDU.
 */
struct mesh_ltp *mesh_ltp_new(const struct mesh_ltp_config *cfg, const struct mesh_ltp_ops *ops,
			      struct mesh_rpl *rpl);

/* Free; accepts NULL.  Messages in flight are dropped without tx_done. */
void mesh_ltp_free(struct mesh_ltp *ltp);

/*
 * Send an Upper Transport PDU.  msg->seq is the SEQ the upper transport used
 * in its nonce; it becomes SeqAuth and goes on the first PDU, later segments
 * and retransmissions take fresh SEQs from ops->seq_alloc.  The message goes
 * unsegmented when it fits (access <= 15 octets with a 32-bit MIC, control
 * <= 11) and msg->segmented is false; then it is passed to net_send before
 * this returns, *handle is set to 0 and tx_done is not called.  Otherwise a
 * segmented send starts: *handle identifies it in tx_done.
 *
 * Only one segmented message per destination may be in flight (§3.5.3.3):
 * a second one gets -EBUSY rather than being queued, because its SeqAuth was
 * already chosen and would go stale in a queue.  Other errors: -EINVAL bad
 * field (length, opcode 0, AID > 0x3f, SZMIC on control or unsegmented,
 * non-unicast src), -ENOSPC all tx slots busy, or net_send's error for an
 * unsegmented message.  msg->data is copied.
 */
int mesh_ltp_send(struct mesh_ltp *ltp, const struct mesh_utp_msg *msg, uint64_t now_ms,
		  uint32_t *handle);

/*
 * Could a segmented send to dst start now?  0, -EBUSY (one to dst is in
 * flight) or -ENOSPC (every tx slot is taken): what mesh_ltp_send() would
 * answer, asked before a SEQ is spent on encrypting the message.
 */
int mesh_ltp_tx_check(const struct mesh_ltp *ltp, uint16_t dst);

/* Stop a segmented send without calling tx_done; -ENOENT if not in flight. */
int mesh_ltp_cancel(struct mesh_ltp *ltp, uint32_t handle);

/*
 * One Network PDU from the network layer.  Returns 0 when it was used
 * (delivered, stored as a new segment, or a Segment Acknowledgment
 * applied), -EALREADY when it was a replay, a duplicate segment, a segment
 * of an already complete message (re-acknowledged, not re-delivered) or of
 * an obsolete SeqAuth, -ENOENT when the destination is not local,
 * -EBADMSG when malformed or inconsistent with the segments already held,
 * -ENOSPC when the RPL or the reassembly slots are full (a busy
 * acknowledgment is sent for unicast), or recv's error for an unsegmented
 * message.  Malformed input (-EBADMSG/-EINVAL) leaves all state unchanged.
 */
int mesh_ltp_rx(struct mesh_ltp *ltp, const struct mesh_net_rx *rx, uint64_t now_ms);

/* Earliest time mesh_ltp_tick() has work, or UINT64_MAX. */
uint64_t mesh_ltp_next_deadline(const struct mesh_ltp *ltp);

/* Run every timer due at now_ms: segment pacing, retransmission, acks, discard. */
void mesh_ltp_tick(struct mesh_ltp *ltp, uint64_t now_ms);

#endif /* MESH_LTP_H */
