#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The facebook publisher against a sink that answers like Meta's Graph API
# (each channel's graph_url has its own path prefix on the one sink):
# - text: POST /v25.0/{page}/feed, form-encoded message and link, the Page
#   token as a Bearer header; the post id and its facebook.com URL kept.
# - photo: one image URL to /photos with the caption (link appended); the
#   post_id of the answer is the post.
# - multi: two images uploaded with published=false, then /feed with
#   attached_media[i]={"media_fbid":...}.
# - file: a plain file name from media_dir sent as the multipart "source",
#   the caption in the query.
# - bad: code 100 fails at once with Meta's message; sent once.
# - tok: code 190/460 is not a failure: the channel needs auth, the
#   delivery is held with the reason; smmctl auth resumes it, published.
# - busy: code 32 with X-Business-Use-Case-Usage estimated_time_to_regain_
#   access 2 (minutes): retried no sooner than two minutes later.
# - flaky: code 2 (service) is retried and then published.
# - engagement: reactions, comments and shares read back in one batch; the
#   Page's followers_count as the audience.
# The token appears in no log line, no store file and no smmctl output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
V=v25.0
BUC='H:X-Business-Use-Case-Usage={"111":[{"type":"pages","call_count":100,"total_cputime":4,"total_time":4,"estimated_time_to_regain_access":2}]}'
start_sink --log-get \
	--rule "POST /text/$V/111/feed 200 $J {\"id\":\"111_900{{n}}\"}" \
	--rule "POST /photo/$V/111/photos 200 $J {\"id\":\"5550{{n}}\",\"post_id\":\"111_770{{n}}\"}" \
	--rule "POST /multi/$V/111/photos 200 $J {\"id\":\"6000{{n}}\"}" \
	--rule "POST /multi/$V/111/feed 200 $J {\"id\":\"111_8001\"}" \
	--rule "POST /file/$V/111/photos 200 $J {\"id\":\"4440{{n}}\",\"post_id\":\"111_4441\"}" \
	--rule "POST /bad/$V/111/feed 400 $J {\"error\":{\"message\":\"(#100) Invalid parameter\",\"type\":\"OAuthException\",\"code\":100,\"fbtrace_id\":\"AbC1\"}}" \
	--rule "POST /tok/$V/111/feed 400 $J {\"error\":{\"message\":\"Error validating access token: The session has been invalidated because the user changed their password.\",\"type\":\"OAuthException\",\"code\":190,\"error_subcode\":460,\"fbtrace_id\":\"T0k\"}}" \
	--rule "POST /tok/$V/111/feed 200 $J {\"id\":\"111_6001\"}" \
	--rule "POST /busy/$V/111/feed 400 $J $BUC {\"error\":{\"message\":\"(#32) Page request limit reached\",\"type\":\"OAuthException\",\"code\":32,\"fbtrace_id\":\"B1\"}}" \
	--rule "POST /flaky/$V/111/feed 500 $J {\"error\":{\"message\":\"Please retry your request later.\",\"type\":\"OAuthException\",\"code\":2}}" \
	--rule "POST /flaky/$V/111/feed 200 $J {\"id\":\"111_3001\"}" \
	--rule "GET /text/$V/ 200 $J {\"111_9001\":{\"reactions\":{\"data\":[],\"summary\":{\"total_count\":7,\"viewer_reaction\":\"NONE\"}},\"comments\":{\"data\":[],\"summary\":{\"order\":\"ranked\",\"total_count\":3,\"can_comment\":true}},\"shares\":{\"count\":2},\"id\":\"111_9001\"}}" \
	--rule "GET /text/$V/111 200 $J {\"followers_count\":4321,\"id\":\"111\"}"
base=http://127.0.0.1:$SINK_PORT
TOKEN=EAAG$(openssl rand -hex 20)
(
	umask 077
	printf '%s\n' "$TOKEN" >"$T/token"
	mkdir "$T/media"
	printf '\x89PNG\r\n\x1a\n\x00\x01\xffend' >"$T/media/logo.png"
)
chan() {
	local name=$1
	shift
	printf '  %s:\n    publisher: facebook\n    page_id: "111"\n' "$name"
	printf '    graph_url: %s/%s/\n    token_file: %s\n' "$base" "$name" "$T/token"
	case " $* " in *retry_base:*) ;; *) printf '    retry_base: 100ms\n' ;; esac
	case " $* " in *retry_max:*) ;; *) printf '    retry_max: 1s\n' ;; esac
	printf '    max_attempts: 4\n'
	for kv in "$@"; do
		printf '    %s\n' "$kv"
	done
}
{
	printf 'state_dir: %s/state\nsocket: %s\nmetrics: [2s]\nchannels:\n' "$T" "$SOCK"
	chan text
	chan photo
	chan multi
	chan file "media_dir: $T/media"
	chan bad
	chan tok 'retry_base: 1h' 'retry_max: 1h'
	chan busy 'retry_max: 10m'
	chan flaky
} >"$CFG"
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

