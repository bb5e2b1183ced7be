/*
 * Secure Network and Mesh Private beacons, and their effect on the network
 * state.  See beacon.h.
 */
#include "mesh/beacon.h"

#include <errno.h>
#include <string.h>

#include "mesh/buf.h"
#include "mesh/crypto.h"

#define SECURE_AUTH_LEN 8
#define PRIVATE_DATA_LEN 5 /* Flags || IV Index */
#define PRIVATE_TAG_LEN 8

/* --- Secure Network beacon (§3.10.3) ------------------------------------ */

/* Flags || Network ID || IV Index: the authenticated part. */
static void secure_body(uint8_t flags, const uint8_t net_id[8], uint32_t iv_index, uint8_t body[13])
{
	body[0] = flags;
	memcpy(body + 1, net_id, 8);
	mesh_put_be32(body + 9, iv_index);
}

int mesh_beacon_secure_create(const uint8_t beacon_key[16], const uint8_t net_id[8], uint8_t flags,
			      uint32_t iv_index, uint8_t out[MESH_BEACON_SECURE_LEN])
{
	uint8_t body[13], mac[16];
	int err;

	if (!beacon_key || !net_id || !out) {
		return -EINVAL;
	}
	secure_body(flags, net_id, iv_index, body);
	err = mesh_crypto_aes_cmac(beacon_key, body, sizeof(body), mac);
	if (err) {
		return err;
	}
	out[0] = MESH_BEACON_SECURE;
	memcpy(out + 1, body, sizeof(body));
	memcpy(out + 1 + sizeof(body), mac, SECURE_AUTH_LEN);
	return 0;
}

int mesh_beacon_secure_open(const uint8_t beacon_key[16], const uint8_t net_id[8],
			    const uint8_t *beacon, size_t len, struct mesh_beacon_info *info)
{
	struct mesh_rbuf r;
	const uint8_t *body, *auth;
	uint8_t type, mac[16];
	int err;

	if (!beacon_key || !net_id || !info) {
		return -EINVAL;
	}
	mesh_rbuf_init(&r, beacon, len);
	type = mesh_rbuf_u8(&r);
	body = mesh_rbuf_pull(&r, 13);
	auth = mesh_rbuf_pull(&r, SECURE_AUTH_LEN);
	if (!mesh_rbuf_done(&r) || type != MESH_BEACON_SECURE) {
		return -EBADMSG;
	}
	/* The Network ID says which subnet (and which key of a refresh) it is. */
	if (memcmp(body + 1, net_id, 8) != 0) {
		return -ENOENT;
	}
	err = mesh_crypto_aes_cmac(beacon_key, body, 13, mac);
	if (err) {
		return err;
	}
	if (!mesh_crypto_equal(mac, auth, SECURE_AUTH_LEN)) {
		return -EACCES;
	}
	info->flags = body[0];
	info->iv_index = mesh_get_be32(body + 9);
	return 0;
}

/* --- Mesh Private beacon (§3.10.4) -------------------------------------- */

/*
 * §3.10.4 builds the obfuscation from e(PrivateBeaconKey, 0x01 || Random ||
 * 0x0001) and the tag from a CBC-MAC over B0 = 0x19 || Random || 0x0005 and
 * the zero-padded data, finished with e(PrivateBeaconKey, 0x01 || Random ||
 * 0x0000).  That is exactly AES-CCM with Random as the 13-octet nonce, an
 * 8-octet MIC and no additional data (flags octet 0x19 = M' 3, L' 1), so the
 * CCM primitive computes both at once.
 */
