/*
 * Campaign goals' progress (the `goals` of campaigns in the calendar):
 * what is done against each target, days left, and whether the current
 * pace reaches the target by the date. Read from the store: published
 * posts, their latest engagement samples, and the audience samples of
 * the channels a campaign posts to.
 */
#ifndef SMMD_GOALS_H
#define SMMD_GOALS_H

#include <jansson.h>
#include <stdint.h>

#include "calendar.h"

struct plan_book;
struct store;

/*
 * What goals need of the calendar, copied: the plan book belongs to the
 * loop, and a reload replaces it while a worker may be reading.
 */
struct goals_campaign {
	char *name;
	struct cal_goals goals;
};
struct goals_plan {
	char *zone;               /* the calendar's; NULL: UTC */
	struct goals_campaign *c; /* the campaigns with goals, in order */
	size_t n;
};

/* The copy of book's (NULL: none) goals; NULL when out of memory. */
struct goals_plan *goals_plan_new(const struct plan_book *book);
void goals_plan_free(struct goals_plan *);

/*
 * Whether done, at this pace since start_ms, reaches target by end_ms:
 * 1 or 0; -1 when too little time has passed to say (under an hour).
 * After end_ms: whether it was reached.
 */
int goals_on_track(int64_t done, int64_t target, int64_t start_ms,
                   int64_t end_ms, int64_t now_ms);

/*
 * {"goals": [{campaign, from, by, days_left, on_track, metrics: [{name,
 * done, target, percent, on_track}]}]}, the campaigns in calendar order.
 * 0, -ENOMEM or -EIO.
 */
int goals_progress(struct store *, const struct goals_plan *, int64_t now_ms,
                   json_t **out);

#endif
