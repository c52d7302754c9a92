#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Plan B's prepared statements: the calendar's planb: is checked with the
# rest (every error at once, FILE:LINE:COLUMN, each channel's max_length
# against its variant); a drill sends the statement to drill_channel only
# and pauses nothing; activate pauses the scenario's scope, and the
# statement goes out on every channel of the scenario (its variant where
# it has one) while a post due in that scope is held; end resumes it; the
# audit trail has all three.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
CAL=$T/calendar.yaml
cat >"$CAL" <<'YAML'
planb:
  outage:
    severity: apocalyptic
    pause: all
    channels: [demo, shop, nowhere]
    text: "We are aware of a problem with orders and are on it. Next update within the hour."
    colour: red
  recall:
    pause: {campaigns: [spring, nosuch]}
    channels: shop
    text: "A recall notice."
    media: ["ftp://cdn.example.com/x.png", "notice.png"]
    variants:
      shop: "A recall notice for every customer who bought a kettle from us."
      demo: "Not one of its channels."
campaigns:
  spring: {}
YAML
write_config -g "calendar: $CAL" -g "drill_channel: drill" demo \
	shop,max_length=40 drill
rc=0
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a bad planb passed --check-config"
for want in "$CAL:3:15: severity 'apocalyptic' is low, medium, high or critical" \
	"$CAL:7:5: unknown key 'colour' in a plan B scenario" \
	"$CAL:5:28: unknown channel 'nowhere' in plan B" \
	"$CAL:6:11: plan B scenario 'outage': text is 81 characters, 41 over channel 'shop''s limit of 40 (max_length)" \
	"$CAL:9:33: unknown campaign 'nosuch' (known: spring)" \
	"$CAL:12:13: media 'ftp://cdn.example.com/x.png' must be an http or https URL" \
	"$CAL:12:12: plan B scenario 'recall': media names a file, but channel 'shop' has no media_dir" \
	"$CAL:14:13: plan B scenario 'recall': text is 63 characters, 23 over channel 'shop''s limit of 40 (max_length)" \
	"$CAL:15:7: plan B scenario 'recall': variant for 'demo', which is not one of its channels"; do
	grep -qF "$want" "$T/check.out" ||
		fail "--check-config does not say '$want': $(cat "$T/check.out")"
done
log "$(cat "$T/check.out")"

cat >"$CAL" <<'YAML'
planb:
  outage:
    severity: high
    pause: all
    channels: [demo, shop]
    text: "We are aware of a problem with orders and are on it. Next update within the hour."
    link: https://status.example.org/
    variants:
      shop: "Orders are down; we are on it."
YAML
start_smmd
smmctl planb list --json | jq_true '.scenarios.outage.severity == "high"
	and .scenarios.outage.channels == ["demo", "shop"]' ||
	fail "planb list: $(smmctl planb list --json)"
smmctl planb list | grep -q "^outage  (high, $CAL:2:3)" ||
	fail "planb list: $(smmctl planb list)"

# A drill: the statement on the drill channel only; nothing paused.
smmctl planb drill outage >"$T/drill.out" || fail "drill failed: $(cat "$T/drill.out")"
wait_for '[ "$(grep -c "\"/hook/drill\"" "$T"/sink*.log)" -eq 1 ]' 10 ||
	fail "the drill's statement did not reach the drill channel"
smmctl status --json | jq_true '.pauses == []' || fail "a drill paused something"
settle demo
[ "$(grep -c '"/hook/shop"' "$T"/sink*.log)" -eq 0 ] ||
	fail "a drill published on shop"

# The real thing, with a post due in two seconds.
smmctl add -c demo --id promo --at +2s "Cheerful promo" >/dev/null
smmctl planb activate outage -r "orders down" >"$T/act.out" ||
	fail "activate failed: $(cat "$T/act.out")"
log "$(cat "$T/act.out")"
grep -q "^paused all since .*: orders down" "$T/act.out" ||
	fail "activate said: $(cat "$T/act.out")"
wait_for '[ "$(grep -c "\"/hook/shop\"" "$T"/sink*.log)" -eq 1 ]' 10 ||
	fail "no statement on shop"
grep -h '"/hook/shop"' "$T"/sink*.log | jq -r '.body | fromjson | .text' |
	grep -qx "Orders are down; we are on it." || fail "shop did not get its variant"
grep -h '"/hook/demo"' "$T"/sink*.log | jq -r '.body | fromjson | .text' |
	grep -q "^We are aware of a problem" || fail "demo did not get the statement"
wait_state promo/demo held 10
smmctl status --json | jq_true '.pauses[0].scenario == "outage"' ||
	fail "status: $(smmctl status --json | jq -c .pauses)"

# end resumes it: the promo, still fresh, goes out.
smmctl planb end -r "resolved" >/dev/null || fail "planb end failed"
wait_state promo/demo published 10
smmctl audit --json | jq_true '[.audit[].action]
	| index("planb drill") != null and index("planb activate") != null
	  and index("planb end") != null' ||
	fail "audit: $(smmctl audit --json | jq -c '[.audit[].action]')"
smmctl log --json | jq -s -e 'map(.type) | index("planb_drilled") != null
	and index("planb_activated") != null
	and index("planb_ended") != null' >/dev/null ||
	fail "events: $(smmctl log --json | jq -s -c 'map(.type) | unique')"
# The log lines carry the same as fields (journal fields under systemd).
me=$(id -un)
for want in "planb: scenario 'outage' drilled by $me (uid $(id -u)): 0 paused, statement on 1 channels event=planb_drilled scope=outage by=$me" \
	"planb: scenario 'outage' activated by $me (uid $(id -u)): " \
	"reason: orders down event=planb_activated scope=outage by=$me uid=$(id -u) reason=\"orders down\"" \
	"planb: scenario 'plan B' ended by $me" ; do
	grep -qF -- "$want" "$T/smmd.log" ||
		fail "no log line with: $want; got: $(grep planb: "$T/smmd.log")"
done
run smmctl planb activate nosuch
[ "$rc" -eq 65 ] && [[ $err == *"no plan B scenario 'nosuch'"*"known: outage"* ]] ||
	fail "unknown scenario: exit $rc: $err"
stop_smmd
log "ok"
