#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The linkedin publisher against sinks that answer like LinkedIn's versioned
# API: one sink holds the media and takes the image uploads (the uploadUrl
# LinkedIn would answer), the other is the API, each channel under its own
# path prefix.
# - ok (a page): two image URLs fetched, each registered with
#   initializeUpload (owner: the author) and PUT to the upload URL with its
#   bytes and the token; then POST /rest/posts with the versioned headers, a
#   multiImage of both URNs, the commentary escaped in the "little" format
#   with the link at its end; the URN from x-restli-id and the feed URL
#   recorded; engagement (socialActions) and the page's followers
#   (networkSizes) read back.
# - one: a single image from media_dir: content.media.
# - art (a member): a link without images: an article.
# - bad: 422 fails at once with LinkedIn's message.
# - busy: 429 without Retry-After, then 201: retried.
# - tok: 401 REVOKED_ACCESS_TOKEN: the delivery is held, not failed, with a
#   reason naming the token, the channel in needs_auth, nothing re-sent.
# - noauth: an app (client_id) but no token yet: held, nothing sent, the
#   reason says to run smmctl auth.
# The token appears in no log line, no SQLite file and no smmctl output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
TOKEN=AQX-e2e-$(openssl rand -hex 16)
# The upload host first: the API's replies name its port.
start_sink --log-get \
	--rule "GET /media/a.png 200 H:Content-Type=image/png fake-png-A" \
	--rule "GET /media/b.jpg 200 H:Content-Type=image/jpeg fake-jpeg-B" \
	--rule "PUT /up/* 201 "
up=http://127.0.0.1:$SINK_PORT
init_reply() {
	printf '%s' "POST /$1/rest/images 200 $J {\"value\":{\"uploadUrlExpiresAt\":1795345200000,\"uploadUrl\":\"$up/up/$1-{{n}}\",\"image\":\"urn:li:image:C4E10AQ$1{{n}}\"}}"
}
REVOKED='{"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN","message":"The token used in the request has been revoked by the user","status":401}'
start_sink --log-get \
	--rule "$(init_reply ok)" \
	--rule "POST /ok/rest/posts 201 H:x-restli-id=urn:li:share:7001 " \
	--rule "GET /ok/rest/socialActions/* 200 $J {\"commentsSummary\":{\"totalFirstLevelComments\":2,\"aggregatedTotalComments\":3},\"likesSummary\":{\"likedByCurrentUser\":false,\"totalLikes\":12},\"target\":\"urn:li:share:7001\"}" \
	--rule "GET /ok/rest/networkSizes/* 200 $J {\"firstDegreeSize\":4321}" \
	--rule "$(init_reply one)" \
	--rule "POST /one/rest/posts 201 H:x-restli-id=urn:li:share:7002 " \
	--rule "POST /art/rest/posts 201 H:x-restli-id=urn:li:ugcPost:7003 " \
	--rule "POST /bad/rest/posts 422 $J {\"message\":\"ERROR :: /commentary :: length 3100 exceeds the maximum of 3000\",\"status\":422}" \
	--rule "POST /busy/rest/posts 429 $J {\"message\":\"Resource level throttle APPLICATION DAY limit for calls to this resource is reached.\",\"status\":429}" \
	--rule "POST /busy/rest/posts 201 H:x-restli-id=urn:li:share:7005 " \
	--rule "POST /tok/rest/posts 401 $J $REVOKED"
base=http://127.0.0.1:$SINK_PORT
(
	umask 077
	printf '%s\n' "$TOKEN" >"$T/token"
	printf 'li-client-secret\n' >"$T/secret"
	mkdir "$T/media"
	printf '\x89PNG\r\n\x1a\n\x00\x01\xffend' >"$T/media/logo.png"
)
chan() {
	local name=$1 author=$2
	shift 2
	printf '  %s:\n    publisher: linkedin\n    author: %s\n' "$name" "$author"
	printf '    api_url: %s/%s/\n    token_file: %s\n' "$base" "$name" "$T/token"
	printf '    retry_base: 100ms\n    retry_max: 1s\n'
	printf '    allow_private_media: true\n'
	for kv in "$@"; do
		printf '    %s\n' "$kv"
	done
}
ORG=urn:li:organization:5515715
{
	printf 'state_dir: %s/state\nsocket: %s\nmetrics: [2s]\nchannels:\n' "$T" "$SOCK"
	chan ok "$ORG" 'max_attempts: 4'
	chan one "$ORG" "media_dir: $T/media" 'metrics: off'
	chan art urn:li:person:Ab-9_x 'metrics: off'
	chan bad "$ORG" 'metrics: off'
	chan busy "$ORG" 'max_attempts: 4' 'metrics: off'
	chan tok "$ORG" 'metrics: off'
	# An app to authorize, but no token yet: nothing is sent.
	printf '  noauth:\n    publisher: linkedin\n    author: %s\n' "$ORG"
	printf '    api_url: %s/noauth\n    client_id: 86abcdef\n' "$base"
	printf '    client_secret_file: %s\n' "$T/secret"
	printf '    retry_base: 100ms\n    metrics: off\n'
} >"$CFG"
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

