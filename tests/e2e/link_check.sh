#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# smmctl add --link and --media and a calendar's link obey one URL rule:
# "http://" with no host is refused on every path, with a message that
# says why.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
CAL=$T/calendar.yaml
printf 'posts: []\n' >"$CAL"
write_config -g "calendar: $CAL" demo
start_smmd

# A link that is only a scheme: refused, nothing stored.
for link in http:// https:// 'http://exa mple.org/' ftp://example.org/ \
	HTTPS://example.org/; do
	run smmctl add -c demo --id bad --at +1h --link "$link" "a post"
	[ "$rc" -ne 0 ] || fail "add --link '$link' was accepted"
	case $err in
	*"'link' must be an http or https URL"*) ;;
	*) fail "add --link '$link': unclear refusal: $err" ;;
	esac
	log "add --link '$link' -> exit $rc: $err"
done
run smmctl show bad
[ "$rc" -ne 0 ] || fail "a refused add stored post 'bad': $out"

# The same for --media: an http(s) URL must be one, a name a file name.
for media in http:// 'https://exa mple.org/x.png'; do
	run smmctl add -c demo --id badm --at +1h --media "$media" "a post"
	[ "$rc" -ne 0 ] || fail "add --media '$media' was accepted"
	case $err in
	*"'media' entries must be http or https URLs"*) ;;
	*) fail "add --media '$media': unclear refusal: $err" ;;
	esac
	log "add --media '$media' -> exit $rc: $err"
done
run smmctl add -c demo --id goodm --at +1h --media https://example.org/x.png "a post"
[ "$rc" -eq 0 ] || fail "add --media https://example.org/x.png failed: $err"

# A real URL still goes through.
run smmctl add -c demo --id good --at +1h --link https://example.org/a "a post"
[ "$rc" -eq 0 ] || fail "add --link https://example.org/a failed: $err"
[ "$(delivery_state good/demo)" = scheduled ] || fail "good/demo is not scheduled"

# The calendar refuses the same link.
cat >"$CAL" <<YAML
timezone: UTC
posts:
  - id: cal-bad
    at: 2099-01-01 09:00
    channels: [demo]
    text: a post
    link: "http://"
YAML
run smmctl reload
[ "$rc" -ne 0 ] || fail "reload of a calendar with link 'http://' succeeded"
case $err in
*"$CAL:7:"*"link 'http://' is not an http or https URL"*) ;;
*) fail "the calendar's refusal of 'http://' is unclear: $err" ;;
esac
log "calendar link 'http://' -> $err"

stop_smmd
log "ok"
