#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "mesh/beacon.h"
#include "mesh/buf.h"
#include "mesh/net.h"
#include "tests/util/tv.h"

#define HOUR_MS (3600ull * 1000)

/* An rng that hands out one fixed byte string (a spec sample's Random). */
struct fixed_rng {
	uint8_t bytes[16];
	size_t len;
};

static int fixed_fill(void *ctx, uint8_t *buf, size_t len)
{
	struct fixed_rng *f = ctx;

	cr_assert_eq(len, f->len);
	memcpy(buf, f->bytes, len);
	return 0;
}

static void check_secure(const char *id)
{
	json_t *v = tv_get(id);
	uint8_t key[16], bk[16], net_id[8], want[32], out[MESH_BEACON_SECURE_LEN];
	struct mesh_net_keys k;
	struct mesh_beacon_info info;
	uint8_t flags = (uint8_t)tv_hexnum(v, "Flags", 0x100);
	uint32_t iv = (uint32_t)tv_hexnum(v, "IVIndex", 0);

	cr_assert_not_null(v, "%s", id);
	cr_assert_eq(tv_bytes(v, "NetKey", key, 16), 16);
	cr_assert_eq(tv_bytes(v, "BeaconKey", bk, 16), 16);
	cr_assert_eq(tv_bytes(v, "NetworkID", net_id, 8), 8);
	cr_assert_eq(mesh_net_keys_derive(key, &k), 0);
	cr_assert_arr_eq(k.beacon_key, bk, 16);
	cr_assert_arr_eq(k.net_id, net_id, 8);

	cr_assert_eq(mesh_beacon_secure_create(bk, net_id, flags, iv, out), 0);
	cr_assert_eq(tv_bytes(v, "Beacon", want, sizeof(want)), MESH_BEACON_SECURE_LEN);
	cr_assert_arr_eq(out, want, MESH_BEACON_SECURE_LEN, "%s: %s", id,
			 tv_tohex(out, sizeof(out)));

	cr_assert_eq(mesh_beacon_secure_open(bk, net_id, want, MESH_BEACON_SECURE_LEN, &info), 0);
	cr_assert_eq(info.flags, flags);
	cr_assert_eq(info.iv_index, iv);
}

/* §8.4.3 Secure Network beacon, Normal Operation. */
Test(beacon, s8_4_3_secure_network)
{
	check_secure("beacons[id=snb_8_4_3]");
}

/* §8.4.4 Secure Network beacon with the IV Update flag. */
Test(beacon, s8_4_4_secure_network_iv_update)
{
	check_secure("beacons[id=snb_ivu_8_4_4]");
}

/* §8.4.5 Secure Network beacon after the IV Update completed. */
Test(beacon, s8_4_5_secure_network_iv_update_complete)
{
	check_secure("beacons[id=snb_ivu_complete_8_4_5]");
}

