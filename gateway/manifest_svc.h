/*
 * The commissioning manifest service: /api/v1/manifests (gw_cmd.h).  A
 * manifest is checked as a whole by gateway/manifest.h and stored only when
 * every row is valid (storage/store_manifest.h); otherwise the command fails
 * with -EDOM and a result {errors: [{row, field, message, line?}]}.
 *
 * Profiles: a row's profile must be one the configuration names now
 * (conf.h profile.NAME, and the built-ins "all" and "none").
 */
#ifndef GW_MANIFEST_SVC_H
#define GW_MANIFEST_SVC_H

#include "gateway/cmdq.h"
#include "gateway/core.h"

/* POST (no id) and PUT (id): args {body: the raw request body, format: "csv"|"json", id?}. */
void gw_manifest_cmd_put(struct gw_core *core, struct gw_cmd *c);
void gw_manifest_cmd_list(struct gw_core *core, struct gw_cmd *c);
void gw_manifest_cmd_get(struct gw_core *core, struct gw_cmd *c);
void gw_manifest_cmd_delete(struct gw_core *core, struct gw_cmd *c);

#endif
