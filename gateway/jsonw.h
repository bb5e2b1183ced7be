/*
 * A JSON text writer for the hot read paths (issue 15): a page of 100 nodes
 * built as jansson objects and then dumped spends most of its time in
 * allocation and json_pack's format parsing; writing the text directly into
 * one growing buffer does the same work in a small fraction.
 *
 * The output is byte for byte what json_dumps(..., JSON_COMPACT) prints for
 * the same values in the same key order (no spaces, strings escaped as
 * jansson does: \" \\ \b \f \n \r \t, other control characters as \u00XX
 * with upper-case hex, everything else as is), so answers written here and
 * answers built with jansson can be compared octet for octet
 * (tests/gateway/test_jsonw.c).
 *
 * Errors are sticky: after a failed allocation every call is a no-op and
 * gw_jw_take() returns NULL, so a writer is used without checking each call.
 */
#ifndef GW_JSONW_H
#define GW_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct gw_jw {
	char *p;
	size_t len, cap;
	bool failed;
};

/* Appends n octets as they are (JSON punctuation and literal keys). */
void gw_jw_raw(struct gw_jw *w, const char *s, size_t n);
/* Appends a NUL-terminated literal as it is (inline: a literal's length is folded). */
static inline void gw_jw_lit(struct gw_jw *w, const char *s)
{
	gw_jw_raw(w, s, strlen(s));
}
/* Appends s as a JSON string, quoted and escaped (s is UTF-8, NUL-terminated). */
void gw_jw_str(struct gw_jw *w, const char *s);
/* Appends a decimal integer. */
void gw_jw_int(struct gw_jw *w, long long v);
/* Appends true or false. */
void gw_jw_bool(struct gw_jw *w, bool v);
/*
 * The text written (NUL-terminated, owned by the caller: free()), or NULL
 * after an allocation failure.  The writer is empty again afterwards.
 */
char *gw_jw_take(struct gw_jw *w, size_t *len);
/* Frees what the writer holds (after an error, or instead of taking it). */
void gw_jw_free(struct gw_jw *w);

#endif
