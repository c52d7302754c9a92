/*
 * The report's measures (report_measure.h): the range's delivery figures
 * (stats.c, from the stats index), one pass over the deliveries published
 * in the range with their latest engagement samples, one over the
 * audience samples, and the goals' progress (goals.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caltime.h"
#include "goals.h"
#include "report_measure.h"
#include "stats.h"
#include "store.h"
#include "wallclock.h"

/* Posts in the "top posts" table. */
#define TOP_POSTS 10

struct measure {
	const struct caltime_zone *z;
	json_t *by_key; /* "campaign\ndate" -> engagement row */
	json_t *engagement;
	json_t *posts; /* every post with a sample, for the top */
	json_t *audience;
	char last_key[320]; /* audience: the channel and day of the last row */
	int failed;
};

static void local_date(const struct caltime_zone *z, int64_t ms, char *buf,
                       size_t len)
{
	struct caltime_civil c;

	caltime_utc_to_local(z, ms / 1000, &c);
	snprintf(buf, len, "%04d-%02d-%02d", c.year, c.mon, c.day);
}

static int64_t plus(int64_t v)
{
	return v > 0 ? v : 0;
}

/* Add v to the row's key; a figure no post gave stays null. */
static void add_figure(json_t *row, const char *key, int64_t v)
{
	json_t *cur = json_object_get(row, key);

	if (v < 0)
		return;
	json_object_set_new(
	        row, key,
	        json_integer(v + (json_is_integer(cur) ? json_integer_value(cur)
	                                               : 0)));
}

static json_t *day_row(struct measure *m, const char *campaign,
                       const char *date)
{
	char key[320];
	json_t *row;

	snprintf(key, sizeof(key), "%s\n%s", campaign ? campaign : "", date);
	if ((row = json_object_get(m->by_key, key)) != NULL)
		return row;
	row = json_pack("{s:o, s:s, s:n, s:n, s:n, s:n, s:I}", "campaign",
	                campaign ? json_string(campaign) : json_null(), "date",
	                date, "likes", "shares", "comments", "views", "total",
	                (json_int_t)0);
	if (row == NULL || json_object_set(m->by_key, key, row) < 0 ||
	    json_array_append_new(m->engagement, row) < 0) {
		m->failed = 1;
		return NULL;
	}
	return row;
}

static void take_total(void *arg, const struct engage_total *t)
{
	struct measure *m = arg;
	int64_t total = plus(t->likes) + plus(t->shares) + plus(t->comments) +
	                plus(t->quotes);
	char date[16];
	json_t *row, *post;

	if (t->taken_ms < 0)
		return; /* nothing read yet */
	local_date(m->z, t->published_ms, date, sizeof(date));
	if ((row = day_row(m, t->campaign, date)) == NULL)
		return;
	add_figure(row, "likes", t->likes);
	add_figure(row, "shares", t->shares);
	add_figure(row, "comments", t->comments);
	add_figure(row, "views", t->views);
	add_figure(row, "total", total);
	post = json_pack(
	        "{s:s, s:s, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, "
	        "s:I}",
	        "id", t->id, "channel", t->channel, "campaign",
	        t->campaign ? json_string(t->campaign) : json_null(), "text",
	        report_text(t->text), "url",
	        t->remote_url ? json_string(t->remote_url) : json_null(),
	        "published_ms", (json_int_t)t->published_ms, "likes",
	        t->likes < 0 ? json_null() : json_integer(t->likes), "shares",
	        t->shares < 0 ? json_null() : json_integer(t->shares),
	        "comments",
	        t->comments < 0 ? json_null() : json_integer(t->comments),
	        "views", t->views < 0 ? json_null() : json_integer(t->views),
	        "total", (json_int_t)total);
	if (post == NULL || json_array_append_new(m->posts, post) < 0)
		m->failed = 1;
}

