#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <string.h>

#include "mesh/pb_adv.h"
#include "tests/util/tv.h"

/* --- Recording fake: every AD payload and callback, in order. --------------- */

#define CAP_FRAMES 64

struct cap {
	uint8_t frame[CAP_FRAMES][MESH_ADV_DATA_MAX];
	size_t flen[CAP_FRAMES];
	unsigned nframes;
	unsigned opened, closed, pdus, done;
	uint32_t link;
	int reason;
	uint8_t pdu[PB_ADV_PDU_MAX];
	size_t pdu_len;
	char events[64]; /* one letter per callback: O opened, C closed, R pdu_rx, D tx_done */
	unsigned nevents;
};

static void ev(struct cap *c, char e)
{
	if (c->nevents + 1 < sizeof(c->events)) {
		c->events[c->nevents++] = e;
	}
}

static void cap_send(void *ctx, const uint8_t *data, size_t len)
{
	struct cap *c = ctx;

	cr_assert_leq(len, MESH_ADV_DATA_MAX);
	cr_assert_lt(c->nframes, CAP_FRAMES);
	memcpy(c->frame[c->nframes], data, len);
	c->flen[c->nframes++] = len;
}

static void cap_opened(void *ctx, uint32_t link)
{
	struct cap *c = ctx;

	c->opened++;
	c->link = link;
	ev(c, 'O');
}

static void cap_closed(void *ctx, uint32_t link, int reason)
{
	struct cap *c = ctx;

	c->closed++;
	c->link = link;
	c->reason = reason;
	ev(c, 'C');
}

static void cap_pdu(void *ctx, uint32_t link, const uint8_t *pdu, size_t len)
{
	struct cap *c = ctx;

	c->pdus++;
	c->link = link;
	memcpy(c->pdu, pdu, len);
	c->pdu_len = len;
	ev(c, 'R');
}

static void cap_done(void *ctx, uint32_t link)
{
	struct cap *c = ctx;

	c->done++;
	c->link = link;
	ev(c, 'D');
}

static const struct pb_adv_ops cap_ops = {
    .adv_send = cap_send,
    .link_opened = cap_opened,
    .link_closed = cap_closed,
    .pdu_rx = cap_pdu,
    .tx_done = cap_done,
};

/* An rng that yields a fixed byte string (the §8.7 sample Link ID). */
struct fixed_rng {
	uint8_t b[4];
	size_t off;
};

static int fixed_fill(void *ctx, uint8_t *buf, size_t len)
{
	struct fixed_rng *f = ctx;

	for (size_t i = 0; i < len; i++) {
		buf[i] = f->b[f->off++ % sizeof(f->b)];
	}
	return 0;
}

static size_t hex(const char *h, uint8_t *out)
{
	int n = tv_hex(h, out, 64);

	cr_assert_geq(n, 0, "bad hex %s", h);
	return (size_t)n;
}

static void assert_frame(const struct cap *c, unsigned i, const char *want_hex)
{
	uint8_t want[64];
	size_t n = hex(want_hex, want);

	cr_assert_gt(c->nframes, i, "frame %u not sent (want %s)", i, want_hex);
	cr_assert_eq(c->flen[i], n, "frame %u: %s, want %s", i, tv_tohex(c->frame[i], c->flen[i]),
		     want_hex);
	cr_assert_arr_eq(c->frame[i], want, n, "frame %u: %s, want %s", i,
			 tv_tohex(c->frame[i], c->flen[i]), want_hex);
}

static int rx_hex(struct pb_adv *pb, const char *h, uint64_t now)
{
	uint8_t b[64];
	size_t n = hex(h, b);

	return pb_adv_rx(pb, b, n, now);
}

/* Deliver frame i of `from` to `to`, expecting success. */
static void pass(struct cap *from, unsigned i, struct pb_adv *to, uint64_t now)
{
	cr_assert_gt(from->nframes, i);
	cr_assert_eq(pb_adv_rx(to, from->frame[i], from->flen[i], now), 0, "rx of %s",
		     tv_tohex(from->frame[i], from->flen[i]));
}

/* --- The §8.7 pair: provisioner with Link ID 23af5850, device 70cf7c97… ----- */

struct pair {
	struct fixed_rng frng;
	uint8_t uuid[16];
	struct cap pc, dc;
	struct pb_adv *prov, *dev;
	uint32_t link;
};

static void pair_new(struct pair *p)
{
	struct pb_adv_cfg pcfg = {0}, dcfg = {0};

	memset(p, 0, sizeof(*p));
	cr_assert_eq(tv_bytes(tv_get("pb_adv"), "sample_link_id", p->frng.b, 4), 4);
	cr_assert_eq(
	    tv_bytes(tv_get("pb_adv.transactions[step=Link Open]"), "DeviceUUID", p->uuid, 16), 16);
	pcfg.rng.fn = fixed_fill;
	pcfg.rng.ctx = &p->frng;
	dcfg.uuid = p->uuid;
	p->prov = pb_adv_new(&pcfg, &cap_ops, &p->pc);
	p->dev = pb_adv_new(&dcfg, &cap_ops, &p->dc);
	cr_assert_not_null(p->prov);
	cr_assert_not_null(p->dev);
}

/* Open the link of the sample: Link Open, Link ACK. */
static void pair_open(struct pair *p)
{
	cr_assert_eq(pb_adv_open(p->prov, p->uuid, 0, &p->link), 0);
	pass(&p->pc, 0, p->dev, 10);
	pass(&p->dc, 0, p->prov, 20);
	cr_assert_eq(p->pc.opened, 1);
	cr_assert_eq(p->dc.opened, 1);
	memset(&p->pc, 0, sizeof(p->pc));
	memset(&p->dc, 0, sizeof(p->dc));
}

static void pair_free(struct pair *p)
{
	pb_adv_free(p->prov);
	pb_adv_free(p->dev);
}

/*
 * Run the provisioner's timers until it reports a closed link; at[i] gets
 * the time frame i was sent.  Returns the time of the close.
 */
static uint64_t tick_until_closed(struct pair *p, uint64_t *at)
{
	uint64_t now = 0;

	while (p->pc.closed == 0) {
		unsigned n = p->pc.nframes;

		now = pb_adv_next_deadline(p->prov);
		cr_assert_neq(now, UINT64_MAX);
		pb_adv_tick(p->prov, now);
		for (unsigned i = n; i < p->pc.nframes; i++) {
			at[i] = now;
		}
	}
	return now;
}

