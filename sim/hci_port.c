/*
 * The HCI port's pty plumbing (hci_port.h; sim/PORTS.md "HCI port").
 */
#include "sim/hci_port.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define OUT_MAX 65536  /* bytes kept while the host does not read */
#define GARBAGE_LEN 16 /* "hci N garbage" burst */
#define SLAVE_NAME_MAX 128

struct sim_hci_port {
	struct sim_scn_hci cfg; /* path owned */
	struct sim_hci_ctrl *ctrl;
	int ep;
	uint64_t ep_data;
	int mfd, sfd; /* master; our own slave descriptor (keeps the master from EIO/HUP) */
	char slave[SLAVE_NAME_MAX];
	bool plugged, linked, want_out, debug;
	uint64_t replug_at;
	uint8_t *obuf;
	size_t olen;
	uint64_t bytes_in, bytes_out, out_dropped, plugs;
};

static void logd(const struct sim_hci_port *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void logd(const struct sim_hci_port *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->debug) {
		return;
	}
	va_start(ap, fmt);
	fprintf(stderr, "meshsim: hci port %s: ", p->cfg.path);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void ep_mod(struct sim_hci_port *p, bool out)
{
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.u64 = p->ep_data};

	if (p->mfd >= 0 && out != p->want_out) {
		p->want_out = out;
		(void)epoll_ctl(p->ep, EPOLL_CTL_MOD, p->mfd, &ev);
	}
}

static void flush(struct sim_hci_port *p)
{
	while (p->olen && p->mfd >= 0) {
		ssize_t n = write(p->mfd, p->obuf, p->olen);

		if (n <= 0) {
			break; /* EAGAIN: the host is not reading; EIO: handled on read */
		}
		p->bytes_out += (uint64_t)n;
		memmove(p->obuf, p->obuf + n, p->olen - (size_t)n);
		p->olen -= (size_t)n;
	}
	ep_mod(p, p->olen != 0);
}

/* The controller's output: whole H4 packets, kept whole when the pty is full. */
static void ctrl_out(void *ctx, const uint8_t *buf, size_t len)
{
	struct sim_hci_port *p = ctx;

	if (!p->plugged) {
		return;
	}
	if (p->olen + len > OUT_MAX) {
		p->out_dropped++;
		return;
	}
	memcpy(p->obuf + p->olen, buf, len);
	p->olen += len;
	flush(p);
}

static void set_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		(void)tcsetattr(fd, TCSANOW, &t);
	}
}

static void unplug_fds(struct sim_hci_port *p)
{
	if (p->mfd >= 0) {
		(void)epoll_ctl(p->ep, EPOLL_CTL_DEL, p->mfd, NULL);
		close(p->mfd);
		p->mfd = -1;
	}
	if (p->sfd >= 0) {
		close(p->sfd);
		p->sfd = -1;
	}
	if (p->linked) {
		unlink(p->cfg.path);
		p->linked = false;
	}
	p->olen = 0;
	p->want_out = false;
}

static int plug(struct sim_hci_port *p)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = p->ep_data};
	struct stat st;
	int err;

	p->mfd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (p->mfd < 0) {
		return -errno;
	}
	if (grantpt(p->mfd) < 0 || unlockpt(p->mfd) < 0 ||
	    ptsname_r(p->mfd, p->slave, sizeof(p->slave)) != 0) {
		err = -errno;
		goto fail;
	}
	set_raw(p->mfd);
	p->sfd = open(p->slave, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (p->sfd < 0) {
		err = -errno;
		goto fail;
	}
	set_raw(p->sfd); /* the slave's line discipline is what the host's bytes cross */
	if (lstat(p->cfg.path, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			err = -EEXIST; /* never replace anything but a (stale) symlink */
			goto fail;
		}
		unlink(p->cfg.path);
	}
	if (symlink(p->slave, p->cfg.path) < 0) {
		err = -errno;
		goto fail;
	}
	p->linked = true;
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, p->mfd, &ev) < 0) {
		err = -errno;
		goto fail;
	}
	p->plugged = true;
	p->plugs++;
	logd(p, "plugged in at %s", p->slave);
	return 0;
