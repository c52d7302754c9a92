#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "config.h"
#include "dispatch.h"
#include "auth.h"
#include "engage.h"
#include "events.h"
#include "http.h"
#include "log.h"
#include "looptime.h"
#include "outcome.h"
#include "outage.h"
#include "pause.h"
#include "prom.h"
#include "postid.h"
#include "publishers/publisher.h"
#include "recover.h"
#include "rndpool.h"
#include "sched.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"
#include "wallclock.h"

#define DELIVERY_ID_MAX (POSTID_MAX * 2 + 2)
/*
 * How far ahead of its due time a delivery is prepared: loaded, built and
 * recorded as publishing (one fsync). It then leaves from memory at the
 * due instant, so the disk's latency never makes a post late.
 */
#define PREPARE_LEAD_MS 50
/* How often a clock in doubt is looked at again (clock_held). */
#define CLOCK_RECHECK_MS 200
/* Deliveries prepared per loop turn before committing and sending. */
#define PUMP_BATCH 64
/*
 * Deliveries taken from the queues per loop turn, started or not, over
 * every pump of the turn (each finished request pumps): a pause holds
 * the ones it covers as they come up, one store write each, and a burst
 * held in one turn would keep the turn's commit, and with it every
 * reply and every prepared request (the pause's own plan B statement
 * first), waiting for the whole burst.
 */
#define PUMP_TAKE_MAX 256
/*
 * A pump also stops once the loop's turn is over its budget
 * (looptime_over_budget), whatever the counts above allow: a start
 * loads, builds, signs and marks a delivery, 40-100 us each, and 256 of
 * them held the loop 10-13 ms over 100 channels while every other due
 * post and reply waited. The timer goes on in the next turn
 * (disp->more). Each pump takes at least one, so that a slot freed is a
 * start even in a turn already long.
 */
/*
 * Deliveries moved from the schedule to their channels' queues per loop
 * turn: at most DUE_MOVE_MAX, and no more once the turn has run
 * DUE_MOVE_NS, past the first DUE_MOVE_MIN (what one pump prepares). A
 * move costs 0.3 us in a warm cache, and 2 to 38 us in the first turns
 * of a burst on this 2-core VM, when the schedule's entries are cold and
 * far apart in memory: 2,048 of them took 4-7 ms of the first turn of a
 * 20,000-post burst, the longest turn of the run. What is left moves in
 * the next turns: the timer is armed for what is due soon, full or not
 * (dispatch_arm), and each job that finishes runs the schedule again.
 */
#define DUE_MOVE_MAX 2048
#define DUE_MOVE_MIN PUMP_BATCH
#define DUE_MOVE_NS  (1000 * 1000)
#define CHAN_BUCKETS 1024

/*
 * One channel's deliveries that are due but not started, in due order.
 * Kept for the daemon's life (a reload only refreshes ch), so jobs in
 * flight can always give their slot back.
 */
struct chan_q {
	char *name;
	const struct channel *ch; /* in the current config; NULL if removed */
	size_t in_flight;
	/* The batch the end of its last request was written in: on a
	 * cluster it goes to another node only once that is kept, or the
	 * taker would read the request as still in flight (recover.c). */
	uint64_t ended_in;
	int64_t last_start_ms; /* planned: where min_interval counts from */
	int64_t last_sent_ms;  /* when the last request really left */
	struct waiting *fifo;  /* ring buffer */
	size_t head, len, cap;
	struct chan_q *ring_next, *ring_prev; /* channels with work waiting */
	int in_ring;
	/* Taken from it this turn of the ring (DISPATCH_QUANTUM): kept while
	 * a newly waiting channel goes first, so it goes on from there. */
	unsigned served;
	int owned; /* this node may fire it (may_fire, as last told) */
	/* claims_changed saw it owned: taken over, recovered, requeued. */
	int took;
	/* Queued here, then sent or settled by another node (a pull said
	 * so): dropped once they are half the queue (dispatch_follow). */
	size_t stale;
	int unlisted; /* logged: no live node lists it (unlisted_say) */
	struct chan_q *hash_next;
};

/* A due delivery waiting for its channel's turn. */
struct waiting {
	char *id; /* owned */
	int64_t due_ms;
};

struct job;

struct dispatch {
	struct job *armed, *armed_tail; /* prepared, waiting for send_at */
	struct job *syncing; /* started, waiting for that to be durable */
	struct job *flying;  /* handed to http, not finished */
	/* Flying, but waiting between two steps (PUBLISH_NEXT's delay). */
	struct job *napping; /* in wake_ms order */
	struct chan_q *buckets[CHAN_BUCKETS];
	struct chan_q *ring; /* the next channel to serve */
	size_t ring_len;     /* channels in it */
	int more;            /* pump stopped (batch, budget) with work left */
	size_t taken;        /* from the queues this turn (PUMP_TAKE_MAX) */
	size_t moved;        /* to the queues this turn (DUE_MOVE_MAX) */
	/* The store doubts this node's clock: nothing leaves (clock_held),
	 * and the timer looks again; inited says the loop holds it. */
	int clock_held, recheck_inited;
	uv_timer_t recheck;
	/* On a shared store: when the first of what waits on a channel no
	 * live node lists is missed (dispatch_arm; -1: none), and whether
	 * who lists what may have changed since the queues were looked at
	 * (owners_changed): miss_unlisted runs only then. */
	int64_t unlisted_at;
	int unlisted_look;
	struct rndpool rnd; /* each outcome draws its backoff's jitter */
};

/* One attempt of one delivery, from its durable start to its result. */
struct job {
	struct smmd *d;
	struct config *cfg; /* the config it started under (a reference) */
	const struct channel *ch;
	struct chan_q *q;
	struct delivery_rec rec;
	struct delivery_view view;
	struct pub_step step;
	struct http_request req;
	unsigned attempt;
	int64_t send_at;  /* the instant its request should leave */
	int64_t meant_ms; /* when the scheduler had it due (lateness) */
	int64_t sent_ms;  /* when it was handed to curl; 0: not yet */
	struct job *armed_prev, *armed_next;
	int armed;
	struct job *sync_prev, *sync_next; /* in disp->syncing */
	struct job *fly_prev, *fly_next;   /* in disp->flying */
	int64_t wake_ms;      /* napping: when the next step goes */
	struct job *nap_next; /* in disp->napping */
	int withdrawn;        /* cancelled while its start was being synced */
};

struct dispatch *dispatch_new(void)
{
	struct dispatch *disp = calloc(1, sizeof(*disp));

	if (disp) {
		disp->unlisted_at = -1;
		rndpool_init(&disp->rnd);
	}
	return disp;
}

void dispatch_free(struct dispatch *disp)
{
	if (disp == NULL)
		return;
	for (size_t i = 0; i < CHAN_BUCKETS; i++) {
		struct chan_q *q = disp->buckets[i], *next;

		for (; q; q = next) {
			next = q->hash_next;
			for (size_t k = 0; k < q->len; k++)
				free(q->fifo[(q->head + k) % q->cap].id);
			free(q->fifo);
			free(q->name);
			free(q);
		}
	}
	free(disp);
}

static struct chan_q *chan_find(struct dispatch *disp, const char *name)
{
	struct chan_q *q = disp->buckets[postid_hash(name) % CHAN_BUCKETS];

	for (; q; q = q->hash_next)
		if (strcmp(q->name, name) == 0)
			return q;
	return NULL;
}

/*
 * This node may start q's deliveries: it owns the channel; or (to fail
 * them) the channel is in no configuration of this node's and no other
 * node may fire it, as on a store of one working node. On a shared
 * store another node's configuration may have it: its owner sends them.
 */
static int may_fire(struct smmd *d, const struct chan_q *q)
{
	if (q->ch == NULL)
		return !store_shared(d->store);
	return store_owns(d->store, q->name);
}

static struct chan_q *chan_get(struct smmd *d, const char *name)
{
	struct chan_q *
	        *pp = &d->dispatch->buckets[postid_hash(name) % CHAN_BUCKETS],
	       *q;

	if ((q = chan_find(d->dispatch, name)) != NULL)
		return q;
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->name = strdup(name)) == NULL) {
		free(q);
		return NULL;
	}
	q->ch = config_channel(d->cfg, name);
	q->owned = may_fire(d, q);
	q->last_start_ms = INT64_MIN / 2;
	q->last_sent_ms = INT64_MIN / 2;
	q->hash_next = *pp;
	*pp = q;
	return q;
}

