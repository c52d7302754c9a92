#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The chaos test. Posts go to two channels on one sink: "hook", a signed
# webhook (an endpoint that drops a repeated webhook-id), and "slack", a
# Slack incoming webhook (200 "ok"; it cannot drop a repeat). The sink
# answers a random CHAOS_PERCENT% of requests with a fault, in equal shares:
# 500; 429 with Retry-After 1 or 2; a hang past smmd's 1 s timeout; a reset
# connection. Meanwhile smmd is killed with SIGKILL at random moments (while
# posts are being queued, too, and now and then during its start-up) and
# started again, CHAOS_KILLS times, then left to finish. Every post is then
# accounted for, from the sink's log and smmd's store:
#   hook: published, answered with success at least once, and every
#     request for it carries its webhook-id (a repeat is the receiver's to
#     drop, by that id);
#   slack: published and answered "ok" exactly once, by the last request
#     for it, or unknown. Never a request after one answered "ok", nor after
#     one that got no answer (hung or reset: Slack may have posted it): that
#     would be a blind re-send, whatever smmd's state says;
#   no retry sooner than a 429's Retry-After asked, unless smmd was killed
#     in between (it may not have read the answer);
#   nothing lost: every post queued (an add answered "ok" is stored for
#     good) is in the store, in a final state; no failed delivery either
#     (max_attempts is far more than 30% faults can use up); nothing
#     published that the sink never answered with success; no request for
#     a post that was never queued; no hang (every delivery settles within
#     CHAOS_SETTLE seconds of the last kill) and no exit of smmd by itself.
# A short run in make check (about 20 s); "make chaos" runs 10,000
# posts and 100 kills. Knobs (environment): CHAOS_POSTS (300; each goes to
# both channels), CHAOS_KILLS (5), CHAOS_PERCENT (30), CHAOS_SEED (random;
# seeds the sink's faults and the kill moments, printed: the faults replay
# exactly for the same sequence of requests, the timing only roughly),
# CHAOS_SPREAD (seconds over which the posts fall due: 15), CHAOS_IN_FLIGHT
# (requests in flight per channel: 16), CHAOS_SETTLE (seconds allowed after
# the last kill: 120). SMM_E2E_KEEP=1 keeps the logs.
# On PostgreSQL (tests/pg/chaos.sh, make cluster-chaos; run under
# tests/pg/with-pg.sh): CHAOS_STORE (a postgresql:// URL) and CHAOS_NODES
# (3): that many smmd share the store and one socket path, one working
# and the others standbys; a kill is of the working node, a standby takes
# over, and the killed one comes back as a standby. Besides the kills,
# one event in four terminates every smmd backend (pg_terminate_backend),
# and two restart PostgreSQL (immediate). The accounting reads the store
# from PostgreSQL. CHAOS_SHARE=1 (tests/pg/chaosshare.sh): every node
# has share_work, so the others are workers firing their share of the
# channels, and a kill is of a node drawn at random, a worker as well as
# the working node; a killed worker comes back as a worker.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

: "${CHAOS_POSTS:=300}"
: "${CHAOS_KILLS:=5}"
: "${CHAOS_PERCENT:=30}"
: "${CHAOS_SEED:=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
: "${CHAOS_SPREAD:=15}"
: "${CHAOS_IN_FLIGHT:=16}"
: "${CHAOS_SETTLE:=120}"
: "${CHAOS_STORE:=}"
: "${CHAOS_NODES:=3}"
: "${CHAOS_SHARE:=}"
if [ -z "$CHAOS_STORE" ]; then
	CHAOS_NODES=1
	command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed"
else
	: "${SMM_PG_DIR:?CHAOS_STORE needs tests/pg/with-pg.sh}"
fi

N=$CHAOS_POSTS
RANDOM=$CHAOS_SEED
t0=$(now_ms)
log "seed $CHAOS_SEED: $N posts on 2 channels due over ${CHAOS_SPREAD}s," \
	"$CHAOS_PERCENT% faults, $CHAOS_KILLS kills"

SLACK=/services/T0/B0/chaos
start_sink --chaos "$CHAOS_PERCENT,seed=$CHAOS_SEED" \
	--rule "POST $SLACK 200 H:Content-Type=text/plain ok"
