#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Secrets stay secret: a Telegram bot token (token_file), Slack and Discord
# webhook URLs (url_file) and a webhook signing key (secret_file), each a
# distinctive canary, go through successes, error replies (some from a
# "proxy" whose error page quotes the request path), dropped connections and
# refused connections; then the smmd log, the SQLite database (and its WAL)
# and every smmctl output, text and JSON, are searched for each canary and
# none is found. A secret file others can read is refused by --check-config.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

TG_TOKEN=987654321:CanaryTelegramToken_e2e-Q7
SLACK_SECRET=CanarySlackHookSecretZ9
DISCORD_SECRET=CanaryDiscordHookSecretV5
HOOK_KEY=CanaryWebhookSigningKeyW3
TXT=H:Content-Type=text/plain
BOT=bot$TG_TOKEN

# A port nothing listens on: connections to it are refused.
start_sink
dead_port=$SINK_PORT
kill -TERM "$SINK_PID"
wait_pid_exit "$SINK_PID" 10

start_sink \
	--rule "POST /tg/$BOT/sendMessage 200 {\"ok\":true,\"result\":{\"message_id\":{{n}},\"chat\":{\"id\":1,\"type\":\"private\"}}}" \
	--rule "POST /tgbad/$BOT/sendMessage 400 {\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not found\"}" \
	--rule "POST /tgdrop/$BOT/sendMessage close" \
	--rule "POST /services/T0/B0/$SLACK_SECRET 200 $TXT ok" \
	--rule "POST /services/T0/B1/$SLACK_SECRET 403 $TXT action_prohibited" \
	--rule "POST /tgecho/$BOT/sendMessage 404 H:Content-Type=text/html <p>The requested URL /tgecho/$BOT/sendMessage was not found on this server.</p>" \
	--rule "POST /services/T0/B3/$SLACK_SECRET 403 H:Content-Type=text/html <h1>Forbidden</h1> no POST to /services/T0/B3/$SLACK_SECRET" \
	--rule "POST /api/webhooks/1/$DISCORD_SECRET 404 H:Content-Type=text/html Not Found: /api/webhooks/1/$DISCORD_SECRET?wait=true" \
	--rule "POST /hook/demo 500 {\"error\":\"boom\"}" \
	--rule "POST /hook/demo 200 {}" \
	--rule "POST /hook/bad 400 {\"error\":\"no\"}"
[ "$SINK_PORT" != "$dead_port" ] || fail "the new sink took the dead port"
api=http://127.0.0.1:$SINK_PORT
dead=http://127.0.0.1:$dead_port
umask 077
printf '%s\n' "$TG_TOKEN" >"$T/tg.token"
printf '%s\n' "$api/services/T0/B0/$SLACK_SECRET" >"$T/slack.url"
printf '%s\n' "$api/services/T0/B1/$SLACK_SECRET" >"$T/slack-bad.url"
printf '%s\n' "$dead/services/T0/B2/$SLACK_SECRET" >"$T/slack-dead.url"
printf '%s\n' "$api/services/T0/B3/$SLACK_SECRET" >"$T/slack-echo.url"
printf '%s\n' "$api/api/webhooks/1/$DISCORD_SECRET" >"$T/discord.url"
printf '%s' "$HOOK_KEY" >"$T/hook.key"
umask 022

common='    retry_base: 100ms
    retry_max: 200ms
    max_attempts: 2
    notify: alerts'
tg() { # NAME API_URL
	printf '  %s:\n    publisher: telegram\n    token_file: %s\n' "$1" "$T/tg.token"
	printf '    chat_id: 1\n    api_url: %s\n%s\n' "$2" "$common"
}
slack() { # NAME URL_FILE
	printf '  %s:\n    publisher: slack\n    url_file: %s\n%s\n' "$1" "$2" "$common"
}
hook() { # NAME
	printf '  %s:\n    publisher: webhook\n    url: %s/hook/%s\n' "$1" "$api" "$1"
	printf '    secret_file: %s\n%s\n' "$T/hook.key" "$common"
}
{
	printf 'state_dir: %s/state\nsocket: %s\nchannels:\n' "$T" "$SOCK"
	tg tg "$api/tg"
	tg tgbad "$api/tgbad"
	tg tgdrop "$api/tgdrop"
	tg tgdead "$dead"
	tg tgecho "$api/tgecho"
	slack slack "$T/slack.url"
	slack slackbad "$T/slack-bad.url"
	slack slackdead "$T/slack-dead.url"
	slack slackecho "$T/slack-echo.url"
	printf '  discord:\n    publisher: discord\n    url_file: %s\n%s\n' \
		"$T/discord.url" "$common"
	hook demo
	hook bad
	printf '  alerts:\n    publisher: webhook\n    url: %s/hook/alerts\n' "$api"
} >"$CFG"
"$SMMD_BIN" --check-config -c "$CFG" >"$T/out.check" 2>&1 ||
	fail "config refused: $(cat "$T/out.check")"
