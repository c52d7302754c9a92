/* Unit tests for daemon/promtext.c, the Prometheus text format writer. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "promtext.h"

/* The page written so far, handed over (freed by the caller). */
static char *page(struct promtext *pt)
{
	size_t len;
	char *s = promtext_steal(pt, &len);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), len);
	return s;
}

START_TEST(test_family_and_samples)
{
	struct promtext pt;
	char *s;

	promtext_init(&pt);
	promtext_family(&pt, "smmd_x_total", "counter", "Things done.");
	promtext_sample_u64(
	        &pt, "smmd_x_total",
	        (const char *const[]){"channel", "demo", "outcome", "ok", NULL},
	        UINT64_MAX);
	promtext_sample(&pt, "smmd_y", NULL, 0.1);
	s = page(&pt);
	ck_assert_str_eq(s, "# HELP smmd_x_total Things done.\n"
	                    "# TYPE smmd_x_total counter\n"
	                    "smmd_x_total{channel=\"demo\",outcome=\"ok\"} "
	                    "18446744073709551615\n"
	                    "smmd_y 0.1\n");
	free(s);
	/* Empty again after the steal. */
	ck_assert_ptr_null(pt.buf);
	ck_assert_uint_eq(pt.len, 0);
}
END_TEST

START_TEST(test_escaping)
{
	struct promtext pt;
	char *s;

	promtext_init(&pt);
	/* HELP escapes backslash and newline, not the quote. */
	promtext_family(&pt, "m", "gauge", "a \\ b\nc \"d\"");
	/* A label value escapes all three. */
	promtext_sample(&pt, "m",
	                (const char *const[]){"l", "x\\y\"z\nw", NULL}, 1);
	promtext_sample(&pt, "m", (const char *const[]){"l", "", NULL}, 2);
	s = page(&pt);
	ck_assert_str_eq(s, "# HELP m a \\\\ b\\nc \"d\"\n"
	                    "# TYPE m gauge\n"
	                    "m{l=\"x\\\\y\\\"z\\nw\"} 1\n"
	                    "m{l=\"\"} 2\n");
	free(s);
}
END_TEST

START_TEST(test_values)
{
	struct promtext pt;
	char *s;

	promtext_init(&pt);
	promtext_sample(&pt, "a", NULL, 1796294225.456);
	promtext_sample(&pt, "b", NULL, 0.0005);
	promtext_sample(&pt, "c", NULL, INFINITY);
	promtext_sample(&pt, "d", NULL, -INFINITY);
	promtext_sample(&pt, "e", NULL, NAN);
	promtext_sample(&pt, "f", NULL, 3);
	promtext_sample(&pt, "g", NULL, 1.0 / 3);
	s = page(&pt);
	/* The shortest text that reads back as the same double. */
	ck_assert_str_eq(s, "a 1796294225.456\nb 0.0005\nc +Inf\nd -Inf\n"
	                    "e NaN\nf 3\ng 0.3333333333333333\n");
	ck_assert_double_eq(strtod("0.3333333333333333", NULL), 1.0 / 3);
	free(s);
}
END_TEST

static const double bounds[] = {0.5, 1, 2.5};

START_TEST(test_histogram)
{
	struct promtext_histogram h;
	struct promtext pt;
	char *s;

	promtext_histogram_init(&h, bounds, 3);
	/* 0.5 is in le="0.5": a bound is inclusive. */
	promtext_histogram_observe(&h, 0.1);
	promtext_histogram_observe(&h, 0.5);
	promtext_histogram_observe(&h, 0.75);
	promtext_histogram_observe(&h, 3);
	promtext_histogram_observe(&h, 100);
	promtext_init(&pt);
	promtext_histogram(&pt, "lat_seconds",
	                   (const char *const[]){"channel", "demo", NULL}, &h);
	s = page(&pt);
	/* Cumulative buckets, +Inf equal to _count. */
	ck_assert_str_eq(s,
	                 "lat_seconds_bucket{channel=\"demo\",le=\"0.5\"} 2\n"
	                 "lat_seconds_bucket{channel=\"demo\",le=\"1\"} 3\n"
	                 "lat_seconds_bucket{channel=\"demo\",le=\"2.5\"} 3\n"
	                 "lat_seconds_bucket{channel=\"demo\",le=\"+Inf\"} 5\n"
	                 "lat_seconds_sum{channel=\"demo\"} 104.35\n"
	                 "lat_seconds_count{channel=\"demo\"} 5\n");
	free(s);
}
END_TEST

START_TEST(test_histogram_empty_unlabelled)
{
	struct promtext_histogram h;
	struct promtext pt;
	char *s;

	promtext_histogram_init(&h, bounds, 3);
	promtext_init(&pt);
	promtext_histogram(&pt, "h", NULL, &h);
	s = page(&pt);
	ck_assert_str_eq(s, "h_bucket{le=\"0.5\"} 0\nh_bucket{le=\"1\"} 0\n"
	                    "h_bucket{le=\"2.5\"} 0\nh_bucket{le=\"+Inf\"} 0\n"
	                    "h_sum 0\nh_count 0\n");
	free(s);
}
END_TEST

START_TEST(test_large_page)
{
	struct promtext pt;
	size_t len;
	char *s;

	/* Past the first buffer: the writer grows it and keeps every byte. */
	promtext_init(&pt);
	for (int i = 0; i < 2000; i++)
		promtext_sample(&pt, "smmd_long_metric_name", NULL, i);
	s = promtext_steal(&pt, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(len, strlen(s));
	ck_assert_ptr_nonnull(strstr(s, "smmd_long_metric_name 1999\n"));
	ck_assert_int_eq(strncmp(s, "smmd_long_metric_name 0\n", 24), 0);
	free(s);
	promtext_free(&pt);
}
END_TEST

static Suite *promtext_suite(void)
{
	Suite *s = suite_create("promtext");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_family_and_samples);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_histogram_empty_unlabelled);
	tcase_add_test(tc, test_large_page);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(promtext_suite)