static void check_private(const char *id)
{
	json_t *v = tv_get(id);
	uint8_t key[16], pbk[16], want[40], out[MESH_BEACON_PRIVATE_LEN];
	struct fixed_rng f;
	struct mesh_rng rng = {fixed_fill, &f};
	struct mesh_net_keys k;
	struct mesh_beacon_info info;
	uint8_t flags = (uint8_t)tv_hexnum(v, "Flags", 0x100);
	uint32_t iv = (uint32_t)tv_hexnum(v, "IVIndex", 0);

	cr_assert_not_null(v, "%s", id);
	cr_assert_eq(tv_bytes(v, "NetKey", key, 16), 16);
	cr_assert_eq(tv_bytes(v, "PrivateBeaconKey", pbk, 16), 16);
	cr_assert_eq(mesh_net_keys_derive(key, &k), 0);
	cr_assert_arr_eq(k.private_beacon_key, pbk, 16);
	cr_assert_eq(tv_bytes(v, "Random", f.bytes, sizeof(f.bytes)), 13);
	f.len = 13;

	cr_assert_eq(mesh_beacon_private_create(pbk, flags, iv, &rng, out), 0);
	cr_assert_eq(tv_bytes(v, "Beacon", want, sizeof(want)), MESH_BEACON_PRIVATE_LEN);
	cr_assert_arr_eq(out, want, MESH_BEACON_PRIVATE_LEN, "%s: %s", id,
			 tv_tohex(out, sizeof(out)));
	cr_assert_eq(tv_bytes(v, "ObfuscatedPrivateBeaconData", want, sizeof(want)), 5);
	cr_assert_arr_eq(out + 14, want, 5);
	cr_assert_eq(tv_bytes(v, "AuthenticationTag", want, sizeof(want)), 8);
	cr_assert_arr_eq(out + 19, want, 8);

	cr_assert_eq(tv_bytes(v, "Beacon", want, sizeof(want)), MESH_BEACON_PRIVATE_LEN);
	cr_assert_eq(mesh_beacon_private_open(pbk, want, MESH_BEACON_PRIVATE_LEN, &info), 0);
	cr_assert_eq(info.flags, flags);
	cr_assert_eq(info.iv_index, iv);
}

/* §8.4.6.1 Mesh Private beacon, IV Update in progress. */
Test(beacon, s8_4_6_1_private_iv_update)
{
	check_private("beacons[id=private_beacon_ivu_8_4_6_1]");
}

/* §8.4.6.2 Mesh Private beacon, IV Update complete. */
Test(beacon, s8_4_6_2_private_iv_update_complete)
{
	check_private("beacons[id=private_beacon_ivu_complete_8_4_6_2]");
}

/* Two private beacons with a fresh Random differ on the air yet carry the same state. */
Test(beacon, s3_10_4_private_random_changes)
{
	uint8_t pbk[16], a[MESH_BEACON_PRIVATE_LEN], b[MESH_BEACON_PRIVATE_LEN];
	uint64_t st = 99;
	struct mesh_rng rng = {tv_rng, &st};
	struct mesh_beacon_info ia, ib;

	memset(pbk, 0x42, 16);
	cr_assert_eq(mesh_beacon_private_create(pbk, 0x02, 77, &rng, a), 0);
	cr_assert_eq(mesh_beacon_private_create(pbk, 0x02, 77, &rng, b), 0);
	cr_assert(memcmp(a, b, sizeof(a)) != 0);
	cr_assert_eq(mesh_beacon_private_open(pbk, a, sizeof(a), &ia), 0);
	cr_assert_eq(mesh_beacon_private_open(pbk, b, sizeof(b), &ib), 0);
	cr_assert_eq(ia.iv_index, 77);
	cr_assert_eq(ib.flags, 0x02);
}

/* Malformed or forged Secure Network beacons: length, type, Network ID, authentication. */
Test(beacon, s3_10_3_secure_malformed)
{
	json_t *v = tv_get("beacons[id=snb_8_4_3]");
	uint8_t bk[16], net_id[8], b[32];
	struct mesh_beacon_info info = {0x55, 0x55555555};

	cr_assert_eq(tv_bytes(v, "BeaconKey", bk, 16), 16);
	cr_assert_eq(tv_bytes(v, "NetworkID", net_id, 8), 8);
	cr_assert_eq(tv_bytes(v, "Beacon", b, sizeof(b)), 22);
	b[22] = 0;
	cr_assert_eq(mesh_beacon_secure_open(bk, net_id, b, 21, &info), -EBADMSG, "truncated");
	cr_assert_eq(mesh_beacon_secure_open(bk, net_id, b, 23, &info), -EBADMSG, "over-long");
	cr_assert_eq(mesh_beacon_secure_open(bk, net_id, b, 0, &info), -EBADMSG, "empty");
	cr_assert_eq(mesh_beacon_secure_open(bk, net_id, NULL, 0, &info), -EBADMSG, "NULL");
	b[0] = MESH_BEACON_PRIVATE;
	cr_assert_eq(mesh_beacon_secure_open(bk, net_id, b, 22, &info), -EBADMSG, "type");
	b[0] = MESH_BEACON_SECURE;
	b[21] ^= 0x01;
	cr_assert_eq(mesh_beacon_secure_open(bk, net_id, b, 22, &info), -EACCES, "auth");
	b[21] ^= 0x01;
	b[13] ^= 0x01; /* IV Index */
	cr_assert_eq(mesh_beacon_secure_open(bk, net_id, b, 22, &info), -EACCES, "IV changed");
	b[13] ^= 0x01;
	b[3] ^= 0x01; /* Network ID */
	cr_assert_eq(mesh_beacon_secure_open(bk, net_id, b, 22, &info), -ENOENT, "other net");
	cr_assert_eq(info.flags, 0x55, "info untouched on error");
	cr_assert_eq(info.iv_index, 0x55555555);
}

