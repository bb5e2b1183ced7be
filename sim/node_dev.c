#include "sim/node_dev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/cfg_srv.h"
#include "mesh/comp.h"
#include "mesh/crypto.h"
#include "mesh/node.h"
#include "mesh/onoff_srv.h"
#include "mesh/prov_adv.h"
#include "mesh/unprov_beacon.h"

#define UBEACON_INTERVAL_MS 3000 /* Unprovisioned Device beacon period */
#define PA_LINGER_MS 10000       /* keep PB-ADV after success, for the Link Close */
#define ONOFF_MAX SIM_SCN_ELEMENTS_MAX

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
	/* Provisioned */
	struct mesh_node *node;
	struct cfg_srv *srv;
	struct onoff_srv *onoff[ONOFF_MAX];
	bool reset_pending;
	uint8_t page128[MESH_COMP_DATA_MAX];
	size_t page128_len;
};

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

static void display(struct ndev *d, const char *what, const char *v)
{
	char text[SIM_WORLD_TEXT_MAX + 1];

	snprintf(text, sizeof(text), "%s %s", what, v);
	sim_world_display(d->w, d->dev, text, d->now * 1000);
}

/* --- Provisioned node ------------------------------------------------------ */

static int node_adv(void *ctx, uint8_t ad_type, const uint8_t *data, size_t len, uint8_t count,
		    uint16_t interval)
{
	struct ndev *d = ctx;

	return sim_world_send(d->w, d->dev, ad_type, data, len, count, interval, d->now * 1000);
}

static void on_reset(void *ctx)
{
	struct ndev *d = ctx;

	/* The node is still inside its own call chain: drop it on the next tick. */
	d->reset_pending = true;
}

static int build_comp(const struct sim_scn_comp *c, uint8_t *out, size_t cap, size_t *len)
{
	struct mesh_comp *m = calloc(1, sizeof(*m));
	size_t e, i;
	int r = 0;

	if (!m) {
		return -ENOMEM;
	}
	m->cid = c->cid;
	m->pid = c->pid;
	m->vid = c->vid;
	m->crpl = c->crpl;
	m->features = c->features;
	for (e = 0; e < c->n_elements && !r; e++) {
		r = mesh_comp_add_elem(m, c->elements[e].loc);
		for (i = 0; i < c->elements[e].n_sig && !r; i++) {
			r = mesh_comp_add_sig(m, c->elements[e].sig[i]);
		}
		for (i = 0; i < c->elements[e].n_vnd && !r; i++) {
			r = mesh_comp_add_vnd(m, c->elements[e].vnd[i].cid,
					      c->elements[e].vnd[i].id);
		}
	}
	if (!r) {
		r = mesh_comp_build(m, out, cap, len);
	}
	free(m);
	return r;
}

static void node_free(struct ndev *d)
{
	size_t i;

	for (i = 0; i < ONOFF_MAX; i++) {
		onoff_srv_free(d->onoff[i]);
		d->onoff[i] = NULL;
	}
	cfg_srv_free(d->srv);
	d->srv = NULL;
	mesh_node_free(d->node);
	d->node = NULL;
}

static int node_make(struct ndev *d, const struct prov_result *res)
{
	const struct sim_scn_comp *c = &d->cfg->comp;
	struct mesh_node_config nc;
	struct mesh_node_ops ops = {.ctx = d, .adv_send = node_adv};
	struct cfg_srv_config sc = {0};
	struct cfg_srv_ops so = {.ctx = d, .reset = on_reset};
	struct mesh_acc *acc;
	size_t e, i;
	int r = -ENOMEM;

	mesh_node_config_default(&nc);
	nc.crpl = c->crpl ? c->crpl : 32;
	nc.relay = d->cfg->relay;
	nc.beacon = d->cfg->beacon;
	d->node = mesh_node_new(&nc, &ops, &d->rng, d->now);
	if (!d->node) {
		return -ENOMEM;
	}
	acc = mesh_node_acc(d->node);
	for (e = 0; e < c->n_elements; e++) {
		if (mesh_acc_elem_add(acc, c->elements[e].loc) < 0) {
			goto fail;
		}
	}
	sc.cid = c->cid;
	sc.pid = c->pid;
	sc.vid = c->vid;
	sc.crpl = nc.crpl;
	sc.features = c->features;
	if (d->page128_len) {
		sc.page128 = d->page128;
		sc.page128_len = d->page128_len;
	}
	d->srv = cfg_srv_new(d->node, &sc, &so);
	if (!d->srv) {
		goto fail;
	}
	for (e = 0; e < c->n_elements; e++) {
		const struct sim_scn_element *el = &c->elements[e];

		for (i = 0; i < el->n_sig; i++) {
			struct mesh_model_id id = {.vendor = false, .id = el->sig[i]};

			if (el->sig[i] == 0x0000) {
				continue; /* the Config Server, registered above */
			}
			if (el->sig[i] == 0x1000 && e < ONOFF_MAX) {
				d->onoff[e] = onoff_srv_new(d->node, (uint8_t)e, NULL, NULL);
				if (!d->onoff[e]) {
					goto fail;
				}
				continue;
			}
			/*
			 * Models this simulation does not act on are present in the
			 * composition (bindable, subscribable) but handle no opcode.
			 */
			if (mesh_acc_model_add(acc, (uint8_t)e, id, 0, NULL, 0, NULL, NULL)) {
				goto fail;
			}
		}
		for (i = 0; i < el->n_vnd; i++) {
			struct mesh_model_id id = {
			    .vendor = true, .cid = el->vnd[i].cid, .id = el->vnd[i].id};

			if (mesh_acc_model_add(acc, (uint8_t)e, id, 0, NULL, 0, NULL, NULL)) {
				goto fail;
			}
		}
	}
	r = mesh_node_provision(d->node, res->data.unicast, res->dev_key, res->data.net_idx,
				res->data.net_key, res->data.iv_index, res->data.flags, d->now);
	if (!r) {
		return 0;
	}
fail:
	node_free(d);
	return r;
}