static void ring_add(struct dispatch *disp, struct chan_q *q)
{
	if (q->in_ring)
		return;
	q->in_ring = 1;
	q->served = 0;
	disp->ring_len++;
	if (disp->ring == NULL) {
		q->ring_next = q->ring_prev = q;
		disp->ring = q;
		return;
	}
	/*
	 * Join in front of the cursor: a channel that had nothing waiting is
	 * served next (fq_codel's new flows), so a quiet channel's post
	 * never queues behind another channel's burst.
	 */
	q->ring_next = disp->ring;
	q->ring_prev = disp->ring->ring_prev;
	q->ring_prev->ring_next = q;
	disp->ring->ring_prev = q;
	disp->ring = q;
}

/* Serve the next channel; the one served had its quantum, or can't go. */
static void ring_advance(struct dispatch *disp)
{
	disp->ring->served = 0;
	disp->ring = disp->ring->ring_next;
}

static void ring_remove(struct dispatch *disp, struct chan_q *q)
{
	if (!q->in_ring)
		return;
	q->in_ring = 0;
	disp->ring_len--;
	if (q->ring_next == q) {
		disp->ring = NULL;
		return;
	}
	q->ring_prev->ring_next = q->ring_next;
	q->ring_next->ring_prev = q->ring_prev;
	/* The next goes on with what it had taken: it may be the channel
	 * this one went in front of (ring_add). */
	if (disp->ring == q)
		disp->ring = q->ring_next;
}

/*
 * q, waiting, is served next: moved in front of the cursor, as a channel
 * that joins is, so that the channels between keep their turns.
 */
static void ring_front(struct dispatch *disp, struct chan_q *q)
{
	if (disp->ring == q)
		return;
	ring_remove(disp, q);
	ring_add(disp, q);
}

/*
 * Append id to q's queue, or with front put it first: 0, and the queue
 * owns id; or -ENOMEM, and the caller still does.
 */
static int fifo_put(struct dispatch *disp, struct chan_q *q, char *id,
                    int64_t due_ms, int front)
{
	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		struct waiting *grown = malloc(cap * sizeof(*grown));

		if (grown == NULL)
			return -ENOMEM;
		for (size_t k = 0; k < q->len; k++)
			grown[k] = q->fifo[(q->head + k) % q->cap];
		free(q->fifo);
		q->fifo = grown;
		q->cap = cap;
		q->head = 0;
	}
	if (front)
		q->head = (q->head + q->cap - 1) % q->cap;
	q->fifo[(q->head + (front ? 0 : q->len)) % q->cap] =
	        (struct waiting){.id = id, .due_ms = due_ms};
	q->len++;
	ring_add(disp, q);
	return 0;
}

static int fifo_push(struct dispatch *disp, struct chan_q *q, char *id,
                     int64_t due_ms)
{
	return fifo_put(disp, q, id, due_ms, 0);
}

static char *fifo_pop(struct dispatch *disp, struct chan_q *q)
{
	char *id = q->fifo[q->head].id;

	q->head = (q->head + 1) % q->cap;
	q->len--;
	if (q->len == 0)
		ring_remove(disp, q);
	return id;
}

/* Store writes fail only when the disk does; we can't go on then. */
/*
 * A write the dispatcher cannot do without: failing, the turn is given up
 * and smmd holds everything until the store takes writes (outage.c). The
 * reason is logged there, once, not here for every delivery.
 */
static void store_must(struct smmd *d, int r)
{
	if (r < 0)
		outage_begin(d);
}

/* Nothing new starts while stopping, or while the store cannot write. */
static int halted(const struct smmd *d)
{
	return d->stopping || d->store_down_ms || d->handing_over;
}

/* A request on q ended, its end written in this turn (or nothing of it
 * was: its start was not kept). Its slot is free. */
static void job_ended(struct smmd *d, struct chan_q *q)
{
	struct dispatch *disp = d->dispatch;
	int was_full = q->ch && q->in_flight >= q->ch->max_in_flight;

	q->in_flight--;
	d->in_flight--;
	q->ended_in = store_turn_batch(d->store);
	/*
	 * Held back by its own limit, it lost its turn (pump passed it by):
	 * with a slot of its own free again it goes next, as a channel newly
	 * waiting does (ring_add), rather than wait for every other
	 * channel's quantum (two busy channels' 16 starts for one whose
	 * limit is 1). Only while its limit is within its share of the
	 * global slots: one whose limit is above would take every slot it
	 * frees back at once and keep more than its share.
	 */
	if (was_full && q->in_ring &&
	    q->ch->max_in_flight * disp->ring_len <= d->cfg->max_in_flight)
		ring_front(disp, q);
}

static void job_free(struct job *job)
{
	store_delivery_clear(&job->rec);
	http_request_clear(&job->req);
	pub_step_clear(&job->step);
	config_unref(job->cfg);
	free(job);
}

/* Randomness for a backoff's jitter; the clock if the kernel has none. */
static uint32_t jitter_seed(struct dispatch *disp)
{
	uint32_t rnd = 0;

	if (rndpool_get(&disp->rnd, &rnd, sizeof(rnd), GRND_NONBLOCK) < 0)
		rnd = (uint32_t)wallclock_now_ms();
	return rnd;
}

int dispatch_post_now(struct smmd *d, const char *prefix,
                      const struct post_new *p, int first, char *did,
                      size_t len)
{
	char id[POSTID_GEN_LEN + 16];
	struct post_new post = *p;
	int64_t now = wallclock_now_ms();
	uint64_t rnd = 0;
	int r;

	if (rndpool_get(&d->dispatch->rnd, &rnd, sizeof(rnd), GRND_NONBLOCK) <
	    0)
		rnd = (uint64_t)now ^ (uint64_t)(uintptr_t)p;
	snprintf(id, sizeof(id), "%s-", prefix);
	postid_generate(now, rnd, id + strlen(id));
	post.id = id;
	post.due_ms = now;
	if ((r = store_add_post(d->store, &post, now)) < 0)
		return r;
	snprintf(did, len, "%s/%s", id, p->channels[0]);
	events_change(d->events, EVO_DISPATCH, did, -1, DS_SCHEDULED, now,
	              NULL);
	r = first ? dispatch_first(d, did) : dispatch_schedule(d, did, now);
	if (r < 0)
		log_error("sched: cannot queue '%s' (out of memory); it goes "
		          "out after a restart",
		          did);
	return 0;
}

void dispatch_notice(struct smmd *d, const char *notify, const char *text,
                     const char *about)
{
	const char *chans[1] = {notify};
	char did[DELIVERY_ID_MAX];
	json_t *media = json_array();
	int r = dispatch_post_now(d, "notice",
	                          &(struct post_new){.source = "notice",
	                                             .text = text,
	                                             .media = media,
	                                             .channels = chans,
	                                             .nchannels = 1},
	                          0, did, sizeof(did));

	json_decref(media);
	if (r < 0)
		log_error("notify: cannot queue a notice about %s: %s", about,
		          strerror(-r));
	else
		log_info("notify: %s: notice '%.*s' queued on '%s'", about,
		         (int)(strchr(did, '/') - did), did, notify);
}

void dispatch_notify(struct smmd *d, const char *channel,
                     const char *delivery_id, const char *source,
                     const char *what, const char *reason)
{
	const struct channel *ch = config_channel(d->cfg, channel);
	char when[TIME_RFC3339_LEN], text[768], about[DELIVERY_ID_MAX + 64];

	if (ch == NULL || ch->notify == NULL ||
	    (source && strcmp(source, "notice") == 0) ||
	    config_channel(d->cfg, ch->notify) == NULL)
		return;
	if (pause_channel_paused(d, ch->notify)) {
		log_info("notify: delivery '%s' %s; no notice: '%s' is paused",
		         delivery_id, what, ch->notify);
		return;
	}
	snprintf(text, sizeof(text), "smmd: delivery '%s' %s at %s: %s",
	         delivery_id, what,
	         time_format_rfc3339(wallclock_now_ms(), when), reason);
	snprintf(about, sizeof(about), "delivery '%s' %s", delivery_id, what);
	dispatch_notice(d, ch->notify, text, about);
}

