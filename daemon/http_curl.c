/*
 * The curl thread: libcurl's multi interface driven by a libuv loop of
 * its own. curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION)
 * and when to wake (CURLMOPT_TIMERFUNCTION); we keep the sockets in one
 * epoll set, poll it with one uv_poll_t, and call
 * curl_multi_socket_action. Transfers arrive from the daemon's loop
 * through h->submitted and go back through h->completed (http_impl.h).
 * Nothing here logs but a fatal error: the log is the loop's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addrguard.h"
#include "http_impl.h"
#include "log.h"

static const char *const captured_names[HDR_COUNT] = {
        "retry-after",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-reset-after",
        "x-restli-id",
        "x-app-usage",
        "x-business-use-case-usage",
};

static void list_remove(struct transfer **head, struct transfer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		*head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

static void list_push(struct transfer **head, struct transfer *t)
{
	t->prev = NULL;
	t->next = *head;
	if (*head)
		(*head)->prev = t;
	*head = t;
}

/* Out of curl's hands: queued to go back at the end of this batch. */
static void complete(struct http *h, struct transfer *t, CURLcode code)
{
	t->code = code;
	t->finished_ns = uv_hrtime();
	tqueue_push(&h->finished, t);
}

/* One lock and one wake-up for a whole batch of completions. */
static void hand_back(struct http *h)
{
	struct transfer *t = tqueue_take(&h->finished);

	if (t == NULL)
		return;
	uv_mutex_lock(&h->mu);
	while (t) {
		struct transfer *next = t->next;

		tqueue_push(&h->completed, t);
		t = next;
	}
	uv_mutex_unlock(&h->mu);
	http_hand_back(h);
}

/* Drain every finished transfer, after every socket_action. */
static void check_done(struct http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct transfer *t;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		                  (char **)&t);
		/* msg is curl's: read it before the handle leaves. */
		CURLcode code = msg->data.result;

		curl_multi_remove_handle(h->multi, t->easy);
		list_remove(&h->active, t);
		complete(h, t, code);
	}
}

static int watching_grow(struct http *h, int fd)
{
	size_t n = h->nwatching ? h->nwatching : 64;
	struct watch *w;

	while (n <= (size_t)fd)
		n *= 2;
	if ((w = realloc(h->watching, n * sizeof(*w))) == NULL)
		return -1;
	memset(w + h->nwatching, 0, (n - h->nwatching) * sizeof(*w));
	h->watching = w;
	h->nwatching = n;
	return 0;
}

/* fd out of the epoll set, now. */
static void watch_drop(struct http *h, int fd)
{
	struct watch *w = &h->watching[fd];

	if (w->registered)
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->registered = 0;
	w->events = 0;
}

/* Tell curl what epfd saw: a batch per turn, level-triggered. */
static void on_epoll(uv_poll_t *poll, int status, int events)
{
	struct http *h = poll->data;
	struct epoll_event ev[256];
	int n, running;

	(void)events;
	if (status < 0)
		fatalx("http: polling curl's sockets: %s", uv_strerror(status));
	if ((n = epoll_wait(h->epfd, ev, 256, 0)) < 0) {
		if (errno == EINTR)
			return;
		/* Level-triggered: ignoring this would spin, silently. */
		fatalx("http: epoll_wait: %s", strerror(errno));
	}
	uv_mutex_lock(&h->multi_mu);
	for (int i = 0; i < n && !h->stopping; i++) {
		int fd = (int)(ev[i].data.u64 & 0xffffffffu), flags = 0;
		uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);

		if ((size_t)fd >= h->nwatching || h->watching[fd].gen != gen)
			continue;
		if (h->watching[fd].events == 0) {
			watch_drop(h, fd);
			continue;
		}
		if (ev[i].events & (EPOLLIN | EPOLLHUP))
			flags |= CURL_CSELECT_IN;
		if (ev[i].events & EPOLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (ev[i].events & EPOLLERR)
			flags |= CURL_CSELECT_ERR;
		curl_multi_socket_action(h->multi, fd, flags, &running);
		check_done(h);
	}
	hand_back(h);
	uv_mutex_unlock(&h->multi_mu);
}

