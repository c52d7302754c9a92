/*
 * Calendar times: parsing, and local -> UTC at both daylight saving edges
 * in two zones. Expected instants were computed independently with GNU
 * date, e.g. `date -u -d 'TZ="Europe/Madrid" 2026-03-29 03:00' +%s`; the
 * gap and overlap answers are calendar.h's (RFC 5545 section 3.3.5).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "caltime.h"
#include "check_main.h"

#define S(x) (INT64_C(x) * 1000)

static int64_t utc(const char *tz, int y, int mo, int d, int h, int mi, int s)
{
	int64_t out = -1;

	ck_assert_int_eq(calendar_local_to_utc(tz, y, mo, d, h, mi, s, &out),
	                 0);
	return out;
}

/* Madrid, 2026-03-29: 02:00 CET becomes 03:00 CEST. */
START_TEST(test_madrid_spring_gap)
{
	const char *tz = "Europe/Madrid";

	ck_assert_int_eq(utc(tz, 2026, 3, 29, 1, 59, 59), S(1774745999));
	ck_assert_int_eq(utc(tz, 2026, 3, 29, 3, 0, 0), S(1774746000));
	/* In the gap: read with the offset before it, so 02:30 is 03:30. */
	ck_assert_int_eq(utc(tz, 2026, 3, 29, 2, 30, 0), S(1774747800));
	ck_assert_int_eq(utc(tz, 2026, 3, 29, 3, 30, 0), S(1774747800));
	ck_assert_int_eq(utc(tz, 2026, 3, 29, 2, 0, 0), S(1774746000));
}
END_TEST

/* Madrid, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:xx happens twice. */
START_TEST(test_madrid_autumn_overlap)
{
	const char *tz = "Europe/Madrid";

	ck_assert_int_eq(utc(tz, 2026, 10, 25, 1, 59, 0), S(1792886340));
	ck_assert_int_eq(utc(tz, 2026, 10, 25, 3, 0, 0), S(1792893600));
	/* Twice: the first of the two instants (still CEST). */
	ck_assert_int_eq(utc(tz, 2026, 10, 25, 2, 30, 0), S(1792888200));
	ck_assert_int_eq(utc(tz, 2026, 10, 25, 2, 0, 0), S(1792886400));
	ck_assert_int_eq(utc(tz, 2026, 11, 22, 10, 0, 0), S(1795338000));
}
END_TEST

/* New York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 -> 01:00. */
START_TEST(test_new_york_edges)
{
	const char *tz = "America/New_York";

	ck_assert_int_eq(utc(tz, 2026, 3, 8, 1, 59, 0), S(1772953140));
	ck_assert_int_eq(utc(tz, 2026, 3, 8, 3, 0, 0), S(1772953200));
	ck_assert_int_eq(utc(tz, 2026, 3, 8, 2, 30, 0), S(1772955000));
	ck_assert_int_eq(utc(tz, 2026, 11, 1, 0, 59, 0), S(1793509140));
	ck_assert_int_eq(utc(tz, 2026, 11, 1, 2, 0, 0), S(1793516400));
	/* 01:30 happens at 05:30Z (EDT) and 06:30Z (EST): the first. */
	ck_assert_int_eq(utc(tz, 2026, 11, 1, 1, 30, 0), S(1793511000));
}
END_TEST

START_TEST(test_zones)
{
	int64_t out;

	ck_assert_int_eq(utc("UTC", 2026, 11, 22, 10, 0, 0), S(1795341600));
	ck_assert_int_eq(utc("Asia/Kolkata", 2026, 11, 22, 15, 30, 0),
	                 S(1795341600));
	ck_assert_int_eq(calendar_local_to_utc("Europe/Madird", 2026, 1, 1, 0,
	                                       0, 0, &out),
	                 -1);
	/* The name becomes a path: nothing that climbs out of zoneinfo. */
	ck_assert_ptr_null(caltime_zone("../../etc/passwd"));
	ck_assert_ptr_null(caltime_zone("/etc/localtime"));
	ck_assert_ptr_null(caltime_zone(""));
	ck_assert_int_eq(
	        calendar_local_to_utc("UTC", 2026, 2, 30, 0, 0, 0, &out), -1);
	ck_assert_int_eq(
	        calendar_local_to_utc("UTC", 2026, 1, 1, 24, 0, 0, &out), -1);
}
END_TEST

