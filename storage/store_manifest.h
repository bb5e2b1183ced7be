/*
 * Commissioning manifests (schema 5): a list of devices, one row each, kept
 * until it is replaced or deleted.  gateway/manifest.h parses and checks
 * them; this module only stores what it is given.
 *
 * A row is its UUID, its fields as a JSON object text that holds no secret,
 * and at most one secret (a static OOB AuthValue of 16 or 32 octets, or an
 * OOB public key of 64), sealed under the master key in 16-octet units like
 * every other key (store.h, store_job.c).  The additional data of each unit
 * names manifest, row, unit and total length ("manifest:3:17:2/64"), so a
 * unit moved to another row or position, or a secret cut short, does not open.
 *
 * Errors as in store.h.
 */
#ifndef STORAGE_STORE_MANIFEST_H
#define STORAGE_STORE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define STORE_MANIFEST_SECRET_MAX 64
#define STORE_MANIFEST_FORMAT_MAX 8 /* "csv", "json"; including the NUL */

struct store_manifest_row {
	uint8_t uuid[16];
	const char *data;      /* a JSON object text without secrets (borrowed) */
	const uint8_t *secret; /* NULL when secret_len is 0 (borrowed) */
	size_t secret_len;     /* 0, 16, 32 or 64 */
};

struct store_manifest {
	uint64_t id;
	char format[STORE_MANIFEST_FORMAT_MAX];
	char created_by[STORE_NAME_MAX];
	size_t rows;
	uint64_t created_ms, updated_ms;
};

/*
 * Stores n rows (UUIDs distinct, else -EEXIST) in one transaction.  *id 0
 * makes a new manifest and sets *id; another *id replaces that manifest's
 * rows (-ENOENT when there is none).  Audited.
 */
int store_manifest_put(struct store *s, uint64_t *id, const char *format,
		       const struct store_manifest_row *rows, size_t n);

int store_manifest_get(struct store *s, uint64_t id, struct store_manifest *out);

/* Every manifest, oldest first; *out is a new array (free()), NULL when none. */
int store_manifest_list(struct store *s, struct store_manifest **out, size_t *n);

/*
 * Calls fn for each row of manifest id in order, with its secret unsealed
 * when secrets is true (NULL, 0 otherwise; the buffer is wiped after fn
 * returns).  A non-zero return of fn stops and is returned.
 */
typedef int (*store_manifest_row_fn)(void *ctx, uint32_t idx, const uint8_t uuid[16],
				     const char *data, const uint8_t *secret, size_t secret_len);
int store_manifest_rows(struct store *s, uint64_t id, bool secrets, store_manifest_row_fn fn,
			void *ctx);

/* Deletes the manifest and its rows; -ENOENT.  Audited. */
int store_manifest_delete(struct store *s, uint64_t id);

#endif /* STORAGE_STORE_MANIFEST_H */
