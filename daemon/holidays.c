#include <errno.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "holidays.h"

/* A holiday file larger than this is not one. */
#define HOLIDAYS_MAX_BYTES (4 * 1024 * 1024)
/* Nor one that makes more days off than this over its window. */
#define HOLIDAYS_MAX_OCCURRENCES 20000

struct expand {
	struct blackouts *out;
	const char *summary;
	int local;     /* all-day or floating: wall-clock seconds */
	int64_t dur_s; /* local: DTEND - DTSTART (libical's spans end an
	                * all-day event a second before its last day ends) */
	int err;
};

static char *read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	char *buf = NULL;
	size_t len = 0, n, cap;

	if (f == NULL || fstat(fileno(f), &st) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		         strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	if (st.st_size > HOLIDAYS_MAX_BYTES) {
		snprintf(err, errlen,
		         "%s: larger than 4 MiB: not a holiday file", path);
		fclose(f);
		return NULL;
	}
	/* The size read; a file that grows meanwhile is cut there. */
	cap = (size_t)st.st_size;
	if ((buf = malloc(cap + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		fclose(f);
		return NULL;
	}
	while (len < cap && (n = fread(buf + len, 1, cap - len, f)) > 0)
		len += n;
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static void on_occurrence(icalcomponent *comp, struct icaltime_span *span,
                          void *arg)
{
	struct expand *x = arg;
	struct blackout b = {
	        .kind = x->local ? BO_WALL : BO_UTC,
	        .from = x->local ? (int64_t)span->start
	                         : (int64_t)span->start * 1000,
	        .until = x->local ? (int64_t)span->start + x->dur_s
	                          : (int64_t)span->end * 1000,
	};

	(void)comp;
	if (x->err || b.until <= b.from)
		return;
	if (x->out->n >= HOLIDAYS_MAX_OCCURRENCES) {
		x->err = E2BIG;
		return;
	}
	if ((b.reason = malloc(strlen(x->summary) + sizeof("holiday ''"))) ==
	            NULL ||
	    blackouts_add(x->out, &b) < 0) {
		free(b.reason);
		x->err = ENOMEM;
		return;
	}
	sprintf(x->out->v[x->out->n - 1].reason, "holiday '%s'", x->summary);
}

static int excepted(const char *summary, const char *const *except, size_t n,
                    unsigned char *used)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(summary, except[i]) == 0) {
			used[i] = 1;
			return 1;
		}
	return 0;
}

/* The first X-LIC-ERROR libical left in c, if any. */
static const char *parse_error(icalcomponent *c)
{
	icalproperty *p =
	        icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);

	return p ? icalproperty_get_xlicerror(p) : NULL;
}

/*
 * A rule that repeats by the hour or faster would expand to millions of
 * occurrences (libical cannot be stopped mid-way): no holiday does.
 */
static int repeats_within_a_day(icalcomponent *ev)
{
	icalproperty *p;

	for (p = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY); p;
	     p = icalcomponent_get_next_property(ev, ICAL_RRULE_PROPERTY)) {
		struct icalrecurrencetype r = icalproperty_get_rrule(p);

		if (r.freq == ICAL_SECONDLY_RECURRENCE ||
		    r.freq == ICAL_MINUTELY_RECURRENCE ||
		    r.freq == ICAL_HOURLY_RECURRENCE)
			return 1;
	}
	return 0;
}

/* How long a local event lasts: to DTEND (left out), else one day. */
static int64_t local_duration(icalcomponent *ev, struct icaltimetype start)
{
	struct icaltimetype end = icalcomponent_get_dtend(ev);
	icaltimezone *utc = icaltimezone_get_utc_timezone();
	int64_t d;

	if (icaltime_is_null_time(end))
		return start.is_date ? 86400 : 0;
	d = (int64_t)icaltime_as_timet_with_zone(end, utc) -
	    (int64_t)icaltime_as_timet_with_zone(start, utc);
	return d > 0 ? d : 86400;
}

static int add_events(icalcomponent *cal, const char *path, int64_t from_ms,
                      int64_t to_ms, const char *const *except, size_t nexcept,
                      unsigned char *used, struct blackouts *out, char *err,
                      size_t errlen)
{
	icaltimezone *utc = icaltimezone_get_utc_timezone();
	/* A day either side: local events are compared in UTC here. */
	struct icaltimetype lo = icaltime_from_timet_with_zone(
	                            (time_t)(from_ms / 1000 - 86400), 0, utc),
	                    hi = icaltime_from_timet_with_zone(
	                            (time_t)(to_ms / 1000 + 86400), 0, utc);
	icalcomponent *ev;
	const char *why;
	int n = 0;

	for (ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     ev; ev = icalcomponent_get_next_component(cal,
	                                               ICAL_VEVENT_COMPONENT)) {
		struct icaltimetype start = icalcomponent_get_dtstart(ev);
		const char *summary = icalcomponent_get_summary(ev);
		struct expand x = {.out = out,
		                   .summary = summary ? summary : "(untitled)"};

		if ((why = parse_error(ev)) != NULL) {
			snprintf(err, errlen, "%s: event '%s': %s", path,
			         x.summary, why);
			return -1;
		}
		if (icaltime_is_null_time(start)) {
			snprintf(err, errlen, "%s: event '%s' has no DTSTART",
			         path, x.summary);
			return -1;
		}
		n++;
		if (excepted(x.summary, except, nexcept, used))
			continue;
		if (repeats_within_a_day(ev)) {
			snprintf(
			        err, errlen,
			        "%s: event '%s' repeats more often than daily: "
			        "not a holiday",
			        path, x.summary);
			return -1;
		}
		x.local = start.is_date ||
		          (start.zone == NULL && !icaltime_is_utc(start));
		x.dur_s = local_duration(ev, start);
		icalcomponent_foreach_recurrence(ev, lo, hi, on_occurrence, &x);
		if (x.err) {
			snprintf(err, errlen,
			         x.err == E2BIG
			                 ? "%s: more than %d days off "
			                   "over six years: not a holiday "
			                   "file"
			                 : "%s: out of memory",
			         path, HOLIDAYS_MAX_OCCURRENCES);
			return -1;
		}
	}
	return n;
}

int holidays_load(const char *path, int64_t from_ms, int64_t to_ms,
                  const char *const *except, size_t nexcept,
                  struct blackouts *out, char *err, size_t errlen)
{
	char *text = read_file(path, err, errlen);
	unsigned char *used = calloc(nexcept + 1, 1);
	icalcomponent *cal = NULL;
	const char *why;
	int n = -1;

	if (text == NULL || used == NULL) {
		if (text)
			snprintf(err, errlen, "out of memory");
		goto done;
	}
	cal = icalparser_parse_string(text);
	if (cal == NULL || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		snprintf(err, errlen,
		         "%s is not an iCalendar file (no VCALENDAR)", path);
		goto done;
	}
	if ((why = parse_error(cal)) != NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto done;
	}
	n = add_events(cal, path, from_ms, to_ms, except, nexcept, used, out,
	               err, errlen);
	if (n == 0) {
		snprintf(err, errlen, "%s has no events (VEVENT)", path);
		n = -1;
	}
	for (size_t i = 0; n >= 0 && i < nexcept; i++)
		if (!used[i]) {
			snprintf(err, errlen,
			         "except: %s has no event called '%s'", path,
			         except[i]);
			n = -1;
		}
done:
	if (cal)
		icalcomponent_free(cal);
	free(used);
	free(text);
	return n;
}
