#include "mesh/prov_pdu.h"

#include <errno.h>
#include <string.h>

#include "mesh/buf.h"

/*
 * Parameter lengths per type (§5.4.1, formats.md §2).  `value` marks the
 * Confirmation and Random PDUs whose length follows the algorithm; `step`
 * is the size of a repeated item after `min` octets (Records List).
 * Record Response carries `min` fixed octets and then any amount of data.
 */
struct pdu_rule {
	bool known;
	bool value;
	uint8_t min;
	uint8_t max;  /* 0xff = no upper bound */
	uint8_t step; /* 0 = fixed */
};

static const struct pdu_rule rules[PROV_PDU_TYPES] = {
    [PROV_INVITE] = {.known = true, .min = PROV_PARAMS_INVITE, .max = PROV_PARAMS_INVITE},
    [PROV_CAPABILITIES] = {.known = true, .min = PROV_PARAMS_CAPS, .max = PROV_PARAMS_CAPS},
    [PROV_START] = {.known = true, .min = PROV_PARAMS_START, .max = PROV_PARAMS_START},
    [PROV_PUB_KEY] = {.known = true, .min = PROV_PUB_KEY_LEN, .max = PROV_PUB_KEY_LEN},
    [PROV_INPUT_COMPLETE] = {.known = true, .min = 0, .max = 0},
    [PROV_CONFIRMATION] = {.known = true, .value = true},
    [PROV_RANDOM] = {.known = true, .value = true},
    [PROV_DATA] = {.known = true,
		   .min = PROV_DATA_LEN + PROV_DATA_MIC_LEN,
		   .max = PROV_DATA_LEN + PROV_DATA_MIC_LEN},
    [PROV_COMPLETE] = {.known = true, .min = 0, .max = 0},
    [PROV_FAILED] = {.known = true, .min = 1, .max = 1},
    [PROV_RECORD_REQUEST] = {.known = true, .min = 6, .max = 6},
    [PROV_RECORD_RESPONSE] = {.known = true, .min = 7, .max = 0xff, .step = 1},
    [PROV_RECORDS_GET] = {.known = true, .min = 0, .max = 0},
    [PROV_RECORDS_LIST] = {.known = true, .min = 2, .max = 0xff, .step = 2},
};

size_t prov_alg_value_len(uint8_t alg)
{
	switch (alg) {
	case PROV_ALG_CMAC:
		return 16;
	case PROV_ALG_HMAC:
		return 32;
	default:
		return 0;
	}
}

static bool length_ok(const struct pdu_rule *r, size_t plen, size_t value_len)
{
	if (r->value) {
		if (value_len) {
			return plen == value_len;
		}
		return plen == 16 || plen == 32;
	}
	if (plen < r->min) {
		return false;
	}
	if (r->step) {
		return (plen - r->min) % r->step == 0;
	}
	return plen == r->min;
}

/*
 * Capabilities (§5.4.1.2): zero elements is prohibited, a device must offer
 * an algorithm we know, and the OOB sizes above 8 are RFU.  RFU bits in the
 * bitfields are ignored, as receivers are told to.
 */
static bool caps_ok(const struct prov_caps *c)
{
	return c->elements != 0 && (c->algorithms & (PROV_ALGS_CMAC | PROV_ALGS_HMAC)) &&
	       c->output_size <= PROV_OOB_SIZE_MAX && c->input_size <= PROV_OOB_SIZE_MAX;
}

/* Start (§5.4.1.3): every field has RFU or prohibited values. */
static bool start_ok(const struct prov_start *s)
{
	if (s->alg > PROV_ALG_HMAC || s->pub_key > PROV_START_PUB_KEY_OOB) {
		return false;
	}
	switch (s->auth_method) {
	case PROV_AUTH_NO_OOB:
	case PROV_AUTH_STATIC:
		return s->auth_action == 0 && s->auth_size == 0;
	case PROV_AUTH_OUTPUT:
		return s->auth_action < PROV_OUT_ACTIONS && s->auth_size >= 1 &&
		       s->auth_size <= PROV_OOB_SIZE_MAX;
	case PROV_AUTH_INPUT:
		return s->auth_action < PROV_IN_ACTIONS && s->auth_size >= 1 &&
		       s->auth_size <= PROV_OOB_SIZE_MAX;
	default:
		return false;
	}
}

