/*
 * Blackouts: parsing dates, ranges and quiet hours; whether an instant is
 * in one, and the first allowed time after it, in Europe/Berlin across
 * both DST changes of 2026; holiday files with a recurring event (libical).
 * Expected instants come from GNU date, e.g.
 * `TZ=Europe/Berlin date -d '2026-03-28 07:00' +%s`.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blackout.h"
#include "caltime.h"
#include "check_main.h"
#include "holidays.h"

#define S(x) (INT64_C(x) * 1000)

static const struct caltime_zone *berlin(void)
{
	const struct caltime_zone *z = caltime_zone("Europe/Berlin");

	ck_assert_ptr_nonnull(z);
	return z;
}

static struct blackouts one(int (*parse)(const char *, struct blackout *,
                                         char *, size_t),
                            const char *text)
{
	struct blackouts set = {.action = -1};
	struct blackout b;
	char err[256];

	ck_assert_msg(parse(text, &b, err, sizeof(err)) == 0, "%s: %s", text,
	              err);
	ck_assert_int_eq(blackouts_add(&set, &b), 0);
	return set;
}

static int dates(const char *s, struct blackout *b, char *err, size_t len)
{
	return blackout_parse_dates(s, NULL, b, err, len);
}

/* Covered at t, to end; or not covered (end -1). */
static void covers(const struct blackouts *set, int64_t t, int64_t end)
{
	int64_t got = -1;
	int in = blackout_covers(&set->v[0], berlin(), t, &got);

	if (end < 0)
		ck_assert_msg(!in, "%lld covered, to %lld", (long long)t,
		              (long long)got);
	else {
		ck_assert_msg(in, "%lld not covered", (long long)t);
		ck_assert_int_eq(got, end);
	}
}

START_TEST(test_quiet_across_midnight_and_dst)
{
	struct blackouts q = one(blackout_parse_quiet, "Mon-Fri 22:00-07:00");

	/* Fri 27 Mar 23:00 CET: Friday's night, to Sat 07:00. */
	covers(&q, S(1774648800), S(1774677600));
	/* Sat 07:00 itself is allowed. */
	covers(&q, S(1774677600), -1);
	/* Sun 29 Mar (the spring change) 22:30 CEST: Sunday is not quiet,
	 * nor is Monday 00:30 (its night began on Sunday). */
	covers(&q, S(1774816200), -1);
	covers(&q, S(1774823400), -1);
	blackouts_free(&q);

	q = one(blackout_parse_quiet, "Sun");
	/* Sun 29 Mar 12:00 CEST, a 23-hour day: to Mon 00:00 CEST. */
	covers(&q, S(1774778400), S(1774821600));
	blackouts_free(&q);

	q = one(blackout_parse_quiet, "Sat 22:00-07:00");
	/* Sat 24 Oct 22:30 CEST to Sun 25 Oct 07:00 CET, a 25-hour night. */
	covers(&q, S(1792873800), S(1792908000));
	blackouts_free(&q);
}
END_TEST

START_TEST(test_dates_and_ranges)
{
	struct blackouts d = one(dates, "2026-12-25");

	/* Christmas Day 10:00 to the 26th 00:00, Berlin time. */
	covers(&d, S(1798189200), S(1798239600));
	covers(&d, S(1798239600), -1);
	ck_assert_str_eq(d.v[0].reason, "2026-12-25");
	blackouts_free(&d);

	d = one(dates, "2026-12-24 14:00..2026-12-26 08:00");
	covers(&d, S(1798120800), S(1798268400));
	covers(&d, S(1798268400), -1);
	blackouts_free(&d);

	/* Both days whole. */
	d = one(dates, "2026-12-24..2026-12-25");
	covers(&d, S(1798189200), S(1798239600));
	blackouts_free(&d);

	/* Instants: the same everywhere. */
	d = one(dates, "2026-12-24T14:00Z..2026-12-24T16:00Z");
	ck_assert_int_eq(d.v[0].kind, BO_UTC);
	covers(&d, S(1798120800), S(1798128000));
	blackouts_free(&d);
}
END_TEST

