#include "mesh/access.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/mesh.h"

#define ELEM_MAX 255 /* Composition Data and Provisioning carry element counts in one octet */

struct sub {
	uint16_t addr;
	uint8_t label[16]; /* virtual addresses only; zero otherwise */
};

struct mesh_acc_model {
	struct mesh_model_id id;
	uint8_t elem;
	unsigned flags;
	const struct mesh_acc_op *ops; /* borrowed */
	size_t n_ops;
	void *user;
	size_t n_bind;
	uint16_t bind[MESH_ACC_BIND_MAX];
	size_t n_sub;
	struct sub sub[MESH_ACC_SUB_MAX];
	struct mesh_acc_pub pub;
};

struct elem {
	uint16_t loc;
	size_t n_models;
	struct mesh_acc_model **models; /* each allocated alone so pointers stay valid */
};

struct mesh_acc {
	uint16_t primary;
	size_t n_elems;
	struct elem *elems;
};

/* --- Opcodes (§3.7.3.1) ------------------------------------------------- */

bool mesh_acc_op_valid(uint32_t op)
{
	if (op < 0x80) {
		return op != 0x7f; /* 0x7f is reserved for future use */
	}
	if (op < 0x8000) {
		return false; /* would need a 2-octet form without the 10b prefix */
	}
	if (op < 0xc000) {
		return true;
	}
	return op >= 0xc00000 && op <= 0xffffff;
}

size_t mesh_acc_op_len(uint32_t op)
{
	if (!mesh_acc_op_valid(op)) {
		return 0;
	}
	return op < 0x80 ? 1 : op < 0xc000 ? 2 : 3;
}

uint16_t mesh_acc_op_cid(uint32_t op)
{
	/* The Company ID follows the first octet little-endian. */
	return (uint16_t)(((op & 0xff) << 8) | ((op >> 8) & 0xff));
}

int mesh_acc_op_decode(const uint8_t *p, size_t len, uint32_t *op, size_t *op_len)
{
	size_t n;
	uint32_t v = 0;
	size_t i;

	if (!p || len == 0) {
		return -EBADMSG;
	}
	switch (p[0] >> 6) {
	case 0:
	case 1:
		if (p[0] == 0x7f) {
			return -EBADMSG;
		}
		n = 1;
		break;
	case 2:
		n = 2;
		break;
	default:
		n = 3;
		break;
	}
	if (len < n) {
		return -EBADMSG;
	}
	for (i = 0; i < n; i++) {
		v = v << 8 | p[i];
	}
	*op = v;
	*op_len = n;
	return 0;
}

int mesh_acc_op_put(struct mesh_wbuf *w, uint32_t op)
{
	size_t n = mesh_acc_op_len(op);

	if (!w || n == 0) {
		return -EINVAL;
	}
	if (n == 3) {
		mesh_wbuf_be24(w, op);
	} else if (n == 2) {
		mesh_wbuf_be16(w, (uint16_t)op);
	} else {
		mesh_wbuf_u8(w, (uint8_t)op);
	}
	return w->err ? -ENOSPC : 0;
}

int mesh_acc_payload_build(uint32_t op, const uint8_t *params, size_t params_len, uint8_t *out,
			   size_t cap, size_t *len)
{
	size_t n = mesh_acc_op_len(op);
	struct mesh_wbuf w;

	if (n == 0 || !out || !len || (params_len && !params) ||
	    params_len > MESH_ACC_PAYLOAD_MAX - n) {
		return -EINVAL;
	}
	mesh_wbuf_init(&w, out, cap);
	mesh_acc_op_put(&w, op);
	mesh_wbuf_mem(&w, params, params_len);
	if (w.err) {
		return -ENOSPC;
	}
	*len = w.len;
	return 0;
}

/* --- Registry ----------------------------------------------------------- */

struct mesh_acc *mesh_acc_new(void)
{
	return calloc(1, sizeof(struct mesh_acc));
}

void mesh_acc_free(struct mesh_acc *acc)
{
	size_t i, j;

	if (!acc) {
		return;
	}
	for (i = 0; i < acc->n_elems; i++) {
		for (j = 0; j < acc->elems[i].n_models; j++) {
			free(acc->elems[i].models[j]);
		}
		free(acc->elems[i].models);
	}
	free(acc->elems);
	free(acc);
}

