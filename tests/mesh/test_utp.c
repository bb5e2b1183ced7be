/*
 * mesh/utp.c against the specification's upper transport samples (§8.3.6,
 * §8.3.16, §8.3.18–§8.3.24, §8.12.1, §8.12.2, §8.12.8): nonces, encryption
 * to the exact EncAccessPayload ‖ TransMIC, decryption with every kind of
 * key (device key, AppKey, AppKey + Label UUID), and malformed input.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/crypto.h"
#include "mesh/utp.h"
#include "tests/util/tv.h"

/* A key store for tests: fixed lists that the callbacks return as they are. */
struct store {
	struct mesh_utp_key app[4];
	size_t n_app;
	struct mesh_utp_key dev[3];
	size_t n_dev;
	uint16_t dev_src_or_dst; /* the node whose device keys these are */
	uint8_t label[3][16];
	uint16_t label_addr[3];
	size_t n_label;
};

static size_t app_keys(void *ctx, uint16_t net_idx, uint8_t aid, const struct mesh_utp_key **out,
		       size_t max)
{
	struct store *s = ctx;
	size_t i, n = 0;

	(void)net_idx;
	for (i = 0; i < s->n_app && n < max; i++) {
		if (s->app[i].aid == aid) {
			out[n++] = &s->app[i];
		}
	}
	return n;
}

static size_t dev_keys(void *ctx, uint16_t src, uint16_t dst, const struct mesh_utp_key **out,
		       size_t max)
{
	struct store *s = ctx;
	size_t i, n = 0;

	if (src != s->dev_src_or_dst && dst != s->dev_src_or_dst) {
		return 0;
	}
	for (i = 0; i < s->n_dev && n < max; i++) {
		out[n++] = &s->dev[i];
	}
	return n;
}

static size_t labels(void *ctx, uint16_t virt, const uint8_t **out, size_t max)
{
	struct store *s = ctx;
	size_t i, n = 0;

	for (i = 0; i < s->n_label && n < max; i++) {
		if (s->label_addr[i] == virt) {
			out[n++] = s->label[i];
		}
	}
	return n;
}

/* One upper transport sample, read from vectors.json. */
struct sample {
	json_t *ut;
	struct mesh_utp_msg msg; /* as lower transport would deliver it */
	uint8_t key[16];
	bool dev;
	uint8_t label[16];
	bool has_label;
	uint8_t payload[400];
	size_t payload_len;
	uint8_t pdu[400];
};

static json_t *get(const char *path)
{
	json_t *o = tv_get(path);

	cr_assert_not_null(o, "missing vector %s", path);
	return o;
}

static void load(const char *path, struct sample *s)
{
	json_t *v = get(path), *keys, *net0;
	uint8_t ltp[32];
	int n;

	memset(s, 0, sizeof(*s));
	s->ut = json_object_get(v, "upper_transport");
	cr_assert_not_null(s->ut);
	keys = json_object_get(v, "keys");
	net0 = json_array_get(json_object_get(v, "network"), 0);
	cr_assert_not_null(net0);

	s->dev = strcmp(tv_str(s->ut, "key"), "DevKey") == 0;
	if (s->dev) {
		n = tv_bytes(keys, json_object_get(keys, "DevKey") ? "DevKey" : "DevKey_1201",
			     s->key, 16);
	} else {
		n = tv_bytes(keys, "AppKey", s->key, 16);
	}
	cr_assert_eq(n, 16);
	s->has_label = tv_bytes(s->ut, "LabelUUID_as_AAD", s->label, 16) == 16;
	n = tv_bytes(s->ut, "AccessPayload", s->payload, sizeof(s->payload));
	cr_assert_gt(n, 0);
	s->payload_len = (size_t)n;
	n = tv_bytes(s->ut, "UpperTransportPDU", s->pdu, sizeof(s->pdu));
	cr_assert_gt(n, 0);

	/* The lower transport header gives AKF and AID (formats.md §5). */
	cr_assert_gt(tv_bytes(net0, "LowerTransportPDU", ltp, sizeof(ltp)), 0);
	s->msg.net_idx = 0x456;
	s->msg.iv_index = (uint32_t)tv_hexnum(net0, "IVIndex", 0);
	s->msg.seq = (uint32_t)tv_hexnum(net0, "SEQ", 0);
	s->msg.src = (uint16_t)tv_hexnum(net0, "SRC", 0);
	s->msg.dst = (uint16_t)tv_hexnum(net0, "DST", 0);
	s->msg.ttl = (uint8_t)tv_hexnum(net0, "TTL", 0);
	s->msg.segmented = (ltp[0] & 0x80) != 0;
	s->msg.akf = (ltp[0] & 0x40) != 0;
	s->msg.aid = ltp[0] & 0x3f;
	s->msg.szmic = json_integer_value(json_object_get(s->ut, "ASZMIC")) == 1;
	s->msg.data = s->pdu;
	s->msg.len = (size_t)n;
	cr_assert_eq(s->msg.akf, !s->dev, "AKF in the header agrees with the key type");
}

