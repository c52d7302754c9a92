#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "addrguard.h"
#include "http.h"
#include "log.h"

/*
 * One transfer. Easy handles are recycled through a free list: creating one
 * per delivery costs more than the request itself on loopback.
 */
/* The response headers kept for callers: retry and rate-limit advice. */
enum captured_header {
	HDR_RETRY_AFTER,
	HDR_RL_LIMIT,
	HDR_RL_REMAINING,
	HDR_RL_RESET,
	HDR_RL_RESET_AFTER,
	HDR_COUNT
};

static const char *const captured_names[HDR_COUNT] = {
        "retry-after",       "x-ratelimit-limit",       "x-ratelimit-remaining",
        "x-ratelimit-reset", "x-ratelimit-reset-after",
};

struct transfer {
	CURL *easy;
	struct http *http;
	struct http_request req;
	http_done_cb done;
	void *arg;
	uint64_t started_ns;
	char *body;
	size_t body_len;
	size_t body_cap; /* allocated */
	int body_over;   /* a capped fetch was larger than allowed */
	char captured[HDR_COUNT][64]; /* headers a caller reads */
	unsigned has_captured;        /* bit i: captured[i] is set */
	char errbuf[CURL_ERROR_SIZE];
	/*
	 * The address guard's refusal. Not in errbuf: curl writes its own
	 * "Failed to connect" there afterwards, and the reason would be lost.
	 */
	char refused[128];
	struct transfer *prev, *next;
};

struct http {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	/*
	 * curl's sockets live in an epoll set of our own, which the loop
	 * watches as one fd. curl changes what it waits for two or three
	 * times per request; uv_poll would pay a handle and a delete-and-add
	 * for each change, this pays one epoll_ctl.
	 */
	int epfd;
	uv_poll_t epoll;
	struct watch *watching; /* by fd */
	size_t nwatching;
	struct transfer *active;
	struct transfer *spare;
	int closing;
	unsigned pending_closes;
	void (*closed)(void *);
	void *closed_arg;
	void (*after_event)(void *);
	void *after_event_arg;
};

static void check_done(struct http *h);

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

void http_request_clear(struct http_request *req)
{
	free(req->url);
	curl_slist_free_all(req->headers);
	free(req->body);
	memset(req, 0, sizeof(*req));
}

static void maybe_closed(struct http *h)
{
	if (h->closing && h->pending_closes == 0 && h->closed)
		h->closed(h->closed_arg);
}

/*
 * What epfd has for one fd. gen changes whenever the fd is added anew, and
 * travels with each event: an event read in the same batch as its socket's
 * close must not reach a new socket that got the same fd number meanwhile
 * (an error flag alone would fail that one's transfer).
 */
struct watch {
	uint32_t events; /* 0: not in the set */
	uint32_t gen;
};

/* Tell curl what epfd saw: a batch per loop turn, level-triggered. */
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
	for (int i = 0; i < n && !h->closing; i++) {
		int fd = (int)(ev[i].data.u64 & 0xffffffffu), flags = 0;
		uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);

		if ((size_t)fd >= h->nwatching || h->watching[fd].gen != gen ||
		    h->watching[fd].events == 0)
			continue;
		if (ev[i].events & (EPOLLIN | EPOLLHUP))
			flags |= CURL_CSELECT_IN;
		if (ev[i].events & EPOLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (ev[i].events & EPOLLERR)
			flags |= CURL_CSELECT_ERR;
		curl_multi_socket_action(h->multi, fd, flags, &running);
		check_done(h);
		if (h->after_event && !h->closing)
			h->after_event(h->after_event_arg);
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
	/*
	 * Out of the set when curl is done with it: an idle connection's
	 * hang-up would otherwise be reported (EPOLLHUP is never masked)
	 * over and over.
	 */
	if (ev.events == 0) {
		if (w->events)
			epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
		w->events = 0;
		return 0;
	}
	op = w->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (op == EPOLL_CTL_ADD)
		w->gen++;
	ev.data.u64 = (uint64_t)w->gen << 32 | (uint32_t)fd;
	if (epoll_ctl(h->epfd, op, fd, &ev) < 0) {
		/*
		 * MOD of a socket closed without a REMOVE (it left the set by
		 * itself): this fd is a new socket, add it.
		 */
		if (op != EPOLL_CTL_MOD || errno != ENOENT)
			return -1;
		ev.data.u64 = (uint64_t)++w->gen << 32 | (uint32_t)fd;
		if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -1;
	}
	w->events = ev.events;
	return 0;
}

