#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bigarray.h"
#include "hash.h"
#include "hashtab.h"

#define HASHTAB_MIN 64
/*
 * Empty old slots passed over by each add or remove while growing, the
 * runs between them moved whole. The old slots were at most half full,
 * so at least half are empty: moving ends within old slots / 64 adds or
 * removes, and the new slots are half full only old slots / 2 adds on.
 */
#define HASHTAB_MOVE_EMPTIES 32

void hashtab_init(struct hashtab *t,
                  const char *(*key)(const void *ctx, uint32_t pos),
                  const void *ctx)
{
	*t = (struct hashtab){.key = key, .ctx = ctx};
}

/* Bytes in slots of mask + 1. */
static size_t slots_bytes(size_t mask)
{
	return (mask + 1) * sizeof(struct hashtab_slot);
}

void hashtab_free(struct hashtab *t)
{
	bigarray_free(t->slots, slots_bytes(t->mask));
	bigarray_free(t->old, slots_bytes(t->old_mask));
	*t = (struct hashtab){.key = t->key, .ctx = t->ctx};
}

/* In slots: the slot holding key (hash h), or the empty one it would go. */
static size_t hashtab_probe(const struct hashtab *t,
                            const struct hashtab_slot *slots, size_t mask,
                            const char *key, uint32_t h)
{
	size_t i = h & mask;

	while (slots[i].pos &&
	       (slots[i].hash != h ||
	        strcmp(t->key(t->ctx, slots[i].pos - 1), key) != 0))
		i = (i + 1) & mask;
	return i;
}

/* Where key is: its slot array, mask and index. */
struct hashtab_at {
	struct hashtab_slot *slots;
	size_t mask, i;
};

/* Key's slot in *at, the new slots looked in first. 1 or 0. */
static int hashtab_lookup(const struct hashtab *t, const char *key,
                          struct hashtab_at *at)
{
	uint32_t h;

	if (t->slots == NULL)
		return 0;
	h = (uint32_t)hash_str(key);
	*at = (struct hashtab_at){t->slots, t->mask, 0};
	at->i = hashtab_probe(t, t->slots, t->mask, key, h);
	if (t->slots[at->i].pos)
		return 1;
	if (t->old == NULL)
		return 0;
	*at = (struct hashtab_at){t->old, t->old_mask, 0};
	at->i = hashtab_probe(t, t->old, t->old_mask, key, h);
	return t->old[at->i].pos != 0;
}

int hashtab_find(const struct hashtab *t, const char *key, uint32_t *pos)
{
	struct hashtab_at at;

	if (!hashtab_lookup(t, key, &at))
		return 0;
	if (pos != NULL)
		*pos = at.slots[at.i].pos - 1;
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

/*
 * Move old slots over, stopping only past an empty one: the old slots
 * left are whole runs, each after an empty slot, so a probe there meets
 * what it met before, and one that starts in the emptied part finds an
 * empty slot at once. Nothing is added to the old slots, and a removal
 * there shifts within its run, so the runs stay whole.
 */
static void hashtab_move_some(struct hashtab *t, size_t empties)
{
	while (t->old != NULL) {
		struct hashtab_slot *s = &t->old[t->old_at];

		if (s->pos) {
			hashtab_place(t->slots, t->mask, *s);
			s->pos = 0;
		} else if (empties-- == 0) {
			return;
		}
		t->old_at = (t->old_at + 1) & t->old_mask;
		if (--t->old_left == 0) {
			bigarray_free(t->old, slots_bytes(t->old_mask));
			t->old = NULL;
		}
	}
}

/* Double the slots (or make the first ones). 0 or -ENOMEM. */
static int hashtab_grow(struct hashtab *t)
{
	size_t cap = t->slots ? (t->mask + 1) * 2 : HASHTAB_MIN, i;
	struct hashtab_slot *slots =
	        bigarray_resize(NULL, 0, cap * sizeof(*slots));

	if (slots == NULL)
		return -ENOMEM;
	/* Moving ends long before (HASHTAB_MOVE_EMPTIES); were it not
	 * done, it finishes now: there is one array of old slots at most. */
	hashtab_move_some(t, SIZE_MAX);
	if (t->slots == NULL || t->len == 0) {
		bigarray_free(t->slots, slots_bytes(t->mask));
		t->slots = slots;
		t->mask = cap - 1;
		return 0;
	}
	/* Start past an empty slot, so no run is cut in two; load under
	 * one half leaves one. */
	for (i = 0; t->slots[i].pos; i++)
		;
	t->old = t->slots;
	t->old_mask = t->mask;
	t->old_at = i;
	t->old_left = t->mask + 1;
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
	hashtab_move_some(t, HASHTAB_MOVE_EMPTIES);
	hashtab_place(t->slots, t->mask, s);
	t->len++;
	return 0;
}

int hashtab_move(struct hashtab *t, const char *key, uint32_t pos)
{
	struct hashtab_at at;

	if (pos > HASHTAB_POS_MAX || !hashtab_lookup(t, key, &at))
		return 0;
	at.slots[at.i].pos = pos + 1;
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
static void hashtab_unplace(struct hashtab_at at)
{
	size_t i = at.i, j = at.i;

	at.slots[i].pos = 0;
	for (;;) {
		j = (j + 1) & at.mask;
		if (!at.slots[j].pos)
			return;
		if (hashtab_between(at.slots[j].hash & at.mask, i, j))
			continue;
		at.slots[i] = at.slots[j];
		at.slots[j].pos = 0;
		i = j;
	}
}

int hashtab_remove(struct hashtab *t, const char *key, uint32_t *pos)
{
	struct hashtab_at at;

	if (!hashtab_lookup(t, key, &at))
		return 0;
	if (pos != NULL)
		*pos = at.slots[at.i].pos - 1;
	hashtab_unplace(at);
	t->len--;
	hashtab_move_some(t, HASHTAB_MOVE_EMPTIES);
	return 1;
}

/* The old slots first, while there are any, then the new. */
int hashtab_next(const struct hashtab *t, size_t *it, uint32_t *pos)
{
	size_t nold = t->old ? t->old_mask + 1 : 0;

	for (; t->slots != NULL && *it < nold + t->mask + 1; (*it)++) {
		const struct hashtab_slot *s =
		        *it < nold ? &t->old[*it] : &t->slots[*it - nold];

		if (s->pos) {
			*pos = s->pos - 1;
			(*it)++;
			return 1;
		}
	}
	return 0;
}