/* A result's severity is its log level. */
_Static_assert(OUTCOME_ERROR == (int)LOG_LEVEL_ERROR &&
                       OUTCOME_WARNING == (int)LOG_LEVEL_WARNING &&
                       OUTCOME_INFO == (int)LOG_LEVEL_INFO,
               "outcome severities follow log levels");

/* What the attempt's result means (lib/outcome.c decides). */
static void job_outcome(const struct job *job, const struct http_result *res,
                        const struct verdict *v, int64_t now,
                        struct outcome_in *in, struct outcome *o)
{
	*in = (struct outcome_in){
	        .verdict = v->kind == PUBLISH_OK           ? OUTCOME_OK
	                   : v->kind == PUBLISH_RETRY      ? OUTCOME_RETRY
	                   : v->kind == PUBLISH_NEEDS_AUTH ? OUTCOME_HOLD
	                                                   : OUTCOME_FAILED,
	        .reason = v->reason,
	        .retry_after_ms = v->retry_after_ms,
	        .attempt = job->attempt,
	        .max_attempts = job->ch->max_attempts,
	        .idempotent =
	                job->ch->pub->idempotent(job->ch) || v->repeatable,
	        .request_sent = res->request_sent,
	        .answered = outcome_answered(res->status, v->ambiguous),
	        .cut_by_shutdown = job->d->stopping &&
	                           res->code == CURLE_ABORTED_BY_CALLBACK,
	        .now_ms = now,
	        .send_at_ms = job->send_at,
	        .retry_base_ms = job->ch->retry_base_ms,
	        .retry_max_ms = job->ch->retry_max_ms,
	        .rnd = jitter_seed(job->d->dispatch),
	};
	delivery_outcome(in, o);
}

/* The attempt's result as an event: logged, counted, streamed. */
static void job_result_event(const struct job *job,
                             const struct http_result *res,
                             const struct verdict *v, const struct outcome *o)
{
	events_emit(job->d->events,
	            &(struct delivery_event){
	                    .kind = events_kind_of(o->state),
	                    .origin = EVO_DISPATCH,
	                    .id = job->rec.id,
	                    .from = DS_PUBLISHING,
	                    .to = o->state,
	                    .next_ms = o->next_ms,
	                    .attempt = job->attempt,
	                    .http_status = res->status,
	                    .latency_ms = res->latency_ms,
	                    .reason = v->reason,
	                    .summary = o->summary,
	                    .level = (enum log_level)o->severity,
	            });
}

static void flying_add(struct dispatch *disp, struct job *job)
{
	job->fly_prev = NULL;
	job->fly_next = disp->flying;
	if (disp->flying)
		disp->flying->fly_prev = job;
	disp->flying = job;
}

static void flying_remove(struct dispatch *disp, struct job *job)
{
	if (job->sent_ms == 0)
		return;
	if (job->fly_prev)
		job->fly_prev->fly_next = job->fly_next;
	else
		disp->flying = job->fly_next;
	if (job->fly_next)
		job->fly_next->fly_prev = job->fly_prev;
	job->fly_prev = job->fly_next = NULL;
}

size_t dispatch_paused_in_flight(struct smmd *d)
{
	size_t n = 0;

	for (struct job *job = d->dispatch->flying; job; job = job->fly_next)
		n += pause_gate(d, &job->rec) != NULL;
	return n;
}

/* The attempt is over: record it, free the slot, start what waited. */
static void job_finish(struct job *job, const struct http_result *res,
                       const struct verdict *v)
{
	struct smmd *d = job->d;
	struct delivery_rec *rec = &job->rec;
	int64_t now = wallclock_now_ms();
	struct attempt_result ar = {
	        .n = job->attempt,
	        /* The truth, for the record: how late it really left. */
	        .started_ms = job->sent_ms ? job->sent_ms : job->send_at,
	        .finished_ms = now,
	        .http_status = res->status,
	        .error = res->status == 0 ? res->error : NULL,
	        .latency_ms = res->latency_ms,
	        .row = rec->row,
	};
	struct outcome_in in;
	struct outcome o;

	job_outcome(job, res, v, now, &in, &o);
	/* Before it is queued again, so that the gate sees the refusal. */
	if (v->kind == PUBLISH_NEEDS_AUTH)
		auth_refused(d, job->ch, v->reason);
	if (o.state == DS_PUBLISHED)
		engage_published(d, job->ch, rec->id, v->remote_id, now);
	store_must(d, store_record_result(d->store, rec->id, &ar, o.state,
	                                  o.next_ms, outcome_error(&in, &o),
	                                  v->remote_id[0] ? v->remote_id : NULL,
	                                  v->remote_url[0] ? v->remote_url
	                                                   : NULL));
	job_result_event(job, res, v, &o);
	if (o.state == DS_RETRY_WAIT &&
	    dispatch_schedule(d, rec->id, o.next_ms) < 0)
		log_error("sched: delivery '%s' kept for retry but not queued "
		          "(out of memory); it runs after a restart",
		          rec->id);
	if (o.notice)
		dispatch_notify(d, rec->channel, rec->id, rec->source, o.notice,
		                outcome_error(&in, &o));
	job_ended(d, job->q);
	flying_remove(d->dispatch, job);
	job_free(job);
	/* A slot is free: start what waited for one. */
	dispatch_run_due(d);
}

static void job_submit(struct job *job);

/*
 * The driver asked for a pause before the next step (Instagram: a media
 * container still being processed is asked again a little later). The
 * job keeps its slot and stays flying; the clock sends the step.
 */
static void nap_insert(struct job *job, int64_t delay_ms)
{
	struct job **at = &job->d->dispatch->napping;

	job->wake_ms = wallclock_now_ms() + delay_ms;
	while (*at && (*at)->wake_ms <= job->wake_ms)
		at = &(*at)->nap_next;
	job->nap_next = *at;
	*at = job;
	dispatch_arm(job->d);
}

/* Send the next step of every job whose pause is over. */
static void wake_napping(struct smmd *d, int64_t now)
{
	struct dispatch *disp = d->dispatch;

	while (disp->napping && disp->napping->wake_ms <= now) {
		struct job *job = disp->napping;

		disp->napping = job->nap_next;
		job->nap_next = NULL;
		job_submit(job);
	}
}

static void job_done(void *arg, const struct http_result *res)
{
	struct job *job = arg;
	struct verdict v = {.retry_after_ms = -1};
	char err[256];
	int r;

	engage_saw(job->d, job->ch->name, res, wallclock_now_ms());
	job->ch->pub->classify(job->ch, &job->view, &job->step, res,
	                       wallclock_now_ms(), &v);
	if (v.kind != PUBLISH_NEXT || job->d->stopping) {
		/* A step after the post exists only adds details (its URL). */
		if (v.kind == PUBLISH_NEXT && v.remote_id[0])
			v.kind = PUBLISH_OK;
		else if (v.kind == PUBLISH_NEXT) {
			/* Not the post's fault: the attempt goes again. */
			v.kind = PUBLISH_RETRY;
			snprintf(v.reason, sizeof(v.reason),
			         "smmd stopped between two steps");
		}
		job_finish(job, res, &v);
		return;
	}
	/* Another step of the same attempt: its intent is already durable. */
	http_request_clear(&job->req);
	if ((r = job->ch->pub->build_request(job->ch, &job->view, &job->step,
	                                     wallclock_now_ms(), &job->req, err,
	                                     sizeof(err))) < 0) {
		v.kind = v.remote_id[0] ? PUBLISH_OK /* out already */
		         : r == -EAGAIN ? PUBLISH_RETRY
		         : r == -EACCES ? PUBLISH_NEEDS_AUTH
		                        : PUBLISH_FAILED;
		snprintf(v.reason, sizeof(v.reason), "%s", err);
		job_finish(job, res, &v);
		return;
	}
	/* A delay a driver asks for between steps; never beyond an hour. */
	if (v.retry_after_ms > 0) {
		nap_insert(job, v.retry_after_ms < 3600000 ? v.retry_after_ms
		                                           : 3600000);
		return;
	}
	job_submit(job);
}