/* FCS values of formats.md §1.4 and of every §8.7 transaction. */
Test(pb_adv, s1_4_fcs_examples)
{
	const uint8_t invite[] = {0x00, 0x00}, complete[] = {0x08};
	uint8_t caps[16], pdu[PB_ADV_PDU_MAX], fcs[1];
	json_t *tr = tv_get("pb_adv.transactions"), *t;
	size_t i;
	unsigned checked = 0;

	cr_assert_eq(pb_adv_fcs(invite, sizeof(invite)), 0x14);
	cr_assert_eq(hex("010100010000000000000000", caps), 12);
	cr_assert_eq(pb_adv_fcs(caps, 12), 0xd6);
	cr_assert_eq(pb_adv_fcs(complete, 1), 0x3e);
	json_array_foreach(tr, i, t)
	{
		int n = tv_bytes(t, "ProvisioningPDU", pdu, sizeof(pdu));

		if (n < 0) {
			continue;
		}
		cr_assert_eq(tv_bytes(t, "FCS", fcs, 1), 1);
		cr_assert_eq(pb_adv_fcs(pdu, (size_t)n), fcs[0], "%s", tv_str(t, "step"));
		checked++;
	}
	cr_assert_eq(checked, 11);
}

/*
 * §8.7: the whole sample exchange reproduces octet for octet: Link Open,
 * Link ACK, every segment of every transaction, every Transaction Ack, and
 * Link Close; each PDU arrives once at the other side.
 */
Test(pb_adv, s8_7_sample_exchange)
{
	json_t *tr = tv_get("pb_adv.transactions"), *t, *segs, *seg;
	uint8_t pdu[PB_ADV_PDU_MAX];
	struct pair p;
	uint64_t now = 0;
	size_t i, j;

	pair_new(&p);
	cr_assert_eq(pb_adv_open(p.prov, p.uuid, now, &p.link), 0);
	cr_assert_eq(p.link, 0x23af5850);
	assert_frame(&p.pc, 0,
		     tv_str(tv_get("pb_adv.transactions[step=Link Open]"), "adv_payload"));
	pass(&p.pc, 0, p.dev, now += 10);
	cr_assert_eq(p.dc.opened, 1);
	cr_assert_eq(p.dc.link, 0x23af5850);
	assert_frame(&p.dc, 0, tv_str(tv_get("pb_adv.transactions[step=Link ACK]"), "adv_payload"));
	cr_assert_eq(p.pc.opened, 0, "not open before the Link ACK");
	pass(&p.dc, 0, p.prov, now += 10);
	cr_assert_eq(p.pc.opened, 1);

	json_array_foreach(tr, i, t)
	{
		int n = tv_bytes(t, "ProvisioningPDU", pdu, sizeof(pdu));
		struct pair_side {
			struct pb_adv *pb;
			struct cap *c;
		} tx, rx;
		unsigned f0, r0, rf0, d0;

		if (n < 0) {
			continue;
		}
		/* Transaction numbers 0x80 and up are the device's. */
		if (tv_hexnum(t, "transaction", 0) >= 0x80) {
			tx = (struct pair_side){p.dev, &p.dc};
			rx = (struct pair_side){p.prov, &p.pc};
		} else {
			tx = (struct pair_side){p.prov, &p.pc};
			rx = (struct pair_side){p.dev, &p.dc};
		}
		f0 = tx.c->nframes;
		rf0 = rx.c->nframes;
		r0 = rx.c->pdus;
		d0 = tx.c->done;
		cr_assert_eq(pb_adv_send(tx.pb, p.link, pdu, (size_t)n, now), 0);
		segs = json_object_get(t, "adv_payloads");
		cr_assert_eq(tx.c->nframes - f0, json_array_size(segs), "%s", tv_str(t, "step"));
		json_array_foreach(segs, j, seg)
		{
			assert_frame(tx.c, f0 + (unsigned)j, json_string_value(seg));
			pass(tx.c, f0 + (unsigned)j, rx.pb, now += 10);
		}
		cr_assert_eq(rx.c->pdus, r0 + 1, "%s delivered once", tv_str(t, "step"));
		cr_assert_eq(rx.c->pdu_len, (size_t)n);
		cr_assert_arr_eq(rx.c->pdu, pdu, (size_t)n);
		cr_assert_eq(rx.c->nframes, rf0 + 1, "exactly one Transaction Ack");
		assert_frame(rx.c, rf0, tv_str(t, "transaction_ack"));
		pass(rx.c, rf0, tx.pb, now += 10);
		cr_assert_eq(tx.c->done, d0 + 1);
	}
	cr_assert_eq(pb_adv_close(p.prov, p.link, PB_ADV_CLOSE_SUCCESS, now), 0);
	assert_frame(&p.pc, p.pc.nframes - 1,
		     tv_str(tv_get("pb_adv.transactions[step=Link Close (reason 00 Success)]"),
			    "adv_payload"));
	pass(&p.pc, p.pc.nframes - 1, p.dev, now += 10);
	cr_assert_eq(p.dc.closed, 1);
	cr_assert_eq(p.dc.reason, PB_ADV_CLOSE_SUCCESS);
	cr_assert_eq(p.pc.closed, 0, "a local close has no callback");
	cr_assert_eq(pb_adv_next_deadline(p.dev), UINT64_MAX);
	pair_free(&p);
}

/* §8.7.14: Link Close goes out three times, then the Link ID is released. */
Test(pb_adv, s8_7_14_link_close_three_times)
{
	const char *close = tv_str(
	    tv_get("pb_adv.transactions[step=Link Close (reason 00 Success)]"), "adv_payload");
	struct pair p;
	uint64_t now = 100;
	uint8_t one = 0;

	pair_new(&p);
	pair_open(&p);
	cr_assert_eq(pb_adv_close(p.prov, p.link, PB_ADV_CLOSE_SUCCESS, now), 0);
	cr_assert_eq(pb_adv_send(p.prov, p.link, &one, 1, now), -ENOENT);
	cr_assert_eq(pb_adv_close(p.prov, p.link, PB_ADV_CLOSE_SUCCESS, now), -ENOENT);
	while (pb_adv_next_deadline(p.prov) != UINT64_MAX) {
		now = pb_adv_next_deadline(p.prov);
		cr_assert_lt(now, 100 + 10000);
		pb_adv_tick(p.prov, now);
	}
	cr_assert_eq(p.pc.nframes, PB_ADV_CLOSE_REPEAT);
	for (unsigned i = 0; i < p.pc.nframes; i++) {
		assert_frame(&p.pc, i, close);
	}
	/* The device ends on the first copy and ignores the others. */
	pass(&p.pc, 0, p.dev, now);
	cr_assert_eq(pb_adv_rx(p.dev, p.pc.frame[1], p.pc.flen[1], now), -ENOENT);
	cr_assert_eq(p.dc.closed, 1);
	pair_free(&p);
}

