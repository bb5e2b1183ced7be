/* The bearer interface: dispatch to the backend's table (gateway/bearer_int.h). */
#include <string.h>

#include "gateway/bearer_int.h"

const char *gw_bearer_status_name(enum gw_bearer_status s)
{
	switch (s) {
	case GW_BEARER_STARTING:
		return "starting";
	case GW_BEARER_READY:
		return "ready";
	case GW_BEARER_DOWN:
		return "down-reopening";
	case GW_BEARER_FAILED:
		return "failed";
	}
	return "?";
}

int gw_bearer_send(struct gw_bearer *b, uint8_t ad_type, const uint8_t *data, size_t len,
		   uint8_t count, uint16_t interval_ms)
{
	return b->be->send(b, ad_type, data, len, count, interval_ms);
}

int gw_bearer_ready(const struct gw_bearer *b)
{
	return b->be->ready(b);
}

void gw_bearer_state(const struct gw_bearer *b, struct gw_bearer_state *out)
{
	memset(out, 0, sizeof(*out));
	b->be->state(b, out);
}

void gw_bearer_free(struct gw_bearer *b)
{
	if (b) {
		b->be->free(b);
	}
}
