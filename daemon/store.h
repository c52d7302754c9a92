/*
 * The durable state: posts, their deliveries and every attempt. This is
 * the front end (store.c), the same whatever the backend behind it
 * (store_backend.h); the default keeps them in SQLite (WAL) under
 * state_dir (store_sqlite.c).
 *
 * Writes made during one loop turn share one transaction; store_submit()
 * commits it at the end of the turn (or, while a sync runs, with the next
 * turns' when it ends: see submit() in store.c) and returns at once: the
 * commit is made durable off the loop (store_wal.c), and only then do the
 * callbacks queued with store_after_commit() during that turn run, on the
 * loop, in order. That is how "durable before visible" holds without the loop
 * ever waiting on the disk: a reply to smmctl, or a request to a webhook, is an
 * after-commit callback. A turn that only records results needs no sync
 * (see begin() in store_sqlite.c for why that is safe). Reads see the loop's
 * own writes at once.
 */
#ifndef SMMD_STORE_H
#define SMMD_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "states.h"

struct store;

/* A new post and the channels it goes to. Borrowed strings. */
struct post_new {
	const char *id;
	const char *source; /* "adhoc" */
	const char *text;
	const char *link;
	const char *campaign;
	const json_t *media; /* array of strings */
	int64_t due_ms;
	const char *const *channels;
	size_t nchannels;
	/*
	 * Per channel, 1 where that delivery waits as a draft until approved
	 * (its channel requires approval); NULL: none does.
	 */
	const unsigned char *drafts;
};

/* One delivery with its post, loaded to publish it. Owns its strings. */
struct delivery_rec {
	char *id;
	char *post_id;
	char *channel;
	char *webhook_id;
	char *text;
	char *link;
	char *campaign;
	char *source; /* "adhoc", "notice", ... */
	json_t *media;
	enum delivery_state state;
	int64_t due_ms;
	int64_t next_ms; /* due (again) then: a retry's time, or due_ms */
	int64_t held_by; /* held: the pause that holds it; 0: none known */
	unsigned attempts;
	int pass_pause; /* released by hand: no pause holds it */
	/* Its channel required approval when it was stored, and it has none:
	 * the gate holds it, whatever its state says. */
	int awaiting_approval;
	/*
	 * Where the store keeps it (SQLite: its rowid), for mark_publishing
	 * and record_result to find it again without a search; a hint, as a
	 * row can move. 0: none.
	 */
	int64_t row;
};

struct attempt_result {
	unsigned n;
	int64_t started_ms;
	int64_t finished_ms;
	long http_status;  /* 0: none */
	const char *error; /* NULL when the request got a response */
	double latency_ms;
	int64_t row; /* the delivery's delivery_rec.row, or 0 */
};

/*
 * The fencing token of a request on channel: on a shared store its
 * claim's (drawn as this node took the channel, so higher for every node
 * that fires it after another), which goes out with each request so a
 * receiver can refuse a stale sender; 0 when the store has none (SQLite:
 * one sender by construction).
 */
int64_t store_fence(struct store *, const char *channel);
/*
 * For smmctl status: this node on a shared store (its id, lease epoch,
 * whether the lease is trusted, the database clock's offset from ours);
 * NULL when the store is not shared.
 */
json_t *store_cluster_json(struct store *);
/*
 * Whether a post may leave on this node's clock now: 0 when a shared
 * store finds it wrong (outvoted by the cluster's, or stepped since it
 * was last compared); always 1 on SQLite.
 */
int store_clock_trusted(struct store *);

/*
 * The channels this node sends on (doc/cluster.md, claims). On a shared
 * store each channel is fired by one node at a time, the one that owns
 * it in the database: store_owns says whether this node may start a
 * delivery on it now, and changed(arg) runs (on the loop, never from
 * inside a store call) when that may have changed. may_release(arg,
 * channel) says whether a channel may go to another node now: nothing
 * in flight on it and nothing due soon. Called again with a reload's
 * channels: those gone are let go once may_release says so. On a store
 * of one node every channel is its own. 0, or -ENOMEM (nothing changed).
 */
struct store_claims {
	const char *const *channels; /* NULL-terminated */
	int (*may_release)(void *arg, const char *channel);
	void (*changed)(void *arg);
	void *arg;
};
int store_claim(struct store *, const struct store_claims *);
/* may_release's "soon": nothing due on the channel within this (ms). */
#define STORE_CLAIM_QUIET_MS 10000
/* 1 while this node may start a delivery on channel (store_claim). */
int store_owns(struct store *, const char *channel);
/*
 * 1 once a claim round has answered since the store was opened (for
 * good, a lease lost since included): until then owning nothing is no
 * loss, only no answer yet. Always 1 on a store of one node.
 */
