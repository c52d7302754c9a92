/*
 * Unit tests for smmctl report's renderer (client/report_*.c): a fixture
 * with every section filled, and hostile text in every field a person
 * writes, is rendered to memory and read back: everything escaped, no
 * link but the posts' own, each chart with its data marks, each empty
 * section saying so in words.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "check_main.h"
#include "report.h"

/* The fixture's only link a page may carry: its first top post's. */
#define POST_URL "https://social.example.net/@shop/110001"

static json_t *fixture;

static void setup(void)
{
	const char *top = getenv("SMM_TOP_SRCDIR");
	char path[4096];
	json_error_t err;

	snprintf(path, sizeof(path), "%s/tests/unit/data/report/full.json",
	         top ? top : "..");
	fixture = json_load_file(path, 0, &err);
	ck_assert_msg(fixture != NULL, "%s:%d: %s", path, err.line, err.text);
	setenv("TZ", "Europe/Paris", 1);
	tzset();
}

static void teardown(void)
{
	json_decref(fixture);
}

/* The page for report, NUL-terminated; the caller frees it. */
static char *render(const json_t *report)
{
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(report_html(f, report, "1.0"), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(strlen(page), len);
	return page;
}

/* How many times needle occurs in [s, end) (end NULL: to the NUL). */
static size_t count(const char *s, const char *end, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle)) != NULL && (end == NULL || s < end)) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* The k-th <svg>...</svg> of page, as [*from, *to); 0 if there is none. */
static int svg_block(const char *page, size_t k, const char **from,
                     const char **to)
{
	const char *s = page;

	for (size_t i = 0; i <= k; i++) {
		if ((s = strstr(s, "<svg")) == NULL)
			return 0;
		*from = s;
		s += 4;
	}
	*to = strstr(*from, "</svg>");
	return *to != NULL;
}

START_TEST(test_escaping)
{
	char *page = render(fixture);

	/* The fixture's texts, reasons and names carry markup: none is live. */
	ck_assert_ptr_null(strcasestr(page, "<script"));
	ck_assert_ptr_null(strcasestr(page, "<img"));
	ck_assert_ptr_null(strstr(page, "<i>autumn"));
	ck_assert_ptr_null(strstr(page, "<b>bold"));
	ck_assert_ptr_nonnull(strstr(page, "&lt;script&gt;alert(&quot;x&quot;)"
	                                   "&lt;/script&gt; &amp; &quot;quotes"
	                                   "&quot; &#39;single&#39;"));
	ck_assert_ptr_nonnull(
	        strstr(page, "&lt;img src=x onerror=alert(1)&gt;"));
	ck_assert_ptr_nonnull(
	        strstr(page, "&lt;i&gt;autumn&lt;/i&gt; &quot;sale&quot;"));
	/* ... in an SVG legend too. */
	ck_assert_ptr_nonnull(strstr(page, "aut&quot;umn&lt;"));
	ck_assert_ptr_nonnull(strstr(page, "<meta charset=\"utf-8\">"));
	free(page);
}
END_TEST

START_TEST(test_no_external_urls)
{
	static const char *const attrs[] = {
	        " href=", " src=", " xlink:href=", " action=", " srcset="};
	char *page = render(fixture);
	size_t links = 0;

	/* Every tag's attributes (text never holds a bare '<': escaped). */
	for (const char *t = page; (t = strchr(t, '<')) != NULL; t++) {
		const char *end = strchr(t, '>');

		ck_assert_ptr_nonnull(end);
		for (size_t a = 0; a < sizeof(attrs) / sizeof(attrs[0]); a++) {
			const char *s = t;

			while ((s = strstr(s, attrs[a])) != NULL && s < end) {
				const char *v = s + strlen(attrs[a]);

				/* Quoted, and exactly the post's URL. */
				ck_assert_msg(
				        strncmp(v, "\"" POST_URL "\"",
				                strlen(POST_URL) + 2) == 0,
				        "a link that is no post's: %.60s", s);
				links++;
				s = v;
			}
		}
	}
	/* The https link is there; the javascript: one is text, not a link. */
	ck_assert_uint_eq(links, 1);
	ck_assert_ptr_null(strcasestr(page, "javascript:"));
	/* Nothing fetched by the style sheet or anything else. */
	ck_assert_ptr_null(strstr(page, "url("));
	ck_assert_ptr_null(strstr(page, "@import"));
	ck_assert_ptr_null(strstr(page, "<link"));
	ck_assert_ptr_null(strstr(page, "<iframe"));
	free(page);
}
END_TEST

