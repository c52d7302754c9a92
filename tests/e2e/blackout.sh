#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Blackouts: a post due in one is shifted to its end (and reaches the sink
# no earlier) or, with blackout_action: hold, held until released; a
# holiday file with a recurring all-day event shifts a post past it and
# "calendar" shows why; a blackout added by reload moves what is already
# scheduled and removing it puts it back; a calendar post in quiet hours
# is shifted; bad blackouts are errors with their file:line:column.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
now=$(now_ms)
# A mourning period that began an hour ago and ends in 4 s.
end_s=$((now / 1000 + 4))
end_ms=$((end_s * 1000))
from_iso=$(date -u -d "@$((end_s - 3600 - 4))" +%Y-%m-%dT%H:%M:%SZ)
end_iso=$(date -u -d "@$end_s" +%Y-%m-%dT%H:%M:%SZ)
mourning="blackouts: [{dates: \"$from_iso..$end_iso\", reason: national mourning}]"
# A holiday that began today (UTC) and lasts two days, every year since 2020.
today=$(date -u +%m%d)
after=$(date -u -d "+2 days" +%Y-%m-%d)
cat >"$T/holidays.ics" <<ICS
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//smmd tests//EN
BEGIN:VEVENT
UID:founders@test
SUMMARY:Founders Day
DTSTART;VALUE=DATE:2020$today
DTEND;VALUE=DATE:$(date -u -d "2020-${today:0:2}-${today:2:2} +2 days" +%Y%m%d)
RRULE:FREQ=YEARLY
END:VEVENT
END:VCALENDAR
ICS
write_config shop held,blackout_action=hold fest,timezone=UTC plain,timezone=UTC
sed -i "/\/hook\/shop$/a\\    $mourning" "$CFG"
sed -i "/\/hook\/held$/a\\    $mourning" "$CFG"
sed -i "/\/hook\/fest$/a\\    holidays: $T/holidays.ics" "$CFG"
start_smmd

# Shift: the reply says where it goes; it arrives no earlier.
run smmctl add -c shop --id mourn "during the mourning"
[ "$rc" -eq 0 ] || fail "add: $err"
grep -q "shop: in a blackout: goes at $(ms_to_iso "$end_ms")" <<<"$err" ||
	fail "add into the blackout said: $err"
grep -q "national mourning" <<<"$err" || fail "add did not say why: $err"
# Hold: the reply says so; held when due, with the reason.
run smmctl add -c held --id hold "held by the mourning"
grep -q "held: in a blackout: it will be held when due" <<<"$err" ||
	fail "add into a holding blackout said: $err"
wait_state hold/held held 5
delivery_json hold/held | jq -r .last_error | grep -q "national mourning" ||
	fail "held without its reason: $(delivery_json hold/held)"
wait_arrivals mourn 1 15
t_us=$(sink_posts_for mourn | jq '.[0].t_us')
[ "$t_us" -ge $((end_ms * 1000)) ] ||
	fail "the shifted post arrived at $t_us us, before the blackout's end $end_ms ms"
log "shifted post arrived $(((t_us / 1000) - end_ms)) ms after the blackout ended"
# A held one stays held past the blackout, until someone releases it.
settle plain
[ "$(delivery_state hold/held)" = held ] ||
	fail "hold/held is $(delivery_state hold/held) after the blackout"
[ "$(sink_count hold)" -eq 0 ] || fail "the held post was sent"
run smmctl release hold/held
[ "$rc" -eq 0 ] || fail "release: $err"
wait_arrivals hold 1 10

# A holiday from an .ics file: past its last day, midnight UTC.
run smmctl add -c fest --id fest --at +1m "on the holiday"
grep -q "fest: in a blackout: goes at ${after}T00:00:00.000Z" <<<"$err" ||
	fail "add on the holiday said: $err"
