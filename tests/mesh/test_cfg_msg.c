#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/cfg_msg.h"
#include "tests/util/tv.h"

#define BUF_MAX 512

static size_t hex(const char *h, uint8_t *out)
{
	int n = tv_hex(h, out, BUF_MAX);

	cr_assert_geq(n, 0, "bad hex in test: %s", h);
	return (size_t)n;
}

/*
 * m encodes to exactly `want` (written from the spec layout), `want`
 * decodes under m->op, and the decoded message encodes back to `want`.
 * The decoded message is returned for field checks.
 */
static struct cfg_msg roundtrip(const struct cfg_msg *m, const char *want_hex)
{
	uint8_t want[BUF_MAX], got[BUF_MAX];
	size_t want_len = hex(want_hex, want), len = 0;
	struct cfg_msg d;

	cr_assert_eq(cfg_msg_encode(m, got, sizeof(got), &len), 0, "encode op %04x", m->op);
	cr_assert_eq(len, want_len, "op %04x: %s", m->op, tv_tohex(got, len));
	cr_assert_arr_eq(got, want, len, "op %04x: %s", m->op, tv_tohex(got, len));
	cr_assert_eq(cfg_msg_decode(m->op, want, want_len, &d), 0, "decode op %04x", m->op);
	cr_assert_eq(d.op, m->op);
	cr_assert_eq(cfg_msg_encode(&d, got, sizeof(got), &len), 0);
	cr_assert_eq(len, want_len);
	cr_assert_arr_eq(got, want, len, "op %04x re-encode: %s", m->op, tv_tohex(got, len));
	return d;
}

/* Decoding `bad` under op fails with -EBADMSG and leaves the canary-filled output as it was. */
static void malformed(uint32_t op, const char *bad_hex)
{
	uint8_t bad[BUF_MAX];
	size_t n = hex(bad_hex, bad);
	struct cfg_msg out, canary;

	memset(&out, 0xa5, sizeof(out));
	memcpy(&canary, &out, sizeof(out));
	cr_assert_eq(cfg_msg_decode(op, bad, n, &out), -EBADMSG, "op %04x accepted %s", op,
		     bad_hex);
	cr_assert_arr_eq(&out, &canary, sizeof(out), "op %04x wrote its output on failure", op);
}

static const struct cfg_model_id sig1000 = {.vendor = false, .id = 0x1000};
static const struct cfg_model_id vnd59_2 = {.vendor = true, .cid = 0x0059, .id = 0x0002};
static const uint8_t label[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
#define LABEL_HEX "00112233445566778899aabbccddeeff"

/* §8.3.6 message #6: the AppKey Add parameters decode to NetKeyIndex 0x456, AppKeyIndex 0x123 and
 * the sample AppKey. */
Test(cfg_msg, s8_3_6_msg06_appkey_add_decode)
{
	json_t *msg = tv_get("network_pdus.messages[id=msg06]");
	uint8_t payload[64], appkey[16], out[64];
	struct cfg_appkey m;
	size_t len;
	int n;

	cr_assert_not_null(msg);
	n = tv_bytes(json_object_get(msg, "upper_transport"), "AccessPayload", payload,
		     sizeof(payload));
	cr_assert_eq(n, 20);
	cr_assert_eq(tv_bytes(json_object_get(msg, "keys"), "AppKey", appkey, sizeof(appkey)), 16);
	/* Opcode 0x00 is the one-octet AppKey Add opcode (§3.7.3.1); parameters follow it. */
	cr_assert_eq(payload[0], CFG_OP_APPKEY_ADD);
	cr_assert_eq(cfg_msg_appkey_decode(CFG_OP_APPKEY_ADD, payload + 1, (size_t)n - 1, &m), 0);
	cr_assert_eq(m.net_idx, 0x456);
	cr_assert_eq(m.app_idx, 0x123);
	cr_assert_arr_eq(m.key, appkey, 16);
	cr_assert_eq(cfg_msg_appkey_encode(CFG_OP_APPKEY_ADD, &m, out, sizeof(out), &len), 0);
	cr_assert_eq(len, (size_t)n - 1);
	cr_assert_arr_eq(out, payload + 1, len);
}

/* §8.3.16 message #16: AppKey Status parameters (after the 2-octet opcode 0x8003) are Success,
 * 0x456, 0x123. */
Test(cfg_msg, s8_3_16_msg16_appkey_status_decode)
{
	json_t *msg = tv_get("network_pdus.messages[id=msg16]");
	uint8_t payload[16];
	struct cfg_msg d;
	int n;

	cr_assert_not_null(msg);
	n = tv_bytes(json_object_get(msg, "upper_transport"), "AccessPayload", payload,
		     sizeof(payload));
	cr_assert_eq(n, 6);
	cr_assert_eq((payload[0] << 8) | payload[1], CFG_OP_APPKEY_STATUS);
	cr_assert_eq(cfg_msg_decode(CFG_OP_APPKEY_STATUS, payload + 2, 4, &d), 0);
	cr_assert_eq(d.appkey.status, CFG_STATUS_SUCCESS);
	cr_assert_eq(d.appkey.net_idx, 0x456);
	cr_assert_eq(d.appkey.app_idx, 0x123);
}

/* The packed index pair of formats.md §6: 0x456 and 0x123 pack to 56 34 12 and back. */
Test(cfg_msg, packed_index_pair)
{
	uint8_t p[3];
	uint16_t a, b;

	cfg_idx_pack(0x456, 0x123, p);
	cr_assert_eq(p[0], 0x56);
	cr_assert_eq(p[1], 0x34);
	cr_assert_eq(p[2], 0x12);
	cfg_idx_unpack(p, &a, &b);
	cr_assert_eq(a, 0x456);
	cr_assert_eq(b, 0x123);
}

/* §8.10.1: Composition Data Status frames Page 0 ‖ the sample page bytes, borrowed from the input.
 */
Test(cfg_msg, s8_10_1_comp_status)
{
	json_t *c = tv_get("composition_data[id=comp_page0_8_10_1]");
	uint8_t page[64], params[65];
	struct cfg_comp m;
	int n;

	cr_assert_not_null(c);
	n = tv_bytes(c, "data", page, sizeof(page));
	cr_assert_eq(n, 28);
	params[0] = 0x00;
	memcpy(params + 1, page, (size_t)n);
	cr_assert_eq(cfg_msg_comp_decode(CFG_OP_COMP_STATUS, params, (size_t)n + 1, &m), 0);
	cr_assert_eq(m.page, 0);
	cr_assert_eq(m.data_len, (size_t)n);
	cr_assert_eq(m.data, params + 1, "data is borrowed from the input");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_COMP_STATUS,
				    .comp = {.page = 0, .data = page, .data_len = (size_t)n}},
		  "00 0c001a0001000800030000010501000000800100001003103f002a00");
}

