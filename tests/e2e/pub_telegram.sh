#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The telegram publisher against a sink that answers like the Bot API
# (api_url points at it): sendMessage for text, sendPhoto with the first
# media URL and a caption; message_id recorded, with a t.me URL when the
# chat has a username; {"ok":false} with a description fails with it; a
# 429 with parameters.retry_after 2 is retried 2 s later, then published;
# texts over Telegram's limits fail unsent; the token never reaches the log.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

TOKEN=4242424242:AAtg-e2e_Token-xyz
BOT=bot$TOKEN
start_sink \
	--rule "POST /ok/$BOT/sendMessage 200 {\"ok\":true,\"result\":{\"message_id\":{{n}}0,\"date\":1700000000,\"chat\":{\"id\":-100123,\"type\":\"channel\",\"title\":\"T\",\"username\":\"smmdtest\"},\"text\":\"x\"}}" \
	--rule "POST /ok/$BOT/sendPhoto 200 {\"ok\":true,\"result\":{\"message_id\":55,\"date\":1700000000,\"chat\":{\"id\":-100999,\"type\":\"supergroup\",\"title\":\"private\"},\"photo\":[]}}" \
	--rule "POST /err/$BOT/sendMessage 400 {\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not found\"}" \
	--rule "POST /busy/$BOT/sendMessage 429 H:Retry-After=5 {\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 2\",\"parameters\":{\"retry_after\":2}}" \
	--rule "POST /busy/$BOT/sendMessage 200 {\"ok\":true,\"result\":{\"message_id\":7,\"date\":1700000000,\"chat\":{\"id\":5,\"type\":\"private\",\"first_name\":\"A\"},\"text\":\"x\"}}"
api=http://127.0.0.1:$SINK_PORT
(
	umask 077
	printf '%s\n' "$TOKEN" >"$T/bot.token"
)
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $SOCK
channels:
  msg:
    publisher: telegram
    token_file: $T/bot.token
    chat_id: -100123
    api_url: $api/ok/
    retry_base: 100ms
    retry_max: 1s
  photo:
    publisher: telegram
    token_file: $T/bot.token
    chat_id: "@smmdchannel"
    api_url: $api/ok
    retry_base: 100ms
    retry_max: 1s
  err:
    publisher: telegram
    token_file: $T/bot.token
    chat_id: 42
    api_url: $api/err
    retry_base: 100ms
    retry_max: 1s
  busy:
    publisher: telegram
    token_file: $T/bot.token
    chat_id: 5
    api_url: $api/busy
    retry_base: 100ms
    retry_max: 1s
EOF
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs_on() {
	sink_requests | jq -s -c --arg p "/$1/$BOT/$2" '[.[] | select(.path == $p)]
		| sort_by(.t_us)'
}

# sendMessage: chat_id as a number, text and link, previews on.
smmctl add -c msg --id tg1 --link https://example.com/x 'Hello, Telegram' >/dev/null
wait_state tg1/msg published 15
req=$(reqs_on ok sendMessage | jq -c '.[0]')
jq_true '.method == "POST" and .headers["content-type"] == "application/json"' \
	<<<"$req" || fail "wrong request: $(jq -c '{method, headers}' <<<"$req")"
body=$(jq -c '.body | fromjson' <<<"$req") || fail "body is not JSON: $req"
log "sendMessage body: $body"
jq_true '. == {"chat_id": -100123, "text": "Hello, Telegram\nhttps://example.com/x",
	"disable_web_page_preview": false}' <<<"$body" ||
	fail "unexpected sendMessage body: $body"
d=$(delivery_json tg1/msg)
jq_true '.remote_id == "10" and .remote_url == "https://t.me/smmdtest/10"' \
	<<<"$d" || fail "remote id/url: $(jq -c '{remote_id, remote_url}' <<<"$d")"

# sendPhoto: the first media URL, the text as caption, @username chat.
smmctl add -c photo --id tg2 --media https://cdn.example.com/p.jpg \
	--media https://cdn.example.com/q.jpg 'A photo' >/dev/null
wait_state tg2/photo published 15
body=$(reqs_on ok sendPhoto | jq -c '.[0].body | fromjson')
log "sendPhoto body: $body"
jq_true '. == {"chat_id": "@smmdchannel", "photo": "https://cdn.example.com/p.jpg",
	"caption": "A photo"}' <<<"$body" || fail "unexpected sendPhoto body: $body"
# A chat without a username has no public link.
d=$(delivery_json tg2/photo)
jq_true '.remote_id == "55" and .remote_url == null' <<<"$d" ||
	fail "remote id/url: $(jq -c '{remote_id, remote_url}' <<<"$d")"

# ok:false with a description: failed at once, with the description.
smmctl add -c err --id tg3 "nobody home" >/dev/null
wait_state tg3/err failed 15
d=$(delivery_json tg3/err)
jq -r .last_error <<<"$d" | grep -q 'Bad Request: chat not found' ||
	fail "last_error: $(jq -c .last_error <<<"$d")"
[ "$(reqs_on err sendMessage | jq length)" -eq 1 ] || fail "a 400 was retried"

# 429 with parameters.retry_after: waits 2 s, then published.
smmctl add -c busy --id tg4 "rate limited" >/dev/null
wait_state tg4/busy published 20
reqs=$(reqs_on busy sendMessage)
[ "$(jq length <<<"$reqs")" -eq 2 ] ||
	fail "expected 2 requests on busy, got $(jq length <<<"$reqs")"
gap=$(($(jq '.[1].t_us - .[0].t_us' <<<"$reqs") / 1000))
log "telegram 429: retried after $gap ms (retry_after 2)"
[ "$gap" -ge 1900 ] || fail "retried $gap ms after retry_after 2"
# The header says 5 s: the body's parameters.retry_after must win.
[ "$gap" -lt 4000 ] || fail "retried $gap ms later: the header won over the body"
jq_true '.remote_id == "7" and .remote_url == null' <<<"$(delivery_json tg4/busy)" ||
	fail "tg4: $(delivery_json tg4/busy | jq -c '{remote_id, remote_url}')"

# Over the limits (4096 for a message, 1024 for a caption): failed, unsent.
smmctl add -c msg --id tg5 "$(head -c 4097 /dev/zero | tr '\0' y)" >/dev/null
smmctl add -c photo --id tg6 --media https://cdn.example.com/p.jpg \
	"$(head -c 1025 /dev/zero | tr '\0' z)" >/dev/null
wait_state tg5/msg failed 15
wait_state tg6/photo failed 15
delivery_json tg5/msg | jq -r .last_error | grep -q 4096 ||
	fail "tg5: $(delivery_json tg5/msg | jq -c .last_error)"
delivery_json tg6/photo | jq -r .last_error | grep -q 1024 ||
	fail "tg6: $(delivery_json tg6/photo | jq -c .last_error)"
[ "$(reqs_on ok sendMessage | jq length)" -eq 1 ] || fail "tg5 was sent"
[ "$(reqs_on ok sendPhoto | jq length)" -eq 1 ] || fail "tg6 was sent"

stop_smmd
! grep -qF "$TOKEN" "$T/smmd.log" || fail "the bot token is in the log"
log "ok"
