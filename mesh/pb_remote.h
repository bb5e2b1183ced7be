/*
 * PB-Remote provisioning bearer (Mesh Protocol v1.1 §5.2.3 with the Remote
 * Provisioning messages of §4.3.4): provisioner-role sessions of mesh/prov.h
 * carried through a Remote Provisioning Server by the Remote Provisioning
 * Client of mesh/rpr_cli.h.  It plays for PB-Remote the part mesh/prov_adv.h
 * plays for PB-ADV: it owns the link and session life cycle.
 *
 *   Link Open (UUID, or an NPPI procedure for a node refresh) is repeated
 *   until the server's Link Status; the session starts when the Link Report
 *   says the link is active.  Each Provisioning PDU the session sends goes
 *   out in one PDU Send numbered by OutboundPDUNumber; only one is
 *   outstanding, until its PDU Outbound Report (or the device's next PDU,
 *   which proves delivery) arrives, and it is repeated meanwhile, after a
 *   timeout that adapts to the round trip to the server (Link Open to Link
 *   Status, PDU Send to Outbound Report; Jacobson/Karn, doubled per repeat,
 *   between pdu_retry_min_ms and pdu_retry_ms); after its
 *   Outbound Report it is still repeated every pdu_retry_ms until the device
 *   answers, because a PDU Report whose segmented send failed is lost and
 *   the server (mesh/rpr_srv.h) sends it again only when asked so.  PDU
 *   Reports go into the session in InboundPDUNumber order; repeats are
 *   ignored.  When the session completes, Link Close (success) is repeated
 *   until the server confirms (or the close time-out passes: the device is
 *   provisioned either way) and ops.done reports the result.
 *
 * Failures end the session with ops.failed, once, after a Link Close (fail)
 * was sent to the server, and leave nothing behind:
 *   -ETIMEDOUT     the server did not answer (Link Open, PDU Send), the link
 *                  did not open in time, a Link Report said Link Open Failed
 *                  or gave reason Timeout, or the protocol timed out (§5.4.4)
 *   -ECONNRESET    a Link Report said the link closed (by the device, by the
 *                  server, cannot send/receive/deliver)
 *   -EBUSY, -ENOSPC, -ECONNREFUSED  Link Status Invalid State, Limited
 *                  Resources, Link Cannot Open
 *   -EPROTO        any other status
 *   and the errors of mesh/prov.h (prov_err as there).
 * link_status is the RPR status code that caused it, or
 * PB_REMOTE_NO_STATUS.
 *
 * One session per server at a time (the server has one link); many servers
 * at once.  Callbacks run inside the calls into this object or into the
 * node (through the RPR client); they may start and cancel sessions but not
 * free the object.
 */
#ifndef MESH_PB_REMOTE_H
#define MESH_PB_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/prov.h"
#include "mesh/rpr_cli.h"

/* Sessions at once: as many as a gateway's provisioning slots (meshgw max_sessions, up to 32). */
#define PB_REMOTE_SESSIONS_MAX 32
#define PB_REMOTE_NO_STATUS 0xffu

struct pb_remote_cfg {
	uint32_t
	    req_timeout_ms; /* give up on a server's answer (Link Open/Close, PDU Send) [10000] */
	uint32_t retry_ms;  /* repeat Link Open / Link Close [1000] */
	uint32_t pdu_retry_ms;     /* repeat an unreported PDU Send: at most, and before any
				    * round-trip sample [2500] */
	uint32_t pdu_retry_min_ms; /* ... at least (the adaptive timeout's floor) [500] */
	uint32_t pdu_timeout_ms;   /* give up on a PDU Outbound Report [35000] */
};

