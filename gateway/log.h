/*
 * Daemon logging in the relayd log.c manner: log_warn() appends strerror
 * (errno), log_warnx() does not; fatal()/fatalx() log and exit(1).
 * Output goes to stderr (journald picks it up, see log_set_format()); log_debug() prints only at
 * verbosity >= 2 (-d or -vv).  Never pass key material to these functions:
 * print keys through mesh_crypto_key_fingerprint().
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* verbosity: 0 warnings, 1 info, 2 debug.  Not thread-safe to change. */
void log_init(int verbosity, const char *progname);
int log_verbosity(void);

/*
 * How lines look.  TEXT: "12:00:00.123 meshgw warning: ...".  JOURNAL (stderr
 * is a systemd journal stream): no timestamp or name, which the journal
 * records itself, and the syslog priority as a "<N>" prefix that journald
 * reads (sd-daemon(3): <2> fatal, <4> warning, <6> info, <7> debug).  AUTO
 * picks JOURNAL when stderr is the very stream $JOURNAL_STREAM names (its
 * "device:inode"), as systemd.exec(5) advises, so a child that inherited the
 * variable but writes elsewhere keeps timestamps.  Set once at start-up.
 */
enum log_format {
	LOG_FORMAT_AUTO,
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JOURNAL,
};
void log_set_format(enum log_format f);
/* Whether lines are written for the journal (after AUTO is resolved). */
bool log_is_journal(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
