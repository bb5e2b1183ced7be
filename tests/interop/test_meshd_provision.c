/*
 * BlueZ interop: our provisioner (mesh/prov_adv.h, mesh/node.h,
 * mesh/cfg_cli.h) provisions an unmodified bluetooth-meshd over PB-ADV
 * through meshsim's air, then reads the daemon's Composition Data page 0
 * with its DevKey (../shared/peers/bluez.md, issue 4 "BlueZ interop").
 *
 * Each test starts its own meshsim process (native port + BlueZ port), the
 * daemon through tests/interop/run_meshd.sh (fresh storage, RFC 4122 UUID)
 * and attaches this process to meshsim's native port as a client
 * (framing: sim/PORTS.md, codec sim/port.h).  Every wait is driven by the
 * native socket and the stack's deadlines, bounded by a total timeout; the
 * only polling is for the readiness of the processes started here.
 *
 * The provisioning time (seconds and PB-ADV packets each way) is printed as
 * a figure; it is not asserted.  The daemon paces its transmissions to one
 * packet every 500 ms, so expect about 8 s.
 *
 * Skipped, with the reason printed, where bluez-meshd or python3-dbus is not
 * installed (scripts/deps.sh test installs them).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mesh/beacon.h"
#include "mesh/cfg_cli.h"
#include "mesh/comp.h"
#include "mesh/crypto.h"
#include "mesh/node.h"
#include "mesh/prov_adv.h"
#include "mesh/unprov_beacon.h"
#include "sim/port.h"

#ifndef MESHD_BIN /* overridable to try the skip path */
#define MESHD_BIN "/usr/libexec/bluetooth/bluetooth-meshd"
#endif
#define PYTHON "/usr/bin/python3"

/* The daemon's identity: an RFC 4122 version 4 UUID (it refuses others). */
static const uint8_t meshd_uuid[16] = {0x3b, 0x0e, 0x5c, 0x71, 0x9a, 0x24, 0x4f, 0x1d,
				       0xb6, 0x58, 0x2e, 0x8c, 0x40, 0xd9, 0x17, 0xa3};
#define MESHD_UUID_HEX "3b0e5c719a244f1db6582e8c40d917a3"
/* The Composition Data header join.py registers (MESHD_CID/PID/VID). */
#define MESHD_CID 0x05f1
#define MESHD_PID 0x4d47
#define MESHD_VID 0x0105
#define MESHD_CRPL 0x7fff /* join.py's CRPL */
#define MESHD_LOC 0x0100  /* join.py's element location */

static const uint8_t static_oob[16] = {0x9c, 0x2f, 0x41, 0xd0, 0x6a, 0x83, 0x17, 0xe5,
				       0x3b, 0xc8, 0x52, 0x0e, 0xf4, 0x79, 0xa6, 0x1d};
#define STATIC_OOB_HEX "9c2f41d06a8317e53bc8520ef479a61d"

static const uint8_t net_key[16] = {0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18,
				    0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6};

#define GW_ADDR 0x0001
#define NODE_ADDR 0x0100
#define PROV_LIMIT_MS 60000 /* per provisioning: the daemon needs about 8 s */

static struct {
	char dir[64];
	char native[96], me[96], bz[96], meshd_dir[96];
	pid_t sim_pid, meshd_pid;
	int meshd_status; /* run_meshd.sh's wait status once it exited, else -1 */
	int fd;
	struct sockaddr_un sim_addr;
	bool welcomed;
	bool unprov_seen; /* the daemon's Unprovisioned Device beacon */
	bool snb_ok;      /* a Secure Network Beacon that opened with our NetKey */
	bool passed;      /* the test body ran to its end: its logs can go */
	struct prov_adv *pa;
	struct mesh_node *node;
	struct cfg_cli *cfg;
	/* provisioning outcome */
	bool prov_active;
	int done, failed, err;
	uint8_t prov_err;
	uint16_t unicast;
	uint8_t elements;
	struct mesh_utp_key devkey;
	unsigned pb_tx, pb_rx; /* PB-ADV packets during the session */
	/* composition answer */
	int comp_done, comp_err;
	uint8_t comp_page;
	uint8_t comp[MESH_COMP_DATA_MAX];
	size_t comp_len;
} G;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- processes ------------------------------------------------------------ */

