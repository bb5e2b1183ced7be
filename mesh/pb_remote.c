/*
 * PB-Remote (see pb_remote.h).  Like mesh/prov_adv.c, session callbacks
 * only record what happened; flush() acts on it once the outermost call
 * into this object unwinds, so no session is re-entered from its own
 * callbacks and no slot is freed under a caller.
 */
#include "mesh/pb_remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/crypto.h"

#define TXQ 4

enum slot_state {
	S_FREE,
	S_OPEN,        /* Link Open sent, waiting for Link Status */
	S_WAIT_ACTIVE, /* Link Status success, waiting for Link Report (active) */
	S_ACTIVE,      /* provisioning */
	S_CLOSING,     /* Complete received; Link Close sent, waiting for Link Status */
};

struct slot {
	enum slot_state state;
	uint32_t h;
	struct pb_remote *pr;
	uint16_t net_idx, server;
	bool has_key;
	uint8_t dev_key[16];
	struct rpr_link_open open;
	struct prov_sess *sess;
	char reason[PROV_REC_REASON_MAX]; /* prov_reason() at the failure */
	struct prov_cfg cfg;
	/* Outbound PDUs: txq[0] is the outstanding one when `outstanding`. */
	uint8_t txq[TXQ][PROV_PDU_MAX];
	size_t txlen[TXQ];
	size_t ntx;
	bool outstanding;
	uint8_t out_num, in_num;
	uint32_t pdu_handle; /* the PDU Send last sent segmented, or 0 */
	uint64_t resend, deadline;
	/*
	 * The PDU last sent, after its Outbound Report: until the device
	 * answers (a PDU Report since), it is repeated every pdu_retry_ms as a
	 * request for the server's last PDU Report, whose segmented send may
	 * have failed (the server repeats it when it already has the answer).
	 */
	uint8_t last[PROV_PDU_MAX];
	size_t last_len;
	bool answered;
	uint64_t poke;
	/*
	 * Round-trip time to the server (RFC 6298 with Karn's rule, as
	 * PB-ADV's links): sampled from Link Open to Link Status and from each
	 * unsegmented PDU Send to its Outbound Report, when the request went
	 * once.  An outstanding unsegmented PDU Send is repeated after rto (0
	 * before any sample: cfg.pdu_retry_ms), doubled for each repeat, at
	 * most cfg.pdu_retry_ms: a lost PDU Send costs a few round trips
	 * instead of 2.5 s.  A segmented one keeps cfg.pdu_retry_ms: its
	 * segments take their own time to go, the lower transport repeats the
	 * lost ones, and a repeat too early would queue all of them again
	 * behind the first transfer.
	 */
	bool timing;       /* a request is being timed */
	uint64_t timed_at; /* when it left */
	uint32_t srtt, rttvar, rto;
	uint8_t repeats; /* of the outstanding PDU Send */
	/* Recorded by session callbacks, acted on by flush(). */
	bool has_result;
	struct prov_result res;
	bool has_failure;
	int err;
	uint8_t prov_err, link_status;
};

struct pb_remote {
	struct rpr_cli *cli;
	struct pb_remote_cfg cfg;
	struct pb_remote_ops ops;
	struct mesh_rng rng;
	struct slot slot[PB_REMOTE_SESSIONS_MAX];
	char fail_reason[PROV_REC_REASON_MAX]; /* during ops.failed */
	uint32_t next_h;
	unsigned depth; /* nesting of entry points; flush() runs at the outermost */
	uint64_t now;
};

static void slot_clear(struct slot *s)
{
	prov_free(s->sess);
	mesh_crypto_wipe(s, sizeof(*s));
	s->state = S_FREE;
}

static struct slot *by_handle(struct pb_remote *pr, uint32_t h)
{
	size_t i;

	for (i = 0; i < PB_REMOTE_SESSIONS_MAX; i++) {
		if (pr->slot[i].state != S_FREE && pr->slot[i].h == h) {
			return &pr->slot[i];
		}
	}
	return NULL;
}

