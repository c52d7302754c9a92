#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Plan B's pause, against the sink: 10,000 posts due over 10 s on 20
# channels, and once "smmctl pause --all" returns half-way through, no
# request reaches the sink (its arrival times against the reply's), and
# every post is published, held or still scheduled; a kill -9 keeps the
# pause; resume publishes what is fresh and skips what is stale; channel
# and campaign scopes leave the rest running; --until resumes by itself;
# release and skip settle one held post; the audit trail names who did
# what, and the event log has the pauses.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
chans=()
for i in $(seq -w 0 19); do
	chans+=("c$i,max_in_flight=4")
done
write_config -g "catch_up: 1h" "${chans[@]}" "stale,max_lateness=1s" \
	"fresh,max_lateness=1h" "watched,notify=alerts" alerts

start_smmd
me=$(id -un)

# ---- pause --all in the middle of 10,000 posts due over 10 s ----------
# Due from 5 s on (queueing them takes a moment), 1 ms apart, round the
# 20 channels.
N=10000
t0=$(($(now_ms) + 5000))
jq -n -c --argjson n "$N" --argjson t0 "$t0" "$JQ_ISO"'
	range($n) | {id: ., cmd: "add", args: {
		channels: ["c" + ("0" + (. % 20 | tostring))[-2:]],
		id: "b\(.)", text: "t", at: iso($t0 + .)}}' >"$T/adds"
add_all "$T/adds" "$N"
# Half-way through the burst.
[ "$(now_ms)" -lt $((t0 + N / 2)) ] ||
	fail "queueing $N posts took past the burst's middle"
while [ "$(now_ms)" -lt $((t0 + N / 2)) ]; do sleep 0.01; done
smmctl pause --all --reason "crisis drill" >"$T/pause.out" ||
	fail "pause failed: $(cat "$T/pause.out")"
replied_us=$(($(date +%s%N) / 1000))
log "$(cat "$T/pause.out")"
grep -q "paused all since" "$T/pause.out" || fail "pause said: $(cat "$T/pause.out")"
# Nothing reaches the sink after the reply; wait past the burst's end.
sleep 6
late=$(sink_requests | jq -s --argjson r "$replied_us" \
	'[.[] | select(.t_us > $r)] | length')
[ "$late" -eq 0 ] || fail "$late requests reached the sink after the pause reply"
published=$(sink_requests | jq -s '[.[] | select(.post.id // "" | startswith("b"))] | length')
[ "$published" -gt 0 ] && [ "$published" -lt "$N" ] ||
	fail "the pause came too early or too late: $published of $N published"
counts() {
	smmctl status --json | jq -c '.counts | {published, held, scheduled, publishing, retry_wait}'
}
c=$(counts)
log "after the pause: $c, $published at the sink"
jq_true --argjson n "$N" --argjson p "$published" \
	'.published == $p and .published + .held + .scheduled == $n
	 and .publishing == 0 and .retry_wait == 0' <<<"$c" ||
	fail "not every post is accounted for: $c (sink: $published)"
smmctl status --json | jq_true --arg me "$me" \
	'.pauses | length == 1 and .[0].scope == "all" and .[0].by == $me
	 and .[0].reason == "crisis drill" and .[0].held > 0' ||
	fail "status does not show the pause: $(smmctl status --json | jq -c .pauses)"

# ---- kill -9: still paused, nothing sent --------------------------------
crash_smmd
start_smmd
smmctl status --json | jq_true '.pauses | length == 1' ||
	fail "the pause did not survive kill -9"
sleep 1
[ "$(sink_requests | jq -s 'length')" -eq "$published" ] ||
	fail "requests left after the restart while paused"
smmctl status --json |
	jq_true --argjson n "$N" --argjson p "$published" \
		'.counts.held == $n - $p and .counts.scheduled == 0' ||
	fail "held after the restart: $(counts)"

# ---- resume: fresh posts go out, once each, at the channels' pace -------
smmctl resume --reason "all clear" >"$T/resume.out"
log "$(cat "$T/resume.out")"
grep -q "resumed all: $((N - published)) published, 0 skipped, 0 still held" \
	"$T/resume.out" || fail "resume said: $(cat "$T/resume.out")"
