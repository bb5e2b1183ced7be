/*
 * The HCI driver and bearer (gateway/hci.c, gateway/bearer_hci.c) against a
 * scripted fake controller on a SOCK_SEQPACKET socketpair standing in for
 * the user channel.  Time is the loop's fake clock: nothing sleeps.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/bearer.h"
#include "gateway/hci_msg.h"
#include "gateway/loop.h"
#include "tests/util/tv.h"

struct rxd {
	uint8_t type;
	uint8_t data[32];
	size_t len;
	int8_t rssi;
};

static struct {
	struct gw_loop *loop;
	uint64_t now;
	int ctl;    /* the controller's end of the current connection */
	int opened; /* how many times the driver opened the transport */
	struct gw_bearer *b;
	struct rxd rx[8];
	int nrx;
} T;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return T.now;
}

static int open_refusals; /* open_pair fails with -EAFNOSUPPORT this many times first */

static int open_pair(void *ctx, char *why, size_t cap)
{
	int sv[2];

	(void)ctx;
	if (open_refusals > 0) {
		open_refusals--;
		snprintf(why, cap, "this kernel has no Bluetooth support (AF_BLUETOOTH)");
		return -EAFNOSUPPORT;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(why, cap, "socketpair: %s", strerror(errno));
		return -errno;
	}
	if (T.ctl >= 0) {
		close(T.ctl);
	}
	T.ctl = sv[1];
	T.opened++;
	return sv[0];
}

static void on_rx(void *ctx, uint8_t type, const uint8_t *data, size_t len, int8_t rssi)
{
	(void)ctx;
	cr_assert_lt(T.nrx, 8);
	T.rx[T.nrx].type = type;
	memcpy(T.rx[T.nrx].data, data, len);
	T.rx[T.nrx].len = len;
	T.rx[T.nrx].rssi = rssi;
	T.nrx++;
}

static void pump(void)
{
	int i;

	for (i = 0; i < 4; i++) {
		cr_assert_eq(gw_loop_run_once(T.loop, 0), 0);
	}
}

static void advance(uint64_t ms)
{
	T.now += ms;
	pump();
}

static void start(void)
{
	struct gw_bearer_hci_conf c = {.open = open_pair};
	struct gw_bearer_ops ops = {.rx = on_rx};
	int err = 0, refused = open_refusals;

	memset(&T, 0, sizeof(T));
	T.ctl = -1;
	T.now = 1000000;
	T.loop = gw_loop_new();
	cr_assert_not_null(T.loop);
	gw_loop_set_clock(T.loop, fake_clock, NULL);
	T.b = gw_bearer_hci_new(T.loop, &c, &ops, &err);
	cr_assert_not_null(T.b, "err %d", err);
	pump();
	cr_assert_eq(T.opened, refused ? 0 : 1);
}

static void stop(void)
{
	gw_bearer_free(T.b);
	if (T.ctl >= 0) {
		close(T.ctl);
	}
	gw_loop_free(T.loop);
}

/* Receives the next command; asserts there is one and that no second one is outstanding. */
static size_t next_cmd(uint8_t *buf, size_t cap)
{
	ssize_t n;

	pump();
	n = recv(T.ctl, buf, cap, MSG_DONTWAIT);
	cr_assert_gt(n, 0, "no command from the driver");
	cr_assert_eq(buf[0], HCI_COMMAND_PKT);
	cr_assert_eq((size_t)buf[3], (size_t)n - 4);
	return (size_t)n;
}

static void no_cmd(void)
{
	uint8_t buf[300];

	pump();
	cr_assert_lt(recv(T.ctl, buf, sizeof(buf), MSG_DONTWAIT), 0, "unexpected command %s",
		     tv_tohex(buf, 8));
	cr_assert_eq(errno, EAGAIN);
}