/* A Composition Data Status fills at most one access payload: opcode 0x02 and 379 parameter
 * octets decode and re-encode; one octet more is refused on decode (-EMSGSIZE) and on encode. */
Test(cfg_msg, comp_status_size_limit)
{
	static uint8_t params[400], out[1024];
	struct cfg_msg d;
	size_t n = 0;

	memset(params, 0xa5, sizeof(params));
	cr_assert_eq(cfg_msg_decode(CFG_OP_COMP_STATUS, params, 379, &d), 0);
	cr_assert_eq(cfg_msg_encode(&d, out, sizeof(out), &n), 0);
	cr_assert_eq(n, 379);
	cr_assert_eq(cfg_msg_decode(CFG_OP_COMP_STATUS, params, 380, &d), -EMSGSIZE);
	d.comp.data_len = 379;
	cr_assert_eq(cfg_msg_encode(&d, out, sizeof(out), &n), -EINVAL);
	cr_assert_eq(cfg_msg_encode(&d, out, 100, &n), -ENOSPC);
	/* A 2-octet opcode leaves 378. */
	cr_assert_eq(cfg_msg_decode(CFG_OP_NETKEY_GET, params, 379, &d), -EMSGSIZE);
}

/* Composition Data Get and the parameterless messages encode to their exact octets. */
Test(cfg_msg, comp_get_and_empty)
{
	static const uint32_t empty[] = {
	    CFG_OP_BEACON_GET,     CFG_OP_DEFAULT_TTL_GET,  CFG_OP_FRIEND_GET,
	    CFG_OP_GATT_PROXY_GET, CFG_OP_NET_TRANSMIT_GET, CFG_OP_RELAY_GET,
	    CFG_OP_NETKEY_GET,     CFG_OP_HB_PUB_GET,       CFG_OP_HB_SUB_GET,
	    CFG_OP_NODE_RESET,     CFG_OP_NODE_RESET_STATUS};
	size_t i;

	roundtrip(&(struct cfg_msg){.op = CFG_OP_COMP_GET, .comp = {.page = 0x80}}, "80");
	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		roundtrip(&(struct cfg_msg){.op = empty[i]}, "");
		malformed(empty[i], "00");
	}
	malformed(CFG_OP_COMP_GET, "");
	malformed(CFG_OP_COMP_GET, "0000");
	malformed(CFG_OP_COMP_STATUS, "");
}

/* One-octet states: Beacon, Default TTL, GATT Proxy, Friend, Network Transmit (count 2, 9 steps →
 * 0x4a). */
Test(cfg_msg, one_octet_states)
{
	struct cfg_state s;
	uint8_t p[1] = {0x07};

	roundtrip(&(struct cfg_msg){.op = CFG_OP_BEACON_SET, .state = {1}}, "01");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_BEACON_STATUS, .state = {0}}, "00");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_DEFAULT_TTL_SET, .state = {0x00}}, "00");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_DEFAULT_TTL_SET, .state = {0x02}}, "02");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_DEFAULT_TTL_STATUS, .state = {0x7f}}, "7f");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_GATT_PROXY_SET, .state = {1}}, "01");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_GATT_PROXY_STATUS, .state = {2}}, "02");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_FRIEND_SET, .state = {0}}, "00");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_FRIEND_STATUS, .state = {2}}, "02");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_NET_TRANSMIT_SET, .state = {(9 << 3) | 2}}, "4a");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_NET_TRANSMIT_STATUS, .state = {0xff}}, "ff");
	cr_assert_eq(cfg_msg_state_decode(CFG_OP_DEFAULT_TTL_SET, p, 1, &s), 0);
	cr_assert_eq(s.val, 0x07);
}

/* Prohibited one-octet values: Default TTL 0x01 and ≥ 0x80, Beacon 2, "not supported" in a Set. */
Test(cfg_msg, one_octet_states_malformed)
{
	malformed(CFG_OP_DEFAULT_TTL_SET, "01");
	malformed(CFG_OP_DEFAULT_TTL_SET, "80");
	malformed(CFG_OP_DEFAULT_TTL_STATUS, "ff");
	malformed(CFG_OP_BEACON_SET, "02");
	malformed(CFG_OP_BEACON_STATUS, "02");
	malformed(CFG_OP_GATT_PROXY_SET, "02");
	malformed(CFG_OP_FRIEND_SET, "02");
	malformed(CFG_OP_GATT_PROXY_STATUS, "03");
	malformed(CFG_OP_FRIEND_STATUS, "03");
	malformed(CFG_OP_BEACON_SET, "");
	malformed(CFG_OP_NET_TRANSMIT_SET, "0000");
}