fail:
	unplug_fds(p);
	return err;
}

int sim_hci_port_open(struct sim_air *air, const struct sim_scn_hci *cfg, uint64_t seed, int ep,
		      uint64_t ep_data, bool debug, struct sim_hci_port **out)
{
	struct sim_hci_port *p;
	struct sim_hci_cfg cc;
	char name[SIM_AIR_NAME_MAX + 1];
	int err;

	if (!air || !cfg || !cfg->path || !out) {
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p || !(p->obuf = malloc(OUT_MAX)) || !(p->cfg.path = strdup(cfg->path))) {
		if (p) {
			free(p->obuf);
		}
		free(p);
		return -ENOMEM;
	}
	p->cfg.pos = cfg->pos;
	p->cfg.legacy = cfg->legacy;
	p->cfg.adv_sets = cfg->adv_sets;
	p->cfg.latency_ms = cfg->latency_ms;
	p->ep = ep;
	p->ep_data = ep_data;
	p->mfd = p->sfd = -1;
	p->debug = debug;
	p->replug_at = UINT64_MAX;
	snprintf(name, sizeof(name), "hci:%s", cfg->path);
	cc.name = name;
	cc.pos = cfg->pos;
	cc.profile = cfg->legacy ? SIM_HCI_LEGACY : SIM_HCI_EXTENDED;
	cc.adv_sets = cfg->adv_sets;
	cc.latency_ms = cfg->latency_ms;
	p->ctrl = sim_hci_new(air, &cc, seed, ctrl_out, p);
	if (!p->ctrl) {
		sim_hci_port_close(p);
		return -EINVAL;
	}
	if ((err = plug(p)) < 0) {
		sim_hci_port_close(p);
		return err;
	}
	*out = p;
	return 0;
}

void sim_hci_port_close(struct sim_hci_port *p)
{
	if (!p) {
		return;
	}
	unplug_fds(p);
	sim_hci_free(p->ctrl);
	free(p->obuf);
	free(p->cfg.path);
	free(p);
}

void sim_hci_port_event(struct sim_hci_port *p, uint32_t events, uint64_t now_us)
{
	if (!p->plugged) {
		return;
	}
	if (events & EPOLLOUT) {
		flush(p);
	}
	for (int budget = 0; budget < 64; budget++) {
		uint8_t buf[1024];
		ssize_t n = read(p->mfd, buf, sizeof(buf));

		if (n > 0) {
			p->bytes_in += (uint64_t)n;
			sim_hci_input(p->ctrl, buf, (size_t)n, now_us);
			continue;
		}
		/*
		 * EAGAIN: drained.  EIO: no slave is open, which cannot last while we
		 * hold one; either way wait for the next event rather than spin.
		 */
		break;
	}
}

uint64_t sim_hci_port_next_deadline(const struct sim_hci_port *p)
{
	uint64_t t = sim_hci_next_deadline(p->ctrl);

	if (!p->plugged && p->replug_at < t) {
		t = p->replug_at;
	}
	return t;
}

static int replug(struct sim_hci_port *p, uint64_t now_us)
{
	int err;

	p->replug_at = UINT64_MAX;
	if ((err = plug(p)) < 0) {
		fprintf(stderr, "meshsim: hci port %s: cannot plug in again: %s\n", p->cfg.path,
			strerror(-err));
		return err;
	}
	sim_hci_set_powered(p->ctrl, true, now_us);
	return 0;
}

void sim_hci_port_tick(struct sim_hci_port *p, uint64_t now_us)
{
	if (!p->plugged && now_us >= p->replug_at) {
		(void)replug(p, now_us);
	}
	sim_hci_tick(p->ctrl, now_us);
}

