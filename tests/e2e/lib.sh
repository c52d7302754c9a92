# shellcheck shell=bash
#
# Shared helpers for the end-to-end tests: each test sources this file, gets
# a private temporary directory, starts its own smm-sink and smmd on a private
# socket and state directory, and everything it started is killed and the
# directory removed when the test exits, whether it passed or not.
#
# Automake exports SMM_TOP_SRCDIR and SMM_TOP_BUILDDIR; run by hand, they
# default to this checkout and its build/ directory. Exit codes follow
# automake: 0 pass, 1 fail, 77 skip. SMM_E2E_KEEP=1 keeps the directory.

set -eEu
export LC_ALL=C

E2E_NAME=$(basename "$0" .sh)
: "${SMM_TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMM_TOP_BUILDDIR:=$SMM_TOP_SRCDIR/build}"
SMMD_BIN=$SMM_TOP_BUILDDIR/daemon/smmd
SMMCTL_BIN=$SMM_TOP_BUILDDIR/client/smmctl
SINK_BIN=$SMM_TOP_BUILDDIR/tests/sink/smm-sink

# Seconds smmd may take to answer its socket (sanitizer builds are slow).
: "${SMM_E2E_START_TIMEOUT:=10}"

# Processes to kill at exit; a process is dropped from the list once it
# has been reaped, so a recycled pid is never signalled.
E2E_PIDS=()
E2E_SINK_PIDS=()
E2E_FAILED=0
E2E_SKIPPED=0
E2E_ERR_LINE=
E2E_ERR_CMD=

log() {
	printf '%s: %s\n' "$E2E_NAME" "$*" >&2
}

skip() {
	log "SKIP: $*"
	E2E_SKIPPED=1
	exit 77
}

# Print the message and the end of every log of this test, then exit 1.
fail() {
	E2E_FAILED=1
	log "FAIL: $*"
	e2e_diagnostics
	exit 1
}

# A crash report (fatalsig.c) in log FILE: its stack's offsets in smmd,
# named by addr2line against this build, function and line.
e2e_crash_report() {
	local off
	grep -q '^smmd: crashed: ' "$1" || return 0
	command -v addr2line >/dev/null || return 0
	printf -- '--- the crash report'"'"'s frames in smmd, named ---\n' >&2
	grep -A70 '^smmd: crashed: ' "$1" | grep -Eo 'smmd\(\+0x[0-9a-f]+\)' |
		grep -Eo '0x[0-9a-f]+' | while read -r off; do
		printf '%s %s\n' "$off" "$(addr2line -f -i -C -e "$SMMD_BIN" "$off" | paste -sd ' ')"
	done >&2
}

