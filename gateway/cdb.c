/*
 * Mesh CDB import side (cdb.h): the shape check that turns a JSON document
 * into records, and the consistency check of those records.
 *
 * Every error names the JSON pointer of the member at fault.  Unknown
 * members are ignored, as the public tools do (BlueZ keeps "token" and
 * "ivIndex" beside the profile's members).
 */
#include "gateway/cdb.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cx {
	char *err;
	size_t cap;
	char path[256];
	size_t len;
	bool failed;
};

static size_t push(struct cx *c, const char *key)
{
	size_t old = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "/%s", key);

	if (n > 0) {
		c->len =
		    c->len + (size_t)n < sizeof(c->path) ? c->len + (size_t)n : sizeof(c->path) - 1;
	}
	return old;
}

static size_t push_i(struct cx *c, size_t i)
{
	char k[24];

	snprintf(k, sizeof(k), "%zu", i);
	return push(c, k);
}

static void pop(struct cx *c, size_t old)
{
	c->len = old;
	c->path[old] = '\0';
}

static int fail(struct cx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct cx *c, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (!c->failed) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(c->err, c->cap, "%s: %s", c->len ? c->path : "/", msg);
		c->failed = true;
	}
	return -EINVAL;
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
static bool unhex(const char *s, size_t len, uint8_t *out, size_t n)
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
static json_t *member(struct cx *c, const json_t *obj, const char *key, bool required)
{
	json_t *v = json_object_get(obj, key);

	if (!v && required) {
		size_t o = push(c, key);

		fail(c, "required member missing");
		pop(c, o);
	}
	return v;
}

static int get_hex4(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		    uint16_t *out)
{
	json_t *v = member(c, obj, key, required);
	uint8_t b[2];
	size_t o;
	int r = 0;

	if (present) {
		*present = v != NULL;
	}
	if (!v) {
		return required ? -EINVAL : 0;
	}
	o = push(c, key);
	if (!json_is_string(v) ||
	    !unhex(json_string_value(v), json_string_length(v), b, sizeof(b))) {
		r = fail(c, "must be 4 hex digits");
	} else {
		*out = (uint16_t)(b[0] << 8 | b[1]);
	}
	pop(c, o);
	return r;
}

/* A 16-bit address, or a 32-hex-digit Label UUID when label is not NULL. */
static int addr_or_label(struct cx *c, const json_t *v, uint16_t *addr, bool *has_label,
			 uint8_t label[16])
{
	uint8_t b[2];

	if (json_is_string(v) && json_string_length(v) == 4 &&
	    unhex(json_string_value(v), 4, b, sizeof(b))) {
		*addr = (uint16_t)(b[0] << 8 | b[1]);
		if (has_label) {
			*has_label = false;
		}
		return 0;
	}
	if (label && json_is_string(v) &&
	    unhex(json_string_value(v), json_string_length(v), label, 16)) {
		*has_label = true;
		*addr = 0;
		return 0;
	}
	return fail(c, label ? "must be 4 hex digits or a 32-hex-digit Label UUID"
			     : "must be 4 hex digits");
}

static int get_key(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		   uint8_t out[16])
{
	json_t *v = member(c, obj, key, required);
	size_t o;
	int r = 0;

	if (present) {
		*present = v != NULL;
	}
	if (!v) {
		return required ? -EINVAL : 0;
	}
	o = push(c, key);
	if (!json_is_string(v) || !unhex(json_string_value(v), json_string_length(v), out, 16)) {
		r = fail(c, "must be 32 hex digits");
	}
	pop(c, o);
	return r;
}

/* A UUID: 32 hex digits, or 8-4-4-4-12 with dashes (nRF Mesh, BlueZ). */
static int get_uuid(struct cx *c, const json_t *obj, const char *key, uint8_t out[16])
{
	json_t *v = member(c, obj, key, true);
	const char *s;
	char hex[33];
	size_t len, k = 0, o;
	int r = 0;

	if (!v) {
		return -EINVAL;
	}
	o = push(c, key);
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
	if (k != 32 || !unhex(hex, 32, out, 16)) {
		r = fail(c, "must be a UUID (32 hex digits, dashes allowed as 8-4-4-4-12)");
	}
	pop(c, o);
	return r;
}

static int get_int(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		   long long lo, long long hi, long long *out)
{
	json_t *v = member(c, obj, key, required);
	size_t o;
	int r = 0;

	if (present) {
		*present = v != NULL;
	}
	if (!v) {
		return required ? -EINVAL : 0;
	}
	o = push(c, key);
	if (!json_is_integer(v)) {
		r = fail(c, "must be an integer");
	} else if (json_integer_value(v) < lo || json_integer_value(v) > hi) {
		r = fail(c, "must be %lld..%lld", lo, hi);
	} else {
		*out = json_integer_value(v);
	}
	pop(c, o);
	return r;
}

static int get_bool(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		    bool *out)
{
	json_t *v = member(c, obj, key, required);
	size_t o;
	int r = 0;

	if (present) {
		*present = v != NULL;
	}
	if (!v) {
		return required ? -EINVAL : 0;
	}
	o = push(c, key);
	if (!json_is_boolean(v)) {
		r = fail(c, "must be true or false");
	} else {
		*out = json_is_true(v);
	}
	pop(c, o);
	return r;
}