static struct slot *by_server(struct pb_remote *pr, uint16_t server)
{
	size_t i;

	for (i = 0; i < PB_REMOTE_SESSIONS_MAX; i++) {
		if (pr->slot[i].state != S_FREE && pr->slot[i].server == server) {
			return &pr->slot[i];
		}
	}
	return NULL;
}

/* --- Round-trip timing ------------------------------------------------------------ */

static void time_start(struct slot *s)
{
	s->timing = true;
	s->timed_at = s->pr->now;
}

static void time_stop(struct slot *s)
{
	const struct pb_remote_cfg *c = &s->pr->cfg;
	uint64_t d;
	uint32_t sample, rto;

	if (!s->timing) {
		return;
	}
	s->timing = false;
	d = s->pr->now - s->timed_at;
	sample = d > c->pdu_retry_ms ? c->pdu_retry_ms : (uint32_t)d;
	if (!s->rto) {
		s->srtt = sample;
		s->rttvar = sample / 2;
	} else {
		uint32_t err = s->srtt > sample ? s->srtt - sample : sample - s->srtt;

		s->rttvar = (3 * s->rttvar + err) / 4;
		s->srtt = (7 * s->srtt + sample) / 8;
	}
	rto = s->srtt + 4 * s->rttvar;
	rto = rto < c->pdu_retry_min_ms ? c->pdu_retry_min_ms : rto;
	s->rto = rto > c->pdu_retry_ms ? c->pdu_retry_ms : rto;
}

/*
 * A PDU Send carrying len octets of Provisioning PDU fits one unsegmented
 * access PDU (device key, 32-bit TransMIC): its 2-octet opcode and
 * OutboundPDUNumber leave 8 of the 11 octets of payload.
 */
#define PDU_UNSEG_MAX 8

/* When the outstanding PDU Send of len octets goes again, counted from now. */
static uint64_t pdu_resend_at(const struct slot *s, size_t len)
{
	const struct pb_remote_cfg *c = &s->pr->cfg;
	uint64_t t = s->rto && len <= PDU_UNSEG_MAX
			 ? (uint64_t)s->rto << (s->repeats < 8 ? s->repeats : 8)
			 : c->pdu_retry_ms;

	return s->pr->now + (t < c->pdu_retry_ms ? t : c->pdu_retry_ms);
}

/* --- Messages to the server ---------------------------------------------------- */

static int send_msg(struct slot *s, const struct rpr_msg *m)
{
	return rpr_cli_send(s->pr->cli, s->net_idx, s->server, s->has_key ? s->dev_key : NULL, m,
			    s->pr->now, NULL);
}

static int send_open(struct slot *s)
{
	struct rpr_msg m = {.op = RPR_OP_LINK_OPEN};

	m.link_open = s->open;
	return send_msg(s, &m);
}

static void send_close(struct slot *s, uint8_t reason)
{
	struct rpr_msg m = {.op = RPR_OP_LINK_CLOSE};

	m.link_close.reason = reason;
	(void)send_msg(s, &m);
}

static void send_pdu(struct slot *s, const uint8_t *pdu, size_t len)
{
	struct rpr_msg m = {.op = RPR_OP_PDU_SEND};
	uint32_t h = 0;

	m.pdu.num = s->out_num;
	m.pdu.pdu = pdu;
	m.pdu.pdu_len = len;
	/* Keep the handle of a repeat only when it went (a queued one has none). */
	if (rpr_cli_send(s->pr->cli, s->net_idx, s->server, s->has_key ? s->dev_key : NULL, &m,
			 s->pr->now, &h) == 0 &&
	    h) {
		s->pdu_handle = h;
	}
	s->resend = pdu_resend_at(s, len);
}

/* Record a failure; flush() closes the link and reports it. */
static void fail(struct slot *s, int err, uint8_t prov_err, uint8_t link_status)
{
	if (!s->has_failure && !s->has_result) {
		s->has_failure = true;
		s->err = err;
		s->prov_err = prov_err;
		s->link_status = link_status;
	}
}

