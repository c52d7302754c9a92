/*
 * A SQLite database kept in step with PostgreSQL (doc/cluster.md): the
 * node's local view, which answers every read at once, and the cluster's
 * shared tables, which decide.
 *
 * What the view's writers change is recorded by SQLite's session
 * extension. pgrepl_ship sends it as one group: first smmd_fence (this
 * node holds its lease, and the group is the next in its chain), then a
 * compare-and-set per row on the row's number (_v) as the view last saw
 * it. Any row changed meanwhile by another node, a lapsed lease, or a
 * refused group before it, and nothing of the group is kept: the rows it
 * touched are read back from PostgreSQL into the view. A group lost with
 * the connection is decided once it is back, by the chain (shipped); one
 * not committed is sent again as it was, before anything newer, which
 * waits meanwhile (pgrepl_ship says -ENOTCONN).
 *
 * pgrepl_pull reads what other nodes changed since the last pull, in
 * commit order, into the view. A new view, or one behind the log's trim
 * (pgrepl_trim), reads the tables whole instead, then the log on from
 * there (pgrepl_whole.c).
 *
 * Two tables of its own live in the view: _smmd_v (each row's number)
 * and _smmd_pull (how far the pulls have read).
 *
 * Close the connection (from outside its callbacks) before pgrepl_free:
 * what is in flight is told while pgrepl is still there.
 */
#ifndef SMMD_PGREPL_H
#define SMMD_PGREPL_H

/* The session extension's API (Debian's libsqlite3 is built with it). */
#define SQLITE_ENABLE_SESSION        1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>
#include <stdint.h>

#include "pgconn.h"

struct pgrepl;

struct pgrepl_opts {
	sqlite3 *db;               /* the view (the caller's) */
	struct pgconn *pg;         /* the caller's; ships and pulls on it */
	const char *const *tables; /* the replicated ones, NULL-terminated */
	const char *node_id;
	/* The lease's epoch now; 0 while there is none (nothing ships). */
	int64_t (*epoch)(void *arg);
	int64_t margin_ms; /* the lease must run this long more */
	/*
	 * Nobody else writes while this node may (an exclusive lease): the
	 * tick pulls nothing, since all it would read back is this node's
	 * own changes; pgrepl_pull still catches up at start.
	 */
	int sole_writer;
	/*
	 * A row of table changed in the view by another node, or read back
	 * after a refused group (pk: a JSON array of its key's values).
	 */
	void (*on_changed)(void *arg, const char *table, const char *pk);
	/*
	 * A pull's changes wait to be applied: the caller calls
	 * pgrepl_apply_backlog from its loop, a turn apart, until it says
	 * none remain, so that applying a pull never holds the loop long.
	 * NULL: a pull's changes are applied at once, all of them.
	 */
	void (*on_backlog)(void *arg);
	/* What keeps the view from catching up (retried each tick). */
	void (*on_error)(void *arg, const char *why);
	/* What an operator may like to know (a view read whole). */
	void (*on_info)(void *arg, const char *what);
	void *arg;
};

/* A shipped group's end: 0, or -ESTALE (refused; nothing of it kept). */
typedef void pgrepl_done_fn(void *arg, int err, const char *why);

/* 0, or -1 with err set. */
int pgrepl_open(const struct pgrepl_opts *, struct pgrepl **out, char *err,
                size_t errlen);
void pgrepl_free(struct pgrepl *);

/*
 * The statement that creates (or completes) the replicated tables in
 * PostgreSQL from the view's schema, after pgschema's migrations: the
 * caller sends it. malloc'd; NULL when out of memory.
 */
char *pgrepl_schema_sql(struct pgrepl *);

/*
 * Groups shipped since the fence last told the other nodes went untold:
 * the milliseconds until pgrepl_tell_untold should tell of them (0: now),
 * or -1 when none did.
 */
int64_t pgrepl_untold_in(const struct pgrepl *);
/* Tell the other nodes of the groups shipped untold (a NOTIFY that
 * commits after them). */
void pgrepl_tell_untold(struct pgrepl *);
/*
 * Send what the view's writers changed since the last call. 1: nothing
 * to send (done is not called); 0: sent, done follows; -ENOTCONN: not
 * connected, no lease, or groups lost with the connection not decided
 * yet (the changes wait for the next call); other
 * negative errors: the changes could not be read.
 */
int pgrepl_ship(struct pgrepl *, pgrepl_done_fn *, void *arg);

