/*
 * The store's front end: what every caller uses, whatever the backend
 * (store_backend.h). It owns the after-commit queue and the numbering of
 * committed batches, checks arguments once, and finds the backend by name.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "looptime.h"
#include "stats.h"
#include "store_backend.h"

const struct store_backend *const store_backends[] = {
        &store_backend_sqlite,
#ifdef HAVE_LIBPQ
        &store_backend_postgresql,
#endif
        NULL,
};

struct after_commit {
	void (*cb)(void *, int err);
	void *arg;
};

/* A turn's callbacks, waiting for the batch they need to be durable. */
struct batch {
	uint64_t need;
	struct after_commit *cbs;
	size_t n;
	size_t done; /* run so far: a turn's budget may stop part-way */
	struct batch *next;
};

/* Commit times kept for the latency observer: batches not yet durable. */
#define COMMIT_TIMES 4096

/* The longest a turn's writes wait for a running sync (see submit). */
#define STORE_DEFER_MAX_NS (2 * 1000 * 1000)

/*
 * Durable batches' callbacks run within the loop turn's budget
 * (looptime_over_budget); the rest run in the next turn (resume). A sync
 * that ends in a burst over 100 channels releases up to 128 requests,
 * each built and signed by its callback: 3-8 ms in one go.
 */

struct store {
	const struct store_backend *be;
	struct store_be *h;
	int started;        /* the backend syncs off the loop */
	int standing_by;    /* ... or keeps a standby's view (no writes) */
	uint64_t committed; /* batches committed */
	uint64_t need;      /* the last committed batch that must be synced */
	uint64_t failed;    /* s->need when a sync last failed */
	uint64_t durable;   /* the last batch known durable */
	uint64_t requested; /* the last batch a sync was asked for */
	/* Turns ended while a sync ran: their writes wait in one open
	 * transaction until it is done, or STORE_DEFER_MAX_NS after the
	 * first of them (deferred_ns). */
	int deferred;
	uint64_t deferred_ns;
	struct batch *waiting, *waiting_tail;
	/* Callbacks left by a turn's budget: its callback runs in the next
	 * turn, after its poll (open while started). */
	uv_async_t resume;
	struct after_commit *queue; /* this turn's callbacks */
	size_t queue_len;
	size_t queue_cap;
	void (*fail)(void *arg, int err);
	void *fail_arg;
	int give_up; /* roll this turn back instead of committing it */
	/* uv_hrtime() at batch n's commit, at [n % COMMIT_TIMES]. */
	uint64_t commit_ns[COMMIT_TIMES];
	void (*on_durable_ns)(void *arg, uint64_t ns);
	void *on_durable_arg;
	/*
	 * Readers (store_read_begin): the pool, under readers_mu, which
	 * workers and the loop share. A reader is a struct store too, with
	 * only be and h set, and reader_next, reader_busy.
	 */
	pthread_mutex_t readers_mu;
	struct store *readers;
	int readers_stopped;
	struct store *reader_next;
	int reader_busy;
};

const struct store_backend *store_backend_find(const char *name)
{
	for (size_t i = 0; store_backends[i]; i++)
		if (strcmp(store_backends[i]->name, name) == 0)
			return store_backends[i];
	return NULL;
}