static int on_socket(CURL *easy, curl_socket_t fd, int action, void *userp,
                     void *socketp)
{
	struct http *h = userp;
	struct epoll_event ev = {0};
	struct watch *w;
	int op;

	(void)easy;
	(void)socketp;
	if (fd < 0 || ((size_t)fd >= h->nwatching && watching_grow(h, fd) < 0))
		return -1;
	w = &h->watching[fd];
	if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
		ev.events |= EPOLLIN;
	if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
		ev.events |= EPOLLOUT;
	if (ev.events == 0) {
		/*
		 * A connection set aside stays in the set: its next request
		 * most often waits for the same events, and then costs no
		 * epoll_ctl (1.5 a request before). Should it stir while idle
		 * (EPOLLHUP is never masked), on_epoll takes it out. Only our
		 * own sockets: we hear of their close (on_close_socket), and
		 * a closed fd may come back as another socket. curl's others
		 * (the resolver's socketpair) leave the set at once.
		 */
		w->events = 0;
		if (!w->ours)
			watch_drop(h, fd);
		return 0;
	}
	w->events = ev.events;
	if (w->registered == ev.events)
		return 0;
	op = w->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (op == EPOLL_CTL_ADD)
		w->gen++;
	ev.data.u64 = (uint64_t)w->gen << 32 | (uint32_t)fd;
	if (epoll_ctl(h->epfd, op, fd, &ev) < 0) {
		/*
		 * MOD of a socket closed without a REMOVE (it left the set by
		 * itself): this fd is a new socket, add it.
		 */
		if (op != EPOLL_CTL_MOD || errno != ENOENT)
			return -1; /* the set is as it was */
		w->registered = 0;
		ev.data.u64 = (uint64_t)++w->gen << 32 | (uint32_t)fd;
		if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -1;
	}
	w->registered = ev.events;
	return 0;
}

static void on_timeout(uv_timer_t *timer)
{
	struct http *h = timer->data;
	int running;

	uv_mutex_lock(&h->multi_mu);
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
	hand_back(h);
	uv_mutex_unlock(&h->multi_mu);
}

/* Under multi_mu, on the curl thread: curl's wish for its timer. */
static void arm_timer(struct http *h, long timeout_ms)
{
	if (timeout_ms < 0)
		uv_timer_stop(&h->timer);
	else
		/* Never call curl from here: the loop runs on_timeout. */
		uv_timer_start(&h->timer, on_timeout, (uint64_t)timeout_ms, 0);
}

/* curl asks to be woken after timeout_ms; -1 means never. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;
	uv_thread_t self = uv_thread_self();

	(void)multi;
	if (h->stopping)
		return 0;
	if (uv_thread_equal(&self, &h->thread)) {
		arm_timer(h, timeout_ms);
		return 0;
	}
	/* On the loop (http_curl_try_send): the thread's timer is its own. */
	h->timer_wanted = timeout_ms;
	h->timer_dirty = 1;
	uv_async_send(&h->wake);
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t n = size * nmemb, room, limit;

	limit = t->req.max_body ? t->req.max_body : HTTP_BODY_CAP;
	if (t->req.max_body && t->body_len + n > limit) {
		/* A fetch larger than allowed: stop reading now. */
		t->body_over = 1;
		return 0;
	}
	if (t->body_len + n > t->body_cap && t->body_cap < limit) {
		size_t cap = t->body_cap;
		char *grown;

		while (cap < t->body_len + n && cap < limit)
			cap *= 2;
		if (cap > limit)
			cap = limit;
		if ((grown = realloc(t->body, cap + 1)) == NULL)
			return 0;
		t->body = grown;
		t->body_cap = cap;
	}
	/* API replies: keep the first HTTP_BODY_CAP bytes, drop the rest. */
	room = t->body_cap - t->body_len;
	if (n < room)
		room = n;
	if (room > 0) {
		memcpy(t->body + t->body_len, data, room);
		t->body_len += room;
		t->body[t->body_len] = '\0';
	}
	return n;
}

/*
 * Post-sourced URLs: judge the address curl is about to connect to, after
 * DNS, so no spelling of a private address and no DNS trick gets through.
 */
static curl_socket_t on_open_socket(void *userp, curlsocktype purpose,
                                    struct curl_sockaddr *addr)
{
	struct transfer *t = userp;
	struct http *h = t->http;
	curl_socket_t fd;
	char why[64];

	(void)purpose;
	if (t->req.guard && !addrguard_public(&addr->addr, why, sizeof(why))) {
		snprintf(t->refused, sizeof(t->refused),
		         "refused to connect: the media URL resolves to a %s",
		         why);
		return CURL_SOCKET_BAD;
	}
	fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC,
	            addr->protocol);
	if (fd >= 0 && ((size_t)fd < h->nwatching || watching_grow(h, fd) == 0))
		h->watching[fd].ours = 1;
	return fd;
}

/* curl is done with a socket on_open_socket made: out of the set first. */
static int on_close_socket(void *userp, curl_socket_t fd)
{
	struct http *h = userp;

	if ((size_t)fd < h->nwatching) {
		watch_drop(h, fd);
		h->watching[fd].ours = 0;
		/* An event of this batch for the old socket is stale. */
		h->watching[fd].gen++;
	}
	return close(fd);
}

