/*
 * report: what was planned over a range of days and what became of it,
 * day by day in the calendar's zone, for smmctl report's HTML page. One
 * read of the due-time index (store_due_rows) over the range, then the
 * texts of the few posts listed; what the posts achieved (engagement,
 * top posts, audience, goals) is report_measure.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caltime.h"
#include "command.h"
#include "goals.h"
#include "report_measure.h"
#include "smm/protocol.h"
#include "smmd.h"
#include "store.h"
#include "text.h"
#include "timeparse.h"
#include "view.h"
#include "wallclock.h"

#define REPORT_MAX_DAYS      366
#define REPORT_POSTS_PER_DAY 6
#define REPORT_PROBLEMS_MAX  100
#define REPORT_TEXT_CHARS    80
#define DAY_MS               (24LL * 60 * 60 * 1000)

/* The counts of a day, by what became of its deliveries. */
static const char *const report_keys[] = {
        "planned", "published", "failed",    "held",    "skipped",
        "missed",  "unknown",   "cancelled", "waiting",
};
#define REPORT_NKEYS (sizeof(report_keys) / sizeof(report_keys[0]))

struct report_day {
	int64_t start_ms; /* its local midnight (or the range's start) */
	json_t *obj;      /* {"date", counts..., "by_channel", "posts"} */
	unsigned listed;  /* posts in "posts" */
	unsigned more;    /* ... and left out */
};

struct report {
	const struct caltime_zone *zone;
	int64_t since_ms, until_ms;
	/* A range of REPORT_MAX_DAYS touches one more local day, or two. */
	struct report_day days[REPORT_MAX_DAYS + 2];
	size_t ndays;
	size_t cur; /* the day of the last row: rows come by due time */
	json_t *problems;
	unsigned problems_more;
	int failed; /* out of memory on the way */
};

/* The count key a delivery state falls under (besides "planned"). */
static const char *report_key(int state)
{
	switch (state) {
	case DS_PUBLISHED:
		return "published";
	case DS_FAILED:
		return "failed";
	case DS_HELD:
		return "held";
	case DS_SKIPPED:
		return "skipped";
	case DS_MISSED:
		return "missed";
	case DS_UNKNOWN:
		return "unknown";
	case DS_CANCELLED:
		return "cancelled";
	default:
		return "waiting"; /* scheduled, on its way, draft */
	}
}

/* {"planned": 0, ...}: every key, so a reader never guesses a default. */
static json_t *report_counts(void)
{
	json_t *c = json_object();

	for (size_t i = 0; c && i < REPORT_NKEYS; i++)
		if (json_object_set_new(c, report_keys[i], json_integer(0)) <
		    0) {
			json_decref(c);
			return NULL;
		}
	return c;
}

/* counts[key] + 1; a key it lacks starts at 1. -1 out of memory. */
static int report_bump(json_t *counts, const char *key)
{
	json_t *v = json_object_get(counts, key);

	if (v == NULL)
		return json_object_set_new(counts, key, json_integer(1));
	return json_integer_set(v, json_integer_value(v) + 1);
}

