/*
 * Delivery statistics: the sums stats.h describes, one row at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caltime.h"
#include "stats.h"
#include "timeparse.h"

static const char *const by_names[] = {
        [STATS_BY_NONE] = "none",         [STATS_BY_CHANNEL] = "channel",
        [STATS_BY_CAMPAIGN] = "campaign", [STATS_BY_DAY] = "day",
        [STATS_BY_WEEK] = "week",
};

int stats_by_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(by_names) / sizeof(by_names[0]); i++)
		if (name && strcmp(name, by_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *stats_by_name(enum stats_by by)
{
	return (unsigned)by < sizeof(by_names) / sizeof(by_names[0])
	               ? by_names[by]
	               : "?";
}

/* The position of the highest set bit of v > 0. */
static unsigned top_bit(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);
}

unsigned stats_hist_bucket(int64_t ms)
{
	uint64_t v = ms < 0 ? 0 : (uint64_t)ms;
	unsigned k;

	if (v < STATS_HIST_SUB)
		return (unsigned)v;
	/* v in [2^k, 2^(k+1)), k >= 4: 16 equal buckets over that span. */
	k = top_bit(v);
	if (k > 62)
		k = 62;
	return STATS_HIST_SUB + (k - 4) * STATS_HIST_SUB +
	       (unsigned)((v >> (k - 4)) & (STATS_HIST_SUB - 1));
}

void stats_hist_bounds(unsigned bucket, int64_t *lo, int64_t *hi)
{
	unsigned k, sub;

	if (bucket < STATS_HIST_SUB) {
		*lo = bucket;
		*hi = bucket + 1;
		return;
	}
	k = (bucket - STATS_HIST_SUB) / STATS_HIST_SUB + 4;
	sub = (bucket - STATS_HIST_SUB) % STATS_HIST_SUB;
	*lo = (int64_t)(STATS_HIST_SUB + sub) << (k - 4);
	*hi = *lo + ((int64_t)1 << (k - 4));
}

void stats_hist_add(struct stats_hist *h, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	h->n[stats_hist_bucket(ms)]++;
	if (h->count == 0 || ms < h->min)
		h->min = ms;
	if (h->count == 0 || ms > h->max)
		h->max = ms;
	h->count++;
}

int64_t stats_hist_quantile(const struct stats_hist *h, double q)
{
	uint64_t rank, seen = 0;
	int64_t lo, hi, mid;

	if (h->count == 0)
		return -1;
	/* Nearest rank: the smallest value with q of them at or below it. */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	/* The largest is known exactly (p99 of fewer than 100 is it). */
	if (rank >= h->count)
		return h->max;
	for (unsigned b = 0; b < STATS_HIST_BUCKETS; b++) {
		if ((seen += h->n[b]) < rank)
			continue;
		stats_hist_bounds(b, &lo, &hi);
		mid = lo + (hi - lo) / 2;
		return mid < h->min ? h->min : mid > h->max ? h->max : mid;
	}
	return h->max;
}

void stats_period(const struct caltime_zone *z, int week, int64_t t,
                  int64_t *from_ms, int64_t *to_ms, char *key)
{
	struct caltime_civil c;
	int64_t days, first, thu;
	int y, m, d, iy;

	if (z == NULL)
		z = caltime_zone("UTC");
	caltime_utc_to_local(z, t / 1000 - (t % 1000 < 0), &c);
	days = caltime_days(c.year, c.mon, c.day);
	/* 1970-01-01 was a Thursday: Monday is 0. */
	first = week ? days - ((days % 7 + 7 + 3) % 7) : days;
	caltime_civil_from_days(first, &y, &m, &d);
	*from_ms = caltime_local_to_utc(z, y, m, d, 0, 0, 0) * 1000;
	caltime_civil_from_days(first + (week ? 7 : 1), &y, &m, &d);
	*to_ms = caltime_local_to_utc(z, y, m, d, 0, 0, 0) * 1000;
	if (!week) {
		snprintf(key, 16, "%04d-%02d-%02d", c.year % 10000, c.mon,
		         c.day);
		return;
	}
	/* ISO 8601: a week belongs to the year of its Thursday. */
	thu = first + 3;
	caltime_civil_from_days(thu, &iy, &m, &d);
	snprintf(key, 16, "%04d-W%02d", iy % 10000,
	         (int)((thu - caltime_days(iy, 1, 1)) / 7 + 1));
}

