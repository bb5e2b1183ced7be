#include "mesh/utp.h"

#include <errno.h>
#include <string.h>

#include "mesh/crypto.h"

int mesh_utp_key_init(struct mesh_utp_key *k, uint16_t idx, const uint8_t key[16], bool app)
{
	uint8_t aid = 0;
	int err;

	if (!k || !key) {
		return -EINVAL;
	}
	if (app) {
		/* AID = k4(AppKey), §3.9.6.2. */
		err = mesh_crypto_k4(key, &aid);
		if (err) {
			return err;
		}
	}
	k->idx = idx;
	k->aid = aid;
	memcpy(k->key, key, 16);
	return 0;
}

void mesh_utp_nonce(const struct mesh_utp_msg *msg, uint8_t nonce[13])
{
	/*
	 * The ASZMIC bit is the SZMIC of a segmented message and 0 for an
	 * unsegmented one (§3.9.5.2); the sender guarantees the pairing, see
	 * mesh_utp_encrypt().
	 */
	if (msg->akf) {
		mesh_crypto_app_nonce(msg->szmic, msg->seq, msg->src, msg->dst, msg->iv_index,
				      nonce);
	} else {
		mesh_crypto_dev_nonce(msg->szmic, msg->seq, msg->src, msg->dst, msg->iv_index,
				      nonce);
	}
}

static size_t mic_len(bool szmic)
{
	return szmic ? MESH_UTP_MIC_64 : MESH_UTP_MIC_32;
}

int mesh_utp_encrypt(const struct mesh_utp_send *s, uint8_t *out, size_t cap,
		     struct mesh_utp_msg *msg)
{
	struct mesh_utp_msg m;
	uint8_t nonce[MESH_NONCE_LEN];
	size_t mic;
	int err;

	if (!s || !out || !msg || !s->key || !s->payload || s->len == 0 ||
	    s->len > MESH_ACC_PAYLOAD_MAX || s->seq > MESH_SEQ_MAX ||
	    !mesh_addr_is_unicast(s->src) || s->dst == MESH_ADDR_UNASSIGNED) {
		return -EINVAL;
	}
	mic = mic_len(s->szmic);
	if (s->len + mic > MESH_UTP_PDU_MAX) {
		return -EINVAL;
	}
	if (cap < s->len + mic) {
		return -ENOSPC;
	}
	/* The Label UUID is the additional data exactly when dst is virtual (§3.6). */
	if (mesh_addr_is_virtual(s->dst)) {
		uint16_t va;

		if (!s->label) {
			return -EINVAL;
		}
		err = mesh_crypto_virtual_addr(s->label, &va);
		if (err) {
			return err;
		}
		if (va != s->dst) {
			return -EINVAL;
		}
	} else if (s->label) {
		return -EINVAL;
	}

	memset(&m, 0, sizeof(m));
	m.net_idx = s->net_idx;
	m.iv_index = s->iv_index;
	m.src = s->src;
	m.dst = s->dst;
	m.seq = s->seq;
	m.ttl = s->ttl;
	m.akf = s->akf;
	m.aid = s->akf ? (uint8_t)(s->key->aid & 0x3f) : 0;
	m.szmic = s->szmic;
	/*
	 * An unsegmented Access PDU holds at most 15 octets with a 32-bit
	 * TransMIC, and a 64-bit TransMIC exists only in segmented form
	 * (§3.5.2.1, §3.5.2.2).  A sender may still segment a short payload,
	 * as §8.12.8 does, to have it acknowledged.
	 */
	m.segmented = s->segmented || s->szmic || s->len > MESH_ACC_UNSEG_MAX;
	mesh_utp_nonce(&m, nonce);
	err = mesh_crypto_ccm_encrypt(s->key->key, nonce, s->payload, s->len, s->label,
				      s->label ? 16 : 0, out, out + s->len, mic);
	if (err) {
		return err;
	}
	m.data = out;
	m.len = s->len + mic;
	*msg = m;
	return 0;
}

