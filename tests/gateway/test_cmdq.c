#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "gateway/cmdq.h"

struct client {
	struct gw_cmdq *q;
	int base;
	int status[50];
	json_int_t value[50];
	atomic_int *finished;
};

/* An HTTP-thread stand-in: pushes 50 commands one after another and waits for each. */
static void *client_main(void *arg)
{
	struct client *c = arg;
	int i;

	for (i = 0; i < 50; i++) {
		struct gw_cmd *cmd = gw_cmd_new(1, json_pack("{s:i}", "n", c->base + i), "t");

		gw_cmdq_push(c->q, cmd);
		c->status[i] = gw_cmd_wait(c->q, cmd, 10000);
		c->value[i] = json_integer_value(json_object_get(cmd->result, "twice"));
		gw_cmd_put(cmd);
	}
	atomic_fetch_add(c->finished, 1);
	return NULL;
}

static void handle_double(struct gw_cmd *cmd, void *ctx)
{
	struct gw_cmdq *q = ctx;
	json_int_t n = json_integer_value(json_object_get(cmd->args, "n"));

	gw_cmd_complete(q, cmd, 0, json_pack("{s:I}", "twice", 2 * n), NULL);
}

/* Two threads' commands all reach the loop side and every reply reaches its own waiter. */
Test(cmdq, two_threads_round_trip)
{
	struct gw_cmdq *q = gw_cmdq_new();
	atomic_int finished = 0;
	struct client a = {.q = q, .base = 0, .finished = &finished};
	struct client b = {.q = q, .base = 1000, .finished = &finished};
	pthread_t ta, tb;
	int i;

	pthread_create(&ta, NULL, client_main, &a);
	pthread_create(&tb, NULL, client_main, &b);
	while (atomic_load(&finished) < 2) {
		struct pollfd pfd = {.fd = gw_cmdq_fd(q), .events = POLLIN};

		if (poll(&pfd, 1, 100) > 0) {
			gw_cmdq_drain(q, handle_double, q);
		}
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	for (i = 0; i < 50; i++) {
		cr_assert_eq(a.status[i], 0);
		cr_assert_eq(a.value[i], 2 * i);
		cr_assert_eq(b.value[i], 2 * (1000 + i));
	}
	gw_cmdq_free(q);
}

static struct gw_cmd *kept;

static void handle_keep(struct gw_cmd *cmd, void *ctx)
{
	(void)ctx;
	kept = cmd;
}

/* A waiter that times out gets -ETIMEDOUT; the late completion frees the command once. */
Test(cmdq, waiter_timeout_then_late_completion)
{
	struct gw_cmdq *q = gw_cmdq_new();
	struct gw_cmd *cmd = gw_cmd_new(7, NULL, NULL);

	gw_cmdq_push(q, cmd);
	gw_cmdq_drain(q, handle_keep, NULL);
	cr_assert_eq(kept, cmd);
	cr_assert_eq(gw_cmd_wait(q, cmd, 1), -ETIMEDOUT);
	gw_cmd_put(cmd);
	/* ASan would report a leak or a double free if the reference count were wrong. */
	gw_cmd_complete(q, kept, 0, json_string("late"), NULL);
	gw_cmdq_free(q);
}

/* Commands still queued at shutdown are completed with -ECANCELED. */
Test(cmdq, free_cancels_pending)
{
	struct gw_cmdq *q = gw_cmdq_new();
	struct gw_cmd *cmd = gw_cmd_new(3, json_object(), "who");

	gw_cmdq_push(q, cmd);
	gw_cmdq_free(q);
	cr_assert(cmd->done);
	cr_assert_eq(cmd->status, -ECANCELED);
	cr_assert_str_eq(cmd->who, "who");
	gw_cmd_put(cmd); /* the waiter's reference outlives the queue */
}

/* After close, queued and newly pushed commands complete at once with -ESHUTDOWN. */
Test(cmdq, close_completes_everything)
{
	struct gw_cmdq *q = gw_cmdq_new();
	struct gw_cmd *a = gw_cmd_new(1, NULL, NULL), *b = gw_cmd_new(2, NULL, NULL);

	gw_cmdq_push(q, a);
	gw_cmdq_close(q);
	cr_assert_eq(gw_cmd_wait(q, a, 1000), 0);
	cr_assert_eq(a->status, -ESHUTDOWN);
	cr_assert_eq(gw_cmdq_push(q, b), -ESHUTDOWN);
	cr_assert_eq(gw_cmd_wait(q, b, 1000), 0);
	cr_assert_eq(b->status, -ESHUTDOWN);
	gw_cmd_put(a);
	gw_cmd_put(b);
	gw_cmdq_free(q);
}

static void count_done(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

/*
 * A completion calls only its own command's callback, once; a command whose
 * waiter went away (gw_cmd_unwatch) calls nothing when completed later.
 */
Test(cmdq, on_done_only_for_its_command)
{
	struct gw_cmdq *q = gw_cmdq_new();
	struct gw_cmd *a = gw_cmd_new(1, NULL, NULL), *b = gw_cmd_new(2, NULL, NULL);
	struct gw_cmd *c = gw_cmd_new(3, NULL, NULL);
	atomic_int na = 0, nb = 0, nc = 0;

	gw_cmd_on_done(a, count_done, &na);
	gw_cmd_on_done(b, count_done, &nb);
	gw_cmd_on_done(c, count_done, &nc);
	gw_cmdq_push(q, a);
	gw_cmdq_push(q, b);
	gw_cmdq_drain(q, handle_keep, NULL); /* the loop takes a and b */
	gw_cmdq_push(q, c);                  /* c stays queued */
	gw_cmd_complete(q, a, 0, NULL, NULL);
	gw_cmd_complete(q, a, -EIO, NULL, NULL); /* a second completion is ignored */
	cr_assert_eq(atomic_load(&na), 1);
	cr_assert_eq(atomic_load(&nb), 0);
	cr_assert_eq(gw_cmd_unwatch(q, a), true);
	cr_assert_eq(gw_cmd_unwatch(q, b), false);
	gw_cmd_complete(q, b, 0, NULL, NULL);
	cr_assert_eq(atomic_load(&nb), 0);
	cr_assert_eq(gw_cmd_wait(q, b, 0), 0);
	cr_assert_eq(gw_cmd_wait(q, c, 0), -ETIMEDOUT);
	gw_cmdq_close(q); /* completes c with -ESHUTDOWN: its callback runs */
	cr_assert_eq(atomic_load(&nc), 1);
	cr_assert_eq(c->status, -ESHUTDOWN);
	gw_cmd_put(a);
	gw_cmd_put(b);
	gw_cmd_put(c);
	gw_cmdq_free(q);
}
