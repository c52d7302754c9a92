#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# smmctl auth's browser flow, against a sink that is both the Mastodon
# instance and its authorization server (/oauth/authorize, /oauth/token):
# - a channel with client_id and no token holds its first post
#   (needs_auth: no access token yet);
# - "smmctl auth m --start" prints the page: response_type=code, the
#   client id, the redirect_uri, a state, and an S256 code_challenge;
# - an address with another state is refused (exit 77), and so is one
#   with error=access_denied, and nothing is exchanged;
# - the right one is exchanged: grant_type=authorization_code with the
#   code, the redirect_uri, the client's id and secret, and a
#   code_verifier whose SHA-256 is the challenge; the token lands in
#   state_dir/auth/m (0600) and the held post goes out with it;
# - the interactive flow (smmctl auth m, the address typed on its input)
#   works the same; a page's state serves once;
# - after a restart the saved token is used;
# - a token that expires within 7 days and cannot be renewed puts its
#   channel in needs_auth at once.
# Neither the token nor the client secret appears in the log or outputs.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
start_sink \
	--rule "POST /m/oauth/token 200 $J {\"access_token\":\"AccTok-{{n}}-Zq81\",\"token_type\":\"Bearer\",\"scope\":\"write:statuses\",\"created_at\":1733230000}" \
	--rule "POST /m/api/v1/statuses 200 $J {\"id\":\"8{{n}}\",\"url\":\"https://social.example/@smmd/8{{n}}\"}" \
	--rule "POST /short/oauth/token 200 $J {\"access_token\":\"ShortTok-Zq82\",\"token_type\":\"Bearer\",\"expires_in\":3600}"
base=http://127.0.0.1:$SINK_PORT
SECRET=CanaryClientSecret-$(openssl rand -hex 8)
(
	umask 077
	printf '%s\n' "$SECRET" >"$T/secret"
)
{
	printf 'state_dir: %s/state\nsocket: %s\nchannels:\n' "$T" "$SOCK"
	for c in m short; do
		printf '  %s:\n    publisher: mastodon\n' "$c"
		printf '    instance: %s/%s\n    client_id: cid-%s\n' "$base" "$c" "$c"
		printf '    client_secret_file: %s\n' "$T/secret"
		printf '    retry_base: 100ms\n    retry_max: 1s\n'
	done
} >"$CFG"
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

# --- No token: the first post is held, with what to do.
smmctl add -c m --id p1 'first' >/dev/null
wait_state p1/m held 15
delivery_json p1/m | jq -r .last_error | grep -q "no access token yet: run smmctl auth m" ||
	fail "p1's reason: $(delivery_json p1/m | jq -r .last_error)"

# --- The page.
url=$(smmctl auth m --start) || fail "auth --start failed: $url"
case $url in
"$base/m/oauth/authorize?"*) ;;
*) fail "the page is '$url'" ;;
esac
[ "$(param response_type "$url")" = code ] || fail "no response_type=code in $url"
[ "$(param client_id "$url")" = cid-m ] || fail "no client_id in $url"
[ "$(urldecode "$(param redirect_uri "$url")")" = "http://127.0.0.1:8976/callback" ] ||
	fail "redirect_uri in $url"