# reqs PATH: the requests the sink got on PATH, in arrival order.
reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
# form FIELD: a form-encoded field of the body on stdin, decoded.
form() {
	jq -r --arg f "$1" '.body | split("&") | map(split("=")) |
		map(select(.[0] == $f)) | .[0][1] // empty' |
		python3 -c 'import sys, urllib.parse; sys.stdout.write(urllib.parse.unquote(sys.stdin.read().rstrip("\n")))'
}

# --- text: message and link to /feed.
smmctl add -c text --id f1 --link 'https://example.com/launch?a=1&b=2' \
	'Launch day: "quotes" & ünïcödé' >/dev/null
wait_state f1/text published 20
r=$(reqs "/text/$V/111/feed")
[ "$(jq length <<<"$r")" -eq 1 ] || fail "expected one feed post: $r"
jq_true --arg t "Bearer $TOKEN" '.[0].headers.authorization == $t and
	.[0].headers["content-type"] == "application/x-www-form-urlencoded"' <<<"$r" ||
	fail "feed headers wrong: $(jq -c '.[0].headers | del(.authorization)' <<<"$r")"
[ "$(jq -c '.[0]' <<<"$r" | form message)" = 'Launch day: "quotes" & ünïcödé' ] ||
	fail "feed message is $(jq -c '.[0].body' <<<"$r")"
[ "$(jq -c '.[0]' <<<"$r" | form link)" = 'https://example.com/launch?a=1&b=2' ] ||
	fail "feed link is $(jq -c '.[0].body' <<<"$r")"
jq_true '.remote_id == "111_9001" and .remote_url == "https://www.facebook.com/111_9001"' \
	<<<"$(delivery_json f1/text)" ||
	fail "remote id/url: $(delivery_json f1/text | jq -c '{remote_id, remote_url}')"

# --- photo: one image URL, caption with the link.
smmctl add -c photo --id f2 --link https://example.com/p \
	--media https://cdn.example.com/a.jpg 'A photo' >/dev/null
wait_state f2/photo published 20
r=$(jq -c '.[0]' <<<"$(reqs "/photo/$V/111/photos")")
[ "$(form url <<<"$r")" = https://cdn.example.com/a.jpg ] || fail "photo url: $r"
[ "$(form message <<<"$r")" = "$(printf 'A photo\n\nhttps://example.com/p')" ] ||
	fail "photo message: $r"
[ -z "$(form published <<<"$r")" ] || fail "a single photo was not published"
jq_true '.remote_id == "111_7701" and .remote_url == "https://www.facebook.com/111_7701"' \
	<<<"$(delivery_json f2/photo)" || fail "photo post id: $(delivery_json f2/photo)"

# --- multi: two unpublished uploads, then /feed with attached_media.
smmctl add -c multi --id f3 --link https://example.com/m \
	--media https://cdn.example.com/1.jpg --media https://cdn.example.com/2.png \
	'Two photos' >/dev/null
wait_state f3/multi published 20
ups=$(reqs "/multi/$V/111/photos")
[ "$(jq length <<<"$ups")" -eq 2 ] || fail "expected two uploads: $ups"
for k in 0 1; do
	u=$(jq -c ".[$k]" <<<"$ups")
	[ "$(form published <<<"$u")" = false ] || fail "upload $k was published: $u"
done
[ "$(jq -c '.[1]' <<<"$ups" | form url)" = https://cdn.example.com/2.png ] ||
	fail "second upload url: $(jq -c '.[1].body' <<<"$ups")"
f=$(jq -c '.[0]' <<<"$(reqs "/multi/$V/111/feed")")
[ "$(form 'attached_media[0]' <<<"$f")" = '{"media_fbid":"60001"}' ] &&
	[ "$(form 'attached_media[1]' <<<"$f")" = '{"media_fbid":"60002"}' ] ||
	fail "attached_media wrong: $(jq -c .body <<<"$f")"
[ "$(form message <<<"$f")" = "$(printf 'Two photos\n\nhttps://example.com/m')" ] ||
	fail "multi message: $(jq -c .body <<<"$f")"
[ "$(delivery_json f3/multi | jq -r .remote_id)" = 111_8001 ] || fail "multi post id"

# --- file: multipart "source", caption in the query.
smmctl add -c file --id f4 --media logo.png 'From a file' >/dev/null
wait_state f4/file published 20
u=$(jq -c '.[0]' <<<"$(reqs "/file/$V/111/photos")")
case $(jq -r '.headers["content-type"]' <<<"$u") in
"multipart/form-data; boundary="?*) ;;
*) fail "file upload is not multipart: $(jq -c .headers <<<"$u")" ;;
esac
jq_true '.body | contains("name=\"source\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n\ufffdPNG")' \
	<<<"$u" || fail "file upload body: $(jq -c .body <<<"$u")"
