/* Unit tests for lib/hashtab.c, the one string-keyed table. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "hashtab.h"

#define NKEYS 5000

/* Keys as the calendar keeps them: strings in an array, values indexes. */
static char keys[NKEYS][16];

static const char *index_key(const void *ctx, uint32_t val)
{
	(void)ctx;
	return keys[val];
}

static void make_keys(void)
{
	for (size_t i = 0; i < NKEYS; i++)
		snprintf(keys[i], sizeof(keys[i]), "post-%zu/ch", i);
}

START_TEST(test_empty)
{
	struct hashtab t;
	uint32_t v = 7;
	size_t pos = 0;

	hashtab_init(&t, index_key, NULL);
	ck_assert_int_eq(hashtab_find(&t, "x", &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(hashtab_remove(&t, "x", &v), 0);
	ck_assert_int_eq(hashtab_next(&t, &pos, &v), 0);
	ck_assert_uint_eq(hashtab_len(&t), 0);
	hashtab_free(&t);
	hashtab_free(&t);
}
END_TEST

START_TEST(test_add_find_grow)
{
	struct hashtab t;
	uint32_t v;

	make_keys();
	hashtab_init(&t, index_key, NULL);
	for (size_t i = 0; i < NKEYS; i++) {
		ck_assert_int_eq(hashtab_add(&t, i), 0);
		/* Load under one half, whatever the growth did. */
		ck_assert_uint_le(hashtab_len(&t) * 2, t.mask + 1);
	}
	ck_assert_uint_eq(hashtab_len(&t), NKEYS);
	for (size_t i = 0; i < NKEYS; i++) {
		ck_assert(hashtab_find(&t, keys[i], &v));
		ck_assert_uint_eq(v, i);
	}
	ck_assert(!hashtab_find(&t, "post-5000/ch", &v));
	ck_assert(!hashtab_find(&t, "", &v));
	ck_assert(!hashtab_find(&t, "post-1/c", &v));
	ck_assert(hashtab_find(&t, "post-0/ch", NULL));
	hashtab_free(&t);
	ck_assert(!hashtab_find(&t, "post-0/ch", &v));
	/* Usable again after hashtab_free. */
	ck_assert_int_eq(hashtab_add(&t, 3), 0);
	ck_assert(hashtab_find(&t, "post-3/ch", &v));
	hashtab_free(&t);
}
END_TEST

/* Whether t holds exactly the keys in[] says, each with its own index. */
static int matches(const struct hashtab *t, const unsigned char *in)
{
	uint32_t v;

	for (size_t i = 0; i < NKEYS; i++) {
		int found = hashtab_find(t, keys[i], &v);

		if (found != in[i] || (found && v != i))
			return 0;
	}
	return 1;
}

/* Deletion against a plain array that knows what is in, over many turns. */
START_TEST(test_remove_random)
{
	static unsigned char in[NKEYS];
	struct hashtab t;
	uint64_t rnd = 88172645463325252ULL;
	size_t len = 0, wrong = 0;
	uint32_t v;

	make_keys();
	memset(in, 0, sizeof(in));
	hashtab_init(&t, index_key, NULL);
	for (int turn = 0; turn < 60000; turn++) {
		size_t k;

		/* xorshift64: the same walk every run. */
		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		/* A small key range keeps clusters long and wrapping. */
		k = (size_t)(rnd % (turn < 30000 ? 300 : NKEYS));
		if (in[k]) {
			wrong += hashtab_remove(&t, keys[k], &v) != 1 || v != k;
			in[k] = 0;
			len--;
		} else {
			wrong += hashtab_find(&t, keys[k], &v) != 0;
			wrong += hashtab_add(&t, k) != 0;
			in[k] = 1;
			len++;
		}
		wrong += hashtab_len(&t) != len;
		/* Assert rarely: ck_assert is slow under the sanitizers. */
		if (turn % 2999 == 0) {
			ck_assert_msg(wrong == 0, "turn %d: %zu wrong", turn,
			              wrong);
			ck_assert(matches(&t, in));
		}
	}
	ck_assert_uint_eq(wrong, 0);
	ck_assert(matches(&t, in));
	for (size_t i = 0; i < NKEYS; i++)
		if (in[i])
			ck_assert_int_eq(hashtab_remove(&t, keys[i], NULL), 1);
	ck_assert_uint_eq(hashtab_len(&t), 0);
	for (size_t i = 0; i <= t.mask; i++)
		ck_assert(t.slots[i].pos == 0);
	hashtab_free(&t);
}
END_TEST

START_TEST(test_next)
{
	static unsigned char seen[NKEYS];
	struct hashtab t;
	size_t pos = 0, n = 0;
	uint32_t v;

	make_keys();
	memset(seen, 0, sizeof(seen));
	hashtab_init(&t, index_key, NULL);
	for (size_t i = 0; i < NKEYS; i += 3)
		ck_assert_int_eq(hashtab_add(&t, i), 0);
	while (hashtab_next(&t, &pos, &v)) {
		ck_assert_uint_lt(v, NKEYS);
		ck_assert_uint_eq(v % 3, 0);
		ck_assert(!seen[v]);
		seen[v] = 1;
		n++;
	}
	ck_assert_uint_eq(n, hashtab_len(&t));
	ck_assert_int_eq(hashtab_next(&t, &pos, &v), 0);
	hashtab_free(&t);
}
END_TEST

/*
 * A growth moves the old slots over a few runs at a time: meanwhile every
 * key is found, walked once, removed and moved in either array, and the
 * move is over long before the next growth.
 */
START_TEST(test_grow_in_steps)
{
	static unsigned char in[NKEYS], seen[NKEYS];
	struct hashtab t;
	size_t n = 0, it = 0, old_slots, ops = 0;
	uint32_t v;

	make_keys();
	memset(in, 0, sizeof(in));
	memset(seen, 0, sizeof(seen));
	hashtab_init(&t, index_key, NULL);
	/* Up to the first growth past 1,024 slots. */
	while (t.old == NULL || t.old_mask + 1 < 1024) {
		ck_assert_int_eq(hashtab_add(&t, n), 0);
		in[n++] = 1;
	}
	old_slots = t.old_mask + 1;
	ck_assert_uint_eq(t.mask + 1, 2 * old_slots);
	/* One add moved a few runs, not the table. */
	ck_assert_uint_gt(t.old_left, old_slots / 2);
	ck_assert(matches(&t, in));
	while (hashtab_next(&t, &it, &v)) {
		ck_assert(in[v] && !seen[v]);
		seen[v] = 1;
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(seen[i], 1);
	/* Halfway, each step checked: a run cut in two loses keys. */
	while (t.old_left > old_slots / 2) {
		ck_assert_int_eq(hashtab_add(&t, n), 0);
		in[n++] = 1;
		ops++;
		ck_assert(matches(&t, in));
	}
	/* Every fifth key goes; every seventh left takes its own index
	 * again through hashtab_move, found wherever it is. */
	for (size_t i = 0; i < n && t.old != NULL; i += 5) {
		ck_assert_int_eq(hashtab_remove(&t, keys[i], &v), 1);
		ck_assert_uint_eq(v, i);
		in[i] = 0;
		ops++;
		ck_assert(matches(&t, in));
	}
	for (size_t i = 1; i < n; i += 7)
		if (in[i])
			ck_assert_int_eq(hashtab_move(&t, keys[i], (uint32_t)i),
			                 1);
	ck_assert(matches(&t, in));
	for (; t.old != NULL; ops++) {
		ck_assert_int_eq(hashtab_add(&t, n), 0);
		in[n++] = 1;
		ck_assert(matches(&t, in));
	}
	/* Done long before the new slots fill up. */
	ck_assert_uint_le(ops, old_slots / 32);
	ck_assert_uint_le(hashtab_len(&t) * 2, t.mask + 1);
	hashtab_free(&t);
	ck_assert_ptr_null(t.old);
}
END_TEST

/*
 * As the scheduler keeps its entries: pointers in a dense array, a removal
 * moving the last one into the hole and telling the table (hashtab_move).
 */
struct obj {
	int n;
	char name[12];
};

static const char *obj_key(const void *ctx, uint32_t pos)
{
	return ((struct obj *const *)ctx)[pos]->name;
}

START_TEST(test_dense_move)
{
	struct obj o[3] = {{1, "one"}, {2, "two"}, {3, "three"}};
	struct obj *v[3] = {&o[0], &o[1], &o[2]};
	struct hashtab t;
	uint32_t pos;

	hashtab_init(&t, obj_key, v);
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_int_eq(hashtab_add(&t, i), 0);
	ck_assert(hashtab_find(&t, "two", &pos));
	ck_assert_int_eq(v[pos]->n, 2);
	/* Drop "one": "three", last, moves to its place. */
	ck_assert_int_eq(hashtab_remove(&t, "one", &pos), 1);
	ck_assert_uint_eq(pos, 0);
	ck_assert_int_eq(hashtab_move(&t, "three", 0), 1);
	v[0] = v[2];
	ck_assert(!hashtab_find(&t, "one", NULL));
	ck_assert(hashtab_find(&t, "three", &pos));
	ck_assert_uint_eq(pos, 0);
	ck_assert(hashtab_find(&t, "two", &pos));
	ck_assert_uint_eq(pos, 1);
	ck_assert_int_eq(hashtab_move(&t, "one", 1), 0);
	ck_assert_uint_eq(hashtab_len(&t), 2);
	hashtab_free(&t);
}
END_TEST

/* Keys in a buffer that moves when it grows, found through ctx. */
struct packed {
	char *buf;
	size_t len, cap;
	size_t off[64];
};

static const char *packed_key(const void *ctx, uint32_t val)
{
	const struct packed *p = ctx;

	return p->buf + p->off[val];
}

START_TEST(test_moving_keys)
{
	struct packed p = {0};
	struct hashtab t;
	uint32_t v;

	hashtab_init(&t, packed_key, &p);
	for (size_t i = 0; i < 64; i++) {
		char k[16];
		size_t n = (size_t)snprintf(k, sizeof(k), "id%zu", i) + 1;

		if (p.len + n > p.cap) {
			p.cap = p.cap ? p.cap * 2 : 8;
			p.buf = realloc(p.buf, p.cap);
			ck_assert_ptr_nonnull(p.buf);
		}
		memcpy(p.buf + p.len, k, n);
		p.off[i] = p.len;
		p.len += n;
		ck_assert_int_eq(hashtab_add(&t, i), 0);
	}
	for (size_t i = 0; i < 64; i++) {
		char k[16];

		snprintf(k, sizeof(k), "id%zu", i);
		ck_assert(hashtab_find(&t, k, &v));
		ck_assert_uint_eq(v, i);
	}
	hashtab_free(&t);
	free(p.buf);
}
END_TEST

static Suite *hashtab_suite(void)
{
	Suite *s = suite_create("hashtab");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_add_find_grow);
	tcase_add_test(tc, test_remove_random);
	tcase_add_test(tc, test_next);
	tcase_add_test(tc, test_grow_in_steps);
	tcase_add_test(tc, test_dense_move);
	tcase_add_test(tc, test_moving_keys);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(hashtab_suite)
