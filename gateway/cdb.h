/*
 * Mesh Configuration Database (Mesh CDB 1.0.0 / 1.0.1) JSON codec: the
 * document as exchanged with nRF Mesh and BlueZ's mesh-cfgclient, to and
 * from the inventory's records (storage/store_cdb.h).
 *
 * Field names, formats and required members follow the public tools'
 * network models (tests/cdb/README.md); tests/cdb/cdb-schema.json is the
 * JSON Schema the tests hold every export to.  The parser is the import's
 * schema check, written out by hand with bounds on every size; pure (no
 * I/O, no globals), so the fuzz target drives it directly.
 */
#ifndef GATEWAY_CDB_H
#define GATEWAY_CDB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "storage/store_cdb.h"

#define CDB_SCHEMA "http://json-schema.org/draft-04/schema#"
/* The "id" nRF Mesh (1.0.1) writes; BlueZ writes the 1.0.0 one (both accepted). */
#define CDB_ID_101 "https://www.bluetooth.com/specifications/specs/mesh-cdb-1-0-1-schema.json#"
#define CDB_ID_100                                                                                 \
	"http://www.bluetooth.com/specifications/assigned-numbers/mesh-profile/cdb-schema.json#"

/* Bounds on what one document may hold (the import's body limit is 4 MiB). */
#define CDB_MAX_KEYS 4096
#define CDB_MAX_NODES 32767
#define CDB_MAX_PROVISIONERS 256
#define CDB_MAX_ELEMENTS 255
#define CDB_MAX_MODELS 256 /* per element */
#define CDB_MAX_LIST 4096  /* bindings, subscriptions, scene addresses, exclusions */

/*
 * Shape check and conversion of a parsed JSON document.  Returns 0 and a
 * new document in *out (free with store_cdb_free()), or -EINVAL with err
 * naming the JSON pointer of the first problem and what is wrong with it:
 * "/nodes/3/unicastAddress: must be 4 hex digits".
 */
int cdb_parse(const json_t *root, struct store_cdb **out, char *err, size_t err_cap);

/*
 * Consistency of a parsed document on its own: overlapping provisioner
 * ranges, nodes whose element addresses collide, duplicate UUIDs or key
 * indexes, AppKeys bound to missing NetKeys, node keys and bindings naming
 * missing indexes, a node on its own exclusion list.  0 or -EDOM with err
 * naming the member ("/nodes/4/unicastAddress: elements 0x0005-0x0006
 * overlap /nodes/1 (0x0004-0x0005)").
 */
int cdb_check(const struct store_cdb *doc, char *err, size_t err_cap);

/*
 * The document as JSON (a new reference; NULL on allocation failure).  When
 * doc->partial, no key appears and "partial" is true.  Members the records
 * leave unknown are omitted; required ones without a value get the
 * profile's neutral value (documented at each).
 */
json_t *cdb_encode(const struct store_cdb *doc, uint64_t now_ms);

#endif /* GATEWAY_CDB_H */
