/*
 * Delivery statistics, the pure part: the lateness histogram and its
 * percentiles, days and ISO weeks in a zone across daylight saving
 * changes, and the sums per group. Expected instants and week numbers
 * come from GNU date, e.g. `date -u -d 'TZ="Europe/Madrid" 2026-03-30
 * 00:00'` and `date -d 2026-12-31 +%G-W%V`.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caltime.h"
#include "check_main.h"
#include "stats.h"
#include "timeparse.h"

static int64_t at(const char *rfc3339)
{
	int64_t ms;

	ck_assert_int_eq(time_parse_rfc3339(rfc3339, &ms), 0);
	return ms;
}

/* Below 16 ms a bucket is one ms; above, 1/16 of its power of two. */
START_TEST(test_hist_buckets)
{
	int64_t lo, hi;

	for (int64_t v = 0; v < 16; v++) {
		ck_assert_uint_eq(stats_hist_bucket(v), (unsigned)v);
		stats_hist_bounds((unsigned)v, &lo, &hi);
		ck_assert_int_eq(lo, v);
		ck_assert_int_eq(hi, v + 1);
	}
	ck_assert_uint_eq(stats_hist_bucket(-5), 0);
	ck_assert_uint_eq(stats_hist_bucket(16), 16);
	ck_assert_uint_eq(stats_hist_bucket(31), 31);
	ck_assert_uint_eq(stats_hist_bucket(32), 32);
	ck_assert_uint_eq(stats_hist_bucket(33), 32); /* [32, 34) */
	ck_assert_uint_lt(stats_hist_bucket(INT64_MAX), STATS_HIST_BUCKETS);
	/* Every value lies in its bucket, whose width is <= 1/16 of it. */
	for (int64_t v = 1; v > 0 && v < INT64_MAX / 3; v = v * 3 + 1) {
		stats_hist_bounds(stats_hist_bucket(v), &lo, &hi);
		ck_assert_int_le(lo, v);
		ck_assert_int_gt(hi, v);
		ck_assert_int_le((hi - lo) * 16, lo > 16 ? lo : 16);
	}
}
END_TEST

/* Percentiles within the stated error of the exact nearest rank. */
START_TEST(test_hist_quantiles)
{
	struct stats_hist h = {0};
	int64_t p;

	ck_assert_int_eq(stats_hist_quantile(&h, 0.5), -1);
	stats_hist_add(&h, 1234);
	/* One value: exact (clamped to what was seen). */
	ck_assert_int_eq(stats_hist_quantile(&h, 0.5), 1234);
	ck_assert_int_eq(stats_hist_quantile(&h, 0.99), 1234);

	memset(&h, 0, sizeof(h));
	for (int64_t v = 1; v <= 10000; v++)
		stats_hist_add(&h, v);
	ck_assert_uint_eq(h.count, 10000);
	p = stats_hist_quantile(&h, 0.5);
	ck_assert_msg(p >= 5000 * (1 - STATS_HIST_ERROR_PCT / 100) &&
	                      p <= 5000 * (1 + STATS_HIST_ERROR_PCT / 100),
	              "p50 %lld", (long long)p);
	p = stats_hist_quantile(&h, 0.99);
	ck_assert_msg(p >= 9900 * (1 - STATS_HIST_ERROR_PCT / 100) &&
	                      p <= 9900 * (1 + STATS_HIST_ERROR_PCT / 100),
	              "p99 %lld", (long long)p);
	ck_assert_int_eq(stats_hist_quantile(&h, 1), 10000);

	/* Small values are exact; early ones count as 0. */
	memset(&h, 0, sizeof(h));
	stats_hist_add(&h, -40);
	stats_hist_add(&h, 3);
	stats_hist_add(&h, 7);
	ck_assert_int_eq(h.min, 0);
	ck_assert_int_eq(stats_hist_quantile(&h, 0.5), 3);
	ck_assert_int_eq(stats_hist_quantile(&h, 0.99), 7);
}
END_TEST

