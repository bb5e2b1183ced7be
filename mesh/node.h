/*
 * One mesh node: the network layer (mesh/net.h), lower transport with its
 * replay protection list (mesh/ltp.h, mesh/rpl.h), upper transport
 * (mesh/utp.h) and the access layer's model registry (mesh/access.h),
 * composed behind one object.  Both the gateway (a provisioner node) and
 * every simulated device of meshsim are a struct mesh_node.
 *
 * Bytes come in as advertising data (mesh_node_rx_adv) and go out through
 * ops->adv_send with the transmit parameters the node wants; time comes in as
 * now_ms and the node says when it wants to be woken (mesh_node_next_deadline
 * / mesh_node_tick).  No I/O, no globals, no threads.
 *
 * Keys: NetKeys (with Key Refresh), AppKeys bound to NetKeys (old and new
 * during Key Refresh), the node's own device key and a candidate device key
 * (Device Key Refresh, §3.6.4.2 NPPI: the candidate becomes the device key
 * when a message secured with it arrives).  A provisioner also knows other
 * nodes' device keys: it gives them through ops->dev_keys.
 */
#ifndef MESH_NODE_H
#define MESH_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/access.h"
#include "mesh/ltp.h"
#include "mesh/mesh.h"
#include "mesh/net.h"
#include "mesh/utp.h"

#define MESH_NODE_APPKEYS_MAX 32
#define MESH_NODE_LABELS_MAX 16
#define MESH_NODE_PENDING_DEFAULT 32 /* mesh_node_config.pending_max */

/* Bits for ops->changed: state a owner may want to persist. */
#define MESH_NODE_CHANGED_IV 0x01     /* IV Index / IV Update flag */
#define MESH_NODE_CHANGED_KR 0x02     /* a Key Refresh phase */
#define MESH_NODE_CHANGED_KEYS 0x04   /* NetKeys, AppKeys */
#define MESH_NODE_CHANGED_DEVKEY 0x08 /* the candidate device key became the device key */
#define MESH_NODE_CHANGED_CONFIG 0x10 /* relay, beacon, TTL, transmit parameters */

struct mesh_node_config {
	uint16_t crpl;       /* replay protection list capacity */
	uint8_t default_ttl; /* 0 or 2..127 */
	bool relay;          /* relay feature on */
	bool beacon;         /* Secure Network Beacons on */
	bool private_beacon; /* Mesh Private beacons on (Private Beacon, Mesh 1.1 §4.2.44) */
	uint8_t net_xmit;    /* Network Transmit state octet (§4.2.19) */
	uint8_t relay_xmit;  /* Relay Retransmit state octet (§4.2.20) */
	uint32_t beacon_interval_ms; /* 10 s in §3.10.3.1 */
	/*
	 * Messages that may wait for the lower transport (mesh_node_send()):
	 * a node that talks to many destinations at once (a provisioner) sizes
	 * this and ltp.tx_slots / ltp.rx_slots to its load.  Entries are
	 * allocated as messages arrive, so a large bound costs nothing idle.
	 */
	uint16_t pending_max;
	struct mesh_ltp_config ltp;
};

/*
 * Defaults: CRPL 64, TTL 7, relay off, beacons on, 2 transmissions 20 ms
 * apart, MESH_NODE_PENDING_DEFAULT queued messages, the lower transport's
 * defaults (mesh_ltp_config_default).
 */
void mesh_node_config_default(struct mesh_node_config *cfg);

/*
 * Size the queue and the lower transport's slots for a node that runs up to
 * `sessions` exchanges at once, each with a segmented message in flight to
 * its peer and one to a go-between (a provisioner's sessions through Remote
 * Provisioning Servers): tx_slots and rx_slots 2 x sessions, pending_max 32 x
 * sessions, never below the defaults already in cfg (nor past the fields'
 * ranges).
 */
void mesh_node_config_sessions(struct mesh_node_config *cfg, unsigned sessions);

