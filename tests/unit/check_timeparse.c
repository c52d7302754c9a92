/*
 * Unit tests for lib/timeparse.c. Expected instants were computed
 * independently with GNU date, e.g. `date -u -d 2026-11-22T10:00:00Z +%s`
 * and `TZ=Europe/Madrid date -d '2026-07-15 10:00' +%s`.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeparse.h"

/* 2026-11-22T10:00:00Z */
#define T0 INT64_C(1795341600000)
#define H  INT64_C(3600000)

static void madrid(void)
{
	setenv("TZ", "Europe/Madrid", 1);
	tzset();
}

static const struct {
	const char *in;
	int64_t want;
} accepted[] = {
        /* UTC and offsets */
        {"2026-11-22T10:00:00Z", T0},
        {"2026-11-22T10:00:00z", T0},
        {"2026-11-22t10:00:00Z", T0},
        {"2026-11-22 10:00:00Z", T0},
        {"2026-11-22T10:00Z", T0},
        {"2026-11-22T10:00:00.250+01:00", T0 - H + 250},
        {"2026-11-22T10:00:00+0100", T0 - H},
        {"2026-11-22T10:00+01:00", T0 - H},
        {"2026-11-22T10:00:00-05:30", T0 + 5 * H + H / 2},
        {"2026-11-22T10:00:00-0530", T0 + 5 * H + H / 2},
        {"2026-11-22T10:00:00-00:00", T0},
        {"2026-11-22T10:00:00+00:00", T0},
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T01:00+01:00", 0},
        {"9999-12-31T23:59:59.999Z", INT64_C(253402300799999)},
        {"2026-11-22T00:30:00+01:00", INT64_C(1795303800000)},
        {"2026-11-22T10:00:00.5Z", T0 + 500},
        {"2026-11-22T10:00:00.05Z", T0 + 50},
        {"2026-11-22T10:00:00.123Z", T0 + 123},
        {"2026-11-22T10:00:00.123456789Z", T0 + 123},
        {"2026-11-22T10:00:00.999999999Z", T0 + 999},
        {"2026-11-22T10:00:00,250Z", T0 + 250},
        {"2026-11-22T23:59:59Z", INT64_C(1795391999000)},
        {"2024-02-29T12:00:00Z", INT64_C(1709208000000)},
        {"2000-02-29T00:00:00Z", INT64_C(951782400000)},
        {"1970-01-01T00:00:00Z", 0},
        {"1994-11-06T08:49:37Z", INT64_C(784111777000)},
        /* local wall time, Europe/Madrid: CET (+1) in winter */
        {"2026-11-22 10:00", T0 - H},
        {"2026-11-22 10:00:30", T0 - H + 30000},
        {"2026-11-22T10:00", T0 - H},
        {"2026-11-22T10:00:30", T0 - H + 30000},
        {"2026-11-22 10:00:30.750", T0 - H + 30750},
        /* ... and CEST (+2) in summer */
        {"2026-07-15 10:00", INT64_C(1784102400000)},
        {"2026-07-15T10:00:00", INT64_C(1784102400000)},
        /* the last minute before the spring gap still exists */
        {"2026-03-29 01:59", INT64_C(1774745940000)},
        {"2026-03-29 03:00", INT64_C(1774746000000)},
        /* relative to T0 */
        {"now", T0},
        {"+90s", T0 + 90000},
        {"+10m", T0 + 600000},
        {"+2h", T0 + 2 * H},
        {"+1d", T0 + 24 * H},
        {"+500ms", T0 + 500},
        {"+0s", T0},
};

START_TEST(test_accepted)
{
	char err[128] = "";
	int64_t got = -42;

	madrid();
	ck_assert_msg(time_parse(accepted[_i].in, T0, &got, err, sizeof(err)) ==
	                      0,
	              "'%s' rejected: %s", accepted[_i].in, err);
	ck_assert_msg(got == accepted[_i].want, "'%s': got %lld, want %lld",
	              accepted[_i].in, (long long)got,
	              (long long)accepted[_i].want);
}
END_TEST

