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
 * The channels taken over and not run yet. What the node before wrote
 * on them must be in this node's view first, or a result it wrote just
 * before would be taken for a request still in flight: a run waits
 * until the view has read what was committed at the take
 * (store_after_pull). A dead node's writes were all committed before
 * its channels were taken (its groups are fenced by its lease, and a
 * claim round reaps it only when none of them is running:
 * leaseclaim.c); a node lets a channel go only once the end of its last
 * request on it is kept (dispatch.c's may_release).
 */
struct recover {
	json_t *taken;   /* channel: the take's number */
	int64_t takes;   /* the last take's number */
	int64_t waiting; /* the wait in flight covers takes up to this */
};

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
		dispatch_ended_here(d, postid_channel(json_string_value(v)));
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

static void on_pulled(void *arg, int err);

/* Wait for a pull that covers every take so far. */
static void wait_pull(struct smmd *d)
{
	struct recover *rc = d->recover;
	int r;

	if (rc->waiting || json_object_size(rc->taken) == 0)
		return;
	rc->waiting = rc->takes;
	/* Closing: a restart in place recovers them at its start. */
	if ((r = store_after_pull(d->store, on_pulled, d, 0)) == 0 ||
	    r == -ECANCELED)
		return;
	/* -ENOTSUP: a store that says what it takes reads other nodes'. */
	fatalx("recover: cannot wait for the view: %s", strerror(-r));
}

/* A run over the channels the pull covers (taken before it began). */
static void on_pulled(void *arg, int err)
{
	struct smmd *d = arg;
	struct recover *rc = d->recover;
	struct scope sc = {.d = d};
	int64_t upto;
	const char *name;
	json_t *at;
	void *tmp;

	if (rc == NULL)
		return; /* stopped */
	upto = rc->waiting;
	rc->waiting = 0;
	/* The store closed first (a restart in place recovers them at its
	 * start). */
	if (err == -ECANCELED)
		return;
	if ((sc.only = json_object()) == NULL)
		fatalx("out of memory");
	json_object_foreach_safe (rc->taken, tmp, name, at)
		if (json_integer_value(at) <= upto) {
			json_object_set_new(sc.only, name, json_true());
			json_object_del(rc->taken, name);
		}
	if (json_object_size(sc.only) > 0 && run(&sc, wallclock_now_ms()) < 0)
		outage_begin(d); /* the store failed: smmd starts afresh */
	json_decref(sc.only);
	wait_pull(d); /* those taken while the pull ran */
}

void recover_taken(struct smmd *d, const char *channel)
{
	struct recover *rc = d->recover;

	if (rc == NULL) {
		if ((rc = calloc(1, sizeof(*rc))) == NULL ||
		    (rc->taken = json_object()) == NULL)
			fatalx("out of memory");
		d->recover = rc;
	}
	/* Taken again before its run: from this take. */
	json_object_set_new(rc->taken, channel, json_integer(++rc->takes));
	wait_pull(d);
}

void recover_stop(struct smmd *d)
{
	struct recover *rc = d->recover;

	if (rc == NULL)
		return;
	d->recover = NULL;
	json_decref(rc->taken);
	free(rc);
}