static void read_caps(struct mesh_rbuf *b, struct prov_caps *c)
{
	c->elements = mesh_rbuf_u8(b);
	c->algorithms = mesh_rbuf_be16(b);
	c->pub_key_type = mesh_rbuf_u8(b);
	c->oob_type = mesh_rbuf_u8(b);
	c->output_size = mesh_rbuf_u8(b);
	c->output_actions = mesh_rbuf_be16(b);
	c->input_size = mesh_rbuf_u8(b);
	c->input_actions = mesh_rbuf_be16(b);
}

static void read_start(struct mesh_rbuf *b, struct prov_start *s)
{
	s->alg = mesh_rbuf_u8(b);
	s->pub_key = mesh_rbuf_u8(b);
	s->auth_method = mesh_rbuf_u8(b);
	s->auth_action = mesh_rbuf_u8(b);
	s->auth_size = mesh_rbuf_u8(b);
}

/* Decode the fields of a PDU whose length is already known to be right. */
static bool parse_fields(struct mesh_rbuf *b, struct prov_pdu *p)
{
	switch (p->type) {
	case PROV_INVITE:
		p->u.attention = mesh_rbuf_u8(b);
		return true;
	case PROV_CAPABILITIES:
		read_caps(b, &p->u.caps);
		return caps_ok(&p->u.caps);
	case PROV_START:
		read_start(b, &p->u.start);
		return start_ok(&p->u.start);
	case PROV_PUB_KEY:
		return mesh_rbuf_copy(b, p->u.pub_key, PROV_PUB_KEY_LEN);
	case PROV_CONFIRMATION:
	case PROV_RANDOM:
		p->u.value.len = b->len;
		return mesh_rbuf_copy(b, p->u.value.v, b->len);
	case PROV_DATA:
		mesh_rbuf_copy(b, p->u.data.enc, PROV_DATA_LEN);
		return mesh_rbuf_copy(b, p->u.data.mic, PROV_DATA_MIC_LEN);
	case PROV_FAILED:
		p->u.err = mesh_rbuf_u8(b);
		return true;
	case PROV_RECORD_REQUEST:
		p->u.record_req.record_id = mesh_rbuf_be16(b);
		p->u.record_req.offset = mesh_rbuf_be16(b);
		p->u.record_req.max_size = mesh_rbuf_be16(b);
		/* A zero Fragment Maximum Size could never make progress. */
		return p->u.record_req.max_size != 0;
	case PROV_RECORD_RESPONSE:
		p->u.record_rsp.status = mesh_rbuf_u8(b);
		p->u.record_rsp.record_id = mesh_rbuf_be16(b);
		p->u.record_rsp.offset = mesh_rbuf_be16(b);
		p->u.record_rsp.total_len = mesh_rbuf_be16(b);
		p->u.record_rsp.data_len = b->len;
		p->u.record_rsp.data = b->len ? mesh_rbuf_pull(b, b->len) : NULL;
		return p->u.record_rsp.status <= PROV_RECORD_OFFSET_OOB;
	case PROV_RECORDS_LIST:
		p->u.records_list.extensions = mesh_rbuf_be16(b);
		p->u.records_list.n_ids = b->len / 2;
		p->u.records_list.ids = b->len ? mesh_rbuf_pull(b, b->len) : NULL;
		return true;
	case PROV_INPUT_COMPLETE:
	case PROV_COMPLETE:
	case PROV_RECORDS_GET:
		return true;
	default:
		return false;
	}
}

