/*
 * An intrusive binary min-heap ordered by (key, seq). The caller embeds a
 * struct heap_node in its own object; the heap never allocates nodes, only
 * its array of pointers. seq breaks ties so equal keys pop in insertion
 * order (first queued, first fired).
 */
#ifndef SMM_HEAP_H
#define SMM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_NOT_IN_HEAP ((size_t)-1)

struct heap_node {
	int64_t key;
	uint64_t seq; /* set by heap_push */
	size_t index; /* position in the array; HEAP_NOT_IN_HEAP if absent */
};

struct heap {
	struct heap_node **v;
	size_t len;
	size_t cap;
	uint64_t next_seq;
};

void heap_init(struct heap *);
/* Frees the array only; the nodes belong to the caller. */
void heap_free(struct heap *);
/* Insert n with n->key already set. Returns 0 or -ENOMEM. */
int heap_push(struct heap *, struct heap_node *n);
/* The smallest node, or NULL when empty. */
struct heap_node *heap_peek(const struct heap *);
/* Remove and return the smallest node, or NULL when empty. */
struct heap_node *heap_pop(struct heap *);
/* Remove n from anywhere in the heap; a no-op if n is not in it. */
void heap_remove(struct heap *, struct heap_node *n);
/* Change n's key and restore order (n must be in the heap). */
void heap_update(struct heap *, struct heap_node *n, int64_t key);
static inline size_t heap_len(const struct heap *h)
{
	return h->len;
}
static inline int heap_contains(const struct heap_node *n)
{
	return n->index != HEAP_NOT_IN_HEAP;
}
/* Mark a fresh node as absent, so heap_contains is right before any push. */
static inline void heap_node_init(struct heap_node *n)
{
	n->key = 0;
	n->seq = 0;
	n->index = HEAP_NOT_IN_HEAP;
}

#endif
