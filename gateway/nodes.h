/*
 * Node configuration: the inventory's view of nodes and their
 * composition, Config Client operations on a node (each waits for the
 * node's status and records what changed), Generic OnOff, and node removal
 * (Node Reset, exclusion, then a Key Refresh of the node's subnets) as the
 * job kind "remove".
 */
#ifndef GW_NODES_H
#define GW_NODES_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/cmdq.h"
#include "gateway/core.h"
#include "gateway/jobs.h"

struct gw_nodes;

/* New service over core and jobs (borrowed); registers the kind "remove". */
struct gw_nodes *gw_nodes_new(struct gw_core *core, struct gw_jobs *jobs);
void gw_nodes_free(struct gw_nodes *nodes);
/*
 * The Key Refresh service (borrowed) that removals use to lock the removed
 * node out of its subnets (remove_key_refresh); NULL: removals only reset
 * and exclude.
 */
struct gw_kr;
void gw_nodes_set_kr(struct gw_nodes *nodes, struct gw_kr *kr);

/* Store a Composition Data page read from a node (page 0 is also parsed into elements/models). */
int gw_nodes_store_comp(struct gw_core *core, uint16_t addr, uint8_t page, const uint8_t *data,
			size_t len);
/*
 * Finish an operation record (store_op) of a job target and publish
 * "operation.updated": st as store_op_finish takes it.
 */
void gw_nodes_op_finish(struct gw_core *core, uint64_t op_id, int st, const char *result,
			const char *error);

/*
 * Record what a successful Config status rsp (answering req, sent to node) changed, so the
 * inventory follows the node: bindings, subscriptions, publications, AppKeys, states.
 */
void gw_nodes_record(struct gw_core *core, uint16_t node, const struct cfg_msg *req,
		     const struct cfg_msg *rsp);

/*
 * The answers of GET /api/v1/nodes (a page; args as GW_CMD_NODE_LIST takes
 * them) and GET /api/v1/nodes/{address} (args as GW_CMD_NODE_GET), read from
 * st: the loop's store, or a read-only handle on an HTTP thread
 * (store_open_ro(); gateway/reads.h), so that both paths send the same
 * bytes.  Return a new object, or NULL with *err (negative errno) and detail
 * (a sentence for the problem response, cap bytes).
 */
json_t *gw_nodes_page_json(struct store *st, const json_t *args, int *err, char *detail,
			   size_t cap);
json_t *gw_nodes_node_json(struct store *st, const json_t *args, int *err, char *detail,
			   size_t cap);
/*
 * The page of gw_nodes_page_json() as JSON text, the octets json_dumps()
 * prints for that object with JSON_COMPACT, written without building it
 * (gateway/jsonw.h): the HTTP threads' path.  Returns the text (*len octets,
 * NUL-terminated; free()), or NULL with *err and detail as above.
 */
char *gw_nodes_page_text(struct store *st, const json_t *args, size_t *len, int *err, char *detail,
			 size_t cap);

/* REST commands (gw_cmd.h). */
void gw_nodes_cmd_list(struct gw_nodes *nodes, struct gw_cmd *c);
void gw_nodes_cmd_get(struct gw_nodes *nodes, struct gw_cmd *c);
void gw_nodes_cmd_patch(struct gw_nodes *nodes, struct gw_cmd *c);
void gw_nodes_cmd_remove(struct gw_nodes *nodes, struct gw_cmd *c);
void gw_nodes_cmd_comp(struct gw_nodes *nodes, struct gw_cmd *c);
void gw_nodes_cmd_config(struct gw_nodes *nodes, struct gw_cmd *c);
void gw_nodes_cmd_onoff_set(struct gw_nodes *nodes, struct gw_cmd *c);
void gw_nodes_cmd_onoff_get(struct gw_nodes *nodes, struct gw_cmd *c);

#endif
