/*
 * Unit tests for lib/backoff.c. Epoch seconds of the HTTP-dates were
 * computed with GNU date, e.g. `date -u -d 1994-11-06T08:49:37Z +%s`.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "backoff.h"
#include "check_main.h"

/* Sun, 22 Nov 2026 10:00:00 GMT */
#define T0 INT64_C(1795341600000)
/* Sun, 06 Nov 1994 08:49:37 GMT */
#define T1994   INT64_C(784111777000)
#define WEEK_MS INT64_C(604800000)

static const struct {
	long status;
	enum http_verdict want;
} statuses[] = {
        {200, VERDICT_PUBLISHED}, {201, VERDICT_PUBLISHED},
        {204, VERDICT_PUBLISHED}, {299, VERDICT_PUBLISHED},
        {0, VERDICT_RETRY},       {408, VERDICT_RETRY},
        {425, VERDICT_RETRY},     {429, VERDICT_RETRY},
        {500, VERDICT_RETRY},     {502, VERDICT_RETRY},
        {503, VERDICT_RETRY},     {504, VERDICT_RETRY},
        {599, VERDICT_RETRY},     {100, VERDICT_FAILED},
        {199, VERDICT_FAILED},    {300, VERDICT_FAILED},
        {301, VERDICT_FAILED},    {304, VERDICT_FAILED},
        {400, VERDICT_FAILED},    {401, VERDICT_FAILED},
        {403, VERDICT_FAILED},    {404, VERDICT_FAILED},
        {409, VERDICT_FAILED},    {410, VERDICT_FAILED},
        {413, VERDICT_FAILED},    {422, VERDICT_FAILED},
        {499, VERDICT_FAILED},    {600, VERDICT_FAILED},
        {-1, VERDICT_FAILED},     {999, VERDICT_FAILED},
};

START_TEST(test_classify)
{
	ck_assert_msg(backoff_classify_status(statuses[_i].status) ==
	                      statuses[_i].want,
	              "status %ld: got %d, want %d", statuses[_i].status,
	              backoff_classify_status(statuses[_i].status),
	              statuses[_i].want);
}
END_TEST

START_TEST(test_exponential)
{
	/* Without jitter's random half: the top is base * 2^(n-1). */
	for (unsigned n = 1; n <= 7; n++) {
		int64_t d = INT64_C(100) << (n - 1);

		ck_assert_int_eq(backoff_delay_ms(n, 100, 10000, UINT32_MAX),
		                 d);
		ck_assert_int_eq(backoff_delay_ms(n, 100, 10000, 0), d / 2);
	}
	/* Attempt 0 is treated like the first. */
	ck_assert_int_eq(backoff_delay_ms(0, 100, 10000, UINT32_MAX), 100);
}
END_TEST

START_TEST(test_capped)
{
	/* 100 * 2^7 = 12800 > 10000 */
	ck_assert_int_eq(backoff_delay_ms(8, 100, 10000, UINT32_MAX), 10000);
	ck_assert_int_eq(backoff_delay_ms(8, 100, 10000, 0), 5000);
	/* Far past the cap, nothing overflows. */
	ck_assert_int_eq(backoff_delay_ms(64, 100, 10000, UINT32_MAX), 10000);
	ck_assert_int_eq(backoff_delay_ms(1000, 100, 10000, UINT32_MAX), 10000);
	ck_assert_int_eq(backoff_delay_ms(UINT32_MAX, 30000, 3600000, 0),
	                 1800000);
	/* Doubling near INT64_MAX saturates instead of wrapping. */
	ck_assert_int_eq(
	        backoff_delay_ms(3, INT64_MAX / 2 + 1, INT64_MAX, UINT32_MAX),
	        INT64_MAX);
	ck_assert_int_eq(backoff_delay_ms(3, INT64_MAX / 2 + 1, INT64_MAX, 0),
	                 INT64_MAX / 2 + 1);
	/* A cap below the base wins. */
	ck_assert_int_eq(backoff_delay_ms(1, 1000, 500, UINT32_MAX), 500);
	ck_assert_int_eq(backoff_delay_ms(1, 1000, 500, 0), 250);
	/* Nonsense configuration gives no wait rather than garbage. */
	ck_assert_int_eq(backoff_delay_ms(1, 0, 500, UINT32_MAX), 0);
	ck_assert_int_eq(backoff_delay_ms(1, -5, 500, UINT32_MAX), 0);
	ck_assert_int_eq(backoff_delay_ms(1, 100, 0, UINT32_MAX), 0);
}
END_TEST

