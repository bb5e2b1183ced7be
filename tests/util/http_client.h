/*
 * A tiny HTTP/1.1 client over a loopback TCP socket for the API tests (no
 * libcurl dependency).  Every read and write waits with poll() against a
 * deadline, so a hung server fails the test instead of hanging it.
 */
#ifndef TESTS_UTIL_HTTP_CLIENT_H
#define TESTS_UTIL_HTTP_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct http_resp {
	int status;    /* 0 when no status line arrived */
	char *headers; /* raw header block, NUL-terminated; free with http_resp_free() */
	char *body;    /* NUL-terminated (chunked bodies are decoded) */
	size_t body_len;
};

/*
 * Sends one request (with "Connection: close") and reads the whole response.
 * extra_headers: "Name: value\r\n" lines or NULL.  body may be NULL.
 * Returns 0, or -1 on a socket error or when timeout_ms passes.
 */
int http_request(uint16_t port, const char *method, const char *path, const char *extra_headers,
		 const char *body, size_t body_len, struct http_resp *out, int timeout_ms);

/* Sends raw bytes and reads the response as above (for malformed requests). */
int http_raw(uint16_t port, const char *raw, size_t raw_len, struct http_resp *out, int timeout_ms);

/* The value of header name (case-insensitive) in a new string, or NULL. */
char *http_header(const struct http_resp *r, const char *name);

/* The body parsed as JSON (new reference), or NULL. */
json_t *http_json(const struct http_resp *r);

void http_resp_free(struct http_resp *r);

/*
 * Streams: open a connection, send the request, and return the socket (or -1).
 * http_stream_until() reads into buf (capacity cap, NUL-terminated, appended at
 * *len) until needle appears or timeout_ms passes; returns 0 when found.
 */
int http_stream_open(uint16_t port, const char *request);
int http_stream_until(int fd, char *buf, size_t cap, size_t *len, const char *needle,
		      int timeout_ms);

#endif
