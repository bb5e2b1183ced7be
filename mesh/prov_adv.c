#include "mesh/prov_adv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/crypto.h"

#define OUTQ 4
#define PDU_MAX 128

enum slot_state {
	SLOT_FREE,
	SLOT_OPENING, /* provisioner: waiting for Link ACK */
	SLOT_ACTIVE,
	SLOT_FINISHED, /* result reported; device waits for the Link Close */
};

struct slot {
	enum slot_state state;
	bool device;
	uint32_t link;
	struct prov_sess *sess;
	struct prov_adv *pa;
	struct prov_cfg cfg; /* provisioner: started on Link ACK */
	/* Deferred work, done by flush() once the current call unwinds. */
	uint8_t outq[OUTQ][PDU_MAX];
	size_t outlen[OUTQ];
	size_t nout;
	bool has_result;
	struct prov_result res;
	bool has_failure;
	int err;
	uint8_t prov_err;
	char reason[PROV_REC_REASON_MAX]; /* prov_reason() at the failure */
	bool link_gone;                   /* the bearer already ended the link */
};

struct prov_adv {
	struct pb_adv *pb;
	struct prov_adv_ops ops;
	struct mesh_rng rng;
	bool is_device;
	struct prov_cfg dev_cfg;
	struct slot slot[PROV_ADV_SESSIONS_MAX];
	const char *fail_reason; /* during ops.failed: that slot's reason */
	uint64_t now;
};

static struct slot *find(struct prov_adv *pa, uint32_t link)
{
	size_t i;

	for (i = 0; i < PROV_ADV_SESSIONS_MAX; i++) {
		if (pa->slot[i].state != SLOT_FREE && pa->slot[i].link == link) {
			return &pa->slot[i];
		}
	}
	return NULL;
}

static struct slot *free_slot(struct prov_adv *pa)
{
	size_t i;

	for (i = 0; i < PROV_ADV_SESSIONS_MAX; i++) {
		if (pa->slot[i].state == SLOT_FREE) {
			return &pa->slot[i];
		}
	}
	return NULL;
}

static void slot_clear(struct slot *s)
{
	prov_free(s->sess);
	mesh_crypto_wipe(s, sizeof(*s));
	s->state = SLOT_FREE;
}

/* --- Session callbacks: record, act later -------------------------------- */

static int s_send(void *ctx, const uint8_t *pdu, size_t len)
{
	struct slot *s = ctx;

	if (s->nout == OUTQ || len > PDU_MAX) {
		return -ENOBUFS;
	}
	memcpy(s->outq[s->nout], pdu, len);
	s->outlen[s->nout++] = len;
	return 0;
}

static void s_output(void *ctx, uint8_t action, const char *value)
{
	struct slot *s = ctx;

	if (s->pa->ops.output_oob) {
		s->pa->ops.output_oob(s->pa->ops.ctx, s->link, action, value);
	}
}

static void s_input(void *ctx, uint8_t action, uint8_t size)
{
	struct slot *s = ctx;

	if (s->pa->ops.input_oob_request) {
		s->pa->ops.input_oob_request(s->pa->ops.ctx, s->link, action, size);
	}
}

static int s_assign(void *ctx, const struct prov_caps *caps, uint16_t *unicast)
{
	struct slot *s = ctx;

	if (!s->pa->ops.assign_addr) {
		*unicast = s->cfg.data.unicast;
		return 0;
	}
	return s->pa->ops.assign_addr(s->pa->ops.ctx, s->link, caps, unicast);
}

static int s_data_ready(void *ctx, const struct prov_data *data, const uint8_t dev_key[16],
			uint8_t elements)
{
	struct slot *s = ctx;

	if (!s->pa->ops.data_ready) {
		return 0;
	}
	return s->pa->ops.data_ready(s->pa->ops.ctx, s->link, data, dev_key, elements);
}

static int s_verify(void *ctx, const struct prov_record *recs, size_t n, uint8_t pub_key[64],
		    char *reason, size_t reason_len)
{
	struct slot *s = ctx;

	return s->pa->ops.verify_records(s->pa->ops.ctx, s->link, recs, n, pub_key, reason,
					 reason_len);
}

static void s_done(void *ctx, const struct prov_result *res)
{
	struct slot *s = ctx;

	s->res = *res;
	s->has_result = true;
}

static void s_failed(void *ctx, int err, uint8_t prov_err)
{
	struct slot *s = ctx;

	s->has_failure = true;
	s->err = err;
	s->prov_err = prov_err;
	snprintf(s->reason, sizeof(s->reason), "%s", prov_reason(s->sess));
}