/* Relay Set/Status: Relay ‖ Relay Retransmit (count 3, 20 steps → 0xa3). */
Test(cfg_msg, relay)
{
	roundtrip(&(struct cfg_msg){.op = CFG_OP_RELAY_SET,
				    .relay = {.relay = 1, .retransmit = (20 << 3) | 3}},
		  "01a3");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_RELAY_STATUS, .relay = {.relay = 2}}, "0200");
	malformed(CFG_OP_RELAY_SET, "0200");
	malformed(CFG_OP_RELAY_STATUS, "0300");
	malformed(CFG_OP_RELAY_SET, "01");
	malformed(CFG_OP_RELAY_SET, "010000");
}

/* Element + model messages; the Model ID's length picks SIG (2) or vendor (4) where the opcode does
 * not. */
Test(cfg_msg, model_ref)
{
	struct cfg_msg d;

	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_MODEL_PUB_GET,
					.model_ref = {.elem_addr = 0x1201, .model = sig1000}},
		      "0112 0010");
	cr_assert_not(d.model_ref.model.vendor);
	cr_assert_eq(d.model_ref.model.id, 0x1000);
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_MODEL_PUB_GET,
					.model_ref = {.elem_addr = 0x1201, .model = vnd59_2}},
		      "0112 5900 0200");
	cr_assert(d.model_ref.model.vendor);
	cr_assert_eq(d.model_ref.model.cid, 0x0059);
	cr_assert_eq(d.model_ref.model.id, 0x0002);
	roundtrip(&(struct cfg_msg){.op = CFG_OP_MODEL_SUB_DELETE_ALL,
				    .model_ref = {.elem_addr = 0x0001, .model = sig1000}},
		  "0100 0010");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_SIG_MODEL_SUB_GET,
				    .model_ref = {.elem_addr = 0x1201, .model = sig1000}},
		  "0112 0010");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_VND_MODEL_SUB_GET,
				    .model_ref = {.elem_addr = 0x1201, .model = vnd59_2}},
		  "0112 5900 0200");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_SIG_MODEL_APP_GET,
				    .model_ref = {.elem_addr = 0x7fff, .model = sig1000}},
		  "ff7f 0010");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_VND_MODEL_APP_GET,
				    .model_ref = {.elem_addr = 0x1201, .model = vnd59_2}},
		  "0112 5900 0200");
}

/* Element addresses must be unicast; Model IDs of 1, 3 or 5 octets, or of the wrong width for a
 * SIG/Vendor Get, are malformed. */
Test(cfg_msg, model_ref_malformed)
{
	malformed(CFG_OP_MODEL_PUB_GET, "0000 0010");
	malformed(CFG_OP_MODEL_PUB_GET, "00c0 0010");
	malformed(CFG_OP_MODEL_PUB_GET, "0080 0010");
	malformed(CFG_OP_MODEL_PUB_GET, "0112 00");
	malformed(CFG_OP_MODEL_PUB_GET, "0112 001000");
	malformed(CFG_OP_MODEL_PUB_GET, "0112 5900020000");
	malformed(CFG_OP_MODEL_SUB_DELETE_ALL, "0112");
	malformed(CFG_OP_SIG_MODEL_SUB_GET, "0112 5900 0200");
	malformed(CFG_OP_VND_MODEL_SUB_GET, "0112 0010");
	malformed(CFG_OP_SIG_MODEL_APP_GET, "0112 5900 0200");
	malformed(CFG_OP_VND_MODEL_APP_GET, "0112 0010");
}

/* Model Publication Set / Virtual Address Set / Status with AppKeyIndex, CredentialFlag (bit 12),
 * TTL, period, retransmit. */
Test(cfg_msg, model_pub)
{
	struct cfg_msg d;

	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_MODEL_PUB_SET,
					.model_pub = {.elem_addr = 0x1201,
						      .pub_addr = 0xc001,
						      .app_idx = 0x123,
						      .cred = true,
						      .ttl = 5,
						      .period = 0x41,
						      .retransmit = 0x32,
						      .model = sig1000}},
		      "0112 01c0 2311 05 41 32 0010");
	cr_assert_eq(d.model_pub.app_idx, 0x123);
	cr_assert(d.model_pub.cred);
	cr_assert_eq(d.model_pub.period, 0x41);
	struct cfg_msg va = {.op = CFG_OP_MODEL_PUB_VA_SET,
			     .model_pub = {.elem_addr = 0x1201,
					   .app_idx = 0x001,
					   .ttl = CFG_PUB_TTL_DEFAULT,
					   .model = vnd59_2}};
	memcpy(va.model_pub.label, label, 16);
	d = roundtrip(&va, "0112" LABEL_HEX "0100 ff 00 00 5900 0200");
	cr_assert_arr_eq(d.model_pub.label, label, 16);
	cr_assert_not(d.model_pub.cred);
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_MODEL_PUB_STATUS,
					.model_pub = {.status = CFG_STATUS_SUCCESS,
						      .elem_addr = 0x1201,
						      .pub_addr = 0x9736,
						      .app_idx = 0x456,
						      .ttl = 0x7f,
						      .period = 0xc2,
						      .model = {.id = 0x1001}}},
		      "00 0112 3697 5604 7f c2 00 0110");
	cr_assert_eq(d.model_pub.pub_addr, 0x9736);
}

