/*
 * The SQLite backend's side of engagement (migration 11 in
 * store_sqlite.c): planning each published delivery's samples, keeping
 * every sample, audiences, and the channels whose polling a refused token
 * stopped. The fetcher runs these often, so they are prepared once, on
 * first use, and kept until the store closes.
 */
#include "store_sqlite.h"

enum engage_stmt {
	E_PLAN,
	E_DUE,
	E_NEXT,
	E_SAMPLE,
	E_AUDIENCE_ADD,
	E_AUDIENCE_LAST,
	E_COUNT
};

struct sq_engage {
	sqlite3_stmt *st[E_COUNT];
};

static const char *const engage_sql[E_COUNT] = {
        [E_PLAN] = "UPDATE deliveries SET metrics_age_ms = ?2, "
                   "metrics_next_ms = ?3 WHERE id = ?1",
        [E_DUE] = "SELECT d.id, d.post_id, d.webhook_id, d.remote_id, "
                  "d.metrics_age_ms, d.metrics_next_ms FROM deliveries d "
                  "WHERE d.channel = ?1 AND d.metrics_next_ms IS NOT NULL "
                  "AND d.metrics_next_ms <= ?2 "
                  "ORDER BY d.metrics_next_ms LIMIT ?3",
        [E_NEXT] = "SELECT min(metrics_next_ms) FROM deliveries "
                   "WHERE channel = ?1 AND metrics_next_ms IS NOT NULL",
        [E_SAMPLE] = "INSERT OR REPLACE INTO engagement (delivery_id, "
                     "age_ms, taken_ms, likes, shares, comments, quotes, "
                     "views) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        [E_AUDIENCE_ADD] = "INSERT OR REPLACE INTO audience (channel, "
                           "taken_ms, followers) VALUES (?1, ?2, ?3)",
        [E_AUDIENCE_LAST] = "SELECT max(taken_ms) FROM audience "
                            "WHERE channel = ?1",
};

/* The cached statement id, reset; NULL when it cannot be prepared. */
static sqlite3_stmt *engage_stmt(struct store_be *s, enum engage_stmt id)
{
	sqlite3_stmt *st;

	if (s->engage == NULL &&
	    (s->engage = calloc(1, sizeof(*s->engage))) == NULL)
		return NULL;
	if ((st = s->engage->st[id]) == NULL) {
		if (sqlite3_prepare_v3(s->db, engage_sql[id], -1,
		                       SQLITE_PREPARE_PERSISTENT, &st,
		                       NULL) != SQLITE_OK) {
			note_failure(s);
			return NULL;
		}
		s->engage->st[id] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

void sq_engage_close(struct store_be *s)
{
	if (s->engage == NULL)
		return;
	for (int i = 0; i < E_COUNT; i++)
		sqlite3_finalize(s->engage->st[i]);
	free(s->engage);
	s->engage = NULL;
}

static void bind_count(sqlite3_stmt *st, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

/* Samples and plans: losing one to a crash means reading it again. */
int sq_engage_plan(struct store_be *s, const char *id, int64_t age_ms,
                   int64_t due_ms)
{
	sqlite3_stmt *st;

	if (begin(s, LOSSABLE) < 0 || (st = engage_stmt(s, E_PLAN)) == NULL)
		return -EIO;
	bind_text(st, 1, id);
	bind_count(st, 2, age_ms);
	bind_count(st, 3, age_ms < 0 ? -1 : due_ms);
	return exec_done(s, st);
}

int sq_engage_due(struct store_be *s, const char *channel, int64_t now_ms,
                  unsigned limit,
                  void (*fn)(void *arg, const struct engage_row *), void *arg)
{
	sqlite3_stmt *st = engage_stmt(s, E_DUE);
	int r;

	if (st == NULL)
		return -EIO;
	bind_text(st, 1, channel);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_int(st, 3, (int)limit);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, &(struct engage_row){
		                .id = col_text(st, 0),
		                .post_id = col_text(st, 1),
		                .webhook_id = col_text(st, 2),
		                .remote_id = col_text(st, 3),
		                .age_ms = col_int(st, 4, 0),
		                .due_ms = col_int(st, 5, 0),
		        });
	if (r != SQLITE_DONE)
		note_failure(s);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

/* One integer (NULL: -1) from a one-row query on channel. */
static int one_int(struct store_be *s, enum engage_stmt id, const char *channel,
                   int64_t *out)
{
	sqlite3_stmt *st = engage_stmt(s, id);
	int r;

	if (st == NULL)
		return -EIO;
	bind_text(st, 1, channel);
	if ((r = sqlite3_step(st)) == SQLITE_ROW)
		*out = col_int(st, 0, -1);
	else
		note_failure(s);
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : -EIO;
}

int sq_engage_next(struct store_be *s, const char *channel, int64_t *due_ms)
{
	return one_int(s, E_NEXT, channel, due_ms);
}

int sq_audience_last(struct store_be *s, const char *channel, int64_t *taken_ms)
{
	return one_int(s, E_AUDIENCE_LAST, channel, taken_ms);
}

int sq_engage_sample(struct store_be *s, const struct engage_sample *e)
{
	sqlite3_stmt *st;

	if (begin(s, LOSSABLE) < 0 || (st = engage_stmt(s, E_SAMPLE)) == NULL)
		return -EIO;
	bind_text(st, 1, e->id);
	sqlite3_bind_int64(st, 2, e->age_ms);
	sqlite3_bind_int64(st, 3, e->taken_ms);
	bind_count(st, 4, e->likes);
	bind_count(st, 5, e->shares);
	bind_count(st, 6, e->comments);
	bind_count(st, 7, e->quotes);
	bind_count(st, 8, e->views);
	return exec_done(s, st);
}

int sq_audience_add(struct store_be *s, const char *channel, int64_t taken_ms,
                    int64_t followers)
{
	sqlite3_stmt *st;

	if (begin(s, LOSSABLE) < 0 ||
	    (st = engage_stmt(s, E_AUDIENCE_ADD)) == NULL)
		return -EIO;
	bind_text(st, 1, channel);
	sqlite3_bind_int64(st, 2, taken_ms);
	sqlite3_bind_int64(st, 3, followers);
	return exec_done(s, st);
}

/* Rare: prepared when used. */
static int exec_once(struct store_be *s, const char *sql, const char *channel,
                     int64_t since_ms, const char *reason)
{
	sqlite3_stmt *st;

	if (begin(s, DURABLE) < 0)
		return -EIO;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		note_failure(s);
		return -EIO;
	}
	bind_text(st, 1, channel);
	if (reason) {
		sqlite3_bind_int64(st, 2, since_ms);
		bind_text(st, 3, reason);
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		note_failure(s);
		sqlite3_finalize(st);
		return -EIO;
	}
	sqlite3_finalize(st);
	return 0;
}

int sq_engage_stop(struct store_be *s, const char *channel, int64_t since_ms,
                   const char *reason)
{
	if (reason == NULL)
		return exec_once(
		        s, "DELETE FROM engage_stopped WHERE channel = ?1",
		        channel, since_ms, NULL);
	return exec_once(s,
	                 "INSERT OR REPLACE INTO engage_stopped (channel, "
	                 "since_ms, reason) VALUES (?1, ?2, ?3)",
	                 channel, since_ms, reason);
}

int sq_engage_stopped(struct store_be *s,
                      void (*fn)(void *arg, const char *channel,
                                 int64_t since_ms, const char *reason),
                      void *arg)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT channel, since_ms, reason FROM "
	                       "engage_stopped ORDER BY channel",
	                       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, col_text(st, 0), sqlite3_column_int64(st, 1),
		   col_text(st, 2));
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

int sq_engage_samples(struct store_be *s, const char *id,
                      void (*fn)(void *arg, const struct engage_sample *),
                      void *arg)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT age_ms, taken_ms, likes, shares, "
	                       "comments, quotes, views FROM engagement "
	                       "WHERE delivery_id = ?1 ORDER BY age_ms",
	                       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	bind_text(st, 1, id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, &(struct engage_sample){
		                .id = id,
		                .age_ms = sqlite3_column_int64(st, 0),
		                .taken_ms = sqlite3_column_int64(st, 1),
		                .likes = col_int(st, 2, -1),
		                .shares = col_int(st, 3, -1),
		                .comments = col_int(st, 4, -1),
		                .quotes = col_int(st, 5, -1),
		                .views = col_int(st, 6, -1),
		        });
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

/*
 * Published deliveries in the range with their latest sample. Published
 * is when the attempt that published started; the range is read through
 * the due-time index: a delivery goes out after it is due, so one
 * published in the range was due before its end, and (store.h) at most
 * ENGAGE_DUE_SLACK_MS before its start.
 */
int sq_engage_totals(struct store_be *s, int64_t from_ms, int64_t to_ms,
                     void (*fn)(void *arg, const struct engage_total *),
                     void *arg)
{
	static const char sql[] =
	        "SELECT d.id, d.channel, p.campaign, coalesce(d.text, p.text),"
	        " d.remote_url, a.started_ms, e.taken_ms, e.age_ms, e.likes,"
	        " e.shares, e.comments, e.quotes, e.views "
	        "FROM deliveries d JOIN posts p ON p.id = d.post_id "
	        "JOIN attempts a ON a.delivery_id = d.id AND a.n = d.attempts "
	        "LEFT JOIN engagement e ON e.delivery_id = d.id AND e.age_ms ="
	        " (SELECT max(age_ms) FROM engagement WHERE delivery_id = d.id) "
	        "WHERE d.due_ms >= ?3 AND d.due_ms < ?2 "
	        "AND d.state = 'published' "
	        "AND a.started_ms >= ?1 AND a.started_ms < ?2 "
	        "ORDER BY a.started_ms, d.id";
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	sqlite3_bind_int64(st, 3, from_ms - ENGAGE_DUE_SLACK_MS);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, &(struct engage_total){
		                .id = col_text(st, 0),
		                .channel = col_text(st, 1),
		                .campaign = col_text(st, 2),
		                .text = col_text(st, 3),
		                .remote_url = col_text(st, 4),
		                .published_ms = sqlite3_column_int64(st, 5),
		                .taken_ms = col_int(st, 6, -1),
		                .age_ms = col_int(st, 7, -1),
		                .likes = col_int(st, 8, -1),
		                .shares = col_int(st, 9, -1),
		                .comments = col_int(st, 10, -1),
		                .quotes = col_int(st, 11, -1),
		                .views = col_int(st, 12, -1),
		        });
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

int sq_audience_rows(struct store_be *s, int64_t from_ms, int64_t to_ms,
                     void (*fn)(void *arg, const char *channel,
                                int64_t taken_ms, int64_t followers),
                     void *arg)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db,
	                       "SELECT channel, taken_ms, followers FROM "
	                       "audience WHERE taken_ms >= ?1 AND taken_ms < ?2"
	                       " ORDER BY channel, taken_ms",
	                       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, col_text(st, 0), sqlite3_column_int64(st, 1),
		   sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}