/*
 * §5.3.2: Link Open is repeated with a growing interval (so a device that
 * re-queues its Link ACK on every Link Open is not starved), and the link
 * establishment fails after 60 s with a Link Close (Timeout).
 */
Test(pb_adv, s5_3_2_link_open_backoff_and_timeout)
{
	const char *open = tv_str(tv_get("pb_adv.transactions[step=Link Open]"), "adv_payload");
	uint64_t at[CAP_FRAMES], now = 0;
	struct pair p;
	unsigned i;

	pair_new(&p);
	cr_assert_eq(pb_adv_open(p.prov, p.uuid, 0, &p.link), 0);
	at[0] = 0;
	now = tick_until_closed(&p, at);
	cr_assert_eq(now, PB_ADV_LINK_TIMEOUT_MS);
	cr_assert_eq(p.pc.reason, -ETIMEDOUT);
	/* Every frame but the last is the Link Open; intervals never shrink. */
	cr_assert_gt(p.pc.nframes, 3);
	for (i = 0; i + 1 < p.pc.nframes; i++) {
		assert_frame(&p.pc, i, open);
		if (i >= 2) {
			cr_assert_geq(at[i] - at[i - 1], at[i - 1] - at[i - 2]);
		}
	}
	cr_assert_geq(at[1] - at[0], 1000, "not repeated every 500 ms");
	assert_frame(&p.pc, p.pc.nframes - 1, "23af5850000b01");
	pair_free(&p);
}

/*
 * pb_adv_cfg.open_timeout_ms: a provisioner Link Open nobody answers fails
 * after the configured time (a gateway gives an absent device's slot back
 * early), still with Link Close (Timeout) on the air; 0 keeps the §5.3.2
 * default of PB_ADV_LINK_TIMEOUT_MS.
 */
Test(pb_adv, open_timeout_configurable)
{
	static const uint32_t cfg_ms[] = {7000, 0};
	static const uint64_t want_ms[] = {7000, PB_ADV_LINK_TIMEOUT_MS};
	uint64_t at[CAP_FRAMES], now;
	unsigned k;

	for (k = 0; k < 2; k++) {
		struct pb_adv_cfg pcfg = {0};
		struct pair p;

		pair_new(&p);
		pb_adv_free(p.prov);
		pcfg.rng.fn = fixed_fill;
		pcfg.rng.ctx = &p.frng;
		pcfg.open_timeout_ms = cfg_ms[k];
		p.prov = pb_adv_new(&pcfg, &cap_ops, &p.pc);
		cr_assert_not_null(p.prov);
		cr_assert_eq(pb_adv_open(p.prov, p.uuid, 100, &p.link), 0);
		at[0] = 100;
		now = tick_until_closed(&p, at);
		cr_assert_eq(now, 100 + want_ms[k], "open_timeout_ms %u: closed at %llu",
			     (unsigned)cfg_ms[k], (unsigned long long)now);
		cr_assert_eq(p.pc.closed, 1);
		cr_assert_eq(p.pc.opened, 0);
		cr_assert_eq(p.pc.reason, -ETIMEDOUT);
		cr_assert_eq(p.pc.link, p.link);
		assert_frame(&p.pc, p.pc.nframes - 1, "23af5850000b01");
		pair_free(&p);
	}
}

/*
 * The first transaction leaves no sooner than 20 ms after the last Link Open
 * (two advDelay bounds), so it cannot overtake a Link Open repeat on the air
 * (bluetooth-meshd restarts its link on a late Link Open and drops its reply).
 */
Test(pb_adv, first_transaction_waits_out_link_open_guard)
{
	const uint8_t invite[] = {0x00, 0x05};
	struct pair p;

	pair_new(&p);
	cr_assert_eq(pb_adv_open(p.prov, p.uuid, 0, &p.link), 0);
	pass(&p.pc, 0, p.dev, 10);
	/* The Link ACK is slow: the provisioner repeats its Link Open at 1 s. */
	pb_adv_tick(p.prov, 1000);
	cr_assert_eq(p.pc.nframes, 2);
	assert_frame(&p.pc, 1,
		     tv_str(tv_get("pb_adv.transactions[step=Link Open]"), "adv_payload"));
	/* The ACK of the first Link Open arrives 5 ms after the repeat left. */
	pass(&p.dc, 0, p.prov, 1005);
	cr_assert_eq(p.pc.opened, 1);
	cr_assert_eq(pb_adv_send(p.prov, p.link, invite, sizeof(invite), 1005), 0);
	cr_assert_eq(p.pc.nframes, 2, "Invite sent 5 ms after a Link Open");
	cr_assert_eq(pb_adv_next_deadline(p.prov), 1020);
	pb_adv_tick(p.prov, 1019);
	cr_assert_eq(p.pc.nframes, 2);
	pb_adv_tick(p.prov, 1020);
	cr_assert_eq(p.pc.nframes, 3);
	/* Transaction Start, TN 0, SegN 0, length 2, FCS, then the Invite itself. */
	cr_assert_eq(p.pc.flen[2], 4 + 1 + 1 + 2 + 1 + sizeof(invite));
	cr_assert_eq(p.pc.frame[2][4], 0x00);
	cr_assert_eq(p.pc.frame[2][5], 0x00);
	cr_assert_arr_eq(p.pc.frame[2] + 9, invite, sizeof(invite));
	/* It is a normal transaction from then on: the device's ack completes it. */
	pass(&p.pc, 2, p.dev, 1030);
	cr_assert_eq(p.dc.pdus, 1);
	pass(&p.dc, 1, p.prov, 1040);
	cr_assert_eq(p.pc.done, 1);
	pair_free(&p);
}

/* A Link ACK long after the last Link Open: the first transaction leaves at once. */
Test(pb_adv, first_transaction_not_held_without_recent_link_open)
{
	const uint8_t invite[] = {0x00, 0x05};
	struct pair p;

	pair_new(&p);
	cr_assert_eq(pb_adv_open(p.prov, p.uuid, 0, &p.link), 0);
	pass(&p.pc, 0, p.dev, 10);
	pass(&p.dc, 0, p.prov, 400);
	cr_assert_eq(pb_adv_send(p.prov, p.link, invite, sizeof(invite), 400), 0);
	cr_assert_eq(p.pc.nframes, 2, "Invite held although the Link Open left 400 ms ago");
	pair_free(&p);
}

