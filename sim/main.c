/*
 * meshsim: a virtual building of simulated mesh devices on a shared
 * advertising air that outside programs join through Unix datagram sockets
 * (sim/PORTS.md).
 *
 *   meshsim [-s scenario.json] [--time-scale X] [--port PATH[@x,y,z]]
 *           [--bluez-port PATH@x,y,z ...]
 *           [--hci-port PATH@x,y,z[,legacy|,ext:N][,latency=MS] ...]
 *           [--ctl PATH] [--stats-out FILE]
 *           [--state FILE] [--seed N] [-d]
 *   meshsim stats [--ctl PATH]
 *   meshsim ctl [--ctl PATH] COMMAND...
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/ctl.h"
#include "sim/loop.h"
#include "sim/node_dev.h"
#include "sim/scenario.h"

/*
 * Device kinds this binary hosts, matched against a scenario device's
 * "kind" ("node" by default).  Devices of any other kind join the air as
 * silent participants.
 */
static const struct sim_device_ops *const device_kinds[] = {&sim_node_kind};
static const size_t n_device_kinds = sizeof(device_kinds) / sizeof(device_kinds[0]);

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: meshsim [-s SCENARIO] [--time-scale X] [--port PATH[@x,y,z]]\n"
	       "               [--bluez-port PATH@x,y,z]...\n"
	       "               [--hci-port PATH@x,y,z[,legacy|,ext:N][,latency=MS]]...\n"
	       "               [--ctl PATH] [--stats-out FILE]\n"
	       "               [--state FILE] [--seed N] [-d]\n"
	       "       meshsim stats [--ctl PATH]\n"
	       "       meshsim ctl [--ctl PATH] COMMAND...\n"
	       "\n"
	       "  -s, --scenario FILE   scenario JSON (sim/PORTS.md); default: an empty air\n"
	       "  --time-scale X        simulated seconds per real second (default 1 or scenario)\n"
	       "  --port PATH[@x,y,z]   native port socket (overrides the scenario's)\n"
	       "  --bluez-port PATH@x,y,z  a bluetooth-meshd --io unit: port (repeatable)\n"
	       "  --hci-port PATH@x,y,z[,legacy|,ext:N][,latency=MS]\n"
	       "                        a virtual LE controller speaking H4 on a pty; PATH\n"
	       "                        becomes a symlink to the pty (repeatable).  legacy: a\n"
	       "                        4.2 controller; ext:N: 5.2 with N advertising sets\n"
	       "                        (default ext:4); latency: command latency (default 1)\n"
	       "  --ctl PATH            control socket (default $MESHSIM_CTL or /tmp/meshsim.ctl)\n"
	       "  --stats-out FILE      write the airtime statistics JSON here at exit\n"
	       "  --state FILE          device state (holds keys; written 0600): loaded at start\n"
	       "                        if present, written by \"save\" and at SIGTERM/SIGINT\n"
	       "  --seed N              air and device seed (overrides the scenario's)\n"
	       "  -d, --debug           log port traffic and displayed values to stderr\n"
	       "\n"
	       "Environment: MESHSIM_TRACE=all or NAME,NAME...  log every network PDU these\n"
	       "devices send, accept and relay (TTL, SEQ) and their access messages to stderr\n");
}

static const char *default_ctl(void)
{
	const char *e = getenv("MESHSIM_CTL");

	return e && *e ? e : "/tmp/meshsim.ctl";
}

/* `meshsim stats` and `meshsim ctl ...`: one request, reply on stdout. */
static int client_main(int argc, char **argv)
{
	const char *ctl = default_ctl();
	char cmd[SIM_CTL_LINE_MAX] = "";
	size_t len = 0;
	char *reply = NULL;
	int i = 2, err;
	bool is_stats = !strcmp(argv[1], "stats");

	if (i + 1 < argc && !strcmp(argv[i], "--ctl")) {
		ctl = argv[i + 1];
		i += 2;
	}
	if (is_stats) {
		if (i != argc) {
			usage(stderr);
			return 2;
		}
		snprintf(cmd, sizeof(cmd), "stats");
	} else {
		for (; i < argc; i++) {
			int n =
			    snprintf(cmd + len, sizeof(cmd) - len, "%s%s", len ? " " : "", argv[i]);

			if (n < 0 || (size_t)n >= sizeof(cmd) - len) {
				fprintf(stderr, "meshsim: command too long\n");
				return 2;
			}
			len += (size_t)n;
		}
		if (!len) {
			usage(stderr);
			return 2;
		}
	}
	err = sim_ctl_request(ctl, cmd, 10000, &reply);
	if (err < 0) {
		fprintf(stderr, "meshsim: %s: %s\n", ctl, strerror(-err));
		return 1;
	}
	fputs(reply, stdout);
	err = !strncmp(reply, "error:", 6);
	free(reply);
	return err;
}

