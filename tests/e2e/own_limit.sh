#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A channel held back by its own max_in_flight while others keep every
# global slot busy is served as soon as one of its own requests ends: its
# next start is the very next start, not one after every other channel's
# turn of the ring (dispatch.c, job_ended). Two busy channels share 4
# slots with a third whose limit is 1; every reply takes 20 ms.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink --delay-ms 20
write_config -g "max_in_flight: 4" "a,max_in_flight=4" "b,max_in_flight=4" \
	"one,max_in_flight=1"
start_smmd
follow_events

# All due at one instant, over one connection: a and b's 60 each, then
# one's 6, last in the schedule.
t0=$(($(now_ms) + 4000))
jq -n -c --argjson t0 "$t0" "$JQ_ISO"'
	[(range(60) | ["a", "p\(.)"], ["b", "q\(.)"]), (range(6) | ["one", "o\(.)"])]
	| to_entries[] | {id: .key, cmd: "add", args: {channels: [.value[0]],
		id: .value[1], text: "post \(.value[1])", at: iso($t0)}}' >"$T/adds"
add_all "$T/adds" 126
[ "$(now_ms)" -lt "$t0" ] || fail "queueing took past the posts' due time"

wait_for '[ "$(smmctl status --json | jq .counts.published)" -eq 126 ]' 60 ||
	fail "not all published: $(smmctl status --json | jq -c .counts)"
wait_followed 126 10

# For each of one's posts but the last (another of its posts waited): the
# channel of the next start.
jq -s -c "$JQ_STARTS_ENDS"'starts_ends as $e
	| [range(length) as $i
	   | select($e[$i].type == "published" and $e[$i].channel == "one")
	   | $i][:-1]
	| map(first($e[. + 1:][] | select(.type == "started")).channel)' \
	"$T/follow.out" >"$T/next"
# And how many of a's and b's starts came between two of one's: the
# others were busy, so one's limit held it, not a lack of work.
jq -s -c '[.[] | select(.type == "started")] | sort_by(.seq) | map(.channel)
	| [indices("one")[] ] as $o
	| [range(1; $o | length) as $k | $o[$k] - $o[$k - 1] - 1]' \
	"$T/follow.out" >"$T/between"
log "after each of one's ends, the next start was on: $(cat "$T/next"); starts of the others between two of one's: $(cat "$T/between")"
jq -e 'length == 5 and all(.[]; . == "one")' "$T/next" >/dev/null ||
	fail "a request of one ended and another channel started first: $(cat "$T/next")"
jq -e 'any(.[]; . > 0)' "$T/between" >/dev/null ||
	fail "no other channel started between one's posts: nothing was busy"
[ "$(sink_requests | jq -s '[.[] | select(.method == "POST")] | length')" -eq 126 ] ||
	fail "the sink did not get 126 requests"
stop_smmd
log "ok"
