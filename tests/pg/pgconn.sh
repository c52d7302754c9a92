#!/bin/sh
# check_pgconn (tests/unit/check_pgconn.c) against a throwaway PostgreSQL.
exec sh "$SMM_TOP_SRCDIR/tests/pg/with-pg.sh" \
	"$SMM_TOP_BUILDDIR/tests/unit/check_pgconn"
