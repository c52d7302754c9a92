/* Unit tests for daemon/sched.c: due order, moves, removals, many ids. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sched.h"

START_TEST(test_order_and_moves)
{
	struct sched *s = sched_new();
	char *got = NULL;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sched_next_due(s), -1);
	ck_assert_int_eq(sched_pop_due(s, INT64_MAX, &got), -1);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(sched_add(s, "b/x", 200), 0);
	ck_assert_int_eq(sched_add(s, "a/x", 100), 0);
	ck_assert_int_eq(sched_add(s, "c/x", 300), 0);
	ck_assert_uint_eq(sched_len(s), 3);
	ck_assert_int_eq(sched_next_due(s), 100);
	/* Adding a queued id moves it: still one entry. */
	ck_assert_int_eq(sched_add(s, "c/x", 50), 0);
	ck_assert_uint_eq(sched_len(s), 3);
	ck_assert_int_eq(sched_next_due(s), 50);
	/* Nothing is due before its time. */
	ck_assert_int_eq(sched_pop_due(s, 49, &got), -1);
	ck_assert_int_eq(sched_pop_due(s, 150, &got), 50);
	ck_assert_str_eq(got, "c/x");
	free(got);
	ck_assert_int_eq(sched_pop_due(s, 150, &got), 100);
	ck_assert_str_eq(got, "a/x");
	free(got);
	ck_assert_int_eq(sched_pop_due(s, 150, &got), -1);
	ck_assert_int_eq(sched_remove(s, "b/x"), 1);
	ck_assert_int_eq(sched_remove(s, "b/x"), 0);
	ck_assert_int_eq(sched_remove(s, "a/x"), 0);
	ck_assert_uint_eq(sched_len(s), 0);
	ck_assert_int_eq(sched_next_due(s), -1);
	/* A popped or removed id can come back. */
	ck_assert_int_eq(sched_add(s, "a/x", 7), 0);
	ck_assert_int_eq(sched_pop_due(s, 7, &got), 7);
	ck_assert_str_eq(got, "a/x");
	free(got);
	sched_free(s);
	sched_free(NULL);
}
END_TEST

/* Thousands of ids through growth, moves and removals, in due order. */
START_TEST(test_many)
{
	enum { N = 5000 };
	struct sched *s = sched_new();
	char id[32], *got;
	int64_t due, last = -1;
	size_t popped = 0;

	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "p%d/ch", i);
		ck_assert_int_eq(sched_add(s, id, (int64_t)(i * 7919 % N)), 0);
	}
	ck_assert_uint_eq(sched_len(s), N);
	/* Every third moves to the end; every fifth goes. */
	for (int i = 0; i < N; i += 3) {
		snprintf(id, sizeof(id), "p%d/ch", i);
		ck_assert_int_eq(sched_add(s, id, N + i), 0);
	}
	for (int i = 0; i < N; i += 5) {
		snprintf(id, sizeof(id), "p%d/ch", i);
		ck_assert_int_eq(sched_remove(s, id), 1);
	}
	ck_assert_uint_eq(sched_len(s), N - N / 5);
	while ((due = sched_pop_due(s, INT64_MAX, &got)) >= 0) {
		int i;

		ck_assert_int_ge(due, last);
		last = due;
		ck_assert_int_eq(sscanf(got, "p%d/ch", &i), 1);
		free(got);
		ck_assert_int_ne(i % 5, 0);
		ck_assert_int_eq(due, i % 3 == 0 ? N + i : i * 7919 % N);
		popped++;
	}
	ck_assert_uint_eq(popped, N - N / 5);
	ck_assert_uint_eq(sched_len(s), 0);
	sched_free(s);
}
END_TEST

/*
 * A popped id is handed over in its entry's own block: ids longer and
 * shorter than the entry's header come out whole, each the caller's to
 * free (the sanitizer build checks the frees).
 */
START_TEST(test_pop_hands_over)
{
	struct sched *s = sched_new();
	char id[300], *got;

	for (int len = 1; len < (int)sizeof(id); len += 37) {
		memset(id, 'a' + len % 26, (size_t)len);
		id[len] = '\0';
		ck_assert_int_eq(sched_add(s, id, len), 0);
	}
	for (int len = 1; len < (int)sizeof(id); len += 37) {
		ck_assert_int_eq(sched_pop_due(s, INT64_MAX, &got), len);
		ck_assert_uint_eq(strlen(got), (size_t)len);
		ck_assert_int_eq(got[0], 'a' + len % 26);
		ck_assert_int_eq(got[len - 1], 'a' + len % 26);
		free(got);
	}
	ck_assert_uint_eq(sched_len(s), 0);
	sched_free(s);
}
END_TEST

/* Freeing a schedule that still holds entries frees them all. */
START_TEST(test_free_full)
{
	struct sched *s = sched_new();
	char id[32];

	for (int i = 0; i < 3000; i++) {
		snprintf(id, sizeof(id), "q%d/ch", i);
		ck_assert_int_eq(sched_add(s, id, i), 0);
	}
	sched_free(s);
}
END_TEST

struct seen {
	const char *channel;
	int looked; /* entries match was asked about */
};

static int on_channel(void *arg, const char *id)
{
	struct seen *w = arg;

	w->looked++;
	return strcmp(strchr(id, '/') + 1, w->channel) == 0;
}

/*
 * sched_any_before finds an entry of a channel due before a time, and
 * looks only at entries due before it: a later one is never asked about.
 */
START_TEST(test_any_before)
{
	enum { N = 4000 };
	struct sched *s = sched_new();
	struct seen w = {0};
	char id[32];

	ck_assert_int_eq(sched_any_before(s, INT64_MAX, on_channel, &w), 0);
	for (int i = 0; i < N; i++) {
		/* x's entries are due at 1000, 1100, ...; y's at the rest. */
		snprintf(id, sizeof(id), "p%d/%s", i, i % 40 ? "y" : "x");
		ck_assert_int_eq(sched_add(s, id, (int64_t)(1000 + i * 10)), 0);
	}
	w.channel = "x";
	ck_assert_int_eq(sched_any_before(s, 1000, on_channel, &w), 0);
	ck_assert_int_eq(w.looked, 0);
	ck_assert_int_eq(sched_any_before(s, 1001, on_channel, &w), 1);
	w.channel = "y";
	w.looked = 0;
	ck_assert_int_eq(sched_any_before(s, 1010, on_channel, &w), 0);
	ck_assert_int_eq(w.looked, 1);
	ck_assert_int_eq(sched_any_before(s, 1011, on_channel, &w), 1);
	/* x's two entries before 1500 (1000, 1400) go: none of x's is
	 * due that soon, and each of the 48 that are is looked at once. */
	w.channel = "x";
	ck_assert_int_eq(sched_remove(s, "p0/x"), 1);
	ck_assert_int_eq(sched_remove(s, "p40/x"), 1);
	w.looked = 0;
	ck_assert_int_eq(sched_any_before(s, 1500, on_channel, &w), 0);
	ck_assert_int_eq(w.looked, 48);
	ck_assert_int_eq(sched_any_before(s, INT64_MAX, on_channel, &w), 1);
	w.channel = "z";
	w.looked = 0;
	ck_assert_int_eq(sched_any_before(s, INT64_MAX, on_channel, &w), 0);
	ck_assert_int_eq(w.looked, N - 2);
	sched_free(s);
}
END_TEST

static Suite *sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("sched");

	tcase_add_test(tc, test_order_and_moves);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_pop_hands_over);
	tcase_add_test(tc, test_free_full);
	tcase_add_test(tc, test_any_before);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(sched_suite)