/* A string copied into out (STORE_NAME_MAX), cut at a UTF-8 character boundary. */
static int get_name(struct cx *c, const json_t *obj, const char *key, bool required, char *out)
{
	json_t *v = member(c, obj, key, required);
	size_t o, len;
	const char *s;

	out[0] = '\0';
	if (!v) {
		return required ? -EINVAL : 0;
	}
	if (!json_is_string(v)) {
		o = push(c, key);
		fail(c, "must be a string");
		pop(c, o);
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
		o = push(c, key);
		fail(c, "must not contain NUL");
		pop(c, o);
		return -EINVAL;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* An array member, at most max items (NULL and no error when optional and absent). */
static json_t *get_array(struct cx *c, const json_t *obj, const char *key, bool required,
			 size_t max)
{
	json_t *v = member(c, obj, key, required);
	size_t o;

	if (!v) {
		return NULL;
	}
	o = push(c, key);
	if (!json_is_array(v)) {
		fail(c, "must be an array");
		v = NULL;
	} else if (json_array_size(v) > max) {
		fail(c, "at most %zu items", max);
		v = NULL;
	}
	pop(c, o);
	return v;
}

static int need_object(struct cx *c, const json_t *v)
{
	return json_is_object(v) ? 0 : fail(c, "must be an object");
}

/* A list of key indexes given as {"index": N, ...} objects, or as plain integers (bind). */
static int index_list(struct cx *c, const json_t *arr, bool objects, uint16_t **out, size_t *n)
{
	size_t k = json_array_size(arr);
	json_t *v;
	size_t i;

	*out = k ? calloc(k, sizeof(uint16_t)) : NULL;
	*n = 0;
	if (k && !*out) {
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v)
	{
		size_t o = push_i(c, i);
		long long x = 0;
		int r;

		if (objects) {
			r = need_object(c, v);
			if (!r) {
				r = get_int(c, v, "index", true, NULL, 0, 4095, &x);
			}
			if (!r && json_object_get(v, "updated") &&
			    !json_is_boolean(json_object_get(v, "updated"))) {
				size_t o2 = push(c, "updated");

				r = fail(c, "must be true or false");
				pop(c, o2);
			}
		} else if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			   json_integer_value(v) > 4095) {
			r = fail(c, "must be a key index 0..4095");
		} else {
			x = json_integer_value(v);
			r = 0;
		}
		pop(c, o);
		if (r) {
			return r;
		}
		(*out)[(*n)++] = (uint16_t)x;
	}
	return 0;
}

/* --- Keys and provisioners ----------------------------------------------------- */

static int parse_netkeys(struct cx *c, const json_t *root, struct store_cdb *d)
{
	json_t *arr = get_array(c, root, "netKeys", true, CDB_MAX_KEYS), *v;
	size_t o = push(c, "netKeys"), i;

	if (!arr) {
		pop(c, o);
		return -EINVAL;
	}
	d->netkeys = calloc(json_array_size(arr) + 1, sizeof(*d->netkeys));
	if (!d->netkeys) {
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v)
	{
		struct store_cdb_netkey *k = &d->netkeys[i];
		size_t oi = push_i(c, i);
		long long x = 0;
		json_t *ms;
		int r = need_object(c, v);

		d->n_netkeys = i + 1;
		if (!r) {
			r = get_name(c, v, "name", false, k->name);
		}
		if (!r) {
			r = get_int(c, v, "index", true, NULL, 0, 4095, &x);
			k->idx = (uint16_t)x;
		}
		if (!r) {
			r = get_key(c, v, "key", !d->partial, NULL, k->key);
		}
		if (!r) {
			r = get_key(c, v, "oldKey", false, &k->has_old, k->old_key);
		}
		if (!r) {
			r = get_int(c, v, "phase", true, NULL, 0, 2, &x);
			k->phase = (uint8_t)x;
		}
		if (!r && (ms = json_object_get(v, "minSecurity"))) {
			const char *s = json_string_value(ms);

			if (!s || (strcmp(s, "secure") && strcmp(s, "insecure"))) {
				size_t o2 = push(c, "minSecurity");

				r = fail(c, "must be \"secure\" or \"insecure\"");
				pop(c, o2);
			} else {
				k->min_secure = !strcmp(s, "secure");
			}
		}
		if (!r && k->phase && !k->has_old && !d->partial) {
			r = fail(c, "phase %u needs oldKey", k->phase);
		}
		pop(c, oi);
		if (r) {
			return r;
		}
	}
	pop(c, o);
	return 0;
}

static int parse_appkeys(struct cx *c, const json_t *root, struct store_cdb *d)
{
	json_t *arr = get_array(c, root, "appKeys", true, CDB_MAX_KEYS), *v;
	size_t o = push(c, "appKeys"), i;

	if (!arr) {
		pop(c, o);
		return -EINVAL;
	}
	d->appkeys = calloc(json_array_size(arr) + 1, sizeof(*d->appkeys));
	if (!d->appkeys) {
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v)
	{
		struct store_cdb_appkey *k = &d->appkeys[i];
		size_t oi = push_i(c, i);
		long long x = 0;
		int r = need_object(c, v);

		d->n_appkeys = i + 1;
		if (!r) {
			r = get_name(c, v, "name", false, k->name);
		}
		if (!r) {
			r = get_int(c, v, "index", true, NULL, 0, 4095, &x);
			k->idx = (uint16_t)x;
		}
		if (!r) {
			r = get_int(c, v, "boundNetKey", true, NULL, 0, 4095, &x);
			k->net_idx = (uint16_t)x;
		}
		if (!r) {
			r = get_key(c, v, "key", !d->partial, NULL, k->key);
		}
		if (!r) {
			r = get_key(c, v, "oldKey", false, &k->has_old, k->old_key);
		}
		pop(c, oi);
		if (r) {
			return r;
		}
	}
	pop(c, o);
	return 0;
}

/* Ranges {lowAddress, highAddress} (or {firstScene, lastScene}) inside [min, max]. */
static int parse_ranges(struct cx *c, const json_t *p, const char *key, const char *lo_key,
			const char *hi_key, uint16_t min, uint16_t max, struct store_cdb_range *out,
			size_t *n)
{
	json_t *arr = get_array(c, p, key, true, STORE_CDB_RANGES_MAX), *v;
	size_t o = push(c, key), i;

	*n = 0;
	if (!arr) {
		pop(c, o);
		return -EINVAL;
	}
	json_array_foreach(arr, i, v)
	{
		size_t oi = push_i(c, i);
		uint16_t lo = 0, hi = 0;
		int r = need_object(c, v);

		if (!r) {
			r = get_hex4(c, v, lo_key, true, NULL, &lo);
		}
		if (!r) {
			r = get_hex4(c, v, hi_key, true, NULL, &hi);
		}
		if (!r && (lo < min || hi > max)) {
			r = fail(c, "must lie within 0x%04x-0x%04x", min, max);
		}
		if (!r && lo > hi) {
			r = fail(c, "%s is above %s", lo_key, hi_key);
		}
		pop(c, oi);
		if (r) {
			return r;
		}
		out[(*n)++] = (struct store_cdb_range){lo, hi};
	}
	pop(c, o);
	return 0;
}

static int parse_provs(struct cx *c, const json_t *root, struct store_cdb *d)
{
	json_t *arr = get_array(c, root, "provisioners", true, CDB_MAX_PROVISIONERS), *v;
	size_t o = push(c, "provisioners"), i;

	if (!arr) {
		pop(c, o);
		return -EINVAL;
	}
	d->provs = calloc(json_array_size(arr) + 1, sizeof(*d->provs));
	if (!d->provs) {
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v)
	{
		struct store_cdb_prov *p = &d->provs[i];
		size_t oi = push_i(c, i);
		int r = need_object(c, v);

		d->n_provs = i + 1;
		if (!r) {
			r = get_name(c, v, "provisionerName", true, p->name);
		}
		if (!r) {
			r = get_uuid(c, v, "UUID", p->uuid);
		}
		if (!r) {
			/* Not a profile member: meshgw writes its own address here (cdb_enc.c). */
			r = get_hex4(c, v, "unicastAddress", false, NULL, &p->addr);
			if (!r && p->addr > 0x7fff) {
				size_t o2 = push(c, "unicastAddress");

				r = fail(c, "must be a unicast address 0001..7fff");
				pop(c, o2);
			}
		}
		if (!r) {
			r = parse_ranges(c, v, "allocatedUnicastRange", "lowAddress", "highAddress",
					 0x0001, 0x7fff, p->uni, &p->n_uni);
		}
		if (!r) {
			r = parse_ranges(c, v, "allocatedGroupRange", "lowAddress", "highAddress",
					 0xc000, 0xfeff, p->grp, &p->n_grp);
		}
		if (!r) {
			r = parse_ranges(c, v, "allocatedSceneRange", "firstScene", "lastScene",
					 0x0001, 0xffff, p->scene, &p->n_scene);
		}
		pop(c, oi);
		if (r) {
			return r;
		}
	}
	pop(c, o);
	return 0;
}

/* --- Nodes ------------------------------------------------------------------ */

/* {count, interval} with count lo..hi and interval a multiple of step up to max. */
static int parse_xmit(struct cx *c, const json_t *obj, const char *key, long long cnt_lo,
		      long long cnt_hi, long long step, long long max, bool *present,
		      long long *count, long long *interval)
{
	json_t *v = member(c, obj, key, false);
	size_t o;
	int r;

	*present = v != NULL;
	if (!v) {
		return 0;
	}
	o = push(c, key);
	r = need_object(c, v);
	if (!r) {
		r = get_int(c, v, "count", true, NULL, cnt_lo, cnt_hi, count);
	}
	if (!r) {
		r = get_int(c, v, "interval", true, NULL, step, max, interval);
	}
	if (!r && *interval % step) {
		size_t o2 = push(c, "interval");

		r = fail(c, "must be a multiple of %lld ms", step);
		pop(c, o2);
	}
	pop(c, o);
	return r;
}

static int parse_period(struct cx *c, const json_t *pub, uint8_t *raw)
{
	static const long long res_ms[4] = {100, 1000, 10000, 600000};
	json_t *v = member(c, pub, "period", true);
	long long steps = 0, res = 0;
	size_t o;
	int r = 0;

	if (!v) {
		return -EINVAL;
	}
	o = push(c, "period");
	if (json_is_integer(v)) {
		/* Older files give the period in milliseconds. */
		long long ms = json_integer_value(v);

		r = -EINVAL;
		for (int k = 0; k < 4 && ms >= 0; k++) {
			if (ms % res_ms[k] == 0 && ms / res_ms[k] <= 63) {
				*raw = (uint8_t)(ms / res_ms[k] | k << 6);
				r = 0;
				break;
			}
		}
		if (r) {
			r = fail(c,
				 "must be a period of 0..63 steps of 100 ms, 1 s, 10 s or 10 min");
		}
	} else {
		r = need_object(c, v);
		if (!r) {
			r = get_int(c, v, "numberOfSteps", true, NULL, 0, 63, &steps);
		}
		if (!r) {
			r = get_int(c, v, "resolution", true, NULL, 100, 600000, &res);
		}
		if (!r) {
			int k = 0;

			while (k < 4 && res_ms[k] != res) {
				k++;
			}
			if (k == 4) {
				size_t o2 = push(c, "resolution");

				r = fail(c, "must be 100, 1000, 10000 or 600000");
				pop(c, o2);
			} else {
				*raw = (uint8_t)(steps | k << 6);
			}
		}
	}
	pop(c, o);
	return r;
}

static int parse_pub(struct cx *c, const json_t *v, struct store_pub *p)
{
	long long x = 0, cnt = 0, itv = 0;
	bool present = false;
	json_t *a;
	size_t o = push(c, "publish");
	int r = need_object(c, v);

	if (!r) {
		a = member(c, v, "address", true);
		r = a ? 0 : -EINVAL;
		if (a) {
			size_t o2 = push(c, "address");

			r = addr_or_label(c, a, &p->addr, &p->has_label, p->label);
			pop(c, o2);
		}
	}
	if (!r) {
		r = get_int(c, v, "index", true, NULL, 0, 4095, &x);
		p->app_idx = (uint16_t)x;
	}
	if (!r) {
		r = get_int(c, v, "ttl", true, NULL, 0, 255, &x);
		if (!r && x > 127 && x != 255) {
			size_t o2 = push(c, "ttl");

			r = fail(c, "must be 0..127 or 255");
			pop(c, o2);
		}
		p->ttl = (uint8_t)x;
	}
	if (!r) {
		r = parse_period(c, v, &p->period);
	}
	if (!r) {
		r = get_int(c, v, "credentials", true, NULL, 0, 1, &x);
		p->cred = x != 0;
	}
	if (!r) {
		r = parse_xmit(c, v, "retransmit", 0, 7, 50, 1600, &present, &cnt, &itv);
		if (!r && !present) {
			r = fail(c, "retransmit: required member missing");
		}
		if (!r) {
			p->retransmit = (uint8_t)(cnt | (itv / 50 - 1) << 3);
		}
	}
	pop(c, o);
	return r;
}

static int parse_model(struct cx *c, const json_t *v, struct store_cdb_model *m)
{
	json_t *id = member(c, v, "modelId", true), *arr, *x;
	uint8_t b[4];
	size_t o, i;
	int r;

	if (!id) {
		return -EINVAL;
	}
	o = push(c, "modelId");
	if (json_is_string(id) && unhex(json_string_value(id), json_string_length(id), b, 2)) {
		m->id = (uint32_t)(b[0] << 8 | b[1]);
	} else if (json_is_string(id) &&
		   unhex(json_string_value(id), json_string_length(id), b, 4)) {
		/* Company identifier first, then the model's 16 bits. */
		m->vendor = true;
		m->id = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	} else {
		pop(c, o);
		return fail(c, "must be 4 hex digits (SIG) or 8 (company, model)");
	}
	pop(c, o);
	arr = get_array(c, v, "bind", true, CDB_MAX_LIST);
	if (!arr) {
		return -EINVAL;
	}
	o = push(c, "bind");
	r = index_list(c, arr, false, &m->bind, &m->n_bind);
	pop(c, o);
	arr = r ? NULL : get_array(c, v, "subscribe", true, CDB_MAX_LIST);
	if (!arr) {
		return r ? r : -EINVAL;
	}
	o = push(c, "subscribe");
	m->sub = json_array_size(arr) ? calloc(json_array_size(arr), sizeof(uint16_t)) : NULL;
	if (json_array_size(arr) && !m->sub) {
		return -ENOMEM;
	}
	json_array_foreach(arr, i, x)
	{
		size_t oi = push_i(c, i);
		bool has_label = false;
		uint8_t label[16];

		r = addr_or_label(c, x, &m->sub[i], &has_label, label);
		if (!r && has_label) {
			r = fail(c, "virtual label subscriptions are not supported by meshgw's "
				    "inventory");
		}
		if (!r && m->sub[i] == 0) {
			r = fail(c, "the unassigned address is not a subscription");
		}
		pop(c, oi);
		if (r) {
			return r;
		}
		m->n_sub = i + 1;
	}
	pop(c, o);
	if ((x = json_object_get(v, "publish"))) {
		m->has_pub = true;
		r = parse_pub(c, x, &m->pub);
	}
	return r;
}

static int parse_elements(struct cx *c, const json_t *node, struct store_cdb_node *n)
{
	json_t *arr = get_array(c, node, "elements", true, CDB_MAX_ELEMENTS), *v;
	size_t o, i;

	if (!arr) {
		return -EINVAL;
	}
	o = push(c, "elements");
	n->el = json_array_size(arr) ? calloc(json_array_size(arr), sizeof(*n->el)) : NULL;
	if (json_array_size(arr) && !n->el) {
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v)
	{
		struct store_cdb_element *e = &n->el[i];
		size_t oi = push_i(c, i), k;
		long long x = 0;
		json_t *models, *m;
		int r = need_object(c, v);

		n->n_el = i + 1;
		if (!r) {
			r = get_name(c, v, "name", false, e->name);
		}
		if (!r) {
			r = get_int(c, v, "index", true, NULL, 0, 254, &x);
			e->idx = (uint8_t)x;
		}
		if (!r) {
			r = get_hex4(c, v, "location", true, NULL, &e->loc);
		}
		models = r ? NULL : get_array(c, v, "models", true, CDB_MAX_MODELS);
		if (!r && !models) {
			r = -EINVAL;
		}
		if (!r && json_array_size(models)) {
			e->models = calloc(json_array_size(models), sizeof(*e->models));
			r = e->models ? 0 : -ENOMEM;
		}
		if (!r) {
			size_t om = push(c, "models");

			json_array_foreach(models, k, m)
			{
				size_t ok = push_i(c, k);

				r = need_object(c, m);
				if (!r) {
					e->n_models = k + 1;
					r = parse_model(c, m, &e->models[k]);
				}
				pop(c, ok);
				if (r) {
					break;
				}
			}
			pop(c, om);
		}
		pop(c, oi);
		if (r) {
			return r;
		}
	}
	pop(c, o);
	return 0;
}

static int parse_features(struct cx *c, const json_t *node, struct store_cdb_node *n)
{
	static const char *const names[STORE_CDB_FEAT_COUNT] = {"relay", "proxy", "friend",
								"lowPower"};
	json_t *v = member(c, node, "features", false);
	size_t o;
	int r = 0;

	if (!v) {
		return 0;
	}
	o = push(c, "features");
	r = need_object(c, v);
	for (int f = 0; !r && f < STORE_CDB_FEAT_COUNT; f++) {
		bool present = false;
		long long x = -1;

		r = get_int(c, v, names[f], false, &present, 0, 2, &x);
		if (present) {
			n->feat[f] = (int8_t)x;
		}
	}
	pop(c, o);
	return r;
}

static int parse_heartbeat(struct cx *c, const json_t *node, struct store_cdb_node *n)
{
	static const char *const names[4] = {"relay", "proxy", "friend", "lowPower"};
	json_t *v = member(c, node, "heartbeatPub", false), *arr, *f;
	long long x = 0;
	size_t o, i;
	int r = 0;

	if (v) {
		o = push(c, "heartbeatPub");
		n->has_hb_pub = true;
		r = need_object(c, v);
		if (!r) {
			r = get_hex4(c, v, "address", true, NULL, &n->hb_pub_dst);
		}
		if (!r) {
			r = get_int(c, v, "period", true, NULL, 0, 65536, &x);
			n->hb_pub_period = (uint32_t)x;
		}
		if (!r) {
			r = get_int(c, v, "ttl", true, NULL, 0, 127, &x);
			n->hb_pub_ttl = (uint8_t)x;
		}
		if (!r) {
			r = get_int(c, v, "index", true, NULL, 0, 4095, &x);
			n->hb_pub_idx = (uint16_t)x;
		}
		arr = r ? NULL : get_array(c, v, "features", true, 4);
		if (!r && !arr) {
			r = -EINVAL;
		}
		json_array_foreach(arr, i, f)
		{
			size_t of = push(c, "features"), oi = push_i(c, i);
			int k = 0;

			while (k < 4 &&
			       !(json_is_string(f) && !strcmp(json_string_value(f), names[k]))) {
				k++;
			}
			if (k == 4) {
				r = fail(
				    c, "must be \"relay\", \"proxy\", \"friend\" or \"lowPower\"");
			} else {
				n->hb_pub_features |= (uint16_t)(1u << k);
			}
			pop(c, oi);
			pop(c, of);
			if (r) {
				break;
			}
		}
		pop(c, o);
	}
	v = r ? NULL : member(c, node, "heartbeatSub", false);
	if (v) {
		o = push(c, "heartbeatSub");
		n->has_hb_sub = true;
		r = need_object(c, v);
		if (!r) {
			r = get_hex4(c, v, "source", true, NULL, &n->hb_sub_src);
		}
		if (!r) {
			r = get_hex4(c, v, "destination", true, NULL, &n->hb_sub_dst);
		}
		pop(c, o);
	}
	return r;
}

static int parse_node(struct cx *c, const json_t *v, bool partial, struct store_cdb_node *n)
{
	long long x = 0, cnt = 0, itv = 0;
	bool present = false;
	json_t *arr, *sec;
	size_t o;
	int r = need_object(c, v);

	for (int f = 0; f < STORE_CDB_FEAT_COUNT; f++) {
		n->feat[f] = -1;
	}
	n->beacon = -1;
	n->default_ttl = -1;
	n->net_tx_count = -1;
	n->relay_count = -1;
	if (!r) {
		r = get_uuid(c, v, "UUID", n->uuid);
	}
	if (!r) {
		r = get_name(c, v, "name", false, n->name);
	}
	if (!r) {
		r = get_hex4(c, v, "unicastAddress", true, NULL, &n->unicast);
		if (!r && (n->unicast == 0 || n->unicast > 0x7fff)) {
			o = push(c, "unicastAddress");
			r = fail(c, "must be a unicast address 0001..7fff");
			pop(c, o);
		}
	}
	if (!r) {
		r = get_key(c, v, "deviceKey", !partial, &n->has_devkey, n->devkey);
	}
	if (!r && (sec = member(c, v, "security", true)) != NULL) {
		const char *s = json_string_value(sec);

		if (!s || (strcmp(s, "secure") && strcmp(s, "insecure"))) {
			o = push(c, "security");
			r = fail(c, "must be \"secure\" or \"insecure\"");
			pop(c, o);
		} else {
			n->secure = !strcmp(s, "secure");
		}
	} else if (!r) {
		r = -EINVAL;
	}
	if (!r) {
		arr = get_array(c, v, "netKeys", true, CDB_MAX_KEYS);
		r = arr ? 0 : -EINVAL;
		if (arr) {
			o = push(c, "netKeys");
			r = index_list(c, arr, true, &n->netkeys, &n->n_netkeys);
			if (!r && !n->n_netkeys) {
				r = fail(c, "a node holds at least one NetKey");
			}
			pop(c, o);
		}
	}
	if (!r) {
		arr = get_array(c, v, "appKeys", true, CDB_MAX_KEYS);
		r = arr ? 0 : -EINVAL;
		if (arr) {
			o = push(c, "appKeys");
			r = index_list(c, arr, true, &n->appkeys, &n->n_appkeys);
			pop(c, o);
		}
	}
	if (!r) {
		r = get_bool(c, v, "configComplete", true, NULL, &n->config_complete);
	}
	if (!r) {
		r = get_bool(c, v, "excluded", true, NULL, &n->excluded);
	}
	if (!r) {
		bool p[4] = {false};

		r = get_hex4(c, v, "cid", false, &p[0], &n->cid);
		if (!r) {
			r = get_hex4(c, v, "pid", false, &p[1], &n->pid);
		}
		if (!r) {
			r = get_hex4(c, v, "vid", false, &p[2], &n->vid);
		}
		if (!r) {
			r = get_hex4(c, v, "crpl", false, &p[3], &n->crpl);
		}
		n->has_comp = p[0] && p[1] && p[2] && p[3];
	}
	if (!r) {
		r = parse_features(c, v, n);
	}
	if (!r) {
		bool b = false;

		r = get_bool(c, v, "secureNetworkBeacon", false, &present, &b);
		n->beacon = present ? (int8_t)b : -1;
	}
	if (!r) {
		r = get_int(c, v, "defaultTTL", false, &present, 0, 127, &x);
		if (!r && present && x == 1) {
			o = push(c, "defaultTTL");
			r = fail(c, "must be 0 or 2..127 (1 is prohibited)");
			pop(c, o);
		}
		n->default_ttl = present ? (int16_t)x : -1;
	}
	if (!r) {
		r = parse_xmit(c, v, "networkTransmit", 1, 8, 10, 320, &present, &cnt, &itv);
		if (present) {
			n->net_tx_count = (int8_t)cnt;
			n->net_tx_interval = (uint16_t)itv;
		}
	}
	if (!r) {
		r = parse_xmit(c, v, "relayRetransmit", 1, 8, 10, 320, &present, &cnt, &itv);
		if (present) {
			n->relay_count = (int8_t)cnt;
			n->relay_interval = (uint16_t)itv;
		}
	}
	if (!r) {
		r = parse_elements(c, v, n);
	}
	if (!r) {
		r = parse_heartbeat(c, v, n);
	}
	return r;
}

static int parse_nodes(struct cx *c, const json_t *root, struct store_cdb *d)
{
	json_t *arr = get_array(c, root, "nodes", true, CDB_MAX_NODES), *v;
	size_t o = push(c, "nodes"), i;

	if (!arr) {
		pop(c, o);
		return -EINVAL;
	}
	d->nodes = calloc(json_array_size(arr) + 1, sizeof(*d->nodes));
	if (!d->nodes) {
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v)
	{
		size_t oi = push_i(c, i);
		int r;

		d->n_nodes = i + 1;
		r = parse_node(c, v, d->partial, &d->nodes[i]);
		pop(c, oi);
		if (r) {
			return r;
		}
	}
	pop(c, o);
	return 0;
}

/* --- Groups, scenes, exclusions ---------------------------------------------------- */

static int parse_groups(struct cx *c, const json_t *root, struct store_cdb *d)
{
	json_t *arr = get_array(c, root, "groups", false, CDB_MAX_LIST), *v, *a;
	size_t o, i;

	if (!arr) {
		return c->failed ? -EINVAL : 0;
	}
	o = push(c, "groups");
	d->groups = calloc(json_array_size(arr) + 1, sizeof(*d->groups));
	if (!d->groups) {
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v)
	{
		struct store_cdb_group *g = &d->groups[i];
		size_t oi = push_i(c, i), o2;
		int r = need_object(c, v);

		d->n_groups = i + 1;
		if (!r) {
			r = get_name(c, v, "name", true, g->name);
		}
		if (!r) {
			a = member(c, v, "address", true);
			r = a ? 0 : -EINVAL;
			if (a) {
				o2 = push(c, "address");
				r = addr_or_label(c, a, &g->addr, &g->has_label, g->label);
				if (!r && !g->has_label && g->addr < 0xc000) {
					r = fail(
					    c,
					    "must be a group address c000..ffff or a Label UUID");
				}
				pop(c, o2);
			}
		}
		if (!r) {
			a = member(c, v, "parentAddress", true);
			r = a ? 0 : -EINVAL;
			if (a) {
				o2 = push(c, "parentAddress");
				r = addr_or_label(c, a, &g->parent, &g->parent_has_label,
						  g->parent_label);
				pop(c, o2);
			}
		}
		pop(c, oi);
		if (r) {
			return r;
		}
	}
	pop(c, o);
	return 0;
}

static int parse_scenes(struct cx *c, const json_t *root, struct store_cdb *d)
{
	json_t *arr = get_array(c, root, "scenes", false, CDB_MAX_LIST), *v, *a, *x;
	size_t o, i, k;

	if (!arr) {
		return c->failed ? -EINVAL : 0;
	}
	o = push(c, "scenes");
	d->scenes = calloc(json_array_size(arr) + 1, sizeof(*d->scenes));
	if (!d->scenes) {
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v)
	{
		struct store_cdb_scene *s = &d->scenes[i];
		size_t oi = push_i(c, i);
		int r = need_object(c, v);

		d->n_scenes = i + 1;
		if (!r) {
			r = get_name(c, v, "name", true, s->name);
		}
		if (!r) {
			r = get_hex4(c, v, "number", true, NULL, &s->number);
			if (!r && s->number == 0) {
				r = fail(c, "number: scene 0000 is prohibited");
			}
		}
		a = r ? NULL : get_array(c, v, "addresses", true, CDB_MAX_LIST);
		if (!r && !a) {
			r = -EINVAL;
		}
		if (!r && json_array_size(a)) {
			s->addrs = calloc(json_array_size(a), sizeof(uint16_t));
			r = s->addrs ? 0 : -ENOMEM;
		}
		if (!r) {
			size_t oa = push(c, "addresses");

			json_array_foreach(a, k, x)
			{
				size_t ok = push_i(c, k);

				r = addr_or_label(c, x, &s->addrs[k], NULL, NULL);
				pop(c, ok);
				if (r) {
					break;
				}
				s->n_addrs = k + 1;
			}
			pop(c, oa);
		}
		pop(c, oi);
		if (r) {
			return r;
		}
	}
	pop(c, o);
	return 0;
}

static int parse_exclusions(struct cx *c, const json_t *root, struct store_cdb *d)
{
	json_t *arr = get_array(c, root, "networkExclusions", false, CDB_MAX_LIST), *v, *a, *x;
	size_t o, i, k, total = 0;

	if (!arr) {
		return c->failed ? -EINVAL : 0;
	}
	o = push(c, "networkExclusions");
	json_array_foreach(arr, i, v)
	{
		a = json_object_get(v, "addresses");
		total += json_is_array(a) ? json_array_size(a) : 0;
	}
	if (total > CDB_MAX_LIST * 8) {
		return fail(c, "at most %d excluded addresses", CDB_MAX_LIST * 8);
	}
	d->excl = calloc(total + 1, sizeof(*d->excl));
	if (!d->excl) {
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v)
	{
		size_t oi = push_i(c, i);
		long long iv = 0;
		int r = need_object(c, v);

		if (!r) {
			r = get_int(c, v, "ivIndex", true, NULL, 0, 0xffffffffLL, &iv);
		}
		a = r ? NULL : get_array(c, v, "addresses", true, CDB_MAX_LIST);
		if (!r && !a) {
			r = -EINVAL;
		}
		json_array_foreach(a, k, x)
		{
			size_t oa = push(c, "addresses"), ok = push_i(c, k);
			uint16_t addr = 0;

			r = addr_or_label(c, x, &addr, NULL, NULL);
			if (!r && (addr == 0 || addr > 0x7fff)) {
				r = fail(c, "must be a unicast address 0001..7fff");
			}
			pop(c, ok);
			pop(c, oa);
			if (r) {
				break;
			}
			d->excl[d->n_excl++] = (struct store_cdb_excl){(uint32_t)iv, addr};
		}
		pop(c, oi);
		if (r) {
			return r;
		}
	}
	pop(c, o);
	return 0;
}

/* --- The document ------------------------------------------------------------ */

static int parse_header(struct cx *c, const json_t *root, struct store_cdb *d)
{
	json_t *v;
	const char *s;
	long long iv = 0;
	bool present = false;
	size_t o;
	int r = 0;

	if (!json_is_object(root)) {
		return fail(c, "the document must be a JSON object");
	}
	v = member(c, root, "$schema", true);
	if (!v) {
		return -EINVAL;
	}
	if (!json_is_string(v)) {
		o = push(c, "$schema");
		r = fail(c, "must be a string");
		pop(c, o);
		return r;
	}
	v = member(c, root, "id", true);
	if (!v) {
		return -EINVAL;
	}
	if (!json_is_string(v)) {
		o = push(c, "id");
		r = fail(c, "must be a string");
		pop(c, o);
		return r;
	}
	v = member(c, root, "version", true);
	if (!v) {
		return -EINVAL;
	}
	s = json_string_value(v);
	if (s && !strcmp(s, "1.0.0")) {
		d->version = 100;
	} else if (s && !strcmp(s, "1.0.1")) {
		d->version = 101;
	} else {
		o = push(c, "version");
		r = fail(c, "must be \"1.0.0\" or \"1.0.1\"");
		pop(c, o);
		return r;
	}
	r = get_uuid(c, root, "meshUUID", d->mesh_uuid);
	if (!r) {
		r = get_name(c, root, "meshName", false, d->mesh_name);
	}
	if (!r && (v = json_object_get(root, "timestamp")) && !json_is_string(v)) {
		o = push(c, "timestamp");
		r = fail(c, "must be a date-time string");
		pop(c, o);
	}
	if (!r) {
		r = get_bool(c, root, "partial", false, NULL, &d->partial);
	}
	if (!r) {
		/* Not a profile member: BlueZ's configuration keeps the IV Index here. */
		r = get_int(c, root, "ivIndex", false, &present, 0, 0xffffffffLL, &iv);
		d->has_iv = present;
		d->iv_index = (uint32_t)iv;
	}
	return r;
}

int cdb_parse(const json_t *root, struct store_cdb **out, char *err, size_t err_cap)
{
	char dummy[8];
	struct cx c = {.err = err && err_cap ? err : dummy,
		       .cap = err && err_cap ? err_cap : sizeof(dummy)};
	struct store_cdb *d = calloc(1, sizeof(*d));
	int r;

	c.err[0] = '\0';
	if (!d) {
		return -ENOMEM;
	}
	r = parse_header(&c, root, d);
	if (!r) {
		r = parse_netkeys(&c, root, d);
	}
	if (!r) {
		r = parse_appkeys(&c, root, d);
	}
	if (!r) {
		r = parse_provs(&c, root, d);
	}
	if (!r) {
		r = parse_nodes(&c, root, d);
	}
	if (!r) {
		r = parse_groups(&c, root, d);
	}
	if (!r) {
		r = parse_scenes(&c, root, d);
	}
	if (!r) {
		r = parse_exclusions(&c, root, d);
	}
	if (r) {
		if (r == -ENOMEM && !c.failed) {
			snprintf(c.err, c.cap, "out of memory");
		} else if (!c.failed) {
			fail(&c, "invalid");
		}
		store_cdb_free(d);
		return r;
	}
	*out = d;
	return 0;
}

/* --- Consistency ------------------------------------------------------------------ */

static int incons(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int incons(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (err && cap) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return -EDOM;
}

static const struct store_cdb_netkey *find_netkey(const struct store_cdb *d, uint16_t idx)
{
	for (size_t i = 0; i < d->n_netkeys; i++) {
		if (d->netkeys[i].idx == idx) {
			return &d->netkeys[i];
		}
	}
	return NULL;
}

static const struct store_cdb_appkey *find_appkey(const struct store_cdb *d, uint16_t idx)
{
	for (size_t i = 0; i < d->n_appkeys; i++) {
		if (d->appkeys[i].idx == idx) {
			return &d->appkeys[i];
		}
	}
	return NULL;
}

struct span {
	uint32_t lo, hi;
	size_t who;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool has16(const uint16_t *a, size_t n, uint16_t v)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] == v) {
			return true;
		}
	}
	return false;
}

