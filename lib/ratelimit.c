/*
 * Rate-limit headers. Reset is the one that varies by network: an RFC 3339
 * time (Mastodon), epoch seconds, possibly with a fraction (GitHub,
 * Discord), or a count of seconds (some gateways). A number too small to
 * be a recent epoch is taken as seconds to wait.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "ratelimit.h"
#include "timeparse.h"

/* Before 2001: no reset instant is that old, so it must be a delay. */
#define EPOCH_FLOOR_S 1e9
#define SECONDS_MAX   1e11

static int64_t count_of(const char *s)
{
	char *end;
	long long v;

	if (s == NULL)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	while (*end == ' ')
		end++;
	if (errno || end == s || *end || v < 0)
		return -1;
	return v;
}

static double seconds_of(const char *s)
{
	char *end;
	double v;

	if (s == NULL)
		return -1;
	v = strtod(s, &end);
	while (*end == ' ')
		end++;
	/* Past year 5000 is no answer, and would not fit in ms. */
	if (end == s || *end || !isfinite(v) || v < 0 || v > SECONDS_MAX)
		return -1;
	return v;
}

static int64_t reset_of(const char *reset, const char *after, int64_t now_ms)
{
	double v;
	int64_t t;

	if ((v = seconds_of(after)) >= 0)
		return now_ms + (int64_t)(v * 1000.0);
	if (reset == NULL)
		return -1;
	if (time_parse_rfc3339(reset, &t) == 0)
		return t;
	if ((v = seconds_of(reset)) < 0)
		return -1;
	if (v < EPOCH_FLOOR_S)
		return now_ms + (int64_t)(v * 1000.0);
	return (int64_t)(v * 1000.0);
}

void ratelimit_parse(const struct ratelimit_headers *h, int64_t now_ms,
                     struct ratelimit *out)
{
	out->limit = count_of(h->limit);
	out->remaining = count_of(h->remaining);
	out->reset_ms = reset_of(h->reset, h->reset_after, now_ms);
}
