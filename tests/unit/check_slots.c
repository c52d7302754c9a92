/*
 * Weekly posting slots: parsing, and the next slot across both daylight
 * saving changes of 2026 in Europe/Madrid. Expected instants were computed
 * with GNU date, e.g. `TZ=Europe/Madrid date -d '2026-03-30 09:00' +%s`;
 * the gap and the repeated hour follow caltime_local_to_utc's rules.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "caltime.h"
#include "check_main.h"
#include "slots.h"

#define S(x) (INT64_C(x) * 1000)

static struct slots week(const char *const *texts)
{
	struct slots w = {.n = 0};
	struct slot s;
	char err[256];

	for (; *texts; texts++) {
		ck_assert_msg(slot_parse(*texts, &s, err, sizeof(err)) == 0,
		              "%s: %s", *texts, err);
		ck_assert_int_eq(slots_add(&w, &s), 0);
	}
	return w;
}

START_TEST(test_parse)
{
	struct slot s;
	char err[256], text[64];

	ck_assert_int_eq(slot_parse("Mon-Fri 09:00", &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.days, 0x1f);
	ck_assert_uint_eq(s.minute, 540);
	ck_assert_int_eq(slot_parse("Tue,Thu 13:30", &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.days, 0x0a);
	ck_assert_uint_eq(s.minute, 810);
	slot_format(&s, text, sizeof(text));
	ck_assert_str_eq(text, "Tue,Thu 13:30");
	ck_assert_int_eq(slot_parse("Fri-Mon 23:59", &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.days, 0x71);
	slot_format(&s, text, sizeof(text));
	ck_assert_str_eq(text, "Mon,Fri-Sun 23:59");
	ck_assert_int_eq(slot_parse("Mon-Fri 09:00", &s, err, sizeof(err)), 0);
	slot_format(&s, text, sizeof(text));
	ck_assert_str_eq(text, "Mon-Fri 09:00");
	ck_assert_int_eq(slot_parse("Mon,Tue,Sat 07:05", &s, err, sizeof(err)),
	                 0);
	slot_format(&s, text, sizeof(text));
	ck_assert_str_eq(text, "Mon,Tue,Sat 07:05");
	ck_assert_int_eq(slot_parse("daily 00:00", &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.days, 0x7f);
	slot_format(&s, text, sizeof(text));
	ck_assert_str_eq(text, "daily 00:00");
	ck_assert_int_eq(slot_parse("sat 11:00", &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.days, 0x20);
}
END_TEST

START_TEST(test_parse_errors)
{
	struct slot s;
	char err[256];

	ck_assert_int_eq(slot_parse("Mon-Fry 09:00", &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "'Mon-Fry' in slot"));
	ck_assert_int_eq(slot_parse("Mon 9:00", &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "is not a slot (DAYS HH:MM"));
	ck_assert_int_eq(slot_parse("Mon 24:00", &s, err, sizeof(err)), -1);
	ck_assert_int_eq(slot_parse("Mon 09:60", &s, err, sizeof(err)), -1);
	ck_assert_int_eq(slot_parse("09:00", &s, err, sizeof(err)), -1);
	ck_assert_int_eq(slot_parse("Mon,,Tue 09:00", &s, err, sizeof(err)),
	                 -1);
	ck_assert_int_eq(slot_parse("Mon 09:00x", &s, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_next_across_dst)
{
	static const char *const texts[] = {"Mon-Fri 09:00", NULL};
	struct slots w = week(texts);
	const struct caltime_zone *z = caltime_zone("Europe/Madrid");

	ck_assert_ptr_nonnull(z);
	/* Friday before the spring change: 09:00 CET is 08:00 UTC. */
	ck_assert_int_eq(slots_next(&w, z, S(1774598400) - 1), S(1774598400));
	ck_assert_int_eq(slots_next(&w, z, S(1774598400)), S(1774598400));
	/* Then Monday, 09:00 CEST: 07:00 UTC. */
	ck_assert_int_eq(slots_next(&w, z, S(1774598400) + 1), S(1774854000));
	/* Autumn: Friday 09:00 CEST, then Monday 09:00 CET. */
	ck_assert_int_eq(slots_next(&w, z, S(1792738800) - 60000),
	                 S(1792738800));
	ck_assert_int_eq(slots_next(&w, z, S(1792738800) + 1), S(1793001600));
}
END_TEST

START_TEST(test_gap_and_repeat)
{
	static const char *const texts[] = {"Sun 02:30", NULL};
	struct slots w = week(texts);
	const struct caltime_zone *z = caltime_zone("Europe/Madrid");

	/* 02:30 does not exist on 2026-03-29: read with +01:00, 01:30 UTC. */
	ck_assert_int_eq(slots_next(&w, z, S(1774598400)), S(1774747800));
	/* It happens twice on 2026-10-25: the first, 00:30 UTC. */
	ck_assert_int_eq(slots_next(&w, z, S(1792738800)), S(1792888200));
}
END_TEST

START_TEST(test_order_and_merge)
{
	static const char *const texts[] = {"Sat 11:00", "Tue,Thu 13:30",
	                                    "Mon-Fri 09:00", "Sat 09:00", NULL};
	struct slots w = week(texts);
	const struct caltime_zone *z = caltime_zone("UTC");
	struct slots none = {.n = 0};

	/* 09:00 on Mon-Sat merged into one entry, kept in time order. */
	ck_assert_uint_eq(w.n, 3);
	ck_assert_uint_eq(w.v[0].minute, 540);
	ck_assert_uint_eq(w.v[0].days, 0x3f);
	/* Thu 2026-12-03 10:00 UTC -> 13:30 the same day. */
	ck_assert_int_eq(slots_next(&w, z, S(1796292000)), S(1796304600));
	/* ... after 13:30 -> Fri 09:00. */
	ck_assert_int_eq(slots_next(&w, z, S(1796304601)), S(1796374800));
	ck_assert_int_eq(slots_next(&none, z, S(1796292000)), -1);
}
END_TEST

static Suite *slots_suite(void)
{
	Suite *s = suite_create("slots");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_next_across_dst);
	tcase_add_test(tc, test_gap_and_repeat);
	tcase_add_test(tc, test_order_and_merge);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(slots_suite)