struct mesh_node_ops {
	void *ctx;
	/*
	 * Put one advertising PDU on the air: ad_type is MESH_AD_MESSAGE or
	 * MESH_AD_BEACON; count is the number of transmissions (>= 1), spaced
	 * interval_ms apart.  data is borrowed for the call.
	 */
	int (*adv_send)(void *ctx, uint8_t ad_type, const uint8_t *data, size_t len, uint8_t count,
			uint16_t interval_ms);
	/*
	 * Device keys of other nodes (a provisioner's Config Client): up to max
	 * candidates for the node whose element `addr` is; returns how many.
	 * Pointers are borrowed until the next call into the node.  May be NULL.
	 */
	size_t (*dev_keys)(void *ctx, uint16_t addr, const struct mesh_utp_key **out, size_t max);
	/* A segmented send finished (see mesh_ltp_ops.tx_done).  May be NULL. */
	void (*sent)(void *ctx, uint32_t handle, int status);
	/* Persistent state changed (MESH_NODE_CHANGED_* bits).  May be NULL. */
	void (*changed)(void *ctx, unsigned what);
	/*
	 * Sequence number persistence: called before SEQ values up to (not
	 * including) up_to are used; the owner stores up_to and returns 0, or an
	 * error to refuse the allocation.  May be NULL.
	 */
	int (*seq_reserve)(void *ctx, uint32_t up_to);
	/*
	 * Traffic accounting: every lower transport PDU this node originates
	 * (kind MESH_NODE_TRACE_UNSEG/SEG/ACK/CTL), every network PDU it
	 * accepts (MESH_NODE_TRACE_NET_RX: new to its message cache) and relays
	 * (MESH_NODE_TRACE_RELAY), with `opcode` = MESH_NODE_TRACE_NETINFO(ttl,
	 * seq) of the PDU sent or received; and every access message it sends
	 * or receives (MESH_NODE_TRACE_ACC_TX/RX, its opcode).  For logs and
	 * benches; may be NULL.
	 */
	void (*traced)(void *ctx, unsigned kind, uint16_t src, uint16_t dst, uint32_t opcode);
};

enum {
	MESH_NODE_TRACE_UNSEG,  /* unsegmented access PDU */
	MESH_NODE_TRACE_SEG,    /* one segment (first send or repeat) */
	MESH_NODE_TRACE_ACK,    /* Segment Acknowledgment */
	MESH_NODE_TRACE_CTL,    /* another transport control PDU */
	MESH_NODE_TRACE_ACC_TX, /* an access message handed to the lower transport */
	MESH_NODE_TRACE_ACC_RX, /* an access message received and decrypted */
	MESH_NODE_TRACE_NET_RX, /* a network PDU accepted (not in the message cache) */
	MESH_NODE_TRACE_RELAY,  /* a network PDU relayed (its new TTL) */
};

/* A trace kind's name for logs ("unseg", "seg", "ack", "ctl", "acc-tx", "acc-rx", "net-rx",
 * "relay"), or NULL for an unknown kind; static storage. */
const char *mesh_node_trace_name(unsigned kind);

/* The `opcode` of the network-level trace kinds: TTL (bits 31-24) and SEQ (23-0). */
#define MESH_NODE_TRACE_NETINFO(ttl, seq) (((uint32_t)(ttl) << 24) | ((seq)&0xffffffu))

/* A message to send from one of the node's elements. */
struct mesh_node_msg {
	uint16_t net_idx;
	uint16_t app_idx;       /* AppKey Index, or MESH_APP_IDX_DEV */
	const uint8_t *dev_key; /* device key to use (16 octets), or NULL: see mesh_node_send() */
	uint8_t elem;           /* sending element index (0 = primary) */
	uint16_t dst;
	const uint8_t *label; /* Label UUID when dst is virtual */
	uint8_t ttl;          /* MESH_TTL_DEFAULT for the node's default */
	bool szmic;           /* 64-bit TransMIC (forces segmentation) */
	/*
	 * Segment even a payload that fits one PDU, so the receiver acknowledges
	 * it (§3.5.3.3): a reliable send without the 4 extra MIC octets of szmic.
	 */
	bool segmented;
	uint32_t opcode;
	const uint8_t *params; /* borrowed for the call */
	size_t len;
};