[ "$(jq -r .query <<<"$u")" = "message=From%20a%20file" ] ||
	fail "file upload query: $(jq -r .query <<<"$u")"
[ "$(delivery_json f4/file | jq -r .remote_id)" = 111_4441 ] || fail "file post id"

# --- bad: code 100 fails at once with Meta's words.
smmctl add -c bad --id f5 'bad' >/dev/null
wait_state f5/bad failed 15
err=$(delivery_json f5/bad | jq -r .last_error)
case $err in
*"code 100: (#100) Invalid parameter (fbtrace_id AbC1)"*) ;;
*) fail "code 100 error is '$err'" ;;
esac
[ "$(reqs "/bad/$V/111/feed" | jq length)" -eq 1 ] || fail "code 100 was retried"

# --- tok: a refused token holds the delivery; never failed.
smmctl add -c tok --id f6 'token' >/dev/null
wait_for "[ \"\$(reqs /tok/$V/111/feed | jq length)\" -ge 1 ]" 15 ||
	fail "tok was not sent"
wait_state f6/tok held 15
d=$(delivery_json f6/tok)
case $(jq -r .last_error <<<"$d") in
*"needs auth"*"access token was refused"*"code 190/460"*) ;;
*) fail "tok reason is '$(jq -r .last_error <<<"$d")'" ;;
esac
jq_true '.channels[] | select(.name == "tok") | .state == "needs_auth"
	and (.reason | test("code 190/460"))' <<<"$(smmctl channels --json)" ||
	fail "channels does not show tok needing auth: $(smmctl channels --json)"
# A new Page token in token_file, then smmctl auth: the held post goes out.
smmctl auth tok >"$T/auth.out" 2>&1 || fail "smmctl auth tok: $(cat "$T/auth.out")"
wait_state f6/tok published 15
[ "$(delivery_json f6/tok | jq -r .remote_id)" = 111_6001 ] || fail "tok after auth"

# --- busy: retried no sooner than the header's 2 minutes.
before=$(now_ms)
smmctl add -c busy --id f7 'busy' >/dev/null
wait_state f7/busy retry_wait 15
next=$(iso_to_ms "$(delivery_json f7/busy | jq -r .next_attempt)")
[ "$((next - before))" -ge 110000 ] ||
	fail "code 32 retried after $((next - before)) ms, not after the 2 minutes Meta said"
case $(delivery_json f7/busy | jq -r .last_error) in
*"rate limited: code 32"*) ;;
*) fail "busy reason: $(delivery_json f7/busy | jq -r .last_error)" ;;
esac

# --- flaky: code 2 retried.
smmctl add -c flaky --id f8 'flaky' >/dev/null
wait_state f8/flaky published 20
[ "$(reqs "/flaky/$V/111/feed" | jq length)" -eq 2 ] || fail "code 2 was not retried once"

# --- engagement and audience.
samples() {
	delivery_json "$1" | jq -c '.engagement // []'
}
wait_for "[ \"\$(samples f1/text | jq length)\" -ge 1 ]" 15 || fail "no facebook sample"
jq_true '.[0].likes == 7 and .[0].comments == 3 and .[0].shares == 2 and
	.[0].views == null and .[0].quotes == null' <<<"$(samples f1/text)" ||
	fail "facebook sample $(samples f1/text)"
g=$(reqs "/text/$V/")
jq_true --arg t "Bearer $TOKEN" '.[0].method == "GET" and .[0].headers.authorization == $t
	and (.[0].query | startswith("ids=111_9001&fields=reactions.limit(0).summary(true)"))' \
	<<<"$g" || fail "engagement read: $(jq -c '.[0] | {query, method}' <<<"$g")"
wait_for "[ \"\$(sqlite3 -readonly '$T/state/smmd.db' 'SELECT followers FROM audience WHERE channel = \"text\"')\" = 4321 ]" 10 ||
	fail "the Page's followers are not stored"

# The token is nowhere but in the requests themselves.
for id in f1 f2 f3 f4 f5 f6 f7 f8; do
	smmctl show "$id" --json
	smmctl show "$id"
done >"$T/shows.out"
smmctl list --json >>"$T/shows.out"
stop_smmd
! grep -rqF "$TOKEN" "$T/smmd.log" "$T/shows.out" "$T/state" ||
	fail "the token leaked into the log, the store or smmctl output"
log "ok"
