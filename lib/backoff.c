/*
 * Retry policy: status classification, exponential backoff with jitter and
 * Retry-After parsing. HTTP-dates are parsed by hand: strptime's %a and %b
 * follow the locale, and a header is always English.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backoff.h"
#include "timeparse.h"

/*
 * The longest wait a server can impose through Retry-After. Larger values
 * are clamped, which also keeps the millisecond arithmetic far from
 * overflow whatever the header says.
 */
#define RETRY_AFTER_MAX_S (7 * 24 * 3600)

enum http_verdict backoff_classify_status(long status)
{
	if (status >= 200 && status <= 299)
		return VERDICT_PUBLISHED;
	/*
	 * 0 is a network error or timeout. 408 Request Timeout, 425 Too
	 * Early and 429 Too Many Requests say "not now", and 5xx is the
	 * server's fault: all may work later. Other statuses (1xx/3xx that
	 * curl did not resolve, 4xx) will fail the same way every time.
	 */
	if (status == 0 || status == 408 || status == 425 || status == 429 ||
	    (status >= 500 && status <= 599))
		return VERDICT_RETRY;
	return VERDICT_FAILED;
}

int64_t backoff_delay_ms(unsigned attempt, int64_t base_ms, int64_t max_ms,
                         uint32_t rnd)
{
	int64_t d = base_ms;
	uint64_t lo, span;

	if (base_ms <= 0 || max_ms <= 0)
		return 0;
	/* Doubling stops at the cap, so it can never overflow. */
	for (unsigned i = 1; i < attempt && d < max_ms; i++)
		d = d > INT64_MAX / 2 ? INT64_MAX : d * 2;
	if (d > max_ms)
		d = max_ms;

	/*
	 * Equal jitter: half of d (rounded up, so never 0) fixed plus a
	 * random share of the rest, scaled so rnd = 0 gives the half and
	 * rnd = UINT32_MAX exactly d. span is split around UINT32_MAX so that
	 * no product exceeds 64 bits.
	 */
	span = (uint64_t)d / 2;
	lo = (uint64_t)d - span;
	return (int64_t)(lo + (span / UINT32_MAX) * rnd +
	                 ((span % UINT32_MAX) * rnd) / UINT32_MAX);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
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

/* Consume the literal lit at *p (ASCII case-insensitive), or fail. */
static int literal(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncasecmp(*p, lit, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* A day name, short ("Sun") or long ("Sunday"), as all three forms use. */
static int day_name(const char **p)
{
	static const char *const names[] = {
	        "Sunday",   "Monday", "Tuesday",  "Wednesday",
	        "Thursday", "Friday", "Saturday",
	};

	for (int i = 0; i < 7; i++) {
		if (literal(p, names[i]) == 0)
			return 0;
		/* The short name is the first three letters of the long. */
		if (strncasecmp(*p, names[i], 3) == 0) {
			*p += 3;
			return 0;
		}
	}
	return -1;
}

/* A three-letter month name; *mon gets 1..12. */
static int month_name(const char **p, int *mon)
{
	static const char *const names[] = {
	        "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};

	for (int i = 0; i < 12; i++) {
		if (literal(p, names[i]) == 0) {
			*mon = i + 1;
			return 0;
		}
	}
	return -1;
}

/* "HH:MM:SS"; 60 seconds is a leap second, which timegm folds forward. */
static int time_of_day(const char **p, struct tm *tm)
{
	if (fixed_digits(p, 2, &tm->tm_hour) < 0 || literal(p, ":") < 0 ||
	    fixed_digits(p, 2, &tm->tm_min) < 0 || literal(p, ":") < 0 ||
	    fixed_digits(p, 2, &tm->tm_sec) < 0)
		return -1;
	if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
		return -1;
	return 0;
}

/*
 * RFC 850 dates carry two year digits. RFC 9110 5.6.7: a year that would
 * be more than 50 years in the future is the most recent past one instead.
 */
static int expand_year(int yy, int64_t now_ms)
{
	time_t now = (time_t)(now_ms / 1000);
	struct tm tm;
	int now_year, year;

	if (gmtime_r(&now, &tm) == NULL)
		return 1900 + yy;
	now_year = tm.tm_year + 1900;
	year = now_year - now_year % 100 + yy;
	if (year > now_year + 50)
		year -= 100;
	return year;
}

/*
 * Parse an HTTP-date (RFC 9110 5.6.7) spanning exactly [p, end) into
 * seconds since the epoch.
 */
static int http_date(const char *p, const char *end, int64_t now_ms,
                     int64_t *out_s)
{
	struct tm tm;
	int mon, year;

	memset(&tm, 0, sizeof(tm));
	if (day_name(&p) < 0)
		return -1;
	if (*p == ',') {
		if (literal(&p, ", ") < 0 ||
		    fixed_digits(&p, 2, &tm.tm_mday) < 0)
			return -1;
		if (*p == ' ') {
			/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
			if (literal(&p, " ") < 0 || month_name(&p, &mon) < 0 ||
			    literal(&p, " ") < 0 ||
			    fixed_digits(&p, 4, &year) < 0)
				return -1;
		} else {
			/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
			if (literal(&p, "-") < 0 || month_name(&p, &mon) < 0 ||
			    literal(&p, "-") < 0 ||
			    fixed_digits(&p, 2, &year) < 0)
				return -1;
			year = expand_year(year, now_ms);
		}
		if (literal(&p, " ") < 0 || time_of_day(&p, &tm) < 0 ||
		    literal(&p, " GMT") < 0)
			return -1;
	} else {
		/* asctime: "Sun Nov  6 08:49:37 1994" */
		if (literal(&p, " ") < 0 || month_name(&p, &mon) < 0 ||
		    literal(&p, " ") < 0)
			return -1;
		if (*p == ' ') {
			p++;
			if (fixed_digits(&p, 1, &tm.tm_mday) < 0)
				return -1;
		} else if (fixed_digits(&p, 2, &tm.tm_mday) < 0) {
			return -1;
		}
		if (literal(&p, " ") < 0 || time_of_day(&p, &tm) < 0 ||
		    literal(&p, " ") < 0 || fixed_digits(&p, 4, &year) < 0)
			return -1;
	}
	if (p != end)
		return -1;
	if (tm.tm_mday < 1 || tm.tm_mday > time_days_in_month(year, mon))
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	*out_s = (int64_t)timegm(&tm);
	return 0;
}

int retry_after_parse(const char *value, int64_t now_ms, int64_t *delay_ms)
{
	const char *p, *end;
	int64_t when_s, delay;

	if (value == NULL)
		return -1;
	for (p = value; is_space(*p); p++)
		;
	for (end = p + strlen(p); end > p && is_space(end[-1]); end--)
		;
	if (p == end)
		return -1;

	if (is_digit(*p)) {
		int64_t s = 0;

		/* delta-seconds: saturate instead of overflowing. */
		for (; p < end; p++) {
			if (!is_digit(*p))
				return -1;
			if (s < RETRY_AFTER_MAX_S)
				s = s * 10 + (*p - '0');
		}
		if (s > RETRY_AFTER_MAX_S)
			s = RETRY_AFTER_MAX_S;
		*delay_ms = s * 1000;
		return 0;
	}

	if (http_date(p, end, now_ms, &when_s) < 0)
		return -1;
	/* Compare in seconds first: when_s * 1000 could overflow. */
	if (when_s - now_ms / 1000 > RETRY_AFTER_MAX_S + 1) {
		*delay_ms = (int64_t)RETRY_AFTER_MAX_S * 1000;
		return 0;
	}
	delay = when_s * 1000 - now_ms;
	if (delay < 0)
		delay = 0;
	if (delay > (int64_t)RETRY_AFTER_MAX_S * 1000)
		delay = (int64_t)RETRY_AFTER_MAX_S * 1000;
	*delay_ms = delay;
	return 0;
}
