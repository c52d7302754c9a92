#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Secrets stay secret: a Telegram bot token (token_file), Slack and Discord
# webhook URLs (url_file) and a webhook signing key (secret_file), each a
# distinctive canary, go through successes, error replies (some from a
# "proxy" whose error page quotes the request path), dropped connections and
# refused connections; then the smmd log, the SQLite database (and its WAL)
# and every smmctl output, text and JSON, are searched for each canary and
# none is found. A secret file others can read is refused by --check-config.
# Then the networks' own drivers (mastodon, linkedin, vk, facebook,
# instagram, bluesky, x, threads): each token (and Bluesky's app password
# and session) goes through an error reply that quotes it back and a
# dropped connection, and is searched for the same way; the session smmd
# keeps is only in its 0600 file under state_dir/auth.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

TG_TOKEN=987654321:CanaryTelegramToken_e2e-Q7
SLACK_SECRET=CanarySlackHookSecretZ9
DISCORD_SECRET=CanaryDiscordHookSecretV5
HOOK_KEY=CanaryWebhookSigningKeyW3
TXT=H:Content-Type=text/plain
J=H:Content-Type=application/json
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
		grep -a -l -F -- "$s" "$@" >"$T/found" 2>/dev/null || true
		if [ -s "$T/found" ]; then
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

# ---- The networks' own drivers -------------------------------------------
declare -A NET_TOKEN=(
	[mastodon]=CanaryMastodonTok-M1 [linkedin]=CanaryLinkedInTok-L1
	[vk]=CanaryVkTok-V1 [facebook]=CanaryFacebookTok-F1
	[instagram]=CanaryInstagramTok-I1 [x]=CanaryXTok-X1
	[threads]=CanaryThreadsTok-T1
)
BSKY_PASS=canary-bsky-apppw-b1
BSKY_ACCESS=CanaryBskyAccess-B2
BSKY_REFRESH=CanaryBskyRefresh-B3
GV=v25.0
echo_err() { # a JSON error that quotes the token back, as a proxy might
	printf '{"error":{"message":"refused: Bearer %s","code":100,"type":"OAuthException"},"message":"refused %s","status":422}' "$1" "$1"
}
start_sink \
	--rule "POST /mastodon/api/v1/statuses 422 $J {\"error\":\"Validation failed for ${NET_TOKEN[mastodon]}\"}" \
	--rule "POST /linkedin/rest/posts 422 $J $(echo_err "${NET_TOKEN[linkedin]}")" \
	--rule "POST /vk/wall.post 200 $J {\"error\":{\"error_code\":100,\"error_msg\":\"One of the parameters specified was missing or invalid: ${NET_TOKEN[vk]}\",\"request_params\":[{\"key\":\"access_token\",\"value\":\"${NET_TOKEN[vk]}\"}]}}" \
	--rule "POST /facebook/$GV/111/feed 400 $J $(echo_err "${NET_TOKEN[facebook]}")" \
	--rule "GET /instagram/$GV/17841/content_publishing_limit 400 $J $(echo_err "${NET_TOKEN[instagram]}")" \
	--rule "POST /bluesky/xrpc/com.atproto.server.createSession 200 $J {\"accessJwt\":\"$BSKY_ACCESS\",\"refreshJwt\":\"$BSKY_REFRESH\",\"handle\":\"shop.bsky.social\",\"did\":\"did:plc:canary\",\"active\":true}" \
	--rule "GET /bluesky/xrpc/com.atproto.repo.getRecord 400 $J {\"error\":\"RecordNotFound\",\"message\":\"Could not locate record\"}" \
	--rule "POST /bluesky/xrpc/com.atproto.repo.createRecord 400 $J {\"error\":\"InvalidRequest\",\"message\":\"refused $BSKY_ACCESS for $BSKY_PASS\"}" \
	--rule "POST /x/2/tweets 400 $J {\"title\":\"Invalid Request\",\"detail\":\"bad Bearer ${NET_TOKEN[x]}\",\"type\":\"https://api.twitter.com/2/problems/invalid-request\"}" \
	--rule "POST /threads/v1.0/me/threads 400 $J $(echo_err "${NET_TOKEN[threads]}")" \
	--rule "POST /drop/2/tweets close" \
	--rule "POST /drop/api/v1/statuses close" \
	--rule "POST /drop/rest/posts close" \
	--rule "POST /drop/wall.post close" \
	--rule "POST /drop/$GV/111/feed close"
api=http://127.0.0.1:$SINK_PORT
umask 077
for n in "${!NET_TOKEN[@]}"; do
	printf '%s\n' "${NET_TOKEN[$n]}" >"$T/$n.token"
done
printf '%s\n' "$BSKY_PASS" >"$T/bsky.pass"
umask 022
net_common='    retry_base: 100ms
    retry_max: 200ms
    max_attempts: 2
    metrics: off'
