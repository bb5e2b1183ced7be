/*
 * The objects of a provisioned node of the node kind (node_dev_int.h),
 * built from the device's current composition: the mesh node, its Config
 * Server (whose Node Reset drops the node at the next tick), a Generic
 * OnOff Server on every element that lists model 0x1000, the Remote
 * Provisioning Server in its place on element 0 (node_rpr.c), and the
 * other models of the composition, present but silent.
 */
#include "sim/node_dev_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int ndev_build_comp(const struct sim_scn_comp *c, uint8_t *out, size_t cap, size_t *len)
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

/* The scenario's composition, parsed (the form every other composition has). */
int ndev_scenario_comp(const struct sim_scn_device *cfg, struct mesh_comp *out)
{
	uint8_t page[MESH_COMP_DATA_MAX];
	size_t len;
	int r = ndev_build_comp(&cfg->comp, page, sizeof(page), &len);

	return r ? r : mesh_comp_parse(page, len, out);
}

void ndev_parts_free(struct nparts *p)
{
	size_t i;

	rpr_srv_free(p->rpr);
	p->rpr = NULL;
	for (i = 0; i < ONOFF_MAX; i++) {
		onoff_srv_free(p->onoff[i]);
		p->onoff[i] = NULL;
	}
	cfg_srv_free(p->srv);
	p->srv = NULL;
	mesh_node_free(p->node);
	p->node = NULL;
}

void ndev_node_free(struct ndev *d)
{
	struct nparts p = {.node = d->node, .srv = d->srv, .rpr = d->rpr};

	memcpy(p.onoff, d->onoff, sizeof(p.onoff));
	ndev_parts_free(&p);
	d->node = NULL;
	d->srv = NULL;
	d->rpr = NULL;
	d->refresh_pending = false;
	memset(d->onoff, 0, sizeof(d->onoff));
}

/* Replace the device's node (if any) by p; p is emptied. */
void ndev_parts_install(struct ndev *d, struct nparts *p)
{
	ndev_node_free(d);
	d->node = p->node;
	d->srv = p->srv;
	d->rpr = p->rpr;
	memcpy(d->onoff, p->onoff, sizeof(d->onoff));
	memset(p, 0, sizeof(*p));
}

static int node_seq_reserve(void *ctx, uint32_t up_to)
{
	struct ndev *d = ctx;

	/*
	 * The simulated flash: numbers below up_to may be in use from now on,
	 * so a saved state starts the next run at or above it.
	 */
	d->seq_reserved = up_to;
	return 0;
}

/*
 * Debugging aid: with MESHSIM_TRACE set in the environment ("all", or a
 * comma-separated list of device names), every PDU those devices originate,
 * accept and relay, and every access message they send or receive, is
 * written to stderr as one line: the device's clock (s), its name, the kind,
 * source>destination, and TTL and SEQ (network kinds) or the opcode.
 */
static bool trace_wanted(const char *name)
{
	const char *list = getenv("MESHSIM_TRACE");
	size_t n = strlen(name);

	if (!list || !*list) {
		return false;
	}
	if (!strcmp(list, "all")) {
		return true;
	}
	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0')) {
			return true;
		}
	}
	return false;
}

static void node_traced(void *ctx, unsigned kind, uint16_t src, uint16_t dst, uint32_t opcode)
{
	const char *name = mesh_node_trace_name(kind);
	const struct ndev *d = ctx;

	if (!name) {
		return;
	}
	if (kind == MESH_NODE_TRACE_ACC_TX || kind == MESH_NODE_TRACE_ACC_RX) {
		fprintf(stderr, "%.3f %s trace %s 0x%04x>0x%04x op 0x%04x\n", (double)d->now / 1e3,
			d->cfg->name, name, src, dst, (unsigned)opcode);
	} else {
		fprintf(stderr, "%.3f %s trace %s 0x%04x>0x%04x ttl %u seq %u\n",
			(double)d->now / 1e3, d->cfg->name, name, src, dst,
			(unsigned)(opcode >> 24), (unsigned)(opcode & 0xffffff));
	}
}

/* An unprovisioned node with the current composition's elements and models in p. */
int ndev_parts_build(struct ndev *d, struct nparts *p)
{
	const struct mesh_comp *c = d->comp;
	struct mesh_node_config nc;
	struct mesh_node_ops ops = {
	    .ctx = d, .adv_send = node_adv, .seq_reserve = node_seq_reserve};
	struct cfg_srv_config sc = {0};
	struct cfg_srv_ops so = {.ctx = d, .reset = on_reset};
	struct mesh_acc *acc;
	bool rpr = ndev_rpr_wanted(d);
	size_t e, i;

	memset(p, 0, sizeof(*p));
	mesh_node_config_default(&nc);
	nc.crpl = c->crpl ? c->crpl : 32;
	nc.relay = d->cfg->relay && (c->features & MESH_FEAT_RELAY);
	nc.beacon = d->cfg->beacon;
	nc.private_beacon = d->cfg->private_beacon;
	if (trace_wanted(d->cfg->name)) {
		ops.traced = node_traced;
	}
	p->node = mesh_node_new(&nc, &ops, &d->rng, d->now);
	if (!p->node) {
		return -ENOMEM;
	}
	acc = mesh_node_acc(p->node);
	for (e = 0; e < c->n_elems; e++) {
		if (mesh_acc_elem_add(acc, c->elems[e].loc) < 0) {
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
	p->srv = cfg_srv_new(p->node, &sc, &so);
	if (!p->srv) {
		goto fail;
	}
	for (e = 0; e < c->n_elems; e++) {
		const struct mesh_comp_elem *el = &c->elems[e];

		for (i = 0; i < el->num_s; i++) {
			uint16_t sig = c->sig[el->sig_off + i];
			struct mesh_model_id id = {.vendor = false, .id = sig};

			if (sig == 0x0000) {
				continue; /* the Config Server, registered above */
			}
			if (sig == 0x1000 && e < ONOFF_MAX) {
				p->onoff[e] = onoff_srv_new(p->node, (uint8_t)e, NULL, NULL);
				if (!p->onoff[e]) {
					goto fail;
				}
				continue;
			}
			/* In its place in the list, so that page 0 keeps the scenario's order. */
			if (sig == RPR_MODEL && e == 0 && rpr) {
				if (ndev_rpr_make(d, p)) {
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
		/* rpr_server without model 0x0004 listed: the server brings its model. */
		if (e == 0 && rpr && !p->rpr && ndev_rpr_make(d, p)) {
			goto fail;
		}
		for (i = 0; i < el->num_v; i++) {
			const struct mesh_comp_vnd *v = &c->vnd[el->vnd_off + i];
			struct mesh_model_id id = {.vendor = true, .cid = v->cid, .id = v->id};

			if (mesh_acc_model_add(acc, (uint8_t)e, id, 0, NULL, 0, NULL, NULL)) {
				goto fail;
			}
		}
	}
	return 0;
fail:
	ndev_parts_free(p);
	return -ENOMEM;
}

int ndev_node_make(struct ndev *d, const struct prov_result *res)
{
	struct nparts p;
	int r = ndev_parts_build(d, &p);

	if (r) {
		return r;
	}
	r = mesh_node_provision(p.node, res->data.unicast, res->dev_key, res->data.net_idx,
				res->data.net_key, res->data.iv_index, res->data.flags, d->now);
	if (r) {
		ndev_parts_free(&p);
		return r;
	}
	ndev_parts_install(d, &p);
	d->seq_reserved = 0;
	return 0;
}
