#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A calendar sync beside a worker (doc/cluster.md, what may conflict): a,
# the working node, syncs the calendar; b, a worker, fires one of the two
# channels. A sync that edited or cancelled a post b was preparing would
# write a row b changes the same moment: one of the two would have its
# writes refused and start afresh in place. a leaves such a delivery
# (due within 2 s either way, on a channel another node fires) for a
# sync 9 s later, and says so.
# - Half a second before two posts on b's channel are due, the calendar
#   edits one and drops the other, and edits a third due a minute later:
#   the reload says 1 updated, 2 deferred; the two go out once each, as
#   they were; the third's edit is made; a syncs again by itself; no
#   write is refused on either node.
# - A deferred change that still has something to change: b's channel
#   paused, a post on it edited half a second before it is due is
#   deferred, held by b at its time, edited at the sync after, and goes
#   out with the new words, once, when resumed.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_sink
CAL=$T/calendar.yaml
printf 'posts: []\n' >"$CAL"
write_config -g "store: postgresql://" -g "share_work: true" \
	-g "calendar: $CAL" c1 c2
start_worker_pair
log "b fires $b_chan"
# calendar DUE_MS LATER_MS [edited]: the calendar's posts on b's channel,
# as first written or as edited (edit changed, drop gone, far changed).
calendar() {
	local words="old words" far="far, old"
	[ -z "${3:-}" ] || words="new words" far="far, new"
	{
		printf 'posts:\n'
		printf '  - id: edit\n    at: %s\n    channels: [%s]\n    text: %s\n' \
			"$(ms_to_iso_s "$1")" "$b_chan" "$words"
		[ -n "${3:-}" ] ||
			printf '  - id: drop\n    at: %s\n    channels: [%s]\n    text: dropped\n' \
				"$(ms_to_iso_s "$1")" "$b_chan"
		printf '  - id: far\n    at: %s\n    channels: [%s]\n    text: %s\n' \
			"$(ms_to_iso_s "$2")" "$b_chan" "$far"
	} >"$CAL.new"
	mv "$CAL.new" "$CAL"
}

due=$((($(now_ms) / 1000 + 7) * 1000))
calendar "$due" $((due + 60000))
run smmctl reload
[ "$rc" -eq 0 ] || fail "reload: $err"
grep -q "calendar: 3 added" <<<"$out" || fail "first reload said: $out"
wait_for "SMMD_SOCKET='$T/sock_b' '$SMMCTL_BIN' show edit >/dev/null 2>&1" 5 ||
	fail "b did not read edit"

# Half a second before edit and drop are due.
while [ "$(now_ms)" -lt $((due - 500)) ]; do sleep 0.01; done
calendar "$due" $((due + 60000)) edited
run smmctl reload
[ "$rc" -eq 0 ] || fail "reload: $err"
log "reload: $(tail -n 1 <<<"$out")"
grep -q "1 updated, 0 cancelled, 0 unchanged, 0 missed, 2 deferred" <<<"$out" ||
	fail "the reload did not defer edit and drop: $out"
for p in edit drop; do
	wait_state "$p/$b_chan" published 10
	[ "$(sink_count "$p")" -eq 1 ] || fail "$p reached the sink $(sink_count "$p") times"
done
text=$(sink_posts_for edit | jq -r '.[0].post.text')
[ "$text" = "old words" ] || fail "edit went out as '$text'"
[ "$(delivery_json "far/$b_chan" | jq -r .text)" = "far, new" ] ||
	fail "far was not edited: $(delivery_json "far/$b_chan" | jq -c .)"
# a syncs again by itself: edit and drop went out, so nothing changes.
wait_for "grep -q 'reload: calendar changes left for a moment' '$T/smmd.log'" 15 ||
	fail "a did not sync again"
wait_for "grep -q \"reload: calendar '$CAL': 0 added, 0 updated, 0 cancelled, 2 unchanged, 0 missed, 0 deferred\" '$T/smmd.log'" 5 ||
	fail "the second sync: $(grep "reload: calendar '" "$T/smmd.log" | tail -n 1)"
no_write_refused "$T/smmd.log" "$T/b.log" || fail "a write was refused"

# 2. Paused: the deferred edit is made at the sync after, on the held post.
smmctl pause -c "$b_chan" --reason drill >/dev/null || fail "pause"
# held WORDS: the calendar's one post on b's channel, due at $due.
held() {
	printf 'posts:\n  - id: held\n    at: %s\n    channels: [%s]\n    text: %s\n' \
		"$(ms_to_iso_s "$due")" "$b_chan" "$1" >"$CAL.new"
	mv "$CAL.new" "$CAL"
}
due=$((($(now_ms) / 1000 + 7) * 1000))
held "old words"
run smmctl reload
grep -q "calendar: 1 added" <<<"$out" || fail "third reload said: $out"
while [ "$(now_ms)" -lt $((due - 500)) ]; do sleep 0.01; done
held "new words"
n=$(grep -c 'reload: calendar changes left for a moment' "$T/smmd.log")
run smmctl reload
grep -q "1 deferred" <<<"$out" || fail "the paused post was not deferred: $out"
wait_for "[ \$(grep -c 'reload: calendar changes left for a moment' '$T/smmd.log') -gt $n ]" 15 ||
	fail "a did not sync again"
wait_for "[ \"\$(delivery_json 'held/$b_chan' | jq -r .text)\" = 'new words' ]" 5 ||
	fail "held was not changed at the sync after: $(delivery_json "held/$b_chan" | jq -c .)"
[ "$(delivery_state "held/$b_chan")" = held ] ||
	fail "held is $(delivery_state "held/$b_chan"), not held"
smmctl resume -c "$b_chan" --publish >/dev/null || fail "resume"
wait_state "held/$b_chan" published 10
text=$(sink_posts_for held | jq -r '.[0].post.text')
[ "$text" = "new words" ] || fail "held went out as '$text'"
[ "$(sink_count held)" -eq 1 ] || fail "held reached the sink $(sink_count held) times"
no_write_refused "$T/smmd.log" "$T/b.log" || fail "a write was refused"
smmd_alive && pid_running "$B_PID" || fail "a node died"
log ok