/*
 * Fork and exec argv with stdout and stderr into log.  The child gets
 * SIGTERM when this test process dies, so nothing outlives a crashed test
 * (run_meshd.sh then stops the daemon and its bus from its trap).
 */
static pid_t spawn(char *const argv[], const char *log)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent) {
			_exit(127);
		}
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR) {
		}
		*pid = 0;
	}
}

static bool is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/*
 * Reads a log: true when a line contains needle (may be NULL); the last
 * non-empty line goes to last (may be NULL), for skip reasons.
 */
static bool log_scan(const char *path, const char *needle, char *last, size_t cap)
{
	FILE *f = fopen(path, "r");
	char line[512];
	bool found = false;

	if (last) {
		last[0] = '\0';
	}
	if (!f) {
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		found = found || (needle && strstr(line, needle));
		line[strcspn(line, "\n")] = '\0';
		if (last && line[0]) {
			snprintf(last, cap, "%s", line);
		}
	}
	fclose(f);
	return found;
}

/* Reaps run_meshd.sh if it exited; a 77 means the daemon cannot run here. */
static void check_meshd(void)
{
	char reason[512], log[200];
	int st;

	if (G.meshd_pid <= 0 || waitpid(G.meshd_pid, &st, WNOHANG) != G.meshd_pid) {
		return;
	}
	G.meshd_status = st;
	G.meshd_pid = 0;
	snprintf(log, sizeof(log), "%s/run_meshd.log", G.dir);
	(void)log_scan(log, NULL, reason, sizeof(reason));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		cr_skip_test("%s", reason);
	}
	cr_assert_fail("run_meshd.sh exited (status 0x%x): %s (logs in %s)", (unsigned)st, reason,
		       G.dir);
}

/* --- the native port client ---------------------------------------------- */

static void native_send(const struct sim_port_msg *m)
{
	uint8_t buf[SIM_PORT_MSG_MAX];
	size_t len;

	cr_assert_eq(sim_port_encode(m, buf, sizeof(buf), &len), 0);
	cr_assert_eq(
	    sendto(G.fd, buf, len, 0, (const struct sockaddr *)&G.sim_addr, sizeof(G.sim_addr)),
	    (ssize_t)len, "sendto meshsim: %s", strerror(errno));
}

static void adv_tx(uint8_t ad_type, const uint8_t *data, size_t len, uint8_t count,
		   uint16_t interval_ms)
{
	struct sim_port_msg m = {.kind = SIM_PORT_ADV_TX};

	cr_assert_leq(len, sizeof(m.data));
	m.ad_type = ad_type;
	m.count = count;
	m.interval_ms = interval_ms;
	memcpy(m.data, data, len);
	m.len = (uint8_t)len;
	native_send(&m);
}

/* A Secure Network Beacon from the daemon must open with k3(NetKey) and the BeaconKey. */
static void check_snb(const uint8_t *data, size_t len)
{
	uint8_t bk[16], nid[8];
	struct mesh_beacon_info info;

	cr_assert_eq(mesh_crypto_beacon_key(net_key, bk), 0);
	cr_assert_eq(mesh_crypto_k3(net_key, nid), 0);
	if (len == MESH_BEACON_SECURE_LEN && memcmp(data + 2, nid, 8) == 0 &&
	    mesh_beacon_secure_open(bk, nid, data, len, &info) == 0 && info.iv_index == 0) {
		G.snb_ok = true;
	}
	mesh_crypto_wipe(bk, sizeof(bk));
}

static void on_adv(const struct sim_port_msg *m, uint64_t now)
{
	struct unprov_beacon ub;

	switch (m->ad_type) {
	case MESH_AD_PB_ADV:
		G.pb_rx += G.prov_active;
		(void)prov_adv_rx(G.pa, m->data, m->len, now);
		break;
	case MESH_AD_BEACON:
		if (m->len && m->data[0] == MESH_BEACON_UNPROV &&
		    unprov_beacon_decode(m->data, m->len, &ub) == 0 &&
		    memcmp(ub.uuid, meshd_uuid, 16) == 0) {
			G.unprov_seen = true;
		} else if (m->len && m->data[0] == MESH_BEACON_SECURE) {
			check_snb(m->data, m->len);
		}
		(void)mesh_node_rx_adv(G.node, m->ad_type, m->data, m->len, now);
		break;
	case MESH_AD_MESSAGE:
		(void)mesh_node_rx_adv(G.node, m->ad_type, m->data, m->len, now);
		break;
	default:
		break;
	}
}

