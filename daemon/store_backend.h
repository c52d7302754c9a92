/*
 * What a store backend provides (OpenSMTPD's queue_backend and table
 * backends): store.c is the front end every caller uses, and calls one of
 * these. A backend is one file defining its own struct store_be and one
 * const struct store_backend, listed in store.c's store_backends[]. Optional
 * operations are NULL where a backend has nothing to do.
 *
 * Writes are made during a loop turn, in the backend's own transaction;
 * commit ends it at the end of the turn without waiting for the disk, and
 * the front end numbers the committed batches. sync asks for every batch
 * up to a number to be made durable and the backend says so through the
 * done callback given to start; before start (and at shutdown) wait does
 * the same in place. Reads see the turn's own writes at once.
 */
#ifndef SMMD_STORE_BACKEND_H
#define SMMD_STORE_BACKEND_H

#include "store.h"

struct store_be;

/* What commit did. */
#define STORE_COMMIT_NOTHING  0 /* no transaction was open */
#define STORE_COMMIT_LOSSABLE 1 /* only writes recovery can do without */
#define STORE_COMMIT_DURABLE  2 /* writes that must be synced */

struct store_backend {
	const char *name;
	/*
	 * dir: the state directory; url: where the data lives when not
	 * there (postgresql://...), else NULL; flags: STORE_OPEN_*.
	 */
	int (*open)(const char *dir, const char *url, unsigned flags,
	            struct store_be **out, char *err, size_t errlen);
	void (*close)(struct store_be *);

	/* Durability: the contract above. */
	int (*commit)(struct store_be *);    /* STORE_COMMIT_*, or -1 */
	void (*rollback)(struct store_be *); /* give the turn's writes up */
	int (*start)(struct store_be *, uv_loop_t *,
	             void (*done)(void *arg, uint64_t seq, int err), void *arg);
	void (*sync)(struct store_be *, uint64_t seq);
	int (*wait)(struct store_be *, uint64_t seq);
	void (*stop)(struct store_be *);
	void (*counts_io)(struct store_be *, uint64_t *syncs,
	                  uint64_t *checkpoints); /* optional */

