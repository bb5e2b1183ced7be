#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

/* The statuses the task fixes for the contract's codes. */
Test(problem, contract_statuses)
{
	static const struct {
		int err;
		unsigned status;
	} want[] = {
	    {-ENOENT, 404},    {-EEXIST, 409},  {-EBUSY, 409},     {-EINVAL, 400}, {-EACCES, 403},
	    {-ETIMEDOUT, 504}, {-ENOSPC, 507},  {-ECANCELED, 409}, {-EAGAIN, 503}, {-EIO, 500},
	    {-EALREADY, 409},  {-EBADMSG, 502}, {-EXDEV, 409},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_eq(api_problem_status(want[i].err), want[i].status, "errno %d",
			     want[i].err);
	}
	/* Unknown codes are server errors, never success. */
	cr_assert_eq(api_problem_status(-EOWNERDEAD), 500);
	cr_assert_eq(api_problem_status(0), 500);
}

/* A problem object has the four RFC 9457 members and a URN type per status. */
Test(problem, object_shape)
{
	json_t *p = api_problem_new(404, "no node 0x0005");

	cr_assert_str_eq(json_string_value(json_object_get(p, "type")),
			 "urn:meshgw:problem:not-found");
	cr_assert_str_eq(json_string_value(json_object_get(p, "title")), "Not found");
	cr_assert_eq(json_integer_value(json_object_get(p, "status")), 404);
	cr_assert_str_eq(json_string_value(json_object_get(p, "detail")), "no node 0x0005");
	cr_assert_eq(json_object_size(p), 4);
	json_decref(p);
	p = api_problem_new(418, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(p, "type")),
			 "urn:meshgw:problem:internal");
	json_decref(p);
}

static void scan_dir(const char *dir, regex_t *re, int *missing)
{
	char path[512];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", MESHGW_SOURCE_DIR, dir);
	d = opendir(path);
	if (!d) {
		return;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char file[1024], *text;
		long len;
		FILE *f;

		if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0) {
			continue;
		}
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		f = fopen(file, "r");
		if (!f) {
			continue;
		}
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		text = calloc(1, (size_t)len + 1);
		if (fread(text, 1, (size_t)len, f) == (size_t)len) {
			const char *p = text;
			regmatch_t m[2];

			while (regexec(re, p, 2, m, 0) == 0) {
				char name[32];
				unsigned status;

				snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
					 p + m[1].rm_so);
				if (!api_problem_known(name, &status)) {
					cr_log_error(
					    "%s/%s returns -%s, which api/problem.c does not map",
					    dir, e->d_name, name);
					(*missing)++;
				}
				p += m[0].rm_eo;
			}
		}
		free(text);
		fclose(f);
	}
	closedir(d);
}

/*
 * Every negative errno the core's sources return (a "-EXXX" token in gateway/,
 * storage/, mesh/) has its own row in the table, so none becomes a default 500.
 */
Test(problem, table_covers_core_codes)
{
	regex_t re;
	int missing = 0;

	cr_assert_eq(regcomp(&re, "[^A-Za-z0-9_]-(E[A-Z0-9]{2,})[^A-Za-z0-9_]", REG_EXTENDED), 0);
	scan_dir("gateway", &re, &missing);
	scan_dir("storage", &re, &missing);
	scan_dir("mesh", &re, &missing);
	scan_dir("api", &re, &missing);
	regfree(&re);
	cr_assert_eq(missing, 0, "%d errno codes are missing from api/problem.c", missing);
}
