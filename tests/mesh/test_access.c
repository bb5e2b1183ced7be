/*
 * mesh/access.c: opcodes of the spec's access payloads (§8.3, §8.12),
 * malformed opcodes, and dispatch through the element/model registry with
 * AppKey bindings, subscriptions and device-key models (§3.7.4, §4.2).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/access.h"
#include "mesh/mesh.h"
#include "tests/util/tv.h"

/* Access payload of a sample (plaintext, from its upper_transport section). */
static size_t payload_of(const char *path, uint8_t *out, size_t cap)
{
	json_t *v = tv_get(path);
	int n;

	cr_assert_not_null(v, "missing vector %s", path);
	n = tv_bytes(json_object_get(v, "upper_transport"), "AccessPayload", out, cap);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

static void assert_op(const char *path, uint32_t want, size_t want_len)
{
	uint8_t p[400];
	size_t n = payload_of(path, p, sizeof(p)), op_len = 0;
	uint32_t op = 0;

	cr_assert_eq(mesh_acc_op_decode(p, n, &op, &op_len), 0, "%s", path);
	cr_assert_eq(op, want, "%s: opcode %#x", path, op);
	cr_assert_eq(op_len, want_len);
	cr_assert_eq(mesh_acc_op_len(op), want_len);
}

/* §8.3.6 #6 AppKey Add is the 1-octet opcode 0x00. */
Test(access, s8_3_6_msg06_appkey_add_opcode)
{
	assert_op("network_pdus.messages[id=msg06]", 0x00, 1);
}

/* §8.3.16 #16 AppKey Status is the 2-octet opcode 0x8003. */
Test(access, s8_3_16_msg16_appkey_status_opcode)
{
	assert_op("network_pdus.messages[id=msg16]", 0x8003, 2);
}

/* §8.3.18/19/20 Health Current Status is the 1-octet opcode 0x04. */
Test(access, s8_3_18_health_current_status_opcode)
{
	assert_op("network_pdus.messages[id=msg18]", 0x04, 1);
	assert_op("network_pdus.messages[id=msg19]", 0x04, 1);
	assert_op("network_pdus.messages[id=msg20]", 0x04, 1);
}

/* §8.3.21–23: vendor opcode 0x15 of company 0x000A; §8.3.24: vendor opcode 0x2A. */
Test(access, s8_3_21_vendor_opcodes)
{
	assert_op("network_pdus.messages[id=msg21]", MESH_ACC_OP_VND(0x15, 0x000a), 3);
	assert_op("network_pdus.messages[id=msg22]", MESH_ACC_OP_VND(0x15, 0x000a), 3);
	assert_op("network_pdus.messages[id=msg23]", MESH_ACC_OP_VND(0x15, 0x000a), 3);
	assert_op("network_pdus.messages[id=msg24]", MESH_ACC_OP_VND(0x2a, 0x000a), 3);
	cr_assert_eq(MESH_ACC_OP_VND(0x15, 0x000a), 0xd50a00, "formats.md: d5 0a00");
	cr_assert_eq(mesh_acc_op_cid(MESH_ACC_OP_VND(0x2a, 0x1234)), 0x1234);
}

/* §8.12.1/2/8: Subnet Bridge opcodes 0x80b1, 0x80b2, 0x80b8. */
Test(access, s8_12_bridge_opcodes)
{
	assert_op("network_pdus.extra_device_key_examples[id=subnet_bridge_get_8_12_1]", 0x80b1, 2);
	assert_op("network_pdus.extra_device_key_examples[id=subnet_bridge_set_8_12_2]", 0x80b2, 2);
	assert_op("network_pdus.extra_device_key_examples[id=bridged_subnets_list_8_12_8]", 0x80b8,
		  2);
}

/* Empty, RFU 0x7f and cut-short 2-/3-octet opcodes are -EBADMSG; outputs untouched. */
Test(access, s3_7_3_1_malformed_opcodes)
{
	static const uint8_t rfu[] = {0x7f, 0x00}, two[] = {0x80}, three1[] = {0xc0},
			     three2[] = {0xd5, 0x0a};
	uint32_t op = 0x12345678;
	size_t len = 77;

	cr_assert_eq(mesh_acc_op_decode(rfu, 0, &op, &len), -EBADMSG);
	cr_assert_eq(mesh_acc_op_decode(rfu, sizeof(rfu), &op, &len), -EBADMSG);
	cr_assert_eq(mesh_acc_op_decode(two, sizeof(two), &op, &len), -EBADMSG);
	cr_assert_eq(mesh_acc_op_decode(three1, sizeof(three1), &op, &len), -EBADMSG);
	cr_assert_eq(mesh_acc_op_decode(three2, sizeof(three2), &op, &len), -EBADMSG);
	cr_assert_eq(op, 0x12345678);
	cr_assert_eq(len, 77);
}

/* Opcodes are written as their octets; values no encoding can carry are refused. */
Test(access, s3_7_3_1_opcode_encode)
{
	uint8_t buf[8];
	struct mesh_wbuf w;
	size_t len;

	mesh_wbuf_init(&w, buf, sizeof(buf));
	cr_assert_eq(mesh_acc_op_put(&w, 0x00), 0);
	cr_assert_eq(mesh_acc_op_put(&w, 0x8003), 0);
	cr_assert_eq(mesh_acc_op_put(&w, MESH_ACC_OP_VND(0x15, 0x000a)), 0);
	cr_assert_eq(w.len, 6);
	cr_assert_arr_eq(buf, ((uint8_t[]){0x00, 0x80, 0x03, 0xd5, 0x0a, 0x00}), 6);
	cr_assert_eq(mesh_acc_op_put(&w, 0x8003), 0);
	cr_assert_eq(mesh_acc_op_put(&w, 0x8003), -ENOSPC);

	cr_assert_not(mesh_acc_op_valid(0x7f));
	cr_assert_not(mesh_acc_op_valid(0x80));
	cr_assert_not(mesh_acc_op_valid(0x7fff));
	cr_assert_not(mesh_acc_op_valid(0xc000));
	cr_assert_not(mesh_acc_op_valid(0xbfffff));
	cr_assert_not(mesh_acc_op_valid(0x1000000));
	cr_assert_eq(mesh_acc_op_len(0x7f), 0);
	mesh_wbuf_init(&w, buf, sizeof(buf));
	cr_assert_eq(mesh_acc_op_put(&w, 0x7f), -EINVAL);

	cr_assert_eq(mesh_acc_payload_build(0x8003, (const uint8_t[]){0x00, 0x56, 0x34, 0x12}, 4,
					    buf, sizeof(buf), &len),
		     0);
	{
		uint8_t want[8];
		size_t n = payload_of("network_pdus.messages[id=msg16]", want, sizeof(want));

		cr_assert_eq(len, n);
		cr_assert_arr_eq(buf, want, n, "§8.3.16 AppKey Status payload rebuilt");
	}
}

/* An access payload is at most 380 octets, opcode included. */
Test(access, s3_7_3_payload_max)
{
	static uint8_t params[MESH_ACC_PAYLOAD_MAX], out[MESH_ACC_PAYLOAD_MAX + 8];
	size_t len = 0;

	cr_assert_eq(mesh_acc_payload_build(0x8003, params, MESH_ACC_PAYLOAD_MAX - 2, out,
					    sizeof(out), &len),
		     0);
	cr_assert_eq(len, MESH_ACC_PAYLOAD_MAX);
	cr_assert_eq(mesh_acc_payload_build(0x8003, params, MESH_ACC_PAYLOAD_MAX - 1, out,
					    sizeof(out), &len),
		     -EINVAL);
	cr_assert_eq(mesh_acc_payload_build(0x00, params, 10, out, 10, &len), -ENOSPC);
	cr_assert_eq(len, MESH_ACC_PAYLOAD_MAX);
}

/* --- Registry fixture ----------------------------------------------------- */

struct calls {
	int n;
	struct mesh_acc_model *mdl[8];
	size_t len[8];
	int ret;
};

static int record(struct mesh_acc_model *mdl, const struct mesh_acc_msg *msg, void *user)
{
	struct calls *c = user;

	if (c->n < 8) {
		c->mdl[c->n] = mdl;
		c->len[c->n] = msg->len;
	}
	c->n++;
	return c->ret;
}

#define SIG(x) ((struct mesh_model_id){false, 0, (x)})
#define VND(c, x) ((struct mesh_model_id){true, (c), (x)})

/* Config Server: AppKey Add takes exactly 19 octets (indexes 3 + key 16). */
static const struct mesh_acc_op cfg_ops[] = {
    {0x00, 19, 19, record},
    {0x8008, 1, 1, record},
};
/* Health Server: Health Current Status 0x04 (test table), at least TestID + CID. */
static const struct mesh_acc_op health_ops[] = {
    {0x04, 3, -1, record},
};
static const struct mesh_acc_op vnd_ops[] = {
    {MESH_ACC_OP_VND(0x15, 0x000a), 0, -1, record},
    {MESH_ACC_OP_VND(0x2a, 0x000a), 5, 5, record},
};

struct node {
	struct mesh_acc *acc;
	struct mesh_acc_model *cfg, *health, *vnd, *health1;
	struct calls calls;
};

/* Node 0x1201 with two elements: Config + Health + vendor on 0, Health on 1. */
static void node_init(struct node *n)
{
	memset(n, 0, sizeof(*n));
	n->acc = mesh_acc_new();
	cr_assert_not_null(n->acc);
	cr_assert_eq(mesh_acc_elem_add(n->acc, 0x0100), 0);
	cr_assert_eq(mesh_acc_elem_add(n->acc, 0x0101), 1);
	cr_assert_eq(mesh_acc_set_primary(n->acc, 0x1201), 0);
	cr_assert_eq(mesh_acc_model_add(n->acc, 0, SIG(0x0000), MESH_ACC_MODEL_DEV_KEY, cfg_ops, 2,
					&n->calls, &n->cfg),
		     0);
	cr_assert_eq(
	    mesh_acc_model_add(n->acc, 0, SIG(0x0002), 0, health_ops, 1, &n->calls, &n->health), 0);
	cr_assert_eq(
	    mesh_acc_model_add(n->acc, 0, VND(0x000a, 0x0001), 0, vnd_ops, 2, &n->calls, &n->vnd),
	    0);
	cr_assert_eq(
	    mesh_acc_model_add(n->acc, 1, SIG(0x0002), 0, health_ops, 1, &n->calls, &n->health1),
	    0);
}

/* A decoded message built from a sample's plaintext and addressing. */
static struct mesh_acc_msg sample_msg(const char *path, uint16_t app_idx, uint8_t *buf, size_t cap)
{
	struct mesh_acc_msg m;
	json_t *net0 = json_array_get(json_object_get(tv_get(path), "network"), 0);
	size_t n = payload_of(path, buf, cap), op_len;

	memset(&m, 0, sizeof(m));
	cr_assert_eq(mesh_acc_op_decode(buf, n, &m.opcode, &op_len), 0);
	m.params = buf + op_len;
	m.len = n - op_len;
	m.app_idx = app_idx;
	m.src = (uint16_t)tv_hexnum(net0, "SRC", 0);
	m.dst = (uint16_t)tv_hexnum(net0, "DST", 0);
	return m;
}

/* §8.3.6: AppKey Add under the device key reaches the Config Server only. */
Test(access, s8_3_6_dispatch_devkey_to_config_server)
{
	struct node n;
	uint8_t buf[64];
	struct mesh_acc_msg m =
	    sample_msg("network_pdus.messages[id=msg06]", MESH_APP_IDX_DEV, buf, sizeof(buf));
	size_t handled = 0;

	node_init(&n);
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, &handled), 0);
	cr_assert_eq(handled, 1);
	cr_assert_eq(n.calls.n, 1);
	cr_assert_eq(n.calls.mdl[0], n.cfg);
	cr_assert_eq(n.calls.len[0], 19);
	mesh_acc_free(n.acc);
}

