#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "gateway/loop.h"

struct rec {
	int order[8];
	int n;
};

static void rec_timer(struct gw_loop *l, uint64_t id, void *ctx)
{
	struct rec *r = ctx;

	(void)l;
	r->order[r->n++] = (int)id;
}

/* Timers fire by deadline, and equal deadlines in the order they were added. */
Test(loop, timer_order_and_tie_break)
{
	struct gw_loop *l = gw_loop_new();
	struct rec r = {0};
	uint64_t now = gw_loop_now(l);
	uint64_t a = gw_loop_timer_at(l, now + 2, rec_timer, &r);
	uint64_t b = gw_loop_timer_at(l, now + 1, rec_timer, &r);
	uint64_t c = gw_loop_timer_at(l, now + 1, rec_timer, &r);

	while (r.n < 3) {
		cr_assert_eq(gw_loop_run_once(l, -1), 0);
	}
	cr_assert_eq(r.order[0], (int)b);
	cr_assert_eq(r.order[1], (int)c);
	cr_assert_eq(r.order[2], (int)a);
	gw_loop_free(l);
}

/* A cancelled timer never fires; cancelling twice reports -ENOENT. */
Test(loop, timer_cancel)
{
	struct gw_loop *l = gw_loop_new();
	struct rec r = {0};
	uint64_t now = gw_loop_now(l);
	uint64_t a = gw_loop_timer_at(l, now, rec_timer, &r);
	uint64_t b = gw_loop_timer_at(l, now, rec_timer, &r);

	cr_assert_eq(gw_loop_timer_cancel(l, a), 0);
	cr_assert_eq(gw_loop_timer_cancel(l, a), -ENOENT);
	while (r.n < 1) {
		gw_loop_run_once(l, -1);
	}
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.order[0], (int)b);
	gw_loop_free(l);
}

static void on_read(struct gw_loop *l, int fd, uint32_t ev, void *ctx)
{
	char c;

	cr_assert(ev & EPOLLIN);
	cr_assert_eq(read(fd, &c, 1), 1);
	*(char *)ctx = c;
	gw_loop_stop(l);
}

/* A readable fd calls its handler with the data, and run() returns after stop(). */
Test(loop, fd_handler)
{
	struct gw_loop *l = gw_loop_new();
	int p[2];
	char got = 0;

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(gw_loop_fd_add(l, p[0], EPOLLIN, on_read, &got), 0);
	cr_assert_eq(gw_loop_fd_add(l, p[0], EPOLLIN, on_read, &got), -EEXIST);
	cr_assert_eq(write(p[1], "x", 1), 1);
	cr_assert_eq(gw_loop_run(l), 0);
	cr_assert_eq(got, 'x');
	cr_assert_eq(gw_loop_fd_del(l, p[0]), 0);
	cr_assert_eq(gw_loop_fd_del(l, p[0]), -ENOENT);
	close(p[0]);
	close(p[1]);
	gw_loop_free(l);
}

static void on_sig(struct gw_loop *l, int signo, void *ctx)
{
	*(int *)ctx = signo;
	gw_loop_stop(l);
}

/* A signal is delivered through signalfd to its handler inside the loop. */
Test(loop, signal_through_loop)
{
	struct gw_loop *l = gw_loop_new();
	int got = 0;

	cr_assert_eq(gw_loop_signal(l, SIGUSR1, on_sig, &got), 0);
	cr_assert_eq(kill(getpid(), SIGUSR1), 0);
	cr_assert_eq(gw_loop_run(l), 0);
	cr_assert_eq(got, SIGUSR1);
	gw_loop_free(l);
}

static uint64_t fake_now;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

/* With a fake clock, timers fire when the test moves the clock, and run_once(0) never waits. */
Test(loop, fake_clock)
{
	struct gw_loop *l = gw_loop_new();
	struct rec r = {0};

	fake_now = 5000;
	gw_loop_set_clock(l, fake_clock, NULL);
	cr_assert_eq(gw_loop_now(l), 5000);
	(void)gw_loop_timer_at(l, 5000 + 60000, rec_timer, &r);
	cr_assert_eq(gw_loop_run_once(l, 0), 0);
	cr_assert_eq(r.n, 0);
	fake_now += 59999;
	cr_assert_eq(gw_loop_run_once(l, 0), 0);
	cr_assert_eq(r.n, 0);
	fake_now += 1;
	cr_assert_eq(gw_loop_run_once(l, 0), 0);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(gw_loop_now(l), 65000);
	gw_loop_free(l);
}
