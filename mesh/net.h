/*
 * Network layer (Mesh Protocol v1.1 §3.4, key material §3.8, IV Update
 * procedure §3.10.5, IV Index Recovery §3.10.6, Key Refresh procedure).
 *
 * Two levels:
 *
 *  - A stateless codec: mesh_net_encode() / mesh_net_decode() turn one
 *    struct mesh_net_tx into at most 29 octets and back, given a set of
 *    network credentials and an IV Index.  Tests and fuzzers use it
 *    directly; it allocates nothing.
 *
 *  - struct mesh_net, the node's network state: subnets with their Key
 *    Refresh phase and old/new keys, the IV Index state machine, the
 *    node-wide sequence number allocator, the node's unicast addresses,
 *    the network message cache and the relay decision.  It is driven by
 *    bytes and a caller-supplied monotonic clock (now_ms) only.
 *
 * The matching beacon codec and the function that applies authenticated
 * beacons to a struct mesh_net live in mesh/beacon.h.
 */
#ifndef MESH_NET_H
#define MESH_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/mesh.h"

#define MESH_NET_HDR_LEN 9                               /* IVI|NID, CTL|TTL, SEQ, SRC, DST */
#define MESH_NET_TPDU_MAX 16                             /* TransportPDU octets when CTL=0 */
#define MESH_NET_TPDU_CTL_MAX 12                         /* TransportPDU octets when CTL=1 */
#define MESH_NET_PDU_MIN 14                              /* header + 1 octet + 32-bit NetMIC */
#define MESH_NET_CACHE_SIZE 128                          /* entries in the network message cache */
#define MESH_NET_SUBNETS_MAX 64                          /* subnets one node may know at a time */
#define MESH_NET_IV_RECOVERY_MAX 42                      /* §3.10.6: larger jumps are ignored */
#define MESH_NET_IV_MIN_STATE_MS (96ull * 3600 * 1000)   /* §3.10.5 */
#define MESH_NET_IV_MAX_UPDATE_MS (144ull * 3600 * 1000) /* §3.10.5 */
#define MESH_NET_IV_RECOVERY_GAP_MS (192ull * 3600 * 1000)
/* Start an IV Update once half the sequence space is used (§3.10.5 asks
 * for one "sufficiently before" exhaustion; 96 hours must still pass). */
#define MESH_NET_SEQ_IVU_THRESHOLD 0x800000u

/* Network credentials: the output of k2 (§3.8, k2). */
struct mesh_net_cred {
	uint8_t nid; /* 7 bits */
	uint8_t enc_key[16];
	uint8_t priv_key[16];
};

/* Everything a subnet derives from one NetKey (§3.8). */
struct mesh_net_keys {
	struct mesh_net_cred flooding; /* k2(NetKey, 0x00) */
	struct mesh_net_cred directed; /* k2(NetKey, 0x02) */
	uint8_t net_id[8];             /* k3(NetKey) */
	uint8_t identity_key[16];
	uint8_t beacon_key[16];
	uint8_t private_beacon_key[16];
};

/* --- Key material ------------------------------------------------------ */

/* Managed flooding credentials, k2(NetKey, 0x00). */
int mesh_net_cred_flooding(const uint8_t net_key[16], struct mesh_net_cred *cred);
/* Directed forwarding credentials, k2(NetKey, 0x02). */
int mesh_net_cred_directed(const uint8_t net_key[16], struct mesh_net_cred *cred);
/*
 * Friendship credentials, k2(NetKey, 0x01 || LPNAddress || FriendAddress ||
 * LPNCounter || FriendCounter) (§3.8, k2).
 */
int mesh_net_cred_friendship(const uint8_t net_key[16], uint16_t lpn_addr, uint16_t friend_addr,
			     uint16_t lpn_counter, uint16_t friend_counter,
			     struct mesh_net_cred *cred);
/* All keys of one subnet.  The caller wipes *keys (mesh_crypto_wipe) when done. */
int mesh_net_keys_derive(const uint8_t net_key[16], struct mesh_net_keys *keys);

/* --- Stateless codec (§3.4.4) ------------------------------------------ */

/*
 * Encode tx as a Network PDU secured with cred under iv_index into out.
 * Checks: TTL <= 127, SEQ <= 0xffffff, unicast SRC, DST not unassigned,
 * tpdu_len 1..16 (CTL=0) or 1..12 (CTL=1).  TTL 1 is accepted here because a
 * relay sends TTL 1 (the send path of struct mesh_net refuses it).
 * Returns 0 and the length in *out_len, or -EINVAL.
 */
int mesh_net_encode(const struct mesh_net_cred *cred, uint32_t iv_index,
		    const struct mesh_net_tx *tx, uint8_t out[MESH_NET_PDU_MAX], size_t *out_len);

