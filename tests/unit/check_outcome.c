/* Unit tests for lib/outcome.c: every branch of an attempt's outcome. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "outcome.h"

#define NOW 1000000000000LL

/* An attempt that left and got an answer, with attempts to spare. */
static struct outcome_in base(enum outcome_verdict v)
{
	return (struct outcome_in){
	        .verdict = v,
	        .reason = "HTTP 503",
	        .retry_after_ms = -1,
	        .attempt = 1,
	        .max_attempts = 3,
	        .idempotent = 1,
	        .request_sent = 1,
	        .answered = 1,
	        .now_ms = NOW,
	        .send_at_ms = NOW - 10,
	        .retry_base_ms = 1000,
	        .retry_max_ms = 60000,
	        .rnd = 12345,
	};
}

START_TEST(test_published)
{
	struct outcome_in in = base(OUTCOME_OK);
	struct outcome o;

	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_PUBLISHED);
	ck_assert_int_eq(o.next_ms, -1);
	ck_assert_int_eq(o.severity, OUTCOME_INFO);
	ck_assert_str_eq(o.summary, "published");
	ck_assert_ptr_null(o.notice);
	ck_assert_ptr_null(outcome_error(&in, &o));
}
END_TEST

START_TEST(test_permanent)
{
	struct outcome_in in = base(OUTCOME_FAILED);
	struct outcome o;

	in.reason = "HTTP 400";
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_FAILED);
	ck_assert_int_eq(o.severity, OUTCOME_ERROR);
	ck_assert_str_eq(o.summary, "failed");
	ck_assert_str_eq(o.notice, "failed");
	/* The verdict's reason is what is recorded. */
	ck_assert_str_eq(outcome_error(&in, &o), "HTTP 400");
}
END_TEST

START_TEST(test_retry_backoff)
{
	struct outcome_in in = base(OUTCOME_RETRY);
	struct outcome o;
	int64_t want = backoff_delay_ms(1, 1000, 60000, 12345);

	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_RETRY_WAIT);
	ck_assert_int_eq(o.next_ms, NOW + want);
	ck_assert_int_eq(o.severity, OUTCOME_WARNING);
	ck_assert(strncmp(o.summary, "retry in ", 9) == 0);
	ck_assert_ptr_null(o.notice);
	ck_assert_str_eq(outcome_error(&in, &o), "HTTP 503");
	/* The jitter comes from rnd: another value, another delay. */
	in.rnd = 0;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.next_ms, NOW + backoff_delay_ms(1, 1000, 60000, 0));
}
END_TEST

START_TEST(test_retry_after)
{
	struct outcome_in in = base(OUTCOME_RETRY);
	struct outcome o;

	in.retry_after_ms = 2000;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.next_ms, NOW + 2000);
	ck_assert_str_eq(o.summary, "retry in 2s");
	/* A typo can't park a post for years. */
	in.retry_after_ms = 365LL * 24 * 3600 * 1000;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.next_ms, NOW + OUTCOME_RETRY_AFTER_MAX_MS);
}
END_TEST

START_TEST(test_no_attempts_left)
{
	struct outcome_in in = base(OUTCOME_RETRY);
	struct outcome o;

	in.attempt = 3;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_FAILED);
	ck_assert_int_eq(o.next_ms, -1);
	ck_assert_int_eq(o.severity, OUTCOME_ERROR);
	ck_assert_str_eq(o.summary, "failed: no attempts left");
	ck_assert_str_eq(o.why, "gave up after 3 attempts: HTTP 503");
	ck_assert_str_eq(outcome_error(&in, &o), o.why);
	ck_assert_str_eq(o.notice, "failed");
}
END_TEST

