/*
 * Network layer: codec, subnets and Key Refresh, IV Index, sequence
 * numbers, message cache and relaying.  See net.h.
 */
#include "mesh/net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/buf.h"
#include "mesh/crypto.h"

#define NET_MIC_LEN 4
#define NET_MIC_CTL_LEN 8
#define SEQ_SPACE 0x1000000u /* one past the last 24-bit SEQ */

/* --- Key material ------------------------------------------------------ */

int mesh_net_cred_flooding(const uint8_t net_key[16], struct mesh_net_cred *cred)
{
	const uint8_t p = 0x00;

	if (!net_key || !cred) {
		return -EINVAL;
	}
	return mesh_crypto_k2(net_key, &p, 1, &cred->nid, cred->enc_key, cred->priv_key);
}

int mesh_net_cred_directed(const uint8_t net_key[16], struct mesh_net_cred *cred)
{
	const uint8_t p = 0x02;

	if (!net_key || !cred) {
		return -EINVAL;
	}
	return mesh_crypto_k2(net_key, &p, 1, &cred->nid, cred->enc_key, cred->priv_key);
}

int mesh_net_cred_friendship(const uint8_t net_key[16], uint16_t lpn_addr, uint16_t friend_addr,
			     uint16_t lpn_counter, uint16_t friend_counter,
			     struct mesh_net_cred *cred)
{
	uint8_t p[9];

	if (!net_key || !cred) {
		return -EINVAL;
	}
	p[0] = 0x01;
	mesh_put_be16(p + 1, lpn_addr);
	mesh_put_be16(p + 3, friend_addr);
	mesh_put_be16(p + 5, lpn_counter);
	mesh_put_be16(p + 7, friend_counter);
	return mesh_crypto_k2(net_key, p, sizeof(p), &cred->nid, cred->enc_key, cred->priv_key);
}

int mesh_net_keys_derive(const uint8_t net_key[16], struct mesh_net_keys *keys)
{
	struct mesh_net_keys k;
	int err;

	if (!net_key || !keys) {
		return -EINVAL;
	}
	err = mesh_net_cred_flooding(net_key, &k.flooding);
	if (!err) {
		err = mesh_net_cred_directed(net_key, &k.directed);
	}
	if (!err) {
		err = mesh_crypto_k3(net_key, k.net_id);
	}
	if (!err) {
		err = mesh_crypto_identity_key(net_key, k.identity_key);
	}
	if (!err) {
		err = mesh_crypto_beacon_key(net_key, k.beacon_key);
	}
	if (!err) {
		err = mesh_crypto_private_beacon_key(net_key, k.private_beacon_key);
	}
	if (!err) {
		*keys = k;
	}
	mesh_crypto_wipe(&k, sizeof(k));
	return err;
}

/* --- Stateless codec --------------------------------------------------- */

static size_t mic_len(bool ctl)
{
	return ctl ? NET_MIC_CTL_LEN : NET_MIC_LEN;
}

static size_t tpdu_max(bool ctl)
{
	return ctl ? MESH_NET_TPDU_CTL_MAX : MESH_NET_TPDU_MAX;
}