static const char *reason_key(const void *ctx, uint32_t pos)
{
	const struct stats_group *g = ctx;

	return g->reasons[pos].text ? g->reasons[pos].text : "";
}

static const char *group_key(const void *ctx, uint32_t pos)
{
	const struct stats_result *r = ctx;

	return r->groups[pos].key ? r->groups[pos].key : "";
}

static void group_init(struct stats_group *g)
{
	memset(g, 0, sizeof(*g));
	g->from_ms = g->to_ms = -1;
}

void stats_init(struct stats_result *r, const struct stats_query *q)
{
	memset(r, 0, sizeof(*r));
	r->q = *q;
	group_init(&r->all);
	hashtab_init(&r->all.reason_index, reason_key, &r->all);
	hashtab_init(&r->index, group_key, r);
}

static void group_clear(struct stats_group *g)
{
	for (size_t i = 0; i < g->nreasons; i++)
		free(g->reasons[i].text);
	free(g->reasons);
	hashtab_free(&g->reason_index);
	free(g->key);
}

void stats_clear(struct stats_result *r)
{
	group_clear(&r->all);
	for (size_t i = 0; i < r->ngroups; i++)
		group_clear(&r->groups[i]);
	free(r->groups);
	hashtab_free(&r->index);
	memset(r, 0, sizeof(*r));
}

/* One more delivery failed for why (NULL: no reason recorded). */
static int add_reason(struct stats_group *g, const char *why)
{
	struct stats_reason *nr;
	uint32_t pos;

	if (hashtab_find(&g->reason_index, why ? why : "", &pos)) {
		g->reasons[pos].n++;
		return 0;
	}
	if (g->nreasons == STATS_REASONS_MAX) {
		g->reasons_other++;
		return 0;
	}
	/* Doubling: the table's key function reads this array. */
	if (g->nreasons == 0 ||
	    (g->nreasons >= 4 && (g->nreasons & (g->nreasons - 1)) == 0)) {
		nr = realloc(g->reasons,
		             (g->nreasons ? g->nreasons * 2 : 4) * sizeof(*nr));
		if (nr == NULL)
			return -ENOMEM;
		g->reasons = nr;
	}
	nr = &g->reasons[g->nreasons];
	nr->n = 1;
	nr->text = NULL;
	if (why && (nr->text = strdup(why)) == NULL)
		return -ENOMEM;
	g->nreasons++;
	if (hashtab_add(&g->reason_index, (uint32_t)(g->nreasons - 1)) < 0) {
		g->nreasons--;
		free(nr->text);
		return -ENOMEM;
	}
	return 0;
}

static int group_add(struct stats_group *g, const struct stats_row *row)
{
	int64_t late;

	if (row->state < 0 || row->state >= DS_COUNT)
		return 0;
	g->states[row->state]++;
	if (row->state == DS_PUBLISHED) {
		g->published_attempts += row->attempts;
		if (row->timed) {
			late = row->late_ms;
			g->published_timed++;
			g->on_time += late >= -STATS_ON_TIME_MS &&
			              late <= STATS_ON_TIME_MS;
			stats_hist_add(&g->late, late);
		}
	}
	if (row->state == DS_FAILED || row->state == DS_UNKNOWN ||
	    row->state == DS_MISSED)
		return add_reason(g, row->last_error);
	return 0;
}

