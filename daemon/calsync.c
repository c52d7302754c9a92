#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "calsync.h"
#include "config.h"
#include "dispatch.h"
#include "events.h"
#include "hashtab.h"
#include "log.h"
#include "pause.h"
#include "postid.h"
#include "queue.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"
#include "wallclock.h"

/*
 * What the store holds of one calendar delivery, for the diff. A large
 * calendar has 100,000s of them alive at once next to the parsed calendar:
 * kept small, ids packed in one buffer.
 */
struct row {
	int64_t due_ms;
	uint64_t hash;
	uint32_t id_off; /* into rows.ids */
	int8_t state;
	uint8_t removed;
	uint8_t seen;
	uint8_t needs_approval;
	uint8_t approved;
};

/* Rows in store order, found by id through an index. */
struct rows {
	struct row *v;
	size_t len, cap;
	char *ids; /* NUL-terminated ids, one after another */
	size_t ids_len, ids_cap;
	struct hashtab index; /* values: positions in v */
};

struct sync {
	struct smmd *d;
	struct rows *rows;
	int64_t now, from;
	struct calsync_summary *sum;
	int err;
	/* The post whose row this sync wrote last: a post's channels come
	 * one after another, and its row is written once. */
	char last_post[POSTID_MAX + 1];
	/* An 'at: next-slot' post's instant, once known, for its others. */
	char slot_post[POSTID_MAX + 1];
	int64_t slot_ms;
};

static const char *row_id(const struct rows *t, const struct row *r)
{
	return t->ids + r->id_off;
}

/* The id of the row at position val, for the index. */
static const char *rows_key(const void *ctx, uint32_t val)
{
	const struct rows *t = ctx;

	return row_id(t, &t->v[val]);
}

static struct row *rows_find(const struct rows *t, const char *id)
{
	uint32_t i;

	return hashtab_find(&t->index, id, &i) ? &t->v[i] : NULL;
}

/* v with room for need elements (v itself if it has), or NULL. */
static void *room(void *v, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 1024;

	if (need <= *cap)
		return v;
	while (n < need)
		n *= 2;
	if ((v = realloc(v, n * size)) != NULL)
		*cap = n;
	return v;
}

static int rows_add(struct rows *t, const struct cal_row *r)
{
	size_t n = strlen(r->id) + 1;
	struct row *row;
	char *ids;

	if (t->len >= UINT32_MAX - 1 || t->ids_len + n > UINT32_MAX)
		return -ENOMEM;
	if ((row = room(t->v, &t->cap, t->len + 1, sizeof(*row))) == NULL)
		return -ENOMEM;
	t->v = row;
	if ((ids = room(t->ids, &t->ids_cap, t->ids_len + n, 1)) == NULL)
		return -ENOMEM;
	t->ids = ids;
	row = &t->v[t->len];
	*row = (struct row){
	        .due_ms = r->due_ms,
	        .hash = r->hash,
	        .id_off = (uint32_t)t->ids_len,
	        .state = (int8_t)r->state,
	        .removed = r->removed != 0,
	        .needs_approval = r->needs_approval != 0,
	        .approved = r->approved != 0,
	};
	memcpy(t->ids + t->ids_len, r->id, n);
	t->ids_len += n;
	if (hashtab_add(&t->index, t->len) < 0)
		return -ENOMEM;
	t->len++;
	return 0;
}

static void rows_free(struct rows *t)
{
	free(t->v);
	free(t->ids);
	hashtab_free(&t->index);
}

/* The whole snapshot: the store's calendar rows, and whether all came. */
struct calsync_rows {
	struct rows rows;
	int err;
};

static void collect(void *arg, const struct cal_row *r)
{
	struct calsync_rows *cr = arg;

	if (cr->err == 0 && rows_add(&cr->rows, r) < 0)
		cr->err = -ENOMEM;
}

