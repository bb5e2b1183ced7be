/*
 * Remote provisioning across hops, in virtual time on meshsim's air
 * (sim_world with the "node" device kind): a gateway built from mesh/
 * (Remote Provisioning Client + PB-Remote bearer) provisions a device
 * through a Remote Provisioning Server that is 1, 2 and 3 hops from the
 * gateway's position (tests/sim/rpr_chain.json: servers s1, s2, s3 20 m
 * apart with a 25 m range, relays all; each device dK heard only by sK).
 *
 * The servers start provisioned from a stored state (the device kind's
 * load hook), so only the remote provisioning itself is measured: for each
 * hop count, the simulated time from pb_remote_provision() to the done
 * callback, and the packets put on the air meanwhile by AD type (every
 * transmission counted, relayed copies and Unprovisioned Device beacons of
 * the waiting devices included).  A second table splits the network
 * packets by transmitter (the gateway, each server: its own messages and
 * its relaying) and gives the gateway's own network and access PDUs, so the
 * cost of one session can be read as messages x transmissions x relays.
 *
 * Three passes side by side, each in a fresh world: the Default TTLs
 * (gateway 7, servers 5) with every server relaying; TTL = hop count both
 * ways (the gateway's mesh_node_dst_ttl_set(), 0 to the neighbour s1; the
 * servers' Default TTL as a commissioning job would set it); and that with
 * only the relays gateway/relay_plan.h picks for the servers.  Figures
 * only, no assertions.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "gateway/relay_plan.h"
#include "mesh/pb_remote.h"
#include "mesh/rpr_cli.h"
#include "sim/loop.h"
#include "sim/node_dev.h"
#include "tests/util/tv.h"

static const struct sim_device_ops *const kinds[] = {&sim_node_kind};

static const uint8_t net_key[16] = {0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
				    0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x30};

struct bench {
	struct sim_world *w;
	uint32_t pid;
	uint64_t now_us, rng;
	struct mesh_node *node;
	struct rpr_cli *rpr;
	struct pb_remote *pbr;
	struct mesh_utp_key srv_key;
	int done, failed, err;
	uint32_t srv_pid[3]; /* s1..s3 on the air */
};

static struct bench B;

static size_t dev_keys(void *ctx, uint16_t addr, const struct mesh_utp_key **out, size_t max)
{
	(void)ctx;
	/* Every server in the stored state was given the same device key (0x5a...). */
	if (addr < 0x0100 && max) {
		out[0] = &B.srv_key;
		return 1;
	}
	return 0;
}

static int node_adv(void *ctx, uint8_t t, const uint8_t *d, size_t len, uint8_t count,
		    uint16_t interval)
{
	(void)ctx;
	return sim_air_send(sim_world_air(B.w), B.pid, t, d, len, count, interval, B.now_us);
}

static void gw_rx(void *ctx, const struct sim_air_rx *rx)
{
	(void)ctx;
	(void)mesh_node_rx_adv(B.node, rx->ad_type, rx->data, rx->len, rx->time_us / 1000);
}

static void on_done(void *ctx, uint32_t h, const struct prov_result *res)
{
	(void)ctx;
	(void)h;
	(void)res;
	B.done++;
}

static void on_failed(void *ctx, uint32_t h, int err, uint8_t prov_err, uint8_t ls)
{
	(void)ctx;
	(void)h;
	(void)prov_err;
	(void)ls;
	B.failed++;
	B.err = err;
}

