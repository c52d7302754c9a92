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
 * The first instant at or after from_ms that is a slot of every channel
 * named and free on each; -1 with why in err (a channel without slots,
 * none free within a year, the store unreadable).
 */
int64_t queue_pick(struct smmd *, const char *const *channels, size_t n,
                   int64_t from_ms, char *err, size_t errlen);

#endif
