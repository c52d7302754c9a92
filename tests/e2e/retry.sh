#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# HTTP 500 twice, then 200: published on attempt 3, one webhook-id for all
# three requests. Then 503 until max_attempts is spent: failed, no more tries.
# Then a connection closed without a reply: a network error, retried.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink --status-seq 500,500,200,503,503,close,close,200
write_config demo "limited,max_attempts=2"
start_smmd

smmctl add -c demo --id r1 "retry me" >/dev/null
wait_state r1/demo published 20
reqs=$(sink_posts_for r1)
[ "$(jq length <<<"$reqs")" -eq 3 ] ||
	fail "expected 3 requests for r1, got $(jq length <<<"$reqs")"
[ "$(jq -c '[.[].post.attempt]' <<<"$reqs")" = '[1,2,3]' ] ||
	fail "attempt fields are $(jq -c '[.[].post.attempt]' <<<"$reqs"), expected [1,2,3]"
[ "$(jq -c '[.[].status]' <<<"$reqs")" = '[500,500,200]' ] ||
	fail "sink replied $(jq -c '[.[].status]' <<<"$reqs")"
[ "$(jq '[.[].headers["webhook-id"]] | unique | length' <<<"$reqs")" -eq 1 ] ||
	fail "webhook-id changed between retries: $(jq -c '[.[].headers["webhook-id"]]' <<<"$reqs")"
[ "$(jq -r '.[0].headers["webhook-id"] | length' <<<"$reqs")" -gt 0 ] ||
	fail "no webhook-id header"
[ "$(jq '[.[].headers["idempotency-key"]] | unique | length' <<<"$reqs")" -eq 1 ] ||
	fail "idempotency-key changed between retries"

d=$(delivery_json r1/demo)
[ "$(jq -c '[.attempts[].http_status]' <<<"$d")" = '[500,500,200]' ] ||
	fail "show lists attempts $(jq -c '[.attempts[].http_status]' <<<"$d"), expected [500,500,200]"
[ "$(jq -c '[.attempts[].n]' <<<"$d")" = '[1,2,3]' ] ||
	fail "show numbers the attempts $(jq -c '[.attempts[].n]' <<<"$d")"
grep -q "'r1'" "$T/smmd.log" || fail "smmd.log never names post 'r1'"

# Retries exhausted: two 503s on a channel with max_attempts 2 -> failed.
smmctl add -c limited --id r2 "give up" >/dev/null
wait_state r2/limited failed 20

# The receiver drops the connection without a reply, twice (curl itself
# resends once when a reused connection dies): a network error, retried.
smmctl add -c demo --id r3 "dropped" >/dev/null
wait_state r3/demo published 20

settle demo +2s
[ "$(sink_count r2)" -eq 2 ] ||
	fail "r2 was tried $(sink_count r2) times with max_attempts 2"
d=$(delivery_json r2/limited)
[ "$(jq -c '[.attempts[].http_status]' <<<"$d")" = '[503,503]' ] ||
	fail "r2 attempts are $(jq -c '[.attempts[].http_status]' <<<"$d")"
list_json --status failed | jq_true 'any(.[]; .id == "r2/limited")' ||
	fail "list --status failed does not show r2/limited"

[ "$(sink_count r3)" -eq 3 ] || fail "r3 reached the sink $(sink_count r3) times, expected 3"
d=$(delivery_json r3/demo)
[ "$(jq -r '.attempts[0].http_status' <<<"$d")" = null ] ||
	fail "a dropped connection has an HTTP status: $d"
[ -n "$(jq -r '.attempts[0].error // empty' <<<"$d")" ] ||
	fail "a dropped connection left no error: $d"
[ "$(jq -r '.attempts[-1].http_status' <<<"$d")" = 200 ] ||
	fail "the last attempt of r3 is not HTTP 200: $d"
log "r3 attempt 1 error: $(jq -r '.attempts[0].error' <<<"$d")"

stop_smmd
log "ok"
