#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>

#include "mesh/buf.h"
#include "mesh/crypto.h"
#include "mesh/net.h"
#include "tests/util/tv.h"

#define HOUR_MS (3600ull * 1000)

/* Spec sample NetKey of §8.3 (key_derivation k2_flooding_8_2_2). */
static void spec_net_key(uint8_t key[16])
{
	cr_assert_eq(tv_bytes(tv_get("key_derivation[id=k2_flooding_8_2_2]"), "N", key, 16), 16);
}

/* Credentials named by a network entry, derived from its message's NetKey. */
static void entry_cred(json_t *msg, json_t *e, struct mesh_net_cred *cred)
{
	uint8_t key[16], p[9];
	const char *kind = tv_str(e, "security_credentials");

	cr_assert_eq(tv_bytes(json_object_get(msg, "keys"), "NetKey", key, 16), 16);
	if (strcmp(kind, "flooding") == 0) {
		cr_assert_eq(mesh_net_cred_flooding(key, cred), 0);
	} else {
		/* The friendship of §8.3 is the one whose P is given in §8.2.3. */
		cr_assert_str_eq(kind, "friendship");
		cr_assert_eq(tv_bytes(tv_get("key_derivation[id=k2_friendship_8_2_3]"), "P", p, 9),
			     9);
		cr_assert_eq(mesh_net_cred_friendship(key, mesh_get_be16(p + 1),
						      mesh_get_be16(p + 3), mesh_get_be16(p + 5),
						      mesh_get_be16(p + 7), cred),
			     0);
	}
	cr_assert_eq(cred->nid, tv_hexnum(e, "NID", 0x100), "NID of %s", tv_str(msg, "id"));
}

/* The fields of one network entry as a send request. */
static void entry_tx(json_t *e, struct mesh_net_tx *tx, uint8_t *tpdu)
{
	int n = tv_bytes(e, "LowerTransportPDU", tpdu, 32);

	cr_assert_gt(n, 0);
	memset(tx, 0, sizeof(*tx));
	tx->ctl = json_integer_value(json_object_get(e, "CTL")) != 0;
	tx->ttl = (uint8_t)tv_hexnum(e, "TTL", 0);
	tx->seq = (uint32_t)tv_hexnum(e, "SEQ", 0);
	tx->src = (uint16_t)tv_hexnum(e, "SRC", 0);
	tx->dst = (uint16_t)tv_hexnum(e, "DST", 0);
	tx->tpdu = tpdu;
	tx->tpdu_len = (size_t)n;
}

/*
 * Encode every network entry of a message from its fields and compare every
 * intermediate the spec lists, then decode the NetworkPDU back to the fields.
 */
static void check_message(const char *path)
{
	json_t *msg = tv_get(path), *entries, *e;
	size_t i;

	cr_assert_not_null(msg, "%s", path);
	entries = json_object_get(msg, "network");
	cr_assert(json_array_size(entries) > 0);
	json_array_foreach(entries, i, e)
	{
		struct mesh_net_cred cred;
		struct mesh_net_tx tx;
		struct mesh_net_rx rx;
		uint8_t tpdu[32], out[MESH_NET_PDU_MAX], want[64], dec[MESH_NET_TPDU_MAX];
		uint8_t hdr[6], pecb[6], nonce[13];
		uint32_t iv = (uint32_t)tv_hexnum(e, "IVIndex", 0);
		size_t len, mic;
		int n, k;

		entry_cred(msg, e, &cred);
		entry_tx(e, &tx, tpdu);
		mic = (size_t)json_integer_value(json_object_get(e, "NetMIC_size_bits")) / 8;
		cr_assert_eq(mic, tx.ctl ? 8u : 4u);

		cr_assert_eq(tv_bytes(e, "NetworkNonce", want, sizeof(want)), 13);
		mesh_crypto_net_nonce((uint8_t)((tx.ctl << 7) | tx.ttl), tx.seq, tx.src, iv, nonce);
		cr_assert_arr_eq(nonce, want, 13);

		cr_assert_eq(mesh_net_encode(&cred, iv, &tx, out, &len), 0, "%s[%zu]", path, i);
		n = tv_bytes(e, "NetworkPDU", want, sizeof(want));
		cr_assert_eq(len, (size_t)n, "%s[%zu] length", path, i);
		cr_assert_arr_eq(out, want, len, "%s[%zu] NetworkPDU %s", path, i,
				 tv_tohex(out, len));

		n = tv_bytes(e, "EncDST_EncTransportPDU", want, sizeof(want));
		cr_assert_eq((size_t)n, len - MESH_NET_HDR_LEN + 2 - mic);
		cr_assert_arr_eq(out + 7, want, (size_t)n);
		cr_assert_eq(tv_bytes(e, "NetMIC", want, sizeof(want)), (int)mic);
		cr_assert_arr_eq(out + len - mic, want, mic);
		cr_assert_eq(tv_bytes(e, "ObfuscatedHeader", want, sizeof(want)), 6);
		cr_assert_arr_eq(out + 1, want, 6);
		/* PECB = obfuscated header XOR clear header (§3.8.7.3). */
		hdr[0] = (uint8_t)((tx.ctl << 7) | tx.ttl);
		hdr[1] = (uint8_t)(tx.seq >> 16);
		hdr[2] = (uint8_t)(tx.seq >> 8);
		hdr[3] = (uint8_t)tx.seq;
		mesh_put_be16(hdr + 4, tx.src);
		for (k = 0; k < 6; k++) {
			pecb[k] = out[1 + k] ^ hdr[k];
		}
		cr_assert_eq(tv_bytes(e, "PECB_first6", want, sizeof(want)), 6);
		cr_assert_arr_eq(pecb, want, 6);

		n = tv_bytes(e, "NetworkPDU", want, sizeof(want));
		cr_assert_eq(mesh_net_decode(&cred, iv, want, (size_t)n, &rx, dec), 0);
		cr_assert_eq(rx.ctl, tx.ctl);
		cr_assert_eq(rx.ttl, tx.ttl);
		cr_assert_eq(rx.seq, tx.seq);
		cr_assert_eq(rx.src, tx.src);
		cr_assert_eq(rx.dst, tx.dst);
		cr_assert_eq(rx.iv_index, iv);
		cr_assert_eq(rx.tpdu, dec);
		cr_assert_eq(rx.tpdu_len, tx.tpdu_len);
		cr_assert_arr_eq(rx.tpdu, tpdu, tx.tpdu_len, "%s[%zu] LowerTransportPDU", path, i);
	}
}

#define MSG_TEST(name, id)                                                                         \
	/* Spec sample message: encode from fields and decode to fields, octet for octet. */       \
	Test(net, name)                                                                            \
	{                                                                                          \
		check_message("network_pdus.messages[id=" id "]");                                 \
	}