int store_claims_known(struct store *);

/* The default backend (SQLite) in directory dir. */
int store_open(const char *dir, struct store **out, char *err, size_t errlen);
/*
 * A shared store another node works on opens at once as a standby
 * (store_standby) instead of waiting in open for its turn.
 */
#define STORE_OPEN_STANDBY 0x1
/*
 * ... and a standby fires a share of the channels beside the working
 * node (a worker: store_worker) rather than only wait for its turn.
 */
#define STORE_OPEN_WORKER 0x2
/*
 * The backend url names (postgresql://... or postgres://...; NULL: the
 * default), with dir as its state directory; flags: STORE_OPEN_*.
 */
int store_open_url(const char *dir, const char *url, unsigned flags,
                   struct store **out, char *err, size_t errlen);
/* Backend name (NULL: the default), for the tests of every backend. */
int store_open_backend(const char *name, const char *dir, const char *url,
                       unsigned flags, struct store **out, char *err,
                       size_t errlen);
void store_close(struct store *);
/*
 * Opened as a standby (STORE_OPEN_STANDBY): another node works on the
 * shared store, or this node's clock is wrong; why, in a clause, into
 * works. 1, or 0 when this node works. A standby's
 * store answers reads from its view, kept close behind the working node;
 * it takes no writes.
 */
int store_standby(struct store *, char *works, size_t len);
/*
 * Keep a standby's view current from loop; once this node may work,
 * turn(arg) runs on the loop, after which the caller closes the store
 * (handing its view on, kept) and opens it again to work on it.
 */
int store_standby_start(struct store *, uv_loop_t *, void (*turn)(void *arg),
                        void *arg);

/*
 * A standby opened with STORE_OPEN_WORKER: it fires the channels it owns
 * (store_claim) beside the working node, which runs everything else. It
 * writes only what its deliveries change, once store_start has started
 * its writer, and is told what other nodes write (store_watch). 1 or 0.
 */
int store_worker(struct store *);
/*
 * What other nodes changed, as this node's view reads it in (a worker,
 * and the working node while workers write beside it): table
 * "deliveries" with each delivery's id, "pauses" (key NULL) once for
 * any change of them, and "tokens" with a channel whose tokens another
 * node kept (store_token_put), or "*" when any may have changed (its
 * word was lost with a connection). Called on the loop, never from inside a
 * store call. Nothing on a store of one node.
 */
typedef void store_changed_fn(void *arg, const char *table, const char *key);
void store_watch(struct store *, store_changed_fn *, void *arg);
/*
 * Other nodes may fire channels beside this one (it is a worker, or works
 * beside workers): a channel missing from this node's configuration may
 * be in theirs, so its deliveries are theirs to send, not this node's to
 * fail. 1 or 0.
 */
int store_shared(struct store *);
/*
 * Whether a live node lists channel in its configuration (claims), as
 * the working node beside workers last read the nodes (every few
 * seconds): 1 one does, 0 none does, -1 this node cannot say (it is no
 * such working node, or its last read is old, or a live node of an
 * older version lists nothing). A delivery on a channel no live node
 * lists would wait for good otherwise (dispatch.c, the catch-up rule).
 */
int store_listed(struct store *, const char *channel);
/*
 * Whether another node may be firing channel now, beside this one: it
 * does not own it under its claims, or, before its first claims are
 * known, another live node owned it at the start (store_owned_elsewhere).
 * Always 0 but beside workers.
 */
int store_fired_elsewhere(struct store *, const char *channel);

/* Who asked for a relayed command, as the standby's socket saw them. */
struct store_peer {
	long uid, gid;
	int readonly;
	int routed; /* sent to the node that fires a channel (store_relay) */
};
/*
 * A relayed command's reply line, or NULL and why: not done, or, when
 * maybe is 1, not known to be done or not.
 */
typedef void store_relay_fn(void *arg, const char *reply, const char *why,
                            int maybe);
/*
 * A standby: have the node that works run request line (relay.c); with
 * channel, any node of a shared store: have the node that fires channel
 * run it (the working node if no live node does), where it is routed
 * and runs whatever that node owns by then. fn is called once, on the
 * loop, never from inside this call. 0, -ENOTSUP (no shared store),
 * -ENOTCONN (PostgreSQL is not reachable now: not done) or -ENOMEM.
 */
int store_relay(struct store *, const struct store_peer *, const char *line,
                const char *channel, store_relay_fn *fn, void *arg);
/*
 * A channel's tokens, sealed (tokenseal.h), kept where every node of a
 * cluster finds them: the node that works puts them under its lease
 * before it uses them, and a node that starts working reads them all.
 * Optional: -ENOTSUP where the store is one node's (SQLite).
 */
