#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <curl/curl.h>

#include "backoff.h"
#include "config.h"
#include "dispatch.h"
#include "http.h"
#include "log.h"
#include "postid.h"
#include "publishers/publisher.h"
#include "sched.h"
#include "smmd.h"
#include "store.h"
#include "timeparse.h"
#include "wallclock.h"

/* One attempt of one delivery, from its durable start to its result. */
struct job {
	struct smmd *d;
	struct config *cfg; /* the config it started under (a reference) */
	const struct channel *ch;
	struct delivery_rec rec;
	struct http_request req;
	unsigned attempt;
	int64_t started_ms;
};

/* Store writes fail only when the disk does; we can't go on then. */
static void store_must(int r, const char *what, const char *id)
{
	if (r < 0)
		fatalx("store: cannot record %s of '%s': %s", what, id,
		       strerror(-r));
}

static void job_free(struct job *job)
{
	store_delivery_clear(&job->rec);
	http_request_clear(&job->req);
	config_unref(job->cfg);
	free(job);
}

static int64_t retry_delay(const struct channel *ch, unsigned attempt,
                           const struct verdict *v)
{
	uint32_t rnd = 0;

	/* Retry-After is the endpoint's wish; cap it so a typo can't park a
	 * post for years. */
	if (v->retry_after_ms >= 0)
		return v->retry_after_ms < 24 * 3600 * 1000 ? v->retry_after_ms
		                                            : 24 * 3600 * 1000;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)wallclock_now_ms();
	return backoff_delay_ms(attempt, ch->retry_base_ms, ch->retry_max_ms,
	                        rnd);
}

static void job_done(void *arg, const struct http_result *res)
{
	struct job *job = arg;
	struct smmd *d = job->d;
	struct delivery_rec *rec = &job->rec;
	int64_t now = wallclock_now_ms(), next = -1;
	struct attempt_result ar = {
	        .n = job->attempt,
	        .started_ms = job->started_ms,
	        .finished_ms = now,
	        .http_status = res->status,
	        .error = res->status == 0 ? res->error : NULL,
	        .latency_ms = res->latency_ms,
	};
	struct verdict v;
	enum delivery_state state;
	enum log_level level;
	char delay[32], outcome[64], why[320] = "";
	struct delivery_log entry = {
	        .post_id = rec->post_id,
	        .channel = rec->channel,
	        .attempt = job->attempt,
	        .http_status = res->status,
	        .latency_ms = res->latency_ms,
	        .outcome = outcome,
	};

	job->ch->pub->classify(job->ch, res, now, &v);
	entry.detail = v.reason;
	/*
	 * Cut off by our own shutdown: not the endpoint's fault, so it must
	 * not use up the last attempt. Due again at once after restart.
	 */
	if (d->stopping && res->code == CURLE_ABORTED_BY_CALLBACK) {
		state = DS_RETRY_WAIT;
		next = now;
		level = LOG_LEVEL_WARNING;
		snprintf(outcome, sizeof(outcome), "retrying after restart");
	} else if (v.kind == PUBLISH_OK) {
		state = DS_PUBLISHED;
		level = LOG_LEVEL_INFO;
		snprintf(outcome, sizeof(outcome), "published");
	} else if (v.kind == PUBLISH_RETRY &&
	           job->attempt < job->ch->max_attempts) {
		state = DS_RETRY_WAIT;
		next = now + retry_delay(job->ch, job->attempt, &v);
		level = LOG_LEVEL_WARNING;
		snprintf(outcome, sizeof(outcome), "retry in %s",
		         duration_format(next - now, delay, sizeof(delay)));
	} else if (v.kind == PUBLISH_RETRY) {
		state = DS_FAILED;
		level = LOG_LEVEL_ERROR;
		snprintf(why, sizeof(why), "gave up after %u attempts: %s",
		         job->attempt, v.reason);
		snprintf(outcome, sizeof(outcome), "failed: no attempts left");
	} else {
		state = DS_FAILED;
		level = LOG_LEVEL_ERROR;
		snprintf(outcome, sizeof(outcome), "failed");
	}
	log_delivery(level, &entry);
	store_must(store_record_result(d->store, rec->id, &ar, state, next,
	                               state == DS_PUBLISHED ? NULL
	                               : why[0]              ? why
	                                                     : v.reason),
	           "the result", rec->id);
	if (state == DS_RETRY_WAIT && dispatch_schedule(d, rec->id, next) < 0)
		log_error("sched: delivery '%s' kept for retry but not queued "
		          "(out of memory); it runs after a restart",
		          rec->id);
	d->in_flight--;
	job_free(job);
	/* A slot is free: start what waited for one. */
	dispatch_run_due(d);
}

