#include "api/validate.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deep enough for every schema in api/routes.c; refuses absurd nesting early. */
#define VS_MAX_DEPTH 16

/* Writes "<path>: <reason>" and returns -EINVAL, so callers can `return fail(...)`. */
__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t cap, const char *path,
						      const char *fmt, ...)
{
	char reason[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (path[0]) {
		snprintf(err, cap, "%s: %s", path, reason);
	} else {
		snprintf(err, cap, "request body: %s", reason);
	}
	return -EINVAL;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

static const char *expect_name(enum vs_type t)
{
	switch (t) {
	case VS_OBJECT:
	case VS_TAGGED:
		return "an object";
	case VS_ARRAY:
		return "an array";
	case VS_INT:
		return "an integer";
	case VS_BOOL:
		return "a boolean";
	case VS_STRING:
	case VS_ENUM:
	case VS_HEX:
	case VS_UUID:
	case VS_NAME:
		return "a string";
	case VS_ANYOF:
		break;
	}
	return "a value";
}

/* Whether v has the JSON type that t describes (ranges and formats come later). */
static bool type_matches(enum vs_type t, const json_t *v)
{
	switch (t) {
	case VS_OBJECT:
	case VS_TAGGED:
		return json_is_object(v);
	case VS_ARRAY:
		return json_is_array(v);
	case VS_INT:
		return json_is_integer(v);
	case VS_BOOL:
		return json_is_boolean(v);
	case VS_STRING:
	case VS_ENUM:
	case VS_HEX:
	case VS_UUID:
	case VS_NAME:
		return json_is_string(v);
	case VS_ANYOF:
		break;
	}
	return false;
}

static void join_member(char *out, size_t cap, const char *path, const char *name)
{
	if (path[0]) {
		snprintf(out, cap, "%s.%s", path, name);
	} else {
		snprintf(out, cap, "%s", name);
	}
}

/* Counts UTF-8 code points; jansson has already refused invalid UTF-8. */
static size_t utf8_len(const char *s, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			count++;
		}
	}
	return count;
}

static int check_hex(const struct vs *s, json_t *v, const char *path, char *err, size_t cap)
{
	const char *str = json_string_value(v);
	size_t i, n = json_string_length(v);
	char buf[129];

	if ((long long)n != s->min && (long long)n != s->max) {
		if (s->min == s->max) {
			return fail(err, cap, path, "expected %lld hex digits", s->min);
		}
		return fail(err, cap, path, "expected %lld or %lld hex digits", s->min, s->max);
	}
	if (n >= sizeof(buf)) {
		return fail(err, cap, path, "too long");
	}
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)str[i])) {
			return fail(err, cap, path, "'%c' is not a hex digit",
				    isprint((unsigned char)str[i]) ? str[i] : '?');
		}
		buf[i] = (char)tolower((unsigned char)str[i]);
	}
	buf[n] = '\0';
	json_string_set(v, buf);
	return 0;
}

static int check_uuid(json_t *v, const char *path, char *err, size_t cap)
{
	/* Positions of the dashes in the 36-character form (RFC 4122 §3). */
	static const size_t dash[] = {8, 13, 18, 23};
	const char *str = json_string_value(v);
	size_t i, o = 0, d = 0, n = json_string_length(v);
	char buf[33];

	if (n != 32 && n != 36) {
		return fail(err, cap, path, "expected a UUID (32 hex digits, dashes optional)");
	}
	for (i = 0; i < n; i++) {
		if (n == 36 && d < 4 && i == dash[d]) {
			if (str[i] != '-') {
				return fail(err, cap, path,
					    "expected a UUID (32 hex digits, dashes optional)");
			}
			d++;
			continue;
		}
		if (!isxdigit((unsigned char)str[i]) || o >= 32) {
			return fail(err, cap, path,
				    "expected a UUID (32 hex digits, dashes optional)");
		}
		buf[o++] = (char)tolower((unsigned char)str[i]);
	}
	buf[o] = '\0';
	json_string_set(v, buf);
	return 0;
}

static int check_value(const struct vs *s, json_t *v, const char *path, char *err, size_t cap,
		       int depth);