/* §8.3.1 Message #1 Friend Request (CTL=1, 64-bit NetMIC). */
MSG_TEST(s8_3_1_msg01, "msg01")
/* §8.3.2 Message #2 Friend Offer. */
MSG_TEST(s8_3_2_msg02, "msg02")
/* §8.3.3 Message #3. */
MSG_TEST(s8_3_3_msg03, "msg03")
/* §8.3.4 Message #4 Friend Poll under friendship credentials. */
MSG_TEST(s8_3_4_msg04, "msg04")
/* §8.3.5 Message #5 (friendship credentials). */
MSG_TEST(s8_3_5_msg05, "msg05")
/* §8.3.6 Message #6: both segments. */
MSG_TEST(s8_3_6_msg06, "msg06")
/* §8.3.7 Message #7. */
MSG_TEST(s8_3_7_msg07, "msg07")
/* §8.3.8 Message #8. */
MSG_TEST(s8_3_8_msg08, "msg08")
/* §8.3.9 Message #9. */
MSG_TEST(s8_3_9_msg09, "msg09")
/* §8.3.10 Message #10 (friendship credentials). */
MSG_TEST(s8_3_10_msg10, "msg10")
/* §8.3.11 Message #11: the v1.1 entry and the BlueZ AKF=1 variant. */
MSG_TEST(s8_3_11_msg11, "msg11")
/* §8.3.12 Message #12. */
MSG_TEST(s8_3_12_msg12, "msg12")
/* §8.3.13 Message #13 (v1.1 first transport octet 0x80). */
MSG_TEST(s8_3_13_msg13, "msg13")
/* §8.3.14 Message #14. */
MSG_TEST(s8_3_14_msg14, "msg14")
/* §8.3.15 Message #15. */
MSG_TEST(s8_3_15_msg15, "msg15")
/* §8.3.16 Message #16 (the recomputed PECB, not the misprinted row). */
MSG_TEST(s8_3_16_msg16, "msg16")
/* §8.3.17 Message #17. */
MSG_TEST(s8_3_17_msg17, "msg17")
/* §8.3.18 Message #18. */
MSG_TEST(s8_3_18_msg18, "msg18")
/* §8.3.19 Message #19. */
MSG_TEST(s8_3_19_msg19, "msg19")
/* §8.3.20 Message #20 (IV Index 12345677). */
MSG_TEST(s8_3_20_msg20, "msg20")
/* §8.3.21 Message #21. */
MSG_TEST(s8_3_21_msg21, "msg21")
/* §8.3.22 Message #22 to a virtual address (LowerTransportPDU 66...). */
MSG_TEST(s8_3_22_msg22, "msg22")
/* §8.3.23 Message #23 (LowerTransportPDU 66...). */
MSG_TEST(s8_3_23_msg23, "msg23")
/* §8.3.24 Message #24: both segments. */
MSG_TEST(s8_3_24_msg24, "msg24")

/* §8.12.1, §8.12.2, §8.12.8: device-key messages with TTL 0x7f, every segment. */
Test(net, s8_12_device_key_examples)
{
	json_t *arr = tv_get("network_pdus.extra_device_key_examples"), *m;
	size_t i;
	char path[128];

	cr_assert_eq(json_array_size(arr), 3);
	json_array_foreach(arr, i, m)
	{
		snprintf(path, sizeof(path), "network_pdus.extra_device_key_examples[id=%s]",
			 tv_str(m, "id"));
		check_message(path);
	}
}

/* The per-message tests above cover the whole §8.3 list: 24 distinct ids. */
Test(net, s8_3_all_messages_listed)
{
	cr_assert_eq(json_array_size(tv_get("network_pdus.messages")), 24);
}

/* --- Key derivation (§8.2) -------------------------------------------- */

static void check_cred(const char *id, const struct mesh_net_cred *c)
{
	json_t *v = tv_get(id);
	uint8_t want[16];

	cr_assert_not_null(v, "%s", id);
	cr_assert_eq(c->nid, tv_hexnum(v, "NID", 0x100));
	cr_assert_eq(tv_bytes(v, "EncryptionKey", want, 16), 16);
	cr_assert_arr_eq(c->enc_key, want, 16);
	cr_assert_eq(tv_bytes(v, "PrivacyKey", want, 16), 16);
	cr_assert_arr_eq(c->priv_key, want, 16);
}

/* §8.2.2 k2 managed flooding credentials. */
Test(net, s8_2_2_k2_flooding)
{
	uint8_t key[16];
	struct mesh_net_cred c;

	spec_net_key(key);
	cr_assert_eq(mesh_net_cred_flooding(key, &c), 0);
	check_cred("key_derivation[id=k2_flooding_8_2_2]", &c);
}

/* §8.2.3 k2 friendship credentials (LPN 1201, Friend 2345, counters 0000/072f). */
Test(net, s8_2_3_k2_friendship)
{
	uint8_t key[16];
	struct mesh_net_cred c;

	spec_net_key(key);
	cr_assert_eq(mesh_net_cred_friendship(key, 0x1201, 0x2345, 0x0000, 0x072f, &c), 0);
	check_cred("key_derivation[id=k2_friendship_8_2_3]", &c);
}

/* §8.2.4 k2 directed forwarding credentials. */
Test(net, s8_2_4_k2_directed)
{
	uint8_t key[16];
	struct mesh_net_cred c;

	spec_net_key(key);
	cr_assert_eq(mesh_net_cred_directed(key, &c), 0);
	check_cred("key_derivation[id=k2_directed_8_2_4]", &c);
}

/* §8.2.5-§8.2.7: Network ID, IdentityKey, BeaconKey and both credentials of one NetKey. */
Test(net, s8_2_5_to_7_subnet_keys)
{
	uint8_t key[16], want[16];
	struct mesh_net_keys k;

	spec_net_key(key);
	cr_assert_eq(mesh_net_keys_derive(key, &k), 0);
	check_cred("key_derivation[id=k2_flooding_8_2_2]", &k.flooding);
	check_cred("key_derivation[id=k2_directed_8_2_4]", &k.directed);
	cr_assert_eq(tv_bytes(tv_get("key_derivation[id=network_id_8_2_5]"), "NetworkID", want, 8),
		     8);
	cr_assert_arr_eq(k.net_id, want, 8);
	cr_assert_eq(tv_bytes(tv_get("key_derivation[id=identity_key_8_2_6]"), "output", want, 16),
		     16);
	cr_assert_arr_eq(k.identity_key, want, 16);
	cr_assert_eq(tv_bytes(tv_get("key_derivation[id=beacon_key_8_2_7]"), "output", want, 16),
		     16);
	cr_assert_arr_eq(k.beacon_key, want, 16);
}