typedef void store_token_done_fn(void *arg, int err, const char *why);
typedef void store_token_fn(void *arg, const char *channel, const char *sealed,
                            int64_t saved_ms, const char *key_id);
/*
 * done(arg, 0, NULL) once kept, or an error and why in words: -ESTALE,
 * this node holds no lease with a margin left; -EKEYREJECTED, the row is
 * sealed under another key (key_id names the key, tokenseal.h) and
 * replace (a person's authorization) was not given; -EIO. Never from
 * inside the call. 0, or an error and done is not called.
 */
int store_token_put(struct store *, const char *channel, const char *sealed,
                    int64_t saved_ms, const char *key_id, int replace,
                    store_token_done_fn *done, void *arg);
/* Every channel's, to fn, before this returns (it waits, 5 s at most).
 * 0, or -errno with why in words. */
int store_tokens_read(struct store *, store_token_fn *fn, void *arg, char *why,
                      size_t len);
/*
 * One channel's, read on the loop: row(arg, ...) if there is one, then
 * done(arg, 0 or -errno, why). Never from inside the call. 0, or an
 * error (-ENOTSUP on SQLite) and nothing is called.
 */
int store_token_get(struct store *, const char *channel, store_token_fn *row,
                    store_token_done_fn *done, void *arg);
/* 0 while this node may not act for the cluster (its lease is not
 * trusted now); always 1 on a store of one node. */
int store_may_act(struct store *);
/*
 * Wait until what other nodes had committed by now is in the view: fn
 * (arg, 0) once a batch of changes asked for after this call has said
 * how far that is and the view has applied that far. A view that
 * cannot be read now (PostgreSQL not reachable, or the pull failed)
 * keeps fn waiting, unless flags has STORE_PULL_OR_NOW: fn(arg,
 * -ENOTCONN or -EIO) then, for the view as it is. fn(arg, -ECANCELED)
 * when the store closes first. Never from
 * inside this call. 0; -ENOTSUP where no other node writes (SQLite: the
 * view is the store), -ENOMEM, and fn is not called.
 */
typedef void store_pulled_fn(void *arg, int err);
#define STORE_PULL_OR_NOW 1
int store_after_pull(struct store *, store_pulled_fn *fn, void *arg, int flags);
/* A request line a standby relayed, for the node that works to run. */
typedef void store_request_fn(void *arg, int64_t id, const struct store_peer *,
                              const char *line);
/* The node that works: fn runs what standbys relay, and what is routed
 * to a channel it fires; a worker: what is routed to one it fires. 0 or
 * -ENOTSUP. */
int store_relays_serve(struct store *, store_request_fn *fn, void *arg);
/* The reply to relayed request id, once what it did is stored. */
void store_relay_answer(struct store *, int64_t id, const char *reply);

/*
 * Queue cb to run once everything written so far is durable: cb(arg, 0).
 * When the turn could not be committed, or a sync failed, cb(arg, -EIO)
 * instead: the writes are not (or may not be) there, and cb must not act
 * as if they were.
 */
int store_after_commit(struct store *, void (*cb)(void *, int err), void *arg);
/*
 * The batch what is written now is committed in, and whether a batch is
 * durable: a note to look at later without queueing a callback (a
 * channel let go only once its last result is kept, dispatch.c).
 */
uint64_t store_turn_batch(const struct store *);
int store_batch_kept(const struct store *, uint64_t batch);
/*
 * End of a loop turn: commit the turn's transaction and hand it to the
 * writer; callbacks run once it is durable (at once if nothing needs a
 * sync). Returns 0, or -1 if the commit failed: the turn's writes are
 * rolled back and its callbacks have run with -EIO (see store_failure).
 */
int store_submit(struct store *);
/*
 * Commit, wait until durable and run every callback, here and now: before
 * the loop runs (start-up, a first calendar load) and at shutdown. 0 or -1.
 */
int store_flush(struct store *);
/*
 * From now on make commits durable off the loop. fail(arg, -errno) runs
 * on the loop when a sync or a commit failed: nothing later is durable.
 */
int store_start(struct store *, uv_loop_t *, void (*fail)(void *arg, int err),
                void *arg);
/* Whether a post called id is stored: 1, 0, or -EIO. */
int store_post_exists(struct store *, const char *id);
/*
 * Whether a delivery on channel is due at exactly due_ms and goes, or
 * went, out (not cancelled, skipped, missed or failed): 1 with its id in
 * by (when not NULL), 0, or -EIO.
 */
int store_slot_taken(struct store *, const char *channel, int64_t due_ms,
                     char *by, size_t bylen);
