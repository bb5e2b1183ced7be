/*
 * The virtual LE controller (sim/hci_ctrl.c) in virtual time, against byte
 * strings laid out as in the Core specification Vol 4 Part E: command
 * answers, parameter-length and range errors, Command Disallowed states and
 * the legacy/extended rule, event masks, advertising on the air, extended
 * sets that terminate, scan reports in both formats, the scan duty cycle,
 * duplicate filtering, fault injection and malformed host input.  The last
 * test drives the pty port (sim/hci_port.c) through its symlink.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "sim/hci_ctrl.h"
#include "sim/hci_port.h"
#include "sim/loop.h"
#include "tests/util/tv.h"

#define OUT_CAP 262144
#define RX_MAX 512

struct rec {
	size_t n;
	uint64_t t[RX_MAX];
	uint8_t type[RX_MAX];
	uint8_t data[RX_MAX][SIM_AIR_DATA_MAX];
	size_t len[RX_MAX];
};

struct fx {
	struct sim_world *w;
	struct sim_air *air;
	struct sim_hci_ctrl *c;
	uint8_t out[OUT_CAP];
	size_t out_len;
	uint64_t now;
	uint32_t peer; /* another radio on the air */
	struct rec rx; /* what the peer hears */
};

static struct fx *F;

static void out_cb(void *ctx, const uint8_t *buf, size_t len)
{
	struct fx *f = ctx;

	cr_assert_leq(f->out_len + len, OUT_CAP);
	memcpy(f->out + f->out_len, buf, len);
	f->out_len += len;
}

static void peer_rx(void *ctx, const struct sim_air_rx *rx)
{
	struct rec *r = ctx;

	if (r->n < RX_MAX) {
		r->t[r->n] = rx->time_us;
		r->type[r->n] = rx->ad_type;
		r->len[r->n] = rx->len;
		memcpy(r->data[r->n], rx->data, rx->len);
	}
	r->n++;
}

static void setup_profile(enum sim_hci_profile prof, unsigned sets, unsigned latency)
{
	struct sim_air_params p;
	struct sim_hci_cfg cfg = {.name = "hci:test",
				  .pos = {0, 0, 1},
				  .profile = prof,
				  .adv_sets = sets,
				  .latency_ms = latency};
	struct sim_pos pp = {3, 0, 1};

	F = calloc(1, sizeof(*F));
	cr_assert(F);
	sim_air_params_default(&p);
	p.edge_loss = 0.0; /* deterministic reach */
	F->w = sim_world_new(7, &p, NULL, 0);
	cr_assert(F->w);
	F->air = sim_world_air(F->w);
	F->c = sim_hci_new(F->air, &cfg, 42, out_cb, F);
	cr_assert(F->c);
	cr_assert_eq(sim_air_add(F->air, &pp, "peer", peer_rx, &F->rx, &F->peer), 0);
}

static void setup_ext(void)
{
	setup_profile(SIM_HCI_EXTENDED, 4, 1);
}

static void setup_legacy(void)
{
	setup_profile(SIM_HCI_LEGACY, 0, 1);
}

static void teardown(void)
{
	sim_hci_free(F->c);
	sim_world_free(F->w);
	free(F);
}

/* Runs the world and the controller from deadline to deadline up to t. */
static void run_to(uint64_t t)
{
	for (;;) {
		uint64_t a = sim_world_next_deadline(F->w), b = sim_hci_next_deadline(F->c);
		uint64_t dl = a < b ? a : b;

		if (dl > t) {
			break;
		}
		if (dl > F->now) {
			F->now = dl;
		}
		sim_world_tick(F->w, F->now);
		sim_hci_tick(F->c, F->now);
	}
	F->now = t;
}

static void run_for_ms(uint64_t ms)
{
	run_to(F->now + ms * 1000u);
}

static void clear_out(void)
{
	F->out_len = 0;
}

static void send_raw(const uint8_t *b, size_t n)
{
	sim_hci_input(F->c, b, n, F->now);
}

/* Everything the controller has sent since the last clear_out(), in hex. */
static const char *out_hex(void)
{
	return tv_tohex(F->out, F->out_len);
}

/* Sends raw host bytes and runs ms; returns everything out so far, in hex. */
static const char *raw(const uint8_t *b, size_t n, uint64_t ms)
{
	send_raw(b, n);
	run_for_ms(ms);
	return out_hex();
}

static struct sim_hci_counters counters(void)
{
	struct sim_hci_counters n;

	sim_hci_counters(F->c, &n);
	return n;
}

/* The host-input counters: commands taken, malformed packets, flow violations. */
static void expect_input(uint64_t commands, uint64_t malformed, uint64_t flow)
{
	struct sim_hci_counters n = counters();

	cr_assert_eq(n.commands, commands);
	cr_assert_eq(n.malformed, malformed);
	cr_assert_eq(n.flow_violations, flow);
}

/* Sends one command (hex of opcode-less parameters) and runs 10 ms; returns bytes out. */
static const char *cmd(uint16_t op, const char *params_hex)
{
	uint8_t b[4 + 255];
	int n = tv_hex(params_hex, b + 4, 255);

	cr_assert_geq(n, 0, "bad hex %s", params_hex);
	b[0] = 0x01;
	b[1] = (uint8_t)op;
	b[2] = (uint8_t)(op >> 8);
	b[3] = (uint8_t)n;
	clear_out();
	send_raw(b, 4 + (size_t)n);
	run_for_ms(10);
	return tv_tohex(F->out, F->out_len);
}

