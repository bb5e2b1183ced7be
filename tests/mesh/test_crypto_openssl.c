/*
 * mesh/crypto_openssl.c against the specification's sample data (§8.1, §8.2,
 * §8.3 virtual addresses, §8.7 ECDH) and the RFC 4493 / RFC 3610 vectors.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/crypto.h"
#include "tests/util/tv.h"

#define HEX(obj, key, buf)                                                                         \
	({                                                                                         \
		int n_ = tv_bytes((obj), (key), (buf), sizeof(buf));                               \
		cr_assert_gt(n_, -1, "vector field %s missing", (key));                            \
		(size_t) n_;                                                                       \
	})

static void assert_bytes(const uint8_t *got, json_t *obj, const char *key, size_t len)
{
	uint8_t want[256];
	int n = tv_bytes(obj, key, want, sizeof(want));

	cr_assert_eq((size_t)n, len, "%s: length %d, want %zu", key, n, len);
	cr_assert_arr_eq(got, want, len, "%s: got %s", key, tv_tohex(got, len));
}

static json_t *sf(const char *id)
{
	char path[128];
	json_t *o;

	snprintf(path, sizeof(path), "security_functions[id=%s]", id);
	o = tv_get(path);
	cr_assert_not_null(o, "missing vector %s", id);
	return o;
}

static json_t *kd(const char *id)
{
	char path[128];
	json_t *o;

	snprintf(path, sizeof(path), "key_derivation[id=%s]", id);
	o = tv_get(path);
	cr_assert_not_null(o, "missing vector %s", id);
	return o;
}

/* §8.1.1: s1("test") matches the specification. */
Test(crypto, s8_1_1_s1)
{
	uint8_t out[16];

	cr_assert_eq(mesh_crypto_s1_str("test", out), 0);
	assert_bytes(out, sf("s1_test"), "output", 16);
}

/* §8.1.2: k1 and its intermediate T match the specification. */
Test(crypto, s8_1_2_k1)
{
	json_t *v = sf("k1_sample");
	uint8_t n[16], salt[16], p[16], out[16], t[16];
	size_t pl;

	HEX(v, "N", n);
	HEX(v, "SALT", salt);
	pl = HEX(v, "P", p);
	cr_assert_eq(mesh_crypto_k1(n, 16, salt, p, pl, out), 0);
	assert_bytes(out, v, "output", 16);
	cr_assert_eq(mesh_crypto_aes_cmac(salt, n, 16, t), 0);
	assert_bytes(t, v, "intermediate_T", 16);
}

static void check_k2(json_t *v, const char *nid_key, const char *enc_key, const char *priv_key)
{
	uint8_t n[16], p[16], enc[16], priv[16], nid_want[1], nid;
	size_t pl;

	HEX(v, "N", n);
	pl = HEX(v, "P", p);
	cr_assert_eq(mesh_crypto_k2(n, p, pl, &nid, enc, priv), 0);
	HEX(v, nid_key, nid_want);
	cr_assert_eq(nid, nid_want[0], "NID %02x", nid);
	assert_bytes(enc, v, enc_key, 16);
	assert_bytes(priv, v, priv_key, 16);
}

/* §8.1.3: k2 with managed-flooding P gives the spec NID and keys. */
Test(crypto, s8_1_3_k2_flooding)
{
	check_k2(sf("k2_flooding_8_1_3"), "NID", "EncryptionKey", "PrivacyKey");
}

/* §8.1.4: k2 with friendship P gives the spec NID and keys. */
Test(crypto, s8_1_4_k2_friendship)
{
	check_k2(sf("k2_friendship_8_1_4"), "NID", "EncryptionKey", "PrivacyKey");
}

/* §8.1.5: k3 gives the spec Network ID. */
Test(crypto, s8_1_5_k3)
{
	json_t *v = sf("k3_8_1_5");
	uint8_t n[16], out[8];

	HEX(v, "N", n);
	cr_assert_eq(mesh_crypto_k3(n, out), 0);
	assert_bytes(out, v, "output_NetworkID", 8);
}