int store_open_backend(const char *name, const char *dir, const char *url,
                       unsigned flags, struct store **out, char *err,
                       size_t errlen)
{
	const struct store_backend *be =
	        store_backend_find(name ? name : store_backends[0]->name);
	struct store *s;

	*out = NULL;
	if (be == NULL) {
		snprintf(err, errlen, "no store backend '%s'", name);
		return -1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->be = be;
	if (be->open(dir, url, flags, &s->h, err, errlen) < 0) {
		free(s);
		return -1;
	}
	pthread_mutex_init(&s->readers_mu, NULL);
	*out = s;
	return 0;
}

int store_open(const char *dir, struct store **out, char *err, size_t errlen)
{
	return store_open_backend(NULL, dir, NULL, 0, out, err, errlen);
}

int store_open_url(const char *dir, const char *url, unsigned flags,
                   struct store **out, char *err, size_t errlen)
{
	if (url == NULL)
		return store_open(dir, out, err, errlen);
	if (strncmp(url, "postgresql://", 13) != 0 &&
	    strncmp(url, "postgres://", 11) != 0) {
		*out = NULL;
		snprintf(err, errlen,
		         "store: a URL must start with postgresql://");
		return -1;
	}
	if (store_backend_find("postgresql") == NULL) {
		*out = NULL;
		snprintf(err, errlen,
		         "store: this smmd was built without libpq "
		         "(configure --with-postgresql)");
		return -1;
	}
	return store_open_backend("postgresql", dir, url, flags, out, err,
	                          errlen);
}

int store_relay(struct store *s, const struct store_peer *p, const char *line,
                const char *channel, store_relay_fn *fn, void *arg)
{
	if (s->be->relay == NULL)
		return -ENOTSUP;
	return s->be->relay(s->h, p, line, channel, fn, arg);
}

int store_after_pull(struct store *s, store_pulled_fn *fn, void *arg, int flags)
{
	if (s->be->after_pull == NULL)
		return -ENOTSUP;
	return s->be->after_pull(s->h, fn, arg, flags);
}

int store_relays_serve(struct store *s, store_request_fn *fn, void *arg)
{
	if (s->be->relays_serve == NULL)
		return -ENOTSUP;
	return s->be->relays_serve(s->h, fn, arg);
}

void store_relay_answer(struct store *s, int64_t id, const char *reply)
{
	if (s->be->relay_answer)
		s->be->relay_answer(s->h, id, reply);
}

int store_token_put(struct store *s, const char *channel, const char *sealed,
                    int64_t saved_ms, const char *key_id, int replace,
                    store_token_done_fn *done, void *arg)
{
	if (s->be->token_put == NULL)
		return -ENOTSUP;
	return s->be->token_put(s->h, channel, sealed, saved_ms, key_id,
	                        replace, done, arg);
}

int store_token_get(struct store *s, const char *channel, store_token_fn *row,
                    store_token_done_fn *done, void *arg)
{
	if (s->be->token_get == NULL)
		return -ENOTSUP;
	return s->be->token_get(s->h, channel, row, done, arg);
}

int store_may_act(struct store *s)
{
	return s->be->may_act == NULL || s->be->may_act(s->h);
}

int store_tokens_read(struct store *s, store_token_fn *fn, void *arg, char *why,
                      size_t len)
{
	snprintf(why, len, "not kept in this store");
	if (s->be->tokens_read == NULL)
		return -ENOTSUP;
	return s->be->tokens_read(s->h, fn, arg, why, len);
}

int store_standby(struct store *s, char *works, size_t len)
{
	return s->be->standby ? s->be->standby(s->h, works, len) : 0;
}

int store_worker(struct store *s)
{
	return s->be->worker ? s->be->worker(s->h) : 0;
}

void store_watch(struct store *s, store_changed_fn *fn, void *arg)
{
	if (s->be->watch)
		s->be->watch(s->h, fn, arg);
}

int store_shared(struct store *s)
{
	return s->be->shared ? s->be->shared(s->h) : 0;
}

int store_listed(struct store *s, const char *channel)
{
	return s->be->listed ? s->be->listed(s->h, channel) : -1;
}

int store_fired_elsewhere(struct store *s, const char *channel)
{
	return s->be->fired_elsewhere ? s->be->fired_elsewhere(s->h, channel)
	                              : 0;
}

int store_standby_start(struct store *s, uv_loop_t *loop,
                        void (*turn)(void *arg), void *arg)
{
	int r;

	if (s->be->standby_start == NULL)
		return -ENOTSUP;
	if ((r = s->be->standby_start(s->h, loop, turn, arg)) == 0)
		s->standing_by = 1;
	return r;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->started || s->standing_by)
		s->be->stop(s->h);
	/*
	 * Readers first: the writer's connection, closed last, checkpoints
	 * the WAL and removes it (SQLite does that only for the last one).
	 * None is busy here: uv_run returned, so no work is queued.
	 */
	while (s->readers) {
		struct store *r = s->readers;

		s->readers = r->reader_next;
		s->be->close(r->h);
		free(r);
	}
	pthread_mutex_destroy(&s->readers_mu);
	s->be->close(s->h);
	while (s->waiting) {
		struct batch *b = s->waiting;

		s->waiting = b->next;
		free(b->cbs);
		free(b);
	}
	free(s->queue);
	free(s);
}

