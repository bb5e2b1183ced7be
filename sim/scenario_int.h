/*
 * Internals shared by the files of scenario files' parser (scenario.h is
 * the interface): scenario.c reads the members of a scenario through the
 * walker in scenario_walk.c.  Every reader returns 0, or -EINVAL with a
 * message "PATH: what is wrong" in the walker's error buffer.
 */
#ifndef SIM_SCENARIO_INT_H
#define SIM_SCENARIO_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"

#define POS_MAX 100000.0 /* metres, any axis */

/* The path being read and where errors go (err may be NULL). */
struct scn_walk {
	char path[192];
	size_t plen;
	char *err;
	size_t cap;
};

/* Puts "PATH: message" in the error buffer; returns -EINVAL. */
int scn_fail(struct scn_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends ".key" (or "key" at the root) to the path; returns the old length. */
size_t scn_push_key(struct scn_walk *w, const char *key);

/* Appends "[i]" to the path; returns the old length. */
size_t scn_push_idx(struct scn_walk *w, size_t i);
/* Back to the path of length old (from a push). */
void scn_pop(struct scn_walk *w, size_t old);

/* Refuses a non-object, or an object with a member not in allowed (NULL-terminated). */
int scn_check_members(struct scn_walk *w, json_t *obj, const char *const *allowed);

/* The number at member key (absent is an error when required), within [lo, hi]. */
int scn_get_num(struct scn_walk *w, json_t *obj, const char *key, bool required, double lo,
		double hi, double *out);

/*
 * An unsigned integer value: a JSON integer, or a string "0x" followed by
 * 1..8 hex digits (identifiers such as company ids read better in hex).
 */
int scn_uint_value(struct scn_walk *w, json_t *v, uint32_t max, uint32_t *out);

/* Such a value at member key, when present (or required). */
int scn_get_uint(struct scn_walk *w, json_t *obj, const char *key, bool required, uint32_t max,
		 uint32_t *out);

/* The same, for a 16-bit value. */
int scn_get_u16(struct scn_walk *w, json_t *obj, const char *key, bool required, uint16_t *out);

/* A boolean at member key, when present. */
int scn_get_bool(struct scn_walk *w, json_t *obj, const char *key, bool *out);

/* A printable ASCII string of 1..max characters; *out is a new copy or stays NULL. */
int scn_get_str(struct scn_walk *w, json_t *obj, const char *key, bool required, size_t max,
		char **out);

/* A string of at most cap - 1 characters into dst, when present. */
int scn_get_name(struct scn_walk *w, json_t *obj, const char *key, char *dst, size_t cap);

/* Hex string (dashes allowed where `dashes`) of exactly one of the given lengths. */
int scn_get_hex(struct scn_walk *w, json_t *v, bool dashes, size_t len_a, size_t len_b,
		uint8_t *out, size_t *out_len);

/* {"x", "y", "z"} in metres, each within POS_MAX. */
int scn_get_pos(struct scn_walk *w, json_t *obj, const char *key, bool required,
		struct sim_pos *pos);

/* An array of names from `names` (index = bit) into a bit field. */
int scn_get_bits(struct scn_walk *w, json_t *obj, const char *key, const char *const *names,
		 uint16_t *out);

/*
 * scenario_cert.c: the device's member "certificate": {"chain": PEM file,
 * "key": PEM file}, when present, into d->cert_* (paths as given: relative
 * ones from meshsim's working directory).  The key must be the P-256 key of
 * the chain's first certificate.
 */
int scn_get_cert(struct scn_walk *w, json_t *dev, struct sim_scn_device *d);
/* Frees and wipes what scn_get_cert() filled. */
void scn_cert_clear(struct sim_scn_device *d);

#endif /* SIM_SCENARIO_INT_H */
