#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The vk publisher against sinks that answer like VK: one holds the media
# and is the upload server (the upload_url VK would answer), the other is
# the API (https://api.vk.com/method/...), each channel under its own
# path prefix. VK answers HTTP 200 even for errors.
# - ok: two photo URLs fetched; for each, photos.getWallUploadServer
#   (group_id), a multipart "photo" upload to the upload_url, without the
#   token, and photos.saveWallPhoto (group_id, photo, server, hash); then
#   wall.post with owner_id=-ID, from_group=1, the message and attachments
#   "photo-ID_N,photo-ID_M,LINK"; -ID_POST and its URL recorded; likes,
#   reposts, comments, views (wall.getById) and members (groups.getById)
#   read back.
# - bad: error 100 fails at once with VK's error_msg.
# - busy: error 6 (too many requests per second), then a post: retried
#   after a second.
# - tok: error 5 (its request_params quoting the token): held, not failed,
#   with a reason naming the token, the channel in needs_auth.
# - garble, gw: a wall.post answered 200 without "response", or 504 by a
#   gateway: unknown, sent once.
# Every API call carries access_token and v in its POST body; the token is
# in no URL the sinks logged, no log line, no SQLite file and no smmctl
# output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
TOKEN=vk1.a.e2e-$(openssl rand -hex 16)
start_sink --log-get \
	--rule "GET /media/a.png 200 H:Content-Type=image/png fake-png-A" \
	--rule "GET /media/b.jpg 200 H:Content-Type=image/jpeg fake-jpeg-B" \
	--rule "POST /vkup/* 200 $J {\"server\":856312,\"photo\":\"[{\\\"photo\\\":\\\"6f26a6640b:w\\\",\\\"sizes\\\":[]}]\",\"hash\":\"bd9a7f37b8af{{n}}\"}"
up=http://127.0.0.1:$SINK_PORT
# vk_error CODE MSG: VK's error answer, echoing the request as VK does.
vk_error() {
	printf '{"error":{"error_code":%s,"error_msg":"%s","request_params":[{"key":"access_token","value":"%s"},{"key":"v","value":"5.199"},{"key":"method","value":"wall.post"}]}}' \
		"$1" "$2" "$TOKEN"
}
start_sink --log-get \
	--rule "POST /ok/photos.getWallUploadServer 200 $J {\"response\":{\"album_id\":-14,\"upload_url\":\"$up/vkup/{{n}}?act=do_add&gid=123456\",\"user_id\":0}}" \
	--rule "POST /ok/photos.saveWallPhoto 200 $J {\"response\":[{\"album_id\":-14,\"date\":1795341600,\"id\":45723901{{n}},\"owner_id\":-123456,\"sizes\":[]}]}" \
	--rule "POST /ok/wall.post 200 $J {\"response\":{\"post_id\":77}}" \
	--rule "POST /ok/wall.getById 200 $J {\"response\":{\"items\":[{\"id\":77,\"owner_id\":-123456,\"from_id\":-123456,\"text\":\"x\",\"comments\":{\"count\":1},\"likes\":{\"count\":5,\"user_likes\":0},\"reposts\":{\"count\":2},\"views\":{\"count\":90}}]}}" \
	--rule "POST /ok/groups.getById 200 $J {\"response\":{\"groups\":[{\"id\":123456,\"name\":\"smmd\",\"members_count\":321}],\"profiles\":[]}}" \
	--rule "POST /bad/wall.post 200 $J $(vk_error 100 'One of the parameters specified was missing or invalid: attachments is invalid')" \
	--rule "POST /busy/wall.post 200 $J $(vk_error 6 'Too many requests per second')" \
	--rule "POST /busy/wall.post 200 $J {\"response\":{\"post_id\":78}}" \
	--rule "POST /tok/wall.post 200 $J $(vk_error 5 'User authorization failed: invalid access_token (4).')" \
	--rule "POST /garble/wall.post 200 $J {\"resp\":1}" \
	--rule "POST /gw/wall.post 504 H:Content-Type=text/html <html>Gateway Time-out</html>"
