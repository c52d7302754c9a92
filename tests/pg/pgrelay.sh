#!/bin/sh
# check_pgrelay (tests/unit/check_pgrelay.c) against a throwaway PostgreSQL.
exec sh "$SMM_TOP_SRCDIR/tests/pg/with-pg.sh" \
	"$SMM_TOP_BUILDDIR/tests/unit/check_pgrelay"
