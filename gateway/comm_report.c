/* The commission report as CSV (comm_report.h). */
#include "gateway/comm_report.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom) {
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap : 256) * 2;
		char *p;

		while (cap < b->len + n + 1) {
			cap *= 2;
		}
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* One field (RFC 4180 §2.6-2.7), guarded against spreadsheet formulas. */
static void put_field(struct buf *b, const char *s, bool first)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;

	if (!first) {
		put(b, ",", 1);
	}
	if (quote) {
		put(b, "\"", 1);
	}
	if (strchr("=+-@", s[0]) && s[0]) {
		put(b, "'", 1);
	}
	for (; *s; s++) {
		put(b, s, 1);
		if (*s == '"') {
			put(b, "\"", 1);
		}
	}
	if (quote) {
		put(b, "\"", 1);
	}
}

static const char *const csv_cols[] = {"uuid",     "name",   "zone",   "address", "path",
				       "attempts", "time_s", "result", "error"};
#define N_COLS (sizeof(csv_cols) / sizeof(csv_cols[0]))

char *gw_comm_report_csv(const json_t *report)
{
	struct buf b = {0};
	const json_t *items = json_object_get(report, "items"), *it;
	size_t i, c;

	for (c = 0; c < N_COLS; c++) {
		put_field(&b, csv_cols[c], c == 0);
	}
	put(&b, "\r\n", 2);
	json_array_foreach(items, i, it)
	{
		for (c = 0; c < N_COLS; c++) {
			const json_t *v = json_object_get(it, csv_cols[c]);
			char num[32];
			const char *s = "";

			if (json_is_string(v)) {
				s = json_string_value(v);
			} else if (json_is_integer(v) && (c == 3 || c == 4)) {
				/* Addresses as a technician reads them. */
				snprintf(num, sizeof(num), "0x%04llx",
					 (unsigned long long)json_integer_value(v));
				s = num;
			} else if (json_is_integer(v)) {
				snprintf(num, sizeof(num), "%lld",
					 (long long)json_integer_value(v));
				s = num;
			} else if (json_is_real(v)) {
				snprintf(num, sizeof(num), "%.1f", json_real_value(v));
				s = num;
			}
			put_field(&b, s, c == 0);
		}
		put(&b, "\r\n", 2);
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
