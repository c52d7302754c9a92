/*
 * Waiting for the view to catch up (store.h's store_after_pull): each
 * caller is told once a pull begun after it asked has read and applied
 * every change committed before then. A pull already running when one
 * asks may have begun before what it waits for was committed: its end
 * does not count, the next one this file begins does.
 */
#include <errno.h>
#include <stdlib.h>

#include "store_pg_impl.h"

/* Looked at this often while the pull they wait for runs. */
#define PULL_POLL_MS 2
/* Tried again after this long while no pull can begin or they fail,
 * twice as long each time up to the beat (each failure is logged). */
#define PULL_RETRY_MS     100
#define PULL_RETRY_MAX_MS 1000

struct pull_wait {
	struct pull_wait *next;
	store_pulled_fn *fn;
	void *arg;
	int flags;
};

static size_t count(const struct pgstore *ps)
{
	size_t n = 0;

	for (const struct pull_wait *w = ps->pull_waits; w; w = w->next)
		n++;
	return n;
}

/* Of the first n, all (or those that take the view as it is:
 * only_now), told err in the order they asked. What they do may ask
 * again: such a one joins the tail, past the n. */
static void tell(struct pgstore *ps, size_t n, int only_now, int err)
{
	struct pull_wait **pw = &ps->pull_waits;

	while (n-- > 0 && *pw) {
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

/* The next try a while later: those that may go on the view as it is
 * go now (of the first n), told err. */
static uint64_t backoff(struct pgstore *ps, size_t n, int err)
{
	uint64_t ms = ps->pull_retry_ms ? ps->pull_retry_ms : PULL_RETRY_MS;

	ps->pull_retry_ms =
	        ms * 2 < PULL_RETRY_MAX_MS ? ms * 2 : PULL_RETRY_MAX_MS;
	tell(ps, n, 1, err);
	return ms;
}

static void on_pull_timer(uv_timer_t *t)
{
	struct pgstore *ps = t->data;
	uint64_t ms = PULL_POLL_MS;

	/* Inside a store call of smmd's (store_pg.c's on_claims_told). */
	if (!ps->embed.started || ps->waiting || ps->token_fn)
		goto again;
	if (ps->pull_mine) {
		uint64_t read = pgrepl_pulls_read(ps->repl);

		if (read == ps->pull_base && pgrepl_pulling(ps->repl))
			goto again;
		ps->pull_mine = 0;
		if (read == ps->pull_base) {
			/* Failed (pgrepl said why): the others wait. */
			ms = backoff(ps, ps->pull_batch, -EIO);
			goto again;
		}
		ps->pull_retry_ms = 0;
		tell(ps, ps->pull_batch, 0, 0);
	}
	if (ps->pull_waits == NULL)
		return;
	/* One running may have begun before they asked; none is begun
	 * inside a turn's open transaction (store_pg.c's on_tick). */
	if (pgrepl_pulling(ps->repl) || !sqlite3_get_autocommit(ps->db))
		goto again;
	if (pgrepl_pull(ps->repl) == 0) {
		ps->pull_mine = 1;
		ps->pull_base = pgrepl_pulls_read(ps->repl);
		ps->pull_batch = count(ps);
		goto again;
	}
	ms = backoff(ps, count(ps), -ENOTCONN); /* not connected */
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
	*ps->pull_tail = w;
	ps->pull_tail = &w->next;
	/* A wait to try again is cut short: it may be connected now. */
	if (!ps->pull_mine)
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
	ps->pull_mine = 0;
	tell(ps, count(ps), 0, -ECANCELED);
	uv_close((uv_handle_t *)&ps->pull_timer, NULL);
}
