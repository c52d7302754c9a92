#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Cadence: a channel's (smmd.yaml) and a campaign's (calendar) planned
# rhythm, checked over the four weeks from this one in Madrid time. The
# calendar leaves this week and the next under target, puts one post too
# many in the week after (on the channel and in the campaign), six days
# between two posts (over twice 3/week's 2d8h), and two posts 2 h apart
# under a min_gap of 4h; two posts added with smmctl make the last week
# one too many and one more pair too close. smmd --check-config (the
# calendar alone) and smmctl plan check (the store, both kinds of posts)
# print each warning at its file:line:column, exactly; warnings fail
# nothing (exit 0, a reload goes through); bad values are errors at their
# place.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

export TZ=UTC
# Not across a Monday midnight in Madrid: the weeks would move under us.
if [ "$(TZ=Europe/Madrid date +%u%H%M)" -ge 72358 ]; then
	sleep 130
fi

# The Monday of this week in Madrid, and of the three after it.
dow=$(TZ=Europe/Madrid date +%u)
W0=$(TZ=Europe/Madrid date -d "-$((dow - 1)) days" +%F)
W1=$(date -d "$W0 + 7 days" +%F)
W2=$(date -d "$W0 + 14 days" +%F)
W3=$(date -d "$W0 + 21 days" +%F)
# day WEEK N: the date N days after that Monday.
day() {
	date -d "$1 + $2 days" +%F
}
# madrid_s "DATE HH:MM": its instant, in seconds.
madrid_s() {
	TZ=Europe/Madrid date -d "$1" +%s
}
# A duration as smmd writes it: 6d, 5d23h, 2h.
dur() {
	local s=$1 out=
	[ $((s / 86400)) -eq 0 ] || out=$((s / 86400))d
	[ $((s % 86400 / 3600)) -eq 0 ] || out=$out$((s % 86400 / 3600))h
	[ $((s % 3600 / 60)) -eq 0 ] || out=$out$((s % 3600 / 60))m
	printf '%s' "$out"
}

CAL=$T/calendar.yaml
cat >"$CAL" <<YAML
timezone: Europe/Madrid
campaigns:
  tips: {cadence: 1/week, utm_campaign: tips}
posts:
  - id: a1
    at: $(day "$W1" 1) 10:00
    channels: [shop]
    text: a1
  - id: b1
    at: $W2 10:00
    channels: [shop, blog]
    text: b1
    campaign: tips
  - id: b2
    at: $(day "$W2" 1) 10:00
    channels: [shop]
    text: b2
    campaign: tips
  - id: b3
    at: $(day "$W2" 2) 10:00
    channels: [shop]
    text: b3
  - id: b4
    at: $(day "$W2" 3) 10:00
    channels: [shop]
    text: b4
  - id: c1
    at: $W3 10:00
    channels: [shop]
    text: c1
    campaign: tips
  - id: c2
    at: $W3 12:00
    channels: [shop]
    text: c2
YAML

start_sink
write_config -g "calendar: $CAL" shop blog
sed -i '/\/hook\/shop$/a\    timezone: Europe/Madrid\n    cadence: 3/week\n    min_gap: 4h' "$CFG"
DECL="$CFG:$(grep -n 'cadence: 3/week' "$CFG" | cut -d: -f1):14"
CAMP="$CAL:3:19"
gap=$(dur $(($(madrid_s "$W2 10:00") - $(madrid_s "$(day "$W1" 1) 10:00"))))

# The warnings both give, in their order.
under() { # PLACE WHO N WEEK TARGET
	local n="$3 posts"
	[ "$3" != 0 ] || n="no posts"
	[ "$3" != 1 ] || n="1 post"
	echo "$1: warning: $2: $n in the week of Mon $4, under its cadence of $5"
}
SHOP_W0=$(under "$DECL" "channel 'shop'" 0 "$W0" 3/week)
SHOP_W1=$(under "$DECL" "channel 'shop'" 1 "$W1" 3/week)
SHOP_W2="$CAL:23:5: warning: channel 'shop': 4 posts in the week of Mon $W2, over its cadence of 3/week from 'b4' (Thu $(day "$W2" 3) 10:00) on"
SHOP_GAP="$CAL:9:5: warning: channel 'shop': $gap without a post from 'a1' (Tue $(day "$W1" 1) 10:00) to 'b1' (Mon $W2 10:00), more than twice the 2d8h its cadence of 3/week plans between posts"
SHOP_C2="$CAL:32:5: warning: channel 'shop': 'c2' (Mon $W3 12:00) comes 2h after 'c1', closer than its min_gap of 4h"
TIPS_W0=$(under "$CAMP" "campaign 'tips'" 0 "$W0" 1/week)
TIPS_W1=$(under "$CAMP" "campaign 'tips'" 0 "$W1" 1/week)
TIPS_W2="$CAL:14:5: warning: campaign 'tips': 2 posts in the week of Mon $W2, over its cadence of 1/week from 'b2' (Tue $(day "$W2" 1) 10:00) on"

