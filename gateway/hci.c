#include "gateway/hci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "gateway/log.h"

#define QMAX 32
#define DEF_CMD_TIMEOUT_MS 2000
#define DEF_BACKOFF_MIN_MS 500
#define DEF_BACKOFF_MAX_MS 10000
/* An idle controller is asked something this often, so a hung one is noticed. */
#define PROBE_MS 5000

/* Set Event Mask (§7.3.1): the default mask (bits 0-44) plus LE Meta (bit 61). */
#define EVENT_MASK (0x00001fffffffffffULL | (1ULL << 61))
/* LE Set Event Mask (§7.8.1): bit n enables subevent n + 1. */
#define LE_MASK_ADV_REPORT (1ULL << (EVT_LE_ADVERTISING_REPORT - 1))
#define LE_MASK_EXT_ADV_REPORT (1ULL << (HCI_MSG_EVT_LE_EXT_ADV_REPORT - 1))
#define LE_MASK_ADV_SET_TERMINATED (1ULL << (HCI_MSG_EVT_LE_ADV_SET_TERMINATED - 1))

/* LE Supported Features bit 12 (Vol 6 Part B §4.6): LE Extended Advertising. */
#define FEAT_EXT_ADV_OCTET 1
#define FEAT_EXT_ADV_BIT 0x10
/*
 * Supported Commands (§6.27): octet 36 bits 1 (Set Advertising Set Random
 * Address), 2 (Set Extended Advertising Parameters), 3 (… Data), 5 (…
 * Enable), 7 (Read Number of Supported Advertising Sets); octet 37 bits 5
 * and 6 (Set Extended Scan Parameters / Enable); octet 27 bit 7 (LE Rand).
 */
#define CMDS36_EXT_ADV 0xae
#define CMDS37_EXT_SCAN 0x60
#define CMDS27_LE_RAND 0x80

struct qcmd {
	struct hci_msg_cmd c;
	hci_done_cb cb;
	void *ctx;
};

enum init_step {
	INIT_RESET,
	INIT_VERSION,
	INIT_COMMANDS,
	INIT_FEATURES,
	INIT_EVENT_MASK,
	INIT_LE_EVENT_MASK,
	INIT_RAND,
	INIT_ADDR_OR_SETS,
	INIT_DONE,
};

struct hci {
	struct gw_loop *loop;
	struct hci_conf conf;
	struct hci_cbs cbs;
	enum hci_state state;
	char reason[256];
	struct hci_io *io;
	bool io_dead; /* faulted: packets are ignored until it is reaped */
	bool initialising;
	enum init_step step;
	struct qcmd q[QMAX];
	size_t qhead, qlen;
	bool inflight;
	struct qcmd cur;
	uint8_t credits;
	uint64_t cmd_timer;
	uint64_t timer; /* reap, then re-open */
	uint64_t probe_timer;
	/*
	 * A framing error closed the transport while a command was outstanding: the controller
	 * still holds that command's credit (Core Vol 4 Part E 4.4), so after re-opening the
	 * driver waits for its Command Complete/Status, or one command timeout, before Reset.
	 */
	bool owed;
	uint64_t owed_timer;
	uint64_t last_tx; /* when the last command was written */
	uint32_t backoff;
	struct hci_info info;
};

static void init_next(void *ctx, const struct hci_msg_evt *e);
static void on_timer(struct gw_loop *loop, uint64_t id, void *ctx);

const char *hci_state_name(enum hci_state st)
{
	switch (st) {
	case HCI_STARTING:
		return "starting";
	case HCI_READY:
		return "ready";
	case HCI_DOWN:
		return "down-reopening";
	case HCI_FAILED:
		return "failed";
	}
	return "?";
}

const char *hci_manufacturer_name(uint16_t company)
{
	/* libbluetooth's table of company identifiers (Assigned Numbers). */
	return bt_compidtostr(company);
}

static const char *core_version(uint8_t v)
{
	static const char *const names[] = {"1.0b", "1.1", "1.2", "2.0", "2.1", "3.0", "4.0", "4.1",
					    "4.2",  "5.0", "5.1", "5.2", "5.3", "5.4", "6.0"};

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "newer than 6.0";
}

