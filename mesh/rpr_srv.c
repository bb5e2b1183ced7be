/*
 * Remote Provisioning Server (§4.4.5).  One handler decodes every request
 * with rpr_msg_decode(); what does not decode is dropped unanswered and
 * changes nothing.  The server has one scan, one Extended Scan and one link
 * at a time, which is what a device with one radio can serve.
 */
#include "mesh/rpr_srv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/beacon.h"
#include "mesh/crypto.h"
#include "mesh/net.h"
#include "mesh/rpr_msg.h"
#include "mesh/unprov_beacon.h"

#define OUTQ 4          /* NPPI session PDUs produced by one received PDU */
#define EXT_ADV_MAX 256 /* collected AD octets; an Extended Scan Report holds 359 */
#define MAX_ITEMS_DEFAULT 5

struct item {
	uint8_t uuid[16];
	uint16_t oob;
	bool has_uri;
	uint8_t uri[4];
	int8_t rssi;
};

struct rpr_srv {
	struct mesh_node *node;
	struct mesh_acc_model *mdl;
	struct rpr_srv_config cfg;
	uint8_t self_adv[RPR_SRV_SELF_ADV_MAX];
	struct rpr_srv_ops ops;
	struct mesh_rng rng;
	struct pb_adv *pb;
	uint64_t now;

	/* Scan (§4.4.5.2). */
	uint8_t scan;
	uint8_t scan_limit;
	uint8_t scan_timeout;
	uint64_t scan_end;
	uint16_t scan_client, scan_net;
	uint8_t scan_uuid[16];
	struct item items[RPR_SRV_ITEMS_MAX];
	size_t n_items;

	/* Extended Scan of one device. */
	bool ext;
	uint16_t ext_client, ext_net;
	uint8_t ext_uuid[16];
	uint8_t ext_types[RPR_AD_TYPES_MAX];
	uint8_t n_ext_types;
	uint32_t ext_got; /* bit i: ext_types[i] collected */
	uint64_t ext_end;
	bool ext_seen;
	uint16_t ext_oob;
	uint8_t ext_adv[EXT_ADV_MAX];
	size_t ext_adv_len;

	/* Link (§4.4.5.3). */
	uint8_t link;
	bool nppi;
	uint8_t proc;
	uint16_t client, net_idx;
	/*
	 * The client's Link Open came with TTL 0: it is our neighbour, and the
	 * link's reports go to it with TTL 0 as answers to it would
	 * (mesh_node_reply()), so no relay around repeats them.
	 */
	bool client_ttl0;
	uint8_t uuid[16];
	uint32_t link_id;
	uint64_t open_end;
	uint64_t idle_end;
	uint8_t out_count, in_count;
	/*
	 * The last PDU Report and the OutboundPDUNumber it answered.  A PDU
	 * Report whose segmented send failed is lost, and nothing in the
	 * protocol asks for it again; a client still waiting for it repeats
	 * its PDU Send, and that repeat is taken as the request.
	 */
	uint8_t last_rep[PROV_PDU_MAX];
	size_t last_rep_len;
	uint8_t last_rep_out;
	uint32_t rep_handle; /* the PDU Report last sent segmented (lower transport), or 0 */

	/* NPPI: the local device-role session and its result. */
	struct prov_sess *sess;
	uint8_t elements;
	uint8_t outq[OUTQ][PROV_PDU_MAX];
	size_t outlen[OUTQ];
	size_t nout;
	bool has_res, res_ok;
	struct prov_result res;
};

/* --- Sending ------------------------------------------------------------------ */

static int send_to_h(struct rpr_srv *s, uint16_t dst, uint16_t net_idx, const struct rpr_msg *m,
		     bool reliable, uint32_t *handle)
{
	uint8_t params[MESH_ACC_PAYLOAD_MAX], key[16];
	struct mesh_node_msg msg = {0};
	size_t len;
	int r;

	r = rpr_msg_encode(m, params, sizeof(params), &len);
	if (r) {
		return r;
	}
	r = mesh_node_devkey_get(s->node, key);
	if (r) {
		return r;
	}
	msg.net_idx = net_idx;
	msg.app_idx = MESH_APP_IDX_DEV;
	msg.dev_key = key;
	msg.dst = dst;
	msg.ttl = dst == s->client && s->client_ttl0 ? 0 : MESH_TTL_DEFAULT;
	/*
	 * Reliable: segmented even when short, so the client's lower transport
	 * acknowledges it and ours repeats lost segments (§3.5.3.3).  The 32-bit
	 * TransMIC is kept: a 64-bit one would only add octets, and a segment
	 * for a Public Key report (PDU Report of 68 octets: 6 segments, not 7).
	 */
	msg.segmented = reliable;
	msg.opcode = m->op;
	msg.params = params;
	msg.len = len;
	r = mesh_node_send(s->node, &msg, s->now, handle);
	mesh_crypto_wipe(key, sizeof(key));
	mesh_crypto_wipe(params, sizeof(params));
	return r;
}

