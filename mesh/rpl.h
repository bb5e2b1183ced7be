/*
 * Replay Protection List (Mesh Protocol 1.1 §3.9.8).
 *
 * One entry per source element: the newest (IV Index, SEQ) pair accepted from
 * it, and apart from it the newest SeqAuth (the IV Index and the SEQ of
 * segment 0) of a segmented message it completed.  Ordering is lexicographic
 * on (IV Index, SEQ), which is what makes an IV Index increase (with SEQ
 * restarting at 0) acceptable and an older IV Index always a replay.
 *
 * The two are kept apart because a segmented message's SeqAuth is older than
 * the SEQs its sender uses while the message is being retransmitted: an
 * unsegmented message sent meanwhile (a PB-Remote server's Outbound Report
 * beside its segmented PDU Report) must not turn the segments still to come
 * into replays.  So a segmented message is checked with the SEQ of the PDU
 * that brought its first received segment against the pair, and with its
 * SeqAuth against the segmented record (mesh_rpl_check_seg()).
 *
 * The list is bounded by the node's CRPL: an unknown source arriving when the
 * list is full is refused (-ENOSPC) rather than evicting an entry, because an
 * evicted entry would let every old message of that source be replayed.
 *
 * Use: mesh_rpl_check() before processing a message, mesh_rpl_update() only
 * after the upper transport authenticated it, so a forged or corrupted
 * message can never move an entry forward.
 */
#ifndef MESH_RPL_H
#define MESH_RPL_H

#include <stddef.h>
#include <stdint.h>

struct mesh_rpl;

/* Returns a new list holding at most `capacity` (>= 1) sources, or NULL on
 * allocation failure or capacity 0; free with mesh_rpl_free(). */
struct mesh_rpl *mesh_rpl_new(size_t capacity);

/* Frees the list; accepts NULL. */
void mesh_rpl_free(struct mesh_rpl *rpl);

/*
 * Is a message from `src` with (iv_index, seq) new?  Returns 0 when it is
 * newer than the stored pair or src has no entry and there is room,
 * -EALREADY when it is equal or older (a replay), -ENOSPC when src is unknown
 * and the list is full, -EINVAL for a non-unicast src or seq > 0xffffff.
 * Never changes the list.
 */
int mesh_rpl_check(const struct mesh_rpl *rpl, uint16_t src, uint32_t iv_index, uint32_t seq);

/*
 * Record (iv_index, seq) for src, keeping the newer of it and the stored
 * pair (an update never moves an entry backwards).  Returns 0, -ENOSPC when
 * src is unknown and the list is full, -EINVAL as mesh_rpl_check().
 */
int mesh_rpl_update(struct mesh_rpl *rpl, uint16_t src, uint32_t iv_index, uint32_t seq);

/*
 * Is a segmented message from src new?  (iv_index, seq) is the Network PDU
 * that brought a segment of it, seq_auth its SeqAuth as (IV Index << 24 |
 * SEQ of segment 0).  0 when that PDU is newer than the stored pair and
 * seq_auth newer than the last SeqAuth recorded with mesh_rpl_update_seg()
 * (or src has no entry and there is room); otherwise as mesh_rpl_check().
 */
int mesh_rpl_check_seg(const struct mesh_rpl *rpl, uint16_t src, uint32_t iv_index, uint32_t seq,
		       uint64_t seq_auth);

/*
 * Record a completed segmented message: (iv_index, seq) as mesh_rpl_update()
 * (the newest Network PDU of the message) and seq_auth as the newest SeqAuth.
 * Returns as mesh_rpl_update().
 */
int mesh_rpl_update_seg(struct mesh_rpl *rpl, uint16_t src, uint32_t iv_index, uint32_t seq,
			uint64_t seq_auth);

/* The stored pair for src; -ENOENT when src has no entry. */
int mesh_rpl_get(const struct mesh_rpl *rpl, uint16_t src, uint32_t *iv_index, uint32_t *seq);

/* Forget src (e.g. the node was removed); -ENOENT when it had no entry. */
int mesh_rpl_remove(struct mesh_rpl *rpl, uint16_t src);

/*
 * Drop every entry whose IV Index is below oldest_iv.  After an IV Update
 * completes (§3.10.5) the network layer accepts only the current IV Index and
 * the one before it, so entries older than that protect nothing any more.
 * Returns the number of entries removed.
 */
size_t mesh_rpl_prune(struct mesh_rpl *rpl, uint32_t oldest_iv);

/* Number of sources stored, and the capacity given to mesh_rpl_new(). */
size_t mesh_rpl_count(const struct mesh_rpl *rpl);
size_t mesh_rpl_capacity(const struct mesh_rpl *rpl);

/*
 * Entry i (0 <= i < mesh_rpl_count(), in ascending src order), for
 * persisting the list; -ENOENT when i is out of range.
 */
int mesh_rpl_entry(const struct mesh_rpl *rpl, size_t i, uint16_t *src, uint32_t *iv_index,
		   uint32_t *seq);

#endif /* MESH_RPL_H */
