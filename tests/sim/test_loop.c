/*
 * meshsim hosting (sim/world.c, sim/loop.c): the pure world with a test device kind in
 * virtual time, and the process loop end to end in-process over real Unix
 * datagram sockets (native port, BlueZ port) and the control socket.  Waits
 * are event-driven (epoll/poll with timeouts), never fixed sleeps.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "sim/ctl.h"
#include "sim/loop.h"
#include "sim/port.h"

/* --- A test device kind: beacons periodically, echoes type 0x01, displays. */

struct tdev {
	struct sim_world *w;
	unsigned idx;
	const struct sim_scn_device *cfg;
	uint64_t next;
	unsigned rx, beacons;
	int state;
};

static int tdev_create(struct sim_world *w, unsigned dev, const struct sim_scn_device *cfg,
		       uint64_t seed, uint64_t now_us, void **out)
{
	struct tdev *d = calloc(1, sizeof(*d));

	(void)seed;
	d->w = w;
	d->idx = dev;
	d->cfg = cfg;
	d->next = now_us + 1000000;
	*out = d;
	return 0;
}

static void tdev_free(void *p)
{
	free(p);
}

static void tdev_rx(void *p, const struct sim_air_rx *rx)
{
	struct tdev *d = p;

	d->rx++;
	if (rx->ad_type == 0x01) {
		sim_world_send(d->w, d->idx, 0x02, rx->data, rx->len, 1, 0, rx->time_us);
		sim_world_display(d->w, d->idx, "1234", rx->time_us);
	}
}

static uint64_t tdev_deadline(void *p)
{
	return ((struct tdev *)p)->next;
}

static void tdev_tick(void *p, uint64_t now)
{
	struct tdev *d = p;
	uint8_t beacon[19] = {0x00};

	memcpy(beacon + 1, d->cfg->uuid, 16);
	sim_world_send(d->w, d->idx, 0x2b, beacon, sizeof(beacon), 1, 0, now);
	d->beacons++;
	d->next = now + 1000000;
}

static int tdev_ctl(void *p, const char *args, uint64_t now, char *out, size_t cap)
{
	struct tdev *d = p;

	(void)now;
	if (!strncmp(args, "set ", 4)) {
		d->state = atoi(args + 4);
		snprintf(out, cap, "state %d", d->state);
		return 0;
	}
	snprintf(out, cap, "unknown");
	return -EINVAL;
}

static json_t *tdev_save(void *p)
{
	return json_pack("{si}", "state", ((struct tdev *)p)->state);
}

static int tdev_load(void *p, json_t *st, uint64_t now)
{
	(void)now;
	((struct tdev *)p)->state = (int)json_integer_value(json_object_get(st, "state"));
	return 0;
}

static const struct sim_device_ops tdev_ops = {
    .kind = "test",
    .create = tdev_create,
    .free = tdev_free,
    .rx = tdev_rx,
    .next_deadline = tdev_deadline,
    .tick = tdev_tick,
    .ctl = tdev_ctl,
    .save = tdev_save,
    .load = tdev_load,
};
static const struct sim_device_ops *const kinds[] = {&tdev_ops};

static struct sim_scn_device mkdev(const char *name, const char *kind, double x, uint8_t tag)
{
	struct sim_scn_device d;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.kind, sizeof(d.kind), "%s", kind);
	memset(d.uuid, tag, sizeof(d.uuid));
	d.pos.x = x;
	d.pos.z = 1;
	return d;
}

static struct sim_world *new_world(void)
{
	struct sim_air_params p;

	sim_air_params_default(&p);
	p.edge_loss = 0;
	return sim_world_new(1, &p, kinds, 1);
}

/*
 * Hosted devices wake at their deadlines and beacon; an unknown kind joins
 * the air silently; ctl, display, save and load reach the device.
 */
