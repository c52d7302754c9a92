/* Unit tests for lib/text.c: the one UTF-8 walker and the text fitters. */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "text.h"

/* Encode cp as UTF-8 the long way, even where it is not allowed. */
static size_t encode(uint32_t cp, unsigned char out[4])
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* utf8_next over the whole string s. */
static uint32_t next(const char *s, size_t *len)
{
	return utf8_next(s, strlen(s), len);
}

START_TEST(test_next_lengths)
{
	size_t len;

	ck_assert_uint_eq(next("A", &len), 'A');
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(next("\x7f", &len), 0x7f);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(next("\xc3\xa9x", &len), 0xe9); /* é */
	ck_assert_uint_eq(len, 2);
	ck_assert_uint_eq(next("\xe2\x82\xac", &len), 0x20ac); /* € */
	ck_assert_uint_eq(len, 3);
	ck_assert_uint_eq(next("\xf0\x9f\x90\x91", &len), 0x1f411); /* 🐑 */
	ck_assert_uint_eq(len, 4);
	/* A NUL inside the n bytes is a character like any other. */
	ck_assert_uint_eq(utf8_next("\0a", 2, &len), 0);
	ck_assert_uint_eq(len, 1);
}
END_TEST

/* Every scalar value decodes back from its encoding, length and all. */
START_TEST(test_next_every_code_point)
{
	unsigned char b[4];
	size_t n, len, wrong = 0;
	uint32_t first_wrong = 0;

	/* Count, and assert once: a million ck_asserts is slow. */
	for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
		int surrogate = cp >= 0xd800 && cp <= 0xdfff;
		uint32_t got;

		n = encode(cp, b);
		got = utf8_next((const char *)b, n, &len);
		if (surrogate ? got != UTF8_INVALID || len != 1
		              : got != cp || len != n) {
			if (wrong++ == 0)
				first_wrong = cp;
		}
	}
	ck_assert_msg(wrong == 0, "%zu code points wrong, first U+%04X", wrong,
	              (unsigned)first_wrong);
}
END_TEST

START_TEST(test_next_overlong)
{
	static const char *const bad[] = {
	        "\xc0\x80",         /* NUL in two bytes */
	        "\xc1\xbf",         /* U+007F in two bytes */
	        "\xe0\x80\xaf",     /* '/' in three bytes */
	        "\xe0\x9f\xbf",     /* U+07FF in three bytes */
	        "\xf0\x80\x80\xaf", /* '/' in four bytes */
	        "\xf0\x8f\xbf\xbf", /* U+FFFF in four bytes */
	};
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_uint_eq(next(bad[i], &len), UTF8_INVALID);
		ck_assert_uint_eq(len, 1);
	}
	/* The shortest forms just above are fine. */
	ck_assert_uint_eq(next("\xc2\x80", &len), 0x80);
	ck_assert_uint_eq(next("\xe0\xa0\x80", &len), 0x800);
	ck_assert_uint_eq(next("\xf0\x90\x80\x80", &len), 0x10000);
}
END_TEST

START_TEST(test_next_surrogates_and_range)
{
	size_t len;

	ck_assert_uint_eq(next("\xed\xa0\x80", &len), UTF8_INVALID);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(next("\xed\xbf\xbf", &len), UTF8_INVALID);
	ck_assert_uint_eq(next("\xed\x9f\xbf", &len), 0xd7ff);
	ck_assert_uint_eq(next("\xee\x80\x80", &len), 0xe000);
	/* Past U+10FFFF, and lead bytes that could only start it. */
	ck_assert_uint_eq(next("\xf4\x8f\xbf\xbf", &len), 0x10ffff);
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq(next("\xf4\x90\x80\x80", &len), UTF8_INVALID);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(next("\xf5\x80\x80\x80", &len), UTF8_INVALID);
	ck_assert_uint_eq(next("\xf8\x88\x80\x80\x80", &len), UTF8_INVALID);
	ck_assert_uint_eq(next("\xfe", &len), UTF8_INVALID);
	ck_assert_uint_eq(next("\xff", &len), UTF8_INVALID);
	ck_assert_uint_eq(len, 1);
}
END_TEST