static void store_for(const struct sample *s, struct store *st)
{
	memset(st, 0, sizeof(*st));
	if (s->dev) {
		cr_assert_eq(mesh_utp_key_init(&st->dev[0], 0, s->key, false), 0);
		st->n_dev = 1;
		st->dev_src_or_dst = s->msg.src;
	} else {
		cr_assert_eq(mesh_utp_key_init(&st->app[0], 0x123, s->key, true), 0);
		st->n_app = 1;
	}
	if (s->has_label) {
		memcpy(st->label[0], s->label, 16);
		st->label_addr[0] = s->msg.dst;
		st->n_label = 1;
	}
}

static struct mesh_utp_keys keys_of(struct store *st)
{
	struct mesh_utp_keys k = {st, app_keys, dev_keys, labels};

	return k;
}

static void assert_hex(const uint8_t *got, size_t len, json_t *obj, const char *key)
{
	uint8_t want[400];
	int n = tv_bytes(obj, key, want, sizeof(want));

	cr_assert_eq((size_t)n, len, "%s: length %zu, want %d", key, len, n);
	cr_assert_arr_eq(got, want, len, "%s: got %s", key, tv_tohex(got, len));
}

/*
 * Nonce, encryption, decryption and opcode of one sample: the nonce and the
 * Upper Transport PDU are the spec's octets, and decryption returns the
 * AccessPayload under the right key kind and label.
 */
static void check_sample(const char *path)
{
	struct sample s;
	struct store st;
	struct mesh_utp_keys keys;
	struct mesh_utp_key k;
	struct mesh_utp_send tx;
	struct mesh_utp_msg enc;
	struct mesh_acc_msg rx;
	uint8_t nonce[13], out[400], plain[400];
	uint32_t op;
	size_t op_len;

	load(path, &s);
	store_for(&s, &st);
	keys = keys_of(&st);

	mesh_utp_nonce(&s.msg, nonce);
	assert_hex(nonce, 13, s.ut, "Nonce");

	cr_assert_eq(mesh_utp_key_init(&k, 0x123, s.key, !s.dev), 0);
	if (!s.dev) {
		cr_assert_eq(k.aid, s.msg.aid, "AID = k4(AppKey) is the header's AID");
	}
	memset(&tx, 0, sizeof(tx));
	tx.net_idx = s.msg.net_idx;
	tx.iv_index = s.msg.iv_index;
	tx.seq = s.msg.seq;
	tx.src = s.msg.src;
	tx.dst = s.msg.dst;
	tx.ttl = s.msg.ttl;
	tx.szmic = s.msg.szmic;
	tx.segmented = s.msg.segmented;
	tx.akf = !s.dev;
	tx.key = &k;
	tx.label = s.has_label ? s.label : NULL;
	tx.payload = s.payload;
	tx.len = s.payload_len;
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &enc), 0);
	assert_hex(enc.data, enc.len, s.ut, "UpperTransportPDU");
	assert_hex(enc.data, s.payload_len, s.ut, "EncAccessPayload");
	assert_hex(enc.data + s.payload_len, enc.len - s.payload_len, s.ut, "TransMIC");
	cr_assert_eq(enc.akf, s.msg.akf);
	cr_assert_eq(enc.aid, s.msg.aid);
	cr_assert_eq(enc.segmented, s.msg.segmented, "segmentation matches the sample");

	memset(&rx, 0, sizeof(rx));
	cr_assert_eq(mesh_utp_decrypt(&keys, &s.msg, plain, sizeof(plain), &rx), 0);
	cr_assert_eq(mesh_acc_op_decode(s.payload, s.payload_len, &op, &op_len), 0);
	cr_assert_eq(rx.opcode, op);
	cr_assert_eq(rx.len, s.payload_len - op_len);
	cr_assert_arr_eq(rx.params, s.payload + op_len, rx.len);
	cr_assert_eq(rx.params, plain + op_len, "params point into the caller's buffer");
	cr_assert_eq(rx.app_idx, s.dev ? MESH_APP_IDX_DEV : 0x123);
	cr_assert_eq(rx.dev_cand, 0);
	cr_assert_eq(rx.src, s.msg.src);
	cr_assert_eq(rx.dst, s.msg.dst);
	cr_assert_eq(rx.ttl, s.msg.ttl);
	cr_assert_eq(rx.seq, s.msg.seq);
	cr_assert_eq(rx.iv_index, s.msg.iv_index);
	if (s.has_label) {
		cr_assert_eq(rx.label, st.label[0]);
	} else {
		cr_assert_null(rx.label);
	}
}