int mesh_beacon_private_create(const uint8_t private_beacon_key[16], uint8_t flags,
			       uint32_t iv_index, const struct mesh_rng *rng,
			       uint8_t out[MESH_BEACON_PRIVATE_LEN])
{
	uint8_t random[MESH_BEACON_RANDOM_LEN];
	uint8_t data[PRIVATE_DATA_LEN];
	uint8_t obf[PRIVATE_DATA_LEN], tag[PRIVATE_TAG_LEN];
	int err;

	if (!private_beacon_key || !out) {
		return -EINVAL;
	}
	err = mesh_rng_fill(rng, random, sizeof(random));
	if (err) {
		return err;
	}
	data[0] = flags;
	mesh_put_be32(data + 1, iv_index);
	err = mesh_crypto_ccm_encrypt(private_beacon_key, random, data, sizeof(data), NULL, 0, obf,
				      tag, sizeof(tag));
	if (err) {
		return err;
	}
	out[0] = MESH_BEACON_PRIVATE;
	memcpy(out + 1, random, sizeof(random));
	memcpy(out + 1 + sizeof(random), obf, sizeof(obf));
	memcpy(out + 1 + sizeof(random) + sizeof(obf), tag, sizeof(tag));
	return 0;
}

int mesh_beacon_private_open(const uint8_t private_beacon_key[16], const uint8_t *beacon,
			     size_t len, struct mesh_beacon_info *info)
{
	struct mesh_rbuf r;
	const uint8_t *random, *obf, *tag;
	uint8_t type, data[PRIVATE_DATA_LEN];
	int err;

	if (!private_beacon_key || !info) {
		return -EINVAL;
	}
	mesh_rbuf_init(&r, beacon, len);
	type = mesh_rbuf_u8(&r);
	random = mesh_rbuf_pull(&r, MESH_BEACON_RANDOM_LEN);
	obf = mesh_rbuf_pull(&r, PRIVATE_DATA_LEN);
	tag = mesh_rbuf_pull(&r, PRIVATE_TAG_LEN);
	if (!mesh_rbuf_done(&r) || type != MESH_BEACON_PRIVATE) {
		return -EBADMSG;
	}
	err = mesh_crypto_ccm_decrypt(private_beacon_key, random, obf, PRIVATE_DATA_LEN, NULL, 0,
				      data, tag, PRIVATE_TAG_LEN);
	if (err) {
		return err;
	}
	info->flags = data[0];
	info->iv_index = mesh_get_be32(data + 1);
	return 0;
}

/* --- Beacons of a struct mesh_net --------------------------------------- */

/* Try one subnet key (current or new) against a beacon. */
static int open_with(const struct mesh_net_keys *k, const uint8_t *beacon, size_t len,
		     struct mesh_beacon_info *info)
{
	if (beacon[0] == MESH_BEACON_SECURE) {
		return mesh_beacon_secure_open(k->beacon_key, k->net_id, beacon, len, info);
	}
	return mesh_beacon_private_open(k->private_beacon_key, beacon, len, info);
}

/* Find the subnet and key that authenticate a beacon. */
static int beacon_auth(const struct mesh_net *net, const uint8_t *beacon, size_t len,
		       struct mesh_beacon_rx *rx)
{
	int best = -ENOENT;
	size_t i, n = mesh_net_subnet_count(net);

	for (i = 0; i < n; i++) {
		const struct mesh_net_keys *k;
		uint16_t idx;
		int key, err;

		if (mesh_net_subnet_at(net, i, &idx)) {
			continue;
		}
		for (key = 0; key < 2; key++) {
			k = mesh_net_subnet_keys(net, idx, key == 1);
			if (!k) {
				continue;
			}
			err = open_with(k, beacon, len, &rx->info);
			if (!err) {
				rx->net_idx = idx;
				rx->new_key = key == 1;
				rx->private_beacon = beacon[0] == MESH_BEACON_PRIVATE;
				return 0;
			}
			if (err == -EBADMSG) {
				return err;
			}
			if (err == -EACCES) {
				best = err;
			}
		}
	}
	/* A private beacon carries no Network ID: if no key fits it fails auth. */
	return beacon[0] == MESH_BEACON_PRIVATE ? -EACCES : best;
}