/*
 * The header name key (klen bytes) as captured_names spell it, in out
 * (lowercase): X's X-Rate-Limit-* and the IETF draft's RateLimit-*
 * (Bluesky's) are the X-RateLimit-* family. *alias says it was one of
 * those. 0 when it is too long to be any of them.
 */
static size_t header_canon(const char *key, size_t klen, char *out, size_t cap,
                           int *alias)
{
	static const char *const aliases[] = {"x-rate-limit-", "ratelimit-"};
	size_t o = 0;

	*alias = 0;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(*aliases); i++) {
		size_t an = strlen(aliases[i]);

		if (klen > an && strncasecmp(key, aliases[i], an) == 0) {
			o = (size_t)snprintf(out, cap, "x-ratelimit-");
			key += an;
			klen -= an;
			*alias = i == 1;
			break;
		}
	}
	if (o + klen >= cap)
		return 0;
	for (size_t i = 0; i < klen; i++)
		out[o++] = (char)tolower((unsigned char)key[i]);
	out[o] = '\0';
	return o;
}

/* Keep the header line data (n bytes) if it is one of captured_names. */
static void capture_header(struct transfer *t, const char *data, size_t n)
{
	const char *colon = memchr(data, ':', n);
	char name[48];
	size_t klen, vlen;
	const char *v;
	int ietf;

	if (colon == NULL)
		return;
	klen = (size_t)(colon - data);
	if (header_canon(data, klen, name, sizeof(name), &ietf) == 0)
		return;
	for (int i = 0; i < HDR_COUNT; i++) {
		/* The X- spelling wins where a server sends both. */
		if (strcmp(name, captured_names[i]) != 0 ||
		    (ietf && (t->has_captured & 1u << i)))
			continue;
		v = colon + 1;
		vlen = n - klen - 1;
		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen > 0 && (v[vlen - 1] == '\r' ||
		                    v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
			vlen--;
		if (vlen < sizeof(t->captured[i])) {
			memcpy(t->captured[i], v, vlen);
			t->captured[i][vlen] = '\0';
			t->has_captured |= 1u << i;
		}
		return;
	}
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t n = size * nmemb;

	/* A new status line starts a new response (after 1xx): forget. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		t->has_captured = 0;
		t->body_len = 0;
		t->body[0] = '\0';
		return n;
	}
	capture_header(t, data, n);
	return n;
}

/*
 * Options every request of this handle shares, set once: handles are
 * recycled without curl_easy_reset, which costs more than the request.
 */
void http_transfer_setup(struct transfer *t)
{
	CURL *e = t->easy;

	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "smmd/" PACKAGE_VERSION);
	/*
	 * HTTP/2 where TLS offers it. No CURLOPT_PIPEWAIT: waiting for a busy
	 * connection to prove it can multiplex would queue a post behind
	 * another's slow reply.
	 */
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	/* Judges t->req.guard; plain socket() otherwise. */
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
	/* The connection keeps these past t: h, not t. */
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, t->http);
}

static void abort_one(struct http *h, struct transfer *t)
{
	snprintf(t->errbuf, sizeof(t->errbuf), "aborted: smmd is stopping");
	complete(h, t, CURLE_ABORTED_BY_CALLBACK);
}

static void abort_active(struct http *h)
{
	while (h->active) {
		struct transfer *t = h->active;

		curl_multi_remove_handle(h->multi, t->easy);
		list_remove(&h->active, t);
		abort_one(h, t);
	}
}

static void thread_closed(uv_handle_t *handle)
{
	(void)handle;
}

/* Stop for good: what is left goes back aborted, the handles close. */
static void shut_down(struct http *h)
{
	h->stopping = 1;
	abort_active(h);
	hand_back(h);
	/* Close cached connections; curl reports each socket's REMOVE. */
	curl_multi_cleanup(h->multi);
	h->multi = NULL;
	uv_poll_stop(&h->epoll);
	uv_close((uv_handle_t *)&h->epoll, thread_closed);
	uv_close((uv_handle_t *)&h->timer, thread_closed);
	uv_close((uv_handle_t *)&h->wake, thread_closed);
}

