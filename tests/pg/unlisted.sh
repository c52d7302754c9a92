#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A channel no live node lists (doc/cluster.md, claims): b's channel
# leaves a's file, so b alone lists it; then b is killed. What waits on
# the channel is not failed, as a single node fails a removed channel's
# posts: the node that lists it may be down a minute.
# - p1, due while b is down, waits; a says the channel is in no live
#   node's configuration, in its log and its status; b comes back
#   within catch_up and sends p1, once.
# - p2, due once b is down for good, is missed (never sent) no sooner
#   than catch_up after its due time, and says why.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

CATCH_UP_MS=12000
start_sink
write_config -g "store: postgresql://" -g "share_work: true" \
	-g "catch_up: $((CATCH_UP_MS / 1000))s" c1 c2
start_worker_pair
log "b ($B_NODE) fires $b_chan"
warned="channel '$b_chan' is in no live node's configuration"
start_b() {
	"$SMMD_BIN" -c "$T/b.yaml" --foreground 2>>"$T/b.log" &
	B_PID=$!
	E2E_PIDS+=("$B_PID")
}
kill_b() {
	kill -KILL "$B_PID"
	wait "$B_PID" 2>/dev/null || true
	e2e_forget "$B_PID"
}

# 1. Both posts queued through a, then b's channel leaves a's file.
t0=$(now_ms)
p1_due=$((t0 + 5000))
p2_due=$((t0 + 20000))
smmctl add -c "$b_chan" --id p1 --at "$(ms_to_iso "$p1_due")" "p1" >/dev/null ||
	fail "adding p1"
smmctl add -c "$b_chan" --id p2 --at "$(ms_to_iso "$p2_due")" "p2" >/dev/null ||
	fail "adding p2"
sed -i "/^  $b_chan:/,/^  [a-z]/{/^  $a_chan:/!d}" "$CFG"
! grep -q "^  $b_chan:" "$CFG" && grep -q "^  $b_chan:" "$T/b.yaml" ||
	fail "$b_chan should be in b's file alone"
n=$(grep -c "reload: " "$T/smmd.log" || true)
kill -HUP "$SMMD_PID"
wait_for "[ \$(grep -c 'reload: ' '$T/smmd.log') -gt $n ]" 10 ||
	fail "a did not reload: $(tail -n 3 "$T/smmd.log")"
[ "$(channel_owner "$b_chan")" = "$B_NODE" ] || fail "b no longer owns $b_chan"

# 2. b is killed before p1 is due: p1 waits past its time, not failed.
kill_b
wait_for "grep -q \"$warned\" '$T/smmd.log'" 20 ||
	fail "a did not say no live node lists $b_chan: $(tail -n 5 "$T/smmd.log")"
while [ "$(now_ms)" -lt $((p1_due + 1000)) ]; do sleep 0.1; done
[ "$(delivery_state "p1/$b_chan")" = scheduled ] ||
	fail "p1 is $(delivery_state "p1/$b_chan") while b is down, not scheduled"
# status says so: p1 waits on a channel no live node lists.
smmctl status --json | jq -e --arg c "$b_chan" '.unlisted == [{"channel":
	$c, "waiting": 1, "oldest_due": .unlisted[0].oldest_due}]' >/dev/null ||
	fail "status: $(smmctl status --json | jq -c .unlisted)"
smmctl status | grep -q "warning     channel '$b_chan' is in no live node's configuration: 1 waiting" ||
	fail "status does not warn: $(smmctl status | grep warning)"

# 3. b comes back within catch_up: it sends p1, once.
start_b
wait_state "p1/$b_chan" published $((CATCH_UP_MS / 1000))
late=$(sink_posts_for p1 | jq -r --argjson due "$p1_due" \
	'.[0].t_us / 1000 - $due | floor')
log "p1: sent ${late} ms after its due time by b, back"
[ "$late" -lt "$CATCH_UP_MS" ] || fail "p1 sent ${late} ms late, past catch_up"

# 4. b is killed for good: p2 is missed, no sooner than catch_up after
# its due time, and says why.
kill_b
wait_for "[ \"\$(delivery_state p2/$b_chan)\" = missed ]" \
	$(((p2_due + CATCH_UP_MS - $(now_ms)) / 1000 + 20)) ||
	fail "p2 is $(delivery_state "p2/$b_chan"), not missed"
seen=$(now_ms)
[ "$seen" -ge $((p2_due + CATCH_UP_MS)) ] ||
	fail "p2 was missed $((seen - p2_due)) ms after its due time, within catch_up"
log "p2: missed, seen $((seen - p2_due)) ms after its due time"
reason=$(delivery_json "p2/$b_chan" | jq -r .last_error)
case $reason in
*"channel '$b_chan' is in no live node's configuration"*catch_up*) ;;
*) fail "p2 does not say why it was missed: '$reason'" ;;
esac
[ "$(sink_count p1)" -eq 1 ] || fail "p1 reached the sink $(sink_count p1) times"
[ "$(sink_count p2)" -eq 0 ] || fail "p2 was sent"
smmd_alive || fail "a died"
log ok