/*
 * Decode a Network PDU with cred under iv_index.  On success *rx is filled
 * (rx->net_idx = 0, rx->new_key = false, rx->iv_index = iv_index) and
 * rx->tpdu points into tpdu (borrowed from the caller).
 * Errors: -EBADMSG malformed (length, SRC not unicast, DST unassigned),
 * -ENOENT the NID or the IVI bit do not belong to cred / iv_index,
 * -EACCES NetMIC does not verify.  Nothing is written on error.
 */
int mesh_net_decode(const struct mesh_net_cred *cred, uint32_t iv_index, const uint8_t *pdu,
		    size_t len, struct mesh_net_rx *rx, uint8_t tpdu[MESH_NET_TPDU_MAX]);

/* --- Network Transmit / Relay Retransmit states ------------------------ */

/*
 * One octet: bits 0-2 Count (transmissions = Count + 1), bits 3-7 Interval
 * Steps (interval = (Steps + 1) * 10 ms).  Pack returns -EINVAL when count
 * > 7 or interval_ms is not a multiple of 10 in 10..320.
 */
int mesh_net_xmit_pack(uint8_t count, uint16_t interval_ms, uint8_t *octet);
void mesh_net_xmit_unpack(uint8_t octet, uint8_t *count, uint16_t *interval_ms);

/* --- Network state ----------------------------------------------------- */

struct mesh_net;

/* Returns a new, empty network state (IV Index 0, Normal Operation at
 * now_ms); free with mesh_net_free().  NULL when out of memory. */
struct mesh_net *mesh_net_new(uint64_t now_ms);
/* Wipes all key material and frees net.  Accepts NULL. */
void mesh_net_free(struct mesh_net *net);

/* The node's elements: primary unicast address and element count. */
int mesh_net_addr_set(struct mesh_net *net, uint16_t primary, uint8_t count);
/* True when addr is the unicast address of one of our elements. */
bool mesh_net_is_local(const struct mesh_net *net, uint16_t addr);
/* Relay feature on/off (off by default). */
void mesh_net_relay_set(struct mesh_net *net, bool on);
/* Default TTL used when a send request carries MESH_TTL_DEFAULT (initially 7). */
int mesh_net_default_ttl_set(struct mesh_net *net, uint8_t ttl);

/* Subnets and the Key Refresh procedure ------------------------------- */

/*
 * Add a subnet.  0 when added or when it already exists with the same key;
 * -EEXIST with a different key; -ENOSPC beyond MESH_NET_SUBNETS_MAX.
 */
int mesh_net_subnet_add(struct mesh_net *net, uint16_t net_idx, const uint8_t net_key[16]);
/* Remove a subnet and wipe its keys; -ENOENT when unknown. */
int mesh_net_subnet_del(struct mesh_net *net, uint16_t net_idx);
/*
 * NetKey Update: store the new key and enter Key Refresh phase 1.  0 also
 * when already in phase 1 with the same new key; -EBUSY in phase 1 with a
 * different key or in phase 2; -ENOENT when unknown.
 */
int mesh_net_subnet_update(struct mesh_net *net, uint16_t net_idx, const uint8_t new_key[16]);
/*
 * Key Refresh Phase transition (Config Key Refresh Phase Set): 2 from phase 1 (or 2),
 * 3 from phase 1 or 2 which revokes the old key and returns to phase 0
 * (a no-op in phase 0).  -EINVAL for other values, -EBUSY for 2 in phase 0.
 */
int mesh_net_subnet_kr_set(struct mesh_net *net, uint16_t net_idx, uint8_t phase);
/* The Key Refresh phase (0, 1 or 2), or -ENOENT. */
int mesh_net_subnet_kr_phase(const struct mesh_net *net, uint16_t net_idx);
size_t mesh_net_subnet_count(const struct mesh_net *net);
/* NetKey index of the pos-th subnet (0 <= pos < count), or -ENOENT. */
int mesh_net_subnet_at(const struct mesh_net *net, size_t pos, uint16_t *net_idx);
/*
 * The derived keys of a subnet: the current ones, or with new_key the ones
 * of the Key Refresh's new NetKey (NULL outside phases 1 and 2).
 * Borrowed; valid until the subnet is removed or its keys change.
 */
const struct mesh_net_keys *mesh_net_subnet_keys(const struct mesh_net *net, uint16_t net_idx,
						 bool new_key);
/* True when a subnet transmits with its new key (Key Refresh phase 2). */
bool mesh_net_subnet_tx_new_key(const struct mesh_net *net, uint16_t net_idx);

/* IV Index (§3.10.5, §3.10.6) ---------------------------------------- */

