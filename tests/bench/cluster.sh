#!/bin/bash
# The cluster pieces' figures (issue 16), by make bench when smmd is built
# with libpq: on a throwaway PostgreSQL 15 (tests/pg/with-pg.sh, fsync
# off, synchronous_commit on), tests/bench/clusterbench measures
#  - failover: 20 nodes killed without a goodbye, each at a random point
#    between two beats: how long until a surviving node reaps it (the
#    lease's part of a fail-over; target: at most 5 s);
#  - ship: 20,000 new posts with their deliveries written 100 to a
#    transaction and shipped as they come, then all 20,000 deliveries
#    marked publishing the same way (a burst's writes), then a second
#    node pulling all 60,000 changes: rows per second;
#  - idle: one idle node for 20 s: the transactions per second
#    PostgreSQL counted for it and the statements it sent (target: at
#    most 3 a second).
# SMM_BENCH_KILLS, SMM_BENCH_ROWS, SMM_BENCH_IDLE_S change the sizes.
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
