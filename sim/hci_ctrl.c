/*
 * Virtual LE controller (hci_ctrl.h; sim/PORTS.md "HCI port"): host input,
 * the radio, time and faults.  The commands are in hci_cmd.c; the random
 * source, events and the reset state, which both use, in hci_base.c.
 */
#include "sim/hci_ctrl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/hci_int.h"

/* --- helpers ------------------------------------------------------------ */

static uint64_t mix(uint64_t z)
{
	z += 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* --- host input ------------------------------------------------------------ */

/*
 * A framing error: Hardware Error 0x01 (what a UART controller reports), then,
 * when resync, input is dropped up to the next plausible command packet.
 */
static void framing_error(struct sim_hci_ctrl *c, bool resync)
{
	uint8_t code = SIM_HCI_HWERR_FRAMING;

	c->n.malformed++;
	c->resync = resync;
	if (c->evmask & EVM_HW_ERROR) {
		sim_hci_event(c, EVT_HARDWARE_ERROR, &code, 1);
	}
}

static void drop_in(struct sim_hci_ctrl *c, size_t k)
{
	memmove(c->in, c->in + k, c->in_len - k);
	c->in_len -= k;
}

/* A command header that could start a real command: a known OGF, a nonzero opcode. */
static bool plausible(const uint8_t *h)
{
	uint16_t op = (uint16_t)(h[1] | h[2] << 8);
	uint16_t ogf = cmd_opcode_ogf(op);

	return h[0] == HCI_COMMAND_PKT && op &&
	       (ogf == OGF_LINK_CTL || ogf == OGF_LINK_POLICY || ogf == OGF_HOST_CTL ||
		ogf == OGF_INFO_PARAM || ogf == OGF_STATUS_PARAM || ogf == 0x06 /* Testing */ ||
		ogf == OGF_LE_CTL || ogf == OGF_VENDOR_CMD);
}

static void enqueue(struct sim_hci_ctrl *c, const uint8_t *pkt, uint64_t now)
{
	struct pending *pc;
	uint64_t base = now;

	c->n.commands++;
	if (c->q_n) {
		c->n.flow_violations++; /* only one credit: the previous one is unanswered */
		base = c->last_due > now ? c->last_due : now;
	}
	if (c->q_n == CMD_QUEUE_MAX) {
		c->commands_dropped++;
		return;
	}
	pc = &c->q[(c->q_head + c->q_n) % CMD_QUEUE_MAX];
	pc->op = (uint16_t)(pkt[1] | pkt[2] << 8);
	pc->len = pkt[3];
	memcpy(pc->p, pkt + 4, pkt[3]);
	pc->due = base + c->latency_us;
	c->last_due = pc->due;
	c->q_n++;
}

/* Consumes complete packets from the input buffer. */
static void parse(struct sim_hci_ctrl *c, uint64_t now)
{
	while (c->in_len) {
		if (c->resync) {
			if (c->in[0] != HCI_COMMAND_PKT) {
				c->n.swallowed++;
				drop_in(c, 1);
				continue;
			}
			if (c->in_len < 4) {
				return;
			}
			if (!plausible(c->in)) {
				c->n.swallowed++;
				drop_in(c, 1);
				continue;
			}
			c->resync = false;
		}
		switch (c->in[0]) {
		case HCI_COMMAND_PKT:
			if (c->in_len < 4 || c->in_len < 4u + c->in[3]) {
				return;
			}
			enqueue(c, c->in, now);
			drop_in(c, 4u + c->in[3]);
			break;
		case HCI_ACLDATA_PKT: {
			size_t len;

			if (c->in_len < 5) {
				return;
			}
			len = (size_t)c->in[3] | (size_t)c->in[4] << 8;
			if (len > ACL_MTU) {
				framing_error(c, true); /* longer than LE Read Buffer Size allows */
				drop_in(c, 1);
				break;
			}
			if (c->in_len < 5 + len) {
				return;
			}
			/* No connections exist: data for an unknown handle is discarded. */
			c->n.swallowed += 5 + len;
			drop_in(c, 5 + len);
			break;
		}
		default:
			framing_error(
			    c, true); /* SCO, ISO, events and junk: not for this controller */
			drop_in(c, 1);
			break;
		}
		if (c->in_len) {
			c->in_since = now;
		}
	}
}

void sim_hci_input(struct sim_hci_ctrl *c, const uint8_t *buf, size_t len, uint64_t now_us)
{
	if (!c->powered || c->hung) {
		c->n.swallowed += len;
		return;
	}
	while (len) {
		size_t k = sizeof(c->in) - c->in_len;

		if (k > len) {
			k = len;
		}
		if (!c->in_len) {
			c->in_since = now_us;
		}
		memcpy(c->in + c->in_len, buf, k);
		c->in_len += k;
		buf += k;
		len -= k;
		parse(c, now_us);
	}
}

/* --- the radio ------------------------------------------------------------- */

static void static_addr(uint32_t from, uint8_t out[6])
{
	uint64_t h = mix(0x6d65736873696dull ^ from);

	for (int i = 0; i < 6; i++) {
		out[i] = (uint8_t)(h >> (8 * i));
	}
	out[5] |= 0xC0; /* random static address */
}

static void report(struct sim_hci_ctrl *c, const struct sim_air_rx *rx)
{
	uint8_t ad[2 + SIM_AIR_DATA_MAX], addr[6], p[64];
	size_t adlen = 2 + rx->len, n = 0;
	uint64_t rel, iv;
	bool sent;

	if (!c->powered || c->hung || !c->scanning || rx->time_us < c->scan_start) {
		return;
	}
	iv = (uint64_t)c->scan_interval * SLOT_US;
	rel = rx->time_us - c->scan_start;
	if (rel % iv >= (uint64_t)c->scan_window * SLOT_US) {
		c->n.reports_dropped++; /* outside the scan window */
		return;
	}
	ad[0] = (uint8_t)(rx->len + 1);
	ad[1] = rx->ad_type;
	memcpy(ad + 2, rx->data, rx->len);
	if (c->filter_dup) {
		for (size_t i = 0; i < c->n_dups; i++) {
			const struct dup *d = &c->dups[i];

			if (d->from == rx->from && d->len == adlen && !memcmp(d->data, ad, adlen)) {
				c->n.reports_suppressed++;
				return;
			}
		}
		if (c->n_dups < DUP_MAX) {
			struct dup *d = &c->dups[c->n_dups++];

			d->from = rx->from;
			d->len = (uint8_t)adlen;
			memcpy(d->data, ad, adlen);
		}
	}
	static_addr(rx->from, addr);
	if (!c->scan_ext) {
		p[n++] = 1;    /* Num_Reports */
		p[n++] = 0x03; /* ADV_NONCONN_IND */
		p[n++] = 0x01; /* random */
		memcpy(p + n, addr, 6);
		n += 6;
		p[n++] = (uint8_t)adlen;
		memcpy(p + n, ad, adlen);
		n += adlen;
		p[n++] = (uint8_t)rx->rssi;
		sent = sim_hci_le_event(c, EVT_LE_ADVERTISING_REPORT, p, n);
	} else {
		p[n++] = 1;
		put_le16(p + n, 0x0010); /* legacy ADV_NONCONN_IND */
		n += 2;
		p[n++] = 0x01;
		memcpy(p + n, addr, 6);
		n += 6;
		p[n++] = 0x01; /* Primary_PHY LE 1M */
		p[n++] = 0x00; /* Secondary_PHY none */
		p[n++] = 0xFF; /* Advertising_SID: none */
		p[n++] = 0x7F; /* Tx_Power: not available */
		p[n++] = (uint8_t)rx->rssi;
		put_le16(p + n, 0); /* Periodic_Advertising_Interval */
		n += 2;
		p[n++] = 0x00; /* Direct_Address_Type */
		memset(p + n, 0, 6);
		n += 6;
		p[n++] = (uint8_t)adlen;
		memcpy(p + n, ad, adlen);
		n += adlen;
		sent = sim_hci_le_event(c, SIM_HCI_EVT_LE_EXT_ADV_REPORT, p, n);
	}
	if (sent) {
		c->n.reports_sent++;
	} else {
		c->reports_masked++;
	}
}

static void air_rx(void *ctx, const struct sim_air_rx *rx)
{
	report(ctx, rx);
}

/* One advertising event: every AD structure of the data goes on the air once. */
static void adv_event(struct sim_hci_ctrl *c, struct adv_set *s, uint64_t now)
{
	size_t i = 0;

	if (s->props & PROP_DIRECTED) {
		return; /* directed PDUs carry no advertising data */
	}
	while (i < s->data_len) {
		size_t l = s->data[i];

		if (!l || i + 1 + l > s->data_len) {
			break; /* zero padding, or a structure overrunning the data */
		}
		if (s->data[i + 1] && l - 1 <= SIM_AIR_DATA_MAX &&
		    sim_air_send(c->air, c->pid, s->data[i + 1], s->data + i + 2, l - 1, 1, 0,
				 now) == 0) {
			c->n.tx_packets++;
		}
		i += 1 + l;
	}
}

static uint64_t pick_interval(struct sim_hci_ctrl *c, const struct adv_set *s)
{
	uint32_t span;

	/*
	 * High duty cycle directed advertising ignores the host's intervals (they
	 * are not checked, and may be zero or reversed): events every 3.75 ms.
	 */
	if ((s->props & PROP_HDC) || s->int_min < 0x20 || s->int_max < s->int_min) {
		return 3750;
	}
	span = s->int_max - s->int_min;
	return (uint64_t)(s->int_min + (uint32_t)(sim_hci_rnd(c) % (span + 1u))) * SLOT_US;
}

static void terminated(struct sim_hci_ctrl *c, struct adv_set *s, uint8_t status)
{
	uint8_t p[5] = {status, s->handle, 0, 0, (uint8_t)(s->events > 255 ? 255 : s->events)};

	s->enabled = false;
	sim_hci_le_event(c, SIM_HCI_EVT_LE_ADV_SET_TERMINATED, p, sizeof(p));
}

static void adv_tick(struct sim_hci_ctrl *c, struct adv_set *s, bool ext, uint64_t now)
{
	if (!s->enabled) {
		return;
	}
	if (ext && now >= s->end_us) {
		terminated(c, s, SIM_HCI_ERR_ADV_TIMEOUT);
		return;
	}
	if (now < s->next_us) {
		return;
	}
	adv_event(c, s, now);
	s->events++;
	s->next_us = now + pick_interval(c, s);
	if (ext && s->max_events && s->events >= s->max_events) {
		terminated(c, s, 0x00);
	}
}

/* --- time ------------------------------------------------------------------ */

uint64_t sim_hci_next_deadline(const struct sim_hci_ctrl *c)
{
	uint64_t t = UINT64_MAX;

	if (!c->powered || c->hung) {
		return t;
	}
	if (c->q_n) {
		t = c->q[c->q_head].due;
	}
	if (c->in_len && c->in_since + IN_TIMEOUT_US < t) {
		t = c->in_since + IN_TIMEOUT_US;
	}
	if (c->leg.enabled && c->leg.next_us < t) {
		t = c->leg.next_us;
	}
	for (unsigned i = 0; i < c->n_sets; i++) {
		const struct adv_set *s = &c->sets[i];

		if (s->used && s->enabled) {
			t = s->next_us < t ? s->next_us : t;
			t = s->end_us < t ? s->end_us : t;
		}
	}
	if (c->scanning && c->scan_end < t) {
		t = c->scan_end;
	}
	return t;
}

void sim_hci_tick(struct sim_hci_ctrl *c, uint64_t now_us)
{
	if (!c->powered || c->hung) {
		return;
	}
	while (c->q_n && c->q[c->q_head].due <= now_us) {
		struct pending pc = c->q[c->q_head];

		c->q_head = (c->q_head + 1) % CMD_QUEUE_MAX;
		c->q_n--;
		sim_hci_run_command(c, &pc, now_us);
	}
	if (c->in_len && now_us >= c->in_since + IN_TIMEOUT_US) {
		/* A packet that stopped arriving half-way: truncated. */
		c->n.swallowed += c->in_len;
		c->in_len = 0;
		framing_error(c, false); /* the line went idle: the next byte starts a packet */
	}
	adv_tick(c, &c->leg, false, now_us);
	for (unsigned i = 0; i < c->n_sets; i++) {
		if (c->sets[i].used) {
			adv_tick(c, &c->sets[i], true, now_us);
		}
	}
	if (c->scanning && now_us >= c->scan_end) {
		c->scanning = false;
		c->n_dups = 0;
		sim_hci_le_event(c, SIM_HCI_EVT_LE_SCAN_TIMEOUT, NULL, 0);
	}
}

/* --- lifetime and faults ----------------------------------------------------- */

struct sim_hci_ctrl *sim_hci_new(struct sim_air *air, const struct sim_hci_cfg *cfg, uint64_t seed,
				 sim_hci_out_fn out, void *ctx)
{
	struct sim_hci_ctrl *c;
	uint64_t h;

	if (!air || !cfg || !out || cfg->latency_ms > SIM_HCI_LATENCY_MAX_MS ||
	    (cfg->profile != SIM_HCI_LEGACY && cfg->profile != SIM_HCI_EXTENDED) ||
	    (cfg->profile == SIM_HCI_EXTENDED &&
	     (cfg->adv_sets < 1 || cfg->adv_sets > SIM_HCI_ADV_SETS_MAX))) {
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->dups = calloc(DUP_MAX, sizeof(*c->dups)))) {
		free(c);
		return NULL;
	}
	if (sim_air_add(air, &cfg->pos, cfg->name ? cfg->name : "hci", air_rx, c, &c->pid) < 0) {
		free(c->dups);
		free(c);
		return NULL;
	}
	c->air = air;
	c->profile = cfg->profile;
	c->n_sets = cfg->profile == SIM_HCI_EXTENDED ? cfg->adv_sets : 0;
	c->latency_us = (uint64_t)cfg->latency_ms * 1000u;
	c->out = out;
	c->ctx = ctx;
	c->rng = seed;
	h = mix(seed ^ 0x4843490000000000ull);
	for (int i = 0; i < 6; i++) {
		c->bdaddr[i] = (uint8_t)(h >> (8 * i));
	}
	c->bdaddr[5] &= 0xFC; /* an ordinary-looking public address */
	c->powered = true;
	sim_hci_state_reset(c);
	return c;
}

