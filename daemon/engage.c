/*
 * The engagement reader (engage.h). State per channel lives here, in
 * memory, rebuilt on reload; what must survive a restart (when each
 * delivery's next sample is due, the samples, which channels are stopped)
 * lives in the store. One request per channel at a time keeps the
 * bookkeeping simple and the load on any one network small.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "config.h"
#include "dispatch.h"
#include "engage.h"
#include "hashtab.h"
#include "http.h"
#include "log.h"
#include "looptime.h"
#include "prom.h"
#include "publishers/publisher.h"
#include "ratelimit.h"
#include "smmd.h"
#include "store.h"
#include "wallclock.h"

/* A Mastodon batch read takes up to 20 statuses. */
#define BATCH_MAX 20
/* Start a read only when no post is due within this. */
#define YIELD_MS 25
/* After an error, wait this long, doubling up to ERROR_BACKOFF_MAX_MS. */
#define ERROR_BACKOFF_MS     (60 * 1000)
#define ERROR_BACKOFF_MAX_MS (3600 * 1000)
/* A 429 with no Retry-After nor reset waits this long. */
#define RATE_LIMIT_WAIT_MS (60 * 1000)
#define AUDIENCE_EVERY_MS  (24 * 3600 * 1000)
#define READ_TIMEOUT_MS    (30 * 1000)

struct engage_chan {
	char *name;
	int readable;          /* its publisher reads engagement, not off */
	int audience;          /* ... and its audience */
	struct ratelimit rl;   /* the budget the network last stated */
	int64_t blocked_until; /* no read before this (429, errors) */
	int64_t backoff_ms;    /* the next error's wait; 0: the first */
	int single_only;       /* a batch read was refused: one at a time */
	char *stopped;         /* why polling stopped; NULL: it did not */
	int busy;              /* a read of ours is under way */
	int64_t audience_due;  /* -1: not known yet */
	/* Its next sample's due time (-1: none), kept from the store's
	 * index so that arming the timer reads no table. */
	int64_t sample_due;
};

struct engage {
	struct smmd *d;
	uv_timer_t timer;
	int timer_init;
	int64_t armed_at; /* -1: not armed */
	struct engage_chan *chans;
	size_t nchans;
	struct hashtab by_name;
	size_t rr; /* where the next round starts */
	struct engage_stats stats;
};

/* One sample's row, copied out of the store for the request's life. */
struct fetch_row {
	char *id, *post_id, *webhook_id, *remote_id;
	int64_t age_ms, due_ms;
};

/* One read under way. */
struct fetch {
	struct smmd *d;
	char *channel;
	int audience; /* an audience read, no items */
	size_t n;
	struct fetch_row rows[BATCH_MAX];
	struct engage_item items[BATCH_MAX];
};

static const char *chan_key(const void *ctx, uint32_t pos)
{
	const struct engage *e = ctx;

	return e->chans[pos].name;
}

struct engage *engage_new(void)
{
	struct engage *e = calloc(1, sizeof(*e));

	if (e)
		e->armed_at = -1;
	return e;
}

static void chans_free(struct engage_chan *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].stopped);
	}
	free(v);
}

void engage_free(struct engage *e)
{
	if (e == NULL)
		return;
	hashtab_free(&e->by_name);
	chans_free(e->chans, e->nchans);
	free(e);
}

static struct engage_chan *chan_find(struct engage *e, const char *name)
{
	uint32_t pos;

	if (e == NULL || !hashtab_find(&e->by_name, name, &pos))
		return NULL;
	return &e->chans[pos];
}

static const struct engage_ops *ops_of(const struct channel *ch)
{
	return ch && ch->pub ? ch->pub->engage : NULL;
}

/* Its posts' engagement can be read: its metrics name at least one age. */
static int readable(const struct channel *ch)
{
	const struct engage_ops *ops = ops_of(ch);

	return ops && ops->request && ops->enabled(ch) && ch->metrics.n > 0;
}

/*
 * The channels of the config now in force, keeping what was learnt of
 * those that stay (budget, batch support); a reload lifts every stop.
 */
