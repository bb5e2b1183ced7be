/*
 * Runs the BlueZ interop smoke test (tests/interop/test_meshd_beacon.sh)
 * under CTest: an unmodified bluetooth-meshd joins meshsim's BlueZ port and
 * its Unprovisioned Device beacon reaches meshsim's native port.  Skipped,
 * with the script's reason printed, where the daemon is not installed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Last non-empty line of a file, into out. */
static void last_line(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	char line[512];

	out[0] = '\0';
	if (!f) {
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != '\n') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, cap, "%s", line);
		}
	}
	fclose(f);
}

/* bluetooth-meshd's beacon with the UUID join.py chose is seen on the air through meshsim. */
Test(interop, meshd_unprovisioned_beacon_reaches_native_port, .timeout = 300)
{
	char dir[] = "/tmp/meshgw-interop.XXXXXX";
	char errpath[600], reason[512], script[512];
	posix_spawn_file_actions_t fa;
	char *argv[3];
	pid_t pid;
	int st;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(errpath, sizeof(errpath), "%s/stderr.log", dir);
	snprintf(script, sizeof(script), "%s/tests/interop/test_meshd_beacon.sh",
		 MESHGW_SOURCE_DIR);
	setenv("MESHSIM", MESHGW_BINARY_DIR "/meshsim", 1);
	argv[0] = script;
	argv[1] = dir;
	argv[2] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_eq(posix_spawn(&pid, script, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &st, 0) < 0) {
		cr_assert_eq(errno, EINTR);
	}
	last_line(errpath, reason, sizeof(reason));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		cr_skip_test("%s", reason);
	}
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "interop smoke test failed: %s (logs in %s)", reason, dir);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		cr_expect_eq(system(cmd), 0);
	}
}