void sim_hci_free(struct sim_hci_ctrl *c)
{
	if (!c) {
		return;
	}
	sim_air_remove(c->air, c->pid);
	free(c->dups);
	free(c);
}

static void drop_pending(struct sim_hci_ctrl *c)
{
	c->q_n = 0;
	c->q_head = 0;
	c->in_len = 0;
	c->resync = false;
}

void sim_hci_set_hung(struct sim_hci_ctrl *c, bool hung)
{
	if (hung && !c->hung) {
		drop_pending(c); /* commands not yet answered are lost */
	}
	c->hung = hung;
}

void sim_hci_set_powered(struct sim_hci_ctrl *c, bool powered, uint64_t now_us)
{
	(void)now_us;
	drop_pending(c);
	sim_hci_state_reset(c);
	c->hung = false;
	c->powered = powered;
}

void sim_hci_hw_error(struct sim_hci_ctrl *c, uint8_t code, uint64_t now_us)
{
	(void)now_us;
	if (!c->powered || c->hung) {
		return;
	}
	/* The controller stops its radio work and waits for the host's Reset. */
	c->leg.enabled = false;
	for (unsigned i = 0; i < c->n_sets; i++) {
		c->sets[i].enabled = false;
	}
	c->scanning = false;
	c->hw_error = true;
	if (c->evmask & EVM_HW_ERROR) {
		sim_hci_event(c, EVT_HARDWARE_ERROR, &code, 1);
	}
}

