/*
 * gateway/cdb: the Mesh CDB codec.  A valid document parses into the
 * records it says; encode and parse are inverse; and each malformed or
 * inconsistent document (one defect in an otherwise valid one) is refused
 * with the JSON pointer of the defect and the reason.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "gateway/cdb.h"

/* Two nodes, two keys, two provisioners, a group, a scene, an exclusion. */
static const char base[] =
    "{\"$schema\": \"http://json-schema.org/draft-04/schema#\","
    " \"id\": \"https://www.bluetooth.com/specifications/specs/mesh-cdb-1-0-1-schema.json#\","
    " \"version\": \"1.0.1\", \"meshUUID\": \"D4B2E4A7-1B4C-4F0E-9E52-3A1C5B7D9F01\","
    " \"meshName\": \"test\", \"timestamp\": \"2026-01-01T00:00:00Z\", \"partial\": false,"
    " \"netKeys\": [{\"name\": \"n\", \"index\": 0, \"key\": \"00112233445566778899AABBCCDDEEFF\","
    "   \"phase\": 0, \"minSecurity\": \"secure\", \"timestamp\": \"2026-01-01T00:00:00Z\"}],"
    " \"appKeys\": [{\"name\": \"a\", \"index\": 0, \"boundNetKey\": 0,"
    "   \"key\": \"FFEEDDCCBBAA99887766554433221100\"}],"
    " \"provisioners\": ["
    "  {\"provisionerName\": \"p1\", \"UUID\": \"11111111222233334444555555555555\","
    "   \"allocatedUnicastRange\": [{\"lowAddress\": \"0001\", \"highAddress\": \"00FF\"}],"
    "   \"allocatedGroupRange\": [{\"lowAddress\": \"C000\", \"highAddress\": \"C0FF\"}],"
    "   \"allocatedSceneRange\": [{\"firstScene\": \"0001\", \"lastScene\": \"00FF\"}]},"
    "  {\"provisionerName\": \"p2\", \"UUID\": \"21111111-2222-3333-4444-555555555555\","
    "   \"allocatedUnicastRange\": [{\"lowAddress\": \"0100\", \"highAddress\": \"01FF\"}],"
    "   \"allocatedGroupRange\": [], \"allocatedSceneRange\": []}],"
    " \"nodes\": ["
    "  {\"UUID\": \"9F41BD5B-CBB0-41D7-BDA6-EC8707D777C6\", \"name\": \"lamp\","
    "   \"unicastAddress\": \"0002\", \"deviceKey\": \"0F0E0D0C0B0A09080706050403020100\","
    "   \"security\": \"secure\", \"netKeys\": [{\"index\": 0, \"updated\": false}],"
    "   \"configComplete\": true, \"cid\": \"05F1\", \"pid\": \"0010\", \"vid\": \"0001\","
    "   \"crpl\": \"0040\", \"features\": {\"relay\": 1, \"proxy\": 2, \"friend\": 2,"
    "   \"lowPower\": 2}, \"defaultTTL\": 5, \"networkTransmit\": {\"count\": 2, \"interval\": 20},"
    "   \"appKeys\": [{\"index\": 0, \"updated\": false}],"
    "   \"elements\": [{\"index\": 0, \"location\": \"0100\", \"models\": ["
    "     {\"modelId\": \"1000\", \"subscribe\": [\"C001\"], \"bind\": [0],"
    "      \"publish\": {\"address\": \"C002\", \"index\": 0, \"ttl\": 5,"
    "        \"period\": {\"numberOfSteps\": 1, \"resolution\": 1000}, \"credentials\": 0,"
    "        \"retransmit\": {\"count\": 1, \"interval\": 100}}},"
    "     {\"modelId\": \"05F10001\", \"subscribe\": [], \"bind\": []}]},"
    "    {\"index\": 1, \"location\": \"0101\", \"models\": []}],"
    "   \"excluded\": false},"
    "  {\"UUID\": \"03bb3768472e4ade846328c3cc12239e\", \"unicastAddress\": \"0004\","
    "   \"deviceKey\": \"000102030405060708090A0B0C0D0E0F\", \"security\": \"insecure\","
    "   \"netKeys\": [{\"index\": 0, \"updated\": false}], \"configComplete\": false,"
    "   \"appKeys\": [], \"elements\": [{\"index\": 0, \"location\": \"0000\", \"models\": []}],"
    "   \"excluded\": false}],"
    " \"groups\": [{\"name\": \"g\", \"address\": \"C001\", \"parentAddress\": \"0000\"}],"
    " \"scenes\": [{\"name\": \"s\", \"addresses\": [\"0002\"], \"number\": \"0001\"}],"
    " \"networkExclusions\": [{\"ivIndex\": 0, \"addresses\": [\"0010\"]}]}";