static int chans_rebuild(struct engage *e, const struct config *cfg)
{
	struct engage_chan *v =
	        calloc(cfg->nchannels ? cfg->nchannels : 1, sizeof(*v));
	size_t n = 0;

	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nchannels; i++) {
		const struct channel *ch = &cfg->channels[i];
		const struct engage_ops *ops = ops_of(ch);
		struct engage_chan *old = chan_find(e, ch->name), *c = &v[n];

		if (old)
			*c = (struct engage_chan){
			        .rl = old->rl,
			        .blocked_until = old->blocked_until,
			        .single_only = old->single_only,
			        .busy = old->busy};
		else
			c->rl = (struct ratelimit){-1, -1, -1};
		c->audience_due = -1;
		c->sample_due = -1;
		if ((c->name = strdup(ch->name)) == NULL) {
			chans_free(v, n);
			return -ENOMEM;
		}
		c->readable = readable(ch);
		c->audience = ops && ops->audience_request &&
		              ops->enabled(ch) && ch->metrics.n > 0;
		n++;
	}
	hashtab_free(&e->by_name);
	chans_free(e->chans, e->nchans);
	e->chans = v;
	e->nchans = n;
	hashtab_init(&e->by_name, chan_key, e);
	for (size_t i = 0; i < n; i++)
		if (hashtab_add(&e->by_name, (uint32_t)i) < 0)
			return -ENOMEM;
	return 0;
}

static void on_timer(uv_timer_t *t);

/* Wake at when (ms, wall clock), unless already armed earlier. */
static void arm_at(struct engage *e, int64_t when, int64_t now)
{
	if (!e->timer_init || e->d->stopping)
		return;
	if (e->armed_at >= 0 && e->armed_at <= when)
		return;
	e->armed_at = when;
	/* The delay counts from the loop's clock, which lags within a turn. */
	uv_update_time(e->d->loop);
	uv_timer_start(&e->timer, on_timer,
	               (uint64_t)(when > now ? when - now : 0), 0);
}

/*
 * Ask the store when c's next sample is due: once at start and reload,
 * then for that channel alone after each of its reads (which move its
 * samples on); a publish can only bring it earlier (engage_published).
 */
static void learn_sample_due(struct engage *e, struct engage_chan *c,
                             int64_t now)
{
	if (c->readable &&
	    store_engage_next(e->d->store, c->name, &c->sample_due) < 0)
		c->sample_due = now + ERROR_BACKOFF_MS;
}

/* The next moment anything can be read. */
static void arm_next(struct engage *e, int64_t now)
{
	int64_t next = -1;

	uv_timer_stop(&e->timer);
	e->armed_at = -1;
	/* At the cap, the next read to finish pumps again. */
	if (e->stats.in_flight >= e->d->cfg->metrics_in_flight)
		return;
	for (size_t i = 0; i < e->nchans; i++) {
		struct engage_chan *c = &e->chans[i];
		int64_t t = c->readable ? c->sample_due : -1;

		if (c->stopped || c->busy)
			continue;
		if (c->audience &&
		    (t < 0 || (c->audience_due >= 0 && c->audience_due < t)))
			t = c->audience_due < 0 ? now : c->audience_due;
		if (t < 0)
			continue;
		if (t < c->blocked_until)
			t = c->blocked_until;
		if (next < 0 || t < next)
			next = t;
	}
	if (next >= 0)
		arm_at(e, next, now);
}

/* Learn the budget from a response (publishing's or ours). */
static void note_budget(struct engage_chan *c, const struct http_result *res,
                        int64_t now)
{
	struct ratelimit rl;
	int64_t delay;

	ratelimit_parse(&res->ratelimit, now, &rl);
	if (rl.remaining >= 0) {
		c->rl = rl;
	}
	if (res->status == 429) {
		int64_t until = now + RATE_LIMIT_WAIT_MS;

		if (res->retry_after &&
		    retry_after_parse(res->retry_after, now, &delay) == 0)
			until = now + delay;
		else if (rl.reset_ms > now)
			until = rl.reset_ms;
		if (until > c->blocked_until)
			c->blocked_until = until;
	}
}

/*
 * Whether reading now would eat into what publishing needs: a fifth of the
 * window (at least 5 requests) stays for posts until the window resets.
 */
static int budget_low(struct engage_chan *c, int64_t now)
{
	int64_t reserve;

	if (c->rl.remaining < 0)
		return 0;
	if (c->rl.reset_ms >= 0 && c->rl.reset_ms <= now) {
		c->rl = (struct ratelimit){-1, -1, -1};
		return 0;
	}
	reserve = c->rl.limit > 0 ? c->rl.limit / 5 : 0;
	if (reserve < 5)
		reserve = 5;
	if (c->rl.remaining > reserve)
		return 0;
	c->blocked_until =
	        c->rl.reset_ms >= 0 ? c->rl.reset_ms : now + RATE_LIMIT_WAIT_MS;
	return 1;
}

