#include "gateway/loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct fd_handler {
	int fd;
	gw_fd_cb cb;
	void *ctx;
	struct fd_handler *next;
};

struct timer {
	uint64_t deadline;
	uint64_t id; /* also the tie-break: ids grow monotonically */
	gw_timer_cb cb;
	void *ctx;
};

struct sig_handler {
	int signo;
	gw_signal_cb cb;
	void *ctx;
};

struct gw_loop {
	int epfd;
	int sigfd;
	sigset_t sigs;
	struct sig_handler sh[8];
	int nsh;
	struct fd_handler *fds; /* few fds: a list is enough */
	struct timer *heap;
	size_t nheap, capheap;
	uint64_t next_id;
	uint64_t now;
	bool stop;
	gw_clock_fn clock; /* NULL: the monotonic clock */
	void *clock_ctx;
};

static uint64_t loop_clock(const struct gw_loop *l)
{
	return l->clock ? l->clock(l->clock_ctx) : gw_clock_ms();
}

void gw_loop_set_clock(struct gw_loop *l, gw_clock_fn fn, void *ctx)
{
	l->clock = fn;
	l->clock_ctx = ctx;
	l->now = loop_clock(l);
}

uint64_t gw_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct gw_loop *gw_loop_new(void)
{
	struct gw_loop *l = calloc(1, sizeof(*l));

	if (!l) {
		return NULL;
	}
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->sigfd = -1;
	sigemptyset(&l->sigs);
	l->next_id = 1;
	l->now = gw_clock_ms();
	return l;
}

void gw_loop_free(struct gw_loop *l)
{
	struct fd_handler *h, *n;

	if (!l) {
		return;
	}
	for (h = l->fds; h; h = n) {
		n = h->next;
		free(h);
	}
	if (l->sigfd >= 0) {
		close(l->sigfd);
	}
	close(l->epfd);
	free(l->heap);
	free(l);
}

uint64_t gw_loop_now(const struct gw_loop *l)
{
	return l->now;
}

static struct fd_handler *find_fd(struct gw_loop *l, int fd)
{
	struct fd_handler *h;

	for (h = l->fds; h; h = h->next) {
		if (h->fd == fd) {
			return h;
		}
	}
	return NULL;
}

int gw_loop_fd_add(struct gw_loop *l, int fd, uint32_t events, gw_fd_cb cb, void *ctx)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	struct fd_handler *h;

	if (find_fd(l, fd)) {
		return -EEXIST;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		return -ENOMEM;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		free(h);
		return -e;
	}
	h->fd = fd;
	h->cb = cb;
	h->ctx = ctx;
	h->next = l->fds;
	l->fds = h;
	return 0;
}

int gw_loop_fd_mod(struct gw_loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	if (!find_fd(l, fd)) {
		return -ENOENT;
	}
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int gw_loop_fd_del(struct gw_loop *l, int fd)
{
	struct fd_handler **pp, *h;

	for (pp = &l->fds; (h = *pp); pp = &h->next) {
		if (h->fd == fd) {
			*pp = h->next;
			free(h);
			(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			return 0;
		}
	}
	return -ENOENT;
}

static bool timer_less(const struct timer *a, const struct timer *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->id < b->id);
}

static void heap_swap(struct gw_loop *l, size_t a, size_t b)
{
	struct timer t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
}

static void heap_up(struct gw_loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!timer_less(&l->heap[i], &l->heap[p])) {
			break;
		}
		heap_swap(l, i, p);
		i = p;
	}
}

static void heap_down(struct gw_loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;

		if (c < l->nheap && timer_less(&l->heap[c], &l->heap[m])) {
			m = c;
		}
		if (c + 1 < l->nheap && timer_less(&l->heap[c + 1], &l->heap[m])) {
			m = c + 1;
		}
		if (m == i) {
			return;
		}
		heap_swap(l, i, m);
		i = m;
	}
}

static void heap_remove(struct gw_loop *l, size_t i)
{
	l->nheap--;
	if (i == l->nheap) {
		return;
	}
	l->heap[i] = l->heap[l->nheap];
	heap_down(l, i);
	heap_up(l, i);
}

