/*
 * The daemon's root object: the one thing callbacks reach everything else
 * through. Each module owns its own data; this only ties them together.
 */
#ifndef SMMD_SMMD_H
#define SMMD_SMMD_H

#include <stdint.h>
#include <jansson.h>
#include <uv.h>

struct config;
struct control;
struct dispatch;
struct engage;
struct events;
struct reloads;
struct calwatch;
struct http;
struct looptime;
struct pauses;
struct plan_book;
struct prom;
struct sched;
struct store;
struct wallclock;

struct smmd {
	uv_loop_t *loop;
	const char *config_path;
	struct config *cfg; /* replaced whole on reload */
	struct store *store;
	struct sched *sched;
	struct wallclock *clock;
	struct http *http;
	struct control *control;
	struct dispatch *dispatch;
	struct recover *recover;   /* recover.c: channels taken over */
	struct events *events;     /* events.c: every delivery's changes */
	struct reloads *reloads;   /* reload.c: the one under way */
	struct calwatch *calwatch; /* calwatch.c: the calendar files */
	struct looptime *looptime; /* looptime.c: how long turns take */
	struct pauses *pauses;     /* pause.c: the hold gate of Plan B */
	struct engage *engage;     /* engage.c: engagement read back */
	struct auth *auth;         /* auth.c: channels' credentials */
	struct prom *prom;         /* prom.c: the Prometheus metrics */
	json_t *planb;       /* the calendar's plan B scenarios, or NULL */
	char *calendar_zone; /* the calendar's timezone, or NULL */
	/* planbook.h: the calendar's cadences and posts' places, or NULL */
	struct plan_book *plan_book;
	int64_t calendar_horizon_ms; /* recurrences are stored up to here */
	int64_t started_ms;
	size_t in_flight; /* deliveries handed to http, not finished */
	int stopping;     /* SIGTERM seen: start nothing new */
	/* Another node works on the shared store: this one answers reads
	 * from its view and starts nothing (main.c), until it takes over. */
	int standby;
	/* ... but fires the channels it owns beside the working node (a
	 * worker, share_work): its pauses, schedule and credentials run,
	 * its commands are relayed as a standby's. */
	int worker;
	/* ... about to take over as the working node: nothing new starts
	 * (worker_hand_over). */
	int handing_over;
	int backing_up; /* cmd_backup.c: a copy of the store is under way */
	/* cmd_read.c: reads on the thread pool, and those waiting a turn */
	unsigned reads_running;
	struct cmd_read *reads_waiting, *reads_waiting_tail;
	struct outage *outage; /* outage.c: when the store cannot be written */
	int64_t store_down_ms; /* ... since when; 0: it can */
};

#endif
