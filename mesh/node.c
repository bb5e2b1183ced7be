/*
 * The layers of one mesh node, composed (see node.h).
 *
 * Receive: advertising data -> mesh_net_recv() (relay if asked) ->
 * mesh_ltp_rx() -> reassembled Upper Transport PDU -> mesh_utp_decrypt()
 * with this node's key store -> mesh_acc_dispatch() to the models.
 * Send: access payload -> mesh_utp_encrypt() -> mesh_ltp_send() ->
 * mesh_net_send() -> ops->adv_send().
 */
#include "mesh/node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/beacon.h"
#include "mesh/crypto.h"
#include "mesh/rpl.h"

struct appkey {
	bool used;
	bool has_new; /* Key Refresh: a new key was given by AppKey Update */
	uint16_t net_idx;
	struct mesh_utp_key cur; /* idx, aid, key */
	struct mesh_utp_key upd;
};

/*
 * The NetKeys as given, kept beside mesh_net (which holds only what it
 * derives from them) so that an owner can store them (§3.8.x: a node keeps
 * its NetKeys across power cycles).  The phase lives in mesh_net alone.
 */
struct netkey_raw {
	bool used;
	bool has_new; /* a NetKey Update gave new_key */
	uint16_t idx;
	uint8_t key[16];
	uint8_t new_key[16];
};

/* A message waiting for the lower transport; allocated to fit its parameters. */
struct pending {
	struct pending *next;     /* in order of arrival */
	struct mesh_node_msg msg; /* params/label/dev_key point into the buffers below */
	uint8_t label[16];
	uint8_t dev_key[16];
	uint8_t params[];
};

struct dst_ttl {
	uint16_t first; /* primary address */
	uint8_t elements;
	uint8_t ttl;
};

struct mesh_node {
	struct mesh_node_config cfg;
	struct mesh_node_ops ops;
	struct mesh_rng rng;
	struct mesh_net *net;
	struct mesh_rpl *rpl;
	struct mesh_ltp *ltp;
	struct mesh_acc *acc;
	bool provisioned;
	uint16_t primary;
	/* Own device key, [0] current and [1] the Device Key Refresh candidate. */
	struct mesh_utp_key devkey[2];
	bool has_devkey, has_cand;
	struct appkey app[MESH_NODE_APPKEYS_MAX];
	struct netkey_raw nk[MESH_NET_SUBNETS_MAX];
	uint8_t labels[MESH_NODE_LABELS_MAX][16];
	uint16_t label_addr[MESH_NODE_LABELS_MAX];
	size_t n_labels;
	/* Queue of mesh_node_send(): head is the oldest, tail the newest. */
	struct pending *pend_head, *pend_tail;
	size_t n_pend;
	uint64_t next_beacon;
	struct mesh_node_stats stats;
	/* TTL per destination node (mesh_node_dst_ttl_set), sorted by first address. */
	struct dst_ttl *dst_ttl;
	size_t n_dst_ttl, cap_dst_ttl;
	/* Scratch for utp key callbacks: candidates handed out by pointer. */
	const struct mesh_utp_key *cand_remote[MESH_UTP_CAND_MAX];
	uint64_t now; /* time of the call being served, for callbacks */
};

void mesh_node_config_default(struct mesh_node_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->crpl = 64;
	/* 7, as most stacks ship it: enough for the 7-relay-hop floors of office.json. */
	cfg->default_ttl = 7;
	cfg->relay = false;
	cfg->beacon = true;
	/* 2 transmissions, 20 ms apart (Count 1, Steps 1): §4.2.19 packing. */
	cfg->net_xmit = (1 << 3) | 1;
	cfg->relay_xmit = (1 << 3) | 1;
	cfg->beacon_interval_ms = 10000;
	cfg->pending_max = MESH_NODE_PENDING_DEFAULT;
	mesh_ltp_config_default(&cfg->ltp);
}

static unsigned at_least(unsigned have, unsigned want, unsigned max)
{
	want = want < max ? want : max;
	return want > have ? want : have;
}

void mesh_node_config_sessions(struct mesh_node_config *cfg, unsigned sessions)
{
	/* Bounded first: sessions times 32 must not wrap. */
	sessions = sessions < UINT8_MAX ? sessions : UINT8_MAX;
	cfg->ltp.tx_slots = (uint8_t)at_least(cfg->ltp.tx_slots, 2 * sessions, UINT8_MAX);
	cfg->ltp.rx_slots = (uint8_t)at_least(cfg->ltp.rx_slots, 2 * sessions, UINT8_MAX);
	cfg->pending_max = (uint16_t)at_least(cfg->pending_max, 32 * sessions, UINT16_MAX);
}

/* --- Raw NetKey copies ----------------------------------------------------- */

static struct netkey_raw *nk_find(struct mesh_node *n, uint16_t idx)
{
	size_t i;

	for (i = 0; i < MESH_NET_SUBNETS_MAX; i++) {
		if (n->nk[i].used && n->nk[i].idx == idx) {
			return &n->nk[i];
		}
	}
	return NULL;
}

/* Remember a NetKey that mesh_net just accepted (a repeated add changes nothing). */
static void nk_add(struct mesh_node *n, uint16_t idx, const uint8_t key[16])
{
	size_t i;

	if (nk_find(n, idx)) {
		return;
	}
	for (i = 0; i < MESH_NET_SUBNETS_MAX; i++) {
		if (!n->nk[i].used) {
			n->nk[i].used = true;
			n->nk[i].idx = idx;
			memcpy(n->nk[i].key, key, 16);
			return;
		}
	}
}

/*
 * Once a Key Refresh has returned to phase 0 (Config Key Refresh Phase Set
 * or a Secure Network Beacon, §3.11.4.x), the new key is the only key.
 */
static void nk_sync(struct mesh_node *n, uint16_t idx)
{
	struct netkey_raw *k = nk_find(n, idx);

	if (k && k->has_new && mesh_net_subnet_kr_phase(n->net, idx) == 0) {
		memcpy(k->key, k->new_key, 16);
		mesh_crypto_wipe(k->new_key, 16);
		k->has_new = false;
	}
}

/* --- Key store callbacks for upper transport ----------------------------- */

