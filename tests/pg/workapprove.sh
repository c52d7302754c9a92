#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# approve beside a worker goes to the node that fires the delivery's
# channel (doc/cluster.md, step 3; route.h), as cancel does: at a
# draft's time that node's gate holds it awaiting approval, and the
# working node's view is up to a beat behind that write, so the two
# nodes writing the row crossed and one of them had its group refused
# (it started afresh in place). a works, b is a worker; both channels
# require approval.
# - Three drafts on b's channel, each approved through a 200 ms before
#   it is due: b approves each, and each goes out once, within a second
#   of its time; no node has a write refused (without the routing, the
#   first one's was, and it went out 2.5 s late).
# - A post on both channels, approved through b: each delivery approved
#   by the node that fires its channel, and one reply names both and
#   who approved.
# - A draft b held at its time, approved through a: b releases it, once.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_sink
write_config -g "store: postgresql://" -g "share_work: true" \
	"c1,require_approval=true" "c2,require_approval=true"
start_worker_pair
log "b fires $b_chan"
me=$(id -un)
b_reads() {
	SMMD_SOCKET=$T/sock_b "$SMMCTL_BIN" show "$1" >/dev/null 2>&1
}

# 1. Approved through a, 200 ms before due, on b's channel.
for i in 1 2 3; do
	due=$(($(now_ms) + 1500))
	smmctl add -c "$b_chan" --id "d$i" --at "$(ms_to_iso "$due")" \
		"draft $i" >/dev/null || fail "adding d$i"
	wait_for "b_reads d$i" 5 || fail "b did not read d$i"
	while [ "$(now_ms)" -lt $((due - 200)) ]; do sleep 0.01; done
	run smmctl approve --json "d$i"
	[ "$rc" -eq 0 ] || fail "approve d$i through a: $err $out"
	jq -e --arg id "d$i/$b_chan" --arg me "$me" \
		'.approved | length == 1 and .[0].id == $id' <<<"$out" >/dev/null &&
		jq -e --arg me "$me" '.by == $me and (.at | length) > 0' <<<"$out" \
			>/dev/null || fail "approve d$i said $out"
	wait_state "d$i/$b_chan" published 5
	[ "$(sink_count "d$i")" -eq 1 ] || fail "d$i reached the sink $(sink_count "d$i") times"
	no_write_refused "$T/smmd.log" "$T/b.log" ||
		fail "a write was refused at d$i's approve"
	late=$(sink_posts_for "d$i" | jq -r --argjson due "$due" \
		'.[0].t_us / 1000 - $due | floor')
	[ "$late" -le 1000 ] || fail "d$i went out ${late} ms late"
	grep -q "delivery 'd$i/$b_chan' approved: by $me" "$T/b.log" ||
		fail "b did not approve d$i: $(grep "d$i/" "$T/smmd.log" | tail -n 2)"
done

# 2. A post on both channels, approved through b: one reply, both parts.
due=$(($(now_ms) + 3000))
smmctl add -c c1 -c c2 --id both --at "$(ms_to_iso "$due")" "both" \
	>/dev/null || fail "adding both"
wait_for "b_reads both" 5 || fail "b did not read both"
run env SMMD_SOCKET="$T/sock_b" "$SMMCTL_BIN" approve --json both
[ "$rc" -eq 0 ] || fail "approve both through b: $err $out"
jq -e --arg me "$me" '(.approved | map(.id) | sort) == ["both/c1", "both/c2"]
	and .by == $me' <<<"$out" >/dev/null || fail "approve both said $out"
wait_state "both/c1" published 10
wait_state "both/c2" published 10
[ "$(sink_count both)" -eq 2 ] || fail "both reached the sink $(sink_count both) times"
grep -q "delivery 'both/$b_chan' approved: by $me" "$T/b.log" ||
	fail "b did not approve both/$b_chan"
grep -q "delivery 'both/$a_chan' approved: by $me" "$T/smmd.log" ||
	fail "a did not approve both/$a_chan"

# 3. Held by b's gate at its time, awaiting approval; approved through a.
smmctl add -c "$b_chan" --id late --at "$(ms_to_iso $(($(now_ms) + 1000)))" \
	"late" >/dev/null || fail "adding late"
wait_state "late/$b_chan" held 10
run smmctl approve --json late
[ "$rc" -eq 0 ] || fail "approve late through a: $err $out"
jq -e '.approved[0].released == true' <<<"$out" >/dev/null ||
	fail "approve late said $out"
wait_state "late/$b_chan" published 10
[ "$(sink_count late)" -eq 1 ] || fail "late reached the sink $(sink_count late) times"
grep -q "delivery 'late/$b_chan' approved: by $me" "$T/b.log" ||
	fail "b did not approve late"
no_write_refused "$T/smmd.log" "$T/b.log" || fail "a write was refused"
log ok
