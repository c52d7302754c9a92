# shellcheck shell=bash
# shellcheck disable=SC2034,SC2153 # READY_MS, EXEC_MS, SOCK...: for the caller; NAME: from it
# Shared by tests/bench/scale.sh and tests/bench/idle.sh (sourced, not
# run): a sink, smmd on a state directory of its own, posts queued through
# ONE control connection, /proc readings. The caller sets BLD (the build
# directory), T (its temporary directory) and NAME (for messages), and
# calls scale_cleanup from its EXIT trap. lib.sh (sourced here) keeps
# each headline figure beside the previous run's.

# shellcheck source=tests/bench/lib.sh
. "$SRC/tests/bench/lib.sh"
SMMD=$BLD/daemon/smmd
SMMCTL=$BLD/client/smmctl
SINK=$BLD/tests/sink/smm-sink
PIDS=()
SMMD_PID=
SINK_PID=

progress() {
	printf '%s bench: %s\n' "$NAME" "$*" >&2
}

die() {
	printf '%s bench: FAIL: %s\n' "$NAME" "$*" >&2
	if [ -s "$T/smmd.log" ]; then
		tail -n 5 "$T/smmd.log" >&2
	fi
	exit 1
}

now_ms() {
	date +%s%3N
}

scale_require() {
	local b tool
	for b in "$SMMD" "$SMMCTL" "$SINK"; do
		[ -x "$b" ] || die "$b is not built (make bench builds it)"
	done
	for tool in jq socat awk; do
		command -v "$tool" >/dev/null ||
			die "$tool is not installed (apt-get install -y $tool)"
	done
}

# Stop what we started, by PID only.
scale_cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "${SMM_BENCH_KEEP:-0}" = 1 ]; then
		progress "kept $T"
	else
		rm -rf "$T"
	fi
}

forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=(${keep[@]+"${keep[@]}"})
}

# start_sink: SINK_PID and SINK_PORT; every request logged to $T/sink.log.
start_sink() {
	local deadline=$(($(now_ms) + 10000))
	"$SINK" --port 0 --port-file "$T/sink.port" --log "$T/sink.log" \
		>"$T/sink.out" 2>&1 &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	until [ -s "$T/sink.port" ]; do
		kill -0 "$SINK_PID" 2>/dev/null || die "smm-sink exited: $(cat "$T/sink.out")"
		[ "$(now_ms)" -lt "$deadline" ] || die "smm-sink wrote no port file"
		sleep 0.02
	done
	SINK_PORT=$(cat "$T/sink.port")
}

# write_config NCHANNELS: webhook channels c00.. to the sink's /hook/cNN.
write_config() {
	local i
	{
		printf 'state_dir: %s/state\nsocket: %s/run/smmd.sock\n' "$T" "$T"
		printf 'max_in_flight: 256\nchannels:\n'
		for i in $(seq 0 $(($1 - 1))); do
			printf '  c%02d:\n    publisher: webhook\n' "$i"
			printf '    url: http://127.0.0.1:%s/hook/c%02d\n' "$SINK_PORT" "$i"
			printf '    max_in_flight: 64\n'
		done
	} >"$T/smmd.yaml"
	SOCK=$T/run/smmd.sock
	NCHAN=$1
}

# start_smmd: SMMD_PID, and READY_MS from exec to the first answer to
# "smmctl status" (polled every 10 ms); EXEC_MS: when it was started.
start_smmd() {
	local t0 deadline
	t0=$(date +%s%N)
	EXEC_MS=$((t0 / 1000000))
	"$SMMD" -c "$T/smmd.yaml" --foreground 2>>"$T/smmd.log" &
	SMMD_PID=$!
	PIDS+=("$SMMD_PID")
	deadline=$(($(now_ms) + ${SMM_BENCH_START_TIMEOUT_S:-300} * 1000))
	until "$SMMCTL" -s "$SOCK" status >/dev/null 2>&1; do
		kill -0 "$SMMD_PID" 2>/dev/null || die "smmd exited during start-up"
		[ "$(now_ms)" -lt "$deadline" ] || die "smmd did not answer in time"
		sleep 0.01
	done
	READY_MS=$((($(date +%s%N) - t0) / 1000000))
}

stop_smmd() {
	local rc=0
	kill -TERM "$SMMD_PID" || die "smmd is already gone"
	wait "$SMMD_PID" || rc=$?
	forget_pid "$SMMD_PID"
	[ "$rc" -eq 0 ] || die "smmd exited with status $rc after SIGTERM"
	SMMD_PID=
}

