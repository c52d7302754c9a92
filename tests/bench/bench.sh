#!/bin/bash
# smmd benchmark, run by hand with "make bench" (never by "make check").
#
# Each scenario runs on its own fresh smmd, smm-sink and state directory:
#  (a) punctuality: 5,000 posts due one every 2 ms on one channel; lateness
#      = sink receipt time (t_us) - the post's scheduled_at, p50/p99/max;
#      then SMM_BENCH_DISK_REPS (5) more runs of it with the state
#      directory on a disk file system (not tmpfs: SMM_BENCH_DISK_DIR, the
#      build directory unless set), each reporting p99 and max lateness
#      as smmd recorded it (its attempts table, read with sqlite3 after
#      the run: started_ms - due_ms), at the sink, and the longest loop
#      turn during the run (smmctl status: loop.max_turn_ms), since a
#      commit that waits for the disk on the loop makes every post due
#      meanwhile late;
#  (b) burst: 20,000 posts due at one instant; deliveries per second at the
#      sink, beside the sink's own rate under wrk on this machine and
#      beside libcurl's own rate (tests/bench/curlbench: the same POSTs
#      through a bare multi handle, nothing else), the ceiling of smmd's;
#  (c) smmd's peak RSS (VmHWM) in each scenario;
#  (d) channels (issue 4): 50,000 deliveries over 100 channels (c00..c99,
#      500 each, max_in_flight 16 each, 128 overall) all due at one instant,
#      while a channel "steady" has a post due every 20 ms from 1 s before
#      that instant to 30 s after it: burst deliveries per second beside the
#      sink's rate under wrk, smmd's peak RSS, each channel's share of the
#      first second, and the lateness of the steady posts due while the
#      burst was still being delivered (a burst must not make other
#      channels late). The overall cap is the knob that trades one for the
#      other: every completion is handled on smmd's one loop, so the more
#      requests in flight, the longer a loop turn and the later a steady
#      post can be prepared (128: p99 ~10 ms; 256: ~15 ms; 512: ~40 ms),
#      while the burst rate barely moves;
#  (e) calendar (issue 3): a generated calendar of 100,000 posts over 1,000
#      webhook channels (gen-calendar.sh; due over the 30 days from
#      tomorrow, so nothing fires, and the channels point at a sink that
#      checks it): time from exec of smmd to the socket answering with an
#      empty state dir (every delivery inserted) and again with the store
#      populated (the diff finds everything unchanged), smmd's peak RSS
#      (VmHWM) and its RSS once loaded (VmRSS a moment after ready), and
#      the time of "smmctl reload" with no change and after one post's text
#      was edited (its summary checked: 1 updated, the rest unchanged).
#      It also reads the longest loop turn each reload and each read
#      (list, calendar, export, plan check, report, stats, goals) of that
#      store causes: smmd runs with -v there, which logs every turn over
#      5 ms.
# Ceilings, measured in the same run: curlbench (libcurl's multi handle
# alone: to one URL, SMM_BENCH_MAX_IN_FLIGHT at a time, for (b); in turn to
# the 100 channels' URLs, SMM_BENCH_CHAN_GLOBAL_MAX_IN_FLIGHT at a time,
# for (d)) and the timer floor (timerfloor: a bare libuv loop arming (a)'s
# due times as smmd does); each burst rate is printed as a share of its
# curlbench rate and each lateness beside the floor. Each scenario reports
# its smmd's longest loop turn (status loop.max_turn_ms and, when smmd
# names it, loop.max_turn_cause), flagged over 5 ms; the Summary ends with
# issue 14's targets as PASS or MISSED.
# Posts are queued through ONE control connection (newline-delimited JSON
# piped through socat), early enough that all are queued before the first is
# due. The report goes to stdout and to tests/bench/results/latest.txt;
# progress goes to stderr. Before the scenarios, the ceilings (wrk,
# curlbench) and the store's own cost for (b)'s and (d)'s deliveries
# (storebench), the floor of smmd's CPU a delivery. Headline figures go to
# tests/bench/results/figures.tsv (lib.sh), each printed beside the
# previous run's (figures.prev.tsv).
#
# Knobs (environment): SMM_BENCH_SCENARIOS ("punctuality burst channels
# calendar": which scenarios to run), SMM_BENCH_PUNCT_N (5000),
# SMM_BENCH_PUNCT_STEP_MS (2), SMM_BENCH_BURST_N (20000),
# SMM_BENCH_MAX_IN_FLIGHT (256), SMM_BENCH_CURL_N (50000 requests for
# curlbench), SMM_BENCH_CURL_REPS (3: curlbench runs, the best is the
# ceiling), SMM_BENCH_WAIT_S (120: how long to wait for
# the sink after the last due time), SMM_BENCH_PERF=1 (profile smmd during
# the bursts of (b) and (d) with perf, SMM_BENCH_PERF_HZ samples a second;
# =stat: CPU time per thread instead; =trace: system calls per thread;
# =all: the whole machine by command), SMM_BENCH_TMPDIR (where the state
# directory lives: its file system's fsync is part of every delivery),
# SMM_BENCH_KEEP=1 (keep the temporary directory), SMM_BENCH_DISK_REPS (5:
# runs of (a) with the state on disk; 0: none), SMM_BENCH_DISK_DIR (where
# they keep it: the build directory unless set), SMM_BENCH_STORE
# (postgresql://, under tests/pg/with-pg.sh only, whose database each
# scenario empties: smmd keeps its store there; its figures are kept under
# "pg." and the report goes to latest-pg.txt; tests/bench/cluster.sh sets
# it).
# For (d): SMM_BENCH_CHAN_N (100 channels), SMM_BENCH_CHAN_PER (500
# deliveries each), SMM_BENCH_CHAN_MAX_IN_FLIGHT (16 per channel),
# SMM_BENCH_CHAN_GLOBAL_MAX_IN_FLIGHT (128), SMM_BENCH_STEADY_STEP_MS (20),
# SMM_BENCH_STEADY_BEFORE_MS (1000: the steady stream starts this long
# before the burst instant), SMM_BENCH_STEADY_S (30: and runs this long
# after it), SMM_BENCH_STEADY_MAX_IN_FLIGHT (4, the channel default).
# For (e): SMM_BENCH_CAL_POSTS (100000), SMM_BENCH_CAL_CHANNELS (1000),
# SMM_BENCH_CAL_RECURRING (1: percent of posts with a weekly rrule),
# SMM_BENCH_CAL_RUNS (3: each start and each kind of reload is measured
# this many times; the verdicts use the median), SMM_BENCH_CAL_SETTLE_S
# (2: how long after ready "once loaded" is), SMM_BENCH_CAL_START_TIMEOUT_S
# (180). With SMM_BENCH_PERF=1, (e) adds one profiled first start, restart
# and one-post reload (not counted in the figures) and reports where their
# CPU time went.

# "make bench" runs $(SHELL): make sure this is bash even where that is sh.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi

set -euo pipefail
export LC_ALL=C

: "${SMM_TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/bench/lib.sh
. "$SMM_TOP_SRCDIR/tests/bench/lib.sh"

: "${SMM_BENCH_PUNCT_N:=5000}"
: "${SMM_BENCH_PUNCT_STEP_MS:=2}"
: "${SMM_BENCH_BURST_N:=20000}"
: "${SMM_BENCH_MAX_IN_FLIGHT:=256}"
: "${SMM_BENCH_CURL_N:=50000}"
: "${SMM_BENCH_WAIT_S:=120}"
: "${SMM_BENCH_PERF:=0}"
: "${SMM_BENCH_CURL_REPS:=3}"
: "${SMM_BENCH_KEEP:=0}"
: "${SMM_BENCH_TMPDIR:=${TMPDIR:-/tmp}}"
: "${SMM_BENCH_SCENARIOS:=punctuality burst channels calendar}"
: "${SMM_BENCH_DISK_REPS:=5}"
: "${SMM_BENCH_DISK_DIR:=$SMM_TOP_BUILDDIR}"
: "${SMM_BENCH_STORE:=}"
LATEST=latest.txt
if [ -n "$SMM_BENCH_STORE" ]; then
	export SMM_BENCH_FIG_PREFIX=pg.
	LATEST=latest-pg.txt
fi
: "${SMM_BENCH_CHAN_N:=100}"
: "${SMM_BENCH_CHAN_PER:=500}"
: "${SMM_BENCH_CHAN_MAX_IN_FLIGHT:=16}"
: "${SMM_BENCH_CHAN_GLOBAL_MAX_IN_FLIGHT:=128}"
: "${SMM_BENCH_STEADY_STEP_MS:=20}"
: "${SMM_BENCH_STEADY_BEFORE_MS:=1000}"
: "${SMM_BENCH_STEADY_S:=30}"
: "${SMM_BENCH_STEADY_MAX_IN_FLIGHT:=4}"
: "${SMM_BENCH_CAL_POSTS:=100000}"
: "${SMM_BENCH_CAL_CHANNELS:=1000}"
: "${SMM_BENCH_CAL_RECURRING:=1}"
: "${SMM_BENCH_CAL_RUNS:=3}"
: "${SMM_BENCH_CAL_SETTLE_S:=2}"
: "${SMM_BENCH_CAL_START_TIMEOUT_S:=180}"

# want SCENARIO: true if SMM_BENCH_SCENARIOS names it.
want() {
	case " $SMM_BENCH_SCENARIOS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}
for scen in $SMM_BENCH_SCENARIOS; do
	case $scen in
	punctuality | burst | channels | calendar) ;;
	*)
		echo "bench: unknown scenario '$scen' in SMM_BENCH_SCENARIOS (known: punctuality burst channels calendar)" >&2
		exit 64
		;;
	esac
done

PIDS=()
FAILED=0
CUR=         # the scenario directory, for diagnostics
SMMD_PID=
REPORT=

progress() {
	printf 'bench: %s\n' "$*" >&2
}

# A line of the report: stdout and the results file.
out() {
	printf '%s\n' "$*" | tee -a "$REPORT"
}

die() {
	FAILED=1
	printf 'bench: FAIL: %s\n' "$*" >&2
	if [ -n "$CUR" ] && [ -s "$CUR/smmd.log" ]; then
		printf -- '--- tail of %s/smmd.log ---\n' "$CUR" >&2
		tail -n 20 "$CUR/smmd.log" >&2
	fi
	exit 1
}

now_ms() {
	date +%s%3N
}

# True while PID exists and is not a zombie.
# Builtins only: it runs in loops that wait out a burst.
pid_running() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# Stop what we started, by PID only: TERM, a grace period, then KILL.
cleanup() {
	local rc=$? pid
	trap - EXIT
	set +e
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 1 60); do
			pid_running "$pid" || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		if [ "$SMM_BENCH_KEEP" = 1 ] || [ "$rc" -ne 0 ] ||
			[ "$FAILED" -ne 0 ]; then
			progress "kept $T"
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=(${keep[@]+"${keep[@]}"})
}

for tool in jq socat awk sort; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "bench: $tool is not installed (apt-get install -y $tool)" >&2; exit 1; }
done
bench_need bench "$SMMD_BIN" "$SMMCTL_BIN" "$SINK_BIN" "$CURLBENCH_BIN" \
	"$STOREBENCH_BIN"
if want punctuality; then bench_need bench "$TIMERFLOOR_BIN"; fi

# A short path: the control socket's must fit in 108 bytes.
T=$(mktemp -d "$SMM_BENCH_TMPDIR/smm-bench.XXXXXX")
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

REPORT=$T/report.txt
: >"$REPORT"

# A FIFO no one writes: read -t on it is a sleep without a fork
# (sleep_until), for the waits that end at a burst's due instant.
mkfifo "$T/sleep.fifo"
exec {SLEEP_FD}<>"$T/sleep.fifo"

# Printable secret, mode 0600: the channel signs like a real one would.
(
	umask 077
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/secret"
)

# ---------------------------------------------------------------------------
# Small tools

# notify_fifo DIR N: NOTIFY_ARGS for start_sink, so the sink says on the
# FIFO NOTIFY_FD when N requests are in its log. Waiting on it costs
# nothing; polling the log (wc, date, sleep: a fork each, every 100 ms) took
# a third of a CPU during the bursts, from smmd and the sink it measures.
NOTIFY_FD=
NOTIFY_ARGS=()
notify_fifo() {
	rm -f "$1/recv.fifo"
	mkfifo "$1/recv.fifo"
	exec {NOTIFY_FD}<>"$1/recv.fifo"
	NOTIFY_ARGS=(--notify-at "$2" --notify "$1/recv.fifo")
}

notify_close() {
	[ -n "$NOTIFY_FD" ] || return 0
	exec {NOTIFY_FD}<&-
	NOTIFY_FD=
	NOTIFY_ARGS=()
}

# Start a sink; sets SINK_PID and SINK_PORT. Args: DIR [sink options].
start_sink() {
	local dir=$1 pf deadline
	shift
	pf=$dir/sink.port
	rm -f "$pf"
	"$SINK_BIN" --port 0 --port-file "$pf" "$@" >"$dir/sink.out" 2>&1 &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	deadline=$(($(now_ms) + 10000))
	until [ -s "$pf" ]; do
		pid_running "$SINK_PID" || die "smm-sink exited: $(cat "$dir/sink.out")"
		[ "$(now_ms)" -lt "$deadline" ] || die "smm-sink wrote no port file"
		sleep 0.02
	done
	SINK_PORT=$(cat "$pf")
}

stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		pid_running "$pid" || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	forget_pid "$pid"
}

# write_config DIR PORT: one channel "bench" to the sink, state in DIR.
# With SMM_BENCH_STORE, a new state directory gets an empty database too
# (tests/pg/with-pg.sh's cluster).
write_config() {
	if [ -n "$SMM_BENCH_STORE" ]; then
		sh "$SMM_PG_CLUSTER" psql "$SMM_PG_DIR" -q -c "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null ||
			die "cannot empty the database"
	fi
	cat >"$1/smmd.yaml" <<EOF
state_dir: $1/state
socket: $1/run/smmd.sock
max_in_flight: $SMM_BENCH_MAX_IN_FLIGHT
${SMM_BENCH_STORE:+store: $SMM_BENCH_STORE}
channels:
  bench:
    publisher: webhook
    url: http://127.0.0.1:$2/hook/bench
    secret_file: $T/secret
    timeout: 10s
    max_in_flight: $SMM_BENCH_MAX_IN_FLIGHT
    retry_base: 100ms
    retry_max: 1s
EOF
}

# start_smmd DIR: sets SMMD_PID once the socket answers. -v: smmd logs
# each loop turn over 5 ms (debug; nothing else it logs at that level
# happens here), which due_turns reads.
start_smmd() {
	local dir=$1 deadline
	"$SMMD_BIN" -v -c "$dir/smmd.yaml" --foreground 2>"$dir/smmd.log" &
	SMMD_PID=$!
	PIDS+=("$SMMD_PID")
	deadline=$(($(now_ms) + 10000))
	until "$SMMCTL_BIN" -s "$dir/run/smmd.sock" status >/dev/null 2>&1; do
		pid_running "$SMMD_PID" || die "smmd exited during start-up"
		[ "$(now_ms)" -lt "$deadline" ] || die "smmd did not answer within 10 s"
		sleep 0.02
	done
}

# stop_smmd: SIGTERM and require exit status 0 within 15 s.
stop_smmd() {
	local rc=0 t0
	t0=$(now_ms)
	kill -TERM "$SMMD_PID" || die "smmd is already gone"
	while pid_running "$SMMD_PID"; do
		if [ $(($(now_ms) - t0)) -gt 15000 ]; then
			kill -KILL "$SMMD_PID"
			break
		fi
		sleep 0.02
	done
	wait "$SMMD_PID" || rc=$?
	forget_pid "$SMMD_PID"
	[ "$rc" -eq 0 ] || die "smmd exited with status $rc after SIGTERM"
	STOP_MS=$(($(now_ms) - t0))
	SMMD_PID=
}

# proc_kb PID FIELD: a "kB" line of /proc/PID/status.
proc_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# thread_snap PID VAR: "name:ticks ..." into VAR for each of PID's
# threads (utime + stime); the main thread is "loop", a thread smmd did not
# name "pool" (libuv's thread pool). Builtins only: it runs at the due
# instant, where a fork would take the CPU from what is measured.
thread_snap() {
	local pid=$1 task stat name all=
	local -a f
	for task in /proc/"$pid"/task/*; do
		read -r stat <"$task/stat" 2>/dev/null || continue
		name=${stat#*(}
		name=${name%%)*}
		[ "${task##*/}" != "$pid" ] || name=loop
		[ "$name" != smmd ] || name=pool
		read -r -a f <<<"${stat##*) }"
		all="$all$name:$((f[11] + f[12])) "
	done
	printf -v "$2" '%s' "$all"
}

# thread_delta "SNAP0" "SNAP1" SECONDS: each thread's share of one core.
thread_delta() {
	awk -v a="$1" -v b="$2" -v s="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		n = split(a, x, " "); for (i = 1; i <= n; i++) { split(x[i], f, ":"); t0[f[1]] += f[2] }
		n = split(b, y, " "); for (i = 1; i <= n; i++) { split(y[i], f, ":"); t1[f[1]] += f[2]; if (!(f[1] in seen)) { seen[f[1]] = 1; order[++k] = f[1] } }
		for (i = 1; i <= k; i++) {
			t = order[i]
			printf "%s%s %.0f%%", (i > 1 ? ", " : ""), t, (s > 0 ? 100 * (t1[t] - t0[t]) / hz / s : 0)
		}
		printf " of one core\n"
	}'
}

