/*
 * Secure Network beacons (§3.10.3) and Mesh Private beacons (§3.10.4): a
 * stateless codec, and the glue that applies authenticated beacons to a
 * struct mesh_net (Key Refresh procedure, IV Update procedure §3.10.5).
 *
 * All beacons here are the Mesh Beacon AD payload (AD type 0x2B) starting
 * with the beacon type octet.
 */
#ifndef MESH_BEACON_H
#define MESH_BEACON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/mesh.h"
#include "mesh/net.h"

#define MESH_BEACON_UNPROV 0x00
#define MESH_BEACON_SECURE 0x01
#define MESH_BEACON_PRIVATE 0x02

#define MESH_BEACON_FLAG_KR 0x01  /* Key Refresh (phase 2) */
#define MESH_BEACON_FLAG_IVU 0x02 /* IV Update in Progress */

#define MESH_BEACON_SECURE_LEN 22  /* type, flags, Network ID, IV Index, auth */
#define MESH_BEACON_PRIVATE_LEN 27 /* type, Random, obfuscated data, tag */
#define MESH_BEACON_RANDOM_LEN 13

/* What an authenticated beacon says. */
struct mesh_beacon_info {
	uint8_t flags; /* MESH_BEACON_FLAG_*; RFU bits are passed through */
	uint32_t iv_index;
};

/*
 * Secure Network beacon: 0x01 || Flags || Network ID || IV Index ||
 * first 8 octets of AES-CMAC(BeaconKey, Flags || Network ID || IV Index).
 */
int mesh_beacon_secure_create(const uint8_t beacon_key[16], const uint8_t net_id[8], uint8_t flags,
			      uint32_t iv_index, uint8_t out[MESH_BEACON_SECURE_LEN]);
/*
 * Authenticate a Secure Network beacon against one subnet's keys.
 * -EBADMSG wrong type or length, -ENOENT other Network ID, -EACCES the
 * authentication value does not verify.  *info written only on success.
 */
int mesh_beacon_secure_open(const uint8_t beacon_key[16], const uint8_t net_id[8],
			    const uint8_t *beacon, size_t len, struct mesh_beacon_info *info);

/*
 * Mesh Private beacon (§3.10.4): Random (13 octets from rng) ||
 * Obfuscated Private Beacon Data (5) || Authentication Tag (8), computed with
 * the PrivateBeaconKey.
 */
int mesh_beacon_private_create(const uint8_t private_beacon_key[16], uint8_t flags,
			       uint32_t iv_index, const struct mesh_rng *rng,
			       uint8_t out[MESH_BEACON_PRIVATE_LEN]);
/* -EBADMSG wrong type or length, -EACCES tag does not verify with this key. */
int mesh_beacon_private_open(const uint8_t private_beacon_key[16], const uint8_t *beacon,
			     size_t len, struct mesh_beacon_info *info);

/* --- Beacons of a struct mesh_net --------------------------------------- */

/* Bits of a non-negative mesh_net_beacon_rx() result: state to persist. */
#define MESH_BEACON_CHANGED_IV 0x1 /* IV Index or IV Update flag */
#define MESH_BEACON_CHANGED_KR 0x2 /* a subnet's Key Refresh phase */

/* Which subnet and key authenticated a beacon. */
struct mesh_beacon_rx {
	uint16_t net_idx;
	bool new_key;
	bool private_beacon;
	struct mesh_beacon_info info;
};

/*
 * Authenticate a received Secure Network or Mesh Private beacon with every
 * subnet key (old and new during Key Refresh) and apply it: a beacon secured
 * with the new key moves Key Refresh phase 1 to 2 when its KR flag is set
 * and ends the procedure (phase 3, then 0) when it is clear; its IV Index
 * and IV Update flag go through mesh_net_iv_beacon() when it came from the
 * primary subnet, or from any subnet if the node has no primary subnet.
 * Returns MESH_BEACON_CHANGED_* bits and fills *out (may be NULL).
 * Errors (no state change): -EBADMSG malformed, -ENOENT not a secure or
 * private beacon or no subnet with this Network ID, -EACCES no key
 * authenticates it.
 */
int mesh_net_beacon_rx(struct mesh_net *net, const uint8_t *beacon, size_t len, uint64_t now_ms,
		       struct mesh_beacon_rx *out);

/*
 * The Secure Network beacon net_idx should send now: Key Refresh flag in
 * phase 2 (then secured with the new key), IV Update flag and IV Index from
 * net.  -ENOENT when the subnet is unknown.
 */
int mesh_net_beacon_secure(const struct mesh_net *net, uint16_t net_idx,
			   uint8_t out[MESH_BEACON_SECURE_LEN]);
/* The same as a Mesh Private beacon, with fresh Random from rng. */
int mesh_net_beacon_private(const struct mesh_net *net, uint16_t net_idx,
			    const struct mesh_rng *rng, uint8_t out[MESH_BEACON_PRIVATE_LEN]);

#endif /* MESH_BEACON_H */