int calsync_rows_read(struct store *st, struct calsync_rows **out)
{
	struct calsync_rows *cr = calloc(1, sizeof(*cr));
	int r;

	*out = NULL;
	if (cr == NULL)
		return -ENOMEM;
	hashtab_init(&cr->rows.index, rows_key, &cr->rows);
	if ((r = store_calendar_rows(st, collect, cr)) < 0 ||
	    (r = cr->err) < 0) {
		calsync_rows_free(cr);
		return r;
	}
	*out = cr;
	return 0;
}

void calsync_rows_free(struct calsync_rows *cr)
{
	if (cr == NULL)
		return;
	rows_free(&cr->rows);
	free(cr);
}

/* The row as the loop's store has it now, over the snapshot's. */
struct refresh {
	struct rows *rows;
	struct row *row;
	int err;
};

static void refreshed(void *arg, const struct cal_row *r)
{
	struct refresh *f = arg;

	if (f->row == NULL) {
		if (rows_add(f->rows, r) < 0) {
			f->err = -ENOMEM;
			return;
		}
		f->row = &f->rows->v[f->rows->len - 1];
	}
	f->row->due_ms = r->due_ms;
	f->row->hash = r->hash;
	f->row->state = (int8_t)r->state;
	f->row->removed = r->removed != 0;
	f->row->needs_approval = r->needs_approval != 0;
	f->row->approved = r->approved != 0;
}

static int waiting(int state)
{
	return state == DS_SCHEDULED || state == DS_RETRY_WAIT ||
	       state == DS_DRAFT;
}

/*
 * Schedule a delivery the store now has as waiting (in state) at due_ms,
 * or at the end of a blackout that covers it.
 */
static void schedule(struct sync *s, const struct cal_delivery *cd, int state,
                     int64_t due_ms)
{
	struct blackout_place bp;

	if (dispatch_schedule(s->d, cd->id, due_ms) < 0)
		log_error("calendar: cannot queue '%s' (out of memory); it "
		          "goes out after a restart",
		          cd->id);
	pause_blackout_place(s->d,
	                     &(struct blackout_ask){.id = cd->id,
	                                            .channel = cd->channel,
	                                            .campaign = cd->campaign,
	                                            .source = "calendar",
	                                            .state = state,
	                                            .at = due_ms},
	                     EVO_CALENDAR, s->now, &bp);
}

/*
 * An 'at: next-slot' post's instant: where it was placed already (one of
 * its deliveries is stored: placed once, never moved, not even when the
 * slot goes away), else the first free slot of all its channels. -1 when
 * there is none, said once.
 */
static int64_t slot_of(struct sync *s, const struct cal_delivery *cd,
                       const struct row *row)
{
	const struct cal_post *p = cd->post;
	char err[256];

	if (strcmp(s->slot_post, cd->post_id) != 0) {
		snprintf(s->slot_post, sizeof(s->slot_post), "%s", cd->post_id);
		s->slot_ms = -1;
	}
	if (row)
		s->slot_ms = row->due_ms;
	if (s->slot_ms < 0) {
		s->slot_ms = queue_pick(s->d, (const char *const *)p->channels,
		                        p->nchannels, p->campaign, s->now, NULL,
		                        err, sizeof(err));
		if (s->slot_ms < 0)
			log_error("calendar: post '%s' at next-slot: %s; not "
			          "scheduled",
			          cd->post_id, err);
	}
	return s->slot_ms;
}

/*
 * An approved delivery the calendar changed: its approval is withdrawn.
 * Logged as an event, and audited as done by smmd (the edit's author is
 * git's to say).
 */