/* §8.1.6: k4 gives the spec AID. */
Test(crypto, s8_1_6_k4)
{
	json_t *v = sf("k4_8_1_6");
	uint8_t n[16], aid, want[1];

	HEX(v, "N", n);
	HEX(v, "output_AID", want);
	cr_assert_eq(mesh_crypto_k4(n, &aid), 0);
	cr_assert_eq(aid, want[0]);
}

/* Mesh 1.1 s2 reproduces the HMAC provisioning sample's ConfirmationSalt. */
Test(crypto, s2_hmac_confirmation_salt)
{
	json_t *v = sf("s2_confirmation_salt_hmac");
	uint8_t in[256], out[32];
	size_t n = HEX(v, "input_hex", in);

	cr_assert_eq(mesh_crypto_s2(in, n, out), 0);
	assert_bytes(out, v, "output", 32);
}

/* Mesh 1.1 k5 reproduces the HMAC provisioning sample's ConfirmationKey and T. */
Test(crypto, k5_hmac_confirmation_key)
{
	json_t *v = sf("k5_confirmation_key_hmac");
	uint8_t n[64], salt[32], p[16], out[32], t[32];
	size_t nl = HEX(v, "N", n), pl;

	HEX(v, "SALT", salt);
	pl = HEX(v, "P", p);
	cr_assert_eq(mesh_crypto_k5(n, nl, salt, p, pl, out), 0);
	assert_bytes(out, v, "output", 32);
	cr_assert_eq(mesh_crypto_hmac_sha256(salt, 32, n, nl, t), 0);
	assert_bytes(t, v, "intermediate_T", 32);
}

/* §8.2.1: AID of the sample AppKey. */
Test(crypto, s8_2_1_aid)
{
	json_t *v = kd("aid_8_2_1");
	uint8_t k[16], aid, want[1];

	HEX(v, "AppKey", k);
	HEX(v, "AID", want);
	cr_assert_eq(mesh_crypto_k4(k, &aid), 0);
	cr_assert_eq(aid, want[0]);
}

/* §8.2.2-§8.2.4: k2 for flooding, friendship and directed forwarding credentials. */
Test(crypto, s8_2_2_to_4_k2_credentials)
{
	check_k2(kd("k2_flooding_8_2_2"), "NID", "EncryptionKey", "PrivacyKey");
	check_k2(kd("k2_friendship_8_2_3"), "NID", "EncryptionKey", "PrivacyKey");
	check_k2(kd("k2_directed_8_2_4"), "NID", "EncryptionKey", "PrivacyKey");
}

/* §8.2.5: Network ID of the sample NetKey. */
Test(crypto, s8_2_5_network_id)
{
	json_t *v = kd("network_id_8_2_5");
	uint8_t k[16], out[8];

	HEX(v, "NetKey", k);
	cr_assert_eq(mesh_crypto_k3(k, out), 0);
	assert_bytes(out, v, "NetworkID", 8);
}

/* §8.2.6-§8.2.8: IdentityKey, BeaconKey and PrivateBeaconKey, plus Nordic's f7a2 keys. */
Test(crypto, s8_2_6_to_8_derived_keys)
{
	static const struct {
		const char *id, *out;
		int (*fn)(const uint8_t *, uint8_t *);
	} cases[] = {
	    {"identity_key_8_2_6", "output", mesh_crypto_identity_key},
	    {"beacon_key_8_2_7", "output", mesh_crypto_beacon_key},
	    {"private_beacon_key_8_2_8_1", "PrivateBeaconKey", mesh_crypto_private_beacon_key},
	    {"private_beacon_key_8_2_8_2", "PrivateBeaconKey", mesh_crypto_private_beacon_key},
	    {"netkey_f7a2_IdentityKey", "output", mesh_crypto_identity_key},
	    {"netkey_f7a2_BeaconKey", "output", mesh_crypto_beacon_key},
	    {"netkey_f7a2_PrivateBeaconKey", "output", mesh_crypto_private_beacon_key},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = kd(cases[i].id);
		uint8_t k[16], out[16];

		HEX(v, "NetKey", k);
		cr_assert_eq(cases[i].fn(k, out), 0);
		assert_bytes(out, v, cases[i].out, 16);
	}
}

