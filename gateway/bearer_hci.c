/*
 * The HCI bearer: a controller driven by gateway/hci.h becomes a mesh
 * advertising bearer.
 *
 * Receiving: a passive scan (window = interval, duplicates not filtered);
 * every mesh AD structure (Mesh Message 0x2A, Mesh Beacon 0x2B, PB-ADV
 * 0x29) in a report goes to ops->rx with the report's RSSI.
 *
 * Transmitting: requests (AD structure, count, interval) wait in a small
 * queue; a scheduler puts them on non-connectable advertising:
 *   - extended controllers: one advertising set per request in flight, up
 *     to the controller's number of sets, each with legacy ADV_NONCONN_IND
 *     PDUs (properties 0x0010), its own random static address and
 *     Max_Extended_Advertising_Events = count; the Advertising Set
 *     Terminated event frees the set;
 *   - legacy controllers: the one advertising "set" is shared round-robin,
 *     one transmission per turn, so no provisioning session starves: set
 *     data, enable, wait one advertising event, disable.  The parameters
 *     (100 ms, the floor for ADV_NONCONN_IND before 5.0) and the random
 *     address are written once, while advertising is disabled.
 * Legacy and extended commands are never mixed on one controller.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/bearer_int.h"
#include "gateway/hci.h"
#include "gateway/log.h"

/*
 * Send requests waiting or on air.  A legacy controller carries one at a time, so a burst
 * (several provisioning sessions plus the configuration of new nodes, each segment sent
 * count times) queues here; the stack's own retransmissions bound what is in flight.
 */
#define REQ_MAX 512
#define SETS_MAX 16
#define SCAN_INTERVAL 0x0030 /* 30 ms; window = interval: listen all the time */
/* Advertising intervals in 0.625 ms units (Vol 4 Part E §7.8.5, §7.8.53). */
#define LEGACY_MIN_INTERVAL 0x00a0 /* 100 ms: ADV_NONCONN_IND on a 4.x controller */
#define EXT_MIN_INTERVAL 0x0020    /* 20 ms */
#define ADV_DELAY_MS 10            /* advDelay: up to 10 ms added to each event */
#define ADV_EVENT_MS 5             /* one legacy advertising event on three channels, margin */
#define EXT_PROPS_LEGACY_NONCONN 0x0010
#define MESH_AD_PB_ADV 0x29
#define MESH_AD_MESSAGE 0x2a
#define MESH_AD_BEACON 0x2b

struct bh;

struct req {
	bool used;
	uint8_t ad[HCI_MSG_ADV_DATA_MAX]; /* the whole AD structure: length, type, data */
	uint8_t len;
	uint8_t remaining; /* transmissions still to do */
	uint16_t interval_ms;
	uint64_t due; /* legacy: the next transmission may start then */
	int set;      /* extended: the set carrying it, or -1 */
};

struct adv_set {
	struct bh *b;
	uint8_t handle;
	bool busy;
	bool failed; /* a command of the current start was refused */
	bool params_valid;
	uint32_t interval;
	bool addr_set;
	int req;
	uint64_t watchdog;
};

struct bh {
	struct gw_bearer base; /* first */
	struct gw_loop *loop;
	struct gw_bearer_ops ops;
	struct hci *hci;
	bool uart;
	int dev;
	char path[256];
	uint32_t baud;
	bool rtscts;
	int (*open)(void *ctx, char *why, size_t why_cap);
	void *open_ctx;
	char name[64];
	bool configured;
	bool ever_ready;
	struct hci_info ctrl; /* copied when ready */
	struct req reqs[REQ_MAX];
	/* legacy scheduler */
	unsigned rr; /* the request served last */
	bool leg_busy;
	int leg_req;
	uint64_t leg_timer;
	uint64_t leg_slot_ms;
	/* extended scheduler */
	struct adv_set sets[SETS_MAX];
	unsigned nsets;
};

static void kick(struct bh *b);

