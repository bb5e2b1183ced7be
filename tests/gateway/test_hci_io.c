/*
 * gateway/hci_io: the user-channel transport on a SOCK_SEQPACKET socketpair
 * (standing in for the HCI socket), the UART transport on a pty (opened and
 * configured by hci_io_open_uart, RTS/CTS asked for) and on a pipe.  The
 * loop waits only for file descriptors, never for a fixed time.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/hci_io.h"
#include "gateway/hci_msg.h"
#include "tests/util/tv.h"

struct got {
	int n;
	uint8_t pkt[8][300];
	size_t len[8];
	int gone;
	int err;
	char why[128];
};

static void on_packet(void *ctx, const uint8_t *p, size_t len)
{
	struct got *g = ctx;

	cr_assert_lt(g->n, 8);
	memcpy(g->pkt[g->n], p, len);
	g->len[g->n++] = len;
}

static void on_gone(void *ctx, int err, const char *why)
{
	struct got *g = ctx;

	g->gone++;
	g->err = err;
	snprintf(g->why, sizeof(g->why), "%s", why);
}

/* Runs the loop until cond or 200 iterations, each waiting for fds at most 1 s. */
#define RUN_UNTIL(loop, cond)                                                                      \
	do {                                                                                       \
		int i_;                                                                            \
		for (i_ = 0; i_ < 200 && !(cond); i_++) {                                          \
			cr_assert_eq(gw_loop_run_once(loop, 1000), 0);                             \
		}                                                                                  \
		cr_assert(cond, "timed out: " #cond);                                              \
	} while (0)

/* User channel: a datagram is one packet, out and in, byte for byte; EOF reported once. */
Test(hci_io, packet_socketpair)
{
	struct gw_loop *l = gw_loop_new();
	struct got g = {0};
	struct hci_io_cbs cbs = {.ctx = &g, .packet = on_packet, .gone = on_gone};
	struct hci_msg_cmd c;
	uint8_t buf[64];
	int sv[2], err = 0;
	struct hci_io *io;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	io = hci_io_new(l, sv[0], HCI_IO_PACKET, &cbs, &err);
	cr_assert_not_null(io);
	hci_msg_reset(&c);
	cr_assert_eq(hci_io_send(io, c.buf, c.len), 0);
	cr_assert_eq(recv(sv[1], buf, sizeof(buf), 0), 4);
	cr_assert_eq(memcmp(buf, "\x01\x03\x0c\x00", 4), 0);
	cr_assert_eq(send(sv[1], "\x04\x0e\x04\x01\x03\x0c\x00", 7, 0), 7);
	cr_assert_eq(send(sv[1], "\x04\x10\x01\x09", 4, 0), 4);
	RUN_UNTIL(l, g.n == 2);
	cr_assert_eq(g.len[0], 7);
	cr_assert_eq(memcmp(g.pkt[0], "\x04\x0e\x04\x01\x03\x0c\x00", 7), 0);
	cr_assert_eq(g.len[1], 4);
	cr_assert_eq(g.pkt[1][3], 0x09);
	close(sv[1]);
	RUN_UNTIL(l, g.gone);
	cr_assert_eq(g.gone, 1);
	cr_assert(strstr(g.why, "end of file"), "%s", g.why);
	cr_assert_eq(hci_io_send(io, c.buf, c.len), -ENOTCONN);
	hci_io_free(io);
	gw_loop_free(l);
}

/* User channel: a datagram that is not exactly one H4 packet is a framing error. */
Test(hci_io, packet_malformed)
{
	static const char *const bad[] = {"04 0e 04 01 03 0c", "04 10 01 09 00", "09 00"};
	size_t k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct gw_loop *l = gw_loop_new();
		struct got g = {0};
		struct hci_io_cbs cbs = {.ctx = &g, .packet = on_packet, .gone = on_gone};
		uint8_t b[16];
		int n = tv_hex(bad[k], b, sizeof(b)), sv[2], err = 0;
		struct hci_io *io;

		cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
		io = hci_io_new(l, sv[0], HCI_IO_PACKET, &cbs, &err);
		cr_assert_eq(send(sv[1], b, (size_t)n, 0), n);
		RUN_UNTIL(l, g.gone);
		cr_assert_eq(g.err, -EBADMSG);
		cr_assert_eq(g.n, 0);
		hci_io_free(io);
		close(sv[1]);
		gw_loop_free(l);
	}
}

static int open_pty(char *slave, size_t cap)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	cr_assert_geq(m, 0);
	cr_assert_eq(grantpt(m), 0);
	cr_assert_eq(unlockpt(m), 0);
	cr_assert_eq(ptsname_r(m, slave, cap), 0);
	return m;
}