# raw_snap FILE: append "t_us smmd_utime smmd_stime syscr syscw write_bytes
# vcsw ivcsw sink_ticks busy idle steal" (smmd's /proc stat, io and
# status, then the fields of cpu_ticks and machine_snap). Builtins only:
# it runs every 100 ms while the burst keeps both cores busy, and forks
# would be part of the load.
# At a line's start: not cancelled_write_bytes, nor nonvoluntary_...
RE_WRITE_BYTES=$'\n''write_bytes: ([0-9]+)'
RE_VCSW=$'\n''voluntary_ctxt_switches:[[:space:]]*([0-9]+)'
raw_snap() {
	local st io ps sk cpu v nv r w b
	local -a f g m
	read -r st <"/proc/$SMMD_PID/stat" || return 0
	read -r -d '' io <"/proc/$SMMD_PID/io" || true
	read -r -d '' ps <"/proc/$SMMD_PID/status" || true
	read -r sk <"/proc/$SINK_PID/stat" || return 0
	read -r cpu </proc/stat || return 0
	read -r -a f <<<"${st##*) }"
	read -r -a g <<<"${sk##*) }"
	read -r -a m <<<"$cpu"
	[[ $io =~ syscr:\ ([0-9]+) ]] && r=${BASH_REMATCH[1]}
	[[ $io =~ syscw:\ ([0-9]+) ]] && w=${BASH_REMATCH[1]}
	[[ $io =~ $RE_WRITE_BYTES ]] && b=${BASH_REMATCH[1]}
	[[ $ps =~ $RE_VCSW ]] && v=${BASH_REMATCH[1]}
	[[ $ps =~ nonvoluntary_ctxt_switches:[[:space:]]*([0-9]+) ]] && nv=${BASH_REMATCH[1]}
	printf '%s %s %s %s %s %s %s %s %s %s %s %s\n' "${EPOCHREALTIME/./}" \
		"${f[11]}" "${f[12]}" "${r:-0}" "${w:-0}" "${b:-0}" "${v:-0}" "${nv:-0}" \
		$((g[11] + g[12])) $((m[1] + m[2] + m[3] + m[6] + m[7])) \
		$((m[4] + m[5])) $((m[8])) >>"$1"
}

# use_snaps FILE T_US: SNAP_DUE, SINK_DUE, MACH_DUE from FILE's first
# snapshot, the _END ones from its first at or after T_US (else its last);
# SNAP_SPAN_S: the seconds between the two.
use_snaps() {
	local a b
	a=$(head -n 1 "$1")
	b=$(awk -v t="$2" '$1 >= t { print; f = 1; exit } { l = $0 } END { if (!f) print l }' "$1")
	read -r SNAP_DUE SINK_DUE MACH_DUE SNAP_END SINK_END MACH_END SNAP_SPAN_S < <(
		awk -v a="$a" -v b="$b" 'BEGIN {
			split(a, x, " "); split(b, y, " ")
			printf "%s_%s_%s_%s_%s_%s_%s %s %s_%s_%s ", x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11], x[12]
			printf "%s_%s_%s_%s_%s_%s_%s %s %s_%s_%s ", y[2], y[3], y[4], y[5], y[6], y[7], y[8], y[9], y[10], y[11], y[12]
			printf "%.3f\n", (y[1] - x[1]) / 1e6
		}')
	SNAP_DUE=${SNAP_DUE//_/ } MACH_DUE=${MACH_DUE//_/ }
	SNAP_END=${SNAP_END//_/ } MACH_END=${MACH_END//_/ }
}

# proc_delta "SNAP0" "SNAP1" SECONDS: a line about smmd's resource use.
proc_delta() {
	awk -v a="$1" -v b="$2" -v s="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		u = (y[1] - x[1]) / hz; k = (y[2] - x[2]) / hz
		printf "user %.2f s + sys %.2f s = %.0f%% of one core over %.2f s; " \
		       "%d read / %d write syscalls; %.1f MB written to disk; " \
		       "%d voluntary / %d involuntary context switches\n",
		       u, k, (s > 0 ? 100 * (u + k) / s : 0), s,
		       y[3] - x[3], y[4] - x[4], (y[5] - x[5]) / 1e6,
		       y[6] - x[6], y[7] - x[7]
	}'
}

# cpu_ticks PID: user + system clock ticks used so far.
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat")
	stat=${stat##*) }
	# shellcheck disable=SC2086 # split the fields on purpose
	set -- $stat
	echo $((${12} + ${13}))
}

# machine_snap: "busy idle_and_iowait steal" ticks of all CPUs.
machine_snap() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $5 + $6, $9; exit }' /proc/stat
}

# machine_line SECONDS: the sink's, everything else's and the machine's CPU
# use during delivery (others: the kernel's own threads, this script,
# anything else running on the machine).
machine_line() {
	awk -v s0="$SINK_DUE" -v s1="$SINK_END" -v a="$MACH_DUE" -v b="$MACH_END" \
		-v d0="$SNAP_DUE" -v d1="$SNAP_END" \
		-v sec="$1" -v hz="$(getconf CLK_TCK)" -v ncpu="$(nproc)" 'BEGIN {
		split(a, x, " "); split(b, y, " "); split(d0, p, " "); split(d1, q, " ")
		busy = y[1] - x[1]; idle = y[2] - x[2]; st = y[3] - x[3]
		tot = busy + idle + st
		if (tot <= 0) tot = 1
		if (sec <= 0) sec = 1
		sink = s1 - s0; smmd = q[1] + q[2] - p[1] - p[2]
		printf "sink used %.0f%% of one core, everything else %.0f%%; all %d CPUs: %.0f%% busy, %.0f%% idle, %.0f%% stolen", \
		       100 * sink / hz / sec, 100 * (busy - sink - smmd) / hz / sec,
		       ncpu, 100 * busy / tot, 100 * idle / tot, 100 * st / tot
	}'
}

# gen_adds N START_MS STEP_MS: hello, then N add requests, one a line.
gen_adds() {
	awk -v n="$1" -v start="$2" -v step="$3" "$AWK_ISO"'
	BEGIN {
		print "{\"id\":0,\"cmd\":\"hello\",\"args\":{\"protocol\":1,\"client\":\"smm-bench\"}}"
		for (i = 1; i <= n; i++)
			printf "{\"id\":%d,\"cmd\":\"add\",\"args\":{\"channels\":[\"bench\"]," \
			       "\"text\":\"bench %d\",\"id\":\"b-%d\",\"at\":\"%s\"}}\n",
			       i, i, i, iso(start + (i - 1) * step)
	}'
}

# iso_ms ISO: milliseconds since the epoch (GNU date), to check gen_adds.
iso_ms() {
	date -u -d "$1" +%s%3N
}

# converse DIR REQUESTS REPLIES NREPLIES TIMEOUT_S: send every request line
# through ONE control connection (socat) and keep it open until NREPLIES
# replies have arrived: smmd drops replies still owed to a peer that has
# hung up.
converse() {
	local dir=$1 req=$2 rep=$3 want=$4 timeout_s=$5 fifo soc_pid fd deadline
	fifo=$dir/ctl.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$rep"
	socat -t 5 - "UNIX-CONNECT:$dir/run/smmd.sock" <"$fifo" >"$rep" 2>"$dir/socat.err" &
	soc_pid=$!
	PIDS+=("$soc_pid")
	exec {fd}>"$fifo"
	cat "$req" >&"$fd" || true
	deadline=$(($(now_ms) + timeout_s * 1000))
	while [ "$(wc -l <"$rep")" -lt "$want" ]; do
		[ "$(now_ms)" -lt "$deadline" ] || break
		pid_running "$soc_pid" || break
		pid_running "$SMMD_PID" || break
		sleep 0.01
	done
	exec {fd}>&-
	wait "$soc_pid" 2>/dev/null || true
	forget_pid "$soc_pid"
	rm -f "$fifo"
	[ "$(wc -l <"$rep")" -ge "$want" ] ||
		die "only $(wc -l <"$rep") of $want control replies arrived within ${timeout_s}s ($(cat "$dir/socat.err"))"
}

# check_adds REPLIES N: every add answered ok, exactly once.
check_adds() {
	local rep=$1 n=$2 ok bad
	[ "$(jq -r 'select(.id == 0) | .ok' "$rep")" = true ] ||
		die "hello was refused: $(head -n 1 "$rep")"
	ok=$(jq -r 'select(.id > 0 and .ok == true) | .id' "$rep" | sort -u | wc -l)
	if [ "$ok" -ne "$n" ]; then
		bad=$(jq -c 'select(.ok != true)' "$rep" | head -n 3)
		die "$ok of $n adds succeeded; first errors: $bad"
	fi
}

# queue_posts DIR N START_MS STEP_MS: sets QUEUE_MS (first byte to last ok).
queue_posts() {
	local dir=$1 n=$2 start=$3 step=$4 t0 first last
	gen_adds "$n" "$start" "$step" >"$dir/adds.jsonl"
	first=$(sed -n 2p "$dir/adds.jsonl" | jq -r .args.at)
	last=$(tail -n 1 "$dir/adds.jsonl" | jq -r .args.at)
	if [ "$(iso_ms "$first")" -ne "$start" ] ||
		[ "$(iso_ms "$last")" -ne $((start + (n - 1) * step)) ]; then
		die "gen_adds made wrong timestamps: $first .. $last"
	fi
	t0=$(now_ms)
	converse "$dir" "$dir/adds.jsonl" "$dir/adds.replies" $((n + 1)) 300
	QUEUE_MS=$(($(now_ms) - t0))
	check_adds "$dir/adds.replies" "$n"
}

# pct PART WHOLE: PART as a percentage of WHOLE, one decimal.
pct() {
	awk -v r="$1" -v w="$2" 'BEGIN { printf "%.1f", 100 * r / w }'
}

# Nearest-rank percentiles of a file of numbers (one a line, microseconds)
# -> "n min p50 p90 p99 p999 max mean" in milliseconds.
percentiles() {
	sort -n "$1" | awk '
	{ v[NR] = $1; sum += $1 }
	function rank(p,   k) { k = int(p * NR / 100); if (k < p * NR / 100) k++;
	                        if (k < 1) k = 1; return v[k] / 1000 }
	END {
		if (NR == 0) { print "0 - - - - - - -"; exit }
		printf "%d %.3f %.3f %.3f %.3f %.3f %.3f %.3f\n", NR, v[1] / 1000,
		       rank(50), rank(90), rank(99), rank(99.9), v[NR] / 1000,
		       sum / NR / 1000
	}'
}

# print_dist LABEL FILE: one labelled line of percentiles.
print_dist() {
	local n mn p50 p90 p99 p999 mx mean
	read -r n mn p50 p90 p99 p999 mx mean < <(percentiles "$2")
	out "$(printf '  %-34s n=%-6s p50 %9s  p90 %9s  p99 %9s  p99.9 %9s  max %9s  (min %s, mean %s) ms' \
		"$1" "$n" "$p50" "$p90" "$p99" "$p999" "$mx" "$mn" "$mean")"
	DIST_P50=$p50 DIST_P99=$p99 DIST_MAX=$mx
}

# wait_sink LOG N DEADLINE_MS LABEL [QUIET_UNTIL_MS]: until the sink
# logged N requests. With QUIET_UNTIL_MS, first one sleep until then: the
# polling below forks wc, date and sleep every ~108 ms, and on two CPUs
# those processes were what made a post in 55 at the sink late by 0.7-2
# ms (the late ones came 54-55 posts apart, 108-110 ms, during (a)).
wait_sink() {
	local log=$1 n=$2 deadline=$3 label=$4 got next_report=0
	if [ -n "${5:-}" ]; then
		progress "$label: quiet until just after the last due time"
		sleep_until "$5"
	fi
	while :; do
		if [ -n "$NOTIFY_FD" ]; then
			# Blocks until the sink has them all, or 2 s.
			! read -r -t 2 -u "$NOTIFY_FD" got || break
		fi
		got=$(wc -l <"$log")
		[ "$got" -lt "$n" ] || break
		pid_running "$SMMD_PID" || die "smmd died with $got of $n delivered"
		[ "$(now_ms)" -lt "$deadline" ] ||
			die "$label: only $got of $n posts reached the sink in time"
		if [ "$(now_ms)" -ge "$next_report" ]; then
			progress "$label: $got/$n received"
			next_report=$(($(now_ms) + 2000))
		fi
		[ -n "$NOTIFY_FD" ] || sleep 0.1
	done
	progress "$label: $got/$n received"
}

# sleep_until MS: builtins only, since it ends at a due instant, where
# a fork would take a CPU from the burst's first turns.
sleep_until() {
	local now=${EPOCHREALTIME/./} secs
	local d=$(($1 - now / 1000))
	[ "$d" -gt 0 ] || return 0
	printf -v secs '%d.%03d' $((d / 1000)) $((d % 1000))
	read -r -t "$secs" -u "$SLEEP_FD" _ || true
}

# smmd_status DIR: the status result as JSON.
smmd_status() {
	"$SMMCTL_BIN" -s "$1/run/smmd.sock" status --json
}

# wait_published DIR N: smmd has recorded N published (results land just
# after the sink's receipt).
wait_published() {
	local dir=$1 n=$2 deadline st
	deadline=$(($(now_ms) + 20000))
	while :; do
		st=$(smmd_status "$dir")
		[ "$(jq -r .counts.published <<<"$st")" -lt "$n" ] || break
		[ "$(now_ms)" -lt "$deadline" ] ||
			die "smmd recorded only $(jq -c .counts <<<"$st") after 20 s"
		sleep 0.1
	done
	STATUS_COUNTS=$(jq -c .counts <<<"$st")
}

