/*
 * Embedding one libuv loop in another: the host's uv_poll_t on
 * uv_backend_fd(inner) (an epoll fd, readable when the inner loop has
 * events) and a timer for uv_backend_timeout(inner). Each wake runs the
 * inner loop once without blocking, then re-arms the timer.
 */
#include "uvembed.h"

/*
 * libuv hands a watcher's new interest (a socket to be polled for
 * writing, say) to epoll only when the loop next polls: callbacks of the
 * first run may leave such changes, which the second run's poll applies,
 * or the host would sleep on an epoll set that misses them.
 */
static void run_inner(struct uvembed *e)
{
	uv_run(e->inner, UV_RUN_NOWAIT);
	uv_run(e->inner, UV_RUN_NOWAIT);
	uvembed_rearm(e);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	run_inner(h->data);
}

static void on_timer(uv_timer_t *h)
{
	run_inner(h->data);
}

int uvembed_start(struct uvembed *e, uv_loop_t *host, uv_loop_t *inner)
{
	int r;

	e->inner = inner;
	if ((r = uv_poll_init(host, &e->poll, uv_backend_fd(inner))) < 0)
		return r;
	uv_timer_init(host, &e->timer);
	e->poll.data = e->timer.data = e;
	if ((r = uv_poll_start(&e->poll, UV_READABLE, on_poll)) < 0) {
		uv_close((uv_handle_t *)&e->poll, NULL);
		uv_close((uv_handle_t *)&e->timer, NULL);
		return r;
	}
	e->started = 1;
	uvembed_rearm(e);
	return 0;
}

void uvembed_rearm(struct uvembed *e)
{
	int ms;

	if (!e->started)
		return;
	/*
	 * -1: nothing timed is pending; 0: work is ready now, or (a loop
	 * with nothing left in it) never: do not spin on that one.
	 */
	ms = uv_loop_alive(e->inner) ? uv_backend_timeout(e->inner) : -1;
	/* Changes the second run left unapplied are caught this soon. */
	if (e->busy && e->busy(e->busy_arg) && (ms < 0 || ms > UVEMBED_BUSY_MS))
		ms = UVEMBED_BUSY_MS;
	if (ms < 0)
		uv_timer_stop(&e->timer);
	else
		uv_timer_start(&e->timer, on_timer, (uint64_t)ms, 0);
}

void uvembed_kick(struct uvembed *e)
{
	if (e->started)
		uv_timer_start(&e->timer, on_timer, 0, 0);
}

void uvembed_stop(struct uvembed *e)
{
	if (!e->started)
		return;
	e->started = 0;
	uv_close((uv_handle_t *)&e->poll, NULL);
	uv_close((uv_handle_t *)&e->timer, NULL);
}
