#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/prom.h"

/* The text written so far (freed by the caller). */
static char *take(struct prom *p)
{
	size_t len = 0;
	char *t = prom_take(p, &len);

	cr_assert_not_null(t);
	cr_assert_eq(strlen(t), len);
	return t;
}

/* HELP and TYPE lines, then a sample without labels. */
Test(prom, family_and_plain_sample)
{
	struct prom p;
	char *t;

	prom_init(&p);
	prom_family(&p, "meshgw_nodes", "gauge", "Nodes in the inventory");
	prom_u64(&p, "meshgw_nodes", NULL, 18446744073709551615ull);
	t = take(&p);
	cr_assert_str_eq(t, "# HELP meshgw_nodes Nodes in the inventory\n"
			    "# TYPE meshgw_nodes gauge\n"
			    "meshgw_nodes 18446744073709551615\n");
	free(t);
}

/*
 * Label values escape backslash, double quote and line feed (and nothing
 * else: a tab or UTF-8 passes as is); HELP text escapes backslash and line
 * feed but not the quote.
 */
Test(prom, escaping)
{
	const char *l[] = {"route", "a\\b\"c\nd\te\xc3\xa9", "code", "", NULL};
	struct prom p;
	char *t;

	prom_init(&p);
	prom_family(&p, "x_total", "counter", "say \"hi\"\\\nnext");
	prom_u64(&p, "x_total", l, 3);
	t = take(&p);
	cr_assert_str_eq(t, "# HELP x_total say \"hi\"\\\\\\nnext\n"
			    "# TYPE x_total counter\n"
			    "x_total{route=\"a\\\\b\\\"c\\nd\te\xc3\xa9\",code=\"\"} 3\n");
	free(t);
}

/* Real values in the fewest digits that read back, and the format's spellings of NaN and ±Inf. */
Test(prom, real_values)
{
	struct prom p;
	char *t;

	prom_init(&p);
	prom_double(&p, "a", NULL, 0.1);
	prom_double(&p, "a", NULL, 1.0 / 3.0);
	prom_double(&p, "a", NULL, 10);
	prom_double(&p, "a", NULL, NAN);
	prom_double(&p, "a", NULL, INFINITY);
	prom_double(&p, "a", NULL, -INFINITY);
	t = take(&p);
	cr_assert_str_eq(t, "a 0.1\na 0.3333333333333333\na 10\na NaN\na +Inf\na -Inf\n");
	free(t);
}

/*
 * Buckets are cumulative, le is the last label and spelled as the bound reads,
 * +Inf counts every observation, _count equals it and _sum is written as given.
 */
Test(prom, histogram)
{
	static const double bounds[] = {0.005, 0.5, 10};
	static const uint64_t counts[] = {2, 0, 3, 1};
	const char *l[] = {"route", "/healthz", NULL};
	struct prom p;
	char *t;

	prom_init(&p);
	prom_histogram(&p, "d_seconds", l, bounds, 3, counts, 12.25);
	prom_histogram(&p, "e_seconds", NULL, bounds, 1, counts, 0);
	t = take(&p);
	cr_assert_str_eq(t, "d_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 2\n"
			    "d_seconds_bucket{route=\"/healthz\",le=\"0.5\"} 2\n"
			    "d_seconds_bucket{route=\"/healthz\",le=\"10\"} 5\n"
			    "d_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 6\n"
			    "d_seconds_sum{route=\"/healthz\"} 12.25\n"
			    "d_seconds_count{route=\"/healthz\"} 6\n"
			    "e_seconds_bucket{le=\"0.005\"} 2\n"
			    "e_seconds_bucket{le=\"+Inf\"} 2\n"
			    "e_seconds_sum 0\n"
			    "e_seconds_count 2\n");
	free(t);
}

/* A writer with nothing written gives an empty text; a large one grows past its first block. */
Test(prom, empty_and_large)
{
	struct prom p;
	char *t;
	size_t len;

	prom_init(&p);
	t = take(&p);
	cr_assert_str_eq(t, "");
	free(t);
	for (int i = 0; i < 2000; i++) {
		prom_u64(&p, "a_fairly_long_metric_name_to_fill_the_buffer", NULL, (uint64_t)i);
	}
	t = prom_take(&p, &len);
	cr_assert_not_null(t);
	cr_assert(len > 4096);
	cr_assert(strstr(t, "a_fairly_long_metric_name_to_fill_the_buffer 1999\n"));
	free(t);
}

/* The request figures: by route template and code, a 404 before routing under "none". */
Test(prom, request_metrics)
{
	struct api_metrics *m = api_metrics_new();
	const struct api_route *rt;
	size_t n, node = 0, i;
	struct prom p;
	char *t;

	cr_assert_not_null(m);
	rt = api_routes(&n);
	for (i = 0; i < n; i++) {
		if (!strcmp(rt[i].method, "GET") &&
		    !strcmp(rt[i].path, "/api/v1/nodes/{address}")) {
			node = i;
		}
	}
	cr_assert_str_eq(api_metrics_route_name(m, api_metrics_slot(m, &rt[node], false)),
			 "/api/v1/nodes/{address}");
	api_metrics_observe(m, api_metrics_slot(m, &rt[node], false), 200, 700, true);
	api_metrics_observe(m, api_metrics_slot(m, &rt[node], false), 200, 30000, true);
	api_metrics_observe(m, api_metrics_slot(m, NULL, false), 404, 100, true);
	api_metrics_observe(m, api_metrics_slot(m, NULL, true), 299, 100, false);
	prom_init(&p);
	api_metrics_render(m, &p);
	t = take(&p);
	cr_assert(strstr(t, "meshgw_http_requests_total{route=\"/api/v1/nodes/{address}\","
			    "method=\"GET\",code=\"200\"} 2\n"));
	cr_assert(
	    strstr(t, "meshgw_http_requests_total{route=\"none\",method=\"*\",code=\"404\"} 1\n"));
	/* A code outside the table is "other". */
	cr_assert(
	    strstr(t, "meshgw_http_requests_total{route=\"web\",method=\"*\",code=\"other\"} 1\n"));
	/* 0.7 ms is above the 0.5 ms bound; 30 ms above 25 ms. */
	cr_assert(strstr(t, "meshgw_http_request_duration_seconds_bucket{route=\"/api/v1/nodes/"
			    "{address}\",method=\"GET\",le=\"0.0005\"} 0\n"));
	cr_assert(strstr(t, "meshgw_http_request_duration_seconds_bucket{route=\"/api/v1/nodes/"
			    "{address}\",method=\"GET\",le=\"0.001\"} 1\n"));
	cr_assert(strstr(t, "meshgw_http_request_duration_seconds_bucket{route=\"/api/v1/nodes/"
			    "{address}\",method=\"GET\",le=\"0.025\"} 1\n"));
	cr_assert(strstr(t, "meshgw_http_request_duration_seconds_bucket{route=\"/api/v1/nodes/"
			    "{address}\",method=\"GET\",le=\"0.05\"} 2\n"));
	cr_assert(strstr(t, "meshgw_http_request_duration_seconds_sum{route=\"/api/v1/nodes/"
			    "{address}\",method=\"GET\"} 0.0307\n"));
	/* Not timed: no histogram for the web page. */
	cr_assert_null(strstr(t, "duration_seconds_count{route=\"web\""));
	free(t);
	api_metrics_free(m);
}