/* UART on a pty: raw mode with RTS/CTS asked for, packets split at every byte boundary. */
Test(hci_io, uart_pty_every_split)
{
	uint8_t s[64];
	int n = tv_hex("04 0e 04 01 03 0c 00"
		       "02 01 20 02 00 aa bb" /* ACL: skipped */
		       "04 3e 06 12 00 01 ff ff 03",
		       s, sizeof(s));
	char slave[64], why[128];
	int cut;

	cr_assert_gt(n, 0);
	for (cut = 0; cut <= n; cut++) {
		struct gw_loop *l = gw_loop_new();
		struct got g = {0};
		struct hci_io_cbs cbs = {.ctx = &g, .packet = on_packet, .gone = on_gone};
		int m = open_pty(slave, sizeof(slave)), fd, err = 0;
		struct hci_io *io;
		struct hci_msg_cmd c;
		uint8_t out[8];

		fd = hci_io_open_uart(slave, 1000000, true, why, sizeof(why));
		cr_assert_geq(fd, 0, "%s", why);
		io = hci_io_new(l, fd, HCI_IO_STREAM, &cbs, &err);
		cr_assert_not_null(io);
		if (cut) {
			cr_assert_eq(write(m, s, (size_t)cut), cut);
			/* Wait until the transport consumed the first part. */
			cr_assert_eq(gw_loop_run_once(l, 1000), 0);
		}
		cr_assert_eq(write(m, s + cut, (size_t)(n - cut)), n - cut);
		RUN_UNTIL(l, g.n == 2);
		cr_assert_eq(g.len[0], 7);
		cr_assert_eq(memcmp(g.pkt[0], s, 7), 0);
		cr_assert_eq(g.len[1], 9);
		cr_assert_eq(memcmp(g.pkt[1], s + 14, 9), 0);
		cr_assert_eq(g.gone, 0);
		/* And out: bytes as given. */
		hci_msg_le_set_scan_enable(&c, true, false);
		cr_assert_eq(hci_io_send(io, c.buf, c.len), 0);
		cr_assert_eq(read(m, out, sizeof(out)), 6);
		cr_assert_eq(memcmp(out, "\x01\x0c\x20\x02\x01\x00", 6), 0);
		/* The far end hangs up. */
		close(m);
		RUN_UNTIL(l, g.gone);
		cr_assert_eq(g.gone, 1);
		hci_io_free(io);
		gw_loop_free(l);
	}
}

/* A byte stream with an unknown indicator is a framing error; EOF on a pipe is "gone". */
Test(hci_io, stream_garbage_and_eof)
{
	struct gw_loop *l = gw_loop_new();
	struct got g = {0};
	struct hci_io_cbs cbs = {.ctx = &g, .packet = on_packet, .gone = on_gone};
	int p[2], err = 0;
	struct hci_io *io;

	cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
	io = hci_io_new(l, p[0], HCI_IO_STREAM, &cbs, &err);
	cr_assert_eq(write(p[1], "\x04\x10\x01\x01\x42", 5), 5);
	RUN_UNTIL(l, g.gone);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.err, -EBADMSG);
	hci_io_free(io);
	close(p[1]);

	memset(&g, 0, sizeof(g));
	cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
	io = hci_io_new(l, p[0], HCI_IO_STREAM, &cbs, &err);
	cr_assert_eq(write(p[1], "\x04\x10", 2), 2);
	close(p[1]);
	RUN_UNTIL(l, g.gone);
	cr_assert_eq(g.n, 0);
	cr_assert(strstr(g.why, "end of file") || strstr(g.why, "hangup"), "%s", g.why);
	hci_io_free(io);
	gw_loop_free(l);
}

/* Opening errors say what to do. */
Test(hci_io, open_errors)
{
	char why[256];

	cr_assert_eq(hci_io_open_uart("/nonexistent/tty", 1000000, true, why, sizeof(why)),
		     -ENOENT);
	cr_assert(strstr(why, "no serial port /nonexistent/tty"), "%s", why);
	cr_assert_eq(hci_io_open_uart("/dev/null", 1000000, true, why, sizeof(why)), -ENOTTY);
	cr_assert_eq(hci_io_open_uart("/dev/null", 1234, true, why, sizeof(why)), -EINVAL);
	cr_assert(hci_io_baud_valid(4000000));
	cr_assert_not(hci_io_baud_valid(4000001));
	/* This build machine has no AF_BLUETOOTH; where it has one, hci63 does not exist. */
	{
		int r = hci_io_open_user(63, why, sizeof(why));

		cr_assert_lt(r, 0);
		/* The cause, then what to do about it. */
		if (r == -EAFNOSUPPORT) {
			cr_assert_str_eq(why,
					 "this kernel has no Bluetooth support (AF_BLUETOOTH): "
					 "load it (`modprobe bluetooth`) or use an H4 "
					 "controller (bearer = uart:PATH)");
		} else if (r == -ENODEV) {
			cr_assert(strstr(why, "no controller hci63: plug it in"), "%s", why);
		}
	}
}
