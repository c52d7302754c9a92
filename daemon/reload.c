#include <dirent.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calendar.h"
#include "calsync.h"
#include "calwatch.h"
#include "config.h"
#include "dispatch.h"
#include "auth.h"
#include "engage.h"
#include "log.h"
#include "looptime.h"
#include "outage.h"
#include "pause.h"
#include "planbook.h"
#include "postid.h"
#include "prom.h"
#include "reload.h"
#include "smmd.h"
#include "store.h"
#include "wallclock.h"

struct waiter {
	reload_done_cb done;
	void *arg;
	struct waiter *next;
};

/* One reload: parsed off the loop, applied on it. */
struct reload {
	uv_work_t work;
	struct smmd *d;
	char *config_path;
	struct config *cfg; /* parsed in the worker */
	struct calendar *cal;
	/* The diff against the store, worked out in the worker too when a
	 * reader there sees the last sync (snapshot). */
	struct calsync_plan *plan;
	int snapshot;
	char read_err[256];     /* why the worker could not, for the log */
	struct plan_book *book; /* the calendar's, for 'smmctl plan check' */
	uv_work_t reap;         /* frees what the reload leaves, off the loop */
	struct config_errors errs;
	uint64_t files_sig; /* the calendar files as they were before the parse
	                     */
	/* A worker node's: smmd.yaml alone, the calendar being the working
	 * node's to sync (doc/cluster.md, workers). */
	int config_only;
	struct waiter *waiters; /* told when this one is applied */
};

/* The reload under way and whether another was asked for meanwhile. */
struct reloads {
	struct reload *running;
	struct waiter *next_waiters;
	int again;
	const char *again_why;
	uint64_t applied_sig; /* files_sig of the calendar now applied */
	int have_sig;
	/* The last sync's writes are committed once the store's count of
	 * commits passes this. */
	uint64_t synced_at;
	int waiting_commit; /* the next reload starts once they are */
};

/*
 * What of the calendar outlives it: its plan B scenarios (NULL: none), its
 * zone, which channels' slots use when they name none, its campaigns'
 * blackouts, and the plan check's book (its cadences, and where the posts
 * they apply to are).
 */
static void adopt_calendar(struct smmd *d, struct calendar *cal,
                           struct plan_book *book, int64_t horizon_ms)
{
	json_decref(d->planb);
	d->planb = cal ? json_incref(cal->planb) : NULL;
	free(d->calendar_zone);
	d->calendar_zone = cal && cal->timezone ? strdup(cal->timezone) : NULL;
	d->calendar_horizon_ms = horizon_ms;
	pause_adopt_campaigns(d, cal);
	plan_book_free(d->plan_book);
	if ((d->plan_book = book) == NULL && cal)
		log_warnx("reload: out of memory: 'smmctl plan check' knows no "
		          "campaign cadence until the next reload");
}

/* The new configuration and calendar are in: note it, log it, say it. */
static void applied(struct smmd *d, struct reloads *rs, struct reload *r,
                    const struct calsync_summary *sum, json_t **summary)
{
	if (r->cal || d->cfg->calendar == NULL) {
		adopt_calendar(d, r->cal, r->book,
		               r->cal ? sum->horizon_ms
		                      : wallclock_now_ms() +
		                                d->cfg->horizon_ms);
		r->book = NULL;
	}
	rs->applied_sig = r->files_sig;
	rs->have_sig = r->cal != NULL;
	*summary = json_pack("{s:s, s:i, s:o}", "config", d->config_path,
	                     "channels", (int)d->cfg->nchannels, "calendar",
	                     r->cal ? calsync_summary_json(sum) : json_null());
	if (r->cal)
		log_info("reload: calendar '%s': %u added, %u updated, %u "
		         "cancelled, %u unchanged, %u missed, %u deferred",
		         d->cfg->calendar, sum->added, sum->updated,
		         sum->cancelled, sum->unchanged, sum->missed,
		         sum->deferred);
	else
		log_info("reload: '%s' applied (no calendar)", d->config_path);
}