# analyse_sink LOG OUT_TSV: id attempt status t_us sched_us lateness_us.
analyse_sink() {
	jq -r '(.body | fromjson) as $b
	       | ($b.scheduled_at) as $s
	       | if ($s | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$")) | not
	         then error("unexpected scheduled_at \($s)") else . end
	       | (($s[0:19] + "Z" | fromdateiso8601) * 1000000
	          + ($s[20:23] | tonumber) * 1000) as $due
	       | [$b.id, $b.attempt, (.status // 0), .t_us, $due, .t_us - $due]
	       | @tsv' "$1" >"$2"
}

# check_deliveries TSV N: every post exactly once, first attempt, HTTP 200.
check_deliveries() {
	local tsv=$1 n=$2 uniq dups notfirst not200
	uniq=$(cut -f1 "$tsv" | sort -u | wc -l)
	dups=$(($(wc -l <"$tsv") - uniq))
	notfirst=$(awk -F'\t' '$2 != 1' "$tsv" | wc -l)
	not200=$(awk -F'\t' '$3 != 200' "$tsv" | wc -l)
	[ "$uniq" -eq "$n" ] || die "$uniq distinct posts reached the sink, expected $n"
	out "  deliveries: $n distinct posts, $dups duplicates, $notfirst not first attempts, $not200 not answered 200"
}

# daemon_view DIR IDS_FILE OUT_TSV: ask smmd (show, one connection) when it
# started each attempt of the deliveries listed (one id a line): id due_ms
# started_ms latency_ms finished_minus_started_ms.
daemon_view() {
	local dir=$1 n
	n=$(wc -l <"$2")
	awk 'BEGIN { print "{\"id\":0,\"cmd\":\"hello\",\"args\":{\"protocol\":1}}" }
	     { printf "{\"id\":%d,\"cmd\":\"show\",\"args\":{\"id\":\"%s\"}}\n", NR, $1 }' \
		"$2" >"$dir/show.jsonl"
	converse "$dir" "$dir/show.jsonl" "$dir/show.replies" $((n + 1)) 120
	jq -r 'def ms: (.[0:19] + "Z" | fromdateiso8601) * 1000 + (.[20:23] | tonumber);
	       select(.id > 0)
	       | if .ok then . else error("show: \(.error.message)") end
	       | .result.deliveries[0] as $d | $d.attempts[0] as $a
	       | [$d.id, ($d.due | ms), ($a.started | ms), ($a.latency_ms // -1),
	          (if $a.finished then ($a.finished | ms) - ($a.started | ms) else -1 end)]
	       | @tsv' "$dir/show.replies" >"$3"
}

# log_summary DIR: warnings and errors in smmd's log.
log_summary() {
	local log=$1/smmd.log nw ne
	nw=$(grep -c '^[^ ]* warning ' "$log" || true)
	ne=$(grep -c '^[^ ]* error ' "$log" || true)
	out "  smmd log: $(wc -l <"$log") lines, $nw warnings, $ne errors"
	if [ "$((nw + ne))" -gt 0 ]; then
		grep -E '^[^ ]* (warning|error) ' "$log" | head -n 5 | sed 's/^/    /' |
			tee -a "$REPORT"
	fi
}

# ---------------------------------------------------------------------------
# Machine

out "smmd benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
out "  host: $(uname -srm); nproc $(nproc); CPU: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
out "  memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); state dir on $(df -T "$T" | awk 'NR == 2 { print $2 " (" $1 ")" }') at $T"
out "  $("$SMMD_BIN" --version); $(curl-config --version 2>/dev/null || echo 'libcurl ?'); $([ -n "$SMM_BENCH_STORE" ] && echo "store in PostgreSQL (tests/pg/with-pg.sh: fsync off, synchronous_commit on), its view in sqlite" || echo "sqlite WAL, as smmd sets it up")"
out "  scenarios: $SMM_BENCH_SCENARIOS"
if want punctuality || want burst || want channels; then
	out "  max_in_flight: $SMM_BENCH_MAX_IN_FLIGHT in (a) and (b) (set explicitly); channels sign with secret_file (HMAC-SHA256)"
fi
read -r LOAD1 LOAD5 _ </proc/loadavg
out "  load average before the run: $LOAD1 (1 min), $LOAD5 (5 min)"
if awk -v l="$LOAD1" 'BEGIN { exit !(l > 1.0) }'; then
	out "  WARNING: the machine is busy with something else; the figures will be noisy"
fi
out "  git: $(git -C "$SMM_TOP_SRCDIR" describe --always --dirty 2>/dev/null || echo '?')"
out ""

# ---------------------------------------------------------------------------
# Reference: the sink alone under wrk (no --log), then with --log.

WRK_GET=
WRK_POSTLOG=
CURL_RATE=
CURL_CHAN_RATE=

# curlbench_rate OUT K URL...: run curlbench (SMM_BENCH_CURL_N requests, K
# at a time, to the URLs in turn) SMM_BENCH_CURL_REPS times; print the
# best rate, with that run's output in OUT and every rate in OUT.rates.
# The best, not the first: one run swung 20-34k/s on this shared machine,
# and a low ceiling would flatter smmd's ratio to it.
curlbench_rate() {
	local out=$1 k=$2 rate best=0 sink0 rep
	shift 2
	: >"$out.rates"
	for ((rep = 1; rep <= SMM_BENCH_CURL_REPS; rep++)); do
		sink0=$(cpu_ticks "$SINK_PID")
		"$CURLBENCH_BIN" "$@" "$SMM_BENCH_CURL_N" "$k" >"$out.run" 2>&1 ||
			die "curlbench failed: $(cat "$out.run")"
		rate=$(awk '/^curlbench:/ { sub(/\/s,/, "", $8); print $8 }' "$out.run")
		[ -n "$rate" ] || die "no rate in curlbench's output: $(cat "$out.run")"
		echo "$rate" >>"$out.rates"
		[ "$rate" -gt "$best" ] || continue
		best=$rate
		mv "$out.run" "$out"
		# The sink's CPU meanwhile, for the CPU budget (cpu_budget_line).
		echo "$(($(cpu_ticks "$SINK_PID") - sink0))" >"$out.sink_ticks"
	done
	rm -f "$out.run"
	echo "$best"
}

# curlbench_runs OUT: "best of N: a, b, c/s" from curlbench_rate's rates.
curlbench_runs() {
	awk '{ r[NR] = $1 } END { printf "best of %d runs:", NR
		for (i = 1; i <= NR; i++) printf "%s %d", (i > 1 ? "," : ""), r[i]
		printf "/s" }' "$1.rates"
}

# curl_cpu_us FILE: microseconds of CPU per request, "curlbench's sink's"
# (curlbench_rate's FILE): what libcurl alone and the sink cost a request.
curl_cpu_us() {
	awk -v st="$(cat "$1.sink_ticks" 2>/dev/null || echo -1)" \
		-v hz="$(getconf CLK_TCK)" '/^curlbench:/ {
		printf "%.1f %.1f", $15 * 1e6 / $2, (st < 0 ? -1 : st / hz * 1e6 / $2) }' "$1"
}

# cpu_budget_line N RATE CURL_FILE CURL_RATE TARGET_PCT [STORE_FILE]:
# smmd's and the sink's CPU per delivery during this scenario's delivery
# (SNAP_DUE .. SNAP_END, SINK_DUE .. SINK_END) beside libcurl's and the
# sink's per request under curlbench, and what they allow on this
# machine's CPUs: the most deliveries a second that smmd's and the sink's
# CPU time fit in, and the CPU a delivery may cost smmd for TARGET_PCT of
# curlbench. With STORE_FILE (storebench's output for the same
# deliveries), the floor of the design beside it: libcurl's cost and the
# store's alone, what smmd could not go under were the rest of it free.
cpu_budget_line() {
	local curl store=
	curl=$(curl_cpu_us "$3")
	[ -n "$curl" ] || return 0
	[ -z "${6:-}" ] || store=$(store_cpu_us "$6")
	awk -v n="$1" -v rate="$2" -v curl="$curl" -v crate="$4" -v tgt="$5" \
		-v store="$store" \
		-v d0="$SNAP_DUE" -v d1="$SNAP_END" -v s0="$SINK_DUE" -v s1="$SINK_END" \
		-v hz="$(getconf CLK_TCK)" -v ncpu="$(nproc)" 'BEGIN {
		split(d0, p, " "); split(d1, q, " "); split(curl, c, " ")
		smmd = (q[1] + q[2] - p[1] - p[2]) / hz * 1e6 / n
		sink = (s1 - s0) / hz * 1e6 / n
		fit = ncpu * 1e6 / (smmd + sink)
		need = ncpu * 1e6 / (crate * tgt / 100) - sink
		printf "  CPU per delivery: smmd %.1f us (all its threads), the sink %.1f us; under curlbench, libcurl alone %.1f us and the sink %.1f us a request\n", smmd, sink, c[1], c[2]
		printf "  CPU budget: %d CPUs fit at most %.0f/s of this smmd beside the sink (%.1f%% of curlbench; reached: %.0f%% of that); %d%% of curlbench needs smmd at %.1f us or less, %.1f us of it libcurl'"'"'s\n", ncpu, fit, 100 * fit / crate, 100 * rate / fit, tgt, need, c[1]
		if (store == "")
			exit
		floor = c[1] + store
		printf "  floor of the design: libcurl %.1f us + the store alone %.1f us (storebench) = %.1f us a delivery, %s; the rest of smmd %.1f us\n", c[1], store, floor, floor <= need ? sprintf("within the %.1f us the target allows", need) : sprintf("%.1f us over the %.1f us the target allows: out of reach on this machine", floor - need, need), smmd - floor
	}'
}

# store_cpu_us FILE: microseconds of CPU a delivery in storebench's output.
store_cpu_us() {
	awk '/^storebench:/ { for (i = 1; i < NF; i++) if ($(i + 1) == "us") print $i }' "$1"
}

# storebench_run NAME DELIVERIES CHANNELS: the store alone, for the same
# deliveries as a burst, in a fresh state directory where the scenarios
# keep theirs (its fdatasync is part of the cost); its output in
# $T/NAME.txt.
storebench_run() {
	mkdir -p "$T/$1"
	"$STOREBENCH_BIN" "$T/$1" "$2" 64 "$3" >"$T/$1.txt" 2>&1 ||
		die "storebench failed: $(cat "$T/$1.txt")"
	rm -rf "${T:?}/$1"
}
if ! want burst && ! want channels; then
	progress "no burst in SMM_BENCH_SCENARIOS: no wrk reference"
elif command -v wrk >/dev/null 2>&1; then
	CUR=$T/wrk
	mkdir -p "$CUR"
	cat >"$CUR/post.lua" <<'EOF'
-- A POST shaped like smmd's webhook request (body and headers).
wrk.method = "POST"
wrk.body = '{"id":"b-1234","channel":"bench","text":"bench 1234","link":null,"media":[],"campaign":null,"scheduled_at":"2026-11-22T10:00:00.123Z","attempt":1}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "smmd/0.1.0"
wrk.headers["webhook-id"] = "msg_2pQ9xWJb3kR7tYcLm4nZ8v"
wrk.headers["webhook-timestamp"] = "1795341600"
wrk.headers["webhook-signature"] = "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="
wrk.headers["Idempotency-Key"] = "msg_2pQ9xWJb3kR7tYcLm4nZ8v"
EOF
	wrk_rate() {
		awk '/^Requests\/sec:/ { print $2 }' "$1"
	}
	progress "wrk against the sink (no --log): GET, then POST"
	start_sink "$CUR"
	wrk -t1 -c64 -d5s "http://127.0.0.1:$SINK_PORT/" >"$CUR/get.txt" 2>&1 ||
		die "wrk failed: $(cat "$CUR/get.txt")"
	wrk -t1 -c64 -d5s -s "$CUR/post.lua" "http://127.0.0.1:$SINK_PORT/hook/bench" \
		>"$CUR/post.txt" 2>&1 || die "wrk failed: $(cat "$CUR/post.txt")"
	stop_pid "$SINK_PID"
	progress "wrk against the sink with --log: POST"
	start_sink "$CUR" --log "$CUR/sink.log"
	wrk -t1 -c64 -d3s -s "$CUR/post.lua" "http://127.0.0.1:$SINK_PORT/hook/bench" \
		>"$CUR/postlog.txt" 2>&1 || die "wrk failed: $(cat "$CUR/postlog.txt")"
	# libcurl alone, as many at a time as smmd's bursts run: smmd must
	# publish through it, so this is the ceiling of smmd's own rate: to
	# one URL for (b), in turn to each burst channel's URL for (d).
	if want burst; then
		progress "curlbench against the sink with --log: $SMM_BENCH_CURL_N POSTs, $SMM_BENCH_MAX_IN_FLIGHT at a time"
		CURL_RATE=$(curlbench_rate "$CUR/curl.txt" "$SMM_BENCH_MAX_IN_FLIGHT" \
			"http://127.0.0.1:$SINK_PORT/hook/bench")
	fi
	if want channels; then
		CHAN_URLS=()
		for ((i = 0; i < SMM_BENCH_CHAN_N; i++)); do
			printf -v c 'c%02d' "$i"
			CHAN_URLS+=("http://127.0.0.1:$SINK_PORT/hook/$c")
		done
		progress "curlbench over $SMM_BENCH_CHAN_N URLs: $SMM_BENCH_CURL_N POSTs, $SMM_BENCH_CHAN_GLOBAL_MAX_IN_FLIGHT at a time"
		CURL_CHAN_RATE=$(curlbench_rate "$CUR/curlchan.txt" \
			"$SMM_BENCH_CHAN_GLOBAL_MAX_IN_FLIGHT" "${CHAN_URLS[@]}")
	fi
	stop_pid "$SINK_PID"
	rm -f "$CUR/sink.log"
	WRK_GET=$(wrk_rate "$CUR/get.txt")
	WRK_POSTLOG=$(wrk_rate "$CUR/postlog.txt")
	[ -n "$WRK_GET" ] || die "no Requests/sec in wrk's output: $(cat "$CUR/get.txt")"
	FIG_CTX="curl_n=$SMM_BENCH_CURL_N k=$SMM_BENCH_MAX_IN_FLIGHT chan=$SMM_BENCH_CHAN_N k=$SMM_BENCH_CHAN_GLOBAL_MAX_IN_FLIGHT"
	out "Sink reference (wrk -t1 -c64, smm-sink alone on this machine)"
	out "  GET  /, no --log (the reference):   $(fig ref.wrk.get "$(printf '%.0f' "$WRK_GET")" /s)"
	out "  POST webhook-shaped, no --log:     $(fig ref.wrk.post "$(printf '%.0f' "$(wrk_rate "$CUR/post.txt")")" /s)"
	out "  POST webhook-shaped, with --log:   $(fig ref.wrk.post_log "$(printf '%.0f' "$WRK_POSTLOG")" /s) (3 s; the setting smmd is measured against)"
	out "  libcurl multi alone (curlbench), the same POST, sink with --log: smmd must publish through libcurl, so this is its ceiling:"
	[ -z "$CURL_RATE" ] ||
		out "    to one URL, $SMM_BENCH_MAX_IN_FLIGHT at a time (the ceiling of (b)):   $(fig ref.curlbench.rate "$CURL_RATE" /s) = $(pct "$CURL_RATE" "$WRK_GET")% of GET ($(curlbench_runs "$CUR/curl.txt"))"
	[ -z "$CURL_CHAN_RATE" ] ||
		out "    in turn to $SMM_BENCH_CHAN_N URLs, $SMM_BENCH_CHAN_GLOBAL_MAX_IN_FLIGHT at a time (the ceiling of (d)): $(fig ref.curlbench_chan.rate "$CURL_CHAN_RATE" /s) = $(pct "$CURL_CHAN_RATE" "$WRK_GET")% of GET ($(curlbench_runs "$CUR/curlchan.txt"))"
	out ""
else
	out "Sink reference: wrk is not installed (apt-get install -y wrk): skipped"
	out ""
fi

# The store alone, for the deliveries of (b) and (d): with libcurl's
# cost, the floor under smmd's CPU a delivery (cpu_budget_line). SQLite's:
# not run for a run on PostgreSQL.
STORE_B=
STORE_D=
if [ -z "${SMM_BENCH_STORE:-}" ] && { want burst || want channels; }; then
	out "The store alone (storebench: load, mark publishing, wait until durable, record the result, in turns of 64; state in $SMM_BENCH_TMPDIR)"
	if want burst; then
		progress "storebench: $SMM_BENCH_BURST_N deliveries, one channel"
		storebench_run storeb "$SMM_BENCH_BURST_N" 1
		STORE_B=$T/storeb.txt
		out "  as (b): $(sed 's/^storebench: //' "$STORE_B")"
	fi
	if want channels; then
		progress "storebench: $((SMM_BENCH_CHAN_N * SMM_BENCH_CHAN_PER)) deliveries over $SMM_BENCH_CHAN_N channels"
		storebench_run stored "$((SMM_BENCH_CHAN_N * SMM_BENCH_CHAN_PER))" "$SMM_BENCH_CHAN_N"
		STORE_D=$T/stored.txt
		out "  as (d): $(sed 's/^storebench: //' "$STORE_D")"
	fi
	out ""
fi

# ---------------------------------------------------------------------------
# Calibration: how fast one control connection queues adds, on a throwaway
# smmd whose posts are due in 2099, so the scenarios can put their first due
# time safely after the end of their queueing.

if want punctuality || want burst || want channels; then
	CUR=$T/calib
	mkdir -p "$CUR"
	write_config "$CUR" 9 # nothing is due: the port is never used
	start_smmd "$CUR"
	progress "calibration: queueing $SMM_BENCH_BURST_N adds"
	queue_posts "$CUR" "$SMM_BENCH_BURST_N" "$(iso_ms 2099-01-01T00:00:00Z)" 0
	CALIB_MS=$QUEUE_MS
	FIG_CTX="n=$SMM_BENCH_BURST_N"
	out "Queueing over one control connection (calibration, smmd idle)"
	CALIB_RATE=$(awk -v n="$SMM_BENCH_BURST_N" -v ms="$CALIB_MS" 'BEGIN { printf "%.0f", n * 1000 / (ms > 0 ? ms : 1) }')
	out "  $SMM_BENCH_BURST_N adds in $CALIB_MS ms = $(fig queue.rate "$CALIB_RATE" adds/s); peak RSS with $SMM_BENCH_BURST_N scheduled: $(fig queue.hwm "$(proc_kb "$SMMD_PID" VmHWM)" kB)"
	out ""
	stop_smmd
	CUR=
fi

# rate_verdict RATE_SPAN RATE_DUE TARGET_PCT LABEL CURL_RATE: print the
# target line for a burst rate against the sink's plain rate and the line
# beside the two ceilings (the logging sink under wrk, libcurl alone); sets
# VERDICT and PCT ("n/a"/"?" without wrk).
rate_verdict() {
	local span=$1 due=$2 target=$3 label=$4 curl=$5
	if [ -z "$WRK_GET" ]; then
		VERDICT="n/a (no wrk)"
		PCT="?"
		return
	fi
	PCT=$(pct "$span" "$WRK_GET")
	VERDICT=$(awk -v p="$PCT" -v t="$target" 'BEGIN { print (p >= t) ? "MET" : "MISSED" }')
	out "  target $label>= $target% of the sink's plain rate ($(printf '%.0f' "$WRK_GET")/s): $VERDICT ($PCT% first-to-last, $(pct "$due" "$WRK_GET")% from the due instant)"
	[ -z "$WRK_POSTLOG" ] ||
		out "  (that is $(pct "$span" "$WRK_POSTLOG")% of what the logging sink takes from wrk, $(printf '%.0f' "$WRK_POSTLOG")/s, and $(pct "$span" "$curl")% of libcurl's own rate, $(printf '%.0f' "$curl")/s)"
}

# ceiling_verdict RATE CEILING TARGET_PCT: sets CEIL_PCT (RATE as a
# percentage of CEILING, curlbench's rate in the same run), CEIL_TXT ("=
# X% of curlbench R/s") and CEIL_VERDICT (PASS when at least TARGET_PCT).
ceiling_verdict() {
	if [ -z "$2" ]; then
		CEIL_PCT="?" CEIL_TXT="(no curlbench rate: wrk is not installed)"
		CEIL_VERDICT="n/a"
		return 0
	fi
	CEIL_PCT=$(fig_pct "$1" "$2")
	CEIL_TXT="= $CEIL_PCT% of curlbench $(fig_fmt "$2" /s)"
	CEIL_VERDICT=$(verdict "$CEIL_PCT >= $3")
}

# loop_line KEY MS CAUSE: "longest loop turn: MS ms (prev ...) (CAUSE)",
# flagged over 5 ms; the figure recorded as KEY. MS and CAUSE as
# loop_turn read them while that smmd ran.
loop_line() {
	if [ -z "$2" ]; then
		printf 'longest loop turn: n/a (no loop figures in status)'
		return 0
	fi
	printf 'longest loop turn: %s%s%s' "$(fig "$1" "$2" ms)" \
		"${3:+ ($3)}" "$(loop_flag "$2")"
}

# due_turns KEY LOG FROM_MS TO_MS: "while posts were due: N turns over
# 5 ms (M of them mostly off the CPU), the longest X ms (cause)" from
# smmd's -v log, stamped between FROM_MS and TO_MS: status's longest turn
# also counts the queueing's. A turn mostly off the CPU was the machine's
# (preempted) or the kernel's (waiting), not smmd's work. Records the
# longest as KEY ("<5" if none).
due_turns() {
	local n off mx cause
	read -r n off mx cause < <(awk -v a="$3" -v b="$4" "$AWK_ISO$AWK_TURN"'
		BEGIN { lo = iso(a); hi = iso(b) }
		$2 == "debug" && $1 >= lo && $1 <= hi && turn($0) {
			n++
			if (TURN_CPU >= 0 && TURN_CPU < TURN_MS / 2)
				off++
			if (TURN_MS > mx) { mx = TURN_MS; cause = TURN_CAUSE }
		}
		END { printf "%d %d %s %s\n", n, off, (n ? mx : "<5"), cause }' "$2")
	if [ "$n" -eq 0 ]; then
		printf 'while posts were due: no turn over 5 ms'
		fig_put "$1" "<5" ms
		return 0
	fi
	printf 'while posts were due: %d turn%s over 5 ms (%d of them mostly off the CPU), the longest %s%s' \
		"$n" "$([ "$n" -eq 1 ] || echo s)" "$off" "$(fig "$1" "$mx" ms)" \
		"${cause:+ ($cause)}"
}

# lead_ms N: time from now to the first due instant.
lead_ms() {
	echo $((3000 + 2 * CALIB_MS * $1 / SMM_BENCH_BURST_N))
}

# ---------------------------------------------------------------------------
# run_scenario NAME N STEP_MS: queue N posts due STEP_MS apart, wait for all
# of them at the sink, stop smmd. Leaves the sink's view in $CUR/recv.tsv
# and smmd's in $CUR/daemon.tsv; sets FIRST_DUE_MS, LAST_DUE_MS, SNAP_DUE,
# SNAP_END, END_MS and the peak RSS after queueing (HWM_QUEUED_KB), after
# delivery (HWM_DELIVERED_KB) and just before stopping, after the bench's
# own "show" queries (HWM_KB).
run_scenario() {
	local name=$1 n=$2 step=$3
	SCEN_N=$n
	CUR=$T/$name
	mkdir -p "$CUR"
	notify_fifo "$CUR" "$n"
	start_sink "$CUR" --log "$CUR/sink.log" "${NOTIFY_ARGS[@]}"
	write_config "$CUR" "$SINK_PORT"
	start_smmd "$CUR"
	FIRST_DUE_MS=$(($(now_ms) + $(lead_ms "$n")))
	LAST_DUE_MS=$((FIRST_DUE_MS + (n - 1) * step))
	progress "$name: queueing $n posts, first due in $((FIRST_DUE_MS - $(now_ms))) ms"
	queue_posts "$CUR" "$n" "$FIRST_DUE_MS" "$step"
	QUEUED_AT=$(now_ms)
	[ "$QUEUED_AT" -lt "$FIRST_DUE_MS" ] ||
		die "$name: queueing ended $((QUEUED_AT - FIRST_DUE_MS)) ms after the first due time (slow machine? calibration said $CALIB_MS ms)"
	[ "$(wc -l <"$CUR/sink.log")" -eq 0 ] || die "$name: posts arrived before their time"
	HWM_QUEUED_KB=$(proc_kb "$SMMD_PID" VmHWM)
	[ "$name" != burst ] || perf_start
	: >"$CUR/snaps.txt"
	sleep_until "$FIRST_DUE_MS"
	# Builtins only at the due instant: a fork there takes a CPU from
	# the burst's first turns.
	raw_snap "$CUR/snaps.txt"
	thread_snap "$SMMD_PID" THREADS_DUE
	wait_sink "$CUR/sink.log" "$n" $((LAST_DUE_MS + SMM_BENCH_WAIT_S * 1000)) "$name" \
		$((LAST_DUE_MS + 100))
	raw_snap "$CUR/snaps.txt"
	thread_snap "$SMMD_PID" THREADS_END
	END_MS=$(now_ms)
	# SNAP_, SINK_ and MACH_ DUE and END: the first and the last line.
	use_snaps "$CUR/snaps.txt" 99999999999999999
	perf_stop
	notify_close
	wait_published "$CUR" "$n"
	# Before the bench's own show queries, which are not the scenario's.
	loop_turn "$CUR/run/smmd.sock"
	SCEN_LOOP_MS=$LOOP_MS SCEN_LOOP_CAUSE=$LOOP_CAUSE
	HWM_DELIVERED_KB=$(proc_kb "$SMMD_PID" VmHWM)
	progress "$name: asking smmd when it started each attempt"
	seq 1 "$n" | sed 's,.*,b-&/bench,' >"$CUR/show.ids"
	daemon_view "$CUR" "$CUR/show.ids" "$CUR/daemon.tsv"
	HWM_KB=$(proc_kb "$SMMD_PID" VmHWM)
	stop_smmd
	stop_pid "$SINK_PID"
	analyse_sink "$CUR/sink.log" "$CUR/recv.tsv"
}

# perf_start: with SMM_BENCH_PERF=1, profile smmd from 300 ms before
# FIRST_DUE_MS into $CUR/perf.data (sets PERF_PID).
PERF_PID=
perf_start() {
	case "$SMM_BENCH_PERF" in 1 | stat | trace | all) ;; *) return 0 ;; esac
	if ! command -v perf >/dev/null 2>&1; then
		progress "perf is not installed (apt-get install -y linux-perf): no profile"
		return 0
	fi
	sleep_until $((FIRST_DUE_MS - 300))
	if [ "$SMM_BENCH_PERF" = stat ]; then
		perf stat --per-thread -e task-clock -p "$SMMD_PID" \
			-o "$CUR/perf.stat" >"$CUR/perf.out" 2>&1 &
	elif [ "$SMM_BENCH_PERF" = all ]; then
		perf record -a -F "${SMM_BENCH_PERF_HZ:-999}" -e cpu-clock \
			-o "$CUR/perf.all" >"$CUR/perf.out" 2>&1 &
	elif [ "$SMM_BENCH_PERF" = trace ]; then
		perf trace -s -p "$SMMD_PID" -o "$CUR/perf.trace" \
			>"$CUR/perf.out" 2>&1 &
	else
		perf record -F "${SMM_BENCH_PERF_HZ:-999}" -e cpu-clock --call-graph dwarf,16384 -p "$SMMD_PID" \
			-o "$CUR/perf.data" >"$CUR/perf.out" 2>&1 &
	fi
	PERF_PID=$!
	PIDS+=("$PERF_PID")
}

perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null || true
	wait "$PERF_PID" 2>/dev/null || true
	forget_pid "$PERF_PID"
	PERF_PID=
}

# perf_report [N]: the profile perf_start took, if any, into the report;
# CPU time per delivery of N (the scenario's posts unless given).
perf_report() {
	if [ -s "$CUR/perf.stat" ]; then
		out "  CPU time per thread during the burst (perf stat, from 300 ms before the due instant to the last receipt):"
		awk -v n="${1:-$SCEN_N}" '/task-clock/ { gsub(",", "", $2);
			printf "    %-24s %9.1f ms = %6.1f us per delivery\n", $1, $2, $2 * 1000 / n }' \
			"$CUR/perf.stat" | tee -a "$REPORT"
	fi
	if [ -s "$CUR/perf.all" ]; then
		out "  CPU time of the whole machine during the burst, by command (perf record -a; a delivery):"
		perf report -i "$CUR/perf.all" --stdio --sort comm -F sample,comm \
			2>/dev/null | awk -v n="${1:-$SCEN_N}" \
			-v hz="${SMM_BENCH_PERF_HZ:-999}" '$1 ~ /^[0-9]+$/ && NF >= 2 {
				printf "    %-20s %7.1f us\n", $2, $1 / hz * 1e6 / n }' |
			head -15 | tee -a "$REPORT"
	fi
	if [ -s "$CUR/perf.trace" ]; then
		out "  system calls per thread during the burst (perf trace -s; calls a delivery):"
		awk -v n="${1:-$SCEN_N}" '/ events, / { printf "    %s %s\n", $1, $2 }
			$2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && $2 >= n / 100 {
				printf "      %-16s %8d = %5.2f a delivery\n", $1, $2, $2 / n }' \
			"$CUR/perf.trace" | tee -a "$REPORT"
	fi
	[ -s "$CUR/perf.data" ] || return 0
	# To files first: head closing a pipe early would fail the pipeline.
	perf report -i "$CUR/perf.data" --stdio --no-children --sort dso \
		-g none >"$CUR/perf.dso.txt" 2>/dev/null || true
	perf report -i "$CUR/perf.data" --stdio --children --sort symbol \
		-g none >"$CUR/perf.sym.txt" 2>/dev/null || true
	out "  perf profile of smmd during the burst (cpu-clock, dwarf call graphs; perf slows the burst):"
	out "  self time by library:"
	grep -E '^ +[0-9.]+%' "$CUR/perf.dso.txt" | awk 'NR <= 10 { printf "    %-8s %s\n", $1, $2 }' |
		tee -a "$REPORT"
	out "  inclusive time (children) of named functions, top 40:"
	grep -E '^ +[0-9.]+%' "$CUR/perf.sym.txt" | grep -v ' 0x' |
		awk 'NR <= 40 { printf "    %-8s self %-7s %s %s\n", $1, $2, $3, $4 }' |
		tee -a "$REPORT"
}

report_hwm() {
	out "  (c) smmd peak RSS (VmHWM): $HWM_DELIVERED_KB kB once all were delivered (after queueing: $HWM_QUEUED_KB kB; just before SIGTERM, after the bench's $SCEN_N show queries: $HWM_KB kB)"
}

# Per delivery: (sink receipt - smmd's recorded start) in µs, joined on id.
send_path() {
	awk -F'\t' 'NR == FNR { start[$1] = $3; next }
	            ($1 "/bench") in start { print $4 - start[$1 "/bench"] * 1000 }' \
		"$CUR/daemon.tsv" "$CUR/recv.tsv" >"$CUR/send_us.txt"
}

# ---------------------------------------------------------------------------
# The timer floor: the lateness of a bare libuv program's own timers, armed
# as smmd arms its own (tests/bench/timerfloor.c), the same count and
# spacing as (a). smmd can be no more punctual than that.

FLOOR_P99=
FLOOR_MAX=
if want punctuality; then
	FIG_CTX="n=$SMM_BENCH_PUNCT_N step=$SMM_BENCH_PUNCT_STEP_MS"
	progress "timer floor: $SMM_BENCH_PUNCT_N timers $SMM_BENCH_PUNCT_STEP_MS ms apart"
	"$TIMERFLOOR_BIN" "$SMM_BENCH_PUNCT_N" "$SMM_BENCH_PUNCT_STEP_MS" \
		>"$T/timerfloor.txt" 2>&1 || die "timerfloor failed: $(cat "$T/timerfloor.txt")"
	read -r FLOOR_P50 FLOOR_P99 FLOOR_MAX < <(awk '/^timerfloor:/ {
		for (i = 1; i < NF; i++) {
			if ($i == "p50") a = $(i + 1)
			if ($i == "p99") b = $(i + 1)
			if ($i == "max") c = $(i + 1)
		}
		print a, b, c }' "$T/timerfloor.txt")
	[ -n "$FLOOR_MAX" ] || die "no lateness in timerfloor's output: $(cat "$T/timerfloor.txt")"
	out "Timer floor (tests/bench/timerfloor: a bare libuv loop, a CLOCK_REALTIME timerfd re-armed for each due time as smmd's, nothing else to do)"
	out "  $SMM_BENCH_PUNCT_N timers $SMM_BENCH_PUNCT_STEP_MS ms apart, lateness p50 $(fig floor.p50 "$FLOOR_P50" ms), p99 $(fig floor.p99 "$FLOOR_P99" ms), max $(fig floor.max "$FLOOR_MAX" ms)"
	out ""
fi

# floor_txt P99 MAX: "p99 A ms vs timer floor p99 B ms, max C vs D ms".
floor_txt() {
	printf 'p99 %s ms vs timer floor p99 %s ms, max %s ms vs %s ms' \
		"$1" "${FLOOR_P99:-?}" "$2" "${FLOOR_MAX:-?}"
}

# ---------------------------------------------------------------------------
# (a) punctuality

if want punctuality; then
	run_scenario punctuality "$SMM_BENCH_PUNCT_N" "$SMM_BENCH_PUNCT_STEP_MS"
	out "(a) Punctuality: $SMM_BENCH_PUNCT_N posts due one every $SMM_BENCH_PUNCT_STEP_MS ms over $(((LAST_DUE_MS - FIRST_DUE_MS) / 1000)).$(printf '%03d' $(((LAST_DUE_MS - FIRST_DUE_MS) % 1000))) s, one channel"
	out "  queueing: $SMM_BENCH_PUNCT_N adds in $QUEUE_MS ms, done $((FIRST_DUE_MS - QUEUED_AT)) ms before the first due time"
	check_deliveries "$CUR/recv.tsv" "$SMM_BENCH_PUNCT_N"
	cut -f6 "$CUR/recv.tsv" >"$CUR/late_us.txt"
	print_dist "lateness at the sink (t_us - due):" "$CUR/late_us.txt"
	PUNCT_P99=$DIST_P99 PUNCT_MAX=$DIST_MAX PUNCT_P50=$DIST_P50
	awk -F'\t' '{ print ($3 - $2) * 1000 }' "$CUR/daemon.tsv" >"$CUR/dlate_us.txt"
	print_dist "at smmd (attempt start - due, 1 ms res):" "$CUR/dlate_us.txt"
	PUNCT_D_P99=$DIST_P99 PUNCT_D_MAX=$DIST_MAX
	out "  at the sink: p50 $(fig a.sink.p50 "$PUNCT_P50" ms), p99 $(fig a.sink.p99 "$PUNCT_P99" ms), max $(fig a.sink.max "$PUNCT_MAX" ms)"
	out "  at smmd:     p99 $(fig a.smmd.p99 "$PUNCT_D_P99" ms), max $(fig a.smmd.max "$PUNCT_D_MAX" ms)"
	out "  against the floor: at the sink $(floor_txt "$PUNCT_P99" "$PUNCT_MAX"); at smmd $(floor_txt "$PUNCT_D_P99" "$PUNCT_D_MAX")"
	out "  $(loop_line a.loop.max "$SCEN_LOOP_MS" "$SCEN_LOOP_CAUSE"); $(due_turns a.loop.due_max "$CUR/smmd.log" "$FIRST_DUE_MS" "$END_MS")"
	PUNCT_LOOP=$SCEN_LOOP_MS
	send_path
	print_dist "start -> sink receipt (commit+send):" "$CUR/send_us.txt"
	awk -F'\t' '$4 >= 0 { print $4 * 1000 }' "$CUR/daemon.tsv" >"$CUR/lat_us.txt"
	print_dist "HTTP latency as smmd recorded it:" "$CUR/lat_us.txt"
	early=$(awk -F'\t' '$6 < 0' "$CUR/recv.tsv" | wc -l)
	over1=$(awk -F'\t' '$6 > 1000' "$CUR/recv.tsv" | wc -l)
	over10=$(awk -F'\t' '$6 > 10000' "$CUR/recv.tsv" | wc -l)
	out "  $early arrived before their due time; $over1 more than 1 ms late; $over10 more than 10 ms late"
	DELIVERY_S=$(awk -v a="$FIRST_DUE_MS" -v b="$END_MS" 'BEGIN { print (b - a) / 1000 }')
	out "  smmd during delivery: $(proc_delta "$SNAP_DUE" "$SNAP_END" "$DELIVERY_S")"
	out "  by thread: $(thread_delta "$THREADS_DUE" "$THREADS_END" "$DELIVERY_S")"
	out "  meanwhile: $(machine_line "$DELIVERY_S")"
	out "  smmd status at the end: $STATUS_COUNTS"
	log_summary "$CUR"
	out "  stopped with SIGTERM: exit 0 in $STOP_MS ms"
	report_hwm
	PUNCT_HWM=$HWM_DELIVERED_KB
	out "  peak RSS once delivered: $(fig a.hwm "$PUNCT_HWM" kB)"
	PUNCT_VERDICT=$(awk -v p="$PUNCT_P99" 'BEGIN { print (p <= 1.0) ? "MET" : "MISSED" }')
	out "  target p99 <= 1 ms: $PUNCT_VERDICT (p99 $PUNCT_P99 ms)"
	out ""
fi

# ---------------------------------------------------------------------------
# (a) again, with the state directory on disk, SMM_BENCH_DISK_REPS times

