#include "api/api_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_cmd.h"

/*
 * The REST API v1 route table and the input schemas of every route, following
 * gateway/gw_cmd.h.  openapi.yaml describes the same shapes; tests/api/
 * test_routes.c checks that every route here is in openapi.yaml.
 *
 * Ranges come from the Mesh Profile: unicast addresses 0x0001..0x7fff and any
 * non-unassigned address up to 0xffff (§3.4.2), key indexes 12 bits (§4.3.1.1),
 * TTL 0..127 (§3.4.4.3, 255 = "use the default" in a publication), Network
 * Transmit and Relay Retransmit counts 0..7 with 10 ms steps up to 320 ms
 * (§4.2.19, §4.2.20), publish retransmit steps of 50 ms up to 1600 ms
 * (§4.2.2.7), heartbeat logarithms 0..0x11 (§4.2.17, 0xff = indefinitely for a
 * count).
 */

/* Scalars. */
static const struct vs s_dst = {.type = VS_INT, .min = 0x0001, .max = 0xffff};
static const struct vs s_addr_any = {.type = VS_INT, .min = 0x0000, .max = 0xffff};
static const struct vs s_key_index = {.type = VS_INT, .min = 0, .max = 4095};
static const struct vs s_u8 = {.type = VS_INT, .min = 0, .max = 255};
static const struct vs s_u16 = {.type = VS_INT, .min = 0, .max = 0xffff};
static const struct vs s_ttl = {.type = VS_INT, .min = 0, .max = 127};
static const struct vs s_pub_ttl = {.type = VS_INT, .min = 0, .max = 255};
static const struct vs s_log = {.type = VS_INT, .min = 0, .max = 0x11};
static const struct vs s_count_log = {.type = VS_INT, .min = 0, .max = 255};
static const struct vs s_bool = {.type = VS_BOOL};
static const struct vs s_uuid = {.type = VS_UUID};
static const struct vs s_label = {.type = VS_STRING, .min = 0, .max = 64};
static const struct vs s_id = {.type = VS_NAME, .min = 1, .max = 64};
static const struct vs s_limit = {.type = VS_INT, .min = 1, .max = 1000};
static const struct vs s_offset = {.type = VS_INT, .min = 0, .max = 2147483647};

static const char *const roles[] = {"viewer", "operator", "admin", NULL};
static const struct vs s_role = {.type = VS_ENUM, .values = roles};

