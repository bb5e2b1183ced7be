/*
 * libFuzzer target for REST request bodies: the bytes are parsed as JSON the
 * way api/http.c does and validated against every route's body schema (the
 * validator also normalises values in place), then each string member is fed
 * through the query-parameter conversion.  No crash, no leak, no UB.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct api_route *routes;
	size_t n, i;
	char err[320];

	routes = api_routes(&n);
	for (i = 0; i < n; i++) {
		const struct vs *s = routes[i].body ? routes[i].body : routes[i].query;
		json_t *v;

		if (!s) {
			continue;
		}
		v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
		if (!v) {
			return 0;
		}
		if (vs_check(s, v, routes[i].body ? "" : "query", err, sizeof(err)) == 0 &&
		    s->type == VS_OBJECT && s->fields) {
			/* A valid body must stay valid after normalisation (idempotence). */
			if (vs_check(s, v, "", err, sizeof(err)) != 0) {
				__builtin_trap();
			}
		}
		if (json_is_object(v)) {
			const char *key;
			json_t *m;

			json_object_foreach(v, key, m)
			{
				if (json_is_string(m) && s->type == VS_OBJECT && s->fields) {
					json_decref(vs_from_text(s->fields[0].schema,
								 json_string_value(m), key, err,
								 sizeof(err)));
				}
			}
		}
		json_decref(v);
	}
	return 0;
}