# disk_rep DIR: one run of (a) in DIR; sets the REP_* figures.
disk_rep() {
	local n=$SMM_BENCH_PUNCT_N step=$SMM_BENCH_PUNCT_STEP_MS
	local sp99 smx dn dp99 dmx
	CUR=$1
	mkdir -p "$CUR"
	start_sink "$CUR" --log "$CUR/sink.log"
	write_config "$CUR" "$SINK_PORT"
	start_smmd "$CUR"
	FIRST_DUE_MS=$(($(now_ms) + $(lead_ms "$n")))
	LAST_DUE_MS=$((FIRST_DUE_MS + (n - 1) * step))
	queue_posts "$CUR" "$n" "$FIRST_DUE_MS" "$step"
	[ "$(now_ms)" -lt "$FIRST_DUE_MS" ] ||
		die "disk: queueing ended after the first due time"
	sleep_until "$FIRST_DUE_MS"
	wait_sink "$CUR/sink.log" "$n" $((LAST_DUE_MS + SMM_BENCH_WAIT_S * 1000)) "disk $(basename "$CUR")" \
		$((LAST_DUE_MS + 100))
	REP_END_MS=$(now_ms)
	wait_published "$CUR" "$n"
	loop_turn "$CUR/run/smmd.sock"
	REP_LOOP_MS=$LOOP_MS REP_LOOP_CAUSE=$LOOP_CAUSE
	stop_smmd
	stop_pid "$SINK_PID"
	analyse_sink "$CUR/sink.log" "$CUR/recv.tsv"
	cut -f6 "$CUR/recv.tsv" >"$CUR/late_us.txt"
	# The first attempt of each delivery, as smmd recorded its start.
	sqlite3 -readonly "$CUR/state/smmd.db" \
		"SELECT (a.started_ms - d.due_ms) * 1000 FROM attempts a
		 JOIN deliveries d ON d.id = a.delivery_id WHERE a.n = 1" \
		>"$CUR/dlate_us.txt"
	read -r _ _ _ _ sp99 _ smx _ < <(percentiles "$CUR/late_us.txt")
	read -r dn _ _ _ dp99 _ dmx _ < <(percentiles "$CUR/dlate_us.txt")
	[ "$dn" -eq "$n" ] || die "disk: smmd recorded $dn first attempts, expected $n"
	REP_D_P99=$dp99 REP_D_MAX=$dmx REP_S_P99=$sp99 REP_S_MAX=$smx
	# Issue 14: p99 <= 1 ms and max <= 10 ms, at smmd and at the sink.
	REP_VERDICT=$(verdict "$dp99 <= 1 && $dmx <= 10 && $sp99 <= 1 && $smx <= 10")
	rm -rf "$CUR/state" "$CUR/sink.log"
}

if want punctuality && [ "$SMM_BENCH_DISK_REPS" -gt 0 ]; then
	command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 is not installed (apt-get install -y sqlite3): needed for the on-disk runs"
	DISK_T=$(mktemp -d "$SMM_BENCH_DISK_DIR/smm-bench-disk.XXXXXX")
	DISK_FS=$(stat -f -c %T "$DISK_T")
	out "(a) Punctuality with the state directory on disk: $SMM_BENCH_DISK_REPS runs of $SMM_BENCH_PUNCT_N posts, one every $SMM_BENCH_PUNCT_STEP_MS ms"
	out "  state dir on $(df -T "$DISK_T" | awk 'NR == 2 { print $2 " (" $1 ")" }') at $DISK_T"
	[ "$DISK_FS" != tmpfs ] || out "  WARNING: $DISK_T is on tmpfs: set SMM_BENCH_DISK_DIR to a disk"
	out "  lateness = attempt start - due (smmd's attempts table) and sink receipt - due; ms"
	out "  each run's target: p99 <= 1 ms and max <= 10 ms, both at smmd and at the sink"
	DISK_WORST=0
	DISK_P99S=()
	DISK_PASS=0
	DISK_LOOP_MAX=0
	for i in $(seq 1 "$SMM_BENCH_DISK_REPS"); do
		progress "disk: run $i of $SMM_BENCH_DISK_REPS"
		disk_rep "$DISK_T/run$i"
		out "  run $i: $REP_VERDICT: at smmd p99 $(fig "disk.$i.smmd.p99" "$REP_D_P99" ms), max $(fig "disk.$i.smmd.max" "$REP_D_MAX" ms)"
		out "         at the sink p99 $(fig "disk.$i.sink.p99" "$REP_S_P99" ms), max $(fig "disk.$i.sink.max" "$REP_S_MAX" ms)"
		out "         $(loop_line "disk.$i.loop.max" "$REP_LOOP_MS" "$REP_LOOP_CAUSE"); $(due_turns "disk.$i.loop.due_max" "$DISK_T/run$i/smmd.log" "$FIRST_DUE_MS" "$REP_END_MS")"
		[ "$REP_VERDICT" != PASS ] || DISK_PASS=$((DISK_PASS + 1))
		DISK_LOOP_MAX=$(awk -v a="$DISK_LOOP_MAX" -v b="${REP_LOOP_MS:-0}" 'BEGIN { print (b > a) ? b : a }')
		DISK_P99S+=("$REP_D_P99")
		DISK_WORST=$(awk -v a="$DISK_WORST" -v b="$REP_D_MAX" 'BEGIN { print (b > a) ? b : a }')
	done
	DISK_P99_MED=$(printf '%s\n' "${DISK_P99S[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	out "  median p99 at smmd $(fig disk.smmd.p99_median "$DISK_P99_MED" ms); worst lateness at smmd $(fig disk.smmd.max_worst "$DISK_WORST" ms); floor: timer p99 ${FLOOR_P99:-?} ms, max ${FLOOR_MAX:-?} ms"
	out "  $DISK_PASS of $SMM_BENCH_DISK_REPS runs met the target; longest loop turn over the runs $DISK_LOOP_MAX ms"
	out ""
	[ "$SMM_BENCH_KEEP" = 1 ] || rm -rf "$DISK_T"
	CUR=
fi

# ---------------------------------------------------------------------------
# (b) burst

if want burst; then
	FIG_CTX="n=$SMM_BENCH_BURST_N k=$SMM_BENCH_MAX_IN_FLIGHT curl_n=$SMM_BENCH_CURL_N"
	run_scenario burst "$SMM_BENCH_BURST_N" 0
	N=$SMM_BENCH_BURST_N
	read -r FIRST_US LAST_US < <(cut -f4 "$CUR/recv.tsv" | sort -n |
		awk 'NR == 1 { f = $1 } { l = $1 } END { print f, l }')
	DUE_US=$((FIRST_DUE_MS * 1000))
	RATE_SPAN=$(awk -v n="$N" -v a="$FIRST_US" -v b="$LAST_US" 'BEGIN { printf "%.0f", (b > a) ? (n - 1) * 1e6 / (b - a) : 0 }')
	RATE_DUE=$(awk -v n="$N" -v a="$DUE_US" -v b="$LAST_US" 'BEGIN { printf "%.0f", (b > a) ? n * 1e6 / (b - a) : 0 }')
	out "(b) Burst: $N posts all due at the same instant, one channel"
	out "  queueing: $N adds in $QUEUE_MS ms, done $((FIRST_DUE_MS - QUEUED_AT)) ms before the due instant"
	check_deliveries "$CUR/recv.tsv" "$N"
	out "  first receipt $(awk -v a="$DUE_US" -v b="$FIRST_US" 'BEGIN { printf "%.3f", (b - a) / 1000 }') ms after the due instant, last $(awk -v a="$DUE_US" -v b="$LAST_US" 'BEGIN { printf "%.3f", (b - a) / 1000 }') ms after"
	out "  rate, first to last receipt:   $(printf '%8s' "$RATE_SPAN") deliveries/s"
	out "  rate, due instant to last:     $(printf '%8s' "$RATE_DUE") deliveries/s"
	ceiling_verdict "$RATE_SPAN" "$CURL_RATE" 70
	BURST_CEIL_PCT=$CEIL_PCT BURST_CEIL_VERDICT=$CEIL_VERDICT
	out "  burst rate (first to last): $(fig b.rate "$RATE_SPAN" /s) $CEIL_TXT (target >= 70%): $CEIL_VERDICT"
	out "  $(loop_line b.loop.max "$SCEN_LOOP_MS" "$SCEN_LOOP_CAUSE"); $(due_turns b.loop.due_max "$CUR/smmd.log" "$FIRST_DUE_MS" "$END_MS")"
	BURST_LOOP=$SCEN_LOOP_MS
	cut -f6 "$CUR/recv.tsv" >"$CUR/late_us.txt"
	print_dist "time from due to sink receipt:" "$CUR/late_us.txt"
	awk -F'\t' '{ print ($3 - $2) * 1000 }' "$CUR/daemon.tsv" >"$CUR/dlate_us.txt"
	print_dist "at smmd (attempt start - due):" "$CUR/dlate_us.txt"
	send_path
	print_dist "start -> sink receipt (commit+send):" "$CUR/send_us.txt"
	awk -F'\t' '$4 >= 0 { print $4 * 1000 }' "$CUR/daemon.tsv" >"$CUR/lat_us.txt"
	print_dist "HTTP latency as smmd recorded it:" "$CUR/lat_us.txt"
	# Deliveries per 100 ms window at the sink: is the rate steady?
	out "  receipts per 100 ms after the due instant (first 20 windows):"
	out "    $(cut -f4 "$CUR/recv.tsv" | awk -v d="$DUE_US" '{ w = int(($1 - d) / 100000); c[w]++; if (w > m) m = w }
		END { for (i = 0; i <= m && i < 20; i++) printf "%d ", c[i] + 0; if (m >= 20) printf "... (%d windows)", m + 1 }')"
	DELIVERY_S=$(awk -v a="$FIRST_DUE_MS" -v b="$END_MS" 'BEGIN { print (b - a) / 1000 }')
	out "  smmd during delivery: $(proc_delta "$SNAP_DUE" "$SNAP_END" "$DELIVERY_S")"
	out "  by thread: $(thread_delta "$THREADS_DUE" "$THREADS_END" "$DELIVERY_S")"
	out "  meanwhile: $(machine_line "$DELIVERY_S")"
	[ -z "$CURL_RATE" ] ||
		out "$(cpu_budget_line "$N" "$RATE_SPAN" "$T/wrk/curl.txt" "$CURL_RATE" 70 "$STORE_B")"
	out "  smmd status at the end: $STATUS_COUNTS"
	log_summary "$CUR"
	out "  stopped with SIGTERM: exit 0 in $STOP_MS ms"
	report_hwm
	BURST_HWM=$HWM_DELIVERED_KB
	out "  peak RSS once delivered: $(fig b.hwm "$BURST_HWM" kB)"
	rate_verdict "$RATE_SPAN" "$RATE_DUE" 50 "" "$CURL_RATE"
	BURST_VERDICT=$VERDICT
	BURST_PCT=$PCT
	perf_report
	out ""
fi

# ---------------------------------------------------------------------------
# (d) channels: a burst over many channels beside a steady stream (issue 4)

# write_channels_config DIR PORT: channels c00..c99 (burst) and steady, each
# to its own path on the sink, signing like a real one would.
write_channels_config() {
	local dir=$1 port=$2 i c
	{
		cat <<YAML
state_dir: $dir/state
socket: $dir/run/smmd.sock
max_in_flight: $SMM_BENCH_CHAN_GLOBAL_MAX_IN_FLIGHT
channels:
  steady:
    publisher: webhook
    url: http://127.0.0.1:$port/hook/steady
    secret_file: $T/secret
    timeout: 10s
    max_in_flight: $SMM_BENCH_STEADY_MAX_IN_FLIGHT
    retry_base: 100ms
    retry_max: 1s
YAML
		for ((i = 0; i < SMM_BENCH_CHAN_N; i++)); do
			printf -v c 'c%02d' "$i"
			cat <<YAML
  $c:
    publisher: webhook
    url: http://127.0.0.1:$port/hook/$c
    secret_file: $T/secret
    timeout: 10s
    max_in_flight: $SMM_BENCH_CHAN_MAX_IN_FLIGHT
    retry_base: 100ms
    retry_max: 1s
YAML
		done
	} >"$dir/smmd.yaml"
}

# gen_channel_adds NCHAN PER BURST_MS STEADY_N STEADY_START_MS STEP_MS:
# hello; the steady posts s-1.. (channel steady, STEP_MS apart from
# STEADY_START_MS); then the burst, channel by channel (c00-1 .. c00-PER,
# c01-1, ...: queued in the order that would starve the last channels if
# smmd served them first come, first served), all due at BURST_MS.
gen_channel_adds() {
	awk -v nchan="$1" -v per="$2" -v burst="$3" -v ns="$4" -v start="$5" \
		-v step="$6" "$AWK_ISO"'
	BEGIN {
		print "{\"id\":0,\"cmd\":\"hello\",\"args\":{\"protocol\":1,\"client\":\"smm-bench\"}}"
		for (i = 1; i <= ns; i++)
			printf "{\"id\":%d,\"cmd\":\"add\",\"args\":{\"channels\":[\"steady\"]," \
			       "\"text\":\"steady %d\",\"id\":\"s-%d\",\"at\":\"%s\"}}\n",
			       i, i, i, iso(start + (i - 1) * step)
		at = iso(burst)
		r = ns
		for (c = 0; c < nchan; c++)
			for (i = 1; i <= per; i++)
				printf "{\"id\":%d,\"cmd\":\"add\",\"args\":{\"channels\":[\"c%02d\"]," \
				       "\"text\":\"burst c%02d %d\",\"id\":\"c%02d-%d\",\"at\":\"%s\"}}\n",
				       ++r, c, c, i, c, i, at
	}'
}

# run_channels: the whole scenario up to the sink's log in $CUR/recv.tsv
# and smmd's view of the steady posts in $CUR/daemon.tsv.
run_channels() {
	local nb=$((SMM_BENCH_CHAN_N * SMM_BENCH_CHAN_PER)) total t0 got deadline
	local next_report=0 now
	CUR=$T/channels
	mkdir -p "$CUR"
	STEADY_N=$(((SMM_BENCH_STEADY_BEFORE_MS + SMM_BENCH_STEADY_S * 1000) / SMM_BENCH_STEADY_STEP_MS))
	total=$((nb + STEADY_N))
	notify_fifo "$CUR" "$total"
	start_sink "$CUR" --log "$CUR/sink.log" "${NOTIFY_ARGS[@]}"
	write_channels_config "$CUR" "$SINK_PORT"
	"$SMMD_BIN" --check-config -c "$CUR/smmd.yaml" >"$CUR/check.out" 2>&1 ||
		die "channels: smmd refused the config: $(head -n 5 "$CUR/check.out")"
	start_smmd "$CUR"
	STEADY_FIRST_MS=$(($(now_ms) + $(lead_ms "$total")))
	FIRST_DUE_MS=$((STEADY_FIRST_MS + SMM_BENCH_STEADY_BEFORE_MS))
	STEADY_LAST_MS=$((STEADY_FIRST_MS + (STEADY_N - 1) * SMM_BENCH_STEADY_STEP_MS))
	gen_channel_adds "$SMM_BENCH_CHAN_N" "$SMM_BENCH_CHAN_PER" "$FIRST_DUE_MS" \
		"$STEADY_N" "$STEADY_FIRST_MS" "$SMM_BENCH_STEADY_STEP_MS" >"$CUR/adds.jsonl"
	if [ "$(iso_ms "$(sed -n 2p "$CUR/adds.jsonl" | jq -r .args.at)")" -ne "$STEADY_FIRST_MS" ] ||
		[ "$(iso_ms "$(sed -n "$((STEADY_N + 1))p" "$CUR/adds.jsonl" | jq -r .args.at)")" -ne "$STEADY_LAST_MS" ] ||
		[ "$(iso_ms "$(tail -n 1 "$CUR/adds.jsonl" | jq -r .args.at)")" -ne "$FIRST_DUE_MS" ]; then
		die "gen_channel_adds made wrong timestamps"
	fi
	progress "channels: queueing $nb burst + $STEADY_N steady posts, steady from $((STEADY_FIRST_MS - $(now_ms))) ms, burst in $((FIRST_DUE_MS - $(now_ms))) ms"
	t0=$(now_ms)
	converse "$CUR" "$CUR/adds.jsonl" "$CUR/adds.replies" $((total + 1)) 300
	QUEUE_MS=$(($(now_ms) - t0))
	QUEUED_AT=$(now_ms)
	check_adds "$CUR/adds.replies" "$total"
	[ "$QUEUED_AT" -lt "$STEADY_FIRST_MS" ] ||
		die "channels: queueing ended $((QUEUED_AT - STEADY_FIRST_MS)) ms after the first steady post was due (slow machine? calibration said $CALIB_MS ms)"
	[ "$(wc -l <"$CUR/sink.log")" -eq 0 ] || die "channels: posts arrived before their time"
	HWM_QUEUED_KB=$(proc_kb "$SMMD_PID" VmHWM)
	perf_start
	sleep_until "$FIRST_DUE_MS"
	: >"$CUR/snaps.txt"
	raw_snap "$CUR/snaps.txt"
	deadline=$((STEADY_LAST_MS + SMM_BENCH_WAIT_S * 1000))
	# Builtins only, but for a count every 2 s: a snapshot every 100 ms,
	# and the sink's FIFO says when all are in.
	while :; do
		! read -r -t 0.1 -u "$NOTIFY_FD" got || break
		now=${EPOCHREALTIME/./}
		now=$((now / 1000))
		if [ "$now" -ge "$next_report" ]; then
			got=$(wc -l <"$CUR/sink.log")
			pid_running "$SMMD_PID" || die "smmd died with $got of $total delivered"
			[ "$now" -lt "$deadline" ] ||
				die "channels: only $got of $total posts reached the sink in time"
			progress "channels: $got/$total received"
			next_report=$((now + 2000))
		fi
		raw_snap "$CUR/snaps.txt"
	done
	raw_snap "$CUR/snaps.txt"
	END_MS=$(now_ms)
	perf_stop
	notify_close
	progress "channels: $got/$total received"
	wait_published "$CUR" "$total"
	loop_turn "$CUR/run/smmd.sock"
	SCEN_LOOP_MS=$LOOP_MS SCEN_LOOP_CAUSE=$LOOP_CAUSE
	HWM_DELIVERED_KB=$(proc_kb "$SMMD_PID" VmHWM)
	progress "channels: asking smmd when it started each steady attempt"
	seq 1 "$STEADY_N" | sed 's,.*,s-&/steady,' >"$CUR/show.ids"
	daemon_view "$CUR" "$CUR/show.ids" "$CUR/daemon.tsv"
	HWM_KB=$(proc_kb "$SMMD_PID" VmHWM)
	SCEN_N=$STEADY_N
	stop_smmd
	stop_pid "$SINK_PID"
	analyse_sink "$CUR/sink.log" "$CUR/recv.tsv"
	# Each request on its channel's own path.
	jq -r '(.body | fromjson) as $b | select(.path != "/hook/" + $b.channel) | $b.id' \
		"$CUR/sink.log" >"$CUR/wrong_path.txt"
}

# ms_after A_US B_US: (B - A) in ms with 3 decimals.
ms_after() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1000 }'
}

