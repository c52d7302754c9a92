#!/bin/bash
# GET /metrics under load: does scraping make posts late? A steady stream
# of N posts (one every STEP ms on one channel) is published three ways,
# RUNS times each, each run on a fresh smmd and sink: "quiet" (metrics
# served, nobody scrapes), "scraped" (wrk scrapes /metrics over 4
# connections as fast as smmd answers, all run long) and "stalled" (16
# clients, the most smmd serves at once, each holding a connection with
# half a request and back as soon as smmd drops it, while curl scrapes
# once a second and waits its turn).
# Reported per run: the posts' lateness at the sink (receipt -
# scheduled_at: p50, p99, max), the scrapes answered, and smmd's own view
# (smmd_loop_turn_max_seconds; of the first attempts' lateness histogram,
# the count at most 1 ms late and the count, which must be N). Run by
# "make bench"; standalone:
#   SMM_TOP_SRCDIR=. SMM_TOP_BUILDDIR=build bash tests/bench/metrics.sh
# Knobs: SMM_BENCH_METRICS_N (2000), SMM_BENCH_METRICS_STEP_MS (5),
# SMM_BENCH_METRICS_RUNS (2), SMM_BENCH_METRICS_MODES (quiet scraped
# stalled).
set -u

BLD=${SMM_TOP_BUILDDIR:-build}
N=${SMM_BENCH_METRICS_N:-2000}
STEP=${SMM_BENCH_METRICS_STEP_MS:-5}
RUNS=${SMM_BENCH_METRICS_RUNS:-2}
SMMD=$BLD/daemon/smmd
SMMCTL=$BLD/client/smmctl
SINK=$BLD/tests/sink/smm-sink
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
FIG_CTX="n=$N step=$STEP"
bench_need "metrics bench" "$SMMD" "$SMMCTL" "$SINK"
for tool in wrk curl socat jq; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "metrics bench: $tool is not installed" >&2
		exit 1
	}