START_TEST(test_next_truncated)
{
	size_t len;

	/* Cut by the end of the bytes, whatever follows in memory. */
	ck_assert_uint_eq(utf8_next("\xc3\xa9", 1, &len), UTF8_INVALID);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(utf8_next("\xe2\x82\xac", 2, &len), UTF8_INVALID);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(utf8_next("\xf0\x9f\x90\x91", 3, &len), UTF8_INVALID);
	ck_assert_uint_eq(len, 1);
	/* Cut by a byte that does not continue it. */
	ck_assert_uint_eq(next("\xc3"
	                       "A",
	                       &len),
	                  UTF8_INVALID);
	ck_assert_uint_eq(next("\xe2\x82"
	                       "A",
	                       &len),
	                  UTF8_INVALID);
	ck_assert_uint_eq(next("\xf0\x9f\x90"
	                       "A",
	                       &len),
	                  UTF8_INVALID);
	ck_assert_uint_eq(next("\xe2\xc3\xa9", &len), UTF8_INVALID);
	ck_assert_uint_eq(len, 1);
}
END_TEST

START_TEST(test_next_lone_continuation)
{
	size_t len;

	for (unsigned c = 0x80; c <= 0xbf; c++) {
		char s[3] = {(char)c, 'a', '\0'};

		ck_assert_uint_eq(next(s, &len), UTF8_INVALID);
		ck_assert_uint_eq(len, 1);
	}
}
END_TEST

START_TEST(test_chars)
{
	ck_assert_uint_eq(text_chars("", 0), 0);
	ck_assert_uint_eq(text_chars("hello", 5), 5);
	ck_assert_uint_eq(text_chars("\xc3\x91"
	                             "and\xc3\xba",
	                             7),
	                  5);
	ck_assert_uint_eq(text_chars("\xe6\x97\xa5\xe6\x9c\xac", 6), 2);
	ck_assert_uint_eq(text_chars("\xf0\x9f\x90\x91", 4), 1);
	/* A flag is two regional indicators: two characters. */
	ck_assert_uint_eq(text_chars("\xf0\x9f\x87\xaa\xf0\x9f\x87\xb8", 8), 2);
	/* Only the first n bytes count. */
	ck_assert_uint_eq(text_chars("abc", 2), 2);
	/* A lone continuation byte adds nothing; any other byte one. */
	ck_assert_uint_eq(text_chars("a\x80"
	                             "b",
	                             3),
	                  2);
	ck_assert_uint_eq(text_chars("\xff\xfe", 2), 2);
}
END_TEST

START_TEST(test_valid)
{
	static const char *const good[] = {
	        "",
	        "plain ASCII",
	        "\xc3\xa9t\xc3\xa9",
	        "\xe2\x82\xac 5",
	        "\xf0\x9f\x90\x91",
	        "\xf4\x8f\xbf\xbf",
	        "\xef\xbf\xbf",
	};
	static const char *const bad[] = {
	        "\x80",
	        "a\xc3",
	        "\xc0\x80",
	        "\xed\xa0\x80",
	        "\xf4\x90\x80\x80",
	        "ok\xff",
	        "\xe2\x82",
	        "\xf0\x9f\x90"
	        "A",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(text_valid(good[i], strlen(good[i])), "good %zu",
		              i);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!text_valid(bad[i], strlen(bad[i])), "bad %zu",
		              i);
	/* Valid when the bad byte lies past n. */
	ck_assert(text_valid("ab\xff", 2));
	ck_assert(text_valid("\0", 1));
}
END_TEST

