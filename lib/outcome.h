/*
 * What an attempt's result means for its delivery: given the publisher's
 * verdict and the circumstances (attempt number, idempotency, whether the
 * request left, our own shutdown), the next state, when to try again, why
 * and whom to tell. Pure: the clock and the randomness are values, so
 * every branch is unit-tested (tests/unit/check_outcome.c); dispatch.c
 * keeps only the effects (log, store, schedule, notify).
 */
#ifndef SMM_OUTCOME_H
#define SMM_OUTCOME_H

#include <stdint.h>

#include "states.h"

/* The publisher's verdict on the attempt, as the outcome sees it. */
enum outcome_verdict {
	OUTCOME_OK,     /* published */
	OUTCOME_RETRY,  /* worth trying the whole attempt again */
	OUTCOME_FAILED, /* permanent: never retry */
	/* The channel's credentials were refused: wait, whatever the
	 * attempt count, for auth.c to renew them or hold the channel. */
	OUTCOME_HOLD,
};

/* How loudly the result is logged (log.h's levels, in the same order). */
enum outcome_severity {
	OUTCOME_ERROR,
	OUTCOME_WARNING,
	OUTCOME_INFO,
};

struct outcome_in {
	enum outcome_verdict verdict;
	const char *reason;     /* the verdict's: "HTTP 503", curl's error */
	int64_t retry_after_ms; /* the endpoint's wish; < 0: none */
	unsigned attempt;       /* this one, from 1 */
	unsigned max_attempts;
	int idempotent;   /* the endpoint drops a repeated request */
	int request_sent; /* the request (or part of it) left */
	/*
	 * A response came back that says whether the request was done. A
	 * gateway's 502 or 504 (the network's own servers did not answer
	 * it) and a success without what it should hold (the driver's
	 * ambiguous verdict) do not say: like no response at all.
	 */
	int answered;
	int cut_by_shutdown; /* aborted by our own shutdown */
	int64_t now_ms;
	int64_t send_at_ms; /* when it was meant to leave */
	int64_t retry_base_ms, retry_max_ms;
	uint32_t rnd; /* the backoff's jitter */
};

/* Longest wait an endpoint's Retry-After may ask for. */
#define OUTCOME_RETRY_AFTER_MAX_MS (24LL * 3600 * 1000)

struct outcome {
	enum delivery_state state; /* published, retry_wait, failed, unknown */
	int64_t next_ms;           /* retry_wait: the next attempt; else -1 */
	enum outcome_severity severity;
	char summary[64];   /* the log's outcome: "retry in 2s", "failed" */
	char why[400];      /* last_error when the reason alone won't do */
	const char *notice; /* "failed", "has an unknown outcome"; or NULL */
};

void delivery_outcome(const struct outcome_in *, struct outcome *);
/*
 * outcome_in.answered for an HTTP status (0: no response) and whether
 * the driver found the answer ambiguous.
 */
int outcome_answered(long http_status, int ambiguous);
/* The error to record: why, else the verdict's reason; NULL if published. */
const char *outcome_error(const struct outcome_in *, const struct outcome *);

#endif
