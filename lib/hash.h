/*
 * FNV-1a, 64 bits: the one hash of the project. It keys the tables of
 * delivery ids, post ids and channel names (no adversary: they come from
 * the admin's config and calendar) and makes the calendar's change hash,
 * which the store keeps: its values must never change.
 */
#ifndef SMM_HASH_H
#define SMM_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HASH_FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define HASH_FNV_PRIME  UINT64_C(0x100000001b3)

/* h carried over the n bytes at data: start with HASH_FNV_OFFSET. */
static inline uint64_t hash_fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= HASH_FNV_PRIME;
	}
	return h;
}

/* The hash of a string's bytes (without its NUL). */
static inline uint64_t hash_str(const char *s)
{
	return hash_fnv1a(HASH_FNV_OFFSET, s, strlen(s));
}

#endif
