#include "tests/util/tv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = tolower(c);
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	return -1;
}

int tv_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (isspace((unsigned char)*hex)) {
			continue;
		}
		v = hexval((unsigned char)*hex);
		if (v < 0) {
			return -1;
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap) {
			return -1;
		}
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (int)n : -1;
}

const char *tv_tohex(const uint8_t *p, size_t len)
{
	static _Thread_local char buf[2 * 1024 + 1];
	size_t i;

	if (len > 1024) {
		len = 1024;
	}
	for (i = 0; i < len; i++) {
		snprintf(buf + 2 * i, 3, "%02x", p[i]);
	}
	buf[2 * len] = '\0';
	return buf;
}

json_t *tv_root(void)
{
	static json_t *root;
	json_error_t err;

	if (!root) {
		root = json_load_file(MESHGW_VECTORS, 0, &err);
		if (!root) {
			fprintf(stderr, "cannot load %s: %s (line %d)\n", MESHGW_VECTORS, err.text,
				err.line);
			abort();
		}
	}
	return root;
}

json_t *tv_get(const char *path)
{
	json_t *cur = tv_root();
	char buf[256];
	char *s, *tok, *save = NULL;

	if (strlen(path) >= sizeof(buf)) {
		return NULL;
	}
	strcpy(buf, path);
	s = buf;
	for (tok = strtok_r(s, ".", &save); tok && cur; tok = strtok_r(NULL, ".", &save)) {
		char *br = strchr(tok, '[');

		if (br) {
			char *eq = strchr(br, '=');
			char *end = strrchr(br, ']');
			size_t i;
			json_t *el, *arr;

			*br = '\0';
			arr = *tok ? json_object_get(cur, tok) : cur;
			cur = NULL;
			if (!eq || !end || !json_is_array(arr)) {
				return NULL;
			}
			*eq = '\0';
			*end = '\0';
			if (!*(eq + 1) && isdigit((unsigned char)br[1])) {
				return NULL;
			}
			json_array_foreach(arr, i, el)
			{
				const char *v = json_string_value(json_object_get(el, br + 1));

				if (v && strcmp(v, eq + 1) == 0) {
					cur = el;
					break;
				}
			}
		} else if (json_is_array(cur) && isdigit((unsigned char)tok[0])) {
			cur = json_array_get(cur, strtoul(tok, NULL, 10));
		} else {
			cur = json_object_get(cur, tok);
		}
	}
	return cur;
}

const char *tv_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int tv_bytes(json_t *obj, const char *key, uint8_t *out, size_t cap)
{
	const char *s = tv_str(obj, key);

	return s ? tv_hex(s, out, cap) : -1;
}

unsigned long tv_hexnum(json_t *obj, const char *key, unsigned long dflt)
{
	const char *s = tv_str(obj, key);

	return s ? strtoul(s, NULL, 16) : dflt;
}

int tv_rng(void *ctx, uint8_t *buf, size_t len)
{
	uint64_t *st = ctx;
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t x = *st ? *st : 0x9e3779b97f4a7c15ull;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		*st = x;
		buf[i] = (uint8_t)(x >> 32);
	}
	return 0;
}
