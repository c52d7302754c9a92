/*
 * Goals' progress (goals.h). One pass over the published deliveries in
 * the campaigns' windows, one over the audience samples: no per-campaign
 * query, however many campaigns have goals.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "caltime.h"
#include "goals.h"
#include "planbook.h"
#include "store.h"
#include "view.h"

#define DAY_MS  (24 * 3600 * 1000LL)
#define HOUR_MS (3600 * 1000LL)

int goals_on_track(int64_t done, int64_t target, int64_t start_ms,
                   int64_t end_ms, int64_t now_ms)
{
	if (done >= target)
		return 1;
	if (now_ms >= end_ms)
		return 0;
	if (start_ms < 0 || now_ms - start_ms < HOUR_MS)
		return -1;
	/* Linear pace: what is done, scaled to the whole window. */
	return (double)done * (double)(end_ms - start_ms) /
	               (double)(now_ms - start_ms) >=
	       (double)target;
}

/* One campaign with goals, as the passes fill it. */
struct camp {
	const struct goals_campaign *pc;
	int64_t from_ms; /* -1: its first post */
	int64_t end_ms;  /* the end of its `by` day */
	int64_t first_ms;
	json_t *posts;    /* post id -> true: a set */
	json_t *channels; /* channel -> true */
	int64_t engagement;
	int64_t followers;
};

struct pass {
	struct camp *c;
	size_t n;
	int64_t now_ms;
};

static int64_t midnight(const struct caltime_zone *z,
                        const struct caltime_civil *d, int days_after)
{
	int y, m, dd;

	caltime_civil_from_days(caltime_days(d->year, d->mon, d->day) +
	                                days_after,
	                        &y, &m, &dd);
	return caltime_local_to_utc(z, y, m, dd, 0, 0, 0) * 1000;
}

static struct camp *camp_of(struct pass *ps, const char *name)
{
	for (size_t i = 0; name && i < ps->n; i++)
		if (strcmp(ps->c[i].pc->name, name) == 0)
			return &ps->c[i];
	return NULL;
}

static int64_t plus(int64_t v)
{
	return v > 0 ? v : 0;
}

static void take_total(void *arg, const struct engage_total *t)
{
	struct pass *ps = arg;
	struct camp *c = camp_of(ps, t->campaign);
	const char *slash = strchr(t->id, '/');
	char post[512];

	if (c == NULL || t->published_ms >= c->end_ms ||
	    (c->from_ms >= 0 && t->published_ms < c->from_ms) ||
	    slash == NULL || (size_t)(slash - t->id) >= sizeof(post))
		return;
	memcpy(post, t->id, (size_t)(slash - t->id));
	post[slash - t->id] = '\0';
	json_object_set_new(c->posts, post, json_true());
	json_object_set_new(c->channels, t->channel, json_true());
	if (c->first_ms < 0 || t->published_ms < c->first_ms)
		c->first_ms = t->published_ms;
	c->engagement += plus(t->likes) + plus(t->shares) + plus(t->comments) +
	                 plus(t->quotes);
}

/*
 * Audience samples come by channel, then time: a channel's growth in a
 * campaign's window is its last sample in the window less its last one
 * before the window (or, with none before, its first in it).
 */
struct audience_walk {
	struct pass *ps;
	char channel[256];
	int64_t *base, *last; /* per campaign; -1: none yet */
};

static void audience_flush(struct audience_walk *w)
{
	for (size_t i = 0; i < w->ps->n; i++)
		if (w->base[i] >= 0 && w->last[i] >= 0)
			w->ps->c[i].followers += w->last[i] - w->base[i];
}

static void take_audience(void *arg, const char *channel, int64_t taken_ms,
                          int64_t followers)
{
	struct audience_walk *w = arg;

	if (strcmp(channel, w->channel) != 0) {
		audience_flush(w);
		snprintf(w->channel, sizeof(w->channel), "%s", channel);
		for (size_t i = 0; i < w->ps->n; i++)
			w->base[i] = w->last[i] = -1;
	}
	for (size_t i = 0; i < w->ps->n; i++) {
		struct camp *c = &w->ps->c[i];
		int64_t start = c->from_ms >= 0 ? c->from_ms : c->first_ms;

		if (start < 0 || !json_object_get(c->channels, channel))
			continue;
		if (taken_ms <= start)
			w->base[i] = followers;
		else if (taken_ms < c->end_ms) {
			if (w->base[i] < 0)
				w->base[i] = followers;
			w->last[i] = followers;
		}
	}
}

static json_t *metric_json(const char *name, int64_t done, int64_t target,
                           int64_t start, int64_t end, int64_t now, int *all)
{
	int on = goals_on_track(done, target, start, end, now);

	if (on == 0)
		*all = 0;
	else if (on < 0 && *all == 1)
		*all = -1;
	return json_pack("{s:s, s:I, s:I, s:f, s:o}", "name", name, "done",
	                 (json_int_t)done, "target", (json_int_t)target,
	                 "percent",
	                 round(1000.0 * (double)done / (double)target) / 10.0,
	                 "on_track", on < 0 ? json_null() : json_boolean(on));
}

