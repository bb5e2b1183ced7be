/*
 * Composition Data codec (Mesh Protocol v1.1 §4.2.2.1; formats.md §6):
 * pages 0 and 128, which share one layout.
 *
 *   CID(2) ‖ PID(2) ‖ VID(2) ‖ CRPL(2) ‖ Features(2) ‖ Elements...
 *   Element: Loc(2) ‖ NumS(1) ‖ NumV(1) ‖ NumS × SIG Model ID(2) ‖
 *            NumV × (Company ID(2) ‖ Model ID(2))
 *
 * Every field is little-endian.  A page travels in one Composition Data
 * Status message (opcode 0x02, then the Page octet), so it is at most
 * MESH_COMP_DATA_MAX octets; the fixed capacities below follow from that
 * bound, which is why struct mesh_comp needs no allocation and no free
 * function: the caller owns it (stack or embedded) and may copy it freely,
 * since elements refer to their models by offset, not by pointer.
 */
#ifndef MESH_COMP_H
#define MESH_COMP_H

#include <stddef.h>
#include <stdint.h>

/* Access payload (380) minus the 1-octet opcode 0x02 and the Page octet. */
#define MESH_COMP_DATA_MAX 378
#define MESH_COMP_HDR_LEN 10
/* Every element takes at least 4 octets, every SIG model 2, every vendor model 4. */
#define MESH_COMP_ELEM_MAX ((MESH_COMP_DATA_MAX - MESH_COMP_HDR_LEN) / 4)
#define MESH_COMP_SIG_MAX ((MESH_COMP_DATA_MAX - MESH_COMP_HDR_LEN - 4) / 2)
#define MESH_COMP_VND_MAX ((MESH_COMP_DATA_MAX - MESH_COMP_HDR_LEN - 4) / 4)

/* Features bits (§4.2.2.1, Table 4.3); also used by Heartbeat (§3.6.7.2). */
#define MESH_FEAT_RELAY 0x0001
#define MESH_FEAT_PROXY 0x0002
#define MESH_FEAT_FRIEND 0x0004
#define MESH_FEAT_LOW_POWER 0x0008

struct mesh_comp_vnd {
	uint16_t cid; /* Company ID */
	uint16_t id;  /* Model ID within the company */
};

struct mesh_comp_elem {
	uint16_t loc;  /* GATT Bluetooth Namespace Descriptor location */
	uint8_t num_s; /* SIG models: comp->sig[sig_off .. sig_off + num_s) */
	uint8_t num_v; /* vendor models: comp->vnd[vnd_off .. vnd_off + num_v) */
	uint16_t sig_off;
	uint16_t vnd_off;
};

struct mesh_comp {
	uint16_t cid;
	uint16_t pid;
	uint16_t vid;
	uint16_t crpl;
	uint16_t features; /* MESH_FEAT_* bits; bits 4..15 RFU, kept as received */
	size_t n_elems;
	struct mesh_comp_elem elems[MESH_COMP_ELEM_MAX];
	size_t n_sig; /* SIG models of all elements, element after element */
	uint16_t sig[MESH_COMP_SIG_MAX];
	size_t n_vnd;
	struct mesh_comp_vnd vnd[MESH_COMP_VND_MAX];
};

/*
 * Parse one page (the bytes after the Page octet of Composition Data
 * Status).  Returns 0, or -EBADMSG when the data is shorter than the header,
 * longer than MESH_COMP_DATA_MAX, holds no element, ends inside an element
 * record, or an element's NumS/NumV run past the end.  -EINVAL for NULL
 * arguments.  *out is written only on success.
 */
int mesh_comp_parse(const uint8_t *data, size_t len, struct mesh_comp *out);

/*
 * Serialise comp into out (capacity cap) and store the length in *len.
 * Returns 0, -EINVAL when comp is inconsistent (no element, counts or
 * offsets outside the arrays), or -ENOSPC when cap is too small.
 */
int mesh_comp_build(const struct mesh_comp *comp, uint8_t *out, size_t cap, size_t *len);

/*
 * Append an element with no models / a model to the last element, for
 * building a page.  Return 0, -ENOSPC when a capacity or the
 * MESH_COMP_DATA_MAX octets would be exceeded, -EINVAL when there is no
 * element yet or the element already has 255 models of that kind.
 */
int mesh_comp_add_elem(struct mesh_comp *comp, uint16_t loc);
int mesh_comp_add_sig(struct mesh_comp *comp, uint16_t model_id);
int mesh_comp_add_vnd(struct mesh_comp *comp, uint16_t cid, uint16_t model_id);

/* Octets that mesh_comp_build() would write. */
size_t mesh_comp_size(const struct mesh_comp *comp);

#endif /* MESH_COMP_H */