/* Set the IV Index state (after provisioning or from storage). */
int mesh_net_iv_set(struct mesh_net *net, uint32_t iv_index, bool update, uint64_t now_ms);
/* Current IV Index and IV Update in Progress flag (for beacons and storage). */
void mesh_net_iv_get(const struct mesh_net *net, uint32_t *iv_index, bool *update);
/* IV Index to transmit with: iv_index - 1 while an IV Update is in progress. */
uint32_t mesh_net_iv_tx(const struct mesh_net *net);
/* Waive the 96-hour minimum state durations (IV Update test mode, §3.10.5.1). */
void mesh_net_iv_test_mode(struct mesh_net *net, bool on);
/*
 * Start an IV Update as its initiator: IV Index + 1, IV Update in Progress.
 * -EALREADY when one is in progress, -EBUSY before 96 hours of Normal
 * Operation, -ENOSPC when the IV Index cannot grow.
 */
int mesh_net_iv_update_start(struct mesh_net *net, uint64_t now_ms);
/* True when the sequence numbers are running out and an IV Update is due. */
bool mesh_net_iv_update_needed(const struct mesh_net *net);
/*
 * Apply the IV Index and IV Update flag of an authenticated beacon
 * (§3.10.5, recovery §3.10.6).  Returns 1 when the state changed (persist
 * it), 0 when the beacon was consistent or ignored.
 */
int mesh_net_iv_beacon(struct mesh_net *net, uint32_t iv_index, bool update, uint64_t now_ms);
/* When mesh_net_tick() next has something to do; UINT64_MAX = never. */
uint64_t mesh_net_next_deadline(const struct mesh_net *net);
/*
 * Time-driven IV transitions: complete an IV Update after its minimum (if we
 * started it) or maximum duration, and start one when sequence numbers run
 * low and 96 hours of Normal Operation have passed.  Returns 1 when the IV
 * state changed, else 0.
 */
int mesh_net_tick(struct mesh_net *net, uint64_t now_ms);

/* Sequence numbers (§3.4.4.6) ---------------------------------------- */

/*
 * Persistence hook: before handing out a sequence number at or above the
 * last reservation, net calls reserve(ctx, up_to) with up_to = next + block
 * (capped at 0x1000000); the callee stores up_to durably and returns 0.
 * After a restart the caller passes the stored value to mesh_net_seq_set(),
 * so no number below a possibly used one is ever reissued.  A failing hook
 * makes mesh_net_seq_next() fail with its error.  fn NULL disables it.
 */
void mesh_net_seq_store_set(struct mesh_net *net, int (*reserve)(void *ctx, uint32_t up_to),
			    void *ctx, uint32_t block);
/*
 * Allocate the next 24-bit SEQ.  -ENOSPC when the space is exhausted (an IV
 * Update must complete first), or the reserve hook's error.
 */
int mesh_net_seq_next(struct mesh_net *net, uint32_t *seq);
/* The next SEQ that would be allocated (0x1000000 when exhausted). */
uint32_t mesh_net_seq_get(const struct mesh_net *net);
/* Restore the next SEQ (<= 0x1000000); the next allocation reserves again. */
int mesh_net_seq_set(struct mesh_net *net, uint32_t next);

/* Receive and send ---------------------------------------------------- */

/* Bits of a non-negative mesh_net_recv() result. */
#define MESH_NET_RECV_DELIVER 0x1 /* hand *rx to lower transport */
#define MESH_NET_RECV_RELAY 0x2   /* relay[0..*relay_len) is to be sent */

/*
 * Process one received Network PDU.  Every subnet credential whose NID
 * matches is tried (current and new key during Key Refresh); the IV Index
 * is the current one or the one before, chosen by the IVI bit (§3.4.4.4).
 * On success *rx tells which net_idx and key decrypted it, rx->tpdu points
 * into tpdu, and the result is a set of MESH_NET_RECV_* bits: DELIVER when
 * DST is one of our elements or a group/virtual address; RELAY when the
 * relay feature is on, TTL >= 2 and DST is not ours, with the re-encoded PDU
 * (TTL - 1, same credentials and IV Index, §3.4.6.3) in relay.  relay may be
 * NULL to never relay.
 * Errors (state unchanged): -EBADMSG malformed, -ENOENT no credential with
 * this NID / IV, -EACCES no NetMIC verified, -EALREADY already in the
 * message cache or sent by one of our own elements.
 */
int mesh_net_recv(struct mesh_net *net, const uint8_t *pdu, size_t len, struct mesh_net_rx *rx,
		  uint8_t tpdu[MESH_NET_TPDU_MAX], uint8_t relay[MESH_NET_PDU_MAX],
		  size_t *relay_len);

/*
 * Encode a locally originated PDU: credentials of tx->net_idx for its Key
 * Refresh phase (new key in phase 2), IV Index mesh_net_iv_tx().  tx->ttl
 * MESH_TTL_DEFAULT means the default TTL; TTL 1 is refused (§3.4.4.3).
 * SRC must be one of our elements when an address range is set.  The PDU
 * enters the message cache so that relayed copies are not received again.
 * -EINVAL bad field, -ENOENT unknown net_idx.
 */
int mesh_net_send(struct mesh_net *net, const struct mesh_net_tx *tx, uint8_t out[MESH_NET_PDU_MAX],
		  size_t *out_len);

#endif /* MESH_NET_H */