/* The group called key (NULL: none), made when new. */
static struct stats_group *group_find(struct stats_result *r, const char *key,
                                      int64_t from_ms, int64_t to_ms)
{
	struct stats_group *ng;
	uint32_t pos;

	if (hashtab_find(&r->index, key ? key : "", &pos))
		return &r->groups[pos];
	if (r->ngroups == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;

		if ((ng = realloc(r->groups, cap * sizeof(*ng))) == NULL)
			return NULL;
		r->groups = ng;
		r->cap = cap;
		/* The groups moved: their tables' contexts with them. */
		for (size_t i = 0; i < r->ngroups; i++)
			r->groups[i].reason_index.ctx = &r->groups[i];
	}
	ng = &r->groups[r->ngroups];
	group_init(ng);
	hashtab_init(&ng->reason_index, reason_key, ng);
	ng->from_ms = from_ms;
	ng->to_ms = to_ms;
	if (key && (ng->key = strdup(key)) == NULL)
		return NULL;
	r->ngroups++;
	if (hashtab_add(&r->index, (uint32_t)(r->ngroups - 1)) < 0) {
		group_clear(ng);
		r->ngroups--;
		return NULL;
	}
	return ng;
}

/* The group a row goes to; the last one first, as rows come in runs. */
static struct stats_group *group_of(struct stats_result *r,
                                    const struct stats_row *row)
{
	struct stats_group *last = r->last ? &r->groups[r->last - 1] : NULL;
	int64_t from, to;
	const char *key;
	char period[16];

	switch (r->q.by) {
	case STATS_BY_DAY:
	case STATS_BY_WEEK:
		if (last && row->due_ms >= last->from_ms &&
		    row->due_ms < last->to_ms)
			return last;
		stats_period(r->q.zone, r->q.by == STATS_BY_WEEK, row->due_ms,
		             &from, &to, period);
		return group_find(r, period, from, to);
	case STATS_BY_CHANNEL:
	case STATS_BY_CAMPAIGN:
		key = r->q.by == STATS_BY_CHANNEL ? row->channel
		                                  : row->campaign;
		if (last && (last->key == key ||
		             (last->key && key && strcmp(last->key, key) == 0)))
			return last;
		return group_find(r, key, -1, -1);
	default:
		return NULL;
	}
}

int stats_add(struct stats_result *r, const struct stats_row *row)
{
	struct stats_group *g;
	int rc;

	if ((rc = group_add(&r->all, row)) < 0 || r->q.by == STATS_BY_NONE)
		return rc;
	if ((g = group_of(r, row)) == NULL)
		return -ENOMEM;
	r->last = (size_t)(g - r->groups) + 1;
	return group_add(g, row);
}

static int by_count(const void *a, const void *b)
{
	const struct stats_reason *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	if (x->text == NULL || y->text == NULL)
		return (x->text == NULL) - (y->text == NULL);
	return strcmp(x->text, y->text);
}

/* No campaign sorts first. */
static int by_key(const void *a, const void *b)
{
	const struct stats_group *x = a, *y = b;

	if (x->key == NULL || y->key == NULL)
		return (y->key == NULL) - (x->key == NULL);
	return strcmp(x->key, y->key);
}

/* Sorted, the lookup tables no longer match: they are done with. */
static void group_finish(struct stats_group *g)
{
	hashtab_free(&g->reason_index);
	if (g->nreasons > 1)
		qsort(g->reasons, g->nreasons, sizeof(*g->reasons), by_count);
}

void stats_finish(struct stats_result *r)
{
	group_finish(&r->all);
	for (size_t i = 0; i < r->ngroups; i++)
		group_finish(&r->groups[i]);
	hashtab_free(&r->index);
	r->last = 0;
	if (r->ngroups > 1)
		qsort(r->groups, r->ngroups, sizeof(*r->groups), by_key);
}

/* A share, or null when there is nothing to divide by. */
static json_t *ratio(int64_t num, int64_t den)
{
	return den > 0 ? json_real((double)num / (double)den) : json_null();
}

static json_t *reasons_json(const struct stats_group *g)
{
	json_t *a = json_array();
	size_t n = g->nreasons < STATS_TOP_REASONS ? g->nreasons
	                                           : STATS_TOP_REASONS;

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a,
		                      json_pack("{s:s?, s:I}", "reason",
		                                g->reasons[i].text, "count",
		                                (json_int_t)g->reasons[i].n));
	return a;
}

static json_t *lateness_json(const struct stats_group *g)
{
	if (g->late.count == 0)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I}", "p50",
	                 (json_int_t)stats_hist_quantile(&g->late, 0.5), "p99",
	                 (json_int_t)stats_hist_quantile(&g->late, 0.99), "min",
	                 (json_int_t)g->late.min, "max",
	                 (json_int_t)g->late.max);
}

