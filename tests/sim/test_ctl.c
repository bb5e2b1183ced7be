/*
 * The control command interpreter (sim/ctl.c) without sockets: replies,
 * hooks, and errors for malformed commands.  The socket path is covered by
 * tests/sim/test_loop.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sim/ctl.h"
#include "sim/hci_port.h"

struct hooks_seen {
	int saves, quits;
	char path[64];
};

static int h_save(void *ctx, const char *path, char *msg, size_t cap)
{
	struct hooks_seen *h = ctx;

	h->saves++;
	snprintf(h->path, sizeof(h->path), "%s", path ? path : "(default)");
	snprintf(msg, cap, "saved");
	return path && !strcmp(path, "/fail") ? -EIO : 0;
}

static void h_quit(void *ctx)
{
	((struct hooks_seen *)ctx)->quits++;
}

static struct sim_world *world(void)
{
	struct sim_air_params p;

	sim_air_params_default(&p);
	return sim_world_new(1, &p, NULL, 0);
}

static void expect(struct sim_world *w, const struct sim_ctl_hooks *h, const char *cmd,
		   const char *want_prefix)
{
	char *r = sim_ctl_exec(w, cmd, 0, h);

	cr_assert_not_null(r);
	cr_assert(!strncmp(r, want_prefix, strlen(want_prefix)), "\"%s\" -> \"%s\", want \"%s...\"",
		  cmd, r, want_prefix);
	cr_assert_eq(r[strlen(r) - 1], '\n', "replies end with a newline");
	free(r);
}

/* stats is the air's statistics JSON, at the given time. */
Test(ctl, stats_is_json)
{
	struct sim_world *w = world();
	struct sim_pos pos = {0, 0, 0};
	uint32_t pid;
	char *r;
	json_t *j;

	cr_assert_eq(sim_air_add(sim_world_air(w), &pos, "gw", NULL, NULL, &pid), 0);
	r = sim_ctl_exec(w, "  stats  ", 4242, NULL);
	j = json_loads(r, 0, NULL);
	cr_assert_not_null(j, "%s", r);
	cr_assert_eq(json_integer_value(json_object_get(j, "time_us")), 4242);
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(j, "participants"), 0), "name")),
			 "gw");
	json_decref(j);
	free(r);
	sim_world_free(w);
}

/* loss sets the global loss probability and refuses anything outside [0,1]. */
Test(ctl, loss)
{
	struct sim_world *w = world();

	expect(w, NULL, "loss 0.25", "ok loss 0.25");
	cr_assert_float_eq(sim_air_params(sim_world_air(w))->loss, 0.25, 1e-12);
	expect(w, NULL, "loss 1.5", "error: loss must be");
	expect(w, NULL, "loss x", "error: loss must be");
	expect(w, NULL, "loss", "error: usage: loss P");
	expect(w, NULL, "loss 0.1 0.2", "error: usage: loss P");
	cr_assert_float_eq(sim_air_params(sim_world_air(w))->loss, 0.25, 1e-12);
	sim_world_free(w);
}

/* save and quit go to the hooks; without hooks they fail cleanly. */
Test(ctl, save_and_quit_hooks)
{
	struct sim_world *w = world();
	struct hooks_seen seen = {0};
	struct sim_ctl_hooks h = {.ctx = &seen, .save = h_save, .quit = h_quit};

	expect(w, &h, "save", "ok saved");
	cr_assert_str_eq(seen.path, "(default)");
	expect(w, &h, "save /tmp/x.json", "ok saved");
	cr_assert_str_eq(seen.path, "/tmp/x.json");
	expect(w, &h, "save /fail", "error: save:");
	expect(w, &h, "save a b", "error: usage: save");
	cr_assert_eq(seen.saves, 3);
	expect(w, &h, "quit", "ok");
	cr_assert_eq(seen.quits, 1);
	expect(w, NULL, "save", "error: saving is not available");
	expect(w, NULL, "quit", "error: quit is not available");
	sim_world_free(w);
}

/* list, oob and help answer; dev checks its number; unknown and empty commands are errors. */
Test(ctl, other_commands_and_errors)
{
	struct sim_world *w = world();
	char *r;
	json_t *j;
	char longcmd[3000];

	r = sim_ctl_exec(w, "list", 0, NULL);
	j = json_loads(r, 0, NULL);
	cr_assert_not_null(j);
	cr_assert_eq(json_array_size(json_object_get(j, "devices")), 0);
	cr_assert(json_is_null(json_object_get(j, "ports")));
	json_decref(j);
	free(r);
	expect(w, NULL, "oob", "[]");
	expect(w, NULL, "help", "commands:");
	expect(w, NULL, "dev 0 input 1234", "error: no device 0");
	expect(w, NULL, "dev x", "error: usage: dev N");
	expect(w, NULL, "dev -1 a", "error: usage: dev N");
	expect(w, NULL, "dev 99999999999999999999 a", "error: usage: dev N");
	expect(w, NULL, "", "error: empty command");
	expect(w, NULL, "frobnicate", "error: unknown command \"frobnicate\"");
	memset(longcmd, 'x', sizeof(longcmd) - 1);
	longcmd[sizeof(longcmd) - 1] = '\0';
	expect(w, NULL, longcmd, "error: unknown command");
	sim_world_free(w);
}

