/*
 * What the plan check needs of the calendar once the calendar itself is
 * freed (smmd keeps no parsed calendar after a sync: a big one is tens of
 * MiB): the campaigns' cadences with where each was declared, the
 * calendar's zone, and, for every post a cadence applies to, where it is
 * written, so a warning about a stored delivery can name the calendar's
 * file:line:column. Kept by smmd from one reload to the next. Pure.
 */
#ifndef SMMD_PLANBOOK_H
#define SMMD_PLANBOOK_H

#include <stddef.h>

#include "cadence.h"
#include "calendar.h"

struct calendar;
struct config;

/* A place in a file (the file's name is borrowed from the book). */
struct plan_origin {
	const char *file;
	unsigned line, column;
};

struct plan_campaign {
	const char *name;
	struct cadence cadence;
	struct plan_origin decl; /* where the cadence is written */
	int recurring;           /* has posts with an rrule */
	struct cal_goals goals;  /* .set 0: none */
};

struct plan_book;

/*
 * The book of cal under cfg: posts are indexed when one of their channels
 * (in cfg) or their campaign has a cadence. NULL when out of memory.
 */
struct plan_book *plan_book_new(const struct calendar *cal,
                                const struct config *cfg);
/*
 * A book is never changed once made: a read off the loop (cmd_plan.c)
 * keeps it with a reference while a reload puts a new one in its place.
 * Both on the loop (the count is not atomic). plan_book_free drops one
 * reference, the book goes with the last; NULL is fine.
 */
struct plan_book *plan_book_ref(struct plan_book *);
void plan_book_free(struct plan_book *);

/* The calendar's zone (an IANA name). */
const char *plan_book_zone(const struct plan_book *);
/*
 * The campaigns that declare a cadence or a min_gap (cadence.n or
 * min_gap set), or goals, in file order.
 */
size_t plan_book_ncampaigns(const struct plan_book *);
const struct plan_campaign *plan_book_campaign(const struct plan_book *,
                                               size_t i);
/*
 * Whether the calendar has a recurring post on channel: its occurrences
 * are stored only `horizon` ahead, so the store says less than the plan
 * past that.
 */
int plan_book_recurring(const struct plan_book *, const char *channel);
/*
 * Where the calendar post behind post_id is written: the post id itself,
 * or an occurrence's ("id@20261122T090000Z"). 1 with *out, or 0 when the
 * book has no such post.
 */
int plan_book_origin(const struct plan_book *, const char *post_id,
                     struct plan_origin *out);

#endif
