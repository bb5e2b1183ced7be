#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <stdio.h>

#include "gateway/bearer_int.h"
#include "gateway/log.h"
#include "sim/port.h"

#define HELLO_RETRY_MS 1000
/*
 * Datagrams meshsim has not taken yet.  Linux lets at most
 * net.unix.max_dgram_qlen (10 by default) wait in a datagram socket's
 * queue: a burst of segments for many nodes at once (a commission job's
 * parallel configurations) overruns it while meshsim is busy, and each
 * sendto() then fails with EAGAIN, which the stack would take for a lost
 * message.  A controller queues what it cannot put on the air yet; so does
 * this bearer, in order, and retries every FLUSH_MS.
 */
#define BACKLOG_MAX 256
#define FLUSH_MS 1

struct sim;
static int sim_send(struct gw_bearer *gb, uint8_t ad_type, const uint8_t *data, size_t len,
		    uint8_t count, uint16_t interval_ms);
static bool sim_ready(const struct gw_bearer *gb);
static void sim_state(const struct gw_bearer *gb, struct gw_bearer_state *out);
static void sim_free(struct gw_bearer *gb);

static const struct gw_bearer_backend sim_backend = {
    .send = sim_send, .ready = sim_ready, .state = sim_state, .free = sim_free};

struct sim {
	struct gw_bearer base; /* first: a struct gw_bearer * is a struct sim * */
	struct gw_loop *loop;
	struct gw_bearer_ops ops;
	int fd;
	struct sockaddr_un peer;
	char own[sizeof(((struct sockaddr_un *)0)->sun_path)];
	double pos[3];
	int attached;
	uint64_t timer;
	uint64_t flush; /* the backlog's retry timer */
	struct {
		uint8_t buf[SIM_PORT_MSG_MAX];
		uint8_t len;
	} backlog[BACKLOG_MAX];
	size_t head, queued; /* ring: queued datagrams from head */
};

/* Sends the backlog in order until meshsim's queue is full again; true when it is empty. */
static bool flush_backlog(struct sim *b)
{
	while (b->queued) {
		if (sendto(b->fd, b->backlog[b->head].buf, b->backlog[b->head].len, 0,
			   (struct sockaddr *)&b->peer, sizeof(b->peer)) < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return false;
		}
		/* Sent, or refused for good (meshsim gone): either way it leaves the queue. */
		b->head = (b->head + 1) % BACKLOG_MAX;
		b->queued--;
	}
	return true;
}

static void on_flush(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct sim *b = ctx;

	(void)id;
	b->flush = 0;
	if (!flush_backlog(b)) {
		b->flush = gw_loop_timer_at(loop, gw_loop_now(loop) + FLUSH_MS, on_flush, b);
	}
}

static int send_msg(struct sim *b, const struct sim_port_msg *m)
{
	uint8_t buf[SIM_PORT_MSG_MAX];
	size_t len;
	int r = sim_port_encode(m, buf, sizeof(buf), &len);

	if (r) {
		return r;
	}
	/* Behind a backlog, or meshsim's queue full: in order, after what waits. */
	if (!b->queued &&
	    sendto(b->fd, buf, len, 0, (struct sockaddr *)&b->peer, sizeof(b->peer)) >= 0) {
		return 0;
	}
	if (!b->queued && errno != EAGAIN && errno != EWOULDBLOCK) {
		return -errno;
	}
	if (b->queued == BACKLOG_MAX) {
		return -ENOBUFS;
	}
	r = (int)((b->head + b->queued) % BACKLOG_MAX);
	memcpy(b->backlog[r].buf, buf, len);
	b->backlog[r].len = (uint8_t)len;
	b->queued++;
	if (!b->flush) {
		b->flush = gw_loop_timer_at(b->loop, gw_loop_now(b->loop) + FLUSH_MS, on_flush, b);
	}
	return 0;
}

static void hello(struct sim *b)
{
	struct sim_port_msg m = {.kind = SIM_PORT_HELLO};

	m.x_mm = (int32_t)(b->pos[0] * 1000);
	m.y_mm = (int32_t)(b->pos[1] * 1000);
	m.z_mm = (int32_t)(b->pos[2] * 1000);
	strcpy(m.name, "meshgw");
	(void)send_msg(b, &m);
}

static void on_retry(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct sim *b = ctx;

	(void)id;
	b->timer = 0;
	if (!b->attached) {
		hello(b);
		b->timer = gw_loop_timer_at(loop, gw_loop_now(loop) + HELLO_RETRY_MS, on_retry, b);
	}
}