static uint16_t expect_op(uint16_t op)
{
	uint8_t buf[300];
	size_t n = next_cmd(buf, sizeof(buf));
	uint16_t got = (uint16_t)(buf[1] | buf[2] << 8);

	cr_assert_eq(got, op, "got %s (0x%04x), want 0x%04x", hci_msg_opcode_name(got), got, op);
	/* Num_HCI_Command_Packets was 1: nothing more until we answer. */
	no_cmd();
	(void)n;
	return got;
}

static void expect_bytes(const char *hex)
{
	uint8_t want[300], buf[300];
	int w = tv_hex(hex, want, sizeof(want));
	size_t n = next_cmd(buf, sizeof(buf));

	cr_assert_eq(n, (size_t)w, "got %s want %s", tv_tohex(buf, n), hex);
	cr_assert_eq(memcmp(buf, want, n), 0, "got %s want %s", tv_tohex(buf, n), hex);
	no_cmd();
}

static void send_evt(const uint8_t *p, size_t len)
{
	cr_assert_eq(send(T.ctl, p, len, 0), (ssize_t)len);
	pump();
}

static void send_hex(const char *hex)
{
	uint8_t b[300];
	int n = tv_hex(hex, b, sizeof(b));

	cr_assert_gt(n, 0);
	send_evt(b, (size_t)n);
}

/* Command Complete for op with ncmd credits and return parameters ret (status first). */
static void cc(uint16_t op, uint8_t ncmd, const uint8_t *ret, size_t rlen)
{
	uint8_t b[300];

	b[0] = HCI_EVENT_PKT;
	b[1] = EVT_CMD_COMPLETE;
	b[2] = (uint8_t)(3 + rlen);
	b[3] = ncmd;
	b[4] = (uint8_t)op;
	b[5] = (uint8_t)(op >> 8);
	memcpy(b + 6, ret, rlen);
	send_evt(b, 6 + rlen);
}

static void ok(uint16_t op)
{
	static const uint8_t z = 0;

	cc(op, 1, &z, 1);
}

/* Runs the start-up sequence: version (0x08 = 4.2 or 0x09 = 5.0), extended or not. */
static void init_controller(bool ext, uint8_t sets)
{
	uint8_t ver[9] = {0, ext ? 0x09 : 0x08, 0x34, 0x12, ext ? 0x09 : 0x08, 0x59, 0x00, 0, 0};
	uint8_t cmds[65] = {0};
	uint8_t feat[9] = {0};
	static const uint8_t rnd[9] = {0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x26, 0x77, 0x88};
	uint8_t ns[2] = {0, sets};

	cmds[1 + 27] = 0x80; /* LE Rand */
	if (ext) {
		cmds[1 + 36] = 0xae;
		cmds[1 + 37] = 0x60;
		feat[1 + 1] = 0x10;
	}
	expect_bytes("01 03 0c 00");
	ok(0x0c03);
	expect_bytes("01 01 10 00");
	cc(0x1001, 1, ver, sizeof(ver));
	expect_bytes("01 02 10 00");
	cc(0x1002, 1, cmds, sizeof(cmds));
	expect_bytes("01 03 20 00");
	cc(0x2003, 1, feat, sizeof(feat));
	expect_bytes("01 01 0c 08 ff ff ff ff ff 1f 00 20"); /* LE Meta (bit 61) enabled */
	ok(0x0c01);
	if (ext) {
		expect_bytes("01 01 20 08 02 10 02 00 00 00 00 00");
	} else {
		expect_bytes("01 01 20 08 02 00 00 00 00 00 00 00");
	}
	ok(0x2001);
	expect_bytes("01 18 20 00");
	cc(0x2018, 1, rnd, sizeof(rnd));
	if (ext) {
		expect_bytes("01 3b 20 00");
		cc(0x203b, 1, ns, sizeof(ns));
		expect_bytes("01 41 20 08 00 00 01 00 30 00 30 00");
		ok(0x2041);
		expect_bytes("01 42 20 06 01 00 00 00 00 00");
		ok(0x2042);
	} else {
		/* The random static address: the two top bits of the last octet set. */
		expect_bytes("01 05 20 06 11 22 33 44 55 e6");
		ok(0x2005);
		expect_bytes("01 06 20 0f a0 00 a0 00 03 01 00 00 00 00 00 00 00 07 00");
		ok(0x2006);
		expect_bytes("01 0b 20 07 00 30 00 30 00 00 00");
		ok(0x200b);
		expect_bytes("01 0c 20 02 01 00");
		ok(0x200c);
	}
	cr_assert(gw_bearer_ready(T.b));
}

