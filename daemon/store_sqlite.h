/*
 * The SQLite backend's insides, shared by its files: store_sqlite.c (the
 * connection, migrations and delivery operations), store_sqlite_planb.c
 * (pauses and the audit trail), store_sqlite_approval.c (approving) and
 * store_sqlite_stats.c (statistics). Nothing
 * outside the backend includes it.
 */
#ifndef SMMD_STORE_SQLITE_H
#define SMMD_STORE_SQLITE_H

#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rndpool.h"
#include "store_backend.h"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_POST_EXISTS,
	ST_POST_INSERT,
	ST_DELIVERY_INSERT,
	ST_DELIVERY_LOAD,
	ST_MARK_PUBLISHING,
	ST_MARK_PUBLISHING_ROW,
	ST_ATTEMPT_FINISH,
	ST_RESULT,
	ST_RESULT_ROW,
	ST_DELIVERY_STATE,
	ST_POST_DELIVERIES,
	ST_PENDING,
	ST_COUNTS,
	ST_SLOT_TAKEN,
	ST_CAL_POST,
	ST_CAL_ADD,
	ST_CAL_UPDATE,
	ST_CAL_ROW,
	ST_TRANSITION,
	ST_COUNT
};

#define DURABLE  1
#define LOSSABLE 0

struct store_be {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int lock_fd;
	struct rndpool rnd; /* randomness for webhook ids */
	int in_txn;
	int txn_durable; /* the open transaction must be synced */
	int bulk;        /* the due-time indexes are dropped for a bulk load */
	struct store_wal *wal;
	char *path;               /* of the database file */
	int fail_code;            /* the last failure's extended code, or 0 */
	int fail_errno;           /* ... the system's error under it, or 0 */
	char fail_msg[256];       /* ... and SQLite's words for it */
	struct sq_engage *engage; /* store_sqlite_engage.c's statements */
	int stats_fn;       /* store_sqlite_stats.c's function is defined */
	void *stats_feed;   /* ... and the query it feeds, during one */
	struct pgstore *pg; /* the postgresql backend's (store_pg.c) */
	/*
	 * Where the ids of new pauses and audit rows start (their keys are
	 * max + 1 in each view): 0, but a worker's (store_pg.c), which
	 * writes such rows beside the working node, numbers them in a range
	 * of its own, so the two never take one key.
	 */
	int64_t id_base;
};
/* The size of each node's range of ids (store_be.id_base). */
#define SQ_ID_RANGE 16777216

/* Remember why a write failed, before a rollback clears SQLite's words. */
static inline void note_failure(struct store_be *s)
{
	s->fail_code = sqlite3_extended_errcode(s->db);
	s->fail_errno = sqlite3_system_errno(s->db);
	snprintf(s->fail_msg, sizeof(s->fail_msg), "%s", sqlite3_errmsg(s->db));
}

/* Reset and return a cached statement, ready for binding. */
static inline sqlite3_stmt *stmt(struct store_be *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static inline void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static inline char *col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	return v ? strdup((const char *)v) : NULL;
}

/* Run a statement that returns no rows. */
static inline int exec_done(struct store_be *s, sqlite3_stmt *st)
{
	int r = sqlite3_step(st);

	if (r != SQLITE_DONE)
		note_failure(s);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return -EIO;
	return 0;
}

/*
 * Open the turn's transaction on the first write. A write that must
 * survive a power cut (a post accepted, a cancel, an attempt about to
 * start) makes its batch wait for an fdatasync before its callbacks run;
 * results alone need not: losing one sends the delivery back to
 * "publishing", which recovery already handles (the same webhook-id
 * again, or "unknown").
 */
static inline int begin(struct store_be *s, int durable)
{
	/*
	 * SQLite rolls the whole transaction back by itself on some errors
	 * (disk full, I/O). Writing on in autocommit would make each write
	 * its own transaction, outside the turn's accounting: refuse.
	 */
	if (s->in_txn && sqlite3_get_autocommit(s->db))
		return -EIO;
	if (!s->in_txn) {
		if (exec_done(s, stmt(s, ST_BEGIN)) < 0)
			return -EIO;
		s->in_txn = 1;
	}
	if (durable)
		s->txn_durable = 1;
	return 0;
}

