#include "gateway/hci_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <bluetooth/bluetooth.h>
#include <bluetooth/hci.h>

#include "gateway/hci_msg.h"
#include "gateway/log.h"

#define OUT_CAP 2048

struct hci_io {
	struct gw_loop *loop;
	int fd;
	enum hci_io_kind kind;
	struct hci_io_cbs cbs;
	struct hci_h4_rx rx;
	bool dead;
	uint8_t out[OUT_CAP];
	size_t out_len;
};

int hci_io_open_user(int dev, char *why, size_t cap)
{
	struct sockaddr_hci a;
	int fd, e;

	fd = socket(AF_BLUETOOTH, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, BTPROTO_HCI);
	if (fd < 0) {
		e = errno;
		if (e == EAFNOSUPPORT) {
			snprintf(
			    why, cap,
			    "this kernel has no Bluetooth support (AF_BLUETOOTH): load it "
			    "(`modprobe bluetooth`) or use an H4 controller (bearer = uart:PATH)");
		} else if (e == EPERM || e == EACCES) {
			snprintf(why, cap,
				 "a raw HCI socket needs CAP_NET_RAW (the systemd unit grants it)");
		} else {
			snprintf(why, cap, "HCI socket: %s", strerror(e));
		}
		return -e;
	}
	memset(&a, 0, sizeof(a));
	a.hci_family = AF_BLUETOOTH;
	a.hci_dev = (unsigned short)dev;
	a.hci_channel = HCI_CHANNEL_USER;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		e = errno;
		close(fd);
		switch (e) {
		case EBUSY:
		case EALREADY:
			snprintf(
			    why, cap,
			    "hci%d is up or held by bluetoothd: power it off with `btmgmt --index "
			    "%d power off` or stop bluetoothd (`systemctl stop bluetooth`)",
			    dev, dev);
			break;
		case ENODEV:
			snprintf(why, cap,
				 "no controller hci%d: plug it in or check `btmgmt info` (the "
				 "index may differ)",
				 dev);
			break;
		case EPERM:
		case EACCES:
			snprintf(
			    why, cap,
			    "the HCI user channel of hci%d needs CAP_NET_ADMIN (the systemd unit "
			    "grants it)",
			    dev);
			break;
		default:
			snprintf(why, cap, "hci%d user channel: %s", dev, strerror(e));
			break;
		}
		return -e;
	}
	return fd;
}

static const struct {
	uint32_t rate;
	speed_t code;
} bauds[] = {
    {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
    {115200, B115200},   {230400, B230400},   {460800, B460800},   {500000, B500000},
    {576000, B576000},   {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
    {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
    {3500000, B3500000}, {4000000, B4000000},
};

static int baud_code(uint32_t rate, speed_t *code)
{
	size_t i;

	for (i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++) {
		if (bauds[i].rate == rate) {
			*code = bauds[i].code;
			return 0;
		}
	}
	return -EINVAL;
}

bool hci_io_baud_valid(uint32_t baud)
{
	speed_t c;

	return baud_code(baud, &c) == 0;
}

int hci_io_open_uart(const char *path, uint32_t baud, bool rtscts, char *why, size_t cap)
{
	struct termios t;
	speed_t code;
	int fd, e;

	if (baud_code(baud, &code)) {
		snprintf(why, cap, "%u is not a termios baud rate", baud);
		return -EINVAL;
	}
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == EACCES || e == EPERM) {
			snprintf(why, cap,
				 "%s: permission denied (the serial port needs the dialout "
				 "group)",
				 path);
		} else if (e == ENOENT) {
			snprintf(why, cap, "no serial port %s (unplugged?)", path);
		} else {
			snprintf(why, cap, "%s: %s", path, strerror(e));
		}
		return -e;
	}
	if (tcgetattr(fd, &t) < 0) {
		e = errno;
		snprintf(why, cap, "%s is not a terminal: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	if (rtscts) {
		t.c_cflag |= CRTSCTS;
	}
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, code) < 0 || cfsetospeed(&t, code) < 0) {
		e = errno;
		snprintf(why, cap, "%s: cannot set %u baud: %s", path, baud, strerror(e));
		close(fd);
		return -e;
	}
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		if (!rtscts) {
			e = errno;
			snprintf(why, cap, "%s: cannot configure the port: %s", path, strerror(e));
			close(fd);
			return -e;
		}
		/* A pty may refuse hardware flow control: use it without. */
		log_debug("hci: %s refuses RTS/CTS (%s); continuing without flow control", path,
			  strerror(errno));
		t.c_cflag &= ~(tcflag_t)CRTSCTS;
		if (tcsetattr(fd, TCSANOW, &t) < 0) {
			e = errno;
			snprintf(why, cap, "%s: cannot configure the port: %s", path, strerror(e));
			close(fd);
			return -e;
		}
	} else if (rtscts && tcgetattr(fd, &t) == 0 && !(t.c_cflag & CRTSCTS)) {
		log_debug("hci: %s did not keep RTS/CTS (a pty?); continuing without", path);
	}
	(void)tcflush(fd, TCIOFLUSH);
	return fd;
}

static void die(struct hci_io *io, int err, const char *why)
{
	if (io->dead) {
		return;
	}
	io->dead = true;
	(void)gw_loop_fd_del(io->loop, io->fd);
	io->cbs.gone(io->cbs.ctx, err, why);
}