static int send_to(struct rpr_srv *s, uint16_t dst, uint16_t net_idx, const struct rpr_msg *m,
		   bool reliable)
{
	return send_to_h(s, dst, net_idx, m, reliable, NULL);
}

static int reply(struct rpr_srv *s, const struct mesh_acc_msg *req, const struct rpr_msg *m)
{
	uint8_t params[MESH_ACC_PAYLOAD_MAX];
	size_t len;
	int r;

	r = rpr_msg_encode(m, params, sizeof(params), &len);
	if (!r) {
		r = mesh_node_reply(s->node, req, 0, m->op, params, len, s->now);
	}
	return r;
}

static int link_status(struct rpr_srv *s, const struct mesh_acc_msg *req, uint8_t status)
{
	struct rpr_msg m = {.op = RPR_OP_LINK_STATUS};

	m.link_status.status = status;
	m.link_status.state = s->link;
	return reply(s, req, &m);
}

static void link_report(struct rpr_srv *s, uint8_t status, bool has_reason, uint8_t reason)
{
	struct rpr_msg m = {.op = RPR_OP_LINK_REPORT};

	m.link_status.status = status;
	m.link_status.state = s->link;
	m.link_status.has_reason = has_reason;
	m.link_status.reason = reason;
	(void)send_to(s, s->client, s->net_idx, &m, true);
}

static void send_pdu_report(struct rpr_srv *s, const uint8_t *pdu, size_t len)
{
	struct rpr_msg m = {.op = RPR_OP_PDU_REPORT};

	uint32_t h = 0;

	m.pdu.num = s->in_count;
	m.pdu.pdu = pdu;
	m.pdu.pdu_len = len;
	/* A report queued behind another has no handle: the one in flight keeps its own. */
	if (send_to_h(s, s->client, s->net_idx, &m, true, &h) == 0 && h) {
		s->rep_handle = h;
	}
}

static void pdu_report(struct rpr_srv *s, const uint8_t *pdu, size_t len)
{
	s->in_count++;
	/* A longer one (a record fragment) is sent but not kept for a repeat. */
	s->last_rep_len = len <= sizeof(s->last_rep) ? len : 0;
	memcpy(s->last_rep, pdu, s->last_rep_len);
	s->last_rep_out = s->out_count;
	send_pdu_report(s, pdu, len);
}

static void outbound_report(struct rpr_srv *s)
{
	struct rpr_msg m = {.op = RPR_OP_PDU_OUTBOUND_REPORT};

	m.pdu.num = s->out_count;
	(void)send_to(s, s->client, s->net_idx, &m, false);
}

/* --- Link life cycle -------------------------------------------------------- */

static void link_reset(struct rpr_srv *s)
{
	prov_free(s->sess);
	s->sess = NULL;
	mesh_crypto_wipe(s->outq, sizeof(s->outq));
	mesh_crypto_wipe(&s->res, sizeof(s->res));
	mesh_crypto_wipe(s->last_rep, sizeof(s->last_rep));
	s->last_rep_len = 0;
	s->rep_handle = 0;
	s->nout = 0;
	s->has_res = s->res_ok = false;
	s->link = RPR_LINK_IDLE;
	s->nppi = false;
	s->client = MESH_ADDR_UNASSIGNED;
	s->open_end = s->idle_end = UINT64_MAX;
}

/* Apply a completed Address or Composition Refresh once the link is over (§3.11.8). */
static void nppi_close(struct rpr_srv *s, bool success)
{
	uint8_t cand[16];

	if (s->has_res && s->res_ok) {
		if (s->proc == RPR_NPPI_DEVKEY_REFRESH) {
			/*
			 * The candidate went in at Complete.  A link that ends
			 * in failure withdraws it, unless it is already in use.
			 */
			if (!success && mesh_node_devkey_candidate_get(s->node, cand) == 0 &&
			    mesh_crypto_equal(cand, s->res.dev_key, 16)) {
				mesh_node_devkey_candidate(s->node, NULL);
			}
			mesh_crypto_wipe(cand, sizeof(cand));
		} else if (success) {
			int r = 0;

			if (s->proc == RPR_NPPI_ADDRESS_REFRESH) {
				r = mesh_node_readdress(s->node, s->res.data.unicast,
							s->res.dev_key);
			} else {
				mesh_node_devkey_set(s->node, s->res.dev_key);
				mesh_node_devkey_candidate(s->node, NULL);
			}
			if (!r && s->ops.nppi_applied) {
				s->ops.nppi_applied(s->ops.ctx, s->proc,
						    mesh_node_primary(s->node));
			}
		}
	}
	link_reset(s);
}

/* --- NPPI: the node's own device-role session --------------------------------- */