static int check_keys(const struct store_cdb *d, char *err, size_t cap)
{
	for (size_t i = 0; i < d->n_netkeys; i++) {
		for (size_t k = 0; k < i; k++) {
			if (d->netkeys[k].idx == d->netkeys[i].idx) {
				return incons(err, cap,
					      "/netKeys/%zu/index: NetKey %u is also /netKeys/%zu",
					      i, d->netkeys[i].idx, k);
			}
		}
	}
	if (!d->n_netkeys) {
		return incons(err, cap, "/netKeys: a network has at least one NetKey");
	}
	for (size_t i = 0; i < d->n_appkeys; i++) {
		for (size_t k = 0; k < i; k++) {
			if (d->appkeys[k].idx == d->appkeys[i].idx) {
				return incons(err, cap,
					      "/appKeys/%zu/index: AppKey %u is also /appKeys/%zu",
					      i, d->appkeys[i].idx, k);
			}
		}
		if (!find_netkey(d, d->appkeys[i].net_idx)) {
			return incons(err, cap,
				      "/appKeys/%zu/boundNetKey: no NetKey %u in /netKeys", i,
				      d->appkeys[i].net_idx);
		}
	}
	return 0;
}

static int check_provs(const struct store_cdb *d, char *err, size_t cap)
{
	for (size_t i = 0; i < d->n_provs; i++) {
		const struct store_cdb_prov *p = &d->provs[i];

		for (size_t k = 0; k < i; k++) {
			const struct store_cdb_prov *q = &d->provs[k];

			if (!memcmp(p->uuid, q->uuid, 16)) {
				return incons(err, cap,
					      "/provisioners/%zu/UUID: also /provisioners/%zu", i,
					      k);
			}
			for (size_t a = 0; a < p->n_uni; a++) {
				for (size_t b = 0; b < q->n_uni; b++) {
					if (p->uni[a].lo <= q->uni[b].hi &&
					    q->uni[b].lo <= p->uni[a].hi) {
						return incons(
						    err, cap,
						    "/provisioners/%zu/allocatedUnicastRange/%zu: "
						    "0x%04x-0x%04x overlaps /provisioners/%zu",
						    i, a, p->uni[a].lo, p->uni[a].hi, k);
					}
				}
			}
			for (size_t a = 0; a < p->n_grp; a++) {
				for (size_t b = 0; b < q->n_grp; b++) {
					if (p->grp[a].lo <= q->grp[b].hi &&
					    q->grp[b].lo <= p->grp[a].hi) {
						return incons(
						    err, cap,
						    "/provisioners/%zu/allocatedGroupRange/%zu: "
						    "0x%04x-0x%04x overlaps /provisioners/%zu",
						    i, a, p->grp[a].lo, p->grp[a].hi, k);
					}
				}
			}
			for (size_t a = 0; a < p->n_scene; a++) {
				for (size_t b = 0; b < q->n_scene; b++) {
					if (p->scene[a].lo <= q->scene[b].hi &&
					    q->scene[b].lo <= p->scene[a].hi) {
						return incons(
						    err, cap,
						    "/provisioners/%zu/allocatedSceneRange/%zu: "
						    "overlaps /provisioners/%zu",
						    i, a, k);
					}
				}
			}
		}
	}
	return 0;
}

