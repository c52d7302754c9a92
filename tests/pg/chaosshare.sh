#!/bin/sh
# The cluster's chaos test (tests/pg/chaos.sh) with workers: every node
# has share_work, so two fire their share of the channels beside the
# working node, and the kills fall on workers as well as on the working
# node. Nothing lost, no repeat without its webhook-id, no Slack post
# sent again after an answer or a silence.
: "${CHAOS_POSTS:=200}" "${CHAOS_KILLS:=6}" "${CHAOS_SPREAD:=20}"
export CHAOS_POSTS CHAOS_KILLS CHAOS_SPREAD
exec sh "$SMM_TOP_SRCDIR/tests/pg/with-pg.sh" \
	env CHAOS_STORE=postgresql:// CHAOS_SHARE=1 \
	bash "$SMM_TOP_SRCDIR/tests/e2e/chaos.sh"