# reqs PATH: the requests the sinks got on PATH, in arrival order.
reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
# versioned: the request (JSON) carries the token and LinkedIn's headers.
versioned() {
	jq_true --arg t "Bearer $TOKEN" '.headers.authorization == $t
		and .headers["linkedin-version"] == "202607"
		and .headers["x-restli-protocol-version"] == "2.0.0"'
}

# --- ok: two images, a multiImage post, the link in the commentary.
smmctl add -c ok --id l1 --link 'https://example.com/launch?a=1&b=2' \
	--media "$up/media/a.png" --media "$up/media/b.jpg" \
	'Launch (beta) #smmd_x @team *now* ünï' >/dev/null
wait_state l1/ok published 20
inits=$(reqs /ok/rest/images)
[ "$(jq length <<<"$inits")" -eq 2 ] || fail "expected 2 initializeUpload: $inits"
for k in 0 1; do
	i=$(jq -c ".[$k]" <<<"$inits")
	versioned <<<"$i" || fail "initializeUpload $k headers: $(jq -c .headers <<<"$i")"
	jq_true --arg o "$ORG" '.query == "action=initializeUpload" and
		(.body | fromjson) == {initializeUploadRequest: {owner: $o}}' <<<"$i" ||
		fail "initializeUpload $k: $i"
done
p=$(reqs /up/ok-1)
jq_true --arg t "Bearer $TOKEN" 'length == 1 and .[0].method == "PUT" and
	.[0].body == "fake-png-A" and .[0].headers["content-type"] == "image/png"
	and .[0].headers.authorization == $t' <<<"$p" ||
	fail "upload 1: $p"
jq_true '.[0].body == "fake-jpeg-B" and .[0].method == "PUT"' <<<"$(reqs /up/ok-2)" ||
	fail "upload 2: $(reqs /up/ok-2)"
jq_true '.[0].headers.authorization == null' <<<"$(reqs /media/a.png)" ||
	fail "the media fetch carried the token"
post=$(reqs /ok/rest/posts)
[ "$(jq length <<<"$post")" -eq 1 ] || fail "expected one post: $post"
jq -c '.[0]' <<<"$post" | versioned || fail "post headers: $(jq -c '.[0].headers' <<<"$post")"
body=$(jq -c '.[0].body | fromjson' <<<"$post") || fail "post body is not JSON: $post"
jq_true --arg o "$ORG" '.author == $o and
	.commentary == "Launch \\(beta\\) #smmd\\_x \\@team \\*now\\* ünï\n\nhttps://example.com/launch?a=1&b=2"
	and .visibility == "PUBLIC" and .lifecycleState == "PUBLISHED"
	and .isReshareDisabledByAuthor == false
	and .distribution == {feedDistribution: "MAIN_FEED", targetEntities: [], thirdPartyDistributionChannels: []}
	and .content == {multiImage: {images: [{id: "urn:li:image:C4E10AQok1"}, {id: "urn:li:image:C4E10AQok2"}]}}' \
	<<<"$body" || fail "post body is $body"
d=$(delivery_json l1/ok)
jq_true '.remote_id == "urn:li:share:7001" and
	.remote_url == "https://www.linkedin.com/feed/update/urn:li:share:7001"' \
	<<<"$d" || fail "remote id/url: $(jq -c '{remote_id, remote_url}' <<<"$d")"

# --- one: a file from media_dir, one image.
smmctl add -c one --id l2 --media logo.png 'one image' >/dev/null
wait_state l2/one published 20
jq_true '.[0].body | contains("\u0000\u0001\ufffdend")' <<<"$(reqs /up/one-1)" ||
	fail "logo.png bytes: $(reqs /up/one-1)"
jq_true '.[0].body | fromjson | .content == {media: {id: "urn:li:image:C4E10AQone1"}}' \
	<<<"$(reqs /one/rest/posts)" || fail "single image post: $(reqs /one/rest/posts)"