/*
 * The Link ACK of a Link Open sent once is the link's first round-trip
 * sample: a lost Invite goes again after the adaptive timeout (its floor,
 * 300 ms, for a 40 ms round trip), not after the initial 1.5 s.  A Link ACK
 * that may answer a repeated Link Open gives no sample (Karn): the Invite
 * then waits the initial timeout.
 */
Test(pb_adv, link_ack_times_the_first_transaction)
{
	const uint8_t invite[] = {0x00, 0x05};
	struct pair p;

	pair_new(&p);
	cr_assert_eq(pb_adv_open(p.prov, p.uuid, 0, &p.link), 0);
	pass(&p.pc, 0, p.dev, 10);
	pass(&p.dc, 0, p.prov, 40);
	cr_assert_eq(p.pc.opened, 1);
	cr_assert_eq(pb_adv_send(p.prov, p.link, invite, sizeof(invite), 40), 0);
	cr_assert_eq(p.pc.nframes, 2);
	/* The Invite is lost: repeated after 300 ms. */
	cr_assert_eq(pb_adv_next_deadline(p.prov), 40 + 300);
	pb_adv_tick(p.prov, 339);
	cr_assert_eq(p.pc.nframes, 2);
	pb_adv_tick(p.prov, 340);
	cr_assert_eq(p.pc.nframes, 3);
	cr_assert_arr_eq(p.pc.frame[2], p.pc.frame[1], p.pc.flen[1]);
	pair_free(&p);

	pair_new(&p);
	cr_assert_eq(pb_adv_open(p.prov, p.uuid, 0, &p.link), 0);
	pb_adv_tick(p.prov, 1000); /* Link Open repeated */
	pass(&p.pc, 1, p.dev, 1010);
	pass(&p.dc, 0, p.prov, 1040);
	cr_assert_eq(pb_adv_send(p.prov, p.link, invite, sizeof(invite), 1040), 0);
	cr_assert_eq(p.pc.nframes, 3);
	cr_assert_eq(pb_adv_next_deadline(p.prov), 1040 + 1500);
	pair_free(&p);
}

/* §5.3.2: a repeated Link Open of the open link is answered again; another link is refused. */
Test(pb_adv, s5_3_2_device_one_link)
{
	struct pair p;
	uint8_t open[32];
	size_t n;

	pair_new(&p);
	pair_open(&p);
	n = hex(tv_str(tv_get("pb_adv.transactions[step=Link Open]"), "adv_payload"), open);
	cr_assert_eq(pb_adv_rx(p.dev, open, n, 100), 0);
	assert_frame(&p.dc, 0, tv_str(tv_get("pb_adv.transactions[step=Link ACK]"), "adv_payload"));
	open[0] ^= 0x01; /* another Link ID */
	cr_assert_eq(pb_adv_rx(p.dev, open, n, 100), -EBUSY);
	open[0] ^= 0x01;
	open[n - 1] ^= 0x01; /* another UUID */
	cr_assert_eq(pb_adv_rx(p.dev, open, n, 100), -ENOENT);
	cr_assert_eq(pb_adv_rx(p.dev, open, n - 1, 100), -EBADMSG, "15-octet UUID");
	cr_assert_eq(p.dc.nframes, 1);
	cr_assert_eq(p.dc.opened, 0);
	pair_free(&p);
}

/*
 * A device link that hears nothing for 60 s (say every Link Close copy was
 * lost) times out with a Link Close (Timeout), and the device takes the
 * next Link Open.
 */
Test(pb_adv, device_link_idle_timeout)
{
	struct pair p;
	uint8_t open[32];
	size_t n;

	pair_new(&p);
	pair_open(&p);
	cr_assert_eq(rx_hex(p.dev, "23af585000000002140000", 30000), 0);
	cr_assert_eq(pb_adv_next_deadline(p.dev), 30000 + PB_ADV_LINK_TIMEOUT_MS);
	pb_adv_tick(p.dev, 30000 + PB_ADV_LINK_TIMEOUT_MS - 1);
	cr_assert_eq(p.dc.closed, 0);
	pb_adv_tick(p.dev, 30000 + PB_ADV_LINK_TIMEOUT_MS);
	cr_assert_eq(p.dc.closed, 1);
	cr_assert_eq(p.dc.reason, -ETIMEDOUT);
	assert_frame(&p.dc, p.dc.nframes - 1, "23af5850000b01");

	n = hex(tv_str(tv_get("pb_adv.transactions[step=Link Open]"), "adv_payload"), open);
	open[3] ^= 0x01; /* a new Link ID */
	cr_assert_eq(pb_adv_rx(p.dev, open, n, 100000), 0);
	cr_assert_eq(p.dc.opened, 1);
	pair_free(&p);
}

/*
 * Malformed and inconsistent segments (§5.3.1) are rejected with no reply
 * and no state change: the real Provisioning Invite still goes through once.
 */
Test(pb_adv, s5_3_1_malformed_rejected_state_unchanged)
{
	static const struct {
		const char *hex;
		int rc;
		const char *why;
	} bad[] = {
	    {"23af585000000002150000", -EBADMSG, "bad FCS"},
	    {"23af585000040002140000", -EBADMSG, "SegN 1 with Total Length 2"},
	    {"23af585000000003140000", -EBADMSG, "Total Length 3, 2 octets of data"},
	    {"23af585000000000140000", -EBADMSG, "Total Length 0"},
	    {"23af585000140081140000", -EBADMSG, "Total Length 129 over the bound"},
	    {"23af58500000000214", -EBADMSG, "no data"},
	    {"23af585000000002", -EBADMSG, "truncated Start header"},
	    {"23af58500000", -EBADMSG, "Start without Total Length"},
	    {"23af585000", -EBADMSG, "no Generic Provisioning PDU"},
	    {"23af58", -EBADMSG, "truncated Link ID"},
	    {"", -EBADMSG, "empty"},
	    {"23af585100000002140000", -ENOENT, "wrong Link ID"},
	    {"23af585001000002140000", -EBADMSG, "transaction number 0x01 out of order"},
	    {"23af585080000002140000", -EBADMSG, "device range number from the provisioner"},
	    {"23af5850000b03", -EBADMSG, "Link Close with RFU reason 0x03"},
	    {"23af5850000b", -EBADMSG, "Link Close without reason"},
	    {"23af5850000b0000", -EBADMSG, "Link Close too long"},
	    {"23af5850000f", -EBADMSG, "RFU bearer opcode 0x03"},
	    {"23af58500006", -EBADMSG, "Continuation without data"},
	    {"23af58500002aa", -EBADMSG, "Continuation with index 0"},
	    {"23af58500005", -EBADMSG, "Transaction Ack with padding bits set"},
	    {"23af58500001", -EBADMSG, "Transaction Ack of a provisioner number at the device"},
	    {"23af58500002000000000000000000000000000000000000000000000000", -EBADMSG,
	     "30 octets, longer than an AD can carry"},
	};
	struct pair p;

	pair_new(&p);
	pair_open(&p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(rx_hex(p.dev, bad[i].hex, 100), bad[i].rc, "%s", bad[i].why);
	}
	cr_assert_eq(p.dc.nframes, 0, "nothing sent in reply");
	cr_assert_eq(p.dc.nevents, 0, "no callback");
	cr_assert_eq(rx_hex(p.dev, "23af585000000002140000", 200), 0);
	cr_assert_eq(p.dc.pdus, 1);
	assert_frame(&p.dc, 0, "23af58500001");
	cr_assert_eq(p.dc.closed, 0);
	pair_free(&p);
}