static int open_real(void *ctx, char *why, size_t cap)
{
	struct bh *b = ctx;

	if (b->uart) {
		return hci_io_open_uart(b->path, b->baud, b->rtscts, why, cap);
	}
	return hci_io_open_user(b->dev, why, cap);
}

static void drop_all(struct bh *b)
{
	unsigned i;

	memset(b->reqs, 0, sizeof(b->reqs));
	if (b->leg_timer) {
		(void)gw_loop_timer_cancel(b->loop, b->leg_timer);
		b->leg_timer = 0;
	}
	b->leg_busy = false;
	for (i = 0; i < SETS_MAX; i++) {
		if (b->sets[i].watchdog) {
			(void)gw_loop_timer_cancel(b->loop, b->sets[i].watchdog);
		}
		memset(&b->sets[i], 0, sizeof(b->sets[i]));
		b->sets[i].b = b;
		b->sets[i].handle = (uint8_t)i;
		b->sets[i].req = -1;
	}
}

static void req_done(struct bh *b, int ri)
{
	memset(&b->reqs[ri], 0, sizeof(b->reqs[ri]));
	b->reqs[ri].set = -1;
}

static uint32_t units(uint16_t ms, uint32_t min)
{
	uint32_t u = (uint32_t)ms * 8 / 5;

	return u < min ? min : u;
}

/* --- Set-up when the controller becomes ready -------------------------------- */

static void setup_check(void *ctx, const struct hci_msg_evt *e)
{
	struct bh *b = ctx;
	uint16_t op = e->kind == HCI_MSG_CMD_COMPLETE ? e->u.cc.opcode : e->u.cs.opcode;
	uint8_t st = e->kind == HCI_MSG_CMD_COMPLETE ? e->u.cc.status : e->u.cs.status;
	char why[160];

	if (st) {
		snprintf(why, sizeof(why), "controller refused %s (status 0x%02x)",
			 hci_msg_opcode_name(op), st);
		hci_fault(b->hci, why);
	}
}

static void setup_done(void *ctx, const struct hci_msg_evt *e)
{
	struct bh *b = ctx;

	setup_check(ctx, e);
	if (hci_get_state(b->hci) != HCI_READY) {
		return;
	}
	b->configured = true;
	b->ever_ready = true;
	log_debug("bearer %s: scanning; ready to transmit", b->name);
	kick(b);
}

static void setup(struct bh *b)
{
	struct hci_msg_cmd c;
	int r = 0;

	b->ctrl = *hci_info(b->hci);
	b->nsets =
	    b->ctrl.extended ? (b->ctrl.num_sets > SETS_MAX ? SETS_MAX : b->ctrl.num_sets) : 1;
	if (b->ctrl.extended) {
		hci_msg_le_set_ext_scan_params(&c, SCAN_INTERVAL, SCAN_INTERVAL);
		r = r ? r : hci_cmd(b->hci, &c, setup_check, b);
		hci_msg_le_set_ext_scan_enable(&c, true, false);
		r = r ? r : hci_cmd(b->hci, &c, setup_done, b);
	} else {
		(void)hci_msg_le_set_adv_params(&c, LEGACY_MIN_INTERVAL);
		r = r ? r : hci_cmd(b->hci, &c, setup_check, b);
		hci_msg_le_set_scan_params(&c, SCAN_INTERVAL, SCAN_INTERVAL);
		r = r ? r : hci_cmd(b->hci, &c, setup_check, b);
		hci_msg_le_set_scan_enable(&c, true, false);
		r = r ? r : hci_cmd(b->hci, &c, setup_done, b);
	}
	/*
	 * One advertising event per legacy slot.  The first event of an advertising period
	 * starts when advertising is enabled (plus advDelay), so the slot ends after advDelay
	 * and one event, long before the 100 ms interval would bring a second one: a legacy
	 * controller carries about 50 transmissions a second instead of 9.  BlueZ's generic
	 * mesh-io relies on the same behaviour of controllers.
	 */
	b->leg_slot_ms = ADV_DELAY_MS + ADV_EVENT_MS;
	if (r) {
		hci_fault(b->hci, "cannot queue the scan set-up");
	}
}