/* §8.2.8 PrivateBeaconKey, both samples, and Nordic's f7a2 key set. */
Test(net, s8_2_8_private_beacon_key)
{
	static const char *const ids[] = {"private_beacon_key_8_2_8_1",
					  "private_beacon_key_8_2_8_2"};
	uint8_t key[16], want[16];
	struct mesh_net_keys k;
	char path[96];
	size_t i;

	for (i = 0; i < 2; i++) {
		json_t *v;

		snprintf(path, sizeof(path), "key_derivation[id=%s]", ids[i]);
		v = tv_get(path);
		cr_assert_eq(tv_bytes(v, "NetKey", key, 16), 16);
		cr_assert_eq(tv_bytes(v, "PrivateBeaconKey", want, 16), 16);
		cr_assert_eq(mesh_net_keys_derive(key, &k), 0);
		cr_assert_arr_eq(k.private_beacon_key, want, 16, "%s", ids[i]);
	}
	cr_assert_eq(
	    tv_bytes(tv_get("key_derivation[id=netkey_f7a2_IdentityKey]"), "NetKey", key, 16), 16);
	cr_assert_eq(mesh_net_keys_derive(key, &k), 0);
	cr_assert_eq(
	    tv_bytes(tv_get("key_derivation[id=netkey_f7a2_IdentityKey]"), "output", want, 16), 16);
	cr_assert_arr_eq(k.identity_key, want, 16);
	cr_assert_eq(
	    tv_bytes(tv_get("key_derivation[id=netkey_f7a2_BeaconKey]"), "output", want, 16), 16);
	cr_assert_arr_eq(k.beacon_key, want, 16);
	cr_assert_eq(
	    tv_bytes(tv_get("key_derivation[id=netkey_f7a2_PrivateBeaconKey]"), "output", want, 16),
	    16);
	cr_assert_arr_eq(k.private_beacon_key, want, 16);
}

/* --- Codec limits (§3.4.4) -------------------------------------------- */

/*
 * Build a Network PDU without the encoder's checks, so that malformed but
 * correctly authenticated PDUs can be fed to the decoder.
 */
static size_t raw_pdu(const struct mesh_net_cred *c, uint32_t iv, bool ctl, uint8_t ttl,
		      uint32_t seq, uint16_t src, uint16_t dst, size_t tlen, uint8_t *out)
{
	uint8_t nonce[13];
	size_t mic = ctl ? 8 : 4, len = 9 + tlen + mic;

	out[0] = (uint8_t)(((iv & 1) << 7) | c->nid);
	out[1] = (uint8_t)((ctl << 7) | ttl);
	out[2] = (uint8_t)(seq >> 16);
	out[3] = (uint8_t)(seq >> 8);
	out[4] = (uint8_t)seq;
	mesh_put_be16(out + 5, src);
	mesh_put_be16(out + 7, dst);
	memset(out + 9, 0x5a, tlen);
	mesh_crypto_net_nonce(out[1], seq, src, iv, nonce);
	cr_assert_eq(mesh_crypto_ccm_encrypt(c->enc_key, nonce, out + 7, 2 + tlen, NULL, 0, out + 7,
					     out + 9 + tlen, mic),
		     0);
	if (len >= MESH_NET_PDU_MIN) {
		cr_assert_eq(mesh_crypto_net_obfuscate(c->priv_key, iv, out, len), 0);
	}
	return len;
}

static struct mesh_net_cred spec_cred(void)
{
	uint8_t key[16];
	struct mesh_net_cred c;

	spec_net_key(key);
	cr_assert_eq(mesh_net_cred_flooding(key, &c), 0);
	return c;
}

/* §3.4.4: the encoder refuses fields the PDU cannot carry. */
Test(net, s3_4_4_encode_rejects_bad_fields)
{
	struct mesh_net_cred c = spec_cred();
	uint8_t t[17] = {0}, out[MESH_NET_PDU_MAX];
	struct mesh_net_tx tx = {.ttl = 5, .seq = 1, .src = 0x0001, .dst = 0xc000, .tpdu = t};
	size_t len = 99;

	tx.tpdu_len = 16;
	cr_assert_eq(mesh_net_encode(&c, 0, &tx, out, &len), 0);
	cr_assert_eq(len, 29);
	tx.tpdu_len = 17;
	cr_assert_eq(mesh_net_encode(&c, 0, &tx, out, &len), -EINVAL);
	tx.ctl = true;
	tx.tpdu_len = 12;
	cr_assert_eq(mesh_net_encode(&c, 0, &tx, out, &len), 0);
	cr_assert_eq(len, 29);
	tx.tpdu_len = 13; /* CTL=1 allows 12 octets only */
	cr_assert_eq(mesh_net_encode(&c, 0, &tx, out, &len), -EINVAL);
	tx.tpdu_len = 0;
	cr_assert_eq(mesh_net_encode(&c, 0, &tx, out, &len), -EINVAL);
	tx.tpdu_len = 4;
	tx.src = 0xc000;
	cr_assert_eq(mesh_net_encode(&c, 0, &tx, out, &len), -EINVAL);
	tx.src = 0x0001;
	tx.dst = 0x0000;
	cr_assert_eq(mesh_net_encode(&c, 0, &tx, out, &len), -EINVAL);
	tx.dst = 0x0002;
	tx.ttl = 0x80;
	cr_assert_eq(mesh_net_encode(&c, 0, &tx, out, &len), -EINVAL);
	tx.ttl = 2;
	tx.seq = 0x1000000;
	cr_assert_eq(mesh_net_encode(&c, 0, &tx, out, &len), -EINVAL);
	cr_assert_eq(len, 29, "out_len untouched on error");
}

