/*
 * GET /metrics over HTTP, on the daemon's own loop: libmicrohttpd parses
 * the requests, with no thread of its own (its epoll descriptor is
 * watched by a uv_poll_t, its timeouts by a uv_timer_t), so the page is
 * made on the loop thread and reads the daemon's counters without locks.
 * Connections are few and short-lived by construction: a scraper that
 * stalls is dropped, and never slows the loop down.
 */
#ifndef SMMD_PROMHTTP_H
#define SMMD_PROMHTTP_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

/* At most this many connections at once; more wait in the backlog. */
#define PROMHTTP_CONNECTIONS 16
/* A connection idle this long (seconds) is closed. */
#define PROMHTTP_TIMEOUT_S 5
/* With a connection open, the HTTP server runs at least this often (ms). */
#define PROMHTTP_TICK_MS 1000

struct promhttp;

/*
 * The page for one scrape: a buffer from malloc (the server frees it)
 * with its length in *len, or NULL when out of memory.
 */
typedef char *(*promhttp_page_fn)(void *arg, size_t *len);

/*
 * Listen on sa (named name in errors, "127.0.0.1:9464") and serve page
 * at /metrics: 404 elsewhere, 405 for methods other than GET and HEAD.
 * 0, or -errno with err saying what failed.
 */
int promhttp_start(uv_loop_t *, const struct sockaddr *sa, socklen_t len,
                   const char *name, promhttp_page_fn page, void *arg,
                   struct promhttp **out, char *err, size_t errlen);
/*
 * Stop listening and drop every connection now; the object is freed once
 * libuv has closed its handles. NULL is fine.
 */
void promhttp_close(struct promhttp *);

#endif
