/*
 * Blackouts: when a channel must not post. Dates ("2026-12-25"), ranges
 * of dates or of date-times ("2026-12-24 14:00..2026-12-26 08:00"), weekly
 * quiet windows ("Sun", "Mon-Fri 22:00-07:00") and holidays read from .ics
 * files (holidays.c). Local dates and times are read in the zone of the
 * channel a delivery goes to, its audience's, so "22:00" means 22:00
 * there across DST changes. Pure: no clock is read.
 */
#ifndef SMMD_BLACKOUT_H
#define SMMD_BLACKOUT_H

#include <stddef.h>
#include <stdint.h>

#include "caltime.h"

enum blackout_kind {
	BO_WALL,   /* local wall-clock seconds [from, until), zone-free */
	BO_UTC,    /* instants, UTC ms [from, until) */
	BO_WEEKLY, /* on days, from start_min to end_min (next day if <=) */
};

/* What a delivery due in a blackout does. */
enum blackout_action {
	BLACKOUT_SHIFT, /* goes at the first allowed time after it */
	BLACKOUT_HOLD,  /* is held: someone releases or skips it */
};

struct blackout {
	int kind; /* enum blackout_kind */
	int64_t from, until;
	uint8_t days; /* BO_WEEKLY: bit 0 Monday ... bit 6 Sunday */
	uint16_t start_min, end_min; /* BO_WEEKLY; 0 and 1440: all day */
	char *reason;                /* "Christmas Day", "quiet hours", ... */
};

/* One scope's blackouts (smmd.yaml's top level, a channel, a campaign). */
struct blackouts {
	struct blackout *v;
	size_t n, cap;
	int action; /* enum blackout_action */
};

/*
 * A date or a range: "2026-12-25", "2026-12-24..2026-12-26" (whole days,
 * both included), "2026-12-24 14:00..2026-12-26 08:00" (the end left
 * out); a time with Z or an offset is an instant, else local. reason may
 * be NULL (then the text itself). 0, or -1 with why in err.
 */
int blackout_parse_dates(const char *s, const char *reason,
                         struct blackout *out, char *err, size_t errlen);
/*
 * Quiet hours: "DAYS" (whole days) or "DAYS HH:MM-HH:MM" (past midnight
 * when the end is not after the start), DAYS as slots write them. 0, or -1
 * with why in err.
 */
int blackout_parse_quiet(const char *s, struct blackout *out, char *err,
                         size_t errlen);

/* Append b (its reason is taken over). 0, or -1 when out of memory. */
int blackouts_add(struct blackouts *, struct blackout *b);
void blackouts_free(struct blackouts *);

/*
 * Whether instant t (UTC ms) falls in b in zone z: 1 with *end_ms the
 * first instant after that stretch of it, else 0.
 */
int blackout_covers(const struct blackout *b, const struct caltime_zone *z,
                    int64_t t, int64_t *end_ms);

/* How a delivery's time stands against the blackouts of its scopes. */
struct blackout_verdict {
	const struct blackout *by; /* the first that covers it; NULL: none */
	int64_t allowed_ms;        /* first allowed instant; -1: none soon */
};

/*
 * Judge instant t against every blackout of sets (NULL entries are
 * skipped), in zone z, following one blackout's end into the next.
 * Returns 1 (inside one: *v says which and what follows) or 0.
 */
int blackout_judge(const struct blackouts *const *sets, size_t nsets,
                   const struct caltime_zone *z, int64_t t,
                   struct blackout_verdict *v);

/* "shift" or "hold". */
const char *blackout_action_name(int action);

#endif
