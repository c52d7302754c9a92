/*
 * peergroup_has: the gid a peer runs with, or membership in the group
 * database (supplementary groups), answered for users every Linux has.
 */
#include <check.h>
#include <grp.h>
#include <pwd.h>

#include "check_main.h"
#include "peergroup.h"

/* A gid no group has, or 0 if every one tried is taken. */
static gid_t unused_gid(void)
{
	for (gid_t g = 64000; g < 64100; g++)
		if (getgrgid(g) == NULL)
			return g;
	return 0;
}

START_TEST(test_primary)
{
	/* The process's own gid counts, whatever the database says. */
	ck_assert_int_eq(peergroup_has(0, 4242, 4242), 1);
}
END_TEST

START_TEST(test_database)
{
	gid_t none = unused_gid();

	/* Root's group, from the database, while it runs with another. */
	ck_assert_int_eq(peergroup_has(0, 4242, 0), 1);
	ck_assert_uint_ne(none, 0);
	ck_assert_int_eq(peergroup_has(0, 4242, none), 0);
}
END_TEST

START_TEST(test_unknown_uid)
{
	uid_t u = 64000;

	while (getpwuid(u) != NULL && u < 64100)
		u++;
	ck_assert_ptr_null(getpwuid(u));
	/* No user: only the gid it runs with. */
	ck_assert_int_eq(peergroup_has(u, 4242, 0), 0);
	ck_assert_int_eq(peergroup_has(u, 0, 0), 1);
}
END_TEST

static Suite *peergroup_suite(void)
{
	Suite *s = suite_create("peergroup");
	TCase *tc = tcase_create("has");

	tcase_add_test(tc, test_primary);
	tcase_add_test(tc, test_database);
	tcase_add_test(tc, test_unknown_uid);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(peergroup_suite)
