/* Unit tests for lib/bigarray.c: arrays kept whole across the threshold. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "bigarray.h"
#include "check_main.h"

/* p's first n words hold 0, 1, 2...; the rest up to m are zero. */
static int holds(const uint32_t *p, size_t n, size_t m)
{
	for (size_t i = 0; i < m; i++)
		if (p[i] != (i < n ? (uint32_t)i : 0))
			return 0;
	return 1;
}

START_TEST(test_grow_across)
{
	uint32_t *p = NULL;
	size_t words = 0;

	/* Doubling from 64 bytes to 4 MiB: malloc'd, then mapped. */
	for (size_t n = 16; n <= 1024 * 1024; n *= 2) {
		uint32_t *q = bigarray_resize(p, words * 4, n * 4);

		ck_assert_ptr_nonnull(q);
		ck_assert(holds(q, words, n));
		for (size_t i = words; i < n; i++)
			q[i] = (uint32_t)i;
		p = q;
		words = n;
	}
	/* Back under the threshold, then to nothing. */
	p = bigarray_resize(p, words * 4, 1000 * 4);
	ck_assert_ptr_nonnull(p);
	ck_assert(holds(p, 1000, 1000));
	p = bigarray_resize(p, 1000 * 4, BIGARRAY_MAPPED * 2);
	ck_assert_ptr_nonnull(p);
	ck_assert(holds(p, 1000, BIGARRAY_MAPPED / 2));
	bigarray_free(p, BIGARRAY_MAPPED * 2);
	bigarray_free(NULL, 0);
}
END_TEST

START_TEST(test_zeroed)
{
	/* A fresh array of either kind is zero, as calloc's. */
	size_t sizes[] = {64, BIGARRAY_MAPPED - 8, BIGARRAY_MAPPED,
	                  BIGARRAY_MAPPED * 8};

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t *p = bigarray_resize(NULL, 0, sizes[k]);

		ck_assert_ptr_nonnull(p);
		ck_assert(holds(p, 0, sizes[k] / 4));
		bigarray_free(p, sizes[k]);
	}
}
END_TEST

START_TEST(test_out_of_memory)
{
	uint32_t *p = bigarray_resize(NULL, 0, BIGARRAY_MAPPED);

	ck_assert_ptr_nonnull(p);
	p[0] = 7;
	/* More than the address space: refused, the array left as it was. */
	ck_assert_ptr_null(bigarray_resize(p, BIGARRAY_MAPPED, SIZE_MAX / 2));
	ck_assert_uint_eq(p[0], 7);
	bigarray_free(p, BIGARRAY_MAPPED);
}
END_TEST

static Suite *bigarray_suite(void)
{
	Suite *s = suite_create("bigarray");
	TCase *tc = tcase_create("array");

	tcase_add_test(tc, test_grow_across);
	tcase_add_test(tc, test_zeroed);
	tcase_add_test(tc, test_out_of_memory);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(bigarray_suite)