static const char *const rejected[] = {
        /* An offset that takes the edge years past the epoch or 9999
         * (found by fuzz_timeparse: it would format as 1969). */
        "1970-01-01T00:00+01:00",
        "9999-12-31T23:59-01:00",
        "",
        "now ",
        " now",
        "NOW",
        "tomorrow",
        "+",
        "+s",
        "+10",
        "+10x",
        "+10 s",
        "+10S",
        "+1.5h",
        "+-5m",
        "-5m",
        "++5m",
        "+99999999999999d",
        "+9223372036854775807ms",
        "+99999999999999999999s",
        "2026-11-22",
        "2026-11-22T",
        "2026-11-22 ",
        "2026-11-22T10",
        "2026-11-22T10:0",
        "2026-11-22T10:00:0",
        "2026-13-01T00:00Z",
        "2026-00-10T00:00Z",
        "2026-02-29T00:00Z",
        "2100-02-29T00:00Z",
        "2026-04-31T00:00Z",
        "2026-11-00T00:00Z",
        "2026-11-32T00:00Z",
        "2026-11-22T24:00Z",
        "2026-11-22T10:60Z",
        "2026-11-22T10:00:60Z",
        "2026-11-22T10:00:00.Z",
        "2026-11-22T10:00:00.1234567890Z",
        "2026-11-22T10:00.5Z",
        "2026-11-22T10:00:00Zjunk",
        "2026-11-22T10:00:00Z ",
        "2026-11-22T10:00:00 Z",
        "2026-11-22T10:00:00+01",
        "2026-11-22T10:00:00+1:00",
        "2026-11-22T10:00:00+01:0",
        "2026-11-22T10:00:00+24:00",
        "2026-11-22T10:00:00+01:60",
        "2026-11-22T10:00:00+01:00:00",
        "2026-11-22 10:00 ",
        "26-11-22T10:00Z",
        "2026-1-22T10:00Z",
        "2026/11/22 10:00",
        "2026-11-22X10:00",
        "2026-11-22T10:00:00Z\xc2\xa0",
        "1969-12-31T23:59:59Z",
        "10000-01-01T00:00Z",
        /* does not exist in Madrid: the clock jumps from 02:00 to 03:00 */
        "2026-03-29 02:30",
        "2026-03-29 02:00",
};

START_TEST(test_rejected)
{
	char err[128] = "";
	int64_t got = -42;

	madrid();
	ck_assert_msg(time_parse(rejected[_i], T0, &got, err, sizeof(err)) ==
	                      -1,
	              "'%s' accepted as %lld", rejected[_i], (long long)got);
	ck_assert_msg(err[0] != '\0', "'%s': no reason given", rejected[_i]);
	ck_assert_int_eq(got, -42);
}
END_TEST

START_TEST(test_err_null_and_small)
{
	char err[8];
	int64_t got;

	ck_assert_int_eq(time_parse("bogus", T0, &got, NULL, 0), -1);
	ck_assert_int_eq(time_parse(NULL, T0, &got, NULL, 0), -1);
	ck_assert_int_eq(
	        time_parse("2026-02-30 10:00", T0, &got, err, sizeof(err)), -1);
	ck_assert_uint_lt(strlen(err), sizeof(err));
}
END_TEST

START_TEST(test_ambiguous_local)
{
	int64_t got;
	char err[128];

	/* 02:30 happens twice on 2026-10-25 in Madrid: either is right. */
	madrid();
	ck_assert_int_eq(
	        time_parse("2026-10-25 02:30", T0, &got, err, sizeof(err)), 0);
	ck_assert_msg(got == INT64_C(1792888200000) ||
	                      got == INT64_C(1792891800000),
	              "got %lld", (long long)got);
}
END_TEST

START_TEST(test_local_follows_tz)
{
	int64_t got;

	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert_int_eq(time_parse("2026-11-22 10:00", 0, &got, NULL, 0), 0);
	ck_assert_int_eq(got, T0);
	setenv("TZ", "America/New_York", 1);
	tzset();
	ck_assert_int_eq(time_parse("2026-11-22 10:00", 0, &got, NULL, 0), 0);
	ck_assert_int_eq(got, T0 + 5 * H);
}
END_TEST

START_TEST(test_relative_overflow_near_limit)
{
	int64_t got;

	/* In range on its own, but not once added to now. */
	ck_assert_int_eq(time_parse("+9223372036854775ms", INT64_MAX - 10, &got,
	                            NULL, 0),
	                 -1);
	ck_assert_int_eq(time_parse("+10ms", INT64_MAX - 10, &got, NULL, 0), 0);
	ck_assert_int_eq(got, INT64_MAX);
}
END_TEST

START_TEST(test_rfc3339)
{
	int64_t got;

	madrid();
	ck_assert_int_eq(time_parse_rfc3339("2026-11-22T10:00:00.000Z", &got),
	                 0);
	ck_assert_int_eq(got, T0);
	ck_assert_int_eq(
	        time_parse_rfc3339("2026-11-22T11:00:00.250+01:00", &got), 0);
	ck_assert_int_eq(got, T0 + 250);
	/* The wire never carries local or relative times. */
	ck_assert_int_eq(time_parse_rfc3339("2026-11-22T10:00:00", &got), -1);
	ck_assert_int_eq(time_parse_rfc3339("2026-11-22 10:00", &got), -1);
	ck_assert_int_eq(time_parse_rfc3339("now", &got), -1);
	ck_assert_int_eq(time_parse_rfc3339("+1s", &got), -1);
	ck_assert_int_eq(time_parse_rfc3339("", &got), -1);
	ck_assert_int_eq(time_parse_rfc3339(NULL, &got), -1);
}
END_TEST

