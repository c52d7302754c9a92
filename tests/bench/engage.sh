#!/bin/bash
# Engagement reads must never make a post late (issue 13's benchmark):
# 10,000 posts go out at one instant over 10 webhook channels whose
# `engagement` GET the sink answers; `metrics: [15s]` makes every one of
# them due for a read 15 s later, while a channel "steady" has a post due
# every 20 ms from 10 s to 30 s after the instant. Reported per run: the
# steady posts' lateness at the sink (receipt - scheduled_at) over the
# seconds the reads run (p50, p99, max), how many samples were stored
# then, and the longest loop turn; the same scenario with `metrics: off`
# (no reads) in alternate runs is the baseline, so the difference can be
# read against the run-to-run noise of each. Run by "make bench";
# standalone: SMM_TOP_SRCDIR=. SMM_TOP_BUILDDIR=build bash tests/bench/engage.sh
# Knobs: SMM_BENCH_ENGAGE_N (10000), SMM_BENCH_ENGAGE_RUNS (3 of each).
set -u

SRC=${SMM_TOP_SRCDIR:-.}
BLD=${SMM_TOP_BUILDDIR:-build}
N=${SMM_BENCH_ENGAGE_N:-10000}
RUNS=${SMM_BENCH_ENGAGE_RUNS:-3}
NCHAN=10
STEP=20        # ms between steady posts
STEADY_FROM=10 # s after the burst
STEADY_TO=30
AGE=15 # s: the reads' age
SMMD=$BLD/daemon/smmd
SMMCTL=$BLD/client/smmctl
SINK=$BLD/tests/sink/smm-sink
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
FIG_CTX="n=$N"
bench_need "engage bench" "$SMMD" "$SMMCTL" "$SINK"
T=$(mktemp -d /tmp/smm-engage-bench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${SMM_BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
die() {
	echo "engage bench: $*" >&2
	exit 1
}
now_ms() { date +%s%3N; }

# adds START_MS: hello, the burst over NCHAN channels, the steady stream.
adds() {
	awk -v n="$N" -v nchan="$NCHAN" -v start="$1" -v step="$STEP" \
		-v from="$STEADY_FROM" -v to="$STEADY_TO" "$AWK_ISO"'
	BEGIN {
		print "{\"id\":0,\"cmd\":\"hello\",\"args\":{\"protocol\":1,\"client\":\"engage-bench\"}}"
		for (i = 1; i <= n; i++)
			printf "{\"id\":%d,\"cmd\":\"add\",\"args\":{\"channels\":[\"e%d\"],\"text\":\"burst %d\",\"id\":\"b-%d\",\"at\":\"%s\"}}\n",
			       i, i % nchan, i, i, iso(start)
		k = n
		for (t = start + from * 1000; t < start + to * 1000; t += step) {
			k++
			printf "{\"id\":%d,\"cmd\":\"add\",\"args\":{\"channels\":[\"steady\"],\"text\":\"steady\",\"id\":\"s-%d\",\"at\":\"%s\"}}\n",
			       k, k, iso(t)
		}
	}'
}

# run_once I MODE (on|off): prints the run's line.
run_once() {
	local d=$T/run$1$2 mode=$2 port start nreq fifo fd soc turn
	mkdir -p "$d/state"
	"$SINK" --port 0 --port-file "$d/port" --log "$d/sink.log" \
		--rule 'GET /stats/* 200 H:Content-Type=application/json {"likes":3,"reposts":1,"replies":2}' \
		>"$d/sink.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$d/port" ] && break; sleep 0.02; done
	port=$(cat "$d/port")
	{
		echo "state_dir: $d/state"
		echo "socket: $d/smmd.sock"
		echo "max_in_flight: 128"
		if [ "$mode" = on ]; then echo "metrics: [${AGE}s]"; else echo "metrics: off"; fi
		echo "channels:"
		for c in $(seq 0 $((NCHAN - 1))); do
			echo "  e$c:"
			echo "    publisher: webhook"
			echo "    url: http://127.0.0.1:$port/hook/e$c"
			echo "    max_in_flight: 16"
			echo "    engagement:"
			echo "      url: http://127.0.0.1:$port/stats/{{webhook_id}}"
			echo "      likes: likes"
			echo "      shares: reposts"
			echo "      comments: replies"
		done
		echo "  steady:"
		echo "    publisher: webhook"
		echo "    url: http://127.0.0.1:$port/hook/steady"
	} >"$d/smmd.yaml"
	"$SMMD" -f -c "$d/smmd.yaml" >"$d/smmd.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 200); do
		SMMD_SOCKET=$d/smmd.sock "$SMMCTL" status >/dev/null 2>&1 && break
		sleep 0.05
	done
	start=$(($(now_ms) + 4000))
	adds "$start" >"$d/adds.jsonl"
	nreq=$(wc -l <"$d/adds.jsonl")
	fifo=$d/ctl.fifo
	mkfifo "$fifo"
	socat -t 5 - "UNIX-CONNECT:$d/smmd.sock" <"$fifo" >"$d/replies" 2>/dev/null &
	soc=$!
	exec {fd}>"$fifo"
	cat "$d/adds.jsonl" >&"$fd"
	while [ "$(wc -l <"$d/replies")" -lt "$nreq" ]; do sleep 0.05; done
	exec {fd}>&-
	wait "$soc" 2>/dev/null
	[ "$(jq -r 'select(.ok != true) | .id' "$d/replies" | wc -l)" -eq 0 ] ||
		die "some adds failed: $(jq -c 'select(.ok != true)' "$d/replies" | head -n 2)"
	# Until the last steady post is in and, with reads on, every read is.
	while [ "$(($(now_ms) - start))" -lt $(((STEADY_TO + 2) * 1000)) ]; do sleep 0.5; done
	if [ "$mode" = on ]; then
		for _ in $(seq 120); do
			[ "$(sqlite3 -readonly "$d/state/smmd.db" 'SELECT count(*) FROM engagement' 2>/dev/null)" -ge "$N" ] && break
			sleep 0.5
		done
	fi
	turn=$(SMMD_SOCKET=$d/smmd.sock "$SMMCTL" status --json |
		jq -r '.loop | if . then "\(.max_turn_ms * 100 | round / 100)\t\(.max_turn_cause // "")" else "" end')
	# Steady posts due while the reads ran: from AGE s after the burst.
	jq -r --argjson from $((start + AGE * 1000)) '
		select(.method == "POST" and (.path == "/hook/steady"))
		| (.body | fromjson) as $b
		| (($b.scheduled_at[0:19] + "Z" | fromdateiso8601) * 1000
		   + ($b.scheduled_at[20:23] | tonumber)) as $due
		| select($due >= $from)
		| (.t_us / 1000 - $due)' "$d/sink.log" | sort -n >"$d/late.txt"
	local n samples first last p50 p99 mx cause
	n=$(wc -l <"$d/late.txt")
	samples=$(sqlite3 -readonly "$d/state/smmd.db" \
		"SELECT count(*), coalesce(min(taken_ms), 0), coalesce(max(taken_ms), 0) FROM engagement")
	IFS='|' read -r samples first last <<<"$samples"
	read -r p50 p99 mx < <(awk -v n="$n" '
		{ v[NR] = $1 }
		END {
			p50 = v[int(n * 0.50) + (n * 0.50 > int(n * 0.50))]
			p99 = v[int(n * 0.99) + (n * 0.99 > int(n * 0.99))]
			printf "%.2f %.2f %.2f\n", p50, p99, v[n]
		}' "$d/late.txt")
	IFS=$'\t' read -r turn cause <<<"$turn"
	printf '  run %d reads %-3s: %4d steady posts, lateness p50 %6.2f ms, p99 %s, max %s; %5d samples in %5.1f s; longest loop turn %s%s%s\n' \
		"$1" "$mode" "$n" "$p50" "$(fig "engage.$mode.$1.p99" "$p99" ms)" \
		"$(fig "engage.$mode.$1.max" "$mx" ms)" "$samples" \
		"$(awk -v s=$((last - first)) 'BEGIN { print s / 1000 }')" \
		"$(fig "engage.$mode.$1.loop.max" "$turn" ms)" "${cause:+ ($cause)}" \
		"$(loop_flag "${turn:-0}")"
	kill -TERM "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null
	PIDS=()
}

echo "engage bench: $N posts over $NCHAN channels read back ${AGE}s after they went out, beside a post every ${STEP} ms on another channel"
for i in $(seq 1 "$RUNS"); do
	run_once "$i" on
	run_once "$i" off
done