/* The Config Server never takes an AppKey-secured message, even one it knows. */
Test(access, s4_4_1_config_server_refuses_appkey)
{
	struct node n;
	uint8_t buf[64];
	struct mesh_acc_msg m =
	    sample_msg("network_pdus.messages[id=msg06]", 0x123, buf, sizeof(buf));

	node_init(&n);
	cr_assert_eq(mesh_acc_model_bind(n.cfg, 0x123), -EINVAL, "device-key models cannot bind");
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -EACCES);
	cr_assert_eq(n.calls.n, 0);
	mesh_acc_free(n.acc);
}

/* §8.3.18 to all-nodes: only the primary element's bound Health Server takes it. */
Test(access, s8_3_18_all_nodes_bound_primary_only)
{
	struct node n;
	uint8_t buf[64];
	struct mesh_acc_msg m =
	    sample_msg("network_pdus.messages[id=msg19]", 0x123, buf, sizeof(buf));
	size_t handled = 0;

	node_init(&n);
	cr_assert_eq(m.dst, MESH_ADDR_ALL_NODES);
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -EACCES, "not bound yet");
	cr_assert_eq(mesh_acc_model_bind(n.health, 0x456), 0);
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -EACCES, "bound to another AppKey");
	cr_assert_eq(mesh_acc_model_bind(n.health, 0x123), 0);
	cr_assert_eq(mesh_acc_model_bind(n.health1, 0x123), 0);
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, &handled), 0);
	cr_assert_eq(handled, 1);
	cr_assert_eq(n.calls.mdl[0], n.health);
	cr_assert_eq(n.calls.len[0], 6);
	m.app_idx = MESH_APP_IDX_DEV;
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -EACCES, "device key on an AppKey model");
	cr_assert_eq(n.calls.n, 1);
	mesh_acc_free(n.acc);
}

