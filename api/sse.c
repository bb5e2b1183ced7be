#include "api/api_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/*
 * Server-Sent Events hub (HTML Living Standard §9.2 "Server-sent events").
 *
 * Publishing formats an event once into a reference-counted text block and
 * appends it to a replay ring and to the bounded queue of every client.  A
 * stream holds no thread: when its content reader has nothing to send it
 * parks the connection (MHD_suspend_connection(), then returns 0 bytes), and
 * a publish, the keep-alive tick or the shutdown resumes it, after which
 * libmicrohttpd calls the reader again.  A slow client delays nobody: when
 * its queue is full the oldest event is dropped and the client is told with
 * an "overflow" event.
 *
 * Lock order: hub->mtx, then libmicrohttpd's own (taken inside
 * MHD_resume_connection()).  libmicrohttpd calls the reader with the
 * response's mutex held and never holds its connection mutex while it does.
 */

#define RING_LEN 64    /* events kept for Last-Event-ID replay */
#define CLIENT_QLEN 32 /* events queued per client before the oldest is dropped */

struct sse_event {
	atomic_int refs;
	uint64_t seq;
	size_t len;
	char text[];
};

struct sse_client {
	struct api_sse *hub;
	struct MHD_Connection *conn;
	struct sse_client *prev, *next;
	char who[64]; /* the token's principal, for the per-token cap */
	int fd;       /* the connection's socket, to notice a client gone while parked */
	bool parked;  /* the reader suspended the connection; resume it to send */
	bool gone;    /* the client closed its end: the reader ends the stream */
	struct sse_event *q[CLIENT_QLEN];
	unsigned head, count;
	uint64_t dropped;
	/* Output being copied out: an event, or a short line in note. */
	struct sse_event *cur;
	size_t cur_off;
	char note[96];
	size_t note_len, note_off;
	struct timespec keepalive_at;
};

struct api_sse {
	pthread_mutex_t mtx;
	uint64_t seq;
	struct sse_event *ring[RING_LEN];
	unsigned ring_head, ring_count;
	struct sse_client *clients;
	unsigned nclients;
	unsigned max_total, max_per_token;
	bool stopping;
	int keepalive_ms;
};

static void event_put(struct sse_event *ev)
{
	if (ev && atomic_fetch_sub(&ev->refs, 1) == 1) {
		free(ev);
	}
}

static struct sse_event *event_get(struct sse_event *ev)
{
	atomic_fetch_add(&ev->refs, 1);
	return ev;
}

struct api_sse *api_sse_new(int keepalive_ms, unsigned max_total, unsigned max_per_token)
{
	struct api_sse *hub = calloc(1, sizeof(*hub));

	if (!hub) {
		return NULL;
	}
	pthread_mutex_init(&hub->mtx, NULL);
	hub->keepalive_ms = keepalive_ms > 0 ? keepalive_ms : 15000;
	hub->max_total = max_total;
	hub->max_per_token = max_per_token;
	return hub;
}

void api_sse_free(struct api_sse *hub)
{
	unsigned i;

	if (!hub) {
		return;
	}
	for (i = 0; i < hub->ring_count; i++) {
		event_put(hub->ring[(hub->ring_head + i) % RING_LEN]);
	}
	pthread_mutex_destroy(&hub->mtx);
	free(hub);
}

/* Caller holds the lock.  Drops the oldest queued event when the queue is full. */
static void client_enqueue(struct sse_client *cl, struct sse_event *ev)
{
	if (cl->count == CLIENT_QLEN) {
		event_put(cl->q[cl->head]);
		cl->head = (cl->head + 1) % CLIENT_QLEN;
		cl->count--;
		cl->dropped++;
	}
	cl->q[(cl->head + cl->count) % CLIENT_QLEN] = event_get(ev);
	cl->count++;
}

/* Caller holds the lock: a parked stream has something to send (or must end). */
static void client_unpark(struct sse_client *cl)
{
	if (cl->parked) {
		cl->parked = false;
		MHD_resume_connection(cl->conn);
	}
}

static bool type_ok(const char *type)
{
	size_t n = type ? strlen(type) : 0;

	/* A newline would end the "event:" field early and inject another field. */
	return n > 0 && n < 64 && !strpbrk(type, "\r\n");
}