static void on_state(void *ctx, enum hci_state st, const char *reason)
{
	struct bh *b = ctx;

	(void)reason;
	b->configured = false;
	drop_all(b);
	if (st == HCI_READY) {
		setup(b);
	}
}

/* --- Receiving ----------------------------------------------------------------- */

struct rx_ctx {
	struct bh *b;
	int8_t rssi;
};

static void on_ad(void *ctx, uint8_t type, const uint8_t *data, size_t len)
{
	struct rx_ctx *x = ctx;

	if (type == MESH_AD_PB_ADV || type == MESH_AD_MESSAGE || type == MESH_AD_BEACON) {
		x->b->ops.rx(x->b->ops.ctx, type, data, len, x->rssi);
	}
}

static void on_reports(struct bh *b, const struct hci_msg_evt *e)
{
	size_t i;

	for (i = 0; i < e->u.adv.n; i++) {
		const struct hci_msg_report *r = &e->u.adv.r[i];
		struct rx_ctx x = {.b = b, .rssi = r->rssi};

		/* Extended reports: Data_Status (bits 5-6) must say "complete". */
		if (e->u.adv.extended && (r->event_type & 0x0060)) {
			continue;
		}
		(void)hci_msg_ad_walk(r->data, r->data_len, on_ad, &x);
	}
}

/* --- Extended advertising: a set per request ------------------------------------ */

static void set_release(struct adv_set *s)
{
	struct bh *b = s->b;

	if (s->watchdog) {
		(void)gw_loop_timer_cancel(b->loop, s->watchdog);
		s->watchdog = 0;
	}
	if (s->req >= 0) {
		req_done(b, s->req);
	}
	s->busy = false;
	s->req = -1;
	kick(b);
}

static void set_check(void *ctx, const struct hci_msg_evt *e)
{
	struct adv_set *s = ctx;
	uint8_t st = e->kind == HCI_MSG_CMD_COMPLETE ? e->u.cc.status : e->u.cs.status;

	if (st) {
		log_debug("bearer %s: set %u: %s refused (status 0x%02x)", s->b->name, s->handle,
			  hci_msg_opcode_name(e->kind == HCI_MSG_CMD_COMPLETE ? e->u.cc.opcode
									      : e->u.cs.opcode),
			  st);
		s->failed = true;
		s->params_valid = false;
		s->addr_set = false;
	}
}

static void on_watchdog(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct adv_set *s = ctx;
	struct hci_msg_ext_adv_set one = {.handle = s->handle};
	struct hci_msg_cmd c;

	(void)loop;
	(void)id;
	s->watchdog = 0;
	/* No Advertising Set Terminated: stop the set ourselves. */
	log_debug("bearer %s: set %u did not terminate; disabling it", s->b->name, s->handle);
	if (!hci_msg_le_set_ext_adv_enable(&c, false, &one, 1)) {
		(void)hci_cmd(s->b->hci, &c, NULL, NULL);
	}
	set_release(s);
}

static void set_enabled(void *ctx, const struct hci_msg_evt *e)
{
	struct adv_set *s = ctx;
	struct req *q;

	set_check(ctx, e);
	if (s->failed || !s->busy || s->req < 0) {
		set_release(s);
		return;
	}
	q = &s->b->reqs[s->req];
	/* Terminated should come after count events; allow generously for advDelay. */
	s->watchdog = gw_loop_timer_at(
	    s->b->loop,
	    gw_loop_now(s->b->loop) + (uint64_t)q->remaining * (q->interval_ms + 2 * ADV_DELAY_MS) +
		2000,
	    on_watchdog, s);
}

