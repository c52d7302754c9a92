#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The outbound address guard: a media URL that comes from a post is refused
# when it resolves to a loopback address, whatever its spelling — a literal
# IP, a decimal integer, an IPv4-mapped IPv6 literal, or a name that DNS
# (/etc/hosts) resolves — unless the channel sets allow_private_media. Each
# such delivery fails at once (no retry) with a reason naming the refusal,
# and the sink, which would serve the file, never sees a GET for it. The
# same URL on a channel with allow_private_media: true is fetched.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

getent hosts localhost | grep -q '127\.0\.0\.1' ||
	skip "localhost does not resolve to 127.0.0.1 here"

J=H:Content-Type=application/json
start_sink --log-get \
	--rule "GET /x.png 200 H:Content-Type=image/png fake-png" \
	--rule "POST /api/v2/media 200 $J {\"id\":\"m{{n}}\"}" \
	--rule "POST /api/v1/statuses 200 $J {\"id\":\"{{n}}\",\"url\":\"https://social.example/@s/{{n}}\"}"
(
	umask 077
	printf 'tok-guard\n' >"$T/token"
)
cat >"$CFG" <<EOF
state_dir: $T/state
socket: $SOCK
channels:
  guarded:
    publisher: mastodon
    instance: http://127.0.0.1:$SINK_PORT
    token_file: $T/token
    retry_base: 100ms
    retry_max: 1s
    max_attempts: 5
  trusted:
    publisher: mastodon
    instance: http://127.0.0.1:$SINK_PORT
    token_file: $T/token
    allow_private_media: true
    retry_base: 100ms
    retry_max: 1s
EOF
start_smmd

# The admin's own instance URL is on loopback too: only post-sourced URLs
# are guarded, so a post without media goes out.
smmctl add -c guarded --id g0 'no media' >/dev/null
wait_state g0/guarded published 15

n=0
for url in \
	"http://127.0.0.1:$SINK_PORT/x.png" \
	"http://2130706433:$SINK_PORT/x.png" \
	"http://[::ffff:127.0.0.1]:$SINK_PORT/x.png" \
	"http://localhost:$SINK_PORT/x.png"; do
	n=$((n + 1))
	smmctl add -c guarded --id "g$n" --media "$url" "guarded $n" >/dev/null
done
for i in $(seq 1 "$n"); do
	wait_state "g$i/guarded" failed 15
	d=$(delivery_json "g$i/guarded")
	err=$(jq -r .last_error <<<"$d")
	log "g$i: $err"
	case $err in
	*"refused to connect"*"loopback address"*) ;;
	*) fail "g$i failed with '$err', not the guard's refusal" ;;
	esac
	# Refused means refused: not retried as if the host were down.
	[ "$(jq -r '.attempts | length' <<<"$d")" -eq 1 ] ||
		fail "g$i was tried $(jq -r '.attempts | length' <<<"$d") times"
done
# Media fetches only: the daily audience read goes to the instance's API.
gets=$(sink_requests | jq -s -c '[.[] | select(.method == "GET"
	and (.path | startswith("/api/") | not))]')
[ "$(jq length <<<"$gets")" -eq 0 ] ||
	fail "the sink got a GET from a guarded channel: $gets"
uploads=$(sink_requests | jq -s -c '[.[] | select(.path == "/api/v2/media")]')
[ "$(jq length <<<"$uploads")" -eq 0 ] || fail "something was uploaded: $uploads"

# allow_private_media: the same literal URL is fetched and uploaded.
smmctl add -c trusted --id t1 --media "http://127.0.0.1:$SINK_PORT/x.png" \
	'trusted' >/dev/null
wait_state t1/trusted published 15
[ "$(sink_requests | jq -s '[.[] | select(.path == "/x.png")] | length')" -eq 1 ] ||
	fail "the trusted channel did not fetch its media once"

stop_smmd
log "ok"
