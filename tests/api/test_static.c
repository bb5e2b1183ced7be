#include <criterion/criterion.h>
#include <sys/stat.h>

#include "tests/api/fixture.h"

static char tmpdir[64];
static char webdir[128];

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void static_setup(void)
{
	struct api_conf conf = {0};
	char p[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/api-static-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(webdir, sizeof(webdir), "%s/web", tmpdir);
	mkdir(webdir, 0700);
	snprintf(p, sizeof(p), "%s/secret.txt", tmpdir);
	put_file(p, "TOP-SECRET");
	snprintf(p, sizeof(p), "%s/index.html", webdir);
	put_file(p, "<!doctype html><title>meshgw</title>");
	snprintf(p, sizeof(p), "%s/app.js", webdir);
	put_file(p, "console.log(1);");
	snprintf(p, sizeof(p), "%s/.hidden", webdir);
	put_file(p, "hidden");
	snprintf(p, sizeof(p), "%s/link.txt", webdir);
	{
		char target[200];

		snprintf(target, sizeof(target), "%s/secret.txt", tmpdir);
		cr_assert_eq(symlink(target, p), 0);
	}
	conf.web_root = webdir;
	fx_start(&conf);
}

static void static_teardown(void)
{
	char cmd[128];

	fx_teardown();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(static_files, .init = static_setup, .fini = static_teardown);

/* "/" serves index.html as text/html without a token; .js gets a JavaScript type. */
Test(static_files, index_and_types)
{
	struct http_resp r = fx_req("GET", "/", NULL, NULL);
	char *ct = http_header(&r, "Content-Type");

	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "<!doctype html><title>meshgw</title>");
	cr_assert_str_eq(ct, "text/html; charset=utf-8");
	free(ct);
	http_resp_free(&r);
	r = fx_req("GET", "/app.js", NULL, NULL);
	ct = http_header(&r, "Content-Type");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(ct, "text/javascript; charset=utf-8");
	free(ct);
	http_resp_free(&r);
	cr_assert_eq(fx_ncmds(), 0);
}

/* Traversal in every spelling, hidden files and symlinks out of the root are refused. */
Test(static_files, traversal_refused)
{
	static const char *const paths[] = {
	    "/../secret.txt",
	    "/%2e%2e/secret.txt",
	    "/%2E%2E%2Fsecret.txt",
	    "/web/../../secret.txt",
	    "/./index.html",
	    "/.hidden",
	    "/link.txt",
	    "/..%5csecret.txt",
	    "//etc/passwd",
	    "/nothing.html",
	};
	char raw[256];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct http_resp r;

		snprintf(raw, sizeof(raw),
			 "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", paths[i]);
		cr_assert_eq(http_raw(api_port(fx.api), raw, strlen(raw), &r, FX_TIMEOUT), 0);
		cr_assert(r.status == 404 || r.status == 400, "%s: status %d", paths[i], r.status);
		cr_assert_null(strstr(r.body, "TOP-SECRET"), "%s leaked", paths[i]);
		cr_assert_null(strstr(r.body, "hidden"), "%s leaked", paths[i]);
		http_resp_free(&r);
	}
}

/* The web page is read-only. */
Test(static_files, post_405)
{
	struct http_resp r = fx_req("POST", "/index.html", NULL, "x");

	fx_assert_problem(&r, 405, NULL);
	http_resp_free(&r);
}