#define MSG(id) "network_pdus.messages[id=" id "]"
#define EXTRA(id) "network_pdus.extra_device_key_examples[id=" id "]"

/* §8.3.6 Message #6: Config AppKey Add, device key, two segments. */
Test(utp, s8_3_6_msg06_devkey)
{
	check_sample(MSG("msg06"));
}

/* §8.3.16 Message #16: Config AppKey Status, device key, unsegmented. */
Test(utp, s8_3_16_msg16_devkey)
{
	check_sample(MSG("msg16"));
}

/* §8.3.18 Message #18: Health Current Status under the AppKey, to all-nodes. */
Test(utp, s8_3_18_msg18_appkey)
{
	check_sample(MSG("msg18"));
}

/* §8.3.19 Message #19: Health Current Status with faults. */
Test(utp, s8_3_19_msg19_appkey)
{
	check_sample(MSG("msg19"));
}

/* §8.3.20 Message #20: under IV Index 0x12345677. */
Test(utp, s8_3_20_msg20_appkey)
{
	check_sample(MSG("msg20"));
}

/* §8.3.21 Message #21: vendor opcode to a group address. */
Test(utp, s8_3_21_msg21_vendor_group)
{
	check_sample(MSG("msg21"));
}

/* §8.3.22 Message #22: to virtual address b529, Label UUID as additional data. */
Test(utp, s8_3_22_msg22_virtual)
{
	check_sample(MSG("msg22"));
}

/* §8.3.23 Message #23: to virtual address 9736. */
Test(utp, s8_3_23_msg23_virtual)
{
	check_sample(MSG("msg23"));
}

/* §8.3.24 Message #24: virtual address, 64-bit TransMIC, two segments. */
Test(utp, s8_3_24_msg24_virtual_szmic)
{
	check_sample(MSG("msg24"));
}

/* §8.12.1: SUBNET_BRIDGE_GET, device key, TTL 0x7f. */
Test(utp, s8_12_1_bridge_get_devkey)
{
	check_sample(EXTRA("subnet_bridge_get_8_12_1"));
}

/* §8.12.2: SUBNET_BRIDGE_SET, device key. */
Test(utp, s8_12_2_bridge_set_devkey)
{
	check_sample(EXTRA("subnet_bridge_set_8_12_2"));
}

/* §8.12.8: BRIDGED_SUBNETS_LIST, device key, two segments. */
Test(utp, s8_12_8_bridged_list_devkey)
{
	check_sample(EXTRA("bridged_subnets_list_8_12_8"));
}

/* Every sample with an upper_transport section is covered by a test above. */
Test(utp, s8_all_samples_listed)
{
	static const char *const ids[] = {"msg06", "msg16", "msg18", "msg19", "msg20",
					  "msg21", "msg22", "msg23", "msg24"};
	json_t *all = get("network_pdus.messages"), *m;
	size_t i, k, n = 0;

	json_array_foreach(all, i, m)
	{
		if (!json_object_get(m, "upper_transport")) {
			continue;
		}
		for (k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
			if (strcmp(tv_str(m, "id"), ids[k]) == 0) {
				n++;
			}
		}
	}
	cr_assert_eq(n, sizeof(ids) / sizeof(ids[0]));
	cr_assert_eq(json_array_size(get("network_pdus.extra_device_key_examples")), 3);
}