/* §8.3.22-§8.3.24 and Nordic: virtual addresses of Label UUIDs. */
Test(crypto, s8_3_22_virtual_addresses)
{
	json_t *arr = tv_get("virtual_addresses.vectors"), *v;
	size_t i;

	cr_assert(json_array_size(arr) >= 3);
	json_array_foreach(arr, i, v)
	{
		uint8_t label[16];
		uint16_t addr;

		HEX(v, "label_uuid", label);
		cr_assert_eq(mesh_crypto_virtual_addr(label, &addr), 0);
		cr_assert_eq(addr, tv_hexnum(v, "virtual_address", 0), "addr %04x", addr);
	}
}

/* RFC 4493 AES-CMAC examples (0, 16, 40, 64 octets), whole and in scattered parts. */
Test(crypto, rfc4493_cmac)
{
	static const char *ids[] = {"rfc4493_example_len0", "rfc4493_example_len16",
				    "rfc4493_example_len40", "rfc4493_example_len64"};
	size_t i;

	for (i = 0; i < 4; i++) {
		char path[96];
		json_t *v;
		uint8_t key[16], msg[64], mac[16];
		const uint8_t *parts[3];
		size_t lens[3], n;

		snprintf(path, sizeof(path), "aes_reference[id=%s]", ids[i]);
		v = tv_get(path);
		cr_assert_not_null(v);
		HEX(v, "key", key);
		n = (size_t)tv_bytes(v, "message", msg, sizeof(msg));
		cr_assert_eq(mesh_crypto_aes_cmac(key, n ? msg : NULL, n, mac), 0);
		assert_bytes(mac, v, "mac", 16);
		parts[0] = msg;
		lens[0] = n / 3;
		parts[1] = msg + n / 3;
		lens[1] = n / 3;
		parts[2] = msg + 2 * (n / 3);
		lens[2] = n - 2 * (n / 3);
		memset(mac, 0, sizeof(mac));
		cr_assert_eq(mesh_crypto_aes_cmac_v(key, parts, lens, 3, mac), 0);
		assert_bytes(mac, v, "mac", 16);
	}
}

/* RFC 3610 packet vector #1: AES-CCM with 8-octet MIC and additional data, both ways. */
Test(crypto, rfc3610_ccm_vector1)
{
	json_t *v = tv_get("aes_reference[id=rfc3610_packet_vector_1]");
	uint8_t key[16], nonce[13], aad[16], pt[64], want[64], out[64], mic[8], back[64];
	size_t al, pl;

	HEX(v, "key", key);
	HEX(v, "nonce", nonce);
	al = HEX(v, "aad", aad);
	pl = HEX(v, "plaintext", pt);
	HEX(v, "ciphertext_and_mic", want);
	cr_assert_eq(mesh_crypto_ccm_encrypt(key, nonce, pt, pl, aad, al, out, mic, 8), 0);
	cr_assert_arr_eq(out, want, pl);
	cr_assert_arr_eq(mic, want + pl, 8);
	cr_assert_eq(mesh_crypto_ccm_decrypt(key, nonce, out, pl, aad, al, back, mic, 8), 0);
	cr_assert_arr_eq(back, pt, pl);
}

/* Nordic AES-CCM vectors: 32- and 64-bit MICs, with and without additional data. */
Test(crypto, nordic_ccm_mics)
{
	static const struct {
		const char *id;
		size_t mic;
	} cases[] = {{"nordic_ccm_mic32", 4},
		     {"nordic_ccm_mic64", 8},
		     {"nordic_ccm_mic32_aad", 4},
		     {"nordic_ccm_mic64_aad", 8}};
	size_t i;

	for (i = 0; i < 4; i++) {
		char path[96];
		json_t *v;
		uint8_t key[16], nonce[13], aad[16], pt[16], want[24], out[16], mic[8];
		int al;

		snprintf(path, sizeof(path), "aes_reference[id=%s]", cases[i].id);
		v = tv_get(path);
		HEX(v, "key", key);
		HEX(v, "nonce", nonce);
		HEX(v, "plaintext", pt);
		HEX(v, "output", want);
		al = tv_bytes(v, "aad", aad, sizeof(aad));
		cr_assert_eq(mesh_crypto_ccm_encrypt(key, nonce, pt, 16, al > 0 ? aad : NULL,
						     al > 0 ? (size_t)al : 0, out, mic,
						     cases[i].mic),
			     0);
		cr_assert_arr_eq(out, want, 16, "%s", cases[i].id);
		cr_assert_arr_eq(mic, want + 16, cases[i].mic, "%s", cases[i].id);
	}
}