static int check_node_refs(const struct store_cdb *d, size_t i, char *err, size_t cap)
{
	const struct store_cdb_node *n = &d->nodes[i];

	for (size_t k = 0; k < n->n_netkeys; k++) {
		if (!find_netkey(d, n->netkeys[k])) {
			return incons(err, cap, "/nodes/%zu/netKeys/%zu: no NetKey %u in /netKeys",
				      i, k, n->netkeys[k]);
		}
		if (has16(n->netkeys, k, n->netkeys[k])) {
			return incons(err, cap, "/nodes/%zu/netKeys/%zu: NetKey %u listed twice", i,
				      k, n->netkeys[k]);
		}
	}
	for (size_t k = 0; k < n->n_appkeys; k++) {
		const struct store_cdb_appkey *a = find_appkey(d, n->appkeys[k]);

		if (!a) {
			return incons(err, cap, "/nodes/%zu/appKeys/%zu: no AppKey %u in /appKeys",
				      i, k, n->appkeys[k]);
		}
		if (has16(n->appkeys, k, n->appkeys[k])) {
			return incons(err, cap, "/nodes/%zu/appKeys/%zu: AppKey %u listed twice", i,
				      k, n->appkeys[k]);
		}
		if (!has16(n->netkeys, n->n_netkeys, a->net_idx)) {
			return incons(
			    err, cap,
			    "/nodes/%zu/appKeys/%zu: AppKey %u is bound to NetKey %u, which "
			    "the node does not hold",
			    i, k, a->idx, a->net_idx);
		}
	}
	if (!n->excluded && !n->n_el) {
		return incons(err, cap, "/nodes/%zu/elements: a node has at least one element", i);
	}
	if ((uint32_t)n->unicast + (n->n_el ? n->n_el : 1) - 1 > 0x7fff) {
		return incons(err, cap,
			      "/nodes/%zu/unicastAddress: its %zu elements run past 0x7fff", i,
			      n->n_el);
	}
	for (size_t e = 0; e < n->n_el; e++) {
		const struct store_cdb_element *el = &n->el[e];

		if (el->idx != e) {
			return incons(err, cap,
				      "/nodes/%zu/elements/%zu/index: must be %zu (elements "
				      "are numbered from 0 in order)",
				      i, e, e);
		}
		for (size_t m = 0; m < el->n_models; m++) {
			const struct store_cdb_model *md = &el->models[m];

			for (size_t o = 0; o < m; o++) {
				if (el->models[o].vendor == md->vendor &&
				    el->models[o].id == md->id) {
					return incons(
					    err, cap,
					    "/nodes/%zu/elements/%zu/models/%zu/modelId: the "
					    "model is also /models/%zu",
					    i, e, m, o);
				}
			}
			for (size_t b = 0; b < md->n_bind; b++) {
				if (!has16(n->appkeys, n->n_appkeys, md->bind[b])) {
					return incons(
					    err, cap,
					    "/nodes/%zu/elements/%zu/models/%zu/bind/%zu: "
					    "AppKey %u is not in the node's appKeys",
					    i, e, m, b, md->bind[b]);
				}
			}
			if (md->has_pub && md->pub.addr != 0 && !find_appkey(d, md->pub.app_idx)) {
				return incons(
				    err, cap,
				    "/nodes/%zu/elements/%zu/models/%zu/publish/index: no "
				    "AppKey %u in /appKeys",
				    i, e, m, md->pub.app_idx);
			}
		}
	}
	return 0;
}

