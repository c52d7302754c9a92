/*
 * Expansion of the calendar into deliveries. A recurring post is iterated
 * by libical on floating (zone-less) wall-clock times, DTSTART being its
 * `at` as written, and every occurrence then resolved in the calendar's
 * zone with caltime's gap and overlap answers: RFC 5545's reading of a
 * local-time series, and the reason a 10:00 post stays at 10:00 local when
 * the clocks change.
 *
 * Never unbounded: occurrences only in [from, horizon), at most
 * CALEXPAND_MAX_OCCURRENCES per post and CALEXPAND_MAX_STEPS iterator
 * steps per post and call; a series without COUNT is started near `from`
 * rather than iterated from its first occurrence years ago.
 */
#include "calexpand.h"

#include <curl/curl.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "hash.h"
#include "postid.h"

#define DAY_S INT64_C(86400)
/* Occurrences that landed in a gap can repeat a later instant. */
#define RECENT 128

static struct icaltimetype floating(int64_t wall)
{
	struct icaltimetype t = icaltime_null_time();
	int64_t days = wall >= 0 ? wall / DAY_S : (wall - DAY_S + 1) / DAY_S;
	int64_t rem = wall - days * DAY_S;

	caltime_civil_from_days(days, &t.year, &t.month, &t.day);
	t.hour = (int)(rem / 3600);
	t.minute = (int)(rem / 60 % 60);
	t.second = (int)(rem % 60);
	return t;
}

/* libical's reason for its last error, as a sentence. */
static const char *ical_reason(void)
{
	return icalerrno != ICAL_NO_ERROR ? icalerror_strerror(icalerrno)
	                                  : "not understood";
}

/*
 * Read rrule into *rec. On failure, name the part libical refuses: each
 * part is tried alone (after a FREQ, which libical needs first).
 */
static int parse_rule(const char *rrule, struct icalrecurrencetype *rec,
                      char *err, size_t errlen)
{
	char probe[512], part[256];
	const char *p, *end;

	icalerror_clear_errno();
	*rec = icalrecurrencetype_from_string(rrule);
	if (rec->rscale) {
		icalmemory_free_buffer(rec->rscale);
		rec->rscale = NULL;
		snprintf(err, errlen, "RSCALE is not supported");
		return -1;
	}
	/*
	 * libical looks for a rule's next match one FREQ step at a time
	 * inside one call, and cannot be stopped mid-way: a rule by the
	 * second or the minute that rarely matches costs seconds to minutes
	 * of CPU per expansion. HOURLY with BYMINUTE says any plan's rhythm.
	 */
	if (rec->freq == ICAL_SECONDLY_RECURRENCE ||
	    rec->freq == ICAL_MINUTELY_RECURRENCE) {
		snprintf(err, errlen,
		         "FREQ=%s is not supported: a rule repeats at most "
		         "hourly (every half hour: FREQ=HOURLY;BYMINUTE=0,30)",
		         rec->freq == ICAL_SECONDLY_RECURRENCE ? "SECONDLY"
		                                               : "MINUTELY");
		return -1;
	}
	if (rec->freq != ICAL_NO_RECURRENCE && icalerrno == ICAL_NO_ERROR)
		return 0;
	if (strstr(rrule, "FREQ=") == NULL) {
		snprintf(err, errlen, "it has no FREQ (e.g. FREQ=WEEKLY)");
		return -1;
	}
	for (p = rrule; *p; p = *end ? end + 1 : end) {
		struct icalrecurrencetype one;

		end = p + strcspn(p, ";");
		snprintf(part, sizeof(part), "%.*s", (int)(end - p), p);
		if (strncmp(part, "FREQ=", 5) == 0)
			snprintf(probe, sizeof(probe), "%s", part);
		else
			snprintf(probe, sizeof(probe), "FREQ=DAILY;%s", part);
		icalerror_clear_errno();
		one = icalrecurrencetype_from_string(probe);
		if (one.rscale)
			icalmemory_free_buffer(one.rscale);
		if (one.freq == ICAL_NO_RECURRENCE ||
		    icalerrno != ICAL_NO_ERROR) {
			snprintf(err, errlen, "libical rejects '%s' (%s)", part,
			         ical_reason());
			return -1;
		}
	}
	icalerror_clear_errno();
	*rec = icalrecurrencetype_from_string(rrule);
	snprintf(err, errlen, "libical rejects it (%s)", ical_reason());
	return -1;
}

