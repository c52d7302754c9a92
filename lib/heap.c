/*
 * Intrusive binary min-heap. Every node records its array index so that
 * heap_remove and heap_update are O(log n) without a search.
 */
#include <errno.h>
#include <stdlib.h>

#include "heap.h"

#define HEAP_INITIAL_CAP 16

/* Strict (key, seq) order; seq is unique, so no two nodes compare equal. */
static int node_less(const struct heap_node *a, const struct heap_node *b)
{
	if (a->key != b->key)
		return a->key < b->key;
	return a->seq < b->seq;
}

/* Put n at slot i and keep its index in step. */
static void place(struct heap *h, size_t i, struct heap_node *n)
{
	h->v[i] = n;
	n->index = i;
}

static void sift_up(struct heap *h, size_t i)
{
	struct heap_node *n = h->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!node_less(n, h->v[parent]))
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, n);
}

static void sift_down(struct heap *h, size_t i)
{
	struct heap_node *n = h->v[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->len)
			break;
		if (child + 1 < h->len &&
		    node_less(h->v[child + 1], h->v[child]))
			child++;
		if (!node_less(h->v[child], n))
			break;
		place(h, i, h->v[child]);
		i = child;
	}
	place(h, i, n);
}

/* Restore order around slot i after its node changed in either direction. */
static void fix(struct heap *h, size_t i)
{
	if (i > 0 && node_less(h->v[i], h->v[(i - 1) / 2]))
		sift_up(h, i);
	else
		sift_down(h, i);
}

void heap_init(struct heap *h)
{
	h->v = NULL;
	h->len = 0;
	h->cap = 0;
	h->next_seq = 0;
}

void heap_free(struct heap *h)
{
	if (h == NULL)
		return;
	/* Nodes outlive the heap; leave them correctly marked as absent. */
	for (size_t i = 0; i < h->len; i++)
		h->v[i]->index = HEAP_NOT_IN_HEAP;
	free(h->v);
	heap_init(h);
}

int heap_push(struct heap *h, struct heap_node *n)
{
	if (h->len == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : HEAP_INITIAL_CAP;
		struct heap_node **v;

		if (cap < h->cap || cap > SIZE_MAX / sizeof(*v))
			return -ENOMEM;
		if ((v = realloc(h->v, cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	n->seq = h->next_seq++;
	h->v[h->len] = n;
	n->index = h->len++;
	sift_up(h, n->index);
	return 0;
}

struct heap_node *heap_peek(const struct heap *h)
{
	return h->len ? h->v[0] : NULL;
}

struct heap_node *heap_pop(struct heap *h)
{
	struct heap_node *n = heap_peek(h);

	if (n != NULL)
		heap_remove(h, n);
	return n;
}

void heap_remove(struct heap *h, struct heap_node *n)
{
	size_t i = n->index;
	struct heap_node *last;

	/*
	 * A node that was never pushed may carry any index (a zeroed struct
	 * says 0): only trust the index when the slot points back at n.
	 */
	if (i >= h->len || h->v[i] != n)
		return;
	n->index = HEAP_NOT_IN_HEAP;
	last = h->v[--h->len];
	if (last == n)
		return;
	place(h, i, last);
	fix(h, i);
}

/*
 * An update behaves like remove + push: the node gets a fresh seq, so among
 * equal keys it now fires after the nodes already queued at that key.
 */
void heap_update(struct heap *h, struct heap_node *n, int64_t key)
{
	n->key = key;
	if (n->index >= h->len || h->v[n->index] != n)
		return;
	n->seq = h->next_seq++;
	fix(h, n->index);
}
