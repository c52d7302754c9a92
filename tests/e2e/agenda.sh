#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# shellcheck disable=SC2016 # jq programs are single-quoted on purpose
# The agenda: smmctl calendar groups deliveries by day in the user's time
# zone and fits 80 columns; --channel and the bounds filter; --json is
# smmd's reply; smmctl export --ics is one VEVENT per delivery that libical
# reads back.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ICS_DUMP=$SMM_TOP_BUILDDIR/tests/e2e/ics-dump
[ -x "$ICS_DUMP" ] || skip "$ICS_DUMP is not built"
[ -e /usr/share/zoneinfo/Europe/Madrid ] || skip "no tz database"
# Madrid is UTC+1 (+2 in summer): 00:15 there is the previous day in UTC.
export TZ=Europe/Madrid
LONG=news-and-announcements-channel

start_sink
write_config demo shop "$LONG"
start_smmd

# Days counted from one "today", read before anything is queued.
today=$(date +%F)
day() { date -d "$today + $1 day" +%F; }
header() { date -d "$1" '+%a %-d %b %Y'; }
d1=$(day 1) d2=$(day 2) d3=$(day 3)

smmctl add -c demo --id now1 "Published right away" >/dev/null
wait_state now1/demo published 15
smmctl add -c demo --id a1 --at "$d1 09:30" "Morning post on day one" >/dev/null
smmctl add -c shop --id a2 --at "$d1 23:30" "Late on day one in Madrid" >/dev/null
smmctl add -c demo -c shop --id a3 --at "$d2 00:15" \
	"Just after midnight: day two in Madrid, day one in UTC" >/dev/null
smmctl add -c "$LONG" --id a4 --at "$d3 12:00" \
	"Café crème brûlée: ünïcödé text that is far too long for what is left of eighty columns" \
	>/dev/null
printf 'Commas, semicolons; a \\ backslash\nand a second line\n' |
	smmctl add -c demo --id a5 --at "$d3 18:00" --link "https://shop.example/x?a=1,b=2" - \
		>/dev/null
smmctl add -c demo --id gone --at "$d2 10:00" "Withdrawn" >/dev/null
smmctl cancel gone >/dev/null

# --- calendar, for a person -------------------------------------------------
run smmctl calendar --from "$today"
[ "$rc" -eq 0 ] || fail "calendar exited $rc: $(cat "$T/err")"
cp "$T/out" "$T/calendar.txt"
log "calendar:"$'\n'"$(cat "$T/calendar.txt")"

# Every line fits 80 columns (code points: the texts are one column each)
# and stays valid UTF-8 where a long text was cut.
while IFS= read -r line; do
	w=$(printf "%s\n" "$line" | jq -Rr length)
	[ "$w" -le 80 ] || fail "a calendar line is $w columns wide: '$line'"
done <"$T/calendar.txt"
iconv -f UTF-8 -t UTF-8 "$T/calendar.txt" >/dev/null ||
	fail "calendar output is not valid UTF-8"
grep -q 'Café crème.*\.\.\.$' "$T/calendar.txt" ||
	fail "the long text was not cut with '...'"
grep -q '^  12:00  scheduled   news-and-announce\.\.\.  Café' "$T/calendar.txt" ||
	fail "the long channel name was not cut to 20 columns"

# One header per local day, in order, and each delivery under its day.
expected_headers=$(printf '%s\n' "$(header "$today")" "$(header "$d1")" \
	"$(header "$d2")" "$(header "$d3")")
headers=$(grep -v '^  ' "$T/calendar.txt" | grep -v '^$')
[ "$headers" = "$expected_headers" ] ||
	fail "day headers: got"$'\n'"$headers"$'\n'"expected"$'\n'"$expected_headers"
# "DAY|HH:MM|STATE|CHANNEL|TEXT-START" for each delivery line.
awk '/^[^ ]/ { day = $0; next }
	/^  / { print day "|" $1 "|" $2 "|" $3 "|" $4 }' "$T/calendar.txt" \
	>"$T/rows"
