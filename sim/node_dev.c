/*
 * The node kind's lifecycle (node_dev.h; its pieces are listed in
 * node_dev_int.h): the device object, what it hears from the air, its
 * timers, its control commands, power cycles and the sim_device_ops table
 * the world drives it through.
 */
#include "sim/node_dev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/onoff_msg.h"
#include "sim/node_dev_int.h"

static int dev_rng(void *ctx, uint8_t *buf, size_t len)
{
	uint64_t *st = ctx;
	size_t i;

	/* xorshift64*: reproducible per device from the world's seed. */
	for (i = 0; i < len; i++) {
		uint64_t x = *st;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		*st = x;
		buf[i] = (uint8_t)((x * 0x2545f4914f6cdd1dull) >> 56);
	}
	return 0;
}

static void ndev_free(void *p)
{
	struct ndev *d = p;

	if (!d) {
		return;
	}
	ndev_node_free(d);
	prov_adv_free(d->pa);
	free(d->comp);
	mesh_crypto_wipe(d, sizeof(*d));
	free(d);
}

static int ndev_create(struct sim_world *w, unsigned dev, const struct sim_scn_device *cfg,
		       uint64_t seed, uint64_t now_us, void **out)
{
	struct ndev *d = calloc(1, sizeof(*d));
	int r;

	if (!d) {
		return -ENOMEM;
	}
	d->w = w;
	d->dev = dev;
	d->cfg = cfg;
	d->seed = seed ? seed : 0x9e3779b97f4a7c15ull;
	d->rng.fn = dev_rng;
	d->rng.ctx = &d->seed;
	d->now = now_us / 1000;
	d->comp = calloc(1, sizeof(*d->comp));
	if (!d->comp || ndev_scenario_comp(cfg, d->comp) ||
	    (cfg->has_comp128 &&
	     ndev_build_comp(&cfg->comp128, d->page128, sizeof(d->page128), &d->page128_len))) {
		r = d->comp ? -EINVAL : -ENOMEM;
		free(d->comp);
		free(d);
		return r;
	}
	r = ndev_unprov_start(d);
	if (r) {
		ndev_free(d);
		return r;
	}
	*out = d;
	return 0;
}

