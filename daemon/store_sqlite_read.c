/*
 * The SQLite backend's readers (store_backend.h's open_reader): a
 * read-only connection to the same database, for a command's reads on a
 * worker thread while the loop goes on writing.
 *
 * Why a reader never holds the loop or the disk threads up (store_wal.c
 * has the writer's side):
 *  - WAL readers take no lock a writer waits for. A COMMIT on the loop's
 *    connection appends to the WAL whatever readers do; only the WAL
 *    restart (writing from offset 0 again) needs every reader off the old
 *    frames, and SQLite's writer does not wait for that: while a reader
 *    holds them it just appends, and restarts at a later commit.
 *  - The checkpoint thread's PASSIVE checkpoint takes no busy-wait either:
 *    it copies the frames up to the oldest reader's snapshot and leaves
 *    the rest to the next one. A long report leaves the WAL a little
 *    longer for its duration; the next checkpoint copies the rest.
 *  - A reader never writes the WAL, its header least of all: the
 *    connection is opened SQLITE_OPEN_READONLY, so it cannot write the
 *    database, checkpoint, or restart the log (all writers' doing; the
 *    header write that STORE_WAL_VFS makes safe is the writer's). It may
 *    rebuild the shared-memory index after a crash, which is the -shm
 *    file, not the log. So it opens through SQLite's own VFS, as the
 *    checkpoint thread and the backup do: the file locks are one set per
 *    process whichever unix VFS opens the file.
 *  - A reader is closed before the writer at store_close, so the writer's
 *    close is the last and checkpoints the WAL away as before.
 *
 * One snapshot per read (BEGIN ... ROLLBACK), so a reply put together
 * from several queries (report) is consistent with itself.
 */
#include "store_sqlite.h"

/* How long a read waits for SQLite's own short locks (WAL recovery). */
#define READER_BUSY_MS 2000

int sq_open_reader(struct store_be *w, struct store_be **out, char *err,
                   size_t errlen)
{
	struct store_be *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL || (s->path = strdup(w->path)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->lock_fd = -1;
	/* NOMUTEX: one thread at a time uses it, the pool sees to that. */
	if (sqlite3_open_v2(s->path, &s->db,
	                    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open '%s' to read: %s", s->path,
		         s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto bad;
	}
	sqlite3_busy_timeout(s->db, READER_BUSY_MS);
	/* The cached statements the read operations use (delivery_load). */
	if (sq_prepare(s, err, errlen) < 0)
		goto bad;
	*out = s;
	return 0;
bad:
	sq_close(s);
	return -1;
}

int sq_read_begin(struct store_be *s)
{
	/* A read that failed half way may have left its transaction. */
	if (!sqlite3_get_autocommit(s->db))
		sq_read_end(s);
	/*
	 * Deferred (never IMMEDIATE: that is the writer's lock); the read
	 * of the schema's first page takes the snapshot now, not at the
	 * caller's first query.
	 */
	if (sqlite3_exec(s->db, "BEGIN; SELECT 1 FROM sqlite_schema LIMIT 1",
	                 NULL, NULL, NULL) != SQLITE_OK) {
		note_failure(s);
		return -EIO;
	}
	return 0;
}

void sq_read_end(struct store_be *s)
{
	if (!sqlite3_get_autocommit(s->db) &&
	    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		note_failure(s);
}

void sq_read_interrupt(struct store_be *s)
{
	/* Safe from another thread while the connection is open. */
	sqlite3_interrupt(s->db);
}
