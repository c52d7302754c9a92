#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# smmctl stats against a run with known outcomes: three posts published on
# time, one failed by a 400, one retried after a 429 (Retry-After: 2) and
# published 2 s late, one cancelled, one missed across a restart, one
# shifted seconds ahead by a blackout (judged against the shifted time: on
# time), and on a paused channel one held, one skipped and one released
# 2 s after it was due (judged against its release: on time). The exact figures in
# --json, overall, --by channel and --by campaign; days and weeks; the
# table; the same figures after a restart; bad requests get an error and
# smmd keeps serving.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink --rule 'POST /hook/bad 400 {"error":"nope"}' \
	--rule 'POST /hook/flaky 429 H:Retry-After=2 {}' \
	--rule 'POST /hook/flaky 200 {}'
write_config -g "catch_up: 1s" demo bad flaky paused dark
# A blackout on "dark" that ends in 15 s: a post due before then is
# shifted. Its add comes after a restart and a dozen others, which took
# over 6 s in the sanitizer build on a busy CI machine.
end_s=$(($(now_ms) / 1000 + 15))
dark="blackouts: [{dates: \"$(date -u -d "@$((end_s - 3600))" +%Y-%m-%dT%H:%M:%SZ)..$(date -u -d "@$end_s" +%Y-%m-%dT%H:%M:%SZ)\", reason: quiet}]"
sed -i "/\/hook\/dark$/a\\    $dark" "$CFG"
start_smmd

# ---- missed: due while smmd is down, past catch_up ----------------------
smmctl add -c demo --at +1s --campaign autumn --id m1 "missed" >/dev/null
stop_smmd
sleep 2.5
start_smmd
wait_state m1/demo missed 10

# ---- the rest ------------------------------------------------------------
smmctl pause -c paused --reason "stats test" >/dev/null
smmctl add -c demo --campaign spring --id d1 "one" >/dev/null
smmctl add -c demo --campaign spring --id d2 "two" >/dev/null
smmctl add -c demo --campaign autumn --id d3 "three" >/dev/null
smmctl add -c bad --campaign autumn --id b1 "refused" >/dev/null
smmctl add -c flaky --campaign spring --id f1 "retried" >/dev/null
smmctl add -c demo --campaign spring --at +1h --id c1 "withdrawn" >/dev/null
smmctl cancel c1 >/dev/null
x1_due=$(now_ms)
smmctl add -c dark --campaign autumn --id x1 "shifted" >/dev/null 2>"$T/x1.err"
grep -q "blackout (quiet): shifted" "$T/x1.err" || fail "x1 not shifted: $(cat "$T/x1.err")"
for id in h1 r1 s1; do
	smmctl add -c paused --id "$id" "paused $id" >/dev/null
done
released_due=$(now_ms)
for id in d1/demo d2/demo d3/demo; do
	wait_state "$id" published 10
done
wait_state b1/bad failed 10
wait_state h1/paused held 10
wait_state r1/paused held 10
wait_state s1/paused held 10
wait_state f1/flaky published 15
# Held 2 s past its due time, then released: on time all the same.
while [ "$(now_ms)" -lt $((released_due + 2000)) ]; do sleep 0.1; done
smmctl release r1/paused >/dev/null
smmctl skip s1/paused >/dev/null
wait_state r1/paused published 10
wait_state s1/paused skipped 5
wait_state x1/dark published 25
x1_us=$(sink_posts_for x1 | jq '.[0].t_us')
[ $((x1_us / 1000 - x1_due)) -ge 2000 ] ||
	fail "x1 was not shifted: it arrived $((x1_us / 1000 - x1_due)) ms after it was due"

range=(--since -10m --until +2h)
run smmctl stats "${range[@]}" --json
[ "$rc" -eq 0 ] || fail "stats --json exited $rc: $err"
cp "$T/out" "$T/total.json"
tot=$(jq -c .total "$T/total.json")
log "total: $tot"
jq_true '.deliveries == 11 and .scheduled == 0 and .publishing == 0
	and .published == 6 and .failed == 1 and .missed == 1
	and .skipped == 1 and .held == 1 and .unknown == 0
	and .cancelled == 1' <<<"$tot" || fail "counts are wrong: $tot"
