/*
 * The hold gate: the active pauses, kept in the store (they survive
 * restarts and reloads) and mirrored here so that the dispatcher asks
 * "may this delivery go?" without a query; approvals (a delivery that
 * awaits one is held, by no pause, until approved); and blackouts, pauses
 * planned ahead (below). A delivery that falls due in a paused scope
 * becomes "held" instead of leaving; resuming decides, per
 * held delivery, to publish it (late by at most its channel's
 * max_lateness), skip it, or leave it held for review. Every pause,
 * resume, release and skip goes to the store's audit trail with who did
 * it.
 */
#ifndef SMMD_PAUSE_H
#define SMMD_PAUSE_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

struct calendar;
struct smmd;

struct pause {
	int64_t id;
	int kind;    /* enum pause_kind */
	char *scope; /* channel or campaign; NULL for all */
	int64_t since_ms;
	int64_t until_ms; /* -1: until resumed */
	long uid;
	char *user;
	char *reason;
	char *scenario;
};

/* Who asks: a peer's uid and user name, or smmd itself (uid -1). */
struct pause_actor {
	long uid;
	const char *user;
};

enum resume_policy {
	RESUME_AUTO,    /* publish if late by at most max_lateness, else skip */
	RESUME_PUBLISH, /* publish every held delivery */
	RESUME_SKIP,    /* skip every held delivery */
	RESUME_REVIEW,  /* leave them held; release or skip one by one */
};

/* Load the active pauses from the store and arm --until. 0 or -errno. */
int pauses_start(struct smmd *);
void pauses_stop(struct smmd *);
/*
 * A worker: the pauses changed on another node (a pull): read them from
 * the store again, and hold what is prepared and now covered. 0 or -EIO.
 */
int pauses_reread(struct smmd *);

/* Whether p's scope takes in a delivery on channel of campaign. */
int pause_covers(const struct pause *p, const char *channel,
                 const char *campaign);
/* The pause that holds this delivery, or NULL if it may go. */
struct pause *pause_gate(struct smmd *, const struct delivery_rec *);
/*
 * Hold rec, waiting in state from, under p: stored, counted, an event.
 * Returns 1 if it is now held, 0 if it had moved on meanwhile.
 */
int pause_hold(struct smmd *, const struct delivery_rec *, int from,
               struct pause *p, int64_t now);
/*
 * Blackouts (blackouts, quiet hours and holidays: smmd.yaml's for every
 * channel and a channel's own, a calendar campaign's) are pauses planned
 * ahead and go through the same gate.
 * A delivery due in one goes at the first allowed time after it
 * (blackout_action: shift; its due time stays, the store keeps when it
 * goes), or is held when due, like a paused one, for someone to release
 * or skip (hold). Plan B statements and notices pass.
 */
struct blackout_place {
	int action;    /* enum blackout_action */
	int64_t at_ms; /* shift: when it goes instead */
	char why[512];
};
/* A delivery as the blackouts judge it. */
struct blackout_ask {
	const char *id; /* pause_blackout_place: the delivery it moves */
	const char *channel;
	const char *campaign; /* NULL: none */
	const char *source;   /* plan B statements and notices pass */
	int state;            /* where it waits: scheduled, or draft */
	int pass_pause;       /* released by hand: passes */
	int64_t at;           /* when it would go */
};
/* Whether a falls in a blackout: 1 with *out, else 0. */
int pause_blackout(struct smmd *, const struct blackout_ask *a,
                   struct blackout_place *out);
/*
 * At the gate: rec, waiting and about to leave at t, is held or shifted
 * if a blackout covers t. 1 if it was (it must not leave now), else 0.
 */
int pause_blackout_gate(struct smmd *, const struct delivery_rec *rec,
                        int64_t t, int64_t now);
/*
 * Ahead of time (add, import, the calendar): a delivery just scheduled
 * (or drafted) is shifted now if a blackout covers it, or left to be held
 * when due. 1 with *out if it is in one (for the reply), else 0.
 */
