#include "gateway/cmdq.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct gw_cmdq {
	int efd;
	/* One mutex guards the list and every command's done/result/on_done fields. */
	pthread_mutex_t mtx;
	struct gw_cmd *head, *tail;
	bool closed;
};

struct gw_cmdq *gw_cmdq_new(void)
{
	struct gw_cmdq *q = calloc(1, sizeof(*q));

	if (!q) {
		return NULL;
	}
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		free(q);
		return NULL;
	}
	pthread_mutex_init(&q->mtx, NULL);
	return q;
}

static void cmd_free(struct gw_cmd *c)
{
	json_decref(c->args);
	json_decref(c->result);
	pthread_cond_destroy(&c->cond);
	free(c);
}

void gw_cmdq_free(struct gw_cmdq *q)
{
	struct gw_cmd *c;

	if (!q) {
		return;
	}
	while ((c = q->head)) {
		q->head = c->next;
		c->next = NULL;
		gw_cmd_complete(q, c, -ECANCELED, NULL, "shutting down");
	}
	close(q->efd);
	pthread_mutex_destroy(&q->mtx);
	free(q);
}

int gw_cmdq_fd(const struct gw_cmdq *q)
{
	return q->efd;
}

struct gw_cmd *gw_cmd_new(int type, json_t *args, const char *who)
{
	struct gw_cmd *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;

	if (!c) {
		json_decref(args);
		return NULL;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	c->type = type;
	c->args = args;
	atomic_init(&c->refs, 2);
	snprintf(c->who, sizeof(c->who), "%s", who ? who : "system");
	return c;
}

int gw_cmdq_push(struct gw_cmdq *q, struct gw_cmd *c)
{
	uint64_t one = 1;
	bool was_empty;

	pthread_mutex_lock(&q->mtx);
	if (q->closed) {
		pthread_mutex_unlock(&q->mtx);
		gw_cmd_complete(q, c, -ESHUTDOWN, NULL, "the gateway is shutting down");
		return -ESHUTDOWN;
	}
	c->next = NULL;
	was_empty = q->head == NULL;
	if (q->tail) {
		q->tail->next = c;
	} else {
		q->head = c;
	}
	q->tail = c;
	pthread_mutex_unlock(&q->mtx);
	/* Wake-ups coalesce: only the first command of a batch writes. */
	if (was_empty && write(q->efd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		abort();
	}
	return 0;
}

void gw_cmdq_drain(struct gw_cmdq *q, void (*handle)(struct gw_cmd *cmd, void *ctx), void *ctx)
{
	uint64_t v;
	struct gw_cmd *list, *c;

	(void)!read(q->efd, &v, sizeof(v));
	pthread_mutex_lock(&q->mtx);
	list = q->head;
	q->head = q->tail = NULL;
	pthread_mutex_unlock(&q->mtx);
	/* Handlers run without the lock: they may push or complete commands. */
	while ((c = list)) {
		list = c->next;
		c->next = NULL;
		handle(c, ctx);
	}
}

void gw_cmdq_close(struct gw_cmdq *q)
{
	struct gw_cmd *list, *c;

	pthread_mutex_lock(&q->mtx);
	q->closed = true;
	list = q->head;
	q->head = q->tail = NULL;
	pthread_mutex_unlock(&q->mtx);
	while ((c = list)) {
		list = c->next;
		c->next = NULL;
		gw_cmd_complete(q, c, -ESHUTDOWN, NULL, "the gateway is shutting down");
	}
}

void gw_cmd_complete(struct gw_cmdq *q, struct gw_cmd *c, int status, json_t *result,
		     const char *detail)
{
	pthread_mutex_lock(&q->mtx);
	if (c->done) {
		pthread_mutex_unlock(&q->mtx);
		json_decref(result);
		return;
	}
	c->done = true;
	c->status = status;
	c->result = result;
	snprintf(c->detail, sizeof(c->detail), "%s", detail ? detail : "");
	if (c->waiting) {
		pthread_cond_signal(&c->cond);
	}
	if (c->on_done) {
		c->on_done(c->done_arg);
		c->on_done = NULL;
	}
	pthread_mutex_unlock(&q->mtx);
	gw_cmd_put(c);
}

int gw_cmd_wait(struct gw_cmdq *q, struct gw_cmd *c, int timeout_ms)
{
	struct timespec ts;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->mtx);
	c->waiting = true;
	while (!c->done && r == 0) {
		r = pthread_cond_timedwait(&c->cond, &q->mtx, &ts);
	}
	c->waiting = false;
	r = c->done ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&q->mtx);
	return r;
}

void gw_cmd_on_done(struct gw_cmd *c, void (*on_done)(void *arg), void *arg)
{
	/* Before the push: the loop cannot see the command yet, no lock needed. */
	c->on_done = on_done;
	c->done_arg = arg;
}

bool gw_cmd_unwatch(struct gw_cmdq *q, struct gw_cmd *c)
{
	bool done;

	pthread_mutex_lock(&q->mtx);
	c->on_done = NULL;
	done = c->done;
	pthread_mutex_unlock(&q->mtx);
	return done;
}

void gw_cmd_put(struct gw_cmd *c)
{
	if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
		cmd_free(c);
	}
}