/* The Command Complete status octet of the answer to op, asserting its framing. */
static uint8_t status_of(uint16_t op, const char *params_hex)
{
	cmd(op, params_hex);
	cr_assert_geq(F->out_len, 7, "no answer to 0x%04x", op);
	cr_assert_eq(F->out[0], 0x04);
	cr_assert_eq(F->out[1], 0x0e, "Command Complete for 0x%04x", op);
	cr_assert_eq(F->out[3], 0x01, "Num_HCI_Command_Packets");
	cr_assert_eq(F->out[4] | F->out[5] << 8, op);
	return F->out[6];
}

static void expect(const char *got, const char *want)
{
	cr_assert_str_eq(got, want);
}

static const char *zeros(size_t n)
{
	static char s[600];

	memset(s, '0', 2 * n);
	s[2 * n] = '\0';
	return s;
}

/* Advertising data parameters: hex padded with zero octets to the fixed 32. */
static const char *pad32(const char *hex)
{
	static char s[65];
	size_t n = strlen(hex);

	cr_assert_leq(n, 64);
	memset(s, '0', 64);
	memcpy(s, hex, n);
	s[64] = '\0';
	return s;
}

/* LE Set Extended Advertising Parameters, 25 octets (peer address zero, Tx power 0x7f). */
static const char *xp(unsigned handle, unsigned props, unsigned min, unsigned max, unsigned own,
		      unsigned phy1, unsigned phy2, unsigned sid)
{
	static char s[64];

	snprintf(s, sizeof(s),
		 "%02x%02x%02x%02x%02x%02x%02x%02x%02x07%02x00000000000000007f%02x00%02x%02x00",
		 handle, props & 0xff, props >> 8, min & 0xff, (min >> 8) & 0xff, min >> 16,
		 max & 0xff, (max >> 8) & 0xff, max >> 16, own, phy1, phy2, sid);
	cr_assert_eq(strlen(s), 50);
	return s;
}

/* LE Set Event Mask and Set Event Mask so every LE event of interest passes. */
static void enable_le_meta(void)
{
	cr_assert_eq(status_of(0x0c01, "ffffffffffffff3f"), 0);
	cr_assert_eq(status_of(0x2001, "ff1f030000000000"), 0);
}

TestSuite(hci, .fini = teardown);

/* --- basic commands ------------------------------------------------------- */

Test(hci, reset_exact_bytes_after_latency, .init = setup_ext)
{
	static const uint8_t reset[] = {0x01, 0x03, 0x0c, 0x00};

	send_raw(reset, sizeof(reset));
	run_to(F->now + 999);
	cr_assert_eq(F->out_len, 0, "nothing before the 1 ms command latency");
	run_for_ms(1);
	expect(out_hex(), "040e0401030c00");
}

Test(hci, read_local_version_both_profiles, .init = setup_ext)
{
	expect(cmd(0x1001, ""), "040e0c010110000b00000bf1050100");
	teardown();
	setup_legacy();
	expect(cmd(0x1001, ""), "040e0c01011000080000"
				"08f1050100");
}

Test(hci, supported_commands_bitmap, .init = setup_ext)
{
	const uint8_t *b;

	cmd(0x1002, "");
	cr_assert_eq(F->out_len, 3 + 4 + 64);
	cr_assert_eq(F->out[2], 68);
	b = F->out + 7;
	cr_assert_eq(b[5], 0xc0);  /* Set Event Mask, Reset */
	cr_assert_eq(b[14], 0x28); /* Read Local Version, Read Local Supported Features */
	cr_assert_eq(b[15], 0x02); /* Read BD_ADDR */
	cr_assert_eq(b[25], 0xf7); /* LE Set Event Mask .. LE Set Advertising Data, no bit 3 */
	cr_assert_eq(b[26], 0x0f);
	cr_assert_eq(b[27], 0x80); /* LE Rand */
	cr_assert_eq(b[36], 0xee); /* extended advertising, without Ext Scan Response Data */
	cr_assert_eq(b[37], 0x63);
	teardown();
	setup_legacy();
	cmd(0x1002, "");
	b = F->out + 7;
	cr_assert_eq(b[25], 0xf7);
	cr_assert_eq(b[36], 0x00, "a 4.2 controller has no extended commands");
	cr_assert_eq(b[37], 0x00);
}

Test(hci, features_buffer_size_and_address, .init = setup_ext)
{
	expect(cmd(0x1003, ""), "040e0c01031000"
				"0000000060000000");
	expect(cmd(0x2003, ""), "040e0c01032000"
				"0010000000000000");
	expect(cmd(0x2002, ""), "040e07010220001b0003");
	cmd(0x1009, "");
	cr_assert_eq(F->out_len, 13);
	cr_assert_eq(F->out[2], 10);
	expect(cmd(0x203a, ""), "040e06013a2000fb00");
	expect(cmd(0x203b, ""), "040e05013b200004");
	cmd(0x2018, "");
	cr_assert_eq(F->out_len, 15, "LE Rand: 8 random octets");
	teardown();
	setup_legacy();
	expect(cmd(0x2003, ""), "040e0c01032000"
				"0000000000000000");
	expect(cmd(0x2007, ""), "040e0501072000"
				"00");
}

Test(hci, unknown_commands_get_command_status, .init = setup_legacy)
{
	expect(cmd(0x0c7f, ""), "040f0401017f0c");
	/* A 4.2 controller does not know the extended commands. */
	expect(cmd(0x2036, zeros(25)), "040f0401013620");
	expect(cmd(0x203b, ""), "040f0401013b20");
	expect(cmd(0x2042, zeros(6)), "040f0401014220");
}

/* --- parameter lengths and ranges -------------------------------------------- */