static json_t *camp_json(const struct camp *c, int64_t now, int64_t today)
{
	const struct cal_goals *g = &c->pc->goals;
	int64_t start = c->from_ms >= 0 ? c->from_ms : c->first_ms;
	/* Whole days after today, in the calendar's zone: 0 on the day. */
	int64_t left = caltime_days(g->by.year, g->by.mon, g->by.day) - today;
	json_t *metrics = json_array();
	char by[16];
	int all = 1;

	if (g->posts > 0)
		json_array_append_new(
		        metrics,
		        metric_json("posts",
		                    (int64_t)json_object_size(c->posts),
		                    g->posts, start, c->end_ms, now, &all));
	if (g->engagement > 0)
		json_array_append_new(metrics,
		                      metric_json("engagement", c->engagement,
		                                  g->engagement, start,
		                                  c->end_ms, now, &all));
	if (g->followers > 0)
		json_array_append_new(metrics,
		                      metric_json("followers", c->followers,
		                                  g->followers, start,
		                                  c->end_ms, now, &all));
	snprintf(by, sizeof(by), "%04d-%02d-%02d", g->by.year, g->by.mon,
	         g->by.day);
	return json_pack("{s:s, s:o, s:s, s:I, s:o, s:o}", "campaign",
	                 c->pc->name, "from", view_time(start), "by", by,
	                 "days_left", (json_int_t)(left > 0 ? left : 0),
	                 "on_track", all < 0 ? json_null() : json_boolean(all),
	                 "metrics", metrics);
}

struct goals_plan *goals_plan_new(const struct plan_book *book)
{
	size_t n = book ? plan_book_ncampaigns(book) : 0;
	const char *zone = book ? plan_book_zone(book) : NULL;
	struct goals_plan *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->c = calloc(n + 1, sizeof(*p->c))) == NULL ||
	    (zone && (p->zone = strdup(zone)) == NULL))
		goto bad;
	for (size_t i = 0; i < n; i++) {
		const struct plan_campaign *pc = plan_book_campaign(book, i);

		if (!pc->goals.set)
			continue;
		if ((p->c[p->n].name = strdup(pc->name)) == NULL)
			goto bad;
		p->c[p->n++].goals = pc->goals;
	}
	return p;
bad:
	goals_plan_free(p);
	return NULL;
}

void goals_plan_free(struct goals_plan *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->c[i].name);
	free(p->c);
	free(p->zone);
	free(p);
}

/* The campaigns with goals, their windows in the calendar's zone. */
static int camps_init(struct pass *ps, const struct goals_plan *plan,
                      int64_t *search_from, int64_t *today)
{
	struct caltime_civil local;
	const struct caltime_zone *z =
	        caltime_zone(plan->zone ? plan->zone : "UTC");

	if (z == NULL)
		z = caltime_zone("UTC");
	caltime_utc_to_local(z, ps->now_ms / 1000, &local);
	*today = caltime_days(local.year, local.mon, local.day);
	if ((ps->c = calloc(plan->n + 1, sizeof(*ps->c))) == NULL)
		return -ENOMEM;
	*search_from = INT64_MAX;
	for (size_t i = 0; i < plan->n; i++) {
		const struct goals_campaign *pc = &plan->c[i];
		struct camp *c = &ps->c[ps->n];

		*c = (struct camp){.pc = pc, .first_ms = -1, .from_ms = -1};
		c->end_ms = midnight(z, &pc->goals.by, 1);
		if (pc->goals.from.year)
			c->from_ms = midnight(z, &pc->goals.from, 0);
		c->posts = json_object();
		c->channels = json_object();
		ps->n++;
		if (c->posts == NULL || c->channels == NULL)
			return -ENOMEM;
		/* No from: its first post, within a year of its end. */
		int64_t from =
		        c->from_ms >= 0 ? c->from_ms : c->end_ms - 366 * DAY_MS;
		if (from < *search_from)
			*search_from = from;
	}
	return 0;
}

static void camps_free(struct pass *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		json_decref(ps->c[i].posts);
		json_decref(ps->c[i].channels);
	}
	free(ps->c);
}

static int walk_audience(struct store *s, struct pass *ps, int64_t from,
                         int64_t now)
{
	struct audience_walk w = {.ps = ps};
	int r;

	w.base = calloc(ps->n + 1, sizeof(*w.base));
	w.last = calloc(ps->n + 1, sizeof(*w.last));
	if (w.base == NULL || w.last == NULL) {
		free(w.base);
		free(w.last);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ps->n; i++)
		w.base[i] = w.last[i] = -1;
	/* A day before: the sample the growth is counted from. */
	r = store_audience_rows(s, from - 2 * DAY_MS, now + 1, take_audience,
	                        &w);
	audience_flush(&w);
	free(w.base);
	free(w.last);
	return r == -ENOTSUP ? 0 : r;
}

int goals_progress(struct store *s, const struct goals_plan *plan,
                   int64_t now_ms, json_t **out)
{
	struct pass ps = {.now_ms = now_ms};
	int64_t from, today;
	json_t *arr;
	int r;

	if ((r = camps_init(&ps, plan, &from, &today)) < 0)
		goto done;
	if (ps.n > 0) {
		r = store_engage_totals(s, from, now_ms + 1, take_total, &ps);
		if (r == 0 || r == -ENOTSUP)
			r = walk_audience(s, &ps, from, now_ms);
		if (r < 0)
			goto done;
	}
	if ((arr = json_array()) == NULL) {
		r = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < ps.n; i++)
		json_array_append_new(arr, camp_json(&ps.c[i], now_ms, today));
	*out = json_pack("{s:o}", "goals", arr);
	r = *out ? 0 : -ENOMEM;
done:
	camps_free(&ps);
	return r;
}
