#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# 200 posts due over ~3 s; smmd is killed with SIGKILL half-way and started
# again on the same state directory. Every post must be published and reach
# the sink; a webhook-id may repeat only for a request that was in flight at
# the kill (at-least-once, made idempotent by the unchanged webhook-id).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

N=200
MAX_IN_FLIGHT=16
# Each reply takes 100 ms, so several requests are in flight at the kill.
start_sink --delay-ms 100
write_config -g "max_in_flight: $MAX_IN_FLIGHT" demo
start_smmd

# Due times 15 ms apart, starting 2 s from now. The adds go pipelined on one
# control connection: 200 smmctl runs would take longer than that on a
# loaded machine (the command line is tested in cli.sh).
base=$(($(now_ms) + 2000))
for i in $(seq 1 "$N"); do
	echo "@$(((base + i * 15) / 1000)).$(printf '%03d' $(((base + i * 15) % 1000)))"
done | date -u -f - +%Y-%m-%dT%H:%M:%S.%3NZ >"$T/due"
{
	printf '{"id":0,"cmd":"hello","args":{"protocol":1,"client":"e2e-crash"}}\n'
	i=0
	while read -r at; do
		i=$((i + 1))
		printf '{"id":%d,"cmd":"add","args":{"channels":["demo"],"id":"c%d","text":"crash test post %d","at":"%s"}}\n' \
			"$i" "$i" "$i" "$at"
	done <"$T/due"
} >"$T/adds"
socat -t 30 - "UNIX-CONNECT:$SOCK" <"$T/adds" >"$T/replies" 2>"$T/socat.err" ||
	fail "socat: $(cat "$T/socat.err")"
ok=$(jq -s '[.[] | select(.ok == true)] | length' "$T/replies")
[ "$ok" -eq $((N + 1)) ] ||
	fail "$ok of $((N + 1)) requests succeeded: $(jq -c 'select(.ok != true)' "$T/replies" | head -n 3)"
log "queued $N posts; the first is due in $((base + 15 - $(now_ms))) ms"

# Kill it once some, but not all, went out.
posts_seen() {
	grep -c '"method":"POST"' "$SINK_LOG" || true
}
wait_for "[ \$(posts_seen) -ge $((N / 4)) ]" 20 ||
	fail "only $(posts_seen) of $N posts arrived"
crash_smmd
# smmd is dead now; what it wrote before dying reaches the sink within
# moments, so "in flight at the kill" means received before this + 500 ms.
kill_ms=$(($(now_ms) + 500))
seen=$(posts_seen)
log "killed smmd after $seen requests"
# A kill after the last post would test no recovery at all.
[ "$seen" -lt "$N" ] || fail "all posts were out before the kill: nothing was recovered"

start_smmd
wait_for "[ \"\$(smmctl status --json | jq -r .counts.published)\" = $N ]" 30 ||
	fail "after the restart only $(smmctl status --json | jq -c .counts) of $N are published"
[ "$(list_json --status published | jq length)" -eq "$N" ] ||
	fail "list --status published does not list $N deliveries"
settle demo +1s

# Every post reached the sink.
sink_requests | jq -s -c '[.[] | select(.method == "POST")]' >"$T/posts.json"
missing=$(jq -r --argjson n "$N" '[.[].post.id] as $ids
	| [range(1; $n + 1) | "c\(.)" | select(. as $i | $ids | index($i) | not)]
	| join(" ")' "$T/posts.json")
[ -z "$missing" ] || fail "never reached the sink: $missing"

# One webhook-id per post, the same on a repeat.
multi=$(jq -r 'group_by(.post.id)
	| map(select(([.[].headers["webhook-id"]] | unique | length) != 1))
	| map(.[0].post.id) | join(" ")' "$T/posts.json")
[ -z "$multi" ] || fail "webhook-id changed on a repeat of: $multi"

# Repeats only for what may have been in flight at the kill.
jq -c --argjson kill_us "$((kill_ms * 1000))" 'group_by(.headers["webhook-id"])
	| map(select(length > 1) | {id: .[0].post.id, n: length,
	  first_us: (map(.t_us) | min)})
	| map(. + {before_kill: (.first_us <= $kill_us),
	  near_kill: (.first_us >= $kill_us - 2500000)})' \
	"$T/posts.json" >"$T/dups.json"
ndup=$(jq length "$T/dups.json")
log "$ndup webhook-ids arrived more than once: $(jq -c 'map(.id)' "$T/dups.json")"
[ "$ndup" -le "$MAX_IN_FLIGHT" ] ||
	fail "$ndup duplicated webhook-ids, more than max_in_flight $MAX_IN_FLIGHT: $(cat "$T/dups.json")"
late=$(jq -r 'map(select(.before_kill | not) | .id) | join(" ")' "$T/dups.json")
[ -z "$late" ] || fail "duplicates whose first arrival came after the kill: $late"
early=$(jq -r 'map(select(.near_kill | not) | .id) | join(" ")' "$T/dups.json")
[ -z "$early" ] || fail "duplicates of requests answered long before the kill: $early"
toomany=$(jq -r 'map(select(.n > 2) | .id) | join(" ")' "$T/dups.json")
[ -z "$toomany" ] || fail "delivered more than twice across one crash: $toomany"

stop_smmd
log "ok"
