#!/bin/sh
# check_pgrepl (tests/unit/check_pgrepl.c) against a throwaway PostgreSQL.
exec sh "$SMM_TOP_SRCDIR/tests/pg/with-pg.sh" \
	"$SMM_TOP_BUILDDIR/tests/unit/check_pgrepl"
