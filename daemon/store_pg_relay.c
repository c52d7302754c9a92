/*
 * Commands relayed between nodes, on the postgresql store (pgrelay.h,
 * relay.h, route.h): a standby's to the working node, and a command on
 * one delivery to the node that fires its channel. A routed one runs
 * only after a pull of this node's view begun once it came: the node
 * that sent it had written what it names (a post added a moment before)
 * before it asked, and this view, up to a beat behind, must have read it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_impl.h"

/* Looked at this often while the pull for routed requests runs. */
#define ROUTED_POLL_MS 2

struct routed_wait {
	struct routed_wait *next;
	int64_t id;
	struct store_peer peer;
	char *line;
};

int pg_relay(struct store_be *s, const struct store_peer *p, const char *line,
             const char *channel, store_relay_fn *fn, void *arg)
{
	struct pgstore *ps = s->pg;
	struct pgrelay_peer rp = {
	        .uid = p->uid, .gid = p->gid, .readonly = p->readonly};
	int rc;

	/* The working node asks nobody but the node that fires a channel. */
	if (ps == NULL || (!ps->standby && channel == NULL))
		return -ENOTSUP;
	rc = pgrelay_ask(ps->relay, &rp, line, channel, fn, arg);
	pg_kick(ps);
	return rc;
}

/* The first n waiting, to smmd, in the order they came. */
static void serve_waiting(struct pgstore *ps, size_t n)
{
	while (n-- > 0 && ps->routed) {
		struct routed_wait *w = ps->routed;

		if ((ps->routed = w->next) == NULL)
			ps->routed_tail = &ps->routed;
		/* One that no longer serves runs nothing: its asker says
		 * "may have been done" (taken, not answered). */
		if (ps->serving)
			ps->serve_fn(ps->serve_arg, w->id, &w->peer, w->line);
		free(w->line);
		free(w);
	}
}

static size_t waiting(const struct pgstore *ps)
{
	size_t n = 0;

	for (const struct routed_wait *w = ps->routed; w; w = w->next)
		n++;
	return n;
}

/*
 * The pull for the requests that came before it ended: they run. Those
 * that came since wait for one of their own, begun once no other pull
 * runs (one begun before them may have missed what they name).
 */
static void on_routed_timer(uv_timer_t *t)
{
	struct pgstore *ps = t->data;

	if (ps->routed_pulling && pgrepl_pulling(ps->repl))
		goto again;
	if (ps->routed_pulling) {
		ps->routed_pulling = 0;
		serve_waiting(ps, ps->routed_batch);
	}
	if (ps->routed == NULL)
		return;
	if (pgrepl_pulling(ps->repl))
		goto again;
	if (pgrepl_pull(ps->repl) == 0) {
		ps->routed_pulling = 1;
		ps->routed_batch = waiting(ps);
	} else {
		/* Not connected: run them on the view as it is. */
		serve_waiting(ps, waiting(ps));
		return;
	}
again:
	uv_timer_start(&ps->routed_timer, on_routed_timer, ROUTED_POLL_MS, 0);
}

static void on_request(void *arg, int64_t id, const struct pgrelay_peer *p,
                       const char *line)
{
	struct pgstore *ps = arg;
	struct store_peer sp = {.uid = p->uid,
	                        .gid = p->gid,
	                        .readonly = p->readonly,
	                        .routed = p->routed};
	struct routed_wait *w;

	if (!p->routed) {
		ps->serve_fn(ps->serve_arg, id, &sp, line);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->line = strdup(line)) == NULL) {
		free(w);
		ps->serve_fn(ps->serve_arg, id, &sp, line);
		return;
	}
	w->id = id;
	w->peer = sp;
	*ps->routed_tail = w;
	ps->routed_tail = &w->next;
	if (!uv_is_active((uv_handle_t *)&ps->routed_timer))
		uv_timer_start(&ps->routed_timer, on_routed_timer, 0, 0);
}

void pg_relay_init(struct pgstore *ps)
{
	ps->routed = NULL;
	ps->routed_tail = &ps->routed;
	uv_timer_init(&ps->loop, &ps->routed_timer);
	ps->routed_timer.data = ps;
}

void pg_relay_close(struct pgstore *ps)
{
	/* Taken and not run: their askers say "may have been done". */
	while (ps->routed) {
		struct routed_wait *w = ps->routed;

		ps->routed = w->next;
		free(w->line);
		free(w);
	}
	ps->routed_tail = &ps->routed;
	uv_close((uv_handle_t *)&ps->routed_timer, NULL);
}

int pg_relays_serve(struct store_be *s, store_request_fn *fn, void *arg)
{
	struct pgstore *ps = s->pg;
	int rc;

	if (ps == NULL || (ps->standby && !ps->worker))
		return -ENOTSUP;
	/* A worker takes what is routed to the channels it fires. */
	if ((rc = pgrelay_serve(ps->relay, on_request, ps, ps->writer_id,
	                        !ps->standby)) < 0)
		return rc;
	ps->serve_fn = fn;
	ps->serve_arg = arg;
	ps->serving = 1;
	pg_listen_relays(ps); /* then takes what was asked before */
	pg_kick(ps);
	return 0;
}

void pg_relay_answer(struct store_be *s, int64_t id, const char *reply)
{
	struct pgstore *ps = s->pg;

	pgrelay_answer(ps->relay, id, reply);
	pg_kick(ps);
}