static void job_submit(struct job *job)
{
	int r;

	if (job->sent_ms == 0) {
		job->q->last_sent_ms = job->sent_ms = wallclock_now_ms();
		flying_add(job->d->dispatch, job);
		if (job->attempt == 1)
			prom_lateness(job->d->prom, job->meant_ms);
	}
	if (job->req.timeout_ms == 0)
		job->req.timeout_ms = job->ch->timeout_ms;
	if (job->req.connect_timeout_ms == 0)
		job->req.connect_timeout_ms = job->ch->connect_timeout_ms;
	/* Not even libcurl may send it twice (see http_request.once). */
	job->req.once = !job->ch->pub->idempotent(job->ch);
	if ((r = http_submit(job->d->http, &job->req, job_done, job)) < 0) {
		struct http_result res = {.error = strerror(-r)};
		struct verdict v = {.kind = PUBLISH_RETRY,
		                    .retry_after_ms = -1};

		snprintf(v.reason, sizeof(v.reason), "%s", res.error);
		job_finish(job, &res, &v);
	}
}

/* Prepared jobs wait here, in send_at order, for their instant. */
static void armed_insert(struct dispatch *disp, struct job *job)
{
	struct job *after = disp->armed_tail;

	/* Nearly always the latest: search from the tail. */
	while (after && after->send_at > job->send_at)
		after = after->armed_prev;
	job->armed = 1;
	job->armed_prev = after;
	job->armed_next = after ? after->armed_next : disp->armed;
	if (job->armed_next)
		job->armed_next->armed_prev = job;
	else
		disp->armed_tail = job;
	if (after)
		after->armed_next = job;
	else
		disp->armed = job;
}

static void armed_remove(struct dispatch *disp, struct job *job)
{
	if (!job->armed)
		return;
	job->armed = 0;
	if (job->armed_prev)
		job->armed_prev->armed_next = job->armed_next;
	else
		disp->armed = job->armed_next;
	if (job->armed_next)
		job->armed_next->armed_prev = job->armed_prev;
	else
		disp->armed_tail = job->armed_prev;
	job->armed_prev = job->armed_next = NULL;
}

/*
 * min_interval holds between real departures too: a post that left late
 * pushes the next one on its channel back rather than bunch up with it.
 */
static int64_t interval_floor(const struct job *job)
{
	/* The channel as configured now, as chan_send_time reads it. */
	const struct channel *ch = job->q->ch;

	if (ch == NULL || ch->min_interval_ms <= 0)
		return INT64_MIN;
	return job->q->last_sent_ms + ch->min_interval_ms;
}

/* Stopping: a prepared job that has not left never will; not an attempt. */
static void job_unsent(struct job *job)
{
	struct http_result res = {
	        .code = CURLE_ABORTED_BY_CALLBACK,
	        .error = "not sent: smmd stopped first",
	        .latency_ms = -1,
	};
	struct verdict v = {.kind = PUBLISH_RETRY, .retry_after_ms = -1};

	snprintf(v.reason, sizeof(v.reason), "%s", res.error);
	job_finish(job, &res, &v);
}

/*
 * Jobs whose start is committed but not yet durable: still withdrawable,
 * as armed ones are, though their job_send has yet to run.
 */
static void syncing_add(struct dispatch *disp, struct job *job)
{
	job->sync_prev = NULL;
	job->sync_next = disp->syncing;
	if (disp->syncing)
		disp->syncing->sync_prev = job;
	disp->syncing = job;
}

static void syncing_remove(struct dispatch *disp, struct job *job)
{
	if (job->sync_prev)
		job->sync_prev->sync_next = job->sync_next;
	else
		disp->syncing = job->sync_next;
	if (job->sync_next)
		job->sync_next->sync_prev = job->sync_prev;
	job->sync_prev = job->sync_next = NULL;
}

/* After the commit that made "publishing" durable: send, at its instant. */
static int clock_held(struct smmd *d);

static void job_send(void *arg, int err)
{
	struct job *job = arg;
	int64_t not_before;

	/* Cancelled meanwhile: dispatch_withdraw did the rest. */
	if (job->withdrawn) {
		job_free(job);
		return;
	}
	syncing_remove(job->d->dispatch, job);
	/* Its start is not recorded: it must not leave (outage.c). */
	if (err < 0) {
		job_ended(job->d, job->q);
		job_free(job);
		return;
	}
	not_before = interval_floor(job);

	/* Stopped while its start was being made durable. */
	if (job->d->stopping && job->send_at > wallclock_now_ms()) {
		job_unsent(job);
		return;
	}

	if (not_before > job->send_at)
		job->send_at = not_before;
	/* Not early, and not on a clock in doubt: armed, it waits. */
	if (job->send_at > wallclock_now_ms() || clock_held(job->d)) {
		armed_insert(job->d->dispatch, job);
		dispatch_arm(job->d);
		return;
	}
	job_submit(job);
}

/* Send every prepared job whose instant has come. */
static void fire_armed(struct smmd *d, int64_t now)
{
	struct dispatch *disp = d->dispatch;
	size_t fired = 0;
	int rearm = 0;

	while (disp->armed && disp->armed->send_at <= now) {
		struct job *job = disp->armed;
		int64_t not_before = interval_floor(job);

		/*
		 * A burst's prepared requests all fall due at one instant:
		 * past the turn's budget, the rest leave from the timer in
		 * the next turn (they would wait for each other anyway).
		 */
		if (fired > 0 && looptime_over_budget()) {
			rearm = 1;
			break;
		}
		armed_remove(disp, job);
		if (not_before > now) {
			job->send_at = not_before;
			armed_insert(disp, job);
			rearm = 1;
			continue;
		}
		job_submit(job);
		fired++;
	}
	if (rearm)
		dispatch_arm(d);
}

static void fail_now(struct smmd *d, const struct delivery_rec *rec,
                     const char *why, int64_t now)
{
	int r = store_transition(d->store,
	                         &(struct transition){.id = rec->id,
	                                              .from = DS_WAITING,
	                                              .to = DS_FAILED,
	                                              .reason = why,
	                                              .next_ms = -1,
	                                              .now_ms = now},
	                         NULL);

	store_must(d, r == -EALREADY || r == -ENOENT ? 0 : r);
	/* It was waiting (just loaded as such); the event logs why. */
	if (r > 0)
		events_change(d->events, EVO_DISPATCH, rec->id, rec->state,
		              DS_FAILED, -1, why);
	dispatch_notify(d, rec->channel, rec->id, rec->source, "failed", why);
}

/* The attempt is recorded as started: its event. */
static void job_started(const struct job *job)
{
	events_emit(job->d->events, &(struct delivery_event){
	                                    .kind = EV_STARTED,
	                                    .origin = EVO_DISPATCH,
	                                    .id = job->rec.id,
	                                    .from = (int)job->rec.state,
	                                    .to = DS_PUBLISHING,
	                                    .next_ms = job->send_at,
	                                    .attempt = job->attempt,
	                                    .latency_ms = -1,
	                            });
}

