/*
 * Scenario files: strict validation of imported JSON (scenario.h), member
 * by member, through the walker of scenario_walk.c.  Every object is
 * checked against the list of members it may have: a misspelt member is an
 * error rather than a silently ignored setting.
 */
#include "sim/scenario.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario_int.h"

static int parse_air(struct scn_walk *w, json_t *a, struct sim_scenario *s)
{
	static const char *const members[] = {
	    "range_m",     "loss",           "edge_loss",     "duplication",
	    "latency_ms",  "floor_height_m", "floor_loss_db", "path_loss_exponent",
	    "rssi_1m_dbm", "seed",           "time_scale",    NULL};
	struct sim_air_params p = s->air;
	double lat = p.latency_us / 1000.0, scale = s->time_scale;
	json_t *seed;
	int err;

	if ((err = scn_check_members(w, a, members)) ||
	    (err = scn_get_num(w, a, "range_m", false, 0.1, 100000.0, &p.range_m)) ||
	    (err = scn_get_num(w, a, "loss", false, 0.0, 1.0, &p.loss)) ||
	    (err = scn_get_num(w, a, "edge_loss", false, 0.0, 1.0, &p.edge_loss)) ||
	    (err = scn_get_num(w, a, "duplication", false, 0.0, 1.0, &p.duplication)) ||
	    (err = scn_get_num(w, a, "latency_ms", false, 0.0, 10000.0, &lat)) ||
	    (err = scn_get_num(w, a, "floor_height_m", false, 0.5, 1000.0, &p.floor_height_m)) ||
	    (err = scn_get_num(w, a, "floor_loss_db", false, 0.0, 200.0, &p.floor_loss_db)) ||
	    (err = scn_get_num(w, a, "path_loss_exponent", false, 1.0, 10.0, &p.path_loss_exp)) ||
	    (err = scn_get_num(w, a, "rssi_1m_dbm", false, -127.0, 20.0, &p.rssi_1m_dbm)) ||
	    (err = scn_get_num(w, a, "time_scale", false, 0.001, 1000.0, &scale))) {
		return err;
	}
	seed = json_object_get(a, "seed");
	if (seed) {
		size_t old = scn_push_key(w, "seed");

		if (!json_is_integer(seed) || json_integer_value(seed) < 0) {
			err = scn_fail(w, "must be a non-negative integer");
		} else {
			s->seed = (uint64_t)json_integer_value(seed);
		}
		scn_pop(w, old);
		if (err) {
			return err;
		}
	}
	p.latency_us = (uint32_t)llround(lat * 1000.0);
	s->air = p;
	s->time_scale = scale;
	return 0;
}

static int parse_hci(struct scn_walk *w, json_t *arr, struct sim_scenario *s)
{
	static const char *const members[] = {"path",     "position",       "profile",
					      "adv_sets", "cmd_latency_ms", NULL};
	size_t old = scn_push_key(w, "hci"), i;
	json_t *it;
	int err = 0;

	if (!json_is_array(arr) || json_array_size(arr) > SIM_SCN_HCI_MAX) {
		err = scn_fail(w, "must be an array of at most %d ports", SIM_SCN_HCI_MAX);
		scn_pop(w, old);
		return err;
	}
	s->hci = calloc(json_array_size(arr) + 1, sizeof(*s->hci));
	if (!s->hci) {
		scn_pop(w, old);
		return -ENOMEM;
	}
	json_array_foreach(arr, i, it)
	{
		struct sim_scn_hci *h = &s->hci[i];
		size_t o2 = scn_push_idx(w, i), o3;
		json_t *prof;
		uint32_t sets = 4, lat = 1;

		s->n_hci = i + 1;
		h->adv_sets = 4;
		h->latency_ms = 1;
		if (!(err = scn_check_members(w, it, members)) &&
		    !(err = scn_get_str(w, it, "path", true, 107, &h->path)) &&
		    !(err = scn_get_pos(w, it, "position", true, &h->pos)) &&
		    !(err = scn_get_uint(w, it, "adv_sets", false, 16, &sets)) &&
		    !(err = scn_get_uint(w, it, "cmd_latency_ms", false, 1000, &lat))) {
			prof = json_object_get(it, "profile");
			o3 = scn_push_key(w, "profile");
			if (prof && (!json_is_string(prof) ||
				     (strcmp(json_string_value(prof), "legacy") &&
				      strcmp(json_string_value(prof), "extended")))) {
				err = scn_fail(w, "must be \"legacy\" or \"extended\"");
			}
			scn_pop(w, o3);
			h->legacy = prof && !err && !strcmp(json_string_value(prof), "legacy");
		}
		if (!err) {
			o3 = scn_push_key(w, "adv_sets");
			if (h->legacy && json_object_get(it, "adv_sets")) {
				err = scn_fail(w, "only with profile \"extended\"");
			} else if (sets < 1) {
				err = scn_fail(w, "must be an integer from 1 to 16");
			}
			scn_pop(w, o3);
		}
		h->adv_sets = h->legacy ? 0 : sets;
		h->latency_ms = lat;
		for (size_t j = 0; !err && j < i; j++) {
			if (!strcmp(s->hci[j].path, h->path)) {
				o3 = scn_push_key(w, "path");
				err = scn_fail(w, "duplicate");
				scn_pop(w, o3);
			}
		}
		scn_pop(w, o2);
		if (err) {
			break;
		}
	}
	scn_pop(w, old);
	return err;
}

