#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# status's per-state counts are kept by the event bus, not counted per
# request: after a mixed run (adds, cancels, permanent failures, retries
# that run out, a calendar sync that adds and removes, requests in flight
# at a kill -9, a catch-up that misses, retry and resolve by hand) they
# must equal a recount of the store file, and again after each restart.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed"

# demo: 200; bad: 400 (permanent); flaky: 503 (runs out of attempts);
# slow: never answers (in flight at the kill).
start_sink --rule 'POST /hook/bad 400 {"error":"no"}' \
	--rule 'POST /hook/flaky 503 {"error":"busy"}' \
	--rule 'POST /hook/slow hold'
CAL=$T/calendar.yaml
write_config -g "calendar: $CAL" -g "catch_up: 1s" demo bad \
	flaky,max_attempts=2 slow,timeout=60s

at() {
	date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ
}
later=$(at 7200)
cat >"$CAL" <<YAML
posts:
  - id: cal-keep
    at: $later
    channels: [demo, bad]
    text: stays
  - id: cal-drop
    at: $later
    channels: [demo]
    text: removed by the next edit
YAML

# status's counts and the store's, both as {"state": n} with every state.
counts_status() {
	smmctl status --json | jq -S -c '.counts | with_entries(select(.value > 0))'
}
counts_store() {
	sqlite3 -readonly "$T/state/smmd.db" \
		'SELECT state, count(*) FROM deliveries GROUP BY state' |
		jq -R -s -S -c 'split("\n") | map(select(length > 0) | split("|")
			| {key: .[0], value: (.[1] | tonumber)}) | from_entries'
}
# Equal once nothing moves; give the last commit a moment to land.
check_counts() {
	local what=$1
	wait_for '[ "$(counts_status)" = "$(counts_store)" ]' 5 ||
		fail "$what: status says $(counts_status), the store has $(counts_store)"
	log "$what: $(counts_status)"
}

start_smmd
check_counts "a first calendar sync"

for i in $(seq 1 20); do
	printf '{"id":%d,"cmd":"add","args":{"channels":["demo"],"id":"ok%d","text":"t"}}\n' "$i" "$i"
done >"$T/adds"
for i in 1 2 3; do
	printf '{"id":%d,"cmd":"add","args":{"channels":["bad","flaky"],"id":"x%d","text":"t"}}\n' "$((100 + i))" "$i"
	printf '{"id":%d,"cmd":"add","args":{"channels":["demo","bad"],"id":"f%d","text":"t","at":"%s"}}\n' "$((200 + i))" "$i" "$later"
done >>"$T/adds"
printf '{"id":300,"cmd":"add","args":{"channels":["slow"],"id":"s1","text":"t"}}\n' >>"$T/adds"
socat -t 30 - "UNIX-CONNECT:$SOCK" <"$T/adds" >"$T/replies"
[ "$(jq -s '[.[] | select(.ok)] | length' "$T/replies")" -eq 27 ] ||
	fail "adds refused: $(jq -c 'select(.ok != true)' "$T/replies" | head -n 3)"
smmctl cancel f1 >/dev/null
smmctl cancel f2/bad >/dev/null
wait_state x3/flaky failed 20
wait_state x3/bad failed 20
wait_state ok20/demo published 20
wait_state s1/slow publishing 20
check_counts "adds, cancels, failures"

# By hand: a failed one retried (fails again), one resolved each way.
smmctl retry x1/bad >/dev/null
smmctl resolve x2/bad --published >/dev/null
smmctl resolve x1/flaky --failed >/dev/null
wait_for "[ \"\$(delivery_state x1/bad)\" = failed ]" 10 ||
	fail "x1/bad was not tried again"
check_counts "retry and resolve by hand"

# The calendar drops a post and gains one.
cat >"$CAL.new" <<YAML
posts:
  - id: cal-keep
    at: $later
    channels: [demo, bad]
    text: stays
  - id: cal-new
    at: $later
    channels: [demo]
    text: added by the edit
YAML
mv "$CAL.new" "$CAL"
smmctl reload >/dev/null
wait_for "[ \"\$(delivery_state cal-drop/demo)\" = cancelled ]" 10 ||
	fail "the edit did not cancel cal-drop"
check_counts "a calendar edit"

# kill -9 with s1 in flight and m1 due in 2 s; back after its catch-up.
smmctl add -c demo --id m1 --at "$(at 2)" "missed" >/dev/null
crash_smmd
sleep 4
start_smmd
wait_state m1/demo missed 10
check_counts "a restart after kill -9"
[ "$(delivery_state s1/slow)" = publishing ] ||
	[ "$(delivery_state s1/slow)" = retry_wait ] ||
	fail "s1 is $(delivery_state s1/slow) after the restart"

# A clean stop keeps the counts for the next start, which takes them
# (spares itself the count) and forgets them at once: a crash after
# that must make the start after it count the store again.
saved() {
	sqlite3 -readonly "$T/state/smmd.db" \
		'SELECT state, n FROM saved_counts' |
		jq -R -s -S -c 'split("\n") | map(select(length > 0) | split("|")
			| {key: .[0], value: (.[1] | tonumber)}) | from_entries'
}
stop_smmd
[ "$(saved)" = "$(counts_store)" ] ||
	fail "a clean stop kept $(saved), the store has $(counts_store)"
start_smmd
check_counts "a clean restart"
[ "$(saved)" = "{}" ] || fail "the counts were not taken at start: $(saved)"
smmctl add -c demo --id after-clean "t" >/dev/null
smmctl add -c bad --id after-clean-bad "t" >/dev/null
wait_state after-clean/demo published 10
wait_state after-clean-bad/bad failed 10
crash_smmd
start_smmd
check_counts "a kill -9 after a clean restart"
stop_smmd
log "ok"
