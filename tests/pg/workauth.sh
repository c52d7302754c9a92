#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Tokens kept by one node reach the others at once (NOTIFY smmd_token,
# doc/cluster.md), against a sink that is X's API and token endpoint (X
# rotates its refresh token on every use):
# - a works on x and w, b is a worker that lists only x and fires it;
#   neither has tokens;
# - a post on x falls due: b holds x needs_auth (a pause and an audit
#   row b writes), while a pauses w that instant: the two nodes' rows
#   take keys of their own (b's in its range), and no write of either
#   node is refused;
# - smmctl auth x, given to a, gets tokens 1 (due for renewal at once):
#   a keeps them in PostgreSQL; b, which fires x, installs them, ends
#   its needs_auth pause (a does not: two nodes would write its row),
#   sends the held post, and renews the tokens for tokens 2 (a does
#   not: x is not its channel); a installs tokens 2 in turn (its
#   engagement reads use them);
# - a post on x goes out from b with access token 2, and the token
#   endpoint was asked twice in all.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_x_sink Rot 1:301 2:7200
x_cluster_config CanaryAuthSecret-k9 postgresql://
x_share_configs
start_smmd
wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 10 ||
	fail "a does not work: $(tail -n 5 "$T/smmd.log")"
"$SMMD_BIN" -c "$T/b.yaml" --foreground 2>>"$T/b.log" &
E2E_PIDS+=("$!")
wait_for "[ \"\$(node_role '$T/sock_b')\" = worker ]" 15 ||
	fail "b is no worker: $(tail -n 5 "$T/b.log")"
B_NODE=$(SMMD_SOCKET=$T/sock_b smmctl status --json | jq -r .cluster.node)
wait_for "[ \"\$(channel_owner x)\" = '$B_NODE' ]" 20 ||
	fail "b does not own x: $(pg 'select channel, node_id from smmd_channel_owner')"


# 0. p0 falls due on x without tokens: b holds x; a pauses w meanwhile.
due=$(($(now_ms) + 1500))
smmctl add -c x --id p0 --at "$(ms_to_iso "$due")" "before auth" >/dev/null
wait_for "grep -q 'needs auth' '$T/b.log'" 10 || fail "b did not hold x: $(tail -n 3 "$T/b.log")"
smmctl pause -c w -r drill >/dev/null || fail "pause w"
sleep 2
no_write_refused "$T/smmd.log" "$T/b.log" || fail "a write was refused"
[ "$(pg "select count(distinct id) from pauses where ended_ms is null")" = 2 ] ||
	fail "pauses: $(pg 'select id, kind, scope from pauses')"
B_EPOCH=$(SMMD_SOCKET=$T/sock_b smmctl status --json | jq -r .cluster.epoch)
[ "$(pg "select id >= $B_EPOCH * 16777216 from pauses where kind = 'auth'")" = t ] ||
	fail "b's pause is not in its range: $(pg 'select id, kind from pauses')"
[ "$(delivery_state p0/x)" = held ] || fail "p0 is $(delivery_state p0/x), not held"

# 1. smmctl auth on a: tokens 1, kept in PostgreSQL; b installs them,
# ends its pause, sends p0, renews them for tokens 2, and a installs
# those.
t0=$(now_ms)
url=$(smmctl auth x --start) || fail "auth --start: $url"
smmctl auth x --code "http://127.0.0.1:8976/callback?code=c1&state=$(url_param state "$url")" \
	>"$T/auth.out" || fail "auth: $(cat "$T/auth.out")"
wait_for "grep -q RotRef-1-k9 '$T/state_b/auth/x' 2>/dev/null || grep -q RotRef-2-k9 '$T/state_b/auth/x' 2>/dev/null" 10 ||
	fail "b did not install a's tokens: $(tail -n 3 "$T/b.log")"
log "b has a's tokens $(($(now_ms) - t0)) ms after the authorization"
wait_for "[ \"\$(x_token_calls)\" = 2 ]" 10 ||
	fail "nobody renewed tokens 1: $(x_token_calls) token requests"
[ "$(url_param refresh_token "&$(sink_path_requests /x/2/oauth2/token | jq -r '.[1].body')")" = RotRef-1-k9 ] ||
	fail "the renewal did not send refresh token 1"
wait_for "grep -q RotRef-2-k9 '$T/state_b/auth/x'" 10 || fail "b's file does not hold tokens 2"
wait_for "grep -q RotRef-2-k9 '$T/state/auth/x'" 10 ||
	fail "a did not install b's tokens 2: $(tail -n 3 "$T/smmd.log")"
grep -q "channel 'x': tokens taken from PostgreSQL" "$T/b.log" ||
	fail "b did not say it took the tokens"
wait_state p0/x published 10
[ "$(pg "select count(*) from pauses where kind = 'auth' and ended_ms is null")" = 0 ] ||
	fail "x's needs_auth pause was not ended"
# ... by b, which held it: its audit row is in b's range.
[ "$(pg "select count(*) from audit where action = 'resume' and id >= $B_EPOCH * 16777216")" = 1 ] ||
	fail "b did not end its hold: $(pg "select id, action, \"user\" from audit")"

# 2. A post on x goes from b with access token 2.
smmctl add -c x --id p1 "hello" >/dev/null
wait_state p1/x published 10
[ "$(sink_path_requests /x/2/tweets | jq -r '.[-1].headers.authorization')" = "Bearer RotAcc-2-k9" ] ||
	fail "p1 went out with $(sink_path_requests /x/2/tweets | jq -r '.[-1].headers.authorization')"
[ "$(x_token_calls)" = 2 ] || fail "the token endpoint was asked $(x_token_calls) times"
smmctl resume -c w >/dev/null || fail "resume w"
no_write_refused "$T/smmd.log" "$T/b.log" || fail "a write was refused"
! grep -h "CanaryAuthSecret-k9\|RotAcc-\|RotRef-" "$T/smmd.log" "$T/b.log" ||
	fail "a secret or a token is in a log"
log ok
