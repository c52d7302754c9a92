/*
 * A table that finds values by a string key: open addressing with linear
 * probing, its load kept under one half. It owns neither keys nor values:
 * the caller keeps them (in an array, a buffer that moves, separate
 * allocations) and stores a uintptr_t for each, an index or a pointer,
 * with a function that gives a stored value's key. Each slot keeps its
 * key's hash, so a probe compares strings only when the hashes match,
 * and growing never hashes a key again. Keys come from the admin's
 * config and calendar, so there is no adversary to defend against.
 */
#ifndef SMM_HASHTAB_H
#define SMM_HASHTAB_H

#include <stddef.h>
#include <stdint.h>

struct hashtab_slot {
	uintptr_t val;
	uint32_t hash;
	uint32_t used;
};

struct hashtab {
	struct hashtab_slot *slots;
	size_t mask; /* slots - 1: a power of two less one */
	size_t len;
	const char *(*key)(const void *ctx, uintptr_t val);
	const void *ctx;
};

/* An empty table whose values' keys key(ctx, val) gives. */
void hashtab_init(struct hashtab *,
                  const char *(*key)(const void *ctx, uintptr_t val),
                  const void *ctx);
/* Free the slots (not the values); the table is empty and usable again. */
void hashtab_free(struct hashtab *);
/* 1 and the value in *val (when not NULL) if key is there, else 0. */
int hashtab_find(const struct hashtab *, const char *key, uintptr_t *val);
/* Store val, whose key must not be in the table yet. 0 or -ENOMEM. */
int hashtab_add(struct hashtab *, uintptr_t val);
/* Drop key's value, passed back in *val (when not NULL): 1, or 0. */
int hashtab_remove(struct hashtab *, const char *key, uintptr_t *val);
/*
 * Walk the values: start with *pos = 0; 1 and the next value in *val,
 * or 0 at the end. The table must not change during the walk.
 */
int hashtab_next(const struct hashtab *, size_t *pos, uintptr_t *val);

static inline size_t hashtab_len(const struct hashtab *t)
{
	return t->len;
}

#endif