Test(loop, world_hosts_devices_in_virtual_time)
{
	struct sim_world *w = new_world();
	struct sim_scn_device a = mkdev("a", "test", 0, 0xaa), b = mkdev("b", "test", 5, 0xbb),
			      c = mkdev("c", "nosuchkind", 10, 0xcc);
	unsigned ia, ib, ic;
	struct tdev *da, *db;
	struct sim_air_counters cnt;
	char out[64];
	json_t *list, *saved, *disp;
	uint64_t t = 0;

	cr_assert_eq(sim_world_add_device(w, &a, 0, &ia), 0);
	cr_assert_eq(sim_world_add_device(w, &b, 0, &ib), 0);
	cr_assert_eq(sim_world_add_device(w, &c, 0, &ic), 0);
	cr_assert_eq(sim_world_n_devices(w), 3);
	da = sim_world_device(w, ia);
	db = sim_world_device(w, ib);
	cr_assert_not_null(da);
	cr_assert_null(sim_world_device(w, ic));
	cr_assert_eq(sim_world_next_deadline(w), 1000000);

	/* Beacons at 1..10 s; each is on the air within advDelay (10 ms) of its tick. */
	while (sim_world_next_deadline(w) < 10500000) {
		t = sim_world_next_deadline(w);
		sim_world_tick(w, t);
	}
	cr_assert_eq(da->beacons, 10);
	cr_assert_eq(db->rx, 10, "b heard each of a's beacons");
	cr_assert_eq(sim_air_counters(sim_world_air(w), sim_world_device_pid(w, ic), &cnt), 0);
	cr_assert_eq(cnt.packets[SIM_AIR_BEACON], 0, "the unhosted device is silent");
	cr_assert_eq(sim_air_counters(sim_world_air(w), sim_world_device_pid(w, ia), &cnt), 0);
	cr_assert_eq(cnt.packets[SIM_AIR_BEACON], 10);

	/* An 0x01 from a's position makes b answer and display. */
	cr_assert_eq(sim_world_send(w, ia, 0x01, (const uint8_t *)"hi", 2, 1, 0, t), 0);
	sim_world_tick(w, t + 20000);
	sim_world_tick(w, t + 40000);
	disp = sim_world_displays_json(w);
	cr_assert_eq(json_array_size(disp), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(disp, 0), "text")),
			 "1234");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(disp, 0), "name")), "b");
	json_decref(disp);

	cr_assert_eq(sim_world_device_ctl(w, ia, "set 7", t, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "state 7");
	cr_assert_eq(sim_world_device_ctl(w, ic, "set 1", t, out, sizeof(out)), -ENOTSUP);
	cr_assert_eq(sim_world_device_ctl(w, 9, "set 1", t, out, sizeof(out)), -ENOENT);

	list = sim_world_list_json(w);
	cr_assert_eq(json_array_size(list), 3);
	cr_assert(json_is_false(json_object_get(json_array_get(list, 2), "hosted")));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "uuid")),
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	json_decref(list);

	saved = sim_world_save_json(w);
	da->state = 0;
	cr_assert_eq(sim_world_load_json(w, saved, t), 0);
	cr_assert_eq(da->state, 7);
	json_decref(saved);
	sim_world_free(w);
}

/* --- The process loop over real sockets --------------------------------- */

struct env {
	char dir[64];
	char native[128], ctl[128], bz[128], daemon[128];
	struct sim_world *w;
	struct sim_loop *l;
	struct sim_scn_bluez bluez;
};

static int bound_dgram(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void send_to(int fd, const char *path, const void *buf, size_t n)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	cr_assert_eq(sendto(fd, buf, n, 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)n);
}

static void send_msg(int fd, const char *path, const struct sim_port_msg *m)
{
	uint8_t buf[SIM_PORT_MSG_MAX];
	size_t n;

	cr_assert_eq(sim_port_encode(m, buf, sizeof(buf), &n), 0);
	send_to(fd, path, buf, n);
}

/* Runs the loop until fd has a datagram (5 s limit); returns its length. */
static size_t pump_until(struct env *e, int fd, uint8_t *buf, size_t cap)
{
	for (int i = 0; i < 500; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, 0) == 1) {
			ssize_t n = recv(fd, buf, cap, 0);

			cr_assert_geq(n, 0);
			return (size_t)n;
		}
		cr_assert_geq(sim_loop_run_once(e->l, 10), 0);
	}
	cr_assert_fail("no datagram within 5 s");
	return 0;
}

static struct sim_port_msg recv_msg(struct env *e, int fd)
{
	uint8_t buf[128];
	size_t n = pump_until(e, fd, buf, sizeof(buf));
	struct sim_port_msg m;

	cr_assert_eq(sim_port_decode(buf, n, &m), 0, "undecodable %zu-octet datagram", n);
	return m;
}