/* §8.3.21 to group c105: delivered only once the vendor model subscribes. */
Test(access, s8_3_21_group_subscription)
{
	struct node n;
	uint8_t buf[64];
	struct mesh_acc_msg m =
	    sample_msg("network_pdus.messages[id=msg21]", 0x123, buf, sizeof(buf));

	node_init(&n);
	cr_assert_eq(mesh_acc_model_bind(n.vnd, 0x123), 0);
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -ENOENT, "nobody subscribed");
	cr_assert_eq(mesh_acc_model_sub_add(n.vnd, 0xc105, NULL), 0);
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), 0);
	cr_assert_eq(n.calls.n, 1);
	cr_assert_eq(n.calls.mdl[0], n.vnd);
	cr_assert_eq(mesh_acc_model_sub_del(n.vnd, 0xc105, NULL), 0);
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -ENOENT);
	cr_assert_eq(n.calls.n, 1);
	mesh_acc_free(n.acc);
}

/* §8.3.22 to virtual b529: the subscription must hold the same Label UUID. */
Test(access, s8_3_22_virtual_subscription_label)
{
	struct node n;
	uint8_t buf[64], label[16], other[16];
	const char *path = "network_pdus.messages[id=msg22]";
	struct mesh_acc_msg m = sample_msg(path, 0x123, buf, sizeof(buf));

	cr_assert_eq(tv_bytes(json_object_get(tv_get(path), "upper_transport"), "LabelUUID_as_AAD",
			      label, 16),
		     16);
	memcpy(other, label, 16);
	other[15] ^= 1;
	m.label = label;
	node_init(&n);
	cr_assert_eq(mesh_acc_model_bind(n.vnd, 0x123), 0);
	cr_assert_eq(mesh_acc_model_sub_add(n.vnd, 0xb529, other), 0);
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -ENOENT, "same address, other label");
	cr_assert_eq(mesh_acc_model_sub_add(n.vnd, 0xb529, label), 0);
	cr_assert(mesh_acc_model_subscribed(n.vnd, 0xb529, label));
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), 0);
	cr_assert_eq(n.calls.n, 1);
	mesh_acc_free(n.acc);
}

