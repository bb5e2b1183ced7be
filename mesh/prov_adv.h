/*
 * Provisioning over PB-ADV: provisioning sessions (mesh/prov.h) bound to
 * the links of one PB-ADV bearer (mesh/pb_adv.h).  A provisioner runs any
 * number of sessions at once, one per link; a device runs one.  This is the
 * piece the gateway and the simulated devices use; it owns the link and
 * session life cycle:
 *
 *   provisioner: prov_adv_provision() opens a link; on Link ACK the session
 *   starts; on success (Complete received) or failure the link is closed
 *   with the matching reason and the owner's done/failed is called once.
 *   device: a Link Open for our UUID starts a device session; the result is
 *   reported when the session completes (the provisioner then closes).
 *
 * Callbacks are deferred so that no session is re-entered from inside its
 * own callbacks: PDUs a session sends are queued and handed to PB-ADV when
 * the current call returns.  assign_addr and data_ready are the exceptions:
 * the session needs their answer at once, so they run inside
 * prov_adv_rx(); they must not call into this prov_adv.
 */
#ifndef MESH_PROV_ADV_H
#define MESH_PROV_ADV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/pb_adv.h"
#include "mesh/prov.h"

#define PROV_ADV_SESSIONS_MAX 32

struct prov_adv_ops {
	void *ctx;
	/* Put one PB-ADV AD payload on the air (AD type 0x29). Required. */
	void (*adv_send)(void *ctx, const uint8_t *data, size_t len);
	/* Output OOB / Input OOB, as in struct prov_ops, with the session handle. */
	void (*output_oob)(void *ctx, uint32_t h, uint8_t action, const char *value);
	void (*input_oob_request)(void *ctx, uint32_t h, uint8_t action, uint8_t size);
	/* Provisioner: choose the primary address (see struct prov_ops); may be NULL. */
	int (*assign_addr)(void *ctx, uint32_t h, const struct prov_caps *caps, uint16_t *unicast);
	/*
	 * Provisioner, optional: commit the address and DevKey before the
	 * Provisioning Data PDU leaves (struct prov_ops data_ready; data and
	 * dev_key borrowed for the call).  Non-zero: no Data PDU is sent, the
	 * link is closed with reason Fail and failed(h, that value,
	 * PROV_ERR_NONE) follows.
	 */
	int (*data_ready)(void *ctx, uint32_t h, const struct prov_data *data,
			  const uint8_t dev_key[16], uint8_t elements);
	/*
	 * Provisioner with cfg.cert_policy PREFER/REQUIRE (then required):
	 * judge the device's records (struct prov_ops verify_records).
	 */
	int (*verify_records)(void *ctx, uint32_t h, const struct prov_record *recs, size_t n,
			      uint8_t pub_key[64], char *reason, size_t reason_len);
	/* Success (res borrowed for the call). */
	void (*done)(void *ctx, uint32_t h, const struct prov_result *res);
	/*
	 * Failure: err as in mesh/prov.h, plus -ECONNRESET (the peer closed
	 * the link) and -ETIMEDOUT (link establishment or transaction
	 * timeout); prov_err as in mesh/prov.h.
	 */
	void (*failed)(void *ctx, uint32_t h, int err, uint8_t prov_err);
};

struct prov_adv;

/*
 * Returns a new PB-ADV provisioning endpoint; free with prov_adv_free().
 * pb_cfg configures the bearer (uuid set: this is a device that answers
 * Link Opens for it).  dev_cfg is the session configuration used for
 * device sessions (role PROV_ROLE_DEVICE); NULL for a provisioner.
 * NULL on failure.
 */
struct prov_adv *prov_adv_new(const struct pb_adv_cfg *pb_cfg, const struct prov_cfg *dev_cfg,
			      const struct prov_adv_ops *ops, const struct mesh_rng *rng);
/* Frees every session and link without sending anything.  Accepts NULL. */
void prov_adv_free(struct prov_adv *pa);

/*
 * Provisioner: provision the device with this UUID using cfg (role
 * PROV_ROLE_PROVISIONER).  *h (the link ID) names the session in
 * callbacks.  Returns 0, -ENOSPC (no slot), or an error from pb_adv_open().
 */
int prov_adv_provision(struct prov_adv *pa, const uint8_t uuid[16], const struct prov_cfg *cfg,
		       uint64_t now_ms, uint32_t *h);

/* Supply an OOB value asked for through input_oob_request. -ENOENT: no such session. */
int prov_adv_input_oob(struct prov_adv *pa, uint32_t h, const char *value, uint64_t now_ms);

/* Abandon a session: Link Close (fail) is sent; no callback follows. */
int prov_adv_cancel(struct prov_adv *pa, uint32_t h, uint64_t now_ms);

/* One received PB-ADV AD payload (after the AD type). */
int prov_adv_rx(struct prov_adv *pa, const uint8_t *data, size_t len, uint64_t now_ms);

uint64_t prov_adv_next_deadline(const struct prov_adv *pa);
void prov_adv_tick(struct prov_adv *pa, uint64_t now_ms);

/*
 * Inside ops.failed only: prov_reason() of the failed session (why its record
 * phase or certificate check failed, for a technician), "" otherwise.
 */
const char *prov_adv_fail_reason(const struct prov_adv *pa);

/* Sessions in progress. */
size_t prov_adv_active(const struct prov_adv *pa);

#endif /* MESH_PROV_ADV_H */
