/*
 * A writer of the Prometheus text exposition format, version 0.0.4 (the
 * format a Prometheus server scrapes: "# HELP" and "# TYPE" lines, then one
 * sample per line, label values quoted with \\, \" and \n escaped).
 *
 * The text is built in a growing buffer owned by struct prom.  Writers do not
 * report errors one by one: an allocation failure is remembered and
 * prom_take() then returns NULL, so a caller writes every family and checks
 * once.
 *
 * Labels are given as a NULL-terminated array of name/value pairs
 * ({"route", "/healthz", "code", "200", NULL}); NULL stands for no labels.
 * Label names and metric names are the caller's constants and are not
 * escaped; label values may be anything and are.
 */
#ifndef API_PROM_H
#define API_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct prom {
	char *buf;
	size_t len, cap;
	bool failed; /* an allocation failed: prom_take() returns NULL */
};

/* An empty writer (no allocation yet). */
void prom_init(struct prom *p);
/* Frees what the writer holds (after prom_take(), nothing). */
void prom_free(struct prom *p);
/*
 * The text written so far, NUL-terminated, now the caller's (free()), with its
 * length in *len; NULL after an allocation failure.  The writer is empty after.
 */
char *prom_take(struct prom *p, size_t *len);

/* "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram). */
void prom_family(struct prom *p, const char *name, const char *type, const char *help);
/* One sample with an integer value. */
void prom_u64(struct prom *p, const char *name, const char *const *labels, uint64_t v);
/* One sample with a real value (NaN and the infinities as the format spells them). */
void prom_double(struct prom *p, const char *name, const char *const *labels, double v);
/*
 * A histogram's samples: name_bucket for every upper bound in bounds (nb of
 * them, ascending) and le="+Inf", cumulative, then name_sum and name_count.
 * counts holds nb + 1 per-bucket (not cumulative) counts, the last one for
 * the observations above the highest bound.
 */
void prom_histogram(struct prom *p, const char *name, const char *const *labels,
		    const double *bounds, size_t nb, const uint64_t *counts, double sum);

#endif