/* Unicast to the second element reaches only that element's models. */
Test(access, s3_7_4_unicast_second_element)
{
	struct node n;
	uint8_t buf[64];
	struct mesh_acc_msg m =
	    sample_msg("network_pdus.messages[id=msg19]", 0x123, buf, sizeof(buf));

	node_init(&n);
	cr_assert_eq(mesh_acc_model_bind(n.health, 0x123), 0);
	cr_assert_eq(mesh_acc_model_bind(n.health1, 0x123), 0);
	m.dst = 0x1202;
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), 0);
	cr_assert_eq(n.calls.n, 1);
	cr_assert_eq(n.calls.mdl[0], n.health1);
	m.dst = 0x1203; /* past the last element */
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -ENOENT);
	m.dst = 0xc001; /* a group address every Health Server joined */
	cr_assert_eq(mesh_acc_model_sub_add(n.health, 0xc001, NULL), 0);
	cr_assert_eq(mesh_acc_model_sub_add(n.health1, 0xc001, NULL), 0);
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), 0);
	cr_assert_eq(n.calls.n, 3);
	mesh_acc_free(n.acc);
}

/* Unknown opcode: -ENOENT; parameters outside min/max: -EBADMSG; no handler runs. */
Test(access, s3_7_4_unknown_opcode_and_bad_length)
{
	struct node n;
	uint8_t buf[64];
	struct mesh_acc_msg m =
	    sample_msg("network_pdus.messages[id=msg06]", MESH_APP_IDX_DEV, buf, sizeof(buf));
	struct mesh_acc_msg v =
	    sample_msg("network_pdus.messages[id=msg24]", 0x123, buf + 32, sizeof(buf) - 32);

	node_init(&n);
	m.len = 18;
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -EBADMSG, "AppKey Add one octet short");
	m.len = 20;
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -EBADMSG, "one octet long");
	m.len = 19;
	m.opcode = 0x8099;
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -ENOENT);
	m.opcode = 0x7f;
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -EINVAL);

	/* §8.3.24's 5 parameter octets fit; 4 do not. */
	v.dst = 0x1201;
	cr_assert_eq(mesh_acc_model_bind(n.vnd, 0x123), 0);
	v.len = 4;
	cr_assert_eq(mesh_acc_dispatch(n.acc, &v, NULL), -EBADMSG);
	cr_assert_eq(n.calls.n, 0);
	v.len = 5;
	cr_assert_eq(mesh_acc_dispatch(n.acc, &v, NULL), 0);
	cr_assert_eq(n.calls.n, 1);
	mesh_acc_free(n.acc);
}

