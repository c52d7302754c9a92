#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The bluesky publisher against a sink that answers like a PDS (XRPC,
# lexicon shapes), each channel's service under its own path prefix:
# - config: handle and app_password_file are required, a readable-by-all
#   password file is refused, a bad language named at its place.
# - length: texts are measured in grapheme clusters against Bluesky's 300
#   at plan time: `smmctl add`, the calendar and CSV import refuse 301
#   (naming the rule), and take 300 ZWJ families (5 code points, 18 bytes
#   each).
# - sky: smmd logs in (createSession with the handle and app password)
#   and keeps the session across a restart; then fetches the image, uploads it (uploadBlob, its bytes and type, the
#   access token), and createRecord answers ExpiredToken: the session is
#   renewed (refreshSession with the refresh token) and the post retried:
#   getRecord of its key first (not found), then the same record key again
#   with the new token; the record carries link and tag facets at their
#   UTF-8 byte offsets after an emoji and a combining mark, the image, the
#   language. The at:// URI and bsky.app URL are recorded; getPosts and
#   getProfile give likes, reposts, replies, quotes and followers.
# - busy: 429 with RateLimit-Reset: retried at the reset, not before.
# - bad: 400 InvalidRequest fails at once with Bluesky's message.
# - tok: InvalidToken, a refused refresh, a new login whose token is
#   refused too: held (never failed), the channel needs auth.
# - nologin: a refused login holds the channel's posts.
# The app password and the tokens appear in no log line, store file or
# smmctl output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PASSWORD=canary-bsky-$(openssl rand -hex 8)
FAMILY=$'\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7'
DID=did:plc:ewvi7nxzyoun6zhxrhs64oiz
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
# jwt TYP EXP: a JWT in the PDS's shape, its signature a random canary.
jwt() {
	printf '%s.%s.%s' \
		"$(printf '{"typ":"%s","alg":"ES256K"}' "$1" | b64url)" \
		"$(printf '{"scope":"com.atproto.appPass","sub":"%s","iat":%d,"exp":%d}' \
			"$DID" "$(date +%s)" "$2" | b64url)" \
		"$(openssl rand -hex 16 | b64url)"
}
later=$(($(date +%s) + 7200))
A1=$(jwt at+jwt $later)
R1=$(jwt refresh+jwt $((later + 86400 * 60)))
A2=$(jwt at+jwt $later)
R2=$(jwt refresh+jwt $((later + 86400 * 60)))
J=H:Content-Type=application/json
session() { # ACCESS REFRESH
	printf '{"accessJwt":"%s","refreshJwt":"%s","handle":"shop.bsky.social","did":"%s","didDoc":{"id":"%s"},"active":true}' \
		"$1" "$2" "$DID" "$DID"
}
URI=at://$DID/app.bsky.feed.post/3lbq2tgohbc2k
BLOB='{"blob":{"$type":"blob","ref":{"$link":"bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"},"mimeType":"image/png","size":10}}'
NOTFOUND='{"error":"RecordNotFound","message":"Could not locate record"}'
reset_at=$(($(date +%s) + 6))
start_sink --log-get \
	--rule "GET /media/a.png 200 H:Content-Type=image/png fake-png-A" \
	--rule "POST /pds/xrpc/com.atproto.server.createSession 200 $J $(session "$A1" "$R1")" \
	--rule "POST /pds/xrpc/com.atproto.server.refreshSession 200 $J $(session "$A2" "$R2")" \
	--rule "POST /pds/xrpc/com.atproto.repo.uploadBlob 200 $J $BLOB" \
	--rule "POST /pds/xrpc/com.atproto.repo.createRecord 400 $J {\"error\":\"ExpiredToken\",\"message\":\"Token has expired\"}" \
	--rule "POST /pds/xrpc/com.atproto.repo.createRecord 200 $J {\"uri\":\"$URI\",\"cid\":\"bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm\",\"validationStatus\":\"valid\"}" \
	--rule "GET /pds/xrpc/com.atproto.repo.getRecord 400 $J $NOTFOUND" \
	--rule "GET /pds/xrpc/app.bsky.feed.getPosts 200 $J {\"posts\":[{\"uri\":\"$URI\",\"cid\":\"c\",\"author\":{\"did\":\"$DID\",\"handle\":\"shop.bsky.social\"},\"record\":{},\"replyCount\":3,\"repostCount\":5,\"likeCount\":42,\"quoteCount\":1,\"indexedAt\":\"2026-12-03T10:00:00.000Z\"}]}" \
	--rule "GET /pds/xrpc/app.bsky.actor.getProfile 200 $J {\"did\":\"$DID\",\"handle\":\"shop.bsky.social\",\"followersCount\":1234,\"followsCount\":7,\"postsCount\":12}" \
	--rule "POST /busy/xrpc/com.atproto.server.createSession 200 $J $(session "$A1" "$R1")" \
	--rule "POST /busy/xrpc/com.atproto.repo.createRecord 429 H:RateLimit-Limit=5000 H:RateLimit-Remaining=0 H:RateLimit-Reset=$reset_at H:RateLimit-Policy=5000;w=3600 $J {\"error\":\"RateLimitExceeded\",\"message\":\"Rate Limit Exceeded\"}" \
	--rule "POST /busy/xrpc/com.atproto.repo.createRecord 200 $J {\"uri\":\"at://$DID/app.bsky.feed.post/3lbusy\",\"cid\":\"c\"}" \
	--rule "GET /busy/xrpc/com.atproto.repo.getRecord 400 $J $NOTFOUND" \
	--rule "POST /bad/xrpc/com.atproto.server.createSession 200 $J $(session "$A1" "$R1")" \
	--rule "POST /bad/xrpc/com.atproto.repo.createRecord 400 $J {\"error\":\"InvalidRequest\",\"message\":\"Invalid app.bsky.feed.post record: Record/langs/0 must be a valid language code\"}" \
	--rule "POST /tok/xrpc/com.atproto.server.createSession 200 $J $(session "$A1" "$R1")" \
	--rule "POST /tok/xrpc/com.atproto.repo.createRecord 400 $J {\"error\":\"InvalidToken\",\"message\":\"Token could not be verified\"}" \
	--rule "POST /tok/xrpc/com.atproto.server.refreshSession 400 $J {\"error\":\"ExpiredToken\",\"message\":\"Token has been revoked\"}" \
	--rule "GET /tok/xrpc/com.atproto.repo.getRecord 400 $J $NOTFOUND" \
	--rule "POST /nologin/xrpc/com.atproto.server.createSession 401 $J {\"error\":\"AuthenticationRequired\",\"message\":\"Invalid identifier or password\"}"