/* After the commit that made "publishing" durable: send. */
static void job_send(void *arg)
{
	struct job *job = arg;
	int r;

	if ((r = http_submit(job->d->http, &job->req, job_done, job)) < 0) {
		struct http_result res = {
		        .error = strerror(-r),
		        .latency_ms = 0,
		};
		job_done(job, &res);
	}
}

static void fail_now(struct smmd *d, const char *id, const char *why,
                     int64_t now)
{
	log_error("publish: delivery '%s': %s, failed", id, why);
	store_must(store_set_state(d->store, id, DS_FAILED, why, now),
	           "the failure", id);
}

static void start_delivery(struct smmd *d, const char *id, int64_t now)
{
	struct job *job;
	struct delivery_view view;
	char err[256];
	int r;

	if ((job = calloc(1, sizeof(*job))) == NULL) {
		log_error(
		        "publish: delivery '%s': out of memory, retrying in 1s",
		        id);
		dispatch_schedule(d, id, now + 1000);
		return;
	}
	job->d = d;
	if ((r = store_delivery_load(d->store, id, &job->rec)) < 0) {
		if (r != -ENOENT)
			log_error("store: cannot load delivery '%s': %s", id,
			          strerror(-r));
		free(job);
		return;
	}
	/* Cancelled (or otherwise settled) since it was queued. */
	if (job->rec.state != DS_SCHEDULED && job->rec.state != DS_RETRY_WAIT)
		goto drop;
	if ((job->ch = config_channel(d->cfg, job->rec.channel)) == NULL) {
		snprintf(err, sizeof(err),
		         "channel '%s' is no longer in the configuration",
		         job->rec.channel);
		fail_now(d, id, err, now);
		goto drop;
	}
	job->attempt = job->rec.attempts + 1;
	job->started_ms = now;
	view = (struct delivery_view){
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
	};
	if (job->ch->pub->build_request(job->ch, &view, now, &job->req, err,
	                                sizeof(err)) < 0) {
		fail_now(d, id, err, now);
		goto drop;
	}
	store_must(store_mark_publishing(d->store, id, job->attempt, now),
	           "the start of an attempt", id);
	job->cfg = config_ref(d->cfg);
	if (store_after_commit(d->store, job_send, job) < 0)
		fatalx("store: out of memory");
	d->in_flight++;
	return;
drop:
	store_delivery_clear(&job->rec);
	http_request_clear(&job->req);
	free(job);
}

void dispatch_arm(struct smmd *d)
{
	int64_t due = -1;
	int r;

	/* At capacity a finishing job calls dispatch_run_due: no timer. */
	if (!d->stopping && d->in_flight < d->cfg->max_in_flight)
		due = sched_next_due(d->sched);
	if ((r = wallclock_arm(d->clock, due)) < 0)
		fatalx("timer: cannot arm: %s", strerror(-r));
}

void dispatch_run_due(void *arg)
{
	struct smmd *d = arg;
	char id[POSTID_MAX * 2 + 2];
	int64_t now = wallclock_now_ms();

	while (!d->stopping && d->in_flight < d->cfg->max_in_flight &&
	       sched_pop_due(d->sched, now, id, sizeof(id)) >= 0)
		start_delivery(d, id, now);
	dispatch_arm(d);
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

void dispatch_unschedule(struct smmd *d, const char *id)
{
	if (sched_remove(d->sched, id))
		dispatch_arm(d);
}

static void queue_pending(void *arg, const char *id, int64_t due_ms)
{
	struct smmd *d = arg;

	if (sched_add(d->sched, id, due_ms) < 0)
		fatalx("sched: out of memory loading the schedule");
}

int dispatch_load(struct smmd *d)
{
	int64_t now = wallclock_now_ms();
	int r;

	if ((r = store_recover_interrupted(d->store, now)) < 0)
		return r;
	if (r > 0)
		log_warnx("store: %d deliveries were in flight when smmd "
		          "stopped; retrying them with the same webhook-id",
		          r);
	if ((r = store_for_each_pending(d->store, queue_pending, d)) < 0)
		return r;
	log_info("sched: %zu deliveries pending", sched_len(d->sched));
	dispatch_arm(d);
	return 0;
}
