/*
 * What a bearer backend implements (gateway/bearer.h): a struct gw_bearer
 * at the start of its own struct, pointing to a const table of operations.
 * Not a public header: only gateway/bearer*.c include it.
 */
#ifndef GW_BEARER_INT_H
#define GW_BEARER_INT_H

#include "gateway/bearer.h"

struct gw_bearer_backend {
	int (*send)(struct gw_bearer *b, uint8_t ad_type, const uint8_t *data, size_t len,
		    uint8_t count, uint16_t interval_ms);
	bool (*ready)(const struct gw_bearer *b);
	void (*state)(const struct gw_bearer *b, struct gw_bearer_state *out);
	void (*free)(struct gw_bearer *b);
};

struct gw_bearer {
	const struct gw_bearer_backend *be;
};

#endif