uint64_t gw_loop_timer_at(struct gw_loop *l, uint64_t deadline, gw_timer_cb cb, void *ctx)
{
	struct timer *t;

	if (l->nheap == l->capheap) {
		size_t cap = l->capheap ? 2 * l->capheap : 16;
		struct timer *nh = realloc(l->heap, cap * sizeof(*nh));

		if (!nh) {
			return 0;
		}
		l->heap = nh;
		l->capheap = cap;
	}
	t = &l->heap[l->nheap];
	t->deadline = deadline;
	t->id = l->next_id++;
	t->cb = cb;
	t->ctx = ctx;
	l->nheap++;
	heap_up(l, l->nheap - 1);
	return l->next_id - 1;
}

int gw_loop_timer_cancel(struct gw_loop *l, uint64_t id)
{
	size_t i;

	/* Linear search: the daemon has tens of timers, not thousands. */
	for (i = 0; i < l->nheap; i++) {
		if (l->heap[i].id == id) {
			heap_remove(l, i);
			return 0;
		}
	}
	return -ENOENT;
}

static void on_signalfd(struct gw_loop *l, int fd, uint32_t events, void *ctx)
{
	struct signalfd_siginfo si;
	int i;

	(void)events;
	(void)ctx;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (i = 0; i < l->nsh; i++) {
			if (l->sh[i].signo == (int)si.ssi_signo) {
				l->sh[i].cb(l, (int)si.ssi_signo, l->sh[i].ctx);
			}
		}
	}
}

int gw_loop_signal(struct gw_loop *l, int signo, gw_signal_cb cb, void *ctx)
{
	int fd;

	if (l->nsh == (int)(sizeof(l->sh) / sizeof(l->sh[0]))) {
		return -ENOSPC;
	}
	sigaddset(&l->sigs, signo);
	if (pthread_sigmask(SIG_BLOCK, &l->sigs, NULL) != 0) {
		return -EINVAL;
	}
	fd = signalfd(l->sigfd, &l->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	if (l->sigfd < 0) {
		int r = gw_loop_fd_add(l, fd, EPOLLIN, on_signalfd, NULL);

		if (r) {
			close(fd);
			return r;
		}
	}
	l->sigfd = fd;
	l->sh[l->nsh].signo = signo;
	l->sh[l->nsh].cb = cb;
	l->sh[l->nsh].ctx = ctx;
	l->nsh++;
	return 0;
}

static void run_timers(struct gw_loop *l)
{
	/*
	 * Fire only what was due when this pass began: a callback that adds a
	 * timer for "now" runs on the next iteration, so a busy chain of timers
	 * cannot starve file descriptors.
	 */
	uint64_t limit = l->next_id;

	while (l->nheap && l->heap[0].deadline <= l->now && l->heap[0].id < limit && !l->stop) {
		struct timer t = l->heap[0];

		heap_remove(l, 0);
		t.cb(l, t.id, t.ctx);
	}
}

int gw_loop_run_once(struct gw_loop *l, int max_wait)
{
	struct epoll_event evs[32];
	int n, i, wait = max_wait;

	l->now = loop_clock(l);
	if (l->nheap) {
		uint64_t d = l->heap[0].deadline;
		int tw = d <= l->now ? 0 : (d - l->now > 60000 ? 60000 : (int)(d - l->now));

		/* A fake clock does not move while we wait: only a due timer shortens it. */
		if (l->clock && tw > 0) {
			tw = -1;
		}
		if (tw >= 0 && (wait < 0 || tw < wait)) {
			wait = tw;
		}
	}
	n = epoll_wait(l->epfd, evs, 32, wait);
	if (n < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	l->now = loop_clock(l);
	for (i = 0; i < n && !l->stop; i++) {
		/* Re-look the handler up: an earlier callback may have removed it. */
		struct fd_handler *h = find_fd(l, evs[i].data.fd);

		if (h) {
			h->cb(l, h->fd, evs[i].events, h->ctx);
		}
	}
	run_timers(l);
	return 0;
}

int gw_loop_run(struct gw_loop *l)
{
	int r = 0;

	l->stop = false;
	while (!l->stop && r == 0) {
		r = gw_loop_run_once(l, -1);
	}
	return r;
}

void gw_loop_stop(struct gw_loop *l)
{
	l->stop = true;
}

bool gw_loop_stopped(const struct gw_loop *l)
{
	return l->stop;
}