/* Publication: RFU bits 13-15 of the index word, TTL 0x80-0xfe, non-unicast element, RFU status,
 * wrong lengths. */
Test(cfg_msg, model_pub_malformed)
{
	malformed(CFG_OP_MODEL_PUB_SET, "0112 01c0 2321 05 41 32 0010");
	malformed(CFG_OP_MODEL_PUB_SET, "0112 01c0 2381 05 41 32 0010");
	malformed(CFG_OP_MODEL_PUB_SET, "0112 01c0 2301 80 41 32 0010");
	malformed(CFG_OP_MODEL_PUB_SET, "0112 01c0 2301 fe 41 32 0010");
	malformed(CFG_OP_MODEL_PUB_SET, "01c0 01c0 2301 05 41 32 0010");
	malformed(CFG_OP_MODEL_PUB_SET, "0112 01c0 2301 05 41 32 00");
	malformed(CFG_OP_MODEL_PUB_SET, "0112 01c0 2301 05 41 32 001000");
	malformed(CFG_OP_MODEL_PUB_VA_SET, "0112 01c0 2301 05 41 32 0010");
	malformed(CFG_OP_MODEL_PUB_STATUS, "12 0112 3697 5604 7f c2 00 0110");
	malformed(CFG_OP_MODEL_PUB_STATUS, "0112 3697 5604 7f c2 00 0110");
}

/* Model Subscription Add/Delete/Overwrite, the Virtual Address forms with a Label UUID, and Status.
 */
Test(cfg_msg, model_sub)
{
	static const uint32_t plain[] = {CFG_OP_MODEL_SUB_ADD, CFG_OP_MODEL_SUB_DELETE,
					 CFG_OP_MODEL_SUB_OVERWRITE};
	static const uint32_t virt[] = {CFG_OP_MODEL_SUB_VA_ADD, CFG_OP_MODEL_SUB_VA_DELETE,
					CFG_OP_MODEL_SUB_VA_OVERWRITE};
	struct cfg_msg d;
	size_t i;

	for (i = 0; i < 3; i++) {
		struct cfg_msg v = {.op = virt[i],
				    .model_sub = {.elem_addr = 0x1201, .model = vnd59_2}};

		roundtrip(
		    &(struct cfg_msg){
			.op = plain[i],
			.model_sub = {.elem_addr = 0x1201, .addr = 0xc000, .model = sig1000}},
		    "0112 00c0 0010");
		memcpy(v.model_sub.label, label, 16);
		d = roundtrip(&v, "0112" LABEL_HEX "5900 0200");
		cr_assert_arr_eq(d.model_sub.label, label, 16);
	}
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_MODEL_SUB_STATUS,
					.model_sub = {.status = CFG_STATUS_NOT_A_SUBSCRIBE_MODEL,
						      .elem_addr = 0x1201,
						      .addr = 0xc000,
						      .model = sig1000}},
		      "08 0112 00c0 0010");
	cr_assert_eq(d.model_sub.status, CFG_STATUS_NOT_A_SUBSCRIBE_MODEL);
	/* A unicast subscription address is the server's to refuse with Invalid Address. */
	roundtrip(
	    &(struct cfg_msg){.op = CFG_OP_MODEL_SUB_ADD,
			      .model_sub = {.elem_addr = 0x1201, .addr = 0x0001, .model = sig1000}},
	    "0112 0100 0010");
}

/* Subscription messages: non-unicast element, RFU status, truncated Label UUID, odd Model ID. */
Test(cfg_msg, model_sub_malformed)
{
	malformed(CFG_OP_MODEL_SUB_ADD, "0080 00c0 0010");
	malformed(CFG_OP_MODEL_SUB_ADD, "0112 00c0 00");
	malformed(CFG_OP_MODEL_SUB_VA_ADD, "0112 00112233445566778899aabbccddee 0010");
	malformed(CFG_OP_MODEL_SUB_STATUS, "12 0112 00c0 0010");
	malformed(CFG_OP_MODEL_SUB_STATUS, "00 0112 00c0");
}

/* Subscription and Model App lists: addresses 2 octets each; AppKey indexes packed, odd last one in
 * 2 octets. */
Test(cfg_msg, model_lists)
{
	struct cfg_msg d;

	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_SIG_MODEL_SUB_LIST,
					.model_list = {.elem_addr = 0x1201,
						       .model = sig1000,
						       .n = 2,
						       .items = {0xc000, 0xc001}}},
		      "00 0112 0010 00c0 01c0");
	cr_assert_eq(d.model_list.n, 2);
	cr_assert_eq(d.model_list.items[1], 0xc001);
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_VND_MODEL_SUB_LIST,
					.model_list = {.status = CFG_STATUS_INVALID_MODEL,
						       .elem_addr = 0x1201,
						       .model = vnd59_2}},
		      "02 0112 5900 0200");
	cr_assert_eq(d.model_list.n, 0);
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_SIG_MODEL_APP_LIST,
					.model_list = {.elem_addr = 0x1201,
						       .model = sig1000,
						       .n = 3,
						       .items = {0x001, 0x002, 0x003}}},
		      "00 0112 0010 012000 0300");
	cr_assert_eq(d.model_list.n, 3);
	cr_assert_eq(d.model_list.items[2], 0x003);
	roundtrip(&(struct cfg_msg){.op = CFG_OP_VND_MODEL_APP_LIST,
				    .model_list = {.elem_addr = 0x1201,
						   .model = vnd59_2,
						   .n = 2,
						   .items = {0x456, 0x123}}},
		  "00 0112 5900 0200 563412");
}