static int n_send(void *ctx, const uint8_t *pdu, size_t len)
{
	struct rpr_srv *s = ctx;

	if (s->nout == OUTQ || len > PROV_PDU_MAX) {
		return -ENOBUFS;
	}
	memcpy(s->outq[s->nout], pdu, len);
	s->outlen[s->nout++] = len;
	return 0;
}

static void n_done(void *ctx, const struct prov_result *res)
{
	struct rpr_srv *s = ctx;

	s->res = *res;
	s->has_res = true;
}

static void n_failed(void *ctx, int err, uint8_t prov_err)
{
	(void)ctx;
	(void)err;
	(void)prov_err;
}

/* Is a NetKey (under its index) one the node has, current or Key Refresh new? */
static bool netkey_known(struct rpr_srv *s, uint16_t net_idx, const uint8_t key[16])
{
	const struct mesh_net *net = mesh_node_net(s->node);
	struct mesh_net_keys *k = calloc(1, sizeof(*k));
	bool known = false;
	int i;

	if (!k || mesh_net_keys_derive(key, k)) {
		free(k);
		return false;
	}
	for (i = 0; i < 2 && !known; i++) {
		const struct mesh_net_keys *have = mesh_net_subnet_keys(net, net_idx, i == 1);

		known = have && mesh_crypto_equal(have->net_id, k->net_id, sizeof(k->net_id)) &&
			mesh_crypto_equal(have->beacon_key, k->beacon_key, 16);
	}
	mesh_crypto_wipe(k, sizeof(*k));
	free(k);
	return known;
}

/* formats.md §7 notes (Zephyr refresh_is_valid()): what a node accepts from a refresh. */
static bool nppi_data_ok(struct rpr_srv *s, const struct prov_data *d)
{
	uint16_t primary = mesh_node_primary(s->node);
	size_t old = mesh_acc_elem_count(mesh_node_acc(s->node));
	uint32_t iv;
	bool upd;

	mesh_net_iv_get(mesh_node_net(s->node), &iv, &upd);
	if (d->iv_index != iv || !netkey_known(s, d->net_idx, d->net_key)) {
		return false;
	}
	if (s->proc != RPR_NPPI_ADDRESS_REFRESH) {
		return d->unicast == primary;
	}
	/* The new range [unicast, unicast + elements) must miss the old one. */
	return (uint32_t)d->unicast + s->elements <= primary || d->unicast >= primary + old;
}

/*
 * After the session consumed a PDU: a finished session sent Complete, but
 * a refresh may still refuse the data, in which case Provisioning Failed
 * (Invalid Data) goes out instead (prov.c checks only what any device
 * checks; §5.4.1.9 leaves the node-specific checks to the node).
 */
static void nppi_after(struct rpr_srv *s)
{
	size_t i;

	if (s->has_res && !s->res_ok) {
		if (nppi_data_ok(s, &s->res.data)) {
			s->res_ok = true;
			if (s->proc == RPR_NPPI_DEVKEY_REFRESH) {
				mesh_node_devkey_candidate(s->node, s->res.dev_key);
				if (s->ops.nppi_applied) {
					s->ops.nppi_applied(s->ops.ctx, s->proc,
							    mesh_node_primary(s->node));
				}
			}
		} else {
			mesh_crypto_wipe(&s->res, sizeof(s->res));
			s->has_res = false;
			for (i = 0; i < s->nout; i++) {
				if (s->outlen[i] == 1 && s->outq[i][0] == PROV_COMPLETE) {
					s->outq[i][0] = PROV_FAILED;
					s->outq[i][1] = PROV_ERR_INVALID_DATA;
					s->outlen[i] = 2;
				}
			}
		}
	}
	for (i = 0; i < s->nout; i++) {
		pdu_report(s, s->outq[i], s->outlen[i]);
	}
	mesh_crypto_wipe(s->outq, sizeof(s->outq));
	s->nout = 0;
}

static uint8_t nppi_open(struct rpr_srv *s, const struct mesh_acc_msg *req, uint8_t proc)
{
	struct prov_ops ops = {.ctx = s, .send = n_send, .done = n_done, .failed = n_failed};
	struct prov_cfg c = s->cfg.nppi;
	uint8_t elements = (uint8_t)mesh_acc_elem_count(mesh_node_acc(s->node));

	if (!mesh_node_provisioned(s->node) ||
	    (s->ops.nppi_check && s->ops.nppi_check(s->ops.ctx, proc, &elements)) || !elements) {
		return RPR_STATUS_LINK_CANNOT_OPEN;
	}
	c.role = PROV_ROLE_DEVICE;
	c.caps.elements = elements;
	if (!c.caps.algorithms) {
		c.caps.algorithms = PROV_ALGS_CMAC | PROV_ALGS_HMAC;
	}
	/* A refresh has nobody at the node to show or type a value. */
	c.caps.output_size = c.caps.input_size = 0;
	c.caps.output_actions = c.caps.input_actions = 0;
	if (prov_new(&c, &ops, &s->rng, &s->sess) || prov_start(s->sess, s->now)) {
		mesh_crypto_wipe(&c, sizeof(c));
		prov_free(s->sess);
		s->sess = NULL;
		return RPR_STATUS_LINK_CANNOT_OPEN;
	}
	mesh_crypto_wipe(&c, sizeof(c));
	s->nppi = true;
	s->proc = proc;
	s->elements = elements;
	s->client = req->src;
	s->client_ttl0 = req->ttl == 0;
	s->net_idx = req->net_idx;
	s->out_count = s->in_count = 0;
	s->link = RPR_LINK_ACTIVE;
	s->idle_end = s->now + RPR_SRV_LINK_IDLE_MS;
	return RPR_STATUS_SUCCESS;
}

