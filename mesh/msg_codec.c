/*
 * Table-driven access message codec (see mesh/msg_codec.h).
 *
 * Decoding reads the fields through a bounded cursor (a short read sets its
 * sticky error, and the walk stops at the first error), requires every
 * octet to be consumed, then runs the same value check as encoding.  Only
 * what the struct cannot hold is refused while reading: RFU bits, a bool
 * octet past 0x01, a list or array longer than its capacity.
 *
 * Values are moved in and out of the struct with memcpy at the member's
 * offset, in the member's own width (the MSGC_* macros checked it).
 */
#include "mesh/msg_codec.h"

#include <errno.h>
#include <string.h>

#include "mesh/access.h"
#include "mesh/buf.h"
#include "mesh/crypto.h"

/* Model Publication AppKeyIndex octets (§4.3.2): 12-bit index, CredentialFlag, 3 RFU bits. */
#define IDX_FLAG_BIT 0x1000
#define IDX_FLAG_RFU 0xe000

void msgc_idx_pack(uint16_t idx1, uint16_t idx2, uint8_t out[3])
{
	out[0] = (uint8_t)idx1;
	out[1] = (uint8_t)(((idx1 >> 8) & 0x0f) | ((idx2 & 0x0f) << 4));
	out[2] = (uint8_t)(idx2 >> 4);
}

void msgc_idx_unpack(const uint8_t in[3], uint16_t *idx1, uint16_t *idx2)
{
	*idx1 = (uint16_t)(in[0] | ((in[1] & 0x0f) << 8));
	*idx2 = (uint16_t)((in[1] >> 4) | (in[2] << 4));
}

/* --- Member access --- */

static uint32_t ld_uint(const uint8_t *p, size_t width)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;

	switch (width) {
	case 1:
		memcpy(&v8, p, 1);
		return v8;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	default:
		memcpy(&v32, p, 4);
		return v32;
	}
}

static void st_uint(uint8_t *p, size_t width, uint32_t v)
{
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;

	switch (width) {
	case 1:
		memcpy(p, &v8, 1);
		break;
	case 2:
		memcpy(p, &v16, 2);
		break;
	default:
		memcpy(p, &v, 4);
		break;
	}
}

