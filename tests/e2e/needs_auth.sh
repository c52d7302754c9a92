#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# No silent rot: a network that refuses a channel's token puts the channel
# in needs_auth. Against a sink that answers like Mastodon:
# - "tok" (notify: alerts) answers 401 to its first status: the delivery is
#   held, not failed, with the reason; the alerts channel is told once;
#   status and channels show needs_auth; a second post due then is held
#   without a request; "smmctl resume" does not end it; a kill -9 and a
#   restart keep it; "smmctl auth tok" ends it and both posts go out.
# - "late" (max_lateness 2s) is refused too; once past its lateness,
#   "smmctl auth late" skips its held post, as a resume would.
# - Telegram's 401 (a revoked bot token) holds its channel the same way.
# The token appears in no log line and no smmctl output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
start_sink \
	--rule "POST /tok/api/v1/statuses 401 $J {\"error\":\"The access token was revoked\"}" \
	--rule "POST /tok/api/v1/statuses 200 $J {\"id\":\"7{{n}}\",\"url\":\"https://social.example/@smmd/7{{n}}\"}" \
	--rule "POST /late/api/v1/statuses 401 $J {\"error\":\"The access token was revoked\"}" \
	--rule "POST /tg/botCanaryBotToken1:revoked/sendMessage 401 $J {\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}"
base=http://127.0.0.1:$SINK_PORT
TOKEN=tok-$(openssl rand -hex 16)
(
	umask 077
	printf '%s\n' "$TOKEN" >"$T/token"
	printf 'CanaryBotToken1:revoked\n' >"$T/bot"
)
mchan() {
	printf '  %s:\n    publisher: mastodon\n' "$1"
	printf '    instance: %s/%s\n    token_file: %s\n' "$base" "$1" "$T/token"
	printf '    retry_base: 100ms\n    retry_max: 1s\n'
}
{
	printf 'state_dir: %s/state\nsocket: %s\nchannels:\n' "$T" "$SOCK"
	mchan tok
	printf '    notify: alerts\n'
	mchan late
	printf '    max_lateness: 2s\n'
	printf '  tg:\n    publisher: telegram\n    api_url: %s/tg\n' "$base"
	printf '    token_file: %s\n    chat_id: "@smmd"\n' "$T/bot"
	printf '  alerts:\n    publisher: webhook\n    url: %s/hook/alerts\n' "$base"
} >"$CFG"
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
alerts() {
	reqs /hook/alerts | jq -r '.[] | .body | fromjson | .text'
}

# --- tok: 401 holds the delivery and the channel.
smmctl add -c tok --id a1 'first' >/dev/null
wait_state a1/tok held 15
err=$(delivery_json a1/tok | jq -r .last_error)
case $err in
*"needs auth"*401*"smmctl auth tok"*) ;;
*) fail "a1's reason is '$err'" ;;
esac
wait_for '[ "$(alerts | grep -c "needs auth")" -ge 1 ]' 10 ||
	fail "the alerts channel was not told: $(alerts)"
smmctl channels --json >"$T/ch.json"
jq_true '.channels[] | select(.name == "tok") | .state == "needs_auth" and (.reason | test("401")) and .auth.state == "needs_auth"' <"$T/ch.json" ||
	fail "channels does not show tok needing auth: $(cat "$T/ch.json")"
jq_true '.channels[] | select(.name == "late") | .state == "ok"' <"$T/ch.json" ||
	fail "late is not ok: $(cat "$T/ch.json")"
smmctl channels | grep -q "^tok .*needs_auth" ||
	fail "channels text: $(smmctl channels)"
smmctl status --json | jq -e '.pauses[] | select(.scope == "channel tok (needs auth)")' >/dev/null ||
	fail "status has no needs-auth pause: $(smmctl status --json | jq -c .pauses)"
smmctl status | grep -q "needs auth  tok since .*holding 1: needs auth: .*HTTP 401" ||
	fail "status text: $(smmctl status)"

# A post due now is held without a request.
smmctl add -c tok --id a2 'second' >/dev/null
wait_state a2/tok held 15
[ "$(reqs /tok/api/v1/statuses | jq length)" -eq 1 ] ||
	fail "a held channel still sent requests"

# resume does not end it; a crash and a restart keep it.
rc=0
smmctl resume >"$T/resume.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && grep -q "nothing is paused" "$T/resume.out" ||
	fail "resume (rc $rc) said: $(cat "$T/resume.out")"
smmctl channels --json | jq -e '.channels[] | select(.name == "tok" and .state == "needs_auth")' >/dev/null ||
	fail "resume ended a needs-auth hold"
crash_smmd
start_smmd
[ "$(delivery_state a1/tok)" = held ] && [ "$(delivery_state a2/tok)" = held ] ||
	fail "the hold did not survive a restart"
smmctl channels --json | jq -e '.channels[] | select(.name == "tok" and .state == "needs_auth")' >/dev/null ||
	fail "needs_auth did not survive a restart"
[ "$(alerts | grep -c "needs auth")" -eq 1 ] ||
	fail "the alerts channel was told $(alerts | grep -c "needs auth") times"

# smmctl auth ends it: both go out.
smmctl auth tok >"$T/auth.out" || fail "auth failed: $(cat "$T/auth.out")"
grep -q "channel tok authorized" "$T/auth.out" || fail "auth said: $(cat "$T/auth.out")"
grep -q "2 published" "$T/auth.out" || fail "auth said: $(cat "$T/auth.out")"
wait_state a1/tok published 15
wait_state a2/tok published 15
smmctl channels --json | jq -e '.channels[] | select(.name == "tok" and .state == "ok")' >/dev/null ||
	fail "tok is not ok after auth"
smmctl audit -s "$(date -u +%Y-%m-%d)" --json | jq -e '[.audit[] | select(.scope == "channel tok (needs auth)")] | length >= 2' >/dev/null ||
	fail "the audit trail lacks the hold: $(smmctl audit --json | jq -c .)"

# --- late: held past its lateness, then skipped on auth.
smmctl add -c late --id b1 'late one' >/dev/null
wait_state b1/late held 15
sleep 3
smmctl auth late >"$T/auth2.out" || fail "auth late failed: $(cat "$T/auth2.out")"
wait_state b1/late skipped 10

# --- Telegram: a revoked bot token holds the channel.
smmctl add -c tg --id c1 'to telegram' >/dev/null
wait_state c1/tg held 15
delivery_json c1/tg | jq -r .last_error | grep -q "needs auth" ||
	fail "c1's reason: $(delivery_json c1/tg | jq -r .last_error)"

# The token is nowhere but in the requests themselves.
for id in a1 a2 b1 c1; do
	smmctl show "$id" --json
	smmctl show "$id"
done >"$T/shows.out"
smmctl channels --json >>"$T/shows.out"
smmctl status --json >>"$T/shows.out"
! grep -qF -e "$TOKEN" -e "CanaryBotToken1" "$T/smmd.log" "$T/shows.out" ||
	fail "a token leaked into the log or smmctl output"

stop_smmd
log "ok"