base=http://127.0.0.1:$SINK_PORT
(
	umask 077
	printf '%s\n' "$PASSWORD" >"$T/bsky.pass"
)
printf '%s\n' "$PASSWORD" >"$T/open.pass"
chmod 644 "$T/open.pass"

# --- config: what is missing or unsafe is named at its place.
cat >"$T/bad.yaml" <<YAML
state_dir: $T/state
socket: $SOCK
channels:
  nohandle:
    publisher: bluesky
    app_password_file: $T/bsky.pass
  open:
    publisher: bluesky
    handle: shop.bsky.social
    app_password_file: $T/open.pass
    language: English
YAML
run "$SMMD_BIN" --check-config -c "$T/bad.yaml"
[ "$rc" -ne 0 ] || fail "a bad bluesky config was accepted"
[[ $err == *"channel 'nohandle' has no 'handle'"* &&
	$err == *"bad.yaml:10:24: 'app_password_file': '$T/open.pass' is readable by group or others"* &&
	$err == *"bad.yaml:11:15: 'language' must be a language code"* ]] ||
	fail "config errors: $err"
[[ $err != *"$PASSWORD"* ]] || fail "a config error shows the app password"

chan() { # NAME PATH [KEY: VALUE]...
	local name=$1 path=$2
	shift 2
	printf '  %s:\n    publisher: bluesky\n    service: %s/%s/\n' "$name" "$base" "$path"
	printf '    handle: shop.bsky.social\n    app_password_file: %s\n' "$T/bsky.pass"
	printf '    retry_base: 100ms\n    retry_max: 1s\n    max_attempts: 5\n'
	for kv in "$@"; do
		printf '    %s\n' "$kv"
	done
}
{
	printf 'state_dir: %s/state\nsocket: %s\nmetrics: [2s]\nchannels:\n' "$T" "$SOCK"
	chan sky pds 'language: en' 'allow_private_media: true'
	chan busy busy
	chan bad bad
	chan tok tok
	chan nologin nologin
} >"$CFG"
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