static size_t cb_app_keys(void *ctx, uint16_t net_idx, uint8_t aid, const struct mesh_utp_key **out,
			  size_t max)
{
	struct mesh_node *n = ctx;
	size_t i, k = 0;

	for (i = 0; i < MESH_NODE_APPKEYS_MAX && k < max; i++) {
		struct appkey *a = &n->app[i];

		if (!a->used || a->net_idx != net_idx) {
			continue;
		}
		if (a->cur.aid == aid) {
			out[k++] = &a->cur;
		}
		if (a->has_new && a->upd.aid == aid && k < max) {
			out[k++] = &a->upd;
		}
	}
	return k;
}

static size_t own_dev_keys(struct mesh_node *n, const struct mesh_utp_key **out, size_t max)
{
	size_t k = 0;

	if (n->has_devkey && k < max) {
		out[k++] = &n->devkey[0];
	}
	if (n->has_cand && k < max) {
		out[k++] = &n->devkey[1];
	}
	return k;
}

static size_t cb_dev_keys(void *ctx, uint16_t src, uint16_t dst, const struct mesh_utp_key **out,
			  size_t max)
{
	struct mesh_node *n = ctx;
	size_t k = 0;

	/*
	 * A message to one of our elements may be secured with our own device
	 * key (we are its server) or, for a provisioner, with the sender's
	 * device key (a reply to our request).  Own keys come first so that
	 * dev_cand 1 means "our candidate" whenever we have one.
	 */
	if (mesh_net_is_local(n->net, dst)) {
		k = own_dev_keys(n, out, max);
	}
	if (n->ops.dev_keys && k < max) {
		k += n->ops.dev_keys(n->ops.ctx, src, out + k, max - k);
	}
	return k > max ? max : k;
}

static size_t cb_labels(void *ctx, uint16_t virt, const uint8_t **out, size_t max)
{
	struct mesh_node *n = ctx;
	size_t i, k = 0;

	for (i = 0; i < n->n_labels && k < max; i++) {
		if (n->label_addr[i] == virt) {
			out[k++] = n->labels[i];
		}
	}
	return k;
}

/* --- Lower transport callbacks ------------------------------------------- */

static int cb_net_send(void *ctx, const struct mesh_net_tx *tx)
{
	struct mesh_node *n = ctx;
	uint8_t pdu[MESH_NET_PDU_MAX];
	size_t len;
	uint8_t count;
	uint16_t interval;
	int r;

	r = mesh_net_send(n->net, tx, pdu, &len);
	if (r < 0) {
		return r;
	}
	mesh_net_xmit_unpack(n->cfg.net_xmit, &count, &interval);
	n->stats.net_tx++;
	if (n->ops.traced && tx->tpdu_len) {
		/* First octet: SEG bit 7; for control PDUs opcode 0 is a Segment Ack (§3.5.2.3). */
		bool seg = tx->tpdu[0] & 0x80;
		unsigned kind = !tx->ctl ? (seg ? MESH_NODE_TRACE_SEG : MESH_NODE_TRACE_UNSEG)
				: seg    ? MESH_NODE_TRACE_SEG
				: (tx->tpdu[0] & 0x7f) == 0 ? MESH_NODE_TRACE_ACK
							    : MESH_NODE_TRACE_CTL;

		n->ops.traced(n->ops.ctx, kind, tx->src, tx->dst,
			      MESH_NODE_TRACE_NETINFO(tx->ttl, tx->seq));
	}
	return n->ops.adv_send(n->ops.ctx, MESH_AD_MESSAGE, pdu, len, (uint8_t)(count + 1),
			       interval);
}

static int cb_seq_alloc(void *ctx, uint16_t src, uint32_t *seq)
{
	struct mesh_node *n = ctx;

	(void)src;
	return mesh_net_seq_next(n->net, seq);
}

static uint8_t cb_ack_ttl(void *ctx, uint16_t dst)
{
	return mesh_node_dst_ttl(ctx, dst);
}

static int cb_seq_reserve(void *ctx, uint32_t up_to)
{
	struct mesh_node *n = ctx;

	return n->ops.seq_reserve ? n->ops.seq_reserve(n->ops.ctx, up_to) : 0;
}

static void flush_pending(struct mesh_node *n, uint64_t now);
static void pend_remove(struct mesh_node *n, struct pending *prev, struct pending *p);

static void cb_tx_done(void *ctx, uint32_t handle, int status)
{
	struct mesh_node *n = ctx;

	/* The freed slot goes to the queue first: a send from ops->sent queues behind it. */
	flush_pending(n, n->now);
	if (n->ops.sent) {
		n->ops.sent(n->ops.ctx, handle, status);
	}
}

static void promote_candidate(struct mesh_node *n)
{
	n->devkey[0] = n->devkey[1];
	mesh_crypto_wipe(&n->devkey[1], sizeof(n->devkey[1]));
	n->has_cand = false;
	if (n->ops.changed) {
		n->ops.changed(n->ops.ctx, MESH_NODE_CHANGED_DEVKEY);
	}
}

static int cb_recv(void *ctx, const struct mesh_utp_msg *msg)
{
	struct mesh_node *n = ctx;
	struct mesh_utp_keys keys = {
	    .ctx = n, .app_keys = cb_app_keys, .dev_keys = cb_dev_keys, .labels = cb_labels};
	uint8_t buf[MESH_UTP_PDU_MAX];
	struct mesh_acc_msg am;
	int r;

	if (msg->ctl) {
		/*
		 * Transport control messages other than Segment Acknowledgments
		 * (Heartbeat, friendship) carry no state this node acts on; they
		 * are authentic because the network layer verified them.
		 */
		return 0;
	}
	r = mesh_utp_decrypt(&keys, msg, buf, sizeof(buf), &am);
	if (r < 0) {
		n->stats.acc_rx_bad++;
		return r;
	}
	n->stats.acc_rx++;
	if (n->ops.traced) {
		n->ops.traced(n->ops.ctx, MESH_NODE_TRACE_ACC_RX, am.src, am.dst, am.opcode);
	}
	/*
	 * Device Key Refresh (§3.6.4.2.x NPPI): the candidate becomes the device
	 * key as soon as a message secured with it arrives.
	 */
	if (am.app_idx == MESH_APP_IDX_DEV && mesh_net_is_local(n->net, am.dst) &&
	    am.dev_cand == 1 && n->has_cand && n->has_devkey) {
		promote_candidate(n);
		am.dev_cand = 0;
	}
	(void)mesh_acc_dispatch(n->acc, &am, NULL);
	mesh_crypto_wipe(buf, sizeof(buf));
	/* Authenticated, whatever the models made of it: update the RPL. */
	return 0;
}

