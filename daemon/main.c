/*
 * smmd: fires each queued social-media post at its time through its
 * channel's publisher. One libuv loop; SQLite for state; libcurl's multi
 * interface for HTTP.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/prctl.h>
#include <unistd.h>

#include <curl/curl.h>

#include "calendar.h"
#include "config.h"
#include "control.h"
#include "calwatch.h"
#include "dispatch.h"
#include "auth.h"
#include "engage.h"
#include "events.h"
#include "fatalsig.h"
#include "pause.h"
#include "plancheck.h"
#include "prom.h"
#include "recover.h"
#include "relay.h"
#include "worker.h"
#include "reload.h"
#include "http.h"
#include "log.h"
#include "outage.h"
#include "looptime.h"
#include "sched.h"
#include "service.h"
#include "sign.h"
#include "smmd.h"
#include "store.h"
#include "wallclock.h"

/* The loop-side pieces main itself owns. */
struct runtime {
	struct smmd d;
	uv_loop_t loop;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_prepare_t flush_prepare;
	uv_check_t flush_check;
	uv_timer_t grace;
	uv_timer_t keepalive; /* the watchdog and STATUS= for systemd */
	int ready_fd;         /* to the waiting parent, when detached */
	int shut_down;
	int watchdog;          /* systemd expects WATCHDOG=1 from us */
	int status_follow;     /* no watchdog: STATUS= when the counts change */
	char status_sent[128]; /* what STATUS= told systemd last */
	char **argv;           /* to execute smmd afresh (outage.c) */
	int detached;          /* forked at start, or executed afresh so */
	int notify_failed; /* told the log once that systemd isn't hearing us */
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: smmd [-fv] [-c FILE]\n"
	        "       smmd --check-config [-c FILE]\n"
	        "       smmd --new-secret | --version | --help\n"
	        "\n"
	        "Publishes queued social-media posts at their time through\n"
	        "each channel's webhook.\n"
	        "\n"
	        "  -c, --config FILE   configuration (default %s)\n"
	        "  -f, --foreground    stay in the foreground and log to stderr\n"
	        "                      (otherwise detach once ready and log to\n"
	        "                      syslog); use it under systemd (Type=notify)\n"
	        "  -n, --check-config  validate the configuration, print every\n"
	        "                      error as FILE:LINE:COLUMN: message, and exit\n"
	        "                      0 (valid) or 1; the next four weeks of the\n"
	        "                      calendar against the cadences are warnings\n"
	        "                      (FILE:LINE:COLUMN: warning: message)\n"
	        "      --new-secret    print a fresh webhook signing secret\n"
	        "                      (whsec_...) for a secret_file, and exit\n"
	        "  -v, --verbose       log debug messages too\n"
	        "  -V, --version       print the version and exit\n"
	        "  -h, --help          print this help and exit\n"
	        "\n"
	        "Signals: SIGTERM/SIGINT stop (in-flight requests get shutdown_grace\n"
	        "to finish), SIGHUP reloads the configuration.\n"
	        "See smmd(8) and smmd.yaml(5).\n",
	        CONFIG_DEFAULT_PATH);
}

/* --new-secret: what a secret_file should hold, from the system's RNG. */
static int print_new_secret(void)
{
	char secret[SIGN_NEW_SECRET_LEN];

	if (sign_new_secret(secret) < 0) {
		fprintf(stderr, "smmd: cannot make a secret: no randomness\n");
		return 1;
	}
	printf("%s\n", secret);
	return 0;
}

static void print_errors(struct config_errors *errs)
{
	for (size_t i = 0; i < errs->len; i++)
		fprintf(stderr, "%s\n", errs->lines[i]);
	fflush(stderr);
}

/*
 * --check-config's cadence warnings, from the calendar alone over the
 * next four weeks: "FILE:LINE:COLUMN: warning: message", never an error.
 */
