#include "api/prom.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest metric name the histogram writer composes with a suffix. */
#define PROM_NAME_MAX 128

void prom_init(struct prom *p)
{
	memset(p, 0, sizeof(*p));
}

void prom_free(struct prom *p)
{
	free(p->buf);
	prom_init(p);
}

char *prom_take(struct prom *p, size_t *len)
{
	char *text = p->buf;

	if (p->failed || !text) {
		prom_free(p);
		text = p->failed ? NULL : strdup("");
		*len = 0;
		return text;
	}
	*len = p->len;
	prom_init(p);
	return text;
}

static bool reserve(struct prom *p, size_t more)
{
	size_t cap = p->cap ? p->cap : 4096;
	char *b;

	if (p->failed) {
		return false;
	}
	while (cap < p->len + more + 1) {
		cap *= 2;
	}
	if (cap != p->cap) {
		b = realloc(p->buf, cap);
		if (!b) {
			p->failed = true;
			return false;
		}
		p->buf = b;
		p->cap = cap;
	}
	return true;
}

static void put(struct prom *p, const char *s, size_t n)
{
	if (reserve(p, n)) {
		memcpy(p->buf + p->len, s, n);
		p->len += n;
		p->buf[p->len] = '\0';
	}
}

static void puts_(struct prom *p, const char *s)
{
	put(p, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(struct prom *p, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Only numbers go through here: they fit. */
	if (n > 0 && (size_t)n < sizeof(tmp)) {
		put(p, tmp, (size_t)n);
	}
}

/*
 * Escapes s for a label value (quoted: \\, \" and \n) or for HELP text
 * (unquoted: \\ and \n only), as the exposition format requires.
 */
static void put_escaped(struct prom *p, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\') {
			puts_(p, "\\\\");
		} else if (*s == '\n') {
			puts_(p, "\\n");
		} else if (*s == '"' && quote) {
			puts_(p, "\\\"");
		} else {
			put(p, s, 1);
		}
	}
}

void prom_family(struct prom *p, const char *name, const char *type, const char *help)
{
	puts_(p, "# HELP ");
	puts_(p, name);
	put(p, " ", 1);
	put_escaped(p, help, false);
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	put(p, " ", 1);
	puts_(p, type);
	put(p, "\n", 1);
}

/* name{labels...,le="..."} with le appended when given. */
static void put_head(struct prom *p, const char *name, const char *const *labels, const char *le)
{
	bool first = true;

	puts_(p, name);
	for (; labels && labels[0]; labels += 2) {
		put(p, first ? "{" : ",", 1);
		first = false;
		puts_(p, labels[0]);
		puts_(p, "=\"");
		put_escaped(p, labels[1] ? labels[1] : "", true);
		put(p, "\"", 1);
	}
	if (le) {
		puts_(p, first ? "{le=\"" : ",le=\"");
		puts_(p, le);
		put(p, "\"", 1);
		first = false;
	}
	puts_(p, first ? " " : "} ");
}

/*
 * A finite number in the fewest digits that read back to the same double, so
 * that a bucket bound of 0.005 is written le="0.005", not 0.0050000000000000001.
 */
static void fmt_num(char *out, size_t cap, double v)
{
	/* Whole numbers in plain digits (le="10", not 1e+01). */
	if (v > -1e15 && v < 1e15 && (double)(long long)v == v) {
		snprintf(out, cap, "%lld", (long long)v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v) {
			return;
		}
	}
}

/* A value as the format spells it: a number, NaN, +Inf or -Inf. */
static void put_value(struct prom *p, double v)
{
	char num[32];

	if (isnan(v)) {
		puts_(p, "NaN");
	} else if (isinf(v)) {
		puts_(p, v > 0 ? "+Inf" : "-Inf");
	} else {
		fmt_num(num, sizeof(num), v);
		puts_(p, num);
	}
}

void prom_u64(struct prom *p, const char *name, const char *const *labels, uint64_t v)
{
	put_head(p, name, labels, NULL);
	putf(p, "%llu\n", (unsigned long long)v);
}

void prom_double(struct prom *p, const char *name, const char *const *labels, double v)
{
	put_head(p, name, labels, NULL);
	put_value(p, v);
	put(p, "\n", 1);
}

void prom_histogram(struct prom *p, const char *name, const char *const *labels,
		    const double *bounds, size_t nb, const uint64_t *counts, double sum)
{
	char series[PROM_NAME_MAX + 8], le[32];
	uint64_t total = 0;
	size_t i;

	snprintf(series, sizeof(series), "%s_bucket", name);
	for (i = 0; i <= nb; i++) {
		total += counts[i];
		if (i < nb) {
			fmt_num(le, sizeof(le), bounds[i]);
		} else {
			snprintf(le, sizeof(le), "+Inf");
		}
		put_head(p, series, labels, le);
		putf(p, "%llu\n", (unsigned long long)total);
	}
	snprintf(series, sizeof(series), "%s_sum", name);
	prom_double(p, series, labels, sum);
	snprintf(series, sizeof(series), "%s_count", name);
	prom_u64(p, series, labels, total);
}
