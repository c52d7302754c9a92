#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cadence.h"

#define DAY_MS (INT64_C(86400) * 1000)

static const char *const unit_names[] = {
        [CADENCE_DAY] = "day",
        [CADENCE_WEEK] = "week",
        [CADENCE_MONTH] = "month",
};

int cadence_parse(const char *s, struct cadence *c, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/'), *p;
	unsigned long n = 0;
	size_t i;

	/* Digits past the limit only keep n over it. */
	for (p = s; p < slash && *p >= '0' && *p <= '9'; p++)
		if (n <= CADENCE_MAX_N)
			n = n * 10 + (unsigned long)(*p - '0');
	if (slash == NULL || p != slash || p == s) {
		snprintf(err, errlen,
		         "'%s' is not a cadence (N/day, N/week or N/month, "
		         "such as 3/week)",
		         s);
		return -1;
	}
	if (n < 1 || n > CADENCE_MAX_N) {
		snprintf(err, errlen,
		         "cadence '%s': the number of posts must be from 1 "
		         "to %d",
		         s, CADENCE_MAX_N);
		return -1;
	}
	for (i = 0; i < sizeof(unit_names) / sizeof(unit_names[0]); i++)
		if (strcmp(slash + 1, unit_names[i]) == 0)
			break;
	if (i == sizeof(unit_names) / sizeof(unit_names[0])) {
		snprintf(err, errlen,
		         "cadence '%s': '%s' is not a period (day, week or "
		         "month)",
		         s, slash + 1);
		return -1;
	}
	c->n = (unsigned)n;
	c->unit = (enum cadence_unit)i;
	return 0;
}

void cadence_format(const struct cadence *c, char *buf, size_t len)
{
	snprintf(buf, len, "%u/%s", c->n, unit_names[c->unit]);
}

int64_t cadence_interval_ms(const struct cadence *c)
{
	static const int64_t unit_ms[] = {
	        [CADENCE_DAY] = DAY_MS,
	        [CADENCE_WEEK] = 7 * DAY_MS,
	        [CADENCE_MONTH] = 30 * DAY_MS,
	};

	return c->n ? unit_ms[c->unit] / c->n : 0;
}

/* The local date of instant t in z, as days since 1970-01-01. */
static int64_t local_day(const struct caltime_zone *z, int64_t t_ms)
{
	struct caltime_civil c;
	int64_t s = t_ms / 1000 - (t_ms % 1000 < 0);

	caltime_utc_to_local(z, s, &c);
	return caltime_days(c.year, c.mon, c.day);
}

/* Local midnight at the start of day `days` in z, in UTC ms. */
static int64_t midnight(const struct caltime_zone *z, int64_t days)
{
	int y, m, d;

	caltime_civil_from_days(days, &y, &m, &d);
	/* A midnight the clocks skip reads as the first instant after. */
	return caltime_local_to_utc(z, y, m, d, 0, 0, 0) * 1000;
}

/* The first day of the month holding day `days`, and of the next. */
static int64_t month_first(int64_t days, int next)
{
	int y, m, d;

	caltime_civil_from_days(days, &y, &m, &d);
	if (next && ++m > 12) {
		m = 1;
		y++;
	}
	return caltime_days(y, m, 1);
}

int64_t cadence_period_start(enum cadence_unit u, const struct caltime_zone *z,
                             int64_t t_ms)
{
	int64_t day = local_day(z, t_ms);

	switch (u) {
	case CADENCE_DAY:
		break;
	case CADENCE_WEEK:
		/* 1970-01-01 was a Thursday: Monday is 3 days before it. */
		day -= ((day % 7) + 7 + 3) % 7;
		break;
	case CADENCE_MONTH:
		day = month_first(day, 0);
		break;
	}
	return midnight(z, day);
}

int64_t cadence_period_next(enum cadence_unit u, const struct caltime_zone *z,
                            int64_t start_ms)
{
	/* Midday of the start's day: clear of any change at midnight. */
	int64_t day = local_day(z, start_ms + DAY_MS / 2);

	switch (u) {
	case CADENCE_DAY:
		day += 1;
		break;
	case CADENCE_WEEK:
		day += 7;
		break;
	case CADENCE_MONTH:
		day = month_first(day, 1);
		break;
	}
	return midnight(z, day);
}

void cadence_window(const struct cadence *c, const struct caltime_zone *z,
                    int64_t now_ms, unsigned weeks, int64_t *from_ms,
                    int64_t *to_ms)
{
	int64_t monday = cadence_period_start(CADENCE_WEEK, z, now_ms);
	int64_t end = midnight(z, local_day(z, monday + DAY_MS / 2) +
	                                  (int64_t)weeks * 7);

	*from_ms = cadence_period_start(c->unit, z, monday);
	*to_ms = cadence_period_next(c->unit, z,
	                             cadence_period_start(c->unit, z, end - 1));
}

/* The gaps between the posts [i, j) and the one before each. */
static void check_gaps(const struct cadence *c, const struct cadence_post *v,
                       size_t first, size_t i, size_t j,
                       void (*fn)(void *, const struct cadence_finding *),
                       void *arg)
{
	int64_t interval = cadence_interval_ms(c);

	for (size_t k = i > first ? i : first + 1; k < j; k++) {
		struct cadence_finding f = {
		        .post = &v[k],
		        .prev = &v[k - 1],
		        .gap_ms = v[k].at_ms - v[k - 1].at_ms,
		};

		if (c->min_gap_ms > 0 && f.gap_ms < c->min_gap_ms) {
			f.kind = CADENCE_MIN_GAP;
			fn(arg, &f);
		}
		if (interval > 0 && f.gap_ms > 2 * interval) {
			f.kind = CADENCE_GAP;
			fn(arg, &f);
		}
	}
}

void cadence_check(const struct cadence *c, const struct caltime_zone *z,
                   int64_t from_ms, int64_t to_ms, const struct cadence_post *v,
                   size_t n,
                   void (*fn)(void *arg, const struct cadence_finding *),
                   void *arg)
{
	size_t first = 0, i, j;
	int64_t ps, pe;

	while (first < n && v[first].at_ms < from_ms)
		first++;
	i = first;
	for (ps = from_ms; ps < to_ms; ps = pe) {
		pe = cadence_period_next(c->unit, z,
		                         cadence_period_start(c->unit, z, ps));
		if (pe > to_ms)
			pe = to_ms;
		for (j = i; j < n && v[j].at_ms < pe; j++)
			;
		if (c->n && (j - i < c->n || j - i > c->n)) {
			struct cadence_finding f = {
			        .kind = j - i < c->n ? CADENCE_UNDER
			                             : CADENCE_OVER,
			        .period_start_ms = ps,
			        .period_end_ms = pe,
			        .count = (unsigned)(j - i),
			        .post = j - i > c->n ? &v[i + c->n] : NULL,
			};

			fn(arg, &f);
		}
		check_gaps(c, v, first, i, j, fn, arg);
		i = j;
	}
}

static int by_time(const void *a, const void *b)
{
	const struct cadence_post *x = a, *y = b;

	if (x->at_ms != y->at_ms)
		return x->at_ms < y->at_ms ? -1 : 1;
	return strcmp(x->id, y->id);
}

void cadence_sort(struct cadence_post *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), by_time);
}