# Short timeouts and backoff, so a hang costs a second and a retry less.
chan_keys="    timeout: 1s
    connect_timeout: 1s
    retry_base: 100ms
    retry_max: 1s
    max_attempts: 100
    max_in_flight: $CHAOS_IN_FLIGHT"
# Each node has a socket of its own; $SOCK is a link to the working one's.
NODE_SOCK=$SOCK
if [ -n "$CHAOS_STORE" ]; then
	NODE_SOCK=$T/sock_1
	mkdir -p "$(dirname "$SOCK")"
	ln -sfn "$NODE_SOCK" "$SOCK"
fi
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $NODE_SOCK
catch_up: 1d
${CHAOS_STORE:+store: $CHAOS_STORE}
${CHAOS_SHARE:+share_work: true}
channels:
  hook:
    publisher: webhook
    url: http://127.0.0.1:$SINK_PORT/hook/hook
    secret_file: $SECRET_FILE
$chan_keys
  slack:
    publisher: slack
    url: http://127.0.0.1:$SINK_PORT$SLACK
$chan_keys
EOF
start_smmd
NODE_PID[1]=$SMMD_PID
# start_standby I: node I, with its own state directory and socket.
start_standby() {
	sed "s|^state_dir: .*|state_dir: $T/state_$1|; s|^socket: .*|socket: $T/sock_$1|" \
		"$CFG" >"$T/node$1.yaml"
	"$SMMD_BIN" -c "$T/node$1.yaml" --foreground 2>>"$T/smmd.log" &
	NODE_PID[$1]=$!
	E2E_PIDS+=("$!")
}
for i in $(seq 2 "$CHAOS_NODES"); do
	start_standby "$i"
done

# Due times spread evenly from 1 s from now. The adds are queued in the
# background while smmd is killed, as a tool would queue them through the
# day: a second's worth at a time, 2 s before the first of them is due.
# Each is pipelined on a control connection (as in crash.sh: smmctl per
# post would be slower than the posts fall due), in passes: each sends
# every add of its chunk not answered yet, until a kill cuts it. An add
# answered "ok" is on disk and must never be lost; one cut off may have
# been stored all the same, and the next pass hears "exists".
base=$(($(now_ms) + 1000))
step_us=$((CHAOS_SPREAD * 1000000 / N))
awk -v base="$base" -v n="$N" -v step="$step_us" 'BEGIN {
	for (i = 1; i <= n; i++) {
		t = base + int(i * step / 1000)
		printf "@%.0f.%03d\n", int(t / 1000), t % 1000
	}
}' | date -u -f - +%Y-%m-%dT%H:%M:%S.%3NZ >"$T/due"
i=0
while read -r at; do
	i=$((i + 1))
	printf '{"id":%d,"cmd":"add","args":{"channels":["hook","slack"],"id":"c%d","text":"chaos c%d","at":"%s"}}\n' \
		"$i" "$i" "$i" "$at"