/* --- Session callbacks ------------------------------------------------------------ */

static int s_send(void *ctx, const uint8_t *pdu, size_t len)
{
	struct slot *s = ctx;

	if (s->ntx == TXQ || len > PROV_PDU_MAX) {
		return -ENOBUFS;
	}
	memcpy(s->txq[s->ntx], pdu, len);
	s->txlen[s->ntx++] = len;
	return 0;
}

static void s_output(void *ctx, uint8_t action, const char *value)
{
	struct slot *s = ctx;

	if (s->pr->ops.output_oob) {
		s->pr->ops.output_oob(s->pr->ops.ctx, s->h, action, value);
	}
}

static void s_input(void *ctx, uint8_t action, uint8_t size)
{
	struct slot *s = ctx;

	if (s->pr->ops.input_oob_request) {
		s->pr->ops.input_oob_request(s->pr->ops.ctx, s->h, action, size);
	}
}

static int s_assign(void *ctx, const struct prov_caps *caps, uint16_t *unicast)
{
	struct slot *s = ctx;

	if (!s->pr->ops.assign_addr) {
		*unicast = s->cfg.data.unicast;
		return 0;
	}
	return s->pr->ops.assign_addr(s->pr->ops.ctx, s->h, caps, unicast);
}

static int s_data_ready(void *ctx, const struct prov_data *data, const uint8_t dev_key[16],
			uint8_t elements)
{
	struct slot *s = ctx;

	if (!s->pr->ops.data_ready) {
		return 0;
	}
	return s->pr->ops.data_ready(s->pr->ops.ctx, s->h, data, dev_key, elements);
}

static void s_done(void *ctx, const struct prov_result *res)
{
	struct slot *s = ctx;

	s->res = *res;
	s->has_result = true;
}

static int s_verify(void *ctx, const struct prov_record *recs, size_t n, uint8_t pub_key[64],
		    char *reason, size_t reason_len)
{
	struct slot *s = ctx;

	return s->pr->ops.verify_records(s->pr->ops.ctx, s->h, recs, n, pub_key, reason,
					 reason_len);
}

static void s_failed(void *ctx, int err, uint8_t prov_err)
{
	struct slot *s = ctx;

	if (!s->has_failure && !s->has_result) {
		snprintf(s->reason, sizeof(s->reason), "%s", prov_reason(s->sess));
	}
	fail(s, err, prov_err, PB_REMOTE_NO_STATUS);
}

/* --- Deferred work ----------------------------------------------------------------- */

static void pop_tx(struct slot *s)
{
	size_t i;

	memcpy(s->last, s->txq[0], s->txlen[0]);
	s->last_len = s->txlen[0];
	s->poke = s->pr->now + s->pr->cfg.pdu_retry_ms;

	for (i = 1; i < s->ntx; i++) {
		memcpy(s->txq[i - 1], s->txq[i], s->txlen[i]);
		s->txlen[i - 1] = s->txlen[i];
	}
	s->ntx--;
	mesh_crypto_wipe(s->txq[s->ntx], sizeof(s->txq[s->ntx]));
	s->outstanding = false;
}

static void finish_done(struct pb_remote *pr, struct slot *s)
{
	struct prov_result res = s->res;
	uint32_t h = s->h;

	slot_clear(s);
	pr->ops.done(pr->ops.ctx, h, &res);
	mesh_crypto_wipe(&res, sizeof(res));
}

