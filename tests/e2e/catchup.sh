#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Downtime across a due time: within catch_up the post still goes out at
# start; later than that it becomes 'missed', with the reason shown by
# smmctl and a notice on the channel's notify channel.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
write_config -g "catch_up: 3s" demo,notify=alerts alerts
start_smmd
# Both fall due while smmd is down: 'missed' at +1s, 'late' at +4s. At
# +5.5s, 'missed' is 4.5s late (past the 3s window), 'late' 1.5s (within).
smmctl add -c demo --at +1s --id missed "too late" >/dev/null
smmctl add -c demo --at +4s --id late "late but in time" >/dev/null
stop_smmd
sleep 5.5
start_smmd
wait_state late/demo published 10
wait_for "[ \"\$(delivery_state missed/demo)\" = missed ]" 10 ||
	fail "missed/demo is $(delivery_state missed/demo), expected missed"
reason=$(delivery_json missed/demo | jq -r .last_error)
case $reason in
*catch_up*) ;;
*) fail "missed/demo does not say why: '$reason'" ;;
esac
smmctl list --status missed | grep -q "missed/demo" || fail "list does not show missed/demo"
wait_for "sink_requests | jq -r 'select(.post.channel == \"alerts\") | .post.text' | grep -q missed/demo" 10 ||
	fail "no notice about missed/demo"
[ "$(sink_count missed)" -eq 0 ] || fail "a missed post was sent"
stop_smmd
log "ok"