done <"$T/due" >"$T/adds"
PER_CHUNK=$(((N + CHAOS_SPREAD - 1) / CHAOS_SPREAD))
split -l "$PER_CHUNK" -d -a 5 "$T/adds" "$T/chunk."
PASSES=0
# queue_chunk FILE: pass after pass until every add in FILE is answered.
queue_chunk() {
	cp "$1" "$T/adds.left"
	while [ -s "$T/adds.left" ]; do
		PASSES=$((PASSES + 1))
		if [ "$PASSES" -gt 10000 ]; then
			echo "$(wc -l <"$T/adds.left") adds unanswered after $PASSES passes" >"$T/queue.err"
			return 1
		fi
		{
			printf '{"id":0,"cmd":"hello","args":{"protocol":1,"client":"e2e-chaos"}}\n'
			cat "$T/adds.left"
		} | socat -t 60 - "UNIX-CONNECT:$SOCK" >"$T/replies.last" \
			2>/dev/null || sleep 0.05
		# A reply cut in two by a kill is no answer.
		jq -R -c 'fromjson? | select(.id > 0)' "$T/replies.last" \
			>>"$T/replies"
		jq -R -r 'fromjson? | select(.id > 0 and
			(.ok or .error.code == "exists")) | .id' \
			"$T/replies.last" >"$T/answered"
		# On PostgreSQL, a node that lost a write with its
		# connection starts afresh and says so meanwhile, and one
		# that lost its lease is a standby until the link moves on
		# (link_worker): try again.
		if jq -R -c --arg retry "${CHAOS_STORE:+store_unavailable standby}" \
			'fromjson? | select(.ok == false and
			.error.code != "exists" and
			(.error.code as $c | $retry | split(" ") | index($c) | not))' \
			"$T/replies.last" | grep -q .; then
			jq -R -c 'fromjson? | select(.ok == false)' \
				"$T/replies.last" | head -n 3 >"$T/queue.err"
			return 1
		fi
		# Not NR == FNR: the answers may be none at all.
		awk 'FILENAME == ARGV[1] { done[$1] = 1; next }
			{ match($0, /"id":[0-9]+/)
			  if (!(substr($0, RSTART + 5, RLENGTH - 5) in done))
				print }' "$T/answered" "$T/adds.left" >"$T/adds.next"
		mv "$T/adds.next" "$T/adds.left"
	done
}
queue_posts() {
	local k=0 chunk at_ms
	for chunk in "$T"/chunk.*; do
		at_ms=$((base + (k * PER_CHUNK + 1) * step_us / 1000 - 2000 - $(now_ms)))
		if [ "$at_ms" -gt 0 ]; then
			sleep "$((at_ms / 1000)).$(printf '%03d' $((at_ms % 1000)))"
		fi
		queue_chunk "$chunk" || return 1
		k=$((k + 1))
	done
	echo "$PASSES" >"$T/passes"
}
: >"$T/replies"
queue_posts &
QUEUE_PID=$!
E2E_PIDS+=("$QUEUE_PID")

# Deliveries not yet in a final state.
unsettled() {
	smmctl status --json |
		jq '.counts | .scheduled + .retry_wait + .publishing'
}