/* The loop submitted transfers, or asks to abort or to stop. */
static void on_wake(uv_async_t *a)
{
	struct http *h = a->data;
	struct transfer *t;
	int abort, stop, added = 0, running;

	uv_mutex_lock(&h->multi_mu);
	if (h->stopping) {
		uv_mutex_unlock(&h->multi_mu);
		return;
	}
	if (h->timer_dirty) {
		h->timer_dirty = 0;
		arm_timer(h, h->timer_wanted);
	}
	uv_mutex_lock(&h->mu);
	t = tqueue_take(&h->submitted);
	abort = h->abort_requested;
	stop = h->stop_requested;
	h->abort_requested = 0;
	uv_mutex_unlock(&h->mu);
	while (t) {
		struct transfer *next = t->next;

		t->next = NULL;
		if (abort || stop) {
			abort_one(h, t);
		} else if (curl_multi_add_handle(h->multi, t->easy) !=
		           CURLM_OK) {
			snprintf(t->errbuf, sizeof(t->errbuf),
			         "curl refused the transfer");
			complete(h, t, CURLE_FAILED_INIT);
		} else {
			list_push(&h->active, t);
			t->added = added = 1;
		}
		t = next;
	}
	if (stop) {
		shut_down(h);
		uv_mutex_unlock(&h->multi_mu);
		return;
	}
	if (abort)
		abort_active(h);
	/* On the wire now, not after another trip round this loop. */
	if (added) {
		curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
		                         &running);
		check_done(h);
	}
	hand_back(h);
	uv_mutex_unlock(&h->multi_mu);
}

int http_curl_try_send(struct http *h, struct transfer *t)
{
	int running;

	if (uv_mutex_trylock(&h->multi_mu) != 0)
		return 0;
	/*
	 * Only when nothing is in flight: in a burst the thread drives the
	 * multi handle, and the loop keeps to the rest.
	 */
	if (h->stopping || h->active != NULL ||
	    curl_multi_add_handle(h->multi, t->easy) != CURLM_OK) {
		uv_mutex_unlock(&h->multi_mu);
		return 0;
	}
	t->added = 1;
	list_push(&h->active, t);
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
	hand_back(h);
	uv_mutex_unlock(&h->multi_mu);
	return 1;
}

static void thread_main(void *arg)
{
	struct http *h = arg;

	/* Named for top -H, ps -L and the bench's CPU a thread. */
	prctl(PR_SET_NAME, "smmd-curl");
	uv_run(&h->tloop, UV_RUN_DEFAULT);
}

int http_curl_init(struct http *h, unsigned max_in_flight,
                   unsigned max_host_connections, char *err, size_t errlen)
{
	int r;

	if ((r = uv_mutex_init(&h->multi_mu)) < 0) {
		snprintf(err, errlen, "a lock for curl: %s", uv_strerror(r));
		return -ENOMEM;
	}
	if ((r = uv_loop_init(&h->tloop)) < 0) {
		uv_mutex_destroy(&h->multi_mu);
		snprintf(err, errlen, "a loop for curl: %s", uv_strerror(r));
		return -ENOMEM;
	}
	if ((h->multi = curl_multi_init()) == NULL) {
		uv_loop_close(&h->tloop);
		uv_mutex_destroy(&h->multi_mu);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((h->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (r = uv_poll_init(&h->tloop, &h->epoll, h->epfd)) < 0) {
		snprintf(err, errlen, "polling curl's sockets: %s",
		         h->epfd < 0 ? strerror(errno) : uv_strerror(r));
		if (h->epfd >= 0)
			close(h->epfd);
		curl_multi_cleanup(h->multi);
		uv_loop_close(&h->tloop);
		uv_mutex_destroy(&h->multi_mu);
		return -EIO;
	}
	h->epoll.data = h;
	/* Can't fail on a handle just made for a fresh epoll fd. */
	if ((r = uv_poll_start(&h->epoll, UV_READABLE, on_epoll)) < 0)
		fatalx("http: polling an epoll set: %s", uv_strerror(r));
	uv_timer_init(&h->tloop, &h->timer);
	h->timer.data = h;
	uv_async_init(&h->tloop, &h->wake, on_wake);
	h->wake.data = h;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	/* Keep a warm connection for every request that may be in flight. */
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)max_in_flight);
	/* One API host must not get every connection we have. */
	if (max_host_connections > 0)
		curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
		                  (long)max_host_connections);
	/* Several requests share one HTTP/2 connection where offered. */
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	tqueue_init(&h->finished);
	return 0;
}

int http_curl_start(struct http *h)
{
	int r = uv_thread_create(&h->thread, thread_main, h);

	if (r == 0)
		h->thread_running = 1;
	return r;
}

void http_curl_free(struct http *h)
{
	/* A thread that never ran left its handles open. */
	if (h->multi) {
		shut_down(h);
		uv_run(&h->tloop, UV_RUN_DEFAULT);
	}
	uv_loop_close(&h->tloop);
	close(h->epfd);
	free(h->watching);
	uv_mutex_destroy(&h->multi_mu);
}