static void mix(uint64_t *sig, uint64_t v)
{
	*sig = (*sig ^ v) * 1099511628211ULL;
}

static void mix_stat(uint64_t *sig, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		mix(sig, 0);
		return;
	}
	mix(sig, (uint64_t)st.st_ino);
	mix(sig, (uint64_t)st.st_size);
	mix(sig, (uint64_t)st.st_mtim.tv_sec);
	mix(sig, (uint64_t)st.st_mtim.tv_nsec);
}

/*
 * What the calendar files look like on disk: each *.yaml's inode, size
 * and mtime, and for a folder its own (a file added, removed or renamed
 * changes it). Taken before a parse, so a file changed during the parse
 * makes the next look differ, never the other way round.
 */
static uint64_t calendar_files_sig(const char *path)
{
	uint64_t sig = 1469598103934665603ULL;
	struct dirent *de;
	DIR *dir;

	mix_stat(&sig, path);
	if ((dir = opendir(path)) == NULL)
		return sig;
	while ((de = readdir(dir)) != NULL) {
		size_t n = strlen(de->d_name);
		char file[4096];

		if (n < 5 || strcmp(de->d_name + n - 5, ".yaml") != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		mix(&sig, postid_hash(de->d_name));
		mix_stat(&sig, file);
	}
	closedir(dir);
	return sig;
}

int reload_calendar_changed(struct smmd *d)
{
	struct reloads *rs = d->reloads;

	return rs == NULL || !rs->have_sig || d->cfg->calendar == NULL ||
	       calendar_files_sig(d->cfg->calendar) != rs->applied_sig;
}

static struct reloads *reloads(struct smmd *d)
{
	if (d->reloads == NULL)
		d->reloads = calloc(1, sizeof(struct reloads));
	return d->reloads;
}

static json_t *errors_json(const struct config_errors *errs)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < errs->len; i++)
		json_array_append_new(arr, json_string(errs->lines[i]));
	return arr;
}

/*
 * The diff, from the store's calendar rows read by a reader: on the loop,
 * reading 200,000 of them and expanding the calendar against them took
 * 100 ms. Without a reader r->plan stays NULL and the loop works it out;
 * so it does after an error, which the loop logs (r->read_err).
 */
static void plan_sync(struct reload *r)
{
	struct calsync_rows *rows;
	struct store *reader;
	int e;

	if ((e = store_read_begin(r->d->store, &reader, r->read_err,
	                          sizeof(r->read_err))) < 0) {
		if (e != -EIO)
			r->read_err[0] = '\0';
		return;
	}
	e = calsync_rows_read(reader, &rows);
	store_read_end(r->d->store, reader);
	if (e == 0)
		e = calsync_plan(r->cal, r->cfg, wallclock_now_ms(), rows,
		                 &r->plan);
	if (e < 0)
		snprintf(r->read_err, sizeof(r->read_err), "%s", strerror(-e));
}

static void parse(uv_work_t *w)
{
	struct reload *r = w->data;

	/*
	 * Pure code only, but for the store's reader: nothing here may
	 * touch the loop or its store.
	 */
	if (config_load(r->config_path, &r->cfg, &r->errs) < 0 ||
	    r->config_only)
		return;
	if (r->cfg->calendar)
		r->files_sig = calendar_files_sig(r->cfg->calendar);
	if (r->cfg->calendar &&
	    calendar_load(r->cfg->calendar, r->cfg, &r->cal, &r->errs) < 0) {
		config_unref(r->cfg);
		r->cfg = NULL;
		return;
	}
	if (r->cal && r->snapshot)
		plan_sync(r);
	/* NULL (out of memory) is said on the loop (adopt_calendar). */
	if (r->cal)
		r->book = plan_book_new(r->cal, r->cfg);
}