/* Madrid's spring day has 23 hours, its autumn day 25. */
START_TEST(test_days_dst)
{
	const struct caltime_zone *z = caltime_zone("Europe/Madrid");
	int64_t from, to;
	char key[16];

	ck_assert_ptr_nonnull(z);
	stats_period(z, 0, at("2026-03-29T12:00:00Z"), &from, &to, key);
	ck_assert_str_eq(key, "2026-03-29");
	ck_assert_int_eq(from, at("2026-03-28T23:00:00Z"));
	ck_assert_int_eq(to, at("2026-03-29T22:00:00Z"));
	/* 23:30 UTC on the 28th is already the 29th in Madrid. */
	stats_period(z, 0, at("2026-03-28T23:30:00Z"), &from, &to, key);
	ck_assert_str_eq(key, "2026-03-29");
	stats_period(z, 0, at("2026-03-28T22:59:59.999Z"), &from, &to, key);
	ck_assert_str_eq(key, "2026-03-28");
	ck_assert_int_eq(to, at("2026-03-28T23:00:00Z"));

	stats_period(z, 0, at("2026-10-25T02:30:00Z"), &from, &to, key);
	ck_assert_str_eq(key, "2026-10-25");
	ck_assert_int_eq(from, at("2026-10-24T22:00:00Z"));
	ck_assert_int_eq(to, at("2026-10-25T23:00:00Z"));
	ck_assert_int_eq(to - from, 25 * 3600 * 1000LL);

	/* No zone: UTC. */
	stats_period(NULL, 0, at("2026-03-28T23:30:00Z"), &from, &to, key);
	ck_assert_str_eq(key, "2026-03-28");
	ck_assert_int_eq(to - from, 24 * 3600 * 1000LL);
}
END_TEST

/* ISO weeks: from Monday, numbered by their Thursday's year. */
START_TEST(test_weeks)
{
	const struct caltime_zone *z = caltime_zone("Europe/Madrid");
	int64_t from, to;
	char key[16];

	/* Sunday 29 March is in the week of Monday 23, an hour short. */
	stats_period(z, 1, at("2026-03-29T12:00:00Z"), &from, &to, key);
	ck_assert_str_eq(key, "2026-W13");
	ck_assert_int_eq(from, at("2026-03-22T23:00:00Z"));
	ck_assert_int_eq(to, at("2026-03-29T22:00:00Z"));
	ck_assert_int_eq(to - from, (7 * 24 - 1) * 3600 * 1000LL);
	/* Monday 30 begins the next. */
	stats_period(z, 1, at("2026-03-29T22:00:00Z"), &from, &to, key);
	ck_assert_str_eq(key, "2026-W14");
	/* Year ends: 2026 has 53 weeks, and 29 December 2025 is in its first.
	 */
	stats_period(z, 1, at("2026-12-31T12:00:00Z"), &from, &to, key);
	ck_assert_str_eq(key, "2026-W53");
	stats_period(z, 1, at("2027-01-03T12:00:00Z"), &from, &to, key);
	ck_assert_str_eq(key, "2026-W53");
	stats_period(z, 1, at("2027-01-04T12:00:00Z"), &from, &to, key);
	ck_assert_str_eq(key, "2027-W01");
	stats_period(z, 1, at("2025-12-29T12:00:00Z"), &from, &to, key);
	ck_assert_str_eq(key, "2026-W01");
}
END_TEST

static void add(struct stats_result *r, struct stats_row row)
{
	ck_assert_int_eq(stats_add(r, &row), 0);
}

/* Rows either side of Madrid's spring change, by day and by week. */
START_TEST(test_group_days)
{
	struct stats_query q = {.since_ms = 0,
	                        .until_ms = INT64_MAX,
	                        .by = STATS_BY_DAY,
	                        .zone = caltime_zone("Europe/Madrid")};
	static const char *const times[] = {
	        "2026-03-28T22:30:00Z", /* the 28th, 23:30 CET */
	        "2026-03-28T23:10:00Z", /* the 29th, 00:10 CET */
	        "2026-03-29T21:59:00Z", /* the 29th, 23:59 CEST */
	        "2026-03-29T22:00:00Z", /* the 30th, 00:00 CEST, a Monday */
	};
	struct stats_result r;

	stats_init(&r, &q);
	for (size_t i = 0; i < 4; i++)
		add(&r, (struct stats_row){.due_ms = at(times[i]),
		                           .state = DS_PUBLISHED,
		                           .attempts = 1,
		                           .timed = 1});
	stats_finish(&r);
	ck_assert_uint_eq(r.ngroups, 3);
	ck_assert_str_eq(r.groups[0].key, "2026-03-28");
	ck_assert_str_eq(r.groups[1].key, "2026-03-29");
	ck_assert_int_eq(r.groups[1].states[DS_PUBLISHED], 2);
	ck_assert_str_eq(r.groups[2].key, "2026-03-30");
	ck_assert_int_eq(r.all.states[DS_PUBLISHED], 4);
	stats_clear(&r);

	q.by = STATS_BY_WEEK;
	stats_init(&r, &q);
	for (size_t i = 0; i < 4; i++)
		add(&r, (struct stats_row){.due_ms = at(times[i]),
		                           .state = DS_FAILED});
	stats_finish(&r);
	ck_assert_uint_eq(r.ngroups, 2);
	ck_assert_str_eq(r.groups[0].key, "2026-W13");
	ck_assert_int_eq(r.groups[0].states[DS_FAILED], 3);
	ck_assert_str_eq(r.groups[1].key, "2026-W14");
	stats_clear(&r);
}
END_TEST

