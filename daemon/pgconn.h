/*
 * One PostgreSQL connection driven by a libuv loop, never blocking it:
 * libpq's non-blocking connect (host names resolved with uv_getaddrinfo
 * first, since libpq would resolve them with a blocking call), statements
 * pipelined in groups that each run as one transaction, notifications,
 * and reconnection with backoff when the server goes away. No cancel
 * request is ever sent (PQcancel blocks in libpq 15): a statement that
 * gets no answer within result_timeout_ms drops the connection instead.
 *
 * The owner logs: pgconn only says what happened, through on_up and
 * on_down, once per change.
 */
#ifndef SMMD_PGCONN_H
#define SMMD_PGCONN_H

#include <stdint.h>

#include <libpq-fe.h>
#include <uv.h>

struct pgconn;

struct pgconn_opts {
	const char *conninfo; /* libpq keywords or a postgresql:// URI */
	const char *name;     /* application_name, unless conninfo has one */
	/* Connected, pipeline ready: (re)issue LISTENs and session state. */
	void (*on_up)(void *arg);
	/*
	 * A connection attempt failed or an established one was lost; the
	 * next attempt follows after a backoff. why has no password in it.
	 */
	void (*on_down)(void *arg, const char *why);
	void (*on_notify)(void *arg, const char *channel, const char *payload);
	/* The server's notices and warnings, one line each; NULL drops them
	 * (libpq would print them on stderr). Called from inside libpq:
	 * queue nothing from it (closing is fine). */
	void (*on_notice)(void *arg, const char *message);
	void *arg;
	/* 0: defaults (100 ms .. 5 s; 10 s for a result; 5 s to connect). */
	int64_t backoff_min_ms, backoff_max_ms;
	int64_t result_timeout_ms;
	int64_t connect_timeout_ms;
};

/*
 * A statement's result. res is the result when the statement ran (owned by
 * pgconn, cleared after the call), else NULL and err says why: its own
 * error, "aborted" (an earlier statement of its group failed), or the
 * connection was lost with it in flight, when it may or may not have run.
 * With res set, err is NULL.
 */
typedef void pgconn_result_fn(void *arg, const PGresult *res, const char *err);
/* A group's end: err NULL when the transaction committed. */
typedef void pgconn_done_fn(void *arg, const char *err);

/* A result nobody reads: the group's done says whether it went through. */
void pgconn_ignore(void *arg, const PGresult *res, const char *err);

/*
 * Start connecting. The conninfo is checked here: 0, or -1 with err set.
 * Connecting, and every reconnection, then runs on the loop.
 */
int pgconn_start(uv_loop_t *, const struct pgconn_opts *, struct pgconn **out,
                 char *err, size_t errlen);
/*
 * Stop: whatever is in flight gets "closing" (may or may not have run),
 * and the memory goes once the loop has closed the handles.
 */
void pgconn_close(struct pgconn *);

/* 1 when statements can be queued. */
int pgconn_up(const struct pgconn *);

/*
 * Queue a statement in the open group; params are text, NULL is SQL NULL.
 * -ENOTCONN while not connected (wait for on_up), -ENOMEM, -EIO when
 * libpq refuses it (the connection is then dropped and reconnected).
 * Nothing is sent before pgconn_sync.
 */
int pgconn_query(struct pgconn *, const char *sql, int nparams,
                 const char *const *params, pgconn_result_fn *, void *arg);
/*
 * The same, for a statement sent many times: the server parses and plans
 * it once per connection (at most 128 texts are kept; past that, as
 * pgconn_query). The first use prepares it in the open group: if a
 * statement before it in that group fails, the prepare does not run,
 * nor does any group after that uses it before its failure is known.
 * A server that lost one of them (DEALLOCATE, DISCARD, a pooler in
 * transaction mode) gets the connection dropped and made again.
 */
int pgconn_query_prepared(struct pgconn *, const char *sql, int nparams,
                          const char *const *params, pgconn_result_fn *,
                          void *arg);
/*
 * End the group and send it: its statements run in one transaction,
 * after the groups sent before it, and done is called after each of its
 * statements' callbacks. Errors as pgconn_query's.
 */
int pgconn_sync(struct pgconn *, pgconn_done_fn *, void *arg);

/*
 * Drop the connection and start over (from the loop): for a caller that
 * queued part of a group and cannot finish it, so that nothing of it is
 * ever committed by a later sync. Everything queued is told.
 */
void pgconn_reset(struct pgconn *, const char *why);

/* Statements and groups queued and not yet answered. */
size_t pgconn_pending(const struct pgconn *);
/* Statements queued on this connection since it started (benchmarks). */
uint64_t pgconn_statements(const struct pgconn *);

#endif
