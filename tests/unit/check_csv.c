/*
 * RFC 4180 CSV: quoting, doubled quotes, newlines and commas in fields,
 * CRLF and LF, a byte order mark, blank lines, and every error with the
 * line and column where it is.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "csv.h"

/* Every record of text as "a|b|c" lines joined by "/", or the error. */
static void read_all(const char *text, char *out, size_t len)
{
	struct csv c;
	struct csv_record r;
	struct csv_error e = {0};
	size_t used = 0;
	int rc;

	out[0] = '\0';
	csv_init(&c, text, strlen(text));
	while ((rc = csv_next(&c, &r, &e)) == 1) {
		used += (size_t)snprintf(out + used, len - used,
		                         "%s%zu:", used ? "/" : "", r.line);
		for (size_t i = 0; i < r.n; i++)
			used += (size_t)snprintf(out + used, len - used, "%s%s",
			                         i ? "|" : "", r.field[i]);
	}
	if (rc < 0)
		snprintf(out + used, len - used, "%sERROR %zu:%zu %s",
		         used ? "/" : "", e.line, e.column, e.msg);
	csv_free(&c);
}

#define READS(text, want)                         \
	do {                                      \
		char got[1024];                   \
		read_all(text, got, sizeof(got)); \
		ck_assert_str_eq(got, want);      \
	} while (0)

START_TEST(test_plain)
{
	READS("a,b,c\n1,2,3\n", "1:a|b|c/2:1|2|3");
	READS("a,b,c\r\n1,2,3", "1:a|b|c/2:1|2|3");
	READS("a,,c\n,\n", "1:a||c/2:|");
	READS("\xef\xbb\xbf"
	      "at,text\n",
	      "1:at|text");
	READS("a\n\n\r\nb\n", "1:a/4:b");
	READS(" spaced , kept \n", "1: spaced | kept ");
	READS("", "");
}
END_TEST

START_TEST(test_quoted)
{
	READS("\"a,b\",\"say \"\"hi\"\"\"\n", "1:a,b|say \"hi\"");
	/* A field over three lines: the next record starts on line 4. */
	READS("\"one\ntwo\r\nthree\",x\nnext,y\n",
	      "1:one\ntwo\nthree|x/4:next|y");
	READS("\"\",\"\"\n", "1:|");
	READS("\"caf\xc3\xa9\",\xe2\x9c\x93\n", "1:caf\xc3\xa9|\xe2\x9c\x93");
}
END_TEST

START_TEST(test_errors)
{
	READS("ok\n\"never ends,x\n",
	      "1:ok/ERROR 2:1 a quoted field that never ends");
	READS("a,b\"c\n", "ERROR 1:4 a quote inside a field that does not "
	                  "start with one (quote the whole field, and double "
	                  "the quotes in it)");
	READS("\"a\"b,c\n",
	      "ERROR 1:4 text after a quoted field's closing quote");
	READS("ok\nbad,\xff\xfe\n", "1:ok/ERROR 2:5 text that is not UTF-8");
	READS("a,b\n", "1:a|b");
}
END_TEST

START_TEST(test_nul_and_width)
{
	char text[256];
	struct csv c;
	struct csv_record r;
	struct csv_error e = {0};

	memcpy(text, "a,b\0c\n", 6);
	csv_init(&c, text, 6);
	ck_assert_int_eq(csv_next(&c, &r, &e), -1);
	ck_assert_str_eq(e.msg, "a NUL byte");
	ck_assert_uint_eq(e.column, 4);
	csv_free(&c);
	/* 65 fields: one too many. */
	memset(text, ',', 64);
	text[64] = '\n';
	csv_init(&c, text, 65);
	ck_assert_int_eq(csv_next(&c, &r, &e), -1);
	ck_assert_str_eq(e.msg, "more than 64 fields in a record");
	csv_free(&c);
}
END_TEST

static Suite *csv_suite(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_quoted);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_nul_and_width);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(csv_suite)