static void print_plan_warnings(const struct config *cfg,
                                const struct calendar *cal)
{
	json_t *r = plancheck_calendar(cfg, cal, wallclock_now_ms(), 4), *f;
	size_t i;

	if (r == NULL) {
		fprintf(stderr, "smmd: out of memory checking the cadences\n");
		return;
	}
	json_array_foreach (json_object_get(r, "findings"), i, f)
		fprintf(stderr, "%s:%lld:%lld: warning: %s\n",
		        json_string_value(json_object_get(f, "file")),
		        (long long)json_integer_value(
		                json_object_get(f, "line")),
		        (long long)json_integer_value(
		                json_object_get(f, "column")),
		        json_string_value(json_object_get(f, "message")));
	if (json_integer_value(json_object_get(r, "more")) > 0)
		fprintf(stderr, "smmd: %lld more cadence warnings\n",
		        (long long)json_integer_value(
		                json_object_get(r, "more")));
	json_decref(r);
}

/* Make every durable write of this loop turn durable, then let it show. */
static void end_of_turn(struct runtime *rt);

static void on_prepare(uv_prepare_t *h)
{
	end_of_turn(h->data);
}

static void status_follow(struct runtime *rt);

static void on_check(uv_check_t *h)
{
	end_of_turn(h->data);
	status_follow(h->data);
}