int mesh_net_encode(const struct mesh_net_cred *cred, uint32_t iv_index,
		    const struct mesh_net_tx *tx, uint8_t out[MESH_NET_PDU_MAX], size_t *out_len)
{
	uint8_t pdu[MESH_NET_PDU_MAX];
	uint8_t nonce[MESH_NONCE_LEN];
	uint8_t ctl_ttl;
	size_t mlen, total;
	int err;

	if (!cred || !tx || !out || !out_len || (!tx->tpdu && tx->tpdu_len)) {
		return -EINVAL;
	}
	if (tx->ttl > MESH_TTL_MAX || tx->seq > MESH_SEQ_MAX || !mesh_addr_is_unicast(tx->src) ||
	    tx->dst == MESH_ADDR_UNASSIGNED || tx->tpdu_len < 1 ||
	    tx->tpdu_len > tpdu_max(tx->ctl) || cred->nid > 0x7f) {
		return -EINVAL;
	}
	mlen = mic_len(tx->ctl);
	total = MESH_NET_HDR_LEN + tx->tpdu_len + mlen;

	/* §3.4.4: IVI is the least significant bit of the IV Index in the nonce. */
	ctl_ttl = (uint8_t)((tx->ctl ? 0x80 : 0x00) | tx->ttl);
	pdu[0] = (uint8_t)(((iv_index & 1) << 7) | cred->nid);
	pdu[1] = ctl_ttl;
	pdu[2] = (uint8_t)(tx->seq >> 16);
	pdu[3] = (uint8_t)(tx->seq >> 8);
	pdu[4] = (uint8_t)tx->seq;
	mesh_put_be16(pdu + 5, tx->src);
	mesh_put_be16(pdu + 7, tx->dst);
	memcpy(pdu + MESH_NET_HDR_LEN, tx->tpdu, tx->tpdu_len);

	/* §3.8.7.2: DST || TransportPDU is encrypted; the NetMIC follows it. */
	mesh_crypto_net_nonce(ctl_ttl, tx->seq, tx->src, iv_index, nonce);
	err = mesh_crypto_ccm_encrypt(cred->enc_key, nonce, pdu + 7, 2 + tx->tpdu_len, NULL, 0,
				      pdu + 7, pdu + MESH_NET_HDR_LEN + tx->tpdu_len, mlen);
	if (!err) {
		/* §3.8.7.3: obfuscation hides CTL/TTL, SEQ and SRC. */
		err = mesh_crypto_net_obfuscate(cred->priv_key, iv_index, pdu, total);
	}
	if (!err) {
		memcpy(out, pdu, total);
		*out_len = total;
	}
	mesh_crypto_wipe(pdu, sizeof(pdu));
	return err;
}

int mesh_net_decode(const struct mesh_net_cred *cred, uint32_t iv_index, const uint8_t *pdu,
		    size_t len, struct mesh_net_rx *rx, uint8_t tpdu[MESH_NET_TPDU_MAX])
{
	uint8_t b[MESH_NET_PDU_MAX];
	uint8_t plain[2 + MESH_NET_TPDU_MAX];
	uint8_t nonce[MESH_NONCE_LEN];
	struct mesh_rbuf r;
	uint8_t ctl_ttl;
	bool ctl;
	size_t mlen, tlen;
	uint32_t seq;
	uint16_t src, dst;
	int err;

	if (!cred || !pdu || !rx || !tpdu) {
		return -EINVAL;
	}
	if (len < MESH_NET_PDU_MIN || len > MESH_NET_PDU_MAX) {
		return -EBADMSG;
	}
	if ((pdu[0] & 0x7f) != cred->nid || (pdu[0] >> 7) != (iv_index & 1)) {
		return -ENOENT;
	}
	memcpy(b, pdu, len);
	err = mesh_crypto_net_obfuscate(cred->priv_key, iv_index, b, len);
	if (err) {
		return err;
	}

	mesh_rbuf_init(&r, b, len);
	mesh_rbuf_pull(&r, 1); /* IVI | NID, checked above */
	ctl_ttl = mesh_rbuf_u8(&r);
	seq = mesh_rbuf_be24(&r);
	src = mesh_rbuf_be16(&r);
	ctl = (ctl_ttl & 0x80) != 0;
	mlen = mic_len(ctl);
	/*
	 * §3.4.4: the TransportPDU is 1..16 octets with a 32-bit NetMIC
	 * (CTL=0) or 1..12 octets with a 64-bit NetMIC (CTL=1).  The 29-octet
	 * limit checked above bounds the upper end in both cases.
	 */
	if (!mesh_rbuf_ok(&r) || r.len < 2 + 1 + mlen) {
		return -EBADMSG;
	}
	tlen = r.len - 2 - mlen;
	if (tlen > tpdu_max(ctl)) {
		return -EBADMSG;
	}
	/* §3.4.2.2: only a unicast address may originate a message. */
	if (!mesh_addr_is_unicast(src)) {
		return -EBADMSG;
	}

	mesh_crypto_net_nonce(ctl_ttl, seq, src, iv_index, nonce);
	err = mesh_crypto_ccm_decrypt(cred->enc_key, nonce, b + 7, 2 + tlen, NULL, 0, plain,
				      b + 7 + 2 + tlen, mlen);
	if (err) {
		return err;
	}
	dst = mesh_get_be16(plain);
	if (dst == MESH_ADDR_UNASSIGNED) {
		mesh_crypto_wipe(plain, sizeof(plain));
		return -EBADMSG;
	}

	memcpy(tpdu, plain + 2, tlen);
	mesh_crypto_wipe(plain, sizeof(plain));
	rx->net_idx = 0;
	rx->new_key = false;
	rx->iv_index = iv_index;
	rx->ctl = ctl;
	rx->ttl = ctl_ttl & 0x7f;
	rx->seq = seq;
	rx->src = src;
	rx->dst = dst;
	rx->tpdu = tpdu;
	rx->tpdu_len = tlen;
	return 0;
}

