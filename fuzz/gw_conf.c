/* libFuzzer target: the configuration file parser (gateway/conf.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct gw_conf c;
	char err[256];

	if (!text) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	gw_conf_default(&c);
	if (gw_conf_parse(text, &c, err, sizeof(err)) == 0) {
		/* Whatever is accepted is internally consistent. */
		if (c.address < c.uni_low || c.address > c.uni_high || !c.database[0] ||
		    c.max_sessions < 1) {
			abort();
		}
	}
	free(text);
	return 0;
}