/* One pass over the slots; true when a callback ran (the caller passes again). */
static bool flush_once(struct pb_remote *pr)
{
	size_t i;

	for (i = 0; i < PB_REMOTE_SESSIONS_MAX; i++) {
		struct slot *s = &pr->slot[i];

		if (s->state == S_FREE) {
			continue;
		}
		if (s->has_failure) {
			int err = s->err;
			uint8_t pe = s->prov_err, ls = s->link_status;
			uint32_t h = s->h;

			send_close(s, RPR_REASON_FAIL);
			memcpy(pr->fail_reason, s->reason, sizeof(pr->fail_reason));
			slot_clear(s);
			pr->ops.failed(pr->ops.ctx, h, err, pe, ls);
			pr->fail_reason[0] = '\0';
			return true;
		}
		if (s->has_result && s->state == S_ACTIVE) {
			/* The device has sent Complete: end the link (§5.4.1.10). */
			s->state = S_CLOSING;
			s->outstanding = false;
			s->ntx = 0;
			mesh_crypto_wipe(s->txq, sizeof(s->txq));
			send_close(s, RPR_REASON_SUCCESS);
			s->resend = pr->now + pr->cfg.retry_ms;
			s->deadline = pr->now + pr->cfg.req_timeout_ms;
		}
		if (s->state == S_ACTIVE && !s->outstanding && s->ntx) {
			s->out_num++;
			s->outstanding = true;
			s->answered = false;
			s->deadline = pr->now + pr->cfg.pdu_timeout_ms;
			s->repeats = 0;
			if (s->txlen[0] <= PDU_UNSEG_MAX) {
				time_start(s);
			}
			send_pdu(s, s->txq[0], s->txlen[0]);
		}
	}
	return false;
}

static void enter(struct pb_remote *pr, uint64_t now)
{
	if (pr->depth++ == 0) {
		pr->now = now;
	}
}

static void leave(struct pb_remote *pr)
{
	if (pr->depth == 1) {
		while (flush_once(pr)) {
		}
	}
	pr->depth--;
}

/* --- Messages from the server -------------------------------------------------------- */

static int status_err(uint8_t st)
{
	switch (st) {
	case RPR_STATUS_INVALID_STATE:
		return -EBUSY;
	case RPR_STATUS_LIMITED_RESOURCES:
		return -ENOSPC;
	case RPR_STATUS_LINK_CANNOT_OPEN:
		return -ECONNREFUSED;
	case RPR_STATUS_LINK_OPEN_FAILED:
		return -ETIMEDOUT;
	case RPR_STATUS_LINK_CLOSED_BY_DEVICE:
	case RPR_STATUS_LINK_CLOSED_BY_SERVER:
	case RPR_STATUS_LINK_CLOSED_BY_CLIENT:
	case RPR_STATUS_LINK_CLOSED_CANNOT_RECEIVE:
	case RPR_STATUS_LINK_CLOSED_CANNOT_SEND:
	case RPR_STATUS_LINK_CLOSED_CANNOT_DELIVER:
		return -ECONNRESET;
	default:
		return -EPROTO;
	}
}

static void activate(struct slot *s)
{
	s->state = S_ACTIVE;
	s->deadline = UINT64_MAX;
	if (prov_start(s->sess, s->pr->now) < 0) {
		fail(s, -EIO, PROV_ERR_NONE, PB_REMOTE_NO_STATUS);
	}
}

static void on_link_status(struct slot *s, const struct rpr_link_status *ls)
{
	if (s->state == S_CLOSING) {
		finish_done(s->pr, s);
		return;
	}
	if (s->state != S_OPEN) {
		return;
	}
	time_stop(s);
	if (ls->status != RPR_STATUS_SUCCESS) {
		fail(s, status_err(ls->status), PROV_ERR_NONE, ls->status);
		return;
	}
	if (ls->state == RPR_LINK_ACTIVE) {
		activate(s);
		return;
	}
	s->state = S_WAIT_ACTIVE;
	/* The server tries for LinkOpenTimeout; allow it that and one request time-out. */
	s->deadline =
	    s->pr->now +
	    (uint64_t)(s->open.has_timeout ? s->open.timeout : RPR_LINK_OPEN_TIMEOUT_MAX) * 1000 +
	    s->pr->cfg.req_timeout_ms;
}

