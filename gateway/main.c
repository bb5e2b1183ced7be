/*
 * meshgw: the Bluetooth Mesh commissioning gateway daemon.
 *
 *   meshgw [-dnv] [-f FILE] [--bearer sim:PATH | hci:N | uart:PATH] [--integrity-check]
 *          [--log-format auto|text|journal]
 *   meshgw [-f FILE] token create --role viewer|operator|admin [--name NAME]
 *   meshgw [-f FILE] backup FILE
 *   meshgw [-f FILE] restore FILE
 *
 * One event-loop thread owns the mesh stack and the inventory; the REST
 * API's threads reach it through the command queue (../shared/style.md
 * §2.7).  Signals are handled inside the loop (signalfd): SIGTERM/SIGINT
 * close provisioning links with Link Close, stop HTTP, flush the inventory
 * and exit 0; a second SIGINT exits at once; SIGHUP reloads the
 * configuration, keeping the old one when the new one is bad.
 *
 * The inventory passes PRAGMA quick_check at every start (integrity_check with
 * --integrity-check) or meshgw refuses to start, saying to restore a backup.
 * `backup` copies it consistently beside the running daemon; `restore` puts a
 * backup back while no daemon runs on it, keeping the replaced file aside.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "gateway/cmdq.h"
#include "gateway/conf.h"
#include "gateway/gw.h"
#include "gateway/log.h"
#include "gateway/loop.h"
#include "gateway/metrics.h"
#include "gateway/reads.h"
#include "gateway/trust.h"
#include "mesh/crypto.h"

#define DEFAULT_CONF "/etc/meshgw/meshgw.conf"
#define SHUTDOWN_GRACE_MS 1500

struct daemon {
	const char *conf_path;
	struct gw_conf conf;
	struct gw_loop *loop;
	struct gw_cmdq *q;
	struct gw *gw;
	struct api *api;
	int signals_seen;
	uint64_t grace_timer;
};

static void usage(void)
{
	fprintf(stderr, "usage: meshgw [-dnv] [-f file] [--bearer sim:PATH | hci:N | uart:PATH] "
			"[--integrity-check]\n"
			"              [--log-format auto|text|journal]\n"
			"       meshgw [-f file] token create --role viewer|operator|admin "
			"[--name name]\n"
			"       meshgw [-f file] backup file\n"
			"       meshgw [-f file] restore file\n");
	exit(2);
}

static enum api_role api_role_of(int rl)
{
	return rl == 2 ? API_ROLE_ADMIN : rl == 1 ? API_ROLE_OPERATOR : API_ROLE_VIEWER;
}

static int verify(void *ctx, const char *token, char *name, size_t cap, enum api_role *role)
{
	struct daemon *d = ctx;
	int r, rl = 0;

	r = gw_token_verify(d->gw, token, name, cap, &rl);
	if (r) {
		return r;
	}
	*role = api_role_of(rl);
	return 0;
}

/* http_read_path = direct: the token table in memory (gateway/reads.h), on the HTTP thread. */
static int verify_direct(void *ctx, const char *token, char *name, size_t cap, enum api_role *role)
{
	struct daemon *d = ctx;
	int r, rl = 0;

	r = gw_reads_token_check(gw_reads_of(d->gw), token, name, cap, &rl);
	if (r) {
		return r;
	}
	*role = api_role_of(rl);
	return 0;
}

static int serve_read(void *ctx, int cmd, const json_t *args, json_t **result, char *detail,
		      size_t cap)
{
	struct daemon *d = ctx;

	return gw_reads_serve(gw_reads_of(d->gw), cmd, args, result, detail, cap);
}

static struct gw_cmd *verify_cmd(void *ctx, const char *token)
{
	(void)ctx;
	return gw_token_verify_cmd(token);
}

static int verify_done(void *ctx, const struct gw_cmd *c, char *name, size_t cap,
		       enum api_role *role)
{
	int r, rl = 0;

	(void)ctx;
	r = gw_token_verify_done(c, name, cap, &rl);
	if (r) {
		return r;
	}
	*role = api_role_of(rl);
	return 0;
}

static void publish(void *ctx, const char *type, json_t *data)
{
	struct daemon *d = ctx;

	if (d->api) {
		api_event_publish(d->api, type, data);
	} else {
		json_decref(data);
	}
}

static void stop_now(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct daemon *d = ctx;

	(void)id;
	d->grace_timer = 0;
	gw_loop_stop(loop);
}