jq_true '.timed == 6 and .on_time == 5 and (.on_time_rate * 6 | round) == 5
	and (.attempts_per_published * 6 | round) == 7' <<<"$tot" ||
	fail "on-time or attempts are wrong: $tot"
# f1 left 2 s (Retry-After) after it was due; the others within 1 s.
jq_true '.lateness_ms.p50 < 1000 and .lateness_ms.p99 >= 1900
	and .lateness_ms.p99 < 5000 and .lateness_ms.p99 <= .lateness_ms.max
	and .lateness_ms.min >= 0' <<<"$tot" ||
	fail "lateness is wrong: $(jq -c .lateness_ms <<<"$tot")"
jq_true '.failure_reasons | length == 2 and all(.[]; .count == 1)
	and any(.[]; .reason | startswith("HTTP 400"))
	and any(.[]; .reason | test("catch_up"))' <<<"$tot" ||
	fail "failure reasons are wrong: $(jq -c .failure_reasons <<<"$tot")"
jq_true '.by == "none" and .groups == [] and .on_time_within_ms == 1000' \
	"$T/total.json" || fail "the reply's frame is wrong: $(jq -c 'del(.total)' "$T/total.json")"

# ---- --by channel -------------------------------------------------------
smmctl stats "${range[@]}" --by channel --json >"$T/ch.json"
ch() { jq -c --arg k "$1" '.groups[] | select(.channel == $k)' "$T/ch.json"; }
[ "$(jq -c '[.groups[].channel]' "$T/ch.json")" = '["bad","dark","demo","flaky","paused"]' ] ||
	fail "channel groups: $(jq -c '[.groups[].channel]' "$T/ch.json")"
jq_true '.deliveries == 1 and .failed == 1 and .published == 0
	and .on_time_rate == null and .failure_reasons[0].count == 1' <<<"$(ch bad)" ||
	fail "bad: $(ch bad)"
jq_true '.deliveries == 5 and .published == 3 and .cancelled == 1
	and .missed == 1 and .on_time == 3 and .on_time_rate == 1
	and .attempts_per_published == 1' <<<"$(ch demo)" || fail "demo: $(ch demo)"
jq_true '.deliveries == 1 and .published == 1 and .on_time == 0
	and .on_time_rate == 0 and .attempts_per_published == 2
	and .lateness_ms.p50 >= 1900' <<<"$(ch flaky)" || fail "flaky: $(ch flaky)"
jq_true '.deliveries == 3 and .held == 1 and .skipped == 1
	and .published == 1 and .on_time == 1' <<<"$(ch paused)" ||
	fail "paused (released on time): $(ch paused)"
jq_true '.deliveries == 1 and .published == 1 and .on_time == 1
	and .lateness_ms.max < 1000' <<<"$(ch dark)" ||
	fail "dark (shifted, on time): $(ch dark)"
jq_true '.total == $t' --argjson t "$tot" "$T/ch.json" ||
	fail "--by channel changed the total"

# ---- --by campaign ------------------------------------------------------
smmctl stats "${range[@]}" --by campaign --json >"$T/ca.json"
ca() { jq -c --argjson k "$1" '.groups[] | select(.campaign == $k)' "$T/ca.json"; }
[ "$(jq -c '[.groups[].campaign]' "$T/ca.json")" = '[null,"autumn","spring"]' ] ||
	fail "campaign groups: $(jq -c '[.groups[].campaign]' "$T/ca.json")"
jq_true '.deliveries == 3 and .held == 1 and .skipped == 1
	and .published == 1' <<<"$(ca null)" || fail "no campaign: $(ca null)"