struct mesh_node;

/*
 * Returns a new unprovisioned node (no address, no keys) whose model
 * registry is empty; free with mesh_node_free().  NULL on allocation
 * failure.  cfg and ops are copied.
 */
struct mesh_node *mesh_node_new(const struct mesh_node_config *cfg, const struct mesh_node_ops *ops,
				const struct mesh_rng *rng, uint64_t now_ms);
/* Wipes every key and frees the node.  Accepts NULL.  Not from inside a callback of the node. */
void mesh_node_free(struct mesh_node *node);

/* The layers, borrowed for the node's lifetime (for models and tests). */
struct mesh_net *mesh_node_net(struct mesh_node *node);
struct mesh_acc *mesh_node_acc(struct mesh_node *node);
const struct mesh_node_config *mesh_node_config(const struct mesh_node *node);

/*
 * Make the node provisioned: primary address (its elements follow it),
 * device key, first NetKey, IV Index and flags (Key Refresh, IV Update) from
 * the Provisioning Data (§5.4.2.5).  Elements must be registered already.
 */
int mesh_node_provision(struct mesh_node *node, uint16_t primary, const uint8_t dev_key[16],
			uint16_t net_idx, const uint8_t net_key[16], uint32_t iv_index,
			uint8_t flags, uint64_t now_ms);
bool mesh_node_provisioned(const struct mesh_node *node);
uint16_t mesh_node_primary(const struct mesh_node *node);
/* (Node Reset: the owner frees the node and creates a fresh one.) */

/*
 * The TTL for messages to one node (unicast addresses primary ..
 * primary + elements - 1) that are sent with MESH_TTL_DEFAULT, in place of
 * the Default TTL: a provisioner that knows how many relay hops a node is
 * away (gateway/relay_plan.h) sends with exactly that many, so relays
 * beyond the node do not repeat its messages; 0 for a neighbour (no relay
 * repeats it at all; it answers with TTL 0 too, see mesh_node_reply()).
 * ttl MESH_TTL_DEFAULT removes the entry.  Returns 0, -EINVAL (not unicast,
 * no elements, ttl 1 or above 0x7f), -ENOMEM.  Entries are not persisted.
 */
int mesh_node_dst_ttl_set(struct mesh_node *node, uint16_t primary, uint8_t elements, uint8_t ttl);
/* The TTL a MESH_TTL_DEFAULT send to dst uses. */
uint8_t mesh_node_dst_ttl(const struct mesh_node *node, uint16_t dst);

/* Configuration states (Config Server, §4.2). */
int mesh_node_default_ttl_set(struct mesh_node *node, uint8_t ttl);
void mesh_node_relay_set(struct mesh_node *node, bool on, uint8_t relay_xmit);
void mesh_node_beacon_set(struct mesh_node *node, bool on);
/* Private Beacon state: Mesh Private beacons (§3.10.4) at the beacon interval, beside or instead.
 */
void mesh_node_private_beacon_set(struct mesh_node *node, bool on);
void mesh_node_net_xmit_set(struct mesh_node *node, uint8_t net_xmit);

/* NetKeys (§4.2.4) and Key Refresh (§3.11.4). */
int mesh_node_netkey_add(struct mesh_node *node, uint16_t net_idx, const uint8_t key[16]);
int mesh_node_netkey_update(struct mesh_node *node, uint16_t net_idx, const uint8_t key[16]);
int mesh_node_netkey_del(struct mesh_node *node, uint16_t net_idx);
/* Phase transition 2 or 3 (Config Key Refresh Phase Set); 3 completes the refresh. */
int mesh_node_kr_transition(struct mesh_node *node, uint16_t net_idx, uint8_t transition);

