#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The instagram publisher against a sink that answers like Meta's Graph API
# (each channel's graph_url has its own path prefix on the one sink):
# - ok: the publishing limit is read, one image container is made with the
#   caption (link appended), found FINISHED, published; the permalink is
#   the post's URL, the media id its id.
# - car: three carousel items (a video among them: media_type=VIDEO), then
#   the CAROUSEL container naming them; IN_PROGRESS twice, then FINISHED:
#   asked again poll_interval (1 s) apart, published once.
# - err: the container ends in ERROR: failed with Meta's status text.
# - quota: quota_usage has reached quota_total: nothing made, the delivery
#   waits an hour.
# - tok: code 190 is not a failure: held, the reason names the token.
# - busy: code 4 with X-Business-Use-Case-Usage's 3 minutes: retried no
#   sooner.
# - slow: smmd stops while waiting to ask again: the attempt ends as
#   "stopped between two steps", never failed, and starts over with a new
#   container after the restart.
# - a text-only post, a plain file name, 31 hashtags and 11 carousel items
#   fail at once, nothing sent.
# - login: client_id and no token: the post is held; smmctl auth prints
#   Instagram's page, the code is exchanged (app secret in the form), the
#   short-lived token made long-lived at once (ig_exchange_token), the
#   post published; 6 s before its 14-day margin the token is renewed
#   (ig_refresh_token), saved 0600, and used.
# - engagement: like_count, comments_count and the views and shares
#   insights read back; followers_count as the audience.
# The token appears in no log line, no store file and no smmctl output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
V=v25.0
U=17841400000000001
QUOTA_OK="{\"data\":[{\"quota_usage\":2,\"config\":{\"quota_total\":100,\"quota_duration\":86400}}]}"
BUC='H:X-Business-Use-Case-Usage={"17841400000000001":[{"type":"instagram","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":3}]}'
INSIGHTS='"insights":{"data":[{"name":"views","period":"lifetime","values":[{"value":120}],"title":"Views","id":"18001/insights/views/lifetime"},{"name":"shares","period":"lifetime","values":[{"value":4}],"title":"Shares","id":"18001/insights/shares/lifetime"}]}'
rules=()
for c in ok car err slow busy login; do
	rules+=(--rule "GET /$c/$V/$U/content_publishing_limit 200 $J $QUOTA_OK")
done
start_sink --log-get "${rules[@]}" \
	--rule "POST /ok/$V/$U/media 200 $J {\"id\":\"1790{{n}}\"}" \
	--rule "GET /ok/$V/17901 200 $J {\"status_code\":\"FINISHED\",\"id\":\"17901\"}" \
	--rule "POST /ok/$V/$U/media_publish 200 $J {\"id\":\"1800{{n}}\"}" \
	--rule "GET /ok/$V/18001 200 $J {\"permalink\":\"https://www.instagram.com/p/DAbC123xYz/\",\"like_count\":5,\"comments_count\":2,$INSIGHTS,\"id\":\"18001\"}" \
	--rule "GET /ok/$V/$U 200 $J {\"followers_count\":999,\"id\":\"$U\"}" \
	--rule "POST /car/$V/$U/media 200 $J {\"id\":\"2790{{n}}\"}" \
	--rule "GET /car/$V/27904 200 $J {\"status_code\":\"IN_PROGRESS\",\"status\":\"In Progress\",\"id\":\"27904\"}" \
	--rule "GET /car/$V/27904 200 $J {\"status_code\":\"IN_PROGRESS\",\"status\":\"In Progress\",\"id\":\"27904\"}" \
	--rule "GET /car/$V/27904 200 $J {\"status_code\":\"FINISHED\",\"status\":\"Finished\",\"id\":\"27904\"}" \
	--rule "POST /car/$V/$U/media_publish 200 $J {\"id\":\"2800{{n}}\"}" \
	--rule "GET /car/$V/28001 200 $J {\"permalink\":\"https://www.instagram.com/p/CaRoUsEl1/\",\"id\":\"28001\"}" \
	--rule "POST /err/$V/$U/media 200 $J {\"id\":\"3790{{n}}\"}" \
	--rule "GET /err/$V/37901 200 $J {\"status_code\":\"ERROR\",\"status\":\"Error: Media download has failed. The media URI doesn't meet our requirements.\",\"id\":\"37901\"}" \
	--rule "GET /quota/$V/$U/content_publishing_limit 200 $J {\"data\":[{\"quota_usage\":100,\"config\":{\"quota_total\":100,\"quota_duration\":86400}}]}" \
	--rule "GET /tok/$V/$U/content_publishing_limit 400 $J {\"error\":{\"message\":\"Error validating access token: Session has expired on Thursday, 03-Dec-26 10:00:00 PST.\",\"type\":\"OAuthException\",\"code\":190,\"error_subcode\":463,\"fbtrace_id\":\"IgT\"}}" \
	--rule "POST /busy/$V/$U/media 400 $J $BUC {\"error\":{\"message\":\"(#4) Application request limit reached\",\"type\":\"OAuthException\",\"code\":4,\"fbtrace_id\":\"IgB\"}}" \
	--rule "POST /slow/$V/$U/media 200 $J {\"id\":\"5790{{n}}\"}" \
	--rule "GET /slow/$V/57901 200 $J {\"status_code\":\"IN_PROGRESS\",\"id\":\"57901\"}" \
	--rule "GET /slow/$V/57902 200 $J {\"status_code\":\"IN_PROGRESS\",\"id\":\"57902\"}" \
	--rule "POST /igauth/oauth/access_token 200 $J {\"data\":[{\"access_token\":\"IGShort-Zq1\",\"user_id\":\"$U\",\"permissions\":\"instagram_business_basic,instagram_business_content_publish\"}]}" \
	--rule "GET /igr/access_token 200 $J {\"access_token\":\"IGLong-Zq2\",\"token_type\":\"bearer\",\"expires_in\":1209606}" \
	--rule "GET /igr/refresh_access_token 200 $J {\"access_token\":\"IGLong-Zq3\",\"token_type\":\"bearer\",\"expires_in\":5183944}" \
	--rule "POST /login/$V/$U/media 200 $J {\"id\":\"6790{{n}}\"}" \
	--rule "GET /login/$V/67901 200 $J {\"status_code\":\"FINISHED\",\"id\":\"67901\"}" \
	--rule "GET /login/$V/67902 200 $J {\"status_code\":\"FINISHED\",\"id\":\"67902\"}" \
	--rule "POST /login/$V/$U/media_publish 200 $J {\"id\":\"6800{{n}}\"}"