int store_after_commit(struct store *s, void (*cb)(void *, int err), void *arg)
{
	if (s->queue_len == s->queue_cap) {
		size_t cap = s->queue_cap ? s->queue_cap * 2 : 64;
		struct after_commit *q = realloc(s->queue, cap * sizeof(*q));

		if (q == NULL)
			return -ENOMEM;
		s->queue = q;
		s->queue_cap = cap;
	}
	s->queue[s->queue_len].cb = cb;
	s->queue[s->queue_len].arg = arg;
	s->queue_len++;
	return 0;
}

/* Commit the turn; a batch with writes to keep raises s->need. */
static int commit_turn(struct store *s)
{
	int r;

	if (s->give_up) {
		s->give_up = 0;
		s->be->rollback(s->h);
		return -1;
	}
	r = s->be->commit(s->h);

	if (r < 0)
		return -1;
	if (r == STORE_COMMIT_NOTHING)
		return 0;
	s->committed++;
	s->commit_ns[s->committed % COMMIT_TIMES] = uv_hrtime();
	if (r == STORE_COMMIT_DURABLE)
		s->need = s->committed;
	return 0;
}

/* The queued callbacks become a batch that waits for s->need. */
static int take_batch(struct store *s)
{
	struct batch *b;

	if (s->queue_len == 0)
		return 0;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return -1;
	b->need = s->need;
	b->cbs = s->queue;
	b->n = s->queue_len;
	s->queue = NULL;
	s->queue_len = s->queue_cap = 0;
	if (s->waiting_tail)
		s->waiting_tail->next = b;
	else
		s->waiting = b;
	s->waiting_tail = b;
	return 0;
}

/* What run_ready may run: all, or what the turn's budget leaves. */
enum run_budget {
	RUN_ALL,
	RUN_ONE_AT_LEAST, /* and so on while the turn is short */
	RUN_WITHIN,       /* none once the turn is long */
};

/* The turn is long: b, part-run, goes back first, for the next turn. */
static void resume_later(struct store *s, struct batch *b)
{
	if ((b->next = s->waiting) == NULL)
		s->waiting_tail = b;
	s->waiting = b;
	uv_async_send(&s->resume);
}

/*
 * Run, in order, the callbacks of the batches whose writes are durable,
 * within budget. A batch is unlinked while its callbacks run (one may
 * fail the store, which fails what still waits). 1 if any ran.
 */
static int run_ready(struct store *s, enum run_budget budget)
{
	int ran = 0;

	if (!s->started)
		budget = RUN_ALL;
	while (s->waiting && s->waiting->need <= s->durable) {
		struct batch *b = s->waiting;

		if ((s->waiting = b->next) == NULL)
			s->waiting_tail = NULL;
		while (b->done < b->n) {
			struct after_commit *a = &b->cbs[b->done];

			if (budget != RUN_ALL &&
			    (ran || budget == RUN_WITHIN) &&
			    looptime_over_budget()) {
				resume_later(s, b);
				return ran;
			}
			b->done++;
			a->cb(a->arg, 0);
			ran = 1;
		}
		free(b->cbs);
		free(b);
	}
	return ran;
}

/*
 * The turn's writes were not committed (rolled back): its callbacks learn
 * it, in order, and must not act as if they were (no reply saying done,
 * no request leaving). They may queue more; those fail too.
 */
static void fail_queue(struct store *s, int err)
{
	while (s->queue_len > 0) {
		struct after_commit *q = s->queue;
		size_t n = s->queue_len;

		s->queue = NULL;
		s->queue_len = s->queue_cap = 0;
		for (size_t i = 0; i < n; i++)
			q[i].cb(q[i].arg, err);
		free(q);
	}
}

/* A sync failed: what waited for it may or may not be on disk. */
static void fail_waiting(struct store *s, int err)
{
	while (s->waiting) {
		struct batch *b = s->waiting;

		if ((s->waiting = b->next) == NULL)
			s->waiting_tail = NULL;
		for (size_t i = b->done; i < b->n; i++)
			b->cbs[i].cb(b->cbs[i].arg, err);
		free(b->cbs);
		free(b);
	}
	fail_queue(s, err);
}

/*
 * The turn is over: commit its writes, or, while a sync runs, keep them
 * for the next commit. A commit writes every page the turn changed to
 * the WAL, and a burst's turns change the same pages (the same index
 * leaves, the same rows' pages) over and over: with 100 channels the
 * WAL grew by 40 KB per delivery. A batch committed now would not be
 * durable before the running sync ends and the next one starts, so
 * nothing waits longer for the commit to come when that sync ends. But
 * a slow sync (100 ms and more while the checkpointer copies) would make
 * that one commit a turn as long: after STORE_DEFER_MAX_NS the turn
 * commits anyway.
 */