/* --- Scanning ------------------------------------------------------------------ */

static struct item *item_find(struct rpr_srv *s, const uint8_t uuid[16])
{
	size_t i;

	for (i = 0; i < s->n_items; i++) {
		if (memcmp(s->items[i].uuid, uuid, 16) == 0) {
			return &s->items[i];
		}
	}
	return NULL;
}

static void scan_status(struct rpr_srv *s, const struct mesh_acc_msg *req, uint8_t status)
{
	struct rpr_msg m = {.op = RPR_OP_SCAN_STATUS};

	m.scan_status.status = status;
	m.scan_status.state = s->scan;
	m.scan_status.limit = s->scan_limit;
	m.scan_status.timeout = 0;
	if (s->scan != RPR_SCAN_IDLE && s->scan_end > s->now) {
		/* Whole seconds left, rounded up so a running scan never reads 0. */
		m.scan_status.timeout = (uint8_t)((s->scan_end - s->now + 999) / 1000);
	}
	(void)reply(s, req, &m);
}

static void on_scan_start(struct rpr_srv *s, const struct mesh_acc_msg *req,
			  const struct rpr_scan_start *st)
{
	uint8_t limit = st->limit ? st->limit : s->cfg.max_items;

	if (s->scan != RPR_SCAN_IDLE && s->scan_client != req->src) {
		scan_status(s, req, RPR_STATUS_INVALID_STATE);
		return;
	}
	if (limit > s->cfg.max_items) {
		scan_status(s, req, RPR_STATUS_LIMITED_RESOURCES);
		return;
	}
	s->scan = st->has_uuid ? RPR_SCAN_SINGLE : RPR_SCAN_MULTIPLE;
	s->scan_limit = limit;
	s->scan_timeout = st->timeout;
	s->scan_end = s->now + (uint64_t)st->timeout * 1000;
	s->scan_client = req->src;
	s->scan_net = req->net_idx;
	memcpy(s->scan_uuid, st->uuid, 16);
	s->n_items = 0;
	scan_status(s, req, RPR_STATUS_SUCCESS);
}

static void scan_stop(struct rpr_srv *s)
{
	s->scan = RPR_SCAN_IDLE;
	s->scan_end = UINT64_MAX;
}

static void scan_seen(struct rpr_srv *s, const struct unprov_beacon *b, int8_t rssi)
{
	struct rpr_msg m = {.op = RPR_OP_SCAN_REPORT};
	struct item *it = item_find(s, b->uuid);

	if (it) {
		/* Reported once per scan; later sightings only refresh the RSSI. */
		it->rssi = rssi;
		return;
	}
	if (s->scan == RPR_SCAN_SINGLE && memcmp(s->scan_uuid, b->uuid, 16) != 0) {
		return;
	}
	it = &s->items[s->n_items++];
	memcpy(it->uuid, b->uuid, 16);
	it->oob = b->oob_info;
	it->has_uri = b->has_uri_hash;
	memcpy(it->uri, b->uri_hash, 4);
	it->rssi = rssi;
	m.scan_report.rssi = rssi;
	memcpy(m.scan_report.uuid, b->uuid, 16);
	m.scan_report.oob = b->oob_info;
	m.scan_report.has_uri_hash = b->has_uri_hash;
	memcpy(m.scan_report.uri_hash, b->uri_hash, 4);
	(void)send_to(s, s->scan_client, s->scan_net, &m, false);
	/* A full list ends the scan: nothing more could be reported (§4.4.5.2). */
	if (s->n_items >= s->scan_limit) {
		scan_stop(s);
	}
}

/* --- Extended Scan ----------------------------------------------------------- */

static int type_index(const uint8_t *types, size_t n, uint8_t t)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (types[i] == t) {
			return (int)i;
		}
	}
	return -1;
}

