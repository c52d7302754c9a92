/*
 * The main() every Check unit test shares: run the suite and exit 0 only
 * when every test passed. Check forks each test, so a crash fails that
 * test alone.
 */
#ifndef SMM_CHECK_MAIN_H
#define SMM_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

/* Run suite s to the end: EXIT_SUCCESS when nothing failed. */
static inline int check_main_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* main() for a test file whose suite make_suite() builds. */
#define SMM_CHECK_MAIN(make_suite)                   \
	int main(void)                               \
	{                                            \
		return check_main_run(make_suite()); \
	}

#endif