static int start_session(struct slot *s, const struct prov_cfg *cfg)
{
	struct prov_ops ops = {
	    .ctx = s,
	    .send = s_send,
	    .output_oob = s_output,
	    .input_oob_request = s_input,
	    .assign_addr = s_assign,
	    .data_ready = s_data_ready,
	    .verify_records = s->pa->ops.verify_records ? s_verify : NULL,
	    .done = s_done,
	    .failed = s_failed,
	};

	return prov_new(cfg, &ops, &s->pa->rng, &s->sess);
}

/* --- Deferred work --------------------------------------------------------- */

static void flush(struct prov_adv *pa)
{
	size_t i, k;

	for (i = 0; i < PROV_ADV_SESSIONS_MAX; i++) {
		struct slot *s = &pa->slot[i];
		uint32_t link = s->link;

		if (s->state == SLOT_FREE) {
			continue;
		}
		for (k = 0; k < s->nout && !s->link_gone; k++) {
			(void)pb_adv_send(pa->pb, link, s->outq[k], s->outlen[k], pa->now);
		}
		mesh_crypto_wipe(s->outq, sizeof(s->outq));
		s->nout = 0;
		if (s->has_result) {
			struct prov_result res = s->res;

			mesh_crypto_wipe(&s->res, sizeof(s->res));
			s->has_result = false;
			s->state = SLOT_FINISHED;
			/* The provisioner ends the link once Complete has arrived (§5.4.1.10). */
			if (!s->device && !s->link_gone) {
				(void)pb_adv_close(pa->pb, link, PB_ADV_CLOSE_SUCCESS, pa->now);
				s->link_gone = true;
			}
			pa->ops.done(pa->ops.ctx, link, &res);
			mesh_crypto_wipe(&res, sizeof(res));
		} else if (s->has_failure) {
			s->has_failure = false;
			s->state = SLOT_FINISHED;
			if (!s->device && !s->link_gone) {
				(void)pb_adv_close(pa->pb, link, PB_ADV_CLOSE_FAIL, pa->now);
				s->link_gone = true;
			}
			pa->fail_reason = s->reason;
			pa->ops.failed(pa->ops.ctx, link, s->err, s->prov_err);
			pa->fail_reason = NULL;
		}
		/* A provisioner slot, or a device slot whose link ended, is done with. */
		if (s->state == SLOT_FINISHED && (s->link_gone || !s->device)) {
			slot_clear(s);
		}
	}
}

/* --- Bearer callbacks ------------------------------------------------------- */

static void b_adv_send(void *ctx, const uint8_t *data, size_t len)
{
	struct prov_adv *pa = ctx;

	pa->ops.adv_send(pa->ops.ctx, data, len);
}

static void b_opened(void *ctx, uint32_t link)
{
	struct prov_adv *pa = ctx;
	struct slot *s = find(pa, link);

	if (s && !s->device && s->state == SLOT_OPENING) {
		s->state = SLOT_ACTIVE;
		if (prov_start(s->sess, pa->now) < 0 && !s->has_failure) {
			s_failed(s, -EIO, PROV_ERR_NONE);
		}
		return;
	}
	if (!s && pa->is_device) {
		s = free_slot(pa);
		if (!s) {
			(void)pb_adv_close(pa->pb, link, PB_ADV_CLOSE_FAIL, pa->now);
			return;
		}
		memset(s, 0, sizeof(*s));
		s->pa = pa;
		s->device = true;
		s->link = link;
		s->state = SLOT_ACTIVE;
		/* A device session starts idle and waits for the Invite. */
		if (start_session(s, &pa->dev_cfg) || prov_start(s->sess, pa->now) < 0) {
			(void)pb_adv_close(pa->pb, link, PB_ADV_CLOSE_FAIL, pa->now);
			slot_clear(s);
		}
	}
}

static void b_closed(void *ctx, uint32_t link, int reason)
{
	struct prov_adv *pa = ctx;
	struct slot *s = find(pa, link);

	if (!s) {
		return;
	}
	s->link_gone = true;
	if (s->state != SLOT_FINISHED && !s->has_result && !s->has_failure) {
		s_failed(s, reason == -ETIMEDOUT ? -ETIMEDOUT : -ECONNRESET, PROV_ERR_NONE);
	}
}

static void b_pdu(void *ctx, uint32_t link, const uint8_t *pdu, size_t len)
{
	struct prov_adv *pa = ctx;
	struct slot *s = find(pa, link);

	if (s && s->sess && s->state == SLOT_ACTIVE) {
		(void)prov_rx(s->sess, pdu, len, pa->now);
	}
}

static void b_tx_done(void *ctx, uint32_t link)
{
	(void)ctx;
	(void)link;
}

/* --- API ------------------------------------------------------------------- */

