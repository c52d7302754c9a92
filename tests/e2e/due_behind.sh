#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A post due just after a burst is behind every post of the burst in the
# schedule. The burst's first requests take every slot and wait for their
# instant, so no slot frees before it; what is due soon still moves to
# the channels' queues meanwhile (dispatch.c, dispatch_arm), and the
# quiet channel's post is in its queue when the first slot frees: it is
# the next start. Were the moves paced by the slots freed, at most
# DUE_MOVE_MAX (2,048) a loop turn, 10,000 posts would keep it out of its
# queue past the first slot freed, which would go to the burst (with
# 5,000, the moves a finishing job makes reached it about 1 time in 4).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# Replies take 100 ms: the first slot frees 100 ms after the instant.
start_sink --delay-ms 100
write_config -g "max_in_flight: 16" "a,max_in_flight=16" quiet
start_smmd
follow_events

N=10000
t0=$(($(now_ms) + 8000))
jq -n -c --argjson n "$N" --argjson t0 "$t0" "$JQ_ISO"'
	(range($n) | {id: ., cmd: "add", args: {channels: ["a"], id: "p\(.)",
		text: "burst \(.)", at: iso($t0)}}),
	{id: $n, cmd: "add", args: {channels: ["quiet"], id: "q1",
		text: "quiet", at: iso($t0 + 20)}}' >"$T/adds"
add_all "$T/adds" $((N + 1))
[ "$(now_ms)" -lt "$t0" ] || fail "queueing $N posts took past their due time"

# Not the whole burst (10,000 at 16 a 100 ms): the quiet post's start and
# a few rounds of the burst's.
wait_for '[ "$(delivery_state q1/quiet)" = published ]' 30 ||
	fail "the quiet post was not published: $(delivery_json q1/quiet | jq -c .)"
wait_followed 48 20

# The channel of the first start after the first request ended.
jq -s -r "$JQ_STARTS_ENDS"'starts_ends as $e
	| ($e | map(.type) | index("published")) as $i
	| first($e[$i + 1:][] | select(.type == "started")).channel' \
	"$T/follow.out" >"$T/next"
late=$(($(iso_to_ms "$(delivery_json q1/quiet | jq -r '.attempts[0].started')") - t0 - 20))
log "the first start after the first end was on: $(cat "$T/next"); the quiet post left $late ms after its due time"
[ "$(cat "$T/next")" = quiet ] ||
	fail "the first slot freed went to '$(cat "$T/next")', not to the quiet post due then"
[ "$(sink_count q1)" -eq 1 ] || fail "the quiet post arrived $(sink_count q1) times"
stop_smmd
log "ok"
