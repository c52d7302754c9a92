#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# smmctl log: the recent events and exit 0; -c keeps one channel's; an
# unknown channel is refused with smmd's words; the human lines of a
# published and a failed delivery; --follow --json sees each event as it
# happens (flushed line by line), exits 75 with smmd's words when dropped
# for not reading, and 69 when smmd stops.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink --rule 'POST /hook/bad 400 {"error":"nope"}'
write_config demo bad
start_smmd

# A follower from the start (the binary itself, so that its pid is
# smmctl's): it must see what log shows afterwards.
"$SMMCTL_BIN" log --follow --json >"$T/follow.out" 2>"$T/follow.err" &
FOLLOWER=$!
E2E_PIDS+=("$FOLLOWER")
wait_for '[ "$(smmctl status --json | jq .followers)" -eq 1 ]' 10 ||
	fail "smmctl log --follow did not subscribe: $(cat "$T/follow.err")"

smmctl add -c demo --id good "hello" >/dev/null
smmctl add -c bad --id rej "no" >/dev/null
wait_state good/demo published 15
wait_state rej/bad failed 15

# 1. Without --follow: the recent events, oldest first, then exit 0.
run smmctl log --json
[ "$rc" -eq 0 ] || fail "smmctl log --json exited $rc: $(cat "$T/err")"
cp "$T/out" "$T/recent.json"
jq -e -s 'length >= 6 and ([.[].seq] == ([.[].seq] | sort))' \
	"$T/recent.json" >/dev/null || fail "log --json: $(cat "$T/recent.json")"
jq -e -s '[.[] | select(.id == "good/demo") | .type] ==
	["queued", "started", "published"]' "$T/recent.json" >/dev/null ||
	fail "good/demo's events: $(jq -c 'select(.id == "good/demo")' "$T/recent.json")"
jq -e -s 'any(.[]; .id == "rej/bad" and .type == "failed"
	and .http_status == 400)' "$T/recent.json" >/dev/null ||
	fail "no failed event for rej/bad: $(cat "$T/recent.json")"

# 2. -c keeps one channel's events.
run smmctl log -c bad --json
[ "$rc" -eq 0 ] || fail "smmctl log -c bad exited $rc: $(cat "$T/err")"
jq -e -s 'length >= 3 and all(.[]; .channel == "bad")' "$T/out" >/dev/null ||
	fail "log -c bad: $(cat "$T/out")"

# 3. An unknown channel: exit 65 with smmd's message.
run smmctl log -c nope
[ "$rc" -eq 65 ] || fail "log -c nope exited $rc, want 65"
grep -q "unknown channel 'nope'" "$T/err" || fail "log -c nope said: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "log -c nope printed: $(cat "$T/out")"

# 4. The human lines: local time to the millisecond, type, id, from ->
#    state, then what applies.
run smmctl log
[ "$rc" -eq 0 ] || fail "smmctl log exited $rc: $(cat "$T/err")"
[ "$(wc -l <"$T/out")" -eq "$(wc -l <"$T/recent.json")" ] ||
	fail "smmctl log printed $(wc -l <"$T/out") lines for $(wc -l <"$T/recent.json") events"
# local_ms RFC3339: the same instant as smmctl prints it, in local time.
local_ms() {
	local ms
	ms=$(iso_to_ms "$1")
	printf '%s.%03d' "$(date -d "@$((ms / 1000))" '+%Y-%m-%d %H:%M:%S')" $((ms % 1000))
}
ev=$(jq -c 'select(.id == "good/demo" and .type == "published")' "$T/recent.json")
want="$(local_ms "$(jq -r .time <<<"$ev")")  published  good/demo  publishing -> published  attempt 1, HTTP 200, "
line=$(grep '  published  good/demo  ' "$T/out") || fail "no published line: $(cat "$T/out")"
case $line in
"$want"[0-9]*" ms" | "$want"[0-9]*" s") ;;
*) fail "published line '$line', want '$want<latency>'" ;;
esac
ev=$(jq -c 'select(.id == "rej/bad" and .type == "failed")' "$T/recent.json")
want="$(local_ms "$(jq -r .time <<<"$ev")")  failed     rej/bad  publishing -> failed  attempt 1, HTTP 400, "
line=$(grep '  failed     rej/bad  ' "$T/out") || fail "no failed line: $(cat "$T/out")"
case $line in
"$want"*" ms, {\"error\":\"nope\"}" | "$want"*" s, {\"error\":\"nope\"}") ;;
*) fail "failed line '$line', want '$want<latency>, <reason>'" ;;
esac
grep -Eq '  queued     good/demo  new -> scheduled  next [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}$' "$T/out" ||
	fail "no queued line for good/demo: $(cat "$T/out")"

# 5. The follower printed every event as it came (a file is not a
#    terminal: each line was flushed, or it would still be buffered),
#    exactly what log shows now.
# (A latency may be written with fewer digits on one path: same double.)
same_events() {
	jq -c 'if has("latency_ms") then .latency_ms |= (. * 1000 | round)
		else . end' "$1"
}
diff -u <(same_events "$T/recent.json") <(same_events "$T/follow.out") >&2 ||
	fail "the follower's events differ from smmctl log's"
kill -0 "$FOLLOWER" 2>/dev/null || fail "the follower exited: $(cat "$T/follow.err")"

# 6. A follower that stops reading is dropped; once it reads again it
#    gets smmd's last word, prints it and exits 75 (EX_TEMPFAIL).
"$SMMCTL_BIN" log --follow >"$T/slow.out" 2>"$T/slow.err" &
SLOW=$!
E2E_PIDS+=("$SLOW")
wait_for '[ "$(smmctl status --json | jq .followers)" -eq 2 ]' 10 ||
	fail "the second follower did not subscribe: $(cat "$T/slow.err")"
kill -STOP "$SLOW"
# 4,000 posts due now, on one connection: some 3 MB of events for it.
base=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
awk -v at="$base" 'BEGIN { for (i = 1; i <= 4000; i++)
	printf "{\"id\":%d,\"cmd\":\"add\",\"args\":{\"channels\":[\"demo\"],\"id\":\"s%d\",\"text\":\"t\",\"at\":\"%s\"}}\n", i, i, at }' |
	socat -t 60 - "UNIX-CONNECT:$SOCK" >"$T/adds"
wait_for "grep -q 'is not reading its events; dropping it' '$T/smmd.log'" 30 ||
	fail "the stopped follower was not dropped"
kill -CONT "$SLOW"
wait_pid_exit "$SLOW" 10
[ "$E2E_EXIT" -eq 75 ] || fail "the dropped follower exited $E2E_EXIT, want 75: $(cat "$T/slow.err")"
grep -q "not reading events fast enough: dropped after missing [1-9]" "$T/slow.err" ||
	fail "the dropped follower said: $(cat "$T/slow.err")"
grep -q '  published  s1/demo  ' "$T/slow.out" ||
	fail "the dropped follower printed nothing of what it was sent"

# 7. smmd stops: the follower says so and exits 69 (EX_UNAVAILABLE).
stop_smmd
wait_pid_exit "$FOLLOWER" 10
[ "$E2E_EXIT" -eq 69 ] || fail "the follower exited $E2E_EXIT when smmd stopped, want 69"
grep -q "smmd closed the connection" "$T/follow.err" ||
	fail "the follower said: $(cat "$T/follow.err")"
log "ok"
