/*
 * Heartbeat (Mesh Protocol v1.1 §3.6.5.10): the transport control message
 * with opcode 0x0A, and the logarithmic fields of the Heartbeat
 * Publication and Subscription states (§4.2.17, §4.2.18).
 *
 * Parameters, 3 octets: RFU(1) ‖ InitTTL(7) ‖ Features(16, big-endian).
 * Features uses the MESH_FEAT_* bits of mesh/comp.h.
 */
#ifndef MESH_HEARTBEAT_H
#define MESH_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#define MESH_HB_OPCODE 0x0a
#define MESH_HB_LEN 3

/* Count/Period Log value meaning "indefinitely" / "0xFFFF or more" (§4.2.17, §4.2.18). */
#define MESH_HB_LOG_INF 0xff
#define MESH_HB_COUNT_INF 0xffff

struct mesh_hb {
	uint8_t init_ttl;  /* 0x00..0x7f */
	uint16_t features; /* features in use when sent */
};

/* Write the 3 parameter octets.  -EINVAL when init_ttl > 0x7f. */
int mesh_hb_encode(const struct mesh_hb *hb, uint8_t out[MESH_HB_LEN]);

/*
 * Parse the parameters of a Heartbeat control message.  -EBADMSG unless
 * len is 3.  The RFU bit is ignored, as receivers of RFU bits must (§3.6.5).
 */
int mesh_hb_decode(const uint8_t *p, size_t len, struct mesh_hb *hb);

/*
 * Hops a heartbeat travelled: InitTTL - RxTTL + 1 (§3.6.7).  -EBADMSG when
 * the received TTL is above the initial one; otherwise 1..0x80 in *hops.
 */
int mesh_hb_hops(uint8_t init_ttl, uint8_t rx_ttl, uint8_t *hops);

/*
 * Count Log → count (Publication Count Log §4.2.17, Subscription Count
 * Log §4.2.18): 0x00 → 0, 0x01..0x11 → 2^(n-1), 0xFF → MESH_HB_COUNT_INF.
 * The 16-bit count states cannot hold 2^16, so 0x11 gives 0xFFFE, the
 * largest finite count.  -EINVAL for 0x12..0xFE.
 */
int mesh_hb_count_from_log(uint8_t log, uint16_t *count);

/*
 * Count → Count Log for status messages: 0 → 0x00, MESH_HB_COUNT_INF →
 * 0xFF, otherwise n with 2^(n-1) <= count < 2^n.
 */
uint8_t mesh_hb_count_log(uint16_t count);

/* Period Log → seconds: 0x00 → 0 (disabled), 0x01..0x11 → 2^(n-1). -EINVAL above. */
int mesh_hb_period_from_log(uint8_t log, uint32_t *seconds);

/* Seconds → Period Log: 0 → 0x00, otherwise n with 2^(n-1) <= s < 2^n, at most 0x11. */
uint8_t mesh_hb_period_log(uint32_t seconds);

#endif /* MESH_HEARTBEAT_H */
