#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A node cut off from PostgreSQL renews no token. X rotates its refresh
# token on every use, and the node that takes over reads the one the
# cut-off node kept: were the cut-off node to renew meanwhile (the
# network is still within its reach, only the database is not), it would
# spend the token its successor holds.
# - a works, its connections to PostgreSQL through a TCP proxy (socat),
#   b is a standby, both with the same token_key_file;
# - smmctl auth on a gives tokens 1 (due at once: renewed with refresh
#   token 1) and then tokens 2, due for renewal 6 s after they came;
# - the proxy is frozen as soon as PostgreSQL keeps tokens 2: a's lease
#   goes untrusted within 2 s, and when tokens 2 fall due, a holds its
#   renewal back; b takes over, installs tokens 2 and renews them itself;
# - refresh token 2 is sent once in all (by b), and b posts with tokens 3.
[ -n "${SMM_PG_DIR:-}" ] ||
	exec sh "$(dirname "$0")/with-pg.sh" bash "$0" "$@"
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"

start_pg_proxy
port=$PROXY_PORT

start_x_sink Cut 1:301 2:306 3:7200
x_cluster_config CanaryCutSecret-k9 "postgresql://127.0.0.1:$port/" ""
start_smmd # node a, through the proxy
wait_for "[ \"\$(node_role '$SOCK')\" = working ]" 10 || fail "a does not work"
sed "s|$T/state|$T/state_b|; s|$SOCK|$T/sock_b|;
	s|postgresql://127.0.0.1:$port/|postgresql://|" "$CFG" >"$T/b.yaml"
"$SMMD_BIN" -c "$T/b.yaml" --foreground 2>>"$T/b.log" &
PID_B=$!
E2E_PIDS+=("$PID_B")
wait_for "grep -q standby '$T/b.log'" 15 || fail "b is no standby"

# refreshes_with N: how many token requests sent refresh token N.
refreshes_with() {
	sink_path_requests /x/2/oauth2/token | jq --arg r "refresh_token=CutRef-$1-k9" \
		'[.[] | select(.body | contains($r))] | length'
}

url=$(smmctl auth x --start) || fail "auth --start: $url"
smmctl auth x --code "http://127.0.0.1:8976/callback?code=c1&state=$(url_param state "$url")" \
	>"$T/auth.out" || fail "auth: $(cat "$T/auth.out")"
# Tokens 2 are kept in PostgreSQL (their row holds their time): cut a off.
wait_for "grep -q CutRef-2-k9 '$T/state/auth/x' 2>/dev/null &&
	[ \"\$(pg \"select saved_ms from smmd_token where channel = 'x'\")\" = \
	\"\$(jq -r .saved_ms '$T/state/auth/x')\" ]" 10 ||
	fail "tokens 2 were not kept: $(pg 'select channel, saved_ms from smmd_token')"
pg_proxy STOP
cut_at=$(now_ms)
came=$(jq -r .saved_ms "$T/state/auth/x")
log "a cut off $((cut_at - came)) ms after tokens 2 came"
[ $((cut_at - came)) -lt 3000 ] || fail "too slow to cut a off before tokens 2 fall due"

# Tokens 2 fall due 6 s after they came: b, which took over, renews them.
wait_for "[ \"\$(node_role '$T/sock_b')\" = working ]" 15 ||
	fail "b did not take over: $(tail -n 5 "$T/b.log")"
wait_for "grep -q CutRef-3-k9 '$T/state_b/auth/x' 2>/dev/null" 15 ||
	fail "b did not renew tokens 2: $(sink_path_requests /x/2/oauth2/token | jq -c '[.[].body]')"
# Past the time a would have renewed them too, with a margin.
while [ "$(now_ms)" -lt $((came + 9000)) ]; do sleep 0.1; done
grep -q "channel 'x': not renewed now\|lease is not trusted" "$T/smmd.log" ||
	fail "a did not say its lease was not trusted"
[ "$(refreshes_with 1)" -eq 1 ] || fail "refresh token 1 was sent $(refreshes_with 1) times"
[ "$(refreshes_with 2)" -eq 1 ] ||
	fail "refresh token 2 was sent $(refreshes_with 2) times: the cut-off node renewed"
SMMD_SOCKET=$T/sock_b smmctl add -c x --id c1 'after the cut' >/dev/null
SMMD_SOCKET=$T/sock_b wait_state c1/x published 15
[ "$(sink_path_requests /x/2/tweets | jq -r '.[0].headers.authorization')" = "Bearer CutAcc-3-k9" ] ||
	fail "c1 did not go out with tokens 3"
pg_proxy CONT
! grep -qF -e CutAcc -e CutRef -e CanaryCutSecret "$T/smmd.log" "$T/b.log" ||
	fail "a token or the secret is in a node's log"
log "ok"
