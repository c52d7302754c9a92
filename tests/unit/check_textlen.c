/*
 * Unit tests for lib/textlen.c: graphemes (Bluesky), X's weighted length
 * (twitter-text v3) and Bluesky's link and tag facets with their UTF-8
 * byte offsets.
 */
#include <check.h>
#include <string.h>

#include "check_main.h"
#include "textlen.h"

#define FAMILY                                                     \
	"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d" \
	"\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6" /* 25 bytes */
#define FLAG_FR            "\xf0\x9f\x87\xab\xf0\x9f\x87\xb7"
#define FLAG_DE            "\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa"
#define THUMB_TONE         "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"
#define E_ACUTE_DECOMPOSED "e\xcc\x81"
#define NIHONGO            "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
#define SPARKLES           "\xe2\x9c\xa8" /* U+2728, 3 bytes */

static size_t g(const char *s)
{
	return textlen_graphemes(s, strlen(s));
}

static size_t xw(const char *s)
{
	return textlen_x_weighted(s, strlen(s));
}

START_TEST(test_graphemes_plain)
{
	ck_assert_uint_eq(g(""), 0);
	ck_assert_uint_eq(g("abc"), 3);
	ck_assert_uint_eq(g(NIHONGO), 3);
	ck_assert_uint_eq(g("\r\n"), 1);
}
END_TEST

START_TEST(test_graphemes_emoji)
{
	ck_assert_uint_eq(g(FAMILY), 1);
	ck_assert_uint_eq(g(FLAG_FR FLAG_DE), 2);
	ck_assert_uint_eq(g(THUMB_TONE), 1);
	ck_assert_uint_eq(g("#\xef\xb8\x8f\xe2\x83\xa3"), 1); /* keycap # */
	ck_assert_uint_eq(g("a" FAMILY "b"), 3);
}
END_TEST

START_TEST(test_graphemes_combining)
{
	ck_assert_uint_eq(g(E_ACUTE_DECOMPOSED), 1);
	/* Z with three combining marks. */
	ck_assert_uint_eq(g("Z\xcd\x91\xcd\xab\xcd\x83!"), 2);
	/* Hangul jamo L V T: one syllable. */
	ck_assert_uint_eq(g("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8"), 1);
}
END_TEST

START_TEST(test_graphemes_invalid)
{
	ck_assert_uint_eq(g("\xff"), 1);
	ck_assert_uint_eq(g("a\xff"
	                    "b"),
	                  3);
	ck_assert_uint_eq(textlen_graphemes("\xe2\x82", 2), 2);
	/* A bad byte between a base and its mark keeps them apart. */
	ck_assert_uint_eq(g("e\x80\xcc\x81"), 3);
	/* n bytes only, never the terminator or past it. */
	ck_assert_uint_eq(textlen_graphemes(FAMILY, 4), 1);
	ck_assert_uint_eq(textlen_graphemes("abc", 0), 0);
}
END_TEST

START_TEST(test_x_weights)
{
	char buf[600];

	ck_assert_uint_eq(xw("hello"), 5);
	ck_assert_uint_eq(xw(NIHONGO), 6);
	/* U+201C and U+201D sit in a weight-1 range. */
	ck_assert_uint_eq(xw("\xe2\x80\x9cquote\xe2\x80\x9d"), 7);
	memset(buf, 'a', 280);
	buf[280] = '\0';
	ck_assert_uint_eq(xw(buf), 280);
	for (int k = 0; k < 140; k++)
		memcpy(buf + 3 * k, "\xe6\x97\xa5", 3);
	buf[420] = '\0';
	ck_assert_uint_eq(xw(buf), 280);
}
END_TEST

