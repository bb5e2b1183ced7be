#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "gateway/conf.h"

/* Defaults put every file under the state directory and listen on loopback only. */
Test(conf, defaults)
{
	struct gw_conf c;
	char err[128];

	gw_conf_default(&c);
	cr_assert_eq(gw_conf_parse("", &c, err, sizeof(err)), 0);
	cr_assert_str_eq(c.database, "/var/lib/meshgw/meshgw.db");
	cr_assert_str_eq(c.master_key, "/var/lib/meshgw/master.key");
	cr_assert_str_eq(c.listen_addr, "127.0.0.1");
	cr_assert_eq(c.listen_port, 8080);
	cr_assert_eq(c.address, 0x0001);
	cr_assert(c.beacon_secure, "Secure Network beacons by default");
	cr_assert_not(c.beacon_private);
}

/* Every key is parsed, with comments and blank lines ignored. */
Test(conf, all_keys)
{
	static const char text[] = "# meshgw\n"
				   "state_dir = /tmp/x\n"
				   "listen = 0.0.0.0:9000   # all interfaces\n"
				   "\n"
				   "bearer = sim:/tmp/air.sock\n"
				   "position = 1.5,-2,3\n"
				   "address = 0x0010\n"
				   "unicast_range = 0x0010-0x0fff\n"
				   "group_range = 0xc100-0xc1ff\n"
				   "algorithm = hmac\n"
				   "allow_no_oob = no\n"
				   "bind_profile = none\n"
				   "max_sessions = 16\n"
				   "max_local_links = 3\n"
				   "link_open_timeout_s = 4\n"
				   "job_attempts = 7\n"
				   "job_retry_s = 600\n"
				   "remove_key_refresh = collect\n"
				   "beacons = private\n"
				   "tls_cert = /etc/c.pem\n"
				   "tls_key = /etc/k.pem\n";
	struct gw_conf c;
	char err[128];

	gw_conf_default(&c);
	cr_assert_eq(gw_conf_parse(text, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.database, "/tmp/x/meshgw.db");
	cr_assert_str_eq(c.listen_addr, "0.0.0.0");
	cr_assert_eq(c.listen_port, 9000);
	cr_assert_str_eq(c.bearer_kind, "sim");
	cr_assert_str_eq(c.bearer_path, "/tmp/air.sock");
	cr_assert_float_eq(c.pos[0], 1.5, 1e-9);
	cr_assert_float_eq(c.pos[1], -2.0, 1e-9);
	cr_assert_eq(c.address, 0x0010);
	cr_assert_eq(c.uni_high, 0x0fff);
	cr_assert_eq(c.grp_low, 0xc100);
	cr_assert(c.refuse_cmac);
	cr_assert_not(c.allow_no_oob);
	cr_assert_not(c.bind_all);
	cr_assert_eq(c.max_sessions, 16);
	cr_assert_eq(c.max_local_links, 3);
	cr_assert_eq(c.link_open_timeout_s, 4);
	cr_assert_eq(c.job_attempts, 7);
	cr_assert_eq(c.job_retry_s, 600);
	cr_assert_eq(c.remove_kr, GW_REMOVE_KR_COLLECT);
	cr_assert_not(c.beacon_secure);
	cr_assert(c.beacon_private);
}

/* remove_key_refresh: immediate by default, three names, anything else refused. */
Test(conf, remove_key_refresh)
{
	struct gw_conf c;
	char err[128];

	gw_conf_default(&c);
	cr_assert_eq(c.remove_kr, GW_REMOVE_KR_IMMEDIATE);
	cr_assert_eq(gw_conf_parse("remove_key_refresh = off\n", &c, err, sizeof(err)), 0);
	cr_assert_eq(c.remove_kr, GW_REMOVE_KR_OFF);
	cr_assert_str_eq(gw_conf_remove_kr_name(c.remove_kr), "off");
	cr_assert_eq(gw_conf_parse("remove_key_refresh = immediate\n", &c, err, sizeof(err)), 0);
	cr_assert_eq(c.remove_kr, GW_REMOVE_KR_IMMEDIATE);
	cr_assert_eq(gw_conf_parse("remove_key_refresh = later\n", &c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "line 1: remove_key_refresh must be immediate, collect or off");
	cr_assert_eq(c.remove_kr, GW_REMOVE_KR_IMMEDIATE, "unchanged");
}

/* The job engine's limits have defaults and refuse values outside their ranges. */
Test(conf, job_limits)
{
	static const char *const bad[] = {
	    "max_local_links = 0\n",      "max_local_links = 33\n", "link_open_timeout_s = 1\n",
	    "link_open_timeout_s = 61\n", "job_attempts = 0\n",     "job_attempts = 21\n",
	    "job_retry_s = 0\n",          "job_retry_s = 601\n",    "job_retry_s = ten\n",
	};
	struct gw_conf c;
	char err[128];
	size_t i;

	gw_conf_default(&c);
	cr_assert_eq(c.max_local_links, 8);
	cr_assert_eq(c.link_open_timeout_s, 10);
	cr_assert_eq(c.job_attempts, 4);
	cr_assert_eq(c.job_retry_s, 5);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gw_conf_default(&c);
		cr_assert_eq(gw_conf_parse(bad[i], &c, err, sizeof(err)), -EINVAL, "%s", bad[i]);
		cr_assert(strstr(err, "line 1") != NULL, "%s: %s", bad[i], err);
		cr_assert_eq(c.job_attempts, 4, "unchanged after %s", bad[i]);
	}
}

/* Certificate-based provisioning: trust store path, chain depth and the default policy. */
Test(conf, cbp_keys)
{
	static const char text[] = "cbp_trust = /etc/meshgw/roots.pem\n"
				   "cbp_max_depth = 2\n"
				   "cbp_policy = require\n";
	struct gw_conf c;
	char err[128];

	gw_conf_default(&c);
	cr_assert_str_eq(c.cbp_trust, "");
	cr_assert_eq(c.cbp_max_depth, 4);
	cr_assert_eq(c.cbp_policy, 1, "prefer by default");
	cr_assert_eq(gw_conf_parse(text, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.cbp_trust, "/etc/meshgw/roots.pem");
	cr_assert_eq(c.cbp_max_depth, 2);
	cr_assert_eq(c.cbp_policy, 2);
	cr_assert_eq(gw_conf_parse("cbp_policy = never\n", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.cbp_policy, 0);
}

/* The read path: direct unless the former path through the loop is asked for. */
Test(conf, http_read_path)
{
	struct gw_conf c;
	char err[128];

	gw_conf_default(&c);
	cr_assert(c.http_read_direct);
	cr_assert_eq(gw_conf_parse("http_read_path = loop\n", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(c.http_read_direct);
	cr_assert_eq(gw_conf_parse("http_read_path = direct\n", &c, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert(c.http_read_direct);
}

/* The HTTP workers follow the CPUs unless a number is given; 0 is not a number of threads. */
Test(conf, http_threads)
{
	struct gw_conf c;
	char err[128];

	gw_conf_default(&c);
	cr_assert_eq(c.http_threads, 0, "auto by default");
	cr_assert_eq(gw_conf_parse("http_threads = 3\n", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.http_threads, 3);
	cr_assert_eq(gw_conf_parse("http_threads = auto\n", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.http_threads, 0);
	cr_assert_eq(gw_conf_parse("http_threads = 0\n", &c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "auto or 1..64"), "%s", err);
	cr_assert_eq(gw_conf_parse("http_threads = 65\n", &c, err, sizeof(err)), -EINVAL);
}

/* A bad line is refused with its line number and the configuration is left as it was. */
Test(conf, bad_input_refused_unchanged)
{
	static const char *const bad[] = {
	    "listen = nowhere\n",
	    "bearer = usb:1\n",
	    "address = 0x8001\n",
	    "unicast_range = 0x0100\n",
	    "group_range = 0x0100-0x0200\n",
	    "max_sessions = 0\n",
	    "allow_no_oob = perhaps\n",
	    "beacons = none\n",
	    "frobnicate = 1\n",
	    "state_dir\n",
	    "tls_cert = /a.pem\n",
	    "address = 0x0001\nunicast_range = 0x0100-0x0200\n",
	    "position = 1,2\n",
	    "bearer = hci:64\n",
	    "bearer = hci:\n",
	    "bearer = uart:\n",
	    "uart_baud = 1234\n",
	    "uart_baud = 8000000\n",
	    "uart_baud = fast\n",
	    "uart_flow = xonxoff\n",
	    "cbp_policy = always\n",
	    "cbp_max_depth = 0\n",
	    "cbp_max_depth = 9\n",
	    "http_read_path = fast\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gw_conf c, before;
		char err[128] = "";

		gw_conf_default(&c);
		before = c;
		cr_assert_eq(gw_conf_parse(bad[i], &c, err, sizeof(err)), -EINVAL, "accepted: %s",
			     bad[i]);
		cr_assert(strlen(err) > 0, "no message for: %s", bad[i]);
		cr_assert_eq(memcmp(&c, &before, sizeof(c)), 0, "changed by: %s", bad[i]);
	}
}

/* The controller bearers: hci:N, uart:PATH with its rate and flow control, and their defaults. */
Test(conf, hci_and_uart_bearers)
{
	struct gw_conf c;
	char err[128];

	gw_conf_default(&c);
	cr_assert_eq(c.uart_baud, 1000000);
	cr_assert(c.uart_rtscts);
	cr_assert_eq(gw_conf_parse("bearer = hci:1\n", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.bearer_kind, "hci");
	cr_assert_eq(c.hci_dev, 1);
	cr_assert_eq(gw_conf_parse("bearer = uart:/dev/ttyACM0\nuart_baud = 115200\n"
				   "uart_flow = none\n",
				   &c, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(c.bearer_kind, "uart");
	cr_assert_str_eq(c.bearer_path, "/dev/ttyACM0");
	cr_assert_eq(c.uart_baud, 115200);
	cr_assert_not(c.uart_rtscts);
	cr_assert_eq(
	    gw_conf_parse("uart_baud = 4000000\nuart_flow = rtscts\n", &c, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(c.uart_baud, 4000000);
	cr_assert(c.uart_rtscts);
}

/* A missing file is reported with its name. */
Test(conf, missing_file)
{
	struct gw_conf c;
	char err[256];

	gw_conf_default(&c);
	cr_assert_eq(gw_conf_load("/nonexistent/meshgw.conf", &c, err, sizeof(err)), -ENOENT);
	cr_assert_not_null(strstr(err, "/nonexistent/meshgw.conf"));
}

/*
 * metrics_listen: off by default and with "off", an IPv4 or IPv6 literal and a
 * port otherwise; a host name or a missing port is refused (the API binds
 * literals only, so the mistake is named at load, not at start).
 */
Test(conf, metrics_listen)
{
	static const char *const bad[] = {
	    "metrics_listen = localhost:9180\n",  "metrics_listen = 127.0.0.1\n",
	    "metrics_listen = 127.0.0.1:70000\n", "metrics_listen = :9180\n",
	    "listen = localhost:8080\n",
	};
	struct gw_conf c;
	char err[128];

	gw_conf_default(&c);
	cr_assert_str_eq(c.metrics_addr, "");
	cr_assert_eq(gw_conf_parse("metrics_listen = 127.0.0.1:9180\n", &c, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(c.metrics_addr, "127.0.0.1");
	cr_assert_eq(c.metrics_port, 9180);
	cr_assert_eq(gw_conf_parse("metrics_listen = ::1:9181\n", &c, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_str_eq(c.metrics_addr, "::1");
	cr_assert_eq(c.metrics_port, 9181);
	cr_assert_eq(gw_conf_parse("metrics_listen = off\n", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.metrics_addr, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gw_conf_default(&c);
		cr_assert_eq(gw_conf_parse(bad[i], &c, err, sizeof(err)), -EINVAL, "%s", bad[i]);
		cr_assert(strstr(err, "line 1"), "%s", err);
	}
}

/* Named profiles: AppKeys and models, vendor ids, "models all", the built-ins. */
Test(conf, profiles)
{
	static const char text[] = "profile.light = appkeys 0; models 0x1000, 0x1001\n"
				   "profile.multi-key_1.x = appkeys 0,1 ;models all\n"
				   "profile.vendor = models 0x05f10001; appkeys 2\n";
	struct gw_conf c;
	const struct gw_profile *p;
	char err[256];

	gw_conf_default(&c);
	cr_assert_eq(gw_conf_parse(text, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(gw_conf_n_profiles(&c), 5);
	cr_assert_str_eq(gw_conf_profile_name(&c, 0), "all");
	cr_assert_str_eq(gw_conf_profile_name(&c, 1), "none");
	cr_assert_str_eq(gw_conf_profile_name(&c, 2), "light");
	p = gw_conf_profile(&c, "light");
	cr_assert_not_null(p);
	cr_assert_eq(p->n_appkeys, 1);
	cr_assert_eq(p->appkeys[0], 0);
	cr_assert(gw_profile_has_model(p, false, 0x1001));
	cr_assert_not(gw_profile_has_model(p, false, 0x1002));
	cr_assert_not(gw_profile_has_model(p, true, 0x1000), "a vendor model is not the SIG one");
	p = gw_conf_profile(&c, "multi-key_1.x");
	cr_assert_eq(p->n_appkeys, 2);
	cr_assert_eq(p->appkeys[1], 1);
	cr_assert(gw_profile_has_model(p, true, 0x05f10001));
	p = gw_conf_profile(&c, "vendor");
	cr_assert_eq(p->appkeys[0], 2);
	cr_assert(gw_profile_has_model(p, true, 0x05f10001));
	cr_assert_not(gw_profile_has_model(p, false, 0x0001));
	/* Built-ins: today's bind_profile behaviours. */
	p = gw_conf_profile(&c, "all");
	cr_assert(p->all_models && p->n_appkeys == 1 && p->appkeys[0] == 0);
	p = gw_conf_profile(&c, "none");
	cr_assert(!p->all_models && p->n_models == 0 && p->n_appkeys == 1);
	cr_assert_null(gw_conf_profile(&c, "absent"));
	cr_assert_null(gw_conf_profile(&c, NULL));
}

/* A bad profile line is refused with its line, and the configuration is unchanged. */
Test(conf, profiles_refused)
{
	static const char *const bad[] = {
	    "profile.all = appkeys 0\n",                      /* a built-in */
	    "profile.x = appkeys 0\nprofile.x = appkeys 1\n", /* twice */
	    "profile. = appkeys 0\n",
	    "profile.a/b = appkeys 0\n",
	    "profile.x = models 0x1000\n",            /* no AppKeys */
	    "profile.x = appkeys 4096\n",             /* 12-bit index */
	    "profile.x = appkeys 0; models 0x0002\n", /* a foundation model */
	    "profile.x = appkeys 0; models\n",
	    "profile.x = appkeys 0,; models 0x1000\n",
	    "profile.x = appkeys 0; colours red\n",
	    "profile.x = appkeys 0,1,2,3,4,5,6,7,8\n", /* more than 8 */
	};
	struct gw_conf c;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gw_conf_default(&c);
		cr_assert_eq(gw_conf_parse(bad[i], &c, err, sizeof(err)), -EINVAL, "accepted: %s",
			     bad[i]);
		cr_assert(strstr(err, "line "), "%s", err);
		cr_assert_eq(c.n_profiles, 0);
	}
}