/* --- Network Transmit / Relay Retransmit ------------------------------- */

int mesh_net_xmit_pack(uint8_t count, uint16_t interval_ms, uint8_t *octet)
{
	if (!octet || count > 7 || interval_ms < 10 || interval_ms > 320 || interval_ms % 10) {
		return -EINVAL;
	}
	*octet = (uint8_t)(((interval_ms / 10 - 1) << 3) | count);
	return 0;
}

void mesh_net_xmit_unpack(uint8_t octet, uint8_t *count, uint16_t *interval_ms)
{
	if (count) {
		*count = octet & 0x07;
	}
	if (interval_ms) {
		*interval_ms = (uint16_t)(((octet >> 3) + 1) * 10);
	}
}

/* --- Network state ----------------------------------------------------- */

struct subnet {
	uint16_t net_idx;
	uint8_t phase; /* Key Refresh phase 0, 1 or 2 */
	uint8_t key[16];
	uint8_t new_key[16]; /* valid in phases 1 and 2 */
	struct mesh_net_keys keys;
	struct mesh_net_keys new_keys;
};

/* One remembered PDU: who sent it, with which SEQ, under which IV Index. */
struct cache_entry {
	uint32_t iv_index;
	uint32_t seq; /* 24 bits; bit 31 marks a used slot */
	uint16_t src;
};

#define CACHE_USED 0x80000000u

struct mesh_net {
	struct subnet *subnets;
	size_t n_subnets;

	/* §3.10.5: N is iv_index; while ivu, we transmit with N - 1. */
	uint32_t iv_index;
	bool ivu;
	bool ivu_initiator; /* we started the running IV Update */
	bool test_mode;
	uint64_t iv_since_ms; /* entry into the current IV state */
	bool recovered;
	uint64_t recovery_ms; /* last IV Index Recovery */

	uint32_t seq_next;
	uint32_t seq_reserved; /* numbers below this are durably reserved */
	int (*seq_reserve)(void *ctx, uint32_t up_to);
	void *seq_ctx;
	uint32_t seq_block;

	uint16_t addr;
	uint8_t n_elems;
	bool relay;
	uint8_t default_ttl;

	struct cache_entry cache[MESH_NET_CACHE_SIZE];
	size_t cache_next; /* ring position of the next insertion */
};

struct mesh_net *mesh_net_new(uint64_t now_ms)
{
	struct mesh_net *net = calloc(1, sizeof(*net));

	if (!net) {
		return NULL;
	}
	net->iv_since_ms = now_ms;
	net->default_ttl = 7;
	return net;
}

static void subnet_wipe(struct subnet *s)
{
	mesh_crypto_wipe(s, sizeof(*s));
}