int pause_blackout_place(struct smmd *, const struct blackout_ask *a,
                         int origin, int64_t now, struct blackout_place *out);
/* Take the campaigns' blackouts of a calendar just read (NULL: none). */
void pause_adopt_campaigns(struct smmd *, struct calendar *cal);
/*
 * After a start or a reload: shift what the blackouts now cover, and put
 * back what was shifted and is covered no more. How many moved, or -errno.
 */
int pause_blackout_sweep(struct smmd *, int64_t now);

/* Why a delivery due while it awaited an approval is held. */
#define PAUSE_AWAITING_APPROVAL "awaiting approval"
/*
 * The hold gate, the one place that decides whether a due delivery may
 * leave at at: not while it awaits an approval (held by no pause, its
 * reason PAUSE_AWAITING_APPROVAL), nor while a pause covers it (held under
 * that pause), nor in a blackout at at (held, or shifted past it; at -1:
 * not asked, for what is too late to go anyway). 1 when it may not go now
 * (held, shifted, or moved on meanwhile), 0 when it may.
 */
int pause_gate_hold(struct smmd *, const struct delivery_rec *, int64_t at,
                    int64_t now);
/* A notice to a channel that is paused itself would only pile up. */
int pause_channel_paused(struct smmd *, const char *channel);

/* Active pauses, in the order they began. */
size_t pauses_count(const struct smmd *);
struct pause *pause_at(const struct smmd *, size_t i);
/* kind and scope's active pause, or NULL. */
struct pause *pause_find(const struct smmd *, int kind, const char *scope);
/* "all", "channel demo", "campaign spring". */
const char *pause_scope_name(const struct pause_rec *, char *buf, size_t len);

/*
 * Pause a scope: stored, audited, an event, and the gate closed at once.
 * -EEXIST if that scope is paused already. *out: the new pause.
 */
int pause_begin(struct smmd *, const struct pause_rec *,
                const struct pause_actor *, struct pause **out);
/*
 * Tell the notify channels of p's scope it began: once every pause of a
 * request has begun, so none is told on a channel paused with it.
 */
void pause_announce(struct smmd *, const struct pause *p);
/*
 * End p and settle what it held by policy; counts (published, skipped,
 * held) into out. p is freed. 0 or -errno.
 */
int pause_resume(struct smmd *, struct pause *p, enum resume_policy,
                 const struct pause_actor *, const char *reason, json_t *out);
/*
 * Beside workers: another node changed delivery id (a pull told of it),
 * now held under pause held_by. A worker holds at its gate by the pauses
 * its view has read, a beat behind the working node's, so it may hold a
 * delivery under a pause after its resume listed what it held: if
 * held_by is over, the delivery is settled as its resume said (kept with
 * the pause), unless that was --review.
 */
void pause_followed(struct smmd *, const char *id, int64_t held_by);
/*
 * At a working node's start, after the schedule is loaded: what is still
 * held under a pause that is over (held by another node as it ended,
 * while this node was down) is settled as pause_followed settles it.
 */
void pauses_settle_ended(struct smmd *);
/*
 * Let a held delivery go, waiting again from now within its channel's
 * usual pace (pass_pause: and past every pause, as `release` does), or
 * skip it. id: a delivery, or every held one of a post. why is the new
 * last_error. How many moved, -ENOENT, or -EALREADY (none was held).
 */
int pause_settle(struct smmd *, const char *id, int publish, const char *why,
                 int pass_pause, int64_t now);
/* A pause as status shows it, with how many it holds (a new object). */
json_t *pause_json(struct smmd *, const struct pause *);
/*
 * The active pauses as the store holds them (a standby's view, which
 * runs no pauses of its own), each as pause_json shows it; null if the
 * store cannot be read.
 */
json_t *pauses_json_stored(struct smmd *);
/* Append to the audit trail; detail is a JSON object (not stolen). */
void pause_audit(struct smmd *, const struct pause_actor *, const char *action,
                 const char *scope, const char *reason, const json_t *detail);

#endif
