/*
 * Certificate-based provisioning in the gateway (Mesh Protocol v1.1
 * §5.4.2.1): the trust store of manufacturer root CAs (conf key cbp_trust),
 * the verifier a provisioning session calls with the records a device sent,
 * and GET /api/v1/trust.
 *
 * The store lives in gw_core.trust (NULL: none configured).  It is loaded at
 * start and again on SIGHUP; a reload that fails keeps the running store,
 * so a typo in the file never leaves the gateway trusting nothing mid-run.
 * Sessions hold no pointer to it across calls, so swapping is safe between
 * loop iterations.
 */
#ifndef GW_TRUST_H
#define GW_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "crypto/cert.h"
#include "mesh/prov_rec.h"
#include "storage/store.h"

struct gw_core;
struct gw_cmd;

/* A new store with the anchors of path (free with cert_trust_free()); err says why not. */
int gw_trust_load(const char *path, struct cert_trust **out, char *err, size_t cap);

/*
 * Load conf.cbp_trust (if set) into a new store and put it in place of
 * core->trust.  0, or a negative errno with the running store kept and the
 * problem in err.
 */
int gw_trust_reload(struct gw_core *core, const char *path, char *err, size_t cap);

/*
 * Judge the records of the device uuid (prov_ops.verify_records): the device
 * certificate and intermediates against core->trust, at the wall clock, up
 * to conf.cbp_max_depth certificates.  On success info holds what the
 * certificate says (key included).  On failure a technician's reason.
 */
int gw_trust_verify(const struct gw_core *core, const uint8_t uuid[16],
		    const struct prov_record *recs, size_t n, struct cert_info *info, char *reason,
		    size_t reason_len);

/*
 * The API's object of a certificate: {subject, issuer, not_before, not_after,
 * sha256} (times in seconds since the epoch).
 */
json_t *gw_cert_json(const char *subject, const char *issuer, int64_t not_before, int64_t not_after,
		     const uint8_t sha256[32]);
/* The certificate the node at addr was provisioned with, or JSON null. */
json_t *gw_node_cert_json(struct store *st, uint16_t addr);
/* Keep info and the DER (der_len octets) with the node at addr (store.h). */
int gw_node_cert_store(struct store *st, uint16_t addr, const struct cert_info *info,
		       const uint8_t *der, size_t der_len);

/* GET /api/v1/trust -> {configured, path, items:[certificate]} (admin). */
void gw_trust_cmd_list(struct gw_core *core, struct gw_cmd *c);

#endif
