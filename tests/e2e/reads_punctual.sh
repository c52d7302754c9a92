#!/bin/bash
# Posts go out on time while smmctl report reads a big store (issue 14,
# "no loop stalls"). The store: a calendar of SMM_E2E_READS_POSTS posts
# (gen-calendar.sh; about twice as many deliveries) due next month. Then
# posts due every 5 ms on one channel, while reports of next month run
# back to back: each post is due while a report reads. When the report's
# reads ran on the loop, a post due during one went out when it ended,
# late by up to the report's duration; off the loop (cmd_read.c) none may
# be late by more than half of it. The bound is the report's own
# duration, measured here, so a slow machine or a sanitizer build moves
# both sides. Five reports at once are all answered, plan checks beside
# reloads too. Then SIGTERM while a report runs: smmd exits cleanly (0;
# under ASan, no leak), the report's client gets an error, not a hang.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

POSTS=${SMM_E2E_READS_POSTS:-20000}
# Posts due while the reports run, and how far apart.
N=40
STEP_MS=5
# Loading the calendar takes a while under a sanitizer.
SMM_E2E_START_TIMEOUT=$((SMM_E2E_START_TIMEOUT > 120 ? SMM_E2E_START_TIMEOUT : 120))
export TZ=UTC

start_sink
month=$(date -d "$(date +%Y-%m-01) +1 month" +%Y-%m)
sh "$SMM_TOP_SRCDIR/tests/bench/gen-calendar.sh" -n "$POSTS" -c 50 \
	-s "$month-01" -u "http://127.0.0.1:$SINK_PORT" "$T/gen" >/dev/null 2>&1 ||
	fail "gen-calendar.sh failed"
CFG=$T/gen/smmd.yaml
SOCK=$T/gen/smmd.sock
export SMMD_SOCKET=$SOCK
start_smmd

# The report's duration, warm (its first run opens the reader).
report() {
	smmctl report --month "$month" --json >"$T/report.json"
}
report || fail "report failed: $(cat "$T/report.json")"
planned=$(jq '[.days[].planned] | add' "$T/report.json")
[ "$planned" -ge "$POSTS" ] ||
	fail "the report counted $planned deliveries of $POSTS posts or more"
dur=
for _ in 1 2 3; do
	t0=$(now_ms)
	report || fail "report failed"
	d=$(($(now_ms) - t0))
	[ -n "$dur" ] && [ "$d" -ge "$dur" ] || dur=$d
done
log "a report of $planned deliveries takes $dur ms"
# Shorter, and lateness from a stall could not be told from noise.
[ "$dur" -ge 30 ] ||
	skip "a report takes $dur ms here: too quick to tell a stall (raise SMM_E2E_READS_POSTS)"

# N posts due STEP_MS apart, far enough ahead for the adds to finish: an
# add is a process of its own, 200 ms each in the sanitizer build on a
# busy CI machine.
first=$(($(now_ms) + 3000 + N * 400))
for i in $(seq 0 $((N - 1))); do
	smmctl add -c c0001 --id "p$i" --at "$(ms_to_iso $((first + i * STEP_MS)))" \
		"post $i" >/dev/null || fail "add p$i failed"
done
last=$((first + (N - 1) * STEP_MS))
[ "$(now_ms)" -lt $((first - dur)) ] ||
	fail "adding $N posts took too long: the first is due already"
# Reports back to back from before the first is due to after the last.
while [ "$(now_ms)" -lt $((first - dur)) ]; do sleep 0.01; done
: >"$T/reports.tsv"
while [ "$(now_ms)" -lt $((last + dur)) ]; do
	t0=$(now_ms)
	report || fail "a report during the posts failed"
	printf '%s\t%s\n' "$t0" "$(now_ms)" >>"$T/reports.tsv"
done
wait_for "[ \"\$(sink_requests | jq -s '[.[] | select(.method == \"POST\" and (.post.id // \"\" | startswith(\"p\")))] | length')\" -ge $N ]" 30 ||
	fail "not every post reached the sink"

# Each post's lateness at the sink, and whether a report was running
# when it fell due.
sink_requests | jq -s -c '[.[] | select(.method == "POST" and
	(.post.id // "" | test("^p[0-9]+$")))]' >"$T/arrived.json"
worst=0
covered=0
for i in $(seq 0 $((N - 1))); do
	due=$((first + i * STEP_MS))
	t_us=$(jq --arg id "p$i" '[.[] | select(.post.id == $id) | .t_us] | min' \
		"$T/arrived.json")
	[ "$t_us" != null ] || fail "post p$i did not arrive"
	late=$((t_us / 1000 - due))
	[ "$late" -ge -1 ] || fail "post p$i arrived $((-late)) ms early"
	[ "$late" -le "$worst" ] || worst=$late
	if awk -v d="$due" '$1 <= d && d < $2 { f = 1 } END { exit !f }' \
		"$T/reports.tsv"; then
		covered=$((covered + 1))
	fi
done
log "$covered of $N posts fell due during a report; the latest was $worst ms late (loop: $(smmctl status --json | jq -c .loop))"
# Most must have fallen due while a report read, or nothing was tested.
[ "$covered" -ge $((N / 2)) ] ||
	fail "only $covered of $N posts fell due while a report ran"
[ "$worst" -le $((dur / 2)) ] ||
	fail "a post was $worst ms late while reports of $dur ms ran: the loop waited for them"

# More reports at once than run at once (CMD_READS_AT_ONCE): the rest
# wait their turn, and each is answered in full.
pids=()
for i in 1 2 3 4 5; do
	smmctl report --month "$month" --json >"$T/many$i.json" &
	pids+=("$!")
done
for i in 1 2 3 4 5; do
	wait "${pids[$((i - 1))]}" || fail "report $i of 5 at once failed"
	[ "$(jq '[.days[].planned] | add' "$T/many$i.json")" = "$planned" ] ||
		fail "report $i of 5 at once counted other deliveries"
done

# Reloads replace the plan book while plan checks read it off the loop
# (each holds a reference): every one answers (under ASan: no use after
# free).
for i in 1 2 3; do
	smmctl plan check --json >"$T/plan$i.json" 2>&1 &
	ppid=$!
	smmctl reload >/dev/null || fail "reload $i failed"
	wait "$ppid" || fail "plan check $i beside a reload failed: $(cat "$T/plan$i.json")"
done

# SIGTERM while a report reads: a clean exit, and the client is told.
smmctl report --month "$month" --json >"$T/last.json" 2>"$T/last.err" &
rpid=$!
sleep "$(awk -v d="$dur" 'BEGIN { printf "%.3f", d / 3000 }')"
stop_smmd 60
wait_pid_exit "$rpid" 30
[ "$E2E_EXIT" -ne 137 ] || fail "the report's client hung after SIGTERM"
if [ "$E2E_EXIT" -eq 0 ]; then
	log "the last report was answered before SIGTERM took effect"
else
	log "the last report was cut by SIGTERM: $(cat "$T/last.err")"
fi
if grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$T/smmd.log"; then
	fail "a sanitizer complained: $(grep -iE 'Sanitizer|runtime error' "$T/smmd.log" | head -n 3)"
fi
log "ok"
