#!/bin/bash
# How smmd's costs grow with the queue (issue 14): for 10,000, 100,000 and
# 1,000,000 queued deliveries, each on a fresh state directory (under /tmp
# unless SMM_BENCH_SCALE_TMPDIR says otherwise), webhook channels to
# tests/sink/smm-sink. The store is filled through smmd itself: posts on
# PER channels each, added over ONE control connection (NDJSON through
# socat, 2,000 a connection), the first 50,000 deliveries (all, when
# fewer) due at one instant a little ahead, the rest tomorrow. Then smmd
# is restarted on it and measured:
#  - ready: exec of smmd to the first answer to "smmctl status" (polled
#    every 10 ms), the median of RESTARTS restarts;
#  - RSS once loaded (VmRSS SETTLE_S after ready) and peak RSS (VmHWM);
#  - add round-trip: ADDS adds (one post, one channel, tomorrow), one at a
#    time over one control connection, each timed from the request written
#    to its reply read (bash's EPOCHREALTIME around a socat relay, which
#    adds its own few tens of microseconds): p50, p99, max;
#  - burst: the first 50,000 at their instant, deliveries per second at the
#    sink from its first receipt to its last.
# A table follows, with the ratio per 10x of each cost (linear growth is
# 10x per 10x; RSS counts smmd's fixed ~10 MB too) and the targets at
# 1,000,000: ready < 10 s, RSS < 256 MiB. Run by "make bench"; standalone:
#   SMM_TOP_BUILDDIR=build bash tests/bench/scale.sh
# Knobs: SMM_BENCH_SCALE_SIZES ("10000 100000 1000000"),
# SMM_BENCH_SCALE_CHANNELS (20), SMM_BENCH_SCALE_PER (20 channels a post),
# SMM_BENCH_SCALE_BURST (50000), SMM_BENCH_SCALE_ADDS (1000),
# SMM_BENCH_SCALE_SETTLE_S (2), SMM_BENCH_SCALE_RESTARTS (3),
# SMM_BENCH_SCALE_MARGIN_S (how far ahead the burst is due once the store
# is filled: 20 s, plus 20 s and 10 s a restart per million),
# SMM_BENCH_SCALE_TMPDIR (/tmp), SMM_BENCH_SCALE_PERF=1 (profile smmd
# with perf during each burst and print where its time went),
# SMM_BENCH_KEEP=1. Progress on stderr, the report on stdout.
set -u
export LC_ALL=C

BLD=${SMM_TOP_BUILDDIR:-build}
SRC=${SMM_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SIZES=${SMM_BENCH_SCALE_SIZES:-10000 100000 1000000}
CHANNELS=${SMM_BENCH_SCALE_CHANNELS:-20}
PER=${SMM_BENCH_SCALE_PER:-20}
BURST=${SMM_BENCH_SCALE_BURST:-50000}
ADDS=${SMM_BENCH_SCALE_ADDS:-1000}
SETTLE_S=${SMM_BENCH_SCALE_SETTLE_S:-2}
RESTARTS=${SMM_BENCH_SCALE_RESTARTS:-3}
NAME=scale
ROOT=$(mktemp -d "${SMM_BENCH_SCALE_TMPDIR:-/tmp}/smm-scale.XXXXXX")
T=$ROOT
# shellcheck source=tests/bench/scale-lib.sh
. "$SRC/tests/bench/scale-lib.sh"
trap 'T=$ROOT; scale_cleanup' EXIT
trap 'exit 1' INT TERM HUP
scale_require
[ "$PER" -le "$CHANNELS" ] || die "SMM_BENCH_SCALE_PER ($PER) is more than SMM_BENCH_SCALE_CHANNELS ($CHANNELS)"

# add_rtt N: N adds over one connection, one at a time; sets RTT to
# "p50 p99 max" in ms.
add_rtt() {
	local n=$1 i t0 t1 line at pid wfd
	at=$(iso $(($(now_ms) + 86400000 + 3600000)))
	coproc ADDC { socat - "UNIX-CONNECT:$SOCK" 2>/dev/null; }
	pid=$ADDC_PID
	PIDS+=("$pid")
	echo '{"id":0,"cmd":"hello","args":{"protocol":1,"client":"smm-bench"}}' >&"${ADDC[1]}"
	read -r line <&"${ADDC[0]}" || die "no answer to hello"
	: >"$T/rtt.us"
	for i in $(seq 1 "$n"); do
		t0=${EPOCHREALTIME/./}
		printf '{"id":%d,"cmd":"add","args":{"channels":["c00"],"text":"rtt %d","id":"r-%d","at":"%s"}}\n' \
			"$i" "$i" "$i" "$at" >&"${ADDC[1]}"
		read -r line <&"${ADDC[0]}" || die "the connection closed after $i adds"
		t1=${EPOCHREALTIME/./}
		case $line in
		*'"ok": true'* | *'"ok":true'*) ;;
		*) die "add $i failed: $line" ;;
		esac
		echo $((t1 - t0)) >>"$T/rtt.us"
	done
	wfd=${ADDC[1]}
	exec {wfd}>&-
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
	RTT=$(sort -n "$T/rtt.us" | awk '{ v[NR] = $1 }
		function rank(p,   k) { k = int(p * NR / 100); if (k < p * NR / 100) k++; return v[k] / 1000 }
		END { printf "%.3f %.3f %.3f\n", rank(50), rank(99), v[NR] / 1000 }')
}

