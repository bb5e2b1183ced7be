/*
 * The strict JSON walker under scenario files (scenario_int.h): it keeps the
 * JSON path of the value it is looking at in a small buffer, so that every
 * error names the offending field, checks every object against the list of
 * members it may have, and reads numbers, integers (decimal, or "0x" hex
 * strings), booleans, printable strings, hex octets, positions and name
 * lists within the bounds its caller gives.  What the members mean is
 * scenario.c's.
 */
#include "sim/scenario_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int scn_fail(struct scn_walk *w, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->err && w->cap) {
		snprintf(w->err, w->cap, "%s: %s", w->plen ? w->path : "(root)", msg);
	}
	return -EINVAL;
}

/* Appends ".key" (or "key" at the root) to the path; returns the old length. */
size_t scn_push_key(struct scn_walk *w, const char *key)
{
	size_t old = w->plen;
	int n = snprintf(w->path + old, sizeof(w->path) - old, "%s%s", old ? "." : "", key);

	w->plen = n < 0 ? old : old + (size_t)n;
	if (w->plen >= sizeof(w->path)) {
		w->plen = sizeof(w->path) - 1;
	}
	return old;
}

size_t scn_push_idx(struct scn_walk *w, size_t i)
{
	size_t old = w->plen;
	int n = snprintf(w->path + old, sizeof(w->path) - old, "[%zu]", i);

	w->plen = n < 0 ? old : old + (size_t)n;
	if (w->plen >= sizeof(w->path)) {
		w->plen = sizeof(w->path) - 1;
	}
	return old;
}

void scn_pop(struct scn_walk *w, size_t old)
{
	w->plen = old;
	w->path[old] = '\0';
}

int scn_check_members(struct scn_walk *w, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		return scn_fail(w, "must be an object");
	}
	json_object_foreach(obj, key, v)
	{
		size_t i;

		for (i = 0; allowed[i]; i++) {
			if (!strcmp(key, allowed[i])) {
				break;
			}
		}
		if (!allowed[i]) {
			size_t old = scn_push_key(w, key);
			int err = scn_fail(w, "unknown member");

			scn_pop(w, old);
			return err;
		}
	}
	return 0;
}

/* The number at member key (required unless dflt_ok), within [lo, hi]. */
int scn_get_num(struct scn_walk *w, json_t *obj, const char *key, bool required, double lo,
		double hi, double *out)
{
	json_t *v = json_object_get(obj, key);
	size_t old;
	double d;
	int err = 0;

	if (!v) {
		if (required) {
			old = scn_push_key(w, key);
			err = scn_fail(w, "missing");
			scn_pop(w, old);
		}
		return err;
	}
	old = scn_push_key(w, key);
	if (!json_is_number(v)) {
		err = scn_fail(w, "must be a number");
	} else {
		d = json_number_value(v);
		if (!isfinite(d) || d < lo || d > hi) {
			err = scn_fail(w, "must be between %g and %g", lo, hi);
		} else {
			*out = d;
		}
	}
	scn_pop(w, old);
	return err;
}

/*
 * An unsigned integer value: a JSON integer, or a string "0x" followed by
 * 1..8 hex digits (identifiers such as company ids read better in hex).
 */
int scn_uint_value(struct scn_walk *w, json_t *v, uint32_t max, uint32_t *out)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0 || (uint64_t)i > max) {
			return scn_fail(w, "must be an integer from 0 to %u", (unsigned)max);
		}
		*out = (uint32_t)i;
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = strlen(s);
		unsigned long long x = 0;

		if (n < 3 || n > 10 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
			return scn_fail(w, "must be an integer or a \"0x\" hex string");
		}
		for (size_t i = 2; i < n; i++) {
			int c = s[i], d;

			if (c >= '0' && c <= '9') {
				d = c - '0';
			} else if (c >= 'a' && c <= 'f') {
				d = c - 'a' + 10;
			} else if (c >= 'A' && c <= 'F') {
				d = c - 'A' + 10;
			} else {
				return scn_fail(w, "bad hex digit");
			}
			x = x * 16 + (unsigned)d;
		}
		if (x > max) {
			return scn_fail(w, "must be at most 0x%x", (unsigned)max);
		}
		*out = (uint32_t)x;
		return 0;
	}
	return scn_fail(w, "must be an integer or a \"0x\" hex string");
}

int scn_get_uint(struct scn_walk *w, json_t *obj, const char *key, bool required, uint32_t max,
		 uint32_t *out)
{
	json_t *v = json_object_get(obj, key);
	size_t old = scn_push_key(w, key);
	int err = 0;

	if (v) {
		err = scn_uint_value(w, v, max, out);
	} else if (required) {
		err = scn_fail(w, "missing");
	}
	scn_pop(w, old);
	return err;
}

int scn_get_u16(struct scn_walk *w, json_t *obj, const char *key, bool required, uint16_t *out)
{
	uint32_t v = *out;
	int err = scn_get_uint(w, obj, key, required, 0xffff, &v);

	if (!err) {
		*out = (uint16_t)v;
	}
	return err;
}

