/*
 * Unit tests for daemon/textcheck.c: a channel's text measured in its
 * network's unit against max_length, else the network's own limit.
 */
#include <check.h>
#include <string.h>

#include "check_main.h"
#include "config.h"
#include "publishers/publisher.h"
#include "textcheck.h"
#include "textlen.h"

static const struct text_rule graphemes_300 = {
        .unit = "graphemes", .limit = 300, .measure = textlen_graphemes};
static const struct publisher_ops rule_pub = {.name = "net",
                                              .text_rule = &graphemes_300};
static const struct publisher_ops plain_pub = {.name = "plain"};
static const struct text_rule x_280 = {.unit = "weighted characters",
                                       .limit = 280,
                                       .measure = textlen_x_weighted,
                                       .link_joint = "\n\n"};
static const struct publisher_ops x_pub = {.name = "x", .text_rule = &x_280};

#define FAMILY                                                     \
	"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d" \
	"\xf0\x9f\x91\xa7"

START_TEST(test_network_rule)
{
	struct channel ch = {.name = "sky", .pub = &rule_pub};
	char text[6000] = "", msg[256] = "";

	/* 300 families are 300 graphemes: they fit, one more does not. */
	for (int i = 0; i < 300; i++)
		strcat(text, FAMILY);
	ck_assert_int_eq(textcheck(&ch, text, NULL, msg, sizeof(msg)), 0);
	strcat(text, "!");
	ck_assert_int_eq(textcheck(&ch, text, NULL, msg, sizeof(msg)), 1);
	ck_assert_str_eq(msg, "text is 301 graphemes, 1 over channel 'sky''s "
	                      "limit of 300 (net's rule)");
}
END_TEST

START_TEST(test_max_length_replaces)
{
	struct channel ch = {.name = "sky", .pub = &rule_pub, .max_length = 2};
	char msg[256];

	ck_assert_int_eq(textcheck(&ch, FAMILY FAMILY, NULL, msg, sizeof(msg)),
	                 0);
	ck_assert_int_eq(textcheck(&ch, "abc", NULL, msg, sizeof(msg)), 1);
	ck_assert_str_eq(msg, "text is 3 graphemes, 1 over channel 'sky''s "
	                      "limit of 2 (max_length)");
}
END_TEST

START_TEST(test_code_points)
{
	struct channel ch = {.name = "hook", .pub = &plain_pub};
	char msg[256];

	/* No rule, no max_length: any length. */
	ck_assert_int_eq(textcheck(&ch, "a long text", NULL, msg, sizeof(msg)),
	                 0);
	ch.max_length = 3;
	ck_assert_int_eq(
	        textcheck(&ch, "\xc3\xa9t\xc3\xa9", NULL, msg, sizeof(msg)), 0);
	/* A family is 5 code points: 3 people, 2 joiners. */
	ck_assert_int_eq(textcheck(&ch, FAMILY, NULL, msg, sizeof(msg)), 1);
	ck_assert_int_eq(textcheck(&ch, "abcd", NULL, msg, sizeof(msg)), 1);
	ck_assert_str_eq(msg, "text is 4 characters, 1 over channel 'hook''s "
	                      "limit of 3 (max_length)");
}
END_TEST

/* X sends the link in the text: it counts, as 23 and its two newlines. */
START_TEST(test_link_in_text)
{
	struct channel ch = {.name = "xx", .pub = &x_pub};
	char text[300], msg[256];

	memset(text, 'a', 255);
	text[255] = '\0';
	/* 255 + 2 + 23 = 280: fits; one more does not. */
	ck_assert_int_eq(textcheck(&ch, text,
	                           "https://example.com/a/very/long/"
	                           "path/that/x/counts/as/23",
	                           msg, sizeof(msg)),
	                 0);
	text[255] = 'a';
	text[256] = '\0';
	ck_assert_int_eq(
	        textcheck(&ch, text, "https://example.com/", msg, sizeof(msg)),
	        1);
	ck_assert_str_eq(msg, "text with its link is 281 weighted characters, "
	                      "1 over channel 'xx''s limit of 280 (x's rule)");
	/* Without a link, the same text fits. */
	ck_assert_int_eq(textcheck(&ch, text, NULL, msg, sizeof(msg)), 0);
	/* A network that sends the link apart does not count it. */
	ch.pub = &rule_pub;
	ck_assert_int_eq(
	        textcheck(&ch, "abc", "https://example.com/", msg, sizeof(msg)),
	        0);
}
END_TEST

static Suite *textcheck_suite(void)
{
	Suite *s = suite_create("textcheck");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_network_rule);
	tcase_add_test(tc, test_max_length_replaces);
	tcase_add_test(tc, test_code_points);
	tcase_add_test(tc, test_link_in_text);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(textcheck_suite)
