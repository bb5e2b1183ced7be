/*
 * The gateway core: the event loop's view of the mesh stack (the
 * provisioner's own node with its Config, Generic OnOff and Remote
 * Provisioning clients, PB-ADV and PB-Remote provisioning), the bearer, the
 * inventory and event publishing.  Services (scan.h, nodes.h, prov.h,
 * jobs.h, cdb_svc.h) borrow a struct gw_core and call the functions below;
 * the core calls no service by name: what it hands on (unprovisioned
 * beacons, provisioning and scan callbacks) goes through the hooks the
 * services registered when the stack was built.
 *
 * Everything here runs on the event-loop thread.
 */
#ifndef GW_CORE_H
#define GW_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gateway/bearer.h"
#include "gateway/cmdq.h"
#include "crypto/cert.h"
#include "gateway/conf.h"
#include "gateway/gw.h"
#include "gateway/loop.h"
#include "gateway/stats.h"
#include "mesh/cfg_cli.h"
#include "mesh/client.h"
#include "mesh/node.h"
#include "mesh/pb_remote.h"
#include "mesh/prov_adv.h"
#include "mesh/rpr_cli.h"
#include "storage/store.h"

#define GW_DEVKEY_CACHE 8
#define GW_CFG_TIMEOUT_MS 10000
#define GW_CFG_RETRY_MS 1500

/* What the services hand the stack when it is built (each ops.ctx set by its service). */
struct gw_core_stack_ops {
	struct prov_adv_ops prov_adv;
	struct pb_remote_ops pb_remote;
	struct rpr_cli_ops rpr;
	/* An Unprovisioned Device beacon heard by the gateway itself. */
	void (*beacon)(void *ctx, const uint8_t *data, size_t len, int8_t rssi);
	void *beacon_ctx;
	/*
	 * Device keys for addr that the inventory does not hold (yet): a
	 * provisioning or refresh being confirmed.  Copies at most max keys
	 * into keys, returns how many.  May be NULL.
	 */
	size_t (*dev_keys)(void *ctx, uint16_t addr, uint8_t (*keys)[16], size_t max);
	void *dev_keys_ctx;
};

/*
 * The core's state.  Fields are read by services; only core.c and gw.c
 * write them.  Pointers are owned by the core.
 */
struct gw_core {
	struct gw_conf conf;
	struct gw_loop *loop; /* borrowed */
	struct gw_cmdq *q;    /* borrowed */
	struct gw_hooks hooks;
	struct store *st;
	struct gw_bearer *bearer;
	struct mesh_node *node;
	struct cfg_cli *cfg;
	struct mesh_cli *onoff;
	struct prov_adv *pa;
	struct rpr_cli *rpr;
	struct pb_remote *pbr;
	struct cert_trust *trust; /* conf.cbp_trust loaded (trust.h), NULL when none */
	uint16_t primary_net;
	uint64_t started_ms;   /* monotonic, for uptime */
	struct gw_stats stats; /* /metrics (stats.h); gw.c sets it up */
	bool stopping;
	/* private to core.c */
	struct gw_core_stack_ops ops;
	uint64_t timer, timer_when;
	uint32_t seq_limit;
	struct mesh_utp_key devkey[GW_DEVKEY_CACHE];
	unsigned devkey_next;
};

/*
 * Open the inventory (creating the network on first start).  conf is
 * copied; loop and q borrowed.  0 or a negative errno (logged).
 */
int gw_core_open(struct gw_core *core, const struct gw_conf *conf, struct gw_loop *loop,
		 struct gw_cmdq *q, const struct gw_hooks *hooks);
/* Build the stack with the services' callbacks (copied), then attach the bearer. */
int gw_core_start(struct gw_core *core, const struct gw_core_stack_ops *ops);
/* Free the stack, the bearer and the inventory.  The struct itself is the caller's. */
void gw_core_close(struct gw_core *core);

/* Monotonic milliseconds of the loop (the stack's clock). */
uint64_t gw_core_now(const struct gw_core *core);
/* Re-arm the stack timer: call after anything that may have changed a deadline. */
void gw_core_rearm(struct gw_core *core);
/* An event for the SSE stream; steals data. */
void gw_core_publish(struct gw_core *core, const char *type, json_t *data);
/* " (bearer hci:0 down-reopening: ...)" while the bearer is not ready, else "". */
void gw_core_bearer_note(const struct gw_core *core, char *out, size_t cap);
/*
 * Commands that send on the air now call this first: when the bearer is not ready it completes
 * c with -ENETDOWN (503) and a detail naming the bearer's state, and returns false.
 */
bool gw_core_radio_gate(struct gw_core *core, struct gw_cmd *c);
/*
 * A sentence for a failed request to a node, written into buf (cap octets) and returned: the
 * node did not answer, the radio is not ready (with the bearer's state), or strerror.
 */
const char *gw_core_send_error(const struct gw_core *core, int err, char *buf, size_t cap);

#endif
