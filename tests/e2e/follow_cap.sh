#!/bin/bash
# A follower keeps its connection for good, so at most
# CONTROL_MAX_FOLLOWERS (16) may follow at once: the 17th is refused with
# a reason, operators still get in, and a slot freed is a slot reused.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
write_config demo
start_smmd

declare -a FPID
# follower N: a connection that asks to follow and then stays, reading
# into $T/follow-N.out.
follower() {
	mkfifo "$T/follow-$1.in"
	socat -t 600 - "UNIX-CONNECT:$SOCK" <"$T/follow-$1.in" \
		>"$T/follow-$1.out" &
	E2E_PIDS+=($!)
	FPID[$1]=$!
	eval "exec $((10 + $1))>\"\$T/follow-$1.in\""
	printf '{"id":%d,"cmd":"log","args":{"follow":true}}\n' "$1" \
		>&$((10 + $1))
}

for i in $(seq 1 16); do
	follower "$i"
done
wait_for '[ "$(smmctl status --json | jq .followers)" -eq 16 ]' 20 ||
	fail "16 followers did not all subscribe: $(smmctl status --json | jq .followers)"

follower 17
wait_for "grep -q '\"ok\"' '$T/follow-17.out'" 10 ||
	fail "the 17th follower got no answer"
jq -e 'select(.id == 17) | .ok == false and .error.code == "conflict"' \
	"$T/follow-17.out" >/dev/null ||
	fail "the 17th follower was not refused: $(cat "$T/follow-17.out")"
grep -q 'too many followers (at most 16)' "$T/follow-17.out" ||
	fail "the refusal does not say why: $(cat "$T/follow-17.out")"

# Operators keep their way in, and every follower still hears events.
smmctl add -c demo --id cap-1 "followed" >/dev/null ||
	fail "an operator could not add beside 16 followers"
wait_state cap-1/demo published 15
for i in $(seq 1 16); do
	wait_for "grep -q '\"type\":\"published\"' '$T/follow-$i.out'" 10 ||
		fail "follower $i did not hear the publish"
done

# One follower leaves: its slot can be taken again. A follower's EOF
# reads as a half-close (it may only have stopped sending), so smmd
# notices a departure at its next event line.
kill "${FPID[1]}"
smmctl add -c demo --id cap-2 "after one left" >/dev/null
wait_state cap-2/demo published 15
wait_for '[ "$(smmctl status --json | jq .followers)" -eq 15 ]' 10 ||
	fail "the follower that left still counts"
follower 18
wait_for '[ "$(smmctl status --json | jq .followers)" -eq 16 ]' 10 ||
	fail "a freed follower slot was not reused: $(cat "$T/follow-18.out")"
stop_smmd
log "ok"
