/*
 * A channel's weekly posting slots ("Mon-Fri 09:00", "Tue,Thu 13:30",
 * "Sat 11:00"), kept as wall-clock times in the channel's zone: 09:00
 * stays 09:00 across the DST changes, which is what a plan means by it.
 * Pure: no clock is read.
 */
#ifndef SMMD_SLOTS_H
#define SMMD_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "caltime.h"

#define SLOTS_MAX 168 /* one a hour, every day of the week */

/* One slot: the days it is on (bit 0 Monday ... bit 6 Sunday), and when. */
struct slot {
	uint8_t days;
	uint16_t minute; /* of the day, 0 to 1439 */
};

/* A week of slots, by minute of the day, none twice. */
struct slots {
	struct slot v[SLOTS_MAX];
	size_t n;
};

/*
 * Parse one slot: DAYS HH:MM, where DAYS is a day (Mon ... Sun), a range
 * (Mon-Fri, Fri-Mon wraps), a comma list of either, or "daily". 0, or -1
 * with why in err.
 */
int slot_parse(const char *s, struct slot *out, char *err, size_t errlen);

/*
 * Days as slots and quiet hours write them: "Mon", "Mon-Fri" (wrapping:
 * "Fri-Mon"), a comma list of those, or "daily", in len bytes of s. Their
 * bits (bit 0 Monday), or -(offset of the bad part + 1).
 */
int slot_days_parse(const char *s, size_t len);

/* Add one to the week (merging days of the same time). 0, or -1 if full. */
int slots_add(struct slots *, const struct slot *);

/*
 * The first slot instant at or after from_ms in zone z (UTC ms), or -1
 * when there are no slots. A slot in a DST gap is read with the offset
 * before the gap (caltime_local_to_utc's rule), so it still happens.
 */
int64_t slots_next(const struct slots *, const struct caltime_zone *z,
                   int64_t from_ms);

/* "Mon-Fri 09:00"-style text of one slot, for messages and smmctl queue. */
void slot_format(const struct slot *, char *buf, size_t len);

#endif
