/*
 * The contract between the REST layer (api/, HTTP threads) and the gateway
 * core (gateway/, the event-loop thread): command types carried by struct
 * gw_cmd (gateway/cmdq.h), their JSON arguments and their JSON results.
 *
 * api/ validates every request (types, ranges, unknown fields) before it
 * builds a command, so the core may trust the shapes below; the core still
 * checks meaning (a node that does not exist, a key index in use).
 *
 * Arguments: cmd->args is a JSON object holding the path parameters, the
 * query parameters and the request body fields, as listed per command.  A
 * body field named like a path parameter is replaced by it and kept as
 * args._body.NAME (the "address" of a subscription or publication).
 * Result: cmd->status 0 and cmd->result the response body, or a negative
 * errno and cmd->detail a sentence for the problem response.  A result with
 * a member "_http_status" (integer) overrides the default 200 (e.g. 202
 * for an accepted long operation); api/ removes that member before sending.
 *
 * Addresses and key indexes are JSON integers; keys, UUIDs and raw bytes
 * are lower-case hex strings (UUIDs without dashes accepted on input,
 * returned as 32 hex digits).  Times are RFC 3339 strings (UTC).
 */
#ifndef GW_CMD_H
#define GW_CMD_H

enum gw_cmd_type {
	/* GET /api/v1/network -> {mesh_uuid, iv_index, iv_update, address,
	 *   unicast_range:{low,high}, group_range:{low,high},
	 *   net_keys:[{index, phase}], app_keys:[{index, net_index}], nodes: count} */
	GW_CMD_NETWORK_GET = 1,

	/* POST /api/v1/scans {duration_s: 1..600 (default 30), remote: bool
	 *   (false; true: also through every Remote Provisioning Server of the
	 *   network), servers?: [address] (scan through these servers)}
	 *   -> 202 {id, state:"running", started_at, duration_s, servers:[address]} */
	GW_CMD_SCAN_START,
	/* DELETE /api/v1/scans/current -> {state:"stopped"} */
	GW_CMD_SCAN_STOP,
	/* GET /api/v1/scans/results -> {scanning: bool, items:[{uuid, oob_info,
	 *   uri_hash|null, rssi (best), first_seen, last_seen, seen_by:[{via
	 *   (0: the gateway itself, else the server's address), rssi, last_seen}]}]} */
	GW_CMD_SCAN_RESULTS,

	/* POST /api/v1/provisioning {devices:[{uuid, name?, server?: address of the
	 *   Remote Provisioning Server to go through (default: the gateway itself
	 *   when it saw the device, else the server that saw it best), auth:{method:
	 *   "none"|"static"|"output"|"input", static_oob?: hex 32|64,
	 *   action?: "blink"|"beep"|"vibrate"|"numeric"|"alphanumeric"|"push"|"twist",
	 *   size?: 1..8}}] (1..32 devices), algorithm?: "auto"|"hmac"|"cmac"}
	 *   -> 202 {job, sessions:[session]}: one job of kind "provision", a
	 *   session per target.
	 * session = {id ("J-I": target I of job J), job, index, uuid, name, state:
	 *   "queued"|"linking"|"provisioning"|"waiting_oob"|"probing"|
	 *   "configuring"|"done"|"failed"|"cancelled", address|null, auth_method,
	 *   input_oob_value|null (shown to the user for Input OOB), via|null
	 *   (server address for PB-Remote), procedure|null (node refresh:
	 *   "device_key"|"address"|"composition"), error|null, attempts,
	 *   created_at, updated_at}.  "queued" with an error: waiting for a
	 *   retry; "probing": asking a device that may have taken its keys. */
	GW_CMD_PROV_START,
	/* GET /api/v1/provisioning -> {items:[session]} (recent and active) */
	GW_CMD_PROV_LIST,
	/* GET /api/v1/provisioning/{id} -> session */
	GW_CMD_PROV_GET,
	/* POST /api/v1/provisioning/{id}/oob {value: string 1..8} -> session */
	GW_CMD_PROV_OOB,
	/* DELETE /api/v1/provisioning/{id} -> session (cancelled) */
	GW_CMD_PROV_CANCEL,