START_TEST(test_format_rfc3339)
{
	char buf[TIME_RFC3339_LEN];
	int64_t back;

	ck_assert_str_eq(time_format_rfc3339(T0 + 250, buf),
	                 "2026-11-22T10:00:00.250Z");
	ck_assert_str_eq(time_format_rfc3339(0, buf),
	                 "1970-01-01T00:00:00.000Z");
	ck_assert_str_eq(time_format_rfc3339(-1, buf),
	                 "1969-12-31T23:59:59.999Z");
	ck_assert_str_eq(time_format_rfc3339(INT64_C(1709208000007), buf),
	                 "2024-02-29T12:00:00.007Z");
	/* Round trip: what we write, we read back to the millisecond. */
	for (int64_t ms = T0 - 3 * H; ms < T0 + 3 * H; ms += 777777) {
		time_format_rfc3339(ms, buf);
		ck_assert_int_eq(time_parse_rfc3339(buf, &back), 0);
		ck_assert_int_eq(back, ms);
	}
	/* The years written by hand, at their edges. */
	ck_assert_str_eq(time_format_rfc3339(INT64_C(-62167219200000), buf),
	                 "0000-01-01T00:00:00.000Z");
	ck_assert_str_eq(time_format_rfc3339(INT64_C(253402300799999), buf),
	                 "9999-12-31T23:59:59.999Z");
	ck_assert_str_eq(time_format_rfc3339(INT64_C(946684799010), buf),
	                 "1999-12-31T23:59:59.010Z");
}
END_TEST

/* The hand-written digits agree with strftime over a wide sweep. */
START_TEST(test_format_rfc3339_sweep)
{
	char buf[TIME_RFC3339_LEN], want[TIME_RFC3339_LEN + 8];
	struct tm tm;

	for (int64_t ms = INT64_C(-62167219200000);
	     ms < INT64_C(253402300799999); ms += INT64_C(86399999937)) {
		time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
		int frac = (int)(ms - (int64_t)t * 1000);
		size_t n;

		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		/* strftime writes years below 1000 without padding. */
		if (tm.tm_year + 1900 < 1000)
			continue;
		snprintf(want + n, sizeof(want) - n, ".%03dZ", frac);
		ck_assert_str_eq(time_format_rfc3339(ms, buf), want);
	}
}
END_TEST

START_TEST(test_format_local)
{
	char buf[32];

	madrid();
	ck_assert_str_eq(time_format_local(T0, buf), "2026-11-22 11:00:00");
	ck_assert_str_eq(time_format_local(INT64_C(1784102400999), buf),
	                 "2026-07-15 10:00:00");
}
END_TEST

static const struct {
	const char *in;
	int64_t want;
} durations[] = {
        {"250ms", 250},   {"10s", 10000},
        {"2m", 120000},   {"1h", 3600000},
        {"1d", 86400000}, {"10", 10000},
        {"0", 0},         {"0ms", 0},
        {"007s", 7000},   {"9223372036854775807ms", INT64_MAX},
};

START_TEST(test_duration_accepted)
{
	int64_t got = -42;

	ck_assert_msg(duration_parse(durations[_i].in, &got) == 0,
	              "'%s' rejected", durations[_i].in);
	ck_assert_int_eq(got, durations[_i].want);
}
END_TEST

static const char *const bad_durations[] = {
        "",
        "-1",
        "-1s",
        "+5s",
        "10 s",
        " 10s",
        "10s ",
        "10x",
        "s",
        "ms",
        "1.5s",
        "10S",
        "10sec",
        "10ms5",
        "1h30m",
        "99999999999999999999",
        "9223372036854775807s",
        "9223372036854775808ms",
        "106751991167301d",
};

START_TEST(test_duration_rejected)
{
	int64_t got = -42;

	ck_assert_msg(duration_parse(bad_durations[_i], &got) == -1,
	              "'%s' accepted", bad_durations[_i]);
	ck_assert_int_eq(got, -42);
	ck_assert_int_eq(duration_parse(NULL, &got), -1);
}
END_TEST