static void show_display(void *ctx, unsigned dev, const char *name, const char *text)
{
	(void)ctx;
	fprintf(stderr, "meshsim: device %u (%s) displays: %s\n", dev, name, text);
}

static int add_bluez(struct sim_scenario *s, const char *arg)
{
	struct sim_scn_bluez *nb;
	char *path;
	struct sim_pos pos;
	int err = sim_scenario_parse_port_arg(arg, &path, &pos);

	if (err < 0) {
		return err;
	}
	nb = realloc(s->bluez, (s->n_bluez + 1) * sizeof(*nb));
	if (!nb) {
		free(path);
		return -ENOMEM;
	}
	s->bluez = nb;
	memset(&nb[s->n_bluez], 0, sizeof(*nb));
	nb[s->n_bluez].path = path;
	nb[s->n_bluez].pos = pos;
	s->n_bluez++;
	return 0;
}

static int add_hci(struct sim_scenario *s, const char *arg)
{
	struct sim_scn_hci h, *nh;
	int err = sim_scenario_parse_hci_arg(arg, &h);

	if (err < 0) {
		return err;
	}
	nh = realloc(s->hci, (s->n_hci + 1) * sizeof(*nh));
	if (!nh) {
		free(h.path);
		return -ENOMEM;
	}
	s->hci = nh;
	nh[s->n_hci++] = h;
	return 0;
}

static int set_native(struct sim_scenario *s, const char *arg)
{
	char *path;
	struct sim_pos pos;

	if (strchr(arg, '@')) {
		int err = sim_scenario_parse_port_arg(arg, &path, &pos);

		if (err < 0) {
			return err;
		}
		s->native_pos = pos;
	} else if (!(path = strdup(arg))) {
		return -ENOMEM;
	}
	free(s->native_path);
	s->native_path = path;
	return 0;
}

/* Loads a state file if it exists: per-device files and --state share the format. */
static void load_state(struct sim_world *w, const char *path)
{
	json_error_t jerr;
	json_t *j;
	int err;

	if (access(path, F_OK) != 0) {
		return;
	}
	j = json_load_file(path, 0, &jerr);
	if (!j) {
		fprintf(stderr, "meshsim: %s: line %d: %s (state not loaded)\n", path, jerr.line,
			jerr.text);
		return;
	}
	err = sim_world_load_json(w, j, 0);
	if (err < 0) {
		fprintf(stderr, "meshsim: %s: %s (state partly loaded)\n", path, strerror(-err));
	}
	json_decref(j);
}

