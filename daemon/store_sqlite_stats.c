/*
 * The SQLite backend's statistics: one range scan of the covering index
 * of migration 11 (deliveries_stats), rows added up as they pass
 * (stats.c). No table row is read and nothing is sorted: the cost is one
 * index entry per delivery due in the range, and it grows with every
 * column selected (SQLite extracts each one on every row, read or not),
 * so each grouping selects only its own key, and the lateness comes
 * computed.
 */
#include "stats.h"
#include "store_sqlite.h"

#define STATS_SELECT                                                          \
	"SELECT state, attempts, published_ms - coalesce(meant_ms, due_ms), " \
	"last_error"
#define STATS_RANGE " FROM deliveries WHERE due_ms >= ?1 AND due_ms < ?2"

/* Per grouping (enum stats_by): column 4 is its key. */
static const char *const sql_stats[] = {
        [STATS_BY_NONE] = STATS_SELECT STATS_RANGE,
        [STATS_BY_CHANNEL] = STATS_SELECT ", channel" STATS_RANGE,
        [STATS_BY_CAMPAIGN] = STATS_SELECT ", campaign" STATS_RANGE,
        [STATS_BY_DAY] = STATS_SELECT ", due_ms" STATS_RANGE,
        [STATS_BY_WEEK] = STATS_SELECT ", due_ms" STATS_RANGE,
};

/* The state named s; most rows are published, so that first. */
static int state_of(const char *s)
{
	if (s && strcmp(s, "published") == 0)
		return DS_PUBLISHED;
	return state_parse(s);
}

/* The row at st, reading only the columns its state needs. */
static void stats_row_read(sqlite3_stmt *st, enum stats_by by,
                           struct stats_row *row)
{
	*row = (struct stats_row){.state = state_of(col_text(st, 0))};
	if (by == STATS_BY_CHANNEL)
		row->channel = col_text(st, 4);
	else if (by == STATS_BY_CAMPAIGN)
		row->campaign = col_text(st, 4);
	else if (by == STATS_BY_DAY || by == STATS_BY_WEEK)
		row->due_ms = sqlite3_column_int64(st, 4);
	if (row->state == DS_PUBLISHED) {
		row->attempts = (unsigned)sqlite3_column_int(st, 1);
		row->timed = sqlite3_column_type(st, 2) != SQLITE_NULL;
		row->late_ms = sqlite3_column_int64(st, 2);
	} else if (row->state == DS_FAILED || row->state == DS_UNKNOWN ||
	           row->state == DS_MISSED) {
		row->last_error = col_text(st, 3);
	}
}

int sq_stats(struct store_be *s, const struct stats_query *q,
             struct stats_result *r)
{
	struct stats_row row;
	sqlite3_stmt *st;
	int rc, added = 0;

	if ((unsigned)q->by >= sizeof(sql_stats) / sizeof(sql_stats[0]) ||
	    sqlite3_prepare_v2(s->db, sql_stats[q->by], -1, &st, NULL) !=
	            SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, q->since_ms);
	sqlite3_bind_int64(st, 2, q->until_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		stats_row_read(st, q->by, &row);
		if ((added = stats_add(r, &row)) < 0)
			break;
	}
	sqlite3_finalize(st);
	if (added < 0)
		return added;
	return rc == SQLITE_DONE ? 0 : -EIO;
}
