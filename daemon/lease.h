/*
 * This node's lease in the cluster (issue 16; doc/cluster.md): a row in
 * smmd_node renewed every beat, on the database's clock. The node trusts
 * its lease only until the renewal it sent last + ttl - margin on its own
 * monotonic clock, which always ends before the database's lease_until:
 * so by the time a peer may reap it, it has stopped firing. Each beat
 * also reaps nodes whose lease ran out.
 *
 * Two statements a beat, in one round trip: the renewal and the reaping
 * (a node that claims renews alone, and reaps in a claim round only when
 * its renewal saw a node whose lease ran out).
 * Give it a connection of its own (the one that LISTENs, say): behind a
 * pipeline of big groups its renewals come late, and the fence then
 * refuses the node's own writes (tests/bench/cluster.sh showed it).
 */
#ifndef SMMD_LEASE_H
#define SMMD_LEASE_H

#include <stdint.h>

#include "pgconn.h"

struct lease;

/* The advisory lock exclusive registrations take, one at a time. */
#define LEASE_EXCLUSIVE_LOCK "7301637432012345603"

/*
 * Two clocks this far apart (ms) disagree. The voters are the node
 * itself, PostgreSQL and every other node seen, one vote each; a node
 * whose clock more than half of them disagree with does not work: its
 * due times are wrong (lease_clock_outvoted). A tie goes to PostgreSQL's
 * side, whose clock the leases run on: with PostgreSQL alone to compare
 * with, a node that disagrees with it does not work.
 */
#define LEASE_CLOCK_LIMIT_MS 2000

struct lease_opts {
	const char *node_id; /* unique to this run of smmd */
	const char *version; /* smmd's, for smmctl status */
	int64_t ttl_ms;      /* 0: 3000 */
	int64_t beat_ms;     /* 0: 1000 */
	int64_t margin_ms;   /* 0: 1000; trust ends this long before */
	/*
	 * Register only while no other node holds a live lease: one node
	 * works, the others wait (registering each beat) and the first of
	 * them takes over once the worker's lease has run out.
	 */
	int exclusive;
	/* Our clock's offset from the database's, measured before the
	 * first beat (its registration votes with it), if known. */
	int64_t skew_ms;
	int skew_known;
	/* A registration of this node's to go on with (one smmd handed
	 * to the next, store_pg.c): its first beat renews it; 0: none. */
	int64_t epoch;
	/*
	 * Register beside the exclusive lease's holder (a worker): its
	 * registration does not count this node's lease.
	 */
	int worker;
	/*
	 * Claims (leaseclaim.c): the channels this node may send on,
	 * NULL-terminated; NULL: it claims none. It takes free ones (none
	 * owns them, or their owner's lease ran out) in claim rounds, and
	 * lets go of those past its share (the channels over the live nodes,
	 * rounded up) that may_release says it may, so that the others take
	 * them. A channel changes hands only once its owner has stopped
	 * (its lease ran out, or it let go), so no two nodes fire one.
	 */
	const char *const *channels;
	/*
	 * 1 when channel may go now: nothing is in flight on it, and
	 * nothing falls due within LEASE_CLAIM_QUIET_MS (a taker claims
	 * within LEASE_CLAIM_EVERY_MS and a beat). NULL: always.
	 */
	int (*may_release)(void *arg, const char *channel);
	/* What the node owns changed: lease_owns says what it owns now. */
	void (*on_claims)(void *arg);
	int64_t claim_every_ms; /* 0: LEASE_CLAIM_EVERY_MS */
	/*
	 * An exclusive lease not registered asks before each attempt: 0
	 * skips it (the beat sends nothing). NULL: always attempts.
	 */
	int (*may_register)(void *arg);
	/*
	 * A lease that claims: its renewal saw no node holding an exclusive
	 * lease, where the one before saw one (a worker's: the working node
	 * is gone), so that an exclusive registration waiting on it need not
	 * wait for its own next beat. NULL: not told.
	 */
	void (*on_holder_gone)(void *arg);
	/* The node may fire (live) or must stop at once; why says why. */
	void (*on_live)(void *arg, int live, const char *why);
	/* A dead peer's lease was taken away: its work is to be reaped
	 * (not told with an exclusive lease: its successor starts afresh). */
	void (*on_reaped)(void *arg, const char *node_id, int64_t epoch);
	void *arg;
};

