#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Start-up of smmd on the postgresql store with history (issue 16), run
# by tests/bench/cluster.sh under tests/pg/with-pg.sh. HISTORY posts
# (20,000) are published, smmd is stopped cleanly, then started twice:
# once with the view its clean stop left whole (read on from where it
# was), once without it (view.db removed: the whole change log is read,
# as after a crash). The figure is the time from exec to ready.
#
# pgrestart.sh [HISTORY]
: "${SMM_PG_DIR:?run under tests/pg/with-pg.sh}"
history=${1:-20000}
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$SMM_TOP_SRCDIR/tests/e2e/lib.sh"
# shellcheck source=tests/bench/lib.sh
. "$SMM_TOP_SRCDIR/tests/bench/lib.sh"

start_sink
write_config -g "store: postgresql://" demo
start_smmd
publish_history "$history" "$SOCK"
changes=$HISTORY_CHANGES

# timed_start: START_MS, ms from exec to ready (start_smmd returns once
# it answers).
timed_start() {
	local t0
	t0=$(now_ms)
	SMM_E2E_START_TIMEOUT=120 start_smmd
	START_MS=$(($(now_ms) - t0))
}
stop_smmd
timed_start
kept=$START_MS
grep -q "view of the last clean stop is kept" "$T/smmd.log" ||
	fail "the view was not kept"
stop_smmd
rm -f "$T/state/view.db"
timed_start
whole=$START_MS
[ "$(smmctl status --json | jq .counts.published)" -ge "$history" ] ||
	fail "the view read whole misses posts"
stop_smmd
echo "start-up after $history posts of history ($changes changes logged):" \
	"view kept $(fig pg.start.kept "$kept" ms)," \
	"view read whole $(fig pg.start.whole "$whole" ms)"