static void on_link_report(struct slot *s, const struct rpr_link_status *lr)
{
	if (s->state == S_CLOSING) {
		if (lr->state == RPR_LINK_IDLE) {
			finish_done(s->pr, s);
		}
		return;
	}
	if ((s->state == S_OPEN || s->state == S_WAIT_ACTIVE) && lr->status == RPR_STATUS_SUCCESS &&
	    lr->state == RPR_LINK_ACTIVE) {
		activate(s);
		return;
	}
	if (lr->status != RPR_STATUS_SUCCESS || lr->state == RPR_LINK_IDLE) {
		int err = lr->has_reason && lr->reason == RPR_REASON_TIMEOUT
			      ? -ETIMEDOUT
			      : status_err(lr->status);

		fail(s, err, PROV_ERR_NONE, lr->status);
	}
}

static void on_pdu_report(struct slot *s, const struct rpr_pdu *p)
{
	if (s->state != S_ACTIVE || (int8_t)(uint8_t)(p->num - s->in_num) <= 0) {
		return; /* a repeat, or not ours to take yet */
	}
	s->in_num = p->num;
	s->answered = true;
	s->timing = false; /* the answer took the device's time too: no sample */
	/*
	 * Provisioning is request/response (§5.4.1): the device answers only
	 * after our last PDU reached it, so its PDU acknowledges that one.
	 */
	if (s->outstanding) {
		pop_tx(s);
	}
	(void)prov_rx(s->sess, p->pdu, p->pdu_len, s->pr->now);
}

static bool link_rx(void *ctx, uint16_t src, const struct rpr_msg *m)
{
	struct pb_remote *pr = ctx;
	struct slot *s = by_server(pr, src);

	if (!s) {
		return false;
	}
	enter(pr, mesh_node_now(rpr_cli_node(pr->cli)));
	switch (m->op) {
	case RPR_OP_LINK_STATUS:
		on_link_status(s, &m->link_status);
		break;
	case RPR_OP_LINK_REPORT:
		on_link_report(s, &m->link_status);
		break;
	case RPR_OP_PDU_OUTBOUND_REPORT:
		if (s->state == S_ACTIVE && s->outstanding && m->pdu.num == s->out_num) {
			/* The server has the whole PDU Send: its segments need not go again. */
			time_stop(s);
			rpr_cli_answered(pr->cli, s->pdu_handle, pr->now);
			s->pdu_handle = 0;
			pop_tx(s);
		}
		break;
	case RPR_OP_PDU_REPORT:
		on_pdu_report(s, &m->pdu);
		break;
	default:
		break;
	}
	leave(pr);
	return true;
}

/* --- API ---------------------------------------------------------------------------------- */

struct pb_remote *pb_remote_new(struct rpr_cli *cli, const struct pb_remote_cfg *cfg,
				const struct pb_remote_ops *ops, const struct mesh_rng *rng)
{
	struct rpr_cli_link_handler lh = {.rx = link_rx};
	struct pb_remote *pr;

	if (!cli || !ops || !ops->done || !ops->failed) {
		return NULL;
	}
	pr = calloc(1, sizeof(*pr));
	if (!pr) {
		return NULL;
	}
	pr->cli = cli;
	if (cfg) {
		pr->cfg = *cfg;
	}
	pr->cfg.req_timeout_ms = pr->cfg.req_timeout_ms ? pr->cfg.req_timeout_ms : 10000;
	pr->cfg.retry_ms = pr->cfg.retry_ms ? pr->cfg.retry_ms : 1000;
	pr->cfg.pdu_retry_ms = pr->cfg.pdu_retry_ms ? pr->cfg.pdu_retry_ms : 2500;
	pr->cfg.pdu_retry_min_ms = pr->cfg.pdu_retry_min_ms ? pr->cfg.pdu_retry_min_ms : 500;
	if (pr->cfg.pdu_retry_min_ms > pr->cfg.pdu_retry_ms) {
		pr->cfg.pdu_retry_min_ms = pr->cfg.pdu_retry_ms;
	}
	pr->cfg.pdu_timeout_ms = pr->cfg.pdu_timeout_ms ? pr->cfg.pdu_timeout_ms : 35000;
	pr->ops = *ops;
	if (rng) {
		pr->rng = *rng;
	}
	pr->next_h = 1;
	lh.ctx = pr;
	rpr_cli_link_handler_set(cli, &lh);
	return pr;
}

