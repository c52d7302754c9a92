/*
 * What is due, and when: a min-heap of pending deliveries keyed by due time
 * plus an index by delivery id (to cancel or reschedule one). Pure: time
 * is passed in; arming the wall-clock timer is wallclock.c's job.
 * Only ids and due times live here, never a post's text.
 */
#ifndef SMMD_SCHED_H
#define SMMD_SCHED_H

#include <stddef.h>
#include <stdint.h>

struct sched;

struct sched *sched_new(void);
void sched_free(struct sched *);
/* Add id due at due_ms, or move it there if already queued. 0 or -ENOMEM. */
int sched_add(struct sched *, const char *id, int64_t due_ms);
/* Forget id; 1 if it was queued, 0 if not. */
int sched_remove(struct sched *, const char *id);
/* The earliest due time, or -1 when nothing is queued. */
int64_t sched_next_due(const struct sched *);
/*
 * If the earliest entry is due at or before now_ms, remove it, hand its
 * id to *id (the caller frees it) and return its due time; otherwise
 * return -1.
 */
int64_t sched_pop_due(struct sched *, int64_t now_ms, char **id);
size_t sched_len(const struct sched *);
/*
 * 1 if match(arg, id) is 1 for an entry due before until_ms, else 0. Only
 * those entries are looked at, not the whole heap.
 */
int sched_any_before(const struct sched *, int64_t until_ms,
                     int (*match)(void *arg, const char *id), void *arg);

#endif
