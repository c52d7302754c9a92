/*
 * Bring the store in line with the calendar, by id: new deliveries are
 * scheduled, changed ones updated while they still wait, those the
 * calendar dropped are cancelled. Published, publishing, failed, unknown
 * and missed deliveries are history: a reload never touches them, so
 * nothing is posted twice because the file changed. Ad-hoc posts (smmctl
 * add) are not the calendar's and are never touched.
 */
#ifndef SMMD_CALSYNC_H
#define SMMD_CALSYNC_H

#include <jansson.h>
#include <stdint.h>

struct calendar;
struct smmd;
struct store;

struct calsync_summary {
	unsigned added;
	unsigned updated;
	unsigned cancelled;
	unsigned unchanged;
	unsigned missed; /* new, but already past the catch-up window */
	/* Left for the next sync: due this moment on another node's channel
	 * (calsync.c, due_elsewhere). */
	unsigned deferred;
	int64_t horizon_ms; /* recurrences are stored up to here */
};
/*
 * How near its time (either way) a delivery another node fires is left
 * alone by a sync: a beat for this node's view to learn what that node
 * wrote, and as much again for the two nodes' clocks, which may be up
 * to 2 s apart before one is outvoted (lease.h). And how long after a
 * sync that left any the next runs: by then past the window.
 */
#define CALSYNC_GUARD_MS  4000
#define CALSYNC_RESYNC_MS (2 * CALSYNC_GUARD_MS + 1000)

/*
 * What the store holds of the calendar: one side of the diff, read off
 * the loop (from a reader, while a reload parses) or on it. 0 or -errno.
 */
struct calsync_rows;
int calsync_rows_read(struct store *, struct calsync_rows **out);
void calsync_rows_free(struct calsync_rows *);

/*
 * The diff worked out on another thread: cal expanded over
 * [now - catch_up, now + horizon) with cfg (the configuration it will be
 * applied under) against rows (taken, whatever happens). What needs no
 * write is counted; what may is left for calsync_apply, which needs cal
 * for it. 0 with *out, or -errno.
 */
struct calsync_plan;
struct config;
int calsync_plan(const struct calendar *cal, const struct config *cfg,
                 int64_t now_ms, struct calsync_rows *rows,
                 struct calsync_plan **out);
void calsync_plan_free(struct calsync_plan *);

/*
 * Apply the difference between cal and the store to the store and the
 * schedule: plan's, whose rows may be older than the store (a row that
 * moved on meanwhile is read again before it is written), or, with plan
 * NULL, the whole calendar's against rows read here. Returns 0, or a
 * negative errno if the store failed (nothing after the failure was
 * applied).
 */
int calsync_apply(struct smmd *, const struct calendar *cal, int64_t now_ms,
                  const struct calsync_plan *plan, struct calsync_summary *out);
json_t *calsync_summary_json(const struct calsync_summary *);

#endif