/* --- Life cycle ----------------------------------------------------------- */

struct mesh_node *mesh_node_new(const struct mesh_node_config *cfg, const struct mesh_node_ops *ops,
				const struct mesh_rng *rng, uint64_t now_ms)
{
	struct mesh_node *n = calloc(1, sizeof(*n));
	struct mesh_ltp_ops lops = {0};

	if (!n) {
		return NULL;
	}
	n->cfg = *cfg;
	n->ops = *ops;
	if (rng) {
		n->rng = *rng;
	}
	n->net = mesh_net_new(now_ms);
	n->rpl = mesh_rpl_new(cfg->crpl ? cfg->crpl : 1);
	n->acc = mesh_acc_new();
	lops.ctx = n;
	lops.net_send = cb_net_send;
	lops.seq_alloc = cb_seq_alloc;
	lops.recv = cb_recv;
	lops.tx_done = cb_tx_done;
	lops.is_local = NULL;
	lops.ack_ttl = cb_ack_ttl;
	n->ltp = n->rpl ? mesh_ltp_new(&cfg->ltp, &lops, n->rpl) : NULL;
	if (!n->net || !n->rpl || !n->acc || !n->ltp) {
		mesh_node_free(n);
		return NULL;
	}
	mesh_net_relay_set(n->net, cfg->relay);
	(void)mesh_net_default_ttl_set(n->net, cfg->default_ttl);
	mesh_net_seq_store_set(n->net, cb_seq_reserve, n, 1024);
	n->next_beacon = UINT64_MAX;
	n->now = now_ms;
	return n;
}

void mesh_node_free(struct mesh_node *n)
{
	if (!n) {
		return;
	}
	mesh_ltp_free(n->ltp);
	mesh_rpl_free(n->rpl);
	mesh_acc_free(n->acc);
	mesh_net_free(n->net);
	free(n->dst_ttl);
	while (n->pend_head) {
		pend_remove(n, NULL, n->pend_head);
	}
	mesh_crypto_wipe(n, sizeof(*n));
	free(n);
}

