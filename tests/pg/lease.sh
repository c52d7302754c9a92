#!/bin/sh
# check_lease (tests/unit/check_lease.c) against a throwaway PostgreSQL.
exec sh "$SMM_TOP_SRCDIR/tests/pg/with-pg.sh" \
	"$SMM_TOP_BUILDDIR/tests/unit/check_lease"
