/*
 * libFuzzer target for the Mesh CDB import's parser and consistency check
 * (gateway/cdb.h): the input is the request body of POST /api/v1/cdb.  An
 * accepted document must encode, and the encoding must parse again to a
 * document that encodes to the same text (no record is lost or invented).
 * Seeds in fuzz/corpus/cdb_import/: the test fixtures (nRF Mesh 1.0.1 with
 * groups and exclusions, a BlueZ export, a 1.0.0 file) and a meshgw export.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_cdb *d = NULL, *d2 = NULL;
	json_t *j, *e, *e2;
	char err[320];
	char *t1, *t2;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!j) {
		return 0;
	}
	if (cdb_parse(j, &d, err, sizeof(err)) != 0) {
		/* A refusal always says where and why. */
		if (err[0] != '/' && strcmp(err, "out of memory") != 0) {
			abort();
		}
		json_decref(j);
		return 0;
	}
	(void)cdb_check(d, err, sizeof(err));
	e = cdb_encode(d, 0);
	if (!e || cdb_parse(e, &d2, err, sizeof(err)) != 0) {
		abort();
	}
	e2 = cdb_encode(d2, 0);
	t1 = json_dumps(e, JSON_SORT_KEYS | JSON_COMPACT);
	t2 = json_dumps(e2, JSON_SORT_KEYS | JSON_COMPACT);
	if (!t1 || !t2 || strcmp(t1, t2) != 0) {
		abort();
	}
	free(t1);
	free(t2);
	json_decref(e);
	json_decref(e2);
	store_cdb_free(d);
	store_cdb_free(d2);
	json_decref(j);
	return 0;
}