base=http://127.0.0.1:$SINK_PORT
TOKEN=IGAA$(openssl rand -hex 20)
SECRET=IgAppSecret-$(openssl rand -hex 8)
(
	umask 077
	printf '%s\n' "$TOKEN" >"$T/token"
	mkdir "$T/media"
	printf 'png' >"$T/media/logo.png"
	printf '%s\n' "$SECRET" >"$T/secret"
)
chan() {
	local name=$1
	shift
	printf '  %s:\n    publisher: instagram\n    ig_user_id: "%s"\n' "$name" "$U"
	printf '    graph_url: %s/%s\n' "$base" "$name"
	case " $* " in *client_id:*) ;; *) printf '    token_file: %s\n' "$T/token" ;; esac
	case " $* " in *retry_base:*) ;; *) printf '    retry_base: 100ms\n' ;; esac
	case " $* " in *retry_max:*) ;; *) printf '    retry_max: 1s\n' ;; esac
	case " $* " in *poll_interval:*) ;; *) printf '    poll_interval: 1s\n' ;; esac
	printf '    max_attempts: 4\n'
	for kv in "$@"; do
		printf '    %s\n' "$kv"
	done
}
{
	printf 'state_dir: %s/state\nsocket: %s\nmetrics: [2s]\nchannels:\n' "$T" "$SOCK"
	chan ok "media_dir: $T/media"
	chan car
	chan err
	chan quota 'retry_max: 2h'
	chan tok 'retry_base: 1h' 'retry_max: 1h'
	chan busy 'retry_max: 10m'
	chan slow 'retry_base: 1h' 'retry_max: 1h' 'poll_interval: 1m' 'poll_timeout: 1h'
	chan login 'client_id: "990602627938098"' "client_secret_file: $T/secret" \
		"authorize_url: $base/igauth/oauth/authorize" \
		"token_url: $base/igauth/oauth/access_token" "refresh_url: $base/igr"
} >"$CFG"
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
form() {
	jq -r --arg f "$1" '.body | split("&") | map(split("=")) |
		map(select(.[0] == $f)) | .[0][1] // empty' |
		python3 -c 'import sys, urllib.parse; sys.stdout.write(urllib.parse.unquote(sys.stdin.read().rstrip("\n")))'
}

# --- ok: limit, container, status, publish, permalink; in that order.
smmctl add -c ok --id i1 --link https://example.com/l \
	--media https://cdn.example.com/a.jpg 'Hello #smmd @meta' >/dev/null