/*
 * 1 if some month BYMONTH allows has a day BYMONTHDAY names (either
 * list empty: yes). libical finds out only by searching, to the year
 * 20000 whatever UNTIL says (0.2-0.45 s for February 30); this costs
 * nothing.
 */
static int month_day_possible(const struct icalrecurrencetype *rec)
{
	static const int longest[12] = {31, 29, 31, 30, 31, 30,
	                                31, 31, 30, 31, 30, 31};

	if (rec->by_month[0] == ICAL_RECURRENCE_ARRAY_MAX ||
	    rec->by_month_day[0] == ICAL_RECURRENCE_ARRAY_MAX)
		return 1;
	for (int i = 0; i < ICAL_BY_MONTH_SIZE &&
	                rec->by_month[i] != ICAL_RECURRENCE_ARRAY_MAX;
	     i++) {
		int m = icalrecurrencetype_month_month(rec->by_month[i]);

		for (int j = 0;
		     j < ICAL_BY_MONTHDAY_SIZE &&
		     rec->by_month_day[j] != ICAL_RECURRENCE_ARRAY_MAX;
		     j++) {
			int d = abs(rec->by_month_day[j]);

			if (m >= 1 && m <= 12 && d >= 1 && d <= longest[m - 1])
				return 1;
		}
	}
	return 0;
}

int calexpand_check(const char *rrule, const struct caltime_civil *dtstart,
                    struct calexpand_rule *out, char *err, size_t errlen)
{
	struct icalrecurrencetype rec, first;
	icalrecur_iterator *it;
	struct icaltimetype start = icaltime_null_time(), t;

	memset(out, 0, sizeof(*out));
	if (parse_rule(rrule, &rec, err, errlen) < 0)
		return -1;
	if (!month_day_possible(&rec)) {
		snprintf(err, errlen,
		         "no month BYMONTH allows has a day BYMONTHDAY names "
		         "(such as February 30)");
		return -1;
	}
	start.year = dtstart->year;
	start.month = dtstart->mon;
	start.day = dtstart->day;
	start.hour = dtstart->hour;
	start.minute = dtstart->min;
	start.second = dtstart->sec;
	/*
	 * Some combinations only fail once iterated (BYWEEKNO on DAILY), and
	 * some never match (BYMONTHDAY=30 in February): libical looks for
	 * the first match until UNTIL, or until the year 2582, at every
	 * expansion. Looked for once here, within ten years (the rule's own
	 * UNTIL aside: the calendar reads it in its zone, to the end of its
	 * day). A month day that no month BYMONTH allows has is refused
	 * before: libical would search for it to the year 20000.
	 */
	first = rec;
	first.until = start;
	first.until.year += 10;
	icalerror_clear_errno();
	if ((it = icalrecur_iterator_new(first, start)) == NULL) {
		snprintf(err, errlen, "libical rejects it (%s)", ical_reason());
		return -1;
	}
	t = icalrecur_iterator_next(it);
	icalrecur_iterator_free(it);
	if (icaltime_is_null_time(t)) {
		snprintf(err, errlen,
		         "it has no occurrence within ten years of 'at'");
		return -1;
	}
	if (rec.count < 0 || rec.count > 100000) {
		snprintf(err, errlen, "COUNT must be from 1 to 100000");
		return -1;
	}
	out->count = (unsigned)rec.count;
	if (!icaltime_is_null_time(rec.until)) {
		out->has_until = 1;
		out->until.year = rec.until.year;
		out->until.mon = rec.until.month;
		out->until.day = rec.until.day;
		out->until.has_time = !rec.until.is_date;
		out->until.hour = rec.until.hour;
		out->until.min = rec.until.minute;
		out->until.sec = rec.until.second;
		out->until.has_zone = icaltime_is_utc(rec.until);
	}
	return 0;
}

