/*
 * What an API's rate-limit headers say about the budget left: the
 * X-RateLimit-Limit/Remaining/Reset family (Mastodon's Reset is an
 * RFC 3339 time, GitHub's and Discord's epoch seconds, others a number of
 * seconds to wait), Discord's X-RateLimit-Reset-After, and Retry-After.
 * Pure: the current time is passed in.
 */
#ifndef SMM_RATELIMIT_H
#define SMM_RATELIMIT_H

#include <stdint.h>

/* The raw header values of one response; NULL where absent. */
struct ratelimit_headers {
	const char *limit;
	const char *remaining;
	const char *reset;
	const char *reset_after;
};

struct ratelimit {
	int64_t limit;     /* requests per window; -1: not said */
	int64_t remaining; /* left in this window; -1: not said */
	int64_t reset_ms;  /* when the window starts again; -1: not said */
};

/* Read h at now_ms into *out (every field -1 when nothing was said). */
void ratelimit_parse(const struct ratelimit_headers *h, int64_t now_ms,
                     struct ratelimit *out);

#endif