/* Counters of the gateway (0) and the servers s1..s3 (1..3). */
static void counters(struct sim_air_counters c[4])
{
	int k;

	(void)sim_air_counters(sim_world_air(B.w), B.pid, &c[0]);
	for (k = 0; k < 3; k++) {
		(void)sim_air_counters(sim_world_air(B.w), B.srv_pid[k], &c[k + 1]);
	}
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Runs virtual time until a session ends or limit_ms passes. */
static void run(uint64_t limit_ms)
{
	uint64_t end = B.now_us + limit_ms * 1000;
	int ends = B.done + B.failed;

	while (B.done + B.failed == ends) {
		uint64_t t = sim_world_next_deadline(B.w), g;

		g = min64(mesh_node_next_deadline(B.node), rpr_cli_next_deadline(B.rpr));
		g = min64(g, pb_remote_next_deadline(B.pbr));
		t = g != UINT64_MAX ? min64(t, g * 1000) : t;
		if (t == UINT64_MAX || t > end) {
			B.now_us = end;
			return;
		}
		B.now_us = t > B.now_us ? t : B.now_us;
		sim_world_tick(B.w, B.now_us);
		mesh_node_tick(B.node, B.now_us / 1000);
		rpr_cli_tick(B.rpr, B.now_us / 1000);
		pb_remote_tick(B.pbr, B.now_us / 1000);
	}
}

/* The stored state of a provisioned relay server at addr (sim/PORTS.md, node kind). */
static json_t *server_state(uint16_t addr, int default_ttl, int relay)
{
	return json_pack("{sb si si ss si sb si s[{si si ss}] s[] si sb si sb si"
			 " s{s{si si si si si si} s{si si si}} s[]}",
			 "provisioned", 1, "addr", addr, "elements", 1, "dev_key",
			 "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", "iv_index", 0, "iv_update", 0, "seq",
			 0, "net_keys", "index", 0, "phase", 0, "key",
			 "3132333435363738393a3b3c3d3e3f30", "app_keys", "default_ttl", default_ttl,
			 "relay", relay, "relay_retransmit", 0x09, "beacon", 1, "net_transmit",
			 0x09, "heartbeat", "pub", "dst", 0, "count_log", 0, "period_log", 0, "ttl",
			 0, "features", 0, "net_index", 0, "sub", "src", 0, "dst", 0, "period_log",
			 0, "models");
}

enum mode {
	M_DEFAULT, /* Default TTLs (gateway 7, servers 5), every server relays */
	M_TTL,     /* TTL = hop count both ways (gateway: 0 to a neighbour) */
	M_PLAN,    /* and only the relays gateway/relay_plan.h picks relay */
};

/*
 * The relay plan for the three servers from meshsim's propagation model (as
 * a scan would report the links), with every server's hop count.
 */
static int plan_servers(const struct sim_scenario *scn, bool relay[3], uint8_t hops[3])
{
	struct gw_relay_node nodes[3];
	struct gw_relay_link links[16];
	struct gw_relay_plan_cfg cfg;
	struct gw_relay_plan p;
	struct sim_air *air = sim_air_new(1, &scn->air);
	uint32_t pid[4];
	size_t i, j, n = 0, nl = 0;
	int r = air ? sim_air_add(air, &scn->native_pos, "gw", NULL, NULL, &pid[0]) : -1;

	for (i = 0; !r && i < scn->n_devices; i++) {
		const char *nm = scn->devices[i].name;

		if (nm[0] == 's' && nm[1] >= '1' && nm[1] <= '3' && !nm[2]) {
			j = (size_t)(nm[1] - '1');
			nodes[j] = (struct gw_relay_node){(uint16_t)(0x0010 * (j + 1)), true};
			r = sim_air_add(air, &scn->devices[i].pos, nm, NULL, NULL, &pid[j + 1]);
			n++;
		}
	}
	for (i = 0; !r && n == 3 && i < 4; i++) {
		for (j = 0; j < 4; j++) {
			int8_t rssi;
			bool in;

			if (i != j && !sim_air_link(air, pid[i], pid[j], &rssi, &in) && in) {
				links[nl++] = (struct gw_relay_link){
				    (uint16_t)(i ? nodes[i - 1].addr : GW_RELAY_PLAN_GATEWAY),
				    (uint16_t)(j ? nodes[j - 1].addr : GW_RELAY_PLAN_GATEWAY),
				    rssi};
			}
		}
	}
	sim_air_free(air);
	gw_relay_plan_cfg_default(&cfg);
	cfg.min_rssi = -128;
	if (r || n != 3 || gw_relay_plan_compute(nodes, 3, links, nl, &cfg, &p)) {
		return -1;
	}
	for (i = 0; i < 3; i++) {
		relay[i] = p.relay[i];
		hops[i] = p.hops[i];
	}
	gw_relay_plan_free(&p);
	return 0;
}

static int setup(struct sim_scenario **scn, enum mode mode)
{
	static const uint8_t srv_key[16] = {0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
					    0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a};
	struct mesh_node_config nc;
	struct mesh_node_ops no = {.adv_send = node_adv, .dev_keys = dev_keys};
	struct pb_remote_ops po = {.done = on_done, .failed = on_failed};
	struct mesh_rng rng = {tv_rng, &B.rng};
	char err[256];
	bool relay[3];
	uint8_t hops[3];
	size_t i;

	if (sim_scenario_load(MESHGW_SOURCE_DIR "/tests/sim/rpr_chain.json", scn, err,
			      sizeof(err))) {
		fprintf(stderr, "scenario: %s\n", err);
		return -1;
	}
	if (plan_servers(*scn, relay, hops)) {
		fprintf(stderr, "relay plan failed\n");
		return -1;
	}
	B.now_us = 1000000;
	B.rng = 7;
	B.w = sim_world_new((*scn)->seed, &(*scn)->air, kinds, 1);
	for (i = 0; B.w && i < (*scn)->n_devices; i++) {
		unsigned dev;

		if (sim_world_add_device(B.w, &(*scn)->devices[i], B.now_us, &dev)) {
			return -1;
		}
		if ((*scn)->devices[i].name[0] == 's' && (*scn)->devices[i].name[1] >= '1' &&
		    (*scn)->devices[i].name[1] <= '3') {
			B.srv_pid[(*scn)->devices[i].name[1] - '1'] =
			    sim_world_device_pid(B.w, dev);
		}
		if (strcmp((*scn)->devices[i].name, "s1") == 0 ||
		    strcmp((*scn)->devices[i].name, "s2") == 0 ||
		    strcmp((*scn)->devices[i].name, "s3") == 0) {
			int k = (*scn)->devices[i].name[1] - '1';
			/* Default TTL as a commissioning job would set it: the hop count, >= 2. */
			json_t *st = server_state((uint16_t)(0x0010 * (k + 1)),
						  mode == M_DEFAULT ? 5
						  : hops[k] < 2     ? 2
								    : hops[k],
						  mode == M_PLAN ? relay[k] : 1);
			int r = sim_world_device(B.w, dev) && st
				    ? sim_node_kind.load(sim_world_device(B.w, dev), st, B.now_us)
				    : -1;

			json_decref(st);
			if (r) {
				fprintf(stderr, "state of %s refused\n", (*scn)->devices[i].name);
				return -1;
			}
		}
	}
	if (!B.w ||
	    sim_air_add(sim_world_air(B.w), &(*scn)->native_pos, "gateway", gw_rx, NULL, &B.pid)) {
		return -1;
	}
	mesh_utp_key_init(&B.srv_key, MESH_APP_IDX_DEV, srv_key, false);
	mesh_node_config_default(&nc);
	nc.beacon_interval_ms = 0;
	B.node = mesh_node_new(&nc, &no, &rng, B.now_us / 1000);
	if (!B.node || mesh_acc_elem_add(mesh_node_acc(B.node), 0) < 0) {
		return -1;
	}
	B.rpr = rpr_cli_new(B.node, NULL);
	B.pbr = B.rpr ? pb_remote_new(B.rpr, NULL, &po, &rng) : NULL;
	if (!B.pbr ||
	    mesh_node_provision(B.node, 0x0001, srv_key, 0, net_key, 0, 0, B.now_us / 1000)) {
		return -1;
	}
	for (i = 0; mode != M_DEFAULT && i < 3; i++) {
		if (mesh_node_dst_ttl_set(B.node, (uint16_t)(0x0010 * (i + 1)), 1,
					  hops[i] == 1 ? 0 : hops[i])) {
			return -1;
		}
	}
	if (mode == M_PLAN) {
		printf("\nrelay plan: s1 %s, s2 %s, s3 %s\n", relay[0] ? "relays" : "no relay",
		       relay[1] ? "relays" : "no relay", relay[2] ? "relays" : "no relay");
	}
	return 0;
}

/* One pass over the three hop counts in a fresh world. */
static int pass(enum mode mode)
{
	struct sim_scenario *scn = NULL;
	uint64_t split[3][6];
	int hops, c, k;

	memset(&B, 0, sizeof(B));
	if (setup(&scn, mode)) {
		return 1;
	}
	/* Let the servers' first Secure Network Beacons and the devices' beacons go by. */
	run(5000);
	printf("\n%s\n", mode == M_DEFAULT
			     ? "Default TTLs (gateway 7, servers 5), every server relays"
			 : mode == M_TTL ? "TTL = hop count both ways (gateway: 0 to a neighbour)"
					 : "TTL = hop count, and only the planned relays relay");
	printf("%-5s %-7s %9s %8s %8s %8s %8s %8s\n", "hops", "result", "time_ms", "pb_adv",
	       "network", "beacon", "other", "all");
	for (hops = 1; hops <= 3; hops++) {
		struct pb_remote_target t = {.server = (uint16_t)(0x0010 * hops)};
		struct prov_cfg pc = {0};
		struct sim_air_totals a, b;
		struct sim_air_counters ca[4], cb[4];
		struct mesh_node_stats na, nb;
		uint64_t t0 = B.now_us, all = 0;
		char name[4];
		uint32_t h;
		size_t i;
		int ok = B.done;

		snprintf(name, sizeof(name), "d%d", hops);
		for (i = 0; i < scn->n_devices && strcmp(scn->devices[i].name, name); i++) {
		}
		pc.role = PROV_ROLE_PROVISIONER;
		pc.auth_method = PROV_AUTH_NO_OOB;
		memcpy(pc.data.net_key, net_key, 16);
		pc.data.unicast = (uint16_t)(0x0100 + hops);
		sim_air_totals(sim_world_air(B.w), &a);
		counters(ca);
		mesh_node_stats(B.node, &na);
		if (i == scn->n_devices || pb_remote_provision(B.pbr, &t, scn->devices[i].uuid, 10,
							       &pc, B.now_us / 1000, &h)) {
			return 1;
		}
		run(300000);
		sim_air_totals(sim_world_air(B.w), &b);
		counters(cb);
		mesh_node_stats(B.node, &nb);
		for (k = 0; k < 4; k++) {
			split[hops - 1][k] =
			    cb[k].packets[SIM_AIR_NETWORK] - ca[k].packets[SIM_AIR_NETWORK];
		}
		split[hops - 1][4] = nb.net_tx - na.net_tx;
		split[hops - 1][5] = nb.acc_tx - na.acc_tx;
		printf("%-5d %-7s %9" PRIu64, hops, B.done > ok ? "ok" : "failed",
		       (B.now_us - t0) / 1000);
		for (c = 0; c < SIM_AIR_CLASSES; c++) {
			printf(" %8" PRIu64, b.c.packets[c] - a.c.packets[c]);
			all += b.c.packets[c] - a.c.packets[c];
		}
		printf(" %8" PRIu64 "\n", all);
		/* Let the Link Close and the device's start as a node settle before the next one.
		 */
		run(3000);
	}
	printf("network packets by transmitter, and the gateway's own PDUs\n");
	printf("%-5s %8s %8s %8s %8s %10s %10s\n", "hops", "gateway", "s1", "s2", "s3",
	       "gw_net_pdu", "gw_acc_msg");
	for (hops = 1; hops <= 3; hops++) {
		printf("%-5d", hops);
		for (k = 0; k < 4; k++) {
			printf(" %8" PRIu64, split[hops - 1][k]);
		}
		printf(" %10" PRIu64 " %10" PRIu64 "\n", split[hops - 1][4], split[hops - 1][5]);
	}
	pb_remote_free(B.pbr);
	rpr_cli_free(B.rpr);
	mesh_node_free(B.node);
	sim_world_free(B.w);
	sim_scenario_free(scn);
	return 0;
}

int main(void)
{
	printf("remote provisioning (No OOB, PB-Remote through an RPR server, virtual time)\n");
	printf("(packets on the air by class: pb_adv, network, beacon, other)\n");
	return pass(M_DEFAULT) || pass(M_TTL) || pass(M_PLAN);
}
