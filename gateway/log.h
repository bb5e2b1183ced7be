/*
 * Daemon logging in the relayd log.c manner: log_warn() appends strerror
 * (errno), log_warnx() does not; fatal()/fatalx() log and exit(1).
 * Output goes to stderr (journald picks it up); log_debug() prints only at
 * verbosity >= 2 (-d or -vv).  Never pass key material to these functions:
 * print keys through mesh_crypto_key_fingerprint().
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdarg.h>

/* verbosity: 0 warnings, 1 info, 2 debug.  Not thread-safe to change. */
void log_init(int verbosity, const char *progname);
int log_verbosity(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