# wait_sink N DEADLINE_MS: until the sink has logged N requests.
wait_sink() {
	local got next=0
	while got=$(wc -l <"$T/sink.log" 2>/dev/null || echo 0); [ "$got" -lt "$1" ]; do
		kill -0 "$SMMD_PID" 2>/dev/null || die "smmd died with $got of $1 delivered"
		[ "$(now_ms)" -lt "$2" ] || die "only $got of $1 deliveries reached the sink in time"
		if [ "$(now_ms)" -ge "$next" ]; then
			progress "burst: $got/$1"
			next=$(($(now_ms) + 2000))
		fi
		sleep 0.1
	done
}

# io_snap: smmd's read syscalls and bytes written to disk so far.
io_snap() {
	awk '$1 == "syscr:" { r = $2 } $1 == "write_bytes:" { w = $2 }
	     END { print r, w }' "/proc/$SMMD_PID/io"
}

# perf_start: profile smmd (call graphs) until perf_stop.
perf_start() {
	command -v perf >/dev/null || die "SMM_BENCH_SCALE_PERF=1 needs perf"
	perf record -q -g -p "$SMMD_PID" -o "$T/perf.data" >/dev/null 2>"$T/perf.err" &
	PERF_PID=$!
	PIDS+=("$PERF_PID")
}

# perf_stop N: its top symbols (self time) into $ROOT/perf.
perf_stop() {
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null
	forget_pid "$PERF_PID"
	{
		echo "  perf, the burst at $1 (self time, top 15):"
		perf report -i "$T/perf.data" --no-children --stdio --sort dso,symbol 2>/dev/null |
			grep -E '^ +[0-9.]+%' | head -n 15 | sed 's/^ */    /'
	} >>"$ROOT/perf"
}

