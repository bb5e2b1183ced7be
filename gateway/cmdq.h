/*
 * Command queue from libmicrohttpd's threads to the event-loop thread
 * (../shared/style.md §2.7; Redis module.c, libuv async.c).
 *
 * An HTTP thread builds a struct gw_cmd (type + a JSON copy of its
 * arguments), pushes it and waits on it with a deadline.  The loop thread is
 * woken through an eventfd, drains the whole queue (wake-ups coalesce) and
 * handles each command, completing it at once or later (for example when a
 * node's status message arrives).  Results are JSON values owned by the
 * command, never pointers into the stack's state.
 *
 * A command is reference counted: one reference for the waiter, one for the
 * loop.  Whoever drops the last reference frees it, so a waiter that gave up
 * after its deadline and a loop that completes late never race.
 *
 * A completion wakes only its own waiter: a blocking waiter sleeps on the
 * command's own condition variable, and an asynchronous one (the HTTP front
 * end, which suspends the connection instead of a thread) is called back
 * through gw_cmd_on_done().  A shared broadcast would wake every waiting
 * thread on every completion.
 */
#ifndef GW_CMDQ_H
#define GW_CMDQ_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct gw_cmdq;

struct gw_cmd {
	int type;     /* gateway-defined command type */
	json_t *args; /* owned by the command; may be NULL */
	char who[64]; /* the principal (token name) for the audit log */
	/* Set by gw_cmd_complete(): */
	int status;       /* 0 or negative errno */
	json_t *result;   /* owned by the command; may be NULL */
	char detail[256]; /* human-readable error detail */
	/* private */
	_Atomic int refs;
	bool done;
	bool waiting;        /* a gw_cmd_wait() sleeps on cond */
	pthread_cond_t cond; /* CLOCK_MONOTONIC; signalled by the completion */
	void (*on_done)(void *arg);
	void *done_arg;
	struct gw_cmd *next;
};

/* Returns a new queue (eventfd inside); free with gw_cmdq_free(). NULL on failure. */
struct gw_cmdq *gw_cmdq_new(void);
/* Frees the queue; pending commands are completed with -ECANCELED.  Accepts NULL. */
void gw_cmdq_free(struct gw_cmdq *q);
/* The eventfd the loop polls for EPOLLIN. Borrowed. */
int gw_cmdq_fd(const struct gw_cmdq *q);

/*
 * Returns a new command with two references (waiter + loop). Takes ownership
 * of args, even on failure.  NULL on allocation failure.
 */
struct gw_cmd *gw_cmd_new(int type, json_t *args, const char *who);

/*
 * Any thread: queue cmd for the loop (the queue takes the loop's reference).
 * After gw_cmdq_close() the command is completed at once with -ESHUTDOWN.
 */
int gw_cmdq_push(struct gw_cmdq *q, struct gw_cmd *cmd);

/*
 * Loop thread, at shutdown: complete every queued command and every later
 * push with -ESHUTDOWN, so no HTTP thread waits for a loop that is stopping.
 */
void gw_cmdq_close(struct gw_cmdq *q);

/*
 * Waiter thread: wait until the command is completed or timeout_ms elapses.
 * Returns 0 when completed (read status/result/detail, then gw_cmd_put()),
 * -ETIMEDOUT otherwise (still call gw_cmd_put()).
 */
int gw_cmd_wait(struct gw_cmdq *q, struct gw_cmd *cmd, int timeout_ms);

/*
 * Waiter, before gw_cmdq_push(): have on_done(arg) called once when cmd is
 * completed, instead of (or as well as) waiting in gw_cmd_wait().  on_done
 * runs on the completing thread (normally the loop) with the queue's lock
 * held: it must be short and must not call into the queue.
 */
void gw_cmd_on_done(struct gw_cmd *cmd, void (*on_done)(void *arg), void *arg);

/*
 * Waiter: cancel the on_done callback (the waiter is going away).  After
 * this returns the callback is not running and will not run.  Returns
 * whether cmd was completed.
 */
bool gw_cmd_unwatch(struct gw_cmdq *q, struct gw_cmd *cmd);

/*
 * Loop thread: take every queued command, oldest first, calling handle() on
 * each.  The handler owns the loop's reference: it must eventually call
 * gw_cmd_complete() on it (now or later).
 */
void gw_cmdq_drain(struct gw_cmdq *q, void (*handle)(struct gw_cmd *cmd, void *ctx), void *ctx);

/*
 * Loop thread: complete cmd (takes ownership of result, may be NULL) and
 * drop the loop's reference.  detail may be NULL.
 */
void gw_cmd_complete(struct gw_cmdq *q, struct gw_cmd *cmd, int status, json_t *result,
		     const char *detail);

/* Drop the caller's reference; frees the command with the last one. */
void gw_cmd_put(struct gw_cmd *cmd);

#endif
