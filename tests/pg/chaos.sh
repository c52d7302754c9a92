#!/bin/sh
# The chaos test (tests/e2e/chaos.sh) with three smmd nodes on one
# throwaway PostgreSQL: SIGKILLs of the working node, a storm of
# terminated backends and two PostgreSQL restarts among the events. A
# short run; make cluster-chaos runs 10,000 posts and 100 events.
: "${CHAOS_POSTS:=200}" "${CHAOS_KILLS:=5}" "${CHAOS_SPREAD:=20}"
export CHAOS_POSTS CHAOS_KILLS CHAOS_SPREAD
exec sh "$SMM_TOP_SRCDIR/tests/pg/with-pg.sh" \
	env CHAOS_STORE=postgresql:// bash "$SMM_TOP_SRCDIR/tests/e2e/chaos.sh"