/* The local date of day number days since 1970-01-01: "2026-11-01". */
static void report_date(int64_t days, char *buf, size_t len)
{
	int y, m, d;

	caltime_civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

/*
 * One entry per local day the range touches, each with its counts: the
 * first starts at the range's start, the others at their midnight.
 */
static int report_days(struct report *rp)
{
	struct caltime_civil c;
	int64_t day, end;
	char date[16];

	caltime_utc_to_local(rp->zone, rp->since_ms / 1000, &c);
	day = caltime_days(c.year, c.mon, c.day);
	for (int64_t start = rp->since_ms; start < rp->until_ms;
	     start = end, day++) {
		struct report_day *dy;
		int y, m, d;

		if (rp->ndays == REPORT_MAX_DAYS + 2)
			return -E2BIG;
		caltime_civil_from_days(day + 1, &y, &m, &d);
		end = caltime_local_to_utc(rp->zone, y, m, d, 0, 0, 0) * 1000;
		dy = &rp->days[rp->ndays++];
		dy->start_ms = start;
		report_date(day, date, sizeof(date));
		dy->obj = report_counts();
		if (dy->obj == NULL ||
		    json_object_set_new(dy->obj, "date", json_string(date)) <
		            0 ||
		    json_object_set_new(dy->obj, "by_channel", json_object()) <
		            0 ||
		    json_object_set_new(dy->obj, "posts", json_array()) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* "09:30": the local time of ms. */
static void report_clock(const struct report *rp, int64_t ms, char *buf,
                         size_t len)
{
	int64_t s = ms / 1000 - (ms % 1000 < 0);
	int64_t local = s + caltime_utc_offset(rp->zone, s);
	int64_t sec = ((local % 86400) + 86400) % 86400;

	snprintf(buf, len, "%02d:%02d", (int)(sec / 3600),
	         (int)(sec / 60 % 60));
}

/* The first line of text, at most REPORT_TEXT_CHARS characters. */
json_t *report_text(const char *text)
{
	json_t *whole, *cut;
	const char *v;

	if (text == NULL)
		return json_null();
	/* Patched first where it is not UTF-8, then cut. */
	whole = view_json_string(text);
	if (!json_is_string(whole))
		return whole;
	v = json_string_value(whole);
	cut = json_stringn(
	        v, text_cut_chars(v, strcspn(v, "\n"), REPORT_TEXT_CHARS));
	json_decref(whole);
	return cut ? cut : json_null();
}

/* A day's post line, while the day has room for one; its text later. */
static int report_post(struct report *rp, struct report_day *dy,
                       const struct due_row *r)
{
	char hhmm[8];

	if (r->state == DS_CANCELLED)
		return 0;
	if (dy->listed == REPORT_POSTS_PER_DAY) {
		dy->more++;
		return 0;
	}
	dy->listed++;
	report_clock(rp, r->due_ms, hhmm, sizeof(hhmm));
	return json_array_append_new(
	        json_object_get(dy->obj, "posts"),
	        json_pack("{s:o, s:o, s:s, s:s, s:n}", "id",
	                  view_json_string(r->id), "channel",
	                  view_json_string(r->channel), "time", hhmm, "state",
	                  state_name(r->state), "text"));
}

/* A delivery that did not go out as planned, with why. */
static int report_problem(struct report *rp, const struct due_row *r)
{
	switch (r->state) {
	case DS_FAILED:
	case DS_HELD:
	case DS_SKIPPED:
	case DS_MISSED:
	case DS_UNKNOWN:
		break;
	default:
		return 0;
	}
	if (json_array_size(rp->problems) == REPORT_PROBLEMS_MAX) {
		rp->problems_more++;
		return 0;
	}
	return json_array_append_new(
	        rp->problems,
	        json_pack("{s:o, s:o, s:I, s:s, s:o}", "id",
	                  view_json_string(r->id), "channel",
	                  view_json_string(r->channel), "due_ms",
	                  (json_int_t)r->due_ms, "state", state_name(r->state),
	                  "reason", view_json_string(r->last_error)));
}

/* One delivery of the range, counted on its day. */
static void report_row(void *arg, const struct due_row *r)
{
	struct report *rp = arg;
	struct report_day *dy;
	json_t *byc, *ch;
	const char *key = report_key(r->state);

	if (rp->failed)
		return;
	while (rp->cur + 1 < rp->ndays &&
	       r->due_ms >= rp->days[rp->cur + 1].start_ms)
		rp->cur++;
	dy = &rp->days[rp->cur];
	byc = json_object_get(dy->obj, "by_channel");
	/* Per channel only what is not zero: a day may have 1,000 channels. */
	if ((ch = json_object_get(byc, r->channel)) == NULL &&
	    ((ch = json_object()) == NULL ||
	     json_object_set_new(byc, r->channel, ch) < 0)) {
		rp->failed = 1;
		return;
	}
	if (r->state != DS_CANCELLED && (report_bump(dy->obj, "planned") < 0 ||
	                                 report_bump(ch, "planned") < 0))
		rp->failed = 1;
	if (report_bump(dy->obj, key) < 0 || report_bump(ch, key) < 0)
		rp->failed = 1;
	if (report_post(rp, dy, r) < 0 || report_problem(rp, r) < 0)
		rp->failed = 1;
}

/* The listed posts' texts: a few lookups a day, not one per delivery. */
static int report_texts(struct store *s, struct report *rp)
{
	for (size_t i = 0; i < rp->ndays; i++) {
		json_t *p, *posts = json_object_get(rp->days[i].obj, "posts");
		size_t k;

		json_array_foreach (posts, k, p) {
			struct delivery_rec rec;
			int r = store_delivery_load(
			        s, json_string_value(json_object_get(p, "id")),
			        &rec);

			if (r == -ENOENT)
				continue; /* gone since: no text */
			if (r < 0)
				return r;
			r = json_object_set_new(p, "text",
			                        report_text(rec.text));
			store_delivery_clear(&rec);
			if (r < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* The days as JSON, each with "more" where posts were left out. */
static json_t *report_days_json(struct report *rp)
{
	json_t *days = json_array();

	for (size_t i = 0; i < rp->ndays; i++) {
		struct report_day *dy = &rp->days[i];

		if (dy->more)
			json_object_set_new(dy->obj, "more",
			                    json_integer(dy->more));
		if (days == NULL || json_array_append(days, dy->obj) < 0) {
			json_decref(days);
			return NULL;
		}
	}
	return days;
}

/* Midnight of the first of month mon (may be 13) of year, in the zone. */
static int64_t report_month_start(const struct caltime_zone *z, int year,
                                  int mon)
{
	if (mon > 12) {
		year++;
		mon -= 12;
	}
	return caltime_local_to_utc(z, year, mon, 1, 0, 0, 0) * 1000;
}

/*
 * The range the request names: "month" (YYYY-MM), or "since" and
 * "until" (RFC 3339), each defaulting to the edges of this month (until:
 * of since's month, when that is later).
 */
static int report_range(struct cmd_ctx *x, struct report *rp)
{
	const char *month;
	struct caltime_civil now;
	int y, m, n = 0;
	char err[128];

	caltime_utc_to_local(rp->zone, wallclock_now_ms() / 1000, &now);
	y = now.year;
	m = now.mon;
	if (cmd_arg_string(x, "month", &month, 0) < 0)
		return -1;
	if (month && (json_object_get(x->args, "since") ||
	              json_object_get(x->args, "until")))
		return cmd_fail(
		        x, SMM_ERR_INVALID_ARGUMENT,
		        "give 'month' or 'since' and 'until', not both");
	if (month && (sscanf(month, "%4d-%2d%n", &y, &m, &n) != 2 || n != 7 ||
	              month[n] != '\0' ||
	              time_check_date(y, m, 1, err, sizeof(err)) < 0))
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'month': '%.32s' is not a month (YYYY-MM)",
		                month);
	rp->since_ms = report_month_start(rp->zone, y, m);
	rp->until_ms = report_month_start(rp->zone, y, m + 1);
	if (cmd_arg_time(x, "since", &rp->since_ms) < 0)
		return -1;
	/* From a later month alone: to that month's end. */
	if (json_object_get(x->args, "until") == NULL &&
	    rp->since_ms >= rp->until_ms) {
		caltime_utc_to_local(rp->zone, rp->since_ms / 1000, &now);
		rp->until_ms =
		        report_month_start(rp->zone, now.year, now.mon + 1);
	}
	if (cmd_arg_time(x, "until", &rp->until_ms) < 0)
		return -1;
	if (rp->until_ms <= rp->since_ms)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "'until' must come after 'since'");
	if (rp->until_ms - rp->since_ms > REPORT_MAX_DAYS * DAY_MS)
		return cmd_fail(x, SMM_ERR_INVALID_ARGUMENT,
		                "a report covers at most %d days",
		                REPORT_MAX_DAYS);
	return 0;
}

/* The reply: the contract smmctl report renders (see smmctl(1)). */
static json_t *report_json(struct report *rp, const char *zone)
{
	json_t *days = report_days_json(rp);

	if (days == NULL)
		return NULL;
	return json_pack("{s:I, s:I, s:I, s:s, s:o, s:n, s:[], s:[], s:[], "
	                 "s:[], s:O, s:I}",
	                 "since_ms", (json_int_t)rp->since_ms, "until_ms",
	                 (json_int_t)rp->until_ms, "generated_ms",
	                 (json_int_t)wallclock_now_ms(), "zone", zone, "days",
	                 days, "summary", "engagement", "top_posts", "goals",
	                 "audience", "problems", rp->problems, "problems_more",
	                 (json_int_t)rp->problems_more);
}

static void report_clear(struct report *rp)
{
	if (rp == NULL)
		return;
	for (size_t i = 0; i < rp->ndays; i++)
		json_decref(rp->days[i].obj);
	json_decref(rp->problems);
	free(rp);
}

/* What the worker needs: the range, its zone, a copy of the goals. */
struct report_job {
	struct cmd_read base; /* first: the job is freed as this */
	struct report *rp;
	char *zone; /* the name rp->zone was found by */
	struct goals_plan *plan;
};

static void report_job_free(struct cmd_read *base)
{
	struct report_job *j = (struct report_job *)base;

	report_clear(j->rp);
	free(j->zone);
	goals_plan_free(j->plan);
	free(j);
}

/* On a worker thread (cmd_read.c): every read, the reply built. */
static enum cmd_retval report_build(struct cmd_ctx *x, struct store *s,
                                    struct report_job *j)
{
	struct report *rp = j->rp;
	int r;

	if ((r = report_days(rp)) < 0 ||
	    (r = store_due_rows(s, rp->since_ms, rp->until_ms, report_row,
	                        rp)) < 0 ||
	    (r = rp->failed ? -ENOMEM : 0) < 0 || (r = report_texts(s, rp)) < 0)
		return cmd_store_error(x, r, "read");
	if ((*x->result = report_json(rp, j->zone)) == NULL)
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	if ((r = report_measure(s, j->plan, rp->zone, rp->since_ms,
	                        rp->until_ms, *x->result)) < 0)
		return cmd_store_error(x, r, "read");
	return CMD_DONE;
}

/*
 * The days' objects, shared with the reply, are let go here too: the
 * reply is encoded and freed off the loop, and so are they.
 */
static enum cmd_retval report_read(struct cmd_ctx *x, struct store *s,
                                   struct cmd_read *base)
{
	struct report_job *j = (struct report_job *)base;
	enum cmd_retval r = report_build(x, s, j);

	report_clear(j->rp);
	j->rp = NULL;
	return r;
}

/*
 * The request read on the loop; the reads, a busy month's 185,000
 * deliveries and their samples, on a worker thread.
 */
static enum cmd_retval cmd_report(struct cmd_ctx *x)
{
	struct report_job *j = calloc(1, sizeof(*j));
	const char *cal = x->d->calendar_zone;

	if (j == NULL || (j->rp = calloc(1, sizeof(*j->rp))) == NULL ||
	    (j->rp->problems = json_array()) == NULL ||
	    (j->zone = cal ? strdup(cal) : caltime_system_zone_name()) ==
	            NULL ||
	    (j->plan = goals_plan_new(x->d->plan_book)) == NULL) {
		if (j)
			report_job_free(&j->base);
		return cmd_fail(x, SMM_ERR_INTERNAL, "out of memory");
	}
	j->base.run = report_read;
	j->base.free = report_job_free;
	if ((j->rp->zone = caltime_zone(j->zone)) == NULL) {
		free(j->zone);
		if ((j->zone = strdup("UTC")) == NULL ||
		    (j->rp->zone = caltime_zone(j->zone)) == NULL) {
			report_job_free(&j->base);
			return cmd_fail(x, SMM_ERR_INTERNAL,
			                "no time zone database");
		}
	}
	if (report_range(x, j->rp) < 0) {
		report_job_free(&j->base);
		return CMD_ERROR;
	}
	return cmd_read_later(x, &j->base);
}

const struct cmd_entry cmd_report_entry = {
        .name = "report",
        .flags = CMD_OFFLOOP,
        .run = cmd_report,
        .help = "a range of days: what was planned, what went out, problems",
};