static void on_readable(struct gw_loop *loop, int fd, uint32_t events, void *ctx)
{
	struct sim *b = ctx;
	uint8_t buf[256];
	ssize_t n;

	(void)loop;
	(void)events;
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		struct sim_port_msg m;

		/* Everything from the socket goes through the bounds-checked codec. */
		if (sim_port_decode(buf, (size_t)n, &m)) {
			log_debug("bearer: malformed datagram (%zd octets) ignored", n);
			continue;
		}
		switch (m.kind) {
		case SIM_PORT_WELCOME:
			if (!b->attached) {
				log_info("bearer: attached to the simulated air as participant %u",
					 m.pid);
			}
			b->attached = 1;
			break;
		case SIM_PORT_ADV_RX:
			b->ops.rx(b->ops.ctx, m.ad_type, m.data, m.len, m.rssi);
			break;
		case SIM_PORT_ERROR:
			log_warnx("bearer: meshsim refused a request (kind %u): %s", m.err_kind,
				  strerror(m.err));
			if (m.err_kind == SIM_PORT_ADV_TX && m.err == ENOENT) {
				/* meshsim restarted and forgot us: attach again. */
				b->attached = 0;
				on_retry(b->loop, 0, b);
			}
			break;
		case SIM_PORT_HELLO:
		case SIM_PORT_ADV_TX:
		case SIM_PORT_DETACH:
		case SIM_PORT_MOVE:
			break;
		}
	}
}

struct gw_bearer *gw_bearer_sim_new(struct gw_loop *loop, const char *sim_path,
				    const char *own_path, const double pos[3],
				    const struct gw_bearer_ops *ops, int *err)
{
	struct sim *b = calloc(1, sizeof(*b));
	struct sockaddr_un own = {.sun_family = AF_UNIX};
	int r;

	if (!b) {
		*err = -ENOMEM;
		return NULL;
	}
	if (strlen(sim_path) >= sizeof(b->peer.sun_path) ||
	    strlen(own_path) >= sizeof(own.sun_path)) {
		free(b);
		*err = -ENAMETOOLONG;
		return NULL;
	}
	b->base.be = &sim_backend;
	b->loop = loop;
	b->ops = *ops;
	memcpy(b->pos, pos, sizeof(b->pos));
	b->peer.sun_family = AF_UNIX;
	strcpy(b->peer.sun_path, sim_path);
	strcpy(own.sun_path, own_path);
	strcpy(b->own, own_path);
	b->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->fd < 0) {
		goto fail;
	}
	(void)unlink(own_path);
	if (bind(b->fd, (struct sockaddr *)&own, sizeof(own)) < 0) {
		goto fail;
	}
	r = gw_loop_fd_add(loop, b->fd, EPOLLIN, on_readable, b);
	if (r) {
		errno = -r;
		goto fail;
	}
	on_retry(loop, 0, b);
	return &b->base;
fail:
	*err = -errno;
	if (b->fd >= 0) {
		close(b->fd);
	}
	free(b);
	return NULL;
}

static int sim_send(struct gw_bearer *gb, uint8_t ad_type, const uint8_t *data, size_t len,
		    uint8_t count, uint16_t interval_ms)
{
	struct sim *b = (struct sim *)gb;
	struct sim_port_msg m = {.kind = SIM_PORT_ADV_TX};

	if (!b->attached) {
		return -ENOTCONN;
	}
	if (len > sizeof(m.data) || count == 0) {
		return -EINVAL;
	}
	m.ad_type = ad_type;
	m.count = count;
	m.interval_ms = interval_ms;
	memcpy(m.data, data, len);
	m.len = (uint8_t)len;
	return send_msg(b, &m);
}

static bool sim_ready(const struct gw_bearer *gb)
{
	return ((const struct sim *)gb)->attached;
}

static void sim_state(const struct gw_bearer *gb, struct gw_bearer_state *out)
{
	const struct sim *b = (const struct sim *)gb;

	out->kind = "sim";
	snprintf(out->name, sizeof(out->name), "sim:%.58s", b->peer.sun_path);
	out->status = b->attached ? GW_BEARER_READY : GW_BEARER_STARTING;
	if (!b->attached) {
		snprintf(out->reason, sizeof(out->reason), "waiting for meshsim at %.200s",
			 b->peer.sun_path);
	}
}

static void sim_free(struct gw_bearer *gb)
{
	struct sim_port_msg m = {.kind = SIM_PORT_DETACH};
	struct sim *b = (struct sim *)gb;

	if (b->attached) {
		(void)send_msg(b, &m);
	}
	if (b->timer) {
		(void)gw_loop_timer_cancel(b->loop, b->timer);
	}
	if (b->flush) {
		(void)gw_loop_timer_cancel(b->loop, b->flush);
	}
	(void)gw_loop_fd_del(b->loop, b->fd);
	close(b->fd);
	(void)unlink(b->own);
	free(b);
}
