/*
 * Runs tests/interop/test_meshgw_meshd.sh under CTest: meshgw, driven only
 * through its REST API with curl, provisions an unmodified bluetooth-meshd on
 * meshsim's air (Static OOB, then No OOB) and stores its Composition Data
 * page 0.  On a failure the script's whole output (its figures, the failing
 * step, the log tails) goes to stderr and its FAIL line is the assertion's
 * message.  Exit status 77 of the script (the daemon or python3-dbus
 * missing) becomes a skip with the script's reason.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Keep the script's verdict: its first FAIL or SKIP line (what went wrong
 * first; the log tails the script prints after it follow), else its last
 * non-empty line (PASS).  With echo set, the whole output goes to stderr,
 * which CTest shows on a failure: the figures, the failing step and the
 * tails of the meshsim, meshgw and bluetooth-meshd logs.
 */
static void relay_output(const char *path, char *verdict, size_t cap, int echo)
{
	FILE *f = fopen(path, "r");
	char line[768];
	int have_cause = 0;

	verdict[0] = '\0';
	if (!f) {
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (echo) {
			fputs(line, stderr);
		}
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || have_cause) {
			continue;
		}
		snprintf(verdict, cap, "%s", line);
		have_cause = strstr(line, ": FAIL: ") != NULL || strstr(line, ": SKIP: ") != NULL;
	}
	fclose(f);
}

/* bluetooth-meshd is provisioned through meshgw's REST API and its page 0 is stored. */
Test(interop, meshgw_provisions_meshd_over_rest, .timeout = 600)
{
	char dir[] = "/tmp/meshgw-rest-meshd.XXXXXX";
	char out[128], verdict[768];
	pid_t pid;
	int st;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/script.out", dir);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		FILE *o = freopen(out, "w", stdout);

		if (!o || dup2(fileno(o), 2) < 0) {
			_exit(127);
		}
		setenv("MESHSIM", MESHGW_BINARY_DIR "/meshsim", 1);
		setenv("MESHGW", MESHGW_BINARY_DIR "/meshgw", 1);
		execl(MESHGW_SOURCE_DIR "/tests/interop/test_meshgw_meshd.sh",
		      "test_meshgw_meshd.sh", dir, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0) {
		cr_assert_eq(errno, EINTR);
	}
	relay_output(out, verdict, sizeof(verdict), !(WIFEXITED(st) && WEXITSTATUS(st) == 0));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		cr_skip_test("%s", verdict);
	}
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "REST interop test failed: %s (logs in %s)", verdict, dir);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		cr_expect_eq(system(cmd), 0);
	}
}
