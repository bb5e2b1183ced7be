/*
 * The daemon's event loop (../shared/style.md §2.7, after Redis ae.c and
 * libuv): epoll for file descriptors, a min-heap of timers with a sequence
 * tie-break (equal deadlines fire in the order they were added), signals
 * through signalfd so handlers run in the loop and never in signal context,
 * and a monotonic "now" cached once per iteration.
 *
 * Not thread-safe: every function must be called from the loop's thread,
 * except that other threads wake it through their own eventfd (gateway/cmdq).
 */
#ifndef GW_LOOP_H
#define GW_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct gw_loop;

/* events: EPOLLIN/EPOLLOUT bits as given to epoll. */
typedef void (*gw_fd_cb)(struct gw_loop *loop, int fd, uint32_t events, void *ctx);
typedef void (*gw_timer_cb)(struct gw_loop *loop, uint64_t id, void *ctx);
typedef void (*gw_signal_cb)(struct gw_loop *loop, int signo, void *ctx);

/* Returns a new loop; free with gw_loop_free().  NULL on failure (errno set). */
struct gw_loop *gw_loop_new(void);
/* Frees the loop; it does not close the registered fds.  Accepts NULL. */
void gw_loop_free(struct gw_loop *loop);

/* Monotonic milliseconds, cached at the start of the current iteration. */
uint64_t gw_loop_now(const struct gw_loop *loop);
/* Monotonic milliseconds read now (not cached). */
uint64_t gw_clock_ms(void);

/*
 * Replaces the loop's clock (tests: a fake clock the test advances).  With a
 * clock set, gw_loop_run_once() never waits for a timer that is not yet due
 * by that clock: it waits at most max_wait_ms for file descriptors, so a test
 * calls gw_loop_run_once(loop, 0) after moving its clock and nothing sleeps.
 * fn NULL restores the monotonic clock.  now is re-read immediately.
 */
typedef uint64_t (*gw_clock_fn)(void *ctx);
void gw_loop_set_clock(struct gw_loop *loop, gw_clock_fn fn, void *ctx);

int gw_loop_fd_add(struct gw_loop *loop, int fd, uint32_t events, gw_fd_cb cb, void *ctx);
int gw_loop_fd_mod(struct gw_loop *loop, int fd, uint32_t events);
int gw_loop_fd_del(struct gw_loop *loop, int fd);

/*
 * One-shot timer at an absolute deadline (gw_loop_now() scale).  Returns a
 * positive id, or 0 on allocation failure.  A callback may add and cancel
 * timers, including its own id (a no-op after it fired).
 */
uint64_t gw_loop_timer_at(struct gw_loop *loop, uint64_t deadline_ms, gw_timer_cb cb, void *ctx);
/* Cancels a pending timer; returns -ENOENT when it already fired or never existed. */
int gw_loop_timer_cancel(struct gw_loop *loop, uint64_t id);

/*
 * Delivers signo through the loop (blocks it for the thread and adds it to
 * the loop's signalfd).  Call before starting other threads so they inherit
 * the blocked mask.
 */
int gw_loop_signal(struct gw_loop *loop, int signo, gw_signal_cb cb, void *ctx);

/* Runs until gw_loop_stop(); returns 0, or a negative errno on epoll failure. */
int gw_loop_run(struct gw_loop *loop);
/* Runs one iteration, waiting at most max_wait_ms (-1: until an event). */
int gw_loop_run_once(struct gw_loop *loop, int max_wait_ms);
void gw_loop_stop(struct gw_loop *loop);
bool gw_loop_stopped(const struct gw_loop *loop);

#endif