/* Index of the entry for primary address first, or where it would go. */
static size_t dst_ttl_find(const struct mesh_node *n, uint16_t first)
{
	size_t lo = 0, hi = n->n_dst_ttl;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (n->dst_ttl[mid].first < first) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

int mesh_node_dst_ttl_set(struct mesh_node *n, uint16_t primary, uint8_t elements, uint8_t ttl)
{
	size_t i;

	if (!mesh_addr_is_unicast(primary) || elements == 0 ||
	    !mesh_addr_is_unicast((uint16_t)(primary + elements - 1u)) || ttl == 1 ||
	    (ttl > 0x7f && ttl != MESH_TTL_DEFAULT)) {
		return -EINVAL;
	}
	i = dst_ttl_find(n, primary);
	if (i < n->n_dst_ttl && n->dst_ttl[i].first == primary) {
		if (ttl == MESH_TTL_DEFAULT) {
			memmove(&n->dst_ttl[i], &n->dst_ttl[i + 1],
				(n->n_dst_ttl - i - 1) * sizeof(*n->dst_ttl));
			n->n_dst_ttl--;
			return 0;
		}
		n->dst_ttl[i].elements = elements;
		n->dst_ttl[i].ttl = ttl;
		return 0;
	}
	if (ttl == MESH_TTL_DEFAULT) {
		return 0;
	}
	if (n->n_dst_ttl == n->cap_dst_ttl) {
		size_t cap = n->cap_dst_ttl ? 2 * n->cap_dst_ttl : 16;
		struct dst_ttl *t = realloc(n->dst_ttl, cap * sizeof(*t));

		if (!t) {
			return -ENOMEM;
		}
		n->dst_ttl = t;
		n->cap_dst_ttl = cap;
	}
	memmove(&n->dst_ttl[i + 1], &n->dst_ttl[i], (n->n_dst_ttl - i) * sizeof(*n->dst_ttl));
	n->dst_ttl[i] = (struct dst_ttl){primary, elements, ttl};
	n->n_dst_ttl++;
	return 0;
}

uint8_t mesh_node_dst_ttl(const struct mesh_node *n, uint16_t dst)
{
	size_t i;

	if (mesh_addr_is_unicast(dst)) {
		/* The entry with the highest first address <= dst, if dst is one of its elements.
		 */
		i = dst_ttl_find(n, (uint16_t)(dst + 1u));
		if (i > 0 && dst - n->dst_ttl[i - 1].first < n->dst_ttl[i - 1].elements) {
			return n->dst_ttl[i - 1].ttl;
		}
	}
	return n->cfg.default_ttl;
}

struct mesh_net *mesh_node_net(struct mesh_node *n)
{
	return n->net;
}

struct mesh_acc *mesh_node_acc(struct mesh_node *n)
{
	return n->acc;
}

const struct mesh_node_config *mesh_node_config(const struct mesh_node *n)
{
	return &n->cfg;
}

static uint64_t beacon_phase(struct mesh_node *n, uint64_t now)
{
	uint8_t r[2] = {0};

	/* A random first beacon spreads many nodes' beacons over the interval. */
	(void)mesh_rng_fill(&n->rng, r, sizeof(r));
	if (!n->cfg.beacon_interval_ms) {
		return UINT64_MAX;
	}
	return now + 100 + ((uint32_t)(r[0] << 8 | r[1]) % n->cfg.beacon_interval_ms);
}

/* Does the node send beacons of either kind? */
static bool beacons_on(const struct mesh_node *n)
{
	return n->cfg.beacon || n->cfg.private_beacon;
}

/* Start or stop the periodic beacons after a change of the Beacon or Private Beacon state. */
static void beacon_schedule(struct mesh_node *n)
{
	if (!beacons_on(n)) {
		n->next_beacon = UINT64_MAX;
	} else if (n->provisioned && n->next_beacon == UINT64_MAX) {
		n->next_beacon = beacon_phase(n, n->now);
	}
}

int mesh_node_provision(struct mesh_node *n, uint16_t primary, const uint8_t dev_key[16],
			uint16_t net_idx, const uint8_t net_key[16], uint32_t iv_index,
			uint8_t flags, uint64_t now_ms)
{
	size_t elems = mesh_acc_elem_count(n->acc);
	int r;

	if (n->provisioned || !mesh_addr_is_unicast(primary) || elems == 0 ||
	    primary + elems - 1 > 0x7fff) {
		return -EINVAL;
	}
	r = mesh_net_addr_set(n->net, primary, (uint8_t)elems);
	if (!r) {
		r = mesh_acc_set_primary(n->acc, primary);
	}
	if (!r) {
		r = mesh_net_subnet_add(n->net, net_idx, net_key);
	}
	if (!r) {
		r = mesh_net_iv_set(n->net, iv_index, (flags & 0x02) != 0, now_ms);
	}
	/*
	 * With the Key Refresh flag set (§5.4.2.5) the key given is already the
	 * new one and the node knows no other, so it simply uses it.
	 */
	if (r) {
		return r;
	}
	r = mesh_utp_key_init(&n->devkey[0], MESH_APP_IDX_DEV, dev_key, false);
	if (r) {
		return r;
	}
	n->has_devkey = true;
	nk_add(n, net_idx, net_key);
	n->primary = primary;
	n->provisioned = true;
	n->next_beacon = beacons_on(n) ? beacon_phase(n, now_ms) : UINT64_MAX;
	return 0;
}

bool mesh_node_provisioned(const struct mesh_node *n)
{
	return n->provisioned;
}

uint16_t mesh_node_primary(const struct mesh_node *n)
{
	return n->primary;
}

/* --- Configuration states -------------------------------------------------- */

int mesh_node_default_ttl_set(struct mesh_node *n, uint8_t ttl)
{
	int r;

	if (ttl == 1 || ttl > MESH_TTL_MAX) {
		return -EINVAL;
	}
	r = mesh_net_default_ttl_set(n->net, ttl);
	if (!r) {
		n->cfg.default_ttl = ttl;
	}
	return r;
}

void mesh_node_relay_set(struct mesh_node *n, bool on, uint8_t relay_xmit)
{
	n->cfg.relay = on;
	n->cfg.relay_xmit = relay_xmit;
	mesh_net_relay_set(n->net, on);
}

void mesh_node_beacon_set(struct mesh_node *n, bool on)
{
	n->cfg.beacon = on;
	beacon_schedule(n);
}

void mesh_node_private_beacon_set(struct mesh_node *n, bool on)
{
	n->cfg.private_beacon = on;
	beacon_schedule(n);
}

void mesh_node_net_xmit_set(struct mesh_node *n, uint8_t net_xmit)
{
	n->cfg.net_xmit = net_xmit;
}

/* --- Keys ------------------------------------------------------------------ */

int mesh_node_netkey_add(struct mesh_node *n, uint16_t net_idx, const uint8_t key[16])
{
	int r = mesh_net_subnet_add(n->net, net_idx, key);

	if (!r) {
		nk_add(n, net_idx, key);
	}
	return r;
}

int mesh_node_netkey_update(struct mesh_node *n, uint16_t net_idx, const uint8_t key[16])
{
	struct netkey_raw *k;
	int r;

	nk_sync(n, net_idx);
	r = mesh_net_subnet_update(n->net, net_idx, key);
	k = r ? NULL : nk_find(n, net_idx);
	if (k) {
		memcpy(k->new_key, key, 16);
		k->has_new = true;
	}
	return r;
}

int mesh_node_netkey_del(struct mesh_node *n, uint16_t net_idx)
{
	struct netkey_raw *k;
	size_t i;
	int r = mesh_net_subnet_del(n->net, net_idx);

	if (r) {
		return r;
	}
	k = nk_find(n, net_idx);
	if (k) {
		mesh_crypto_wipe(k, sizeof(*k));
	}
	/* Deleting a NetKey deletes the AppKeys bound to it (§4.2.4). */
	for (i = 0; i < MESH_NODE_APPKEYS_MAX; i++) {
		if (n->app[i].used && n->app[i].net_idx == net_idx) {
			(void)mesh_acc_unbind_all(n->acc, n->app[i].cur.idx);
			mesh_crypto_wipe(&n->app[i], sizeof(n->app[i]));
		}
	}
	return 0;
}

/* After a Key Refresh ends, AppKeys updated during it keep only the new key. */
static void appkeys_finish_kr(struct mesh_node *n, uint16_t net_idx)
{
	size_t i;

	for (i = 0; i < MESH_NODE_APPKEYS_MAX; i++) {
		struct appkey *a = &n->app[i];

		if (a->used && a->net_idx == net_idx && a->has_new) {
			a->cur = a->upd;
			mesh_crypto_wipe(&a->upd, sizeof(a->upd));
			a->has_new = false;
		}
	}
}

int mesh_node_kr_transition(struct mesh_node *n, uint16_t net_idx, uint8_t transition)
{
	int r;

	if (transition != 2 && transition != 3) {
		return -EINVAL;
	}
	r = mesh_net_subnet_kr_set(n->net, net_idx, transition);
	if (!r && mesh_net_subnet_kr_phase(n->net, net_idx) == 0) {
		appkeys_finish_kr(n, net_idx);
		nk_sync(n, net_idx);
	}
	return r;
}

static struct appkey *appkey_find(struct mesh_node *n, uint16_t app_idx)
{
	size_t i;

	for (i = 0; i < MESH_NODE_APPKEYS_MAX; i++) {
		if (n->app[i].used && n->app[i].cur.idx == app_idx) {
			return &n->app[i];
		}
	}
	return NULL;
}

int mesh_node_appkey_add(struct mesh_node *n, uint16_t net_idx, uint16_t app_idx,
			 const uint8_t key[16])
{
	struct appkey *a = appkey_find(n, app_idx);
	size_t i;
	int r;

	if (app_idx > MESH_KEY_IDX_MAX) {
		return -EINVAL;
	}
	if (mesh_net_subnet_kr_phase(n->net, net_idx) < 0) {
		return -ENOENT;
	}
	if (a) {
		/* Adding the same key again is idempotent (§4.4.1.2.x AppKey Add). */
		if (a->net_idx == net_idx && mesh_crypto_equal(a->cur.key, key, 16)) {
			return 0;
		}
		return -EEXIST;
	}
	for (i = 0; i < MESH_NODE_APPKEYS_MAX && n->app[i].used; i++) {
	}
	if (i == MESH_NODE_APPKEYS_MAX) {
		return -ENOSPC;
	}
	a = &n->app[i];
	r = mesh_utp_key_init(&a->cur, app_idx, key, true);
	if (r) {
		return r;
	}
	a->used = true;
	a->net_idx = net_idx;
	a->has_new = false;
	return 0;
}

int mesh_node_appkey_update(struct mesh_node *n, uint16_t net_idx, uint16_t app_idx,
			    const uint8_t key[16])
{
	struct appkey *a = appkey_find(n, app_idx);
	int r;

	if (!a) {
		return -ENOENT;
	}
	if (a->net_idx != net_idx) {
		return -EEXIST;
	}
	/* Only in the first phase of a Key Refresh of the bound NetKey (§4.2.5). */
	if (mesh_net_subnet_kr_phase(n->net, net_idx) != 1) {
		return -EBUSY;
	}
	r = mesh_utp_key_init(&a->upd, app_idx, key, true);
	if (!r) {
		a->has_new = true;
	}
	return r;
}

int mesh_node_appkey_del(struct mesh_node *n, uint16_t net_idx, uint16_t app_idx)
{
	struct appkey *a = appkey_find(n, app_idx);

	if (!a) {
		return -ENOENT;
	}
	if (a->net_idx != net_idx) {
		return -EEXIST;
	}
	(void)mesh_acc_unbind_all(n->acc, app_idx);
	mesh_crypto_wipe(a, sizeof(*a));
	return 0;
}

int mesh_node_appkey_net(const struct mesh_node *n, uint16_t app_idx)
{
	size_t i;

	for (i = 0; i < MESH_NODE_APPKEYS_MAX; i++) {
		if (n->app[i].used && n->app[i].cur.idx == app_idx) {
			return n->app[i].net_idx;
		}
	}
	return -ENOENT;
}

size_t mesh_node_appkeys(const struct mesh_node *n, uint16_t net_idx, uint16_t *out, size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < MESH_NODE_APPKEYS_MAX; i++) {
		if (n->app[i].used && n->app[i].net_idx == net_idx) {
			if (k < max) {
				out[k] = n->app[i].cur.idx;
			}
			k++;
		}
	}
	return k;
}