/* Lists: a half address, a lone octet after packed pairs, an odd last index with RFU bits, RFU
 * status. */
Test(cfg_msg, model_lists_malformed)
{
	malformed(CFG_OP_SIG_MODEL_SUB_LIST, "00 0112 0010 00c0 01");
	malformed(CFG_OP_SIG_MODEL_APP_LIST, "00 0112 0010 012000 03");
	malformed(CFG_OP_SIG_MODEL_APP_LIST, "00 0112 0010 0010");
	malformed(CFG_OP_VND_MODEL_APP_LIST, "12 0112 5900 0200");
	malformed(CFG_OP_VND_MODEL_SUB_LIST, "00 0112 5900");
	malformed(CFG_OP_SIG_MODEL_SUB_LIST, "00 0000 0010");
}

/* Model App Bind/Unbind/Status: ElementAddress ‖ AppKeyIndex (2) ‖ Model ID. */
Test(cfg_msg, model_app)
{
	struct cfg_msg d;

	roundtrip(
	    &(struct cfg_msg){
		.op = CFG_OP_MODEL_APP_BIND,
		.model_app = {.elem_addr = 0x1201, .app_idx = 0x123, .model = sig1000}},
	    "0112 2301 0010");
	roundtrip(
	    &(struct cfg_msg){
		.op = CFG_OP_MODEL_APP_UNBIND,
		.model_app = {.elem_addr = 0x1201, .app_idx = 0x123, .model = vnd59_2}},
	    "0112 2301 5900 0200");
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_MODEL_APP_STATUS,
					.model_app = {.status = CFG_STATUS_INVALID_APPKEY,
						      .elem_addr = 0x1201,
						      .app_idx = 0xfff,
						      .model = sig1000}},
		      "03 0112 ff0f 0010");
	cr_assert_eq(d.model_app.app_idx, 0xfff);
	malformed(CFG_OP_MODEL_APP_BIND, "0112 0010 0010");
	malformed(CFG_OP_MODEL_APP_BIND, "ffff 2301 0010");
	malformed(CFG_OP_MODEL_APP_BIND, "0112 2301 00");
	malformed(CFG_OP_MODEL_APP_STATUS, "12 0112 2301 0010");
}

/* NetKey Add/Update: NetKeyIndex ‖ NetKey (the §8.3 sample NetKey). */
Test(cfg_msg, netkey_add_update)
{
	struct cfg_msg m = {.op = CFG_OP_NETKEY_ADD, .netkey = {.net_idx = 0x456}};
	uint8_t key[16];
	struct cfg_msg d;

	cr_assert_eq(tv_hex("7dd7364cd842ad18c17c2b820c84c3d6", key, 16), 16);
	memcpy(m.netkey.key, key, 16);
	d = roundtrip(&m, "5604 7dd7364cd842ad18c17c2b820c84c3d6");
	cr_assert_arr_eq(d.netkey.key, key, 16);
	m.op = CFG_OP_NETKEY_UPDATE;
	roundtrip(&m, "5604 7dd7364cd842ad18c17c2b820c84c3d6");
	malformed(CFG_OP_NETKEY_ADD, "5610 7dd7364cd842ad18c17c2b820c84c3d6");
	malformed(CFG_OP_NETKEY_ADD, "5604 7dd7364cd842ad18c17c2b820c84c3");
	malformed(CFG_OP_NETKEY_UPDATE, "5604 7dd7364cd842ad18c17c2b820c84c3d600");
}

/* NetKey Delete/Status, AppKey Get, Key Refresh Phase Get/Set/Status, Node Identity Get/Set/Status.
 */
Test(cfg_msg, net_idx_messages)
{
	struct cfg_msg d;

	roundtrip(&(struct cfg_msg){.op = CFG_OP_NETKEY_DELETE, .net_idx = {.net_idx = 0x456}},
		  "5604");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_NETKEY_STATUS,
				    .net_idx = {.status = CFG_STATUS_KEY_INDEX_ALREADY_STORED,
						.net_idx = 0x456}},
		  "06 5604");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_APPKEY_GET, .net_idx = {.net_idx = 0xfff}},
		  "ff0f");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_KRP_GET, .net_idx = {.net_idx = 0x456}}, "5604");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_KRP_SET,
				    .net_idx = {.net_idx = 0x456, .state = CFG_KR_TRANSITION_2}},
		  "5604 02");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_KRP_SET,
				    .net_idx = {.net_idx = 0x456, .state = CFG_KR_TRANSITION_3}},
		  "5604 03");
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_KRP_STATUS,
					.net_idx = {.net_idx = 0x456, .state = CFG_KR_PHASE_1}},
		      "00 5604 01");
	cr_assert_eq(d.net_idx.state, CFG_KR_PHASE_1);
	roundtrip(&(struct cfg_msg){.op = CFG_OP_NODE_IDENTITY_GET, .net_idx = {.net_idx = 1}},
		  "0100");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_NODE_IDENTITY_SET,
				    .net_idx = {.net_idx = 1, .state = 1}},
		  "0100 01");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_NODE_IDENTITY_STATUS,
				    .net_idx = {.net_idx = 1, .state = CFG_STATE_NOT_SUPPORTED}},
		  "00 0100 02");
}