/* A string, or NULL, told apart from "" and from its neighbours. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
	unsigned char tag = s ? 1 : 0;

	h = hash_fnv1a(h, &tag, 1);
	return s ? hash_fnv1a(h, s, strlen(s) + 1) : h;
}

/*
 * The change hash: FNV-1a 64 over the due time (8 bytes, little-endian),
 * text and link, the number of media (4 bytes, little-endian) and each
 * media string in order, campaign and channel; a string is a byte 1, its
 * bytes and a NUL, NULL a byte 0. The sync stores it: changing this
 * changes every delivery's hash once (an update each, nothing re-sent).
 */
static uint64_t delivery_hash(const struct cal_delivery *d)
{
	uint64_t h = HASH_FNV_OFFSET;
	unsigned char due[8], count[4];
	size_t i, n = json_array_size(d->media);

	/* Fixed widths and byte order: the hash outlives the process. */
	for (i = 0; i < 8; i++)
		due[i] = (unsigned char)((uint64_t)d->due_ms >> (8 * i));
	for (i = 0; i < 4; i++)
		count[i] = (unsigned char)(n >> (8 * i));
	h = hash_fnv1a(h, due, sizeof(due));
	h = fnv_str(h, d->text);
	h = fnv_str(h, d->link);
	h = hash_fnv1a(h, count, sizeof(count));
	for (i = 0; i < n; i++)
		h = fnv_str(h, json_string_value(json_array_get(d->media, i)));
	h = fnv_str(h, d->campaign);
	return fnv_str(h, d->channel);
}

/* Whether the query of url already sets key ("?key=" or "&key="). */
static int query_has(const char *url, const char *key)
{
	const char *q = strchr(url, '?');
	size_t n = strlen(key);

	while (q) {
		if (strncmp(q + 1, key, n) == 0 && q[1 + n] == '=')
			return 1;
		q = strchr(q + 1, '&');
	}
	return 0;
}

/*
 * A campaign's utm_* metadata, added to a link's query so the shop's
 * analytics see which campaign brought the visit. A tag the link already
 * carries is left as the author wrote it. Returns link itself when there
 * is nothing to add (or no room).
 */
static const char *tag_link(const char *link, const json_t *meta, char *buf,
                            size_t len)
{
	const char *frag = strchr(link, '#'), *key, *sep;
	size_t base = frag ? (size_t)(frag - link) : strlen(link), o = base;
	json_t *v;
	int w;

	if (base >= len)
		return link;
	memcpy(buf, link, base);
	buf[o] = '\0';
	sep = strchr(buf, '?') ? "&" : "?";
	json_object_foreach ((json_t *)meta, key, v) {
		char *esc;

		if (strncmp(key, "utm_", 4) != 0 || !json_is_string(v))
			continue;
		if (query_has(buf, key))
			continue;
		if ((esc = curl_easy_escape(NULL, json_string_value(v), 0)) ==
		    NULL)
			return link;
		w = snprintf(buf + o, len - o, "%s%s=%s", sep, key, esc);
		curl_free(esc);
		if (w < 0 || (size_t)w >= len - o)
			return link;
		o += (size_t)w;
		sep = "&";
	}
	if (o == base)
		return link;
	/* The fragment stays last, where browsers expect it. */
	w = snprintf(buf + o, len - o, "%s", frag ? frag : "");
	return w >= 0 && (size_t)w < len - o ? buf : link;
}

/* The metadata of the campaign p belongs to, or NULL. */
static const json_t *campaign_meta_of(const struct calendar *cal,
                                      const struct cal_post *p)
{
	for (size_t i = 0; p->campaign && i < cal->ncampaigns; i++)
		if (strcmp(cal->campaigns[i].name, p->campaign) == 0)
			return cal->campaigns[i].meta;
	return NULL;
}