static int parse_ports(struct scn_walk *w, json_t *ports, struct sim_scenario *s)
{
	static const char *const members[] = {"native", "bluez", "hci", NULL};
	static const char *const port_members[] = {"path", "position", NULL};
	static const char *const bluez_members[] = {"path", "position", "peer", NULL};
	json_t *nat, *bz, *it;
	size_t old, i;
	int err;

	if ((err = scn_check_members(w, ports, members))) {
		return err;
	}
	nat = json_object_get(ports, "native");
	if (nat) {
		old = scn_push_key(w, "native");
		if (!(err = scn_check_members(w, nat, port_members)) &&
		    !(err = scn_get_str(w, nat, "path", true, 107, &s->native_path))) {
			err = scn_get_pos(w, nat, "position", false, &s->native_pos);
		}
		scn_pop(w, old);
		if (err) {
			return err;
		}
	}
	it = json_object_get(ports, "hci");
	if (it && (err = parse_hci(w, it, s))) {
		return err;
	}
	bz = json_object_get(ports, "bluez");
	if (!bz) {
		return 0;
	}
	old = scn_push_key(w, "bluez");
	if (!json_is_array(bz) || json_array_size(bz) > SIM_SCN_BLUEZ_MAX) {
		err = scn_fail(w, "must be an array of at most %d ports", SIM_SCN_BLUEZ_MAX);
		scn_pop(w, old);
		return err;
	}
	s->bluez = calloc(json_array_size(bz) + 1, sizeof(*s->bluez));
	if (!s->bluez) {
		scn_pop(w, old);
		return -ENOMEM;
	}
	json_array_foreach(bz, i, it)
	{
		struct sim_scn_bluez *b = &s->bluez[i];
		size_t o2 = scn_push_idx(w, i);

		s->n_bluez = i + 1;
		if (!(err = scn_check_members(w, it, bluez_members)) &&
		    !(err = scn_get_str(w, it, "path", true, 107, &b->path)) &&
		    !(err = scn_get_str(w, it, "peer", false, 107, &b->peer))) {
			err = scn_get_pos(w, it, "position", true, &b->pos);
		}
		scn_pop(w, o2);
		if (err) {
			break;
		}
	}
	scn_pop(w, old);
	return err;
}

/* --- Devices ------------------------------------------------------------ */

