/*
 * Commands relayed between nodes, on the postgresql store (pgrelay.h,
 * relay.h, route.h): a standby's to the working node, and a command on
 * one delivery to the node that fires its channel. A routed one runs
 * only once this node's view has read what was committed when it came
 * (store_pg_pull.c): the node that sent it had written what it names (a
 * post added a moment before) before it asked, and this view, up to a
 * beat behind, must have read it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_impl.h"

struct routed_wait {
	struct pgstore *ps;
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

/*
 * A routed request's pull has ended (or none could begin: it runs on
 * the view as it is). One taken and not run (closing, or no longer
 * serving): its asker says "may have been done".
 */
static void routed_pulled(void *arg, int err)
{
	struct routed_wait *w = arg;
	struct pgstore *ps = w->ps;

	if (err != -ECANCELED && ps->serving)
		ps->serve_fn(ps->serve_arg, w->id, &w->peer, w->line);
	free(w->line);
	free(w);
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
	int rc;

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
	w->ps = ps;
	w->id = id;
	w->peer = sp;
	/* Not waited for (out of memory): on the view as it is. */
	if ((rc = pg_pull_wait(ps, routed_pulled, w, STORE_PULL_OR_NOW)) < 0)
		routed_pulled(w, rc);
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