void mesh_net_free(struct mesh_net *net)
{
	size_t i;

	if (!net) {
		return;
	}
	for (i = 0; i < net->n_subnets; i++) {
		subnet_wipe(&net->subnets[i]);
	}
	free(net->subnets);
	mesh_crypto_wipe(net, sizeof(*net));
	free(net);
}

int mesh_net_addr_set(struct mesh_net *net, uint16_t primary, uint8_t count)
{
	if (!net || !mesh_addr_is_unicast(primary) || count == 0 ||
	    (uint32_t)primary + count - 1 > 0x7fff) {
		return -EINVAL;
	}
	net->addr = primary;
	net->n_elems = count;
	return 0;
}

bool mesh_net_is_local(const struct mesh_net *net, uint16_t addr)
{
	return net && net->n_elems && addr >= net->addr && addr < net->addr + net->n_elems;
}

void mesh_net_relay_set(struct mesh_net *net, bool on)
{
	if (net) {
		net->relay = on;
	}
}

int mesh_net_default_ttl_set(struct mesh_net *net, uint8_t ttl)
{
	/* The Default TTL state is 0 or 2..127 (Mesh Protocol §4.2, Default TTL). */
	if (!net || ttl == 1 || ttl > MESH_TTL_MAX) {
		return -EINVAL;
	}
	net->default_ttl = ttl;
	return 0;
}

/* Subnets ---------------------------------------------------------------- */

static struct subnet *subnet_find(const struct mesh_net *net, uint16_t net_idx)
{
	size_t i;

	for (i = 0; i < net->n_subnets; i++) {
		if (net->subnets[i].net_idx == net_idx) {
			return &net->subnets[i];
		}
	}
	return NULL;
}

int mesh_net_subnet_add(struct mesh_net *net, uint16_t net_idx, const uint8_t net_key[16])
{
	struct subnet *s, *grown;
	struct subnet fresh;
	int err;

	if (!net || !net_key || net_idx > MESH_KEY_IDX_MAX) {
		return -EINVAL;
	}
	s = subnet_find(net, net_idx);
	if (s) {
		return mesh_crypto_equal(s->key, net_key, 16) ? 0 : -EEXIST;
	}
	if (net->n_subnets >= MESH_NET_SUBNETS_MAX) {
		return -ENOSPC;
	}
	memset(&fresh, 0, sizeof(fresh));
	fresh.net_idx = net_idx;
	memcpy(fresh.key, net_key, 16);
	err = mesh_net_keys_derive(net_key, &fresh.keys);
	if (err) {
		goto out_wipe;
	}
	grown = realloc(net->subnets, (net->n_subnets + 1) * sizeof(*grown));
	if (!grown) {
		err = -ENOMEM;
		goto out_wipe;
	}
	net->subnets = grown;
	net->subnets[net->n_subnets++] = fresh;
out_wipe:
	subnet_wipe(&fresh);
	return err;
}

int mesh_net_subnet_del(struct mesh_net *net, uint16_t net_idx)
{
	struct subnet *s;
	size_t pos;

	if (!net) {
		return -EINVAL;
	}
	s = subnet_find(net, net_idx);
	if (!s) {
		return -ENOENT;
	}
	pos = (size_t)(s - net->subnets);
	subnet_wipe(s);
	memmove(s, s + 1, (net->n_subnets - pos - 1) * sizeof(*s));
	net->n_subnets--;
	subnet_wipe(&net->subnets[net->n_subnets]);
	return 0;
}

int mesh_net_subnet_update(struct mesh_net *net, uint16_t net_idx, const uint8_t new_key[16])
{
	struct mesh_net_keys k;
	struct subnet *s;
	int err;

	if (!net || !new_key) {
		return -EINVAL;
	}
	s = subnet_find(net, net_idx);
	if (!s) {
		return -ENOENT;
	}
	/* Config NetKey Update: repeating it in phase 1 with the same key is harmless. */
	if (s->phase == 1) {
		return mesh_crypto_equal(s->new_key, new_key, 16) ? 0 : -EBUSY;
	}
	if (s->phase != 0) {
		return -EBUSY;
	}
	err = mesh_net_keys_derive(new_key, &k);
	if (err) {
		return err;
	}
	memcpy(s->new_key, new_key, 16);
	s->new_keys = k;
	s->phase = 1;
	mesh_crypto_wipe(&k, sizeof(k));
	return 0;
}

