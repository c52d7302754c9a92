#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The threads publisher against a sink that answers like the Threads API
# v1.0 (each channel's api_url has its own path prefix on the one sink):
# - txt: a text post: POST /me/threads (media_type=TEXT, text,
#   link_attachment, form-encoded, Bearer token), GET the container's
#   status (FINISHED), POST /me/threads_publish?creation_id, GET the
#   permalink; the media id and permalink are recorded. Its insights are
#   read back and the profile's followers stored as the audience.
# - car: a carousel for user 12345: an IMAGE and a VIDEO item container
#   (is_carousel_item), the CAROUSEL container naming both, IN_PROGRESS
#   then, checked again 30 s later within the same attempt, FINISHED;
#   published.
# - err: a container in ERROR fails with Threads' error_message, and is
#   never published.
# - tok: Graph error code 190 holds the delivery (not failed), its reason
#   naming the token and smmctl auth; the channel needs auth.
# - bad: code 100 fails at once with the API's message.
# - busy: code 4 (rate limit) is retried, then published.
# - file: a media file name fails at once: Threads fetches public URLs.
# - length: 500 characters at plan time, an emoji counting its bytes.
# The token appears in no log line, no smmctl output, no SQLite file.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
V=v1.0
start_sink --log-get \
	--rule "POST /txt/$V/me/threads 200 $J {\"id\":\"17889615691921648\"}" \
	--rule "GET /txt/$V/17889615691921648 200 $J {\"status\":\"FINISHED\",\"id\":\"17889615691921648\"}" \
	--rule "POST /txt/$V/me/threads_publish 200 $J {\"id\":\"18028417213161234\"}" \
	--rule "GET /txt/$V/18028417213161234 200 $J {\"permalink\":\"https://www.threads.net/@smmd/post/C8aBcD\",\"id\":\"18028417213161234\"}" \
	--rule "GET /txt/$V/18028417213161234/insights 200 $J {\"data\":[{\"name\":\"views\",\"period\":\"lifetime\",\"values\":[{\"value\":4523}],\"title\":\"Views\",\"id\":\"18028417213161234/insights/views/lifetime\"},{\"name\":\"likes\",\"period\":\"lifetime\",\"values\":[{\"value\":187}],\"title\":\"Likes\",\"id\":\"x\"},{\"name\":\"replies\",\"period\":\"lifetime\",\"values\":[{\"value\":42}],\"title\":\"Replies\",\"id\":\"x\"},{\"name\":\"reposts\",\"period\":\"lifetime\",\"values\":[{\"value\":23}],\"title\":\"Reposts\",\"id\":\"x\"},{\"name\":\"quotes\",\"period\":\"lifetime\",\"values\":[{\"value\":8}],\"title\":\"Quotes\",\"id\":\"x\"}]}" \
	--rule "GET /txt/$V/me/threads_insights 200 $J {\"data\":[{\"name\":\"followers_count\",\"period\":\"day\",\"title\":\"followers_count\",\"total_value\":{\"value\":2718},\"id\":\"1/insights/followers_count/day\"}]}" \
	--rule "POST /car/$V/12345/threads 200 $J {\"id\":\"100{{n}}\"}" \
	--rule "GET /car/$V/1003 200 $J {\"status\":\"IN_PROGRESS\",\"id\":\"1003\"}" \
	--rule "GET /car/$V/1003 200 $J {\"status\":\"FINISHED\",\"id\":\"1003\"}" \
	--rule "POST /car/$V/12345/threads_publish 200 $J {\"id\":\"2001\"}" \
	--rule "GET /car/$V/2001 200 $J {\"permalink\":\"https://www.threads.net/@smmd/post/CAR\",\"id\":\"2001\"}" \
	--rule "POST /err/$V/me/threads 200 $J {\"id\":\"3001\"}" \
	--rule "GET /err/$V/3001 200 $J {\"status\":\"ERROR\",\"id\":\"3001\",\"error_message\":\"FAILED_DOWNLOADING_VIDEO\"}" \
	--rule "POST /tok/$V/me/threads 400 $J {\"error\":{\"message\":\"Error validating access token: Session has expired on Tuesday, 01-Dec-26 09:00:00 PST.\",\"type\":\"OAuthException\",\"code\":190,\"error_subcode\":463,\"fbtrace_id\":\"AbCdEf\"}}" \
	--rule "POST /bad/$V/me/threads 400 $J {\"error\":{\"message\":\"(#100) The parameter image_url is not a valid URL\",\"type\":\"OAuthException\",\"code\":100,\"fbtrace_id\":\"AbC\"}}" \
	--rule "POST /busy/$V/me/threads 400 $J {\"error\":{\"message\":\"(#4) Application request limit reached\",\"type\":\"OAuthException\",\"is_transient\":true,\"code\":4,\"fbtrace_id\":\"AbD\"}}" \
	--rule "POST /busy/$V/me/threads 200 $J {\"id\":\"4001\"}" \
	--rule "GET /busy/$V/4001 200 $J {\"status\":\"FINISHED\",\"id\":\"4001\"}" \
	--rule "POST /busy/$V/me/threads_publish 200 $J {\"id\":\"4002\"}" \
	--rule "GET /busy/$V/4002 200 $J {\"permalink\":\"https://www.threads.net/@smmd/post/BUSY\",\"id\":\"4002\"}"
