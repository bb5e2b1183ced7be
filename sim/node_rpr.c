/*
 * The Remote Provisioning Server of the node kind (node_dev_int.h), run
 * when the scenario entry says "rpr_server": mesh/rpr_srv.h on element 0,
 * fed with the beacons and AD structures the device hears (their RSSI
 * included), relaying PB-ADV links to unprovisioned devices in its range.
 * It also takes the three node refreshes (NPPI, §3.11.8) for the node
 * itself; a Composition Refresh is carried out by node_dev.c at the next
 * tick.
 */
#include "sim/node_dev_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/rpr_msg.h"

/*
 * Other AD structures of an unprovisioned device go out right after its
 * beacon (as its scan response would); a server attributes them to the
 * beacon heard last from the same signal strength within this window.
 */
#define AD_ATTRIB_MS 50

static void rpr_adv(void *ctx, const uint8_t *data, size_t len)
{
	struct ndev *d = ctx;

	/* As for the device side: PB-ADV retransmits by itself, one transmission each. */
	(void)sim_world_send(d->w, d->dev, MESH_AD_PB_ADV, data, len, 1, 0, d->now * 1000);
}

static int rpr_nppi_check(void *ctx, uint8_t procedure, uint8_t *elements)
{
	struct ndev *d = ctx;
	struct mesh_comp *c;
	int r = 0;

	if (procedure == RPR_NPPI_DEVKEY_REFRESH) {
		return 0;
	}
	/*
	 * Composition Refresh needs a new composition to move to.  Address
	 * Refresh moves to page 128 too when one is pending (the node comes
	 * back at its new address with the new composition and element
	 * count, as after a firmware update); without one it keeps its own.
	 */
	if (!d->page128_len) {
		return procedure == RPR_NPPI_COMPOSITION_REFRESH ? -ENOENT : 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	r = mesh_comp_parse(d->page128, d->page128_len, c);
	if (!r && c->n_elems > 255) {
		r = -ERANGE;
	}
	if (!r) {
		*elements = (uint8_t)c->n_elems;
	}
	free(c);
	return r;
}

static void rpr_nppi_applied(void *ctx, uint8_t procedure, uint16_t primary)
{
	struct ndev *d = ctx;

	(void)primary;
	/*
	 * Device Key Refresh: the node holds the candidate and promotes it
	 * itself.  Address Refresh: mesh_node_readdress() already moved the
	 * node; status, saved state and sim_node_addr() all read the address
	 * from the node.  Composition Refresh, and Address Refresh with a page
	 * 128 pending: the node must be rebuilt with page 128's elements and
	 * models, which cannot happen inside this call into it: the next tick
	 * does it (comp_refresh() in node_dev.c), at the node's current address.
	 */
	if (procedure == RPR_NPPI_COMPOSITION_REFRESH ||
	    (procedure == RPR_NPPI_ADDRESS_REFRESH && d->page128_len)) {
		d->refresh_pending = true;
	}
}

/* The AD structures a server reports on an Extended Scan of itself: name, URI. */
static size_t self_adv(const struct ndev *d, uint8_t *out, size_t cap)
{
	size_t n = strlen(d->cfg->name), k = 0;

	if (n > cap / 2 - 2) {
		n = cap / 2 - 2;
	}
	out[k++] = (uint8_t)(n + 1);
	out[k++] = AD_NAME;
	memcpy(out + k, d->cfg->name, n);
	k += n;
	if (d->cfg->uri && strlen(d->cfg->uri) + 2 <= cap - k) {
		n = strlen(d->cfg->uri);
		out[k++] = (uint8_t)(n + 1);
		out[k++] = AD_URI;
		memcpy(out + k, d->cfg->uri, n);
		k += n;
	}
	return k;
}

int ndev_rpr_make(struct ndev *d, struct nparts *p)
{
	uint8_t adv[RPR_SRV_SELF_ADV_MAX];
	struct rpr_srv_config rc = {.max_items = RPR_SRV_ITEMS_MAX, .active_scan = true};
	struct rpr_srv_ops ro = {.ctx = d,
				 .adv_send = rpr_adv,
				 .nppi_check = rpr_nppi_check,
				 .nppi_applied = rpr_nppi_applied};

	memcpy(rc.uuid, d->cfg->uuid, 16);
	rc.self_adv = adv;
	rc.self_adv_len = self_adv(d, adv, sizeof(adv));
	/* A node refresh offers No OOB with the device's algorithms (nobody is at the node). */
	rc.nppi.caps.algorithms = d->cfg->algorithms;
	p->rpr = rpr_srv_new(p->node, &rc, &ro, &d->rng);
	return p->rpr ? 0 : -ENOMEM;
}

/*
 * Does the device run a Remote Provisioning Server?  The scenario's
 * composition always gets one when rpr_server is set (the model is added
 * when the scenario does not list it); a composition that came from page
 * 128 is taken as it is, since page 0 must describe the node exactly.
 */
bool ndev_rpr_wanted(const struct ndev *d)
{
	const struct mesh_comp *c = d->comp;
	size_t i;

	if (!d->cfg->rpr_server) {
		return false;
	}
	if (!d->page0_len) {
		return true;
	}
	for (i = 0; i < c->elems[0].num_s; i++) {
		if (c->sig[c->elems[0].sig_off + i] == RPR_MODEL) {
			return true;
		}
	}
	return false;
}

/* What a Remote Provisioning Server hears: scanning input and its PB-ADV links. */
void ndev_rpr_rx(struct ndev *d, const struct sim_air_rx *rx)
{
	struct unprov_beacon b;

	if (rx->ad_type == MESH_AD_PB_ADV) {
		(void)rpr_srv_pb_adv_rx(d->rpr, rx->data, rx->len, d->now);
	} else if (rx->ad_type == MESH_AD_BEACON) {
		if (rx->len && rx->data[0] == UNPROV_BEACON_TYPE &&
		    unprov_beacon_decode(rx->data, rx->len, &b) == 0) {
			memcpy(d->ub_uuid, b.uuid, 16);
			d->ub_rssi = rx->rssi;
			d->ub_ms = d->now;
			d->ub_heard = true;
		}
		(void)rpr_srv_beacon_rx(d->rpr, rx->data, rx->len, rx->rssi, d->now);
	} else if (rx->ad_type != MESH_AD_MESSAGE && d->ub_heard && rx->rssi == d->ub_rssi &&
		   d->now - d->ub_ms <= AD_ATTRIB_MS) {
		/*
		 * The air does not say who sent an AD structure; the beacon just
		 * heard from the same strength is, in a simulation where every
		 * advertiser has its own distance, the same device.
		 */
		(void)rpr_srv_ad_rx(d->rpr, d->ub_uuid, rx->ad_type, rx->data, rx->len, d->now);
	}
}
