/*
 * Scanning (scan.h): the gateway's own beacons and the Remote Provisioning
 * Servers' Scan Reports, merged per device in the scan results.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/scan.h"
#include "gateway/util.h"
#include "mesh/unprov_beacon.h"

#define SCAN_SEEN_MAX 1024

struct gw_scan {
	struct gw_core *core;
	bool scanning;
	uint64_t scan_timer;
	uint64_t scan_started; /* wall-clock ms */
	uint8_t scan_seen[SCAN_SEEN_MAX][16];
	size_t n_scan_seen;
	bool scan_store_warned; /* a failed sighting write was logged this scan */
	bool held;              /* gw_scan_hold(): results kept whatever the REST scan does */
	gw_scan_observer observer;
	void *observer_ctx;
};

struct gw_scan *gw_scan_new(struct gw_core *core)
{
	struct gw_scan *s = calloc(1, sizeof(*s));

	if (s) {
		s->core = core;
	}
	return s;
}

void gw_scan_free(struct gw_scan *s)
{
	/* gw_scan_stop() came first: the core may be gone by now. */
	free(s);
}

void gw_scan_stop(struct gw_scan *s)
{
	s->scanning = false;
	if (s->scan_timer) {
		(void)gw_loop_timer_cancel(s->core->loop, s->scan_timer);
		s->scan_timer = 0;
	}
}

static bool seen_before(struct gw_scan *gw, const uint8_t uuid[16])
{
	size_t i;

	for (i = 0; i < gw->n_scan_seen; i++) {
		if (!memcmp(gw->scan_seen[i], uuid, 16)) {
			return true;
		}
	}
	if (gw->n_scan_seen < SCAN_SEEN_MAX) {
		memcpy(gw->scan_seen[gw->n_scan_seen++], uuid, 16);
	}
	return false;
}

/*
 * Store one sighting.  A failed write (disk full, database locked) would
 * make the device silently missing from the results: say so, once per scan.
 */
static void scan_store(struct gw_scan *gw, const struct store_scan *rec)
{
	int r = store_scan_put(gw->core->st, rec);

	if (!r && gw->observer) {
		gw->observer(gw->observer_ctx, rec->uuid, rec->via, rec->rssi);
	}
	if (r && !gw->scan_store_warned) {
		gw->scan_store_warned = true;
		log_warnx("scan: a sighting could not be stored: %s%s%s", store_strerror(r),
			  r == -EIO ? ": " : "", r == -EIO ? store_errmsg(gw->core->st) : "");
	}
}

static void on_beacon(void *ctx, const uint8_t *data, size_t len, int8_t rssi)
{
	struct gw_scan *gw = ctx;
	struct unprov_beacon b;
	struct store_scan rec = {0};
	char uuid[33];

	if ((!gw->scanning && !gw->held) || unprov_beacon_decode(data, len, &b) != 0) {
		return;
	}
	memcpy(rec.uuid, b.uuid, 16);
	rec.oob = b.oob_info;
	rec.has_uri_hash = b.has_uri_hash;
	memcpy(rec.uri_hash, b.uri_hash, 4);
	rec.rssi = rssi;
	rec.last_ms = gw_wall_ms();
	scan_store(gw, &rec);
	if (!seen_before(gw, b.uuid)) {
		gw_core_publish(gw->core, "scan.result",
				json_pack("{s:s, s:i, s:i}", "uuid", gw_hex(b.uuid, 16, uuid),
					  "oob_info", b.oob_info, "rssi", rssi));
	}
}

static void scan_end(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct gw_scan *gw = ctx;

	(void)loop;
	(void)id;
	gw->scan_timer = 0;
	gw->scanning = false;
	gw_core_publish(gw->core, "scan.stopped", json_pack("{s:s}", "state", "stopped"));
}

bool gw_scan_is_rpr_server(struct gw_core *core, uint16_t addr)
{
	struct store_model *models = NULL;
	size_t nm = 0, j;
	bool yes = false;

	if (store_comp_models(core->st, addr, &models, &nm)) {
		return false;
	}
	for (j = 0; j < nm && !yes; j++) {
		yes = !models[j].vendor && models[j].id == 0x0004 && models[j].elem_idx == 0;
	}
	free(models);
	return yes;
}

