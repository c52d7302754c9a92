/*
 * The view's deliveries counted per state (pg_kept_counts, viewcount.h):
 * without it, the working node's metrics and status line counted a
 * worker's posts as scheduled until its next start, and a count on demand
 * scans the whole view on the loop. And the view's rollbacks, which undo
 * pulled rows a turn's transaction held: pgrepl reads them again.
 */
#include <errno.h>

#include "store_pg_impl.h"
#include "viewcount.h"

/* Called by SQLite inside the rollback: it cannot read here. */
static void on_rollback(void *arg)
{
	struct pgstore *ps = arg;

	if (ps->repl)
		pgrepl_rolled_back(ps->repl);
}

int pg_count_start(struct pgstore *ps, char *err, size_t errlen)
{
	if (viewcount_start(ps->db, err, errlen) < 0)
		return -1;
	sqlite3_rollback_hook(ps->db, on_rollback, ps);
	return 0;
}

void pg_count_stop(struct pgstore *ps)
{
	sqlite3_rollback_hook(ps->db, NULL, NULL);
	viewcount_stop(ps->db);
}

int pg_kept_counts(struct store_be *s, int64_t counts[DS_COUNT])
{
	struct pgstore *ps = s->pg;

	if (ps == NULL)
		return 0; /* a reader's handle: no view of its own */
	return viewcount_read(ps->db, counts) < 0 ? -EIO : 1;
}