# --check-config: the calendar alone, so the last week is under target.
run "$SMMD_BIN" --check-config -c "$CFG"
[ "$rc" -eq 0 ] || fail "--check-config with warnings exited $rc: $err"
[[ $out == *"$CAL: valid (7 posts)"* ]] || fail "--check-config: $out"
want=$(printf '%s\n' "$SHOP_W0" "$SHOP_W1" "$SHOP_W2" "$SHOP_GAP" \
	"$(under "$DECL" "channel 'shop'" 2 "$W3" 3/week)" "$SHOP_C2" \
	"$TIPS_W0" "$TIPS_W1" "$TIPS_W2")
diff -u <(echo "$want") "$T/err" >&2 || fail "--check-config's warnings differ"

# plan check: the store, with two posts added by hand in the last week.
start_smmd
run smmctl reload
[ "$rc" -eq 0 ] || fail "a reload with cadence warnings exited $rc: $err"
smmctl add -c shop --id x1 --at "$(date -u -d "@$(madrid_s "$W3 13:00")" +%FT%TZ)" x1 >/dev/null
smmctl add -c shop --id x2 --at "$(date -u -d "@$(madrid_s "$(day "$W3" 2) 10:00")" +%FT%TZ)" x2 >/dev/null
run smmctl plan check
[ "$rc" -eq 0 ] || fail "plan check exited $rc: $err"
want=$(printf '%s\n' "$SHOP_W0" "$SHOP_W1" "$SHOP_W2" "$SHOP_GAP" \
	"$DECL: warning: channel 'shop': 4 posts in the week of Mon $W3, over its cadence of 3/week from 'x2' (Wed $(day "$W3" 2) 10:00) on" \
	"$SHOP_C2" \
	"$CAL:32:5: warning: channel 'shop': 'x1' (Mon $W3 13:00) comes 1h after 'c2', closer than its min_gap of 4h" \
	"$TIPS_W0" "$TIPS_W1" "$TIPS_W2" \
	"plan check: 10 warnings over 4 weeks (1 channel, 1 campaign)")
diff -u <(echo "$want") "$T/out" >&2 || fail "plan check's warnings differ"
log "$(tail -n 1 "$T/out")"

# --json: an object per finding, with its week, count and place.
smmctl plan check --json >"$T/plan.json"
jq -c '[.findings[] | [.kind, (.channel // .campaign), .period, .count,
	.target, .post, .previous, .gap, (.file | split("/") | last), .line,
	.column]]' "$T/plan.json" >"$T/got.json"
cfgline=$(grep -n 'cadence: 3/week' "$CFG" | cut -d: -f1)
jq -n -c --arg w0 "$W0" --arg w1 "$W1" --arg w2 "$W2" --arg w3 "$W3" \
	--arg gap "$gap" --argjson l "$cfgline" '[
	["under", "shop", $w0, 0, 3, null, null, null, "smmd.yaml", $l, 14],
	["under", "shop", $w1, 1, 3, null, null, null, "smmd.yaml", $l, 14],
	["over", "shop", $w2, 4, 3, "b4", null, null, "calendar.yaml", 23, 5],
	["gap", "shop", null, null, null, "b1", "a1", $gap, "calendar.yaml", 9, 5],
	["over", "shop", $w3, 4, 3, "x2", null, null, "smmd.yaml", $l, 14],
	["min_gap", "shop", null, null, null, "c2", "c1", "2h", "calendar.yaml", 32, 5],
	["min_gap", "shop", null, null, null, "x1", "c2", "1h", "calendar.yaml", 32, 5],
	["under", "tips", $w0, 0, 1, null, null, null, "calendar.yaml", 3, 19],
	["under", "tips", $w1, 0, 1, null, null, null, "calendar.yaml", 3, 19],
	["over", "tips", $w2, 2, 1, "b2", null, null, "calendar.yaml", 14, 5]
	]' >"$T/want.json"
diff -u <(jq . "$T/want.json") <(jq . "$T/got.json") >&2 ||
	fail "plan check --json findings differ"
jq_true '(.subjects | map([(.channel // .campaign), .cadence, .min_gap,
	.timezone, .posts]))
	== [["shop", "3/week", "4h", "Europe/Madrid", 9],
	    ["tips", "1/week", null, "Europe/Madrid", 3]]
	and .weeks == 4 and .more == 0
	and (.findings[0].from | test("^20[0-9-]+T2[23]:00:00.000Z$"))' \
	<"$T/plan.json" || fail "plan check --json: $(jq -c .subjects "$T/plan.json")"

