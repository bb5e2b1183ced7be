/*
 * Fills a meshgw state directory with N nodes through the storage API, for
 * bench/api_wrk.sh: the daemon creates the network on its first start, this
 * program adds the nodes the way the gateway does after provisioning (lowest
 * free address range, node row with a sealed DevKey, Composition Data page 0
 * information), and the daemon then serves them.
 *
 *   bench_make_inventory STATE_DIR [N (10000)]
 *
 * Prints the time taken; the daemon must not be running meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh/crypto.h"
#include "storage/store.h"

#define ELEMENTS 2

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One node as the gateway stores it after provisioning and configuration. */
static int add_node(struct store *s, unsigned i, uint16_t *addr)
{
	struct store_node n = {.elements = ELEMENTS, .cfg_state = STORE_CFG_CONFIGURED};
	uint8_t dev_key[STORE_KEY_LEN];
	int r;

	r = store_addr_alloc(s, ELEMENTS, &n.unicast);
	if (r) {
		return r;
	}
	/* A recognisable UUID per node; random DevKeys as provisioning would derive them. */
	memcpy(n.uuid, "benchnode", 9);
	n.uuid[12] = (uint8_t)(i >> 24);
	n.uuid[13] = (uint8_t)(i >> 16);
	n.uuid[14] = (uint8_t)(i >> 8);
	n.uuid[15] = (uint8_t)i;
	snprintf(n.name, sizeof(n.name), "bench-%05u", i);
	r = mesh_crypto_random(dev_key, sizeof(dev_key));
	if (!r) {
		r = store_node_add(s, &n, dev_key, 0);
	}
	mesh_crypto_wipe(dev_key, sizeof(dev_key));
	if (!r) {
		/* CID 0x05f1, PID 0x0010, VID 0x0001, CRPL 64, Relay (§4.2.2.1). */
		r = store_node_info_set(s, n.unicast, 0x05f1, 0x0010, 0x0001, 64, 0x0001);
	}
	if (!r) {
		*addr = n.unicast;
	}
	return r;
}

int main(int argc, char **argv)
{
	char db[512], key[512];
	struct store *s;
	unsigned n = 10000, i;
	uint16_t first = 0, last = 0;
	double t0;
	int r;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s STATE_DIR [N]\n", argv[0]);
		return 2;
	}
	if (argc == 3) {
		n = (unsigned)strtoul(argv[2], NULL, 10);
	}
	snprintf(db, sizeof(db), "%s/meshgw.db", argv[1]);
	snprintf(key, sizeof(key), "%s/master.key", argv[1]);
	s = store_open(db, key, &r);
	if (!s) {
		fprintf(stderr, "%s: %s\n", db, store_strerror(r));
		return 1;
	}
	t0 = now_s();
	r = store_begin(s);
	for (i = 0; !r && i < n; i++) {
		r = add_node(s, i, i ? &last : &first);
	}
	if (r) {
		fprintf(stderr, "node %u: %s (%s)\n", i, strerror(-r), store_errmsg(s));
		(void)store_rollback(s);
		store_close(s);
		return 1;
	}
	r = store_commit(s);
	store_close(s);
	if (r) {
		fprintf(stderr, "commit: %s\n", strerror(-r));
		return 1;
	}
	printf("inventory: %u nodes (%d elements each, 0x%04x..0x%04x) added in %.2f s\n", n,
	       ELEMENTS, first, last, now_s() - t0);
	return 0;
}