# A kill at a random moment, CHAOS_KILLS times. Each gap is drawn from
# what is left of the due times shared by the kills left, so that they
# fall while posts are queued, due and going out, however long the
# restarts take; past the last due time, retries still go on: gaps of up
# to 0.5 s. After one kill in five the restart is killed too, at a random
# moment of its first 60 ms (smmd is ready in about 50): recovery itself
# interrupted.
end_ms=$((base + CHAOS_SPREAD * 1000))
: >"$T/kills"
# SIGKILL, with its window (from before the signal to the reaping) noted
# for the accounting: a request smmd wrote just before may reach the
# sink's log just after.
kill_smmd() {
	local before
	before=$(date +%s%6N)
	crash_smmd
	echo "$before $(date +%s%6N)" >>"$T/kills"
}
# Point $SOCK at the node that answers; false if none does.
link_worker() {
	local i
	for i in $(seq 1 "$CHAOS_NODES"); do
		# A standby answers too (its role says so); a node still
		# opening its store keeps its listening socket: do not hang.
		if [ "$(SMMD_SOCKET=$T/sock_$i timeout 2 "$SMMCTL_BIN" \
			status --json 2>/dev/null | jq -r .cluster.role)" = working ]; then
			ln -sfn "$T/sock_$i" "$SOCK"
			return 0
		fi
	done
	return 1
}
# With CHAOS_SHARE, one kill in two is of a node drawn among those that
# do not work (workers, or standbys yet to register as one): it comes
# back as one.
kill_other() {
	local i before others=()
	# The node working now, not the one a PostgreSQL event left.
	link_worker || return 1
	SMMD_PID=$(smmctl status --json | jq -r .pid)
	for i in $(seq 1 "$CHAOS_NODES"); do
		[ "${NODE_PID[$i]}" = "$SMMD_PID" ] || others+=("$i")
	done
	[ "${#others[@]}" -gt 0 ] || return 1
	i=${others[$((RANDOM % ${#others[@]}))]}
	before=$(date +%s%6N)
	kill -KILL "${NODE_PID[$i]}" 2>/dev/null || true
	wait "${NODE_PID[$i]}" 2>/dev/null || true
	e2e_forget "${NODE_PID[$i]}"
	echo "$before $(date +%s%6N)" >>"$T/kills"
	start_standby "$i"
}
# The working node killed; the killed one comes back as a standby, and
# the test goes on once one of the others works.
kill_worker() {
	local i victim=$SMMD_PID
	kill_smmd
	for i in $(seq 1 "$CHAOS_NODES"); do
		[ "${NODE_PID[$i]}" != "$victim" ] || start_standby "$i"
	done
	wait_for "link_worker" 20 ||
		fail "no standby took over after kill $((kills + 1))"
	SMMD_PID=$(smmctl status --json | jq -r .pid)
}
pg_restarts=0
pg_storms=0
events=0
# Besides the kills, one event in four a storm of terminated backends,
# and two PostgreSQL restarts.
pg_event() {
	if [ $((events % 4)) -eq 2 ]; then
		sh "$SMM_PG_CLUSTER" kill-backends "$SMM_PG_DIR" >/dev/null ||
			fail "pg_terminate_backend failed"
		pg_storms=$((pg_storms + 1))
	elif [ $((events % 4)) -eq 0 ] && [ "$pg_restarts" -lt 2 ]; then
		sh "$SMM_PG_CLUSTER" restart "$SMM_PG_DIR" immediate >/dev/null ||
			fail "PostgreSQL did not restart"
		pg_restarts=$((pg_restarts + 1))
	else
		return 1
	fi
}
kills=0
early=0
while [ "$kills" -lt "$CHAOS_KILLS" ]; do
	gap_max=$((2 * (end_ms - $(now_ms)) / (CHAOS_KILLS - kills + 1)))
	[ "$gap_max" -ge 500 ] || gap_max=500
	gap=$(((RANDOM * 32768 + RANDOM) % gap_max))
	sleep "$((gap / 1000)).$(printf '%03d' $((gap % 1000)))"
	smmd_alive || fail "smmd exited by itself (after $kills kills)"
	# Nothing left to interrupt: a kill now would test no recovery.
	pid_running "$QUEUE_PID" || [ "$(unsettled)" -gt 0 ] || break
	if [ -n "$CHAOS_STORE" ]; then
		events=$((events + 1))
		if pg_event; then
			# The worker may have lost its lease and handed over.
			wait_for "link_worker" 30 ||
				fail "nobody works after a PostgreSQL event"
			SMMD_PID=$(smmctl status --json | jq -r .pid)
		elif [ -n "$CHAOS_SHARE" ] && [ $((RANDOM % 2)) -eq 0 ] &&
			kill_other; then
			kills=$((kills + 1))
		else
			kill_worker
			kills=$((kills + 1))
		fi
		continue
	fi
	kill_smmd
	kills=$((kills + 1))
	if [ $((RANDOM % 5)) -eq 0 ]; then
		"$SMMD_BIN" -c "$CFG" --foreground 2>>"$T/smmd.log" &
		SMMD_PID=$!
		E2E_PIDS+=("$SMMD_PID")
		sleep "0.0$(printf '%02d' $((RANDOM % 60)))"
		kill_smmd
		early=$((early + 1))
	fi
	start_smmd
done
t_kills=$(now_ms)
[ "$kills" -eq "$CHAOS_KILLS" ] ||
	log "all settled after $kills of $CHAOS_KILLS kills"
wait "$QUEUE_PID" || fail "queueing failed: $(cat "$T/queue.err")"
e2e_forget "$QUEUE_PID"
log "queued $N posts in $(cat "$T/passes") connection attempts," \
	"$(jq -s '[.[] | select(.error.code == "exists")] | length' "$T/replies")" \
	"of them stored though a kill cut the answer"

# shellcheck disable=SC2016 # wait_for evaluates it, again and again
wait_for '! smmd_alive || [ "$(unsettled)" -eq 0 ]' "$CHAOS_SETTLE" ||
	fail "not settled ${CHAOS_SETTLE}s after the last kill (a hang?): $(smmctl status --json | jq -c .counts)"
smmd_alive || fail "smmd exited by itself after the last kill"
log "settled $(($(now_ms) - t_kills)) ms after the last kill"
# Each node's counts, kept as its view changes (daemon/store_pg_count.c),
# agree with the database's once it has pulled: through the kills,
# refused groups and read-backs.
if [ -n "$CHAOS_STORE" ]; then
	pg_counts=$(sh "$SMM_PG_CLUSTER" psql "$SMM_PG_DIR" -Atq -c \
		"SELECT coalesce(json_object_agg(state, n), '{}') FROM
		 (SELECT state, count(*) AS n FROM deliveries GROUP BY state) s")
	counts_agree() {
		SMMD_SOCKET=$T/sock_$1 smmctl status --json | jq -e \
			--argjson pg "$pg_counts" \
			'.counts | with_entries(select(.value != 0)) == $pg' >/dev/null
	}
	for i in $(seq 1 "$CHAOS_NODES"); do
		wait_for "counts_agree $i" 10 ||
			fail "node $i counts $(SMMD_SOCKET=$T/sock_$i smmctl status --json | jq -c .counts), the database $pg_counts"
	done
fi
# Standbys first: none may take over once the working node stops.
for i in $(seq 1 "$CHAOS_NODES"); do
	[ "${NODE_PID[$i]}" = "$SMMD_PID" ] || {
		kill -TERM "${NODE_PID[$i]}" 2>/dev/null || true
		wait_pid_exit "${NODE_PID[$i]}" 10
	}
done
stop_smmd
t_end=$(now_ms)

# The store, read once smmd is stopped.
if [ -n "$CHAOS_STORE" ]; then
	sh "$SMM_PG_CLUSTER" psql "$SMM_PG_DIR" -Atq -c \
		"SELECT coalesce(json_agg(json_build_object('id', id, 'post',
		 post_id, 'channel', channel, 'state', state, 'wid', webhook_id,
		 'attempts', attempts)), '[]') FROM deliveries" >"$T/store.json"
else
	sqlite3 -json "$T/state/smmd.db" \
		'SELECT id, post_id AS post, channel, state, webhook_id AS wid,
		 attempts FROM deliveries' >"$T/store.json"
fi
[ -s "$T/store.json" ] || echo '[]' >"$T/store.json"
# Every request the sink logged, small: the post it was for (the webhook's
# id, the Slack text), what became of it ("ok": answered with success).
jq -c 'select(.method == "POST") | (.body | fromjson? // {}) as $b
	| {t: .t_us, ch: (if .path == "/hook/hook" then "hook" else "slack" end),
	   post: ($b.id // ($b.text // "" | ltrimstr("chaos "))),
	   wid: .headers["webhook-id"], status, ra: .retry_after,
	   f: (.chaos // (if .status == 200 then "ok" else "status \(.status)" end))}' \
	"$SINK_LOG" >"$T/requests.jsonl"

jq -n --slurpfile store "$T/store.json" --argjson n "$N" \
	--argjson kills "$(jq -R -s -c '[splits("\n") | select(length > 0)
		| [splits(" ") | tonumber]]' "$T/kills")" '
	# A retry sooner than the Retry-After of a 429 asked, unless smmd was
	# killed in between (it may not have read the answer): from 50 ms
	# before the 429 was logged, since the request may have left the
	# killed smmd a moment before the sink read it.
	def retried_early($d; $r):
	  range(0; ($r | length) - 1) as $i | $r[$i] as $a | $r[$i + 1] as $b
	  | select($a.f == "429" and $b.t - $a.t < $a.ra * 1000000 - 5000
	           and ([$kills[] | select(.[0] <= $b.t and
	                                   .[1] >= $a.t - 50000)]
	                | length) == 0)
	  | "\($d.id): retried \(($b.t - $a.t) / 1000 | floor) ms after" +
	    " a 429 with Retry-After: \($a.ra) (" +
	    (([$kills[] | .[1] | select(. <= $a.t)] | max)
	     | if . then "the last kill ended \(($a.t - .) / 1000 | floor)" +
	                 " ms before the 429"
	       else "no kill before the 429" end) + ")";
	[inputs] as $reqs
	| ($reqs | group_by(.post + "/" + .ch)
	   | map({key: (.[0].post + "/" + .[0].ch), value: sort_by(.t)})
	   | from_entries) as $by
	| ($store[0] | map({key: .id, value: .}) | from_entries) as $db
	| [range(1; $n + 1) | "c\(.)" as $p | "\($p)/hook", "\($p)/slack"]
	  as $want
	| [ # Queued, acknowledged, and not in the store: lost.
	    ($want[] | select($db[.] == null) | "\(.): lost, not in the store"),
	    ($by | keys[] | select($db[.] == null)
	     | "\(.): reached the sink but was never queued"),
	    ($db[] | . as $d | ($by[$d.id] // []) as $r
	     | ([$r[] | select(.f == "ok")] | length) as $ok
	     | if $d.channel == "hook" then
	         (if $d.state != "published" then
	            "\($d.id): \($d.state), not published" else empty end),
	         retried_early($d; $r),
	         (if $d.state == "published" and $ok == 0 then
	            "\($d.id): published, never answered with success" +
	            " (\([$r[].f]))" else empty end),
	         ($r[] | select(.wid != $d.wid)
	          | "\($d.id): request with webhook-id \(.wid), not \($d.wid)")
	       else
	         (if $d.state != "published" and $d.state != "unknown" then
	            "\($d.id): \($d.state), neither published nor unknown"
	          else empty end),
	         (if $d.state == "published" and
	             ($ok != 1 or ($r | last | .f) != "ok") then
	            "\($d.id): published, but the sink saw \([$r[].f])"
	          else empty end),
	         retried_early($d; $r),
	         # After an "ok", a hang or a reset, nothing may follow.
	         (([$r | to_entries[]
	            | select(.value.f == "ok" or .value.f == "hang" or
	                     .value.f == "reset") | .key] | first) as $k
	          | if $k != null and ($r | length) > $k + 1 then
	              "\($d.id): sent again after \($r[$k].f): \([$r[].f])"
	            else empty end)
	       end)
	  ] as $bad
	| def figures($c):
	    [$db[] | select(.channel == $c)] as $ds
	    | [$reqs[] | select(.ch == $c)] as $rs
	    | {deliveries: ($ds | length), requests: ($rs | length),
	       faults: ($rs | map(select(.f != "ok")) | group_by(.f)
	                | map({key: .[0].f, value: length}) | from_entries),
	       published: ($ds | map(select(.state == "published")) | length),
	       unknown: ($ds | map(select(.state == "unknown")) | length),
	       failed: ($ds | map(select(.state == "failed")) | length),
	       # Answered with success more than once: the repeats a
	       # receiver must drop.
	       duplicates: ([$ds[] | ($by[.id] // [])
	                     | [.[] | select(.f == "ok")] | length
	                     | select(. > 1) | . - 1] | add // 0),
	       repeated: ([$ds[] | ($by[.id] // []) | select(length > 1)]
	                  | length)};
	{bad: $bad, hook: figures("hook"), slack: figures("slack"),
	 requests: ($reqs | length),
	 faults: ($reqs | map(select(.f != "ok")) | group_by(.f)
	          | map({key: .[0].f, value: length}) | from_entries)}
' "$T/requests.jsonl" >"$T/result.json" || fail "the accounting failed (jq)"

# What recovery did with the requests in flight at each kill.
recov=$(grep -oE 'in flight when (smmd|the node that fired their channel) stopped: [0-9]* retried with the same webhook-id, [0-9]* marked unknown' "$T/smmd.log" |
	sed -E 's/.*: ([0-9]+) retried.*, ([0-9]+) marked.*/\1 \2/' |
	awk '{r += $1; u += $2} END {printf "%d retried, %d unknown", r, u}')

summary=$(jq -r --arg kills "$kills" --arg early "$early" --arg seed "$CHAOS_SEED" \
	--arg secs "$(((t_end - t0) / 1000)).$(((t_end - t0) % 1000 / 100))" \
	--arg recov "$recov" \
	--arg pg "${CHAOS_STORE:+$CHAOS_NODES nodes on PostgreSQL, $pg_storms backend storms and $pg_restarts restarts among the kills}" '
	def ch($c): .[$c] | "\($c): \(.deliveries) deliveries, \(.requests)" +
		" requests, \(.published) published, \(.unknown) unknown," +
		" \(.failed) failed, \(.repeated) with more than one" +
		" request, \(.duplicates) duplicates at the sink";
	"summary: seed \($seed), \(.hook.deliveries) posts, \($kills) kills" +
	" (and \($early) more during start-up; in flight at them: \($recov))" +
	(if $pg != "" then ", \($pg)" else "" end) + "," +
	" \(.requests) requests, faults: " +
	"\(.faults["500"] // 0) 500, \(.faults["429"] // 0) 429," +
	" \(.faults.hang // 0) hang, \(.faults.reset // 0) reset; " +
	"\(ch("hook")); \(ch("slack")); \($secs) s"' "$T/result.json")
log "$summary"

nbad=$(jq '.bad | length' "$T/result.json")
if [ "$nbad" -gt 0 ]; then
	jq -r '.bad[:20][]' "$T/result.json" >&2
	fail "$nbad violations (seed $CHAOS_SEED), the first ones above"
fi
log "ok"
