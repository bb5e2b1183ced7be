#include "gateway/manifest_svc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sec.h"
#include "gateway/manifest.h"
#include "gateway/util.h"
#include "storage/store_manifest.h"

/* The profile names a row may use: the configuration's, built-ins first (conf.h). */
static const char **known_profiles(const struct gw_conf *conf)
{
	size_t n = gw_conf_n_profiles(conf);
	const char **names = calloc(n + 1, sizeof(*names));

	for (size_t i = 0; names && i < n; i++) {
		names[i] = gw_conf_profile_name(conf, i);
	}
	return names;
}

static json_t *manifest_json(const struct store_manifest *m)
{
	return json_pack("{s:I, s:s, s:I, s:s, s:o, s:o}", "id", (json_int_t)m->id, "format",
			 m->format, "rows", (json_int_t)m->rows, "created_by", m->created_by,
			 "created_at", gw_time_json(m->created_ms), "updated_at",
			 gw_time_json(m->updated_ms));
}

/* The checked rows as the store takes them; their data texts are owned by *texts. */
static int to_store_rows(const struct mf *m, struct store_manifest_row **out, char ***texts)
{
	struct store_manifest_row *rows = calloc(m->n_rows ? m->n_rows : 1, sizeof(*rows));
	char **t = calloc(m->n_rows ? m->n_rows : 1, sizeof(*t));

	*out = rows;
	*texts = t;
	if (!rows || !t) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n_rows; i++) {
		const struct mf_row *r = &m->rows[i];
		json_t *o = mf_row_json(r, false);

		t[i] = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (!t[i]) {
			return -ENOMEM;
		}
		memcpy(rows[i].uuid, r->uuid, sizeof(r->uuid));
		rows[i].data = t[i];
		rows[i].secret = r->secret_len ? r->secret : NULL;
		rows[i].secret_len = r->secret_len;
	}
	return 0;
}

void gw_manifest_cmd_put(struct gw_core *core, struct gw_cmd *c)
{
	const char **names = known_profiles(&core->conf);
	struct mf_opts opts = {.profiles = (const char *const *)names};
	json_t *body = json_object_get(c->args, "body");
	const char *format = json_string_value(json_object_get(c->args, "format"));
	bool replace = json_object_get(c->args, "id") != NULL;
	uint64_t id = replace ? gw_cmd_id_arg(c) : 0;
	struct store_manifest_row *rows = NULL;
	struct store_manifest sm;
	char **texts = NULL, detail[128];
	struct mf *m = NULL;
	int r;

	if (!names) {
		gw_cmd_complete(core->q, c, -ENOMEM, NULL, "out of memory");
		return;
	}
	if (!json_is_string(body) || !format) {
		free(names);
		gw_cmd_complete(core->q, c, -EINVAL, NULL, "the manifest is missing");
		return;
	}
	if (replace && (!id || store_manifest_get(core->st, id, &sm))) {
		free(names);
		gw_cmd_complete(core->q, c, -ENOENT, NULL, "no such manifest");
		return;
	}
	r = mf_parse(strcmp(format, "json") ? MF_CSV : MF_JSON, json_string_value(body),
		     json_string_length(body), &opts, &m);
	free(names);
	if (r) {
		gw_cmd_complete(core->q, c, r, NULL, "out of memory");
		return;
	}
	if (m->n_err) {
		/* Nothing is stored: a half-valid manifest would commission half a building. */
		snprintf(detail, sizeof(detail), "%zu error%s in the manifest; nothing was stored",
			 m->n_err_total, m->n_err_total == 1 ? "" : "s");
		gw_cmd_complete(core->q, c, -EDOM, json_pack("{s:o}", "errors", mf_errors_json(m)),
				detail);
		mf_free(m);
		return;
	}
	r = to_store_rows(m, &rows, &texts);
	if (r == 0) {
		r = store_manifest_put(core->st, &id, m->format == MF_CSV ? "csv" : "json", rows,
				       m->n_rows);
	}
	for (size_t i = 0; texts && i < m->n_rows; i++) {
		free(texts[i]);
	}
	free(texts);
	free(rows);
	mf_free(m);
	if (r == 0) {
		r = store_manifest_get(core->st, id, &sm);
	}
	if (r) {
		gw_cmd_complete(core->q, c, r, NULL, store_strerror(r));
		return;
	}
	json_t *o = manifest_json(&sm);

	if (o && !replace) {
		json_object_set_new(o, "_http_status", json_integer(201));
	}
	gw_cmd_complete(core->q, c, o ? 0 : -ENOMEM, o, NULL);
}

void gw_manifest_cmd_list(struct gw_core *core, struct gw_cmd *c)
{
	struct store_manifest *list = NULL;
	json_t *items;
	size_t n = 0;
	int r = store_manifest_list(core->st, &list, &n);

	if (r) {
		gw_cmd_complete(core->q, c, r, NULL, store_strerror(r));
		return;
	}
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(items, manifest_json(&list[i]));
	}
	free(list);
	gw_cmd_complete(core->q, c, 0, json_pack("{s:o}", "items", items), NULL);
}

/* A stored row back in the manifest JSON shape, its secret in auth. */
static int add_row(void *ctx, uint32_t idx, const uint8_t uuid[16], const char *data,
		   const uint8_t *secret, size_t len)
{
	json_t *rows = ctx, *o = json_loads(data, 0, NULL), *auth;
	char hex[2 * STORE_MANIFEST_SECRET_MAX + 1];

	(void)idx;
	(void)uuid;
	auth = json_object_get(o, "auth");
	if (!json_is_object(auth)) {
		json_decref(o);
		return -EIO;
	}
	if (len) {
		const char *method = json_string_value(json_object_get(auth, "method"));

		gw_hex(secret, len, hex);
		json_object_set_new(
		    auth, method && !strcmp(method, "static") ? "static_oob" : "public_key",
		    json_string(hex));
		sec_wipe(hex, sizeof(hex));
	}
	json_array_append_new(rows, o);
	return 0;
}

void gw_manifest_cmd_get(struct gw_core *core, struct gw_cmd *c)
{
	struct store_manifest sm;
	uint64_t id = gw_cmd_id_arg(c);
	json_t *o, *rows;
	int r = id ? store_manifest_get(core->st, id, &sm) : -ENOENT;

	if (r) {
		gw_cmd_complete(core->q, c, r, NULL,
				r == -ENOENT ? "no such manifest" : store_strerror(r));
		return;
	}
	rows = json_array();
	r = store_manifest_rows(core->st, id, true, add_row, rows);
	if (r) {
		json_decref(rows);
		gw_cmd_complete(core->q, c, r, NULL, "cannot read the manifest's rows");
		return;
	}
	o = manifest_json(&sm);
	json_object_set_new(o, "devices", rows);
	gw_cmd_complete(core->q, c, 0, o, NULL);
}

void gw_manifest_cmd_delete(struct gw_core *core, struct gw_cmd *c)
{
	uint64_t id = gw_cmd_id_arg(c);
	int r = id ? store_manifest_delete(core->st, id) : -ENOENT;

	gw_cmd_complete(core->q, c, r,
			r ? NULL : json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1),
			r == -ENOENT ? "no such manifest"
			: r          ? store_strerror(r)
				     : NULL);
}
