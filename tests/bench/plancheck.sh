#!/bin/bash
# smmctl plan check at scale (issue 12's benchmark): the 100,000-post
# calendar of gen-calendar.sh (1,000 channels, 20 campaigns, 1 %
# recurring), dated from tomorrow, every channel with a cadence of 40/week
# and every campaign 300/week, loaded into an idle smmd on a disk state
# directory. Reported per run: the time from starting smmctl to its
# answer (the store's deliveries over the four weeks read through the
# due-time index, every channel and campaign checked, the warnings
# printed); target: under 1 s. Then smmd --check-config's time on the same
# files (the calendar parsed, expanded over four weeks and checked). Run by
# "make bench"; standalone:
#   SMM_TOP_SRCDIR=. SMM_TOP_BUILDDIR=build bash tests/bench/plancheck.sh
# Knobs: SMM_BENCH_PLAN_POSTS (100000), SMM_BENCH_PLAN_RUNS (3).
set -u

SRC=${SMM_TOP_SRCDIR:-.}
BLD=${SMM_TOP_BUILDDIR:-build}
POSTS=${SMM_BENCH_PLAN_POSTS:-100000}
RUNS=${SMM_BENCH_PLAN_RUNS:-3}
SMMD=$BLD/daemon/smmd
SMMCTL=$BLD/client/smmctl
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
FIG_CTX="posts=$POSTS"
bench_need "plan check bench" "$SMMD" "$SMMCTL"
T=$(mktemp -d /var/tmp/smm-plan-bench.XXXXXX)
PID=
cleanup() {
	[ -z "$PID" ] || kill -KILL "$PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ms() {
	echo $((($2 - $1) / 1000000))
}

# Nothing is due while we measure: from tomorrow, to a closed port.
sh "$SRC/tests/bench/gen-calendar.sh" -n "$POSTS" -s "$(date -d tomorrow +%F)" \
	-u http://127.0.0.1:9 -k 40/week -K 300/week "$T" 2>/dev/null ||
	{ echo "plan check bench: gen-calendar.sh failed" >&2; exit 1; }

echo "Plan check (issue 12): $POSTS posts, 1000 channels at 40/week, 20 campaigns at 300/week, $RUNS runs"
for run in $(seq 1 "$RUNS"); do
	t0=$(date +%s%N)
	"$SMMD" --check-config -c "$T/smmd.yaml" >/dev/null 2>"$T/check.err" ||
		{ echo "plan check bench: --check-config failed: $(head -n 3 "$T/check.err")" >&2; exit 1; }
	t1=$(date +%s%N)
	printf '  smmd --check-config run %d: %s, %d warnings\n' "$run" \
		"$(fig "plancheck.check_config.$run.ms" "$(ms "$t0" "$t1")" ms)" \
		"$(grep -c ': warning: ' "$T/check.err")"
done

"$SMMD" -c "$T/smmd.yaml" --foreground 2>"$T/smmd.log" &
PID=$!
t0=$(date +%s%N)
for _ in $(seq 1200); do
	SMMD_SOCKET=$T/smmd.sock "$SMMCTL" status >/dev/null 2>&1 && break
	kill -0 "$PID" 2>/dev/null ||
		{ echo "plan check bench: smmd exited: $(tail -n 3 "$T/smmd.log")" >&2; exit 1; }
	sleep 0.1
done
t1=$(date +%s%N)
echo "  smmd started with the calendar loaded in $(fig plancheck.start_ms "$(ms "$t0" "$t1")" ms)"
for run in $(seq 1 "$RUNS"); do
	t0=$(date +%s%N)
	SMMD_SOCKET=$T/smmd.sock "$SMMCTL" plan check >"$T/out" 2>&1 ||
		{ echo "plan check bench: run $run failed: $(head -n 3 "$T/out")" >&2; exit 1; }
	t1=$(date +%s%N)
	printf '  smmctl plan check run %d: %s (target < 1000 ms); %s\n' "$run" \
		"$(fig "plancheck.$run.ms" "$(ms "$t0" "$t1")" ms)" "$(tail -n 1 "$T/out")"
done
kill -TERM "$PID"
wait "$PID" 2>/dev/null
PID=