	/* GET /api/v1/nodes {limit 1..1000 (50), offset >= 0, excluded: bool,
	 *   name: substring, state} -> {items:[node], total, limit, offset}
	 * node = {address, uuid, name, elements, state, excluded, cid, pid,
	 *   vid, features:{relay,proxy,friend,low_power}, created_at, updated_at} */
	GW_CMD_NODE_LIST,
	/* GET /api/v1/nodes/{address} -> node + {net_keys, app_keys,
	 *   pages:[numbers], bindings:[{element, model, app_index}],
	 *   subscriptions:[{element, model, address}]} */
	GW_CMD_NODE_GET,
	/* PATCH /api/v1/nodes/{address} {name} -> node */
	GW_CMD_NODE_PATCH,
	/* DELETE /api/v1/nodes/{address} -> 202 operation (Node Reset, then excluded) */
	GW_CMD_NODE_REMOVE,
	/* GET /api/v1/nodes/{address}/composition/{page} -> {page, raw (hex),
	 *   cid, pid, vid, crpl, features, elements:[{index, location,
	 *   models:[{id, vendor: bool, company|null}]}]} (from the inventory) */
	GW_CMD_NODE_COMP,
	/* POST /api/v1/nodes/{address}/config {op, ...fields} -> {op, status,
	 *   status_name, ...} (synchronous, waits for the node's status)
	 * op: "composition_get" {page}, "appkey_add" {app_index},
	 *   "appkey_delete" {app_index}, "appkey_list" {net_index},
	 *   "bind"/"unbind" {element, model, app_index},
	 *   "publication_get" {element, model}, "publication_set" {element,
	 *   model, address, app_index, ttl, period, retransmit},
	 *   "subscription_add"/"subscription_delete" {element, model, address},
	 *   "subscription_list" {element, model},
	 *   "default_ttl_get", "default_ttl_set" {ttl}, "relay_get",
	 *   "relay_set" {enabled, retransmit}, "beacon_get", "beacon_set"
	 *   {enabled}, "net_transmit_get", "net_transmit_set" {count,
	 *   interval_ms}, "heartbeat_pub_get", "heartbeat_pub_set" {destination,
	 *   count_log, period_log, ttl, features, net_index},
	 *   "heartbeat_sub_get", "heartbeat_sub_set" {source, destination,
	 *   period_log}, "node_reset".
	 * model: integer (SIG 16-bit) or {company, id} (vendor). */
	GW_CMD_NODE_CONFIG,

	/* POST /api/v1/onoff {address, on: bool, ack: bool (true)} -> {address,
	 *   present|null} (address may be a group address; then no answer is
	 *   awaited and present is null) */
	GW_CMD_ONOFF_SET,
	/* GET /api/v1/onoff/{address} -> {address, present} */
	GW_CMD_ONOFF_GET,

	/* GET /api/v1/keys/net {export: bool} -> {items:[{index, phase,
	 *   key? (admin + export only)}]} */
	GW_CMD_NETKEY_LIST,
	/* POST /api/v1/keys/net {index?} -> 201 {index, phase} (admin) */
	GW_CMD_NETKEY_CREATE,
	/* POST /api/v1/keys/net/{index}/refresh -> 202 {job, net_index, phase: 1,
	 *   app_indexes, targets} (admin): Key Refresh of the subnet as a job
	 *   (keyref.h); 404 for an unknown NetKey or one no node holds, 409 while a
	 *   refresh runs. */
	GW_CMD_NETKEY_REFRESH,
	/* POST /api/v1/network/ownership-change -> 202 {job, net_indexes, device_key,
	 *   not_rotated, targets} (owner.h); 409 while one runs. */
	GW_CMD_OWNERSHIP_CHANGE,
	/* GET /api/v1/keys/app {export: bool} -> {items:[{index, net_index, key?}]} */
	GW_CMD_APPKEY_LIST,
	/* POST /api/v1/keys/app {net_index, index?} -> 201 {index, net_index} (admin) */
	GW_CMD_APPKEY_CREATE,

	/* GET /api/v1/operations {limit, offset} -> {items:[operation]}
	 * operation = {id, type, state: "running"|"done"|"failed", progress
	 *   (0..100), target|null, result|null, error|null, created_at, updated_at} */
	GW_CMD_OP_LIST,
	/* GET /api/v1/operations/{id} -> operation */
	GW_CMD_OP_GET,

	/* GET /api/v1/tokens -> {items:[{name, role, created_at, revoked}]} (admin) */
	GW_CMD_TOKEN_LIST,
	/* POST /api/v1/tokens {name, role} -> 201 {name, role, token} (admin; the
	 *   token is shown once) */
	GW_CMD_TOKEN_CREATE,
	/* DELETE /api/v1/tokens/{name} -> {name, revoked: true} (admin) */
	GW_CMD_TOKEN_REVOKE,

	/* GET /healthz (no token) -> {status:"ok", version, uptime_s, bearer} */
	GW_CMD_HEALTH,

	/* POST /api/v1/nodes/{address}/refresh {procedure: "device_key"|"address"|
	 *   "composition"} -> 202 operation + {session} (Node Provisioning
	 *   Protocol Interface through the node's own Remote Provisioning Server:
	 *   a new DevKey; a new address (the old one is excluded); the
	 *   composition of page 128 becomes page 0 and models are bound again). */
	GW_CMD_NODE_REFRESH,

	/* GET /api/v1/cdb {partial: bool} -> the network as a Mesh CDB 1.0.1
	 *   document (gateway/cdb.h); with keys (admin) unless partial, then
	 *   without any key and "partial": true (viewer). */
	GW_CMD_CDB_EXPORT,
	/* POST /api/v1/cdb {document: the CDB 1.0.0/1.0.1 document (the raw
	 *   request body), dry_run: bool, provisioner?: UUID to continue as}
	 *   -> {dry_run, mode: "take-over"|"merge", nodes:{added, unchanged,
	 *   excluded}, net_keys_added, app_keys_added, provisioners_added,
	 *   groups_added, scenes_added, exclusions_added, address,
	 *   address_changed, unicast_range:{low,high}, group_range:{low,high},
	 *   iv_index, adopted, restart_required} (admin).  Errors: -EINVAL
	 *   (shape: the detail names the JSON pointer), -EDOM (inconsistent
	 *   document), -EEXIST (conflicts with the inventory), -EBUSY. */
	GW_CMD_CDB_IMPORT,

