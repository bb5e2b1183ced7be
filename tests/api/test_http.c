#include <criterion/criterion.h>

#include "tests/api/fixture.h"

TestSuite(http, .init = fx_setup, .fini = fx_teardown);

/* A request without Authorization gets 401 problem+json with a Bearer challenge, and no command. */
Test(http, no_token_401)
{
	struct http_resp r = fx_req("GET", "/api/v1/network", NULL, NULL);
	char *www = http_header(&r, "WWW-Authenticate");

	fx_assert_problem(&r, 401, "bearer token");
	cr_assert_not_null(www);
	cr_assert_eq(strncmp(www, "Bearer", 6), 0);
	cr_assert_eq(fx_ncmds(), 0);
	free(www);
	http_resp_free(&r);
}

/* An unknown token and a non-bearer scheme both get 401; the verifier decides, not api/. */
Test(http, bad_token_401)
{
	struct http_resp r =
	    fx_req("GET", "/api/v1/network", "Authorization: Bearer nope\r\n", NULL);
	char *www = http_header(&r, "WWW-Authenticate");

	fx_assert_problem(&r, 401, "not valid");
	cr_assert_not_null(strstr(www, "invalid_token"));
	free(www);
	http_resp_free(&r);
	r = fx_req("GET", "/api/v1/network", "Authorization: Basic dXNlcjpwYXNz\r\n", NULL);
	fx_assert_problem(&r, 401, NULL);
	http_resp_free(&r);
	cr_assert_eq(fx_ncmds(), 0);
}

/* A viewer may read: 200 with the core's body, and the command carries the principal name. */
Test(http, viewer_get_200)
{
	struct http_resp r = fx_req("GET", "/api/v1/nodes/0x0010", TOK_VIEWER, NULL);
	json_t *j = http_json(&r);

	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_eq(json_integer_value(json_object_get(j, "address")), 16);
	cr_assert_eq(fx_ncmds(), 1);
	cr_assert_eq(fx.types[0], GW_CMD_NODE_GET);
	cr_assert_str_eq(fx.args[0], "{\"address\":16}");
	cr_assert_str_eq(fx.who[0], "alice");
	json_decref(j);
	http_resp_free(&r);
}

/* A viewer on a write gets 403 and the core sees nothing; an operator passes. */
Test(http, viewer_write_403)
{
	struct http_resp r =
	    fx_req("POST", "/api/v1/onoff", TOK_VIEWER JSON_CT, "{\"address\":5,\"on\":true}");

	fx_assert_problem(&r, 403, "operator");
	http_resp_free(&r);
	cr_assert_eq(fx_ncmds(), 0);
	r = fx_req("POST", "/api/v1/onoff", TOK_OPERATOR JSON_CT, "{\"address\":5,\"on\":true}");
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_eq(fx_ncmds(), 1);
	/* The default for ack is filled in before the command is built. */
	cr_assert_str_eq(fx.args[0], "{\"ack\":true,\"address\":5,\"on\":true}");
	http_resp_free(&r);
}