/* Rows come by channel, then time: a day's last sample replaces the rest. */
static void take_audience(void *arg, const char *channel, int64_t taken_ms,
                          int64_t followers)
{
	struct measure *m = arg;
	char date[16], key[320];
	json_t *row;

	local_date(m->z, taken_ms, date, sizeof(date));
	snprintf(key, sizeof(key), "%s\n%s", channel, date);
	if (strcmp(key, m->last_key) == 0) {
		row = json_array_get(m->audience,
		                     json_array_size(m->audience) - 1);
		json_object_set_new(row, "followers", json_integer(followers));
		return;
	}
	snprintf(m->last_key, sizeof(m->last_key), "%s", key);
	row = json_pack("{s:s, s:s, s:I}", "channel", channel, "date", date,
	                "followers", (json_int_t)followers);
	if (row == NULL || json_array_append_new(m->audience, row) < 0)
		m->failed = 1;
}

static int by_total(const void *a, const void *b)
{
	json_int_t x = json_integer_value(
	        json_object_get(*(json_t *const *)a, "total"));
	json_int_t y = json_integer_value(
	        json_object_get(*(json_t *const *)b, "total"));

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The TOP_POSTS with the most engagement, most first. */
static json_t *top_posts(json_t *posts)
{
	size_t n = json_array_size(posts);
	json_t **v = calloc(n + 1, sizeof(*v)), *top = json_array();

	if (v == NULL || top == NULL) {
		free(v);
		json_decref(top);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(posts, i);
	qsort(v, n, sizeof(*v), by_total);
	for (size_t i = 0; i < n && i < TOP_POSTS; i++)
		json_array_append(top, v[i]);
	free(v);
	return top;
}

/*
 * The range's figures as smmctl stats gives them, with the lateness
 * percentiles at the top, where the page's tiles read them.
 */
static json_t *summary(struct store *s, const struct caltime_zone *z,
                       int64_t since_ms, int64_t until_ms, int *err)
{
	struct stats_query q = {since_ms, until_ms, STATS_BY_NONE, z};
	struct stats_result r;
	json_t *all = NULL, *sum, *late;

	*err = store_stats_query(s, &q, &r);
	if (*err == 0 && (all = stats_json(&r)) == NULL)
		*err = -ENOMEM;
	stats_clear(&r);
	if (*err < 0)
		return NULL;
	sum = json_deep_copy(json_object_get(all, "total"));
	json_decref(all);
	if (sum == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	late = json_object_get(sum, "lateness_ms");
	json_object_set(sum, "lateness_p50_ms",
	                late ? json_object_get(late, "p50") : json_null());
	json_object_set(sum, "lateness_p99_ms",
	                late ? json_object_get(late, "p99") : json_null());
	return sum;
}

int report_measure(struct store *s, const struct goals_plan *plan,
                   const struct caltime_zone *z, int64_t since_ms,
                   int64_t until_ms, json_t *result)
{
	struct measure m = {.z = z};
	json_t *goals = NULL, *top, *sum;
	int r = -ENOMEM;

	m.by_key = json_object();
	m.engagement = json_array();
	m.posts = json_array();
	m.audience = json_array();
	if (!m.by_key || !m.engagement || !m.posts || !m.audience)
		goto out;
	if ((r = store_engage_totals(s, since_ms, until_ms, take_total, &m)) <
	            0 &&
	    r != -ENOTSUP)
		goto out;
	if ((r = store_audience_rows(s, since_ms, until_ms, take_audience,
	                             &m)) < 0 &&
	    r != -ENOTSUP)
		goto out;
	if ((r = goals_progress(s, plan, wallclock_now_ms(), &goals)) < 0)
		goto out;
	if ((sum = summary(s, z, since_ms, until_ms, &r)) == NULL)
		goto out;
	json_object_set_new(result, "summary", sum);
	r = -ENOMEM;
	if (m.failed || (top = top_posts(m.posts)) == NULL)
		goto out;
	json_object_set(result, "engagement", m.engagement);
	json_object_set_new(result, "top_posts", top);
	json_object_set(result, "audience", m.audience);
	json_object_set(result, "goals", json_object_get(goals, "goals"));
	r = 0;
out:
	json_decref(goals);
	json_decref(m.by_key);
	json_decref(m.engagement);
	json_decref(m.posts);
	json_decref(m.audience);
	return r;
}
