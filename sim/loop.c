/*
 * The meshsim process around a world (loop.h; the world itself is
 * world.c).  The framings are parsed in port.c; this file only moves
 * datagrams between sockets and the air.
 */
#include "sim/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sim/ctl.h"
#include "sim/hci_port.h"
#include "sim/port.h"

#define NATIVE_CLIENTS_MAX 64
#define CTL_CONNS_MAX 8

enum tag {
	TAG_TIMER = 1,
	TAG_SIGNAL,
	TAG_NATIVE,
	TAG_BLUEZ,
	TAG_CTL,
	TAG_CONN,
	TAG_HCI,
};

struct nclient {
	struct sim_loop *l;
	bool used;
	struct sockaddr_un addr;
	socklen_t alen;
	uint32_t pid;
	char name[SIM_PORT_NAME_MAX + 1];
};

struct bport {
	struct sim_loop *l;
	const struct sim_scn_bluez *cfg;
	int fd;
	uint32_t pid;
	bool joined; /* pid is on the air */
	bool have_peer, queried;
	struct sockaddr_un peer;
	socklen_t plen;
	char name[SIM_PORT_BLUEZ_NAME_MAX + 1];
	uint64_t rx, tx, bad;
};

struct conn {
	int fd; /* -1: free */
	char in[SIM_CTL_LINE_MAX];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
};