static void on_timeout(uv_timer_t *timer)
{
	struct http *h = timer->data;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

/* curl asks to be woken after timeout_ms; -1 means never. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	if (h->closing)
		return 0;
	if (timeout_ms < 0)
		uv_timer_stop(&h->timer);
	else
		/* Never call curl from here: the loop runs on_timeout. */
		uv_timer_start(&h->timer, on_timeout, (uint64_t)timeout_ms, 0);
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
	char why[64];

	if (t->req.guard && !addrguard_public(&addr->addr, why, sizeof(why))) {
		snprintf(t->refused, sizeof(t->refused),
		         "refused to connect: the media URL resolves to a %s",
		         why);
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC,
	              addr->protocol);
}

/* Keep the header line data (n bytes) if it is one of captured_names. */
static void capture_header(struct transfer *t, const char *data, size_t n)
{
	const char *colon = memchr(data, ':', n);
	size_t klen, vlen;
	const char *v;

	if (colon == NULL)
		return;
	klen = (size_t)(colon - data);
	for (int i = 0; i < HDR_COUNT; i++) {
		if (strlen(captured_names[i]) != klen ||
		    strncasecmp(data, captured_names[i], klen) != 0)
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

static const char *captured(const struct transfer *t, enum captured_header h)
{
	return t->has_captured & (1u << h) ? t->captured[h] : NULL;
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
static void transfer_setup(struct transfer *t)
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
}

static struct transfer *transfer_get(struct http *h)
{
	struct transfer *t = h->spare;

	if (t) {
		list_remove(&h->spare, t);
	} else {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			return NULL;
		t->body_cap = 4096;
		if ((t->body = malloc(t->body_cap + 1)) == NULL ||
		    (t->easy = curl_easy_init()) == NULL) {
			free(t->body);
			free(t);
			return NULL;
		}
		t->http = h;
		transfer_setup(t);
	}
	t->body_len = 0;
	t->body[0] = '\0';
	t->body_over = 0;
	t->has_captured = 0;
	t->errbuf[0] = '\0';
	t->refused[0] = '\0';
	return t;
}

static void transfer_put(struct http *h, struct transfer *t)
{
	http_request_clear(&t->req);
	/* Don't keep a media file's worth of buffer around. */
	if (t->body_cap > HTTP_BODY_CAP) {
		char *small = realloc(t->body, HTTP_BODY_CAP + 1);

		if (small) {
			t->body = small;
			t->body_cap = HTTP_BODY_CAP;
		}
	}
	t->done = NULL;
	t->arg = NULL;
	list_push(&h->spare, t);
}

static void transfer_free(struct transfer *t)
{
	http_request_clear(&t->req);
	curl_easy_cleanup(t->easy);
	free(t->body);
	free(t);
}

static void finish(struct http *h, struct transfer *t, CURLcode code)
{
	struct http_result res = {0};
	http_done_cb done = t->done;
	void *arg = t->arg;

	curl_multi_remove_handle(h->multi, t->easy);
	list_remove(&h->active, t);

	res.code = code;
	if (code == CURLE_OK)
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &res.status);
	else if (t->body_over)
		res.error = "the response is larger than allowed";
	else if (t->refused[0])
		res.error = t->refused;
	else
		res.error = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);
	{
		long sent = 0;
		char *ctype = NULL;

		curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &sent);
		res.request_sent = sent > 0;
		if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ctype) ==
		    CURLE_OK)
			res.content_type = ctype;
	}
	res.latency_ms = (double)(uv_hrtime() - t->started_ns) / 1e6;
	res.body = t->body;
	res.body_len = t->body_len;
	res.retry_after = captured(t, HDR_RETRY_AFTER);
	res.ratelimit = (struct ratelimit_headers){
	        .limit = captured(t, HDR_RL_LIMIT),
	        .remaining = captured(t, HDR_RL_REMAINING),
	        .reset = captured(t, HDR_RL_RESET),
	        .reset_after = captured(t, HDR_RL_RESET_AFTER),
	};
	/* res borrows t->body: recycle t only after done has run. */
	done(arg, &res);
	transfer_put(h, t);
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
		finish(h, t, msg->data.result);
	}
}