base=http://127.0.0.1:$SINK_PORT
TOKEN=THAAtok-$(openssl rand -hex 16)
(
	umask 077
	printf '%s\n' "$TOKEN" >"$T/token"
	mkdir "$T/media"
	printf 'png' >"$T/media/logo.png"
)
# chan NAME RETRY_BASE KEY:VALUE...
chan() {
	local name=$1 rb=$2
	shift 2
	printf '  %s:\n    publisher: threads\n    api_url: %s/%s\n' "$name" "$base" "$name"
	printf '    token_file: %s\n' "$T/token"
	printf '    retry_base: %s\n    retry_max: 1h\n    max_attempts: 4\n' "$rb"
	for kv in "$@"; do
		printf '    %s\n' "$kv"
	done
}
{
	printf 'state_dir: %s/state\nsocket: %s\nmetrics: [2s]\nchannels:\n' "$T" "$SOCK"
	chan txt 100ms
	chan car 100ms 'user_id: "12345"' 'metrics: off'
	chan err 100ms 'metrics: off'
	chan tok 1h 'metrics: off'
	chan bad 100ms 'metrics: off'
	chan busy 100ms 'metrics: off'
	chan file 100ms 'metrics: off' "media_dir: $T/media"
} >"$CFG"
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs() {
	sink_requests | jq -s -c --arg p "$1" --arg m "${2:-POST}" \
		'[.[] | select(.path == $p and .method == $m)] | sort_by(.t_us)'
}
# form NAME: a field of the first request's form body on stdin, decoded.
form() {
	local v
	v=$(jq -r --arg k "$1" '.[0].body | split("&") |
		map(select(startswith($k + "="))) | .[0] // "" | ltrimstr($k + "=")')
	v=${v//+/ }
	printf '%b' "${v//%/\\x}"
}

smmctl add -c txt --id t1 --link 'https://example.com/launch?a=1&b=2' 'Launch day: ünïcödé & more' >/dev/null
smmctl add -c car --id t2 --media https://cdn.example/a.jpg \
	--media 'https://cdn.example/b.mp4?sig=1' 'A carousel' >/dev/null
smmctl add -c err --id t3 --media https://cdn.example/broken.mp4 'broken video' >/dev/null
smmctl add -c tok --id t4 'expired token' >/dev/null
smmctl add -c bad --id t5 --media https://cdn.example/x.png 'bad image' >/dev/null
smmctl add -c busy --id t6 'rate limited' >/dev/null
smmctl add -c file --id t7 --media logo.png 'a file' >/dev/null

# --- txt: container, status, publish, permalink.
wait_state t1/txt published 20
c=$(reqs /txt/$V/me/threads)
jq_true --arg t "Bearer $TOKEN" 'length == 1 and .[0].headers.authorization == $t
	and .[0].headers["content-type"] == "application/x-www-form-urlencoded"' \
	<<<"$c" || fail "container request: $(jq -c '[.[].headers | del(.authorization)]' <<<"$c")"
[ "$(form media_type <<<"$c")" = TEXT ] || fail "media_type is $(form media_type <<<"$c")"
[ "$(form text <<<"$c")" = 'Launch day: ünïcödé & more' ] ||
	fail "text is '$(form text <<<"$c")' in $(jq -r '.[0].body' <<<"$c")"
[ "$(form link_attachment <<<"$c")" = 'https://example.com/launch?a=1&b=2' ] ||
	fail "link_attachment is '$(form link_attachment <<<"$c")'"
s=$(reqs /txt/$V/17889615691921648 GET)
jq_true --arg t "Bearer $TOKEN" 'length == 1 and .[0].query == "fields=status%2Cerror_message"
	and .[0].headers.authorization == $t' <<<"$s" || fail "status check: $(jq -c '[.[].query]' <<<"$s")"
p=$(reqs /txt/$V/me/threads_publish)
[ "$(form creation_id <<<"$p")" = 17889615691921648 ] || fail "publish: $p"
l=$(reqs /txt/$V/18028417213161234 GET)
jq_true '.[0].query == "fields=permalink"' <<<"$l" || fail "permalink read: $l"
d=$(delivery_json t1/txt)
jq_true '.remote_id == "18028417213161234" and
	.remote_url == "https://www.threads.net/@smmd/post/C8aBcD"' <<<"$d" ||
	fail "remote id/url: $(jq -c '{remote_id, remote_url}' <<<"$d")"
# Order: container, status, publish, permalink.
order=$(sink_requests | jq -s -c '[.[] | select(.path | startswith("/txt/")) |
	select(.path | endswith("insights") | not) | .path] | .[0:4]')
[ "$order" = "[\"/txt/$V/me/threads\",\"/txt/$V/17889615691921648\",\"/txt/$V/me/threads_publish\",\"/txt/$V/18028417213161234\"]" ] ||
	fail "steps out of order: $order"

# --- car: two items, the carousel, IN_PROGRESS then FINISHED.
wait_state t2/car published 50
c=$(reqs /car/$V/12345/threads)
[ "$(jq length <<<"$c")" -eq 3 ] || fail "expected 3 containers: $c"
[ "$(form media_type <<<"$c")/$(form image_url <<<"$c")/$(form is_carousel_item <<<"$c")" = \
	IMAGE/https://cdn.example/a.jpg/true ] || fail "item 1: $(jq -r '.[0].body' <<<"$c")"
c1=$(jq -c '.[1:]' <<<"$c")
[ "$(form media_type <<<"$c1")/$(form video_url <<<"$c1")/$(form is_carousel_item <<<"$c1")" = \
	'VIDEO/https://cdn.example/b.mp4?sig=1/true' ] || fail "item 2: $(jq -r '.[0].body' <<<"$c1")"
c2=$(jq -c '.[2:]' <<<"$c")
[ "$(form media_type <<<"$c2")/$(form children <<<"$c2")/$(form text <<<"$c2")" = \
	'CAROUSEL/1001,1002/A carousel' ] || fail "carousel: $(jq -r '.[0].body' <<<"$c2")"
s=$(reqs /car/$V/1003 GET)
[ "$(jq length <<<"$s")" -eq 2 ] || fail "IN_PROGRESS was not checked again: $s"
gap_ms=$((($(jq '.[1].t_us - .[0].t_us' <<<"$s")) / 1000))
[ "$gap_ms" -ge 29000 ] || fail "IN_PROGRESS was checked again after $gap_ms ms, not 30 s"
[ "$(jq length <<<"$c")" -eq 3 ] || fail "the wait started a new attempt: $c"
[ "$(form creation_id <<<"$(reqs /car/$V/12345/threads_publish)")" = 1003 ] ||
	fail "the carousel was not published"
jq_true '.remote_id == "2001" and .remote_url == "https://www.threads.net/@smmd/post/CAR"' \
	<<<"$(delivery_json t2/car)" || fail "carousel remote id/url"

# --- err: a container in ERROR fails with its message, unpublished.
wait_state t3/err failed 15
case $(delivery_json t3/err | jq -r .last_error) in
*FAILED_DOWNLOADING_VIDEO*) ;;
*) fail "ERROR reason is '$(delivery_json t3/err | jq -r .last_error)'" ;;
esac
[ "$(reqs /err/$V/me/threads_publish | jq length)" -eq 0 ] || fail "an ERROR container was published"

# --- tok: code 190 holds the delivery and the channel needs auth.
wait_state t4/tok held 15
case $(delivery_json t4/tok | jq -r .last_error) in
*"access token was refused"*"smmctl auth"*"Session has expired"*) ;;
*) fail "190 reason is '$(delivery_json t4/tok | jq -r .last_error)'" ;;
esac
jq_true '.channels[] | select(.name == "tok") | .state == "needs_auth"' \
	<<<"$(smmctl channels --json)" || fail "tok is not in needs_auth"