void pb_remote_free(struct pb_remote *pr)
{
	size_t i;

	if (!pr) {
		return;
	}
	rpr_cli_link_handler_set(pr->cli, NULL);
	for (i = 0; i < PB_REMOTE_SESSIONS_MAX; i++) {
		slot_clear(&pr->slot[i]);
	}
	mesh_crypto_wipe(pr, sizeof(*pr));
	free(pr);
}

static int start(struct pb_remote *pr, const struct pb_remote_target *t,
		 const struct rpr_link_open *lo, const struct prov_cfg *cfg, uint64_t now_ms,
		 uint32_t *h)
{
	struct prov_ops ops = {
	    .send = s_send,
	    .output_oob = s_output,
	    .input_oob_request = s_input,
	    .assign_addr = s_assign,
	    .data_ready = s_data_ready,
	    .verify_records = pr->ops.verify_records ? s_verify : NULL,
	    .done = s_done,
	    .failed = s_failed,
	};
	struct slot *s = NULL;
	size_t i;
	int r;

	if (!t || !cfg || !h || cfg->role != PROV_ROLE_PROVISIONER ||
	    !mesh_addr_is_unicast(t->server)) {
		return -EINVAL;
	}
	if (by_server(pr, t->server)) {
		return -EBUSY;
	}
	for (i = 0; i < PB_REMOTE_SESSIONS_MAX && !s; i++) {
		s = pr->slot[i].state == S_FREE ? &pr->slot[i] : NULL;
	}
	if (!s) {
		return -ENOSPC;
	}
	enter(pr, now_ms);
	memset(s, 0, sizeof(*s));
	s->pr = pr;
	s->net_idx = t->net_idx;
	s->server = t->server;
	s->has_key = t->dev_key != NULL;
	if (t->dev_key) {
		memcpy(s->dev_key, t->dev_key, 16);
	}
	s->open = *lo;
	s->cfg = *cfg;
	ops.ctx = s;
	r = prov_new(cfg, &ops, &pr->rng, &s->sess);
	if (!r) {
		r = send_open(s);
	}
	if (!r) {
		time_start(s);
	}
	if (r) {
		slot_clear(s);
	} else {
		s->state = S_OPEN;
		s->h = pr->next_h++;
		if (!pr->next_h) {
			pr->next_h = 1;
		}
		s->resend = now_ms + pr->cfg.retry_ms;
		s->deadline = now_ms + pr->cfg.req_timeout_ms;
		*h = s->h;
	}
	leave(pr);
	return r;
}

int pb_remote_provision(struct pb_remote *pr, const struct pb_remote_target *t,
			const uint8_t uuid[16], uint8_t link_timeout_s, const struct prov_cfg *cfg,
			uint64_t now_ms, uint32_t *h)
{
	struct rpr_link_open lo = {0};

	if (!uuid || link_timeout_s > RPR_LINK_OPEN_TIMEOUT_MAX) {
		return -EINVAL;
	}
	memcpy(lo.uuid, uuid, 16);
	lo.has_timeout = link_timeout_s != 0;
	lo.timeout = link_timeout_s;
	return start(pr, t, &lo, cfg, now_ms, h);
}

int pb_remote_refresh(struct pb_remote *pr, const struct pb_remote_target *t, uint8_t procedure,
		      const struct prov_cfg *cfg, uint64_t now_ms, uint32_t *h)
{
	struct rpr_link_open lo = {0};

	if (procedure > RPR_NPPI_COMPOSITION_REFRESH) {
		return -EINVAL;
	}
	lo.nppi = true;
	lo.procedure = procedure;
	return start(pr, t, &lo, cfg, now_ms, h);
}

int pb_remote_input_oob(struct pb_remote *pr, uint32_t h, const char *value, uint64_t now_ms)
{
	struct slot *s = by_handle(pr, h);
	int r;

	if (!s || s->state != S_ACTIVE) {
		return -ENOENT;
	}
	enter(pr, now_ms);
	r = prov_input_oob(s->sess, value);
	leave(pr);
	return r;
}