/* --- Unprovisioned device -------------------------------------------------- */

static void pa_adv(void *ctx, const uint8_t *data, size_t len)
{
	struct ndev *d = ctx;

	/* PB-ADV PDUs go out once; PB-ADV itself retransmits what is not acknowledged. */
	(void)sim_world_send(d->w, d->dev, MESH_AD_PB_ADV, data, len, 1, 0, d->now * 1000);
}

static void pa_output(void *ctx, uint32_t h, uint8_t action, const char *value)
{
	static const char *const what[] = {"blinks %s times", "beeps %s times", "vibrates %s times",
					   "shows number %s", "shows text %s"};
	struct ndev *d = ctx;

	(void)h;
	display(d, action < 5 ? what[action] : "shows %s", value);
}

static void pa_input(void *ctx, uint32_t h, uint8_t action, uint8_t size)
{
	static const char *const what[] = {"push", "twist", "number", "text"};
	struct ndev *d = ctx;

	(void)size;
	d->input_h = h;
	d->input_wait = true;
	display(d, "waits for input:", what[action & 3]);
}

static void pa_done(void *ctx, uint32_t h, const struct prov_result *res)
{
	struct ndev *d = ctx;

	(void)h;
	d->input_wait = false;
	if (node_make(d, res) == 0) {
		/* Keep PB-ADV a little longer so the provisioner's Link Close is seen. */
		d->pa_retire = d->now + PA_LINGER_MS;
		d->next_ubeacon = UINT64_MAX;
	}
}

static void pa_failed(void *ctx, uint32_t h, int err, uint8_t prov_err)
{
	struct ndev *d = ctx;
	char v[32];

	(void)h;
	d->input_wait = false;
	snprintf(v, sizeof(v), "(%d/0x%02x)", err, prov_err);
	display(d, "provisioning failed", v);
}

static int uri_data(const char *uri, uint8_t *out, size_t cap, size_t *len)
{
	/* URI scheme names become one code octet (Bluetooth Assigned Numbers). */
	static const struct {
		const char *scheme;
		uint8_t code;
	} schemes[] = {{"https:", 0x17}, {"http:", 0x16}};
	size_t i, n = strlen(uri);

	for (i = 0; i < 2; i++) {
		size_t sl = strlen(schemes[i].scheme);

		if (strncmp(uri, schemes[i].scheme, sl) == 0) {
			if (n - sl + 1 > cap) {
				return -EINVAL;
			}
			out[0] = schemes[i].code;
			memcpy(out + 1, uri + sl, n - sl);
			*len = n - sl + 1;
			return 0;
		}
	}
	if (n > cap) {
		return -EINVAL;
	}
	memcpy(out, uri, n);
	*len = n;
	return 0;
}