static void withdrawn(struct sync *s, const char *id, int from, int to,
                      int64_t due, int moved)
{
	struct pause_actor smmd = {.uid = -1, .user = "smmd"};
	const char *why = moved ? "its time changed in the calendar"
	                        : "its text, link, media or campaign changed "
	                          "in the calendar";
	json_t *detail = json_pack("{ss}", "id", id);

	events_emit(s->d->events, &(struct delivery_event){
	                                  .kind = EV_UNAPPROVED,
	                                  .origin = EVO_CALENDAR,
	                                  .id = id,
	                                  .from = from,
	                                  .to = (enum delivery_state)to,
	                                  .next_ms = due,
	                                  .latency_ms = -1,
	                                  .reason = why,
	                          });
	pause_audit(s->d, &smmd, "unapprove", NULL, why, detail);
	json_decref(detail);
}

/*
 * Beside workers: a delivery another node fires, due (or to be retried,
 * or a draft, which that node's gate holds at its time) within
 * CALSYNC_GUARD_MS of now either way. That node may be preparing it this
 * moment (written publishing 50 ms ahead), which this node's view learns
 * up to a beat later: an edit or a cancel written now would find the row
 * changed, and one of the two nodes would have its writes refused and
 * start afresh in place. It is left for the next sync, CALSYNC_RESYNC_MS
 * later (reload.c): by then it has gone out (history, left alone), or it
 * still waits and the change is made. A command, unlike a sync, is run by
 * the node that fires the channel (route.c).
 */
static int due_elsewhere(struct sync *s, const char *id, const char *channel,
                         const struct row *row)
{
	/* Now, not the sync's start: a long sync's last rows come later. */
	int64_t now = wallclock_now_ms(), at = row->due_ms;
	struct delivery_rec rec;

	if (!waiting(row->state) ||
	    !store_fired_elsewhere(s->d->store, channel))
		return 0;
	/* A retry goes at its next attempt's time, not its due time. */
	if (row->state == DS_RETRY_WAIT &&
	    store_delivery_load(s->d->store, id, &rec) == 0) {
		at = rec.next_ms >= 0 ? rec.next_ms : rec.due_ms;
		store_delivery_clear(&rec);
	}
	if (at < now - CALSYNC_GUARD_MS || at > now + CALSYNC_GUARD_MS)
		return 0;
	log_info("calendar: '%s' is due this moment on channel '%s', which "
	         "another node fires: its change waits for the next sync, "
	         "in %d s",
	         id, channel, CALSYNC_RESYNC_MS / 1000);
	s->sum->deferred++;
	return 1;
}

/* The post's own row, written once per post per sync. 0 or -errno. */
static int post_row(struct sync *s, const struct cal_put *put)
{
	int r;

	if (strcmp(s->last_post, put->post_id) == 0)
		return 0;
	if ((r = store_calendar_post(s->d->store, put, s->now)) < 0)
		return r;
	snprintf(s->last_post, sizeof(s->last_post), "%s", put->post_id);
	return 0;
}

/* As its channel says now: a reload may turn approvals on or off. */
static int requires_approval(const struct config *cfg, const char *channel)
{
	const struct channel *ch = config_channel(cfg, channel);

	return ch && ch->require_approval;
}

/*
 * The state a delivery the calendar asks for should wait in (put->state:
 * a draft where its channel requires approval and it has none), and
 * whether to set it: a new or moved one takes it; one that stays put
 * moves only between draft and scheduled, and one waiting for a retry
 * only when an edit withdraws its approval.
 */
static int waiting_state(const struct row *row, int moved, struct cal_put *put)
{
	int approved = row && row->approved && !put->withdraw;

	put->state = put->needs_approval && !approved ? DS_DRAFT : DS_SCHEDULED;
	if (row == NULL || moved)
		return 1;
	if (row->state == DS_RETRY_WAIT)
		return put->withdraw;
	return row->state != (int)put->state;
}

/*
 * A held delivery (paused, or due and awaiting an approval) the calendar
 * changed: it takes the new text, link, media and time and stays held, so
 * whoever releases or approves it sends what the calendar says now; an
 * edit withdraws its approval, as for a waiting one. 0 or -errno
 * (-ESTALE: the row moved on since the snapshot).
 */
