/*
 * The dispatcher: takes what the scheduler says is due, queues it per
 * channel, and starts deliveries round-robin across channels (a few at a
 * time, DISPATCH_QUANTUM) within the global and per-channel limits
 * (max_in_flight, min_interval) — so a burst on one channel never makes
 * another late. Each start records the attempt durably, hands the
 * request(s) to the channel's publisher and http, and turns the response
 * into the delivery's next state.
 */
#ifndef SMMD_DISPATCH_H
#define SMMD_DISPATCH_H

#include <jansson.h>
#include <stdint.h>

struct smmd;
struct dispatch;

/*
 * The channel served takes up to this many from its queue in a row
 * before the next is served (deficit round-robin's quantum, in
 * deliveries; what it takes and holds or drops counts too). A burst
 * queued a channel after another keeps each channel's rows together in
 * the store: one a channel wrote a page per channel in every table and
 * index it touches, at every commit (storebench over 100 channels: 36
 * KiB written and 40 us of CPU a delivery; 8 at a time, 8 KiB and 26
 * us). A channel with nothing waiting still goes first when a post comes
 * due, and the one it went in front of then goes on with the rest of its
 * quantum: a quiet channel waits for no one's burst, and a busy one is
 * never served past its quantum however many cut in.
 */
#define DISPATCH_QUANTUM 8

struct dispatch *dispatch_new(void);
void dispatch_free(struct dispatch *);
/* Recover deliveries a crash left in flight and queue every pending one. */
int dispatch_load(struct smmd *);
/* The configuration was replaced: pick up channels' new settings. */
void dispatch_reload(struct smmd *);
/* Queue a delivery for due_ms and re-arm the timer if it is the earliest. */
int dispatch_schedule(struct smmd *, const char *delivery_id, int64_t due_ms);
void dispatch_unschedule(struct smmd *, const char *delivery_id);
/*
 * Another node changed delivery_id (a pull read it into the view): it is
 * scheduled for when the view says it is due, or forgotten when it waits
 * no more (sent, cancelled). The pause it is held under now, or 0.
 */
int64_t dispatch_follow(struct smmd *, const char *delivery_id);
/*
 * The channels no live node lists that have deliveries waiting here
 * (miss_unlisted), for status: [{"channel", "waiting", "oldest_due"}],
 * empty when none (always, but beside workers).
 */
json_t *dispatch_unlisted_json(struct smmd *);
/*
 * Due now, and ahead of everything waiting on its channel: a plan B
 * statement must not queue behind a burst its own pause is holding.
 * Still within the channel's max_in_flight. 0 or -ENOMEM.
 */
int dispatch_first(struct smmd *, const char *delivery_id);
/* This turn wrote how a request on channel ended (recovered): the
 * channel goes to another node only once that is kept. */
void dispatch_ended_here(struct smmd *, const char *channel);
/* 1 while this node has a request of delivery_id under way. */
int dispatch_has_job(struct smmd *, const char *delivery_id);
/* Start everything due now (the wall-clock timer's callback). */
void dispatch_run_due(void *smmd);
/*
 * Send the prepared deliveries whose instant has come, now, without
 * waiting for the wall-clock timer's turn in the loop (http calls it
 * between socket events).
 */
void dispatch_fire_due(void *smmd);
/*
 * Whether nothing is prepared, queued or due to leave within within_ms of
 * now: background work (reading engagement) starts only then.
 */
int dispatch_quiet(struct smmd *, int64_t now, int64_t within_ms);
/* Re-arm the wall-clock timer to the next moment something can start. */
void dispatch_arm(struct smmd *);
/* A loop turn ended: the pumps' per-turn budget starts again. */
void dispatch_turn_over(struct smmd *);
/*
 * A worker handing over (d->handing_over): it lets go of every channel
 * with nothing in flight on it, at once, for the others to fire.
 */
void dispatch_release_all(struct smmd *);
/* Shutdown: prepared deliveries not yet sent go back to waiting. */
void dispatch_stop(struct smmd *);
/*
 * Cancel deliveries prepared but not sent yet (a delivery id, or all of a
 * post's). Returns the ids withdrawn (a JSON array the caller owns).
 */
json_t *dispatch_withdraw(struct smmd *, const char *id);
/*
 * A pause began: hold every prepared delivery it covers, so none leaves.
 * Those already handed to http finish and are recorded.
 */
void dispatch_hold_prepared(struct smmd *);
/* Requests under way that a pause now covers: a pause's reply waits. */
size_t dispatch_paused_in_flight(struct smmd *);
/*
 * Post a short notice on channel's notify channel about a delivery that
 * went wrong (failed for good, unknown, missed). Notices about notices are
 * not sent, so a broken notify channel can't loop.
 */
/*
 * Queue a post smmd makes itself (a notice, a plan B statement) on its one
 * channel p->channels[0], due now, its id PREFIX-<generated> (p->id and
 * p->due_ms are ignored); first: ahead of its channel's queue. Its
 * delivery id goes to did. 0, or -errno when the store refused it.
 */
struct post_new;
int dispatch_post_now(struct smmd *, const char *prefix,
                      const struct post_new *p, int first, char *did,
                      size_t len);
/*
 * Queue a notice post with text on channel notify, due now; about says
 * in the log what it is about ("delivery 'x/y' failed").
 */
void dispatch_notice(struct smmd *, const char *notify, const char *text,
                     const char *about);
void dispatch_notify(struct smmd *, const char *channel,
                     const char *delivery_id, const char *source,
                     const char *what, const char *reason);

#endif