void mesh_node_devkey_set(struct mesh_node *n, const uint8_t key[16])
{
	if (mesh_utp_key_init(&n->devkey[0], MESH_APP_IDX_DEV, key, false) == 0) {
		n->has_devkey = true;
	}
}

void mesh_node_devkey_candidate(struct mesh_node *n, const uint8_t *key)
{
	if (!key) {
		mesh_crypto_wipe(&n->devkey[1], sizeof(n->devkey[1]));
		n->has_cand = false;
		return;
	}
	if (mesh_utp_key_init(&n->devkey[1], MESH_APP_IDX_DEV, key, false) == 0) {
		n->has_cand = true;
	}
}

int mesh_node_readdress(struct mesh_node *n, uint16_t primary, const uint8_t dev_key[16])
{
	size_t elems = mesh_acc_elem_count(n->acc);
	struct mesh_utp_key k;
	int r;

	if (!n->provisioned || !mesh_addr_is_unicast(primary) || primary + elems - 1 > 0x7fff) {
		return -EINVAL;
	}
	r = mesh_utp_key_init(&k, MESH_APP_IDX_DEV, dev_key, false);
	if (r) {
		return r;
	}
	/* Both setters validate the same range, so neither can fail after the check above. */
	r = mesh_net_addr_set(n->net, primary, (uint8_t)elems);
	if (!r) {
		r = mesh_acc_set_primary(n->acc, primary);
	}
	if (r) {
		(void)mesh_net_addr_set(n->net, n->primary, (uint8_t)elems);
		mesh_crypto_wipe(&k, sizeof(k));
		return r;
	}
	n->primary = primary;
	n->devkey[0] = k;
	mesh_crypto_wipe(&k, sizeof(k));
	mesh_crypto_wipe(&n->devkey[1], sizeof(n->devkey[1]));
	n->has_cand = false;
	return 0;
}

int mesh_node_label_add(struct mesh_node *n, const uint8_t label[16])
{
	uint16_t addr;
	size_t i;
	int r;

	for (i = 0; i < n->n_labels; i++) {
		if (memcmp(n->labels[i], label, 16) == 0) {
			return 0;
		}
	}
	if (n->n_labels == MESH_NODE_LABELS_MAX) {
		return -ENOSPC;
	}
	r = mesh_crypto_virtual_addr(label, &addr);
	if (r) {
		return r;
	}
	memcpy(n->labels[n->n_labels], label, 16);
	n->label_addr[n->n_labels++] = addr;
	return 0;
}

/* --- Stored state ------------------------------------------------------------ */

size_t mesh_node_netkey_count(const struct mesh_node *n)
{
	return mesh_net_subnet_count(n->net);
}