static int held_edit(struct sync *s, const struct cal_delivery *cd,
                     const struct row *row, struct cal_put *put, int64_t due)
{
	int r;

	put->withdraw =
	        put->needs_approval && row->approved && row->hash != cd->hash;
	put->state = DS_HELD;
	if ((r = post_row(s, put)) < 0 ||
	    (r = store_calendar_put(s->d->store, put, 0, 0, s->now)) < 0)
		return r;
	if (put->withdraw)
		withdrawn(s, cd->id, DS_HELD, DS_HELD, due, row->due_ms != due);
	s->sum->updated++;
	return 0;
}

/*
 * Whether a stored row the calendar still asks for (with hash, on a
 * channel that does or does not require approval) needs no write: it
 * waits or is held as the calendar says, or it is history (published,
 * failed, unknown, missed) the calendar did not drop before.
 */
static int quiet(const struct row *row, uint64_t hash, int needs_approval)
{
	int same = row->hash == hash && row->needs_approval == needs_approval;

	if (waiting(row->state) || (row->state == DS_HELD && !row->removed))
		return same;
	return !row->removed;
}

/*
 * A stored row the calendar still asks for, when nothing is left to do
 * but count it (quiet) or edit it where it is held (held_edit). 1 then,
 * 0 when it is to be updated, or -errno.
 */
static int settled(struct sync *s, const struct cal_delivery *cd,
                   struct row *row, struct cal_put *put, int64_t due)
{
	int r;

	row->seen = 1;
	if (quiet(row, cd->hash, put->needs_approval)) {
		s->sum->unchanged++;
		return 1;
	}
	if (row->state == DS_HELD && !row->removed)
		return (r = held_edit(s, cd, row, put, due)) < 0 ? r : 1;
	return 0;
}

/* What the calendar asks of cd, before the store is looked at. */
static struct cal_put put_of(const struct cal_delivery *cd)
{
	const struct cal_post *p = cd->post;

	return (struct cal_put){
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
	};
}

/* Once written: the event, the counts and the schedule. */
static void written(struct sync *s, const struct cal_delivery *cd,
                    const struct row *row, const struct cal_put *put,
                    int reschedule, int moved, int64_t due)
{
	int add = row == NULL;

	if (put->withdraw && put->state != DS_MISSED)
		withdrawn(s, cd->id, row->state, put->state, due, moved);
	else if (reschedule)
		events_change(s->d->events, EVO_CALENDAR, cd->id,
		              add ? -1 : row->state, put->state,
		              put->state == DS_MISSED ? -1 : due, put->reason);
	if (put->state == DS_MISSED) {
		s->sum->missed++;
		if (!add)
			dispatch_unschedule(s->d, cd->id);
		return;
	}
	if (add || row->removed)
		s->sum->added++;
	else
		s->sum->updated++;
	schedule(s, cd, put->state, due);
}

/* Bring cd's delivery in line: 0, or -errno (-ESTALE: see on_delivery). */
static int sync_one(struct sync *s, const struct cal_delivery *cd)
{
	struct row *row = rows_find(s->rows, cd->id);
	char reason[160], at[TIME_RFC3339_LEN];
	struct cal_put put = put_of(cd);
	int add = row == NULL, reschedule, moved = 0, r;
	int64_t due = cd->due_ms;

	if (cd->post->next_slot && (due = put.due_ms = slot_of(s, cd, row)) < 0)
		return 0;
	put.needs_approval = requires_approval(s->d->cfg, cd->channel);
	if (!add) {
		put.expect = 1;
		put.expect_state = (enum delivery_state)row->state;
		put.expect_approved = row->approved;
		if ((r = settled(s, cd, row, &put, due)) != 0)
			return r < 0 ? r : 0;
		if (due_elsewhere(s, cd->id, cd->channel, row))
			return 0;
		moved = row->removed || row->due_ms != due;
	}
	/* An edit withdraws an approval; nothing else does. */
	put.withdraw = row && put.needs_approval && row->approved &&
	               row->hash != cd->hash;
	reschedule = waiting_state(row, moved, &put);
	/* Already too late to post, and not ours to post late. */
	if ((add || moved) && due < s->from) {
		put.state = DS_MISSED;
		snprintf(reason, sizeof(reason),
		         "due at %s, already past the catch-up window when the "
		         "calendar was read",
		         time_format_rfc3339(due, at));
		put.reason = reason;
	}
	if ((r = post_row(s, &put)) < 0 ||
	    (r = store_calendar_put(s->d->store, &put, add, reschedule,
	                            s->now)) < 0)
		return r;
	written(s, cd, row, &put, reschedule, moved, due);
	return 0;
}

