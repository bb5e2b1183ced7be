/*
 * Scenario files (sim/scenario.c): the shipped scenarios satisfy their
 * placement promises under meshsim's own propagation model, a minimal
 * document parses to the expected fields, every validation rule reports
 * the path of the offending field, and mutated documents never crash.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <time.h>
#include <unistd.h>

#include "sim/scenario.h"
#include "tests/util/certgen.h"
#include "tests/util/tv.h"

static struct sim_scenario *load_shipped(const char *name)
{
	char path[512], err[SIM_SCN_ERR_MAX];
	struct sim_scenario *s = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/sim/scenarios/%s", MESHGW_SOURCE_DIR, name);
	rc = sim_scenario_load(path, &s, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s: %s", name, err);
	return s;
}

/* An air with the scenario's parameters and every device on it. */
static struct sim_air *place(const struct sim_scenario *s, uint32_t *gw)
{
	struct sim_air *air = sim_air_new(s->seed, &s->air);

	cr_assert_not_null(air);
	for (size_t i = 0; i < s->n_devices; i++) {
		uint32_t pid;

		cr_assert_eq(
		    sim_air_add(air, &s->devices[i].pos, s->devices[i].name, NULL, NULL, &pid), 0);
		cr_assert_eq(pid, i);
	}
	cr_assert_eq(sim_air_add(air, &s->native_pos, "gw", NULL, NULL, gw), 0);
	return air;
}

static bool linked(struct sim_air *air, uint32_t a, uint32_t b)
{
	int8_t rssi;
	bool in;

	cr_assert_eq(sim_air_link(air, a, b, &rssi, &in), 0);
	return in;
}

/* Relay hops from the gateway port to every device (0 = unreachable). */
static unsigned *relay_hops(const struct sim_scenario *s, struct sim_air *air, uint32_t gw)
{
	unsigned *hops = calloc(s->n_devices, sizeof(*hops));
	size_t *queue = calloc(s->n_devices, sizeof(*queue)), head = 0, tail = 0;

	for (size_t i = 0; i < s->n_devices; i++) {
		if (linked(air, gw, (uint32_t)i)) {
			hops[i] = 1;
			queue[tail++] = i;
		}
	}
	while (head < tail) {
		size_t i = queue[head++];

		if (!s->devices[i].relay) {
			continue; /* only relays forward */
		}
		for (size_t j = 0; j < s->n_devices; j++) {
			if (!hops[j] && linked(air, (uint32_t)i, (uint32_t)j)) {
				hops[j] = hops[i] + 1;
				queue[tail++] = j;
			}
		}
	}
	free(queue);
	return hops;
}

static bool has_model(const struct sim_scn_element *e, uint16_t id)
{
	for (size_t i = 0; i < e->n_sig; i++) {
		if (e->sig[i] == id) {
			return true;
		}
	}
	return false;
}

/* small.json: 5 devices in direct range, one per authentication method, both algorithms. */
Test(scenario, shipped_small)
{
	struct sim_scenario *s = load_shipped("small.json");
	struct sim_air *air;
	uint32_t gw;
	bool s16 = false, s32 = false, out = false, in = false, noob = false, hmac = false,
	     cmac = false, uri = false, page128 = false;

	cr_assert_eq(s->n_devices, 5);
	cr_assert_not_null(s->native_path);
	air = place(s, &gw);
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct sim_scn_device *d = &s->devices[i];

		cr_assert(linked(air, gw, (uint32_t)i), "%s out of direct range", d->name);
		s16 |= d->static_oob_len == 16;
		s32 |= d->static_oob_len == 32;
		out |= d->output_size > 0;
		in |= d->input_size > 0;
		noob |= !d->static_oob_len && !d->output_size && !d->input_size;
		hmac |= (d->algorithms & SIM_SCN_ALG_HMAC) != 0;
		cmac |= (d->algorithms & SIM_SCN_ALG_CMAC) != 0;
		uri |= d->uri != NULL;
		page128 |= d->has_comp128;
		cr_assert(has_model(&d->comp.elements[0], 0x0000));
	}
	cr_assert(s16 && s32 && out && in && noob && hmac && cmac && uri && page128);
	sim_air_free(air);
	sim_scenario_free(s);
}

/*
 * office.json and building.json: every device reachable through relays
 * from the gateway port, some 4 or more hops away, and every device within
 * direct range of a Remote Provisioning Server device.
 */
