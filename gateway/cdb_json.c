/*
 * The bounded readers shared by the Mesh CDB import (cdb.c, cdb_node.c):
 * the JSON pointer of the member being read, the first error recorded
 * against it, and one reader per format the profile uses.
 */
#include "gateway/cdb.h"
#include "gateway/cdb_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t cdb_push(struct cx *c, const char *key)
{
	size_t old = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "/%s", key);

	if (n > 0) {
		c->len =
		    c->len + (size_t)n < sizeof(c->path) ? c->len + (size_t)n : sizeof(c->path) - 1;
	}
	return old;
}

size_t cdb_push_i(struct cx *c, size_t i)
{
	char k[24];

	snprintf(k, sizeof(k), "%zu", i);
	return cdb_push(c, k);
}

void cdb_pop(struct cx *c, size_t old)
{
	c->len = old;
	c->path[old] = '\0';
}

static int vfail(struct cx *c, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static int vfail(struct cx *c, const char *fmt, va_list ap)
{
	char msg[200];

	if (!c->failed) {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		snprintf(c->err, c->cap, "%s: %s", c->len ? c->path : "/", msg);
		c->failed = true;
	}
	return -EINVAL;
}

int cdb_fail(struct cx *c, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(c, fmt, ap);
	va_end(ap);
	return r;
}

int cdb_fail_at(struct cx *c, const char *key, const char *fmt, ...)
{
	size_t o = cdb_push(c, key);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(c, fmt, ap);
	va_end(ap);
	cdb_pop(c, o);
	return r;
}

/* --- Scalars ------------------------------------------------------------- */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9') {
		return ch - '0';
	}
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Exactly 2 * n hex digits into out. */
bool cdb_unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			return false;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* Member key of obj; NULL when absent (and an error when required). */
json_t *cdb_member(struct cx *c, const json_t *obj, const char *key, bool required)
{
	json_t *v = json_object_get(obj, key);

	if (!v && required) {
		cdb_fail_at(c, key, "required member missing");
	}
	return v;
}

/* The member key of obj; NULL when absent, *r then -EINVAL when required (error recorded), else 0.
 */
static json_t *scalar(struct cx *c, const json_t *obj, const char *key, bool required,
		      bool *present, int *r)
{
	json_t *v = cdb_member(c, obj, key, required);

	if (present) {
		*present = v != NULL;
	}
	*r = v || !required ? 0 : -EINVAL;
	return v;
}

int cdb_get_hex4(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		 uint16_t *out)
{
	uint8_t b[2];
	int r;
	json_t *v = scalar(c, obj, key, required, present, &r);

	if (!v) {
		return r;
	}
	if (!json_is_string(v) ||
	    !cdb_unhex(json_string_value(v), json_string_length(v), b, sizeof(b))) {
		return cdb_fail_at(c, key, "must be 4 hex digits");
	}
	*out = (uint16_t)(b[0] << 8 | b[1]);
	return 0;
}

/* A 16-bit address, or a 32-hex-digit Label UUID when label is not NULL. */
int cdb_addr_or_label(struct cx *c, const json_t *v, uint16_t *addr, bool *has_label,
		      uint8_t label[16])
{
	uint8_t b[2];

	if (json_is_string(v) && json_string_length(v) == 4 &&
	    cdb_unhex(json_string_value(v), 4, b, sizeof(b))) {
		*addr = (uint16_t)(b[0] << 8 | b[1]);
		if (has_label) {
			*has_label = false;
		}
		return 0;
	}
	if (label && json_is_string(v) &&
	    cdb_unhex(json_string_value(v), json_string_length(v), label, 16)) {
		*has_label = true;
		*addr = 0;
		return 0;
	}
	return cdb_fail(c, label ? "must be 4 hex digits or a 32-hex-digit Label UUID"
				 : "must be 4 hex digits");
}

int cdb_get_key(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		uint8_t out[16])
{
	int r;
	json_t *v = scalar(c, obj, key, required, present, &r);

	if (v && (!json_is_string(v) ||
		  !cdb_unhex(json_string_value(v), json_string_length(v), out, 16))) {
		return cdb_fail_at(c, key, "must be 32 hex digits");
	}
	return r;
}

/* A UUID: 32 hex digits, or 8-4-4-4-12 with dashes (nRF Mesh, BlueZ). */
int cdb_get_uuid(struct cx *c, const json_t *obj, const char *key, uint8_t out[16])
{
	const char *s;
	char hex[33];
	size_t len, k = 0;
	int r;
	json_t *v = scalar(c, obj, key, true, NULL, &r);

	if (!v) {
		return r;
	}
	s = json_string_value(v);
	len = s ? json_string_length(v) : 0;
	if (s && len == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-') {
		for (size_t i = 0; i < len && k < 32; i++) {
			if (i != 8 && i != 13 && i != 18 && i != 23) {
				hex[k++] = s[i];
			}
		}
	} else if (s && len == 32) {
		memcpy(hex, s, 32);
		k = 32;
	}
	if (k != 32 || !cdb_unhex(hex, 32, out, 16)) {
		return cdb_fail_at(c, key,
				   "must be a UUID (32 hex digits, dashes allowed as 8-4-4-4-12)");
	}
	return 0;
}