e2e_diagnostics() {
	local f
	if [ -s "$T/smmd.log" ]; then
		# A sanitizer report is long; show its start, not only the tail.
		if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
			"$T/smmd.log"; then
			printf -- '--- sanitizer report in smmd.log ---\n' >&2
			grep -E -m1 -A30 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
				"$T/smmd.log" >&2
		fi
		printf -- '--- tail of smmd.log ---\n' >&2
		tail -n 40 "$T/smmd.log" >&2
		e2e_crash_report "$T/smmd.log"
	fi
	for f in "$T"/sink*.log; do
		[ -s "$f" ] || continue
		printf -- '--- tail of %s (bodies summarised) ---\n' \
			"$(basename "$f")" >&2
		tail -n 12 "$f" | jq -c '{t_us, method, path, status, action,
			conn, id: ((.body | fromjson? | .id) // null),
			attempt: ((.body | fromjson? | .attempt) // null)}' \
			>&2 2>/dev/null || tail -n 12 "$f" >&2
	done
	printf -- '--- end (temporary directory %s) ---\n' "$T" >&2
}

# Remember the last failing command so an unexpected exit can name it.
e2e_on_err() {
	E2E_ERR_LINE=$1
	E2E_ERR_CMD=$2
}

# Kill every process this test started (TERM, then KILL) and clean up.
e2e_cleanup() {
	local rc=$1 pid st
	trap - EXIT
	set +e
	if [ "$rc" -ne 0 ] && [ "$E2E_FAILED" -eq 0 ] &&
		[ "$E2E_SKIPPED" -eq 0 ]; then
		log "FAIL: exit status $rc after line ${E2E_ERR_LINE:-?}: ${E2E_ERR_CMD:-?}"
		e2e_diagnostics
		rc=1
	fi
	for pid in "${E2E_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${E2E_PIDS[@]}"; do
		for _ in $(seq 1 60); do
			pid_running "$pid" || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null
		st=0
		wait "$pid" 2>/dev/null || st=$?
		# The sink must stop cleanly too (sanitizer builds check leaks).
		if [ "$rc" -eq 0 ] && [ "$st" -ne 0 ] &&
			[[ " ${E2E_SINK_PIDS[*]} " == *" $pid "* ]]; then
			log "FAIL: smm-sink (pid $pid) exited $st on SIGTERM"
			cat "$T"/sink*.out >&2
			rc=1
		fi
	done
	# A test that mounted something under $T takes it down first.
	if declare -F e2e_teardown >/dev/null; then
		e2e_teardown
	fi
	if [ "${SMM_E2E_KEEP:-0}" = 1 ]; then
		log "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}

for tool in jq socat openssl base64 od; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
for bin in "$SMMD_BIN" "$SMMCTL_BIN" "$SINK_BIN"; do
	[ -x "$bin" ] || skip "$bin is not built"
done

# A short directory: a Unix socket path must fit in 108 bytes.
T=$(mktemp -d "/tmp/smm-$E2E_NAME.XXXXXX")
SOCK=$T/run/smmd.sock
CFG=$T/smmd.yaml
SECRET_FILE=$T/secret
SMMD_PID=
SINK_PID=
SINK_PORT=
SINK_LOG=
SINK_N=0
export SMMD_SOCKET=$SOCK
trap 'e2e_cleanup $?' EXIT
trap 'e2e_on_err "$LINENO" "$BASH_COMMAND"' ERR
trap 'exit 1' INT TERM HUP

# A printable secret without a trailing newline: the key is the file's bytes.
# Mode 0600: smmd refuses a signing key that others can read.
(
	umask 077
	printf '%s' "$(openssl rand -hex 24)" >"$SECRET_FILE"
)

# Forget a reaped child: it is no longer ours to kill.
e2e_forget() {
	local keep=() p
	for p in "${E2E_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	E2E_PIDS=(${keep[@]+"${keep[@]}"})
}

now_ms() {
	date +%s%3N
}

# sleep_until MS: back at the instant MS (ms since the epoch), in one
# sleep: a loop of short sleeps forks two processes each time round, and
# on a 2-core machine that load is in what a benchmark measures.
sleep_until() {
	local left=$(($1 - $(now_ms)))
	[ "$left" -gt 0 ] || return 0
	sleep "$((left / 1000)).$(printf %03d $((left % 1000)))"
}

# "2026-11-22T10:00:00.000Z" -> milliseconds since the epoch.
iso_to_ms() {
	date -u -d "$1" +%s%3N
}

# Milliseconds since the epoch -> "2026-11-22T10:00:00.000Z".
ms_to_iso() {
	date -u -d "@$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))" \
		+%Y-%m-%dT%H:%M:%S.%3NZ
}

# ms_to_iso_each: ms_to_iso of each line of stdin, in one date process
# (a date each is a fork each: 15 ms apiece on a loaded 2-core machine).
ms_to_iso_each() {
	awk '{ printf "@%d.%03d\n", int($1 / 1000), $1 % 1000 }' |
		date -u -f - +%Y-%m-%dT%H:%M:%S.%3NZ
}

# Milliseconds since the epoch -> "2026-11-22T10:00:00Z", whole seconds,
# as a calendar writes an instant.
ms_to_iso_s() {
	date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%SZ
}

# no_write_refused LOG...: no node had a write refused and none started
# afresh in place (a cluster's conflict), but for a take-over's start.
no_write_refused() {
	! grep -h "refused a write\|starts afresh" "$@" |
		grep -v "taking over: smmd starts afresh as the"
}

# wait_for CONDITION TIMEOUT_S: evaluate CONDITION every 50 ms until it
# succeeds (return 0) or TIMEOUT_S seconds pass (return 1).
wait_for() {
	local cond=$1 timeout_s=$2 deadline
	deadline=$(($(now_ms) + timeout_s * 1000))
	while :; do
		if eval "$cond"; then
			return 0
		fi
		if [ "$(now_ms)" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.05
	done
}

# free_port: a loopback port nothing listens on (a refused connect says
# so), below the ephemeral range: there an outgoing connection may hold a
# port that a connect finds free and a bind does not.
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
	fail "no free port found"
}

# smmctl as a user would run it, on this test's socket (via $SMMD_SOCKET).
smmctl() {
	"$SMMCTL_BIN" "$@"
}

# start_pg_proxy: a TCP proxy (socat) to the test's PostgreSQL on
# 127.0.0.1:$PROXY_PORT, leading a process group of its own (setsid), so
# that pg_proxy STOP or CONT freezes or thaws it and every connection it
# forked, as a link that drops packets (no answer, no error). Skips the
# test without socat; the group goes at the end, frozen or not.
start_pg_proxy() {
	command -v socat >/dev/null 2>&1 || skip "socat is not installed"
	PROXY_PORT=$(free_port)
	setsid socat "TCP-LISTEN:$PROXY_PORT,bind=127.0.0.1,reuseaddr,fork" \
		"UNIX-CONNECT:$PGHOST/.s.PGSQL.$PGPORT" 2>>"$T/proxy.log" &
	PROXY=$!
	E2E_PIDS+=("$PROXY")
	# The teardown hook the cleanup calls.
	# shellcheck disable=SC2317 # called by the cleanup
	e2e_teardown() { kill -KILL -- "-$PROXY" 2>/dev/null || :; }
	wait_for "(exec 3<>/dev/tcp/127.0.0.1/$PROXY_PORT) 2>/dev/null" 5 ||
		fail "the proxy does not listen"
}
pg_proxy() { kill "-$1" -- "-$PROXY" 2>/dev/null; }

# x_tokens N EXPIRES_IN [PREFIX]: X's documented token answer, numbered:
# access token PREFIXAcc-N-k9, refresh token PREFIXRef-N-k9 (PREFIX: Rot).
x_tokens() {
	printf '{"token_type":"bearer","expires_in":%s,"access_token":"%sAcc-%s-k9","scope":"tweet.read tweet.write users.read offline.access","refresh_token":"%sRef-%s-k9"}' \
		"$2" "${3:-Rot}" "$1" "${3:-Rot}" "$1"
}

# start_x_sink PREFIX [N:EXPIRES_IN...]: a sink that is X's token
# endpoint and tweets API. The token endpoint grants tokens N (x_tokens
# N EXPIRES_IN PREFIX) once each, in order, then refuses every further
# request as X refuses a spent refresh token; every tweet is taken, with
# its own id.
start_x_sink() {
	local prefix=$1 grant rules=() J=H:Content-Type=application/json
	shift
	for grant; do
		rules+=(--rule "POST /x/2/oauth2/token 200 $J $(x_tokens "${grant%%:*}" "${grant#*:}" "$prefix")")
	done
	start_sink "${rules[@]}" \
		--rule "POST /x/2/oauth2/token 400 $J {\"error\":\"invalid_request\",\"error_description\":\"Value passed for the token was invalid.\"}" \
		--rule "POST /x/2/tweets 201 $J {\"data\":{\"id\":\"170000000000000000{{n}}\",\"text\":\"x\"}}"
}

# x_cluster_config SECRET STORE [LINES]: $T/secret (SECRET), a fresh
# $T/token.key and $CFG for a cluster on STORE that shares one X channel
# "x" on the sink ($SINK_PORT) and its tokens; LINES go into x's block
# (default: retries within a second).
x_cluster_config() {
	(
		umask 077
		printf '%s\n' "$1" >"$T/secret"
		head -c 48 /dev/urandom | base64 -w0 >"$T/token.key"
	)
	cat >"$CFG" <<CONF
state_dir: $T/state
socket: $SOCK
store: $2
token_key_file: $T/token.key
channels:
  x:
    publisher: x
    api_url: http://127.0.0.1:$SINK_PORT/x
    token_url: http://127.0.0.1:$SINK_PORT/x/2/oauth2/token
    client_id: cm90LWNpZA
    client_secret_file: $T/secret
${3-    retry_base: 100ms
    retry_max: 1s
}    metrics: off
CONF
}

# start_cluster_node NAME [LINE...]: another smmd on $CFG's store, with a
# state directory and socket of its own ($T/state_NAME, $T/sock_NAME),
# the top-level LINEs added to its configuration (metrics_listen only
# from them: $CFG's port is taken), and its log in $T/NAME.log; its pid
# in NODE_PID.
start_cluster_node() {
	local name=$1
	shift
	{
		sed "s|$T/state|$T/state_$name|; s|$SOCK|$T/sock_$name|
			/^metrics_listen:/d" "$CFG"
		for line in "$@"; do printf '%s\n' "$line"; done
	} >"$T/$name.yaml"
	"$SMMD_BIN" -c "$T/$name.yaml" --foreground 2>>"$T/$name.log" &
	NODE_PID=$!
	E2E_PIDS+=("$NODE_PID")
}

# sink_path_requests PATH: every request for PATH at the sinks, as one
# JSON array in arrival order; url_param NAME URL: NAME's value in URL's
# query; x_token_calls: how many requests X's token endpoint had.
sink_path_requests() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
url_param() {
	sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p" <<<"$2"
}
x_token_calls() { sink_path_requests /x/2/oauth2/token | jq length; }

# x_share_configs: after x_cluster_config, b's file ($T/b.yaml) lists x
# alone and a's ($CFG) x and w, a webhook to the sink, both with
# share_work: once b works beside a, b's share is x and a's is w.
x_share_configs() {
	{
		sed "s|$T/state|$T/state_b|; s|$SOCK|$T/sock_b|" "$CFG"
		printf 'share_work: true\n'
	} >"$T/b.yaml"
	cat >>"$CFG" <<EOF
  w:
    publisher: webhook
    url: http://127.0.0.1:$SINK_PORT/hook/w
share_work: true
EOF
}

# channel_owner CHANNEL: the node (its writer's id) that holds CHANNEL's
# live claim, or nothing (tests/pg).
channel_owner() {
	pg "select o.node_id from smmd_channel_owner o join smmd_node n on
		n.node_id = o.node_id and n.epoch = o.epoch and
		n.lease_until > clock_timestamp() where o.channel = '$1'"
}

# start_worker_pair: on $CFG with channels c1 and c2 and share_work, a
# (start_smmd) works and b (start_cluster_node) works beside it, each
# firing one: sets B_PID, B_NODE (b's writer id), b_chan and a_chan.
# shellcheck disable=SC2034,SC2119 # set for the tests; no options
start_worker_pair() {
	start_smmd
	wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 10 ||
		fail "a does not work: $(tail -n 5 "$T/smmd.log")"
	start_cluster_node b
	B_PID=$NODE_PID
	wait_for "[ \"\$(node_role '$T/sock_b')\" = worker ]" 15 ||
		fail "b is no worker: $(tail -n 5 "$T/b.log")"
	B_NODE=$(SMMD_SOCKET=$T/sock_b smmctl status --json | jq -r .cluster.node)
	wait_for "[ \"\$(channel_owner c1)\" = '$B_NODE' ] || [ \"\$(channel_owner c2)\" = '$B_NODE' ]" 20 ||
		fail "b took no channel: c1 $(channel_owner c1), c2 $(channel_owner c2)"
	b_chan=c1 a_chan=c2
	[ "$(channel_owner c1)" = "$B_NODE" ] || b_chan=c2 a_chan=c1
}

# pg SQL: run SQL on the test's PostgreSQL (tests/pg), rows unaligned.
pg() {
	sh "$SMM_PG_CLUSTER" psql "$SMM_PG_DIR" -Atq -c "$1"
}

# claim_fences: the fencing token of each channel's claim now, as JSON
# {channel: "fence"} (tests/pg); max_claim_fence: the highest of them.
claim_fences() {
	pg "select coalesce(json_object_agg(channel, fence::text), '{}')
		from smmd_channel_owner"
}
max_claim_fence() {
	pg "select coalesce(max(fence), 0) from smmd_channel_owner"
}
# stale_requests CLAIMS [SINCE_US]: webhook POSTs (after SINCE_US) whose
# fence, in the header or the signed body, is not their channel's claim
# in CLAIMS (claim_fences), one line each.
stale_requests() {
	sink_requests | jq -s -c --argjson c "$1" --argjson t "${2:-0}" '
		.[] | select(.method == "POST" and .t_us > $t and
			.post.channel != null) |
		($c[.post.channel]) as $f |
		select(.headers["smmd-fence"] != $f or
			(.post.fence | tostring) != $f)'
}

# node_role SOCKET: working or standby for a node of a cluster (store in
# PostgreSQL); nothing when nobody answers there.
node_role() {
	SMMD_SOCKET=$1 "$SMMCTL_BIN" status --json 2>/dev/null |
		jq -r '.cluster.role // empty'
}

# run CMD...: run it with its stdout in $T/out and $out, its stderr in
# $T/err and $err, and its exit status in $rc (a failure is no error).
run() {
	rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	# shellcheck disable=SC2034 # read by the tests
	out=$(cat "$T/out")
	# shellcheck disable=SC2034
	err=$(cat "$T/err")
}

# start_sink [smm-sink options]: a new sink on an ephemeral port. Sets
# SINK_PID, SINK_PORT and SINK_LOG ($T/sink.log, then $T/sink2.log, ...).
start_sink() {
	local suffix pf
	SINK_N=$((SINK_N + 1))
	suffix=
	[ "$SINK_N" -eq 1 ] || suffix=$SINK_N
	pf=$T/sink$suffix.port
	SINK_LOG=$T/sink$suffix.log
	: >"$SINK_LOG"
	"$SINK_BIN" --port 0 --port-file "$pf" --log "$SINK_LOG" "$@" \
		>"$T/sink$suffix.out" 2>&1 &
	SINK_PID=$!
	E2E_PIDS+=("$SINK_PID")
	E2E_SINK_PIDS+=("$SINK_PID")
	wait_for "[ -s '$pf' ] || ! kill -0 $SINK_PID 2>/dev/null" 10 ||
		fail "smm-sink did not write its port file"
	[ -s "$pf" ] || fail "smm-sink exited: $(cat "$T/sink$suffix.out")"
	SINK_PORT=$(cat "$pf")
	export SINK_PORT SINK_LOG
}

# write_config [-g 'key: value']... CHANNEL[,key=value...]...
# Writes $CFG: state and socket under $T, each channel a webhook to the
# current sink at /hook/CHANNEL, signed with $SECRET_FILE, retry_base 100ms,
# retry_max 1s, timeout 5s. Per-channel key=value pairs override or add
# config keys; "port=N" points the channel at another sink, "secret=no"
# drops the secret. With no channel, one channel "demo".
write_config() {
	local globals=() ch spec name kv key val port secret url
	while [ $# -gt 0 ] && [ "$1" = -g ]; do
		globals+=("$2")
		shift 2
	done
	[ $# -gt 0 ] || set -- demo
	{
		printf 'state_dir: %s/state\n' "$T"
		printf 'socket: %s\n' "$SOCK"
		for kv in ${globals[@]+"${globals[@]}"}; do
			printf '%s\n' "$kv"
		done
		printf 'channels:\n'
		for spec in "$@"; do
			name=${spec%%,*}
			port=$SINK_PORT
			secret=yes
			url=
			declare -A keys=([timeout]=5s [retry_base]=100ms
				[retry_max]=1s)
			local order=(timeout retry_base retry_max)
			if [ "$spec" != "$name" ]; then
				IFS=, read -r -a kvs <<<"${spec#*,}"
				for kv in "${kvs[@]}"; do
					key=${kv%%=*}
					val=${kv#*=}
					case $key in
					port) port=$val ;;
					secret) secret=$val ;;
					url) url=$val ;;
					*)
						[ -n "${keys[$key]+x}" ] ||
							order+=("$key")
						keys[$key]=$val
						;;
					esac
				done
			fi
			[ -n "$url" ] ||
				url=http://127.0.0.1:$port/hook/$name
			printf '  %s:\n' "$name"
			printf '    publisher: webhook\n'
			printf '    url: %s\n' "$url"
			if [ "$secret" = yes ]; then
				printf '    secret_file: %s\n' "$SECRET_FILE"
			fi
			for ch in "${order[@]}"; do
				printf '    %s: %s\n' "$ch" "${keys[$ch]}"
			done
			unset keys
		done
	} >"$CFG.tmp"
	mv "$CFG.tmp" "$CFG"
}

# True while PID exists and has not exited (a child that exited stays a
# zombie until it is reaped, and kill -0 still succeeds on a zombie).
pid_running() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

smmd_alive() {
	[ -n "$SMMD_PID" ] && pid_running "$SMMD_PID"
}

# start_smmd [extra smmd options]: run smmd in the foreground, in the
# background of this shell, and wait until its socket answers.
# shellcheck disable=SC2120 # the options are the tests'
start_smmd() {
	local deadline
	printf -- '--- %s start_smmd\n' "$(date -u +%H:%M:%S.%3N)" \
		>>"$T/smmd.log"
	"$SMMD_BIN" -c "$CFG" --foreground "$@" 2>>"$T/smmd.log" &
	SMMD_PID=$!
	E2E_PIDS+=("$SMMD_PID")
	deadline=$(($(now_ms) + SMM_E2E_START_TIMEOUT * 1000))
	while ! smmctl status >/dev/null 2>&1; do
		smmd_alive || fail "smmd exited during start-up"
		[ "$(now_ms)" -lt "$deadline" ] ||
			fail "smmd did not answer on $SOCK within ${SMM_E2E_START_TIMEOUT}s"
		sleep 0.05
	done
}

# wait_pid_exit PID TIMEOUT_S: wait for a child; sets E2E_EXIT to its exit
# status and E2E_WAITED_MS to the time it took. Past the bound it is killed
# (E2E_EXIT is then 137).
wait_pid_exit() {
	local pid=$1 timeout_s=$2 t0
	t0=$(now_ms)
	while pid_running "$pid"; do
		if [ $(($(now_ms) - t0)) -ge $((timeout_s * 1000)) ]; then
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.05
	done
	E2E_EXIT=0
	wait "$pid" || E2E_EXIT=$?
	e2e_forget "$pid"
	# shellcheck disable=SC2034 # read by the tests
	E2E_WAITED_MS=$(($(now_ms) - t0))
}

# stop_smmd [TIMEOUT_S]: SIGTERM, wait, and require exit status 0.
stop_smmd() {
	local timeout_s=${1:-15}
	[ -n "$SMMD_PID" ] || fail "stop_smmd: smmd is not running"
	kill -TERM "$SMMD_PID" 2>/dev/null || fail "smmd is already gone"
	wait_pid_exit "$SMMD_PID" "$timeout_s"
	[ "$E2E_EXIT" -ne 137 ] ||
		fail "smmd did not exit within ${timeout_s}s of SIGTERM"
	[ "$E2E_EXIT" -eq 0 ] ||
		fail "smmd exited with status $E2E_EXIT after SIGTERM"
	SMMD_PID=
}

# kill -9 smmd and reap it: a crash.
crash_smmd() {
	kill -KILL "$SMMD_PID"
	wait "$SMMD_PID" 2>/dev/null || true
	e2e_forget "$SMMD_PID"
	SMMD_PID=
}

# Every request in every sink log of this test, one JSON object a line,
# with the parsed body added as .post (null when it is not JSON).
sink_requests() {
	cat "$T"/sink*.log | jq -c '. + {post: (.body | fromjson? // null)}'
}

# The POSTs for post ID, in arrival order, as one JSON array.
sink_posts_for() {
	sink_requests | jq -s -c --arg id "$1" \
		'[.[] | select(.method == "POST" and .post.id == $id)]
		 | sort_by(.t_us)'
}

# How many POSTs for post ID reached a sink.
sink_count() {
	sink_posts_for "$1" | jq length
}

# The result of "smmctl show ID --json" for a post id.
show_json() {
	smmctl show "$1" --json
}

# One delivery as JSON, by delivery id "post/channel".
delivery_json() {
	smmctl show "${1%%/*}" --json |
		jq -c --arg id "$1" '.deliveries[] | select(.id == $id)'
}

# The state of delivery "post/channel" (empty if unknown).
delivery_state() {
	delivery_json "$1" 2>/dev/null | jq -r '.state // empty' 2>/dev/null
}

# Deliveries of "smmctl list [--status S] --json" as a JSON array.
list_json() {
	smmctl list "$@" --json | jq -c 'if type == "array" then . else .deliveries end'
}

# A jq definition for the add requests a test writes: iso(ms), the time
# ms (since the epoch) as the control protocol's "at", to the millisecond.
JQ_ISO='def iso(ms): (ms / 1000 | floor | todate | sub("Z$"; "")) + "."
	+ ("00" + (ms % 1000 | tostring))[-3:] + "Z";'

# add_all FILE N: FILE's requests over one control connection (replies in
# $T/replies); fails unless N of them were taken.
add_all() {
	socat -t 60 - "UNIX-CONNECT:$SOCK" <"$1" >"$T/replies"
	[ "$(jq -s '[.[] | select(.ok)] | length' "$T/replies")" -eq "$2" ] ||
		fail "adds refused: $(jq -c 'select(.ok != true)' "$T/replies" | head -n 3)"
}

# follow_events: smmctl log --follow --json into $T/follow.out, from the
# moment smmd counts the follower (every event after, in seq order).
follow_events() {
	"$SMMCTL_BIN" log --follow --json >"$T/follow.out" 2>"$T/follow.err" &
	E2E_PIDS+=($!)
	wait_for '[ "$(smmctl status --json | jq .followers)" -eq 1 ]' 10 ||
		fail "smmctl log --follow did not subscribe: $(cat "$T/follow.err")"
}

# wait_followed N TIMEOUT_S: until follow_events' follower has seen at
# least N published events, or fail saying how many it saw.
wait_followed() {
	wait_for "[ \"\$(grep -c '\"type\":\"published\"' \"\$T/follow.out\")\" -ge $1 ]" "$2" ||
		fail "the follower saw $(grep -c '"type":"published"' "$T/follow.out") published, not $1, after $2s"
}

# A jq definition for follow.out read with -s: its starts and ends
# (started and published events), in seq order.
JQ_STARTS_ENDS='def starts_ends: [.[] | select(.type == "started" or .type == "published")] | sort_by(.seq);'

# wait_state DELIVERY STATE TIMEOUT_S, or fail saying where it stuck.
wait_state() {
	wait_for "[ \"\$(delivery_state '$1')\" = '$2' ]" "$3" ||
		fail "delivery $1 is '$(delivery_state "$1")', not '$2', after $3s"
}

# wait_arrivals ID N TIMEOUT_S: until at least N POSTs for ID arrived.
wait_arrivals() {
	wait_for "[ \"\$(sink_count '$1')\" -ge $2 ]" "$3" ||
		fail "post $1 reached the sink $(sink_count "$1") times, expected $2, within $3s"
}

# A post due DELAY from now on CHANNEL that must arrive: once it has, any
# request that was going to come before it (a retry after a backoff of at
# most retry_max, say) has come. An absence check without a fixed sleep.
settle() {
	local channel=$1 delay=${2:-+2s} id
	id=settle-$(now_ms)-$RANDOM
	smmctl add -c "$channel" --id "$id" --at "$delay" "settle marker" \
		>/dev/null
	wait_arrivals "$id" 1 20
}

# jq_true [jq options] FILTER: the JSON document on stdin passes FILTER only
# if the output is exactly "true" (jq 1.6 -e accepts an empty input).
jq_true() {
	local r
	r=$(jq -c "$@" 2>/dev/null) || return 1
	[ "$r" = true ]
}

# assert CONDITION MESSAGE
assert() {
	if ! eval "$1"; then
		fail "$2"
	fi
}