static void check_building(const char *name, size_t want_devices, long want_floors)
{
	struct sim_scenario *s = load_shipped(name);
	struct sim_air *air;
	uint32_t gw;
	unsigned *hops, max_hops = 0;
	size_t relays = 0, lights = 0, vendor = 0;
	long floors_seen = 0;

	cr_assert_eq(s->n_devices, want_devices);
	air = place(s, &gw);
	hops = relay_hops(s, air, gw);
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct sim_scn_device *d = &s->devices[i];
		bool covered = d->rpr_server;
		long fl = (long)(d->pos.z / s->air.floor_height_m);

		cr_assert_neq(hops[i], 0, "%s unreachable", d->name);
		max_hops = hops[i] > max_hops ? hops[i] : max_hops;
		relays += d->relay;
		lights += has_model(&d->comp.elements[0], 0x1000);
		vendor += d->comp.elements[0].n_vnd > 0;
		floors_seen |= 1L << fl;
		for (size_t j = 0; j < s->n_devices && !covered; j++) {
			covered = s->devices[j].rpr_server && linked(air, (uint32_t)j, (uint32_t)i);
		}
		cr_assert(covered, "%s is not one hop from an rpr_server", d->name);
	}
	cr_assert_geq(max_hops, 4);
	cr_assert_gt(relays, 0);
	cr_assert_lt(relays, s->n_devices);
	cr_assert_gt(lights, 0);
	cr_assert_gt(vendor, 0);
	cr_assert_eq(floors_seen, (1L << want_floors) - 1);
	free(hops);
	sim_air_free(air);
	sim_scenario_free(s);
}

/* office.json: 60 devices on 3 floors (see check_building). */
Test(scenario, shipped_office, .timeout = 60)
{
	check_building("office.json", 60, 3);
}

/* building.json: 1,000 devices on 5 floors (see check_building). */
Test(scenario, shipped_building, .timeout = 300)
{
	check_building("building.json", 1000, 5);
}

#define DEV_OK                                                                                     \
	"{\"uuid\": \"d6c1b2a0-f3e4-4c5d-8e9f-a0b1c2d3e4f5\", \"position\": {\"x\": 1, \"y\": 2, " \
	"\"z\": 1.5}, \"composition\": {\"cid\": \"0x05f1\", \"pid\": 2, \"vid\": 3, \"crpl\": "   \
	"16, \"elements\": [{\"models\": [0, 4096]}]}}"

static int parse(const char *text, struct sim_scenario **s, char *err)
{
	return sim_scenario_parse(text, strlen(text), s, err, SIM_SCN_ERR_MAX);
}

/* A minimal document with one device parses to the values written in it, and defaults. */
Test(scenario, minimal_document)
{
	const char *doc = "{\"meshsim\": 1, \"air\": {\"range_m\": 12.5, \"loss\": 0.1, "
			  "\"latency_ms\": 2.5, \"seed\": 99, \"time_scale\": 10},"
			  "\"ports\": {\"native\": {\"path\": \"/tmp/x.sock\", \"position\": "
			  "{\"x\": 0, \"y\": -1, \"z\": 2}}, \"bluez\": [{\"path\": \"/tmp/b\", "
			  "\"position\": {\"x\": 1, \"y\": 1, \"z\": 1}}]},"
			  "\"devices\": [" DEV_OK "]}";
	struct sim_scenario *s = NULL;
	char err[SIM_SCN_ERR_MAX];
	const uint8_t uuid[16] = {0xd6, 0xc1, 0xb2, 0xa0, 0xf3, 0xe4, 0x4c, 0x5d,
				  0x8e, 0x9f, 0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5};

	cr_assert_eq(parse(doc, &s, err), 0, "%s", err);
	cr_assert_float_eq(s->air.range_m, 12.5, 1e-9);
	cr_assert_float_eq(s->air.loss, 0.1, 1e-9);
	cr_assert_eq(s->air.latency_us, 2500);
	cr_assert_eq(s->seed, 99);
	cr_assert_float_eq(s->time_scale, 10.0, 1e-9);
	cr_assert_str_eq(s->native_path, "/tmp/x.sock");
	cr_assert_float_eq(s->native_pos.y, -1.0, 1e-9);
	cr_assert_eq(s->n_bluez, 1);
	cr_assert_str_eq(s->bluez[0].path, "/tmp/b");
	cr_assert_null(s->bluez[0].peer);
	cr_assert_eq(s->n_devices, 1);
	cr_assert_arr_eq(s->devices[0].uuid, uuid, 16);
	cr_assert_str_eq(s->devices[0].name, "dev0");
	cr_assert_str_eq(s->devices[0].kind, "node");
	cr_assert_eq(s->devices[0].algorithms, SIM_SCN_ALG_CMAC);
	cr_assert(s->devices[0].beacon);
	cr_assert_not(s->devices[0].relay);
	cr_assert_eq(s->devices[0].comp.cid, 0x05f1);
	cr_assert_eq(s->devices[0].comp.n_elements, 1);
	cr_assert_eq(s->devices[0].comp.elements[0].n_sig, 2);
	cr_assert_eq(s->devices[0].comp.elements[0].sig[1], 0x1000);
	cr_assert_float_eq(s->devices[0].pos.z, 1.5, 1e-9);
	sim_scenario_free(s);
	sim_scenario_free(NULL);
}

