/* JSON text writer (jsonw.h). */
#include <stdlib.h>
#include <string.h>

#include "gateway/jsonw.h"

/* Room for n more octets and a NUL; false (and failed) when there is none. */
static bool reserve(struct gw_jw *w, size_t n)
{
	size_t cap;
	char *p;

	if (w->failed) {
		return false;
	}
	if (w->len + n + 1 <= w->cap) {
		return true;
	}
	cap = w->cap ? w->cap : 1024;
	while (cap < w->len + n + 1) {
		cap *= 2;
	}
	p = realloc(w->p, cap);
	if (!p) {
		w->failed = true;
		return false;
	}
	w->p = p;
	w->cap = cap;
	return true;
}

void gw_jw_raw(struct gw_jw *w, const char *s, size_t n)
{
	if (reserve(w, n)) {
		memcpy(w->p + w->len, s, n);
		w->len += n;
		w->p[w->len] = '\0';
	}
}

void gw_jw_str(struct gw_jw *w, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *run = s;

	gw_jw_raw(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = {'\\', 0, '0', '0', 0, 0};
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\') {
			continue;
		}
		gw_jw_raw(w, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			/* RFC 8259 §7: any other control character as \u00XX. */
			esc[1] = 'u';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		gw_jw_raw(w, esc, n);
	}
	gw_jw_raw(w, run, (size_t)(s - run));
	gw_jw_raw(w, "\"", 1);
}

void gw_jw_int(struct gw_jw *w, long long v)
{
	char buf[24], *e = buf + sizeof(buf), *p = e;
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0) {
		*--p = '-';
	}
	gw_jw_raw(w, p, (size_t)(e - p));
}

void gw_jw_bool(struct gw_jw *w, bool v)
{
	gw_jw_lit(w, v ? "true" : "false");
}

char *gw_jw_take(struct gw_jw *w, size_t *len)
{
	char *p = NULL;

	if (!w->failed && reserve(w, 0)) {
		p = w->p;
		*len = w->len;
		w->p = NULL;
	}
	gw_jw_free(w);
	return p;
}

void gw_jw_free(struct gw_jw *w)
{
	free(w->p);
	*w = (struct gw_jw){0};
}