/* Bars: one per channel and day that published; points: one per row. */
START_TEST(test_charts_have_marks)
{
	char *page = render(fixture);
	const char *from, *to, *ch;
	const json_t *day, *c;
	size_t i, bars = 0, n = 0;

	json_array_foreach (json_object_get(fixture, "days"), i, day)
		json_object_foreach (json_object_get(day, "by_channel"), ch, c)
			bars += json_integer_value(
			                json_object_get(c, "published")) > 0;
	ck_assert_uint_gt(bars, 10);
	ck_assert_uint_eq(count(page, NULL, "<svg"), 3);
	ck_assert_uint_eq(count(page, NULL, "</svg>"), 3);
	ck_assert(svg_block(page, 0, &from, &to));
	ck_assert_uint_eq(count(from, to, "class=\"bar\""), bars);
	ck_assert_uint_eq(count(from, to, "class=\"key\""), 3); /* channels */
	ck_assert(svg_block(page, 1, &from, &to));
	ck_assert_uint_eq(
	        count(from, to, "class=\"pt\""),
	        json_array_size(json_object_get(fixture, "engagement")));
	ck_assert_uint_eq(count(from, to, "class=\"line\""), 3); /* campaigns */
	ck_assert_ptr_nonnull(strstr(from, "(no campaign)"));
	ck_assert(svg_block(page, 2, &from, &to));
	n = json_array_size(json_object_get(fixture, "audience"));
	ck_assert_uint_eq(count(from, to, "class=\"pt\""), n);
	ck_assert_uint_eq(count(from, to, "class=\"line\""), 2); /* channels */
	/* Axes: labelled, with ticks. */
	ck_assert_ptr_nonnull(strstr(page, ">posts published</text>"));
	ck_assert_ptr_nonnull(strstr(page, ">1 Nov</text>"));
	free(page);
}
END_TEST

/* The month grid: Monday to Sunday, every day of November, six weeks. */
START_TEST(test_calendar_grid)
{
	char *page = render(fixture);
	const char *from = strstr(page, "<table class=\"cal\">");
	const char *to = from ? strstr(from, "</table>") : NULL;

	ck_assert_ptr_nonnull(to);
	ck_assert_ptr_nonnull(strstr(from, "<th>Mon</th><th>Tue</th>"));
	ck_assert_uint_eq(count(from, to, "<td class=\"day\">"), 30);
	/* 2026-11-01 is a Sunday: six rows, 12 cells outside the month. */
	ck_assert_uint_eq(count(from, to, "<tr>"), 7);
	ck_assert_uint_eq(count(from, to, "<td class=\"out\">"), 12);
	/* The first day sits in the last column of the first row. */
	ck_assert_ptr_nonnull(strstr(from, "<td class=\"out\">31</td>"
	                                   "<td class=\"day\"><div "
	                                   "class=\"dnum\">1 Nov</div>"));
	/* A day with more than six posts says how many more. */
	ck_assert_ptr_nonnull(strstr(from, "+3 more"));
	ck_assert_ptr_nonnull(strstr(from, "<li class=\"st-failed\""));
	ck_assert_ptr_nonnull(strstr(from, "<li class=\"st-held\""));
	ck_assert_ptr_nonnull(strstr(from, "<b>1</b> failed"));
	free(page);
}
END_TEST

START_TEST(test_sections)
{
	static const char *const headings[] = {
	        "<h2>At a glance</h2>",
	        "<h2>Calendar</h2>",
	        "<h2>Posts published per day</h2>",
	        "<h2>Engagement per campaign</h2>",
	        "<h2>Top posts by engagement</h2>",
	        "<h2>Goals</h2>",
	        "<h2>Audience growth</h2>",
	        "<h2>Failed, held and skipped posts</h2>",
	};
	char *page = render(fixture);

	for (size_t i = 0; i < sizeof(headings) / sizeof(headings[0]); i++)
		ck_assert_msg(strstr(page, headings[i]), "no %s", headings[i]);
	ck_assert_ptr_nonnull(strstr(page, "Social media report: November "
	                                   "2026"));
	ck_assert_ptr_nonnull(strstr(page, "times in Europe/Paris"));
	ck_assert_ptr_nonnull(strstr(page, "Generated 2026-12-03 10:30"));
	ck_assert_ptr_nonnull(strstr(page, "98.2 %"));
	ck_assert_ptr_nonnull(strstr(page, ">180 ms<"));
	ck_assert_ptr_nonnull(strstr(page, ">2.4 s<"));
	ck_assert_ptr_nonnull(strstr(page, "41.7 %"));
	ck_assert_ptr_nonnull(strstr(page, "780 of 500"));
	ck_assert_ptr_nonnull(strstr(page, ">behind<"));
	ck_assert_ptr_nonnull(strstr(page, "28 days left"));
	ck_assert_ptr_nonnull(strstr(page, "3,000")); /* views */
	ck_assert_ptr_nonnull(strstr(page, "and 2 more"));
	ck_assert_ptr_nonnull(strstr(page, "paused: crisis drill"));
	ck_assert_uint_eq(count(page, NULL, "<section"),
	                  count(page, NULL, "</section>"));
	ck_assert_uint_eq(count(page, NULL, "<table"),
	                  count(page, NULL, "</table>"));
	ck_assert_ptr_nonnull(strstr(page, "@media print"));
	free(page);
}
END_TEST