static void ndev_rx(void *p, const struct sim_air_rx *rx)
{
	struct ndev *d = p;

	if (d->off) {
		return;
	}
	d->now = rx->time_us / 1000;
	if (rx->ad_type == MESH_AD_PB_ADV && d->pa) {
		(void)prov_adv_rx(d->pa, rx->data, rx->len, d->now);
	}
	if (d->rpr) {
		ndev_rpr_rx(d, rx);
	}
	if (d->node && (rx->ad_type == MESH_AD_MESSAGE || rx->ad_type == MESH_AD_BEACON)) {
		(void)mesh_node_rx_adv(d->node, rx->ad_type, rx->data, rx->len, d->now);
	}
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t ndev_deadline(void *p)
{
	struct ndev *d = p;
	uint64_t t = d->next_ubeacon;

	if (d->off) {
		return UINT64_MAX; /* a switched-off device has no running timers */
	}
	if (d->reset_pending || d->refresh_pending) {
		return d->now * 1000;
	}
	if (d->pa) {
		t = min64(t, min64(prov_adv_next_deadline(d->pa), d->pa_retire));
	}
	if (d->node) {
		t = min64(t, mesh_node_next_deadline(d->node));
	}
	if (d->rpr) {
		t = min64(t, rpr_srv_next_deadline(d->rpr));
	}
	return t == UINT64_MAX ? UINT64_MAX : t * 1000;
}

/*
 * Node Composition Refresh took effect (§3.11.8.4): page 128 becomes page
 * 0 and the node is rebuilt with its elements and models.  What carries
 * over is what the refresh does not touch: the primary address, the new
 * DevKey, NetKeys (with Key Refresh phases), AppKeys, IV Index, SEQ (from
 * the reserved block: a number is never sent twice), Default TTL, Relay,
 * Secure Network Beacon, Network Transmit and heartbeat states.  Model
 * states (AppKey bindings, subscriptions, publications, OnOff) are not
 * kept: the models are those of a new composition, and the Configuration
 * Client re-configures them per the node's profile after the refresh, as
 * it does after provisioning.  Page 128 is gone afterwards (Composition
 * Data Get 128 answers page 0).  Runs from a tick, never inside the
 * server's callback: the old node is freed here.
 */
static void comp_refresh(struct ndev *d)
{
	struct nparts parts = {0};
	struct mesh_comp *nc = calloc(1, sizeof(*nc)), *oc = d->comp;
	uint8_t o128[MESH_COMP_DATA_MAX], o0[MESH_COMP_DATA_MAX];
	size_t o128_len = d->page128_len, o0_len = d->page0_len;
	json_t *st = NULL;
	int r = nc ? 0 : -ENOMEM;

	d->refresh_pending = false;
	memcpy(o128, d->page128, o128_len);
	memcpy(o0, d->page0, o0_len);
	r = r ? r : mesh_comp_parse(d->page128, d->page128_len, nc);
	if (!r && nc->n_elems > SIM_SCN_ELEMENTS_MAX) {
		r = -ERANGE;
	}
	if (!r) {
		/* Taken from the node as it is, before d->comp moves to nc. */
		r = ndev_save_refresh(d, nc, &st);
	}
	if (!r) {
		memcpy(d->page0, o128, o128_len);
		d->page0_len = o128_len;
		d->page128_len = 0;
		d->comp = nc;
		r = ndev_load_node(d, st, &parts);
	}
	if (r) {
		char text[SIM_WORLD_TEXT_MAX + 1];

		/* The node stays as it was (with its new DevKey), page 128 still pending. */
		ndev_parts_free(&parts);
		memcpy(d->page128, o128, o128_len);
		d->page128_len = o128_len;
		memcpy(d->page0, o0, o0_len);
		d->page0_len = o0_len;
		d->comp = oc;
		free(nc);
		snprintf(text, sizeof(text), "composition refresh failed: %.30s",
			 d->state_err[0] ? d->state_err : strerror(-r));
		sim_world_display(d->w, d->dev, text, d->now * 1000);
	} else {
		ndev_parts_install(d, &parts);
		free(oc);
	}
	ndev_json_wipe_decref(st);
}

static void ndev_tick(void *p, uint64_t now_us)
{
	struct ndev *d = p;

	if (d->off) {
		return;
	}
	d->now = now_us / 1000;
	if (d->reset_pending) {
		/* Node Reset: forget everything and be a new unprovisioned device (§4.4.1.2.x). */
		d->reset_pending = false;
		ndev_node_free(d);
		prov_adv_free(d->pa);
		d->pa = NULL;
		if (ndev_unprov_start(d) == 0) {
			d->next_ubeacon = d->now;
		}
	}
	if (d->refresh_pending) {
		comp_refresh(d);
	}
	if (d->pa) {
		prov_adv_tick(d->pa, d->now);
		if (d->pa_retire <= d->now) {
			prov_adv_free(d->pa);
			d->pa = NULL;
		}
	}
	if (d->node) {
		mesh_node_tick(d->node, d->now);
	}
	if (d->rpr) {
		rpr_srv_tick(d->rpr, d->now);
	}
	if (!d->node && d->next_ubeacon <= d->now) {
		ndev_unprov_beacon(d);
	}
}

static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 0;

	while (*s == ' ') {
		s++;
	}
	for (; s[0] && s[1] && s[0] != ' '; s += 2) {
		unsigned v;

		if (n == cap || sscanf(s, "%2x", &v) != 1) {
			return -EINVAL;
		}
		out[n++] = (uint8_t)v;
	}
	if (*s && *s != ' ') {
		return -EINVAL;
	}
	*len = n;
	return 0;
}

/*
 * "power on" after "power off": a power cycle.  What was in RAM is lost (a
 * provisioning session, a Remote Provisioning link, segmented messages in
 * flight); the device starts again from its flash, i.e. its saved state.
 */
