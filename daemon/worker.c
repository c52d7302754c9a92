/* What a worker runs (worker.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "dispatch.h"
#include "engage.h"
#include "log.h"
#include "outage.h"
#include "pause.h"
#include "smmd.h"
#include "store.h"
#include "worker.h"

/* What another node wrote, as the view read it in: the heap and the
 * pauses follow. */
static void on_changed(void *arg, const char *table, const char *key)
{
	struct smmd *d = arg;

	if (d->stopping)
		return;
	if (strcmp(table, "deliveries") == 0 && key != NULL) {
		const char *slash = strchr(key, '/');
		int64_t held_by = dispatch_follow(d, key);

		if (!d->worker && held_by > 0)
			pause_followed(d, key, held_by);
		if (slash)
			engage_followed(d, slash + 1);
	} else if (strcmp(table, "tokens") == 0 && key != NULL) {
		/* Another node kept newer ones: installed if so. */
		if (strcmp(key, "*") != 0)
			auth_taken(d, key);
		else
			for (size_t i = 0; i < d->cfg->nchannels; i++)
				auth_taken(d, d->cfg->channels[i].name);
	} else if (strcmp(table, "pauses") == 0 && pauses_reread(d) < 0) {
		/* A pause it cannot read may be one that must hold. */
		log_error("pause: cannot read the pauses the working node "
		          "changed: starting afresh");
		outage_begin(d);
	}
}

int worker_start(struct smmd *d, const char **doing)
{
	int r;

	/* First: what a pull reads from now on is told (from pg_start on). */
	worker_follow(d);
	*doing = "loading the pauses";
	if ((r = pauses_start(d)) < 0)
		return r;
	*doing = "loading the schedule";
	if ((r = dispatch_load(d)) < 0)
		return r;
	*doing = "reading the channels' credentials";
	if ((d->auth = auth_new()) == NULL)
		return -ENOMEM;
	if ((r = auth_start(d)) < 0)
		return r;
	return 0;
}

struct hand_over {
	uv_timer_t timer;
	struct smmd *d;
	uint64_t until; /* uv_now: shutdown_grace after it began */
	int begun;
};

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

/*
 * On smmd's loop, never from inside a store call (turn is called from
 * the store's): it begins, then looks every 20 ms.
 */
static void on_drained(uv_timer_t *t)
{
	struct hand_over *h = t->data;
	struct smmd *d = h->d;

	if (d->stopping) {
		/* A stop it is: shutdown waits for the rest. */
		uv_close((uv_handle_t *)t, on_closed);
		return;
	}
	if (!h->begun) {
		h->begun = 1;
		d->handing_over = 1;
		dispatch_stop(d); /* prepared ones wait again, as at a stop */
		/* Its channels go to the others now, not after the drain. */
		dispatch_release_all(d);
		dispatch_arm(d);
		h->until =
		        uv_now(d->loop) + (uint64_t)d->cfg->shutdown_grace_ms;
		log_info("worker: taking over once %zu requests in flight are "
		         "done",
		         d->in_flight);
		return;
	}
	if (d->in_flight > 0 && uv_now(d->loop) < h->until)
		return;
	if (d->in_flight > 0)
		log_warnx("worker: %zu requests still in flight after "
		          "shutdown_grace: taking over all the same",
		          d->in_flight);
	uv_close((uv_handle_t *)t, on_closed);
	outage_restart(d);
}

void worker_hand_over(struct smmd *d)
{
	struct hand_over *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		outage_restart(d);
		return;
	}
	h->d = d;
	h->timer.data = h;
	uv_timer_init(d->loop, &h->timer);
	uv_timer_start(&h->timer, on_drained, 0, 20);
}

void worker_follow(struct smmd *d)
{
	store_watch(d->store, on_changed, d);
}
