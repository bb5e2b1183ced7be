/*
 * The gateway core (core.h): the inventory and the network it holds, the
 * provisioner's own node and its clients, the bearer, the stack's timer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gateway/core.h"
#include "gateway/log.h"
#include "gateway/trust.h"
#include "mesh/crypto.h"

#define SEQ_BLOCK 4096 /* sequence numbers reserved per store write */

uint64_t gw_core_now(const struct gw_core *core)
{
	return gw_loop_now(core->loop);
}

void gw_core_publish(struct gw_core *core, const char *type, json_t *data)
{
	if (core->hooks.publish) {
		core->hooks.publish(core->hooks.ctx, type, data);
	} else {
		json_decref(data);
	}
}

void gw_core_bearer_note(const struct gw_core *core, char *out, size_t cap)
{
	struct gw_bearer_state st;

	out[0] = '\0';
	if (gw_bearer_ready(core->bearer)) {
		return;
	}
	gw_bearer_state(core->bearer, &st);
	snprintf(out, cap, " (bearer %.40s %s%s%.190s)", st.name, gw_bearer_status_name(st.status),
		 st.reason[0] ? ": " : "", st.reason);
}

bool gw_core_radio_gate(struct gw_core *core, struct gw_cmd *c)
{
	/* The whole of a problem's detail: the bearer's reason ends with what to do. */
	char note[256];

	if (gw_bearer_ready(core->bearer)) {
		return true;
	}
	gw_core_send_error(core, -ENETDOWN, note, sizeof(note));
	gw_cmd_complete(core->q, c, -ENETDOWN, NULL, note);
	return false;
}

const char *gw_core_send_error(const struct gw_core *core, int err, char *buf, size_t cap)
{
	char note[240];
	int n;

	/* A short buffer keeps the start of the message: the cause comes first. */
	switch (err) {
	case -ETIMEDOUT:
		n = snprintf(buf, cap, "the node did not answer");
		break;
	case -ENETDOWN:
		gw_core_bearer_note(core, note, sizeof(note));
		n = snprintf(buf, cap, "the radio is not ready%s; try again later", note);
		break;
	default:
		n = snprintf(buf, cap, "cannot send: %s", strerror(-err));
		break;
	}
	if (n < 0 && cap) {
		buf[0] = '\0';
	}
	return buf;
}

/* --- The stack's timers ----------------------------------------------------- */

static void on_stack_timer(struct gw_loop *loop, uint64_t id, void *ctx);

static uint64_t stack_deadline(const struct gw_core *gw)
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
void gw_core_rearm(struct gw_core *gw)
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
	struct gw_core *gw = ctx;
	uint64_t now = gw_loop_now(loop);

	(void)id;
	gw->timer = 0;
	mesh_node_tick(gw->node, now);
	prov_adv_tick(gw->pa, now);
	cfg_cli_tick(gw->cfg, now);
	mesh_cli_tick(gw->onoff, now);
	rpr_cli_tick(gw->rpr, now);
	pb_remote_tick(gw->pbr, now);
	gw_core_rearm(gw);
}

/* --- Stack callbacks -------------------------------------------------------- */

static int node_adv(void *ctx, uint8_t ad_type, const uint8_t *data, size_t len, uint8_t count,
		    uint16_t interval)
{
	struct gw_core *gw = ctx;
	int r = gw_bearer_send(gw->bearer, ad_type, data, len, count, interval);

	if (r == 0) {
		gw_stats_ad(gw->stats.tx, ad_type);
	}
	return r;
}

/* Per-message accounting at debug level (bench/trace_count.mjs counts these lines). */
static void node_traced(void *ctx, unsigned kind, uint16_t src, uint16_t dst, uint32_t opcode)
{
	const char *name = mesh_node_trace_name(kind);

	(void)ctx;
	if (kind < MESH_NODE_TRACE_ACC_TX) {
		/* Its own lower transport PDUs: opcode is the network TTL and SEQ. */
		log_debug("trace %s 0x%04x>0x%04x op 0x0000 ttl %u seq %u", name, src, dst,
			  (unsigned)(opcode >> 24), (unsigned)(opcode & 0xffffff));
	} else if (kind <= MESH_NODE_TRACE_ACC_RX) {
		/* Not the network PDUs heard (NET_RX: every flood around the gateway). */
		log_debug("trace %s 0x%04x>0x%04x op 0x%04x", name, src, dst, (unsigned)opcode);
	}
}