static json_t *load_base(void)
{
	json_error_t e;
	json_t *j = json_loads(base, 0, &e);

	cr_assert_not_null(j, "base: %s at %d", e.text, e.column);
	return j;
}

/* The member at a slash path ("nodes/0/unicastAddress"): its parent and last key. */
static json_t *walk(json_t *root, const char *path, char *last, size_t cap)
{
	char buf[200];
	char *save = NULL, *tok, *next;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	tok = strtok_r(buf, "/", &save);
	while (tok && (next = strtok_r(NULL, "/", &save)) != NULL) {
		cur = json_is_array(cur) ? json_array_get(cur, strtoul(tok, NULL, 10))
					 : json_object_get(cur, tok);
		cr_assert_not_null(cur, "%s: no %s", path, tok);
		tok = next;
	}
	snprintf(last, cap, "%s", tok);
	return cur;
}

/* Set (v != NULL, stolen) or delete (v == NULL) the member at path. */
static void put(json_t *root, const char *path, json_t *v)
{
	char last[64];
	json_t *parent = walk(root, path, last, sizeof(last));

	if (json_is_array(parent)) {
		size_t i = strtoul(last, NULL, 10);

		if (v) {
			json_array_set_new(parent, i, v);
		} else {
			json_array_remove(parent, i);
		}
	} else if (v) {
		json_object_set_new(parent, last, v);
	} else {
		json_object_del(parent, last);
	}
}