static int submit(struct store *s, int may_defer)
{
	if (may_defer && s->started && s->requested > s->durable) {
		uint64_t now = uv_hrtime();

		if (!s->deferred) {
			s->deferred = 1;
			s->deferred_ns = now;
			return 0;
		}
		if (now - s->deferred_ns < STORE_DEFER_MAX_NS)
			return 0;
	}
	s->deferred = 0;
	/* Callbacks may write and queue more: until nothing new comes. */
	for (;;) {
		if (commit_turn(s) < 0) {
			fail_queue(s, -EIO);
			return -1;
		}
		if (take_batch(s) < 0)
			return -1;
		/*
		 * Everything committed is synced soon, results too, though
		 * only batches that need it wait: off the loop a sync costs
		 * nothing here, and a quiet daemon's last results (and the
		 * checkpoint a sync may start) are not left to chance.
		 */
		if (s->started && s->committed > s->durable) {
			s->be->sync(s->h, s->committed);
			s->requested = s->committed;
		}
		if (!s->started && s->need > s->durable) {
			/* Before the loop runs: sync here. */
			if (s->be->wait(s->h, s->need) < 0)
				return -1;
			s->durable = s->need;
		}
		if (!run_ready(s, may_defer ? RUN_WITHIN : RUN_ALL))
			return 0;
	}
}

int store_submit(struct store *s)
{
	return submit(s, 1);
}

uint64_t store_turn_batch(const struct store *s)
{
	return s->committed + 1;
}

int store_batch_kept(const struct store *s, uint64_t batch)
{
	return s->durable >= batch;
}

int store_flush(struct store *s)
{
	for (;;) {
		if (submit(s, 0) < 0)
			return -1;
		/*
		 * Writes to keep wait even when no callback does: a started
		 * store syncs elsewhere (a writer thread, or PostgreSQL's
		 * connection) and may not have ended. Not a batch whose sync
		 * failed: its callbacks were told, the store is in outage,
		 * and a backend need not try it again (PostgreSQL's would
		 * only time out, holding a shutdown 30 s).
		 */
		if (s->waiting == NULL &&
		    (s->need <= s->durable || s->need <= s->failed))
			return 0;
		if (s->be->wait(s->h, s->need) < 0)
			return -1;
		if (s->need > s->durable)
			s->durable = s->need;
	}
}

/*
 * Batches after s->durable up to seq became durable just now: tell the
 * observer how long each took from its commit. Only the last COMMIT_TIMES
 * are known; a sync that slow is rare, and its older batches go untold.
 */
static void tell_latency(struct store *s, uint64_t seq)
{
	uint64_t now, first = s->durable + 1;

	if (s->on_durable_ns == NULL)
		return;
	now = uv_hrtime();
	if (seq - s->durable > COMMIT_TIMES)
		first = seq - COMMIT_TIMES + 1;
	for (uint64_t n = first; n <= seq; n++)
		s->on_durable_ns(s->on_durable_arg,
		                 now - s->commit_ns[n % COMMIT_TIMES]);
}

/* Run what is durable, then commit what it wrote and what was deferred. */
static void run_and_commit(struct store *s)
{
	if ((run_ready(s, RUN_ONE_AT_LEAST) || s->deferred) &&
	    store_submit(s) < 0)
		s->fail(s->fail_arg, -EIO);
}

/* On the loop: batches up to seq are durable. */
static void on_durable(void *arg, uint64_t seq, int err)
{
	struct store *s = arg;
	uint64_t t0 = looptime_enter();

	if (err == 0 && seq > s->durable) {
		tell_latency(s, seq);
		s->durable = seq;
	}
	if (err < 0) {
		s->failed = s->need;
		/* No sync runs now: the next turn commits, or gives up. */
		s->requested = s->durable;
		fail_waiting(s, err);
		s->fail(s->fail_arg, err);
	} else {
		run_and_commit(s);
	}
	looptime_leave(t0, "after commit", NULL);
}

/* On the loop, a turn after run_ready stopped at its budget. */
static void on_resume(uv_async_t *a)
{
	uint64_t t0 = looptime_enter();

	run_and_commit(a->data);
	looptime_leave(t0, "after commit", NULL);
}

