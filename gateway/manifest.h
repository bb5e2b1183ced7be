/*
 * Commissioning manifests: a technician's list of the devices of a building,
 * as CSV (RFC 4180, header row) or JSON.  This module only parses and
 * validates untrusted bytes; it does no I/O and keeps no state between calls
 * (its one dependency beyond jansson is the P-256 point check of mesh/crypto.h).
 *
 * Fields of a row (the same in both formats):
 *   uuid     required; 32 hex digits or the dashed 8-4-4-4-12 form
 *   name     optional label, at most MF_NAME_MAX octets of UTF-8
 *   zone     optional label, at most MF_NAME_MAX octets of UTF-8
 *   auth     none | static | output | input | oob_public_key | certificate (default none)
 *   profile  optional; what to configure after provisioning: a caller passes
 *            the names it knows (the gateway: its configuration's profiles,
 *            conf.h), or NULL to check only the syntax [A-Za-z0-9_.-]{1,32}.
 *   notes    optional free text, at most MF_NOTES_MAX octets of UTF-8
 *
 * CSV spells auth over four columns (any order, names case-insensitive):
 *   auth         the method
 *   auth_value   static: the AuthValue in hex (16 or 32 octets);
 *                oob_public_key: the device's P-256 public key X||Y in hex
 *                (64 octets, checked to be a point of the curve)
 *   auth_action  output: blink|beep|vibrate|numeric|alphanumeric;
 *                input: push|twist|numeric|alphanumeric
 *   auth_size    output/input: 1..8 (Mesh Profile §5.4.1.2 Output/Input OOB Size)
 * JSON writes it as in POST /api/v1/provisioning:
 *   {"devices": [{"uuid": ..., "auth": {"method": "static", "static_oob": hex}
 *                 | {"method": "output"|"input", "action": a, "size": n}
 *                 | {"method": "oob_public_key", "public_key": hex}, ...}]}
 * An auth member that the method does not use is an error (a CSV cell that
 * is not empty, a JSON member), so a row never carries a secret silently.
 *
 * Every problem is reported, each with its row: rows count from 1 (the first
 * device; in CSV the record after the header); row 0 is the document itself
 * (malformed JSON, header, limits).  CSV errors also carry the line where
 * the record starts.
 */
#ifndef GW_MANIFEST_H
#define GW_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MF_MAX_ROWS 10000u
#define MF_MAX_ROW_BYTES 2048u /* one CSV record (JSON rows are bounded by their fields) */
#define MF_MAX_BYTES (4u * 1024u * 1024u)
#define MF_NAME_MAX 64u
#define MF_PROFILE_MAX 32u
#define MF_NOTES_MAX 512u
/* Errors kept; past it the count goes on (mf->n_err_total) and one last error says so. */
#define MF_MAX_ERRORS 10000u
#define MF_SECRET_MAX 64u /* the OOB public key; a static AuthValue is 16 or 32 */

enum mf_format {
	MF_CSV,
	MF_JSON,
};

enum mf_auth {
	MF_AUTH_NONE,
	MF_AUTH_STATIC,
	MF_AUTH_OUTPUT,
	MF_AUTH_INPUT,
	MF_AUTH_OOB_KEY,
	MF_AUTH_CERT, /* certificate-based provisioning: the device's certificate, no value */
};

struct mf_row {
	uint8_t uuid[16];
	char name[MF_NAME_MAX + 1];
	char zone[MF_NAME_MAX + 1];
	char profile[MF_PROFILE_MAX + 1];
	char *notes; /* owned; NULL when empty */
	enum mf_auth auth;
	const char *action; /* output/input: static string from the action table */
	uint8_t size;       /* output/input: 1..8 */
	uint8_t secret[MF_SECRET_MAX];
	uint8_t secret_len; /* static: 16 or 32; oob_public_key: 64; else 0 */
	uint32_t row;       /* its number in errors (1 = the first device) */
	uint32_t line;      /* CSV: the line where the record starts; JSON: 0 */
	bool uuid_ok;       /* uuid holds a well-formed UUID */
};

struct mf_err {
	uint32_t row; /* 0: the document */
	uint32_t line;
	char field[16];
	char msg[120];
	uint32_t seq; /* private: the order found, to sort errors by row stably */
};

struct mf {
	enum mf_format format;
	struct mf_row *rows; /* the rows read (a CSV record too broken to read is not one) */
	size_t n_rows;
	struct mf_err *errs;
	size_t n_err;       /* kept in errs */
	size_t n_err_total; /* found, >= n_err */
};

struct mf_opts {
	const char *const *profiles; /* NULL-terminated known names; NULL: syntax only */
};

/*
 * Parses and validates len octets of buf (not NUL-terminated; any bytes).
 * Returns 0 and a new manifest in *out (free with mf_free()) whose n_err
 * says whether it is valid; -ENOMEM.  opts may be NULL.
 */
int mf_parse(enum mf_format fmt, const char *buf, size_t len, const struct mf_opts *opts,
	     struct mf **out);

/* Wipes the secrets and frees; accepts NULL. */
void mf_free(struct mf *m);

/* Method name ("static"), static storage. */
const char *mf_auth_name(enum mf_auth a);

/*
 * The row as JSON in the manifest JSON shape: {uuid, name?, zone?, auth,
 * profile?, notes?}; with secrets false the static value and public key are
 * left out of auth.  New reference; NULL on allocation failure.
 */
json_t *mf_row_json(const struct mf_row *r, bool secrets);

/* The errors as [{row, field, message} + line for CSV]; new reference. */
json_t *mf_errors_json(const struct mf *m);

#endif /* GW_MANIFEST_H */
