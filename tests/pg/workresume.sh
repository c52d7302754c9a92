#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A pause and a resume beside a worker (doc/cluster.md): a worker holds at its gate
# by the pauses its view has read, a beat behind the working node's. A
# post on the worker's channel due just after a resume may be held under
# the pause that has just ended, after the resume listed what it held:
# it stayed held for good. The working node, told of the hold by its
# pull, settles it as the resume said.
# - A pause reaches b at once (NOTIFY smmd_pause makes it pull rather
#   than wait for its next beat): a post on b's channel due 300 ms after
#   the pause is held, not sent, and goes once resumed.
# - Paused on a; ten posts on b's channel, due 100 ms apart from the
#   moment of the resume on: every one goes out, once, within 5 s of its
#   due time; whatever b held late says it was settled.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_sink
write_config -g "store: postgresql://" -g "share_work: true" c1 c2
start_worker_pair
log "b fires $b_chan"

b_pauses() {
	SMMD_SOCKET=$T/sock_b "$SMMCTL_BIN" status --json | jq '.pauses | length'
}
# 1. The pause reaches b at once (NOTIFY smmd_pause), not at its next
# beat: a post on b's channel due 300 ms after the pause is held there.
due=$(($(now_ms) + 2500))
smmctl add -c "$b_chan" --id early --at "$(ms_to_iso "$due")" "early" \
	>/dev/null || fail "adding early"
wait_for "SMMD_SOCKET='$T/sock_b' '$SMMCTL_BIN' show early >/dev/null 2>&1" 5 ||
	fail "b did not read early"
while [ "$(now_ms)" -lt $((due - 300)) ]; do sleep 0.01; done
smmctl pause --all --reason drill >/dev/null || fail "pause"
t=$(now_ms)
wait_for "[ \"\$(b_pauses)\" = 1 ]" 5 || fail "b did not read the pause"
log "b read the pause within $(($(now_ms) - t)) ms of its answer"
while [ "$(now_ms)" -lt $((due + 1000)) ]; do sleep 0.05; done
[ "$(sink_count early)" -eq 0 ] || fail "early went out 300 ms after the pause"
wait_state "early/$b_chan" held 5 # a reads b's hold at its next pull

# 2. The resume, and what b held under it after it.
resume_at=$(($(now_ms) + 3000))
for i in 0 1 2 3 4 5 6 7 8 9; do
	smmctl add -c "$b_chan" --id "p$i" \
		--at "$(ms_to_iso $((resume_at + 50 + i * 100)))" "p$i" >/dev/null ||
		fail "adding p$i"
done
wait_for "SMMD_SOCKET='$T/sock_b' '$SMMCTL_BIN' show p9 >/dev/null 2>&1" 5 ||
	fail "b did not read the posts"
while [ "$(now_ms)" -lt "$resume_at" ]; do sleep 0.01; done
run smmctl resume --all
[ "$rc" -eq 0 ] || fail "resume: $err"
for i in 0 1 2 3 4 5 6 7 8 9; do
	wait_state "p$i/$b_chan" published 10
	[ "$(sink_count "p$i")" -eq 1 ] || fail "p$i reached the sink $(sink_count "p$i") times"
	late=$(sink_posts_for "p$i" | jq -r --argjson due $((resume_at + 50 + i * 100)) \
		'.[0].t_us / 1000 - $due | floor')
	[ "$late" -le 5000 ] || fail "p$i went out ${late} ms late"
done
wait_state "early/$b_chan" published 10
[ "$(sink_count early)" -eq 1 ] || fail "early reached the sink $(sink_count early) times"
held_late=$(grep -c "held by another node as pause" "$T/smmd.log" || true)
log "b held $(grep -c "' held: paused" "$T/b.log" || true) posts; a settled late holds $held_late times"
smmd_alive && pid_running "$B_PID" || fail "a node died"
log ok