/* §8.3.22/§8.3.23: the sample Label UUIDs hash to the sample virtual addresses. */
Test(utp, s8_3_22_virtual_addresses)
{
	json_t *vs = json_object_get(get("virtual_addresses"), "vectors"), *v;
	size_t i;

	cr_assert_geq(json_array_size(vs), 2);
	json_array_foreach(vs, i, v)
	{
		uint8_t label[16];
		uint16_t va = 0;

		cr_assert_eq(tv_bytes(v, "label_uuid", label, 16), 16);
		cr_assert_eq(mesh_crypto_virtual_addr(label, &va), 0);
		cr_assert_eq(va, tv_hexnum(v, "virtual_address", 0));
	}
}

/*
 * AIDs collide: with two AppKeys claiming the AID, the one whose MIC
 * verifies wins and its index is reported, whichever order they come in.
 */
Test(utp, s8_3_18_aid_collision)
{
	struct sample s;
	struct store st;
	struct mesh_utp_keys keys;
	struct mesh_acc_msg rx;
	uint8_t plain[64];

	load(MSG("msg18"), &s);
	store_for(&s, &st);
	st.app[1] = st.app[0];
	st.app[0].idx = 0x777;
	st.app[0].key[0] ^= 0x01; /* same AID, different key */
	st.n_app = 2;
	keys = keys_of(&st);
	cr_assert_eq(mesh_utp_decrypt(&keys, &s.msg, plain, sizeof(plain), &rx), 0);
	cr_assert_eq(rx.app_idx, 0x123);
	cr_assert_eq(rx.opcode, 0x04);
}

/* Device Key Refresh: the candidate that verifies is reported by position. */
Test(utp, s8_3_16_dev_key_candidates)
{
	struct sample s;
	struct store st;
	struct mesh_utp_keys keys;
	struct mesh_acc_msg rx;
	uint8_t plain[64];

	load(MSG("msg16"), &s);
	store_for(&s, &st);
	st.dev[1] = st.dev[0];
	memset(st.dev[0].key, 0x5a, 16); /* an older device key */
	st.n_dev = 2;
	keys = keys_of(&st);
	cr_assert_eq(mesh_utp_decrypt(&keys, &s.msg, plain, sizeof(plain), &rx), 0);
	cr_assert_eq(rx.app_idx, MESH_APP_IDX_DEV);
	cr_assert_eq(rx.dev_cand, 1);
	cr_assert_eq(rx.opcode, 0x8003);
}

/* Two labels for one virtual address: only the one used as AAD decrypts. */
Test(utp, s8_3_22_label_collision)
{
	struct sample s;
	struct store st;
	struct mesh_utp_keys keys;
	struct mesh_acc_msg rx;
	uint8_t plain[64];

	load(MSG("msg22"), &s);
	store_for(&s, &st);
	memcpy(st.label[1], st.label[0], 16);
	memset(st.label[0], 0xee, 16);
	st.label_addr[1] = st.label_addr[0];
	st.n_label = 2;
	keys = keys_of(&st);
	cr_assert_eq(mesh_utp_decrypt(&keys, &s.msg, plain, sizeof(plain), &rx), 0);
	cr_assert_eq(rx.label, st.label[1]);
	cr_assert_eq(rx.opcode, MESH_ACC_OP_VND(0x15, 0x000a));
}

/* Sentinel-filled out struct, to show a failed call leaves it untouched. */
static void sentinel(struct mesh_acc_msg *m)
{
	memset(m, 0xa5, sizeof(*m));
}

static bool is_sentinel(const struct mesh_acc_msg *m)
{
	struct mesh_acc_msg ref;

	sentinel(&ref);
	return memcmp(m, &ref, sizeof(ref)) == 0;
}

/* A flipped TransMIC bit fails with -EACCES, no output, no plaintext left. */
Test(utp, malformed_wrong_mic)
{
	struct sample s;
	struct store st;
	struct mesh_utp_keys keys;
	struct mesh_acc_msg rx;
	uint8_t plain[64];

	load(MSG("msg24"), &s);
	store_for(&s, &st);
	keys = keys_of(&st);
	s.pdu[s.msg.len - 1] ^= 0x80;
	sentinel(&rx);
	memset(plain, 0, sizeof(plain));
	cr_assert_eq(mesh_utp_decrypt(&keys, &s.msg, plain, sizeof(plain), &rx), -EACCES);
	cr_assert(is_sentinel(&rx));
	cr_assert(memcmp(plain, s.payload, s.payload_len) != 0, "no plaintext is left behind");
}

