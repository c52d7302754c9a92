/*
 * The postgresql store backend's own state (store_pg.c), shared with
 * the files that do one part of its work: the channels' tokens
 * (store_pg_token.c), the commands relayed between nodes
 * (store_pg_relay.c), the view's counts (store_pg_count.c).
 */
#ifndef SMMD_STORE_PG_IMPL_H
#define SMMD_STORE_PG_IMPL_H

#include <stdint.h>

#include "lease.h"
#include "pgconn.h"
#include "pgrelay.h"
#include "pgrepl.h"
#include "store_sqlite.h"
#include "uvembed.h"

/* A write needs this much of the lease left (the lease, the tokens). */
#define MARGIN_MS 1000

struct pgstore {
	uv_loop_t loop;
	struct uvembed embed;
	struct pgconn *wr; /* ships and pulls */
	struct pgconn *ls; /* the lease's own (lease.h says why) */
	struct lease *lease;
	struct pgrepl *repl;
	struct pgrelay *relay;      /* commands standbys relay (pgrelay.h) */
	int serving;                /* ... to this node, which works */
	store_request_fn *serve_fn; /* ... run by this, smmd's */
	void *serve_arg;
	/* Waiting for the view to catch up (store_pg_pull.c), how many
	 * asked so far, and the batch the pull begun for them asks first
	 * (pgrepl_asks's count; 0: none). */
	struct pull_wait *pull_waits, **pull_tail;
	uint64_t pull_seq;
	uint64_t pull_mine;
	uint64_t pull_retry_ms; /* the next wait after a failure, or 0 */
	uv_timer_t pull_timer;
	unsigned relay_ticks;
	unsigned trim_ticks; /* since the last trim of the change log */
	int trimming;
	sqlite3 *db; /* the view (the SQLite backend's) */
	uv_timer_t tick, report;
	char node_id[128];
	int wr_up, ls_up, live, ever_live;
	int ls_was_up; /* the lease's connection was up before */
	int64_t epoch; /* the lease's registration smmd works under */
	int lost;      /* ... ran out: nothing more ships */
	int steps;     /* setup groups done */
	int peer;      /* open: another node holds a live lease */
	int gone;      /* close: the lease was given up */
	int closing;
	int skewed;    /* the clock offset was said to be over SKEW_WARN_MS */
	char why[256]; /* the last thing that went wrong */
	char fail_why[256]; /* why the last failure reported was, for failure()
	                     */
	/* Batches (the front end's numbers): sync asked for up to asked;
	 * shipped up to sent; PostgreSQL kept up to durable; done was told
	 * up to told. */
	uint64_t asked, sent, durable, told;
	int failed; /* an error for done, or 0 */
	/* The batch each group in flight carries, in shipping order. */
	uint64_t *seqs;
	size_t nseq, seq_head, seq_cap;
	uint64_t groups; /* shipped, for counts_io */
	void (*done)(void *arg, uint64_t seq, int err);
	void *done_arg;
	int waiting;     /* in pg_wait: nothing is reported through done */
	int ever_failed; /* a failure was reported: the view is not whole */
	int64_t mark_v;  /* check_view: the token's change number, or -1 */
	uint64_t resent; /* groups sent again, as last said */
	/* The cluster's nodes as last read (nodes_sql), for status. */
	json_t *nodes, *nodes_next;
	/* The channels they list ({name: true}), for pg_listed; any: a
	 * live node of an older version lists none, so any may be its. */
	json_t *listed, *listed_next;
	int listed_any, listed_any_next;
	uint64_t nodes_at_ns;
	int nodes_asked, ticks;
	/* A standby (STORE_OPEN_STANDBY), the node that works, and who to
	 * tell once this one may work instead (pg_standby_start). */
	int may_standby, standby, turning;
	int64_t handed_epoch; /* the registration a standby handed over */
	int clock_out;        /* this node's clock is outvoted (lease.h) */
	int64_t db_ms;        /* measure_clock's answer */
	char works[128];
	void (*turn)(void *arg);
	void *turn_arg;
	/* smmd's side of the claims (pg_claim), told from claims_timer;
	 * pending: told while smmd could not hear it (on_claims_told). */
	struct store_claims claims;
	uv_timer_t claims_timer;
	/* A standby heard the pauses change (NOTIFY smmd_pause): it pulls
	 * from this timer's callback, at once or a moment later. */
	uv_timer_t pause_timer;
	uv_timer_t tell_timer; /* groups shipped untold (pgrepl_untold_in) */
	int claims_pending;
	int claims_known; /* pg_claims_known */
	/*
	 * The working node beside workers (shared): it pulls when another
	 * writer said it wrote (pull_hint) or every PULL_EVERY_TICKS.
	 */
	int shared, pull_hint;
	unsigned pull_ticks;
	/*
	 * A worker (STORE_OPEN_WORKER, a standby that shares the work): a
	 * second lease, not exclusive, under writer_id, which its writes,
	 * its fence and its claims go under (pg_writer()); the exclusive one
	 * only waits for its turn to coordinate.
	 */
	int may_work, worker, wlive, wgone;
	struct lease *wlease;
	char writer_id[136];
	/* What other nodes changed (pg_watch), told from watch_timer. */
	store_changed_fn *watch_fn;
	void *watch_arg;
	char **changed; /* deliveries' ids, malloc'd */
	size_t nchanged, changed_cap;
	size_t told_changed;    /* ... of which smmd was told (on_watch_told) */
	json_t *tokens_changed; /* channels whose tokens another node kept */
	int pauses_changed, watch_pending;
	uv_timer_t watch_timer;
	/* On smmd's loop: a pull's changes, a few a turn (on_backlog). */
	uv_idle_t apply_idle;
	uv_check_t apply_check;
	int apply_handles;
	json_t *elsewhere; /* pg_owned_elsewhere's answer */
	/* ... as it was at the start, until the first claims are known
	 * (pg_fired_elsewhere). */
	json_t *start_elsewhere;
	/* pg_tokens_read's reader and its answer. */
	store_token_fn *token_fn;
	void *token_arg;
	int tokens_read, tokens_err;
};

/* The lease this node's writes go under: a worker's own, else its one. */
struct lease *pg_writer(const struct pgstore *);

/* fn(arg, err) once the view has read what was committed at this call
 * (store_after_pull); -ECANCELED once closing. */
int pg_pull_wait(struct pgstore *, store_pulled_fn *fn, void *arg, int flags);
void pg_pull_init(struct pgstore *);
void pg_pull_close(struct pgstore *); /* those waiting: -ECANCELED */

/* LISTEN for what a node hears of relayed commands and tokens kept. */
void pg_listen_relays(struct pgstore *);

/* Count the view's deliveries from now on, and tell pgrepl of the view's
 * rollbacks (store_pg_count.c): 0, or -1 with err set. */
int pg_count_start(struct pgstore *, char *err, size_t errlen);
/* ... no longer: the view's close rolls back after ps is gone. */
void pg_count_stop(struct pgstore *);

/* smmd's loop runs the private one when embedded: a statement queued
 * from smmd's side is sent without waiting for the loop's next turn. */
void pg_kick(struct pgstore *);

#endif