/*
 * The Config messages of a network Key Refresh (§3.10.4), in order, with the second NetKey of the
 * vectors (f7a2…, §8.4.6.1) replacing the primary one, layouts from formats.md §6: NetKey Update,
 * AppKey Update (the packed pair 56 34 12 of formats.md), then Key Refresh Phase Set/Status
 * through phases 1 → 2 → normal, and a NetKey List naming only the refreshed key.
 */
Test(cfg_msg, key_refresh_sequence)
{
	json_t *v = tv_get("beacons[id=private_beacon_ivu_8_4_6_1]");
	uint8_t p[32], newkey[16];
	struct cfg_netkey nk;
	struct cfg_appkey ak;
	struct cfg_net_idx krp;
	struct cfg_msg d;
	size_t n;

	cr_assert_not_null(v);
	cr_assert_eq(tv_bytes(v, "NetKey", newkey, sizeof(newkey)), 16);

	n = hex("0000 f7a2a44f8e8a8029064f173ddc1e2b00", p);
	cr_assert_eq(cfg_msg_netkey_decode(CFG_OP_NETKEY_UPDATE, p, n, &nk), 0);
	cr_assert_eq(nk.net_idx, 0x000);
	cr_assert_arr_eq(nk.key, newkey, 16);
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_NETKEY_STATUS}, "00 0000");
	cr_assert_eq(d.net_idx.status, CFG_STATUS_SUCCESS);

	n = hex("563412 f7a2a44f8e8a8029064f173ddc1e2b00", p);
	cr_assert_eq(cfg_msg_appkey_decode(CFG_OP_APPKEY_UPDATE, p, n, &ak), 0);
	cr_assert_eq(ak.net_idx, 0x456);
	cr_assert_eq(ak.app_idx, 0x123);
	roundtrip(&(struct cfg_msg){.op = CFG_OP_APPKEY_STATUS,
				    .appkey = {.net_idx = 0x456, .app_idx = 0x123}},
		  "00 563412");

	roundtrip(&(struct cfg_msg){.op = CFG_OP_KRP_GET}, "0000");
	d = roundtrip(
	    &(struct cfg_msg){.op = CFG_OP_KRP_STATUS, .net_idx = {.state = CFG_KR_PHASE_1}},
	    "00 0000 01");
	cr_assert_eq(d.net_idx.state, CFG_KR_PHASE_1);
	n = hex("0000 02", p);
	cr_assert_eq(cfg_msg_net_idx_decode(CFG_OP_KRP_SET, p, n, &krp), 0);
	cr_assert_eq(krp.state, CFG_KR_TRANSITION_2);
	roundtrip(&(struct cfg_msg){.op = CFG_OP_KRP_STATUS, .net_idx = {.state = CFG_KR_PHASE_2}},
		  "00 0000 02");
	roundtrip(
	    &(struct cfg_msg){.op = CFG_OP_KRP_SET, .net_idx = {.state = CFG_KR_TRANSITION_3}},
	    "0000 03");
	roundtrip(
	    &(struct cfg_msg){.op = CFG_OP_KRP_STATUS, .net_idx = {.state = CFG_KR_PHASE_NORMAL}},
	    "00 0000 00");
	/* A phase request for a key the node does not have: Invalid NetKey Index, phase normal. */
	roundtrip(
	    &(struct cfg_msg){.op = CFG_OP_KRP_STATUS,
			      .net_idx = {.status = CFG_STATUS_INVALID_NETKEY, .net_idx = 0x456}},
	    "04 5604 00");
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_NETKEY_LIST, .idx_list = {.n = 1}}, "0000");
	cr_assert_eq(d.idx_list.n, 1);
	cr_assert_eq(d.idx_list.idx[0], 0x000);
	malformed(CFG_OP_NETKEY_UPDATE, "0010 f7a2a44f8e8a8029064f173ddc1e2b00");
	malformed(CFG_OP_APPKEY_UPDATE, "563412 f7a2a44f8e8a8029064f173ddc1e2b");
	malformed(CFG_OP_KRP_GET, "000000");
	malformed(CFG_OP_NETKEY_STATUS, "00 0000 00");
}

/* Key Refresh transitions other than 2/3, phase 3, Node Identity "not supported" in a Set, index
 * RFU bits, lengths. */
Test(cfg_msg, net_idx_malformed)
{
	malformed(CFG_OP_KRP_SET, "5604 00");
	malformed(CFG_OP_KRP_SET, "5604 01");
	malformed(CFG_OP_KRP_SET, "5604 04");
	malformed(CFG_OP_KRP_STATUS, "00 5604 03");
	malformed(CFG_OP_NODE_IDENTITY_SET, "0100 02");
	malformed(CFG_OP_NODE_IDENTITY_STATUS, "00 0100 03");
	malformed(CFG_OP_NETKEY_DELETE, "56f4");
	malformed(CFG_OP_NETKEY_DELETE, "5604 00");
	malformed(CFG_OP_NETKEY_STATUS, "5604");
	malformed(CFG_OP_NETKEY_STATUS, "12 5604");
	malformed(CFG_OP_APPKEY_GET, "00");
}

/* AppKey Delete and Status carry only the packed pair (plus Status); Update is laid out like Add.
 */
