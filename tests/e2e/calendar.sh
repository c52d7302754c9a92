#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The calendar drives smmd: an edit under a running smmd takes effect
# without a restart (added, updated, cancelled); a broken edit leaves the
# schedule running and 'smmctl reload' lists the errors; a published post
# still in the file is never posted again, across reloads and restarts;
# ad-hoc posts are never touched by the calendar.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
CAL=$T/calendar.yaml
write_config -g "calendar: $CAL" demo other

# at SECONDS: an instant that many seconds from now, as ISO 8601 UTC.
at() {
	date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ
}
soon=$(at 2)
later=$(at 3600)
cat >"$CAL" <<YAML
timezone: Europe/Madrid
posts:
  - id: now-post
    at: $soon
    channels: [demo]
    text: goes out at once
  - id: keep
    at: $later
    channels: [demo]
    text: stays as it is
  - id: change
    at: $later
    channels: [demo, other]
    text: old words
  - id: drop
    at: $later
    channels: [other]
    text: about to be removed
YAML
start_smmd
smmctl add -c demo --at +1h --id adhoc "not the calendar's" >/dev/null
wait_state now-post/demo published 15
[ "$(delivery_state keep/demo)" = scheduled ] || fail "keep/demo not scheduled"
[ "$(delivery_state change/other)" = scheduled ] || fail "change/other not scheduled"

# An edit under the running smmd: one changed, one removed, one added.
# Written to a temporary file and renamed over, as editors do.
cat >"$CAL.new" <<YAML
timezone: Europe/Madrid
posts:
  - id: now-post
    at: $soon
    channels: [demo]
    text: goes out at once
  - id: keep
    at: $later
    channels: [demo]
    text: stays as it is
  - id: change
    at: $later
    channels: [demo, other]
    text: new words
  - id: new
    at: $later
    channels: [other]
    text: just added
YAML
mv "$CAL.new" "$CAL"
wait_for "[ \"\$(delivery_state drop/other)\" = cancelled ]" 10 ||
	fail "the watched edit did not cancel drop/other"
wait_for "[ \"\$(delivery_state new/other)\" = scheduled ]" 10 ||
	fail "the watched edit did not add new/other"
text=$(show_json change | jq -r '.deliveries[] | select(.channel == "demo") | .text')
[ "$text" = "new words" ] || fail "change/demo still says '$text'"
[ "$(delivery_state adhoc/demo)" = scheduled ] || fail "the calendar touched an ad-hoc post"

# A broken edit: nothing changes, and reload lists every error with its place.
sleep 0.5
cat >"$CAL" <<YAML
timezone: Europe/Madrid
posts:
  - id: keep
    at: $later
    channels: [demo, nowhere]
    text: stays as it is
    colour: blue
YAML
if smmctl reload >"$T/reload.out" 2>"$T/reload.err"; then
	fail "reload of a broken calendar succeeded"
fi
grep -q "$CAL:5:" "$T/reload.err" || fail "no error for the unknown channel: $(cat "$T/reload.err")"
grep -q "$CAL:7:" "$T/reload.err" || fail "no error for the unknown key: $(cat "$T/reload.err")"
[ "$(delivery_state new/other)" = scheduled ] || fail "a broken calendar changed the schedule"
[ "$(delivery_state change/other)" = scheduled ] || fail "a broken calendar cancelled change/other"

# Fixed again, and across a restart: the published post is not sent twice.
cat >"$CAL" <<YAML
timezone: Europe/Madrid
posts:
  - id: now-post
    at: $soon
    channels: [demo]
    text: goes out at once
  - id: keep
    at: $later
    channels: [demo]
    text: stays as it is
YAML
applies() { grep -c "reload: calendar" "$T/smmd.log" || true; }
before=$(applies)
smmctl reload >"$T/reload.out" || fail "reload failed: $(cat "$T/reload.out")"
grep -q "unchanged" "$T/reload.out" || fail "reload printed no summary"
# The watch saw the same save: it must not parse the files a second time
# (debounce 300 ms; give it ample time to do so if it were going to).
sleep 1.5
[ "$(applies)" -eq $((before + 1)) ] ||
	fail "the calendar was applied $(($(applies) - before)) times for one save"
stop_smmd
start_smmd
smmctl reload >/dev/null
settle demo +1s
[ "$(sink_count now-post)" -eq 1 ] ||
	fail "now-post reached the sink $(sink_count now-post) times"
[ "$(delivery_state new/other)" = cancelled ] || fail "new/other should be cancelled"
stop_smmd
log "ok"
