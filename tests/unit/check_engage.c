/*
 * Unit tests for reading engagement: lib/ratelimit.c's three forms of
 * Reset, the Mastodon and Discord parsers on answers shaped as their
 * APIs document them, and whether a goal is on track.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "config.h"
#include "goals.h"
#include "http.h"
#include "publishers/publisher.h"
#include "ratelimit.h"

/* 2026-11-22T10:00:00Z */
#define T0 INT64_C(1795341600000)

START_TEST(test_reset_forms)
{
	struct ratelimit rl;

	/* Mastodon: an RFC 3339 time. */
	ratelimit_parse(
	        &(struct ratelimit_headers){.limit = "300",
	                                    .remaining = "12",
	                                    .reset =
	                                            "2026-11-22T10:05:00.000Z"},
	        T0, &rl);
	ck_assert_int_eq(rl.limit, 300);
	ck_assert_int_eq(rl.remaining, 12);
	ck_assert_int_eq(rl.reset_ms, T0 + 300000);
	/* GitHub, Discord: epoch seconds, with a fraction. */
	ratelimit_parse(&(struct ratelimit_headers){.remaining = "0",
	                                            .reset = "1795341660.5"},
	                T0, &rl);
	ck_assert_int_eq(rl.reset_ms, T0 + 60500);
	ck_assert_int_eq(rl.limit, -1);
	/* A small number: seconds to wait. */
	ratelimit_parse(
	        &(struct ratelimit_headers){.remaining = "3", .reset = "30"},
	        T0, &rl);
	ck_assert_int_eq(rl.reset_ms, T0 + 30000);
	/* Discord's Reset-After wins over Reset. */
	ratelimit_parse(&(struct ratelimit_headers){.remaining = "1",
	                                            .reset = "1795341700",
	                                            .reset_after = "1.25"},
	                T0, &rl);
	ck_assert_int_eq(rl.reset_ms, T0 + 1250);
}
END_TEST

START_TEST(test_reset_garbage)
{
	struct ratelimit rl;

	ratelimit_parse(&(struct ratelimit_headers){.limit = "lots",
	                                            .remaining = "-4",
	                                            .reset = "soon"},
	                T0, &rl);
	ck_assert_int_eq(rl.limit, -1);
	ck_assert_int_eq(rl.remaining, -1);
	ck_assert_int_eq(rl.reset_ms, -1);
	/* Found by fuzz_classify: too large for milliseconds. */
	ratelimit_parse(&(struct ratelimit_headers){.reset = "2.2e25",
	                                            .reset_after = "9e300"},
	                T0, &rl);
	ck_assert_int_eq(rl.reset_ms, -1);
	ratelimit_parse(&(struct ratelimit_headers){0}, T0, &rl);
	ck_assert_int_eq(rl.remaining, -1);
	ck_assert_int_eq(rl.reset_ms, -1);
}
END_TEST

static struct http_result answer(const char *body)
{
	return (struct http_result){
	        .status = 200, .body = body, .body_len = strlen(body)};
}

START_TEST(test_mastodon_batch)
{
	const struct engage_ops *ops = publisher_lookup("mastodon")->engage;
	struct engage_item it[3] = {
	        {.delivery_id = "a/m", .remote_id = "11"},
	        {.delivery_id = "b/m", .remote_id = "12"},
	        {.delivery_id = "c/m", .remote_id = "13"},
	};
	struct http_result res = answer(
	        "[{\"id\":\"12\",\"favourites_count\":7,\"reblogs_count\":2,"
	        "\"replies_count\":1,\"quotes_count\":4},"
	        "{\"id\":\"11\",\"favourites_count\":3,\"reblogs_count\":0,"
	        "\"replies_count\":0}]");
	char err[128];

	ck_assert_int_eq(ops->parse(NULL, &res, it, 3, err, sizeof(err)), 0);
	ck_assert(it[0].found && it[1].found && !it[2].found);
	ck_assert_int_eq(it[0].got.likes, 3);
	/* Before 4.5.0 there is no quotes_count: not given, not zero. */
	ck_assert_int_eq(it[0].got.quotes, -1);
	ck_assert_int_eq(it[0].got.views, -1);
	ck_assert_int_eq(it[1].got.likes, 7);
	ck_assert_int_eq(it[1].got.shares, 2);
	ck_assert_int_eq(it[1].got.comments, 1);
	ck_assert_int_eq(it[1].got.quotes, 4);
}
END_TEST

START_TEST(test_mastodon_bad)
{
	const struct engage_ops *ops = publisher_lookup("mastodon")->engage;
	struct engage_item it = {.delivery_id = "a/m", .remote_id = "11"};
	struct http_result res = answer("<html>maintenance</html>");
	char err[128] = "";

	ck_assert_int_eq(ops->parse(NULL, &res, &it, 1, err, sizeof(err)), -1);
	ck_assert(err[0] != '\0');
	ck_assert(!it.found);
	res = answer("{\"followers_count\":1234}");
	int64_t n = 0;
	ck_assert_int_eq(ops->audience_parse(NULL, &res, &n, err, sizeof(err)),
	                 0);
	ck_assert_int_eq(n, 1234);
}
END_TEST

START_TEST(test_discord_reactions)
{
	const struct engage_ops *ops = publisher_lookup("discord")->engage;
	struct engage_item it = {.delivery_id = "a/d", .remote_id = "501"};
	struct http_result res = answer(
	        "{\"id\":\"501\",\"reactions\":[{\"count\":3,\"me\":false,"
	        "\"emoji\":{\"name\":\"x\"}},{\"count\":2,\"emoji\":{}}]}");
	char err[128];

	ck_assert_int_eq(ops->parse(NULL, &res, &it, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(it.got.likes, 5);
	ck_assert_int_eq(it.got.shares, -1);
	ck_assert_int_eq(it.got.views, -1);
	/* No reactions yet: Discord leaves the field out. */
	res = answer("{\"id\":\"501\"}");
	ck_assert_int_eq(ops->parse(NULL, &res, &it, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(it.got.likes, 0);
}
END_TEST

#define DAY INT64_C(86400000)

START_TEST(test_on_track)
{
	/* Half done at half time: on pace. */
	ck_assert_int_eq(goals_on_track(6, 12, T0, T0 + 10 * DAY, T0 + 5 * DAY),
	                 1);
	/* A third done at half time: behind. */
	ck_assert_int_eq(goals_on_track(4, 12, T0, T0 + 10 * DAY, T0 + 5 * DAY),
	                 0);
	/* Reached: on track whatever the time. */
	ck_assert_int_eq(goals_on_track(12, 12, T0, T0 + 10 * DAY, T0 + DAY),
	                 1);
	/* Too soon to tell, or no start known. */
	ck_assert_int_eq(goals_on_track(0, 12, T0, T0 + 10 * DAY, T0 + 60000),
	                 -1);
	ck_assert_int_eq(goals_on_track(1, 12, -1, T0 + 10 * DAY, T0), -1);
	/* Past the date: only whether it was reached. */
	ck_assert_int_eq(goals_on_track(11, 12, T0, T0 + DAY, T0 + 2 * DAY), 0);
}
END_TEST

static Suite *engage_suite(void)
{
	Suite *s = suite_create("engage");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_reset_forms);
	tcase_add_test(tc, test_reset_garbage);
	tcase_add_test(tc, test_mastodon_batch);
	tcase_add_test(tc, test_mastodon_bad);
	tcase_add_test(tc, test_discord_reactions);
	tcase_add_test(tc, test_on_track);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(engage_suite)
