/*
 * A consistent copy of the live database while smmd runs, with SQLite's
 * online backup API. It runs on a worker thread, from connections of its
 * own: the loop's connection is never touched. In WAL mode the source
 * connection reads one snapshot (the last commit when the copy starts)
 * while the loop goes on writing; a checkpoint waits for the copy to end.
 */
#include <stdio.h>
#include <unistd.h>

#include "store_sqlite.h"

/* Close a connection opened here, whatever state it is in. */
static void close_db(sqlite3 *db)
{
	if (db != NULL)
		sqlite3_close_v2(db);
}

/* "ok" from quick_check on the copy, or why not in err. */
static int check_copy(sqlite3 *dst, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v;
	int ret = -1;

	if (sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &st, NULL) !=
	            SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(err, errlen, "checking the copy: %s",
		         sqlite3_errmsg(dst));
	} else if ((v = sqlite3_column_text(st, 0)) == NULL ||
	           strcmp((const char *)v, "ok") != 0) {
		snprintf(err, errlen, "the copy does not check out: %s",
		         v ? (const char *)v : "?");
	} else {
		ret = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

int sq_backup(struct store_be *s, const char *dest, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	int rc, ret = -1;

	if (sqlite3_open_v2(s->path, &src,
	                    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK ||
	    sqlite3_open_v2(dest, &dst,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                            SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open '%s': %s",
		         src && sqlite3_errcode(src) != SQLITE_OK ? s->path
		                                                  : dest,
		         src && sqlite3_errcode(src) != SQLITE_OK
		                 ? sqlite3_errmsg(src)
		         : dst ? sqlite3_errmsg(dst)
		               : "out of memory");
		goto out;
	}
	/* Waits a moment for a writer's lock rather than failing at once. */
	sqlite3_busy_timeout(src, 5000);
	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
		snprintf(err, errlen, "cannot start the copy: %s",
		         sqlite3_errmsg(dst));
		goto out;
	}
	/* One step: the whole copy from one read transaction, one snapshot. */
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "copying the database: %s",
		         sqlite3_errstr(rc));
		goto out;
	}
	ret = check_copy(dst, err, errlen);
out:
	close_db(dst);
	close_db(src);
	return ret;
}
