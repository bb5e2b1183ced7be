/*
 * Reads answered on the worker thread (api_set_reads()): they need neither
 * the queue nor the loop, answer as the command would, and whatever the
 * reader declines still goes through the queue.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>

#include "tests/api/fixture.h"

static atomic_int served;

/* GET /api/v1/nodes/{address} only: address 99 does not exist. */
static int fake_serve(void *ctx, int cmd, const json_t *args, json_t **result, char *detail,
		      size_t cap)
{
	json_int_t a = json_integer_value(json_object_get(args, "address"));

	(void)ctx;
	if (cmd != GW_CMD_NODE_GET) {
		return -ENOSYS;
	}
	atomic_fetch_add(&served, 1);
	if (a == 99) {
		snprintf(detail, cap, "no node with this address");
		return -ENOENT;
	}
	*result = json_pack("{s:I, s:s}", "address", a, "name", "served-here");
	return 0;
}

static const struct api_read_ops reads = {NULL, fake_serve};

/* As meshgw runs http_read_path = direct: tokens checked inline, reads on the worker. */
static void direct_setup(void)
{
	struct api_conf conf = {.threads = 2};

	atomic_store(&served, 0);
	fx_read_ops = &reads;
	fx_start_auth(&conf, &fx_auth_sync);
	fx_read_ops = NULL;
}

TestSuite(http_reads, .init = direct_setup, .fini = fx_teardown);

/* Answered on the worker with the route's status; the loop never sees it. */
Test(http_reads, served_without_the_queue)
{
	struct http_resp r = fx_req("GET", "/api/v1/nodes/5", TOK_VIEWER, NULL);
	json_t *j = http_json(&r);

	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "served-here");
	cr_assert_eq(json_integer_value(json_object_get(j, "address")), 5);
	cr_assert_eq(atomic_load(&served), 1);
	cr_assert_eq(fx_ncmds(), 0);
	json_decref(j);
	http_resp_free(&r);
}

/* A reader's error is the problem the command's error would be. */
Test(http_reads, error_is_a_problem)
{
	struct http_resp r = fx_req("GET", "/api/v1/nodes/99", TOK_VIEWER, NULL);

	fx_assert_problem(&r, 404, "no node with this address");
	cr_assert_eq(fx_ncmds(), 0);
	http_resp_free(&r);
}

/* What the reader declines is queued; a refused token reaches neither. */
Test(http_reads, declined_goes_to_the_queue_and_tokens_come_first)
{
	struct http_resp r = fx_req("GET", "/api/v1/network", TOK_VIEWER, NULL);
	struct http_resp bad =
	    fx_req("GET", "/api/v1/nodes/5", "Authorization: Bearer nope\r\n", NULL);

	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_eq(fx_ncmds(), 1);
	cr_assert_eq(fx.types[0], GW_CMD_NETWORK_GET);
	fx_assert_problem(&bad, 401, "not valid");
	cr_assert_eq(atomic_load(&served), 0);
	http_resp_free(&r);
	http_resp_free(&bad);
}

/*
 * The loop is stuck (the fake loop blocks on fx.mtx, held here, as soon as it
 * takes the queued GET /api/v1/network): a node is still answered, the
 * queued request is not, and it is once the loop runs again.
 */
Test(http_reads, node_answered_while_the_loop_is_blocked)
{
	char buf[4096];
	size_t len = 0;
	struct http_resp r;
	int fd;

	pthread_mutex_lock(&fx.mtx);
	fd = http_stream_open(api_port(fx.api),
			      "GET /api/v1/network HTTP/1.1\r\nHost: x\r\n" TOK_VIEWER "\r\n");
	cr_assert_geq(fd, 0);
	r = fx_req("GET", "/api/v1/nodes/7", TOK_VIEWER, NULL);
	cr_assert_eq(r.status, 200, "%s", r.body);
	cr_assert_eq(http_stream_until(fd, buf, sizeof(buf), &len, "HTTP/1.1", 0), -1,
		     "the blocked loop answered: %s", buf);
	pthread_mutex_unlock(&fx.mtx);
	cr_assert_eq(http_stream_until(fd, buf, sizeof(buf), &len, "\r\n\r\n", FX_TIMEOUT), 0);
	cr_assert(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
	close(fd);
	http_resp_free(&r);
}