/* Nodes whose page 0 lists the Remote Provisioning Server model (0x0004). */
size_t gw_scan_rpr_servers(struct gw_scan *gw, uint16_t *out, size_t max)
{
	struct store_node_filter f = {0};
	struct store_node *nodes = NULL;
	size_t n = 0, i, k = 0;

	if (store_node_list(gw->core->st, &f, &nodes, &n)) {
		return 0;
	}
	for (i = 0; i < n && k < max; i++) {
		if (gw_scan_is_rpr_server(gw->core, nodes[i].unicast)) {
			out[k++] = nodes[i].unicast;
		}
	}
	store_nodes_free(nodes);
	return k;
}

static void on_rscan_status(void *ctx, int err, uint16_t src, const struct rpr_msg *rsp)
{
	struct gw_scan *gw = ctx;

	if (err) {
		log_info("remote scan through 0x%04x: %s", src, strerror(-err));
	} else if (rsp->scan_status.status != 0) {
		log_info("remote scan through 0x%04x refused: %s", src,
			 rpr_status_str(rsp->scan_status.status));
	}
	(void)gw;
}

int gw_scan_remote_start(struct gw_scan *gw, uint16_t server, uint8_t timeout_s)
{
	struct rpr_msg m = {.op = RPR_OP_SCAN_START};

	/* Limit 0: as many devices as the server can hold (Mesh Protocol v1.1, Remote Provisioning
	 * Scan Start). */
	m.scan_start.limit = 0;
	m.scan_start.timeout = timeout_s ? timeout_s : 1;
	return rpr_cli_request(gw->core->rpr, gw->core->primary_net, server, NULL, &m,
			       GW_CFG_TIMEOUT_MS, GW_CFG_RETRY_MS, on_rscan_status, gw,
			       gw_loop_now(gw->core->loop));
}

void gw_scan_hold(struct gw_scan *gw, bool on)
{
	gw->held = on;
}

void gw_scan_observe(struct gw_scan *gw, gw_scan_observer fn, void *ctx)
{
	gw->observer = fn;
	gw->observer_ctx = ctx;
}

void gw_scan_cmd_start(struct gw_scan *gw, struct gw_cmd *c)
{
	json_int_t dur = json_integer_value(json_object_get(c->args, "duration_s"));
	json_t *list = json_object_get(c->args, "servers"), *v, *srv = json_array();
	uint16_t servers[32];
	size_t n = 0, i;
	int r;

	if (dur <= 0) {
		dur = 30;
	}
	/* No radio, no scan: a scan accepted now would run its course and find nothing, which
	 * reads as "no devices around" rather than "no controller". */
	if (!gw_core_radio_gate(gw->core, c)) {
		json_decref(srv);
		return;
	}
	/* A new scan starts from an empty list; if that fails, nothing changes. */
	r = store_scan_clear(gw->core->st);
	if (r) {
		json_decref(srv);
		gw_cmd_complete(gw->core->q, c, r, NULL, store_strerror(r));
		return;
	}
	if (json_is_array(list)) {
		json_array_foreach(list, i, v)
		{
			if (n < 32) {
				servers[n++] = (uint16_t)json_integer_value(v);
			}
		}
	} else if (json_is_true(json_object_get(c->args, "remote"))) {
		n = gw_scan_rpr_servers(gw, servers, 32);
	}
	if (gw->scan_timer) {
		(void)gw_loop_timer_cancel(gw->core->loop, gw->scan_timer);
	}
	gw->n_scan_seen = 0;
	gw->scan_store_warned = false;
	gw->scanning = true;
	gw->scan_started = gw_wall_ms();
	gw->scan_timer = gw_loop_timer_at(
	    gw->core->loop, gw_loop_now(gw->core->loop) + (uint64_t)dur * 1000, scan_end, gw);
	for (i = 0; i < n; i++) {
		if (gw_scan_remote_start(gw, servers[i], (uint8_t)(dur > 255 ? 255 : dur)) == 0) {
			json_array_append_new(srv, json_integer(servers[i]));
		}
	}
	gw_cmd_complete(gw->core->q, c, 0,
			json_pack("{s:i, s:s, s:s, s:o, s:I, s:o}", "_http_status", 202, "id",
				  "current", "state", "running", "started_at",
				  gw_time_json(gw->scan_started), "duration_s", dur, "servers",
				  srv),
			NULL);
	gw_core_rearm(gw->core);
}