/* OOB capabilities map onto the Capabilities PDU's bit fields (§5.4.1.2). */
Test(scenario, oob_capabilities)
{
	const char *doc =
	    "{\"meshsim\": 1, \"devices\": [{\"uuid\": \"00112233445566778899aabbccddeeff\", "
	    "\"position\": {\"x\": 0, \"y\": 0, \"z\": 0}, \"algorithms\": [\"cmac\", \"hmac\"], "
	    "\"oob\": {\"static\": "
	    "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\", "
	    "\"output\": {\"size\": 6, \"actions\": [\"blink\", \"alphanumeric\"]}, "
	    "\"input\": {\"size\": 8, \"actions\": [\"twist\", \"numeric\"]}, "
	    "\"public_key\": true, \"private_key\": "
	    "\"529aa0670d72cd6497502ed473502b037e8803b5c60829a5a3caa219505530ba\", "
	    "\"info\": \"0xa040\"}, \"uri\": \"https://x.example\", "
	    "\"relay\": true, \"rpr_server\": true, \"state_file\": \"/tmp/st.json\", "
	    "\"composition\": {\"cid\": 1, \"pid\": 2, \"vid\": 3, \"crpl\": 4, \"features\": "
	    "{\"relay\": true}, \"elements\": [{\"location\": 256, \"models\": [\"0x0000\", "
	    "\"0x0004\"], \"vendor_models\": [{\"cid\": \"0x05f1\", \"id\": 7}]}, "
	    "{\"models\": [4096]}]}, \"composition_128\": {\"cid\": 1, \"pid\": 2, \"vid\": 4, "
	    "\"crpl\": 4, \"features\": 1, \"elements\": [{\"models\": [0]}]}}]}";
	struct sim_scenario *s = NULL;
	char err[SIM_SCN_ERR_MAX];
	const struct sim_scn_device *d;

	cr_assert_eq(parse(doc, &s, err), 0, "%s", err);
	d = &s->devices[0];
	cr_assert_eq(d->static_oob_len, 32);
	cr_assert_eq(d->static_oob[31], 0x1f);
	cr_assert_eq(d->output_size, 6);
	cr_assert_eq(d->output_actions, 0x11); /* bit 0 blink, bit 4 alphanumeric */
	cr_assert_eq(d->input_size, 8);
	cr_assert_eq(d->input_actions, 0x06); /* bit 1 twist, bit 2 numeric */
	cr_assert(d->public_key_oob);
	cr_assert_eq(d->private_key[0], 0x52);
	cr_assert_eq(d->private_key[31], 0xba);
	cr_assert_eq(d->oob_info, 0xa040);
	cr_assert_eq(d->algorithms, 0x3);
	cr_assert_str_eq(d->uri, "https://x.example");
	cr_assert_str_eq(d->state_file, "/tmp/st.json");
	cr_assert(d->rpr_server);
	cr_assert_eq(d->comp.features, SIM_SCN_FEAT_RELAY);
	cr_assert_eq(d->comp.n_elements, 2);
	cr_assert_eq(d->comp.elements[0].loc, 0x0100);
	cr_assert_eq(d->comp.elements[0].n_vnd, 1);
	cr_assert_eq(d->comp.elements[0].vnd[0].cid, 0x05f1);
	cr_assert_eq(d->comp.elements[0].vnd[0].id, 7);
	cr_assert(d->has_comp128);
	cr_assert_eq(d->comp128.vid, 4);
	sim_scenario_free(s);
}

