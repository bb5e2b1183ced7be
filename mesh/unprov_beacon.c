/*
 * Unprovisioned Device beacon codec (Mesh Protocol v1.1 §3.10.2).  See
 * unprov_beacon.h.
 */
#include "mesh/unprov_beacon.h"

#include <errno.h>
#include <string.h>

#include "mesh/buf.h"
#include "mesh/crypto.h"

int unprov_beacon_encode(const struct unprov_beacon *b, uint8_t *out, size_t cap, size_t *out_len)
{
	struct mesh_wbuf w;

	if (!b || !out || !out_len) {
		return -EINVAL;
	}
	mesh_wbuf_init(&w, out, cap);
	mesh_wbuf_u8(&w, UNPROV_BEACON_TYPE);
	mesh_wbuf_mem(&w, b->uuid, sizeof(b->uuid));
	mesh_wbuf_be16(&w, b->oob_info);
	if (b->has_uri_hash) {
		mesh_wbuf_mem(&w, b->uri_hash, sizeof(b->uri_hash));
	}
	if (w.err) {
		return -ENOSPC;
	}
	*out_len = w.len;
	return 0;
}

int unprov_beacon_decode(const uint8_t *data, size_t len, struct unprov_beacon *b)
{
	struct unprov_beacon v = {0};
	struct mesh_rbuf r;

	if (!b || (!data && len)) {
		return -EINVAL;
	}
	if (len != UNPROV_BEACON_LEN && len != UNPROV_BEACON_URI_LEN) {
		return -EBADMSG;
	}
	mesh_rbuf_init(&r, data, len);
	if (mesh_rbuf_u8(&r) != UNPROV_BEACON_TYPE) {
		return -EBADMSG;
	}
	mesh_rbuf_copy(&r, v.uuid, sizeof(v.uuid));
	v.oob_info = mesh_rbuf_be16(&r);
	if (r.len == sizeof(v.uri_hash)) {
		v.has_uri_hash = true;
		mesh_rbuf_copy(&r, v.uri_hash, sizeof(v.uri_hash));
	}
	if (!mesh_rbuf_done(&r)) {
		return -EBADMSG;
	}
	*b = v;
	return 0;
}

int unprov_beacon_uri_hash(const uint8_t *uri_data, size_t len, uint8_t hash[4])
{
	uint8_t full[16];
	int err;

	if (!hash || (!uri_data && len)) {
		return -EINVAL;
	}
	err = mesh_crypto_s1(uri_data, len, full);
	if (err) {
		return err;
	}
	memcpy(hash, full, 4);
	return 0;
}
