/* Unit tests for lib/heap.c. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "check_main.h"
#include "heap.h"

/* A caller object with the node embedded, as the scheduler does. */
struct item {
	int id;
	struct heap_node node;
};

#define ITEM(n) ((struct item *)((char *)(n)-offsetof(struct item, node)))

/* Check the heap property and every index, from the array itself. */
static void assert_heap_ok(const struct heap *h)
{
	for (size_t i = 0; i < h->len; i++) {
		const struct heap_slot *c = &h->v[i];

		ck_assert_uint_eq(c->node->index, i);
		/* The slot's copy of the order is the node's. */
		ck_assert_int_eq(c->key, c->node->key);
		ck_assert_uint_eq(c->seq, c->node->seq);
		if (i > 0) {
			const struct heap_slot *p = &h->v[(i - 1) / HEAP_ARITY];

			ck_assert(p->key < c->key ||
			          (p->key == c->key && p->seq < c->seq));
		}
	}
}

/* A small deterministic generator, so a failure can be replayed. */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

START_TEST(test_empty)
{
	struct heap h;
	struct heap_node n;

	heap_init(&h);
	ck_assert_ptr_null(heap_peek(&h));
	ck_assert_ptr_null(heap_pop(&h));
	ck_assert_uint_eq(heap_len(&h), 0);
	/* Removing from an empty heap is a no-op, even for a zeroed node. */
	n.key = 0;
	n.seq = 0;
	n.index = 0;
	heap_remove(&h, &n);
	ck_assert_uint_eq(heap_len(&h), 0);
	heap_free(&h);
	heap_free(NULL);
}
END_TEST

START_TEST(test_random_sorted)
{
	enum { N = 10000 };
	struct item *items = calloc(N, sizeof(*items));
	struct heap h;
	uint64_t seed = 0x9e3779b97f4a7c15u;
	int64_t prev = INT64_MIN;

	ck_assert_ptr_nonnull(items);
	heap_init(&h);
	for (int i = 0; i < N; i++) {
		heap_node_init(&items[i].node);
		ck_assert(!heap_contains(&items[i].node));
		items[i].id = i;
		/* Narrow range: plenty of duplicates and negatives. */
		items[i].node.key = (int64_t)(xorshift(&seed) % 5000) - 2500;
		ck_assert_int_eq(heap_push(&h, &items[i].node), 0);
		ck_assert(heap_contains(&items[i].node));
	}
	ck_assert_uint_eq(heap_len(&h), N);
	ck_assert_uint_ge(h.cap, N);
	assert_heap_ok(&h);
	for (int i = 0; i < N; i++) {
		struct heap_node *n = heap_pop(&h);

		ck_assert_ptr_nonnull(n);
		ck_assert_int_ge(n->key, prev);
		ck_assert(!heap_contains(n));
		prev = n->key;
	}
	ck_assert_ptr_null(heap_pop(&h));
	heap_free(&h);
	free(items);
}
END_TEST

START_TEST(test_growth_doubles)
{
	struct item items[100];
	struct heap h;
	size_t last_cap = 0;

	heap_init(&h);
	for (int i = 0; i < 100; i++) {
		items[i].node.key = 100 - i;
		ck_assert_int_eq(heap_push(&h, &items[i].node), 0);
		if (h.cap != last_cap) {
			if (last_cap != 0)
				ck_assert_uint_eq(h.cap, 2 * last_cap);
			last_cap = h.cap;
		}
	}
	ck_assert_ptr_eq(heap_peek(&h), &items[99].node);
	ck_assert_int_eq(heap_peek(&h)->key, 1);
	heap_free(&h);
	/* Nodes left in a freed heap are marked absent. */
	ck_assert(!heap_contains(&items[0].node));
	ck_assert_ptr_null(h.v);
	ck_assert_uint_eq(h.len, 0);
}
END_TEST

