#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Scheduled posts survive a clean stop: one due while smmd is down goes out
# on start (catch-up), one due after the restart goes out at its time; each
# exactly once. Stopping with posts still scheduled exits 0.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
write_config demo
start_smmd

smmctl add -c demo --id down1 --at +2s "due while smmd is down" >/dev/null
smmctl add -c demo --id later1 --at +6s "due after the restart" >/dev/null
smmctl add -c demo --id far1 --at +1d "due tomorrow" >/dev/null
due_down=$(iso_to_ms "$(delivery_json down1/demo | jq -r .due)")
due_later=$(iso_to_ms "$(delivery_json later1/demo | jq -r .due)")
stop_smmd

# Let down1 fall due while nothing runs.
wait_for "[ \$(now_ms) -ge $((due_down + 500)) ]" 10
[ "$(sink_count down1)" -eq 0 ] || fail "down1 was sent before smmd stopped"

start_smmd
wait_state down1/demo published 10
t=$(($(sink_posts_for down1 | jq -r '.[0].t_us') / 1000))
log "down1 went out $((t - due_down)) ms after its due time (smmd was down)"
[ "$(delivery_state later1/demo)" = scheduled ] ||
	fail "later1/demo is '$(delivery_state later1/demo)' before its time"
[ "$(delivery_state far1/demo)" = scheduled ] ||
	fail "far1/demo is '$(delivery_state far1/demo)' after a restart"
wait_state later1/demo published 15
t=$(($(sink_posts_for later1 | jq -r '.[0].t_us') / 1000))
log "later1 went out $((t - due_later)) ms after its due time"
[ "$t" -ge $((due_later - 50)) ] || fail "later1 went out $((due_later - t)) ms early"
settle demo +1s
[ "$(sink_count down1)" -eq 1 ] || fail "down1 arrived $(sink_count down1) times"
[ "$(sink_count later1)" -eq 1 ] || fail "later1 arrived $(sink_count later1) times"
[ "$(sink_count far1)" -eq 0 ] || fail "far1 was sent a day early"

# Stop with a post still scheduled (far1), start and stop again.
stop_smmd
start_smmd
[ "$(delivery_state far1/demo)" = scheduled ] || fail "far1/demo lost its state"
smmctl cancel far1 >/dev/null
stop_smmd
log "ok"