/* Malformed or forged Mesh Private beacons: length, type, tag, other key. */
Test(beacon, s3_10_4_private_malformed)
{
	json_t *v = tv_get("beacons[id=private_beacon_ivu_8_4_6_1]");
	uint8_t pbk[16], b[40];
	struct mesh_beacon_info info = {0x55, 0x55555555};

	cr_assert_eq(tv_bytes(v, "PrivateBeaconKey", pbk, 16), 16);
	cr_assert_eq(tv_bytes(v, "Beacon", b, sizeof(b)), 27);
	b[27] = 0;
	cr_assert_eq(mesh_beacon_private_open(pbk, b, 26, &info), -EBADMSG);
	cr_assert_eq(mesh_beacon_private_open(pbk, b, 28, &info), -EBADMSG);
	b[0] = MESH_BEACON_SECURE;
	cr_assert_eq(mesh_beacon_private_open(pbk, b, 27, &info), -EBADMSG);
	b[0] = MESH_BEACON_PRIVATE;
	b[26] ^= 0x80;
	cr_assert_eq(mesh_beacon_private_open(pbk, b, 27, &info), -EACCES, "tag");
	b[26] ^= 0x80;
	b[15] ^= 0x02; /* obfuscated flags */
	cr_assert_eq(mesh_beacon_private_open(pbk, b, 27, &info), -EACCES, "data");
	b[15] ^= 0x02;
	pbk[0] ^= 1;
	cr_assert_eq(mesh_beacon_private_open(pbk, b, 27, &info), -EACCES, "other key");
	cr_assert_eq(info.flags, 0x55);
	cr_assert_eq(info.iv_index, 0x55555555);
}

/* --- Beacons applied to a struct mesh_net ------------------------------ */

static void vec(const char *id, const char *field, uint8_t *out, size_t n)
{
	cr_assert_eq(tv_bytes(tv_get(id), field, out, n), (int)n, "%s.%s", id, field);
}

/* §3.10.5 via §8.4.4/§8.4.5: the spec beacons move a node into and out of IV Update. */
Test(beacon, s8_4_4_net_follows_iv_update)
{
	struct mesh_net *net = mesh_net_new(0);
	uint8_t key[16], b4[22], b5[22];
	struct mesh_beacon_rx rx;
	uint32_t iv;
	bool ivu;

	vec("beacons[id=snb_8_4_3]", "NetKey", key, 16);
	vec("beacons[id=snb_ivu_8_4_4]", "Beacon", b4, 22);
	vec("beacons[id=snb_ivu_complete_8_4_5]", "Beacon", b5, 22);
	cr_assert_eq(mesh_net_subnet_add(net, 0, key), 0);
	cr_assert_eq(mesh_net_iv_set(net, 0x12345678, false, 0), 0);

	cr_assert_eq(mesh_net_beacon_rx(net, b4, 22, HOUR_MS, &rx), 0, "before 96 hours");
	cr_assert_eq(rx.net_idx, 0);
	cr_assert_not(rx.private_beacon);
	cr_assert_eq(rx.info.iv_index, 0x12345679);
	cr_assert_eq(mesh_net_beacon_rx(net, b4, 22, 96 * HOUR_MS, NULL), MESH_BEACON_CHANGED_IV);
	mesh_net_iv_get(net, &iv, &ivu);
	cr_assert_eq(iv, 0x12345679);
	cr_assert(ivu);
	cr_assert_eq(mesh_net_beacon_rx(net, b5, 22, 192 * HOUR_MS, NULL), MESH_BEACON_CHANGED_IV);
	mesh_net_iv_get(net, &iv, &ivu);
	cr_assert_eq(iv, 0x12345679);
	cr_assert_not(ivu);
	mesh_net_free(net);
}

