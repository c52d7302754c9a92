#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calwatch.h"
#include "config.h"
#include "log.h"
#include "looptime.h"
#include "reload.h"
#include "smmd.h"

/* An editor's save is several events within a few ms: wait them out. */
#define DEBOUNCE_MS 300
/* Recurrences are extended at least this often. */
#define HORIZON_TICK_MAX_MS (6 * 3600 * 1000)

struct calwatch {
	struct smmd *d;
	uv_fs_event_t event;
	uv_timer_t debounce;
	uv_timer_t horizon;
	uv_timer_t resync;
	char *path; /* the calendar as configured */
	char *name; /* for a single file: its name in the watched folder */
	int open_handles;
};

static void on_debounced(uv_timer_t *t)
{
	struct calwatch *w = t->data;
	uint64_t t0 = looptime_enter();
	int r;

	/* An editor's save that 'smmctl reload' already picked up. */
	if (!reload_calendar_changed(w->d)) {
		log_debug("calendar: files unchanged since the last reload");
		return;
	}
	if ((r = reload_start(w->d, "the calendar files changed", NULL, NULL)) <
	    0)
		log_error("calendar: cannot read the changes now: %s",
		          reload_refusal(r));
	looptime_leave(t0, "calendar change", NULL);
}

static void on_horizon(uv_timer_t *t)
{
	struct calwatch *w = t->data;
	int r;

	if ((r = reload_start(w->d, "extending recurring posts' horizon", NULL,
	                      NULL)) < 0)
		log_error("calendar: cannot extend the horizon now: %s",
		          reload_refusal(r));
}

static void on_resync(uv_timer_t *t)
{
	struct calwatch *w = t->data;
	int r;

	if ((r = reload_start(w->d, "calendar changes left for a moment", NULL,
	                      NULL)) < 0)
		log_error("calendar: cannot sync the changes left for later: "
		          "%s; they wait for the next reload",
		          reload_refusal(r));
}

void calwatch_resync(struct smmd *d, uint64_t delay_ms)
{
	/* At the start the loop has not run yet: its time is old. */
	uv_update_time(d->loop);
	if (d->calwatch)
		uv_timer_start(&d->calwatch->resync, on_resync, delay_ms, 0);
}

static void on_change(uv_fs_event_t *ev, const char *filename, int events,
                      int status)
{
	struct calwatch *w = ev->data;
	size_t n;

	if (status < 0) {
		log_warnx("calendar: watching '%s': %s", w->path,
		          uv_strerror(status));
		return;
	}
	/* Other files in the folder are none of our business. */
	if (filename && w->name && strcmp(filename, w->name) != 0)
		return;
	if (filename && !w->name &&
	    ((n = strlen(filename)) < 5 ||
	     strcmp(filename + n - 5, ".yaml") != 0))
		return;
	uv_timer_start(&w->debounce, on_debounced, DEBOUNCE_MS, 0);
}

static void on_closed(uv_handle_t *h)
{
	struct calwatch *w = h->data;

	if (--w->open_handles == 0) {
		free(w->path);
		free(w->name);
		free(w);
	}
}

static void close_watch(struct calwatch *w)
{
	uv_close((uv_handle_t *)&w->event, on_closed);
	uv_close((uv_handle_t *)&w->debounce, on_closed);
	uv_close((uv_handle_t *)&w->horizon, on_closed);
	uv_close((uv_handle_t *)&w->resync, on_closed);
}

void calwatch_close(struct smmd *d)
{
	if (d->calwatch) {
		close_watch(d->calwatch);
		d->calwatch = NULL;
	}
}

void calwatch_update(struct smmd *d)
{
	const char *path = d->cfg->calendar;
	struct calwatch *w = d->calwatch;
	struct stat st;
	char *dir = NULL;
	uint64_t tick;
	int r;

	if (w && path && strcmp(w->path, path) == 0)
		return;
	calwatch_close(d);
	if (path == NULL)
		return;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->path = strdup(path)) == NULL) {
		free(w);
		log_error("calendar: cannot watch '%s': out of memory", path);
		return;
	}
	w->d = d;
	/*
	 * Editors replace a file by renaming a new one over it, which ends
	 * a watch on the file itself: watch its folder, for its name.
	 */
	if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		const char *slash = strrchr(path, '/');

		w->name = strdup(slash ? slash + 1 : path);
		dir = slash ? strndup(path, (size_t)(slash - path))
		            : strdup(".");
		if (dir && dir[0] == '\0') {
			free(dir);
			dir = strdup("/");
		}
	} else {
		dir = strdup(path);
	}
	uv_fs_event_init(d->loop, &w->event);
	uv_timer_init(d->loop, &w->debounce);
	uv_timer_init(d->loop, &w->horizon);
	uv_timer_init(d->loop, &w->resync);
	w->event.data = w->debounce.data = w->horizon.data = w->resync.data = w;
	w->open_handles = 4;
	d->calwatch = w;
	if (dir == NULL ||
	    (r = uv_fs_event_start(&w->event, on_change, dir, 0)) < 0)
		log_warnx("calendar: cannot watch '%s' (%s); reload with "
		          "SIGHUP or 'smmctl reload' after editing it",
		          path, dir ? uv_strerror(r) : "out of memory");
	free(dir);
	tick = (uint64_t)(d->cfg->horizon_ms / 4);
	if (tick > HORIZON_TICK_MAX_MS)
		tick = HORIZON_TICK_MAX_MS;
	uv_timer_start(&w->horizon, on_horizon, tick, tick);
}
