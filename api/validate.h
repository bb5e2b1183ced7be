/*
 * A small declarative JSON validator for request bodies and query strings.
 *
 * Every route describes its input with static `struct vs` tables (api/routes.c);
 * vs_check() walks a parsed value against them before any command is built, so
 * the gateway core receives only the shapes listed in gateway/gw_cmd.h.  The
 * first violation is reported as "<path>: <reason>", for example
 * "devices[2].auth.static_oob: expected 32 or 64 hex digits".
 *
 * Besides checking, vs_check() normalises a few values in place: hex strings
 * and UUIDs are lower-cased (UUIDs lose their dashes), and absent optional
 * members that declare a default are added.
 */
#ifndef API_VALIDATE_H
#define API_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum vs_type {
	VS_OBJECT, /* members listed in fields; unknown members refused */
	VS_ARRAY,  /* items; min..max elements */
	VS_STRING, /* min..max characters (UTF-8 code points) */
	VS_INT,    /* min..max inclusive */
	VS_BOOL,   /* true or false */
	VS_ENUM,   /* a string from values (NULL-terminated) */
	VS_HEX,    /* hex digits; the count is min or max (both even) */
	VS_UUID,   /* 32 hex digits, or the 8-4-4-4-12 form with dashes */
	VS_NAME,   /* [A-Za-z0-9_-]{min..max} */
	VS_TAGGED, /* object whose member `tag` (a string) selects one of variants */
	VS_ANYOF,  /* the first alternative whose JSON type matches */
};

struct vs;

struct vs_field {
	const char *name;
	const struct vs *schema;
	bool required;
	/* JSON text of the default inserted when the member is absent, or NULL. */
	const char *def;
};

struct vs_variant {
	const char *tag;
	const struct vs_field *fields; /* terminated by a {NULL} entry; may be NULL */
};

struct vs {
	enum vs_type type;
	long long min, max;
	bool nullable;
	const char *const *values;         /* VS_ENUM */
	const struct vs_field *fields;     /* VS_OBJECT, terminated by {NULL} */
	const struct vs *items;            /* VS_ARRAY */
	const char *tag;                   /* VS_TAGGED: discriminator member */
	const struct vs_variant *variants; /* VS_TAGGED, terminated by {NULL} */
	const struct vs *const *alts;      /* VS_ANYOF, NULL-terminated */
};

/*
 * Check (and normalise) v against s.  path is the name of v in messages ("" for
 * the top level).  Returns 0, or -EINVAL with a sentence in err (capacity cap).
 */
int vs_check(const struct vs *s, json_t *v, const char *path, char *err, size_t cap);

/*
 * Convert a query-string value to the JSON type that s expects (integers,
 * booleans "true"/"false", strings).  Returns a new reference, or NULL with a
 * reason in err when the text cannot be that type.
 */
json_t *vs_from_text(const struct vs *s, const char *text, const char *name, char *err, size_t cap);

#endif
