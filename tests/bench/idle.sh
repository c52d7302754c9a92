#!/bin/bash
# Idle costs nothing (issue 14): smmd with 100,000 posts queued for
# tomorrow (webhook channels to tests/sink/smm-sink, nothing falls due),
# configured as in production (a calendar with a weekly post, so its
# watch and horizon are live; engagement reads after publishing; the
# Prometheus endpoint served on a random free port), is left alone for
# 60 s. Reported: its loop's iterations meanwhile (status: loop.turns,
# read before and after; what a reading itself costs is measured by two
# back-to-back readings and subtracted), its CPU time (utime + stime of
# all threads, /proc/PID/stat) and its wakeups (voluntary + involuntary
# context switches of all threads, /proc/PID/task/*/status, read between
# the two readings). Target: 0 loop iterations and no measurable CPU (not
# run under systemd here, so there is no watchdog to answer). What woke
# it before issue 14: the Prometheus server's once-a-second tick (and,
# under Type=notify without a watchdog, a STATUS= refresh every 10 s).
# Run by "make bench"; standalone:
#   SMM_TOP_BUILDDIR=build bash tests/bench/idle.sh
# Knobs: SMM_BENCH_IDLE_POSTS (100000), SMM_BENCH_IDLE_S (60),
# SMM_BENCH_IDLE_CHANNELS (10), SMM_BENCH_KEEP=1 (keep the temporary
# directory). Progress on stderr, the report on stdout.
set -u
export LC_ALL=C

BLD=${SMM_TOP_BUILDDIR:-build}
SRC=${SMM_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
POSTS=${SMM_BENCH_IDLE_POSTS:-100000}
IDLE_S=${SMM_BENCH_IDLE_S:-60}
CHANNELS=${SMM_BENCH_IDLE_CHANNELS:-10}
NAME=idle
T=$(mktemp -d /tmp/smm-idle.XXXXXX)
# shellcheck source=tests/bench/scale-lib.sh
. "$SRC/tests/bench/scale-lib.sh"
trap scale_cleanup EXIT
trap 'exit 1' INT TERM HUP
scale_require

start_sink
write_config "$CHANNELS"
# A port for /metrics that nothing listens on (smmd wants a number).
PROM_PORT=$((20000 + RANDOM % 30000))
while grep -qi ":$(printf '%04X' "$PROM_PORT") " /proc/net/tcp; do
	PROM_PORT=$((20000 + RANDOM % 30000))
done
mkdir -p "$T/cal"
{
	printf 'posts:\n  - id: weekly\n    at: %s 09:00\n' "$(date -u -d '+2 days' +%F)"
	printf '    rrule: FREQ=WEEKLY\n    channels: [c00]\n    text: "Weekly"\n'
} >"$T/cal/calendar.yaml"
printf 'calendar: %s/cal/calendar.yaml\nmetrics: [1h, 24h]\nmetrics_listen: 127.0.0.1:%s\n' \
	"$T" "$PROM_PORT" >>"$T/smmd.yaml"
start_smmd
progress "queueing $POSTS posts for tomorrow"
queue "$POSTS" $(($(now_ms) + 86400000)) 1
# A fresh start on the populated store: what a daemon left alone is.
stop_smmd
start_smmd
pending=$("$SMMCTL" -s "$SOCK" status --json | jq -r .counts.scheduled)
[ "$pending" -gt "$POSTS" ] || die "status counts $pending scheduled, not $POSTS and the calendar's"
sleep 2

# What reading loop.turns costs: two readings back to back.
HZ=$(getconf CLK_TCK)
a=$(smmd_turns)
b=$(smmd_turns)
PER_READ=$((b - a))

# CPU and context switches are read from /proc between the two readings
# of loop.turns (a moment after the first: smmd closes that connection),
# so they need no correction.
progress "leaving smmd alone for $IDLE_S s"
turns0=$(smmd_turns)
sleep 0.2
cpu0=$(cpu_ticks "$SMMD_PID")
ctx0=$(ctx_switches "$SMMD_PID")
sleep "$IDLE_S"
ctx1=$(ctx_switches "$SMMD_PID")
cpu1=$(cpu_ticks "$SMMD_PID")
turns1=$(smmd_turns)
TURNS=$((turns1 - turns0 - PER_READ))
CTX=$((ctx1 - ctx0))
CPU_MS=$(((cpu1 - cpu0) * 1000 / HZ))
sink_n=$(wc -l <"$T/sink.log" 2>/dev/null || echo 0)
[ "$sink_n" -eq 0 ] || die "$sink_n requests reached the sink: something fell due"

read -r LOAD1 _ </proc/loadavg
echo "idle (issue 14): $POSTS posts on $CHANNELS webhook channels due tomorrow, a calendar (its weekly post: $((pending - POSTS)) more deliveries over the horizon), engagement reads and /metrics configured; smmd left alone for $IDLE_S s (load $LOAD1)"
echo "  a status reading costs $PER_READ loop turns (subtracted below)"
FIG_CTX="posts=$POSTS s=$IDLE_S"
echo "  loop turns: $(fig idle.turns "$TURNS") (target 0): $([ "$TURNS" -le 0 ] && echo MET || echo MISSED)"
echo "  CPU: $(fig idle.cpu_ms "$CPU_MS" ms), utime + stime of all threads (clock tick $((1000 / HZ)) ms; target: none measurable): $([ "$CPU_MS" -eq 0 ] && echo MET || echo MISSED)"
echo "  wakeups: $(fig idle.ctx_switches "$CTX") context switches, all threads (voluntary + involuntary; target 0): $([ "$CTX" -eq 0 ] && echo MET || echo MISSED)"
stop_smmd