int prov_pdu_parse(const uint8_t *pdu, size_t len, size_t value_len, struct prov_pdu *out,
		   enum prov_err *err)
{
	struct prov_pdu p;
	struct mesh_rbuf b;
	uint8_t type;

	if ((!pdu && len) || !out || (value_len && value_len != 16 && value_len != 32)) {
		return -EINVAL;
	}
	memset(&p, 0, sizeof(p));
	mesh_rbuf_init(&b, pdu, len);
	type = mesh_rbuf_u8(&b);
	/* §5.4.1: padding bits set, or an RFU type, make the PDU invalid. */
	if (!mesh_rbuf_ok(&b) || (type & 0xc0) || type >= PROV_PDU_TYPES || !rules[type].known) {
		if (err) {
			*err = PROV_ERR_INVALID_PDU;
		}
		return -EBADMSG;
	}
	p.type = (enum prov_pdu_type)type;
	if (!length_ok(&rules[type], b.len, value_len) || !parse_fields(&b, &p) ||
	    !mesh_rbuf_done(&b)) {
		if (err) {
			*err = PROV_ERR_INVALID_FORMAT;
		}
		return -EBADMSG;
	}
	*out = p;
	return 0;
}

int prov_pdu_build(const struct prov_pdu *p, uint8_t *out, size_t cap, size_t *len)
{
	struct mesh_wbuf w;

	if (!p || !out || !len) {
		return -EINVAL;
	}
	mesh_wbuf_init(&w, out, cap);
	mesh_wbuf_u8(&w, (uint8_t)p->type);
	switch (p->type) {
	case PROV_INVITE:
		mesh_wbuf_u8(&w, p->u.attention);
		break;
	case PROV_CAPABILITIES:
		mesh_wbuf_u8(&w, p->u.caps.elements);
		mesh_wbuf_be16(&w, p->u.caps.algorithms);
		mesh_wbuf_u8(&w, p->u.caps.pub_key_type);
		mesh_wbuf_u8(&w, p->u.caps.oob_type);
		mesh_wbuf_u8(&w, p->u.caps.output_size);
		mesh_wbuf_be16(&w, p->u.caps.output_actions);
		mesh_wbuf_u8(&w, p->u.caps.input_size);
		mesh_wbuf_be16(&w, p->u.caps.input_actions);
		break;
	case PROV_START:
		mesh_wbuf_u8(&w, p->u.start.alg);
		mesh_wbuf_u8(&w, p->u.start.pub_key);
		mesh_wbuf_u8(&w, p->u.start.auth_method);
		mesh_wbuf_u8(&w, p->u.start.auth_action);
		mesh_wbuf_u8(&w, p->u.start.auth_size);
		break;
	case PROV_PUB_KEY:
		mesh_wbuf_mem(&w, p->u.pub_key, PROV_PUB_KEY_LEN);
		break;
	case PROV_CONFIRMATION:
	case PROV_RANDOM:
		if (p->u.value.len != 16 && p->u.value.len != 32) {
			return -EINVAL;
		}
		mesh_wbuf_mem(&w, p->u.value.v, p->u.value.len);
		break;
	case PROV_DATA:
		mesh_wbuf_mem(&w, p->u.data.enc, PROV_DATA_LEN);
		mesh_wbuf_mem(&w, p->u.data.mic, PROV_DATA_MIC_LEN);
		break;
	case PROV_FAILED:
		mesh_wbuf_u8(&w, p->u.err);
		break;
	case PROV_RECORD_REQUEST:
		mesh_wbuf_be16(&w, p->u.record_req.record_id);
		mesh_wbuf_be16(&w, p->u.record_req.offset);
		mesh_wbuf_be16(&w, p->u.record_req.max_size);
		break;
	case PROV_RECORD_RESPONSE:
		mesh_wbuf_u8(&w, p->u.record_rsp.status);
		mesh_wbuf_be16(&w, p->u.record_rsp.record_id);
		mesh_wbuf_be16(&w, p->u.record_rsp.offset);
		mesh_wbuf_be16(&w, p->u.record_rsp.total_len);
		mesh_wbuf_mem(&w, p->u.record_rsp.data, p->u.record_rsp.data_len);
		break;
	case PROV_RECORDS_LIST:
		mesh_wbuf_be16(&w, p->u.records_list.extensions);
		mesh_wbuf_mem(&w, p->u.records_list.ids, 2 * p->u.records_list.n_ids);
		break;
	case PROV_INPUT_COMPLETE:
	case PROV_COMPLETE:
	case PROV_RECORDS_GET:
		break;
	default:
		return -EINVAL;
	}
	if (w.err) {
		return -ENOSPC;
	}
	*len = w.len;
	return 0;
}