/* Returns 1 if a request is under way (a slot is taken), else 0. */
static int start_delivery(struct smmd *d, struct chan_q *q, const char *id,
                          int64_t meant_ms, int64_t send_at, int64_t now)
{
	struct job *job;
	char err[256];
	int r;

	if ((job = calloc(1, sizeof(*job))) == NULL) {
		log_error("publish: delivery '%s': out of memory, retrying in "
		          "1s",
		          id);
		dispatch_schedule(d, id, now + 1000);
		return 0;
	}
	job->d = d;
	if ((r = store_delivery_load(d->store, id, &job->rec)) < 0) {
		if (r != -ENOENT)
			log_error("store: cannot load delivery '%s': %s", id,
			          strerror(-r));
		free(job);
		return 0;
	}
	/* Cancelled (or otherwise settled) since it was queued. */
	if (job->rec.state != DS_SCHEDULED && job->rec.state != DS_RETRY_WAIT &&
	    job->rec.state != DS_DRAFT)
		goto drop;
	/*
	 * Moved later by a calendar edit while it waited for a slot: not due,
	 * so not the gate's yet (a draft held early could go early).
	 */
	if (job->rec.state != DS_RETRY_WAIT &&
	    job->rec.due_ms > now + PREPARE_LEAD_MS) {
		dispatch_schedule(d, id, job->rec.due_ms);
		goto drop;
	}
	if (pause_gate_hold(
	            d, &job->rec,
	            send_at > job->rec.due_ms ? send_at : job->rec.due_ms, now))
		goto drop;
	if ((job->ch = q->ch) == NULL) {
		snprintf(err, sizeof(err),
		         "channel '%s' is no longer in the configuration",
		         job->rec.channel);
		fail_now(d, &job->rec, err, now);
		goto drop;
	}
	/* Its credentials are being renewed: auth.c queues it again. */
	if (auth_gate(d, job->ch, id))
		goto drop;
	job->q = q;
	job->attempt = job->rec.attempts + 1;
	job->send_at = send_at;
	job->meant_ms = meant_ms;
	job->view = (struct delivery_view){
	        .delivery_id = job->rec.id,
	        .post_id = job->rec.post_id,
	        .channel = job->rec.channel,
	        .text = job->rec.text,
	        .link = job->rec.link,
	        .campaign = job->rec.campaign,
	        .media = job->rec.media,
	        .webhook_id = job->rec.webhook_id,
	        .scheduled_ms = job->rec.due_ms,
	        .attempt = job->attempt,
	        .fence = store_fence(d->store, job->rec.channel),
	};
	if ((r = job->ch->pub->build_request(job->ch, &job->view, &job->step,
	                                     send_at, &job->req, err,
	                                     sizeof(err))) < 0) {
		/* Nothing was recorded yet: try again shortly, no attempt used.
		 */
		if (r == -EACCES) {
			/* No usable token: renewed, or the channel is held. */
			log_warnx("publish: delivery '%s': %s", id, err);
			auth_refused(d, job->ch, err);
			/* Soon, not at once: the gates decide then. */
			dispatch_schedule(d, id, now + 1000);
		} else if (r == -EAGAIN) {
			log_warnx("publish: delivery '%s': %s; trying again in "
			          "5s",
			          id, err);
			dispatch_schedule(d, id, now + 5000);
		} else {
			fail_now(d, &job->rec, err, now);
		}
		goto drop;
	}
	if (store_mark_publishing(d->store, id, job->rec.row, job->attempt,
	                          send_at) < 0) {
		outage_begin(d);
		goto drop;
	}
	job_started(job);
	job->cfg = config_ref(d->cfg);
	if (store_after_commit(d->store, job_send, job) < 0)
		fatalx("store: out of memory");
	syncing_add(d->dispatch, job);
	q->in_flight++;
	q->last_start_ms = send_at;
	d->in_flight++;
	http_reserve(d->http, d->in_flight);
	return 1;
drop:
	store_delivery_clear(&job->rec);
	http_request_clear(&job->req);
	pub_step_clear(&job->step);
	free(job);
	return 0;
}

/*
 * When the head of q could leave: its due time, after its channel's
 * min_interval; -1 while the channel has no free slot. A removed channel's
 * deliveries start at once, only to be failed (may_fire says when).
 */
static int64_t chan_send_time(const struct chan_q *q, int64_t now)
{
	int64_t t = q->fifo[q->head].due_ms, last;

	if (t < now)
		t = now;
	/* Another node's to fire (claims): it waits for ours. */
	if (!q->owned)
		return -1;
	if (q->ch == NULL)
		return now;
	if (q->in_flight >= q->ch->max_in_flight)
		return -1;
	/* From the later of the last planned and the last real departure. */
	last = q->last_start_ms > q->last_sent_ms ? q->last_start_ms
	                                          : q->last_sent_ms;
	if (t < last + q->ch->min_interval_ms)
		t = last + q->ch->min_interval_ms;
	return t;
}

/*
 * Serve waiting channels round-robin, DISPATCH_QUANTUM at a time, while
 * global slots are free, preparing whatever can leave within
 * PREPARE_LEAD_MS.
 */
static void pump(struct smmd *d, int64_t now)
{
	struct dispatch *disp = d->dispatch;
	size_t misses = 0, ring_len = disp->ring_len, started = 0, popped = 0;
	struct chan_q *q;

	disp->more = 0;
	if (disp->ring == NULL)
		return;
	while (!halted(d) && d->in_flight < d->cfg->max_in_flight &&
	       disp->ring && misses < ring_len) {
		int64_t at, meant;
		char *id;

		/*
		 * Prepare a bounded batch per turn: it is committed and sent
		 * before the next, so the first posts of a burst don't wait
		 * for the whole burst to be prepared.
		 */
		if (started == PUMP_BATCH || disp->taken >= PUMP_TAKE_MAX ||
		    (popped > 0 && looptime_over_budget())) {
			disp->more = 1;
			break;
		}

		q = disp->ring;
		at = chan_send_time(q, now);
		/*
		 * Owned as the store last told, and still now: a channel let
		 * go is told of a turn later, its row perhaps gone already.
		 */
		if (at >= 0 && !may_fire(d, q)) {
			q->owned = 0;
			at = -1;
		}
		if (at < 0 || at > now + PREPARE_LEAD_MS) {
			ring_advance(disp);
			misses++;
			continue;
		}
		misses = 0;
		if (++q->served >= DISPATCH_QUANTUM)
			ring_advance(disp);
		if (q->len == 1)
			ring_len--;
		meant = q->fifo[q->head].due_ms;
		id = fifo_pop(disp, q);
		disp->taken++;
		popped++;
		started += start_delivery(d, q, id, meant, at, now);
		free(id);
	}
}

/* Whether the turn may move more from the schedule (DUE_MOVE_NS). */
static int may_move(const struct dispatch *disp)
{
	if (disp->moved < DUE_MOVE_MIN)
		return 1;
	/* The clock is read every 16 moves, not each. */
	return disp->moved < DUE_MOVE_MAX &&
	       (disp->moved % 16 != 0 || looptime_turn_ns() < DUE_MOVE_NS);
}

void dispatch_turn_over(struct smmd *d)
{
	d->dispatch->taken = 0;
	d->dispatch->moved = 0;
}

static int64_t chan_send_time(const struct chan_q *q, int64_t now);
static int64_t unlisted_miss_at(struct smmd *d, const struct chan_q *q);

int dispatch_quiet(struct smmd *d, int64_t now, int64_t within_ms)
{
	struct dispatch *disp = d->dispatch;
	int64_t next = sched_next_due(d->sched), t;
	struct chan_q *q = disp->ring;

	if (disp->armed || disp->more)
		return 0;
	/*
	 * A channel with work waiting: busy if it waits for a slot (a burst)
	 * or leaves soon; not if min_interval holds it back for long.
	 */
	if (q)
		do {
			t = chan_send_time(q, now);
			if (q->owned && (t < 0 || t <= now + within_ms))
				return 0;
			q = q->ring_next;
		} while (q != disp->ring);
	return next < 0 || next > now + within_ms;
}

void dispatch_arm(struct smmd *d)
{
	struct dispatch *disp = d->dispatch;
	int64_t due = -1, unlisted = -1, now = wallclock_now_ms();
	int r;

	/* Nothing is due on a clock in doubt: the recheck runs it. */
	if (disp->clock_held) {
		wallclock_arm(d->clock, -1);
		return;
	}
#define EARLIER(t)                                      \
	do {                                            \
		if ((t) >= 0 && (due < 0 || (t) < due)) \
			due = (t);                      \
	} while (0)

	/* A batch was cut short: go on right after this turn's commit. */
	if (disp->more && !halted(d))
		EARLIER(now);
	/* A prepared job leaves at its instant, even while stopping. */
	if (disp->armed)
		EARLIER(disp->armed->send_at);
	if (disp->napping)
		EARLIER(disp->napping->wake_ms);
	if (!halted(d)) {
		int room = d->in_flight < d->cfg->max_in_flight;
		int64_t next = sched_next_due(d->sched);
		struct chan_q *q = disp->ring;
		int shared = store_shared(d->store);

		/*
		 * Full, what is due soon still moves to the queues, a turn's
		 * share at a time: a post due just after a burst is behind the
		 * whole burst in the schedule, and moved only as slots freed
		 * (none did while the burst's first requests waited for their
		 * instant) it reached its channel 65 ms after the instant of a
		 * 50,000-post burst, and left 45 ms late.
		 */
		if (next >= 0 && (room || next <= now + PREPARE_LEAD_MS))
			EARLIER(next - PREPARE_LEAD_MS);
		/* Channels held back by min_interval, not by a full slot;
		 * and, full or not (a miss takes no slot), those no live
		 * node lists (miss_unlisted). */
		if (q && (room || shared))
			do {
				int64_t t = room ? chan_send_time(q, now) : -1;

				if (t >= 0)
					EARLIER(t - PREPARE_LEAD_MS);
				if (shared &&
				    (t = unlisted_miss_at(d, q)) >= 0 &&
				    (unlisted < 0 || t < unlisted))
					unlisted = t;
				q = q->ring_next;
			} while (q != disp->ring);
	}
	disp->unlisted_at = unlisted;
	EARLIER(unlisted);
#undef EARLIER
	/* At capacity a finishing job calls dispatch_run_due: no timer. */
	if ((r = wallclock_arm(d->clock, due)) < 0)
		fatalx("timer: cannot arm: %s", strerror(-r));
}

