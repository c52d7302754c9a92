#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A receiver that never answers: the attempt times out after the channel's
# timeout and the retry publishes. Then SIGTERM with a request held in
# flight: smmd exits 0 within shutdown_grace, and the delivery is not lost.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

GRACE_S=2
# POST 1 (to1, attempt 1) is held, POST 2 (to1, attempt 2) gets 200,
# POST 3 (to2 on the slow channel) is held, everything after gets 200.
start_sink --status-seq hold,200,hold
write_config -g "shutdown_grace: ${GRACE_S}s" "demo,timeout=1s" "slow,timeout=60s"
start_smmd

t0=$(now_ms)
smmctl add -c demo --id to1 "time me out" >/dev/null
wait_state to1/demo published 15
log "to1 published $(($(now_ms) - t0)) ms after it was queued"
reqs=$(sink_posts_for to1)
[ "$(jq length <<<"$reqs")" -eq 2 ] || fail "to1 reached the sink $(jq length <<<"$reqs") times, expected 2"
[ "$(jq -r '.[0].action' <<<"$reqs")" = hold ] || fail "the first request of to1 was not the held one"
gap_ms=$((($(jq -r '.[1].t_us - .[0].t_us' <<<"$reqs")) / 1000))
log "to1: second attempt $gap_ms ms after the first (timeout 1s)"
[ "$gap_ms" -ge 900 ] || fail "the retry came $gap_ms ms after the first request, before the 1 s timeout"
[ "$(jq '[.[].headers["webhook-id"]] | unique | length' <<<"$reqs")" -eq 1 ] ||
	fail "webhook-id changed after a timeout"
d=$(delivery_json to1/demo)
[ "$(jq -r '.attempts | length' <<<"$d")" -eq 2 ] || fail "to1 does not show 2 attempts: $d"
err=$(jq -r '.attempts[0].error // ""' <<<"$d")
case $err in
*[Tt]ime* | *TIME*) ;;
*) fail "attempt 1 of to1 has error '$err', expected a timeout" ;;
esac
[ "$(jq -r '.attempts[0].http_status' <<<"$d")" = null ] ||
	fail "a timed-out attempt has an HTTP status: $d"
[ "$(jq -r '.attempts[1].http_status' <<<"$d")" = 200 ] || fail "attempt 2 of to1 is not HTTP 200: $d"

# SIGTERM while a request is held by the receiver.
smmctl add -c slow --id to2 "in flight at shutdown" >/dev/null
wait_arrivals to2 1 15
[ "$(delivery_state to2/slow)" = publishing ] ||
	fail "to2/slow is '$(delivery_state to2/slow)' while its request is held"
kill -TERM "$SMMD_PID"
wait_pid_exit "$SMMD_PID" $((GRACE_S + 10))
log "smmd exited $E2E_EXIT, $E2E_WAITED_MS ms after SIGTERM with a request in flight"
[ "$E2E_EXIT" -ne 137 ] || fail "smmd did not exit within $((GRACE_S + 10)) s of SIGTERM"
[ "$E2E_EXIT" -eq 0 ] || fail "smmd exited $E2E_EXIT after SIGTERM"
[ "$E2E_WAITED_MS" -le $(((GRACE_S + 3) * 1000)) ] ||
	fail "smmd took $E2E_WAITED_MS ms to stop with shutdown_grace ${GRACE_S}s"
SMMD_PID=

# Not lost: after a restart it is sent again (same webhook-id) and published.
start_smmd
wait_state to2/slow published 20
reqs=$(sink_posts_for to2)
[ "$(jq length <<<"$reqs")" -eq 2 ] || fail "to2 reached the sink $(jq length <<<"$reqs") times, expected 2"
[ "$(jq '[.[].headers["webhook-id"]] | unique | length' <<<"$reqs")" -eq 1 ] ||
	fail "webhook-id changed across the restart"
[ "$(jq -r '.[1].status' <<<"$reqs")" = 200 ] || fail "the resent to2 was not answered 200"

stop_smmd
log "ok"
