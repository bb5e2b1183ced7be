/*
 * Certificate-based provisioning in the gateway: trust store, verifier and
 * GET /api/v1/trust (trust.h).
 */
#include "gateway/trust.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/core.h"
#include "gateway/gw_cmd.h"
#include "gateway/log.h"
#include "gateway/util.h"

int gw_trust_load(const char *path, struct cert_trust **out, char *err, size_t cap)
{
	struct cert_trust *t = NULL;
	int r = cert_trust_new(&t);

	if (!r) {
		r = cert_trust_load(t, path);
	}
	if (r) {
		snprintf(err, cap, "cbp_trust %s: %s", path,
			 r == -ENOENT ? "no PEM certificate found" : strerror(-r));
		cert_trust_free(t);
		t = NULL;
	}
	*out = t;
	return r;
}

int gw_trust_reload(struct gw_core *core, const char *path, char *err, size_t cap)
{
	struct cert_trust *t = NULL;
	int r;

	if (!path || !path[0]) {
		cert_trust_free(core->trust);
		core->trust = NULL;
		return 0;
	}
	r = gw_trust_load(path, &t, err, cap);
	if (r) {
		return r;
	}
	cert_trust_free(core->trust);
	core->trust = t;
	return 0;
}

int gw_trust_verify(const struct gw_core *core, const uint8_t uuid[16],
		    const struct prov_record *recs, size_t n, struct cert_info *info, char *reason,
		    size_t reason_len)
{
	struct cert_der chain[PROV_REC_MAX];
	struct cert_check chk = {.now = (time_t)(gw_wall_ms() / 1000),
				 .max_chain = core->conf.cbp_max_depth};
	size_t k = 0;

	memset(info, 0, sizeof(*info));
	if (!core->trust) {
		snprintf(reason, reason_len, "no trusted manufacturers configured (cbp_trust)");
		return -EKEYREJECTED;
	}
	/* The device certificate, then the intermediates; the URI record is no certificate. */
	for (size_t i = 0; i < n && k < PROV_REC_MAX; i++) {
		if (recs[i].id != PROV_REC_ID_URI) {
			chain[k++] = (struct cert_der){recs[i].data, recs[i].len};
		}
	}
	memcpy(chk.uuid, uuid, 16);
	return cert_verify(core->trust, chain, k, &chk, info, reason, reason_len);
}

json_t *gw_cert_json(const char *subject, const char *issuer, int64_t not_before, int64_t not_after,
		     const uint8_t sha256[32])
{
	char fp[65];

	/* Before 1970 is shown as 1970: no device certificate dates from then. */
	return json_pack("{s:s, s:s, s:o, s:o, s:s}", "subject", subject, "issuer", issuer,
			 "not_before",
			 gw_time_json(not_before > 0 ? (uint64_t)not_before * 1000 : 0),
			 "not_after", gw_time_json(not_after > 0 ? (uint64_t)not_after * 1000 : 0),
			 "sha256", gw_hex(sha256, 32, fp));
}

json_t *gw_node_cert_json(struct store *st, uint16_t addr)
{
	struct store_node_cert *c = malloc(sizeof(*c));
	json_t *o = NULL;

	if (c && store_node_cert_get(st, addr, c) == 0) {
		o = gw_cert_json(c->subject, c->issuer, c->not_before, c->not_after, c->sha256);
	}
	free(c);
	return o ? o : json_null();
}

int gw_node_cert_store(struct store *st, uint16_t addr, const struct cert_info *info,
		       const uint8_t *der, size_t der_len)
{
	struct store_node_cert *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		return -ENOMEM;
	}
	if (der_len == 0 || der_len > sizeof(c->der)) {
		free(c);
		return -EINVAL;
	}
	snprintf(c->subject, sizeof(c->subject), "%s", info->subject);
	snprintf(c->issuer, sizeof(c->issuer), "%s", info->issuer);
	c->not_before = info->not_before;
	c->not_after = info->not_after;
	memcpy(c->sha256, info->sha256, sizeof(c->sha256));
	memcpy(c->der, der, der_len);
	c->der_len = der_len;
	r = store_node_cert_set(st, addr, c);
	free(c);
	return r;
}

void gw_trust_cmd_list(struct gw_core *core, struct gw_cmd *c)
{
	struct cert_info *v = NULL;
	size_t n = 0;
	json_t *items = json_array();
	int r = core->trust ? cert_trust_list(core->trust, &v, &n) : 0;

	for (size_t i = 0; !r && i < n; i++) {
		json_array_append_new(items,
				      gw_cert_json(v[i].subject, v[i].issuer, v[i].not_before,
						   v[i].not_after, v[i].sha256));
	}
	free(v);
	if (r) {
		json_decref(items);
		gw_cmd_complete(core->q, c, r, NULL, strerror(-r));
		return;
	}
	gw_cmd_complete(core->q, c, 0,
			json_pack("{s:b, s:s, s:o}", "configured", core->trust != NULL, "path",
				  core->conf.cbp_trust, "items", items),
			NULL);
}