int main(int argc, char **argv)
{
	enum {
		OPT_TIME = 256,
		OPT_PORT,
		OPT_BLUEZ,
		OPT_HCI,
		OPT_CTL,
		OPT_STATS,
		OPT_SEED,
		OPT_STATE
	};
	static const struct option opts[] = {
	    {"scenario", required_argument, NULL, 's'},
	    {"time-scale", required_argument, NULL, OPT_TIME},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"bluez-port", required_argument, NULL, OPT_BLUEZ},
	    {"hci-port", required_argument, NULL, OPT_HCI},
	    {"ctl", required_argument, NULL, OPT_CTL},
	    {"stats-out", required_argument, NULL, OPT_STATS},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"state", required_argument, NULL, OPT_STATE},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *scn_path = NULL, *ctl = default_ctl(), *stats_out = NULL, *state = NULL;
	const char *port_arg = NULL;
	const char **bluez_args = calloc((size_t)argc + 1, sizeof(*bluez_args));
	const char **hci_args = calloc((size_t)argc + 1, sizeof(*hci_args));
	size_t n_bluez_args = 0, n_hci_args = 0;
	double scale = NAN;
	bool debug = false, have_seed = false;
	unsigned long long seed = 0;
	struct sim_scenario *s = NULL;
	struct sim_world *w = NULL;
	struct sim_loop *l = NULL;
	char errbuf[SIM_SCN_ERR_MAX];
	int c, err, rc = 1;

	if (argc >= 2 && (!strcmp(argv[1], "stats") || !strcmp(argv[1], "ctl"))) {
		free(bluez_args);
		free(hci_args);
		return client_main(argc, argv);
	}
	if (!bluez_args || !hci_args) {
		free(bluez_args);
		free(hci_args);
		return 1;
	}
	while ((c = getopt_long(argc, argv, "s:dh", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 's':
			scn_path = optarg;
			break;
		case OPT_TIME:
			scale = strtod(optarg, &end);
			if (*end || !(scale > 0.0 && scale <= 1e6)) {
				fprintf(stderr, "meshsim: --time-scale: a number > 0 and <= 1e6\n");
				goto out;
			}
			break;
		case OPT_PORT:
			port_arg = optarg;
			break;
		case OPT_BLUEZ:
			bluez_args[n_bluez_args++] = optarg;
			break;
		case OPT_HCI:
			hci_args[n_hci_args++] = optarg;
			break;
		case OPT_CTL:
			ctl = optarg;
			break;
		case OPT_STATS:
			stats_out = optarg;
			break;
		case OPT_SEED:
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg) {
				fprintf(stderr, "meshsim: --seed: an unsigned integer\n");
				goto out;
			}
			have_seed = true;
			break;
		case OPT_STATE:
			state = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			rc = 2;
			goto out;
		}
	}
	if (optind != argc) {
		usage(stderr);
		rc = 2;
		goto out;
	}

	if (scn_path) {
		err = sim_scenario_load(scn_path, &s, errbuf, sizeof(errbuf));
		if (err < 0) {
			fprintf(stderr, "meshsim: %s: %s\n", scn_path,
				errbuf[0] ? errbuf : strerror(-err));
			goto out;
		}
	} else if (!(s = sim_scenario_new())) {
		goto out;
	}
	if (have_seed) {
		s->seed = seed;
	}
	if (!isnan(scale)) {
		s->time_scale = scale;
	}
	if (port_arg && set_native(s, port_arg) < 0) {
		fprintf(stderr, "meshsim: --port %s: expected PATH or PATH@x,y,z\n", port_arg);
		goto out;
	}
	for (size_t i = 0; i < n_bluez_args; i++) {
		if (add_bluez(s, bluez_args[i]) < 0) {
			fprintf(stderr, "meshsim: --bluez-port %s: expected PATH@x,y,z\n",
				bluez_args[i]);
			goto out;
		}
	}

	for (size_t i = 0; i < n_hci_args; i++) {
		if (add_hci(s, hci_args[i]) < 0) {
			fprintf(stderr,
				"meshsim: --hci-port %s: expected "
				"PATH@x,y,z[,legacy|,ext:N (1-16)][,latency=MS (0-1000)]\n",
				hci_args[i]);
			goto out;
		}
	}

	w = sim_world_new(s->seed, &s->air, device_kinds, n_device_kinds);
	if (!w) {
		fprintf(stderr, "meshsim: cannot create the air\n");
		goto out;
	}
	if (debug) {
		sim_world_set_display_hook(w, show_display, NULL);
	}
	for (size_t i = 0; i < s->n_devices; i++) {
		unsigned dev;

		err = sim_world_add_device(w, &s->devices[i], 0, &dev);
		if (err < 0) {
			fprintf(stderr, "meshsim: device %s: %s\n", s->devices[i].name,
				strerror(-err));
			goto out;
		}
		if (s->devices[i].state_file) {
			load_state(w, s->devices[i].state_file);
		}
	}
	if (state) {
		load_state(w, state);
	}

	{
		struct sim_loop_opts o = {
		    .time_scale = s->time_scale,
		    .native_path = s->native_path,
		    .bluez = s->bluez,
		    .n_bluez = s->n_bluez,
		    .hci = s->hci,
		    .n_hci = s->n_hci,
		    .ctl_path = ctl,
		    .state_path = state,
		    .signals = true,
		    .debug = debug,
		};

		l = sim_loop_new(w, &o, &err);
		if (!l) {
			fprintf(stderr, "meshsim: cannot start: %s\n", strerror(-err));
			goto out;
		}
	}
	if (s->native_path) {
		/* The native port is a participant too: see PORTS.md, "Native port". */
		fprintf(stderr, "meshsim: native port %s\n", s->native_path);
	}
	for (size_t i = 0; i < s->n_hci; i++) {
		fprintf(stderr, "meshsim: hci port %zu: %s (%s)\n", i, s->hci[i].path,
			s->hci[i].legacy ? "legacy" : "extended");
	}
	fprintf(stderr,
		"meshsim: ready: %zu devices, %zu bluez ports, %zu hci ports, time scale %g, "
		"control %s\n",
		s->n_devices, s->n_bluez, s->n_hci, s->time_scale, ctl);
	err = sim_loop_run(l);
	if (err < 0) {
		fprintf(stderr, "meshsim: event loop: %s\n", strerror(-err));
		goto out;
	}
	rc = 0;
	if (stats_out) {
		json_t *j = sim_air_stats_json(sim_world_air(w), sim_loop_now(l));

		if (!j || json_dump_file(j, stats_out, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
			fprintf(stderr, "meshsim: cannot write %s\n", stats_out);
			rc = 1;
		}
		json_decref(j);
	}
out:
	sim_loop_free(l);
	sim_world_free(w);
	sim_scenario_free(s);
	free(bluez_args);
	free(hci_args);
	return rc;
}
