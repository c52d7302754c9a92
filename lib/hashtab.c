#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "hashtab.h"

#define HASHTAB_MIN 64

void hashtab_init(struct hashtab *t,
                  const char *(*key)(const void *ctx, uintptr_t val),
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

	while (t->slots[i].used &&
	       (t->slots[i].hash != h ||
	        strcmp(t->key(t->ctx, t->slots[i].val), key) != 0))
		i = (i + 1) & t->mask;
	return i;
}

/* The slot holding key in *i (its value in *val if asked). 1 or 0. */
static int hashtab_lookup(const struct hashtab *t, const char *key, size_t *i,
                          uintptr_t *val)
{
	if (t->slots == NULL)
		return 0;
	*i = hashtab_probe(t, key, (uint32_t)hash_str(key));
	if (!t->slots[*i].used)
		return 0;
	if (val != NULL)
		*val = t->slots[*i].val;
	return 1;
}

int hashtab_find(const struct hashtab *t, const char *key, uintptr_t *val)
{
	size_t i;

	return hashtab_lookup(t, key, &i, val);
}

/* Put slot s in the first free slot from its home. */
static void hashtab_place(struct hashtab_slot *slots, size_t mask,
                          struct hashtab_slot s)
{
	size_t i = s.hash & mask;

	while (slots[i].used)
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
		if (t->slots[i].used)
			hashtab_place(slots, cap - 1, t->slots[i]);
	free(t->slots);
	t->slots = slots;
	t->mask = cap - 1;
	return 0;
}

int hashtab_add(struct hashtab *t, uintptr_t val)
{
	struct hashtab_slot s = {val, (uint32_t)hash_str(t->key(t->ctx, val)),
	                         1};

	if ((t->slots == NULL || (t->len + 1) * 2 > t->mask + 1) &&
	    hashtab_grow(t) < 0)
		return -ENOMEM;
	hashtab_place(t->slots, t->mask, s);
	t->len++;
	return 0;
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

	t->slots[i].used = 0;
	for (;;) {
		j = (j + 1) & t->mask;
		if (!t->slots[j].used)
			return;
		if (hashtab_between(t->slots[j].hash & t->mask, i, j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j].used = 0;
		i = j;
	}
}

int hashtab_remove(struct hashtab *t, const char *key, uintptr_t *val)
{
	size_t i;

	if (!hashtab_lookup(t, key, &i, val))
		return 0;
	hashtab_unplace(t, i);
	t->len--;
	return 1;
}

int hashtab_next(const struct hashtab *t, size_t *pos, uintptr_t *val)
{
	for (; t->slots != NULL && *pos <= t->mask; (*pos)++)
		if (t->slots[*pos].used) {
			*val = t->slots[(*pos)++].val;
			return 1;
		}
	return 0;
}