static void set_state(struct hci *h, enum hci_state st, const char *reason)
{
	bool changed = st != h->state || strcmp(reason, h->reason) != 0;

	snprintf(h->reason, sizeof(h->reason), "%s", reason);
	if (st == h->state && !changed) {
		return;
	}
	/* One line per state change; ready() writes its own, with the controller. */
	if (st != h->state && st != HCI_READY) {
		if (st == HCI_DOWN || st == HCI_FAILED) {
			/* The one line an administrator reads when the radio is missing: the
			 * cause, the remedy (in the reason), and that nothing else is needed. */
			log_warnx("%s: %s: %s; retrying every %u s at most, the bearer comes up by "
				  "itself",
				  h->conf.name, hci_state_name(st), reason,
				  (unsigned)(h->conf.backoff_max_ms / 1000));
		} else {
			log_info("%s: %s: %s", h->conf.name, hci_state_name(st), reason);
		}
	}
	h->state = st;
	if (h->cbs.state) {
		h->cbs.state(h->cbs.ctx, st, reason);
	}
}

static void arm(struct hci *h, uint64_t delay)
{
	if (h->timer) {
		(void)gw_loop_timer_cancel(h->loop, h->timer);
	}
	h->timer = gw_loop_timer_at(h->loop, gw_loop_now(h->loop) + delay, on_timer, h);
}

static void drop_queue(struct hci *h)
{
	if (h->probe_timer) {
		(void)gw_loop_timer_cancel(h->loop, h->probe_timer);
		h->probe_timer = 0;
	}
	h->qlen = 0;
	h->qhead = 0;
	h->inflight = false;
	if (h->cmd_timer) {
		(void)gw_loop_timer_cancel(h->loop, h->cmd_timer);
		h->cmd_timer = 0;
	}
}

static void start_init(struct hci *h)
{
	struct hci_msg_cmd c;

	h->credits = 1; /* until the controller says otherwise (§4.4) */
	h->initialising = true;
	h->step = INIT_RESET;
	hci_msg_reset(&c);
	(void)hci_cmd(h, &c, init_next, h);
}

/* Closes the transport (on the next iteration: we may be inside its callback) and re-opens. */
static void fault(struct hci *h, const char *why)
{
	if (h->io_dead || !h->io) {
		return;
	}
	if (h->owed_timer) {
		(void)gw_loop_timer_cancel(h->loop, h->owed_timer);
		h->owed_timer = 0;
	}
	drop_queue(h);
	h->initialising = false;
	h->io_dead = true;
	set_state(h, h->state == HCI_FAILED ? HCI_FAILED : HCI_DOWN, why);
	arm(h, 0);
}

void hci_fault(struct hci *h, const char *why)
{
	fault(h, why);
}

static void hw_error(struct hci *h, uint8_t code)
{
	char why[96];

	snprintf(why, sizeof(why), "hardware error 0x%02x: resetting the controller", code);
	drop_queue(h);
	set_state(h, HCI_DOWN, why);
	start_init(h);
}

static void on_cmd_timeout(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct hci *h = ctx;
	char why[160];

	(void)loop;
	(void)id;
	h->cmd_timer = 0;
	snprintf(why, sizeof(why), "controller stopped answering (%s: no reply in %u ms)",
		 hci_msg_opcode_name(h->cur.c.opcode), h->conf.cmd_timeout_ms);
	fault(h, why);
}

static void pump(struct hci *h)
{
	while (!h->inflight && h->credits > 0 && h->qlen && h->io && !h->io_dead) {
		int r;

		h->cur = h->q[h->qhead];
		h->qhead = (h->qhead + 1) % QMAX;
		h->qlen--;
		log_debug("%s: > %s (0x%04x), %u octets", h->conf.name,
			  hci_msg_opcode_name(h->cur.c.opcode), h->cur.c.opcode,
			  (unsigned)(h->cur.c.len - 4));
		r = hci_io_send(h->io, h->cur.c.buf, h->cur.c.len);
		if (r) {
			char why[128];

			snprintf(why, sizeof(why), "cannot write to the controller: %s",
				 strerror(-r));
			fault(h, why);
			return;
		}
		h->inflight = true;
		h->credits--;
		h->last_tx = gw_loop_now(h->loop);
		h->cmd_timer = gw_loop_timer_at(
		    h->loop, gw_loop_now(h->loop) + h->conf.cmd_timeout_ms, on_cmd_timeout, h);
	}
}

int hci_cmd(struct hci *h, const struct hci_msg_cmd *c, hci_done_cb cb, void *ctx)
{
	struct qcmd *q;

	if (!h->io || h->io_dead || (h->state != HCI_READY && !h->initialising)) {
		return -ENETDOWN;
	}
	if (h->qlen == QMAX) {
		return -ENOBUFS;
	}
	q = &h->q[(h->qhead + h->qlen) % QMAX];
	q->c = *c;
	q->cb = cb;
	q->ctx = ctx;
	h->qlen++;
	pump(h);
	return 0;
}