/* §8.4.6.1 applied: a Mesh Private beacon drives the IV Update of the f7a2 network too. */
Test(beacon, s8_4_6_1_net_follows_private_beacon)
{
	struct mesh_net *net = mesh_net_new(0);
	uint8_t key[16], b[27];
	struct mesh_beacon_rx rx;
	uint32_t iv;
	bool ivu;

	vec("beacons[id=private_beacon_ivu_8_4_6_1]", "NetKey", key, 16);
	vec("beacons[id=private_beacon_ivu_8_4_6_1]", "Beacon", b, 27);
	cr_assert_eq(mesh_net_subnet_add(net, 0, key), 0);
	cr_assert_eq(mesh_net_iv_set(net, 0x1010abcc, false, 0), 0);
	cr_assert_eq(mesh_net_beacon_rx(net, b, 27, 100 * HOUR_MS, &rx), MESH_BEACON_CHANGED_IV);
	cr_assert(rx.private_beacon);
	cr_assert_eq(rx.info.flags, MESH_BEACON_FLAG_IVU);
	mesh_net_iv_get(net, &iv, &ivu);
	cr_assert_eq(iv, 0x1010abcd);
	cr_assert(ivu);
	mesh_net_free(net);
}

/* Bad beacons leave the network state alone and say why. */
Test(beacon, s3_10_net_rejects_bad_beacons)
{
	struct mesh_net *net = mesh_net_new(0);
	uint8_t key[16], b[22], pb[27], unprov[19];
	uint32_t iv;
	bool ivu;

	vec("beacons[id=snb_8_4_3]", "NetKey", key, 16);
	vec("beacons[id=snb_ivu_8_4_4]", "Beacon", b, 22);
	vec("beacons[id=private_beacon_ivu_8_4_6_1]", "Beacon", pb, 27);
	vec("beacons[id=unprov_beacon_8_4_1]", "Beacon", unprov, 19);
	cr_assert_eq(mesh_net_subnet_add(net, 0, key), 0);
	cr_assert_eq(mesh_net_iv_set(net, 0x12345678, false, 0), 0);

	cr_assert_eq(mesh_net_beacon_rx(net, unprov, 19, 200 * HOUR_MS, NULL), -ENOENT);
	cr_assert_eq(mesh_net_beacon_rx(net, b, 0, 200 * HOUR_MS, NULL), -EBADMSG);
	cr_assert_eq(mesh_net_beacon_rx(net, b, 21, 200 * HOUR_MS, NULL), -EBADMSG);
	cr_assert_eq(mesh_net_beacon_rx(net, pb, 27, 200 * HOUR_MS, NULL), -EACCES,
		     "private beacon of another network");
	b[21] ^= 1;
	cr_assert_eq(mesh_net_beacon_rx(net, b, 22, 200 * HOUR_MS, NULL), -EACCES);
	b[21] ^= 1;
	b[2] ^= 1;
	cr_assert_eq(mesh_net_beacon_rx(net, b, 22, 200 * HOUR_MS, NULL), -ENOENT);
	mesh_net_iv_get(net, &iv, &ivu);
	cr_assert_eq(iv, 0x12345678);
	cr_assert_not(ivu);
	cr_assert_eq(mesh_net_subnet_kr_phase(net, 0), 0);
	mesh_net_free(net);
}