static int parse_models(struct scn_walk *w, json_t *el, struct sim_scn_element *e)
{
	static const char *const vnd_members[] = {"cid", "id", NULL};
	json_t *arr, *it;
	size_t old, i;
	int err = 0;

	arr = json_object_get(el, "models");
	old = scn_push_key(w, "models");
	if (arr && (!json_is_array(arr) || json_array_size(arr) > SIM_SCN_MODELS_MAX)) {
		err = scn_fail(w, "must be an array of at most %d model ids", SIM_SCN_MODELS_MAX);
	}
	json_array_foreach(arr, i, it)
	{
		size_t o2 = scn_push_idx(w, i);
		uint32_t id;

		if (err) {
			scn_pop(w, o2);
			break;
		}
		if (!(err = scn_uint_value(w, it, 0xffff, &id))) {
			for (size_t j = 0; j < e->n_sig; j++) {
				if (e->sig[j] == id) {
					err = scn_fail(w, "duplicate model 0x%04x", (unsigned)id);
				}
			}
			e->sig[e->n_sig++] = (uint16_t)id;
		}
		scn_pop(w, o2);
	}
	scn_pop(w, old);
	if (err) {
		return err;
	}
	arr = json_object_get(el, "vendor_models");
	old = scn_push_key(w, "vendor_models");
	if (arr && (!json_is_array(arr) || json_array_size(arr) > SIM_SCN_MODELS_MAX)) {
		err = scn_fail(w, "must be an array of at most %d {cid, id}", SIM_SCN_MODELS_MAX);
	}
	json_array_foreach(arr, i, it)
	{
		size_t o2 = scn_push_idx(w, i);
		struct sim_scn_vendor_model vm = {0};

		if (err) {
			scn_pop(w, o2);
			break;
		}
		if (!(err = scn_check_members(w, it, vnd_members)) &&
		    !(err = scn_get_u16(w, it, "cid", true, &vm.cid)) &&
		    !(err = scn_get_u16(w, it, "id", true, &vm.id))) {
			for (size_t j = 0; j < e->n_vnd; j++) {
				if (e->vnd[j].cid == vm.cid && e->vnd[j].id == vm.id) {
					err = scn_fail(w, "duplicate vendor model");
				}
			}
			e->vnd[e->n_vnd++] = vm;
		}
		scn_pop(w, o2);
	}
	scn_pop(w, old);
	return err;
}

static int parse_features(struct scn_walk *w, json_t *c, uint16_t *out)
{
	static const char *const members[] = {"relay", "proxy", "friend", "low_power", NULL};
	json_t *v = json_object_get(c, "features");
	bool r = false, p = false, f = false, l = false;
	size_t old;
	int err;

	if (!v) {
		*out = 0;
		return 0;
	}
	if (!json_is_object(v)) {
		return scn_get_u16(w, c, "features", true, out);
	}
	old = scn_push_key(w, "features");
	if (!(err = scn_check_members(w, v, members)) && !(err = scn_get_bool(w, v, "relay", &r)) &&
	    !(err = scn_get_bool(w, v, "proxy", &p)) && !(err = scn_get_bool(w, v, "friend", &f)) &&
	    !(err = scn_get_bool(w, v, "low_power", &l))) {
		*out = (uint16_t)((r ? SIM_SCN_FEAT_RELAY : 0) | (p ? SIM_SCN_FEAT_PROXY : 0) |
				  (f ? SIM_SCN_FEAT_FRIEND : 0) | (l ? SIM_SCN_FEAT_LPN : 0));
	}
	scn_pop(w, old);
	return err;
}

static bool element_has(const struct sim_scn_element *e, uint16_t id)
{
	for (size_t i = 0; i < e->n_sig; i++) {
		if (e->sig[i] == id) {
			return true;
		}
	}
	return false;
}

static int parse_comp(struct scn_walk *w, json_t *dev, const char *key, bool required,
		      struct sim_scn_comp *c, bool *present)
{
	static const char *const members[] = {"cid",      "pid",      "vid", "crpl",
					      "features", "elements", NULL};
	static const char *const el_members[] = {"location", "models", "vendor_models", NULL};
	json_t *v = json_object_get(dev, key), *els, *it;
	size_t old = scn_push_key(w, key), i;
	int err;