/* AppKeys (§4.2.5); -EEXIST when the index is bound to another NetKey. */
int mesh_node_appkey_add(struct mesh_node *node, uint16_t net_idx, uint16_t app_idx,
			 const uint8_t key[16]);
int mesh_node_appkey_update(struct mesh_node *node, uint16_t net_idx, uint16_t app_idx,
			    const uint8_t key[16]);
int mesh_node_appkey_del(struct mesh_node *node, uint16_t net_idx, uint16_t app_idx);
/* The NetKey index an AppKey is bound to, or -ENOENT. */
int mesh_node_appkey_net(const struct mesh_node *node, uint16_t app_idx);
/* Copies up to max AppKey indexes bound to net_idx; returns how many exist. */
size_t mesh_node_appkeys(const struct mesh_node *node, uint16_t net_idx, uint16_t *out, size_t max);

/* Own device key and the Device Key Refresh candidate (NULL clears it). */
void mesh_node_devkey_set(struct mesh_node *node, const uint8_t key[16]);
void mesh_node_devkey_candidate(struct mesh_node *node, const uint8_t *key);
/*
 * Node Address Refresh (NPPI, §3.11.8.3): move the node's elements to a new
 * primary address (same element count) and replace the device key; a
 * pending candidate is dropped.  Messages already queued keep their old
 * source.  -EINVAL when the node is unprovisioned or the range does not fit
 * unicast space; state is unchanged then.
 */
int mesh_node_readdress(struct mesh_node *node, uint16_t primary, const uint8_t dev_key[16]);

/*
 * Stored state (§3.8.x: a node keeps its keys across power cycles): what an
 * owner needs to write the node to flash and rebuild it later with
 * mesh_node_provision(), mesh_node_netkey_add/update(),
 * mesh_node_kr_transition(), mesh_node_appkey_add/update() and
 * mesh_node_devkey_candidate().  The copies hold secrets: the caller wipes
 * them with mesh_crypto_wipe() after use.
 */
struct mesh_node_netkey {
	uint16_t net_idx;
	uint8_t phase;       /* Key Refresh phase 0, 1 or 2 */
	uint8_t key[16];     /* current key (the old one during a Key Refresh) */
	uint8_t new_key[16]; /* phases 1 and 2; zero in phase 0 */
};
size_t mesh_node_netkey_count(const struct mesh_node *node);
/* Copies the pos-th NetKey (0 <= pos < count) to *out; -ENOENT past the end. */
int mesh_node_netkey_at(const struct mesh_node *node, size_t pos, struct mesh_node_netkey *out);

struct mesh_node_appkey {
	uint16_t app_idx;
	uint16_t net_idx; /* the bound NetKey */
	bool has_new;     /* an AppKey Update during a Key Refresh gave new_key */
	uint8_t key[16];
	uint8_t new_key[16];
};
size_t mesh_node_appkey_count(const struct mesh_node *node);
/* Copies the pos-th AppKey (0 <= pos < count) to *out; -ENOENT past the end. */
int mesh_node_appkey_at(const struct mesh_node *node, size_t pos, struct mesh_node_appkey *out);

/* Copies the device key / the Device Key Refresh candidate; -ENOENT when there is none. */
int mesh_node_devkey_get(const struct mesh_node *node, uint8_t key[16]);
int mesh_node_devkey_candidate_get(const struct mesh_node *node, uint8_t key[16]);

/* Label UUIDs the node knows (subscriptions, publications): for virtual DSTs. */
int mesh_node_label_add(struct mesh_node *node, const uint8_t label[16]);