# log_ms PATTERN: the time of smmd's last log line matching PATTERN (ms).
log_ms() {
	date -u -d "$(grep -F -- "$1" "$T/smmd.log" | tail -n 1 | cut -d' ' -f1)" +%s%3N
}

# proc_kb PID FIELD: a "kB" line of /proc/PID/status.
proc_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# iso MS: RFC 3339 UTC with milliseconds.
iso() {
	date -u -d "@$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ
}

# gen_adds FIRST N AT_ISO PER: add requests b-FIRST.. (ids FIRST..), each
# a post on PER channels (c00.. cycling) at AT_ISO, one a line.
gen_adds() {
	awk -v first="$1" -v n="$2" -v at="$3" -v per="$4" -v nchan="$NCHAN" 'BEGIN {
		for (i = first; i < first + n; i++) {
			ch = ""
			for (k = 0; k < per; k++)
				ch = ch sprintf("%s\"c%02d\"", k ? "," : "", (i + k) % nchan)
			printf "{\"id\":%d,\"cmd\":\"add\",\"args\":{\"channels\":[%s]," \
			       "\"text\":\"scale %d\",\"id\":\"s-%d\",\"at\":\"%s\"}}\n",
			       i, ch, i, i, at
		}
	}'
}

# converse REQUESTS: hello, then every line of REQUESTS through ONE control
# connection, kept open until every reply is in (smmd drops replies owed
# to a peer that hung up); each must be ok.
converse() {
	local req=$1 want fifo soc_pid fd bad
	want=$(($(wc -l <"$req") + 1))
	fifo=$T/ctl.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	socat -t 5 - "UNIX-CONNECT:$SOCK" <"$fifo" >"$T/replies" 2>"$T/socat.err" &
	soc_pid=$!
	PIDS+=("$soc_pid")
	exec {fd}>"$fifo"
	echo '{"id":0,"cmd":"hello","args":{"protocol":1,"client":"smm-bench"}}' >&"$fd"
	cat "$req" >&"$fd"
	while [ "$(wc -l <"$T/replies")" -lt "$want" ]; do
		kill -0 "$soc_pid" 2>/dev/null || break
		kill -0 "$SMMD_PID" 2>/dev/null || break
		sleep 0.05
	done
	exec {fd}>&-
	wait "$soc_pid" 2>/dev/null
	forget_pid "$soc_pid"
	rm -f "$fifo"
	[ "$(wc -l <"$T/replies")" -ge "$want" ] ||
		die "only $(wc -l <"$T/replies") of $want replies arrived: $(cat "$T/socat.err")"
	bad=$(grep -vc '"ok": *true' "$T/replies" || true)
	[ "$bad" -eq 0 ] || die "$bad requests failed, e.g. $(grep -v '"ok": *true' "$T/replies" | head -n 1)"
}

# queue NPOSTS AT_MS PER: NPOSTS posts on PER channels each, due at AT_MS,
# 2,000 a connection (smmd answers a pipelined batch in one go, and drops
# a client once 16 MiB of replies wait for it: 10,000 adds on 20 channels
# pass that); ids continue from the last call's.
NEXT_ID=1
queue() {
	local left=$1 at per=$3 b
	at=$(iso "$2")
	while [ "$left" -gt 0 ]; do
		b=$((left < 2000 ? left : 2000))
		gen_adds "$NEXT_ID" "$b" "$at" "$per" >"$T/adds.jsonl"
		converse "$T/adds.jsonl"
		NEXT_ID=$((NEXT_ID + b))
		left=$((left - b))
	done
}

# smmd_turns: the loop's iterations so far (status: loop.turns).
smmd_turns() {
	"$SMMCTL" -s "$SOCK" status --json | jq -r .loop.turns
}

# cpu_ticks PID: user + system clock ticks of every thread so far.
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat")
	stat=${stat##*) }
	# shellcheck disable=SC2086 # split the fields on purpose
	set -- $stat
	echo $((${12} + ${13}))
}

# ctx_switches PID: voluntary + involuntary context switches, all threads.
ctx_switches() {
	cat /proc/"$1"/task/*/status | awk '
		$1 == "voluntary_ctxt_switches:" || $1 == "nonvoluntary_ctxt_switches:" { n += $2 }
		END { print n + 0 }'
}