int mesh_acc_set_primary(struct mesh_acc *acc, uint16_t addr)
{
	if (!acc) {
		return -EINVAL;
	}
	if (addr != MESH_ADDR_UNASSIGNED &&
	    (!mesh_addr_is_unicast(addr) || (size_t)addr + acc->n_elems > 0x8000)) {
		return -EINVAL;
	}
	acc->primary = addr;
	return 0;
}

uint16_t mesh_acc_primary(const struct mesh_acc *acc)
{
	return acc ? acc->primary : MESH_ADDR_UNASSIGNED;
}

int mesh_acc_elem_add(struct mesh_acc *acc, uint16_t loc)
{
	struct elem *e;

	if (!acc) {
		return -EINVAL;
	}
	if (acc->n_elems >= ELEM_MAX ||
	    (acc->primary && (size_t)acc->primary + acc->n_elems + 1 > 0x8000)) {
		return -ENOSPC;
	}
	e = realloc(acc->elems, (acc->n_elems + 1) * sizeof(*e));
	if (!e) {
		return -ENOMEM;
	}
	acc->elems = e;
	e = &acc->elems[acc->n_elems];
	e->loc = loc;
	e->n_models = 0;
	e->models = NULL;
	return (int)acc->n_elems++;
}

size_t mesh_acc_elem_count(const struct mesh_acc *acc)
{
	return acc ? acc->n_elems : 0;
}

static bool id_eq(struct mesh_model_id a, struct mesh_model_id b)
{
	return a.vendor == b.vendor && a.id == b.id && (!a.vendor || a.cid == b.cid);
}

static const struct mesh_acc_op *find_op(const struct mesh_acc_model *m, uint32_t opcode)
{
	size_t i;

	for (i = 0; i < m->n_ops; i++) {
		if (m->ops[i].opcode == opcode) {
			return &m->ops[i];
		}
	}
	return NULL;
}

int mesh_acc_model_add(struct mesh_acc *acc, uint8_t elem, struct mesh_model_id id, unsigned flags,
		       const struct mesh_acc_op *ops, size_t n_ops, void *user,
		       struct mesh_acc_model **out)
{
	struct mesh_acc_model *m, **v;
	struct elem *e;
	size_t i, j;

	if (!acc || elem >= acc->n_elems || (n_ops && !ops)) {
		return -EINVAL;
	}
	e = &acc->elems[elem];
	for (i = 0; i < n_ops; i++) {
		if (!mesh_acc_op_valid(ops[i].opcode) || !ops[i].handler) {
			return -EINVAL;
		}
	}
	/*
	 * An element must not have two models with the same ID, nor two
	 * models that handle the same opcode: an opcode identifies its model
	 * within an element (§3.7.3.1).
	 */
	for (j = 0; j < e->n_models; j++) {
		if (id_eq(e->models[j]->id, id)) {
			return -EEXIST;
		}
		for (i = 0; i < n_ops; i++) {
			if (find_op(e->models[j], ops[i].opcode)) {
				return -EEXIST;
			}
		}
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		return -ENOMEM;
	}
	v = realloc(e->models, (e->n_models + 1) * sizeof(*v));
	if (!v) {
		free(m);
		return -ENOMEM;
	}
	e->models = v;
	m->id = id;
	m->elem = elem;
	m->flags = flags;
	m->ops = ops;
	m->n_ops = n_ops;
	m->user = user;
	e->models[e->n_models++] = m;
	if (out) {
		*out = m;
	}
	return 0;
}

int mesh_acc_model_del(struct mesh_acc *acc, struct mesh_acc_model *mdl)
{
	struct elem *e;
	size_t j;

	if (!acc || !mdl || mdl->elem >= acc->n_elems) {
		return -ENOENT;
	}
	e = &acc->elems[mdl->elem];
	for (j = 0; j < e->n_models; j++) {
		if (e->models[j] == mdl) {
			memmove(&e->models[j], &e->models[j + 1],
				(e->n_models - j - 1) * sizeof(e->models[0]));
			e->n_models--;
			free(mdl);
			return 0;
		}
	}
	return -ENOENT;
}