static void drain(uint64_t now)
{
	uint8_t buf[256];
	ssize_t n;

	while ((n = recv(G.fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		struct sim_port_msg m;

		if (sim_port_decode(buf, (size_t)n, &m)) {
			cr_log_warn("malformed datagram from meshsim (%zd octets)", n);
			continue;
		}
		if (m.kind == SIM_PORT_WELCOME) {
			G.welcomed = true;
		} else if (m.kind == SIM_PORT_ERROR) {
			cr_assert_fail("meshsim refused a request (kind %u): %s", m.err_kind,
				       strerror(m.err));
		} else if (m.kind == SIM_PORT_ADV_RX) {
			on_adv(&m, now);
		}
	}
	cr_assert(errno == EAGAIN || errno == EWOULDBLOCK, "recv: %s", strerror(errno));
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * Serve the air until cond() holds or limit_ms pass: sleep in poll() until
 * the next datagram or the next deadline of the stack, whichever is first.
 * Checks the daemon's script stays alive (every 200 ms at most, since its
 * exit gives no event on our socket).
 */
static bool pump(bool (*cond)(void), uint64_t limit_ms)
{
	uint64_t end = now_ms() + limit_ms;

	for (;;) {
		uint64_t now = now_ms(), next;
		struct pollfd p = {.fd = G.fd, .events = POLLIN};
		int r;

		prov_adv_tick(G.pa, now);
		mesh_node_tick(G.node, now);
		cfg_cli_tick(G.cfg, now);
		if (cond()) {
			return true;
		}
		check_meshd();
		if (now >= end) {
			return false;
		}
		next = min_u64(end, now + 200);
		next = min_u64(next, prov_adv_next_deadline(G.pa));
		next = min_u64(next, mesh_node_next_deadline(G.node));
		next = min_u64(next, cfg_cli_next_deadline(G.cfg));
		r = poll(&p, 1, next > now ? (int)(next - now) : 0);
		cr_assert(r >= 0 || errno == EINTR, "poll: %s", strerror(errno));
		if (r > 0) {
			drain(now_ms());
		}
	}
}

/* --- stack callbacks ------------------------------------------------------- */

static void pa_adv(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	G.pb_tx += G.prov_active;
	adv_tx(MESH_AD_PB_ADV, data, len, 1, 0);
}

static void pa_done(void *ctx, uint32_t h, const struct prov_result *res)
{
	(void)ctx;
	(void)h;
	G.done++;
	G.unicast = res->data.unicast;
	G.elements = res->elements;
	cr_assert_eq(mesh_utp_key_init(&G.devkey, MESH_APP_IDX_DEV, res->dev_key, false), 0);
}

static void pa_failed(void *ctx, uint32_t h, int err, uint8_t prov_err)
{
	(void)ctx;
	(void)h;
	G.failed++;
	G.err = err;
	G.prov_err = prov_err;
}

static int node_adv(void *ctx, uint8_t ad_type, const uint8_t *data, size_t len, uint8_t count,
		    uint16_t interval_ms)
{
	(void)ctx;
	adv_tx(ad_type, data, len, count, interval_ms);
	return 0;
}

static size_t node_dev_keys(void *ctx, uint16_t addr, const struct mesh_utp_key **out, size_t max)
{
	(void)ctx;
	if (G.done && max && addr >= G.unicast && addr < G.unicast + G.elements) {
		out[0] = &G.devkey;
		return 1;
	}
	return 0;
}

static void on_comp(void *ctx, int err, uint16_t src, const struct cfg_msg *rsp)
{
	(void)ctx;
	(void)src;
	G.comp_done++;
	G.comp_err = err;
	if (rsp && rsp->op == CFG_OP_COMP_STATUS && rsp->comp.data_len <= sizeof(G.comp)) {
		G.comp_page = rsp->comp.page;
		memcpy(G.comp, rsp->comp.data, rsp->comp.data_len);
		G.comp_len = rsp->comp.data_len;
	}
}

static bool c_welcomed(void)
{
	return G.welcomed;
}
static bool c_unprov(void)
{
	return G.unprov_seen;
}
static bool c_prov_over(void)
{
	return G.done || G.failed;
}
static bool c_comp(void)
{
	return G.comp_done > 0;
}
static bool c_snb(void)
{
	return G.snb_ok;
}
static bool c_join_complete(void)
{
	char path[200];

	snprintf(path, sizeof(path), "%s/join.log", G.meshd_dir);
	return log_scan(path, "JOIN-COMPLETE", NULL, 0);
}
static bool c_join_failed(void)
{
	char path[200];

	snprintf(path, sizeof(path), "%s/join.log", G.meshd_dir);
	return log_scan(path, "JOIN-FAILED", NULL, 0);
}

/* --- fixture --------------------------------------------------------------- */

static void skip_unless_installed(void)
{
	int st;

	if (access(MESHD_BIN, X_OK) != 0) {
		cr_skip_test("%s not installed (Debian bluez-meshd; run scripts/deps.sh test)",
			     MESHD_BIN);
	}
	st = system(PYTHON " -c 'import dbus, gi' 2>/dev/null");
	if (st != 0) {
		cr_skip_test("python3-dbus/python3-gi not installed (run scripts/deps.sh test)");
	}
	if (system("command -v dbus-daemon >/dev/null && command -v cc >/dev/null") != 0) {
		cr_skip_test("dbus-daemon or a C compiler (for the preload library) missing");
	}
}

/*
 * meshsim with a native port and a BlueZ port 3 m apart, this process on the
 * native port, and the daemon joining as an unprovisioned device whose
 * ProvisionAgent answers PromptStatic with oob (NULL: No OOB only).
 */
static void start(const char *oob_hex)
{
	struct mesh_node_config nc;
	struct mesh_node_ops no = {.adv_send = node_adv, .dev_keys = node_dev_keys};
	struct pb_adv_cfg pc = {0};
	struct prov_adv_ops po = {.adv_send = pa_adv, .done = pa_done, .failed = pa_failed};
	struct sockaddr_un me = {.sun_family = AF_UNIX};
	struct sim_port_msg hello = {.kind = SIM_PORT_HELLO, .z_mm = 1000};
	char port[160], bzport[160], ctl[128], log[128], script[256];
	uint64_t end;

	memset(&G, 0, sizeof(G));
	G.meshd_status = -1;
	G.fd = -1;
	skip_unless_installed();
	snprintf(G.dir, sizeof(G.dir), "/tmp/meshgw-prov.XXXXXX");
	cr_assert_not_null(mkdtemp(G.dir));
	snprintf(G.native, sizeof(G.native), "%s/native.sock", G.dir);
	snprintf(G.me, sizeof(G.me), "%s/me.sock", G.dir);
	snprintf(G.bz, sizeof(G.bz), "%s/bz.sock", G.dir);
	snprintf(G.meshd_dir, sizeof(G.meshd_dir), "%s/meshd", G.dir);
	snprintf(port, sizeof(port), "%s@0,0,1", G.native);
	snprintf(bzport, sizeof(bzport), "%s@3,0,1", G.bz);
	snprintf(ctl, sizeof(ctl), "%s/ctl", G.dir);
	snprintf(log, sizeof(log), "%s/meshsim.log", G.dir);
	{
		char *argv[] = {MESHGW_BINARY_DIR "/meshsim",
				"--ctl",
				ctl,
				"--port",
				port,
				"--bluez-port",
				bzport,
				"-d",
				NULL};

		G.sim_pid = spawn(argv, log);
	}
	/* Readiness: meshsim binds its sockets within milliseconds of starting. */
	end = now_ms() + 10000;
	while (!is_socket(G.native) || !is_socket(G.bz)) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		cr_assert_eq(waitpid(G.sim_pid, NULL, WNOHANG), 0, "meshsim exited (see %s)", log);
		cr_assert_lt(now_ms(), end, "meshsim did not bind its sockets (see %s)", log);
		nanosleep(&ts, NULL);
	}

	G.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(G.fd, 0);
	snprintf(me.sun_path, sizeof(me.sun_path), "%s", G.me);
	cr_assert_eq(bind(G.fd, (struct sockaddr *)&me, sizeof(me)), 0);
	G.sim_addr.sun_family = AF_UNIX;
	snprintf(G.sim_addr.sun_path, sizeof(G.sim_addr.sun_path), "%s", G.native);

	G.pa = prov_adv_new(&pc, NULL, &po, NULL);
	cr_assert_not_null(G.pa);
	mesh_node_config_default(&nc);
	nc.beacon_interval_ms = 0; /* the daemon's beacons are what we check */
	G.node = mesh_node_new(&nc, &no, NULL, now_ms());
	cr_assert_not_null(G.node);
	cr_assert_eq(mesh_acc_elem_add(mesh_node_acc(G.node), 0), 0);
	G.cfg = cfg_cli_new(G.node);
	cr_assert_not_null(G.cfg);
	cr_assert_eq(mesh_node_provision(G.node, GW_ADDR, net_key, 0, net_key, 0, 0, now_ms()), 0);

	strcpy(hello.name, "interop-provisioner");
	native_send(&hello);
	cr_assert(pump(c_welcomed, 5000), "no WELCOME from meshsim");

	setenv("MESHD_PEER", G.bz, 1);
	setenv("MESHD_DIR", G.meshd_dir, 1);
	setenv("MESHD_UUID", MESHD_UUID_HEX, 1);
	setenv("MESHD_TIMEOUT", "300", 1); /* a backstop; the test stops it */
	setenv("MESHD_CID", "0x05f1", 1);
	setenv("MESHD_PID", "0x4d47", 1);
	setenv("MESHD_VID", "0x0105", 1);
	if (oob_hex) {
		setenv("MESHD_STATIC_OOB", oob_hex, 1);
	} else {
		unsetenv("MESHD_STATIC_OOB");
	}
	snprintf(script, sizeof(script), "%s/tests/interop/run_meshd.sh", MESHGW_SOURCE_DIR);
	snprintf(log, sizeof(log), "%s/run_meshd.log", G.dir);
	{
		char *argv[] = {script, NULL};

		G.meshd_pid = spawn(argv, log);
	}
	/*
	 * The daemon is ready once its beacon is on the air: bus start, daemon
	 * start, Join and the first beacon take well under 20 s.
	 */
	cr_assert(pump(c_unprov, 30000),
		  "no Unprovisioned Device beacon from the daemon (logs in %s)", G.dir);
}

static void finish(void)
{
	char cmd[128];

	cfg_cli_free(G.cfg);
	mesh_node_free(G.node);
	prov_adv_free(G.pa);
	if (G.fd >= 0) {
		close(G.fd);
	}
	stop(&G.meshd_pid);
	stop(&G.sim_pid);
	mesh_crypto_wipe(&G.devkey, sizeof(G.devkey));
	/* Keep the logs of a failed test; a passing one leaves nothing behind. */
	if (G.dir[0] && G.passed) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", G.dir);
		(void)system(cmd);
	}
}

