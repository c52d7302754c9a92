/*
 * Retry policy: which results are worth retrying, how long to wait, and
 * what a server's Retry-After asks for. Pure: randomness and time are
 * passed in.
 */
#ifndef SMM_BACKOFF_H
#define SMM_BACKOFF_H

#include <stdint.h>

enum http_verdict {
	VERDICT_PUBLISHED, /* 2xx */
	VERDICT_RETRY,     /* 408, 425, 429, 5xx, network error (status 0) */
	VERDICT_FAILED,    /* any other status: permanent */
};

/* Classify an HTTP status; 0 means no response (network error/timeout). */
enum http_verdict backoff_classify_status(long status);

/*
 * Delay before retry number `attempt` (1 = the wait after the first failed
 * attempt): exponential, base_ms * 2^(attempt-1) capped at max_ms, with
 * "equal jitter": half fixed, half random, so retries from a burst spread
 * out but never collapse to zero. rnd is a uniform random 32-bit value.
 */
int64_t backoff_delay_ms(unsigned attempt, int64_t base_ms, int64_t max_ms,
                         uint32_t rnd);

/*
 * Parse a Retry-After header value: delta-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime
 * forms). Writes the delay from now_ms in ms (0 if the date is past).
 * Returns 0, or -1 if the value is not valid.
 */
int retry_after_parse(const char *value, int64_t now_ms, int64_t *delay_ms);

#endif
