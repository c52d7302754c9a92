/*
 * ics-dump: read an iCalendar on standard input with libical and print one
 * JSON object per VEVENT (uid, start as Unix seconds, summary, description,
 * status, url, categories), for the end-to-end tests to check with jq what
 * a calendar application would import. Exits 1, saying why on stderr, if
 * the input is not one VCALENDAR that libical reads without an error, or
 * if a line breaks RFC 5545's framing (bare LF, over 75 octets).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libical/ical.h>

/* The tests export a few dozen events; refuse to buffer without bound. */
#define DUMP_MAX_INPUT (16u * 1024 * 1024)

static char *read_all(FILE *in)
{
	size_t len = 0, cap = 64 * 1024, n;
	char *buf = malloc(cap), *nbuf;

	while (buf != NULL) {
		n = fread(buf + len, 1, cap - len - 1, in);
		len += n;
		if (n == 0)
			break;
		if (cap - len < 2) {
			if (cap >= DUMP_MAX_INPUT) {
				fprintf(stderr, "ics-dump: input too long\n");
				free(buf);
				return NULL;
			}
			nbuf = realloc(buf, cap * 2);
			if (nbuf == NULL)
				free(buf);
			buf = nbuf;
			cap *= 2;
		}
	}
	if (buf != NULL)
		buf[len] = '\0';
	return buf;
}

/* RFC 5545 3.1: CRLF line ends, at most 75 octets a line. */
static int check_framing(const char *s)
{
	int line = 1;

	while (*s) {
		const char *crlf = strstr(s, "\r\n");
		size_t n = crlf ? (size_t)(crlf - s) : strlen(s);

		if (crlf == NULL || memchr(s, '\n', n) != NULL) {
			fprintf(stderr,
			        "ics-dump: line %d: not ended by CRLF\n", line);
			return -1;
		}
		if (n > 75) {
			fprintf(stderr, "ics-dump: line %d: %zu octets\n", line,
			        n);
			return -1;
		}
		s = crlf + 2;
		line++;
	}
	return 0;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

int main(void)
{
	char *text = read_all(stdin);
	icalcomponent *cal, *ev;
	int status = 0;

	if (text == NULL || check_framing(text) < 0) {
		free(text);
		return 1;
	}
	cal = icalparser_parse_string(text);
	free(text);
	if (cal == NULL || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		fprintf(stderr, "ics-dump: not one VCALENDAR\n");
		if (cal)
			icalcomponent_free(cal);
		return 1;
	}
	if (icalcomponent_count_errors(cal) > 0 ||
	    icalrestriction_check(cal) == 0) {
		fprintf(stderr, "ics-dump: libical reports errors:\n%s\n",
		        icalcomponent_as_ical_string(cal));
		status = 1;
	}
	for (ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     ev != NULL; ev = icalcomponent_get_next_component(
	                         cal, ICAL_VEVENT_COMPONENT)) {
		struct icaltimetype start = icalcomponent_get_dtstart(ev);
		icalproperty *url =
		        icalcomponent_get_first_property(ev, ICAL_URL_PROPERTY);
		icalproperty *cat = icalcomponent_get_first_property(
		        ev, ICAL_CATEGORIES_PROPERTY);
		icalproperty *st = icalcomponent_get_first_property(
		        ev, ICAL_STATUS_PROPERTY);
		json_t *o = json_pack(
		        "{s:o, s:I, s:b, s:o, s:o, s:o, s:o, s:o}", "uid",
		        str_or_null(icalcomponent_get_uid(ev)), "start",
		        (json_int_t)icaltime_as_timet(start), "utc",
		        icaltime_is_utc(start), "summary",
		        str_or_null(icalcomponent_get_summary(ev)),
		        "description",
		        str_or_null(icalcomponent_get_description(ev)),
		        "status",
		        str_or_null(st ? icalproperty_get_value_as_string(st)
		                       : NULL),
		        "url",
		        str_or_null(url ? icalproperty_get_url(url) : NULL),
		        "categories",
		        str_or_null(cat ? icalproperty_get_categories(cat)
		                        : NULL));

		if (o == NULL) {
			fprintf(stderr, "ics-dump: cannot encode an event\n");
			status = 1;
			continue;
		}
		json_dumpf(o, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(o);
	}
	icalcomponent_free(cal);
	return status;
}