static void tell(struct waiter *w, int ok, const json_t *summary,
                 const json_t *errors)
{
	while (w) {
		struct waiter *next = w->next;

		w->done(w->arg, ok, summary, errors);
		free(w);
		w = next;
	}
}

static int start(struct smmd *d, const char *why);
static void again_after_commit(void *arg, int err);
static void reap(uv_work_t *w);
static void reaped(uv_work_t *w, int status);

/*
 * A parsed calendar is tens of MiB for a large one, allocated on a pool
 * thread: give it back to the system once freed rather than keep it in
 * the thread's arena forever (main.c also caps arenas).
 */
static void release_memory(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

void reload_blackouts(struct smmd *d)
{
	int n = pause_blackout_sweep(d, wallclock_now_ms());

	if (n < 0)
		log_error("blackouts: cannot read the schedule to apply them "
		          "(%s); each delivery is judged when it is due",
		          strerror(-n));
	else if (n > 0)
		log_info("blackouts: %d scheduled deliver%s moved", n,
		         n == 1 ? "y" : "ies");
}

/* The new configuration replaces the running one (r->cfg is taken). */
static void swap_config(struct smmd *d, struct reload *r)
{
	const char *was = d->cfg->store_url, *now = r->cfg->store_url;

	if (strcmp(r->cfg->state_dir, d->cfg->state_dir) != 0 ||
	    strcmp(r->cfg->socket_path, d->cfg->socket_path) != 0 ||
	    (was == NULL) != (now == NULL) ||
	    (was != NULL && strcmp(was, now) != 0) ||
	    r->cfg->share_work != d->cfg->share_work ||
	    (!d->standby && auth_key_changed(d, r->cfg)))
		log_warnx("reload: state_dir, store, token_key_file, "
		          "share_work and socket changes take effect at the "
		          "next restart");
	config_unref(d->cfg);
	d->cfg = r->cfg;
	r->cfg = NULL;
	log_set_format(d->cfg->log_json ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
	dispatch_reload(d);
	engage_reload(d);
	auth_reload(d);
	if (!d->worker) /* the calendar is the working node's */
		calwatch_update(d);
	if (prom_channels(d->prom, d->cfg) < 0)
		log_warnx("metrics: out of memory: the channels' counters "
		          "stay those of the previous configuration");
}

/*
 * A sync just ran: what it wrote, if anything, is in the open transaction,
 * committed with the next commit.
 */
static void note_synced(struct smmd *d, struct reloads *rs,
                        const struct calsync_summary *sum)
{
	struct store_stats ss;

	if (sum->added + sum->updated + sum->cancelled + sum->missed == 0)
		return;
	store_stats(d->store, &ss);
	rs->synced_at = ss.committed;
}

/*
 * Whether a reader, opened now, sees what the last sync wrote. A commit
 * waits while a sync of the disk runs (store.c): a reload right after
 * another may come before it, and a snapshot without the rows the last
 * one added would not cancel them if the calendar has dropped them since.
 * Then the rows are read on the loop, as they are at start.
 */
static int snapshot_sees_last_sync(struct smmd *d, const struct reloads *rs)
{
	struct store_stats ss;

	store_stats(d->store, &ss);
	return ss.committed > rs->synced_at;
}

/*
 * The new calendar against the store (the rows read in the worker, if
 * they were). 1, or 0 with *errors when the store cannot be written.
 */
static int sync_calendar(struct smmd *d, struct reloads *rs, struct reload *r,
                         json_t **summary, json_t **errors)
{
	struct calsync_summary sum = {0};
	int rc;

	if (r->plan == NULL && r->read_err[0])
		log_warnx("reload: cannot compare the calendar with the store "
		          "off the loop (%s); comparing them on the loop",
		          r->read_err);
	rc = r->cal ? calsync_apply(d, r->cal, wallclock_now_ms(), r->plan,
	                            &sum)
	            : 0;
	note_synced(d, rs, &sum);
	if (rc == 0 && sum.deferred > 0)
		calwatch_resync(d, CALSYNC_RESYNC_MS);
	if (rc < 0) {
		/* Given up with the turn; smmd starts afresh later. */
		outage_begin(d);
		*errors = json_pack("[s]", "the store cannot be written: the "
		                           "calendar's changes are not "
		                           "recorded");
		return 0;
	}
	applied(d, rs, r, &sum, summary);
	return 1;
}

/* On the loop: swap in the new configuration and sync the calendar. */
static void apply_parsed(uv_work_t *w, int status)
{
	struct reload *r = w->data;
	struct smmd *d = r->d;
	struct reloads *rs = reloads(d);
	json_t *summary = NULL, *errors = NULL;
	char err[512];
	int ok = 0;

	rs->running = NULL;
	if (status < 0 || r->cfg == NULL) {
		errors = errors_json(&r->errs);
		if (status < 0)
			json_array_append_new(errors,
			                      json_string(uv_strerror(status)));
		log_error("reload: the configuration or the calendar has "
		          "errors; the running configuration and schedule "
		          "stay");
		for (size_t i = 0; i < r->errs.len; i++)
			log_error("%s", r->errs.lines[i]);
	} else if (d->stopping) {
		errors = json_pack("[s]", "smmd is shutting down");
	} else if (r->config_only) {
		/* Its channels and their settings; it serves no metrics. */
		swap_config(d, r);
		log_info("reload: this worker's configuration is applied: %zu "
		         "channels",
		         d->cfg->nchannels);
		ok = 1;
	} else if (prom_serve(d, r->cfg, err, sizeof(err)) < 0) {
		/* Before anything changed: the old listener serves on. */
		errors = json_pack("[s+]", "metrics_listen: ", err);
		log_error("reload: metrics_listen: %s; the running "
		          "configuration and schedule stay",
		          err);
	} else {
		swap_config(d, r);
		ok = sync_calendar(d, rs, r, &summary, &errors);
		if (ok)
			reload_blackouts(d);
	}
	tell(r->waiters, ok, summary, errors);
	json_decref(summary);
	json_decref(errors);
	config_unref(r->cfg);
	config_errors_clear(&r->errs);
	free(r->config_path);
	r->reap.data = r;
	if (uv_queue_work(d->loop, &r->reap, reap, reaped) < 0) {
		reap(&r->reap);
		reaped(&r->reap, 0);
	}
	/* Asked again while this one ran: the files may have moved on. */
	if (rs->again && !d->stopping) {
		/* Once this sync's writes are committed: see start(). */
		if (!snapshot_sees_last_sync(d, rs) &&
		    store_after_commit(d->store, again_after_commit, d) == 0) {
			rs->waiting_commit = 1;
			return;
		}
		rs->again = 0;
		if (start(d, rs->again_why) < 0)
			tell(rs->next_waiters, 0, NULL, NULL);
	}
}

/*
 * What an applied reload leaves, freed on a pool thread: a large parsed
 * calendar and its diff took milliseconds to free on the loop. Nothing
 * on the loop points into them any more (adopt_calendar copies, or takes
 * a reference where jansson counts atomically).
 */
static void reap(uv_work_t *w)
{
	struct reload *r = w->data;

	calendar_free(r->cal);
	calsync_plan_free(r->plan);
	plan_book_free(r->book);
	release_memory();
}

static void reaped(uv_work_t *w, int status)
{
	(void)status; /* never cancelled: uv_cancel is not called on it */
	free(w->data);
}

/* The reload asked for during the last one, now that its sync is in. */
static void again_after_commit(void *arg, int err)
{
	struct smmd *d = arg;
	struct reloads *rs = reloads(d);

	(void)err; /* not committed: start() reads on the loop instead */
	rs->waiting_commit = 0;
	if (d->stopping)
		return;
	rs->again = 0;
	if (start(d, rs->again_why) < 0)
		tell(rs->next_waiters, 0, NULL, NULL);
}

/* On the loop: the parse is done, the calendar's sync runs here. */
static void apply(uv_work_t *w, int status)
{
	uint64_t t0 = looptime_enter();

	apply_parsed(w, status);
	looptime_leave(t0, "reload apply", NULL);
}

static int start(struct smmd *d, const char *why)
{
	struct reloads *rs = reloads(d);
	struct reload *r;
	int e;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->config_path = strdup(d->config_path)) == NULL) {
		free(r);
		return -ENOMEM;
	}
	r->d = d;
	r->work.data = r;
	r->config_only = d->worker;
	r->waiters = rs->next_waiters;
	rs->next_waiters = NULL;
	log_info("reload: %s", why);
	r->snapshot = snapshot_sees_last_sync(d, rs);
	if ((e = uv_queue_work(d->loop, &r->work, parse, apply)) < 0) {
		rs->next_waiters = r->waiters;
		free(r->config_path);
		free(r);
		return e;
	}
	rs->running = r;
	return 0;
}