START_TEST(test_x_emoji)
{
	ck_assert_uint_eq(xw(FAMILY), 2);
	ck_assert_uint_eq(xw(FLAG_FR), 2);
	ck_assert_uint_eq(xw(FLAG_FR FLAG_DE), 4);
	ck_assert_uint_eq(xw(THUMB_TONE), 2);
	ck_assert_uint_eq(xw("#\xef\xb8\x8f\xe2\x83\xa3"), 2);
	ck_assert_uint_eq(xw("\xc2\xa9"), 1);             /* (c) as text */
	ck_assert_uint_eq(xw("\xc2\xa9\xef\xb8\x8f"), 2); /* as emoji */
	ck_assert_uint_eq(xw("hi " FAMILY), 5);
}
END_TEST

START_TEST(test_x_nfc)
{
	/* e + combining acute is é after NFC: one character. */
	ck_assert_uint_eq(xw(E_ACUTE_DECOMPOSED), 1);
	ck_assert_uint_eq(xw("caf" E_ACUTE_DECOMPOSED), 4);
}
END_TEST

START_TEST(test_x_urls)
{
	ck_assert_uint_eq(xw("http://t.co"), 23);
	ck_assert_uint_eq(
	        xw("a https://example.com/a/very/long/path/that/goes/on/and/on b"),
	        27);
	ck_assert_uint_eq(xw("see https://example.com."), 28);
	ck_assert_uint_eq(xw("HTTPS://EXAMPLE.COM/x?y=1"), 23);
	ck_assert_uint_eq(xw(NIHONGO " https://example.org/" NIHONGO),
	                  6 + 1 + 23);
	/* Not URLs to twitter-text: after "@", or without a dotted host. */
	ck_assert_uint_eq(xw("x@https://a.com"), 15);
	ck_assert_uint_eq(xw("http://localhost"), 16);
}
END_TEST

START_TEST(test_x_invalid)
{
	ck_assert_uint_eq(xw("\xff"), 1);
	ck_assert_uint_eq(xw("a\xff\xfe" NIHONGO), 1 + 2 + 6);
	ck_assert_uint_eq(textlen_x_weighted("\xe6\x97", 2), 2);
}
END_TEST

static struct text_facet *facets(const char *s, size_t *count)
{
	struct text_facet *v;

	ck_assert_int_eq(textlen_facets(s, strlen(s), &v, count), 0);
	return v;
}

static void assert_facet(const struct text_facet *f, int kind, size_t start,
                         size_t end, const char *value)
{
	ck_assert_int_eq(f->kind, kind);
	ck_assert_uint_eq(f->byte_start, start);
	ck_assert_uint_eq(f->byte_end, end);
	ck_assert_str_eq(f->value, value);
}

START_TEST(test_facets_mixed)
{
	size_t n;
	struct text_facet *v =
	        facets(SPARKLES " see https://example.com/a. #launch! #2024 #"
	                        "\xe6\x97\xa5\xe6\x9c\xac",
	               &n);

	ck_assert_uint_eq(n, 3);
	assert_facet(&v[0], FACET_LINK, 8, 29, "https://example.com/a");
	assert_facet(&v[1], FACET_TAG, 31, 38, "launch");
	assert_facet(&v[2], FACET_TAG, 46, 53, "\xe6\x97\xa5\xe6\x9c\xac");
	textlen_facets_free(v, n);
}
END_TEST

START_TEST(test_facets_emoji_offsets)
{
	size_t n;
	struct text_facet *v =
	        facets(FAMILY " https://x.org " FLAG_FR " #tag", &n);

	ck_assert_uint_eq(n, 2);
	assert_facet(&v[0], FACET_LINK, 26, 39, "https://x.org");
	assert_facet(&v[1], FACET_TAG, 49, 53, "tag");
	textlen_facets_free(v, n);
	/* A combining mark is part of the tag and of its byte length. */
	v = facets("e\xcc\x81 #cafe\xcc\x81", &n);
	ck_assert_uint_eq(n, 1);
	assert_facet(&v[0], FACET_TAG, 4, 11, "cafe\xcc\x81");
	textlen_facets_free(v, n);
}
END_TEST