START_TEST(test_parse_errors)
{
	static const char *const bad_dates[] = {
	        "2026-13-01",
	        "2026-12-26..2026-12-24",
	        "2026-12-24 14:00",
	        "2026-12-24T14:00Z..2026-12-26 08:00",
	        "Christmas",
	        "..",
	        NULL};
	static const char *const bad_quiet[] = {"Mon-Fry",
	                                        "Mon 22:00",
	                                        "Mon 22:00-22:00",
	                                        "Mon 25:00-07:00",
	                                        "Mon 22:00-07:00x",
	                                        "",
	                                        NULL};
	struct blackout b;
	char err[256];

	for (const char *const *s = bad_dates; *s; s++) {
		err[0] = '\0';
		ck_assert_msg(blackout_parse_dates(*s, NULL, &b, err,
		                                   sizeof(err)) == -1,
		              "'%s' accepted", *s);
		ck_assert_msg(err[0] != '\0', "'%s': no reason", *s);
	}
	for (const char *const *s = bad_quiet; *s; s++) {
		err[0] = '\0';
		ck_assert_msg(blackout_parse_quiet(*s, &b, err, sizeof(err)) ==
		                      -1,
		              "'%s' accepted", *s);
		ck_assert_msg(err[0] != '\0', "'%s': no reason", *s);
	}
}
END_TEST

START_TEST(test_judge_follows_into_the_next)
{
	struct blackouts days = one(dates, "2026-12-25");
	struct blackouts weekend = one(blackout_parse_quiet, "Sat-Sun");
	const struct blackouts *sets[] = {&days, NULL, &weekend};
	struct blackout_verdict v;

	/* Fri 25 Dec, then the weekend: Mon 28 Dec 00:00. */
	ck_assert_int_eq(blackout_judge(sets, 3, berlin(), S(1798189200), &v),
	                 1);
	ck_assert_int_eq(v.allowed_ms, S(1798412400));
	ck_assert_str_eq(v.by->reason, "2026-12-25");
	/* Mon 28 Dec 00:00 itself: free. */
	ck_assert_int_eq(blackout_judge(sets, 3, berlin(), S(1798412400), &v),
	                 0);
	ck_assert_ptr_null(v.by);
	blackouts_free(&days);
	blackouts_free(&weekend);

	/* Every day quiet: nothing to shift to. */
	days = one(blackout_parse_quiet, "daily");
	sets[0] = &days;
	ck_assert_int_eq(blackout_judge(sets, 1, berlin(), S(1798189200), &v),
	                 1);
	ck_assert_int_eq(v.allowed_ms, -1);
	blackouts_free(&days);
}
END_TEST

/* A holiday file as calendar applications export them. */
static char *write_ics(const char *body)
{
	static char path[] = "/tmp/check_blackout_XXXXXX";
	int fd;
	FILE *f;

	strcpy(path, "/tmp/check_blackout_XXXXXX");
	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	fprintf(f,
	        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
	        "%sEND:VCALENDAR\r\n",
	        body);
	fclose(f);
	return path;
}

#define CHRISTMAS                                                      \
	"BEGIN:VEVENT\r\nUID:xmas@test\r\nSUMMARY:Christmas Day\r\n"   \
	"DTSTART;VALUE=DATE:20201225\r\nDTEND;VALUE=DATE:20201226\r\n" \
	"RRULE:FREQ=YEARLY\r\nEXDATE;VALUE=DATE:20271225\r\n"          \
	"END:VEVENT\r\n"
#define LAUNCH                                                         \
	"BEGIN:VEVENT\r\nUID:launch@test\r\nSUMMARY:Launch freeze\r\n" \
	"DTSTART:20261201T140000Z\r\nDTEND:20261201T160000Z\r\n"       \
	"END:VEVENT\r\n"