/* Key Refresh procedure: new-key beacons move phase 1 -> 2 -> 3 (0); old-key flags do not. */
Test(beacon, key_refresh_follows_beacons)
{
	struct mesh_net *net = mesh_net_new(0);
	uint8_t oldk[16], newk[16], b[22];
	const struct mesh_net_keys *kn, *ko;
	struct mesh_beacon_rx rx;

	memset(oldk, 0x11, 16);
	vec("beacons[id=snb_8_4_3]", "NetKey", newk, 16);
	cr_assert_eq(mesh_net_subnet_add(net, 0, oldk), 0);
	cr_assert_eq(mesh_net_subnet_update(net, 0, newk), 0);
	kn = mesh_net_subnet_keys(net, 0, true);
	ko = mesh_net_subnet_keys(net, 0, false);

	/* Old key with KR set: not a reason to move. */
	cr_assert_eq(
	    mesh_beacon_secure_create(ko->beacon_key, ko->net_id, MESH_BEACON_FLAG_KR, 0, b), 0);
	cr_assert_eq(mesh_net_beacon_rx(net, b, 22, 0, &rx), 0);
	cr_assert_not(rx.new_key);
	cr_assert_eq(mesh_net_subnet_kr_phase(net, 0), 1);

	/* New key with KR set: phase 2. */
	cr_assert_eq(
	    mesh_beacon_secure_create(kn->beacon_key, kn->net_id, MESH_BEACON_FLAG_KR, 0, b), 0);
	cr_assert_eq(mesh_net_beacon_rx(net, b, 22, 0, &rx), MESH_BEACON_CHANGED_KR);
	cr_assert(rx.new_key);
	cr_assert_eq(mesh_net_subnet_kr_phase(net, 0), 2);
	cr_assert(mesh_net_subnet_tx_new_key(net, 0));
	cr_assert_eq(mesh_net_beacon_rx(net, b, 22, 0, &rx), 0, "already in phase 2");

	/* Our own beacon in phase 2 is the new-key one with the KR flag. */
	{
		uint8_t ours[22];

		cr_assert_eq(mesh_net_beacon_secure(net, 0, ours), 0);
		cr_assert_arr_eq(ours, b, 22);
	}

	/* The spec's §8.4.3 beacon (new key, KR clear) completes the procedure. */
	vec("beacons[id=snb_8_4_3]", "Beacon", b, 22);
	cr_assert_eq(mesh_net_beacon_rx(net, b, 22, 0, &rx), MESH_BEACON_CHANGED_KR);
	cr_assert_eq(mesh_net_subnet_kr_phase(net, 0), 0);
	cr_assert_null(mesh_net_subnet_keys(net, 0, true));
	/* Its IV Index 12345678 is more than 42 ahead of our 0: ignored (§3.10.6). */
	{
		uint32_t iv;

		mesh_net_iv_get(net, &iv, NULL);
		cr_assert_eq(iv, 0);
	}
	mesh_net_free(net);
}

/* A private beacon secured with the new key drives Key Refresh the same way. */
Test(beacon, key_refresh_from_private_beacon)
{
	struct mesh_net *net = mesh_net_new(0);
	uint8_t oldk[16], newk[16], b[27];
	uint64_t st = 7;
	struct mesh_rng rng = {tv_rng, &st};
	const struct mesh_net_keys *kn;
	struct mesh_beacon_rx rx;

	memset(oldk, 0x11, 16);
	memset(newk, 0x22, 16);
	cr_assert_eq(mesh_net_subnet_add(net, 4, oldk), 0);
	cr_assert_eq(mesh_net_subnet_update(net, 4, newk), 0);
	kn = mesh_net_subnet_keys(net, 4, true);
	cr_assert_eq(mesh_beacon_private_create(kn->private_beacon_key, 0, 0, &rng, b), 0);
	cr_assert_eq(mesh_net_beacon_rx(net, b, 27, 0, &rx), MESH_BEACON_CHANGED_KR, "1 -> 3");
	cr_assert(rx.private_beacon);
	cr_assert_eq(rx.net_idx, 4);
	cr_assert_eq(mesh_net_subnet_kr_phase(net, 4), 0);
	mesh_net_free(net);
}