/* Key Refresh phase 3: the new key becomes the only key (Key Refresh procedure). */
static void kr_finish(struct subnet *s)
{
	memcpy(s->key, s->new_key, 16);
	s->keys = s->new_keys;
	mesh_crypto_wipe(s->new_key, sizeof(s->new_key));
	mesh_crypto_wipe(&s->new_keys, sizeof(s->new_keys));
	s->phase = 0;
}

int mesh_net_subnet_kr_set(struct mesh_net *net, uint16_t net_idx, uint8_t phase)
{
	struct subnet *s;

	if (!net || (phase != 2 && phase != 3)) {
		return -EINVAL;
	}
	s = subnet_find(net, net_idx);
	if (!s) {
		return -ENOENT;
	}
	if (phase == 2) {
		if (s->phase == 0) {
			return -EBUSY;
		}
		s->phase = 2;
		return 0;
	}
	if (s->phase != 0) {
		kr_finish(s);
	}
	return 0;
}

int mesh_net_subnet_kr_phase(const struct mesh_net *net, uint16_t net_idx)
{
	const struct subnet *s = net ? subnet_find(net, net_idx) : NULL;

	return s ? s->phase : -ENOENT;
}

size_t mesh_net_subnet_count(const struct mesh_net *net)
{
	return net ? net->n_subnets : 0;
}

int mesh_net_subnet_at(const struct mesh_net *net, size_t pos, uint16_t *net_idx)
{
	if (!net || !net_idx || pos >= net->n_subnets) {
		return -ENOENT;
	}
	*net_idx = net->subnets[pos].net_idx;
	return 0;
}

const struct mesh_net_keys *mesh_net_subnet_keys(const struct mesh_net *net, uint16_t net_idx,
						 bool new_key)
{
	const struct subnet *s = net ? subnet_find(net, net_idx) : NULL;

	if (!s) {
		return NULL;
	}
	if (new_key) {
		return s->phase ? &s->new_keys : NULL;
	}
	return &s->keys;
}

bool mesh_net_subnet_tx_new_key(const struct mesh_net *net, uint16_t net_idx)
{
	const struct subnet *s = net ? subnet_find(net, net_idx) : NULL;

	/* Key Refresh procedure: phase 1 still transmits with the old key, phase 2 with the new. */
	return s && s->phase == 2;
}

/* IV Index ------------------------------------------------------------- */

int mesh_net_iv_set(struct mesh_net *net, uint32_t iv_index, bool update, uint64_t now_ms)
{
	/* During an update the old index N - 1 must exist. */
	if (!net || (update && iv_index == 0)) {
		return -EINVAL;
	}
	net->iv_index = iv_index;
	net->ivu = update;
	net->ivu_initiator = false;
	net->iv_since_ms = now_ms;
	return 0;
}

void mesh_net_iv_get(const struct mesh_net *net, uint32_t *iv_index, bool *update)
{
	if (iv_index) {
		*iv_index = net->iv_index;
	}
	if (update) {
		*update = net->ivu;
	}
}

uint32_t mesh_net_iv_tx(const struct mesh_net *net)
{
	return net->ivu ? net->iv_index - 1 : net->iv_index;
}

void mesh_net_iv_test_mode(struct mesh_net *net, bool on)
{
	if (net) {
		net->test_mode = on;
	}
}

/* True when the current IV state has lasted the §3.10.5 minimum. */
static bool iv_state_aged(const struct mesh_net *net, uint64_t now_ms)
{
	return net->test_mode || (now_ms >= net->iv_since_ms &&
				  now_ms - net->iv_since_ms >= MESH_NET_IV_MIN_STATE_MS);
}

