#include <stdio.h>

#include "backoff.h"
#include "outcome.h"
#include "timeparse.h"

#define UNSAFE_REPEAT "the endpoint can't drop a repeat, so it was not re-sent"

/* Cut off by our own shutdown: not the endpoint's fault. */
static void outcome_shutdown(const struct outcome_in *in, struct outcome *o)
{
	o->severity = OUTCOME_WARNING;
	/* Where a repeat is unsafe the request may have gone through. */
	if (in->request_sent && !in->idempotent) {
		o->state = DS_UNKNOWN;
		snprintf(o->why, sizeof(o->why),
		         "interrupted by shutdown after the request was "
		         "sent; " UNSAFE_REPEAT);
		snprintf(o->summary, sizeof(o->summary), "unknown");
		o->notice = "has an unknown outcome";
		return;
	}
	/* It must not use up an attempt, nor leave earlier than meant. */
	o->state = DS_RETRY_WAIT;
	o->next_ms = in->send_at_ms > in->now_ms ? in->send_at_ms : in->now_ms;
	snprintf(o->summary, sizeof(o->summary), "retrying after restart");
}

/* How long until the next attempt: the endpoint's wish, capped, or backoff. */
static int64_t outcome_delay(const struct outcome_in *in)
{
	if (in->retry_after_ms >= 0)
		return in->retry_after_ms < OUTCOME_RETRY_AFTER_MAX_MS
		               ? in->retry_after_ms
		               : OUTCOME_RETRY_AFTER_MAX_MS;
	return backoff_delay_ms(in->attempt, in->retry_base_ms,
	                        in->retry_max_ms, in->rnd);
}

/* A verdict of "try again": again, unknown, or out of attempts. */
static void outcome_retry(const struct outcome_in *in, struct outcome *o)
{
	char delay[32];

	if (!in->answered && in->request_sent && !in->idempotent) {
		/* No answer to a request that left: it may be public. */
		o->state = DS_UNKNOWN;
		o->severity = OUTCOME_ERROR;
		snprintf(o->why, sizeof(o->why),
		         "no answer saying whether the request that was sent "
		         "was done (%s); " UNSAFE_REPEAT,
		         in->reason);
		snprintf(o->summary, sizeof(o->summary), "unknown");
		o->notice = "has an unknown outcome";
	} else if (in->attempt < in->max_attempts) {
		o->state = DS_RETRY_WAIT;
		o->severity = OUTCOME_WARNING;
		o->next_ms = in->now_ms + outcome_delay(in);
		snprintf(o->summary, sizeof(o->summary), "retry in %s",
		         duration_format(o->next_ms - in->now_ms, delay,
		                         sizeof(delay)));
	} else {
		o->state = DS_FAILED;
		o->severity = OUTCOME_ERROR;
		snprintf(o->why, sizeof(o->why),
		         "gave up after %u attempts: %s", in->attempt,
		         in->reason);
		snprintf(o->summary, sizeof(o->summary),
		         "failed: no attempts left");
		o->notice = "failed";
	}
}

void delivery_outcome(const struct outcome_in *in, struct outcome *o)
{
	*o = (struct outcome){.next_ms = -1};
	if (in->cut_by_shutdown) {
		outcome_shutdown(in, o);
	} else if (in->verdict == OUTCOME_OK) {
		o->state = DS_PUBLISHED;
		o->severity = OUTCOME_INFO;
		snprintf(o->summary, sizeof(o->summary), "published");
	} else if (in->verdict == OUTCOME_RETRY) {
		outcome_retry(in, o);
	} else if (in->verdict == OUTCOME_HOLD) {
		/* Due again at once: the gates decide (renewed, or held). */
		o->state = DS_RETRY_WAIT;
		o->severity = OUTCOME_WARNING;
		o->next_ms = in->now_ms;
		snprintf(o->summary, sizeof(o->summary), "waits for auth");
	} else {
		o->state = DS_FAILED;
		o->severity = OUTCOME_ERROR;
		snprintf(o->summary, sizeof(o->summary), "failed");
		o->notice = "failed";
	}
}

const char *outcome_error(const struct outcome_in *in, const struct outcome *o)
{
	if (o->state == DS_PUBLISHED)
		return NULL;
	return o->why[0] ? o->why : in->reason;
}

int outcome_answered(long http_status, int ambiguous)
{
	/* 502 and 504: a gateway that got no answer from behind it. */
	return http_status != 0 && http_status != 502 && http_status != 504 &&
	       !ambiguous;
}