/* cd's row as the loop's store has it now, into s->rows. 0 or -errno. */
static int refresh_row(struct sync *s, const char *id)
{
	struct refresh f = {.rows = s->rows, .row = rows_find(s->rows, id)};
	int r = store_calendar_row(s->d->store, id, refreshed, &f);

	return r < 0 ? r : f.err;
}

/*
 * The rows may be a snapshot taken off the loop while the reload parsed:
 * a delivery may have moved on since (published, approved, released). A
 * write that finds its row otherwise than the snapshot said changes
 * nothing and says -ESTALE: the row is read again and decided anew.
 */
static void on_delivery(void *arg, const struct cal_delivery *cd)
{
	struct sync *s = arg;
	int r;

	if (s->err)
		return;
	if ((r = sync_one(s, cd)) == -ESTALE &&
	    (r = refresh_row(s, cd->id)) == 0)
		r = sync_one(s, cd);
	if (r < 0)
		s->err = r == -ESTALE ? -EIO : r;
}

/*
 * Whether a row may be one the calendar dropped and a sync must cancel:
 * not asked for, still waiting, and within the window expanded from.
 */
static int dropped(const struct row *row, int64_t from)
{
	return !row->seen && waiting(row->state) && row->due_ms >= from;
}

/*
 * The row at position i, which the calendar no longer asks for, is
 * cancelled if it still waits. Entries older than the window were not
 * expanded: catch-up judges those, not the diff. From a snapshot, it is
 * read again first: the event must say the state it leaves. 0 or -errno.
 */