[ "$(param code_challenge_method "$url")" = S256 ] || fail "no S256 in $url"
state=$(param state "$url")
challenge=$(param code_challenge "$url")
[ ${#state} -eq 32 ] && [ ${#challenge} -eq 43 ] || fail "state/challenge: $url"

# --- Wrong state, and a refusal: nothing is exchanged.
rc=0
smmctl auth m --code "http://127.0.0.1:8976/callback?code=c0&state=0123" >"$T/bad.out" 2>&1 || rc=$?
[ "$rc" -eq 77 ] && grep -q "state is not the one smmd sent" "$T/bad.out" || fail "wrong state: rc $rc, $(cat "$T/bad.out")"
rc=0
smmctl auth m --code "http://127.0.0.1:8976/callback?error=access_denied&state=$state" >"$T/bad.out" 2>&1 || rc=$?
[ "$rc" -eq 77 ] && grep -q "access_denied" "$T/bad.out" || fail "denied: rc $rc, $(cat "$T/bad.out")"
[ "$(reqs /m/oauth/token | jq length)" -eq 0 ] || fail "a bad address was exchanged"

# --- The right one.
smmctl auth m --code "http://127.0.0.1:8976/callback?code=Code-1&state=$state" >"$T/auth.out" ||
	fail "auth failed: $(cat "$T/auth.out")"
grep -q "channel m authorized" "$T/auth.out" && grep -q "1 published" "$T/auth.out" ||
	fail "auth said: $(cat "$T/auth.out")"
form=$(reqs /m/oauth/token | jq -r '.[0].body')
[ "$(param grant_type "&$form")" = authorization_code ] &&
	[ "$(param code "&$form")" = Code-1 ] &&
	[ "$(param client_id "&$form")" = cid-m ] &&
	[ "$(param client_secret "&$form")" = "$SECRET" ] &&
	[ "$(urldecode "$(param redirect_uri "&$form")")" = "http://127.0.0.1:8976/callback" ] ||
	fail "the token request: $form"
verifier=$(param code_verifier "&$form")
want=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
[ "$want" = "$challenge" ] || fail "the verifier ($verifier) does not match the challenge"
wait_state p1/m published 15
[ "$(reqs /m/api/v1/statuses | jq -r '.[0].headers.authorization')" = "Bearer AccTok-1-Zq81" ] ||
	fail "the post did not use the new token"
[ "$(stat -c %a "$T/state/auth/m")" = 600 ] || fail "the token file is not 0600"
grep -q AccTok-1-Zq81 "$T/state/auth/m" || fail "the token file lacks the token"
# The page's state served once.
rc=0
smmctl auth m --code "http://127.0.0.1:8976/callback?code=Code-1&state=$state" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 77 ] || fail "a spent page was exchanged again (rc $rc)"

# --- Interactively: the address typed on smmctl's input.
mkfifo "$T/in"
smmctl auth m <"$T/in" >"$T/inter.out" 2>&1 &
ipid=$!
exec 3>"$T/in"
wait_for "grep -q 'oauth/authorize' '$T/inter.out'" 10 || fail "no page printed: $(cat "$T/inter.out")"
s2=$(param state "$(grep -o "$base/m/oauth/authorize?[^ ]*" "$T/inter.out")")
printf 'http://127.0.0.1:8976/callback?state=%s&code=Code-2\n' "$s2" >&3
exec 3>&-
wait "$ipid" || fail "interactive auth failed: $(cat "$T/inter.out")"
grep -q "channel m authorized" "$T/inter.out" || fail "interactive: $(cat "$T/inter.out")"
grep -q AccTok-2-Zq81 "$T/state/auth/m" || fail "the second token was not saved"

# --- After a restart the saved token is used.
stop_smmd
start_smmd
smmctl add -c m --id p2 'second' >/dev/null
wait_state p2/m published 15
[ "$(reqs /m/api/v1/statuses | jq -r '.[-1].headers.authorization')" = "Bearer AccTok-2-Zq81" ] ||
	fail "after a restart the post did not use the saved token"

# --- A token that expires within 7 days and cannot be renewed.
url=$(smmctl auth short --start)
smmctl auth short --code "http://127.0.0.1:8976/callback?code=c&state=$(param state "$url")" >/dev/null ||
	fail "auth short failed"
wait_for "smmctl channels --json | jq -e '.channels[] | select(.name == \"short\" and .state == \"needs_auth\")' >/dev/null" 10 ||
	fail "short is not in needs_auth: $(smmctl channels --json)"
smmctl channels --json | jq -r '.channels[] | select(.name == "short") | .reason' | grep -q "expire" ||
	fail "short's reason: $(smmctl channels --json)"

# Secrets stay secret.
smmctl channels --json >"$T/outs"
smmctl status --json >>"$T/outs"
smmctl show p1 --json >>"$T/outs"
cat "$T/auth.out" "$T/inter.out" >>"$T/outs"
! grep -qF -e AccTok -e ShortTok -e "$SECRET" "$T/smmd.log" "$T/outs" ||
	fail "a token or the client secret leaked"

stop_smmd
log "ok"