/* Provision with method (and static OOB value when static); returns 0 or the failure errno. */
static int provision(uint8_t method, const uint8_t *oob)
{
	struct prov_cfg c = {.role = PROV_ROLE_PROVISIONER};
	uint64_t t0;
	uint32_t h;

	c.auth_method = method;
	if (oob) {
		memcpy(c.static_oob, oob, 16);
		c.static_oob_len = 16;
	}
	memcpy(c.data.net_key, net_key, 16);
	c.data.unicast = NODE_ADDR;
	G.prov_active = true;
	t0 = now_ms();
	cr_assert_eq(prov_adv_provision(G.pa, meshd_uuid, &c, t0, &h), 0);
	mesh_crypto_wipe(&c, sizeof(c));
	cr_assert(pump(c_prov_over, PROV_LIMIT_MS),
		  "provisioning did not end within %u s (logs in %s)", PROV_LIMIT_MS / 1000, G.dir);
	G.prov_active = false;
	/* A figure, not an assertion: the daemon paces itself to 2 packets a second. */
	cr_log_info("bluetooth-meshd %s provisioning: %s after %.1f s, %u PB-ADV packets sent, %u "
		    "received",
		    method == PROV_AUTH_STATIC ? "Static OOB" : "No OOB",
		    G.done ? "done" : "failed", (double)(now_ms() - t0) / 1000.0, G.pb_tx, G.pb_rx);
	return G.done ? 0 : G.err;
}