struct mesh_acc_model *mesh_acc_model_find(const struct mesh_acc *acc, uint8_t elem,
					   struct mesh_model_id id)
{
	size_t j;

	if (!acc || elem >= acc->n_elems) {
		return NULL;
	}
	for (j = 0; j < acc->elems[elem].n_models; j++) {
		if (id_eq(acc->elems[elem].models[j]->id, id)) {
			return acc->elems[elem].models[j];
		}
	}
	return NULL;
}

/* Index of the element at unicast address addr, or -1. */
static int elem_at(const struct mesh_acc *acc, uint16_t addr)
{
	if (!acc->primary || !mesh_addr_is_unicast(addr) || addr < acc->primary ||
	    (size_t)(addr - acc->primary) >= acc->n_elems) {
		return -1;
	}
	return addr - acc->primary;
}

struct mesh_acc_model *mesh_acc_model_find_addr(const struct mesh_acc *acc, uint16_t elem_addr,
						struct mesh_model_id id)
{
	int i;

	if (!acc) {
		return NULL;
	}
	i = elem_at(acc, elem_addr);
	return i < 0 ? NULL : mesh_acc_model_find(acc, (uint8_t)i, id);
}

struct mesh_model_id mesh_acc_model_id(const struct mesh_acc_model *mdl)
{
	return mdl->id;
}

uint8_t mesh_acc_model_elem(const struct mesh_acc_model *mdl)
{
	return mdl->elem;
}

void *mesh_acc_model_user(const struct mesh_acc_model *mdl)
{
	return mdl->user;
}

/* --- Bindings (§4.2.7) -------------------------------------------------- */

static int bind_find(const struct mesh_acc_model *m, uint16_t app_idx)
{
	size_t i;

	for (i = 0; i < m->n_bind; i++) {
		if (m->bind[i] == app_idx) {
			return (int)i;
		}
	}
	return -1;
}

int mesh_acc_model_bind(struct mesh_acc_model *mdl, uint16_t app_idx)
{
	/* Device-key models have no Model to AppKey List (§4.4.1, Cannot Bind). */
	if (!mdl || app_idx > MESH_KEY_IDX_MAX || (mdl->flags & MESH_ACC_MODEL_DEV_KEY)) {
		return -EINVAL;
	}
	if (bind_find(mdl, app_idx) >= 0) {
		return 0;
	}
	if (mdl->n_bind >= MESH_ACC_BIND_MAX) {
		return -ENOSPC;
	}
	mdl->bind[mdl->n_bind++] = app_idx;
	return 0;
}

int mesh_acc_model_unbind(struct mesh_acc_model *mdl, uint16_t app_idx)
{
	int i;

	if (!mdl) {
		return -EINVAL;
	}
	i = bind_find(mdl, app_idx);
	if (i < 0) {
		return -ENOENT;
	}
	/* Keep the list in binding order: Model App List reports it. */
	memmove(&mdl->bind[i], &mdl->bind[i + 1], (mdl->n_bind - (size_t)i - 1) * sizeof(uint16_t));
	mdl->n_bind--;
	return 0;
}

bool mesh_acc_model_bound(const struct mesh_acc_model *mdl, uint16_t app_idx)
{
	return mdl && bind_find(mdl, app_idx) >= 0;
}

size_t mesh_acc_model_bindings(const struct mesh_acc_model *mdl, uint16_t *out, size_t max)
{
	size_t i;

	if (!mdl) {
		return 0;
	}
	for (i = 0; i < mdl->n_bind && i < max; i++) {
		out[i] = mdl->bind[i];
	}
	return mdl->n_bind;
}

size_t mesh_acc_unbind_all(struct mesh_acc *acc, uint16_t app_idx)
{
	size_t i, j, n = 0;

	if (!acc) {
		return 0;
	}
	for (i = 0; i < acc->n_elems; i++) {
		for (j = 0; j < acc->elems[i].n_models; j++) {
			if (mesh_acc_model_unbind(acc->elems[i].models[j], app_idx) == 0) {
				n++;
			}
		}
	}
	return n;
}

/* --- Subscriptions (§4.2.4) --------------------------------------------- */

