/*
 * Helpers for tests, benchmarks and fuzz targets: hex strings and access to
 * the specification's sample data in tests/vectors/vectors.json (a copy of
 * ../shared/mesh-reference/vectors.json).
 */
#ifndef TESTS_UTIL_TV_H
#define TESTS_UTIL_TV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decode hex (whitespace allowed) into out (capacity cap).  Returns the
 * number of octets, or -1 on a bad digit, an odd count or overflow.
 */
int tv_hex(const char *hex, uint8_t *out, size_t cap);

/* Format len octets as lower-case hex into a static per-thread buffer. */
const char *tv_tohex(const uint8_t *p, size_t len);

/*
 * The parsed vectors.json, loaded once; borrowed, never freed.  Aborts the
 * process with a message when the file is missing or malformed.
 */
json_t *tv_root(void);

/*
 * Walk a path from the root: "network_pdus.messages" or
 * "security_functions[id=s1_test]" (an array element whose member `id` is
 * the given string; any member name may be used: "[step=Link ACK]").
 * Returns a borrowed reference or NULL.
 */
json_t *tv_get(const char *path);

/* Member `key` of obj as a string, or NULL. */
const char *tv_str(json_t *obj, const char *key);

/* Member `key` of obj decoded from hex into out; returns octets or -1. */
int tv_bytes(json_t *obj, const char *key, uint8_t *out, size_t cap);

/* Member `key` of obj as a hex number (e.g. "12345678", "9ab"), or `dflt`. */
unsigned long tv_hexnum(json_t *obj, const char *key, unsigned long dflt);

/* Deterministic RNG for tests (xorshift); ctx is a uint64_t state. */
int tv_rng(void *ctx, uint8_t *buf, size_t len);

#endif