/* A scheduled delivery as a blackout sweep judges it. Borrowed. */
struct scheduled_row {
	const char *id;
	int state; /* DS_SCHEDULED or DS_DRAFT */
	const char *channel;
	const char *campaign; /* its post's; NULL: none */
	const char *source;
	int64_t due_ms;
	int64_t next_ms; /* moved from due_ms (shifted, released); -1: not */
	int pass_pause;
	const char *last_error; /* why it was moved, if it was */
};
/*
 * Each scheduled or draft delivery (only_moved: each that goes at another
 * time than it is due), in no particular order. fn must not write to the store.
 */
int store_scheduled_rows(struct store *, int only_moved,
                         void (*fn)(void *arg, const struct scheduled_row *),
                         void *arg);
/* Why the store's last operation failed, and what that means. */
enum store_failure {
	STORE_UNWRITABLE, /* disk full, read-only, I/O: may pass by itself */
	STORE_DAMAGED,    /* the database is corrupt: it will not */
};
/*
 * Roll the turn's writes back at store_submit instead of committing them
 * (which then fails, the callbacks with -EIO): a write failed, and the
 * rest of the turn must not stand without it.
 */
void store_give_up_turn(struct store *);
/* The last failure: its kind, and why in words (the backend's). */
enum store_failure store_failure(struct store *, char *why, size_t len);
/* Wait for the last batch and stop the writer: 0, or -1 (not durable). */
int store_stop(struct store *);

struct store_stats {
	uint64_t committed;   /* batches committed */
	uint64_t durable;     /* the last batch known durable */
	uint64_t syncs;       /* fdatasync calls off the loop */
	uint64_t checkpoints; /* WAL checkpoints off the loop */
};
void store_stats(struct store *, struct store_stats *);
/*
 * Once the writer runs (store_start), fn(arg, ns) for each committed
 * batch as it becomes durable: the nanoseconds from its commit at
 * store_submit to then. One observer (prom.c); NULL fn: none.
 */
void store_observe_durable(struct store *, void (*fn)(void *arg, uint64_t ns),
                           void *arg);

/* 0, -EEXIST when the post id is taken, -EIO on a store error. */
int store_add_post(struct store *, const struct post_new *, int64_t now_ms);
/* 0, -ENOENT, or -EIO. rec is cleared with store_delivery_clear. */
int store_delivery_load(struct store *, const char *id,
                        struct delivery_rec *rec);
void store_delivery_clear(struct delivery_rec *);
/* Intent before effect: attempt n starts now. row: delivery_rec.row, or 0. */
int store_mark_publishing(struct store *, const char *id, int64_t row,
                          unsigned n, int64_t started_ms);
/*
 * Close attempt r->n and move the delivery to state (next_ms is the next
 * attempt's time for DS_RETRY_WAIT, else ignored).
 */
int store_record_result(struct store *, const char *id,
                        const struct attempt_result *r,
                        enum delivery_state state, int64_t next_ms,
                        const char *last_error, const char *remote_id,
                        const char *remote_url);

/* A set of states, for store_transition's from. */
#define DS_BIT(s) (1u << (s))
/* Waiting for its time: a draft waits too (the gate holds it then). */
#define DS_WAITING \
	(DS_BIT(DS_SCHEDULED) | DS_BIT(DS_RETRY_WAIT) | DS_BIT(DS_DRAFT))

/*
 * Move a delivery ("POST/CHANNEL"), or every delivery of a post, that is
 * in one of the states in from to state to: cancel, retry and resolve by
 * hand, missed, removed from the calendar; later hold, skip and resume.
 */
struct transition {
	const char *id;
	unsigned from; /* DS_BIT()s */
	enum delivery_state to;
	const char *reason;     /* the new last_error; NULL clears it */
	int keep_reason;        /* ... or leave last_error as it is */
	int64_t next_ms;        /* due again then (to DS_RETRY_WAIT), else -1 */
	const char *remote_url; /* where it was published, if known */
	int64_t now_ms;
	int64_t held_by; /* to DS_HELD: the pause holding it */
	int pass_pause;  /* from now on no pause holds it (released) */
};
/* What moved; when nothing did, what the first delivery is. */
struct moved {
	char **ids;
	size_t n;
	enum delivery_state current;
};
/*
 * Returns how many moved (their ids in *m when m is given; clear it with
 * store_moved_clear), -ENOENT (no such delivery or post), -EALREADY
 * (none was in from; m->current says where the first is), or -EIO.
 */
int store_transition(struct store *, const struct transition *,
                     struct moved *m);
void store_moved_clear(struct moved *);

/*
 * Plan B (store_sqlite_planb.c): the pauses that hold deliveries, and an
 * audit trail of who paused, resumed, released and skipped what, kept for
 * good (never rewritten on resume).
 */