/*
 * Found due long after its time: smmd was down, the machine slept or the
 * clock jumped. Later than catch_up, a post is news no more: not sent.
 */
static void mark_missed(struct smmd *d, const char *id, int64_t due,
                        int64_t now, const char *unlisted)
{
	char why[512], at[TIME_RFC3339_LEN], late[32], window[32];
	struct delivery_rec rec;
	enum delivery_state from;
	int r;

	time_format_rfc3339(due, at);
	duration_format(now - due, late, sizeof(late));
	duration_format(d->cfg->catch_up_ms, window, sizeof(window));
	if (unlisted)
		snprintf(why, sizeof(why),
		         "due at %s, %s late: channel '%s' is in no live "
		         "node's configuration, and more than catch_up (%s) "
		         "went by, not sent",
		         at, late, unlisted, window);
	else
		snprintf(why, sizeof(why),
		         "due at %s, found %s late (smmd not running, or the "
		         "machine asleep): more than catch_up (%s), not sent",
		         at, late, window);
	/* Waiting for its time or for a retry: the event says which. */
	if ((r = store_delivery_load(d->store, id, &rec)) < 0) {
		if (r == -ENOENT)
			return;
		rec.state = DS_SCHEDULED;
	} else if (pause_gate_hold(d, &rec, -1, now)) {
		/*
		 * Paused, or awaiting an approval: whoever resumes or
		 * approves decides, not the catch-up rule.
		 */
		store_delivery_clear(&rec);
		return;
	}
	from = rec.state;
	store_delivery_clear(&rec);
	r = store_transition(d->store,
	                     &(struct transition){.id = id,
	                                          .from = DS_WAITING,
	                                          .to = DS_MISSED,
	                                          .reason = why,
	                                          .next_ms = -1,
	                                          .now_ms = now},
	                     NULL);
	if (r == -EALREADY || r == -ENOENT)
		return; /* settled meanwhile (cancelled, ...) */
	store_must(d, r);
	events_change(d->events, EVO_DISPATCH, id, (int)from, DS_MISSED, -1,
	              why);
	dispatch_notify(d, postid_channel(id), id, NULL, "was missed", why);
}

/*
 * On a shared store a channel in no configuration of this node's waits
 * for a node that lists it. Whether no live node does (store_listed: the
 * working node knows), with something waiting on it here.
 */
static int unlisted_now(struct smmd *d, const struct chan_q *q)
{
	return q->ch == NULL && !q->owned && q->len > 0 &&
	       store_listed(d->store, q->name) == 0;
}

/*
 * When no live node lists q's channel, what waits on it is missed once
 * more than catch_up late, as if smmd had been down: not failed at once,
 * since the node that lists it may be down a minute. When the head of q
 * is, or -1: nothing of q's, as far as this node knows now.
 */
static int64_t unlisted_miss_at(struct smmd *d, const struct chan_q *q)
{
	if (!unlisted_now(d, q))
		return -1;
	return q->fifo[q->head].due_ms + d->cfg->catch_up_ms + 1;
}

json_t *dispatch_unlisted_json(struct smmd *d)
{
	struct dispatch *disp = d->dispatch;
	json_t *arr = json_array();
	struct chan_q *q = disp->ring;
	char at[TIME_RFC3339_LEN];

	if (q == NULL || arr == NULL || !store_shared(d->store))
		return arr;
	do {
		/* Its head: the oldest, but for what a retry put first. */
		if (unlisted_now(d, q))
			json_array_append_new(
			        arr, json_pack("{s:s, s:I, s:s}", "channel",
			                       q->name, "waiting",
			                       (json_int_t)q->len, "oldest_due",
			                       time_format_rfc3339(
			                               q->fifo[q->head].due_ms,
			                               at)));
		q = q->ring_next;
	} while (q != disp->ring);
	return arr;
}

/* Whether q's channel is in no live node's configuration, said once. */
static void unlisted_say(struct smmd *d, struct chan_q *q)
{
	int listed;

	if (q->ch != NULL || q->owned) {
		q->unlisted = 0; /* listed here now */
		return;
	}
	if ((listed = store_listed(d->store, q->name)) != 0) {
		if (listed > 0 && q->unlisted)
			log_info("dispatch: channel '%s' is in a live node's "
			         "configuration again",
			         q->name);
		q->unlisted = q->unlisted && listed < 0;
		return;
	}
	if (!q->unlisted && q->len > 0)
		log_warnx("dispatch: channel '%s' is in no live node's "
		          "configuration: what waits on it is missed once "
		          "more than catch_up late, unless a node that lists "
		          "it comes back",
		          q->name);
	q->unlisted = q->unlisted || q->len > 0;
}

/*
 * What waits on channels no live node lists, missed once due: looked at
 * when the first of it is (dispatch_arm) or when who lists what may have
 * changed, not at every turn.
 */
static void miss_unlisted(struct smmd *d, int64_t now)
{
	struct dispatch *disp = d->dispatch;
	struct chan_q *q = disp->ring, *next;
	size_t left = 0;
	int64_t at;

	if (!disp->unlisted_look &&
	    (disp->unlisted_at < 0 || disp->unlisted_at > now))
		return;
	disp->unlisted_look = 0;
	if (q == NULL)
		return;
	do {
		left++;
		q = q->ring_next;
	} while (q != disp->ring);
	/* A queue emptied here leaves the ring: its next is still in it. */
	for (; left > 0; left--, q = next) {
		next = q->ring_next;
		unlisted_say(d, q);
		while ((at = unlisted_miss_at(d, q)) >= 0 && at <= now) {
			int64_t due = q->fifo[q->head].due_ms;
			char *id = fifo_pop(disp, q);

			mark_missed(d, id, due, now, q->name);
			free(id);
		}
	}
}

static void on_recheck(uv_timer_t *t)
{
	dispatch_run_due(t->data);
}

/*
 * Whether this node's clock is in doubt now (store_clock_trusted: a
 * shared store found it outvoted by the cluster's, or it was set since
 * it was last compared): then nothing is prepared and nothing leaves,
 * prepared or not, until it is trusted again, looked at every
 * CLOCK_RECHECK_MS. A post must not leave early, on a clock set ahead.
 */
static int clock_held(struct smmd *d)
{
	struct dispatch *disp = d->dispatch;
	int trusted = store_clock_trusted(d->store);

	if (trusted == !disp->clock_held)
		return disp->clock_held;
	disp->clock_held = !trusted;
	if (trusted) {
		log_info("publish: this node's clock is trusted again");
		if (disp->recheck_inited)
			uv_timer_stop(&disp->recheck);
		dispatch_arm(d); /* what fell due meanwhile */
		return 0;
	}
	log_warnx("publish: this node's clock is in doubt (set since it was "
	          "last compared with PostgreSQL's, or outvoted by the "
	          "cluster's): nothing leaves until it is trusted again");
	/* Stopping: dispatch_stop closed the timer; armed ones go unsent. */
	if (d->stopping)
		return 1;
	if (!disp->recheck_inited) {
		uv_timer_init(d->loop, &disp->recheck);
		disp->recheck.data = d;
		disp->recheck_inited = 1;
	}
	uv_timer_start(&disp->recheck, on_recheck, CLOCK_RECHECK_MS,
	               CLOCK_RECHECK_MS);
	dispatch_arm(d);
	return 1;
}

void dispatch_fire_due(void *arg)
{
	struct smmd *d = arg;
	struct job *first = d->dispatch->armed;
	int64_t now;

	/* Called for every socket event of a burst: cheap when idle. */
	if (first && first->send_at <= (now = wallclock_now_ms()) &&
	    !clock_held(d))
		fire_armed(d, now);
	if (d->dispatch->napping &&
	    d->dispatch->napping->wake_ms <= (now = wallclock_now_ms()))
		wake_napping(d, now);
}

