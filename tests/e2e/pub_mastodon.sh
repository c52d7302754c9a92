#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The mastodon publisher against a sink that answers like a Mastodon
# instance. Each channel's instance URL has its own path prefix on the one
# sink, so each gets its own scripted replies.
# - ok: two media URLs on the sink itself (allowed by allow_private_media)
#   are fetched, uploaded as multipart/form-data with their bytes and
#   types (one upload answered 202 "still processing"), then the status is
#   posted as JSON with both media ids, visibility and language, a Bearer
#   token and the delivery's webhook-id as Idempotency-Key; the status id
#   and url are recorded.
# - files: media given as plain file names are read from media_dir, NUL and
#   non-UTF-8 bytes intact.
# - bad: 422 fails at once with Mastodon's error text.
# - busy: 429 with Retry-After, then 200: retried with the same key.
# - proc: 422 "not finished processing" after a 202 upload: retried.
# - tok: 401 holds the delivery (the channel needs auth), telling to check
#   token_file, without the token.
# - gone/flaky: media 404 fails without an upload; media 503 is retried.
# The token appears in no log line and no smmctl output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

J=H:Content-Type=application/json
start_sink --log-get \
	--rule "GET /media/a.png 200 H:Content-Type=image/png fake-png-A" \
	--rule "GET /media/b.jpg 200 H:Content-Type=image/jpeg;charset=binary fake-jpeg-B" \
	--rule "GET /media/gone.png 404 H:Content-Type=text/plain not found" \
	--rule "GET /media/flaky.png 503 H:Content-Type=text/plain busy" \
	--rule "GET /media/flaky.png 200 H:Content-Type=image/png flaky-png" \
	--rule "POST /ok/api/v2/media 200 $J {\"id\":\"m{{n}}\",\"type\":\"image\"}" \
	--rule "POST /ok/api/v2/media 202 $J {\"id\":\"m{{n}}\",\"type\":\"image\",\"url\":null}" \
	--rule "POST /ok/api/v1/statuses 200 $J {\"id\":\"10900{{n}}\",\"url\":\"https://social.example/@smmd/10900{{n}}\",\"content\":\"<p>hi</p>\"}" \
	--rule "POST /files/api/v2/media 200 $J {\"id\":\"f{{n}}\"}" \
	--rule "POST /files/api/v1/statuses 200 $J {\"id\":\"20900{{n}}\",\"url\":\"https://social.example/@smmd/20900{{n}}\"}" \
	--rule "POST /bad/api/v1/statuses 422 $J {\"error\":\"Validation failed: Text character limit of 500 exceeded\"}" \
	--rule "POST /busy/api/v1/statuses 429 H:Retry-After=1 $J {\"error\":\"Too many requests\"}" \
	--rule "POST /busy/api/v1/statuses 200 $J {\"id\":\"30900{{n}}\",\"url\":\"https://social.example/@smmd/30900{{n}}\"}" \
	--rule "POST /proc/api/v2/media 202 $J {\"id\":\"p{{n}}\",\"url\":null}" \
	--rule "POST /proc/api/v1/statuses 422 $J {\"error\":\"Cannot attach files that have not finished processing. Try again in a moment!\"}" \
	--rule "POST /proc/api/v1/statuses 200 $J {\"id\":\"40900{{n}}\",\"url\":\"https://social.example/@smmd/40900{{n}}\"}" \
	--rule "POST /tok/api/v1/statuses 401 $J {\"error\":\"The access token is invalid\"}" \
	--rule "POST /media404/api/v1/statuses 200 $J {\"id\":\"1\"}" \
	--rule "POST /media404/api/v2/media 200 $J {\"id\":\"x\"}" \
	--rule "POST /flaky/api/v2/media 200 $J {\"id\":\"fl{{n}}\"}" \
	--rule "POST /flaky/api/v1/statuses 200 $J {\"id\":\"50900{{n}}\",\"url\":\"https://social.example/@smmd/50900{{n}}\"}"
base=http://127.0.0.1:$SINK_PORT
TOKEN=tok-$(openssl rand -hex 16)
(
	umask 077
	printf '%s\n' "$TOKEN" >"$T/token"
	mkdir "$T/media"
	# Bytes a text-only path would mangle: NUL, 0x89, CR LF, 0xff.
	printf '\x89PNG\r\n\x1a\n\x00\x01\xffend' >"$T/media/logo.png"
	printf 'ID3-fake-mp3' >"$T/media/jingle.mp3"
)
chan() {
	local name=$1 path=$2
	shift 2
	printf '  %s:\n    publisher: mastodon\n' "$name"
	printf '    instance: %s/%s/\n    token_file: %s\n' "$base" "$path" "$T/token"
	printf '    retry_base: 100ms\n    retry_max: 1s\n    max_attempts: 4\n'
	printf '    allow_private_media: true\n'
	for kv in "$@"; do
		printf '    %s\n' "$kv"
	done
}
{
	printf 'state_dir: %s/state\nsocket: %s\nchannels:\n' "$T" "$SOCK"
	chan ok ok 'visibility: unlisted' 'language: en'
	chan files files "media_dir: $T/media"
	chan bad bad
	chan busy busy
	chan proc proc
	chan tok tok
	chan media404 media404
	chan flaky flaky
} >"$CFG"
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

