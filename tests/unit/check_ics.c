/*
 * Unit tests for lib/ics.c. What ics_render writes is read back with
 * libical, an independent parser, so "a calendar application imports it"
 * is checked by one, not by the generator agreeing with itself.
 */
#include <check.h>
#include <errno.h>
#include <libical/ical.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "ics.h"

/* 2026-11-22T10:00:00Z */
#define NOW_MS 1795341600000LL

/* Every delivery the agenda can return, and what the calendar must show. */
static const struct {
	const char *id, *channel, *state, *due, *text, *full, *link, *url;
	const char *summary;     /* NULL: no VEVENT */
	const char *description; /* as libical reads it back */
	const char *status;      /* NULL: no STATUS */
	int64_t start;           /* DTSTART, Unix seconds */
} cases[] = {
        {"p1/demo", "demo", "scheduled", "2026-11-23T09:00:00.000Z",
         "Launch, day; one \\ two", "Launch, day; one \\ two\nsecond line",
         "https://shop.example/launch?a=1,b=2", NULL,
         "[scheduled] demo: Launch, day; one \\ two",
         "Launch, day; one \\ two\nsecond line\n\n"
         "Link: https://shop.example/launch?a=1,b=2\n\nDelivery: p1/demo",
         "TENTATIVE", 1795424400},
        {"p2/shop", "shop", "published", "2026-11-21T18:30:15.750Z", "Sold out",
         "Sold out", NULL, "https://social.example/@shop/42",
         "[published] shop: Sold out",
         "Sold out\n\nPublished: https://social.example/@shop/42\n\n"
         "Delivery: p2/shop",
         "CONFIRMED", 1795285815},
        {"p3/demo", "demo", "retry_wait", "2026-11-23T10:00:00.000Z",
         "Retrying", "Retrying", NULL, NULL, "[scheduled] demo: Retrying",
         "Retrying\n\nDelivery: p3/demo", "TENTATIVE", 1795428000},
        {"p4/demo", "demo", "cancelled", "2026-11-23T11:00:00.000Z",
         "Withdrawn", "Withdrawn", NULL, NULL, NULL, NULL, NULL, 0},
        {"p5/demo", "demo", "failed", "2026-11-22T08:00:00.000Z", "Broken",
         "Broken", NULL, NULL, "[failed] demo: Broken",
         "Broken\n\nDelivery: p5/demo", NULL, 1795334400},
        {"cal:tips@2026-11-24T08:00:00Z/demo", "demo", "missed",
         "2026-11-24T08:00:00.000Z", "Tip", "Tip\r\nwith CRLF", NULL, NULL,
         "[missed] demo: Tip",
         "Tip\nwith CRLF\n\nDelivery: "
         "cal:tips@2026-11-24T08:00:00Z/demo",
         NULL, 1795507200},
        /* Long and multi-byte: folded, never inside a character. */
        {"p6/demo", "demo", "scheduled", "2026-11-25T07:59:59.999Z",
         "Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x8e\x89 "
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
         "\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89",
         "Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x8e\x89 "
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
         "\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89",
         NULL, NULL,
         "[scheduled] demo: Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x8e\x89 "
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
         "\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89",
         "Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x8e\x89 "
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
         "\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89\xf0\x9f\x8e\x89"
         "\n\nDelivery: p6/demo",
         "TENTATIVE", 1795593599},
        /* Control characters cannot travel in a content line. */
        {"p7/demo", "demo", "held", "2026-11-26T12:00:00.000Z",
         "bell\x07here\ttab", "bell\x07here\ttab", NULL, NULL,
         "[held] demo: bell here\ttab", "bell here\ttab\n\nDelivery: p7/demo",
         "TENTATIVE", 1795694400},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static json_t *case_json(size_t i)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id",
	                      cases[i].id, "post", "p", "channel",
	                      cases[i].channel, "state", cases[i].state, "due",
	                      cases[i].due, "full_text", cases[i].full);

	ck_assert_ptr_nonnull(d);
	json_object_set_new(d, "text", json_string(cases[i].text));
	json_object_set_new(d, "link",
	                    cases[i].link ? json_string(cases[i].link)
	                                  : json_null());
	json_object_set_new(d, "remote_url",
	                    cases[i].url ? json_string(cases[i].url)
	                                 : json_null());
	return d;
}

static char *render_all(void)
{
	json_t *arr = json_array();
	char *ics;

	for (size_t i = 0; i < NCASES; i++)
		json_array_append_new(arr, case_json(i));
	ics = ics_render(arr, NOW_MS);
	json_decref(arr);
	ck_assert_ptr_nonnull(ics);
	return ics;
}