/* Copy the AD structures of adv whose type is wanted; stops at a malformed one. */
static size_t ad_filter(const uint8_t *adv, size_t len, const uint8_t *types, size_t n,
			uint8_t *out, size_t cap)
{
	size_t pos = 0, o = 0;

	while (pos < len) {
		size_t l = adv[pos];

		if (l == 0 || pos + 1 + l > len) {
			break;
		}
		if (type_index(types, n, adv[pos + 1]) >= 0 && o + 1 + l <= cap) {
			memcpy(out + o, adv + pos, 1 + l);
			o += 1 + l;
		}
		pos += 1 + l;
	}
	return o;
}

static void ext_report(struct rpr_srv *s)
{
	struct rpr_msg m = {.op = RPR_OP_EXT_SCAN_REPORT};

	m.ext_scan_report.status = RPR_STATUS_SUCCESS;
	memcpy(m.ext_scan_report.uuid, s->ext_uuid, 16);
	/* OOB Information is known only when the device's beacon was heard. */
	m.ext_scan_report.has_oob = s->ext_seen;
	m.ext_scan_report.oob = s->ext_oob;
	if (s->ext_seen && s->ext_adv_len) {
		m.ext_scan_report.adv = s->ext_adv;
		m.ext_scan_report.adv_len = s->ext_adv_len;
	}
	(void)send_to(s, s->ext_client, s->ext_net, &m, true);
	s->ext = false;
	s->ext_end = UINT64_MAX;
}

static void on_ext_scan_start(struct rpr_srv *s, const struct mesh_acc_msg *req,
			      const struct rpr_ext_scan_start *st)
{
	struct rpr_msg m = {.op = RPR_OP_EXT_SCAN_REPORT};
	uint8_t adv[RPR_SRV_SELF_ADV_MAX];
	const struct item *it;

	if (!st->has_uuid) {
		/* About the server itself: answered at once from its own AD structures. */
		m.ext_scan_report.status = RPR_STATUS_SUCCESS;
		memcpy(m.ext_scan_report.uuid, s->cfg.uuid, 16);
		m.ext_scan_report.has_oob = true;
		m.ext_scan_report.adv = adv;
		m.ext_scan_report.adv_len =
		    ad_filter(s->self_adv, s->cfg.self_adv_len, st->ad_types, st->n_ad_types, adv,
			      sizeof(adv));
		(void)reply(s, req, &m);
		return;
	}
	if (s->ext) {
		m.ext_scan_report.status = RPR_STATUS_LIMITED_RESOURCES;
		memcpy(m.ext_scan_report.uuid, st->uuid, 16);
		(void)reply(s, req, &m);
		return;
	}
	s->ext = true;
	s->ext_client = req->src;
	s->ext_net = req->net_idx;
	memcpy(s->ext_uuid, st->uuid, 16);
	memcpy(s->ext_types, st->ad_types, st->n_ad_types);
	s->n_ext_types = st->n_ad_types;
	s->ext_got = 0;
	s->ext_end = s->now + (uint64_t)st->timeout * 1000;
	s->ext_adv_len = 0;
	it = item_find(s, st->uuid);
	s->ext_seen = it != NULL;
	s->ext_oob = it ? it->oob : 0;
}

/* --- Link Open / Close / PDU Send ------------------------------------------------ */

static void on_link_open(struct rpr_srv *s, const struct mesh_acc_msg *req,
			 const struct rpr_link_open *lo)
{
	uint8_t timeout;

	if (s->link != RPR_LINK_IDLE) {
		/* A repeated Link Open for the link we have is answered, not refused (§4.4.5.3). */
		bool same =
		    req->src == s->client && lo->nppi == s->nppi &&
		    (lo->nppi ? lo->procedure == s->proc : memcmp(lo->uuid, s->uuid, 16) == 0);

		(void)link_status(s, req, same ? RPR_STATUS_SUCCESS : RPR_STATUS_INVALID_STATE);
		return;
	}
	if (lo->nppi) {
		uint8_t st = nppi_open(s, req, lo->procedure);

		(void)link_status(s, req, st);
		if (st == RPR_STATUS_SUCCESS) {
			link_report(s, RPR_STATUS_SUCCESS, false, 0);
		}
		return;
	}
	if (pb_adv_open(s->pb, lo->uuid, s->now, &s->link_id)) {
		(void)link_status(s, req, RPR_STATUS_LINK_CANNOT_OPEN);
		return;
	}
	timeout = lo->has_timeout ? lo->timeout : RPR_SRV_LINK_OPEN_DEFAULT;
	s->link = RPR_LINK_OPENING;
	s->client = req->src;
	s->client_ttl0 = req->ttl == 0;
	s->net_idx = req->net_idx;
	memcpy(s->uuid, lo->uuid, 16);
	s->out_count = s->in_count = 0;
	s->open_end = s->now + (uint64_t)timeout * 1000;
	s->idle_end = UINT64_MAX;
	(void)link_status(s, req, RPR_STATUS_SUCCESS);
}

