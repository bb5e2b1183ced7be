/*
 * meshsim start-up with building.json (1,000 devices): time to ready, then
 * idle CPU and RSS of the running process.  Also the in-process cost of
 * loading the scenario and placing its devices.  Figures only.
 *
 *   bench_sim_start [SCENARIO] [IDLE_SECONDS]
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/ctl.h"
#include "sim/loop.h"
#include "sim/scenario.h"

extern char **environ;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of pid in seconds, from /proc/PID/stat. */
static double cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f) {
			fclose(f);
		}
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')'); /* the command name may contain spaces */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) {
		return -1;
	}
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f) {
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) {
			break;
		}
	}
	fclose(f);
	return kb;
}

static void in_process(const char *scn)
{
	struct sim_scenario *s = NULL;
	struct sim_world *w;
	char err[SIM_SCN_ERR_MAX];
	double t0 = now_s(), t1, t2;

	if (sim_scenario_load(scn, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench: %s\n", err);
		exit(1);
	}
	t1 = now_s();
	w = sim_world_new(s->seed, &s->air, NULL, 0);
	for (size_t i = 0; w && i < s->n_devices; i++) {
		unsigned dev;

		if (sim_world_add_device(w, &s->devices[i], 0, &dev) < 0) {
			exit(1);
		}
	}
	t2 = now_s();
	printf("in-process: parse+validate %zu devices %.1f ms, place on the air %.2f ms\n",
	       s->n_devices, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	sim_world_free(w);
	sim_scenario_free(s);
}

int main(int argc, char **argv)
{
	const char *scn = argc > 1 ? argv[1] : MESHGW_SOURCE_DIR "/sim/scenarios/building.json";
	int idle = argc > 2 ? atoi(argv[2]) : 5;
	char dir[] = "/tmp/bench-sim.XXXXXX", ctl[128], port[128];
	char *args[] = {
	    MESHGW_BINARY_DIR "/meshsim", "-s", (char *)scn, "--ctl", ctl, "--port", port, NULL};
	char *reply = NULL;
	double t0, ready = -1, c0, c1;
	pid_t pid;
	int st;

	in_process(scn);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(ctl, sizeof(ctl), "%s/ctl", dir);
	snprintf(port, sizeof(port), "%s/native.sock", dir);
	t0 = now_s();
	if (posix_spawn(&pid, args[0], NULL, NULL, args, environ) != 0) {
		perror("posix_spawn meshsim");
		return 1;
	}
	/* Ready = the control socket answers; poll it (startup is what is measured). */
	while (now_s() - t0 < 30) {
		if (sim_ctl_request(ctl, "list", 1000, &reply) == 0) {
			ready = now_s() - t0;
			break;
		}
		usleep(2000);
	}
	if (ready < 0) {
		fprintf(stderr, "bench: meshsim did not become ready\n");
		kill(pid, SIGTERM);
		waitpid(pid, &st, 0);
		return 1;
	}
	{
		size_t hosted = 0;

		for (const char *q = reply; (q = strstr(q, "\"hosted\": true")); q++) {
			hosted++;
		}
		printf("meshsim %s: ready in %.3f s (limit 5 s); %zu devices hosted by a device "
		       "kind (the rest are silent participants)\n",
		       scn, ready, hosted);
	}
	free(reply);
	c0 = cpu_s(pid);
	sleep((unsigned)idle);
	c1 = cpu_s(pid);
	printf("idle: %.2f %% CPU over %d s, RSS %ld kB\n", 100.0 * (c1 - c0) / idle, idle,
	       rss_kb(pid));
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	unlink(ctl);
	unlink(port);
	rmdir(dir);
	return 0;
}