/* Wait for the Link Closes to go out, at most SHUTDOWN_GRACE_MS. */
static void check_stopped(struct gw_loop *loop, uint64_t id, void *ctx)
{
	struct daemon *d = ctx;

	(void)id;
	if (gw_stopping_done(d->gw)) {
		gw_loop_stop(loop);
		return;
	}
	(void)gw_loop_timer_at(loop, gw_loop_now(loop) + 50, check_stopped, d);
}

static void on_term(struct gw_loop *loop, int signo, void *ctx)
{
	struct daemon *d = ctx;

	if (d->signals_seen++) {
		log_warnx("second signal: exiting now");
		exit(1);
	}
	log_info("signal %d: shutting down", signo);
	/*
	 * Order matters: end what HTTP threads wait for (pending node requests,
	 * queued commands), then stop HTTP, which joins those threads.
	 */
	gw_shutdown(d->gw);
	gw_cmdq_close(d->q);
	api_stop(d->api);
	d->grace_timer = gw_loop_timer_at(loop, gw_loop_now(loop) + SHUTDOWN_GRACE_MS, stop_now, d);
	check_stopped(loop, 0, d);
}

#define SAME_STR(f) (strcmp(run->f, c->f) == 0)
#define SAME_NUM(f) (run->f == c->f)

/*
 * SIGHUP applies only the provisioning policy and limits (gw_reconfigure()).  Every other key
 * that differs from the running configuration is named: it keeps its running value until the
 * next start, so the reload never claims what it did not do.
 */
static void restart_keys(const struct gw_conf *run, const struct gw_conf *c)
{
	const struct {
		const char *key;
		bool same;
	} k[] = {
	    {"listen", SAME_STR(listen_addr) && SAME_NUM(listen_port)},
	    {"state_dir", SAME_STR(state_dir)},
	    {"database", SAME_STR(database)},
	    {"master_key", SAME_STR(master_key)},
	    {"tls_cert", SAME_STR(tls_cert)},
	    {"tls_key", SAME_STR(tls_key)},
	    {"web_root", SAME_STR(web_root)},
	    {"bearer", SAME_STR(bearer_kind) && SAME_STR(bearer_path) && SAME_NUM(hci_dev)},
	    {"uart_baud", SAME_NUM(uart_baud)},
	    {"uart_flow", SAME_NUM(uart_rtscts)},
	    {"bearer_socket", SAME_STR(bearer_socket)},
	    {"position", SAME_NUM(pos[0]) && SAME_NUM(pos[1]) && SAME_NUM(pos[2])},
	    {"address", SAME_NUM(address)},
	    {"unicast_range", SAME_NUM(uni_low) && SAME_NUM(uni_high)},
	    {"group_range", SAME_NUM(grp_low) && SAME_NUM(grp_high)},
	    {"link_open_timeout_s", SAME_NUM(link_open_timeout_s)},
	    {"http_max_connections", SAME_NUM(http_max_connections)},
	    {"http_max_per_ip", SAME_NUM(http_max_per_ip)},
	    {"http_threads", SAME_NUM(http_threads)},
	    {"http_io_timeout_s", SAME_NUM(http_io_timeout_s)},
	    {"http_max_streams", SAME_NUM(http_max_streams)},
	    {"http_max_streams_per_token", SAME_NUM(http_max_streams_per_token)},
	    {"metrics_listen", SAME_STR(metrics_addr) && SAME_NUM(metrics_port)},
	    {"http_read_path", SAME_NUM(http_read_direct)},
	};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		if (!k[i].same) {
			log_warnx(
			    "%s changed: takes effect at the next start (the running value is "
			    "kept until then)",
			    k[i].key);
		}
	}
}

#undef SAME_STR
#undef SAME_NUM

static void on_hup(struct gw_loop *loop, int signo, void *ctx)
{
	struct daemon *d = ctx;
	struct gw_conf c;
	char err[256];

	(void)loop;
	(void)signo;
	gw_conf_default(&c);
	if (d->conf_path && gw_conf_load(d->conf_path, &c, err, sizeof(err))) {
		log_warnx("reload refused, keeping the running configuration: %s", err);
		return;
	}
	gw_reconfigure(d->gw, &c);
	log_info("configuration reloaded: algorithm, allow_no_oob, bind_profile and max_sessions "
		 "(with max_local_links, job_attempts and job_retry_s) and cbp_* applied to new "
		 "attempts, remove_key_refresh to new removals");
	restart_keys(&d->conf, &c);
}

