#include "tests/util/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short ev, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = ev};
	long long left = deadline - now_ms();
	int r;

	if (left <= 0) {
		return -1;
	}
	do {
		r = poll(&p, 1, (int)left);
	} while (r < 0 && errno == EINTR);
	return r == 1 ? 0 : -1;
}

static int connect_lo(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -1;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n, long long deadline)
{
	while (n) {
		ssize_t w;

		if (wait_fd(fd, POLLOUT, deadline)) {
			return -1;
		}
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			/* The server may answer early (413) and close: keep what it sent. */
			return errno == EPIPE || errno == ECONNRESET ? 0 : -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Decodes a chunked body in place; returns the decoded length or -1. */
static long dechunk(char *b, size_t n)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *end;
		unsigned long sz = strtoul(b + in, &end, 16);
		char *crlf = strstr(b + in, "\r\n");

		if (!crlf || end == b + in) {
			return -1;
		}
		in = (size_t)(crlf - b) + 2;
		if (sz == 0) {
			return (long)out;
		}
		if (in + sz + 2 > n) {
			return -1;
		}
		memmove(b + out, b + in, sz);
		out += sz;
		in += sz + 2;
	}
}

static int parse(char *buf, size_t len, struct http_resp *out)
{
	char *hdr_end = strstr(buf, "\r\n\r\n");
	size_t hlen;
	char *te;

	memset(out, 0, sizeof(*out));
	if (!hdr_end || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
		return -1;
	}
	hlen = (size_t)(hdr_end - buf) + 2;
	out->headers = strndup(buf, hlen);
	out->body_len = len - hlen - 2;
	out->body = malloc(out->body_len + 1);
	memcpy(out->body, hdr_end + 4, out->body_len);
	out->body[out->body_len] = '\0';
	te = http_header(out, "Transfer-Encoding");
	if (te && strcasecmp(te, "chunked") == 0) {
		long n = dechunk(out->body, out->body_len);

		if (n < 0) {
			free(te);
			http_resp_free(out);
			return -1;
		}
		out->body_len = (size_t)n;
		out->body[n] = '\0';
	}
	free(te);
	return 0;
}

static int exchange(uint16_t port, const char *head, size_t head_len, const char *body,
		    size_t body_len, struct http_resp *out, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int fd = connect_lo(port), r = -1;

	if (fd < 0 || !buf) {
		goto out;
	}
	if (send_all(fd, head, head_len, deadline) ||
	    (body && send_all(fd, body, body_len, deadline))) {
		goto out;
	}
	/* Connection: close, so the response ends when the server closes. */
	for (;;) {
		ssize_t n;

		if (len + 1024 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		if (wait_fd(fd, POLLIN, deadline)) {
			goto out;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == ECONNRESET && len) {
			break;
		}
		if (n < 0) {
			goto out;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	r = parse(buf, len, out);
out:
	if (fd >= 0) {
		close(fd);
	}
	free(buf);
	return r;
}

int http_request(uint16_t port, const char *method, const char *path, const char *extra_headers,
		 const char *body, size_t body_len, struct http_resp *out, int timeout_ms)
{
	char head[4096];
	int n;

	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n%s", method,
		     path, port, extra_headers ? extra_headers : "");
	if (body) {
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n",
			      body_len);
	}
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if (n >= (int)sizeof(head)) {
		return -1;
	}
	return exchange(port, head, (size_t)n, body, body_len, out, timeout_ms);
}

int http_raw(uint16_t port, const char *raw, size_t raw_len, struct http_resp *out, int timeout_ms)
{
	return exchange(port, raw, raw_len, NULL, 0, out, timeout_ms);
}

char *http_header(const struct http_resp *r, const char *name)
{
	size_t n = strlen(name);
	const char *p = r->headers ? strstr(r->headers, "\r\n") : NULL;

	while (p && p[2]) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			const char *e = strstr(v, "\r\n");

			while (*v == ' ') {
				v++;
			}
			return strndup(v, e ? (size_t)(e - v) : strlen(v));
		}
		p = strstr(p, "\r\n");
	}
	return NULL;
}

json_t *http_json(const struct http_resp *r)
{
	return r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
}

void http_resp_free(struct http_resp *r)
{
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int http_stream_open(uint16_t port, const char *request)
{
	int fd = connect_lo(port);

	if (fd >= 0 && send_all(fd, request, strlen(request), now_ms() + 5000)) {
		close(fd);
		return -1;
	}
	return fd;
}

int http_stream_until(int fd, char *buf, size_t cap, size_t *len, const char *needle,
		      int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	buf[*len] = '\0';
	while (!strstr(buf, needle)) {
		ssize_t n;

		if (*len + 1 >= cap || wait_fd(fd, POLLIN, deadline)) {
			return -1;
		}
		n = recv(fd, buf + *len, cap - *len - 1, 0);
		if (n <= 0) {
			return -1;
		}
		*len += (size_t)n;
		buf[*len] = '\0';
	}
	return 0;
}