/* Start-up order and exact bytes for a 4.2 controller; state and controller info reported. */
/* The transport is opened for the count-th time exactly ms from now, not before. */
static void expect_reopen(uint64_t ms, int count)
{
	advance(ms - 1);
	cr_assert_eq(T.opened, count - 1);
	advance(1);
	cr_assert_eq(T.opened, count);
}

/* The i-th AD structure the bearer passed up: its type, data (hex) and RSSI. */
static void expect_rx(int i, uint8_t type, const char *data_hex, int8_t rssi)
{
	cr_assert_eq(T.rx[i].type, type);
	cr_assert_str_eq(tv_tohex(T.rx[i].data, T.rx[i].len), data_hex);
	cr_assert_eq(T.rx[i].rssi, rssi);
}

/* The bearer is down with why in its reason; st is left for more checks. */
static void expect_down(struct gw_bearer_state *st, const char *why)
{
	gw_bearer_state(T.b, st);
	cr_assert_eq(st->status, GW_BEARER_DOWN);
	cr_assert(strstr(st->reason, why), "%s", st->reason);
}

Test(hci_driver, legacy_init_sequence)
{
	struct gw_bearer_state st;

	start();
	gw_bearer_state(T.b, &st);
	cr_assert_eq(st.status, GW_BEARER_STARTING);
	cr_assert_eq(gw_bearer_send(T.b, 0x2a, (const uint8_t *)"x", 1, 1, 20), -ENETDOWN);
	init_controller(false, 1);
	gw_bearer_state(T.b, &st);
	cr_assert_eq(st.status, GW_BEARER_READY);
	cr_assert_str_eq(st.kind, "hci");
	cr_assert(st.has_controller);
	cr_assert_eq(st.ctrl.hci_version, 0x08);
	cr_assert_eq(st.ctrl.hci_revision, 0x1234);
	cr_assert_eq(st.ctrl.manufacturer, 0x0059);
	cr_assert_str_eq(st.ctrl.manufacturer_name, "Nordic Semiconductor ASA");
	cr_assert_not(st.ctrl.extended);
	cr_assert_eq(st.ctrl.adv_sets, 1);
	no_cmd();
	stop();
}

/* Num_HCI_Command_Packets = 0 holds the queue until a credit arrives (Command Complete, opcode 0).
 */
Test(hci_driver, flow_control_credits)
{
	static const uint8_t z = 0;

	start();
	expect_op(0x0c03);
	cc(0x0c03, 0, &z, 1); /* done, but no credit */
	no_cmd();
	send_hex("04 0e 03 01 00 00"); /* credit */
	expect_op(0x1001);
	stop();
}

/* A command without an answer for 2 s: down with a reason, closed, re-opened after 0.5 s, re-init.
 */
Test(hci_driver, command_timeout_reopens)
{
	struct gw_bearer_state st;
	uint8_t buf[8];
	int old;

	start();
	init_controller(false, 1);
	/* Silence from here: the next command is a transmission. */
	cr_assert_eq(gw_bearer_send(T.b, 0x2b, (const uint8_t *)"\x01\x02", 2, 1, 20), 0);
	expect_op(0x2008);
	advance(1999);
	cr_assert(gw_bearer_ready(T.b));
	old = T.ctl;
	advance(1);
	expect_down(&st, "stopped answering");
	cr_assert(strstr(st.reason, "LE Set Advertising Data"), "%s", st.reason);
	cr_assert_str_eq(gw_bearer_status_name(st.status), "down-reopening");
	cr_assert_eq(gw_bearer_send(T.b, 0x2b, (const uint8_t *)"\x01", 1, 1, 20), -ENETDOWN);
	/* The transport is closed: the controller end sees end of file. */
	cr_assert_eq(recv(old, buf, sizeof(buf), MSG_DONTWAIT), 0);
	cr_assert_eq(T.opened, 1);
	expect_reopen(500, 2);
	init_controller(false, 1);
	gw_bearer_state(T.b, &st);
	cr_assert_eq(st.status, GW_BEARER_READY);
	cr_assert_str_eq(st.reason, "");
	stop();
}