/* On time within 1 s either way; attempts; reasons ranked, capped. */
START_TEST(test_sums)
{
	struct stats_query q = {.until_ms = 1, .by = STATS_BY_CAMPAIGN};
	struct stats_result r;
	json_t *j, *g;
	char why[32];

	stats_init(&r, &q);
	add(&r, (struct stats_row){.state = DS_PUBLISHED,
	                           .campaign = "b",
	                           .attempts = 1,
	                           .timed = 1,
	                           .late_ms = 1000});
	add(&r, (struct stats_row){.state = DS_PUBLISHED,
	                           .campaign = "b",
	                           .attempts = 3,
	                           .timed = 1,
	                           .late_ms = 1001});
	add(&r, (struct stats_row){.state = DS_PUBLISHED,
	                           .campaign = "a",
	                           .attempts = 1,
	                           .timed = 1,
	                           .late_ms = -1000});
	/* Published by hand without an attempt: counted, not timed. */
	add(&r, (struct stats_row){.state = DS_PUBLISHED, .attempts = 0});
	add(&r, (struct stats_row){.state = DS_RETRY_WAIT, .campaign = "a"});
	add(&r, (struct stats_row){.state = DS_CANCELLED,
	                           .campaign = "a",
	                           .last_error = "not a failure"});
	for (int i = 0; i < 3; i++)
		add(&r, (struct stats_row){.state = DS_FAILED,
		                           .campaign = "a",
		                           .last_error = "HTTP 400"});
	add(&r, (struct stats_row){.state = DS_MISSED,
	                           .campaign = "a",
	                           .last_error = "down"});
	add(&r, (struct stats_row){.state = DS_UNKNOWN, .campaign = "a"});
	for (int i = 0; i < STATS_REASONS_MAX + 5; i++) {
		snprintf(why, sizeof(why), "unique %d", i);
		add(&r, (struct stats_row){.state = DS_FAILED,
		                           .campaign = "c",
		                           .last_error = why});
	}
	stats_finish(&r);

	ck_assert_int_eq(r.all.published_timed, 3);
	ck_assert_int_eq(r.all.on_time, 2);
	ck_assert_int_eq(r.all.published_attempts, 5);
	ck_assert_uint_eq(r.ngroups, 4);
	ck_assert_ptr_null(r.groups[0].key); /* no campaign sorts first */
	ck_assert_str_eq(r.groups[1].key, "a");
	ck_assert_uint_eq(r.groups[1].nreasons, 3);
	ck_assert_str_eq(r.groups[1].reasons[0].text, "HTTP 400");
	ck_assert_uint_eq(r.groups[1].reasons[0].n, 3);
	ck_assert_str_eq(r.groups[1].reasons[1].text, "down");
	ck_assert_ptr_null(r.groups[1].reasons[2].text); /* none recorded */
	ck_assert_uint_eq(r.groups[3].nreasons, STATS_REASONS_MAX);
	ck_assert_uint_eq(r.groups[3].reasons_other, 5);

	j = stats_json(&r);
	ck_assert_ptr_nonnull(j);
	g = json_array_get(json_object_get(j, "groups"), 2);
	ck_assert_str_eq(json_string_value(json_object_get(g, "campaign")),
	                 "b");
	ck_assert_int_eq(json_integer_value(json_object_get(g, "on_time")), 1);
	ck_assert(json_real_value(json_object_get(g, "on_time_rate")) == 0.5);
	ck_assert(json_real_value(
	                  json_object_get(g, "attempts_per_published")) == 2.0);
	g = json_object_get(j, "total");
	ck_assert_int_eq(json_integer_value(json_object_get(g, "scheduled")),
	                 1);
	ck_assert_uint_eq(
	        json_array_size(json_object_get(g, "failure_reasons")),
	        STATS_TOP_REASONS);
	ck_assert(json_is_null(json_object_get(
	        json_array_get(json_object_get(j, "groups"), 0), "campaign")));
	json_decref(j);
	stats_clear(&r);
}
END_TEST

START_TEST(test_by_names)
{
	ck_assert_int_eq(stats_by_parse("channel"), STATS_BY_CHANNEL);
	ck_assert_int_eq(stats_by_parse("week"), STATS_BY_WEEK);
	ck_assert_int_eq(stats_by_parse("month"), -1);
	ck_assert_int_eq(stats_by_parse(NULL), -1);
	ck_assert_str_eq(stats_by_name(STATS_BY_DAY), "day");
}
END_TEST

static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_hist_buckets);
	tcase_add_test(tc, test_hist_quantiles);
	tcase_add_test(tc, test_days_dst);
	tcase_add_test(tc, test_weeks);
	tcase_add_test(tc, test_group_days);
	tcase_add_test(tc, test_sums);
	tcase_add_test(tc, test_by_names);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(stats_suite)