static int power_on(struct ndev *d)
{
	json_t *st;
	int r;

	d->off = false;
	if (d->refresh_pending) {
		comp_refresh(d);
	}
	if (!d->node || d->reset_pending) {
		d->reset_pending = false;
		ndev_node_free(d);
		prov_adv_free(d->pa);
		d->pa = NULL;
		d->input_wait = false;
		r = ndev_unprov_start(d);
		if (!r) {
			d->next_ubeacon = d->now;
		}
		return r;
	}
	st = ndev_save(d);
	if (!st) {
		return -ENOMEM;
	}
	r = ndev_load(d, st, d->now * 1000);
	ndev_json_wipe_decref(st);
	return r;
}

/*
 * "press [on|off]": the device's switch, i.e. the first Generic OnOff Client
 * (0x1001) of its composition, sends a Generic OnOff Set Unacknowledged
 * (Mesh Model §3.2.1.3) per its publication state, as a wall switch does:
 * to the group its lights subscribe to, with the AppKey and TTL that Config
 * Model Publication Set gave it.  Without an argument it toggles what it
 * sent last.  Each press is a new transaction (a new TID, §3.3.1.2.2).
 */
static int press(struct ndev *d, const char *arg, char *out, size_t cap)
{
	static const struct mesh_model_id cli = {.vendor = false, .id = 0x1001};
	struct mesh_acc *acc;
	struct mesh_acc_model *mdl = NULL;
	struct mesh_acc_pub pub;
	struct onoff_set set = {0};
	uint8_t p[4];
	size_t e, len;
	bool on;
	int r;

	if (!strcmp(arg, "on") || !strcmp(arg, "off") || !arg[0]) {
		on = arg[0] ? !strcmp(arg, "on") : !d->sw_on;
	} else {
		snprintf(out, cap, "usage: press [on|off]");
		return -EINVAL;
	}
	if (!d->node) {
		snprintf(out, cap, "the device is not provisioned");
		return -ENODEV;
	}
	acc = mesh_node_acc(d->node);
	for (e = 0; e < mesh_acc_elem_count(acc) && !mdl; e++) {
		mdl = mesh_acc_model_find(acc, (uint8_t)e, cli);
	}
	if (!mdl) {
		snprintf(out, cap, "the device has no Generic OnOff Client (0x1001)");
		return -ENODEV;
	}
	mesh_acc_model_pub_get(mdl, &pub);
	if (pub.addr == MESH_ADDR_UNASSIGNED) {
		snprintf(out, cap,
			 "the Generic OnOff Client of element %u has no publication "
			 "(Config Model Publication Set)",
			 mesh_acc_model_elem(mdl));
		return -EDESTADDRREQ;
	}
	set.onoff = on ? 1 : 0;
	set.tid = d->sw_tid;
	r = onoff_msg_set_encode(&set, p, sizeof(p), &len);
	r = r ? r : mesh_node_publish(d->node, mdl, ONOFF_OP_SET_UNACK, p, len, d->now);
	if (r) {
		snprintf(out, cap, "publishing to 0x%04x with AppKey %u failed", pub.addr,
			 pub.app_idx);
		return r;
	}
	d->sw_on = on;
	d->sw_tid++;
	snprintf(out, cap, "ok %s to 0x%04x tid %u", on ? "on" : "off", pub.addr, set.tid);
	return 0;
}