/* When one of several receivers rejects the length, none of them runs. */
Test(access, s3_7_4_length_checked_before_any_handler)
{
	static const struct mesh_acc_op strict[] = {{0x04, 10, 10, record}};
	struct node n;
	struct mesh_acc_model *m2;
	uint8_t buf[64];
	struct mesh_acc_msg m =
	    sample_msg("network_pdus.messages[id=msg19]", 0x123, buf, sizeof(buf));

	node_init(&n);
	cr_assert_eq(mesh_acc_elem_add(n.acc, 0x0102), 2);
	cr_assert_eq(mesh_acc_model_add(n.acc, 2, SIG(0x1000), 0, strict, 1, &n.calls, &m2), 0);
	cr_assert_eq(mesh_acc_model_bind(n.health, 0x123), 0);
	cr_assert_eq(mesh_acc_model_bind(m2, 0x123), 0);
	cr_assert_eq(mesh_acc_model_sub_add(n.health, 0xc002, NULL), 0);
	cr_assert_eq(mesh_acc_model_sub_add(m2, 0xc002, NULL), 0);
	m.dst = 0xc002;
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, NULL), -EBADMSG);
	cr_assert_eq(n.calls.n, 0);
	mesh_acc_free(n.acc);
}

/* A handler's error comes back, after every receiver has run. */
Test(access, dispatch_returns_handler_error)
{
	struct node n;
	uint8_t buf[64];
	struct mesh_acc_msg m =
	    sample_msg("network_pdus.messages[id=msg06]", MESH_APP_IDX_DEV, buf, sizeof(buf));
	size_t handled = 0;

	node_init(&n);
	n.calls.ret = -EBUSY;
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, &handled), -EBUSY);
	cr_assert_eq(handled, 1);
	mesh_acc_free(n.acc);
}