static bool ld_bool(const uint8_t *p)
{
	bool v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void st_bool(uint8_t *p, bool v)
{
	memcpy(p, &v, sizeof(v));
}

static size_t ld_size(const uint8_t *p)
{
	size_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void st_size(uint8_t *p, size_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Width of the member holding a scalar field's value. */
static size_t scalar_width(enum msgc_kind k)
{
	return k == MSGC_K_U8 ? 1 : k == MSGC_K_LE16 ? 2 : 4;
}

/* --- Presence --- */

/* While encoding and checking: the presence bool decides. */
static bool present(const struct msgc_field *f, const uint8_t *s)
{
	switch ((enum msgc_when)f->when) {
	case MSGC_WHEN_ALWAYS:
		return true;
	case MSGC_WHEN_LEFT:
	case MSGC_WHEN_SET:
		return ld_bool(s + f->flag);
	case MSGC_WHEN_CLEAR:
		return !ld_bool(s + f->flag);
	}
	return false;
}

/* While decoding: the octets left decide, and the decision is recorded for encoding. */
static bool present_get(const struct msgc_field *f, const struct mesh_rbuf *r, uint8_t *s)
{
	bool p;

	if (f->when != MSGC_WHEN_LEFT) {
		return present(f, s);
	}
	p = f->left ? r->len == f->left : r->len != 0;
	st_bool(s + f->flag, p);
	return p;
}

/* --- Values --- */

static bool value_ok(const struct msgc_field *f, uint32_t v)
{
	if (f->has_also && v == f->also) {
		return true;
	}
	if (f->bounded && (v < f->lo || v > f->hi)) {
		return false;
	}
	switch ((enum msgc_addr)f->addr) {
	case MSGC_ADDR_ANY:
		return true;
	case MSGC_ADDR_UNICAST:
		return mesh_addr_is_unicast((uint16_t)v);
	case MSGC_ADDR_NOT_VIRTUAL:
		return !mesh_addr_is_virtual((uint16_t)v);
	}
	return false;
}

static bool idx_ok(const uint8_t *p)
{
	return ld_uint(p, 2) <= MESH_KEY_IDX_MAX;
}

static bool field_ok(const struct msgc_field *f, const uint8_t *s)
{
	enum msgc_kind k = (enum msgc_kind)f->kind;
	const uint8_t *ptr;
	size_t n, i;

	if (!present(f, s)) {
		return true;
	}
	switch (k) {
	case MSGC_K_U8:
	case MSGC_K_LE16:
	case MSGC_K_LE24:
		return value_ok(f, ld_uint(s + f->off, scalar_width(k)));
	case MSGC_K_BOOL8:
	case MSGC_K_BYTES:
		return true;
	case MSGC_K_IS:
		return ld_bool(s + f->off) == (f->lo != 0);
	case MSGC_K_IDX_PAIR:
		return idx_ok(s + f->off) && idx_ok(s + f->off2);
	case MSGC_K_IDX_FLAG:
		return idx_ok(s + f->off);
	case MSGC_K_COUNTED:
		n = ld_uint(s + f->off2, 1);
		return n <= f->size && value_ok(f, (uint32_t)n);
	case MSGC_K_LIST16:
		return ld_size(s + f->off2) <= f->size;
	case MSGC_K_IDX_LIST:
		n = ld_size(s + f->off2);
		if (n > f->size) {
			return false;
		}
		for (i = 0; i < n; i++) {
			if (!idx_ok(s + f->off + 2 * i)) {
				return false;
			}
		}
		return true;
	case MSGC_K_REST:
		memcpy(&ptr, s + f->off, sizeof(ptr));
		n = ld_size(s + f->off2);
		return (ptr || n == 0) && (!f->bounded || (n >= f->lo && n <= f->hi));
	}
	return false;
}

static bool row_ok(const struct msgc_row *row, const void *m)
{
	size_t i;

	for (i = 0; i < row->n_fields; i++) {
		if (!field_ok(&row->fields[i], m)) {
			return false;
		}
	}
	return !row->check || row->check(m);
}

/* --- Decoding --- */

/* Items to the end of the message, at most f->size of them; see MSGC_K_LIST16/IDX_LIST. */
static void list_get(const struct msgc_field *f, struct mesh_rbuf *r, uint8_t *s)
{
	uint8_t *items = s + f->off;
	const uint8_t *p;
	uint16_t a, b;
	size_t n = 0;

	while (r->len && mesh_rbuf_ok(r)) {
		if (f->kind == MSGC_K_IDX_LIST && r->len >= 3) {
			/* Two indexes share 3 octets; a single one left over takes 2. */
			p = mesh_rbuf_pull(r, 3);
			if (!p || n + 2 > f->size) {
				r->err = true;
				return;
			}
			msgc_idx_unpack(p, &a, &b);
			st_uint(items + 2 * n++, 2, a);
			st_uint(items + 2 * n++, 2, b);
			continue;
		}
		if (n + 1 > f->size) {
			r->err = true;
			return;
		}
		/* A lone octet at the end is neither an item nor an index: the pull fails. */
		st_uint(items + 2 * n++, 2, mesh_rbuf_le16(r));
	}
	st_size(s + f->off2, n);
}

static void field_get(const struct msgc_field *f, struct mesh_rbuf *r, uint8_t *s)
{
	enum msgc_kind k = (enum msgc_kind)f->kind;
	const uint8_t *p;
	uint16_t a, b;
	size_t n;

	if (!present_get(f, r, s)) {
		return;
	}
	switch (k) {
	case MSGC_K_U8:
		st_uint(s + f->off, 1, mesh_rbuf_u8(r));
		break;
	case MSGC_K_LE16:
		st_uint(s + f->off, 2, mesh_rbuf_le16(r));
		break;
	case MSGC_K_LE24:
		st_uint(s + f->off, 4, mesh_rbuf_le24(r));
		break;
	case MSGC_K_BOOL8:
		n = mesh_rbuf_u8(r);
		r->err |= n > 1;
		st_bool(s + f->off, n == 1);
		break;
	case MSGC_K_IS:
		st_bool(s + f->off, f->lo != 0);
		break;
	case MSGC_K_BYTES:
		mesh_rbuf_copy(r, s + f->off, f->size);
		break;
	case MSGC_K_IDX_PAIR:
		p = mesh_rbuf_pull(r, 3);
		if (p) {
			msgc_idx_unpack(p, &a, &b);
			st_uint(s + f->off, 2, a);
			st_uint(s + f->off2, 2, b);
		}
		break;
	case MSGC_K_IDX_FLAG:
		a = mesh_rbuf_le16(r);
		r->err |= (a & IDX_FLAG_RFU) != 0;
		st_uint(s + f->off, 2, a & MESH_KEY_IDX_MAX);
		st_bool(s + f->off2, (a & IDX_FLAG_BIT) != 0);
		break;
	case MSGC_K_COUNTED:
		n = mesh_rbuf_u8(r);
		if (n > f->size) {
			r->err = true;
			break;
		}
		st_uint(s + f->off2, 1, (uint32_t)n);
		mesh_rbuf_copy(r, s + f->off, n);
		break;
	case MSGC_K_LIST16:
	case MSGC_K_IDX_LIST:
		list_get(f, r, s);
		break;
	case MSGC_K_REST:
		n = r->len;
		p = n ? mesh_rbuf_pull(r, n) : NULL;
		memcpy(s + f->off, &p, sizeof(p));
		st_size(s + f->off2, n);
		break;
	}
}

/* --- Encoding --- */

static void field_put(const struct msgc_field *f, struct mesh_wbuf *w, const uint8_t *s)
{
	enum msgc_kind k = (enum msgc_kind)f->kind;
	const uint8_t *ptr;
	uint8_t *p;
	size_t n, i;

	if (!present(f, s)) {
		return;
	}
	switch (k) {
	case MSGC_K_U8:
		mesh_wbuf_u8(w, (uint8_t)ld_uint(s + f->off, 1));
		break;
	case MSGC_K_LE16:
		mesh_wbuf_le16(w, (uint16_t)ld_uint(s + f->off, 2));
		break;
	case MSGC_K_LE24:
		mesh_wbuf_le24(w, ld_uint(s + f->off, 4));
		break;
	case MSGC_K_BOOL8:
		mesh_wbuf_u8(w, ld_bool(s + f->off) ? 1 : 0);
		break;
	case MSGC_K_IS:
		break;
	case MSGC_K_BYTES:
		mesh_wbuf_mem(w, s + f->off, f->size);
		break;
	case MSGC_K_IDX_PAIR:
		p = mesh_wbuf_push(w, 3);
		if (p) {
			msgc_idx_pack((uint16_t)ld_uint(s + f->off, 2),
				      (uint16_t)ld_uint(s + f->off2, 2), p);
		}
		break;
	case MSGC_K_IDX_FLAG:
		mesh_wbuf_le16(w, (uint16_t)(ld_uint(s + f->off, 2) |
					     (ld_bool(s + f->off2) ? IDX_FLAG_BIT : 0)));
		break;
	case MSGC_K_COUNTED:
		n = ld_uint(s + f->off2, 1);
		mesh_wbuf_u8(w, (uint8_t)n);
		mesh_wbuf_mem(w, s + f->off, n);
		break;
	case MSGC_K_LIST16:
	case MSGC_K_IDX_LIST:
		n = ld_size(s + f->off2);
		for (i = 0; k == MSGC_K_IDX_LIST && i + 1 < n; i += 2) {
			p = mesh_wbuf_push(w, 3);
			if (p) {
				msgc_idx_pack((uint16_t)ld_uint(s + f->off + 2 * i, 2),
					      (uint16_t)ld_uint(s + f->off + 2 * i + 2, 2), p);
			}
		}
		for (; i < n; i++) {
			mesh_wbuf_le16(w, (uint16_t)ld_uint(s + f->off + 2 * i, 2));
		}
		break;
	case MSGC_K_REST:
		memcpy(&ptr, s + f->off, sizeof(ptr));
		mesh_wbuf_mem(w, ptr, ld_size(s + f->off2));
		break;
	}
}

/* --- Entry points --- */

const struct msgc_row *msgc_find(const struct msgc_table *t, uint32_t op)
{
	size_t i;

	for (i = 0; i < t->n_rows; i++) {
		if (t->rows[i].op == op) {
			return &t->rows[i];
		}
	}
	return NULL;
}

int msgc_family(const struct msgc_table *t, uint32_t op)
{
	const struct msgc_row *row = msgc_find(t, op);

	return row ? row->fam : 0;
}

static int pick(const struct msgc_table *t, uint32_t op, int fam, const struct msgc_row **row)
{
	*row = msgc_find(t, op);
	if (fam == MSGC_FAM_ANY) {
		return *row ? 0 : -ENOENT;
	}
	return *row && (*row)->fam == fam ? 0 : -EINVAL;
}

/* Parameters that fit one access payload after the opcode (§3.7.3). */
static size_t params_max(uint32_t op)
{
	return MESH_ACC_PAYLOAD_MAX - mesh_acc_op_len(op);
}

int msgc_decode(const struct msgc_table *t, uint32_t op, int fam, const uint8_t *params, size_t len,
		void *out, size_t size)
{
	union {
		max_align_t align;
		uint8_t b[MSGC_BODY_MAX];
	} tmp;
	const struct msgc_row *row;
	struct mesh_rbuf r;
	size_t i;
	int err = pick(t, op, fam, &row);

	if (err) {
		return err;
	}
	if (!out || (!params && len) || size > sizeof(tmp.b)) {
		return -EINVAL;
	}
	if (len > params_max(op)) {
		return -EMSGSIZE;
	}
	if (len < row->min_len || len > row->max_len) {
		return -EBADMSG;
	}
	memset(tmp.b, 0, size);
	mesh_rbuf_init(&r, params, len);
	for (i = 0; i < row->n_fields && mesh_rbuf_ok(&r); i++) {
		field_get(&row->fields[i], &r, tmp.b);
	}
	err = mesh_rbuf_done(&r) && row_ok(row, tmp.b) ? 0 : -EBADMSG;
	if (!err) {
		memcpy(out, tmp.b, size);
	}
	mesh_crypto_wipe(tmp.b, size);
	return err;
}

int msgc_encode(const struct msgc_table *t, uint32_t op, int fam, const void *m, uint8_t *out,
		size_t cap, size_t *len)
{
	const struct msgc_row *row;
	struct mesh_wbuf w;
	size_t max, i;
	int err;

	if (!m || !len || (!out && cap)) {
		return -EINVAL;
	}
	err = pick(t, op, fam, &row);
	if (err) {
		return err;
	}
	if (!row_ok(row, m)) {
		return -EINVAL;
	}
	max = params_max(op);
	mesh_wbuf_init(&w, out, cap < max ? cap : max);
	for (i = 0; i < row->n_fields; i++) {
		field_put(&row->fields[i], &w, m);
	}
	if (w.err) {
		return cap < max ? -ENOSPC : -EINVAL;
	}
	/* The row's lengths are the decoder's first gate; what it would refuse is not sent. */
	if (w.len < row->min_len || w.len > row->max_len) {
		return -EINVAL;
	}
	*len = w.len;
	return 0;
}

int msgc_msg_decode(const struct msgc_table *t, uint32_t op, const uint8_t *params, size_t len,
		    void *msg, size_t msg_size)
{
	uint8_t *body = msg ? (uint8_t *)msg + t->body_off : NULL;
	int err = msgc_decode(t, op, MSGC_FAM_ANY, params, len, body, msg_size - t->body_off);

	if (!err) {
		memcpy(msg, &op, sizeof(op));
	}
	return err;
}

int msgc_msg_encode(const struct msgc_table *t, const void *msg, uint8_t *out, size_t cap,
		    size_t *len)
{
	uint32_t op;

	if (!msg) {
		return -EINVAL;
	}
	memcpy(&op, msg, sizeof(op));
	return msgc_encode(t, op, MSGC_FAM_ANY, (const uint8_t *)msg + t->body_off, out, cap, len);
}