int pb_remote_cancel(struct pb_remote *pr, uint32_t h, uint64_t now_ms)
{
	struct slot *s = by_handle(pr, h);

	if (!s) {
		return -ENOENT;
	}
	enter(pr, now_ms);
	send_close(s, RPR_REASON_FAIL);
	slot_clear(s);
	leave(pr);
	return 0;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Our last PDU was delivered and nothing came back since; nothing else to send. */
static bool awaits_answer(const struct slot *s)
{
	return s->state == S_ACTIVE && !s->outstanding && !s->ntx && !s->answered && s->last_len;
}

uint64_t pb_remote_next_deadline(const struct pb_remote *pr)
{
	uint64_t d = UINT64_MAX;
	size_t i;

	for (i = 0; i < PB_REMOTE_SESSIONS_MAX; i++) {
		const struct slot *s = &pr->slot[i];
		uint64_t t;

		if (s->state == S_FREE) {
			continue;
		}
		t = s->deadline;
		if (s->state == S_ACTIVE) {
			/* While active, the timers run only for an outstanding PDU. */
			uint64_t p = prov_next_deadline(s->sess);

			t = s->outstanding     ? min64(s->deadline, s->resend)
			    : awaits_answer(s) ? s->poke
					       : UINT64_MAX;
			t = min64(t, p);
		} else if (s->state == S_OPEN || s->state == S_CLOSING) {
			t = min64(t, s->resend);
		}
		d = min64(t, d);
	}
	return d;
}

static void tick_slot(struct pb_remote *pr, struct slot *s, uint64_t now)
{
	switch (s->state) {
	case S_OPEN:
		if (s->deadline <= now) {
			fail(s, -ETIMEDOUT, PROV_ERR_NONE, PB_REMOTE_NO_STATUS);
		} else if (s->resend <= now) {
			s->timing = false;
			(void)send_open(s);
			s->resend = now + pr->cfg.retry_ms;
		}
		break;
	case S_WAIT_ACTIVE:
		if (s->deadline <= now) {
			fail(s, -ETIMEDOUT, PROV_ERR_NONE, PB_REMOTE_NO_STATUS);
		}
		break;
	case S_ACTIVE:
		prov_tick(s->sess, now);
		if (s->outstanding && s->deadline <= now) {
			/* No Outbound Report for the whole transfer time: the server is gone. */
			fail(s, -ETIMEDOUT, PROV_ERR_NONE, PB_REMOTE_NO_STATUS);
		} else if (s->outstanding && s->resend <= now) {
			s->timing = false;
			s->repeats++;
			send_pdu(s, s->txq[0], s->txlen[0]);
		} else if (awaits_answer(s) && s->poke <= now) {
			send_pdu(s, s->last, s->last_len);
			s->poke = now + pr->cfg.pdu_retry_ms;
		}
		break;
	case S_CLOSING:
		if (s->deadline <= now) {
			/* The device completed; an unconfirmed Link Close changes nothing for it.
			 */
			finish_done(pr, s);
		} else if (s->resend <= now) {
			send_close(s, RPR_REASON_SUCCESS);
			s->resend = now + pr->cfg.retry_ms;
		}
		break;
	case S_FREE:
		break;
	}
}

void pb_remote_tick(struct pb_remote *pr, uint64_t now_ms)
{
	size_t i;

	enter(pr, now_ms);
	for (i = 0; i < PB_REMOTE_SESSIONS_MAX; i++) {
		tick_slot(pr, &pr->slot[i], now_ms);
	}
	leave(pr);
}

size_t pb_remote_active(const struct pb_remote *pr)
{
	size_t i, n = 0;

	for (i = 0; i < PB_REMOTE_SESSIONS_MAX; i++) {
		n += pr->slot[i].state != S_FREE;
	}
	return n;
}

const char *pb_remote_fail_reason(const struct pb_remote *pr)
{
	return pr ? pr->fail_reason : "";
}