static int ndev_ctl(void *p, const char *args, uint64_t now_us, char *out, size_t cap)
{
	struct ndev *d = p;

	d->now = now_us / 1000;
	if (strncmp(args, "input ", 6) == 0) {
		int r;

		if (!d->pa || !d->input_wait) {
			snprintf(out, cap, "error: not waiting for input");
			return -EALREADY;
		}
		r = prov_adv_input_oob(d->pa, d->input_h, args + 6, d->now);
		d->input_wait = r != 0;
		snprintf(out, cap, r ? "error: %s" : "ok", strerror(-r));
		return r;
	}
	if (strcmp(args, "status") == 0) {
		uint8_t key[16];
		char fp[9], cand[9] = "";
		size_t k;

		k = (size_t)snprintf(out, cap, "%s addr 0x%04x",
				     d->node ? "provisioned" : "unprovisioned",
				     d->node ? mesh_node_primary(d->node) : 0);
		/* Fingerprints only: the keys themselves never leave the device. */
		if (d->node && k < cap && mesh_node_devkey_get(d->node, key) == 0) {
			mesh_crypto_key_fingerprint(key, fp);
			if (mesh_node_devkey_candidate_get(d->node, key) == 0) {
				mesh_crypto_key_fingerprint(key, cand);
			}
			k += (size_t)snprintf(out + k, cap - k, " devkey %s%s%s", fp,
					      cand[0] ? " candidate " : "", cand);
		}
		mesh_crypto_wipe(key, sizeof(key));
		/* Each NetKey as index:phase:fingerprint of the key it transmits with (§3.11.4). */
		for (size_t i = 0; d->node && k < cap && i < mesh_node_netkey_count(d->node); i++) {
			struct mesh_node_netkey nk;

			if (mesh_node_netkey_at(d->node, i, &nk) == 0) {
				mesh_crypto_key_fingerprint(nk.phase == 2 ? nk.new_key : nk.key,
							    fp);
				k += (size_t)snprintf(out + k, cap - k, " netkey %u:%u:%s",
						      nk.net_idx, nk.phase, fp);
			}
			mesh_crypto_wipe(&nk, sizeof(nk));
		}
		if (d->off && k < cap) {
			snprintf(out + k, cap - k, " power off");
		}
		return 0;
	}
	if (strcmp(args, "power off") == 0) {
		d->off = true;
		snprintf(out, cap, "ok");
		return 0;
	}
	if (strcmp(args, "power on") == 0) {
		int r = d->off ? power_on(d) : 0;

		snprintf(out, cap, r ? "error: %s" : "ok", strerror(-r));
		return r;
	}
	if (strcmp(args, "onoff") == 0) {
		size_t i, k = 0;

		out[0] = '\0';
		for (i = 0; i < ONOFF_MAX && k + 8 < cap; i++) {
			if (d->onoff[i]) {
				k += (size_t)snprintf(out + k, cap - k, "%s%zu:%s", k ? " " : "", i,
						      onoff_srv_get(d->onoff[i]) ? "on" : "off");
			}
		}
		return 0;
	}
	if (strncmp(args, "comp128 ", 8) == 0) {
		uint8_t page[MESH_COMP_DATA_MAX];
		size_t len;
		int r = parse_hex(args + 8, page, sizeof(page), &len);

		if (!r && d->srv) {
			r = cfg_srv_page128_set(d->srv, page, len);
		}
		if (!r) {
			memcpy(d->page128, page, len);
			d->page128_len = len;
		}
		snprintf(out, cap, r ? "error: bad page" : "ok");
		return r;
	}
	if (strcmp(args, "press") == 0 || strncmp(args, "press ", 6) == 0) {
		return press(d, args[5] ? args + 6 : "", out, cap);
	}
	if (strcmp(args, "reset") == 0) {
		d->reset_pending = true;
		snprintf(out, cap, "ok");
		return 0;
	}
	snprintf(out, cap,
		 "error: commands: status, input VALUE, onoff, press [on|off], comp128 HEX, "
		 "reset, power off, power on");
	return -EINVAL;
}

const struct sim_device_ops sim_node_kind = {
    .kind = "node",
    .create = ndev_create,
    .free = ndev_free,
    .rx = ndev_rx,
    .next_deadline = ndev_deadline,
    .tick = ndev_tick,
    .ctl = ndev_ctl,
    .save = ndev_save,
    .load = ndev_load,
};

bool sim_node_provisioned(const void *p)
{
	return ((const struct ndev *)p)->node != NULL;
}

uint16_t sim_node_addr(const void *p)
{
	const struct ndev *d = p;

	return d->node ? mesh_node_primary(d->node) : 0;
}

bool sim_node_onoff(const void *p, uint8_t elem)
{
	const struct ndev *d = p;

	return elem < ONOFF_MAX && d->onoff[elem] && onoff_srv_get(d->onoff[elem]);
}

struct mesh_node *sim_node_mesh(void *p)
{
	return ((struct ndev *)p)->node;
}

const char *sim_node_state_error(const void *p)
{
	return ((const struct ndev *)p)->state_err;
}