START_TEST(test_fifo_equal_keys)
{
	struct item items[50];
	struct heap h;

	heap_init(&h);
	/* Interleave two keys; each must come out in insertion order. */
	for (int i = 0; i < 50; i++) {
		items[i].id = i;
		items[i].node.key = i % 2 ? 7 : 3;
		ck_assert_int_eq(heap_push(&h, &items[i].node), 0);
	}
	for (int i = 0; i < 50; i += 2)
		ck_assert_int_eq(ITEM(heap_pop(&h))->id, i);
	for (int i = 1; i < 50; i += 2)
		ck_assert_int_eq(ITEM(heap_pop(&h))->id, i);
	ck_assert_uint_eq(heap_len(&h), 0);
	heap_free(&h);
}
END_TEST

/* Push keys 0..n-1 in a scrambled order. */
static void fill(struct heap *h, struct item *items, int n)
{
	heap_init(h);
	for (int i = 0; i < n; i++) {
		int k = (i * 37) % n; /* n is prime: a permutation */

		heap_node_init(&items[k].node);
		items[k].id = k;
		items[k].node.key = k;
		ck_assert_int_eq(heap_push(h, &items[k].node), 0);
	}
}

/* Pop everything: ids must come out as 0..n-1 minus the removed ones. */
static void drain_expect(struct heap *h, int n, const char *removed)
{
	int want = 0;

	for (struct heap_node *p; (p = heap_pop(h)) != NULL; want++) {
		while (removed != NULL && want < n && removed[want])
			want++;
		ck_assert_int_eq(ITEM(p)->id, want);
	}
	while (removed != NULL && want < n && removed[want])
		want++;
	ck_assert_int_eq(want, n);
}

/* Remove n, check it is gone and the heap is still sound. */
static void remove_ok(struct heap *h, struct heap_node *n, char *removed)
{
	size_t len = heap_len(h);

	heap_remove(h, n);
	ck_assert(!heap_contains(n));
	ck_assert_uint_eq(heap_len(h), len - 1);
	assert_heap_ok(h);
	removed[ITEM(n)->id] = 1;
}

START_TEST(test_remove_first_middle_last)
{
	enum { N = 101 };
	struct item items[N];
	struct heap h;
	char removed[N] = {0};
	int nremoved = 0;

	fill(&h, items, N);
	/* The root: the next smallest takes its place. */
	ck_assert_ptr_eq(heap_peek(&h), &items[0].node);
	remove_ok(&h, &items[0].node, removed);
	ck_assert_ptr_eq(heap_peek(&h), &items[1].node);
	/* Somewhere in the middle of the array and of the key range. */
	ck_assert_uint_gt(items[50].node.index, 0);
	ck_assert_uint_lt(items[50].node.index, heap_len(&h) - 1);
	remove_ok(&h, &items[50].node, removed);
	/* Whatever sits in the last array slot. */
	remove_ok(&h, h.v[heap_len(&h) - 1].node, removed);
	/* The largest key, wherever it is, and the new root. */
	if (!removed[100])
		remove_ok(&h, &items[100].node, removed);
	remove_ok(&h, &items[1].node, removed);
	/* Removing again is a no-op. */
	heap_remove(&h, &items[50].node);
	heap_remove(&h, &items[0].node);
	for (int i = 0; i < N; i++)
		nremoved += removed[i];
	ck_assert_int_ge(nremoved, 4);
	ck_assert_uint_eq(heap_len(&h), (size_t)(N - nremoved));
	assert_heap_ok(&h);
	drain_expect(&h, N, removed);
	heap_free(&h);
}
END_TEST

START_TEST(test_remove_everything_random_order)
{
	enum { N = 509 };
	struct item items[N];
	struct heap h;
	uint64_t seed = 12345;

	fill(&h, items, N);
	while (heap_len(&h) > 0) {
		struct heap_node *n = h.v[xorshift(&seed) % heap_len(&h)].node;

		heap_remove(&h, n);
		ck_assert(!heap_contains(n));
		assert_heap_ok(&h);
	}
	heap_free(&h);
}
END_TEST