START_TEST(test_facets_links)
{
	size_t n;
	struct text_facet *v = facets("(https://example.com/x)", &n);

	ck_assert_uint_eq(n, 1);
	assert_facet(&v[0], FACET_LINK, 1, 22, "https://example.com/x");
	textlen_facets_free(v, n);
	v = facets("https://en.wikipedia.org/wiki/C_(language)", &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0].byte_end, 42);
	textlen_facets_free(v, n);
	/* Not after a letter, and bare domains are not linked. */
	v = facets("xhttps://a.com example.com", &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_facets_tags)
{
	char buf[80];
	size_t n;
	struct text_facet *v;

	/* The keycap emoji is no tag; "a#b" and a lone "#" neither. */
	v = facets("#\xef\xb8\x8f\xe2\x83\xa3 #ok a#b # #_!", &n);
	ck_assert_uint_eq(n, 1);
	assert_facet(&v[0], FACET_TAG, 8, 11, "ok");
	textlen_facets_free(v, n);
	/* The full-width number sign. */
	v = facets("\xef\xbc\x83\xe3\x82\xbf\xe3\x82\xb0", &n);
	ck_assert_uint_eq(n, 1);
	assert_facet(&v[0], FACET_TAG, 0, 9, "\xe3\x82\xbf\xe3\x82\xb0");
	textlen_facets_free(v, n);
	/* 64 graphemes at most. */
	buf[0] = '#';
	memset(buf + 1, 'a', 65);
	buf[66] = '\0';
	v = facets(buf, &n);
	ck_assert_uint_eq(n, 0);
	buf[65] = '\0';
	v = facets(buf, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0].byte_end, 65);
	textlen_facets_free(v, n);
	/* A zero-width space ends a tag. */
	v = facets("#ab\xe2\x80\x8b"
	           "cd",
	           &n);
	ck_assert_uint_eq(n, 1);
	assert_facet(&v[0], FACET_TAG, 0, 3, "ab");
	textlen_facets_free(v, n);
}
END_TEST

START_TEST(test_facets_invalid)
{
	size_t n;
	struct text_facet *v = facets("\xff #tag", &n);

	ck_assert_uint_eq(n, 1);
	assert_facet(&v[0], FACET_TAG, 2, 6, "tag");
	textlen_facets_free(v, n);
	v = facets("#ta\xffg https://a.org/\xff", &n);
	ck_assert_uint_eq(n, 2);
	assert_facet(&v[0], FACET_TAG, 0, 3, "ta");
	assert_facet(&v[1], FACET_LINK, 6, 20, "https://a.org/");
	textlen_facets_free(v, n);
	textlen_facets_free(NULL, 0);
	/* A NUL ends a link or tag (a value is a C string). */
	ck_assert_int_eq(
	        textlen_facets("#ab\0cd https://a.org/\0x", 23, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	assert_facet(&v[0], FACET_TAG, 0, 3, "ab");
	assert_facet(&v[1], FACET_LINK, 7, 21, "https://a.org/");
	textlen_facets_free(v, n);
}
END_TEST

static Suite *textlen_suite(void)
{
	Suite *s = suite_create("textlen");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_graphemes_plain);
	tcase_add_test(tc, test_graphemes_emoji);
	tcase_add_test(tc, test_graphemes_combining);
	tcase_add_test(tc, test_graphemes_invalid);
	tcase_add_test(tc, test_x_weights);
	tcase_add_test(tc, test_x_emoji);
	tcase_add_test(tc, test_x_nfc);
	tcase_add_test(tc, test_x_urls);
	tcase_add_test(tc, test_x_invalid);
	tcase_add_test(tc, test_facets_mixed);
	tcase_add_test(tc, test_facets_emoji_offsets);
	tcase_add_test(tc, test_facets_links);
	tcase_add_test(tc, test_facets_tags);
	tcase_add_test(tc, test_facets_invalid);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(textlen_suite)