net() { # NAME PUBLISHER PATH TOKEN-NAME KEYS...
	local name=$1 pub=$2 path=$3 tok=$4
	shift 4
	printf '  %s:\n    publisher: %s\n' "$name" "$pub"
	case $pub in
	mastodon) printf '    instance: %s/%s\n' "$api" "$path" ;;
	facebook | instagram) printf '    graph_url: %s/%s\n' "$api" "$path" ;;
	*) printf '    api_url: %s/%s\n' "$api" "$path" ;;
	esac
	printf '    token_file: %s\n' "$T/$tok.token"
	printf '    %s\n' "$@"
	printf '%s\n' "$net_common"
}
{
	printf 'state_dir: %s/state2\nsocket: %s\nchannels:\n' "$T" "$SOCK"
	net mastodon mastodon mastodon mastodon 'visibility: public'
	net linkedin linkedin linkedin linkedin 'author: urn:li:organization:5515'
	net vk vk vk vk 'group_id: 123456'
	net facebook facebook facebook facebook 'page_id: "111"'
	net instagram instagram instagram instagram 'ig_user_id: "17841"'
	net mastodon-drop mastodon drop mastodon
	net linkedin-drop linkedin drop linkedin 'author: urn:li:organization:5515'
	net vk-drop vk drop vk 'group_id: 123456'
	net facebook-drop facebook drop facebook 'page_id: "111"'
	net x x x x
	net x-drop x drop x
	net threads threads threads threads
	printf '  bluesky:\n    publisher: bluesky\n    service: %s/bluesky\n' "$api"
	printf '    handle: shop.bsky.social\n    app_password_file: %s\n' "$T/bsky.pass"
	printf '%s\n' "$net_common"
} >"$CFG"
"$SMMD_BIN" --check-config -c "$CFG" >"$T/out2.check" 2>&1 ||
	fail "config refused: $(cat "$T/out2.check")"
start_smmd
nets=(mastodon linkedin vk facebook instagram bluesky mastodon-drop
	linkedin-drop vk-drop facebook-drop x x-drop threads)
for c in "${nets[@]}"; do
	media=()
	# Instagram posts need an image (Meta fetches it, not smmd).
	[ "$c" != instagram ] || media=(--media "$api/media/a.png")
	smmctl add -c "$c" --id "n-$c" "${media[@]}" "secret test on $c" \
		>"$T/out2.add.$c"
done
wait_for settled 30 || fail "not settled: $(list_json | jq -c '[.[] | {id, state}]')"
log "states: $(list_json | jq -c 'map({(.id): .state}) | add')"
# Not vacuous: every token went out, and came back in an answer.
for n in "${!NET_TOKEN[@]}"; do
	grep -qF "${NET_TOKEN[$n]}" "$SINK_LOG" || fail "the $n token was never sent"
done
grep -qF "$BSKY_PASS" "$SINK_LOG" && grep -qF "$BSKY_ACCESS" "$SINK_LOG" ||
	fail "the Bluesky password or session was never used"
smmctl list >"$T/out2.list"
smmctl list --json >"$T/out2.list.json"
smmctl status >"$T/out2.status"
smmctl status --json >"$T/out2.status.json"
smmctl channels --json >"$T/out2.channels.json"
for c in "${nets[@]}"; do
	smmctl show "n-$c" >"$T/out2.show.$c"
	smmctl show "n-$c" --json >"$T/out2.show.$c.json"
done
grep -q '\*\*\*' "$T/out2.show.linkedin" "$T/out2.show.facebook" ||
	fail "the quoted token was not scrubbed but dropped: $(cat "$T/out2.show.linkedin")"
net_search() {
	local where=$1 s
	shift
	for s in "${NET_TOKEN[@]}" "$BSKY_PASS" "$BSKY_ACCESS" "$BSKY_REFRESH"; do
		grep -a -l -F -- "$s" "$@" >"$T/found" 2>/dev/null || true
		if [ -s "$T/found" ]; then
			fail "$where: a secret (${s:0:16}...) is in $(tr '\n' ' ' <"$T/found")"
		fi
	done
}
net_search "networks, running" "$T/smmd.log" "$T"/state2/smmd.db* "$T"/out2.*
[ "$(stat -c %a "$T/state2/auth/bluesky")" = 600 ] &&
	[ "$(stat -c %a "$T/state2/auth")" = 700 ] ||
	fail "the session file or its folder is not private"
grep -qF "$BSKY_REFRESH" "$T/state2/auth/bluesky" ||
	fail "the Bluesky session is not in its file"
stop_smmd
net_search "networks, stopped" "$T/smmd.log" "$T"/state2/smmd.db*
log "ok"