# one_size N: fill, restart, measure; appends a row to $ROOT/rows.
one_size() {
	local n=$1 b posts bposts q0 queue_ms margin due rss hwm load_ms listen_ms first last rate late
	local r ready ready_lo ready_hi cpu0 cpu1 rd0 rd1 wb0 wb1 cost
	T=$ROOT/$n
	mkdir -p "$T"
	b=$((n < BURST ? n : BURST))
	posts=$(((n - b) / PER))
	bposts=$((b / PER))
	start_sink
	write_config "$CHANNELS"
	start_smmd
	progress "$n: queueing $((posts * PER)) deliveries for tomorrow ($posts posts on $PER channels each)"
	q0=$(now_ms)
	queue "$posts" $(($(now_ms) + 86400000)) "$PER"
	margin=${SMM_BENCH_SCALE_MARGIN_S:-$((20 + (20 + 10 * RESTARTS) * n / 1000000))}
	due=$(($(now_ms) + margin * 1000))
	progress "$n: queueing $((bposts * PER)) deliveries due at $(iso "$due")"
	queue "$bposts" "$due" "$PER"
	queue_ms=$(($(now_ms) - q0))
	stop_smmd
	read -r LOAD1 _ </proc/loadavg
	# RESTARTS restarts (a busy machine slows one down; the median is
	# the figure, the fastest and slowest are printed beside it), the
	# last one kept for the rest.
	: >"$T/ready"
	for r in $(seq 1 "$RESTARTS"); do
		[ "$r" -eq 1 ] || stop_smmd
		progress "$n: restart $r (load $LOAD1)"
		start_smmd
		# Where the time went: the store opened, checked (every page
		# read) and every pending delivery loaded, then the rest up to
		# the socket.
		load_ms=$(($(log_ms ' sched: ') - EXEC_MS))
		listen_ms=$(($(log_ms ' ready: ') - EXEC_MS - load_ms))
		echo "$READY_MS $load_ms $listen_ms" >>"$T/ready"
	done
	read -r ready load_ms listen_ms < <(sort -n "$T/ready" | sed -n "$(((RESTARTS + 1) / 2))p")
	ready_lo=$(sort -n "$T/ready" | head -n 1 | cut -d' ' -f1)
	ready_hi=$(sort -n "$T/ready" | tail -n 1 | cut -d' ' -f1)
	sleep "$SETTLE_S"
	rss=$(proc_kb "$SMMD_PID" VmRSS)
	hwm=$(proc_kb "$SMMD_PID" VmHWM)
	progress "$n: ready in $ready ms (median), VmRSS $rss kB, VmHWM $hwm kB; $ADDS adds"
	add_rtt "$ADDS"
	[ "$(now_ms)" -lt $((due - 500)) ] ||
		die "$n: the burst's instant passed while measuring: raise SMM_BENCH_SCALE_MARGIN_S (now $margin)"
	[ "${SMM_BENCH_SCALE_PERF:-0}" != 1 ] || perf_start
	# smmd's own cost of the burst, whatever the machine's load does to
	# its rate: CPU time, read syscalls (SQLite's page reads) and bytes
	# written to disk (what each sync waits for) per delivery.
	cpu0=$(cpu_ticks "$SMMD_PID")
	read -r rd0 wb0 < <(io_snap)
	wait_sink $((bposts * PER)) $((due + 300000))
	cpu1=$(cpu_ticks "$SMMD_PID")
	read -r rd1 wb1 < <(io_snap)
	cost=$(awk -v c=$((cpu1 - cpu0)) -v r=$((rd1 - rd0)) -v w=$((wb1 - wb0)) \
		-v n=$((bposts * PER)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.1f %.1f %.0f", 1e6 * c / hz / n, r / n, w / n }')
	[ "${SMM_BENCH_SCALE_PERF:-0}" != 1 ] || perf_stop "$n"
	read -r first last < <(grep -o '"t_us": *[0-9]*' "$T/sink.log" | tr -dc '0-9\n' |
		sort -n | awk 'NR == 1 { f = $1 } { l = $1 } END { print f, l }')
	rate=$(awk -v n=$((bposts * PER)) -v f="$first" -v l="$last" \
		'BEGIN { printf "%.0f", (l > f ? (n - 1) / ((l - f) / 1e6) : 0) }')
	late=$(awk -v f="$first" -v d="$due" 'BEGIN { printf "%.1f", f / 1000 - d }')
	echo "$n $ready $rss $hwm $RTT $rate $((bposts * PER)) $queue_ms $late $LOAD1 $load_ms $listen_ms $ready_lo $ready_hi $cost" >>"$ROOT/rows"
	stop_smmd
	kill -TERM "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null
	forget_pid "$SINK_PID"
	[ "${SMM_BENCH_KEEP:-0}" = 1 ] || rm -rf "$T"
}

for n in $SIZES; do
	one_size "$n"
done

echo "scale (issue 14): $(date -u +%F), $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?'); $CHANNELS webhook channels, posts on $PER each; state dir on $(df -T "$ROOT" | awk 'NR == 2 { print $2 }')"
awk -v adds="$ADDS" -v settle="$SETTLE_S" -v restarts="$RESTARTS" '
function ratio(a, b) { return b > 0 ? sprintf("x%.1f", a / b) : "-" }
{
	n[NR] = $1; ready[NR] = $2; rss[NR] = $3; hwm[NR] = $4
	p50[NR] = $5; p99[NR] = $6; mx[NR] = $7; rate[NR] = $8; bn[NR] = $9
	q[NR] = $10; late[NR] = $11; load[NR] = $12; ld[NR] = $13; ls[NR] = $14
	lo[NR] = $15; hi[NR] = $16; cpu[NR] = $17; rd[NR] = $18; wb[NR] = $19
}
END {
	printf "  %10s %9s %10s %10s %9s %9s %12s %8s\n", "deliveries", "ready ms",
	       "RSS MiB", "peak MiB", "add p50", "add p99", "burst /s", "load"
	for (i = 1; i <= NR; i++)
		printf "  %10d %9d %10.1f %10.1f %9.3f %9.3f %7d (%d) %8s\n", n[i], ready[i],
		       rss[i] / 1024, hwm[i] / 1024, p50[i], p99[i], rate[i], bn[i], load[i]
	print "  (RSS " settle " s after ready; add: " adds " round trips in ms, max " \
	      "in the notes below; burst: first to last receipt at the sink, (n) deliveries)"
	for (i = 1; i <= NR; i++)
		printf "  %d: filled in %.1f s through smmd; ready: median of %d restarts %d ms (%d..%d), of which %d ms to the store opened, checked and loaded, %d ms more to listening; add max %.3f ms; first burst receipt %s ms after its instant; smmd during the burst: %s us CPU, %s read syscalls and %s bytes written to disk a delivery\n",
		       n[i], q[i] / 1000, restarts, ready[i], lo[i], hi[i], ld[i], ls[i], mx[i], late[i], cpu[i], rd[i], wb[i]
	for (i = 2; i <= NR; i++) {
		f = n[i] / n[i - 1]
		printf "  %d -> %d (x%g): ready %s, RSS %s, peak %s, add p99 %s, burst rate %s\n",
		       n[i - 1], n[i], f, ratio(ready[i], ready[i - 1]),
		       ratio(rss[i], rss[i - 1]), ratio(hwm[i], hwm[i - 1]),
		       ratio(p99[i], p99[i - 1]), ratio(rate[i], rate[i - 1])
		if (ready[i] / ready[i - 1] > f * 1.2 || hwm[i] / hwm[i - 1] > f * 1.2)
			worse = 1
	}
	if (NR > 1)
		printf "  growth: %s\n", (worse ? "FASTER than linear somewhere above" : "no faster than linear (each ratio at most the size ratio, 20% noise allowed)")
	for (i = 1; i <= NR; i++)
		if (n[i] == 1000000)
			printf "  targets at 1,000,000: ready %d ms (< 10 s): %s; RSS %.1f MiB (< 256 MiB): %s; peak %.1f MiB\n",
			       ready[i], ready[i] < 10000 ? "MET" : "MISSED", rss[i] / 1024,
			       rss[i] < 256 * 1024 ? "MET" : "MISSED", hwm[i] / 1024
}' "$ROOT/rows"
# Each size's headline figures, kept beside the previous run's (lib.sh).
FIG_CTX="channels=$CHANNELS per=$PER burst=$BURST adds=$ADDS restarts=$RESTARTS"
while read -r n ready rss hwm _ p99 _ rate _; do
	echo "  $n, beside the previous run: ready $(fig "scale.$n.ready_ms" "$ready" ms)," \
		"RSS $(fig "scale.$n.rss_kib" "$rss" KiB), peak $(fig "scale.$n.hwm_kib" "$hwm" KiB)," \
		"add p99 $(fig "scale.$n.add_p99_ms" "$p99" ms), burst $(fig "scale.$n.burst" "$rate" /s)"
done <"$ROOT/rows"
[ ! -s "$ROOT/perf" ] || cat "$ROOT/perf"