# --weeks 1: this week alone.
run smmctl plan check --weeks 1
[ "$rc" -eq 0 ] && [ "$out" = "$(printf '%s\n' "$SHOP_W0" "$TIPS_W0" \
	"plan check: 2 warnings over 1 week (1 channel, 1 campaign)")" ] ||
	fail "plan check --weeks 1: exit $rc: $out $err"
run smmctl plan check --weeks 53
[ "$rc" -eq 65 ] && [[ $err == *"'weeks' must be from 1 to 52"* ]] ||
	fail "--weeks 53: exit $rc: $err"
run smmctl plan sheck
[ "$rc" -eq 64 ] && [[ $err == *"unknown action 'sheck' (check)"* ]] ||
	fail "plan sheck: exit $rc: $err"

# Bad values are errors at their place, in smmd.yaml and in the calendar;
# a reload with them changes nothing.
cp "$CFG" "$T/bad.yaml"
sed -i 's|cadence: 3/week|cadence: 3/fortnight|; s|min_gap: 4h|min_gap: -1h|' "$T/bad.yaml"
run "$SMMD_BIN" --check-config -c "$T/bad.yaml"
[ "$rc" -eq 1 ] || fail "a bad cadence passed --check-config"
want=$(printf '%s\n' \
	"$T/bad.yaml:$cfgline:14: cadence '3/fortnight': 'fortnight' is not a period (day, week or month)" \
	"$T/bad.yaml:$((cfgline + 1)):14: 'min_gap': invalid duration '-1h' (expected e.g. 250ms, 10s, 2m, 1h)")
[ "$err" = "$want" ] || fail "bad cadence errors: $err"
sed -i 's|tips: {cadence: 1/week|tips: {cadence: 1/fortnight|' "$CAL"
run smmctl reload
[ "$rc" -eq 65 ] &&
	[[ $err == *"$CAL:3:19: cadence '1/fortnight': 'fortnight' is not a period (day, week or month)"* ]] ||
	fail "reload with a bad campaign cadence: exit $rc: $err"
smmctl plan check --json | jq_true '[.subjects[] | .campaign] | index("tips") != null' ||
	fail "a failed reload dropped the campaign's cadence"

# A recurring post's occurrences are stored 'horizon' ahead only: past
# that, plan check does not call a week under target for want of them
# (and says so); the calendar alone, expanded in full, does.
cat >"$T/weekly.yaml" <<YAML
timezone: Europe/Madrid
posts:
  - id: weekly
    at: $W1 09:00
    rrule: FREQ=WEEKLY
    channels: [news]
    text: weekly
YAML
write_config -g "calendar: $T/weekly.yaml" -g "horizon: 1h" news
sed -i '/\/hook\/news$/a\    timezone: Europe/Madrid\n    cadence: 1/week' "$CFG"
DECL="$CFG:$(grep -n 'cadence: 1/week' "$CFG" | cut -d: -f1):14"
run "$SMMD_BIN" --check-config -c "$CFG"
[ "$rc" -eq 0 ] && [ "$err" = "$(under "$DECL" "channel 'news'" 0 "$W0" 1/week)" ] ||
	fail "--check-config of a weekly post: exit $rc: $err"
# In the last hour of this week in Madrid the horizon (1h) reaches past
# its end: this week is then stored in full, and judged under target.
# Not within a minute of that edge: it would move under us.
past_w0=$(($(date +%s) + 3600 - $(madrid_s "$W1 00:00")))
if [ "$past_w0" -ge -60 ] && [ "$past_w0" -lt 5 ]; then
	sleep $((5 - past_w0))
	past_w0=5
fi
if [ "$past_w0" -lt 0 ]; then
	w0_found=0 w0_lines=
else
	w0_found=1 w0_lines="$(under "$DECL" "channel 'news'" 0 "$W0" 1/week)"$'\n'
fi
run smmctl reload
[ "$rc" -eq 0 ] || fail "reload to the weekly calendar: $err"
run smmctl plan check
[[ $rc -eq 0 && $out == "${w0_lines}plan check: recurring calendar posts are scheduled 'horizon' ahead: after 20"*", 1 channel and 0 campaigns with some are judged only on posts over target or too close"$'\n'"plan check: $w0_found warning$([ "$w0_found" -eq 1 ] || echo s) over 4 weeks (1 channel, 0 campaigns)" ]] ||
	fail "plan check past the horizon: exit $rc: $out $err"
# shellcheck disable=SC2016 # $n is jq's
smmctl plan check --json |
	jq_true --argjson n "$w0_found" '.subjects[0].horizon != null and (.findings | length) == $n' ||
	fail "plan check --json past the horizon: $(smmctl plan check --json | jq -c .subjects)"
stop_smmd
log "ok"