Test(hci, every_fixed_length_is_exact, .init = setup_ext)
{
	static const struct {
		uint16_t op;
		size_t len;
	} t[] = {
	    {0x0c03, 0},  {0x0c01, 8},  {0x1001, 0}, {0x1002, 0}, {0x1003, 0},  {0x1009, 0},
	    {0x2001, 8},  {0x2002, 0},  {0x2003, 0}, {0x2005, 6}, {0x2006, 15}, {0x2007, 0},
	    {0x2008, 32}, {0x2009, 32}, {0x200a, 1}, {0x200b, 7}, {0x200c, 2},  {0x2018, 0},
	};
	static const struct {
		uint16_t op;
		size_t len;
	} e[] = {
	    {0x2035, 7}, {0x2036, 25}, {0x203a, 0}, {0x203b, 0},
	    {0x203c, 1}, {0x203d, 0},  {0x2042, 6},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_assert_eq(status_of(t[i].op, zeros(t[i].len + 1)), 0x12, "0x%04x long", t[i].op);
		if (t[i].len) {
			cr_assert_eq(status_of(t[i].op, zeros(t[i].len - 1)), 0x12, "0x%04x short",
				     t[i].op);
		}
	}
	cr_assert_eq(status_of(0x0c03, ""), 0);
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		cr_assert_eq(status_of(e[i].op, zeros(e[i].len + 1)), 0x12, "0x%04x long", e[i].op);
		if (e[i].len) {
			cr_assert_eq(status_of(e[i].op, zeros(e[i].len - 1)), 0x12, "0x%04x short",
				     e[i].op);
		}
	}
	/* Variable lengths: ext adv data 4 + len, ext adv enable 2 + 4n, ext scan 3 + 5n. */
	cr_assert_eq(status_of(0x2037, "000300"
				       "03"
				       "0201"),
		     0x12);
	cr_assert_eq(status_of(0x2039, "0101"
				       "000000"),
		     0x12);
	cr_assert_eq(status_of(0x2041, "000001"
				       "00100010"),
		     0x12);
	cr_assert_eq(status_of(0x2041, "00"), 0x12);
	/* The error answer still carries the full return parameters. */
	cmd(0x2036, zeros(24));
	cr_assert_eq(F->out_len, 8);
	cr_assert_eq(F->out[6], 0x12);
}

Test(hci, legacy_adv_param_ranges, .init = setup_legacy)
{
	/* min 0x00a0 max 0x00a0 ADV_NONCONN_IND, own public, map 7 */
	cr_assert_eq(status_of(0x2006, "a000a000030000000000000000"
				       "0700"),
		     0);
	cr_assert_eq(status_of(0x2006, "1f002000000000000000000000"
				       "0700"),
		     0x12);
	cr_assert_eq(status_of(0x2006, "20000140000000000000000000"
				       "0700"),
		     0x12);
	cr_assert_eq(status_of(0x2006, "40003000000000000000000000"
				       "0700"),
		     0x12, "min > max");
	cr_assert_eq(status_of(0x2006, "20002000000000000000000000"
				       "0700"),
		     0, "ADV_IND 20 ms");
	/* 4.2: non-connectable needs 100 ms */
	cr_assert_eq(status_of(0x2006, "9f00a000030000000000000000"
				       "0700"),
		     0x12);
	cr_assert_eq(status_of(0x2006, "9f00a000020000000000000000"
				       "0700"),
		     0x12);
	cr_assert_eq(status_of(0x2006, "a000a000050000000000000000"
				       "0700"),
		     0x12, "type 5");
	cr_assert_eq(status_of(0x2006, "a000a000030400000000000000"
				       "0700"),
		     0x12, "own 4");
	cr_assert_eq(status_of(0x2006, "a000a000030000000000000000"
				       "0000"),
		     0x12, "map 0");
	cr_assert_eq(status_of(0x2006, "a000a000030000000000000000"
				       "0800"),
		     0x12, "map 8");
	cr_assert_eq(status_of(0x2006, "a000a000030000000000000000"
				       "0704"),
		     0x12, "filter");
	/* Advertising data: 32 octets always; length octet at most 31. */
	cr_assert_eq(status_of(0x2008, pad32("20")), 0x12);
	cr_assert_eq(status_of(0x2008, pad32("1f")), 0);
	cr_assert_eq(status_of(0x2009, pad32("20")), 0x12);
	cr_assert_eq(status_of(0x2009, pad32("1f")), 0);
	cr_assert_eq(status_of(0x200a, "02"), 0x12);
	cr_assert_eq(status_of(0x200c, "0200"), 0x12);
	cr_assert_eq(status_of(0x200c, "0002"), 0x12, "Filter_Duplicates");
}

Test(hci, nonconn_20ms_allowed_in_5x, .init = setup_ext)
{
	cr_assert_eq(status_of(0x2006, "20002000030000000000000000"
				       "0700"),
		     0);
}

Test(hci, scan_param_ranges, .init = setup_legacy)
{
	cr_assert_eq(status_of(0x200b, "00"
				       "1000"
				       "1000"
				       "0000"),
		     0);
	cr_assert_eq(status_of(0x200b, "00"
				       "0300"
				       "0300"
				       "0000"),
		     0x12);
	cr_assert_eq(status_of(0x200b, "00"
				       "0140"
				       "0400"
				       "0000"),
		     0x12);
	cr_assert_eq(status_of(0x200b, "00"
				       "1000"
				       "2000"
				       "0000"),
		     0x12, "window > interval");
	cr_assert_eq(status_of(0x200b, "02"
				       "1000"
				       "1000"
				       "0000"),
		     0x12, "type");
	cr_assert_eq(status_of(0x200b, "00"
				       "1000"
				       "1000"
				       "0400"),
		     0x12, "own address type");
	cr_assert_eq(status_of(0x200b, "00"
				       "1000"
				       "1000"
				       "0004"),
		     0x12, "filter policy");
}

