/* Internals shared by gateway/gw*.c.  Not a public header. */
#ifndef GW_GW_INT_H
#define GW_GW_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gateway/bearer.h"
#include "gateway/cmdq.h"
#include "gateway/conf.h"
#include "gateway/gw.h"
#include "gateway/gw_cmd.h"
#include "gateway/loop.h"
#include "mesh/cfg_cli.h"
#include "mesh/client.h"
#include "mesh/node.h"
#include "mesh/pb_remote.h"
#include "mesh/prov_adv.h"
#include "mesh/rpr_cli.h"
#include "storage/store.h"
#include "storage/store_cdb.h"

#define GW_SESS_MAX 64
#define GW_DEVKEY_CACHE 8
#define GW_SCAN_SEEN_MAX 1024
#define GW_CFG_TIMEOUT_MS 10000
#define GW_CFG_RETRY_MS 1500

/* Internal command: token check for the REST layer (args {token}). */
#define GW_CMD_AUTH (GW_CMD_MAX + 1)

enum sess_state {
	SESS_QUEUED,
	SESS_LINKING,
	SESS_PROVISIONING,
	SESS_WAITING_OOB,
	SESS_CONFIGURING,
	SESS_DONE,
	SESS_FAILED,
	SESS_CANCELLED,
};

struct gw_sess {
	struct gw *gw; /* owner, for callbacks */
	bool used;
	char id[16];
	uint8_t uuid[16];
	char name[STORE_NAME_MAX];
	enum sess_state state;
	struct prov_cfg cfg;    /* provisioner configuration (holds the static OOB) */
	uint8_t auth_method;    /* kept after cfg is wiped */
	bool remote;            /* PB-Remote (link is a pb_remote handle) */
	uint16_t via;           /* Remote Provisioning Server, 0 = PB-ADV from the gateway */
	int procedure;          /* NPPI procedure of a node refresh, -1 for provisioning */
	uint16_t old_addr;      /* node refresh: the node's address before */
	uint8_t old_elements;   /* node refresh: its element count before */
	uint8_t new_devkey[16]; /* node refresh: the DevKey to confirm */
	uint32_t link;          /* prov_adv handle while linking/provisioning */
	uint16_t addr;          /* reserved / assigned primary address, 0 = none */
	uint8_t elements;
	char input_value[16]; /* Input OOB: what the user types on the device */
	char error[160];
	uint64_t created, updated; /* wall-clock ms */
	uint64_t op_id;            /* store operation */
	/* automatic configuration: step, and the models still to bind */
	int cfg_step;
	uint32_t cfg_model_id[64]; /* SIG id, or company << 16 | id for vendor models */
	bool cfg_model_vendor[64];
	uint8_t cfg_model_elem[64];
	size_t cfg_n_models, cfg_next_model;
};

struct gw {
	struct gw_conf conf;
	struct gw_loop *loop;
	struct gw_cmdq *q;
	struct gw_hooks hooks;
	struct store *st;
	struct gw_bearer *bearer;
	struct mesh_node *node;
	struct cfg_cli *cfg;
	struct mesh_cli *onoff;
	struct prov_adv *pa;
	struct rpr_cli *rpr;
	struct pb_remote *pbr;
	uint64_t timer;       /* loop timer for the stack's next deadline */
	uint64_t timer_when;  /* its deadline */
	uint64_t start_retry; /* loop timer: queued sessions the radio had no room for */
	uint64_t started_ms;  /* monotonic, for uptime */
	uint32_t seq_limit;
	uint16_t primary_net;
	/* device keys handed to the stack: valid until the next lookup */
	struct mesh_utp_key devkey[GW_DEVKEY_CACHE];
	unsigned devkey_next;
	/* scanning */
	bool scanning;
	uint64_t scan_until;
	uint64_t scan_timer;
	uint64_t scan_started; /* wall-clock ms */
	uint8_t scan_seen[GW_SCAN_SEEN_MAX][16];
	size_t n_scan_seen;
	bool scan_store_warned; /* a failed sighting write was logged this scan */
	/* provisioning */
	struct gw_sess sess[GW_SESS_MAX];
	unsigned sess_seq;
	uint8_t onoff_tid;
	bool stopping;
};

/* gw.c */
uint64_t gw_wall_ms(void);
void gw_rearm(struct gw *gw);
void gw_publish(struct gw *gw, const char *type, json_t *data);
char *gw_hex(const uint8_t *p, size_t len, char *out);
int gw_unhex(const char *s, uint8_t *out, size_t len);
json_t *gw_time_json(uint64_t wall_ms);
json_t *gw_node_json(const struct store_node *n);

/* gw_cmd.c */
/* The bearer's state as the API shows it (kind, name, state, reason, controller). */
json_t *gw_bearer_state_json(const struct gw_bearer *b);
int gw_cmd_attach(struct gw *gw);
/* An operation as the API shows it (target: node address, or -1); NULL if unknown. */
json_t *gw_op_json(struct gw *gw, uint64_t id, int target);
void gw_cmd_detach(struct gw *gw);

/* gw_prov.c */
void gw_prov_beacon(struct gw *gw, const uint8_t *data, size_t len, int8_t rssi);
void gw_prov_shutdown(struct gw *gw);
void gw_cmd_scan_start(struct gw *gw, struct gw_cmd *c);
void gw_cmd_scan_stop(struct gw *gw, struct gw_cmd *c);
void gw_cmd_scan_results(struct gw *gw, struct gw_cmd *c);
void gw_cmd_prov_start(struct gw *gw, struct gw_cmd *c);
void gw_cmd_prov_list(struct gw *gw, struct gw_cmd *c);
void gw_cmd_prov_get(struct gw *gw, struct gw_cmd *c);
void gw_cmd_prov_oob(struct gw *gw, struct gw_cmd *c);
void gw_cmd_prov_cancel(struct gw *gw, struct gw_cmd *c);
void gw_cmd_node_refresh(struct gw *gw, struct gw_cmd *c);
extern const struct pb_remote_ops gw_pbr_ops;
extern const struct rpr_cli_ops gw_rpr_ops;
extern const struct prov_adv_ops gw_prov_ops;

/* gw_cdb.c */
void gw_cmd_cdb_export(struct gw *gw, struct gw_cmd *c);
void gw_cmd_cdb_import(struct gw *gw, struct gw_cmd *c);

/* gw_node.c */
void gw_cmd_node_list(struct gw *gw, struct gw_cmd *c);
void gw_cmd_node_get(struct gw *gw, struct gw_cmd *c);
void gw_cmd_node_patch(struct gw *gw, struct gw_cmd *c);
void gw_cmd_node_remove(struct gw *gw, struct gw_cmd *c);
void gw_cmd_node_comp(struct gw *gw, struct gw_cmd *c);
void gw_cmd_node_config(struct gw *gw, struct gw_cmd *c);
void gw_cmd_onoff_set(struct gw *gw, struct gw_cmd *c);
void gw_cmd_onoff_get(struct gw *gw, struct gw_cmd *c);
/* Store a Composition Data page read from a node (page 0 also parsed). */
int gw_store_comp(struct gw *gw, uint16_t addr, uint8_t page, const uint8_t *data, size_t len);

#endif
