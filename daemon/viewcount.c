/*
 * The counts live in a table of the connection's temporary schema, kept
 * by temporary triggers on main.deliveries: in the transaction of the rows
 * they count. Whatever SQLite undoes (a rollback, a savepoint rolled back,
 * a statement aborted half-way by an I/O error or a constraint) it undoes
 * in the counts too, so they never drift from the rows. Counting in memory
 * instead, each undo would have to be noticed, and a statement aborted
 * inside a transaction calls no hook.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "viewcount.h"

static const char start_sql[] =
        "CREATE TEMP TABLE smmd_count (state TEXT PRIMARY KEY, n INTEGER "
        "NOT NULL) WITHOUT ROWID;"
        "INSERT INTO temp.smmd_count SELECT state, count(*) FROM "
        "main.deliveries GROUP BY state;"
        "CREATE TEMP TRIGGER smmd_count_in AFTER INSERT ON main.deliveries "
        "BEGIN INSERT INTO smmd_count VALUES (new.state, 1) ON "
        "CONFLICT (state) DO UPDATE SET n = n + 1; END;"
        "CREATE TEMP TRIGGER smmd_count_out AFTER DELETE ON main.deliveries "
        "BEGIN UPDATE smmd_count SET n = n - 1 WHERE state = "
        "old.state; END;"
        "CREATE TEMP TRIGGER smmd_count_moved AFTER UPDATE OF state ON "
        "main.deliveries WHEN old.state IS NOT new.state BEGIN "
        "UPDATE smmd_count SET n = n - 1 WHERE state = old.state; "
        "INSERT INTO smmd_count VALUES (new.state, 1) ON CONFLICT "
        "(state) DO UPDATE SET n = n + 1; END;";

static const char stop_sql[] = "DROP TRIGGER IF EXISTS temp.smmd_count_in;"
                               "DROP TRIGGER IF EXISTS temp.smmd_count_out;"
                               "DROP TRIGGER IF EXISTS temp.smmd_count_moved;"
                               "DROP TABLE IF EXISTS temp.smmd_count;";

int viewcount_start(sqlite3 *db, char *err, size_t errlen)
{
	/*
	 * The temporary schema where the connection keeps it (the view's is
	 * in memory: store_sqlite.c); a table of a few rows either way.
	 */
	if (sqlite3_exec(db, "SAVEPOINT smmd_count", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "the view's counts: %s",
		         sqlite3_errmsg(db));
		return -1;
	}
	/* The first count and the triggers at once: no change in between. */
	if (sqlite3_exec(db, start_sql, NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_exec(db, "RELEASE smmd_count", NULL, NULL, NULL) ==
	            SQLITE_OK)
		return 0;
	snprintf(err, errlen, "the view's counts: %s", sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK TO smmd_count; RELEASE smmd_count", NULL,
	             NULL, NULL);
	return -1;
}

int viewcount_read(sqlite3 *db, int64_t counts[DS_COUNT])
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(db, "SELECT state, n FROM temp.smmd_count", -1,
	                       &st, NULL) != SQLITE_OK)
		return -EIO;
	memset(counts, 0, DS_COUNT * sizeof(counts[0]));
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int i = state_parse((const char *)sqlite3_column_text(st, 0));

		if (i >= 0)
			counts[i] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

void viewcount_stop(sqlite3 *db)
{
	sqlite3_exec(db, stop_sql, NULL, NULL, NULL);
}
