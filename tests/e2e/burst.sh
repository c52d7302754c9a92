#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# 6,000 posts due at one instant on three channels: more than one loop
# turn moves from the schedule to the channels' queues (dispatch.c,
# DUE_MOVE_MAX), and every post still arrives exactly once, every
# channel is served from the start, and a post due just after the burst
# on a fourth channel is published too. The 6,001 requests come piped
# in one connection, served over many turns, answered in order. The
# channels are served 8 at a time (DISPATCH_QUANTUM), in turn.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
# 24 slots: the first turn fills them and leaves most of what is due in
# the schedule, which then moves a turn's share at a time, slots full.
write_config -g "max_in_flight: 24" "a,max_in_flight=16" \
	"b,max_in_flight=16" "c,max_in_flight=16" steady
start_smmd
# Every start, in order (its event's seq), for the quantum below.
follow_events

N=6000
t0=$(($(now_ms) + 8000))
jq -n -c --argjson n "$N" --argjson t0 "$t0" "$JQ_ISO"'
	# Queued channel after channel: the schedule holds a, then b, then c.
	(range($n) | {id: ., cmd: "add", args: {
		channels: [["a", "b", "c"][(. / ($n / 3) | floor)]],
		id: "p\(.)", text: "burst \(.)", at: iso($t0)}}),
	{id: $n, cmd: "add", args: {channels: ["steady"], id: "s1",
		text: "steady", at: iso($t0 + 100)}}' >"$T/adds"
add_all "$T/adds" $((N + 1))
# Served a turn's budget at a time (control.c): each reply still comes,
# once, in the order of the requests.
jq -s -e --argjson n "$N" '[.[].id] == [range($n + 1)]' "$T/replies" \
	>/dev/null || fail "the replies are not one per request, in order"
[ "$(now_ms)" -lt "$t0" ] || fail "queueing $N posts took past their due time"

published() {
	smmctl status --json | jq -r '.counts.published'
}
wait_for '[ "$(published)" -eq $((N + 1)) ]' 60 ||
	fail "not all published: $(smmctl status --json | jq -c .counts)"

sink_requests | jq -s -c '[.[] | select(.method == "POST") | .post.id]' \
	>"$T/ids"
jq_true --argjson n "$N" \
	'length == $n + 1 and (unique | length) == $n + 1' <"$T/ids" ||
	fail "$(jq 'length' <"$T/ids") requests for $((N + 1)) posts, $(jq 'unique | length' <"$T/ids") distinct"
# Each of a, b and c among the first 300 requests: the queues were
# served round-robin, not one channel's 2,000 after another's.
sink_requests | jq -s -r '[.[] | select(.method == "POST")] | sort_by(.t_us)
	| .[:300][] | .path' | sort | uniq -c >"$T/first"
log "first 300 requests by path: $(tr -s ' \n' ' ' <"$T/first")"
for ch in a b c; do
	grep -q "/hook/$ch\$" "$T/first" || fail "channel $ch not served among the first 300"
done
# While all three have posts waiting (from the first start of the last
# to start until the first to run out), each channel served starts 8 in
# a row, never more, then the next is served: a run of one channel's
# starts is 8 long, but around the steady post, which cuts in (the
# channel it cut in front of then starts the rest of its 8).
wait_for '[ "$(grep -c "\"type\":\"started\"" "$T/follow.out")" -ge $((N + 1)) ]' 10 ||
	fail "the follower saw $(grep -c '"type":"started"' "$T/follow.out") starts of $((N + 1))"
jq -s -c '[.[] | select(.type == "started")]
	| sort_by(.seq) | map(.channel) as $c
	| ([["a", "b", "c"][] as $ch | $c | index($ch)] | max) as $from
	| ([["a", "b", "c"][] as $ch | $c | rindex($ch)] | min) as $to
	| reduce $c[$from:$to + 1][] as $x ([];
		if length > 0 and .[-1][0] == $x then .[-1][1] += 1
		else . + [[$x, 1]] end)
	| . as $r | {runs: length, longest: (map(.[1]) | max),
		of8: (map(select(.[1] == 8)) | length),
		around_steady: [range(1; length - 1) as $i
			| select($r[$i][0] == "steady" and $r[$i - 1][0] == $r[$i + 1][0])
			| $r[$i - 1][1] + $r[$i + 1][1]]}' "$T/follow.out" >"$T/runs"
log "runs of one channel's starts while all three waited: $(cat "$T/runs")"
jq -e '.longest <= 8 and .runs >= 100 and .of8 >= .runs * 0.9 and
	all(.around_steady[]; . <= 8)' "$T/runs" >/dev/null ||
	fail "the channels were not served 8 at a time: $(cat "$T/runs")"
[ "$(sink_count s1)" -eq 1 ] || fail "the steady post arrived $(sink_count s1) times"
! grep -E " (error|warning) " "$T/smmd.log" ||
	fail "smmd logged a warning or an error during the burst"
stop_smmd
log "ok"
