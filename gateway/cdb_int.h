/*
 * Internals shared by gateway/cdb*.c: the parse context (the JSON pointer
 * of the member being read, and the first error) and the bounded readers of
 * the profile's formats, defined in cdb_json.c.  Not for other modules.
 */
#ifndef GATEWAY_CDB_INT_H
#define GATEWAY_CDB_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store_cdb.h"

struct cx {
	char *err;
	size_t cap;
	char path[256];
	size_t len;
	bool failed;
};

/* Append "/key" (or "/i") to the pointer; returns the old length for cdb_pop(). */
size_t cdb_push(struct cx *c, const char *key);
size_t cdb_push_i(struct cx *c, size_t i);
void cdb_pop(struct cx *c, size_t old);
/* Record the first error as "POINTER: message"; returns -EINVAL. */
int cdb_fail(struct cx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same at "POINTER/key". */
int cdb_fail_at(struct cx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Exactly 2 * n hex digits into out. */
bool cdb_unhex(const char *s, size_t len, uint8_t *out, size_t n);
/* Member key of obj; NULL when absent (and an error when required). */
json_t *cdb_member(struct cx *c, const json_t *obj, const char *key, bool required);
/* Readers of one member: 0, or -EINVAL with the error recorded. */
int cdb_get_hex4(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		 uint16_t *out);
int cdb_addr_or_label(struct cx *c, const json_t *v, uint16_t *addr, bool *has_label,
		      uint8_t label[16]);
int cdb_get_key(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		uint8_t out[16]);
int cdb_get_uuid(struct cx *c, const json_t *obj, const char *key, uint8_t out[16]);
int cdb_get_int(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		long long lo, long long hi, long long *out);
int cdb_get_bool(struct cx *c, const json_t *obj, const char *key, bool required, bool *present,
		 bool *out);
int cdb_get_name(struct cx *c, const json_t *obj, const char *key, bool required, char *out);
json_t *cdb_get_array(struct cx *c, const json_t *obj, const char *key, bool required, size_t max);
int cdb_need_object(struct cx *c, const json_t *v);
int cdb_index_list(struct cx *c, const json_t *obj, const char *key, bool objects, uint16_t **out,
		   size_t *n);

/* One item of an array member: v at "/key/i"; 0, or -EINVAL / -ENOMEM. */
typedef int (*cdb_item_fn)(struct cx *c, const json_t *v, size_t i, void *arg);
/* How cdb_each() reads an array member. */
struct cdb_walk {
	const char *key;
	bool required; /* absent and optional: 0, nothing allocated */
	size_t max;    /* at most max items */
	size_t size;   /* > 0: calloc *items, size bytes an item (none for an empty array) */
	bool spare;    /* with size: one zeroed item more, also for an empty array */
};
/*
 * The array member w->key of obj: fn for each item with the pointer at
 * "/key/i", *n (when not NULL) set to i + 1 before, so a partial result is
 * freed.  The first error stops the walk.
 */
int cdb_each(struct cx *c, const json_t *obj, const struct cdb_walk *w, void **items, size_t *n,
	     cdb_item_fn fn, void *arg);

/* cdb_node.c: the "nodes" array into d->nodes. */
int cdb_parse_nodes(struct cx *c, const json_t *root, struct store_cdb *d);

#endif /* GATEWAY_CDB_INT_H */