start_smmd

chans=(tg tgbad tgdrop tgdead tgecho slack slackbad slackdead slackecho
	discord demo bad)
for c in "${chans[@]}"; do
	smmctl add -c "$c" --id "s-$c" --link https://example.com/l "secret test on $c" \
		>"$T/out.add.$c"
done
# Every delivery settles: published, failed or unknown (the dropped one).
settled() {
	[ "$(list_json | jq '[.[] | select(.state == "scheduled" or
		.state == "publishing" or .state == "retry_wait")] | length')" -eq 0 ]
}
wait_for settled 30 || fail "not settled: $(list_json | jq -c '[.[] | {id, state}]')"
states=$(list_json | jq -c 'map({(.id): .state}) | add')
log "states: $states"
jq_true '.["s-tg/tg"] == "published" and .["s-tgbad/tgbad"] == "failed"
	and .["s-tgdrop/tgdrop"] == "unknown" and .["s-tgdead/tgdead"] == "failed"
	and .["s-slack/slack"] == "published"
	and .["s-slackbad/slackbad"] == "failed"
	and .["s-slackdead/slackdead"] == "failed"
	and .["s-tgecho/tgecho"] == "failed"
	and .["s-slackecho/slackecho"] == "failed"
	and .["s-discord/discord"] == "failed"
	and .["s-demo/demo"] == "published" and .["s-bad/bad"] == "failed"' \
	<<<"$states" || fail "unexpected states: $states"

# Everything a user can see, in every form.
smmctl list >"$T/out.list"
smmctl list --json >"$T/out.list.json"
smmctl status >"$T/out.status"
smmctl status --json >"$T/out.status.json"
for c in "${chans[@]}"; do
	smmctl show "s-$c" >"$T/out.show.$c"
	smmctl show "s-$c" --json >"$T/out.show.$c.json"
	smmctl show "s-$c/$c" --json >"$T/out.showd.$c.json"
done
grep -q 'chat not found' "$T/out.show.tgbad" || fail "show lacks the reason"
grep -q 'action_prohibited' "$T/out.show.slackbad" || fail "show lacks the reason"
# An error page quoting the path is shown, the secret in it scrubbed.
grep -q 'The requested URL /tgecho/bot\*\*\*/sendMessage' "$T/out.show.tgecho" ||
	fail "tgecho reason: $(grep -i 'error' "$T/out.show.tgecho")"
grep -q 'no POST to .*\*\*\*' "$T/out.show.slackecho" ||
	fail "slackecho reason: $(grep -i 'error' "$T/out.show.slackecho")"

search() {
	local where=$1 s
	shift
	for s in "$TG_TOKEN" "${TG_TOKEN#*:}" "$SLACK_SECRET" "$DISCORD_SECRET" \
		"$HOOK_KEY"; do
		if grep -a -l -F -- "$s" "$@" >"$T/found" 2>/dev/null; then
			fail "$where: a secret (${s:0:12}...) is in $(tr '\n' ' ' <"$T/found")"
		fi
	done
}
db_files() {
	ls "$T"/state/smmd.db*
}
[ -s "$T/state/smmd.db" ] || fail "no database at $T/state/smmd.db"
# Not vacuous: the secrets were used (the sink saw them in request paths),
# and the search finds a secret where there is one.
grep -qF "$BOT/sendMessage" "$SINK_LOG" || fail "the token was never used"
grep -qF "$SLACK_SECRET" "$SINK_LOG" || fail "the Slack URL was never used"
grep -qF "$DISCORD_SECRET" "$SINK_LOG" || fail "the Discord URL was never used"
! (search "self-test" "$T/tg.token") 2>/dev/null ||
	fail "the search does not find a secret"
search "running" "$T/smmd.log" $(db_files) "$T"/out.*
stop_smmd
# After a clean stop the WAL is folded into the database: look again.
log "searched: smmd.log, $(db_files | xargs -n1 basename | tr '\n' ' ')and $(ls "$T"/out.* | wc -l) smmctl outputs"
search "stopped" "$T/smmd.log" $(db_files)

# A secret file others may read is refused, for each kind of key.
for f in tg.token slack.url discord.url hook.key; do
	chmod 0644 "$T/$f"
	st=0
	"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.$f" 2>&1 || st=$?
	[ "$st" -eq 1 ] || fail "--check-config exited $st with a 0644 $f"
	grep -q "$T/$f.*readable by group or others" "$T/check.$f" ||
		fail "no 'readable by group or others' for $f: $(cat "$T/check.$f")"
	search "check-config" "$T/check.$f"
	chmod 0600 "$T/$f"
done
log "ok"