/* Composition Data page 0 read with the DevKey parses and shows join.py's application. */
static void check_composition(void)
{
	struct cfg_msg req = {.op = CFG_OP_COMP_GET};
	struct mesh_comp comp;
	bool cfg_srv = false, onoff_srv = false;
	char models[256] = "";
	size_t i, o = 0;

	req.comp.page = 0;
	cr_assert_eq(cfg_cli_request(G.cfg, 0, G.unicast, G.devkey.key, &req, 30000, 5000, on_comp,
				     NULL, now_ms()),
		     0);
	cr_assert(pump(c_comp, 35000), "no Composition Data Status");
	cr_assert_eq(G.comp_err, 0, "Composition Data Get: %d", G.comp_err);
	cr_assert_eq(G.comp_page, 0);
	cr_assert_eq(mesh_comp_parse(G.comp, G.comp_len, &comp), 0);
	cr_expect_eq(comp.cid, MESHD_CID);
	cr_expect_eq(comp.pid, MESHD_PID);
	cr_expect_eq(comp.vid, MESHD_VID);
	cr_expect_eq(comp.crpl, MESHD_CRPL);
	cr_assert_eq(comp.n_elems, 1, "join.py registers one element");
	cr_assert_eq(G.elements, 1, "Capabilities announced %u elements", G.elements);
	cr_expect_eq(comp.elems[0].loc, MESHD_LOC);
	for (i = 0; i < comp.elems[0].num_s; i++) {
		uint16_t id = comp.sig[comp.elems[0].sig_off + i];

		cfg_srv |= id == 0x0000;
		onoff_srv |= id == 0x1000;
		o += (size_t)snprintf(models + o, sizeof(models) - o, " %04x", id);
		o = o < sizeof(models) ? o : sizeof(models) - 1;
	}
	cr_log_info("bluetooth-meshd page 0: CID %04x PID %04x VID %04x CRPL %04x features %04x, "
		    "element 0 SIG models:%s, %zu vendor models",
		    comp.cid, comp.pid, comp.vid, comp.crpl, comp.features, models, comp.n_vnd);
	cr_expect(cfg_srv, "no Configuration Server (0x0000) on element 0:%s", models);
	cr_expect(onoff_srv, "no Generic OnOff Server (0x1000, join.py's model) on element 0:%s",
		  models);
	cr_expect_eq(comp.n_vnd, 0, "join.py registers no vendor model");
}

