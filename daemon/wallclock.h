/*
 * One timer on the wall clock. Due times are wall-clock instants, but
 * libuv's timers run on the monotonic clock, which ignores clock steps and
 * stops during suspend. A timerfd on CLOCK_REALTIME with TFD_TIMER_ABSTIME
 * fires at the instant itself; TFD_TIMER_CANCEL_ON_SET wakes us when the
 * clock is stepped so the caller re-evaluates what is due.
 */
#ifndef SMMD_WALLCLOCK_H
#define SMMD_WALLCLOCK_H

#include <stdint.h>
#include <uv.h>

struct wallclock;

/* fire runs when the armed instant passes or the clock is stepped. */
int wallclock_new(uv_loop_t *, void (*fire)(void *), void *arg,
                  struct wallclock **out);
/* Arm at due_ms (absolute, ms since the epoch); -1 disarms. 0 or -errno. */
int wallclock_arm(struct wallclock *, int64_t due_ms);
/* The current wall-clock time in ms. */
int64_t wallclock_now_ms(void);
/* Close; the object frees itself once libuv is done with it. */
void wallclock_close(struct wallclock *);

#endif