static void on_link_close(struct rpr_srv *s, const struct mesh_acc_msg *req, uint8_t reason)
{
	if (s->link == RPR_LINK_IDLE) {
		/* Closing a closed link succeeds, so a repeated Link Close gets its answer. */
		(void)link_status(s, req, RPR_STATUS_SUCCESS);
		return;
	}
	if (req->src != s->client) {
		(void)link_status(s, req, RPR_STATUS_INVALID_STATE);
		return;
	}
	if (s->nppi) {
		/* Answer from the old address and key before a refresh replaces them. */
		s->link = RPR_LINK_IDLE;
		(void)link_status(s, req, RPR_STATUS_SUCCESS);
		nppi_close(s, reason == RPR_REASON_SUCCESS);
		return;
	}
	(void)pb_adv_close(s->pb, s->link_id, reason, s->now);
	link_reset(s);
	(void)link_status(s, req, RPR_STATUS_SUCCESS);
}

static void on_pdu_send(struct rpr_srv *s, const struct mesh_acc_msg *req, const struct rpr_pdu *p)
{
	if (req->src != s->client || (s->link != RPR_LINK_ACTIVE && s->link != RPR_LINK_OUTBOUND)) {
		return;
	}
	s->idle_end = s->now + RPR_SRV_LINK_IDLE_MS;
	if (p->num == s->out_count) {
		/* A repeat: its Outbound Report was lost, unless it is still in transfer. */
		if (s->link == RPR_LINK_ACTIVE && s->out_count) {
			outbound_report(s);
			/*
			 * ... or the device's answer to it was: the client
			 * drops a report it has by its InboundPDUNumber.
			 */
			if (s->last_rep_len && s->last_rep_out == s->out_count) {
				send_pdu_report(s, s->last_rep, s->last_rep_len);
			}
		}
		return;
	}
	if (s->link != RPR_LINK_ACTIVE || p->num != (uint8_t)(s->out_count + 1)) {
		return;
	}
	/*
	 * A new PDU from the client: the provisioner sends its next PDU only
	 * after the device's answer to the last one (§5.4.1), so it has the
	 * PDU Report we sent last; its segments need not go again.
	 */
	if (s->rep_handle) {
		(void)mesh_node_send_answered(s->node, s->rep_handle, s->now);
		s->rep_handle = 0;
	}
	if (s->nppi) {
		s->out_count = p->num;
		(void)prov_rx(s->sess, p->pdu, p->pdu_len, s->now);
		outbound_report(s);
		nppi_after(s);
		return;
	}
	if (pb_adv_send(s->pb, s->link_id, p->pdu, p->pdu_len, s->now) == 0) {
		s->out_count = p->num;
		s->link = RPR_LINK_OUTBOUND;
	}
}

static int on_msg(struct mesh_acc_model *mdl, const struct mesh_acc_msg *msg, void *user)
{
	struct rpr_srv *s = user;
	struct rpr_msg m;
	struct rpr_msg out = {0};

	(void)mdl;
	s->now = mesh_node_now(s->node);
	if (rpr_msg_decode(msg->opcode, msg->params, msg->len, &m)) {
		return -EBADMSG;
	}
	switch (m.op) {
	case RPR_OP_SCAN_CAPS_GET:
		out.op = RPR_OP_SCAN_CAPS_STATUS;
		out.scan_caps.max_items = s->cfg.max_items;
		out.scan_caps.active = s->cfg.active_scan;
		return reply(s, msg, &out);
	case RPR_OP_SCAN_GET:
		scan_status(s, msg, RPR_STATUS_SUCCESS);
		return 0;
	case RPR_OP_SCAN_START:
		on_scan_start(s, msg, &m.scan_start);
		return 0;
	case RPR_OP_SCAN_STOP:
		scan_stop(s);
		scan_status(s, msg, RPR_STATUS_SUCCESS);
		return 0;
	case RPR_OP_EXT_SCAN_START:
		on_ext_scan_start(s, msg, &m.ext_scan_start);
		return 0;
	case RPR_OP_LINK_GET:
		return link_status(s, msg, RPR_STATUS_SUCCESS);
	case RPR_OP_LINK_OPEN:
		on_link_open(s, msg, &m.link_open);
		return 0;
	case RPR_OP_LINK_CLOSE:
		on_link_close(s, msg, m.link_close.reason);
		return 0;
	case RPR_OP_PDU_SEND:
		on_pdu_send(s, msg, &m.pdu);
		return 0;
	default:
		return -ENOENT;
	}
}

static const struct mesh_acc_op srv_ops[] = {
    {RPR_OP_SCAN_CAPS_GET, 0, -1, on_msg},  {RPR_OP_SCAN_GET, 0, -1, on_msg},
    {RPR_OP_SCAN_START, 0, -1, on_msg},     {RPR_OP_SCAN_STOP, 0, -1, on_msg},
    {RPR_OP_EXT_SCAN_START, 0, -1, on_msg}, {RPR_OP_LINK_GET, 0, -1, on_msg},
    {RPR_OP_LINK_OPEN, 0, -1, on_msg},      {RPR_OP_LINK_CLOSE, 0, -1, on_msg},
    {RPR_OP_PDU_SEND, 0, -1, on_msg},
};

