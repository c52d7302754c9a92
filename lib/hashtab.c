#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "hashtab.h"

#define HASHTAB_MIN 64

void hashtab_init(struct hashtab *t,
                  const char *(*key)(const void *ctx, uint32_t pos),
                  const void *ctx)
{
	*t = (struct hashtab){.key = key, .ctx = ctx};
}

void hashtab_free(struct hashtab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->mask = 0;
	t->len = 0;
}

/* The slot holding key (hash h), or the empty slot where it would go. */
static size_t hashtab_probe(const struct hashtab *t, const char *key,
                            uint32_t h)
{
	size_t i = h & t->mask;

	while (t->slots[i].pos &&
	       (t->slots[i].hash != h ||
	        strcmp(t->key(t->ctx, t->slots[i].pos - 1), key) != 0))
		i = (i + 1) & t->mask;
	return i;
}

/* The slot holding key in *i. 1 or 0. */
static int hashtab_lookup(const struct hashtab *t, const char *key, size_t *i)
{
	if (t->slots == NULL)
		return 0;
	*i = hashtab_probe(t, key, (uint32_t)hash_str(key));
	return t->slots[*i].pos != 0;
}

int hashtab_find(const struct hashtab *t, const char *key, uint32_t *pos)
{
	size_t i;

	if (!hashtab_lookup(t, key, &i))
		return 0;
	if (pos != NULL)
		*pos = t->slots[i].pos - 1;
	return 1;
}

/* Put slot s in the first free slot from its home. */
static void hashtab_place(struct hashtab_slot *slots, size_t mask,
                          struct hashtab_slot s)
{
	size_t i = s.hash & mask;

	while (slots[i].pos)
		i = (i + 1) & mask;
	slots[i] = s;
}

/* Double the slots (or make the first ones). 0 or -ENOMEM. */
static int hashtab_grow(struct hashtab *t)
{
	size_t cap = t->slots ? (t->mask + 1) * 2 : HASHTAB_MIN;
	struct hashtab_slot *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return -ENOMEM;
	for (size_t i = 0; t->slots && i <= t->mask; i++)
		if (t->slots[i].pos)
			hashtab_place(slots, cap - 1, t->slots[i]);
	free(t->slots);
	t->slots = slots;
	t->mask = cap - 1;
	return 0;
}

int hashtab_add(struct hashtab *t, uint32_t pos)
{
	struct hashtab_slot s = {(uint32_t)hash_str(t->key(t->ctx, pos)),
	                         pos + 1};

	if (pos > HASHTAB_POS_MAX)
		return -ERANGE;
	if ((t->slots == NULL || (t->len + 1) * 2 > t->mask + 1) &&
	    hashtab_grow(t) < 0)
		return -ENOMEM;
	hashtab_place(t->slots, t->mask, s);
	t->len++;
	return 0;
}

int hashtab_move(struct hashtab *t, const char *key, uint32_t pos)
{
	size_t i;

	if (pos > HASHTAB_POS_MAX || !hashtab_lookup(t, key, &i))
		return 0;
	t->slots[i].pos = pos + 1;
	return 1;
}

/* 1 if home h lies cyclically in (from, to]. */
static int hashtab_between(size_t h, size_t from, size_t to)
{
	return from <= to ? h > from && h <= to : h > from || h <= to;
}

/*
 * Empty slot i without tombstones: an entry further along the run moves
 * back into the hole unless its home lies after the hole, so every probe
 * still reaches every key.
 */
static void hashtab_unplace(struct hashtab *t, size_t i)
{
	size_t j = i;

	t->slots[i].pos = 0;
	for (;;) {
		j = (j + 1) & t->mask;
		if (!t->slots[j].pos)
			return;
		if (hashtab_between(t->slots[j].hash & t->mask, i, j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j].pos = 0;
		i = j;
	}
}

int hashtab_remove(struct hashtab *t, const char *key, uint32_t *pos)
{
	size_t i;

	if (!hashtab_lookup(t, key, &i))
		return 0;
	if (pos != NULL)
		*pos = t->slots[i].pos - 1;
	hashtab_unplace(t, i);
	t->len--;
	return 1;
}

int hashtab_next(const struct hashtab *t, size_t *it, uint32_t *pos)
{
	for (; t->slots != NULL && *it <= t->mask; (*it)++)
		if (t->slots[*it].pos) {
			*pos = t->slots[(*it)++].pos - 1;
			return 1;
		}
	return 0;
}
