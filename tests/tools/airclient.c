/*
 * airclient: a mesh node that joins meshsim's air through the native port
 * (sim/PORTS.md) holding only the keys it is given, as someone who kept a
 * network's keys would.  The integration tests use it to show that the
 * previous owner's keys stop working after a change of ownership
 * (tests/integration/onair.test.mjs).
 *
 *   airclient AIR_SOCK OWN_SOCK X,Y,Z SRC IV_INDEX NETKEY [app=IDX:KEY]... [dev=ADDR:KEY]...
 *
 * The node is provisioned at unicast SRC on NetKey index 0 with NETKEY (32
 * hex digits) and IV_INDEX; AppKeys are bound to its Generic OnOff Client,
 * device keys (of the nodes at ADDR, hex) serve its Config Client.  It then
 * reads one command a line from stdin and answers one JSON line on stdout:
 *
 *   onoff DST 0|1 APP_IDX MS   Generic OnOff Set (acknowledged) to DST, then
 *                              MS ms: {"answers": n}, the Statuses (from DST, or
 *                              from anyone for a group or 0xffff)
 *   config MS                  Config Default TTL Get to every dev= node under
 *                              its device key, 20 ms apart, then MS ms:
 *                              {"asked": n, "answers": m}
 *   sniff MS                   listen MS ms: {"heard": n, "decrypted": m},
 *                              Network PDUs heard and those NETKEY opens
 *   quit
 *
 * Exit 0 after quit or end of input, 2 on bad arguments, 1 on failure.  Keys
 * are wiped at exit.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gateway/util.h"
#include "mesh/access.h"
#include "mesh/crypto.h"
#include "mesh/node.h"
#include "sim/port.h"

#define DEV_MAX 128
#define APP_MAX 16
#define OP_ONOFF_SET 0x8202
#define OP_ONOFF_STATUS 0x8204
#define OP_TTL_GET 0x800c
#define OP_TTL_STATUS 0x800e

struct client {
	int fd;
	struct sockaddr_un peer;
	struct mesh_node *node;
	struct mesh_utp_key dev[DEV_MAX];
	uint16_t dev_addr[DEV_MAX];
	size_t n_dev;
	uint32_t want_op;  /* the status awaited, 0: none */
	uint16_t want_src; /* from, or MESH_ADDR_UNASSIGNED: from any node */
	bool seen[0x8000]; /* answered, by source address */
	unsigned answers;
	unsigned heard;
	bool attached;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int send_port(struct client *c, const struct sim_port_msg *m)
{
	uint8_t buf[SIM_PORT_MSG_MAX];
	size_t len;
	int r = sim_port_encode(m, buf, sizeof(buf), &len);

	if (!r && sendto(c->fd, buf, len, 0, (struct sockaddr *)&c->peer, sizeof(c->peer)) < 0) {
		r = -errno;
	}
	return r;
}

static int adv_send(void *ctx, uint8_t ad_type, const uint8_t *data, size_t len, uint8_t count,
		    uint16_t interval_ms)
{
	struct sim_port_msg m = {.kind = SIM_PORT_ADV_TX, .ad_type = ad_type};

	if (len > sizeof(m.data)) {
		return -EMSGSIZE;
	}
	m.count = count ? (count > SIM_PORT_COUNT_MAX ? SIM_PORT_COUNT_MAX : count) : 1;
	m.interval_ms = interval_ms;
	m.len = (uint8_t)len;
	memcpy(m.data, data, len);
	return send_port(ctx, &m);
}

static size_t dev_keys(void *ctx, uint16_t addr, const struct mesh_utp_key **out, size_t max)
{
	struct client *c = ctx;
	size_t i;

	for (i = 0; i < c->n_dev && max; i++) {
		if (c->dev_addr[i] == addr) {
			out[0] = &c->dev[i];
			return 1;
		}
	}
	return 0;
}

static int on_status(struct mesh_acc_model *mdl, const struct mesh_acc_msg *msg, void *user)
{
	struct client *c = user;

	(void)mdl;
	if (msg->opcode == c->want_op && msg->src < 0x8000 &&
	    (c->want_src == MESH_ADDR_UNASSIGNED || msg->src == c->want_src) &&
	    !c->seen[msg->src]) {
		c->seen[msg->src] = true;
		c->answers++;
	}
	return 0;
}

