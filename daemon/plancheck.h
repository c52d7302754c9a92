/*
 * The plan against its cadences: every channel (smmd.yaml) and campaign
 * (the calendar) that declares a cadence or a min_gap, the posts each gets
 * over a window of whole weeks from the current one, and what cadence.c
 * finds in them, as warnings people read and JSON scripts read. Fed by
 * `smmd --check-config` from the calendar alone and by `smmctl plan check`
 * from the store; the same words either way. Pure: no loop, no store.
 *
 * A channel counts its deliveries; a campaign counts its posts (a post on
 * three channels is one post of the campaign, at its earliest delivery).
 * A warning is placed at the calendar post that causes it (the later of
 * two posts too close or too far apart, the first post past a period's
 * target); where no calendar post does (a period under target, or posts
 * added with smmctl), at the cadence's own declaration.
 */
#ifndef SMMD_PLANCHECK_H
#define SMMD_PLANCHECK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "planbook.h"

#define PLANCHECK_MAX_WEEKS    52
#define PLANCHECK_MAX_POSTS    2000000 /* deliveries counted in one check */
#define PLANCHECK_MAX_FINDINGS 1000    /* reported; the rest are counted */

struct config;
struct plancheck;

/*
 * A check over `weeks` weeks from the week holding now_ms, of the channels
 * of cfg and the campaigns of book (NULL: none, and channels without a
 * timezone of their own in the system's zone). Both must outlive it.
 * horizon_ms: how far ahead the posts given hold the calendar's recurring
 * posts (the store: now + horizon; INT64_MAX for the calendar itself);
 * past it, a subject with recurring posts is not judged on periods under
 * target nor on long gaps, which would only be occurrences not scheduled
 * yet. NULL when out of memory.
 */
struct plancheck *plancheck_new(const struct config *cfg,
                                const struct plan_book *book, int64_t now_ms,
                                unsigned weeks, int64_t horizon_ms);
void plancheck_free(struct plancheck *);

/* The channels and campaigns checked; 0 and 0: nothing to do. */
size_t plancheck_subjects(const struct plancheck *);
/* The due times the deliveries given must cover: [*from_ms, *to_ms). */
void plancheck_range(const struct plancheck *, int64_t *from_ms,
                     int64_t *to_ms);

/*
 * One delivery: counted on its channel and, once per post, on its
 * campaign (NULL: none), where either is checked and due_ms is in its
 * window. origin: where the post is written (copied), or NULL; with
 * calendar set and no origin, the book is asked, and only if a warning
 * names the post (most never are). 0, -ENOMEM, or -E2BIG past
 * PLANCHECK_MAX_POSTS.
 */
int plancheck_add(struct plancheck *, const char *post_id, const char *channel,
                  const char *campaign, int64_t due_ms,
                  const struct plan_origin *origin, int calendar);

/*
 * The findings: {"weeks", "subjects": [{"channel" or "campaign", "cadence",
 * "min_gap", "timezone", "from", "to", "posts", and "horizon" when under
 * target and long gaps are judged only up to there}], "findings": [{"kind",
 * "channel" or "campaign", ..., "file", "line", "column", "message"}],
 * "more": findings past PLANCHECK_MAX_FINDINGS}. NULL when out of memory.
 */
json_t *plancheck_run(struct plancheck *);

/*
 * The check of the calendar alone (smmd --check-config): cal's posts over
 * `weeks` weeks from the week holding now_ms, against cfg's and cal's
 * cadences; plancheck_run's answer, or NULL when out of memory.
 */
struct calendar;
json_t *plancheck_calendar(const struct config *cfg, const struct calendar *cal,
                           int64_t now_ms, unsigned weeks);

#endif