/* Without a key of that AID, or a device key for the peer, decryption is -ENOENT. */
Test(utp, malformed_no_matching_key)
{
	struct sample s;
	struct store st;
	struct mesh_utp_keys keys;
	struct mesh_acc_msg rx;
	uint8_t plain[64];

	load(MSG("msg18"), &s);
	store_for(&s, &st);
	st.app[0].aid ^= 0x01;
	keys = keys_of(&st);
	sentinel(&rx);
	cr_assert_eq(mesh_utp_decrypt(&keys, &s.msg, plain, sizeof(plain), &rx), -ENOENT);
	cr_assert(is_sentinel(&rx));

	load(MSG("msg16"), &s);
	store_for(&s, &st);
	st.dev_src_or_dst = 0x0999;
	keys = keys_of(&st);
	cr_assert_eq(mesh_utp_decrypt(&keys, &s.msg, plain, sizeof(plain), &rx), -ENOENT);
	cr_assert(is_sentinel(&rx));
}

/* A virtual destination with no known Label UUID cannot be decrypted. */
Test(utp, malformed_no_label)
{
	struct sample s;
	struct store st;
	struct mesh_utp_keys keys;
	struct mesh_acc_msg rx;
	uint8_t plain[64];

	load(MSG("msg23"), &s);
	store_for(&s, &st);
	st.n_label = 0;
	keys = keys_of(&st);
	sentinel(&rx);
	cr_assert_eq(mesh_utp_decrypt(&keys, &s.msg, plain, sizeof(plain), &rx), -ENOENT);
	cr_assert(is_sentinel(&rx));
}

/* PDUs too short for opcode + TransMIC, SZMIC unsegmented, AID with AKF=0: -EBADMSG. */
Test(utp, malformed_header_and_length)
{
	struct sample s;
	struct store st;
	struct mesh_utp_keys keys;
	struct mesh_acc_msg rx;
	uint8_t plain[64];
	struct mesh_utp_msg m;

	load(MSG("msg16"), &s);
	store_for(&s, &st);
	keys = keys_of(&st);
	sentinel(&rx);

	m = s.msg;
	m.len = 4; /* a TransMIC and nothing else */
	cr_assert_eq(mesh_utp_decrypt(&keys, &m, plain, sizeof(plain), &rx), -EBADMSG);
	m = s.msg;
	m.szmic = true; /* 64-bit TransMIC only exists segmented */
	cr_assert_eq(mesh_utp_decrypt(&keys, &m, plain, sizeof(plain), &rx), -EBADMSG);
	m = s.msg;
	m.aid = 0x01;
	cr_assert_eq(mesh_utp_decrypt(&keys, &m, plain, sizeof(plain), &rx), -EBADMSG);
	m = s.msg;
	m.len = MESH_UTP_PDU_MAX + 1;
	cr_assert_eq(mesh_utp_decrypt(&keys, &m, plain, sizeof(plain), &rx), -EBADMSG);
	m = s.msg;
	m.ctl = true;
	cr_assert_eq(mesh_utp_decrypt(&keys, &m, plain, sizeof(plain), &rx), -EINVAL);
	m = s.msg;
	m.len--; /* the PDU cut short by one octet no longer authenticates */
	cr_assert_eq(mesh_utp_decrypt(&keys, &m, plain, sizeof(plain), &rx), -EACCES);
	cr_assert_eq(mesh_utp_decrypt(&keys, &s.msg, plain, 2, &rx), -EINVAL, "buffer too small");
	cr_assert(is_sentinel(&rx));
}

/* Encrypt under msg16's device key and addressing, then decrypt: returns the code. */
static int roundtrip(const uint8_t *payload, size_t len, bool szmic, struct mesh_acc_msg *rx,
		     uint8_t *plain, size_t cap)
{
	struct sample s;
	struct store st;
	struct mesh_utp_keys keys;
	struct mesh_utp_send tx;
	struct mesh_utp_msg enc;
	static uint8_t out[MESH_UTP_PDU_MAX];

	load(MSG("msg16"), &s);
	store_for(&s, &st);
	keys = keys_of(&st);
	memset(&tx, 0, sizeof(tx));
	tx.iv_index = s.msg.iv_index;
	tx.seq = s.msg.seq;
	tx.src = s.msg.src;
	tx.dst = s.msg.dst;
	tx.szmic = szmic;
	tx.key = &st.dev[0];
	tx.payload = payload;
	tx.len = len;
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &enc), 0);
	return mesh_utp_decrypt(&keys, &enc, plain, cap, rx);
}