static void iv_enter(struct mesh_net *net, uint32_t iv_index, bool update, uint64_t now_ms)
{
	/*
	 * §3.10.5: the sequence number restarts at 0 when the IV Index used
	 * for transmission grows, i.e. on leaving IV Update in Progress or on
	 * a recovery jump.  Entering IV Update in Progress keeps transmitting
	 * with the old index, so SEQ continues.
	 */
	uint32_t old_tx = mesh_net_iv_tx(net);

	net->iv_index = iv_index;
	net->ivu = update;
	net->iv_since_ms = now_ms;
	net->ivu_initiator = false; /* mesh_net_iv_update_start() sets it again */
	if (mesh_net_iv_tx(net) != old_tx) {
		net->seq_next = 0;
		net->seq_reserved = 0;
	}
}

int mesh_net_iv_update_start(struct mesh_net *net, uint64_t now_ms)
{
	if (!net) {
		return -EINVAL;
	}
	if (net->ivu) {
		return -EALREADY;
	}
	if (!iv_state_aged(net, now_ms)) {
		return -EBUSY;
	}
	if (net->iv_index == UINT32_MAX) {
		return -ENOSPC;
	}
	iv_enter(net, net->iv_index + 1, true, now_ms);
	net->ivu_initiator = true;
	return 0;
}

bool mesh_net_iv_update_needed(const struct mesh_net *net)
{
	return net && !net->ivu && net->seq_next >= MESH_NET_SEQ_IVU_THRESHOLD;
}

int mesh_net_iv_beacon(struct mesh_net *net, uint32_t iv_index, bool update, uint64_t now_ms)
{
	uint32_t n;

	if (!net) {
		return 0;
	}
	n = net->iv_index;
	/* §3.10.5: an IV Index below ours, or an old update flag, is stale. */
	if (iv_index < n) {
		return 0;
	}
	if (iv_index == n) {
		/* The update we are in has completed elsewhere. */
		if (net->ivu && !update && iv_state_aged(net, now_ms)) {
			iv_enter(net, n, false, now_ms);
			return 1;
		}
		return 0;
	}
	if (iv_index == n + 1 && update && !net->ivu) {
		/* The normal path: the network starts an IV Update. */
		if (!iv_state_aged(net, now_ms)) {
			return 0;
		}
		iv_enter(net, iv_index, true, now_ms);
		return 1;
	}
	/*
	 * §3.10.6 IV Index Recovery: we missed at least one complete update.
	 * Jumps beyond 42 are ignored, and a node recovers at most once per
	 * 192 hours (unless in test mode).
	 */
	if (iv_index - n > MESH_NET_IV_RECOVERY_MAX) {
		return 0;
	}
	if (net->recovered && !net->test_mode &&
	    now_ms - net->recovery_ms < MESH_NET_IV_RECOVERY_GAP_MS) {
		return 0;
	}
	iv_enter(net, iv_index, update, now_ms);
	net->recovered = true;
	net->recovery_ms = now_ms;
	return 1;
}

uint64_t mesh_net_next_deadline(const struct mesh_net *net)
{
	if (!net) {
		return UINT64_MAX;
	}
	if (net->ivu) {
		/*
		 * The initiator ends its update after the 96-hour minimum; a node
		 * that only followed beacons waits for a beacon, but never stays
		 * longer than 144 hours (§3.10.5).
		 */
		if (!net->ivu_initiator) {
			return net->iv_since_ms + MESH_NET_IV_MAX_UPDATE_MS;
		}
		return net->test_mode ? net->iv_since_ms
				      : net->iv_since_ms + MESH_NET_IV_MIN_STATE_MS;
	}
	if (mesh_net_iv_update_needed(net)) {
		return net->test_mode ? net->iv_since_ms
				      : net->iv_since_ms + MESH_NET_IV_MIN_STATE_MS;
	}
	return UINT64_MAX;
}

