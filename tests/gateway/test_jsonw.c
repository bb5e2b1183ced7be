/*
 * gateway/jsonw.c and gw_node_print(): the text written directly is what
 * jansson prints for the same values (json_dumps, JSON_COMPACT), octet for
 * octet, so the HTTP threads' pages and the loop's can be compared.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/jsonw.h"
#include "gateway/util.h"

/* Takes the writer's text and checks it against jansson's dump of o (consumed). */
static void assert_as_jansson(struct gw_jw *w, json_t *o)
{
	size_t len = 0;
	char *mine = gw_jw_take(w, &len);
	char *theirs = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);

	cr_assert_not_null(mine);
	cr_assert_not_null(theirs);
	cr_assert_eq(len, strlen(mine));
	cr_assert_str_eq(mine, theirs);
	free(mine);
	free(theirs);
	json_decref(o);
}

Test(jsonw, strings_escaped_as_jansson_does)
{
	char s[2] = {0};

	/* Every control character, the two mandatory escapes, and the rest of ASCII. */
	for (int c = 1; c < 0x80; c++) {
		struct gw_jw w = {0};

		s[0] = (char)c;
		gw_jw_str(&w, s);
		assert_as_jansson(&w, json_string(s));
	}
	const char *const cases[] = {"",
				     "lamp \"2\"",
				     "a\\b/c",
				     "tab\there\nnew\r\x01\x1f end",
				     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa1",
				     "\"\"\"\\\\"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gw_jw w = {0};

		gw_jw_str(&w, cases[i]);
		assert_as_jansson(&w, json_string(cases[i]));
	}
}

Test(jsonw, integers_and_literals)
{
	const long long v[] = {0, 1, -1, 9, 10, 32767, 65535, -65536, LLONG_MAX, LLONG_MIN};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct gw_jw w = {0};

		gw_jw_int(&w, v[i]);
		assert_as_jansson(&w, json_integer(v[i]));
	}
	struct gw_jw w = {0};

	gw_jw_lit(&w, "[");
	gw_jw_bool(&w, true);
	gw_jw_raw(&w, ",", 1);
	gw_jw_bool(&w, false);
	gw_jw_lit(&w, ",null]");
	assert_as_jansson(&w, json_pack("[b, b, n]", 1, 0));
}

/* A buffer that grows from nothing past its first allocation keeps every octet. */
Test(jsonw, grows)
{
	struct gw_jw w = {0};
	json_t *a = json_array();

	gw_jw_lit(&w, "[");
	for (int i = 0; i < 3000; i++) {
		if (i) {
			gw_jw_raw(&w, ",", 1);
		}
		gw_jw_int(&w, i * 7919);
		json_array_append_new(a, json_integer(i * 7919));
	}
	gw_jw_lit(&w, "]");
	assert_as_jansson(&w, a);
}

Test(jsonw, node_as_gw_node_json)
{
	struct store_node n = {
	    .unicast = 0x1234,
	    .elements = 3,
	    .cid = 0x05f1,
	    .pid = 0xffff,
	    .vid = 1,
	    .cfg_state = STORE_CFG_CONFIGURED,
	    .name = "hall \"east\"\tlamp \xc3\xa9",
	};
	/* Times: the epoch, a leap day with milliseconds, the last of 9999, and beyond. */
	const uint64_t times[] = {0, 951782400123ull, 253402300799999ull, 253402300800000ull};

	for (size_t i = 0; i < 16; i++) {
		struct gw_jw w = {0};

		n.uuid[i] = (uint8_t)(i * 17 + 3);
		n.features = (uint16_t)i;
		n.excluded = i & 1;
		n.created_ms = times[i % 4];
		n.updated_ms = times[(i + 1) % 4];
		gw_node_print(&w, &n);
		assert_as_jansson(&w, gw_node_json(&n));
	}
}