/* --- PB-ADV bearer callbacks ---------------------------------------------------- */

static bool our_link(struct rpr_srv *s, uint32_t link)
{
	return s->link != RPR_LINK_IDLE && !s->nppi && link == s->link_id;
}

static void b_adv_send(void *ctx, const uint8_t *data, size_t len)
{
	struct rpr_srv *s = ctx;

	s->ops.adv_send(s->ops.ctx, data, len);
}

static void b_opened(void *ctx, uint32_t link)
{
	struct rpr_srv *s = ctx;

	if (our_link(s, link) && s->link == RPR_LINK_OPENING) {
		s->link = RPR_LINK_ACTIVE;
		s->open_end = UINT64_MAX;
		s->idle_end = s->now + RPR_SRV_LINK_IDLE_MS;
		link_report(s, RPR_STATUS_SUCCESS, false, 0);
	}
}

static void b_closed(void *ctx, uint32_t link, int reason)
{
	struct rpr_srv *s = ctx;
	uint8_t status;

	if (!our_link(s, link)) {
		return;
	}
	if (s->link == RPR_LINK_OPENING) {
		status = RPR_STATUS_LINK_OPEN_FAILED;
	} else if (reason >= 0) {
		status = RPR_STATUS_LINK_CLOSED_BY_DEVICE;
	} else {
		/* A transaction that never got acknowledged, or silence from the device. */
		status = s->link == RPR_LINK_OUTBOUND ? RPR_STATUS_LINK_CLOSED_CANNOT_SEND
						      : RPR_STATUS_LINK_CLOSED_CANNOT_RECEIVE;
	}
	s->link = RPR_LINK_IDLE;
	link_report(s, status, true, reason >= 0 ? (uint8_t)reason : RPR_REASON_TIMEOUT);
	link_reset(s);
}

static void b_pdu(void *ctx, uint32_t link, const uint8_t *pdu, size_t len)
{
	struct rpr_srv *s = ctx;

	if (our_link(s, link) && (s->link == RPR_LINK_ACTIVE || s->link == RPR_LINK_OUTBOUND)) {
		pdu_report(s, pdu, len);
	}
}

static void b_tx_done(void *ctx, uint32_t link)
{
	struct rpr_srv *s = ctx;

	if (our_link(s, link) && s->link == RPR_LINK_OUTBOUND) {
		s->link = RPR_LINK_ACTIVE;
		outbound_report(s);
	}
}

/* --- API ------------------------------------------------------------------------------ */

struct rpr_srv *rpr_srv_new(struct mesh_node *node, const struct rpr_srv_config *cfg,
			    const struct rpr_srv_ops *ops, const struct mesh_rng *rng)
{
	struct pb_adv_ops bops = {
	    .adv_send = b_adv_send,
	    .link_opened = b_opened,
	    .link_closed = b_closed,
	    .pdu_rx = b_pdu,
	    .tx_done = b_tx_done,
	};
	struct mesh_model_id id = {.vendor = false, .id = 0x0004};
	struct pb_adv_cfg pc;
	struct rpr_srv *s;

	if (!node || !cfg || !ops || !ops->adv_send || cfg->self_adv_len > RPR_SRV_SELF_ADV_MAX ||
	    (cfg->self_adv_len && !cfg->self_adv) ||
	    (cfg->max_items &&
	     (cfg->max_items < RPR_SCAN_ITEMS_MIN || cfg->max_items > RPR_SRV_ITEMS_MAX))) {
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		return NULL;
	}
	s->node = node;
	s->cfg = *cfg;
	if (!s->cfg.max_items) {
		s->cfg.max_items = MAX_ITEMS_DEFAULT;
	}
	if (cfg->self_adv_len) {
		memcpy(s->self_adv, cfg->self_adv, cfg->self_adv_len);
	}
	s->cfg.self_adv = NULL;
	s->ops = *ops;
	if (rng) {
		s->rng = *rng;
	}
	s->scan_end = s->ext_end = UINT64_MAX;
	link_reset(s);
	pc = cfg->pb;
	pc.uuid = NULL;
	pc.rng = s->rng;
	s->pb = pb_adv_new(&pc, &bops, s);
	if (!s->pb ||
	    mesh_acc_model_add(mesh_node_acc(node), 0, id, MESH_ACC_MODEL_DEV_KEY, srv_ops,
			       sizeof(srv_ops) / sizeof(srv_ops[0]), s, &s->mdl)) {
		pb_adv_free(s->pb);
		mesh_crypto_wipe(s, sizeof(*s));
		free(s);
		return NULL;
	}
	return s;
}

