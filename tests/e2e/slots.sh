#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Posting slots: fifty concurrent "add --next-slot" get fifty different
# slots, each a slot of the channel in its zone (Europe/Madrid, whatever
# the machine's); a post on two channels takes an instant that is a slot
# of both and free on both; "queue" shows them taken and free; removing a
# slot moves no post already placed; a channel without slots, a bad slot
# and an unknown zone are clear errors.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
write_config shop blog plain
# slots and timezone per channel, after write_config's keys.
sed -i '/\/hook\/shop$/a\    timezone: Europe/Madrid\n    slots: ["Mon-Fri 09:00", "Tue,Thu 13:30", "Sat 11:00"]' "$CFG"
sed -i '/\/hook\/blog$/a\    timezone: Europe/Madrid\n    slots: ["Mon-Fri 09:00"]' "$CFG"
start_smmd

# The local wall time and weekday of an instant in Madrid: "Tue 13:30".
madrid() {
	TZ=Europe/Madrid date -d "$1" '+%a %H:%M'
}

for i in $(seq 1 50); do
	smmctl add -c shop --next-slot --id "s$i" "slot post $i" \
		>"$T/add$i.out" 2>&1 &
done
wait_for '[ "$(cat "$T"/add*.out | grep -c "^s[0-9]*$")" -eq 50 ]' 20 ||
	fail "not every add answered: $(cat "$T"/add*.out | grep -v '^s[0-9]*$' | head -n 3)"
list_json >"$T/list.json"
dues=$(jq -r '.[] | select(.channel == "shop") | .due' "$T/list.json")
[ "$(sort <<<"$dues" | uniq | wc -l)" -eq 50 ] ||
	fail "fifty adds got $(sort <<<"$dues" | uniq | wc -l) different slots"
while read -r due; do
	case $(madrid "$due") in
	Mon\ 09:00 | Tue\ 09:00 | Wed\ 09:00 | Thu\ 09:00 | Fri\ 09:00) ;;
	Tue\ 13:30 | Thu\ 13:30 | Sat\ 11:00) ;;
	*) fail "$due is $(madrid "$due") in Madrid: not a slot of shop" ;;
	esac
done <<<"$dues"
# They took the first fifty: no free slot before the last taken one.
smmctl queue shop --weeks 20 --json >"$T/queue.json"
jq_true '(.slots | map(.taken_by != null) | index(false)) as $free
	| [.slots[] | select(.taken_by != null)] | length == 50
	and ($free == 50)' <"$T/queue.json" ||
	fail "queue: $(jq -c '[.slots[:52][] | .taken_by != null]' "$T/queue.json")"
jq_true '.timezone == "Europe/Madrid" and .slots[0].slot != null' <"$T/queue.json" ||
	fail "queue: $(jq -c '{timezone, first: .slots[0]}' "$T/queue.json")"
smmctl queue shop | grep -Eq '^  [0-9-]+ [0-9:]+  (Mon-Fri 09:00|Tue,Thu 13:30|Sat 11:00) +s[0-9]+/shop$' ||
	fail "queue lines: $(smmctl queue shop | head -n 3)"

# Two channels: a slot of both (Mon-Fri 09:00), free on both.
both=$(smmctl add -c shop -c blog --next-slot --id both "on both")
due=$(delivery_json both/blog | jq -r .due)
[ "$(delivery_json both/shop | jq -r .due)" = "$due" ] ||
	fail "one post, two due times"
[[ $(madrid "$due") == @(Mon|Tue|Wed|Thu|Fri)\ 09:00 ]] ||
	fail "both went to $(madrid "$due"), not a 09:00 weekday"
grep -qx "$due" <<<"$dues" &&
	fail "both took a slot shop had given already: $due"
log "fifty slots from $(sort <<<"$dues" | head -n 1) to $(sort <<<"$dues" | tail -n 1); both at $due"

# Removing a slot moves nothing already placed.
sat=$(jq -r '[.slots[] | select(.slot == "Sat 11:00" and .taken_by)][0].taken_by' "$T/queue.json")
[ "$sat" != null ] || fail "no Saturday slot was taken"
before=$(delivery_json "$sat" | jq -r .due)
sed -i 's/, "Sat 11:00"\]/]/' "$CFG"
run smmctl reload
[ "$rc" -eq 0 ] || fail "reload: $err"
[ "$(delivery_json "$sat" | jq -r .due)" = "$before" ] ||
	fail "$sat moved from $before when its slot was removed"
smmctl queue shop --weeks 20 --json | jq_true '[.slots[] | select(.slot | test("Sat"))] == []' ||
	fail "queue still lists Saturday slots"