struct sim_loop {
	struct sim_world *w;
	struct sim_loop_opts o;
	char *native_path, *ctl_path, *state_path;
	int ep, tfd, sfd, nfd, cfd;
	uint64_t start_us;
	bool stop;
	struct nclient clients[NATIVE_CLIENTS_MAX];
	struct bport *bports;
	size_t n_bports;
	struct conn conns[CTL_CONNS_MAX];
	uint64_t native_bad;
	struct sim_hci_port **hports;
	size_t n_hports;
	/*
	 * The timer's expiry as last set (monotonic µs; UINT64_MAX: disarmed;
	 * 0: not known, set it).  timerfd_settime() at every loop turn was a
	 * seventh of meshsim's time with a thousand devices: set only when it
	 * changes, or after it fired (a fired timerfd is disarmed).
	 */
	uint64_t armed_at;
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t sim_loop_now(const struct sim_loop *l)
{
	return (uint64_t)((double)(mono_us() - l->start_us) * l->o.time_scale);
}

static int ep_add(struct sim_loop *l, int fd, uint32_t events, enum tag tag, uint32_t idx)
{
	struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)tag << 32) | idx};

	return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int bind_dgram(const char *path, int *out)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(path) >= sizeof(a.sun_path)) {
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

static void logd(const struct sim_loop *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void logd(const struct sim_loop *l, const char *fmt, ...)
{
	va_list ap;

	if (!l->o.debug) {
		return;
	}
	va_start(ap, fmt);
	fprintf(stderr, "meshsim: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Native port ------------------------------------------------------------ */

static void native_reply(struct sim_loop *l, const struct sockaddr_un *to, socklen_t tlen,
			 const struct sim_port_msg *m)
{
	uint8_t buf[SIM_PORT_MSG_MAX];
	size_t n;

	if (sim_port_encode(m, buf, sizeof(buf), &n) == 0) {
		/* Best effort: a client that does not read loses its datagrams. */
		(void)sendto(l->nfd, buf, n, MSG_DONTWAIT, (const struct sockaddr *)to, tlen);
	}
}

static void native_error(struct sim_loop *l, const struct sockaddr_un *to, socklen_t tlen, int err,
			 uint8_t kind)
{
	struct sim_port_msg m = {
	    .kind = SIM_PORT_ERROR, .err = (uint8_t)(err < 0 ? -err : err), .err_kind = kind};

	native_reply(l, to, tlen, &m);
}

static void client_drop(struct nclient *c)
{
	if (c->used) {
		sim_air_remove(sim_world_air(c->l->w), c->pid);
		logd(c->l, "native client %s (participant %u) left", c->name, (unsigned)c->pid);
		c->used = false;
	}
}

static void native_rx(void *ctx, const struct sim_air_rx *rx)
{
	struct nclient *c = ctx;
	struct sim_port_msg m = {.kind = SIM_PORT_ADV_RX,
				 .ad_type = rx->ad_type,
				 .rssi = rx->rssi,
				 .time_us = rx->time_us,
				 .len = (uint8_t)rx->len};
	uint8_t buf[SIM_PORT_MSG_MAX];
	size_t n;

	if (rx->ad_type == 0 || rx->len > SIM_PORT_DATA_MAX) {
		return; /* not representable in the framing */
	}
	memcpy(m.data, rx->data, rx->len);
	if (sim_port_encode(&m, buf, sizeof(buf), &n) < 0) {
		return;
	}
	if (sendto(c->l->nfd, buf, n, MSG_DONTWAIT, (struct sockaddr *)&c->addr, c->alen) < 0 &&
	    (errno == ECONNREFUSED || errno == ENOENT)) {
		/* Nobody is bound at the client's path any more: it is gone. */
		client_drop(c);
	}
}

static struct nclient *client_find(struct sim_loop *l, const struct sockaddr_un *a, socklen_t alen)
{
	for (size_t i = 0; i < NATIVE_CLIENTS_MAX; i++) {
		struct nclient *c = &l->clients[i];

		if (c->used && c->alen == alen && !memcmp(&c->addr, a, alen)) {
			return c;
		}
	}
	return NULL;
}

static struct sim_pos mm_pos(const struct sim_port_msg *m)
{
	struct sim_pos p = {m->x_mm / 1000.0, m->y_mm / 1000.0, m->z_mm / 1000.0};

	return p;
}

static void native_hello(struct sim_loop *l, struct nclient *c, const struct sockaddr_un *a,
			 socklen_t alen, const struct sim_port_msg *m)
{
	struct sim_pos pos = mm_pos(m);
	char name[SIM_PORT_NAME_MAX + 8];
	struct sim_port_msg w = {.kind = SIM_PORT_WELCOME};
	int err;

	if (c) {
		client_drop(c); /* a second HELLO re-attaches */
	} else {
		for (size_t i = 0; i < NATIVE_CLIENTS_MAX && !c; i++) {
			if (!l->clients[i].used) {
				c = &l->clients[i];
			}
		}
		if (!c) {
			native_error(l, a, alen, -ENOSPC, SIM_PORT_HELLO);
			return;
		}
	}
	snprintf(name, sizeof(name), "native:%s", m->name);
	c->l = l;
	c->addr = *a;
	c->alen = alen;
	memcpy(c->name, m->name, sizeof(c->name));
	err = sim_air_add(sim_world_air(l->w), &pos, name, native_rx, c, &c->pid);
	if (err < 0) {
		native_error(l, a, alen, err, SIM_PORT_HELLO);
		return;
	}
	c->used = true;
	w.pid = c->pid;
	logd(l, "native client %s joined as participant %u at (%.2f, %.2f, %.2f)", m->name,
	     (unsigned)c->pid, pos.x, pos.y, pos.z);
	native_reply(l, a, alen, &w);
}

static void native_readable(struct sim_loop *l)
{
	for (int budget = 0; budget < 256; budget++) {
		uint8_t buf[SIM_PORT_MSG_MAX + 1];
		struct sockaddr_un a;
		socklen_t alen = sizeof(a);
		struct sim_port_msg m;
		struct nclient *c;
		ssize_t n;
		int err;

		memset(&a, 0, sizeof(a));
		n = recvfrom(l->nfd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&a, &alen);
		if (n < 0) {
			return;
		}
		if (alen <= offsetof(struct sockaddr_un, sun_path)) {
			l->native_bad++; /* unbound sender: no way to answer it */
			continue;
		}
		/* MSG_TRUNC reports the real length: an over-long datagram is malformed. */
		err = (size_t)n > SIM_PORT_MSG_MAX ? -EBADMSG : sim_port_decode(buf, (size_t)n, &m);
		if (err < 0) {
			l->native_bad++;
			native_error(l, &a, alen, err, n >= 2 ? buf[1] : 0);
			continue;
		}
		c = client_find(l, &a, alen);
		switch (m.kind) {
		case SIM_PORT_HELLO:
			native_hello(l, c, &a, alen, &m);
			break;
		case SIM_PORT_ADV_TX:
			err = c ? sim_air_send(sim_world_air(l->w), c->pid, m.ad_type, m.data,
					       m.len, m.count, m.interval_ms, sim_loop_now(l))
				: -ENOTCONN;
			if (err < 0) {
				native_error(l, &a, alen, err, m.kind);
			}
			break;
		case SIM_PORT_MOVE: {
			struct sim_pos pos = mm_pos(&m);

			err = c ? sim_air_move(sim_world_air(l->w), c->pid, &pos) : -ENOTCONN;
			if (err < 0) {
				native_error(l, &a, alen, err, m.kind);
			}
			break;
		}
		case SIM_PORT_DETACH:
			if (c) {
				client_drop(c);
			}
			break;
		case SIM_PORT_WELCOME:
		case SIM_PORT_ADV_RX:
		case SIM_PORT_ERROR:
			/* Kinds that only meshsim sends. */
			native_error(l, &a, alen, -EINVAL, m.kind);
			break;
		}
	}
}

/* BlueZ ports ------------------------------------------------------------ */

static void bluez_send(struct bport *b, const uint8_t *buf, size_t n)
{
	if (!b->have_peer) {
		return;
	}
	/* A daemon that is not running (yet) simply misses the packet, as on a radio. */
	(void)sendto(b->fd, buf, n, MSG_DONTWAIT, (struct sockaddr *)&b->peer, b->plen);
}

static void bluez_rx(void *ctx, const struct sim_air_rx *rx)
{
	struct bport *b = ctx;
	uint8_t buf[2 + SIM_PORT_DATA_MAX];
	size_t n;

	if (sim_port_bluez_encode_rx(rx->ad_type, rx->data, rx->len, buf, sizeof(buf), &n) == 0) {
		b->tx++;
		bluez_send(b, buf, n);
	}
}

static void bluez_readable(struct sim_loop *l, struct bport *b)
{
	for (int budget = 0; budget < 256; budget++) {
		uint8_t buf[SIM_PORT_BLUEZ_TX_MAX + SIM_PORT_BLUEZ_NAME_MAX + 2];
		struct sockaddr_un a;
		socklen_t alen = sizeof(a);
		struct sim_port_bluez_msg m;
		ssize_t n;
		int err;

		memset(&a, 0, sizeof(a));
		n = recvfrom(b->fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&a, &alen);
		if (n < 0) {
			return;
		}
		/* Without a configured peer, the daemon is whoever writes to the port. */
		if (!b->cfg->peer && alen > offsetof(struct sockaddr_un, sun_path) &&
		    (!b->have_peer || b->plen != alen || memcmp(&b->peer, &a, alen))) {
			b->peer = a;
			b->plen = alen;
			b->have_peer = true;
			b->queried = false;
			logd(l, "bluez port %s: daemon at %s", b->cfg->path, a.sun_path);
		}
		if (b->have_peer && !b->queried) {
			uint8_t q[1];
			size_t qn;

			b->queried = true;
			if (sim_port_bluez_encode_query(q, sizeof(q), &qn) == 0) {
				bluez_send(b, q, qn);
			}
		}
		err =
		    (size_t)n > sizeof(buf) ? -EBADMSG : sim_port_bluez_decode(buf, (size_t)n, &m);
		if (err < 0) {
			b->bad++;
			continue;
		}
		if (m.is_name) {
			memcpy(b->name, m.name, sizeof(b->name));
			logd(l, "bluez port %s: daemon D-Bus name %s", b->cfg->path, b->name);
			continue;
		}
		b->rx++;
		/* The daemon paces itself (one PDU per 500 ms): each datagram is one event. */
		err = sim_air_send(sim_world_air(l->w), b->pid, m.ad_type, m.data, m.len, 1, 0,
				   sim_loop_now(l));
		if (err < 0) {
			b->bad++;
		}
	}
}

/* Control socket --------------------------------------------------------- */

static json_t *ports_json(void *ctx)
{
	struct sim_loop *l = ctx;
	json_t *o = json_object(), *nat = json_array(), *bz = json_array();

	if (!o || !nat || !bz) {
		json_decref(o);
		json_decref(nat);
		json_decref(bz);
		return NULL;
	}
	for (size_t i = 0; i < NATIVE_CLIENTS_MAX; i++) {
		const struct nclient *c = &l->clients[i];

		if (c->used) {
			json_array_append_new(nat, json_pack("{sssIss}", "name", c->name, "pid",
							     (json_int_t)c->pid, "path",
							     c->addr.sun_path));
		}
	}
	for (size_t i = 0; i < l->n_bports; i++) {
		const struct bport *b = &l->bports[i];

		json_array_append_new(
		    bz, json_pack("{sssIsssssIsIsI}", "path", b->cfg->path, "pid",
				  (json_int_t)b->pid, "peer", b->have_peer ? b->peer.sun_path : "",
				  "dbus_name", b->name, "from_daemon", (json_int_t)b->rx,
				  "to_daemon", (json_int_t)b->tx, "malformed", (json_int_t)b->bad));
	}
	json_object_set_new(o, "native_path",
			    l->native_path ? json_string(l->native_path) : json_null());
	json_object_set_new(o, "native_clients", nat);
	json_object_set_new(o, "native_malformed", json_integer((json_int_t)l->native_bad));
	json_object_set_new(o, "bluez", bz);
	bz = json_array();
	for (size_t i = 0; bz && i < l->n_hports; i++) {
		json_array_append_new(bz, sim_hci_port_json(l->hports[i]));
	}
	json_object_set_new(o, "hci", bz ? bz : json_null());
	return o;
}

static int write_json_file(json_t *j, const char *path)
{
	char tmp[4200];
	int fd, err = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	/*
	 * Device state is the devices' flash, keys included: the file is
	 * created 0600 whatever the umask (a leftover temporary file is removed
	 * first, so O_EXCL never inherits a wider mode), written in full, then
	 * renamed over the old one.
	 */
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	if (json_dumpfd(j, fd, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 || fsync(fd) < 0) {
		err = -EIO;
	}
	if (close(fd) < 0 && !err) {
		err = -EIO;
	}
	if (err) {
		unlink(tmp);
		return err;
	}
	return rename(tmp, path) < 0 ? -errno : 0;
}

int sim_loop_save(struct sim_loop *l, const char *path, char *msg, size_t cap)
{
	json_t *all = sim_world_save_json(l->w), *devs;
	unsigned files = 0;
	int err = 0;

	if (!all) {
		return -ENOMEM;
	}
	devs = json_object_get(all, "devices");
	for (unsigned i = 0; i < sim_world_n_devices(l->w); i++) {
		const struct sim_scn_device *cfg = sim_world_device_cfg(l->w, i);
		char uuid[33];
		json_t *one, *st;

		sim_world_uuid_hex(cfg->uuid, uuid);
		st = json_object_get(devs, uuid);
		if (!cfg->state_file || !st) {
			continue;
		}
		one = json_pack("{sIs{sO}}", "meshsim_state", (json_int_t)1, "devices", uuid, st);
		err = one ? write_json_file(one, cfg->state_file) : -ENOMEM;
		json_decref(one);
		if (err < 0) {
			break;
		}
		files++;
	}
	if (!path) {
		path = l->state_path;
	}
	if (!err && path) {
		err = write_json_file(all, path);
		files += err == 0;
	}
	if (msg && cap) {
		snprintf(msg, cap, "%zu device states in %u files", json_object_size(devs), files);
	}
	json_decref(all);
	return err;
}

/*
 * SIGTERM/SIGINT with a --state file: keep the devices' state, as a device
 * keeps its flash across a power cycle (a gateway restart test relies on it).
 */
static void save_at_exit(struct sim_loop *l)
{
	char msg[128];
	int err;

	if (!l->state_path) {
		return;
	}
	err = sim_loop_save(l, NULL, msg, sizeof(msg));
	if (err < 0) {
		fprintf(stderr, "meshsim: %s: state not saved: %s\n", l->state_path,
			strerror(-err));
	}
}

static int ctl_save(void *ctx, const char *path, char *msg, size_t cap)
{
	return sim_loop_save(ctx, path, msg, cap);
}

static int ctl_hci(void *ctx, unsigned long n, const char *args, uint64_t now_us, char **reply)
{
	struct sim_loop *l = ctx;

	if (n >= l->n_hports) {
		return -ENOENT;
	}
	*reply = sim_hci_port_ctl(l->hports[n], args, now_us);
	return *reply ? 0 : -ENOMEM;
}

static void ctl_quit(void *ctx)
{
	sim_loop_stop(ctx);
}

static void conn_close(struct sim_loop *l, struct conn *c)
{
	epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
}

static void conn_flush(struct sim_loop *l, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN) {
				return; /* EPOLLOUT brings us back */
			}
			break;
		}
		c->out_off += (size_t)n;
	}
	conn_close(l, c);
}

static void conn_exec(struct sim_loop *l, struct conn *c)
{
	struct sim_ctl_hooks h = {
	    .ctx = l, .save = ctl_save, .quit = ctl_quit, .ports_json = ports_json, .hci = ctl_hci};
	struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = 0};
	char *nl = memchr(c->in, '\n', c->in_len);

	if (nl) {
		*nl = '\0';
	} else {
		c->in[c->in_len < sizeof(c->in) ? c->in_len : sizeof(c->in) - 1] = '\0';
	}
	c->out = sim_ctl_exec(l->w, c->in, sim_loop_now(l), &h);
	if (!c->out) {
		conn_close(l, c);
		return;
	}
	c->out_len = strlen(c->out);
	c->out_off = 0;
	ev.data.u64 = ((uint64_t)TAG_CONN << 32) | (uint64_t)(c - l->conns);
	epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev);
	conn_flush(l, c);
}