static void init_fail(struct hci *h, const char *what, const struct hci_msg_evt *e)
{
	char why[160];
	uint8_t st = e->kind == HCI_MSG_CMD_STATUS ? e->u.cs.status : e->u.cc.status;

	snprintf(why, sizeof(why), "controller refused %s during start-up (status 0x%02x)", what,
		 st);
	fault(h, why);
}

static void make_static_addr(uint8_t addr[6], const uint8_t rnd[6])
{
	memcpy(addr, rnd, 6);
	/* Random static address (Vol 6 Part B §1.3.2.1): the two top bits 11, the rest not
	 * all zeros or all ones. */
	addr[5] |= 0xc0;
	if ((addr[0] & addr[1] & addr[2] & addr[3] & addr[4] & (addr[5] | 0xc0)) == 0xff) {
		addr[0] = 0xfe;
	}
	if (!(addr[0] | addr[1] | addr[2] | addr[3] | addr[4] | (addr[5] & 0x3f))) {
		addr[0] = 0x01;
	}
}

/*
 * Liveness: a controller that hangs while the gateway has nothing to send
 * would leave it deaf and "ready".  When no command went out for PROBE_MS,
 * Read Local Version Information goes out; its deadline catches the hang.
 */
static void on_probe(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct hci *h = ctx;
	uint64_t now = gw_loop_now(loop);

	(void)id;
	h->probe_timer = 0;
	if (h->state != HCI_READY) {
		return;
	}
	if (!h->inflight && !h->qlen && now - h->last_tx >= PROBE_MS) {
		struct hci_msg_cmd c;

		hci_msg_read_local_version(&c);
		(void)hci_cmd(h, &c, NULL, NULL);
	}
	h->probe_timer = gw_loop_timer_at(loop, now + PROBE_MS, on_probe, h);
}

static void ready(struct hci *h)
{
	const struct hci_info *i = &h->info;

	h->initialising = false;
	h->backoff = h->conf.backoff_min_ms;
	log_info("%s: ready: controller Bluetooth %s (HCI version 0x%02x, revision 0x%04x), "
		 "manufacturer %s (0x%04x), %s advertising, %u set%s",
		 h->conf.name, core_version(i->hci_version), i->hci_version, i->hci_revision,
		 hci_manufacturer_name(i->manufacturer), i->manufacturer,
		 i->extended ? "extended" : "legacy", i->num_sets, i->num_sets == 1 ? "" : "s");
	set_state(h, HCI_READY, "");
	if (h->state == HCI_READY && !h->probe_timer) {
		h->probe_timer =
		    gw_loop_timer_at(h->loop, gw_loop_now(h->loop) + PROBE_MS, on_probe, h);
	}
}

