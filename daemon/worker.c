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
#include "wallclock.h"
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

		dispatch_follow(d, key);
		if (slash)
			engage_followed(d, slash + 1);
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

	/* First: what a pull reads from now on is told (after pg_start). */
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
	int64_t until_ms;
};

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

static void on_drained(uv_timer_t *t)
{
	struct hand_over *h = t->data;
	struct smmd *d = h->d;

	if (d->stopping) {
		/* A stop it is: shutdown waits for the rest. */
		uv_close((uv_handle_t *)t, on_closed);
		return;
	}
	if (d->in_flight > 0 && wallclock_now_ms() < h->until_ms)
		return;
	if (d->in_flight > 0)
		log_warnx("worker: %zu requests still in flight after "
		          "shutdown_grace: taking over all the same",
		          d->in_flight);
	uv_timer_stop(t);
	outage_restart(d);
}

void worker_hand_over(struct smmd *d)
{
	struct hand_over *h = calloc(1, sizeof(*h));

	d->handing_over = 1;
	dispatch_stop(d); /* prepared ones wait again, as at a stop */
	dispatch_arm(d);
	log_info("worker: taking over once %zu requests in flight are done",
	         d->in_flight);
	if (h == NULL) {
		outage_restart(d);
		return;
	}
	h->d = d;
	h->until_ms = wallclock_now_ms() + d->cfg->shutdown_grace_ms;
	h->timer.data = h;
	uv_timer_init(d->loop, &h->timer);
	uv_timer_start(&h->timer, on_drained, 0, 20);
}

void worker_follow(struct smmd *d)
{
	store_watch(d->store, on_changed, d);
}