static void conn_event(struct sim_loop *l, struct conn *c)
{
	ssize_t n;

	if (c->out) {
		conn_flush(l, c);
		return;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN) {
		return;
	}
	if (n <= 0) {
		/* EOF: run what arrived without a newline, if anything. */
		if (n == 0 && c->in_len) {
			conn_exec(l, c);
		} else {
			conn_close(l, c);
		}
		return;
	}
	c->in_len += (size_t)n;
	if (memchr(c->in, '\n', c->in_len) || c->in_len == sizeof(c->in) - 1) {
		conn_exec(l, c);
	}
}

static void ctl_accept(struct sim_loop *l)
{
	for (;;) {
		int fd = accept4(l->cfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c = NULL;

		if (fd < 0) {
			return;
		}
		for (size_t i = 0; i < CTL_CONNS_MAX && !c; i++) {
			if (l->conns[i].fd < 0) {
				c = &l->conns[i];
			}
		}
		if (!c || ep_add(l, fd, EPOLLIN, TAG_CONN, (uint32_t)(c - l->conns)) < 0) {
			close(fd); /* too many control clients at once */
			continue;
		}
		c->fd = fd;
		c->in_len = 0;
		c->out = NULL;
	}
}

/* Timer and loop --------------------------------------------------------- */

static void arm_timer(struct sim_loop *l)
{
	uint64_t dl = sim_world_next_deadline(l->w);
	struct itimerspec its = {{0, 0}, {0, 0}};
	uint64_t at = UINT64_MAX;

	for (size_t i = 0; i < l->n_hports; i++) {
		uint64_t t = sim_hci_port_next_deadline(l->hports[i]);

		dl = t < dl ? t : dl;
	}

	if (dl != UINT64_MAX) {
		at = l->start_us + (uint64_t)ceil((double)dl / l->o.time_scale);
	}
	if (at == l->armed_at) {
		return;
	}
	l->armed_at = at;
	if (at != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(at / 1000000u);
		its.it_value.tv_nsec = (long)(at % 1000000u) * 1000;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) {
			its.it_value.tv_nsec = 1;
		}
	}
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

void sim_loop_stop(struct sim_loop *l)
{
	l->stop = true;
}

bool sim_loop_stopped(const struct sim_loop *l)
{
	return l->stop;
}

int sim_loop_run_once(struct sim_loop *l, int timeout_ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(l->ep, evs, 16, timeout_ms);

	if (n < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	for (int i = 0; i < n; i++) {
		enum tag tag = (enum tag)(evs[i].data.u64 >> 32);
		uint32_t idx = (uint32_t)evs[i].data.u64;

		switch (tag) {
		case TAG_TIMER: {
			uint64_t exp;

			(void)!read(l->tfd, &exp, sizeof(exp));
			l->armed_at = 0; /* fired: disarmed */
			break;
		}
		case TAG_SIGNAL: {
			struct signalfd_siginfo si;

			if (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				logd(l, "signal %u: stopping", si.ssi_signo);
				l->stop = true;
				save_at_exit(l);
			}
			break;
		}
		case TAG_NATIVE:
			native_readable(l);
			break;
		case TAG_BLUEZ:
			if (idx < l->n_bports) {
				bluez_readable(l, &l->bports[idx]);
			}
			break;
		case TAG_CTL:
			ctl_accept(l);
			break;
		case TAG_CONN:
			if (idx < CTL_CONNS_MAX && l->conns[idx].fd >= 0) {
				conn_event(l, &l->conns[idx]);
			}
			break;
		case TAG_HCI:
			if (idx < l->n_hports) {
				sim_hci_port_event(l->hports[idx], evs[i].events, sim_loop_now(l));
			}
			break;
		}
	}
	sim_world_tick(l->w, sim_loop_now(l));
	for (size_t i = 0; i < l->n_hports; i++) {
		sim_hci_port_tick(l->hports[i], sim_loop_now(l));
	}
	arm_timer(l);
	return n;
}

int sim_loop_run(struct sim_loop *l)
{
	arm_timer(l);
	while (!l->stop) {
		int err = sim_loop_run_once(l, -1);

		if (err < 0) {
			return err;
		}
	}
	return 0;
}

static int listen_stream(const char *path, int *out)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(path) >= sizeof(a.sun_path)) {
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

static int loop_open(struct sim_loop *l)
{
	int err;

	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->ep < 0 || l->tfd < 0) {
		return -errno;
	}
	if ((err = ep_add(l, l->tfd, EPOLLIN, TAG_TIMER, 0)) < 0) {
		return err;
	}
	if (l->o.signals) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigprocmask(SIG_BLOCK, &set, NULL);
		l->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
		if (l->sfd < 0) {
			return -errno;
		}
		if ((err = ep_add(l, l->sfd, EPOLLIN, TAG_SIGNAL, 0)) < 0) {
			return err;
		}
	}
	if (l->native_path) {
		if ((err = bind_dgram(l->native_path, &l->nfd)) < 0) {
			fprintf(stderr, "meshsim: native port %s: %s\n", l->native_path,
				strerror(-err));
			return err;
		}
		if ((err = ep_add(l, l->nfd, EPOLLIN, TAG_NATIVE, 0)) < 0) {
			return err;
		}
	}
	for (size_t i = 0; i < l->n_bports; i++) {
		struct bport *b = &l->bports[i];
		char name[SIM_AIR_NAME_MAX + 1];

		b->l = l;
		b->cfg = &l->o.bluez[i];
		if ((err = bind_dgram(b->cfg->path, &b->fd)) < 0) {
			fprintf(stderr, "meshsim: bluez port %s: %s\n", b->cfg->path,
				strerror(-err));
			return err;
		}
		if ((err = ep_add(l, b->fd, EPOLLIN, TAG_BLUEZ, (uint32_t)i)) < 0) {
			return err;
		}
		if (b->cfg->peer) {
			b->peer.sun_family = AF_UNIX;
			if (strlen(b->cfg->peer) >= sizeof(b->peer.sun_path)) {
				return -ENAMETOOLONG;
			}
			strcpy(b->peer.sun_path, b->cfg->peer);
			b->plen = sizeof(b->peer);
			b->have_peer = true;
		}
		snprintf(name, sizeof(name), "bluez:%s", b->cfg->path);
		err = sim_air_add(sim_world_air(l->w), &b->cfg->pos, name, bluez_rx, b, &b->pid);
		if (err < 0) {
			return err;
		}
		b->joined = true;
	}
	for (size_t i = 0; i < l->n_hports; i++) {
		const struct sim_scn_hci *h = &l->o.hci[i];
		uint64_t seed = 0xcbf29ce484222325ull;

		for (const char *c = h->path; *c; c++) {
			seed = (seed ^ (uint8_t)*c) * 0x100000001b3ull; /* FNV-1a of the path */
		}
		err = sim_hci_port_open(sim_world_air(l->w), h, seed, l->ep,
					((uint64_t)TAG_HCI << 32) | i, l->o.debug, &l->hports[i]);
		if (err < 0) {
			fprintf(stderr, "meshsim: hci port %s: %s\n", h->path, strerror(-err));
			return err;
		}
	}
	if (l->ctl_path) {
		if ((err = listen_stream(l->ctl_path, &l->cfd)) < 0) {
			fprintf(stderr, "meshsim: control socket %s: %s\n", l->ctl_path,
				strerror(-err));
			return err;
		}
		if ((err = ep_add(l, l->cfd, EPOLLIN, TAG_CTL, 0)) < 0) {
			return err;
		}
	}
	return 0;
}

