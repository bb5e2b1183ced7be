/*
 * The node kind while unprovisioned (node_dev_int.h): it sends
 * Unprovisioned Device beacons (with the URI hash when the scenario gives a
 * URI) followed by its name and URI, as a scan response would carry them,
 * and is provisioned over PB-ADV as the device, with the authentication
 * its scenario entry offers.  Output OOB values are shown through
 * sim_world_display(); Input OOB values arrive by the "input" control
 * command (node_dev.c).  Success installs the node (node_parts.c).
 */
#include "sim/node_dev_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define UBEACON_INTERVAL_MS 3000 /* Unprovisioned Device beacon period */
#define PA_LINGER_MS 10000       /* keep PB-ADV after success, for the Link Close */

static void display(struct ndev *d, const char *what, const char *v)
{
	char text[SIM_WORLD_TEXT_MAX + 1];

	snprintf(text, sizeof(text), "%s %s", what, v);
	sim_world_display(d->w, d->dev, text, d->now * 1000);
}

static void pa_adv(void *ctx, const uint8_t *data, size_t len)
{
	struct ndev *d = ctx;

	/* PB-ADV PDUs go out once; PB-ADV itself retransmits what is not acknowledged. */
	(void)sim_world_send(d->w, d->dev, MESH_AD_PB_ADV, data, len, 1, 0, d->now * 1000);
}

static void pa_output(void *ctx, uint32_t h, uint8_t action, const char *value)
{
	/* As a person reads it off the device: "blinks 3", "shows 0427". */
	static const char *const what[] = {"blinks", "beeps", "vibrates", "shows", "shows"};
	struct ndev *d = ctx;

	(void)h;
	display(d, action < 5 ? what[action] : "shows", value);
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
	if (ndev_node_make(d, res) == 0) {
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

int ndev_unprov_start(struct ndev *d)
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
	dc.caps.elements = (uint8_t)d->comp->n_elems;
	dc.caps.algorithms = c->algorithms;
	dc.caps.pub_key_type = 0;
	if (c->public_key_oob) {
		/* The provisioner reads the public key out of band instead of over the link. */
		dc.caps.pub_key_type = PROV_PUB_KEY_TYPE_OOB;
		dc.has_priv_key = true;
		memcpy(dc.priv_key, c->private_key, sizeof(dc.priv_key));
	}
	if (c->static_oob_len) {
		dc.caps.oob_type = PROV_OOB_TYPE_STATIC;
		memcpy(dc.static_oob, c->static_oob, c->static_oob_len);
		dc.static_oob_len = (uint8_t)c->static_oob_len;
	}
	dc.caps.output_size = c->output_size;
	dc.caps.output_actions = c->output_actions;
	dc.caps.input_size = c->input_size;
	dc.caps.input_actions = c->input_actions;
	if (c->n_cert) {
		/*
		 * Certificate-based provisioning: the chain as records 0x0001 (the
		 * device certificate), 0x0002.. (the rest), and the certified key
		 * pair as the OOB public key the provisioner takes from it (§5.4.2.1).
		 */
		for (size_t i = 0; i < c->n_cert; i++) {
			d->recs[i] = (struct prov_record){(uint16_t)(PROV_REC_ID_DEV_CERT + i),
							  c->cert_der[i], c->cert_len[i]};
		}
		dc.records = d->recs;
		dc.n_records = c->n_cert;
		dc.has_priv_key = true;
		memcpy(dc.priv_key, c->cert_priv, sizeof(dc.priv_key));
		dc.caps.pub_key_type = PROV_PUB_KEY_TYPE_OOB;
	}
	d->pa = prov_adv_new(&pc, &dc, &ops, &d->rng);
	mesh_crypto_wipe(&dc, sizeof(dc));
	if (!d->pa) {
		return -ENOMEM;
	}
	d->pa_retire = UINT64_MAX;
	memcpy(b.uuid, c->uuid, 16);
	/* OOB Information bits 7/8: certificate-based provisioning, provisioning records. */
	b.oob_info = c->n_cert ? c->oob_info | 0x0180u : c->oob_info;
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

/* The device's other AD structures, sent with each beacon as a scan response would be. */
static void unprov_ads(struct ndev *d)
{
	uint8_t ud[256];
	size_t n = strlen(d->cfg->name), ul;

	if (n) {
		(void)sim_world_send(d->w, d->dev, AD_NAME, (const uint8_t *)d->cfg->name,
				     n < SIM_AIR_DATA_MAX ? n : SIM_AIR_DATA_MAX, 1, 0,
				     d->now * 1000);
	}
	if (d->cfg->uri && uri_data(d->cfg->uri, ud, sizeof(ud), &ul) == 0 &&
	    ul <= SIM_AIR_DATA_MAX) {
		(void)sim_world_send(d->w, d->dev, AD_URI, ud, ul, 1, 0, d->now * 1000);
	}
}

void ndev_unprov_beacon(struct ndev *d)
{
	(void)sim_world_send(d->w, d->dev, MESH_AD_BEACON, d->ubeacon, d->ubeacon_len, 1, 0,
			     d->now * 1000);
	unprov_ads(d);
	d->next_ubeacon = d->now + UBEACON_INTERVAL_MS;
}
