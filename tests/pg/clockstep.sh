#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A node's clock set wrong, in a cluster of two on one PostgreSQL. Node a
# works on a wall clock the test sets through libfaketime (its monotonic
# clock untouched, as a real step leaves it); node b is a standby on the
# machine's clock. a's clock set 10 minutes ahead while posts are due in
# 0.8 s and a few seconds: a publishes nothing early (its timer fires
# for the first, and it finds its wall clock stepped), it stops working
# (outvoted by PostgreSQL's clock and b's) and b takes over and
# publishes both once. a comes back as a standby that says its clock is
# wrong and never works on it, even alone. Mended, a works again.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

FAKETIME_LIB=
for f in /usr/lib/*/faketime/libfaketime.so.1; do
	[ -e "$f" ] && FAKETIME_LIB=$f
done
[ -n "$FAKETIME_LIB" ] || skip "libfaketime is not installed"
# An smmd built with AddressSanitizer wants its runtime first.
ASAN_LIB=$(ldd "$SMMD_BIN" 2>/dev/null | awk '/libasan/ { print $3 }')
PRELOAD=${ASAN_LIB:+$ASAN_LIB }$FAKETIME_LIB

# a_clock OFFSET: node a's clock, OFFSET seconds from the machine's.
a_clock() {
	echo "$1" >"$T/a.clock"
}
# sink_fences ID: the fences ID's requests carried, one a line.
sink_fences() {
	sink_posts_for "$1" | jq -r '.[].post.fence'
}
a_clock +0
start_sink
write_config -g "store: postgresql://" demo
# Node a alone under libfaketime, not the test's own tools; it keeps the
# preload when it starts afresh in place.
env LD_PRELOAD="$PRELOAD" FAKETIME_TIMESTAMP_FILE="$T/a.clock" \
	FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$SMMD_BIN" -c "$CFG" --foreground 2>>"$T/smmd.log" &
SMMD_PID=$!
E2E_PIDS+=("$SMMD_PID")
wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 20 ||
	fail "a does not work: $(tail -n 5 "$T/smmd.log")"
start_cluster_node b
PID_B=$NODE_PID
wait_for "[ \"\$(node_role '$T/sock_b')\" = standby ]" 15 || fail "b is no standby"
wait_for "[ \"\$(max_claim_fence)\" -gt 0 ]" 5 || fail "a claims nothing"
a_fence=$(max_claim_fence)

# p0 falls due 0.8 s after the step, before a's next beat can have
# measured its clock: a's timer fires on time, and a finds its wall
# clock 10 minutes from where its monotonic one says it should be.
due0=$(($(now_ms) + 3000))
due=$((due0 + 6000))
smmctl add --channel demo --id p0 --at "$(ms_to_iso "$due0")" "held" >/dev/null
smmctl add --channel demo --id p1 --at "$(ms_to_iso "$due")" "on time" >/dev/null
while [ "$(now_ms)" -lt $((due0 - 800)) ]; do sleep 0.01; done
a_clock +600
stepped=$(now_ms)
[ "$stepped" -lt $((due0 - 300)) ] || fail "the step came too late to test"
wait_for "[ \"\$(node_role '$T/sock_b')\" = working ]" 10 ||
	fail "b did not take over: $(tail -n 5 "$T/smmd.log")"
log "b works $(($(now_ms) - stepped)) ms after a's clock was set 10 min ahead"
grep -Eq "this node's clock is \+(599|600)[0-9]{3} ms from PostgreSQL's" "$T/smmd.log" ||
	fail "a did not say its clock is wrong: $(tail -n 8 "$T/smmd.log")"
# p0 was held by a, not sent on its wrong clock, and went out from b.
grep -q "clock is in doubt" "$T/smmd.log" || fail "a did not hold p0"
wait_for "[ \"\$(sink_count p0)\" -ge 1 ]" 10 || fail "p0 never arrived"
at=$(sink_posts_for p0 | jq -r '.[0].t_us / 1000 | floor')
log "p0 published by b $((at - due0)) ms after its due time"
[ "$at" -ge "$due0" ] && [ $((at - due0)) -le 5000 ] ||
	fail "p0 published $((at - due0)) ms from its due time"
wait_for "[ \"\$(sink_count p1)\" -ge 1 ]" 12 || fail "p1 never arrived"
at=$(sink_posts_for p1 | jq -r '.[0].t_us / 1000 | floor')
log "p1 published $((at - due)) ms after its due time"
[ "$at" -ge "$due" ] || fail "p1 left $((due - at)) ms early"
[ $((at - due)) -le 1000 ] || fail "p1 was $((at - due)) ms late"

# a comes back, in place, as a standby that says why it does not work.
wait_for "[ \"\$(node_role '$SOCK')\" = standby ]" 15 ||
	fail "a did not come back as a standby: $(tail -n 5 "$T/smmd.log")"
a_status() {
	smmctl status --json | jq -e '.cluster | .clock_skewed and
		.clock_outvoted and (.clock_offset_ms < -590000)' >/dev/null
}
wait_for a_status 5 || fail "a's status: $(smmctl status --json | jq -c .cluster)"
smmctl status | grep -q "a STANDBY: its clock disagrees" ||
	fail "a's status does not say its clock is wrong: $(smmctl status)"
# b's own status lists a, with a's offset and the warning.
b_warns() {
	SMMD_SOCKET=$T/sock_b smmctl status --json | jq -e '[.cluster.nodes[]
		| select(.role == "standby" and .clock_skewed)] | length == 1' \
		>/dev/null
}
wait_for b_warns 8 ||
	fail "b's status does not warn about a's clock: $(SMMD_SOCKET=$T/sock_b smmctl status --json | jq -c .cluster.nodes)"

# b dies while a's clock is still wrong: a does not work on it, even
# alone (PostgreSQL's clock, the only other vote, wins the tie), once
# b's lease has run out and for beats after.
kill -KILL "$PID_B"
wait "$PID_B" 2>/dev/null || true
e2e_forget "$PID_B"
wait_for "[ \"\$(pg 'select count(*) from smmd_node where lease_until > clock_timestamp()')\" = 0 ]" 8 ||
	fail "b's lease did not run out"
for _ in 1 2 3 4 5 6; do
	[ "$(node_role "$SOCK")" = standby ] || fail "a works on a wrong clock"
	sleep 0.5
done
[ "$(pg 'select count(*) from smmd_node')" = 0 ] ||
	fail "a registered on a wrong clock: $(pg 'select node_id from smmd_node')"
# Nothing a sent from the step on carried its fence (it sent nothing):
# each went with a claim of b's, drawn after a's.
for id in p0 p1; do
	[ "$(sink_count "$id")" -eq 1 ] ||
		fail "$id reached the sink $(sink_count "$id") times"
	[ "$(sink_fences "$id")" -gt "$a_fence" ] ||
		fail "$id went out under a's fence"
done
# Mended: a works, and publishes what falls due from then on, on time.
a_clock +0
wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 10 ||
	fail "a did not work once its clock was right: $(tail -n 5 "$T/smmd.log")"
due2=$(($(now_ms) + 3000))
smmctl add --channel demo --id p2 --at "$(ms_to_iso "$due2")" "mended" >/dev/null
wait_for "[ \"\$(sink_count p2)\" -ge 1 ]" 10 || fail "p2 never arrived"
at=$(sink_posts_for p2 | jq -r '.[0].t_us / 1000 | floor')
[ "$at" -ge "$due2" ] && [ $((at - due2)) -le 2000 ] ||
	fail "p2 published $((at - due2)) ms from its due time"
sleep 1
for id in p0 p1 p2; do
	[ "$(sink_count "$id")" -eq 1 ] ||
		fail "$id reached the sink $(sink_count "$id") times"
done
log "ok"