void dispatch_run_due(void *arg)
{
	struct smmd *d = arg;
	char *id;
	int64_t now = wallclock_now_ms(), due;

	if (clock_held(d))
		return;
	fire_armed(d, now);
	wake_napping(d, now);
	if (halted(d)) {
		dispatch_arm(d);
		return;
	}
	/* What is due soon moves to its channel's queue, in due order. */
	while (may_move(d->dispatch) &&
	       (due = sched_pop_due(d->sched, now + PREPARE_LEAD_MS, &id)) >=
	               0) {
		struct chan_q *q;

		d->dispatch->moved++;
		q = chan_get(d, postid_channel(id));
		/* Another node's channel: its owner decides (pump, once this
		 * node owns it, if that node has not by then). */
		if (due < now - d->cfg->catch_up_ms &&
		    (q == NULL || q->owned)) {
			mark_missed(d, id, due, now, NULL);
			free(id);
			continue;
		}

		if (q == NULL || fifo_push(d->dispatch, q, id, due) < 0) {
			log_error("sched: out of memory; '%s' retried in 1s",
			          id);
			sched_add(d->sched, id, now + 1000);
			free(id);
			break;
		}
		/* Waiting on a channel in no configuration here: said now
		 * if no live node lists it either. */
		if (q->ch == NULL && !q->owned && store_shared(d->store))
			unlisted_say(d, q);
	}
	if (store_shared(d->store))
		miss_unlisted(d, now);
	pump(d, now);
	dispatch_arm(d);
}

/*
 * Shutdown: prepared jobs that have not left yet never will; put them
 * back as due at their instant, without using up an attempt.
 */
void dispatch_stop(struct smmd *d)
{
	struct dispatch *disp = d->dispatch;

	if (disp->recheck_inited &&
	    !uv_is_closing((uv_handle_t *)&disp->recheck))
		uv_close((uv_handle_t *)&disp->recheck, NULL);

	while (disp->armed) {
		struct job *job = disp->armed;

		armed_remove(disp, job);
		job_unsent(job);
	}
	/* Between two steps: the rest of the attempt never leaves. */
	while (disp->napping) {
		struct job *job = disp->napping;
		struct http_result res = {.code = CURLE_ABORTED_BY_CALLBACK,
		                          .latency_ms = -1};
		struct verdict v = {.kind = PUBLISH_RETRY,
		                    .retry_after_ms = -1};

		disp->napping = job->nap_next;
		snprintf(v.reason, sizeof(v.reason),
		         "smmd stopped between two steps");
		job_finish(job, &res, &v);
	}
}

/*
 * A prepared job whose scope was paused before it left: its attempt is
 * recorded as not sent (as at shutdown), and it is held.
 */
static void job_hold(struct smmd *d, struct job *job, struct pause *p)
{
	static const char why[] = "not sent: its scope was paused";
	int64_t now = wallclock_now_ms();
	struct attempt_result ar = {
	        .n = job->attempt,
	        .started_ms = job->send_at,
	        .finished_ms = now,
	        .error = why,
	        .latency_ms = -1,
	        .row = job->rec.row,
	};

	store_must(d, store_record_result(d->store, job->rec.id, &ar,
	                                  DS_RETRY_WAIT, now, why, NULL, NULL));
	events_change(d->events, EVO_DISPATCH, job->rec.id, DS_PUBLISHING,
	              DS_RETRY_WAIT, now, why);
	pause_hold(d, &job->rec, DS_RETRY_WAIT, p, now);
	job_ended(d, job->q);
}

void dispatch_hold_prepared(struct smmd *d)
{
	struct dispatch *disp = d->dispatch;
	struct job *job, *next;
	struct pause *p;

	for (job = disp->armed; job; job = next) {
		next = job->armed_next;
		if ((p = pause_gate(d, &job->rec)) == NULL)
			continue;
		armed_remove(disp, job);
		job_hold(d, job, p);
		job_free(job);
	}
	for (job = disp->syncing; job; job = next) {
		next = job->sync_next;
		if ((p = pause_gate(d, &job->rec)) == NULL)
			continue;
		syncing_remove(disp, job);
		job_hold(d, job, p);
		job->withdrawn = 1; /* job_send frees it */
	}
	dispatch_arm(d);
}

void dispatch_ended_here(struct smmd *d, const char *channel)
{
	struct chan_q *q = chan_find(d->dispatch, channel);

	if (q)
		q->ended_in = store_turn_batch(d->store);
}

int dispatch_has_job(struct smmd *d, const char *id)
{
	struct dispatch *disp = d->dispatch;
	struct job *lists[] = {disp->armed, disp->syncing, disp->flying,
	                       disp->napping};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (struct job *job = lists[i]; job;
		     job = i == 0   ? job->armed_next
		           : i == 1 ? job->sync_next
		           : i == 2 ? job->fly_next
		                    : job->nap_next)
			if (strcmp(job->rec.id, id) == 0)
				return 1;
	return 0;
}

/* 1 if delivery did is id, or one of post id's deliveries. */
static int id_matches(const char *did, const char *id, size_t n)
{
	return strcmp(did, id) == 0 ||
	       (strncmp(did, id, n) == 0 && did[n] == '/');
}

/* Record a prepared job as cancelled and give its slot back. */
static void withdraw_job(struct smmd *d, struct job *job, json_t *out)
{
	const char *did = job->rec.id;
	struct attempt_result ar = {
	        .n = job->attempt,
	        .started_ms = job->send_at,
	        .finished_ms = wallclock_now_ms(),
	        .error = "cancelled before it was sent",
	        .latency_ms = -1,
	};

	store_must(d, store_record_result(d->store, did, &ar, DS_CANCELLED, -1,
	                                  "cancelled", NULL, NULL));
	events_change(d->events, EVO_CONTROL, did, DS_PUBLISHING, DS_CANCELLED,
	              -1, NULL);
	json_array_append_new(out, json_string(did));
	job_ended(d, job->q);
}

/*
 * Cancel deliveries prepared but not yet sent (id: a delivery, or all of
 * a post's): armed for their instant, or still waiting for their start
 * to be durable. Returns the withdrawn ids (caller owns) or NULL.
 */
json_t *dispatch_withdraw(struct smmd *d, const char *id)
{
	struct dispatch *disp = d->dispatch;
	size_t n = strlen(id);
	json_t *out = json_array();
	struct job *job, *next;

	for (job = disp->armed; job; job = next) {
		next = job->armed_next;
		if (!id_matches(job->rec.id, id, n))
			continue;
		armed_remove(disp, job);
		withdraw_job(d, job, out);
		job_free(job);
	}
	for (job = disp->syncing; job; job = next) {
		next = job->sync_next;
		if (!id_matches(job->rec.id, id, n))
			continue;
		syncing_remove(disp, job);
		withdraw_job(d, job, out);
		job->withdrawn = 1; /* job_send frees it */
	}
	return out;
}

int dispatch_schedule(struct smmd *d, const char *id, int64_t due_ms)
{
	int64_t before = sched_next_due(d->sched);
	int r;

	if ((r = sched_add(d->sched, id, due_ms)) < 0)
		return r;
	if (before < 0 || due_ms < before)
		dispatch_arm(d);
	return 0;
}

int dispatch_first(struct smmd *d, const char *id)
{
	int64_t now = wallclock_now_ms();
	struct chan_q *q = chan_get(d, postid_channel(id));
	char *copy;

	if (q == NULL || (copy = strdup(id)) == NULL)
		return -ENOMEM;
	if (fifo_put(d->dispatch, q, copy, now, 1) < 0) {
		free(copy);
		return -ENOMEM;
	}
	/* Its channel is served next; the pump runs after this turn. */
	ring_front(d->dispatch, q);
	d->dispatch->more = 1;
	dispatch_arm(d);
	return 0;
}

void dispatch_unschedule(struct smmd *d, const char *id)
{
	/*
	 * Only the heap: an id already in a channel queue is dropped when
	 * its turn comes, since the store no longer says it is due.
	 */
	if (sched_remove(d->sched, id))
		dispatch_arm(d);
}