static void set_start(struct bh *b, struct adv_set *s, int ri)
{
	struct req *q = &b->reqs[ri];
	struct hci_msg_ext_adv_set one = {
	    .handle = s->handle, .duration = 0, .max_events = q->remaining};
	uint32_t iv = units(q->interval_ms, EXT_MIN_INTERVAL);
	struct hci_msg_cmd c;
	int r = 0;

	s->busy = true;
	s->failed = false;
	s->req = ri;
	q->set = s->handle;
	/* Parameters and address only change here, while the set is disabled. */
	if (!s->params_valid || s->interval != iv) {
		struct hci_msg_ext_adv_params p = {.handle = s->handle,
						   .props = EXT_PROPS_LEGACY_NONCONN,
						   .interval = iv,
						   .own_addr_type = 0x01,
						   .sid = (uint8_t)(s->handle & 0x0f)};

		(void)hci_msg_le_set_ext_adv_params(&c, &p);
		r = r ? r : hci_cmd(b->hci, &c, set_check, s);
		s->params_valid = true;
		s->interval = iv;
	}
	if (!s->addr_set) {
		uint8_t addr[6];

		memcpy(addr, b->ctrl.addr, 6);
		addr[0] = (uint8_t)(addr[0] + s->handle); /* top bits stay 11 */
		hci_msg_le_set_adv_set_random_addr(&c, s->handle, addr);
		r = r ? r : hci_cmd(b->hci, &c, set_check, s);
		s->addr_set = true;
	}
	(void)hci_msg_le_set_ext_adv_data(&c, s->handle, q->ad, q->len);
	r = r ? r : hci_cmd(b->hci, &c, set_check, s);
	(void)hci_msg_le_set_ext_adv_enable(&c, true, &one, 1);
	r = r ? r : hci_cmd(b->hci, &c, set_enabled, s);
	if (r) {
		/* The driver's queue is full or it went down: give the request back. */
		s->busy = false;
		s->req = -1;
		q->set = -1;
		s->params_valid = false;
		s->addr_set = false;
	}
}

static void on_terminated(struct bh *b, const struct hci_msg_evt *e)
{
	unsigned i;

	for (i = 0; i < b->nsets; i++) {
		if (b->sets[i].handle == e->u.term.handle && b->sets[i].busy) {
			set_release(&b->sets[i]);
			return;
		}
	}
}

static void ext_kick(struct bh *b)
{
	unsigned i, s;

	for (i = 0; i < REQ_MAX; i++) {
		if (!b->reqs[i].used || b->reqs[i].set >= 0) {
			continue;
		}
		for (s = 0; s < b->nsets && b->sets[s].busy; s++) {
		}
		if (s == b->nsets) {
			return;
		}
		set_start(b, &b->sets[s], (int)i);
		if (!b->sets[s].busy) {
			return;
		}
	}
}

/* --- Legacy advertising: one set, round-robin ------------------------------------ */

static void leg_next(struct bh *b);

static void leg_wait_done(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct bh *b = ctx;

	(void)loop;
	(void)id;
	b->leg_timer = 0;
	leg_next(b);
}

static void leg_disabled(void *ctx, const struct hci_msg_evt *e)
{
	struct bh *b = ctx;
	struct req *q = &b->reqs[b->leg_req];

	(void)e;
	if (q->used) {
		q->remaining--;
		if (q->remaining == 0) {
			req_done(b, b->leg_req);
		}
	}
	b->leg_busy = false;
	leg_next(b);
}

static void leg_slot_end(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct bh *b = ctx;
	struct hci_msg_cmd c;

	(void)loop;
	(void)id;
	b->leg_timer = 0;
	hci_msg_le_set_adv_enable(&c, false);
	if (hci_cmd(b->hci, &c, leg_disabled, b)) {
		b->leg_busy = false;
	}
}

