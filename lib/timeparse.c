/*
 * Time and duration parsing and formatting. Hand-written parsers rather than
 * strptime: strptime accepts too much (optional fields, locale names,
 * surrounding whitespace) and reports too little about what was wrong.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeparse.h"

#define MS_PER_S   INT64_C(1000)
#define MS_PER_MIN (60 * MS_PER_S)
#define MS_PER_H   (60 * MS_PER_MIN)
#define MS_PER_D   (24 * MS_PER_H)

/* Years outside this range are almost certainly typos in a schedule. */
#define YEAR_MIN 1970
#define YEAR_MAX 9999

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

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Read exactly n digits at *p into *out and advance; -1 if any is missing. */
static int fixed_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int time_days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};

	if (month == 2 && is_leap(year))
		return 29;
	return days[month - 1];
}

int time_check_date(int year, int month, int day, char *err, size_t errlen)
{
	if (year < YEAR_MIN || year > YEAR_MAX) {
		set_err(err, errlen, "year %d out of range", year);
		return -1;
	}
	if (month < 1 || month > 12) {
		set_err(err, errlen, "month %d out of range", month);
		return -1;
	}
	if (day < 1 || day > time_days_in_month(year, month)) {
		set_err(err, errlen, "day %d out of range for %04d-%02d", day,
		        year, month);
		return -1;
	}
	return 0;
}

/*
 * Parse a run of decimal digits into a non-negative int64 and advance *p.
 * Returns 0, -1 if there is no digit, -ERANGE on overflow.
 */