static void fetch_free(struct fetch *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->rows[i].id);
		free(f->rows[i].post_id);
		free(f->rows[i].webhook_id);
		free(f->rows[i].remote_id);
	}
	free(f->channel);
	free(f);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void take_row(void *arg, const struct engage_row *row)
{
	struct fetch *f = arg;
	struct fetch_row *r = &f->rows[f->n];

	*r = (struct fetch_row){
	        .id = strdup(row->id),
	        .post_id = dup_or_null(row->post_id),
	        .webhook_id = dup_or_null(row->webhook_id),
	        .remote_id = dup_or_null(row->remote_id),
	        .age_ms = row->age_ms,
	        .due_ms = row->due_ms,
	};
	if (r->id == NULL) { /* out of memory: read it next time */
		free(r->post_id);
		free(r->webhook_id);
		free(r->remote_id);
		return;
	}
	f->items[f->n++] = (struct engage_item){
	        .delivery_id = r->id,
	        .post_id = r->post_id,
	        .webhook_id = r->webhook_id,
	        .remote_id = r->remote_id,
	};
}

/*
 * The next age after age_ms still ahead of now for a delivery published
 * at published_ms, in *due: ages that passed while smmd was down are
 * skipped, the sample just taken stood for them. -1: no more.
 */
static int64_t next_age(const struct engage_ages *ages, int64_t published_ms,
                        int64_t age_ms, int64_t now, int64_t *due)
{
	for (int i = 0; i < ages->n; i++)
		if (ages->ms[i] > age_ms && published_ms + ages->ms[i] > now) {
			*due = published_ms + ages->ms[i];
			return ages->ms[i];
		}
	*due = 0;
	return -1;
}

static void fetch_done(void *arg, const struct http_result *res);

/*
 * What comes due this soon goes along with a read (posts published
 * together are read together): 2% of the first age, at least 250 ms (a
 * burst takes that long to publish), never over a quarter of the age, so
 * a sample never stands for an older one.
 */
static int64_t batch_lead(int64_t first_age_ms)
{
	int64_t lead = first_age_ms / 50;

	if (lead < 250)
		lead = 250;
	return lead < first_age_ms / 4 ? lead : first_age_ms / 4;
}

static int fetch_submit(struct engage *e, struct engage_chan *c,
                        const struct channel *ch, struct fetch *f)
{
	const struct engage_ops *ops = ops_of(ch);
	struct http_request req = {0};
	char err[256];
	int r;

	r = f->audience
	            ? ops->audience_request(ch, &req, err, sizeof(err))
	            : ops->request(ch, f->items, f->n, &req, err, sizeof(err));
	if (r < 0) {
		log_warnx("engagement: channel '%s': %s", ch->name, err);
		http_request_clear(&req);
		return -1;
	}
	req.timeout_ms = ch->timeout_ms < READ_TIMEOUT_MS ? ch->timeout_ms
	                                                  : READ_TIMEOUT_MS;
	req.connect_timeout_ms = ch->connect_timeout_ms;
	if ((r = http_submit(e->d->http, &req, fetch_done, f)) < 0) {
		log_warnx("engagement: channel '%s': cannot start a read: %s",
		          ch->name, strerror(-r));
		return -1;
	}
	c->busy = 1;
	e->stats.in_flight++;
	return 0;
}

/* Start one read on c: its audience if due, else its due samples. */
static int fetch_start(struct engage *e, struct engage_chan *c,
                       const struct channel *ch, int64_t now)
{
	const struct engage_ops *ops = ops_of(ch);
	struct fetch *f = calloc(1, sizeof(*f));
	unsigned batch;

	if (f == NULL || (f->channel = strdup(c->name)) == NULL) {
		free(f);
		return -1;
	}
	f->d = e->d;
	if (c->audience && c->audience_due >= 0 && c->audience_due <= now) {
		f->audience = 1;
	} else if (c->readable) {
		batch = c->single_only ? 1 : ops->batch;
		if (batch > BATCH_MAX)
			batch = BATCH_MAX;
		if (store_engage_due(e->d->store, c->name,
		                     now + batch_lead(ch->metrics.ms[0]),
		                     batch ? batch : 1, take_row, f) < 0 ||
		    f->n == 0) {
			/* Nothing due after all: what is, then. */
			learn_sample_due(e, c, now);
			fetch_free(f);
			return 0;
		}
	} else {
		fetch_free(f);
		return 0;
	}
	if (fetch_submit(e, c, ch, f) < 0) {
		/* A bad request stays bad: try again after a while. */
		c->blocked_until = now + ERROR_BACKOFF_MAX_MS;
		fetch_free(f);
		return -1;
	}
	return 1;
}

