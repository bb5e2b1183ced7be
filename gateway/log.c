#include "gateway/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The only process-wide state of the daemon: where logs go and how much.
 * Set once at start-up (log_init) before any thread exists.
 */
static int verbose;
static const char *prog = "meshgw";
static pthread_mutex_t log_mtx = PTHREAD_MUTEX_INITIALIZER;

void log_init(int verbosity, const char *progname)
{
	verbose = verbosity;
	if (progname) {
		prog = progname;
	}
}

int log_verbosity(void)
{
	return verbose;
}

static void vlog(const char *level, const char *fmt, va_list ap, const char *suffix)
    __attribute__((format(printf, 2, 0)));

static void vlog(const char *level, const char *fmt, va_list ap, const char *suffix)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	/* One lock so lines from HTTP threads and the loop do not interleave. */
	pthread_mutex_lock(&log_mtx);
	fprintf(stderr, "%s.%03ld %s %s: ", when, ts.tv_nsec / 1000000, prog, level);
	vfprintf(stderr, fmt, ap);
	if (suffix) {
		fprintf(stderr, ": %s", suffix);
	}
	fputc('\n', stderr);
	pthread_mutex_unlock(&log_mtx);
}

void log_warn(const char *fmt, ...)
{
	char buf[128];
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", fmt, ap, strerror_r(e, buf, sizeof(buf)));
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning", fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 1) {
		return;
	}
	va_start(ap, fmt);
	vlog("info", fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 2) {
		return;
	}
	va_start(ap, fmt);
	vlog("debug", fmt, ap, NULL);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	char buf[128];
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, strerror_r(e, buf, sizeof(buf)));
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