static inline const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* An integer column, or null_value where it is NULL. */
static inline int64_t col_int(sqlite3_stmt *st, int i, int64_t null_value)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return null_value;
	return sqlite3_column_int64(st, i);
}

/* store_sqlite_planb.c: pauses, held deliveries, the audit trail. */
int sq_pause_add(struct store_be *, const struct pause_rec *, int64_t *id);
int sq_pause_end(struct store_be *, int64_t id, int64_t now_ms,
                 const char *resumed_as);
int sq_pause_resumed(struct store_be *, int64_t id, char *as, size_t len);
int sq_pauses(struct store_be *,
              void (*fn)(void *arg, const struct pause_rec *), void *arg);
int sq_held_rows(struct store_be *, int64_t pause_id,
                 void (*fn)(void *arg, const struct held_row *), void *arg);
int64_t sq_held_count(struct store_be *, int64_t pause_id);
int sq_audit_add(struct store_be *, const struct audit_rec *);
int sq_audit_rows(struct store_be *, int64_t since_ms,
                  void (*fn)(void *arg, const struct audit_rec *), void *arg);
/* store_sqlite_approval.c */
int sq_approve(struct store_be *, const char *id, const struct approval *,
               void (*fn)(void *arg, const struct approval_row *), void *arg);
/* store_sqlite_report.c */
int sq_due_rows(struct store_be *, int64_t from_ms, int64_t to_ms,
                void (*fn)(void *arg, const struct due_row *), void *arg);
/* store_sqlite_stats.c */
int sq_stats(struct store_be *, const struct stats_query *,
             struct stats_result *);
/* store_sqlite_backup.c */
int sq_backup(struct store_be *, const char *dest, char *err, size_t errlen);

/*
 * store_sqlite.c: open (creating or migrating) file in dir. view: a view
 * another backend rebuilds at each start: emptied once dir is locked,
 * never synced, checkpointed by SQLite; else store_wal.c syncs it.
 */
int sq_open_at(const char *dir, const char *file, int view,
               struct store_be **out, char *err, size_t errlen);
int sq_failure(struct store_be *, char *why, size_t len);
/* store_sqlite.c: the statements of enum stmt_id, prepared on s->db. */
int sq_prepare(struct store_be *s, char *err, size_t errlen);
void sq_close(struct store_be *s);
/* store_sqlite_read.c: readers off the loop */
int sq_open_reader(struct store_be *, struct store_be **out, char *err,
                   size_t errlen);
int sq_read_begin(struct store_be *);
void sq_read_end(struct store_be *);
void sq_read_interrupt(struct store_be *);
#define SQ_READ_OPS                                                 \
	.open_reader = sq_open_reader, .read_begin = sq_read_begin, \
	.read_end = sq_read_end, .read_interrupt = sq_read_interrupt

/* store_sqlite_engage.c */
int sq_engage_plan(struct store_be *, const char *id, int64_t age_ms,
                   int64_t due_ms);
int sq_engage_due(struct store_be *, const char *channel, int64_t now_ms,
                  unsigned limit,
                  void (*fn)(void *arg, const struct engage_row *), void *arg);
int sq_engage_next(struct store_be *, const char *channel, int64_t *due_ms);
int sq_engage_sample(struct store_be *, const struct engage_sample *);
int sq_audience_add(struct store_be *, const char *channel, int64_t taken_ms,
                    int64_t followers);
int sq_audience_last(struct store_be *, const char *channel, int64_t *taken_ms);
int sq_engage_stop(struct store_be *, const char *channel, int64_t since_ms,
                   const char *reason);
