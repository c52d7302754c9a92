/*
 * The SQLite backend's statistics: one range scan of the covering index
 * of migrations 11 and 15 (deliveries_stats), rows added up as they pass
 * (stats.c). No table row is read and nothing is sorted: the cost is one
 * index entry per delivery due in the range. What each entry costs is
 * SQLite's own work, so it is kept small: only the columns the grouping
 * needs, the lateness kept computed (late_ms), and the rows handed to
 * stats_add from inside the scan by an aggregate function rather than
 * returned one sqlite3_step at a time (a third less).
 */
#include "stats.h"
#include "store_sqlite.h"

#define FEED_NAME "smm_stats_feed"
#define FEED(key)                                                         \
	"SELECT " FEED_NAME "(state, attempts, late_ms, last_error, " key \
	") FROM deliveries WHERE due_ms >= ?1 AND due_ms < ?2"

/* Per grouping (enum stats_by): the last argument is its key. */
static const char *const sql_stats[] = {
        [STATS_BY_NONE] = FEED("NULL"),
        [STATS_BY_CHANNEL] = FEED("channel"),
        [STATS_BY_CAMPAIGN] = FEED("campaign"),
        [STATS_BY_DAY] = FEED("due_ms"),
        [STATS_BY_WEEK] = FEED("due_ms"),
};

/* The query being fed: sq_stats sets it for the scan's duration. */
struct stats_feed {
	struct stats_result *r;
	enum stats_by by;
	int err;
};

/* The state named s; most rows are published, so that first. */
static int state_of(const char *s)
{
	if (s && strcmp(s, "published") == 0)
		return DS_PUBLISHED;
	return state_parse(s);
}

/* One index entry: (state, attempts, late_ms, last_error, key). */
static void feed_step(sqlite3_context *cx, int argc, sqlite3_value **v)
{
	struct store_be *s = sqlite3_user_data(cx);
	struct stats_feed *f = s->stats_feed;
	struct stats_row row = {
	        .state = state_of((const char *)sqlite3_value_text(v[0]))};

	if (f == NULL || argc != 5 || f->err < 0)
		return;
	if (f->by == STATS_BY_CHANNEL)
		row.channel = (const char *)sqlite3_value_text(v[4]);
	else if (f->by == STATS_BY_CAMPAIGN)
		row.campaign = (const char *)sqlite3_value_text(v[4]);
	else if (f->by == STATS_BY_DAY || f->by == STATS_BY_WEEK)
		row.due_ms = sqlite3_value_int64(v[4]);
	if (row.state == DS_PUBLISHED) {
		row.attempts = (unsigned)sqlite3_value_int(v[1]);
		row.timed = sqlite3_value_type(v[2]) != SQLITE_NULL;
		row.late_ms = sqlite3_value_int64(v[2]);
	} else if (row.state == DS_FAILED || row.state == DS_UNKNOWN ||
	           row.state == DS_MISSED) {
		row.last_error = (const char *)sqlite3_value_text(v[3]);
	}
	if ((f->err = stats_add(f->r, &row)) < 0)
		sqlite3_result_error_nomem(cx);
}

static void feed_final(sqlite3_context *cx)
{
	sqlite3_result_null(cx);
}

int sq_stats(struct store_be *s, const struct stats_query *q,
             struct stats_result *r)
{
	struct stats_feed f = {.r = r, .by = q->by};
	sqlite3_stmt *st;
	int rc;

	if ((unsigned)q->by >= sizeof(sql_stats) / sizeof(sql_stats[0]))
		return -EINVAL;
	/* Once per connection: redefining it would expire every statement. */
	if (!s->stats_fn) {
		if (sqlite3_create_function_v2(s->db, FEED_NAME, 5,
		                               SQLITE_UTF8 | SQLITE_DIRECTONLY,
		                               s, NULL, feed_step, feed_final,
		                               NULL) != SQLITE_OK)
			return -EIO;
		s->stats_fn = 1;
	}
	if (sqlite3_prepare_v2(s->db, sql_stats[q->by], -1, &st, NULL) !=
	    SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, q->since_ms);
	sqlite3_bind_int64(st, 2, q->until_ms);
	s->stats_feed = &f;
	rc = sqlite3_step(st);
	s->stats_feed = NULL;
	sqlite3_finalize(st);
	if (f.err < 0)
		return f.err;
	return rc == SQLITE_ROW ? 0 : -EIO;
}