static size_t node_dev_keys(void *ctx, uint16_t addr, const struct mesh_utp_key **out, size_t max)
{
	struct gw_core *gw = ctx;
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

/* Keys from the inventory, then those of procedures being confirmed (ops.dev_keys). */
static size_t all_dev_keys(void *ctx, uint16_t addr, const struct mesh_utp_key **out, size_t max)
{
	struct gw_core *gw = ctx;
	uint8_t keys[2][16];
	size_t n = node_dev_keys(ctx, addr, out, max), k, i;

	if (n >= max || !gw->ops.dev_keys) {
		return n;
	}
	k = gw->ops.dev_keys(gw->ops.dev_keys_ctx, addr, keys, max - n < 2 ? max - n : 2);
	for (i = 0; i < k; i++) {
		struct mesh_utp_key *slot = &gw->devkey[gw->devkey_next++ % GW_DEVKEY_CACHE];

		if (mesh_utp_key_init(slot, MESH_APP_IDX_DEV, keys[i], false) == 0) {
			out[n++] = slot;
		}
	}
	mesh_crypto_wipe(keys, sizeof(keys));
	return n;
}

static int node_seq_reserve(void *ctx, uint32_t up_to)
{
	struct gw_core *gw = ctx;
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
	struct gw_core *gw = ctx;

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
	struct gw_core *gw = ctx;
	uint64_t now = gw_loop_now(gw->loop);

	gw_stats_ad(gw->stats.rx, ad_type);
	switch (ad_type) {
	case MESH_AD_PB_ADV:
		(void)prov_adv_rx(gw->pa, data, len, now);
		break;
	case MESH_AD_BEACON:
		if (len >= 1 && data[0] == 0x00) {
			if (gw->ops.beacon) {
				gw->ops.beacon(gw->ops.beacon_ctx, data, len, rssi);
			}
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
	gw_core_rearm(gw);
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
static int create_network(struct gw_core *gw)
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

static int build_stack(struct gw_core *gw)
{
	struct store_network net;
	struct store_netkey *nk = NULL;
	struct store_appkey *ak = NULL;
	size_t n_nk = 0, n_ak = 0, i;
	struct mesh_node_config nc;
	struct mesh_node_ops ops = {.ctx = gw,
				    .adv_send = node_adv,
				    .dev_keys = all_dev_keys,
				    .changed = node_changed,
				    .seq_reserve = node_seq_reserve,
				    .traced = node_traced};
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
	/*
	 * The TTL of a message to a node whose distance nobody planned (a
	 * commission job sets one per node from its relay plan): the most the
	 * spec allows, so that it reaches as far as relays go.  A flood costs
	 * one repeat per relay whatever the TTL (the network cache drops the
	 * copies), and a short default cuts off the far floors: building.json's
	 * nodes are up to 16 hops away.  With 10, one run of bench/building.mjs
	 * had 79 of its 1,000 nodes fail their Composition Data Get in all four
	 * attempts, on every floor's far end.
	 */
	nc.default_ttl = MESH_TTL_MAX;
	nc.beacon = gw->conf.beacon_secure;
	nc.private_beacon = gw->conf.beacon_private;
	/*
	 * Every session has segmented messages to its device or its Remote
	 * Provisioning Server: the stack's defaults (4 in flight, 32 waiting)
	 * turned sessions past the fourth into "No space left on device".
	 * Sized at start: a reload that raises max_sessions queues more.
	 */
	mesh_node_config_sessions(&nc, gw->conf.max_sessions);
	gw->node = mesh_node_new(&nc, &ops, NULL, now);
	if (!gw->node || mesh_acc_elem_add(mesh_node_acc(gw->node), 0x0000) < 0) {
		r = -ENOMEM;
		goto out;
	}
	gw->cfg = cfg_cli_new(gw->node);
	gw->onoff = mesh_cli_new(gw->node, 0, onoff_cli, false, onoff_status, 1, NULL, NULL);
	{
		gw->rpr = rpr_cli_new(gw->node, &gw->ops.rpr);
		gw->pbr = gw->rpr ? pb_remote_new(gw->rpr, NULL, &gw->ops.pb_remote, NULL) : NULL;
	}
	if (!gw->cfg || !gw->onoff || !gw->pbr) {
		r = -ENOMEM;
		goto out;
	}
	/* The gateway's own device key secures nothing it uses: a fresh one per start. */
	r = mesh_crypto_random(own_devkey, sizeof(own_devkey));
	/*
	 * A NetKey in a Key Refresh comes back in its phase (§3.11.4): the old
	 * key first, the new one as its update, then phase 2 if it was
	 * reached; AppKeys bound to it likewise get old key, then update.
	 */
	if (!r) {
		r = mesh_node_provision(gw->node, net.unicast, own_devkey, nk[0].idx,
					nk[0].has_old ? nk[0].old_key : nk[0].key, net.iv_index,
					net.iv_update ? 0x02 : 0x00, now);
	}
	mesh_crypto_wipe(own_devkey, sizeof(own_devkey));
	gw->primary_net = nk[0].idx;
	for (i = 1; !r && i < n_nk; i++) {
		r = mesh_node_netkey_add(gw->node, nk[i].idx,
					 nk[i].has_old ? nk[i].old_key : nk[i].key);
	}
	for (i = 0; !r && i < n_nk; i++) {
		if (nk[i].has_old) {
			r = mesh_node_netkey_update(gw->node, nk[i].idx, nk[i].key);
		}
	}
	for (i = 0; !r && i < n_ak; i++) {
		r = mesh_node_appkey_add(gw->node, ak[i].net_idx, ak[i].idx,
					 ak[i].has_old ? ak[i].old_key : ak[i].key);
		if (!r && ak[i].has_old) {
			r = mesh_node_appkey_update(gw->node, ak[i].net_idx, ak[i].idx, ak[i].key);
		}
		if (!r) {
			r = mesh_acc_model_bind(mesh_cli_model(gw->onoff), ak[i].idx);
		}
	}
	/* Phase 2 after the AppKey updates: those are accepted in phase 1 only. */
	for (i = 0; !r && i < n_nk; i++) {
		if (nk[i].has_old && nk[i].phase == STORE_KR_PHASE2) {
			r = mesh_node_kr_transition(gw->node, nk[i].idx, 2);
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

/* Why the inventory did not open, and what the operator does about it. */
static void open_failed(const struct gw_conf *conf, int r, const char *why)
{
	if (r == -EKEYREJECTED) {
		log_warnx("inventory %s: %s (%s); put back the master key file this database was "
			  "created with",
			  conf->database, store_strerror(r), conf->master_key);
	} else if (r == -EUCLEAN) {
		/* No repair in place: a damaged inventory may have lost keys, a backup has not. */
		log_warnx(
		    "inventory %s: %s (%s); restore the last backup (made with `meshgw backup "
		    "FILE`): `meshgw restore FILE` with the same -f, which keeps the damaged "
		    "file aside",
		    conf->database, store_strerror(r), why);
	} else {
		log_warnx("inventory %s: %s%s%s", conf->database, store_strerror(r),
			  why[0] ? ": " : "", why);
	}
}

int gw_core_open(struct gw_core *gw, const struct gw_conf *conf, struct gw_loop *loop,
		 struct gw_cmdq *q, const struct gw_hooks *hooks)
{
	struct store_network net;
	int r;

	memset(gw, 0, sizeof(*gw));
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
		return r;
	}
	{
		char why[256];
		struct store_open_opts o = {
		    .integrity_full = conf->integrity_full, .why = why, .why_cap = sizeof(why)};

		gw->st = store_open_ex(conf->database, conf->master_key, &o, &r);
		if (!gw->st) {
			open_failed(conf, r, why);
			return r ? r : -EIO;
		}
		log_info("inventory %s: %s passed", conf->database,
			 conf->integrity_full ? "integrity_check" : "quick_check");
		/* Fingerprints are kept in the node rows: showing a node unseals nothing. */
		r = store_set_keyprint(gw->st, mesh_crypto_key_fingerprint);
		if (r < 0) {
			log_warnx("cannot record DevKey fingerprints: %s", store_strerror(r));
			return r;
		}
		if (r > 0) {
			log_info("DevKey fingerprints recorded for %d nodes", r);
		}
	}
	{
		char why[GW_PATH_MAX + 64];

		/* A configured trust store that does not load stops the start: nothing would
		 * pass a certificate check, and the operator would learn it device by device. */
		r = gw_trust_reload(gw, conf->cbp_trust, why, sizeof(why));
		if (r) {
			log_warnx("%s", why);
			return r;
		}
	}
	r = store_net_get(gw->st, &net);
	if (r == -ENOENT) {
		r = create_network(gw);
	}
	if (r) {
		log_warnx("inventory: %s", store_strerror(r));
	}
	return r;
}

int gw_core_start(struct gw_core *gw, const struct gw_core_stack_ops *ops)
{
	const struct gw_conf *conf = &gw->conf;
	struct gw_bearer_ops bops;
	struct pb_adv_cfg pc = {0};
	int r;

	gw->ops = *ops;
	r = build_stack(gw);
	if (r) {
		log_warnx("cannot build the mesh stack: %s", strerror(-r));
		return r;
	}
	pc.max_links = 32;
	pc.open_timeout_ms = conf->link_open_timeout_s * 1000;
	gw->pa = prov_adv_new(&pc, NULL, &gw->ops.prov_adv, NULL);
	if (!gw->pa) {
		return -ENOMEM;
	}
	bops.ctx = gw;
	bops.rx = bearer_rx;
	if (!strcmp(conf->bearer_kind, "sim")) {
		gw->bearer = gw_bearer_sim_new(gw->loop, conf->bearer_path, conf->bearer_socket,
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
		gw->bearer = gw_bearer_hci_new(gw->loop, &hc, &bops, &r);
	}
	if (!gw->bearer) {
		log_warnx("bearer %s:%s: %s", conf->bearer_kind, conf->bearer_path, strerror(-r));
		return r ? r : -EIO;
	}
	gw_core_rearm(gw);
	return 0;
}

void gw_core_close(struct gw_core *gw)
{
	if (gw->timer) {
		(void)gw_loop_timer_cancel(gw->loop, gw->timer);
	}
	gw_bearer_free(gw->bearer);
	prov_adv_free(gw->pa);
	pb_remote_free(gw->pbr);
	rpr_cli_free(gw->rpr);
	cfg_cli_free(gw->cfg);
	mesh_cli_free(gw->onoff);
	mesh_node_free(gw->node);
	store_close(gw->st);
	cert_trust_free(gw->trust);
	mesh_crypto_wipe(gw, sizeof(*gw));
}