static void leg_enabled(void *ctx, const struct hci_msg_evt *e)
{
	struct bh *b = ctx;
	uint8_t st = e->kind == HCI_MSG_CMD_COMPLETE ? e->u.cc.status : e->u.cs.status;

	if (st) {
		/* Refused: drop the request rather than retry it forever. */
		log_debug("bearer %s: advertising enable refused (status 0x%02x)", b->name, st);
		req_done(b, b->leg_req);
		b->leg_busy = false;
		leg_next(b);
		return;
	}
	b->leg_timer =
	    gw_loop_timer_at(b->loop, gw_loop_now(b->loop) + b->leg_slot_ms, leg_slot_end, b);
}

static void leg_next(struct bh *b)
{
	uint64_t now = gw_loop_now(b->loop), next = UINT64_MAX;
	struct hci_msg_cmd c;
	unsigned k;
	int pick = -1;

	if (b->leg_busy || !b->configured) {
		return;
	}
	/* Round-robin: start looking after the request served last. */
	for (k = 1; k <= REQ_MAX; k++) {
		unsigned i = (b->rr + k) % REQ_MAX;

		if (!b->reqs[i].used) {
			continue;
		}
		if (b->reqs[i].due <= now) {
			pick = (int)i;
			break;
		}
		if (b->reqs[i].due < next) {
			next = b->reqs[i].due;
		}
	}
	if (pick < 0) {
		if (next != UINT64_MAX && !b->leg_timer) {
			b->leg_timer = gw_loop_timer_at(b->loop, next, leg_wait_done, b);
		}
		return;
	}
	if (b->leg_timer) {
		(void)gw_loop_timer_cancel(b->loop, b->leg_timer);
		b->leg_timer = 0;
	}
	b->rr = (unsigned)pick;
	b->leg_req = pick;
	b->leg_busy = true;
	b->reqs[pick].due = now + b->reqs[pick].interval_ms;
	(void)hci_msg_le_set_adv_data(&c, b->reqs[pick].ad, b->reqs[pick].len);
	if (hci_cmd(b->hci, &c, NULL, NULL)) {
		b->leg_busy = false;
		return;
	}
	hci_msg_le_set_adv_enable(&c, true);
	if (hci_cmd(b->hci, &c, leg_enabled, b)) {
		b->leg_busy = false;
	}
}

static void kick(struct bh *b)
{
	if (!b->configured) {
		return;
	}
	if (b->ctrl.extended) {
		ext_kick(b);
	} else {
		leg_next(b);
	}
}

static void on_event(void *ctx, const struct hci_msg_evt *e)
{
	struct bh *b = ctx;

	switch (e->kind) {
	case HCI_MSG_LE_ADV_REPORT:
		on_reports(b, e);
		break;
	case HCI_MSG_LE_ADV_SET_TERMINATED:
		on_terminated(b, e);
		break;
	case HCI_MSG_CMD_COMPLETE:
	case HCI_MSG_CMD_STATUS:
	case HCI_MSG_HW_ERROR:
	case HCI_MSG_OTHER:
		break;
	}
}

/* --- The bearer interface -------------------------------------------------------- */

static bool bh_ready(const struct gw_bearer *gb)
{
	const struct bh *b = (const struct bh *)gb;

	return b->configured && hci_get_state(b->hci) == HCI_READY;
}

static int bh_send(struct gw_bearer *gb, uint8_t ad_type, const uint8_t *data, size_t len,
		   uint8_t count, uint16_t interval_ms)
{
	struct bh *b = (struct bh *)gb;
	unsigned i;

	if (!bh_ready(gb)) {
		return -ENETDOWN;
	}
	if (count == 0 || len + 2 > HCI_MSG_ADV_DATA_MAX) {
		return -EINVAL;
	}
	for (i = 0; i < REQ_MAX && b->reqs[i].used; i++) {
	}
	if (i == REQ_MAX) {
		return -ENOBUFS;
	}
	b->reqs[i].used = true;
	b->reqs[i].ad[0] = (uint8_t)(len + 1);
	b->reqs[i].ad[1] = ad_type;
	memcpy(b->reqs[i].ad + 2, data, len);
	b->reqs[i].len = (uint8_t)(len + 2);
	b->reqs[i].remaining = count;
	b->reqs[i].interval_ms = interval_ms;
	b->reqs[i].due = gw_loop_now(b->loop);
	b->reqs[i].set = -1;
	kick(b);
	return 0;
}

