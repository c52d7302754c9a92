/* Unit tests for lib/rndpool.c. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "rndpool.h"

/* Draws never repeat a byte range: across the refill, too. */
START_TEST(test_draws_differ_across_refills)
{
	struct rndpool p;
	uint64_t seen[1200];
	size_t n = sizeof(seen) / sizeof(*seen);

	rndpool_init(&p);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(rndpool_get(&p, &seen[i], sizeof(seen[i]), 0),
		                 0);
		/* 1,200 draws of 8 bytes span two refills of 4,096. */
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(seen[i] != seen[j],
			              "draw %zu repeats draw %zu", i, j);
	}
	ck_assert_uint_eq(p.used, (n * 8) % sizeof(p.buf));
}
END_TEST

/* A draw that does not fit what is left starts a fresh block. */
START_TEST(test_uneven_sizes_refill)
{
	struct rndpool p;
	unsigned char a[4000], b[200], zero[200] = {0};

	rndpool_init(&p);
	ck_assert_int_eq(rndpool_get(&p, a, sizeof(a), 0), 0);
	ck_assert_uint_eq(p.used, sizeof(a));
	ck_assert_int_eq(rndpool_get(&p, b, sizeof(b), 0), 0);
	ck_assert_uint_eq(p.used, sizeof(b));
	ck_assert_msg(memcmp(b, zero, sizeof(b)) != 0, "200 zero bytes");
	/* What was handed out is gone from the pool. */
	ck_assert_int_eq(memcmp(p.buf, zero, sizeof(b)), 0);
}
END_TEST

START_TEST(test_too_large_is_refused)
{
	struct rndpool p;
	unsigned char big[4097] = {0};

	rndpool_init(&p);
	errno = 0;
	ck_assert_int_eq(rndpool_get(&p, big, sizeof(big), 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(p.used, sizeof(p.buf));
	/* Exactly a block is fine. */
	ck_assert_int_eq(rndpool_get(&p, big, sizeof(p.buf), 0), 0);
	ck_assert_uint_eq(p.used, sizeof(p.buf));
}
END_TEST

static Suite *rndpool_suite(void)
{
	Suite *s = suite_create("rndpool");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_draws_differ_across_refills);
	tcase_add_test(tc, test_uneven_sizes_refill);
	tcase_add_test(tc, test_too_large_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(rndpool_suite)
