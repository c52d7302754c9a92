/*
 * libmicrohttpd in its "external polling" mode, the way curl's multi
 * interface runs on the loop in http.c: MHD_USE_EPOLL without
 * MHD_USE_INTERNAL_POLLING_THREAD keeps every socket in one epoll
 * descriptor of MHD's, which is readable whenever MHD has work; the loop
 * polls that descriptor, calls MHD_run() when it is readable, and keeps a
 * timer armed from MHD_get_timeout() for what MHD must do without an
 * event (a connection timing out, data it already read). smmd binds the
 * listening socket itself, so a failure names its errno.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"
#include "promhttp.h"
#include "promtext.h"

struct promhttp {
	struct MHD_Daemon *mhd;
	uv_poll_t poll;   /* MHD's epoll descriptor */
	uv_timer_t timer; /* MHD_get_timeout(), PROMHTTP_TICK_MS at most */
	int open_handles; /* freed when the last one closes */
	promhttp_page_fn page;
	void *arg;
};

static void rearm(struct promhttp *h);

static unsigned connections(struct promhttp *h)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(
	        h->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info ? info->num_connections : 0;
}

/*
 * At the connection limit MHD takes the listening socket out of its epoll
 * set, and puts it back only at the start of a later run once below the
 * limit; nothing need wake it for that (no event: the socket is out; no
 * timeout: MHD_get_timeout does not count it), and scrapes would wait in
 * the backlog for good (tests/e2e/prometheus.sh saw it). So a run that
 * went from the limit to below it is followed by another at once.
 */
static void run(struct promhttp *h)
{
	unsigned before;

	do {
		before = connections(h);
		if (MHD_run(h->mhd) != MHD_YES)
			log_debug("metrics: the HTTP server's turn failed");
	} while (before >= PROMHTTP_CONNECTIONS &&
	         connections(h) < PROMHTTP_CONNECTIONS);
	rearm(h);
}

static void on_timer(uv_timer_t *t)
{
	run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	run(p->data);
}

/*
 * Run again when MHD wants to (0: as soon as the loop can), and while a
 * connection is open at least every PROMHTTP_TICK_MS: its epoll mode has
 * states no event or timeout leads out of (see run()), and one
 * epoll_wait a second is cheap insurance against any other while
 * someone is scraping. With nobody connected and no timeout there is no
 * such state (a connection's arrival makes the epoll descriptor
 * readable), and an idle smmd must not wake up for nothing.
 */
static void rearm(struct promhttp *h)
{
	MHD_UNSIGNED_LONG_LONG t;
	int timed = MHD_get_timeout(h->mhd, &t) == MHD_YES;

	if (!timed && connections(h) == 0) {
		uv_timer_stop(&h->timer);
		return;
	}
	if (!timed || t > PROMHTTP_TICK_MS)
		t = PROMHTTP_TICK_MS;
	uv_timer_start(&h->timer, on_timer, (uint64_t)t, 0);
}

/* A short text reply (404, 405, 500). */
static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status,
                                  const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ok;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Every request: the page, made afresh into one buffer. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct promhttp *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ok;
	size_t len;
	char *page;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	if (strcmp(url, "/metrics") != 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND,
		                  "not found: smmd serves /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		                  "method not allowed: GET /metrics\n");
	if ((page = h->page(h->arg, &len)) == NULL)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                  "out of memory\n");
	r = MHD_create_response_from_buffer(len, page, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(page);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        PROMTEXT_CONTENT_TYPE);
	ok = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ok;
}

/* MHD's own complaints (a client's bad request, mostly): debug lines. */
__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("metrics: %s", msg);
}

/* A listening socket on sa: the descriptor, or -errno. */
static int listen_on(const struct sockaddr *sa, socklen_t len)
{
	int fd, one = 1, e;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            0);
	if (fd < 0)
		return -errno;
	/* A restart must not wait for the last scrape's TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, sa, len) < 0 || listen(fd, PROMHTTP_CONNECTIONS) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static void closed(uv_handle_t *handle)
{
	struct promhttp *h = handle->data;

	if (--h->open_handles == 0)
		free(h);
}

/* MHD on fd, driven by h's handles: 0, or -1 (fd is closed). */
static int start_mhd(uv_loop_t *loop, struct promhttp *h, int fd, int family)
{
	const union MHD_DaemonInfo *info;

	h->mhd = MHD_start_daemon(
	        MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	                (family == AF_INET6 ? MHD_USE_IPv6 : 0),
	        0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
	        mhd_log, h, MHD_OPTION_LISTEN_SOCKET, fd,
	        MHD_OPTION_CONNECTION_LIMIT, (unsigned)PROMHTTP_CONNECTIONS,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)PROMHTTP_TIMEOUT_S,
	        MHD_OPTION_END);
	if (h->mhd == NULL) {
		close(fd);
		return -1;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || uv_poll_init(loop, &h->poll, info->epoll_fd) < 0) {
		MHD_stop_daemon(h->mhd); /* closes fd */
		return -1;
	}
	return 0;
}

int promhttp_start(uv_loop_t *loop, const struct sockaddr *sa, socklen_t len,
                   const char *name, promhttp_page_fn page, void *arg,
                   struct promhttp **out, char *err, size_t errlen)
{
	struct promhttp *h;
	int fd, r;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((fd = listen_on(sa, len)) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", name,
		         strerror(-fd));
		free(h);
		return fd;
	}
	h->page = page;
	h->arg = arg;
	if (start_mhd(loop, h, fd, sa->sa_family) < 0) {
		snprintf(err, errlen, "cannot start the HTTP server on %s",
		         name);
		free(h);
		return -EIO;
	}
	h->poll.data = h;
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	h->open_handles = 2;
	if ((r = uv_poll_start(&h->poll, UV_READABLE, on_poll)) < 0) {
		snprintf(err, errlen, "cannot watch the HTTP server on %s: %s",
		         name, uv_strerror(r));
		promhttp_close(h);
		return r;
	}
	rearm(h);
	*out = h;
	return 0;
}

void promhttp_close(struct promhttp *h)
{
	if (h == NULL)
		return;
	/*
	 * libuv lets go of the epoll descriptor first: closed under an
	 * active poll handle, its number could be reused and then dropped
	 * from the loop's own epoll set.
	 */
	uv_close((uv_handle_t *)&h->poll, closed);
	uv_close((uv_handle_t *)&h->timer, closed);
	MHD_stop_daemon(h->mhd); /* and the listening socket */
	h->mhd = NULL;
}
