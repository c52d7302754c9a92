#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# A rotated refresh token survives a kill -9. X rotates its refresh token
# on every use (the old one stops working), so the new one must be on
# disk before anything it came with is used. Against a sink that is X's
# API and token endpoint:
# - smmctl auth gives tokens 1 (access due for renewal at once); smmd
#   renews them with refresh token 1 and gets tokens 2;
# - a post goes out with access token 2; the sink holds it; at that
#   moment the state file already holds refresh token 2 (written before
#   the use), and smmd is killed with SIGKILL;
# - after the restart the post whose answer never came is unknown (X
#   keeps no idempotency key: never sent twice); the next post's 401
#   makes smmd renew with refresh token 2 (the chain survived: never 1),
#   and it goes out with access token 3, which the file then holds.
# - a refresh X refuses (invalid_request: the chain is gone) holds the
#   channel in needs_auth, its post held, never failed.
# - a network whose tokens always live less than the renewal margin is
#   not asked in a loop: after three quick renewals, once a minute.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
start_sink \
	--rule "POST /x/2/oauth2/token 200 $J $(x_tokens 1 301)" \
	--rule "POST /x/2/oauth2/token 200 $J $(x_tokens 2 7200)" \
	--rule "POST /x/2/oauth2/token 200 $J $(x_tokens 3 7200)" \
	--rule "POST /x/2/oauth2/token 400 $J {\"error\":\"invalid_request\",\"error_description\":\"Value passed for the token was invalid.\"}" \
	--rule "POST /x/2/tweets hold" \
	--rule "POST /x/2/tweets 401 $J {\"title\":\"Unauthorized\",\"type\":\"about:blank\",\"status\":401,\"detail\":\"Unauthorized\"}" \
	--rule "POST /x/2/tweets 201 $J {\"data\":{\"id\":\"1700000000000000003\",\"text\":\"x\"}}" \
	--rule "POST /x/2/tweets 401 $J {\"title\":\"Unauthorized\",\"type\":\"about:blank\",\"status\":401,\"detail\":\"Unauthorized\"}" \
	--rule "POST /xs/2/oauth2/token 200 $J $(x_tokens 9 60)"
base=http://127.0.0.1:$SINK_PORT
(
	umask 077
	printf 'CanaryRotSecret-k9\n' >"$T/secret"
)
cat >"$CFG" <<CONF
state_dir: $T/state
socket: $SOCK
channels:
  x:
    publisher: x
    api_url: $base/x
    token_url: $base/x/2/oauth2/token
    client_id: cm90LWNpZA
    client_secret_file: $T/secret
    retry_base: 100ms
    retry_max: 1s
    metrics: off
  xs:
    publisher: x
    api_url: $base/xs
    token_url: $base/xs/2/oauth2/token
    client_id: cm90LWNpZA
    client_secret_file: $T/secret
    metrics: off
CONF
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
param() {
	sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p" <<<"$2"
}
F=$T/state/auth/x

url=$(smmctl auth x --start) || fail "auth --start: $url"
smmctl auth x --code "http://127.0.0.1:8976/callback?code=c1&state=$(param state "$url")" \
	>"$T/auth.out" || fail "auth: $(cat "$T/auth.out")"
# Tokens 1 are due for renewal at once: refresh token 1 buys tokens 2.
wait_for "grep -q RotRef-2-k9 '$F' 2>/dev/null" 15 ||
	fail "tokens 2 never reached the file: $(reqs /x/2/oauth2/token | jq -c '[.[].body]')"
[ "$(param refresh_token "&$(reqs /x/2/oauth2/token | jq -r '.[1].body')")" = RotRef-1-k9 ] ||
	fail "the first refresh did not send refresh token 1"

# A post goes out with access token 2; the sink holds it.
smmctl add -c x --id r1 'first' >/dev/null
wait_for '[ "$(reqs /x/2/tweets | jq length)" -ge 1 ]' 15 || fail "r1 never left"
[ "$(reqs /x/2/tweets | jq -r '.[0].headers.authorization')" = "Bearer RotAcc-2-k9" ] ||
	fail "r1 did not use access token 2"
grep -q RotRef-2-k9 "$F" && grep -q RotAcc-2-k9 "$F" && ! grep -q RotRef-1-k9 "$F" ||
	fail "the file does not hold tokens 2: $(cat "$F")"
# On disk before the first use: the file's last write precedes the first
# request that carried access token 2 (both in microseconds of real time).
saved_us=$(date -r "$F" +%s%6N)
first_use_us=$(sink_requests | jq -s '[.[] | select(.headers.authorization == "Bearer RotAcc-2-k9")] | map(.t_us) | min')
[ "$saved_us" -lt "$first_use_us" ] ||
	fail "access token 2 went out at $first_use_us, before the file was written at $saved_us"
crash_smmd

# The chain survived the kill.
start_smmd
wait_state r1/x unknown 15
smmctl add -c x --id r2 'second' >/dev/null
wait_state r2/x published 20
[ "$(param refresh_token "&$(reqs /x/2/oauth2/token | jq -r '.[2].body')")" = RotRef-2-k9 ] ||
	fail "after the kill smmd did not renew with refresh token 2: $(reqs /x/2/oauth2/token | jq -c '[.[].body]')"
[ "$(reqs /x/2/tweets | jq -r '.[2].headers.authorization')" = "Bearer RotAcc-3-k9" ] ||
	fail "r2 did not go out with access token 3"
grep -q RotRef-3-k9 "$F" || fail "tokens 3 are not on disk"
[ "$(reqs /x/2/tweets | jq '[.[] | select(.body | fromjson | .text == "first")] | length')" -eq 1 ] ||
	fail "r1 was sent twice"

# A refused refresh: the chain is gone, the channel needs auth.
stop_smmd
start_smmd
smmctl add -c x --id r3 'third' >/dev/null
wait_for "smmctl channels --json | jq -e '.channels[] | select(.name == \"x\" and .state == \"needs_auth\")' >/dev/null" 20 ||
	fail "x is not in needs_auth: $(smmctl channels --json)"
wait_state r3/x held 10
smmctl channels --json | jq -r '.channels[0].reason' | grep -q "invalid_request" ||
	fail "the reason: $(smmctl channels --json | jq -r '.channels[0].reason')"
# Tokens that live 60 s against a 5-minute margin: no renewal loop.
url=$(smmctl auth xs --start)
smmctl auth xs --code "http://127.0.0.1:8976/callback?code=c9&state=$(param state "$url")" \
	>/dev/null || fail "auth xs failed"
sleep 5
n=$(reqs /xs/2/oauth2/token | jq length)
[ "$n" -ge 3 ] && [ "$n" -le 4 ] || fail "short-lived tokens were asked for $n times in 5 s"
! grep -qF -e RotAcc -e RotRef -e CanaryRotSecret "$T/smmd.log" ||
	fail "a token or the secret is in the log"
stop_smmd
log "ok"
