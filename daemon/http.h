/*
 * HTTP requests through libcurl's multi interface, which runs on a thread
 * of its own (http_curl.c) so that its work and the kernel's never take a
 * turn of the daemon's loop; each request's callback runs on the loop.
 * Nothing here blocks the loop.
 */
#ifndef SMMD_HTTP_H
#define SMMD_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <uv.h>

#include "ratelimit.h"

/* Response bodies are read up to this much; the rest is discarded. */
#define HTTP_BODY_CAP (64 * 1024)

struct http_request {
	char method[8];             /* "": POST with a body, else GET */
	char *url;                  /* owned */
	struct curl_slist *headers; /* owned */
	char *body;                 /* owned; NULL for none */
	size_t body_len;
	long timeout_ms;
	long connect_timeout_ms;
	/*
	 * 0: keep the first HTTP_BODY_CAP bytes of the response and drop
	 * the rest (API replies). Otherwise the whole body is wanted and a
	 * larger one fails the request (fetching a media file).
	 */
	size_t max_body;
	/* The URL came from a post: refuse private destinations. */
	int guard;
	/*
	 * The endpoint can't drop a repeat: send it on a connection of its
	 * own, closed after. On a reused connection that dies before any
	 * answer, libcurl sends the request again by itself (it takes the
	 * server to have closed it while idle), but the server may have
	 * acted on it: on a fresh one it never does.
	 */
	int once;
};

struct http_result {
	long status; /* 0: no HTTP response at all */
	CURLcode code;
	const char *error; /* curl's message when code != OK */
	double latency_ms;
	const char *body; /* NUL-terminated */
	size_t body_len;
	const char *retry_after;            /* the header's value, or NULL */
	struct ratelimit_headers ratelimit; /* X-RateLimit-*, raw */
	const char *content_type;           /* the response's, or NULL */
	/* LinkedIn's x-restli-id (the URN of what a POST created), or NULL */
	const char *restli_id;
	/* Meta's X-App-Usage and X-Business-Use-Case-Usage, or NULL. */
	const char *app_usage, *buc_usage;
	/*
	 * Whether any of the request was sent. One that never left can be
	 * retried even where repeating a request is unsafe.
	 */
	int request_sent;
};

struct http;
typedef void (*http_done_cb)(void *arg, const struct http_result *);

/* Returns NULL if curl lacks asynchronous DNS or on allocation failure. */
struct http *http_new(uv_loop_t *loop, unsigned max_in_flight,
                      unsigned max_host_connections, char *err, size_t errlen);
/*
 * Start req (whose buffers http now owns, freed after done runs). done is
 * called exactly once, from the loop, never from inside http_submit.
 * Returns 0 or a negative errno.
 */
int http_submit(struct http *, struct http_request *req, http_done_cb done,
                void *arg);
/*
 * Have a transfer ready for each of n requests in flight at once. Making
 * one (curl_easy_init, its options) costs tens of microseconds in fresh
 * memory: the dispatcher reserves as it prepares a delivery, ahead of its
 * instant, so that the first requests of a burst leave without making
 * theirs at the instant they are due. The reserve is kept, like every
 * transfer given back.
 */
void http_reserve(struct http *, unsigned n);
/*
 * Call fn after every few results handled on the loop. A burst brings
 * hundreds back at once; fn is how a send whose instant comes meanwhile
 * leaves on time instead of after all of them.
 */
void http_set_after_event(struct http *, void (*fn)(void *), void *arg);
/*
 * Abort every transfer submitted so far: each done callback runs, soon,
 * from the loop, with CURLE_ABORTED_BY_CALLBACK.
 */
void http_abort_all(struct http *);
/*
 * Stop the curl thread (what is still in flight is aborted and its done
 * callbacks run before this returns); closed is called once the last
 * libuv handle is closed.
 */
void http_close(struct http *, void (*closed)(void *), void *arg);
void http_request_clear(struct http_request *);
/*
 * Append "Name: value" to a request's header list ("Name:" when value is
 * NULL, which makes curl drop a header it would add). The list is ours,
 * not curl_slist_append's: a node and its line in one block, wiped when
 * freed (a line may carry a token). 0, or -ENOMEM.
 */
int http_header_add(struct curl_slist **, const char *name, const char *value);
void http_headers_free(struct curl_slist *);
/* After http_close has reported closed. */
void http_free(struct http *);

#endif