Test(hci, ext_param_checks, .init = setup_ext)
{
	/* handle 0, legacy ADV_NONCONN_IND, 100 ms, own public, 1M/1M */
	expect(cmd(0x2036, xp(0, 0x10, 0xa0, 0xa0, 0, 1, 1, 0)), "040e0501362000"
								 "00");
	cr_assert_eq(status_of(0x2036, xp(0xf0, 0x10, 0xa0, 0xa0, 0, 1, 1, 0)), 0x12, "handle");
	cr_assert_eq(status_of(0x2036, xp(1, 0x11, 0xa0, 0xa0, 0, 1, 1, 0)), 0x12,
		     "legacy connectable, not scannable: no legacy PDU type");
	cr_assert_eq(status_of(0x2036, xp(1, 0x03, 0xa0, 0xa0, 0, 1, 1, 0)), 0x12,
		     "extended connectable and scannable");
	cr_assert_eq(status_of(0x2036, xp(1, 0x10, 0xa0, 0x90, 0, 1, 1, 0)), 0x12, "min > max");
	cr_assert_eq(status_of(0x2036, xp(1, 0x10, 0x1f, 0xa0, 0, 1, 1, 0)), 0x12, "min < 0x20");
	cr_assert_eq(status_of(0x2036, xp(1, 0x10, 0xa0, 0xa0, 4, 1, 1, 0)), 0x12, "own 4");
	cr_assert_eq(status_of(0x2036, xp(1, 0x10, 0xa0, 0xa0, 0, 2, 1, 0)), 0x12, "primary 2M");
	cr_assert_eq(status_of(0x2036, xp(1, 0x10, 0xa0, 0xa0, 0, 3, 1, 0)), 0x11, "Coded");
	cr_assert_eq(status_of(0x2036, xp(1, 0x00, 0xa0, 0xa0, 0, 1, 2, 0)), 0x11, "2M secondary");
	cr_assert_eq(status_of(0x2036, xp(1, 0x10, 0xa0, 0xa0, 0, 1, 1, 0x10)), 0x12, "SID");
	/* Sets 1..3 fill the controller; a fifth handle exceeds it. */
	for (unsigned h = 1; h < 4; h++) {
		cr_assert_eq(status_of(0x2036, xp(h, 0x10, 0xa0, 0xa0, 0, 1, 1, 0)), 0);
	}
	cr_assert_eq(status_of(0x2036, xp(9, 0x10, 0xa0, 0xa0, 0, 1, 1, 0)), 0x07,
		     "Memory Capacity Exceeded");
	/* Data: unknown handle, legacy PDU limits, operation codes */
	cr_assert_eq(status_of(0x2037, "08"
				       "03"
				       "01"
				       "03"
				       "022b01"),
		     0x42);
	cr_assert_eq(status_of(0x2037, "00"
				       "00"
				       "01"
				       "03"
				       "022b01"),
		     0x12, "fragment, legacy");
	cr_assert_eq(status_of(0x2037, "00"
				       "05"
				       "01"
				       "00"),
		     0x12, "operation 5");
	cr_assert_eq(status_of(0x2037, "00"
				       "03"
				       "02"
				       "00"),
		     0x12, "fragment preference 2");
	cr_assert_eq(status_of(0x2037, "00"
				       "03"
				       "01"
				       "20"
				       "00000000000000000000000000000000"
				       "00000000000000000000000000000000"),
		     0x12, "32 octets in a legacy PDU");
	cr_assert_eq(status_of(0x2037, "00"
				       "03"
				       "01"
				       "03"
				       "022b01"),
		     0);
	/* Enable: unknown set, a handle twice, enable with no sets */
	cr_assert_eq(status_of(0x2039, "01"
				       "01"
				       "08000000"),
		     0x42);
	cr_assert_eq(status_of(0x2039, "01"
				       "02"
				       "00000000"
				       "00000000"),
		     0x12);
	cr_assert_eq(status_of(0x2039, "01"
				       "00"),
		     0x12);
	cr_assert_eq(status_of(0x2039, "02"
				       "01"
				       "00000000"),
		     0x12);
	cr_assert_eq(status_of(0x2039, "01"
				       "05"
				       "00000000"
				       "01000000"
				       "02000000"
				       "03000000"
				       "04000000"),
		     0x12, "more sets than supported");
	/* Own address random without a set random address */
	cr_assert_eq(status_of(0x2036, xp(1, 0x10, 0xa0, 0xa0, 1, 1, 1, 0)), 0);
	cr_assert_eq(status_of(0x2039, "01"
				       "01"
				       "01000000"),
		     0x12);
	cr_assert_eq(status_of(0x2035, "01"
				       "11223344c6"),
		     0x12, "short");
	cr_assert_eq(status_of(0x2035, "01"
				       "1122334455c6"),
		     0);
	cr_assert_eq(status_of(0x2039, "01"
				       "01"
				       "01000000"),
		     0);
	/* Enabled: params, random address and remove are disallowed */
	cr_assert_eq(status_of(0x2036, xp(1, 0x10, 0xa0, 0xa0, 1, 1, 1, 0)), 0x0c);
	cr_assert_eq(status_of(0x2035, "01"
				       "1122334455c6"),
		     0x0c);
	cr_assert_eq(status_of(0x203c, "01"), 0x0c);
	cr_assert_eq(status_of(0x203d, ""), 0x0c);
	cr_assert_eq(status_of(0x203c, "07"), 0x42);
	cr_assert_eq(status_of(0x2039, "00"
				       "00"),
		     0, "disable all");
	cr_assert_eq(status_of(0x203c, "01"), 0);
	cr_assert_eq(status_of(0x2035, "01"
				       "1122334455c6"),
		     0x42, "removed");
	cr_assert_eq(status_of(0x203d, ""), 0);
	cr_assert_eq(status_of(0x2037, "00"
				       "03"
				       "01"
				       "00"),
		     0x42, "cleared");
	/* Extended scan parameters */
	cr_assert_eq(status_of(0x2041, "0000"
				       "01"
				       "00"
				       "1000"
				       "2000"),
		     0x12, "window > interval");
	cr_assert_eq(status_of(0x2041, "0000"
				       "02"
				       "00"
				       "1000"
				       "1000"),
		     0x12, "2M scanning");
	cr_assert_eq(status_of(0x2041, "0000"
				       "04"
				       "00"
				       "1000"
				       "1000"),
		     0x11, "Coded");
	cr_assert_eq(status_of(0x2041, "0000"
				       "01"
				       "00"
				       "1000"
				       "1000"),
		     0);
	cr_assert_eq(status_of(0x2042, "01"
				       "03"
				       "0000"
				       "0000"),
		     0x12, "Filter_Duplicates 3");
	cr_assert_eq(status_of(0x2042, "01"
				       "00"
				       "0000"
				       "0100"),
		     0x12, "period without duration");
	cr_assert_eq(status_of(0x2042, "01"
				       "00"
				       "0000"
				       "0000"),
		     0);
	cr_assert_eq(status_of(0x2041, "0000"
				       "01"
				       "00"
				       "1000"
				       "1000"),
		     0x0c, "while scanning");
}

