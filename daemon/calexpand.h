/*
 * Recurrence for the calendar: RFC 5545 RRULEs read and iterated by
 * libical, in the calendar zone's wall-clock time, then each occurrence
 * converted to UTC (so a weekly 10:00 post stays at 10:00 local across
 * daylight saving changes). calendar_expand (calendar.h) lives here too.
 */
#ifndef SMMD_CALEXPAND_H
#define SMMD_CALEXPAND_H

#include <stddef.h>

#include "caltime.h"

/* Most occurrences of one post in one calendar_expand call. */
#define CALEXPAND_MAX_OCCURRENCES 10000
/* Most steps of libical's iterator for one post in one call. */
#define CALEXPAND_MAX_STEPS 1000000

/* What an RRULE says that the calendar keeps outside it. */
struct calexpand_rule {
	unsigned count;             /* COUNT=; 0: none */
	int has_until;              /* UNTIL= was given, as until */
	struct caltime_civil until; /* a date, a local time, or UTC */
};

/*
 * Check rrule (an "RRULE:" prefix is allowed) for a series whose first
 * occurrence is the wall time dtstart. Returns 0 with *out, or -1 with
 * the reason (libical's when it has one) in err.
 */
int calexpand_check(const char *rrule, const struct caltime_civil *dtstart,
                    struct calexpand_rule *out, char *err, size_t errlen);

#endif
