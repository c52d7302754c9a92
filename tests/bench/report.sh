#!/bin/bash
# smmctl report on a busy month (issue 13's report): the 100,000-post
# calendar of gen-calendar.sh (1,000 channels, each post on one to three:
# about 200,000 deliveries), all due in the month after this one, loaded
# into an idle smmd on a disk state directory. Reported per run: smmd's
# answer to "report --json" for that month (one read of the due-time
# index, every delivery counted on its day, on a worker thread: smmd's
# loop goes on meanwhile, see reads.sh), then the whole "report -o
# FILE.html" (the page rendered too).
# Run by "make bench"; standalone:
#   SMM_TOP_SRCDIR=. SMM_TOP_BUILDDIR=build bash tests/bench/report.sh
# Knobs: SMM_BENCH_REPORT_POSTS (100000), SMM_BENCH_REPORT_RUNS (3).
set -u

SRC=${SMM_TOP_SRCDIR:-.}
BLD=${SMM_TOP_BUILDDIR:-build}
POSTS=${SMM_BENCH_REPORT_POSTS:-100000}
RUNS=${SMM_BENCH_REPORT_RUNS:-3}
SMMD=$BLD/daemon/smmd
SMMCTL=$BLD/client/smmctl
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
FIG_CTX="posts=$POSTS"
bench_need "report bench" "$SMMD" "$SMMCTL"
T=$(mktemp -d /var/tmp/smm-report-bench.XXXXXX)
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

# The days are UTC's (smmd has no calendar zone of its own here).
export TZ=UTC
month=$(date -d "$(date +%Y-%m-01) +1 month" +%Y-%m)
# Nothing is due while we measure: next month, to a closed port.
sh "$SRC/tests/bench/gen-calendar.sh" -n "$POSTS" -s "$month-01" \
	-u http://127.0.0.1:9 "$T" 2>/dev/null ||
	{ echo "report bench: gen-calendar.sh failed" >&2; exit 1; }

"$SMMD" -c "$T/smmd.yaml" --foreground 2>"$T/smmd.log" &
PID=$!
for _ in $(seq 1200); do
	SMMD_SOCKET=$T/smmd.sock "$SMMCTL" status >/dev/null 2>&1 && break
	kill -0 "$PID" 2>/dev/null ||
		{ echo "report bench: smmd exited: $(tail -n 3 "$T/smmd.log")" >&2; exit 1; }
	sleep 0.1
done
export SMMD_SOCKET=$T/smmd.sock
deliveries=$("$SMMCTL" status --json | jq '.counts.scheduled')
echo "Report (issue 13): $POSTS posts, $deliveries deliveries in $month, $RUNS runs"
for run in $(seq 1 "$RUNS"); do
	t0=$(date +%s%N)
	"$SMMCTL" report --month "$month" --json >"$T/report.json" ||
		{ echo "report bench: run $run failed" >&2; exit 1; }
	t1=$(date +%s%N)
	"$SMMCTL" report --month "$month" -o "$T/report.html" ||
		{ echo "report bench: run $run (HTML) failed" >&2; exit 1; }
	t2=$(date +%s%N)
	printf '  run %d: --json %s (%d counted, %d KiB); -o FILE.html %s (%d KiB)\n' \
		"$run" "$(fig "report.$run.json_ms" "$(ms "$t0" "$t1")" ms)" \
		"$(jq '[.days[].planned] | add' "$T/report.json")" \
		$(($(stat -c %s "$T/report.json") / 1024)) \
		"$(fig "report.$run.html_ms" "$(ms "$t1" "$t2")" ms)" \
		$(($(stat -c %s "$T/report.html") / 1024))
done
kill -TERM "$PID"
wait "$PID" 2>/dev/null
PID=
