#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "postid.h"
#include "sched.h"

struct entry {
	struct heap_node node; /* first: a heap_node* is an entry* */
	struct entry *chain;   /* next in the same hash bucket */
	char id[];
};

struct sched {
	struct heap heap;
	struct entry **buckets;
	size_t nbuckets;
	size_t len;
};

struct sched *sched_new(void)
{
	struct sched *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	heap_init(&s->heap);
	s->nbuckets = 1024;
	if ((s->buckets = calloc(s->nbuckets, sizeof(*s->buckets))) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	/* heap_free touches the nodes: before the entries go. */
	heap_free(&s->heap);
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct entry *e = s->buckets[i], *next;

		for (; e; e = next) {
			next = e->chain;
			free(e);
		}
	}
	free(s->buckets);
	free(s);
}

static struct entry **find(struct sched *s, const char *id)
{
	struct entry **pp =
	        &s->buckets[(size_t)postid_hash(id) & (s->nbuckets - 1)];

	while (*pp && strcmp((*pp)->id, id) != 0)
		pp = &(*pp)->chain;
	return pp;
}

/* Keep chains short: double the table when the load passes 1. */
static void grow(struct sched *s)
{
	size_t n = s->nbuckets * 2;
	struct entry **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct entry *e = s->buckets[i], *next;

		for (; e; e = next) {
			size_t j = (size_t)postid_hash(e->id) & (n - 1);

			next = e->chain;
			e->chain = b[j];
			b[j] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

int sched_add(struct sched *s, const char *id, int64_t due_ms)
{
	struct entry **pp = find(s, id), *e;
	size_t len;

	if (*pp) {
		heap_update(&s->heap, &(*pp)->node, due_ms);
		return 0;
	}
	len = strlen(id) + 1;
	if ((e = malloc(sizeof(*e) + len)) == NULL)
		return -ENOMEM;
	memcpy(e->id, id, len);
	e->node.key = due_ms;
	e->chain = NULL;
	if (heap_push(&s->heap, &e->node) < 0) {
		free(e);
		return -ENOMEM;
	}
	*pp = e;
	if (++s->len > s->nbuckets)
		grow(s);
	return 0;
}

static void unlink_entry(struct sched *s, struct entry *e)
{
	struct entry **pp = find(s, e->id);

	*pp = e->chain;
	s->len--;
}

int sched_remove(struct sched *s, const char *id)
{
	struct entry **pp = find(s, id), *e = *pp;

	if (e == NULL)
		return 0;
	heap_remove(&s->heap, &e->node);
	*pp = e->chain;
	s->len--;
	free(e);
	return 1;
}

int64_t sched_next_due(const struct sched *s)
{
	const struct heap_node *n = heap_peek(&s->heap);

	return n ? n->key : -1;
}

int64_t sched_pop_due(struct sched *s, int64_t now_ms, char *buf, size_t len)
{
	struct heap_node *n = heap_peek(&s->heap);
	struct entry *e;
	int64_t due;

	if (n == NULL || n->key > now_ms)
		return -1;
	heap_pop(&s->heap);
	e = (struct entry *)n;
	due = n->key;
	unlink_entry(s, e);
	snprintf(buf, len, "%s", e->id);
	free(e);
	return due;
}

size_t sched_len(const struct sched *s)
{
	return s->len;
}
