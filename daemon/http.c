/*
 * The loop's side of HTTP: requests go to the curl thread (http_curl.c)
 * and their results come back to run each caller's callback here, on the
 * daemon's loop. http_impl.h says who owns what, and when.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_impl.h"
#include "log.h"
#include "looptime.h"

/*
 * How many results are handled between two calls of after_event: a burst
 * brings hundreds back at once, and a post due meanwhile must not wait for
 * all of them.
 */
#define HTTP_RESULTS_PER_EVENT 8
/* How many results one turn handles (see deliver_completed). */
#define HTTP_RESULTS_PER_TURN 32
/*
 * ... and only within the turn's budget (looptime_over_budget): a result
 * records the attempt and starts the next delivery, 60-200 us over 100
 * channels, so 32 of them held the loop up to 6.4 ms.
 */

void tqueue_init(struct tqueue *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

void tqueue_push(struct tqueue *q, struct transfer *t)
{
	t->next = NULL;
	*q->tail = t;
	q->tail = &t->next;
}

struct transfer *tqueue_take(struct tqueue *q)
{
	struct transfer *t = q->head;

	tqueue_init(q);
	return t;
}

/* Put the chain from first back at the head of q, in its order. */
static void tqueue_put_back(struct tqueue *q, struct transfer *first)
{
	struct transfer *last = first;

	while (last->next)
		last = last->next;
	last->next = q->head;
	if (q->head == NULL)
		q->tail = &last->next;
	q->head = first;
}

/*
 * One allocation a header, not curl_slist_append's two and a copy: a
 * webhook request has six, and the loop built and freed them for every
 * delivery.
 */
int http_header_add(struct curl_slist **list, const char *name,
                    const char *value)
{
	size_t nlen = strlen(name), vlen = value ? strlen(value) : 0;
	struct curl_slist *n, **tail = list;
	char *p;

	n = malloc(sizeof(*n) + nlen + 1 + (value ? 1 + vlen : 0) + 1);
	if (n == NULL)
		return -ENOMEM;
	n->data = p = (char *)(n + 1);
	n->next = NULL;
	memcpy(p, name, nlen);
	p += nlen;
	*p++ = ':';
	if (value) {
		*p++ = ' ';
		memcpy(p, value, vlen);
		p += vlen;
	}
	*p = '\0';
	while (*tail)
		tail = &(*tail)->next;
	*tail = n;
	return 0;
}

void http_headers_free(struct curl_slist *list)
{
	while (list) {
		struct curl_slist *next = list->next;

		explicit_bzero(list->data, strlen(list->data));
		free(list);
		list = next;
	}
}

void http_request_clear(struct http_request *req)
{
	free(req->url);
	http_headers_free(req->headers);
	free(req->body);
	memset(req, 0, sizeof(*req));
}

void http_hand_back(struct http *h)
{
	uv_async_send(&h->done_async);
}

static struct transfer *transfer_new(struct http *h)
{
	struct transfer *t;

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
	http_transfer_setup(t);
	return t;
}

/* Easy handles are recycled: creating one costs more than a request. */
static struct transfer *transfer_get(struct http *h)
{
	struct transfer *t = h->spare;

	if (t) {
		h->spare = t->next;
		h->nspare--;
	} else if ((t = transfer_new(h)) == NULL) {
		return NULL;
	}
	h->out++;
	t->next = t->prev = NULL;
	t->body_len = 0;
	t->body[0] = '\0';
	t->body_over = 0;
	t->added = 0;
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
	t->next = h->spare;
	h->spare = t;
	h->nspare++;
}

void http_reserve(struct http *h, unsigned n)
{
	/* http_close has freed the spares: none may be made after. */
	if (h->closing)
		return;
	while (h->out + h->nspare < n) {
		struct transfer *t = transfer_new(h);

		/* Not fatal: http_submit tries again, and says so. */
		if (t == NULL)
			return;
		t->next = h->spare;
		h->spare = t;
		h->nspare++;
	}
}

static void transfer_free(struct transfer *t)
{
	http_request_clear(&t->req);
	curl_easy_cleanup(t->easy);
	free(t->body);
	free(t);
}

static const char *captured(const struct transfer *t, enum captured_header h)
{
	return t->has_captured & (1u << h) ? t->captured[h] : NULL;
}

/* A transfer came back from the curl thread: tell its caller. */
static void deliver(struct http *h, struct transfer *t)
{
	struct http_result res = {.code = t->code};
	long sent = 0;
	char *ctype = NULL;

	if (t->code == CURLE_OK)
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &res.status);
	else if (t->body_over)
		res.error = "the response is larger than allowed";
	else if (t->refused[0])
		res.error = t->refused;
	else
		res.error =
		        t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->code);
	/*
	 * Never started, it sent nothing, whatever the handle says of its
	 * last request: a stop must not make a post's outcome unknown.
	 */
	if (t->added) {
		curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &sent);
		if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ctype) ==
		    CURLE_OK)
			res.content_type = ctype;
	}
	res.request_sent = sent > 0;
	res.latency_ms = (double)(t->finished_ns - t->started_ns) / 1e6;
	res.body = t->body;
	res.body_len = t->body_len;
	res.retry_after = captured(t, HDR_RETRY_AFTER);
	res.ratelimit = (struct ratelimit_headers){
	        .limit = captured(t, HDR_RL_LIMIT),
	        .remaining = captured(t, HDR_RL_REMAINING),
	        .reset = captured(t, HDR_RL_RESET),
	        .reset_after = captured(t, HDR_RL_RESET_AFTER),
	};
	res.restli_id = captured(t, HDR_RESTLI_ID);
	res.app_usage = captured(t, HDR_APP_USAGE);
	res.buc_usage = captured(t, HDR_BUC_USAGE);
	/*
	 * No longer out, though res borrows t->body until done returns: a
	 * next step that done submits may then go out from the loop.
	 */
	h->out--;
	t->done(t->arg, &res);
	transfer_put(h, t);
}