static void close_quietly(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void http_closed(void *arg)
{
	(void)arg;
}

/*
 * Tell systemd something (r: what service_notify_* returned). Failing to
 * reach it is worth one warning, not one every watchdog tick.
 */
static void notified(struct runtime *rt, int r, const char *what)
{
	if (r < 0 && !rt->notify_failed) {
		rt->notify_failed = 1;
		log_warnx("systemd: cannot send %s: %s", what, strerror(-r));
	}
}

/*
 * STATUS= for "systemctl status": what is queued and what is moving,
 * from the event counters, never the store: this runs at every
 * keep-alive (and, with no watchdog, after every loop turn), and counting
 * a large store would stall the loop.
 */
static const char *status_format(const struct runtime *rt, char *buf,
                                 size_t len)
{
	int64_t counts[DS_COUNT];
	char why[300];

	/* Why, as the store says now: the node it names may have changed. */
	if (rt->d.standby && store_standby(rt->d.store, why, sizeof(why))) {
		snprintf(buf, len, "standby: %.110s", why);
		return buf;
	}
	if (store_kept_counts(rt->d.store, counts) <= 0)
		events_counts(rt->d.events, counts);
	snprintf(buf, len, "%lld scheduled, %lld retrying, %zu in flight",
	         (long long)counts[DS_SCHEDULED],
	         (long long)counts[DS_RETRY_WAIT], rt->d.in_flight);
	return buf;
}

/* STATUS= about to be sent: remembered, so that only a change is sent. */
static const char *status_line(struct runtime *rt, char *buf, size_t len)
{
	status_format(rt, buf, len);
	snprintf(rt->status_sent, sizeof(rt->status_sent), "%s", buf);
	return buf;
}

/*
 * From the loop itself, so a stalled loop stops the keep-alives and
 * systemd restarts smmd; STATUS= rides along, cheap at this pace.
 */
static void on_keepalive(uv_timer_t *t)
{
	struct runtime *rt = t->data;
	char status[128];

	status_line(rt, status, sizeof(status));
	if (rt->watchdog)
		notified(rt, service_notify_watchdog(status), "WATCHDOG=1");
	else
		notified(rt, service_notify_status(status), "STATUS=");
}

/* With no watchdog, STATUS= follows a change this soon (at most). */
#define STATUS_FOLLOW_MS 1000

/*
 * With no watchdog nothing else need wake smmd for systemd: after a turn
 * that changed the counts STATUS= follows once, within STATUS_FOLLOW_MS
 * (a burst changes them every turn), and while nothing changes nothing
 * is sent: an idle smmd sleeps.
 */
static void status_follow(struct runtime *rt)
{
	char status[128];

	if (!rt->status_follow || rt->shut_down ||
	    uv_is_active((uv_handle_t *)&rt->keepalive))
		return;
	status_format(rt, status, sizeof(status));
	if (strcmp(status, rt->status_sent) != 0)
		uv_timer_start(&rt->keepalive, on_keepalive, STATUS_FOLLOW_MS,
		               0);
}

static void start_keepalive(struct runtime *rt)
{
	uint64_t ms = service_watchdog_interval_ms();
	int r;

	uv_timer_init(rt->d.loop, &rt->keepalive);
	rt->keepalive.data = rt;
	rt->watchdog = ms > 0;
	rt->status_follow = ms == 0 && service_notify_enabled();
	if (ms == 0)
		return;
	if ((r = uv_timer_start(&rt->keepalive, on_keepalive, ms, ms)) < 0)
		fatalx("watchdog: cannot start the timer: %s", uv_strerror(r));
	log_debug("systemd: keep-alive every %llu ms", (unsigned long long)ms);
}

/* Spare the next start a count of the whole store; never worth a failure. */
static void keep_counts(struct smmd *d)
{
	int64_t counts[DS_COUNT];

	events_counts(d->events, counts);
	if (store_keep_counts(d->store, counts) < 0)
		log_warnx("store: cannot keep the counts; the next start "
		          "counts the store again");
}

/* Everything in flight is settled: close the handles; uv_run returns. */
static void finish_shutdown(struct runtime *rt)
{
	struct smmd *d = &rt->d;

	rt->shut_down = 1;
	/* Waits for the last batch's sync, then stops the writer. */
	if (store_stop(d->store) < 0)
		log_error("store: the last commit failed");
	else if (!d->store_down_ms) /* else the counts may be ahead of it */
		keep_counts(d);
	outage_free(d->outage);
	d->outage = NULL;
	close_quietly((uv_handle_t *)&rt->grace);
	close_quietly((uv_handle_t *)&rt->keepalive);
	close_quietly((uv_handle_t *)&rt->sig_term);
	close_quietly((uv_handle_t *)&rt->sig_int);
	close_quietly((uv_handle_t *)&rt->sig_hup);
	close_quietly((uv_handle_t *)&rt->flush_prepare);
	close_quietly((uv_handle_t *)&rt->flush_check);
	looptime_close(d->looptime);
	prom_stop(d);
	pauses_stop(d);
	engage_close(d);
	auth_close(d);
	wallclock_close(d->clock);
	d->clock = NULL;
	calwatch_close(d);
	http_close(d->http, http_closed, NULL);
}

/*
 * The store failed before smmd is up. Damage gets the one message that
 * matters: smmd will not go on with it, nor start afresh in its place.
 */
static void store_fatal(struct smmd *d, const char *doing)
{
	char why[512];

	if (store_failure(d->store, why, sizeof(why)) == STORE_DAMAGED)
		fatalx("store: %s, %s: the database is damaged; smmd will not "
		       "start on it, nor replace it with an empty one. Restore "
		       "a backup ('smmctl backup' makes them), or move the "
		       "file away to start afresh",
		       why, doing);
	fatalx("store: %s, %s", why, doing);
}

/* An smmd executed afresh (outage.c) made the socket it hands itself. */
static int owns_socket(void)
{
	const char *v = getenv("SMMD_OWNS_SOCKET");
	int own = v && strcmp(v, "1") == 0;

	unsetenv("SMMD_OWNS_SOCKET");
	return own;
}

/* A commit or a sync failed: nothing unrecorded is sent (outage.c). */
static void store_failed(void *arg, int err)
{
	struct runtime *rt = arg;

	(void)err;
	outage_begin(&rt->d);
}

/* Hand the turn's writes to the store; they show once durable. */
static void end_of_turn(struct runtime *rt)
{
	struct smmd *d = &rt->d;
	uint64_t t0;

	if (rt->shut_down)
		return;
	/* While the store cannot write, every turn's writes are given up. */
	if (d->store_down_ms)
		store_give_up_turn(d->store);
	t0 = looptime_enter();
	if (store_submit(d->store) < 0)
		store_failed(rt, -EIO);
	looptime_leave(t0, "store commit", NULL);
	dispatch_turn_over(d);
	if (d->stopping && d->in_flight == 0)
		finish_shutdown(rt);
	log_flush();
}

static void on_grace_over(uv_timer_t *t)
{
	struct runtime *rt = t->data;

	log_warnx("shutdown: %zu requests still in flight after the grace "
	          "period; they will be retried with the same webhook-id "
	          "after restart",
	          rt->d.in_flight);
	http_abort_all(rt->d.http);
}

static void begin_shutdown(struct runtime *rt, const char *why)
{
	struct smmd *d = &rt->d;

	char status[64];

	if (d->stopping)
		return;
	d->stopping = 1;
	log_info("shutdown: %s; %zu requests in flight", why, d->in_flight);
	snprintf(status, sizeof(status), "stopping: %zu in flight",
	         d->in_flight);
	notified(rt, service_notify_stopping(status), "STOPPING=1");
	control_close(d->control);
	d->control = NULL;
	/* Their clients are gone: reads off the loop stop (cmd_read.c). */
	store_read_stop(d->store);
	dispatch_stop(d);
	recover_stop(d);
	dispatch_arm(d);
	if (d->in_flight > 0)
		uv_timer_start(&rt->grace, on_grace_over,
		               (uint64_t)d->cfg->shutdown_grace_ms, 0);
}

/* A SIGHUP reload is over, applied or not: serving again either way. */
static void reloaded(void *arg, int ok, const json_t *summary,
                     const json_t *errors)
{
	struct runtime *rt = arg;
	char status[128];

	notified(rt,
	         service_notify_ready(status_line(rt, status, sizeof(status))),
	         "READY=1");
}

/* SIGHUP: re-read smmd.yaml and the calendar (reload.c logs the outcome). */
static void reload(struct runtime *rt)
{
	char status[128];
	int r;

	notified(rt, service_notify_reloading("reloading the configuration"),
	         "RELOADING=1");
	if ((r = reload_start(&rt->d, "SIGHUP", reloaded, rt)) < 0) {
		log_error("reload: cannot start: %s", reload_refusal(r));
		notified(rt,
		         service_notify_ready(
		                 status_line(rt, status, sizeof(status))),
		         "READY=1");
	}
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct runtime *rt = h->data;

	if (signum == SIGHUP && rt->d.standby && !rt->d.worker)
		log_info("reload: a standby has nothing to reload; it reads "
		         "smmd.yaml and the calendar when it takes over");
	else if (signum == SIGHUP)
		reload(rt);
	else
		begin_shutdown(rt, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* Detach; the parent exits 0 only once the child says it is ready. */
static int detach(void)
{
	int fds[2];
	char c;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		fatal("pipe");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	if (setsid() < 0)
		fatal("setsid");
	return fds[1];
}

static void announce_ready(struct runtime *rt)
{
	int fd;

	if (rt->ready_fd < 0)
		return;
	log_flush();
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	log_init(1, 0);
	if (write(rt->ready_fd, "R", 1) != 1)
		log_warn("cannot tell the parent we are ready");
	close(rt->ready_fd);
	rt->ready_fd = -1;
}

static void start_signal(struct runtime *rt, uv_signal_t *h, int signum)
{
	uv_signal_init(&rt->loop, h);
	h->data = rt;
	if (uv_signal_start(h, on_signal, signum) < 0)
		fatalx("cannot handle signal %d", signum);
}

/*
 * What only a working node runs: the pauses, the schedule, the calendar
 * and its blackouts, engagement and the channels' credentials. Each may
 * write to the store, which a standby's does not take.
 */
static void start_working(struct smmd *d)
{
	int r;

	if (pauses_start(d) < 0)
		store_fatal(d, "loading the pauses");
	if (dispatch_load(d) < 0)
		store_fatal(d, "loading the schedule");
	pauses_settle_ended(d);
	calwatch_update(d); /* first: the sync may ask for another */
	reload_calendar_at_start(d);
	reload_blackouts(d);
	if ((d->engage = engage_new()) == NULL || engage_start(d) < 0)
		fatalx("out of memory");
	if ((d->auth = auth_new()) == NULL)
		fatalx("out of memory");
	if ((r = auth_start(d)) < 0)
		fatalx("auth: %s", strerror(-r));
	worker_follow(d);
}

/*
 * The node that worked is gone and this standby's registration took: it
 * starts afresh in place (outage.c), from the view it hands itself, as a
 * working node.
 */
static void take_over(void *arg)
{
	struct runtime *rt = arg;

	if (rt->d.stopping)
		return; /* stopping anyway: another standby takes over */
	log_info("standby: taking over: smmd starts afresh as the working "
	         "node");
	if (rt->d.worker)
		worker_hand_over(&rt->d);
	else
		outage_restart(&rt->d);
}

/* The store is up: durable from here on, or kept warm as a standby's. */
static void start_store(struct runtime *rt)
{
	struct smmd *d = &rt->d;
	int r;

	/* A worker writes what its deliveries change, then waits too. */
	if (d->standby && !d->worker) {
		if ((r = store_standby_start(d->store, d->loop, take_over,
		                             rt)) < 0)
			fatalx("store: cannot keep the view: %s", strerror(-r));
		return;
	}
	/* The delivery queue must be durable before we say we are up. */
	if (store_flush(d->store) < 0)
		store_fatal(d, "recording the start-up");
	/* From here on the loop never waits for the disk. */
	if ((r = store_start(d->store, d->loop, store_failed, rt)) < 0)
		fatalx("store: cannot start the writer: %s", strerror(-r));
	if (d->worker &&
	    (r = store_standby_start(d->store, d->loop, take_over, rt)) < 0)
		fatalx("store: cannot keep the view: %s", strerror(-r));
}

static int run(struct runtime *rt, int verbose)
{
	struct smmd *d = &rt->d;
	char err[512], status[128];
	const char *doing;
	int64_t counts[DS_COUNT];
	int r, fd;

	/*
	 * The kernel may fire a timer up to the slack late (50 us by
	 * default) to batch wake-ups; a post's instant is worth one more.
	 */
	if (prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0) < 0)
		log_warn("cannot tighten timer slack");
#ifdef __GLIBC__
	/*
	 * glibc gives every thread that allocates an arena, up to this
	 * many, and then makes threads share them. The loop and the curl
	 * thread allocate for every request: sharing one arena's lock made
	 * each wait on the other (15% of the loop's time in a burst went to
	 * futex calls, and the burst ran 35% slower). One arena per thread
	 * smmd runs, then: the loop, curl's, the sync and checkpoint
	 * threads, libuv's four pool threads, and room for the threads
	 * libcurl starts to resolve a name (an exited thread's arena goes to
	 * the next). The price: what the pool threads' arenas keep of
	 * parsed calendars and read replies, which each load gives back as
	 * far as it can (reload.c, release_memory): 8% more RSS after four
	 * reloads of a 100,000-post calendar.
	 */
	mallopt(M_ARENA_MAX, 12);
	/*
	 * And it gives back what is freed at the top of the heap past 128
	 * KiB, which the next turn takes again: two brk(2) calls a turn or
	 * so, 7% of a worker's time in tests/bench/workbench.sh. Up to 8
	 * MiB stays, and the heap grows 1 MiB at a time. Fixing these stops
	 * glibc raising its mmap threshold as it goes: blocks up to 1 MiB
	 * (a pull's answer) come from the heap, not a mapping each.
	 */
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	mallopt(M_TOP_PAD, 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
#endif
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("cannot initialise libcurl");
	if ((r = uv_loop_init(&rt->loop)) < 0)
		fatalx("loop: %s", uv_strerror(r));
	d->loop = &rt->loop;
	d->started_ms = wallclock_now_ms();
	if (store_open_url(d->cfg->state_dir, d->cfg->store_url,
	                   STORE_OPEN_STANDBY |
	                           (d->cfg->share_work ? STORE_OPEN_WORKER : 0),
	                   &d->store, err, sizeof(err)) < 0)
		fatalx("store: %s", err);
	d->standby = store_standby(d->store, err, sizeof(err));
	d->worker = store_worker(d->store);
	if ((d->outage = outage_new(rt->argv, rt->detached)) == NULL)
		fatalx("out of memory");
	/* Counted once here; every change after this goes through an event. */
	if ((d->events = events_new()) == NULL ||
	    (d->prom = prom_new(d->cfg)) == NULL)
		fatalx("out of memory");
	/* Counted from the first event on, served or not. */
	events_observe(d->events, prom_event, d->prom);
	store_observe_durable(d->store, prom_store_durable, d->prom);
	if (store_counts_at_open(d->store, counts) < 0)
		store_fatal(d, "counting the deliveries");
	events_seed(d->events, counts);
	if ((d->sched = sched_new()) == NULL ||
	    (d->dispatch = dispatch_new()) == NULL)
		fatalx("out of memory");
	if ((d->http = http_new(d->loop, d->cfg->max_in_flight,
	                        d->cfg->max_host_connections, err,
	                        sizeof(err))) == NULL)
		fatalx("http: %s", err);
	if ((r = wallclock_new(d->loop, dispatch_run_due, d, &d->clock)) < 0)
		fatalx("timer: %s", strerror(-r));
	http_set_after_event(d->http, dispatch_fire_due, d);
	if (!d->standby)
		start_working(d);
	else if (d->worker && worker_start(d, &doing) < 0)
		store_fatal(d, doing);
	/* systemd's socket if it passed one (smmd.socket), else our own. */
	if (service_listen_fd(&fd, err, sizeof(err)) < 0)
		fatalx("control: %s", err);
	if (fd >= 0 &&
	    (r = control_adopt(d, fd, &d->control, err, sizeof(err))) == 0 &&
	    owns_socket() && control_own_path(d->control) < 0)
		fatalx("out of memory");
	else if (fd >= 0)
		;
	else
		r = control_listen(d, d->cfg->socket_path, &d->control, err,
		                   sizeof(err));
	if (r < 0)
		fatalx("control: %s", err);
	if (fd >= 0 &&
	    strcmp(control_name(d->control), d->cfg->socket_path) != 0)
		log_warnx("control: listening on '%s', the socket systemd "
		          "passed, not on the configured '%s'",
		          control_name(d->control), d->cfg->socket_path);
	/* A standby's counts would be its view's at its start: none. */
	if (!d->standby && prom_serve(d, d->cfg, err, sizeof(err)) < 0)
		fatalx("metrics: %s", err);
	start_signal(rt, &rt->sig_term, SIGTERM);
	start_signal(rt, &rt->sig_int, SIGINT);
	start_signal(rt, &rt->sig_hup, SIGHUP);
	uv_timer_init(d->loop, &rt->grace);
	rt->grace.data = rt;
	/* First, so that its prepare runs after end_of_turn's. */
	if ((r = looptime_start(d->loop, &d->looptime)) < 0)
		fatalx("loop: cannot measure turns: %s", uv_strerror(r));
	uv_prepare_init(d->loop, &rt->flush_prepare);
	rt->flush_prepare.data = rt;
	uv_prepare_start(&rt->flush_prepare, on_prepare);
	uv_check_init(d->loop, &rt->flush_check);
	rt->flush_check.data = rt;
	uv_check_start(&rt->flush_check, on_check);
	start_store(rt);
	if (d->worker && store_standby(d->store, err, sizeof(err))) {
		log_info("smmd %s ready as a worker (%s): it fires the "
		         "channels it claims; socket '%s' answers reads from "
		         "the view in '%s'",
		         PACKAGE_VERSION, err, control_name(d->control),
		         d->cfg->state_dir);
		/* Commands on a delivery of a channel it fires (relay.h). */
		relay_serve(d);
	} else if (d->standby && store_standby(d->store, err, sizeof(err)))
		log_info("smmd %s ready as a standby (%s): socket '%s' "
		         "answers reads from the view in '%s'",
		         PACKAGE_VERSION, err, control_name(d->control),
		         d->cfg->state_dir);
	else {
		log_info("smmd %s ready: %zu channels, socket '%s', state "
		         "'%s'%s",
		         PACKAGE_VERSION, d->cfg->nchannels,
		         control_name(d->control), d->cfg->state_dir,
		         d->cfg->store_url ? ", store in PostgreSQL" : "");
		/* What standbys cannot run themselves, this node runs. */
		relay_serve(d);
		/* Under the lease the start registered: tokens newer here. */
		auth_share_after_start(d);
	}
	sign_warm();
	log_flush();
	announce_ready(rt);
	notified(rt,
	         service_notify_ready(status_line(rt, status, sizeof(status))),
	         "READY=1");
	start_keepalive(rt);
	log_set_verbose(verbose);

	uv_run(d->loop, UV_RUN_DEFAULT);

	log_info("shutdown: done");
	log_flush();
	store_close(d->store);
	sched_free(d->sched);
	dispatch_free(d->dispatch);
	engage_free(d->engage);
	auth_free(d->auth);
	events_free(d->events);
	prom_free(d->prom);
	json_decref(d->planb);
	reload_free(d);
	http_free(d->http);
	config_unref(d->cfg);
	curl_global_cleanup();
	if (uv_loop_close(d->loop) != 0) {
		log_error("shutdown: the loop still had handles open");
		return 1;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"foreground", no_argument, NULL, 'f'},
	        {"check-config", no_argument, NULL, 'n'},
	        {"verbose", no_argument, NULL, 'v'},
	        {"version", no_argument, NULL, 'V'},
	        {"new-secret", no_argument, NULL, 'S'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct runtime rt = {.ready_fd = -1};
	struct config_errors errs = {0};
	const char *path = CONFIG_DEFAULT_PATH;
	int ch, foreground = 0, check_only = 0, verbose = 0;

	while ((ch = getopt_long(argc, argv, "c:fnvVh", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("smmd %s\n", PACKAGE_VERSION);
			return 0;
		case 'S':
			return print_new_secret();
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 64;
	}
	/* A peer that hangs up must be an error return, not a death. */
	signal(SIGPIPE, SIG_IGN);
	fatalsig_install();
	log_init(0, verbose);
	rt.d.config_path = path;
	if (config_load(path, &rt.d.cfg, &errs) < 0) {
		print_errors(&errs);
		config_errors_clear(&errs);
		return 1;
	}
	log_set_format(rt.d.cfg->log_json ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
	if (check_only) {
		struct calendar *cal = NULL;

		/* The calendar it names is part of the configuration. */
		if (rt.d.cfg->calendar &&
		    calendar_load(rt.d.cfg->calendar, rt.d.cfg, &cal, &errs) <
		            0) {
			print_errors(&errs);
			config_errors_clear(&errs);
			config_unref(rt.d.cfg);
			return 1;
		}
		printf("%s: valid (%zu channel%s)\n", path, rt.d.cfg->nchannels,
		       rt.d.cfg->nchannels == 1 ? "" : "s");
		if (cal)
			printf("%s: valid (%zu post%s)\n", rt.d.cfg->calendar,
			       cal->nposts, cal->nposts == 1 ? "" : "s");
		if (cal)
			print_plan_warnings(rt.d.cfg, cal);
		calendar_free(cal);
		config_unref(rt.d.cfg);
		return 0;
	}
	rt.argv = argv;
	/* Executed afresh by outage.c: detached already, by its first self. */
	if (getenv("SMMD_DETACHED")) {
		unsetenv("SMMD_DETACHED");
		rt.detached = 1;
		log_init(1, verbose);
	} else if (!foreground) {
		/* Fork before libuv or curl start threads. */
		rt.detached = 1;
		rt.ready_fd = detach();
	}
	return run(&rt, verbose);
}