static int token_cli(struct gw_conf *conf, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"name", required_argument, NULL, 'N'},
	    {NULL, 0, NULL, 0},
	};
	const char *role = NULL, *name = NULL;
	char token[64], gen[32];
	int c, rl, r;

	if (argc < 2 || strcmp(argv[1], "create") != 0) {
		usage();
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'r') {
			role = optarg;
		} else if (c == 'N') {
			name = optarg;
		} else {
			usage();
		}
	}
	rl = !role                       ? -1
	     : !strcmp(role, "viewer")   ? 0
	     : !strcmp(role, "operator") ? 1
	     : !strcmp(role, "admin")    ? 2
					 : -1;
	if (rl < 0) {
		usage();
	}
	if (!name) {
		uint8_t rnd[4];

		(void)mesh_crypto_random(rnd, sizeof(rnd));
		snprintf(gen, sizeof(gen), "%s-%02x%02x%02x%02x", role, rnd[0], rnd[1], rnd[2],
			 rnd[3]);
		name = gen;
	}
	r = gw_token_create_offline(conf, name, rl, token, sizeof(token));
	if (r) {
		fprintf(stderr, "meshgw: token create: %s\n", strerror(-r));
		return 1;
	}
	/* The token is shown once, on stdout, for the operator to copy. */
	printf("%s\n", token);
	fprintf(stderr, "token '%s' (%s) created\n", name, role);
	mesh_crypto_wipe(token, sizeof(token));
	return 0;
}