Test(cdb, parses_the_records)
{
	json_t *j = load_base();
	struct store_cdb *d = NULL;
	char err[256];

	cr_assert_eq(cdb_parse(j, &d, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cdb_check(d, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(d->version, 101);
	cr_assert_eq(d->mesh_uuid[0], 0xd4);
	cr_assert_eq(d->mesh_uuid[15], 0x01);
	cr_assert_eq(d->netkeys[0].key[0], 0x00);
	cr_assert_eq(d->netkeys[0].key[15], 0xff);
	cr_assert(d->netkeys[0].min_secure);
	cr_assert_eq(d->n_provs, 2);
	cr_assert_eq(d->provs[1].uuid[0], 0x21);
	cr_assert_eq(d->provs[0].uni[0].hi, 0x00ff);
	cr_assert_eq(d->provs[0].scene[0].lo, 1);
	cr_assert_eq(d->n_nodes, 2);
	cr_assert_str_eq(d->nodes[0].name, "lamp");
	cr_assert_eq(d->nodes[0].unicast, 2);
	cr_assert_eq(d->nodes[0].devkey[0], 0x0f);
	cr_assert(d->nodes[0].secure);
	cr_assert(d->nodes[0].has_comp);
	cr_assert_eq(d->nodes[0].cid, 0x05f1);
	cr_assert_eq(d->nodes[0].crpl, 0x40);
	cr_assert_eq(d->nodes[0].feat[STORE_CDB_FEAT_RELAY], 1);
	cr_assert_eq(d->nodes[0].feat[STORE_CDB_FEAT_LPN], 2);
	cr_assert_eq(d->nodes[0].default_ttl, 5);
	cr_assert_eq(d->nodes[0].net_tx_count, 2);
	cr_assert_eq(d->nodes[0].relay_count, -1);
	cr_assert_eq(d->nodes[0].n_el, 2);
	cr_assert_eq(d->nodes[0].el[1].loc, 0x0101);
	cr_assert_eq(d->nodes[0].el[0].models[0].id, 0x1000);
	cr_assert_eq(d->nodes[0].el[0].models[0].sub[0], 0xc001);
	cr_assert_eq(d->nodes[0].el[0].models[0].pub.addr, 0xc002);
	/* 1 step of 1 s; 1 retransmission every 100 ms. */
	cr_assert_eq(d->nodes[0].el[0].models[0].pub.period, 1 | 1 << 6);
	cr_assert_eq(d->nodes[0].el[0].models[0].pub.retransmit, 1 | 1 << 3);
	cr_assert(d->nodes[0].el[0].models[1].vendor);
	cr_assert_eq(d->nodes[0].el[0].models[1].id, 0x05f10001);
	cr_assert_eq(d->nodes[1].uuid[0], 0x03);
	cr_assert_not(d->nodes[1].has_comp);
	cr_assert_eq(d->n_groups, 1);
	cr_assert_eq(d->groups[0].addr, 0xc001);
	cr_assert_eq(d->scenes[0].addrs[0], 2);
	cr_assert_eq(d->n_excl, 1);
	cr_assert_eq(d->excl[0].addr, 0x10);
	store_cdb_free(d);
	json_decref(j);
}

/* parse(encode(parse(x))) gives the same records, and the encoding the same text. */
Test(cdb, encode_parse_round_trip)
{
	json_t *j = load_base(), *e, *e2;
	struct store_cdb *d = NULL, *d2 = NULL;
	char err[256], *t1, *t2;

	cr_assert_eq(cdb_parse(j, &d, err, sizeof(err)), 0, "%s", err);
	e = cdb_encode(d, 1700000000000ull);
	cr_assert_not_null(e);
	cr_assert_str_eq(json_string_value(json_object_get(e, "version")), "1.0.1");
	cr_assert_str_eq(json_string_value(json_object_get(e, "meshUUID")),
			 "D4B2E4A7-1B4C-4F0E-9E52-3A1C5B7D9F01");
	cr_assert_eq(cdb_parse(e, &d2, err, sizeof(err)), 0, "%s", err);
	e2 = cdb_encode(d2, 1700000000000ull);
	t1 = json_dumps(e, JSON_SORT_KEYS);
	t2 = json_dumps(e2, JSON_SORT_KEYS);
	cr_assert_str_eq(t1, t2);
	cr_assert(strstr(t1, "\"deviceKey\": \"0F0E0D0C0B0A09080706050403020100\""), "%s", t1);
	cr_assert(strstr(t1, "\"modelId\": \"05F10001\""));
	cr_assert(strstr(t1, "\"period\": {\"numberOfSteps\": 1, \"resolution\": 1000}"), "%s", t1);
	free(t1);
	free(t2);
	json_decref(e2);
	store_cdb_free(d2);
	/* Partial: no key member anywhere, and "partial": true. */
	d->partial = true;
	json_decref(e);
	e = cdb_encode(d, 1700000000000ull);
	t1 = json_dumps(e, 0);
	cr_assert_null(strstr(t1, "\"key\""));
	cr_assert_null(strstr(t1, "deviceKey"));
	cr_assert_null(strstr(t1, "00112233445566778899"));
	cr_assert(json_is_true(json_object_get(e, "partial")));
	free(t1);
	json_decref(e);
	store_cdb_free(d);
	json_decref(j);
}

/* Older files: version 1.0.0, the period in milliseconds, dash-less UUIDs, no groups. */
Test(cdb, accepts_1_0_0_shapes)
{
	json_t *j = load_base();
	struct store_cdb *d = NULL;
	char err[256];

	put(j, "version", json_string("1.0.0"));
	put(j, "nodes/0/elements/0/models/0/publish/period", json_integer(30000));
	put(j, "groups", NULL);
	put(j, "scenes", NULL);
	cr_assert_eq(cdb_parse(j, &d, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(d->version, 100);
	/* 30 s: the finest resolution that fits, 30 steps of 1 s. */
	cr_assert_eq(d->nodes[0].el[0].models[0].pub.period, 30 | 1 << 6);
	store_cdb_free(d);
	json_decref(j);
}

struct bad {
	const char *path;
	const char *value; /* JSON text; NULL: delete the member */
	int err;
	const char *want; /* the error's start */
};

static const struct bad bads[] = {
    {"nodes/1/unicastAddress", "\"12\"", -EINVAL, "/nodes/1/unicastAddress: must be 4 hex digits"},
    {"nodes/0/unicastAddress", "\"8000\"", -EINVAL,
     "/nodes/0/unicastAddress: must be a unicast address"},
    {"version", "\"2.0\"", -EINVAL, "/version: must be \"1.0.0\" or \"1.0.1\""},
    {"meshUUID", NULL, -EINVAL, "/meshUUID: required member missing"},
    {"netKeys/0/key", "\"00112233445566778899AABBCCDDEEF\"", -EINVAL,
     "/netKeys/0/key: must be 32 hex digits"},
    {"nodes/0/deviceKey", NULL, -EINVAL, "/nodes/0/deviceKey: required member missing"},
    {"nodes/0/elements/0/models/0/modelId", "\"12345\"", -EINVAL,
     "/nodes/0/elements/0/models/0/modelId: must be 4 hex digits"},
    {"nodes/0/elements/0/models/0/publish/period", "{\"numberOfSteps\": 1, \"resolution\": 5}",
     -EINVAL, "/nodes/0/elements/0/models/0/publish/period/resolution: must be 100"},
    {"nodes", "\"x\"", -EINVAL, "/nodes: must be an array"},
    {"provisioners/0/allocatedUnicastRange",
     "[{\"lowAddress\": \"0010\", \"highAddress\": \"0001\"}]", -EINVAL,
     "/provisioners/0/allocatedUnicastRange/0: lowAddress is above highAddress"},
    {"nodes/0/defaultTTL", "1", -EINVAL, "/nodes/0/defaultTTL: must be 0 or 2..127"},
    {"nodes/0/UUID", "\"9F41BD5B-CBB0-41D7-BDA6-EC8707D777CZ\"", -EINVAL,
     "/nodes/0/UUID: must be a UUID"},
    {"nodes/1/security", "\"medium\"", -EINVAL, "/nodes/1/security: must be \"secure\" or"},
    {"nodes/0/elements/0/models/0/subscribe", "[\"0073E7E4D8B9440FAF8415DF4C56C0E1\"]", -EINVAL,
     "/nodes/0/elements/0/models/0/subscribe/0: virtual label subscriptions"},
    {"nodes/0/networkTransmit", "{\"count\": 2, \"interval\": 25}", -EINVAL,
     "/nodes/0/networkTransmit/interval: must be a multiple of 10 ms"},
    {"provisioners/0/allocatedGroupRange",
     "[{\"lowAddress\": \"0100\", \"highAddress\": \"C0FF\"}]", -EINVAL,
     "/provisioners/0/allocatedGroupRange/0: must lie within 0xc000-0xfeff"},
    {"nodes/0/configComplete", "\"x\"", -EINVAL, "/nodes/0/configComplete: must be true or false"},
    {"provisioners/1/allocatedUnicastRange",
     "[{\"lowAddress\": \"00F0\", \"highAddress\": \"01FF\"}]", -EDOM,
     "/provisioners/1/allocatedUnicastRange/0: 0x00f0-0x01ff overlaps /provisioners/0"},
    {"nodes/1/unicastAddress", "\"0003\"", -EDOM,
     "/nodes/1/unicastAddress: elements 0x0003-0x0003 overlap /nodes/0 (0x0002-0x0003)"},
    {"appKeys/0/boundNetKey", "5", -EDOM, "/appKeys/0/boundNetKey: no NetKey 5"},
    {"nodes/1/UUID", "\"9F41BD5BCBB041D7BDA6EC8707D777C6\"", -EDOM,
     "/nodes/1/UUID: the same device is /nodes/0"},
    {"nodes/1/appKeys", "[{\"index\": 9, \"updated\": false}]", -EDOM,
     "/nodes/1/appKeys/0: no AppKey 9"},
    {"nodes/1/netKeys", "[{\"index\": 9, \"updated\": false}]", -EDOM,
     "/nodes/1/netKeys/0: no NetKey 9"},
    {"nodes/0/elements/0/models/0/bind", "[7]", -EDOM,
     "/nodes/0/elements/0/models/0/bind/0: AppKey 7 is not in the node's appKeys"},
    {"nodes/1/unicastAddress", "\"0010\"", -EDOM,
     "/nodes/1/unicastAddress: 0x0010 is on /networkExclusions"},
    {"netKeys/1",
     "{\"name\": \"n2\", \"index\": 0, \"key\": \"00112233445566778899AABBCCDDEEFF\", "
     "\"phase\": 0, \"minSecurity\": \"secure\", \"timestamp\": \"2026-01-01T00:00:00Z\"}",
     -EDOM, "/netKeys/1/index: NetKey 0 is also /netKeys/0"},
    {"nodes/0/elements/1/index", "3", -EDOM, "/nodes/0/elements/1/index: must be 1"},
};

/* The JSON text's value; NULL for NULL. */
static json_t *value(const char *text)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

	cr_assert(v || !text, "bad test value %s", text);
	return v;
}

Test(cdb, refuses_each_defect_with_its_pointer)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		json_t *j = load_base();
		struct store_cdb *d = NULL;
		char err[256] = "";
		int r;

		if (!strcmp(bads[i].path, "netKeys/1")) {
			json_array_append_new(json_object_get(j, "netKeys"), value(bads[i].value));
		} else {
			put(j, bads[i].path, value(bads[i].value));
		}
		r = cdb_parse(j, &d, err, sizeof(err));
		if (r == 0) {
			r = cdb_check(d, err, sizeof(err));
		}
		cr_expect_eq(r, bads[i].err, "case %zu (%s): %d, %s", i, bads[i].path, r, err);
		cr_expect_eq(strncmp(err, bads[i].want, strlen(bads[i].want)), 0,
			     "case %zu: got \"%s\", want \"%s...\"", i, err, bads[i].want);
		store_cdb_free(d);
		json_decref(j);
	}
}

/* Not a document at all. */
Test(cdb, refuses_non_documents)
{
	struct store_cdb *d = NULL;
	char err[256];
	json_t *arr = json_array();

	cr_assert_eq(cdb_parse(arr, &d, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "/: the document must be a JSON object");
	cr_assert_eq(cdb_parse(NULL, &d, err, sizeof(err)), -EINVAL);
	json_decref(arr);
}
