/*
 * Cadence: parsing "N/day|week|month", local periods across both daylight
 * saving changes of 2026 in Europe/Madrid (weeks of 167 and 169 hours),
 * counting at the week boundaries, and the findings of a check. Expected
 * instants were computed with GNU date, e.g.
 * `TZ=Europe/Madrid date -d '2026-03-30 00:00' +%s`.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "cadence.h"
#include "caltime.h"
#include "check_main.h"

#define S(x)    (INT64_C(x) * 1000)
#define HOUR_MS (INT64_C(3600) * 1000)

/* Mondays 00:00 in Madrid around the 2026 changes, and others. */
#define MON_0323 S(1774220400) /* CET */
#define MON_0330 S(1774821600) /* CEST: 167 h later */
#define MON_0406 S(1775426400)
#define MON_1019 S(1792360800) /* CEST */
#define MON_1026 S(1792969200) /* CET: 169 h later */
#define WED_0325 S(1774436400) /* 12:00 */
#define MAR_01   S(1772319600)
#define MAY_01   S(1777586400)

static const struct caltime_zone *madrid(void)
{
	const struct caltime_zone *z = caltime_zone("Europe/Madrid");

	ck_assert_ptr_nonnull(z);
	return z;
}

START_TEST(test_parse)
{
	struct cadence c = {0};
	char err[256], buf[32];

	ck_assert_int_eq(cadence_parse("3/week", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_int_eq(c.unit, CADENCE_WEEK);
	cadence_format(&c, buf, sizeof(buf));
	ck_assert_str_eq(buf, "3/week");
	ck_assert_int_eq(cadence_parse("1/day", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.unit, CADENCE_DAY);
	ck_assert_int_eq(cadence_parse("12/month", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n, 12);
	ck_assert_int_eq(c.unit, CADENCE_MONTH);
	ck_assert_int_eq(cadence_parse("1000/day", &c, err, sizeof(err)), 0);
	/* 7 days / 3 and 30 days / 12 */
	c = (struct cadence){.n = 3, .unit = CADENCE_WEEK};
	ck_assert_int_eq(cadence_interval_ms(&c), 56 * HOUR_MS);
	c = (struct cadence){.n = 12, .unit = CADENCE_MONTH};
	ck_assert_int_eq(cadence_interval_ms(&c), 60 * HOUR_MS);
	c = (struct cadence){.n = 0, .min_gap_ms = HOUR_MS};
	ck_assert_int_eq(cadence_interval_ms(&c), 0);
}
END_TEST

START_TEST(test_parse_errors)
{
	static const struct {
		const char *in, *err;
	} bad[] = {
	        {"3/fortnight", "'fortnight' is not a period (day, week or "
	                        "month)"},
	        {"3/Week", "'Week' is not a period"},
	        {"3/week ", "'week ' is not a period"},
	        {"0/week", "must be from 1 to 1000"},
	        {"1001/day", "must be from 1 to 1000"},
	        {"99999999999999999999/day", "must be from 1 to 1000"},
	        {"week", "is not a cadence (N/day, N/week or N/month"},
	        {"/week", "is not a cadence"},
	        {"-1/week", "is not a cadence"},
	        {"3 /week", "is not a cadence"},
	        {"", "is not a cadence"},
	};
	struct cadence c = {0};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(cadence_parse(bad[i].in, &c, err, sizeof(err)),
		                 -1);
		ck_assert_msg(strstr(err, bad[i].err) != NULL,
		              "'%s': got '%s', want '%s'", bad[i].in, err,
		              bad[i].err);
	}
}
END_TEST

/* Weeks start on Monday 00:00 local, whatever the offset that day. */
START_TEST(test_weeks_dst)
{
	const struct caltime_zone *z = madrid();

	ck_assert_int_eq(cadence_period_start(CADENCE_WEEK, z, WED_0325),
	                 MON_0323);
	ck_assert_int_eq(cadence_period_next(CADENCE_WEEK, z, MON_0323),
	                 MON_0330);
	ck_assert_int_eq(MON_0330 - MON_0323, 167 * HOUR_MS);
	ck_assert_int_eq(cadence_period_next(CADENCE_WEEK, z, MON_1019),
	                 MON_1026);
	ck_assert_int_eq(MON_1026 - MON_1019, 169 * HOUR_MS);
	/* The last instant of a week, and the first of the next. */
	ck_assert_int_eq(cadence_period_start(CADENCE_WEEK, z, MON_0330 - 1),
	                 MON_0323);
	ck_assert_int_eq(cadence_period_start(CADENCE_WEEK, z, MON_0330),
	                 MON_0330);
	/* Monday 00:30 CEST is Sunday 22:30 UTC, yet in the new week. */
	ck_assert_int_eq(cadence_period_start(CADENCE_WEEK, z, S(1774823400)),
	                 MON_0330);
	ck_assert_int_eq(cadence_period_start(CADENCE_WEEK, z, MON_1026 - 1),
	                 MON_1019);
	/* The repeated hour of 25 October (02:30 CEST, then CET). */
	ck_assert_int_eq(cadence_period_start(CADENCE_WEEK, z, S(1792891800)),
	                 MON_1019);
	ck_assert_int_eq(
	        cadence_period_start(CADENCE_WEEK, z, S(1792891800) + HOUR_MS),
	        MON_1019);
	/* Days: 29 March has 23 hours. */
	ck_assert_int_eq(
	        cadence_period_next(CADENCE_DAY, z, MON_0330 - 23 * HOUR_MS),
	        MON_0330);
	ck_assert_int_eq(cadence_period_start(CADENCE_MONTH, z, WED_0325),
	                 MAR_01);
}
END_TEST

START_TEST(test_window)
{
	const struct caltime_zone *z = madrid();
	struct cadence c = {.n = 3, .unit = CADENCE_WEEK};
	int64_t from, to;

	cadence_window(&c, z, WED_0325, 2, &from, &to);
	ck_assert_int_eq(from, MON_0323);
	ck_assert_int_eq(to, MON_0406);
	c.unit = CADENCE_DAY;
	cadence_window(&c, z, WED_0325, 2, &from, &to);
	ck_assert_int_eq(from, MON_0323);
	ck_assert_int_eq(to, MON_0406);
	/* A month cadence: whole months, March and April. */
	c.unit = CADENCE_MONTH;
	cadence_window(&c, z, WED_0325, 2, &from, &to);
	ck_assert_int_eq(from, MAR_01);
	ck_assert_int_eq(to, MAY_01);
	/* On Monday 00:00 itself, that week is the first. */
	c.unit = CADENCE_WEEK;
	cadence_window(&c, z, MON_0330, 1, &from, &to);
	ck_assert_int_eq(from, MON_0330);
	ck_assert_int_eq(to, MON_0406);
}
END_TEST

/* What cadence_check reported, in order. */
struct seen {
	struct cadence_finding f[16];
	size_t n;
};

static void collect(void *arg, const struct cadence_finding *f)
{
	struct seen *s = arg;

	ck_assert_uint_lt(s->n, 16);
	s->f[s->n++] = *f;
}

/*
 * 3/week over the DST week of 23 March and the week after: the DST week
 * holds four posts, the last on Sunday 23:30 CEST, the week after one,
 * on Monday 00:30 CEST (22:30 UTC Sunday: 7 x 24 h after the first
 * Monday would still count it in the DST week).
 */
START_TEST(test_check_boundaries)
{
	const struct caltime_zone *z = madrid();
	struct cadence c = {.n = 3, .unit = CADENCE_WEEK};
	struct cadence_post v[] = {
	        {MON_0323, "a", NULL},
	        {MON_0323 + 24 * HOUR_MS, "b", NULL},
	        {MON_0323 + 48 * HOUR_MS, "c", NULL},
	        {MON_0330 - 30 * 60 * 1000, "d", NULL}, /* Sun 23:30 */
	        {MON_0330 + 30 * 60 * 1000, "e", NULL}, /* Mon 00:30 */
	};
	struct seen s = {.n = 0};

	cadence_check(&c, z, MON_0323, MON_0406, v, 5, collect, &s);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_int_eq(s.f[0].kind, CADENCE_OVER);
	ck_assert_int_eq(s.f[0].period_start_ms, MON_0323);
	ck_assert_int_eq(s.f[0].period_end_ms, MON_0330);
	ck_assert_uint_eq(s.f[0].count, 4);
	ck_assert_str_eq(s.f[0].post->id, "d");
	/* c to d: 4 days 23:30 minus the lost hour, over 2 x 56 h. */
	ck_assert_int_eq(s.f[1].kind, CADENCE_GAP);
	ck_assert_str_eq(s.f[1].prev->id, "c");
	ck_assert_str_eq(s.f[1].post->id, "d");
	ck_assert_int_eq(s.f[1].gap_ms,
	                 MON_0330 - 30 * 60 * 1000 - (MON_0323 + 48 * HOUR_MS));
	ck_assert_int_eq(s.f[2].kind, CADENCE_UNDER);
	ck_assert_int_eq(s.f[2].period_start_ms, MON_0330);
	ck_assert_int_eq(s.f[2].period_end_ms, MON_0406);
	ck_assert_uint_eq(s.f[2].count, 1);
	ck_assert_ptr_null(s.f[2].post);
}
END_TEST

/* min_gap, a gap of exactly twice the interval, posts outside the window. */
START_TEST(test_check_gaps)
{
	const struct caltime_zone *z = madrid();
	struct cadence c = {
	        .n = 1, .unit = CADENCE_DAY, .min_gap_ms = 4 * HOUR_MS};
	int64_t t = MON_1019 + 9 * HOUR_MS;
	struct cadence_post v[] = {
	        {MON_1019 - HOUR_MS, "before", NULL}, /* not in the window */
	        {t, "mon", NULL},
	        {t + 48 * HOUR_MS, "wed", NULL}, /* exactly 2 x 24 h: fine */
	        {t + 48 * HOUR_MS + 4 * HOUR_MS, "wed2", NULL}, /* = min_gap */
	        {t + 72 * HOUR_MS, "thu", NULL},
	        {t + 72 * HOUR_MS + 3 * HOUR_MS, "thu2", NULL}, /* < min_gap */
	        {t + 6 * 24 * HOUR_MS, "sun", NULL},            /* 3 days on */
	};
	struct seen s = {.n = 0};

	cadence_check(&c, z, MON_1019, MON_1026, v, 7, collect, &s);
	ck_assert_uint_eq(s.n, 7);
	ck_assert_int_eq(s.f[0].kind, CADENCE_UNDER); /* Tuesday */
	ck_assert_int_eq(s.f[0].period_start_ms, MON_1019 + 24 * HOUR_MS);
	ck_assert_uint_eq(s.f[0].count, 0);
	ck_assert_int_eq(s.f[1].kind, CADENCE_OVER);
	ck_assert_str_eq(s.f[1].post->id, "wed2");
	ck_assert_uint_eq(s.f[1].count, 2);
	ck_assert_int_eq(s.f[2].kind, CADENCE_OVER);
	ck_assert_str_eq(s.f[2].post->id, "thu2");
	ck_assert_int_eq(s.f[3].kind, CADENCE_MIN_GAP);
	ck_assert_str_eq(s.f[3].prev->id, "thu");
	ck_assert_str_eq(s.f[3].post->id, "thu2");
	ck_assert_int_eq(s.f[3].gap_ms, 3 * HOUR_MS);
	ck_assert_int_eq(s.f[4].kind, CADENCE_UNDER); /* Friday */
	ck_assert_int_eq(s.f[5].kind, CADENCE_UNDER); /* Saturday */
	/* Sunday 25 October has 25 hours, and one post. */
	ck_assert_int_eq(s.f[6].kind, CADENCE_GAP);
	ck_assert_str_eq(s.f[6].prev->id, "thu2");
	ck_assert_str_eq(s.f[6].post->id, "sun");
	ck_assert_int_eq(s.f[6].gap_ms, 3 * 24 * HOUR_MS - 3 * HOUR_MS);
}
END_TEST

START_TEST(test_check_min_gap_only)
{
	const struct caltime_zone *z = madrid();
	struct cadence c = {.n = 0, .min_gap_ms = HOUR_MS};
	struct cadence_post v[] = {
	        {MON_0323 + HOUR_MS, "x", NULL},
	        {MON_0323 + HOUR_MS, "y", NULL},
	};
	struct seen s = {.n = 0};

	cadence_sort(v, 2);
	cadence_check(&c, z, MON_0323, MON_0330, v, 2, collect, &s);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_int_eq(s.f[0].kind, CADENCE_MIN_GAP);
	ck_assert_int_eq(s.f[0].gap_ms, 0);
	/* Nothing at all: under, and no gap to speak of. */
	c = (struct cadence){.n = 2, .unit = CADENCE_WEEK};
	s.n = 0;
	cadence_check(&c, z, MON_0323, MON_0406, NULL, 0, collect, &s);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_int_eq(s.f[1].kind, CADENCE_UNDER);
	ck_assert_uint_eq(s.f[1].count, 0);
}
END_TEST

static Suite *cadence_suite(void)
{
	Suite *s = suite_create("cadence");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_weeks_dst);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_check_boundaries);
	tcase_add_test(tc, test_check_gaps);
	tcase_add_test(tc, test_check_min_gap_only);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(cadence_suite)
