#include "mesh/comp.h"

#include <errno.h>
#include <string.h>

#include "mesh/buf.h"

/* Element record header: Loc(2) ‖ NumS(1) ‖ NumV(1) (§4.2.2.1). */
#define ELEM_HDR_LEN 4

int mesh_comp_parse(const uint8_t *data, size_t len, struct mesh_comp *out)
{
	/*
	 * Parse into a scratch copy so that *out is left untouched when the
	 * page turns out to be malformed half-way through.
	 */
	struct mesh_comp c;
	struct mesh_rbuf b;

	if (!data || !out) {
		return -EINVAL;
	}
	if (len < MESH_COMP_HDR_LEN || len > MESH_COMP_DATA_MAX) {
		return -EBADMSG;
	}
	memset(&c, 0, sizeof(c));
	mesh_rbuf_init(&b, data, len);
	c.cid = mesh_rbuf_le16(&b);
	c.pid = mesh_rbuf_le16(&b);
	c.vid = mesh_rbuf_le16(&b);
	c.crpl = mesh_rbuf_le16(&b);
	c.features = mesh_rbuf_le16(&b);

	while (b.len > 0) {
		struct mesh_comp_elem *e;
		size_t i;

		/*
		 * The length bound on the page keeps every count within the
		 * arrays: an element needs 4 octets, a model 2 or 4, so these
		 * checks only fire on a logic error, never on input.
		 */
		if (c.n_elems >= MESH_COMP_ELEM_MAX) {
			return -EBADMSG;
		}
		e = &c.elems[c.n_elems];
		e->loc = mesh_rbuf_le16(&b);
		e->num_s = mesh_rbuf_u8(&b);
		e->num_v = mesh_rbuf_u8(&b);
		if (!mesh_rbuf_ok(&b)) {
			return -EBADMSG; /* element record cut short */
		}
		/* Check the declared counts against what is left before reading. */
		if ((size_t)e->num_s * 2 + (size_t)e->num_v * 4 > b.len) {
			return -EBADMSG;
		}
		if (c.n_sig + e->num_s > MESH_COMP_SIG_MAX ||
		    c.n_vnd + e->num_v > MESH_COMP_VND_MAX) {
			return -EBADMSG;
		}
		e->sig_off = (uint16_t)c.n_sig;
		e->vnd_off = (uint16_t)c.n_vnd;
		for (i = 0; i < e->num_s; i++) {
			c.sig[c.n_sig++] = mesh_rbuf_le16(&b);
		}
		for (i = 0; i < e->num_v; i++) {
			c.vnd[c.n_vnd].cid = mesh_rbuf_le16(&b);
			c.vnd[c.n_vnd].id = mesh_rbuf_le16(&b);
			c.n_vnd++;
		}
		c.n_elems++;
	}
	/* Every node has at least its primary element (§2.3.4). */
	if (!mesh_rbuf_done(&b) || c.n_elems == 0) {
		return -EBADMSG;
	}
	*out = c;
	return 0;
}

static int check(const struct mesh_comp *comp)
{
	size_t i;

	if (comp->n_elems == 0 || comp->n_elems > MESH_COMP_ELEM_MAX ||
	    comp->n_sig > MESH_COMP_SIG_MAX || comp->n_vnd > MESH_COMP_VND_MAX) {
		return -EINVAL;
	}
	for (i = 0; i < comp->n_elems; i++) {
		const struct mesh_comp_elem *e = &comp->elems[i];

		if ((size_t)e->sig_off + e->num_s > comp->n_sig ||
		    (size_t)e->vnd_off + e->num_v > comp->n_vnd) {
			return -EINVAL;
		}
	}
	return 0;
}

size_t mesh_comp_size(const struct mesh_comp *comp)
{
	size_t n = MESH_COMP_HDR_LEN;
	size_t i;

	for (i = 0; i < comp->n_elems && i < MESH_COMP_ELEM_MAX; i++) {
		n += ELEM_HDR_LEN + (size_t)comp->elems[i].num_s * 2 +
		     (size_t)comp->elems[i].num_v * 4;
	}
	return n;
}

