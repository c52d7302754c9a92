#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The slack publisher against a sink that answers like a Slack incoming
# webhook: the request is Slack's JSON (text with the link, a mrkdwn section,
# one image block per media URL); "ok" publishes; a plain-text error body
# (channel_not_found) fails the delivery with that text; a 429 with
# Retry-After: 2 is retried no sooner than 2 s later, then published.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

TXT=H:Content-Type=text/plain
start_sink \
	--rule "POST /services/T0/B0/good 200 $TXT ok" \
	--rule "POST /services/T0/B0/gone 404 $TXT channel_not_found" \
	--rule "POST /services/T0/B0/busy 429 H:Retry-After=2 $TXT rate_limited" \
	--rule "POST /services/T0/B0/busy 200 $TXT ok"
base=http://127.0.0.1:$SINK_PORT/services/T0/B0
(
	umask 077
	printf '%s\n' "$base/good" >"$T/slack.url"
)
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $SOCK
channels:
  good:
    publisher: slack
    url_file: $T/slack.url
    retry_base: 100ms
    retry_max: 1s
  gone:
    publisher: slack
    url: $base/gone
    retry_base: 100ms
    retry_max: 1s
  busy:
    publisher: slack
    url: $base/busy
    retry_base: 100ms
    retry_max: 1s
EOF
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

# The request: Slack's JSON, mrkdwn escaped, the link inside the section as
# <URL>, each media URL an image block with alt text.
smmctl add -c good --id sl1 --link 'https://example.com/a?b=1&c=2' \
	--media https://cdn.example.com/1.png --media https://cdn.example.com/2.jpg \
	'Launch <today> & more' >/dev/null
wait_state sl1/good published 15
req=$(sink_requests | jq -c 'select(.path == "/services/T0/B0/good")')
[ "$(wc -l <<<"$req")" -eq 1 ] || fail "expected one request, got: $req"
jq_true '.method == "POST" and .query == null' <<<"$req" ||
	fail "wrong method or query: $(jq -c '{method, query}' <<<"$req")"
jq_true '.headers["content-type"] == "application/json"' <<<"$req" ||
	fail "wrong content type: $(jq -c '.headers' <<<"$req")"
body=$(jq -c '.body | fromjson' <<<"$req") || fail "body is not JSON: $req"
log "slack body: $body"
want_text='Launch &lt;today&gt; &amp; more
https://example.com/a?b=1&amp;c=2'
[ "$(jq -r .text <<<"$body")" = "$want_text" ] ||
	fail "text is $(jq .text <<<"$body")"
want_section='Launch &lt;today&gt; &amp; more
<https://example.com/a?b=1&amp;c=2>'
jq_true '.blocks[0] | .type == "section" and .text.type == "mrkdwn"' \
	<<<"$body" || fail "first block is not a mrkdwn section: $(jq -c '.blocks[0]' <<<"$body")"
[ "$(jq -r '.blocks[0].text.text' <<<"$body")" = "$want_section" ] ||
	fail "section text is $(jq '.blocks[0].text.text' <<<"$body")"
jq_true '[.blocks[1:][] | select(.type == "image") | .image_url]
	== ["https://cdn.example.com/1.png", "https://cdn.example.com/2.jpg"]
	and (.blocks | length) == 3
	and all(.blocks[1:][]; .alt_text | type == "string" and length > 0)' \
	<<<"$body" || fail "image blocks wrong: $(jq -c '.blocks[1:]' <<<"$body")"
# Slack's webhook gives no message id: none is recorded, none invented.
d=$(delivery_json sl1/good)
jq_true '.remote_id == null and .remote_url == null' <<<"$d" ||
	fail "a remote id appeared: $(jq -c '{remote_id, remote_url}' <<<"$d")"

# A documented error body fails the delivery at once, with that text.
smmctl add -c gone --id sl2 "to an archived channel" >/dev/null
wait_state sl2/gone failed 15
d=$(delivery_json sl2/gone)
jq -r .last_error <<<"$d" | grep -q channel_not_found ||
	fail "last_error does not name channel_not_found: $(jq -c .last_error <<<"$d")"
[ "$(jq '.attempts | length' <<<"$d")" -eq 1 ] ||
	fail "a 404 channel_not_found was retried"
grep -q "channel_not_found" "$T/smmd.log" || fail "the log does not say why"

# 429 + Retry-After: 2 -> the retry waits at least 2 s, then publishes.
smmctl add -c busy --id sl3 "rate limited" >/dev/null
wait_state sl3/busy published 20
reqs=$(sink_requests | jq -s -c '[.[] | select(.path == "/services/T0/B0/busy")]
	| sort_by(.t_us)')
[ "$(jq length <<<"$reqs")" -eq 2 ] ||
	fail "expected 2 requests on busy, got $(jq length <<<"$reqs")"
[ "$(jq '.[0].status' <<<"$reqs")" = 429 ] || fail "first reply was not 429"
gap=$(($(jq '.[1].t_us - .[0].t_us' <<<"$reqs") / 1000))
log "slack 429: retried after $gap ms (Retry-After: 2)"
[ "$gap" -ge 1900 ] || fail "retried $gap ms after 'Retry-After: 2'"

stop_smmd
log "ok"