done
T=$(mktemp -d /tmp/smm-metrics-bench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${SMM_BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
die() {
	echo "metrics bench: $*" >&2
	exit 1
}

# A loopback port nothing listens on, below the ephemeral range (an
# outgoing connection may hold a port there: bind fails, connect is refused).
free_port() {
	local p low=32768
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || :
	[ "$low" -gt 11000 ] || low=32768
	for _ in $(seq 1 100); do
		p=$((10000 + RANDOM % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free port"
}

# Nearest-rank p50, p99 and max of a file of microseconds, in ms: "P50
# P99 MAX".
percentiles() {
	sort -n "$1" | awk '
	{ v[NR] = $1 }
	function rank(p,   k) { k = int(p * NR / 100); if (k < p * NR / 100) k++;
	                        if (k < 1) k = 1; return v[k] / 1000 }
	END { printf "%.2f %.2f %.2f\n", rank(50), rank(99), v[NR] / 1000 }'
}

# The load of MODE on PORT for S seconds, in the background (PIDS).
load() {
	local mode=$1 port=$2 s=$3 d=$4
	case $mode in
	scraped)
		wrk -t1 -c4 -d"${s}s" "http://127.0.0.1:$port/metrics" \
			>"$d/wrk.out" 2>&1 &
		PIDS+=($!)
		;;
	stalled)
		# Each comes back as soon as smmd drops it (5 s idle).
		for _ in $(seq 16); do
			(
				end=$((SECONDS + s))
				while [ "$SECONDS" -lt "$end" ]; do
					(
						printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n'
						sleep 6
					) | socat -t 1 - "TCP:127.0.0.1:$port" \
						>/dev/null 2>&1
				done
			) &
			PIDS+=($!)
		done
		(
			n=0
			for _ in $(seq "$s"); do
				curl -s -o /dev/null --max-time 10 \
					"http://127.0.0.1:$port/metrics" && n=$((n + 1))
				sleep 1
			done
			echo "$n" >"$d/curl.count"
		) &
		PIDS+=($!)
		;;
	esac
}

run_once() {
	local mode=$1 i=$2 d=$T/$1$2 port mport t0 s scrapes page p50 p99 mx turn
	mkdir -p "$d/state"
	"$SINK" --port 0 --port-file "$d/port" --log "$d/sink.log" \
		>"$d/sink.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$d/port" ] && break; sleep 0.02; done
	port=$(cat "$d/port")
	mport=$(free_port)
	cat >"$d/smmd.yaml" <<EOF
state_dir: $d/state
socket: $d/smmd.sock
metrics_listen: 127.0.0.1:$mport
channels:
  bench:
    publisher: webhook
    url: http://127.0.0.1:$port/hook
EOF
	"$SMMD" -c "$d/smmd.yaml" --foreground 2>"$d/smmd.log" &
	PIDS+=($!)
	for _ in $(seq 500); do
		"$SMMCTL" -s "$d/smmd.sock" status >/dev/null 2>&1 && break
		sleep 0.02
	done
	t0=$(($(date +%s%3N) + 3000))
	jq -n -c --argjson n "$N" --argjson t0 "$t0" --argjson step "$STEP" '
		def iso(ms): (ms / 1000 | floor | todate | sub("Z$"; "")) + "."
			+ ("00" + (ms % 1000 | tostring))[-3:] + "Z";
		range($n) | {id: ., cmd: "add", args: {channels: ["bench"],
			id: "m\(.)", text: "t", at: iso($t0 + . * $step)}}' \
		>"$d/adds"
	socat -t 60 - "UNIX-CONNECT:$d/smmd.sock" <"$d/adds" >"$d/replies"
	[ "$(grep -c '"ok":true' "$d/replies")" -eq "$N" ] ||
		die "$mode run $i: not every add was accepted"
	[ "$(date +%s%3N)" -lt "$t0" ] || die "$mode run $i: queueing took past t0"
	s=$(((N * STEP + 999) / 1000 + 4))
	load "$mode" "$mport" "$s" "$d"
	for _ in $(seq $((s * 10 + 100))); do
		[ "$(wc -l <"$d/sink.log")" -ge "$N" ] && break
		sleep 0.1
	done
	[ "$(wc -l <"$d/sink.log")" -ge "$N" ] ||
		die "$mode run $i: $(wc -l <"$d/sink.log") of $N arrived"
	# The load's processes (after the sink and smmd) end by themselves.
	[ "${#PIDS[@]}" -le 2 ] || wait "${PIDS[@]:2}" 2>/dev/null
	jq -r '(.body | fromjson | .scheduled_at) as $s
	       | .t_us - ((($s[0:19] + "Z" | fromdateiso8601) * 1000000)
	                  + ($s[20:23] | tonumber) * 1000)' \
		"$d/sink.log" >"$d/late"
	scrapes=0
	case $mode in
	scraped) scrapes=$(awk '/requests in/ { print $1 }' "$d/wrk.out") ;;
	stalled) scrapes=$(cat "$d/curl.count" 2>/dev/null || echo 0) ;;
	esac
	page=$(curl -s --max-time 10 "http://127.0.0.1:$mport/metrics")
	read -r p50 p99 mx < <(percentiles "$d/late")
	turn=$(awk '$1 == "smmd_loop_turn_max_seconds" { printf "%.2f", $2 * 1000 }' <<<"$page")
	printf '  %-7s run %d: lateness at the sink p50 %s ms, p99 %s, max %s; %s scrapes; loop turn max %s%s; first attempts <= 1 ms %s of %s\n' \
		"$mode" "$i" "$p50" "$(fig "metrics.$mode.$i.p99" "$p99" ms)" \
		"$(fig "metrics.$mode.$i.max" "$mx" ms)" "$scrapes" \
		"$(fig "metrics.$mode.$i.loop.max" "$turn" ms)" "$(loop_flag "${turn:-0}")" \
		"$(awk '$1 == "smmd_delivery_lateness_seconds_bucket{le=\"0.001\"}" { print $2 }' <<<"$page")" \
		"$(awk '$1 == "smmd_delivery_lateness_seconds_count" { print $2 }' <<<"$page")"
	kill -TERM "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null
	PIDS=()
}

echo "GET /metrics under load: $N posts, one every $STEP ms, on one channel; $RUNS runs of each mode"
for mode in ${SMM_BENCH_METRICS_MODES:-quiet scraped stalled}; do
	for i in $(seq 1 "$RUNS"); do
		run_once "$mode" "$i"
	done
done
