#include <criterion/criterion.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/log.h"

/*
 * Each test points stderr at a fresh temporary file (Criterion runs every test
 * in its own process) and reads back what the log functions wrote.
 */
static int saved = -1;
static FILE *capture;

static void setup(void)
{
	capture = tmpfile();
	cr_assert_not_null(capture);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	cr_assert(dup2(fileno(capture), STDERR_FILENO) >= 0);
	unsetenv("JOURNAL_STREAM");
}

static void teardown(void)
{
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fclose(capture);
}

/* Everything written to stderr so far. */
static char *captured(void)
{
	static char buf[4096];
	size_t n;

	fflush(stderr);
	rewind(capture);
	n = fread(buf, 1, sizeof(buf) - 1, capture);
	buf[n] = '\0';
	return buf;
}

/* "device:inode" of stderr, as systemd puts it in JOURNAL_STREAM. */
static void stream_id(char *out, size_t cap, long long ino_delta)
{
	struct stat st;

	cr_assert_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(out, cap, "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (unsigned long long)ino_delta);
}

TestSuite(log, .init = setup, .fini = teardown);

/* Journal lines: the syslog priority prefix, no timestamp, no name, levels below -v dropped. */
Test(log, journal_lines)
{
	log_init(1, "meshgw");
	log_set_format(LOG_FORMAT_JOURNAL);
	cr_assert(log_is_journal());
	log_warnx("bearer %s down", "hci:0");
	log_info("listening on %u", 8080u);
	log_debug("not at verbosity 1");
	cr_assert_str_eq(captured(), "<4>bearer hci:0 down\n<6>listening on 8080\n");
}

/* Debug is <7>; log_warn() appends strerror(errno) in either format. */
Test(log, journal_debug_and_errno)
{
	log_init(2, "meshgw");
	log_set_format(LOG_FORMAT_JOURNAL);
	log_debug("d");
	errno = ENOENT;
	log_warn("open x");
	cr_assert_str_eq(captured(), "<7>d\n<4>open x: No such file or directory\n");
}

/* Text lines keep their UTC time of day with milliseconds, the name and the level word. */
Test(log, text_lines)
{
	regex_t re;

	log_init(1, "meshgw");
	log_set_format(LOG_FORMAT_TEXT);
	cr_assert_not(log_is_journal());
	log_warnx("w");
	log_info("i");
	cr_assert_eq(regcomp(&re,
			     "^[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} meshgw warning: w\n"
			     "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} meshgw info: i\n$",
			     REG_EXTENDED),
		     0);
	cr_assert_eq(regexec(&re, captured(), 0, NULL, 0), 0, "%s", captured());
	regfree(&re);
}

/* AUTO with JOURNAL_STREAM = value: whether the journal format is chosen. */
static bool auto_with(const char *value)
{
	setenv("JOURNAL_STREAM", value, 1);
	log_set_format(LOG_FORMAT_AUTO);
	return log_is_journal();
}

/*
 * AUTO: journal only when stderr is the very stream JOURNAL_STREAM names; an
 * inherited variable naming another stream, a malformed one or none means text.
 */
Test(log, auto_follows_journal_stream)
{
	char id[64];

	log_init(0, "meshgw");
	log_set_format(LOG_FORMAT_AUTO);
	cr_assert_not(log_is_journal());
	stream_id(id, sizeof(id), 0);
	cr_assert(auto_with(id));
	/* TEXT wins over the environment when asked for. */
	log_set_format(LOG_FORMAT_TEXT);
	cr_assert_not(log_is_journal());
	stream_id(id, sizeof(id), 1);
	cr_assert_not(auto_with(id));
	stream_id(id, sizeof(id), 0);
	strcat(id, "x");
	cr_assert_not(auto_with(id));
	cr_assert_not(auto_with(""));
}
