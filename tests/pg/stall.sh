#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A working node that stalls (SIGSTOP, as a long pause or a partition
# would look to PostgreSQL) half a second before a post is due: its lease
# runs out, the standby takes over and publishes the post once. When the
# stalled node resumes it must not act on its old lease: it starts afresh
# as a standby, and no request of its reaches the sink.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_sink
write_config -g "store: postgresql://" demo
start_smmd # node a
sed "s|$T/state|$T/state_b|; s|$SOCK|$T/sock_b|" "$CFG" >"$T/b.yaml"
"$SMMD_BIN" -c "$T/b.yaml" --foreground 2>>"$T/b.log" &
PID_B=$!
E2E_PIDS+=("$PID_B")
wait_for "grep -q standby '$T/b.log'" 15 || fail "b is no standby"

due=$(($(now_ms) + 3000))
smmctl add --channel demo --id s1 --at "$(ms_to_iso "$due")" "stalled" >/dev/null
while [ "$(now_ms)" -lt $((due - 500)) ]; do sleep 0.02; done
kill -STOP "$SMMD_PID"
wait_for "[ \"\$(sink_count s1)\" -ge 1 ]" 10 ||
	fail "s1 never arrived while a was stalled"
late=$(($(sink_posts_for s1 | jq -r '.[0].t_us / 1000 | floor') - due))
log "s1 published by b ${late} ms after its due time"
[ "$late" -le 5000 ] || fail "s1 was $late ms late"
[ "$(node_role "$T/sock_b")" = working ] || fail "b does not work"
stalled_at=$(now_ms)
kill -CONT "$SMMD_PID"
# a finds its lease gone and starts afresh, as a standby now.
wait_for "grep -q 'lease ran out: starting afresh' '$T/smmd.log'" 15 ||
	fail "a resumed without noticing its lease ran out"
wait_for "grep -q 'standby: node' '$T/smmd.log'" 15 ||
	fail "a did not come back as a standby"
smmd_alive || fail "a exited instead of waiting as a standby"
sleep 1
[ "$(sink_count s1)" -eq 1 ] ||
	fail "s1 reached the sink $(sink_count s1) times"
# Nothing from a after it resumed: every request is b's (its claims).
stale=$(stale_requests "$(claim_fences)" "$((stalled_at * 1000))" | wc -l)
[ "$stale" -eq 0 ] || fail "$stale requests with a stale fence after a resumed"
log "ok"