/* Hand fn the delivery of p's channel i at due_ms, as post post_id. */
static void emit_channel(const struct cal_post *p, const json_t *meta,
                         const char *post_id, int64_t due_ms, size_t i,
                         void (*fn)(void *, const struct cal_delivery *),
                         void *arg)
{
	const struct cal_variant *v = NULL;
	char id[POSTID_MAX * 2 + 2], tagged[4096];
	struct cal_delivery d = {
	        .id = id,
	        .post_id = post_id,
	        .post = p,
	        .channel = p->channels[i],
	        .due_ms = due_ms,
	        .campaign = p->campaign,
	};

	for (size_t j = 0; j < p->nvariants && v == NULL; j++)
		if (strcmp(p->variants[j].channel, p->channels[i]) == 0)
			v = &p->variants[j];
	d.text = v && v->text ? v->text : p->text;
	d.link = v && v->link ? v->link : p->link;
	if (d.link && meta)
		d.link = tag_link(d.link, meta, tagged, sizeof(tagged));
	d.media = v && v->media ? v->media : p->media;
	snprintf(id, sizeof(id), "%s/%s", post_id, p->channels[i]);
	d.hash = delivery_hash(&d);
	fn(arg, &d);
}

/* Hand fn one delivery per channel of p at due_ms, as post post_id. */
static void emit(const struct calendar *cal, const struct cal_post *p,
                 const char *post_id, int64_t due_ms,
                 void (*fn)(void *, const struct cal_delivery *), void *arg)
{
	const json_t *meta = campaign_meta_of(cal, p);

	for (size_t i = 0; i < p->nchannels; i++)
		emit_channel(p, meta, post_id, due_ms, i, fn, arg);
}

void calendar_delivery(const struct calendar *cal, const struct cal_post *p,
                       const char *post_id, int64_t due_ms, size_t channel,
                       void (*fn)(void *arg, const struct cal_delivery *),
                       void *arg)
{
	if (channel < p->nchannels)
		emit_channel(p, campaign_meta_of(cal, p), post_id, due_ms,
		             channel, fn, arg);
}

static int excluded(const struct cal_post *p, int64_t utc_ms,
                    struct icaltimetype local)
{
	char day[16];

	for (size_t i = 0; i < p->nexclude; i++)
		if (p->exclude_ms[i] == utc_ms)
			return 1;
	if (p->nexclude_dates == 0)
		return 0;
	snprintf(day, sizeof(day), "%04d-%02d-%02d", local.year, local.month,
	         local.day);
	for (size_t i = 0; i < p->nexclude_dates; i++)
		if (strcmp(p->exclude_dates[i], day) == 0)
			return 1;
	return 0;
}

/*
 * For a series without COUNT, a later DTSTART with the same phase: a whole
 * number of periods on, still two days before `from` (more than any UTC
 * offset). Only where a period is a fixed length of wall time; months and
 * years are iterated from the start (a dozen steps a year).
 */
static int64_t skip_ahead(const struct icalrecurrencetype *rec, int64_t start,
                          int64_t from_wall)
{
	int64_t period, target = from_wall - 2 * DAY_S;

	switch (rec->freq) {
	case ICAL_HOURLY_RECURRENCE:
		period = 3600;
		break;
	case ICAL_DAILY_RECURRENCE:
		period = DAY_S;
		break;
	case ICAL_WEEKLY_RECURRENCE:
		period = 7 * DAY_S;
		break;
	default:
		return start;
	}
	period *= rec->interval > 0 ? rec->interval : 1;
	if (rec->count > 0 || target <= start)
		return start;
	return start + (target - start) / period * period;
}