START_TEST(test_holidays_recurring)
{
	char *path = write_ics(CHRISTMAS LAUNCH), err[512];
	struct blackouts set = {.action = -1};
	struct blackout_verdict v;
	const struct blackouts *sets[] = {&set};
	/* 2026-01-01 to 2029-01-01, UTC. */
	int n = holidays_load(path, S(1767225600), S(1861920000), NULL, 0, &set,
	                      err, sizeof(err));

	ck_assert_msg(n == 2, "%d: %s", n, err);
	/* Christmas 2026 and 2028 (2027 is excluded), and the freeze. */
	ck_assert_uint_eq(set.n, 3);
	ck_assert_int_eq(blackout_judge(sets, 1, berlin(), S(1798189200), &v),
	                 1);
	ck_assert_str_eq(v.by->reason, "holiday 'Christmas Day'");
	ck_assert_int_eq(v.allowed_ms, S(1798239600));
	/* 25 Dec 2027 10:00 Berlin: excluded by EXDATE. */
	ck_assert_int_eq(blackout_judge(sets, 1, berlin(),
	                                S(1798189200) + S(365 * 86400), &v),
	                 0);
	/* The freeze is an instant range: 14:30Z to 16:00Z. */
	ck_assert_int_eq(blackout_judge(sets, 1, berlin(), S(1796135400), &v),
	                 1);
	ck_assert_int_eq(v.allowed_ms, S(1796140800));
	blackouts_free(&set);

	/* A holiday the team works on; and one the file does not have. */
	n = holidays_load(path, S(1767225600), S(1861920000),
	                  (const char *const[]){"Christmas Day"}, 1, &set, err,
	                  sizeof(err));
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(set.n, 1);
	blackouts_free(&set);
	ck_assert_int_eq(holidays_load(path, S(1767225600), S(1861920000),
	                               (const char *const[]){"Xmas"}, 1, &set,
	                               err, sizeof(err)),
	                 -1);
	ck_assert_ptr_nonnull(strstr(err, "no event called 'Xmas'"));
	blackouts_free(&set);
	unlink(path);
}
END_TEST

START_TEST(test_holidays_errors)
{
	struct blackouts set = {.action = -1};
	char *path, err[512];

	ck_assert_int_eq(holidays_load("/nonexistent.ics", 0, S(1), NULL, 0,
	                               &set, err, sizeof(err)),
	                 -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot read"));
	path = write_ics("");
	ck_assert_int_eq(
	        holidays_load(path, 0, S(1), NULL, 0, &set, err, sizeof(err)),
	        -1);
	ck_assert_ptr_nonnull(strstr(err, "no events"));
	unlink(path);
	path = write_ics("BEGIN:VEVENT\r\nSUMMARY:No start\r\nEND:VEVENT\r\n");
	ck_assert_int_eq(
	        holidays_load(path, 0, S(1), NULL, 0, &set, err, sizeof(err)),
	        -1);
	ck_assert_ptr_nonnull(strstr(err, "'No start' has no DTSTART"));
	unlink(path);
	/* Millions of occurrences are not a holiday calendar. */
	path = write_ics("BEGIN:VEVENT\r\nSUMMARY:Every minute\r\n"
	                 "DTSTART:20260101T000000Z\r\n"
	                 "DTEND:20260101T000100Z\r\n"
	                 "RRULE:FREQ=MINUTELY\r\nEND:VEVENT\r\n");
	ck_assert_int_eq(holidays_load(path, S(1767225600), S(1861920000), NULL,
	                               0, &set, err, sizeof(err)),
	                 -1);
	ck_assert_ptr_nonnull(strstr(err, "repeats more often than daily"));
	unlink(path);
	path = write_ics("BEGIN:VEVENT\r\nSUMMARY:Every day\r\n"
	                 "DTSTART;VALUE=DATE:20000101\r\n"
	                 "RRULE:FREQ=DAILY\r\nEND:VEVENT\r\n"
	                 "BEGIN:VEVENT\r\nSUMMARY:Again\r\n"
	                 "DTSTART;VALUE=DATE:20000101\r\n"
	                 "RRULE:FREQ=DAILY\r\nEND:VEVENT\r\n");
	/* Two daily events over 2026-2054: past the cap. */
	ck_assert_int_eq(holidays_load(path, S(1767225600),
	                               S(1767225600) + S(28LL * 366 * 86400),
	                               NULL, 0, &set, err, sizeof(err)),
	                 -1);
	ck_assert_ptr_nonnull(strstr(err, "days off"));
	unlink(path);
	blackouts_free(&set);
}
END_TEST

static Suite *blackout_suite(void)
{
	Suite *s = suite_create("blackout");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_quiet_across_midnight_and_dst);
	tcase_add_test(tc, test_dates_and_ranges);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_judge_follows_into_the_next);
	tcase_add_test(tc, test_holidays_recurring);
	tcase_add_test(tc, test_holidays_errors);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(blackout_suite)
