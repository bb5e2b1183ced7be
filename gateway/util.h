/*
 * Small helpers every gateway file may use (a leaf: it calls nothing else
 * of gateway/ but the JSON writer): wall-clock time, hex, and the JSON shapes of times, nodes,
 * operations and the bearer's state as the REST API shows them.
 * Returned json_t values are new references owned by the caller.
 */
#ifndef GW_UTIL_H
#define GW_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/bearer.h"
#include "gateway/cmdq.h"
#include "gateway/jsonw.h"
#include "storage/store.h"

/* Milliseconds since the epoch (CLOCK_REALTIME): record and API timestamps. */
uint64_t gw_wall_ms(void);
/* Lower-case hex of p[0..len) into out (2 * len + 1 octets); returns out. */
char *gw_hex(const uint8_t *p, size_t len, char *out);
/* Exactly 2 * len hex digits into out; -EINVAL otherwise. */
int gw_unhex(const char *s, uint8_t *out, size_t len);
/* RFC 3339 UTC string with milliseconds. */
json_t *gw_time_json(uint64_t wall_ms);
/* Room for gw_time_str()'s text and its NUL. */
#define GW_TIME_STR_MAX 40
/* The text of gw_time_json() into out; returns its length. */
size_t gw_time_str(uint64_t wall_ms, char out[GW_TIME_STR_MAX]);
/* The API's node object (GW_CMD_NODE_LIST). */
json_t *gw_node_json(const struct store_node *n);
/* The same object as JSON text, as json_dumps(gw_node_json(n), JSON_COMPACT) prints it. */
void gw_node_print(struct gw_jw *w, const struct store_node *n);
/* gw_node_print() without its closing brace, for a caller that adds keys after updated_at. */
void gw_node_print_open(struct gw_jw *w, const struct store_node *n);
struct store_zone_place;
/* A node's zone as the API shows it: {id, name, group, pending}, or JSON null (store_zone.h). */
json_t *gw_node_zone_json(struct store *st, uint16_t node);
/* The same from a place the caller read (NULL: JSON null). */
json_t *gw_zone_place_json(const struct store_zone_place *p);
/* The same as JSON text (NULL: null). */
void gw_zone_place_print(struct gw_jw *w, const struct store_zone_place *p);
/* The API's operation object (target: node address, or -1 to take it from the result). */
json_t *gw_op_json(const struct store_op *op, int target);
/* The bearer's state as the API shows it (kind, name, state, reason, controller). */
json_t *gw_bearer_state_json(const struct gw_bearer *b);

/* A command's "id" path parameter as a positive decimal; 0 when it is not one. */
uint64_t gw_cmd_id_arg(const struct gw_cmd *c);

/*
 * Fault injection for the crash tests: when the environment variable
 * MESHGW_CRASH_AT is "NAME" or "NAME:N", the process kills itself with
 * SIGKILL the first (or Nth) time it passes point NAME.  A no-op otherwise.
 * Points sit where a crash is hardest to survive (tests/integration/crash.test.mjs).
 */
void gw_crash_point(const char *name);

#endif
