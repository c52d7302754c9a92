/*
 * A turn is measured from one prepare callback (just before poll) to the
 * next, minus the time the loop spent blocked in poll in between, which
 * libuv counts itself (uv_metrics_idle_time). That covers everything the
 * loop runs between two polls: the I/O callbacks of the poll phase, the
 * check, closing, timer, pending and idle phases, and the other prepare
 * callbacks, smmd's end of turn (store_submit) included, since this one
 * runs last. A pair of check and prepare handles alone would miss the I/O
 * callbacks, which run inside the poll phase, before check.
 *
 * A long turn is not always long work: the thread may have been off its
 * CPU, preempted by another runnable thread or waiting in the kernel (a
 * write the disk holds back, a page fault). The thread's own counters,
 * read once a turn, tell which (struct turn_cpu).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <jansson.h>

#include "log.h"
#include "looptime.h"

#define CAUSE_MAX 64

/* A poll that slept this long was one voluntary switch of its own. */
#define POLL_SLEPT_NS 20000

/* The loop thread's counters at a turn's edge (getrusage, RUSAGE_THREAD). */
struct thread_use {
	uint64_t cpu_ns;
	long voluntary, involuntary, faults, major_faults;
};

/* Where a turn's time went, besides its work. */
struct turn_cpu {
	uint64_t cpu_ns; /* on the CPU */
	long preempted;  /* involuntary switches: runnable, not running */
	long waited;     /* voluntary ones, the poll's sleep apart */
	long faults;     /* page faults, major_faults of them read from disk */
	long major_faults;
};

struct looptime {
	uv_prepare_t prepare;
	uint64_t last_ns;   /* hrtime at the last prepare; 0: none yet */
	uint64_t last_idle; /* uv_metrics_idle_time then */
	struct thread_use last_use;
	uint64_t max_ns;
	struct turn_cpu max_cpu; /* the longest turn's */
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

/* "what detail" into piece, cut to fit: no printf, it runs every turn. */
static void piece_name(char piece[CAUSE_MAX], const char *what,
                       const char *detail)
{
	size_t n = strnlen(what, CAUSE_MAX - 1), m;

	memcpy(piece, what, n);
	if (detail && n + 1 < CAUSE_MAX) {
		piece[n++] = ' ';
		m = strnlen(detail, CAUSE_MAX - 1 - n);
		memcpy(piece + n, detail, m);
		n += m;
	}
	piece[n] = '\0';
}

void looptime_leave(uint64_t entered_ns, const char *what, const char *detail)
{
	uint64_t took;

	if (current == NULL || entered_ns == 0)
		return;
	took = uv_hrtime() - entered_ns;
	if (took > current->piece_ns) {
		current->piece_ns = took;
		piece_name(current->piece, what, detail);
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

static uint64_t timeval_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

static void thread_use_now(struct thread_use *u)
{
	struct rusage ru = {0};

	/* It fails only on a bad argument. */
	(void)getrusage(RUSAGE_THREAD, &ru);
	u->cpu_ns = timeval_ns(ru.ru_utime) + timeval_ns(ru.ru_stime);
	u->voluntary = ru.ru_nvcsw;
	u->involuntary = ru.ru_nivcsw;
	u->faults = ru.ru_minflt + ru.ru_majflt;
	u->major_faults = ru.ru_majflt;
}

/*
 * The counters cover the poll too: its sleep is a voluntary switch, and
 * the kernel charges the thread for work it does while the thread is in
 * epoll_wait (receiving from the network, often), so the CPU time may
 * exceed the turn. Without CONFIG_IRQ_TIME_ACCOUNTING, interrupts taken
 * while the thread ran count as its CPU time too.
 */
static struct turn_cpu turn_cpu(const struct thread_use *from,
                                const struct thread_use *to, uint64_t idle_ns)
{
	struct turn_cpu c = {
	        .cpu_ns = to->cpu_ns - from->cpu_ns,
	        .preempted = to->involuntary - from->involuntary,
	        .waited = to->voluntary - from->voluntary -
	                  (idle_ns >= POLL_SLEPT_NS),
	        .faults = to->faults - from->faults,
	        .major_faults = to->major_faults - from->major_faults,
	};

	if (c.waited < 0)
		c.waited = 0;
	return c;
}

static void on_prepare(uv_prepare_t *h)
{
	struct looptime *lt = h->data;
	uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(h->loop);
	struct thread_use use;

	thread_use_now(&use);
	if (lt->last_ns != 0) {
		uint64_t slept = idle - lt->last_idle;
		uint64_t busy = (now - lt->last_ns) - slept;
		const char *what = lt->piece_ns ? lt->piece : "unnamed";
		struct turn_cpu c = turn_cpu(&lt->last_use, &use, slept);

		lt->turns++;
		if (busy > lt->max_ns) {
			lt->max_ns = busy;
			lt->max_cpu = c;
			lt->cause_ns = lt->piece_ns;
			snprintf(lt->cause, sizeof(lt->cause), "%s", what);
		}
		if (busy > (uint64_t)LOOPTIME_SLOW_MS * 1000000) {
			lt->slow++;
			log_debug(
			        "loop: a turn took %.1f ms (on the CPU %.1f ms; "
			        "preempted %ld, waited %ld, faults %ld, %ld "
			        "from disk), %.1f ms of it in %s",
			        busy / 1e6, c.cpu_ns / 1e6, c.preempted,
			        c.waited, c.faults, c.major_faults,
			        lt->piece_ns / 1e6, what);
		}
	}
	lt->last_ns = now;
	lt->last_idle = idle;
	lt->last_use = use;
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
	return json_pack(
	        "{s:f, s:s, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I}",
	        "max_turn_ms", max_ms, "max_turn_cause",
	        lt ? lt->cause : "none yet", "max_turn_cause_ms",
	        lt ? lt->cause_ns / 1e6 : 0.0, "max_turn_cpu_ms",
	        lt ? lt->max_cpu.cpu_ns / 1e6 : 0.0, "max_turn_preempted",
	        (json_int_t)(lt ? lt->max_cpu.preempted : 0), "max_turn_waited",
	        (json_int_t)(lt ? lt->max_cpu.waited : 0), "max_turn_faults",
	        (json_int_t)(lt ? lt->max_cpu.faults : 0),
	        "max_turn_major_faults",
	        (json_int_t)(lt ? lt->max_cpu.major_faults : 0), "turns",
	        (json_int_t)turns, "slow_turns", (json_int_t)slow);
}

void looptime_close(struct looptime *lt)
{
	if (lt == current)
		current = NULL;
	if (lt && !uv_is_closing((uv_handle_t *)&lt->prepare))
		uv_close((uv_handle_t *)&lt->prepare, closed);
}