# --- length: 300 graphemes fit, 301 do not (an e and its combining accent
# are one), and 3000 bytes at most: 300 families are 5400.
long=""
for _ in $(seq 300); do long+=$'e\xcc\x81'; done
run smmctl add -c sky --id fits --at "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" "$long"
[ "$rc" -eq 0 ] || fail "300 graphemes (900 bytes) refused: $err"
run smmctl add -c sky --id over "$long!"
[[ $rc -eq 65 && $err == *"text is 301 graphemes, 1 over channel 'sky''s limit of 300 (bluesky's rule)"* ]] ||
	fail "301 graphemes: exit $rc: $err"
run smmctl show over
[ "$rc" -ne 0 ] || fail "an over-long post was queued"
heavy=""
for _ in $(seq 300); do heavy+=$FAMILY; done
run smmctl add -c sky --id heavy "$heavy"
[[ $rc -eq 65 && $err == *"text is 5400 bytes, 2400 over channel 'sky''s limit of 3000 bytes (bluesky's rule)"* ]] ||
	fail "5400 bytes: exit $rc: $err"

# The calendar and CSV import count the same way.
{
	printf 'timezone: UTC\nposts:\n'
	printf '  - id: cal-fits\n    at: 2030-01-01 10:00\n    channels: [sky]\n'
	printf '    text: "%s"\n' "$long"
	printf '  - id: cal-over\n    at: 2030-01-01 11:00\n    channels: [sky]\n'
	printf '    text: "%s!"\n' "$long"
} >"$T/calendar.yaml"
sed "s|^channels:|calendar: $T/calendar.yaml\nchannels:|" "$CFG" >"$T/cal.yaml"
run "$SMMD_BIN" --check-config -c "$T/cal.yaml"
[[ $rc -ne 0 && $err == *"calendar.yaml:10:11: text is 301 graphemes, 1 over channel 'sky''s limit of 300 (bluesky's rule)"* &&
	$err != *":6:11:"* ]] || fail "calendar: exit $rc: $err"
printf 'id,text,channels,at\nc1,"%s",sky,2030-01-01 10:00\nc2,"%s!",sky,2030-01-01 11:00\n' \
	"$long" "$long" >"$T/posts.csv"
run smmctl import "$T/posts.csv"
[[ $rc -eq 65 && $err == *"posts.csv:3:text: text is 301 graphemes, 1 over channel 'sky''s limit of 300 (bluesky's rule)"* &&
	$err != *"posts.csv:2:"* ]] || fail "import: exit $rc: $err"


# reqs PATH: the requests the sink got on PATH, in arrival order.
reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
X=/pds/xrpc

# --- sky: login, upload, ExpiredToken, refresh, the same key again.
# smmd logs in at start and keeps the session; a restart reads it back
# (no second login). auth.c renews a refused token unless it has just
# renewed it (then renewing would not help): a session from before the
# restart counts as old.
for c in sky busy bad tok; do
	wait_for "grep -q \"auth: channel '$c': new credentials saved\" '$T/smmd.log'" 10 ||
		fail "channel $c did not log in"
done
stop_smmd
start_smmd
TEXT=$'\xf0\x9f\x8e\x89 Cafe\xcc\x81 https://shop.example/a #launch!'
smmctl add -c sky --id p1 --link https://shop.example/a \
	--media "$base/media/a.png" "$TEXT" >/dev/null