/* Feed the node what the air brings until deadline. */
static void run_until(struct client *c, uint64_t deadline)
{
	for (;;) {
		uint64_t now = now_ms(), next = mesh_node_next_deadline(c->node);
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		uint8_t buf[256];
		ssize_t n;

		if (now >= deadline) {
			return;
		}
		if (next > deadline) {
			next = deadline;
		}
		if (poll(&p, 1, next > now ? (int)(next - now) : 0) < 0 && errno != EINTR) {
			return;
		}
		while ((n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
			struct sim_port_msg m;

			if (sim_port_decode(buf, (size_t)n, &m)) {
				continue;
			}
			if (m.kind == SIM_PORT_WELCOME) {
				c->attached = true;
			} else if (m.kind == SIM_PORT_ADV_RX) {
				c->heard += m.ad_type == MESH_AD_MESSAGE;
				(void)mesh_node_rx_adv(c->node, m.ad_type, m.data, m.len, now_ms());
			}
		}
		mesh_node_tick(c->node, now_ms());
	}
}

/* Expect status from dst (MESH_ADDR_UNASSIGNED: from anyone), counting anew. */
static void expect(struct client *c, uint32_t status, uint16_t src)
{
	c->want_op = status;
	c->want_src = src;
	c->answers = 0;
	memset(c->seen, 0, sizeof(c->seen));
}

/* Send opcode to dst under app_idx (or dst's device key): 0, or the stack's error. */
static int send_to(struct client *c, uint16_t dst, uint16_t app_idx, uint32_t op,
		   const uint8_t *params, size_t len)
{
	struct mesh_node_msg m = {.net_idx = 0,
				  .app_idx = app_idx,
				  .dst = dst,
				  .ttl = MESH_TTL_DEFAULT,
				  .opcode = op,
				  .params = params,
				  .len = len};

	return mesh_node_send(c->node, &m, now_ms(), NULL);
}

static void onoff(struct client *c, uint16_t dst, uint8_t on, uint16_t app_idx, unsigned ms)
{
	uint8_t p[2] = {on, 0x5a}; /* OnOff, TID */
	int r;

	expect(c, OP_ONOFF_STATUS, mesh_addr_is_unicast(dst) ? dst : MESH_ADDR_UNASSIGNED);
	r = send_to(c, dst, app_idx, OP_ONOFF_SET, p, sizeof(p));
	run_until(c, now_ms() + ms);
	printf("{\"answers\": %u, \"sent\": %s}\n", c->answers, r ? "false" : "true");
}

static void config_all(struct client *c, unsigned ms)
{
	size_t i, asked = 0;

	expect(c, OP_TTL_STATUS, MESH_ADDR_UNASSIGNED);
	for (i = 0; i < c->n_dev; i++) {
		asked += send_to(c, c->dev_addr[i], MESH_APP_IDX_DEV, OP_TTL_GET, NULL, 0) == 0;
		run_until(c, now_ms() + 20);
	}
	run_until(c, now_ms() + ms);
	printf("{\"asked\": %zu, \"answers\": %u}\n", asked, c->answers);
}

static bool parse_key(const char *s, uint8_t key[16])
{
	return strlen(s) == 32 && gw_unhex(s, key, 16) == 0;
}

/* "NUM:KEY" with NUM in base base: true with *num and key. */
static bool parse_pair(const char *s, int base, unsigned long max, unsigned long *num,
		       uint8_t key[16])
{
	char *end;

	errno = 0;
	*num = strtoul(s, &end, base);
	return !errno && end != s && *end == ':' && *num <= max && parse_key(end + 1, key);
}

static int setup(struct client *c, int argc, char **argv)
{
	static const struct mesh_acc_op cli_ops[] = {{OP_ONOFF_STATUS, 1, 3, on_status}};
	static const struct mesh_acc_op cfg_ops[] = {{OP_TTL_STATUS, 1, 1, on_status}};
	struct mesh_node_config cfg;
	struct mesh_node_ops ops = {.ctx = c, .adv_send = adv_send, .dev_keys = dev_keys};
	struct mesh_acc_model *cli = NULL;
	struct mesh_acc *acc;
	uint8_t net_key[16], own_dk[16], key[16];
	unsigned long src, iv, idx;
	char *end;
	int i, r;

	errno = 0;
	src = strtoul(argv[4], &end, 0);
	if (errno || *end || src == 0 || src > 0x7fff) {
		return -EINVAL;
	}
	iv = strtoul(argv[5], &end, 0);
	if (errno || *end || iv > UINT32_MAX || !parse_key(argv[6], net_key)) {
		return -EINVAL;
	}
	mesh_node_config_default(&cfg);
	cfg.beacon = false; /* a listener: it announces nothing */
	c->node = mesh_node_new(&cfg, &ops, NULL, now_ms());
	if (!c->node) {
		return -ENOMEM;
	}
	acc = mesh_node_acc(c->node);
	if (mesh_acc_elem_add(acc, 0x0000) < 0 ||
	    mesh_acc_model_add(acc, 0, (struct mesh_model_id){false, 0, 0x0001},
			       MESH_ACC_MODEL_DEV_KEY, cfg_ops, 1, c, NULL) ||
	    mesh_acc_model_add(acc, 0, (struct mesh_model_id){false, 0, 0x1001}, 0, cli_ops, 1, c,
			       &cli)) {
		return -ENOMEM;
	}
	(void)mesh_crypto_random(own_dk, sizeof(own_dk));
	r = mesh_node_provision(c->node, (uint16_t)src, own_dk, 0, net_key, (uint32_t)iv, 0,
				now_ms());
	mesh_crypto_wipe(net_key, sizeof(net_key));
	mesh_crypto_wipe(own_dk, sizeof(own_dk));
	for (i = 7; !r && i < argc; i++) {
		if (!strncmp(argv[i], "app=", 4) && parse_pair(argv[i] + 4, 10, 0xfff, &idx, key)) {
			r = mesh_node_appkey_add(c->node, 0, (uint16_t)idx, key);
			r = r ? r : mesh_acc_model_bind(cli, (uint16_t)idx);
		} else if (!strncmp(argv[i], "dev=", 4) && c->n_dev < DEV_MAX &&
			   parse_pair(argv[i] + 4, 16, 0x7fff, &idx, key)) {
			c->dev_addr[c->n_dev] = (uint16_t)idx;
			r = mesh_utp_key_init(&c->dev[c->n_dev++], MESH_APP_IDX_DEV, key, false);
		} else {
			r = -EINVAL;
		}
		mesh_crypto_wipe(key, sizeof(key));
	}
	return r;
}

static int attach(struct client *c, const char *air, const char *own, const char *pos)
{
	struct sockaddr_un me = {.sun_family = AF_UNIX};
	struct sim_port_msg m = {.kind = SIM_PORT_HELLO};
	double x, y, z;

	if (sscanf(pos, "%lf,%lf,%lf", &x, &y, &z) != 3 || strlen(air) >= sizeof(me.sun_path) ||
	    strlen(own) >= sizeof(me.sun_path)) {
		return -EINVAL;
	}
	c->peer.sun_family = AF_UNIX;
	strcpy(c->peer.sun_path, air);
	strcpy(me.sun_path, own);
	(void)unlink(own);
	c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		return -errno;
	}
	m.x_mm = (int32_t)(x * 1000);
	m.y_mm = (int32_t)(y * 1000);
	m.z_mm = (int32_t)(z * 1000);
	strcpy(m.name, "airclient");
	for (int i = 0; i < 20 && !c->attached; i++) {
		int r = send_port(c, &m);

		if (r) {
			return r;
		}
		run_until(c, now_ms() + 100);
	}
	return c->attached ? 0 : -ETIMEDOUT;
}