/*
 * Send an access message.  For app_idx MESH_APP_IDX_DEV the key is, in
 * order: msg->dev_key; else the first of ops->dev_keys(dst); else the node's
 * own device key.  Only one segmented message per destination is in flight
 * (§3.5.3.3) and the lower transport has cfg.ltp.tx_slots of them: a message
 * that cannot go yet waits in a queue of up to cfg.pending_max (its SeqAuth is
 * chosen when it leaves).  The queue is first in, first out per destination: a
 * message to a destination that has one waiting queues behind it even if it
 * could go at once, and leaves only when the one before it was delivered (an
 * unsegmented message with nothing queued ahead goes at once, as ever);
 * messages to other destinations pass a blocked one.
 * *handle (may be NULL) identifies a segmented send in ops->sent; 0 for
 * unsegmented and queued ones (a queued message reports no completion).
 * Returns 0, -EINVAL, -ENOENT (no such key), -ENOSPC (queue full: transient,
 * it drains as segmented sends finish), -ENOMEM, -EAGAIN (sequence numbers
 * exhausted or refused).
 */
int mesh_node_send(struct mesh_node *node, const struct mesh_node_msg *msg, uint64_t now_ms,
		   uint32_t *handle);

/*
 * The segmented send `handle` is known to have arrived: its destination
 * answered it (a status to a request, a PB-Remote Outbound Report to a PDU
 * Send), which it could not do before it had every segment.  Its remaining
 * retransmissions stop and it completes as delivered (ops->sent, status 0,
 * and the queue behind it moves): a Segment Acknowledgment that was lost
 * or is still on its way would otherwise make the lower transport send
 * segments that the receiver only acknowledges again (§3.5.3.3).  Only for
 * a unicast destination.  Returns 0, or -ENOENT when the send already
 * finished, -EINVAL for handle 0.
 */
int mesh_node_send_answered(struct mesh_node *node, uint32_t handle, uint64_t now_ms);

/*
 * Answer req from element elem with the same key (AppKey, or the device key
 * candidate that decrypted it) and subnet, to req->src; with TTL 0 when req
 * came with TTL 0 (from a neighbour), else the TTL for req->src.
 */
int mesh_node_reply(struct mesh_node *node, const struct mesh_acc_msg *req, uint8_t elem,
		    uint32_t opcode, const uint8_t *params, size_t len, uint64_t now_ms);

/*
 * Publish from a model per its publication state (§3.7.6): no-op returning
 * -ENOENT when publication is disabled.
 */
int mesh_node_publish(struct mesh_node *node, struct mesh_acc_model *mdl, uint32_t opcode,
		      const uint8_t *params, size_t len, uint64_t now_ms);

/*
 * One received advertising structure: MESH_AD_MESSAGE (Network PDU) or
 * MESH_AD_BEACON (Secure Network / Mesh Private beacon).  Other AD types are
 * ignored (-ENOTSUP); malformed or unauthentic input returns a negative code
 * and changes nothing.  Returns 0 when the PDU was accepted.
 */
int mesh_node_rx_adv(struct mesh_node *node, uint8_t ad_type, const uint8_t *data, size_t len,
		     uint64_t now_ms);

/*
 * Send the beacons the node has on (Secure Network, Mesh Private) for every
 * subnet now; also done periodically.  In Key Refresh phase 2 they carry the
 * Key Refresh flag, secured with the new key (§3.10.3, §3.10.4).
 */
void mesh_node_beacon_now(struct mesh_node *node, uint64_t now_ms);

/* The now_ms of the call being served (for model handlers, which get no clock). */
uint64_t mesh_node_now(const struct mesh_node *node);

uint64_t mesh_node_next_deadline(const struct mesh_node *node);
void mesh_node_tick(struct mesh_node *node, uint64_t now_ms);

/* Counters for tests and statistics. */
struct mesh_node_stats {
	uint32_t net_rx, net_rx_bad, net_relayed, net_tx;
	uint32_t acc_rx, acc_rx_bad, acc_tx;
	uint32_t beacons_rx, beacons_tx;
};
void mesh_node_stats(const struct mesh_node *node, struct mesh_node_stats *out);

#endif /* MESH_NODE_H */
