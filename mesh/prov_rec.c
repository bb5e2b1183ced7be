#include "mesh/prov_rec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/buf.h"

int prov_rec_asm_init(struct prov_rec_asm *a, uint16_t id, uint16_t frag_max, size_t limit)
{
	if (!a || frag_max == 0 || frag_max > PROV_REC_FRAG_ADV || limit == 0 || limit > 0xffff) {
		return -EINVAL;
	}
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->frag_max = frag_max;
	a->limit = limit;
	return 0;
}

void prov_rec_asm_free(struct prov_rec_asm *a)
{
	if (!a) {
		return;
	}
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

void prov_rec_asm_request(const struct prov_rec_asm *a, struct prov_pdu *req)
{
	memset(req, 0, sizeof(*req));
	req->type = PROV_RECORD_REQUEST;
	req->u.record_req.record_id = a->id;
	req->u.record_req.offset = (uint16_t)a->have;
	req->u.record_req.max_size = a->frag_max;
}

int prov_rec_asm_feed(struct prov_rec_asm *a, const struct prov_pdu *rsp, const char **why)
{
	const char *dummy;
	size_t n;

	if (!why) {
		why = &dummy;
	}
	if (!a || !rsp || rsp->type != PROV_RECORD_RESPONSE) {
		*why = "not a Record Response";
		return -EINVAL;
	}
	n = rsp->u.record_rsp.data_len;
	/* The answer must be to the question asked: same record, same offset. */
	if (rsp->u.record_rsp.record_id != a->id || rsp->u.record_rsp.offset != a->have) {
		*why = "record response does not answer the request";
		return -EBADMSG;
	}
	switch (rsp->u.record_rsp.status) {
	case PROV_RECORD_SUCCESS:
		break;
	case PROV_RECORD_NOT_PRESENT:
		*why = "device listed a record it does not have";
		return -ENOENT;
	default:
		*why = "device refused the record offset";
		return -ERANGE;
	}
	if (a->total == 0) {
		if (rsp->u.record_rsp.total_len == 0) {
			*why = "device sent an empty record";
			return -EBADMSG;
		}
		if (rsp->u.record_rsp.total_len > a->limit) {
			*why = "certificate larger than the record limit";
			return -EMSGSIZE;
		}
		a->buf = malloc(rsp->u.record_rsp.total_len);
		if (!a->buf) {
			*why = "out of memory";
			return -ENOMEM;
		}
		a->total = rsp->u.record_rsp.total_len;
	} else if (rsp->u.record_rsp.total_len != a->total) {
		/* Two versions of the record cannot be spliced into one. */
		*why = "record changed size between fragments";
		return -EBADMSG;
	}
	if (n == 0 || n > a->frag_max || n > a->total - a->have) {
		*why = "record fragment has the wrong size";
		return -EBADMSG;
	}
	memcpy(a->buf + a->have, rsp->u.record_rsp.data, n);
	a->have += n;
	return a->have == a->total ? 1 : 0;
}

static const struct prov_record *find(const struct prov_record *recs, size_t n, uint16_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (recs[i].id == id) {
			return &recs[i];
		}
	}
	return NULL;
}

void prov_rec_serve(const struct prov_record *recs, size_t n, const struct prov_pdu *req,
		    struct prov_pdu *rsp)
{
	const struct prov_record *r = find(recs, n, req->u.record_req.record_id);
	size_t off = req->u.record_req.offset;
	size_t len;

	memset(rsp, 0, sizeof(*rsp));
	rsp->type = PROV_RECORD_RESPONSE;
	rsp->u.record_rsp.record_id = req->u.record_req.record_id;
	rsp->u.record_rsp.offset = req->u.record_req.offset;
	if (!r) {
		rsp->u.record_rsp.status = PROV_RECORD_NOT_PRESENT;
		return;
	}
	rsp->u.record_rsp.total_len = (uint16_t)r->len;
	if (off >= r->len) {
		rsp->u.record_rsp.status = PROV_RECORD_OFFSET_OOB;
		return;
	}
	len = r->len - off;
	if (len > req->u.record_req.max_size) {
		len = req->u.record_req.max_size;
	}
	if (len > PROV_REC_FRAG_ADV) {
		len = PROV_REC_FRAG_ADV;
	}
	rsp->u.record_rsp.status = PROV_RECORD_SUCCESS;
	rsp->u.record_rsp.data = r->data + off;
	rsp->u.record_rsp.data_len = len;
}

int prov_rec_list(const struct prov_record *recs, size_t n, uint8_t *ids, size_t cap,
		  struct prov_pdu *list)
{
	if (n > cap / 2) {
		return -ENOSPC;
	}
	for (size_t i = 0; i < n; i++) {
		mesh_put_be16(ids + 2 * i, recs[i].id);
	}
	memset(list, 0, sizeof(*list));
	list->type = PROV_RECORDS_LIST;
	list->u.records_list.ids = n ? ids : NULL;
	list->u.records_list.n_ids = n;
	return 0;
}

static bool listed(const struct prov_pdu *list, uint16_t id)
{
	for (size_t i = 0; i < list->u.records_list.n_ids; i++) {
		if (mesh_get_be16(list->u.records_list.ids + 2 * i) == id) {
			return true;
		}
	}
	return false;
}

int prov_rec_select(const struct prov_pdu *list, uint16_t *out, size_t cap, bool *has_cert)
{
	size_t n = 0;
	uint32_t prev = PROV_REC_ID_DEV_CERT;

	*has_cert = listed(list, PROV_REC_ID_DEV_CERT);
	if (!*has_cert) {
		return 0;
	}
	out[n++] = PROV_REC_ID_DEV_CERT;
	/* Intermediates in ascending ID order, each once: the smallest above the last taken. */
	for (;;) {
		uint32_t next = UINT32_MAX;

		for (size_t i = 0; i < list->u.records_list.n_ids; i++) {
			uint16_t id = mesh_get_be16(list->u.records_list.ids + 2 * i);

			if (id > prev && id < next) {
				next = id;
			}
		}
		if (next == UINT32_MAX) {
			break;
		}
		if (n == cap) {
			return -E2BIG;
		}
		out[n++] = (uint16_t)next;
		prev = next;
	}
	if (listed(list, PROV_REC_ID_URI)) {
		if (n == cap) {
			return -E2BIG;
		}
		out[n++] = PROV_REC_ID_URI;
	}
	return (int)n;
}