	/* The operations of store.h, with the same contracts. */
	int (*add_post)(struct store_be *, const struct post_new *,
	                int64_t now_ms);
	int (*delivery_load)(struct store_be *, const char *id,
	                     struct delivery_rec *);
	int (*mark_publishing)(struct store_be *, const char *id, int64_t row,
	                       unsigned n, int64_t started_ms);
	int (*record_result)(struct store_be *, const char *id,
	                     const struct attempt_result *, enum delivery_state,
	                     int64_t next_ms, const char *last_error,
	                     const char *remote_id, const char *remote_url);
	int (*transition)(struct store_be *, const struct transition *,
	                  struct moved *);
	int (*recover)(struct store_be *, int64_t now_ms,
	               int (*decide)(void *arg, const char *id,
	                             const char *channel),
	               void *arg, json_t *unknown);
	int (*each_pending)(struct store_be *,
	                    void (*fn)(void *arg, const char *id,
	                               int64_t due_ms),
	                    void *arg);
	int (*list_rows)(struct store_be *, int state, unsigned limit,
	                 void (*fn)(void *arg, const struct delivery_row *),
	                 void *arg);
	int (*show_rows)(struct store_be *, const char *id,
	                 const struct show_rows *);
	int (*awaiting_rows)(struct store_be *, unsigned limit,
	                     void (*fn)(void *arg, const struct delivery_row *),
	                     void *arg);
	int (*approve)(struct store_be *, const char *id,
	               const struct approval *,
	               void (*fn)(void *arg, const struct approval_row *),
	               void *arg);
	int (*counts)(struct store_be *, int64_t counts[DS_COUNT]);
	int (*post_exists)(struct store_be *, const char *id);
	int (*slot_taken)(struct store_be *, const char *channel,
	                  int64_t due_ms, char *by, size_t bylen);
	int (*scheduled_rows)(struct store_be *, int only_moved,
	                      void (*fn)(void *arg,
	                                 const struct scheduled_row *),
	                      void *arg);
	/* store_kept_counts; optional (1 when kept, 0 when not). */
	int (*kept_counts)(struct store_be *, int64_t counts[DS_COUNT]);
	/* optional: counts kept at a clean close (see store_counts_at_open) */
	int (*take_counts)(struct store_be *, int64_t counts[DS_COUNT]);
	int (*keep_counts)(struct store_be *, const int64_t counts[DS_COUNT]);
	int (*agenda_rows)(struct store_be *, const struct agenda_query *,
	                   void (*fn)(void *arg, const struct delivery_row *),
	                   void *arg, int *truncated);
	int (*plan_rows)(struct store_be *, int64_t from_ms, int64_t to_ms,
	                 void (*fn)(void *arg, const struct plan_row *),
	                 void *arg);
	int (*due_rows)(struct store_be *, int64_t from_ms, int64_t to_ms,
	                void (*fn)(void *arg, const struct due_row *),
	                void *arg);
	/* id: that one only; NULL: every calendar delivery. */
	int (*calendar_rows)(struct store_be *, const char *id,
	                     void (*fn)(void *arg, const struct cal_row *),
	                     void *arg);
	int (*calendar_post)(struct store_be *, const struct cal_put *,
	                     int64_t now_ms);
	int (*calendar_put)(struct store_be *, const struct cal_put *, int add,
	                    int reschedule, int64_t now_ms);
	int (*bulk_begin)(struct store_be *); /* optional */
	int (*bulk_end)(struct store_be *);   /* optional */
	int (*pause_add)(struct store_be *, const struct pause_rec *,
	                 int64_t *id);
	int (*pause_end)(struct store_be *, int64_t id, int64_t now_ms,
	                 const char *resumed_as);
	int (*pause_resumed)(struct store_be *, int64_t id, char *as,
	                     size_t len);
	int (*pauses)(struct store_be *,
	              void (*fn)(void *arg, const struct pause_rec *),
	              void *arg);
	int (*held_rows)(struct store_be *, int64_t pause_id,
	                 void (*fn)(void *arg, const struct held_row *),
	                 void *arg);
	int64_t (*held_count)(struct store_be *, int64_t pause_id);
	int (*audit_add)(struct store_be *, const struct audit_rec *);
	int (*audit_rows)(struct store_be *, int64_t since_ms,
	                  void (*fn)(void *arg, const struct audit_rec *),
	                  void *arg);
	/* Feed each delivery due in q's range to stats_add (stats.h). */
	int (*stats)(struct store_be *, const struct stats_query *,
	             struct stats_result *);
	/*
	 * A consistent copy of the store into the new file dest, checked.
	 * Called from a worker thread: it must use connections of its own.
	 * Optional. 0, or -1 with err set.
	 */
	int (*backup)(struct store_be *, const char *dest, char *err,
	              size_t errlen);
	/* Engagement (store.h); all optional together. */
	int (*engage_plan)(struct store_be *, const char *id, int64_t age_ms,
	                   int64_t due_ms);
	int (*engage_due)(struct store_be *, const char *channel,
	                  int64_t now_ms, unsigned limit,
	                  void (*fn)(void *arg, const struct engage_row *),
	                  void *arg);
	int (*engage_next)(struct store_be *, const char *channel,
	                   int64_t *due_ms);
	int (*engage_sample)(struct store_be *, const struct engage_sample *);
	int (*audience_add)(struct store_be *, const char *channel,
	                    int64_t taken_ms, int64_t followers);
	int (*audience_last)(struct store_be *, const char *channel,
	                     int64_t *taken_ms);
	int (*engage_stop)(struct store_be *, const char *channel,
	                   int64_t since_ms, const char *reason);
	int (*engage_stopped)(struct store_be *,
	                      void (*fn)(void *arg, const char *channel,
	                                 int64_t since_ms, const char *reason),
	                      void *arg);
	int (*engage_samples)(struct store_be *, const char *id,
	                      void (*fn)(void *arg,
	                                 const struct engage_sample *),
	                      void *arg);
	int (*engage_totals)(struct store_be *, int64_t from_ms, int64_t to_ms,
	                     void (*fn)(void *arg, const struct engage_total *),
	                     void *arg);
	int (*audience_rows)(struct store_be *, int64_t from_ms, int64_t to_ms,
	                     void (*fn)(void *arg, const char *channel,
	                                int64_t taken_ms, int64_t followers),
	                     void *arg);
	/*
	 * Reads off the loop (optional together; store_read_begin in
	 * store.h). open_reader opens a second, read-only handle on the same
	 * data, called from a worker thread: the read operations above work
	 * on it, from one thread at a time, never the loop's, and it is
	 * closed with close. read_begin starts one snapshot of what is
	 * committed, kept until read_end. read_interrupt, from any thread
	 * while the handle is in use, makes what it runs fail soon (-EIO).
	 * A reader must never hold the writer up: it takes no lock a commit
	 * or a checkpoint waits for (SQLite: WAL readers).
	 */
	int (*open_reader)(struct store_be *, struct store_be **out, char *err,
	                   size_t errlen);
	int (*read_begin)(struct store_be *);
	void (*read_end)(struct store_be *);
	void (*read_interrupt)(struct store_be *);
	/* store_fence's token; optional (none: 0). */
	int64_t (*fence)(struct store_be *, const char *channel);
	/* store_cluster_json's object; optional (none: NULL). */
	json_t *(*cluster)(struct store_be *);
	/* store_relay, store_relays_serve, store_relay_answer; optional. */
	int (*relay)(struct store_be *, const struct store_peer *,
	             const char *line, const char *channel, store_relay_fn *,
	             void *arg);
	int (*relays_serve)(struct store_be *, store_request_fn *, void *arg);
	void (*relay_answer)(struct store_be *, int64_t id, const char *reply);
	/* store_after_pull; optional (-ENOTSUP). */
	int (*after_pull)(struct store_be *, store_pulled_fn *, void *arg,
	                  int flags);
	/* store_token_put and store_tokens_read; optional. */
	int (*token_put)(struct store_be *, const char *channel,
	                 const char *sealed, int64_t saved_ms,
	                 const char *key_id, int replace, store_token_done_fn *,
	                 void *arg);
	int (*tokens_read)(struct store_be *, store_token_fn *, void *arg,
	                   char *why, size_t len);
	int (*token_get)(struct store_be *, const char *channel,
	                 store_token_fn *, store_token_done_fn *, void *arg);
	/* store_claim and store_owns; optional (every channel is ours). */
	int (*claim)(struct store_be *, const struct store_claims *);
	int (*owns)(struct store_be *, const char *channel);
	int (*claims_known)(struct store_be *); /* optional (always) */
	/* store_may_act; optional (always). */
	int (*may_act)(struct store_be *);
	/* store_clock_trusted; optional (always). */
	int (*clock_trusted)(struct store_be *);
	/* store_standby and store_standby_start; optional (never one). */
	int (*standby)(struct store_be *, char *works, size_t len);
	int (*standby_start)(struct store_be *, uv_loop_t *,
	                     void (*turn)(void *arg), void *arg);
	/* store_owned_elsewhere; optional (none). */
	json_t *(*owned_elsewhere)(struct store_be *);
	/* store_worker, store_watch, store_shared; optional (never one,
	 * nothing, never). */
	int (*worker)(struct store_be *);
	int (*shared)(struct store_be *);
	int (*listed)(struct store_be *, const char *channel); /* optional */
	/* store_fired_elsewhere; optional (never). */
	int (*fired_elsewhere)(struct store_be *, const char *channel);
	void (*watch)(struct store_be *, store_changed_fn *, void *arg);
	/* Why the last operation failed (enum store_failure), in words. */
	int (*failure)(struct store_be *, char *why, size_t len);
};

/* Every compiled-in backend, NULL-terminated; the first is the default. */
extern const struct store_backend *const store_backends[];

/* The backend called name, or NULL. */
const struct store_backend *store_backend_find(const char *name);

extern const struct store_backend store_backend_sqlite;
#ifdef HAVE_LIBPQ
extern const struct store_backend store_backend_postgresql;
#endif

#endif
