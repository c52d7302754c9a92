#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A 429 with "Retry-After: 2" delays the retry by at least 2 s; an HTTP-date
# Retry-After delays it until that date.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink --status-seq 429,200 --retry-after 2
port_seconds=$SINK_PORT
# The date form: a second sink whose 429 says "not before now + 4 s".
date_s=$(($(date +%s) + 4))
http_date=$(date -u -d "@$date_s" +'%a, %d %b %Y %H:%M:%S GMT')
start_sink --status-seq 503,200 --retry-after "$http_date"
port_date=$SINK_PORT
write_config "secs,port=$port_seconds" "dated,port=$port_date"
start_smmd

smmctl add -c secs --id ra1 "retry after seconds" >/dev/null
smmctl add -c dated --id ra2 "retry after a date" >/dev/null

wait_state ra1/secs published 20
reqs=$(sink_posts_for ra1)
[ "$(jq length <<<"$reqs")" -eq 2 ] || fail "expected 2 requests for ra1, got $(jq length <<<"$reqs")"
[ "$(jq -r '.[0].status' <<<"$reqs")" = 429 ] || fail "first reply to ra1 was not 429"
gap_ms=$((($(jq -r '.[1].t_us - .[0].t_us' <<<"$reqs")) / 1000))
log "ra1: retry came $gap_ms ms after the 429 with Retry-After: 2"
[ "$gap_ms" -ge 1900 ] || fail "retry came $gap_ms ms after 'Retry-After: 2'"
[ "$gap_ms" -le 10000 ] || fail "retry came only $gap_ms ms after 'Retry-After: 2'"

wait_state ra2/dated published 20
reqs=$(sink_posts_for ra2)
[ "$(jq length <<<"$reqs")" -eq 2 ] || fail "expected 2 requests for ra2, got $(jq length <<<"$reqs")"
t2_ms=$(($(jq -r '.[1].t_us' <<<"$reqs") / 1000))
log "ra2: retry came $((t2_ms - date_s * 1000)) ms after the Retry-After date $http_date"
[ "$t2_ms" -ge $((date_s * 1000 - 100)) ] ||
	fail "retry at $(ms_to_iso "$t2_ms") came before 'Retry-After: $http_date'"
[ "$t2_ms" -le $((date_s * 1000 + 10000)) ] ||
	fail "retry at $(ms_to_iso "$t2_ms") came long after 'Retry-After: $http_date'"

stop_smmd
log "ok"