START_TEST(test_utc_to_local)
{
	const struct caltime_zone *z = caltime_zone("Europe/Madrid");
	struct caltime_civil c;

	ck_assert_ptr_nonnull(z);
	caltime_utc_to_local(z, 1792888200, &c); /* the first 02:30 */
	ck_assert_int_eq(c.year, 2026);
	ck_assert_int_eq(c.mon, 10);
	ck_assert_int_eq(c.day, 25);
	ck_assert_int_eq(c.hour, 2);
	ck_assert_int_eq(c.min, 30);
	caltime_utc_to_local(z, 1792888200 + 3600, &c); /* the second */
	ck_assert_int_eq(c.hour, 2);
	ck_assert_int_eq(caltime_utc_offset(z, 1792888200), 7200);
	ck_assert_int_eq(caltime_utc_offset(z, 1792888200 + 3600), 3600);
}
END_TEST

START_TEST(test_days)
{
	int y, m, d;

	ck_assert_int_eq(caltime_days(1970, 1, 1), 0);
	ck_assert_int_eq(caltime_days(2026, 11, 22), 20779);
	ck_assert_int_eq(caltime_days(2000, 3, 1), 11017);
	for (int64_t n = -800000; n < 3000000; n += 997) {
		caltime_civil_from_days(n, &y, &m, &d);
		ck_assert_int_eq(caltime_days(y, m, d), n);
	}
}
END_TEST

START_TEST(test_parse)
{
	struct caltime_civil c;
	char err[128];

	ck_assert_int_eq(caltime_parse("2026-11-22 10:05", &c, err, 128), 0);
	ck_assert(c.has_time && !c.has_zone && c.hour == 10 && c.min == 5);
	ck_assert_int_eq(caltime_parse("2026-11-22T10:05:07", &c, err, 128), 0);
	ck_assert_int_eq(c.sec, 7);
	ck_assert_int_eq(caltime_parse("2026-11-22", &c, err, 128), 0);
	ck_assert(!c.has_time);
	ck_assert_int_eq(caltime_parse("2026-11-22T10:00Z", &c, err, 128), 0);
	ck_assert(c.has_zone && c.offset_min == 0);
	ck_assert_int_eq(
	        caltime_parse("2026-11-22 10:00:00-05:30", &c, err, 128), 0);
	ck_assert_int_eq(c.offset_min, -330);
	ck_assert_int_eq(caltime_parse("2026-11-22T10:00+0100", &c, err, 128),
	                 0);
	ck_assert_int_eq(c.offset_min, 60);

	ck_assert_int_eq(caltime_parse("2026-02-29 10:00", &c, err, 128), -1);
	ck_assert_str_eq(err, "day 29 out of range for 2026-02");
	ck_assert_int_eq(caltime_parse("2026-11-22 24:00", &c, err, 128), -1);
	ck_assert_str_eq(err, "time 24:00:00 out of range");
	ck_assert_int_eq(caltime_parse("22/11/2026", &c, err, 128), -1);
	ck_assert_str_eq(err, "expected a date as YYYY-MM-DD");
	ck_assert_int_eq(caltime_parse("2026-11-22 10", &c, err, 128), -1);
	ck_assert_int_eq(caltime_parse("2026-11-22 10:00 CET", &c, err, 128),
	                 -1);
	ck_assert_str_eq(err, "unexpected ' CET' after the time");
	ck_assert_int_eq(caltime_parse("2026-11-22 10:00+1", &c, err, 128), -1);
	ck_assert_int_eq(caltime_parse("2026-11-22Z", &c, err, 128), -1);
}
END_TEST

START_TEST(test_system_zone)
{
	char *name;

	setenv("TZ", ":America/New_York", 1);
	name = caltime_system_zone_name();
	ck_assert_str_eq(name, "America/New_York");
	free(name);
	setenv("TZ", "/usr/share/zoneinfo/Europe/Madrid", 1);
	name = caltime_system_zone_name();
	ck_assert_str_eq(name, "Europe/Madrid");
	free(name);
	unsetenv("TZ");
	name = caltime_system_zone_name();
	ck_assert_ptr_nonnull(name);
	ck_assert(name[0] != '\0');
	free(name);
}
END_TEST

static Suite *caltime_suite(void)
{
	Suite *s = suite_create("caltime");
	TCase *tc = tcase_create("time");

	tcase_add_test(tc, test_madrid_spring_gap);
	tcase_add_test(tc, test_madrid_autumn_overlap);
	tcase_add_test(tc, test_new_york_edges);
	tcase_add_test(tc, test_zones);
	tcase_add_test(tc, test_utc_to_local);
	tcase_add_test(tc, test_days);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_system_zone);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(caltime_suite)
