/*
 * gateway/util.c: times printed without gmtime_r() agree with it, day by day
 * across leap years and century years.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <time.h>

#include "gateway/util.h"

static void expect_gmtime(uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char want[80];
	json_t *j = gw_time_json(ms);

	gmtime_r(&t, &tm);
	snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ms % 1000));
	cr_assert_str_eq(json_string_value(j), want, "at %llu ms", (unsigned long long)ms);
	json_decref(j);
}

Test(util, time_json_agrees_with_gmtime)
{
	/* Every day from 1970 to 2500 (2000 and 2400 leap, 2100 and 2200 not), at a moving time. */
	for (uint64_t day = 0; day < 194000; day++) {
		expect_gmtime(day * 86400000 + (day * 7919 % 86400) * 1000 + day % 1000);
	}
	expect_gmtime(0);
	expect_gmtime(951782400000);       /* 2000-02-29T00:00:00Z */
	expect_gmtime(4107542399999);      /* 2100-02-28T23:59:59.999Z */
	expect_gmtime(253402300799999ull); /* 9999-12-31T23:59:59.999Z */
}