/* Duplicate models, shared opcodes within an element, invalid opcodes are refused. */
Test(access, s3_7_3_1_model_add_conflicts)
{
	static const struct mesh_acc_op bad[] = {{0x7f, 0, -1, record}};
	struct node n;

	node_init(&n);
	cr_assert_eq(mesh_acc_model_add(n.acc, 0, SIG(0x0002), 0, NULL, 0, NULL, NULL), -EEXIST);
	cr_assert_eq(mesh_acc_model_add(n.acc, 0, SIG(0x1300), 0, health_ops, 1, NULL, NULL),
		     -EEXIST, "opcode 0x04 already handled on element 0");
	cr_assert_eq(mesh_acc_model_add(n.acc, 0, SIG(0x1300), 0, bad, 1, NULL, NULL), -EINVAL);
	cr_assert_eq(mesh_acc_model_add(n.acc, 5, SIG(0x1300), 0, NULL, 0, NULL, NULL), -EINVAL);
	cr_assert_eq(mesh_acc_model_add(n.acc, 0, VND(0x000b, 0x0001), 0, NULL, 0, NULL, NULL), 0,
		     "same model ID of another company is another model");
	cr_assert_eq(mesh_acc_model_find(n.acc, 0, VND(0x000a, 0x0001)), n.vnd);
	cr_assert_eq(mesh_acc_model_find_addr(n.acc, 0x1202, SIG(0x0002)), n.health1);
	cr_assert_null(mesh_acc_model_find_addr(n.acc, 0x1203, SIG(0x0002)));
	cr_assert_eq(mesh_acc_model_elem(n.health1), 1);
	cr_assert_eq(mesh_acc_model_user(n.health1), &n.calls);
	cr_assert(mesh_acc_model_id(n.vnd).vendor);
	cr_assert_eq(mesh_acc_elem_count(n.acc), 2);
	cr_assert_eq(mesh_acc_set_primary(n.acc, 0x7fff), -EINVAL, "second element past 0x7fff");
	cr_assert_eq(mesh_acc_set_primary(n.acc, 0xc000), -EINVAL);
	cr_assert_eq(mesh_acc_primary(n.acc), 0x1201);
	mesh_acc_free(n.acc);
	mesh_acc_free(NULL);
}

/* Deleting a model unregisters it: its opcodes are no longer dispatched (the message counts
 * as unhandled), the other models stay, its ID and opcodes may be registered again; a model
 * of another registry, or none, is -ENOENT. */