static void env_start(struct env *e)
{
	struct sim_loop_opts o = {.time_scale = 100.0, .signals = false};
	int err = 0;

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/simtest.XXXXXX");
	cr_assert_not_null(mkdtemp(e->dir));
	snprintf(e->native, sizeof(e->native), "%s/native.sock", e->dir);
	snprintf(e->ctl, sizeof(e->ctl), "%s/ctl", e->dir);
	snprintf(e->bz, sizeof(e->bz), "%s/bz.sock", e->dir);
	snprintf(e->daemon, sizeof(e->daemon), "%s/daemon.sock", e->dir);
	e->bluez.path = e->bz;
	e->bluez.pos.x = 2;
	e->bluez.pos.z = 1;
	e->w = new_world();
	o.native_path = e->native;
	o.ctl_path = e->ctl;
	o.bluez = &e->bluez;
	o.n_bluez = 1;
	e->l = sim_loop_new(e->w, &o, &err);
	cr_assert_not_null(e->l, "sim_loop_new: %d", err);
}

static void env_stop(struct env *e)
{
	char path[200];

	sim_loop_free(e->l);
	sim_world_free(e->w);
	cr_assert_neq(access(e->native, F_OK), 0, "socket files are removed");
	snprintf(path, sizeof(path), "%s/a.sock", e->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b.sock", e->dir);
	unlink(path);
	unlink(e->daemon);
	rmdir(e->dir);
}

static int hello(struct env *e, const char *name, int32_t x_mm, uint32_t *pid)
{
	char path[200];
	struct sim_port_msg m = {.kind = SIM_PORT_HELLO, .x_mm = x_mm, .z_mm = 1000};
	struct sim_port_msg r;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.sock", e->dir, name);
	fd = bound_dgram(path);
	snprintf(m.name, sizeof(m.name), "%s", name);
	send_msg(fd, e->native, &m);
	r = recv_msg(e, fd);
	cr_assert_eq(r.kind, SIM_PORT_WELCOME);
	*pid = r.pid;
	return fd;
}

/*
 * Native port end to end: two clients attach, one transmits, the other
 * receives the AD structure with RSSI and a timestamp; malformed and
 * out-of-order requests get ERROR replies; DETACH leaves the air.
 */
Test(loop, native_port_end_to_end, .timeout = 30)
{
	struct env e;
	uint32_t pa, pb;
	int a, b;
	struct sim_port_msg tx = {.kind = SIM_PORT_ADV_TX,
				  .count = 2,
				  .interval_ms = 20,
				  .ad_type = 0x2a,
				  .len = 4,
				  .data = {1, 2, 3, 4}};
	struct sim_port_msg r, det = {.kind = SIM_PORT_DETACH};
	struct sim_air_counters c;
	const uint8_t junk[] = {0x01, 0x03, 0x00};

	env_start(&e);
	a = hello(&e, "a", 0, &pa);
	b = hello(&e, "b", 3000, &pb);
	cr_assert_neq(pa, pb);

	send_msg(a, e.native, &tx);
	for (int i = 0; i < 2; i++) {
		r = recv_msg(&e, b);
		cr_assert_eq(r.kind, SIM_PORT_ADV_RX);
		cr_assert_eq(r.ad_type, 0x2a);
		cr_assert_eq(r.len, 4);
		cr_assert_arr_eq(r.data, tx.data, 4);
		cr_assert_eq(r.rssi, -52); /* 3 m: -40 - 25 log10(3) */
		cr_assert_gt(r.time_us, 0);
	}
	cr_assert_eq(sim_air_counters(sim_world_air(e.w), pa, &c), 0);
	cr_assert_eq(c.packets[SIM_AIR_NETWORK], 2);

	send_to(a, e.native, junk, sizeof(junk));
	r = recv_msg(&e, a);
	cr_assert_eq(r.kind, SIM_PORT_ERROR);
	cr_assert_eq(r.err, EBADMSG);
	cr_assert_eq(r.err_kind, SIM_PORT_ADV_TX);

	send_msg(b, e.native, &det);
	send_msg(b, e.native, &tx);
	r = recv_msg(&e, b);
	cr_assert_eq(r.kind, SIM_PORT_ERROR);
	cr_assert_eq(r.err, ENOTCONN, "no ADV_TX after DETACH");
	cr_assert_eq(sim_air_counters(sim_world_air(e.w), pb, &c), 0);
	close(a);
	close(b);
	env_stop(&e);
}

struct req {
	const char *path, *cmd;
	char *reply;
	int err;
	_Atomic int done;
};

static void *req_thread(void *p)
{
	struct req *r = p;

	r->err = sim_ctl_request(r->path, r->cmd, 5000, &r->reply);
	r->done = 1;
	return NULL;
}

/* One control request from a thread while this thread runs the loop. */
static char *ctl_pumping(struct env *e, const char *cmd)
{
	struct req r = {.path = e->ctl, .cmd = cmd};
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, req_thread, &r), 0);
	for (int i = 0; i < 500 && !r.done; i++) {
		cr_assert_geq(sim_loop_run_once(e->l, 10), 0);
	}
	pthread_join(th, NULL);
	cr_assert_eq(r.err, 0, "control request: %d", r.err);
	return r.reply;
}

