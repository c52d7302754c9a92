/* Unit tests for lib/postid.c. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "postid.h"

static const char *const valid_ids[] = {
        "a",
        "p1",
        "launch-1",
        "Launch_2026.11.22",
        "user@example.com",
        "cal:weekly@2026-11-22T10:00:00Z",
        "a+b",
        "0123456789",
        "...",
};

START_TEST(test_url_and_media_names)
{
	ck_assert_int_eq(url_is_http("http://x/"), 1);
	ck_assert_int_eq(url_is_http("https://x/a.png"), 1);
	ck_assert_int_eq(url_is_http("ftp://x/"), 0);
	ck_assert_int_eq(url_is_http("HTTP://x/"), 0);
	ck_assert_int_eq(url_is_http("launch.png"), 0);

	ck_assert_int_eq(media_name_valid("launch.png"), 1);
	ck_assert_int_eq(media_name_valid("Merino_Cloud-2.jpg"), 1);
	ck_assert_int_eq(media_name_valid(""), 0);
	ck_assert_int_eq(media_name_valid(".hidden.png"), 0);
	ck_assert_int_eq(media_name_valid("../etc/passwd"), 0);
	ck_assert_int_eq(media_name_valid("dir/file.png"), 0);
	ck_assert_int_eq(media_name_valid("with space.png"), 0);
	ck_assert_int_eq(media_name_valid("caf\xc3\xa9.png"), 0);
}
END_TEST

START_TEST(test_valid)
{
	ck_assert_msg(postid_valid(valid_ids[_i]) == 1, "'%s' refused",
	              valid_ids[_i]);
}
END_TEST

static const char *const invalid_ids[] = {
        "",     "a/b",  "p1/demo",     "/",    "a b",  " a",  "a ",
        "a\tb", "a\nb", "caf\xc3\xa9", "\xff", "a\"b", "a'b", "a\\b",
        "a;b",  "a,b",  "a*b",         "a%b",  "a#b",  "a?b", "a~b",
};

START_TEST(test_invalid)
{
	ck_assert_msg(postid_valid(invalid_ids[_i]) == 0, "'%s' accepted",
	              invalid_ids[_i]);
}
END_TEST

START_TEST(test_length_limit)
{
	char s[POSTID_MAX + 2];

	memset(s, 'x', sizeof(s));
	s[POSTID_MAX] = '\0';
	ck_assert_int_eq(postid_valid(s), 1);
	s[POSTID_MAX] = 'x';
	s[POSTID_MAX + 1] = '\0';
	ck_assert_int_eq(postid_valid(s), 0);
	ck_assert_int_eq(postid_valid(NULL), 0);
}
END_TEST

START_TEST(test_generate_shape)
{
	char id[POSTID_GEN_LEN];

	memset(id, '#', sizeof(id));
	postid_generate(INT64_C(1795341600000), UINT64_MAX, id);
	ck_assert_uint_eq(strlen(id), 16);
	ck_assert_int_eq(postid_valid(id), 1);
	for (int i = 0; i < 16; i++)
		ck_assert_ptr_nonnull(
		        strchr("0123456789abcdefghjkmnpqrstvwxyz", id[i]));
	/* All 30 random bits set. */
	ck_assert_str_eq(id + 10, "zzzzzz");

	/* Time 0 and no randomness: all zeros. */
	postid_generate(0, 0, id);
	ck_assert_str_eq(id, "0000000000000000");
	/* Negative times are clamped rather than wrapping to the far end. */
	postid_generate(-5, 0, id);
	ck_assert_str_eq(id, "0000000000000000");
	/* ms = 32 is "10" in base 32; rnd 1 is the last random digit... */
	postid_generate(32, 1, id);
	ck_assert_str_eq(id, "0000000010100000");
	/* ... in little-endian order: only bits 0..29 of rnd are used. */
	postid_generate(31, (UINT64_C(1) << 30) | 33, id);
	ck_assert_str_eq(id, "000000000z110000");
}
END_TEST

START_TEST(test_generate_known)
{
	char id[POSTID_GEN_LEN];

	/*
	 * 1795341600000 ms = 0x1a202b2c500 -> base 32 digits, most
	 * significant first: 0 1 20 8 1 11 5 17 8 0 (python3:
	 * n = 1795341600000; [(n >> 5 * i) & 31 for i in range(9, -1, -1)]).
	 */
	postid_generate(INT64_C(1795341600000), 0, id);
	ck_assert_str_eq(id, "01m81b5h80000000");
}
END_TEST

START_TEST(test_sorts_by_time)
{
	char prev[POSTID_GEN_LEN], id[POSTID_GEN_LEN];
	uint64_t rnd = 0x123456789abcdefu;
	int64_t ms = INT64_C(1700000000000);

	postid_generate(ms, rnd, prev);
	for (int i = 0; i < 20000; i++) {
		/* Steps from 1 ms to about a day, random parts shuffled. */
		ms += 1 + (int64_t)(rnd % 86400000u) / (1 + i % 1000);
		rnd = rnd * 6364136223846793005u + 1442695040888963407u;
		postid_generate(ms, rnd, id);
		ck_assert_msg(strcmp(prev, id) < 0, "'%s' !< '%s' at %lld",
		              prev, id, (long long)ms);
		memcpy(prev, id, sizeof(id));
	}
	/* Across a base-32 digit carry too. */
	postid_generate(31, UINT64_MAX, prev);
	postid_generate(32, 0, id);
	ck_assert_int_lt(strcmp(prev, id), 0);
}
END_TEST

static Suite *postid_suite(void)
{
	Suite *s = suite_create("postid");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_valid, 0,
	                    sizeof(valid_ids) / sizeof(valid_ids[0]));
	tcase_add_loop_test(tc, test_invalid, 0,
	                    sizeof(invalid_ids) / sizeof(invalid_ids[0]));
	tcase_add_test(tc, test_length_limit);
	tcase_add_test(tc, test_url_and_media_names);
	tcase_add_test(tc, test_generate_shape);
	tcase_add_test(tc, test_generate_known);
	tcase_add_test(tc, test_sorts_by_time);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(postid_suite)
