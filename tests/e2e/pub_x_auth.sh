#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# X's OAuth 2.0 through smmctl auth and auth.c, against a sink that is
# both the X API and its token endpoint (api_url/2/oauth2/token):
# - an app (client_id, a confidential client's secret) not authorized
#   yet holds its post;
# - "smmctl auth xa --start" prints X's page (x.com/i/oauth2/authorize)
#   with response_type=code, the client id, the redirect_uri, the scopes,
#   a state and an S256 challenge;
# - the code is exchanged with HTTP Basic (client id and secret), never
#   the secret in the body, grant_type=authorization_code, the code and a
#   verifier matching the challenge;
# - the tokens live 200 s, less than the 5 minutes smmd renews ahead: the
#   refresh follows at once with the refresh token of that answer, and X
#   rotates it: the next refresh sends the second one, never the first;
# - the held post goes out with a fresh access token; the rotated refresh
#   token is what the state file keeps.
# No token and no client secret in the log or any output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
tok() { # tok N EXPIRES_IN: X's documented token answer, numbered
	printf '{"token_type":"bearer","expires_in":%s,"access_token":"XAcc-%s-Qw","scope":"tweet.read tweet.write users.read offline.access media.write","refresh_token":"XRef-%s-Qw"}' "$2" "$1" "$1"
}
start_sink --log-get \
	--rule "POST /xa/2/oauth2/token 200 $J $(tok 1 200)" \
	--rule "POST /xa/2/oauth2/token 200 $J $(tok 2 200)" \
	--rule "POST /xa/2/oauth2/token 200 $J $(tok 3 7200)" \
	--rule "POST /xa/2/tweets 201 $J {\"data\":{\"id\":\"160000000000000000{{n}}\",\"text\":\"x\"}}"
base=http://127.0.0.1:$SINK_PORT
SECRET=CanaryXSecret-$(openssl rand -hex 8)
(
	umask 077
	printf '%s\n' "$SECRET" >"$T/secret"
)
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $SOCK
channels:
  xa:
    publisher: x
    api_url: $base/xa
    client_id: Y2lkLXhh
    client_secret_file: $T/secret
    retry_base: 100ms
    retry_max: 1s
    metrics: off
EOF
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
param() { # param NAME URL-or-form
	sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p" <<<"$2"
}
urldecode() {
	local s=${1//+/ }
	printf '%b' "${s//%/\\x}"
}

smmctl add -c xa --id p1 'before auth' >/dev/null
wait_state p1/xa held 15

url=$(smmctl auth xa --start) || fail "auth --start failed: $url"
case $url in
"https://x.com/i/oauth2/authorize?"*) ;;
*) fail "the page is '$url'" ;;
esac
[ "$(param response_type "$url")" = code ] && [ "$(param client_id "$url")" = Y2lkLXhh ] &&
	[ "$(param code_challenge_method "$url")" = S256 ] &&
	[ "$(urldecode "$(param scope "$url")")" = "tweet.read tweet.write users.read offline.access media.write" ] &&
	[ "$(urldecode "$(param redirect_uri "$url")")" = "http://127.0.0.1:8976/callback" ] ||
	fail "the page's parameters: $url"
state=$(param state "$url")
challenge=$(param code_challenge "$url")

smmctl auth xa --code "http://127.0.0.1:8976/callback?state=$state&code=Code-X1" >"$T/auth.out" ||
	fail "auth failed: $(cat "$T/auth.out")"

# The exchange, then two refreshes, each with the latest refresh token.
wait_for "[ \"\$(reqs /xa/2/oauth2/token | jq length)\" -ge 3 ]" 15 ||
	fail "expected the exchange and two refreshes: $(reqs /xa/2/oauth2/token | jq -c '[.[].body]')"
r=$(reqs /xa/2/oauth2/token)
basic="Basic $(printf 'Y2lkLXhh:%s' "$SECRET" | base64 -w0)"
jq_true --arg b "$basic" 'all(.[]; .headers.authorization == $b and
	.headers["content-type"] == "application/x-www-form-urlencoded")' <<<"$r" ||
	fail "the token requests lack HTTP Basic: $(jq -c '[.[].headers["content-type"]]' <<<"$r")"
f0=$(jq -r '.[0].body' <<<"$r")
[ "$(param grant_type "&$f0")" = authorization_code ] && [ "$(param code "&$f0")" = Code-X1 ] &&
	[ "$(urldecode "$(param redirect_uri "&$f0")")" = "http://127.0.0.1:8976/callback" ] ||
	fail "the exchange: $f0"
case $f0 in *client_secret*) fail "the secret went in the body: $f0" ;; esac
verifier=$(param code_verifier "&$f0")
want=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
[ "$want" = "$challenge" ] || fail "the verifier does not match the challenge"
f1=$(jq -r '.[1].body' <<<"$r")
f2=$(jq -r '.[2].body' <<<"$r")
[ "$(param grant_type "&$f1")" = refresh_token ] && [ "$(param refresh_token "&$f1")" = XRef-1-Qw ] ||
	fail "the first refresh: $f1"
[ "$(param refresh_token "&$f2")" = XRef-2-Qw ] || fail "the second refresh did not use the rotated token: $f2"
wait_for "grep -q XRef-3-Qw '$T/state/auth/xa'" 10 || fail "the state file does not keep the last refresh token"
! grep -q -e XRef-1-Qw -e XRef-2-Qw "$T/state/auth/xa" || fail "a spent refresh token is kept"

# The held post, and a new one, go out with a fresh token.
wait_state p1/xa published 15
smmctl add -c xa --id p2 'after auth' >/dev/null
wait_state p2/xa published 15
[ "$(reqs /xa/2/tweets | jq -r '.[-1].headers.authorization')" = "Bearer XAcc-3-Qw" ] ||
	fail "p2 did not use the latest token: $(reqs /xa/2/tweets | jq -r '.[-1].headers.authorization')"

smmctl channels --json >"$T/outs"
smmctl status --json >>"$T/outs"
smmctl show p1 --json >>"$T/outs"
cat "$T/auth.out" >>"$T/outs"
! grep -qF -e XAcc -e XRef -e "$SECRET" "$T/smmd.log" "$T/outs" ||
	fail "a token or the client secret leaked"

stop_smmd
log "ok"