/* A refused token: stop polling the channel, say so once. */
static void chan_stop(struct engage *e, struct engage_chan *c,
                      const struct channel *ch, long status, int64_t now)
{
	struct smmd *d = e->d;
	char why[160], text[320];

	snprintf(why, sizeof(why),
	         "the network refused the token (HTTP %ld) when reading "
	         "engagement",
	         status);
	if ((c->stopped = strdup(why)) == NULL)
		return;
	if (store_engage_stop(d->store, c->name, now, why) < 0)
		log_warnx("engagement: channel '%s': cannot record the stop; "
		          "polling resumes after a restart",
		          c->name);
	log_warnx("engagement: channel '%s': %s; not polled again until "
	          "the config is reloaded",
	          c->name, why);
	snprintf(text, sizeof(text),
	         "smmd: engagement for channel '%s' stopped: %s. Renew the "
	         "token, then reload smmd.",
	         c->name, why);
	if (ch->notify)
		dispatch_notice(d, ch->notify, text, "an engagement token");
	e->stats.stopped++;
}

/* Keep one sample and plan the next. */
static void keep_sample(struct engage *e, const struct channel *ch,
                        const struct fetch_row *r, const struct engage_item *it,
                        int64_t now)
{
	struct store *st = e->d->store;
	int64_t published = r->due_ms - r->age_ms, due, age;
	int bad = 0;

	if (it->found) {
		bad = store_engage_sample(st,
		                          &(struct engage_sample){
		                                  .id = r->id,
		                                  .age_ms = r->age_ms,
		                                  .taken_ms = now,
		                                  .likes = it->got.likes,
		                                  .shares = it->got.shares,
		                                  .comments = it->got.comments,
		                                  .quotes = it->got.quotes,
		                                  .views = it->got.views,
		                          }) < 0;
		e->stats.samples += !bad;
		age = next_age(&ch->metrics, published, r->age_ms, now, &due);
	} else {
		/* Deleted, or no longer visible: nothing more to read. */
		log_info("engagement: '%s': the network has no post for it "
		         "any more; not read again",
		         r->id);
		age = -1;
		due = 0;
	}
	if (bad || store_engage_plan(st, r->id, age, due) < 0)
		log_warnx("engagement: '%s': cannot store the sample", r->id);
}

/* The answer's meaning for c; returns the stats outcome counter. */
static uint64_t *judge(struct engage *e, struct engage_chan *c,
                       const struct channel *ch, struct fetch *f,
                       const struct http_result *res, int64_t now)
{
	const struct engage_ops *ops = ops_of(ch);
	char err[256] = "";
	int64_t followers;

	if (res->status == 401 || res->status == 403) {
		chan_stop(e, c, ch, res->status, now);
		return &e->stats.revoked;
	}
	if (res->status == 429)
		return &e->stats.rate_limited;
	if (res->status == 404 && !f->audience && f->n > 1) {
		/* An older server without the batch endpoint. */
		c->single_only = 1;
		return &e->stats.error;
	}
	if (res->status == 404 && !f->audience) {
		keep_sample(e, ch, &f->rows[0], &(struct engage_item){0}, now);
		return &e->stats.ok;
	}
	if (res->status < 200 || res->status > 299)
		snprintf(err, sizeof(err), "%s",
		         res->status ? "an error answer" : res->error);
	else if (f->audience ? ops->audience_parse(ch, res, &followers, err,
	                                           sizeof(err)) == 0
	                     : ops->parse(ch, res, f->items, f->n, err,
	                                  sizeof(err)) == 0)
		err[0] = '\0';
	else if (err[0] == '\0')
		snprintf(err, sizeof(err), "an answer it could not read");
	if (err[0]) {
		c->backoff_ms =
		        c->backoff_ms ? c->backoff_ms * 2 : ERROR_BACKOFF_MS;
		if (c->backoff_ms > ERROR_BACKOFF_MAX_MS)
			c->backoff_ms = ERROR_BACKOFF_MAX_MS;
		c->blocked_until = now + c->backoff_ms;
		log_info("engagement: channel '%s': %s (HTTP %ld); next try "
		         "in %llds",
		         c->name, err, res->status,
		         (long long)(c->backoff_ms / 1000));
		return &e->stats.error;
	}
	c->backoff_ms = 0;
	if (f->audience) {
		c->audience_due = now + AUDIENCE_EVERY_MS;
		if (store_audience_add(e->d->store, c->name, now, followers) <
		    0)
			log_warnx("engagement: channel '%s': cannot store the "
			          "audience",
			          c->name);
	} else
		for (size_t i = 0; i < f->n; i++)
			keep_sample(e, ch, &f->rows[i], &f->items[i], now);
	return &e->stats.ok;
}