/*
 * Read other nodes' changes into the view. 0 when asked (the answer
 * comes through on_changed), -EBUSY when one is running, -ENOTCONN.
 */
int pgrepl_pull(struct pgrepl *);
/*
 * The same, once every group still running has ended (its writer's lock,
 * PGSCHEMA_ORDER_LOCK): after this node's exclusive registration, a dead
 * node's last group may still commit; the pull must see it.
 */
int pgrepl_pull_after_writers(struct pgrepl *);

/*
 * The connection came back (pgconn's on_up): groups lost with it are
 * decided, and the rows of refused ones read back.
 */
void pgrepl_reconnected(struct pgrepl *);

/*
 * Every beat: decide groups lost with the connection, read refused rows
 * back, and pull (unless sole_writer, or pgrepl_share said not to). What
 * failed before is tried again here.
 */
void pgrepl_tick(struct pgrepl *);

/*
 * Another node writes beside this one (a worker, or this node is one):
 * with each_tick the tick pulls from now on (else the caller does). For
 * good: the view is never marked whole again (pgrepl_save_position),
 * since its position no longer covers every change before it, as a sole
 * writer's does.
 */
void pgrepl_share(struct pgrepl *, int each_tick);
/*
 * Ship under another node's name (a worker's lease, registered beside
 * the node's own): before the first group ships. 0, or -ENOMEM.
 */
int pgrepl_set_node(struct pgrepl *, const char *node_id);

/* A pull is running (more batches follow while the last one was full),
 * or its changes are not all applied yet. */
int pgrepl_pulling(const struct pgrepl *);
/*
 * Whether the view has read what other nodes committed by a moment:
 * note pgrepl_asks then (the batches of changes asked for so far); once
 * a batch asked for later has answered (pgrepl_newest's *answered past
 * that count), every change then is numbered at most what it says, and
 * the view holds them once pgrepl_pulled reaches that number. A change
 * to a row with a write of this node's still undecided counts as read:
 * the row is read back once that write is decided.
 */
uint64_t pgrepl_asks(const struct pgrepl *);
int64_t pgrepl_newest(const struct pgrepl *, uint64_t *answered);
/*
 * Apply the next few changes the pull read (on_backlog): 1 when more
 * remain, 0 when none do (the pull is over, or the next one sent, or no
 * pull's changes wait).
 */
int pgrepl_apply_backlog(struct pgrepl *);
/*
 * The view's transaction was rolled back (from SQLite's rollback hook,
 * where no statement may run): rows pulls applied in it went with it,
 * and their position. The next pull, or the next few applied, reads on
 * from the position the view kept instead.
 */
void pgrepl_rolled_back(struct pgrepl *);
/* How far the pulls have read (a change number). */
int64_t pgrepl_pulled(const struct pgrepl *);
/* Rows read into the view by pulls and whole reads: their progress. */
uint64_t pgrepl_rows_read(const struct pgrepl *);

/*
 * A trim's end: how many changes went (-1 on error, err says why). A
 * trim that removed as many as one may (5,000) leaves more to remove.
 */
typedef void pgrepl_trimmed_fn(void *arg, int64_t removed, const char *err);
#define PGREPL_TRIM_MAX 5000

/*
 * Remove changes older than keep_ms from smmd_change (the oldest first,
 * at most PGREPL_TRIM_MAX, in 500 ms at most), and move smmd_trim past
 * them: any view behind that reads the tables whole. Run by one node
 * (the working one), on the connection on: one other than the view's,
 * so that no group of writes waits behind it. 0 when sent, done
 * follows; pgconn's errors.
 */
int pgrepl_trim(struct pgrepl *, struct pgconn *on, int64_t keep_ms,
                pgrepl_trimmed_fn *done, void *arg);
/* Groups lost with the connection and sent again, since open. */
uint64_t pgrepl_resent(const struct pgrepl *);
/* Groups sent and not yet decided. */
size_t pgrepl_in_flight(const struct pgrepl *);

/* Nothing in flight, nothing refused left to read back. */
int pgrepl_settled(const struct pgrepl *);

/*
 * At a clean close of the sole writer, settled: the view holds every
 * change up to the last this node's groups drew, so a later start may
 * read on from there (store_pg.c keeps the view). The position into *at:
 * 0, or -1 (not settled, not the sole writer, a group kept whose rows'
 * numbers never came back, or the view cannot be written).
 */
int pgrepl_save_position(struct pgrepl *, int64_t *at);

/* Empty the view (not one the database knows): pulls start over. 0/-1. */
int pgrepl_forget_view(struct pgrepl *);

#endif
