/*
 * Internals shared by the files of the "node" device kind (node_dev.h is
 * its interface; nothing outside these files includes this header):
 *
 *   node_dev.c     the device's lifecycle: create/free, air input, timers,
 *                  control commands, Node Reset, Composition Refresh, power
 *                  cycles, the sim_device_ops table
 *   node_unprov.c  the unprovisioned device: Unprovisioned Device beacons
 *                  with name and URI, PB-ADV provisioning as the device
 *   node_parts.c   the provisioned node's objects: the mesh node, its
 *                  Config Server, Generic OnOff Servers, the silent models
 *   node_rpr.c     the Remote Provisioning Server and the node refreshes
 *                  (NPPI) it takes for the node itself
 *   node_save.c    the stored state (the device's flash) written as JSON
 *   node_load.c    the stored state read back, checked as imported data
 *
 * The files share one struct ndev per device (functions shared between
 * them are prefixed ndev_), and all run on the world's single thread.
 * Calls go one way only: node_dev.c uses all the others; node_load.c uses
 * node_parts.c and node_unprov.c; node_unprov.c uses node_parts.c;
 * node_parts.c uses node_rpr.c; node_rpr.c and node_save.c call none.
 */
#ifndef SIM_NODE_DEV_INT_H
#define SIM_NODE_DEV_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/cfg_srv.h"
#include "mesh/comp.h"
#include "mesh/crypto.h"
#include "mesh/node.h"
#include "mesh/onoff_srv.h"
#include "mesh/prov_adv.h"
#include "mesh/rpr_srv.h"
#include "mesh/unprov_beacon.h"
#include "sim/node_dev.h"

#define ONOFF_MAX SIM_SCN_ELEMENTS_MAX
#define RPR_MODEL 0x0004 /* Remote Provisioning Server (§4.4.5) */
#define AD_NAME 0x09     /* Complete Local Name (Core Supplement Part A §1.2) */
#define AD_URI 0x24      /* URI (Core Supplement Part A §1.18) */

struct ndev {
	struct sim_world *w;
	unsigned dev;
	const struct sim_scn_device *cfg;
	uint64_t seed;
	struct mesh_rng rng;
	uint64_t now; /* ms */
	/* Unprovisioned */
	struct prov_adv *pa;
	uint64_t next_ubeacon;
	uint64_t pa_retire; /* free pa at this time (after success), UINT64_MAX: keep */
	uint8_t ubeacon[UNPROV_BEACON_URI_LEN];
	size_t ubeacon_len;
	uint32_t input_h;
	bool input_wait;
	struct prov_record recs[SIM_SCN_CERT_MAX]; /* served from cfg->cert_der (borrowed) */
	/* Provisioned */
	struct mesh_node *node;
	struct cfg_srv *srv;
	struct onoff_srv *onoff[ONOFF_MAX];
	struct rpr_srv *rpr; /* when the scenario says rpr_server */
	bool reset_pending;
	bool refresh_pending; /* a Composition Refresh to carry out at the next tick */
	bool off;             /* "power off": deaf, mute, frozen */
	/* The switch ("press"): what it last sent and the TID of its next transaction. */
	bool sw_on;
	uint8_t sw_tid;
	/* The last Unprovisioned Device beacon heard (Extended Scan attribution). */
	uint8_t ub_uuid[16];
	int8_t ub_rssi;
	uint64_t ub_ms;
	bool ub_heard;
	/*
	 * The composition the device has now: the scenario's, or (page0_len
	 * not 0) the page 128 a Composition Refresh made page 0, kept as bytes
	 * in page0 for the stored state.
	 */
	struct mesh_comp *comp;
	uint8_t page0[MESH_COMP_DATA_MAX];
	size_t page0_len;
	uint32_t seq_reserved; /* last sequence number reservation (see node_seq_reserve) */
	uint8_t page128[MESH_COMP_DATA_MAX];
	size_t page128_len;
	char state_err[SIM_NODE_ERR_MAX]; /* why the last load was refused */
};

/*
 * The objects of a provisioned node.  Built apart from the device (and only
 * then installed) so that restoring a stored state can be abandoned half way
 * without touching the running device.
 */
struct nparts {
	struct mesh_node *node;
	struct cfg_srv *srv;
	struct onoff_srv *onoff[ONOFF_MAX];
	struct rpr_srv *rpr;
};

/* --- node_parts.c ---------------------------------------------------------- */

/* Composition Data (the layout of pages 0 and 128) of c, into out. */
int ndev_build_comp(const struct sim_scn_comp *c, uint8_t *out, size_t cap, size_t *len);
/* The scenario's composition, parsed (the form every other composition has). */
int ndev_scenario_comp(const struct sim_scn_device *cfg, struct mesh_comp *out);
/* An unprovisioned node with d's current composition in p; nothing is left on error. */
int ndev_parts_build(struct ndev *d, struct nparts *p);
void ndev_parts_free(struct nparts *p);
/* Replaces the device's node (if any) by p; p is emptied. */
void ndev_parts_install(struct ndev *d, struct nparts *p);
/* Frees the device's node and its models; the device is unprovisioned after. */
void ndev_node_free(struct ndev *d);
/* Installs a new node provisioned with res (PB-ADV just succeeded). */
int ndev_node_make(struct ndev *d, const struct prov_result *res);

/* --- node_unprov.c --------------------------------------------------------- */

/* A new PB-ADV device side and Unprovisioned Device beacon for d (d->pa is NULL). */
int ndev_unprov_start(struct ndev *d);
/* Sends the beacon with the other AD structures, and schedules the next one. */
void ndev_unprov_beacon(struct ndev *d);

/* --- node_rpr.c ------------------------------------------------------------ */

/* Does the device run a Remote Provisioning Server? */
bool ndev_rpr_wanted(const struct ndev *d);
/* The Remote Provisioning Server of p->node, into p->rpr. */
int ndev_rpr_make(struct ndev *d, struct nparts *p);
/* What the server hears: scanning input and its PB-ADV links. */
void ndev_rpr_rx(struct ndev *d, const struct sim_air_rx *rx);

/* --- node_save.c, node_load.c ---------------------------------------------- */

/* sim_device_ops.save and .load (d is a struct ndev). */
json_t *ndev_save(void *d);
int ndev_load(void *d, json_t *st, uint64_t now_us);
/*
 * The state that a Composition Refresh to composition nc carries over, in
 * *out as a new reference that holds keys (drop with
 * ndev_json_wipe_decref()); returns 0 or a negative errno.
 */
int ndev_save_refresh(const struct ndev *d, const struct mesh_comp *nc, json_t **out);
/*
 * Builds the provisioned node stored in st into p (freed by the caller on
 * error); a refusal is explained in d->state_err.
 */
int ndev_load_node(struct ndev *d, json_t *st, struct nparts *p);
/* Wipes the strings of a state document (keys in hex), then drops it. */
void ndev_json_wipe_decref(json_t *j);

#endif /* SIM_NODE_DEV_INT_H */
