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

struct smmd;

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
int goals_progress(struct smmd *, int64_t now_ms, json_t **out);

#endif
