#include "gateway/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * The only process-wide state of the daemon: where logs go and how much.
 * Set once at start-up (log_init) before any thread exists.
 */
static int verbose;
static bool journal;
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

/* Whether stderr is the journal stream $JOURNAL_STREAM ("device:inode") names. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (!e || sscanf(e, "%llu:%llu%c", &dev, &ino, &tail) != 2) {
		return false;
	}
	return fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_set_format(enum log_format f)
{
	journal = f == LOG_FORMAT_JOURNAL || (f == LOG_FORMAT_AUTO && stderr_is_journal());
}

bool log_is_journal(void)
{
	return journal;
}

/* A level: its word for text lines and its syslog priority for the journal. */
struct level {
	const char *name;
	int prio; /* LOG_CRIT .. LOG_DEBUG (syslog.h numbering) */
};
static const struct level L_FATAL = {"fatal", 2}, L_WARN = {"warning", 4}, L_INFO = {"info", 6},
			  L_DEBUG = {"debug", 7};

static void vlog(const struct level *level, const char *fmt, va_list ap, const char *suffix)
    __attribute__((format(printf, 2, 0)));

static void vlog(const struct level *level, const char *fmt, va_list ap, const char *suffix)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	/* One lock so lines from HTTP threads and the loop do not interleave. */
	if (journal) {
		pthread_mutex_lock(&log_mtx);
		fprintf(stderr, "<%d>", level->prio);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		pthread_mutex_lock(&log_mtx);
		fprintf(stderr, "%s.%03ld %s %s: ", when, ts.tv_nsec / 1000000, prog, level->name);
	}
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
	vlog(&L_WARN, fmt, ap, strerror_r(e, buf, sizeof(buf)));
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(&L_WARN, fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 1) {
		return;
	}
	va_start(ap, fmt);
	vlog(&L_INFO, fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 2) {
		return;
	}
	va_start(ap, fmt);
	vlog(&L_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	char buf[128];
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(&L_FATAL, fmt, ap, strerror_r(e, buf, sizeof(buf)));
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(&L_FATAL, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