/* §3.4.4: malformed PDUs (length, SRC, DST, NetMIC, NID, IVI) are refused by the codec. */
Test(net, s3_4_4_decode_rejects_malformed)
{
	struct mesh_net_cred c = spec_cred();
	struct mesh_net_rx rx, before;
	uint8_t pdu[40], t[16];
	size_t len;

	memset(&rx, 0xa5, sizeof(rx));
	before = rx;
	/* Authentic but SRC unassigned, group or virtual. */
	len = raw_pdu(&c, 7, false, 3, 1, 0x0000, 0x0001, 4, pdu);
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, len, &rx, t), -EBADMSG);
	len = raw_pdu(&c, 7, false, 3, 1, 0xc001, 0x0001, 4, pdu);
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, len, &rx, t), -EBADMSG);
	len = raw_pdu(&c, 7, true, 3, 1, 0x8001, 0x0001, 4, pdu);
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, len, &rx, t), -EBADMSG);
	/* Authentic but DST unassigned. */
	len = raw_pdu(&c, 7, false, 3, 1, 0x0001, 0x0000, 4, pdu);
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, len, &rx, t), -EBADMSG);
	/* CTL=1 with an empty TransportPDU (17 octets: under the CTL=1 minimum of 18). */
	len = raw_pdu(&c, 7, true, 3, 1, 0x0001, 0x0002, 0, pdu);
	cr_assert_eq(len, 17);
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, len, &rx, t), -EBADMSG);
	/* CTL=0 with an empty TransportPDU: 13 octets, under the minimum. */
	len = raw_pdu(&c, 7, false, 3, 1, 0x0001, 0x0002, 0, pdu);
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, len, &rx, t), -EBADMSG);
	/* CTL=1 with a 13-octet TransportPDU: 30 octets, over-long. */
	len = raw_pdu(&c, 7, true, 3, 1, 0x0001, 0x0002, 13, pdu);
	cr_assert_eq(len, 30);
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, len, &rx, t), -EBADMSG);
	/* A good PDU, then damaged copies of it. */
	len = raw_pdu(&c, 7, false, 3, 1, 0x0001, 0x0002, 16, pdu);
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, len - 1, &rx, t), -EACCES, "truncated");
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, 13, &rx, t), -EBADMSG, "under 14");
	cr_assert_eq(mesh_net_decode(&c, 6, pdu, len, &rx, t), -ENOENT, "IVI mismatch");
	cr_assert_lt(mesh_net_decode(&c, 9, pdu, len, &rx, t), 0, "same IVI, other IV");
	pdu[len - 1] ^= 0x01;
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, len, &rx, t), -EACCES, "NetMIC");
	pdu[len - 1] ^= 0x01;
	pdu[0] ^= 0x01;
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, len, &rx, t), -ENOENT, "NID");
	pdu[0] ^= 0x01;
	cr_assert_arr_eq(&rx, &before, sizeof(rx), "rx untouched by failures");
	cr_assert_eq(mesh_net_decode(&c, 7, pdu, len, &rx, t), 0);
	cr_assert_eq(rx.tpdu_len, 16);
}

/* Config Network Transmit / Relay Retransmit octet: 3-bit count, 5-bit steps of 10 ms. */
Test(net, s4_2_network_transmit_octet)
{
	uint8_t o, count;
	uint16_t ms;

	cr_assert_eq(mesh_net_xmit_pack(2, 20, &o), 0);
	cr_assert_eq(o, 0x0a);
	cr_assert_eq(mesh_net_xmit_pack(7, 320, &o), 0);
	cr_assert_eq(o, 0xff);
	mesh_net_xmit_unpack(0x00, &count, &ms);
	cr_assert_eq(count, 0);
	cr_assert_eq(ms, 10);
	mesh_net_xmit_unpack(0x4b, &count, &ms);
	cr_assert_eq(count, 3);
	cr_assert_eq(ms, 100);
	o = 0x77;
	cr_assert_eq(mesh_net_xmit_pack(8, 20, &o), -EINVAL);
	cr_assert_eq(mesh_net_xmit_pack(1, 15, &o), -EINVAL);
	cr_assert_eq(mesh_net_xmit_pack(1, 0, &o), -EINVAL);
	cr_assert_eq(mesh_net_xmit_pack(1, 330, &o), -EINVAL);
	cr_assert_eq(o, 0x77);
}

/* --- struct mesh_net --------------------------------------------------- */

/* A node at IV Index 12345678 with the spec NetKey as subnet 0 and element 0003. */
static struct mesh_net *spec_node(void)
{
	struct mesh_net *net = mesh_net_new(0);
	uint8_t key[16];

	cr_assert_not_null(net);
	spec_net_key(key);
	cr_assert_eq(mesh_net_subnet_add(net, 0, key), 0);
	cr_assert_eq(mesh_net_iv_set(net, 0x12345678, false, 0), 0);
	cr_assert_eq(mesh_net_addr_set(net, 0x0003, 1), 0);
	return net;
}

static size_t vector_pdu(const char *msg, size_t entry, uint8_t *out)
{
	json_t *e = json_array_get(json_object_get(tv_get(msg), "network"), entry);
	int n = tv_bytes(e, "NetworkPDU", out, 64);

	cr_assert_gt(n, 0);
	return (size_t)n;
}

/* §3.4.6.5: the message cache drops a PDU already received, e.g. via a second relay. */
Test(net, s3_4_6_5_cache_drops_duplicates)
{
	struct mesh_net *net = spec_node();
	struct mesh_net_rx rx;
	uint8_t pdu[64], t[16];
	size_t len = vector_pdu("network_pdus.messages[id=msg16]", 0, pdu);
	int r;

	r = mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL);
	cr_assert_eq(r, MESH_NET_RECV_DELIVER, "1201 -> 0003 is for us");
	cr_assert_eq(rx.src, 0x1201);
	cr_assert_eq(rx.dst, 0x0003);
	cr_assert_eq(rx.net_idx, 0);
	cr_assert_not(rx.new_key);
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), -EALREADY);
	mesh_net_free(net);
}

/* §3.4.6.5: the cache is bounded; the oldest entry gives way after MESH_NET_CACHE_SIZE others. */
Test(net, s3_4_6_5_cache_bounded)
{
	struct mesh_net *net = spec_node();
	struct mesh_net_cred c = spec_cred();
	struct mesh_net_rx rx;
	uint8_t pdu[MESH_NET_PDU_MAX], t[16], tp[4] = {1, 2, 3, 4};
	struct mesh_net_tx tx = {.ttl = 0, .src = 0x0100, .dst = 0x0003, .tpdu = tp, .tpdu_len = 4};
	size_t len, i;

	for (i = 0; i <= MESH_NET_CACHE_SIZE; i++) {
		tx.seq = (uint32_t)i;
		cr_assert_eq(mesh_net_encode(&c, 0x12345678, &tx, pdu, &len), 0);
		cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), 1);
	}
	tx.seq = 0;
	cr_assert_eq(mesh_net_encode(&c, 0x12345678, &tx, pdu, &len), 0);
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), 1, "evicted");
	tx.seq = MESH_NET_CACHE_SIZE;
	cr_assert_eq(mesh_net_encode(&c, 0x12345678, &tx, pdu, &len), 0);
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), -EALREADY, "still cached");
	mesh_net_free(net);
}

