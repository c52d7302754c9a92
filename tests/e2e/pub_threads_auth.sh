#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Threads' tokens through smmctl auth and auth.c, against a sink that is
# both the Threads API and its token endpoints:
# - an app (client_id and its secret) not authorized yet holds its post;
# - "smmctl auth th --start" prints the authorization window
#   (threads.net/oauth/authorize) with the app id, the redirect_uri, the
#   scopes, response_type=code and a state;
# - the code is exchanged by POST /oauth/access_token with the app id and
#   secret, grant_type=authorization_code and the redirect_uri, for a
#   short-lived token;
# - which smmd at once exchanges for a long-lived one: GET /access_token
#   ?grant_type=th_exchange_token&client_secret=...&access_token=SHORT;
# - the long-lived token is kept in the state file and posts use it.
# No token and no app secret in the log or any output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
V=v1.0
start_sink --log-get \
	--rule "POST /th/oauth/access_token 200 $J {\"access_token\":\"ThShort-Qw\",\"user_id\":17841400000000000}" \
	--rule "GET /th/access_token 200 $J {\"access_token\":\"ThLong-1-Qw\",\"token_type\":\"bearer\",\"expires_in\":5183944}" \
	--rule "POST /th/$V/me/threads 200 $J {\"id\":\"5{{n}}\"}" \
	--rule "GET /th/$V/* 200 $J {\"status\":\"FINISHED\",\"id\":\"51\",\"permalink\":\"https://www.threads.net/@smmd/post/X\"}" \
	--rule "POST /th/$V/me/threads_publish 200 $J {\"id\":\"6{{n}}\"}"
base=http://127.0.0.1:$SINK_PORT
SECRET=CanaryThSecret$(openssl rand -hex 8)
(
	umask 077
	printf '%s\n' "$SECRET" >"$T/secret"
)
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $SOCK
channels:
  th:
    publisher: threads
    api_url: $base/th
    client_id: "990602627938098"
    client_secret_file: $T/secret
    retry_base: 100ms
    retry_max: 1s
    metrics: off
EOF
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs() {
	sink_requests | jq -s -c --arg p "$1" --arg m "${2:-POST}" \
		'[.[] | select(.path == $p and .method == $m)] | sort_by(.t_us)'
}
param() { # param NAME URL-or-form
	sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p" <<<"$2"
}
urldecode() {
	local s=${1//+/ }
	printf '%b' "${s//%/\\x}"
}

smmctl add -c th --id p1 'before auth' >/dev/null
wait_state p1/th held 15

url=$(smmctl auth th --start) || fail "auth --start failed: $url"
case $url in
"https://threads.net/oauth/authorize?"*) ;;
*) fail "the page is '$url'" ;;
esac
[ "$(param client_id "$url")" = 990602627938098 ] && [ "$(param response_type "$url")" = code ] &&
	[ "$(urldecode "$(param scope "$url")")" = threads_basic,threads_content_publish,threads_manage_insights ] &&
	[ "$(urldecode "$(param redirect_uri "$url")")" = "http://127.0.0.1:8976/callback" ] ||
	fail "the page's parameters: $url"
state=$(param state "$url")
[ -n "$state" ] || fail "no state in $url"

smmctl auth th --code "http://127.0.0.1:8976/callback?code=AQBx-Code&state=$state#_" >"$T/auth.out" ||
	fail "auth failed: $(cat "$T/auth.out")"
f=$(reqs /th/oauth/access_token | jq -r '.[0].body')
[ "$(param client_id "&$f")" = 990602627938098 ] && [ "$(param client_secret "&$f")" = "$SECRET" ] &&
	[ "$(param grant_type "&$f")" = authorization_code ] && [ "$(param code "&$f")" = AQBx-Code ] &&
	[ "$(urldecode "$(param redirect_uri "&$f")")" = "http://127.0.0.1:8976/callback" ] ||
	fail "the code exchange: $f"

# The short-lived token is exchanged for a long-lived one at once.
wait_for "[ \"\$(reqs /th/access_token GET | jq length)\" -ge 1 ]" 15 ||
	fail "the short-lived token was not exchanged"
q=$(reqs /th/access_token GET | jq -r '.[0].query')
[ "$q" = "grant_type=th_exchange_token&client_secret=$SECRET&access_token=ThShort-Qw" ] ||
	fail "the long-lived exchange: $q"
wait_for "grep -q ThLong-1-Qw '$T/state/auth/th'" 10 || fail "the long-lived token is not kept"
[ "$(stat -c %a "$T/state/auth/th")" = 600 ] || fail "the token file is not 0600"

wait_state p1/th published 15
smmctl add -c th --id p2 'after auth' >/dev/null
wait_state p2/th published 15
[ "$(reqs /th/$V/me/threads_publish | jq -r '.[-1].headers.authorization')" = "Bearer ThLong-1-Qw" ] ||
	fail "p2 did not use the long-lived token"
# A long-lived token, 60 days: no renewal yet.
[ "$(reqs /th/refresh_access_token GET | jq length)" -eq 0 ] || fail "renewed a fresh long-lived token"

smmctl channels --json >"$T/outs"
smmctl status --json >>"$T/outs"
smmctl show p1 --json >>"$T/outs"
cat "$T/auth.out" >>"$T/outs"
! grep -qF -e ThShort -e ThLong -e "$SECRET" "$T/smmd.log" "$T/outs" ||
	fail "a token or the app secret leaked"

stop_smmd
log "ok"