int mesh_net_tick(struct mesh_net *net, uint64_t now_ms)
{
	if (!net) {
		return 0;
	}
	if (net->ivu) {
		if (now_ms < mesh_net_next_deadline(net)) {
			return 0;
		}
		iv_enter(net, net->iv_index, false, now_ms);
		return 1;
	}
	if (mesh_net_iv_update_needed(net) && mesh_net_iv_update_start(net, now_ms) == 0) {
		return 1;
	}
	return 0;
}

/* Sequence numbers ------------------------------------------------------ */

void mesh_net_seq_store_set(struct mesh_net *net, int (*reserve)(void *ctx, uint32_t up_to),
			    void *ctx, uint32_t block)
{
	if (!net) {
		return;
	}
	net->seq_reserve = reserve;
	net->seq_ctx = ctx;
	net->seq_block = block ? block : 1;
	/* Whatever was reserved before was not reserved through this hook. */
	net->seq_reserved = net->seq_next;
}

int mesh_net_seq_next(struct mesh_net *net, uint32_t *seq)
{
	int err;

	if (!net || !seq) {
		return -EINVAL;
	}
	if (net->seq_next >= SEQ_SPACE) {
		return -ENOSPC;
	}
	if (net->seq_reserve && net->seq_next >= net->seq_reserved) {
		uint32_t up_to = net->seq_next + net->seq_block;

		if (up_to > SEQ_SPACE || up_to < net->seq_next) {
			up_to = SEQ_SPACE;
		}
		/* Persist before use, so a crash can only skip numbers. */
		err = net->seq_reserve(net->seq_ctx, up_to);
		if (err) {
			return err;
		}
		net->seq_reserved = up_to;
	}
	*seq = net->seq_next++;
	return 0;
}

uint32_t mesh_net_seq_get(const struct mesh_net *net)
{
	return net ? net->seq_next : 0;
}

int mesh_net_seq_set(struct mesh_net *net, uint32_t next)
{
	if (!net || next > SEQ_SPACE) {
		return -EINVAL;
	}
	net->seq_next = next;
	net->seq_reserved = next;
	return 0;
}

/* Message cache (§3.4.6.5) ------------------------------------------- */

static bool cache_has(const struct mesh_net *net, uint32_t iv_index, uint16_t src, uint32_t seq)
{
	size_t i;

	for (i = 0; i < MESH_NET_CACHE_SIZE; i++) {
		const struct cache_entry *e = &net->cache[i];

		if (e->seq == (seq | CACHE_USED) && e->src == src && e->iv_index == iv_index) {
			return true;
		}
	}
	return false;
}

static void cache_add(struct mesh_net *net, uint32_t iv_index, uint16_t src, uint32_t seq)
{
	/* A ring: the oldest entry gives way, so memory stays bounded. */
	struct cache_entry *e = &net->cache[net->cache_next];

	e->iv_index = iv_index;
	e->src = src;
	e->seq = seq | CACHE_USED;
	net->cache_next = (net->cache_next + 1) % MESH_NET_CACHE_SIZE;
}

/* Receive and send ------------------------------------------------------ */

static int try_cred(const struct mesh_net_cred *cred, uint32_t iv_index, const uint8_t *pdu,
		    size_t len, struct mesh_net_rx *rx, uint8_t *tpdu, int *best)
{
	int err;

	if (cred->nid != (pdu[0] & 0x7f)) {
		return -ENOENT;
	}
	err = mesh_net_decode(cred, iv_index, pdu, len, rx, tpdu);
	/*
	 * Report the most telling failure: a MIC failure or malformed content
	 * under a matching NID says more than "no such NID".
	 */
	if (err && (*best == -ENOENT || err == -EACCES)) {
		*best = err;
	}
	return err;
}