static int check_nodes(const struct store_cdb *d, char *err, size_t cap)
{
	struct span *sp = d->n_nodes ? calloc(d->n_nodes, sizeof(*sp)) : NULL;
	size_t n = 0;
	int r = 0;

	if (d->n_nodes && !sp) {
		return -ENOMEM;
	}
	for (size_t i = 0; !r && i < d->n_nodes; i++) {
		const struct store_cdb_node *nd = &d->nodes[i];

		r = check_node_refs(d, i, err, cap);
		for (size_t k = 0; !r && k < i; k++) {
			if (!memcmp(d->nodes[k].uuid, nd->uuid, 16) && !nd->excluded &&
			    !d->nodes[k].excluded) {
				r = incons(err, cap,
					   "/nodes/%zu/UUID: the same device is /nodes/%zu", i, k);
			}
		}
		for (size_t k = 0; !r && !nd->excluded && k < d->n_excl; k++) {
			if (d->excl[k].addr >= nd->unicast &&
			    d->excl[k].addr < nd->unicast + (nd->n_el ? nd->n_el : 1)) {
				r = incons(
				    err, cap,
				    "/nodes/%zu/unicastAddress: 0x%04x is on /networkExclusions", i,
				    d->excl[k].addr);
			}
		}
		if (!nd->excluded) {
			sp[n++] = (struct span){nd->unicast,
						nd->unicast + (nd->n_el ? nd->n_el : 1) - 1u, i};
		}
	}
	if (!r && n) {
		qsort(sp, n, sizeof(*sp), cmp_span);
		for (size_t i = 1; !r && i < n; i++) {
			if (sp[i].lo <= sp[i - 1].hi) {
				r = incons(
				    err, cap,
				    "/nodes/%zu/unicastAddress: elements 0x%04x-0x%04x overlap "
				    "/nodes/%zu (0x%04x-0x%04x)",
				    sp[i].who, sp[i].lo, sp[i].hi, sp[i - 1].who, sp[i - 1].lo,
				    sp[i - 1].hi);
			}
		}
	}
	free(sp);
	return r;
}

int cdb_check(const struct store_cdb *doc, char *err, size_t err_cap)
{
	int r;

	if (!doc) {
		return -EINVAL;
	}
	r = check_keys(doc, err, err_cap);
	if (!r) {
		r = check_provs(doc, err, err_cap);
	}
	if (!r) {
		r = check_nodes(doc, err, err_cap);
	}
	for (size_t i = 0; !r && i < doc->n_scenes; i++) {
		for (size_t k = 0; k < i; k++) {
			if (doc->scenes[k].number == doc->scenes[i].number) {
				r = incons(err, err_cap, "/scenes/%zu/number: also /scenes/%zu", i,
					   k);
				break;
			}
		}
	}
	return r;
}
