#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Commands on a delivery go to the node that fires its channel (doc/
# cluster.md, step 3; daemon/route.c): a, the working node, and b, a
# worker, split c1 and c2.
# - Three posts on b's channel, each cancelled through a 200 ms before
#   it is due (b has it in its heap, its view a beat behind a's write):
#   each cancel says it cancelled it, none reaches the sink, and neither
#   node has a write refused (two nodes writing one row would: one of
#   them starts afresh in place).
# - A post on both channels, cancelled through b (relayed to a, whose
#   part for b's channel goes back to b): both deliveries cancelled, each
#   by the node that fires its channel, one reply.
# - A delivery on b's channel that failed, retried through a: b retries
#   it, and sends it again at once.
# - A post on b's channel, due a second later, cancelled through a the
#   moment it is added: b, whose view had not read it, pulls before it
#   runs the cancel, and cancels it; never sent.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

# Each channel's first request is refused for good (HTTP 400), the
# rest taken.
start_sink --rule "POST /hook/c1 400 {\"error\":\"bad\"}" \
	--rule "POST /hook/c1 200 {\"ok\":true}" \
	--rule "POST /hook/c2 400 {\"error\":\"bad\"}" \
	--rule "POST /hook/c2 200 {\"ok\":true}"
write_config -g "store: postgresql://" -g "share_work: true" c1 c2
start_worker_pair
log "b fires $b_chan, a $a_chan"
# 1. Cancelled through a, 200 ms before due, on b's channel.
for i in 1 2 3; do
	due=$(($(now_ms) + 1500))
	smmctl add -c "$b_chan" --id "late$i" --at "$(ms_to_iso "$due")" \
		"cancel me" >/dev/null || fail "adding late$i"
	while [ "$(now_ms)" -lt $((due - 200)) ]; do sleep 0.01; done
	run smmctl cancel "late$i"
	[ "$rc" -eq 0 ] || fail "cancel late$i: $err $out"
	[ "$out" = "cancelled late$i/$b_chan" ] || fail "cancel late$i said $out"
	sleep 0.5
done
sleep 1
for i in 1 2 3; do
	[ "$(sink_count "late$i")" -eq 0 ] || fail "late$i reached the sink"
	[ "$(delivery_state "late$i/$b_chan")" = cancelled ] ||
		fail "late$i is $(delivery_state "late$i/$b_chan")"
done
no_write_refused "$T/smmd.log" "$T/b.log" || fail "a write was refused"

# 2. A post on both channels, cancelled through b.
due=$(($(now_ms) + 3000))
smmctl add -c c1 -c c2 --id both --at "$(ms_to_iso "$due")" "both" \
	>/dev/null || fail "adding both"
sleep 1.5 # b has read it
run env SMMD_SOCKET="$T/sock_b" "$SMMCTL_BIN" cancel both
[ "$rc" -eq 0 ] || fail "cancel both through b: $err $out"
[ "$(printf '%s\n' "$out" | sort | tr '\n' ,)" = "cancelled both/c1,cancelled both/c2," ] ||
	fail "cancel both said $out"
while [ "$(now_ms)" -lt $((due + 1500)) ]; do sleep 0.1; done
[ "$(sink_count both)" -eq 0 ] || fail "both reached the sink"
grep -q "'both/$b_chan' cancelled" "$T/b.log" ||
	fail "b did not cancel both/$b_chan: $(grep both/ "$T/smmd.log" | tail -n 2)"
grep -q "'both/$a_chan' cancelled" "$T/smmd.log" ||
	fail "a did not cancel both/$a_chan"

# 3. A delivery on b's channel fails (the 400), and is retried through
# a: b sends it at once.
smmctl add -c "$b_chan" --id flop "fails once" >/dev/null
wait_state "flop/$b_chan" failed 10
t0=$(now_ms)
run smmctl retry "flop/$b_chan"
[ "$rc" -eq 0 ] || fail "retry through a: $err $out"
wait_for "[ \"\$(sink_count flop)\" -ge 2 ]" 5 || fail "flop was not sent again"
log "flop sent again $(($(now_ms) - t0)) ms after the retry"
wait_state "flop/$b_chan" published 10
grep -q "post 'flop' channel '$b_chan' attempt 2" "$T/b.log" ||
	fail "b did not send flop again: $(grep flop "$T/smmd.log" | tail -n 2)"
grep -q "'flop/$b_chan' retried by hand" "$T/b.log" ||
	fail "the retry did not run on b: $(grep 'retried by hand' "$T/smmd.log")"

# 4. Cancelled through a as soon as added: b has not read it yet.
smmctl add -c "$b_chan" --id fresh --at "$(ms_to_iso $(($(now_ms) + 1000)))" \
	"fresh" >/dev/null || fail "adding fresh"
run smmctl cancel fresh
[ "$rc" -eq 0 ] || fail "cancel fresh: $err $out"
[ "$out" = "cancelled fresh/$b_chan" ] || fail "cancel fresh said $out"
sleep 2
[ "$(sink_count fresh)" -eq 0 ] || fail "fresh reached the sink"
[ "$(delivery_state "fresh/$b_chan")" = cancelled ] ||
	fail "fresh is $(delivery_state "fresh/$b_chan")"
grep -q "'fresh/$b_chan' cancelled" "$T/b.log" ||
	fail "b did not cancel fresh: $(grep fresh/ "$T/smmd.log" | tail -n 2)"
no_write_refused "$T/smmd.log" "$T/b.log" || fail "a write was refused"
log ok