int reload_start(struct smmd *d, const char *why, reload_done_cb done,
                 void *arg)
{
	struct reloads *rs = reloads(d);
	struct waiter *w = NULL;

	/* Nothing could be recorded; smmd reads it all when it starts afresh.
	 */
	if (d->store_down_ms)
		return -EAGAIN;
	if (rs == NULL || (done && (w = calloc(1, sizeof(*w))) == NULL))
		return -ENOMEM;
	if (done) {
		w->done = done;
		w->arg = arg;
		w->next = rs->next_waiters;
		rs->next_waiters = w;
	}
	/* One at a time: the files are read again once this one is done. */
	if (rs->running || rs->waiting_commit) {
		rs->again = 1;
		rs->again_why = why;
		return 0;
	}
	return start(d, why);
}

const char *reload_refusal(int r)
{
	return r == -EAGAIN ? "the store cannot be written (smmd reads the "
	                      "files again when it starts afresh)"
	                    : "out of memory";
}

void reload_calendar_at_start(struct smmd *d)
{
	struct config_errors errs = {0};
	struct calendar *cal;
	struct calsync_summary sum;

	struct reloads *rs = reloads(d);
	uint64_t sig;

	if (d->cfg->calendar == NULL || rs == NULL)
		return;
	sig = calendar_files_sig(d->cfg->calendar);
	if (calendar_load(d->cfg->calendar, d->cfg, &cal, &errs) < 0) {
		log_error("calendar: '%s' has errors; the stored schedule runs "
		          "as it is until they are fixed",
		          d->cfg->calendar);
		for (size_t i = 0; i < errs.len; i++)
			log_error("%s", errs.lines[i]);
		config_errors_clear(&errs);
		return;
	}
	if (calsync_apply(d, cal, wallclock_now_ms(), NULL, &sum) < 0)
		fatalx("store: cannot record the calendar");
	note_synced(d, rs, &sum);
	if (sum.deferred > 0)
		calwatch_resync(d, CALSYNC_RESYNC_MS);
	adopt_calendar(d, cal, plan_book_new(cal, d->cfg), sum.horizon_ms);
	rs->applied_sig = sig;
	rs->have_sig = 1;
	log_info("calendar: '%s': %u added, %u updated, %u cancelled, %u "
	         "unchanged, %u missed, %u deferred",
	         d->cfg->calendar, sum.added, sum.updated, sum.cancelled,
	         sum.unchanged, sum.missed, sum.deferred);
	calendar_free(cal);
	release_memory();
}

void reload_free(struct smmd *d)
{
	struct reloads *rs = d->reloads;

	free(d->calendar_zone);
	d->calendar_zone = NULL;
	plan_book_free(d->plan_book);
	d->plan_book = NULL;
	if (rs == NULL)
		return;
	/* A reload still running holds its own memory; uv_run waited. */
	tell(rs->next_waiters, 0, NULL, NULL);
	free(rs);
	d->reloads = NULL;
}