/* No OOB: provisioned, JoinComplete, page 0 read with the DevKey, SNB carries k3(NetKey). */
Test(interop, meshd_provision_no_oob, .fini = finish, .timeout = 240)
{
	start(NULL);
	cr_assert_eq(
	    provision(PROV_AUTH_NO_OOB, NULL), 0,
	    "No OOB provisioning failed: err %d, Provisioning Failed code 0x%02x (logs in %s)",
	    G.err, G.prov_err, G.dir);
	cr_assert_eq(G.unicast, NODE_ADDR);
	cr_assert(pump(c_join_complete, 10000), "no JOIN-COMPLETE in join.log");
	check_composition();
	/* The daemon beacons its subnet after joining (§3.10.3: every 10 s at most). */
	cr_assert(pump(c_snb, 30000), "no Secure Network Beacon with Network ID k3(NetKey)");
	G.passed = true;
}

/* Static OOB: the agent's PromptStatic value authenticates; page 0 read with the DevKey. */
Test(interop, meshd_provision_static_oob, .fini = finish, .timeout = 240)
{
	start(STATIC_OOB_HEX);
	cr_assert_eq(
	    provision(PROV_AUTH_STATIC, static_oob), 0,
	    "Static OOB provisioning failed: err %d, Provisioning Failed code 0x%02x (logs "
	    "in %s)",
	    G.err, G.prov_err, G.dir);
	cr_assert(pump(c_join_complete, 10000), "no JOIN-COMPLETE in join.log");
	{
		char path[200];

		snprintf(path, sizeof(path), "%s/join.log", G.meshd_dir);
		cr_expect(log_scan(path, "PROMPT-STATIC", NULL, 0),
			  "the daemon never asked its agent");
	}
	check_composition();
	G.passed = true;
}

/* A wrong static OOB value: the daemon answers our Random with Provisioning Failed 0x04. */
Test(interop, meshd_provision_wrong_static_oob, .fini = finish, .timeout = 240)
{
	uint8_t wrong[16];

	memcpy(wrong, static_oob, 16);
	wrong[15] ^= 0x01;
	start(STATIC_OOB_HEX);
	cr_assert_eq(provision(PROV_AUTH_STATIC, wrong), -ECONNABORTED,
		     "expected Provisioning Failed from the daemon, got err %d", G.err);
	cr_assert_eq(G.prov_err, PROV_ERR_CONFIRMATION_FAILED);
	cr_expect(pump(c_join_failed, 10000), "no JOIN-FAILED in join.log");
	G.passed = true;
}
