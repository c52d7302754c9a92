#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The x publisher against a sink that answers like the X API v2 (each
# channel's api_url has its own path prefix on the one sink):
# - ok: a media URL on the sink (allow_private_media) is fetched and a
#   file from media_dir read, each uploaded to POST /2/media/upload as
#   {"media": base64, "media_category": "tweet_image", "media_type"} with
#   the Bearer token; then POST /2/tweets {"text", "media": {"media_ids"}};
#   the post's id and https://x.com/i/web/status/ID are recorded. Its
#   public_metrics are read back (GET /2/tweets?ids=...), and the
#   followers of GET /2/users/me stored as the audience.
# - busy: 429 with x-rate-limit-reset (epoch seconds) and no Retry-After,
#   then 201: the retry comes no sooner than the reset.
# - tok: 401 holds the delivery (not failed), its reason naming the token
#   and smmctl auth, and puts the channel in needs_auth.
# - dup: 403 "duplicate content" fails at once with X's words.
# - lost: the connection closed before an answer: unknown, not re-sent (X
#   keeps no idempotency key).
# - lostup: the connection closed before the media upload's answer: that
#   made nothing public, so it is tried again and the post goes out once.
# - none: an app (client_id) not authorized yet: held, needs_auth.
# - length: X's weighted count (CJK 2, a URL 23) is checked at plan time.
# The token appears in no log line, no smmctl output, no SQLite file.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
RESET=$(($(date +%s) + 6))
start_sink --log-get \
	--rule "GET /media/a.png 200 H:Content-Type=image/png fake-png-A" \
	--rule "POST /ok/2/media/upload 200 $J {\"data\":{\"id\":\"188002810602051584{{n}}\",\"media_key\":\"3_188002810602051584{{n}}\",\"expires_after_secs\":86400,\"processing_info\":{\"state\":\"succeeded\"},\"size\":10}}" \
	--rule "POST /ok/2/tweets 201 $J {\"data\":{\"id\":\"144588054847232819{{n}}\",\"text\":\"Launch\"}}" \
	--rule "GET /ok/2/tweets 200 $J {\"data\":[{\"id\":\"1445880548472328191\",\"text\":\"Launch\",\"public_metrics\":{\"retweet_count\":2,\"reply_count\":3,\"like_count\":5,\"quote_count\":1,\"bookmark_count\":0,\"impression_count\":120}}]}" \
	--rule "GET /ok/2/users/me 200 $J {\"data\":{\"id\":\"2244994945\",\"name\":\"X Dev\",\"username\":\"smmd\",\"public_metrics\":{\"followers_count\":4321,\"following_count\":10,\"tweet_count\":100,\"listed_count\":5}}}" \
	--rule "POST /busy/2/tweets 429 H:x-rate-limit-limit=100 H:x-rate-limit-remaining=0 H:x-rate-limit-reset=$RESET $J {\"title\":\"Too Many Requests\",\"detail\":\"Too Many Requests\",\"type\":\"about:blank\",\"status\":429}" \
	--rule "POST /busy/2/tweets 201 $J {\"data\":{\"id\":\"1500000000000000001\",\"text\":\"busy\"}}" \
	--rule "POST /tok/2/tweets 401 $J {\"title\":\"Unauthorized\",\"type\":\"about:blank\",\"status\":401,\"detail\":\"Unauthorized\"}" \
	--rule "POST /lost/2/tweets close" \
	--rule "POST /lostup/2/media/upload close" \
	--rule "POST /lostup/2/media/upload 200 $J {\"data\":{\"id\":\"1880028106020515999\",\"media_key\":\"3_1880028106020515999\"}}" \
	--rule "POST /lostup/2/tweets 201 $J {\"data\":{\"id\":\"1600000000000000009\",\"text\":\"up\"}}" \
	--rule "POST /dup/2/tweets 403 $J {\"detail\":\"You are not allowed to create a Tweet with duplicate content.\",\"type\":\"about:blank\",\"title\":\"Forbidden\",\"status\":403}"