/* An idle controller is probed every 5 s; one that stopped answering is found by the probe. */
Test(hci_driver, idle_probe_finds_a_hang)
{
	static const uint8_t ver[9] = {0, 0x08, 0, 0, 0x08, 0x59, 0x00, 0, 0};
	struct gw_bearer_state st;

	start();
	init_controller(false, 1);
	advance(4999);
	no_cmd();
	advance(1);
	expect_bytes("01 01 10 00");
	cc(0x1001, 1, ver, sizeof(ver));
	advance(5000);
	expect_bytes("01 01 10 00");
	advance(2000);
	expect_down(&st, "stopped answering");
	stop();
}

/* A transport that cannot be opened as configured: failed with the advice, retried every 10 s. */
Test(hci_driver, open_refused_is_failed_and_retried)
{
	struct gw_bearer_state st;

	open_refusals = 1;
	start();
	cr_assert_eq(T.opened, 0);
	gw_bearer_state(T.b, &st);
	cr_assert_eq(st.status, GW_BEARER_FAILED);
	cr_assert_str_eq(gw_bearer_status_name(st.status), "failed");
	cr_assert_str_eq(st.reason, "this kernel has no Bluetooth support (AF_BLUETOOTH)");
	cr_assert_not(st.has_controller);
	cr_assert_eq(gw_bearer_send(T.b, 0x2a, (const uint8_t *)"x", 1, 1, 20), -ENETDOWN);
	expect_reopen(10000, 1);
	init_controller(false, 1);
	gw_bearer_state(T.b, &st);
	cr_assert_eq(st.status, GW_BEARER_READY);
	stop();
}

/* The controller closing its end (EOF) is a fault too; re-opening backs off 0.5 s, 1 s, 2 s. */
Test(hci_driver, eof_and_backoff)
{
	struct gw_bearer_state st;

	start();
	init_controller(false, 1);
	close(T.ctl);
	T.ctl = -1;
	pump();
	expect_down(&st, "controller gone");
	advance(500);
	cr_assert_eq(T.opened, 2);
	/* No answer to Reset: a timeout, then the next wait is 1 s. */
	expect_op(0x0c03);
	advance(2000);
	expect_reopen(1000, 3);
	stop();
}

/* Garbage on the transport (an unknown H4 indicator) is a framing error: down, re-open. */
Test(hci_driver, framing_error)
{
	struct gw_bearer_state st;

	start();
	init_controller(false, 1);
	send_hex("07 01 02");
	expect_down(&st, "framing");
	advance(500);
	cr_assert_eq(T.opened, 2);
	stop();
}

/*
 * Garbage while a command is outstanding: the controller still holds that command's credit, so
 * after re-opening the driver sends nothing until the late answer arrives, then Reset.
 */
static void garbage_mid_command(void)
{
	struct gw_bearer_state st;

	start();
	init_controller(false, 1);
	cr_assert_eq(gw_bearer_send(T.b, 0x2b, (const uint8_t *)"\x01\x02", 2, 1, 20), 0);
	expect_op(0x2008);
	send_hex("07 01 02");
	expect_down(&st, "framing");
	advance(500);
	cr_assert_eq(T.opened, 2);
	advance(1999);
	no_cmd(); /* no Reset while the controller may still be busy with LE Set Advertising Data */
}