/*
 * §5.3.1.3: for the 3-segment Public Key, a segment index beyond SegN, a
 * last segment longer than the Total Length leaves, and a second Transaction
 * Start announcing another length are all ignored; the transaction then
 * completes from the real segments (§8.7.6).
 */
Test(pb_adv, s8_7_6_inconsistent_segments_ignored)
{
	json_t *t = tv_get("pb_adv.transactions[step=Provisioning Public Key (provisioner)]");
	json_t *segs = json_object_get(t, "adv_payloads");
	uint8_t pdu[PB_ADV_PDU_MAX], last[32];
	int n = tv_bytes(t, "ProvisioningPDU", pdu, sizeof(pdu));
	size_t ln;
	struct pair p;

	pair_new(&p);
	pair_open(&p);
	/* Get the device to expect transaction 0x02: Invite and Start first. */
	cr_assert_eq(rx_hex(p.dev, "23af585000000002140000", 100), 0);
	cr_assert_eq(rx_hex(p.dev, "23af58500100000664020000000000", 110), 0);
	memset(&p.dc, 0, sizeof(p.dc));

	cr_assert_eq(rx_hex(p.dev, json_string_value(json_array_get(segs, 0)), 120), 0);
	cr_assert_eq(rx_hex(p.dev, "23af5850020eaabbcc", 130), -EBADMSG, "index 3 > SegN 2");
	ln = hex(json_string_value(json_array_get(segs, 2)), last);
	last[ln] = 0x00; /* 23 octets where 22 remain */
	cr_assert_eq(pb_adv_rx(p.dev, last, ln + 1, 140), -EBADMSG, "last segment too long");
	cr_assert_eq(pb_adv_rx(p.dev, last, ln - 1, 140), -EBADMSG, "last segment too short");
	cr_assert_eq(
	    rx_hex(p.dev, "23af585002080042d1032c31a47b5779809ef44cb5eaaf5c3e43d5f8fa", 150),
	    -EBADMSG, "Start with Total Length 0x42 for the same transaction");
	cr_assert_eq(p.dc.nframes, 0);
	cr_assert_eq(p.dc.nevents, 0);
	cr_assert_eq(rx_hex(p.dev, json_string_value(json_array_get(segs, 2)), 160), 0);
	cr_assert_eq(rx_hex(p.dev, json_string_value(json_array_get(segs, 1)), 170), 0);
	cr_assert_eq(p.dc.pdus, 1);
	cr_assert_eq(p.dc.pdu_len, (size_t)n);
	cr_assert_arr_eq(p.dc.pdu, pdu, (size_t)n);
	assert_frame(&p.dc, 0, tv_str(t, "transaction_ack"));
	pair_free(&p);
}

/*
 * §5.3.3: segments out of order and duplicated reassemble once; a repeat of
 * a completed transaction is acknowledged again but not delivered again; a
 * complete transaction with a bad FCS is discarded without an ack.
 */
Test(pb_adv, s8_7_7_reorder_duplicates_and_bad_fcs)
{
	json_t *t = tv_get("pb_adv.transactions[step=Provisioning Public Key (device)]");
	json_t *segs = json_object_get(t, "adv_payloads");
	uint8_t s[3][32], bad[32];
	size_t sl[3];
	struct pair p;

	pair_new(&p);
	pair_open(&p);
	/* The provisioner expects device transaction 0x80 first: use 0x80 for this PDU. */
	for (unsigned i = 0; i < 3; i++) {
		sl[i] = hex(json_string_value(json_array_get(segs, i)), s[i]);
		s[i][4] = 0x80;
	}
	memcpy(bad, s[0], sl[0]);
	bad[8] ^= 0xff; /* the FCS */
	cr_assert_eq(pb_adv_rx(p.prov, s[2], sl[2], 100), 0);
	cr_assert_eq(pb_adv_rx(p.prov, bad, sl[0], 101), 0);
	cr_assert_eq(pb_adv_rx(p.prov, s[1], sl[1], 102), -EBADMSG, "completes with a bad FCS");
	cr_assert_eq(p.pc.nframes, 0, "no ack for a bad FCS");
	cr_assert_eq(p.pc.pdus, 0);

	cr_assert_eq(pb_adv_rx(p.prov, s[2], sl[2], 1000), 0);
	cr_assert_eq(pb_adv_rx(p.prov, s[2], sl[2], 1001), 0);
	cr_assert_eq(pb_adv_rx(p.prov, s[0], sl[0], 1002), 0);
	cr_assert_eq(pb_adv_rx(p.prov, s[0], sl[0], 1003), 0);
	cr_assert_eq(p.pc.pdus, 0);
	cr_assert_eq(pb_adv_rx(p.prov, s[1], sl[1], 1004), 0);
	cr_assert_eq(p.pc.pdus, 1);
	cr_assert_eq(p.pc.nframes, 1);
	assert_frame(&p.pc, 0, "23af58508001");

	/* The device did not hear the ack and repeats the whole transaction. */
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(pb_adv_rx(p.prov, s[i], sl[i], 3000 + i), 0);
	}
	cr_assert_eq(p.pc.pdus, 1, "not delivered again");
	cr_assert_eq(p.pc.nframes, 2, "acknowledged again, once per burst");
	assert_frame(&p.pc, 1, "23af58508001");
	pair_free(&p);
}

/*
 * §5.3.3: without an ack the transaction is repeated, byte for byte, with a
 * growing interval; after 30 s the link closes with reason Timeout.
 */
