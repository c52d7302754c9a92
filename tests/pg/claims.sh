#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The working node fires only the channels it owns in the database
# (claims, doc/cluster.md): it claims every configured channel at its
# start, lets go of one a reload drops, and leaves alone one another live
# node owns: a post on it waits, unsent, until that node's lease runs
# out, then goes once, within 5 s. A second node takes the channels over
# with the work when the first is killed.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_sink
write_config -g "store: postgresql://" demo other third
start_smmd
wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 10 ||
	fail "a does not work: $(tail -n 5 "$T/smmd.log")"

# owned_by SOCKET: the channels the node answering there owns, under its
# current epoch, one line.
owned_by() {
	local node epoch
	read -r node epoch < <(SMMD_SOCKET=$1 "$SMMCTL_BIN" status --json |
		jq -r '.cluster | "\(.node) \(.epoch)"')
	pg "select coalesce(string_agg(channel, ' ' order by channel), '')
		from smmd_channel_owner where node_id = '$node' and epoch = $epoch"
}
owner_of() {
	pg "select node_id from smmd_channel_owner where channel = '$1'"
}

# 1. Every channel is claimed at the start, and the node says it claims.
wait_for "[ \"\$(owned_by '$SOCK')\" = 'demo other third' ]" 5 ||
	fail "a owns '$(owned_by "$SOCK")', not every channel"
[ "$(pg "select count(*) from smmd_node where claims and
	channels = E'demo\nother\nthird'")" = 1 ] ||
	fail "a's row does not list its channels: $(pg 'table smmd_node')"
smmctl add -c demo --id p1 "first" >/dev/null
wait_state p1/demo published 10
# A dead node's row for a channel no node lists goes at a round.
pg "insert into smmd_channel_owner (channel, node_id, epoch) values
	('listed-nowhere', 'long-gone', 1)" >/dev/null
wait_for "[ -z \"\$(owner_of listed-nowhere)\" ]" 8 ||
	fail "the row of a channel nobody lists stayed"

# 2. A reload that drops a channel lets it go.
write_config -g "store: postgresql://" demo other
smmctl reload >/dev/null || fail "reload without third failed"
wait_for "[ -z \"\$(owner_of third)\" ]" 5 ||
	fail "third is still owned by $(owner_of third) after the reload"
[ "$(owned_by "$SOCK")" = "demo other" ] ||
	fail "a owns '$(owned_by "$SOCK")' after dropping third"

# 3. Another live node (a row standing in for a worker) owns third: a,
# given third again, leaves it alone, and a post on it waits unsent.
pg "insert into smmd_node (node_id, epoch, lease_until, version, worker,
	claims, channels) values ('other-node', nextval('smmd_epoch_seq'),
	clock_timestamp() + interval '1 hour', 'test', true, true, 'third');
	insert into smmd_channel_owner (channel, node_id, epoch) select 'third',
	node_id, epoch from smmd_node where node_id = 'other-node'" >/dev/null
write_config -g "store: postgresql://" demo other third
smmctl reload >/dev/null || fail "reload with third failed"
due=$(($(now_ms) + 1000))
smmctl add -c third --id p2 --at "$(ms_to_iso "$due")" "waits" >/dev/null
smmctl add -c demo --id p3 --at "$(ms_to_iso "$due")" "goes" >/dev/null
wait_state p3/demo published 10
while [ "$(now_ms)" -lt $((due + 4000)) ]; do sleep 0.1; done
[ "$(sink_count p2)" -eq 0 ] || fail "p2 went out on a channel a does not own"
[ "$(delivery_state p2/third)" = scheduled ] ||
	fail "p2 is $(delivery_state p2/third), not scheduled"
[ "$(owner_of third)" = other-node ] ||
	fail "third went from other-node to $(owner_of third) while it lived"
# Neither let go of nor took anything in between: the rounds settled.
[ "$(owned_by "$SOCK")" = "demo other" ] ||
	fail "a owns '$(owned_by "$SOCK")' beside other-node"
# status lists other-node as a worker, and what each node owns.
wait_for "smmctl status --json | jq -e '.cluster.nodes | map(\"\(.role) \(.channels)\") == [\"working 2\", \"worker 1\"]' >/dev/null" 8 ||
	fail "status does not list the worker: $(smmctl status --json | jq -c .cluster.nodes)"
smmctl status | grep -q '^  node *other-node: worker, epoch [0-9]* for .*, 1 channel$' ||
	fail "status does not show the worker: $(smmctl status)"

# 4. The other node's lease runs out: a takes third and sends p2, once.
pg "update smmd_node set lease_until = clock_timestamp() where
	node_id = 'other-node'" >/dev/null
expired=$(now_ms)
wait_for "[ \"\$(sink_count p2)\" -ge 1 ]" 10 ||
	fail "p2 never went out once other-node's lease ran out"
taken_ms=$(($(now_ms) - expired))
log "p2 went out ${taken_ms} ms after other-node's lease ran out"
[ "$taken_ms" -le 5000 ] || fail "third waited ${taken_ms} ms (over 5 s)"
wait_state p2/third published 5
[ "$(owned_by "$SOCK")" = "demo other third" ] ||
	fail "a owns '$(owned_by "$SOCK")' after other-node went"
[ -z "$(pg "select 1 from smmd_node where node_id = 'other-node'")" ] ||
	fail "other-node's row was not reaped"

# 5. A standby takes the work and every channel over when a is killed.
start_cluster_node b
wait_for "grep -q standby '$T/b.log'" 15 || fail "b is no standby"
kill -KILL "$SMMD_PID"
wait "$SMMD_PID" 2>/dev/null || true
e2e_forget "$SMMD_PID"
SMMD_PID=
wait_for "[ \"\$(node_role '$T/sock_b')\" = working ]" 10 ||
	fail "b did not take over: $(tail -n 5 "$T/b.log")"
wait_for "[ \"\$(owned_by '$T/sock_b')\" = 'demo other third' ]" 5 ||
	fail "b owns '$(owned_by "$T/sock_b")' after taking over"
export SMMD_SOCKET=$T/sock_b
smmctl add -c third --id p4 "after the take-over" >/dev/null
wait_state p4/third published 10
for id in p1 p2 p3 p4; do
	[ "$(sink_count "$id")" -eq 1 ] ||
		fail "$id reached the sink $(sink_count "$id") times"
done
log "ok"