grep -q "holiday 'Founders Day'" <<<"$err" || fail "no holiday name: $err"
TZ=UTC smmctl calendar --from now --to +4d >"$T/cal.txt"
grep -q "goes $(TZ=UTC date -d "$after" '+%a %d %b') 00:00: holiday 'Founders Day'" "$T/cal.txt" ||
	fail "calendar does not show the shift: $(cat "$T/cal.txt")"
# The same agenda as a team in Tokyo sees it: 00:00 UTC is 09:00 there.
smmctl calendar --tz Asia/Tokyo --from now --to +4d >"$T/cal-tokyo.txt"
grep -q "goes $(TZ=UTC date -d "$after" '+%a %d %b') 09:00: holiday 'Founders Day'" "$T/cal-tokyo.txt" ||
	fail "calendar --tz Asia/Tokyo: $(cat "$T/cal-tokyo.txt")"
run smmctl calendar --tz Mars/Olympus
[ "$rc" -eq 64 ] && grep -q "unknown time zone 'Mars/Olympus'" <<<"$err" ||
	fail "calendar --tz Mars/Olympus: $rc $err"

# Reload: a new quiet window moves what is scheduled; removing it, back.
due=$(date -u -d "+3 hours" +%s)000
smmctl add -c plain --id later --at "$(ms_to_iso "$due")" "later today" >/dev/null
q_from=$(date -u -d "@$((due / 1000 - 1800))" +%H:%M)
q_to=$(date -u -d "@$((due / 1000 + 1800))" +%H:%M)
q_end=$(date -u -d "@$((due / 1000 + 1800))" +%Y-%m-%dT%H:%M:00.000Z)
sed -i "/\/hook\/plain$/a\\    quiet: [\"daily $q_from-$q_to\"]" "$CFG"
run smmctl reload
[ "$rc" -eq 0 ] || fail "reload: $err"
[ "$(delivery_json later/plain | jq -r .next_attempt)" = "$q_end" ] ||
	fail "reload did not shift later/plain to $q_end: $(delivery_json later/plain)"
[ "$(delivery_json later/plain | jq -r .due)" = "$(ms_to_iso "$due")" ] ||
	fail "the shift changed the due time: $(delivery_json later/plain)"
grep -q "blackouts: 1 scheduled delivery moved" "$T/smmd.log" ||
	fail "the reload's move was not logged"
sed -i '/quiet: \["daily/d' "$CFG"
run smmctl reload
[ "$rc" -eq 0 ] || fail "reload: $err"
[ "$(delivery_json later/plain | jq -r .next_attempt)" = "$(ms_to_iso "$due")" ] ||
	fail "later/plain did not go back to its time: $(delivery_json later/plain)"

# A calendar post in quiet hours is shifted when the calendar is read; a
# campaign's blackout day shifts its own posts and no others.
camp_s=$((due / 1000 + 7200))
camp_day=$(date -u -d "@$camp_s" +%Y-%m-%d)
cat >"$T/calendar.yaml" <<YAML
timezone: UTC
campaigns:
  launch:
    utm_campaign: launch
    blackouts: ["$camp_day"]
posts:
  - id: night
    at: $(date -u -d "@$((due / 1000))" '+%Y-%m-%d %H:%M')
    channels: [plain]
    text: posted at night
  - id: camp
    at: $(date -u -d "@$camp_s" '+%Y-%m-%d %H:%M')
    channels: [plain]
    campaign: launch
    text: the launch, on its day off
  - id: nocamp
    at: $(date -u -d "@$camp_s" '+%Y-%m-%d %H:%M')
    channels: [plain]
    text: the same time, no campaign
YAML
sed -i "/\/hook\/plain$/a\\    quiet: [\"daily $q_from-$q_to\"]" "$CFG"
printf 'calendar: %s\n' "$T/calendar.yaml" >>"$CFG"
run smmctl reload
[ "$rc" -eq 0 ] || fail "reload with a calendar: $err"
[ "$(delivery_json night/plain | jq -r .next_attempt)" = "$q_end" ] ||
	fail "the calendar post was not shifted: $(delivery_json night/plain)"