Test(pb_adv, s5_3_3_retransmit_then_transaction_timeout)
{
	uint8_t invite[] = {0x00, 0x00};
	uint64_t at[CAP_FRAMES], now = 1000;
	struct pair p;
	unsigned i;

	pair_new(&p);
	pair_open(&p);
	cr_assert_eq(pb_adv_send(p.prov, p.link, invite, sizeof(invite), now), 0);
	for (i = 0; i < PB_ADV_TXQ_MAX; i++) {
		cr_assert_eq(pb_adv_send(p.prov, p.link, invite, sizeof(invite), now), 0, "queued");
	}
	cr_assert_eq(pb_adv_send(p.prov, p.link, invite, sizeof(invite), now), -EBUSY);
	cr_assert_eq(p.pc.nframes, 1, "queued PDUs wait");
	at[0] = now;
	now = tick_until_closed(&p, at);
	cr_assert_eq(now, 1000 + PB_ADV_TRANS_TIMEOUT_MS);
	cr_assert_eq(p.pc.reason, -ETIMEDOUT);
	cr_assert_gt(p.pc.nframes, 2);
	for (i = 0; i + 1 < p.pc.nframes; i++) {
		assert_frame(&p.pc, i, "23af585000000002140000");
		if (i >= 2) {
			cr_assert_geq(at[i] - at[i - 1], at[i - 1] - at[i - 2]);
		}
	}
	assert_frame(&p.pc, p.pc.nframes - 1, "23af5850000b01");
	cr_assert_eq(pb_adv_send(p.prov, p.link, invite, sizeof(invite), now), -ENOENT);
	pair_free(&p);
}

/*
 * §8.7.5-8.7.6: Start and Public Key handed over back to back go out one
 * transaction at a time, the Public Key (transaction 0x02) only after the
 * Start was acknowledged, each with its own tx_done.
 */
Test(pb_adv, s8_7_6_queued_after_start)
{
	json_t *st = tv_get("pb_adv.transactions[step=Provisioning Start]");
	json_t *pk = tv_get("pb_adv.transactions[step=Provisioning Public Key (provisioner)]");
	uint8_t start[8], key[PB_ADV_PDU_MAX], invite[] = {0x00, 0x00};
	int sl = tv_bytes(st, "ProvisioningPDU", start, sizeof(start));
	int kl = tv_bytes(pk, "ProvisioningPDU", key, sizeof(key));
	struct pair p;

	pair_new(&p);
	pair_open(&p);
	cr_assert_eq(pb_adv_send(p.prov, p.link, invite, 2, 100), 0);
	pass(&p.pc, 0, p.dev, 110);
	pass(&p.dc, 0, p.prov, 120);
	memset(&p.pc, 0, sizeof(p.pc));
	memset(&p.dc, 0, sizeof(p.dc));

	cr_assert_eq(pb_adv_send(p.prov, p.link, start, (size_t)sl, 200), 0);
	cr_assert_eq(pb_adv_send(p.prov, p.link, key, (size_t)kl, 200), 0);
	cr_assert_eq(p.pc.nframes, 1);
	assert_frame(&p.pc, 0,
		     json_string_value(json_array_get(json_object_get(st, "adv_payloads"), 0)));
	pass(&p.pc, 0, p.dev, 210);
	assert_frame(&p.dc, 0, tv_str(st, "transaction_ack"));
	pass(&p.dc, 0, p.prov, 220);
	cr_assert_eq(p.pc.done, 1);
	cr_assert_eq(p.pc.nframes, 4);
	for (unsigned i = 0; i < 3; i++) {
		assert_frame(
		    &p.pc, 1 + i,
		    json_string_value(json_array_get(json_object_get(pk, "adv_payloads"), i)));
		pass(&p.pc, 1 + i, p.dev, 230 + i);
	}
	cr_assert_eq(p.dc.pdus, 2);
	cr_assert_arr_eq(p.dc.pdu, key, (size_t)kl);
	assert_frame(&p.dc, 1, tv_str(pk, "transaction_ack"));
	pass(&p.dc, 1, p.prov, 240);
	cr_assert_eq(p.pc.done, 2);
	cr_assert_eq(pb_adv_next_deadline(p.prov), UINT64_MAX);
	pair_free(&p);
}

/*
 * The peer's next transaction acknowledges ours (BlueZ drops its queued ack
 * when its reply is ready): tx_done comes before the reply's pdu_rx and the
 * Invite is not repeated.
 */
Test(pb_adv, s8_7_4_reply_is_implicit_ack)
{
	struct pair p;
	uint8_t invite[] = {0x00, 0x00};

	pair_new(&p);
	pair_open(&p);
	cr_assert_eq(pb_adv_send(p.prov, p.link, invite, 2, 100), 0);
	cr_assert_eq(rx_hex(p.prov, "23af58508000000cd6010100010000000000000000", 200), 0);
	cr_assert_str_eq(p.pc.events, "DR");
	cr_assert_eq(pb_adv_next_deadline(p.prov), UINT64_MAX, "nothing left to repeat");
	cr_assert_eq(p.pc.nframes, 2);
	assert_frame(&p.pc, 1, "23af58508001");
	pair_free(&p);
}

/*
 * Only a transaction in flight when the peer's transaction began is
 * acknowledged by it: the PDU that leaves the queue meanwhile still needs
 * its own ack.
 */
Test(pb_adv, implicit_ack_only_for_earlier_transaction)
{
	json_t *t = tv_get("pb_adv.transactions[step=Provisioning Public Key (device)]");
	json_t *segs = json_object_get(t, "adv_payloads");
	uint8_t invite[] = {0x00, 0x00}, start[] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x00}, s[32];
	struct pair p;
	size_t n;

	pair_new(&p);
	pair_open(&p);
	cr_assert_eq(pb_adv_send(p.prov, p.link, invite, sizeof(invite), 100), 0);
	cr_assert_eq(pb_adv_send(p.prov, p.link, start, sizeof(start), 100), 0);
	for (unsigned i = 0; i < 3; i++) {
		n = hex(json_string_value(json_array_get(segs, i)), s);
		s[4] = 0x80; /* the device's first transaction */
		cr_assert_eq(pb_adv_rx(p.prov, s, n, 200 + i), 0);
		cr_assert_eq(p.pc.done, 1, "segment %u: only the Invite is acknowledged", i);
	}
	cr_assert_eq(p.pc.pdus, 1);
	cr_assert_neq(pb_adv_next_deadline(p.prov), UINT64_MAX, "the Start still awaits its ack");
	cr_assert_eq(rx_hex(p.prov, "23af58500101", 300), 0);
	cr_assert_eq(p.pc.done, 2);
	cr_assert_eq(pb_adv_next_deadline(p.prov), UINT64_MAX);
	pair_free(&p);
}