static int parse_u63(const char **p, int64_t *out)
{
	const char *s = *p;
	int64_t v = 0;

	if (!is_digit(*s))
		return -1;
	for (; is_digit(*s); s++) {
		int d = *s - '0';

		if (v > (INT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

/* Milliseconds per unit for a duration suffix, or 0 if it is not one. */
static int64_t unit_ms(const char *u)
{
	if (strcmp(u, "ms") == 0)
		return 1;
	if (strcmp(u, "s") == 0)
		return MS_PER_S;
	if (strcmp(u, "m") == 0)
		return MS_PER_MIN;
	if (strcmp(u, "h") == 0)
		return MS_PER_H;
	if (strcmp(u, "d") == 0)
		return MS_PER_D;
	return 0;
}

/* The broken-down fields of a date-time, before any zone is applied. */
struct civil {
	int year, mon, mday, hour, min, sec, ms;
	int has_zone;
	int offset_min; /* east of UTC, when has_zone */
};

/*
 * Parse "YYYY-MM-DD{T| }HH:MM[:SS[.fff]][Z|±HH:MM|±HHMM]" strictly into c;
 * c->has_zone tells whether the time was local.
 */
static int parse_civil(const char *s, struct civil *c, char *err, size_t errlen)
{
	const char *p = s;

	memset(c, 0, sizeof(*c));
	if (fixed_digits(&p, 4, &c->year) < 0 || *p++ != '-' ||
	    fixed_digits(&p, 2, &c->mon) < 0 || *p++ != '-' ||
	    fixed_digits(&p, 2, &c->mday) < 0) {
		set_err(err, errlen, "expected a date as YYYY-MM-DD");
		return -1;
	}
	if (*p != 'T' && *p != 't' && *p != ' ') {
		set_err(err, errlen,
		        "expected 'T' or a space and a time "
		        "after the date");
		return -1;
	}
	p++;
	if (fixed_digits(&p, 2, &c->hour) < 0 || *p++ != ':' ||
	    fixed_digits(&p, 2, &c->min) < 0) {
		set_err(err, errlen, "expected a time as HH:MM[:SS]");
		return -1;
	}
	if (*p == ':') {
		p++;
		if (fixed_digits(&p, 2, &c->sec) < 0) {
			set_err(err, errlen, "expected two digits of seconds");
			return -1;
		}
		if (*p == '.' || *p == ',') {
			int n = 0;

			/* Keep milliseconds; finer digits are truncated. */
			for (p++; is_digit(*p); p++, n++) {
				if (n < 3)
					c->ms = c->ms * 10 + (*p - '0');
			}
			if (n == 0 || n > 9) {
				set_err(err, errlen,
				        "fraction of a second must have 1 to 9 "
				        "digits");
				return -1;
			}
			for (; n < 3; n++)
				c->ms *= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		c->has_zone = 1;
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;

		if (fixed_digits(&p, 2, &oh) < 0) {
			set_err(err, errlen, "expected a UTC offset as ±HH:MM");
			return -1;
		}
		if (*p == ':')
			p++;
		if (fixed_digits(&p, 2, &om) < 0) {
			set_err(err, errlen, "expected a UTC offset as ±HH:MM");
			return -1;
		}
		if (oh > 23 || om > 59) {
			set_err(err, errlen, "UTC offset out of range");
			return -1;
		}
		c->has_zone = 1;
		c->offset_min = sign * (oh * 60 + om);
	}
	if (*p != '\0') {
		set_err(err, errlen, "unexpected '%s' after the time", p);
		return -1;
	}

	if (time_check_date(c->year, c->mon, c->mday, err, errlen) < 0)
		return -1;
	/* Leap seconds are refused: nothing downstream can represent them. */
	if (c->hour > 23 || c->min > 59 || c->sec > 59) {
		set_err(err, errlen, "time %02d:%02d:%02d out of range",
		        c->hour, c->min, c->sec);
		return -1;
	}
	return 0;
}

static void civil_to_tm(const struct civil *c, struct tm *tm)
{
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = c->year - 1900;
	tm->tm_mon = c->mon - 1;
	tm->tm_mday = c->mday;
	tm->tm_hour = c->hour;
	tm->tm_min = c->min;
	tm->tm_sec = c->sec;
}

/* Resolve validated fields to epoch ms; local ones through the process TZ. */
/*
 * The instants a time may be: 1970-01-01T00:00:00Z to the end of 9999, the
 * years every parser here takes, so every instant formats as one of them
 * and reads back (an offset can push a date at either end past it).
 */
#define INSTANT_MAX_MS INT64_C(253402300799999)

/* *out_ms = ms if it is one of them; else -1 with *out_ms untouched. */
static int instant_ok(int64_t ms, int64_t *out_ms, char *err, size_t errlen)
{
	if (ms >= 0 && ms <= INSTANT_MAX_MS) {
		*out_ms = ms;
		return 0;
	}
	set_err(err, errlen, "out of range: before 1970 or after 9999 in UTC");
	return -1;
}

static int civil_to_ms(const struct civil *c, int64_t *out_ms, char *err,
                       size_t errlen)
{
	struct tm tm;
	time_t t;

	civil_to_tm(c, &tm);
	if (c->has_zone) {
		t = timegm(&tm);
		return instant_ok(((int64_t)t - (int64_t)c->offset_min * 60) *
		                                  MS_PER_S +
		                          c->ms,
		                  out_ms, err, errlen);
	}

	tm.tm_isdst = -1;
	errno = 0;
	t = mktime(&tm);
	if (t == (time_t)-1 && errno != 0) {
		set_err(err, errlen, "cannot convert local time");
		return -1;
	}
	/*
	 * mktime moves a wall time that falls in a DST gap (it never
	 * happened) by an hour; refuse it rather than publish at a time the
	 * user did not write.
	 */
	if (tm.tm_hour != c->hour || tm.tm_min != c->min ||
	    tm.tm_mday != c->mday) {
		set_err(err, errlen,
		        "%02d:%02d does not exist on %04d-%02d-%02d in the "
		        "local time zone (daylight saving change)",
		        c->hour, c->min, c->year, c->mon, c->mday);
		return -1;
	}
	return instant_ok((int64_t)t * MS_PER_S + c->ms, out_ms, err, errlen);
}

/* "+<n><unit>" relative to now_ms. */
static int parse_relative(const char *s, int64_t now_ms, int64_t *out_ms,
                          char *err, size_t errlen)
{
	const char *p = s + 1;
	int64_t n, mul, delta, t;
	int r;

	if ((r = parse_u63(&p, &n)) < 0) {
		set_err(err, errlen, "%s",
		        r == -ERANGE ? "relative time too large"
		                     : "expected a number after '+'");
		return -1;
	}
	if (*p == '\0') {
		set_err(err, errlen, "missing unit (ms, s, m, h or d)");
		return -1;
	}
	if ((mul = unit_ms(p)) == 0) {
		set_err(err, errlen, "unknown unit '%s' (ms, s, m, h or d)", p);
		return -1;
	}
	if (__builtin_mul_overflow(n, mul, &delta) ||
	    __builtin_add_overflow(now_ms, delta, &t)) {
		set_err(err, errlen, "relative time too large");
		return -1;
	}
	*out_ms = t;
	return 0;
}

int time_parse(const char *s, int64_t now_ms, int64_t *out_ms, char *err,
               size_t errlen)
{
	struct civil c;

	if (s == NULL || *s == '\0') {
		set_err(err, errlen, "empty time");
		return -1;
	}
	if (strcmp(s, "now") == 0) {
		*out_ms = now_ms;
		return 0;
	}
	if (*s == '+')
		return parse_relative(s, now_ms, out_ms, err, errlen);
	if (parse_civil(s, &c, err, errlen) < 0)
		return -1;
	return civil_to_ms(&c, out_ms, err, errlen);
}

/* "YYYY-MM-DD" and nothing else: 0 with the fields, or -1. */
static int parse_bare_date(const char *s, int *y, int *m, int *d)
{
	const char *p = s;

	if (fixed_digits(&p, 4, y) < 0 || *p != '-')
		return -1;
	p++;
	if (fixed_digits(&p, 2, m) < 0 || *p != '-')
		return -1;
	p++;
	if (fixed_digits(&p, 2, d) < 0 || *p != '\0')
		return -1;
	return 0;
}

int time_parse_date(const char *s, int64_t now_ms, int64_t *out_ms, char *err,
                    size_t errlen)
{
	char why[64];
	struct tm tm;
	int y, m, d;
	time_t t;

	if (s == NULL || parse_bare_date(s, &y, &m, &d) < 0)
		return time_parse(s, now_ms, out_ms, err, errlen);
	if (time_check_date(y, m, d, why, sizeof(why)) < 0) {
		set_err(err, errlen, "no such date (%s)", why);
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	/*
	 * A midnight skipped by a daylight saving change comes back from
	 * mktime as the first instant the day has, which is what "from that
	 * day" means; the day itself must not move.
	 */
	errno = 0;
	t = mktime(&tm);
	if ((t == (time_t)-1 && errno != 0) || tm.tm_year != y - 1900 ||
	    tm.tm_mon != m - 1 || tm.tm_mday != d) {
		set_err(err, errlen, "cannot convert local midnight of %s", s);
		return -1;
	}
	*out_ms = (int64_t)t * MS_PER_S;
	return 0;
}

int time_parse_rfc3339(const char *s, int64_t *out_ms)
{
	struct civil c;

	if (s == NULL || parse_civil(s, &c, NULL, 0) < 0 || !c.has_zone)
		return -1;
	return civil_to_ms(&c, out_ms, NULL, 0);
}

/* Split ms into whole seconds and a 0..999 remainder, rounding down. */
static void split_ms(int64_t ms, time_t *t, int *frac)
{
	int64_t sec = ms / MS_PER_S, rem = ms % MS_PER_S;

	if (rem < 0) {
		rem += MS_PER_S;
		sec--;
	}
	*t = (time_t)sec;
	*frac = (int)rem;
}

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

char *time_format_rfc3339(int64_t ms, char *buf)
{
	struct tm tm;
	time_t t;
	int frac, year;

	split_ms(ms, &t, &frac);
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, TIME_RFC3339_LEN, "invalid-time");
		return buf;
	}
	/*
	 * By hand for years 0-9999: each delivery formats two of these
	 * (its body's scheduled_at, its event), and snprintf cost five
	 * times what the rest does.
	 */
	year = tm.tm_year + 1900;
	if (year >= 0 && year <= 9999) {
		put2(buf, year / 100);
		put2(buf + 2, year % 100);
		buf[4] = '-';
		put2(buf + 5, tm.tm_mon + 1);
		buf[7] = '-';
		put2(buf + 8, tm.tm_mday);
		buf[10] = 'T';
		put2(buf + 11, tm.tm_hour);
		buf[13] = ':';
		put2(buf + 14, tm.tm_min);
		buf[16] = ':';
		put2(buf + 17, tm.tm_sec);
		buf[19] = '.';
		buf[20] = (char)('0' + frac / 100);
		put2(buf + 21, frac % 100);
		buf[23] = 'Z';
		buf[24] = '\0';
		return buf;
	}
	/* The year can need more than four digits; snprintf then cuts. */
	if (snprintf(buf, TIME_RFC3339_LEN,
	             "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	             tm.tm_sec, frac) >= TIME_RFC3339_LEN)
		snprintf(buf, TIME_RFC3339_LEN, "invalid-time");
	return buf;
}

char *time_format_local(int64_t ms, char *buf)
{
	struct tm tm;
	time_t t;
	int frac;

	split_ms(ms, &t, &frac);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, 32, "invalid-time");
	return buf;
}

int duration_parse(const char *s, int64_t *out_ms)
{
	const char *p = s;
	int64_t n, mul, ms;

	if (s == NULL || parse_u63(&p, &n) < 0)
		return -1;
	mul = *p == '\0' ? MS_PER_S : unit_ms(p);
	if (mul == 0 || __builtin_mul_overflow(n, mul, &ms))
		return -1;
	*out_ms = ms;
	return 0;
}

char *duration_format(int64_t ms, char *buf, size_t len)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} parts[] = {
	        {"d", MS_PER_D}, {"h", MS_PER_H}, {"m", MS_PER_MIN},
	        {"s", MS_PER_S}, {"ms", 1},
	};
	/* Through uint64_t so that INT64_MIN has a magnitude too. */
	uint64_t v = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;
	size_t off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (ms == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	if (ms < 0)
		off += (size_t)snprintf(buf, len, "-");
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		uint64_t q = v / parts[i].ms;

		if (q == 0)
			continue;
		v %= parts[i].ms;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off,
			                        "%" PRIu64 "%s", q,
			                        parts[i].unit);
	}
	return buf;
}