b_sent() {
	sink_requests | jq -s '[.[] | select(.post.id // "" | startswith("b"))] | length'
}
wait_for "[ \"\$(b_sent)\" -eq $N ]" 30 ||
	fail "not all published after resume: $(counts), $(b_sent) at the sink"
# The resume of everything was told on alerts, no longer paused.
wait_for "[ \"\$(smmctl status --json | jq .counts.published)\" -eq $((N + 1)) ]" 10 ||
	fail "published after resume: $(counts)"
dups=$(sink_requests | jq -s '[.[] | .post.id] | group_by(.) | map(select(length > 1)) | length')
[ "$dups" -eq 0 ] || fail "$dups posts reached the sink twice"

# ---- --dry-run lists what would be held and pauses nothing --------------
smmctl add -c c09 --id dry1 --at +1h "in an hour" >/dev/null
smmctl add -c c10 --id dry2 --at +1h "in an hour, elsewhere" >/dev/null
smmctl add -c c09 --id dry3 --at +2d "the day after tomorrow" >/dev/null
smmctl pause -c c09 --dry-run --json >"$T/dry.json"
jq_true '.dry_run and ([.would_hold[].id] == ["dry1/c09"])' <"$T/dry.json" ||
	fail "dry run: $(cat "$T/dry.json")"
smmctl status --json | jq_true '.pauses == []' || fail "a dry run paused"
smmctl cancel dry1 >/dev/null
smmctl cancel dry2 >/dev/null
smmctl cancel dry3 >/dev/null

# ---- channel and campaign scopes ----------------------------------------
smmctl pause -c c01 -r "c01 only" >/dev/null
smmctl pause --campaign spring >/dev/null
smmctl add -c c01 --id ch1 "held on c01" >/dev/null
smmctl add -c c01 --id ch2 "held on c01 too" >/dev/null
smmctl add -c c02 --id ch3 "goes on c02" >/dev/null
smmctl add -c c03 --campaign spring --id sp1 "held: spring" >/dev/null
smmctl add -c c03 --id sp2 "goes: no campaign" >/dev/null
wait_state ch3/c02 published 10
wait_state sp2/c03 published 10
wait_state ch1/c01 held 10
wait_state ch2/c01 held 10
wait_state sp1/c03 held 10
smmctl held --json | jq_true '[.held[].id] | sort == ["ch1/c01", "ch2/c01", "sp1/c03"]' ||
	fail "held lists $(smmctl held --json | jq -c '[.held[].id]')"
# release goes out although c01 is still paused; skip never does.
smmctl release ch1 >/dev/null
smmctl skip ch2/c01 >/dev/null
wait_state ch1/c01 published 10
[ "$(delivery_state ch2/c01)" = skipped ] || fail "ch2 is $(delivery_state ch2/c01)"
if smmctl pause -c c01 >"$T/again.out" 2>&1; then
	fail "pausing c01 twice was accepted"
fi
grep -q "paused already" "$T/again.out" || fail "a second pause said: $(cat "$T/again.out")"
smmctl resume --campaign spring >/dev/null
wait_state sp1/c03 published 10
# A scope named twice is one scope (resumed twice, it was freed twice).
smmctl resume -c c01 -c c01 --json >"$T/twice.json"
jq_true '.resumed | length == 1' <"$T/twice.json" ||
	fail "resume -c c01 -c c01 said $(cat "$T/twice.json")"
smmctl pause -c c06 -c c06 >/dev/null
smmctl status --json | jq_true '[.pauses[] | select(.scope == "channel c06")] | length == 1' ||
	fail "pause -c c06 -c c06 made $(smmctl status --json | jq -c .pauses)"
smmctl resume -c c06 >/dev/null
smmd_alive || fail "smmd died resuming a scope named twice"

# ---- --until resumes by itself --------------------------------------------
smmctl pause -c c05 --until +2s -r "two seconds" >/dev/null
smmctl add -c c05 --id u1 "after the until" >/dev/null
wait_state u1/c05 held 10
wait_state u1/c05 published 10
smmctl status --json | jq_true '.pauses | length == 0' ||
	fail "the --until pause is still there"