want() {
	grep -qxF "$1" "$T/rows" || fail "calendar lacks '$1'; rows:"$'\n'"$(cat "$T/rows")"
}
want "$(header "$today")|$(date -d @"$(($(iso_to_ms "$(delivery_json now1/demo |
	jq -r .due)") / 1000))" +%H:%M)|published|demo|Published"
want "$(header "$d1")|09:30|scheduled|demo|Morning"
want "$(header "$d1")|23:30|scheduled|shop|Late"
want "$(header "$d2")|00:15|scheduled|demo|Just"
want "$(header "$d2")|00:15|scheduled|shop|Just"
want "$(header "$d3")|18:00|scheduled|demo|Commas,"
[ "$(wc -l <"$T/rows")" -eq 7 ] || fail "expected 7 deliveries, got: $(cat "$T/rows")"
if grep -q Withdrawn "$T/calendar.txt"; then
	fail "a cancelled delivery is in the calendar"
fi
run smmctl calendar --from "$today" --cancelled
grep -q '^  10:00  cancelled   demo  *Withdrawn$' "$T/out" ||
	fail "--cancelled does not show the cancelled delivery: $(cat "$T/out")"

# Bare dates are local midnights, and --to is excluded: day two only.
run smmctl calendar --from "$d2" --to "$d3"
[ "$rc" -eq 0 ] || fail "calendar --from --to exited $rc: $(cat "$T/err")"
{ [ "$(grep -c '^  ' "$T/out")" -eq 2 ] && grep -qxF "$(header "$d2")" "$T/out"; } ||
	fail "--from $d2 --to $d3: $(cat "$T/out")"

# The default range starts now: what was published before is not in it.
run smmctl calendar
if grep -q Published "$T/out"; then
	fail "the default range shows the past: $(cat "$T/out")"
fi
grep -q Morning "$T/out" || fail "the default range misses tomorrow: $(cat "$T/out")"

# --channel filters; an unknown channel is an error naming the known ones.
run smmctl calendar --from "$today" --channel shop
[ "$(grep -c '^  ' "$T/out")" -eq 2 ] || fail "--channel shop: $(cat "$T/out")"
if grep '^  ' "$T/out" | grep -qv '  shop  '; then
	fail "--channel shop shows another channel: $(cat "$T/out")"
fi
run smmctl calendar --channel nosuch
{ [ "$rc" -eq 65 ] && grep -q "unknown channel 'nosuch'.*demo" "$T/err"; } ||
	fail "calendar --channel nosuch: exit $rc, $(cat "$T/err")"

# Bad bounds are refused before anything is asked.
run smmctl calendar --from "tomorrow-ish"
[ "$rc" -eq 65 ] || fail "a bad --from exited $rc"
run smmctl calendar --from "$(day 0)-31"
[ "$rc" -eq 65 ] || fail "a malformed date exited $rc"
run smmctl calendar --from 2026-02-30
{ [ "$rc" -eq 65 ] && grep -q "no such date" "$T/err"; } ||
	fail "2026-02-30 was accepted ($rc): $(cat "$T/err")"
run smmctl calendar --from "$d2" --to "$d1"
{ [ "$rc" -eq 65 ] && grep -q "must come after" "$T/err"; } ||
	fail "--to before --from: exit $rc, $(cat "$T/err")"

# --- calendar --json, for a script ------------------------------------------
smmctl calendar --from "$today" --json >"$T/cal.json" || fail "calendar --json failed"
jq_true '.deliveries | length == 7' <"$T/cal.json" ||
	fail "calendar --json: $(cat "$T/cal.json")"
jq_true '[.deliveries[].id] == ["now1/demo", "a1/demo", "a2/shop",
	"a3/demo", "a3/shop", "a4/'"$LONG"'", "a5/demo"]' <"$T/cal.json" ||
	fail "calendar --json order: $(jq -c '[.deliveries[].id]' <"$T/cal.json")"