/*
 * Handle at most max of what came back, oldest first; 1 if more wait. A
 * burst brings hundreds back at once, and each result starts the next
 * delivery: all of them in one turn would hold every timer back for it.
 */
static int deliver_completed(struct http *h, unsigned max)
{
	struct transfer *t, *rest;
	unsigned n = 0;

	uv_mutex_lock(&h->mu);
	t = h->completed.head;
	while (t && ++n < max)
		t = t->next;
	if (t == NULL || t->next == NULL) {
		t = tqueue_take(&h->completed);
		rest = NULL;
	} else {
		rest = t->next;
		t->next = NULL;
		t = h->completed.head;
		h->completed.head = rest;
	}
	uv_mutex_unlock(&h->mu);
	n = 0;
	while (t) {
		struct transfer *next = t->next;

		deliver(h, t);
		if (++n % HTTP_RESULTS_PER_EVENT == 0 && h->after_event &&
		    !h->closing)
			h->after_event(h->after_event_arg);
		t = next;
		/* The turn is long: what is left goes first next turn. */
		if (t && looptime_over_budget()) {
			uv_mutex_lock(&h->mu);
			tqueue_put_back(&h->completed, t);
			uv_mutex_unlock(&h->mu);
			rest = t;
			break;
		}
	}
	if (n % HTTP_RESULTS_PER_EVENT != 0 && h->after_event && !h->closing)
		h->after_event(h->after_event_arg);
	return rest != NULL;
}

static void on_done(uv_async_t *a)
{
	uint64_t t0 = looptime_enter();

	/* The rest in the next turn, after the timers. */
	if (deliver_completed(a->data, HTTP_RESULTS_PER_TURN))
		uv_async_send(a);
	looptime_leave(t0, "http results", NULL);
}