base=http://127.0.0.1:$SINK_PORT
(
	umask 077
	printf '%s\n' "$TOKEN" >"$T/token"
)
chan() {
	local name=$1
	shift
	printf '  %s:\n    publisher: vk\n' "$name"
	printf '    api_url: %s/%s/\n    token_file: %s\n' "$base" "$name" "$T/token"
	printf '    retry_base: 100ms\n    retry_max: 1s\n'
	printf '    allow_private_media: true\n'
	for kv in "$@"; do
		printf '    %s\n' "$kv"
	done
}
{
	printf 'state_dir: %s/state\nsocket: %s\nmetrics: [2s]\nchannels:\n' "$T" "$SOCK"
	chan ok 'group_id: 123456'
	chan bad 'owner_id: -123456' 'metrics: off'
	chan busy 'group_id: 123456' 'max_attempts: 4' 'metrics: off'
	chan tok 'group_id: 123456' 'metrics: off'
	chan garble 'group_id: 123456' 'max_attempts: 4' 'metrics: off'
	chan gw 'group_id: 123456' 'max_attempts: 4' 'metrics: off'
} >"$CFG"
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}
# form FIELD: the field's value in the form body of the request (JSON)
# on stdin, decoded.
form() {
	local v
	v=$(jq -r --arg f "$1" '.body | split("&") |
		map(select(startswith($f + "="))) | .[0] // "" | .[($f | length) + 1:]')
	v=${v//+/ }
	printf '%b' "${v//%/\\x}"
}
# call: the request (JSON) is a VK method call with the token and v.
call() {
	local r
	r=$(cat)
	[ "$(form access_token <<<"$r")" = "$TOKEN" ] && [ "$(form v <<<"$r")" = 5.199 ] &&
		jq_true '.method == "POST" and .query == null and
		.headers["content-type"] == "application/x-www-form-urlencoded"' <<<"$r"
}

# --- ok: two photos, then the post.
smmctl add -c ok --id v1 --link 'https://example.com/launch?a=1&b=2' \
	--media "$up/media/a.png" --media "$up/media/b.jpg" \
	'Запуск & launch: "quotes"' >/dev/null
wait_state v1/ok published 20
srv=$(reqs /ok/photos.getWallUploadServer)
[ "$(jq length <<<"$srv")" -eq 2 ] || fail "expected 2 getWallUploadServer: $srv"
for k in 0 1; do
	r=$(jq -c ".[$k]" <<<"$srv")
	call <<<"$r" || fail "getWallUploadServer $k is not a proper call: $r"
	[ "$(form group_id <<<"$r")" = 123456 ] || fail "getWallUploadServer group_id: $r"
done
u=$(reqs /vkup/1)
jq_true '.[0].query == "act=do_add&gid=123456" and .[0].headers.authorization == null
	and (.[0].body | contains("access_token") | not)
	and (.[0].headers["content-type"] | startswith("multipart/form-data; boundary="))
	and (.[0].body | contains("Content-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\nfake-png-A\r\n"))' \
	<<<"$u" || fail "upload 1: $u"
jq_true '.[0].body | contains("name=\"photo\"; filename=\"b.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nfake-jpeg-B")' \
	<<<"$(reqs /vkup/2)" || fail "upload 2: $(reqs /vkup/2)"
sv=$(reqs /ok/photos.saveWallPhoto)
[ "$(jq length <<<"$sv")" -eq 2 ] || fail "expected 2 saveWallPhoto: $sv"
s=$(jq -c '.[1]' <<<"$sv")
call <<<"$s" || fail "saveWallPhoto is not a proper call: $s"
[ "$(form group_id <<<"$s")" = 123456 ] && [ "$(form server <<<"$s")" = 856312 ] &&
	[ "$(form hash <<<"$s")" = bd9a7f37b8af2 ] &&
	[ "$(form photo <<<"$s")" = '[{"photo":"6f26a6640b:w","sizes":[]}]' ] ||
	fail "saveWallPhoto fields: $s"
p=$(reqs /ok/wall.post)
[ "$(jq length <<<"$p")" -eq 1 ] || fail "expected one wall.post: $p"
p=$(jq -c '.[0]' <<<"$p")
call <<<"$p" || fail "wall.post is not a proper call: $p"
[ "$(form owner_id <<<"$p")" = -123456 ] && [ "$(form from_group <<<"$p")" = 1 ] ||
	fail "wall.post owner: $p"
[ "$(form message <<<"$p")" = 'Запуск & launch: "quotes"' ] ||
	fail "wall.post message: $(form message <<<"$p")"
[ "$(form attachments <<<"$p")" = 'photo-123456_457239011,photo-123456_457239012,https://example.com/launch?a=1&b=2' ] ||
	fail "wall.post attachments: $(form attachments <<<"$p")"
d=$(delivery_json v1/ok)
jq_true '.remote_id == "-123456_77" and .remote_url == "https://vk.com/wall-123456_77"' \
	<<<"$d" || fail "remote id/url: $(jq -c '{remote_id, remote_url}' <<<"$d")"

# --- bad: error 100 fails at once with VK's words.
smmctl add -c bad --id v2 'bad' >/dev/null
wait_state v2/bad failed 15
case $(delivery_json v2/bad | jq -r .last_error) in
*"VK error 100: One of the parameters specified was missing or invalid: attachments is invalid"*) ;;
*) fail "error 100 reason: $(delivery_json v2/bad | jq -r .last_error)" ;;
esac
[ "$(reqs /bad/wall.post | jq length)" -eq 1 ] || fail "error 100 was retried"