int mesh_net_recv(struct mesh_net *net, const uint8_t *pdu, size_t len, struct mesh_net_rx *rx,
		  uint8_t tpdu[MESH_NET_TPDU_MAX], uint8_t relay[MESH_NET_PDU_MAX],
		  size_t *relay_len)
{
	const struct mesh_net_cred *used = NULL;
	struct mesh_net_rx r;
	uint8_t t[MESH_NET_TPDU_MAX];
	uint32_t iv_index;
	int best = -ENOENT;
	int result = 0;
	size_t i;

	if (!net || !pdu || !rx || !tpdu || (relay && !relay_len)) {
		return -EINVAL;
	}
	if (len < MESH_NET_PDU_MIN || len > MESH_NET_PDU_MAX) {
		return -EBADMSG;
	}
	/*
	 * §3.4.4.4: a matching IVI bit means the current IV Index, otherwise
	 * the one before it (the network may not all have switched yet).
	 */
	iv_index = net->iv_index;
	if ((pdu[0] >> 7) != (iv_index & 1)) {
		if (iv_index == 0) {
			return -ENOENT;
		}
		iv_index--;
	}

	/*
	 * NIDs are only 7 bits, so several subnets (and the old and new key
	 * of a Key Refresh) can share one: try every candidate until one
	 * NetMIC verifies.
	 */
	for (i = 0; i < net->n_subnets && !used; i++) {
		struct subnet *s = &net->subnets[i];

		if (try_cred(&s->keys.flooding, iv_index, pdu, len, &r, t, &best) == 0) {
			used = &s->keys.flooding;
			r.new_key = false;
		} else if (s->phase &&
			   try_cred(&s->new_keys.flooding, iv_index, pdu, len, &r, t, &best) == 0) {
			used = &s->new_keys.flooding;
			r.new_key = true;
		}
		if (used) {
			r.net_idx = s->net_idx;
		}
	}
	if (!used) {
		return best;
	}

	/* Our own PDU echoed back by a relay (§3.4.6.3). */
	if (mesh_net_is_local(net, r.src)) {
		return -EALREADY;
	}
	if (cache_has(net, iv_index, r.src, r.seq)) {
		return -EALREADY;
	}

	if (relay && net->relay && r.ttl >= 2 && !mesh_net_is_local(net, r.dst)) {
		/* §3.4.6.3: relay with TTL - 1 and the credentials it came with. */
		struct mesh_net_tx tx = {
		    .net_idx = r.net_idx,
		    .ctl = r.ctl,
		    .ttl = (uint8_t)(r.ttl - 1),
		    .seq = r.seq,
		    .src = r.src,
		    .dst = r.dst,
		    .tpdu = t,
		    .tpdu_len = r.tpdu_len,
		};

		if (mesh_net_encode(used, iv_index, &tx, relay, relay_len) == 0) {
			result |= MESH_NET_RECV_RELAY;
		}
	}
	if (mesh_net_is_local(net, r.dst) || !mesh_addr_is_unicast(r.dst)) {
		result |= MESH_NET_RECV_DELIVER;
	}

	cache_add(net, iv_index, r.src, r.seq);
	memcpy(tpdu, t, r.tpdu_len);
	r.tpdu = tpdu;
	*rx = r;
	mesh_crypto_wipe(t, sizeof(t));
	return result;
}

int mesh_net_send(struct mesh_net *net, const struct mesh_net_tx *tx, uint8_t out[MESH_NET_PDU_MAX],
		  size_t *out_len)
{
	struct mesh_net_tx t;
	const struct subnet *s;
	uint32_t iv_index;
	int err;

	if (!net || !tx || !out || !out_len) {
		return -EINVAL;
	}
	s = subnet_find(net, tx->net_idx);
	if (!s) {
		return -ENOENT;
	}
	t = *tx;
	if (t.ttl == MESH_TTL_DEFAULT) {
		t.ttl = net->default_ttl;
	}
	/* §3.4.4.3: TTL 1 is never sent by the originator. */
	if (t.ttl == 1 || (net->n_elems && !mesh_net_is_local(net, t.src))) {
		return -EINVAL;
	}
	iv_index = mesh_net_iv_tx(net);
	err = mesh_net_encode(s->phase == 2 ? &s->new_keys.flooding : &s->keys.flooding, iv_index,
			      &t, out, out_len);
	if (!err) {
		cache_add(net, iv_index, t.src, t.seq);
	}
	return err;
}