struct prov_adv *prov_adv_new(const struct pb_adv_cfg *pb_cfg, const struct prov_cfg *dev_cfg,
			      const struct prov_adv_ops *ops, const struct mesh_rng *rng)
{
	struct prov_adv *pa;
	struct pb_adv_ops bops = {
	    .adv_send = b_adv_send,
	    .link_opened = b_opened,
	    .link_closed = b_closed,
	    .pdu_rx = b_pdu,
	    .tx_done = b_tx_done,
	};

	if (!ops || !ops->adv_send || !ops->done || !ops->failed ||
	    (pb_cfg->uuid && (!dev_cfg || dev_cfg->role != PROV_ROLE_DEVICE))) {
		return NULL;
	}
	pa = calloc(1, sizeof(*pa));
	if (!pa) {
		return NULL;
	}
	pa->ops = *ops;
	if (rng) {
		pa->rng = *rng;
	}
	if (dev_cfg) {
		pa->dev_cfg = *dev_cfg;
		pa->is_device = pb_cfg->uuid != NULL;
	}
	pa->pb = pb_adv_new(pb_cfg, &bops, pa);
	if (!pa->pb) {
		free(pa);
		return NULL;
	}
	return pa;
}

void prov_adv_free(struct prov_adv *pa)
{
	size_t i;

	if (!pa) {
		return;
	}
	for (i = 0; i < PROV_ADV_SESSIONS_MAX; i++) {
		if (pa->slot[i].state != SLOT_FREE) {
			slot_clear(&pa->slot[i]);
		}
	}
	pb_adv_free(pa->pb);
	mesh_crypto_wipe(pa, sizeof(*pa));
	free(pa);
}

int prov_adv_provision(struct prov_adv *pa, const uint8_t uuid[16], const struct prov_cfg *cfg,
		       uint64_t now_ms, uint32_t *h)
{
	struct slot *s = free_slot(pa);
	uint32_t link;
	int r;

	if (!cfg || cfg->role != PROV_ROLE_PROVISIONER) {
		return -EINVAL;
	}
	if (!s) {
		return -ENOSPC;
	}
	pa->now = now_ms;
	memset(s, 0, sizeof(*s));
	s->pa = pa;
	s->cfg = *cfg;
	r = start_session(s, cfg);
	if (r) {
		slot_clear(s);
		return r;
	}
	/* The link ID is known only after open; the slot is found by it afterwards. */
	s->state = SLOT_OPENING;
	r = pb_adv_open(pa->pb, uuid, now_ms, &link);
	if (r) {
		slot_clear(s);
		return r;
	}
	s->link = link;
	*h = link;
	flush(pa);
	return 0;
}

int prov_adv_input_oob(struct prov_adv *pa, uint32_t h, const char *value, uint64_t now_ms)
{
	struct slot *s = find(pa, h);
	int r;

	if (!s || !s->sess || s->state != SLOT_ACTIVE) {
		return -ENOENT;
	}
	pa->now = now_ms;
	r = prov_input_oob(s->sess, value);
	flush(pa);
	return r;
}

int prov_adv_cancel(struct prov_adv *pa, uint32_t h, uint64_t now_ms)
{
	struct slot *s = find(pa, h);

	if (!s) {
		return -ENOENT;
	}
	if (!s->link_gone) {
		(void)pb_adv_close(pa->pb, h, PB_ADV_CLOSE_FAIL, now_ms);
	}
	slot_clear(s);
	return 0;
}

int prov_adv_rx(struct prov_adv *pa, const uint8_t *data, size_t len, uint64_t now_ms)
{
	int r;

	pa->now = now_ms;
	r = pb_adv_rx(pa->pb, data, len, now_ms);
	flush(pa);
	return r;
}

uint64_t prov_adv_next_deadline(const struct prov_adv *pa)
{
	uint64_t d = pb_adv_next_deadline(pa->pb);
	size_t i;

	for (i = 0; i < PROV_ADV_SESSIONS_MAX; i++) {
		const struct slot *s = &pa->slot[i];

		if (s->state == SLOT_ACTIVE && s->sess) {
			uint64_t t = prov_next_deadline(s->sess);

			d = t < d ? t : d;
		}
	}
	return d;
}

void prov_adv_tick(struct prov_adv *pa, uint64_t now_ms)
{
	size_t i;

	pa->now = now_ms;
	pb_adv_tick(pa->pb, now_ms);
	for (i = 0; i < PROV_ADV_SESSIONS_MAX; i++) {
		struct slot *s = &pa->slot[i];

		if (s->state == SLOT_ACTIVE && s->sess) {
			prov_tick(s->sess, now_ms);
		}
	}
	flush(pa);
}

size_t prov_adv_active(const struct prov_adv *pa)
{
	size_t i, n = 0;

	for (i = 0; i < PROV_ADV_SESSIONS_MAX; i++) {
		n += pa->slot[i].state != SLOT_FREE;
	}
	return n;
}

const char *prov_adv_fail_reason(const struct prov_adv *pa)
{
	return pa && pa->fail_reason ? pa->fail_reason : "";
}
