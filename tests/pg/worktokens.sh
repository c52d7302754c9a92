#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Tokens follow a channel from node to node (share_work, token_key_file)
# against a sink that is X's API and token endpoint (X rotates its
# refresh token on every use):
# - a works alone on x and w; smmctl auth gives tokens 1, which a renews
#   at once for tokens 2, due for renewal 30 s later;
# - b, a worker that lists only x, starts (reading tokens 2 from
#   PostgreSQL) and takes x from a, which lets it go;
# - when tokens 2 come due, b (not a) renews them with refresh token 2
#   for tokens 3, kept in PostgreSQL under b's lease, and a installs
#   them at once (NOTIFY smmd_token; a take reads the row too, for a
#   NOTIFY lost with a connection);
# - b is killed: a takes x back, and x's next post goes out with access
#   token 3; nobody asks the token endpoint again (with refresh token 2,
#   spent, it would be refused), and x is not held needs_auth.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_x_sink Rot 1:301 2:330 3:7200
x_cluster_config CanaryRotSecret-k9 postgresql://
x_share_configs
start_smmd
wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 10 ||
	fail "a does not work: $(tail -n 5 "$T/smmd.log")"

owner_epoch() {
	pg "select epoch from smmd_channel_owner where channel = '$1'"
}

# 1. a alone: tokens 1, renewed at once for tokens 2, kept.
url=$(smmctl auth x --start) || fail "auth --start: $url"
smmctl auth x --code "http://127.0.0.1:8976/callback?code=c1&state=$(url_param state "$url")" \
	>"$T/auth.out" || fail "auth: $(cat "$T/auth.out")"
wait_for "[ \"\$(x_token_calls)\" = 2 ] && [ -n \"\$(pg \"select 1 from smmd_token where node_id not like '%/w'\")\" ]" 15 ||
	fail "a did not renew tokens 1 and keep tokens 2: $(x_token_calls) token requests"
t2=$(now_ms) # tokens 2 come due 30 s after this

# 2. b takes x (a lets it go: b lists it and owns none).
A_EPOCH=$(smmctl status --json | jq -r .cluster.epoch)
"$SMMD_BIN" -c "$T/b.yaml" --foreground 2>>"$T/b.log" &
PID_B=$!
E2E_PIDS+=("$PID_B")
wait_for "[ \"\$(node_role '$T/sock_b')\" = worker ]" 15 ||
	fail "b is no worker: $(tail -n 5 "$T/b.log")"
B_EPOCH=$(SMMD_SOCKET=$T/sock_b smmctl status --json | jq -r .cluster.epoch)
wait_for "[ \"\$(owner_epoch x)\" = '$B_EPOCH' ]" 20 ||
	fail "b does not own x: $(pg 'select channel, node_id from smmd_channel_owner')"
[ $(($(now_ms) - t2)) -lt 25000 ] || fail "b took x too late for the test"
log "b owns x $(($(now_ms) - t2)) ms after tokens 2"

# 3. Tokens 2 come due: b renews them, and keeps tokens 3 under its lease.
wait_for "[ \"\$(x_token_calls)\" = 3 ]" 40 ||
	fail "nobody renewed tokens 2: $(x_token_calls) token requests"
[ "$(url_param refresh_token "&$(sink_path_requests /x/2/oauth2/token | jq -r '.[2].body')")" = RotRef-2-k9 ] ||
	fail "the renewal did not send refresh token 2"
wait_for "[ \"\$(pg \"select node_id like '%/w' from smmd_token where channel = 'x'\")\" = t ]" 10 ||
	fail "tokens 3 were not kept by b: $(pg 'select node_id, epoch from smmd_token')"
grep -q "RotRef-3-k9" "$T/state_b/auth/x" || fail "b's file does not hold tokens 3"
wait_for "grep -q RotRef-3-k9 '$T/state/auth/x'" 5 ||
	fail "a did not install b's tokens 3"

# 4. b dies: a takes x back, reads tokens 3 and posts with them.
kill -KILL "$PID_B"
wait "$PID_B" 2>/dev/null || true
e2e_forget "$PID_B"
wait_for "[ \"\$(owner_epoch x)\" = '$A_EPOCH' ]" 10 ||
	fail "a did not take x back: $(pg 'select channel, node_id from smmd_channel_owner')"
smmctl add -c x --id p1 "after b" >/dev/null
wait_state p1/x published 15
[ "$(sink_path_requests /x/2/tweets | jq -r '.[-1].headers.authorization')" = "Bearer RotAcc-3-k9" ] ||
	fail "p1 went out with $(sink_path_requests /x/2/tweets | jq -r '.[-1].headers.authorization'), not tokens 3"
grep -q "RotRef-3-k9" "$T/state/auth/x" || fail "a's file does not hold tokens 3"
sleep 1
[ "$(x_token_calls)" = 3 ] || fail "the token endpoint was asked again: $(x_token_calls) requests"
! smmctl channels | grep -q '^x .*needs_auth' || fail "x is held needs_auth"
! grep -qF -e RotAcc -e RotRef -e CanaryRotSecret "$T/smmd.log" "$T/b.log" ||
	fail "a token or the secret is in a log"
log "ok"