START_TEST(test_jitter_bounds)
{
	int64_t prev = 0;

	/* Odd d: the fixed half rounds up, so 1 ms never becomes 0. */
	ck_assert_int_eq(backoff_delay_ms(1, 101, 10000, 0), 51);
	ck_assert_int_eq(backoff_delay_ms(1, 101, 10000, UINT32_MAX), 101);
	ck_assert_int_eq(backoff_delay_ms(1, 1, 10000, 0), 1);
	ck_assert_int_eq(backoff_delay_ms(1, 1, 10000, UINT32_MAX), 1);
	/* Halfway through the random range, halfway through the span. */
	ck_assert_int_eq(backoff_delay_ms(1, 10000, 10000, UINT32_MAX / 2),
	                 7499);
	/* Monotonic in rnd and always within [d/2, d]. */
	for (uint64_t r = 0; r <= UINT32_MAX; r += 65537 * 3) {
		int64_t v = backoff_delay_ms(5, 100, 100000, (uint32_t)r);

		ck_assert_int_ge(v, 800);
		ck_assert_int_le(v, 1600);
		ck_assert_int_ge(v, prev);
		prev = v;
	}
	/* A huge span still reaches exactly d at the top. */
	ck_assert_int_eq(backoff_delay_ms(1, INT64_C(1) << 60, INT64_C(1) << 61,
	                                  UINT32_MAX),
	                 INT64_C(1) << 60);
	ck_assert_int_eq(
	        backoff_delay_ms(1, INT64_C(1) << 60, INT64_C(1) << 61, 0),
	        INT64_C(1) << 59);
}
END_TEST

static const struct {
	const char *value;
	int64_t now;
	int64_t want;
} retry_ok[] = {
        {"120", T0, 120000},
        {"0", T0, 0},
        {"007", T0, 7000},
        {"  120\t", T0, 120000},
        {"120\r\n", T0, 120000},
        {"604800", T0, WEEK_MS},
        {"604801", T0, WEEK_MS},
        {"99999999999999999999999999", T0, WEEK_MS},
        /* IMF-fixdate, RFC 850 and asctime for T0 + 2 min */
        {"Sun, 22 Nov 2026 10:02:00 GMT", T0, 120000},
        {"Sunday, 22-Nov-26 10:02:00 GMT", T0, 120000},
        {"Sun Nov 22 10:02:00 2026", T0, 120000},
        {" Sun, 22 Nov 2026 10:02:00 GMT \r\n", T0, 120000},
        /* now is not on a whole second */
        {"Sun, 22 Nov 2026 10:02:00 GMT", T0 + 250, 119750},
        /* RFC 9110's own example date, 30 s ahead of now */
        {"Sun, 06 Nov 1994 08:49:37 GMT", T1994 - 30000, 30000},
        {"Sunday, 06-Nov-94 08:49:37 GMT", T1994 - 30000, 30000},
        {"Sun Nov  6 08:49:37 1994", T1994 - 30000, 30000},
        /* past dates mean "now" */
        {"Sun, 06 Nov 1994 08:49:37 GMT", T0, 0},
        {"Wed, 21 Oct 2015 07:28:00 GMT", T0, 0},
        {"Sun, 22 Nov 2026 10:00:00 GMT", T0 + 1, 0},
        /* seen from 2026, "94" is 1994 (2094 is > 50 years ahead): past */
        {"Sunday, 06-Nov-94 08:49:37 GMT", T0, 0},
        /* ... but "30" is 2030: Tue, 01 Jan 2030 is far: capped */
        {"Tuesday, 01-Jan-30 00:00:00 GMT", T0, WEEK_MS},
        {"Fri, 01 Jan 2100 00:00:00 GMT", T0, WEEK_MS},
        /* exactly at the cap */
        {"Sun, 29 Nov 2026 10:00:00 GMT", T0, WEEK_MS},
        {"Sun, 29 Nov 2026 09:59:59 GMT", T0, WEEK_MS - 1000},
        /* leap day */
        {"Thu, 29 Feb 2024 00:00:00 GMT", INT64_C(1709164800000) - 5000, 5000},
        /* names are matched without regard to case */
        {"sun, 22 nov 2026 10:02:00 gmt", T0, 120000},
};