int mesh_node_netkey_at(const struct mesh_node *n, size_t pos, struct mesh_node_netkey *out)
{
	const struct netkey_raw *k = NULL;
	uint16_t idx;
	size_t i;
	int phase;

	if (mesh_net_subnet_at(n->net, pos, &idx) != 0) {
		return -ENOENT;
	}
	for (i = 0; i < MESH_NET_SUBNETS_MAX && !k; i++) {
		if (n->nk[i].used && n->nk[i].idx == idx) {
			k = &n->nk[i];
		}
	}
	phase = mesh_net_subnet_kr_phase(n->net, idx);
	if (!k || phase < 0) {
		return -ENOENT;
	}
	memset(out, 0, sizeof(*out));
	out->net_idx = idx;
	out->phase = (uint8_t)phase;
	/* A refresh that ended without passing through nk_sync() still ends on the new key. */
	memcpy(out->key, k->has_new && phase == 0 ? k->new_key : k->key, 16);
	if (phase != 0 && k->has_new) {
		memcpy(out->new_key, k->new_key, 16);
	}
	return 0;
}

size_t mesh_node_appkey_count(const struct mesh_node *n)
{
	size_t i, k = 0;

	for (i = 0; i < MESH_NODE_APPKEYS_MAX; i++) {
		k += n->app[i].used;
	}
	return k;
}

int mesh_node_appkey_at(const struct mesh_node *n, size_t pos, struct mesh_node_appkey *out)
{
	size_t i;

	for (i = 0; i < MESH_NODE_APPKEYS_MAX; i++) {
		const struct appkey *a = &n->app[i];

		if (!a->used || pos-- != 0) {
			continue;
		}
		memset(out, 0, sizeof(*out));
		out->app_idx = a->cur.idx;
		out->net_idx = a->net_idx;
		memcpy(out->key, a->cur.key, 16);
		out->has_new = a->has_new;
		if (a->has_new) {
			memcpy(out->new_key, a->upd.key, 16);
		}
		return 0;
	}
	return -ENOENT;
}

int mesh_node_devkey_get(const struct mesh_node *n, uint8_t key[16])
{
	if (!n->has_devkey) {
		return -ENOENT;
	}
	memcpy(key, n->devkey[0].key, 16);
	return 0;
}

int mesh_node_devkey_candidate_get(const struct mesh_node *n, uint8_t key[16])
{
	if (!n->has_cand) {
		return -ENOENT;
	}
	memcpy(key, n->devkey[1].key, 16);
	return 0;
}

/* --- Sending ----------------------------------------------------------------- */

/* The key for msg, copied to *key; -ENOENT when there is none. */
static int pick_key(struct mesh_node *n, const struct mesh_node_msg *msg, struct mesh_utp_key *key)
{
	if (msg->app_idx != MESH_APP_IDX_DEV) {
		struct appkey *a = appkey_find(n, msg->app_idx);

		if (!a || a->net_idx != msg->net_idx) {
			return -ENOENT;
		}
		/* Phase 2 of a Key Refresh transmits with the new keys (§3.11.4.3). */
		*key = (a->has_new && mesh_net_subnet_tx_new_key(n->net, a->net_idx)) ? a->upd
										      : a->cur;
		return 0;
	}
	if (msg->dev_key) {
		return mesh_utp_key_init(key, MESH_APP_IDX_DEV, msg->dev_key, false);
	}
	if (n->ops.dev_keys && !mesh_net_is_local(n->net, msg->dst)) {
		const struct mesh_utp_key *c[1];

		if (n->ops.dev_keys(n->ops.ctx, msg->dst, c, 1) >= 1) {
			*key = *c[0];
			return 0;
		}
	}
	if (n->has_devkey) {
		*key = n->devkey[0];
		return 0;
	}
	return -ENOENT;
}

static int send_now(struct mesh_node *n, const struct mesh_node_msg *msg, uint64_t now,
		    uint32_t *handle)
{
	uint8_t payload[MESH_ACC_PAYLOAD_MAX], enc[MESH_UTP_PDU_MAX];
	struct mesh_utp_key key;
	struct mesh_utp_send s = {0};
	struct mesh_utp_msg um;
	size_t plen;
	uint32_t seq;
	int r;

	r = mesh_acc_payload_build(msg->opcode, msg->params, msg->len, payload, sizeof(payload),
				   &plen);
	if (r) {
		return r;
	}
	/*
	 * A segmented message (§3.5.2: more than 15 octets with the 32-bit
	 * TransMIC, or asked for) that the lower transport would refuse now
	 * waits before a SEQ is spent on it: a queue that is retried on every
	 * finished send would otherwise burn one per waiting message each time.
	 */
	if (msg->szmic || msg->segmented || plen + 4 > MESH_LTP_UNSEG_ACCESS_MAX) {
		r = mesh_ltp_tx_check(n->ltp, msg->dst);
		if (r) {
			return r;
		}
	}
	r = pick_key(n, msg, &key);
	if (r) {
		return r;
	}
	r = mesh_net_seq_next(n->net, &seq);
	if (r) {
		mesh_crypto_wipe(&key, sizeof(key));
		return -EAGAIN;
	}
	s.net_idx = msg->net_idx;
	s.iv_index = mesh_net_iv_tx(n->net);
	s.seq = seq;
	s.src = (uint16_t)(n->primary + msg->elem);
	s.dst = msg->dst;
	s.ttl = msg->ttl == MESH_TTL_DEFAULT ? mesh_node_dst_ttl(n, msg->dst) : msg->ttl;
	s.szmic = msg->szmic;
	s.segmented = msg->segmented;
	s.akf = msg->app_idx != MESH_APP_IDX_DEV;
	s.key = &key;
	s.label = msg->label;
	s.payload = payload;
	s.len = plen;
	r = mesh_utp_encrypt(&s, enc, sizeof(enc), &um);
	mesh_crypto_wipe(&key, sizeof(key));
	if (r) {
		return r;
	}
	um.net_idx = msg->net_idx;
	um.ttl = s.ttl;
	/* mesh_ltp_send() wants a handle even when the caller (a queued send) does not. */
	r = mesh_ltp_send(n->ltp, &um, now, handle ? handle : &seq);
	if (r == 0) {
		n->stats.acc_tx++;
		if (n->ops.traced) {
			n->ops.traced(n->ops.ctx, MESH_NODE_TRACE_ACC_TX, s.src, s.dst,
				      msg->opcode);
		}
	}
	return r;
}

