/*
 * What pgrepl.c (shipping) and pgrepl_apply.c (pulling, reading back)
 * share. Not for other files: pgrepl.h is the interface.
 */
#ifndef SMMD_PGREPL_IMPL_H
#define SMMD_PGREPL_IMPL_H

#include <jansson.h>

#include "pgrepl.h"
#include "viewlog.h"

/* A replicated table, as the view's schema has it. */
struct repl_table {
	char *name;
	int ncol;
	char **cols;
	const char **pgtypes;
	int *pk; /* per column: its place in the key from 1, or 0 */
	int npk;
	int *key; /* the key's columns, in key order */
	sqlite3_stmt *upsert, *del;
	/* Read whole as of this change (its cursor's snapshot): the log's
	 * changes of it up to there are in the view already. */
	int64_t read_at;
};

/* A row a group touched: to number once kept, or read back. */
struct repl_row {
	int table;
	char *pk; /* JSON array of the key's values */
	int64_t v;
	int deleted;
	int soft; /* read back for a pull that found it dirty: not forced */
};

struct repl_rows {
	struct repl_row *v;
	size_t n, cap;
};

/* A change a pull read, not applied yet (pgrepl_apply_backlog). */
struct repl_change {
	int64_t v;
	int table;
	int deleted;
	char *row; /* its JSON text */
};

/* One shipped group, in flight. Outlives pgrepl if freed meanwhile. */
struct repl_group {
	struct repl_group *next;
	struct pgrepl *r;
	uint64_t n; /* its place in the chain */
	int64_t epoch;
	struct repl_rows rows;
	int refused; /* a statement of it failed: rolled back for sure */
	char why[256];
	size_t answered; /* rows whose statement answered */
	int refs;        /* statements and sync queued, not yet answered */
	pgrepl_done_fn *done;
	void *arg;
	/* Its changeset (sqlite3_malloc'd): sent again if it was lost
	 * with the connection and not committed. */
	void *cs;
	int ncs;
};

struct pgrepl {
	struct pgrepl_opts o;
	char *node_id;
	int tick_pulls; /* pgrepl_tick pulls (not sole_writer, pgrepl_share) */
	struct viewlog *session; /* the view's writes not shipped yet */
	struct repl_table *tables;
	int ntables;
	uint64_t shipped;    /* the last group number sent */
	int64_t chain_epoch; /* the lease epoch the numbers count in */
	struct repl_group *head, *tail; /* sent, undecided, in order */
	struct repl_group *doubt;       /* lost with the connection */
	/* ... and found not committed: sent again, in order, first. */
	struct repl_group *resend;
	int broken; /* refused: read back, then go on */
	int resyncing;
	struct repl_rows refetch; /* rows to read back */
	/* Pulled changes to rows this node had changes of its own in
	 * flight for: read back once those are decided. */
	struct repl_rows later;
	int pulling; /* a pull, or a read of the tables whole */
	/* Batches of changes asked for, and the last answered: which it
	 * was, and the newest change committed when it was read. */
	uint64_t asks, answered;
	int64_t newest;
	int64_t pulled; /* how far the pulls have applied */
	/* The changes the pull in flight read, applied from next on; full:
	 * it read a whole batch, so another follows. */
	struct repl_change *backlog;
	size_t nbacklog, backlog_next;
	int backlog_full;
	int applying; /* the pull's answer is in: its backlog is applied */
	/* The view's transaction was rolled back (pgrepl_rolled_back). */
	int rewound;
	/* Reading the tables whole (pgrepl_whole.c): done once since open;
	 * the table read now, the change number the pages follow (at), the
	 * rows of the last page (-1: not applied). */
	int whole_read;
	int whole_table;
	int64_t whole_at;
	int whole_n;
	/* A pull found the log trimmed past the view's position. */
	int behind;
	uint64_t rows_read; /* by pulls and whole reads: progress */
	int64_t kept_max;   /* the highest row number a kept group drew */
	/* A group was kept whose rows' numbers never came back (decided
	 * after the connection was lost): the view's are behind. */
	int unnumbered;
	uint64_t resent; /* groups sent again after a lost connection */
	/* When a group's fence last told the other nodes (its NOTIFY), and
	 * whether groups shipped since went untold (pgrepl_tell_untold). */
	uint64_t told_ns;
	int untold;
	/* Deciding the groups in doubt: what smmd_node said. */
	int deciding, doubt_found;
	int64_t doubt_epoch, doubt_shipped;
	sqlite3_stmt *get_v, *set_v, *set_pulled;
};

int repl_rows_add(struct repl_rows *, int table, const char *pk, int64_t v,
                  int deleted);
void repl_rows_free(struct repl_rows *);
/* Move every row of from into to. */
int repl_rows_take(struct repl_rows *to, struct repl_rows *from);
/* Forget the pull's changes not applied. */
void repl_backlog_drop(struct pgrepl *);
/* After pgrepl_rolled_back: the position as the view keeps it, the
 * backlog dropped. 1 if so, 0 if nothing was rolled back. */
int repl_rewind(struct pgrepl *);

/* A table's index by name, or -1. */
int repl_table_find(const struct pgrepl *, const char *name);

/* The number the view holds for a row, or 0 (none known). */
int64_t repl_get_v(struct pgrepl *, const char *table, const char *pk,
                   int *dead);
int repl_set_v(struct pgrepl *, const char *table, const char *pk, int64_t v,
               int dead);

/*
 * Apply a row image from PostgreSQL (a JSON object; NULL: the row is
 * gone) to the view, with the session not recording, if v is newer than
 * the view's. 1 applied, 0 older, -1 error.
 */
int repl_apply(struct pgrepl *, int table, const char *pk, json_t *row,
               int64_t v, int force);

/* The table's upsert and delete into the view, prepared once. 0/-1. */
int repl_prepare_apply(struct pgrepl *, struct repl_table *);

/* The key of a JSON row image, as repl_row.pk spells it; malloc'd. */
char *repl_pk_of_json(const struct repl_table *, json_t *row);

/* The rows the session holds changes of (not shipped yet). */
void repl_session_rows(struct pgrepl *, struct repl_rows *out);
/* A row with a change of this node's not decided yet. */
int repl_dirty(const struct pgrepl *, const struct repl_rows *session,
               int table, const char *pk);

/*
 * One statement in a group of its own, after the writers' order lock if
 * after_writers (pgrepl_pull_after_writers says why); fn and done get r.
 * 0, or pgconn's errors.
 */
int repl_ask(struct pgrepl *, int after_writers, const char *sql, int n,
             const char *const *params, pgconn_result_fn *fn,
             pgconn_done_fn *done);

/* The view knows no row yet: nothing pulled, nothing of its own kept. */
int repl_view_new(struct pgrepl *);

/*
 * Empty the view and read the tables whole, then pull on from where
 * they were read (pgrepl_whole.c). after_writers: as
 * pgrepl_pull_after_writers. 0 when asked, -EAGAIN while this node has
 * changes of its own not shipped or not decided, or pgconn's errors.
 */
int repl_read_whole(struct pgrepl *, int after_writers);

/* Read back what refused groups touched; then shipping goes on. */
void repl_resync(struct pgrepl *);

/* Tell the owner what keeps the view from catching up (on_error). */
void repl_error(struct pgrepl *, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#endif
