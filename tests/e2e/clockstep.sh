#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The schedule is armed on the wall clock (timerfd, CLOCK_REALTIME,
# TFD_TIMER_CANCEL_ON_SET): when the clock is set, smmd notices at once,
# re-evaluates what is due and re-arms. The step here is zero-sized (the
# clock is set to its own time), so nothing else on the machine moves;
# skipped where the clock can't be set (no CAP_SYS_TIME).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

step_clock() {
	date -u -s "@$(date +%s.%N)" >/dev/null 2>&1
}
step_clock || skip "cannot set the system clock here (needs CAP_SYS_TIME)"

start_sink
write_config demo
start_smmd
smmctl add -c demo --at +3s --id after-step "still on time" >/dev/null
due=$(delivery_json after-step/demo | jq -r .due)
step_clock || fail "setting the clock failed the second time"
wait_for "grep -q 're-evaluating the schedule' '$T/smmd.log'" 5 ||
	fail "smmd did not notice the clock being set"
wait_state after-step/demo published 15
t_us=$(sink_posts_for after-step | jq '.[0].t_us')
late_ms=$(((t_us / 1000) - $(iso_to_ms "$due")))
log "published ${late_ms} ms after its due time"
[ "$late_ms" -ge 0 ] || fail "sent ${late_ms} ms before its time"
[ "$late_ms" -lt 2000 ] || fail "sent ${late_ms} ms late after a clock step"

# A step that lands between the kernel marking the timer and smmd reading
# it makes the next arm fail with ECANCELED instead: smmd must take that
# as one more step, not die. Re-arming often (an add re-arms) while the
# clock is stepped again and again makes that window likely.
for i in $(seq 1 40); do
	smmctl add -c demo --at +1h --id "arm-$i" "re-armed" >/dev/null &
	adder=$!
	step_clock
	wait "$adder" || fail "add arm-$i failed while the clock was set"
done
kill -0 "$SMMD_PID" || fail "smmd died while the clock was being set"
smmctl status >/dev/null || fail "smmd stopped answering after clock steps"
stop_smmd
log "ok"