int store_start(struct store *s, uv_loop_t *loop,
                void (*fail)(void *arg, int err), void *arg)
{
	int r;

	s->fail = fail;
	s->fail_arg = arg;
	if ((r = uv_async_init(loop, &s->resume, on_resume)) < 0)
		return r;
	s->resume.data = s;
	if ((r = s->be->start(s->h, loop, on_durable, s)) < 0) {
		uv_close((uv_handle_t *)&s->resume, NULL);
		return r;
	}
	s->started = 1;
	return 0;
}

int store_stop(struct store *s)
{
	int r = store_flush(s);

	/* Flushed: nothing is left for it. store_close comes after uv_run
	 * has run its close. */
	if (s->started)
		uv_close((uv_handle_t *)&s->resume, NULL);

	if (s->started || s->standing_by)
		s->be->stop(s->h);
	s->started = s->standing_by = 0;
	return r;
}

void store_observe_durable(struct store *s, void (*fn)(void *arg, uint64_t ns),
                           void *arg)
{
	s->on_durable_ns = fn;
	s->on_durable_arg = arg;
}

void store_stats(struct store *s, struct store_stats *out)
{
	out->committed = s->committed;
	out->durable = s->durable;
	out->syncs = out->checkpoints = 0;
	if (s->be->counts_io)
		s->be->counts_io(s->h, &out->syncs, &out->checkpoints);
}

/* ---- Operations: checked here once, done by the backend ---------------- */

int store_add_post(struct store *s, const struct post_new *p, int64_t now_ms)
{
	if (p->id == NULL || p->text == NULL || p->source == NULL ||
	    p->media == NULL || (p->nchannels > 0 && p->channels == NULL))
		return -EINVAL;
	return s->be->add_post(s->h, p, now_ms);
}

int store_delivery_load(struct store *s, const char *id,
                        struct delivery_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	if (id == NULL)
		return -EINVAL;
	return s->be->delivery_load(s->h, id, rec);
}

void store_delivery_clear(struct delivery_rec *rec)
{
	free(rec->id);
	free(rec->post_id);
	free(rec->channel);
	free(rec->webhook_id);
	free(rec->text);
	free(rec->link);
	free(rec->campaign);
	free(rec->source);
	json_decref(rec->media);
	memset(rec, 0, sizeof(*rec));
}

int store_mark_publishing(struct store *s, const char *id, int64_t row,
                          unsigned n, int64_t started_ms)
{
	if (id == NULL || n == 0)
		return -EINVAL;
	return s->be->mark_publishing(s->h, id, row, n, started_ms);
}

int store_record_result(struct store *s, const char *id,
                        const struct attempt_result *r,
                        enum delivery_state state, int64_t next_ms,
                        const char *last_error, const char *remote_id,
                        const char *remote_url)
{
	if (id == NULL || r == NULL || (unsigned)state >= DS_COUNT)
		return -EINVAL;
	return s->be->record_result(s->h, id, r, state, next_ms, last_error,
	                            remote_id, remote_url);
}

int store_transition(struct store *s, const struct transition *t,
                     struct moved *m)
{
	if (m)
		*m = (struct moved){0};
	if (t->id == NULL || t->from == 0 || (unsigned)t->to >= DS_COUNT)
		return -EINVAL;
	return s->be->transition(s->h, t, m);
}

void store_moved_clear(struct moved *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->ids[i]);
	free(m->ids);
	m->ids = NULL;
	m->n = 0;
}

int store_for_each_pending(struct store *s,
                           void (*fn)(void *arg, const char *id,
                                      int64_t due_ms),
                           void *arg)
{
	return s->be->each_pending(s->h, fn, arg);
}

int store_recover_interrupted(struct store *s, int64_t now_ms,
                              int (*decide)(void *arg, const char *id,
                                            const char *channel),
                              void *arg, json_t *unknown)
{
	return s->be->recover(s->h, now_ms, decide, arg, unknown);
}

json_t *store_owned_elsewhere(struct store *s)
{
	return s->be->owned_elsewhere ? s->be->owned_elsewhere(s->h)
	                              : json_object();
}

int store_list_rows(struct store *s, int state, unsigned limit,
                    void (*fn)(void *arg, const struct delivery_row *),
                    void *arg)
{
	if (state >= DS_COUNT)
		return -EINVAL;
	return s->be->list_rows(s->h, state, limit, fn, arg);
}

int store_show_rows(struct store *s, const char *id, const struct show_rows *cb)
{
	if (id == NULL || id[0] == '\0')
		return -ENOENT;
	return s->be->show_rows(s->h, id, cb);
}

