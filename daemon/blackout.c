#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blackout.h"
#include "slots.h"

#define DAY_S         INT64_C(86400)
#define MINUTES_A_DAY 1440
/* Following blackouts into each other stops after this: held instead. */
#define JUDGE_MAX_STEPS 1000
#define JUDGE_MAX_MS    (366 * DAY_S * 1000)

/* One end of a range: a date (whole day, end: the next one) or a time. */
static int range_end(const char *s, size_t len, int is_end,
                     struct caltime_civil *c, int64_t *out, char *err,
                     size_t errlen)
{
	char buf[64], why[128];

	if (len == 0 || len >= sizeof(buf)) {
		snprintf(err, errlen, "'%.*s' is not a date or a date-time",
		         (int)(len < 40 ? len : 40), s);
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (caltime_parse(buf, c, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "'%s': %s", buf, why);
		return -1;
	}
	*out = caltime_wall_s(c) + (!c->has_time && is_end ? DAY_S : 0);
	if (c->has_zone)
		*out -= (int64_t)c->offset_min * 60;
	return 0;
}

int blackout_parse_dates(const char *s, const char *reason,
                         struct blackout *out, char *err, size_t errlen)
{
	const char *dots = strstr(s, "..");
	const char *b = dots ? dots + 2 : s;
	size_t alen = dots ? (size_t)(dots - s) : strlen(s);
	struct caltime_civil ca, cb;
	int64_t from, until;

	if (range_end(s, alen, 0, &ca, &from, err, errlen) < 0 ||
	    range_end(b, strlen(b), 1, &cb, &until, err, errlen) < 0)
		return -1;
	if (dots == NULL && ca.has_time) {
		snprintf(err, errlen,
		         "'%s' is a moment, not a stretch of time: give a date "
		         "or a range (START..END)",
		         s);
		return -1;
	}
	if (ca.has_zone != cb.has_zone) {
		snprintf(err, errlen,
		         "'%s' mixes a local time with an offset: give both "
		         "ends the same way",
		         s);
		return -1;
	}
	if (until <= from) {
		snprintf(err, errlen, "'%s' ends before it begins", s);
		return -1;
	}
	*out = (struct blackout){
	        .kind = ca.has_zone ? BO_UTC : BO_WALL,
	        .from = ca.has_zone ? from * 1000 : from,
	        .until = ca.has_zone ? until * 1000 : until,
	};
	if ((out->reason = strdup(reason ? reason : s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int blackout_parse_quiet(const char *s, struct blackout *out, char *err,
                         size_t errlen)
{
	const char *sp = strchr(s, ' ');
	size_t dlen = sp ? (size_t)(sp - s) : strlen(s);
	unsigned h1, m1, h2, m2;
	int days = slot_days_parse(s, dlen), n = 0;

	if (days < 0) {
		snprintf(
		        err, errlen,
		        "'%s' is not quiet hours: DAYS or DAYS HH:MM-HH:MM, "
		        "such as 'Sun' or 'Mon-Fri 22:00-07:00' (days: Mon ... "
		        "Sun, Mon-Fri, daily)",
		        s);
		return -1;
	}
	*out = (struct blackout){.kind = BO_WEEKLY,
	                         .days = (uint8_t)days,
	                         .end_min = MINUTES_A_DAY};
	if (sp &&
	    (sscanf(sp + 1, "%2u:%2u-%2u:%2u%n", &h1, &m1, &h2, &m2, &n) != 4 ||
	     sp[1 + n] != '\0' || h1 > 23 || m1 > 59 || h2 > 24 || m2 > 59 ||
	     (h2 == 24 && m2 != 0) || h1 * 60 + m1 == h2 * 60 + m2)) {
		snprintf(err, errlen,
		         "'%s': the hours are HH:MM-HH:MM, two different times "
		         "such as 22:00-07:00",
		         s);
		return -1;
	}
	if (sp) {
		out->start_min = (uint16_t)(h1 * 60 + m1);
		out->end_min = (uint16_t)(h2 * 60 + m2);
	}
	if ((out->reason = malloc(strlen(s) + sizeof("quiet hours "))) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sprintf(out->reason, "quiet hours %s", s);
	return 0;
}

int blackouts_add(struct blackouts *set, struct blackout *b)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;
		struct blackout *v = realloc(set->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n++] = *b;
	b->reason = NULL;
	return 0;
}

void blackouts_free(struct blackouts *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i].reason);
	free(set->v);
	set->v = NULL;
	set->n = set->cap = 0;
}

/* The instant (ms) minute m of local day in z; m may be 1440. */
static int64_t local_ms(const struct caltime_zone *z, int64_t day, int m)
{
	int y, mo, d;

	caltime_civil_from_days(day + m / MINUTES_A_DAY, &y, &mo, &d);
	m %= MINUTES_A_DAY;
	return caltime_local_to_utc(z, y, mo, d, m / 60, m % 60, 0) * 1000;
}

static int weekly_covers(const struct blackout *b, const struct caltime_zone *z,
                         int64_t t, int64_t *end)
{
	struct caltime_civil c;
	int64_t day;
	int wd, yd, m;

	caltime_utc_to_local(z, t / 1000 - (t % 1000 < 0), &c);
	day = caltime_days(c.year, c.mon, c.day);
	/* 1970-01-01 was a Thursday: day 0 is weekday 3. */
	wd = (int)(((day % 7) + 7 + 3) % 7);
	yd = (wd + 6) % 7;
	m = c.hour * 60 + c.min;
	if (b->start_min < b->end_min) {
		if (!(b->days & (1u << wd)) || m < b->start_min ||
		    m >= b->end_min)
			return 0;
		*end = local_ms(z, day, b->end_min);
	} else if ((b->days & (1u << wd)) && m >= b->start_min)
		*end = local_ms(z, day + 1, b->end_min);
	else if ((b->days & (1u << yd)) && m < b->end_min)
		*end = local_ms(z, day, b->end_min);
	else
		return 0;
	return 1;
}

/* Local wall-clock seconds in z -> the instant (ms). */
static int64_t wall_to_utc_ms(const struct caltime_zone *z, int64_t wall)
{
	int64_t day = wall / DAY_S - (wall % DAY_S < 0);
	int sec = (int)(wall - day * DAY_S);
	int y, mo, d;

	caltime_civil_from_days(day, &y, &mo, &d);
	return caltime_local_to_utc(z, y, mo, d, sec / 3600, sec / 60 % 60,
	                            sec % 60) *
	       1000;
}

int blackout_covers(const struct blackout *b, const struct caltime_zone *z,
                    int64_t t, int64_t *end_ms)
{
	int64_t wall, end;

	switch (b->kind) {
	case BO_UTC:
		if (t < b->from || t >= b->until)
			return 0;
		end = b->until;
		break;
	case BO_WALL:
		wall = t + (int64_t)caltime_utc_offset(
		                   z, t / 1000 - (t % 1000 < 0)) *
		                   1000;
		if (wall < b->from * 1000 || wall >= b->until * 1000)
			return 0;
		end = wall_to_utc_ms(z, b->until);
		break;
	default:
		if (!weekly_covers(b, z, t, &end))
			return 0;
	}
	/* A DST fold can put the end's wall time before t: move on anyway. */
	*end_ms = end > t ? end : t + 60 * 1000;
	return 1;
}

int blackout_judge(const struct blackouts *const *sets, size_t nsets,
                   const struct caltime_zone *z, int64_t t,
                   struct blackout_verdict *v)
{
	int64_t at = t;

	*v = (struct blackout_verdict){.allowed_ms = t};
	for (int step = 0; step < JUDGE_MAX_STEPS; step++) {
		const struct blackout *hit = NULL;
		int64_t end = at;

		for (size_t i = 0; i < nsets && hit == NULL; i++)
			for (size_t j = 0; sets[i] && j < sets[i]->n; j++)
				if (blackout_covers(&sets[i]->v[j], z, at,
				                    &end)) {
					hit = &sets[i]->v[j];
					break;
				}
		if (hit == NULL) {
			v->allowed_ms = at;
			return v->by != NULL;
		}
		if (v->by == NULL)
			v->by = hit;
		at = end;
		if (at - t > JUDGE_MAX_MS)
			break;
	}
	/* Blacked out for a year on end: nothing to shift to. */
	v->allowed_ms = -1;
	return 1;
}

const char *blackout_action_name(int action)
{
	return action == BLACKOUT_HOLD ? "hold" : "shift";
}
