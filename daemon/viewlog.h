/*
 * The view's own writes since the last ship, as an SQLite changeset.
 *
 * What SQLite's session extension did for pgrepl, with what it costs
 * prepared once. A session is made anew for every group shipped, and a
 * new session reads each table's columns again (a PRAGMA, parsed) at its
 * first change there and prepares a SELECT per table for each changeset:
 * 14% of a worker's time in tests/bench/workbench.sh, where the view
 * ships a group every few milliseconds. This keeps the tables' shapes and
 * statements for the connection's life and is emptied, not made again.
 *
 * Semantics are the session's (tests/unit/check_viewlog.c holds the two
 * side by side): a row's values before its first change are kept; the
 * changeset compares them with the row as it is when it is asked for, so
 * a change rolled back since, or undone, ships nothing. The output is
 * SQLite's changeset format (sqlite3changeset_start reads it), rows in
 * the order they were first changed, table by table.
 *
 * It owns the connection's pre-update hook (sqlite3_preupdate_hook):
 * nothing else on that connection may set one.
 */
#ifndef SMMD_VIEWLOG_H
#define SMMD_VIEWLOG_H

/* The pre-update hook's API (Debian's libsqlite3 is built with it). */
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>

struct viewlog;

/* A log of db's "main" writes, for no table yet: NULL out of memory. */
struct viewlog *viewlog_new(sqlite3 *db);
/*
 * Log table name's writes: ncol columns named cols, pk[c] the column's
 * place in the key from 1, or 0. The arrays are copied. 0, or -1.
 */
int viewlog_attach(struct viewlog *, const char *name, int ncol,
                   const char *const *cols, const int *pk);
/* While off, writes are not logged (other nodes' changes applied). */
void viewlog_enable(struct viewlog *, int on);
/* No write logged since the last viewlog_clear. */
int viewlog_isempty(const struct viewlog *);
/*
 * The changeset of what was logged: *buf (sqlite3_malloc'd, the
 * caller's; NULL when *n is 0) of *n bytes. SQLITE_OK, or an error.
 */
int viewlog_changeset(struct viewlog *, int *n, void **buf);
/* Forget what was logged: the next changeset starts from here. */
void viewlog_clear(struct viewlog *);
/* Before db is closed. */
void viewlog_free(struct viewlog *);

#endif
