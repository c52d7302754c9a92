#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# LinkedIn's OAuth through smmctl auth and auth.c, against a sink that
# answers like LinkedIn's authorization server and API:
# - a channel with client_id and client_secret_file but no token holds its
#   post (needs_auth);
# - "smmctl auth --start" prints LinkedIn's authorization address: response_type
#   code, the client id, the default redirect_uri, a state and the scopes;
# - "smmctl auth --code" with the address the browser ended on exchanges
#   the code (grant_type=authorization_code, the redirect_uri, the client
#   id and secret, once) and saves the tokens in state_dir/auth (0600);
# - the access token expires within refresh_ahead (1 hour), so smmd renews
#   it at once with the refresh token (grant_type=refresh_token) and keeps
#   LinkedIn's refresh_token_expires_in;
# - the held post goes out, and a new one with the renewed token.
# No token and no client secret in the log or smmctl output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
SECRET=li-secret-$(openssl rand -hex 8)
A1=AQX-first-$(openssl rand -hex 8)
A2=AQX-second-$(openssl rand -hex 8)
R1=AQW-refresh-$(openssl rand -hex 8)
start_sink --log-get \
	--rule "POST /oauth/accessToken 200 $J {\"access_token\":\"$A1\",\"expires_in\":3600,\"refresh_token\":\"$R1\",\"refresh_token_expires_in\":31536000,\"scope\":\"r_organization_social,w_organization_social\"}" \
	--rule "POST /oauth/accessToken 200 $J {\"access_token\":\"$A2\",\"expires_in\":5184000,\"refresh_token\":\"$R1\",\"refresh_token_expires_in\":31532400,\"scope\":\"r_organization_social,w_organization_social\"}" \
	--rule "POST /api/rest/posts 201 H:x-restli-id=urn:li:share:{{n}} "
base=http://127.0.0.1:$SINK_PORT
(
	umask 077
	printf '%s\n' "$SECRET" >"$T/secret"
)
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $SOCK
channels:
  li:
    publisher: linkedin
    author: urn:li:organization:5515715
    client_id: 86abcdef
    client_secret_file: $T/secret
    api_url: $base/api
    authorize_url: $base/oauth/authorization
    token_url: $base/oauth/accessToken
    retry_base: 100ms
    metrics: off
EOF
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
# form FIELD: the field's value in the form body of the request (JSON)
# on stdin, decoded.
form() {
	local v
	v=$(jq -r --arg f "$1" '.body | split("&") |
		map(select(startswith($f + "="))) | .[0] // "" | .[($f | length) + 1:]')
	v=${v//+/ }
	printf '%b' "${v//%/\\x}"
}

# --- no token yet: held.
smmctl add -c li --id o1 'before auth' >/dev/null
wait_state o1/li held 15

# --- the address to open.
smmctl auth --start li >"$T/url.out" || fail "smmctl auth --start failed"
url=$(cat "$T/url.out")
case $url in
"$base/oauth/authorization?response_type=code&client_id=86abcdef&redirect_uri=http%3A%2F%2F127.0.0.1%3A8976%2Fcallback&scope=w_organization_social%20r_organization_social&state="?*) ;;
*) fail "authorization address is '$url'" ;;
esac
state=${url#*state=}
case $state in *"&"* | "") fail "no plain state at the end of '$url'" ;; esac

# --- the code back: exchanged, saved, renewed at once.
smmctl auth li --code "http://127.0.0.1:8976/callback?code=C0DE-42&state=$state" \
	>"$T/auth.out" 2>&1 || fail "smmctl auth --code failed: $(cat "$T/auth.out")"
wait_for "[ \"\$(reqs /oauth/accessToken | jq length)\" -ge 2 ]" 15 ||
	fail "no renewal after the exchange: $(reqs /oauth/accessToken)"
t=$(reqs /oauth/accessToken)
x=$(jq -c '.[0]' <<<"$t")
[ "$(form grant_type <<<"$x")" = authorization_code ] &&
	[ "$(form code <<<"$x")" = C0DE-42 ] &&
	[ "$(form redirect_uri <<<"$x")" = http://127.0.0.1:8976/callback ] &&
	[ "$(form client_id <<<"$x")" = 86abcdef ] &&
	[ "$(form client_secret <<<"$x")" = "$SECRET" ] ||
	fail "the code exchange: $x"
jq_true '.headers["content-type"] == "application/x-www-form-urlencoded"' <<<"$x" ||
	fail "the exchange is not a form: $x"
x=$(jq -c '.[1]' <<<"$t")
[ "$(form grant_type <<<"$x")" = refresh_token ] &&
	[ "$(form refresh_token <<<"$x")" = "$R1" ] &&
	[ "$(form client_secret <<<"$x")" = "$SECRET" ] ||
	fail "the renewal: $x"
[ "$(stat -c %a "$T/state/auth/li")" = 600 ] || fail "the token file is not 0600"
wait_for "grep -qF -- '$A2' '$T/state/auth/li'" 10 ||
	fail "the renewed token is not saved"

# --- the held post and a new one go out with the renewed token.
wait_state o1/li published 15
smmctl add -c li --id o2 'after auth' >/dev/null
wait_state o2/li published 15
p=$(reqs /api/rest/posts)
# The held post may leave before the renewal is done: either token is good.
jq_true --arg a "Bearer $A1" --arg b "Bearer $A2" 'length == 2 and
	(.[0].headers.authorization == $a or .[0].headers.authorization == $b)
	and .[1].headers.authorization == $b' <<<"$p" ||
	fail "posts' tokens: $(jq -c '[.[] | .headers.authorization]' <<<"$p")"
smmctl channels --json | jq -e '.channels[] | select(.name == "li" and .state == "ok")' >/dev/null ||
	fail "li is not ok: $(smmctl channels --json)"

for id in o1 o2; do
	smmctl show "$id" --json
	smmctl show "$id"
done >"$T/shows.out"
smmctl channels >>"$T/shows.out"
smmctl channels --json >>"$T/shows.out"
for s in "$A1" "$A2" "$R1" "$SECRET"; do
	! grep -qF -- "$s" "$T/smmd.log" "$T/shows.out" "$T/auth.out" ||
		fail "a secret leaked into the log or smmctl output"
	! grep -qaF -- "$s" "$T"/state/smmd.db* || fail "a secret is in the store"
done

stop_smmd
log "ok"