static char *dup_opt(const char *s, bool *fail)
{
	char *d;

	if (!s) {
		return NULL;
	}
	d = strdup(s);
	*fail |= !d;
	return d;
}

struct sim_loop *sim_loop_new(struct sim_world *w, const struct sim_loop_opts *o, int *err)
{
	struct sim_loop *l;
	bool nomem = false;
	int rc;

	if (!w || !o || !(o->time_scale > 0.0 && o->time_scale <= 1e6) ||
	    (o->n_bluez && !o->bluez) || (o->n_hci && !o->hci)) {
		*err = -EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		*err = -ENOMEM;
		return NULL;
	}
	l->w = w;
	l->o = *o;
	l->ep = l->tfd = l->sfd = l->nfd = l->cfd = -1;
	for (size_t i = 0; i < CTL_CONNS_MAX; i++) {
		l->conns[i].fd = -1;
	}
	l->native_path = dup_opt(o->native_path, &nomem);
	l->ctl_path = dup_opt(o->ctl_path, &nomem);
	l->state_path = dup_opt(o->state_path, &nomem);
	l->n_bports = o->n_bluez;
	l->bports = calloc(o->n_bluez + 1, sizeof(*l->bports));
	for (size_t i = 0; l->bports && i < o->n_bluez; i++) {
		l->bports[i].fd = -1;
	}
	l->hports = calloc(o->n_hci + 1, sizeof(*l->hports));
	l->n_hports = l->hports ? o->n_hci : 0;
	if (nomem || !l->bports || !l->hports) {
		l->n_bports = 0;
		sim_loop_free(l);
		*err = -ENOMEM;
		return NULL;
	}
	l->start_us = mono_us();
	rc = loop_open(l);
	if (rc < 0) {
		sim_loop_free(l);
		*err = rc;
		return NULL;
	}
	return l;
}

