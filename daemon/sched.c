#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bigarray.h"
#include "hashtab.h"
#include "heap.h"
#include "sched.h"

struct entry {
	struct heap_node node; /* first: a heap_node* is an entry* */
	uint32_t pos;          /* in sched.ents */
	char id[];
};

/*
 * Every entry is in the heap, in ents and in the index: they come and go
 * together. ents stays dense (a removal moves the last entry into the
 * hole) so that the index can hold positions, one word a slot.
 */
struct sched {
	struct heap heap;
	struct entry **ents;
	size_t len, cap;
	struct hashtab index; /* values: positions in ents */
};

static const char *entry_key(const void *ctx, uint32_t pos)
{
	return ((const struct sched *)ctx)->ents[pos]->id;
}

struct sched *sched_new(void)
{
	struct sched *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	heap_init(&s->heap);
	hashtab_init(&s->index, entry_key, s);
	return s;
}

void sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	/* heap_free touches the nodes: before the entries go. */
	heap_free(&s->heap);
	for (size_t i = 0; i < s->len; i++)
		free(s->ents[i]);
	bigarray_free(s->ents, s->cap * sizeof(*s->ents));
	hashtab_free(&s->index);
	free(s);
}

/* Room in ents for one more. 0 or -ENOMEM. */
static int ents_reserve(struct sched *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	struct entry **v;

	if (s->len < s->cap)
		return 0;
	if (cap > (size_t)HASHTAB_POS_MAX + 1 ||
	    (v = bigarray_resize(s->ents, s->cap * sizeof(*v),
	                         cap * sizeof(*v))) == NULL)
		return -ENOMEM;
	s->ents = v;
	s->cap = cap;
	return 0;
}

int sched_add(struct sched *s, const char *id, int64_t due_ms)
{
	struct entry *e;
	uint32_t pos;
	size_t len;

	if (hashtab_find(&s->index, id, &pos)) {
		heap_update(&s->heap, &s->ents[pos]->node, due_ms);
		return 0;
	}
	len = strlen(id) + 1;
	if (ents_reserve(s) < 0 || (e = malloc(sizeof(*e) + len)) == NULL)
		return -ENOMEM;
	memcpy(e->id, id, len);
	e->node.key = due_ms;
	e->pos = (uint32_t)s->len;
	s->ents[s->len] = e;
	if (hashtab_add(&s->index, e->pos) < 0) {
		free(e);
		return -ENOMEM;
	}
	if (heap_push(&s->heap, &e->node) < 0) {
		hashtab_remove(&s->index, id, NULL);
		free(e);
		return -ENOMEM;
	}
	s->len++;
	return 0;
}

/* Take e out of the index and ents (not the heap). */
static void entry_unlink(struct sched *s, struct entry *e)
{
	struct entry *last = s->ents[s->len - 1];

	hashtab_remove(&s->index, e->id, NULL);
	if (last != e) {
		hashtab_move(&s->index, last->id, e->pos);
		last->pos = e->pos;
		s->ents[e->pos] = last;
	}
	s->len--;
}

int sched_remove(struct sched *s, const char *id)
{
	uint32_t pos;
	struct entry *e;

	if (!hashtab_find(&s->index, id, &pos))
		return 0;
	e = s->ents[pos];
	heap_remove(&s->heap, &e->node);
	entry_unlink(s, e);
	free(e);
	return 1;
}

int64_t sched_next_due(const struct sched *s)
{
	const struct heap_node *n = heap_peek(&s->heap);

	return n ? n->key : -1;
}

int64_t sched_pop_due(struct sched *s, int64_t now_ms, char **id)
{
	struct heap_node *n = heap_peek(&s->heap);
	struct entry *e;
	int64_t due;

	if (n == NULL || n->key > now_ms)
		return -1;
	heap_pop(&s->heap);
	e = (struct entry *)n;
	due = n->key;
	entry_unlink(s, e);
	/*
	 * The id moves to the start of its entry's block, which becomes
	 * the caller's string: a burst hands over tens of thousands in a
	 * row, and a copy and a free each cost more than the move.
	 */
	memmove(e, e->id, strlen(e->id) + 1);
	*id = (char *)e;
	return due;
}

size_t sched_len(const struct sched *s)
{
	return s->len;
}

/* A node's subtree holds nothing due earlier than the node itself. */
static int any_below(const struct heap *h, size_t i, int64_t until_ms,
                     int (*match)(void *arg, const char *id), void *arg)
{
	if (i >= h->len || h->v[i].key >= until_ms)
		return 0;
	if (match(arg, ((const struct entry *)h->v[i].node)->id))
		return 1;
	for (size_t c = HEAP_ARITY * i + 1; c <= HEAP_ARITY * i + HEAP_ARITY;
	     c++)
		if (any_below(h, c, until_ms, match, arg))
			return 1;
	return 0;
}

int sched_any_before(const struct sched *s, int64_t until_ms,
                     int (*match)(void *arg, const char *id), void *arg)
{
	return any_below(&s->heap, 0, until_ms, match, arg);
}