static char *reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *reply(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

json_t *sim_hci_port_json(const struct sim_hci_port *p)
{
	json_t *o = sim_hci_status_json(p->ctrl);

	if (!o) {
		return NULL;
	}
	json_object_set_new(o, "path", json_string(p->cfg.path));
	json_object_set_new(o, "slave", p->plugged ? json_string(p->slave) : json_null());
	json_object_set_new(o, "pid", json_integer(sim_hci_pid(p->ctrl)));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)p->bytes_in));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)p->bytes_out));
	json_object_set_new(o, "out_dropped", json_integer((json_int_t)p->out_dropped));
	json_object_set_new(o, "plugs", json_integer((json_int_t)p->plugs));
	json_object_set_new(o, "cmd_latency_ms", json_integer(p->cfg.latency_ms));
	if (!p->cfg.legacy) {
		json_object_set_new(o, "adv_sets", json_integer(p->cfg.adv_sets));
	}
	return o;
}

static bool parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9') {
		return false;
	}
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max) {
		return false;
	}
	*out = v;
	return true;
}

char *sim_hci_port_ctl(struct sim_hci_port *p, const char *args, uint64_t now_us)
{
	char cmd[32] = "", arg[32] = "", extra[8] = "";
	unsigned long v = 0;
	int n = sscanf(args ? args : "", "%31s %31s %7s", cmd, arg, extra);

	if (n < 1 || n > 2) {
		return reply("error: usage: hci N status|hang|resume|hangup [MS]|plug|"
			     "hwerror [CODE]|garbage\n");
	}
	if (!strcmp(cmd, "status") && n == 1) {
		json_t *j = sim_hci_port_json(p);
		char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
		char *r = s ? reply("%s\n", s) : NULL;

		json_decref(j);
		free(s);
		return r;
	}
	if ((!strcmp(cmd, "hang") || !strcmp(cmd, "resume")) && n == 1) {
		if (!p->plugged) {
			return reply("error: unplugged\n");
		}
		sim_hci_set_hung(p->ctrl, cmd[0] == 'h');
		return reply("ok %s\n", cmd);
	}
	if (!strcmp(cmd, "hangup")) {
		if (n == 2 && !parse_num(arg, 3600000ul, &v)) {
			return reply("error: usage: hci N hangup [MS]\n");
		}
		if (!p->plugged) {
			return reply("error: already unplugged\n");
		}
		sim_hci_set_powered(p->ctrl, false, now_us);
		unplug_fds(p);
		p->plugged = false;
		p->replug_at = n == 2 ? now_us + (uint64_t)v * 1000u : UINT64_MAX;
		logd(p, "unplugged");
		return n == 2 ? reply("ok hangup %lu\n", v) : reply("ok hangup\n");
	}
	if (!strcmp(cmd, "plug") && n == 1) {
		int err;

		if (p->plugged) {
			return reply("error: already plugged in\n");
		}
		err = replug(p, now_us);
		return err < 0 ? reply("error: plug: %s\n", strerror(-err)) : reply("ok plug\n");
	}
	if (!strcmp(cmd, "hwerror")) {
		v = SIM_HCI_HWERR_FRAMING;
		if (n == 2 && !parse_num(arg, 255, &v)) {
			return reply("error: usage: hci N hwerror [CODE 0-255]\n");
		}
		if (!p->plugged) {
			return reply("error: unplugged\n");
		}
		sim_hci_hw_error(p->ctrl, (uint8_t)v, now_us);
		return reply("ok hwerror 0x%02lx\n", v);
	}
	if (!strcmp(cmd, "garbage") && n == 1) {
		if (!p->plugged) {
			return reply("error: unplugged\n");
		}
		sim_hci_garbage(p->ctrl, GARBAGE_LEN);
		return reply("ok garbage %d\n", GARBAGE_LEN);
	}
	return reply("error: unknown hci command \"%s\"\n", cmd);
}

struct sim_hci_ctrl *sim_hci_port_ctrl(struct sim_hci_port *p)
{
	return p->ctrl;
}
