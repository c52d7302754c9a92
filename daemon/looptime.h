/*
 * How long the loop's turns take: the time spent running callbacks
 * between returning from poll and entering the next poll. A long turn
 * delays every timer and every request that falls due during it.
 */
#ifndef SMMD_LOOPTIME_H
#define SMMD_LOOPTIME_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

/* A turn longer than this is logged (debug). */
#define LOOPTIME_SLOW_MS 5

struct looptime;

/*
 * Before uv_run, and before any other prepare handle is started (it must
 * run last, after their work). -errno on failure.
 */
int looptime_start(uv_loop_t *, struct looptime **out);
/*
 * Name a piece of work within a turn: looptime_leave(looptime_enter(), ...)
 * around it. The longest piece of the longest turn is that turn's cause in
 * status; a slow turn's is logged with it. what, and detail after it when
 * not NULL, are copied only when the piece is the turn's longest so far.
 */
uint64_t looptime_enter(void);
void looptime_leave(uint64_t entered_ns, const char *what, const char *detail);
/*
 * How long the turn under way has run so far (ns; 0 outside a turn or
 * without looptime_start): work that comes in batches (a client's piped
 * requests) stops at a budget and goes on in the next turn.
 */
uint64_t looptime_turn_ns(void);
/*
 * The budget such work keeps to: the dispatcher's starts and sends, the
 * results handed back, a sync's callbacks each stop once the turn has
 * run this long (the control socket stops sooner, CONTROL_TURN_NS), so
 * that a turn stays under LOOPTIME_SLOW_MS with one item and its commit.
 */
#define LOOPTIME_BUDGET_NS (3 * 1000 * 1000)
/* 1 once the turn under way has run LOOPTIME_BUDGET_NS. */
static inline int looptime_over_budget(void)
{
	return looptime_turn_ns() >= LOOPTIME_BUDGET_NS;
}
/* The longest turn so far (ms), how many turns, how many were slow. */
void looptime_get(const struct looptime *, double *max_turn_ms, uint64_t *turns,
                  uint64_t *slow);
/*
 * For status: {"max_turn_ms", "max_turn_cause" (its longest named piece,
 * or "unnamed"), "max_turn_cause_ms", "max_turn_cpu_ms" (the thread's CPU
 * time from the turn before's end, its poll's kernel time included),
 * "max_turn_preempted", "max_turn_waited" (switches off the CPU while
 * runnable, and into a wait other than the poll's), "max_turn_faults",
 * "max_turn_major_faults", "turns", "slow_turns" (over the limit)}.
 */
json_t *looptime_json(const struct looptime *);
/* Close its handle; free it from the close callback. NULL is fine. */
void looptime_close(struct looptime *);

#endif