# --- bad: code 100 fails with the API's message, not retried.
wait_state t5/bad failed 15
case $(delivery_json t5/bad | jq -r .last_error) in
*"code 100"*"image_url is not a valid URL"*) ;;
*) fail "code 100 reason is '$(delivery_json t5/bad | jq -r .last_error)'" ;;
esac
[ "$(reqs /bad/$V/me/threads | jq length)" -eq 1 ] || fail "code 100 was retried"

# --- busy: code 4 is a rate limit: retried, then published.
wait_state t6/busy published 20
[ "$(reqs /busy/$V/me/threads | jq length)" -eq 2 ] || fail "code 4 was not retried once"

# --- file: Threads fetches media itself: a file name cannot go.
wait_state t7/file failed 15
case $(delivery_json t7/file | jq -r .last_error) in
*"public http(s) URL"*) ;;
*) fail "file reason is '$(delivery_json t7/file | jq -r .last_error)'" ;;
esac

# --- length at plan time: 500 characters, an emoji counting its bytes:
# 125 thumbs up (4 bytes each) fit, 126 do not.
emo=""
for _ in $(seq 125); do emo+="👍"; done
run smmctl add -c bad --id fits --at "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" "$emo"
[ "$rc" -eq 0 ] || fail "125 emoji (500) refused: $err"
run smmctl add -c bad --id over "$emo👍"
[[ $rc -eq 65 && $err == *"504 characters, 4 over channel 'bad''s limit of 500"* ]] ||
	fail "126 emoji: exit $rc: $err"

# --- engagement and audience.
wait_for "[ \"\$(delivery_json t1/txt | jq '.engagement // [] | length')\" -ge 1 ]" 15 ||
	fail "no engagement sample for t1"
e=$(delivery_json t1/txt | jq -c '.engagement[0]')
jq_true '.likes == 187 and .shares == 23 and .comments == 42 and .quotes == 8
	and .views == 4523' <<<"$e" || fail "engagement sample $e"
jq_true '.[0].query == "metric=views%2Clikes%2Creplies%2Creposts%2Cquotes"' \
	<<<"$(reqs /txt/$V/18028417213161234/insights GET)" || fail "insights query"
wait_for "[ \"\$(sqlite3 -readonly '$T/state/smmd.db' 'SELECT followers FROM audience WHERE channel = \"txt\"')\" = 2718 ]" 10 ||
	fail "the audience of txt is not stored"

# The token is nowhere but in the requests themselves.
grep -qF "$TOKEN" "$SINK_LOG" || fail "the token was never sent"
for id in t1 t2 t3 t4 t5 t6 t7; do
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