/* Model identifiers: a SIG model as an integer, a vendor model as {company, id}. */
static const struct vs_field f_vendor_model[] = {
    {"company", &s_u16, true, NULL},
    {"id", &s_u16, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs s_vendor_model = {.type = VS_OBJECT, .fields = f_vendor_model};
static const struct vs *const model_alts[] = {&s_u16, &s_vendor_model, NULL};
static const struct vs s_model = {.type = VS_ANYOF, .alts = model_alts};

/* Retransmit settings (count and interval in milliseconds). */
static const struct vs s_count7 = {.type = VS_INT, .min = 0, .max = 7};
static const struct vs s_relay_interval = {.type = VS_INT, .min = 10, .max = 320};
static const struct vs s_pub_interval = {.type = VS_INT, .min = 50, .max = 1600};
static const struct vs_field f_relay_rtx[] = {
    {"count", &s_count7, true, NULL},
    {"interval_ms", &s_relay_interval, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs s_relay_rtx = {.type = VS_OBJECT, .fields = f_relay_rtx};
static const struct vs_field f_pub_rtx[] = {
    {"count", &s_count7, true, NULL},
    {"interval_ms", &s_pub_interval, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs s_pub_rtx = {.type = VS_OBJECT, .fields = f_pub_rtx};

/* POST /api/v1/scans */
static const struct vs s_duration = {.type = VS_INT, .min = 1, .max = 600};
static const struct vs s_server = {.type = VS_INT, .min = 0x0001, .max = 0x7fff};
static const struct vs s_servers = {.type = VS_ARRAY, .min = 1, .max = 32, .items = &s_server};
static const struct vs_field f_scan[] = {
    {"duration_s", &s_duration, false, "30"},
    {"remote", &s_bool, false, "false"},
    {"servers", &s_servers, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs b_scan = {.type = VS_OBJECT, .fields = f_scan};

/* POST /api/v1/provisioning: auth is a union selected by its method (§5.4.2.4). */
static const struct vs s_static_oob = {.type = VS_HEX, .min = 32, .max = 64};
static const char *const out_actions[] = {"blink",   "beep",         "vibrate",
					  "numeric", "alphanumeric", NULL};
static const char *const in_actions[] = {"push", "twist", "numeric", "alphanumeric", NULL};
static const struct vs s_out_action = {.type = VS_ENUM, .values = out_actions};
static const struct vs s_in_action = {.type = VS_ENUM, .values = in_actions};
static const struct vs s_oob_size = {.type = VS_INT, .min = 1, .max = 8};
/* Certificate-based provisioning beside another method; method "certificate" requires it. */
static const char *const cert_policies[] = {"never", "prefer", "require", NULL};
static const struct vs s_cert_policy = {.type = VS_ENUM, .values = cert_policies};
static const struct vs_field f_auth_none[] = {
    {"certificate", &s_cert_policy, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_field f_auth_static[] = {
    {"static_oob", &s_static_oob, true, NULL},
    {"certificate", &s_cert_policy, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_field f_auth_output[] = {
    {"action", &s_out_action, true, NULL},
    {"size", &s_oob_size, true, NULL},
    {"certificate", &s_cert_policy, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_field f_auth_input[] = {
    {"action", &s_in_action, true, NULL},
    {"size", &s_oob_size, true, NULL},
    {"certificate", &s_cert_policy, false, NULL},
    {NULL, NULL, false, NULL},
};
/* The device's P-256 public key X || Y, read out of band (§5.4.2.3). */
static const struct vs s_pub_key = {.type = VS_HEX, .min = 128, .max = 128};
static const struct vs_field f_auth_pub_key[] = {
    {"public_key", &s_pub_key, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_variant auth_variants[] = {
    {"none", f_auth_none},
    {"static", f_auth_static},
    {"output", f_auth_output},
    {"input", f_auth_input},
    {"oob_public_key", f_auth_pub_key},
    {"certificate", NULL},
    {NULL, NULL},
};
static const struct vs s_auth = {.type = VS_TAGGED, .tag = "method", .variants = auth_variants};
static const struct vs_field f_device[] = {
    {"uuid", &s_uuid, true, NULL}, {"name", &s_label, false, NULL},
    {"auth", &s_auth, true, NULL}, {"server", &s_server, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs s_device = {.type = VS_OBJECT, .fields = f_device};
static const struct vs s_devices = {.type = VS_ARRAY, .min = 1, .max = 32, .items = &s_device};
static const char *const algorithms[] = {"auto", "hmac", "cmac", NULL};
static const struct vs s_algorithm = {.type = VS_ENUM, .values = algorithms};
static const struct vs_field f_prov[] = {
    {"devices", &s_devices, true, NULL},
    {"algorithm", &s_algorithm, false, "\"auto\""},
    /* Provisioning Invite Attention Duration, seconds (§5.4.1.1). */
    {"attention_s", &s_u8, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs b_prov = {.type = VS_OBJECT, .fields = f_prov};

/* POST /api/v1/manifests/{id}/commission */
static const struct vs s_hear_timeout = {.type = VS_INT, .min = 1, .max = 86400};
static const struct vs_field f_commission[] = {
    {"hear_timeout_s", &s_hear_timeout, false, "120"},
    {"attention_s", &s_u8, false, NULL},
    {"algorithm", &s_algorithm, false, "\"auto\""},
    {NULL, NULL, false, NULL},
};
static const struct vs b_commission = {.type = VS_OBJECT, .fields = f_commission};
/* GET /api/v1/jobs/{id}/report */
static const char *const report_formats[] = {"json", "csv", NULL};
static const struct vs s_report_format = {.type = VS_ENUM, .values = report_formats};
static const struct vs_field f_report[] = {
    {"format", &s_report_format, false, "\"json\""},
    {NULL, NULL, false, NULL},
};
static const struct vs q_report = {.type = VS_OBJECT, .fields = f_report};

/* POST /api/v1/provisioning/{id}/oob */
static const struct vs s_oob_value = {.type = VS_STRING, .min = 1, .max = 8};
static const struct vs_field f_oob[] = {
    {"value", &s_oob_value, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs b_oob = {.type = VS_OBJECT, .fields = f_oob};

/* POST /api/v1/nodes/{address}/refresh (NPPI) */
static const char *const procedures[] = {"device_key", "address", "composition", NULL};
static const struct vs s_procedure = {.type = VS_ENUM, .values = procedures};
static const struct vs_field f_refresh[] = {
    {"procedure", &s_procedure, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs b_refresh = {.type = VS_OBJECT, .fields = f_refresh};

/* POST /api/v1/jobs/{id}/finish-without */
static const struct vs s_addresses = {.type = VS_ARRAY, .min = 1, .max = 1000, .items = &s_server};
static const struct vs_field f_finish_without[] = {
    {"addresses", &s_addresses, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs b_finish_without = {.type = VS_OBJECT, .fields = f_finish_without};

/* GET /api/v1/nodes */
static const struct vs s_name_filter = {.type = VS_STRING, .min = 1, .max = 64};
static const struct vs s_state_filter = {.type = VS_NAME, .min = 1, .max = 32};
static const struct vs s_after = {.type = VS_INT, .min = 0, .max = 0x7fff};
static const struct vs_field f_node_query[] = {
    {"limit", &s_limit, false, "50"},
    {"offset", &s_offset, false, "0"},
    {"after", &s_after, false, NULL},
    {"excluded", &s_bool, false, NULL},
    {"name", &s_name_filter, false, NULL},
    {"state", &s_state_filter, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs q_nodes = {.type = VS_OBJECT, .fields = f_node_query};

/* PATCH /api/v1/nodes/{address} */
static const struct vs_field f_patch[] = {
    {"name", &s_label, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs b_patch = {.type = VS_OBJECT, .fields = f_patch};

/* POST /api/v1/nodes/{address}/config: one variant per Config Client operation (§4.3.2). */
static const struct vs_field f_cfg_page[] = {
    {"page", &s_u8, false, "0"},
    {NULL, NULL, false, NULL},
};
static const struct vs_field f_cfg_app[] = {
    {"app_index", &s_key_index, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_field f_cfg_net[] = {
    {"net_index", &s_key_index, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_field f_cfg_bind[] = {
    {"element", &s_u8, true, NULL},
    {"model", &s_model, true, NULL},
    {"app_index", &s_key_index, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_field f_cfg_model[] = {
    {"element", &s_u8, true, NULL},
    {"model", &s_model, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_field f_cfg_pub_set[] = {
    {"element", &s_u8, true, NULL},          {"model", &s_model, true, NULL},
    {"address", &s_addr_any, true, NULL},    {"app_index", &s_key_index, true, NULL},
    {"ttl", &s_pub_ttl, false, "255"},       {"period", &s_u8, false, "0"},
    {"retransmit", &s_pub_rtx, false, NULL}, {NULL, NULL, false, NULL},
};
static const struct vs_field f_cfg_sub[] = {
    {"element", &s_u8, true, NULL},
    {"model", &s_model, true, NULL},
    {"address", &s_dst, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_field f_cfg_ttl[] = {
    {"ttl", &s_ttl, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_field f_cfg_relay[] = {
    {"enabled", &s_bool, true, NULL},
    {"retransmit", &s_relay_rtx, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_field f_cfg_beacon[] = {
    {"enabled", &s_bool, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs s_tx_count = {.type = VS_INT, .min = 1, .max = 8};
static const struct vs_field f_cfg_net_tx[] = {
    {"count", &s_tx_count, true, NULL},
    {"interval_ms", &s_relay_interval, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs s_hb_features = {.type = VS_INT, .min = 0, .max = 15};
static const struct vs_field f_cfg_hb_pub[] = {
    {"destination", &s_addr_any, true, NULL},
    {"count_log", &s_count_log, true, NULL},
    {"period_log", &s_log, true, NULL},
    {"ttl", &s_ttl, true, NULL},
    {"features", &s_hb_features, false, "0"},
    {"net_index", &s_key_index, false, "0"},
    {NULL, NULL, false, NULL},
};
static const struct vs s_hb_source = {.type = VS_INT, .min = 0, .max = 0x7fff};
static const struct vs_field f_cfg_hb_sub[] = {
    {"source", &s_hb_source, true, NULL},
    {"destination", &s_addr_any, true, NULL},
    {"period_log", &s_log, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs_variant cfg_variants[] = {
    {"composition_get", f_cfg_page},
    {"appkey_add", f_cfg_app},
    {"appkey_delete", f_cfg_app},
    {"appkey_list", f_cfg_net},
    {"bind", f_cfg_bind},
    {"unbind", f_cfg_bind},
    {"publication_get", f_cfg_model},
    {"publication_set", f_cfg_pub_set},
    {"subscription_add", f_cfg_sub},
    {"subscription_delete", f_cfg_sub},
    {"subscription_list", f_cfg_model},
    {"default_ttl_get", NULL},
    {"default_ttl_set", f_cfg_ttl},
    {"relay_get", NULL},
    {"relay_set", f_cfg_relay},
    {"beacon_get", NULL},
    {"beacon_set", f_cfg_beacon},
    {"net_transmit_get", NULL},
    {"net_transmit_set", f_cfg_net_tx},
    {"heartbeat_pub_get", NULL},
    {"heartbeat_pub_set", f_cfg_hb_pub},
    {"heartbeat_sub_get", NULL},
    {"heartbeat_sub_set", f_cfg_hb_sub},
    {"node_reset", NULL},
    {NULL, NULL},
};
static const struct vs b_config = {.type = VS_TAGGED, .tag = "op", .variants = cfg_variants};

/* POST /api/v1/onoff */
static const struct vs_field f_onoff[] = {
    {"address", &s_dst, true, NULL},
    {"on", &s_bool, true, NULL},
    {"ack", &s_bool, false, "true"},
    {NULL, NULL, false, NULL},
};
static const struct vs b_onoff = {.type = VS_OBJECT, .fields = f_onoff};

/* Keys. */
static const struct vs_field f_export[] = {
    {"export", &s_bool, false, "false"},
    {NULL, NULL, false, NULL},
};
static const struct vs q_export = {.type = VS_OBJECT, .fields = f_export};
static const struct vs_field f_netkey[] = {
    {"index", &s_key_index, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs b_netkey = {.type = VS_OBJECT, .fields = f_netkey};
static const struct vs_field f_appkey[] = {
    {"net_index", &s_key_index, true, NULL},
    {"index", &s_key_index, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs b_appkey = {.type = VS_OBJECT, .fields = f_appkey};

/* Mesh CDB hand-over. */
static const struct vs_field f_cdb_export[] = {
    {"partial", &s_bool, false, "false"},
    {NULL, NULL, false, NULL},
};
static const struct vs q_cdb_export = {.type = VS_OBJECT, .fields = f_cdb_export};
static const struct vs_field f_cdb_import[] = {
    {"dry_run", &s_bool, false, "false"},
    {"provisioner", &s_uuid, false, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs q_cdb_import = {.type = VS_OBJECT, .fields = f_cdb_import};

/* GET /api/v1/operations */
static const struct vs_field f_page_query[] = {
    {"limit", &s_limit, false, "50"},
    {"offset", &s_offset, false, "0"},
    {NULL, NULL, false, NULL},
};
static const struct vs q_page = {.type = VS_OBJECT, .fields = f_page_query};

/* GET /api/v1/jobs */
static const struct vs_field f_jobs_query[] = {
    {"limit", &s_limit, false, "50"}, {"offset", &s_offset, false, "0"},
    {"kind", &s_id, false, NULL},     {"unfinished", &s_bool, false, "false"},
    {NULL, NULL, false, NULL},
};
static const struct vs q_jobs = {.type = VS_OBJECT, .fields = f_jobs_query};

/* POST /api/v1/tokens */
static const struct vs_field f_token[] = {
    {"name", &s_id, true, NULL},
    {"role", &s_role, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs b_token = {.type = VS_OBJECT, .fields = f_token};

/* POST /api/v1/zones, PATCH /api/v1/zones/{id}: storage takes 1..63 octets (store_zone.h). */
static const struct vs s_zone_name = {.type = VS_STRING, .min = 1, .max = 63};
static const struct vs_field f_zone[] = {
    {"name", &s_zone_name, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs b_zone = {.type = VS_OBJECT, .fields = f_zone};
/* PUT /api/v1/nodes/{address}/zone: a zone id, or null for none. */
static const struct vs s_zone_ref = {.type = VS_INT, .min = 1, .max = 2147483647, .nullable = true};
static const struct vs_field f_node_zone[] = {
    {"zone", &s_zone_ref, true, NULL},
    {NULL, NULL, false, NULL},
};
static const struct vs b_node_zone = {.type = VS_OBJECT, .fields = f_node_zone};

#define V API_ROLE_VIEWER
#define O API_ROLE_OPERATOR
#define A API_ROLE_ADMIN
static const struct api_route routes[] = {
    {"GET", "/healthz", API_ROLE_NONE, GW_CMD_HEALTH, NULL, NULL, 200, 0},
    {"GET", "/api/v1/network", V, GW_CMD_NETWORK_GET, NULL, NULL, 200, 0},
    {"POST", "/api/v1/network/ownership-change", A, GW_CMD_OWNERSHIP_CHANGE, NULL, NULL, 202, 0},
    {"GET", "/api/v1/events", V, API_CMD_EVENTS, NULL, NULL, 200, 0},
    {"GET", "/metrics", V, API_CMD_METRICS, NULL, NULL, 200, 0},

    {"POST", "/api/v1/scans", O, GW_CMD_SCAN_START, &b_scan, NULL, 202, 0},
    {"DELETE", "/api/v1/scans/current", O, GW_CMD_SCAN_STOP, NULL, NULL, 200, 0},
    {"GET", "/api/v1/scans/results", V, GW_CMD_SCAN_RESULTS, NULL, NULL, 200, 0},

    {"POST", "/api/v1/provisioning", O, GW_CMD_PROV_START, &b_prov, NULL, 202, 0},
    {"GET", "/api/v1/provisioning", V, GW_CMD_PROV_LIST, NULL, NULL, 200, 0},
    {"GET", "/api/v1/provisioning/{id}", V, GW_CMD_PROV_GET, NULL, NULL, 200, 0},
    {"POST", "/api/v1/provisioning/{id}/oob", O, GW_CMD_PROV_OOB, &b_oob, NULL, 200, 0},
    {"DELETE", "/api/v1/provisioning/{id}", O, GW_CMD_PROV_CANCEL, NULL, NULL, 200, 0},

    {"GET", "/api/v1/nodes", V, GW_CMD_NODE_LIST, NULL, &q_nodes, 200, 0},
    {"GET", "/api/v1/nodes/{address}", V, GW_CMD_NODE_GET, NULL, NULL, 200, 0},
    {"PATCH", "/api/v1/nodes/{address}", O, GW_CMD_NODE_PATCH, &b_patch, NULL, 200, 0},
    {"DELETE", "/api/v1/nodes/{address}", O, GW_CMD_NODE_REMOVE, NULL, NULL, 202, 0},
    {"GET", "/api/v1/nodes/{address}/composition/{page}", V, GW_CMD_NODE_COMP, NULL, NULL, 200, 0},
    {"POST", "/api/v1/nodes/{address}/config", O, GW_CMD_NODE_CONFIG, &b_config, NULL, 200, 0},
    {"POST", "/api/v1/nodes/{address}/refresh", O, GW_CMD_NODE_REFRESH, &b_refresh, NULL, 202, 0},
    {"PUT", "/api/v1/nodes/{address}/zone", O, GW_CMD_NODE_ZONE, &b_node_zone, NULL, 200, 0},

    {"GET", "/api/v1/zones", V, GW_CMD_ZONE_LIST, NULL, NULL, 200, 0},
    {"POST", "/api/v1/zones", O, GW_CMD_ZONE_CREATE, &b_zone, NULL, 201, 0},
    {"GET", "/api/v1/zones/{id}", V, GW_CMD_ZONE_GET, NULL, NULL, 200, 0},
    {"PATCH", "/api/v1/zones/{id}", O, GW_CMD_ZONE_PATCH, &b_zone, NULL, 200, 0},
    {"DELETE", "/api/v1/zones/{id}", O, GW_CMD_ZONE_DELETE, NULL, NULL, 200, 0},

    {"POST", "/api/v1/onoff", O, GW_CMD_ONOFF_SET, &b_onoff, NULL, 200, 0},
    {"GET", "/api/v1/onoff/{address}", V, GW_CMD_ONOFF_GET, NULL, NULL, 200, 0},

    {"GET", "/api/v1/keys/net", V, GW_CMD_NETKEY_LIST, NULL, &q_export, 200,
     API_ROUTE_EXPORT_ADMIN},
    {"POST", "/api/v1/keys/net", A, GW_CMD_NETKEY_CREATE, &b_netkey, NULL, 201, 0},
    {"POST", "/api/v1/keys/net/{index}/refresh", A, GW_CMD_NETKEY_REFRESH, NULL, NULL, 202, 0},
    {"GET", "/api/v1/keys/app", V, GW_CMD_APPKEY_LIST, NULL, &q_export, 200,
     API_ROUTE_EXPORT_ADMIN},
    {"POST", "/api/v1/keys/app", A, GW_CMD_APPKEY_CREATE, &b_appkey, NULL, 201, 0},

    {"GET", "/api/v1/trust", A, GW_CMD_TRUST_LIST, NULL, NULL, 200, 0},

    {"GET", "/api/v1/cdb", V, GW_CMD_CDB_EXPORT, NULL, &q_cdb_export, 200,
     API_ROUTE_PARTIAL_VIEWER},
    {"POST", "/api/v1/cdb", A, GW_CMD_CDB_IMPORT, NULL, &q_cdb_import, 200, API_ROUTE_DOCUMENT},

    {"GET", "/api/v1/operations", V, GW_CMD_OP_LIST, NULL, &q_page, 200, 0},
    {"GET", "/api/v1/operations/{id}", V, GW_CMD_OP_GET, NULL, NULL, 200, 0},

    {"GET", "/api/v1/jobs", V, GW_CMD_JOB_LIST, NULL, &q_jobs, 200, 0},
    {"GET", "/api/v1/jobs/{id}", V, GW_CMD_JOB_GET, NULL, NULL, 200, 0},
    {"POST", "/api/v1/jobs/{id}/pause", O, GW_CMD_JOB_PAUSE, NULL, NULL, 200, 0},
    {"POST", "/api/v1/jobs/{id}/resume", O, GW_CMD_JOB_RESUME, NULL, NULL, 200, 0},
    {"POST", "/api/v1/jobs/{id}/cancel", O, GW_CMD_JOB_CANCEL, NULL, NULL, 200, 0},
    {"POST", "/api/v1/jobs/{id}/finish-without", A, GW_CMD_JOB_FINISH_WITHOUT, &b_finish_without,
     NULL, 200, 0},

    {"POST", "/api/v1/manifests", O, GW_CMD_MANIFEST_PUT, NULL, NULL, 201, API_ROUTE_MANIFEST},
    {"GET", "/api/v1/manifests", V, GW_CMD_MANIFEST_LIST, NULL, NULL, 200, 0},
    /* A manifest's rows hold device secrets (static OOB values, OOB public keys). */
    {"GET", "/api/v1/manifests/{id}", O, GW_CMD_MANIFEST_GET, NULL, NULL, 200, 0},
    {"PUT", "/api/v1/manifests/{id}", O, GW_CMD_MANIFEST_PUT, NULL, NULL, 200, API_ROUTE_MANIFEST},
    {"DELETE", "/api/v1/manifests/{id}", O, GW_CMD_MANIFEST_DELETE, NULL, NULL, 200, 0},
    {"POST", "/api/v1/manifests/{id}/commission", O, GW_CMD_COMMISSION_START, &b_commission, NULL,
     202, 0},
    {"GET", "/api/v1/jobs/{id}/report", V, GW_CMD_JOB_REPORT, NULL, &q_report, 200, 0},

    {"GET", "/api/v1/tokens", A, GW_CMD_TOKEN_LIST, NULL, NULL, 200, 0},
    {"POST", "/api/v1/tokens", A, GW_CMD_TOKEN_CREATE, &b_token, NULL, 201, 0},
    {"DELETE", "/api/v1/tokens/{name}", A, GW_CMD_TOKEN_REVOKE, NULL, NULL, 200, 0},
};
#undef V
#undef O
#undef A

const struct api_route *api_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

/* A 16-bit address: decimal, or 0x followed by 1..4 hex digits; nothing else. */
static int parse_address(const char *s, size_t n, long *out)
{
	long v = 0;
	size_t i = 0;
	int base = 10;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
		if (n - i > 4) {
			return -EINVAL;
		}
	} else if (n == 0 || n > 5) {
		return -EINVAL;
	}
	for (; i < n; i++) {
		int d;

		if (isdigit((unsigned char)s[i])) {
			d = s[i] - '0';
		} else if (base == 16 && isxdigit((unsigned char)s[i])) {
			d = tolower((unsigned char)s[i]) - 'a' + 10;
		} else {
			return -EINVAL;
		}
		v = v * base + d;
	}
	if (v > 0xffff) {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_id(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > 64) {
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') {
			return -EINVAL;
		}
	}
	return 0;
}

/* Adds one path parameter to params, or explains in err why the segment is not one. */
static int add_param(const char *name, size_t name_len, const char *seg, size_t seg_len,
		     json_t *params, char *err, size_t err_cap)
{
	char key[16];
	long v;

	snprintf(key, sizeof(key), "%.*s", (int)name_len, name);
	if (strcmp(key, "address") == 0) {
		if (parse_address(seg, seg_len, &v)) {
			snprintf(err, err_cap,
				 "address: expected a 16-bit address (decimal or 0x-hex)");
			return -EINVAL;
		}
		json_object_set_new(params, key, json_integer(v));
		return 0;
	}
	if (strcmp(key, "page") == 0) {
		v = 0;
		for (size_t i = 0; i < seg_len && seg_len <= 3; i++) {
			v = isdigit((unsigned char)seg[i]) ? v * 10 + (seg[i] - '0') : 1000;
		}
		if (seg_len == 0 || seg_len > 3 || v > 255) {
			snprintf(err, err_cap, "page: expected a decimal page number 0..255");
			return -EINVAL;
		}
		json_object_set_new(params, key, json_integer(v));
		return 0;
	}
	if (parse_id(seg, seg_len)) {
		snprintf(err, err_cap, "%s: expected 1 to 64 characters [A-Za-z0-9_-]", key);
		return -EINVAL;
	}
	json_object_set_new(params, key, json_stringn(seg, seg_len));
	return 0;
}

/*
 * Compares a path with a template segment by segment.  Returns 1 when it
 * matches (parameters added to params), 0 when it does not, -EINVAL when the
 * literal segments match but a parameter is malformed.
 */
static int match_path(const char *tmpl, const char *path, json_t *params, char *err, size_t err_cap)
{
	const char *t = tmpl, *p = path;
	int bad = 0;

	while (*t && *p) {
		const char *te, *pe;

		if (*t != '/' || *p != '/') {
			return 0;
		}
		t++;
		p++;
		te = strchrnul(t, '/');
		pe = strchrnul(p, '/');
		if (*t == '{') {
			if (!bad && add_param(t + 1, (size_t)(te - t - 2), p, (size_t)(pe - p),
					      params, err, err_cap)) {
				bad = 1;
			}
		} else if (te - t != pe - p || memcmp(t, p, (size_t)(te - t)) != 0) {
			return 0;
		}
		t = te;
		p = pe;
	}
	if (*t || *p) {
		return 0;
	}
	return bad ? -EINVAL : 1;
}

enum api_match api_route_match(const char *method, const char *path, const struct api_route **route,
			       json_t *params, char *allow, size_t allow_cap, char *err,
			       size_t err_cap)
{
	enum api_match res = API_MATCH_NO_PATH;
	size_t i, used = 0;
	char perr[160];

	allow[0] = '\0';
	err[0] = '\0';
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		json_t *found = json_object();
		int m = match_path(routes[i].path, path, found, perr, sizeof(perr));

		if (m <= 0 || strcmp(routes[i].method, method) != 0) {
			json_decref(found);
		}
		if (m == 0) {
			continue;
		}
		if (strcmp(routes[i].method, method) != 0) {
			if (res == API_MATCH_NO_PATH) {
				res = API_MATCH_NO_METHOD;
			}
			if (!strstr(allow, routes[i].method) && used + 10 < allow_cap) {
				used += (size_t)snprintf(allow + used, allow_cap - used, "%s%s",
							 used ? ", " : "", routes[i].method);
			}
			continue;
		}
		if (m < 0) {
			snprintf(err, err_cap, "%s", perr);
			return API_MATCH_BAD_PARAM;
		}
		json_object_update(params, found);
		json_decref(found);
		*route = &routes[i];
		return API_MATCH_OK;
	}
	return res;
}
