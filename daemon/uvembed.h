/*
 * A private libuv loop run from inside another (libuv's "embedding"):
 * the host polls the private loop's backend fd and wakes at its next
 * timer, and runs it without blocking. So code that lives on the private
 * loop can also be run on its own, in place, when the host cannot be run
 * (before it starts, or from inside one of its callbacks at shutdown).
 */
#ifndef SMMD_UVEMBED_H
#define SMMD_UVEMBED_H

#include <uv.h>

/* The longest the host sleeps while the owner says work is in flight. */
#define UVEMBED_BUSY_MS 20

struct uvembed {
	/* Optional, set before start: 1 while the inner loop has work in
	 * flight (answers awaited). */
	int (*busy)(void *arg);
	void *busy_arg;
	uv_loop_t *inner;
	uv_poll_t poll;   /* on the host: the inner loop's backend fd */
	uv_timer_t timer; /* on the host: the inner loop's next timer */
	int started;
};

/* Start running inner from host. 0, or a libuv error. */
int uvembed_start(struct uvembed *, uv_loop_t *host, uv_loop_t *inner);
/* The inner loop was run by hand: wake the host at its next timer. */
void uvembed_rearm(struct uvembed *);
/* Have the host run the inner loop on its next turn (new work queued
 * from outside the inner loop's callbacks). */
void uvembed_kick(struct uvembed *);
/* Stop; the host closes the two handles on its next turns. */
void uvembed_stop(struct uvembed *);

#endif
