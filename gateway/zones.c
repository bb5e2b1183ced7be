/*
 * Zones (zones.h): the move of a node into a zone as a short sequence of
 * Config requests, planned from the inventory, sent one at a time; and the
 * /api/v1/zones commands.
 */
#include "gateway/zones.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/nodes.h"
#include "gateway/util.h"
#include "storage/store_zone.h"

#define MODEL_ONOFF_SRV 0x1000
#define MODEL_ONOFF_CLI 0x1001
#define ZONE_APP_IDX 0 /* the AppKey a model bound to none is bound to */
/*
 * The TTL of a switch's publications (§4.2.3.4), set rather than left to
 * the node's Default TTL: the commission job cuts each node's Default TTL
 * to its distance from the gateway (commission.c), which says nothing of
 * the distance from a switch to its zone's lights (a switch next to the
 * gateway, with Default TTL 2, may have lights four relays away).  7 is
 * what the Default TTL was on the nodes these zones were proven on
 * (meshsim's, and Zephyr's, default), enough for a room or floor crossed
 * by six relays; a press is rare, so a few hops too many cost little.
 */
#define ZONE_PUB_TTL 7

/* One move under way. */
struct apply {
	struct gw_zones *z;
	struct apply *next;
	uint16_t node;
	uint64_t zone;
	struct cfg_msg *steps;
	size_t n, cap, pos;
	uint64_t timer; /* the first request goes from the loop (done never runs in apply) */
	void (*done)(void *arg, int err, const char *why);
	void *arg;
	bool resumed;      /* started by gw_zones_resume(): a caller asking for it adopts it */
	char refusal[240]; /* why planning refused the move (-EXDEV) */
};

/* Resumed moves that found their node silent are tried again after this, doubling. */
#define RESUME_RETRY_FIRST_MS 30000
#define RESUME_RETRY_MAX_MS 600000

struct gw_zones {
	struct gw_core *core;
	/* The core's loop, kept: gw_core_close() wipes the core before gw_zones_free() runs. */
	struct gw_loop *loop;
	struct apply *active;
	uint64_t retry_timer;
	uint64_t retry_ms;
};

struct gw_zones *gw_zones_new(struct gw_core *core)
{
	struct gw_zones *z = calloc(1, sizeof(*z));

	if (z) {
		z->core = core;
		z->loop = core->loop;
		z->retry_ms = RESUME_RETRY_FIRST_MS;
	}
	return z;
}

static void apply_free(struct apply *a)
{
	free(a->steps);
	free(a);
}

void gw_zones_free(struct gw_zones *z)
{
	if (!z) {
		return;
	}
	/* The core (closed first) cancelled every request: only deferred ends remain. */
	while (z->active) {
		struct apply *a = z->active;

		z->active = a->next;
		gw_loop_timer_cancel(z->loop, a->timer);
		apply_free(a);
	}
	gw_loop_timer_cancel(z->loop, z->retry_timer);
	free(z);
}

int gw_zones_ensure(struct gw_zones *z, const char *name, uint64_t *id)
{
	struct store_zone zone;
	int r = store_zone_find(z->core->st, name, &zone);

	if (r == -ENOENT) {
		r = store_zone_create(z->core->st, name, z->core->conf.grp_low,
				      z->core->conf.grp_high, &zone);
		if (r == 0) {
			log_info("zone %llu '%s' created with group 0x%04x",
				 (unsigned long long)zone.id, zone.name, zone.group);
		}
	}
	if (r == 0) {
		*id = zone.id;
	}
	return r;
}

/* --- Planning ---------------------------------------------------------------------------- */

static const char *step_name(uint32_t op)
{
	switch (op) {
	case CFG_OP_MODEL_APP_BIND:
		return "Model App Bind";
	case CFG_OP_MODEL_SUB_ADD:
		return "Model Subscription Add";
	case CFG_OP_MODEL_SUB_DELETE:
		return "Model Subscription Delete";
	default:
		return "Model Publication Set";
	}
}

static struct cfg_msg *step_add(struct apply *a, uint32_t op)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct cfg_msg *s = realloc(a->steps, cap * sizeof(*s));

		if (!s) {
			return NULL;
		}
		a->steps = s;
		a->cap = cap;
	}
	memset(&a->steps[a->n], 0, sizeof(a->steps[0]));
	a->steps[a->n].op = op;
	return &a->steps[a->n++];
}

/* The lowest AppKey the model is bound to, or -1. */
static int bound_key(const struct store_binding *b, size_t n, uint16_t ea, uint32_t id)
{
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		if (b[i].elem_addr == ea && !b[i].vendor && b[i].id == id &&
		    (best < 0 || b[i].app_idx < best)) {
			best = b[i].app_idx;
		}
	}
	return best;
}