void api_sse_publish(struct api_sse *hub, const char *type, json_t *data)
{
	struct sse_event *ev;
	struct sse_client *cl;
	char *text;
	size_t cap;

	if (!type_ok(type)) {
		json_decref(data);
		return;
	}
	/* Compact JSON has no raw newlines (they are escaped), so one data line suffices. */
	text = data ? json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("{}");
	json_decref(data);
	if (!text) {
		return;
	}
	cap = strlen(text) + strlen(type) + 64;
	ev = malloc(sizeof(*ev) + cap);
	if (!ev) {
		free(text);
		return;
	}
	atomic_init(&ev->refs, 1);
	pthread_mutex_lock(&hub->mtx);
	ev->seq = ++hub->seq;
	ev->len = (size_t)snprintf(ev->text, cap, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n",
				   ev->seq, type, text);
	if (hub->ring_count == RING_LEN) {
		event_put(hub->ring[hub->ring_head]);
		hub->ring_head = (hub->ring_head + 1) % RING_LEN;
		hub->ring_count--;
	}
	hub->ring[(hub->ring_head + hub->ring_count) % RING_LEN] = event_get(ev);
	hub->ring_count++;
	for (cl = hub->clients; cl; cl = cl->next) {
		client_enqueue(cl, ev);
		client_unpark(cl);
	}
	pthread_mutex_unlock(&hub->mtx);
	event_put(ev);
	free(text);
}

static void set_keepalive(struct sse_client *cl)
{
	int ms = cl->hub->keepalive_ms;

	clock_gettime(CLOCK_MONOTONIC, &cl->keepalive_at);
	cl->keepalive_at.tv_sec += ms / 1000;
	cl->keepalive_at.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (cl->keepalive_at.tv_nsec >= 1000000000L) {
		cl->keepalive_at.tv_sec++;
		cl->keepalive_at.tv_nsec -= 1000000000L;
	}
}

static bool keepalive_due(const struct sse_client *cl, const struct timespec *now)
{
	return now->tv_sec > cl->keepalive_at.tv_sec ||
	       (now->tv_sec == cl->keepalive_at.tv_sec && now->tv_nsec >= cl->keepalive_at.tv_nsec);
}

static void set_note(struct sse_client *cl, const char *text)
{
	cl->note_len = (size_t)snprintf(cl->note, sizeof(cl->note), "%s", text);
	cl->note_off = 0;
}

/* Copies out pending output; caller holds the lock.  Returns bytes copied, 0 if none. */
static size_t drain_out(struct sse_client *cl, char *buf, size_t max)
{
	size_t n = 0;

	if (cl->note_off < cl->note_len) {
		n = cl->note_len - cl->note_off;
		n = n < max ? n : max;
		memcpy(buf, cl->note + cl->note_off, n);
		cl->note_off += n;
		return n;
	}
	if (cl->cur) {
		n = cl->cur->len - cl->cur_off;
		n = n < max ? n : max;
		memcpy(buf, cl->cur->text + cl->cur_off, n);
		cl->cur_off += n;
		if (cl->cur_off == cl->cur->len) {
			event_put(cl->cur);
			cl->cur = NULL;
		}
	}
	return n;
}

/*
 * libmicrohttpd content reader, on the connection's worker thread.  It never
 * waits: with nothing to send it parks the connection and returns 0.
 */
static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_client *cl = cls;
	struct api_sse *hub = cl->hub;
	struct timespec now;
	ssize_t ret;
	size_t n;

	(void)pos;
	pthread_mutex_lock(&hub->mtx);
	for (;;) {
		if (cl->gone) {
			ret = MHD_CONTENT_READER_END_WITH_ERROR;
			break;
		}
		n = drain_out(cl, buf, max);
		if (n) {
			ret = (ssize_t)n;
			break;
		}
		if (hub->stopping) {
			ret = MHD_CONTENT_READER_END_OF_STREAM;
			break;
		}
		if (cl->dropped) {
			/* No id line: the client's Last-Event-ID stays at what it really saw. */
			snprintf(cl->note, sizeof(cl->note),
				 "event: overflow\ndata: {\"dropped\":%" PRIu64 "}\n\n",
				 cl->dropped);
			cl->note_len = strlen(cl->note);
			cl->note_off = 0;
			cl->dropped = 0;
			continue;
		}
		if (cl->count) {
			cl->cur = cl->q[cl->head];
			cl->cur_off = 0;
			cl->head = (cl->head + 1) % CLIENT_QLEN;
			cl->count--;
			set_keepalive(cl);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (keepalive_due(cl, &now)) {
			/*
			 * A comment line keeps proxies from closing an idle stream, and
			 * writing it is how a stream closed by its client is noticed (a
			 * parked connection is not polled).
			 */
			set_note(cl, ": keep-alive\n\n");
			set_keepalive(cl);
			continue;
		}
		cl->parked = true;
		MHD_suspend_connection(cl->conn);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&hub->mtx);
	return ret;
}