/*
 * Start beating on c (owned by the caller; beats wait while it is down).
 * NULL when out of memory.
 */
struct lease *lease_start(uv_loop_t *, struct pgconn *c,
                          const struct lease_opts *);
/*
 * Beat now rather than at the next tick (c has just come back up): a lost
 * connection then costs the lease the time to reconnect, not a second
 * more. Nothing when a beat is in flight or went less than half a beat
 * (at most 500 ms) ago.
 */
void lease_beat_now(struct lease *);
/* 1 while this node may fire: its lease is renewed and trusted. */
int lease_live(const struct lease *);
/*
 * 1 when the last renewal of this live lease, one that claims, saw a
 * node holding an exclusive lease (a worker's sees the working node).
 */
int lease_holder_lives(const struct lease *);
/*
 * The clock offset from's beats measured, for to's next registration
 * (a lease that seldom beats votes with a fresh one).
 */
void lease_take_skew(struct lease *to, const struct lease *from);
/*
 * A claim round is sent at least this often; at once when a peer was
 * reaped, or the renewal saw a channel whose owner is dead, or one of
 * the node's channels with no owner; at the next beat while it lets go
 * of channels.
 */
#define LEASE_CLAIM_EVERY_MS 5000
/* What may_release asks: nothing due on the channel this soon. */
#define LEASE_CLAIM_QUIET_MS 10000

/* 1 while this node may fire channel: its lease is live and it owns it. */
int lease_owns(const struct lease *, const char *channel);
/* 1 while it owns channel under its current epoch, trusted this instant
 * or not (a lease that lapsed owns nothing). */
int lease_holds(const struct lease *, const char *channel);
/*
 * The fencing token of the node's claim of channel (it rises with each
 * owner of the channel), or 0 when it does not hold it.
 */
int64_t lease_fence(const struct lease *, const char *channel);
/* 1 once a claim round has answered (and 0 again once the lease lapsed). */
int lease_claimed(const struct lease *);
/* The channels it owns (under its current epoch), *n of them. */
const char *const *lease_owned(const struct lease *, size_t *n);
/*
 * The node's channels changed (a reload, or given after the start):
 * those gone are let go as soon as may_release says they may (a request
 * in flight on one ends first), and a round follows at once (or after
 * the beat in flight) to delete them and claim new ones. 0, or -ENOMEM
 * (nothing changed).
 */
int lease_set_channels(struct lease *, const char *const *channels);
/* The epoch of the current registration, 0 when none. */
int64_t lease_epoch(const struct lease *);
/* The database's clock minus ours, in ms, as the last beat measured. */
int64_t lease_skew_ms(const struct lease *);
/*
 * How far our wall clock has moved from our monotonic clock since the
 * last beat measured the offset, in ms: a step (or a wrong clock set
 * right) not yet measured when past LEASE_CLOCK_LIMIT_MS.
 */
int64_t lease_clock_drift_ms(const struct lease *);
/*
 * Whether a clock offset skew_ms is outvoted: n other nodes' offsets in
 * others (PostgreSQL counts as one more, at 0), under the rule above.
 */
int lease_clock_outvoted(int64_t skew_ms, const int64_t *others, size_t n);
/*
 * Give the lease up at once (a clean stop): the row goes, so peers need
 * not wait for it to run out. done when the database has said so; the
 * lease is freed after done.
 */
void lease_stop(struct lease *, pgconn_done_fn *done, void *arg);
/* Free without a word to the database, as if the node died. */
void lease_free(struct lease *);

#endif