/*
 * PAUSE_AUTH holds one channel whose credentials the network refused or
 * which expire soon (auth.c): only `smmctl auth` ends it.
 */
enum pause_kind { PAUSE_ALL, PAUSE_CHANNEL, PAUSE_CAMPAIGN, PAUSE_AUTH };
struct pause_rec {
	int64_t id;
	int kind;          /* enum pause_kind */
	const char *scope; /* the channel or campaign; NULL for all */
	int64_t since_ms;
	int64_t until_ms; /* -1: until resumed */
	long uid;         /* -1: smmd itself */
	const char *user;
	const char *reason;
	const char *scenario; /* the plan B scenario behind it, or NULL */
};
/* Pause a scope: its id in *id. -EEXIST if that scope is paused already. */
int store_pause_add(struct store *, const struct pause_rec *, int64_t *id);
/*
 * Pause id is over, resumed_as its resume's policy ("auto", "publish",
 * "skip", "review"). 0, -ENOENT if it is not active, or -EIO.
 */
int store_pause_end(struct store *, int64_t id, int64_t now_ms,
                    const char *resumed_as);
/*
 * Whether pause id is over: 1 (its resume's policy into as, "" if not
 * kept), 0 if it is on, -ENOENT if there is no such pause, or -EIO.
 */
int store_pause_resumed(struct store *, int64_t id, char *as, size_t len);
/* Each active pause, oldest first. Strings borrowed for the call. */
int store_pauses(struct store *,
                 void (*fn)(void *arg, const struct pause_rec *), void *arg);
struct held_row {
	const char *id;
	const char *channel;
	const char *campaign; /* NULL: none */
	const char *source;
	int64_t due_ms;
	int64_t held_by; /* 0: none known */
	int64_t updated_ms;
	const char *reason;
};
/*
 * Held deliveries, pause_id's (0: all; STORE_HELD_ENDED: those held
 * under a pause that is over), by due time, then id.
 */
#define STORE_HELD_ENDED (-1)
int store_held_rows(struct store *, int64_t pause_id,
                    void (*fn)(void *arg, const struct held_row *), void *arg);
/* How many deliveries pause_id holds, or -EIO. */
int64_t store_held_count(struct store *, int64_t pause_id);
struct audit_rec {
	int64_t time_ms;
	long uid; /* -1: smmd itself (an --until ran out) */
	const char *user;
	const char *action; /* "pause", "resume", "release", "skip", ... */
	const char *scope;  /* "all", "channel demo", "campaign spring", ... */
	const char *reason;
	const char *detail; /* a JSON object: counts, ids, policy */
};
int store_audit_add(struct store *, const struct audit_rec *);
/* The trail from since_ms on, oldest first. Strings borrowed. */
int store_audit_rows(struct store *, int64_t since_ms,
                     void (*fn)(void *arg, const struct audit_rec *),
                     void *arg);

/* Each scheduled or retry-waiting delivery with the time it is due. */
int store_for_each_pending(struct store *,
                           void (*fn)(void *arg, const char *id,
                                      int64_t due_ms),
                           void *arg);
/*
 * Deliveries left "publishing" by a crash: close their open attempt as
 * interrupted. decide(arg, id, channel) says what becomes of each: 1,
 * the endpoint drops repeats: due again at now; 0: "unknown" (its id is
 * appended to unknown when given); -1: left as it is (a live node of a
 * cluster may be sending it). Returns how many moved, or -EIO.
 */
int store_recover_interrupted(struct store *, int64_t now_ms,
                              int (*decide)(void *arg, const char *id,
                                            const char *channel),
                              void *arg, json_t *unknown);
/*
 * The channels other live nodes own now (claims), as a JSON object of
 * name: true (empty on a store of one node); NULL when the store cannot
 * say. Before store_start: it waits for PostgreSQL's answer.
 */
json_t *store_owned_elsewhere(struct store *);
/*
 * Rows for the control socket (view.c makes them JSON). Strings are
 * borrowed for the callback's duration; NULL where the store has none.
 */
struct delivery_row {
	const char *id;
	const char *post_id;
	const char *channel;
	int state; /* enum delivery_state, -1 if unknown */
	int64_t due_ms;
	unsigned attempts;
	int64_t updated_ms;
	int64_t next_ms;  /* -1: none */
	long last_status; /* -1: none */
	const char *last_error;
	const char *text;     /* its own, else its post's */
	const char *link;     /* its own, else its post's */
	const char *media;    /* JSON list: its own, else its post's */
	const char *campaign; /* its post's */
	const char *webhook_id;
	const char *remote_id;
	const char *remote_url;
	int needs_approval;   /* its channel required approval */
	int64_t approved_ms;  /* -1: not approved */
	long approved_by_uid; /* -1: none */
	const char *approved_by_user;
};
struct attempt_row {
	unsigned n;
	int64_t started_ms;
	int64_t finished_ms; /* -1: not finished */
	long http_status;    /* -1: none */
	const char *error;
	double latency_ms; /* < 0: none */
};
struct post_row {
	const char *id;
	const char *source;
	const char *text;
	const char *link;
	const char *campaign;
	const char *media; /* a JSON array of strings */
	int64_t created_ms;
};
/* Deliveries by due time, then id; state -1: every state. 0 or -EIO. */
int store_list_rows(struct store *, int state, unsigned limit,
                    void (*fn)(void *arg, const struct delivery_row *),
                    void *arg);
