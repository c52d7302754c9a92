#!/bin/bash
# The read commands against the loop (issue 14, "no loop stalls"): on
# report.sh's store (the 100,000-post calendar of gen-calendar.sh, about
# 200,000 deliveries due next month, on a disk state directory), each of
# report, stats, goals, list, calendar (agenda), show and plan check (with
# plancheck.sh's cadences), SMM_BENCH_READS_RUNS times: its round trip,
# and the longest loop turn while it ran (smmd -v logs every turn over
# 5 ms; "<5" when there was none). Then posts due every 5 ms on one
# channel while reports run back to back: how late each reached
# smm-sink, against the report's duration: with the reads on the loop a
# post waits for the report that is running when it falls due.
# Run by "make bench"; standalone:
#   SMM_TOP_SRCDIR=. SMM_TOP_BUILDDIR=build bash tests/bench/reads.sh
# Knobs: SMM_BENCH_READS_POSTS (100000), SMM_BENCH_READS_RUNS (3),
# SMM_BENCH_READS_DUE (40 posts due during the reports),
# SMM_BENCH_READS_KEEP (1: keep the directory with the logs).
set -u

SRC=${SMM_TOP_SRCDIR:-.}
BLD=${SMM_TOP_BUILDDIR:-build}
POSTS=${SMM_BENCH_READS_POSTS:-100000}
RUNS=${SMM_BENCH_READS_RUNS:-3}
DUE=${SMM_BENCH_READS_DUE:-40}
SMMD=$BLD/daemon/smmd
SMMCTL=$BLD/client/smmctl
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
FIG_CTX="posts=$POSTS due=$DUE"
bench_need "reads bench" "$SMMD" "$SMMCTL" "$SINK_BIN"
T=$(mktemp -d /var/tmp/smm-reads-bench.XXXXXX)
PID=
cleanup() {
	[ -z "$PID" ] || kill -KILL "$PID" 2>/dev/null
	[ -z "${SINK:-}" ] || kill -KILL "$SINK" 2>/dev/null
	wait 2>/dev/null
	# SMM_BENCH_READS_KEEP=1 keeps smmd's log and the sink's.
	[ -n "${SMM_BENCH_READS_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

now_ms() {
	date +%s%3N
}

export TZ=UTC
month=$(date -d "$(date +%Y-%m-01) +1 month" +%Y-%m)
# Nothing of the calendar is due while we measure: next month. The sink
# times the posts due meanwhile.
"$SINK_BIN" --port 0 --port-file "$T/sink.port" \
	--log "$T/sink.log" >/dev/null 2>&1 &
SINK=$!
for _ in $(seq 100); do [ -s "$T/sink.port" ] && break; sleep 0.05; done
# Cadences (plancheck.sh's) give plan check something to check.
sh "$SRC/tests/bench/gen-calendar.sh" -n "$POSTS" -s "$month-01" \
	-k 40/week -K 300/week \
	-u "http://127.0.0.1:$(cat "$T/sink.port")" "$T" 2>/dev/null ||
	{ echo "reads bench: gen-calendar.sh failed" >&2; exit 1; }

"$SMMD" -c "$T/smmd.yaml" --foreground -v 2>"$T/smmd.log" &
PID=$!
for _ in $(seq 1200); do
	SMMD_SOCKET=$T/smmd.sock "$SMMCTL" status >/dev/null 2>&1 && break
	kill -0 "$PID" 2>/dev/null ||
		{ echo "reads bench: smmd exited: $(tail -n 3 "$T/smmd.log")" >&2; exit 1; }
	sleep 0.1
done
export SMMD_SOCKET=$T/smmd.sock
sleep 2 # what follows the start-up (the first checkpoint) settles
deliveries=$("$SMMCTL" status --json | jq '.counts.scheduled')
id=$("$SMMCTL" calendar --from "$month-01" --to "$month-02" --json |
	jq -r '.deliveries[0].post // .deliveries[0].id' | cut -d/ -f1)
echo "Reads (issue 14): $POSTS posts, $deliveries deliveries in $month, $RUNS runs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# longest FROM_LINE: the longest turn smmd logged after line FROM_LINE.
longest() {
	tail -n +"$(($1 + 1))" "$T/smmd.log" |
		sed -n 's/.*loop: a turn took \([0-9.]*\) ms.*/\1/p' |
		sort -g | awk '{ m = $1 } END { print (m == "" ? "<5" : m) }'
}

# measure NAME CMD...: RUNS runs, each round trip and longest turn; the
# longest turn of all runs is the figure kept (0: none over 5 ms).
measure() {
	local name=$1 line t0 t1 turn worst=0 figs=
	shift
	for _ in $(seq 1 "$RUNS"); do
		line=$(wc -l <"$T/smmd.log")
		t0=$(now_ms)
		"$SMMCTL" "$@" >/dev/null ||
			{ echo "reads bench: $name failed" >&2; exit 1; }
		t1=$(now_ms)
		turn=$(longest "$line")
		figs="$figs $((t1 - t0)) ms (turn $turn ms);"
		[ "$turn" = "<5" ] ||
			worst=$(awk -v a="$worst" -v b="$turn" 'BEGIN { print (b > a ? b : a) }')
	done
	if [ "$worst" = 0 ]; then
		fig_put "reads.$name.turn_ms" 0 ms
		worst="none over 5 ms"
	else
		worst=$(fig "reads.$name.turn_ms" "$worst" ms)
	fi
	printf '  %-9s%s; worst turn: %s\n' "$name:" "${figs%;}" "$worst"
}

measure report report --month "$month" --json
measure stats stats --since "$month-01" --until "$(date -d "$month-01 +1 month" +%Y-%m-%d)" --json
measure goals goals --json
measure list list --json
measure calendar calendar --from "$month-01" --to "$month-08" --json
measure show show "$id" --json
# Up to the end of next month: the calendar's whole month.
measure plan plan check --weeks 9 --json

# Posts due every 5 ms while reports run back to back.
first=$(($(now_ms) + 3000 + DUE * 60))
for i in $(seq 0 $((DUE - 1))); do
	at=$(date -u -d "@$(((first + i * 5) / 1000)).$(printf '%03d' $(((first + i * 5) % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ)
	"$SMMCTL" add -c c0001 --id "due$i" --at "$at" "post $i" >/dev/null ||
		{ echo "reads bench: add failed" >&2; exit 1; }
done
last=$((first + (DUE - 1) * 5))
line=$(wc -l <"$T/smmd.log")
sleep_until $((first - 300))
reports=0
rt0=$(now_ms)
while [ "$(now_ms)" -lt $((last + 300)) ]; do
	"$SMMCTL" report --month "$month" --json >/dev/null || exit 1
	reports=$((reports + 1))
done
per=$((($(now_ms) - rt0) / reports))
sleep 0.5
# Each post's lateness at the sink (ms), from its first arrival.
lates=$(jq -s -r --argjson first "$first" '
	[.[] | select(.method == "POST") | (.body | fromjson? // {}) as $b
	 | select($b.id // "" | test("^due[0-9]+$"))
	 | {i: ($b.id[3:] | tonumber), t: .t_us}]
	| group_by(.i)[] | (map(.t) | min) / 1000 - ($first + .[0].i * 5)
	| floor' "$T/sink.log" | sort -n)
[ "$(echo "$lates" | wc -l)" -eq "$DUE" ] ||
	echo "reads bench: only $(echo "$lates" | wc -l) of $DUE posts reached the sink" >&2
p50=$(echo "$lates" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "  posts due every 5 ms during $reports reports (${per} ms each): late at the sink by p50 $(fig reads.posts.late_p50_ms "$p50" ms), max $(fig reads.posts.late_max_ms "$(echo "$lates" | tail -n 1)" ms); longest turn $(longest "$line") ms"
loop_turn "$SMMD_SOCKET"
echo "  longest loop turn since the start: $LOOP_TXT"
kill -TERM "$PID"
wait "$PID" 2>/dev/null
PID=