/* 1 if s[0..n) is well-formed UTF-8. */
static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;

	while (i < n) {
		if (s[i] < 0x80)
			len = 1;
		else if ((s[i] & 0xe0) == 0xc0)
			len = 2;
		else if ((s[i] & 0xf0) == 0xe0)
			len = 3;
		else if ((s[i] & 0xf8) == 0xf0)
			len = 4;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

static icalcomponent *parse(const char *ics)
{
	icalcomponent *cal = icalparser_parse_string(ics);

	ck_assert_ptr_nonnull(cal);
	ck_assert_int_eq(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
	/* libical records what it could not read as X-LIC-ERROR. */
	ck_assert_int_eq(icalcomponent_count_errors(cal), 0);
	return cal;
}

static icalcomponent *event_by_uid(icalcomponent *cal, const char *uid)
{
	icalcomponent *ev;

	for (ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     ev != NULL;
	     ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
		if (strcmp(icalcomponent_get_uid(ev), uid) == 0)
			return ev;
	return NULL;
}

START_TEST(test_round_trip)
{
	char *ics = render_all(), uid[256];
	icalcomponent *cal = parse(ics), *ev;
	struct icaltimetype start;
	struct icaldurationtype dur;
	icalproperty *p;

	snprintf(uid, sizeof(uid), "%s@smmd", cases[_i].id);
	ev = event_by_uid(cal, uid);
	if (cases[_i].summary == NULL) {
		ck_assert_msg(ev == NULL, "%s: cancelled but exported", uid);
		goto out;
	}
	ck_assert_msg(ev != NULL, "no VEVENT with UID %s", uid);
	ck_assert_str_eq(icalcomponent_get_summary(ev), cases[_i].summary);
	ck_assert_str_eq(icalcomponent_get_description(ev),
	                 cases[_i].description);
	start = icalcomponent_get_dtstart(ev);
	ck_assert(icaltime_is_utc(start));
	ck_assert_int_eq((int64_t)icaltime_as_timet(start), cases[_i].start);
	dur = icalcomponent_get_duration(ev);
	ck_assert_int_eq(icaldurationtype_as_int(dur), 5 * 60);
	ck_assert_int_eq(
	        (int64_t)icaltime_as_timet(icalcomponent_get_dtstamp(ev)),
	        NOW_MS / 1000);
	p = icalcomponent_get_first_property(ev, ICAL_STATUS_PROPERTY);
	if (cases[_i].status == NULL)
		ck_assert_ptr_null(p);
	else
		ck_assert_str_eq(icalproperty_get_value_as_string(p),
		                 cases[_i].status);
	p = icalcomponent_get_first_property(ev, ICAL_URL_PROPERTY);
	if (cases[_i].url == NULL || strcmp(cases[_i].state, "published"))
		ck_assert_ptr_null(p);
	else
		ck_assert_str_eq(icalproperty_get_url(p), cases[_i].url);
	p = icalcomponent_get_first_property(ev, ICAL_CATEGORIES_PROPERTY);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(icalproperty_get_categories(p), cases[_i].channel);
out:
	icalcomponent_free(cal);
	free(ics);
}
END_TEST

/* One VEVENT per delivery but the cancelled one; a valid calendar. */
START_TEST(test_shape)
{
	char *ics = render_all();
	icalcomponent *cal = parse(ics);

	ck_assert(strncmp(ics, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 30) == 0);
	ck_assert_int_eq(
	        icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT),
	        NCASES - 1);
	/* RFC 5545's cardinalities: required, at most once, ... */
	ck_assert_int_eq(icalrestriction_check(cal), 1);
	ck_assert_int_eq(icalcomponent_count_errors(cal), 0);
	icalcomponent_free(cal);
	free(ics);
}
END_TEST

/* CRLF everywhere; no line over 75 octets; no character cut in two. */
START_TEST(test_folding)
{
	char *ics = render_all(), *p = ics, *crlf;
	int folded = 0;

	while (*p) {
		size_t n;

		crlf = strstr(p, "\r\n");
		ck_assert_msg(crlf != NULL, "line without CRLF: %s", p);
		n = (size_t)(crlf - p);
		ck_assert_msg(memchr(p, '\n', n) == NULL &&
		                      memchr(p, '\r', n) == NULL,
		              "bare line break in '%.*s'", (int)n, p);
		ck_assert_msg(n <= ICS_LINE_MAX, "%zu octets: '%.*s'", n,
		              (int)n, p);
		ck_assert_msg(utf8_valid((unsigned char *)p, n),
		              "line cuts a character: '%.*s'", (int)n, p);
		folded += *p == ' ';
		p = crlf + 2;
	}
	ck_assert_msg(folded > 0, "the long text was not folded");
	free(ics);
}
END_TEST

/* The escapes themselves, as they appear on the wire. */
START_TEST(test_escaping)
{
	json_t *arr = json_array();
	char *ics, *unfolded;
	size_t i, j = 0;

	json_array_append_new(arr, case_json(0));
	ics = ics_render(arr, NOW_MS);
	ck_assert_ptr_nonnull(ics);
	/* Undo folding: CRLF followed by one space disappears. */
	unfolded = malloc(strlen(ics) + 1);
	for (i = 0; ics[i]; i++) {
		if (strncmp(ics + i, "\r\n ", 3) == 0) {
			i += 2;
			continue;
		}
		unfolded[j++] = ics[i];
	}
	unfolded[j] = '\0';
	ck_assert_ptr_nonnull(strstr(
	        unfolded,
	        "\r\nSUMMARY:[scheduled] demo: Launch\\, day\\; one \\\\ two\r\n"));
	ck_assert_ptr_nonnull(
	        strstr(unfolded, "\r\nDESCRIPTION:Launch\\, day\\; one \\\\ "
	                         "two\\nsecond line\\n\\nLink: "
	                         "https://shop.example/launch?a=1\\,b=2\\n\\n"
	                         "Delivery: p1/demo\r\n"));
	ck_assert_ptr_nonnull(strstr(unfolded, "\r\nUID:p1/demo@smmd\r\n"));
	ck_assert_ptr_nonnull(
	        strstr(unfolded, "\r\nDTSTART:20261123T090000Z\r\n"));
	ck_assert_ptr_nonnull(
	        strstr(unfolded, "\r\nDTSTAMP:20261122T100000Z\r\n"));
	ck_assert_ptr_nonnull(strstr(unfolded, "\r\nDURATION:PT5M\r\n"));
	free(unfolded);
	free(ics);
	json_decref(arr);
}
END_TEST

/* Nothing in range is still a calendar an application accepts. */
START_TEST(test_empty)
{
	json_t *arr = json_array();
	char *ics = ics_render(arr, NOW_MS);
	icalcomponent *cal;

	ck_assert_ptr_nonnull(ics);
	cal = parse(ics);
	ck_assert_int_eq(
	        icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT), 0);
	icalcomponent_free(cal);
	free(ics);
	json_decref(arr);
}
END_TEST

/* A delivery that cannot be an event is an error, not a hole. */
START_TEST(test_invalid)
{
	json_t *arr = json_array(), *d = case_json(0);

	json_object_set_new(d, "due", json_string("tomorrow"));
	json_array_append_new(arr, d);
	errno = 0;
	ck_assert_ptr_null(ics_render(arr, NOW_MS));
	ck_assert_int_eq(errno, EINVAL);
	json_object_del(d, "due");
	errno = 0;
	ck_assert_ptr_null(ics_render(arr, NOW_MS));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(ics_render(d, NOW_MS));
	ck_assert_int_eq(errno, EINVAL);
	json_decref(arr);
}
END_TEST

/* A URL that is not a plain URI stays in the description only. */
START_TEST(test_bad_url)
{
	json_t *arr = json_array(), *d = case_json(1);
	icalcomponent *cal;
	char *ics;

	json_object_set_new(d, "remote_url",
	                    json_string("https://x.example/a b\r\nX-EVIL:1"));
	json_array_append_new(arr, d);
	ics = ics_render(arr, NOW_MS);
	ck_assert_ptr_nonnull(ics);
	ck_assert_ptr_null(strstr(ics, "\r\nX-EVIL"));
	cal = parse(ics);
	ck_assert_ptr_null(icalcomponent_get_first_property(
	        icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT),
	        ICAL_URL_PROPERTY));
	icalcomponent_free(cal);
	free(ics);
	json_decref(arr);
}
END_TEST

static Suite *ics_suite(void)
{
	Suite *s = suite_create("ics");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_round_trip, 0, NCASES);
	tcase_add_test(tc, test_shape);
	tcase_add_test(tc, test_folding);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_invalid);
	tcase_add_test(tc, test_bad_url);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(ics_suite)