/* The node follows the Key Refresh procedure from beacons secured with the new key. */
static int apply_kr(struct mesh_net *net, const struct mesh_beacon_rx *rx)
{
	int phase = mesh_net_subnet_kr_phase(net, rx->net_idx);
	bool kr = (rx->info.flags & MESH_BEACON_FLAG_KR) != 0;

	/* Only the new key may drive the procedure; old-key flags are stale. */
	if (!rx->new_key || phase <= 0) {
		return 0;
	}
	if (kr && phase == 1) {
		return mesh_net_subnet_kr_set(net, rx->net_idx, 2) == 0 ? MESH_BEACON_CHANGED_KR
									: 0;
	}
	if (!kr) {
		return mesh_net_subnet_kr_set(net, rx->net_idx, 3) == 0 ? MESH_BEACON_CHANGED_KR
									: 0;
	}
	return 0;
}

static bool has_primary(const struct mesh_net *net)
{
	return mesh_net_subnet_kr_phase(net, 0) >= 0;
}

int mesh_net_beacon_rx(struct mesh_net *net, const uint8_t *beacon, size_t len, uint64_t now_ms,
		       struct mesh_beacon_rx *out)
{
	struct mesh_beacon_rx rx;
	int changed, err;

	if (!net || (!beacon && len)) {
		return -EINVAL;
	}
	if (len < 1) {
		return -EBADMSG;
	}
	if (beacon[0] != MESH_BEACON_SECURE && beacon[0] != MESH_BEACON_PRIVATE) {
		return -ENOENT;
	}
	if (len !=
	    (beacon[0] == MESH_BEACON_SECURE ? MESH_BEACON_SECURE_LEN : MESH_BEACON_PRIVATE_LEN)) {
		return -EBADMSG;
	}
	err = beacon_auth(net, beacon, len, &rx);
	if (err) {
		return err;
	}
	changed = apply_kr(net, &rx);
	/*
	 * §3.10.5: the IV Index is shared by the whole network and is driven
	 * from the primary subnet; a node without one follows any subnet.
	 */
	if (rx.net_idx == 0 || !has_primary(net)) {
		if (mesh_net_iv_beacon(net, rx.info.iv_index,
				       (rx.info.flags & MESH_BEACON_FLAG_IVU) != 0, now_ms) > 0) {
			changed |= MESH_BEACON_CHANGED_IV;
		}
	}
	if (out) {
		*out = rx;
	}
	return changed;
}

/* Flags, key set and IV Index a subnet advertises now. */
static int beacon_state(const struct mesh_net *net, uint16_t net_idx,
			const struct mesh_net_keys **k, uint8_t *flags, uint32_t *iv_index)
{
	bool new_key, ivu;

	if (!net || mesh_net_subnet_kr_phase(net, net_idx) < 0) {
		return -ENOENT;
	}
	/* Key Refresh phase 2 advertises the new key with the KR flag. */
	new_key = mesh_net_subnet_tx_new_key(net, net_idx);
	*k = mesh_net_subnet_keys(net, net_idx, new_key);
	mesh_net_iv_get(net, iv_index, &ivu);
	*flags = (uint8_t)((new_key ? MESH_BEACON_FLAG_KR : 0) | (ivu ? MESH_BEACON_FLAG_IVU : 0));
	return *k ? 0 : -ENOENT;
}

int mesh_net_beacon_secure(const struct mesh_net *net, uint16_t net_idx,
			   uint8_t out[MESH_BEACON_SECURE_LEN])
{
	const struct mesh_net_keys *k;
	uint8_t flags;
	uint32_t iv_index;
	int err = beacon_state(net, net_idx, &k, &flags, &iv_index);

	if (err) {
		return err;
	}
	return mesh_beacon_secure_create(k->beacon_key, k->net_id, flags, iv_index, out);
}

int mesh_net_beacon_private(const struct mesh_net *net, uint16_t net_idx,
			    const struct mesh_rng *rng, uint8_t out[MESH_BEACON_PRIVATE_LEN])
{
	const struct mesh_net_keys *k;
	uint8_t flags;
	uint32_t iv_index;
	int err = beacon_state(net, net_idx, &k, &flags, &iv_index);

	if (err) {
		return err;
	}
	return mesh_beacon_private_create(k->private_beacon_key, flags, iv_index, rng, out);
}
