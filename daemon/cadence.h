/*
 * A channel's or a campaign's planned rhythm ("cadence: 3/week", "1/day",
 * "10/month", with an optional "min_gap: 4h") and the check of a list of
 * post times against it: the periods under or over target, the gaps
 * longer than planned, and the posts closer than min_gap. Periods are
 * local: a day starts at 00:00, a week on Monday at 00:00, a month on its
 * first day at 00:00, in the zone given, so a week with a daylight saving
 * change is 167 or 169 hours long and still one week. Pure: no clock is
 * read, nothing is logged.
 */
#ifndef SMMD_CADENCE_H
#define SMMD_CADENCE_H

#include <stddef.h>
#include <stdint.h>

#include "caltime.h"

#define CADENCE_MAX_N 1000 /* posts in one period */

enum cadence_unit { CADENCE_DAY, CADENCE_WEEK, CADENCE_MONTH };

/* What was declared; n 0 when only min_gap was. */
struct cadence {
	unsigned n; /* posts per unit; 0: no target */
	enum cadence_unit unit;
	int64_t min_gap_ms; /* 0: none */
};

/*
 * Parse "N/day", "N/week" or "N/month" (N from 1 to CADENCE_MAX_N) into
 * c->n and c->unit. 0, or -1 with why in err.
 */
int cadence_parse(const char *s, struct cadence *c, char *err, size_t errlen);

/* "3/week": the target as written back, for messages. */
void cadence_format(const struct cadence *, char *buf, size_t len);

/*
 * The planned interval between two posts: the unit (24 h, 7 days, or 30
 * days for a month) divided by n; 0 without a target. A gap longer than
 * twice it is reported.
 */
int64_t cadence_interval_ms(const struct cadence *);

/* The start of the period (of unit u, in zone z) holding instant t. */
int64_t cadence_period_start(enum cadence_unit u, const struct caltime_zone *z,
                             int64_t t_ms);
/* The start of the period after the one starting at start_ms. */
int64_t cadence_period_next(enum cadence_unit u, const struct caltime_zone *z,
                            int64_t start_ms);

/*
 * The whole periods a check over `weeks` weeks from now covers: from the
 * start of the week holding now_ms (Monday 00:00 in z) for weeks weeks,
 * widened to whole periods of c's unit (a month cadence: from the first
 * of the month holding that Monday to the end of the month holding the
 * window's last instant).
 */
void cadence_window(const struct cadence *, const struct caltime_zone *z,
                    int64_t now_ms, unsigned weeks, int64_t *from_ms,
                    int64_t *to_ms);

/* One post, as the check sees it. */
struct cadence_post {
	int64_t at_ms;
	const char *id;     /* for messages */
	const void *origin; /* opaque: where the post was written, or NULL */
};

enum cadence_kind {
	CADENCE_UNDER,   /* a period with fewer posts than n */
	CADENCE_OVER,    /* a period with more posts than n */
	CADENCE_GAP,     /* two posts more than twice the interval apart */
	CADENCE_MIN_GAP, /* two posts closer than min_gap */
};

struct cadence_finding {
	enum cadence_kind kind;
	int64_t period_start_ms, period_end_ms; /* UNDER, OVER */
	unsigned count;                         /* UNDER, OVER: posts in it */
	/*
	 * OVER: the first post past the target; GAP, MIN_GAP: the later of
	 * the two, prev the earlier; UNDER: both NULL.
	 */
	const struct cadence_post *post, *prev;
	int64_t gap_ms; /* GAP, MIN_GAP */
};

/*
 * Check posts (sorted by at_ms; those outside [from_ms, to_ms) are left
 * out) against c in zone z, period by period in time order: fn gets each
 * finding, a period's count before the gaps that end in it. Gaps are
 * measured between consecutive posts of the window only.
 */
void cadence_check(const struct cadence *, const struct caltime_zone *z,
                   int64_t from_ms, int64_t to_ms,
                   const struct cadence_post *posts, size_t n,
                   void (*fn)(void *arg, const struct cadence_finding *),
                   void *arg);

/* Sort posts by time, then id: the order cadence_check wants. */
void cadence_sort(struct cadence_post *posts, size_t n);

#endif
