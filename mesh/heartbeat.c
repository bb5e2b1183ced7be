#include "mesh/heartbeat.h"

#include <errno.h>

#include "mesh/buf.h"

/* Largest Count/Period Log with a finite meaning (§4.2.17). */
#define LOG_MAX 0x11

int mesh_hb_encode(const struct mesh_hb *hb, uint8_t out[MESH_HB_LEN])
{
	if (!hb || !out || hb->init_ttl > 0x7f) {
		return -EINVAL;
	}
	out[0] = hb->init_ttl; /* RFU bit 7 stays 0 */
	mesh_put_be16(out + 1, hb->features);
	return 0;
}

int mesh_hb_decode(const uint8_t *p, size_t len, struct mesh_hb *hb)
{
	if (!hb || (len && !p)) {
		return -EINVAL;
	}
	if (len != MESH_HB_LEN) {
		return -EBADMSG;
	}
	hb->init_ttl = p[0] & 0x7f;
	hb->features = mesh_get_be16(p + 1);
	return 0;
}

int mesh_hb_hops(uint8_t init_ttl, uint8_t rx_ttl, uint8_t *hops)
{
	init_ttl &= 0x7f;
	if (!hops) {
		return -EINVAL;
	}
	if (rx_ttl > init_ttl) {
		return -EBADMSG;
	}
	*hops = (uint8_t)(init_ttl - rx_ttl + 1);
	return 0;
}

/* floor(log2(v)) + 1 for v > 0: the n with 2^(n-1) <= v < 2^n. */
static uint8_t log_of(uint32_t v)
{
	uint8_t n = 0;

	while (v) {
		n++;
		v >>= 1;
	}
	return n;
}

int mesh_hb_count_from_log(uint8_t log, uint16_t *count)
{
	if (!count) {
		return -EINVAL;
	}
	if (log == MESH_HB_LOG_INF) {
		*count = MESH_HB_COUNT_INF;
	} else if (log == LOG_MAX) {
		*count = MESH_HB_COUNT_INF - 1;
	} else if (log < LOG_MAX) {
		*count = log ? (uint16_t)(1u << (log - 1)) : 0;
	} else {
		return -EINVAL;
	}
	return 0;
}

uint8_t mesh_hb_count_log(uint16_t count)
{
	return count == MESH_HB_COUNT_INF ? MESH_HB_LOG_INF : log_of(count);
}

int mesh_hb_period_from_log(uint8_t log, uint32_t *seconds)
{
	if (!seconds || log > LOG_MAX) {
		return -EINVAL;
	}
	*seconds = log ? (uint32_t)1 << (log - 1) : 0;
	return 0;
}

uint8_t mesh_hb_period_log(uint32_t seconds)
{
	uint8_t n = log_of(seconds);

	return n > LOG_MAX ? LOG_MAX : n;
}