/* A post and its deliveries (by channel), each followed by its attempts. */
struct show_rows {
	void (*post)(void *arg, const struct post_row *);
	void (*delivery)(void *arg, const struct delivery_row *);
	void (*attempt)(void *arg, const struct attempt_row *);
	void *arg;
};
/* id: a post, or "POST/CHANNEL" for one delivery. 0, -ENOENT or -EIO. */
int store_show_rows(struct store *, const char *id, const struct show_rows *);
/*
 * Deliveries that wait for an approval and may still go (draft, or held
 * awaiting it), by due time then id. 0 or -EIO.
 */
int store_awaiting_rows(struct store *, unsigned limit,
                        void (*fn)(void *arg, const struct delivery_row *),
                        void *arg);

/* Who approves, and when. Borrowed. */
struct approval {
	long uid;
	const char *user;
	int64_t now_ms;
};
/* One delivery of what approve named, as it was before. Borrowed. */
struct approval_row {
	const char *id;
	const char *channel;
	int state; /* enum delivery_state, -1 if unknown */
	int64_t due_ms;
	int needs_approval;
	int64_t approved_ms; /* -1: not approved before this call */
	const char *approved_by_user;
	int approved; /* approved by this call */
};
/*
 * Approve id (a delivery, or every delivery of a post) where it awaits an
 * approval and may still go (draft or held): record who and when. A draft
 * becomes scheduled; a held one stays held for the caller to let go. fn
 * sees each delivery id names, approved now or not. How many were
 * approved, -ENOENT (no such post or delivery), or -EIO.
 */
int store_approve(struct store *, const char *id, const struct approval *,
                  void (*fn)(void *arg, const struct approval_row *),
                  void *arg);

/* Deliveries per state, counted: a scan of the whole store. */
int store_counts(struct store *, int64_t counts[DS_COUNT]);
/*
 * The same without a scan, when the store keeps them as its rows change
 * whoever changes them: 1, filled. A view other nodes write to does (they
 * move its deliveries without an event on this node); one node's store
 * does not (0: its events count them, events_counts).
 */
int store_kept_counts(struct store *, int64_t counts[DS_COUNT]);
/*
 * The same at start-up without the scan when it can: the counts the last
 * clean stop kept (store_keep_counts), taken so that a crash before the
 * next clean stop makes the next open count again; else counted (or kept,
 * store_kept_counts). The way a file system trusts its free-block count
 * after a clean unmount only.
 */
int store_counts_at_open(struct store *, int64_t counts[DS_COUNT]);
/*
 * At a clean stop, after store_stop succeeded and before store_close:
 * keep the counts, which must be exact, for the next open.
 */
int store_keep_counts(struct store *, const int64_t counts[DS_COUNT]);

/* The calendar's side of the store (see calsync.c). */

/* Why a calendar delivery was cancelled: it may come back. */
#define CAL_REMOVED "removed from the calendar"

/* A calendar delivery as stored, for a reload's diff. Borrowed strings. */
struct cal_row {
	const char *id;
	int state; /* enum delivery_state, -1 if unknown */
	int64_t due_ms;
	uint64_t hash;
	int removed;        /* cancelled because the calendar dropped it */
	int needs_approval; /* its channel required approval when stored */
	int approved;       /* ... and it was approved */
};
int store_calendar_rows(struct store *,
                        void (*fn)(void *arg, const struct cal_row *),
                        void *arg);
/* One of them as it is now: 1 after fn ran, 0 if id is none of them. */
int store_calendar_row(struct store *, const char *id,
                       void (*fn)(void *arg, const struct cal_row *),
                       void *arg);