if want channels; then
	FIG_CTX="chan=$SMM_BENCH_CHAN_N per=$SMM_BENCH_CHAN_PER k=$SMM_BENCH_CHAN_GLOBAL_MAX_IN_FLIGHT/$SMM_BENCH_CHAN_MAX_IN_FLIGHT steady=$SMM_BENCH_STEADY_S"
	run_channels
	NB=$((SMM_BENCH_CHAN_N * SMM_BENCH_CHAN_PER))
	awk -F'\t' '$1 !~ /^s-/' "$CUR/recv.tsv" >"$CUR/burst.tsv"
	awk -F'\t' '$1 ~ /^s-/' "$CUR/recv.tsv" >"$CUR/steady.tsv"
	read -r FIRST_US LAST_US < <(cut -f4 "$CUR/burst.tsv" | sort -n |
		awk 'NR == 1 { f = $1 } { l = $1 } END { print f, l }')
	DUE_US=$((FIRST_DUE_MS * 1000))
	CHAN_RATE_SPAN=$(awk -v n="$NB" -v a="$FIRST_US" -v b="$LAST_US" 'BEGIN { printf "%.0f", (b > a) ? (n - 1) * 1e6 / (b - a) : 0 }')
	CHAN_RATE_DUE=$(awk -v n="$NB" -v a="$DUE_US" -v b="$LAST_US" 'BEGIN { printf "%.0f", (b > a) ? n * 1e6 / (b - a) : 0 }')
	out "(d) Channels: $NB deliveries over $SMM_BENCH_CHAN_N channels ($SMM_BENCH_CHAN_PER each) all due at one instant, beside a steady channel"
	out "  config: max_in_flight $SMM_BENCH_CHAN_GLOBAL_MAX_IN_FLIGHT overall, $SMM_BENCH_CHAN_MAX_IN_FLIGHT per burst channel, $SMM_BENCH_STEADY_MAX_IN_FLIGHT on steady; no min_interval; max_host_connections unset (all go to one sink); each channel signs (secret_file) and posts to /hook/<channel>"
	out "  steady: $STEADY_N posts due one every $SMM_BENCH_STEADY_STEP_MS ms, from $SMM_BENCH_STEADY_BEFORE_MS ms before the burst instant to $(((STEADY_LAST_MS - FIRST_DUE_MS) / 1000)).$(printf '%03d' $(((STEADY_LAST_MS - FIRST_DUE_MS) % 1000))) s after it"
	out "  queueing: $((NB + STEADY_N)) adds (burst queued channel after channel) in $QUEUE_MS ms over one connection, done $((STEADY_FIRST_MS - QUEUED_AT)) ms before the first steady post was due"
	check_deliveries "$CUR/recv.tsv" $((NB + STEADY_N))
	[ "$(cut -f1 "$CUR/burst.tsv" | sort -u | wc -l)" -eq "$NB" ] ||
		die "channels: the burst's posts did not all arrive"
	[ "$(cut -f1 "$CUR/steady.tsv" | sort -u | wc -l)" -eq "$STEADY_N" ] ||
		die "channels: the steady posts did not all arrive"
	[ ! -s "$CUR/wrong_path.txt" ] ||
		die "channels: $(wc -l <"$CUR/wrong_path.txt") requests on another channel's path, e.g. $(head -n 1 "$CUR/wrong_path.txt")"
	read -r CMIN CMAX < <(cut -f1 "$CUR/burst.tsv" | sed 's/-[0-9]*$//' | sort | uniq -c |
		awk 'NR == 1 { mn = mx = $1 } { if ($1 < mn) mn = $1; if ($1 > mx) mx = $1 } END { print mn, mx }')
	out "  per burst channel: $CMIN to $CMAX deliveries (each posted to its own path: checked)"
	out "  burst: first receipt $(ms_after "$DUE_US" "$FIRST_US") ms after the due instant, last $(ms_after "$DUE_US" "$LAST_US") ms after"
	out "  burst rate, first to last receipt: $(printf '%8s' "$CHAN_RATE_SPAN") deliveries/s"
	out "  burst rate, due instant to last:   $(printf '%8s' "$CHAN_RATE_DUE") deliveries/s"
	ceiling_verdict "$CHAN_RATE_SPAN" "$CURL_CHAN_RATE" 50
	CHAN_CEIL_PCT=$CEIL_PCT CHAN_CEIL_VERDICT=$CEIL_VERDICT
	out "  burst rate (first to last): $(fig d.rate "$CHAN_RATE_SPAN" /s) $CEIL_TXT over $SMM_BENCH_CHAN_N URLs (target >= 50%): $CEIL_VERDICT"
	out "  $(loop_line d.loop.max "$SCEN_LOOP_MS" "$SCEN_LOOP_CAUSE"); $(due_turns d.loop.due_max "$CUR/smmd.log" "$STEADY_FIRST_MS" "$END_MS")"
	CHAN_LOOP=$SCEN_LOOP_MS
	cut -f6 "$CUR/burst.tsv" >"$CUR/late_us.txt"
	print_dist "burst: due -> sink receipt:" "$CUR/late_us.txt"
	out "  burst receipts per 100 ms after the due instant (first 20 windows):"
	out "    $(cut -f4 "$CUR/burst.tsv" | awk -v d="$DUE_US" '{ w = int(($1 - d) / 100000); c[w]++; if (w > m) m = w }
		END { for (i = 0; i <= m && i < 20; i++) printf "%d ", c[i] + 0; if (m >= 20) printf "... (%d windows)", m + 1 }')"
	# Fairness: each channel's deliveries in the burst's first second, and
	# when each channel got its first and its last.
	out "  fairness, deliveries per channel in the first second after the due instant:"
	awk -F'\t' -v d="$DUE_US" -v nc="$SMM_BENCH_CHAN_N" '
		{ c = $1; sub(/-[0-9]+$/, "", c)
		  if ($4 < d + 1000000) { n[c]++; tot++ }
		  if (!(c in first) || $4 < first[c]) first[c] = $4
		  if (!(c in last) || $4 > last[c]) last[c] = $4 }
		END {
			mn = -1; zero = 0
			for (i = 0; i < nc; i++) {
				c = sprintf("c%02d", i); v = n[c] + 0
				if (v == 0) zero++
				if (mn < 0 || v < mn) { mn = v; mnc = c }
				if (v > mx) { mx = v; mxc = c }
				f = (first[c] - d) / 1000; l = (last[c] - d) / 1000
				if (i == 0 || f > fmax) fmax = f
				if (i == 0 || l < lmin) { lmin = l; lminc = c }
				if (i == 0 || l > lmax) { lmax = l; lmaxc = c }
			}
			printf "min %d (%s), max %d (%s), fair share %.1f (%d in the first second over %d channels), %d channels with none\n",
			       mn, mnc, mx, mxc, tot / nc, tot, nc, zero
			printf "every channel had its first delivery within %.1f ms; channels finished between %.1f ms (%s) and %.1f ms (%s) after the due instant\n",
			       fmax, lmin, lminc, lmax, lmaxc
		}' "$CUR/burst.tsv" >"$CUR/fairness.txt"
	while IFS= read -r line; do
		out "    $line"
	done <"$CUR/fairness.txt"
	# The steady stream, split by whether the burst was being delivered.
	awk -F'\t' -v a="$DUE_US" '$5 < a { print $6 }' "$CUR/steady.tsv" >"$CUR/steady_before_us.txt"
	awk -F'\t' -v a="$DUE_US" -v b="$LAST_US" '$5 >= a && $5 <= b { print $6 }' "$CUR/steady.tsv" >"$CUR/steady_during_us.txt"
	awk -F'\t' -v b="$LAST_US" '$5 > b { print $6 }' "$CUR/steady.tsv" >"$CUR/steady_after_us.txt"
	STEADY_DURING_N=$(wc -l <"$CUR/steady_during_us.txt")
	out "  steady lateness (sink receipt - scheduled_at), $STEADY_DURING_N of its posts were due while the burst was being delivered (due instant .. last burst receipt):"
	print_dist "steady, due before the burst:" "$CUR/steady_before_us.txt"
	print_dist "steady, due DURING the burst:" "$CUR/steady_during_us.txt"
	STEADY_P50=$(percentiles "$CUR/steady_during_us.txt" | awk '{ print $3 }')
	STEADY_P99=$DIST_P99
	STEADY_MAX=$(percentiles "$CUR/steady_during_us.txt" | awk '{ print $7 }')
	print_dist "steady, due after the burst:" "$CUR/steady_after_us.txt"
	awk -F'\t' -v a="$FIRST_DUE_MS" -v b="$((LAST_US / 1000))" '$2 >= a && $2 <= b { print ($3 - $2) * 1000 }' \
		"$CUR/daemon.tsv" >"$CUR/steady_dlate_us.txt"
	print_dist "  during, at smmd (start - due, 1 ms):" "$CUR/steady_dlate_us.txt"
	awk -F'\t' -v a="$FIRST_DUE_MS" -v b="$((LAST_US / 1000))" '$2 >= a && $2 <= b && $4 >= 0 { print $4 * 1000 }' \
		"$CUR/daemon.tsv" >"$CUR/steady_lat_us.txt"
	print_dist "  during, HTTP latency smmd recorded:" "$CUR/steady_lat_us.txt"
	# The steady channel's own limit: its attempts last as long as smmd
	# takes to see their answers, and at max_in_flight the next one waits.
	jq -r 'def ms: (.[0:19] + "Z" | fromdateiso8601) * 1000 + (.[20:23] | tonumber);
	       select(.id > 0) | .result.deliveries[0].attempts[0]
	       | select(.finished != null)
	       | "\(.started | ms) 1\n\(.finished | ms) -1"' "$CUR/show.replies" |
		sort -k1,1n -k2,2n | awk -v a="$FIRST_DUE_MS" -v b="$((LAST_US / 1000))" \
		-v cap="$SMM_BENCH_STEADY_MAX_IN_FLIGHT" '
		# Sweep the starts (+1) and finishes (-1): the peak and the time
		# spent at the limit within [a, b].
		function span(t,   lo, hi) {
			lo = prev < a ? a : prev; hi = t > b ? b : t
			if (hi > lo && c >= cap) full += hi - lo
		}
		{ span($1); if ($1 >= a && !seen) { seen = 1; if (c > mx) mx = c }
		  prev = $1; c += $2
		  if ($1 >= a && $1 <= b && c > mx) mx = c }
		END { span(b); printf "%d %.0f\n", mx, (b > a) ? 100 * full / (b - a) : 0 }' >"$CUR/steady_cap.txt"
	read -r STEADY_PEAK STEADY_FULL_PCT <"$CUR/steady_cap.txt"
	awk -F'\t' -v a="$FIRST_DUE_MS" -v b="$((LAST_US / 1000))" '$2 >= a && $2 <= b && $5 >= 0 { print $5 * 1000 }' \
		"$CUR/daemon.tsv" >"$CUR/steady_life_us.txt"
	print_dist "  during, attempt start -> finish:" "$CUR/steady_life_us.txt"
	out "  steady channel in flight during the burst: peak $STEADY_PEAK (its max_in_flight: $SMM_BENCH_STEADY_MAX_IN_FLIGHT), at that limit $STEADY_FULL_PCT% of the time"
	# Growing lateness means a backlog on the steady channel, flat means
	# a fixed delay per request.
	out "  steady lateness by second of the burst (posts due in it: mean / max ms):"
	out "    $(awk -F'\t' -v a="$DUE_US" -v b="$LAST_US" '$5 >= a && $5 <= b {
			w = int(($5 - a) / 1000000); n[w]++; s[w] += $6
			if ($6 > mx[w]) mx[w] = $6; if (w > m) m = w }
		END { for (i = 0; i <= m; i++) if (n[i]) printf "%.0f/%.0f ", s[i] / n[i] / 1000, mx[i] / 1000 }' \
		"$CUR/steady.tsv")"
	out "  steady posts due during the burst more than 20 ms late: $(awk '$1 > 20000' "$CUR/steady_during_us.txt" | wc -l); more than 100 ms: $(awk '$1 > 100000' "$CUR/steady_during_us.txt" | wc -l)"
	STEADY_COVER=
	if [ "$((STEADY_LAST_MS * 1000))" -lt "$LAST_US" ]; then
		STEADY_COVER=" (partial: the steady stream ended $(ms_after "$((STEADY_LAST_MS * 1000))" "$LAST_US") ms before the burst did; raise SMM_BENCH_STEADY_S)"
		out "  WARNING: the steady stream did not cover the whole burst$STEADY_COVER"
	fi
	use_snaps "$CUR/snaps.txt" "$LAST_US"
	out "  smmd during the burst: $(proc_delta "$SNAP_DUE" "$SNAP_END" "$SNAP_SPAN_S")"
	out "  meanwhile: $(machine_line "$SNAP_SPAN_S")"
	# Per burst delivery: the steady posts meanwhile are 1% of them.
	[ -z "$CURL_CHAN_RATE" ] ||
		out "$(cpu_budget_line "$NB" "$CHAN_RATE_SPAN" "$T/wrk/curlchan.txt" "$CURL_CHAN_RATE" 50 "$STORE_D")"
	out "  smmd status at the end: $STATUS_COUNTS"
	log_summary "$CUR"
	out "  stopped with SIGTERM: exit 0 in $STOP_MS ms"
	out "  (c) smmd peak RSS (VmHWM): $HWM_DELIVERED_KB kB once all were delivered (after queueing: $HWM_QUEUED_KB kB; just before SIGTERM, after the bench's $SCEN_N show queries: $HWM_KB kB)"
	CHAN_HWM=$HWM_DELIVERED_KB
	out "  peak RSS once delivered: $(fig d.hwm "$CHAN_HWM" kB)"
	rate_verdict "$CHAN_RATE_SPAN" "$CHAN_RATE_DUE" 70 "burst " "$CURL_CHAN_RATE"
	CHAN_VERDICT=$VERDICT
	CHAN_PCT=$PCT
	if [ "$STEADY_DURING_N" -gt 0 ]; then
		STEADY_VERDICT=$(awk -v p="$STEADY_P99" 'BEGIN { print (p < 20) ? "MET" : "MISSED" }')
	else
		STEADY_VERDICT="n/a (no steady post was due during the burst)"
	fi
	out "  target steady p99 lateness during the burst < 20 ms: $STEADY_VERDICT (p50 $STEADY_P50, p99 $(fig d.steady.p99 "$STEADY_P99" ms), max $(fig d.steady.max "$STEADY_MAX" ms) over $STEADY_DURING_N posts)$STEADY_COVER"
	perf_report "$NB"
	out ""
fi

# ---------------------------------------------------------------------------
# (e) calendar

