/*
 * Constants shared by every layer of mesh/, and the two structs that cross
 * layer boundaries:
 *
 *   bearer --bytes--> net (mesh_net_*) --struct mesh_net_rx--> lower transport
 *   lower transport (mesh_ltp_*) --struct mesh_utp_msg--> upper transport/access
 *
 * and the same structs downwards on transmit.  Pointers inside them are
 * borrowed and valid only for the duration of the call or callback that
 * carries them.
 *
 * Rules for everything in mesh/ (../shared/style.md §2.6): no I/O, no
 * globals, no threads.  Time comes in as `uint64_t now_ms` arguments (a
 * monotonic clock chosen by the caller); an object that needs to be woken
 * says when through *_next_deadline() (UINT64_MAX = never) and is woken with
 * *_tick(obj, now_ms).  Randomness comes through struct mesh_rng so a test
 * can make a run reproducible.
 */
#ifndef MESH_MESH_H
#define MESH_MESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* AD types (Core Supplement; formats.md §1.1). */
#define MESH_AD_PB_ADV 0x29
#define MESH_AD_MESSAGE 0x2a
#define MESH_AD_BEACON 0x2b

#define MESH_NET_PDU_MAX 29  /* octets, §3.4.4 */
#define MESH_ADV_DATA_MAX 29 /* octets of AD data after the AD type */
#define MESH_SEQ_MAX 0xffffff
#define MESH_TTL_MAX 0x7f
#define MESH_TTL_DEFAULT 0xff /* "use the node's Default TTL" in send requests */
#define MESH_KEY_IDX_MAX 0x0fff

/* Addresses (§3.4.2). */
#define MESH_ADDR_UNASSIGNED 0x0000
#define MESH_ADDR_ALL_PROXIES 0xfffc
#define MESH_ADDR_ALL_FRIENDS 0xfffd
#define MESH_ADDR_ALL_RELAYS 0xfffe
#define MESH_ADDR_ALL_NODES 0xffff

static inline bool mesh_addr_is_unicast(uint16_t a)
{
	return a != 0 && a < 0x8000;
}

static inline bool mesh_addr_is_virtual(uint16_t a)
{
	return (a & 0xc000) == 0x8000;
}

static inline bool mesh_addr_is_group(uint16_t a)
{
	return (a & 0xc000) == 0xc000;
}

/* Injected randomness: fn == NULL means the CSPRNG (mesh_crypto_random). */
struct mesh_rng {
	int (*fn)(void *ctx, uint8_t *buf, size_t len);
	void *ctx;
};

/* Fill buf from rng (or from the CSPRNG when rng or rng->fn is NULL). */
int mesh_rng_fill(const struct mesh_rng *rng, uint8_t *buf, size_t len);

/* Network layer -> lower transport: one authenticated, decrypted Network PDU. */
struct mesh_net_rx {
	uint16_t net_idx;  /* NetKey index it decrypted under */
	bool new_key;      /* decrypted with the new key of a Key Refresh */
	uint32_t iv_index; /* IV Index it decrypted under */
	bool ctl;
	uint8_t ttl;
	uint32_t seq;
	uint16_t src;
	uint16_t dst;
	const uint8_t *tpdu; /* lower transport PDU, borrowed */
	size_t tpdu_len;
};

/* Lower transport -> network layer: one lower transport PDU to send. */
struct mesh_net_tx {
	uint16_t net_idx;
	bool ctl;
	uint8_t ttl;
	uint32_t seq; /* already allocated by the sender */
	uint16_t src;
	uint16_t dst;
	const uint8_t *tpdu; /* borrowed */
	size_t tpdu_len;
};

/*
 * An Upper Transport PDU, as lower transport delivers it after reassembly
 * and as upper transport hands it down for (possibly segmented) sending.
 * For access messages `data` is the encrypted access payload followed by the
 * TransMIC (4 octets, or 8 when szmic); for control messages it is the
 * control parameters.
 */
struct mesh_utp_msg {
	uint16_t net_idx;
	uint32_t iv_index; /* IV Index of SeqAuth */
	uint16_t src;
	uint16_t dst;
	uint32_t seq; /* low 24 bits of SeqAuth (the SEQ of segment 0) */
	uint8_t ttl;  /* received TTL, or TTL to send with */
	bool ctl;
	uint8_t opcode;      /* transport control opcode (ctl only) */
	bool akf;            /* access: application key (true) or device key */
	uint8_t aid;         /* access: AID when akf */
	bool szmic;          /* access: 64-bit TransMIC */
	bool segmented;      /* rx: arrived segmented; tx: force segmentation */
	const uint8_t *data; /* borrowed */
	size_t len;
};

#endif /* MESH_MESH_H */
