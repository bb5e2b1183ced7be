#include <criterion/criterion.h>

#include "tests/api/fixture.h"

static char dir[64];

/* Generates a self-signed certificate with the openssl CLI; false when it is missing. */
static bool make_cert(char *cert, char *key, size_t cap)
{
	char cmd[512];

	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		return false;
	}
	snprintf(dir, sizeof(dir), "/tmp/api-tls-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cert, cap, "%s/cert.pem", dir);
	snprintf(key, cap, "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 "
		 "-keyout %s -out %s >/dev/null 2>&1",
		 key, cert);
	cr_assert_eq(system(cmd), 0);
	return true;
}

/* With a certificate and key configured, the API speaks HTTPS and answers /healthz. */
Test(tls, healthz_over_tls)
{
	char cert[128], key[128], cmd[512], out[4096];
	struct api_conf conf = {0};
	size_t n;
	FILE *p;

	if (!make_cert(cert, key, sizeof(cert))) {
		cr_skip_test("the openssl command-line tool is not installed");
	}
	conf.tls_cert = cert;
	conf.tls_key = key;
	fx_start(&conf);
	snprintf(cmd, sizeof(cmd),
		 "printf 'GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | "
		 "timeout 20 openssl s_client -quiet -connect 127.0.0.1:%u 2>/dev/null",
		 api_port(fx.api));
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	cr_assert_not_null(strstr(out, "HTTP/1.1 200"), "%s", out);
	cr_assert_not_null(strstr(out, "\"status\":\"ok\""), "%s", out);
	fx_teardown();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* A missing key file makes api_start() fail with -EIO instead of serving plain HTTP. */
Test(tls, missing_key_fails)
{
	struct api_conf conf = {.tls_cert = "/nonexistent/cert.pem",
				.tls_key = "/nonexistent/key.pem"};
	struct gw_cmdq *q = gw_cmdq_new();
	struct api *api = api_new(&conf, q, &fx_auth);

	cr_assert_not_null(api);
	cr_assert_eq(api_start(api), -EIO);
	cr_assert_eq(api_port(api), 0);
	api_free(api);
	gw_cmdq_free(q);
}