/* Nothing collected: words, not empty charts. */
START_TEST(test_empty_sections)
{
	static const char *const lists[] = {"engagement", "top_posts", "goals",
	                                    "audience", "problems"};
	json_t *r = json_deep_copy(fixture), *day;
	size_t i;
	char *page;

	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++)
		json_object_set_new(r, lists[k], json_array());
	json_object_set_new(r, "summary", json_null());
	json_array_foreach (json_object_get(r, "days"), i, day)
		json_object_set_new(day, "by_channel", json_object());
	page = render(r);
	ck_assert_ptr_null(strstr(page, "<svg"));
	ck_assert_ptr_nonnull(strstr(page, "No posts were published in this "
	                                   "period."));
	ck_assert_ptr_nonnull(strstr(page, "No engagement collected in this "
	                                   "period."));
	ck_assert_ptr_nonnull(strstr(page, "No engagement collected in this "
	                                   "period, so no top posts."));
	ck_assert_ptr_nonnull(strstr(page, "No goals set"));
	ck_assert_ptr_nonnull(strstr(page, "No audience figures collected"));
	ck_assert_ptr_nonnull(strstr(page, "No failed, held, skipped, missed "
	                                   "or unknown posts"));
	ck_assert_ptr_nonnull(strstr(page, "not measured"));
	free(page);
	json_decref(r);
}
END_TEST

/* A range that is not a whole month, ending in another. */
START_TEST(test_partial_range)
{
	json_t *r = json_pack("{s:I, s:I, s:I, s:s, s:[{s:s}, {s:s}, {s:s}]}",
	                      "since_ms", (json_int_t)1796943600000, "until_ms",
	                      (json_int_t)1797202800000, "generated_ms",
	                      (json_int_t)1796943600000, "zone", "Europe/Paris",
	                      "days", "date", "2026-12-30", "date",
	                      "2026-12-31", "date", "2027-01-01");
	char *page = render(r);

	ck_assert_ptr_nonnull(strstr(page, "30 Dec 2026 – 1 Jan 2027"));
	ck_assert_uint_eq(count(page, NULL, "<td class=\"day\">"), 3);
	ck_assert_ptr_nonnull(strstr(page, "class=\"dnum\">1 Jan</div>"));
	ck_assert_ptr_nonnull(strstr(page, "nothing planned"));
	free(page);
	json_decref(r);
}
END_TEST

START_TEST(test_helpers)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int64_t dn;
	int y, m, d;

	report_num(f, 1234567);
	fputc(' ', f);
	report_num(f, 999);
	fputc(' ', f);
	report_num(f, -1000);
	fputc(' ', f);
	report_esc(f, "<a href='x'>&\"</a>");
	fclose(f);
	ck_assert_str_eq(buf, "1,234,567 999 -1,000 &lt;a href=&#39;x&#39;&gt;"
	                      "&amp;&quot;&lt;/a&gt;");
	free(buf);
	ck_assert_int_eq(report_day_number("1970-01-01", &dn), 0);
	ck_assert_int_eq(dn, 0);
	ck_assert_int_eq(report_day_number("2026-11-01", &dn), 0);
	ck_assert_int_eq(dn, 20758);
	/* November has 30 days, December 31. */
	report_civil(dn + 61, &y, &m, &d);
	ck_assert(y == 2027 && m == 1 && d == 1);
	ck_assert_int_eq(report_day_number("2026-13-01", &dn), -1);
	ck_assert_int_eq(report_day_number("2026-1-01", &dn), -1);
	ck_assert(report_url_ok("https://example.net/a?b=c"));
	ck_assert(report_url_ok("HTTP://example.net/"));
	ck_assert(!report_url_ok("javascript:alert(1)"));
	ck_assert(!report_url_ok("https://x\"onmouseover=\"y"));
	ck_assert(!report_url_ok("https://a b"));
	ck_assert(!report_url_ok(NULL));
	ck_assert_str_eq(report_state_class("retry_wait"), "retry_wait");
	ck_assert_str_eq(report_state_class("x\" onclick=\""), "other");
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("render");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_no_external_urls);
	tcase_add_test(tc, test_charts_have_marks);
	tcase_add_test(tc, test_calendar_grid);
	tcase_add_test(tc, test_sections);
	tcase_add_test(tc, test_empty_sections);
	tcase_add_test(tc, test_partial_range);
	tcase_add_test(tc, test_helpers);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(report_suite)
