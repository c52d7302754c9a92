/*
 * Intrusive min-heap (heap.h). Every node records its array index so that
 * heap_remove and heap_update are O(log n) without a search.
 */
#include <errno.h>
#include <stdlib.h>

#include "bigarray.h"
#include "heap.h"

#define HEAP_INITIAL_CAP 16

/* Strict (key, seq) order; seq is unique, so no two slots compare equal. */
static int slot_less(const struct heap_slot *a, const struct heap_slot *b)
{
	if (a->key != b->key)
		return a->key < b->key;
	return a->seq < b->seq;
}

/* Put s at slot i and keep its node's index in step. */
static void place(struct heap *h, size_t i, struct heap_slot s)
{
	h->v[i] = s;
	s.node->index = i;
}

static void sift_up(struct heap *h, size_t i)
{
	struct heap_slot s = h->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / HEAP_ARITY;

		if (!slot_less(&s, &h->v[parent]))
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, s);
}

static void sift_down(struct heap *h, size_t i)
{
	struct heap_slot s = h->v[i];

	for (;;) {
		size_t first = HEAP_ARITY * i + 1, least = first, end;

		if (first >= h->len)
			break;
		end = h->len - first < HEAP_ARITY ? h->len : first + HEAP_ARITY;
		for (size_t c = first + 1; c < end; c++)
			if (slot_less(&h->v[c], &h->v[least]))
				least = c;
		if (!slot_less(&h->v[least], &s))
			break;
		place(h, i, h->v[least]);
		i = least;
	}
	place(h, i, s);
}

/* Restore order around slot i after its node changed in either direction. */
static void fix(struct heap *h, size_t i)
{
	if (i > 0 && slot_less(&h->v[i], &h->v[(i - 1) / HEAP_ARITY]))
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
		h->v[i].node->index = HEAP_NOT_IN_HEAP;
	bigarray_free(h->v, h->cap * sizeof(*h->v));
	heap_init(h);
}

int heap_push(struct heap *h, struct heap_node *n)
{
	if (h->len == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : HEAP_INITIAL_CAP;
		struct heap_slot *v;

		if (cap < h->cap || cap > SIZE_MAX / sizeof(*v))
			return -ENOMEM;
		if ((v = bigarray_resize(h->v, h->cap * sizeof(*v),
		                         cap * sizeof(*v))) == NULL)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	n->seq = h->next_seq++;
	h->v[h->len] = (struct heap_slot){n->key, n->seq, n};
	n->index = h->len++;
	sift_up(h, n->index);
	return 0;
}

struct heap_node *heap_peek(const struct heap *h)
{
	return h->len ? h->v[0].node : NULL;
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
	struct heap_slot last;

	/*
	 * A node that was never pushed may carry any index (a zeroed struct
	 * says 0): only trust the index when the slot points back at n.
	 */
	if (i >= h->len || h->v[i].node != n)
		return;
	n->index = HEAP_NOT_IN_HEAP;
	last = h->v[--h->len];
	if (last.node == n)
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
	if (n->index >= h->len || h->v[n->index].node != n)
		return;
	n->seq = h->next_seq++;
	h->v[n->index].key = key;
	h->v[n->index].seq = n->seq;
	fix(h, n->index);
}