next_day=$(date -u -d "$camp_day +1 day" +%Y-%m-%d)
# The start of the next day, unless the quiet window (run at 20:30-21:30
# UTC, it spans midnight) holds that too: then the window's end.
camp_next="${next_day}T00:00:00.000Z"
[[ $q_from > $q_to ]] && camp_next="${next_day}T${q_to}:00.000Z"
[ "$(delivery_json camp/plain | jq -r .next_attempt)" = "$camp_next" ] ||
	fail "the campaign's blackout did not shift its post to $camp_next: $(delivery_json camp/plain)"
delivery_json camp/plain | jq -r .last_error | grep -qF "blackout ($camp_day)" ||
	fail "no campaign blackout reason: $(delivery_json camp/plain)"
[ "$(delivery_json nocamp/plain | jq -r .next_attempt)" = null ] ||
	fail "a post outside the campaign moved: $(delivery_json nocamp/plain)"
# --next-slot in a campaign skips the campaign's day off: a daily slot at
# the launch post's hour, asked for from the start of that day.
slot_hh=$(date -u -d "@$camp_s" +%H)
sed -i "/\/hook\/plain$/a\\    slots: [\"daily $slot_hh:00\"]" "$CFG"
run smmctl reload
[ "$rc" -eq 0 ] || fail "reload with slots: $err"
from="${camp_day}T00:00:00Z"
[ "$(iso_to_ms "$from")" -gt "$(now_ms)" ] || from=+1m
smmctl add -c plain --campaign launch --next-slot --at "$from" --id slotted "a launch post in a slot" >/dev/null
[ "$(delivery_json slotted/plain | jq -r .due)" = "${next_day}T$slot_hh:00:00.000Z" ] ||
	fail "--next-slot took a slot on the campaign's day off: $(delivery_json slotted/plain)"

# A bad campaign blackout is a calendar error at its place.
cat >"$T/badcal.yaml" <<YAML
campaigns:
  launch:
    quiet: ["Mon-Fry"]
    blackout_action: later
posts: []
YAML
sed "s|^calendar: .*|calendar: $T/badcal.yaml|" "$CFG" >"$T/badcal-smmd.yaml"
run "$SMMD_BIN" --check-config -c "$T/badcal-smmd.yaml"
[ "$rc" -ne 0 ] || fail "a bad campaign blackout was accepted"
grep -qF "badcal.yaml:3:13: 'Mon-Fry' is not quiet hours" <<<"$err" &&
	grep -qF "badcal.yaml:4:22: 'blackout_action' must be shift or hold" <<<"$err" ||
	fail "bad campaign blackouts: $err"

# Bad blackouts: every error at once, each at its place.
cat >"$T/bad.yaml" <<YAML
state_dir: $T/state2
socket: $T/sock2
blackouts: ["2026-13-01", {dates: "2026-12-26..2026-12-24"}]
quiet: ["Mon-Fry 22:00-07:00"]
blackout_action: later
channels:
  a:
    publisher: webhook
    url: http://127.0.0.1:9/hook
    holidays: $T/missing.ics
YAML
run "$SMMD_BIN" --check-config -c "$T/bad.yaml"
[ "$rc" -ne 0 ] || fail "bad blackouts accepted"
for want in "bad.yaml:3:13: '2026-13-01'" "bad.yaml:3:35: '2026-12-26..2026-12-24' ends before it begins" \
	"bad.yaml:4:9: 'Mon-Fry 22:00-07:00' is not quiet hours" \
	"bad.yaml:5:18: 'blackout_action' must be shift or hold" \
	"bad.yaml:10:15: cannot read $T/missing.ics"; do
	grep -qF "$want" <<<"$err" || fail "no '$want' in: $err"
done