/* What the calendar asks for one delivery. Borrowed. */
struct cal_put {
	const char *id;
	const char *post_id;
	const char *channel;
	const char *base_text; /* the post's own */
	const char *base_link;
	const json_t *base_media;
	const char *campaign;
	const char *text; /* what this channel gets (variant applied) */
	const char *link;
	const json_t *media;
	int64_t due_ms;
	uint64_t hash;
	enum delivery_state state; /* DS_SCHEDULED, DS_DRAFT or DS_MISSED */
	const char *reason;        /* last_error, for DS_MISSED */
	int needs_approval;        /* its channel requires approval */
	int withdraw;              /* forget its approval (an edit) */
	/*
	 * The row as the diff saw it, in a snapshot that may be older than
	 * the loop's store: an update applies only while the row is still
	 * in expect_state and approved as expect_approved says.
	 */
	int expect;
	enum delivery_state expect_state;
	int expect_approved;
};
/* Create or refresh a calendar post's own row (once per post per sync). */
int store_calendar_post(struct store *, const struct cal_put *, int64_t now_ms);
/*
 * add: a new delivery (its post row written first). Otherwise refresh
 * what it says and whether it needs approval (p->withdraw: its approval
 * is forgotten); reschedule also sets its state to p->state (a changed
 * time, a delivery the calendar had dropped and brings back, a draft
 * again or no more). text, link and media are NULL where the delivery
 * says what its post says. -ESTALE, with nothing written, when the row
 * is not as p->expect says, or an added one is there already: the caller
 * reads it again (store_calendar_row) and decides anew.
 */
int store_calendar_put(struct store *, const struct cal_put *, int add,
                       int reschedule, int64_t now_ms);
/*
 * Around a sync that may add many deliveries to a store that has few: a
 * hint the backend may use to load faster (SQLite drops its due-time
 * indexes and builds them again at the end, in the same transaction). No
 * store_submit in between, and after a failure the caller must give the
 * turn's writes up (smmd stops).
 */
int store_bulk_begin(struct store *);
int store_bulk_end(struct store *);

/* The agenda: deliveries due in [from_ms, to_ms), by due time. */
struct agenda_query {
	int64_t from_ms;
	int64_t to_ms;
	const char *channel; /* NULL: every channel */
	unsigned limit;      /* at most this many deliveries */
	int full;            /* add each one's full_text and link */
	int cancelled;       /* include cancelled deliveries */
};
/*
 * The deliveries due in the query's range, by due time then id, at most
 * limit of them; *truncated: more matched. 0 or -EIO.
 */
int store_agenda_rows(struct store *, const struct agenda_query *,
                      void (*fn)(void *arg, const struct delivery_row *),
                      void *arg, int *truncated);

/* A delivery as the plan check counts it. Borrowed strings. */
struct plan_row {
	const char *post_id;
	const char *channel;
	const char *campaign; /* its post's; NULL: none */
	int calendar;         /* the post comes from the calendar */
	int64_t due_ms;
};
/*
 * The deliveries due in [from_ms, to_ms) that go, or went, out (every
 * state but cancelled, skipped, missed and failed) of posts someone
 * planned (not smmd's notices, nor plan B's statements), by due time:
 * read through the due-time index. 0 or -EIO.
 */
int store_plan_rows(struct store *, int64_t from_ms, int64_t to_ms,
                    void (*fn)(void *arg, const struct plan_row *), void *arg);

/* A delivery as a report counts it. Borrowed strings. */
struct due_row {
	const char *id;
	const char *channel;
	int state; /* enum delivery_state, -1 if unknown */
	int64_t due_ms;
	const char *last_error;
};
/*
 * The deliveries due in [from_ms, to_ms), in every state, by due time then
 * id, without their posts (no text): read through the due-time index.
 * 0 or -EIO.
 */
int store_due_rows(struct store *, int64_t from_ms, int64_t to_ms,
                   void (*fn)(void *arg, const struct due_row *), void *arg);

/*
 * Delivery statistics (stats.h) over the deliveries due in
 * [q->since_ms, q->until_ms), overall and per q->by group: read through
 * an index that covers every column they need (SQLite: migration 11), no
 * row visited. r is initialised here, finished (stats_finish) on success,
 * and the caller's to stats_clear whatever this returns. 0, -EINVAL (an
 * empty or reversed range), -ENOMEM or -EIO.
 */
struct stats_query;
struct stats_result;
int store_stats_query(struct store *, const struct stats_query *q,
                      struct stats_result *r);

/*
 * A consistent copy of the store as it was at the last commit, into the
 * new file dest, checked (SQLite: the online backup API). Blocks: call it
 * from a worker thread; safe beside the loop, which goes on writing.
 * 0; -ENOTSUP when the backend has no backup; -EIO with err set.
 */
int store_backup(struct store *, const char *dest, char *err, size_t errlen);

