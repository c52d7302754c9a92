#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The discord publisher against a sink that answers like a Discord webhook:
# ?wait=true is added (also to a URL that has a query already); the body is
# {"content", "embeds"}; the message id and its discord.com URL are
# recorded; a 400 {"code","message"} fails with the message; a 429 with
# {"retry_after": 1.5} is retried after 1.5 s (the JSON, not the rounded
# header), then published; content over 2000 characters fails unsent.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

W=/api/webhooks/111
start_sink \
	--rule "POST $W/tokA 200 {\"id\":\"90000{{n}}\",\"type\":0,\"content\":\"x\",\"channel_id\":\"222\",\"guild_id\":\"333\",\"webhook_id\":\"111\"}" \
	--rule "POST $W/tokB 400 {\"code\":50006,\"message\":\"Cannot send an empty message\"}" \
	--rule "POST $W/tokC 429 H:Retry-After=3 {\"message\":\"You are being rate limited.\",\"retry_after\":1.5,\"global\":false}" \
	--rule "POST $W/tokC 200 {\"id\":\"777\",\"type\":0,\"channel_id\":\"222\"}"
base=http://127.0.0.1:$SINK_PORT$W
(
	umask 077
	printf '%s\n' "$base/tokA" >"$T/discord.url"
)
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $SOCK
channels:
  good:
    publisher: discord
    url_file: $T/discord.url
    retry_base: 100ms
    retry_max: 1s
  bad:
    publisher: discord
    url: "$base/tokB?thread_id=444"
    retry_base: 100ms
    retry_max: 1s
  busy:
    publisher: discord
    url: $base/tokC
    retry_base: 100ms
    retry_max: 1s
EOF
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs_on() {
	sink_requests | jq -s -c --arg p "$W/$1" '[.[] | select(.path == $p)]
		| sort_by(.t_us)'
}

# Success: the shape of the request, and the message id and URL recorded.
smmctl add -c good --id dc1 --link https://example.com/launch \
	--media https://cdn.example.com/1.png --media https://cdn.example.com/2.png \
	'Launch day' >/dev/null
wait_state dc1/good published 15
req=$(reqs_on tokA | jq -c '.[0]')
jq_true '.method == "POST" and .query == "wait=true"' <<<"$req" ||
	fail "wrong method or query: $(jq -c '{method, query}' <<<"$req")"
jq_true '.headers["content-type"] == "application/json"' <<<"$req" ||
	fail "wrong content type: $(jq -c .headers <<<"$req")"
body=$(jq -c '.body | fromjson' <<<"$req") || fail "body is not JSON: $req"
log "discord body: $body"
jq_true '. == {"content": "Launch day\nhttps://example.com/launch",
	"embeds": [{"image": {"url": "https://cdn.example.com/1.png"}},
	           {"image": {"url": "https://cdn.example.com/2.png"}}]}' \
	<<<"$body" || fail "unexpected body: $body"
d=$(delivery_json dc1/good)
jq_true '.remote_id == "900001" and
	.remote_url == "https://discord.com/channels/333/222/900001"' <<<"$d" ||
	fail "remote id/url: $(jq -c '{remote_id, remote_url}' <<<"$d")"
smmctl show dc1 | grep -q 'https://discord.com/channels/333/222/900001' ||
	fail "smmctl show does not print the message URL"

# 400 with Discord's error JSON: failed at once with its message. The URL's
# own query stays, wait=true joins it.
smmctl add -c bad --id dc2 "rejected" >/dev/null
wait_state dc2/bad failed 15
reqs=$(reqs_on tokB)
[ "$(jq length <<<"$reqs")" -eq 1 ] || fail "a 400 was retried"
[ "$(jq -r '.[0].query' <<<"$reqs")" = "thread_id=444&wait=true" ] ||
	fail "query with thread_id: $(jq -r '.[0].query' <<<"$reqs")"
d=$(delivery_json dc2/bad)
jq -r .last_error <<<"$d" | grep -q 'Cannot send an empty message' ||
	fail "last_error: $(jq -c .last_error <<<"$d")"

# 429: retry_after 1.5 s from the body, not the header's rounded 3.
smmctl add -c busy --id dc3 "rate limited" >/dev/null
wait_state dc3/busy published 20
reqs=$(reqs_on tokC)
[ "$(jq length <<<"$reqs")" -eq 2 ] ||
	fail "expected 2 requests on busy, got $(jq length <<<"$reqs")"
gap=$(($(jq '.[1].t_us - .[0].t_us' <<<"$reqs") / 1000))
log "discord 429: retried after $gap ms (retry_after 1.5)"
[ "$gap" -ge 1400 ] || fail "retried $gap ms after retry_after 1.5"
[ "$gap" -lt 2900 ] || fail "retried $gap ms later: the header won over the JSON"
# No guild in the message: an id, but no URL is made up.
d=$(delivery_json dc3/busy)
jq_true '.remote_id == "777" and .remote_url == null' <<<"$d" ||
	fail "remote id/url: $(jq -c '{remote_id, remote_url}' <<<"$d")"

# Over 2000 characters: failed with a clear reason, nothing sent.
long=$(head -c 2001 /dev/zero | tr '\0' x)
smmctl add -c good --id dc4 "$long" >/dev/null
wait_state dc4/good failed 15
d=$(delivery_json dc4/good)
jq -r .last_error <<<"$d" | grep -q '2000' ||
	fail "last_error: $(jq -c .last_error <<<"$d")"
[ "$(reqs_on tokA | jq length)" -eq 1 ] || fail "the long post was sent"

stop_smmd
log "ok"
