#!/bin/bash
# Plan B under load (issue 11's benchmark): 50,000 posts due at one
# instant over 20 channels; once the sink has taken about a fifth of them,
# "smmctl pause --all" (three runs), then the same with "smmctl planb
# activate" of a scenario that pauses everything and publishes a statement
# on all 20 channels (three runs). Reported per run: how many requests of
# the burst reached the sink after the reply (must be 0: the promise), how
# long the reply took (it waits for the requests under way), how many were
# published before it and held by it, and that every post is one or the
# other; for activate also the time from the command to each statement's
# arrival at the sink (p50, max). Run by "make bench" after bench.sh; standalone:
#   SMM_TOP_SRCDIR=. SMM_TOP_BUILDDIR=build bash tests/bench/pause.sh
# Knobs: SMM_BENCH_PAUSE_N (50000), SMM_BENCH_PAUSE_RUNS (3),
# SMM_BENCH_PAUSE_AT (10000: sink arrivals before the pause).
set -u

SRC=${SMM_TOP_SRCDIR:-.}
BLD=${SMM_TOP_BUILDDIR:-build}
N=${SMM_BENCH_PAUSE_N:-50000}
RUNS=${SMM_BENCH_PAUSE_RUNS:-3}
AT=${SMM_BENCH_PAUSE_AT:-10000}
SMMD=$BLD/daemon/smmd
SMMCTL=$BLD/client/smmctl
SINK=$BLD/tests/sink/smm-sink
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
FIG_CTX="n=$N at=$AT"
bench_need "pause bench" "$SMMD" "$SMMCTL" "$SINK"
T=$(mktemp -d /tmp/smm-pause-bench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${SMM_BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
die() {
	echo "pause bench: $*" >&2
	exit 1
}
now_us() {
	echo $(($(date +%s%N) / 1000))
}

# run_once I MODE: one burst, one pause ("pause") or one activation
# ("planb"); prints the run's line.
run_once() {
	local d=$T/run$1$2 mode=$2 port t0 before_us after_us late published held
	local stmt=""
	mkdir -p "$d/state"
	"$SINK" --port 0 --port-file "$d/port" --log "$d/sink.log" \
		>"$d/sink.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$d/port" ] && break; sleep 0.02; done
	port=$(cat "$d/port")
	{
		echo "state_dir: $d/state"
		echo "socket: $d/smmd.sock"
		echo "max_in_flight: 256"
		echo "calendar: $d/calendar.yaml"
		echo "channels:"
		for c in $(seq -w 0 19); do
			echo "  c$c:"
			echo "    publisher: webhook"
			echo "    url: http://127.0.0.1:$port/hook/c$c"
			echo "    max_in_flight: 16"
		done
	} >"$d/smmd.yaml"
	cat >"$d/calendar.yaml" <<'YAML'
planb:
  crisis:
    pause: all
    text: "We are aware of a problem and are on it. Next update within the hour."
YAML
	"$SMMD" -c "$d/smmd.yaml" --foreground 2>"$d/smmd.log" &
	PIDS+=($!)
	for _ in $(seq 500); do
		"$SMMCTL" -s "$d/smmd.sock" status >/dev/null 2>&1 && break
		sleep 0.02
	done
	# All due at t0, far enough ahead to queue them first.
	t0=$(($(date +%s%3N) + 8000))
	jq -n -c --argjson n "$N" --argjson t0 "$t0" '
		def iso(ms): (ms / 1000 | floor | todate | sub("Z$"; "")) + "."
			+ ("00" + (ms % 1000 | tostring))[-3:] + "Z";
		range($n) | {id: ., cmd: "add", args: {
			channels: ["c" + ("0" + (. % 20 | tostring))[-2:]],
			id: "p\(.)", text: "t", at: iso($t0)}}' >"$d/adds"
	socat -t 120 - "UNIX-CONNECT:$d/smmd.sock" <"$d/adds" >"$d/replies"
	[ "$(grep -c '"ok":true' "$d/replies")" -eq "$N" ] ||
		die "run $1: not every add was accepted"
	[ "$(date +%s%3N)" -lt "$t0" ] || die "run $1: queueing took past t0"
	until [ "$(wc -l <"$d/sink.log")" -ge "$AT" ]; do sleep 0.001; done
	before_us=$(now_us)
	if [ "$mode" = pause ]; then
		"$SMMCTL" -s "$d/smmd.sock" pause --all -r bench >/dev/null ||
			die "run $1: pause failed"
	else
		"$SMMCTL" -s "$d/smmd.sock" planb activate crisis >/dev/null ||
			die "run $1: planb activate failed"
	fi
	after_us=$(now_us)
	sleep 3
	# The burst's posts are p<n>; the statements planb-<id>.
	late=$(jq -s --argjson r "$after_us" \
		'[.[] | select(.t_us > $r and ((.body | fromjson? | .id // "") | startswith("p")) and ((.body | fromjson? | .id // "") | startswith("planb") | not))] | length' \
		"$d/sink.log")
	published=$(jq -s '[.[] | select((.body | fromjson? | .id // "") | startswith("planb") | not)] | length' "$d/sink.log")
	if [ "$mode" = planb ]; then
		stmt=$(jq -s -r --argjson b "$before_us" '
			[.[] | select((.body | fromjson? | .id // "") | startswith("planb")) | (.t_us - $b) / 1000]
			| sort | "; \(length) statements arrived \(.[length / 2 | floor] * 10 | round / 10) ms (p50), \(.[-1] * 10 | round / 10) ms (max) after the command"' \
			"$d/sink.log")
	fi
	held=$("$SMMCTL" -s "$d/smmd.sock" status --json | jq .counts.held)
	printf '  %s run %d: %s requests after the reply; answered in %s; %d published before it, %d held, %s%s\n' \
		"$mode" "$1" "$(fig "pause.$mode.$1.late" "$late")" \
		"$(fig "pause.$mode.$1.answer_ms" "$(awk -v a="$before_us" -v b="$after_us" 'BEGIN { printf "%.1f", (b - a) / 1000 }')" ms)" \
		"$published" "$held" \
		"$([ $((published + held)) -eq "$N" ] && echo "all $N accounted for" || echo "$((N - published - held)) MISSING")" \
		"$stmt"
	kill -TERM "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null
	PIDS=()
}

echo "Plan B under a burst (issue 11): $N posts due at once on 20 channels, 'smmctl pause --all' or 'smmctl planb activate' after ~$AT arrivals, $RUNS runs each"
for mode in ${SMM_BENCH_PAUSE_MODES:-pause planb}; do
	for i in $(seq 1 "$RUNS"); do
		run_once "$i" "$mode"
	done
done
