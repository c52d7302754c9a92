#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# No public duplicates: smmd is killed (SIGKILL) while a Slack request is
# held open by the sink. Slack can't drop a repeat, so after the restart the
# delivery is "unknown" and NOT re-sent; the notify channel gets a notice
# naming it; "smmctl retry" sends it (published), and "smmctl resolve
# --published --url" settles another one by hand without sending anything.
# Nor does libcurl re-send one by itself: a Slack request whose connection
# is closed without an answer is unknown, though a reused connection that
# dies so makes libcurl try again on a new one.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

TXT=H:Content-Type=text/plain
H=/services/T0/B0
# main: the first request is held, later ones answered; held: always held.
start_sink \
	--rule "POST $H/main hold" \
	--rule "POST $H/main 200 $TXT ok" \
	--rule "POST $H/held hold" \
	--rule "POST $H/reuse 200 $TXT ok" \
	--rule "POST $H/reuse close" \
	--rule "POST $H/reuse 200 $TXT ok"
base=http://127.0.0.1:$SINK_PORT$H
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $SOCK
channels:
  main:
    publisher: slack
    url: $base/main
    notify: alerts
    timeout: 30s
    retry_base: 100ms
    retry_max: 1s
  held:
    publisher: slack
    url: $base/held
    notify: alerts
    timeout: 30s
    retry_base: 100ms
    retry_max: 1s
  reuse:
    publisher: slack
    url: $base/reuse
    retry_base: 100ms
    retry_max: 1s
  alerts:
    publisher: webhook
    url: http://127.0.0.1:$SINK_PORT/hook/alerts
    retry_base: 100ms
    retry_max: 1s
EOF
start_smmd

on_path() {
	sink_requests | jq -s -c --arg p "$H/$1" '[.[] | select(.path == $p)]
		| sort_by(.t_us)'
}
count_on() {
	on_path "$1" | jq length
}

smmctl add -c main --id u1 "held while smmd dies" >/dev/null
smmctl add -c held --id u2 "held too" >/dev/null
# The requests reached the sink (it logs before holding): kill smmd now.
wait_for '[ "$(count_on main)" -ge 1 ] && [ "$(count_on held)" -ge 1 ]' 15 ||
	fail "the requests did not reach the sink"
[ "$(on_path main | jq -r '.[0].action')" = hold ] || fail "main was not held"
[ "$(delivery_state u1/main)" = publishing ] ||
	fail "u1/main is '$(delivery_state u1/main)' while held, not publishing"
crash_smmd
log "killed smmd while 2 requests were held"

start_smmd
list=$(list_json)
jq_true '[.[] | select(.id == "u1/main" or .id == "u2/held") | .state]
	== ["unknown", "unknown"]' <<<"$list" ||
	fail "after restart: $(jq -c '[.[] | {id, state}]' <<<"$list")"
smmctl list | grep 'u1/main' | grep -q unknown ||
	fail "smmctl list (text) does not show u1/main unknown: $(smmctl list)"

# The notices name each delivery; they come after the restart's decision,
# so once both are in, a blind re-send would have come too.
notices() {
	sink_requests | jq -r 'select(.path == "/hook/alerts") | .post.text'
}
wait_for 'notices | grep -q "u1/main" && notices | grep -q "u2/held"' 15 ||
	fail "no notice naming u1/main and u2/held: $(notices)"
notices | grep 'u1/main' | grep -q unknown ||
	fail "the notice does not say unknown: $(notices | grep u1/main)"
sleep 1
[ "$(count_on main)" -eq 1 ] || fail "u1/main was re-sent blindly"
[ "$(count_on held)" -eq 1 ] || fail "u2/held was re-sent blindly"
[ "$(delivery_state u1/main)" = unknown ] || fail "u1/main left unknown by itself"

# retry: sent once more, answered, published.
smmctl retry u1/main >"$T/retry.out" || fail "smmctl retry: $(cat "$T/retry.out")"
wait_state u1/main published 15
[ "$(count_on main)" -eq 2 ] || fail "retry sent $(($(count_on main) - 1)) requests"
[ "$(on_path main | jq -r '.[1].status')" = 200 ] || fail "the retry was not answered 200"

# resolve: settled by hand, nothing sent.
smmctl resolve u2/held --published --url https://slack.example/archives/C1/p1 \
	>"$T/resolve.out" || fail "smmctl resolve: $(cat "$T/resolve.out")"
[ "$(delivery_state u2/held)" = published ] ||
	fail "u2/held is '$(delivery_state u2/held)' after resolve"
[ "$(delivery_json u2/held | jq -r .remote_url)" = https://slack.example/archives/C1/p1 ] ||
	fail "resolve --url was not recorded: $(delivery_json u2/held | jq -c .)"
sleep 0.5
[ "$(count_on held)" -eq 1 ] || fail "resolve sent a request"

# The first request leaves a connection smmd could reuse; the sink closes
# the second's without an answer. Sent once, unknown: the third reply of
# the sink's script is never asked for.
smmctl add -c reuse --id r1 "opens a connection" >/dev/null
wait_state r1/reuse published 15
smmctl add -c reuse --id r2 "its connection is closed" >/dev/null
wait_state r2/reuse unknown 15
sleep 0.5
[ "$(count_on reuse)" -eq 2 ] ||
	fail "r2 was re-sent: $(on_path reuse | jq -c '[.[] | {action, status}]')"

stop_smmd
log "ok"