START_TEST(test_cp_cols)
{
	ck_assert_int_eq(text_cp_cols('a'), 1);
	ck_assert_int_eq(text_cp_cols(0xe9), 1);    /* é */
	ck_assert_int_eq(text_cp_cols(0x0416), 1);  /* Ж */
	ck_assert_int_eq(text_cp_cols(0x0301), 0);  /* combining acute */
	ck_assert_int_eq(text_cp_cols(0x0300), 0);  /* first combining */
	ck_assert_int_eq(text_cp_cols(0x036f), 0);  /* last combining */
	ck_assert_int_eq(text_cp_cols(0x0370), 1);  /* just after */
	ck_assert_int_eq(text_cp_cols(0x200b), 0);  /* zero width space */
	ck_assert_int_eq(text_cp_cols(0x200d), 0);  /* zero width joiner */
	ck_assert_int_eq(text_cp_cols(0xfe0f), 0);  /* variation selector */
	ck_assert_int_eq(text_cp_cols(0x65e5), 2);  /* 日 */
	ck_assert_int_eq(text_cp_cols(0x3042), 2);  /* あ */
	ck_assert_int_eq(text_cp_cols(0xac00), 2);  /* 가 */
	ck_assert_int_eq(text_cp_cols(0xd7a3), 2);  /* last Hangul */
	ck_assert_int_eq(text_cp_cols(0xd7a4), 1);  /* just after */
	ck_assert_int_eq(text_cp_cols(0xff21), 2);  /* fullwidth A */
	ck_assert_int_eq(text_cp_cols(0xff61), 1);  /* halfwidth 。 */
	ck_assert_int_eq(text_cp_cols(0x2614), 2);  /* umbrella */
	ck_assert_int_eq(text_cp_cols(0x1f411), 2); /* 🐑 */
	ck_assert_int_eq(text_cp_cols(0x1f600), 2); /* 😀 */
	ck_assert_int_eq(text_cp_cols(0x20000), 2); /* CJK extension B */
	ck_assert_int_eq(text_cp_cols(0x10ffff), 1);
}
END_TEST

START_TEST(test_fit_cols)
{
	const char *jp = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"; /* 日本語 */
	const char *acute = "e\xcc\x81x"; /* é as e+◌́ */
	size_t cols;

	ck_assert_uint_eq(text_fit_cols("hello", 5, 3, &cols), 3);
	ck_assert_uint_eq(cols, 3);
	ck_assert_uint_eq(text_fit_cols("hello", 5, 80, &cols), 5);
	ck_assert_uint_eq(cols, 5);
	ck_assert_uint_eq(text_fit_cols("hello", 5, 0, &cols), 0);
	ck_assert_uint_eq(cols, 0);
	/* A wide character that would straddle the edge stays out. */
	ck_assert_uint_eq(text_fit_cols(jp, 9, 5, &cols), 6);
	ck_assert_uint_eq(cols, 4);
	ck_assert_uint_eq(text_fit_cols(jp, 9, 6, &cols), 9);
	ck_assert_uint_eq(cols, 6);
	ck_assert_uint_eq(text_fit_cols(jp, 9, 1, &cols), 0);
	ck_assert_uint_eq(cols, 0);
	/* A combining mark goes with the letter it follows. */
	ck_assert_uint_eq(text_fit_cols(acute, 4, 1, &cols), 3);
	ck_assert_uint_eq(cols, 1);
	ck_assert_uint_eq(text_fit_cols(acute, 4, 2, &cols), 4);
	ck_assert_uint_eq(cols, 2);
	/* An emoji is two columns; an invalid byte is one. */
	ck_assert_uint_eq(text_fit_cols("\xf0\x9f\x90\x91"
	                                "b",
	                                5, 2, &cols),
	                  4);
	ck_assert_uint_eq(cols, 2);
	ck_assert_uint_eq(text_fit_cols("\xff"
	                                "ab",
	                                3, 2, &cols),
	                  2);
	ck_assert_uint_eq(cols, 2);
	ck_assert_uint_eq(text_fit_cols("\xe2\x82", 2, 1, &cols), 1);
	ck_assert_uint_eq(cols, 1);
	/* cols may be NULL. */
	ck_assert_uint_eq(text_fit_cols("abc", 3, 2, NULL), 2);
}
END_TEST