/* Whether delivery id still waits to be sent (a pending state). */
static int still_pending(const struct delivery_rec *rec)
{
	return rec->state == DS_SCHEDULED || rec->state == DS_RETRY_WAIT ||
	       rec->state == DS_DRAFT;
}

/* Drop from q's queue what no longer waits to be sent. */
static void fifo_prune(struct smmd *d, struct chan_q *q)
{
	size_t kept = 0;

	for (size_t k = 0; k < q->len; k++) {
		struct waiting w = q->fifo[(q->head + k) % q->cap];
		struct delivery_rec rec;
		int r = store_delivery_load(d->store, w.id, &rec);
		/* What the view cannot say now is kept: looked at when due. */
		int keep = (r < 0 && r != -ENOENT) ||
		           (r == 0 && still_pending(&rec));

		store_delivery_clear(&rec);
		if (keep)
			q->fifo[(q->head + kept++) % q->cap] = w;
		else
			free(w.id);
	}
	q->len = kept;
	q->stale = 0;
	if (kept == 0)
		ring_remove(d->dispatch, q);
}

/*
 * Delivery id goes in the heap at the time the view says it is due, if
 * it waits to be sent: 1; 0 when it does not (gone, sent, cancelled);
 * -1 when the view cannot say.
 */
static int schedule_pending(struct smmd *d, const char *id, int64_t *held_by)
{
	struct delivery_rec rec;
	int r = store_delivery_load(d->store, id, &rec), pending;

	if (held_by)
		*held_by = r == 0 && rec.state == DS_HELD ? rec.held_by : 0;
	pending = r == 0 && still_pending(&rec);
	if (pending && dispatch_schedule(d, id, rec.next_ms) < 0)
		fatalx("sched: out of memory");
	store_delivery_clear(&rec);
	return pending ? 1 : r < 0 && r != -ENOENT ? -1 : 0;
}

int64_t dispatch_follow(struct smmd *d, const char *id)
{
	struct chan_q *q;
	int64_t held_by;

	/* Pending, or the view cannot say (the entry is looked at when due). */
	if (schedule_pending(d, id, &held_by) != 0)
		return 0;
	dispatch_unschedule(d, id);
	/* Maybe queued already: dropped when its turn comes, or with the
	 * others once they are half the queue, so that a channel another
	 * node fires never fills this node's memory. */
	if ((q = chan_find(d->dispatch, postid_channel(id))) != NULL &&
	    q->len > 0 && ++q->stale > q->len / 2)
		fifo_prune(d, q);
	return held_by;
}

/* The channel part of id is arg. */
static int on_channel(void *arg, const char *id)
{
	return strcmp(postid_channel(id), arg) == 0;
}

/*
 * Whether channel may go to another node (store_claims): nothing of it
 * in flight or waiting for a slot, the end of its last request kept,
 * and nothing due soon, so that the node that takes it has claimed it
 * by then.
 */
static int may_release(void *arg, const char *channel)
{
	struct smmd *d = arg;
	struct chan_q *q = chan_find(d->dispatch, channel);

	/* Its last result still on its way to the store: a moment. */
	if (q && !store_batch_kept(d->store, q->ended_in))
		return 0;
	/* Taking over, or dropped by a reload: what waits is the next
	 * owner's (its heap has it), once nothing is in flight here. */
	if (d->handing_over || (q && q->ch == NULL))
		return q == NULL || q->in_flight == 0;
	if (q && (q->in_flight > 0 || q->len > 0))
		return 0;
	return !sched_any_before(d->sched,
	                         wallclock_now_ms() + STORE_CLAIM_QUIET_MS,
	                         on_channel, (void *)channel);
}

/*
 * This node fires q from now on. What waited in its queue while another
 * node fired it goes back to the heap at the time the view says now (a
 * retry's, a calendar edit's), so that it goes then, or is missed past
 * catch_up, as anything found due; and what the node before left in
 * flight on it is recovered.
 */
static void take_channel(struct smmd *d, struct chan_q *q)
{
	log_info("dispatch: channel '%s' taken over from another node: its "
	         "queue goes by the view, what that node left in flight is "
	         "recovered",
	         q->name);
	q->took = 1;
	while (q->len > 0) {
		char *id = fifo_pop(d->dispatch, q);

		/* The view cannot say: as it was queued, looked at then. */
		if (schedule_pending(d, id, NULL) < 0 &&
		    dispatch_schedule(d, id, wallclock_now_ms()) < 0)
			fatalx("sched: out of memory");
		free(id);
	}
	q->stale = 0;
	recover_taken(d, q->name);
	auth_taken(d, q->name);
}

/*
 * What this node may fire changed (told: by the store, which then says
 * what it owns): what waited for it goes, and what the node that fired a
 * channel taken over left in flight on it is recovered.
 */
static void owners_changed(struct smmd *d, int told)
{
	/* Before the first claims, owning nothing is no news (the start's
	 * took stays); after them, a channel not owned was let go. */
	int known = store_claims_known(d->store);

	/* Every configured channel's queue, so each take-over is seen. */
	for (size_t i = 0; i < d->cfg->nchannels; i++)
		chan_get(d, d->cfg->channels[i].name); /* NULL: seen later */
	for (size_t i = 0; i < CHAN_BUCKETS; i++)
		for (struct chan_q *q = d->dispatch->buckets[i]; q;
		     q = q->hash_next) {
			q->owned = may_fire(d, q);
			if (!q->owned || !q->ch)
				q->took = q->took && !known;
			else if (told && !q->took && !d->stopping)
				take_channel(d, q);
		}
	d->dispatch->unlisted_look = 1;
	if (!d->stopping)
		dispatch_run_due(d);
}

static void claims_changed(void *arg)
{
	owners_changed(arg, 1);
}

/* The configured channels are the ones this node asks to fire (none
 * while a worker hands over). */
static void claim_channels(struct smmd *d)
{
	const char **names;
	int r = -ENOMEM;

	if (d->standby && !d->worker)
		return; /* it fires nothing */
	if ((names = calloc(d->cfg->nchannels + 1, sizeof(*names))) != NULL) {
		for (size_t i = 0; i < d->cfg->nchannels && !d->handing_over;
		     i++)
			names[i] = d->cfg->channels[i].name;
		r = store_claim(d->store, &(struct store_claims){
		                                  .channels = names,
		                                  .may_release = may_release,
		                                  .changed = claims_changed,
		                                  .arg = d});
		free(names);
	}
	if (r < 0)
		fatalx("store: cannot claim the channels: %s", strerror(-r));
}

void dispatch_release_all(struct smmd *d)
{
	claim_channels(d); /* none, handing over */
}

void dispatch_reload(struct smmd *d)
{
	for (size_t i = 0; i < CHAN_BUCKETS; i++)
		for (struct chan_q *q = d->dispatch->buckets[i]; q;
		     q = q->hash_next)
			q->ch = config_channel(d->cfg, q->name);
	claim_channels(d);
	owners_changed(d, 0); /* the store tells what it takes */
}

static void queue_pending(void *arg, const char *id, int64_t due_ms)
{
	struct smmd *d = arg;

	if (sched_add(d->sched, id, due_ms) < 0)
		fatalx("sched: out of memory loading the schedule");
}

/*
 * The start's recovery, and its tokens read in auth_start, cover every
 * channel no other live node owns: its first claim of them is no take.
 */
static int recover_start(struct smmd *d)
{
	json_t *leave = store_owned_elsewhere(d->store);
	struct chan_q *q;
	int r;

	if (leave == NULL)
		return -EIO;
	r = recover_at_start(d, leave);
	for (size_t i = 0; r == 0 && i < d->cfg->nchannels; i++) {
		const char *name = d->cfg->channels[i].name;

		if (json_object_get(leave, name) == NULL &&
		    (q = chan_get(d, name)) != NULL)
			q->took = 1;
	}
	json_decref(leave);
	return r;
}

int dispatch_load(struct smmd *d)
{
	int r;

	/* A worker's start: what is publishing is the working node's or
	 * another worker's; what it takes over is recovered as it does. */
	if (!d->worker && (r = recover_start(d)) < 0)
		return r;
	claim_channels(d);
	if ((r = store_for_each_pending(d->store, queue_pending, d)) < 0)
		return r;
	log_info("sched: %zu deliveries pending", sched_len(d->sched));
	dispatch_arm(d);
	return 0;
}
