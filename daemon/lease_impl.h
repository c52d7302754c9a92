/*
 * The lease's insides, shared by lease.c (registration, renewal, reaping)
 * and leaseclaim.c (the channels the node owns).
 */
#ifndef SMMD_LEASE_IMPL_H
#define SMMD_LEASE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "lease.h"

struct reaped {
	struct reaped *next;
	int64_t epoch;
	char node_id[];
};

/* Channel names, each malloc'd, owned by the set, with a number each
 * and, for what the node owns, its claim's fence. */
struct names {
	char **v;
	int64_t *num, *fence;
	size_t n, cap;
};

/*
 * One round trip of up to two groups (renewal, then reaping or a claim
 * round); outlives the lease if that is freed meanwhile: refs counts its
 * answers to come.
 */
struct beat {
	struct lease *l;
	int refs;
	uint64_t sent_ns;
	int64_t sent_wall_ms;
	int answered;  /* the renewal or registration returned a row */
	int clocked;   /* ... or at least the database's clock */
	int reaps;     /* a reaping group follows the renewal's */
	int64_t epoch; /* from it */
	int orphans;   /* ... and a channel's owner is dead */
	int dead_seen; /* ... and some node's lease ran out */
	int holder;    /* ... and a node holds an exclusive lease */
	int64_t db_ms;
	struct reaped *reaped;
	/* A claim round (leaseclaim.c): under which epoch, what it let go,
	 * what it says this node owns now (each with the fewest channels
	 * another node that lists it owns, or -1) and the node's share. */
	int claims;
	int64_t claim_epoch;
	struct names released, got;
	int64_t share, free_left;
};

struct lease {
	uv_loop_t *loop;
	struct pgconn *pg;
	struct lease_opts o;
	char *node_id, *version;
	uv_timer_t beat_timer, trust_timer;
	int handles;
	struct beat *beat; /* in flight */
	int64_t epoch;
	int live;
	uint64_t trust_until_ns;
	uint64_t beat_sent_ns; /* the last beat's */
	int64_t skew_ms;
	int have_skew;
	/* The wall and monotonic clocks when the offset was measured. */
	int64_t clocked_wall_ms;
	uint64_t clocked_ns;
	pgconn_done_fn *stop_done;
	void *stop_arg;
	int dead; /* lease_free was called: no more calls out */
	/*
	 * Claims (lease_opts.channels): the node's channels, those it owns
	 * under owned_epoch (as got), those it let go whose rows may still
	 * be there, its share at the last round, and when the next round is
	 * due: at the next beat (claim_soon), or at once (claim_now: a
	 * channel's owner died).
	 */
	int claiming;
	struct names channels, owned, releasing;
	int64_t owned_epoch;
	int64_t share;
	int claim_soon, claim_now;
	uint64_t claimed_ns;
	/* It owns a channel no longer its own, kept while may_release says
	 * no: asked again each beat. */
	int unlisted;
	/* A tick came while a round was in flight: beat once it is over. */
	int beat_missed;
	/* The last renewal saw a live exclusive lease (a claiming node's). */
	int holder_seen;
};

/* Queue one statement or sync of b; 0, or -1 when pgconn refused it. */
int lease_beat_item(struct beat *b, int r);
/* One answer of b's came: b goes with its last. */
void lease_beat_unref(struct beat *b);
/* One row of a reaping: the node and epoch that went, onto b. */
void lease_note_reaped(struct beat *b, const char *node_id, int64_t epoch);

void names_clear(struct names *);
int names_has(const struct names *, const char *name);

/* The node's channels, one a line; malloc'd, NULL out of memory. */
char *claims_lines(const struct lease *);
/* A claim round now, or once the beat in flight is over. */
void lease_claim_now(struct lease *);
/* Take channels (a NULL-terminated copy) as the node's; 0 or -ENOMEM. */
int claims_set(struct lease *, const char *const *channels);
/* A claim round is due at this beat. */
int claims_due(const struct lease *);
/*
 * Before a round is built: let go of what the node may (on_claims may be
 * called, and may stop or free the lease).
 */
void claims_let_go(struct lease *);
/*
 * Queue the round's group onto b (after the renewal's): 0; 1 when nothing
 * was queued (out of memory); -1 when pgconn refused it.
 */
int claims_queue(struct lease *, struct beat *b);
/* The round committed (err NULL) or not: what it says now holds. */
void claims_done(struct lease *, struct beat *b, const char *err);
/* The lease lapsed or took a new epoch: what it owned is not its own. */
void claims_lost(struct lease *);
void claims_free(struct lease *);
void claims_beat_free(struct beat *);

#endif
