#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Engagement read back through the other publishers, each against a sink
# that answers in the API's documented shape (short ages: metrics: [2s]):
# - discord: GET {webhook}/messages/{id} (thread_id kept); the message's
#   reactions[].count summed as likes; shares, comments, views null.
# - template: the admin's GET with {{remote_id}} and a secret header; a
#   429 with Retry-After: 2 first, so the sample lands 2 s late, figures
#   read at their JSON paths (a numeric string too).
# - webhook: the admin's GET naming the {{webhook_id}}, one figure given,
#   the others null.
# - telegram: no samples (bots cannot pull views), but the chat's
#   subscribers through getChatMemberCount, kept once a day.
# - off: metrics: off reads nothing.
# No secret reaches the log.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
TOKEN=123456:AAH-e2e-$(openssl rand -hex 8)
BOT=bot$TOKEN
start_sink --log-get \
	--rule "POST /api/webhooks/1/hooktok 200 $J {\"id\":\"50{{n}}\",\"channel_id\":\"9\",\"guild_id\":\"8\"}" \
	--rule "GET /api/webhooks/1/hooktok/messages/501 200 $J {\"id\":\"501\",\"reactions\":[{\"count\":3,\"emoji\":{\"name\":\"x\"}},{\"count\":2,\"emoji\":{\"name\":\"y\"}}]}" \
	--rule "POST /tpl/posts 200 $J {\"data\":{\"id\":\"t-{{n}}\"}}" \
	--rule "GET /tpl/stats/t-1 429 H:Retry-After=2 $J {\"error\":\"slow down\"}" \
	--rule "GET /tpl/stats/t-1 200 $J {\"stats\":{\"likes\":4,\"shares\":\"2\",\"comments\":1,\"views\":100}}" \
	--rule "GET /wh/stats 200 $J {\"likes\":8}" \
	--rule "POST /tg/$BOT/sendMessage 200 {\"ok\":true,\"result\":{\"message_id\":7,\"date\":1700000000,\"chat\":{\"id\":-100123,\"type\":\"channel\",\"username\":\"smmdtest\"},\"text\":\"x\"}}" \
	--rule "POST /tg/$BOT/getChatMemberCount 200 {\"ok\":true,\"result\":321}"
base=http://127.0.0.1:$SINK_PORT
AUTH=Bearer-$(openssl rand -hex 12)
(
	umask 077
	printf 'sekrit\n' >"$SECRET_FILE"
	printf '%s\n' "$TOKEN" >"$T/bot.token"
	printf 'Bearer %s\n' "$AUTH" >"$T/auth"
	printf '%s/api/webhooks/1/hooktok?thread_id=77\n' "$base" >"$T/discord.url"
)
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $SOCK
metrics: [2s]
channels:
  disc:
    publisher: discord
    url_file: $T/discord.url
  tpl:
    publisher: template
    url: $base/tpl/posts
    body: '{"text": {{text}}}'
    success_id: data.id
    engagement:
      url: $base/tpl/stats/{{remote_id}}
      header_files: {Authorization: $T/auth}
      likes: stats.likes
      shares: stats.shares
      comments: stats.comments
      views: stats.views
  wh:
    publisher: webhook
    url: $base/hook/wh
    secret_file: $SECRET_FILE
    engagement:
      url: $base/wh/stats?id={{webhook_id}}&post={{post_id}}
      likes: likes
      shares: reposts
  tg:
    publisher: telegram
    token_file: $T/bot.token
    chat_id: "@smmdtest"
    api_url: $base/tg
  off:
    publisher: webhook
    url: $base/hook/off
    secret_file: $SECRET_FILE
    metrics: off
    engagement:
      url: $base/off/stats/{{webhook_id}}
      likes: likes
EOF
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
samples() {
	delivery_json "$1" | jq -c '.engagement // []'
}

for c in disc tpl wh tg off; do
	smmctl add -c "$c" --id "p-$c" "post on $c" >/dev/null
done
for c in disc tpl wh tg off; do
	wait_state "p-$c/$c" published 20
done

# --- discord
wait_for "[ \"\$(samples p-disc/disc | jq length)\" -ge 1 ]" 15 ||
	fail "no discord sample"
jq_true '.[0].likes == 5 and .[0].shares == null and .[0].comments == null
	and .[0].views == null' <<<"$(samples p-disc/disc)" ||
	fail "discord sample $(samples p-disc/disc)"
g=$(reqs /api/webhooks/1/hooktok/messages/501)
jq_true 'length == 1 and .[0].method == "GET" and .[0].query == "thread_id=77"' \
	<<<"$g" || fail "discord read: $g"

# --- template: 429 then 200, 2 s later; the secret header sent.
wait_for "[ \"\$(samples p-tpl/tpl | jq length)\" -ge 1 ]" 15 ||
	fail "no template sample"
jq_true '.[0].likes == 4 and .[0].shares == 2 and .[0].comments == 1 and
	.[0].views == 100 and .[0].quotes == null' <<<"$(samples p-tpl/tpl)" ||
	fail "template sample $(samples p-tpl/tpl)"
g=$(reqs /tpl/stats/t-1)
jq_true --arg a "Bearer $AUTH" 'length == 2 and .[0].status == 429 and
	.[1].status == 200 and all(.[]; .headers.authorization == $a)' <<<"$g" ||
	fail "template reads: $(jq -c '[.[] | {status, t_us}]' <<<"$g")"
gap=$((($(jq '.[1].t_us' <<<"$g") - $(jq '.[0].t_us' <<<"$g")) / 1000))
[ "$gap" -ge 1900 ] || fail "the read after Retry-After: 2 came $gap ms later"

# --- webhook: the webhook-id in the URL, one figure given.
wait_for "[ \"\$(samples p-wh/wh | jq length)\" -ge 1 ]" 15 ||
	fail "no webhook sample"
jq_true '.[0].likes == 8 and .[0].shares == null' <<<"$(samples p-wh/wh)" ||
	fail "webhook sample $(samples p-wh/wh)"
wid=$(delivery_json p-wh/wh | jq -r .webhook_id)
q=$(reqs /wh/stats | jq -r '.[0].query')
[ "$q" = "id=$wid&post=p-wh" ] || fail "webhook read query '$q', webhook id $wid"

# --- telegram: the audience, no samples.
wait_for "[ \"\$(reqs /tg/$BOT/getChatMemberCount | jq length)\" -ge 1 ]" 10 ||
	fail "getChatMemberCount was not called"
jq_true '.[0].body | fromjson | .chat_id == "@smmdtest"' \
	<<<"$(reqs "/tg/$BOT/getChatMemberCount")" || fail "getChatMemberCount body"
wait_for "[ \"\$(sqlite3 -readonly '$T/state/smmd.db' 'SELECT followers FROM audience WHERE channel = \"tg\"')\" = 321 ]" 10 ||
	fail "the audience of tg is not stored"

# --- off: nothing read. settle waits past the 2 s age.
settle off +3s
[ "$(reqs "/off/stats/$(delivery_json p-off/off | jq -r .webhook_id)" | jq length)" -eq 0 ] ||
	fail "a channel with metrics: off was read"
[ "$(samples p-tg/tg | jq length)" -eq 0 ] || fail "telegram got samples"

for s in "$AUTH" "$TOKEN" hooktok; do
	grep -q -- "$s" "$T/smmd.log" && fail "a secret is in the log: $s"
done
stop_smmd
log "ok"
