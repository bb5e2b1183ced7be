/*
 * libFuzzer target: commissioning manifests (gateway/manifest.c).  A first
 * octet 'j' picks JSON, any other CSV; the rest is the body.  Beyond memory
 * safety it checks what callers rely on: errors come sorted by row and within
 * the cap, an accepted row is complete for its auth method, and an accepted
 * manifest written back as JSON parses to the same rows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_row(const struct mf_row *r)
{
	bool secret = r->auth == MF_AUTH_STATIC || r->auth == MF_AUTH_OOB_KEY;
	bool oob = r->auth == MF_AUTH_OUTPUT || r->auth == MF_AUTH_INPUT;

	if (!r->uuid_ok || (secret && r->secret_len == 0) || (!secret && r->secret_len) ||
	    (oob && (!r->action || r->size < 1 || r->size > 8))) {
		abort();
	}
}

/* The accepted rows, as a JSON manifest, give the same rows back. */
static void round_trip(const struct mf *m)
{
	json_t *doc = json_object(), *devs = json_array();
	struct mf *again = NULL;
	char *text;

	for (size_t i = 0; i < m->n_rows; i++) {
		json_array_append_new(devs, mf_row_json(&m->rows[i], true));
	}
	json_object_set_new(doc, "devices", devs);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text || mf_parse(MF_JSON, text, strlen(text), NULL, &again)) {
		abort();
	}
	if (again->n_err || again->n_rows != m->n_rows) {
		abort();
	}
	for (size_t i = 0; i < m->n_rows; i++) {
		const struct mf_row *a = &m->rows[i], *b = &again->rows[i];

		if (memcmp(a->uuid, b->uuid, 16) || strcmp(a->name, b->name) ||
		    strcmp(a->zone, b->zone) || a->auth != b->auth ||
		    a->secret_len != b->secret_len || memcmp(a->secret, b->secret, a->secret_len) ||
		    a->size != b->size) {
			abort();
		}
	}
	mf_free(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const profiles[] = {"all", "none", NULL};
	const struct mf_opts opts = {.profiles = profiles};
	struct mf *m = NULL;

	if (size < 1) {
		return 0;
	}
	if (mf_parse(data[0] == 'j' ? MF_JSON : MF_CSV, (const char *)data + 1, size - 1, &opts,
		     &m)) {
		return 0;
	}
	if (m->n_err > MF_MAX_ERRORS || m->n_err > m->n_err_total + 1) {
		abort();
	}
	for (size_t i = 1; i < m->n_err; i++) {
		if (m->errs[i].row < m->errs[i - 1].row && m->errs[i].row != 0) {
			abort(); /* only the closing "more errors" line (row 0) may come last */
		}
	}
	if (m->n_err == 0) {
		for (size_t i = 0; i < m->n_rows; i++) {
			check_row(&m->rows[i]);
		}
		round_trip(m);
	}
	mf_free(m);
	return 0;
}