# --- busy: error 6, then the post, a second later.
smmctl add -c busy --id v3 'busy' >/dev/null
wait_state v3/busy published 20
b=$(reqs /busy/wall.post)
[ "$(jq length <<<"$b")" -eq 2 ] || fail "expected error 6 then a post: $b"
gap_ms=$((($(jq -r '.[1].t_us - .[0].t_us' <<<"$b")) / 1000))
[ "$gap_ms" -ge 900 ] || fail "retry came $gap_ms ms after error 6"
[ "$(delivery_json v3/busy | jq -r .remote_id)" = -123456_78 ] || fail "busy remote id"

# --- tok: error 5: held, never failed, the reason names the token.
smmctl add -c tok --id v4 'revoked' >/dev/null
wait_state v4/tok held 15
case $(delivery_json v4/tok | jq -r .last_error) in
*"needs auth"*"VK error 5"*"token"*"User authorization failed"*) ;;
*) fail "error 5 reason is '$(delivery_json v4/tok | jq -r .last_error)'" ;;
esac
smmctl channels --json | jq -e '.channels[] | select(.name == "tok" and .state == "needs_auth")' >/dev/null ||
	fail "tok is not in needs_auth: $(smmctl channels --json)"

# --- garble, gw: wall.post answered without saying whether the post is
# up (a success without "response", a gateway's 504): unknown, never
# sent again, since VK drops no repeat.
for c in garble gw; do
	smmctl add -c $c --id "v-$c" 'maybe up' >/dev/null
	wait_state "v-$c/$c" unknown 15
done
sleep 1
for c in garble gw; do
	[ "$(reqs /$c/wall.post | jq length)" -eq 1 ] ||
		fail "$c: wall.post was sent again: $(reqs /$c/wall.post)"
done
case $(delivery_json v-garble/garble | jq -r .last_error) in
*"no answer saying whether"*"HTTP 200 without a response"*"not re-sent"*) ;;
*) fail "garble reason: $(delivery_json v-garble/garble | jq -r .last_error)" ;;
esac
case $(delivery_json v-gw/gw | jq -r .last_error) in
*"no answer saying whether"*"504"*) ;;
*) fail "gw reason: $(delivery_json v-gw/gw | jq -r .last_error)" ;;
esac

# --- engagement and members.
wait_for "[ \"\$(delivery_json v1/ok | jq '.engagement // [] | length')\" -ge 1 ]" 15 ||
	fail "no engagement sample for v1"
jq_true '.engagement[0] | .likes == 5 and .shares == 2 and .comments == 1
	and .views == 90 and .quotes == null' <<<"$(delivery_json v1/ok)" ||
	fail "sample: $(delivery_json v1/ok | jq -c .engagement)"
g=$(jq -c '.[0]' <<<"$(reqs /ok/wall.getById)")
call <<<"$g" || fail "wall.getById is not a proper call: $g"
[ "$(form posts <<<"$g")" = -123456_77 ] || fail "wall.getById posts: $g"
wait_for "[ \"\$(sqlite3 -readonly '$T/state/smmd.db' 'SELECT followers FROM audience WHERE channel = \"ok\"')\" = 321 ]" 10 ||
	fail "the community's members are not stored"
a=$(jq -c '.[0]' <<<"$(reqs /ok/groups.getById)")
[ "$(form group_id <<<"$a")" = 123456 ] && [ "$(form fields <<<"$a")" = members_count ] ||
	fail "groups.getById: $a"

# The token: in no URL the sinks logged, no log, store or smmctl output.
sink_requests | jq -e --arg t "$TOKEN" \
	'select((.path | contains($t)) or ((.query // "") | contains($t)))' >/dev/null &&
	fail "the token was in a URL"
for id in v1 v2 v3 v4; do
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
