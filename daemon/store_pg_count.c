/*
 * The view's deliveries counted per state as they change (pg_kept_counts),
 * whoever changes them: this node's own writes, and what pulls and
 * read-backs bring in from the other nodes, which move deliveries without
 * an event here. Without it, the working node's metrics and status line
 * counted a worker's posts as scheduled until its next start, and a count
 * on demand scans the whole view on the loop.
 *
 * Temporary triggers (this connection's alone, never in the file) call
 * smmd_count_moved(old state, new state) on each row change. A rollback
 * undoes changes they counted: the next read counts the view again.
 */
#include <stdio.h>
#include <string.h>

#include "store_pg_impl.h"

static const char triggers_sql[] =
        "CREATE TEMP TRIGGER smmd_count_in AFTER INSERT ON main.deliveries "
        "BEGIN SELECT smmd_count_moved(NULL, new.state); END;"
        "CREATE TEMP TRIGGER smmd_count_out AFTER DELETE ON main.deliveries "
        "BEGIN SELECT smmd_count_moved(old.state, NULL); END;"
        "CREATE TEMP TRIGGER smmd_count_moved AFTER UPDATE OF state ON "
        "main.deliveries WHEN old.state IS NOT new.state "
        "BEGIN SELECT smmd_count_moved(old.state, new.state); END;";

static void count_moved(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct pgstore *ps = sqlite3_user_data(ctx);
	int from = -1, to = -1;

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_NULL)
		from = state_parse((const char *)sqlite3_value_text(argv[0]));
	if (sqlite3_value_type(argv[1]) != SQLITE_NULL)
		to = state_parse((const char *)sqlite3_value_text(argv[1]));
	if (from >= 0)
		ps->view_counts[from]--;
	if (to >= 0)
		ps->view_counts[to]++;
	sqlite3_result_null(ctx);
}

/* Called by SQLite inside the rollback: it cannot count here. Pulled
 * rows the transaction held went too (pgrepl_rolled_back). */
static void on_rollback(void *arg)
{
	struct pgstore *ps = arg;

	ps->recount = 1;
	if (ps->repl)
		pgrepl_rolled_back(ps->repl);
}

void pg_count_undone(void *arg)
{
	struct pgstore *ps = arg;

	ps->recount = 1;
}

int pg_count_start(struct pgstore *ps, char *err, size_t errlen)
{
	if (sqlite3_create_function(ps->db, "smmd_count_moved", 2, SQLITE_UTF8,
	                            ps, count_moved, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(ps->db, triggers_sql, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "the view's counts: %s",
		         sqlite3_errmsg(ps->db));
		return -1;
	}
	sqlite3_rollback_hook(ps->db, on_rollback, ps);
	ps->recount = 1; /* what the view holds already */
	return 0;
}

void pg_count_stop(struct pgstore *ps)
{
	sqlite3_rollback_hook(ps->db, NULL, NULL);
	sqlite3_exec(ps->db,
	             "DROP TRIGGER IF EXISTS temp.smmd_count_in;"
	             "DROP TRIGGER IF EXISTS temp.smmd_count_out;"
	             "DROP TRIGGER IF EXISTS temp.smmd_count_moved;",
	             NULL, NULL, NULL);
	sqlite3_create_function(ps->db, "smmd_count_moved", 2, SQLITE_UTF8,
	                        NULL, NULL, NULL, NULL);
}

int pg_kept_counts(struct store_be *s, int64_t counts[DS_COUNT])
{
	struct pgstore *ps = s->pg;
	sqlite3_stmt *st;
	int r;

	if (ps == NULL)
		return 0; /* a reader's handle: no view of its own */
	if (ps->recount) {
		if (sqlite3_prepare_v2(ps->db,
		                       "SELECT state, count(*) FROM deliveries "
		                       "GROUP BY state",
		                       -1, &st, NULL) != SQLITE_OK)
			return -EIO;
		memset(ps->view_counts, 0, sizeof(ps->view_counts));
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			int i = state_parse(
			        (const char *)sqlite3_column_text(st, 0));

			if (i >= 0)
				ps->view_counts[i] =
				        sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
		if (r != SQLITE_DONE)
			return -EIO;
		ps->recount = 0;
	}
	memcpy(counts, ps->view_counts, sizeof(ps->view_counts));
	return 1;
}