static bool sub_arg_ok(uint16_t addr, const uint8_t *label)
{
	if (mesh_addr_is_virtual(addr)) {
		return label != NULL;
	}
	/* The all-nodes address is never in a subscription list (§4.2.4). */
	return mesh_addr_is_group(addr) && addr != MESH_ADDR_ALL_NODES && !label;
}

static int sub_find(const struct mesh_acc_model *m, uint16_t addr, const uint8_t *label)
{
	size_t i;

	for (i = 0; i < m->n_sub; i++) {
		if (m->sub[i].addr != addr) {
			continue;
		}
		/*
		 * Two Label UUIDs can hash to one virtual address; only the
		 * exact label is a match.
		 */
		if (mesh_addr_is_virtual(addr) && (!label || memcmp(m->sub[i].label, label, 16))) {
			continue;
		}
		return (int)i;
	}
	return -1;
}

int mesh_acc_model_sub_add(struct mesh_acc_model *mdl, uint16_t addr, const uint8_t *label)
{
	struct sub *s;

	if (!mdl || !sub_arg_ok(addr, label)) {
		return -EINVAL;
	}
	if (sub_find(mdl, addr, label) >= 0) {
		return 0;
	}
	if (mdl->n_sub >= MESH_ACC_SUB_MAX) {
		return -ENOSPC;
	}
	s = &mdl->sub[mdl->n_sub++];
	s->addr = addr;
	if (label) {
		memcpy(s->label, label, 16);
	} else {
		memset(s->label, 0, 16);
	}
	return 0;
}

int mesh_acc_model_sub_del(struct mesh_acc_model *mdl, uint16_t addr, const uint8_t *label)
{
	int i;

	if (!mdl || !sub_arg_ok(addr, label)) {
		return -EINVAL;
	}
	i = sub_find(mdl, addr, label);
	if (i < 0) {
		return -ENOENT;
	}
	memmove(&mdl->sub[i], &mdl->sub[i + 1], (mdl->n_sub - (size_t)i - 1) * sizeof(struct sub));
	mdl->n_sub--;
	return 0;
}

void mesh_acc_model_sub_clear(struct mesh_acc_model *mdl)
{
	if (mdl) {
		mdl->n_sub = 0;
		memset(mdl->sub, 0, sizeof(mdl->sub));
	}
}

bool mesh_acc_model_subscribed(const struct mesh_acc_model *mdl, uint16_t addr,
			       const uint8_t *label)
{
	return mdl && sub_find(mdl, addr, label) >= 0;
}

size_t mesh_acc_model_subs(const struct mesh_acc_model *mdl, uint16_t *out, size_t max)
{
	size_t i;

	if (!mdl) {
		return 0;
	}
	for (i = 0; i < mdl->n_sub && i < max; i++) {
		out[i] = mdl->sub[i].addr;
	}
	return mdl->n_sub;
}

int mesh_acc_model_sub_at(const struct mesh_acc_model *mdl, size_t pos, uint16_t *addr,
			  uint8_t label[16])
{
	if (!mdl || pos >= mdl->n_sub) {
		return -ENOENT;
	}
	*addr = mdl->sub[pos].addr;
	if (label && mesh_addr_is_virtual(mdl->sub[pos].addr)) {
		memcpy(label, mdl->sub[pos].label, 16);
	}
	return 0;
}

/* --- Publication (§4.2.3) ----------------------------------------------- */

int mesh_acc_model_pub_set(struct mesh_acc_model *mdl, const struct mesh_acc_pub *pub)
{
	if (!mdl || !pub || pub->app_idx > MESH_KEY_IDX_MAX ||
	    (pub->ttl > MESH_TTL_MAX && pub->ttl != MESH_TTL_DEFAULT)) {
		return -EINVAL;
	}
	mdl->pub = *pub;
	if (!mesh_addr_is_virtual(pub->addr)) {
		memset(mdl->pub.label, 0, sizeof(mdl->pub.label));
	}
	return 0;
}

void mesh_acc_model_pub_get(const struct mesh_acc_model *mdl, struct mesh_acc_pub *pub)
{
	if (mdl && pub) {
		*pub = mdl->pub;
	}
}

/* --- Dispatch (§3.7.4) -------------------------------------------------- */

static bool fixed_group(uint16_t addr)
{
	return addr >= MESH_ADDR_ALL_PROXIES;
}

