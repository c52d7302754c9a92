#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A node's clock set wrong, in a cluster of two on one PostgreSQL. Node a
# works on a wall clock the test sets through libfaketime (its monotonic
# clock untouched, as a real step leaves it); node b is a standby on the
# machine's clock. a's clock set 10 minutes ahead while a post is due in
# a few seconds: a publishes nothing early, it stops working (outvoted
# by PostgreSQL's clock and b's) and b takes over and publishes the post
# once, on time. a comes back as a standby that says its clock is wrong
# and never works on it. Its clock mended, a works again once b dies.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

FAKETIME_LIB=
for f in /usr/lib/*/faketime/libfaketime.so.1; do
	[ -e "$f" ] && FAKETIME_LIB=$f
done
[ -n "$FAKETIME_LIB" ] || skip "libfaketime is not installed"

# a_clock OFFSET: node a's clock, OFFSET seconds from the machine's.
a_clock() {
	echo "$1" >"$T/a.clock"
}
a_clock +0
start_sink
write_config -g "store: postgresql://" demo
LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$T/a.clock \
	FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 start_smmd
[ "$(node_role "$SOCK")" = working ] || fail "a does not work"
sed "s|$T/state|$T/state_b|; s|$SOCK|$T/sock_b|" "$CFG" >"$T/b.yaml"
"$SMMD_BIN" -c "$T/b.yaml" --foreground 2>>"$T/b.log" &
PID_B=$!
E2E_PIDS+=("$PID_B")
wait_for "[ \"\$(node_role '$T/sock_b')\" = standby ]" 15 || fail "b is no standby"
a_fence=$(smmctl status --json | jq -r .cluster.epoch)

# p0 falls due 0.8 s after the step, before a's next beat can have
# measured its clock: a's timer fires on time, and a finds its wall
# clock 10 minutes from where its monotonic one says it should be.
due=$(($(now_ms) + 8000))
smmctl add --channel demo --id p1 --at "$(ms_to_iso "$due")" "on time" >/dev/null
due0=$(($(now_ms) + 1800))
smmctl add --channel demo --id p0 --at "$(ms_to_iso "$due0")" "held" >/dev/null
sleep 1
a_clock +600
stepped=$(now_ms)
wait_for "[ \"\$(node_role '$T/sock_b')\" = working ]" 10 ||
	fail "b did not take over: $(tail -n 5 "$T/smmd.log")"
log "b works $(($(now_ms) - stepped)) ms after a's clock was set 10 min ahead"
grep -Eq "this node's clock is \+(599|600)[0-9]{3} ms from PostgreSQL's" "$T/smmd.log" ||
	fail "a did not say its clock is wrong: $(tail -n 8 "$T/smmd.log")"
wait_for "[ \"\$(sink_count p1)\" -ge 1 ]" 12 || fail "p1 never arrived"
at=$(sink_posts_for p1 | jq -r '.[0].t_us / 1000 | floor')
log "p1 published $((at - due)) ms after its due time"
[ "$at" -ge "$due" ] || fail "p1 left $((due - at)) ms early"
[ $((at - due)) -le 5000 ] || fail "p1 was $((at - due)) ms late"
sleep 1
[ "$(sink_count p1)" -eq 1 ] || fail "p1 reached the sink $(sink_count p1) times"
fence=$(sink_posts_for p1 | jq -r '.[0].post.fence')
[ "$fence" -gt "$a_fence" ] || fail "p1 went out under a's fence $fence"
# p0 was held by a, not sent on its wrong clock, and went out from b.
grep -q "clock is in doubt" "$T/smmd.log" || fail "a did not hold p0"
[ "$(sink_count p0)" -eq 1 ] || fail "p0 reached the sink $(sink_count p0) times"
at=$(sink_posts_for p0 | jq -r '.[0].t_us / 1000 | floor')
log "p0 published by b $((at - due0)) ms after its due time"
[ "$(sink_posts_for p0 | jq -r '.[0].post.fence')" -gt "$a_fence" ] ||
	fail "p0 went out under a's fence"
[ "$at" -ge "$due0" ] && [ $((at - due0)) -le 5000 ] ||
	fail "p0 published $((at - due0)) ms from its due time"

# a comes back, in place, as a standby that says why it does not work.
wait_for "[ \"\$(node_role '$SOCK')\" = standby ]" 15 ||
	fail "a did not come back as a standby: $(tail -n 5 "$T/smmd.log")"
smmctl status --json | jq -e '.cluster | .clock_skewed and
	(.clock_offset_ms < -590000)' >/dev/null ||
	fail "a's status: $(smmctl status --json | jq -c .cluster)"
# b's own status lists a, with a's offset and the warning.
SMMD_SOCKET=$T/sock_b smmctl status --json | jq -e '[.cluster.nodes[]
	| select(.role == "standby" and .clock_skewed)] | length == 1' \
	>/dev/null || fail "b's status does not warn about a's clock: $(SMMD_SOCKET=$T/sock_b smmctl status --json | jq -c .cluster.nodes)"

# b dies while a's clock is still wrong: a does not work on it, even
# alone (PostgreSQL's clock, the only other vote, wins the tie), past
# the 3 s b's lease ran.
kill -KILL "$PID_B"
wait "$PID_B" 2>/dev/null || true
e2e_forget "$PID_B"
sleep 5
[ "$(node_role "$SOCK")" = standby ] || fail "a works on a wrong clock"
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
log "ok"
