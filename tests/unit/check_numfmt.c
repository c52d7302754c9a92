/* Unit tests for lib/numfmt.c: the same text as printf's "%lld". */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "numfmt.h"

static void assert_like_printf(int64_t v)
{
	char want[32], got[NUMFMT_I64_LEN + 8];
	size_t n;

	memset(got, 'x', sizeof(got));
	snprintf(want, sizeof(want), "%" PRId64, v);
	n = numfmt_i64(got, v);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(n, strlen(want));
	/* Nothing written past the NUL. */
	ck_assert_int_eq(got[n + 1], 'x');
}

START_TEST(test_edges)
{
	const int64_t v[] = {0,
	                     1,
	                     -1,
	                     9,
	                     10,
	                     -10,
	                     99,
	                     100,
	                     INT32_MAX,
	                     INT32_MIN,
	                     INT64_MAX,
	                     INT64_MIN,
	                     INT64_MAX - 1,
	                     INT64_MIN + 1};

	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
		assert_like_printf(v[i]);
}
END_TEST

/* Every power of ten, either side of it, of either sign. */
START_TEST(test_powers_of_ten)
{
	int64_t p = 1;

	/* 10^18 is the last that fits: no step past it. */
	for (int i = 0; i < 19; i++) {
		for (int64_t d = -1; d <= 1; d++) {
			assert_like_printf(p + d);
			assert_like_printf(-(p + d));
		}
		if (i < 18)
			p *= 10;
	}
}
END_TEST

/* A spread of values of every length (a fixed generator: repeatable). */
START_TEST(test_spread)
{
	uint64_t x = 0x9e3779b97f4a7c15u;

	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Shifts of 0 to 63: a 64-bit shift is undefined. */
		assert_like_printf((int64_t)(x >> (i % 64)));
		assert_like_printf(-(int64_t)(x >> (i % 63 + 1)));
	}
}
END_TEST

static void assert_tenths(double v, const char *want)
{
	char got[NUMFMT_TENTHS_LEN];

	ck_assert_uint_eq(numfmt_tenths(got, v), strlen(want));
	ck_assert_str_eq(got, want);
}

/*
 * Latencies as smmd has them (microseconds / 1000): as "%.1f" writes
 * them, but for the ties (x.x50 ms), which go up.
 */
START_TEST(test_tenths_like_printf)
{
	char want[NUMFMT_TENTHS_LEN];

	for (int64_t us = 0; us < 3000000; us += us < 100000 ? 1 : 97) {
		double v = (double)us / 1000;

		if (us % 100 == 50)
			continue;
		snprintf(want, sizeof(want), "%.1f", v);
		assert_tenths(v, want);
	}
	for (double v = 1e3; v < 1e14; v *= 7.3) {
		snprintf(want, sizeof(want), "%.1f", v + 0.04);
		assert_tenths(v + 0.04, want);
	}
}
END_TEST

START_TEST(test_tenths_edges)
{
	char want[NUMFMT_TENTHS_LEN];

	assert_tenths(1.25, "1.3"); /* "%.1f": "1.2" */
	assert_tenths(0.05, "0.1");
	assert_tenths(0.049, "0.0");
	assert_tenths(9.96, "10.0");
	assert_tenths(-1.26, "-1.3");
	assert_tenths(-0.04, "-0.0");
	/* Past an int64_t's tenths, and NaN: printf's own. */
	snprintf(want, sizeof(want), "%.1f", 1e300);
	assert_tenths(1e300, want);
	snprintf(want, sizeof(want), "%.1f", (double)NAN);
	assert_tenths(NAN, want);
}
END_TEST

static Suite *numfmt_suite(void)
{
	Suite *s = suite_create("numfmt");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_powers_of_ten);
	tcase_add_test(tc, test_spread);
	tcase_add_test(tc, test_tenths_like_printf);
	tcase_add_test(tc, test_tenths_edges);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(numfmt_suite)
