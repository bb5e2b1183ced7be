/*
 * libFuzzer target for the device state meshsim loads for its "node" kind
 * (sim/node_load.c, its load hook): the input is the state JSON of one device.
 * A refused state must leave the device unprovisioned; an accepted one must
 * save, load into a fresh device and save again to the same JSON.  Seeds in
 * fuzz/corpus/sim_node_state/: unprovisioned, provisioned and configured, Key
 * Refresh phase 2 with an IV Update in progress.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/loop.h"
#include "sim/node_dev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One device: two elements with a Generic OnOff Server each, a vendor model, relay. */
static const char scenario[] =
    "{\"meshsim\": 1, \"devices\": [{\"name\": \"d\", \"uuid\": "
    "\"00112233445566778899aabbccddeeff\", \"position\": {\"x\": 0, \"y\": 0, \"z\": 0}, "
    "\"relay\": true, \"composition\": {\"cid\": 1521, \"pid\": 1, \"vid\": 1, \"crpl\": 32, "
    "\"features\": {\"relay\": true}, \"elements\": [{\"location\": 256, \"models\": "
    "[\"0x0000\", \"0x0002\", \"0x1000\"], \"vendor_models\": [{\"cid\": \"0x05f1\", \"id\": "
    "\"0x0001\"}]}, {\"location\": 257, \"models\": [\"0x1000\"]}]}}]}";

static const struct sim_device_ops *const kinds[] = {&sim_node_kind};

static struct sim_world *world(const struct sim_scenario *s)
{
	struct sim_world *w = sim_world_new(1, &s->air, kinds, 1);
	unsigned dev;

	if (!w || sim_world_add_device(w, &s->devices[0], 0, &dev) != 0) {
		abort();
	}
	return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim_scenario *s;
	struct sim_world *w;
	json_t *st, *all, *s1, *s2;
	int r;

	if (!s && sim_scenario_parse(scenario, sizeof(scenario) - 1, &s, NULL, 0) != 0) {
		abort();
	}
	st = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!st) {
		return 0;
	}
	all = json_pack("{s{so}}", "devices", "00112233445566778899aabbccddeeff", st);
	w = world(s);
	r = sim_world_load_json(w, all, 1000);
	if (r != 0) {
		/* Refused: the device is as it was, unprovisioned. */
		if (sim_node_provisioned(sim_world_device(w, 0))) {
			abort();
		}
	} else {
		s1 = sim_world_save_json(w);
		sim_world_free(w);
		w = world(s);
		if (sim_world_load_json(w, s1, 1000) != 0) {
			abort();
		}
		s2 = sim_world_save_json(w);
		if (!json_equal(s1, s2)) {
			abort();
		}
		json_decref(s1);
		json_decref(s2);
	}
	sim_world_free(w);
	json_decref(all);
	return 0;
}
