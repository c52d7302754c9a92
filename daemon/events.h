/*
 * The delivery event bus. Every change of a delivery's state is one
 * struct delivery_event, emitted once where the change is written, and
 * fanned out to: the log (the same lines as ever, formatted here), the
 * per-state counters that status reads in O(1), a ring of the recent
 * events, and subscribers (control.c's `log` followers). Emitting never
 * waits on anyone: a subscriber gets each event by a plain call and must
 * bound its own queue.
 */
#ifndef SMMD_EVENTS_H
#define SMMD_EVENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "states.h"

/*
 * The kinds of event, by wire name. Add new kinds at the end. Paused and
 * resumed are about a pause's scope, not one delivery (events_scope).
 */
#define EVENT_KINDS(X)                                                        \
	X(QUEUED, "queued")       /* now waiting: new or rescheduled */       \
	X(STARTED, "started")     /* an attempt is recorded, leaving */       \
	X(PUBLISHED, "published") /* the network accepted it */               \
	X(RETRY, "retry")         /* waiting to try again */                  \
	X(FAILED, "failed")       /* gave up */                               \
	X(UNKNOWN, "unknown")     /* may or may not have gone out */          \
	X(MISSED, "missed")       /* found too late to post */                \
	X(CANCELLED, "cancelled") /* withdrawn before it left */              \
	X(HELD, "held")           /* due while its scope was paused */        \
	X(RELEASED, "released")   /* held no more: waiting again */           \
	X(SKIPPED, "skipped")     /* held, then not sent */                   \
	X(PAUSED, "paused")       /* a scope was paused */                    \
	X(RESUMED, "resumed")     /* ... and resumed */                       \
	X(PLANB_ACTIVATED, "planb_activated") /* a plan B scenario */         \
	X(PLANB_ENDED, "planb_ended")                                         \
	X(PLANB_DRILLED, "planb_drilled") /* rehearsed: nothing paused */     \
	X(APPROVED, "approved")           /* a draft may go */                \
	X(UNAPPROVED, "unapproved")       /* an edit withdrew its approval */ \
	X(SHIFTED, "shifted")             /* moved past a blackout */

enum event_kind {
#define EVENT_ENUM(e, name) EV_##e,
	EVENT_KINDS(EVENT_ENUM)
#undef EVENT_ENUM
	        EV_COUNT
};

/* Who made the change; it picks the event's log line. */
enum event_origin {
	EVO_DISPATCH, /* the dispatcher: attempts, failures, catch-up */
	EVO_CONTROL,  /* an smmctl command */
	EVO_CALENDAR, /* a calendar sync */
	EVO_RECOVERY, /* start-up, after a crash */
};

struct delivery_event {
	enum event_kind kind;
	enum event_origin origin;
	const char *id;         /* "POST/CHANNEL" */
	int from;               /* enum delivery_state; -1: a new delivery */
	enum delivery_state to; /* the state it is in now */
	int64_t next_ms;        /* queued, retry: when it is due; else -1 */
	unsigned attempt;       /* started and its results; else 0 */
	long http_status;       /* 0: no HTTP response */
	double latency_ms;      /* < 0: no request was made */
	const char *reason;     /* why; NULL: nothing to say */
	const char *summary;    /* an attempt's result: "retry in 2s" */
	enum log_level level;   /* an attempt's result's log level */
};

/* The recent events kept for `log` without follow. */
#define EVENTS_RING 1000

struct events;
struct events_sub;

struct events *events_new(void);
/* Frees the ring and every subscription. Accepts NULL. */
void events_free(struct events *);
/* Start the per-state counters from a recount of the store. */
void events_seed(struct events *, const int64_t counts[DS_COUNT]);
/* Record ev, log it, count it and hand it to every subscriber. */
void events_emit(struct events *, const struct delivery_event *ev);
/*
 * The common case: a delivery moved from one state to another, with no
 * attempt to report; the kind follows from the new state.
 */
void events_change(struct events *, enum event_origin, const char *id, int from,
                   enum delivery_state to, int64_t next_ms, const char *reason);
/*
 * A scope was paused or resumed, or a plan B scenario activated, drilled
 * or ended: not about one delivery, so not counted.
 */
struct scope_event {
	enum event_kind kind; /* EV_PAUSED, EV_RESUMED, EV_PLANB_* */
	const char *channel;  /* whose followers see it; NULL: everyone's */
	const char *scope;    /* "all", "channel demo"; a scenario's name */
	const char *by;       /* the user who did it */
	long uid;             /* ... and their uid */
	const char *reason;   /* NULL: none given */
	const char *outcome;  /* what it did, for the log; NULL: nothing */
	enum log_level level; /* of its log line */
};
/* Log ev (with fields), keep it in the ring and hand it on. */
void events_scope(struct events *, const struct scope_event *ev);
/* The kind of event that moving to a state is. */
enum event_kind events_kind_of(enum delivery_state to);
/* The per-state counters, kept by events_emit. */
void events_counts(const struct events *, int64_t counts[DS_COUNT]);

/*
 * The recent events (of one channel, or every channel for NULL), oldest
 * first, as a JSON array of event objects (owned by the caller).
 */
json_t *events_recent(const struct events *, const char *channel);

/*
 * Subscribe to every event from now on (of one channel, or all for NULL):
 * fn gets each one as a JSON object's text (len bytes, no newline), only
 * for the call. Returns NULL when out of memory.
 */
struct events_sub *events_subscribe(struct events *, const char *channel,
                                    void (*fn)(void *arg, const char *json,
                                               size_t len),
                                    void *arg);
/* Accepts NULL. */
void events_unsubscribe(struct events *, struct events_sub *);

/*
 * Hand every delivery event, as emitted, to fn (one observer: prom.c's
 * counters), a plain call with no JSON made; NULL fn: none.
 */
void events_observe(struct events *,
                    void (*fn)(void *arg, const struct delivery_event *),
                    void *arg);

/* Followers: how many now, how many were dropped and what they missed. */
struct events_follow_stats {
	uint64_t followers;
	uint64_t dropped;
	uint64_t missed;
};
void events_follower_dropped(struct events *, uint64_t missed);
void events_follow_stats(const struct events *, struct events_follow_stats *);

#endif