int store_awaiting_rows(struct store *s, unsigned limit,
                        void (*fn)(void *arg, const struct delivery_row *),
                        void *arg)
{
	return s->be->awaiting_rows(s->h, limit, fn, arg);
}

int store_approve(struct store *s, const char *id, const struct approval *a,
                  void (*fn)(void *arg, const struct approval_row *), void *arg)
{
	if (id == NULL || id[0] == '\0')
		return -ENOENT;
	return s->be->approve(s->h, id, a, fn, arg);
}

int store_counts(struct store *s, int64_t counts[DS_COUNT])
{
	memset(counts, 0, sizeof(int64_t) * DS_COUNT);
	return s->be->counts(s->h, counts);
}

int store_kept_counts(struct store *s, int64_t counts[DS_COUNT])
{
	return s->be->kept_counts ? s->be->kept_counts(s->h, counts) : 0;
}

int store_counts_at_open(struct store *s, int64_t counts[DS_COUNT])
{
	int r;

	memset(counts, 0, sizeof(int64_t) * DS_COUNT);
	if (s->be->take_counts != NULL &&
	    (r = s->be->take_counts(s->h, counts)) != 0)
		return r < 0 ? r : 0;
	if ((r = store_kept_counts(s, counts)) != 0)
		return r < 0 ? r : 0;
	return store_counts(s, counts);
}

int store_keep_counts(struct store *s, const int64_t counts[DS_COUNT])
{
	if (s->be->keep_counts == NULL)
		return 0;
	if (s->be->keep_counts(s->h, counts) < 0 || s->be->commit(s->h) < 0)
		return -EIO;
	return 0;
}

int store_pause_add(struct store *s, const struct pause_rec *p, int64_t *id)
{
	if (p->kind != PAUSE_ALL && (p->scope == NULL || p->scope[0] == '\0'))
		return -EINVAL;
	return s->be->pause_add(s->h, p, id);
}

int store_pause_end(struct store *s, int64_t id, int64_t now_ms,
                    const char *resumed_as)
{
	return s->be->pause_end(s->h, id, now_ms, resumed_as);
}

int store_pause_resumed(struct store *s, int64_t id, char *as, size_t len)
{
	return s->be->pause_resumed(s->h, id, as, len);
}

int store_pauses(struct store *s,
                 void (*fn)(void *arg, const struct pause_rec *), void *arg)
{
	return s->be->pauses(s->h, fn, arg);
}

int store_held_rows(struct store *s, int64_t pause_id,
                    void (*fn)(void *arg, const struct held_row *), void *arg)
{
	return s->be->held_rows(s->h, pause_id, fn, arg);
}

int64_t store_held_count(struct store *s, int64_t pause_id)
{
	return s->be->held_count(s->h, pause_id);
}

int store_audit_add(struct store *s, const struct audit_rec *a)
{
	return s->be->audit_add(s->h, a);
}

int store_post_exists(struct store *s, const char *id)
{
	return s->be->post_exists(s->h, id);
}

int store_scheduled_rows(struct store *s, int only_moved,
                         void (*fn)(void *arg, const struct scheduled_row *),
                         void *arg)
{
	return s->be->scheduled_rows(s->h, only_moved, fn, arg);
}

int store_slot_taken(struct store *s, const char *channel, int64_t due_ms,
                     char *by, size_t bylen)
{
	return s->be->slot_taken(s->h, channel, due_ms, by, bylen);
}

void store_give_up_turn(struct store *s)
{
	s->give_up = 1;
}

enum store_failure store_failure(struct store *s, char *why, size_t len)
{
	return s->be->failure(s->h, why, len);
}

int store_claim(struct store *s, const struct store_claims *c)
{
	return s->be->claim ? s->be->claim(s->h, c) : 0;
}

int store_owns(struct store *s, const char *channel)
{
	return s->be->owns == NULL || s->be->owns(s->h, channel);
}

int store_claims_known(struct store *s)
{
	return s->be->claims_known == NULL || s->be->claims_known(s->h);
}

int64_t store_fence(struct store *s, const char *channel)
{
	return s->be->fence ? s->be->fence(s->h, channel) : 0;
}

json_t *store_cluster_json(struct store *s)
{
	return s->be->cluster ? s->be->cluster(s->h) : NULL;
}

int store_clock_trusted(struct store *s)
{
	return s->be->clock_trusted ? s->be->clock_trusted(s->h) : 1;
}

