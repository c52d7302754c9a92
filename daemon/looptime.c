/*
 * A turn is measured from one prepare callback (just before poll) to the
 * next, minus the time the loop spent blocked in poll in between, which
 * libuv counts itself (uv_metrics_idle_time). That covers everything the
 * loop runs between two polls: the I/O callbacks of the poll phase, the
 * check, closing, timer, pending and idle phases, and the other prepare
 * callbacks, smmd's end of turn (store_submit) included, since this one
 * runs last. A pair of check and prepare handles alone would miss the I/O
 * callbacks, which run inside the poll phase, before check.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "log.h"
#include "looptime.h"

#define CAUSE_MAX 64

struct looptime {
	uv_prepare_t prepare;
	uint64_t last_ns;   /* hrtime at the last prepare; 0: none yet */
	uint64_t last_idle; /* uv_metrics_idle_time then */
	uint64_t max_ns;
	uint64_t turns;
	uint64_t slow;
	/* This turn's longest named piece so far. */
	uint64_t piece_ns;
	char piece[CAUSE_MAX];
	/* The longest turn's. */
	uint64_t cause_ns;
	char cause[CAUSE_MAX];
};

/* The one loop's: looptime_leave is called from everywhere. */
static struct looptime *current;

uint64_t looptime_enter(void)
{
	return current ? uv_hrtime() : 0;
}

void looptime_leave(uint64_t entered_ns, const char *what, const char *detail)
{
	uint64_t took;

	if (current == NULL || entered_ns == 0)
		return;
	took = uv_hrtime() - entered_ns;
	if (took > current->piece_ns) {
		current->piece_ns = took;
		snprintf(current->piece, sizeof(current->piece), "%s%s%s", what,
		         detail ? " " : "", detail ? detail : "");
	}
}

uint64_t looptime_turn_ns(void)
{
	uint64_t idle;

	if (current == NULL || current->last_ns == 0)
		return 0;
	idle = uv_metrics_idle_time(current->prepare.loop) - current->last_idle;
	return uv_hrtime() - current->last_ns - idle;
}

static void on_prepare(uv_prepare_t *h)
{
	struct looptime *lt = h->data;
	uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(h->loop);

	if (lt->last_ns != 0) {
		uint64_t busy = (now - lt->last_ns) - (idle - lt->last_idle);

		const char *what = lt->piece_ns ? lt->piece : "unnamed";

		lt->turns++;
		if (busy > lt->max_ns) {
			lt->max_ns = busy;
			lt->cause_ns = lt->piece_ns;
			snprintf(lt->cause, sizeof(lt->cause), "%s", what);
		}
		if (busy > (uint64_t)LOOPTIME_SLOW_MS * 1000000) {
			lt->slow++;
			log_debug("loop: a turn took %.1f ms, %.1f ms of it in "
			          "%s",
			          busy / 1e6, lt->piece_ns / 1e6, what);
		}
	}
	lt->last_ns = now;
	lt->last_idle = idle;
	lt->piece_ns = 0;
}

static void closed(uv_handle_t *h)
{
	free(h->data);
}

int looptime_start(uv_loop_t *loop, struct looptime **out)
{
	struct looptime *lt;
	int r;

	*out = NULL;
	if ((r = uv_loop_configure(loop, UV_METRICS_IDLE_TIME)) < 0)
		return r;
	if ((lt = calloc(1, sizeof(*lt))) == NULL)
		return UV_ENOMEM;
	uv_prepare_init(loop, &lt->prepare);
	lt->prepare.data = lt;
	if ((r = uv_prepare_start(&lt->prepare, on_prepare)) < 0) {
		uv_close((uv_handle_t *)&lt->prepare, closed);
		return r;
	}
	snprintf(lt->cause, sizeof(lt->cause), "none yet");
	*out = current = lt;
	return 0;
}

void looptime_get(const struct looptime *lt, double *max_turn_ms,
                  uint64_t *turns, uint64_t *slow)
{
	*max_turn_ms = lt ? lt->max_ns / 1e6 : 0;
	*turns = lt ? lt->turns : 0;
	*slow = lt ? lt->slow : 0;
}

json_t *looptime_json(const struct looptime *lt)
{
	double max_ms;
	uint64_t turns, slow;

	looptime_get(lt, &max_ms, &turns, &slow);
	return json_pack("{s:f, s:s, s:f, s:I, s:I}", "max_turn_ms", max_ms,
	                 "max_turn_cause", lt ? lt->cause : "none yet",
	                 "max_turn_cause_ms", lt ? lt->cause_ns / 1e6 : 0.0,
	                 "turns", (json_int_t)turns, "slow_turns",
	                 (json_int_t)slow);
}

void looptime_close(struct looptime *lt)
{
	if (lt == current)
		current = NULL;
	if (lt && !uv_is_closing((uv_handle_t *)&lt->prepare))
		uv_close((uv_handle_t *)&lt->prepare, closed);
}
