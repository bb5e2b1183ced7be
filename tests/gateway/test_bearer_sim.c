/*
 * The simulated-air bearer against a stand-in for meshsim's native port (a
 * datagram socket this test reads, or does not read, when it chooses): a
 * burst larger than the kernel lets wait in that socket's queue
 * (net.unix.max_dgram_qlen) is accepted, and every datagram arrives, in
 * order, once the port reads again.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gateway/bearer.h"
#include "gateway/loop.h"
#include "sim/port.h"

struct port {
	char dir[64];
	struct sockaddr_un sim, own;
	int fd;
	struct gw_loop *loop;
	struct gw_bearer *b;
};

static void no_rx(void *ctx, uint8_t ad_type, const uint8_t *data, size_t len, int8_t rssi)
{
	(void)ctx;
	(void)ad_type;
	(void)data;
	(void)len;
	(void)rssi;
}

/* One datagram from the bearer (waiting up to 1 s, the loop turning); its decoded message. */
static bool port_recv(struct port *p, struct sim_port_msg *m)
{
	uint8_t buf[SIM_PORT_MSG_MAX + 1];

	for (int i = 0; i < 1000; i++) {
		ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n >= 0) {
			cr_assert_eq(sim_port_decode(buf, (size_t)n, m), 0);
			return true;
		}
		cr_assert(errno == EAGAIN || errno == EWOULDBLOCK);
		(void)gw_loop_run_once(p->loop, 1);
	}
	return false;
}

/* A port, a bearer attached to it (HELLO answered with WELCOME). */
static void attach(struct port *p)
{
	struct gw_bearer_ops ops = {.rx = no_rx};
	const double pos[3] = {0, 0, 1};
	struct sim_port_msg m = {.kind = SIM_PORT_WELCOME, .pid = 7};
	uint8_t buf[SIM_PORT_MSG_MAX];
	size_t len;
	int err = 0;

	snprintf(p->dir, sizeof(p->dir), "/tmp/meshgw-bearer-XXXXXX");
	cr_assert_not_null(mkdtemp(p->dir));
	p->sim.sun_family = p->own.sun_family = AF_UNIX;
	snprintf(p->sim.sun_path, sizeof(p->sim.sun_path), "%s/sim", p->dir);
	snprintf(p->own.sun_path, sizeof(p->own.sun_path), "%s/gw", p->dir);
	p->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(p->fd, 0);
	cr_assert_eq(bind(p->fd, (struct sockaddr *)&p->sim, sizeof(p->sim)), 0);
	p->loop = gw_loop_new();
	cr_assert_not_null(p->loop);
	p->b = gw_bearer_sim_new(p->loop, p->sim.sun_path, p->own.sun_path, pos, &ops, &err);
	cr_assert_not_null(p->b, "bearer: %d", err);
	cr_assert(port_recv(p, &m));
	cr_assert_eq(m.kind, SIM_PORT_HELLO);
	m = (struct sim_port_msg){.kind = SIM_PORT_WELCOME, .pid = 7};
	cr_assert_eq(sim_port_encode(&m, buf, sizeof(buf), &len), 0);
	cr_assert_eq(sendto(p->fd, buf, len, 0, (struct sockaddr *)&p->own, sizeof(p->own)),
		     (ssize_t)len);
	for (int i = 0; i < 1000 && !gw_bearer_ready(p->b); i++) {
		(void)gw_loop_run_once(p->loop, 1);
	}
	cr_assert(gw_bearer_ready(p->b));
}

static void detach(struct port *p)
{
	gw_bearer_free(p->b);
	gw_loop_free(p->loop);
	close(p->fd);
	unlink(p->sim.sun_path);
	unlink(p->own.sun_path);
	rmdir(p->dir);
}

/* The kernel's limit of datagrams waiting in one socket's queue. */
static int dgram_qlen(void)
{
	FILE *f = fopen("/proc/sys/net/unix/max_dgram_qlen", "r");
	int q = 10;

	if (f) {
		if (fscanf(f, "%d", &q) != 1) {
			q = 10;
		}
		fclose(f);
	}
	return q;
}

/*
 * Sends while the port reads nothing: the socket's queue, then the bearer's
 * backlog (256) take them; past both, -ENOBUFS, never EAGAIN.
 */
Test(bearer_sim, burst_beyond_the_socket_queue_arrives_in_order)
{
	struct port p;
	struct sim_port_msg m;
	int accepted = 0, refused = 0, got = 0, sends = dgram_qlen() + 256 + 40;

	attach(&p);
	for (int i = 0; i < sends; i++) {
		uint8_t data[2] = {(uint8_t)(i >> 8), (uint8_t)i};
		int r = gw_bearer_send(p.b, 0x2a, data, sizeof(data), 1, 0);

		cr_assert(r == 0 || r == -ENOBUFS, "send %d: %d", i, r);
		cr_assert(r == 0 || accepted >= 256, "send %d refused before the backlog filled",
			  i);
		if (r == 0) {
			cr_assert_eq(refused, 0, "send %d accepted after a refusal", i);
			accepted++;
		} else {
			refused++;
		}
	}
	cr_assert_gt(refused, 0, "the backlog is bounded");
	/* The port reads again: everything accepted arrives, in the order it was sent. */
	while (got < accepted && port_recv(&p, &m)) {
		cr_assert_eq(m.kind, SIM_PORT_ADV_TX);
		cr_assert_eq(m.ad_type, 0x2a);
		cr_assert_eq(m.len, 2);
		cr_assert_eq((m.data[0] << 8) | m.data[1], got, "datagram %d out of order", got);
		got++;
	}
	cr_assert_eq(got, accepted);
	/* Drained: the next send goes straight out. */
	cr_assert_eq(gw_bearer_send(p.b, 0x2b, (const uint8_t[]){1}, 1, 1, 0), 0);
	cr_assert(port_recv(&p, &m));
	cr_assert_eq(m.ad_type, 0x2b);
	detach(&p);
}