START_TEST(test_remove_not_in_heap)
{
	struct item items[11], stranger, other[3];
	struct heap h, h2;

	fill(&h, items, 11);
	heap_node_init(&stranger.node);
	heap_remove(&h, &stranger.node);
	ck_assert_uint_eq(heap_len(&h), 11);

	/* A node from another heap whose index is valid here too. */
	heap_init(&h2);
	for (int i = 0; i < 3; i++) {
		other[i].node.key = i;
		ck_assert_int_eq(heap_push(&h2, &other[i].node), 0);
	}
	heap_remove(&h, &other[1].node);
	ck_assert_uint_eq(heap_len(&h), 11);
	ck_assert_uint_eq(heap_len(&h2), 3);
	assert_heap_ok(&h);

	drain_expect(&h, 11, NULL);
	heap_free(&h);
	heap_free(&h2);
}
END_TEST

START_TEST(test_update_up_and_down)
{
	enum { N = 31 };
	struct item items[N];
	struct heap h;

	fill(&h, items, N);
	/* Down: the root becomes the largest. */
	heap_update(&h, &items[0].node, 1000);
	assert_heap_ok(&h);
	ck_assert_ptr_eq(heap_peek(&h), &items[1].node);
	/* Up: a deep node becomes the smallest. */
	heap_update(&h, &items[29].node, -5);
	assert_heap_ok(&h);
	ck_assert_ptr_eq(heap_peek(&h), &items[29].node);
	/* Same key: stays valid. */
	heap_update(&h, &items[15].node, 15);
	assert_heap_ok(&h);

	ck_assert_int_eq(ITEM(heap_pop(&h))->id, 29);
	for (int i = 1; i < N; i++) {
		if (i == 29)
			continue;
		ck_assert_int_eq(ITEM(heap_pop(&h))->id, i);
	}
	ck_assert_int_eq(ITEM(heap_pop(&h))->id, 0);
	ck_assert_ptr_null(heap_pop(&h));
	heap_free(&h);
}
END_TEST

START_TEST(test_update_equal_key_requeues)
{
	struct item a, b;
	struct heap h;

	heap_init(&h);
	a.id = 1;
	a.node.key = 10;
	b.id = 2;
	b.node.key = 20;
	ck_assert_int_eq(heap_push(&h, &a.node), 0);
	ck_assert_int_eq(heap_push(&h, &b.node), 0);
	/* Moved to an occupied key, a node queues behind the ones there. */
	heap_update(&h, &a.node, 20);
	ck_assert_int_eq(ITEM(heap_pop(&h))->id, 2);
	ck_assert_int_eq(ITEM(heap_pop(&h))->id, 1);
	/* Updating a node not in the heap only sets its key. */
	heap_update(&h, &a.node, 5);
	ck_assert_int_eq(a.node.key, 5);
	ck_assert_uint_eq(heap_len(&h), 0);
	heap_free(&h);
}
END_TEST

START_TEST(test_reuse_after_pop)
{
	struct item a;
	struct heap h;

	heap_init(&h);
	heap_node_init(&a.node);
	a.node.key = 1;
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(heap_push(&h, &a.node), 0);
		ck_assert(heap_contains(&a.node));
		ck_assert_ptr_eq(heap_pop(&h), &a.node);
		ck_assert(!heap_contains(&a.node));
	}
	heap_free(&h);
}
END_TEST

static Suite *heap_suite(void)
{
	Suite *s = suite_create("heap");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_random_sorted);
	tcase_add_test(tc, test_growth_doubles);
	tcase_add_test(tc, test_fifo_equal_keys);
	tcase_add_test(tc, test_remove_first_middle_last);
	tcase_add_test(tc, test_remove_everything_random_order);
	tcase_add_test(tc, test_remove_not_in_heap);
	tcase_add_test(tc, test_update_up_and_down);
	tcase_add_test(tc, test_update_equal_key_requeues);
	tcase_add_test(tc, test_reuse_after_pop);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(heap_suite)
