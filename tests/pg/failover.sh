#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Three smmd nodes on one PostgreSQL: one works, two are standbys.
# The working node is killed with SIGKILL half a second before a post is
# due; a survivor takes over and publishes it within 5 s of its due time,
# once. A pause made on the killed node holds on the survivor. Then the
# survivor is killed the same way and the last node takes over. Each
# request carries its channel's claim as its fencing token, higher from
# each node that takes over.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_sink
write_config -g "store: postgresql://" demo other
start_smmd # node a: $CFG, $SOCK
for n in b c; do
	sed "s|$T/state|$T/state_$n|; s|$SOCK|$T/sock_$n|" "$CFG" >"$T/$n.yaml"
	"$SMMD_BIN" -c "$T/$n.yaml" --foreground 2>>"$T/$n.log" &
	E2E_PIDS+=("$!")
	eval "PID_$n=$!"
done
wait_for "grep -q standby '$T/b.log' && grep -q standby '$T/c.log'" 15 ||
	fail "b and c did not both wait as standbys"

# The sink's arrival time (ms) of post ID's first POST, or nothing.
arrival_ms() {
	sink_posts_for "$1" | jq -r 'if length > 0 then (.[0].t_us / 1000 | floor) else empty end'
}

# fail_over ID KILL_PID: post ID due in 4 s on demo; KILL_PID killed
# 0.5 s before; sets LATE_MS (arrival - due).
fail_over() {
	local id=$1 victim=$2 due
	due=$(($(now_ms) + 4000))
	smmctl add --channel demo --id "$id" --at "$(ms_to_iso "$due")" "fail-over $id" >/dev/null
	while [ "$(now_ms)" -lt $((due - 500)) ]; do sleep 0.02; done
	kill -KILL "$victim"
	wait "$victim" 2>/dev/null || true
	e2e_forget "$victim"
	wait_for "[ -n \"\$(arrival_ms $id)\" ]" 10 ||
		fail "$id never arrived after the kill"
	LATE_MS=$(($(arrival_ms "$id") - due))
	log "$id published ${LATE_MS} ms after its due time, by a survivor"
	[ "$LATE_MS" -le 5000 ] || fail "$id was ${LATE_MS} ms late (over 5 s)"
	[ "$(sink_count "$id")" -eq 1 ] ||
		fail "$id reached the sink $(sink_count "$id") times"
}

# Which of the given nodes works (one only); the others are standbys.
working() {
	local n found=
	for n in "$@"; do
		if [ "$(node_role "$T/sock_$n")" = working ]; then
			[ -z "$found" ] || fail "both $found and $n work"
			found=$n
		fi
	done
	echo "$found"
}

# status on the working node lists the cluster: itself working, the two
# standbys, each with its clock offset (read every 5 s).
nodes_ok() {
	smmctl status --json | jq -e '.cluster as $c | $c.nodes | length == 3
		and (map(.role) == ["working", "standby", "standby"])
		and .[0].node == $c.node and .[0].epoch == $c.epoch
		and all(.clock_offset_ms | type == "number" and fabs < 500)' \
		>/dev/null
}
wait_for nodes_ok 8 ||
	fail "status does not list the nodes: $(smmctl status --json | jq -c .cluster)"
[ "$(smmctl status | grep -c '^  node .*standby for')" -eq 2 ] ||
	fail "status does not show the standbys: $(smmctl status)"

# A pause on the working node, and a post it holds.
smmctl pause --channel other --reason drill >/dev/null
held_due=$(($(now_ms) + 3000))
smmctl add --channel other --id held1 --at "$(ms_to_iso "$held_due")" "paused" >/dev/null

# The standbys keep their views warm: what the working node wrote is in
# them before either takes over, so a take-over reads only the tail.
command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed"
in_view() {
	[ "$(sqlite3 "$T/state_$1/view.db" \
		"select count(*) from deliveries where post_id = '$2'" 2>/dev/null)" = 1 ]
}
wait_for "in_view b held1 && in_view c held1" 5 ||
	fail "the standbys' views do not hold held1"

fail_over f1 "$SMMD_PID"
SMMD_PID=
w=$(working b c)
[ -n "$w" ] || fail "no node works after the kill"
log "node $w took over"
export SMMD_SOCKET=$T/sock_$w
wait_for "[ \"\$(delivery_state held1/other)\" = held ]" 5 ||
	fail "held1 is $(delivery_state held1/other) on node $w, not held"
[ -z "$(arrival_ms held1)" ] || fail "the paused post went out"
smmctl status --json | jq -e '.pauses | length == 1' >/dev/null ||
	fail "node $w does not show the pause: $(smmctl status --json | jq -c .pauses)"

# The survivor dies the same way: the last node takes over.
victim=$(eval "echo \$PID_$w")
last=b
[ "$w" = c ] || last=c
fail_over f2 "$victim"
[ "$(working "$last")" = "$last" ] || fail "node $last did not take over"
export SMMD_SOCKET=$T/sock_$last
# The dead ones are gone from the list: the last node alone works.
wait_for "smmctl status --json | jq -e '.cluster.nodes | length == 1 and
	.[0].role == \"working\"' >/dev/null" 8 ||
	fail "status lists dead nodes: $(smmctl status --json | jq -c .cluster.nodes)"
[ "$(delivery_state f1/demo)" = published ] && [ "$(delivery_state f2/demo)" = published ] ||
	fail "f1 is $(delivery_state f1/demo), f2 $(delivery_state f2/demo) on node $last"
smmctl resume --channel other >/dev/null
wait_for "[ -n \"\$(arrival_ms held1)\" ]" 10 || fail "held1 never went out after resume"
# The fencing token: the same in the header and the signed body, its
# channel's claim by the node that sent it, higher from each node that
# took over than from the one before it.
fence_of() {
	sink_posts_for "$1" | jq -r '.[0] | if .headers["smmd-fence"] ==
		(.post.fence | tostring) then .post.fence else "mismatch" end'
}
held_fence=$(fence_of held1) f1_fence=$(fence_of f1) f2_fence=$(fence_of f2)
log "fences: f1 $f1_fence, f2 $f2_fence, held1 $held_fence"
claim_fence() {
	pg "select fence from smmd_channel_owner where channel = '$1'"
}
[ "$f1_fence" -gt 0 ] && [ "$f2_fence" -gt "$f1_fence" ] &&
	[ "$held_fence" -gt "$f1_fence" ] &&
	[ "$f2_fence" = "$(claim_fence demo)" ] &&
	[ "$held_fence" = "$(claim_fence other)" ] ||
	fail "fences not rising with each take-over: f1 $f1_fence, f2 $f2_fence, held1 $held_fence (claims: demo $(claim_fence demo), other $(claim_fence other))"
# Once each, still: no late repeat from a node that was killed.
for id in f1 f2 held1; do
	[ "$(sink_count "$id")" -eq 1 ] ||
		fail "$id reached the sink $(sink_count "$id") times"
done
log "ok"