struct http *http_new(uv_loop_t *loop, unsigned max_in_flight,
                      unsigned max_host_connections, char *err, size_t errlen)
{
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
	struct http *h;
	int r;

	/* A blocking resolver would stall every request behind it. */
	if (!(info->features & CURL_VERSION_ASYNCHDNS)) {
		snprintf(err, errlen,
		         "libcurl %s was built without asynchronous DNS; "
		         "smmd needs it (a blocking lookup would stall the "
		         "schedule)",
		         info->version);
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->loop = loop;
	tqueue_init(&h->submitted);
	tqueue_init(&h->completed);
	if (uv_mutex_init(&h->mu) < 0) {
		snprintf(err, errlen, "out of memory");
		free(h);
		return NULL;
	}
	if (http_curl_init(h, max_in_flight, max_host_connections, err,
	                   errlen) < 0) {
		uv_mutex_destroy(&h->mu);
		free(h);
		return NULL;
	}
	/* Nothing comes back before a submit: the handle can follow. */
	if ((r = http_curl_start(h)) < 0) {
		snprintf(err, errlen, "starting curl's thread: %s",
		         uv_strerror(r));
		http_curl_free(h);
		uv_mutex_destroy(&h->mu);
		free(h);
		return NULL;
	}
	uv_async_init(loop, &h->done_async, on_done);
	h->done_async.data = h;
	return h;
}

int http_submit(struct http *h, struct http_request *req, http_done_cb done,
                void *arg)
{
	struct transfer *t;
	int queued;
	CURL *e;

	if (h->closing || !h->thread_running)
		return -ECANCELED;
	if ((t = transfer_get(h)) == NULL)
		return -ENOMEM;
	/* An empty Expect stops curl's 100-continue round trip. */
	if (http_header_add(&req->headers, "Expect", NULL) < 0) {
		h->out--;
		transfer_put(h, t);
		return -ENOMEM;
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
	uv_mutex_lock(&h->mu);
	/* Never ahead of what waits for the thread (http_impl.h). */
	queued = h->submitted.head != NULL;
	uv_mutex_unlock(&h->mu);
	/*
	 * A lone request goes out from here, sparing the wake-up of the
	 * curl thread. Not while others are out, even between two of the
	 * thread's batches: the loop would do curl's work beside its own,
	 * and the thread, wanting the multi handle meanwhile, would sleep on
	 * its lock and need waking (a burst ran 7% slower so).
	 */
	if (!queued && h->out == 1 && http_curl_try_send(h, t))
		return 0;
	uv_mutex_lock(&h->mu);
	tqueue_push(&h->submitted, t);
	uv_mutex_unlock(&h->mu);
	/* Coalesced: one wake-up for what a turn submits while it waits. */
	uv_async_send(&h->wake);
	return 0;
}

void http_set_after_event(struct http *h, void (*fn)(void *), void *arg)
{
	h->after_event = fn;
	h->after_event_arg = arg;
}

void http_abort_all(struct http *h)
{
	if (!h->thread_running)
		return;
	uv_mutex_lock(&h->mu);
	h->abort_requested = 1;
	uv_mutex_unlock(&h->mu);
	uv_async_send(&h->wake);
}

static void done_async_closed(uv_handle_t *handle)
{
	struct http *h = handle->data;

	if (h->closed)
		h->closed(h->closed_arg);
}

void http_close(struct http *h, void (*closed)(void *), void *arg)
{
	h->closed = closed;
	h->closed_arg = arg;
	if (h->thread_running) {
		uv_mutex_lock(&h->mu);
		h->stop_requested = 1;
		uv_mutex_unlock(&h->mu);
		uv_async_send(&h->wake);
		/* Short: it aborts what is left and closes its sockets. */
		uv_thread_join(&h->thread);
		h->thread_running = 0;
	}
	/* Every transfer is back: their callbacks run, aborted, and may
	 * not submit again. */
	h->closing = 1;
	while (deliver_completed(h, HTTP_RESULTS_PER_TURN))
		;
	while (h->spare) {
		struct transfer *t = h->spare;

		h->spare = t->next;
		transfer_free(t);
	}
	h->nspare = 0;
	uv_close((uv_handle_t *)&h->done_async, done_async_closed);
}

void http_free(struct http *h)
{
	if (h == NULL)
		return;
	http_curl_free(h);
	uv_mutex_destroy(&h->mu);
	free(h);
}