/* Is SIG model id of element ea bound to AppKey k? */
static bool keys_bound(const struct store_binding *b, size_t n, uint16_t ea, uint16_t id,
		       uint16_t k)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i].elem_addr == ea && !b[i].vendor && b[i].id == id && b[i].app_idx == k) {
			return true;
		}
	}
	return false;
}

static bool in_list(const uint16_t *v, size_t n, uint16_t x)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == x) {
			return true;
		}
	}
	return false;
}

static struct cfg_msg *bind_step(struct apply *a, uint16_t ea, uint16_t id, uint16_t app_idx)
{
	struct cfg_msg *m = step_add(a, CFG_OP_MODEL_APP_BIND);

	if (m) {
		m->model_app.elem_addr = ea;
		m->model_app.app_idx = app_idx;
		m->model_app.model.id = id;
	}
	return m;
}

/* Model App Bind of AppKey 0 when the model is bound to none; the AppKey it publishes with. */
static int plan_bind(struct apply *a, const struct store_binding *b, size_t nb, uint16_t ea,
		     uint16_t id, uint16_t *app_idx)
{
	int k = bound_key(b, nb, ea, id);

	if (k >= 0) {
		*app_idx = (uint16_t)k;
		return 0;
	}
	*app_idx = ZONE_APP_IDX;
	return bind_step(a, ea, id, ZONE_APP_IDX) ? 0 : -ENOMEM;
}

/* --- The AppKeys of a zone ----------------------------------------------------------------- */

/*
 * A switch's OnOff Client and the lights' OnOff Servers must share the AppKey the switch
 * publishes with, else the lights drop its messages (§3.7.4.4: the access layer decrypts with
 * the keys the model is bound to).  Each element is bound only to what the node's AppKey
 * List holds, so a move reconciles where the moving node has the key (Model App Bind of it)
 * and is refused (-EXDEV, 409) naming the key and the node that needs it where it has not:
 * sending it an AppKey is the integrator's decision, not a side effect of a zone move.
 */
#define ZK_MAX 32

struct zone_keys {
	/* the AppKeys the zone's switches publish with, and one switch element per key */
	uint16_t pub[ZK_MAX], pub_by[ZK_MAX];
	size_t n_pub;
	/* the AppKeys bound on every light's OnOff Server, when the zone has lights */
	uint16_t common[ZK_MAX];
	size_t n_common;
	bool lights;
	char name[STORE_NAME_MAX];
};

/* The AppKeys bound to SIG model id of element ea (at most ZK_MAX), each once. */
static size_t keys_of(const struct store_binding *b, size_t nb, uint16_t ea, uint16_t id,
		      uint16_t out[ZK_MAX])
{
	size_t n = 0;

	for (size_t i = 0; i < nb && n < ZK_MAX; i++) {
		if (b[i].elem_addr == ea && !b[i].vendor && b[i].id == id &&
		    !in_list(out, n, b[i].app_idx)) {
			out[n++] = b[i].app_idx;
		}
	}
	return n;
}

/* A light of the zone: the common keys are those it is bound to too. */
static void narrow(struct zone_keys *zk, const uint16_t *keys, size_t nk)
{
	size_t kept = 0;

	if (!zk->lights) {
		memcpy(zk->common, keys, nk * sizeof(keys[0]));
		zk->n_common = nk;
		zk->lights = true;
		return;
	}
	for (size_t k = 0; k < zk->n_common; k++) {
		if (in_list(keys, nk, zk->common[k])) {
			zk->common[kept++] = zk->common[k];
		}
	}
	zk->n_common = kept;
}

/* A member's elements into zk: its lights narrow the common keys, its switches add theirs. */
static int member_keys(struct store *st, uint16_t node, uint16_t group, struct zone_keys *zk)
{
	struct store_model *models = NULL;
	struct store_binding *b = NULL;
	size_t nm = 0, nb = 0;
	int r = store_comp_models(st, node, &models, &nm);

	r = r ? r : store_node_bindings(st, node, &b, &nb);
	for (size_t i = 0; i < nm && !r; i++) {
		uint16_t ea = (uint16_t)(node + models[i].elem_idx), keys[ZK_MAX];
		size_t nk;

		if (models[i].vendor) {
			continue;
		}
		if (models[i].id == MODEL_ONOFF_SRV) {
			nk = keys_of(b, nb, ea, MODEL_ONOFF_SRV, keys);
			if (!nk) {
				continue; /* not configured yet: it takes what its move binds */
			}
			narrow(zk, keys, nk);
		} else if (models[i].id == MODEL_ONOFF_CLI) {
			struct store_pub pub;
			int k = -1;

			/* What it publishes to the zone with; else what the move will choose. */
			if (store_pub_get(st, ea, false, MODEL_ONOFF_CLI, &pub) == 0 &&
			    pub.addr == group) {
				k = pub.app_idx;
			} else {
				k = bound_key(b, nb, ea, MODEL_ONOFF_CLI);
			}
			if (k >= 0 && zk->n_pub < ZK_MAX &&
			    !in_list(zk->pub, zk->n_pub, (uint16_t)k)) {
				zk->pub_by[zk->n_pub] = ea;
				zk->pub[zk->n_pub++] = (uint16_t)k;
			}
		}
	}
	free(models);
	free(b);
	return r == -ENOENT ? 0 : r;
}

