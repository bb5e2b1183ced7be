/*
 * libFuzzer target: upper transport decryption, opcode decoding and access
 * dispatch on a two-element registry whose handlers change bindings and
 * subscriptions from the message parameters.
 *
 * Input: flags(1) ‖ AID(1) ‖ SRC(2) ‖ DST(2) ‖ SEQ(3) ‖ IVIndex(4) ‖ data
 * (big-endian).  flags bit0 AKF, bit1 SZMIC, bit2 segmented, bit3 "data is
 * a plaintext access payload": it is first encrypted under the key AKF
 * names, so that mutations reach the access layer past the TransMIC.
 * Seeds in corpus/access_msg are the §8.3 / §8.12 upper transport samples.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/access.h"
#include "mesh/buf.h"
#include "mesh/utp.h"

#define HDR_LEN 13

/* Spec §8.3 sample keys (AppKey, DevKey of 0x1201) and §8.3.22/23 labels. */
static const uint8_t app_key[16] = {0x63, 0x96, 0x47, 0x71, 0x73, 0x4f, 0xbd, 0x76,
				    0xe3, 0xb4, 0x05, 0x19, 0xd1, 0xd9, 0x4a, 0x48};
static const uint8_t dev_key[16] = {0x9d, 0x6d, 0xd0, 0xe9, 0x6e, 0xb2, 0x5d, 0xc1,
				    0x9a, 0x40, 0xed, 0x99, 0x14, 0xf8, 0xf0, 0x3f};
static const uint8_t label_b529[16] = {0x00, 0x73, 0xe7, 0xe4, 0xd8, 0xb9, 0x44, 0x0f,
				       0xaf, 0x84, 0x15, 0xdf, 0x4c, 0x56, 0xc0, 0xe1};
static const uint8_t label_9736[16] = {0xf4, 0xa0, 0x02, 0xc7, 0xfb, 0x1e, 0x4c, 0xa0,
				       0xa4, 0x69, 0xa0, 0x21, 0xde, 0x0d, 0xb8, 0x75};

struct keyset {
	struct mesh_utp_key app[2]; /* the sample AppKey and a forged one with its AID */
	struct mesh_utp_key dev[2]; /* a wrong candidate, then the sample DevKey */
};

static size_t app_keys(void *ctx, uint16_t net_idx, uint8_t aid, const struct mesh_utp_key **out,
		       size_t max)
{
	struct keyset *k = ctx;
	size_t i, n = 0;

	(void)net_idx;
	for (i = 0; i < 2 && n < max; i++) {
		if (k->app[i].aid == aid) {
			out[n++] = &k->app[i];
		}
	}
	return n;
}

static size_t dev_keys(void *ctx, uint16_t src, uint16_t dst, const struct mesh_utp_key **out,
		       size_t max)
{
	struct keyset *k = ctx;

	(void)src;
	(void)dst;
	if (max < 2) {
		return 0;
	}
	out[0] = &k->dev[0];
	out[1] = &k->dev[1];
	return 2;
}

static size_t labels(void *ctx, uint16_t virt, const uint8_t **out, size_t max)
{
	(void)ctx;
	if (max < 1) {
		return 0;
	}
	if (virt == 0xb529) {
		out[0] = label_b529;
		return 1;
	}
	if (virt == 0x9736) {
		out[0] = label_9736;
		return 1;
	}
	return 0;
}

static struct mesh_model_id model_id(struct mesh_rbuf *b)
{
	struct mesh_model_id id = {false, 0, 0};

	if (b->len >= 4) {
		id.vendor = true;
		id.cid = mesh_rbuf_le16(b);
	}
	id.id = mesh_rbuf_le16(b);
	return id;
}

/* Model App Bind-like: ElementAddress ‖ AppKeyIndex ‖ ModelID (2 or 4). */
static int h_bind(struct mesh_acc_model *mdl, const struct mesh_acc_msg *msg, void *user)
{
	struct mesh_acc *acc = user;
	struct mesh_rbuf b;
	uint16_t addr, idx;
	struct mesh_acc_model *t;

	(void)mdl;
	mesh_rbuf_init(&b, msg->params, msg->len);
	addr = mesh_rbuf_le16(&b);
	idx = mesh_rbuf_le16(&b);
	t = mesh_acc_model_find_addr(acc, addr, model_id(&b));
	if (!mesh_rbuf_ok(&b) || !t) {
		return -EINVAL;
	}
	return msg->opcode == 0x803d ? mesh_acc_model_bind(t, idx) : mesh_acc_model_unbind(t, idx);
}

/* Model Subscription Add/Delete-like: ElementAddress ‖ Address ‖ ModelID. */
static int h_sub(struct mesh_acc_model *mdl, const struct mesh_acc_msg *msg, void *user)
{
	struct mesh_acc *acc = user;
	struct mesh_rbuf b;
	uint16_t addr, sub;
	struct mesh_acc_model *t;

	(void)mdl;
	mesh_rbuf_init(&b, msg->params, msg->len);
	addr = mesh_rbuf_le16(&b);
	sub = mesh_rbuf_le16(&b);
	t = mesh_acc_model_find_addr(acc, addr, model_id(&b));
	if (!mesh_rbuf_ok(&b) || !t) {
		return -EINVAL;
	}
	if (msg->opcode == 0x801b) {
		return mesh_acc_model_sub_add(t, sub,
					      mesh_addr_is_virtual(sub) ? label_b529 : NULL);
	}
	return mesh_acc_model_sub_del(t, sub, mesh_addr_is_virtual(sub) ? label_b529 : NULL);
}