/* Malformed input to a node returns an error and leaves cache, SEQ and IV state unchanged. */
Test(net, s3_4_4_recv_malformed_keeps_state)
{
	struct mesh_net *net = spec_node();
	struct mesh_net_cred c = spec_cred();
	struct mesh_net_rx rx;
	uint8_t pdu[64], bad[64], t[16];
	size_t len = vector_pdu("network_pdus.messages[id=msg16]", 0, pdu), blen;
	uint32_t iv;
	bool ivu;

	cr_assert_eq(mesh_net_seq_set(net, 0x42), 0);
	memcpy(bad, pdu, len);
	cr_assert_eq(mesh_net_recv(net, bad, 13, &rx, t, NULL, NULL), -EBADMSG, "truncated");
	cr_assert_lt(mesh_net_recv(net, bad, len - 1, &rx, t, NULL, NULL), 0, "short by one");
	memset(bad + len, 0, 8);
	cr_assert_eq(mesh_net_recv(net, bad, 30, &rx, t, NULL, NULL), -EBADMSG, "over-long");
	bad[len - 2] ^= 0x40;
	cr_assert_eq(mesh_net_recv(net, bad, len, &rx, t, NULL, NULL), -EACCES, "NetMIC");
	bad[len - 2] ^= 0x40;
	bad[0] = (uint8_t)((bad[0] & 0x80) | 0x11);
	cr_assert_eq(mesh_net_recv(net, bad, len, &rx, t, NULL, NULL), -ENOENT, "unknown NID");
	memcpy(bad, pdu, len);
	bad[0] ^= 0x80;
	cr_assert_lt(mesh_net_recv(net, bad, len, &rx, t, NULL, NULL), 0, "IVI mismatch");
	blen = raw_pdu(&c, 0x12345678, false, 3, 9, 0xc001, 0x0003, 4, bad);
	cr_assert_eq(mesh_net_recv(net, bad, blen, &rx, t, NULL, NULL), -EBADMSG, "bad SRC");
	blen = raw_pdu(&c, 0x12345678, true, 3, 9, 0x0001, 0x0003, 13, bad);
	cr_assert_eq(mesh_net_recv(net, bad, blen, &rx, t, NULL, NULL), -EBADMSG, "CTL=1 long");

	cr_assert_eq(mesh_net_seq_get(net), 0x42);
	mesh_net_iv_get(net, &iv, &ivu);
	cr_assert_eq(iv, 0x12345678);
	cr_assert_not(ivu);
	/* The cache did not learn the genuine PDU from its damaged copies. */
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), MESH_NET_RECV_DELIVER);
	mesh_net_free(net);
}

/* Find a NetKey, other than the spec one, whose flooding NID is 0x68 too. */
static void colliding_key(uint8_t key[16])
{
	uint64_t st = 12345;
	struct mesh_net_cred c;
	int i;

	for (i = 0; i < 100000; i++) {
		tv_rng(&st, key, 16);
		cr_assert_eq(mesh_net_cred_flooding(key, &c), 0);
		if (c.nid == 0x68) {
			return;
		}
	}
	cr_assert_fail("no colliding key");
}

/* §3.4.6.3: two subnets share NID 0x68; each PDU decodes under the subnet whose NetMIC fits. */
Test(net, s3_4_6_3_nid_collision)
{
	struct mesh_net *net = mesh_net_new(0);
	uint8_t other[16], key[16], pdu[64], t[16], tp[2] = {0x00, 0x01};
	struct mesh_net_cred oc;
	struct mesh_net_rx rx;
	struct mesh_net_tx tx = {
	    .ttl = 0, .seq = 7, .src = 0x0100, .dst = 0xc000, .tpdu = tp, .tpdu_len = 2};
	size_t len;

	colliding_key(other);
	spec_net_key(key);
	cr_assert_eq(mesh_net_subnet_add(net, 1, other), 0);
	cr_assert_eq(mesh_net_subnet_add(net, 5, key), 0);
	cr_assert_eq(mesh_net_iv_set(net, 0x12345678, false, 0), 0);
	cr_assert_eq(mesh_net_addr_set(net, 0x0003, 1), 0);
	len = vector_pdu("network_pdus.messages[id=msg16]", 0, pdu);
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), MESH_NET_RECV_DELIVER);
	cr_assert_eq(rx.net_idx, 5);
	cr_assert_eq(mesh_net_cred_flooding(other, &oc), 0);
	cr_assert_eq(mesh_net_encode(&oc, 0x12345678, &tx, pdu, &len), 0);
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), MESH_NET_RECV_DELIVER);
	cr_assert_eq(rx.net_idx, 1);
	mesh_net_free(net);
}

/* Key Refresh procedure: both keys decode in phases 1 and 2, the new key sends from phase 2. */
Test(net, key_refresh_decode_and_send)
{
	struct mesh_net *net = mesh_net_new(0);
	uint8_t oldk[16], newk[16], other[16], pdu[64], t[16], tp[3] = {0x00, 0xaa, 0xbb};
	struct mesh_net_cred co, cn;
	struct mesh_net_rx rx;
	struct mesh_net_tx tx = {
	    .ttl = 4, .seq = 1, .src = 0x0100, .dst = 0x0003, .tpdu = tp, .tpdu_len = 3};
	size_t len;

	spec_net_key(oldk);
	colliding_key(newk); /* the new key even shares the NID of the old one */
	memset(other, 0x33, 16);
	cr_assert_eq(mesh_net_subnet_add(net, 0, oldk), 0);
	cr_assert_eq(mesh_net_addr_set(net, 0x0003, 2), 0);
	cr_assert_eq(mesh_net_cred_flooding(oldk, &co), 0);
	cr_assert_eq(mesh_net_cred_flooding(newk, &cn), 0);
	cr_assert_eq(mesh_net_subnet_kr_set(net, 0, 2), -EBUSY, "no phase 2 without update");
	cr_assert_eq(mesh_net_subnet_update(net, 0, newk), 0);
	cr_assert_eq(mesh_net_subnet_update(net, 0, newk), 0, "repeat is harmless");
	cr_assert_eq(mesh_net_subnet_update(net, 0, other), -EBUSY);
	cr_assert_eq(mesh_net_subnet_kr_phase(net, 0), 1);

	cr_assert_eq(mesh_net_encode(&co, 0, &tx, pdu, &len), 0);
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), 1);
	cr_assert_not(rx.new_key);
	tx.seq = 2;
	cr_assert_eq(mesh_net_encode(&cn, 0, &tx, pdu, &len), 0);
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), 1);
	cr_assert(rx.new_key);

	/* Phase 1 still transmits with the old key. */
	tx.src = 0x0004;
	tx.dst = 0x0100;
	tx.seq = 3;
	cr_assert_eq(mesh_net_send(net, &tx, pdu, &len), 0);
	cr_assert_eq(mesh_net_decode(&co, 0, pdu, len, &rx, t), 0);
	cr_assert_eq(mesh_net_subnet_kr_set(net, 0, 2), 0);
	tx.seq = 4;
	cr_assert_eq(mesh_net_send(net, &tx, pdu, &len), 0);
	cr_assert_eq(mesh_net_decode(&cn, 0, pdu, len, &rx, t), 0);
	cr_assert_neq(mesh_net_decode(&co, 0, pdu, len, &rx, t), 0);

	/* Phase 3 revokes the old key and returns to phase 0. */
	cr_assert_eq(mesh_net_subnet_kr_set(net, 0, 3), 0);
	cr_assert_eq(mesh_net_subnet_kr_phase(net, 0), 0);
	cr_assert_null(mesh_net_subnet_keys(net, 0, true));
	tx.src = 0x0100;
	tx.dst = 0x0003;
	tx.seq = 5;
	cr_assert_eq(mesh_net_encode(&co, 0, &tx, pdu, &len), 0);
	cr_assert_lt(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), 0, "old key revoked");
	tx.seq = 6;
	cr_assert_eq(mesh_net_encode(&cn, 0, &tx, pdu, &len), 0);
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), 1);
	cr_assert_not(rx.new_key, "the new key is now the current one");
	mesh_net_free(net);
}

