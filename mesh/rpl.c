#include "mesh/rpl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/mesh.h"

/*
 * Entries are kept sorted by src so a lookup is a binary search; inserts
 * shift the tail, which is cheap next to the network layer's AES work for the
 * same PDU and only happens once per new source.
 */
struct rpl_entry {
	uint16_t src;
	uint32_t iv_index;
	uint32_t seq;
	uint64_t seg; /* newest completed SeqAuth + 1; 0: none (not persisted) */
};

struct mesh_rpl {
	size_t cap;
	size_t n;
	struct rpl_entry e[];
};

struct mesh_rpl *mesh_rpl_new(size_t capacity)
{
	struct mesh_rpl *rpl;

	if (capacity == 0 || capacity > 0x8000) {
		return NULL;
	}
	rpl = calloc(1, sizeof(*rpl) + capacity * sizeof(rpl->e[0]));
	if (!rpl) {
		return NULL;
	}
	rpl->cap = capacity;
	return rpl;
}

void mesh_rpl_free(struct mesh_rpl *rpl)
{
	free(rpl);
}

/* Index of src, or of where it would be inserted; *found says which. */
static size_t find(const struct mesh_rpl *rpl, uint16_t src, bool *found)
{
	size_t lo = 0, hi = rpl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rpl->e[mid].src < src) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	*found = lo < rpl->n && rpl->e[lo].src == src;
	return lo;
}

/* SeqAuth-style 56-bit ordering key: IV Index above the 24-bit SEQ. */
static uint64_t key(uint32_t iv_index, uint32_t seq)
{
	return ((uint64_t)iv_index << 24) | seq;
}

static int check_args(const struct mesh_rpl *rpl, uint16_t src, uint32_t seq)
{
	if (!rpl || !mesh_addr_is_unicast(src) || seq > MESH_SEQ_MAX) {
		return -EINVAL;
	}
	return 0;
}

int mesh_rpl_check(const struct mesh_rpl *rpl, uint16_t src, uint32_t iv_index, uint32_t seq)
{
	bool found;
	size_t i;
	int err = check_args(rpl, src, seq);

	if (err) {
		return err;
	}
	i = find(rpl, src, &found);
	if (!found) {
		return rpl->n < rpl->cap ? 0 : -ENOSPC;
	}
	if (key(iv_index, seq) <= key(rpl->e[i].iv_index, rpl->e[i].seq)) {
		return -EALREADY;
	}
	return 0;
}

int mesh_rpl_check_seg(const struct mesh_rpl *rpl, uint16_t src, uint32_t iv_index, uint32_t seq,
		       uint64_t seq_auth)
{
	int err = mesh_rpl_check(rpl, src, iv_index, seq);
	bool found = false;
	size_t i = err ? 0 : find(rpl, src, &found);

	return err ? err : found && seq_auth < rpl->e[i].seg ? -EALREADY : 0;
}

int mesh_rpl_update_seg(struct mesh_rpl *rpl, uint16_t src, uint32_t iv_index, uint32_t seq,
			uint64_t seq_auth)
{
	int err = mesh_rpl_update(rpl, src, iv_index, seq);
	bool found = false;
	size_t i = err ? 0 : find(rpl, src, &found);

	/* Stored plus one, so that 0 can mean "no segmented message yet". */
	if (found && seq_auth + 1 > rpl->e[i].seg) {
		rpl->e[i].seg = seq_auth + 1;
	}
	return err;
}

int mesh_rpl_update(struct mesh_rpl *rpl, uint16_t src, uint32_t iv_index, uint32_t seq)
{
	bool found;
	size_t i;
	int err = check_args(rpl, src, seq);

	if (err) {
		return err;
	}
	i = find(rpl, src, &found);
	if (found) {
		if (key(iv_index, seq) > key(rpl->e[i].iv_index, rpl->e[i].seq)) {
			rpl->e[i].iv_index = iv_index;
			rpl->e[i].seq = seq;
		}
		return 0;
	}
	if (rpl->n == rpl->cap) {
		return -ENOSPC;
	}
	memmove(&rpl->e[i + 1], &rpl->e[i], (rpl->n - i) * sizeof(rpl->e[0]));
	rpl->e[i] = (struct rpl_entry){.src = src, .iv_index = iv_index, .seq = seq};
	rpl->n++;
	return 0;
}

/* Index of src in *i: 0, -ENOENT when src has no entry, -EINVAL without a list. */
static int lookup(const struct mesh_rpl *rpl, uint16_t src, size_t *i)
{
	bool found;

	if (!rpl) {
		return -EINVAL;
	}
	*i = find(rpl, src, &found);
	return found ? 0 : -ENOENT;
}

/* Copy an entry to whichever out-parameters the caller asked for. */
static void put(const struct rpl_entry *e, uint16_t *src, uint32_t *iv_index, uint32_t *seq)
{
	if (src) {
		*src = e->src;
	}
	if (iv_index) {
		*iv_index = e->iv_index;
	}
	if (seq) {
		*seq = e->seq;
	}
}

int mesh_rpl_get(const struct mesh_rpl *rpl, uint16_t src, uint32_t *iv_index, uint32_t *seq)
{
	size_t i;
	int err = lookup(rpl, src, &i);

	if (err) {
		return err;
	}
	put(&rpl->e[i], NULL, iv_index, seq);
	return 0;
}

int mesh_rpl_remove(struct mesh_rpl *rpl, uint16_t src)
{
	size_t i;
	int err = lookup(rpl, src, &i);

	if (err) {
		return err;
	}
	memmove(&rpl->e[i], &rpl->e[i + 1], (rpl->n - i - 1) * sizeof(rpl->e[0]));
	rpl->n--;
	return 0;
}

size_t mesh_rpl_prune(struct mesh_rpl *rpl, uint32_t oldest_iv)
{
	size_t r, w = 0;

	if (!rpl) {
		return 0;
	}
	for (r = 0; r < rpl->n; r++) {
		if (rpl->e[r].iv_index >= oldest_iv) {
			rpl->e[w++] = rpl->e[r];
		}
	}
	r = rpl->n - w;
	rpl->n = w;
	return r;
}

size_t mesh_rpl_count(const struct mesh_rpl *rpl)
{
	return rpl ? rpl->n : 0;
}

size_t mesh_rpl_capacity(const struct mesh_rpl *rpl)
{
	return rpl ? rpl->cap : 0;
}

int mesh_rpl_entry(const struct mesh_rpl *rpl, size_t i, uint16_t *src, uint32_t *iv_index,
		   uint32_t *seq)
{
	if (!rpl || i >= rpl->n) {
		return -ENOENT;
	}
	put(&rpl->e[i], src, iv_index, seq);
	return 0;
}
