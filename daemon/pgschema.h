/*
 * The cluster's schema in PostgreSQL, created and migrated by whichever
 * node connects first: forward migrations like the SQLite store's, all
 * sent as one statement that takes an advisory lock, so that nodes
 * starting together migrate once and a half-applied migration cannot be
 * seen (it is one transaction).
 */
#ifndef SMMD_PGSCHEMA_H
#define SMMD_PGSCHEMA_H

#include "pgconn.h"

/*
 * The advisory lock every change to the schema takes (pgrepl's tables
 * too), until its transaction ends.
 */
#define PGSCHEMA_LOCK "7301637432012345601"
/*
 * Taken by every write to a replicated table until its transaction ends
 * (smmd_track, smmd_fence): changes commit in the order of their numbers.
 * Waiting for it waits for a group still running.
 */
#define PGSCHEMA_ORDER_LOCK "7301637432012345602"

/* The version this smmd brings the schema to. */
int pgschema_version(void);

/*
 * Queue the migration on c, in a group of its own; done(arg, err) tells
 * whether the schema is now at pgschema_version(). A database migrated
 * by a newer smmd is refused (err says which versions). 0, or an error of
 * pgconn_query (then done is not called).
 */
int pgschema_migrate(struct pgconn *c, pgconn_done_fn *done, void *arg);

/*
 * The statement pgschema_migrate sends (malloc'd, the caller frees it):
 * for the tests, and for an operator who wants to read it.
 */
char *pgschema_sql(void);

#endif