Test(hci_driver, framing_error_waits_for_the_owed_answer)
{
	garbage_mid_command();
	ok(0x2008);
	init_controller(false, 1);
	stop();
}

/* The owed answer never comes: Reset after one command timeout (2 s). */
Test(hci_driver, framing_error_owed_answer_times_out)
{
	garbage_mid_command();
	advance(1);
	init_controller(false, 1);
	cr_assert_eq(T.opened, 2);
	stop();
}

/* Hardware Error: Reset and the whole start-up again on the same transport. */
Test(hci_driver, hardware_error_resets)
{
	struct gw_bearer_state st;

	start();
	init_controller(false, 1);
	send_hex("04 10 01 05");
	expect_down(&st, "hardware error 0x05");
	init_controller(false, 1);
	cr_assert_eq(T.opened, 1);
	stop();
}

/* A refused start-up command is a fault with the command and status in the reason. */
Test(hci_driver, refused_init_command)
{
	static const uint8_t st12 = 0x12;
	struct gw_bearer_state st;

	start();
	expect_op(0x0c03);
	cc(0x0c03, 1, &st12, 1);
	expect_down(&st, "Reset");
	cr_assert(strstr(st.reason, "0x12"), "%s", st.reason);
	stop();
}

/* Reports: every mesh AD structure goes up with the RSSI, other AD types do not. */
Test(hci_driver, legacy_reports_to_rx)
{
	start();
	init_controller(false, 1);
	/* Two reports: flags + Mesh Message; Mesh Beacon + PB-ADV. */
	send_hex("04 3e 24 02 02"
		 " 03 01 11 22 33 44 55 66 07 02 01 06 03 2a aa bb c4"
		 " 03 01 11 22 33 44 55 66 07 03 2b 00 01 02 29 cc b0");
	cr_assert_eq(T.nrx, 3);
	expect_rx(0, 0x2a, "aabb", -60);
	expect_rx(1, 0x2b, "0001", -80);
	expect_rx(2, 0x29, "cc", -80);
	stop();
}

/* Legacy: three queued requests share the one set round-robin, one transmission per turn. */
Test(hci_driver, legacy_fair_round_robin)
{
	uint8_t buf[300];
	char order[16] = {0};
	int i;

	start();
	init_controller(false, 1);
	cr_assert_eq(gw_bearer_send(T.b, 0x29, (const uint8_t *)"A", 1, 2, 20), 0);
	cr_assert_eq(gw_bearer_send(T.b, 0x29, (const uint8_t *)"B", 1, 2, 20), 0);
	cr_assert_eq(gw_bearer_send(T.b, 0x29, (const uint8_t *)"C", 1, 2, 20), 0);
	for (i = 0; i < 6; i++) {
		size_t n = next_cmd(buf, sizeof(buf));

		/* Set Advertising Data: 32 octets, AD structure [2][0x29][letter]. */
		cr_assert_eq(buf[1] | buf[2] << 8, 0x2008);
		cr_assert_eq(n, 36u);
		cr_assert_eq(buf[4], 3);
		cr_assert_eq(buf[5], 2);
		cr_assert_eq(buf[6], 0x29);
		order[i] = (char)buf[7];
		no_cmd();
		ok(0x2008);
		expect_bytes("01 0a 20 01 01");
		ok(0x200a);
		/*
		 * Advertising for one event (advDelay 10 ms + 5 ms), not for an interval;
		 * parameters never change meanwhile.
		 */
		no_cmd();
		advance(14);
		no_cmd();
		advance(1);
		expect_bytes("01 0a 20 01 00");
		ok(0x200a);
	}
	cr_assert_str_eq(order, "ABCABC");
	no_cmd();
	advance(1000);
	no_cmd();
	stop();
}

