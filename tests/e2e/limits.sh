#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Per-channel delivery controls hold under a burst: max_in_flight caps the
# requests a channel has open at once, min_interval spaces two posts'
# starts; and a busy channel does not hold back the others.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# Every reply takes 200 ms, so concurrency shows at the sink.
start_sink --delay-ms 200
write_config capped,max_in_flight=2 spaced,min_interval=300ms free,max_in_flight=8
start_smmd

# All due at one instant a little ahead, so the burst is there however
# slowly the adds arrive (a sanitizer build on a loaded machine takes a
# few hundred ms per smmctl).
at=$(date -u -d '+8 seconds' +%Y-%m-%dT%H:%M:%SZ)
for i in 1 2 3 4 5 6 7 8; do
	smmctl add -c capped --at "$at" --id "c$i" "capped $i" >/dev/null
	smmctl add -c free --at "$at" --id "f$i" "free $i" >/dev/null
done
for i in 1 2 3 4; do
	smmctl add -c spaced --id "s$i" "spaced $i" >/dev/null
done
wait_for "[ \$(list_json --status published | jq length) -eq 20 ]" 30 ||
	fail "not all 20 posts were published"

# Arrival times (ms) per channel, sorted.
arrivals() {
	sink_requests | jq -s --arg ch "$1" \
		'[.[] | select(.method == "POST" and .post.channel == $ch)
		  | .t_us / 1000] | sort'
}

# At most N arrivals within any window shorter than one reply (190 ms).
peak() {
	jq '. as $t | [range(length) as $i
	     | [$t[] | select(. >= $t[$i] and . < $t[$i] + 190)] | length] | max'
}
capped=$(arrivals capped | peak)
free=$(arrivals free | peak)
log "peak concurrency: capped $capped (max_in_flight 2), free $free (max_in_flight 8)"
[ "$capped" -le 2 ] || fail "capped channel had $capped requests open at once"
[ "$capped" -eq 2 ] || fail "capped channel never used both of its slots"
[ "$free" -gt 2 ] || fail "the free channel was held to $free by another's cap"

# smmd's own record of when each attempt left is exact; the sink's receipt
# times add scheduling jitter on a loaded machine.
min_gap='[range(1; length) as $i | .[$i] - .[$i-1]] | min'
started=$(for i in 1 2 3 4; do
	delivery_json "s$i/spaced" | jq -r '.attempts[0].started'
done | while read -r t; do iso_to_ms "$t"; done | jq -s "sort | $min_gap")
gaps=$(arrivals spaced | jq "$min_gap")
log "smallest gap between spaced posts: $started ms at smmd, $gaps ms at the sink (min_interval 300 ms)"
jq_true ". >= 300" <<<"$started" || fail "min_interval broken: attempts $started ms apart"
jq_true ". >= 250" <<<"$gaps" || fail "min_interval broken at the sink: gap of $gaps ms"

stop_smmd
log "ok"