base=http://127.0.0.1:$SINK_PORT
TOKEN=xtok-$(openssl rand -hex 16)
(
	umask 077
	printf '%s\n' "$TOKEN" >"$T/token"
	mkdir "$T/media"
	printf '\x89PNG\r\n\x1a\n\x00\x01\xffend' >"$T/media/logo.png"
)
# chan NAME RETRY_BASE KEY:VALUE...
chan() {
	local name=$1 rb=$2
	shift 2
	printf '  %s:\n    publisher: x\n    api_url: %s/%s/\n' "$name" "$base" "$name"
	printf '    retry_base: %s\n    retry_max: 1h\n    max_attempts: 4\n' "$rb"
	for kv in "$@"; do
		printf '    %s\n' "$kv"
	done
}
{
	printf 'state_dir: %s/state\nsocket: %s\nmetrics: [2s]\nchannels:\n' "$T" "$SOCK"
	chan ok 100ms "token_file: $T/token" 'allow_private_media: true' "media_dir: $T/media"
	chan busy 100ms "token_file: $T/token" 'metrics: off'
	chan tok 1h "token_file: $T/token" 'metrics: off'
	chan dup 100ms "token_file: $T/token" 'metrics: off'
	chan lost 100ms "token_file: $T/token" 'metrics: off'
	chan lostup 100ms "token_file: $T/token" 'metrics: off' 'allow_private_media: true'
	chan none 1h 'client_id: Y2xpZW50LWlk' 'redirect_uri: http://127.0.0.1:9/cb' \
		'metrics: off'
} >"$CFG"
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs() {
	sink_requests | jq -s -c --arg p "$1" --arg m "${2:-POST}" \
		'[.[] | select(.path == $p and .method == $m)] | sort_by(.t_us)'
}

smmctl add -c busy --id x2 'rate limited' >/dev/null
smmctl add -c ok --id x1 --link 'https://example.com/launch?a=1&b=2' \
	--media "$base/media/a.png" --media logo.png 'Launch day: "quotes", ünïcödé' >/dev/null
smmctl add -c tok --id x3 'revoked' >/dev/null
smmctl add -c dup --id x4 'said before' >/dev/null
smmctl add -c none --id x5 'never authorized' >/dev/null
smmctl add -c lost --id x6 'answer lost' >/dev/null
smmctl add -c lostup --id x7 --media "$base/media/a.png" 'upload lost' >/dev/null

# --- ok: two uploads, then the post.
wait_state x1/ok published 20
ups=$(reqs /ok/2/media/upload)
[ "$(jq length <<<"$ups")" -eq 2 ] || fail "expected 2 uploads: $ups"
jq_true --arg t "Bearer $TOKEN" 'all(.[]; .headers.authorization == $t and
	.headers["content-type"] == "application/json")' <<<"$ups" ||
	fail "uploads lack the token or JSON: $(jq -c '[.[].headers | del(.authorization)]' <<<"$ups")"
u0=$(jq -c '.[0].body | fromjson' <<<"$ups")
jq_true --arg b "$(printf 'fake-png-A' | base64)" '.media == $b and
	.media_category == "tweet_image" and .media_type == "image/png"' \
	<<<"$u0" || fail "first upload is $u0"
u1=$(jq -c '.[1].body | fromjson' <<<"$ups")
jq_true --arg b "$(base64 -w0 <"$T/media/logo.png")" '.media == $b and
	.media_type == "image/png"' <<<"$u1" ||
	fail "logo.png upload lost bytes: $u1"
tw=$(reqs /ok/2/tweets)
[ "$(jq length <<<"$tw")" -eq 1 ] || fail "expected one post: $tw"
jq_true --arg t "Bearer $TOKEN" '.[0].headers.authorization == $t' <<<"$tw" ||
	fail "the post lacks the Bearer token"
body=$(jq -c '.[0].body | fromjson' <<<"$tw")
jq_true '.text == "Launch day: \"quotes\", ünïcödé\n\nhttps://example.com/launch?a=1&b=2"
	and .media.media_ids == ["1880028106020515841", "1880028106020515842"]' \
	<<<"$body" || fail "post body is $body"
d=$(delivery_json x1/ok)
jq_true '.remote_id == "1445880548472328191" and
	.remote_url == "https://x.com/i/web/status/1445880548472328191"' <<<"$d" ||
	fail "remote id/url: $(jq -c '{remote_id, remote_url}' <<<"$d")"

# --- busy: the retry waits for x-rate-limit-reset.
wait_state x2/busy published 20
st=$(reqs /busy/2/tweets)
jq_true 'length == 2 and .[0].status == 429 and .[1].status == 201' <<<"$st" ||
	fail "expected 429 then 201: $(jq -c '[.[] | {status, t_us}]' <<<"$st")"
# The reset is whole seconds: allow the clock's rounding, not a backoff.
t1=$(jq '.[1].t_us' <<<"$st")
[ "$t1" -ge $(((RESET - 1) * 1000000)) ] ||
	fail "the retry came at $t1 us, before x-rate-limit-reset $RESET"