static void pump(struct engage *e, int64_t now);

static void fetch_done(void *arg, const struct http_result *res)
{
	struct fetch *f = arg;
	struct smmd *d = f->d;
	struct engage *e = d->engage;
	struct engage_chan *c = chan_find(e, f->channel);
	const struct channel *ch = config_channel(d->cfg, f->channel);
	int64_t now = wallclock_now_ms();
	uint64_t *outcome;

	e->stats.in_flight--;
	if (c)
		c->busy = 0;
	/* Shutting down, the store down, or the channel gone: drop it. */
	if (c == NULL || ch == NULL || d->stopping || d->store_down_ms ||
	    ops_of(ch) == NULL) {
		fetch_free(f);
		return;
	}
	note_budget(c, res, now);
	outcome = judge(e, c, ch, f, res, now);
	(*outcome)++;
	if (!f->audience)
		learn_sample_due(e, c, now);
	prom_count_fetch(d, f->channel,
	                 outcome == &e->stats.ok             ? "ok"
	                 : outcome == &e->stats.rate_limited ? "rate_limited"
	                 : outcome == &e->stats.revoked      ? "revoked"
	                                                     : "error");
	fetch_free(f);
	pump(e, now);
}

/* Start what may start now, within the caps; then sleep until more can. */
static void pump(struct engage *e, int64_t now)
{
	struct smmd *d = e->d;
	size_t n = e->nchans;

	if (d->stopping || d->store_down_ms)
		return;
	if (!dispatch_quiet(d, now, YIELD_MS)) {
		uv_timer_stop(&e->timer);
		e->armed_at = -1;
		arm_at(e, now + YIELD_MS, now);
		return;
	}
	for (size_t k = 0;
	     k < n && e->stats.in_flight < d->cfg->metrics_in_flight; k++) {
		struct engage_chan *c = &e->chans[(e->rr + k) % n];
		const struct channel *ch = config_channel(d->cfg, c->name);

		if (ch == NULL || c->stopped || c->busy ||
		    c->blocked_until > now || (!c->readable && !c->audience) ||
		    budget_low(c, now))
			continue;
		fetch_start(e, c, ch, now);
	}
	if (n)
		e->rr = (e->rr + 1) % n;
	arm_next(e, now);
}

static void on_timer(uv_timer_t *t)
{
	struct engage *e = t->data;

	uint64_t t0 = looptime_enter();

	e->armed_at = -1;
	pump(e, wallclock_now_ms());
	looptime_leave(t0, "engagement reads", NULL);
}

static void note_stopped(void *arg, const char *channel, int64_t since_ms,
                         const char *reason)
{
	struct engage *e = arg;
	struct engage_chan *c = chan_find(e, channel);

	(void)since_ms;
	if (c && c->stopped == NULL && (c->stopped = strdup(reason)))
		e->stats.stopped++;
}

/* When each channel's next sample and audience read are due. */
static void learn_due(struct engage *e, int64_t now)
{
	for (size_t i = 0; i < e->nchans; i++) {
		struct engage_chan *c = &e->chans[i];
		int64_t last;

		learn_sample_due(e, c, now);
		if (!c->audience)
			continue;
		if (store_audience_last(e->d->store, c->name, &last) < 0)
			last = -1;
		c->audience_due = last < 0 ? 0 : last + AUDIENCE_EVERY_MS;
	}
}