/* --- Command Disallowed and the legacy/extended rule --------------------------- */

Test(hci, disallowed_while_advertising_or_scanning, .init = setup_ext)
{
	cr_assert_eq(status_of(0x2005, "112233445566"), 0);
	cr_assert_eq(status_of(0x2006, "a000a000030100000000000000"
				       "0700"),
		     0);
	cr_assert_eq(status_of(0x200a, "01"), 0);
	cr_assert_eq(status_of(0x2005, "112233445577"), 0x0c, "random address while advertising");
	cr_assert_eq(status_of(0x2006, "a000a000030100000000000000"
				       "0700"),
		     0x0c, "parameters while advertising");
	cr_assert_eq(status_of(0x200a, "00"), 0);
	cr_assert_eq(status_of(0x200b, "00"
				       "1000"
				       "1000"
				       "0000"),
		     0);
	cr_assert_eq(status_of(0x200c, "0100"), 0);
	cr_assert_eq(status_of(0x2005, "112233445577"), 0x0c, "random address while scanning");
	cr_assert_eq(status_of(0x200b, "00"
				       "1000"
				       "1000"
				       "0000"),
		     0x0c, "parameters while scanning");
	cr_assert_eq(status_of(0x200c, "0000"), 0);
	cr_assert_eq(status_of(0x2005, "112233445577"), 0);
}

Test(hci, random_address_needed_for_random_own_address, .init = setup_legacy)
{
	cr_assert_eq(status_of(0x2006, "a000a000030100000000000000"
				       "0700"),
		     0);
	cr_assert_eq(status_of(0x200a, "01"), 0x12, "own address random, none set");
}

Test(hci, legacy_then_extended_is_disallowed, .init = setup_ext)
{
	cr_assert_eq(status_of(0x2008, pad32("03022b01")), 0);
	cr_assert_eq(status_of(0x203b, ""), 0x0c);
	cr_assert_eq(status_of(0x2036, xp(0, 0x10, 0xa0, 0xa0, 0, 1, 1, 0)), 0x0c);
	cr_assert_eq(status_of(0x2042, "010000000000"), 0x0c);
	/* Mode-neutral commands stay allowed; Reset forgets the mode. */
	cr_assert_eq(status_of(0x2001, "1f00000000000000"), 0);
	cr_assert_eq(status_of(0x0c03, ""), 0);
	cr_assert_eq(status_of(0x203b, ""), 0);
}

Test(hci, extended_then_legacy_is_disallowed, .init = setup_ext)
{
	cr_assert_eq(status_of(0x203b, ""), 0);
	cr_assert_eq(status_of(0x2006, "a000a000030000000000000000"
				       "0700"),
		     0x0c);
	cr_assert_eq(status_of(0x2007, ""), 0x0c);
	cr_assert_eq(status_of(0x200b, "00"
				       "1000"
				       "1000"
				       "0000"),
		     0x0c);
	cr_assert_eq(status_of(0x200c, "0000"), 0x0c);
	cr_assert_eq(status_of(0x2005, "112233445566"), 0, "LE Set Random Address is neutral");
	cr_assert_eq(status_of(0x0c03, ""), 0);
	cr_assert_eq(status_of(0x200c, "0000"), 0);
}

/* --- advertising ------------------------------------------------------------- */

Test(hci, legacy_advertising_on_the_air_at_the_interval, .init = setup_legacy)
{
	/* 100 ms, ADV_NONCONN_IND; data: one AD structure 0x2b (beacon) with 3 octets */
	cr_assert_eq(status_of(0x2006, "a000a000030000000000000000"
				       "0700"),
		     0);
	cr_assert_eq(status_of(0x2008, pad32("05042b010203")), 0);
	cr_assert_eq(status_of(0x200a, "01"), 0);
	run_for_ms(1000);
	cr_assert_geq(F->rx.n, 9);
	cr_assert_leq(F->rx.n, 11);
	for (size_t i = 0; i < F->rx.n; i++) {
		cr_assert_eq(F->rx.type[i], 0x2b);
		cr_assert_eq(F->rx.len[i], 3);
		cr_assert_eq(memcmp(F->rx.data[i], "\x01\x02\x03", 3), 0);
		if (i) {
			uint64_t d = F->rx.t[i] - F->rx.t[i - 1];

			/* 100 ms plus the difference of two advDelays (0-10 ms each) */
			cr_assert_geq(d, 90000u, "gap %llu", (unsigned long long)d);
			cr_assert_leq(d, 110000u, "gap %llu", (unsigned long long)d);
		}
	}
	{
		struct sim_hci_counters n;
		size_t before = F->rx.n;

		sim_hci_counters(F->c, &n);
		cr_assert_eq(n.tx_packets, F->rx.n);
		cr_assert_eq(status_of(0x200a, "00"), 0);
		run_for_ms(1000);
		cr_assert_leq(F->rx.n, before + 1, "disable stops at once");
	}
}