/*
 * BlueZ port: the daemon's [type][data] goes on the air; meshsim asks its
 * name with 0x00 and sends it [nonzero][type][data] for what it receives.
 */
Test(loop, bluez_port_end_to_end, .timeout = 30)
{
	struct env e;
	uint32_t pa;
	int a, d;
	uint8_t buf[64];
	const uint8_t beacon[] = {0x2b, 0x00, 1,  2,  3,  4,  5,  6,  7,    8,
				  9,    10,   11, 12, 13, 14, 15, 16, 0x00, 0x00};
	const uint8_t name[] = {0x00, ':', '1', '.', '7', 0x00};
	struct sim_port_msg r,
	    tx = {
		.kind = SIM_PORT_ADV_TX, .count = 1, .ad_type = 0x29, .len = 3, .data = {9, 8, 7}};
	size_t n;
	char *reply;

	env_start(&e);
	a = hello(&e, "a", 0, &pa);
	d = bound_dgram(e.daemon);
	send_to(d, e.bz, beacon, sizeof(beacon));
	n = pump_until(&e, d, buf, sizeof(buf));
	cr_assert_eq(n, 1, "the name query comes first");
	cr_assert_eq(buf[0], 0x00);
	send_to(d, e.bz, name, sizeof(name));
	r = recv_msg(&e, a);
	cr_assert_eq(r.kind, SIM_PORT_ADV_RX);
	cr_assert_eq(r.ad_type, 0x2b);
	cr_assert_eq(r.len, sizeof(beacon) - 1);
	cr_assert_arr_eq(r.data, beacon + 1, sizeof(beacon) - 1);

	send_msg(a, e.native, &tx);
	n = pump_until(&e, d, buf, sizeof(buf));
	cr_assert_eq(n, 5);
	cr_assert_neq(buf[0], 0);
	cr_assert_eq(buf[1], 0x29);
	cr_assert_arr_eq(buf + 2, tx.data, 3);

	reply = ctl_pumping(&e, "list");
	cr_assert_not_null(strstr(reply, "\"dbus_name\": \":1.7\""), "%s", reply);
	free(reply);
	close(a);
	close(d);
	env_stop(&e);
}

struct ctl_job {
	const char *path;
	char *stats, *list, *quit;
	int err;
};

static void *ctl_client(void *p)
{
	struct ctl_job *j = p;

	j->err = sim_ctl_request(j->path, "stats", 5000, &j->stats);
	if (!j->err) {
		j->err = sim_ctl_request(j->path, "list", 5000, &j->list);
	}
	if (!j->err) {
		j->err = sim_ctl_request(j->path, "quit", 5000, &j->quit);
	}
	return NULL;
}

/* The control socket answers stats and list as JSON, and quit stops the loop. */
Test(loop, control_socket, .timeout = 30)
{
	struct env e;
	struct ctl_job j = {0};
	pthread_t th;
	json_t *st, *list;
	json_error_t jerr;

	env_start(&e);
	j.path = e.ctl;
	cr_assert_eq(pthread_create(&th, NULL, ctl_client, &j), 0);
	cr_assert_eq(sim_loop_run(e.l), 0);
	pthread_join(th, NULL);
	cr_assert_eq(j.err, 0);
	cr_assert(sim_loop_stopped(e.l));
	st = json_loads(j.stats, 0, &jerr);
	cr_assert_not_null(st, "stats is JSON: %s", jerr.text);
	{
		/* The BlueZ port is the first participant, named after its path. */
		char want[200];

		snprintf(want, sizeof(want), "bluez:%s", e.bz);
		cr_assert_str_eq(
		    json_string_value(json_object_get(
			json_array_get(json_object_get(st, "participants"), 0), "name")),
		    want);
	}
	json_decref(st);
	list = json_loads(j.list, 0, &jerr);
	cr_assert_not_null(list);
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(list, "ports"), "native_path")),
	    e.native);
	json_decref(list);
	cr_assert_str_eq(j.quit, "ok\n");
	free(j.stats);
	free(j.list);
	free(j.quit);
	env_stop(&e);
}