int store_backup(struct store *s, const char *dest, char *err, size_t errlen)
{
	if (s->be->backup == NULL) {
		snprintf(err, errlen, "this store cannot make a backup");
		return -ENOTSUP;
	}
	return s->be->backup(s->h, dest, err, errlen) < 0 ? -EIO : 0;
}

int store_audit_rows(struct store *s, int64_t since_ms,
                     void (*fn)(void *arg, const struct audit_rec *), void *arg)
{
	return s->be->audit_rows(s->h, since_ms, fn, arg);
}

int store_agenda_rows(struct store *s, const struct agenda_query *q,
                      void (*fn)(void *arg, const struct delivery_row *),
                      void *arg, int *truncated)
{
	*truncated = 0;
	if (q->to_ms < q->from_ms)
		return -EINVAL;
	return s->be->agenda_rows(s->h, q, fn, arg, truncated);
}

int store_due_rows(struct store *s, int64_t from_ms, int64_t to_ms,
                   void (*fn)(void *arg, const struct due_row *), void *arg)
{
	if (to_ms < from_ms)
		return -EINVAL;
	return s->be->due_rows(s->h, from_ms, to_ms, fn, arg);
}

int store_plan_rows(struct store *s, int64_t from_ms, int64_t to_ms,
                    void (*fn)(void *arg, const struct plan_row *), void *arg)
{
	if (to_ms < from_ms)
		return -EINVAL;
	return s->be->plan_rows(s->h, from_ms, to_ms, fn, arg);
}

int store_stats_query(struct store *s, const struct stats_query *q,
                      struct stats_result *r)
{
	int rc;

	stats_init(r, q);
	if (q->until_ms <= q->since_ms)
		return -EINVAL;
	if ((rc = s->be->stats(s->h, q, r)) < 0)
		return rc;
	stats_finish(r);
	return 0;
}

int store_calendar_rows(struct store *s,
                        void (*fn)(void *arg, const struct cal_row *),
                        void *arg)
{
	return s->be->calendar_rows(s->h, NULL, fn, arg);
}

struct row_found {
	void (*fn)(void *arg, const struct cal_row *);
	void *arg;
	int found;
};

static void row_found(void *arg, const struct cal_row *r)
{
	struct row_found *f = arg;

	f->found = 1;
	f->fn(f->arg, r);
}

int store_calendar_row(struct store *s, const char *id,
                       void (*fn)(void *arg, const struct cal_row *), void *arg)
{
	struct row_found f = {.fn = fn, .arg = arg};
	int r;

	if (id == NULL)
		return -EINVAL;
	if ((r = s->be->calendar_rows(s->h, id, row_found, &f)) < 0)
		return r;
	return f.found;
}

int store_calendar_post(struct store *s, const struct cal_put *p,
                        int64_t now_ms)
{
	if (p->post_id == NULL)
		return -EINVAL;
	return s->be->calendar_post(s->h, p, now_ms);
}

int store_calendar_put(struct store *s, const struct cal_put *p, int add,
                       int reschedule, int64_t now_ms)
{
	if (p->id == NULL || p->post_id == NULL || (add && p->channel == NULL))
		return -EINVAL;
	return s->be->calendar_put(s->h, p, add, reschedule, now_ms);
}

int store_bulk_begin(struct store *s)
{
	return s->be->bulk_begin ? s->be->bulk_begin(s->h) : 0;
}

int store_bulk_end(struct store *s)
{
	return s->be->bulk_end ? s->be->bulk_end(s->h) : 0;
}

/* Engagement: optional in a backend, all together. */
#define ENGAGE_CALL(s, op, ...) \
	((s)->be->op ? (s)->be->op((s)->h, __VA_ARGS__) : -ENOTSUP)

int store_engage_plan(struct store *s, const char *id, int64_t age_ms,
                      int64_t due_ms)
{
	return ENGAGE_CALL(s, engage_plan, id, age_ms, due_ms);
}

int store_engage_due(struct store *s, const char *channel, int64_t now_ms,
                     unsigned limit,
                     void (*fn)(void *arg, const struct engage_row *),
                     void *arg)
{
	return ENGAGE_CALL(s, engage_due, channel, now_ms, limit, fn, arg);
}

int store_engage_next(struct store *s, const char *channel, int64_t *due_ms)
{
	*due_ms = -1;
	return ENGAGE_CALL(s, engage_next, channel, due_ms);
}

