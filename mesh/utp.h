/*
 * Upper transport layer for access messages (Mesh Protocol v1.1 §3.6.2,
 * nonces §3.9.5.2/§3.9.5.3): AES-CCM of the access payload under an AppKey
 * (application nonce, AKF=1, AID = k4(AppKey)) or a device key (device
 * nonce, AKF=0), with a 32- or 64-bit TransMIC (SZMIC) and, for a virtual
 * destination, the Label UUID as additional data.
 *
 * Pure functions: keys are looked up through struct mesh_utp_keys, so the
 * same code serves a node (one device key) and the gateway (the device keys
 * of every node it configures, two during a Device Key Refresh).
 */
#ifndef MESH_UTP_H
#define MESH_UTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/access.h"
#include "mesh/mesh.h"

/* Largest Upper Transport Access PDU: 32 segments of 12 octets (§3.5.2.2). */
#define MESH_UTP_PDU_MAX 384
#define MESH_UTP_MIC_32 4
#define MESH_UTP_MIC_64 8
/* At most this many candidate keys, or labels, are tried per message. */
#define MESH_UTP_CAND_MAX 8

/*
 * A key as the key store lends it.  For an AppKey: its index and AID (the
 * store computes k4 once, see mesh_utp_key_init()).  For a device key idx
 * and aid are unused.
 */
struct mesh_utp_key {
	uint16_t idx;
	uint8_t aid;
	uint8_t key[16];
};

/*
 * Key lookup.  Each callback writes up to `max` borrowed pointers into out
 * (valid until the decrypt call returns; mesh_acc_msg.label keeps pointing
 * at the label, so labels must live longer, see mesh_acc_msg) and returns
 * how many it wrote.  A NULL callback offers nothing.
 *  - app_keys: every AppKey of subnet net_idx whose AID is aid (AIDs are 6
 *    bits, so several keys may match; during Key Refresh both old and new).
 *  - dev_keys: the device keys that may secure a message from src to dst,
 *    in the order the caller wants them reported as candidates 0, 1, ...
 *    (a node: its own; the gateway: the peer's current and new key).
 *  - labels: every Label UUID (16 octets) whose virtual address is virt.
 */
struct mesh_utp_keys {
	void *ctx;
	size_t (*app_keys)(void *ctx, uint16_t net_idx, uint8_t aid,
			   const struct mesh_utp_key **out, size_t max);
	size_t (*dev_keys)(void *ctx, uint16_t src, uint16_t dst, const struct mesh_utp_key **out,
			   size_t max);
	size_t (*labels)(void *ctx, uint16_t virt, const uint8_t **out, size_t max);
};

/*
 * Fill k from a raw key: idx, the key bytes, and for an AppKey (app) its
 * AID.  Returns 0 or a crypto error.
 */
int mesh_utp_key_init(struct mesh_utp_key *k, uint16_t idx, const uint8_t key[16], bool app);

/*
 * The application or device nonce (§3.9.5.2, §3.9.5.3) for msg: akf picks
 * the type, szmic the ASZMIC bit, seq/src/dst/iv_index the rest.
 */
void mesh_utp_nonce(const struct mesh_utp_msg *msg, uint8_t nonce[13]);

/* An access payload to encrypt. */
struct mesh_utp_send {
	uint16_t net_idx;
	uint32_t iv_index;
	uint32_t seq; /* SeqAuth low 24 bits: the SEQ the first segment will carry */
	uint16_t src;
	uint16_t dst;
	uint8_t ttl;
	bool szmic;                     /* 64-bit TransMIC (forces segmentation) */
	bool segmented;                 /* segment even a payload that would fit one PDU */
	bool akf;                       /* true: key is an AppKey; false: a device key */
	const struct mesh_utp_key *key; /* borrowed for the call */
	const uint8_t *label;           /* 16 octets when dst is virtual, else NULL */
	const uint8_t *payload;         /* opcode ‖ parameters, 1..380 octets */
	size_t len;
};

/*
 * Encrypt s->payload into out (capacity cap >= len + TransMIC) and describe
 * the Upper Transport PDU in *msg for lower transport; msg->data points at
 * out (borrowed).  msg->segmented is set when s->segmented asks for it or
 * the PDU cannot go unsegmented.
 * Returns 0, -EINVAL (bad length, seq > 24 bits, missing or mismatching
 * label, virtual label on a non-virtual dst, invalid src), -ENOSPC (cap), or
 * a crypto error.
 */
int mesh_utp_encrypt(const struct mesh_utp_send *s, uint8_t *out, size_t cap,
		     struct mesh_utp_msg *msg);

/*
 * Decrypt an Upper Transport Access PDU from lower transport, trying every
 * candidate key (and every Label UUID for a virtual dst), and decode its
 * opcode.  The plaintext goes to buf (capacity cap >= msg->len - TransMIC);
 * on success *out describes it, with out->params pointing into buf and
 * out->app_idx/dev_cand/label saying what authenticated it.
 *
 * Returns 0; -EINVAL (NULL argument, ctl message, cap too small);
 * -EBADMSG (too short or too long for its TransMIC, SZMIC on an
 * unsegmented PDU, AID set with AKF=0, or a bad opcode in an authentic
 * payload); -ENOENT (no candidate key or no label); -EACCES (candidates
 * exist but none authenticates).  On failure *out is untouched and buf holds
 * no plaintext.
 */
int mesh_utp_decrypt(const struct mesh_utp_keys *keys, const struct mesh_utp_msg *msg, uint8_t *buf,
		     size_t cap, struct mesh_acc_msg *out);

#endif /* MESH_UTP_H */