/* The start-up sequence: each completion checks its answer and sends the next command. */
static void init_next(void *ctx, const struct hci_msg_evt *e)
{
	struct hci *h = ctx;
	struct hci_info *i = &h->info;
	struct hci_msg_cmd c;
	struct hci_msg_local_version v;
	uint8_t rnd[8];
	static const char *const names[] = {"Reset",
					    "Read Local Version Information",
					    "Read Local Supported Commands",
					    "LE Read Local Supported Features",
					    "Set Event Mask",
					    "LE Set Event Mask",
					    "LE Rand",
					    "the advertising set-up"};

	if (e->kind == HCI_MSG_CMD_STATUS || e->u.cc.status != 0) {
		init_fail(h, names[h->step], e);
		return;
	}
	switch (h->step) {
	case INIT_RESET:
		memset(i, 0, sizeof(*i));
		hci_msg_read_local_version(&c);
		break;
	case INIT_VERSION:
		if (hci_msg_rp_local_version(e, &v)) {
			fault(h, "malformed Read Local Version Information reply");
			return;
		}
		i->hci_version = v.hci_version;
		i->hci_revision = v.hci_revision;
		i->lmp_version = v.lmp_version;
		i->manufacturer = v.manufacturer;
		hci_msg_read_local_commands(&c);
		break;
	case INIT_COMMANDS:
		if (hci_msg_rp_local_commands(e, i->commands)) {
			fault(h, "malformed Read Local Supported Commands reply");
			return;
		}
		hci_msg_le_read_local_features(&c);
		break;
	case INIT_FEATURES:
		if (hci_msg_rp_le_features(e, i->features)) {
			fault(h, "malformed LE Read Local Supported Features reply");
			return;
		}
		i->extended = (i->features[FEAT_EXT_ADV_OCTET] & FEAT_EXT_ADV_BIT) &&
			      (i->commands[36] & CMDS36_EXT_ADV) == CMDS36_EXT_ADV &&
			      (i->commands[37] & CMDS37_EXT_SCAN) == CMDS37_EXT_SCAN;
		i->num_sets = 1;
		hci_msg_set_event_mask(&c, EVENT_MASK);
		break;
	case INIT_EVENT_MASK:
		hci_msg_le_set_event_mask(&c, i->extended
						  ? LE_MASK_ADV_REPORT | LE_MASK_EXT_ADV_REPORT |
							LE_MASK_ADV_SET_TERMINATED
						  : LE_MASK_ADV_REPORT);
		break;
	case INIT_LE_EVENT_MASK:
		if (i->commands[27] & CMDS27_LE_RAND) {
			hci_msg_le_rand(&c);
			break;
		}
		/* No LE Rand: the kernel's generator serves as well. */
		if (getrandom(rnd, 6, 0) != 6) {
			fault(h, "getrandom failed");
			return;
		}
		make_static_addr(i->addr, rnd);
		h->step = INIT_RAND;
		goto addr_or_sets;
	case INIT_RAND:
		if (hci_msg_rp_le_rand(e, rnd)) {
			fault(h, "malformed LE Rand reply");
			return;
		}
		make_static_addr(i->addr, rnd);
	addr_or_sets:
		if (i->extended) {
			/* Each set gets its own address later (bearer); no LE Set Random Address.
			 */
			hci_msg_le_read_num_adv_sets(&c);
		} else {
			hci_msg_le_set_random_addr(&c, i->addr);
		}
		break;
	case INIT_ADDR_OR_SETS:
		if (i->extended && (hci_msg_rp_num_adv_sets(e, &i->num_sets) || !i->num_sets)) {
			fault(h, "the controller reports no advertising sets");
			return;
		}
		h->step = INIT_DONE;
		ready(h);
		return;
	case INIT_DONE:
		return;
	}
	h->step++;
	if (hci_cmd(h, &c, init_next, h)) {
		fault(h, "cannot queue a start-up command");
	}
}

static void on_packet(void *ctx, const uint8_t *pkt, size_t len)
{
	struct hci *h = ctx;
	struct hci_msg_evt e;

	if (h->io_dead) {
		return;
	}
	if (hci_msg_evt_decode(pkt, len, &e)) {
		log_debug("%s: < malformed event 0x%02x (%zu octets) ignored", h->conf.name,
			  len > 1 ? pkt[1] : 0, len);
		return;
	}
	switch (e.kind) {
	case HCI_MSG_CMD_COMPLETE:
	case HCI_MSG_CMD_STATUS: {
		uint16_t op = e.kind == HCI_MSG_CMD_COMPLETE ? e.u.cc.opcode : e.u.cs.opcode;
		uint8_t st = e.kind == HCI_MSG_CMD_COMPLETE ? e.u.cc.status : e.u.cs.status;

		if (h->owed) {
			/* The answer the controller owed from before the fault: now Reset. */
			log_debug("%s: < late answer to 0x%04x; resetting", h->conf.name, op);
			h->owed = false;
			if (h->owed_timer) {
				(void)gw_loop_timer_cancel(h->loop, h->owed_timer);
				h->owed_timer = 0;
			}
			start_init(h);
			break;
		}
		h->credits = e.kind == HCI_MSG_CMD_COMPLETE ? e.u.cc.ncmd : e.u.cs.ncmd;
		log_debug("%s: < Command %s %s (0x%04x) status 0x%02x, credits %u", h->conf.name,
			  e.kind == HCI_MSG_CMD_COMPLETE ? "Complete" : "Status",
			  hci_msg_opcode_name(op), op, st, h->credits);
		if (h->inflight && op == h->cur.c.opcode) {
			struct qcmd done = h->cur;

			h->inflight = false;
			if (h->cmd_timer) {
				(void)gw_loop_timer_cancel(h->loop, h->cmd_timer);
				h->cmd_timer = 0;
			}
			if (done.cb) {
				done.cb(done.ctx, &e);
			}
		}
		pump(h);
		break;
	}
	case HCI_MSG_HW_ERROR:
		log_debug("%s: < Hardware Error 0x%02x", h->conf.name, e.u.hw_code);
		hw_error(h, e.u.hw_code);
		break;
	case HCI_MSG_LE_ADV_REPORT:
	case HCI_MSG_LE_ADV_SET_TERMINATED:
		log_debug("%s: < LE Meta 0x%02x, %zu octets", h->conf.name, e.subevent, len);
		if (h->state == HCI_READY && h->cbs.event) {
			h->cbs.event(h->cbs.ctx, &e);
		}
		break;
	case HCI_MSG_OTHER:
		log_debug("%s: < event 0x%02x ignored", h->conf.name, e.code);
		break;
	}
}