void sim_loop_free(struct sim_loop *l)
{
	if (!l) {
		return;
	}
	for (size_t i = 0; i < CTL_CONNS_MAX; i++) {
		if (l->conns[i].fd >= 0) {
			conn_close(l, &l->conns[i]);
		}
	}
	for (size_t i = 0; i < NATIVE_CLIENTS_MAX; i++) {
		client_drop(&l->clients[i]);
	}
	for (size_t i = 0; i < l->n_bports; i++) {
		/* The world outlives the loop: its callbacks must not reach freed ports. */
		if (l->bports[i].joined) {
			sim_air_remove(sim_world_air(l->w), l->bports[i].pid);
		}
		if (l->bports[i].fd >= 0) {
			close(l->bports[i].fd);
			unlink(l->bports[i].cfg->path);
		}
	}
	for (size_t i = 0; i < l->n_hports; i++) {
		sim_hci_port_close(l->hports[i]);
	}
	free(l->hports);
	if (l->nfd >= 0) {
		close(l->nfd);
		unlink(l->native_path);
	}
	if (l->cfd >= 0) {
		close(l->cfd);
		unlink(l->ctl_path);
	}
	if (l->sfd >= 0) {
		close(l->sfd);
	}
	if (l->tfd >= 0) {
		close(l->tfd);
	}
	if (l->ep >= 0) {
		close(l->ep);
	}
	free(l->bports);
	free(l->native_path);
	free(l->ctl_path);
	free(l->state_path);
	free(l);
}
