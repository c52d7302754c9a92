/*
 * What http.c (the loop's side) and http_curl.c (the curl thread) share.
 *
 * libcurl's work (the multi handle, its sockets, the kernel's send and
 * receive) runs on a thread of its own, with a libuv loop of its own:
 * on the daemon's loop it cost as much as everything else a delivery
 * needs, and every turn spent in it was a turn no timer could fire in.
 * A transfer is owned by exactly one side at a time and moves between
 * them through two queues under one mutex:
 *
 *   loop: spare --http_submit--> submitted --thread: on_wake--> active
 *   active --thread: completed--> completed --loop: on_done--> spare
 *
 * Easy handles are set up (curl_easy_setopt) on the loop while no multi
 * holds them, and read (curl_easy_getinfo) there once handed back: libcurl
 * allows an easy handle to be used from any one thread at a time.
 *
 * One shortcut: waking the thread costs 0.04-0.3 ms on this kind of
 * machine, on every post's way out. When the thread is idle (multi_mu is
 * free, nothing in flight, nothing queued) and the request is the only
 * one the loop has out (out == 1), the loop adds the transfer and lets
 * curl send it itself, under multi_mu; the thread reads the answer.
 * Everything the multi handle touches (active, watching, finished, the
 * timer's wish) is under multi_mu, whichever thread drives it.
 */
#ifndef SMMD_HTTP_IMPL_H
#define SMMD_HTTP_IMPL_H

#include <curl/curl.h>
#include <stdint.h>
#include <uv.h>

#include "http.h"

/* The response headers kept for callers: retry and rate-limit advice. */
enum captured_header {
	HDR_RETRY_AFTER,
	HDR_RL_LIMIT,
	HDR_RL_REMAINING,
	HDR_RL_RESET,
	HDR_RL_RESET_AFTER,
	HDR_RESTLI_ID,
	HDR_APP_USAGE, /* Meta's Graph API: X-App-Usage */
	HDR_BUC_USAGE, /* and X-Business-Use-Case-Usage */
	HDR_COUNT
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
	/* Headers a caller reads; Meta's usage headers are JSON objects. */
	char captured[HDR_COUNT][512];
	unsigned has_captured; /* bit i: captured[i] is set */
	char errbuf[CURL_ERROR_SIZE];
	/*
	 * The address guard's refusal. Not in errbuf: curl writes its own
	 * "Failed to connect" there afterwards, and the reason would be lost.
	 */
	char refused[128];
	/*
	 * In the multi handle for this request. One taken back before (an
	 * abort, a stop) never started: curl's figures on the handle are
	 * still its previous request's.
	 */
	int added;
	/* Set by the curl thread when it hands the transfer back. */
	CURLcode code;
	uint64_t finished_ns;
	struct transfer *prev, *next; /* the list or queue it is on */
};

/* A FIFO of transfers linked through next. */
struct tqueue {
	struct transfer *head;
	struct transfer **tail;
};

/*
 * What epfd has for one fd. gen changes whenever the fd is added anew, and
 * travels with each event: an event read in the same batch as its socket's
 * close must not reach a new socket that got the same fd number meanwhile
 * (an error flag alone would fail that one's transfer).
 */
/*
 * What curl wants of a socket, and what the epoll set holds for it. The
 * two differ for a connection curl set aside (keep-alive): it stays in the
 * set until its next request, so a reused connection costs no epoll_ctl.
 */
struct watch {
	uint32_t events;     /* curl's wish; 0: none */
	uint32_t registered; /* in the epoll set; 0: not in it */
	uint32_t gen;        /* bumped per registration: stale events */
	uint32_t ours;       /* on_open_socket made it: we hear of its close */
};

struct http {
	/* The loop's side. */
	uv_loop_t *loop;
	uv_async_t done_async; /* on loop: transfers came back */
	struct transfer *spare;
	unsigned nspare;
	unsigned out; /* transfers submitted whose done has not yet run */
	int closing;
	void (*closed)(void *);
	void *closed_arg;
	void (*after_event)(void *);
	void *after_event_arg;

	/* Between the two sides, under mu. */
	uv_mutex_t mu;
	struct tqueue submitted;
	struct tqueue completed;
	int abort_requested;
	int stop_requested;

	/* The curl thread's, or the loop's while it holds multi_mu. */
	uv_mutex_t multi_mu;
	long timer_wanted; /* curl's last wish, made on the loop */
	int timer_dirty;   /* ... for the thread to apply */
	/* The curl thread's. */
	uv_thread_t thread;
	int thread_running;
	uv_loop_t tloop;
	uv_async_t wake; /* on tloop: submitted, abort or stop */
	CURLM *multi;
	/*
	 * curl's sockets live in an epoll set of our own, which the thread's
	 * loop watches as one fd. curl changes what it waits for two or three
	 * times per request; uv_poll would pay a handle and a delete-and-add
	 * for each change, this pays at most one epoll_ctl, and none for a
	 * kept connection whose next request waits as its last did (watch).
	 */
	int epfd;
	uv_poll_t epoll;
	uv_timer_t timer;
	struct watch *watching; /* by fd */
	size_t nwatching;
	struct transfer *active;
	struct tqueue finished; /* handed back at the end of the batch */
	int stopping;
};

void tqueue_init(struct tqueue *);
void tqueue_push(struct tqueue *, struct transfer *);
/* Everything queued, in order; the queue is left empty. */
struct transfer *tqueue_take(struct tqueue *);

/* http_curl.c, on the loop before the thread starts: 0 or -errno. */
int http_curl_init(struct http *, unsigned max_in_flight,
                   unsigned max_host_connections, char *err, size_t errlen);
/* Options every request of t's easy handle shares, set once. */
void http_transfer_setup(struct transfer *t);
/*
 * On the loop: send t now if the thread is idle; 1 if it went, 0 if it
 * must be queued for the thread.
 */
int http_curl_try_send(struct http *, struct transfer *t);
/* Start the thread: 0 or a libuv error. */
int http_curl_start(struct http *);
/* Free what the thread left, once it has been joined. */
void http_curl_free(struct http *);

/* http.c, from the curl thread: wake the loop for what came back. */
void http_hand_back(struct http *);

#endif