[ "$(jq '.[0].t_us' <<<"$st")" -lt $(((RESET - 1) * 1000000)) ] ||
	skip "the 429 came after the reset instant: the machine is too slow"

# --- tok: 401 holds the delivery and the channel needs auth.
wait_state x3/tok held 15
case $(delivery_json x3/tok | jq -r .last_error) in
*401*"access token"*"smmctl auth tok"*Unauthorized*) ;;
*) fail "401 reason is '$(delivery_json x3/tok | jq -r .last_error)'" ;;
esac
jq_true '.channels[] | select(.name == "tok") | .state == "needs_auth"' \
	<<<"$(smmctl channels --json)" || fail "tok is not in needs_auth"

# --- dup: X refuses a repeat: failed with its words, not retried.
wait_state x4/dup failed 15
case $(delivery_json x4/dup | jq -r .last_error) in
*403*"duplicate content"*) ;;
*) fail "403 reason is '$(delivery_json x4/dup | jq -r .last_error)'" ;;
esac
[ "$(reqs /dup/2/tweets | jq length)" -eq 1 ] || fail "a 403 was retried"

# --- lost: the connection closes before X answers: X keeps no key, so
# the post may be up; it is unknown (a final state), sent once.
wait_state x6/lost unknown 15
[ "$(reqs /lost/2/tweets | jq length)" -eq 1 ] || fail "a post whose answer was lost was sent again"
wait_state x7/lostup published 15
[ "$(reqs /lostup/2/media/upload | jq length)" -eq 2 ] &&
	[ "$(reqs /lostup/2/tweets | jq length)" -eq 1 ] ||
	fail "a lost upload answer: $(reqs /lostup/2/media/upload | jq length) uploads, $(reqs /lostup/2/tweets | jq length) posts"

# --- none: an app not authorized yet: held without a request.
wait_state x5/none held 15
jq_true '.channels[] | select(.name == "none") | .state == "needs_auth"' \
	<<<"$(smmctl channels --json)" || fail "none is not in needs_auth"
[ "$(reqs /none/2/tweets | jq length)" -eq 0 ] || fail "posted without a token"

# --- length, X's weighted count at plan time: 140 CJK characters (2
# each) fit, 141 do not; a URL counts 23 whatever its length.
cjk=""
for _ in $(seq 140); do cjk+="日"; done
run smmctl add -c dup --id fits --at "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" "$cjk"
[ "$rc" -eq 0 ] || fail "140 CJK characters (280 weighted) refused: $err"
run smmctl add -c dup --id over "$cjk本"
[[ $rc -eq 65 && $err == *"282 weighted characters, 2 over channel 'dup''s limit of 280"* ]] ||
	fail "141 CJK characters: exit $rc: $err"
url="https://example.com/$(printf 'a%.0s' $(seq 300))"
run smmctl add -c dup --id url --at "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" "see $url"
[ "$rc" -eq 0 ] || fail "a long URL (23 weighted) refused: $err"

# --- engagement and audience.
wait_for "[ \"\$(delivery_json x1/ok | jq '.engagement // [] | length')\" -ge 1 ]" 15 ||
	fail "no engagement sample for x1"
e=$(delivery_json x1/ok | jq -c '.engagement[0]')
jq_true '.likes == 5 and .shares == 2 and .comments == 3 and .quotes == 1
	and .views == 120' <<<"$e" || fail "engagement sample $e"
g=$(reqs /ok/2/tweets GET)
jq_true --arg t "Bearer $TOKEN" '.[0].query == "ids=1445880548472328191&tweet.fields=public_metrics"
	and .[0].headers.authorization == $t' <<<"$g" ||
	fail "engagement read: $(jq -c '.[0] | {query}' <<<"$g")"
wait_for "[ \"\$(sqlite3 -readonly '$T/state/smmd.db' 'SELECT followers FROM audience WHERE channel = \"ok\"')\" = 4321 ]" 10 ||
	fail "the audience of ok is not stored"

# The token is nowhere but in the requests themselves.
grep -qF "$TOKEN" "$SINK_LOG" || fail "the token was never sent"
for id in x1 x2 x3 x4 x5 x6; do
	smmctl show "$id" --json
	smmctl show "$id"
done >"$T/shows.out"
smmctl list --json >>"$T/shows.out"
# A file grep cannot read must not hide a match: judge by what it found.
grep -a -l -F -- "$TOKEN" "$T/smmd.log" "$T/shows.out" "$T"/state/smmd.db* \
	>"$T/found" 2>/dev/null || true
[ ! -s "$T/found" ] || fail "the token leaked into $(tr '\n' ' ' <"$T/found")"

stop_smmd
log "ok"
