/* Unit tests for daemon/urlcheck.c: the one rule for http(s) URLs. */
#include <check.h>

#include "check_main.h"
#include "urlcheck.h"

START_TEST(test_plain)
{
	ck_assert_int_eq(urlcheck("https://example.com/a?b=1#c", 0),
	                 URLCHECK_OK);
	ck_assert_int_eq(urlcheck("http://127.0.0.1:8080/hook", 0),
	                 URLCHECK_OK);
	ck_assert_int_eq(urlcheck("http://[::1]/", 0), URLCHECK_OK);
	/* curl reads the scheme in any case. */
	ck_assert_int_eq(urlcheck("HTTPS://example.com/", 0), URLCHECK_OK);
	ck_assert_int_eq(urlcheck("ftp://example.com/", 0), URLCHECK_SCHEME);
	ck_assert_int_eq(urlcheck("file:///etc/passwd", 0), URLCHECK_SCHEME);
	ck_assert_int_eq(urlcheck("example.com/a", 0), URLCHECK_SYNTAX);
	ck_assert_int_eq(urlcheck("", 0), URLCHECK_SYNTAX);
	ck_assert_int_eq(urlcheck("http://exa mple.com/", 0), URLCHECK_SYNTAX);
	ck_assert_int_eq(urlcheck("http://", 0) == URLCHECK_OK, 0);
	ck_assert_int_eq(urlcheck("https://", 0) == URLCHECK_OK, 0);
}
END_TEST

START_TEST(test_prefix)
{
	ck_assert_int_eq(urlcheck("https://example.com/x.png", URLCHECK_PREFIX),
	                 URLCHECK_OK);
	/* A link is written in lower case, as people write it. */
	ck_assert_int_eq(urlcheck("HTTPS://example.com/", URLCHECK_PREFIX),
	                 URLCHECK_SCHEME);
	ck_assert_int_eq(urlcheck("launch.png", URLCHECK_PREFIX),
	                 URLCHECK_SCHEME);
	/* The prefix alone is not a URL: what add --link once let through. */
	ck_assert_int_ne(urlcheck("http://", URLCHECK_PREFIX), URLCHECK_OK);
}
END_TEST

START_TEST(test_hostless)
{
	ck_assert_int_eq(urlcheck("https://example.com/", URLCHECK_HOSTLESS),
	                 URLCHECK_OK);
	ck_assert_int_eq(urlcheck("ftp://example.com/", URLCHECK_HOSTLESS),
	                 URLCHECK_SCHEME);
	ck_assert_int_eq(urlcheck("nonsense", URLCHECK_HOSTLESS),
	                 URLCHECK_SYNTAX);
}
END_TEST

static Suite *urlcheck_suite(void)
{
	Suite *s = suite_create("urlcheck");
	TCase *tc = tcase_create("urlcheck");

	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_prefix);
	tcase_add_test(tc, test_hostless);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(urlcheck_suite)