START_TEST(test_retry_after_ok)
{
	int64_t got = -42;

	ck_assert_msg(retry_after_parse(retry_ok[_i].value, retry_ok[_i].now,
	                                &got) == 0,
	              "'%s' rejected", retry_ok[_i].value);
	ck_assert_msg(got == retry_ok[_i].want, "'%s': got %lld, want %lld",
	              retry_ok[_i].value, (long long)got,
	              (long long)retry_ok[_i].want);
}
END_TEST

static const char *const retry_bad[] = {
        "",
        "   ",
        "-1",
        "+5",
        "1.5",
        "12a",
        "120 s",
        "1 2",
        "abc",
        "0x10",
        "Sun, 22 Nov 2026 10:02:00",
        "Sun, 22 Nov 2026 10:02:00 UTC",
        "Sun, 22 Nov 2026 10:02:00 GMT junk",
        "Sun, 22 Nov 2026 10:02 GMT",
        "Sun, 32 Nov 2026 10:02:00 GMT",
        "Sun, 00 Nov 2026 10:02:00 GMT",
        "Sun, 31 Nov 2026 10:02:00 GMT",
        "Sun, 29 Feb 2026 10:02:00 GMT",
        "Sun, 22 Foo 2026 10:02:00 GMT",
        "Sun, 22 November 2026 10:02:00 GMT",
        "Sun, 22 Nov 2026 24:00:00 GMT",
        "Sun, 22 Nov 2026 10:60:00 GMT",
        "Sun, 22 Nov 2026 10:02:61 GMT",
        "Sun, 22 Nov 26 10:02:00 GMT",
        "Sun, 2 Nov 2026 10:02:00 GMT",
        "Xyz, 22 Nov 2026 10:02:00 GMT",
        "Sun,22 Nov 2026 10:02:00 GMT",
        "22 Nov 2026 10:02:00 GMT",
        "Sunday, 22-Nov-2026 10:02:00 GMT",
        "Sunday, 22-Nov-26 10:02:00",
        "Sun Nov 22 10:02:00 2026 x",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "2026-11-22T10:02:00Z",
};

START_TEST(test_retry_after_bad)
{
	int64_t got = -42;

	ck_assert_msg(retry_after_parse(retry_bad[_i], T0, &got) == -1,
	              "'%s' accepted as %lld", retry_bad[_i], (long long)got);
	ck_assert_int_eq(got, -42);
	ck_assert_int_eq(retry_after_parse(NULL, T0, &got), -1);
}
END_TEST

static Suite *backoff_suite(void)
{
	Suite *s = suite_create("backoff");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_classify, 0,
	                    sizeof(statuses) / sizeof(statuses[0]));
	tcase_add_test(tc, test_exponential);
	tcase_add_test(tc, test_capped);
	tcase_add_test(tc, test_jitter_bounds);
	tcase_add_loop_test(tc, test_retry_after_ok, 0,
	                    sizeof(retry_ok) / sizeof(retry_ok[0]));
	tcase_add_loop_test(tc, test_retry_after_bad, 0,
	                    sizeof(retry_bad) / sizeof(retry_bad[0]));
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(backoff_suite)