wait_state i1/ok published 20
seq=$(sink_requests | jq -s -c '[.[] | select(.path | startswith("/ok/")) |
	select(.method == "POST" or (.query // "" | test("fields=(quota|status|permalink)")))
	| .method + " " + .path] ' )
want="[\"GET /ok/$V/$U/content_publishing_limit\",\"POST /ok/$V/$U/media\",\"GET /ok/$V/17901\",\"POST /ok/$V/$U/media_publish\",\"GET /ok/$V/18001\"]"
[ "$seq" = "$want" ] || fail "ok flow is $seq"
c=$(jq -c '.[0]' <<<"$(reqs "/ok/$V/$U/media")")
jq_true --arg t "Bearer $TOKEN" '.headers.authorization == $t' <<<"$c" ||
	fail "container request lacks the token"
[ "$(form image_url <<<"$c")" = https://cdn.example.com/a.jpg ] || fail "image_url: $c"
[ "$(form caption <<<"$c")" = "$(printf 'Hello #smmd @meta\n\nhttps://example.com/l')" ] ||
	fail "caption: $c"
[ "$(jq -c '.[0]' <<<"$(reqs "/ok/$V/$U/media_publish")" | form creation_id)" = 17901 ] ||
	fail "media_publish lacks creation_id 17901"
[ "$(jq -r '.[0].query' <<<"$(reqs "/ok/$V/17901")")" = "fields=status_code,status" ] ||
	fail "status query wrong"
jq_true '.remote_id == "18001" and .remote_url == "https://www.instagram.com/p/DAbC123xYz/"' \
	<<<"$(delivery_json i1/ok)" ||
	fail "remote id/url: $(delivery_json i1/ok | jq -c '{remote_id, remote_url}')"

# --- car: three items, the carousel, polled 1 s apart.
smmctl add -c car --id i2 --media https://cdn.example.com/1.jpg \
	--media https://cdn.example.com/clip.mp4 --media https://cdn.example.com/3.png \
	'Carousel' >/dev/null
wait_state i2/car published 30
m=$(reqs "/car/$V/$U/media")
[ "$(jq length <<<"$m")" -eq 4 ] || fail "expected 3 items and a carousel: $m"
for k in 0 1 2; do
	[ "$(jq -c ".[$k]" <<<"$m" | form is_carousel_item)" = true ] ||
		fail "item $k is not a carousel item: $(jq -c ".[$k].body" <<<"$m")"
done
[ "$(jq -c '.[1]' <<<"$m" | form media_type)" = VIDEO ] &&
	[ "$(jq -c '.[1]' <<<"$m" | form video_url)" = https://cdn.example.com/clip.mp4 ] ||
	fail "the video item: $(jq -c '.[1].body' <<<"$m")"
last=$(jq -c '.[3]' <<<"$m")
[ "$(form media_type <<<"$last")" = CAROUSEL ] &&
	[ "$(form children <<<"$last")" = 27901,27902,27903 ] &&
	[ "$(form caption <<<"$last")" = Carousel ] ||
	fail "carousel container: $(jq -c .body <<<"$last")"
p=$(reqs "/car/$V/27904")
[ "$(jq length <<<"$p")" -eq 3 ] || fail "expected 3 status polls: $p"
for k in 1 2; do
	gap=$((($(jq ".[$k].t_us - .[$((k - 1))].t_us" <<<"$p")) / 1000))
	[ "$gap" -ge 900 ] || fail "poll $k came $gap ms after the last, not 1 s"
done
[ "$(reqs "/car/$V/$U/media_publish" | jq length)" -eq 1 ] || fail "carousel published twice"
[ "$(delivery_json i2/car | jq -r .remote_url)" = https://www.instagram.com/p/CaRoUsEl1/ ] ||
	fail "carousel URL"

# --- err: the container's ERROR fails the delivery with its status.
smmctl add -c err --id i3 --media https://cdn.example.com/x.jpg 'err' >/dev/null
wait_state i3/err failed 15
case $(delivery_json i3/err | jq -r .last_error) in
*ERROR*"Media download has failed"*) ;;
*) fail "ERROR reason: $(delivery_json i3/err | jq -r .last_error)" ;;
esac
[ "$(reqs "/err/$V/$U/media_publish" | jq length)" -eq 0 ] || fail "an ERROR container was published"

# --- quota: used up: nothing made, retried in an hour.
before=$(now_ms)
smmctl add -c quota --id i4 --media https://cdn.example.com/q.jpg 'quota' >/dev/null
wait_state i4/quota retry_wait 15
d=$(delivery_json i4/quota)
[ "$(($(iso_to_ms "$(jq -r .next_attempt <<<"$d")") - before))" -ge 3500000 ] ||
	fail "a used-up quota is retried at $(jq -r .next_attempt <<<"$d")"
case $(jq -r .last_error <<<"$d") in
*"publishing limit is used up (100 of 100"*) ;;
*) fail "quota reason: $(jq -r .last_error <<<"$d")" ;;
esac
[ "$(reqs "/quota/$V/$U/media" | jq length)" -eq 0 ] || fail "a container was made over quota"

# --- tok: held, not failed, the reason names the token.
smmctl add -c tok --id i5 --media https://cdn.example.com/t.jpg 'tok' >/dev/null
wait_for "[ \"\$(reqs /tok/$V/$U/content_publishing_limit | jq length)\" -ge 1 ]" 15 ||
	fail "tok was not tried"
wait_state i5/tok held 15
d=$(delivery_json i5/tok)
case $(jq -r .last_error <<<"$d") in
*"needs auth"*"access token was refused"*"code 190/463"*) ;;
*) fail "tok reason is '$(jq -r .last_error <<<"$d")'" ;;
esac
jq_true '.channels[] | select(.name == "tok") | .state == "needs_auth"
	and (.reason | test("code 190/463"))' <<<"$(smmctl channels --json)" ||
	fail "channels does not show tok needing auth: $(smmctl channels --json)"

