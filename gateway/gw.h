/*
 * The gateway core: owns the mesh stack (a provisioner node with Config and
 * Generic OnOff clients, PB-ADV provisioning), the bearer and the inventory,
 * all on the event-loop thread.  The REST layer reaches it only through the
 * command queue (gateway/cmdq.h, contract in gateway/gw_cmd.h); events go
 * out through a publish hook.
 */
#ifndef GW_GW_H
#define GW_GW_H

#include <jansson.h>
#include <stdbool.h>

#include "gateway/cmdq.h"
#include "gateway/conf.h"
#include "gateway/loop.h"

struct gw;
struct gw_cmd;
struct store;

struct gw_hooks {
	void *ctx;
	/* An event for the SSE stream (type, data); steals data.  May be NULL. */
	void (*publish)(void *ctx, const char *type, json_t *data);
};

/*
 * Open the inventory (creating the network on first start), build the
 * stack and attach the bearer.  conf is copied; loop and q are borrowed.
 * Returns a new core or NULL with *err (negative errno) and a message
 * logged.  Free with gw_free().
 */
struct gw *gw_new(const struct gw_conf *conf, struct gw_loop *loop, struct gw_cmdq *q,
		  const struct gw_hooks *hooks, int *err);

/*
 * Begin an orderly stop: cancel provisioning sessions (their links get a
 * Link Close) and stop scanning.  gw_stopping_done() is true once the Link
 * Closes are on the air.
 */
void gw_shutdown(struct gw *gw);
bool gw_stopping_done(const struct gw *gw);

/* Flush and close the inventory, free everything.  Accepts NULL. */
void gw_free(struct gw *gw);

/* Apply a reloaded configuration (what can change without a restart). */
void gw_reconfigure(struct gw *gw, const struct gw_conf *conf);

/*
 * The reads the HTTP threads answer themselves and the token table
 * (gateway/reads.h); borrowed, lives as long as gw.
 */
struct gw_reads *gw_reads_of(struct gw *gw);

/*
 * Token check for the REST layer, safe from any thread: 0 and the token's
 * name and role (0 viewer, 1 operator, 2 admin), or -EACCES.
 */
int gw_token_verify(struct gw *gw, const char *token, char *name, size_t cap, int *role);

/*
 * The same check without waiting, for a caller that queues the command itself
 * (the REST layer suspends the request meanwhile): returns a new command (two
 * references, see gateway/cmdq.h) or NULL on allocation failure; once it is
 * completed, gw_token_verify_done() reads it like gw_token_verify() returns.
 */
struct gw_cmd *gw_token_verify_cmd(const char *token);
int gw_token_verify_done(const struct gw_cmd *c, char *name, size_t cap, int *role);

/* Create an API token in the inventory at path (the CLI): prints nothing. */
int gw_token_create_offline(const struct gw_conf *conf, const char *name, int role, char *token,
			    size_t cap);

/*
 * `meshgw backup FILE`: a consistent copy of the inventory at FILE (0600), taken beside a
 * running daemon (store_backup()).  0, or a negative errno with a sentence in why.
 */
int gw_backup_offline(const struct gw_conf *conf, const char *file, char *why, size_t why_cap);

/*
 * `meshgw restore FILE`: replace the inventory by the backup FILE; refused while a daemon has
 * it open (store_restore()).  aside receives the name the replaced database is kept under ("" if
 * there was none).  0, or a negative errno with a sentence in why.
 */
int gw_restore_offline(const struct gw_conf *conf, const char *file, char *aside, size_t aside_cap,
		       char *why, size_t why_cap);

#endif