static void client_free(void *cls)
{
	struct sse_client *cl = cls;
	struct api_sse *hub = cl->hub;

	pthread_mutex_lock(&hub->mtx);
	if (cl->prev) {
		cl->prev->next = cl->next;
	} else {
		hub->clients = cl->next;
	}
	if (cl->next) {
		cl->next->prev = cl->prev;
	}
	hub->nclients--;
	pthread_mutex_unlock(&hub->mtx);
	while (cl->count) {
		event_put(cl->q[cl->head]);
		cl->head = (cl->head + 1) % CLIENT_QLEN;
		cl->count--;
	}
	event_put(cl->cur);
	free(cl);
}

/* Caller holds the lock.  0, or which cap a new stream of who would exceed. */
static int over_cap(const struct api_sse *hub, const char *who)
{
	const struct sse_client *cl;
	unsigned mine = 0;

	if (hub->max_total && hub->nclients >= hub->max_total) {
		return -EUSERS;
	}
	for (cl = hub->clients; cl && hub->max_per_token; cl = cl->next) {
		if (strcmp(cl->who, who) == 0 && ++mine >= hub->max_per_token) {
			return -EDQUOT;
		}
	}
	return 0;
}

struct MHD_Response *api_sse_response(struct api_sse *hub, struct MHD_Connection *conn,
				      const char *who, bool has_last, uint64_t last_id, int *err)
{
	struct sse_client *cl = calloc(1, sizeof(*cl));
	struct MHD_Response *resp;
	unsigned i;

	*err = -ENOMEM;
	if (!cl) {
		return NULL;
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	cl->hub = hub;
	cl->conn = conn;
	cl->fd = ci ? ci->connect_fd : -1;
	snprintf(cl->who, sizeof(cl->who), "%s", who);
	/* The first bytes tell the client the stream is live and how soon to reconnect. */
	set_note(cl, ": connected\nretry: 3000\n\n");
	set_keepalive(cl);
	pthread_mutex_lock(&hub->mtx);
	*err = over_cap(hub, cl->who);
	if (*err) {
		pthread_mutex_unlock(&hub->mtx);
		free(cl);
		return NULL;
	}
	/*
	 * 2 KiB of output buffer per stream: events longer than that go out in
	 * several reader calls, and a thousand idle streams cost 2 MiB.
	 */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 2048, reader, cl, client_free);
	if (!resp) {
		pthread_mutex_unlock(&hub->mtx);
		free(cl);
		*err = -ENOMEM;
		return NULL;
	}
	hub->nclients++;
	if (has_last) {
		/* Replay what is still in the ring; anything older is reported as dropped. */
		for (i = 0; i < hub->ring_count; i++) {
			struct sse_event *ev = hub->ring[(hub->ring_head + i) % RING_LEN];

			if (ev->seq > last_id) {
				if (i == 0 && ev->seq > last_id + 1) {
					cl->dropped += ev->seq - last_id - 1;
				}
				client_enqueue(cl, ev);
			}
		}
	}
	cl->next = hub->clients;
	if (cl->next) {
		cl->next->prev = cl;
	}
	hub->clients = cl;
	pthread_mutex_unlock(&hub->mtx);
	return resp;
}

/*
 * Whether the peer closed (or reset) the socket.  A client sends nothing on
 * an event stream after its request, so EOF is the only thing to read.
 */
static bool peer_gone(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void api_sse_tick(struct api_sse *hub, bool probe)
{
	struct sse_client *cl;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&hub->mtx);
	for (cl = hub->clients; cl; cl = cl->next) {
		if (!cl->parked) {
			continue;
		}
		/*
		 * A parked connection is not polled, so a closed stream would hold its
		 * slot under the caps until the next write; its socket stays open
		 * (libmicrohttpd does not close a suspended connection), so peeking
		 * at it is safe under the hub's lock.
		 */
		if (probe && cl->fd >= 0 && peer_gone(cl->fd)) {
			cl->gone = true;
		}
		if (cl->gone || keepalive_due(cl, &now)) {
			client_unpark(cl);
		}
	}
	pthread_mutex_unlock(&hub->mtx);
}

unsigned api_sse_clients(struct api_sse *hub)
{
	unsigned n;

	pthread_mutex_lock(&hub->mtx);
	n = hub->nclients;
	pthread_mutex_unlock(&hub->mtx);
	return n;
}

void api_sse_shutdown(struct api_sse *hub, bool stopping)
{
	struct sse_client *cl;

	pthread_mutex_lock(&hub->mtx);
	hub->stopping = stopping;
	for (cl = hub->clients; cl && stopping; cl = cl->next) {
		client_unpark(cl);
	}
	pthread_mutex_unlock(&hub->mtx);
}