struct bad_case {
	const char *doc;
	const char *err_prefix;
};

#define DEV(extra)                                                                                 \
	"{\"meshsim\": 1, \"devices\": [{\"uuid\": \"00112233445566778899aabbccddeeff\", "         \
	"\"position\": {\"x\": 0, \"y\": 0, \"z\": 0}" extra "}]}"
#define COMP(els) ", \"composition\": {\"cid\": 1, \"pid\": 2, \"vid\": 3, \"crpl\": 4, " els "}"
#define COMP_OK COMP("\"elements\": [{\"models\": [0]}]")

/* Each invalid document fails with -EINVAL and names the offending field. */
Test(scenario, validation_errors_name_the_field)
{
	static const struct bad_case cases[] = {
	    {"[1]", "(root): must be an object"},
	    {"{\"meshsim\": 2}", "meshsim: must be 1"},
	    {"{}", "meshsim: must be 1"},
	    {"{\"meshsim\": 1, \"colour\": 1}", "colour: unknown member"},
	    {"{\"meshsim\": 1, \"air\": {\"loss\": 1.5}}", "air.loss: must be between"},
	    {"{\"meshsim\": 1, \"air\": {\"range_m\": \"far\"}}", "air.range_m: must be a number"},
	    {"{\"meshsim\": 1, \"air\": {\"seed\": -1}}", "air.seed: must be a non-negative"},
	    {"{\"meshsim\": 1, \"air\": {\"rang_m\": 3}}", "air.rang_m: unknown member"},
	    {"{\"meshsim\": 1, \"ports\": {\"native\": {\"position\": {\"x\": 0, \"y\": 0, "
	     "\"z\": 0}}}}",
	     "ports.native.path: missing"},
	    {"{\"meshsim\": 1, \"ports\": {\"bluez\": [{\"path\": \"/b\"}]}}",
	     "ports.bluez[0].position: missing"},
	    {"{\"meshsim\": 1, \"ports\": {\"bluez\": [{\"path\": \"/b\", \"position\": {\"x\": "
	     "0, \"y\": 0}}]}}",
	     "ports.bluez[0].position.z: missing"},
	    {"{\"meshsim\": 1, \"devices\": {}}", "devices: must be an array"},
	    {DEV(COMP_OK ", \"colour\": 1"), "devices[0].colour: unknown member"},
	    {"{\"meshsim\": 1, \"devices\": [{\"position\": {\"x\": 0, \"y\": 0, \"z\": 0}" COMP_OK
	     "}]}",
	     "devices[0].uuid: missing"},
	    {"{\"meshsim\": 1, \"devices\": [{\"uuid\": \"0011\", \"position\": {\"x\": 0, \"y\": "
	     "0, \"z\": 0}" COMP_OK "}]}",
	     "devices[0].uuid: must be 16 octets"},
	    {DEV(""), "devices[0].composition: missing"},
	    {DEV(COMP_OK ", \"oob\": {\"public_key\": true}"),
	     "devices[0].oob.private_key: required with public_key true"},
	    {DEV(COMP_OK ", \"oob\": {\"private_key\": \"00\"}"),
	     "devices[0].oob.private_key: only with public_key true"},
	    {DEV(COMP("\"elements\": []")), "devices[0].composition.elements: must be an array"},
	    {DEV(COMP("\"elements\": [{\"models\": [4096]}]")),
	     "devices[0].composition.elements[0]: the primary element needs Config Server"},
	    {DEV(COMP("\"elements\": [{\"models\": [0]}, {\"models\": [0]}]")),
	     "devices[0].composition.elements[1]: Config Server (0x0000) only on the primary"},
	    {DEV(COMP("\"elements\": [{\"models\": [0, 65536]}]")),
	     "devices[0].composition.elements[0].models[1]: must be an integer from 0 to 65535"},
	    {DEV(COMP("\"elements\": [{\"models\": [0, \"0x10g0\"]}]")),
	     "devices[0].composition.elements[0].models[1]: bad hex digit"},
	    {DEV(COMP("\"elements\": [{\"models\": [0, 0]}]")),
	     "devices[0].composition.elements[0].models[1]: duplicate model 0x0000"},
	    {DEV(COMP("\"elements\": [{\"models\": [0], \"vendor_models\": [{\"cid\": 1}]}]")),
	     "devices[0].composition.elements[0].vendor_models[0].id: missing"},
	    {DEV(", \"composition\": {\"pid\": 2, \"vid\": 3, \"crpl\": 4, \"elements\": "
		 "[{\"models\": [0]}]}"),
	     "devices[0].composition.cid: missing"},
	    {DEV(COMP_OK ", \"oob\": {\"static\": \"0011\"}"),
	     "devices[0].oob.static: must be 16 or 32 octets"},
	    {DEV(COMP_OK ", \"oob\": {\"static\": "
			 "\"000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f\"}"),
	     "devices[0].oob.static: a 32-octet static OOB value needs the \"hmac\""},
	    {DEV(COMP_OK ", \"oob\": {\"output\": {\"size\": 9, \"actions\": [\"blink\"]}}"),
	     "devices[0].oob.output.size: must be between 1 and 8"},
	    {DEV(COMP_OK ", \"oob\": {\"output\": {\"size\": 4, \"actions\": [\"push\"]}}"),
	     "devices[0].oob.output.actions[0]: unknown name"},
	    {DEV(COMP_OK ", \"oob\": {\"input\": {\"size\": 4, \"actions\": []}}"),
	     "devices[0].oob.input: actions must name at least one action"},
	    {DEV(COMP_OK ", \"oob\": {\"input\": {\"size\": 2.5, \"actions\": [\"push\"]}}"),
	     "devices[0].oob.input: size must be an integer"},
	    {DEV(COMP_OK ", \"algorithms\": [\"cmac\", \"cmac\"]"),
	     "devices[0].algorithms[1]: duplicate"},
	    {DEV(COMP_OK ", \"algorithms\": []"),
	     "devices[0].algorithms: must offer at least one algorithm"},
	    {DEV(COMP_OK ", \"relay\": true"),
	     "devices[0].relay: enabled but not in composition.features"},
	    {DEV(COMP_OK ", \"rpr_server\": true"), "devices[0].rpr_server: needs model 0x0004"},
	    {DEV(COMP_OK ", \"relay\": 1"), "devices[0].relay: must be true or false"},
	    {DEV(COMP_OK ", \"uri\": \"\""), "devices[0].uri: must be 1 to 255 characters"},
	    {DEV(COMP_OK ", \"name\": \"a\\nb\""), "devices[0].name: must be printable ASCII"},
	    {"{\"meshsim\": 1, \"devices\": [{\"uuid\": \"00112233445566778899aabbccddeeff\", "
	     "\"position\": {\"x\": 0, \"y\": 0, \"z\": 0}" COMP_OK "}, {\"uuid\": "
	     "\"00112233445566778899aabbccddeeff\", \"position\": {\"x\": 0, \"y\": 0, \"z\": "
	     "0}" COMP_OK "}]}",
	     "devices[1].uuid: same UUID as devices[0]"},
	    {"{\"meshsim\": 1, \"devices\": [{\"uuid\": \"00112233445566778899aabbccddeeff\", "
	     "\"position\": {\"x\": 1e9, \"y\": 0, \"z\": 0}" COMP_OK "}]}",
	     "devices[0].position.x: must be between"},
	    {"{\"meshsim\": 1, \"meshsim\": 1}", "line 1"},
	    {"{\"meshsim\": 1,", "line 1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim_scenario *s = (struct sim_scenario *)&cases; /* sentinel */
		char err[SIM_SCN_ERR_MAX];

		cr_assert_eq(parse(cases[i].doc, &s, err), -EINVAL, "case %zu parsed", i);
		cr_assert_eq(s, (struct sim_scenario *)&cases, "case %zu wrote *out", i);
		cr_assert(!strncmp(err, cases[i].err_prefix, strlen(cases[i].err_prefix)),
			  "case %zu: got \"%s\", want \"%s...\"", i, err, cases[i].err_prefix);
	}
}

/* Missing files report the errno; the port argument parser takes PATH@x,y,z only. */
Test(scenario, load_errors_and_port_args)
{
	struct sim_scenario *s = NULL;
	char err[SIM_SCN_ERR_MAX], *path = NULL;
	struct sim_pos pos;

	cr_assert_eq(sim_scenario_load("/nonexistent/x.json", &s, err, sizeof(err)), -ENOENT);
	cr_assert_null(s);
	cr_assert_eq(sim_scenario_parse_port_arg("/tmp/a.sock@1.5,-2,3", &path, &pos), 0);
	cr_assert_str_eq(path, "/tmp/a.sock");
	cr_assert_float_eq(pos.x, 1.5, 1e-12);
	cr_assert_float_eq(pos.y, -2.0, 1e-12);
	cr_assert_float_eq(pos.z, 3.0, 1e-12);
	free(path);
	path = NULL;
	cr_assert_eq(sim_scenario_parse_port_arg("/tmp/a.sock", &path, &pos), -EINVAL);
	cr_assert_eq(sim_scenario_parse_port_arg("@1,2,3", &path, &pos), -EINVAL);
	cr_assert_eq(sim_scenario_parse_port_arg("/a@1,2", &path, &pos), -EINVAL);
	cr_assert_eq(sim_scenario_parse_port_arg("/a@1,2,3,4", &path, &pos), -EINVAL);
	cr_assert_eq(sim_scenario_parse_port_arg("/a@1,2,x", &path, &pos), -EINVAL);
	cr_assert_eq(sim_scenario_parse_port_arg("/a@nan,2,3", &path, &pos), -EINVAL);
	cr_assert_null(path);
}

/*
 * Fuzz-style: 3,000 mutations of small.json (byte flips, insertions,
 * truncations, from a seeded generator) either parse or fail with a message;
 * ASan runs of this test catch memory errors in the failure paths.
 */
Test(scenario, mutated_documents_never_crash, .timeout = 120)
{
	char path[512];
	FILE *f;
	char *orig, *buf;
	long len;
	uint64_t rng = 0x5eed;
	size_t ok = 0, bad = 0;

	snprintf(path, sizeof(path), "%s/sim/scenarios/small.json", MESHGW_SOURCE_DIR);
	f = fopen(path, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	orig = malloc((size_t)len);
	buf = malloc((size_t)len + 16);
	cr_assert_eq(fread(orig, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	for (int it = 0; it < 3000; it++) {
		uint8_t r[8];
		size_t n = (size_t)len, pos;
		struct sim_scenario *s = NULL;
		char err[SIM_SCN_ERR_MAX];
		int rc;

		memcpy(buf, orig, n);
		for (int k = 0; k < 1 + it % 4; k++) {
			tv_rng(&rng, r, sizeof(r));
			pos = ((size_t)r[0] << 16 | (size_t)r[1] << 8 | r[2]) % n;
			switch (r[3] % 4) {
			case 0: /* flip to a JSON-significant character */
				buf[pos] = "{}[]\",:0-ex \\t"[r[4] % 14];
				break;
			case 1:
				buf[pos] = (char)r[4];
				break;
			case 2: /* truncate */
				n = pos + 1;
				break;
			default: /* delete one byte */
				memmove(buf + pos, buf + pos + 1, n - pos - 1);
				n--;
				break;
			}
		}
		rc = sim_scenario_parse(buf, n, &s, err, sizeof(err));
		if (rc == 0) {
			ok++;
			sim_scenario_free(s);
		} else {
			cr_assert_eq(rc, -EINVAL);
			cr_assert_null(s);
			cr_assert_neq(err[0], '\0');
			bad++;
		}
	}
	cr_assert_gt(bad, 2000, "mutations are mostly invalid");
	cr_assert_gt(ok, 0, "some mutations (inside strings) stay valid");
	free(orig);
	free(buf);
}

/* HCI ports: defaults, every member, strict validation, and the --hci-port argument. */
Test(scenario, hci_ports)
{
	static const struct {
		const char *ports, *err;
	} bad[] = {
	    {"[{\"path\": \"/h\"}]", "ports.hci[0].position: missing"},
	    {"[{\"path\": \"/h\", \"position\": {\"x\": 0, \"y\": 0, \"z\": 0}, \"colour\": 1}]",
	     "ports.hci[0].colour: unknown member"},
	    {"[{\"path\": \"/h\", \"position\": {\"x\": 0, \"y\": 0, \"z\": 0}, \"profile\": "
	     "\"5.0\"}]",
	     "ports.hci[0].profile: must be \"legacy\" or \"extended\""},
	    {"[{\"path\": \"/h\", \"position\": {\"x\": 0, \"y\": 0, \"z\": 0}, \"adv_sets\": 0}]",
	     "ports.hci[0].adv_sets: must be an integer from 1 to 16"},
	    {"[{\"path\": \"/h\", \"position\": {\"x\": 0, \"y\": 0, \"z\": 0}, \"adv_sets\": 17}]",
	     "ports.hci[0].adv_sets: must be an integer from 0 to 16"},
	    {"[{\"path\": \"/h\", \"position\": {\"x\": 0, \"y\": 0, \"z\": 0}, \"profile\": "
	     "\"legacy\", \"adv_sets\": 2}]",
	     "ports.hci[0].adv_sets: only with profile \"extended\""},
	    {"[{\"path\": \"/h\", \"position\": {\"x\": 0, \"y\": 0, \"z\": 0}, "
	     "\"cmd_latency_ms\": 1001}]",
	     "ports.hci[0].cmd_latency_ms: must be an integer from 0 to 1000"},
	    {"[{\"path\": \"/h\", \"position\": {\"x\": 0, \"y\": 0, \"z\": 0}}, {\"path\": "
	     "\"/h\", "
	     "\"position\": {\"x\": 0, \"y\": 0, \"z\": 0}}]",
	     "ports.hci[1].path: duplicate"},
	    {"{}", "ports.hci: must be an array of at most 16 ports"},
	};
	const char *doc =
	    "{\"meshsim\": 1, \"ports\": {\"hci\": ["
	    "{\"path\": \"/tmp/h0\", \"position\": {\"x\": 1, \"y\": 2, \"z\": 3}},"
	    "{\"path\": \"/tmp/h1\", \"position\": {\"x\": 0, \"y\": 0, \"z\": 0}, "
	    "\"profile\": \"legacy\", \"cmd_latency_ms\": 0},"
	    "{\"path\": \"/tmp/h2\", \"position\": {\"x\": 0, \"y\": 0, \"z\": 0}, "
	    "\"profile\": \"extended\", \"adv_sets\": 16, \"cmd_latency_ms\": 1000}]}}";
	struct sim_scenario *s = NULL;
	struct sim_scn_hci h;
	char err[SIM_SCN_ERR_MAX], buf[512];

	cr_assert_eq(parse(doc, &s, err), 0, "%s", err);
	cr_assert_eq(s->n_hci, 3);
	cr_assert_str_eq(s->hci[0].path, "/tmp/h0");
	cr_assert_float_eq(s->hci[0].pos.z, 3.0, 1e-12);
	cr_assert_not(s->hci[0].legacy);
	cr_assert_eq(s->hci[0].adv_sets, 4);
	cr_assert_eq(s->hci[0].latency_ms, 1);
	cr_assert(s->hci[1].legacy);
	cr_assert_eq(s->hci[1].latency_ms, 0);
	cr_assert_eq(s->hci[2].adv_sets, 16);
	cr_assert_eq(s->hci[2].latency_ms, 1000);
	sim_scenario_free(s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = NULL;
		snprintf(buf, sizeof(buf), "{\"meshsim\": 1, \"ports\": {\"hci\": %s}}",
			 bad[i].ports);
		cr_assert_eq(parse(buf, &s, err), -EINVAL, "%s", buf);
		cr_assert_null(s);
		cr_assert_str_eq(err, bad[i].err);
	}

	cr_assert_eq(sim_scenario_parse_hci_arg("/tmp/h@1,-2,3", &h), 0);
	cr_assert_str_eq(h.path, "/tmp/h");
	cr_assert_float_eq(h.pos.y, -2.0, 1e-12);
	cr_assert_not(h.legacy);
	cr_assert_eq(h.adv_sets, 4);
	cr_assert_eq(h.latency_ms, 1);
	free(h.path);
	cr_assert_eq(sim_scenario_parse_hci_arg("/tmp/h@0,0,1,legacy,latency=20", &h), 0);
	cr_assert(h.legacy);
	cr_assert_eq(h.latency_ms, 20);
	free(h.path);
	cr_assert_eq(sim_scenario_parse_hci_arg("/tmp/h@0,0,1,ext:8", &h), 0);
	cr_assert_not(h.legacy);
	cr_assert_eq(h.adv_sets, 8);
	free(h.path);
	cr_assert_eq(sim_scenario_parse_hci_arg("/tmp/h@0,0", &h), -EINVAL);
	cr_assert_eq(sim_scenario_parse_hci_arg("/tmp/h@0,0,1,ext:0", &h), -EINVAL);
	cr_assert_eq(sim_scenario_parse_hci_arg("/tmp/h@0,0,1,ext:17", &h), -EINVAL);
	cr_assert_eq(sim_scenario_parse_hci_arg("/tmp/h@0,0,1,legacy,ext:2", &h), -EINVAL);
	cr_assert_eq(sim_scenario_parse_hci_arg("/tmp/h@0,0,1,latency=1001", &h), -EINVAL);
	cr_assert_eq(sim_scenario_parse_hci_arg("/tmp/h@0,0,1,latency=", &h), -EINVAL);
	cr_assert_eq(sim_scenario_parse_hci_arg("/tmp/h@0,0,1,fast", &h), -EINVAL);
	cr_assert_eq(sim_scenario_parse_hci_arg("/tmp/h", &h), -EINVAL);
}

/* A device document of DEV_OK with the member "certificate": {chain, key} as given. */
static int parse_cert(const char *chain, const char *key, struct sim_scenario **s, char *err)
{
	char doc[2048];

	snprintf(doc, sizeof(doc),
		 "{\"meshsim\": 1, \"devices\": [{\"uuid\": \"d6c1b2a0f3e44c5d8e9fa0b1c2d3e4f5\","
		 " \"position\": {\"x\": 1, \"y\": 2, \"z\": 1}, \"composition\": {\"cid\": 1, "
		 "\"pid\": 2, \"vid\": 3, \"crpl\": 16, \"elements\":"
		 " [{\"models\": [0]}]}, \"certificate\": {\"chain\": \"%s\", \"key\": \"%s\"}}]}",
		 chain, key);
	return parse(doc, s, err);
}

/*
 * "certificate": the chain file's certificates become DER, the device's
 * first, and the key's private scalar is kept; a missing file, a file that
 * is no PEM and a key that is not the certificate's are refused with the
 * field's path (test PKI made at run time, tests/util/certgen.h).
 */
Test(scenario, certificate_chain_and_key)
{
	char dir[] = "/tmp/scn-cert-XXXXXX", chain[64], key[64], other[64], none[64];
	struct cg_cert root, dev;
	struct sim_scenario *s = NULL;
	char err[SIM_SCN_ERR_MAX];
	time_t now = time(NULL);
	uint8_t priv[32];
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(chain, sizeof(chain), "%s/chain.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(other, sizeof(other), "%s/other.pem", dir);
	snprintf(none, sizeof(none), "%s/none.pem", dir);
	cg_make(&root, cg_key("P-256"), "Root", NULL, true, now - 60, now + 86400);
	cg_make(&dev, cg_key("P-256"), "d6c1b2a0f3e44c5d8e9fa0b1c2d3e4f5", &root, false, now - 60,
		now + 86400);
	cg_write_pem(&dev, chain, false);
	cg_write_pem(&root, chain, true);
	f = fopen(key, "w");
	cr_assert(f && PEM_write_PrivateKey(f, dev.key, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	f = fopen(other, "w");
	cr_assert(f && PEM_write_PrivateKey(f, root.key, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);

	cr_assert_eq(parse_cert(chain, key, &s, err), 0, "%s", err);
	cr_assert_eq(s->devices[0].n_cert, 2);
	cr_assert_eq(s->devices[0].cert_len[0], dev.der_len);
	cr_assert_arr_eq(s->devices[0].cert_der[0], dev.der, dev.der_len);
	cr_assert_arr_eq(s->devices[0].cert_der[1], root.der, root.der_len);
	cg_priv32(dev.key, priv);
	cr_assert_arr_eq(s->devices[0].cert_priv, priv, 32);
	sim_scenario_free(s);

	s = NULL;
	cr_assert_eq(parse_cert(chain, other, &s, err), -EINVAL);
	cr_assert(strstr(err, "devices[0].certificate: ") &&
		      strstr(err, "not the key of the chain"),
		  "%s", err);
	cr_assert_eq(parse_cert(none, key, &s, err), -EINVAL);
	cr_assert(strstr(err, "devices[0].certificate: cannot open"), "%s", err);
	cr_assert_eq(parse_cert(key, key, &s, err), -EINVAL);
	cr_assert(strstr(err, "no PEM certificate"), "%s", err);
	cr_assert_null(s);
	cg_free(&root);
	cg_free(&dev);
	(void)remove(chain);
	(void)remove(key);
	(void)remove(other);
	(void)rmdir(dir);
}