/* Mixed widths and lengths, for the never-split walks below. */
static const char mixed[] = "a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x90\x91"
                            "e\xcc\x81\xe2\x82\xac"
                            "b\xf0\x9f\x87\xaa\xf0\x9f\x87\xb8z";

START_TEST(test_fit_never_splits)
{
	size_t n = strlen(mixed), cols, total;

	text_fit_cols(mixed, n, SIZE_MAX, &total);
	for (size_t max = 0; max <= total + 1; max++) {
		size_t fit = text_fit_cols(mixed, n, max, &cols);

		ck_assert(text_valid(mixed, fit));
		ck_assert_uint_le(cols, max);
		/* Longest: the next character would not fit. */
		if (fit < n) {
			size_t len, w;

			w = (size_t)text_cp_cols(
			        utf8_next(mixed + fit, n - fit, &len));
			ck_assert_uint_gt(cols + w, max);
		}
	}
}
END_TEST

START_TEST(test_cut_chars)
{
	const char *s = "\xc3\x91"
	                "and\xc3\xba"; /* Ñandú */
	size_t n = strlen(s);

	ck_assert_uint_eq(text_cut_chars(s, n, 0), 0);
	ck_assert_uint_eq(text_cut_chars(s, n, 1), 2);
	ck_assert_uint_eq(text_cut_chars(s, n, 2), 3);
	ck_assert_uint_eq(text_cut_chars(s, n, 4), 5);
	ck_assert_uint_eq(text_cut_chars(s, n, 5), n);
	ck_assert_uint_eq(text_cut_chars(s, n, 99), n);
	ck_assert_uint_eq(text_cut_chars("a\xf0\x9f\x90\x91"
	                                 "b",
	                                 6, 2),
	                  5);
	ck_assert_uint_eq(text_cut_chars("", 0, 3), 0);
	/* A lone continuation byte stays with what it follows. */
	ck_assert_uint_eq(text_cut_chars("a\x80"
	                                 "b",
	                                 3, 1),
	                  2);
}
END_TEST

START_TEST(test_cut_never_splits)
{
	size_t n = strlen(mixed), total = text_chars(mixed, n);

	for (size_t max = 0; max <= total + 1; max++) {
		size_t cut = text_cut_chars(mixed, n, max);

		ck_assert(text_valid(mixed, cut));
		ck_assert_uint_eq(text_chars(mixed, cut),
		                  max < total ? max : total);
		ck_assert(cut == n || text_chars(mixed, cut + 1) > max);
	}
}
END_TEST

/* s (n bytes) escaped whole, quoted: a JSON string, in out. */
static void escape_all(const char *s, size_t n, char *out, size_t cap)
{
	size_t len = 0, used, run;
	char esc[JSON_ESCAPE_MAX];

	out[len++] = '"';
	for (; n > 0; s += used, n -= used) {
		used = json_escape_step(s, n, &run, esc);
		ck_assert_uint_gt(used, 0);
		ck_assert_uint_le(used, n);
		if (run == 0) {
			ck_assert_uint_eq(used, 1);
			ck_assert_uint_lt(strlen(esc), JSON_ESCAPE_MAX);
		}
		ck_assert_uint_lt(len + (run ? run : strlen(esc)) + 2, cap);
		memcpy(out + len, run ? s : esc, run ? run : strlen(esc));
		len += run ? run : strlen(esc);
	}
	out[len++] = '"';
	out[len] = '\0';
}