/* §5.3.1: provisioner transaction numbers wrap from 0x7F to 0x00. */
Test(pb_adv, s5_3_1_transaction_number_wraps)
{
	struct pair p;
	uint8_t pdu[1] = {0x08};
	uint64_t now = 100;

	pair_new(&p);
	pair_open(&p);
	for (unsigned i = 0; i < 0x82; i++) {
		memset(&p.pc, 0, sizeof(p.pc));
		memset(&p.dc, 0, sizeof(p.dc));
		cr_assert_eq(pb_adv_send(p.prov, p.link, pdu, 1, now), 0);
		cr_assert_eq(p.pc.frame[0][4], (uint8_t)(i & 0x7f));
		pass(&p.pc, 0, p.dev, ++now);
		cr_assert_eq(p.dc.pdus, 1, "transaction %u delivered", i);
		pass(&p.dc, 0, p.prov, ++now);
		cr_assert_eq(p.pc.done, 1);
	}
	pair_free(&p);
}

/* --- A lossy shared air with a fake clock ---------------------------------- */

#define AIR_Q 16384
#define MAX_NODES 17
#define MAX_SESS 16

/* A realistic No-OOB session: Invite, Capabilities, Start, 2x Public Key, 2x Confirmation,
 * 2x Random, Data, Complete (sizes of the §8.7 sample). */
static const struct step {
	bool prov;
	uint8_t len;
} script[] = {
    {true, 2},   {false, 12}, {true, 6},   {true, 65}, {false, 65}, {true, 17},
    {false, 17}, {true, 17},  {false, 17}, {true, 34}, {false, 1},
};
#define NSTEPS (sizeof(script) / sizeof(script[0]))

struct air_frame {
	uint64_t at;
	int to;
	uint8_t len;
	uint8_t data[MESH_ADV_DATA_MAX];
};

struct sess {
	uint32_t link;
	bool opened, closed, inflight;
	int reason;
	unsigned step, rx;
};

struct node;

struct air {
	struct air_frame q[AIR_Q];
	unsigned nq;
	uint64_t now, rng;
	unsigned loss_pct, dup_pct;
	unsigned sent, bytes;
	struct node *nodes;
	int nnodes;
};

struct node {
	struct air *air;
	int idx;
	bool prov;
	struct pb_adv *pb;
	uint8_t uuid[16];
	struct sess sess[MAX_SESS];
	unsigned nsess;
};

static unsigned rnd(struct air *a, unsigned mod)
{
	uint8_t b[4];

	tv_rng(&a->rng, b, sizeof(b));
	return ((unsigned)b[0] << 24 | (unsigned)b[1] << 16 | (unsigned)b[2] << 8 | b[3]) % mod;
}

static void air_send(void *ctx, const uint8_t *data, size_t len)
{
	struct node *n = ctx;
	struct air *a = n->air;

	cr_assert_leq(len, MESH_ADV_DATA_MAX);
	a->sent++;
	a->bytes += (unsigned)len;
	/* Each receiver loses, duplicates and delays independently (so frames reorder). */
	for (int to = 0; to < a->nnodes; to++) {
		unsigned copies;

		if (to == n->idx || rnd(a, 100) < a->loss_pct) {
			continue;
		}
		copies = rnd(a, 100) < a->dup_pct ? 2 : 1;
		while (copies--) {
			struct air_frame *f = &a->q[a->nq++];

			cr_assert_lt(a->nq, AIR_Q);
			f->at = a->now + 2 + rnd(a, 60);
			f->to = to;
			f->len = (uint8_t)len;
			memcpy(f->data, data, len);
		}
	}
}

static struct sess *sess_of(struct node *n, uint32_t link)
{
	for (unsigned i = 0; i < n->nsess; i++) {
		if (n->sess[i].link == link) {
			return &n->sess[i];
		}
	}
	return NULL;
}

static void step_pdu(uint32_t link, unsigned k, uint8_t *out)
{
	for (unsigned i = 0; i < script[k].len; i++) {
		out[i] = (uint8_t)(k * 31 + i * 7 + link);
	}
	out[0] = (uint8_t)k;
}

static void try_send(struct node *n, struct sess *s)
{
	uint8_t pdu[PB_ADV_PDU_MAX];

	if (!s->opened || s->closed || s->inflight || s->step >= NSTEPS ||
	    script[s->step].prov != n->prov) {
		return;
	}
	step_pdu(s->link, s->step, pdu);
	cr_assert_eq(pb_adv_send(n->pb, s->link, pdu, script[s->step].len, n->air->now), 0);
	s->inflight = true;
}

static void node_opened(void *ctx, uint32_t link)
{
	struct node *n = ctx;
	struct sess *s = sess_of(n, link);

	if (!s) {
		cr_assert(!n->prov);
		cr_assert_lt(n->nsess, MAX_SESS);
		s = &n->sess[n->nsess++];
		s->link = link;
	}
	cr_assert_not(s->opened, "opened twice");
	s->opened = true;
	try_send(n, s);
}

static void node_closed(void *ctx, uint32_t link, int reason)
{
	struct node *n = ctx;
	struct sess *s = sess_of(n, link);

	cr_assert_not_null(s);
	cr_assert_not(s->closed);
	s->closed = true;
	s->reason = reason;
}

static void node_pdu(void *ctx, uint32_t link, const uint8_t *pdu, size_t len)
{
	struct node *n = ctx;
	struct sess *s = sess_of(n, link);
	uint8_t want[PB_ADV_PDU_MAX];

	cr_assert_not_null(s);
	cr_assert_lt(s->step, NSTEPS, "PDU after the end of the session");
	cr_assert_neq(script[s->step].prov, n->prov, "PDU %u arrived out of order", s->step);
	step_pdu(link, s->step, want);
	cr_assert_eq(len, script[s->step].len);
	cr_assert_arr_eq(pdu, want, len, "PDU %u altered or on the wrong link", s->step);
	s->step++;
	s->rx++;
	if (n->prov && s->step == NSTEPS) {
		cr_assert_eq(pb_adv_close(n->pb, link, PB_ADV_CLOSE_SUCCESS, n->air->now), 0);
		s->closed = true;
		s->reason = PB_ADV_CLOSE_SUCCESS;
	} else {
		try_send(n, s);
	}
}

static void node_done(void *ctx, uint32_t link)
{
	struct node *n = ctx;
	struct sess *s = sess_of(n, link);

	cr_assert_not_null(s);
	cr_assert(s->inflight, "tx_done without a transaction");
	s->inflight = false;
	s->step++;
	try_send(n, s);
}

