/* What a stopped node left in flight (recover.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dispatch.h"
#include "events.h"
#include "log.h"
#include "outage.h"
#include "postid.h"
#include "publishers/publisher.h"
#include "recover.h"
#include "smmd.h"
#include "store.h"
#include "wallclock.h"

/* More than can be in flight at once (max_in_flight <= 10000). */
#define RECOVER_MAX 1000000
/*
 * How long after a channel is taken over what its last node left on it
 * is looked at: two pulls of this node's view, so that a result that
 * node wrote just before it let go is read in, not taken for a request
 * still in flight.
 */
#define TAKEN_SETTLE_MS 2500

struct recover {
	json_t *taken; /* channels taken over, and when (ms), not run yet */
	uv_timer_t timer;
	int timer_open;
};

static void on_settled(uv_timer_t *t);

/* Which deliveries a run moves. */
struct scope {
	struct smmd *d;
	json_t *leave; /* at the start: channels other live nodes own */
	json_t *only;  /* after take-overs: those channels */
};

/* store_recover_interrupted's decide (store.h). */
static int decide(void *arg, const char *id, const char *channel)
{
	struct scope *sc = arg;
	const struct channel *ch;

	if (sc->leave && json_object_get(sc->leave, channel))
		return -1;
	/* This node's own requests on the channel since it took it. */
	if (sc->only &&
	    (json_object_get(sc->only, channel) == NULL ||
	     !store_owns(sc->d->store, channel) || dispatch_has_job(sc->d, id)))
		return -1;
	ch = config_channel(sc->d->cfg, channel);
	/* An unknown channel fails when due anyway: nothing is sent. */
	return ch == NULL || ch->pub->idempotent(ch);
}

/* Each delivery the run moved: unknown (logged, told) or due again. */
static void recovered(struct scope *sc, const json_t *before,
                      const json_t *unknown, int64_t now)
{
	struct smmd *d = sc->d;
	json_t *lost = json_object(), *v;
	size_t i;

	json_array_foreach (unknown, i, v) {
		json_object_set(lost, json_string_value(v), json_true());
	}
	json_array_foreach (before, i, v) {
		const char *id = json_string_value(v);

		if (json_object_get(lost, id) ||
		    decide(sc, id, postid_channel(id)) < 0)
			continue;
		events_change(d->events, EVO_RECOVERY, id, DS_PUBLISHING,
		              DS_RETRY_WAIT, now,
		              "interrupted: smmd stopped while the request was "
		              "in flight");
		/* At the start the schedule is read after this. */
		if (sc->only && dispatch_schedule(d, id, now) < 0)
			fatalx("sched: out of memory");
	}
	json_decref(lost);
	json_array_foreach (unknown, i, v) {
		const char *id = json_string_value(v);

		events_change(d->events, EVO_RECOVERY, id, DS_PUBLISHING,
		              DS_UNKNOWN, -1,
		              "smmd stopped while its request was in flight");
		dispatch_notify(d, postid_channel(id), id, NULL,
		                "has an unknown outcome",
		                "smmd stopped while its request was in flight");
	}
}

/* store_list_rows: collect a row's id. */
static void collect_id(void *arg, const struct delivery_row *row)
{
	json_array_append_new(arg, json_string(row->id));
}

/* One run over what sc takes in: how many moved, or -errno. */
static int run(struct scope *sc, int64_t now)
{
	struct smmd *d = sc->d;
	json_t *unknown = json_array(), *before = json_array();
	int64_t counts[DS_COUNT];
	int r;

	/*
	 * Which ones it will move, for their events. The counters were
	 * seeded from the store: after a clean stop there are none, and a
	 * big store is not scanned for nothing. Another node's are not in
	 * this node's counters.
	 */
	events_counts(d->events, counts);
	if ((sc->only || counts[DS_PUBLISHING] > 0) &&
	    store_list_rows(d->store, DS_PUBLISHING, RECOVER_MAX, collect_id,
	                    before) < 0) {
		json_decref(before);
		json_decref(unknown);
		return -EIO;
	}
	r = store_recover_interrupted(d->store, now, decide, sc, unknown);
	if (r > 0)
		log_warnx("store: %d deliveries were in flight when %s "
		          "stopped: %zu retried with the same webhook-id, %zu "
		          "marked unknown (their endpoints can't drop a "
		          "repeat)",
		          r,
		          sc->only ? "the node that fired their channel"
		                   : "smmd",
		          (size_t)r - json_array_size(unknown),
		          json_array_size(unknown));
	if (r >= 0)
		recovered(sc, before, unknown, now);
	json_decref(before);
	json_decref(unknown);
	return r;
}

int recover_at_start(struct smmd *d, json_t *leave)
{
	struct scope sc = {.d = d, .leave = leave};
	int r = run(&sc, wallclock_now_ms());

	return r < 0 ? r : 0;
}

/* The timer for the channel taken first of those not run yet (times on
 * the loop's monotonic clock: a step of the wall clock moves nothing). */
static void arm(struct recover *rc, int64_t now)
{
	int64_t first = -1;
	const char *name;
	json_t *at;

	json_object_foreach (rc->taken, name, at)
		if (first < 0 || json_integer_value(at) < first)
			first = json_integer_value(at);
	if (first < 0)
		return;
	first += TAKEN_SETTLE_MS;
	uv_timer_start(&rc->timer, on_settled,
	               first > now ? (uint64_t)(first - now) : 0, 0);
}

/* A run over the channels taken TAKEN_SETTLE_MS ago or more. */
static void on_settled(uv_timer_t *t)
{
	struct smmd *d = t->data;
	struct recover *rc = d->recover;
	int64_t now = (int64_t)uv_now(d->loop);
	struct scope sc = {.d = d, .only = json_object()};
	const char *name;
	json_t *at;
	void *tmp;

	if (sc.only == NULL)
		fatalx("out of memory");
	json_object_foreach_safe (rc->taken, tmp, name, at)
		if (json_integer_value(at) + TAKEN_SETTLE_MS <= now) {
			json_object_set_new(sc.only, name, json_true());
			json_object_del(rc->taken, name);
		}
	if (json_object_size(sc.only) > 0 && run(&sc, wallclock_now_ms()) < 0)
		outage_begin(d); /* the store failed: smmd starts afresh */
	json_decref(sc.only);
	arm(rc, now);
}

void recover_taken(struct smmd *d, const char *channel)
{
	struct recover *rc = d->recover;

	if (rc == NULL) {
		if ((rc = calloc(1, sizeof(*rc))) == NULL ||
		    (rc->taken = json_object()) == NULL)
			fatalx("out of memory");
		uv_timer_init(d->loop, &rc->timer);
		rc->timer.data = d;
		rc->timer_open = 1;
		d->recover = rc;
	}
	if (!rc->timer_open)
		return; /* stopping */
	/* Taken again before its run: from this take. */
	json_object_set_new(rc->taken, channel,
	                    json_integer((json_int_t)uv_now(d->loop)));
	if (!uv_is_active((uv_handle_t *)&rc->timer))
		arm(rc, (int64_t)uv_now(d->loop));
}

static void on_closed(uv_handle_t *h)
{
	struct recover *rc = h->data;

	json_decref(rc->taken);
	free(rc);
}

void recover_stop(struct smmd *d)
{
	struct recover *rc = d->recover;

	if (rc == NULL || !rc->timer_open)
		return;
	rc->timer_open = 0;
	rc->timer.data = rc;
	d->recover = NULL;
	uv_close((uv_handle_t *)&rc->timer, on_closed);
}