/* The IV Index follows the primary subnet only, when the node has one. */
Test(beacon, s3_10_5_iv_from_primary_subnet_only)
{
	struct mesh_net *net = mesh_net_new(0);
	uint8_t k0[16], k1[16], b[22];
	const struct mesh_net_keys *ks;
	uint32_t iv;

	memset(k0, 0x10, 16);
	memset(k1, 0x20, 16);
	cr_assert_eq(mesh_net_subnet_add(net, 1, k1), 0);
	cr_assert_eq(mesh_net_iv_set(net, 10, false, 0), 0);
	ks = mesh_net_subnet_keys(net, 1, false);
	cr_assert_eq(
	    mesh_beacon_secure_create(ks->beacon_key, ks->net_id, MESH_BEACON_FLAG_IVU, 11, b), 0);
	/* No primary subnet: subnet 1 is followed. */
	cr_assert_eq(mesh_net_beacon_rx(net, b, 22, 100 * HOUR_MS, NULL), MESH_BEACON_CHANGED_IV);
	mesh_net_iv_get(net, &iv, NULL);
	cr_assert_eq(iv, 11);

	cr_assert_eq(mesh_net_subnet_add(net, 0, k0), 0);
	cr_assert_eq(mesh_net_iv_set(net, 10, false, 0), 0);
	cr_assert_eq(mesh_net_beacon_rx(net, b, 22, 100 * HOUR_MS, NULL), 0);
	mesh_net_iv_get(net, &iv, NULL);
	cr_assert_eq(iv, 10);
	mesh_net_free(net);
}

/* A node's own beacons round-trip through another node holding the same keys. */
Test(beacon, s3_10_net_beacons_round_trip)
{
	struct mesh_net *a = mesh_net_new(0), *b = mesh_net_new(0);
	uint8_t key[16], snb[22], pb[27];
	uint64_t st = 3;
	struct mesh_rng rng = {tv_rng, &st};
	uint32_t iv;
	bool ivu;

	memset(key, 0x5c, 16);
	cr_assert_eq(mesh_net_subnet_add(a, 0, key), 0);
	cr_assert_eq(mesh_net_subnet_add(b, 0, key), 0);
	cr_assert_eq(mesh_net_iv_set(a, 8, true, 0), 0);
	cr_assert_eq(mesh_net_iv_set(b, 7, false, 0), 0);
	cr_assert_eq(mesh_net_beacon_secure(a, 0, snb), 0);
	cr_assert_eq(snb[1], MESH_BEACON_FLAG_IVU);
	cr_assert_eq(mesh_net_beacon_private(a, 0, &rng, pb), 0);
	cr_assert_eq(mesh_net_beacon_private(a, 3, &rng, pb), -ENOENT);
	cr_assert_eq(mesh_net_beacon_rx(b, snb, 22, 96 * HOUR_MS, NULL), MESH_BEACON_CHANGED_IV);
	mesh_net_iv_get(b, &iv, &ivu);
	cr_assert_eq(iv, 8);
	cr_assert(ivu);
	cr_assert_eq(mesh_net_beacon_private(a, 0, &rng, pb), 0);
	cr_assert_eq(mesh_net_beacon_rx(b, pb, 27, 96 * HOUR_MS, NULL), 0, "consistent");
	mesh_net_free(a);
	mesh_net_free(b);
}
