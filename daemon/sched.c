#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashtab.h"
#include "heap.h"
#include "sched.h"

struct entry {
	struct heap_node node; /* first: a heap_node* is an entry* */
	char id[];
};

/* Every entry is in the heap and in the index: they come and go together. */
struct sched {
	struct heap heap;
	struct hashtab index; /* values: struct entry * */
};

static const char *entry_key(const void *ctx, uintptr_t val)
{
	(void)ctx;
	return ((const struct entry *)val)->id;
}

struct sched *sched_new(void)
{
	struct sched *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	heap_init(&s->heap);
	hashtab_init(&s->index, entry_key, NULL);
	return s;
}

void sched_free(struct sched *s)
{
	size_t pos = 0;
	uintptr_t e;

	if (s == NULL)
		return;
	/* heap_free touches the nodes: before the entries go. */
	heap_free(&s->heap);
	while (hashtab_next(&s->index, &pos, &e))
		free((struct entry *)e);
	hashtab_free(&s->index);
	free(s);
}

int sched_add(struct sched *s, const char *id, int64_t due_ms)
{
	struct entry *e;
	uintptr_t v;
	size_t len;

	if (hashtab_find(&s->index, id, &v)) {
		heap_update(&s->heap, &((struct entry *)v)->node, due_ms);
		return 0;
	}
	len = strlen(id) + 1;
	if ((e = malloc(sizeof(*e) + len)) == NULL)
		return -ENOMEM;
	memcpy(e->id, id, len);
	e->node.key = due_ms;
	if (hashtab_add(&s->index, (uintptr_t)e) < 0) {
		free(e);
		return -ENOMEM;
	}
	if (heap_push(&s->heap, &e->node) < 0) {
		hashtab_remove(&s->index, id, NULL);
		free(e);
		return -ENOMEM;
	}
	return 0;
}

int sched_remove(struct sched *s, const char *id)
{
	uintptr_t v;

	if (!hashtab_remove(&s->index, id, &v))
		return 0;
	heap_remove(&s->heap, &((struct entry *)v)->node);
	free((struct entry *)v);
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
	hashtab_remove(&s->index, e->id, NULL);
	snprintf(buf, len, "%s", e->id);
	free(e);
	return due;
}

size_t sched_len(const struct sched *s)
{
	return hashtab_len(&s->index);
}