# --- busy: code 4, three minutes by the usage header.
before=$(now_ms)
smmctl add -c busy --id i6 --media https://cdn.example.com/b.jpg 'busy' >/dev/null
wait_state i6/busy retry_wait 15
next=$(iso_to_ms "$(delivery_json i6/busy | jq -r .next_attempt)")
[ "$((next - before))" -ge 170000 ] || fail "code 4 retried after $((next - before)) ms"

# --- text only, file name: refused before anything is sent.
smmctl add -c ok --id i7 'just words' >/dev/null
smmctl add -c ok --id i8 --media logo.png 'a file' >/dev/null
tags=$(for k in $(seq 1 31); do printf '#t%d ' "$k"; done)
smmctl add -c ok --id i10 --media https://cdn.example.com/h.jpg "$tags" >/dev/null
many=()
for k in $(seq 1 11); do
	many+=(--media "https://cdn.example.com/$k.jpg")
done
smmctl add -c ok --id i11 "${many[@]}" 'eleven' >/dev/null
wait_state i7/ok failed 15
wait_state i8/ok failed 15
wait_state i10/ok failed 15
wait_state i11/ok failed 15
case $(delivery_json i10/ok | jq -r .last_error) in
*"at most 30 hashtags and 20 @mentions; the post has 31 and 0"*) ;;
*) fail "hashtag reason: $(delivery_json i10/ok | jq -r .last_error)" ;;
esac
case $(delivery_json i11/ok | jq -r .last_error) in
*"carousel holds at most 10 items; the post has 11"*) ;;
*) fail "carousel size reason: $(delivery_json i11/ok | jq -r .last_error)" ;;
esac
case $(delivery_json i7/ok | jq -r .last_error) in
*"no text-only posts"*) ;;
*) fail "text-only reason: $(delivery_json i7/ok | jq -r .last_error)" ;;
esac
case $(delivery_json i8/ok | jq -r .last_error) in
*"public http(s) URL"*) ;;
*) fail "file name reason: $(delivery_json i8/ok | jq -r .last_error)" ;;
esac
[ "$(reqs "/ok/$V/$U/media" | jq length)" -eq 1 ] || fail "i7, i8, i10 or i11 made a container"

# --- engagement and audience.
samples() {
	delivery_json "$1" | jq -c '.engagement // []'
}
wait_for "[ \"\$(samples i1/ok | jq length)\" -ge 1 ]" 15 || fail "no instagram sample"
jq_true '.[0].likes == 5 and .[0].comments == 2 and .[0].shares == 4 and
	.[0].views == 120 and .[0].quotes == null' <<<"$(samples i1/ok)" ||
	fail "instagram sample $(samples i1/ok)"
jq_true '[.[] | select(.query | test("insights"))] | .[0].query ==
	"fields=like_count,comments_count,insights.metric(views,shares)"' \
	<<<"$(reqs "/ok/$V/18001")" || fail "engagement query: $(reqs "/ok/$V/18001" | jq -c '[.[].query]')"
wait_for "[ \"\$(sqlite3 -readonly '$T/state/smmd.db' 'SELECT followers FROM audience WHERE channel = \"ok\"')\" = 999 ]" 10 ||
	fail "the account's followers are not stored"