	if (!v) {
		err = required ? scn_fail(w, "missing") : 0;
		scn_pop(w, old);
		return err;
	}
	*present = true;
	if ((err = scn_check_members(w, v, members)) ||
	    (err = scn_get_u16(w, v, "cid", true, &c->cid)) ||
	    (err = scn_get_u16(w, v, "pid", true, &c->pid)) ||
	    (err = scn_get_u16(w, v, "vid", true, &c->vid)) ||
	    (err = scn_get_u16(w, v, "crpl", true, &c->crpl)) ||
	    (err = parse_features(w, v, &c->features))) {
		goto out;
	}
	els = json_object_get(v, "elements");
	scn_push_key(w, "elements");
	if (!els || !json_is_array(els) || json_array_size(els) < 1 ||
	    json_array_size(els) > SIM_SCN_ELEMENTS_MAX) {
		err = scn_fail(w, "must be an array of 1 to %d elements", SIM_SCN_ELEMENTS_MAX);
		goto out;
	}
	c->elements = calloc(json_array_size(els), sizeof(*c->elements));
	if (!c->elements) {
		err = -ENOMEM;
		goto out;
	}
	json_array_foreach(els, i, it)
	{
		struct sim_scn_element *e = &c->elements[i];
		size_t o2 = scn_push_idx(w, i);

		c->n_elements = i + 1;
		if (!(err = scn_check_members(w, it, el_members)) &&
		    !(err = scn_get_u16(w, it, "location", false, &e->loc)) &&
		    !(err = parse_models(w, it, e))) {
			/* §4.4.1: the Configuration Server lives on the primary element only. */
			if (i == 0 && !element_has(e, 0x0000)) {
				err =
				    scn_fail(w, "the primary element needs Config Server (0x0000)");
			} else if (i > 0 && element_has(e, 0x0000)) {
				err = scn_fail(
				    w, "Config Server (0x0000) only on the primary element");
			}
		}
		scn_pop(w, o2);
		if (err) {
			break;
		}
	}
out:
	scn_pop(w, old);
	return err;
}

static int parse_oob(struct scn_walk *w, json_t *dev, struct sim_scn_device *d)
{
	static const char *const members[] = {"static",      "output", "input", "public_key",
					      "private_key", "info",   NULL};
	static const char *const io_members[] = {"size", "actions", NULL};
	static const char *const out_names[] = {"blink",   "beep",         "vibrate",
						"numeric", "alphanumeric", NULL};
	static const char *const in_names[] = {"push", "twist", "numeric", "alphanumeric", NULL};
	const char *const io_keys[2] = {"output", "input"};
	json_t *o = json_object_get(dev, "oob"), *v;
	size_t old;
	int err;

	if (!o) {
		return 0;
	}
	old = scn_push_key(w, "oob");
	if ((err = scn_check_members(w, o, members)) ||
	    (err = scn_get_bool(w, o, "public_key", &d->public_key_oob)) ||
	    (err = scn_get_u16(w, o, "info", false, &d->oob_info))) {
		goto out;
	}
	/* An OOB public key needs a fixed key pair: its public half is what goes out of band. */
	v = json_object_get(o, "private_key");
	if (v || d->public_key_oob) {
		size_t o2 = scn_push_key(w, "private_key"), n;

		err = !v                   ? scn_fail(w, "required with public_key true")
		      : !d->public_key_oob ? scn_fail(w, "only with public_key true")
					   : scn_get_hex(w, v, false, 32, 32, d->private_key, &n);
		scn_pop(w, o2);
		if (err) {
			goto out;
		}
	}
	v = json_object_get(o, "static");
	if (v) {
		size_t o2 = scn_push_key(w, "static");

		err = scn_get_hex(w, v, false, 16, 32, d->static_oob, &d->static_oob_len);
		scn_pop(w, o2);
		if (err) {
			goto out;
		}
	}
	for (int k = 0; k < 2; k++) {
		uint8_t *size = k ? &d->input_size : &d->output_size;
		uint16_t *acts = k ? &d->input_actions : &d->output_actions;
		double sz = 0;
		size_t o2;

		v = json_object_get(o, io_keys[k]);
		if (!v) {
			continue;
		}
		o2 = scn_push_key(w, io_keys[k]);
		/* §5.4.1.2: sizes 1..8 and a non-empty action set go together. */
		if (!(err = scn_check_members(w, v, io_members)) &&
		    !(err = scn_get_num(w, v, "size", true, 1, 8, &sz)) &&
		    !(err = scn_get_bits(w, v, "actions", k ? in_names : out_names, acts))) {
			if (sz != floor(sz)) {
				err = scn_fail(w, "size must be an integer");
			} else if (*acts == 0) {
				err = scn_fail(w, "actions must name at least one action");
			}
			*size = (uint8_t)sz;
		}
		scn_pop(w, o2);
		if (err) {
			goto out;
		}
	}
out:
	scn_pop(w, old);
	return err;
}