static void expect_set_start(uint8_t handle, bool params, uint8_t count, const char *data)
{
	uint8_t buf[300];
	size_t n;

	if (params) {
		n = next_cmd(buf, sizeof(buf));
		cr_assert_eq(buf[1] | buf[2] << 8, 0x2036);
		cr_assert_eq(n, 4u + 25u);
		cr_assert_eq(buf[4], handle);
		cr_assert_eq(buf[5] | buf[6] << 8, 0x0010); /* legacy ADV_NONCONN_IND */
		cr_assert_eq(buf[7] | buf[8] << 8 | buf[9] << 16, 0x20); /* 20 ms */
		no_cmd();
		cc(0x2036, 1, (const uint8_t *)"\x00\x00", 2);
		n = next_cmd(buf, sizeof(buf));
		cr_assert_eq(buf[1] | buf[2] << 8, 0x2035);
		cr_assert_eq(buf[4], handle);
		cr_assert_eq(buf[10] & 0xc0, 0xc0); /* random static */
		no_cmd();
		ok(0x2035);
	}
	n = next_cmd(buf, sizeof(buf));
	cr_assert_eq(buf[1] | buf[2] << 8, 0x2037);
	cr_assert_eq(buf[4], handle);
	cr_assert_eq(buf[7], 3);
	cr_assert_eq(buf[10], (uint8_t)data[0]);
	(void)n;
	no_cmd();
	ok(0x2037);
	n = next_cmd(buf, sizeof(buf));
	cr_assert_eq(n, 10u);
	cr_assert_eq(buf[1] | buf[2] << 8, 0x2039);
	cr_assert_eq(buf[4], 1);      /* enable */
	cr_assert_eq(buf[5], 1);      /* one set */
	cr_assert_eq(buf[6], handle); /* its handle */
	cr_assert_eq(buf[9], count);  /* Max_Extended_Advertising_Events */
	no_cmd();
	ok(0x2039);
}

/* Extended: requests run on several sets at once; Set Terminated frees a set for the next one. */
Test(hci_driver, extended_sets_in_parallel)
{
	struct gw_bearer_state st;
	int i;

	start();
	init_controller(true, 2);
	gw_bearer_state(T.b, &st);
	cr_assert(st.ctrl.extended);
	cr_assert_eq(st.ctrl.adv_sets, 2);
	for (i = 0; i < 3; i++) {
		char d[2] = {(char)('A' + i), 0};

		cr_assert_eq(gw_bearer_send(T.b, 0x2a, (const uint8_t *)d, 1, 3, 20), 0);
	}
	/* Two sets, both started before either terminates; the third request waits. */
	expect_set_start(0, true, 3, "A");
	expect_set_start(1, true, 3, "B");
	no_cmd();
	/* Set 1 finishes: it carries C, with its parameters and address already written. */
	send_hex("04 3e 06 12 00 01 ff ff 03");
	expect_set_start(1, false, 3, "C");
	no_cmd();
	send_hex("04 3e 06 12 00 00 ff ff 03");
	send_hex("04 3e 06 12 00 01 ff ff 03");
	no_cmd();
	/* A set that never terminates is disabled by the watchdog. */
	cr_assert_eq(gw_bearer_send(T.b, 0x2a, (const uint8_t *)"D", 1, 1, 20), 0);
	expect_set_start(0, false, 1, "D");
	advance(2100);
	expect_bytes("01 39 20 06 00 01 00 00 00 00");
	stop();
}

/* Extended reports go up too; incomplete ones (Data_Status != 0) are dropped. */
Test(hci_driver, extended_reports_to_rx)
{
	start();
	init_controller(true, 4);
	send_hex("04 3e 1d 0d 01"
		 " 10 00 01 11 22 33 44 55 c6 01 00 ff 7f c8 00 00 00 00 00 00 00 00"
		 " 00 03 02 2b 01");
	cr_assert_eq(T.nrx, 1);
	expect_rx(0, 0x2b, "01", -56);
	send_hex("04 3e 1d 0d 01"
		 " 30 00 01 11 22 33 44 55 c6 01 00 ff 7f c8 00 00 00 00 00 00 00 00"
		 " 00 03 02 2b 01");
	cr_assert_eq(T.nrx, 1);
	stop();
}