int sq_engage_stopped(struct store_be *,
                      void (*fn)(void *arg, const char *channel,
                                 int64_t since_ms, const char *reason),
                      void *arg);
int sq_engage_samples(struct store_be *, const char *id,
                      void (*fn)(void *arg, const struct engage_sample *),
                      void *arg);
int sq_engage_totals(struct store_be *, int64_t from_ms, int64_t to_ms,
                     void (*fn)(void *arg, const struct engage_total *),
                     void *arg);
int sq_audience_rows(struct store_be *, int64_t from_ms, int64_t to_ms,
                     void (*fn)(void *arg, const char *channel,
                                int64_t taken_ms, int64_t followers),
                     void *arg);
void sq_engage_close(struct store_be *);

/* store_pg.c: the postgresql backend's own operations. */
int pg_open(const char *dir, const char *url, unsigned flags,
            struct store_be **out, char *err, size_t errlen);
void pg_close(struct store_be *);
int pg_start(struct store_be *, uv_loop_t *,
             void (*done)(void *arg, uint64_t seq, int err), void *arg);
void pg_sync(struct store_be *, uint64_t seq);
int pg_wait(struct store_be *, uint64_t seq);
void pg_stop(struct store_be *);
void pg_counts_io(struct store_be *, uint64_t *syncs, uint64_t *checkpoints);
int pg_failure(struct store_be *, char *why, size_t len);
int64_t pg_fence(struct store_be *, const char *channel);
json_t *pg_cluster(struct store_be *);
int pg_standby(struct store_be *, char *works, size_t len);
int pg_clock_trusted(struct store_be *);
int pg_relay(struct store_be *, const struct store_peer *, const char *line,
             const char *channel, store_relay_fn *, void *arg);
int pg_relays_serve(struct store_be *, store_request_fn *, void *arg);
void pg_relay_answer(struct store_be *, int64_t id, const char *reply);
int pg_after_pull(struct store_be *, store_pulled_fn *, void *arg, int flags);
int pg_standby_start(struct store_be *, uv_loop_t *, void (*turn)(void *arg),
                     void *arg);
int pg_token_put(struct store_be *, const char *channel, const char *sealed,
                 int64_t saved_ms, const char *key_id, int replace,
                 store_token_done_fn *, void *arg);
int pg_tokens_read(struct store_be *, store_token_fn *, void *arg, char *why,
                   size_t len);
int pg_token_get(struct store_be *, const char *channel, store_token_fn *,
                 store_token_done_fn *, void *arg);
int pg_may_act(struct store_be *);
int pg_claim(struct store_be *, const struct store_claims *);
int pg_owns(struct store_be *, const char *channel);
int pg_claims_known(struct store_be *);
int pg_worker(struct store_be *);
int pg_shared(struct store_be *);
int pg_listed(struct store_be *, const char *channel);
int pg_fired_elsewhere(struct store_be *, const char *channel);
void pg_watch(struct store_be *, store_changed_fn *, void *arg);
json_t *pg_owned_elsewhere(struct store_be *);
int pg_kept_counts(struct store_be *, int64_t counts[DS_COUNT]);

#define SQ_ENGAGE_OPS                                                       \
	.engage_plan = sq_engage_plan, .engage_due = sq_engage_due,         \
	.engage_next = sq_engage_next, .engage_sample = sq_engage_sample,   \
	.audience_add = sq_audience_add, .audience_last = sq_audience_last, \
	.engage_stop = sq_engage_stop, .engage_stopped = sq_engage_stopped, \
	.engage_samples = sq_engage_samples,                                \
	.engage_totals = sq_engage_totals, .audience_rows = sq_audience_rows

#define SQ_PLANB_OPS                                            \
	.pause_add = sq_pause_add, .pause_end = sq_pause_end,   \
	.pause_resumed = sq_pause_resumed, .pauses = sq_pauses, \
	.held_rows = sq_held_rows, .held_count = sq_held_count, \
	.audit_add = sq_audit_add, .audit_rows = sq_audit_rows

#endif