	/* GET /api/v1/trust -> {configured, path, items:[{subject, issuer, not_before,
	 *   not_after, sha256}]}: the manufacturers' root CAs of certificate-based
	 *   provisioning (conf cbp_trust; gateway/trust.h) (admin). */
	GW_CMD_TRUST_LIST,

	/* GET /api/v1/jobs {limit, offset, kind?, unfinished: bool} -> {items:[job],
	 *   total, limit, offset}, newest first.
	 * job = {id, kind: "provision"|"refresh"|"remove", state: "running"|
	 *   "paused"|"cancelling"|"done"|"cancelled", created_by, created_at,
	 *   updated_at, finished_at|null, error|null, params, total,
	 *   counts:{pending, active, done, failed, cancelled}} */
	GW_CMD_JOB_LIST,
	/* GET /api/v1/jobs/{id} -> job + {targets:[target]}
	 * target = {job, index, state: "pending"|"active"|"done"|"failed"|
	 *   "cancelled", step, attempts, uuid|null, node|null, name, address|null,
	 *   via|null, next_attempt_at|null, error|null, result|null, created_at,
	 *   updated_at} + the kind's fields (provision/refresh: session, phase) */
	GW_CMD_JOB_GET,
	/* POST /api/v1/jobs/{id}/pause -> job (no new attempt starts; -EALREADY when finished) */
	GW_CMD_JOB_PAUSE,
	/* POST /api/v1/jobs/{id}/resume -> job */
	GW_CMD_JOB_RESUME,
	/* POST /api/v1/jobs/{id}/cancel -> job ("cancelling" until the attempts past their
	 *   point of no return ended, then "cancelled") */
	GW_CMD_JOB_CANCEL,
	/* POST /api/v1/jobs/{id}/finish-without {addresses?} -> job (the targets of those nodes,
	 *   default every unfinished one, are left out; -ENOTSUP for a kind that cannot) */
	GW_CMD_JOB_FINISH_WITHOUT,

	/* POST /api/v1/manifests and PUT /api/v1/manifests/{id} {body: the raw
	 *   request body, format: "csv"|"json", id?} -> manifest (201 when new);
	 *   every row checked first: -EDOM with result {errors: [{row, field,
	 *   message, line?}]} and nothing stored (gateway/manifest_svc.h).
	 * manifest = {id, format, rows, created_by, created_at, updated_at} */
	GW_CMD_MANIFEST_PUT,
	/* GET /api/v1/manifests -> {items: [manifest]} */
	GW_CMD_MANIFEST_LIST,
	/* GET /api/v1/manifests/{id} -> manifest + {devices: [row with its secret]} */
	GW_CMD_MANIFEST_GET,
	/* DELETE /api/v1/manifests/{id} -> {id, deleted} */
	GW_CMD_MANIFEST_DELETE,
	/* POST /api/v1/manifests/{id}/commission {hear_timeout_s, attention_s?, algorithm}
	 *   -> 202 {job, targets}: one job of kind "commission" (gateway/commission.h) */
	GW_CMD_COMMISSION_START,
	/* GET /api/v1/jobs/{id}/report {format: "json"|"csv"} -> {job, state, items:
	 *   [{uuid, name, zone, address, path, attempts, time_s, result, error}], unlisted:
	 *   [uuid]}; csv: {_http_text, _http_content_type, _http_filename} (a file) */
	GW_CMD_JOB_REPORT,

	/* GET /api/v1/zones -> {items:[zone]}
	 * zone = {id, name, group, nodes:[address], lights:[address of a node with a
	 *   Generic OnOff Server], switches:[... with a Generic OnOff Client],
	 *   pending:[address of a node whose move is not confirmed], created_at,
	 *   updated_at} (gateway/zones.h) */
	GW_CMD_ZONE_LIST,
	/* POST /api/v1/zones {name} -> 201 zone (a new group address) */
	GW_CMD_ZONE_CREATE,
	/* GET /api/v1/zones/{id} -> zone */
	GW_CMD_ZONE_GET,
	/* PATCH /api/v1/zones/{id} {name} -> zone */
	GW_CMD_ZONE_PATCH,
	/* DELETE /api/v1/zones/{id} -> {id, deleted}; -EBUSY while it has nodes */
	GW_CMD_ZONE_DELETE,
	/* PUT /api/v1/nodes/{address}/zone {zone: id|null} -> {address, zone: {id, name,
	 *   group, pending}|null} once the node confirmed every step */
	GW_CMD_NODE_ZONE,

	GW_CMD_MAX
};

#endif /* GW_CMD_H */