# ---- stale and fresh under each policy -----------------------------------
smmctl pause -c stale -c fresh >/dev/null
smmctl add -c stale --id st1 "too late by then" >/dev/null
smmctl add -c fresh --id fr1 "still fresh" >/dev/null
wait_state st1/stale held 10
wait_state fr1/fresh held 10
sleep 1.5
smmctl resume -c stale -c fresh >/dev/null
wait_state fr1/fresh published 10
wait_state st1/stale skipped 10
# --review keeps every held post held, for release or skip one by one.
smmctl pause -c stale >/dev/null
smmctl add -c stale --id st2 "released after review" >/dev/null
smmctl add -c stale --id st3 "kept for review" >/dev/null
wait_state st3/stale held 10
smmctl resume -c stale --review >/dev/null
[ "$(delivery_state st2/stale)" = held ] || fail "review did not keep st2 held"
smmctl release st2/stale >/dev/null
wait_state st2/stale published 10
# --publish sends even a stale one; a post held by an earlier pause stays.
smmctl pause -c stale >/dev/null
smmctl add -c stale --id st4 "published however late" >/dev/null
wait_state st4/stale held 10
sleep 1.5
smmctl resume -c stale --publish >/dev/null
wait_state st4/stale published 10
[ "$(delivery_state st3/stale)" = held ] ||
	fail "a held post of an earlier pause moved: $(delivery_state st3/stale)"

# ---- notices: to the notify channel of a paused one, never to a paused one
alerts() {
	grep -h '"/hook/alerts"' "$T"/sink*.log | jq -r '.body | fromjson | .text'
}
before=$(alerts | wc -l)
smmctl pause -c watched -r "bad news" >/dev/null
smmctl resume -c watched >/dev/null
wait_for "[ \$(alerts | wc -l) -ge $((before + 2)) ]" 10 ||
	fail "no notices on alerts: $(alerts)"
alerts | grep -q "channel watched paused by $me: bad news" ||
	fail "the pause notice: $(alerts)"
alerts | grep -q "channel watched resumed by $me" ||
	fail "the resume notice: $(alerts)"
before=$(alerts | wc -l)
smmctl pause -c watched -c alerts >/dev/null
smmctl resume -c watched -c alerts >/dev/null
settle c00
[ "$(alerts | wc -l)" -eq "$before" ] ||
	fail "a notice went to a paused notify channel: $(alerts | tail -n 2)"

# ---- the audit trail and the events ---------------------------------------
smmctl audit --json >"$T/audit.json"
jq_true --arg me "$me" '.audit | map(select(.user == $me)) | map(.action)
	| (map(select(. == "pause")) | length) >= 9
	  and (map(select(. == "resume")) | length) >= 8
	  and index("release") != null and index("skip") != null' \
	<"$T/audit.json" || fail "audit: $(jq -c '.audit | map(.action)' "$T/audit.json")"
jq_true '.audit | map(select(.user == "smmd" and .action == "resume"))
	| length == 1' <"$T/audit.json" || fail "the --until resume is not audited as smmd's"
jq_true '.audit[0] | .action == "pause" and .scope == "all"
	and .reason == "crisis drill"' <"$T/audit.json" ||
	fail "the first audit entry: $(jq -c '.audit[0]' "$T/audit.json")"
smmctl log --json >"$T/events.json"
jq_true -s '[.[] | .type] | index("paused") != null and index("resumed") != null
	and index("held") != null and index("released") != null
	and index("skipped") != null' <"$T/events.json" ||
	fail "events: $(jq -s -c '[.[] | .type] | unique' "$T/events.json")"
# The human form prints a scope's events too.
smmctl log | grep -E "paused|resumed" | tail -n 2 >"$T/log.txt"
[ "$(wc -l <"$T/log.txt")" -eq 2 ] || fail "smmctl log: $(smmctl log | tail -n 3)"
log "$(cat "$T/log.txt")"
stop_smmd
log "ok"