void sim_hci_garbage(struct sim_hci_ctrl *c, size_t n)
{
	uint8_t buf[256];

	if (n > sizeof(buf)) {
		n = sizeof(buf);
	}
	for (size_t i = 0; i < n; i++) {
		/* Never 0x01..0x05, so no byte of the burst looks like a packet indicator. */
		buf[i] = (uint8_t)(0x06 + sim_hci_rnd(c) % 0xFA);
	}
	if (n) {
		sim_hci_emit(c, buf, n);
	}
}

uint32_t sim_hci_pid(const struct sim_hci_ctrl *c)
{
	return c->pid;
}

void sim_hci_counters(const struct sim_hci_ctrl *c, struct sim_hci_counters *out)
{
	*out = c->n;
}

json_t *sim_hci_status_json(const struct sim_hci_ctrl *c)
{
	json_t *o = json_object(), *ops = json_object(), *sets = json_array();
	char hex[24];
	const char *state = !c->powered   ? "unplugged"
			    : c->hung     ? "hung"
			    : c->hw_error ? "hardware_error"
					  : "ready";
	static const char *const modes[] = {"none", "legacy", "extended"};

	if (!o || !ops || !sets) {
		json_decref(o);
		json_decref(ops);
		json_decref(sets);
		return NULL;
	}
	for (size_t i = 0; i < OPCODES_MAX && c->ops[i].n; i++) {
		snprintf(hex, sizeof(hex), "0x%04x", c->ops[i].op);
		json_object_set_new(ops, hex, json_integer((json_int_t)c->ops[i].n));
	}
	for (unsigned i = 0; i < c->n_sets; i++) {
		if (c->sets[i].used && c->sets[i].enabled) {
			json_array_append_new(sets, json_integer(c->sets[i].handle));
		}
	}
	json_object_set_new(o, "profile",
			    json_string(c->profile == SIM_HCI_LEGACY ? "legacy" : "extended"));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "command_mode", json_string(modes[c->mode]));
	json_object_set_new(o, "commands", json_integer((json_int_t)c->n.commands));
	json_object_set_new(o, "events", json_integer((json_int_t)c->n.events));
	json_object_set_new(o, "opcodes", ops);
	json_object_set_new(o, "flow_violations", json_integer((json_int_t)c->n.flow_violations));
	json_object_set_new(o, "commands_dropped", json_integer((json_int_t)c->commands_dropped));
	json_object_set_new(o, "command_errors", json_integer((json_int_t)c->n.command_errors));
	json_object_set_new(o, "malformed", json_integer((json_int_t)c->n.malformed));
	json_object_set_new(o, "swallowed_bytes", json_integer((json_int_t)c->n.swallowed));
	json_object_set_new(o, "legacy_adv_enabled", json_boolean(c->leg.enabled));
	json_object_set_new(o, "adv_sets_enabled", sets);
	json_object_set_new(o, "scanning", json_boolean(c->scanning));
	json_object_set_new(o, "scan_format", json_string(c->scan_ext ? "extended" : "legacy"));
	json_object_set_new(o, "filter_duplicates", json_boolean(c->filter_dup != 0));
	json_object_set_new(o, "scan_interval_us",
			    json_integer((json_int_t)c->scan_interval * SLOT_US));
	json_object_set_new(o, "scan_window_us",
			    json_integer((json_int_t)c->scan_window * SLOT_US));
	json_object_set_new(o, "reports_sent", json_integer((json_int_t)c->n.reports_sent));
	json_object_set_new(o, "reports_suppressed",
			    json_integer((json_int_t)c->n.reports_suppressed));
	json_object_set_new(o, "reports_dropped", json_integer((json_int_t)c->n.reports_dropped));
	json_object_set_new(o, "reports_masked", json_integer((json_int_t)c->reports_masked));
	json_object_set_new(o, "tx_packets", json_integer((json_int_t)c->n.tx_packets));
	snprintf(hex, sizeof(hex), "0x%016llx", (unsigned long long)c->evmask);
	json_object_set_new(o, "event_mask", json_string(hex));
	snprintf(hex, sizeof(hex), "0x%016llx", (unsigned long long)c->le_evmask);
	json_object_set_new(o, "le_event_mask", json_string(hex));
	return o;
}