int scn_get_bool(struct scn_walk *w, json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);
	size_t old;
	int err = 0;

	if (!v) {
		return 0;
	}
	old = scn_push_key(w, key);
	if (!json_is_boolean(v)) {
		err = scn_fail(w, "must be true or false");
	} else {
		*out = json_is_true(v);
	}
	scn_pop(w, old);
	return err;
}

/* A printable ASCII string of 1..max characters; *out is a new copy or stays NULL. */
int scn_get_str(struct scn_walk *w, json_t *obj, const char *key, bool required, size_t max,
		char **out)
{
	json_t *v = json_object_get(obj, key);
	size_t old = scn_push_key(w, key);
	int err = 0;

	if (!v) {
		err = required ? scn_fail(w, "missing") : 0;
	} else if (!json_is_string(v)) {
		err = scn_fail(w, "must be a string");
	} else {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);

		if (n < 1 || n > max) {
			err = scn_fail(w, "must be 1 to %zu characters", max);
		} else {
			for (size_t i = 0; i < n && !err; i++) {
				if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
					err = scn_fail(w, "must be printable ASCII");
				}
			}
			if (!err) {
				*out = strdup(s);
				err = *out ? 0 : -ENOMEM;
			}
		}
	}
	scn_pop(w, old);
	return err;
}

int scn_get_name(struct scn_walk *w, json_t *obj, const char *key, char *dst, size_t cap)
{
	char *s = NULL;
	int err = scn_get_str(w, obj, key, false, cap - 1, &s);

	if (!err && s) {
		memcpy(dst, s, strlen(s) + 1);
	}
	free(s);
	return err;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Hex string (dashes allowed where `dashes`) of exactly one of the given lengths. */
int scn_get_hex(struct scn_walk *w, json_t *v, bool dashes, size_t len_a, size_t len_b,
		uint8_t *out, size_t *out_len)
{
	const char *s;
	uint8_t tmp[32];
	size_t n = 0;
	int hi = -1;

	if (!json_is_string(v)) {
		return scn_fail(w, "must be a hex string");
	}
	for (s = json_string_value(v); *s; s++) {
		int d = hexval((unsigned char)*s);

		if (d < 0) {
			if (dashes && *s == '-') {
				continue;
			}
			return scn_fail(w, "bad hex digit");
		}
		if (hi < 0) {
			hi = d;
			continue;
		}
		if (n == sizeof(tmp)) {
			return scn_fail(w, "too long");
		}
		tmp[n++] = (uint8_t)(hi << 4 | d);
		hi = -1;
	}
	if (hi >= 0 || (n != len_a && n != len_b)) {
		if (len_a == len_b) {
			return scn_fail(w, "must be %zu octets of hex", len_a);
		}
		return scn_fail(w, "must be %zu or %zu octets of hex", len_a, len_b);
	}
	memcpy(out, tmp, n);
	*out_len = n;
	return 0;
}

int scn_get_pos(struct scn_walk *w, json_t *obj, const char *key, bool required,
		struct sim_pos *pos)
{
	static const char *const members[] = {"x", "y", "z", NULL};
	json_t *v = json_object_get(obj, key);
	size_t old = scn_push_key(w, key);
	int err = 0;

	if (!v) {
		err = required ? scn_fail(w, "missing") : 0;
	} else if (!(err = scn_check_members(w, v, members))) {
		struct sim_pos p;

		if (!(err = scn_get_num(w, v, "x", true, -POS_MAX, POS_MAX, &p.x)) &&
		    !(err = scn_get_num(w, v, "y", true, -POS_MAX, POS_MAX, &p.y)) &&
		    !(err = scn_get_num(w, v, "z", true, -POS_MAX, POS_MAX, &p.z))) {
			*pos = p;
		}
	}
	scn_pop(w, old);
	return err;
}

/* An array of names from `names` (index = bit) into a bit field. */
int scn_get_bits(struct scn_walk *w, json_t *obj, const char *key, const char *const *names,
		 uint16_t *out)
{
	json_t *v = json_object_get(obj, key), *it;
	size_t old = scn_push_key(w, key), i;
	uint16_t bits = 0;
	int err = 0;

	if (!v) {
		scn_pop(w, old);
		return 0;
	}
	if (!json_is_array(v)) {
		err = scn_fail(w, "must be an array of names");
	}
	json_array_foreach(v, i, it)
	{
		size_t o2, b;

		if (err) {
			break;
		}
		o2 = scn_push_idx(w, i);
		for (b = 0; names[b]; b++) {
			if (json_is_string(it) && !strcmp(json_string_value(it), names[b])) {
				break;
			}
		}
		if (!names[b]) {
			err = scn_fail(w, "unknown name");
		} else if (bits & (1u << b)) {
			err = scn_fail(w, "duplicate");
		}
		bits |= (uint16_t)(1u << b);
		scn_pop(w, o2);
	}
	scn_pop(w, old);
	if (!err) {
		*out = bits;
	}
	return err;
}

/* --- Air and ports ------------------------------------------------------ */