static int cancel_dropped(struct sync *s, size_t i, int snapshot)
{
	struct row *row = &s->rows->v[i];
	const char *id = row_id(s->rows, row);
	int r;

	if (!dropped(row, s->from))
		return 0;
	if (snapshot) {
		if ((r = refresh_row(s, id)) < 0)
			return r;
		if (!waiting(row->state))
			return 0;
	}
	if (due_elsewhere(s, id, postid_channel(id), row))
		return 0;
	r = store_transition(s->d->store,
	                     &(struct transition){.id = id,
	                                          .from = DS_WAITING,
	                                          .to = DS_CANCELLED,
	                                          .reason = CAL_REMOVED,
	                                          .next_ms = -1,
	                                          .now_ms = s->now},
	                     NULL);
	if (r == -EALREADY || r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	events_change(s->d->events, EVO_CALENDAR, id, row->state, DS_CANCELLED,
	              -1, CAL_REMOVED);
	dispatch_unschedule(s->d, id);
	s->sum->cancelled++;
	return 0;
}

/*
 * One delivery the plan leaves to the loop, named by where the calendar
 * has it: calendar_delivery rebuilds it there.
 */
struct pick {
	const struct cal_post *post;
	int64_t due_ms;       /* the occurrence's, as calendar_expand gave it */
	uint32_t post_id_off; /* into calsync_plan.ids */
	uint32_t channel;     /* into post->channels */
};

/*
 * The diff worked out off the loop, from a snapshot: the deliveries that
 * may need a write and the rows the calendar may have dropped. The rest
 * needs none and was counted there.
 */
struct calsync_plan {
	struct calsync_rows *rows; /* those the calendar asks for are seen */
	struct pick *v;
	size_t len, cap;
	char *ids; /* the picks' post ids, NUL-terminated */
	size_t ids_len, ids_cap;
	uint32_t *dropped; /* positions in rows */
	size_t ndropped, dropped_cap;
	unsigned unchanged;
	int64_t now_ms; /* the window's: [now - catch_up, now + horizon) */
	int expand_err; /* calendar_expand gave up part-way */
	int err;
	/*
	 * While planning. A next-slot post's deliveries share one instant,
	 * taken from whichever of them is stored (slot_of): they are left
	 * to the loop all together, or not at all.
	 */
	const struct config *cfg;
	int grouping; /* v[group..] are one such post's */
	size_t group;
	unsigned group_quiet; /* how many of them need no write */
	int group_dirty;      /* one of them does */
};

static int pick_add(struct calsync_plan *pl, const struct cal_delivery *cd)
{
	const struct cal_post *p = cd->post;
	size_t n = strlen(cd->post_id) + 1;
	struct pick *v;
	uint32_t ch = 0;
	char *ids;

	while (ch < p->nchannels && p->channels[ch] != cd->channel)
		ch++;
	if (ch == p->nchannels || pl->len >= UINT32_MAX ||
	    pl->ids_len + n > UINT32_MAX)
		return -EINVAL;
	if ((v = room(pl->v, &pl->cap, pl->len + 1, sizeof(*v))) == NULL)
		return -ENOMEM;
	pl->v = v;
	/* A post's channels come one after another: its id, once. */
	if (pl->len == 0 ||
	    strcmp(pl->ids + v[pl->len - 1].post_id_off, cd->post_id) != 0) {
		if ((ids = room(pl->ids, &pl->ids_cap, pl->ids_len + n, 1)) ==
		    NULL)
			return -ENOMEM;
		pl->ids = ids;
		memcpy(pl->ids + pl->ids_len, cd->post_id, n);
		v[pl->len].post_id_off = (uint32_t)pl->ids_len;
		pl->ids_len += n;
	} else {
		v[pl->len].post_id_off = v[pl->len - 1].post_id_off;
	}
	v[pl->len].post = p;
	v[pl->len].due_ms = cd->due_ms;
	v[pl->len].channel = ch;
	pl->len++;
	return 0;
}

/* The next-slot post just read: left to the loop if any of it changed. */
static void close_group(struct calsync_plan *pl)
{
	if (!pl->group_dirty) {
		pl->len = pl->group;
		pl->unchanged += pl->group_quiet;
	}
	pl->grouping = 0;
}

static void plan_delivery(void *arg, const struct cal_delivery *cd)
{
	struct calsync_plan *pl = arg;
	struct row *row;
	int q, r;

	if (pl->err)
		return;
	if (pl->grouping &&
	    strcmp(pl->ids + pl->v[pl->group].post_id_off, cd->post_id) != 0)
		close_group(pl);
	if ((row = rows_find(&pl->rows->rows, cd->id)) != NULL)
		row->seen = 1;
	q = row &&
	    quiet(row, cd->hash, requires_approval(pl->cfg, cd->channel));
	if (cd->post->next_slot) {
		if (!pl->grouping) {
			pl->grouping = 1;
			pl->group = pl->len;
			pl->group_quiet = 0;
			pl->group_dirty = 0;
		}
		pl->group_quiet += q;
		pl->group_dirty |= !q;
	} else if (q) {
		pl->unchanged++;
		return;
	}
	if ((r = pick_add(pl, cd)) < 0)
		pl->err = r;
}

int calsync_plan(const struct calendar *cal, const struct config *cfg,
                 int64_t now_ms, struct calsync_rows *rows,
                 struct calsync_plan **out)
{
	struct calsync_plan *pl = calloc(1, sizeof(*pl));
	int64_t from = now_ms - cfg->catch_up_ms;
	struct rows *t;

	*out = NULL;
	if (pl == NULL) {
		calsync_rows_free(rows);
		return -ENOMEM;
	}
	pl->rows = rows;
	pl->cfg = cfg;
	pl->now_ms = now_ms;
	if (calendar_expand(cal, from, now_ms + cfg->horizon_ms, plan_delivery,
	                    pl) < 0)
		pl->expand_err = -EINVAL;
	if (pl->grouping)
		close_group(pl);
	t = &rows->rows;
	for (size_t i = 0; i < t->len && pl->err == 0 && !pl->expand_err; i++) {
		uint32_t *v;

		if (!dropped(&t->v[i], from))
			continue;
		v = room(pl->dropped, &pl->dropped_cap, pl->ndropped + 1,
		         sizeof(*v));
		if (v == NULL) {
			pl->err = -ENOMEM;
			break;
		}
		pl->dropped = v;
		pl->dropped[pl->ndropped++] = (uint32_t)i;
	}
	pl->cfg = NULL;
	if (pl->err < 0) {
		int r = pl->err;

		calsync_plan_free(pl);
		return r;
	}
	*out = pl;
	return 0;
}

void calsync_plan_free(struct calsync_plan *pl)
{
	if (pl == NULL)
		return;
	calsync_rows_free(pl->rows);
	free(pl->v);
	free(pl->ids);
	free(pl->dropped);
	free(pl);
}

/* The plan's picks, then the rows it found dropped. */
static int apply_plan(struct sync *s, const struct calendar *cal,
                      const struct calsync_plan *pl)
{
	s->sum->unchanged = pl->unchanged;
	for (size_t i = 0; i < pl->len && s->err == 0; i++)
		calendar_delivery(
		        cal, pl->v[i].post, pl->ids + pl->v[i].post_id_off,
		        pl->v[i].due_ms, pl->v[i].channel, on_delivery, s);
	if (s->err == 0)
		s->err = pl->expand_err;
	for (size_t i = 0; i < pl->ndropped && s->err == 0; i++)
		s->err = cancel_dropped(s, pl->dropped[i], 1);
	return s->err;
}

/* The whole calendar against rows read on the loop a moment ago. */
static int apply_all(struct sync *s, const struct calendar *cal)
{
	if (calendar_expand(cal, s->from, s->now + s->d->cfg->horizon_ms,
	                    on_delivery, s) < 0 &&
	    s->err == 0)
		s->err = -EINVAL;
	for (size_t i = 0; i < s->rows->len && s->err == 0; i++)
		s->err = cancel_dropped(s, i, 0);
	return s->err;
}

int calsync_apply(struct smmd *d, const struct calendar *cal, int64_t now_ms,
                  const struct calsync_plan *plan, struct calsync_summary *out)
{
	struct calsync_rows *own = NULL;
	struct sync s = {
	        .d = d,
	        .now = now_ms,
	        .from = now_ms - d->cfg->catch_up_ms,
	        .sum = out,
	};
	int r;

	memset(out, 0, sizeof(*out));
	out->horizon_ms = (plan ? plan->now_ms : now_ms) + d->cfg->horizon_ms;
	if (plan == NULL && (r = calsync_rows_read(d->store, &own)) < 0)
		return r;
	s.rows = plan ? &plan->rows->rows : &own->rows;
	/* A first sync adds every delivery: load in bulk. */
	if (s.rows->len == 0 && (r = store_bulk_begin(d->store)) < 0)
		goto done;
	r = plan ? apply_plan(&s, cal, plan) : apply_all(&s, cal);
done:
	if (store_bulk_end(d->store) < 0 && r >= 0)
		r = -EIO;
	calsync_rows_free(own);
	return r;
}

json_t *calsync_summary_json(const struct calsync_summary *sum)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "added", sum->added,
	                 "updated", sum->updated, "cancelled", sum->cancelled,
	                 "unchanged", sum->unchanged, "missed", sum->missed,
	                 "deferred", sum->deferred);
}