int cdb_get_int(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		long long lo, long long hi, long long *out)
{
	int r;
	json_t *v = scalar(c, obj, key, required, present, &r);

	if (!v) {
		return r;
	}
	if (!json_is_integer(v)) {
		return cdb_fail_at(c, key, "must be an integer");
	}
	if (json_integer_value(v) < lo || json_integer_value(v) > hi) {
		return cdb_fail_at(c, key, "must be %lld..%lld", lo, hi);
	}
	*out = json_integer_value(v);
	return 0;
}

int cdb_get_bool(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		 bool *out)
{
	int r;
	json_t *v = scalar(c, obj, key, required, present, &r);

	if (v && !json_is_boolean(v)) {
		return cdb_fail_at(c, key, "must be true or false");
	}
	if (v) {
		*out = json_is_true(v);
	}
	return r;
}

/* A string copied into out (STORE_NAME_MAX), cut at a UTF-8 character boundary. */
int cdb_get_name(struct cx *c, const json_t *obj, const char *key, bool required, char *out)
{
	json_t *v = cdb_member(c, obj, key, required);
	size_t len;
	const char *s;

	out[0] = '\0';
	if (!v) {
		return required ? -EINVAL : 0;
	}
	if (!json_is_string(v)) {
		cdb_fail_at(c, key, "must be a string");
		return -EINVAL;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > STORE_NAME_MAX - 1) {
		len = STORE_NAME_MAX - 1;
		while (len && ((unsigned char)s[len] & 0xc0) == 0x80) {
			len--;
		}
	}
	if (memchr(s, '\0', len)) {
		cdb_fail_at(c, key, "must not contain NUL");
		return -EINVAL;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* An array member, at most max items (NULL and no error when optional and absent). */
json_t *cdb_get_array(struct cx *c, const json_t *obj, const char *key, bool required, size_t max)
{
	json_t *v = cdb_member(c, obj, key, required);
	size_t o;

	if (!v) {
		return NULL;
	}
	o = cdb_push(c, key);
	if (!json_is_array(v)) {
		cdb_fail(c, "must be an array");
		v = NULL;
	} else if (json_array_size(v) > max) {
		cdb_fail(c, "at most %zu items", max);
		v = NULL;
	}
	cdb_pop(c, o);
	return v;
}

int cdb_need_object(struct cx *c, const json_t *v)
{
	return json_is_object(v) ? 0 : cdb_fail(c, "must be an object");
}

int cdb_each(struct cx *c, const json_t *obj, const struct cdb_walk *w, void **items, size_t *n,
	     cdb_item_fn fn, void *arg)
{
	json_t *arr = cdb_get_array(c, obj, w->key, w->required, w->max), *v;
	size_t k, i, o;
	int r = 0;

	if (n) {
		*n = 0;
	}
	if (!arr) {
		return c->failed ? -EINVAL : 0;
	}
	k = json_array_size(arr) + (w->spare ? 1 : 0);
	if (w->size && k) {
		*items = calloc(k, w->size);
		if (!*items) {
			return -ENOMEM;
		}
	}
	o = cdb_push(c, w->key);
	json_array_foreach(arr, i, v)
	{
		size_t oi = cdb_push_i(c, i);

		if (n) {
			*n = i + 1;
		}
		r = fn(c, v, i, arg);
		cdb_pop(c, oi);
		if (r) {
			break;
		}
	}
	cdb_pop(c, o);
	return r;
}

struct index_list {
	bool objects;
	uint16_t **out;
};

static int parse_index(struct cx *c, const json_t *v, size_t i, void *arg)
{
	const struct index_list *l = arg;
	long long x = 0;
	int r;

	if (l->objects) {
		r = cdb_need_object(c, v);
		if (!r) {
			r = cdb_get_int(c, v, "index", true, NULL, 0, 4095, &x);
		}
		if (!r && json_object_get(v, "updated") &&
		    !json_is_boolean(json_object_get(v, "updated"))) {
			r = cdb_fail_at(c, "updated", "must be true or false");
		}
	} else if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		   json_integer_value(v) > 4095) {
		r = cdb_fail(c, "must be a key index 0..4095");
	} else {
		x = json_integer_value(v);
		r = 0;
	}
	if (!r) {
		(*l->out)[i] = (uint16_t)x;
	}
	return r;
}

/* A list of key indexes given as {"index": N, ...} objects, or as plain integers (bind). */
int cdb_index_list(struct cx *c, const json_t *obj, const char *key, bool objects, uint16_t **out,
		   size_t *n)
{
	const struct cdb_walk w = {key, true, objects ? CDB_MAX_KEYS : CDB_MAX_LIST,
				   sizeof(uint16_t), false};
	struct index_list l = {objects, out};

	*out = NULL;
	return cdb_each(c, obj, &w, (void **)out, n, parse_index, &l);
}