/* Unlink p (prev is the entry before it, NULL at the head), wipe and free it. */
static void pend_remove(struct mesh_node *n, struct pending *prev, struct pending *p)
{
	if (prev) {
		prev->next = p->next;
	} else {
		n->pend_head = p->next;
	}
	if (n->pend_tail == p) {
		n->pend_tail = prev;
	}
	n->n_pend--;
	/* The copy holds the parameters and perhaps a device key or Label UUID. */
	mesh_crypto_wipe(p, sizeof(*p) + p->msg.len);
	free(p);
}

static int enqueue(struct mesh_node *n, const struct mesh_node_msg *msg)
{
	struct pending *p;

	if (msg->len > MESH_ACC_PAYLOAD_MAX) {
		return -EINVAL;
	}
	if (n->n_pend >= n->cfg.pending_max) {
		return -ENOSPC;
	}
	p = calloc(1, sizeof(*p) + msg->len);
	if (!p) {
		return -ENOMEM;
	}
	p->msg = *msg;
	if (msg->len) {
		memcpy(p->params, msg->params, msg->len);
	}
	p->msg.params = p->params;
	if (msg->label) {
		memcpy(p->label, msg->label, 16);
		p->msg.label = p->label;
	}
	if (msg->dev_key) {
		memcpy(p->dev_key, msg->dev_key, 16);
		p->msg.dev_key = p->dev_key;
	}
	if (n->pend_tail) {
		n->pend_tail->next = p;
	} else {
		n->pend_head = p;
	}
	n->pend_tail = p;
	n->n_pend++;
	return 0;
}

/* Is a message to dst waiting in the queue before `before` (NULL: anywhere)? */
static bool pend_waits(const struct mesh_node *n, uint16_t dst, const struct pending *before)
{
	const struct pending *p;

	for (p = n->pend_head; p && p != before; p = p->next) {
		if (p->msg.dst == dst) {
			return true;
		}
	}
	return false;
}

/*
 * Send what can go, oldest first.  A message stays while one to the same
 * destination waits ahead of it or is in flight as a segmented message
 * (even a short one: it came after that one and must not arrive first), or
 * while the lower transport has no tx slot for it (-ENOSPC); later messages
 * to other destinations go past it.  Any other error drops the message: it
 * would fail the same way again.
 */
static void flush_pending(struct mesh_node *n, uint64_t now)
{
	struct pending *p = n->pend_head, *prev = NULL;

	while (p) {
		struct pending *next = p->next;
		int r;

		if (pend_waits(n, p->msg.dst, p) ||
		    mesh_ltp_tx_check(n->ltp, p->msg.dst) == -EBUSY) {
			prev = p;
			p = next;
			continue;
		}
		r = send_now(n, &p->msg, now, NULL);
		if (r == -EBUSY || r == -ENOSPC) {
			prev = p;
		} else {
			pend_remove(n, prev, p);
		}
		p = next;
	}
}

int mesh_node_send(struct mesh_node *n, const struct mesh_node_msg *msg, uint64_t now_ms,
		   uint32_t *handle)
{
	uint32_t h = 0;
	int r;

	if (!n->provisioned || !msg || msg->elem >= mesh_acc_elem_count(n->acc) ||
	    msg->dst == MESH_ADDR_UNASSIGNED || (msg->len && !msg->params)) {
		return -EINVAL;
	}
	n->now = now_ms;
	/* Behind an earlier message to the same destination, even one that could go now. */
	r = pend_waits(n, msg->dst, NULL) ? -EBUSY : send_now(n, msg, now_ms, &h);
	if (r == -EBUSY || r == -ENOSPC) {
		/* A segmented message to this destination (or every slot) is in flight. */
		r = enqueue(n, msg);
		h = 0;
	}
	if (!r && handle) {
		*handle = h;
	}
	return r;
}

int mesh_node_send_answered(struct mesh_node *n, uint32_t handle, uint64_t now_ms)
{
	int r;

	if (!handle) {
		return -EINVAL;
	}
	r = mesh_ltp_cancel(n->ltp, handle);
	if (r) {
		return r;
	}
	n->now = now_ms;
	cb_tx_done(n, handle, 0);
	return 0;
}

int mesh_node_reply(struct mesh_node *n, const struct mesh_acc_msg *req, uint8_t elem,
		    uint32_t opcode, const uint8_t *params, size_t len, uint64_t now_ms)
{
	struct mesh_node_msg m = {0};
	const struct mesh_utp_key *own[2];
	size_t k;

	m.net_idx = req->net_idx;
	m.app_idx = req->app_idx;
	m.elem = elem;
	m.dst = req->src;
	/*
	 * A request that came with TTL 0 came from a neighbour, which the
	 * answer reaches the same way; any other TTL could only make every
	 * relay around repeat it (§3.7.4.1; Zephyr answers so too).
	 */
	m.ttl = req->ttl == 0 ? 0 : MESH_TTL_DEFAULT;
	m.opcode = opcode;
	m.params = params;
	m.len = len;
	if (req->app_idx == MESH_APP_IDX_DEV && mesh_net_is_local(n->net, req->dst)) {
		/* Answer under the device key that the request came with. */
		k = own_dev_keys(n, own, 2);
		if (req->dev_cand < k) {
			m.dev_key = own[req->dev_cand]->key;
		}
	}
	return mesh_node_send(n, &m, now_ms, NULL);
}

int mesh_node_publish(struct mesh_node *n, struct mesh_acc_model *mdl, uint32_t opcode,
		      const uint8_t *params, size_t len, uint64_t now_ms)
{
	struct mesh_acc_pub pub;
	struct mesh_node_msg m = {0};
	int net_idx;

	mesh_acc_model_pub_get(mdl, &pub);
	if (pub.addr == MESH_ADDR_UNASSIGNED) {
		return -ENOENT;
	}
	net_idx = mesh_node_appkey_net(n, pub.app_idx);
	if (net_idx < 0) {
		return net_idx;
	}
	m.net_idx = (uint16_t)net_idx;
	m.app_idx = pub.app_idx;
	m.elem = mesh_acc_model_elem(mdl);
	m.dst = pub.addr;
	m.label = mesh_addr_is_virtual(pub.addr) ? pub.label : NULL;
	m.ttl = pub.ttl == 0xff ? MESH_TTL_DEFAULT : pub.ttl;
	m.opcode = opcode;
	m.params = params;
	m.len = len;
	return mesh_node_send(n, &m, now_ms, NULL);
}