static const struct pb_adv_ops node_ops = {
    .adv_send = air_send,
    .link_opened = node_opened,
    .link_closed = node_closed,
    .pdu_rx = node_pdu,
    .tx_done = node_done,
};

/*
 * Node 0 is a provisioner that opens one link to each of `ndev` devices;
 * they all share one air.  Returns when everything went quiet.
 */
static void run_air(struct air *a, struct node *nodes, int ndev, uint64_t seed)
{
	struct pb_adv_cfg pcfg = {0};
	uint64_t link_seed = seed ^ 0x5a5a;

	a->rng = seed;
	a->nodes = nodes;
	a->nnodes = ndev + 1;
	pcfg.rng.fn = tv_rng;
	pcfg.rng.ctx = &link_seed;
	for (int i = 0; i <= ndev; i++) {
		struct pb_adv_cfg dcfg = {0};

		nodes[i].air = a;
		nodes[i].idx = i;
		nodes[i].prov = i == 0;
		memset(nodes[i].uuid, 0x40 + i, 16);
		dcfg.uuid = nodes[i].uuid;
		nodes[i].pb = pb_adv_new(i == 0 ? &pcfg : &dcfg, &node_ops, &nodes[i]);
		cr_assert_not_null(nodes[i].pb);
	}
	for (int i = 1; i <= ndev; i++) {
		struct sess *s = &nodes[0].sess[nodes[0].nsess++];

		cr_assert_eq(pb_adv_open(nodes[0].pb, nodes[i].uuid, 0, &s->link), 0);
	}
	for (;;) {
		uint64_t t = UINT64_MAX;
		unsigned k = 0;

		for (unsigned i = 0; i < a->nq; i++) {
			if (a->q[i].at < t) {
				t = a->q[i].at;
				k = i;
			}
		}
		for (int i = 0; i <= ndev; i++) {
			uint64_t d = pb_adv_next_deadline(nodes[i].pb);

			if (d < t) {
				t = d;
				k = AIR_Q;
			}
		}
		if (t == UINT64_MAX) {
			break;
		}
		cr_assert_geq(t, a->now);
		cr_assert_lt(t, 600000, "still busy after 10 minutes");
		a->now = t;
		if (k < AIR_Q) {
			struct air_frame f = a->q[k];

			a->q[k] = a->q[--a->nq];
			(void)pb_adv_rx(nodes[f.to].pb, f.data, f.len, a->now);
		} else {
			for (int i = 0; i <= ndev; i++) {
				pb_adv_tick(nodes[i].pb, a->now);
			}
		}
	}
}

static void air_free(struct node *nodes, int ndev)
{
	for (int i = 0; i <= ndev; i++) {
		pb_adv_free(nodes[i].pb);
	}
}

/* The fewest PDUs a loss-free session can take: every segment once, one ack per
 * transaction, Link Open, Link ACK and Link Close x3. */
static unsigned floor_pdus(void)
{
	unsigned n = 2 + PB_ADV_CLOSE_REPEAT;

	for (unsigned k = 0; k < NSTEPS; k++) {
		n += 1 + 1 + (script[k].len > 20 ? (script[k].len - 20 + 22) / 23 : 0);
	}
	return n;
}

static void check_sessions(struct node *nodes, int ndev)
{
	unsigned prov_steps = 0;

	for (unsigned k = 0; k < NSTEPS; k++) {
		prov_steps += script[k].prov;
	}
	cr_assert_eq(nodes[0].nsess, (unsigned)ndev);
	for (int i = 0; i < ndev; i++) {
		struct sess *ps = &nodes[0].sess[i];
		struct node *d = NULL;

		cr_assert(ps->closed);
		cr_assert_eq(ps->rx, NSTEPS - prov_steps,
			     "link %d: every device PDU once (rx %u step %u reason %d)", i, ps->rx,
			     ps->step, ps->reason);
		for (int j = 1; j <= ndev; j++) {
			if (sess_of(&nodes[j], ps->link)) {
				cr_assert_null(d, "two devices on one link");
				d = &nodes[j];
			}
		}
		cr_assert_not_null(d);
		cr_assert_eq(d->nsess, 1);
		cr_assert_eq(d->sess[0].rx, prov_steps, "link %d: every provisioner PDU once", i);
		cr_assert(d->sess[0].closed);
		cr_assert(d->sess[0].reason == PB_ADV_CLOSE_SUCCESS ||
			  d->sess[0].reason == -ETIMEDOUT);
	}
}

/* Loss-free, one link: all PDUs arrive once, in order, with no AD beyond the floor. */
Test(pb_adv, lossless_session_uses_floor_airtime)
{
	static struct air a;
	static struct node nodes[2];

	run_air(&a, nodes, 1, 1);
	check_sessions(nodes, 1);
	cr_log_info("loss-free session: %u PB-ADV PDUs, %u octets (floor %u)", a.sent, a.bytes,
		    floor_pdus());
	cr_assert_eq(a.sent, floor_pdus());
	cr_assert_eq(nodes[1].sess[0].reason, PB_ADV_CLOSE_SUCCESS);
	air_free(nodes, 1);
}

/* 30 % loss with duplication and reordering: every PDU still arrives exactly once, in order. */
Test(pb_adv, lossy_session_delivers_exactly_once)
{
	static struct air a;
	static struct node nodes[2];

	for (uint64_t seed = 1; seed <= 20; seed++) {
		memset(&a, 0, sizeof(a));
		memset(nodes, 0, sizeof(nodes));
		a.loss_pct = 30;
		a.dup_pct = 20;
		run_air(&a, nodes, 1, seed);
		check_sessions(nodes, 1);
		cr_log_info("30%% loss seed %u: %u PB-ADV PDUs, %u octets, %.1f s", (unsigned)seed,
			    a.sent, a.bytes, (double)a.now / 1000);
		air_free(nodes, 1);
	}
}

/* 16 links of one provisioner over one shared air, loss-free and lossy, do not interfere. */
Test(pb_adv, sixteen_links_shared_air)
{
	static struct air a;
	static struct node nodes[MAX_NODES];

	run_air(&a, nodes, 16, 7);
	check_sessions(nodes, 16);
	cr_assert_eq(a.sent, 16 * floor_pdus());
	air_free(nodes, 16);

	memset(&a, 0, sizeof(a));
	memset(nodes, 0, sizeof(nodes));
	a.loss_pct = 30;
	a.dup_pct = 20;
	run_air(&a, nodes, 16, 8);
	check_sessions(nodes, 16);
	cr_log_info("16 links, 30%% loss: %u PB-ADV PDUs, %.1f s", a.sent, (double)a.now / 1000);
	air_free(nodes, 16);
}