/* Subnet bookkeeping: duplicates, unknown indexes, removal, enumeration. */
Test(net, subnet_add_del)
{
	struct mesh_net *net = mesh_net_new(0);
	uint8_t a[16], b[16];
	uint16_t idx;

	memset(a, 1, 16);
	memset(b, 2, 16);
	cr_assert_eq(mesh_net_subnet_add(net, 3, a), 0);
	cr_assert_eq(mesh_net_subnet_add(net, 3, a), 0);
	cr_assert_eq(mesh_net_subnet_add(net, 3, b), -EEXIST);
	cr_assert_eq(mesh_net_subnet_add(net, 0x1000, b), -EINVAL);
	cr_assert_eq(mesh_net_subnet_add(net, 9, b), 0);
	cr_assert_eq(mesh_net_subnet_count(net), 2);
	cr_assert_eq(mesh_net_subnet_del(net, 3), 0);
	cr_assert_eq(mesh_net_subnet_del(net, 3), -ENOENT);
	cr_assert_eq(mesh_net_subnet_at(net, 0, &idx), 0);
	cr_assert_eq(idx, 9);
	cr_assert_eq(mesh_net_subnet_at(net, 1, &idx), -ENOENT);
	cr_assert_eq(mesh_net_subnet_kr_phase(net, 3), -ENOENT);
	cr_assert_eq(mesh_net_subnet_update(net, 3, a), -ENOENT);
	mesh_net_free(net);
	mesh_net_free(NULL);
}

/* §3.4.4.4 IVI: the bit selects the current IV Index or the one before it. */
Test(net, s3_4_4_4_ivi_selects_iv_index)
{
	struct mesh_net *net = spec_node();
	struct mesh_net_rx rx;
	uint8_t pdu[64], t[16];
	size_t len;

	/* Messages #20..#24 are under 12345677: at IV 12345678 their IVI=1 means N-1. */
	len = vector_pdu("network_pdus.messages[id=msg20]", 0, pdu);
	cr_assert_geq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), 0);
	cr_assert_eq(rx.iv_index, 0x12345677);
	len = vector_pdu("network_pdus.messages[id=msg16]", 0, pdu);
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), 1);
	cr_assert_eq(rx.iv_index, 0x12345678);
	mesh_net_free(net);

	/* At IV 12345679 a 12345678 PDU (IVI=0) is still accepted as N-1 ... */
	net = spec_node();
	cr_assert_eq(mesh_net_iv_set(net, 0x12345679, true, 0), 0);
	len = vector_pdu("network_pdus.messages[id=msg16]", 0, pdu);
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), 1);
	cr_assert_eq(rx.iv_index, 0x12345678);
	/* ... but a 12345677 PDU (IVI=1) now means 12345679 and fails. */
	len = vector_pdu("network_pdus.messages[id=msg21]", 0, pdu);
	cr_assert_lt(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), 0);
	mesh_net_free(net);
}

/* One relay scenario: a fresh PDU from 0100 with the given TTL and DST. */
struct relay_case {
	struct mesh_net *net;
	struct mesh_net_cred c;
	struct mesh_net_tx tx;
	struct mesh_net_rx rx;
	uint8_t pdu[MESH_NET_PDU_MAX], relay[MESH_NET_PDU_MAX], t[16];
	size_t len, rlen;
	uint32_t seq;
};

static int relay_recv(struct relay_case *rc, uint8_t ttl, uint16_t dst)
{
	rc->tx.ttl = ttl;
	rc->tx.dst = dst;
	rc->tx.seq = rc->seq++;
	cr_assert_eq(mesh_net_encode(&rc->c, 0x12345678, &rc->tx, rc->pdu, &rc->len), 0);
	return mesh_net_recv(rc->net, rc->pdu, rc->len, &rc->rx, rc->t, rc->relay, &rc->rlen);
}

/* §3.4.6.3 relay decision: relay feature, TTL >= 2, DST not ours; TTL - 1, same credentials. */
Test(net, s3_4_6_3_relay_decision)
{
	static const uint8_t tp[5] = {0x00, 1, 2, 3, 4};
	struct relay_case rc = {.seq = 100};
	struct mesh_net_rx rr;
	uint8_t t2[16];

	rc.net = spec_node();
	rc.c = spec_cred();
	rc.tx.src = 0x0100;
	rc.tx.tpdu = tp;
	rc.tx.tpdu_len = sizeof(tp);

	cr_assert_eq(relay_recv(&rc, 5, 0x0200), 0, "relay feature off: nothing to do");
	mesh_net_relay_set(rc.net, true);
	cr_assert_eq(relay_recv(&rc, 5, 0x0200), MESH_NET_RECV_RELAY);
	cr_assert_eq(rc.rlen, rc.len);
	cr_assert_eq(mesh_net_decode(&rc.c, 0x12345678, rc.relay, rc.rlen, &rr, t2), 0);
	cr_assert_eq(rr.ttl, 4);
	cr_assert_eq(rr.seq, rc.rx.seq);
	cr_assert_eq(rr.src, 0x0100);
	cr_assert_eq(rr.dst, 0x0200);
	cr_assert_eq(rr.ctl, false);
	cr_assert_arr_eq(rr.tpdu, tp, sizeof(tp));
	cr_assert_eq(relay_recv(&rc, 2, 0x0200), MESH_NET_RECV_RELAY, "TTL 2 relays as TTL 1");
	cr_assert_eq(relay_recv(&rc, 1, 0x0200), 0, "TTL 1 is not relayed");
	cr_assert_eq(relay_recv(&rc, 0, 0x0200), 0, "TTL 0 is not relayed");
	cr_assert_eq(relay_recv(&rc, 5, 0x0003), MESH_NET_RECV_DELIVER, "ours: not relayed");
	cr_assert_eq(relay_recv(&rc, 5, 0xc005), MESH_NET_RECV_DELIVER | MESH_NET_RECV_RELAY);
	cr_assert_eq(relay_recv(&rc, 5, 0xffff), MESH_NET_RECV_DELIVER | MESH_NET_RECV_RELAY);
	rc.tx.seq = rc.seq++;
	rc.tx.dst = 0x0200;
	cr_assert_eq(mesh_net_encode(&rc.c, 0x12345678, &rc.tx, rc.pdu, &rc.len), 0);
	cr_assert_eq(mesh_net_recv(rc.net, rc.pdu, rc.len, &rc.rx, rc.t, NULL, NULL), 0,
		     "no relay buffer");
	mesh_net_free(rc.net);
}