/* Opens an HCI port's symlink as a host would, raw. */
static int open_hci(const char *path)
{
	struct termios t;
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(tcgetattr(fd, &t), 0);
	cfmakeraw(&t);
	cr_assert_eq(tcsetattr(fd, TCSANOW, &t), 0);
	return fd;
}

/* Runs the loop until want octets came from the pty (5 s limit). */
static void hci_read(struct env *e, int fd, uint8_t *buf, size_t want)
{
	size_t got = 0;

	for (int i = 0; i < 500 && got < want; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, 0) == 1) {
			ssize_t n = read(fd, buf + got, want - got);

			cr_assert_gt(n, 0);
			got += (size_t)n;
			continue;
		}
		cr_assert_geq(sim_loop_run_once(e->l, 10), 0);
	}
	cr_assert_eq(got, want, "%zu of %zu octets from the HCI port", got, want);
}

/*
 * HCI port in the process loop: a host opens the symlink and gets its
 * Command Complete; "hci 0 status" and "list" show the port; "hci 0 hangup
 * 50" removes the symlink and a fresh controller appears 50 ms later.
 */
Test(loop, hci_port_end_to_end, .timeout = 30)
{
	struct env e;
	struct sim_loop_opts o = {.time_scale = 100.0, .signals = false};
	struct sim_scn_hci h = {.pos = {1, 0, 1}, .adv_sets = 4, .latency_ms = 1};
	char link[160];
	uint8_t buf[16];
	char *r;
	int err = 0, fd;

	memset(&e, 0, sizeof(e));
	snprintf(e.dir, sizeof(e.dir), "/tmp/simtest.XXXXXX");
	cr_assert_not_null(mkdtemp(e.dir));
	snprintf(e.ctl, sizeof(e.ctl), "%s/ctl", e.dir);
	snprintf(link, sizeof(link), "%s/hci0", e.dir);
	h.path = link;
	e.w = new_world();
	o.ctl_path = e.ctl;
	o.hci = &h;
	o.n_hci = 1;
	e.l = sim_loop_new(e.w, &o, &err);
	cr_assert_not_null(e.l, "sim_loop_new: %d", err);

	fd = open_hci(link);
	cr_assert_eq(write(fd, "\x01\x03\x0c\x00", 4), 4);
	hci_read(&e, fd, buf, 7);
	cr_assert_arr_eq(buf, "\x04\x0e\x04\x01\x03\x0c\x00", 7);
	r = ctl_pumping(&e, "hci 0 status");
	cr_assert(strstr(r, "\"0x0c03\": 1"), "%s", r);
	cr_assert(strstr(r, "\"profile\": \"extended\""), "%s", r);
	free(r);
	r = ctl_pumping(&e, "list");
	cr_assert(strstr(r, "\"hci\": ["), "%s", r);
	cr_assert(strstr(r, link), "%s", r);
	free(r);
	r = ctl_pumping(&e, "hci 1 status");
	cr_assert_str_eq(r, "error: no hci port 1\n");
	free(r);
	r = ctl_pumping(&e, "hci 0 hangup 50");
	cr_assert_str_eq(r, "ok hangup 50\n");
	free(r);
	close(fd);
	for (int i = 0; i < 500 && access(link, F_OK) != 0; i++) {
		cr_assert_geq(sim_loop_run_once(e.l, 10), 0);
	}
	cr_assert_eq(access(link, F_OK), 0, "plugged in again at the same path");
	fd = open_hci(link);
	cr_assert_eq(write(fd, "\x01\x3b\x20\x00", 4), 4);
	hci_read(&e, fd, buf, 8);
	cr_assert_arr_eq(buf, "\x04\x0e\x05\x01\x3b\x20\x00\x04", 8);
	close(fd);
	sim_loop_free(e.l);
	sim_world_free(e.w);
	cr_assert_neq(access(link, F_OK), 0, "the symlink is removed at exit");
	rmdir(e.dir);
}
