/* Unit tests for lib/states.c: the one list of delivery states. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "states.h"

START_TEST(test_round_trip)
{
	for (int i = 0; i < DS_COUNT; i++) {
		ck_assert_int_eq(state_parse(state_name(i)), i);
		ck_assert_str_ne(state_help(i), "");
	}
}
END_TEST

/* The stored names: renaming one would orphan rows on disk. */
START_TEST(test_stored_names_fixed)
{
	ck_assert_str_eq(state_name(DS_SCHEDULED), "scheduled");
	ck_assert_str_eq(state_name(DS_PUBLISHING), "publishing");
	ck_assert_str_eq(state_name(DS_RETRY_WAIT), "retry_wait");
	ck_assert_str_eq(state_name(DS_PUBLISHED), "published");
	ck_assert_str_eq(state_name(DS_FAILED), "failed");
	ck_assert_str_eq(state_name(DS_CANCELLED), "cancelled");
	ck_assert_str_eq(state_name(DS_UNKNOWN), "unknown");
	ck_assert_str_eq(state_name(DS_HELD), "held");
	ck_assert_str_eq(state_name(DS_SKIPPED), "skipped");
	ck_assert_str_eq(state_name(DS_MISSED), "missed");
	ck_assert_str_eq(state_name(DS_DRAFT), "draft");
	ck_assert_int_eq(DS_COUNT, 11);
}
END_TEST

START_TEST(test_unknown_names)
{
	ck_assert_int_eq(state_parse(""), -1);
	ck_assert_int_eq(state_parse("Scheduled"), -1);
	ck_assert_int_eq(state_parse("scheduled "), -1);
	ck_assert_int_eq(state_parse(NULL), -1);
	ck_assert_str_eq(state_name(DS_COUNT), "?");
	ck_assert_str_eq(state_name((enum delivery_state) - 1), "?");
}
END_TEST

START_TEST(test_list)
{
	ck_assert_str_eq(state_list(),
	                 "scheduled, publishing, retry_wait, published, "
	                 "failed, cancelled, unknown, held, skipped, missed, "
	                 "draft");
}
END_TEST

static Suite *states_suite(void)
{
	Suite *s = suite_create("states");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_stored_names_fixed);
	tcase_add_test(tc, test_unknown_names);
	tcase_add_test(tc, test_list);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(states_suite)
