/* Unit tests for lib/hash.h: FNV-1a 64 as published, and chainable. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "hash.h"

/* The test vectors of the FNV reference (draft-eastlake-fnv). */
START_TEST(test_vectors)
{
	ck_assert(hash_str("") == UINT64_C(0xcbf29ce484222325));
	ck_assert(hash_str("a") == UINT64_C(0xaf63dc4c8601ec8c));
	ck_assert(hash_str("foobar") == UINT64_C(0x85944171f73967e8));
	ck_assert(hash_fnv1a(HASH_FNV_OFFSET, "foobar", 7) ==
	          UINT64_C(0x34531ca7168b8f38));
}
END_TEST

/* Hashing in pieces gives the hash of the whole, as calexpand relies on. */
START_TEST(test_chain)
{
	uint64_t h = hash_fnv1a(HASH_FNV_OFFSET, "foo", 3);

	ck_assert(hash_fnv1a(h, "bar", 3) == hash_str("foobar"));
	ck_assert(hash_fnv1a(h, "", 0) == h);
	ck_assert(hash_str("ab") != hash_str("ba"));
}
END_TEST

static Suite *hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("fnv1a");

	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_chain);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(hash_suite)