/* "<id>@20261122T090000Z": the occurrence's UTC instant. */
static void occurrence_id(const char *id, int64_t due_ms, char *out, size_t len)
{
	int64_t s = due_ms >= 0 ? due_ms / 1000 : (due_ms - 999) / 1000;
	int64_t days = s >= 0 ? s / DAY_S : (s - DAY_S + 1) / DAY_S;
	int64_t rem = s - days * DAY_S;
	int y, m, d;

	caltime_civil_from_days(days, &y, &m, &d);
	snprintf(out, len, "%s@%04d%02d%02dT%02d%02d%02dZ", id, y, m, d,
	         (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

static int expand_series(const struct calendar *cal, const struct cal_post *p,
                         const struct caltime_zone *z, int64_t from_ms,
                         int64_t horizon_ms,
                         void (*fn)(void *, const struct cal_delivery *),
                         void *arg)
{
	struct icalrecurrencetype rec;
	struct caltime_civil from_local, end_local;
	icalrecur_iterator *it;
	int64_t recent[RECENT], end_ms = horizon_ms, start;
	size_t nrecent = 0, pos = 0, n = 0, steps;
	char err[256], post_id[POSTID_MAX + 1];

	if (parse_rule(p->rrule, &rec, err, sizeof(err)) < 0)
		return -1;
	if (p->until_ms >= 0 && p->until_ms + 1 < end_ms)
		end_ms = p->until_ms + 1;
	if (end_ms <= from_ms)
		return 0;
	/*
	 * The calendar keeps UNTIL and COUNT itself (UNTIL in UTC). libical
	 * gets an UNTIL a day past the end instead: it searches for the next
	 * match one FREQ step at a time inside one call, so a rule that never
	 * matches (BYMONTHDAY=30 in February) would otherwise step on to the
	 * year 2582.
	 */
	caltime_utc_to_local(z, end_ms / 1000 + DAY_S, &end_local);
	rec.until = floating(caltime_wall_s(&end_local));
	rec.count = (int)p->count;
	caltime_utc_to_local(z, from_ms / 1000, &from_local);
	start = skip_ahead(&rec, p->at_wall_s, caltime_wall_s(&from_local));
	if ((it = icalrecur_iterator_new(rec, floating(start))) == NULL)
		return -1;
	for (steps = 0; steps < CALEXPAND_MAX_STEPS; steps++) {
		struct icaltimetype t = icalrecur_iterator_next(it);
		int64_t due;
		size_t i;

		if (icaltime_is_null_time(t))
			break;
		due = caltime_local_to_utc(z, t.year, t.month, t.day, t.hour,
		                           t.minute, t.second) *
		      1000;
		/* Wall time only grows; UTC may step back inside a gap. */
		if (due >= end_ms + DAY_S * 1000)
			break;
		if (due < from_ms || due >= end_ms || due < p->at_ms ||
		    excluded(p, due, t))
			continue;
		for (i = 0; i < nrecent && recent[i] != due; i++)
			;
		if (i < nrecent)
			continue; /* two wall times, one instant (a gap) */
		recent[pos] = due;
		pos = (pos + 1) % RECENT;
		if (nrecent < RECENT)
			nrecent++;
		occurrence_id(p->id, due, post_id, sizeof(post_id));
		emit(cal, p, post_id, due, fn, arg);
		if (++n == CALEXPAND_MAX_OCCURRENCES)
			break;
	}
	icalrecur_iterator_free(it);
	return 0;
}

int calendar_expand(const struct calendar *cal, int64_t from_ms,
                    int64_t horizon_ms,
                    void (*fn)(void *arg, const struct cal_delivery *),
                    void *arg)
{
	const struct caltime_zone *z = NULL;
	const char *zname, *last = NULL;
	int ret = 0;

	for (size_t i = 0; i < cal->nposts; i++) {
		const struct cal_post *p = &cal->posts[i];

		if (p->draft)
			continue;
		if (p->rrule == NULL) {
			emit(cal, p, p->id, p->at_ms, fn, arg);
			continue;
		}
		/* Looked up once per zone, and only if something recurs. */
		zname = p->timezone ? p->timezone : cal->timezone;
		if ((z == NULL || zname != last) &&
		    (z = caltime_zone(zname)) == NULL)
			return -1;
		last = zname;
		if (expand_series(cal, p, z, from_ms, horizon_ms, fn, arg) < 0)
			ret = -1;
	}
	return ret;
}
