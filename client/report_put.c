/* report_put: what every part of the report page writes with. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "report.h"

void report_esc(FILE *out, const char *s)
{
	if (s == NULL)
		return;
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

const char *report_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

long long report_int(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v) && isfinite(json_real_value(v)))
		return llround(json_real_value(v));
	return 0;
}

void report_num(FILE *out, long long n)
{
	char digits[32];
	size_t len, i;

	if (n < 0) {
		fputc('-', out);
		n = n == -n ? 0 : -n;
	}
	len = (size_t)snprintf(digits, sizeof(digits), "%lld", n);
	for (i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			fputc(',', out);
		fputc(digits[i], out);
	}
}

const char *report_when(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

/* Howard Hinnant's days_from_civil: the proleptic Gregorian calendar. */
int report_day_number(const char *date, int64_t *days)
{
	int y, m, d, n = 0;
	int64_t era, yoe, doy;

	if (date == NULL ||
	    sscanf(date, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
	    m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	*days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
	return 0;
}

void report_civil(int64_t days, int *y, int *m, int *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

const char *report_month_name(int m, int full)
{
	static const char *const names[] = {
	        "January",   "February", "March",    "April",
	        "May",       "June",     "July",     "August",
	        "September", "October",  "November", "December",
	};
	static const char *const abbr[] = {"Jan", "Feb", "Mar", "Apr",
	                                   "May", "Jun", "Jul", "Aug",
	                                   "Sep", "Oct", "Nov", "Dec"};

	if (m < 1 || m > 12)
		return "?";
	return full ? names[m - 1] : abbr[m - 1];
}

int report_url_ok(const char *url)
{
	if (url == NULL)
		return 0;
	if (strncasecmp(url, "https://", 8) != 0 &&
	    strncasecmp(url, "http://", 7) != 0)
		return 0;
	/* Nothing that could end the attribute or hide a line break. */
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\'' || *p == '<' ||
		    *p == '>' || *p == '`' || *p == 0x7f)
			return 0;
	return 1;
}

const char *report_state_class(const char *state)
{
	static const char *const known[] = {
	        "published",  "failed",     "held",      "skipped",
	        "missed",     "unknown",    "draft",     "scheduled",
	        "publishing", "retry_wait", "cancelled",
	};

	for (size_t i = 0; state && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(state, known[i]) == 0)
			return known[i];
	return "other";
}