jq_true '.deliveries == 4 and .published == 2 and .failed == 1
	and .missed == 1 and (.failure_reasons | length == 2)' <<<"$(ca '"autumn"')" ||
	fail "autumn: $(ca '"autumn"')"
jq_true '.deliveries == 4 and .published == 3 and .cancelled == 1
	and .on_time == 2 and (.attempts_per_published * 3 | round) == 4' \
	<<<"$(ca '"spring"')" || fail "spring: $(ca '"spring"')"

# ---- --by day and week: the groups add up to the total ------------------
for by in day week; do
	smmctl stats "${range[@]}" --by "$by" --json >"$T/$by.json"
	jq_true --arg by "$by" '([.groups[].deliveries] | add) == 11
		and ([.groups[].published] | add) == 6
		and ([.groups[].on_time] | add) == 5
		and all(.groups[]; .from < .to and (.[$by] | type) == "string")' \
		"$T/$by.json" || fail "--by $by: $(jq -c '[.groups[] | del(.failure_reasons)]' "$T/$by.json")"
done
jq_true 'all(.groups[]; .week | test("^[0-9]{4}-W[0-9]{2}$"))' "$T/week.json" ||
	fail "week keys: $(jq -c '[.groups[].week]' "$T/week.json")"
jq_true 'all(.groups[]; .day | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))' "$T/day.json" ||
	fail "day keys: $(jq -c '[.groups[].day]' "$T/day.json")"

# ---- the table -----------------------------------------------------------
run smmctl stats "${range[@]}" --by channel
[ "$rc" -eq 0 ] || fail "stats --by channel exited $rc: $err"
grep -q '^Deliveries due from .*: 11$' "$T/out" || fail "no total line: $out"
grep -Eq '^  published +6  on time 5 \(83\.3% within 1000 ms\)' "$T/out" ||
	fail "no published line: $out"
grep -Eq '^  attempts +1\.17  per published delivery' "$T/out" ||
	fail "no attempts line: $out"
grep -Eq '^CHANNEL +TOTAL +PUBL' "$T/out" || fail "no counts table: $out"
grep -Eq '^flaky +1 +1 +0 +0' "$T/out" || fail "no flaky row: $out"
grep -Eq '^bad +- +- +- +- +HTTP 400' "$T/out" || fail "no reason for bad: $out"
# The default range is the last 30 days: the cancelled post, due in an
# hour, is not in it.
smmctl stats --json | jq_true '.total.deliveries == 10 and .total.cancelled == 0' ||
	fail "default range: $(smmctl stats --json | jq -c .total)"

# ---- bad requests: an error, and smmd keeps serving ---------------------
run smmctl stats --by month
[ "$rc" -ne 0 ] || fail "--by month was accepted"
grep -q "'by' must be channel, campaign, day or week" "$T/err" ||
	fail "--by month said: $err"
run smmctl stats --since +1h --until -1h
if [ "$rc" -eq 0 ] || ! grep -q "must come after" "$T/err"; then
	fail "a reversed range said ($rc): $err"
fi
run smmctl stats --since yesterday
if [ "$rc" -eq 0 ] || ! grep -q "invalid --since" "$T/err"; then
	fail "--since yesterday said ($rc): $err"
fi
printf '%s\n' '{"id":1,"cmd":"stats","args":{"by":7}}' \
	'{"id":2,"cmd":"stats","args":{"since":"soon"}}' |
	socat -t 5 - "UNIX-CONNECT:$SOCK" >"$T/raw"
jq -s -e 'length == 2 and all(.[]; .ok == false)' "$T/raw" >/dev/null ||
	fail "bad raw requests were answered: $(cat "$T/raw")"
smmctl status >/dev/null || fail "smmd stopped serving after bad requests"

# ---- the figures survive a restart ----------------------------------------
stop_smmd
start_smmd
smmctl stats "${range[@]}" --json | jq_true '.total == $t' --argjson t "$tot" ||
	fail "after a restart: $(smmctl stats "${range[@]}" --json | jq -c .total)"
stop_smmd
log "ok"