static bool model_addressed(const struct mesh_acc *acc, const struct mesh_acc_model *m,
			    const struct mesh_acc_msg *msg)
{
	if (mesh_addr_is_unicast(msg->dst)) {
		return elem_at(acc, msg->dst) == m->elem;
	}
	if (mesh_addr_is_virtual(msg->dst)) {
		return msg->label && sub_find(m, msg->dst, msg->label) >= 0;
	}
	if (fixed_group(msg->dst) && m->elem == 0) {
		/* The primary element takes the fixed group addresses (§3.4.2.4). */
		return true;
	}
	return mesh_addr_is_group(msg->dst) && sub_find(m, msg->dst, NULL) >= 0;
}

static bool key_allowed(const struct mesh_acc_model *m, const struct mesh_acc_msg *msg)
{
	if (msg->app_idx == MESH_APP_IDX_DEV) {
		return (m->flags & MESH_ACC_MODEL_DEV_KEY) != 0;
	}
	return !(m->flags & MESH_ACC_MODEL_DEV_KEY) && bind_find(m, msg->app_idx) >= 0;
}

static bool len_ok(const struct mesh_acc_op *op, size_t len)
{
	return len >= op->min_len && (op->max_len < 0 || len <= (size_t)op->max_len);
}

int mesh_acc_dispatch(struct mesh_acc *acc, const struct mesh_acc_msg *msg, size_t *n_handled)
{
	size_t i, j, n = 0;
	bool key_refused = false;
	int ret = 0;

	if (!acc || !msg || (msg->len && !msg->params) || !mesh_acc_op_valid(msg->opcode)) {
		return -EINVAL;
	}
	/*
	 * First pass: find the receivers and check the parameter length for
	 * each, so that a malformed message changes nothing anywhere.
	 */
	for (i = 0; i < acc->n_elems; i++) {
		for (j = 0; j < acc->elems[i].n_models; j++) {
			const struct mesh_acc_model *m = acc->elems[i].models[j];
			const struct mesh_acc_op *op;

			if (!model_addressed(acc, m, msg)) {
				continue;
			}
			op = find_op(m, msg->opcode);
			if (!op) {
				continue;
			}
			if (!key_allowed(m, msg)) {
				key_refused = true;
				continue;
			}
			if (!len_ok(op, msg->len)) {
				return -EBADMSG;
			}
			n++;
		}
	}
	if (n == 0) {
		return key_refused ? -EACCES : -ENOENT;
	}
	n = 0;
	for (i = 0; i < acc->n_elems; i++) {
		for (j = 0; j < acc->elems[i].n_models; j++) {
			struct mesh_acc_model *m = acc->elems[i].models[j];
			const struct mesh_acc_op *op;
			int r;

			if (!model_addressed(acc, m, msg) || !key_allowed(m, msg)) {
				continue;
			}
			op = find_op(m, msg->opcode);
			if (!op) {
				continue;
			}
			r = op->handler(m, msg, m->user);
			n++;
			if (r < 0 && ret == 0) {
				ret = r;
			}
		}
	}
	if (n_handled) {
		*n_handled = n;
	}
	return ret;
}

int mesh_acc_comp(const struct mesh_acc *acc, struct mesh_comp *comp)
{
	struct mesh_comp c;
	size_t i, j;

	if (!acc || !comp) {
		return -EINVAL;
	}
	c = *comp;
	c.n_elems = c.n_sig = c.n_vnd = 0;
	/* Page 0 lists each element's SIG models before its vendor models. */
	for (i = 0; i < acc->n_elems; i++) {
		const struct elem *e = &acc->elems[i];

		if (mesh_comp_add_elem(&c, e->loc)) {
			return -ENOSPC;
		}
		for (j = 0; j < e->n_models; j++) {
			if (!e->models[j]->id.vendor &&
			    mesh_comp_add_sig(&c, e->models[j]->id.id)) {
				return -ENOSPC;
			}
		}
		for (j = 0; j < e->n_models; j++) {
			const struct mesh_model_id *id = &e->models[j]->id;

			if (id->vendor && mesh_comp_add_vnd(&c, id->cid, id->id)) {
				return -ENOSPC;
			}
		}
	}
	*comp = c;
	return 0;
}