/* Sending: default TTL, TTL 1 refused, foreign SRC refused, and our own echo dropped. */
Test(net, s3_4_4_3_send)
{
	struct mesh_net *net = spec_node();
	struct mesh_net_cred c = spec_cred();
	struct mesh_net_rx rx;
	uint8_t pdu[MESH_NET_PDU_MAX], t[16], tp[2] = {0x00, 0x01};
	struct mesh_net_tx tx = {.net_idx = 0,
				 .ttl = MESH_TTL_DEFAULT,
				 .seq = 5,
				 .src = 0x0003,
				 .dst = 0x0100,
				 .tpdu = tp,
				 .tpdu_len = 2};
	size_t len;

	cr_assert_eq(mesh_net_default_ttl_set(net, 1), -EINVAL);
	cr_assert_eq(mesh_net_default_ttl_set(net, 9), 0);
	cr_assert_eq(mesh_net_send(net, &tx, pdu, &len), 0);
	cr_assert_eq(mesh_net_decode(&c, 0x12345678, pdu, len, &rx, t), 0);
	cr_assert_eq(rx.ttl, 9);
	cr_assert_eq(mesh_net_recv(net, pdu, len, &rx, t, NULL, NULL), -EALREADY, "own echo");
	tx.ttl = 1;
	cr_assert_eq(mesh_net_send(net, &tx, pdu, &len), -EINVAL);
	tx.ttl = 0;
	tx.src = 0x0004;
	cr_assert_eq(mesh_net_send(net, &tx, pdu, &len), -EINVAL, "not our element");
	tx.src = 0x0003;
	tx.net_idx = 7;
	cr_assert_eq(mesh_net_send(net, &tx, pdu, &len), -ENOENT);
	mesh_net_free(net);
}

/* --- Sequence numbers -------------------------------------------------- */

struct store {
	uint32_t up_to;
	int calls;
	int fail;
};

static int store_reserve(void *ctx, uint32_t up_to)
{
	struct store *s = ctx;

	if (s->fail) {
		return s->fail;
	}
	s->up_to = up_to;
	s->calls++;
	return 0;
}

/* §3.4.4.6: SEQ is 24 bits and never reused: -ENOSPC at the end of the space. */
Test(net, s3_4_4_6_seq_exhaustion)
{
	struct mesh_net *net = mesh_net_new(0);
	uint32_t seq = 0;

	cr_assert_eq(mesh_net_seq_next(net, &seq), 0);
	cr_assert_eq(seq, 0);
	cr_assert_eq(mesh_net_seq_next(net, &seq), 0);
	cr_assert_eq(seq, 1);
	cr_assert_eq(mesh_net_seq_set(net, 0xfffffe), 0);
	cr_assert_eq(mesh_net_seq_next(net, &seq), 0);
	cr_assert_eq(seq, 0xfffffe);
	cr_assert_eq(mesh_net_seq_next(net, &seq), 0);
	cr_assert_eq(seq, 0xffffff);
	cr_assert_eq(mesh_net_seq_next(net, &seq), -ENOSPC);
	cr_assert_eq(seq, 0xffffff);
	cr_assert_eq(mesh_net_seq_set(net, 0x1000001), -EINVAL);
	mesh_net_free(net);
}

/* The reserve hook runs before a block is used; after a "crash" no SEQ is reissued. */
Test(net, seq_reservation_survives_crash)
{
	struct mesh_net *net = mesh_net_new(0);
	struct store st = {0};
	uint32_t seq = 0, i, last = 0;

	mesh_net_seq_store_set(net, store_reserve, &st, 100);
	for (i = 0; i < 150; i++) {
		cr_assert_eq(mesh_net_seq_next(net, &seq), 0);
		cr_assert_lt(seq, st.up_to, "every issued SEQ is below the stored reservation");
		last = seq;
	}
	cr_assert_eq(st.calls, 2);
	cr_assert_eq(st.up_to, 200);
	mesh_net_free(net);

	/* Restart from the stored value: the first new SEQ is above every old one. */
	net = mesh_net_new(0);
	cr_assert_eq(mesh_net_seq_set(net, st.up_to), 0);
	mesh_net_seq_store_set(net, store_reserve, &st, 100);
	st.fail = -EIO;
	cr_assert_eq(mesh_net_seq_next(net, &seq), -EIO, "nothing issued unless persisted");
	cr_assert_eq(mesh_net_seq_get(net), 200);
	st.fail = 0;
	cr_assert_eq(mesh_net_seq_next(net, &seq), 0);
	cr_assert_gt(seq, last);
	cr_assert_eq(st.up_to, 300);
	mesh_net_free(net);
}

/* --- IV Index (§3.10.5, §3.10.6) ------------------------------------- */

/* §3.10.5: an initiated IV Update waits 96 h of Normal Operation and lasts 96 h; SEQ restarts. */
Test(net, s3_10_5_iv_update_initiator)
{
	struct mesh_net *net = mesh_net_new(0);
	uint32_t iv, seq;
	bool ivu;

	cr_assert_eq(mesh_net_iv_set(net, 5, false, 0), 0);
	cr_assert_eq(mesh_net_seq_set(net, 1000), 0);
	cr_assert_eq(mesh_net_iv_update_start(net, 95 * HOUR_MS), -EBUSY);
	cr_assert_eq(mesh_net_iv_update_start(net, 96 * HOUR_MS), 0);
	cr_assert_eq(mesh_net_iv_update_start(net, 96 * HOUR_MS), -EALREADY);
	mesh_net_iv_get(net, &iv, &ivu);
	cr_assert_eq(iv, 6);
	cr_assert(ivu);
	cr_assert_eq(mesh_net_iv_tx(net), 5, "transmit with N-1 during the update");
	cr_assert_eq(mesh_net_seq_get(net), 1000, "SEQ continues under the old index");
	cr_assert_eq(mesh_net_next_deadline(net), 192 * HOUR_MS);
	cr_assert_eq(mesh_net_tick(net, 191 * HOUR_MS), 0);
	cr_assert_eq(mesh_net_tick(net, 192 * HOUR_MS), 1);
	mesh_net_iv_get(net, &iv, &ivu);
	cr_assert_eq(iv, 6);
	cr_assert_not(ivu);
	cr_assert_eq(mesh_net_iv_tx(net), 6);
	cr_assert_eq(mesh_net_seq_next(net, &seq), 0);
	cr_assert_eq(seq, 0, "SEQ restarts under the new index");
	cr_assert_eq(mesh_net_next_deadline(net), UINT64_MAX);
	mesh_net_free(net);
}