int mesh_comp_build(const struct mesh_comp *comp, uint8_t *out, size_t cap, size_t *len)
{
	struct mesh_wbuf w;
	size_t i, j;
	int err;

	if (!comp || !out || !len) {
		return -EINVAL;
	}
	err = check(comp);
	if (err) {
		return err;
	}
	mesh_wbuf_init(&w, out, cap);
	mesh_wbuf_le16(&w, comp->cid);
	mesh_wbuf_le16(&w, comp->pid);
	mesh_wbuf_le16(&w, comp->vid);
	mesh_wbuf_le16(&w, comp->crpl);
	mesh_wbuf_le16(&w, comp->features);
	for (i = 0; i < comp->n_elems; i++) {
		const struct mesh_comp_elem *e = &comp->elems[i];

		mesh_wbuf_le16(&w, e->loc);
		mesh_wbuf_u8(&w, e->num_s);
		mesh_wbuf_u8(&w, e->num_v);
		for (j = 0; j < e->num_s; j++) {
			mesh_wbuf_le16(&w, comp->sig[e->sig_off + j]);
		}
		for (j = 0; j < e->num_v; j++) {
			mesh_wbuf_le16(&w, comp->vnd[e->vnd_off + j].cid);
			mesh_wbuf_le16(&w, comp->vnd[e->vnd_off + j].id);
		}
	}
	if (w.err) {
		return -ENOSPC;
	}
	*len = w.len;
	return 0;
}

int mesh_comp_add_elem(struct mesh_comp *comp, uint16_t loc)
{
	struct mesh_comp_elem *e;

	if (!comp) {
		return -EINVAL;
	}
	if (comp->n_elems >= MESH_COMP_ELEM_MAX ||
	    mesh_comp_size(comp) + ELEM_HDR_LEN > MESH_COMP_DATA_MAX) {
		return -ENOSPC;
	}
	e = &comp->elems[comp->n_elems++];
	e->loc = loc;
	e->num_s = 0;
	e->num_v = 0;
	e->sig_off = (uint16_t)comp->n_sig;
	e->vnd_off = (uint16_t)comp->n_vnd;
	return 0;
}

/*
 * Models are appended to the last element only, so that each element's
 * models stay contiguous in the shared arrays; a model added to an earlier
 * element would need the later elements' runs shifted.
 */
int mesh_comp_add_sig(struct mesh_comp *comp, uint16_t model_id)
{
	struct mesh_comp_elem *e;

	if (!comp || comp->n_elems == 0 || comp->n_elems > MESH_COMP_ELEM_MAX) {
		return -EINVAL;
	}
	e = &comp->elems[comp->n_elems - 1];
	if (e->num_s == UINT8_MAX || (size_t)e->sig_off + e->num_s != comp->n_sig) {
		return -EINVAL;
	}
	if (comp->n_sig >= MESH_COMP_SIG_MAX || mesh_comp_size(comp) + 2 > MESH_COMP_DATA_MAX) {
		return -ENOSPC;
	}
	comp->sig[comp->n_sig++] = model_id;
	e->num_s++;
	return 0;
}

int mesh_comp_add_vnd(struct mesh_comp *comp, uint16_t cid, uint16_t model_id)
{
	struct mesh_comp_elem *e;

	if (!comp || comp->n_elems == 0 || comp->n_elems > MESH_COMP_ELEM_MAX) {
		return -EINVAL;
	}
	e = &comp->elems[comp->n_elems - 1];
	if (e->num_v == UINT8_MAX || (size_t)e->vnd_off + e->num_v != comp->n_vnd) {
		return -EINVAL;
	}
	if (comp->n_vnd >= MESH_COMP_VND_MAX || mesh_comp_size(comp) + 4 > MESH_COMP_DATA_MAX) {
		return -ENOSPC;
	}
	comp->vnd[comp->n_vnd].cid = cid;
	comp->vnd[comp->n_vnd].id = model_id;
	comp->n_vnd++;
	e->num_v++;
	return 0;
}