static int parse_uuid(struct scn_walk *w, json_t *dev, uint8_t uuid[16])
{
	json_t *v = json_object_get(dev, "uuid");
	size_t old = scn_push_key(w, "uuid"), n;
	int err;

	if (!v) {
		err = scn_fail(w, "missing");
	} else {
		err = scn_get_hex(w, v, true, 16, 16, uuid, &n);
	}
	scn_pop(w, old);
	return err;
}

static int parse_device(struct scn_walk *w, json_t *v, size_t idx, struct sim_scn_device *d)
{
	static const char *const members[] = {
	    "name",           "kind",   "uuid",        "position",        "oob",
	    "algorithms",     "uri",    "composition", "composition_128", "relay",
	    "proxy",          "beacon", "rpr_server",  "state_file",      "certificate",
	    "private_beacon", NULL};
	static const char *const alg_names[] = {"cmac", "hmac", NULL};
	bool comp0 = false;
	int err;

	snprintf(d->name, sizeof(d->name), "dev%zu", idx);
	snprintf(d->kind, sizeof(d->kind), "node");
	d->algorithms = SIM_SCN_ALG_CMAC;
	d->beacon = true;
	if ((err = scn_check_members(w, v, members)) ||
	    (err = scn_get_name(w, v, "name", d->name, sizeof(d->name))) ||
	    (err = scn_get_name(w, v, "kind", d->kind, sizeof(d->kind))) ||
	    (err = parse_uuid(w, v, d->uuid)) ||
	    (err = scn_get_pos(w, v, "position", true, &d->pos)) || (err = parse_oob(w, v, d)) ||
	    (err = scn_get_bits(w, v, "algorithms", alg_names, &d->algorithms)) ||
	    (err = scn_get_str(w, v, "uri", false, 255, &d->uri)) ||
	    (err = parse_comp(w, v, "composition", true, &d->comp, &comp0)) ||
	    (err = parse_comp(w, v, "composition_128", false, &d->comp128, &d->has_comp128)) ||
	    (err = scn_get_bool(w, v, "relay", &d->relay)) ||
	    (err = scn_get_bool(w, v, "proxy", &d->proxy)) ||
	    (err = scn_get_bool(w, v, "beacon", &d->beacon)) ||
	    (err = scn_get_bool(w, v, "private_beacon", &d->private_beacon)) ||
	    (err = scn_get_bool(w, v, "rpr_server", &d->rpr_server)) ||
	    (err = scn_get_str(w, v, "state_file", false, 4095, &d->state_file)) ||
	    (err = scn_get_cert(w, v, d))) {
		return err;
	}
	if (d->algorithms == 0) {
		size_t old = scn_push_key(w, "algorithms");

		err = scn_fail(w, "must offer at least one algorithm");
		scn_pop(w, old);
		return err;
	}
	/* A 32-octet AuthValue exists only with the HMAC algorithm (§5.4.2.4). */
	if (d->static_oob_len == 32 && !(d->algorithms & SIM_SCN_ALG_HMAC)) {
		size_t old = scn_push_key(w, "oob");

		scn_push_key(w, "static");
		err = scn_fail(w, "a 32-octet static OOB value needs the \"hmac\" algorithm");
		scn_pop(w, old);
		return err;
	}
	if ((d->relay && !(d->comp.features & SIM_SCN_FEAT_RELAY)) ||
	    (d->proxy && !(d->comp.features & SIM_SCN_FEAT_PROXY))) {
		size_t old = scn_push_key(
		    w, d->relay && !(d->comp.features & SIM_SCN_FEAT_RELAY) ? "relay" : "proxy");

		err = scn_fail(w, "enabled but not in composition.features");
		scn_pop(w, old);
		return err;
	}
	/* The Remote Provisioning Server model (0x0004) is on the primary element. */
	if (d->rpr_server && !element_has(&d->comp.elements[0], 0x0004)) {
		size_t old = scn_push_key(w, "rpr_server");

		err = scn_fail(w, "needs model 0x0004 on element 0 of the composition");
		scn_pop(w, old);
		return err;
	}
	return 0;
}

