/*
 * The gateway core (gw.h): start-up (the network is created on first
 * start), the provisioner's own node, the bearer, timers, and the commands
 * that read or change the network and its keys.  Provisioning lives in
 * gw_prov.c, node operations in gw_node.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gateway/gw_int.h"
#include "gateway/log.h"
#include "mesh/crypto.h"

#define SEQ_BLOCK 4096 /* sequence numbers reserved per store write */

uint64_t gw_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

char *gw_hex(const uint8_t *p, size_t len, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

int gw_unhex(const char *s, uint8_t *out, size_t len)
{
	size_t i;

	if (!s || strlen(s) != 2 * len) {
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1) {
			return -EINVAL;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

json_t *gw_time_json(uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[80];

	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ms % 1000));
	return json_string(buf);
}

json_t *gw_node_json(const struct store_node *n)
{
	char uuid[33];

	return json_pack("{s:i, s:s, s:s, s:i, s:s, s:b, s:i, s:i, s:i, s:{s:b, s:b, s:b, s:b}, "
			 "s:o, s:o}",
			 "address", n->unicast, "uuid", gw_hex(n->uuid, 16, uuid), "name", n->name,
			 "elements", n->elements, "state", store_cfg_state_name(n->cfg_state),
			 "excluded", n->excluded, "cid", n->cid, "pid", n->pid, "vid", n->vid,
			 "features", "relay", (n->features & 1) != 0, "proxy",
			 (n->features & 2) != 0, "friend", (n->features & 4) != 0, "low_power",
			 (n->features & 8) != 0, "created_at", gw_time_json(n->created_ms),
			 "updated_at", gw_time_json(n->updated_ms));
}

void gw_publish(struct gw *gw, const char *type, json_t *data)
{
	if (gw->hooks.publish) {
		gw->hooks.publish(gw->hooks.ctx, type, data);
	} else {
		json_decref(data);
	}
}

/* --- The stack's timers ----------------------------------------------------- */

static void on_stack_timer(struct gw_loop *loop, uint64_t id, void *ctx);

static uint64_t stack_deadline(const struct gw *gw)
{
	uint64_t d = mesh_node_next_deadline(gw->node), t;

	t = prov_adv_next_deadline(gw->pa);
	d = t < d ? t : d;
	t = cfg_cli_next_deadline(gw->cfg);
	d = t < d ? t : d;
	t = mesh_cli_next_deadline(gw->onoff);
	d = t < d ? t : d;
	t = rpr_cli_next_deadline(gw->rpr);
	d = t < d ? t : d;
	t = pb_remote_next_deadline(gw->pbr);
	return t < d ? t : d;
}

/* Called after anything that may have changed the stack's next deadline. */
void gw_rearm(struct gw *gw)
{
	uint64_t d = stack_deadline(gw);

	if (gw->timer && gw->timer_when == d) {
		return;
	}
	if (gw->timer) {
		(void)gw_loop_timer_cancel(gw->loop, gw->timer);
		gw->timer = 0;
	}
	if (d != UINT64_MAX) {
		gw->timer = gw_loop_timer_at(gw->loop, d, on_stack_timer, gw);
		gw->timer_when = d;
	}
}

static void on_stack_timer(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct gw *gw = ctx;
	uint64_t now = gw_loop_now(loop);

	(void)id;
	gw->timer = 0;
	mesh_node_tick(gw->node, now);
	prov_adv_tick(gw->pa, now);
	cfg_cli_tick(gw->cfg, now);
	mesh_cli_tick(gw->onoff, now);
	rpr_cli_tick(gw->rpr, now);
	pb_remote_tick(gw->pbr, now);
	gw_rearm(gw);
}

/* --- Stack callbacks -------------------------------------------------------- */

static int node_adv(void *ctx, uint8_t ad_type, const uint8_t *data, size_t len, uint8_t count,
		    uint16_t interval)
{
	struct gw *gw = ctx;

	return gw_bearer_send(gw->bearer, ad_type, data, len, count, interval);
}

static size_t node_dev_keys(void *ctx, uint16_t addr, const struct mesh_utp_key **out, size_t max)
{
	struct gw *gw = ctx;
	uint8_t key[16];
	uint16_t primary;
	struct mesh_utp_key *slot;
	size_t n = 0;

	if (!max || store_node_lookup(gw->st, addr, &primary) != 0) {
		return 0;
	}
	/*
	 * The pointers stay valid until the next lookups overwrite the small
	 * ring; the stack uses them within the call that asked.
	 */
	if (store_node_devkey_get(gw->st, primary, key) == 0) {
		slot = &gw->devkey[gw->devkey_next++ % GW_DEVKEY_CACHE];
		if (mesh_utp_key_init(slot, MESH_APP_IDX_DEV, key, false) == 0) {
			out[n++] = slot;
		}
	}
	/* During a Device Key Refresh the node may already answer under its new key. */
	if (n < max && store_node_devkey_cand_get(gw->st, primary, key) == 0) {
		slot = &gw->devkey[gw->devkey_next++ % GW_DEVKEY_CACHE];
		if (mesh_utp_key_init(slot, MESH_APP_IDX_DEV, key, false) == 0) {
			out[n++] = slot;
		}
	}
	mesh_crypto_wipe(key, sizeof(key));
	return n;
}

static int node_seq_reserve(void *ctx, uint32_t up_to)
{
	struct gw *gw = ctx;
	uint32_t limit;
	int r;

	(void)up_to;
	/* One store write per SEQ_BLOCK numbers: a crash skips, never reuses (store.h). */
	r = store_seq_reserve(gw->st, mesh_net_seq_get(mesh_node_net(gw->node)), SEQ_BLOCK, &limit);
	if (r) {
		log_warnx("cannot persist the sequence number: %s", store_strerror(r));
		return r;
	}
	gw->seq_limit = limit;
	return 0;
}

static void node_changed(void *ctx, unsigned what)
{
	struct gw *gw = ctx;

	if (what & MESH_NODE_CHANGED_IV) {
		uint32_t iv;
		bool upd;

		mesh_net_iv_get(mesh_node_net(gw->node), &iv, &upd);
		/* Leaving an IV Update restarts the sequence numbers (store.h). */
		(void)store_net_iv_set(gw->st, iv, upd, !upd);
		log_info("IV Index %u%s", iv, upd ? " (update in progress)" : "");
	}
}

static void bearer_rx(void *ctx, uint8_t ad_type, const uint8_t *data, size_t len, int8_t rssi)
{
	struct gw *gw = ctx;
	uint64_t now = gw_loop_now(gw->loop);

	switch (ad_type) {
	case MESH_AD_PB_ADV:
		(void)prov_adv_rx(gw->pa, data, len, now);
		break;
	case MESH_AD_BEACON:
		if (len >= 1 && data[0] == 0x00) {
			gw_prov_beacon(gw, data, len, rssi);
		} else {
			(void)mesh_node_rx_adv(gw->node, ad_type, data, len, now);
		}
		break;
	case MESH_AD_MESSAGE:
		(void)mesh_node_rx_adv(gw->node, ad_type, data, len, now);
		break;
	default:
		break;
	}
	gw_rearm(gw);
}

/* --- Start-up ---------------------------------------------------------------- */

static int make_dirs(const char *dir)
{
	char buf[GW_PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s", dir);
	for (p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(buf, 0700);
			*p = '/';
		}
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
		return -errno;
	}
	return 0;
}

/* First start: the mesh UUID, NetKey 0, AppKey 0, IV Index 0, the address ranges. */
static int create_network(struct gw *gw)
{
	struct store_network net = {0};
	uint8_t key[16];
	int r;

	r = mesh_crypto_random(net.uuid, sizeof(net.uuid));
	if (r) {
		return r;
	}
	net.uuid[6] = (uint8_t)((net.uuid[6] & 0x0f) | 0x40); /* RFC 4122 version 4 */
	net.uuid[8] = (uint8_t)((net.uuid[8] & 0x3f) | 0x80);
	net.unicast = gw->conf.address;
	net.elements = 1;
	net.uni_low = gw->conf.uni_low;
	net.uni_high = gw->conf.uni_high;
	net.grp_low = gw->conf.grp_low;
	net.grp_high = gw->conf.grp_high;
	r = store_begin(gw->st);
	if (!r) {
		r = store_net_create(gw->st, &net);
	}
	if (!r) {
		r = mesh_crypto_random(key, sizeof(key));
	}
	if (!r) {
		r = store_netkey_add(gw->st, 0, key);
	}
	if (!r) {
		r = mesh_crypto_random(key, sizeof(key));
	}
	if (!r) {
		r = store_appkey_add(gw->st, 0, 0, key);
	}
	mesh_crypto_wipe(key, sizeof(key));
	if (r) {
		(void)store_rollback(gw->st);
		return r;
	}
	log_info("created a new mesh network");
	return store_commit(gw->st);
}

static int build_stack(struct gw *gw)
{
	struct store_network net;
	struct store_netkey *nk = NULL;
	struct store_appkey *ak = NULL;
	size_t n_nk = 0, n_ak = 0, i;
	struct mesh_node_config nc;
	struct mesh_node_ops ops = {.ctx = gw,
				    .adv_send = node_adv,
				    .dev_keys = node_dev_keys,
				    .changed = node_changed,
				    .seq_reserve = node_seq_reserve};
	static const uint32_t onoff_status[] = {0x8204};
	struct mesh_model_id onoff_cli = {.vendor = false, .id = 0x1001};
	uint8_t own_devkey[16];
	uint64_t now = gw_loop_now(gw->loop);
	int r;

	r = store_net_get(gw->st, &net);
	if (r) {
		return r;
	}
	r = store_netkey_list(gw->st, &nk, &n_nk);
	if (!r) {
		r = store_appkey_list(gw->st, &ak, &n_ak);
	}
	if (r || n_nk == 0) {
		r = r ? r : -ENOENT;
		goto out;
	}
	mesh_node_config_default(&nc);
	nc.crpl = 1024; /* the gateway hears every node it configured */
	nc.relay = false;
	/* Requests must reach nodes many relays away (office.json floors are 7 deep). */
	nc.default_ttl = 10;
	gw->node = mesh_node_new(&nc, &ops, NULL, now);
	if (!gw->node || mesh_acc_elem_add(mesh_node_acc(gw->node), 0x0000) < 0) {
		r = -ENOMEM;
		goto out;
	}
	gw->cfg = cfg_cli_new(gw->node);
	gw->onoff = mesh_cli_new(gw->node, 0, onoff_cli, false, onoff_status, 1, NULL, NULL);
	{
		struct rpr_cli_ops ro = gw_rpr_ops;
		struct pb_remote_ops po = gw_pbr_ops;

		ro.ctx = gw;
		po.ctx = gw;
		gw->rpr = rpr_cli_new(gw->node, &ro);
		gw->pbr = gw->rpr ? pb_remote_new(gw->rpr, NULL, &po, NULL) : NULL;
	}
	if (!gw->cfg || !gw->onoff || !gw->pbr) {
		r = -ENOMEM;
		goto out;
	}
	/* The gateway's own device key secures nothing it uses: a fresh one per start. */
	r = mesh_crypto_random(own_devkey, sizeof(own_devkey));
	if (!r) {
		r = mesh_node_provision(gw->node, net.unicast, own_devkey, nk[0].idx, nk[0].key,
					net.iv_index, net.iv_update ? 0x02 : 0x00, now);
	}
	mesh_crypto_wipe(own_devkey, sizeof(own_devkey));
	gw->primary_net = nk[0].idx;
	for (i = 1; !r && i < n_nk; i++) {
		r = mesh_node_netkey_add(gw->node, nk[i].idx,
					 nk[i].has_old ? nk[i].old_key : nk[i].key);
	}
	for (i = 0; !r && i < n_ak; i++) {
		r = mesh_node_appkey_add(gw->node, ak[i].net_idx, ak[i].idx, ak[i].key);
		if (!r) {
			r = mesh_acc_model_bind(mesh_cli_model(gw->onoff), ak[i].idx);
		}
	}
	if (r) {
		goto out;
	}
	/* Restart at the persisted limit: numbers below it may have been used. */
	r = mesh_net_seq_set(mesh_node_net(gw->node), net.seq_limit);
out:
	store_netkeys_free(nk, n_nk);
	store_appkeys_free(ak, n_ak);
	return r;
}

struct gw *gw_new(const struct gw_conf *conf, struct gw_loop *loop, struct gw_cmdq *q,
		  const struct gw_hooks *hooks, int *err)
{
	struct gw *gw = calloc(1, sizeof(*gw));
	struct gw_bearer_ops bops;
	struct pb_adv_cfg pc = {0};
	struct store_network net;
	int r;

	if (!gw) {
		*err = -ENOMEM;
		return NULL;
	}
	gw->conf = *conf;
	gw->loop = loop;
	gw->q = q;
	if (hooks) {
		gw->hooks = *hooks;
	}
	gw->started_ms = gw_loop_now(loop);
	r = make_dirs(conf->state_dir);
	if (r) {
		log_warnx("cannot create %s: %s", conf->state_dir, strerror(-r));
		goto fail;
	}
	gw->st = store_open(conf->database, conf->master_key, &r);
	if (!gw->st && r == -EKEYREJECTED) {
		log_warnx("inventory %s: %s (%s); put back the master key file this database was "
			  "created with",
			  conf->database, store_strerror(r), conf->master_key);
		goto fail;
	}
	if (!gw->st) {
		log_warnx("inventory %s: %s", conf->database, store_strerror(r));
		goto fail;
	}
	r = store_net_get(gw->st, &net);
	if (r == -ENOENT) {
		r = create_network(gw);
	}
	if (r) {
		log_warnx("inventory: %s", store_strerror(r));
		goto fail;
	}
	{
		size_t n = 0;

		/* Sessions that were running when we stopped cannot resume: give back their
		 * addresses. */
		(void)store_addr_reservations_recover(gw->st, &n);
		(void)store_op_abandon_unfinished(gw->st, &n);
	}
	r = build_stack(gw);
	if (r) {
		log_warnx("cannot build the mesh stack: %s", strerror(-r));
		goto fail;
	}
	pc.max_links = 32;
	{
		struct prov_adv_ops po = gw_prov_ops;

		po.ctx = gw;
		gw->pa = prov_adv_new(&pc, NULL, &po, NULL);
	}
	if (!gw->pa) {
		r = -ENOMEM;
		goto fail;
	}
	bops.ctx = gw;
	bops.rx = bearer_rx;
	if (!strcmp(conf->bearer_kind, "sim")) {
		gw->bearer = gw_bearer_sim_new(loop, conf->bearer_path, conf->bearer_socket,
					       conf->pos, &bops, &r);
	} else {
		/* A controller: opened on the next iteration; a missing one is retried, and
		 * its state shows in /healthz (the daemon stays up). */
		struct gw_bearer_hci_conf hc = {0};

		hc.uart = !strcmp(conf->bearer_kind, "uart");
		hc.dev = conf->hci_dev;
		hc.path = conf->bearer_path;
		hc.baud = conf->uart_baud;
		hc.rtscts = conf->uart_rtscts;
		gw->bearer = gw_bearer_hci_new(loop, &hc, &bops, &r);
	}
	if (!gw->bearer) {
		log_warnx("bearer %s:%s: %s", conf->bearer_kind, conf->bearer_path, strerror(-r));
		goto fail;
	}
	r = gw_cmd_attach(gw);
	if (r) {
		goto fail;
	}
	gw_rearm(gw);
	return gw;
fail:
	*err = r ? r : -EIO;
	gw_free(gw);
	return NULL;
}

void gw_shutdown(struct gw *gw)
{
	gw->stopping = true;
	gw_prov_shutdown(gw);
	/* Requests waiting for a node's answer end now, so their HTTP threads return. */
	(void)cfg_cli_cancel_all(gw->cfg);
	(void)mesh_cli_cancel_all(gw->onoff);
	gw_rearm(gw);
}

bool gw_stopping_done(const struct gw *gw)
{
	return prov_adv_next_deadline(gw->pa) == UINT64_MAX && pb_remote_active(gw->pbr) == 0;
}

void gw_free(struct gw *gw)
{
	if (!gw) {
		return;
	}
	if (gw->timer) {
		(void)gw_loop_timer_cancel(gw->loop, gw->timer);
	}
	if (gw->scan_timer) {
		(void)gw_loop_timer_cancel(gw->loop, gw->scan_timer);
	}
	if (gw->start_retry) {
		(void)gw_loop_timer_cancel(gw->loop, gw->start_retry);
	}
	if (gw->q) {
		gw_cmd_detach(gw);
	}
	gw_bearer_free(gw->bearer);
	prov_adv_free(gw->pa);
	pb_remote_free(gw->pbr);
	rpr_cli_free(gw->rpr);
	cfg_cli_free(gw->cfg);
	mesh_cli_free(gw->onoff);
	mesh_node_free(gw->node);
	store_close(gw->st);
	mesh_crypto_wipe(gw, sizeof(*gw));
	free(gw);
}

void gw_reconfigure(struct gw *gw, const struct gw_conf *conf)
{
	/* Policy and limits apply to new sessions; paths and the bearer need a restart. */
	gw->conf.refuse_cmac = conf->refuse_cmac;
	gw->conf.allow_no_oob = conf->allow_no_oob;
	gw->conf.bind_all = conf->bind_all;
	gw->conf.max_sessions = conf->max_sessions;
}
