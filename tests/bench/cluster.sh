#!/bin/bash
# The cluster pieces' figures (issue 16), by make bench when smmd is built
# with libpq: on a throwaway PostgreSQL 15 (tests/pg/with-pg.sh, fsync
# off, synchronous_commit on), tests/bench/clusterbench measures
#  - failover: 20 nodes killed without a goodbye, each at a random point
#    between two beats: how long until a surviving node reaps it (the
#    lease's part of a fail-over; target: at most 5 s);
#  - ship: 20,000 new posts with their deliveries written 100 to a
#    transaction and shipped as they come, then all 20,000 deliveries
#    marked publishing the same way (a burst's writes), then a node up
#    since before the writes pulling all 60,000 changes, and a new node
#    reading the 40,000 rows whole (a new view's first pull): rows per
#    second;
#  - idle: the pieces of one idle node for 20 s, its lease and a pull
#    every second whether or not anything changed: the transactions per
#    second PostgreSQL counted for it and the statements it sent (3.3-3.4
#    on 2026-12-06). smmd pulls only when told or every 5 s: the issue's
#    target of at most 3 a second is its own nodes', pgidle.sh's below.
# Then smmd itself on the postgresql store (one working node):
#  - bench.sh's punctuality and burst scenarios (5,000 posts over 10 s,
#    and 50,000 posts due at once), every delivery's publishing write
#    committed in
#    PostgreSQL before it leaves (figures under "pg.", latest-pg.txt);
#    SMM_BENCH_PG_BURST_N changes the burst's size;
#  - fail-over (tests/bench/failover.sh): two nodes, the working one
#    killed with SIGKILL at a random point in the second before a post is
#    due, 20 times: how late the post reaches the sink; then 5 times
#    after 20,000 posts of history (100,000 changes in the log), which
#    a standby has read while it waited;
#  - start-up after the same history (tests/bench/pgrestart.sh): with
#    the view a clean stop left whole, and with it read whole;
#  - idle smmd nodes, a working one and a standby: statements a second
#    from PostgreSQL's own log, and an add relayed by the standby against
#    one made on the working node (tests/bench/pgidle.sh);
#  - three nodes sharing the work (share_work, tests/bench/workbench.sh):
#    lateness of 5,000 posts over 10 s, the aggregate rate of a burst of
#    SMM_BENCH_WORK_BURST_N (50,000) posts, and fail-over over KILLS
#    kills of a channel's owner, working node and workers in turn.
# SMM_BENCH_KILLS, SMM_BENCH_ROWS, SMM_BENCH_IDLE_S, SMM_BENCH_HISTORY
# change the sizes.
set -eu
: "${SMM_TOP_SRCDIR:?}" "${SMM_TOP_BUILDDIR:?}"
kills=${SMM_BENCH_KILLS:-20}
rows=${SMM_BENCH_ROWS:-20000}
idle_s=${SMM_BENCH_IDLE_S:-20}
bench=$SMM_TOP_BUILDDIR/tests/bench/clusterbench
pg=$SMM_TOP_SRCDIR/tests/pg/with-pg.sh

echo "cluster (issue 16): one PostgreSQL 15 on this machine, fsync off"
sh "$pg" "$bench" failover "$kills"
sh "$pg" "$bench" ship "$rows" 100
sh "$pg" "$bench" idle "$idle_s"
sh "$pg" env SMM_BENCH_STORE=postgresql:// SMM_BENCH_DISK_REPS=0 \
	SMM_BENCH_BURST_N="${SMM_BENCH_PG_BURST_N:-50000}" \
	SMM_BENCH_SCENARIOS="${SMM_BENCH_PG_SCENARIOS:-punctuality burst}" \
	bash "$SMM_TOP_SRCDIR/tests/bench/bench.sh"
sh "$pg" bash "$SMM_TOP_SRCDIR/tests/bench/failover.sh" "$kills"
sh "$pg" bash "$SMM_TOP_SRCDIR/tests/bench/failover.sh" 5 \
	"${SMM_BENCH_HISTORY:-20000}"
sh "$pg" bash "$SMM_TOP_SRCDIR/tests/bench/pgrestart.sh" \
	"${SMM_BENCH_HISTORY:-20000}"
sh "$pg" bash "$SMM_TOP_SRCDIR/tests/bench/pgidle.sh" "$idle_s"
sh "$pg" bash "$SMM_TOP_SRCDIR/tests/bench/workbench.sh" "$kills" 5000 \
	"${SMM_BENCH_WORK_BURST_N:-50000}"