/* The client refuses bad arguments and reports a missing server. */
Test(ctl, client_errors)
{
	char *reply = NULL;

	cr_assert_eq(sim_ctl_request("/nonexistent/ctl", "stats", 100, &reply), -ENOENT);
	cr_assert_eq(sim_ctl_request("/tmp/x", "a\nb", 100, &reply), -EINVAL);
	cr_assert_eq(sim_ctl_request(NULL, "stats", 100, &reply), -EINVAL);
	cr_assert_null(reply);
}

/* "hci N ..." reaches the port's interpreter; every subcommand and its errors. */
static int h_hci(void *ctx, unsigned long n, const char *args, uint64_t now_us, char **reply)
{
	if (n != 0) {
		return -ENOENT;
	}
	*reply = sim_hci_port_ctl(ctx, args, now_us);
	return *reply ? 0 : -ENOMEM;
}

Test(ctl, hci_commands)
{
	struct sim_world *w = world();
	struct sim_hci_port *port;
	struct sim_scn_hci cfg = {.pos = {0, 0, 1}, .adv_sets = 2, .latency_ms = 1};
	char dir[] = "/tmp/meshsim-ctl-hci-XXXXXX", link[64];
	struct sim_ctl_hooks h = {.hci = h_hci};
	int ep = epoll_create1(EPOLL_CLOEXEC);
	char *r;

	cr_assert(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/hci", dir);
	cfg.path = link;
	cr_assert_eq(sim_hci_port_open(sim_world_air(w), &cfg, 1, ep, 0, false, &port), 0);
	h.ctx = port;
	expect(w, NULL, "hci 0 status", "error: no hci port 0");
	expect(w, &h, "hci 1 status", "error: no hci port 1");
	expect(w, &h, "hci x status", "error: usage: hci N");
	r = sim_ctl_exec(w, "hci 0 status", 0, &h);
	cr_assert(strstr(r, "\"state\": \"ready\""), "%s", r);
	cr_assert(strstr(r, "\"adv_sets\": 2"), "%s", r);
	free(r);
	expect(w, &h, "hci 0 hang", "ok hang");
	r = sim_ctl_exec(w, "hci 0 status", 0, &h);
	cr_assert(strstr(r, "\"state\": \"hung\""), "%s", r);
	free(r);
	expect(w, &h, "hci 0 resume", "ok resume");
	expect(w, &h, "hci 0 hwerror 0x42", "ok hwerror 0x42");
	r = sim_ctl_exec(w, "hci 0 status", 0, &h);
	cr_assert(strstr(r, "\"state\": \"hardware_error\""), "%s", r);
	free(r);
	expect(w, &h, "hci 0 hwerror 256", "error: usage: hci N hwerror");
	expect(w, &h, "hci 0 garbage", "ok garbage 16");
	expect(w, &h, "hci 0 plug", "error: already plugged in");
	expect(w, &h, "hci 0 hangup x", "error: usage: hci N hangup");
	expect(w, &h, "hci 0 hangup 250", "ok hangup 250");
	cr_assert_neq(access(link, F_OK), 0);
	expect(w, &h, "hci 0 hang", "error: unplugged");
	expect(w, &h, "hci 0 hangup", "error: already unplugged");
	cr_assert_eq(sim_hci_port_next_deadline(port), 250000, "replug due at 250 ms");
	sim_hci_port_tick(port, 250000);
	cr_assert_eq(access(link, F_OK), 0, "plugged in again");
	r = sim_ctl_exec(w, "hci 0 status", 250000, &h);
	cr_assert(strstr(r, "\"state\": \"ready\""), "a fresh controller: %s", r);
	cr_assert(strstr(r, "\"plugs\": 2"), "%s", r);
	free(r);
	expect(w, &h, "hci 0 frob", "error: unknown hci command \"frob\"");
	expect(w, &h, "hci 0", "error: usage: hci N status");
	expect(w, &h, "hci 0 status extra words", "error: usage");
	sim_hci_port_close(port);
	cr_assert_neq(access(link, F_OK), 0);
	close(ep);
	rmdir(dir);
	sim_world_free(w);
}
