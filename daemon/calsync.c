#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "calsync.h"
#include "config.h"
#include "dispatch.h"
#include "log.h"
#include "postid.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"

/* What the store holds of one calendar delivery, for the diff. */
struct row {
	char *id;
	int state;
	int64_t due_ms;
	uint64_t hash;
	int removed;
	int seen;
};

/* Open addressing by id; sized once, never shrinks (one sync's life). */
struct rows {
	struct row *v;
	size_t cap; /* a power of two */
	size_t len;
};

struct sync {
	struct smmd *d;
	struct rows rows;
	int64_t now, from;
	struct calsync_summary *sum;
	int err;
	/* The post whose row this sync wrote last: a post's channels come
	 * one after another, and its row is written once. */
	char last_post[POSTID_MAX + 1];
};

static struct row *rows_slot(struct rows *t, const char *id)
{
	size_t i = (size_t)postid_hash(id) & (t->cap - 1);

	while (t->v[i].id && strcmp(t->v[i].id, id) != 0)
		i = (i + 1) & (t->cap - 1);
	return &t->v[i];
}

static int rows_grow(struct rows *t)
{
	struct rows bigger = {.cap = t->cap ? t->cap * 2 : 1024};

	if ((bigger.v = calloc(bigger.cap, sizeof(*bigger.v))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].id)
			*rows_slot(&bigger, t->v[i].id) = t->v[i];
	bigger.len = t->len;
	free(t->v);
	*t = bigger;
	return 0;
}

static void rows_free(struct rows *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].id);
	free(t->v);
}

static void collect(void *arg, const struct cal_row *r)
{
	struct sync *s = arg;
	struct row *slot;

	if (s->err)
		return;
	/* Keep the load under one half. */
	if ((s->rows.len + 1) * 2 > s->rows.cap && rows_grow(&s->rows) < 0) {
		s->err = -ENOMEM;
		return;
	}
	slot = rows_slot(&s->rows, r->id);
	if ((slot->id = strdup(r->id)) == NULL) {
		s->err = -ENOMEM;
		return;
	}
	slot->state = r->state;
	slot->due_ms = r->due_ms;
	slot->hash = r->hash;
	slot->removed = r->removed;
	s->rows.len++;
}

static int waiting(int state)
{
	return state == DS_SCHEDULED || state == DS_RETRY_WAIT;
}

/* Schedule a delivery the store now has as waiting at due_ms. */
static void schedule(struct sync *s, const char *id, int64_t due_ms)
{
	if (dispatch_schedule(s->d, id, due_ms) < 0)
		log_error("calendar: cannot queue '%s' (out of memory); it "
		          "goes out after a restart",
		          id);
}

static void on_delivery(void *arg, const struct cal_delivery *cd)
{
	struct sync *s = arg;
	struct row *row = s->rows.cap ? rows_slot(&s->rows, cd->id) : NULL;
	const struct cal_post *p = cd->post;
	char reason[160], at[TIME_RFC3339_LEN];
	struct cal_put put = {
	        .id = cd->id,
	        .post_id = cd->post_id,
	        .channel = cd->channel,
	        .base_text = p->text ? p->text : cd->text,
	        .base_link = p->link,
	        .base_media = p->media,
	        .campaign = cd->campaign,
	        /* Only what differs from the post: reads fall back to it. */
	        .text = cd->text == p->text ? NULL : cd->text,
	        .link = cd->link == p->link ? NULL : cd->link,
	        .media = cd->media == p->media ? NULL : cd->media,
	        .due_ms = cd->due_ms,
	        .hash = cd->hash,
	        .state = DS_SCHEDULED,
	};
	int add = row == NULL || row->id == NULL, reschedule = 0, r;

	if (s->err)
		return;
	if (!add) {
		row->seen = 1;
		if (waiting(row->state) && row->hash == cd->hash) {
			s->sum->unchanged++;
			return;
		}
		if (!waiting(row->state) && !row->removed) {
			/* History: published, failed, unknown, missed... */
			s->sum->unchanged++;
			return;
		}
		reschedule = row->removed || row->due_ms != cd->due_ms;
	}
	/* Already too late to post, and not ours to post late. */
	if ((add || reschedule) && cd->due_ms < s->from) {
		put.state = DS_MISSED;
		snprintf(reason, sizeof(reason),
		         "due at %s, already past the catch-up window when the "
		         "calendar was read",
		         time_format_rfc3339(cd->due_ms, at));
		put.reason = reason;
	}
	if (strcmp(s->last_post, cd->post_id) != 0) {
		if ((r = store_calendar_post(s->d->store, &put, s->now)) < 0) {
			s->err = r;
			return;
		}
		snprintf(s->last_post, sizeof(s->last_post), "%s", cd->post_id);
	}
	if ((r = store_calendar_put(s->d->store, &put, add, reschedule,
	                            s->now)) < 0) {
		s->err = r;
		return;
	}
	if (put.state == DS_MISSED) {
		s->sum->missed++;
		log_warnx("calendar: delivery '%s' %s: missed", cd->id, reason);
		if (!add)
			dispatch_unschedule(s->d, cd->id);
		return;
	}
	if (add || (row && row->removed))
		s->sum->added++;
	else
		s->sum->updated++;
	schedule(s, cd->id, cd->due_ms);
}

int calsync_apply(struct smmd *d, const struct calendar *cal, int64_t now_ms,
                  struct calsync_summary *out)
{
	struct sync s = {
	        .d = d,
	        .now = now_ms,
	        .from = now_ms - d->cfg->catch_up_ms,
	        .sum = out,
	};
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_calendar_rows(d->store, collect, &s)) < 0 || s.err)
		goto done;
	if (calendar_expand(cal, s.from, now_ms + d->cfg->horizon_ms,
	                    on_delivery, &s) < 0 &&
	    s.err == 0)
		s.err = -EINVAL;
	if (s.err)
		goto done;
	/*
	 * What the calendar no longer asks for is cancelled, if it still
	 * waits. Entries older than the window were not expanded: catch-up
	 * judges those, not the diff.
	 */
	for (size_t i = 0; i < s.rows.cap; i++) {
		struct row *row = &s.rows.v[i];

		if (row->id == NULL || row->seen || !waiting(row->state) ||
		    row->due_ms < s.from)
			continue;
		if ((r = store_mark_settled(d->store, row->id, DS_CANCELLED,
		                            CAL_REMOVED, now_ms)) < 0) {
			s.err = r;
			break;
		}
		if (r > 0) {
			dispatch_unschedule(d, row->id);
			out->cancelled++;
		}
	}
done:
	rows_free(&s.rows);
	return r < 0 ? r : s.err;
}

json_t *calsync_summary_json(const struct calsync_summary *sum)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:i}", "added", sum->added,
	                 "updated", sum->updated, "cancelled", sum->cancelled,
	                 "unchanged", sum->unchanged, "missed", sum->missed);
}