# reqs PATH: the requests the sink got on PATH, in arrival order.
reqs() {
	sink_requests | jq -s -c --arg p "$1" '[.[] | select(.path == $p)] | sort_by(.t_us)'
}

# --- ok: fetch, upload twice, post the status.
smmctl add -c ok --id m1 --link 'https://example.com/launch?a=1&b=2' \
	--media "$base/media/a.png" --media "$base/media/b.jpg" \
	'Launch day: "quotes", ünïcödé' >/dev/null
wait_state m1/ok published 20
[ "$(reqs /media/a.png | jq length)" -eq 1 ] || fail "a.png was not fetched once: $(reqs /media/a.png)"
[ "$(reqs /media/b.jpg | jq length)" -eq 1 ] || fail "b.jpg was not fetched once"
jq_true '.[0].method == "GET" and (.[0].headers.authorization == null)' \
	<<<"$(reqs /media/a.png)" ||
	fail "the media fetch is not a GET without the token: $(reqs /media/a.png)"
ups=$(reqs /ok/api/v2/media)
[ "$(jq length <<<"$ups")" -eq 2 ] || fail "expected 2 uploads, got $ups"
for k in 0 1; do
	u=$(jq -c ".[$k]" <<<"$ups")
	ct=$(jq -r '.headers["content-type"]' <<<"$u")
	case $ct in
	"multipart/form-data; boundary="?*) ;;
	*) fail "upload $k has Content-Type '$ct'" ;;
	esac
	boundary=${ct#*boundary=}
	[ "$(jq -r '.headers.authorization' <<<"$u")" = "Bearer $TOKEN" ] ||
		fail "upload $k lacks the Bearer token"
	if [ "$k" = 0 ]; then
		part='Content-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nfake-png-A'
	else
		part='Content-Disposition: form-data; name="file"; filename="b.jpg"\r\nContent-Type: image/jpeg\r\n\r\nfake-jpeg-B'
	fi
	want=$(printf -- "--%s\r\n$part\r\n--%s--\r\n" "$boundary" "$boundary")
	got=$(jq -j '.body' <<<"$u")
	[ "$got" = "$want" ] || fail "upload $k body is $(jq -c .body <<<"$u")"
done
st=$(reqs /ok/api/v1/statuses)
[ "$(jq length <<<"$st")" -eq 1 ] || fail "expected one status post: $st"
s=$(jq -c '.[0]' <<<"$st")
wid=$(delivery_json m1/ok | jq -r .webhook_id)
jq_true --arg t "Bearer $TOKEN" --arg w "$wid" \
	'.headers.authorization == $t and .headers["idempotency-key"] == $w
	 and .headers["content-type"] == "application/json"' <<<"$s" ||
	fail "status headers wrong (webhook_id $wid): $(jq -c '.headers | del(.authorization)' <<<"$s")"
body=$(jq -c '.body | fromjson' <<<"$s") || fail "status body is not JSON: $s"
jq_true '.status == "Launch day: \"quotes\", ünïcödé\n\nhttps://example.com/launch?a=1&b=2"
	and .media_ids == ["m1", "m2"] and .visibility == "unlisted"
	and .language == "en"' <<<"$body" || fail "status body is $body"
d=$(delivery_json m1/ok)
jq_true '.remote_id == "109001" and .remote_url == "https://social.example/@smmd/109001"' \
	<<<"$d" || fail "remote id/url not recorded: $(jq -c '{remote_id, remote_url}' <<<"$d")"
smmctl show m1 | grep -q 'https://social.example/@smmd/109001' ||
	fail "smmctl show does not show the status URL"

# --- files: plain names read from media_dir, bytes intact.
smmctl add -c files --id m2 --media logo.png --media jingle.mp3 'from files' >/dev/null
wait_state m2/files published 20
ups=$(reqs /files/api/v2/media)
[ "$(jq length <<<"$ups")" -eq 2 ] || fail "expected 2 file uploads: $ups"
u=$(jq -c '.[0]' <<<"$ups")
boundary=$(jq -r '.headers["content-type"]' <<<"$u")
boundary=${boundary#*boundary=}
head='Content-Disposition: form-data; name="file"; filename="logo.png"\r\nContent-Type: image/png\r\n\r\n'
want_len=$(($(printf -- "--%s\r\n$head" "$boundary" | wc -c) +
	$(wc -c <"$T/media/logo.png") + $(printf '\r\n--%s--\r\n' "$boundary" | wc -c)))
[ "$(jq -r '.headers["content-length"]' <<<"$u")" = "$want_len" ] ||
	fail "logo.png upload is $(jq -r '.headers["content-length"]' <<<"$u") bytes, expected $want_len"
# The sink logs invalid UTF-8 as U+FFFD and NUL as \u0000: compare so.
jq_true '.body | contains("\u0000\u0001\ufffdend\r\n--")
	and contains("\ufffdPNG\r\n\u001a\n")' <<<"$u" ||
	fail "logo.png bytes changed: $(jq -c .body <<<"$u")"
jq_true '.[1].body | contains("filename=\"jingle.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\nID3-fake-mp3\r\n")' \
	<<<"$ups" || fail "jingle.mp3 upload wrong: $(jq -c '.[1].body' <<<"$ups")"
jq_true '.[0].body | fromjson | .media_ids == ["f1", "f2"]' \
	<<<"$(reqs /files/api/v1/statuses)" || fail "file status lacks the media ids"

# --- bad: 422 fails at once with the error text.
smmctl add -c bad --id m3 'too long' >/dev/null
wait_state m3/bad failed 15
d=$(delivery_json m3/bad)
err=$(jq -r '.last_error' <<<"$d")
case $err in
*422*"Text character limit of 500 exceeded"*) ;;
*) fail "422 error is '$err'" ;;
esac
[ "$(reqs /bad/api/v1/statuses | jq length)" -eq 1 ] || fail "a 422 was retried"

