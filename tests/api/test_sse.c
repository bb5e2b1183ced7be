#include <criterion/criterion.h>

#include "tests/api/fixture.h"

TestSuite(sse, .init = fx_setup, .fini = fx_teardown);

#define EV_REQ(tok, extra)                                                                         \
	"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" tok extra "\r\n"

/* A published event reaches a connected stream with its id, type and compact JSON data. */
Test(sse, publish_reaches_client)
{
	char buf[8192];
	size_t len = 0;
	int fd = http_stream_open(api_port(fx.api), EV_REQ(TOK_VIEWER, ""));

	cr_assert_geq(fd, 0);
	cr_assert_eq(http_stream_until(fd, buf, sizeof(buf), &len, ": connected", FX_TIMEOUT), 0,
		     "%s", buf);
	cr_assert_not_null(strstr(buf, "HTTP/1.1 200"));
	cr_assert_not_null(strstr(buf, "text/event-stream"));
	api_event_publish(fx.api, "node.added",
			  json_pack("{s:i, s:s}", "address", 2, "name", "a\nb"));
	cr_assert_eq(http_stream_until(
			 fd, buf, sizeof(buf), &len,
			 "id: 1\nevent: node.added\ndata: {\"address\":2,\"name\":\"a\\nb\"}\n\n",
			 FX_TIMEOUT),
		     0, "%s", buf);
	api_event_publish(fx.api, "scan.done", NULL);
	cr_assert_eq(http_stream_until(fd, buf, sizeof(buf), &len,
				       "id: 2\nevent: scan.done\ndata: {}\n\n", FX_TIMEOUT),
		     0, "%s", buf);
	close(fd);
	cr_assert_eq(fx_ncmds(), 0);
}

/* Last-Event-ID replays the events after it from the ring. */
Test(sse, last_event_id_replay)
{
	char buf[8192];
	size_t len = 0;
	int fd;

	for (int i = 0; i < 3; i++) {
		api_event_publish(fx.api, "tick", json_pack("{s:i}", "n", i));
	}
	fd = http_stream_open(api_port(fx.api), EV_REQ(TOK_VIEWER, "Last-Event-ID: 1\r\n"));
	cr_assert_eq(
	    http_stream_until(fd, buf, sizeof(buf), &len, "data: {\"n\":2}\n\n", FX_TIMEOUT), 0,
	    "%s", buf);
	cr_assert_null(strstr(buf, "id: 1\n"));
	cr_assert_not_null(strstr(buf, "id: 2\nevent: tick\ndata: {\"n\":1}\n\n"));
	close(fd);
}

/* Reads until needle appears, keeping only a sliding window of the stream. */
static int read_window_until(int fd, const char *needle)
{
	char buf[16384];
	size_t len = 0, keep = 128;

	for (;;) {
		if (http_stream_until(fd, buf, sizeof(buf), &len, needle, FX_TIMEOUT) == 0) {
			return 0;
		}
		if (len + 1 < sizeof(buf)) {
			return -1; /* timeout or closed, not a full window */
		}
		memmove(buf, buf + len - keep, keep);
		len = keep;
	}
}

/* A client that does not read loses the oldest events and is told with an overflow event. */
Test(sse, slow_client_overflow)
{
	char buf[8192];
	size_t len = 0;
	int fd = http_stream_open(api_port(fx.api), EV_REQ(TOK_VIEWER, ""));
	static char pad[65536];

	cr_assert_eq(http_stream_until(fd, buf, sizeof(buf), &len, ": connected", FX_TIMEOUT), 0);
	/*
	 * 600 events of 64 KiB (38 MB) exceed every socket buffer between the
	 * server and this unread socket, so the per-client queue must overflow.
	 */
	memset(pad, 'x', sizeof(pad) - 1);
	for (int i = 0; i < 600; i++) {
		api_event_publish(fx.api, "bulk", json_pack("{s:i, s:s}", "n", i, "pad", pad));
	}
	cr_assert_eq(read_window_until(fd, "event: overflow\ndata: {\"dropped\":"), 0);
	close(fd);
}

/* The stream needs a token like every API endpoint. */
Test(sse, needs_token)
{
	struct http_resp r = fx_req("GET", "/api/v1/events", NULL, NULL);

	fx_assert_problem(&r, 401, NULL);
	http_resp_free(&r);
}