# --- art: a member's article.
smmctl add -c art --id l3 --link https://example.com/post 'Read this
second line' >/dev/null
wait_state l3/art published 20
jq_true '.[0].body | fromjson | .author == "urn:li:person:Ab-9_x" and
	.commentary == "Read this\nsecond line" and
	.content == {article: {source: "https://example.com/post", title: "Read this"}}' \
	<<<"$(reqs /art/rest/posts)" || fail "article post: $(reqs /art/rest/posts)"
[ "$(delivery_json l3/art | jq -r .remote_id)" = urn:li:ugcPost:7003 ] ||
	fail "article remote id"

# --- bad: 422 fails at once with LinkedIn's message.
smmctl add -c bad --id l4 'too long' >/dev/null
wait_state l4/bad failed 15
err=$(delivery_json l4/bad | jq -r .last_error)
case $err in
*"HTTP 422"*"length 3100 exceeds the maximum of 3000"*) ;;
*) fail "422 error is '$err'" ;;
esac
[ "$(reqs /bad/rest/posts | jq length)" -eq 1 ] || fail "a 422 was retried"

# --- busy: 429 (no Retry-After) then 201.
smmctl add -c busy --id l5 'rate limited' >/dev/null
wait_state l5/busy published 20
jq_true 'length == 2 and .[0].status == 429 and .[1].status == 201' \
	<<<"$(reqs /busy/rest/posts)" || fail "429 then 201: $(reqs /busy/rest/posts)"

# --- tok: revoked: held, never failed, the reason names the token.
smmctl add -c tok --id l6 'revoked' >/dev/null
wait_state l6/tok held 15
case $(delivery_json l6/tok | jq -r .last_error) in
*"needs auth"*"HTTP 401"*"access token"*"revoked by the user"*) ;;
*) fail "revoked reason is '$(delivery_json l6/tok | jq -r .last_error)'" ;;
esac
smmctl channels --json | jq -e '.channels[] | select(.name == "tok" and .state == "needs_auth")' >/dev/null ||
	fail "tok is not in needs_auth: $(smmctl channels --json)"
[ "$(reqs /tok/rest/posts | jq length)" -eq 1 ] || fail "a held post was sent again"

# --- noauth: no token at all: held, never sent, told to run smmctl auth.
smmctl add -c noauth --id l7 'no token yet' >/dev/null
wait_state l7/noauth held 15
case $(delivery_json l7/noauth | jq -r .last_error) in
*"no access token"*"smmctl auth noauth"*) ;;
*) fail "no-token reason is '$(delivery_json l7/noauth | jq -r .last_error)'" ;;
esac
[ "$(sink_requests | jq -s '[.[] | select(.path | startswith("/noauth"))] | length')" -eq 0 ] ||
	fail "a request went out without a token"

# --- engagement and audience of the page.
wait_for "[ \"\$(delivery_json l1/ok | jq '.engagement // [] | length')\" -ge 1 ]" 15 ||
	fail "no engagement sample for l1"
jq_true '.engagement[0] | .likes == 12 and .comments == 3 and .shares == null
	and .views == null' <<<"$(delivery_json l1/ok)" ||
	fail "sample: $(delivery_json l1/ok | jq -c .engagement)"
g=$(reqs /ok/rest/socialActions/urn%3Ali%3Ashare%3A7001)
jq_true 'length >= 1 and .[0].method == "GET"' <<<"$g" || fail "socialActions read: $g"
jq -c '.[0]' <<<"$g" | versioned || fail "socialActions headers"
wait_for "[ \"\$(sqlite3 -readonly '$T/state/smmd.db' 'SELECT followers FROM audience WHERE channel = \"ok\"')\" = 4321 ]" 10 ||
	fail "the page's followers are not stored"
jq_true '.[0].query == "edgeType=COMPANY_FOLLOWED_BY_MEMBER"' \
	<<<"$(reqs /ok/rest/networkSizes/urn%3Ali%3Aorganization%3A5515715)" ||
	fail "networkSizes read: $(reqs /ok/rest/networkSizes/urn%3Ali%3Aorganization%3A5515715)"

# The token is nowhere but in the requests themselves.
for id in l1 l2 l3 l4 l5 l6 l7; do
	smmctl show "$id" --json
	smmctl show "$id"
done >"$T/shows.out"
smmctl list --json >>"$T/shows.out"
smmctl status >>"$T/shows.out"
! grep -qF -- "$TOKEN" "$T/smmd.log" "$T/shows.out" ||
	fail "the token leaked into the log or smmctl output"
! grep -qaF -- "$TOKEN" "$T"/state/smmd.db* ||
	fail "the token leaked into the store"

stop_smmd
log "ok"