int prov_start_check(const struct prov_start *s, const struct prov_caps *c)
{
	if (!s || !c || !start_ok(s)) {
		return -EBADMSG;
	}
	if (!(c->algorithms & (1u << s->alg))) {
		return -EBADMSG;
	}
	if (s->pub_key == PROV_START_PUB_KEY_OOB && !(c->pub_key_type & PROV_PUB_KEY_TYPE_OOB)) {
		return -EBADMSG;
	}
	switch (s->auth_method) {
	case PROV_AUTH_NO_OOB:
		/* 1.1: a device that demands OOB authentication refuses No OOB. */
		return (c->oob_type & PROV_OOB_TYPE_ONLY_OOB) ? -EBADMSG : 0;
	case PROV_AUTH_STATIC:
		return (c->oob_type & PROV_OOB_TYPE_STATIC) ? 0 : -EBADMSG;
	case PROV_AUTH_OUTPUT:
		return ((c->output_actions & (1u << s->auth_action)) &&
			s->auth_size <= c->output_size)
			   ? 0
			   : -EBADMSG;
	case PROV_AUTH_INPUT:
		return ((c->input_actions & (1u << s->auth_action)) &&
			s->auth_size <= c->input_size)
			   ? 0
			   : -EBADMSG;
	default:
		return -EBADMSG;
	}
}

void prov_data_encode(const struct prov_data *d, uint8_t out[PROV_DATA_LEN])
{
	memcpy(out, d->net_key, 16);
	mesh_put_be16(out + 16, d->net_idx);
	out[18] = d->flags;
	mesh_put_be32(out + 19, d->iv_index);
	mesh_put_be16(out + 23, d->unicast);
}

void prov_data_decode(const uint8_t in[PROV_DATA_LEN], struct prov_data *d)
{
	memcpy(d->net_key, in, 16);
	d->net_idx = mesh_get_be16(in + 16);
	d->flags = in[18];
	d->iv_index = mesh_get_be32(in + 19);
	d->unicast = mesh_get_be16(in + 23);
}

const char *prov_err_str(uint8_t err)
{
	static const char *const names[] = {
	    [PROV_ERR_PROHIBITED] = "Prohibited",
	    [PROV_ERR_INVALID_PDU] = "Invalid PDU",
	    [PROV_ERR_INVALID_FORMAT] = "Invalid Format",
	    [PROV_ERR_UNEXPECTED_PDU] = "Unexpected PDU",
	    [PROV_ERR_CONFIRMATION_FAILED] = "Confirmation Failed",
	    [PROV_ERR_OUT_OF_RESOURCES] = "Out of Resources",
	    [PROV_ERR_DECRYPTION_FAILED] = "Decryption Failed",
	    [PROV_ERR_UNEXPECTED_ERROR] = "Unexpected Error",
	    [PROV_ERR_CANNOT_ASSIGN_ADDR] = "Cannot Assign Addresses",
	    [PROV_ERR_INVALID_DATA] = "Invalid Data",
	};

	return err < sizeof(names) / sizeof(names[0]) ? names[err] : "Unknown";
}