static int check_fields(const struct vs_field *fields, const struct vs_field *extra, json_t *obj,
			const char *path, char *err, size_t cap, int depth)
{
	const struct vs_field *f;
	const char *key;
	json_t *member;
	char sub[256];
	int r;

	/* Unknown members first: a misspelt optional field must not pass silently. */
	json_object_foreach(obj, key, member)
	{
		bool known = false;

		for (f = fields; f && f->name && !known; f++) {
			known = strcmp(f->name, key) == 0;
		}
		for (f = extra; f && f->name && !known; f++) {
			known = strcmp(f->name, key) == 0;
		}
		if (!known) {
			join_member(sub, sizeof(sub), path, key);
			return fail(err, cap, sub, "unknown field");
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		for (f = pass ? extra : fields; f && f->name; f++) {
			join_member(sub, sizeof(sub), path, f->name);
			member = json_object_get(obj, f->name);
			if (!member) {
				if (f->required) {
					return fail(err, cap, sub, "required field missing");
				}
				if (f->def) {
					json_object_set_new(
					    obj, f->name,
					    json_loads(f->def, JSON_DECODE_ANY, NULL));
				}
				continue;
			}
			r = check_value(f->schema, member, sub, err, cap, depth + 1);
			if (r) {
				return r;
			}
		}
	}
	return 0;
}

static int check_tagged(const struct vs *s, json_t *obj, const char *path, char *err, size_t cap,
			int depth)
{
	static const struct vs tag_schema = {.type = VS_STRING, .min = 1, .max = 64};
	const struct vs_field tag_field[] = {{s->tag, &tag_schema, true, NULL},
					     {NULL, NULL, false, NULL}};
	const struct vs_variant *var;
	const char *tag;
	json_t *t = json_object_get(obj, s->tag);
	char sub[256];

	join_member(sub, sizeof(sub), path, s->tag);
	if (!t) {
		return fail(err, cap, sub, "required field missing");
	}
	if (!json_is_string(t)) {
		return fail(err, cap, sub, "expected a string, got %s", type_name(t));
	}
	tag = json_string_value(t);
	for (var = s->variants; var->tag; var++) {
		if (strcmp(var->tag, tag) == 0) {
			return check_fields(var->fields, tag_field, obj, path, err, cap, depth);
		}
	}
	return fail(err, cap, sub, "unknown value (see the API description for the list)");
}

static int check_value(const struct vs *s, json_t *v, const char *path, char *err, size_t cap,
		       int depth)
{
	size_t i, n;
	json_t *item;
	char sub[256];
	int r;

	if (depth > VS_MAX_DEPTH) {
		return fail(err, cap, path, "nested too deeply");
	}
	if (json_is_null(v) && s->nullable) {
		return 0;
	}
	if (s->type == VS_ANYOF) {
		for (i = 0; s->alts[i]; i++) {
			if (type_matches(s->alts[i]->type, v)) {
				return check_value(s->alts[i], v, path, err, cap, depth);
			}
		}
		return fail(err, cap, path, "expected %s or %s, got %s",
			    expect_name(s->alts[0]->type),
			    s->alts[1] ? expect_name(s->alts[1]->type) : "", type_name(v));
	}
	if (!type_matches(s->type, v)) {
		return fail(err, cap, path, "expected %s, got %s", expect_name(s->type),
			    type_name(v));
	}
	switch (s->type) {
	case VS_OBJECT:
		return check_fields(s->fields, NULL, v, path, err, cap, depth);
	case VS_TAGGED:
		return check_tagged(s, v, path, err, cap, depth);
	case VS_ARRAY:
		n = json_array_size(v);
		if ((long long)n < s->min || (long long)n > s->max) {
			return fail(err, cap, path, "expected %lld to %lld items, got %zu", s->min,
				    s->max, n);
		}
		json_array_foreach(v, i, item)
		{
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			r = check_value(s->items, item, sub, err, cap, depth + 1);
			if (r) {
				return r;
			}
		}
		return 0;
	case VS_INT: {
		json_int_t x = json_integer_value(v);

		if (x < s->min || x > s->max) {
			return fail(err, cap, path,
				    "%" JSON_INTEGER_FORMAT " is out of range %lld..%lld", x,
				    s->min, s->max);
		}
		return 0;
	}
	case VS_BOOL:
		return 0;
	case VS_STRING:
		n = utf8_len(json_string_value(v), json_string_length(v));
		if (memchr(json_string_value(v), '\0', json_string_length(v))) {
			return fail(err, cap, path, "must not contain NUL characters");
		}
		if ((long long)n < s->min || (long long)n > s->max) {
			return fail(err, cap, path, "expected %lld to %lld characters, got %zu",
				    s->min, s->max, n);
		}
		return 0;
	case VS_ENUM:
		for (i = 0; s->values[i]; i++) {
			if (strcmp(s->values[i], json_string_value(v)) == 0) {
				return 0;
			}
		}
		return fail(err, cap, path, "unknown value (expected one of %s%s)", s->values[0],
			    s->values[1] ? ", ..." : "");
	case VS_HEX:
		return check_hex(s, v, path, err, cap);
	case VS_UUID:
		return check_uuid(v, path, err, cap);
	case VS_NAME: {
		const char *str = json_string_value(v);

		n = json_string_length(v);
		if ((long long)n < s->min || (long long)n > s->max) {
			return fail(err, cap, path,
				    "expected %lld to %lld characters [A-Za-z0-9_-]", s->min,
				    s->max);
		}
		for (i = 0; i < n; i++) {
			if (!isalnum((unsigned char)str[i]) && str[i] != '_' && str[i] != '-') {
				return fail(err, cap, path,
					    "only letters, digits, '_' and '-' allowed");
			}
		}
		return 0;
	}
	case VS_ANYOF:
		break;
	}
	return fail(err, cap, path, "unsupported schema");
}

int vs_check(const struct vs *s, json_t *v, const char *path, char *err, size_t cap)
{
	return check_value(s, v, path ? path : "", err, cap, 0);
}

json_t *vs_from_text(const struct vs *s, const char *text, const char *name, char *err, size_t cap)
{
	char *end;
	long long x;

	switch (s->type) {
	case VS_INT:
		/* Decimal only, no sign games: strtoll accepts " +1", which a URL should not. */
		if (!text[0] || !(isdigit((unsigned char)text[0]) || text[0] == '-')) {
			break;
		}
		errno = 0;
		x = strtoll(text, &end, 10);
		if (errno || *end) {
			break;
		}
		return json_integer(x);
	case VS_BOOL:
		if (strcmp(text, "true") == 0) {
			return json_true();
		}
		if (strcmp(text, "false") == 0) {
			return json_false();
		}
		break;
	case VS_STRING:
	case VS_ENUM:
	case VS_HEX:
	case VS_UUID:
	case VS_NAME: {
		json_t *str = json_string(text);

		if (str) {
			return str;
		}
		fail(err, cap, name, "not valid UTF-8");
		return NULL;
	}
	case VS_OBJECT:
	case VS_ARRAY:
	case VS_TAGGED:
	case VS_ANYOF:
		break;
	}
	fail(err, cap, name, "expected %s",
	     s->type == VS_BOOL ? "true or false" : expect_name(s->type));
	return NULL;
}