static void on_gone(void *ctx, int err, const char *why)
{
	struct hci *h = ctx;

	/*
	 * Only a framing error leaves the controller itself running mid-command; one that went
	 * away (end of file, I/O error) comes back reset, and a timed-out one is not waited for.
	 */
	if (err == -EBADMSG && h->inflight && !h->io_dead) {
		h->owed = true;
	}
	fault(h, why);
}

static void on_owed_timeout(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct hci *h = ctx;

	(void)loop;
	(void)id;
	h->owed_timer = 0;
	h->owed = false;
	log_debug("%s: no answer to the command before the fault; resetting", h->conf.name);
	start_init(h);
}

/* On a fresh transport: Reset, unless the controller still owes an answer (see owed). */
static void begin(struct hci *h)
{
	if (!h->owed) {
		start_init(h);
		return;
	}
	h->owed_timer = gw_loop_timer_at(h->loop, gw_loop_now(h->loop) + h->conf.cmd_timeout_ms,
					 on_owed_timeout, h);
	if (!h->owed_timer) {
		h->owed = false;
		start_init(h);
	}
}

static bool permanent(int err)
{
	return err == -EAFNOSUPPORT || err == -EPERM || err == -EACCES || err == -EINVAL ||
	       err == -ENOTTY;
}

static void grow_backoff(struct hci *h)
{
	h->backoff =
	    h->backoff * 2 > h->conf.backoff_max_ms ? h->conf.backoff_max_ms : h->backoff * 2;
}

static void try_open(struct hci *h)
{
	struct hci_io_cbs cbs = {.ctx = h, .packet = on_packet, .gone = on_gone};
	char why[200] = "";
	int fd, r;

	fd = h->conf.open(h->conf.open_ctx, why, sizeof(why));
	if (fd < 0) {
		set_state(h, permanent(fd) ? HCI_FAILED : HCI_DOWN, why[0] ? why : strerror(-fd));
		arm(h, h->state == HCI_FAILED ? h->conf.backoff_max_ms : h->backoff);
		grow_backoff(h);
		return;
	}
	h->io = hci_io_new(h->loop, fd, h->conf.kind, &cbs, &r);
	if (!h->io) {
		snprintf(why, sizeof(why), "cannot watch the controller: %s", strerror(-r));
		set_state(h, HCI_DOWN, why);
		arm(h, h->backoff);
		return;
	}
	h->io_dead = false;
	begin(h);
}

/* One timer for the transport's life: reap a faulted transport, then open again. */
static void on_timer(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct hci *h = ctx;

	(void)loop;
	(void)id;
	h->timer = 0;
	if (h->io && h->io_dead) {
		hci_io_free(h->io);
		h->io = NULL;
		arm(h, h->backoff);
		grow_backoff(h);
		return;
	}
	if (!h->io) {
		try_open(h);
	}
}

struct hci *hci_new(struct gw_loop *loop, const struct hci_conf *conf, const struct hci_cbs *cbs,
		    int *err)
{
	struct hci *h = calloc(1, sizeof(*h));

	if (!h) {
		*err = -ENOMEM;
		return NULL;
	}
	h->loop = loop;
	h->conf = *conf;
	if (!h->conf.cmd_timeout_ms) {
		h->conf.cmd_timeout_ms = DEF_CMD_TIMEOUT_MS;
	}
	if (!h->conf.backoff_min_ms) {
		h->conf.backoff_min_ms = DEF_BACKOFF_MIN_MS;
	}
	if (!h->conf.backoff_max_ms) {
		h->conf.backoff_max_ms = DEF_BACKOFF_MAX_MS;
	}
	h->cbs = *cbs;
	h->state = HCI_STARTING;
	snprintf(h->reason, sizeof(h->reason), "opening %s", conf->name);
	h->backoff = h->conf.backoff_min_ms;
	arm(h, 0);
	return h;
}

enum hci_state hci_get_state(const struct hci *h)
{
	return h->state;
}

const char *hci_reason(const struct hci *h)
{
	return h->reason;
}

const struct hci_info *hci_info(const struct hci *h)
{
	return &h->info;
}

void hci_free(struct hci *h)
{
	if (!h) {
		return;
	}
	drop_queue(h);
	if (h->timer) {
		(void)gw_loop_timer_cancel(h->loop, h->timer);
	}
	if (h->owed_timer) {
		(void)gw_loop_timer_cancel(h->loop, h->owed_timer);
	}
	hci_io_free(h->io);
	free(h);
}