static void serve(struct client *c)
{
	char line[128];

	while (fgets(line, sizeof(line), stdin)) {
		unsigned dst, on, app, ms;
		struct mesh_node_stats before, after;

		if (sscanf(line, "onoff %x %u %u %u", &dst, &on, &app, &ms) == 4 && on <= 1 &&
		    dst <= 0xffff && app <= 0xfff) {
			onoff(c, (uint16_t)dst, (uint8_t)on, (uint16_t)app, ms);
		} else if (sscanf(line, "config %u", &ms) == 1) {
			config_all(c, ms);
		} else if (sscanf(line, "sniff %u", &ms) == 1) {
			c->heard = 0;
			mesh_node_stats(c->node, &before);
			run_until(c, now_ms() + ms);
			mesh_node_stats(c->node, &after);
			printf("{\"heard\": %u, \"decrypted\": %u}\n", c->heard,
			       (unsigned)(after.net_rx - before.net_rx));
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			printf("{\"error\": \"unknown command\"}\n");
		}
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	struct client *c;
	int r;

	if (argc < 7) {
		fprintf(stderr, "usage: airclient AIR_SOCK OWN_SOCK X,Y,Z SRC IV_INDEX NETKEY "
				"[app=IDX:KEY]... [dev=ADDR:KEY]...\n");
		return 2;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		return 1;
	}
	c->fd = -1;
	r = setup(c, argc, argv);
	if (r == -EINVAL) {
		fprintf(stderr, "airclient: bad address, IV Index or key\n");
	}
	r = r ? r : attach(c, argv[1], argv[2], argv[3]);
	if (!r) {
		printf("{\"ready\": true}\n");
		fflush(stdout);
		serve(c);
		(void)send_port(c, &(struct sim_port_msg){.kind = SIM_PORT_DETACH});
	} else if (r != -EINVAL) {
		fprintf(stderr, "airclient: %s\n", strerror(-r));
	}
	if (c->fd >= 0) {
		close(c->fd);
		(void)unlink(argv[2]);
	}
	mesh_node_free(c->node);
	mesh_crypto_wipe(c->dev, sizeof(c->dev));
	free(c);
	return r == -EINVAL ? 2 : r ? 1 : 0;
}
