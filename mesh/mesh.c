#include "mesh/mesh.h"

#include "mesh/crypto.h"

int mesh_rng_fill(const struct mesh_rng *rng, uint8_t *buf, size_t len)
{
	if (rng && rng->fn) {
		return rng->fn(rng->ctx, buf, len);
	}
	return mesh_crypto_random(buf, len);
}
