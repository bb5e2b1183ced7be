/*
 * Inventory figures: insert 10,000 nodes, then time paged node list
 * queries (offset and cursor paging, a filtered page) and single node gets.
 * Prints figures only; run from a build directory.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/store.h"

#define NODES 10000
#define PAGE 50
#define GETS 20000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int insert_nodes(struct store *s)
{
	const uint8_t key[16] = {0x7d, 0xd7, 0x36, 0x4c};
	struct store_network net = {.unicast = 1,
				    .elements = 1,
				    .uni_low = 1,
				    .uni_high = 0x7fff,
				    .grp_low = 0xc000,
				    .grp_high = 0xc0ff};
	double t0;

	if (store_net_create(s, &net) || store_netkey_add(s, 0, key)) {
		return -1;
	}
	t0 = now_s();
	if (store_begin(s)) {
		return -1;
	}
	for (uint32_t i = 0; i < NODES; i++) {
		struct store_node n = {.unicast = (uint16_t)(2 + i * 3), .elements = 3};
		uint8_t dk[16] = {0};

		memcpy(n.uuid, &i, sizeof(i));
		memcpy(dk, &i, sizeof(i));
		snprintf(n.name, sizeof(n.name), "node-%05u", (unsigned)i);
		n.cfg_state = (enum store_cfg_state)(i % 4);
		if (store_node_add(s, &n, dk, 0)) {
			fprintf(stderr, "node_add %u: %s\n", (unsigned)i, store_errmsg(s));
			return -1;
		}
	}
	if (store_commit(s)) {
		return -1;
	}
	printf("insert %d nodes (one transaction): %.3f s\n", NODES, now_s() - t0);

	/* One transaction per node, as the gateway adds them after provisioning. */
	t0 = now_s();
	for (uint32_t i = 0; i < 200; i++) {
		struct store_node n = {.unicast = (uint16_t)(0x7600 + i), .elements = 1};
		uint8_t dk[16] = {1};

		n.uuid[15] = (uint8_t)i;
		n.uuid[14] = 0xee;
		if (store_node_add(s, &n, dk, 0)) {
			fprintf(stderr, "node_add: %s\n", store_errmsg(s));
			return -1;
		}
	}
	printf("node add, own transaction (fsync): %.1f us each\n", (now_s() - t0) / 200 * 1e6);
	return 0;
}

static void bench_lists(struct store *s)
{
	struct store_node_filter f = {.limit = PAGE};
	struct store_node *nodes;
	size_t n, pages = 0, total;
	double t0;

	t0 = now_s();
	do {
		if (store_node_list(s, &f, &nodes, &n)) {
			return;
		}
		if (n) {
			f.after = nodes[n - 1].unicast;
		}
		store_nodes_free(nodes);
		pages++;
	} while (n == PAGE);
	printf("paged list, cursor, %d per page: %.1f us per page (%zu pages)\n", PAGE,
	       (now_s() - t0) / (double)pages * 1e6, pages);

	t0 = now_s();
	for (size_t p = 0; p < pages; p++) {
		f = (struct store_node_filter){.limit = PAGE, .offset = p * PAGE};
		if (store_node_list(s, &f, &nodes, &n)) {
			return;
		}
		store_nodes_free(nodes);
	}
	printf("paged list, offset, %d per page: %.1f us per page (mean over all offsets)\n", PAGE,
	       (now_s() - t0) / (double)pages * 1e6);

	t0 = now_s();
	for (int i = 0; i < 200; i++) {
		f = (struct store_node_filter){
		    .limit = PAGE, .name_sub = "-07", .state_mask = 1u << STORE_CFG_CONFIGURED};
		if (store_node_list(s, &f, &nodes, &n)) {
			return;
		}
		store_nodes_free(nodes);
	}
	printf("filtered page (name + state): %.1f us per query\n", (now_s() - t0) / 200 * 1e6);

	t0 = now_s();
	for (int i = 0; i < 200; i++) {
		if (store_node_count(s, NULL, &total)) {
			return;
		}
	}
	printf("count of active nodes (%zu): %.1f us per query\n", total,
	       (now_s() - t0) / 200 * 1e6);
}

static void bench_gets(struct store *s)
{
	struct store_node n;
	uint8_t dk[16];
	uint16_t primary;
	double t0;

	t0 = now_s();
	for (uint32_t i = 0; i < GETS; i++) {
		if (store_node_get(s, (uint16_t)(2 + (i * 7919 % NODES) * 3), &n)) {
			return;
		}
	}
	printf("node get by address: %.2f us each\n", (now_s() - t0) / GETS * 1e6);

	t0 = now_s();
	for (uint32_t i = 0; i < GETS; i++) {
		if (store_node_lookup(s, (uint16_t)(3 + (i * 7919 % NODES) * 3), &primary)) {
			return;
		}
	}
	printf("element address lookup: %.2f us each\n", (now_s() - t0) / GETS * 1e6);

	t0 = now_s();
	for (uint32_t i = 0; i < GETS; i++) {
		if (store_node_devkey_get(s, (uint16_t)(2 + (i * 7919 % NODES) * 3), dk)) {
			return;
		}
	}
	printf("DevKey get (unseal): %.2f us each\n", (now_s() - t0) / GETS * 1e6);
}

int main(void)
{
	char dir[] = "/tmp/meshgw-bench-XXXXXX", db[64], key[64];
	struct store *s;
	uint16_t a;
	double t0;
	int err = 0;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db, sizeof(db), "%s/inventory.db", dir);
	snprintf(key, sizeof(key), "%s/master.key", dir);
	s = store_open(db, key, &err);
	if (!s) {
		fprintf(stderr, "store_open: %s\n", store_strerror(err));
		return 1;
	}
	if (insert_nodes(s) == 0) {
		bench_lists(s);
		bench_gets(s);
		t0 = now_s();
		for (int i = 0; i < 100; i++) {
			store_addr_alloc(s, 2, &a);
		}
		printf("address allocation with %d nodes: %.1f us each\n", NODES,
		       (now_s() - t0) / 100 * 1e6);
	}
	store_close(s);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