/* Key creation and export need admin; an operator is refused both. */
Test(http, admin_only_403)
{
	struct http_resp r =
	    fx_req("POST", "/api/v1/keys/app", TOK_OPERATOR JSON_CT, "{\"net_index\":0}");

	fx_assert_problem(&r, 403, "admin");
	http_resp_free(&r);
	r = fx_req("GET", "/api/v1/keys/net?export=true", TOK_OPERATOR, NULL);
	fx_assert_problem(&r, 403, "admin");
	http_resp_free(&r);
	cr_assert_eq(fx_ncmds(), 0);
	r = fx_req("GET", "/api/v1/keys/net?export=true", TOK_ADMIN, NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(fx.args[0], "{\"export\":true}");
	http_resp_free(&r);
}

/* /healthz needs no token. */
Test(http, healthz_open)
{
	struct http_resp r = fx_req("GET", "/healthz", NULL, NULL);
	json_t *j = http_json(&r);

	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(json_string_value(json_object_get(j, "status")), "ok");
	cr_assert_str_eq(fx.who[0], "system");
	json_decref(j);
	http_resp_free(&r);
}

struct bad_case {
	const char *method, *path, *body, *needle;
};

/* Every class of malformed input gets 400 problem+json naming the field, and nothing reaches the
 * core. */
Test(http, malformed_inputs_400)
{
	static const struct bad_case cases[] = {
	    {"POST", "/api/v1/onoff", "{\"address\":5,", "malformed JSON"},
	    {"POST", "/api/v1/onoff", "[1,2]", "expected an object"},
	    {"POST", "/api/v1/onoff", "{\"address\":\"5\",\"on\":true}",
	     "address: expected an integer"},
	    {"POST", "/api/v1/onoff", "{\"address\":0,\"on\":true}", "address: 0 is out of range"},
	    {"POST", "/api/v1/onoff", "{\"address\":70000,\"on\":true}",
	     "address: 70000 is out of range"},
	    {"POST", "/api/v1/onoff", "{\"address\":5}", "on: required field missing"},
	    {"POST", "/api/v1/onoff", "{\"address\":5,\"on\":true,\"colour\":1}",
	     "colour: unknown field"},
	    {"POST", "/api/v1/onoff", "{\"address\":5,\"on\":true,\"on\":false}", "malformed JSON"},
	    {"POST", "/api/v1/onoff", "{\"address\":5.5,\"on\":true}",
	     "address: expected an integer"},
	    {"POST", "/api/v1/provisioning",
	     "{\"devices\":[{\"uuid\":\"00112233445566778899aabbccddeeff\",\"auth\":{\"method\":"
	     "\"none\"}},"
	     "{\"uuid\":\"00112233445566778899aabbccddeefe\",\"auth\":{\"method\":\"none\"}},"
	     "{\"uuid\":\"00112233445566778899aabbccddeefd\",\"auth\":{\"method\":\"static\","
	     "\"static_oob\":\"abc\"}}]}",
	     "devices[2].auth.static_oob: expected 32 or 64 hex digits"},
	    {"POST", "/api/v1/provisioning",
	     "{\"devices\":[{\"uuid\":\"0011\",\"auth\":{\"method\":\"none\"}}]}",
	     "devices[0].uuid"},
	    {"POST", "/api/v1/provisioning",
	     "{\"devices\":[{\"uuid\":\"00112233445566778899aabbccddeeff\",\"auth\":{\"method\":"
	     "\"output\",\"action\":\"push\",\"size\":4}}]}",
	     "devices[0].auth.action: unknown value"},
	    {"POST", "/api/v1/provisioning", "{\"devices\":[]}", "devices: expected 1 to 32 items"},
	    {"POST", "/api/v1/nodes/2/config",
	     "{\"op\":\"bind\",\"element\":0,\"model\":\"x\",\"app_index\":0}",
	     "model: expected an integer or an object"},
	    {"POST", "/api/v1/nodes/2/config", "{\"op\":\"frobnicate\"}", "op: unknown value"},
	    {"POST", "/api/v1/nodes/2/config", "{\"op\":\"default_ttl_set\",\"ttl\":128}",
	     "ttl: 128 is out of range"},
	    {"POST", "/api/v1/nodes/2/config", "{\"op\":\"relay_get\",\"enabled\":true}",
	     "enabled: unknown field"},
	    {"GET", "/api/v1/nodes/0x1ffff", NULL, "address: expected a 16-bit address"},
	    {"GET", "/api/v1/nodes/lamp", NULL, "address: expected a 16-bit address"},
	    {"GET", "/api/v1/nodes/2/composition/256", NULL, "page: expected"},
	    {"GET", "/api/v1/provisioning/a.b", NULL, "id: expected"},
	    {"GET", "/api/v1/nodes?limit=0", NULL, "query.limit: 0 is out of range"},
	    {"GET", "/api/v1/nodes?limit=ten", NULL, "query.limit: expected an integer"},
	    {"GET", "/api/v1/nodes?colour=red", NULL, "query.colour: unknown query parameter"},
	    {"GET", "/api/v1/nodes?excluded=yes", NULL, "query.excluded: expected true or false"},
	    {"GET", "/api/v1/nodes?limit=1&limit=2", NULL, "given more than once"},
	    {"DELETE", "/api/v1/scans/current", "{}", "takes no request body"},
	    {"POST", "/api/v1/tokens", "{\"name\":\"a b\",\"role\":\"admin\"}",
	     "name: only letters"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_resp r =
		    fx_req(cases[i].method, cases[i].path, TOK_ADMIN JSON_CT, cases[i].body);

		cr_log_info("case %zu: %s", i, r.body);
		fx_assert_problem(&r, 400, cases[i].needle);
		http_resp_free(&r);
	}
	cr_assert_eq(fx_ncmds(), 0);
}

/*
 * Zone bodies: name 1..63 characters, the zone of a node an id >= 1 or null; everything else is
 * a 400 naming the field and reaches no core.  A viewer may read zones but not write them.
 */
Test(http, zone_bodies_checked)
{
	static const struct bad_case cases[] = {
	    {"POST", "/api/v1/zones", "{}", "name: required field missing"},
	    {"POST", "/api/v1/zones", "{\"name\":\"\"}", "name: expected 1 to 63"},
	    {"POST", "/api/v1/zones",
	     "{\"name\":\"0123456789012345678901234567890123456789012345678901234567890123\"}",
	     "name: expected 1 to 63"},
	    {"POST", "/api/v1/zones", "{\"name\":7}", "name: expected a string"},
	    {"POST", "/api/v1/zones", "{\"name\":\"a\",\"group\":49152}", "group: unknown field"},
	    {"POST", "/api/v1/zones", "{\"name\":\"a\"", "malformed JSON"},
	    {"PATCH", "/api/v1/zones/1", "{\"name\":null}", "name: expected a string"},
	    {"GET", "/api/v1/zones/a.b", NULL, "id: expected"},
	    {"PUT", "/api/v1/nodes/2/zone", "{}", "zone: required field missing"},
	    {"PUT", "/api/v1/nodes/2/zone", "{\"zone\":0}", "zone: 0 is out of range"},
	    {"PUT", "/api/v1/nodes/2/zone", "{\"zone\":-1}", "zone: -1 is out of range"},
	    {"PUT", "/api/v1/nodes/2/zone", "{\"zone\":2147483648}",
	     "zone: 2147483648 is out of range"},
	    {"PUT", "/api/v1/nodes/2/zone", "{\"zone\":\"hall\"}", "zone: expected an integer"},
	    {"PUT", "/api/v1/nodes/2/zone", "{\"zone\":1.5}", "zone: expected an integer"},
	    {"PUT", "/api/v1/nodes/lamp/zone", "{\"zone\":1}", "address: expected a 16-bit"},
	};
	struct http_resp r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = fx_req(cases[i].method, cases[i].path, TOK_ADMIN JSON_CT, cases[i].body);
		cr_log_info("case %zu: %s", i, r.body);
		fx_assert_problem(&r, 400, cases[i].needle);
		http_resp_free(&r);
	}
	cr_assert_eq(fx_ncmds(), 0);

	r = fx_req("POST", "/api/v1/zones", TOK_VIEWER JSON_CT, "{\"name\":\"hall\"}");
	fx_assert_problem(&r, 403, "operator");
	http_resp_free(&r);
	r = fx_req("PUT", "/api/v1/nodes/2/zone", TOK_VIEWER JSON_CT, "{\"zone\":null}");
	fx_assert_problem(&r, 403, "operator");
	http_resp_free(&r);
	cr_assert_eq(fx_ncmds(), 0);

	r = fx_req("PUT", "/api/v1/nodes/0x0002/zone", TOK_OPERATOR JSON_CT, "{\"zone\":null}");
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_eq(fx.types[0], GW_CMD_NODE_ZONE);
	cr_assert_str_eq(fx.args[0], "{\"address\":2,\"zone\":null}");
	http_resp_free(&r);
	r = fx_req("POST", "/api/v1/zones", TOK_OPERATOR JSON_CT, "{\"name\":\"Hall 2\"}");
	cr_assert_eq(r.status, 201, "%s", r.body);
	cr_assert_eq(fx.types[1], GW_CMD_ZONE_CREATE);
	cr_assert_str_eq(fx.args[1], "{\"name\":\"Hall 2\"}");
	http_resp_free(&r);
}

/* A valid provisioning request reaches the core normalised (UUID lower-cased, no dashes, defaults).
 */
Test(http, provisioning_normalised)
{
	struct http_resp r = fx_req(
	    "POST", "/api/v1/provisioning", TOK_OPERATOR JSON_CT,
	    "{\"devices\":[{\"uuid\":\"00112233-4455-6677-8899-AABBCCDDEEFF\",\"auth\":{\"method\":"
	    "\"static\",\"static_oob\":\"00112233445566778899AABBCCDDEEFF\"}}]}");

	cr_assert_eq(r.status, 202, "%s", r.body);
	cr_assert_eq(fx.types[0], GW_CMD_PROV_START);
	cr_assert_str_eq(fx.args[0],
			 "{\"algorithm\":\"auto\",\"devices\":[{\"auth\":{\"method\":\"static\","
			 "\"static_oob\":\"00112233445566778899aabbccddeeff\"},\"uuid\":"
			 "\"00112233445566778899aabbccddeeff\"}]}");
	http_resp_free(&r);
}

/* A body over the limit gets 413 problem+json naming the limit, whether announced by
 * Content-Length or not. */
Test(http, oversize_413)
{
	size_t n = 70 * 1024;
	char *big = malloc(n + 1);
	struct http_resp r;
	char head[256];

	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	r = fx_req("POST", "/api/v1/onoff", TOK_OPERATOR JSON_CT, big);
	fx_assert_problem(&r, 413, "over the limit of 65536 bytes");
	http_resp_free(&r);

	/* Chunked: no Content-Length, so the limit trips while the body is read. */
	snprintf(
	    head, sizeof(head),
	    "POST /api/v1/onoff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" TOK_OPERATOR JSON_CT
	    "Transfer-Encoding: chunked\r\n\r\n%zx\r\n",
	    n);
	{
		size_t hl = strlen(head);
		char *raw = malloc(hl + n + 16);

		memcpy(raw, head, hl);
		memcpy(raw + hl, big, n);
		memcpy(raw + hl + n, "\r\n0\r\n\r\n", 8);
		cr_assert_eq(http_raw(api_port(fx.api), raw, hl + n + 7, &r, FX_TIMEOUT), 0);
		free(raw);
	}
	fx_assert_problem(&r, 413, "over the limit of 65536 bytes");
	http_resp_free(&r);
	free(big);
	cr_assert_eq(fx_ncmds(), 0);
}

/* A JSON body with another media type is refused with 415. */
Test(http, wrong_media_type_415)
{
	struct http_resp r =
	    fx_req("POST", "/api/v1/onoff", TOK_OPERATOR "Content-Type: text/plain\r\n",
		   "{\"address\":5,\"on\":true}");

	fx_assert_problem(&r, 415, "application/json");
	http_resp_free(&r);
	cr_assert_eq(fx_ncmds(), 0);
}

/* Unknown API paths get 404, known paths with another method 405 with Allow. */
Test(http, unknown_route_404_and_wrong_method_405)
{
	struct http_resp r = fx_req("GET", "/api/v1/lights", TOK_VIEWER, NULL);
	char *allow;

	fx_assert_problem(&r, 404, "/api/v1/lights");
	http_resp_free(&r);
	r = fx_req("PUT", "/api/v1/nodes/5", TOK_VIEWER, NULL);
	fx_assert_problem(&r, 405, NULL);
	allow = http_header(&r, "Allow");
	cr_assert_str_eq(allow, "GET, PATCH, DELETE");
	free(allow);
	http_resp_free(&r);
	cr_assert_eq(fx_ncmds(), 0);
}

/* The core's errno becomes the mapped status with its detail sentence. */
Test(http, core_error_mapped)
{
	struct http_resp r;

	fx.fail_type = GW_CMD_NODE_GET;
	fx.fail_errno = -ENOENT;
	r = fx_req("GET", "/api/v1/nodes/9", TOK_VIEWER, NULL);
	fx_assert_problem(&r, 404, "canned failure");
	http_resp_free(&r);
	fx.fail_errno = -EBUSY;
	r = fx_req("GET", "/api/v1/nodes/9", TOK_VIEWER, NULL);
	fx_assert_problem(&r, 409, "canned failure");
	http_resp_free(&r);
}

/* A result's _http_status sets the status (202) and is removed from the body. */
Test(http, accepted_202_passthrough)
{
	struct http_resp r = fx_req("POST", "/api/v1/scans", TOK_OPERATOR, NULL);
	json_t *j = http_json(&r);

	cr_assert_eq(r.status, 202, "%s", r.body);
	cr_assert_null(json_object_get(j, "_http_status"));
	cr_assert_eq(json_integer_value(json_object_get(j, "duration_s")), 30);
	cr_assert_str_eq(fx.args[0], "{\"duration_s\":30,\"remote\":false}");
	json_decref(j);
	http_resp_free(&r);
}

static void short_timeout_setup(void)
{
	struct api_conf conf = {.cmd_timeout_ms = 300};

	fx_start(&conf);
	fx.hang_type = GW_CMD_NETWORK_GET;
}

TestSuite(http_timeout, .init = short_timeout_setup, .fini = fx_teardown);

/* A command the core never completes is answered 504 after the configured timeout. */
Test(http_timeout, core_timeout_504)
{
	struct http_resp r = fx_req("GET", "/api/v1/network", TOK_VIEWER, NULL);

	fx_assert_problem(&r, 504, "did not answer");
	cr_assert_eq(fx_ncmds(), 1);
	http_resp_free(&r);
}

static void io_timeout_setup(void)
{
	struct api_conf conf = {.io_timeout_s = 1};

	fx_start(&conf);
}

TestSuite(http_io_timeout, .init = io_timeout_setup, .fini = fx_teardown);

/*
 * Headers trickling in (a line every 200 ms, so the connection is never idle
 * for io_timeout_s) are cut off once they have taken io_timeout_s in all; a
 * request sent at once on another connection meanwhile is answered.
 */
Test(http_io_timeout, slow_headers_cut_off)
{
	int fd = http_stream_open(api_port(fx.api), "GET /healthz HTTP/1.1\r\nHost: x\r\n");
	struct pollfd p = {.fd = fd, .events = POLLIN};
	struct timespec t0, t1;
	struct http_resp r;
	bool closed = false;
	char b[256];
	int lines;

	cr_assert_geq(fd, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = fx_req("GET", "/healthz", NULL, NULL);
	cr_assert_eq(r.status, 200);
	http_resp_free(&r);
	/* Poll's timeout paces the header lines; the loop ends when the server closes. */
	for (lines = 0; lines < 50 && !closed; lines++) {
		if (poll(&p, 1, 200) == 1) {
			ssize_t n = read(fd, b, sizeof(b));

			closed = n <= 0;
			cr_assert(closed, "answered before the headers ended: %.*s", (int)n, b);
		} else {
			(void)!write(fd, "X-Slow: 1\r\n", 11);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert(closed, "the slow headers were never cut off");
	cr_assert_geq((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 900,
		      "cut off before io_timeout_s");
	close(fd);
}

static void sync_auth_setup(void)
{
	struct api_conf conf = {0};

	fx_start_auth(&conf, &fx_auth_sync);
}

TestSuite(http_sync_auth, .init = sync_auth_setup, .fini = fx_teardown);

/* An embedder with only the blocking verify(): tokens are still checked. */
Test(http_sync_auth, verify_called_inline)
{
	struct http_resp r = fx_req("GET", "/api/v1/network", TOK_VIEWER, NULL);
	struct http_resp bad =
	    fx_req("GET", "/api/v1/network", "Authorization: Bearer nope\r\n", NULL);

	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_eq(fx_ncmds(), 1);
	cr_assert_str_eq(fx.who[0], "alice");
	fx_assert_problem(&bad, 401, "not valid");
	cr_assert_eq(fx_ncmds(), 1);
	http_resp_free(&r);
	http_resp_free(&bad);
}

/* Commands the fake loop holds unanswered, once there is one (or FX_TIMEOUT passed). */
static int wait_hung(void)
{
	int n = 0;

	for (int i = 0; i < FX_TIMEOUT / 10 && n == 0; i++) {
		pthread_mutex_lock(&fx.mtx);
		n = fx.nhung;
		pthread_mutex_unlock(&fx.mtx);
		if (n == 0) {
			poll(NULL, 0, 10); /* polling interval while the request reaches the loop */
		}
	}
	return n;
}

static void one_thread_setup(void)
{
	struct api_conf conf = {.threads = 1};

	fx_start(&conf);
	fx.hang_auth = true;
}

TestSuite(http_one_thread, .init = one_thread_setup, .fini = fx_teardown);

/*
 * With a single worker thread, a request whose token check the loop never
 * answers holds a suspended connection, not the thread: /healthz is still
 * answered.  (A blocking verify() would hold the only worker.)
 */
Test(http_one_thread, waiting_request_holds_no_thread)
{
	int fd = http_stream_open(api_port(fx.api),
				  "GET /api/v1/network HTTP/1.1\r\nHost: x\r\n" TOK_VIEWER "\r\n");
	struct http_resp r;
	int n;

	cr_assert_geq(fd, 0);
	n = wait_hung();
	cr_assert_eq(n, 1, "the token check never reached the loop");
	r = fx_req("GET", "/healthz", NULL, NULL);
	cr_assert_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	close(fd);
}

static void small_caps_setup(void)
{
	struct api_conf conf = {.threads = 1, .max_connections = 16, .max_pending = 1};

	fx_start(&conf);
	fx.hang_type = GW_CMD_NETWORK_GET;
}

TestSuite(http_caps, .init = small_caps_setup, .fini = fx_teardown);

/* Asserts a 503 naming cap, with Retry-After; returns whether it closes the connection. */
static bool assert_503(struct http_resp *r, const char *cap)
{
	char *retry = http_header(r, "Retry-After");
	char *conn = http_header(r, "Connection");
	bool closes = conn && strcasecmp(conn, "close") == 0;

	fx_assert_problem(r, 503, cap);
	cr_assert_not_null(retry);
	cr_assert_gt(atoi(retry), 0);
	free(retry);
	free(conn);
	return closes;
}

/* With max_pending requests waiting for the core, the next one is answered 503 at once. */
Test(http_caps, max_pending_503)
{
	int fd = http_stream_open(api_port(fx.api),
				  "GET /api/v1/network HTTP/1.1\r\nHost: x\r\n" TOK_VIEWER "\r\n");
	struct http_resp r;
	int n;

	cr_assert_geq(fd, 0);
	n = wait_hung();
	cr_assert_eq(n, 1);
	r = fx_req("GET", "/api/v1/nodes/2", TOK_VIEWER, NULL);
	assert_503(&r, "max_pending");
	http_resp_free(&r);
	close(fd);
}

/*
 * Past 7/8 of max_connections, a request is answered 503 and its connection
 * closed, rather than the connection being reset at the cap.
 */
Test(http_caps, near_connection_cap_503)
{
	int fds[14];
	struct http_resp r;

	/* 14 idle connections (7/8 of 16); one worker accepts them in order. */
	for (int i = 0; i < 14; i++) {
		fds[i] = http_stream_open(api_port(fx.api), "");
		cr_assert_geq(fds[i], 0);
	}
	r = fx_req("GET", "/healthz", NULL, NULL);
	cr_assert(assert_503(&r, "max_connections"), "the 503 does not close the connection");
	http_resp_free(&r);
	for (int i = 0; i < 14; i++) {
		close(fds[i]);
	}
}