int store_engage_sample(struct store *s, const struct engage_sample *e)
{
	return ENGAGE_CALL(s, engage_sample, e);
}

int store_audience_add(struct store *s, const char *channel, int64_t taken_ms,
                       int64_t followers)
{
	return ENGAGE_CALL(s, audience_add, channel, taken_ms, followers);
}

int store_audience_last(struct store *s, const char *channel, int64_t *taken_ms)
{
	*taken_ms = -1;
	return ENGAGE_CALL(s, audience_last, channel, taken_ms);
}

int store_engage_stop(struct store *s, const char *channel, int64_t since_ms,
                      const char *reason)
{
	return ENGAGE_CALL(s, engage_stop, channel, since_ms, reason);
}

int store_engage_stopped(struct store *s,
                         void (*fn)(void *arg, const char *channel,
                                    int64_t since_ms, const char *reason),
                         void *arg)
{
	return ENGAGE_CALL(s, engage_stopped, fn, arg);
}

int store_engage_samples(struct store *s, const char *id,
                         void (*fn)(void *arg, const struct engage_sample *),
                         void *arg)
{
	return ENGAGE_CALL(s, engage_samples, id, fn, arg);
}

int store_engage_totals(struct store *s, int64_t from_ms, int64_t to_ms,
                        void (*fn)(void *arg, const struct engage_total *),
                        void *arg)
{
	return ENGAGE_CALL(s, engage_totals, from_ms, to_ms, fn, arg);
}

int store_audience_rows(struct store *s, int64_t from_ms, int64_t to_ms,
                        void (*fn)(void *arg, const char *channel,
                                   int64_t taken_ms, int64_t followers),
                        void *arg)
{
	return ENGAGE_CALL(s, audience_rows, from_ms, to_ms, fn, arg);
}

/* ---- Readers: reads off the loop ---------------------------------------- */

int store_reads_off_loop(const struct store *s)
{
	return s->be->open_reader != NULL;
}

/* An idle reader of the pool, marked busy; NULL if none. Under the lock. */
static struct store *reader_take(struct store *s)
{
	for (struct store *r = s->readers; r; r = r->reader_next)
		if (!r->reader_busy) {
			r->reader_busy = 1;
			return r;
		}
	return NULL;
}

/* A new reader, busy, in the pool; opened outside the lock. */
static int reader_new(struct store *s, struct store **out, char *err,
                      size_t errlen)
{
	struct store *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->be = s->be;
	if (s->be->open_reader(s->h, &r->h, err, errlen) < 0) {
		free(r);
		return -EIO;
	}
	r->reader_busy = 1;
	pthread_mutex_lock(&s->readers_mu);
	r->reader_next = s->readers;
	s->readers = r;
	pthread_mutex_unlock(&s->readers_mu);
	*out = r;
	return 0;
}

int store_read_begin(struct store *s, struct store **reader, char *err,
                     size_t errlen)
{
	struct store *r;
	int stopped, rc;

	*reader = NULL;
	if (s->be->open_reader == NULL) {
		snprintf(err, errlen, "the store cannot read off the loop");
		return -ENOTSUP;
	}
	pthread_mutex_lock(&s->readers_mu);
	stopped = s->readers_stopped;
	r = stopped ? NULL : reader_take(s);
	pthread_mutex_unlock(&s->readers_mu);
	if (stopped) {
		snprintf(err, errlen, "smmd is shutting down");
		return -ECANCELED;
	}
	if (r == NULL && (rc = reader_new(s, &r, err, errlen)) < 0)
		return rc;
	if (s->be->read_begin(r->h) < 0) {
		snprintf(err, errlen, "cannot start a read");
		store_read_end(s, r);
		return -EIO;
	}
	*reader = r;
	return 0;
}

void store_read_end(struct store *s, struct store *reader)
{
	if (reader == NULL)
		return;
	/* Under the lock: store_read_stop may be interrupting it. */
	pthread_mutex_lock(&s->readers_mu);
	s->be->read_end(reader->h);
	reader->reader_busy = 0;
	pthread_mutex_unlock(&s->readers_mu);
}

void store_read_stop(struct store *s)
{
	pthread_mutex_lock(&s->readers_mu);
	s->readers_stopped = 1;
	for (struct store *r = s->readers; r; r = r->reader_next)
		if (r->reader_busy)
			s->be->read_interrupt(r->h);
	pthread_mutex_unlock(&s->readers_mu);
}