struct pb_remote_ops {
	void *ctx;
	/* As in struct prov_adv_ops, with the session handle. */
	void (*output_oob)(void *ctx, uint32_t h, uint8_t action, const char *value);
	void (*input_oob_request)(void *ctx, uint32_t h, uint8_t action, uint8_t size);
	int (*assign_addr)(void *ctx, uint32_t h, const struct prov_caps *caps, uint16_t *unicast);
	/*
	 * Optional: commit before the Provisioning Data PDU is sent (struct
	 * prov_ops data_ready; data and dev_key borrowed for the call).  For
	 * a refresh, dev_key is the node's new DevKey candidate and
	 * data->unicast the address it will have.  Non-zero: no Data PDU is
	 * sent, Link Close (fail) goes to the server and failed(h, that value,
	 * PROV_ERR_NONE, PB_REMOTE_NO_STATUS) follows.  It runs inside the
	 * session, so it must not cancel its own session.
	 */
	int (*data_ready)(void *ctx, uint32_t h, const struct prov_data *data,
			  const uint8_t dev_key[16], uint8_t elements);
	/* Provisioner with cfg.cert_policy PREFER/REQUIRE (then required): as in prov_adv_ops. */
	int (*verify_records)(void *ctx, uint32_t h, const struct prov_record *recs, size_t n,
			      uint8_t pub_key[64], char *reason, size_t reason_len);
	/* Success: res borrowed for the call (for a refresh, res->dev_key is the node's new key).
	 */
	void (*done)(void *ctx, uint32_t h, const struct prov_result *res);
	void (*failed)(void *ctx, uint32_t h, int err, uint8_t prov_err, uint8_t link_status);
};

/* The server a session goes through. */
struct pb_remote_target {
	uint16_t net_idx;
	uint16_t server;        /* primary address of the Remote Provisioning Server */
	const uint8_t *dev_key; /* its device key (copied), or NULL: the node's ops->dev_keys */
};

struct pb_remote;

/*
 * Returns a new bearer over cli (which must outlive it: free the bearer
 * first), installing itself as cli's link handler; cfg may be NULL for the
 * defaults; ops (copied) needs done and failed; rng (NULL: CSPRNG) is copied
 * for the sessions.  NULL on failure.
 */
struct pb_remote *pb_remote_new(struct rpr_cli *cli, const struct pb_remote_cfg *cfg,
				const struct pb_remote_ops *ops, const struct mesh_rng *rng);
/* Removes the link handler and frees every session without sending.  Accepts NULL. */
void pb_remote_free(struct pb_remote *pr);

/* Inside ops.failed only: prov_reason() of the failed session, "" otherwise. */
const char *pb_remote_fail_reason(const struct pb_remote *pr);

/*
 * Provision the unprovisioned device uuid through server t->server with cfg
 * (role PROV_ROLE_PROVISIONER); link_timeout_s is the LinkOpenTimeout (0:
 * the server's default).  *h names the session in callbacks.  Returns 0,
 * -EINVAL, -EBUSY (a session through that server is running), -ENOSPC, or a
 * send error.
 */
int pb_remote_provision(struct pb_remote *pr, const struct pb_remote_target *t,
			const uint8_t uuid[16], uint8_t link_timeout_s, const struct prov_cfg *cfg,
			uint64_t now_ms, uint32_t *h);

/*
 * Refresh the node t->server itself with NPPI procedure (enum rpr_nppi):
 * cfg.data carries the node's current IV Index and a NetKey it has, and its
 * unicast address (Device Key / Composition Refresh) or the new one
 * (Address Refresh).  Same returns as pb_remote_provision().
 */
int pb_remote_refresh(struct pb_remote *pr, const struct pb_remote_target *t, uint8_t procedure,
		      const struct prov_cfg *cfg, uint64_t now_ms, uint32_t *h);

/* Supply an OOB value asked for through input_oob_request.  -ENOENT: no such session. */
int pb_remote_input_oob(struct pb_remote *pr, uint32_t h, const char *value, uint64_t now_ms);

/* Abandon a session: Link Close (fail) is sent once; no callback follows.  -ENOENT. */
int pb_remote_cancel(struct pb_remote *pr, uint32_t h, uint64_t now_ms);

uint64_t pb_remote_next_deadline(const struct pb_remote *pr);
void pb_remote_tick(struct pb_remote *pr, uint64_t now_ms);

/* Sessions in progress. */
size_t pb_remote_active(const struct pb_remote *pr);

#endif /* MESH_PB_REMOTE_H */