static void bh_state(const struct gw_bearer *gb, struct gw_bearer_state *out)
{
	const struct bh *b = (const struct bh *)gb;
	enum hci_state st = hci_get_state(b->hci);

	out->kind = b->uart ? "uart" : "hci";
	snprintf(out->name, sizeof(out->name), "%s", b->name);
	switch (st) {
	case HCI_STARTING:
		out->status = GW_BEARER_STARTING;
		break;
	case HCI_READY:
		out->status = b->configured   ? GW_BEARER_READY
			      : b->ever_ready ? GW_BEARER_DOWN
					      : GW_BEARER_STARTING;
		break;
	case HCI_DOWN:
		out->status = GW_BEARER_DOWN;
		break;
	case HCI_FAILED:
		out->status = GW_BEARER_FAILED;
		break;
	}
	if (st == HCI_READY && !b->configured) {
		snprintf(out->reason, sizeof(out->reason), "configuring scanning");
	} else {
		snprintf(out->reason, sizeof(out->reason), "%s", hci_reason(b->hci));
	}
	out->has_controller = b->ever_ready;
	if (b->ever_ready) {
		out->ctrl.hci_version = b->ctrl.hci_version;
		out->ctrl.hci_revision = b->ctrl.hci_revision;
		out->ctrl.manufacturer = b->ctrl.manufacturer;
		snprintf(out->ctrl.manufacturer_name, sizeof(out->ctrl.manufacturer_name), "%s",
			 hci_manufacturer_name(b->ctrl.manufacturer));
		out->ctrl.extended = b->ctrl.extended;
		out->ctrl.adv_sets = b->ctrl.extended ? b->ctrl.num_sets : 1;
	}
}

static void bh_free(struct gw_bearer *gb)
{
	struct bh *b = (struct bh *)gb;

	drop_all(b);
	hci_free(b->hci);
	free(b);
}

static const struct gw_bearer_backend hci_backend = {
    .send = bh_send, .ready = bh_ready, .state = bh_state, .free = bh_free};

struct gw_bearer *gw_bearer_hci_new(struct gw_loop *loop, const struct gw_bearer_hci_conf *conf,
				    const struct gw_bearer_ops *ops, int *err)
{
	struct bh *b = calloc(1, sizeof(*b));
	struct hci_conf hc = {0};
	struct hci_cbs cbs;

	if (!b) {
		*err = -ENOMEM;
		return NULL;
	}
	b->base.be = &hci_backend;
	b->loop = loop;
	b->ops = *ops;
	b->uart = conf->uart;
	b->dev = conf->dev;
	b->baud = conf->baud;
	b->rtscts = conf->rtscts;
	if (conf->uart) {
		if (!conf->path || strlen(conf->path) >= sizeof(b->path)) {
			free(b);
			*err = -ENAMETOOLONG;
			return NULL;
		}
		snprintf(b->path, sizeof(b->path), "%s", conf->path);
		snprintf(b->name, sizeof(b->name), "uart:%.50s", conf->path);
	} else {
		snprintf(b->name, sizeof(b->name), "hci:%d", conf->dev);
	}
	drop_all(b);
	hc.name = b->name;
	hc.kind = conf->uart ? HCI_IO_STREAM : HCI_IO_PACKET;
	hc.open = conf->open ? conf->open : open_real;
	hc.open_ctx = conf->open ? conf->open_ctx : b;
	hc.cmd_timeout_ms = conf->cmd_timeout_ms;
	cbs.ctx = b;
	cbs.state = on_state;
	cbs.event = on_event;
	b->hci = hci_new(loop, &hc, &cbs, err);
	if (!b->hci) {
		free(b);
		return NULL;
	}
	return &b->base;
}
