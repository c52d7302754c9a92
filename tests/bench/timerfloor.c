/*
 * How punctual a bare libuv program can be on this machine: N one-shot
 * wall-clock timers due STEP ms apart, fired the way smmd fires posts (a
 * CLOCK_REALTIME timerfd with absolute millisecond due times, watched by a
 * uv_poll_t and re-armed for the next due time from its callback), with
 * nothing else to do. Lateness = the time the callback runs - the due
 * time. That is the floor of benchmark (a)'s lateness at smmd: smmd can
 * be no more punctual than its own timer.
 *
 *   timerfloor [N [STEP_MS [LEAD_MS]]]  (defaults: 5000 timers, 2 ms,
 *                                        the first due 200 ms from now)
 *
 * Prints "timerfloor: N timers STEP ms apart: lateness p50 A p99 B max C
 * ms (min D, mean E)".
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

struct floor_run {
	uv_poll_t poll;
	int fd;
	long n, step_ms, fired;
	int64_t first_ms;
	int64_t *late_us; /* one per timer, in firing order */
};

static int64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Arm the timerfd for the absolute wall-clock instant DUE_MS, as smmd does. */
static int arm(int fd, int64_t due_ms)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = due_ms / 1000;
	its.it_value.tv_nsec = (due_ms % 1000) * 1000000;
	return timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno
	                                                              : 0;
}

/* Record every timer due by now (as smmd takes every post due), re-arm. */
static void on_readable(uv_poll_t *poll, int status, int events)
{
	struct floor_run *fr = poll->data;
	uint64_t expirations;
	int64_t now_us;

	(void)status;
	(void)events;
	if (read(fr->fd, &expirations, sizeof(expirations)) < 0 &&
	    errno == EAGAIN)
		return;
	now_us = realtime_us();
	while (fr->fired < fr->n) {
		int64_t due_ms = fr->first_ms + fr->fired * fr->step_ms;

		if (due_ms * 1000 > now_us)
			break;
		fr->late_us[fr->fired++] = now_us - due_ms * 1000;
	}
	if (fr->fired == fr->n) {
		uv_poll_stop(poll);
		return;
	}
	if (arm(fr->fd, fr->first_ms + fr->fired * fr->step_ms) < 0) {
		fprintf(stderr, "timerfloor: cannot arm the timer: %s\n",
		        strerror(errno));
		exit(1);
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank, in ms. */
static double rank_ms(const int64_t *sorted, long n, double p)
{
	long k = (long)(p * (double)n / 100.0);

	if ((double)k < p * (double)n / 100.0)
		k++;
	if (k < 1)
		k = 1;
	return (double)sorted[k - 1] / 1000.0;
}

static void report(struct floor_run *fr)
{
	double sum = 0;

	qsort(fr->late_us, (size_t)fr->n, sizeof(*fr->late_us), cmp_i64);
	for (long i = 0; i < fr->n; i++)
		sum += (double)fr->late_us[i];
	printf("timerfloor: %ld timers %ld ms apart: lateness p50 %.3f p99 "
	       "%.3f max %.3f ms (min %.3f, mean %.3f)\n",
	       fr->n, fr->step_ms, rank_ms(fr->late_us, fr->n, 50),
	       rank_ms(fr->late_us, fr->n, 99),
	       (double)fr->late_us[fr->n - 1] / 1000.0,
	       (double)fr->late_us[0] / 1000.0, sum / (double)fr->n / 1000.0);
}

int main(int argc, char **argv)
{
	struct floor_run fr = {0};
	long lead_ms = argc > 3 ? atol(argv[3]) : 200;
	uv_loop_t *loop = uv_default_loop();

	fr.n = argc > 1 ? atol(argv[1]) : 5000;
	fr.step_ms = argc > 2 ? atol(argv[2]) : 2;
	if (fr.n <= 0 || fr.step_ms < 0 || lead_ms < 0) {
		fprintf(stderr, "usage: timerfloor [N [STEP_MS [LEAD_MS]]]\n");
		return 2;
	}
	if ((fr.late_us = calloc((size_t)fr.n, sizeof(*fr.late_us))) == NULL) {
		fprintf(stderr, "timerfloor: out of memory\n");
		return 1;
	}
	fr.fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fr.fd < 0 || uv_poll_init(loop, &fr.poll, fr.fd) < 0) {
		fprintf(stderr, "timerfloor: cannot create the timer\n");
		return 1;
	}
	fr.poll.data = &fr;
	fr.first_ms = realtime_us() / 1000 + lead_ms;
	if (arm(fr.fd, fr.first_ms) < 0 ||
	    uv_poll_start(&fr.poll, UV_READABLE, on_readable) < 0) {
		fprintf(stderr, "timerfloor: cannot arm the timer\n");
		return 1;
	}
	uv_run(loop, UV_RUN_DEFAULT);
	report(&fr);
	uv_close((uv_handle_t *)&fr.poll, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	close(fr.fd);
	free(fr.late_us);
	return uv_loop_close(loop) == 0 ? 0 : 1;
}