int engage_start(struct smmd *d)
{
	struct engage *e = d->engage;
	int64_t now = wallclock_now_ms();
	int r;

	e->d = d;
	if ((r = chans_rebuild(e, d->cfg)) < 0)
		return r;
	if (store_engage_stopped(d->store, note_stopped, e) < 0)
		log_warnx("engagement: cannot read which channels are "
		          "stopped; polling them all");
	learn_due(e, now);
	uv_timer_init(d->loop, &e->timer);
	e->timer.data = e;
	e->timer_init = 1;
	arm_at(e, now, now);
	return 0;
}

void engage_reload(struct smmd *d)
{
	struct engage *e = d->engage;
	int64_t now = wallclock_now_ms();

	if (e == NULL || !e->timer_init)
		return;
	for (size_t i = 0; i < e->nchans; i++)
		if (e->chans[i].stopped) {
			log_info("engagement: channel '%s': polling again "
			         "after the reload",
			         e->chans[i].name);
			if (store_engage_stop(d->store, e->chans[i].name, now,
			                      NULL) < 0)
				log_warnx("engagement: cannot record that "
				          "channel '%s' is polled again",
				          e->chans[i].name);
		}
	e->stats.stopped = 0;
	if (chans_rebuild(e, d->cfg) < 0)
		log_error("engagement: out of memory on reload; reading "
		          "what the old config said");
	learn_due(e, now);
	uv_timer_stop(&e->timer);
	e->armed_at = -1;
	arm_at(e, now, now);
}

void engage_close(struct smmd *d)
{
	struct engage *e = d->engage;

	if (e && e->timer_init && !uv_is_closing((uv_handle_t *)&e->timer))
		uv_close((uv_handle_t *)&e->timer, NULL);
}

void engage_published(struct smmd *d, const struct channel *ch, const char *id,
                      const char *remote_id, int64_t now_ms)
{
	struct engage *e = d->engage;
	struct engage_chan *c = chan_find(e, ch->name);
	int64_t due;

	/* A worker plans the samples; the working node reads them
	 * (engage_followed). */
	if ((c == NULL && !(d->worker && readable(ch))) ||
	    (c && !c->readable) ||
	    (ops_of(ch)->needs_remote_id && ops_of(ch)->needs_remote_id(ch) &&
	     (remote_id == NULL || !*remote_id)))
		return;
	due = now_ms + ch->metrics.ms[0];
	if (store_engage_plan(d->store, id, ch->metrics.ms[0], due) < 0) {
		log_warnx("engagement: '%s': cannot plan its samples", id);
		return;
	}
	if (c == NULL)
		return;
	if (c->sample_due < 0 || due < c->sample_due)
		c->sample_due = due;
	if (!c->stopped && !c->busy)
		arm_at(e, due, now_ms);
}

void engage_followed(struct smmd *d, const char *channel)
{
	struct engage *e = d->engage;
	struct engage_chan *c = chan_find(e, channel);
	int64_t now = wallclock_now_ms();

	if (c == NULL || !c->readable)
		return;
	learn_sample_due(e, c, now);
	if (c->sample_due >= 0 && !c->stopped && !c->busy)
		arm_at(e, c->sample_due, now);
}

void engage_saw(struct smmd *d, const char *channel,
                const struct http_result *res, int64_t now_ms)
{
	struct engage_chan *c = chan_find(d->engage, channel);

	if (c && (c->readable || c->audience))
		note_budget(c, res, now_ms);
}

void engage_stats(const struct smmd *d, struct engage_stats *out)
{
	if (d->engage)
		*out = d->engage->stats;
	else
		*out = (struct engage_stats){0};
}

json_t *engage_json(const struct smmd *d)
{
	struct engage_stats st;
	json_t *stopped = json_array();
	struct engage *e = d->engage;

	engage_stats(d, &st);
	for (size_t i = 0; e && stopped && i < e->nchans; i++)
		if (e->chans[i].stopped)
			json_array_append_new(
			        stopped, json_pack("{s:s, s:s}", "channel",
			                           e->chans[i].name, "reason",
			                           e->chans[i].stopped));
	return json_pack("{s:I, s:{s:I, s:I, s:I, s:I}, s:I, s:o*}", "samples",
	                 (json_int_t)st.samples, "reads", "ok",
	                 (json_int_t)st.ok, "error", (json_int_t)st.error,
	                 "rate_limited", (json_int_t)st.rate_limited, "refused",
	                 (json_int_t)st.revoked, "in_flight",
	                 (json_int_t)st.in_flight, "stopped", stopped);
}