Test(hci, ext_sets_terminate_after_max_events_and_duration, .init = setup_ext)
{
	enable_le_meta();
	/* two legacy ADV_NONCONN_IND sets, 100 ms */
	cr_assert_eq(status_of(0x2036, xp(0, 0x10, 0xa0, 0xa0, 0, 1, 1, 0)), 0);
	cr_assert_eq(status_of(0x2036, xp(1, 0x10, 0xa0, 0xa0, 0, 1, 1, 0)), 0);
	cr_assert_eq(status_of(0x2037, "00"
				       "03"
				       "01"
				       "03"
				       "022b01"),
		     0);
	cr_assert_eq(status_of(0x2037, "01"
				       "03"
				       "01"
				       "04"
				       "032a0102"),
		     0);
	/* set 0: at most 3 events; set 1: 250 ms (25 x 10 ms) */
	clear_out();
	cr_assert_eq(status_of(0x2039, "01"
				       "02"
				       "00"
				       "0000"
				       "03"
				       "01"
				       "1900"
				       "00"),
		     0);
	clear_out();
	run_for_ms(1000);
	/* LE Advertising Set Terminated: status, handle, connection handle, events */
	{
		const char *got = tv_tohex(F->out, F->out_len);

		cr_assert(strstr(got, "043e0612"
				      "00"
				      "00"
				      "0000"
				      "03"),
			  "max events: %s", got);
		cr_assert(strstr(got, "043e0612"
				      "3c"
				      "01"
				      "0000"),
			  "duration: %s", got);
	}
	{
		size_t n0 = 0, n1 = 0;

		for (size_t i = 0; i < F->rx.n; i++) {
			n0 += F->rx.type[i] == 0x2b;
			n1 += F->rx.type[i] == 0x2a;
		}
		cr_assert_eq(n0, 3, "exactly Max_Extended_Advertising_Events");
		cr_assert_geq(n1, 2);
		cr_assert_leq(n1, 3);
	}
}

Test(hci, terminated_event_needs_both_masks, .init = setup_ext)
{
	cr_assert_eq(status_of(0x2036, xp(0, 0x10, 0xa0, 0xa0, 0, 1, 1, 0)), 0);
	cr_assert_eq(status_of(0x2039, "01"
				       "01"
				       "00"
				       "0000"
				       "01"),
		     0);
	clear_out();
	run_for_ms(500);
	cr_assert_eq(F->out_len, 0, "LE Meta is not in the default event mask");
}

/* --- scanning ---------------------------------------------------------------- */

static void peer_send(uint8_t type, const char *hex)
{
	uint8_t d[SIM_AIR_DATA_MAX];
	int n = tv_hex(hex, d, sizeof(d));

	cr_assert_geq(n, 0);
	cr_assert_eq(sim_air_send(F->air, F->peer, type, d, (size_t)n, 1, 0, F->now), 0);
	run_for_ms(20);
}

static int8_t peer_rssi(void)
{
	int8_t rssi;
	bool in;

	cr_assert_eq(sim_air_link(F->air, F->peer, sim_hci_pid(F->c), &rssi, &in), 0);
	cr_assert(in);
	return rssi;
}

Test(hci, no_reports_without_le_meta, .init = setup_ext)
{
	struct sim_hci_counters n;

	cr_assert_eq(status_of(0x200c, "0100"), 0);
	clear_out();
	peer_send(0x2b, "0102");
	cr_assert_eq(F->out_len, 0);
	cr_assert_eq(status_of(0x0c01, "ffffffffffffff3f"), 0);
	cr_assert_eq(status_of(0x2001, "0100000000000000"), 0, "LE mask without bit 1");
	clear_out();
	peer_send(0x2b, "0102");
	cr_assert_eq(F->out_len, 0);
	sim_hci_counters(F->c, &n);
	cr_assert_eq(n.reports_sent, 0);
}

Test(hci, legacy_report_bytes_with_rssi, .init = setup_ext)
{
	char want[128];
	uint8_t addr[6];

	enable_le_meta();
	cr_assert_eq(status_of(0x200c, "0100"), 0);
	clear_out();
	peer_send(0x2a, "a1b2c3");
	cr_assert_eq(F->out_len, 3 + 12 + 5);
	/* 04 3e len 02 | 01 03 01 addr(6) | 05 04 2a a1 b2 c3 | rssi */
	memcpy(addr, F->out + 7, 6);
	cr_assert_eq(addr[5] & 0xc0, 0xc0, "random static address");
	snprintf(want, sizeof(want), "043e1102010301%s05042aa1b2c3%02x", tv_tohex(addr, 6),
		 (uint8_t)peer_rssi());
	expect(out_hex(), want);
	/* The same sender keeps its address. */
	clear_out();
	peer_send(0x2a, "01");
	cr_assert_eq(memcmp(F->out + 7, addr, 6), 0);
}