/* Authentic payloads with a bad opcode (0x7f, cut-short 2/3-octet) are -EBADMSG. */
Test(utp, malformed_authentic_bad_opcode)
{
	static const uint8_t rfu[] = {0x7f, 0x01}, two[] = {0x80}, three[] = {0xd5, 0x0a};
	struct mesh_acc_msg rx;
	uint8_t plain[16];

	sentinel(&rx);
	cr_assert_eq(roundtrip(rfu, sizeof(rfu), false, &rx, plain, sizeof(plain)), -EBADMSG);
	cr_assert_eq(roundtrip(two, sizeof(two), false, &rx, plain, sizeof(plain)), -EBADMSG);
	cr_assert_eq(roundtrip(three, sizeof(three), true, &rx, plain, sizeof(plain)), -EBADMSG);
	cr_assert(is_sentinel(&rx));
}

/* The largest access payload (380 octets) survives a round trip, segmented. */
Test(utp, s3_6_max_payload_roundtrip)
{
	static uint8_t payload[MESH_ACC_PAYLOAD_MAX], plain[MESH_ACC_PAYLOAD_MAX];
	struct mesh_acc_msg rx;
	size_t i;

	for (i = 0; i < sizeof(payload); i++) {
		payload[i] = (uint8_t)(i * 7 + 3);
	}
	payload[0] = 0xc1; /* vendor opcode 0x01 of company 0x110a */
	cr_assert_eq(roundtrip(payload, sizeof(payload), false, &rx, plain, sizeof(plain)), 0);
	cr_assert_eq(rx.opcode, 0xc10a11);
	cr_assert_eq(rx.len, sizeof(payload) - 3);
	cr_assert_arr_eq(rx.params, payload + 3, rx.len);
}

/* Encryption refuses bad arguments and sets segmentation by size and SZMIC. */
Test(utp, encrypt_arguments)
{
	static uint8_t payload[MESH_ACC_PAYLOAD_MAX + 1], out[MESH_UTP_PDU_MAX + 8];
	uint8_t label[16];
	struct mesh_utp_key k;
	struct mesh_utp_send tx;
	struct mesh_utp_msg m;
	json_t *v = json_array_get(json_object_get(get("virtual_addresses"), "vectors"), 0);

	cr_assert_eq(tv_bytes(v, "label_uuid", label, 16), 16);
	memset(&k, 0x11, sizeof(k));
	memset(&tx, 0, sizeof(tx));
	tx.src = 0x0001;
	tx.dst = 0x0002;
	tx.key = &k;
	tx.payload = payload;

	tx.len = MESH_ACC_UNSEG_MAX;
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &m), 0);
	cr_assert_not(m.segmented, "11 octets fit one unsegmented PDU");
	tx.len = MESH_ACC_UNSEG_MAX + 1;
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &m), 0);
	cr_assert(m.segmented);
	tx.len = 1;
	tx.szmic = true;
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &m), 0);
	cr_assert(m.segmented && m.len == 9);

	memset(&m, 0xa5, sizeof(m));
	tx.szmic = false;
	tx.len = 0;
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &m), -EINVAL);
	tx.len = MESH_ACC_PAYLOAD_MAX + 1;
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &m), -EINVAL);
	tx.len = MESH_ACC_PAYLOAD_MAX;
	tx.szmic = true; /* 380 + 8 > 384 */
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &m), -EINVAL);
	tx.szmic = false;
	cr_assert_eq(mesh_utp_encrypt(&tx, out, MESH_ACC_PAYLOAD_MAX + 3, &m), -ENOSPC);
	tx.len = 4;
	tx.seq = 0x1000000;
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &m), -EINVAL);
	tx.seq = 0;
	tx.dst = 0xb529; /* virtual, no label */
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &m), -EINVAL);
	tx.dst = 0x9736; /* label of b529 on another virtual address */
	tx.label = label;
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &m), -EINVAL);
	tx.dst = 0xc000; /* label on a group address */
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &m), -EINVAL);
	tx.label = NULL;
	tx.src = 0xc000;
	cr_assert_eq(mesh_utp_encrypt(&tx, out, sizeof(out), &m), -EINVAL);
	{
		struct mesh_utp_msg ref;

		memset(&ref, 0xa5, sizeof(ref));
		cr_assert_arr_eq(&m, &ref, sizeof(m), "failed calls leave *msg untouched");
	}
}