/* Any other message: touch every parameter octet so ASan sees the bounds. */
static int h_read(struct mesh_acc_model *mdl, const struct mesh_acc_msg *msg, void *user)
{
	size_t i;
	unsigned sum = 0;

	(void)mdl;
	(void)user;
	for (i = 0; i < msg->len; i++) {
		sum += msg->params[i];
	}
	return sum == 0xffffffffu ? -EIO : 0;
}

static const struct mesh_acc_op cfg_ops[] = {
    {0x00, 19, 19, h_read},  {0x803d, 6, 8, h_bind}, {0x803f, 6, 8, h_bind}, {0x801b, 6, 8, h_sub},
    {0x801c, 6, 8, h_sub},   {0x8008, 1, 1, h_read}, {0x80b1, 0, 0, h_read}, {0x80b2, 1, 1, h_read},
    {0x80b8, 1, -1, h_read}, {0x8003, 4, 4, h_read},
};
static const struct mesh_acc_op health_ops[] = {{0x04, 3, -1, h_read}};
static const struct mesh_acc_op vnd_ops[] = {
    {MESH_ACC_OP_VND(0x15, 0x000a), 0, -1, h_read},
    {MESH_ACC_OP_VND(0x2a, 0x000a), 5, 5, h_read},
};

static struct mesh_acc *registry(void)
{
	struct mesh_acc *acc = mesh_acc_new();
	struct mesh_acc_model *h0, *h1, *v;
	const struct mesh_model_id cfg = {false, 0, 0x0000}, health = {false, 0, 0x0002},
				   vnd = {true, 0x000a, 0x0001};

	if (!acc || mesh_acc_elem_add(acc, 0x0100) != 0 || mesh_acc_elem_add(acc, 0x0101) != 1 ||
	    mesh_acc_set_primary(acc, 0x1201) ||
	    mesh_acc_model_add(acc, 0, cfg, MESH_ACC_MODEL_DEV_KEY, cfg_ops,
			       sizeof(cfg_ops) / sizeof(cfg_ops[0]), acc, NULL) ||
	    mesh_acc_model_add(acc, 0, health, 0, health_ops, 1, acc, &h0) ||
	    mesh_acc_model_add(acc, 1, health, 0, health_ops, 1, acc, &h1) ||
	    mesh_acc_model_add(acc, 1, vnd, 0, vnd_ops, 2, acc, &v)) {
		abort();
	}
	mesh_acc_model_bind(h0, 0x123);
	mesh_acc_model_bind(v, 0x123);
	mesh_acc_model_sub_add(v, 0xc105, NULL);
	mesh_acc_model_sub_add(v, 0xb529, label_b529);
	mesh_acc_model_sub_add(v, 0x9736, label_9736);
	mesh_acc_model_sub_add(h1, 0xc105, NULL);
	return acc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keyset ks;
	static int ready;
	static uint8_t pdu[MESH_UTP_PDU_MAX + 8], plain[MESH_UTP_PDU_MAX];
	struct mesh_utp_keys keys = {&ks, app_keys, dev_keys, labels};
	struct mesh_utp_msg msg;
	struct mesh_acc_msg rx;
	struct mesh_acc *acc;
	struct mesh_rbuf b;
	uint8_t flags;

	if (!ready) {
		if (mesh_utp_key_init(&ks.app[0], 0x123, app_key, true) ||
		    mesh_utp_key_init(&ks.app[1], 0x456, dev_key, true) ||
		    mesh_utp_key_init(&ks.dev[0], 0, app_key, false) ||
		    mesh_utp_key_init(&ks.dev[1], 0, dev_key, false)) {
			abort();
		}
		ks.app[1].aid = ks.app[0].aid; /* a colliding AID */
		ready = 1;
	}
	if (size < HDR_LEN) {
		return 0;
	}
	memset(&msg, 0, sizeof(msg));
	mesh_rbuf_init(&b, data, size);
	flags = mesh_rbuf_u8(&b);
	msg.akf = flags & 0x01;
	msg.szmic = flags & 0x02;
	msg.segmented = flags & 0x04;
	msg.aid = mesh_rbuf_u8(&b) & 0x3f;
	msg.src = mesh_rbuf_be16(&b);
	msg.dst = mesh_rbuf_be16(&b);
	msg.seq = mesh_rbuf_be24(&b);
	msg.iv_index = mesh_rbuf_be32(&b);
	msg.ttl = 3;
	msg.net_idx = 0;
	msg.data = b.p;
	msg.len = b.len;

	if (flags & 0x08) {
		struct mesh_utp_send s;

		memset(&s, 0, sizeof(s));
		s.iv_index = msg.iv_index;
		s.seq = msg.seq;
		s.src = msg.src;
		s.dst = msg.dst;
		s.szmic = msg.szmic;
		s.segmented = msg.segmented;
		s.akf = msg.akf;
		s.key = msg.akf ? &ks.app[0] : &ks.dev[1];
		s.label = msg.dst == 0xb529 ? label_b529 : msg.dst == 0x9736 ? label_9736 : NULL;
		s.payload = b.p;
		s.len = b.len;
		if (mesh_utp_encrypt(&s, pdu, sizeof(pdu), &msg) != 0) {
			return 0;
		}
	}
	if (mesh_utp_decrypt(&keys, &msg, plain, sizeof(plain), &rx) != 0) {
		return 0;
	}
	acc = registry();
	mesh_acc_dispatch(acc, &rx, NULL);
	/* A second delivery sees the state the first one changed. */
	mesh_acc_dispatch(acc, &rx, NULL);
	mesh_acc_free(acc);
	return 0;
}