Test(hci, extended_report_bytes, .init = setup_ext)
{
	char want[160];

	enable_le_meta();
	cr_assert_eq(status_of(0x2041, "0000"
				       "01"
				       "00"
				       "1000"
				       "1000"),
		     0);
	cr_assert_eq(status_of(0x2042, "01"
				       "00"
				       "0000"
				       "0000"),
		     0);
	clear_out();
	peer_send(0x2b, "0102");
	cr_assert_eq(F->out_len, 3 + 26 + 4);
	cr_assert_eq(F->out[13] & 0xc0, 0xc0, "random static address");
	snprintf(want, sizeof(want),
		 "043e1e0d01"
		 "1000"
		 "01%s"
		 "01"
		 "00"
		 "ff"
		 "7f"
		 "%02x"
		 "0000"
		 "00"
		 "000000000000"
		 "04"
		 "032b0102",
		 tv_tohex(F->out + 8, 6), (uint8_t)peer_rssi());
	expect(out_hex(), want);
}

Test(hci, legacy_profile_reports_and_no_own_transmissions, .init = setup_legacy)
{
	enable_le_meta();
	cr_assert_eq(status_of(0x2006, "a000a000030000000000000000"
				       "0700"),
		     0);
	cr_assert_eq(status_of(0x2008, pad32("03022b01")), 0);
	cr_assert_eq(status_of(0x200c, "0100"), 0);
	cr_assert_eq(status_of(0x200a, "01"), 0);
	clear_out();
	run_for_ms(500);
	cr_assert_eq(F->out_len, 0, "the controller does not hear itself");
	peer_send(0x2b, "07");
	cr_assert_eq(F->out[3], 0x02, "legacy LE Advertising Report");
}

Test(hci, duty_cycle_loses_receptions_outside_the_window, .init = setup_ext)
{
	struct sim_hci_counters n;

	enable_le_meta();
	/* interval 100 ms, window 20 ms */
	cr_assert_eq(status_of(0x200b, "00"
				       "a000"
				       "2000"
				       "0000"),
		     0);
	cr_assert_eq(status_of(0x200c, "0100"), 0);
	for (int i = 0; i < 200; i++) {
		uint8_t d = (uint8_t)i;

		sim_air_send(F->air, F->peer, 0x2b, &d, 1, 1, 0, F->now);
		run_for_ms(7);
	}
	run_for_ms(50);
	sim_hci_counters(F->c, &n);
	cr_assert_eq(n.reports_sent + n.reports_dropped, 200);
	/* about 20 % get through */
	cr_assert_geq(n.reports_sent, 20);
	cr_assert_leq(n.reports_sent, 70);
}

Test(hci, duplicate_filter_until_scan_disable, .init = setup_ext)
{
	struct sim_hci_counters n;

	enable_le_meta();
	cr_assert_eq(status_of(0x200c, "0101"), 0);
	for (int i = 0; i < 5; i++) {
		peer_send(0x2b, "0102");
	}
	peer_send(0x2b, "0103");
	sim_hci_counters(F->c, &n);
	cr_assert_eq(n.reports_sent, 2);
	cr_assert_eq(n.reports_suppressed, 4);
	cr_assert_eq(status_of(0x200c, "0000"), 0);
	cr_assert_eq(status_of(0x200c, "0101"), 0);
	peer_send(0x2b, "0102");
	sim_hci_counters(F->c, &n);
	cr_assert_eq(n.reports_sent, 3, "the filter forgets at scan disable");
}

Test(hci, scan_duration_timeout, .init = setup_ext)
{
	enable_le_meta();
	cr_assert_eq(status_of(0x2042, "01"
				       "00"
				       "0a00"
				       "0000"),
		     0); /* 100 ms */
	clear_out();
	run_for_ms(200);
	expect(out_hex(), "043e0111");
}

/* --- flow control and faults -------------------------------------------------- */

Test(hci, flow_violation_counted_and_processed_in_order, .init = setup_ext)
{
	static const uint8_t two[] = {0x01, 0x03, 0x0c, 0x00, 0x01, 0x3b, 0x20, 0x00};

	expect(raw(two, sizeof(two), 10), "040e0401030c00"
					  "040e05013b200004");
	expect_input(2, 0, 1);
}

Test(hci, hang_swallows_and_resume_answers, .init = setup_ext)
{
	sim_hci_set_hung(F->c, true);
	expect(cmd(0x0c03, ""), "");
	sim_hci_set_hung(F->c, false);
	expect(cmd(0x0c03, ""), "040e0401030c00");
}

Test(hci, hardware_error_then_only_reset, .init = setup_ext)
{
	sim_hci_hw_error(F->c, 0x42, F->now);
	expect(out_hex(), "04100142");
	cr_assert_eq(status_of(0x1001, ""), 0x0c);
	cr_assert_eq(status_of(0x0c03, ""), 0);
	cr_assert_eq(status_of(0x1001, ""), 0);
}

Test(hci, unplug_and_replug_is_a_fresh_controller, .init = setup_ext)
{
	cr_assert_eq(status_of(0x203b, ""), 0);
	sim_hci_set_powered(F->c, false, F->now);
	expect(cmd(0x0c03, ""), "");
	sim_hci_set_powered(F->c, true, F->now);
	cr_assert_eq(status_of(0x2007, ""), 0, "the command mode was forgotten");
}

Test(hci, garbage_has_no_packet_indicator, .init = setup_ext)
{
	sim_hci_garbage(F->c, 16);
	cr_assert_eq(F->out_len, 16);
	for (size_t i = 0; i < F->out_len; i++) {
		cr_assert(F->out[i] > 0x05);
	}
}