struct http *http_new(uv_loop_t *loop, unsigned max_in_flight,
                      unsigned max_host_connections, char *err, size_t errlen)
{
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
	struct http *h;
	int r;

	/* A blocking resolver would stall every timer on the loop. */
	if (!(info->features & CURL_VERSION_ASYNCHDNS)) {
		snprintf(err, errlen,
		         "libcurl %s was built without asynchronous DNS; "
		         "smmd needs it (a blocking lookup would stall the "
		         "schedule)",
		         info->version);
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto nomem;
	h->loop = loop;
	if ((h->multi = curl_multi_init()) == NULL) {
		free(h);
		goto nomem;
	}
	if ((h->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		curl_multi_cleanup(h->multi);
		free(h);
		return NULL;
	}
	if ((r = uv_poll_init(loop, &h->epoll, h->epfd)) < 0) {
		snprintf(err, errlen, "polling an epoll set: %s",
		         uv_strerror(r));
		close(h->epfd);
		curl_multi_cleanup(h->multi);
		free(h);
		return NULL;
	}
	h->epoll.data = h;
	/* Can't fail on a handle just made for a fresh epoll fd. */
	if ((r = uv_poll_start(&h->epoll, UV_READABLE, on_epoll)) < 0)
		fatalx("http: polling an epoll set: %s", uv_strerror(r));
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
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
	return h;
nomem:
	snprintf(err, errlen, "out of memory");
	return NULL;
}

int http_submit(struct http *h, struct http_request *req, http_done_cb done,
                void *arg)
{
	struct transfer *t;
	CURL *e;

	if (h->closing)
		return -ECANCELED;
	if ((t = transfer_get(h)) == NULL)
		return -ENOMEM;
	/* An empty Expect stops curl's 100-continue round trip. */
	{
		struct curl_slist *n =
		        curl_slist_append(req->headers, "Expect:");

		if (n == NULL) {
			transfer_put(h, t);
			return -ENOMEM;
		}
		req->headers = n;
	}
	t->req = *req;
	memset(req, 0, sizeof(*req));
	t->done = done;
	t->arg = arg;
	e = t->easy;
	/* Only what differs between requests: the rest is set once. */
	curl_easy_setopt(e, CURLOPT_URL, t->req.url);
	if (t->req.body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->req.body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)t->req.body_len);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
	                 t->req.method[0] &&
	                                 strcmp(t->req.method, "GET") != 0 &&
	                                 strcmp(t->req.method, "POST") != 0
	                         ? t->req.method
	                         : NULL);
	/*
	 * A pooled connection was judged for someone else's URL; and a
	 * request that must not be repeated can't be, on a fresh one.
	 */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT,
	                 t->req.guard || t->req.once ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE,
	                 t->req.guard || t->req.once ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->req.headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t->req.timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	                 t->req.connect_timeout_ms);
	t->started_ns = uv_hrtime();
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		transfer_put(h, t);
		return -EIO;
	}
	list_push(&h->active, t);
	return 0;
}

void http_kick(struct http *h)
{
	int running;

	if (h->closing)
		return;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

void http_set_after_event(struct http *h, void (*fn)(void *), void *arg)
{
	h->after_event = fn;
	h->after_event_arg = arg;
}

void http_abort_all(struct http *h)
{
	while (h->active) {
		struct transfer *t = h->active;

		snprintf(t->errbuf, sizeof(t->errbuf),
		         "aborted: smmd is stopping");
		finish(h, t, CURLE_ABORTED_BY_CALLBACK);
	}
}

static void handle_closed(uv_handle_t *handle)
{
	struct http *h = handle->data;

	h->pending_closes--;
	maybe_closed(h);
}

void http_close(struct http *h, void (*closed)(void *), void *arg)
{
	h->closed = closed;
	h->closed_arg = arg;
	http_abort_all(h);
	h->closing = 1;
	/* Close cached connections; curl reports each socket's REMOVE. */
	curl_multi_cleanup(h->multi);
	h->multi = NULL;
	uv_poll_stop(&h->epoll);
	h->pending_closes++;
	uv_close((uv_handle_t *)&h->epoll, handle_closed);
	while (h->spare) {
		struct transfer *t = h->spare;

		list_remove(&h->spare, t);
		transfer_free(t);
	}
	h->pending_closes++;
	uv_close((uv_handle_t *)&h->timer, handle_closed);
}

void http_free(struct http *h)
{
	if (h == NULL)
		return;
	close(h->epfd);
	free(h->watching);
	free(h);
}