/* --- Receiving ---------------------------------------------------------------- */

static void subnets_after_beacon(struct mesh_node *n)
{
	size_t i, cnt = mesh_net_subnet_count(n->net);

	for (i = 0; i < cnt; i++) {
		uint16_t idx;

		if (mesh_net_subnet_at(n->net, i, &idx) == 0 &&
		    mesh_net_subnet_kr_phase(n->net, idx) == 0) {
			appkeys_finish_kr(n, idx);
			nk_sync(n, idx);
		}
	}
}

int mesh_node_rx_adv(struct mesh_node *n, uint8_t ad_type, const uint8_t *data, size_t len,
		     uint64_t now_ms)
{
	n->now = now_ms;
	if (!n->provisioned) {
		return -EAGAIN;
	}
	if (ad_type == MESH_AD_MESSAGE) {
		struct mesh_net_rx rx;
		uint8_t tpdu[MESH_NET_TPDU_MAX], relay[MESH_NET_PDU_MAX];
		size_t rlen = 0;
		int r;

		r = mesh_net_recv(n->net, data, len, &rx, tpdu, relay, &rlen);
		if (r < 0) {
			if (r != -EALREADY && r != -ENOENT) {
				n->stats.net_rx_bad++;
			}
			return r;
		}
		n->stats.net_rx++;
		if (n->ops.traced) {
			n->ops.traced(n->ops.ctx, MESH_NODE_TRACE_NET_RX, rx.src, rx.dst,
				      MESH_NODE_TRACE_NETINFO(rx.ttl, rx.seq));
		}
		if (r & MESH_NET_RECV_RELAY) {
			uint8_t count;
			uint16_t interval;

			mesh_net_xmit_unpack(n->cfg.relay_xmit, &count, &interval);
			n->stats.net_relayed++;
			if (n->ops.traced) {
				n->ops.traced(n->ops.ctx, MESH_NODE_TRACE_RELAY, rx.src, rx.dst,
					      MESH_NODE_TRACE_NETINFO(rx.ttl - 1u, rx.seq));
			}
			(void)n->ops.adv_send(n->ops.ctx, MESH_AD_MESSAGE, relay, rlen,
					      (uint8_t)(count + 1), interval);
		}
		if (r & MESH_NET_RECV_DELIVER) {
			(void)mesh_ltp_rx(n->ltp, &rx, now_ms);
		}
		return 0;
	}
	if (ad_type == MESH_AD_BEACON) {
		struct mesh_beacon_rx brx;
		int r;

		if (len < 1 || (data[0] != MESH_BEACON_SECURE && data[0] != MESH_BEACON_PRIVATE)) {
			return -ENOTSUP;
		}
		r = mesh_net_beacon_rx(n->net, data, len, now_ms, &brx);
		if (r < 0) {
			return r;
		}
		n->stats.beacons_rx++;
		if (r & MESH_BEACON_CHANGED_KR) {
			subnets_after_beacon(n);
		}
		if (r && n->ops.changed) {
			n->ops.changed(
			    n->ops.ctx,
			    ((r & MESH_BEACON_CHANGED_IV) ? MESH_NODE_CHANGED_IV : 0) |
				((r & MESH_BEACON_CHANGED_KR) ? MESH_NODE_CHANGED_KR : 0));
		}
		return 0;
	}
	return -ENOTSUP;
}

void mesh_node_beacon_now(struct mesh_node *n, uint64_t now_ms)
{
	size_t i, cnt;

	if (!n->provisioned) {
		return;
	}
	cnt = mesh_net_subnet_count(n->net);
	for (i = 0; i < cnt; i++) {
		uint8_t b[MESH_BEACON_SECURE_LEN], pb[MESH_BEACON_PRIVATE_LEN];
		uint16_t idx;

		if (mesh_net_subnet_at(n->net, i, &idx) != 0) {
			continue;
		}
		if (n->cfg.beacon && mesh_net_beacon_secure(n->net, idx, b) == 0) {
			n->stats.beacons_tx++;
			(void)n->ops.adv_send(n->ops.ctx, MESH_AD_BEACON, b, sizeof(b), 1, 0);
		}
		/* Mesh 1.1 §3.10.4: the same state, obfuscated with a fresh Random each time. */
		if (n->cfg.private_beacon &&
		    mesh_net_beacon_private(n->net, idx, &n->rng, pb) == 0) {
			n->stats.beacons_tx++;
			(void)n->ops.adv_send(n->ops.ctx, MESH_AD_BEACON, pb, sizeof(pb), 1, 0);
		}
	}
	(void)now_ms;
}

const char *mesh_node_trace_name(unsigned kind)
{
	static const char *const names[] = {"unseg",  "seg",    "ack",    "ctl",
					    "acc-tx", "acc-rx", "net-rx", "relay"};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : NULL;
}

uint64_t mesh_node_now(const struct mesh_node *n)
{
	return n->now;
}

uint64_t mesh_node_next_deadline(const struct mesh_node *n)
{
	uint64_t d = mesh_ltp_next_deadline(n->ltp), t;

	t = mesh_net_next_deadline(n->net);
	if (t < d) {
		d = t;
	}
	if (n->next_beacon < d) {
		d = n->next_beacon;
	}
	return d;
}

void mesh_node_tick(struct mesh_node *n, uint64_t now_ms)
{
	int r;

	n->now = now_ms;
	r = mesh_net_tick(n->net, now_ms);
	if (r > 0 && n->ops.changed) {
		n->ops.changed(n->ops.ctx, MESH_NODE_CHANGED_IV);
	}
	mesh_ltp_tick(n->ltp, now_ms);
	if (n->next_beacon <= now_ms) {
		mesh_node_beacon_now(n, now_ms);
		n->next_beacon = beacons_on(n) && n->cfg.beacon_interval_ms
				     ? now_ms + n->cfg.beacon_interval_ms
				     : UINT64_MAX;
	}
}

void mesh_node_stats(const struct mesh_node *n, struct mesh_node_stats *out)
{
	*out = n->stats;
}