CAL_SUMMARY=()
if want calendar; then
	CUR=$T/calendar
	CAL_DIR=$CUR/cal # smmd.yaml, calendar.yaml, state/, smmd.sock
	CAL_SOCK=$CAL_DIR/smmd.sock
	CAL_FILE=$CAL_DIR/calendar.yaml
	HZ=$(getconf CLK_TCK)
	mkdir -p "$CUR"
	# A FIFO nobody writes to: "read -t" on it naps without a process.
	mkfifo "$CUR/nap.fifo"
	exec {NAP_FD}<>"$CUR/nap.fifo"

	# cal_log_ms FIXED-STRING: the time (ms) of the last line of smmd.log
	# that holds it; empty if none does.
	cal_log_ms() {
		local ts
		ts=$(grep -F -- "$1" "$CUR/smmd.log" | tail -n 1 | cut -d' ' -f1 || true)
		[ -z "$ts" ] || date -u -d "$ts" +%s%3N
	}

	# cal_counts TEXT: "A U C N M" from "A added, U updated, C cancelled,
	# N unchanged, M missed" (the log adds ", D deferred") at the end of
	# TEXT's last such line.
	cal_counts() {
		sed -n 's/.*[^0-9]\([0-9][0-9]*\) added, \([0-9][0-9]*\) updated, \([0-9][0-9]*\) cancelled, \([0-9][0-9]*\) unchanged, \([0-9][0-9]*\) missed\(, [0-9]* deferred\)\{0,1\}$/\1 \2 \3 \4 \5/p' <<<"$1" |
			tail -n 1
	}

	# cal_others MACH0 MACH1 SMMD_TICKS WALL_MS: what the rest of the
	# machine used meanwhile, in percent of one core (others' test
	# suites disturb the figures; the bench's own polling counts too).
	cal_others() {
		awk -v a="$1" -v b="$2" -v own="$3" -v ms="$4" -v hz="$HZ" 'BEGIN {
			split(a, x, " "); split(b, y, " ")
			s = (ms > 0 ? ms : 1) / 1000
			o = (y[1] - x[1] - own) / hz / s * 100
			printf "%.0f%%", o < 0 ? 0 : o
		}'
	}

	# stats N...: "min median max" (the lower median of an even count).
	stats() {
		printf '%s\n' "$@" | sort -n |
			awk '{ v[NR] = $1 } END { printf "%s %s %s\n", v[1], v[int((NR + 1) / 2)], v[NR] }'
	}

	kib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
	under() { awk -v v="$1" -v t="$2" 'BEGIN { print (v < t) ? "MET" : "MISSED" }'; }

	# cal_perf_start NAME / cal_perf_stop: with SMM_BENCH_PERF=1, profile
	# smmd (all its threads) into $CUR/perf.NAME.data.
	PERF_PID=
	cal_perf_start() {
		command -v perf >/dev/null 2>&1 || {
			progress "perf is not installed: no profile"
			return 0
		}
		perf record -F 499 -e cpu-clock --call-graph dwarf,16384 -p "$SMMD_PID" \
			-o "$CUR/perf.$1.data" >"$CUR/perf.$1.out" 2>&1 &
		PERF_PID=$!
		PIDS+=("$PERF_PID")
		# perf needs a moment before it samples.
		sleep 0.3
	}

	# cal_perf_report NAME LABEL: where the profiled CPU time went.
	cal_perf_report() {
		local data=$CUR/perf.$1.data
		[ -s "$data" ] || return 0
		perf report -i "$data" --stdio --no-children --sort dso,symbol \
			-g none --percent-limit 1 >"$CUR/perf.$1.self.txt" 2>/dev/null || true
		perf report -i "$data" --stdio --children --sort symbol \
			-g none >"$CUR/perf.$1.children.txt" 2>/dev/null || true
		out "  perf profile of $2 (cpu-clock, dwarf call graphs; perf slows it down):"
		out "    self time, top 15 (library, symbol):"
		grep -E '^ +[0-9.]+%' "$CUR/perf.$1.self.txt" | sed 's/[ -]*$//' |
			awk 'NR <= 15 { s = $1; $1 = ""; printf "      %-7s%s\n", s, $0 }' |
			tee -a "$REPORT"
		out "    inclusive time (children) of named functions, top 30:"
		grep -E '^ +[0-9.]+%' "$CUR/perf.$1.children.txt" | grep -v ' 0x' |
			awk 'NR <= 30 { printf "      %-7s self %-7s %s\n", $1, $2, $4 }' |
			tee -a "$REPORT"
	}

	# cal_start LABEL [PERF-NAME]: start smmd on the calendar and time it
	# from exec to the socket answering "status"; then sets READY_MS,
	# CPU_S (smmd's user + system time until then), OTHERS, HWM_READY,
	# RSS_READY, RSS_SETTLED and HWM_SETTLED (SMM_BENCH_CAL_SETTLE_S
	# later), PHASES (from the log) and START_COUNTS ("A U C N M").
	cal_start() {
		local label=$1 perf=${2:-} t0 mach0 mach1 ticks deadline calline t_sched t_cal t_ready now
		mach0=$(machine_snap)
		now=${EPOCHREALTIME/./}
		t0=$((now / 1000))
		# -v: smmd logs each loop turn over 5 ms (debug), which the
		# probes below attribute to the command that ran meanwhile.
		"$SMMD_BIN" -v -c "$CAL_DIR/smmd.yaml" --foreground 2>"$CUR/smmd.log" &
		SMMD_PID=$!
		PIDS+=("$SMMD_PID")
		[ -z "$perf" ] || cal_perf_start "$perf"
		deadline=$((t0 + SMM_BENCH_CAL_START_TIMEOUT_S * 1000))
		# Builtins only until the socket exists (no smmctl, date or
		# sleep processes): the bench must not compete with smmd for
		# the machine's two cores.
		until [ -S "$CAL_SOCK" ] &&
			"$SMMCTL_BIN" -s "$CAL_SOCK" status >/dev/null 2>&1; do
			kill -0 "$SMMD_PID" 2>/dev/null || die "calendar: smmd exited during start-up ($label)"
			now=${EPOCHREALTIME/./}
			[ $((now / 1000)) -lt "$deadline" ] ||
				die "calendar: smmd did not answer within $SMM_BENCH_CAL_START_TIMEOUT_S s ($label)"
			read -r -t 0.01 -u "$NAP_FD" _ || true
		done
		now=${EPOCHREALTIME/./}
		READY_MS=$((now / 1000 - t0))
		mach1=$(machine_snap)
		ticks=$(cpu_ticks "$SMMD_PID")
		perf_stop
		CPU_S=$(awk -v t="$ticks" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')
		OTHERS=$(cal_others "$mach0" "$mach1" "$ticks" "$READY_MS")
		HWM_READY=$(proc_kb "$SMMD_PID" VmHWM)
		RSS_READY=$(proc_kb "$SMMD_PID" VmRSS)
		sleep "$SMM_BENCH_CAL_SETTLE_S"
		RSS_SETTLED=$(proc_kb "$SMMD_PID" VmRSS)
		HWM_SETTLED=$(proc_kb "$SMMD_PID" VmHWM)
		calline=$(grep -F " calendar: '$CAL_FILE': " "$CUR/smmd.log" || true)
		START_COUNTS=$(cal_counts "$calline")
		[ -n "$START_COUNTS" ] || die "calendar: smmd did not log the calendar's sync ($label)"
		# Where the time went, by the log's millisecond stamps: store
		# opened and stored schedule loaded, then the calendar read and
		# synced, then the socket opened.
		t_sched=$(cal_log_ms " sched: ")
		t_cal=$(cal_log_ms " calendar: '$CAL_FILE': ")
		t_ready=$(cal_log_ms " ready: ")
		PHASES="exec to stored schedule loaded $((t_sched - t0)) ms, calendar read + synced $((t_cal - t_sched)) ms, committed and listening $((t_ready - t_cal)) ms, first 'status' answered $((t0 + READY_MS - t_ready)) ms later"
		OTHERS_MAX=$(awk -v a="${OTHERS%\%}" -v b="${OTHERS_MAX:-0}" 'BEGIN { print (a > b) ? a : b }')
		loop_turn "$CAL_SOCK"
		START_LOOP="longest loop turn until then $LOOP_MS ms${LOOP_CAUSE:+ ($LOOP_CAUSE)}$(loop_flag "${LOOP_MS:-0}")"
		cp "$CUR/smmd.log" "$CUR/smmd.$label.log"
	}

	# probe_begin / probe_end KEY: the longest loop turn between the
	# two. status's max_turn_ms is a maximum since smmd started, so it
	# shows a command's turn only if that is a new maximum; smmd -v logs
	# every turn over 5 ms, and status counts them (slow_turns): together
	# they give the longest turn of the window, or say none was over 5 ms.
	# probe_end records it as KEY and sets PROBE_TXT.
	probe_begin() {
		PROBE_LINES=$(wc -l <"$CUR/smmd.log")
		loop_turn "$CAL_SOCK"
		PROBE_MAX0=$LOOP_MS PROBE_SLOW0=$LOOP_SLOW
	}
	probe_end() {
		local logged ms cause
		loop_turn "$CAL_SOCK"
		logged=$(tail -n +"$((PROBE_LINES + 1))" "$CUR/smmd.log" |
			awk "$AWK_TURN"'turn($0) { print TURN_MS, TURN_CAUSE }' |
			sort -n -r | head -n 1)
		if [ -z "$LOOP_MS" ]; then
			PROBE_TXT="longest loop turn: n/a (no loop figures in status)"
			return 0
		elif [ "$LOOP_SLOW" = "$PROBE_SLOW0" ]; then
			ms="<5" cause=
		elif awk -v a="$LOOP_MS" -v b="$PROBE_MAX0" 'BEGIN { exit !(a > b) }'; then
			ms=$LOOP_MS cause=$LOOP_CAUSE
		elif [ -n "$logged" ]; then
			ms=${logged%% *} cause=${logged#* }
		else
			ms=">5" cause="at most $PROBE_MAX0 ms, the longest since the start"
		fi
		PROBE_TXT="longest loop turn: $(fig "$1" "$ms" ms)${cause:+ ($cause)}"
		case $ms in
		"<5" | ">5") ;;
		*) PROBE_TXT+=$(loop_flag "$ms") ;;
		esac
	}

	# cal_reload: "smmctl reload", timed from exec to exit; sets
	# RELOAD_MS, RELOAD_CPU_S (smmd's CPU time meanwhile, all threads)
	# and RELOAD_COUNTS ("A U C N M").
	cal_reload() {
		local t0 t0_ticks reply
		t0_ticks=$(cpu_ticks "$SMMD_PID")
		t0=$(now_ms)
		reply=$("$SMMCTL_BIN" -s "$CAL_SOCK" reload 2>&1) ||
			die "calendar: smmctl reload failed: $reply"
		RELOAD_MS=$(($(now_ms) - t0))
		RELOAD_CPU_S=$(awk -v a="$t0_ticks" -v b="$(cpu_ticks "$SMMD_PID")" -v hz="$HZ" \
			'BEGIN { printf "%.2f", (b - a) / hz }')
		RELOAD_COUNTS=$(cal_counts "$(grep '^calendar: ' <<<"$reply" || true)")
		[ -n "$RELOAD_COUNTS" ] || die "calendar: unexpected reply to smmctl reload: $reply"
	}

	# read_probe KEY ARGS...: "smmctl ARGS", timed, and the longest loop
	# turn meanwhile, into the report (figures e.read.KEY.*).
	read_probe() {
		local key=$1 t0 ms rc=0
		shift
		progress "calendar: smmctl $*"
		probe_begin
		t0=$(now_ms)
		"$SMMCTL_BIN" -s "$CAL_SOCK" "$@" >"$CUR/read.$key.out" 2>&1 || rc=$?
		ms=$(($(now_ms) - t0))
		probe_end "e.read.$key.loop.max"
		out "    smmctl $*: $(fig "e.read.$key.ms" "$ms" ms), $(wc -c <"$CUR/read.$key.out") bytes out$([ "$rc" -eq 0 ] || echo ", EXIT STATUS $rc: $(head -c 200 "$CUR/read.$key.out")"); $PROBE_TXT"
	}

	# reloads_logged: how many reloads smmd has applied (or refused), and
	# how many times its watch found the calendar as the last reload left
	# it (logged with -v).
	CAL_UNCHANGED="calendar: files unchanged since the last reload"
	RE_RELOADS=" reload: (calendar '|.* has errors)| $CAL_UNCHANGED"
	reloads_logged() {
		grep -cE "$RE_RELOADS" "$CUR/smmd.log" || true
	}

	# wait_reloads N: until smmd has logged N reloads (30 s at most).
	wait_reloads() {
		local deadline=$(($(now_ms) + 30000))
		while [ "$(reloads_logged)" -lt "$1" ]; do
			[ "$(now_ms)" -lt "$deadline" ] || return 1
			sleep 0.02
		done
	}

	# cal_edit POST K: the text of post POST (a number) becomes its K-th
	# edit, saved as an editor does: a new file renamed over the old.
	cal_edit() {
		awk -v id="$1" -v k="$2" '
			BEGIN { pre = "    text: \"Post " id " " }
			index($0, pre) == 1 {
				rest = substr($0, length(pre) + 1)
				sub(/^\(edit [0-9]+\) /, "", rest)
				$0 = pre "(edit " k ") " rest
				n++
			}
			{ print }
			END { exit n != 1 }' "$CAL_FILE" >"$CUR/calendar.edit" ||
			die "calendar: post $1 has no text line to edit"
		mv -f "$CUR/calendar.edit" "$CAL_FILE"
	}

	FIG_CTX="posts=$SMM_BENCH_CAL_POSTS channels=$SMM_BENCH_CAL_CHANNELS recurring=$SMM_BENCH_CAL_RECURRING"
	out "(e) Calendar: $SMM_BENCH_CAL_POSTS posts over $SMM_BENCH_CAL_CHANNELS webhook channels"
	read -r LOAD1 LOAD5 _ </proc/loadavg
	out "  load average before: $LOAD1 (1 min), $LOAD5 (5 min)"
	start_sink "$CUR" --log "$CUR/sink.log"
	CAL_START_DAY=$(date -u -d tomorrow +%F)
	progress "calendar: generating $SMM_BENCH_CAL_POSTS posts"
	t0=$(now_ms)
	sh "$SMM_TOP_SRCDIR/tests/bench/gen-calendar.sh" -n "$SMM_BENCH_CAL_POSTS" \
		-c "$SMM_BENCH_CAL_CHANNELS" -r "$SMM_BENCH_CAL_RECURRING" \
		-s "$CAL_START_DAY" -u "http://127.0.0.1:$SINK_PORT/hook" "$CAL_DIR" \
		2>"$CUR/gen.err" || die "gen-calendar.sh failed: $(cat "$CUR/gen.err")"
	GEN_MS=$(($(now_ms) - t0))
	"$SMMD_BIN" --check-config -c "$CAL_DIR/smmd.yaml" >"$CUR/check.out" 2>&1 ||
		die "calendar: the generated calendar does not validate: $(head -n 5 "$CUR/check.out")"
	out "  generated in $GEN_MS ms: calendar.yaml $(awk '{ printf "%.1f MB", $1 / 1e6 }' <<<"$(stat -c %s "$CAL_FILE")"), $(grep -c '^  - id: ' "$CAL_FILE") posts ($(grep -c '^    rrule: ' "$CAL_FILE") weekly rrules, $(grep -c '^    variants:' "$CAL_FILE") with a variant), due at 08:00-20:00 Europe/Madrid over the 30 days from $CAL_START_DAY: nothing falls due during the bench; each channel posts to the sink's /hook/cNNNN (checked at the end: no request)"
	out "  smmd.yaml: $SMM_BENCH_CAL_CHANNELS channels, default horizon (14 days) and catch_up (15m); state dir on $(df -T "$CUR" | awk 'NR == 2 { print $2 }')"
	CALBENCH_BIN=$SMM_TOP_BUILDDIR/tests/bench/calbench
	if [ -x "$CALBENCH_BIN" ]; then
		"$CALBENCH_BIN" "$CAL_DIR/smmd.yaml" "$CAL_FILE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
			>"$CUR/calbench.out" 2>&1 || die "calbench failed: $(cat "$CUR/calbench.out")"
		out "  parse and expansion alone (calbench, no store, one thread):"
		sed 's/^calbench: /    /' "$CUR/calbench.out" | tee -a "$REPORT"
	else
		out "  (calbench is not built: 'make tests/bench/calbench' adds the parse-only cost)"
	fi

	# (1) first start, empty state dir: every delivery inserted.
	NRUNS=$SMM_BENCH_CAL_RUNS
	[ "$SMM_BENCH_PERF" != 1 ] || NRUNS=$((NRUNS + 1))
	OTHERS_MAX=0
	FIRST_MS=() FIRST_HWM=() FIRST_RSS=()
	out "  first start, empty state dir: exec of smmd -> the socket answers 'smmctl status' (polled every 10 ms):"
	for run in $(seq 1 "$NRUNS"); do
		rm -rf "$CAL_DIR/state"
		perf=
		if [ "$run" -gt "$SMM_BENCH_CAL_RUNS" ]; then perf=first; fi
		read -r LOAD1 _ </proc/loadavg
		progress "calendar: first start, run $run${perf:+ (profiled)}"
		cal_start "first$run" "$perf"
		read -r A U C N M <<<"$START_COUNTS"
		{ [ "$U$C$N$M" = 0000 ] && [ "$A" -gt 0 ]; } ||
			die "calendar: a first start should only add, it logged: $START_COUNTS"
		if [ -z "${CAL_N:-}" ]; then CAL_N=$A; fi
		[ "$A" -eq "$CAL_N" ] || die "calendar: first start added $A deliveries, an earlier one $CAL_N"
		out "    run $run${perf:+ (perf attached, not counted)}: $READY_MS ms ($PHASES); $A added; smmd CPU $CPU_S s; the rest of the machine meanwhile $OTHERS of a core (load $LOAD1); VmHWM $HWM_READY kB at ready; VmRSS $RSS_READY kB at ready, $RSS_SETTLED kB ${SMM_BENCH_CAL_SETTLE_S} s later (VmHWM then $HWM_SETTLED kB); $START_LOOP"
		if [ -z "$perf" ]; then
			FIRST_MS+=("$READY_MS")
			FIRST_HWM+=("$HWM_SETTLED")
			FIRST_RSS+=("$RSS_SETTLED")
		fi
		stop_smmd
	done
	out "    $CAL_N deliveries (posts x channels, recurrences over the horizon); $(du -sm "$CAL_DIR/state" | cut -f1) MB state dir after it"
	read -r FIRST_MIN FIRST_MED FIRST_MAX < <(stats "${FIRST_MS[@]}")
	read -r _ _ FIRST_HWM_MAX < <(stats "${FIRST_HWM[@]}")
	read -r _ _ FIRST_RSS_MAX < <(stats "${FIRST_RSS[@]}")
	cal_perf_report first "the first start (empty state dir)"

	# (1') restart, store populated: the diff finds everything unchanged.
	RE_MS=() RE_HWM=() RE_RSS=()
	out "  restart, store populated: exec of smmd -> the socket answers:"
	for run in $(seq 1 "$NRUNS"); do
		perf=
		if [ "$run" -gt "$SMM_BENCH_CAL_RUNS" ]; then perf=restart; fi
		read -r LOAD1 _ </proc/loadavg
		progress "calendar: restart, run $run${perf:+ (profiled)}"
		cal_start "restart$run" "$perf"
		read -r A U C N M <<<"$START_COUNTS"
		{ [ "$A$U$C$M" = 0000 ] && [ "$N" -eq "$CAL_N" ]; } ||
			die "calendar: a restart should find all $CAL_N unchanged, it logged: $START_COUNTS"
		out "    run $run${perf:+ (perf attached, not counted)}: $READY_MS ms ($PHASES); $N unchanged; smmd CPU $CPU_S s; the rest of the machine $OTHERS of a core (load $LOAD1); VmHWM $HWM_READY kB at ready; VmRSS $RSS_READY kB at ready, $RSS_SETTLED kB ${SMM_BENCH_CAL_SETTLE_S} s later (VmHWM then $HWM_SETTLED kB); $START_LOOP"
		if [ -z "$perf" ]; then
			RE_MS+=("$READY_MS")
			RE_HWM+=("$HWM_SETTLED")
			RE_RSS+=("$RSS_SETTLED")
		fi
		[ "$run" -eq "$NRUNS" ] || stop_smmd
	done
	read -r RE_MIN RE_MED RE_MAX < <(stats "${RE_MS[@]}")
	read -r _ _ RE_HWM_MAX < <(stats "${RE_HWM[@]}")
	read -r _ _ RE_RSS_MAX < <(stats "${RE_RSS[@]}")
	cal_perf_report restart "the restart (store populated)"

	# (3) reloads on the last restart's smmd.
	NOOP_MS=()
	out "  reload, no change: 'smmctl reload', exec to exit (it answers once the diff is applied):"
	for run in $(seq 1 "$SMM_BENCH_CAL_RUNS"); do
		progress "calendar: reload with no change, run $run"
		probe_begin
		cal_reload
		probe_end "e.reload_noop.$run.loop.max"
		[ "$RELOAD_COUNTS" = "0 0 0 $CAL_N 0" ] ||
			die "calendar: a reload with no change said (added updated cancelled unchanged missed) $RELOAD_COUNTS"
		out "    run $run: $RELOAD_MS ms, smmd CPU $RELOAD_CPU_S s (all threads) -> 0 added, 0 updated, 0 cancelled, $CAL_N unchanged, 0 missed (checked); VmRSS after it $(proc_kb "$SMMD_PID" VmRSS) kB; $PROBE_TXT"
		NOOP_MS+=("$RELOAD_MS")
	done
	read -r NOOP_MIN NOOP_MED NOOP_MAX < <(stats "${NOOP_MS[@]}")

	# Posts with one channel, no variant and no rrule: editing their text
	# changes exactly one delivery.
	awk '/^  - id: post-/ { if (id != "" && ok) print id; id = substr($3, 6) + 0; ok = 1; next }
	     /^    (rrule|variants):/ { ok = 0 }
	     /^    channels: \[.*,/ { ok = 0 }
	     END { if (id != "" && ok) print id }' "$CAL_FILE" >"$CUR/editable.txt"
	NEDIT=$(wc -l <"$CUR/editable.txt")
	[ "$NEDIT" -gt $((SMM_BENCH_CAL_RUNS + 3)) ] || die "calendar: too few single-channel posts to edit"
	edit_post() { sed -n "$((NEDIT / 2 + $1))p" "$CUR/editable.txt"; }
	ONE_MS=()
	out "  reload after one post's text was edited (the file renamed over, then at once 'smmctl reload'; smmd's own watch looks again 300 ms after the rename, waited out before the next run):"
	for run in $(seq 1 "$NRUNS"); do
		post=$(edit_post "$run")
		perf=
		if [ "$run" -gt "$SMM_BENCH_CAL_RUNS" ]; then perf=reload; fi
		progress "calendar: reload after editing post $post, run $run${perf:+ (profiled)}"
		[ -z "$perf" ] || cal_perf_start "$perf"
		before=$(reloads_logged)
		probe_begin
		cal_edit "$post" "$run"
		cal_reload
		perf_stop
		[ "$RELOAD_COUNTS" = "0 1 0 $((CAL_N - 1)) 0" ] ||
			die "calendar: editing post-$(printf '%06d' "$post") and reloading said (added updated cancelled unchanged missed) $RELOAD_COUNTS, not 0 1 0 $((CAL_N - 1)) 0"
		follow=
		if wait_reloads $((before + 2)) &&
			grep -E "$RE_RELOADS" "$CUR/smmd.log" | tail -n 1 | grep -qF "$CAL_UNCHANGED"; then
			follow="; smmd's watch then found the files unchanged since that reload: no second one"
		elif [ "$(reloads_logged)" -ge $((before + 2)) ]; then
			t_a=$(grep -F " reload: the calendar files changed" "$CUR/smmd.log" | tail -n 1 | cut -d' ' -f1)
			t_b=$(grep -F " reload: calendar '" "$CUR/smmd.log" | tail -n 1 | cut -d' ' -f1)
			follow="; the watch's follow-up reload: $(($(date -u -d "$t_b" +%s%3N) - $(date -u -d "$t_a" +%s%3N))) ms from its start to applied, $(cal_counts "$(grep -F " reload: calendar '" "$CUR/smmd.log" | tail -n 1)" | awk '{ print $2 }') updated"
		else
			follow="; (no follow-up reload by the watch within 30 s)"
		fi
		probe_end "e.reload_one.$run.loop.max"
		out "    run $run${perf:+ (perf attached, not counted)}: post-$(printf '%06d' "$post"): $RELOAD_MS ms, smmd CPU $RELOAD_CPU_S s -> 0 added, 1 updated, 0 cancelled, $((CAL_N - 1)) unchanged, 0 missed (checked)$follow; both reloads' $PROBE_TXT"
		[ -n "$perf" ] || ONE_MS+=("$RELOAD_MS")
	done
	read -r ONE_MIN ONE_MED ONE_MAX < <(stats "${ONE_MS[@]}")
	cal_perf_report reload "a one-post reload"

	# The watch alone: an edit and no smmctl.
	post=$(edit_post $((NRUNS + 1)))
	before=$(reloads_logged)
	cal_edit "$post" 99
	t0=$(now_ms)
	if wait_reloads $((before + 1)); then
		line=$(grep -F " reload: calendar '" "$CUR/smmd.log" | tail -n 1)
		WATCH_MS=$(($(date -u -d "${line%% *}" +%s%3N) - t0))
		out "  the edit of post-$(printf '%06d' "$post") alone, no smmctl: applied by smmd's watch $WATCH_MS ms after the rename (debounce 300 ms): $(cal_counts "$line" | awk '{ printf "%s added, %s updated, %s cancelled, %s unchanged, %s missed", $1, $2, $3, $4, $5 }')"
	else
		out "  the edit of post-$(printf '%06d' "$post") alone: smmd's watch did not reload within 30 s"
	fi

	# The reads on this big store, one at a time, and the longest loop
	# turn each caused: a read done on the loop delays every post due
	# meanwhile.
	CAL_END_DAY=$(date -u -d "$CAL_START_DAY +30 days" +%F)
	out "  reads of this store ($CAL_N deliveries), each timed from exec of smmctl to its exit, with the longest loop turn it caused:"
	read_probe list list
	read_probe list_json list --json
	read_probe calendar calendar --from "$CAL_START_DAY" --to "$CAL_END_DAY"
	read_probe export_csv export --csv --from "$CAL_START_DAY" --to "$CAL_END_DAY"
	read_probe plan_check plan check
	read_probe report report --json --since "$CAL_START_DAY" --until "$CAL_END_DAY"
	read_probe stats stats --since "$CAL_START_DAY" --until "$CAL_END_DAY"
	read_probe goals goals
	loop_turn "$CAL_SOCK"
	out "  $(loop_line e.loop.max "$LOOP_MS" "$LOOP_CAUSE") (since the last restart: its start, the reloads and the reads above)"
	CAL_LOOP=$LOOP_MS

	sleep "$SMM_BENCH_CAL_SETTLE_S"
	AFTER_HWM=$(proc_kb "$SMMD_PID" VmHWM)
	AFTER_RSS=$(proc_kb "$SMMD_PID" VmRSS)
	out "  after those $((SMM_BENCH_CAL_RUNS + NRUNS + 1 + NRUNS)) reloads (counting the watch's): VmHWM $AFTER_HWM kB, VmRSS $AFTER_RSS kB; smmd has $(awk '$1 == "Threads:" { print $2 }' "/proc/$SMMD_PID/status") threads (the loop and libuv's pool, where reloads parse)"
	STATUS_COUNTS=$("$SMMCTL_BIN" -s "$CAL_SOCK" status --json | jq -c .counts)
	out "  smmd status at the end: $STATUS_COUNTS"
	cp "$CUR/smmd.log" "$CUR/smmd.reloads.log"
	log_summary "$CUR"
	stop_smmd
	out "  stopped with SIGTERM: exit 0 in $STOP_MS ms"
	stop_pid "$SINK_PID"
	[ ! -s "$CUR/sink.log" ] ||
		die "calendar: $(wc -l <"$CUR/sink.log") requests reached the sink: something fell due during the bench"

	MiB=1024
	V_FIRST=$(under "$FIRST_MED" 2000)
	V_RE=$(under "$RE_MED" 2000)
	V_ONE=$(under "$ONE_MED" 1000)
	V_HWM_FIRST=$(under "$FIRST_HWM_MAX" $((128 * MiB)))
	V_HWM_RE=$(under "$RE_HWM_MAX" $((128 * MiB)))
	V_HWM_AFTER=$(under "$AFTER_HWM" $((128 * MiB)))
	V_RSS_FIRST=$(under "$FIRST_RSS_MAX" $((64 * MiB)))
	V_RSS_RE=$(under "$RE_RSS_MAX" $((64 * MiB)))
	V_RSS_AFTER=$(under "$AFTER_RSS" $((64 * MiB)))
	CAL_SUMMARY=(
		"(e) calendar, $SMM_BENCH_CAL_POSTS posts / $SMM_BENCH_CAL_CHANNELS channels / $CAL_N deliveries (median of $SMM_BENCH_CAL_RUNS runs, min..max in brackets):"
		"    ready, first start (empty state dir): $(fig e.first.ms "$FIRST_MED" ms) [$FIRST_MIN..$FIRST_MAX] (target < 2 s): $V_FIRST"
		"    ready, restart (store populated):     $(fig e.restart.ms "$RE_MED" ms) [$RE_MIN..$RE_MAX] (target < 2 s): $V_RE"
		"    reload, one post edited:              $(fig e.reload_one.ms "$ONE_MED" ms) [$ONE_MIN..$ONE_MAX] (target < 1 s): $V_ONE"
		"    reload, no change:                    $(fig e.reload_noop.ms "$NOOP_MED" ms) [$NOOP_MIN..$NOOP_MAX] (no target of its own)"
		"    peak RSS (VmHWM, target < 128 MiB): first start $(fig e.first.hwm "$FIRST_HWM_MAX" kB) $V_HWM_FIRST; restart $(fig e.restart.hwm "$RE_HWM_MAX" kB) $V_HWM_RE; after the reloads $(fig e.after.hwm "$AFTER_HWM" kB) $V_HWM_AFTER"
		"    RSS once loaded (VmRSS ${SMM_BENCH_CAL_SETTLE_S} s after, target < 64 MiB): first start $(fig e.first.rss "$FIRST_RSS_MAX" kB) $V_RSS_FIRST; restart $(fig e.restart.rss "$RE_RSS_MAX" kB) $V_RSS_RE; after the reloads $(fig e.after.rss "$AFTER_RSS" kB) $V_RSS_AFTER"
		"    longest loop turn since the restart (reloads and reads included): ${CAL_LOOP:-n/a} ms$(loop_flag "${CAL_LOOP:-0}")"
	)
	read -r LOAD1 LOAD5 _ </proc/loadavg
	out "  load average after: $LOAD1 (1 min), $LOAD5 (5 min); the rest of the machine used up to $OTHERS_MAX% of a core during a start (the bench's own polling included)"
	if [ "$OTHERS_MAX" -gt 50 ]; then
		out "  WARNING: other work took more than half a core during a start: the times are disturbed; rerun when the machine is quieter"
	fi
	out "  targets:"
	for line in "${CAL_SUMMARY[@]:1}"; do
		out "  $line"
	done
	out ""
	CUR=
fi

# ---------------------------------------------------------------------------
out "Summary"
if want punctuality; then
	out "  (a) punctuality p99 $PUNCT_P99 ms (target <= 1 ms): $PUNCT_VERDICT; $(floor_txt "$PUNCT_P99" "$PUNCT_MAX") (at the sink, tmpfs)"
	out "      longest loop turn ${PUNCT_LOOP:-n/a} ms$(loop_flag "${PUNCT_LOOP:-0}"), while posts were due $(fig_get a.loop.due_max) ms"
	[ -z "${DISK_P99_MED:-}" ] ||
		out "      on disk, $SMM_BENCH_DISK_REPS runs: median p99 at smmd $DISK_P99_MED ms, worst $DISK_WORST ms; longest loop turn $DISK_LOOP_MAX ms$(loop_flag "$DISK_LOOP_MAX"), while posts were due, run by run: $(for i in $(seq 1 "$SMM_BENCH_DISK_REPS"); do printf '%s ' "$(fig_get "disk.$i.loop.due_max")"; done)ms"
fi
if want burst; then
	out "  (b) burst $RATE_SPAN deliveries/s first-to-last, $RATE_DUE/s from the due instant; sink plain GET $(printf '%.0f' "${WRK_GET:-0}")/s -> $BURST_PCT% (target >= 50%): $BURST_VERDICT"
	out "      = $BURST_CEIL_PCT% of curlbench $(fig_fmt "${CURL_RATE:-?}" /s); longest loop turn ${BURST_LOOP:-n/a} ms$(loop_flag "${BURST_LOOP:-0}"), while posts were due $(fig_get b.loop.due_max) ms"
fi
if want punctuality || want burst || want channels; then
	out "  (c) smmd peak RSS:${PUNCT_HWM:+ punctuality $PUNCT_HWM kB}${BURST_HWM:+ burst $BURST_HWM kB}${CHAN_HWM:+ channels $CHAN_HWM kB}"
fi
if want channels; then
	out "  (d) channels burst $CHAN_RATE_SPAN deliveries/s first-to-last, $CHAN_RATE_DUE/s from the due instant -> $CHAN_PCT% of the sink's plain rate (target >= 70%): $CHAN_VERDICT"
	out "      steady stream during the burst ($STEADY_DURING_N posts): p50 $STEADY_P50, p99 $STEADY_P99, max $STEADY_MAX ms (target p99 < 20 ms): $STEADY_VERDICT"
	out "      = $CHAN_CEIL_PCT% of curlbench over $SMM_BENCH_CHAN_N URLs $(fig_fmt "${CURL_CHAN_RATE:-?}" /s); longest loop turn ${CHAN_LOOP:-n/a} ms$(loop_flag "${CHAN_LOOP:-0}"), while posts were due $(fig_get d.loop.due_max) ms"
fi
if want calendar; then
	for line in "${CAL_SUMMARY[@]}"; do
		out "  $line"
	done
fi
out "  Issue 14's targets:"
if want punctuality && [ "$SMM_BENCH_DISK_REPS" -gt 0 ]; then
	out "    $(verdict "$DISK_PASS == $SMM_BENCH_DISK_REPS && $SMM_BENCH_DISK_REPS >= 5"): (a) on disk, every one of 5 runs p99 <= 1 ms and max <= 10 ms at smmd and at the sink: $DISK_PASS of $SMM_BENCH_DISK_REPS runs did"
elif want punctuality; then
	out "    n/a: (a) on disk: SMM_BENCH_DISK_REPS=0"
fi
if want burst; then
	out "    $BURST_CEIL_VERDICT: (b) burst >= 70% of curlbench: $(fig_fmt "$RATE_SPAN" /s) = $BURST_CEIL_PCT% of $(fig_fmt "${CURL_RATE:-?}" /s)"
fi
if want channels; then
	out "    $CHAN_CEIL_VERDICT: (d) $SMM_BENCH_CHAN_N-channel burst >= 50% of curlbench over $SMM_BENCH_CHAN_N URLs: $(fig_fmt "$CHAN_RATE_SPAN" /s) = $CHAN_CEIL_PCT% of $(fig_fmt "${CURL_CHAN_RATE:-?}" /s)"
fi
LOOP_WORST=
for v in "${PUNCT_LOOP:-}" "${DISK_LOOP_MAX:-}" "${BURST_LOOP:-}" "${CHAN_LOOP:-}" "${CAL_LOOP:-}"; do
	[ -n "$v" ] || continue
	LOOP_WORST=$(awk -v a="${LOOP_WORST:-0}" -v b="$v" 'BEGIN { print (b > a) ? b : a }')
done
[ -z "$LOOP_WORST" ] ||
	out "    $(verdict "$LOOP_WORST <= 5"): no loop turn over 5 ms in any scenario: the longest was $LOOP_WORST ms"
out "  figures: $FIG_FILE (the previous run's: $FIG_PREV)"
CUR=

cp "$REPORT" "$RESULTS_DIR/$LATEST.tmp"
mv "$RESULTS_DIR/$LATEST.tmp" "$RESULTS_DIR/$LATEST"
progress "report written to $RESULTS_DIR/$LATEST"
