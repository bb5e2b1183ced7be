/* Internals shared by gateway/prov.c and gateway/prov_cfg.c.  Not a public header. */
#ifndef GW_PROV_INT_H
#define GW_PROV_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/cert.h"
#include "gateway/prov.h"
#include "mesh/prov.h"

#define PROV_MODELS_MAX 64

/*
 * Committed steps of a "provision" target (store_job_target.step).
 *   RESERVED  t.addr/t.elements reserved for the device (its Capabilities came)
 *   DATA      the DevKey sealed (slot KEY): Provisioning Data may have gone out
 *   NODE      the node is in the inventory: configuring it
 */
enum {
	PSTEP_NONE,
	PSTEP_RESERVED,
	PSTEP_DATA = GW_PROV_STEP_DATA,
	PSTEP_NODE,
	/*
	 * Kinds that go on after the configuration (gw_prov_user): the node
	 * is configured; the user's own steps follow.  Resumed at configured().
	 */
	PSTEP_CONFIGURED = GW_PROV_STEP_CONFIGURED
};
/*
 * Committed steps of a "refresh" target; t.node is the node's address
 * before, t.addr its address after (differs for an Address Refresh).
 *   RESERVED  Address Refresh: the new range reserved
 *   DATA      the candidate DevKey stored with the node: Provisioning Data may go out
 *   SWITCHED  Provisioning Complete came: the node uses t.addr and the candidate
 *   CONFIRMED the node answered under the candidate, now its DevKey: configuring
 */
enum {
	RSTEP_NONE,
	RSTEP_RESERVED,
	RSTEP_DATA,
	RSTEP_SWITCHED,
	RSTEP_CONFIRMED
};

/* What an active target is doing now (not committed: shown by the API). */
enum sess_phase {
	PH_LINKING,
	PH_PROVISIONING,
	PH_WAITING_OOB,
	PH_PROBING,
	PH_CONFIGURING,
	PH_ZONE, /* a gw_prov_user's step after the configuration (commission: the zone) */
};

struct gw_prov {
	struct gw_core *core;
	struct gw_jobs *jobs;
	struct gw_scan *scan;
	struct gw_job_kind k_prov, k_refresh;
	struct gw_prov_user user; /* another kind that runs this procedure (kind NULL: none) */
	uint32_t serial;
};

/* The kind's state of one attempt (gw_job_run.priv). */
struct prov_run {
	struct gw_prov *P;
	struct gw_job_run *run;
	uint32_t serial; /* names this attempt in callbacks that may outlive it */
	enum sess_phase phase;
	int procedure; /* NPPI procedure of a refresh, -1 for provisioning */
	bool remote;   /* PB-Remote (link is a pb_remote handle) */
	bool linked;   /* a link (session) is open */
	uint32_t link;
	struct prov_cfg cfg;  /* holds the static OOB while linking */
	uint8_t auth_method;  /* kept after cfg is wiped */
	char input_value[16]; /* Input OOB: what the user types on the device */
	bool has_caps;        /* caps: the device's Capabilities, once they came (shown) */
	struct prov_caps caps;
	bool has_key; /* key: the DevKey being confirmed (probe, refresh) */
	uint8_t key[16];
	uint16_t key_addr; /* the address it is confirmed at */
	uint8_t key_elements;
	/* certificate-based provisioning: the verified device certificate */
	bool has_cert;
	struct cert_info cert;
	uint8_t cert_der[PROV_REC_LIMIT_DEFAULT];
	size_t cert_der_len;
	bool probe_old; /* refresh recovery: now probing the old key at the old address */
	bool probed;    /* this attempt asked the device already (no second probe) */
	/* automatic configuration, by the target's profile (params "profile"; else bind_profile) */
	int cfg_step;
	uint8_t cfg_default_ttl; /* Default TTL Set first, unless 0xff */
	bool cfg_page0_read;     /* then page 128 only (page 0 was read before) */
	struct gw_profile profile;
	size_t cfg_next_key;                    /* AppKey Add: the profile's next AppKey */
	uint32_t cfg_model_id[PROV_MODELS_MAX]; /* SIG id, or company << 16 | id */
	bool cfg_model_vendor[PROV_MODELS_MAX];
	uint8_t cfg_model_elem[PROV_MODELS_MAX];
	size_t cfg_n_models, cfg_next_model;
};

/* A request's answer names the attempt it belongs to (it may come after the attempt ended). */
struct prov_ticket {
	struct gw_prov *P;
	uint64_t job;
	uint32_t idx;
	uint32_t serial;
};

/* prov_run.c */
/*
 * The provisioner's configuration from a request's auth object and the
 * static OOB value (oob, oob_len); err names the field at fault.
 */
int prov_auth_cfg(const struct gw_conf *conf, json_t *auth, const char *alg, const uint8_t *oob,
		  size_t oob_len, struct prov_cfg *cfg, char *err, size_t cap);
struct prov_ticket *prov_ticket(struct prov_run *pr);
/* The attempt a ticket names, or NULL (then the ticket is freed); the caller frees it otherwise. */
struct prov_run *prov_ticket_run(struct prov_ticket *tk);
/* The API's session object of a target (pr: its active attempt, or NULL). */
json_t *prov_session_json(const struct store_job_target *t, const char *kind,
			  const struct prov_run *pr);
/*
 * Move pr to phase ph and publish it ("provisioning.updated" and
 * "job.target"); a refresh's operation record follows (running, progress).
 */
void prov_session_update(struct prov_run *pr, enum sess_phase ph);
/* End the attempt; frees pr. */
void prov_end(struct prov_run *pr, enum gw_job_outcome o, const char *error, const char *result);

/* Is run an attempt of this service's procedure (provision, refresh, the user's kind)? */
bool prov_owns(const struct gw_prov *P, const struct gw_job_run *run);

/* prov_cfg.c: configure the node at pr->run->t.addr, from page 0 (or from page 128 when
 * page 0 was read already); ends the attempt. */
void prov_cfg_begin(struct prov_run *pr, bool page0_read);
/* Page 0 as read from the node under the key being confirmed: stored, models collected. */
int prov_cfg_page0(struct prov_run *pr, const uint8_t *data, size_t len);

#endif