/* `backup FILE` and `restore FILE`: one argument, the backup file. */
static int inventory_cli(const struct gw_conf *conf, int argc, char **argv)
{
	char why[512], aside[GW_PATH_MAX + 64];
	bool backup = !strcmp(argv[0], "backup");
	int r;

	if (argc != 2) {
		usage();
	}
	if (backup) {
		r = gw_backup_offline(conf, argv[1], why, sizeof(why));
	} else {
		r = gw_restore_offline(conf, argv[1], aside, sizeof(aside), why, sizeof(why));
	}
	if (r) {
		fprintf(stderr, "meshgw: %s: %s\n", argv[0], why[0] ? why : strerror(-r));
		return 1;
	}
	if (backup) {
		fprintf(stderr, "meshgw: backup of %s written to %s\n", conf->database, argv[1]);
	} else if (aside[0]) {
		fprintf(stderr,
			"meshgw: %s restored from %s; the replaced database is kept as %s\n",
			conf->database, argv[1], aside);
	} else {
		fprintf(stderr, "meshgw: %s restored from %s\n", conf->database, argv[1]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"bearer", required_argument, NULL, 'b'},
	    {"integrity-check", no_argument, NULL, 'I'},
	    {"log-format", required_argument, NULL, 'L'},
	    {NULL, 0, NULL, 0},
	};
	enum log_format log_fmt = LOG_FORMAT_AUTO;
	struct daemon d = {0};
	const char *bearer = NULL;
	bool check = false, full_check = false;
	int debug = 0, verbose = 0, c, r;
	char err[256];

	while ((c = getopt_long(argc, argv, "+df:nv", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			d.conf_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'b':
			bearer = optarg;
			break;
		case 'I':
			full_check = true;
			break;
		case 'L':
			if (!strcmp(optarg, "auto")) {
				log_fmt = LOG_FORMAT_AUTO;
			} else if (!strcmp(optarg, "text")) {
				log_fmt = LOG_FORMAT_TEXT;
			} else if (!strcmp(optarg, "journal")) {
				log_fmt = LOG_FORMAT_JOURNAL;
			} else {
				usage();
			}
			break;
		default:
			usage();
		}
	}
	if (!d.conf_path && access(DEFAULT_CONF, R_OK) == 0) {
		d.conf_path = DEFAULT_CONF;
	}
	gw_conf_default(&d.conf);
	if (d.conf_path && gw_conf_load(d.conf_path, &d.conf, err, sizeof(err))) {
		fprintf(stderr, "meshgw: %s\n", err);
		return 1;
	}
	if (bearer) {
		char line[GW_PATH_MAX + 16];

		snprintf(line, sizeof(line), "bearer = %s\n", bearer);
		if (gw_conf_parse(line, &d.conf, err, sizeof(err))) {
			fprintf(stderr, "meshgw: --bearer: %s\n", err);
			return 1;
		}
	}
	d.conf.integrity_full = full_check;
	if (check && d.conf.cbp_trust[0]) {
		struct cert_trust *t = NULL;

		/* The trust store is part of the configuration: -n loads it as the start would. */
		if (gw_trust_load(d.conf.cbp_trust, &t, err, sizeof(err))) {
			fprintf(stderr, "meshgw: %s\n", err);
			return 1;
		}
		cert_trust_free(t);
	}
	if (check) {
		printf("configuration OK\n");
		return 0;
	}
	if (optind < argc) {
		if (!strcmp(argv[optind], "token")) {
			return token_cli(&d.conf, argc - optind, argv + optind);
		}
		if (!strcmp(argv[optind], "backup") || !strcmp(argv[optind], "restore")) {
			return inventory_cli(&d.conf, argc - optind, argv + optind);
		}
		usage();
	}
	log_init(debug ? 2 : verbose, "meshgw");
	log_set_format(log_fmt);
	d.loop = gw_loop_new();
	d.q = gw_cmdq_new();
	if (!d.loop || !d.q) {
		fatal("cannot create the event loop");
	}
	/* Before any thread starts, so every thread inherits the blocked signals. */
	if (gw_loop_signal(d.loop, SIGTERM, on_term, &d) ||
	    gw_loop_signal(d.loop, SIGINT, on_term, &d) ||
	    gw_loop_signal(d.loop, SIGHUP, on_hup, &d)) {
		fatal("cannot set up signals");
	}
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Freed memory stays in the process: by default glibc gives an arena's
	 * free top back to the kernel after every large answer (a page of nodes
	 * built and dumped on an HTTP thread) and maps it again for the next one,
	 * and every give-back is a TLB shootdown across the cores running the
	 * other threads.  bench/api_wrk.sh, 100-node pages on the direct path:
	 * 2,150 -> 3,340 req/s, p99 129 -> 41 ms.  The cost is up to this much
	 * memory kept per arena after a burst.
	 */
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	{
		struct gw_hooks hooks = {.ctx = &d, .publish = publish};

		d.gw = gw_new(&d.conf, d.loop, d.q, &hooks, &r);
	}
	if (!d.gw) {
		fatalx("cannot start: %s", r == -EKEYREJECTED ? "wrong master key for this database"
					   : r == -EUCLEAN ? "the inventory is damaged (see above)"
							   : strerror(-r));
	}
	{
		struct api_conf ac = {0};
		struct api_auth_ops auth = {.ctx = &d,
					    .verify = verify,
					    .verify_cmd = verify_cmd,
					    .verify_done = verify_done};

		ac.bind_addr = d.conf.listen_addr;
		ac.port = d.conf.listen_port;
		ac.tls_cert = d.conf.tls_cert[0] ? d.conf.tls_cert : NULL;
		ac.tls_key = d.conf.tls_key[0] ? d.conf.tls_key : NULL;
		ac.web_root = d.conf.web_root;
		ac.max_connections = d.conf.http_max_connections;
		ac.max_per_ip = d.conf.http_max_per_ip;
		ac.threads = d.conf.http_threads;
		ac.io_timeout_s = d.conf.http_io_timeout_s;
		ac.max_streams = d.conf.http_max_streams;
		ac.max_streams_per_token = d.conf.http_max_streams_per_token;
		struct api_read_ops reads = {.ctx = &d, .serve = serve_read};

		ac.metrics_addr = d.conf.metrics_addr[0] ? d.conf.metrics_addr : NULL;
		ac.metrics_port = d.conf.metrics_port;
		ac.metrics.ctx = d.gw;
		ac.metrics.collect = gw_metrics_collect;
		if (d.conf.http_read_direct) {
			/* Neither the token check nor the inventory reads wait for the loop. */
			auth.verify = verify_direct;
			auth.verify_cmd = NULL;
			auth.verify_done = NULL;
		}
		d.api = api_new(&ac, d.q, &auth);
		if (d.api && d.conf.http_read_direct) {
			api_set_reads(d.api, &reads);
		}
		if (!d.api || api_start(d.api)) {
			fatalx("cannot start the REST API on %s:%u", d.conf.listen_addr,
			       d.conf.listen_port);
		}
	}
	log_info("meshgw listening on %s:%u", d.conf.listen_addr, d.conf.listen_port);
	if (api_metrics_port(d.api)) {
		log_info("metrics on %s:%u", d.conf.metrics_addr, api_metrics_port(d.api));
	}
	r = gw_loop_run(d.loop);
	api_free(d.api);
	d.api = NULL;
	gw_free(d.gw);
	gw_cmdq_free(d.q);
	gw_loop_free(d.loop);
	log_info("stopped");
	return r ? 1 : 0;
}