/* Set o[key] to v (stolen); NULL v: out of memory, noted in *bad. */
static void put(json_t *o, const char *key, json_t *v, int *bad)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*bad = 1;
}

/* One group's figures; its key is the caller's to add. */
static json_t *group_json(const struct stats_group *g, int *bad)
{
	const int64_t *n = g->states;
	json_t *o = json_object();
	int64_t total = 0;

	for (int i = 0; i < DS_COUNT; i++)
		total += n[i];
	if (o == NULL) {
		*bad = 1;
		return NULL;
	}
	put(o, "deliveries", json_integer(total), bad);
	put(o, "scheduled",
	    json_integer(n[DS_SCHEDULED] + n[DS_RETRY_WAIT] + n[DS_DRAFT]),
	    bad);
	put(o, "publishing", json_integer(n[DS_PUBLISHING]), bad);
	put(o, "published", json_integer(n[DS_PUBLISHED]), bad);
	put(o, "failed", json_integer(n[DS_FAILED]), bad);
	put(o, "missed", json_integer(n[DS_MISSED]), bad);
	put(o, "skipped", json_integer(n[DS_SKIPPED]), bad);
	put(o, "held", json_integer(n[DS_HELD]), bad);
	put(o, "unknown", json_integer(n[DS_UNKNOWN]), bad);
	put(o, "cancelled", json_integer(n[DS_CANCELLED]), bad);
	put(o, "on_time", json_integer(g->on_time), bad);
	put(o, "on_time_rate", ratio(g->on_time, g->published_timed), bad);
	put(o, "timed", json_integer(g->published_timed), bad);
	put(o, "lateness_ms", lateness_json(g), bad);
	put(o, "attempts_per_published",
	    ratio(g->published_attempts, n[DS_PUBLISHED]), bad);
	put(o, "failure_reasons", reasons_json(g), bad);
	put(o, "other_reasons", json_integer((json_int_t)g->reasons_other),
	    bad);
	return o;
}

/* A group of the breakdown: its key under the name of what it is. */
static json_t *keyed_json(const struct stats_result *r,
                          const struct stats_group *g, int *bad)
{
	char t[TIME_RFC3339_LEN];
	json_t *o = json_object(), *figures;

	if (o == NULL) {
		*bad = 1;
		return NULL;
	}
	/* The key first, for a person reading the JSON. */
	put(o, stats_by_name(r->q.by),
	    g->key ? json_string(g->key) : json_null(), bad);
	if (g->from_ms >= 0) {
		put(o, "from", json_string(time_format_rfc3339(g->from_ms, t)),
		    bad);
		put(o, "to", json_string(time_format_rfc3339(g->to_ms, t)),
		    bad);
	}
	if ((figures = group_json(g, bad)) == NULL ||
	    json_object_update(o, figures) != 0)
		*bad = 1;
	json_decref(figures);
	return o;
}

json_t *stats_json(const struct stats_result *r)
{
	char t[TIME_RFC3339_LEN];
	json_t *o = json_object(), *groups = json_array(), *g;
	int bad = o == NULL || groups == NULL;

	if (bad) {
		json_decref(o);
		json_decref(groups);
		return NULL;
	}
	put(o, "since", json_string(time_format_rfc3339(r->q.since_ms, t)),
	    &bad);
	put(o, "until", json_string(time_format_rfc3339(r->q.until_ms, t)),
	    &bad);
	put(o, "by", json_string(stats_by_name(r->q.by)), &bad);
	put(o, "on_time_within_ms", json_integer(STATS_ON_TIME_MS), &bad);
	put(o, "lateness_error_pct", json_real(STATS_HIST_ERROR_PCT), &bad);
	put(o, "total", group_json(&r->all, &bad), &bad);
	for (size_t i = 0; i < r->ngroups && !bad; i++)
		if ((g = keyed_json(r, &r->groups[i], &bad)) != NULL &&
		    json_array_append_new(groups, g) != 0)
			bad = 1;
	put(o, "groups", groups, &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