# --- busy: 429 then 200, retried after Retry-After with the same key.
smmctl add -c busy --id m4 'rate limited' >/dev/null
wait_state m4/busy published 20
st=$(reqs /busy/api/v1/statuses)
[ "$(jq length <<<"$st")" -eq 2 ] || fail "expected 429 then 200: $st"
jq_true '.[0].status == 429 and .[1].status == 200
	and .[0].headers["idempotency-key"] == .[1].headers["idempotency-key"]' \
	<<<"$st" || fail "retry did not reuse the Idempotency-Key: $st"
gap_ms=$((($(jq -r '.[1].t_us - .[0].t_us' <<<"$st")) / 1000))
[ "$gap_ms" -ge 900 ] || fail "retry came $gap_ms ms after 'Retry-After: 1'"
[ "$(delivery_json m4/busy | jq -r .remote_id)" = 309002 ] || fail "m4 remote id wrong"

# --- proc: the media is still processing: 422 says so, and it is retried.
smmctl add -c proc --id m5 --media "$base/media/a.png" 'processing' >/dev/null
wait_state m5/proc published 20
[ "$(reqs /proc/api/v1/statuses | jq length)" -eq 2 ] ||
	fail "expected the processing 422 to be retried once"

# --- tok: 401 holds it (never fails it) and says where to look.
smmctl add -c tok --id m6 'bad token' >/dev/null
wait_state m6/tok held 15
err=$(delivery_json m6/tok | jq -r .last_error)
case $err in
*"needs auth"*401*token_file*"The access token is invalid"*) ;;
*) fail "401 error is '$err'" ;;
esac

# --- media 404: failed, nothing uploaded or posted; 503: retried.
smmctl add -c media404 --id m7 --media "$base/media/gone.png" 'gone' >/dev/null
smmctl add -c flaky --id m8 --media "$base/media/flaky.png" 'flaky' >/dev/null
wait_state m7/media404 failed 15
err=$(delivery_json m7/media404 | jq -r .last_error)
case $err in
*"media 1"*404*) ;;
*) fail "media 404 error is '$err'" ;;
esac
[ "$(reqs /media404/api/v2/media | jq length)" -eq 0 ] &&
	[ "$(reqs /media404/api/v1/statuses | jq length)" -eq 0 ] ||
	fail "something was uploaded or posted after a media 404"
wait_state m8/flaky published 20
[ "$(reqs /media/flaky.png | jq length)" -eq 2 ] || fail "the media 503 was not retried once"
jq_true '.[0].body | contains("flaky-png")' <<<"$(reqs /flaky/api/v2/media)" ||
	fail "flaky upload lacks the bytes"

# The token is nowhere but in the requests themselves.
for id in m1 m2 m3 m4 m5 m6 m7 m8; do
	smmctl show "$id" --json
	smmctl show "$id"
done >"$T/shows.out"
smmctl list --json >>"$T/shows.out"
! grep -qF "$TOKEN" "$T/smmd.log" "$T/shows.out" ||
	fail "the token leaked into the log or smmctl output"

stop_smmd
log "ok"