/* §3.10.5: a node follows beacons into and out of an IV Update, each after 96 hours. */
Test(net, s3_10_5_iv_update_from_beacons)
{
	struct mesh_net *net = mesh_net_new(0);
	uint32_t iv;
	bool ivu;

	cr_assert_eq(mesh_net_iv_set(net, 0x12345678, false, 0), 0);
	cr_assert_eq(mesh_net_iv_beacon(net, 0x12345679, true, 10 * HOUR_MS), 0, "too early");
	cr_assert_eq(mesh_net_iv_beacon(net, 0x12345679, true, 96 * HOUR_MS), 1);
	mesh_net_iv_get(net, &iv, &ivu);
	cr_assert_eq(iv, 0x12345679);
	cr_assert(ivu);
	cr_assert_eq(mesh_net_iv_beacon(net, 0x12345679, true, 100 * HOUR_MS), 0, "no change");
	cr_assert_eq(mesh_net_iv_beacon(net, 0x12345679, false, 150 * HOUR_MS), 0, "too early");
	cr_assert_eq(mesh_net_iv_beacon(net, 0x12345678, false, 200 * HOUR_MS), 0, "stale");
	cr_assert_eq(mesh_net_iv_beacon(net, 0x12345679, false, 192 * HOUR_MS), 1);
	mesh_net_iv_get(net, &iv, &ivu);
	cr_assert_eq(iv, 0x12345679);
	cr_assert_not(ivu);
	mesh_net_free(net);
}

/* §3.10.5: a follower that hears no completing beacon leaves the update after 144 hours. */
Test(net, s3_10_5_iv_update_max_duration)
{
	struct mesh_net *net = mesh_net_new(0);
	bool ivu;

	cr_assert_eq(mesh_net_iv_set(net, 9, true, 1000), 0);
	cr_assert_eq(mesh_net_next_deadline(net), 1000 + 144 * HOUR_MS);
	cr_assert_eq(mesh_net_tick(net, 1000 + 143 * HOUR_MS), 0);
	cr_assert_eq(mesh_net_tick(net, 1000 + 144 * HOUR_MS), 1);
	mesh_net_iv_get(net, NULL, &ivu);
	cr_assert_not(ivu);
	mesh_net_free(net);
}

/* §3.10.6 IV Index Recovery: +2..+42 accepted at once, beyond 42 ignored, once per 192 h. */
Test(net, s3_10_6_iv_recovery)
{
	struct mesh_net *net = mesh_net_new(0);
	uint32_t iv;
	bool ivu;

	cr_assert_eq(mesh_net_iv_set(net, 100, false, 0), 0);
	cr_assert_eq(mesh_net_seq_set(net, 5000), 0);
	cr_assert_eq(mesh_net_iv_beacon(net, 143, false, HOUR_MS), 0, "more than 42 ahead");
	cr_assert_eq(mesh_net_iv_beacon(net, 142, true, HOUR_MS), 1);
	mesh_net_iv_get(net, &iv, &ivu);
	cr_assert_eq(iv, 142);
	cr_assert(ivu);
	cr_assert_eq(mesh_net_seq_get(net), 0, "new transmit index, SEQ restarts");
	cr_assert_eq(mesh_net_iv_beacon(net, 150, false, 100 * HOUR_MS), 0, "second recovery");
	cr_assert_eq(mesh_net_iv_beacon(net, 150, false, 193 * HOUR_MS), 1);
	mesh_net_iv_get(net, &iv, &ivu);
	cr_assert_eq(iv, 150);
	cr_assert_not(ivu);
	mesh_net_free(net);
}

/* Test mode (§3.10.5.1) waives the 96-hour minimum. */
Test(net, s3_10_5_1_test_mode)
{
	struct mesh_net *net = mesh_net_new(0);
	uint32_t iv;

	mesh_net_iv_test_mode(net, true);
	cr_assert_eq(mesh_net_iv_update_start(net, 1), 0);
	cr_assert_eq(mesh_net_tick(net, 2), 1);
	cr_assert_eq(mesh_net_iv_beacon(net, 2, true, 3), 1);
	cr_assert_eq(mesh_net_iv_beacon(net, 2, false, 4), 1);
	mesh_net_iv_get(net, &iv, NULL);
	cr_assert_eq(iv, 2);
	mesh_net_free(net);
}

/* Running low on SEQ signals the need for an IV Update, which tick starts after 96 h. */
Test(net, s3_10_5_seq_exhaustion_triggers_update)
{
	struct mesh_net *net = mesh_net_new(0);
	bool ivu;

	cr_assert_not(mesh_net_iv_update_needed(net));
	cr_assert_eq(mesh_net_seq_set(net, MESH_NET_SEQ_IVU_THRESHOLD), 0);
	cr_assert(mesh_net_iv_update_needed(net));
	cr_assert_eq(mesh_net_next_deadline(net), 96 * HOUR_MS);
	cr_assert_eq(mesh_net_tick(net, HOUR_MS), 0);
	cr_assert_eq(mesh_net_tick(net, 96 * HOUR_MS), 1);
	mesh_net_iv_get(net, NULL, &ivu);
	cr_assert(ivu);
	cr_assert_not(mesh_net_iv_update_needed(net));
	mesh_net_free(net);
}

/* Own addresses: primary plus element count; nothing else is local. */
Test(net, s3_4_2_local_addresses)
{
	struct mesh_net *net = mesh_net_new(0);

	cr_assert_not(mesh_net_is_local(net, 0x0001));
	cr_assert_eq(mesh_net_addr_set(net, 0x0010, 3), 0);
	cr_assert(mesh_net_is_local(net, 0x0010));
	cr_assert(mesh_net_is_local(net, 0x0012));
	cr_assert_not(mesh_net_is_local(net, 0x0013));
	cr_assert_not(mesh_net_is_local(net, 0x000f));
	cr_assert_eq(mesh_net_addr_set(net, 0x7fff, 2), -EINVAL);
	cr_assert_eq(mesh_net_addr_set(net, 0xc000, 1), -EINVAL);
	cr_assert_eq(mesh_net_addr_set(net, 0x0001, 0), -EINVAL);
	mesh_net_free(net);
}
