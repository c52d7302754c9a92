/*
 * Deliveries counted per state as a view's rows change (a shared store's
 * view, store_pg.c): whoever changes them, this node's own writes or the
 * rows pulled from the other nodes, which move deliveries without an event
 * here. The metrics, the status line and "smmctl status" read the counts
 * without scanning the view on the loop.
 */
#ifndef SMMD_VIEWCOUNT_H
#define SMMD_VIEWCOUNT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "states.h"

/*
 * Count db's main.deliveries from now on (what it holds, then each
 * change): 0, or -1 with err set. Only this connection sees the counts
 * and its triggers, which are never written to the file.
 */
int viewcount_start(sqlite3 *db, char *err, size_t errlen);
/* The counts, as this connection sees its rows now: 0, or -EIO. */
int viewcount_read(sqlite3 *db, int64_t counts[DS_COUNT]);
/* Count no more (before the connection is closed). */
void viewcount_stop(sqlite3 *db);

#endif