static void rscan_report(void *ctx, uint16_t src, const struct rpr_scan_report *r)
{
	struct gw_scan *gw = ctx;
	struct store_scan rec = {0};
	char uuid[33];

	if (!gw->scanning && !gw->held) {
		return;
	}
	memcpy(rec.uuid, r->uuid, 16);
	rec.oob = r->oob;
	rec.has_uri_hash = r->has_uri_hash;
	memcpy(rec.uri_hash, r->uri_hash, 4);
	rec.rssi = r->rssi;
	rec.last_ms = gw_wall_ms();
	rec.via = src;
	scan_store(gw, &rec);
	if (!seen_before(gw, r->uuid)) {
		gw_core_publish(gw->core, "scan.result",
				json_pack("{s:s, s:i, s:i, s:i}", "uuid", gw_hex(r->uuid, 16, uuid),
					  "oob_info", r->oob, "rssi", r->rssi, "via", src));
	}
}

void gw_scan_cmd_stop(struct gw_scan *gw, struct gw_cmd *c)
{
	if (gw->scan_timer) {
		(void)gw_loop_timer_cancel(gw->core->loop, gw->scan_timer);
		gw->scan_timer = 0;
	}
	gw->scanning = false;
	gw_cmd_complete(gw->core->q, c, 0, json_pack("{s:s}", "state", "stopped"), NULL);
}

void gw_scan_cmd_results(struct gw_scan *gw, struct gw_cmd *c)
{
	struct store_scan *recs = NULL;
	size_t n = 0, i;
	json_t *items = json_array(), *by_uuid = json_object();
	int r = store_scan_list(gw->core->st, 0, &recs, &n);

	if (r) {
		json_decref(items);
		json_decref(by_uuid);
		gw_cmd_complete(gw->core->q, c, r, NULL, store_strerror(r));
		return;
	}
	/* One item per device: every sighting (the gateway's own, each server's) merged. */
	for (i = 0; i < n; i++) {
		char uuid[33], hash[9];
		json_t *it = json_object_get(by_uuid, gw_hex(recs[i].uuid, 16, uuid));
		json_t *seen = json_pack("{s:i, s:i, s:o}", "via", recs[i].via, "rssi",
					 recs[i].rssi, "last_seen", gw_time_json(recs[i].last_ms));

		if (!it) {
			it = json_pack(
			    "{s:s, s:i, s:o, s:i, s:o, s:o, s:[]}", "uuid", uuid, "oob_info",
			    recs[i].oob, "uri_hash",
			    recs[i].has_uri_hash ? json_string(gw_hex(recs[i].uri_hash, 4, hash))
						 : json_null(),
			    "rssi", recs[i].rssi, "first_seen", gw_time_json(recs[i].first_ms),
			    "last_seen", gw_time_json(recs[i].last_ms), "seen_by");
			json_object_set_new(by_uuid, uuid, it);
			json_array_append(items, it);
		} else if (recs[i].rssi > json_integer_value(json_object_get(it, "rssi"))) {
			json_object_set_new(it, "rssi", json_integer(recs[i].rssi));
		}
		json_array_append_new(json_object_get(it, "seen_by"), seen);
	}
	free(recs);
	json_decref(by_uuid);
	gw_cmd_complete(gw->core->q, c, 0,
			json_pack("{s:b, s:o}", "scanning", gw->scanning, "items", items), NULL);
}

/* Where to provision a device from: the gateway if it heard it, else the best server. */
uint16_t gw_scan_best_via(struct gw_scan *gw, const uint8_t uuid[16])
{
	struct store_scan *recs = NULL;
	size_t n = 0, i;
	uint16_t via = 0;
	int best = -129;

	if (store_scan_list(gw->core->st, 0, &recs, &n)) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (memcmp(recs[i].uuid, uuid, 16) != 0) {
			continue;
		}
		if (recs[i].via == 0) {
			via = 0;
			break;
		}
		if (recs[i].rssi > best) {
			best = recs[i].rssi;
			via = recs[i].via;
		}
	}
	free(recs);
	return via;
}

uint16_t gw_scan_oob_info(struct gw_scan *gw, const uint8_t uuid[16])
{
	struct store_scan *recs = NULL;
	size_t n = 0, i;
	uint16_t oob = 0;

	if (store_scan_list(gw->core->st, 0, &recs, &n)) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (!memcmp(recs[i].uuid, uuid, 16)) {
			oob |= recs[i].oob;
		}
	}
	free(recs);
	return oob;
}

void gw_scan_stack_ops(struct gw_scan *s, struct gw_core_stack_ops *ops)
{
	ops->beacon = on_beacon;
	ops->beacon_ctx = s;
	ops->rpr.ctx = s;
	ops->rpr.scan_report = rscan_report;
}
