/*
 * Waiting for the view to catch up (store.h's store_after_pull): each
 * caller is told once the view holds every change other nodes had
 * committed when it asked. A batch of changes asked for after that
 * says how far that is (pgrepl_newest), whichever pull it belongs to:
 * one this file begins, or the next batch of one already running, so a
 * caller never waits for the end of a pull that other nodes' steady
 * writes keep going.
 */
#include <errno.h>
#include <stdlib.h>

#include "store_pg_impl.h"

/* Looked at this often while a pull runs. */
#define PULL_POLL_MS 2
/* Tried again after this long when no pull can begin or one failed,
 * twice as long each time up to the beat (each failure is logged). */
#define PULL_RETRY_MS     100
#define PULL_RETRY_MAX_MS 1000

struct pull_wait {
	struct pull_wait *next;
	store_pulled_fn *fn;
	void *arg;
	int flags;
	uint64_t asks;  /* pgrepl_asks when it asked */
	uint64_t seq;   /* the order it asked in */
	int64_t target; /* the change the view must reach; -1: not known */
};

/* Of those waiting, in the order they asked: all (or those that take
 * the view as it is: only_now) that asked before ask, told err. What
 * they do may ask again: such a one joins the tail, and waits. */
static void tell(struct pgstore *ps, uint64_t ask, int only_now, int err)
{
	struct pull_wait **pw = &ps->pull_waits;
	uint64_t upto = ps->pull_seq;

	while (*pw && (*pw)->asks < ask && (*pw)->seq <= upto) {
		struct pull_wait *w = *pw;

		if (only_now && !(w->flags & STORE_PULL_OR_NOW)) {
			pw = &w->next;
			continue;
		}
		if ((*pw = w->next) == NULL)
			ps->pull_tail = pw;
		w->fn(w->arg, err);
		free(w);
	}
}

/* Those the view has caught up for, told 0 (a prefix: later askers
 * have later targets). */
static void tell_caught_up(struct pgstore *ps)
{
	uint64_t answered;
	int64_t newest = pgrepl_newest(ps->repl, &answered);

	for (struct pull_wait *w = ps->pull_waits; w && w->asks < answered;
	     w = w->next)
		if (w->target < 0)
			w->target = newest;
	/* The view's position read each time: a callback's writes may
	 * roll back what was applied with them. */
	while (ps->pull_waits && ps->pull_waits->target >= 0 &&
	       pgrepl_pulled(ps->repl) >= ps->pull_waits->target) {
		struct pull_wait *w = ps->pull_waits;

		if ((ps->pull_waits = w->next) == NULL)
			ps->pull_tail = &ps->pull_waits;
		ps->pull_retry_ms = 0;
		w->fn(w->arg, 0);
		free(w);
	}
}

/* The next try a while later: those that asked before ask and may go on
 * the view as it is go now, told err. */
static uint64_t backoff(struct pgstore *ps, uint64_t ask, int err)
{
	uint64_t ms = ps->pull_retry_ms ? ps->pull_retry_ms : PULL_RETRY_MS;

	ps->pull_retry_ms =
	        ms * 2 < PULL_RETRY_MAX_MS ? ms * 2 : PULL_RETRY_MAX_MS;
	tell(ps, ask, 1, err);
	return ms;
}

static void on_pull_timer(uv_timer_t *t)
{
	struct pgstore *ps = t->data;
	uint64_t ms = PULL_POLL_MS, first;

	/* Inside a store call of smmd's (store_pg.c's on_claims_told). */
	if (!ps->embed.started || ps->waiting || ps->token_fn)
		goto again;
	tell_caught_up(ps);
	if (ps->pull_waits == NULL || pgrepl_pulling(ps->repl))
		goto again;
	/*
	 * No pull runs and some still wait. The one begun here for those
	 * that asked before it ended short of them: it failed (pgrepl said
	 * why). Else one begins, but not inside a turn's open transaction
	 * (store_pg.c's on_tick).
	 */
	if (ps->pull_mine && ps->pull_waits->asks < ps->pull_mine) {
		ms = backoff(ps, ps->pull_mine, -EIO);
		ps->pull_mine = 0;
		goto again;
	}
	ps->pull_mine = 0;
	if (!sqlite3_get_autocommit(ps->db))
		goto again;
	/* For those that asked so far (its first batch, or a read of the
	 * tables whole, which asks for none). */
	first = pgrepl_asks(ps->repl) + 1;
	if (pgrepl_pull(ps->repl) == 0)
		ps->pull_mine = first;
	else /* not connected */
		ms = backoff(ps, first, -ENOTCONN);
again:
	if (ps->pull_waits == NULL)
		return;
	uv_timer_start(&ps->pull_timer, on_pull_timer, ms, 0);
}

int pg_pull_wait(struct pgstore *ps, store_pulled_fn *fn, void *arg, int flags)
{
	struct pull_wait *w;

	if (ps->closing)
		return -ECANCELED;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->fn = fn;
	w->arg = arg;
	w->flags = flags;
	w->asks = pgrepl_asks(ps->repl);
	w->seq = ++ps->pull_seq;
	w->target = -1;
	*ps->pull_tail = w;
	ps->pull_tail = &w->next;
	/* Not while it waits to try again: a steady stream of askers
	 * would make a failing pull run (and be logged) at their pace. */
	if (ps->pull_retry_ms == 0 ||
	    !uv_is_active((uv_handle_t *)&ps->pull_timer))
		uv_timer_start(&ps->pull_timer, on_pull_timer, 0, 0);
	pg_kick(ps);
	return 0;
}

int pg_after_pull(struct store_be *s, store_pulled_fn *fn, void *arg, int flags)
{
	return s->pg ? pg_pull_wait(s->pg, fn, arg, flags) : -ENOTSUP;
}

void pg_pull_init(struct pgstore *ps)
{
	ps->pull_waits = NULL;
	ps->pull_tail = &ps->pull_waits;
	uv_timer_init(&ps->loop, &ps->pull_timer);
	ps->pull_timer.data = ps;
}

void pg_pull_close(struct pgstore *ps)
{
	tell(ps, UINT64_MAX, 0, -ECANCELED);
	uv_close((uv_handle_t *)&ps->pull_timer, NULL);
}