int mesh_utp_decrypt(const struct mesh_utp_keys *keys, const struct mesh_utp_msg *msg, uint8_t *buf,
		     size_t cap, struct mesh_acc_msg *out)
{
	const struct mesh_utp_key *cand[MESH_UTP_CAND_MAX];
	const uint8_t *labels[MESH_UTP_CAND_MAX];
	uint8_t nonce[MESH_NONCE_LEN];
	size_t n_cand = 0, n_labels = 1;
	size_t mic, plen, li, ki;
	bool virt;

	if (!keys || !msg || !buf || !out || msg->ctl || (msg->len && !msg->data)) {
		return -EINVAL;
	}
	mic = mic_len(msg->szmic);
	/* At least a 1-octet opcode; at most 32 full segments. */
	if (msg->len < mic + 1 || msg->len > MESH_UTP_PDU_MAX) {
		return -EBADMSG;
	}
	if (msg->szmic && !msg->segmented) {
		return -EBADMSG;
	}
	/* With AKF=0 the AID field is zero (§3.5.2.1); anything else is malformed. */
	if (!msg->akf && msg->aid != 0) {
		return -EBADMSG;
	}
	plen = msg->len - mic;
	if (cap < plen) {
		return -EINVAL;
	}

	if (msg->akf) {
		if (keys->app_keys) {
			n_cand = keys->app_keys(keys->ctx, msg->net_idx, msg->aid & 0x3f, cand,
						MESH_UTP_CAND_MAX);
		}
	} else if (keys->dev_keys) {
		n_cand = keys->dev_keys(keys->ctx, msg->src, msg->dst, cand, MESH_UTP_CAND_MAX);
	}
	if (n_cand > MESH_UTP_CAND_MAX) {
		n_cand = MESH_UTP_CAND_MAX;
	}
	virt = mesh_addr_is_virtual(msg->dst);
	labels[0] = NULL;
	if (virt) {
		n_labels =
		    keys->labels ? keys->labels(keys->ctx, msg->dst, labels, MESH_UTP_CAND_MAX) : 0;
		if (n_labels > MESH_UTP_CAND_MAX) {
			n_labels = MESH_UTP_CAND_MAX;
		}
	}
	if (n_cand == 0 || n_labels == 0) {
		return -ENOENT;
	}

	mesh_utp_nonce(msg, nonce);
	/*
	 * AIDs are 6 bits and virtual addresses 14, so several keys and
	 * labels may fit; only the MIC tells which one secured the message.
	 */
	for (li = 0; li < n_labels; li++) {
		for (ki = 0; ki < n_cand; ki++) {
			struct mesh_acc_msg r;
			size_t op_len;

			if (!cand[ki] || (virt && !labels[li])) {
				continue;
			}
			if (msg->akf && cand[ki]->aid != (msg->aid & 0x3f)) {
				continue;
			}
			if (mesh_crypto_ccm_decrypt(cand[ki]->key, nonce, msg->data, plen,
						    labels[li], virt ? 16 : 0, buf,
						    msg->data + plen, mic) != 0) {
				continue;
			}
			memset(&r, 0, sizeof(r));
			if (mesh_acc_op_decode(buf, plen, &r.opcode, &op_len) != 0) {
				/*
				 * An authentic payload with a bad opcode is
				 * malformed whatever key is tried next.
				 */
				mesh_crypto_wipe(buf, plen);
				return -EBADMSG;
			}
			r.net_idx = msg->net_idx;
			r.app_idx = msg->akf ? cand[ki]->idx : MESH_APP_IDX_DEV;
			r.dev_cand = msg->akf ? 0 : (uint8_t)ki;
			r.iv_index = msg->iv_index;
			r.seq = msg->seq;
			r.src = msg->src;
			r.dst = msg->dst;
			r.label = virt ? labels[li] : NULL;
			r.ttl = msg->ttl;
			r.params = buf + op_len;
			r.len = plen - op_len;
			*out = r;
			return 0;
		}
	}
	return -EACCES;
}