Test(access, model_del)
{
	struct node n, other;
	uint8_t buf[64];
	struct mesh_acc_msg m =
	    sample_msg("network_pdus.messages[id=msg06]", MESH_APP_IDX_DEV, buf, sizeof(buf));
	struct mesh_acc_model *again;
	size_t handled = 0;

	node_init(&n);
	node_init(&other);
	cr_assert_eq(mesh_acc_model_del(n.acc, other.cfg), -ENOENT, "not registered here");
	cr_assert_eq(mesh_acc_model_del(n.acc, n.cfg), 0);
	cr_assert_null(mesh_acc_model_find(n.acc, 0, SIG(0x0000)));
	cr_assert_eq(mesh_acc_model_find(n.acc, 0, SIG(0x0002)), n.health);
	cr_assert_eq(mesh_acc_model_find(n.acc, 0, VND(0x000a, 0x0001)), n.vnd);
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, &handled), -ENOENT, "no model knows AppKey Add");
	cr_assert_eq(handled, 0);
	cr_assert_eq(n.calls.n, 0);
	cr_assert_eq(mesh_acc_model_add(n.acc, 0, SIG(0x0000), MESH_ACC_MODEL_DEV_KEY, cfg_ops, 2,
					&n.calls, &again),
		     0, "the ID and opcodes are free again");
	cr_assert_eq(mesh_acc_dispatch(n.acc, &m, &handled), 0);
	cr_assert_eq(handled, 1);
	cr_assert_eq(n.calls.mdl[0], again);
	cr_assert_eq(mesh_acc_model_del(n.acc, n.health1), 0);
	cr_assert_null(mesh_acc_model_find_addr(n.acc, 0x1202, SIG(0x0002)));
	cr_assert_eq(mesh_acc_model_del(NULL, n.vnd), -ENOENT);
	cr_assert_eq(mesh_acc_model_del(n.acc, NULL), -ENOENT);
	mesh_acc_free(n.acc);
	mesh_acc_free(other.acc);
}

/* Bindings: idempotent bind, capacity, unbind, and AppKey deletion everywhere. */
Test(access, s4_2_7_bindings)
{
	struct node n;
	uint16_t list[MESH_ACC_BIND_MAX];
	uint16_t i;

	node_init(&n);
	cr_assert_eq(mesh_acc_model_bind(n.health, 0x1000), -EINVAL);
	for (i = 0; i < MESH_ACC_BIND_MAX; i++) {
		cr_assert_eq(mesh_acc_model_bind(n.health, i), 0);
	}
	cr_assert_eq(mesh_acc_model_bind(n.health, 3), 0, "already bound");
	cr_assert_eq(mesh_acc_model_bind(n.health, 0x100), -ENOSPC);
	cr_assert_eq(mesh_acc_model_bindings(n.health, list, 4), MESH_ACC_BIND_MAX);
	cr_assert_eq(list[3], 3);
	cr_assert_eq(mesh_acc_model_unbind(n.health, 3), 0);
	cr_assert_eq(mesh_acc_model_unbind(n.health, 3), -ENOENT);
	cr_assert_eq(mesh_acc_model_bindings(n.health, list, MESH_ACC_BIND_MAX),
		     MESH_ACC_BIND_MAX - 1);
	cr_assert_eq(list[3], 4, "order kept");
	cr_assert_eq(mesh_acc_model_bind(n.health1, 5), 0);
	cr_assert_eq(mesh_acc_unbind_all(n.acc, 5), 2);
	cr_assert_not(mesh_acc_model_bound(n.health, 5));
	cr_assert_not(mesh_acc_model_bound(n.health1, 5));
	cr_assert(mesh_acc_model_bound(n.health, 6));
	mesh_acc_free(n.acc);
}