/*
 * Reads off the loop. A command that reads much (report, stats, list...)
 * runs its reads on a worker thread, through a reader: a store of its
 * own on the same data, read-only, which the read operations of this
 * file take in place of the loop's store. Readers are pooled: at most
 * one per worker that reads at once, opened on first use and kept until
 * store_close.
 *
 * A reader sees one snapshot, taken at store_read_begin, of what the loop
 * has committed: not the writes of the loop's open turn, and perhaps
 * some not yet durable (a commit shows to other connections before its
 * sync). Neither matters to a reply that only reads: what a client was
 * told is done was durable, hence committed, before it was told, so a
 * client never reads less than it was told; and what the reader shows
 * past that is what the store holds, which a crash could take back only
 * as it takes back any unacknowledged change.
 *
 * store_read_begin, from a worker thread: a reader, in its snapshot, in
 * *reader. 0; -ECANCELED once store_read_stop was called; -ENOTSUP when
 * the backend has no readers; -EIO (the reason logged by the caller).
 * store_read_end, from the same thread: the snapshot ends, the reader
 * goes back to the pool. store_read_stop, on the loop at shutdown: no
 * new reads, and those running are interrupted (they fail with -EIO).
 */
int store_read_begin(struct store *, struct store **reader, char *err,
                     size_t errlen);
void store_read_end(struct store *, struct store *reader);
void store_read_stop(struct store *);
/* Whether the backend reads off the loop (store_read_begin works). */
int store_reads_off_loop(const struct store *);

/*
 * Engagement read back from the networks (store_sqlite_engage.c): when
 * each published delivery's next sample is due, every sample kept as
 * history, each channel's audience once a day, and the channels whose
 * token was refused (polling stopped until the config is reloaded).
 */

/* A published delivery whose next sample is due. Borrowed strings. */
struct engage_row {
	const char *id;
	const char *post_id;
	const char *webhook_id;
	const char *remote_id; /* NULL: the network gave none */
	int64_t age_ms;        /* the age this sample is for */
	int64_t due_ms;        /* published + age_ms */
};
/* One sample; a figure the network does not give is -1 (stored NULL). */
struct engage_sample {
	const char *id;
	int64_t age_ms;
	int64_t taken_ms;
	int64_t likes, shares, comments, quotes, views;
};
/* Delivery id's next sample: at age_ms, due_ms; age_ms < 0: no more. */
int store_engage_plan(struct store *, const char *id, int64_t age_ms,
                      int64_t due_ms);
/* channel's deliveries with a sample due by now_ms, earliest first. */
int store_engage_due(struct store *, const char *channel, int64_t now_ms,
                     unsigned limit,
                     void (*fn)(void *arg, const struct engage_row *),
                     void *arg);
/* When channel's next sample is due, in *due_ms (-1: none). 0 or -EIO. */
int store_engage_next(struct store *, const char *channel, int64_t *due_ms);
int store_engage_sample(struct store *, const struct engage_sample *);
int store_audience_add(struct store *, const char *channel, int64_t taken_ms,
                       int64_t followers);
/* The last audience sample's time in *taken_ms (-1: none). 0 or -EIO. */
int store_audience_last(struct store *, const char *channel, int64_t *taken_ms);
/* Stop polling channel since since_ms for reason; reason NULL: resume. */
int store_engage_stop(struct store *, const char *channel, int64_t since_ms,
                      const char *reason);
/* Each channel whose polling is stopped. */
int store_engage_stopped(struct store *,
                         void (*fn)(void *arg, const char *channel,
                                    int64_t since_ms, const char *reason),
                         void *arg);
/* Every sample of delivery id, youngest age first. */
int store_engage_samples(struct store *, const char *id,
                         void (*fn)(void *arg, const struct engage_sample *),
                         void *arg);
/* A published delivery's latest sample, for reports. Borrowed strings. */
struct engage_total {
	const char *id;
	const char *channel;
	const char *campaign; /* NULL: none */
	const char *text;
	const char *remote_url;
	int64_t published_ms;
	int64_t taken_ms; /* -1: no sample yet */
	int64_t age_ms;
	int64_t likes, shares, comments, quotes, views; /* -1: not given */
};
/*
 * Each delivery published in [from_ms, to_ms) with its latest sample (none
 * yet: taken_ms -1), by publishing time; read by due time, so one due more
 * than ENGAGE_DUE_SLACK_MS before from_ms (held or retried a month) is
 * left out.
 */
#define ENGAGE_DUE_SLACK_MS (31 * 24 * 3600 * 1000LL)
int store_engage_totals(struct store *, int64_t from_ms, int64_t to_ms,
                        void (*fn)(void *arg, const struct engage_total *),
                        void *arg);
/* Audience samples taken in [from_ms, to_ms), by channel then time. */
int store_audience_rows(struct store *, int64_t from_ms, int64_t to_ms,
                        void (*fn)(void *arg, const char *channel,
                                   int64_t taken_ms, int64_t followers),
                        void *arg);

#endif