wait_state p1/sky published 30
login=$(reqs $X/com.atproto.server.createSession)
[ "$(jq length <<<"$login")" -eq 1 ] || fail "expected one login: $login"
jq_true --arg p "$PASSWORD" '.[0].body | fromjson |
	.identifier == "shop.bsky.social" and .password == $p' <<<"$login" ||
	fail "the login body is wrong"
refresh=$(reqs $X/com.atproto.server.refreshSession)
[ "$(jq length <<<"$refresh")" -eq 1 ] || fail "expected one refresh: $refresh"
jq_true --arg t "Bearer $R1" '.[0].headers.authorization == $t and
	(.[0].body // "") == ""' <<<"$refresh" ||
	fail "the refresh does not carry the refresh token alone"
ups=$(reqs $X/com.atproto.repo.uploadBlob)
[ "$(jq length <<<"$ups")" -eq 2 ] || fail "expected an upload per attempt: $ups"
jq_true --arg a1 "Bearer $A1" --arg a2 "Bearer $A2" '
	.[0].headers.authorization == $a1 and .[1].headers.authorization == $a2
	and all(.[]; .headers["content-type"] == "image/png"
	            and .body == "fake-png-A")' <<<"$ups" ||
	fail "uploads: $(jq -c 'map(.headers | del(.authorization))' <<<"$ups")"
looks=$(reqs $X/com.atproto.repo.getRecord)
[ "$(jq length <<<"$looks")" -eq 1 ] || fail "the retry did not look its key up first: $looks"
creates=$(reqs $X/com.atproto.repo.createRecord)
[ "$(jq length <<<"$creates")" -eq 2 ] || fail "expected 2 createRecord: $creates"
rkey=$(jq -r '.[0].body | fromjson | .rkey' <<<"$creates")
[[ $rkey =~ ^[234567a-j][234567a-z]{12}$ ]] || fail "rkey '$rkey' is no TID"
jq_true --arg k "$rkey" --arg d "$DID" '.[0].query | test("repo=" + ($d | gsub(":"; "%3A")) + "&collection=app.bsky.feed.post&rkey=" + $k + "$")' <<<"$looks" ||
	fail "getRecord asked $(jq -r '.[0].query' <<<"$looks")"
jq_true --arg a2 "Bearer $A2" --arg k "$rkey" '
	.[1].headers.authorization == $a2 and (.[1].body | fromjson | .rkey) == $k' \
	<<<"$creates" || fail "the retry did not reuse the key with the new token"
body=$(jq -c '.[1].body | fromjson' <<<"$creates")
# 🎉 is 4 bytes, "Cafe" + U+0301 6: the link starts at byte 12.
jq_true --arg d "$DID" --arg t "$TEXT" '
	.repo == $d and .collection == "app.bsky.feed.post" and
	.record["$type"] == "app.bsky.feed.post" and .record.text == $t and
	.record.langs == ["en"] and (.record.createdAt | test("Z$")) and
	.record.facets == [
	 {"index": {"byteStart": 12, "byteEnd": 34},
	  "features": [{"$type": "app.bsky.richtext.facet#link",
	                "uri": "https://shop.example/a"}]},
	 {"index": {"byteStart": 35, "byteEnd": 42},
	  "features": [{"$type": "app.bsky.richtext.facet#tag",
	                "tag": "launch"}]}] and
	.record.embed["$type"] == "app.bsky.embed.images" and
	.record.embed.images[0].alt == "" and
	.record.embed.images[0].image.ref["$link"] == "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"' \
	<<<"$body" || fail "the record is $body"
d=$(delivery_json p1/sky)
jq_true --arg u "$URI" --arg d "$DID" '.remote_id == $u and
	.remote_url == "https://bsky.app/profile/\($d)/post/3lbq2tgohbc2k"' <<<"$d" ||
	fail "remote id/url: $(jq -c '{remote_id, remote_url}' <<<"$d")"
grep -q "auth: channel 'sky': renewing the token" "$T/smmd.log" ||
	fail "the log does not say the session was renewed"

# Engagement and audience, read with the session.
wait_for "[ \"\$(delivery_json p1/sky | jq '.engagement // [] | length')\" -ge 1 ]" 15 ||
	fail "no engagement sample for p1"
jq_true '.engagement[0] | .likes == 42 and .shares == 5 and .comments == 3
	and .quotes == 1 and .views == null' <<<"$(delivery_json p1/sky)" ||
	fail "sample $(delivery_json p1/sky | jq -c .engagement)"
jq_true --arg u "$URI" --arg a "Bearer $A2" '.[0].query == "uris=" + ($u | @uri)
	and .[0].headers.authorization == $a' <<<"$(reqs $X/app.bsky.feed.getPosts)" ||
	fail "getPosts: $(reqs $X/app.bsky.feed.getPosts | jq -c '.[0].query')"
wait_for "[ \"\$(sqlite3 -readonly '$T/state/smmd.db' 'SELECT followers FROM audience WHERE channel = \"sky\"')\" = 1234 ]" 10 ||
	fail "the audience of sky is not stored"

# --- busy: 429 waits for RateLimit-Reset.
smmctl add -c busy --id p2 'busy day' >/dev/null
wait_state p2/busy published 20
c=$(reqs /busy/xrpc/com.atproto.repo.createRecord)
first=$(jq '.[0].t_us / 1000 | floor' <<<"$c")
second=$(jq '.[1].t_us / 1000 | floor' <<<"$c")
[ "$second" -ge $((reset_at * 1000 - 1000)) ] ||
	fail "retried $((second - first)) ms after the 429, before RateLimit-Reset ($reset_at)"

# --- bad: InvalidRequest fails at once with Bluesky's words.
smmctl add -c bad --id p3 'bad one' >/dev/null
wait_state p3/bad failed 20
delivery_json p3/bad | jq -r .last_error | grep -qF "creating the post: HTTP 400 InvalidRequest: Invalid app.bsky.feed.post record: Record/langs/0 must be a valid language code" ||
	fail "bad: $(delivery_json p3/bad | jq -r .last_error)"
[ "$(reqs /bad/xrpc/com.atproto.repo.createRecord | jq length)" -eq 1 ] ||
	fail "an InvalidRequest was retried"

# --- tok and nologin: held, never failed, the channel needs auth.
smmctl add -c tok --id p4 'token trouble' >/dev/null
smmctl add -c nologin --id p5 'no login' >/dev/null
for c in tok nologin; do
	wait_for "smmctl channels --json | jq -e '.channels[] | select(.name == \"$c\" and .state == \"needs_auth\")' >/dev/null" 15 ||
		fail "channel $c is not in needs_auth: $(smmctl channels --json | jq -c ".channels[] | select(.name == \"$c\")")"
done
sleep 1
for id in p4/tok p5/nologin; do
	state=$(delivery_state $id)
	[ "$state" != failed ] && [ "$state" != published ] ||
		fail "$id is $state"
done
smmctl status | grep -q "needs auth  tok since" || fail "smmctl status does not show tok"

# --- no secret anywhere but the session file.
outputs=$(for id in p1 p2 p3 p4 p5; do smmctl show $id; smmctl show $id --json; done
	smmctl list --json; smmctl status; smmctl status --json; smmctl channels --json)
[ "$(stat -c %a "$T/state/auth/sky")" = 600 ] || fail "the session file is not 0600"
grep -qF "$R2" "$T/state/auth/sky" || fail "the renewed session is not on disk"
stop_smmd
for secret in "$PASSWORD" "$A1" "$A2" "$R1" "$R2"; do
	for f in "$T/smmd.log" "$T"/state/smmd.db*; do
		[ -f "$f" ] || continue
		! grep -qaF "$secret" "$f" || fail "a secret is in $f"
	done
	[[ $outputs != *"$secret"* ]] || fail "an smmctl output shows a secret"
done
log "ok"