/* Subscriptions: only group (not all-nodes) or virtual-with-label; capacity. */
Test(access, s4_2_4_subscriptions)
{
	struct node n;
	uint8_t label[16] = {1};
	uint16_t list[4];
	uint16_t i;

	node_init(&n);
	cr_assert_eq(mesh_acc_model_sub_add(n.health, 0x1201, NULL), -EINVAL);
	cr_assert_eq(mesh_acc_model_sub_add(n.health, 0x0000, NULL), -EINVAL);
	cr_assert_eq(mesh_acc_model_sub_add(n.health, 0xffff, NULL), -EINVAL);
	cr_assert_eq(mesh_acc_model_sub_add(n.health, 0x8123, NULL), -EINVAL);
	cr_assert_eq(mesh_acc_model_sub_add(n.health, 0xc000, label), -EINVAL);
	cr_assert_eq(mesh_acc_model_sub_add(n.health, 0x8123, label), 0);
	for (i = 1; i < MESH_ACC_SUB_MAX; i++) {
		cr_assert_eq(mesh_acc_model_sub_add(n.health, (uint16_t)(0xc000 + i), NULL), 0);
	}
	cr_assert_eq(mesh_acc_model_sub_add(n.health, 0xc001, NULL), 0, "already there");
	cr_assert_eq(mesh_acc_model_sub_add(n.health, 0xcfff, NULL), -ENOSPC);
	cr_assert_eq(mesh_acc_model_subs(n.health, list, 4), MESH_ACC_SUB_MAX);
	cr_assert_eq(list[0], 0x8123);
	cr_assert_eq(mesh_acc_model_sub_del(n.health, 0xcfff, NULL), -ENOENT);
	cr_assert_eq(mesh_acc_model_sub_del(n.health, 0x8123, NULL), -EINVAL);
	cr_assert_eq(mesh_acc_model_sub_del(n.health, 0x8123, label), 0);
	cr_assert_eq(mesh_acc_model_subs(n.health, list, 4), MESH_ACC_SUB_MAX - 1);
	mesh_acc_model_sub_clear(n.health);
	cr_assert_eq(mesh_acc_model_subs(n.health, list, 4), 0);
	mesh_acc_free(n.acc);
}

/* Publication parameters are stored as given; invalid TTL or index changes nothing. */
Test(access, s4_2_3_publication)
{
	struct node n;
	struct mesh_acc_pub p, q;

	node_init(&n);
	memset(&p, 0, sizeof(p));
	p.addr = 0xc105;
	p.app_idx = 0x123;
	p.ttl = 0x7f;
	p.period = 0x41;
	p.retransmit = 0x0a;
	cr_assert_eq(mesh_acc_model_pub_set(n.health, &p), 0);
	q = p;
	q.ttl = 0x80;
	cr_assert_eq(mesh_acc_model_pub_set(n.health, &q), -EINVAL);
	q.ttl = 0xff;
	q.app_idx = 0x1000;
	cr_assert_eq(mesh_acc_model_pub_set(n.health, &q), -EINVAL);
	memset(&q, 0, sizeof(q));
	mesh_acc_model_pub_get(n.health, &q);
	cr_assert_arr_eq(&q, &p, sizeof(p));
	mesh_acc_free(n.acc);
}

/* §8.10.1: a registry with the sample's models yields the sample Composition Data. */
Test(access, s8_10_1_registry_to_composition)
{
	json_t *v = tv_get("composition_data[id=comp_page0_8_10_1]");
	static const uint16_t sig[] = {0x0000, 0x8000, 0x0001, 0x1000, 0x1003};
	struct mesh_acc *acc = mesh_acc_new();
	struct mesh_comp comp;
	uint8_t want[64], got[64];
	size_t i, len = 0;
	int n;

	cr_assert_not_null(v);
	n = tv_bytes(v, "data", want, sizeof(want));
	cr_assert_eq(mesh_acc_elem_add(acc, 0x0100), 0);
	/* Vendor model first: the page still lists SIG models before vendor ones. */
	cr_assert_eq(mesh_acc_model_add(acc, 0, VND(0x003f, 0x002a), 0, NULL, 0, NULL, NULL), 0);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(mesh_acc_model_add(acc, 0, SIG(sig[i]), 0, NULL, 0, NULL, NULL), 0);
	}
	memset(&comp, 0, sizeof(comp));
	comp.cid = 0x000c;
	comp.pid = 0x001a;
	comp.vid = 0x0001;
	comp.crpl = 0x0008;
	comp.features = MESH_FEAT_RELAY | MESH_FEAT_PROXY;
	cr_assert_eq(mesh_acc_comp(acc, &comp), 0);
	cr_assert_eq(mesh_comp_build(&comp, got, sizeof(got), &len), 0);
	cr_assert_eq(len, (size_t)n);
	cr_assert_arr_eq(got, want, len, "got %s", tv_tohex(got, len));
	mesh_acc_free(acc);
}
