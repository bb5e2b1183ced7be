/*
 * libFuzzer target: Composition Data page parser (§4.2.2.1).  Whatever
 * parses must rebuild to exactly the input octets, since the layout has no
 * slack: any difference is a parser or builder bug.
 * Seeds in corpus/comp: the §8.10.1 sample and small multi-element pages.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh/comp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mesh_comp c;
	static uint8_t out[MESH_COMP_DATA_MAX];
	size_t len = 0;

	if (mesh_comp_parse(data, size, &c) != 0) {
		return 0;
	}
	if (mesh_comp_size(&c) != size || mesh_comp_build(&c, out, sizeof(out), &len) != 0 ||
	    len != size || memcmp(out, data, size) != 0) {
		abort();
	}
	return 0;
}