Test(hci, malformed_input_resynchronises, .init = setup_ext)
{
	static const uint8_t junk[] = {0x07, 0x01, 0x00, 0x00, 0x01, 0x03, 0x0c, 0x00};

	/* Hardware Error 0x01 at once; the plausible Reset after the junk is answered. */
	expect(raw(junk, sizeof(junk), 10), "04100101"
					    "040e0401030c00");
	expect_input(1, 1, 0);
}

Test(hci, truncated_and_oversized_packets, .init = setup_ext)
{
	static const uint8_t half[] = {0x01, 0x01, 0x0c, 0x08, 0xff};
	static const uint8_t acl[] = {0x02, 0x01, 0x00, 0x1c, 0x00};

	cr_assert_str_eq(raw(half, sizeof(half), 500), "", "still waiting for the rest");
	run_for_ms(600);
	expect(out_hex(), "04100101");
	clear_out();
	/* 28 octets > the 27 of LE Read Buffer Size */
	expect(raw(acl, sizeof(acl), 5), "04100101");
	expect(cmd(0x0c03, ""), "040e0401030c00");
	cr_assert_eq(counters().malformed, 2);
}

Test(hci, hardware_error_masked_by_event_mask, .init = setup_ext)
{
	static const uint8_t junk[] = {0x09};

	cr_assert_eq(status_of(0x0c01, "0000000000000000"), 0);
	clear_out();
	expect(raw(junk, sizeof(junk), 5), "");
}

/* --- the pty port -------------------------------------------------------------- */

Test(hci_port, reset_through_the_symlink)
{
	struct sim_air_params p;
	struct sim_world *w;
	struct sim_hci_port *port;
	struct sim_scn_hci cfg = {.pos = {0, 0, 1}, .adv_sets = 4, .latency_ms = 1};
	char path[] = "/tmp/meshsim-hci-test-XXXXXX";
	char link[64];
	struct stat st;
	struct termios t;
	uint8_t buf[64];
	size_t got = 0;
	uint64_t now = 0;
	int ep, fd;

	cr_assert(mkdtemp(path));
	snprintf(link, sizeof(link), "%s/hci0", path);
	cr_assert_eq(symlink("/nonexistent", link), 0, "a stale symlink is replaced");
	cfg.path = link;
	sim_air_params_default(&p);
	w = sim_world_new(1, &p, NULL, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(ep, 0);
	cr_assert_eq(sim_hci_port_open(sim_world_air(w), &cfg, 1, ep, 7, false, &port), 0);
	cr_assert_eq(lstat(link, &st), 0);
	cr_assert(S_ISLNK(st.st_mode));
	fd = open(link, O_RDWR | O_NOCTTY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(tcgetattr(fd, &t), 0);
	cfmakeraw(&t);
	cr_assert_eq(tcsetattr(fd, TCSANOW, &t), 0);
	cr_assert_eq(write(fd, "\x01\x03\x0c\x00", 4), 4);
	/* Virtual time: the port only advances when its descriptor or deadline says so. */
	for (int i = 0; i < 100 && got < 7; i++) {
		struct epoll_event ev;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		uint64_t dl;

		if (epoll_wait(ep, &ev, 1, 100) == 1) {
			cr_assert_eq(ev.data.u64, 7);
			sim_hci_port_event(port, ev.events, now);
		}
		dl = sim_hci_port_next_deadline(port);
		if (dl != UINT64_MAX) {
			now = dl > now ? dl : now;
			sim_hci_port_tick(port, now);
		}
		if (poll(&pf, 1, 0) == 1) {
			ssize_t n = read(fd, buf + got, sizeof(buf) - got);

			cr_assert_gt(n, 0);
			got += (size_t)n;
		}
	}
	expect(tv_tohex(buf, got), "040e0401030c00");
	{
		char *r = sim_hci_port_ctl(port, "status", now);

		cr_assert(strstr(r, "\"flow_violations\": 0"), "%s", r);
		free(r);
		r = sim_hci_port_ctl(port, "hangup", now);
		cr_assert_str_eq(r, "ok hangup\n");
		free(r);
	}
	cr_assert_eq(lstat(link, &st), -1, "unplugging removes the symlink");
	/* The host's descriptor sees the hangup: a read fails or returns 0. */
	{
		ssize_t n = read(fd, buf, sizeof(buf));

		cr_assert_leq(n, 0);
	}
	close(fd);
	{
		char *r = sim_hci_port_ctl(port, "plug", now);

		cr_assert_str_eq(r, "ok plug\n");
		free(r);
	}
	cr_assert_eq(lstat(link, &st), 0);
	sim_hci_port_close(port);
	cr_assert_eq(lstat(link, &st), -1);
	close(ep);
	sim_world_free(w);
	rmdir(path);
}

/*
 * High duty cycle directed advertising ignores (and does not check) the
 * intervals: zero intervals must neither stall virtual time nor divide by
 * zero (found by fuzz/sim_hci_ctrl.c), and directed PDUs carry no data.
 */
Test(hci, high_duty_directed_ignores_intervals, .init = setup_ext)
{
	struct sim_hci_counters n;

	cr_assert_eq(status_of(0x2036, xp(0, 0x1d, 0, 0, 0, 1, 1, 0)), 0);
	cr_assert_eq(status_of(0x2037, "00"
				       "03"
				       "01"
				       "00"),
		     0);
	cr_assert_eq(status_of(0x2039, "01"
				       "01"
				       "00"
				       "0000"
				       "00"),
		     0);
	run_for_ms(100);
	cr_assert_gt(sim_hci_next_deadline(F->c), F->now);
	sim_hci_counters(F->c, &n);
	cr_assert_eq(n.tx_packets, 0);
	cr_assert_eq(F->rx.n, 0);
}
