#!/bin/bash
# smmctl import at scale (issue 12's benchmark): a 10,000-row CSV in smmd's
# layout over 10 channels, imported into an idle smmd on a disk state
# directory, three runs each on a fresh store. Reported per run: the time
# from starting smmctl to its answer (every row checked, all stored in one
# transaction, durable), and smmd's peak RSS (VmHWM) after it. Target:
# under 2 s. Run by "make bench"; standalone:
#   SMM_TOP_SRCDIR=. SMM_TOP_BUILDDIR=build bash tests/bench/import.sh
# Knobs: SMM_BENCH_IMPORT_ROWS (10000), SMM_BENCH_IMPORT_RUNS (3).
set -u

BLD=${SMM_TOP_BUILDDIR:-build}
ROWS=${SMM_BENCH_IMPORT_ROWS:-10000}
RUNS=${SMM_BENCH_IMPORT_RUNS:-3}
SMMD=$BLD/daemon/smmd
SMMCTL=$BLD/client/smmctl
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
FIG_CTX="rows=$ROWS"
bench_need "import bench" "$SMMD" "$SMMCTL"
T=$(mktemp -d /var/tmp/smm-import-bench.XXXXXX)
PID=
cleanup() {
	[ -z "$PID" ] || kill -KILL "$PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

day=$(date -u -d '+2 days' +%Y-%m-%d)
{
	echo "at,channels,text,link,campaign"
	for i in $(seq 1 "$ROWS"); do
		printf '%s %02d:%02d,c%d,"Row %d: a post of some length, with a comma",https://example.org/p/%d,bench\n' \
			"$day" $((i % 24)) $((i % 60)) $((i % 10)) "$i" "$i"
	done
} >"$T/rows.csv"

echo "Import (issue 12): $ROWS rows, 10 channels, $RUNS runs, state on disk"
for run in $(seq 1 "$RUNS"); do
	d=$T/run$run
	mkdir -p "$d"
	{
		echo "state_dir: $d/state"
		echo "socket: $d/smmd.sock"
		echo "channels:"
		for c in $(seq 0 9); do
			printf '  c%d:\n    publisher: webhook\n    url: http://127.0.0.1:9/hook\n' "$c"
		done
	} >"$d/smmd.yaml"
	"$SMMD" -c "$d/smmd.yaml" --foreground 2>"$d/smmd.log" &
	PID=$!
	for _ in $(seq 200); do
		SMMD_SOCKET=$d/smmd.sock "$SMMCTL" status >/dev/null 2>&1 && break
		sleep 0.05
	done
	t0=$(date +%s%N)
	SMMD_SOCKET=$d/smmd.sock "$SMMCTL" import "$T/rows.csv" >"$d/out" 2>&1 ||
		{ echo "import bench: run $run failed: $(head -n 3 "$d/out")" >&2; exit 1; }
	t1=$(date +%s%N)
	hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$PID/status")
	printf '  run %d: %d rows acknowledged in %s (target < 2000 ms); smmd peak RSS %s\n' \
		"$run" "$ROWS" "$(fig "import.$run.ms" $(((t1 - t0) / 1000000)) ms)" \
		"$(fig "import.$run.hwm" $((hwm / 1024)) MiB)"
	kill -TERM "$PID"
	wait "$PID" 2>/dev/null
	PID=
done