static int parse_devices(struct scn_walk *w, json_t *devs, struct sim_scenario *s)
{
	json_t *it;
	size_t old = scn_push_key(w, "devices"), i;
	int err = 0;

	if (!json_is_array(devs) || json_array_size(devs) > SIM_SCN_DEVICES_MAX) {
		err = scn_fail(w, "must be an array of at most %d devices", SIM_SCN_DEVICES_MAX);
		scn_pop(w, old);
		return err;
	}
	s->devices = calloc(json_array_size(devs) + 1, sizeof(*s->devices));
	if (!s->devices) {
		scn_pop(w, old);
		return -ENOMEM;
	}
	json_array_foreach(devs, i, it)
	{
		struct sim_scn_device *d = &s->devices[i];
		size_t o2 = scn_push_idx(w, i);

		s->n_devices = i + 1;
		err = parse_device(w, it, i, d);
		for (size_t j = 0; !err && j < i; j++) {
			if (!memcmp(s->devices[j].uuid, d->uuid, 16)) {
				scn_push_key(w, "uuid");
				err = scn_fail(w, "same UUID as devices[%zu]", j);
			} else if (!strcmp(s->devices[j].name, d->name)) {
				scn_push_key(w, "name");
				err = scn_fail(w, "same name as devices[%zu]", j);
			}
		}
		scn_pop(w, o2);
		if (err) {
			break;
		}
	}
	scn_pop(w, old);
	return err;
}

/* --- Entry points ------------------------------------------------------- */

struct sim_scenario *sim_scenario_new(void)
{
	struct sim_scenario *s = calloc(1, sizeof(*s));

	if (!s) {
		return NULL;
	}
	sim_air_params_default(&s->air);
	s->seed = 1;
	s->time_scale = 1.0;
	return s;
}

static void comp_free(struct sim_scn_comp *c)
{
	free(c->elements);
}

void sim_scenario_free(struct sim_scenario *s)
{
	if (!s) {
		return;
	}
	free(s->native_path);
	for (size_t i = 0; i < s->n_bluez; i++) {
		free(s->bluez[i].path);
		free(s->bluez[i].peer);
	}
	free(s->bluez);
	for (size_t i = 0; i < s->n_hci; i++) {
		free(s->hci[i].path);
	}
	free(s->hci);
	for (size_t i = 0; i < s->n_devices; i++) {
		struct sim_scn_device *d = &s->devices[i];

		free(d->uri);
		free(d->state_file);
		scn_cert_clear(d);
		comp_free(&d->comp);
		comp_free(&d->comp128);
		/* Static OOB values are secrets of the simulated device. */
		memset(d->static_oob, 0, sizeof(d->static_oob));
		memset(d->private_key, 0, sizeof(d->private_key));
	}
	free(s->devices);
	free(s);
}

int sim_scenario_parse(const char *text, size_t len, struct sim_scenario **out, char *err,
		       size_t err_cap)
{
	static const char *const members[] = {"meshsim", "description", "air",
					      "ports",   "devices",     NULL};
	struct scn_walk w = {.err = err, .cap = err_cap};
	struct sim_scenario *s;
	json_error_t jerr;
	json_t *root, *v;
	int rc;

	if (err && err_cap) {
		err[0] = '\0';
	}
	if (!text || !out) {
		return -EINVAL;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (err && err_cap) {
			snprintf(err, err_cap, "line %d column %d: %s", jerr.line, jerr.column,
				 jerr.text);
		}
		return -EINVAL;
	}
	s = sim_scenario_new();
	if (!s) {
		json_decref(root);
		return -ENOMEM;
	}
	if ((rc = scn_check_members(&w, root, members))) {
		goto out_free;
	}
	v = json_object_get(root, "meshsim");
	if (!v || !json_is_integer(v) || json_integer_value(v) != 1) {
		size_t old = scn_push_key(&w, "meshsim");

		rc = scn_fail(&w, "must be 1 (the scenario format version)");
		scn_pop(&w, old);
		goto out_free;
	}
	v = json_object_get(root, "description");
	if (v && !json_is_string(v)) {
		scn_push_key(&w, "description");
		rc = scn_fail(&w, "must be a string");
		goto out_free;
	}
	if ((v = json_object_get(root, "air"))) {
		size_t old = scn_push_key(&w, "air");

		rc = parse_air(&w, v, s);
		scn_pop(&w, old);
		if (rc) {
			goto out_free;
		}
	}
	if ((v = json_object_get(root, "ports"))) {
		size_t old = scn_push_key(&w, "ports");

		rc = parse_ports(&w, v, s);
		scn_pop(&w, old);
		if (rc) {
			goto out_free;
		}
	}
	if ((v = json_object_get(root, "devices")) && (rc = parse_devices(&w, v, s))) {
		goto out_free;
	}
	json_decref(root);
	*out = s;
	return 0;

out_free:
	json_decref(root);
	sim_scenario_free(s);
	return rc;
}