/* A flipped MIC bit fails decryption with -EACCES and the output is wiped. */
Test(crypto, ccm_wrong_mic_rejected)
{
	uint8_t key[16] = {1}, nonce[13] = {2}, pt[20], ct[20], mic[4], out[20];

	memset(pt, 0xa5, sizeof(pt));
	cr_assert_eq(mesh_crypto_ccm_encrypt(key, nonce, pt, 20, NULL, 0, ct, mic, 4), 0);
	mic[3] ^= 0x01;
	memset(out, 0x77, sizeof(out));
	cr_assert_eq(mesh_crypto_ccm_decrypt(key, nonce, ct, 20, NULL, 0, out, mic, 4), -EACCES);
	for (size_t i = 0; i < sizeof(out); i++) {
		cr_assert_eq(out[i], 0);
	}
	cr_assert_eq(mesh_crypto_ccm_encrypt(key, nonce, pt, 20, NULL, 0, ct, mic, 5), -EINVAL);
}

/* Nordic obfuscation vector: PECB from PrivacyKey, IV Index and privacy random. */
Test(crypto, nordic_obfuscation)
{
	json_t *v = tv_get("aes_reference[id=nordic_obfuscation]");
	uint8_t key[16], rnd[7], hdr[6], pdu[14] = {0};

	HEX(v, "PrivacyKey", key);
	HEX(v, "PrivacyRandom", rnd);
	HEX(v, "header", hdr);
	memcpy(pdu + 1, hdr, 6);
	memcpy(pdu + 7, rnd, 7);
	cr_assert_eq(mesh_crypto_net_obfuscate(key, (uint32_t)tv_hexnum(v, "IVIndex", 0), pdu, 14),
		     0);
	assert_bytes(pdu + 1, v, "obfuscated", 6);
	cr_assert_eq(mesh_crypto_net_obfuscate(key, 0, pdu, 13), -EINVAL);
}

/* §8.3.6: network and device nonces of Message #6 are laid out as the spec shows. */
Test(crypto, s8_3_6_nonces)
{
	json_t *m = tv_get("network_pdus.messages[id=msg06]");
	json_t *net = json_array_get(json_object_get(m, "network"), 0);
	json_t *up = json_object_get(m, "upper_transport");
	uint8_t nonce[13];

	mesh_crypto_net_nonce(0x04, 0x3129ab, 0x0003, 0x12345678, nonce);
	assert_bytes(nonce, net, "NetworkNonce", 13);
	mesh_crypto_dev_nonce(false, 0x3129ab, 0x0003, 0x1201, 0x12345678, nonce);
	assert_bytes(nonce, up, "Nonce", 13);
}

/* §8.7: public keys derive from the sample private keys and ECDH agrees both ways. */
Test(crypto, s8_7_p256_ecdh)
{
	json_t *s = tv_get("provisioning.cmac_sample");
	uint8_t ppriv[32], dpriv[32], pub[64], secret[32];
	uint8_t ppub[64], dpub[64];

	HEX(s, "ProvisionerPrivateKey", ppriv);
	HEX(s, "DevicePrivateKey", dpriv);
	HEX(s, "ProvisionerPublicKey_XY", ppub);
	HEX(s, "DevicePublicKey_XY", dpub);
	cr_assert_eq(mesh_crypto_p256_pub_from_priv(ppriv, pub), 0);
	cr_assert_arr_eq(pub, ppub, 64);
	cr_assert_eq(mesh_crypto_p256_pub_from_priv(dpriv, pub), 0);
	cr_assert_arr_eq(pub, dpub, 64);
	cr_assert(mesh_crypto_p256_valid(ppub));
	cr_assert_eq(mesh_crypto_p256_ecdh(ppriv, dpub, secret), 0);
	assert_bytes(secret, s, "ECDHSecret", 32);
	cr_assert_eq(mesh_crypto_p256_ecdh(dpriv, ppub, secret), 0);
	assert_bytes(secret, s, "ECDHSecret", 32);
}

