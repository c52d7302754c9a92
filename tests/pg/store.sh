#!/bin/sh
# The store's contract suite (tests/unit/check_store.c) against the
# postgresql backend, on a throwaway PostgreSQL: each test empties the
# database first.
exec sh "$SMM_TOP_SRCDIR/tests/pg/with-pg.sh" \
	env SMM_STORE_URL=postgresql:// "$SMM_TOP_BUILDDIR/tests/unit/check_store"