jq_true 'all(.deliveries[]; has("post") and has("channel") and has("state")
	and has("due") and has("text") and has("remote_url"))
	and (.from | type == "string") and (.to | type == "string")
	and .truncated == false' <"$T/cal.json" ||
	fail "calendar --json fields: $(cat "$T/cal.json")"
[ "$(jq -r '.deliveries[] | select(.id == "a3/demo") | .due' <"$T/cal.json")" = \
	"$(date -u -d @"$(date -d "$d2 00:15" +%s)" +%Y-%m-%dT%H:%M:%S.000Z)" ] ||
	fail "a3's due time is not $d2 00:15 in Madrid"

# --- export --ics -------------------------------------------------------------
run smmctl export --ics --from "$today"
[ "$rc" -eq 0 ] || fail "export --ics exited $rc: $(cat "$T/err")"
cp "$T/out" "$T/cal.ics"
head -c 17 "$T/cal.ics" | grep -q '^BEGIN:VCALENDAR' ||
	fail "export does not start with BEGIN:VCALENDAR"
[ "$(grep -c '^BEGIN:VEVENT' "$T/cal.ics")" -eq 7 ] ||
	fail "expected 7 VEVENTs, got $(grep -c '^BEGIN:VEVENT' "$T/cal.ics")"
"$ICS_DUMP" <"$T/cal.ics" >"$T/events" 2>"$T/dump.err" ||
	fail "libical refuses the export: $(cat "$T/dump.err")"
[ "$(wc -l <"$T/events")" -eq 7 ] || fail "libical read $(wc -l <"$T/events") events"
jq -s -e --arg long "$LONG" '[.[].uid] | sort == (["now1/demo", "a1/demo",
	"a2/shop", "a3/demo", "a3/shop", "a4/" + $long, "a5/demo"]
	| map(. + "@smmd") | sort)' <"$T/events" >/dev/null ||
	fail "UIDs: $(jq -c .uid <"$T/events")"
ev() { jq -c --arg uid "$1@smmd" 'select(.uid == $uid)' <"$T/events"; }
jq_true '.summary == "[published] demo: Published right away"
	and .status == "CONFIRMED" and .utc' <<<"$(ev now1/demo)" ||
	fail "now1: $(ev now1/demo)"
jq_true --argjson t "$(date -d "$d2 00:15" +%s)" \
	'.start == $t and .summary == "[scheduled] shop: Just after midnight: day two in Madrid, day one in UTC"
	and .status == "TENTATIVE" and .categories == "shop"' <<<"$(ev a3/shop)" ||
	fail "a3/shop: $(ev a3/shop)"
jq_true '.description == "Commas, semicolons; a \\ backslash\nand a second line\n\nLink: https://shop.example/x?a=1,b=2\n\nDelivery: a5/demo"' \
	<<<"$(ev a5/demo)" || fail "a5's description did not round-trip: $(ev a5/demo)"
# The UID is the delivery's: a second export names the same events.
smmctl export --ics --from "$today" | grep '^UID:' >"$T/uids2"
[ "$(grep '^UID:' "$T/cal.ics")" = "$(cat "$T/uids2")" ] || fail "UIDs changed between exports"

run smmctl export --ics --from "$today" --channel shop
[ "$(grep -c '^BEGIN:VEVENT' "$T/out")" -eq 2 ] ||
	fail "export --channel shop: $(grep -c '^BEGIN:VEVENT' "$T/out") events"
run smmctl export --from "$today"
[ "$rc" -eq 64 ] || fail "export without --ics exited $rc"
run smmctl export --ics --json
[ "$rc" -eq 64 ] || fail "export --json exited $rc"

# Both commands are in the help.
run smmctl --help
{ grep -q '^  smmctl calendar ' "$T/out" && grep -q '^  smmctl export ' "$T/out"; } ||
	fail "smmctl --help does not list calendar and export"

stop_smmd
log "ok"