/* A point off the curve, and the all-zero point, are refused by validation and ECDH. */
Test(crypto, p256_invalid_points)
{
	json_t *s = tv_get("provisioning.cmac_sample");
	uint8_t priv[32], pub[64], zero[64] = {0}, secret[32] = {0};

	HEX(s, "ProvisionerPrivateKey", priv);
	HEX(s, "DevicePublicKey_XY", pub);
	pub[63] ^= 0x01;
	cr_assert_not(mesh_crypto_p256_valid(pub));
	cr_assert_not(mesh_crypto_p256_valid(zero));
	cr_assert_eq(mesh_crypto_p256_ecdh(priv, pub, secret), -EINVAL);
	cr_assert_eq(mesh_crypto_p256_ecdh(priv, zero, secret), -EINVAL);
}

/* Fresh key pairs are valid and two of them agree on a shared secret. */
Test(crypto, p256_keygen_agreement)
{
	uint8_t a_priv[32], a_pub[64], b_priv[32], b_pub[64], s1[32], s2[32], check[64];

	cr_assert_eq(mesh_crypto_p256_keygen(a_priv, a_pub), 0);
	cr_assert_eq(mesh_crypto_p256_keygen(b_priv, b_pub), 0);
	cr_assert(mesh_crypto_p256_valid(a_pub));
	cr_assert_eq(mesh_crypto_p256_pub_from_priv(a_priv, check), 0);
	cr_assert_arr_eq(check, a_pub, 64);
	cr_assert_eq(mesh_crypto_p256_ecdh(a_priv, b_pub, s1), 0);
	cr_assert_eq(mesh_crypto_p256_ecdh(b_priv, a_pub, s2), 0);
	cr_assert_arr_eq(s1, s2, 32);
}

/* AES-256-GCM seals and opens; a changed tag, ciphertext or AAD fails with -EACCES. */
Test(crypto, gcm256_seal_open)
{
	uint8_t key[32], iv[12], pt[16], ct[16], tag[16], out[16];
	const uint8_t aad[] = "netkey:0";

	memset(key, 0x11, sizeof(key));
	memset(iv, 0x22, sizeof(iv));
	memset(pt, 0x33, sizeof(pt));
	cr_assert_eq(mesh_crypto_gcm256_seal(key, iv, aad, 8, pt, 16, ct, tag), 0);
	cr_assert(memcmp(ct, pt, 16) != 0);
	cr_assert_eq(mesh_crypto_gcm256_open(key, iv, aad, 8, ct, 16, out, tag), 0);
	cr_assert_arr_eq(out, pt, 16);
	cr_assert_eq(
	    mesh_crypto_gcm256_open(key, iv, (const uint8_t *)"netkey:1", 8, ct, 16, out, tag),
	    -EACCES);
	ct[0] ^= 1;
	cr_assert_eq(mesh_crypto_gcm256_open(key, iv, aad, 8, ct, 16, out, tag), -EACCES);
}

/* SHA-256 of "abc" is the FIPS 180-2 example value. */
Test(crypto, sha256_fips_example)
{
	uint8_t out[32], want[32];

	tv_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
	cr_assert_eq(mesh_crypto_sha256((const uint8_t *)"abc", 3, out), 0);
	cr_assert_arr_eq(out, want, 32);
}

/* The key fingerprint is stable, 8 hex digits, and not a prefix of the key itself. */
Test(crypto, key_fingerprint)
{
	uint8_t key[16];
	char fp[9], fp2[9], khex[33];

	tv_hex("7dd7364cd842ad18c17c2b820c84c3d6", key, 16);
	mesh_crypto_key_fingerprint(key, fp);
	mesh_crypto_key_fingerprint(key, fp2);
	cr_assert_str_eq(fp, fp2);
	cr_assert_eq(strlen(fp), 8);
	snprintf(khex, sizeof(khex), "%s", tv_tohex(key, 16));
	cr_assert_null(strstr(khex, fp));
}