Test(cfg_msg, appkey_messages)
{
	struct cfg_msg upd = {.op = CFG_OP_APPKEY_UPDATE,
			      .appkey = {.net_idx = 0x000, .app_idx = 0xfff}};

	roundtrip(&(struct cfg_msg){.op = CFG_OP_APPKEY_DELETE,
				    .appkey = {.net_idx = 0x456, .app_idx = 0x123}},
		  "563412");
	roundtrip(&(struct cfg_msg){.op = CFG_OP_APPKEY_STATUS,
				    .appkey = {.status = CFG_STATUS_INVALID_NETKEY,
					       .net_idx = 0x456,
					       .app_idx = 0x123}},
		  "04 563412");
	memcpy(upd.appkey.key, label, 16);
	roundtrip(&upd, "00f0ff" LABEL_HEX);
	malformed(CFG_OP_APPKEY_ADD, "563412 63964771734fbd76e3b40519d1d94a");
	malformed(CFG_OP_APPKEY_ADD, "563412 63964771734fbd76e3b40519d1d94a4800");
	malformed(CFG_OP_APPKEY_DELETE, "5634");
	malformed(CFG_OP_APPKEY_STATUS, "12 563412");
	malformed(CFG_OP_APPKEY_STATUS, "00 56341200");
}

/* NetKey List and AppKey List: packed pairs, an odd last index in 2 octets, and the empty list. */
Test(cfg_msg, idx_lists)
{
	struct cfg_msg d;

	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_NETKEY_LIST,
					.idx_list = {.n = 3, .idx = {0x000, 0x456, 0x123}}},
		      "006045 2301");
	cr_assert_eq(d.idx_list.n, 3);
	cr_assert_eq(d.idx_list.idx[1], 0x456);
	cr_assert_eq(d.idx_list.idx[2], 0x123);
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_NETKEY_LIST}, "");
	cr_assert_eq(d.idx_list.n, 0);
	roundtrip(&(struct cfg_msg){.op = CFG_OP_APPKEY_LIST,
				    .idx_list = {.net_idx = 0x000, .n = 2, .idx = {0x001, 0x002}}},
		  "00 0000 012000");
	roundtrip(
	    &(struct cfg_msg){.op = CFG_OP_APPKEY_LIST,
			      .idx_list = {.status = CFG_STATUS_INVALID_NETKEY, .net_idx = 0x456}},
	    "04 5604");
}

/* Index lists: a lone octet, an odd last index with RFU bits, RFU status and NetKeyIndex, more
 * indexes than fit. */
Test(cfg_msg, idx_lists_malformed)
{
	uint8_t big[381];
	struct cfg_msg out, canary;

	malformed(CFG_OP_NETKEY_LIST, "00");
	malformed(CFG_OP_NETKEY_LIST, "006045 23");
	malformed(CFG_OP_NETKEY_LIST, "006045 2310");
	malformed(CFG_OP_APPKEY_LIST, "12 0000");
	malformed(CFG_OP_APPKEY_LIST, "00 0010");
	malformed(CFG_OP_APPKEY_LIST, "00 00");
	/* Found by fuzzing: a bad NetKeyIndex followed by packed pairs must stop the list walk. */
	malformed(CFG_OP_APPKEY_LIST, "00 00f0 012000 030000");
	malformed(CFG_OP_APPKEY_LIST, "d1 fffe ffffff f8ffff 012000");
	/* 127 packed pairs = 254 indexes: more than any access payload can carry; refused by the
	 * size bound before the list walk. */
	memset(big, 0, sizeof(big));
	memset(&out, 0xa5, sizeof(out));
	memcpy(&canary, &out, sizeof(out));
	cr_assert_eq(cfg_msg_decode(CFG_OP_NETKEY_LIST, big, sizeof(big), &out), -EMSGSIZE);
	cr_assert_arr_eq(&out, &canary, sizeof(out));
	cr_assert_eq(cfg_msg_decode(CFG_OP_NETKEY_LIST, big, 378, &out), 0);
	cr_assert_eq(out.idx_list.n, CFG_LIST_MAX);
}

/* Heartbeat Publication Set/Status: Destination ‖ CountLog ‖ PeriodLog ‖ TTL ‖ Features (2) ‖
 * NetKeyIndex (2). */
Test(cfg_msg, hb_pub)
{
	struct cfg_hb_pub m = {.dst = 0xc001,
			       .count_log = 0x05,
			       .period_log = 0x03,
			       .ttl = 0x7f,
			       .features = 0x0007,
			       .net_idx = 0x456};
	struct cfg_msg d;

	roundtrip(&(struct cfg_msg){.op = CFG_OP_HB_PUB_SET, .hb_pub = m},
		  "01c0 05 03 7f 0700 5604");
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_HB_PUB_STATUS, .hb_pub = m},
		      "00 01c0 05 03 7f 0700 5604");
	cr_assert_eq(d.hb_pub.features, 0x0007);
	/* CountLog 0x12 is answered with Cannot Set, echoing the request: both must decode. */
	roundtrip(
	    &(struct cfg_msg){
		.op = CFG_OP_HB_PUB_STATUS,
		.hb_pub = {.status = CFG_STATUS_CANNOT_SET, .dst = 0xc001, .count_log = 0x12}},
	    "0f 01c0 12 00 00 0000 0000");
	malformed(CFG_OP_HB_PUB_SET, "01c0 05 03 80 0700 5604");
	malformed(CFG_OP_HB_PUB_SET, "01c0 05 03 7f 0700 5614");
	malformed(CFG_OP_HB_PUB_SET, "01c0 05 03 7f 0700 56");
	malformed(CFG_OP_HB_PUB_STATUS, "01c0 05 03 7f 0700 5604");
	malformed(CFG_OP_HB_PUB_STATUS, "12 01c0 05 03 7f 0700 5604");
}

/* Heartbeat Subscription Set (Source ‖ Destination ‖ PeriodLog) and Status (+ CountLog, MinHops,
 * MaxHops). */
