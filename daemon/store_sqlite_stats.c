/*
 * The SQLite backend's statistics: one range scan of the covering index
 * of migration 11 (deliveries_stats), rows added up as they pass
 * (stats.c). No table row is read and nothing is sorted: the cost is one
 * index entry per delivery due in the range.
 */
#include "stats.h"
#include "store_sqlite.h"

/* Columns in the index's order: SQLite reads them from the index alone. */
static const char sql_stats[] =
        "SELECT due_ms, state, channel, campaign, attempts, meant_ms, "
        "published_ms, last_error FROM deliveries "
        "WHERE due_ms >= ?1 AND due_ms < ?2";

/* The row at st, reading only the columns this query needs. */
static void stats_row_read(sqlite3_stmt *st, enum stats_by by,
                           struct stats_row *row)
{
	row->due_ms = sqlite3_column_int64(st, 0);
	row->state = state_parse(col_text(st, 1));
	row->channel = by == STATS_BY_CHANNEL ? col_text(st, 2) : NULL;
	row->campaign = by == STATS_BY_CAMPAIGN ? col_text(st, 3) : NULL;
	row->attempts = 0;
	row->meant_ms = row->published_ms = -1;
	row->last_error = NULL;
	if (row->state == DS_PUBLISHED) {
		row->attempts = (unsigned)sqlite3_column_int(st, 4);
		row->meant_ms = col_int(st, 5, -1);
		row->published_ms = col_int(st, 6, -1);
	} else if (row->state == DS_FAILED || row->state == DS_UNKNOWN ||
	           row->state == DS_MISSED) {
		row->last_error = col_text(st, 7);
	}
}

int sq_stats(struct store_be *s, const struct stats_query *q,
             struct stats_result *r)
{
	struct stats_row row;
	sqlite3_stmt *st;
	int rc, added = 0;

	if (sqlite3_prepare_v2(s->db, sql_stats, -1, &st, NULL) != SQLITE_OK)
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
