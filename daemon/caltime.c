/*
 * Calendar times. Zones come from the system tz database through libical
 * (on Debian it reads /usr/share/zoneinfo, so tzdata updates apply): we
 * only ask it "what is the UTC offset at this UTC instant", which has one
 * answer, and resolve local times ourselves so that the gap and overlap
 * answers are ours, documented and tested, not a library's accident.
 */
#include "caltime.h"

#include <libical/ical.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timeparse.h"

#define DAY_S INT64_C(86400)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* "Z" or "±HH[:]MM" at p, which must end the string. */
static int parse_zone(const char *p, struct caltime_civil *c, char *err,
                      size_t errlen)
{
	int sign, oh, om;

	if (*p == 'Z' || *p == 'z') {
		c->has_zone = 1;
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) < 0)
			goto bad_offset;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
			goto bad_offset;
		c->has_zone = 1;
		c->offset_min = sign * (oh * 60 + om);
	}
	if (*p != '\0') {
		set_err(err, errlen, "unexpected '%s' after the time", p);
		return -1;
	}
	return 0;
bad_offset:
	set_err(err, errlen, "expected a UTC offset as +HH:MM");
	return -1;
}

int caltime_parse(const char *s, struct caltime_civil *c, char *err,
                  size_t errlen)
{
	const char *p = s;

	memset(c, 0, sizeof(*c));
	if (digits(&p, 4, &c->year) < 0 || *p++ != '-' ||
	    digits(&p, 2, &c->mon) < 0 || *p++ != '-' ||
	    digits(&p, 2, &c->day) < 0) {
		set_err(err, errlen, "expected a date as YYYY-MM-DD");
		return -1;
	}
	if (time_check_date(c->year, c->mon, c->day, err, errlen) < 0)
		return -1;
	if (*p == '\0')
		return 0;
	if (*p != 'T' && *p != 't' && *p != ' ') {
		set_err(err, errlen,
		        "expected a space and HH:MM after the date");
		return -1;
	}
	p++;
	c->has_time = 1;
	if (digits(&p, 2, &c->hour) < 0 || *p++ != ':' ||
	    digits(&p, 2, &c->min) < 0 ||
	    (*p == ':' && (p++, digits(&p, 2, &c->sec) < 0))) {
		set_err(err, errlen, "expected a time as HH:MM[:SS]");
		return -1;
	}
	/* Leap seconds are refused: nothing downstream can represent them. */
	if (c->hour > 23 || c->min > 59 || c->sec > 59) {
		set_err(err, errlen, "time %02d:%02d:%02d out of range",
		        c->hour, c->min, c->sec);
		return -1;
	}
	return parse_zone(p, c, err, errlen);
}

/*
 * Only names the tz database could hold: the name becomes a path under
 * the zoneinfo folder, so "../" must never reach it.
 */
static int zone_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 64 && name[0] != '/' &&
	       strstr(name, "..") == NULL &&
	       strspn(name,
	              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	              "0123456789/_+-") == n;
}

const struct caltime_zone *caltime_zone(const char *name)
{
	icaltimezone *z;

	if (!zone_name_ok(name))
		return NULL;
	if (strcmp(name, "UTC") == 0)
		z = icaltimezone_get_utc_timezone();
	else
		z = icaltimezone_get_builtin_timezone(name);
	return (const struct caltime_zone *)z;
}

/* "/usr/share/zoneinfo/Europe/Madrid" -> "Europe/Madrid". */
static char *after_zoneinfo(const char *path)
{
	const char *z = strstr(path, "zoneinfo/");

	return strdup(z ? z + strlen("zoneinfo/") : path);
}

char *caltime_system_zone_name(void)
{
	const char *tz = getenv("TZ");
	char buf[256];
	ssize_t n;
	FILE *f;

	if (tz && *tz == ':')
		tz++;
	if (tz && *tz)
		return after_zoneinfo(tz);
	if ((f = fopen("/etc/timezone", "r")) != NULL) {
		char *got = fgets(buf, sizeof(buf), f);

		fclose(f);
		if (got) {
			buf[strcspn(buf, " \t\r\n")] = '\0';
			if (buf[0])
				return strdup(buf);
		}
	}
	n = readlink("/etc/localtime", buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		return after_zoneinfo(buf);
	}
	return strdup("UTC");
}

int caltime_utc_offset(const struct caltime_zone *z, int64_t utc_s)
{
	icaltimezone *utc = icaltimezone_get_utc_timezone();
	struct icaltimetype tt;
	int dst = 0;

	if ((icaltimezone *)z == utc)
		return 0;
	tt = icaltime_from_timet_with_zone((time_t)utc_s, 0, utc);
	/* libical wants a mutable zone: it extends its table of changes. */
	return icaltimezone_get_utc_offset_of_utc_time((icaltimezone *)z, &tt,
	                                               &dst);
}

int64_t caltime_local_to_utc(const struct caltime_zone *z, int year, int mon,
                             int day, int hour, int min, int sec)
{
	int64_t wall = caltime_days(year, mon, day) * DAY_S + hour * 3600 +
	               min * 60 + sec;
	int before, after;
	int64_t tb, ta;
	int ok_b, ok_a;

	/*
	 * The offsets a day either side: no zone changes its offset twice
	 * within a day, so these are the two candidates. A candidate is right
	 * if the zone really has that offset at the instant it gives.
	 */
	before = caltime_utc_offset(z, wall - DAY_S);
	after = caltime_utc_offset(z, wall + DAY_S);
	tb = wall - before;
	ta = wall - after;
	ok_b = caltime_utc_offset(z, tb) == before;
	ok_a = before == after ? ok_b : caltime_utc_offset(z, ta) == after;
	if (ok_b && ok_a)
		return tb < ta ? tb : ta; /* overlap: the first of the two */
	if (ok_a)
		return ta;
	/* In the gap: as if the clocks had not changed yet. */
	return tb;
}

void caltime_utc_to_local(const struct caltime_zone *z, int64_t utc_s,
                          struct caltime_civil *out)
{
	int64_t wall = utc_s + caltime_utc_offset(z, utc_s);
	int64_t days = wall >= 0 ? wall / DAY_S : (wall - DAY_S + 1) / DAY_S;
	int64_t rem = wall - days * DAY_S;

	memset(out, 0, sizeof(*out));
	caltime_civil_from_days(days, &out->year, &out->mon, &out->day);
	out->has_time = 1;
	out->hour = (int)(rem / 3600);
	out->min = (int)(rem / 60 % 60);
	out->sec = (int)(rem % 60);
}

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian. */
int64_t caltime_days(int year, int mon, int day)
{
	int64_t y = year - (mon <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int64_t caltime_wall_s(const struct caltime_civil *c)
{
	return caltime_days(c->year, c->mon, c->day) * 86400 + c->hour * 3600 +
	       c->min * 60 + c->sec;
}

void caltime_civil_from_days(int64_t days, int *year, int *mon, int *day)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*mon = m;
	*year = (int)(yoe + era * 400 + (m <= 2));
}