/* Type names with line breaks would inject SSE fields; they are dropped. */
Test(sse, bad_type_dropped)
{
	char buf[8192];
	size_t len = 0;
	int fd = http_stream_open(api_port(fx.api), EV_REQ(TOK_VIEWER, ""));

	cr_assert_eq(http_stream_until(fd, buf, sizeof(buf), &len, ": connected", FX_TIMEOUT), 0);
	api_event_publish(fx.api, "evil\ndata: x", json_object());
	api_event_publish(fx.api, "good", json_object());
	cr_assert_eq(http_stream_until(fd, buf, sizeof(buf), &len, "event: good", FX_TIMEOUT), 0);
	cr_assert_null(strstr(buf, "evil"));
	cr_assert_not_null(strstr(buf, "id: 1\nevent: good"));
	close(fd);
}

static void capped_setup(void)
{
	struct api_conf conf = {.max_streams = 3, .max_streams_per_token = 2};

	fx_start(&conf);
}

TestSuite(sse_caps, .init = capped_setup, .fini = fx_teardown);

static int open_stream(const char *tok)
{
	char buf[4096];
	size_t len = 0;
	int fd = http_stream_open(api_port(fx.api), tok);

	cr_assert_geq(fd, 0);
	cr_assert_eq(http_stream_until(fd, buf, sizeof(buf), &len, ": connected", FX_TIMEOUT), 0,
		     "%s", buf);
	return fd;
}

static void assert_busy(const char *headers, const char *cap)
{
	struct http_resp r = fx_req("GET", "/api/v1/events", headers, NULL);
	char *retry = http_header(&r, "Retry-After");

	fx_assert_problem(&r, 503, cap);
	cr_assert_not_null(retry);
	cr_assert_gt(atoi(retry), 0);
	free(retry);
	http_resp_free(&r);
}

/*
 * Streams over the per-token cap, then over the total cap, are answered 503
 * with Retry-After and the cap's name; the streams already open keep
 * receiving events.
 */
Test(sse_caps, per_token_and_total)
{
	char buf[8192];
	size_t len = 0;
	int a = open_stream(EV_REQ(TOK_VIEWER, "")), b = open_stream(EV_REQ(TOK_VIEWER, ""));
	int c;

	assert_busy(TOK_VIEWER, "max_streams_per_token");
	c = open_stream(EV_REQ(TOK_OPERATOR, ""));
	assert_busy(TOK_ADMIN, "max_streams)");
	api_event_publish(fx.api, "tick", json_pack("{s:i}", "n", 7));
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? a : i == 1 ? b : c;

		len = 0;
		cr_assert_eq(http_stream_until(fd, buf, sizeof(buf), &len, "data: {\"n\":7}\n\n",
					       FX_TIMEOUT),
			     0, "stream %d: %s", i, buf);
	}
	close(a);
	close(b);
	close(c);
}

/*
 * A stream closed by its client gives its slot back without waiting for the
 * next keep-alive write: a new stream of the same token is accepted within
 * about a second (the reaper's probe), polled here with a deadline.
 */
Test(sse_caps, closed_stream_frees_its_slot)
{
	char buf[4096];
	int a = open_stream(EV_REQ(TOK_VIEWER, "")), b = open_stream(EV_REQ(TOK_VIEWER, ""));
	int fd = -1;

	assert_busy(TOK_VIEWER, "max_streams_per_token");
	close(a);
	for (int tries = 0; tries < FX_TIMEOUT / 50 && fd < 0; tries++) {
		size_t len = 0;

		fd = http_stream_open(api_port(fx.api), EV_REQ(TOK_VIEWER, ""));
		cr_assert_geq(fd, 0);
		if (http_stream_until(fd, buf, sizeof(buf), &len, "\r\n\r\n", FX_TIMEOUT) != 0 ||
		    !strstr(buf, "HTTP/1.1 200")) {
			cr_assert_not_null(strstr(buf, "HTTP/1.1 503"), "%s", buf);
			close(fd);
			fd = -1;
			poll(NULL, 0, 50); /* polling interval, not a wait for the result */
		}
	}
	cr_assert_geq(fd, 0, "the closed stream's slot was never given back");
	close(fd);
	close(b);
}