/* No answer to a request that left, on an endpoint that can't dedupe. */
START_TEST(test_unknown)
{
	struct outcome_in in = base(OUTCOME_RETRY);
	struct outcome o;

	in.reason = "Timeout was reached";
	in.answered = 0;
	in.idempotent = 0;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_UNKNOWN);
	ck_assert_int_eq(o.severity, OUTCOME_ERROR);
	ck_assert_str_eq(o.summary, "unknown");
	ck_assert_str_eq(o.why, "no answer saying whether the request that "
	                        "was sent was done (Timeout was reached); the "
	                        "endpoint can't drop a repeat, so it was not "
	                        "re-sent");
	ck_assert_str_eq(o.notice, "has an unknown outcome");
	/* Even on the last attempt: unknown beats out of attempts. */
	in.attempt = 3;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_UNKNOWN);
}
END_TEST

/* Where a repeat is safe, or nothing left, no answer is a plain retry. */
START_TEST(test_no_answer_but_safe)
{
	struct outcome_in in = base(OUTCOME_RETRY);
	struct outcome o;

	in.answered = 0;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_RETRY_WAIT);
	in.idempotent = 0;
	in.request_sent = 0;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_RETRY_WAIT);
	/* An answer means the endpoint refused it: not unknown. */
	in.request_sent = 1;
	in.answered = 1;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_RETRY_WAIT);
}
END_TEST

/* Which responses say whether the request was done. */
START_TEST(test_answered)
{
	ck_assert(!outcome_answered(0, 0));
	ck_assert(outcome_answered(200, 0));
	ck_assert(outcome_answered(500, 0));
	ck_assert(outcome_answered(503, 0));
	ck_assert(outcome_answered(429, 0));
	/* A gateway whose backend never answered: it may have done it. */
	ck_assert(!outcome_answered(502, 0));
	ck_assert(!outcome_answered(504, 0));
	/* A success without what it should hold. */
	ck_assert(!outcome_answered(200, 1));
}
END_TEST

/* Our own shutdown cut it off: never uses up the last attempt. */
START_TEST(test_shutdown_retry)
{
	struct outcome_in in = base(OUTCOME_RETRY);
	struct outcome o;

	in.cut_by_shutdown = 1;
	in.attempt = 3;
	in.answered = 0;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_RETRY_WAIT);
	ck_assert_int_eq(o.severity, OUTCOME_WARNING);
	ck_assert_str_eq(o.summary, "retrying after restart");
	ck_assert_int_eq(o.next_ms, NOW);
	ck_assert_ptr_null(o.notice);
	/* Never earlier than it was meant to leave. */
	in.send_at_ms = NOW + 40;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.next_ms, NOW + 40);
	/* Whatever the verdict said. */
	in.verdict = OUTCOME_FAILED;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_RETRY_WAIT);
}
END_TEST

START_TEST(test_shutdown_unknown)
{
	struct outcome_in in = base(OUTCOME_RETRY);
	struct outcome o;

	in.cut_by_shutdown = 1;
	in.idempotent = 0;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_UNKNOWN);
	ck_assert_int_eq(o.severity, OUTCOME_WARNING);
	ck_assert_str_eq(o.summary, "unknown");
	ck_assert_str_eq(o.why, "interrupted by shutdown after the request "
	                        "was sent; the endpoint can't drop a repeat, "
	                        "so it was not re-sent");
	ck_assert_str_eq(o.notice, "has an unknown outcome");
	/* Not sent at all: nothing can have gone through. */
	in.request_sent = 0;
	delivery_outcome(&in, &o);
	ck_assert_int_eq(o.state, DS_RETRY_WAIT);
}
END_TEST

static Suite *outcome_suite(void)
{
	Suite *s = suite_create("outcome");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_published);
	tcase_add_test(tc, test_permanent);
	tcase_add_test(tc, test_retry_backoff);
	tcase_add_test(tc, test_retry_after);
	tcase_add_test(tc, test_no_attempts_left);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_answered);
	tcase_add_test(tc, test_no_answer_but_safe);
	tcase_add_test(tc, test_shutdown_retry);
	tcase_add_test(tc, test_shutdown_unknown);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(outcome_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
