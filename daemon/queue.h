/*
 * The channels' posting slots at work: the next free slot for a post,
 * and the queue command (queue.c).
 */
#ifndef SMMD_QUEUE_H
#define SMMD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct smmd;
struct channel;
struct caltime_zone;

/* The zone of ch's slots: its own, else the calendar's, else the system's. */
const struct caltime_zone *queue_zone(const struct smmd *,
                                      const struct channel *ch);
/*
 * Slots given away already but not stored yet (an import checks every row
 * before it stores any): channel[i] at at[i]. The caller owns it.
 */
struct slot_claims {
	const char **channel;
	int64_t *at;
	size_t n, cap;
};
/* Claim t on channel. 0, or -1 when out of memory. */
int slot_claims_add(struct slot_claims *, const char *channel, int64_t t);
void slot_claims_free(struct slot_claims *);

/*
 * The first instant at or after from_ms that is a slot of every channel
 * named and free on each (in the store, and in claims when not NULL), and
 * in none of their blackouts (nor campaign's, when not NULL); -1 with why
 * in err (a channel without slots, none free within a year, the store
 * unreadable).
 */
int64_t queue_pick(struct smmd *, const char *const *channels, size_t n,
                   const char *campaign, int64_t from_ms,
                   const struct slot_claims *claims, char *err, size_t errlen);

#endif