Test(cfg_msg, hb_sub)
{
	struct cfg_msg d;

	roundtrip(&(struct cfg_msg){.op = CFG_OP_HB_SUB_SET,
				    .hb_sub = {.src = 0x1201, .dst = 0xc001, .period_log = 0x11}},
		  "0112 01c0 11");
	d = roundtrip(&(struct cfg_msg){.op = CFG_OP_HB_SUB_STATUS,
					.hb_sub = {.src = 0x1201,
						   .dst = 0xc001,
						   .period_log = 0x05,
						   .count_log = 0xff,
						   .min_hops = 0x01,
						   .max_hops = 0x7f}},
		      "00 0112 01c0 05 ff 01 7f");
	cr_assert_eq(d.hb_sub.max_hops, 0x7f);
	malformed(CFG_OP_HB_SUB_SET, "00c0 01c0 11");
	malformed(CFG_OP_HB_SUB_SET, "0112 0080 11");
	malformed(CFG_OP_HB_SUB_SET, "0112 01c0 12");
	malformed(CFG_OP_HB_SUB_SET, "0112 01c0");
	malformed(CFG_OP_HB_SUB_STATUS, "00 0112 01c0 05 12 01 7f");
	malformed(CFG_OP_HB_SUB_STATUS, "00 0112 01c0 05 ff 80 7f");
	malformed(CFG_OP_HB_SUB_STATUS, "00 0112 01c0 05 ff 01 80");
}

/* LPN PollTimeout Get/Status: LPNAddress ‖ 24-bit PollTimeout (0, or 0x00000a-0x34bbff). */
Test(cfg_msg, lpn_timeout)
{
	struct cfg_msg d;

	roundtrip(
	    &(struct cfg_msg){.op = CFG_OP_LPN_TIMEOUT_GET, .lpn_timeout = {.lpn_addr = 0x1201}},
	    "0112");
	d = roundtrip(
	    &(struct cfg_msg){.op = CFG_OP_LPN_TIMEOUT_STATUS,
			      .lpn_timeout = {.lpn_addr = 0x1201, .poll_timeout = 0x34bbff}},
	    "0112 ffbb34");
	cr_assert_eq(d.lpn_timeout.poll_timeout, 0x34bbff);
	roundtrip(&(struct cfg_msg){.op = CFG_OP_LPN_TIMEOUT_STATUS,
				    .lpn_timeout = {.lpn_addr = 0x1201, .poll_timeout = 0}},
		  "0112 000000");
	malformed(CFG_OP_LPN_TIMEOUT_GET, "0000");
	malformed(CFG_OP_LPN_TIMEOUT_STATUS, "0112 050000");
	malformed(CFG_OP_LPN_TIMEOUT_STATUS, "0112 00bc34");
	malformed(CFG_OP_LPN_TIMEOUT_STATUS, "0112 0a00");
}

/* Encoding refuses values the decoder would reject, a too-small buffer, and an opcode of another
 * family. */
Test(cfg_msg, encode_errors)
{
	struct cfg_state ttl = {.val = 0x01};
	struct cfg_appkey ak = {.net_idx = 0x456, .app_idx = 0x123};
	struct cfg_msg m = {.op = CFG_OP_NETKEY_LIST, .idx_list = {.n = 1, .idx = {0x1000}}};
	uint8_t out[32];
	size_t len = 99;

	cr_assert_eq(cfg_msg_state_encode(CFG_OP_DEFAULT_TTL_SET, &ttl, out, sizeof(out), &len),
		     -EINVAL);
	cr_assert_eq(cfg_msg_encode(&m, out, sizeof(out), &len), -EINVAL);
	cr_assert_eq(cfg_msg_appkey_encode(CFG_OP_APPKEY_ADD, &ak, out, 18, &len), -ENOSPC);
	cr_assert_eq(len, 99, "length untouched on failure");
	cr_assert_eq(cfg_msg_appkey_encode(CFG_OP_APPKEY_ADD, &ak, out, 19, &len), 0);
	cr_assert_eq(len, 19);
	cr_assert_eq(cfg_msg_appkey_encode(CFG_OP_NETKEY_ADD, &ak, out, sizeof(out), &len),
		     -EINVAL);
	cr_assert_eq(cfg_msg_appkey_decode(CFG_OP_NETKEY_ADD, out, 18, &ak), -EINVAL);
	m.op = 0x8201;
	cr_assert_eq(cfg_msg_encode(&m, out, sizeof(out), &len), -ENOENT);
}

/* Opcodes outside the Config model are not this codec's: -ENOENT, output untouched. */
Test(cfg_msg, unknown_opcode)
{
	struct cfg_msg out, canary;

	memset(&out, 0x5a, sizeof(out));
	memcpy(&canary, &out, sizeof(out));
	cr_assert_eq(cfg_msg_decode(0x8201, NULL, 0, &out), -ENOENT);
	cr_assert_eq(cfg_msg_decode(0x04, NULL, 0, &out), -ENOENT);
	cr_assert_eq(cfg_msg_family(0x805d), CFG_FAM_NONE);
	cr_assert_arr_eq(&out, &canary, sizeof(out));
}

/* Every status code has its name; codes past 0x11 are RFU. */
Test(cfg_msg, status_names)
{
	cr_assert_str_eq(cfg_status_str(CFG_STATUS_SUCCESS), "Success");
	cr_assert_str_eq(cfg_status_str(CFG_STATUS_CANNOT_SET), "Cannot Set");
	cr_assert_str_eq(cfg_status_str(CFG_STATUS_INVALID_BINDING), "Invalid Binding");
	cr_assert_str_eq(cfg_status_str(0x12), "RFU");
}