/* What a JSON parser reads back from escape_all's output. */
static char *read_back(const char *quoted)
{
	json_error_t e;
	json_t *j = json_loads(quoted, JSON_DECODE_ANY, &e);
	char *s;

	ck_assert_msg(j != NULL, "%s: %s", quoted, e.text);
	ck_assert(json_is_string(j));
	s = strdup(json_string_value(j));
	json_decref(j);
	return s;
}

/* Exact output for each kind of byte, and a parser's reading of it. */
START_TEST(test_json_escape)
{
	static const struct {
		const char *in, *want, *reads;
	} cases[] = {
	        {"plain text", "\"plain text\"", "plain text"},
	        {"say \"hi\"", "\"say \\\"hi\\\"\"", "say \"hi\""},
	        {"a\\b", "\"a\\\\b\"", "a\\b"},
	        {"l1\nl2\tx", "\"l1\\nl2\\tx\"", "l1\nl2\tx"},
	        /* jansson's forms: short where JSON has one, else \u00XX;
	           DEL needs none. */
	        {"\r\b\f\x01\x1f\x7f", "\"\\r\\b\\f\\u0001\\u001F\x7f\"",
	         "\r\b\f\x01\x1f\x7f"},
	        {"caf\xc3\xa9 \xf0\x9f\x8e\x89",
	         "\"caf\xc3\xa9 \xf0\x9f\x8e\x89\"",
	         "caf\xc3\xa9 \xf0\x9f\x8e\x89"},
	        /* Slashes and U+2028 need nothing in JSON. */
	        {"a/b\xe2\x80\xa8", "\"a/b\xe2\x80\xa8\"", "a/b\xe2\x80\xa8"},
	        /* Invalid: a lone continuation, a truncated sequence. */
	        {"x\x80y\xc3", "\"x\\ufffdy\\ufffd\"",
	         "x\xef\xbf\xbdy\xef\xbf\xbd"},
	        {"", "\"\"", ""},
	};
	char out[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *back;

		escape_all(cases[i].in, strlen(cases[i].in), out, sizeof(out));
		ck_assert_str_eq(out, cases[i].want);
		back = read_back(out);
		ck_assert_str_eq(back, cases[i].reads);
		free(back);
	}
}
END_TEST

/* Every byte value, alone and inside text: always valid JSON. */
START_TEST(test_json_escape_every_byte)
{
	char in[4], out[64], *back;

	for (int c = 1; c < 256; c++) {
		in[0] = 'a';
		in[1] = (char)c;
		in[2] = 'z';
		in[3] = '\0';
		escape_all(in, 3, out, sizeof(out));
		back = read_back(out);
		if (c < 0x80)
			ck_assert_str_eq(back, in);
		else
			ck_assert_str_eq(back, "a\xef\xbf\xbdz");
		free(back);
	}
}
END_TEST

static Suite *text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *utf8 = tcase_create("utf8_next"), *fit = tcase_create("fit");

	tcase_add_test(utf8, test_next_lengths);
	tcase_add_test(utf8, test_next_every_code_point);
	tcase_add_test(utf8, test_next_overlong);
	tcase_add_test(utf8, test_next_surrogates_and_range);
	tcase_add_test(utf8, test_next_truncated);
	tcase_add_test(utf8, test_next_lone_continuation);
	tcase_add_test(utf8, test_chars);
	tcase_add_test(utf8, test_valid);
	tcase_add_test(utf8, test_json_escape);
	tcase_add_test(utf8, test_json_escape_every_byte);
	tcase_add_test(fit, test_cp_cols);
	tcase_add_test(fit, test_fit_cols);
	tcase_add_test(fit, test_fit_never_splits);
	tcase_add_test(fit, test_cut_chars);
	tcase_add_test(fit, test_cut_never_splits);
	suite_add_tcase(s, utf8);
	suite_add_tcase(s, fit);
	return s;
}

SMM_CHECK_MAIN(text_suite)