START_TEST(test_duration_format)
{
	char buf[32];

	ck_assert_str_eq(duration_format(250, buf, sizeof(buf)), "250ms");
	ck_assert_str_eq(duration_format(10000, buf, sizeof(buf)), "10s");
	ck_assert_str_eq(duration_format(150000, buf, sizeof(buf)), "2m30s");
	ck_assert_str_eq(duration_format(3600000, buf, sizeof(buf)), "1h");
	ck_assert_str_eq(duration_format(86400000, buf, sizeof(buf)), "1d");
	ck_assert_str_eq(duration_format(0, buf, sizeof(buf)), "0s");
	ck_assert_str_eq(duration_format(90061001, buf, sizeof(buf)),
	                 "1d1h1m1s1ms");
	ck_assert_str_eq(duration_format(-1500, buf, sizeof(buf)), "-1s500ms");
	ck_assert_str_eq(duration_format(INT64_MIN, buf, sizeof(buf)),
	                 "-106751991167d7h12m55s808ms");
	/* A short buffer truncates but stays terminated. */
	ck_assert_str_eq(duration_format(90061001, buf, 5), "1d1h");
}
END_TEST

START_TEST(test_parse_date)
{
	int64_t got;
	char err[128];

	madrid();
	/* A bare date is the local midnight that begins it (CET, +1). */
	ck_assert_int_eq(
	        time_parse_date("2026-11-22", T0, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(got, INT64_C(1795302000000));
	/* Anything else is a TIME. */
	ck_assert_int_eq(time_parse_date("+1d", T0, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(got, T0 + 24 * H);
	ck_assert_int_eq(time_parse_date("2026-11-22T10:00:00Z", 0, &got, err,
	                                 sizeof(err)),
	                 0);
	ck_assert_int_eq(got, T0);
	ck_assert_int_eq(
	        time_parse_date("2026-11-22 11:00", 0, &got, err, sizeof(err)),
	        0);
	ck_assert_int_eq(got, T0);
	/* Sao Paulo skipped the midnight of 2018-11-04: the day began at 01:00.
	 */
	setenv("TZ", "America/Sao_Paulo", 1);
	tzset();
	ck_assert_int_eq(
	        time_parse_date("2018-11-04", 0, &got, err, sizeof(err)), 0);
	ck_assert_int_eq(got, INT64_C(1541300400000));
}
END_TEST

/* Dates the calendar rules refuse, and shapes that are not a TIME either. */
static const char *const bad_dates[] = {
        "2026-02-29", "2026-02-30",    "2026-04-31", "2026-13-01",
        "2026-00-10", "2026-11-00",    "1969-12-31", "2026-1-01",
        "2026-11-2",  "2026-11-22x",   "20261122",   "",
        "tomorrow",   "2026-11-22-31",
};

START_TEST(test_parse_date_rejected)
{
	int64_t got = 42;
	char err[128] = "";

	madrid();
	ck_assert_int_eq(
	        time_parse_date(bad_dates[_i], T0, &got, err, sizeof(err)), -1);
	ck_assert_int_eq(got, 42);
	ck_assert_msg(err[0] != '\0', "no reason for '%s'", bad_dates[_i]);
	/* The calendar's reason is kept: scripts look for "no such date". */
	if (strlen(bad_dates[_i]) == 10 && bad_dates[_i][4] == '-' &&
	    bad_dates[_i][7] == '-')
		ck_assert_msg(strstr(err, "no such date") != NULL, "'%s': %s",
		              bad_dates[_i], err);
	/* A leap day is a date. */
	ck_assert_int_eq(time_parse_date("2024-02-29", T0, &got, NULL, 0), 0);
}
END_TEST

static Suite *timeparse_suite(void)
{
	Suite *s = suite_create("timeparse");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_accepted, 0,
	                    sizeof(accepted) / sizeof(accepted[0]));
	tcase_add_loop_test(tc, test_rejected, 0,
	                    sizeof(rejected) / sizeof(rejected[0]));
	tcase_add_test(tc, test_err_null_and_small);
	tcase_add_test(tc, test_ambiguous_local);
	tcase_add_test(tc, test_local_follows_tz);
	tcase_add_test(tc, test_relative_overflow_near_limit);
	tcase_add_test(tc, test_rfc3339);
	tcase_add_test(tc, test_format_rfc3339);
	tcase_add_test(tc, test_format_rfc3339_sweep);
	tcase_add_test(tc, test_format_local);
	tcase_add_loop_test(tc, test_duration_accepted, 0,
	                    sizeof(durations) / sizeof(durations[0]));
	tcase_add_loop_test(tc, test_duration_rejected, 0,
	                    sizeof(bad_durations) / sizeof(bad_durations[0]));
	tcase_add_test(tc, test_duration_format);
	tcase_add_test(tc, test_parse_date);
	tcase_add_loop_test(tc, test_parse_date_rejected, 0,
	                    sizeof(bad_dates) / sizeof(bad_dates[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(timeparse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