static void on_h4(void *ctx, const uint8_t *pkt, size_t len)
{
	struct hci_io *io = ctx;

	if (!io->dead) {
		io->cbs.packet(io->cbs.ctx, pkt, len);
	}
}

static void count_h4(void *ctx, const uint8_t *pkt, size_t len)
{
	size_t *seen = ctx; /* [0] events, [1] length of the last one */

	(void)pkt;
	seen[0]++;
	seen[1] = len;
}

static int flush_out(struct hci_io *io)
{
	while (io->out_len) {
		ssize_t n = write(io->fd, io->out, io->out_len);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				break;
			}
			return -errno;
		}
		memmove(io->out, io->out + n, io->out_len - (size_t)n);
		io->out_len -= (size_t)n;
	}
	return gw_loop_fd_mod(io->loop, io->fd, EPOLLIN | (io->out_len ? EPOLLOUT : 0u));
}

static void gone_errno(struct hci_io *io, int e)
{
	char why[96];

	snprintf(why, sizeof(why), "controller gone: %s", strerror(e));
	die(io, -e, why);
}

/* Whether a recv()/read() that returned n has bytes to parse; if not, the fd has
 * none for now (EAGAIN, EINTR) or the controller is gone and io says why. */
static bool got_bytes(struct hci_io *io, ssize_t n)
{
	if (n > 0) {
		return true;
	}
	if (n == 0) {
		die(io, -ENODEV, "controller gone: end of file");
	} else if (errno != EAGAIN && errno != EINTR) {
		gone_errno(io, errno);
	}
	return false;
}

static void read_packet(struct hci_io *io)
{
	uint8_t buf[HCI_MAX_FRAME_SIZE];

	for (;;) {
		ssize_t n = recv(io->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (!got_bytes(io, n)) {
			return;
		}
		/* One datagram is one packet: check that it parses as exactly one (an event,
		 * or data the reader skips) before anything is delivered. */
		{
			size_t seen[2] = {0, 0};

			hci_h4_init(&io->rx);
			if (hci_h4_feed(&io->rx, buf, (size_t)n, count_h4, seen) ||
			    !hci_h4_idle(&io->rx) || seen[0] > 1 ||
			    (seen[0] == 1 && seen[1] != (size_t)n) ||
			    (seen[0] == 0 && buf[0] == HCI_EVENT_PKT)) {
				die(io, -EBADMSG, "framing error: a malformed H4 packet");
				return;
			}
			if (seen[0] == 1) {
				io->cbs.packet(io->cbs.ctx, buf, (size_t)n);
			}
		}
		if (io->dead) {
			return;
		}
	}
}

static void read_stream(struct hci_io *io)
{
	uint8_t buf[512];

	for (;;) {
		ssize_t n = read(io->fd, buf, sizeof(buf));

		if (!got_bytes(io, n)) {
			return;
		}
		if (hci_h4_feed(&io->rx, buf, (size_t)n, on_h4, io)) {
			die(io, -EBADMSG, "framing error: unknown H4 packet indicator");
			return;
		}
		if (io->dead) {
			return;
		}
	}
}

static void on_fd(struct gw_loop *loop, int fd, uint32_t events, void *ctx)
{
	struct hci_io *io = ctx;
	int r;

	(void)loop;
	(void)fd;
	if (events & EPOLLIN) {
		if (io->kind == HCI_IO_PACKET) {
			read_packet(io);
		} else {
			read_stream(io);
		}
		if (io->dead) {
			return;
		}
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		int e = 0;
		socklen_t sl = sizeof(e);

		if (io->kind == HCI_IO_PACKET &&
		    getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0 && e) {
			gone_errno(io, e);
		} else {
			die(io, -ENODEV, "controller gone: hangup");
		}
		return;
	}
	if (events & EPOLLOUT) {
		r = flush_out(io);
		if (r) {
			gone_errno(io, -r);
		}
	}
}

struct hci_io *hci_io_new(struct gw_loop *loop, int fd, enum hci_io_kind kind,
			  const struct hci_io_cbs *cbs, int *err)
{
	struct hci_io *io = calloc(1, sizeof(*io));
	int r;

	if (!io) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	io->loop = loop;
	io->fd = fd;
	io->kind = kind;
	io->cbs = *cbs;
	hci_h4_init(&io->rx);
	r = gw_loop_fd_add(loop, fd, EPOLLIN, on_fd, io);
	if (r) {
		close(fd);
		free(io);
		*err = r;
		return NULL;
	}
	return io;
}

int hci_io_send(struct hci_io *io, const uint8_t *pkt, size_t len)
{
	if (io->dead) {
		return -ENOTCONN;
	}
	if (io->kind == HCI_IO_PACKET) {
		/* The user channel takes a whole packet per write, or nothing. */
		if (send(io->fd, pkt, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			return errno == EAGAIN ? -ENOBUFS : -errno;
		}
		return 0;
	}
	if (len > OUT_CAP - io->out_len) {
		return -ENOBUFS;
	}
	memcpy(io->out + io->out_len, pkt, len);
	io->out_len += len;
	return flush_out(io);
}

void hci_io_free(struct hci_io *io)
{
	if (!io) {
		return;
	}
	if (!io->dead) {
		(void)gw_loop_fd_del(io->loop, io->fd);
	}
	close(io->fd);
	free(io);
}