static int unprov_start(struct ndev *d)
{
	const struct sim_scn_device *c = d->cfg;
	struct pb_adv_cfg pc = {0};
	struct prov_cfg dc = {0};
	struct prov_adv_ops ops = {
	    .ctx = d,
	    .adv_send = pa_adv,
	    .output_oob = pa_output,
	    .input_oob_request = pa_input,
	    .done = pa_done,
	    .failed = pa_failed,
	};
	struct unprov_beacon b = {0};
	int r;

	pc.uuid = c->uuid;
	pc.rng = d->rng;
	dc.role = PROV_ROLE_DEVICE;
	dc.caps.elements = (uint8_t)c->comp.n_elements;
	dc.caps.algorithms = c->algorithms;
	dc.caps.pub_key_type = 0;
	if (c->static_oob_len) {
		dc.caps.oob_type = PROV_OOB_TYPE_STATIC;
		memcpy(dc.static_oob, c->static_oob, c->static_oob_len);
		dc.static_oob_len = (uint8_t)c->static_oob_len;
	}
	dc.caps.output_size = c->output_size;
	dc.caps.output_actions = c->output_actions;
	dc.caps.input_size = c->input_size;
	dc.caps.input_actions = c->input_actions;
	d->pa = prov_adv_new(&pc, &dc, &ops, &d->rng);
	mesh_crypto_wipe(&dc, sizeof(dc));
	if (!d->pa) {
		return -ENOMEM;
	}
	d->pa_retire = UINT64_MAX;
	memcpy(b.uuid, c->uuid, 16);
	b.oob_info = c->oob_info;
	if (c->uri) {
		uint8_t ud[256];
		size_t ul;

		r = uri_data(c->uri, ud, sizeof(ud), &ul);
		if (!r) {
			r = unprov_beacon_uri_hash(ud, ul, b.uri_hash);
		}
		if (r) {
			return r;
		}
		b.has_uri_hash = true;
	}
	r = unprov_beacon_encode(&b, d->ubeacon, sizeof(d->ubeacon), &d->ubeacon_len);
	if (r) {
		return r;
	}
	/* Spread the first beacons of a building over the period. */
	d->next_ubeacon = d->now + (d->seed % UBEACON_INTERVAL_MS);
	return 0;
}

/* --- Device kind ------------------------------------------------------------ */

static void ndev_free(void *p)
{
	struct ndev *d = p;

	if (!d) {
		return;
	}
	node_free(d);
	prov_adv_free(d->pa);
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
	if (cfg->has_comp128 &&
	    build_comp(&cfg->comp128, d->page128, sizeof(d->page128), &d->page128_len)) {
		free(d);
		return -EINVAL;
	}
	r = unprov_start(d);
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

	d->now = rx->time_us / 1000;
	if (rx->ad_type == MESH_AD_PB_ADV && d->pa) {
		(void)prov_adv_rx(d->pa, rx->data, rx->len, d->now);
	} else if (d->node && (rx->ad_type == MESH_AD_MESSAGE || rx->ad_type == MESH_AD_BEACON)) {
		(void)mesh_node_rx_adv(d->node, rx->ad_type, rx->data, rx->len, d->now);
	}
}

static uint64_t ndev_deadline(void *p)
{
	struct ndev *d = p;
	uint64_t t = d->next_ubeacon;

	if (d->reset_pending) {
		return d->now * 1000;
	}
	if (d->pa) {
		uint64_t a = prov_adv_next_deadline(d->pa);

		t = a < t ? a : t;
		t = d->pa_retire < t ? d->pa_retire : t;
	}
	if (d->node) {
		uint64_t a = mesh_node_next_deadline(d->node);

		t = a < t ? a : t;
	}
	return t == UINT64_MAX ? UINT64_MAX : t * 1000;
}

static void ndev_tick(void *p, uint64_t now_us)
{
	struct ndev *d = p;

	d->now = now_us / 1000;
	if (d->reset_pending) {
		/* Node Reset: forget everything and be a new unprovisioned device (§4.4.1.2.x). */
		d->reset_pending = false;
		node_free(d);
		prov_adv_free(d->pa);
		d->pa = NULL;
		if (unprov_start(d) == 0) {
			d->next_ubeacon = d->now;
		}
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
	if (!d->node && d->next_ubeacon <= d->now) {
		(void)sim_world_send(d->w, d->dev, MESH_AD_BEACON, d->ubeacon, d->ubeacon_len, 1, 0,
				     d->now * 1000);
		d->next_ubeacon = d->now + UBEACON_INTERVAL_MS;
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
		snprintf(out, cap, "%s addr 0x%04x", d->node ? "provisioned" : "unprovisioned",
			 d->node ? mesh_node_primary(d->node) : 0);
		return 0;
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
	if (strcmp(args, "reset") == 0) {
		d->reset_pending = true;
		snprintf(out, cap, "ok");
		return 0;
	}
	snprintf(out, cap, "error: commands: status, input VALUE, onoff, comp128 HEX, reset");
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
