#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "slots.h"

#define DAY_MS (INT64_C(86400) * 1000)

static const char *const day_names[7] = {"Mon", "Tue", "Wed", "Thu",
                                         "Fri", "Sat", "Sun"};

/* Monday 0 ... Sunday 6, from its three letters; -1 if none. */
static int day_of(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++)
		if (len == 3 && strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* "Mon", "Mon-Fri" (wrapping: "Fri-Mon"): its days as bits, or 0. */
static uint8_t day_range(const char *s, size_t len)
{
	const char *dash = memchr(s, '-', len);
	int a, b;
	uint8_t days = 0;

	if (dash == NULL)
		return (a = day_of(s, len)) < 0 ? 0 : (uint8_t)(1u << a);
	if ((a = day_of(s, (size_t)(dash - s))) < 0 ||
	    (b = day_of(dash + 1, len - (size_t)(dash - s) - 1)) < 0)
		return 0;
	for (int d = a;; d = (d + 1) % 7) {
		days |= (uint8_t)(1u << d);
		if (d == b)
			break;
	}
	return days;
}

int slot_days_parse(const char *s, size_t len)
{
	unsigned all = 0;

	if (len == 5 && strncasecmp(s, "daily", 5) == 0)
		return 0x7f;
	for (const char *p = s, *end = s + len; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = (size_t)((comma ? comma : end) - p);
		uint8_t days = day_range(p, n);

		if (days == 0)
			return -(int)(p - s) - 1;
		all |= days;
		p += n + (comma != NULL);
	}
	return all ? (int)all : -1;
}

int slot_parse(const char *s, struct slot *out, char *err, size_t errlen)
{
	const char *sp = strchr(s, ' ');
	unsigned h, m;
	char tail;
	int days;

	if (sp == NULL || sscanf(sp + 1, "%2u:%2u%c", &h, &m, &tail) != 2 ||
	    strlen(sp + 1) != 5 || h > 23 || m > 59) {
		snprintf(err, errlen,
		         "'%s' is not a slot (DAYS HH:MM, such as 'Mon-Fri "
		         "09:00')",
		         s);
		return -1;
	}
	out->minute = (uint16_t)(h * 60 + m);
	if ((days = slot_days_parse(s, (size_t)(sp - s))) < 0) {
		const char *bad = s + (-days - 1);
		size_t len = strcspn(bad, ", ");

		snprintf(err, errlen,
		         "'%.*s' in slot '%s' is not a day or a range of days "
		         "(Mon, Tue, Wed, Thu, Fri, Sat, Sun, Mon-Fri, daily)",
		         (int)len, bad, s);
		return -1;
	}
	out->days = (uint8_t)days;
	return 0;
}

int slots_add(struct slots *w, const struct slot *s)
{
	size_t i = 0;

	while (i < w->n && w->v[i].minute < s->minute)
		i++;
	if (i < w->n && w->v[i].minute == s->minute) {
		w->v[i].days |= s->days;
		return 0;
	}
	if (w->n == SLOTS_MAX)
		return -1;
	memmove(&w->v[i + 1], &w->v[i], (w->n - i) * sizeof(w->v[0]));
	w->v[i] = *s;
	w->n++;
	return 0;
}

int64_t slots_next(const struct slots *w, const struct caltime_zone *z,
                   int64_t from_ms)
{
	struct caltime_civil c;
	int64_t day;

	if (w->n == 0)
		return -1;
	/* The local date at from_ms, then each day of the next week. */
	caltime_utc_to_local(z, from_ms / 1000 - (from_ms % 1000 < 0), &c);
	day = caltime_days(c.year, c.mon, c.day);
	for (int64_t d = day; d <= day + 8; d++) {
		/* 1970-01-01 was a Thursday: day 0 is weekday 3. */
		int wd = (int)(((d % 7) + 7 + 3) % 7);
		int y, mo, dd;

		caltime_civil_from_days(d, &y, &mo, &dd);
		for (size_t i = 0; i < w->n; i++) {
			int64_t t;

			if (!(w->v[i].days & (1u << wd)))
				continue;
			t = caltime_local_to_utc(z, y, mo, dd,
			                         w->v[i].minute / 60,
			                         w->v[i].minute % 60, 0) *
			    1000;
			if (t >= from_ms)
				return t;
		}
	}
	return -1;
}

void slot_format(const struct slot *s, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (s->days == 0x7f)
		used = (size_t)snprintf(buf, len, "daily");
	/* Runs of three days or more as ranges: "Mon-Fri", "Tue,Thu". */
	for (int d = 0; s->days != 0x7f && d < 7 && used < len; d++) {
		int e = d;

		if (!(s->days & (1u << d)))
			continue;
		while (e < 6 && (s->days & (1u << (e + 1))))
			e++;
		if (e - d >= 2)
			used += (size_t)snprintf(buf + used, len - used,
			                         "%s%s-%s", used ? "," : "",
			                         day_names[d], day_names[e]);
		else
			for (int k = d; k <= e && used < len; k++)
				used += (size_t)snprintf(
				        buf + used, len - used, "%s%s",
				        used ? "," : "", day_names[k]);
		d = e;
	}
	if (used < len)
		snprintf(buf + used, len - used, " %02u:%02u", s->minute / 60,
		         s->minute % 60);
}
