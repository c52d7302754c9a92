/*
 * A table that finds positions by a string key: open addressing with
 * linear probing, its load kept under one half. It owns nothing but its
 * slots: the caller keeps its items (in an array, or an array of
 * pointers) and stores each one's position, with a function that gives
 * the key of the item at a position. A slot is one word, the position and
 * the key's hash: the tables that matter hold a whole calendar's
 * deliveries, so a slot stays small, and the hash spares a probe the
 * trip to a key that cannot match and growing the hashing of every key
 * again. Keys come from the admin's config and calendar, so there is no
 * adversary to defend against.
 *
 * It grows a little at a time. A table that doubles re-places every key
 * at once: in a row of 300,000 adds over one connection, the loop turn
 * that doubled the schedule's index to 524,288 slots took 26 ms, and the
 * doubling after 1,048,576 keys would re-place half of them into 16 MiB.
 * Instead the old slots stay beside the new ones, and each add or remove
 * moves a few of the old slots' runs over, whole runs at a time so that
 * every run left behind still probes as before; a lookup meanwhile looks
 * in both. Moving is done long before the new slots are half full.
 */
#ifndef SMM_HASHTAB_H
#define SMM_HASHTAB_H

#include <stddef.h>
#include <stdint.h>

struct hashtab_slot {
	uint32_t hash;
	uint32_t pos; /* the position + 1; 0: an empty slot */
};

struct hashtab {
	struct hashtab_slot *slots;
	size_t mask; /* slots - 1: a power of two less one */
	size_t len;  /* in both slot arrays */
	/* While growing: the slots before, holding what is not moved yet. */
	struct hashtab_slot *old;
	size_t old_mask;
	size_t old_at; /* the next old slot to move: a run's first, or empty */
	size_t old_left; /* old slots not looked at yet */
	const char *(*key)(const void *ctx, uint32_t pos);
	const void *ctx;
};

/* The largest position a table stores. */
#define HASHTAB_POS_MAX (UINT32_MAX - 1)

/* An empty table whose items' keys key(ctx, pos) gives. */
void hashtab_init(struct hashtab *,
                  const char *(*key)(const void *ctx, uint32_t pos),
                  const void *ctx);
/* Free the slots; the table is empty and usable again. */
void hashtab_free(struct hashtab *);
/* 1 and the position in *pos (when not NULL) if key is there, else 0. */
int hashtab_find(const struct hashtab *, const char *key, uint32_t *pos);
/* Store pos, whose key must not be in the table yet. 0 or -ENOMEM. */
int hashtab_add(struct hashtab *, uint32_t pos);
/*
 * key's item moved to pos (the key function must still give key at the
 * old position until this returns). 1, or 0 if key is not there.
 */
int hashtab_move(struct hashtab *, const char *key, uint32_t pos);
/* Drop key, its position passed back in *pos (when not NULL): 1, or 0. */
int hashtab_remove(struct hashtab *, const char *key, uint32_t *pos);
/*
 * Walk the positions: start with *it = 0; 1 and the next position in
 * *pos, or 0 at the end. The table must not change during the walk.
 */
int hashtab_next(const struct hashtab *, size_t *it, uint32_t *pos);

static inline size_t hashtab_len(const struct hashtab *t)
{
	return t->len;
}

#endif