# --- login: Business Login through smmctl auth. No token yet: held.
param() { # param NAME URL-or-form
	sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p" <<<"$2"
}
smmctl add -c login --id i12 --media https://cdn.example.com/l.jpg 'logged in' >/dev/null
wait_state i12/login held 15
url=$(smmctl auth login --start) || fail "auth --start failed: $url"
case $url in
"$base/igauth/oauth/authorize?"*) ;;
*) fail "the page is '$url'" ;;
esac
[ "$(param client_id "$url")" = 990602627938098 ] &&
	[ "$(param response_type "$url")" = code ] &&
	[ "$(param scope "$url")" = instagram_business_basic%2Cinstagram_business_content_publish ] ||
	fail "the page's parameters: $url"
smmctl auth login --code "http://127.0.0.1:8976/callback?code=AQBx-1&state=$(param state "$url")" \
	>"$T/auth.out" || fail "auth failed: $(cat "$T/auth.out")"
form=$(reqs /igauth/oauth/access_token | jq -r '.[0].body')
[ "$(param grant_type "&$form")" = authorization_code ] &&
	[ "$(param code "&$form")" = AQBx-1 ] &&
	[ "$(param client_secret "&$form")" = "$SECRET" ] ||
	fail "the code exchange: $form"
# The short-lived token is made a long-lived one at once, with the secret.
wait_for "[ \"\$(reqs /igr/access_token | jq length)\" -ge 1 ]" 10 ||
	fail "the short-lived token was not exchanged"
[ "$(reqs /igr/access_token | jq -r '.[0].query')" = \
	"grant_type=ig_exchange_token&client_secret=$SECRET&access_token=IGShort-Zq1" ] ||
	fail "the exchange: $(reqs /igr/access_token | jq -r '.[0].query')"
wait_state i12/login published 20
# 14 days and 6 s: renewed 6 s later, the long-lived token in the query.
wait_for "[ \"\$(reqs /igr/refresh_access_token | jq length)\" -ge 1 ]" 20 ||
	fail "the long-lived token was not renewed"
[ "$(reqs /igr/refresh_access_token | jq -r '.[0].query')" = \
	"grant_type=ig_refresh_token&access_token=IGLong-Zq2" ] ||
	fail "the renewal: $(reqs /igr/refresh_access_token | jq -r '.[0].query')"
wait_for "grep -q IGLong-Zq3 '$T/state/auth/login'" 10 || fail "the renewed token was not saved"
[ "$(stat -c %a "$T/state/auth/login")" = 600 ] || fail "the token file is not 0600"
smmctl add -c login --id i13 --media https://cdn.example.com/m.jpg 'renewed' >/dev/null
wait_state i13/login published 20
[ "$(reqs "/login/$V/$U/media" | jq -r '.[-1].headers.authorization')" = "Bearer IGLong-Zq3" ] ||
	fail "the post after the renewal did not use the new token"
smmctl channels --json >"$T/login.json"

# --- slow: stopped while waiting between two polls.
smmctl add -c slow --id i9 --media https://cdn.example.com/s.jpg 'slow' >/dev/null
wait_for "[ \"\$(reqs /slow/$V/57901 | jq length)\" -ge 1 ]" 15 || fail "slow never polled"
for id in i1 i2 i3 i4 i5 i6 i7 i8 i9 i10 i11 i12 i13; do
	smmctl show "$id" --json
	smmctl show "$id"
done >"$T/shows.out"
smmctl list --json >>"$T/shows.out"
stop_smmd
grep -q "post 'i9' channel 'slow' attempt 1: smmd stopped between two steps, retrying after restart" \
	"$T/smmd.log" || fail "stopping mid-poll was not recorded as such"
# After the restart the attempt starts over: new container, polled again.
start_smmd
wait_for "[ \"\$(reqs /slow/$V/57902 | jq length)\" -ge 1 ]" 15 ||
	fail "slow did not start over after the restart"
d=$(delivery_json i9/slow)
jq_true '.state == "publishing"' <<<"$d" ||
	fail "slow after the restart: $(jq -c '{state, last_error}' <<<"$d")"
[ "$(reqs "/slow/$V/$U/media_publish" | jq length)" -eq 0 ] || fail "slow was published"
stop_smmd

! grep -rqF "$TOKEN" "$T/smmd.log" "$T/shows.out" "$T/state" ||
	fail "the token leaked into the log, the store or smmctl output"
# The login tokens live in state_dir/auth only; the app secret nowhere.
cat "$T/auth.out" "$T/login.json" >>"$T/shows.out"
! grep -rqF -e IGShort -e IGLong -e "$SECRET" "$T/smmd.log" "$T/shows.out" \
	"$T/state/smmd.db" ||
	fail "a login token or the app secret leaked"
log "ok"
