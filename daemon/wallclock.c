#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "looptime.h"
#include "wallclock.h"

struct wallclock {
	uv_poll_t poll;
	int fd;
	void (*fire)(void *);
	void *arg;
	/*
	 * What the timer was last set to (-1: disarmed; ARMED_UNKNOWN: it
	 * may have fired since). The dispatcher re-arms after every result,
	 * mostly at the same instant: one timerfd_settime a delivery, saved.
	 */
	int64_t armed_ms;
};

#define ARMED_UNKNOWN INT64_MIN

int64_t wallclock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_readable(uv_poll_t *poll, int status, int events)
{
	struct wallclock *wc = poll->data;
	uint64_t expirations;

	wc->armed_ms = ARMED_UNKNOWN;
	/*
	 * ECANCELED: the clock was stepped. Either way, let the caller look
	 * at what is due now and re-arm.
	 */
	if (read(wc->fd, &expirations, sizeof(expirations)) < 0) {
		if (errno == EAGAIN)
			return;
		if (errno == ECANCELED)
			log_info("clock: the system clock was set; "
			         "re-evaluating the schedule");
	}
	uint64_t t0 = looptime_enter();

	wc->fire(wc->arg);
	looptime_leave(t0, "due posts", NULL);
}

int wallclock_new(uv_loop_t *loop, void (*fire)(void *), void *arg,
                  struct wallclock **out)
{
	struct wallclock *wc;
	int r;

	if ((wc = calloc(1, sizeof(*wc))) == NULL)
		return -ENOMEM;
	wc->fire = fire;
	wc->arg = arg;
	wc->armed_ms = ARMED_UNKNOWN;
	wc->fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (wc->fd < 0) {
		r = -errno;
		free(wc);
		return r;
	}
	if ((r = uv_poll_init(loop, &wc->poll, wc->fd)) < 0) {
		close(wc->fd);
		free(wc);
		return r;
	}
	wc->poll.data = wc;
	if ((r = uv_poll_start(&wc->poll, UV_READABLE, on_readable)) < 0) {
		wallclock_close(wc);
		return r;
	}
	*out = wc;
	return 0;
}

int wallclock_arm(struct wallclock *wc, int64_t due_ms)
{
	struct itimerspec its;
	uint64_t expirations;

	/*
	 * Already so. Had that instant passed, the fd is readable and
	 * on_readable runs: the same as arming it again in the past.
	 */
	if (due_ms < 0)
		due_ms = -1;
	if (due_ms == wc->armed_ms)
		return 0;
	wc->armed_ms = ARMED_UNKNOWN;
	memset(&its, 0, sizeof(its));
	if (due_ms >= 0) {
		/* 0 would disarm: an instant long past becomes 1 ns. */
		if (due_ms == 0)
			its.it_value.tv_nsec = 1;
		its.it_value.tv_sec = due_ms / 1000;
		its.it_value.tv_nsec += (due_ms % 1000) * 1000000;
	}
	if (timerfd_settime(wc->fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
	                    &its, NULL) == 0) {
		wc->armed_ms = due_ms;
		return 0;
	}
	if (errno != ECANCELED)
		return -errno;
	/*
	 * The clock was set since the timer was last armed, and the kernel
	 * says so here rather than through read(). Clear that mark with a
	 * read and fire at once instead: on_readable re-evaluates the
	 * schedule against the new time, as after any clock step.
	 */
	log_info("clock: the system clock was set; re-evaluating the schedule");
	(void)read(wc->fd, &expirations, sizeof(expirations));
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 1;
	if (timerfd_settime(wc->fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
	                    &its, NULL) < 0)
		return -errno;
	return 0;
}

static void on_closed(uv_handle_t *handle)
{
	struct wallclock *wc = handle->data;

	close(wc->fd);
	free(wc);
}

void wallclock_close(struct wallclock *wc)
{
	if (wc == NULL)
		return;
	uv_close((uv_handle_t *)&wc->poll, on_closed);
}