# The calendar's 'at: next-slot': placed at the first free slot when
# first read, then kept there, through an edit of its text too.
CAL=$T/calendar.yaml
cat >"$CAL" <<'YAML'
timezone: Europe/Madrid
posts:
  - id: cal1
    at: next-slot
    channels: [shop]
    text: "From the calendar, into a slot"
  - id: cal2
    at: next-slot
    channels: [shop, blog]
    text: "On both, into a slot"
YAML
sed -i "1i calendar: $CAL" "$CFG"
run smmctl reload
[ "$rc" -eq 0 ] || fail "reload with a next-slot calendar: $err"
cal1=$(delivery_json cal1/shop | jq -r .due)
cal2=$(delivery_json cal2/shop | jq -r .due)
[ "$(delivery_json cal2/blog | jq -r .due)" = "$cal2" ] ||
	fail "cal2 has two due times"
for due in "$cal1" "$cal2"; do
	[ "$due" != null ] || fail "a next-slot calendar post was not placed"
	! grep -qx "$due" <<<"$dues" || fail "$due was taken already"
done
[ "$cal1" != "$cal2" ] || fail "cal1 and cal2 share a slot"
[[ $(madrid "$cal2") == @(Mon|Tue|Wed|Thu|Fri)\ 09:00 ]] ||
	fail "cal2 went to $(madrid "$cal2"), not a 09:00 weekday"
sed -i 's/into a slot"/into a slot, edited"/' "$CAL"
run smmctl reload
[ "$rc" -eq 0 ] || fail "second reload: $err"
[ "$(delivery_json cal1/shop | jq -r .due)" = "$cal1" ] ||
	fail "cal1 moved on an edit: $cal1 -> $(delivery_json cal1/shop | jq -r .due)"
[ "$(smmctl show cal1 --json | jq -r .post.text)" = "From the calendar, into a slot, edited" ] ||
	fail "cal1's edit was not applied"
# A channel added to a placed post joins it at its instant, which the
# stored delivery keeps: the reload's diff, worked out off the loop,
# leaves the post to the loop whole, not the new delivery alone.
sed -i 's/channels: \[shop\]$/channels: [shop, blog]/' "$CAL"
run smmctl reload --json
[ "$rc" -eq 0 ] || fail "reload adding a channel to cal1: $err"
[ "$(jq -r .calendar.added <<<"$out")" = 1 ] ||
	fail "adding a channel to cal1 did not add one delivery: $out"
[ "$(delivery_json cal1/blog | jq -r .due)" = "$cal1" ] ||
	fail "cal1/blog went to $(delivery_json cal1/blog | jq -r .due), not cal1's $cal1"
cp "$CAL" "$T/bad-cal.yaml"
cat >>"$T/bad-cal.yaml" <<'YAML'
  - id: cal3
    at: next-slot
    channels: [plain]
    text: "no slots there"
  - id: cal4
    at: next-slot
    rrule: FREQ=DAILY
    channels: [shop]
    text: "a series"
YAML
sed "s|^calendar: .*|calendar: $T/bad-cal.yaml|" "$CFG" >"$T/bad-cal-cfg.yaml"
run "$SMMD_BIN" --check-config -c "$T/bad-cal-cfg.yaml"
[[ $rc -eq 1 && $err == *"bad-cal.yaml:12:9: 'at: next-slot', but channel 'plain' has no slots"* &&
	$err == *"bad-cal.yaml:16:9: 'at: next-slot' is one post's time: it does not go with 'rrule'"* ]] ||
	fail "next-slot calendar errors: $err"

# Errors: a channel without slots; a bad slot and zone at their place.
run smmctl add -c plain --next-slot "no slots here"
[ "$rc" -eq 65 ] && [[ $err == *"channel 'plain' has no slots"* ]] ||
	fail "next-slot without slots: exit $rc: $err"
cp "$CFG" "$T/bad.yaml"
sed -i 's/"Tue,Thu 13:30"/"Tue,Thu 1:30"/; s|timezone: Europe/Madrid|timezone: Europe/Atlantis|' "$T/bad.yaml"
run "$SMMD_BIN" --check-config -c "$T/bad.yaml"
[ "$rc" -eq 1 ] || fail "a bad slot passed --check-config"
[[ $err == *"bad.yaml:"*": unknown time zone 'Europe/Atlantis'"* &&
	$err == *"bad.yaml:"*": 'Tue,Thu 1:30' is not a slot (DAYS HH:MM"* ]] ||
	fail "unclear errors: $err"
stop_smmd
log "ok"