/* The keys of zone's members other than the moving node. */
static int zone_keys_of(struct store *st, const struct store_zone *zone, uint16_t moving,
			struct zone_keys *zk)
{
	uint16_t *nodes = NULL;
	size_t n = 0;
	int r = store_zone_nodes(st, zone->id, &nodes, &n);

	memset(zk, 0, sizeof(*zk));
	snprintf(zk->name, sizeof(zk->name), "%s", zone->name);
	for (size_t i = 0; i < n && !r; i++) {
		if (nodes[i] != moving) {
			r = member_keys(st, nodes[i], zone->group, zk);
		}
	}
	free(nodes);
	return r;
}

/* A light's OnOff Server is bound to every AppKey the zone's switches publish with. */
static int plan_light_keys(struct apply *a, const struct store_binding *b, size_t nb, uint16_t ea,
			   const uint16_t *node_keys, size_t n_keys, const struct zone_keys *zk)
{
	for (size_t i = 0; i < zk->n_pub; i++) {
		uint16_t k = zk->pub[i];

		if (keys_bound(b, nb, ea, MODEL_ONOFF_SRV, k)) {
			continue;
		}
		if (!in_list(node_keys, n_keys, k)) {
			snprintf(
			    a->refusal, sizeof(a->refusal),
			    "node 0x%04x: its light (element 0x%04x) has no AppKey index %u, "
			    "which switch element 0x%04x of zone '%s' publishes with: add that "
			    "AppKey to the node first",
			    a->node, ea, k, zk->pub_by[i], zk->name);
			return -EXDEV;
		}
		if (!bind_step(a, ea, MODEL_ONOFF_SRV, k)) {
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * A switch's OnOff Client publishes with an AppKey every light of the zone is bound to: one
 * it is bound to already, else one of the node's AppKeys, bound first.  *app_idx is the key.
 */
static int plan_switch_key(struct apply *a, const struct store_binding *b, size_t nb, uint16_t ea,
			   const uint16_t *node_keys, size_t n_keys, const struct zone_keys *zk,
			   uint16_t *app_idx)
{
	int pick = -1;

	for (size_t i = 0; i < zk->n_common; i++) {
		uint16_t k = zk->common[i];

		if (keys_bound(b, nb, ea, MODEL_ONOFF_CLI, k) && (pick < 0 || k < pick)) {
			pick = k;
		}
	}
	if (pick >= 0) {
		*app_idx = (uint16_t)pick;
		return 0;
	}
	for (size_t i = 0; i < zk->n_common; i++) {
		uint16_t k = zk->common[i];

		if (in_list(node_keys, n_keys, k) && (pick < 0 || k < pick)) {
			pick = k;
		}
	}
	if (pick < 0) {
		if (zk->n_common == 0) {
			snprintf(a->refusal, sizeof(a->refusal),
				 "zone '%s': its lights are bound to no common AppKey, so no "
				 "switch can reach them all; bind one AppKey on every light first",
				 zk->name);
		} else {
			snprintf(
			    a->refusal, sizeof(a->refusal),
			    "node 0x%04x: its switch (element 0x%04x) has none of the AppKeys "
			    "the lights of zone '%s' are bound to (AppKey index %u): add one to "
			    "the node first",
			    a->node, ea, zk->name, zk->common[0]);
		}
		return -EXDEV;
	}
	*app_idx = (uint16_t)pick;
	return bind_step(a, ea, MODEL_ONOFF_CLI, (uint16_t)pick) ? 0 : -ENOMEM;
}

/*
 * An OnOff Server: delete the subscriptions to other zones' groups: those the inventory knows,
 * and stale[] (the last confirmed zone's group, and that of a move that was cut short, which
 * the node may have taken without its status reaching us); then subscribe.
 */
static int plan_light(struct apply *a, uint16_t ea, uint16_t group, const uint16_t stale[2],
		      const uint16_t *zone_groups, size_t n_zg)
{
	uint16_t *subs = NULL, del[2 + 64];
	size_t n = 0, n_del = 0;
	struct cfg_msg *m;
	int r = store_sub_list(a->z->core->st, ea, false, MODEL_ONOFF_SRV, &subs, &n);

	if (r && r != -ENOENT) {
		return r;
	}
	for (size_t i = 0; i < n && n_del < sizeof(del) / sizeof(del[0]) - 2; i++) {
		if (subs[i] != group && in_list(zone_groups, n_zg, subs[i])) {
			del[n_del++] = subs[i];
		}
	}
	free(subs);
	for (size_t i = 0; i < 2; i++) {
		if (stale[i] && stale[i] != group && !in_list(del, n_del, stale[i])) {
			del[n_del++] = stale[i];
		}
	}
	for (size_t i = 0; i < n_del; i++) {
		m = step_add(a, CFG_OP_MODEL_SUB_DELETE);
		if (!m) {
			return -ENOMEM;
		}
		m->model_sub.elem_addr = ea;
		m->model_sub.addr = del[i];
		m->model_sub.model.id = MODEL_ONOFF_SRV;
	}
	if (group) {
		/* Sent even when the inventory has it: the node's answer is the confirmation. */
		m = step_add(a, CFG_OP_MODEL_SUB_ADD);
		if (!m) {
			return -ENOMEM;
		}
		m->model_sub.elem_addr = ea;
		m->model_sub.addr = group;
		m->model_sub.model.id = MODEL_ONOFF_SRV;
	}
	return 0;
}

/* An OnOff Client publishes to the group, or (group 0) not at all (§4.2.3). */
static int plan_switch(struct apply *a, uint16_t ea, uint16_t group, uint16_t app_idx)
{
	struct cfg_msg *m = step_add(a, CFG_OP_MODEL_PUB_SET);

	if (!m) {
		return -ENOMEM;
	}
	m->model_pub.elem_addr = ea;
	m->model_pub.pub_addr = group;
	m->model_pub.app_idx = app_idx;
	m->model_pub.ttl = ZONE_PUB_TTL;
	m->model_pub.model.id = MODEL_ONOFF_CLI;
	return 0;
}

/* Every zone's group (to tell zone subscriptions from others the node may have). */
static int zone_groups(struct store *st, uint16_t **out, size_t *n)
{
	struct store_zone *zs = NULL;
	size_t nz = 0;
	int r = store_zone_list(st, &zs, &nz);

	*out = NULL;
	*n = 0;
	if (r || nz == 0) {
		free(zs);
		return r;
	}
	*out = calloc(nz, sizeof(**out));
	if (!*out) {
		free(zs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nz; i++) {
		(*out)[i] = zs[i].group;
	}
	*n = nz;
	free(zs);
	return 0;
}

static int plan(struct apply *a, const struct store_zone *target, const uint16_t stale[2])
{
	struct store *st = a->z->core->st;
	struct store_model *models = NULL;
	struct store_binding *b = NULL;
	struct zone_keys zk;
	uint16_t *zg = NULL, *keys = NULL, group = target->group;
	size_t nm = 0, nb = 0, nzg = 0, nk = 0;
	int r = store_comp_models(st, a->node, &models, &nm);

	if (r == 0 && nm == 0) {
		r = -ENOENT; /* composition page 0 not read yet: nothing to plan from */
	}
	r = r ? r : store_node_bindings(st, a->node, &b, &nb);
	r = r ? r : zone_groups(st, &zg, &nzg);
	if (!r && target->id) {
		r = zone_keys_of(st, target, a->node, &zk);
		if (!r) {
			r = store_node_appkey_list(st, a->node, &keys, &nk);
			r = r == -ENOENT ? 0 : r;
		}
	}
	for (size_t i = 0; i < nm && !r; i++) {
		uint16_t ea = (uint16_t)(a->node + models[i].elem_idx), app = 0;

		if (models[i].vendor) {
			continue;
		}
		if (models[i].id == MODEL_ONOFF_SRV) {
			/* Keys the zone's switches need first; AppKey 0 when none did and none is
			 * bound. */
			r = target->id ? plan_light_keys(a, b, nb, ea, keys, nk, &zk) : 0;
			if (!r && (!target->id || zk.n_pub == 0)) {
				r = plan_bind(a, b, nb, ea, MODEL_ONOFF_SRV, &app);
			}
			r = r ? r : plan_light(a, ea, group, stale, zg, nzg);
		} else if (models[i].id == MODEL_ONOFF_CLI) {
			if (target->id && zk.lights) {
				r = plan_switch_key(a, b, nb, ea, keys, nk, &zk, &app);
			} else {
				r = plan_bind(a, b, nb, ea, MODEL_ONOFF_CLI, &app);
			}
			r = r ? r : plan_switch(a, ea, group, app);
		}
	}
	free(models);
	free(b);
	free(zg);
	free(keys);
	return r;
}

/* --- What a zone shows ----------------------------------------------------------------- */

/* Does the node's composition list the SIG model id? */
static bool has_model(struct store *st, uint16_t node, uint16_t id)
{
	struct store_model *models = NULL;
	size_t n = 0;
	bool found = false;

	if (store_comp_models(st, node, &models, &n) == 0) {
		for (size_t i = 0; i < n && !found; i++) {
			found = !models[i].vendor && models[i].id == id;
		}
	}
	free(models);
	return found;
}

/* {id, name, group, nodes, lights, switches, pending, created_at, updated_at} */
static json_t *zone_json(struct store *st, const struct store_zone *zone)
{
	json_t *o =
	    json_pack("{s:I, s:s, s:i, s:[], s:[], s:[], s:[], s:o, s:o}", "id",
		      (json_int_t)zone->id, "name", zone->name, "group", zone->group, "nodes",
		      "lights", "switches", "pending", "created_at", gw_time_json(zone->created_ms),
		      "updated_at", gw_time_json(zone->updated_ms));
	struct store_zone_member m;
	uint16_t *nodes = NULL;
	size_t n = 0;

	if (!o || store_zone_nodes(st, zone->id, &nodes, &n)) {
		free(nodes);
		json_decref(o);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_integer(nodes[i]);

		json_array_append(json_object_get(o, "nodes"), a);
		if (has_model(st, nodes[i], MODEL_ONOFF_SRV)) {
			json_array_append(json_object_get(o, "lights"), a);
		}
		if (has_model(st, nodes[i], MODEL_ONOFF_CLI)) {
			json_array_append(json_object_get(o, "switches"), a);
		}
		if (store_zone_member_get(st, nodes[i], &m) == 0 && m.pending) {
			json_array_append(json_object_get(o, "pending"), a);
		}
		json_decref(a);
	}
	free(nodes);
	return o;
}

/* An event with the zone as GET /api/v1/zones/{id} shows it. */
static void publish_zone(struct gw_core *core, const char *type, uint64_t id)
{
	struct store_zone zone;
	json_t *o;

	if (id && store_zone_get(core->st, id, &zone) == 0 && (o = zone_json(core->st, &zone))) {
		gw_core_publish(core, type, o);
	}
}

/* --- Running ----------------------------------------------------------------------------- */

static void on_retry(struct gw_loop *loop, uint64_t id, void *ctx);

/*
 * A node that did not answer (powered off, out of reach) keeps its move pending: every
 * pending move is tried again later (gw_zones_resume()), all on one timer that backs off.
 * A refusal is not retried: it stays pending for the next request to explain.
 */
static void retry_later(struct gw_zones *z)
{
	struct gw_core *core = z->core;

	if (core->stopping || z->retry_timer) {
		return;
	}
	z->retry_timer =
	    gw_loop_timer_at(core->loop, gw_loop_now(core->loop) + z->retry_ms, on_retry, z);
	if (z->retry_timer) {
		log_info("pending zone moves: next attempt in %llu s",
			 (unsigned long long)(z->retry_ms / 1000));
		z->retry_ms =
		    z->retry_ms * 2 > RESUME_RETRY_MAX_MS ? RESUME_RETRY_MAX_MS : z->retry_ms * 2;
	}
}

static void apply_end(struct apply *a, int err, const char *why)
{
	struct apply **p = &a->z->active;

	while (*p && *p != a) {
		p = &(*p)->next;
	}
	if (*p) {
		*p = a->next;
	}
	if (err) {
		log_warnx("%s", why);
	} else {
		if (a->zone) {
			log_info("node 0x%04x is in zone %llu", a->node,
				 (unsigned long long)a->zone);
		} else {
			log_info("node 0x%04x is in no zone", a->node);
		}
	}
	if (err == -ETIMEDOUT) {
		retry_later(a->z);
	}
	a->done(a->arg, err, why);
	apply_free(a);
}

static void apply_finish(struct apply *a)
{
	char why[160];
	int r = store_zone_move_done(a->z->core->st, a->node, a->zone);

	if (r == -ESTALE) {
		snprintf(why, sizeof(why), "node 0x%04x: another zone move began meanwhile",
			 a->node);
	} else if (r) {
		snprintf(why, sizeof(why), "node 0x%04x: recording the zone: %s", a->node,
			 strerror(-r));
	}
	if (r == 0) {
		struct store_node n;

		if (store_node_get(a->z->core->st, a->node, &n) == 0) {
			json_t *o = gw_node_json(&n);

			json_object_set_new(o, "zone", gw_node_zone_json(a->z->core->st, a->node));
			gw_core_publish(a->z->core, "node.updated", o);
		}
		publish_zone(a->z->core, "zone.updated", a->zone);
	}
	apply_end(a, r, r ? why : NULL);
}

static uint8_t step_status(const struct cfg_msg *rsp)
{
	switch (rsp->op) {
	case CFG_OP_MODEL_APP_STATUS:
		return rsp->model_app.status;
	case CFG_OP_MODEL_SUB_STATUS:
		return rsp->model_sub.status;
	default:
		return rsp->model_pub.status;
	}
}

static uint16_t step_elem(const struct cfg_msg *m)
{
	switch (m->op) {
	case CFG_OP_MODEL_APP_BIND:
		return m->model_app.elem_addr;
	case CFG_OP_MODEL_SUB_ADD:
	case CFG_OP_MODEL_SUB_DELETE:
		return m->model_sub.elem_addr;
	default:
		return m->model_pub.elem_addr;
	}
}

static void send_next(struct apply *a);

static void on_status(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	struct apply *a = ctx;
	struct gw_core *core = a->z->core;
	const struct cfg_msg *req = &a->steps[a->pos];
	char why[256], sent[200];

	(void)src;
	if (err) {
		snprintf(why, sizeof(why), "node 0x%04x: %s on element 0x%04x: %s", a->node,
			 step_name(req->op), step_elem(req),
			 gw_core_send_error(core, err, sent, sizeof(sent)));
		apply_end(a, err, why);
		return;
	}
	if (step_status(rsp) != CFG_STATUS_SUCCESS) {
		snprintf(why, sizeof(why), "node 0x%04x refused %s on element 0x%04x: status %s",
			 a->node, step_name(req->op), step_elem(req),
			 cfg_status_str(step_status(rsp)));
		apply_end(a, -EPROTO, why);
		return;
	}
	gw_nodes_record(core, a->node, req, rsp);
	a->pos++;
	send_next(a);
}

static void send_next(struct apply *a)
{
	struct gw_core *core = a->z->core;
	char why[256], sent[200];
	int r;

	if (a->pos == a->n) {
		apply_finish(a);
		return;
	}
	r = cfg_cli_request(core->cfg, core->primary_net, a->node, NULL, &a->steps[a->pos],
			    GW_CFG_TIMEOUT_MS, GW_CFG_RETRY_MS, on_status, a, gw_core_now(core));
	if (r) {
		snprintf(why, sizeof(why), "node 0x%04x: %s: %s", a->node,
			 step_name(a->steps[a->pos].op),
			 gw_core_send_error(core, r, sent, sizeof(sent)));
		apply_end(a, r, why);
		return;
	}
	gw_core_rearm(core);
}

static void on_deferred(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct apply *a = ctx;

	(void)loop;
	(void)id;
	a->timer = 0;
	if (a->z->core->stopping) {
		char why[80];

		snprintf(why, sizeof(why), "node 0x%04x: the gateway is stopping", a->node);
		apply_end(a, -ECANCELED, why);
		return;
	}
	send_next(a);
}

/* gw_zones_apply_why(), and whether gw_zones_resume() starts it. */
static int start(struct gw_zones *z, uint16_t node, uint64_t zone,
		 void (*done)(void *arg, int err, const char *why), void *arg, bool resumed,
		 char *why, size_t cap)
{
	struct store *st = z->core->st;
	struct store_zone target = {0}, cut = {0};
	struct store_zone_member m = {0};
	struct store_node n;
	struct apply *a;
	int r;

	for (a = z->active; a; a = a->next) {
		if (a->node != node) {
			continue;
		}
		/* The same move the gateway resumed by itself: the caller takes over its end. */
		if (a->resumed && !resumed && a->zone == zone) {
			a->resumed = false;
			a->done = done;
			a->arg = arg;
			return 0;
		}
		return -EBUSY;
	}
	r = store_node_get(st, node, &n);
	if (r == 0 && n.excluded) {
		r = -ENOENT;
	}
	r = r ? r : zone ? store_zone_get(st, zone, &target) : 0;
	if (r) {
		return r;
	}
	r = store_zone_member_get(st, node, &m);
	if (r && r != -ENOENT) {
		return r;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		return -ENOMEM;
	}
	a->z = z;
	a->node = node;
	a->zone = zone;
	a->done = done;
	a->arg = arg;
	a->resumed = resumed;
	/* A move to another zone that did not finish: its group may be on the node too. */
	if (m.pending && m.zone && m.zone != zone) {
		(void)store_zone_get(st, m.zone, &cut);
	}
	r = plan(a, &target, (const uint16_t[2]){m.prev_group, cut.group});
	if (r == -EXDEV && why) {
		snprintf(why, cap, "%s", a->refusal);
	}
	/* Written ahead: from here on the inventory says where the node is going. */
	r = r ? r : store_zone_move_begin(st, node, zone);
	if (r) {
		apply_free(a);
		return r;
	}
	/* The first request goes from the loop, so done never runs inside this call. */
	a->timer = gw_loop_timer_at(z->core->loop, gw_loop_now(z->core->loop), on_deferred, a);
	if (!a->timer) {
		apply_free(a);
		return -ENOMEM;
	}
	a->next = z->active;
	z->active = a;
	log_info("node 0x%04x: %s to zone %llu (0: none), %zu Config message(s)", node,
		 resumed ? "resuming the move" : "moving", (unsigned long long)zone, a->n);
	return 0;
}

int gw_zones_apply_why(struct gw_zones *z, uint16_t node, uint64_t zone,
		       void (*done)(void *arg, int err, const char *why), void *arg, char *why,
		       size_t cap)
{
	return start(z, node, zone, done, arg, false, why, cap);
}

int gw_zones_apply(struct gw_zones *z, uint16_t node, uint64_t zone,
		   void (*done)(void *arg, int err, const char *why), void *arg)
{
	return start(z, node, zone, done, arg, false, NULL, 0);
}

/* --- Resuming ---------------------------------------------------------------------------- */

/* The end of a move no caller waits for: apply_end() logged it and armed a retry if due. */
static void on_resumed(void *arg, int err, const char *why)
{
	struct gw_zones *z = arg;

	(void)why;
	if (err == 0) {
		z->retry_ms = RESUME_RETRY_FIRST_MS;
	}
}

static void on_retry(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct gw_zones *z = ctx;

	(void)loop;
	(void)id;
	z->retry_timer = 0;
	if (!z->core->stopping) {
		gw_zones_resume(z);
	}
}

void gw_zones_resume(struct gw_zones *z)
{
	struct store_zone_member *ms = NULL;
	size_t n = 0, started = 0;
	int r = store_zone_members(z->core->st, &ms, &n);

	if (r) {
		log_warnx("pending zone moves: %s", store_strerror(r));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!ms[i].pending) {
			continue;
		}
		/* -EBUSY: a job (commission) or a request is moving it already. */
		r = start(z, ms[i].node, ms[i].zone, on_resumed, z, true, NULL, 0);
		if (r == 0) {
			started++;
		} else if (r != -EBUSY) {
			log_warnx("node 0x%04x: the pending zone move cannot resume: %s",
				  ms[i].node, strerror(-r));
		}
	}
	free(ms);
	if (started) {
		log_info("%zu pending zone move(s) resumed", started);
		gw_core_rearm(z->core);
	} else {
		z->retry_ms = RESUME_RETRY_FIRST_MS; /* nothing left to wait for */
	}
}

/* --- REST ------------------------------------------------------------------------------- */

static void complete_zone(struct gw_zones *z, struct gw_cmd *c, uint64_t id)
{
	struct store_zone zone;
	json_t *o;
	int r = store_zone_get(z->core->st, id, &zone);

	if (r) {
		gw_cmd_complete(z->core->q, c, r, NULL, r == -ENOENT ? "no such zone" : NULL);
		return;
	}
	o = zone_json(z->core->st, &zone);
	gw_cmd_complete(z->core->q, c, o ? 0 : -ENOMEM, o, NULL);
}

void gw_zones_cmd_list(struct gw_zones *z, struct gw_cmd *c)
{
	struct store_zone *zs = NULL;
	size_t n = 0;
	json_t *items = json_array();
	int r = items ? store_zone_list(z->core->st, &zs, &n) : -ENOMEM;

	for (size_t i = 0; i < n && !r; i++) {
		json_t *o = zone_json(z->core->st, &zs[i]);

		r = o ? 0 : -ENOMEM;
		json_array_append_new(items, o);
	}
	free(zs);
	if (r) {
		json_decref(items);
		gw_cmd_complete(z->core->q, c, r, NULL, NULL);
		return;
	}
	gw_cmd_complete(z->core->q, c, 0, json_pack("{s:o}", "items", items), NULL);
}

/* The name of a zone's body, with the conflict or exhaustion explained. */
static bool name_failed(struct gw_zones *z, struct gw_cmd *c, const char *name, int r)
{
	char why[200];

	if (r == -EEXIST) {
		snprintf(why, sizeof(why), "a zone named '%s' exists", name);
	} else if (r == -ENOSPC) {
		snprintf(why, sizeof(why),
			 "group_range 0x%04x-0x%04x has no free group address for another zone",
			 z->core->conf.grp_low, z->core->conf.grp_high);
	} else if (r == -EINVAL) {
		snprintf(why, sizeof(why), "name: 1 to %d octets", STORE_NAME_MAX - 1);
	} else if (r == -ENOENT) {
		snprintf(why, sizeof(why), "no such zone");
	} else if (r) {
		snprintf(why, sizeof(why), "%s", strerror(-r));
	}
	if (r) {
		gw_cmd_complete(z->core->q, c, r, NULL, why);
	}
	return r != 0;
}

void gw_zones_cmd_create(struct gw_zones *z, struct gw_cmd *c)
{
	const char *name = json_string_value(json_object_get(c->args, "name"));
	struct store_zone zone;
	int r = store_zone_create(z->core->st, name, z->core->conf.grp_low, z->core->conf.grp_high,
				  &zone);

	if (!name_failed(z, c, name, r)) {
		publish_zone(z->core, "zone.added", zone.id);
		complete_zone(z, c, zone.id);
	}
}

void gw_zones_cmd_get(struct gw_zones *z, struct gw_cmd *c)
{
	complete_zone(z, c, gw_cmd_id_arg(c));
}

void gw_zones_cmd_patch(struct gw_zones *z, struct gw_cmd *c)
{
	const char *name = json_string_value(json_object_get(c->args, "name"));
	uint64_t id = gw_cmd_id_arg(c);
	int r = id ? store_zone_rename(z->core->st, id, name) : -ENOENT;

	if (!name_failed(z, c, name, r)) {
		publish_zone(z->core, "zone.updated", id);
		complete_zone(z, c, id);
	}
}

void gw_zones_cmd_delete(struct gw_zones *z, struct gw_cmd *c)
{
	uint64_t id = gw_cmd_id_arg(c);
	int r = id ? store_zone_delete(z->core->st, id) : -ENOENT;

	if (r == -EBUSY) {
		gw_cmd_complete(z->core->q, c, r, NULL,
				"the zone has nodes: move them out of it first "
				"(PUT /api/v1/nodes/{address}/zone)");
	} else if (r) {
		gw_cmd_complete(z->core->q, c, r, NULL, r == -ENOENT ? "no such zone" : NULL);
	} else {
		gw_core_publish(z->core, "zone.removed", json_pack("{s:I}", "id", (json_int_t)id));
		gw_cmd_complete(z->core->q, c, 0,
				json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted", 1), NULL);
	}
}

struct move_req {
	struct gw_zones *z;
	struct gw_cmd *cmd;
	uint16_t node;
};

static void on_moved(void *arg, int err, const char *why)
{
	struct move_req *q = arg;
	struct gw_core *core = q->z->core;

	if (err) {
		gw_cmd_complete(core->q, q->cmd, err, NULL, why);
	} else {
		json_t *o = json_pack("{s:i, s:o}", "address", q->node, "zone",
				      gw_node_zone_json(core->st, q->node));

		gw_cmd_complete(core->q, q->cmd, o ? 0 : -ENOMEM, o, NULL);
	}
	free(q);
	gw_core_rearm(core);
}

void gw_zones_cmd_move(struct gw_zones *z, struct gw_cmd *c)
{
	json_int_t addr = json_integer_value(json_object_get(c->args, "address"));
	json_t *zv = json_object_get(c->args, "zone");
	uint64_t zone = json_is_integer(zv) ? (uint64_t)json_integer_value(zv) : 0;
	struct store_node n;
	struct store_zone target;
	struct move_req *q;
	char why[256];
	int r;

	if (addr <= 0 || addr >= 0x8000 || store_node_get(z->core->st, (uint16_t)addr, &n) ||
	    n.excluded) {
		snprintf(why, sizeof(why), "no node at 0x%04x", (unsigned)addr);
		gw_cmd_complete(z->core->q, c, -ENOENT, NULL, why);
		return;
	}
	if (zone && store_zone_get(z->core->st, zone, &target)) {
		snprintf(why, sizeof(why), "no zone %llu", (unsigned long long)zone);
		gw_cmd_complete(z->core->q, c, -ENOENT, NULL, why);
		return;
	}
	if (!gw_core_radio_gate(z->core, c)) {
		return;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		gw_cmd_complete(z->core->q, c, -ENOMEM, NULL, NULL);
		return;
	}
	q->z = z;
	q->cmd = c;
	q->node = n.unicast;
	why[0] = '\0';
	r = gw_zones_apply_why(z, n.unicast, zone, on_moved, q, why, sizeof(why));
	if (r) {
		if (r == -EXDEV) {
			/* why names the AppKey and the node that lacks it */
		} else if (r == -EBUSY) {
			snprintf(why, sizeof(why), "node 0x%04x: a zone move is under way",
				 n.unicast);
		} else if (r == -ENOENT) {
			snprintf(why, sizeof(why),
				 "node 0x%04x: its composition is not known yet "
				 "(configure the node first)",
				 n.unicast);
		} else {
			snprintf(why, sizeof(why), "node 0x%04x: %s", n.unicast, strerror(-r));
		}
		free(q);
		gw_cmd_complete(z->core->q, c, r == -ENOENT ? -EBUSY : r, NULL, why);
	}
	gw_core_rearm(z->core);
}