void rpr_srv_free(struct rpr_srv *s)
{
	if (!s) {
		return;
	}
	prov_free(s->sess);
	pb_adv_free(s->pb);
	(void)mesh_acc_model_del(mesh_node_acc(s->node), s->mdl);
	mesh_crypto_wipe(s, sizeof(*s));
	free(s);
}

int rpr_srv_beacon_rx(struct rpr_srv *s, const uint8_t *data, size_t len, int8_t rssi,
		      uint64_t now_ms)
{
	struct unprov_beacon b;
	int r;

	if (!len || data[0] != UNPROV_BEACON_TYPE) {
		return len ? -ENOTSUP : -EBADMSG;
	}
	r = unprov_beacon_decode(data, len, &b);
	if (r) {
		return r;
	}
	s->now = now_ms;
	if (s->ext && memcmp(b.uuid, s->ext_uuid, 16) == 0) {
		s->ext_seen = true;
		s->ext_oob = b.oob_info;
	}
	if (s->scan != RPR_SCAN_IDLE) {
		scan_seen(s, &b, rssi);
	}
	return 0;
}

int rpr_srv_ad_rx(struct rpr_srv *s, const uint8_t uuid[16], uint8_t ad_type, const uint8_t *data,
		  size_t len, uint64_t now_ms)
{
	int i;

	if (len > 0xfe - 1) {
		return -EINVAL;
	}
	s->now = now_ms;
	if (!s->ext || memcmp(uuid, s->ext_uuid, 16) != 0) {
		return 0;
	}
	i = type_index(s->ext_types, s->n_ext_types, ad_type);
	if (i < 0 || (s->ext_got & (1u << i)) || s->ext_adv_len + 2 + len > EXT_ADV_MAX) {
		return 0;
	}
	s->ext_adv[s->ext_adv_len] = (uint8_t)(len + 1);
	s->ext_adv[s->ext_adv_len + 1] = ad_type;
	memcpy(s->ext_adv + s->ext_adv_len + 2, data, len);
	s->ext_adv_len += 2 + len;
	s->ext_got |= 1u << i;
	/* Having seen the device advertise, the server knows it is there. */
	s->ext_seen = true;
	if (s->ext_got == (1u << s->n_ext_types) - 1) {
		ext_report(s);
	}
	return 0;
}

int rpr_srv_pb_adv_rx(struct rpr_srv *s, const uint8_t *data, size_t len, uint64_t now_ms)
{
	s->now = now_ms;
	return pb_adv_rx(s->pb, data, len, now_ms);
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t rpr_srv_next_deadline(const struct rpr_srv *s)
{
	uint64_t d = pb_adv_next_deadline(s->pb);

	d = min64(d, s->scan != RPR_SCAN_IDLE ? s->scan_end : UINT64_MAX);
	d = min64(d, s->ext ? s->ext_end : UINT64_MAX);
	if (s->link != RPR_LINK_IDLE) {
		d = min64(d, min64(s->open_end, s->idle_end));
		if (s->sess) {
			d = min64(d, prov_next_deadline(s->sess));
		}
	}
	return d;
}

void rpr_srv_tick(struct rpr_srv *s, uint64_t now_ms)
{
	s->now = now_ms;
	pb_adv_tick(s->pb, now_ms);
	if (s->scan != RPR_SCAN_IDLE && s->scan_end <= now_ms) {
		scan_stop(s);
	}
	if (s->ext && s->ext_end <= now_ms) {
		ext_report(s);
	}
	if (s->link == RPR_LINK_IDLE) {
		return;
	}
	if (s->sess) {
		prov_tick(s->sess, now_ms);
		nppi_after(s);
	}
	if (s->open_end <= now_ms) {
		(void)pb_adv_close(s->pb, s->link_id, PB_ADV_CLOSE_FAIL, now_ms);
		s->link = RPR_LINK_IDLE;
		link_report(s, RPR_STATUS_LINK_OPEN_FAILED, true, RPR_REASON_TIMEOUT);
		link_reset(s);
	} else if (s->idle_end <= now_ms) {
		/* The client went quiet (§4.4.5.3): a refresh still takes effect if it completed.
		 */
		if (s->nppi) {
			nppi_close(s, true);
			return;
		}
		(void)pb_adv_close(s->pb, s->link_id, PB_ADV_CLOSE_FAIL, now_ms);
		s->link = RPR_LINK_IDLE;
		link_report(s, RPR_STATUS_LINK_CLOSED_BY_SERVER, true, RPR_REASON_TIMEOUT);
		link_reset(s);
	}
}

void rpr_srv_state(const struct rpr_srv *s, struct rpr_srv_state *out)
{
	memset(out, 0, sizeof(*out));
	out->scan = s->scan;
	out->link = s->link;
	out->nppi = s->nppi;
	out->procedure = s->proc;
	out->client = s->client;
	out->out_count = s->out_count;
	out->in_count = s->in_count;
	out->items = s->n_items;
	out->ext_scan = s->ext;
}