int sim_scenario_load(const char *path, struct sim_scenario **out, char *err, size_t err_cap)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (!f) {
		rc = -errno;
		if (err && err_cap) {
			snprintf(err, err_cap, "%s: %s", path, strerror(errno));
		}
		return rc;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > (64u << 20) || !(nb = realloc(buf, cap))) {
				free(buf);
				fclose(f);
				return cap > (64u << 20) ? -EFBIG : -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			break;
		}
	}
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (!rc) {
		rc = sim_scenario_parse(buf, len, out, err, err_cap);
	}
	free(buf);
	return rc;
}

int sim_scenario_parse_port_arg(const char *arg, char **path, struct sim_pos *pos)
{
	const char *at = arg ? strrchr(arg, '@') : NULL;
	struct sim_pos p;
	char *end;
	double *axes[3] = {&p.x, &p.y, &p.z};
	const char *s;

	if (!at || at == arg || (size_t)(at - arg) > 107) {
		return -EINVAL;
	}
	s = at + 1;
	for (int i = 0; i < 3; i++) {
		errno = 0;
		*axes[i] = strtod(s, &end);
		if (end == s || errno || !isfinite(*axes[i]) || fabs(*axes[i]) > POS_MAX) {
			return -EINVAL;
		}
		if (i < 2 && *end != ',') {
			return -EINVAL;
		}
		s = end + (i < 2);
	}
	if (*end != '\0') {
		return -EINVAL;
	}
	*path = strndup(arg, (size_t)(at - arg));
	if (!*path) {
		return -ENOMEM;
	}
	*pos = p;
	return 0;
}

int sim_scenario_parse_hci_arg(const char *arg, struct sim_scn_hci *out)
{
	const char *at = arg ? strrchr(arg, '@') : NULL;
	struct sim_scn_hci h = {.adv_sets = 4, .latency_ms = 1};
	char buf[160], *tok, *save = NULL, *pos;
	bool have_profile = false, have_latency = false;
	int i = 0, err;

	if (!at || strlen(at + 1) >= sizeof(buf)) {
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", at + 1);
	/* The first three fields are the position: hand them to the port parser. */
	pos = buf;
	for (tok = buf; i < 3 && tok; i++) {
		tok = strchr(tok + (i > 0), ',');
	}
	if (tok) {
		*tok++ = '\0';
	}
	{
		char *full;

		if (asprintf(&full, "%.*s@%s", (int)(at - arg), arg, pos) < 0) {
			return -ENOMEM;
		}
		err = sim_scenario_parse_port_arg(full, &h.path, &h.pos);
		free(full);
		if (err < 0) {
			return err;
		}
	}
	for (char *o = tok ? strtok_r(tok, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v;

		if (!strcmp(o, "legacy") && !have_profile) {
			h.legacy = true;
			h.adv_sets = 0;
			have_profile = true;
		} else if (!strncmp(o, "ext:", 4) && !have_profile && o[4] >= '0' && o[4] <= '9') {
			v = strtoul(o + 4, &end, 10);
			if (*end || v < 1 || v > 16) {
				goto bad;
			}
			h.adv_sets = (unsigned)v;
			have_profile = true;
		} else if (!strncmp(o, "latency=", 8) && !have_latency && o[8] >= '0' &&
			   o[8] <= '9') {
			v = strtoul(o + 8, &end, 10);
			if (*end || v > 1000) {
				goto bad;
			}
			h.latency_ms = (unsigned)v;
			have_latency = true;
		} else {
			goto bad;
		}
	}
	*out = h;
	return 0;
bad:
	free(h.path);
	return -EINVAL;
}
